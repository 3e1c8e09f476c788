/*
 * check_manifest.c — manifest parsing: a valid one in full, and each kind
 * of malformed one with its file:line message.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "mock_host.h"
#include "util.h"

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

static int
load(const char *text, aml_manifest **m, char *err)
{
	char *p = aml_path_join(tmpdir, "manifest.yaml");
	FILE *f = fopen(p, "w");
	int rc;

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	rc = aml_manifest_load(p, m, err, AML_ERRLEN);
	free(p);
	return rc;
}

START_TEST(test_valid)
{
	char err[AML_ERRLEN] = "";
	aml_manifest *m = NULL;
	const aml_param_spec *p;

	ck_assert_msg(load("name: my-exec\nkind: executor\nversion: \"1.2.0\"\nabi: \"1.0\"\n"
			   "library: my_exec.so\ndescription: runs things\n"
			   "parameters:\n"
			   "  timeout_s: {type: float, default: 2.5, description: how long}\n"
			   "  threads: {type: int, default: 1}\n"
			   "  python: {type: string, default: \"\"}\n"
			   "  strict: {type: bool, default: yes}\n", &m, err) == AML_OK, "%s", err);
	ck_assert_str_eq(m->name, "my-exec");
	ck_assert_int_eq(m->kind, AML_KIND_EXECUTOR);
	ck_assert_str_eq(m->version, "1.2.0");
	ck_assert_uint_eq(m->abi_major, 1);
	ck_assert_uint_eq(m->abi_minor, 0);
	ck_assert_str_eq(m->library, "my_exec.so");
	ck_assert_str_eq(m->dir, tmpdir);
	ck_assert_uint_eq(m->n_params, 4);
	p = aml_manifest_param(m, "timeout_s");
	ck_assert_int_eq(p->type, AML_PARAM_FLOAT);
	ck_assert_str_eq(p->dflt, "2.5");
	ck_assert_str_eq(p->description, "how long");
	ck_assert_str_eq(aml_manifest_param(m, "python")->dflt, "");
	ck_assert_int_eq(aml_param_check(aml_manifest_param(m, "threads"), "x"), -1);
	ck_assert_int_eq(aml_param_check(aml_manifest_param(m, "threads"), "4"), 0);
	ck_assert_ptr_null(aml_manifest_param(m, "nope"));
	aml_manifest_free(m);
}
END_TEST

START_TEST(test_kb_without_library)
{
	char err[AML_ERRLEN] = "";
	aml_manifest *m = NULL;

	ck_assert_msg(load("name: mypack\nkind: kb\nversion: \"1\"\nabi: \"1.0\"\nentries: entries\n",
			   &m, err) == AML_OK, "%s", err);
	ck_assert_ptr_null(m->library);
	aml_manifest_free(m);
}
END_TEST

#define HEAD "name: x\nkind: provider\nversion: \"1\"\nabi: \"1.0\"\n"

static const struct {
	const char *text;
	const char *msg;
} bad[] = {
	{"kind: provider\nversion: \"1\"\nabi: \"1.0\"\nlibrary: x.so\n", "missing required key 'name'"},
	{"name: x\nversion: \"1\"\nabi: \"1.0\"\nlibrary: x.so\n", "missing required key 'kind'"},
	{"name: x\nkind: provider\nabi: \"1.0\"\nlibrary: x.so\n", "missing required key 'version'"},
	{"name: x\nkind: provider\nversion: \"1\"\nlibrary: x.so\n", "missing required key 'abi'"},
	{HEAD, "missing required key 'library'"},
	{"name: X Y\nkind: provider\nversion: \"1\"\nabi: \"1.0\"\nlibrary: x.so\n", ":1: name 'X Y' must be"},
	{"name: x\nkind: gadget\nversion: \"1\"\nabi: \"1.0\"\nlibrary: x.so\n", ":2: unknown kind 'gadget'"},
	{"name: x\nkind: provider\nversion: \"1\"\nabi: one\nlibrary: x.so\n", ":4: abi 'one' must be MAJOR.MINOR"},
	{HEAD "library: ../evil.so\n", ":5: library '../evil.so' must be a plain file name"},
	{HEAD "library: [a]\n", ":5: 'library' must be a file name"},
	{HEAD "library: x.so\nlbrary: y\n", ":6: unknown key 'lbrary'"},
	{HEAD "library: x.so\nparameters: [a]\n", ":6: 'parameters' must be a mapping"},
	{HEAD "library: x.so\nparameters:\n  t: 3\n", ":7: parameter 't' must be a mapping"},
	{HEAD "library: x.so\nparameters:\n  t: {default: 3}\n", ":7: parameter 't' has no type"},
	{HEAD "library: x.so\nparameters:\n  t: {type: number, default: 3}\n", "unknown type 'number'"},
	{HEAD "library: x.so\nparameters:\n  t: {type: int}\n", ":7: parameter 't' has no default"},
	{HEAD "library: x.so\nparameters:\n  t: {type: int, default: lots}\n", "the default 'lots' of parameter 't' is not a int"},
	{"- a\n", "a manifest must be a mapping"},
	{"name: x\nname: y\n", "duplicate key 'name'"},
	{"name: [x\n", "manifest.yaml:"},
};

START_TEST(test_malformed)
{
	char err[AML_ERRLEN] = "";
	aml_manifest *m = NULL;

	ck_assert_int_eq(load(bad[_i].text, &m, err), AML_EFORMAT);
	ck_assert_ptr_null(m);
	ck_assert_msg(strstr(err, bad[_i].msg) != NULL, "case %d: '%s' lacks '%s'", _i, err, bad[_i].msg);
	ck_assert_msg(strstr(err, "manifest.yaml") != NULL, "'%s' does not name the file", err);
}
END_TEST

START_TEST(test_missing_file)
{
	char err[AML_ERRLEN] = "";
	aml_manifest *m = NULL;

	ck_assert_int_eq(aml_manifest_load("/nonexistent/manifest.yaml", &m, err, sizeof err), AML_ENOTFOUND);
	ck_assert(strstr(err, "/nonexistent/manifest.yaml") != NULL);
}
END_TEST

START_TEST(test_kinds)
{
	aml_kind k;

	ck_assert_int_eq(aml_kind_parse("operator", &k), 0);
	ck_assert_int_eq(k, AML_KIND_OPERATOR);
	ck_assert_str_eq(aml_kind_section(AML_KIND_OPERATOR), "operators");
	ck_assert_str_eq(aml_kind_name(AML_KIND_KB), "kb");
	ck_assert_int_eq(aml_kind_parse("Operator", &k), -1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("manifest");
	TCase *tc = tcase_create("manifest");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_kb_without_library);
	tcase_add_loop_test(tc, test_malformed, 0, (int)AML_ARRAY_LEN(bad));
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_kinds);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
