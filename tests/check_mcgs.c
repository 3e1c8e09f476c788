/*
 * check_mcgs.c — Monte Carlo Graph Search alone, with outcomes simulated
 * in the test: graph invariants after random runs, UCT choices on
 * hand-built graphs, each expansion mode triggered by a constructed
 * situation, each policy's shape, and determinism.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "graph.h"
#include "mcgs.h"
#include "mock_host.h"
#include "util.h"

static aml_mcgs_params
params(const char *policy, const char *const *kv)
{
	char err[AML_ERRLEN] = "", buf[256];
	aml_config *c = NULL;
	aml_mcgs_params p;

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "search.policy=%s", policy);
	ck_assert_int_eq(aml_config_set_arg(c, buf, err, sizeof err), AML_OK);
	for (; kv && *kv; kv++)
		ck_assert_msg(aml_config_set_arg(c, *kv, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_mcgs_params_load(&p, c, err, sizeof err) == AML_OK, "%s", err);
	aml_config_free(c);
	return p;
}

/* A tiny deterministic generator for simulated outcomes. */
static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* Simulate the outcome of expanding d into n: drafts valid 70%, debug
 * fixes 50%, improve/recall/fuse move the score by a seeded step. */
static void
simulate(aml_graph *g, const aml_mcgs_decision *d, aml_node *n, uint64_t seed)
{
	uint64_t h = mix(seed * 7919 + n->id);
	double u = (double)(h >> 11) / 9007199254740992.0;
	const aml_node *p = d->parent >= 0 ? g->nodes[d->parent] : NULL;

	n->status = AML_NODE_BUGGY;
	if (strcmp(d->op, "draft") == 0 || strcmp(d->op, "fuse") == 0) {
		if (u < 0.7) {
			n->status = AML_NODE_VALID;
			n->score = 0.5 + 0.3 * u;
		}
	} else if (strcmp(d->op, "debug") == 0) {
		if (u < 0.5) {
			n->status = AML_NODE_VALID;
			n->score = 0.4 + 0.4 * u;
		}
	} else if (u < 0.9) {
		n->status = AML_NODE_VALID;
		n->score = p->score + (u - 0.6) * 0.05;
	}
	n->has_score = n->status == AML_NODE_VALID;
}

/* Run n_nodes select/simulate/integrate steps; the graph is the caller's. */
static void
run_sim(aml_mcgs *m, aml_graph *g, size_t n_nodes, uint64_t seed)
{
	aml_mcgs_decision d;
	size_t i;

	for (i = 0; i < n_nodes; i++) {
		aml_node *n;

		ck_assert_int_eq(aml_mcgs_select(m, (double)i / (double)n_nodes, &d), 0);
		n = aml_graph_add(g, d.parent, d.op, d.mode);
		ck_assert_ptr_nonnull(n);
		simulate(g, &d, n, seed);
		ck_assert_int_eq(aml_mcgs_integrate(m, &d, n), AML_OK);
	}
}

static const char *const policies[] = {"mcgs", "mcts", "greedy"};

START_TEST(test_invariants_after_random_runs)
{
	uint64_t seed;

	for (seed = 1; seed <= 5; seed++) {
		aml_mcgs_params p = params(policies[_i], NULL);
		aml_graph g;
		aml_mcgs *m;
		char err[256] = "";
		size_t i, refs = 0;

		aml_graph_init(&g, 1);
		ck_assert_int_eq(aml_mcgs_new(&p, &g, seed, &m), AML_OK);
		run_sim(m, &g, 300, seed);
		ck_assert_msg(aml_graph_check(&g, err, sizeof err) == 0, "%s seed %llu: %s",
			      policies[_i], (unsigned long long)seed, err);
		/* greedy keeps no visit statistics */
		ck_assert_uint_eq(g.root_visits, _i == 2 ? 0 : 300);
		for (i = 0; i < g.n; i++) {
			refs += g.nodes[i]->n_refs;
			ck_assert_uint_eq(g.nodes[i]->in_flight, 0);
			ck_assert_uint_eq(g.nodes[i]->pending, 0);
		}
		/* only the graph search shows nodes across branches */
		if (_i != 0)
			ck_assert_uint_eq(refs, 0);
		ck_assert_int_ge(g.best, 0);
		aml_mcgs_free(m);
		aml_graph_destroy(&g);
	}
}
END_TEST

START_TEST(test_mcgs_uses_every_mode)
{
	const char *kv[] = {"search.num_drafts=4", NULL};
	aml_mcgs_params p = params("mcgs", kv);
	aml_mcgs_stats st;
	aml_graph g;
	aml_mcgs *m;
	size_t i, ops[5] = {0};
	static const char *const names[] = {"draft", "debug", "improve", "fuse", "recall"};

	aml_graph_init(&g, 1);
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 42, &m), AML_OK);
	run_sim(m, &g, 400, 42);
	aml_mcgs_get_stats(m, &st);
	ck_assert_uint_gt(st.by_mode[0], 0);
	ck_assert_uint_gt(st.by_mode[1], 0);
	ck_assert_uint_gt(st.by_mode[2], 0);
	ck_assert_uint_gt(st.by_mode[3], 0);
	ck_assert_uint_gt(st.late_picks, 0);
	for (i = 0; i < g.n; i++) {
		size_t k;

		for (k = 0; k < 5; k++)
			if (strcmp(g.nodes[i]->op, names[k]) == 0)
				ops[k]++;
	}
	for (i = 0; i < 5; i++)
		ck_assert_msg(ops[i] > 0, "no %s node", names[i]);
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

START_TEST(test_determinism)
{
	aml_mcgs_params p = params(policies[_i], NULL);
	aml_graph g1, g2;
	aml_mcgs *m1, *m2;
	size_t i;

	aml_graph_init(&g1, 0);
	aml_graph_init(&g2, 0);
	ck_assert_int_eq(aml_mcgs_new(&p, &g1, 9, &m1), AML_OK);
	ck_assert_int_eq(aml_mcgs_new(&p, &g2, 9, &m2), AML_OK);
	run_sim(m1, &g1, 200, 3);
	run_sim(m2, &g2, 200, 3);
	for (i = 0; i < 200; i++) {
		ck_assert_int_eq(g1.nodes[i]->parent, g2.nodes[i]->parent);
		ck_assert_str_eq(g1.nodes[i]->op, g2.nodes[i]->op);
		ck_assert_str_eq(g1.nodes[i]->mode, g2.nodes[i]->mode);
		ck_assert_uint_eq(g1.nodes[i]->n_refs, g2.nodes[i]->n_refs);
	}
	aml_mcgs_free(m1);
	aml_mcgs_free(m2);
	aml_graph_destroy(&g1);
	aml_graph_destroy(&g2);
}
END_TEST

/* Hand-built graphs: add a node under parent with a status and score and
 * integrate it as if an operator had made it. */
static aml_node *
put(aml_mcgs *m, aml_graph *g, int32_t parent, const char *op, aml_node_status st, double score)
{
	aml_mcgs_decision d;
	aml_node *n;

	memset(&d, 0, sizeof d);
	d.parent = parent;
	d.op = op;
	d.mode = "primary";
	/* reserve as select would, so integrate releases what it must */
	if (parent < 0)
		g->root_pending++;
	else
		g->nodes[parent]->pending++;
	for (aml_node *a = parent >= 0 ? g->nodes[parent] : NULL; a;
	     a = a->parent >= 0 ? g->nodes[a->parent] : NULL)
		a->in_flight++;
	g->root_in_flight++;
	n = aml_graph_add(g, parent, op, "primary");
	n->status = st;
	n->score = score;
	n->has_score = st == AML_NODE_VALID;
	ck_assert_int_eq(aml_mcgs_integrate(m, &d, n), AML_OK);
	return n;
}

START_TEST(test_uct_prefers_the_better_branch)
{
	const char *kv[] = {"search.num_drafts=2", "search.reference_prob=0",
			    "search.uct_c=0.1", "search.uct_c_floor=0.1", NULL};
	aml_mcgs_params p = params("mcts", kv);
	aml_mcgs_decision d;
	aml_graph g;
	aml_mcgs *m;

	aml_graph_init(&g, 1);
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);   /* 0: reward improve + best */
	put(m, &g, -1, "draft", AML_NODE_BUGGY, 0);     /* 1: reward -1 */
	/* both drafts made: UCT descends, and with little exploration picks
	 * the valid branch and improves node 0 */
	ck_assert_int_eq(aml_mcgs_select(m, 0.1, &d), 0);
	ck_assert_int_eq(d.parent, 0);
	ck_assert_str_eq(d.op, "improve");
	ck_assert_str_eq(d.mode, "primary");
	ck_assert_str_eq(d.flavor, "hyperparameters");
	aml_mcgs_release(m, &d);
	/* with strong exploration the unvisited-looking buggy branch gets
	 * its debug once node 0 has been visited a lot */
	m = (aml_mcgs_free(m), NULL);
	aml_graph_destroy(&g);
	aml_graph_init(&g, 1);
	{
		const char *kv2[] = {"search.num_drafts=2", "search.reference_prob=0",
				     "search.uct_c=50", "search.uct_c_floor=50",
				     "search.max_improve_children=100", NULL};
		aml_mcgs_params p2 = params("mcts", kv2);
		int i;

		ck_assert_int_eq(aml_mcgs_new(&p2, &g, 1, &m), AML_OK);
		put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);
		put(m, &g, -1, "draft", AML_NODE_BUGGY, 0);
		for (i = 0; i < 20; i++)
			put(m, &g, 0, "improve", AML_NODE_VALID, 0.5);
		ck_assert_int_eq(aml_mcgs_select(m, 0.1, &d), 0);
		ck_assert_int_eq(d.parent, 1);
		ck_assert_str_eq(d.op, "debug");
	}
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

START_TEST(test_virtual_loss_spreads_workers)
{
	const char *kv[] = {"search.num_drafts=2", "search.reference_prob=0",
			    "search.max_improve_children=10", NULL};
	aml_mcgs_params p = params("mcts", kv);
	aml_mcgs_decision d1, d2;
	aml_graph g;
	aml_mcgs *m;

	aml_graph_init(&g, 1);
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);
	/* two selections without integration go to different branches */
	ck_assert_int_eq(aml_mcgs_select(m, 0.1, &d1), 0);
	aml_graph_add(&g, d1.parent, d1.op, d1.mode);
	ck_assert_int_eq(aml_mcgs_select(m, 0.1, &d2), 0);
	aml_graph_add(&g, d2.parent, d2.op, d2.mode);
	ck_assert_int_ne(d1.parent, d2.parent);
	ck_assert_uint_eq(g.nodes[d1.parent]->in_flight, 1);
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

/* mcgs goes back to a failed improvement of a node whose children are
 * all made (debug_prob 1), where UCT alone (debug_prob 0, or mcts)
 * improves the valid child that gained. */
START_TEST(test_debug_failed_improvement)
{
	int k;

	for (k = 0; k < 3; k++) {
		const char *kv[] = {"search.num_drafts=1", "search.reference_prob=0",
				    "search.max_improve_children=2", k == 1 ? "search.debug_prob=0"
				    : "search.debug_prob=1", NULL};
		aml_mcgs_params p = params(k == 2 ? "mcts" : "mcgs", kv);
		aml_mcgs_decision d;
		aml_node *a, *bad;
		aml_graph g;
		aml_mcgs *m;

		aml_graph_init(&g, 1);
		ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
		a = put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);
		put(m, &g, (int32_t)a->id, "improve", AML_NODE_VALID, 0.6);
		bad = put(m, &g, (int32_t)a->id, "improve", AML_NODE_BUGGY, 0);
		ck_assert_int_eq(aml_mcgs_select(m, 0.2, &d), 0);
		if (k == 0) {
			ck_assert_int_eq(d.parent, (int32_t)bad->id);
			ck_assert_str_eq(d.op, "debug");
		} else {
			ck_assert_int_eq(d.parent, 1);
			ck_assert_str_eq(d.op, "improve");
		}
		aml_mcgs_release(m, &d);
		aml_mcgs_free(m);
		aml_graph_destroy(&g);
	}
}
END_TEST

START_TEST(test_evolution_on_branch_stagnation)
{
	const char *kv[] = {"search.num_drafts=1", "search.reference_prob=0",
			    "search.branch_stagnation=2", "search.max_improve_children=10",
			    "search.improve_patience=10", NULL};
	aml_mcgs_params p = params("mcgs", kv);
	aml_mcgs_decision d;
	aml_node *a, *b, *c;
	aml_graph g;
	aml_mcgs *m;

	aml_graph_init(&g, 1);
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
	a = put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);
	b = put(m, &g, (int32_t)a->id, "improve", AML_NODE_VALID, 0.6);
	c = put(m, &g, (int32_t)b->id, "improve", AML_NODE_VALID, 0.55); /* no gain */
	put(m, &g, (int32_t)c->id, "improve", AML_NODE_BUGGY, 0);          /* no gain */
	ck_assert_int_eq(aml_mcgs_select(m, 0.2, &d), 0);
	ck_assert_str_eq(d.op, "recall");
	ck_assert_str_eq(d.mode, "evolution");
	/* the branch's trajectory, oldest first, without the node itself */
	ck_assert_uint_eq(d.n_refs, 3);
	ck_assert_uint_eq(d.refs[0], d.parent == (int32_t)a->id ? b->id : a->id);
	ck_assert_uint_eq(d.ref_kinds[0], AML_REF_RECALL);
	ck_assert_uint_eq(d.refs[2], 3);
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

START_TEST(test_cross_branch_reference)
{
	const char *kv[] = {"search.num_drafts=2", "search.reference_prob=1", NULL};
	aml_mcgs_params p = params("mcgs", kv);
	aml_mcgs_decision d;
	aml_graph g;
	aml_mcgs *m;

	aml_graph_init(&g, 1);
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.7);
	ck_assert_int_eq(aml_mcgs_select(m, 0.2, &d), 0);
	ck_assert_str_eq(d.op, "improve");
	ck_assert_str_eq(d.mode, "reference");
	ck_assert_uint_eq(d.n_refs, 1);
	ck_assert_uint_ne(d.refs[0], (uint32_t)d.parent);
	ck_assert_uint_eq(d.ref_kinds[0], AML_REF_CROSS);
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

START_TEST(test_aggregation_on_global_stagnation)
{
	const char *kv[] = {"search.num_drafts=3", "search.global_stagnation=2",
			    "search.aggregate_after=0.3", "search.aggregate_before=0.8", NULL};
	aml_mcgs_params p = params("mcgs", kv);
	aml_mcgs_decision d;
	aml_node *n;
	aml_graph g;
	aml_mcgs *m;

	aml_graph_init(&g, 0); /* lower is better */
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.3);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.4);  /* not a new best */
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);  /* not a new best */
	/* too early in the budget: no aggregation */
	ck_assert_int_eq(aml_mcgs_select(m, 0.1, &d), 0);
	ck_assert_str_ne(d.mode, "aggregation");
	aml_mcgs_release(m, &d);
	ck_assert_int_eq(aml_mcgs_select(m, 0.5, &d), 0);
	ck_assert_str_eq(d.op, "fuse");
	ck_assert_str_eq(d.mode, "aggregation");
	ck_assert_int_eq(d.parent, -1);
	ck_assert_uint_eq(d.n_refs, 3);
	ck_assert_uint_eq(d.refs[0], 0);  /* best first */
	ck_assert_uint_eq(d.ref_kinds[0], AML_REF_FUSION);
	/* the fusion starts a new branch and carries its reference edges */
	n = aml_graph_add(&g, d.parent, d.op, d.mode);
	n->status = AML_NODE_VALID;
	n->score = 0.2;
	n->has_score = 1;
	ck_assert_int_eq(aml_mcgs_integrate(m, &d, n), AML_OK);
	ck_assert_uint_eq(n->n_refs, 3);
	ck_assert_uint_eq(n->branch, n->id);
	ck_assert_int_eq(g.best, (int32_t)n->id);
	ck_assert_double_eq(n->reward, 2.0); /* beats its inputs, and a new best */
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

START_TEST(test_late_phase_exploits_topk)
{
	const char *kv[] = {"search.num_drafts=1", "search.late_phase=0.8",
			    "search.late_exploit_prob=1", "search.reference_prob=0",
			    "search.max_improve_children=50", "search.improve_patience=50", NULL};
	aml_mcgs_params p = params("mcgs", kv);
	aml_mcgs_decision d;
	aml_mcgs_stats st;
	aml_graph g;
	aml_mcgs *m;

	aml_graph_init(&g, 1);
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);
	put(m, &g, 0, "improve", AML_NODE_VALID, 0.9);
	ck_assert_int_eq(aml_mcgs_select(m, 0.95, &d), 0);
	aml_mcgs_get_stats(m, &st);
	ck_assert_uint_eq(st.late_picks, 1);
	ck_assert_str_eq(d.op, "improve");
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

START_TEST(test_chains_end)
{
	const char *kv[] = {"search.num_drafts=1", "search.debug_depth=2",
			    "search.improve_patience=2", NULL};
	aml_mcgs_params p = params("mcts", kv);
	aml_node *a, *b, *c, *x, *y;
	aml_graph g;
	aml_mcgs *m;

	aml_graph_init(&g, 1);
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
	/* debug chain: buggy, buggy -> terminal at depth 2 */
	x = put(m, &g, -1, "draft", AML_NODE_BUGGY, 0);
	ck_assert_uint_eq(x->debug_depth, 1);
	ck_assert(!x->terminal);
	y = put(m, &g, (int32_t)x->id, "debug", AML_NODE_BUGGY, 0);
	ck_assert_uint_eq(y->debug_depth, 2);
	ck_assert(y->terminal);
	/* improvement chain: two attempts without gain -> terminal */
	a = put(m, &g, (int32_t)x->id, "debug", AML_NODE_VALID, 0.5);
	ck_assert_double_eq(a->reward, 1 + 1); /* a debug fix, and a new best */
	b = put(m, &g, (int32_t)a->id, "improve", AML_NODE_VALID, 0.4);
	ck_assert_uint_eq(b->no_gain, 1);
	ck_assert(!b->terminal);
	c = put(m, &g, (int32_t)b->id, "improve", AML_NODE_VALID, 0.45);
	ck_assert_double_eq(c->reward, 1); /* better than its parent */
	ck_assert_uint_eq(c->no_gain, 0);
	c = put(m, &g, (int32_t)b->id, "improve", AML_NODE_VALID, 0.3);
	ck_assert_uint_eq(c->no_gain, 2);
	ck_assert(c->terminal);
	ck_assert_double_eq(c->reward, 0);
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

START_TEST(test_greedy_shape)
{
	const char *kv[] = {"search.num_drafts=3", "search.greedy_debug_prob=0", NULL};
	aml_mcgs_params p = params("greedy", kv);
	aml_mcgs_decision d;
	aml_graph g;
	aml_mcgs *m;

	aml_graph_init(&g, 1);
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);
	put(m, &g, -1, "draft", AML_NODE_BUGGY, 0);
	ck_assert_int_eq(aml_mcgs_select(m, 0.1, &d), 0);
	ck_assert_str_eq(d.op, "draft"); /* drafts first */
	aml_mcgs_release(m, &d);
	put(m, &g, -1, "draft", AML_NODE_VALID, 0.7);
	/* then improve the best node */
	ck_assert_int_eq(aml_mcgs_select(m, 0.1, &d), 0);
	ck_assert_str_eq(d.op, "improve");
	ck_assert_int_eq(d.parent, 2);
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

/* An improvement the operator could not make (kbsynth: every single
 * change of the node was tried) is not asked for again: greedy moves on
 * to the next best node, and drafts when the top-k is spent, instead of
 * spending the rest of the budget on the same failing request. */
START_TEST(test_greedy_moves_on_after_operator_failure)
{
	const char *kv[] = {"search.num_drafts=2", "search.greedy_debug_prob=0",
			    "search.topk_global=2", NULL};
	aml_mcgs_params p = params("greedy", kv);
	aml_mcgs_decision d;
	aml_node *a, *b;
	aml_graph g;
	aml_mcgs *m;

	aml_graph_init(&g, 1);
	ck_assert_int_eq(aml_mcgs_new(&p, &g, 1, &m), AML_OK);
	a = put(m, &g, -1, "draft", AML_NODE_VALID, 0.5);
	b = put(m, &g, -1, "draft", AML_NODE_VALID, 0.7);
	put(m, &g, (int32_t)b->id, "improve", AML_NODE_VALID, 0.4);
	/* a child without gain does not stop greedy: the best again */
	ck_assert_int_eq(aml_mcgs_select(m, 0.3, &d), 0);
	ck_assert_str_eq(d.op, "improve");
	ck_assert_int_eq(d.parent, (int32_t)b->id);
	aml_mcgs_release(m, &d);
	put(m, &g, (int32_t)b->id, "improve", AML_NODE_OP_FAILED, 0);
	ck_assert(b->exhausted);
	ck_assert_int_eq(g.best, (int32_t)b->id); /* still the best */
	ck_assert_int_eq(aml_mcgs_select(m, 0.4, &d), 0);
	ck_assert_str_eq(d.op, "improve");
	ck_assert_int_eq(d.parent, (int32_t)a->id);
	aml_mcgs_release(m, &d);
	/* the whole top-k spent: a new draft */
	put(m, &g, (int32_t)a->id, "improve", AML_NODE_OP_FAILED, 0);
	ck_assert_int_eq(aml_mcgs_select(m, 0.5, &d), 0);
	ck_assert_str_eq(d.op, "draft");
	ck_assert_int_eq(d.parent, -1);
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
}
END_TEST

START_TEST(test_c_schedule)
{
	const char *kv[] = {"search.uct_c=2", "search.uct_c_floor=0.5",
			    "search.uct_decay_start=0.4", "search.uct_decay_end=0.8", NULL};
	aml_mcgs_params p = params("mcgs", kv);

	ck_assert_double_eq(aml_mcgs_c(&p, 0.1), 2);
	ck_assert_double_eq(aml_mcgs_c(&p, 0.4), 2);
	ck_assert_double_eq_tol(aml_mcgs_c(&p, 0.6), 1.25, 1e-12);
	ck_assert_double_eq(aml_mcgs_c(&p, 0.8), 0.5);
	ck_assert_double_eq(aml_mcgs_c(&p, 1.0), 0.5);
}
END_TEST

START_TEST(test_bad_params)
{
	char err[AML_ERRLEN] = "";
	aml_config *c = NULL;
	aml_mcgs_params p;

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, "search.policy=mcgs", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, "search.topk_global=99", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_mcgs_params_load(&p, c, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "'search.topk_global' must be a whole number in [1, 16], got '99'"), "%s", err);
	ck_assert_int_eq(aml_config_set_arg(c, "search.policy=beam", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_mcgs_params_load(&p, c, err, sizeof err), AML_EINVAL);
	ck_assert(strstr(err, "unknown search.policy 'beam'") != NULL);
	aml_config_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("mcgs");
	TCase *tc = tcase_create("mcgs");

	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_invariants_after_random_runs, 0, 3);
	tcase_add_test(tc, test_mcgs_uses_every_mode);
	tcase_add_loop_test(tc, test_determinism, 0, 3);
	tcase_add_test(tc, test_uct_prefers_the_better_branch);
	tcase_add_test(tc, test_virtual_loss_spreads_workers);
	tcase_add_test(tc, test_debug_failed_improvement);
	tcase_add_test(tc, test_evolution_on_branch_stagnation);
	tcase_add_test(tc, test_cross_branch_reference);
	tcase_add_test(tc, test_aggregation_on_global_stagnation);
	tcase_add_test(tc, test_late_phase_exploits_topk);
	tcase_add_test(tc, test_chains_end);
	tcase_add_test(tc, test_greedy_shape);
	tcase_add_test(tc, test_greedy_moves_on_after_operator_failure);
	tcase_add_test(tc, test_c_schedule);
	tcase_add_test(tc, test_bad_params);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
