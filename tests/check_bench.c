/*
 * check_bench.c — `automlgen bench` and scripts/make-thresholds.py:
 * normalisation and medals by hand in both metric directions, refused
 * thresholds files, the aggregates, and a whole bench on a suite of two
 * example tasks (iris, wine) run with the synthetic executor, with one
 * real policy and one that does not exist.  The sub-command is linked in
 * and called directly (its stdout captured), so the test does not depend
 * on the dispatch in main.c.
 */
#include "config.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "mock_host.h"
#include "task.h"
#include "util.h"

#define BIN BUILDDIR "/automlgen"
#define TASKS BUILDDIR "/examples/tasks"

static char *tmpdir;
static char *out_text, *err_text;

static void
setup(void)
{
	tmpdir = aml_test_tmpdir();
}

static void
teardown(void)
{
	aml_test_rmtree(tmpdir);
	AML_FREE(tmpdir);
	AML_FREE(out_text);
	AML_FREE(err_text);
}

static void
put(const char *dir, const char *rel, const char *text)
{
	char *p = aml_path_join(dir, rel);
	char err[AML_ERRLEN] = "";

	ck_assert_msg(aml_write_file(p, text, strlen(text), err, sizeof err) == AML_OK, "%s", err);
	free(p);
}

/* Call aml_cmd_bench with args (NULL-terminated) with stdout and stderr
 * captured into out_text and err_text.  Returns its exit status. */
static int
bench(const char *first, ...)
{
	const char *argv[40];
	char *outp = aml_path_join(tmpdir, "out.txt"), *errp = aml_path_join(tmpdir, "err.txt");
	int n = 0, rc, so, se, fo, fe;
	va_list ap;

	argv[n++] = "bench";
	va_start(ap, first);
	for (const char *a = first; a && n < 39; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	fflush(stdout);
	fflush(stderr);
	so = dup(1);
	se = dup(2);
	fo = open(outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	fe = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ck_assert(so >= 0 && se >= 0 && fo >= 0 && fe >= 0);
	dup2(fo, 1);
	dup2(fe, 2);
	rc = aml_cmd_bench(n, (char **)argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	close(fo);
	close(fe);
	free(out_text);
	free(err_text);
	ck_assert_int_eq(aml_read_file(outp, 0, &out_text, NULL, NULL, 0), AML_OK);
	ck_assert_int_eq(aml_read_file(errp, 0, &err_text, NULL, NULL, 0), AML_OK);
	free(outp);
	free(errp);
	return rc;
}

/* A suite folder in tmpdir with copies of the named example tasks. */
static char *
make_suite(const char *const *tasks)
{
	char *suite = aml_path_join(tmpdir, "suite");
	char err[AML_ERRLEN], cmd[8400];

	ck_assert_int_eq(aml_mkdirs(suite, err, sizeof err), AML_OK);
	for (; *tasks; tasks++) {
		snprintf(cmd, sizeof cmd, "cp -R '%s/%s' '%s/'", TASKS, *tasks, suite);
		ck_assert_msg(system(cmd) == 0, "%s", cmd);
	}
	return suite;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return json_object_get_string(v);
}

static double
jnum(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v) && v != NULL, "no number %s", key);
	return json_object_get_double(v);
}

static int
jnull(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return v == NULL;
}

/* ------------------------------------------------------------------ */

START_TEST(test_normalize_and_medals)
{
	aml_thresholds up = {1, 0.5, 0.9, 1, 1, 1, 0.8, 0.86, 0.9};
	aml_thresholds down = {0, 2.0, 1.0, 1, 1, 1, 1.25, 1.1, 1.0};
	aml_thresholds bare = {1, 0.5, 0.9, 0, 0, 0, 0, 0, 0};
	aml_thresholds gold_only = {1, 0.5, 0.9, 0, 0, 1, 0, 0, 0.9};

	ck_assert(fabs(aml_bench_normalize(&up, 0.7) - 0.5) < 1e-12);
	ck_assert(fabs(aml_bench_normalize(&up, 0.5)) < 1e-12);
	ck_assert(fabs(aml_bench_normalize(&up, 0.9) - 1) < 1e-12);
	ck_assert(fabs(aml_bench_normalize(&up, 0.3) + 0.5) < 1e-12);
	ck_assert_str_eq(aml_bench_medal(&up, 0.95), "gold");
	ck_assert_str_eq(aml_bench_medal(&up, 0.9), "gold");
	ck_assert_str_eq(aml_bench_medal(&up, 0.87), "silver");
	ck_assert_str_eq(aml_bench_medal(&up, 0.8), "bronze");
	ck_assert_str_eq(aml_bench_medal(&up, 0.79), "none");
	/* lower is better: reference below naive, and the sign works out */
	ck_assert(fabs(aml_bench_normalize(&down, 1.5) - 0.5) < 1e-12);
	ck_assert(fabs(aml_bench_normalize(&down, 0.5) - 1.5) < 1e-12);
	ck_assert(fabs(aml_bench_normalize(&down, 2.5) + 0.5) < 1e-12);
	ck_assert_str_eq(aml_bench_medal(&down, 0.9), "gold");
	ck_assert_str_eq(aml_bench_medal(&down, 1.05), "silver");
	ck_assert_str_eq(aml_bench_medal(&down, 1.25), "bronze");
	ck_assert_str_eq(aml_bench_medal(&down, 1.3), "none");
	ck_assert_ptr_null(aml_bench_medal(&bare, 0.99));
	ck_assert_str_eq(aml_bench_medal(&gold_only, 0.89), "none");
	ck_assert_str_eq(aml_bench_medal(&gold_only, 0.9), "gold");
}
END_TEST

static const struct {
	const char *text, *msg;
	int rc;
} thresholds_files[] = {
	{"{\"metric\": \"accuracy\", \"higher_is_better\": true, \"naive\": 0.3, \"reference\": 0.9,"
	 " \"bronze\": 0.75, \"silver\": 0.84, \"gold\": 0.9}", NULL, AML_OK},
	{"{\"naive\": 0.3, \"reference\": 0.9}", NULL, AML_OK},
	{"{\"naive\": 0.3}", "needs numbers 'naive' and 'reference'", AML_EFORMAT},
	{"{\"naive\": 0.5, \"reference\": 0.5}", "nothing to normalise by", AML_EFORMAT},
	{"{\"metric\": \"f1\", \"naive\": 0.3, \"reference\": 0.9}", "is for metric 'f1'", AML_EFORMAT},
	{"{\"higher_is_better\": false, \"naive\": 0.3, \"reference\": 0.9}",
	 "higher_is_better must be true", AML_EFORMAT},
	{"{\"naive\": 0.3, \"reference\": 0.9, \"gold\": \"high\"}", "'gold' must be a number",
	 AML_EFORMAT},
	{"[1, 2]", "not a JSON object", AML_EFORMAT},
	{"{\"naive\": 0.3, \"reference\": 0.9", "not a JSON object", AML_EFORMAT},
};

START_TEST(test_thresholds_files)
{
	char err[AML_ERRLEN] = "", *path = aml_path_join(tmpdir, "thresholds.json");
	aml_thresholds th;
	int rc;

	put(tmpdir, "thresholds.json", thresholds_files[_i].text);
	rc = aml_thresholds_load(path, "accuracy", 1, &th, err, sizeof err);
	ck_assert_msg(rc == thresholds_files[_i].rc, "rc %d: %s", rc, err);
	if (thresholds_files[_i].msg != NULL) {
		ck_assert_msg(strstr(err, thresholds_files[_i].msg) != NULL, "'%s' lacks '%s'", err,
			      thresholds_files[_i].msg);
		ck_assert_msg(strstr(err, "thresholds.json") != NULL, "%s", err);
	} else {
		ck_assert(th.naive == 0.3 && th.reference == 0.9 && th.higher_is_better == 1);
		ck_assert_int_eq(th.has_gold, _i == 0);
	}
	free(path);
}
END_TEST

START_TEST(test_thresholds_missing)
{
	char err[AML_ERRLEN] = "";
	aml_thresholds th;

	ck_assert_int_eq(aml_thresholds_load("/nonexistent/thresholds.json", NULL, 1, &th, err,
					     sizeof err), AML_ENOTFOUND);
}
END_TEST

/* Aggregates by hand: an invalid run counts 0 in the mean normalized score
 * and wins no medal; means of nodes, seconds, tokens are over started runs. */
START_TEST(test_aggregate)
{
	char *pol[] = {"p", "q"};
	aml_bench_row rows[4];
	aml_bench b;
	const aml_bench_agg *a;

	memset(&b, 0, sizeof b);
	memset(rows, 0, sizeof rows);
	b.policies = pol;
	b.n_policies = 2;
	b.rows = rows;
	b.n_rows = 4;
	rows[0] = (aml_bench_row){.policy = "p", .valid = 1, .started = 1, .thresholded = 1,
				  .has_norm = 1, .normalized = 0.8, .medal = "silver", .nodes = 10,
				  .seconds = 4, .tokens_in = 100, .tokens_out = 20};
	rows[1] = (aml_bench_row){.policy = "p", .valid = 0, .started = 1, .thresholded = 1,
				  .medal = "none", .nodes = 6, .seconds = 2};
	rows[2] = (aml_bench_row){.policy = "p", .valid = 1, .started = 1, .thresholded = 0,
				  .nodes = 2, .seconds = 0};
	rows[3] = (aml_bench_row){.policy = "q", .valid = 0, .started = 0, .thresholded = 1,
				  .medal = "none"};
	ck_assert_int_eq(aml_bench_aggregate(&b), AML_OK);
	a = &b.aggs[0];
	ck_assert_str_eq(a->policy, "p");
	ck_assert_uint_eq(a->runs, 3);
	ck_assert_uint_eq(a->valid, 2);
	ck_assert(fabs(a->valid_rate - 2.0 / 3) < 1e-12);
	ck_assert_uint_eq(a->scored, 2);
	ck_assert(fabs(a->mean_normalized - 0.4) < 1e-12);
	ck_assert_uint_eq(a->medal_runs, 2);
	ck_assert_uint_eq(a->silver, 1);
	ck_assert(fabs(a->medal_rate - 0.5) < 1e-12);
	ck_assert(fabs(a->mean_nodes - 6) < 1e-12);
	ck_assert(fabs(a->mean_seconds - 2) < 1e-12);
	ck_assert(fabs(a->mean_tokens - 40) < 1e-12);
	a = &b.aggs[1];
	ck_assert_uint_eq(a->runs, 1);
	ck_assert(a->valid_rate == 0 && a->mean_normalized == 0 && a->medal_rate == 0);
	ck_assert(isnan(a->mean_nodes) && isnan(a->mean_seconds));
	free(b.aggs);
}
END_TEST

START_TEST(test_usage)
{
	const char *none[] = {NULL};
	char *suite = make_suite(none), *empty = aml_path_join(tmpdir, "out");

	ck_assert_int_eq(bench(NULL), 2);
	ck_assert(strstr(err_text, "usage: automlgen bench SUITE_DIR") != NULL);
	ck_assert_int_eq(bench("--help", NULL), 0);
	ck_assert(strstr(out_text, "--policies") != NULL);
	ck_assert_int_eq(bench(suite, "--seeds", "0", NULL), 2);
	ck_assert_msg(strstr(err_text, "--seeds must be") != NULL, "%s", err_text);
	ck_assert_int_eq(bench(suite, "--policies", NULL), 2);
	ck_assert_msg(strstr(err_text, "--policies needs a value") != NULL, "%s", err_text);
	ck_assert_int_eq(bench(suite, "--policies", "drafts,../x", "--out", empty, NULL), 2);
	ck_assert_msg(strstr(err_text, "'../x' is not a policy name") != NULL, "%s", err_text);
	ck_assert_int_eq(bench(suite, "--policies", "drafts,", "--out", empty, NULL), 2);
	ck_assert_msg(strstr(err_text, "empty name") != NULL, "%s", err_text);
	ck_assert_int_eq(bench(suite, "--out", empty, NULL), 2);
	ck_assert_msg(strstr(err_text, "no task folders in") != NULL, "%s", err_text);
	ck_assert_int_eq(bench("/nonexistent/suite", NULL), 2);
	ck_assert_msg(strstr(err_text, "/nonexistent/suite") != NULL, "%s", err_text);
	ck_assert_int_eq(bench(suite, "--bogus", NULL), 2);
	ck_assert_msg(strstr(err_text, "unknown option '--bogus'") != NULL, "%s", err_text);
	free(suite);
	free(empty);
}
END_TEST

/* The whole bench: 2 tasks x {drafts, nonexistent} x 1 seed, scored by the
 * synthetic executor on kbsynth's drafts, graded for real. */
START_TEST(test_bench_suite)
{
	const char *tasks[] = {"iris", "wine", NULL};
	char *suite = make_suite(tasks), *out = aml_path_join(tmpdir, "bench-out");
	char *md = NULL, *csv = NULL, *p;
	json_object *j, *runs, *aggs;
	double test, norm;
	size_t i, lines = 0;

	put(suite, "iris/thresholds.json",
	    "{\"metric\": \"accuracy\", \"higher_is_better\": true, \"naive\": 0.2,"
	    " \"reference\": 0.8, \"bronze\": 0.3, \"silver\": 0.5, \"gold\": 0.8}\n");
	put(suite, "wine/thresholds.json",
	    "{\"metric\": \"log_loss\", \"higher_is_better\": false, \"naive\": 2.0,"
	    " \"reference\": 0.1, \"bronze\": 1.5, \"silver\": 1.0, \"gold\": 0.1}\n");
	ck_assert_int_eq(bench(suite, "--policies", "drafts,nonexistent", "--seeds", "1",
			       "--out", out, "-o", "search.num_drafts=1", "-o", "executor=synthetic",
			       "-o", "review.enabled=false", "-q", NULL), 0);
	/* the three outputs, and bench.md on stdout */
	p = aml_path_join(out, "bench.md");
	ck_assert_int_eq(aml_read_file(p, 0, &md, NULL, NULL, 0), AML_OK);
	free(p);
	ck_assert_str_eq(out_text, md);
	ck_assert_msg(strstr(md, "| iris | drafts | 0 | yes | accuracy |") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "| wine | drafts | 0 | yes | log_loss |") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "| iris | nonexistent | 0 | no |") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "| wine | nonexistent | 0 | no |") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "## Per policy") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "| drafts | 2 | 2 | 100% |") != NULL, "%s", md);
	ck_assert_msg(strstr(md, "| nonexistent | 2 | 0 | 0% | 0.000 | 0% |") != NULL, "%s", md);
	ck_assert_msg(strstr(err_text, "bench [4/4] wine nonexistent seed 0: invalid: ") != NULL,
		      "%s", err_text);
	p = aml_path_join(out, "bench.csv");
	ck_assert_int_eq(aml_read_file(p, 0, &csv, NULL, NULL, 0), AML_OK);
	free(p);
	for (p = csv; *p; p++)
		lines += *p == '\n';
	ck_assert_uint_eq(lines, 5);
	ck_assert(strncmp(csv, "task,policy,seed,valid,validation_score,test_score,metric,"
			  "normalized,medal,nodes,seconds,tokens_in,tokens_out,run_dir,error,note\n",
			  strlen("task,policy,seed,valid")) == 0);
	ck_assert_msg(strstr(csv, "\niris,nonexistent,0,0,,,accuracy,,none,0,") != NULL, "%s", csv);

	p = aml_path_join(out, "bench.json");
	j = json_object_from_file(p);
	free(p);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_object_object_get_ex(j, "runs", &runs));
	ck_assert_uint_eq(json_object_array_length(runs), 4);
	for (i = 0; i < 4; i++) {
		json_object *r = json_object_array_get_idx(runs, i);
		int real = i % 2 == 0;

		ck_assert_str_eq(jstr(r, "task"), i < 2 ? "iris" : "wine");
		ck_assert_str_eq(jstr(r, "policy"), real ? "drafts" : "nonexistent");
		ck_assert_int_eq(json_object_get_boolean(json_object_object_get(r, "valid")), real);
		if (real) {
			const aml_thresholds th_iris = {1, 0.2, 0.8, 1, 1, 1, 0.3, 0.5, 0.8};
			const aml_thresholds th_wine = {0, 2.0, 0.1, 1, 1, 1, 1.5, 1.0, 0.1};
			const aml_thresholds *th = i < 2 ? &th_iris : &th_wine;
			double val = jnum(r, "validation_score");

			/* the synthetic executor's score, the sample's grade */
			ck_assert(val > 0 && val < 1);
			test = jnum(r, "test_score");
			norm = jnum(r, "normalized");
			ck_assert_msg(fabs(norm - (test - th->naive) / (th->reference - th->naive)) < 1e-9,
				      "%g from %g", norm, test);
			ck_assert_str_eq(jstr(r, "medal"), aml_bench_medal(th, test));
			ck_assert(jnum(r, "nodes") == 1);
			ck_assert(jnull(r, "error"));
			ck_assert(!jnull(r, "run_dir"));
			if (i == 2) /* wine: uniform probabilities, log_loss = ln 3 */
				ck_assert(fabs(test - log(3.0)) < 1e-6);
			ck_assert_str_eq(jstr(r, "medal"), "bronze");
		} else {
			ck_assert_msg(strstr(jstr(r, "error"), "unknown search.policy 'nonexistent'") != NULL,
				      "%s", jstr(r, "error"));
			ck_assert(jnull(r, "test_score") && jnull(r, "normalized"));
			ck_assert(jnull(r, "run_dir"));
			ck_assert_str_eq(jstr(r, "medal"), "none");
			ck_assert(jnum(r, "nodes") == 0);
		}
	}
	ck_assert(json_object_object_get_ex(j, "by_policy", &aggs));
	ck_assert_uint_eq(json_object_array_length(aggs), 2);
	{
		json_object *d = json_object_array_get_idx(aggs, 0), *n = json_object_array_get_idx(aggs, 1);
		double n0 = jnum(json_object_array_get_idx(runs, 0), "normalized");
		double n2 = jnum(json_object_array_get_idx(runs, 2), "normalized");

		ck_assert_str_eq(jstr(d, "policy"), "drafts");
		ck_assert(jnum(d, "valid_rate") == 1);
		ck_assert(fabs(jnum(d, "mean_normalized") - (n0 + n2) / 2) < 1e-9);
		ck_assert(jnum(d, "medal_rate") == 1);
		ck_assert(jnum(d, "mean_nodes") == 1);
		ck_assert_str_eq(jstr(n, "policy"), "nonexistent");
		ck_assert(jnum(n, "valid_rate") == 0 && jnum(n, "mean_normalized") == 0);
		ck_assert(jnull(n, "mean_nodes"));
	}
	json_object_put(j);
	/* the same folder again is refused rather than mixed */
	ck_assert_int_eq(bench(suite, "--policies", "drafts", "--out", out, NULL), 2);
	ck_assert_msg(strstr(err_text, "is not empty") != NULL, "%s", err_text);
	free(md);
	free(csv);
	free(suite);
	free(out);
}
END_TEST

/* make-thresholds.py on two tasks, with and without an automlgen binary:
 * the same numbers, the documented cut-offs, files the bench accepts. */
START_TEST(test_make_thresholds)
{
	const char *tasks[] = {"iris", "wine", NULL};
	const char *py = getenv("AML_PYTHON");
	char *suite = make_suite(tasks), cmd[8400], *copy = aml_path_join(tmpdir, "copy");
	const char *names[] = {"iris", "wine"};
	size_t i;

	if (py == NULL || py[0] == '\0')
		py = "/usr/bin/python3";
	snprintf(cmd, sizeof cmd, "cp -R '%s' '%s'", suite, copy);
	ck_assert(system(cmd) == 0);
	snprintf(cmd, sizeof cmd, "AUTOMLGEN_BIN='%s' '%s' '%s/scripts/make-thresholds.py' '%s' >'%s/mt.log' 2>&1",
		 BIN, py, SRCDIR, suite, tmpdir);
	ck_assert_msg(system(cmd) == 0, "%s failed; see the log", cmd);
	snprintf(cmd, sizeof cmd, "env -u AUTOMLGEN_BIN '%s' '%s/scripts/make-thresholds.py' '%s' >>'%s/mt.log' 2>&1",
		 py, SRCDIR, copy, tmpdir);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	for (i = 0; i < 2; i++) {
		char rel[64], err[AML_ERRLEN] = "", *dir = aml_path_join(suite, names[i]);
		char *a = NULL, *b = NULL, *pa, *pb;
		aml_task_info *t = NULL;
		aml_thresholds th;
		double span;

		snprintf(rel, sizeof rel, "%s/thresholds.json", names[i]);
		pa = aml_path_join(suite, rel);
		pb = aml_path_join(copy, rel);
		ck_assert_int_eq(aml_read_file(pa, 0, &a, NULL, NULL, 0), AML_OK);
		ck_assert_int_eq(aml_read_file(pb, 0, &b, NULL, NULL, 0), AML_OK);
		ck_assert_msg(strcmp(a, b) == 0, "with and without the binary:\n%s\n%s", a, b);
		ck_assert_int_eq(aml_task_load(dir, &t, err, sizeof err), AML_OK);
		ck_assert_msg(aml_thresholds_load(pa, aml_task_view(t)->metric,
						  aml_task_view(t)->higher_is_better, &th, err,
						  sizeof err) == AML_OK, "%s", err);
		ck_assert(th.has_bronze && th.has_silver && th.has_gold);
		span = th.reference - th.naive;
		ck_assert(th.gold == th.reference);
		ck_assert(fabs(th.silver - (th.naive + 0.9 * span)) < 1e-9 * fabs(span) + 1e-12);
		ck_assert(fabs(th.bronze - (th.naive + 0.75 * span)) < 1e-9 * fabs(span) + 1e-12);
		/* the reference beats the naive baseline in the task's direction */
		ck_assert(aml_bench_normalize(&th, th.reference) == 1.0);
		ck_assert(th.higher_is_better ? span > 0 : span < 0);
		if (i == 0) /* iris: the majority class of a stratified split */
			ck_assert(fabs(th.naive - 1.0 / 3) < 1e-9);
		else /* wine: the train priors, near ln 3 */
			ck_assert(th.naive > 1.0 && th.naive < log(3.0) + 0.01);
		aml_task_free(t);
		free(a);
		free(b);
		free(pa);
		free(pb);
		free(dir);
	}
	free(suite);
	free(copy);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bench");
	TCase *tc = tcase_create("bench");

	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_normalize_and_medals);
	tcase_add_loop_test(tc, test_thresholds_files, 0, (int)AML_ARRAY_LEN(thresholds_files));
	tcase_add_test(tc, test_thresholds_missing);
	tcase_add_test(tc, test_aggregate);
	tcase_add_test(tc, test_usage);
	tcase_add_test(tc, test_bench_suite);
	tcase_add_test(tc, test_make_thresholds);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
