/*
 * check_report_browser.c — the report page in a real browser.  Debian's
 * chromium, headless, loads the page made from a 500-node synthetic run
 * with a hostile script planted in one node, and dumps the DOM after the
 * page's script ran.  The DOM must hold a node element per node in
 * the graph, a row per node in the table, the detail panel filled in
 * (code for the best node; a diff for the planted child, its hostile text
 * as text), the page's ready mark, and no JavaScript error: neither in
 * the page's own window.onerror count nor in chromium's console log.  A
 * page that throws on purpose checks that both detectors see errors.
 *
 * Fails, never skips, when chromium is missing: CI installs it
 * (scripts/install-deps.sh).  AML_CHROMIUM names another binary.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_reportutil.h"
#include "report.h"

/* One big search for the whole suite (the run's start-up, not its size,
 * is what takes time). */
#define RUN_NODES 500

static char *tmpdir;        /* per test: chromium's profile, its output */
static char *fixdir;        /* per suite: the run and its page */
static char *page;
static int planted;
static char chromium[1024];

static void
suite_setup(void)
{
	char err[AML_ERRLEN] = "", *run;

	fixdir = aml_test_tmpdir();
	run = rt_run(fixdir, "big", RUN_NODES);
	planted = rt_plant(run);
	if (aml_report_write(run, NULL, err, sizeof err) != AML_OK) {
		fprintf(stderr, "report: %s\n", err);
		abort();
	}
	page = aml_path_join(run, "report.html");
	free(run);
}

static void
suite_teardown(void)
{
	aml_test_rmtree(fixdir);
	AML_FREE(fixdir);
	AML_FREE(page);
}

static void
setup(void)
{
	const char *env = getenv("AML_CHROMIUM"), *path = getenv("PATH");
	static const char *const names[] = {"chromium", "chromium-browser", "google-chrome", NULL};
	char dir[1024];

	tmpdir = aml_test_tmpdir();
	chromium[0] = '\0';
	if (env && env[0]) {
		snprintf(chromium, sizeof chromium, "%s", env);
		return;
	}
	for (int i = 0; names[i] && !chromium[0]; i++) {
		const char *p = path ? path : "/usr/bin:/bin";

		while (*p && !chromium[0]) {
			size_t n = strcspn(p, ":");

			snprintf(dir, sizeof dir, "%.*s/%s", (int)n, p, names[i]);
			if (access(dir, X_OK) == 0)
				snprintf(chromium, sizeof chromium, "%s", dir);
			p += n + (p[n] == ':');
		}
	}
}

static void
teardown(void)
{
	aml_test_rmtree(tmpdir);
	AML_FREE(tmpdir);
}

/* Load file (with #fragment, may be "") headless; the DOM after the
 * scripts ran into *dom, chromium's log into *log (both transferred). */
static void
browse(const char *file, const char *fragment, char **dom, char **log)
{
	char cmd[8192];
	int rc;

	ck_assert_msg(chromium[0] != '\0', "chromium not found on PATH: install Debian's chromium "
		      "package (scripts/install-deps.sh) or set AML_CHROMIUM");
	snprintf(cmd, sizeof cmd,
		 "timeout 120 '%s' --headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage "
		 "--no-first-run --disable-extensions --user-data-dir='%s/profile' "
		 "--enable-logging=stderr --v=0 --dump-dom 'file://%s%s' >'%s/dom.html' 2>'%s/log.txt'",
		 chromium, tmpdir, file, fragment, tmpdir, tmpdir);
	rc = system(cmd);
	*log = rt_read(tmpdir, "log.txt");
	ck_assert_msg(rc == 0, "chromium failed (%d): %s\n%s", rc, cmd, *log);
	*dom = rt_read(tmpdir, "dom.html");
}

/* The page ran to its end without a JavaScript error. */
static void
assert_clean(const char *dom, const char *log)
{
	const char *e = strstr(dom, "data-js-error=\"");

	/* the attributes the page's window.onerror sets on <body> */
	ck_assert_msg(strstr(dom, "data-js-errors=\"") == NULL, "JavaScript error: %.200s",
		      e ? e : "?");
	ck_assert_msg(strstr(dom, "data-ready=\"1\"") != NULL, "the page's script did not finish");
	ck_assert_msg(strstr(log, "Uncaught") == NULL, "chromium logged: %.400s",
		      strstr(log, "Uncaught"));
}

/* Both detectors see an error when there is one. */
START_TEST(test_detects_errors)
{
	char *bad = aml_path_join(tmpdir, "bad.html"), *dom, *log;

	rt_write(tmpdir, "bad.html", "<!DOCTYPE html><html><body><script>window.onerror="
		 "function(m){document.body.setAttribute('data-js-errors','1');};</script>"
		 "<script>undefinedFunction();</script></body></html>");
	browse(bad, "", &dom, &log);
	ck_assert_ptr_nonnull(strstr(dom, "data-js-errors=\"1\""));
	ck_assert_ptr_nonnull(strstr(log, "Uncaught"));
	free(dom);
	free(log);
	free(bad);
}
END_TEST

/* The first view: every node in the graph and the table, the best node's
 * code in the detail panel, nothing planted turned into markup. */
START_TEST(test_first_view)
{
	char *dom, *log, buf[64];

	browse(page, "", &dom, &log);
	assert_clean(dom, log);
	ck_assert_ptr_nonnull(strstr(dom, "<svg id=\"graph\""));
	snprintf(buf, sizeof buf, "data-wired=\"%d\"", RUN_NODES);
	ck_assert_ptr_nonnull(strstr(dom, buf));
	ck_assert_uint_eq(rt_count(dom, "<g class=\"node "), RUN_NODES);
	ck_assert_uint_eq(rt_count(dom, "<tr data-id=\""), RUN_NODES);
	snprintf(buf, sizeof buf, "%d of %d rows", RUN_NODES, RUN_NODES);
	ck_assert_ptr_nonnull(strstr(dom, buf));
	ck_assert_msg(strstr(dom, "(best)</h2>") != NULL,
		      "the detail panel does not show the best node");
	ck_assert_ptr_nonnull(strstr(dom, "<div class=\"ln ctx\">"));
	ck_assert_uint_eq(rt_count(dom, "<script"), 3);
	ck_assert_ptr_null(strstr(dom, "<b>op</b>"));
	free(dom);
	free(log);
}
END_TEST

/* The planted child, from the address: its diff shows the text as text. */
START_TEST(test_planted_view)
{
	char *dom, *log, buf[160], frag[32];
	const char *row;

	snprintf(frag, sizeof frag, "#node-%d", planted);
	browse(page, frag, &dom, &log);
	assert_clean(dom, log);
	snprintf(buf, sizeof buf, "<h2 id=\"detail-title\">Node %d", planted);
	ck_assert_msg(strstr(dom, buf) != NULL, "the detail panel does not show node %d", planted);
	ck_assert_ptr_nonnull(strstr(dom, "<div class=\"ln add\">"));
	ck_assert_ptr_nonnull(strstr(dom, "<span class=\"tx\"># &lt;/script&gt;&lt;script&gt;"
				     "alert(1)&lt;/script&gt;&lt;!--</span>"));
	ck_assert_uint_eq(rt_count(dom, "<script"), 3);
	/* and it is the selected row */
	snprintf(buf, sizeof buf, "<tr data-id=\"%d\" class=\"", planted);
	row = strstr(dom, buf);
	ck_assert_ptr_nonnull(row);
	row += strlen(buf);
	ck_assert_msg(strncmp(row + strcspn(row, "\"") - 4, " sel", 4) == 0, "%.60s", row);
	free(dom);
	free(log);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("report_browser");
	TCase *tc = tcase_create("browser");

	tcase_set_timeout(tc, 300);
	tcase_add_unchecked_fixture(tc, suite_setup, suite_teardown);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_detects_errors);
	tcase_add_test(tc, test_first_view);
	tcase_add_test(tc, test_planted_view);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
