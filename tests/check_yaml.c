/*
 * check_yamltree.c — the YAML tree: structure, line numbers, every refusal.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "mock_host.h"
#include "util.h"
#include "yamltree.h"

static aml_ynode *
load(const char *text, char *err, int *rc)
{
	aml_ynode *n = NULL;

	*rc = aml_yaml_load_string(text, strlen(text), "t.yaml", &n, err, AML_ERRLEN);
	return n;
}

START_TEST(test_structure)
{
	char err[AML_ERRLEN] = "";
	int rc;
	aml_ynode *n = load("name: x\nlist:\n  - a\n  - 'b'\nmap: {k: v}\nempty:\n", err, &rc);
	const aml_ynode *l;

	ck_assert_int_eq(rc, AML_OK);
	ck_assert_int_eq(n->type, AML_Y_MAP);
	ck_assert_str_eq(aml_ynode_str(n, "name"), "x");
	l = aml_ynode_get(n, "list");
	ck_assert_int_eq(l->type, AML_Y_SEQ);
	ck_assert_uint_eq(l->n, 2);
	ck_assert_int_eq(l->line, 3);
	ck_assert_str_eq(l->items[1]->scalar, "b");
	ck_assert_int_eq(l->items[1]->quoted, 1);
	ck_assert_str_eq(aml_ynode_str(aml_ynode_get(n, "map"), "k"), "v");
	ck_assert(aml_ynode_is_null(aml_ynode_get(n, "empty")));
	ck_assert_ptr_null(aml_ynode_get(n, "absent"));
	aml_ynode_free(n);
}
END_TEST

START_TEST(test_empty_document)
{
	char err[AML_ERRLEN] = "";
	int rc;
	aml_ynode *n = load("", err, &rc);

	ck_assert_int_eq(rc, AML_OK);
	ck_assert_int_eq(n->type, AML_Y_MAP);
	ck_assert_uint_eq(n->n, 0);
	aml_ynode_free(n);
	n = load("# only a comment\n", err, &rc);
	ck_assert_int_eq(rc, AML_OK);
	aml_ynode_free(n);
}
END_TEST

static const struct {
	const char *text;
	const char *msg;
} bad[] = {
	{"a: [1, 2\n", "t.yaml:"},
	{"a: 1\na: 2\n", "t.yaml:2: duplicate key 'a'"},
	{"a: &x 1\nb: *x\n", "t.yaml:2: aliases"},
	{"a: &x {k: 1}\n", "t.yaml:1: anchors"},
	{"a: 1\n---\nb: 2\n", "only one YAML document"},
	{"? [a, b]\n: c\n", "mapping keys must be plain scalars"},
	{"a:\n\tb: 1\n", "t.yaml:"},
};

START_TEST(test_refusals)
{
	char err[AML_ERRLEN] = "";
	int rc;
	aml_ynode *n = load(bad[_i].text, err, &rc);

	ck_assert_ptr_null(n);
	ck_assert_int_eq(rc, AML_EFORMAT);
	ck_assert_msg(strstr(err, bad[_i].msg) != NULL, "'%s' lacks '%s'", err, bad[_i].msg);
}
END_TEST

START_TEST(test_too_deep)
{
	char err[AML_ERRLEN] = "", text[400];
	int rc, i;
	aml_ynode *n;

	for (i = 0; i < 100; i++)
		text[i] = '[';
	text[100] = '\0';
	n = load(text, err, &rc);
	ck_assert_ptr_null(n);
	ck_assert_msg(strstr(err, "nested too deeply") != NULL || strstr(err, "t.yaml:") != NULL, "%s", err);
}
END_TEST

START_TEST(test_missing_file)
{
	char err[AML_ERRLEN] = "";
	aml_ynode *n = NULL;

	ck_assert_int_eq(aml_yaml_load_file("/nonexistent/x.yaml", &n, err, sizeof err), AML_ENOTFOUND);
	ck_assert_ptr_null(n);
	ck_assert(strstr(err, "/nonexistent/x.yaml") != NULL);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("yaml");
	TCase *tc = tcase_create("yaml");

	tcase_add_test(tc, test_structure);
	tcase_add_test(tc, test_empty_document);
	tcase_add_loop_test(tc, test_refusals, 0, (int)AML_ARRAY_LEN(bad));
	tcase_add_test(tc, test_too_deep);
	tcase_add_test(tc, test_missing_file);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
