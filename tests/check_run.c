/*
 * check_run.c — whole runs, offline, through the real plugins (draft,
 * kbsynth, local) on an example task made from scikit-learn's data; and
 * runs whose candidates fail in each way a generated script can fail,
 * driven by the test provider tp-good answering what a test tells it to.
 */
#include "config.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "mock_host.h"
#include "run.h"
#include "submission.h"
#include "task.h"
#include "util.h"

#define TASK BUILDDIR "/examples/tasks/iris"

static char *tmpdir;
static char saved_path[8192];

static void
setup(void)
{
	const char *p = getenv("AUTOMLGEN_PLUGIN_PATH");
	char buf[16400];

	tmpdir = aml_test_tmpdir();
	snprintf(saved_path, sizeof saved_path, "%s", p ? p : "");
	/* the real plugins first, then the test plugins */
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

static aml_config *
config(const char *const *kv)
{
	char err[AML_ERRLEN] = "", buf[4200];
	aml_config *c = NULL;

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "run.dir=%s", tmpdir);
	ck_assert_int_eq(aml_config_set_arg(c, buf, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, "run.name=r", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, "log.level=warning", err, sizeof err), AML_OK);
	for (; kv && *kv; kv++)
		ck_assert_msg(aml_config_set_arg(c, *kv, err, sizeof err) == AML_OK, "%s", err);
	return c;
}

static json_object *
read_json(const char *dir, const char *rel)
{
	char *p = aml_path_join(dir, rel);
	json_object *o = json_object_from_file(p);

	ck_assert_msg(o != NULL, "cannot read %s", p);
	free(p);
	return o;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return json_object_get_string(v);
}

/* Walk dir: no file named answers.csv, and no symlink leading outside root. */
static void
assert_no_private(const char *dir, const char *root)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char *p;
		struct stat st;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		ck_assert_msg(strcmp(de->d_name, "answers.csv") != 0, "answers.csv found in %s", dir);
		ck_assert_msg(strcmp(de->d_name, "private") != 0, "a private folder in %s", dir);
		p = aml_path_join(dir, de->d_name);
		ck_assert_int_eq(lstat(p, &st), 0);
		if (S_ISLNK(st.st_mode)) {
			char *real = aml_path_abs(p);

			ck_assert_msg(real && strncmp(real, root, strlen(root)) == 0,
				      "%s leads outside the run: %s", p, real ? real : "(dangling)");
			free(real);
		} else if (S_ISDIR(st.st_mode)) {
			assert_no_private(p, root);
		}
		free(p);
	}
	closedir(d);
}

START_TEST(test_offline_run)
{
	const char *kv[] = {"search.num_drafts=3", "search.max_nodes=6", "exec.timeout_s=300", NULL};
	aml_config *cfg = config(kv);
	aml_run_result res;
	aml_task_info *t = NULL;
	char err[AML_ERRLEN] = "", reason[512] = "";
	json_object *sum, *nodes;
	char *sub, *root;
	size_t i;

	ck_assert_msg(aml_run(cfg, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(res.has_best, 1);
	ck_assert_uint_eq(res.nodes, 6);
	ck_assert_uint_ge(res.valid, 1);
	/* the submission the run kept is valid for the task */
	ck_assert_int_eq(aml_task_load(TASK, &t, err, sizeof err), AML_OK);
	sub = aml_path_join(res.run_dir, "submission.csv");
	ck_assert_msg(aml_submission_check(t, sub, reason, sizeof reason) == AML_OK, "%s", reason);
	free(sub);
	/* summary, per-node records, best solution */
	sum = read_json(res.run_dir, "summary.json");
	ck_assert_str_eq(jstr(sum, "task"), "iris");
	ck_assert_str_eq(jstr(sum, "metric"), "accuracy");
	ck_assert_int_eq(atoi(jstr(sum, "best_node")), res.best_node);
	ck_assert(json_object_object_get_ex(sum, "nodes", &nodes));
	ck_assert_uint_eq(json_object_array_length(nodes), 6);
	for (i = 0; i < 6; i++) {
		char rel[64];
		json_object *n;

		snprintf(rel, sizeof rel, "nodes/%04zu/node.json", i);
		n = read_json(res.run_dir, rel);
		/* the default search drafts first, then works on the drafts */
		if (i < 3)
			ck_assert_str_eq(jstr(n, "operator"), "draft");
		else
			ck_assert_int_ge(atoi(jstr(n, "parent")), 0);
		json_object_put(n);
		snprintf(rel, sizeof rel, "nodes/%04zu/solution.py", i);
		sub = aml_path_join(res.run_dir, rel);
		ck_assert(aml_is_file(sub));
		free(sub);
	}
	json_object_put(sum);
	sub = aml_path_join(res.run_dir, "best_solution.py");
	ck_assert(aml_is_file(sub));
	free(sub);
	/* generated code never had the private answers within reach */
	root = aml_path_abs(res.run_dir);
	assert_no_private(res.run_dir, root);
	free(root);
	aml_task_free(t);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

/* A link in the public folder to the private answers is not staged. */
START_TEST(test_private_link_not_staged)
{
	const char *kv[] = {"search.policy=drafts", "search.num_drafts=1", NULL};
	aml_config *cfg = config(kv);
	aml_run_result res;
	char err[AML_ERRLEN] = "", cmd[8400];
	char *task = aml_path_join(tmpdir, "iris"), *link, *staged;

	snprintf(cmd, sizeof cmd, "cp -r '%s' '%s'", TASK, task);
	ck_assert_int_eq(system(cmd), 0);
	link = aml_path_join(task, "public/extra.csv");
	ck_assert_int_eq(symlink("../private/answers.csv", link), 0);
	ck_assert_msg(aml_run(cfg, task, &res, err, sizeof err) == AML_OK, "%s", err);
	staged = aml_path_join(res.run_dir, "input/extra.csv");
	ck_assert_msg(!aml_is_file(staged), "the private answers were staged as %s", staged);
	free(staged);
	staged = aml_path_join(res.run_dir, "input/train.csv");
	ck_assert(aml_is_file(staged));
	free(staged);
	free(link);
	free(task);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

/* A run whose provider answers `answer`: every node gets `status`. */
static void
run_with_answer(const char *answer, const char *status, const char *reason_part,
		const char *timeout)
{
	char kvs[3][4200];
	const char *kv[6];
	aml_config *cfg;
	aml_run_result res;
	char err[AML_ERRLEN] = "";
	json_object *n;

	snprintf(kvs[0], sizeof kvs[0], "provider.tp-good.answer=%s", answer);
	snprintf(kvs[1], sizeof kvs[1], "exec.timeout_s=%s", timeout);
	kv[0] = "provider=tp-good";
	kv[1] = kvs[0];
	kv[2] = kvs[1];
	kv[3] = "search.num_drafts=2";
	kv[4] = "search.policy=drafts";
	kv[5] = NULL;
	cfg = config(kv);
	ck_assert_msg(aml_run(cfg, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(res.has_best, 0);
	ck_assert_uint_eq(res.nodes, 2);   /* the run went on after the first failure */
	ck_assert_uint_eq(res.valid, 0);
	n = read_json(res.run_dir, "nodes/0001/node.json");
	ck_assert_str_eq(jstr(n, "status"), status);
	ck_assert_msg(strstr(jstr(n, "reason"), reason_part) != NULL, "reason '%s' lacks '%s'",
		      jstr(n, "reason"), reason_part);
	json_object_put(n);
	n = read_json(res.run_dir, "summary.json");
	ck_assert(json_object_is_type(json_object_object_get(n, "best_node"), json_type_null));
	json_object_put(n);
	{
		char *sub = aml_path_join(res.run_dir, "submission.csv");

		ck_assert_msg(!aml_is_file(sub), "a submission without a valid node");
		free(sub);
	}
	aml_run_result_free(&res);
	aml_config_free(cfg);
}

START_TEST(test_answer_without_code)
{
	run_with_answer("I would use a random forest.", "operator_failed", "no code block", "60");
}
END_TEST

START_TEST(test_script_crashes)
{
	run_with_answer("```python\nraise ValueError('boom')\n```", "buggy",
			"ValueError: boom", "60");
}
END_TEST

START_TEST(test_script_hangs)
{
	run_with_answer("```python\nimport time\ntime.sleep(60)\n```", "buggy", "timed_out", "1");
}
END_TEST

START_TEST(test_script_without_score)
{
	run_with_answer("```python\nprint('done')\n```", "buggy", "no 'Final Validation Score:", "60");
}
END_TEST

START_TEST(test_invalid_submission)
{
	run_with_answer("```python\nopen('submission/submission.csv','w').write('id,species\\n1,x\\n')\n"
			"print('Final Validation Score: 0.5')\n```",
			"invalid_submission", "", "60");
}
END_TEST

/* The same offline search with every script in the bubblewrap sandbox. */
/* The same script twice reuses the first run's result (exec.cache): the
 * later nodes say which node they took it from, hold its submission, and
 * the summary counts the hits; exec.cache=false runs every script. */
START_TEST(test_result_cache)
{
	static const char *const answer =
		"provider.tp-good.answer=```python\nimport os, shutil\n"
		"os.makedirs('submission', exist_ok=True)\n"
		"shutil.copy('input/sample_submission.csv', 'submission/submission.csv')\n"
		"print('Final Validation Score: 0.5')\n```";
	const char *kv[] = {"provider=tp-good", answer, "search.policy=drafts",
			    "search.num_drafts=4", "search.workers=1", "review.enabled=false",
			    _i ? "exec.cache=false" : "exec.cache=true", NULL};
	aml_config *cfg = config(kv);
	aml_run_result res;
	char err[AML_ERRLEN] = "", rel[64], *sub;
	json_object *sum, *search, *n, *v;
	int i;

	ck_assert_msg(aml_run(cfg, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_uint_eq(res.nodes, 4);
	ck_assert_uint_eq(res.valid, 4);
	sum = read_json(res.run_dir, "summary.json");
	ck_assert(json_object_object_get_ex(sum, "search", &search));
	ck_assert(json_object_object_get_ex(search, "cache_hits", &v));
	ck_assert_int_eq(json_object_get_int(v), _i ? 0 : 3);
	for (i = 0; i < 4; i++) {
		snprintf(rel, sizeof rel, "nodes/%04d/node.json", i);
		n = read_json(res.run_dir, rel);
		if (_i == 0 && i > 0) {
			ck_assert_msg(json_object_object_get_ex(n, "cached_from", &v), "node %d", i);
			ck_assert_int_eq(json_object_get_int(v), 0);
		} else {
			ck_assert(!json_object_object_get_ex(n, "cached_from", &v));
		}
		json_object_put(n);
		snprintf(rel, sizeof rel, "nodes/%04d/submission/submission.csv", i);
		sub = aml_path_join(res.run_dir, rel);
		ck_assert_msg(aml_is_file(sub), "%s", sub);
		free(sub);
	}
	json_object_put(sum);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

/* The prompts say what each script runs on, from the executor's
 * parameters: threads and GPU shares, or no GPU at all. */
START_TEST(test_hardware_in_prompts)
{
	char rec[4200], err[AML_ERRLEN] = "", *text = NULL;
	const char *kv[] = {"executor=local", "search.num_drafts=1", "search.max_nodes=1",
			    "review.enabled=false", rec,
			    _i ? "executor.gpus=0,1" : "executor.gpus=none",
			    "executor.gpus_per_candidate=2", "executor.threads=2", NULL};
	aml_config *cfg;
	aml_run_result res;

	snprintf(rec, sizeof rec, "llm.record=%s/cassette.jsonl", tmpdir);
	cfg = config(kv);
	ck_assert_msg(aml_run(cfg, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(aml_read_file(rec + strlen("llm.record="), 0, &text, NULL, err,
				       sizeof err), AML_OK);
	if (_i)
		ck_assert_msg(strstr(text, "Each run gets 2 CPU threads (AML_N_JOBS) and 2 GPUs "
				     "(AML_GPUS, CUDA_VISIBLE_DEVICES)") != NULL, "%.3000s", text);
	else
		ck_assert_msg(strstr(text, "Each run gets 2 CPU threads (AML_N_JOBS); no GPU "
				     "(AML_GPUS=0") != NULL, "%.3000s", text);
	free(text);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

START_TEST(test_offline_run_bwrap)
{
	const char *kv[] = {"executor=bwrap", "search.num_drafts=2", "search.max_nodes=3",
			    "exec.timeout_s=300", NULL};
	aml_config *cfg = config(kv);
	aml_run_result res;
	aml_task_info *t = NULL;
	char err[AML_ERRLEN] = "", reason[512] = "", *sub;
	json_object *sum;

	ck_assert_msg(aml_run(cfg, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(res.has_best, 1);
	ck_assert_uint_eq(res.nodes, 3);
	ck_assert_int_eq(aml_task_load(TASK, &t, err, sizeof err), AML_OK);
	sub = aml_path_join(res.run_dir, "submission.csv");
	ck_assert_msg(aml_submission_check(t, sub, reason, sizeof reason) == AML_OK, "%s", reason);
	sum = read_json(res.run_dir, "summary.json");
	ck_assert_str_eq(jstr(sum, "executor"), "bwrap");
	json_object_put(sum);
	free(sub);
	aml_task_free(t);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

/* executor: auto takes the sandbox where bwrap works, and the local
 * executor, with a warning, where it does not. */
START_TEST(test_executor_auto)
{
	static const char *const broken = "executor.bwrap.bwrap=/nonexistent/bwrap";
	const char *kv[] = {"search.num_drafts=1", "search.max_nodes=1", "search.policy=drafts",
			    _i ? broken : NULL, NULL};
	aml_config *cfg = config(kv);
	aml_run_result res;
	char err[AML_ERRLEN] = "";
	json_object *sum;

	ck_assert_str_eq(aml_config_get(cfg, "executor"), "auto");
	ck_assert_msg(aml_run(cfg, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(res.has_best, 1);
	sum = read_json(res.run_dir, "summary.json");
	ck_assert_str_eq(jstr(sum, "executor"), _i ? "local" : "bwrap");
	json_object_put(sum);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

/* Answers of every shape models give, replayed from a hand-written
 * cassette: what the draft operator makes of each, in a whole run. */
START_TEST(test_answer_shapes_from_cassette)
{
	static const struct {
		const char *status;
		const char *reason;
	} want[] = {
		{"valid", ""},                                   /* bash block, then python */
		{"valid", ""},                                   /* JSON with prose around it */
		{"operator_failed", "the answer has no code block"},
		{"operator_failed", "none in Python"},           /* an R block */
		{"buggy", "SyntaxError"},                        /* cut off mid-script */
		{"operator_failed", "no recorded answer left"},  /* the cassette is spent */
	};
	char cas[4200];
	const char *kv[] = {"provider=replay", cas, "search.policy=drafts", "search.num_drafts=6",
			    "search.workers=1", NULL};
	aml_config *cfg;
	aml_run_result res;
	char err[AML_ERRLEN] = "", rel[64];
	json_object *n;
	size_t i;

	snprintf(cas, sizeof cas, "provider.cassette=%s/tests/data/cassettes/answer-shapes.jsonl",
		 SRCDIR);
	cfg = config(kv);
	ck_assert_msg(aml_run(cfg, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_uint_eq(res.nodes, AML_ARRAY_LEN(want));
	ck_assert_int_eq(res.has_best, 1);
	for (i = 0; i < AML_ARRAY_LEN(want); i++) {
		snprintf(rel, sizeof rel, "nodes/%04zu/node.json", i);
		n = read_json(res.run_dir, rel);
		ck_assert_msg(strcmp(jstr(n, "status"), want[i].status) == 0
			      && strstr(jstr(n, "reason"), want[i].reason) != NULL,
			      "node %zu: %s: %s", i, jstr(n, "status"), jstr(n, "reason"));
		json_object_put(n);
	}
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

static const struct {
	const char *kv;
	const char *task;
	const char *msg;
} refusals[] = {
	{"provider=nope", TASK, "no provider plugin named 'nope'"},
	{"executor=nope", TASK, "no executor plugin named 'nope'"},
	{"operators.draft=nope", TASK, "no operator plugin named 'nope'"},
	{"executor.threads=lots", TASK, "'executor.threads' must be an int, got 'lots'"},
	{"provider.temprature=1", TASK, "'provider.temprature' is not a parameter of provider plugin 'kbsynth'"},
	{"search.policy=magic", TASK, "unknown search.policy 'magic'"},
	{"provider=tp-garbage", TASK, "cannot load"},
	{"executor.python=/nonexistent/python3", TASK, "/nonexistent/python3"},
	{"search.num_drafts=1", "/nonexistent/task", "/nonexistent/task"},
};

START_TEST(test_refusals)
{
	const char *kv[] = {refusals[_i].kv, NULL};
	aml_config *cfg = config(kv);
	aml_run_result res;
	char err[AML_ERRLEN] = "";

	ck_assert_int_ne(aml_run(cfg, refusals[_i].task, &res, err, sizeof err), AML_OK);
	ck_assert_msg(strstr(err, refusals[_i].msg) != NULL, "'%s' lacks '%s'", err, refusals[_i].msg);
	ck_assert_msg(strchr(err, '\n') == NULL, "not one line: %s", err);
	/* nothing was started, so no run directory was made */
	ck_assert_ptr_null(res.run_dir);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("run");
	TCase *tc = tcase_create("run");

	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_offline_run);
	tcase_add_test(tc, test_private_link_not_staged);
	tcase_add_test(tc, test_answer_without_code);
	tcase_add_test(tc, test_script_crashes);
	tcase_add_test(tc, test_script_hangs);
	tcase_add_test(tc, test_script_without_score);
	tcase_add_test(tc, test_invalid_submission);
	tcase_add_test(tc, test_answer_shapes_from_cassette);
	tcase_add_test(tc, test_offline_run_bwrap);
	tcase_add_loop_test(tc, test_result_cache, 0, 2);
	tcase_add_loop_test(tc, test_hardware_in_prompts, 0, 2);
	tcase_add_loop_test(tc, test_executor_auto, 0, 2);
	tcase_add_loop_test(tc, test_refusals, 0, (int)AML_ARRAY_LEN(refusals));
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
