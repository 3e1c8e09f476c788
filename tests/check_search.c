/*
 * check_search.c — the search as a whole, through real plugins but fast:
 * kbsynth writes the scripts, the synthetic executor scores them at once.
 * Parallel workers over one graph (run under ThreadSanitizer by CI), graph
 * invariants read back from summary.json, each budget stopping a run, and
 * one-worker runs reproducible node for node.
 */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "mock_host.h"
#include "run.h"
#include "util.h"

#define TASK BUILDDIR "/examples/tasks/breast_cancer"

static char *tmpdir;
static char saved_path[8192];
static int run_no;

static void
setup(void)
{
	const char *p = getenv("AUTOMLGEN_PLUGIN_PATH");
	char buf[16400];

	tmpdir = aml_test_tmpdir();
	snprintf(saved_path, sizeof saved_path, "%s", p ? p : "");
	snprintf(buf, sizeof buf, "%s:%s/tests/data/plugins", saved_path, SRCDIR);
	setenv("AUTOMLGEN_PLUGIN_PATH", buf, 1);
}

static void
teardown(void)
{
	setenv("AUTOMLGEN_PLUGIN_PATH", saved_path, 1);
	aml_test_rmtree(tmpdir);
	AML_FREE(tmpdir);
}

/* Run the task with kv on top of a fast base; returns summary.json. */
static json_object *
run(const char *const *kv, int expect_best)
{
	char err[AML_ERRLEN] = "", buf[4200];
	aml_config *c = NULL;
	aml_run_result res;
	json_object *sum;
	char *p;
	static const char *const base[] = {
		"executor=synthetic", "log.level=warning", "search.time_limit_s=600",
		"executor.synthetic.fail_rate=0.2",
		/* its submissions are the sample's, which the review would flag */
		"review.enabled=false", NULL,
	};
	size_t i;

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "run.dir=%s", tmpdir);
	ck_assert_int_eq(aml_config_set_arg(c, buf, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "run.name=r%d", run_no++);
	ck_assert_int_eq(aml_config_set_arg(c, buf, err, sizeof err), AML_OK);
	for (i = 0; base[i]; i++)
		ck_assert_int_eq(aml_config_set_arg(c, base[i], err, sizeof err), AML_OK);
	for (; kv && *kv; kv++)
		ck_assert_msg(aml_config_set_arg(c, *kv, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_run(c, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	if (expect_best)
		ck_assert_int_eq(res.has_best, 1);
	p = aml_path_join(res.run_dir, "summary.json");
	sum = json_object_from_file(p);
	ck_assert_ptr_nonnull(sum);
	free(p);
	aml_run_result_free(&res);
	aml_config_free(c);
	return sum;
}

static json_object *
get(json_object *o, const char *k)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no '%s'", k);
	return v;
}

/* Invariants over the summary's node list: parents older than children
 * (no primary cycle, all reachable from the root), references to
 * existing nodes, visits = backpropagations through each node. */
static void
check_graph(json_object *sum, size_t expect_nodes)
{
	json_object *nodes = get(sum, "nodes");
	size_t n = json_object_array_length(nodes), i, j;
	long *visits = calloc(n, sizeof *visits);

	ck_assert_uint_eq(n, expect_nodes);
	for (i = 0; i < n; i++) {
		json_object *x = json_object_array_get_idx(nodes, i), *refs;
		int parent = json_object_get_int(get(x, "parent"));

		ck_assert_int_eq(json_object_get_int(get(x, "id")), (int)i);
		ck_assert_int_lt(parent, (int)i);
		ck_assert_str_ne(json_object_get_string(get(x, "status")), "pending");
		if (json_object_object_get_ex(x, "refs", &refs))
			for (j = 0; j < json_object_array_length(refs); j++) {
				int r = json_object_get_int(get(json_object_array_get_idx(refs, j), "node"));

				ck_assert_int_ge(r, 0);
				ck_assert_int_lt(r, (int)n);
				ck_assert_int_ne(r, (int)i);
			}
	}
	/* visits: each node counts itself and every descendant */
	for (i = n; i-- > 0;) {
		json_object *x = json_object_array_get_idx(nodes, i);
		int parent = json_object_get_int(get(x, "parent"));

		visits[i] += 1;
		ck_assert_int_eq(json_object_get_int(get(x, "visits")), (int)visits[i]);
		if (parent >= 0)
			visits[parent] += visits[i];
	}
	free(visits);
}

static const char *
stop_reason(json_object *sum)
{
	return json_object_get_string(get(sum, "stop_reason"));
}

START_TEST(test_parallel_mcgs)
{
	const char *kv[] = {"search.policy=mcgs", "search.workers=4", "search.max_nodes=60",
			    "search.num_drafts=4", NULL};
	json_object *sum = run(kv, 1), *search = get(sum, "search");

	check_graph(sum, 60);
	ck_assert_int_eq(json_object_get_int(get(search, "workers")), 4);
	ck_assert_msg(strstr(stop_reason(sum), "node budget") != NULL, "%s", stop_reason(sum));
	json_object_put(sum);
}
END_TEST

START_TEST(test_policies_shapes)
{
	static const char *const pol[] = {"search.policy=mcts", "search.policy=greedy"};
	const char *kv[] = {pol[_i], "search.workers=2", "search.max_nodes=30", NULL};
	json_object *sum = run(kv, 1), *nodes = get(sum, "nodes");
	size_t i;

	for (i = 0; i < json_object_array_length(nodes); i++) {
		json_object *x = json_object_array_get_idx(nodes, i), *refs;
		const char *op = json_object_get_string(get(x, "operator"));

		/* the tree-only policies never show nodes across branches */
		ck_assert(!json_object_object_get_ex(x, "refs", &refs));
		ck_assert(strcmp(op, "fuse") != 0 && strcmp(op, "recall") != 0);
	}
	json_object_put(sum);
}
END_TEST

/* Two runs made the same nodes, in the same order. */
static void
assert_same_nodes(json_object *a, json_object *b)
{
	json_object *na = get(a, "nodes"), *nb = get(b, "nodes");
	size_t i;

	ck_assert_uint_eq(json_object_array_length(na), json_object_array_length(nb));
	for (i = 0; i < json_object_array_length(na); i++) {
		json_object *x = json_object_array_get_idx(na, i), *y = json_object_array_get_idx(nb, i);

		ck_assert_int_eq(json_object_get_int(get(x, "parent")), json_object_get_int(get(y, "parent")));
		ck_assert_str_eq(json_object_get_string(get(x, "operator")),
				 json_object_get_string(get(y, "operator")));
		ck_assert_str_eq(json_object_get_string(get(x, "status")),
				 json_object_get_string(get(y, "status")));
		ck_assert_str_eq(json_object_get_string(get(x, "score")) ? json_object_get_string(get(x, "score")) : "-",
				 json_object_get_string(get(y, "score")) ? json_object_get_string(get(y, "score")) : "-");
	}
}

/* One worker and a fixed seed: the same nodes, in the same order. */
START_TEST(test_determinism)
{
	const char *kv[] = {"search.policy=mcgs", "search.workers=1", "search.max_nodes=40",
			    "run.seed=7", NULL};
	json_object *a = run(kv, 1), *b = run(kv, 1);

	assert_same_nodes(a, b);
	json_object_put(a);
	json_object_put(b);
}
END_TEST

/* An offline mcgs run where half the scripts fail uses all five
 * operators: drafts, improvements, debugs of failed ones, recalls of
 * stagnating branches and a fusion of branches. */
START_TEST(test_all_five_operators)
{
	const char *kv[] = {"search.policy=mcgs", "search.workers=1", "search.max_nodes=40",
			    "run.seed=7", "executor.synthetic.fail_rate=0.5", NULL};
	static const char *const ops[] = {"draft", "debug", "improve", "fuse", "recall"};
	json_object *a = run(kv, 1), *nodes = get(a, "nodes");
	size_t i, k, debug_deep = 0;

	check_graph(a, 40);
	for (i = 0; i < json_object_array_length(nodes); i++) {
		json_object *x = json_object_array_get_idx(nodes, i);
		int parent = json_object_get_int(get(x, "parent"));

		/* a debug below the drafts: of a failed improvement */
		if (parent >= 0 && strcmp(json_object_get_string(get(x, "operator")), "debug") == 0
		    && json_object_get_int(get(json_object_array_get_idx(nodes, (size_t)parent),
					       "parent")) >= 0)
			debug_deep++;
	}
	ck_assert_uint_ge(debug_deep, 1);
	for (k = 0; k < AML_ARRAY_LEN(ops); k++) {
		int seen = 0;

		for (i = 0; i < json_object_array_length(nodes); i++)
			seen |= strcmp(json_object_get_string(get(json_object_array_get_idx(nodes, i),
								  "operator")), ops[k]) == 0;
		ck_assert_msg(seen, "no %s node in the graph", ops[k]);
	}
	json_object_put(a);
}
END_TEST

/* A recorded run (every operator: the run of test_all_five_operators)
 * replayed from its cassette makes the same graph with the same LLM
 * accounting; a cassette that runs out turns the rest of the
 * nodes into counted operator failures, and the run still ends well. */
START_TEST(test_record_replay)
{
	char cas[4200], rec[4300], play[4300], cut[4300], *text, *p, err[AML_ERRLEN] = "";
	const char *kv_rec[] = {"search.policy=mcgs", "search.workers=1", "search.max_nodes=40",
				"run.seed=7", "executor.synthetic.fail_rate=0.5", rec, NULL};
	const char *kv_play[] = {"search.policy=mcgs", "search.workers=1", "search.max_nodes=40",
				 "run.seed=7", "executor.synthetic.fail_rate=0.5", "provider=replay", play,
				 NULL};
	const char *kv_cut[] = {"search.policy=mcgs", "search.workers=1", "search.max_nodes=40",
				"run.seed=7", "executor.synthetic.fail_rate=0.5", "provider=replay", cut,
				NULL};
	json_object *a, *b, *c, *la, *lb, *nodes;
	size_t len, i, lines = 0, failed = 0;

	snprintf(cas, sizeof cas, "%s/cassette.jsonl", tmpdir);
	snprintf(rec, sizeof rec, "llm.record=%s", cas);
	snprintf(play, sizeof play, "provider.cassette=%s", cas);
	a = run(kv_rec, 1);
	b = run(kv_play, 1);
	assert_same_nodes(a, b);
	la = get(a, "llm");
	lb = get(b, "llm");
	ck_assert_str_eq(json_object_get_string(get(b, "provider")), "replay");
	ck_assert_int_eq(json_object_get_int(get(la, "calls")), json_object_get_int(get(lb, "calls")));
	ck_assert_int_eq(json_object_get_int(get(la, "tokens_in")), json_object_get_int(get(lb, "tokens_in")));
	ck_assert_int_eq(json_object_get_int(get(lb, "failures")), 0);
	ck_assert_str_eq(json_object_get_string(get(la, "cassette")), cas);
	/* one line per call */
	ck_assert_msg(aml_read_file(cas, 64 << 20, &text, &len, err, sizeof err) == AML_OK, "%s", err);
	for (p = text; (p = strchr(p, '\n')) != NULL; p++)
		lines++;
	ck_assert_int_eq((int)lines, json_object_get_int(get(la, "calls")));

	/* the first 5 answers only */
	for (p = text, i = 0; i < 5; i++)
		p = strchr(p, '\n') + 1;
	snprintf(cut, sizeof cut, "%s/cut.jsonl", tmpdir);
	ck_assert_int_eq(aml_write_file(cut, text, (size_t)(p - text), err, sizeof err), AML_OK);
	snprintf(cut, sizeof cut, "provider.cassette=%s/cut.jsonl", tmpdir);
	c = run(kv_cut, 1);
	check_graph(c, 40);
	nodes = get(c, "nodes");
	for (i = 0; i < json_object_array_length(nodes); i++) {
		json_object *x = json_object_array_get_idx(nodes, i);

		if (strcmp(json_object_get_string(get(x, "status")), "operator_failed") == 0) {
			failed++;
			ck_assert_msg(strstr(json_object_get_string(get(x, "reason")),
					     "no recorded answer left in"), "%s",
				      json_object_get_string(get(x, "reason")));
		}
	}
	ck_assert_uint_eq(failed, 35);
	ck_assert_int_eq(json_object_get_int(get(get(c, "llm"), "failures")), 35);
	free(text);
	json_object_put(a);
	json_object_put(b);
	json_object_put(c);
}
END_TEST

START_TEST(test_time_budget)
{
	const char *kv[] = {"search.policy=mcgs", "search.workers=2", "search.max_nodes=1000",
			    "search.time_limit_s=2", "executor.synthetic.latency_s=0.3", NULL};
	json_object *sum = run(kv, 0);

	ck_assert_msg(strstr(stop_reason(sum), "time budget") != NULL, "%s", stop_reason(sum));
	ck_assert_int_lt(json_object_get_int(get(sum, "nodes_total")), 1000);
	json_object_put(sum);
}
END_TEST

START_TEST(test_token_and_money_budgets)
{
	/* tp-good answers without code and reports 100 + 50 tokens a call */
	const char *tok[] = {"search.policy=drafts", "search.workers=1", "search.num_drafts=50",
			     "provider=tp-good", "provider.tp-good.tokens=100",
			     "search.max_tokens=400", NULL};
	const char *money[] = {"search.policy=drafts", "search.workers=1", "search.num_drafts=50",
			       "provider=tp-good", "provider.tp-good.tokens=100",
			       "pricing.input_per_mtok=10000", "pricing.output_per_mtok=20000",
			       "search.max_cost=5", NULL};
	json_object *sum = run(tok, 0);

	/* 150 tokens a node: the budget is spent after the third */
	ck_assert_msg(strstr(stop_reason(sum), "token budget") != NULL, "%s", stop_reason(sum));
	ck_assert_int_eq(json_object_get_int(get(sum, "nodes_total")), 3);
	ck_assert_int_eq(json_object_get_int(get(get(sum, "llm"), "tokens_in")), 300);
	json_object_put(sum);
	/* 100 * 10000/1e6 + 50 * 20000/1e6 = 2 a call: spent after the third */
	sum = run(money, 0);
	ck_assert_msg(strstr(stop_reason(sum), "money budget") != NULL, "%s", stop_reason(sum));
	ck_assert_int_eq(json_object_get_int(get(sum, "nodes_total")), 3);
	ck_assert_double_eq_tol(json_object_get_double(get(get(sum, "llm"), "cost")), 6.0, 1e-9);
	json_object_put(sum);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("search");
	TCase *tc = tcase_create("search");

	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_parallel_mcgs);
	tcase_add_loop_test(tc, test_policies_shapes, 0, 2);
	tcase_add_test(tc, test_determinism);
	tcase_add_test(tc, test_all_five_operators);
	tcase_add_test(tc, test_record_replay);
	tcase_add_test(tc, test_time_budget);
	tcase_add_test(tc, test_token_and_money_budgets);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
