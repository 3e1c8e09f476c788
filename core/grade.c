/*
 * grade.c — see grade.h.  Loads answers.csv, puts its rows in the sample's
 * order, builds the metric's vectors from it and the submission, and
 * scores.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "grade.h"
#include "metric.h"
#include "submission.h"
#include "util.h"

/* What grading holds while it works; freed in one place. */
typedef struct grading {
	const aml_task_info *t;
	const aml_task *v;
	aml_csv_table *ans;
	size_t *arow;            /* answers row of each sample row */
	aml_submission *sub;
	const char **y_true;
	double *v_true;
	const char **y_pred;
	double *v_pred;
	const char **classes;
	char *err;
	size_t errlen;
} grading;

static int
gfail(grading *g, int status, const char *fmt, ...) AML_PRINTF(3, 4);

static int
gfail(grading *g, int status, const char *fmt, ...)
{
	va_list ap;

	if (g->err != NULL && g->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(g->err, g->errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

static int
gnomem(grading *g)
{
	return gfail(g, AML_ENOMEM, "out of memory while grading");
}

/* Put the answers' rows in the sample's order. */
static int
align_answers(grading *g)
{
	const aml_csv_table *sample = aml_task_sample(g->t);
	const aml_csv_table *a = g->ans;
	aml_csv_map *ids;
	long sc, ac;
	size_t r, at;
	char buf[64];
	int by_value, rc = AML_OK;

	g->arow = calloc(sample->nrows ? sample->nrows : 1, sizeof *g->arow);
	if (g->arow == NULL)
		return gnomem(g);
	if (g->v->id_column == NULL) {
		if (a->nrows != sample->nrows)
			return gfail(g, AML_EFORMAT, "%s has %zu rows but the sample"
				     " submission has %zu (the task has no id column to"
				     " match them by)", a->name, a->nrows, sample->nrows);
		for (r = 0; r < a->nrows; r++)
			g->arow[r] = r;
		return AML_OK;
	}
	sc = aml_csv_column(sample, g->v->id_column);
	ac = aml_csv_column(a, g->v->id_column);
	if (ac < 0)
		return gfail(g, AML_EFORMAT, "%s has no id column '%s'", a->name,
			     g->v->id_column);
	by_value = aml_csv_column_is_numeric(a, (size_t)ac)
		   && aml_csv_column_is_numeric(sample, (size_t)sc);
	ids = aml_csv_map_new();
	if (ids == NULL)
		return gnomem(g);
	for (r = 0; r < a->nrows && rc == AML_OK; r++) {
		const char *id = a->cols[ac][r];
		const char *key = by_value ? aml_metric_label_key(id, buf, sizeof buf) : id;
		int added = aml_csv_map_add(ids, key, r, &at);

		if (added < 0)
			rc = gnomem(g);
		else if (added == 0)
			rc = gfail(g, AML_EFORMAT, "%s: id '%s' appears twice (lines %zu"
				   " and %zu)", a->name, id, a->lines[at], a->lines[r]);
	}
	for (r = 0; r < sample->nrows && rc == AML_OK; r++) {
		const char *id = sample->cols[sc][r];
		const char *key = by_value ? aml_metric_label_key(id, buf, sizeof buf) : id;

		if (!aml_csv_map_get(ids, key, &g->arow[r]))
			rc = gfail(g, AML_EFORMAT, "%s has no row for the sample"
				   " submission's id '%s'", a->name, id);
	}
	aml_csv_map_free(ids);
	return rc;
}

/* Column name of the answers as numbers, in the sample's row order, into
 * dst[0..n). */
static int
answer_numbers(grading *g, const char *name, double *dst)
{
	long c = aml_csv_column(g->ans, name);
	size_t r, n = aml_task_sample(g->t)->nrows;

	if (c < 0)
		return gfail(g, AML_EFORMAT, "%s has no column '%s'", g->ans->name, name);
	for (r = 0; r < n; r++) {
		const char *cell = g->ans->cols[c][g->arow[r]];

		if (aml_csv_number(cell, &dst[r]) != 0)
			return gfail(g, AML_EFORMAT, "%s: '%s' in column '%s' at line %zu"
				     " is not a number", g->ans->name, cell, name,
				     g->ans->lines[g->arow[r]]);
	}
	return AML_OK;
}

/* The true labels: from the label column, the prediction column, or
 * one-hot class columns. */
static int
answer_labels(grading *g)
{
	const aml_task *v = g->v;
	size_t n = aml_task_sample(g->t)->nrows, r, c;
	const char *name = NULL;
	long col = -1;

	g->y_true = calloc(n ? n : 1, sizeof *g->y_true);
	if (g->y_true == NULL)
		return gnomem(g);
	if (v->output == AML_OUT_CLASS_PROBA) {
		if (v->n_label_columns > 0)
			col = aml_csv_column(g->ans, name = v->label_columns[0]);
		if (col < 0) { /* one-hot: the class of the largest column */
			double *hot = malloc((n ? n : 1) * v->n_submission_columns * sizeof *hot);
			int rc = AML_OK;

			if (hot == NULL)
				return gnomem(g);
			for (c = 0; c < v->n_submission_columns && rc == AML_OK; c++)
				rc = answer_numbers(g, v->submission_columns[c], hot + c * n);
			if (rc != AML_OK) {
				free(hot);
				return gfail(g, AML_EFORMAT, "%s has neither a '%s' column with"
					     " the true classes nor one-hot columns named like"
					     " the sample's", g->ans->name, name ? name : "label");
			}
			for (r = 0; r < n; r++) {
				size_t best = 0;

				for (c = 1; c < v->n_submission_columns; c++)
					if (hot[c * n + r] > hot[best * n + r])
						best = c;
				g->y_true[r] = aml_task_column_class(g->t, best);
			}
			free(hot);
			return AML_OK;
		}
	} else {
		col = aml_csv_column(g->ans, name = v->submission_columns[0]);
		if (col < 0 && v->n_label_columns > 0)
			col = aml_csv_column(g->ans, name = v->label_columns[0]);
		if (col < 0)
			return gfail(g, AML_EFORMAT, "%s has no column '%s' with the true"
				     " labels", g->ans->name, v->submission_columns[0]);
	}
	for (r = 0; r < n; r++) {
		g->y_true[r] = g->ans->cols[col][g->arow[r]];
		if (aml_csv_is_missing(g->y_true[r]))
			return gfail(g, AML_EFORMAT, "%s: no true label at line %zu",
				     g->ans->name, g->ans->lines[g->arow[r]]);
	}
	return AML_OK;
}

/* The submission's prediction columns as numbers (the checks passed, so
 * only label columns can fail to parse). */
static int
predicted_numbers(grading *g, aml_grade_result *res)
{
	size_t n = aml_submission_rows(g->sub), k = g->v->n_submission_columns, c, r;

	g->v_pred = malloc((n ? n : 1) * k * sizeof *g->v_pred);
	if (g->v_pred == NULL)
		return gnomem(g);
	for (c = 0; c < k; c++)
		for (r = 0; r < n; r++) {
			const char *cell = aml_submission_value(g->sub, c, r);

			if (aml_csv_number(cell, &g->v_pred[c * n + r]) != 0) {
				snprintf(res->reason, sizeof res->reason, "column '%s': '%s' is"
					 " not a number, and %s needs numbers",
					 g->v->submission_columns[c], cell, g->v->metric);
				return 1;
			}
		}
	return AML_OK;
}

static void
grading_free(grading *g)
{
	free(g->arow);
	aml_csv_table_free(g->ans);
	aml_submission_free(g->sub);
	free(g->y_true);
	free(g->v_true);
	free(g->y_pred);
	free(g->v_pred);
	free(g->classes);
}

static int
score(grading *g, aml_grade_result *res)
{
	const aml_task *v = g->v;
	aml_metric_data d;
	size_t n = aml_submission_rows(g->sub), k = v->n_submission_columns, c, r;
	int cls = aml_metric_is_classification(v->metric), rc;
	int numeric_truth = cls == 0 || v->output == AML_OUT_VALUE;

	memset(&d, 0, sizeof d);
	d.n = n;
	d.k = k;
	if (numeric_truth) {
		g->v_true = malloc((n ? n : 1) * k * sizeof *g->v_true);
		if (g->v_true == NULL)
			return gnomem(g);
		for (c = 0; c < k; c++) {
			rc = answer_numbers(g, v->submission_columns[c], g->v_true + c * n);
			if (rc != AML_OK)
				return rc;
		}
		d.v_true = g->v_true;
	} else {
		rc = answer_labels(g);
		if (rc != AML_OK)
			return rc;
		d.y_true = g->y_true;
	}
	if (v->output == AML_OUT_LABEL && cls == 1) {
		g->y_pred = calloc(n ? n : 1, sizeof *g->y_pred);
		if (g->y_pred == NULL)
			return gnomem(g);
		for (r = 0; r < n; r++)
			g->y_pred[r] = aml_submission_value(g->sub, 0, r);
		d.y_pred = g->y_pred;
		d.k = 1;
	} else {
		rc = predicted_numbers(g, res);
		if (rc != AML_OK)
			return rc < 0 ? rc : AML_OK; /* 1: invalid, reason set */
		d.v_pred = g->v_pred;
	}
	if (v->output == AML_OUT_CLASS_PROBA) {
		g->classes = calloc(k, sizeof *g->classes);
		if (g->classes == NULL)
			return gnomem(g);
		for (c = 0; c < k; c++)
			g->classes[c] = aml_task_column_class(g->t, c);
		d.classes = g->classes;
		d.n_classes = k;
	} else if (v->n_classes > 0) {
		d.classes = v->classes;
		d.n_classes = v->n_classes;
	}
	rc = aml_metric_compute(v->metric, &d, &res->score, res->reason, sizeof res->reason);
	if (rc == AML_ENOMEM)
		return gnomem(g);
	if (rc != AML_OK) {
		char why[AML_ERRLEN];

		snprintf(why, sizeof why, "%s", res->reason);
		snprintf(res->reason, sizeof res->reason, "cannot score it: %.480s", why);
		return AML_OK;
	}
	res->valid = 1;
	return AML_OK;
}

int
aml_grade(const aml_task_info *t, const char *path, aml_grade_result *res,
	  char *err, size_t errlen)
{
	grading g;
	const char *answers = aml_task_answers_path(t);
	int rc;

	memset(res, 0, sizeof *res);
	memset(&g, 0, sizeof g);
	g.t = t;
	g.v = aml_task_view(t);
	g.err = err;
	g.errlen = errlen;
	res->metric = g.v->metric;
	res->higher_is_better = g.v->higher_is_better;
	if (answers == NULL) {
		aml_seterr(err, errlen, "no private/answers.csv in %s: grading needs the"
			   " task's private answers", aml_task_root(t));
		return AML_ENOTFOUND;
	}
	rc = aml_csv_load(answers, 0, &g.ans, err, errlen);
	if (rc == AML_OK)
		rc = align_answers(&g);
	if (rc == AML_OK) {
		rc = aml_submission_load(t, path, &g.sub, res->reason, sizeof res->reason);
		if (rc == AML_EFORMAT) {
			grading_free(&g);
			return AML_OK; /* judged: invalid */
		}
		if (rc != AML_OK)
			aml_seterr(err, errlen, "%s", res->reason);
	}
	if (rc == AML_OK)
		rc = score(&g, res);
	grading_free(&g);
	if (rc != AML_OK)
		res->valid = 0;
	return rc;
}
