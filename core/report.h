/*
 * report.h — `automlgen report`: one self-contained HTML page for a run
 * directory (rundir.h), made from its summary.json and whatever node files
 * exist.  The page holds the search graph and the score over time as
 * inline SVG, the node table, every node's code with its line diff to
 * the parent's, and the best solution; inline CSS and JavaScript only, so
 * it works offline and can be mailed around.
 *
 * Everything read from the run (code, plans, reasons, operator names) is
 * untrusted: it reaches the page only HTML-escaped as text, or inside a
 * <script type="application/json"> block with '<', '>' and '&' written as
 * \u003c, \u003e, \u0026, and the page's script puts it into the DOM as
 * text, never as markup.
 *
 * The line diff lives here too: the page ships each node's code as an
 * edit script against its parent's (small, where full copies of 500
 * scripts would not be), and shows the same script as the diff.
 */
#ifndef AML_REPORT_H
#define AML_REPORT_H

#include <stddef.h>

#include "util.h"

/* One run of lines of a line diff from text a to text b. */
typedef enum aml_diff_kind {
	AML_DIFF_KEEP = 0, /* lines a[a_at..] equal b[b_at..] */
	AML_DIFF_DEL = 1,  /* lines a[a_at..] are removed */
	AML_DIFF_ADD = 2   /* lines b[b_at..] are inserted */
} aml_diff_kind;

typedef struct aml_diff_op {
	aml_diff_kind kind;
	size_t a_at;  /* first line in a (KEEP, DEL; for ADD: where it goes) */
	size_t b_at;  /* first line in b (KEEP, ADD; for DEL: where it was) */
	size_t n;     /* number of lines, > 0 */
} aml_diff_op;

/* Split a text into lines at '\n' as the diff does: n newlines give n + 1
 * lines (so "x\n" is "x" and "", and "" is one empty line); joining them
 * with '\n' gives the text back.  Returns the number of lines. */
size_t aml_diff_count_lines(const char *text);

/* A shortest line diff from a to b (Myers' algorithm after trimming the
 * common head and tail), its runs in order, within a change deletions
 * before insertions, adjacent runs of a kind merged.  When the texts
 * differ in more than a few thousand lines, the middle is given as one
 * deletion and one insertion (still a correct diff, not the shortest).
 * *ops is transferred (free()), *n_ops its length; 0 or AML_ENOMEM. */
int aml_line_diff(const char *a, const char *b, aml_diff_op **ops, size_t *n_ops);

/* Append s to b with &, <, >, " and ' as character references, fit for
 * element text and quoted attribute values. */
void aml_html_escape(aml_sb *b, const char *s);

/* Append JSON text to b for a <script type="application/json"> block:
 * '<', '>' and '&' (which JSON only has inside strings) become \u003c,
 * \u003e and \u0026, so no "</script>" or "<!--" survives. */
void aml_json_script_escape(aml_sb *b, const char *json);

/* Write the report of run_dir to out (NULL: run_dir/report.html).
 * Returns AML_ENOTFOUND (no summary.json) or AML_EFORMAT (not a run
 * summary) with one line in err, AML_EIO when out cannot be written,
 * AML_ENOMEM.  Missing or unreadable node files are left out of the
 * page, which says so. */
int aml_report_write(const char *run_dir, const char *out, char *err, size_t errlen);

#endif
