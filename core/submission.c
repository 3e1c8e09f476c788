/*
 * submission.c — see submission.h.  The checks run from the coarse to the
 * fine (file, header, row count, ids, cells) and stop at the first kind
 * of problem, so the reason names the most basic thing to fix.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "metric.h"
#include "submission.h"
#include "util.h"

/* Offending values quoted in a reason. */
#define SHOW 3

struct aml_submission {
	aml_csv_table *table;
	size_t n;         /* rows */
	size_t k;         /* prediction columns */
	size_t *colmap;   /* table column of each prediction column */
	size_t *rowmap;   /* table row of each sample row */
};

void
aml_submission_free(aml_submission *s)
{
	if (s == NULL)
		return;
	aml_csv_table_free(s->table);
	free(s->colmap);
	free(s->rowmap);
	free(s);
}

size_t
aml_submission_rows(const aml_submission *s)
{
	return s->n;
}

const char *
aml_submission_value(const aml_submission *s, size_t c, size_t r)
{
	if (c >= s->k || r >= s->n)
		return NULL;
	return s->table->cols[s->colmap[c]][s->rowmap[r]];
}

static int
nomem(char *reason, size_t len)
{
	aml_seterr(reason, len, "out of memory while checking the submission");
	return AML_ENOMEM;
}

/* Same columns as the sample, in any order. */
static int
check_header(const aml_csv_table *sample, const aml_csv_table *sub,
	     char *reason, size_t len)
{
	aml_sb b = {0};
	const char *dup;
	size_t c, missing = 0, extra = 0;
	int rc = AML_OK;

	if (aml_csv_has_duplicate_column(sub, &dup)) {
		aml_seterr(reason, len, "column '%s' appears twice in the header", dup);
		return AML_EFORMAT;
	}
	for (c = 0; c < sample->ncols; c++)
		if (aml_csv_column(sub, sample->header[c]) < 0)
			aml_sb_printf(&b, "%s'%s'", missing++ ? ", " : "missing column(s) ",
				      sample->header[c]);
	for (c = 0; c < sub->ncols; c++)
		if (aml_csv_column(sample, sub->header[c]) < 0)
			aml_sb_printf(&b, "%s'%s'", extra++ ? ", "
				      : missing ? "; unexpected column(s) " : "unexpected column(s) ",
				      sub->header[c]);
	if (b.oom)
		rc = nomem(reason, len);
	else if (missing || extra) {
		aml_seterr(reason, len, "columns differ from the sample submission: %s", b.s);
		rc = AML_EFORMAT;
	}
	aml_sb_free(&b);
	return rc;
}

/* A key under which numeric ids match by value. */
static const char *
id_key(const char *s, int by_value, char *buf, size_t len)
{
	return by_value ? aml_metric_label_key(s, buf, len) : s;
}

/* Map the sample's rows to the submission's through the id column. */
static int
align_ids(const aml_task_info *t, aml_submission *s, char *reason, size_t len)
{
	const aml_csv_table *sample = aml_task_sample(t), *sub = s->table;
	const char *idname = aml_task_view(t)->id_column;
	size_t sc = (size_t)aml_csv_column(sample, idname);
	size_t uc = (size_t)aml_csv_column(sub, idname);
	size_t r, unknown = 0, missing = 0, taken, shown;
	aml_csv_map *ids = NULL;
	unsigned char *seen = NULL;
	aml_sb b = {0};
	int by_value = aml_csv_column_is_numeric(sample, sc), rc = AML_OK;
	char buf[64];

	seen = calloc(s->n ? s->n : 1, 1);
	if (seen == NULL)
		goto oom;
	for (;;) { /* numeric ids by value, unless two sample ids then meet */
		int clash = 0;

		ids = aml_csv_map_new();
		if (ids == NULL)
			goto oom;
		for (r = 0; r < sample->nrows && !clash; r++) {
			int added = aml_csv_map_add(ids, id_key(sample->cols[sc][r], by_value,
							       buf, sizeof buf), r, NULL);

			if (added < 0)
				goto oom;
			clash = added == 0;
		}
		if (!clash || !by_value)
			break;
		aml_csv_map_free(ids);
		by_value = 0;
	}
	for (r = 0, shown = 0; r < sub->nrows; r++) {
		const char *id = sub->cols[uc][r];
		size_t at;

		if (!aml_csv_map_get(ids, id_key(id, by_value, buf, sizeof buf), &at)) {
			if (shown++ < SHOW)
				aml_sb_printf(&b, "%s'%s'", unknown ? ", " : "", id);
			unknown++;
			continue;
		}
		if (seen[at]) {
			size_t first = s->rowmap[at];

			aml_seterr(reason, len, "id '%s' appears twice (lines %zu and %zu)",
				   id, sub->lines[first], sub->lines[r]);
			rc = AML_EFORMAT;
			goto out;
		}
		seen[at] = 1;
		s->rowmap[at] = r;
	}
	if (unknown) {
		aml_sb_printf(&b, "%s", unknown > SHOW ? ", ..." : "");
		for (r = 0; r < sample->nrows; r++)
			missing += !seen[r];
		aml_sb_printf(&b, " (%zu in all); missing ids: ", unknown);
		for (r = 0, taken = 0; r < sample->nrows && taken < SHOW; r++)
			if (!seen[r])
				aml_sb_printf(&b, "%s'%s'", taken++ ? ", " : "",
					      sample->cols[sc][r]);
		aml_sb_printf(&b, "%s (%zu in all)", missing > SHOW ? ", ..." : "", missing);
		if (b.oom)
			goto oom;
		aml_seterr(reason, len, "ids not in the sample submission: %s", b.s);
		rc = AML_EFORMAT;
	}
	goto out;
oom:
	rc = nomem(reason, len);
out:
	aml_sb_free(&b);
	aml_csv_map_free(ids);
	free(seen);
	return rc;
}

enum cell_rule { CELL_ANY, CELL_NUMBER, CELL_PROBA, CELL_CLASS };

static int
check_cells(const aml_task_info *t, aml_submission *s, char *reason, size_t len)
{
	const aml_task *v = aml_task_view(t);
	const aml_csv_table *sample = aml_task_sample(t);
	aml_csv_map *classes = NULL;
	size_t c, r, i;
	char buf[64];
	int rc = AML_OK;

	if (v->output == AML_OUT_LABEL && v->n_classes > 0) {
		classes = aml_csv_map_new();
		if (classes == NULL)
			return nomem(reason, len);
		for (i = 0; i < v->n_classes; i++)
			if (aml_csv_map_add(classes, aml_metric_label_key(v->classes[i], buf,
					    sizeof buf), i, NULL) < 0) {
				aml_csv_map_free(classes);
				return nomem(reason, len);
			}
	}
	for (c = 0; c < s->k && rc == AML_OK; c++) {
		const char *name = v->submission_columns[c];
		const char **col = (const char **)s->table->cols[s->colmap[c]];
		size_t bad = 0, first = 0;
		enum cell_rule rule = CELL_ANY;
		const char *what = "";

		switch (v->output) {
		case AML_OUT_PROBA:
		case AML_OUT_CLASS_PROBA:
			rule = CELL_PROBA;
			what = "not a probability in [0,1]";
			break;
		case AML_OUT_VALUE:
			rule = CELL_NUMBER;
			what = "not a finite number";
			break;
		case AML_OUT_LABEL:
			if (classes != NULL) {
				rule = CELL_CLASS;
				what = "not one of the classes";
			} else if (aml_csv_column_is_numeric(sample, (size_t)aml_csv_column(sample, name))) {
				rule = CELL_NUMBER;
				what = "not a finite number";
			}
			break;
		}
		for (r = 0; r < s->n; r++) {
			const char *cell = col[s->rowmap[r]];
			double x;
			int ok;

			if (aml_csv_is_missing(cell)) {
				aml_seterr(reason, len, "column '%s' has an empty or NaN value"
					   " at line %zu", name, s->table->lines[s->rowmap[r]]);
				rc = AML_EFORMAT;
				break;
			}
			switch (rule) {
			case CELL_NUMBER:
				ok = aml_csv_number(cell, &x) == 0;
				break;
			case CELL_PROBA:
				ok = aml_csv_number(cell, &x) == 0 && x >= 0 && x <= 1;
				break;
			case CELL_CLASS:
				ok = aml_csv_map_get(classes, aml_metric_label_key(cell, buf,
						     sizeof buf), NULL);
				break;
			default:
				ok = 1;
				break;
			}
			if (!ok && bad++ == 0)
				first = s->rowmap[r];
		}
		if (rc == AML_OK && bad > 0) {
			aml_sb cls = {0};

			if (rule == CELL_CLASS) {
				aml_sb_puts(&cls, " (classes: ");
				for (i = 0; i < v->n_classes && i < 10; i++)
					aml_sb_printf(&cls, "%s%s", i ? ", " : "", v->classes[i]);
				aml_sb_printf(&cls, "%s)", v->n_classes > 10 ? ", ..." : "");
			}
			aml_seterr(reason, len, "column '%s': %zu value%s %s, the first '%s'"
				   " at line %zu%s", name, bad, bad == 1 ? "" : "s", what,
				   s->table->cols[s->colmap[c]][first], s->table->lines[first],
				   cls.s ? cls.s : "");
			aml_sb_free(&cls);
			rc = AML_EFORMAT;
		}
	}
	aml_csv_map_free(classes);
	return rc;
}

int
aml_submission_load(const aml_task_info *t, const char *csv_path,
		    aml_submission **out, char *reason, size_t len)
{
	const aml_task *v = aml_task_view(t);
	const aml_csv_table *sample = aml_task_sample(t);
	aml_submission *s;
	size_t c, r;
	int rc;

	*out = NULL;
	if (csv_path == NULL || csv_path[0] == '\0') {
		aml_seterr(reason, len, "no submission file given");
		return AML_EFORMAT;
	}
	s = calloc(1, sizeof *s);
	if (s == NULL)
		return nomem(reason, len);
	rc = aml_csv_load(csv_path, AML_SUBMISSION_MAX_BYTES, &s->table, reason, len);
	if (rc == AML_ENOTFOUND)
		aml_seterr(reason, len, "no submission file at %s", csv_path);
	if (rc != AML_OK)
		goto fail;
	rc = check_header(sample, s->table, reason, len);
	if (rc != AML_OK)
		goto fail;
	if (s->table->nrows != sample->nrows) {
		aml_seterr(reason, len, "%zu rows, but the sample submission has %zu",
			   s->table->nrows, sample->nrows);
		rc = AML_EFORMAT;
		goto fail;
	}
	s->n = sample->nrows;
	s->k = v->n_submission_columns;
	s->colmap = calloc(s->k ? s->k : 1, sizeof *s->colmap);
	s->rowmap = calloc(s->n ? s->n : 1, sizeof *s->rowmap);
	if (s->colmap == NULL || s->rowmap == NULL) {
		rc = nomem(reason, len);
		goto fail;
	}
	for (c = 0; c < s->k; c++)
		s->colmap[c] = (size_t)aml_csv_column(s->table, v->submission_columns[c]);
	for (r = 0; r < s->n; r++)
		s->rowmap[r] = r;
	if (v->id_column != NULL) {
		rc = align_ids(t, s, reason, len);
		if (rc != AML_OK)
			goto fail;
	}
	rc = check_cells(t, s, reason, len);
	if (rc != AML_OK)
		goto fail;
	*out = s;
	return AML_OK;
fail:
	aml_submission_free(s);
	return rc == AML_ENOMEM ? rc : AML_EFORMAT;
}

int
aml_submission_check(const aml_task_info *t, const char *csv_path,
		     char *reason, size_t len)
{
	aml_submission *s;
	int rc = aml_submission_load(t, csv_path, &s, reason, len);

	aml_submission_free(s);
	return rc;
}
