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
 * The page ships each node's code as an edit script against its parent's
 * (diff.h; small, where full copies of 500 scripts would not be), and
 * shows the same script as the diff.
 */
#ifndef AML_REPORT_H
#define AML_REPORT_H

#include <stddef.h>

#include "diff.h"
#include "util.h"

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
