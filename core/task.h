/*
 * task.h — a task folder read into a task profile (the aml_task every
 * plugin sees), with the source of each fact.
 *
 * Layout (MLE-bench's prepared form):
 *   TASK_DIR/public/   description.md, train.csv, test.csv (and any other
 *                      data), sample_submission.csv
 *   TASK_DIR/private/answers.csv   used only by grading, may be absent
 * TASK_DIR may also be a public/-style folder alone (sample_submission.csv
 * directly inside); then there are no private answers.
 *
 * An optional task.yaml (TASK_DIR/task.yaml, else public/task.yaml) states
 * any of: metric, direction (maximize|minimize), id_column (null: none),
 * target_columns (list), task_type (binary|multiclass|regression|
 * multi_regression), output (label|proba|class_proba|value), train_file,
 * test_file, modality (tabular|text|image|timeseries, or a list).  What it
 * does not state is inferred from the files and description.md (see
 * task.c for the rules); every fact remembers where it came from, and
 * aml_task_print() shows it.  When something cannot be inferred, loading
 * fails with one line naming the task.yaml key to write.
 *
 * Train files are streamed: rows are counted exactly, column types are
 * judged on the first AML_TASK_SAMPLE_ROWS rows, and the distinct values of
 * the label columns are collected over every row (up to a bound).
 *
 * Ownership: an aml_task_info owns every string and array it exposes,
 * including the aml_task view; all of them stay valid until
 * aml_task_free().  Nothing here keeps global state.
 */
#ifndef AML_TASK_H
#define AML_TASK_H

#include <stdio.h>
#include <automlgen/plugin.h>

#include "csv.h"

/* Rows of train.csv used to judge column types and text. */
#define AML_TASK_SAMPLE_ROWS 5000
/* Distinct label values kept per label column (more: not classes). */
#define AML_TASK_MAX_CLASSES 5000

typedef struct aml_task_info aml_task_info;

/* Read the task folder dir.  *out is transferred (aml_task_free).
 * Returns AML_OK; AML_ENOTFOUND for a missing folder or file; AML_EFORMAT
 * for a garbled CSV or task.yaml (err has file:line); AML_EINVAL when a
 * fact cannot be inferred (err names the task.yaml key to write);
 * AML_ENOMEM, AML_EIO. */
int aml_task_load(const char *dir, aml_task_info **out, char *err, size_t errlen);

/* Give the task its data preview (preview.h; transferred, may be NULL):
 * the view's data_preview then points at it. */
void aml_task_set_preview(aml_task_info *t, char *text);
/* Give the task the hardware line (hardware.h; transferred, may be NULL):
 * the view's hardware then points at it. */
void aml_task_set_hardware(aml_task_info *t, char *text);

/* The ABI view of the profile (borrowed, valid until aml_task_free).
 * Note: test_file is "" when the task has no test CSV (image folders);
 * test_rows then counts the sample's rows. */
const aml_task *aml_task_view(const aml_task_info *t);

/* TASK_DIR, absolute and symlink-free (borrowed). */
const char *aml_task_root(const aml_task_info *t);

/* The absolute path of private/answers.csv, NULL when there is none
 * (borrowed). */
const char *aml_task_answers_path(const aml_task_info *t);

/* Where a fact came from, e.g. "task.yaml:3" or "description.md:
 * 'root mean squared error'" (borrowed); NULL for an unknown key.  Keys:
 * metric, direction, id_column, submission_columns, label_columns,
 * task_type, output, classes, modality, train_file, test_file,
 * sample_file, train_rows, test_rows, n_features. */
const char *aml_task_source(const aml_task_info *t, const char *key);

/* For class_proba output: the class (one of view->classes) whose
 * probability submission column i holds; NULL for other outputs or i out
 * of range (borrowed). */
const char *aml_task_column_class(const aml_task_info *t, size_t i);

/* sample_submission.csv as loaded (borrowed), for submission checks. */
const aml_csv_table *aml_task_sample(const aml_task_info *t);

/* Print the profile, each fact's source and the task's files with their
 * sizes: human-readable text, or one JSON object when json is non-zero.
 * Returns AML_OK, or AML_EIO / AML_ENOMEM. */
int aml_task_print(const aml_task_info *t, FILE *f, int json);

/* Names of the enums, as task.yaml spells them ("binary", "class_proba",
 * "text"...); "unknown" for values out of range (static strings). */
const char *aml_task_type_name(aml_task_type type);
const char *aml_output_name(aml_output_kind output);
const char *aml_modality_name(unsigned bit);

void aml_task_free(aml_task_info *t);

#endif
