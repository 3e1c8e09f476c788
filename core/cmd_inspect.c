/*
 * cmd_inspect.c — `automlgen inspect TASK_DIR [--json]`: read a task
 * folder and print the profile inferred from it, with the source of each
 * fact and the task's files.  Nothing is run.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "task.h"
#include "util.h"

static void
inspect_usage(FILE *f)
{
	fputs("usage: automlgen inspect TASK_DIR [--json]\n"
	      "  Show the task profile inferred from TASK_DIR (metric, task type,\n"
	      "  columns, ...) and where each fact came from.  Write facts it gets\n"
	      "  wrong into TASK_DIR/task.yaml.\n", f);
}

int
aml_cmd_inspect(int argc, char **argv)
{
	const char *dir = NULL;
	char err[AML_ERRLEN] = "";
	aml_task_info *t;
	int json = 0, i, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			inspect_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || dir != NULL) {
			fprintf(stderr, "automlgen inspect: unexpected argument '%s'\n", argv[i]);
			inspect_usage(stderr);
			return 2;
		} else {
			dir = argv[i];
		}
	}
	if (dir == NULL) {
		inspect_usage(stderr);
		return 2;
	}
	rc = aml_task_load(dir, &t, err, sizeof err);
	if (rc != AML_OK) {
		fprintf(stderr, "automlgen inspect: %s\n", err);
		return 2;
	}
	rc = aml_task_print(t, stdout, json);
	aml_task_free(t);
	if (rc == AML_OK && fflush(stdout) != 0)
		rc = AML_EIO;
	if (rc != AML_OK) {
		fprintf(stderr, "automlgen inspect: cannot print the profile: %s\n",
			aml_strerror(rc));
		return 1;
	}
	return 0;
}
