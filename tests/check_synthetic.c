/*
 * check_synthetic.c — the synthetic executor alone, under the mock host:
 * every failure it can act out (forced by the recipe and drawn by
 * fail_rate), the score function's promises (deterministic, smooth toward
 * a parameter's hidden optimum, bonuses for ensembles and preprocessing,
 * both metric directions), its latency cut short when the run is
 * stopping (the request's cancel flag), and several workers calling it
 * at once.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_host.h"
#include "util.h"

#define SAMPLE "id,target\n1,0.5\n2,0.5\n3,0.5\n"
#define RECIPE(json) "# automlgen-recipe: " json "\nimport pandas as pd\nprint('hello')\n"
#define RF RECIPE("{\"model\":\"tabular.random_forest\",\"params\":{\"n_estimators\":300," \
		  "\"max_features\":0.5,\"criterion\":\"gini\"},\"preprocess\":[\"tabular.impute\"]," \
		  "\"strategy\":[],\"seed\":1}")

static const aml_plugin_desc *desc;
static char *tmpdir, *workdir;
static aml_task task;

static void
setup(void)
{
	char err[AML_ERRLEN] = "";
	char *input, *sample;

	desc = mock_plugin_open(mock_plugin_library("synthetic"));
	tmpdir = aml_test_tmpdir();
	workdir = aml_path_join(tmpdir, "node");
	input = aml_path_join(workdir, "input");
	sample = aml_path_join(input, "sample_submission.csv");
	ck_assert_int_eq(aml_mkdirs(input, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_write_file(sample, SAMPLE, strlen(SAMPLE), err, sizeof err), AML_OK);
	free(input);
	free(sample);
	memset(&task, 0, sizeof task);
	task.name = "toy";
	task.public_dir = tmpdir;
	task.description = "";
	task.train_file = "train.csv";
	task.test_file = "test.csv";
	task.sample_file = "sample_submission.csv";
	task.type = AML_TASK_BINARY;
	task.output = AML_OUT_PROBA;
	task.metric = "roc_auc";
	task.higher_is_better = 1;
	mock_host_set_task(&task);
	mock_host_set_params(NULL);
}

static void
teardown(void)
{
	mock_host_set_task(NULL);
	mock_host_set_params(NULL);
	aml_test_rmtree(tmpdir);
	AML_FREE(workdir);
	AML_FREE(tmpdir);
}

/* Initialise the plugin with parameters kv ("key", "value", ..., NULL). */
static void *
start(const char *const *kv)
{
	char err[AML_ERRLEN] = "";
	void *state = NULL;

	mock_host_set_params(kv);
	ck_assert_msg(desc->init(mock_host(), NULL, &state, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_ptr_nonnull(state);
	return state;
}

/* The text of dir/rel (transferred). */
static char *
slurp(const char *dir, const char *rel)
{
	char *p = aml_path_join(dir, rel), *text = NULL;

	ck_assert_msg(aml_read_file(p, 0, &text, NULL, NULL, 0) == AML_OK, "cannot read %s", p);
	free(p);
	return text;
}

/* Write code as dir/solution.py and run it as node id. */
static int
run_in(void *state, const char *dir, const char *code, uint32_t id, double timeout,
       aml_exec_result *res, char *err, size_t errlen)
{
	char *script = aml_path_join(dir, "solution.py");
	aml_exec_request req;
	char werr[AML_ERRLEN];

	ck_assert_int_eq(aml_write_file(script, code, strlen(code), werr, sizeof werr), AML_OK);
	free(script);
	memset(&req, 0, sizeof req);
	req.workdir = dir;
	req.script = "solution.py";
	req.timeout_s = timeout;
	req.output_cap = 1 << 20;
	req.node_id = id;
	return desc->ops ? ((const aml_executor_ops *)desc->ops)->run(state, &req, res, err, errlen)
			 : AML_EPLUGIN;
}

/* Run code in the fixture's workdir; must succeed as an executor call. */
static void
run(void *state, const char *code, uint32_t id, aml_exec_result *res)
{
	char err[AML_ERRLEN] = "";

	ck_assert_msg(run_in(state, workdir, code, id, 600, res, err, sizeof err) == AML_OK, "%s", err);
}

/* The score on the last "Final Validation Score:" line of dir's stdout;
 * 0 when there is none. */
static int
score_in(const char *dir, double *out)
{
	char *text = slurp(dir, "stdout.txt");
	const char *p, *last = NULL;

	for (p = text; (p = strstr(p, "Final Validation Score: ")) != NULL; p++)
		last = p;
	if (last != NULL)
		*out = strtod(last + strlen("Final Validation Score: "), NULL);
	free(text);
	return last != NULL;
}

static double
score_of(void *state, const char *code)
{
	aml_exec_result res;
	double s = NAN;

	run(state, code, 7, &res);
	ck_assert_int_eq(res.outcome, AML_EXEC_OK);
	free(res.detail);
	ck_assert_msg(score_in(workdir, &s), "no score line");
	return s;
}

/* Number of data rows of the workdir's submission; -1 when absent. */
static int
submission_rows(void)
{
	char *p = aml_path_join(workdir, "submission/submission.csv"), *text = NULL;
	int rows = -1;

	if (aml_read_file(p, 0, &text, NULL, NULL, 0) == AML_OK) {
		rows = 0;
		for (const char *c = text; *c; c++)
			rows += *c == '\n';
		rows -= 1; /* the header */
	}
	free(text);
	free(p);
	return rows;
}

START_TEST(test_success)
{
	void *st = start(NULL);
	aml_exec_result res;
	char *out, *err, *sub;
	double s;

	run(st, RF, 0, &res);
	ck_assert_int_eq(res.outcome, AML_EXEC_OK);
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert(res.wall_s >= 0 && res.wall_s < 5);
	ck_assert_ptr_nonnull(res.detail);
	out = slurp(workdir, "stdout.txt");
	err = slurp(workdir, "stderr.txt");
	sub = slurp(workdir, "submission/submission.csv");
	ck_assert_msg(score_in(workdir, &s), "%s", out);
	ck_assert(s > 0 && s < 1);
	/* the score line is the last line */
	ck_assert_msg(strstr(out, "Final Validation Score: ") != NULL &&
		      strchr(strstr(out, "Final Validation Score: "), '\n')[1] == '\0', "%s", out);
	ck_assert_str_eq(err, "");
	ck_assert_str_eq(sub, SAMPLE);
	ck_assert_uint_eq(res.output_bytes, strlen(out));
	free(out);
	free(err);
	free(sub);
	free(res.detail);
	desc->fini(st);
}
END_TEST

START_TEST(test_no_recipe)
{
	void *st = start(NULL);
	aml_exec_result res;
	char *err;

	run(st, "import pandas\nprint('no recipe here')\n", 0, &res);
	ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
	ck_assert_int_eq(res.exit_code, 1);
	err = slurp(workdir, "stderr.txt");
	ck_assert_msg(strncmp(err, "Traceback (most recent call last):\n", 35) == 0, "%s", err);
	ck_assert_msg(strstr(err, "\nSyntaxError: ") != NULL, "%s", err);
	ck_assert_msg(strstr(res.detail, "SyntaxError") != NULL, "%s", res.detail);
	ck_assert_int_eq(submission_rows(), -1);
	free(err);
	free(res.detail);
	/* a recipe line that is not JSON, and one without a model */
	run(st, "# automlgen-recipe: {model: rf\n", 0, &res);
	ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
	free(res.detail);
	err = slurp(workdir, "stderr.txt");
	ck_assert_msg(strstr(err, "SyntaxError: ") != NULL, "%s", err);
	free(err);
	run(st, RECIPE("{\"params\":{}}"), 0, &res);
	ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
	err = slurp(workdir, "stderr.txt");
	ck_assert_msg(strstr(err, "KeyError: 'model'") != NULL, "%s", err);
	free(err);
	free(res.detail);
	desc->fini(st);
}
END_TEST

/* Each failure, forced three ways: the recipe's "fail", the model's
 * params' "fail", an ensemble member's params' "fail". */
static const char *const forced_codes[][3] = {
	{RECIPE("{\"model\":\"m\",\"params\":{},\"fail\":\"crash\"}"),
	 RECIPE("{\"model\":\"m\",\"params\":{\"fail\":\"crash\"}}"),
	 RECIPE("{\"model\":\"m\",\"models\":[{\"model\":\"n\",\"params\":{\"fail\":\"crash\"}}]}")},
	{RECIPE("{\"model\":\"m\",\"params\":{},\"fail\":\"timeout\"}"),
	 RECIPE("{\"model\":\"m\",\"params\":{\"fail\":\"timeout\"}}"),
	 RECIPE("{\"model\":\"m\",\"models\":[{\"model\":\"n\",\"params\":{\"fail\":\"timeout\"}}]}")},
	{RECIPE("{\"model\":\"m\",\"params\":{},\"fail\":\"no_score\"}"),
	 RECIPE("{\"model\":\"m\",\"params\":{\"fail\":\"no_score\"}}"),
	 RECIPE("{\"model\":\"m\",\"models\":[{\"model\":\"n\",\"params\":{\"fail\":\"no_score\"}}]}")},
	{RECIPE("{\"model\":\"m\",\"params\":{},\"fail\":\"invalid_submission\"}"),
	 RECIPE("{\"model\":\"m\",\"params\":{\"fail\":\"invalid_submission\"}}"),
	 RECIPE("{\"model\":\"m\",\"models\":[{\"model\":\"n\",\"params\":{\"fail\":\"invalid_submission\"}}]}")},
};

START_TEST(test_forced_failures)
{
	void *st = start(NULL);
	int way;

	for (way = 0; way < 3; way++) {
		const char *code = forced_codes[_i][way];
		char errbuf[AML_ERRLEN] = "";
		aml_exec_result res;
		char *out, *err;
		double s, t0 = aml_now();

		ck_assert_int_eq(run_in(st, workdir, code, 1, 123, &res, errbuf, sizeof errbuf), AML_OK);
		out = slurp(workdir, "stdout.txt");
		err = slurp(workdir, "stderr.txt");
		switch (_i) {
		case 0: /* crash */
			ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
			ck_assert_int_eq(res.exit_code, 1);
			ck_assert_msg(strncmp(err, "Traceback (most recent call last):\n", 35) == 0, "%s", err);
			ck_assert_msg(strstr(err, "RuntimeError: synthetic crash") != NULL, "%s", err);
			ck_assert(!score_in(workdir, &s));
			break;
		case 1: /* timeout: reported at the limit, not slept */
			ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
			ck_assert_int_eq(res.term_signal, SIGKILL);
			ck_assert(res.wall_s == 123.0);
			ck_assert(aml_now() - t0 < 5);
			ck_assert_msg(strstr(res.detail, "timed out after 123 s") != NULL, "%s", res.detail);
			ck_assert(!score_in(workdir, &s));
			break;
		case 2: /* no_score */
			ck_assert_int_eq(res.outcome, AML_EXEC_OK);
			ck_assert(!score_in(workdir, &s));
			ck_assert_int_eq(submission_rows(), 3);
			ck_assert_str_eq(err, "");
			break;
		case 3: /* invalid_submission: a score, one row short */
			ck_assert_int_eq(res.outcome, AML_EXEC_OK);
			ck_assert(score_in(workdir, &s));
			ck_assert_int_eq(submission_rows(), 2);
			ck_assert_str_eq(err, "");
			break;
		}
		free(out);
		free(err);
		free(res.detail);
		/* nothing is left over for the next way */
		{
			char *sub = aml_path_join(workdir, "submission/submission.csv");

			remove(sub);
			free(sub);
		}
	}
	desc->fini(st);
}
END_TEST

START_TEST(test_unknown_forced_failure)
{
	void *st = start(NULL);
	aml_exec_result res;
	char *err;

	run(st, RECIPE("{\"model\":\"m\",\"params\":{\"fail\":\"explode\"}}"), 0, &res);
	ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
	err = slurp(workdir, "stderr.txt");
	ck_assert_msg(strstr(err, "ValueError: unknown synthetic failure 'explode'") != NULL, "%s", err);
	free(err);
	free(res.detail);
	/* "none" forces nothing */
	ck_assert(score_of(st, RECIPE("{\"model\":\"m\",\"params\":{\"fail\":\"none\"}}")) > 0);
	desc->fini(st);
}
END_TEST

START_TEST(test_deterministic)
{
	void *st = start(NULL);
	aml_exec_result res;
	double a = score_of(st, RF), b = score_of(st, RF), c;

	ck_assert(a == b);
	/* the node id does not change the score, only which nodes fail */
	run(st, RF, 99, &res);
	free(res.detail);
	ck_assert(score_in(workdir, &c));
	ck_assert(a == c);
	desc->fini(st);
	/* nor does a new instance of the plugin */
	st = start(NULL);
	ck_assert(score_of(st, RF) == a);
	desc->fini(st);
}
END_TEST

/* The hidden optimum of one parameter, from explain's output. */
static double
optimum_of(void *st, const char *model, const char *param)
{
	char code[512], key[128];
	char *out;
	const char *p;
	double opt;

	snprintf(code, sizeof code, RECIPE("{\"model\":\"%s\",\"params\":{\"%s\":1}}"), model, param);
	(void)score_of(st, code);
	out = slurp(workdir, "stdout.txt");
	snprintf(key, sizeof key, "  %s = 1 optimum ", param);
	p = strstr(out, key);
	ck_assert_msg(p != NULL, "no '%s' in %s", key, out);
	opt = strtod(p + strlen(key), NULL);
	free(out);
	ck_assert(opt >= 0.001 && opt <= 3163);
	return opt;
}

static double
score_at(void *st, const char *model, const char *param, double v)
{
	char code[512];

	snprintf(code, sizeof code, RECIPE("{\"model\":\"%s\",\"params\":{\"%s\":%.17g}}"), model,
		 param, v);
	return score_of(st, code);
}

START_TEST(test_nearer_optimum_scores_better)
{
	const char *kv[] = {"explain", "true", "noise", "0", NULL};
	void *st = start(kv);
	const char *models[] = {"tabular.random_forest", "tabular.xgboost", "tabular.ridge"};
	size_t i;

	for (i = 0; i < AML_ARRAY_LEN(models); i++) {
		double opt = optimum_of(st, models[i], "learning_rate");
		double at = score_at(st, models[i], "learning_rate", opt);
		double near_up = score_at(st, models[i], "learning_rate", opt * 1.5);
		double far_up = score_at(st, models[i], "learning_rate", opt * 20);
		double near_down = score_at(st, models[i], "learning_rate", opt / 1.5);
		double far_down = score_at(st, models[i], "learning_rate", opt / 20);

		ck_assert_msg(at > near_up && near_up > far_up, "%s: %g %g %g", models[i], at,
			      near_up, far_up);
		ck_assert_msg(at > near_down && near_down > far_down, "%s: %g %g %g", models[i], at,
			      near_down, far_down);
		/* smooth and symmetric in log space */
		ck_assert(fabs(near_up - near_down) < 2e-6);
		/* 0 and negatives earn nothing */
		ck_assert(score_at(st, models[i], "learning_rate", 0) < far_down);
	}
	desc->fini(st);
}
END_TEST

START_TEST(test_bonuses)
{
	const char *kv[] = {"noise", "0", NULL};
	void *st = start(kv);
	double one = score_of(st, RECIPE("{\"model\":\"a\",\"params\":{}}"));
	double with_items = score_of(st, RECIPE("{\"model\":\"a\",\"params\":{},"
						"\"preprocess\":[\"p1\",\"p2\"],\"strategy\":[\"s1\"]}"));
	double dup_items = score_of(st, RECIPE("{\"model\":\"a\",\"params\":{},"
					       "\"preprocess\":[\"p1\",\"p2\"],\"strategy\":[\"s1\",\"p1\"]}"));
	double other = score_of(st, RECIPE("{\"model\":\"b\",\"params\":{}}"));
	double both = score_of(st, RECIPE("{\"model\":\"a\",\"params\":{},"
					  "\"models\":[{\"model\":\"b\",\"params\":{}}]}"));
	double same_twice = score_of(st, RECIPE("{\"model\":\"a\",\"params\":{},"
						"\"models\":[{\"model\":\"a\",\"params\":{}}]}"));

	ck_assert(with_items > one + 0.015 - 1e-6 && with_items < one + 0.045 + 1e-6);
	ck_assert(dup_items == with_items);
	ck_assert(fabs(both - (fmax(one, other) + 0.02)) < 2e-6);
	ck_assert(same_twice == one);
	desc->fini(st);
}
END_TEST

START_TEST(test_minimize)
{
	void *st = start(NULL);
	double up = score_of(st, RF), down;

	task.higher_is_better = 0;
	task.metric = "rmse";
	down = score_of(st, RF);
	ck_assert_msg(fabs(up + down - 1) < 2e-6, "%g + %g", up, down);
	desc->fini(st);
}
END_TEST

/* fail_rate draws about the right share of failures, from fail_modes,
 * deterministically. */
START_TEST(test_fail_rate)
{
	const char *kv[] = {"fail_rate", "0.3", "fail_modes", "crash, no_score", NULL};
	const char *kv_other_seed[] = {"fail_rate", "0.3", "fail_modes", "crash, no_score",
				       "seed", "5", NULL};
	void *st = start(kv), *st2;
	int crashed = 0, no_score = 0, ok = 0, differ = 0, i;
	int outcome[200];

	for (i = 0; i < 200; i++) {
		aml_exec_result res;
		double s;

		run(st, RF, (uint32_t)i, &res);
		free(res.detail);
		outcome[i] = res.outcome == AML_EXEC_CRASHED ? 1 : !score_in(workdir, &s) ? 2 : 0;
		crashed += outcome[i] == 1;
		no_score += outcome[i] == 2;
		ok += outcome[i] == 0;
	}
	ck_assert_msg(crashed + no_score >= 40 && crashed + no_score <= 80,
		      "%d crashed, %d without a score of 200", crashed, no_score);
	ck_assert(crashed >= 10 && no_score >= 10);
	/* the same node again fails the same way */
	for (i = 0; i < 20; i++) {
		aml_exec_result res;
		double s;

		run(st, RF, (uint32_t)i, &res);
		free(res.detail);
		ck_assert_int_eq(outcome[i], res.outcome == AML_EXEC_CRASHED ? 1
				 : !score_in(workdir, &s) ? 2 : 0);
	}
	desc->fini(st);
	/* another seed picks other nodes */
	st2 = start(kv_other_seed);
	for (i = 0; i < 50; i++) {
		aml_exec_result res;
		double s;

		run(st2, RF, (uint32_t)i, &res);
		free(res.detail);
		differ += outcome[i] != (res.outcome == AML_EXEC_CRASHED ? 1
					 : !score_in(workdir, &s) ? 2 : 0);
	}
	ck_assert_int_gt(differ, 0);
	desc->fini(st2);
}
END_TEST

START_TEST(test_fail_rate_bounds)
{
	const char *all[] = {"fail_rate", "1", "fail_modes", "timeout", NULL};
	void *st = start(all);
	aml_exec_result res;
	int i;

	for (i = 0; i < 10; i++) {
		run(st, RF, (uint32_t)i, &res);
		ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
		free(res.detail);
	}
	desc->fini(st);
	st = start(NULL); /* fail_rate 0 by default */
	for (i = 0; i < 10; i++) {
		run(st, RF, (uint32_t)i, &res);
		ck_assert_int_eq(res.outcome, AML_EXEC_OK);
		free(res.detail);
	}
	desc->fini(st);
}
END_TEST

START_TEST(test_latency)
{
	const char *kv[] = {"latency_s", "0.2", NULL};
	void *st = start(kv);
	char err[AML_ERRLEN] = "";
	aml_exec_result res;
	double t0 = aml_now();

	run(st, RF, 0, &res);
	ck_assert_int_eq(res.outcome, AML_EXEC_OK);
	ck_assert(aml_now() - t0 >= 0.19 && res.wall_s >= 0.19);
	free(res.detail);
	/* a latency above the limit times out at the limit */
	t0 = aml_now();
	ck_assert_int_eq(run_in(st, workdir, RF, 0, 0.05, &res, err, sizeof err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
	ck_assert(res.wall_s >= 0.04 && res.wall_s < 0.19);
	free(res.detail);
	desc->fini(st);
}
END_TEST

/* Sets *flag after delay_s, as the core's Ctrl-C handler would. */
struct canceller {
	volatile int flag;
	double delay_s;
};

static void *
canceller_main(void *arg)
{
	struct canceller *c = arg;

	usleep((useconds_t)(c->delay_s * 1e6));
	__atomic_store_n(&c->flag, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* The latency sleep ends when the run is stopping: CANCELLED, long
 * before the latency (and the limit); a flag already set does nothing. */
START_TEST(test_cancel)
{
	static const volatile int stopping = 1;
	const char *kv[] = {"latency_s", "60", NULL};
	void *st = start(kv);
	char *script = aml_path_join(workdir, "solution.py"), *out, *sub;
	char werr[AML_ERRLEN] = "";
	struct canceller c = {0, 0.3};
	aml_exec_request req;
	aml_exec_result res;
	pthread_t t;
	double t0;
	int rc;

	ck_assert_int_eq(aml_write_file(script, RF, strlen(RF), werr, sizeof werr), AML_OK);
	memset(&req, 0, sizeof req);
	req.workdir = workdir;
	req.script = "solution.py";
	req.timeout_s = 600;
	req.node_id = 3;
	req.cancel = &c.flag;
	t0 = aml_now();
	ck_assert_int_eq(pthread_create(&t, NULL, canceller_main, &c), 0);
	rc = ((const aml_executor_ops *)desc->ops)->run(st, &req, &res, werr, sizeof werr);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_msg(rc == AML_OK, "%s", werr);
	ck_assert_msg(aml_now() - t0 < 30, "run took %g s", aml_now() - t0);
	ck_assert_int_eq(res.outcome, AML_EXEC_CANCELLED);
	ck_assert_str_eq(res.detail, "cancelled: the run is stopping");
	ck_assert(res.wall_s >= 0.2 && res.wall_s < 30);
	out = slurp(workdir, "stdout.txt");
	ck_assert_str_eq(out, "synthetic: model tabular.random_forest, fitting...\n");
	free(out);
	sub = aml_path_join(workdir, "submission/submission.csv");
	ck_assert_msg(!aml_is_file(sub), "a cancelled run left a submission");
	free(res.detail);

	/* set before the call: nothing is done at all */
	out = aml_path_join(workdir, "stdout.txt");
	ck_assert_int_eq(unlink(out), 0);
	req.cancel = &stopping;
	t0 = aml_now();
	rc = ((const aml_executor_ops *)desc->ops)->run(st, &req, &res, werr, sizeof werr);
	ck_assert_msg(rc == AML_OK, "%s", werr);
	ck_assert_msg(aml_now() - t0 < 30, "run took %g s", aml_now() - t0);
	ck_assert_int_eq(res.outcome, AML_EXEC_CANCELLED);
	ck_assert_str_eq(res.detail, "cancelled: the run is stopping (not started)");
	ck_assert_msg(!aml_is_file(out), "a run not started wrote its output");
	free(out);
	free(res.detail);
	free(sub);
	free(script);
	desc->fini(st);
}
END_TEST

static const struct {
	const char *key, *value, *msg;
} bad_params[] = {
	{"fail_modes", "crash,explode", "unknown failure 'explode'"},
	{"fail_modes", " , ", "names no failure"},
	{"fail_rate", "1.5", "fail_rate must be a number from 0 to 1"},
	{"latency_s", "-1", "latency_s must be"},
	{"noise", "lots", "noise must be"},
	{"explain", "maybe", "explain must be true or false"},
	{"seed", "x", "seed must be an integer"},
};

START_TEST(test_bad_params)
{
	const char *kv[] = {bad_params[_i].key, bad_params[_i].value, NULL};
	char err[AML_ERRLEN] = "";
	void *state = NULL;

	mock_host_set_params(kv);
	ck_assert_int_eq(desc->init(mock_host(), NULL, &state, err, sizeof err), AML_EINVAL);
	ck_assert_ptr_null(state);
	ck_assert_msg(strstr(err, bad_params[_i].msg) != NULL, "'%s' lacks '%s'", err,
		      bad_params[_i].msg);
	ck_assert_msg(strncmp(err, "executor synthetic: ", 20) == 0, "%s", err);
}
END_TEST

START_TEST(test_refusals)
{
	void *st = start(NULL);
	char err[AML_ERRLEN] = "";
	aml_exec_request req;
	aml_exec_result res;

	/* no task: nothing to copy as the submission */
	mock_host_set_task(NULL);
	ck_assert_int_eq(run_in(st, workdir, RF, 0, 60, &res, err, sizeof err), AML_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "no task") != NULL, "%s", err);
	mock_host_set_task(&task);
	/* a missing script, a missing workdir */
	memset(&req, 0, sizeof req);
	req.workdir = workdir;
	req.script = "missing.py";
	req.timeout_s = 60;
	ck_assert_int_eq(((const aml_executor_ops *)desc->ops)->run(st, &req, &res, err, sizeof err),
			 AML_ENOTFOUND);
	ck_assert_msg(strstr(err, "missing.py") != NULL, "%s", err);
	req.workdir = "/nonexistent/dir";
	ck_assert_int_eq(((const aml_executor_ops *)desc->ops)->run(st, &req, &res, err, sizeof err),
			 AML_ENOTFOUND);
	/* no sample submission in input/ */
	task.sample_file = "nope.csv";
	ck_assert_int_eq(run_in(st, workdir, RF, 0, 60, &res, err, sizeof err), AML_ENOTFOUND);
	ck_assert_msg(strstr(err, "nope.csv") != NULL, "%s", err);
	ck_assert_ptr_null(res.detail);
	desc->fini(st);
}
END_TEST

/* Several workers at once, each in its own workdir: the same answers as
 * one at a time. */
#define N_THREADS 8
#define N_PER_THREAD 20

struct worker {
	void *state;
	char *dir;
	int index;
	double scores[N_PER_THREAD];
	int outcomes[N_PER_THREAD];
	int failed;
};

static void
worker_code(int t, int i, char *buf, size_t len)
{
	snprintf(buf, len, RECIPE("{\"model\":\"m%d\",\"params\":{\"alpha\":%d}}"), i % 5, t * 100 + i);
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	char code[512], err[AML_ERRLEN];
	int i;

	for (i = 0; i < N_PER_THREAD; i++) {
		aml_exec_result res;
		aml_exec_request req;
		char *script = aml_path_join(w->dir, "solution.py");

		worker_code(w->index, i, code, sizeof code);
		if (aml_write_file(script, code, strlen(code), err, sizeof err) != AML_OK)
			w->failed = 1;
		free(script);
		memset(&req, 0, sizeof req);
		req.workdir = w->dir;
		req.script = "solution.py";
		req.timeout_s = 60;
		req.node_id = (uint32_t)(w->index * 1000 + i);
		if (((const aml_executor_ops *)desc->ops)->run(w->state, &req, &res, err, sizeof err) != AML_OK) {
			w->failed = 1;
			continue;
		}
		w->outcomes[i] = res.outcome;
		w->scores[i] = NAN;
		if (res.outcome == AML_EXEC_OK) {
			char *p = aml_path_join(w->dir, "stdout.txt"), *text = NULL;
			const char *s;

			if (aml_read_file(p, 0, &text, NULL, NULL, 0) == AML_OK &&
			    (s = strstr(text, "Final Validation Score: ")) != NULL)
				w->scores[i] = strtod(s + 24, NULL);
			free(text);
			free(p);
		}
		free(res.detail);
	}
	return NULL;
}

START_TEST(test_parallel)
{
	const char *kv[] = {"fail_rate", "0.2", "latency_s", "0.002", NULL};
	void *st = start(kv);
	struct worker w[N_THREADS];
	pthread_t th[N_THREADS];
	char err[AML_ERRLEN];
	int t, i;

	for (t = 0; t < N_THREADS; t++) {
		char name[32];

		memset(&w[t], 0, sizeof w[t]);
		w[t].state = st;
		w[t].index = t;
		snprintf(name, sizeof name, "w%d", t);
		w[t].dir = aml_path_join(tmpdir, name);
		ck_assert_int_eq(aml_mkdirs(w[t].dir, err, sizeof err), AML_OK);
		{
			char *in = aml_path_join(w[t].dir, "input");

			ck_assert_int_eq(aml_mkdirs(in, err, sizeof err), AML_OK);
			free(in);
			in = aml_path_join(w[t].dir, "input/sample_submission.csv");
			ck_assert_int_eq(aml_write_file(in, SAMPLE, strlen(SAMPLE), err, sizeof err), AML_OK);
			free(in);
		}
	}
	for (t = 0; t < N_THREADS; t++)
		ck_assert_int_eq(pthread_create(&th[t], NULL, worker_main, &w[t]), 0);
	for (t = 0; t < N_THREADS; t++)
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
	/* the same runs one at a time, in the fixture's workdir */
	for (t = 0; t < N_THREADS; t++) {
		ck_assert(!w[t].failed);
		for (i = 0; i < N_PER_THREAD; i++) {
			char code[512];
			aml_exec_result res;
			double s = NAN;

			worker_code(t, i, code, sizeof code);
			run(st, code, (uint32_t)(t * 1000 + i), &res);
			free(res.detail);
			ck_assert_int_eq(res.outcome, w[t].outcomes[i]);
			if (res.outcome == AML_EXEC_OK && score_in(workdir, &s))
				ck_assert_msg(s == w[t].scores[i], "thread %d run %d: %g vs %g", t, i, s,
					      w[t].scores[i]);
		}
		free(w[t].dir);
	}
	desc->fini(st);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("synthetic");
	TCase *tc = tcase_create("synthetic");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_success);
	tcase_add_test(tc, test_no_recipe);
	tcase_add_loop_test(tc, test_forced_failures, 0, (int)AML_ARRAY_LEN(forced_codes));
	tcase_add_test(tc, test_unknown_forced_failure);
	tcase_add_test(tc, test_deterministic);
	tcase_add_test(tc, test_nearer_optimum_scores_better);
	tcase_add_test(tc, test_bonuses);
	tcase_add_test(tc, test_minimize);
	tcase_add_test(tc, test_fail_rate);
	tcase_add_test(tc, test_fail_rate_bounds);
	tcase_add_test(tc, test_latency);
	tcase_add_test(tc, test_cancel);
	tcase_add_loop_test(tc, test_bad_params, 0, (int)AML_ARRAY_LEN(bad_params));
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_parallel);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
