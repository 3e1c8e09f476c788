/*
 * preview.c — see preview.h.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "csv.h"
#include "preview.h"
#include "util.h"

#define MAX_DISTINCT 1000   /* distinct values counted per column */
#define HEAD_ROWS 3
#define CELL_MAX 40         /* characters of a cell shown in the first rows */

typedef struct col_stats {
	size_t missing, numbers, integers, longest;
	double min, max, sum, sumsq;
	aml_csv_map *distinct;  /* NULL once over MAX_DISTINCT */
	int over;               /* more than MAX_DISTINCT distinct values */
} col_stats;

static void
file_size(aml_sb *b, const char *dir, const char *name)
{
	char *p = aml_path_join(dir, name);
	struct stat st;

	if (p && stat(p, &st) == 0) {
		if (st.st_size >= 1 << 20)
			aml_sb_printf(b, ", %.1f MB", (double)st.st_size / (1 << 20));
		else
			aml_sb_printf(b, ", %.1f KB", (double)st.st_size / 1024);
	}
	free(p);
}

static int
is_label(const aml_task *v, const char *name)
{
	size_t i;

	for (i = 0; i < v->n_label_columns; i++)
		if (strcmp(v->label_columns[i], name) == 0)
			return 1;
	return 0;
}

/* A cell shown in the first rows, cut to CELL_MAX characters. */
static void
cell(aml_sb *b, const char *s)
{
	size_t n = strlen(s);

	if (n > CELL_MAX)
		aml_sb_printf(b, "%.*s...", CELL_MAX, s);
	else
		aml_sb_puts(b, s);
}

static void
update(col_stats *c, const char *s)
{
	double x;

	if (aml_csv_is_missing(s)) {
		c->missing++;
		return;
	}
	if (strlen(s) > c->longest)
		c->longest = strlen(s);
	if (aml_csv_number(s, &x) == 0) {
		if (c->numbers == 0 || x < c->min)
			c->min = x;
		if (c->numbers == 0 || x > c->max)
			c->max = x;
		c->numbers++;
		c->integers += x == floor(x);
		c->sum += x;
		c->sumsq += x * x;
	}
	if (c->distinct) {
		size_t old;
		int added = aml_csv_map_add(c->distinct, s, 1, &old);

		if (added == 0)
			aml_csv_map_set(c->distinct, s, old + 1);
		if (aml_csv_map_count(c->distinct) > MAX_DISTINCT || added < 0) {
			aml_csv_map_free(c->distinct);
			c->distinct = NULL;
			c->over = 1;
		}
	}
}

/* The most frequent values of c, at most k, as "a (40), b (3)". */
static void
top_values(aml_sb *b, const col_stats *c, size_t k, size_t rows, int percent)
{
	size_t n = aml_csv_map_count(c->distinct), i, j, shown = 0;
	char *used = calloc(n ? n : 1, 1);

	if (used == NULL)
		return;
	for (j = 0; j < k && j < n; j++) {
		size_t best = n;

		for (i = 0; i < n; i++)
			if (!used[i] && (best == n || aml_csv_map_value(c->distinct, i)
					 > aml_csv_map_value(c->distinct, best)))
				best = i;
		used[best] = 1;
		aml_sb_printf(b, "%s", shown++ ? ", " : "");
		cell(b, aml_csv_map_key(c->distinct, best));
		if (percent)
			aml_sb_printf(b, " %.1f%%", 100.0 * (double)aml_csv_map_value(c->distinct, best)
				      / (double)(rows ? rows : 1));
		else
			aml_sb_printf(b, " (%zu)", aml_csv_map_value(c->distinct, best));
	}
	if (n > k)
		aml_sb_printf(b, ", ... %zu more", n - k);
	free(used);
}

static void
describe(aml_sb *b, const char *name, const col_stats *c, size_t rows, int label)
{
	size_t present = rows - c->missing;
	size_t nd = c->distinct ? aml_csv_map_count(c->distinct) : 0;

	aml_sb_printf(b, "- %s%s: ", name, label ? " [target]" : "");
	if (present == 0) {
		aml_sb_puts(b, "empty");
	} else if (c->numbers == present) {
		double mean = c->sum / (double)present;
		double var = c->sumsq / (double)present - mean * mean;

		aml_sb_printf(b, "%s, min %.6g, mean %.6g, std %.6g, max %.6g",
			      c->integers == present ? "integer" : "float", c->min, mean,
			      sqrt(var > 0 ? var : 0), c->max);
		if (!c->over && nd <= 20)
			aml_sb_printf(b, ", %zu distinct", nd);
	} else {
		aml_sb_printf(b, "%s, ", c->longest > 50 ? "text" : "string");
		if (c->over) {
			aml_sb_printf(b, "over %d distinct", MAX_DISTINCT);
		} else {
			aml_sb_printf(b, "%zu distinct: ", nd);
			top_values(b, c, 5, rows, 0);
		}
	}
	if (c->missing)
		aml_sb_printf(b, "; %zu missing (%.1f%%)", c->missing,
			      100.0 * (double)c->missing / (double)rows);
	aml_sb_puts(b, "\n");
}

char *
aml_preview_text(const aml_task_info *t, int *rc, char *err, size_t errlen)
{
	const aml_task *v = aml_task_view(t);
	aml_csv *r = NULL;
	const char *const *fields, *const *head;
	col_stats *cs = NULL;
	aml_sb b = {0}, rows_text = {0};
	size_t ncols, i, rows = 0, others_num = 0, others_str = 0;
	char *path;
	int got = 0;

	*rc = AML_OK;
	path = aml_path_join(v->public_dir, v->train_file);
	*rc = path ? aml_csv_open(path, &r, err, errlen) : AML_ENOMEM;
	free(path);
	if (*rc != AML_OK)
		return NULL;
	ncols = aml_csv_ncols(r);
	head = aml_csv_header(r);
	cs = calloc(ncols ? ncols : 1, sizeof *cs);
	if (cs == NULL) {
		*rc = AML_ENOMEM;
		goto out;
	}
	for (i = 0; i < ncols; i++)
		cs[i].distinct = aml_csv_map_new();
	while (rows < AML_PREVIEW_MAX_ROWS && (got = aml_csv_next(r, &fields, err, errlen)) == 1) {
		if (rows < HEAD_ROWS) {
			for (i = 0; i < ncols; i++) {
				aml_sb_puts(&rows_text, i ? "," : "");
				cell(&rows_text, fields[i]);
			}
			aml_sb_puts(&rows_text, "\n");
		}
		for (i = 0; i < ncols; i++)
			update(&cs[i], fields[i]);
		rows++;
	}
	if (rows < AML_PREVIEW_MAX_ROWS && got < 0) {
		*rc = got;
		goto out;
	}

	aml_sb_printf(&b, "Data preview (computed by the agent from ./input/):\n%s: %zu column(s)",
		      v->train_file, ncols);
	file_size(&b, v->public_dir, v->train_file);
	aml_sb_printf(&b, ", %zu rows", v->train_rows);
	if (v->test_file && v->test_file[0]) {
		aml_sb_printf(&b, "; %s: %zu rows", v->test_file, v->test_rows);
		file_size(&b, v->public_dir, v->test_file);
	}
	aml_sb_puts(&b, ".\n");
	if (rows < v->train_rows)
		aml_sb_printf(&b, "(statistics over the first %zu rows)\n", rows);
	aml_sb_printf(&b, "Columns of %s (type and values; [target] marks what to predict):\n",
		      v->train_file);
	for (i = 0; i < ncols; i++) {
		int label = is_label(v, head[i]);

		if (i < AML_PREVIEW_MAX_COLS || label) {
			describe(&b, head[i], &cs[i], rows, label);
		} else if (cs[i].numbers == rows - cs[i].missing) {
			others_num++;
		} else {
			others_str++;
		}
	}
	if (others_num + others_str)
		aml_sb_printf(&b, "- ... and %zu more columns: %zu numeric, %zu string\n",
			      others_num + others_str, others_num, others_str);
	for (i = 0; i < ncols; i++) {
		if (!is_label(v, head[i]) || cs[i].distinct == NULL
		    || aml_csv_map_count(cs[i].distinct) > 50 || v->n_classes == 0)
			continue;
		aml_sb_printf(&b, "Target distribution of %s: ", head[i]);
		top_values(&b, &cs[i], 50, rows - cs[i].missing, 1);
		aml_sb_puts(&b, "\n");
	}
	if (rows_text.len && ncols <= AML_PREVIEW_MAX_COLS) {
		aml_sb_printf(&b, "First rows of %s:\n", v->train_file);
		for (i = 0; i < ncols; i++)
			aml_sb_printf(&b, "%s%s", i ? "," : "", head[i]);
		aml_sb_printf(&b, "\n%s", rows_text.s);
	}
out:
	for (i = 0; cs && i < ncols; i++)
		aml_csv_map_free(cs[i].distinct);
	free(cs);
	aml_csv_close(r);
	aml_sb_free(&rows_text);
	if (*rc != AML_OK || b.oom) {
		if (*rc == AML_OK) {
			*rc = AML_ENOMEM;
			aml_seterr(err, errlen, "out of memory");
		}
		aml_sb_free(&b);
		return NULL;
	}
	return aml_sb_take(&b);
}
