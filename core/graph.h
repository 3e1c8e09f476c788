/*
 * graph.h — the solution graph: every candidate the search made, with its
 * script and what running it gave.  Nodes are numbered from 0 in creation
 * order; parent -1 is the virtual root.  Primary edges (parent -> child)
 * form the tree the search walks.
 *
 * Reference edges record every other node an operator was shown (recall
 * sources, cross-branch references, fusion inputs); they never take part
 * in selection or backpropagation.
 *
 * The graph is not thread-safe by itself; the search serialises access.
 * A node's strings never change once the node is finished, so views of
 * finished nodes may be read without the lock.
 */
#ifndef AML_GRAPH_H
#define AML_GRAPH_H

#include <stddef.h>
#include <stdint.h>
#include <automlgen/plugin.h>

/* Why a reference edge exists. */
typedef enum aml_ref_kind {
	AML_REF_RECALL = 1,      /* the branch's own trajectory */
	AML_REF_CROSS = 2,       /* a top node of another branch */
	AML_REF_FUSION = 3,      /* an input of a fusion */
} aml_ref_kind;

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
	char *flags;             /* the review's flags (review.h), "" or NULL: none */
	char *review;            /* the LLM review's note, NULL when none */
	int has_score;
	double score;
	int32_t cached_from;     /* the node whose result this one reused (its
				  * code was the same), -1: ran itself */
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

	/* reference edges (other nodes the operator was shown) */
	uint32_t *refs;
	uint8_t *ref_kinds;      /* aml_ref_kind per ref */
	uint32_t n_refs;

	/* search statistics over the primary tree */
	uint32_t visits;         /* backpropagations through this node */
	double total_reward;
	uint32_t in_flight;      /* expansions under way at or below (virtual loss) */
	uint32_t pending;        /* children being made right now */
	uint16_t debug_depth;    /* buggy ancestors in a row, itself included */
	uint16_t no_gain;        /* improvements in a row without gain */
	uint8_t terminal;        /* no more children: chain ended */
	uint8_t exhausted;       /* terminal or full, and every child exhausted */
	double reward;           /* the reward it got */
	int32_t greedy_slot;     /* index in the search's buggy-leaf list, or -1 */
	int32_t root_slot;       /* index in the search's live-branch list, or -1 */
} aml_node;

typedef struct aml_graph {
	aml_node **nodes;
	size_t n, cap;
	int higher_is_better;
	int flags_bar_best;      /* a flagged node is never the best */
	int32_t best;            /* best valid node, -1 when none */
	size_t root_children;
	uint32_t *roots;         /* the root's children, in creation order */
	size_t cap_roots;
	uint32_t root_visits;    /* backpropagations that reached the root */
	uint32_t root_pending;   /* drafts being made right now */
	uint32_t root_in_flight;
	int no_visits;           /* the policy keeps no visit statistics (greedy) */
} aml_graph;

void aml_graph_init(aml_graph *g, int higher_is_better);
void aml_graph_destroy(aml_graph *g);

/* A new pending node under parent (-1: root).  Strings are copied.
 * Returns the node (owned by the graph) or NULL on oom. */
aml_node *aml_graph_add(aml_graph *g, int32_t parent, const char *op, const char *mode);

/* Record that n is finished: updates the best node.  Returns 1 when n is
 * the new best. */
int aml_graph_finish(aml_graph *g, aml_node *n);

/* Add a reference edge from n to node id (deduplicated). */
int aml_graph_add_ref(aml_graph *g, aml_node *n, uint32_t id, aml_ref_kind kind);

/* 1 when score a is better than b for this graph's direction. */
int aml_graph_better(const aml_graph *g, double a, double b);

/* A view of n for operators (pointers borrowed from n). */
aml_node_view aml_node_view_of(const aml_node *n);

/* Check the structural invariants (every node reachable from the root by
 * primary edges, no primary cycle, references to existing nodes, visits
 * equal to the backpropagations through each node).  0 when they hold,
 * else -1 with the first violation in err. */
int aml_graph_check(const aml_graph *g, char *err, size_t errlen);

const char *aml_node_status_name(aml_node_status s);
const char *aml_ref_kind_name(aml_ref_kind k);
const char *aml_exec_outcome_name(aml_exec_outcome o);

#endif
