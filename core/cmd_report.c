/*
 * cmd_report.c — `automlgen report RUN_DIR [-o FILE]`: one self-contained
 * HTML page for a run (report.h), written to RUN_DIR/report.html or FILE.
 *
 * Exit status: 0 written; 1 the page could not be written; 2 bad usage,
 * or RUN_DIR has no readable run summary.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "report.h"
#include "util.h"

static void
report_usage(FILE *f)
{
	fputs("usage: automlgen report RUN_DIR [-o FILE]\n"
	      "  Write one self-contained HTML page (no external files, works offline)\n"
	      "  about the run in RUN_DIR: the search graph, the score over time, the\n"
	      "  node table, each node's code and its diff to its parent's, and the\n"
	      "  best solution.  -o FILE: where to write it (default RUN_DIR/report.html).\n"
	      "  Exit status: 0 written, 1 cannot write, 2 usage or no run summary.\n", f);
}

int
aml_cmd_report(int argc, char **argv)
{
	const char *dir = NULL, *out = NULL;
	char err[AML_ERRLEN] = "";
	int i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			report_usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "automlgen report: %s needs a file name\n", argv[i]);
				return 2;
			}
			out = argv[++i];
		} else if (argv[i][0] == '-' || dir != NULL) {
			fprintf(stderr, "automlgen report: unexpected argument '%s'\n", argv[i]);
			report_usage(stderr);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL) {
		report_usage(stderr);
		return 2;
	}
	rc = aml_report_write(dir, out, err, sizeof err);
	if (rc != AML_OK) {
		fprintf(stderr, "automlgen report: %s\n", err[0] ? err : aml_strerror(rc));
		return rc == AML_EIO || rc == AML_ENOMEM ? 1 : 2;
	}
	if (out == NULL)
		printf("%s/report.html\n", dir);
	else
		printf("%s\n", out);
	return fflush(stdout) == 0 ? 0 : 1;
}
