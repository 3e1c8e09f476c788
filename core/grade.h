/*
 * grade.h — score a submission against a task's private answers, the way
 * MLE-bench grades: check the submission (submission.h), align its rows
 * with private/answers.csv by id, compute the task's metric (metric.h).
 *
 * answers.csv has the sample's layout: the id column (when the task has
 * one) and the true values, in
 *   - the prediction column(s), for label, value and binary proba output
 *     (binary proba: the true class, e.g. 0/1, in that column);
 *   - a column named like train.csv's label column, for class_proba output
 *     (one-hot columns named like the sample's are accepted too).
 * Other columns (e.g. MLE-bench's "Usage") are ignored.
 */
#ifndef AML_GRADE_H
#define AML_GRADE_H

#include "task.h"
#include "util.h"

typedef struct aml_grade_result {
	int valid;               /* 1: valid and scored */
	double score;            /* the metric's value when valid */
	const char *metric;      /* borrowed from the task */
	int higher_is_better;
	char reason[AML_ERRLEN]; /* why it is invalid; "" when valid */
} aml_grade_result;

/* Grade the submission file at path for task t into *res.
 * Returns AML_OK when the submission was judged: res->valid is 1 with a
 * score, or 0 with the reason (an invalid file, or values the metric
 * cannot take).  Returns a negative status with one line in err when the
 * task cannot be graded: no private answers (AML_ENOTFOUND), answers that
 * do not parse or do not match the sample (AML_EFORMAT), AML_EIO,
 * AML_ENOMEM. */
int aml_grade(const aml_task_info *t, const char *path, aml_grade_result *res,
	      char *err, size_t errlen);

#endif
