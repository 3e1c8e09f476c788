/*
 * check_report.c — `automlgen report` and `automlgen runs` (report.h,
 * cmd_report.c, cmd_runs.c): the line diff on known cases, on random
 * texts against a dynamic-programming LCS, and past its bound; HTML and
 * script escaping; the page made from a real 30-node synthetic run with a
 * hostile script planted in it (every node in the graph and the table,
 * the planted text only ever as text, every node's code rebuilt exactly
 * from the page's edit scripts); a run with missing node files; refused
 * summaries (exit 2, one line); and `runs` over finished, interrupted
 * and broken run directories.  The sub-commands are linked in and called
 * directly, their stdout and stderr captured.  The page in a real
 * browser is check_report_browser.c.
 */
#include "config.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "check_reportutil.h"
#include "cli.h"
#include "report.h"

#define RUN_NODES 30

static char *tmpdir;        /* per test */
static char *fixdir;        /* per suite: the run below */
static char *fixrun;        /* a 30-node run with a planted node */
static int planted;
static char *out_text, *err_text;

static void
suite_setup(void)
{
	fixdir = aml_test_tmpdir();
	fixrun = rt_run(fixdir, "fixture", RUN_NODES);
	planted = rt_plant(fixrun);
}

static void
suite_teardown(void)
{
	aml_test_rmtree(fixdir);
	AML_FREE(fixdir);
	AML_FREE(fixrun);
}

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

/* Call a sub-command with args (NULL-terminated) with stdout and stderr
 * captured into out_text and err_text.  Returns its exit status. */
static int
cmd(int (*fn)(int, char **), const char *name, ...)
{
	const char *argv[40];
	char *outp = aml_path_join(tmpdir, "out.txt"), *errp = aml_path_join(tmpdir, "err.txt");
	int n = 0, rc, so, se, fo, fe;
	va_list ap;

	argv[n++] = name;
	va_start(ap, name);
	for (const char *a = va_arg(ap, const char *); a && n < 39; a = va_arg(ap, const char *))
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
	rc = fn(n, (char **)argv);
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

static void
sh(const char *fmt, ...)
{
	char buf[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	ck_assert_msg(system(buf) == 0, "%s", buf);
}

/* ------------------------------------------------------------------ */
/* The line diff                                                       */

/* The ops as "=2 -1 +1", and a check that they turn a into b. */
static char *
diff_str(const char *a, const char *b)
{
	aml_diff_op *ops = NULL;
	size_t n = 0, i, k, na = 0, nb = 0;
	aml_sb s = {0}, rebuilt = {0};
	const char *kind = "=-+";
	char *la = strdup(a), *lb = strdup(b), **va, **vb, *p;
	int first = 1;

	ck_assert_int_eq(aml_line_diff(a, b, &ops, &n), AML_OK);
	va = calloc(aml_diff_count_lines(a), sizeof *va);
	vb = calloc(aml_diff_count_lines(b), sizeof *vb);
	for (p = la, va[na++] = p; (p = strchr(p, '\n')) != NULL; va[na++] = ++p)
		*p = '\0';
	for (p = lb, vb[nb++] = p; (p = strchr(p, '\n')) != NULL; vb[nb++] = ++p)
		*p = '\0';
	for (i = 0; i < n; i++) {
		aml_sb_printf(&s, "%s%c%zu", i ? " " : "", kind[ops[i].kind], ops[i].n);
		ck_assert_uint_gt(ops[i].n, 0);
		for (k = 0; k < ops[i].n; k++) {
			if (ops[i].kind == AML_DIFF_KEEP) {
				ck_assert_str_eq(va[ops[i].a_at + k], vb[ops[i].b_at + k]);
				aml_sb_printf(&rebuilt, "%s%s", first ? "" : "\n", va[ops[i].a_at + k]);
				first = 0;
			} else if (ops[i].kind == AML_DIFF_ADD) {
				aml_sb_printf(&rebuilt, "%s%s", first ? "" : "\n", vb[ops[i].b_at + k]);
				first = 0;
			}
		}
	}
	ck_assert_str_eq(rebuilt.s ? rebuilt.s : "", b);
	aml_sb_free(&rebuilt);
	free(va);
	free(vb);
	free(la);
	free(lb);
	free(ops);
	return aml_sb_take(&s);
}

static const struct {
	const char *a, *b, *ops;
} diff_cases[] = {
	{"", "", "=1"},
	{"a\nb\nc", "a\nb\nc", "=3"},
	{"a\nb\nc", "a\nx\nc", "=1 -1 +1 =1"},
	{"a\nb\nc\n", "a\nc\n", "=1 -1 =2"},
	{"a\nc\n", "a\nb\nc\n", "=1 +1 =2"},
	{"x", "y", "-1 +1"},
	{"", "x\ny", "-1 +2"},
	{"a\nb", "b\na", "-1 =1 +1"},
	{"a\nb\nc\nd\ne", "a\nB\nc\nD\ne", "=1 -1 +1 =1 -1 +1 =1"},
	{"keep\nold1\nold2\nkeep2", "keep\nnew\nkeep2", "=1 -2 +1 =1"},
	{"same\n", "same", "=1 -1"},
};

START_TEST(test_diff_cases)
{
	char *s = diff_str(diff_cases[_i].a, diff_cases[_i].b);

	ck_assert_msg(strcmp(s, diff_cases[_i].ops) == 0, "case %d: got '%s', want '%s'", _i, s,
		      diff_cases[_i].ops);
	free(s);
}
END_TEST

/* Myers' example (abcabba -> cbabac) has distance 5. */
START_TEST(test_diff_myers_example)
{
	aml_diff_op *ops;
	size_t n, i, d = 0;

	ck_assert_int_eq(aml_line_diff("a\nb\nc\na\nb\nb\na", "c\nb\na\nb\na\nc", &ops, &n), AML_OK);
	for (i = 0; i < n; i++)
		if (ops[i].kind != AML_DIFF_KEEP)
			d += ops[i].n;
	ck_assert_uint_eq(d, 5);
	free(ops);
	free(diff_str("a\nb\nc\na\nb\nb\na", "c\nb\na\nb\na\nc"));
}
END_TEST

/* Random texts over a small alphabet: the ops rebuild b, and their
 * distance is the shortest, by an LCS table. */
START_TEST(test_diff_random)
{
	unsigned seed = 12345;
	int round;

	for (round = 0; round < 300; round++) {
		char a[128], b[128];
		size_t na = 1 + (size_t)(rand_r(&seed) % 40), nb = 1 + (size_t)(rand_r(&seed) % 40);
		size_t i, j, d = 0, n;
		static size_t lcs[41][41];
		aml_diff_op *ops;

		for (i = 0; i < na; i++) {
			a[2 * i] = (char)('a' + rand_r(&seed) % 4);
			a[2 * i + 1] = '\n';
		}
		a[2 * na - 1] = '\0';
		for (i = 0; i < nb; i++) {
			b[2 * i] = (char)('a' + rand_r(&seed) % 4);
			b[2 * i + 1] = '\n';
		}
		b[2 * nb - 1] = '\0';
		for (i = 0; i <= na; i++)
			for (j = 0; j <= nb; j++)
				lcs[i][j] = i == 0 || j == 0 ? 0
					: a[2 * (i - 1)] == b[2 * (j - 1)] ? lcs[i - 1][j - 1] + 1
					: lcs[i - 1][j] > lcs[i][j - 1] ? lcs[i - 1][j] : lcs[i][j - 1];
		ck_assert_int_eq(aml_line_diff(a, b, &ops, &n), AML_OK);
		for (i = 0; i < n; i++)
			if (ops[i].kind != AML_DIFF_KEEP)
				d += ops[i].n;
		ck_assert_msg(d == na + nb - 2 * lcs[na][nb], "round %d: distance %zu, LCS says %zu",
			      round, d, na + nb - 2 * lcs[na][nb]);
		free(ops);
		free(diff_str(a, b));
	}
}
END_TEST

/* Texts too different for the search bound still get a correct diff. */
START_TEST(test_diff_past_bound)
{
	aml_sb a = {0}, b = {0};
	int i;
	char *s;

	for (i = 0; i < 3000; i++) {
		aml_sb_printf(&a, "common head %d\n", i < 5 ? i : -1);
		aml_sb_printf(&b, "common head %d\n", i < 5 ? i : -2);
	}
	aml_sb_puts(&a, "tail");
	aml_sb_puts(&b, "tail");
	/* 5 kept, 2995 dropped (one run of repeats), 2995 added, 1 kept */
	s = diff_str(a.s, b.s);
	ck_assert_str_eq(s, "=5 -2995 +2995 =1");
	free(s);
	aml_sb_free(&a);
	aml_sb_free(&b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Escaping                                                            */

START_TEST(test_escape)
{
	aml_sb b = {0};

	aml_html_escape(&b, RT_INJECT " & \"q\" 'a'");
	ck_assert_str_eq(b.s, "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;&lt;!-- "
			 "&amp; &quot;q&quot; &#39;a&#39;");
	aml_sb_free(&b);
	aml_json_script_escape(&b, "{\"code\":\"" RT_INJECT " & more\"}");
	ck_assert_str_eq(b.s, "{\"code\":\"\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"
			 "\\u003c/script\\u003e\\u003c!-- \\u0026 more\"}");
	aml_sb_free(&b);
	aml_html_escape(&b, "");
	ck_assert_str_eq(b.s ? b.s : "", "");
	aml_sb_free(&b);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The page                                                            */

static json_object *
page_data(const char *html)
{
	const char *tag = "<script type=\"application/json\" id=\"report-data\">";
	const char *s = strstr(html, tag), *e;
	json_object *o;
	char *text;

	ck_assert_ptr_nonnull(s);
	s += strlen(tag);
	e = strstr(s, "</script>");
	ck_assert_ptr_nonnull(e);
	text = strndup(s, (size_t)(e - s));
	o = json_tokener_parse(text);
	ck_assert_msg(o != NULL, "the page's data is not JSON");
	free(text);
	return o;
}

static json_object *
get(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s'", key);
	return v;
}

/* Rebuild every node's code from the page's data (bases come first) and
 * compare with its solution.py. */
static void
check_codes(json_object *data, const char *run_dir)
{
	json_object *nodes = get(data, "nodes");
	size_t n = json_object_array_length(nodes), i, k, m, with_diff = 0;
	aml_sb *codes = calloc(200, sizeof *codes);
	int *have = calloc(200, sizeof *have);

	for (i = 0; i < n; i++) {
		json_object *nd = json_object_array_get_idx(nodes, i), *code, *f, *d;
		int id = json_object_get_int(get(nd, "id"));
		char rel[64], *path, *want;

		ck_assert_int_lt(id, 200);
		snprintf(rel, sizeof rel, "nodes/%04d/solution.py", id);
		path = aml_path_join(run_dir, rel);
		if (!json_object_object_get_ex(nd, "code", &code)) {
			ck_assert_msg(!aml_is_file(path), "node %d: its code is not in the page", id);
			free(path);
			continue;
		}
		if (json_object_object_get_ex(code, "f", &f)) {
			aml_sb_puts(&codes[id], json_object_get_string(f));
		} else {
			/* base lines, then the edit script */
			int base = json_object_get_int(get(code, "base"));
			char *bt, **bl, *p;
			size_t nbl = 0, pos = 0;
			int first = 1;

			ck_assert(have[base]);
			bt = strdup(codes[base].s ? codes[base].s : "");
			bl = calloc(aml_diff_count_lines(bt), sizeof *bl);
			for (p = bt, bl[nbl++] = p; (p = strchr(p, '\n')) != NULL; bl[nbl++] = ++p)
				*p = '\0';
			d = get(code, "d");
			for (k = 0; k < json_object_array_length(d); k++) {
				json_object *op = json_object_array_get_idx(d, k);

				if (json_object_is_type(op, json_type_array)) {
					for (m = 0; m < json_object_array_length(op); m++) {
						aml_sb_printf(&codes[id], "%s%s", first ? "" : "\n",
							      json_object_get_string(
								      json_object_array_get_idx(op, m)));
						first = 0;
					}
				} else if (json_object_get_int(op) > 0) {
					for (m = 0; m < (size_t)json_object_get_int(op); m++) {
						ck_assert_uint_lt(pos, nbl);
						aml_sb_printf(&codes[id], "%s%s", first ? "" : "\n",
							      bl[pos++]);
						first = 0;
					}
				} else {
					pos += (size_t)-json_object_get_int(op);
				}
			}
			ck_assert_uint_eq(pos, nbl);
			free(bl);
			free(bt);
			with_diff++;
		}
		have[id] = 1;
		want = rt_read(run_dir, rel);
		ck_assert_msg(strcmp(codes[id].s ? codes[id].s : "", want) == 0,
			      "node %d: the code rebuilt from the page differs from solution.py", id);
		free(want);
		free(path);
	}
	ck_assert_uint_gt(with_diff, 0);
	for (i = 0; i < 200; i++)
		aml_sb_free(&codes[i]);
	free(codes);
	free(have);
}

START_TEST(test_report_of_run)
{
	char *out = aml_path_join(tmpdir, "page.html"), *html, *sumtext, *graph, buf[128];
	json_object *sum = NULL, *nodes, *data;
	size_t i, refs = 0, roots = 0;
	int best;

	ck_assert_int_eq(cmd(aml_cmd_report, "report", fixrun, "-o", out, NULL), 0);
	ck_assert_str_eq(err_text, "");
	ck_assert_ptr_nonnull(strstr(out_text, "page.html"));
	html = rt_read(tmpdir, "page.html");
	sumtext = rt_read(fixrun, "summary.json");
	sum = json_tokener_parse(sumtext);
	nodes = get(sum, "nodes");
	ck_assert_uint_eq(json_object_array_length(nodes), RUN_NODES);
	/* one page, nothing from outside */
	ck_assert(strncmp(html, "<!DOCTYPE html>", 15) == 0);
	ck_assert_ptr_null(strstr(html, "src=\""));
	ck_assert_ptr_null(strstr(html, "<link"));
	ck_assert_ptr_null(strstr(html, "href=\"http"));
	ck_assert_ptr_null(strstr(html, "url("));
	ck_assert_ptr_null(strstr(html, "@import"));
	/* the graph: a node element per node; the table: a row per node */
	ck_assert_ptr_nonnull(strstr(html, "<svg id=\"graph\""));
	ck_assert_ptr_nonnull(strstr(html, "<svg id=\"scores\""));
	ck_assert_ptr_nonnull(strstr(html, "<table id=\"nodes\">"));
	ck_assert_uint_eq(rt_count(html, "<g class=\"node "), RUN_NODES);
	ck_assert_uint_eq(rt_count(html, "<tr data-id=\""), RUN_NODES);
	for (i = 0; i < RUN_NODES; i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *r;
		int id = json_object_get_int(get(n, "id"));

		snprintf(buf, sizeof buf, "id=\"g%d\" data-id=\"%d\"", id, id);
		ck_assert_msg(strstr(html, buf), "node %d not in the graph", id);
		snprintf(buf, sizeof buf, "<tr data-id=\"%d\"", id);
		ck_assert_msg(strstr(html, buf), "node %d not in the table", id);
		if (json_object_object_get_ex(n, "refs", &r))
			refs += json_object_array_length(r);
		roots += json_object_get_int(get(n, "parent")) < 0;
	}
	graph = strstr(html, "<svg id=\"graph\"");
	graph = strndup(graph, (size_t)(strstr(graph, "</svg>") - graph));
	ck_assert_uint_eq(rt_count(graph, "<path class=\"ref ref-"), refs);
	ck_assert_uint_eq(rt_count(graph, "<path class=\"edge\""), RUN_NODES - roots);
	ck_assert_uint_eq(rt_count(graph, "<g class=\"node "), RUN_NODES);
	free(graph);
	/* the best node is marked, in the graph and the table */
	best = json_object_get_int(get(sum, "best_node"));
	snprintf(buf, sizeof buf, " best\" id=\"g%d\"", best);
	ck_assert_ptr_nonnull(strstr(html, buf));
	snprintf(buf, sizeof buf, "<tr data-id=\"%d\" class=\"st-valid best\"", best);
	ck_assert_ptr_nonnull(strstr(html, buf));
	ck_assert_ptr_nonnull(strstr(html, "id=\"best-code\""));
	/* failures are marked */
	ck_assert_uint_gt(rt_count(html, "st-buggy") + rt_count(html, "st-invalid"), 0);
	/* the planted text: never markup; escaped where it shows */
	ck_assert_uint_eq(rt_count(html, "<script"), 3);
	ck_assert_uint_eq(rt_count(html, "</script>"), 3);
	ck_assert_ptr_null(strstr(html, "alert(1)</script>"));
	ck_assert_ptr_null(strstr(html, "<!--"));
	ck_assert_ptr_null(strstr(html, "<b>op</b>"));
	ck_assert_ptr_nonnull(strstr(html, "&lt;b&gt;op&lt;/b&gt;&lt;/script&gt;&lt;script&gt;"));
	ck_assert_ptr_nonnull(strstr(html, "reason &lt;/script&gt;&lt;script&gt;alert(1)"));
	ck_assert_ptr_nonnull(strstr(html, "\\u003c/script\\u003e\\u003cscript\\u003ealert(1)"));
	/* the data: every node, its code exactly (edit scripts included) */
	data = page_data(html);
	ck_assert_uint_eq(json_object_array_length(get(data, "nodes")), RUN_NODES);
	ck_assert_int_eq(json_object_get_int(get(data, "best")), best);
	check_codes(data, fixrun);
	json_object_put(data);
	json_object_put(sum);
	free(sumtext);
	free(html);
	free(out);
	(void)planted;
}
END_TEST

/* The default place: RUN_DIR/report.html. */
START_TEST(test_report_default_path)
{
	char *run, *html;

	sh("cp -R '%s' '%s/copy'", fixrun, tmpdir);
	run = aml_path_join(tmpdir, "copy");
	ck_assert_int_eq(cmd(aml_cmd_report, "report", run, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "copy/report.html"));
	html = rt_read(run, "report.html");
	ck_assert_uint_eq(rt_count(html, "<g class=\"node "), RUN_NODES);
	free(html);
	free(run);
}
END_TEST

/* Node folders and files gone: the page still renders with what exists. */
START_TEST(test_report_missing_files)
{
	char *run, *html;
	json_object *data, *nodes;
	size_t i, full = 0;

	sh("cp -R '%s' '%s/copy'", fixrun, tmpdir);
	run = aml_path_join(tmpdir, "copy");
	sh("rm -rf '%s/nodes/0001' '%s/nodes/0002/node.json' '%s/nodes/0000/solution.py' "
	   "'%s/best_solution.py'", run, run, run, run);
	ck_assert_int_eq(cmd(aml_cmd_report, "report", run, NULL), 0);
	html = rt_read(run, "report.html");
	ck_assert_uint_eq(rt_count(html, "<g class=\"node "), RUN_NODES);
	ck_assert_uint_eq(rt_count(html, "<tr data-id=\""), RUN_NODES);
	ck_assert_ptr_nonnull(strstr(html, "2 of 30 nodes have no readable node.json"));
	data = page_data(html);
	nodes = get(data, "nodes");
	for (i = 0; i < json_object_array_length(nodes); i++) {
		json_object *n = json_object_array_get_idx(nodes, i), *c, *f;
		int id = json_object_get_int(get(n, "id"));

		if (id <= 1)
			ck_assert_msg(!json_object_object_get_ex(n, "code", &c), "node %d has code", id);
		if (json_object_object_get_ex(n, "code", &c) && json_object_object_get_ex(c, "f", &f))
			full++;
	}
	ck_assert_uint_gt(full, 0);
	check_codes(data, run);
	json_object_put(data);
	free(html);
	free(run);
}
END_TEST

static const struct {
	const char *summary; /* NULL: none */
	const char *msg;
} bad_summaries[] = {
	{NULL, "no summary.json"},
	{"{\"task\": \"iris\", \"nodes\": [", "not a run summary"},
	{"[1, 2]", "not a JSON object"},
	{"{\"task\": \"iris\"}", "no \"nodes\" array"},
	{"{\"nodes\": 3}", "no \"nodes\" array"},
	{"{\"nodes\": [{\"parent\": -1}]}", "nodes[0] has no valid \"id\""},
	{"{\"nodes\": [{\"id\": \"zero\"}]}", "nodes[0] has no valid \"id\""},
	{"{\"nodes\": [{\"id\": 0}, {\"id\": 0}]}", "node id 0 appears twice"},
	{"", "not a run summary"},
};

START_TEST(test_report_refusals)
{
	char *run = aml_path_join(tmpdir, "run"), err[AML_ERRLEN];
	char *nl;

	ck_assert_int_eq(aml_mkdirs(run, err, sizeof err), AML_OK);
	if (bad_summaries[_i].summary)
		rt_write(run, "summary.json", bad_summaries[_i].summary);
	ck_assert_int_eq(cmd(aml_cmd_report, "report", run, NULL), 2);
	ck_assert_str_eq(out_text, "");
	ck_assert_msg(strncmp(err_text, "automlgen report: ", 18) == 0, "%s", err_text);
	ck_assert_msg(strstr(err_text, bad_summaries[_i].msg), "%s", err_text);
	nl = strchr(err_text, '\n');
	ck_assert_msg(nl && nl[1] == '\0', "not one line: %s", err_text);
	free(run);
	run = aml_path_join(tmpdir, "run/report.html");
	ck_assert(!aml_is_file(run));
	free(run);
}
END_TEST

START_TEST(test_report_usage)
{
	ck_assert_int_eq(cmd(aml_cmd_report, "report", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err_text, "usage: automlgen report"));
	ck_assert_int_eq(cmd(aml_cmd_report, "report", "--help", NULL), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "usage: automlgen report"));
	ck_assert_int_eq(cmd(aml_cmd_report, "report", "a", "b", NULL), 2);
	ck_assert_int_eq(cmd(aml_cmd_report, "report", "a", "-o", NULL), 2);
	ck_assert_int_eq(cmd(aml_cmd_report, "report", "/nonexistent/run", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err_text, "not a directory"));
	/* main.c dispatches both and lists them */
	sh("'%s/automlgen' --help | grep -q 'report RUN_DIR'", BUILDDIR);
	sh("'%s/automlgen' --help | grep -q 'runs \\[DIR\\]'", BUILDDIR);
	sh("'%s/automlgen' report --help | grep -q 'usage: automlgen report'", BUILDDIR);
	sh("'%s/automlgen' runs --help | grep -q 'usage: automlgen runs'", BUILDDIR);
	/* an output that cannot be written: exit 1 */
	ck_assert_int_eq(cmd(aml_cmd_report, "report", fixrun, "-o", "/nonexistent/dir/r.html",
			     NULL), 1);
	ck_assert_ptr_nonnull(strstr(err_text, "automlgen report: "));
}
END_TEST

/* ------------------------------------------------------------------ */
/* runs                                                                */

static void
set_start(const char *run, const char *file, long t)
{
	char *p = aml_path_join(run, file);
	struct timeval tv[2] = {{t, 0}, {t, 0}};

	ck_assert_int_eq(utimes(p, tv), 0);
	free(p);
}

START_TEST(test_runs)
{
	char *runs = aml_path_join(tmpdir, "runs"), *p, err[AML_ERRLEN], opt[4200];
	const char *a, *b, *c, *d;

	ck_assert_int_eq(aml_mkdirs(runs, err, sizeof err), AML_OK);
	/* two finished runs, started in the order b, a */
	sh("cp -R '%s' '%s/a-run' && cp -R '%s' '%s/b-run'", fixrun, runs, fixrun, runs);
	p = aml_path_join(runs, "a-run");
	set_start(p, "config.yaml", 2000000000L);
	free(p);
	p = aml_path_join(runs, "b-run");
	set_start(p, "config.yaml", 1900000000L);
	free(p);
	/* one that stopped before its summary, one with a broken summary */
	sh("mkdir -p '%s/c-crashed/nodes/0000' '%s/c-crashed/nodes/0001' '%s/d-broken' "
	   "'%s/not-a-run' && touch '%s/stray-file'", runs, runs, runs, runs, runs);
	p = aml_path_join(runs, "c-crashed");
	rt_write(p, "config.yaml", "search.policy: greedy  # -o\nrun.name: \"\"  # default\n");
	rt_write(p, "run.log", "2026-01-01T00:00:00Z info run /x/c-crashed: task wine, metric "
		 "accuracy (higher is better), provider kbsynth, executor local\n"
		 "2026-01-01T00:00:05Z info node 0 (draft, parent -1): accuracy = 0.91  new best\n");
	set_start(p, "config.yaml", 2100000000L);
	set_start(p, "run.log", 2100000042L);
	free(p);
	p = aml_path_join(runs, "d-broken");
	rt_write(p, "summary.json", "{\"task\": ");
	rt_write(p, "run.log", "2026-01-01T00:00:00Z info run /x/d-broken: task iris, metric x\n");
	set_start(p, "run.log", 2200000000L);
	free(p);

	ck_assert_int_eq(cmd(aml_cmd_runs, "runs", runs, NULL), 0);
	/* a header and four runs, oldest first; the rest skipped */
	ck_assert_uint_eq(rt_count(out_text, "\n"), 5);
	ck_assert(strncmp(out_text, "STARTED", 7) == 0);
	ck_assert_ptr_null(strstr(out_text, "not-a-run"));
	ck_assert_ptr_null(strstr(out_text, "stray-file"));
	b = strstr(out_text, "b-run");
	a = strstr(out_text, "a-run");
	c = strstr(out_text, "c-crashed");
	d = strstr(out_text, "d-broken");
	ck_assert(b && a && c && d);
	ck_assert(b < a && a < c && c < d);
	ck_assert_uint_eq(rt_count(out_text, " finished "), 2);
	ck_assert_uint_eq(rt_count(out_text, "  iris  "), 3);
	ck_assert_ptr_nonnull(strstr(out_text, "mcgs"));
	ck_assert_uint_eq(rt_count(out_text, "  30  "), 2);
	/* the interrupted one, from its log, config and nodes/ */
	ck_assert_ptr_nonnull(strstr(c, "wine"));
	ck_assert_ptr_nonnull(strstr(c, "running-or-interrupted"));
	ck_assert_ptr_nonnull(strstr(c, "accuracy 0.91 (so far)"));
	ck_assert_ptr_nonnull(strstr(c, "42+"));
	ck_assert_ptr_nonnull(strstr(c, "greedy"));
	/* the broken one, with a note */
	ck_assert_ptr_nonnull(strstr(d, "malformed"));
	ck_assert_ptr_nonnull(strstr(d, "summary.json is not a run summary"));
	ck_assert_ptr_nonnull(strstr(err_text, "1 run directory could not be read"));
	/* the best score with its metric */
	ck_assert_ptr_nonnull(strstr(a, "accuracy 0."));

	/* run.dir is the default */
	snprintf(opt, sizeof opt, "run.dir=%s", runs);
	ck_assert_int_eq(cmd(aml_cmd_runs, "runs", "-o", opt, NULL), 0);
	ck_assert_uint_eq(rt_count(out_text, "\n"), 5);
	/* nothing there; no such folder */
	p = aml_path_join(runs, "not-a-run");
	ck_assert_int_eq(cmd(aml_cmd_runs, "runs", p, NULL), 0);
	ck_assert_ptr_nonnull(strstr(out_text, "no runs in"));
	free(p);
	ck_assert_int_eq(cmd(aml_cmd_runs, "runs", "/nonexistent/runs", NULL), 2);
	ck_assert_ptr_nonnull(strstr(err_text, "no such directory"));
	ck_assert_int_eq(cmd(aml_cmd_runs, "runs", "a", "b", NULL), 2);
	ck_assert_int_eq(cmd(aml_cmd_runs, "runs", runs, "--json", NULL), 2);
	free(runs);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("report");
	TCase *diff = tcase_create("diff"), *page = tcase_create("page");

	tcase_add_loop_test(diff, test_diff_cases, 0, (int)AML_ARRAY_LEN(diff_cases));
	tcase_add_test(diff, test_diff_myers_example);
	tcase_add_test(diff, test_diff_random);
	tcase_add_test(diff, test_diff_past_bound);
	tcase_add_test(diff, test_escape);
	suite_add_tcase(s, diff);

	tcase_set_timeout(page, 300);
	tcase_add_unchecked_fixture(page, suite_setup, suite_teardown);
	tcase_add_checked_fixture(page, setup, teardown);
	tcase_add_test(page, test_report_of_run);
	tcase_add_test(page, test_report_default_path);
	tcase_add_test(page, test_report_missing_files);
	tcase_add_loop_test(page, test_report_refusals, 0, (int)AML_ARRAY_LEN(bad_summaries));
	tcase_add_test(page, test_report_usage);
	tcase_add_test(page, test_runs);
	suite_add_tcase(s, page);
	return aml_test_main(s);
}
