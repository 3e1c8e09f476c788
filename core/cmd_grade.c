/*
 * cmd_grade.c — `automlgen grade TASK_DIR SUBMISSION.csv [--json]`: check
 * a submission and score it against TASK_DIR/private/answers.csv.
 *
 * Exit status: 0 valid and scored; 1 invalid submission (the reason is
 * printed); 2 bad usage, or a task that cannot be graded.  With --json,
 * stdout holds one object in every case:
 *   {"valid": bool, "metric": str|null, "score": num|null,
 *    "higher_is_better": bool|null, "reason": str|null}
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "grade.h"
#include "task.h"
#include "util.h"

static void
grade_usage(FILE *f)
{
	fputs("usage: automlgen grade TASK_DIR SUBMISSION.csv [--json]\n"
	      "  Check SUBMISSION.csv against the task's sample submission and\n"
	      "  score it with the task's metric against private/answers.csv.\n"
	      "  Exit status: 0 valid, 1 invalid submission, 2 usage or task error.\n", f);
}

/* Print the result object; res may be NULL (task error, reason given). */
static int
grade_json(const aml_grade_result *res, const char *reason)
{
	json_object *o = json_object_new_object();
	const char *text;
	int rc;

	if (o == NULL)
		return -1;
	json_object_object_add(o, "valid", json_object_new_boolean(res && res->valid));
	json_object_object_add(o, "metric", res && res->metric
			       ? json_object_new_string(res->metric) : NULL);
	json_object_object_add(o, "score", res && res->valid
			       ? json_object_new_double(res->score) : NULL);
	json_object_object_add(o, "higher_is_better", res && res->metric
			       ? json_object_new_boolean(res->higher_is_better) : NULL);
	json_object_object_add(o, "reason", reason ? json_object_new_string(reason) : NULL);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
					      | JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = text != NULL && printf("%s\n", text) >= 0 ? 0 : -1;
	json_object_put(o);
	return rc;
}

int
aml_cmd_grade(int argc, char **argv)
{
	const char *args[2] = {NULL, NULL};
	char err[AML_ERRLEN] = "";
	aml_grade_result res;
	aml_task_info *t;
	int json = 0, n = 0, i, rc, status;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			grade_usage(stdout);
			return 0;
		} else if (argv[i][0] == '-' || n == 2) {
			fprintf(stderr, "automlgen grade: unexpected argument '%s'\n", argv[i]);
			grade_usage(stderr);
			return 2;
		} else {
			args[n++] = argv[i];
		}
	}
	if (n != 2) {
		grade_usage(stderr);
		return 2;
	}
	rc = aml_task_load(args[0], &t, err, sizeof err);
	if (rc == AML_OK) {
		rc = aml_grade(t, args[1], &res, err, sizeof err);
		if (rc != AML_OK)
			aml_task_free(t);
	}
	if (rc != AML_OK) {
		if (json)
			grade_json(NULL, err);
		fprintf(stderr, "automlgen grade: %s\n", err);
		return 2;
	}
	status = res.valid ? 0 : 1;
	if (json) {
		if (grade_json(&res, res.valid ? NULL : res.reason) != 0)
			status = 2;
	} else if (res.valid) {
		printf("valid submission\n%s = %.10g (%s is better)\n", res.metric,
		       res.score, res.higher_is_better ? "higher" : "lower");
	} else {
		printf("invalid submission: %s\n", res.reason);
	}
	aml_task_free(t); /* res.metric borrowed it: printed by now */
	if (fflush(stdout) != 0)
		status = 2;
	return status;
}
