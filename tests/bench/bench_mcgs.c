/*
 * bench_mcgs.c — cost of the search's bookkeeping at scale: the time of
 * select + add + integrate (reward, backpropagation, top-k) per node and
 * the heap per node, for graphs of up to 100,000 nodes, with outcomes
 * simulated instantly (no operator, provider or script).
 *
 *   make -C _build tests/bench/bench_mcgs && _build/tests/bench/bench_mcgs [NODES] [POLICY]
 *
 * Prints one line per tenth of the run: nodes so far, mean microseconds
 * per step over that tenth, the worst single step, and heap bytes per
 * node (glibc's mallinfo2, everything the graph and the search hold;
 * there is no code text in a simulated node).
 */
#include "config.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conf.h"
#include "graph.h"
#include "mcgs.h"
#include "util.h"

static uint64_t
mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ULL;
	return x ^ (x >> 33);
}

/* The synthetic outcome: drafts valid 70%, debugs 50%, improvements
 * valid 85% and a seeded small step in score. */
static void
outcome(const aml_graph *g, const aml_mcgs_decision *d, aml_node *n)
{
	double u = (double)(mix(n->id * 2654435761u + 17) >> 11) / 9007199254740992.0;
	const aml_node *p = d->parent >= 0 ? g->nodes[d->parent] : NULL;

	n->status = AML_NODE_BUGGY;
	if (p == NULL) {
		if (u < 0.7) {
			n->status = AML_NODE_VALID;
			n->score = 0.5 + 0.3 * u;
		}
	} else if (p->status != AML_NODE_VALID) {
		if (u < 0.5) {
			n->status = AML_NODE_VALID;
			n->score = 0.4 + 0.4 * u;
		}
	} else if (u < 0.85) {
		n->status = AML_NODE_VALID;
		n->score = p->score + (u - 0.5) * 0.02;
	}
	n->has_score = n->status == AML_NODE_VALID;
}

int
main(int argc, char **argv)
{
	size_t nodes = argc > 1 ? strtoul(argv[1], NULL, 10) : 100000, i, tenth;
	const char *policy = argc > 2 ? argv[2] : "mcgs";
	char err[AML_ERRLEN] = "", kv[64];
	aml_config *cfg = NULL;
	aml_mcgs_params p;
	aml_graph g;
	aml_mcgs *m;
	struct mallinfo2 before, after;
	double t_tenth = 0, worst = 0;

	if (nodes < 10) {
		fprintf(stderr, "usage: bench_mcgs [NODES >= 10] [mcgs|mcts|greedy]\n");
		return 2;
	}
	snprintf(kv, sizeof kv, "search.policy=%s", policy);
	if (aml_config_new(&cfg, err, sizeof err) != AML_OK
	    || aml_config_set_arg(cfg, kv, err, sizeof err) != AML_OK
	    || aml_mcgs_params_load(&p, cfg, err, sizeof err) != AML_OK) {
		fprintf(stderr, "bench_mcgs: %s\n", err);
		return 2;
	}
	aml_config_free(cfg);
	before = mallinfo2();
	aml_graph_init(&g, 1);
	if (aml_mcgs_new(&p, &g, 1, &m) != AML_OK)
		return 1;
	tenth = nodes / 10;
	printf("policy %s, %zu nodes, aml_node %zu bytes\n", policy, nodes, sizeof(aml_node));
	printf("%10s %14s %14s %14s\n", "nodes", "us/step mean", "us/step max", "bytes/node");
	for (i = 0; i < nodes; i++) {
		aml_mcgs_decision d;
		aml_node *n;
		double t0 = aml_now(), t1, dt;

		if (aml_mcgs_select(m, (double)i / (double)nodes, &d) != 0) {
			fprintf(stderr, "bench_mcgs: nothing to select at node %zu\n", i);
			return 1;
		}
		n = aml_graph_add(&g, d.parent, d.op, d.mode);
		if (n == NULL)
			return 1;
		t1 = aml_now();
		outcome(&g, &d, n); /* not timed: stands for the operator and the script */
		t0 -= aml_now() - t1;
		if (aml_mcgs_integrate(m, &d, n) != AML_OK)
			return 1;
		dt = aml_now() - t0;
		t_tenth += dt;
		if (dt > worst)
			worst = dt;
		if ((i + 1) % tenth == 0) {
			after = mallinfo2();
			printf("%10zu %14.2f %14.2f %14.0f\n", i + 1, t_tenth / (double)tenth * 1e6,
			       worst * 1e6, (double)(after.uordblks - before.uordblks) / (double)(i + 1));
			t_tenth = 0;
			worst = 0;
		}
	}
	if (aml_graph_check(&g, err, sizeof err) != 0) {
		fprintf(stderr, "bench_mcgs: graph invariant broken: %s\n", err);
		return 1;
	}
	printf("best node %d, score %.4f, depth-first branches %zu\n", g.best,
	       g.best >= 0 ? g.nodes[g.best]->score : 0.0, g.root_children);
	aml_mcgs_free(m);
	aml_graph_destroy(&g);
	return 0;
}
