/*
 * graph.c — see graph.h.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph.h"

void
aml_graph_init(aml_graph *g, int higher_is_better)
{
	memset(g, 0, sizeof *g);
	g->higher_is_better = higher_is_better;
	g->best = -1;
}

static void
node_free(aml_node *n)
{
	if (n == NULL)
		return;
	free(n->op);
	free(n->mode);
	free(n->plan);
	free(n->code);
	free(n->raw_answer);
	free(n->reason);
	free(n->output);
	free(n->children);
	free(n);
}

void
aml_graph_destroy(aml_graph *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		node_free(g->nodes[i]);
	free(g->nodes);
	memset(g, 0, sizeof *g);
	g->best = -1;
}

static int
add_child(aml_node *p, uint32_t id)
{
	if (p->n_children == p->cap_children) {
		size_t cap = p->cap_children ? p->cap_children * 2 : 4;
		uint32_t *c = realloc(p->children, cap * sizeof *c);

		if (c == NULL)
			return -1;
		p->children = c;
		p->cap_children = cap;
	}
	p->children[p->n_children++] = id;
	return 0;
}

aml_node *
aml_graph_add(aml_graph *g, int32_t parent, const char *op, const char *mode)
{
	aml_node *n;

	if (parent >= 0 && (size_t)parent >= g->n)
		return NULL;
	if (g->n == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		aml_node **nodes = realloc(g->nodes, cap * sizeof *nodes);

		if (nodes == NULL)
			return NULL;
		g->nodes = nodes;
		g->cap = cap;
	}
	n = calloc(1, sizeof *n);
	if (n == NULL)
		return NULL;
	n->id = (uint32_t)g->n;
	n->parent = parent;
	n->op = strdup(op);
	n->mode = strdup(mode);
	n->plan = strdup("");
	n->reason = strdup("");
	n->output = strdup("");
	if (!n->op || !n->mode || !n->plan || !n->reason || !n->output
	    || (parent >= 0 && add_child(g->nodes[parent], n->id) != 0)) {
		node_free(n);
		return NULL;
	}
	n->branch = parent >= 0 ? g->nodes[parent]->branch : n->id;
	if (parent < 0)
		g->root_children++;
	g->nodes[g->n++] = n;
	return n;
}

int
aml_graph_better(const aml_graph *g, double a, double b)
{
	return g->higher_is_better ? a > b : a < b;
}

int
aml_graph_finish(aml_graph *g, aml_node *n)
{
	if (n->status != AML_NODE_VALID || !n->has_score || !isfinite(n->score))
		return 0;
	if (g->best >= 0 && !aml_graph_better(g, n->score, g->nodes[g->best]->score))
		return 0;
	g->best = (int32_t)n->id;
	return 1;
}

aml_node_view
aml_node_view_of(const aml_node *n)
{
	aml_node_view v;

	memset(&v, 0, sizeof v);
	v.id = n->id;
	v.parent_id = n->parent;
	v.branch = n->branch;
	v.op = n->op;
	v.plan = n->plan;
	v.code = n->code ? n->code : "";
	v.status = n->status;
	v.reason = n->reason;
	v.output = n->output;
	v.has_score = n->has_score;
	v.score = n->score;
	v.exec_seconds = n->exec_seconds;
	return v;
}

const char *
aml_node_status_name(aml_node_status s)
{
	switch (s) {
	case AML_NODE_PENDING: return "pending";
	case AML_NODE_VALID: return "valid";
	case AML_NODE_BUGGY: return "buggy";
	case AML_NODE_INVALID_SUB: return "invalid_submission";
	case AML_NODE_OP_FAILED: return "operator_failed";
	}
	return "unknown";
}

const char *
aml_exec_outcome_name(aml_exec_outcome o)
{
	switch (o) {
	case AML_EXEC_OK: return "ok";
	case AML_EXEC_CRASHED: return "crashed";
	case AML_EXEC_TIMEOUT: return "timed_out";
	case AML_EXEC_KILLED: return "killed";
	case AML_EXEC_NOSTART: return "not_started";
	}
	return "unknown";
}
