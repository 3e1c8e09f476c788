/*
 * check_llm_e2e.c — whole runs with the HTTP providers against the fake
 * LLM server of tests/llm_server.py on 127.0.0.1 (started here; nothing
 * else is contacted): the scripts it answers are run by the local
 * executor on the iris example task.
 *
 *   - openai and anthropic each give a valid submission, with the tokens
 *     counted per node and per run, and the API key nowhere in the run
 *     directory;
 *   - a server that answers with every fault in turn (429, 500, an HTML
 *     page, truncated JSON, no choices, no code, answers slower than the
 *     timeout): the run ends, every node is kept
 *     with its reason, the failures are counted in summary.json, and the
 *     answers after the faults still make the submission.
 */
#include "config.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "conf.h"
#include "llm_server.h"
#include "mock_host.h"
#include "run.h"
#include "submission.h"
#include "task.h"
#include "util.h"

#define TASK BUILDDIR "/examples/tasks/iris"
#define KEY "sk-e2e-0123456789-SECRET"

static char *tmpdir;
static int run_no;

static void
setup(void)
{
	tmpdir = aml_test_tmpdir();
	/* only the fake server: no proxy, no key or URL from the environment */
	unsetenv("OPENAI_API_KEY");
	unsetenv("OPENAI_BASE_URL");
	unsetenv("ANTHROPIC_API_KEY");
	unsetenv("ANTHROPIC_BASE_URL");
	setenv("NO_PROXY", "127.0.0.1", 1);
	setenv("no_proxy", "127.0.0.1", 1);
}

static void
teardown(void)
{
	aml_test_rmtree(tmpdir);
	AML_FREE(tmpdir);
}

static json_object *
get(json_object *o, const char *k)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no '%s'", k);
	return v;
}

/* Run the iris task with kv; the result in *res, summary.json returned. */
static json_object *
run(const char *const *kv, aml_run_result *res)
{
	char err[AML_ERRLEN] = "", buf[4200];
	aml_config *c = NULL;
	json_object *sum;
	char *p;
	static const char *const base[] = {
		"log.level=warning", "search.workers=1", "exec.timeout_s=300", NULL,
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
		ck_assert_msg(aml_config_set_arg(c, *kv, err, sizeof err) == AML_OK, "%s: %s", *kv, err);
	ck_assert_msg(aml_run(c, TASK, res, err, sizeof err) == AML_OK, "%s", err);
	p = aml_path_join(res->run_dir, "summary.json");
	sum = json_object_from_file(p);
	ck_assert_ptr_nonnull(sum);
	free(p);
	aml_config_free(c);
	return sum;
}

static void
assert_valid_submission(const aml_run_result *res)
{
	aml_task_info *t = NULL;
	char err[AML_ERRLEN] = "", reason[512] = "", *sub;

	ck_assert_int_eq(res->has_best, 1);
	ck_assert_int_eq(aml_task_load(TASK, &t, err, sizeof err), AML_OK);
	sub = aml_path_join(res->run_dir, "submission.csv");
	ck_assert_msg(aml_submission_check(t, sub, reason, sizeof reason) == AML_OK, "%s", reason);
	free(sub);
	aml_task_free(t);
}

/* No file under dir holds needle. */
static void
assert_nowhere(const char *dir, const char *needle)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	ck_assert_ptr_nonnull(d);
	while ((de = readdir(d)) != NULL) {
		char *p, *text = NULL, err[AML_ERRLEN];
		struct stat st;
		size_t len;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		p = aml_path_join(dir, de->d_name);
		ck_assert_int_eq(lstat(p, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			assert_nowhere(p, needle);
		} else if (S_ISREG(st.st_mode)
			   && aml_read_file(p, 64 << 20, &text, &len, err, sizeof err) == AML_OK) {
			ck_assert_msg(memmem(text, len, needle, strlen(needle)) == NULL,
				      "%s holds the secret", p);
			free(text);
		}
		free(p);
	}
	closedir(d);
}

static const char *const providers[] = {"openai", "anthropic"};

/* A small search through a real wire format gives a valid submission. */
START_TEST(test_provider_run)
{
	static const char *const args[] = {"--require-key", KEY, NULL};
	aml_test_server srv;
	aml_run_result res;
	char prov[64], url[200], key[200];
	const char *kv[] = {prov, url, key, "search.max_nodes=3", "search.num_drafts=2", NULL};
	json_object *sum, *llm, *nodes;
	size_t i;
	long tokens = 0;

	aml_test_server_start(&srv, args);
	snprintf(prov, sizeof prov, "provider=%s", providers[_i]);
	snprintf(url, sizeof url, "provider.base_url=%s", srv.url);
	snprintf(key, sizeof key, "provider.api_key=%s", KEY);
	sum = run(kv, &res);
	assert_valid_submission(&res);
	ck_assert_str_eq(json_object_get_string(get(sum, "provider")), providers[_i]);
	llm = get(sum, "llm");
	ck_assert_int_eq(json_object_get_int(get(llm, "calls")), 3);
	ck_assert_int_eq(json_object_get_int(get(llm, "failures")), 0);
	ck_assert_int_eq(json_object_get_int(get(get(get(llm, "roles"), "code"), "calls")), 3);
	ck_assert_int_gt(json_object_get_int(get(llm, "tokens_in")), 100);
	nodes = get(sum, "nodes");
	for (i = 0; i < json_object_array_length(nodes); i++)
		tokens += json_object_get_int(get(json_object_array_get_idx(nodes, i), "tokens_in"));
	ck_assert_int_eq(tokens, json_object_get_int(get(llm, "tokens_in")));
	ck_assert_int_eq(aml_test_server_stat(&srv, "requests"), 3);
	/* the key went to the server, and nowhere into the run directory */
	ck_assert_int_eq(aml_test_server_fault_count(&srv, "unauthorized"), 0);
	assert_nowhere(res.run_dir, KEY);
	json_object_put(sum);
	aml_run_result_free(&res);
	aml_test_server_stop(&srv);
}
END_TEST

/* Every fault the server can give, two attempts each: the run ends with
 * all its nodes, the failures counted and explained. */
START_TEST(test_faults_counted)
{
	static const char *const args[] = {
		"--faults", "429,500,html,truncated,empty,empty,nocode,slow,slow",
		"--retry-after", "0", "--slow-s", "4", NULL,
	};
	static const char *const reasons[] = {
		"HTTP 500", "truncated JSON", "no choices", "no code block", "timed out", NULL,
	};
	aml_test_server srv;
	aml_run_result res;
	char url[200];
	const char *kv[] = {"provider=openai", url, "provider.max_attempts=2",
			    "provider.backoff_s=0.01", "provider.timeout_s=2",
			    "search.max_nodes=7", "search.num_drafts=7", "search.policy=drafts", NULL};
	json_object *sum, *nodes, *by;
	size_t i;

	aml_test_server_start(&srv, args);
	snprintf(url, sizeof url, "provider.base_url=%s", srv.url);
	sum = run(kv, &res);
	nodes = get(sum, "nodes");
	ck_assert_int_eq((int)json_object_array_length(nodes), 7);
	/* 429+500, html+truncated, empty+empty: three provider failures;
	 * nocode: an answer, but an operator failure; slow+slow: a fourth.
	 * (A reset connection is not among them: libcurl itself retries a
	 * request whose reused connection died, check_providers has it.) */
	for (i = 0; i < 5; i++) {
		json_object *x = json_object_array_get_idx(nodes, i);
		const char *why = json_object_get_string(get(x, "reason"));

		ck_assert_str_eq(json_object_get_string(get(x, "status")), "operator_failed");
		ck_assert_msg(reasons[i] == NULL || strstr(why, reasons[i]) != NULL,
			      "node %zu: %s", i, why);
		ck_assert_ptr_null(strchr(why, '\n'));
	}
	by = get(sum, "nodes_by_status");
	ck_assert_int_eq(json_object_get_int(get(by, "operator_failed")), 5);
	ck_assert_int_eq(json_object_get_int(get(get(sum, "llm"), "failures")), 4);
	ck_assert_int_eq(json_object_get_int(get(get(sum, "llm"), "calls")), 7);
	/* the two answers after the faults: a valid submission */
	assert_valid_submission(&res);
	json_object_put(sum);
	aml_run_result_free(&res);
	aml_test_server_stop(&srv);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("llm_e2e");
	TCase *tc = tcase_create("llm_e2e");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 900);
	tcase_add_loop_test(tc, test_provider_run, 0, (int)AML_ARRAY_LEN(providers));
	tcase_add_test(tc, test_faults_counted);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
