/*
 * submission.h — is a submission CSV well-formed for its task?
 *
 * The run checks each candidate's submission with aml_submission_check();
 * grading loads it with aml_submission_load() to get its cells aligned to
 * the sample's rows.  A submission is valid when, compared with the
 * task's sample_submission.csv:
 *   - it parses as CSV (see csv.h) and names no column twice;
 *   - it has the same columns (any order): none missing, none extra;
 *   - it has the same number of rows;
 *   - with an id column: the same set of ids, none repeated (ids that
 *     are numbers also match by value, "7" == "7.0");
 *   - no prediction cell is empty, NaN or another missing-value spelling;
 *   - label output: every value is one of the task's classes (when
 *     known), else a number where the sample's column holds numbers;
 *     proba / class_proba: numbers in [0,1]; value: finite numbers.
 * A failure is one line naming the first problem, with the offending
 * id or value and its line, and how many more there are.
 */
#ifndef AML_SUBMISSION_H
#define AML_SUBMISSION_H

#include <stddef.h>

#include "task.h"

/* Files larger than this are refused before they are read. */
#define AML_SUBMISSION_MAX_BYTES ((size_t)2 << 30)

typedef struct aml_submission aml_submission;

/* Check the submission at csv_path against task t.  Returns AML_OK when
 * it is valid; AML_EFORMAT with one line in reason when it is not (this
 * includes a missing or unreadable file); AML_ENOMEM. */
int aml_submission_check(const aml_task_info *t, const char *csv_path,
			 char *reason, size_t len);

/* The same, keeping the valid submission: *out is transferred
 * (aml_submission_free), NULL on failure. */
int aml_submission_load(const aml_task_info *t, const char *csv_path,
			aml_submission **out, char *reason, size_t len);

/* Rows: as many as the sample has. */
size_t aml_submission_rows(const aml_submission *s);

/* The cell of prediction column c (an index into the task's
 * submission_columns) for the sample's row r: rows come in the sample's
 * order whatever order the file used.  Borrowed, valid until
 * aml_submission_free(). */
const char *aml_submission_value(const aml_submission *s, size_t c, size_t r);

void aml_submission_free(aml_submission *s);

#endif
