/*
 * graph.h — the solution graph: every candidate the search made, with its
 * script and what running it gave.  Nodes are numbered from 0 in creation
 * order; parent -1 is the virtual root.  Primary edges (parent -> child)
 * form the tree the search walks.
 *
 * The graph is not thread-safe by itself; the search serialises access.
 */
#ifndef AML_GRAPH_H
#define AML_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <automlgen/plugin.h>

typedef struct aml_node {
	uint32_t id;
	int32_t parent;          /* -1: child of the virtual root */
	uint32_t branch;         /* id of the draft that started the branch */
	char *op;                /* operator name */
	char *mode;              /* expansion mode */
	char *plan;              /* plan text, "" when none */
	char *code;              /* the script, NULL when the operator failed */
	char *raw_answer;        /* the provider's answer when the operator failed */
	aml_node_status status;
	char *reason;            /* why not valid, "" when valid */
	char *output;            /* trimmed output for operators */
	int has_score;
	double score;
	aml_exec_outcome outcome;
	int exit_code;
	int truncated;
	double op_seconds;       /* operator + provider */
	double exec_seconds;     /* script run */
	double created_at;       /* seconds since the run started */
	uint64_t tokens_in;
	uint64_t tokens_out;
	uint32_t *children;
	size_t n_children;
	size_t cap_children;
} aml_node;

typedef struct aml_graph {
	aml_node **nodes;
	size_t n, cap;
	int higher_is_better;
	int32_t best;            /* best valid node, -1 when none */
	size_t root_children;
} aml_graph;

void aml_graph_init(aml_graph *g, int higher_is_better);
void aml_graph_destroy(aml_graph *g);

/* A new pending node under parent (-1: root).  Strings are copied.
 * Returns the node (owned by the graph) or NULL on oom. */
aml_node *aml_graph_add(aml_graph *g, int32_t parent, const char *op, const char *mode);

/* Record that n is finished: updates the best node.  Returns 1 when n is
 * the new best. */
int aml_graph_finish(aml_graph *g, aml_node *n);

/* 1 when score a is better than b for this graph's direction. */
int aml_graph_better(const aml_graph *g, double a, double b);

/* A view of n for operators (pointers borrowed from n). */
aml_node_view aml_node_view_of(const aml_node *n);

const char *aml_node_status_name(aml_node_status s);
const char *aml_exec_outcome_name(aml_exec_outcome o);

#endif
