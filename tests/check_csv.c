/*
 * check_csv.c — the CSV reader: RFC 4180 quoting, line ends, BOM, line
 * numbers, every refusal, streaming across buffer boundaries, whole
 * tables, cell values and the string map.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "mock_host.h"
#include "util.h"

static aml_csv_table *
table(const char *text, int *rc, char *err)
{
	aml_csv_table *t = NULL;

	*rc = aml_csv_load_mem("t.csv", text, strlen(text), &t, err, AML_ERRLEN);
	return t;
}

START_TEST(test_quoting)
{
	char err[AML_ERRLEN] = "";
	int rc;
	aml_csv_table *t = table("\xEF\xBB\xBFid,text,n\r\n"
				 "1,\"a, b\",2\r\n"
				 "2,\"say \"\"hi\"\"\",\r\n"
				 "3,\"two\r\nlines\",5\r\n"
				 "4,,\"\"\r\n"
				 "5,x\"y,6", &rc, err);

	ck_assert_msg(rc == AML_OK, "%s", err);
	ck_assert_uint_eq(t->ncols, 3);
	ck_assert_uint_eq(t->nrows, 5);
	ck_assert_str_eq(t->header[0], "id"); /* BOM skipped */
	ck_assert_str_eq(t->cols[1][0], "a, b");
	ck_assert_str_eq(t->cols[1][1], "say \"hi\"");
	ck_assert_str_eq(t->cols[2][1], "");
	ck_assert_str_eq(t->cols[1][2], "two\r\nlines");
	ck_assert_str_eq(t->cols[1][3], "");
	ck_assert_str_eq(t->cols[2][3], "");
	ck_assert_str_eq(t->cols[1][4], "x\"y"); /* a stray quote is kept */
	ck_assert_str_eq(t->cols[2][4], "6");    /* no newline at the end */
	/* lines: the quoted line break moves every later row down one */
	ck_assert_uint_eq(t->lines[0], 2);
	ck_assert_uint_eq(t->lines[2], 4);
	ck_assert_uint_eq(t->lines[3], 6);
	ck_assert_uint_eq(t->lines[4], 7);
	ck_assert_int_eq(aml_csv_column(t, "n"), 2);
	ck_assert_int_eq(aml_csv_column(t, "N"), -1);
	aml_csv_table_free(t);
}
END_TEST

START_TEST(test_line_ends)
{
	char err[AML_ERRLEN] = "";
	int rc;
	aml_csv_table *t;

	/* lone CRs, blank lines (skipped), a trailing empty field */
	t = table("a,b\r1,2\r\r\n\n3,\n\n", &rc, err);
	ck_assert_msg(rc == AML_OK, "%s", err);
	ck_assert_uint_eq(t->nrows, 2);
	ck_assert_str_eq(t->cols[1][0], "2");
	ck_assert_str_eq(t->cols[0][1], "3");
	ck_assert_str_eq(t->cols[1][1], "");
	ck_assert_uint_eq(t->lines[1], 5);
	aml_csv_table_free(t);

	/* a header alone is a table with no rows */
	t = table("x,y\n", &rc, err);
	ck_assert_int_eq(rc, AML_OK);
	ck_assert_uint_eq(t->nrows, 0);
	ck_assert_uint_eq(t->ncols, 2);
	aml_csv_table_free(t);
}
END_TEST

static const struct {
	const char *text;
	const char *msg;
} bad[] = {
	{"", "t.csv: empty file (no header line)"},
	{"\n\n", "t.csv: empty file"},
	{"a,b,c\n1,2,3\n4,5\n", "t.csv:3: 2 fields, but the header has 3"},
	{"a,b\n1,2\n3,4,5\n", "t.csv:3: 3 fields, but the header has 2"},
	{"a,b\n1,\"open\n2,3\n", "t.csv:2: quoted field never closes"},
	{"a,b\n1,\"x\"y\n", "t.csv:2: unexpected character after a closing quote"},
	{"a,b\n1,\"x\" \n", "t.csv:2: unexpected character after a closing quote"},
	{"a,b\n\"q\nq\",1\n5,\"x\"z\n", "t.csv:4: unexpected character"},
};

START_TEST(test_refusals)
{
	char err[AML_ERRLEN] = "";
	int rc;
	aml_csv_table *t = table(bad[_i].text, &rc, err);

	ck_assert_ptr_null(t);
	ck_assert_int_eq(rc, AML_EFORMAT);
	ck_assert_msg(strstr(err, bad[_i].msg) != NULL, "'%s' lacks '%s'", err, bad[_i].msg);
}
END_TEST

START_TEST(test_nul_byte)
{
	static const char text[] = "a,b\n1,2\n3,\0\n";
	char err[AML_ERRLEN] = "";
	aml_csv_table *t = NULL;

	ck_assert_int_eq(aml_csv_load_mem("t.csv", text, sizeof text - 1, &t, err,
					  sizeof err), AML_EFORMAT);
	ck_assert_ptr_null(t);
	ck_assert_msg(strstr(err, "t.csv:3: NUL byte") != NULL, "%s", err);
}
END_TEST

START_TEST(test_streaming)
{
	char err[AML_ERRLEN] = "";
	char *tmp = aml_test_tmpdir(), *path = aml_path_join(tmp, "big.csv");
	aml_sb b = {0};
	const char *const *f;
	aml_csv *r;
	size_t i, rows = 0;
	int rc;

	/* A quoted field of 200 000 bytes with doubled quotes straddles the
	 * reader's 64 KiB buffer several times; then 30 000 short rows. */
	aml_sb_puts(&b, "id,text\n0,\"");
	for (i = 0; i < 100000; i++)
		aml_sb_puts(&b, i % 1000 == 999 ? "\"\"" : "xy");
	aml_sb_puts(&b, "\"\n");
	for (i = 1; i <= 30000; i++)
		aml_sb_printf(&b, "%zu,row %zu\r\n", i, i);
	ck_assert(!b.oom);
	ck_assert_int_eq(aml_write_file(path, b.s, b.len, err, sizeof err), AML_OK);
	aml_sb_free(&b);

	ck_assert_int_eq(aml_csv_open(path, &r, err, sizeof err), AML_OK);
	ck_assert_uint_eq(aml_csv_ncols(r), 2);
	ck_assert_str_eq(aml_csv_header(r)[1], "text");
	while ((rc = aml_csv_next(r, &f, err, sizeof err)) == 1) {
		if (rows == 0) {
			ck_assert_uint_eq(strlen(f[1]), 200000 - 100);
			ck_assert_int_eq(f[1][1998], '"');
		}
		if (rows == 30000) {
			ck_assert_str_eq(f[0], "30000");
			ck_assert_str_eq(f[1], "row 30000");
			ck_assert_uint_eq(aml_csv_line(r), 30002);
		}
		rows++;
	}
	ck_assert_int_eq(rc, 0);
	ck_assert_uint_eq(rows, 30001);
	ck_assert_uint_eq(aml_csv_rows(r), 30001);
	ck_assert_int_eq(aml_csv_next(r, &f, err, sizeof err), 0); /* still the end */
	aml_csv_close(r);
	free(path);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_sticky_error)
{
	static const char text[] = "a\n1\n\"x\n";
	char err[AML_ERRLEN] = "";
	const char *const *f;
	aml_csv *r;

	ck_assert_int_eq(aml_csv_open_mem("m.csv", text, sizeof text - 1, &r, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_csv_next(r, &f, err, sizeof err), 1);
	ck_assert_int_eq(aml_csv_next(r, &f, err, sizeof err), AML_EFORMAT);
	ck_assert_ptr_null(f);
	err[0] = '\0';
	ck_assert_int_eq(aml_csv_next(r, &f, err, sizeof err), AML_EFORMAT);
	ck_assert_msg(strstr(err, "m.csv:3: quoted field never closes") != NULL, "%s", err);
	aml_csv_close(r);
}
END_TEST

START_TEST(test_files)
{
	char err[AML_ERRLEN] = "";
	char *tmp = aml_test_tmpdir(), *path = aml_path_join(tmp, "s.csv");
	aml_csv_table *t = NULL;
	aml_csv *r = NULL;

	ck_assert_int_eq(aml_csv_open("/nonexistent/x.csv", &r, err, sizeof err), AML_ENOTFOUND);
	ck_assert_ptr_null(r);
	ck_assert(strstr(err, "/nonexistent/x.csv") != NULL);
	ck_assert_int_eq(aml_csv_load(tmp, 0, &t, err, sizeof err), AML_EIO);
	ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s", err);
	ck_assert_int_eq(aml_write_file(path, "a,b\n1,2\n", 8, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_csv_load(path, 4, &t, err, sizeof err), AML_EFORMAT);
	ck_assert_msg(strstr(err, "larger than 4 bytes") != NULL, "%s", err);
	ck_assert_int_eq(aml_csv_load(path, 8, &t, err, sizeof err), AML_OK);
	ck_assert_str_eq(t->name, path);
	ck_assert_str_eq(t->cols[1][0], "2");
	aml_csv_table_free(t);
	free(path);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_columns)
{
	char err[AML_ERRLEN] = "";
	const char *dup = NULL;
	int rc;
	aml_csv_table *t = table("a,b,a,c\n1,x,2.5,\n-3e2,y,4,1\n", &rc, err);

	ck_assert_int_eq(rc, AML_OK);
	ck_assert(aml_csv_has_duplicate_column(t, &dup));
	ck_assert_str_eq(dup, "a");
	ck_assert(aml_csv_column_is_numeric(t, 0));
	ck_assert(!aml_csv_column_is_numeric(t, 1));
	ck_assert(aml_csv_column_is_numeric(t, 2));
	ck_assert(!aml_csv_column_is_numeric(t, 3)); /* an empty cell */
	ck_assert(!aml_csv_column_is_numeric(t, 9));
	aml_csv_table_free(t);
	t = table("a,b\n", &rc, err);
	ck_assert(!aml_csv_has_duplicate_column(t, NULL));
	ck_assert(!aml_csv_column_is_numeric(t, 0)); /* no values at all */
	aml_csv_table_free(t);
}
END_TEST

START_TEST(test_numbers)
{
	static const struct {
		const char *s;
		double v;
	} good[] = {
		{"1", 1}, {"-2.5e3", -2500}, {" 3 ", 3}, {".5", 0.5}, {"5.", 5},
		{"+7", 7}, {"1E-2", 0.01}, {"0", 0},
	};
	static const char *const notnum[] = {
		"", " ", "nan", "NaN", "inf", "-Infinity", "0x10", "1e", "1,0",
		"abc", "1e999", "1.2.3", "--1", ".", "e5", "1 2",
	};
	size_t i;
	double v;

	for (i = 0; i < AML_ARRAY_LEN(good); i++) {
		ck_assert_msg(aml_csv_number(good[i].s, &v) == 0, "'%s'", good[i].s);
		ck_assert_double_eq(v, good[i].v);
	}
	for (i = 0; i < AML_ARRAY_LEN(notnum); i++)
		ck_assert_msg(aml_csv_number(notnum[i], &v) != 0, "'%s' taken", notnum[i]);
	ck_assert(aml_csv_is_missing(""));
	ck_assert(aml_csv_is_missing("  NaN "));
	ck_assert(aml_csv_is_missing("N/A"));
	ck_assert(aml_csv_is_missing("None"));
	ck_assert(!aml_csv_is_missing("0"));
	ck_assert(!aml_csv_is_missing("nana"));
	ck_assert(aml_csv_is_integer("42"));
	ck_assert(aml_csv_is_integer("-3.0"));
	ck_assert(aml_csv_is_integer("1e3"));
	ck_assert(!aml_csv_is_integer("2.5"));
	ck_assert(!aml_csv_is_integer("two"));
}
END_TEST

START_TEST(test_map)
{
	aml_csv_map *m = aml_csv_map_new();
	char key[32];
	size_t i, v = 0;

	ck_assert_ptr_nonnull(m);
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof key, "k%zu", i);
		ck_assert_int_eq(aml_csv_map_add(m, key, i * 2, NULL), 1);
	}
	ck_assert_int_eq(aml_csv_map_add(m, "k17", 5, &v), 0);
	ck_assert_uint_eq(v, 34); /* the old value stays */
	ck_assert_uint_eq(aml_csv_map_count(m), 10000);
	ck_assert(aml_csv_map_get(m, "k9999", &v));
	ck_assert_uint_eq(v, 19998);
	ck_assert(!aml_csv_map_get(m, "k10000", NULL));
	ck_assert(!aml_csv_map_get(m, "", NULL));
	aml_csv_map_set(m, "k3", 1);
	aml_csv_map_set(m, "absent", 1);
	ck_assert(aml_csv_map_get(m, "k3", &v));
	ck_assert_uint_eq(v, 1);
	ck_assert_str_eq(aml_csv_map_key(m, 0), "k0");
	ck_assert_str_eq(aml_csv_map_key(m, 9999), "k9999");
	ck_assert_uint_eq(aml_csv_map_value(m, 3), 1);
	ck_assert_ptr_null(aml_csv_map_key(m, 10000));
	aml_csv_map_free(m);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("csv");
	TCase *tc = tcase_create("csv");

	tcase_add_test(tc, test_quoting);
	tcase_add_test(tc, test_line_ends);
	tcase_add_loop_test(tc, test_refusals, 0, (int)AML_ARRAY_LEN(bad));
	tcase_add_test(tc, test_nul_byte);
	tcase_add_test(tc, test_streaming);
	tcase_add_test(tc, test_sticky_error);
	tcase_add_test(tc, test_files);
	tcase_add_test(tc, test_columns);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_map);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
