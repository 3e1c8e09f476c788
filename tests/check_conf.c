/*
 * check_conf.c — configuration layers, -o, selectors, typed reads and
 * every refusal.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "mock_host.h"
#include "util.h"

static aml_config *
fresh(void)
{
	char err[AML_ERRLEN] = "";
	aml_config *c = NULL;

	ck_assert_msg(aml_config_new(&c, err, sizeof err) == AML_OK, "%s", err);
	return c;
}

static char *tmpdir;

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
}

/* A config file in the test's folder (transferred path). */
static char *
write_tmp(const char *text)
{
	char *p = aml_path_join(tmpdir, "c.yaml");
	FILE *f = fopen(p, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return p;
}

START_TEST(test_defaults)
{
	aml_config *c = fresh();
	char err[AML_ERRLEN] = "";
	long n;

	ck_assert_str_eq(aml_config_get(c, "provider"), "kbsynth");
	ck_assert_str_eq(aml_config_get(c, "executor"), "auto");
	ck_assert_str_eq(aml_config_get(c, "operators.draft"), "draft");
	ck_assert_str_eq(aml_config_source(c, "search.max_nodes"), "default");
	ck_assert_int_eq(aml_config_long(c, "search.num_drafts", &n, err, sizeof err), AML_OK);
	ck_assert_int_gt(n, 0);
	ck_assert_str_eq(aml_config_get(c, "run.name"), "");
	aml_config_free(c);
}
END_TEST

START_TEST(test_layers)
{
	aml_config *c = fresh();
	char err[AML_ERRLEN] = "";
	char *path = write_tmp("search:\n  max_nodes: 7\nprovider:\n  name: openai\n  base_url: http://127.0.0.1:9/v1\n");
	char src[4200];

	ck_assert_int_eq(aml_config_load_file(c, path, err, sizeof err), AML_OK);
	ck_assert_str_eq(aml_config_get(c, "search.max_nodes"), "7");
	snprintf(src, sizeof src, "%s:2", path);
	ck_assert_str_eq(aml_config_source(c, "search.max_nodes"), src);
	ck_assert_str_eq(aml_config_get(c, "provider"), "openai");
	ck_assert_str_eq(aml_config_get(c, "provider.base_url"), "http://127.0.0.1:9/v1");
	/* -o wins over the file; .name is the selector itself */
	ck_assert_int_eq(aml_config_set_arg(c, "search.max_nodes=9", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, "provider.name=kbsynth", err, sizeof err), AML_OK);
	ck_assert_str_eq(aml_config_get(c, "search.max_nodes"), "9");
	ck_assert_str_eq(aml_config_source(c, "search.max_nodes"), "-o");
	ck_assert_str_eq(aml_config_get(c, "provider"), "kbsynth");
	/* plugin parameters are accepted here and checked by the plugin */
	ck_assert_int_eq(aml_config_set_arg(c, "executor.threads=2", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, "run.name=x=y", err, sizeof err), AML_OK);
	ck_assert_str_eq(aml_config_get(c, "run.name"), "x=y");
	aml_config_free(c);
	free(path);
}
END_TEST

START_TEST(test_lists)
{
	aml_config *c = fresh();
	char err[AML_ERRLEN] = "";
	char *path = write_tmp("plugins:\n  path: [/a, /b]\n");

	ck_assert_int_eq(aml_config_load_file(c, path, err, sizeof err), AML_OK);
	ck_assert_str_eq(aml_config_get(c, "plugins.path"), "/a,/b");
	aml_config_free(c);
	free(path);
}
END_TEST

static const struct {
	const char *kv;
	const char *msg;
} bad_args[] = {
	{"search.max_nodez=3", "unknown configuration key 'search.max_nodez'"},
	{"novalue", "expected key=value"},
	{"=3", "expected key=value"},
	{"a..b=1", "bad configuration key"},
	{"sp ace=1", "bad configuration key"},
};

START_TEST(test_bad_args)
{
	aml_config *c = fresh();
	char err[AML_ERRLEN] = "";

	ck_assert_int_eq(aml_config_set_arg(c, bad_args[_i].kv, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, bad_args[_i].msg) != NULL, "'%s' lacks '%s'", err, bad_args[_i].msg);
	aml_config_free(c);
}
END_TEST

static const struct {
	const char *text;
	const char *msg;
} bad_files[] = {
	{"search:\n  max_nodez: 3\n", ":2: unknown configuration key 'search.max_nodez'"},
	{"search: [1, 2\n", "c.yaml:"},
	{"- a\n- b\n", "must be a mapping"},
	{"plugins:\n  path: [{a: 1}]\n", "must be a list of plain values"},
};

START_TEST(test_bad_files)
{
	aml_config *c = fresh();
	char err[AML_ERRLEN] = "";
	char *path = write_tmp(bad_files[_i].text);

	ck_assert_int_ne(aml_config_load_file(c, path, err, sizeof err), AML_OK);
	ck_assert_msg(strstr(err, bad_files[_i].msg) != NULL, "'%s' lacks '%s'", err, bad_files[_i].msg);
	aml_config_free(c);
	free(path);
}
END_TEST

START_TEST(test_typed)
{
	aml_config *c = fresh();
	char err[AML_ERRLEN] = "";
	double d;
	long l;
	int b;

	ck_assert_int_eq(aml_config_set_arg(c, "search.max_nodes=many", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_long(c, "search.max_nodes", &l, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "-o: 'search.max_nodes' must be a whole number, got 'many'"), "%s", err);
	ck_assert_int_eq(aml_config_set_arg(c, "search.time_limit_s=2.5", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_double(c, "search.time_limit_s", &d, err, sizeof err), AML_OK);
	ck_assert_double_eq(d, 2.5);
	ck_assert_int_eq(aml_config_set_arg(c, "kb.enabled=off", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_bool(c, "kb.enabled", &b, err, sizeof err), AML_OK);
	ck_assert_int_eq(b, 0);
	ck_assert_int_eq(aml_config_set_arg(c, "kb.enabled=maybe", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_bool(c, "kb.enabled", &b, err, sizeof err), AML_EINVAL);
	ck_assert_int_eq(aml_config_long(c, "no.such.key", &l, err, sizeof err), AML_ENOTFOUND);
	aml_config_free(c);
}
END_TEST

START_TEST(test_dump_roundtrip)
{
	aml_config *c = fresh(), *d = fresh();
	char err[AML_ERRLEN] = "";
	char *buf = NULL, *path;
	size_t len = 0, i;
	const char *k;
	FILE *f = open_memstream(&buf, &len);

	ck_assert_int_eq(aml_config_set_arg(c, "run.name=a: \"quoted\" #x", err, sizeof err), AML_OK);
	aml_config_dump(c, f, 1);
	fclose(f);
	path = aml_path_join(tmpdir, "dump.yaml");
	ck_assert_int_eq(aml_write_file(path, buf, len, err, sizeof err), AML_OK);
	ck_assert_msg(aml_config_load_file(d, path, err, sizeof err) == AML_OK, "%s", err);
	for (i = 0; (k = aml_config_key_at(c, i)) != NULL; i++)
		ck_assert_str_eq(aml_config_get(c, k), aml_config_get(d, k));
	free(buf);
	free(path);
	aml_config_free(c);
	aml_config_free(d);
}
END_TEST

/* Secrets never leave the config table: the dump (config.yaml of a run
 * directory, 'automlgen config') shows them redacted. */
START_TEST(test_secrets_redacted)
{
	static const char *const secret[] = {"provider.api_key", "provider.openai.api_key",
					     "feedback.auth_token", "executor.x.password", "provider.key"};
	static const char *const plain[] = {"search.max_tokens", "provider.api_key_env",
					    "pricing.input_per_mtok", "provider.keyword", "run.name"};
	aml_config *c = fresh();
	char err[AML_ERRLEN] = "", *buf = NULL;
	size_t len = 0, i;
	FILE *f;

	for (i = 0; i < AML_ARRAY_LEN(secret); i++)
		ck_assert_msg(aml_config_is_secret(secret[i]), "%s", secret[i]);
	for (i = 0; i < AML_ARRAY_LEN(plain); i++)
		ck_assert_msg(!aml_config_is_secret(plain[i]), "%s", plain[i]);
	ck_assert_int_eq(aml_config_set_arg(c, "provider.api_key=sk-live-123", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, "feedback.api_key=", err, sizeof err), AML_OK);
	f = open_memstream(&buf, &len);
	aml_config_dump(c, f, 1);
	fclose(f);
	ck_assert_ptr_null(strstr(buf, "sk-live-123"));
	ck_assert_msg(strstr(buf, "provider.api_key: \"<redacted>\"  # -o") != NULL, "%s", buf);
	ck_assert_msg(strstr(buf, "feedback.api_key: \"\"") != NULL, "%s", buf);
	free(buf);
	aml_config_free(c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("conf");
	TCase *tc = tcase_create("conf");

	tcase_add_checked_fixture(tc, setup, teardown);

	tcase_add_test(tc, test_defaults);
	tcase_add_test(tc, test_layers);
	tcase_add_test(tc, test_lists);
	tcase_add_loop_test(tc, test_bad_args, 0, (int)AML_ARRAY_LEN(bad_args));
	tcase_add_loop_test(tc, test_bad_files, 0, (int)AML_ARRAY_LEN(bad_files));
	tcase_add_test(tc, test_typed);
	tcase_add_test(tc, test_dump_roundtrip);
	tcase_add_test(tc, test_secrets_redacted);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
