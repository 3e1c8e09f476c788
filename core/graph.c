/*
 * graph.c — see graph.h.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
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
	free(n->flags);
	free(n->review);
	free(n->children);
	free(n->refs);
	free(n->ref_kinds);
	free(n);
}

void
aml_graph_destroy(aml_graph *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		node_free(g->nodes[i]);
	free(g->nodes);
	free(g->roots);
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
	n->cached_from = -1;
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
	n->greedy_slot = -1;
	n->root_slot = -1;
	if (parent < 0) {
		if (g->root_children == g->cap_roots) {
			size_t cap = g->cap_roots ? g->cap_roots * 2 : 16;
			uint32_t *r = realloc(g->roots, cap * sizeof *r);

			if (r == NULL) {
				node_free(n);
				return NULL;
			}
			g->roots = r;
			g->cap_roots = cap;
		}
		g->roots[g->root_children++] = n->id;
	}
	g->nodes[g->n++] = n;
	return n;
}

int
aml_graph_add_ref(aml_graph *g, aml_node *n, uint32_t id, aml_ref_kind kind)
{
	uint32_t *r;
	uint8_t *k;
	uint32_t i;

	if (id >= g->n || id == n->id)
		return AML_EINVAL;
	for (i = 0; i < n->n_refs; i++)
		if (n->refs[i] == id)
			return AML_OK;
	r = realloc(n->refs, (n->n_refs + 1) * sizeof *r);
	if (r == NULL)
		return AML_ENOMEM;
	n->refs = r;
	k = realloc(n->ref_kinds, (n->n_refs + 1) * sizeof *k);
	if (k == NULL)
		return AML_ENOMEM;
	n->ref_kinds = k;
	n->refs[n->n_refs] = id;
	n->ref_kinds[n->n_refs] = (uint8_t)kind;
	n->n_refs++;
	return AML_OK;
}

int
aml_graph_check(const aml_graph *g, char *err, size_t errlen)
{
	size_t i, j;
	uint64_t root_sum = 0;

	for (i = 0; i < g->n; i++) {
		const aml_node *n = g->nodes[i];
		uint64_t expect = 1, depth = 0;
		int32_t p;

		if (n->id != i) {
			snprintf(err, errlen, "node at %zu has id %u", i, n->id);
			return -1;
		}
		/* parents are older than their children: no cycle, and the walk
		 * up ends at the root */
		for (p = n->parent; p >= 0; p = g->nodes[p]->parent) {
			if ((size_t)p >= g->n || (uint32_t)p >= n->id || ++depth > g->n) {
				snprintf(err, errlen, "node %u: primary chain breaks at %d", n->id, p);
				return -1;
			}
		}
		for (j = 0; j < n->n_refs; j++)
			if (n->refs[j] >= g->n || n->refs[j] == n->id) {
				snprintf(err, errlen, "node %u: reference to %u", n->id, n->refs[j]);
				return -1;
			}
		for (j = 0; j < n->n_children; j++) {
			const aml_node *c = g->nodes[n->children[j]];

			if (c->parent != (int32_t)n->id) {
				snprintf(err, errlen, "node %u lists child %u whose parent is %d",
					 n->id, c->id, c->parent);
				return -1;
			}
			if (c->status != AML_NODE_PENDING)
				expect += c->visits;
		}
		if (n->status == AML_NODE_PENDING || g->no_visits)
			continue;
		if (n->visits != expect) {
			snprintf(err, errlen, "node %u: %u visits, %llu backpropagations through it",
				 n->id, n->visits, (unsigned long long)expect);
			return -1;
		}
		if (n->parent < 0)
			root_sum += n->visits;
	}
	if (!g->no_visits && g->root_visits != root_sum) {
		snprintf(err, errlen, "root: %u visits, %llu backpropagations",
			 g->root_visits, (unsigned long long)root_sum);
		return -1;
	}
	return 0;
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
	if (g->flags_bar_best && n->flags && n->flags[0])
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
aml_ref_kind_name(aml_ref_kind k)
{
	switch (k) {
	case AML_REF_RECALL: return "recall";
	case AML_REF_CROSS: return "reference";
	case AML_REF_FUSION: return "fusion";
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
	case AML_EXEC_CANCELLED: return "cancelled";
	}
	return "unknown";
}
