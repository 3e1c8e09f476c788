/*
 * task.c — see task.h.  Reading a task folder is one pass through these
 * steps, each filling part of the profile and recording its source:
 *
 *   folders -> task.yaml -> description.md -> sample_submission.csv ->
 *   train/test file names -> test.csv pass (rows, ids) -> id column ->
 *   submission columns -> label columns -> train.csv pass (rows, column
 *   statistics, label values) -> metric -> task type -> classes ->
 *   output kind -> class of each probability column -> modality ->
 *   direction
 *
 * Inference rules (task.yaml overrides each):
 *   id column   the sample's first column, when test.csv has it too (its
 *               values matching, or at least unique in the sample); with
 *               no test file, when its values are unique.
 *   labels      the sample's prediction columns found in train.csv; else,
 *               the one train.csv column missing from test.csv (with
 *               several sample columns: one probability column per class).
 *   metric      the most specific phrase of description.md that names a
 *               metric, looked for in its Evaluation section first.
 *   task type   several numeric labels: multi_regression; else by the
 *               label values: non-numeric -> binary/multiclass by count;
 *               numbers and a regression metric -> regression; <= 2
 *               values -> binary; <= 50 whole numbers (and <= 5% of the
 *               rows, unless the metric is a classification one) ->
 *               multiclass; else regression.
 *   output      regression: value; a column per class: class_proba;
 *               binary: proba when the sample holds fractions in [0,1],
 *               the metric scores probabilities, or description.md speaks
 *               of probability (unless the metric scores labels); else label.
 *   modality    text: a feature column of long free text; image: image
 *               files in the public folder or >= 64 pixel columns;
 *               timeseries: a date column and a description that speaks
 *               of forecasting or time series; tabular when none of these.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "csv.h"
#include "metric.h"
#include "task.h"
#include "util.h"
#include "yamltree.h"

#define DESCRIPTION_MAX (2u << 20)
#define MULTICLASS_MAX 50
#define TEXT_MEAN_LEN 40
#define PIXEL_COLUMNS 64
#define IMAGE_FILES 5
#define SCAN_BUDGET 20000
#define LIST_BUDGET 100000

enum fact {
	F_METRIC, F_DIRECTION, F_ID, F_SUBCOLS, F_LABELS, F_TYPE, F_OUTPUT,
	F_CLASSES, F_MODALITY, F_TRAIN, F_TEST, F_SAMPLE, F_TRAIN_ROWS,
	F_TEST_ROWS, F_NFEAT, F_COUNT
};

static const char *const fact_keys[F_COUNT] = {
	"metric", "direction", "id_column", "submission_columns",
	"label_columns", "task_type", "output", "classes", "modality",
	"train_file", "test_file", "sample_file", "train_rows", "test_rows",
	"n_features",
};

static const char *const yaml_keys[] = {
	"metric", "direction", "id_column", "target_columns", "task_type",
	"output", "train_file", "test_file", "modality",
};

struct aml_task_info {
	aml_task view;
	char *preview;           /* view.data_preview, owned */
	char *hardware;          /* view.hardware, owned */
	char *root;
	char *public_dir;
	char *answers;
	char *name;
	char *description;
	char *train_file;
	char *test_file;
	char *sample_file;
	char *metric;
	char *id_column;
	char **labels;
	size_t n_labels;
	char **subcols;
	size_t n_subcols;
	char **classes;
	size_t n_classes;
	const char **column_class; /* n_subcols, borrowed from classes */
	char *sources[F_COUNT];
	aml_csv_table *sample;
};

/* Statistics of one train.csv column over the sampled rows. */
typedef struct col_stats {
	size_t seen;      /* non-missing values */
	size_t numeric;
	size_t len_sum;
	size_t spaced;    /* values holding a space */
	size_t dated;     /* values that look like dates */
} col_stats;

/* The values of one label column over every row. */
typedef struct label_values {
	size_t col;            /* index in train.csv */
	aml_csv_map *distinct; /* label key -> index in spell */
	char **spell;          /* first spelling of each distinct value */
	size_t n;
	int overflow;          /* more than AML_TASK_MAX_CLASSES */
	int all_numeric;
	int all_integer;
	size_t missing;
} label_values;

typedef struct loader {
	aml_task_info *t;
	char *err;
	size_t errlen;
	char *yaml_at;            /* where task.yaml goes, for messages */
	aml_ynode *yaml;
	char *yaml_path;
	const char *yaml_name;    /* "task.yaml" or "public/task.yaml" */
	int public_only;
	aml_csv *train;           /* open on the first data row */
	char **train_hdr;
	size_t train_ncols;
	char **test_hdr;          /* NULL without a test file */
	size_t test_ncols;
	aml_csv_map *test_ids;    /* values of the id candidate in test.csv */
	col_stats *stats;
	label_values *lv;
	int per_class;            /* the sample has a column per class */
	const char *metric_phrase;
	int oom;
} loader;

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

static int
fail(loader *L, int status, const char *fmt, ...) AML_PRINTF(3, 4);

static int
fail(loader *L, int status, const char *fmt, ...)
{
	va_list ap;

	if (L->err != NULL && L->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(L->err, L->errlen, fmt, ap);
		va_end(ap);
	}
	return status;
}

static int
oom(loader *L)
{
	return fail(L, AML_ENOMEM, "out of memory while reading the task");
}

static void source(loader *L, enum fact f, const char *fmt, ...) AML_PRINTF(3, 4);

/* Record where fact f came from. */
static void
source(loader *L, enum fact f, const char *fmt, ...)
{
	aml_sb b = {0};
	va_list ap;

	va_start(ap, fmt);
	aml_sb_vprintf(&b, fmt, ap);
	va_end(ap);
	free(L->t->sources[f]);
	L->t->sources[f] = aml_sb_take(&b);
	if (L->t->sources[f] == NULL)
		L->oom = 1;
}

static int
strv_push(char ***v, size_t *n, const char *s)
{
	char **nv = realloc(*v, (*n + 1) * sizeof *nv);

	if (nv == NULL)
		return -1;
	*v = nv;
	nv[*n] = strdup(s);
	if (nv[*n] == NULL)
		return -1;
	(*n)++;
	return 0;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static long
strv_find(char *const *v, size_t n, const char *s)
{
	size_t i;

	if (v == NULL || s == NULL)
		return -1;
	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return (long)i;
	return -1;
}

/* "a, b, c" of up to max names, "... (N in all)" after that. */
static void
sb_join(aml_sb *b, char *const *v, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++)
		aml_sb_printf(b, "%s%s", i ? ", " : "", v[i]);
	if (n > max)
		aml_sb_printf(b, ", ... (%zu in all)", n);
	if (n == 0)
		aml_sb_puts(b, "(none)");
}

/* A joined list for messages (transferred; "" on oom). */
static char *
joined(char *const *v, size_t n)
{
	aml_sb b = {0};
	char *s;

	sb_join(&b, v, n, 12);
	s = aml_sb_take(&b);
	return s ? s : strdup("");
}

static int
ends_with_ci(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls >= lx && strcasecmp(s + ls - lx, suffix) == 0;
}

/* ------------------------------------------------------------------ */
/* task.yaml                                                           */

static int
yfail(loader *L, const aml_ynode *n, const char *fmt, ...) AML_PRINTF(3, 4);

static int
yfail(loader *L, const aml_ynode *n, const char *fmt, ...)
{
	aml_sb b = {0};
	va_list ap;

	aml_sb_printf(&b, "%s:%d: ", L->yaml_path, n ? n->line : 1);
	va_start(ap, fmt);
	aml_sb_vprintf(&b, fmt, ap);
	va_end(ap);
	fail(L, AML_EFORMAT, "%s", b.s ? b.s : "task.yaml: bad value");
	aml_sb_free(&b);
	return AML_EFORMAT;
}

static const aml_ynode *
yget(const loader *L, const char *key)
{
	return L->yaml ? aml_ynode_get(L->yaml, key) : NULL;
}

/* The scalar under key: 1 and *out when present, 0 when absent or null,
 * negative when it is not a scalar. */
static int
ystr(loader *L, const char *key, const char **out, const aml_ynode **node)
{
	const aml_ynode *n = yget(L, key);

	*out = NULL;
	if (node)
		*node = n;
	if (n == NULL || aml_ynode_is_null(n))
		return 0;
	if (n->type != AML_Y_SCALAR)
		return yfail(L, n, "%s must be a single value", key);
	*out = n->scalar;
	return 1;
}

static int
load_yaml(loader *L)
{
	aml_task_info *t = L->t;
	char *p = aml_path_join(t->root, "task.yaml");
	size_t i, k;
	int rc;

	if (p == NULL)
		return oom(L);
	L->yaml_name = "task.yaml";
	if (!aml_is_file(p) && !L->public_only) {
		free(p);
		p = aml_path_join(t->public_dir, "task.yaml");
		if (p == NULL)
			return oom(L);
		L->yaml_name = "public/task.yaml";
	}
	if (!aml_is_file(p)) {
		free(p);
		return AML_OK;
	}
	L->yaml_path = p;
	rc = aml_yaml_load_file(p, &L->yaml, L->err, L->errlen);
	if (rc != AML_OK)
		return rc == AML_ENOMEM ? rc : AML_EFORMAT;
	if (L->yaml->type != AML_Y_MAP)
		return yfail(L, L->yaml, "expected keys and values, such as `metric: rmse`");
	for (i = 0; i < L->yaml->n; i++) {
		for (k = 0; k < AML_ARRAY_LEN(yaml_keys); k++)
			if (strcmp(L->yaml->keys[i], yaml_keys[k]) == 0)
				break;
		if (k == AML_ARRAY_LEN(yaml_keys))
			return yfail(L, L->yaml->items[i],
				     "unknown key '%s' (known: metric, direction, id_column,"
				     " target_columns, task_type, output, train_file,"
				     " test_file, modality)", L->yaml->keys[i]);
	}
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Folders and files.                                                  */

static int
resolve_dirs(loader *L, const char *dir)
{
	aml_task_info *t = L->t;
	char *pub, *priv;
	struct stat st;

	if (stat(dir, &st) != 0)
		return fail(L, AML_ENOTFOUND, "task folder '%s' does not exist", dir);
	if (!S_ISDIR(st.st_mode))
		return fail(L, AML_ENOTFOUND, "task folder '%s' is not a folder", dir);
	t->root = aml_path_abs(dir);
	if (t->root == NULL)
		return fail(L, AML_EIO, "%s: %s", dir, strerror(errno));
	pub = aml_path_join(t->root, "public");
	if (pub == NULL)
		return oom(L);
	if (aml_is_dir(pub)) {
		t->public_dir = pub;
		priv = aml_path_join(t->root, "private/answers.csv");
		if (priv == NULL)
			return oom(L);
		if (aml_is_file(priv))
			t->answers = priv;
		else
			free(priv);
	} else {
		free(pub);
		L->public_only = 1;
		t->public_dir = strdup(t->root);
		if (t->public_dir == NULL)
			return oom(L);
	}
	t->name = aml_path_base(t->root);
	if (t->name != NULL && L->public_only && strcmp(t->name, "public") == 0
	    && strcmp(t->root, "/public") != 0) {
		/* .../<task>/public given alone: name it after <task> */
		char *parent = strndup(t->root, strlen(t->root) - strlen("/public"));

		free(t->name);
		t->name = parent ? aml_path_base(parent) : NULL;
		free(parent);
	}
	L->yaml_at = aml_path_join(t->root, "task.yaml");
	if (t->name == NULL || L->yaml_at == NULL)
		return oom(L);
	return AML_OK;
}

/* The names of the public folder's regular files (transferred). */
static int
list_public(loader *L, char ***names, size_t *n)
{
	DIR *d = opendir(L->t->public_dir);
	struct dirent *e;

	*names = NULL;
	*n = 0;
	if (d == NULL)
		return fail(L, AML_EIO, "%s: %s", L->t->public_dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		char *p;
		int is_file;

		if (e->d_name[0] == '.')
			continue;
		p = aml_path_join(L->t->public_dir, e->d_name);
		if (p == NULL)
			break;
		is_file = aml_is_file(p);
		free(p);
		if (is_file && strv_push(names, n, e->d_name) != 0)
			break;
	}
	closedir(d);
	if (e != NULL) {
		strv_free(*names, *n);
		*names = NULL;
		return oom(L);
	}
	return AML_OK;
}

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Find a data file: the name task.yaml gives (yaml_key), else exact, else
 * the single *.csv whose name starts with prefix.  *out is transferred,
 * NULL when there is none; fact f gets the source.  A file task.yaml names
 * must exist; several candidates are an error. */
static int
find_data_file(loader *L, const char *yaml_key, const char *exact,
	       const char *prefix, char **out, enum fact f)
{
	const aml_ynode *node;
	const char *given;
	char **names = NULL, *p, *match = NULL;
	size_t n = 0, i, hits = 0;
	int rc;

	*out = NULL;
	rc = ystr(L, yaml_key, &given, &node);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		p = aml_path_join(L->t->public_dir, given);
		if (p == NULL)
			return oom(L);
		rc = aml_is_file(p);
		free(p);
		if (!rc)
			return yfail(L, node, "%s '%s' is not a file in %s", yaml_key,
				     given, L->t->public_dir);
		*out = strdup(given);
		if (*out == NULL)
			return oom(L);
		source(L, f, "%s:%d", L->yaml_name, node->line);
		return AML_OK;
	}
	rc = list_public(L, &names, &n);
	if (rc != AML_OK)
		return rc;
	if (n > 1)
		qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], exact) == 0) {
			match = names[i];
			hits = 1;
			source(L, f, "found %s", exact);
			break;
		}
	if (match == NULL) {
		for (i = 0; i < n; i++)
			if (strncasecmp(names[i], prefix, strlen(prefix)) == 0
			    && ends_with_ci(names[i], ".csv")) {
				match = names[i];
				hits++;
			}
		if (hits == 1)
			source(L, f, "the only %s*.csv file in the public folder", prefix);
	}
	if (hits > 1) {
		rc = fail(L, AML_EINVAL, "several %s*.csv files in %s; write `%s: NAME`"
			  " in %s", prefix, L->t->public_dir, yaml_key, L->yaml_at);
		strv_free(names, n);
		return rc;
	}
	if (match != NULL && (*out = strdup(match)) == NULL) {
		strv_free(names, n);
		return oom(L);
	}
	strv_free(names, n);
	return AML_OK;
}

static int
find_sample(loader *L)
{
	aml_task_info *t = L->t;
	char **names = NULL, *p;
	const char *dup;
	size_t n = 0, i, hits = 0;
	const char *match = NULL;
	int rc;

	rc = list_public(L, &names, &n);
	if (rc != AML_OK)
		return rc;
	if (n > 1)
		qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n; i++)
		if (strcmp(names[i], "sample_submission.csv") == 0) {
			match = names[i];
			hits = 1;
			break;
		}
	if (match == NULL)
		for (i = 0; i < n; i++)
			if (aml_strcasestr_has(names[i], "sample")
			    && aml_strcasestr_has(names[i], "submission")
			    && ends_with_ci(names[i], ".csv")) {
				match = names[i];
				hits++;
			}
	if (hits != 1) {
		rc = fail(L, AML_ENOTFOUND, "no sample_submission.csv in %s: a task needs"
			  " one to know the submission's format%s", t->public_dir,
			  L->public_only ? " (nor a public/ folder)" : "");
		strv_free(names, n);
		return rc;
	}
	t->sample_file = strdup(match);
	strv_free(names, n);
	if (t->sample_file == NULL)
		return oom(L);
	source(L, F_SAMPLE, "%s", strcmp(t->sample_file, "sample_submission.csv") == 0
	       ? "found sample_submission.csv" : "the only *sample*submission*.csv file");
	p = aml_path_join(t->public_dir, t->sample_file);
	if (p == NULL)
		return oom(L);
	rc = aml_csv_load(p, 0, &t->sample, L->err, L->errlen);
	free(p);
	if (rc != AML_OK)
		return rc;
	if (t->sample->nrows == 0)
		return fail(L, AML_EFORMAT, "%s: no rows under the header", t->sample->name);
	if (aml_csv_has_duplicate_column(t->sample, &dup))
		return fail(L, AML_EFORMAT, "%s: column '%s' appears twice in the header",
			    t->sample->name, dup);
	return AML_OK;
}

static int
copy_header(aml_csv *r, char ***out, size_t *n)
{
	const char *const *h = aml_csv_header(r);
	size_t i;

	*out = NULL;
	*n = 0;
	for (i = 0; i < aml_csv_ncols(r); i++)
		if (strv_push(out, n, h[i]) != 0)
			return -1;
	return 0;
}

static int
open_data_files(loader *L)
{
	aml_task_info *t = L->t;
	char *p;
	aml_csv *r;
	int rc;

	rc = find_data_file(L, "train_file", "train.csv", "train", &t->train_file, F_TRAIN);
	if (rc != AML_OK)
		return rc;
	if (t->train_file == NULL)
		return fail(L, AML_ENOTFOUND, "no train.csv in %s; if the training data"
			    " has another name, write `train_file: NAME` in %s",
			    t->public_dir, L->yaml_at);
	p = aml_path_join(t->public_dir, t->train_file);
	if (p == NULL)
		return oom(L);
	rc = aml_csv_open(p, &L->train, L->err, L->errlen);
	free(p);
	if (rc != AML_OK)
		return rc;
	if (copy_header(L->train, &L->train_hdr, &L->train_ncols) != 0)
		return oom(L);

	rc = find_data_file(L, "test_file", "test.csv", "test", &t->test_file, F_TEST);
	if (rc != AML_OK)
		return rc;
	if (t->test_file == NULL) {
		t->test_file = strdup("");
		if (t->test_file == NULL)
			return oom(L);
		source(L, F_TEST, "no test.csv in the public folder");
		return AML_OK;
	}
	p = aml_path_join(t->public_dir, t->test_file);
	if (p == NULL)
		return oom(L);
	rc = aml_csv_open(p, &r, L->err, L->errlen);
	free(p);
	if (rc != AML_OK)
		return rc;
	rc = copy_header(r, &L->test_hdr, &L->test_ncols);
	aml_csv_close(r);
	return rc == 0 ? AML_OK : oom(L);
}

/* Count test rows; collect the values of column idname when test has it. */
static int
scan_test(loader *L, const char *idname)
{
	aml_task_info *t = L->t;
	const char *const *f;
	aml_csv *r;
	long col = -1;
	char *p;
	int rc;

	if (L->test_hdr == NULL) {
		t->view.test_rows = t->sample->nrows;
		source(L, F_TEST_ROWS, "rows of %s (no test.csv)", t->sample_file);
		return AML_OK;
	}
	if (idname != NULL)
		col = strv_find(L->test_hdr, L->test_ncols, idname);
	if (col >= 0 && (L->test_ids = aml_csv_map_new()) == NULL)
		return oom(L);
	p = aml_path_join(t->public_dir, t->test_file);
	if (p == NULL)
		return oom(L);
	rc = aml_csv_open(p, &r, L->err, L->errlen);
	free(p);
	if (rc != AML_OK)
		return rc;
	while ((rc = aml_csv_next(r, &f, L->err, L->errlen)) == 1)
		if (col >= 0 && aml_csv_map_add(L->test_ids, f[col], 0, NULL) < 0) {
			rc = AML_ENOMEM;
			fail(L, rc, "out of memory while reading %s", t->test_file);
			break;
		}
	t->view.test_rows = aml_csv_rows(r);
	aml_csv_close(r);
	if (rc < 0)
		return rc;
	source(L, F_TEST_ROWS, "rows of %s", t->test_file);
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Columns.                                                            */

/* 1 when column c of the sample has no value twice; *dup set otherwise. */
static int
sample_unique(loader *L, size_t c, const char **dup)
{
	aml_csv_table *s = L->t->sample;
	aml_csv_map *m = aml_csv_map_new();
	size_t r;
	int rc = 1;

	if (m == NULL) {
		L->oom = 1;
		return 0;
	}
	for (r = 0; r < s->nrows; r++) {
		int added = aml_csv_map_add(m, s->cols[c][r], r, NULL);

		if (added < 0) {
			L->oom = 1;
			rc = 0;
			break;
		}
		if (added == 0) {
			*dup = s->cols[c][r];
			rc = 0;
			break;
		}
	}
	aml_csv_map_free(m);
	return rc;
}

static int
infer_id(loader *L)
{
	aml_task_info *t = L->t;
	aml_csv_table *s = t->sample;
	const aml_ynode *node = yget(L, "id_column");
	const char *name, *dup = NULL;
	size_t r, missing = 0;
	long c;
	int rc;

	if (node != NULL) {
		rc = ystr(L, "id_column", &name, &node);
		if (rc < 0)
			return rc;
		if (rc == 0 || name[0] == '\0') {
			source(L, F_ID, "%s:%d (no id column)", L->yaml_name, node->line);
			return scan_test(L, NULL);
		}
		c = aml_csv_column(s, name);
		if (c < 0) {
			char *cols = joined(s->header, s->ncols);

			rc = yfail(L, node, "id_column '%s' is not a column of %s (columns: %s)",
				   name, t->sample_file, cols);
			free(cols);
			return rc;
		}
		if (!sample_unique(L, (size_t)c, &dup))
			return L->oom ? oom(L) : yfail(L, node, "id_column '%s': the value '%s'"
						     " appears twice in %s", name, dup, t->sample_file);
		t->id_column = strdup(name);
		if (t->id_column == NULL)
			return oom(L);
		source(L, F_ID, "%s:%d", L->yaml_name, node->line);
		return scan_test(L, name);
	}

	name = s->header[0];
	rc = scan_test(L, s->ncols > 1 ? name : NULL);
	if (rc != AML_OK)
		return rc;
	if (s->ncols == 1) {
		source(L, F_ID, "%s has a single column", t->sample_file);
		return AML_OK;
	}
	if (!sample_unique(L, 0, &dup)) {
		if (L->oom)
			return oom(L);
		source(L, F_ID, "%s's first column '%s' repeats values (e.g. '%s')",
		       t->sample_file, name, dup);
		return AML_OK;
	}
	if (L->test_ids != NULL) {
		for (r = 0; r < s->nrows; r++)
			missing += (size_t)!aml_csv_map_get(L->test_ids, s->cols[0][r], NULL);
		if (missing == 0)
			source(L, F_ID, "%s's first column; its values match %s's",
			       t->sample_file, t->test_file);
		else
			source(L, F_ID, "%s's first column, also in %s (%zu of its %zu"
			       " values are not in %s)", t->sample_file, t->test_file,
			       missing, s->nrows, t->test_file);
	} else if (L->test_hdr == NULL) {
		source(L, F_ID, "%s's first column (unique values; no test.csv to"
		       " compare with)", t->sample_file);
	} else {
		source(L, F_ID, "%s's first column '%s' is not in %s", t->sample_file,
		       name, t->test_file);
		return AML_OK;
	}
	t->id_column = strdup(name);
	return t->id_column ? AML_OK : oom(L);
}

static int
infer_subcols(loader *L)
{
	aml_task_info *t = L->t;
	aml_csv_table *s = t->sample;
	size_t c;

	for (c = 0; c < s->ncols; c++)
		if (t->id_column == NULL || strcmp(s->header[c], t->id_column) != 0)
			if (strv_push(&t->subcols, &t->n_subcols, s->header[c]) != 0)
				return oom(L);
	if (t->n_subcols == 0)
		return fail(L, AML_EFORMAT, "%s has only the id column '%s': nothing to"
			    " predict", s->name, t->id_column);
	source(L, F_SUBCOLS, "%s's columns%s", t->sample_file,
	       t->id_column ? " other than the id" : "");
	return AML_OK;
}

static int
infer_labels(loader *L)
{
	aml_task_info *t = L->t;
	const aml_ynode *node = yget(L, "target_columns");
	char **only = NULL;
	size_t n_only = 0, i, found = 0;
	int rc = AML_OK;

	if (node != NULL && !aml_ynode_is_null(node)) {
		size_t n = node->type == AML_Y_SEQ ? node->n : 1;

		if (node->type == AML_Y_MAP || (node->type == AML_Y_SEQ && n == 0))
			return yfail(L, node, "target_columns must be a column name or a list of them");
		for (i = 0; i < n; i++) {
			const aml_ynode *it = node->type == AML_Y_SEQ ? node->items[i] : node;

			if (it->type != AML_Y_SCALAR)
				return yfail(L, it, "target_columns must list column names");
			if (strv_find(L->train_hdr, L->train_ncols, it->scalar) < 0)
				return yfail(L, it, "target column '%s' is not in %s",
					     it->scalar, t->train_file);
			if (strv_find(t->labels, t->n_labels, it->scalar) >= 0)
				return yfail(L, it, "target column '%s' is listed twice", it->scalar);
			if (strv_push(&t->labels, &t->n_labels, it->scalar) != 0)
				return oom(L);
		}
		source(L, F_LABELS, "%s:%d", L->yaml_name, node->line);
		return AML_OK;
	}
	for (i = 0; i < t->n_subcols; i++)
		found += strv_find(L->train_hdr, L->train_ncols, t->subcols[i]) >= 0;
	if (found == t->n_subcols) {
		for (i = 0; i < t->n_subcols; i++)
			if (strv_push(&t->labels, &t->n_labels, t->subcols[i]) != 0)
				return oom(L);
		source(L, F_LABELS, "%s's prediction column%s, found in %s", t->sample_file,
		       t->n_subcols > 1 ? "s" : "", t->train_file);
		return AML_OK;
	}
	if (L->test_hdr != NULL)
		for (i = 0; i < L->train_ncols; i++)
			if (strv_find(L->test_hdr, L->test_ncols, L->train_hdr[i]) < 0
			    && (t->id_column == NULL || strcmp(L->train_hdr[i], t->id_column) != 0))
				if (strv_push(&only, &n_only, L->train_hdr[i]) != 0) {
					strv_free(only, n_only);
					return oom(L);
				}
	if (found == 0 && n_only == 1) {
		if (strv_push(&t->labels, &t->n_labels, only[0]) != 0)
			rc = oom(L);
		L->per_class = t->n_subcols > 1;
		source(L, F_LABELS, "the only %s column not in %s%s", t->train_file,
		       t->test_file, L->per_class ? "; the sample has a column per class" : "");
	} else {
		char *sub = joined(t->subcols, t->n_subcols);
		char *tr = joined(only, n_only);

		rc = fail(L, AML_EINVAL, "cannot tell which %s column(s) hold the targets"
			  " (%s columns: %s; %s columns not in %s: %s); write"
			  " `target_columns: [NAME]` in %s", t->train_file, t->sample_file,
			  sub, t->train_file, L->test_hdr ? t->test_file : "a test file",
			  L->test_hdr ? tr : "(no test file)", L->yaml_at);
		free(sub);
		free(tr);
	}
	strv_free(only, n_only);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The train.csv pass.                                                 */

static int
looks_like_date(const char *s)
{
	int d[10], i;

	for (i = 0; i < 10 && s[i]; i++)
		d[i] = isdigit((unsigned char)s[i]);
	if (i < 8)
		return 0;
	/* YYYY-MM-DD, YYYY/MM/DD */
	if (d[0] && d[1] && d[2] && d[3] && (s[4] == '-' || s[4] == '/')
	    && d[5] && (s[7] == s[4] || (s[6] == s[4])))
		return 1;
	/* DD/MM/YYYY, MM-DD-YYYY */
	if (i == 10 && d[0] && d[1] && (s[2] == '/' || s[2] == '-') && d[3] && d[4]
	    && s[5] == s[2] && d[6] && d[7] && d[8] && d[9])
		return 1;
	return 0;
}

static int
label_add(label_values *lv, const char *v)
{
	char buf[64];
	int rc;

	if (lv->overflow)
		return 0;
	rc = aml_csv_map_add(lv->distinct, aml_metric_label_key(v, buf, sizeof buf),
			     lv->n, NULL);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		if (strv_push(&lv->spell, &lv->n, v) != 0)
			return AML_ENOMEM;
		if (lv->n > AML_TASK_MAX_CLASSES)
			lv->overflow = 1;
	}
	return 0;
}

static int
scan_train(loader *L)
{
	aml_task_info *t = L->t;
	const char *const *f;
	size_t limit, c, l, row = 0;
	int rc;

	L->stats = calloc(L->train_ncols, sizeof *L->stats);
	L->lv = calloc(t->n_labels, sizeof *L->lv);
	if (L->stats == NULL || L->lv == NULL)
		return oom(L);
	for (l = 0; l < t->n_labels; l++) {
		L->lv[l].col = (size_t)strv_find(L->train_hdr, L->train_ncols, t->labels[l]);
		L->lv[l].all_numeric = L->lv[l].all_integer = 1;
		if ((L->lv[l].distinct = aml_csv_map_new()) == NULL)
			return oom(L);
	}
	/* Bound the cells looked at: wide files (pixels) get fewer rows. */
	limit = 2000000 / (L->train_ncols ? L->train_ncols : 1);
	if (limit > AML_TASK_SAMPLE_ROWS)
		limit = AML_TASK_SAMPLE_ROWS;
	if (limit < 100)
		limit = 100;
	while ((rc = aml_csv_next(L->train, &f, L->err, L->errlen)) == 1) {
		if (row++ < limit)
			for (c = 0; c < L->train_ncols; c++) {
				col_stats *st = &L->stats[c];

				if (aml_csv_is_missing(f[c]))
					continue;
				st->seen++;
				st->numeric += aml_csv_number(f[c], NULL) == 0;
				st->len_sum += strlen(f[c]);
				st->spaced += strchr(f[c], ' ') != NULL;
				st->dated += (size_t)looks_like_date(f[c]);
			}
		for (l = 0; l < t->n_labels; l++) {
			label_values *lv = &L->lv[l];
			const char *v = f[lv->col];
			double x;

			if (aml_csv_is_missing(v)) {
				lv->missing++;
				continue;
			}
			if (aml_csv_number(v, &x) != 0)
				lv->all_numeric = lv->all_integer = 0;
			else if (!aml_csv_is_integer(v))
				lv->all_integer = 0;
			if (label_add(lv, v) < 0)
				return oom(L);
		}
	}
	if (rc < 0)
		return rc;
	t->view.train_rows = aml_csv_rows(L->train);
	source(L, F_TRAIN_ROWS, "rows of %s", t->train_file);
	if (t->view.train_rows == 0)
		return fail(L, AML_EFORMAT, "%s/%s: no rows under the header",
			    t->public_dir, t->train_file);
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Metric.                                                             */

static const struct {
	const char *phrase;
	const char *metric;
} metric_phrases[] = {
	{"quadratic weighted kappa", "qwk"},
	{"quadratically weighted kappa", "qwk"},
	{"quadratic weighted cohen's kappa", "qwk"},
	{"qwk", "qwk"},
	{"mean column-wise root mean squared error", "mcrmse"},
	{"mean columnwise root mean squared error", "mcrmse"},
	{"mean column-wise rmse", "mcrmse"},
	{"mcrmse", "mcrmse"},
	{"root mean squared logarithmic error", "rmsle"},
	{"root mean square logarithmic error", "rmsle"},
	{"root mean squared log error", "rmsle"},
	{"root mean square log error", "rmsle"},
	{"rmse of log", "rmsle"},
	{"rmsle", "rmsle"},
	{"root mean squared error", "rmse"},
	{"root mean square error", "rmse"},
	{"root-mean-square error", "rmse"},
	{"root-mean-squared error", "rmse"},
	{"root-mean-squared-error", "rmse"},
	{"root-mean-square-error", "rmse"},
	{"rmse", "rmse"},
	{"mean squared error", "mse"},
	{"mean square error", "mse"},
	{"mse", "mse"},
	{"mean absolute error", "mae"},
	{"mae", "mae"},
	{"coefficient of determination", "r2"},
	{"r-squared", "r2"},
	{"r squared", "r2"},
	{"r2", "r2"},
	{"r\xc2\xb2", "r2"},
	{"r^2", "r2"},
	{"logarithmic loss", "log_loss"},
	{"log loss", "log_loss"},
	{"log-loss", "log_loss"},
	{"logloss", "log_loss"},
	{"cross-entropy", "log_loss"},
	{"cross entropy", "log_loss"},
	{"area under the roc curve", "roc_auc"},
	{"area under the receiver operating characteristic", "roc_auc"},
	{"roc auc", "roc_auc"},
	{"roc-auc", "roc_auc"},
	{"auc-roc", "roc_auc"},
	{"auc", "roc_auc"},
	{"macro f1", "f1_macro"},
	{"macro-f1", "f1_macro"},
	{"f1 macro", "f1_macro"},
	{"f1-macro", "f1_macro"},
	{"macro-averaged f1", "f1_macro"},
	{"macro averaged f1", "f1_macro"},
	{"f1", "f1"},
	{"classification accuracy", "accuracy"},
	{"accuracy", "accuracy"},
};

static int
is_word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Offset of phrase in text[0..len) as whole words, case-insensitively;
 * -1 when absent. */
static long
find_phrase(const char *text, size_t len, const char *phrase)
{
	size_t n = strlen(phrase), i;

	if (n > len)
		return -1;
	for (i = 0; i + n <= len; i++) {
		if (strncasecmp(text + i, phrase, n) != 0)
			continue;
		if (i > 0 && is_word_char((unsigned char)text[i - 1])
		    && is_word_char((unsigned char)phrase[0]))
			continue;
		if (i + n < len && is_word_char((unsigned char)text[i + n])
		    && is_word_char((unsigned char)phrase[n - 1]))
			continue;
		return (long)i;
	}
	return -1;
}

/* The span of the description's Evaluation section: from a heading that
 * mentions "evaluation" to the next heading of the same or a higher level. */
static int
evaluation_section(const char *text, size_t *start, size_t *end)
{
	const char *p = text, *nl;
	int level = -1;

	while (*p) {
		int hashes = 0;
		size_t linelen;

		nl = strchr(p, '\n');
		linelen = nl ? (size_t)(nl - p) : strlen(p);
		while (p[hashes] == '#')
			hashes++;
		if (level < 0) {
			char line[256];

			snprintf(line, sizeof line, "%.*s", (int)(linelen < 255 ? linelen : 255), p);
			if (hashes > 0 && aml_strcasestr_has(line, "evaluation")) {
				level = hashes;
				*start = (size_t)(p - text) + linelen;
			} else if (hashes == 0 && strncasecmp(aml_trim(line), "evaluation", 10) == 0
				   && strlen(line) <= 12) {
				level = 1000; /* a bare "Evaluation" line: until any heading */
				*start = (size_t)(p - text) + linelen;
			}
		} else if (hashes > 0 && hashes <= level) {
			*end = (size_t)(p - text);
			return 1;
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	if (level < 0)
		return 0;
	*end = strlen(text);
	return 1;
}

/* Does the sentence starting at text speak of logarithms (of the values
 * the error is taken over)? */
static int
log_follows(const char *text, size_t len)
{
	static const char *const words[] = {
		"logarithm", "logarithms", "log of", "log-transformed", "log1p", "log(",
		"natural log",
	};
	size_t end = 0, i;

	while (end < len && end < 240 && text[end] != '.' && text[end] != '\n')
		end++;
	for (i = 0; i < AML_ARRAY_LEN(words); i++)
		if (find_phrase(text, end, words[i]) >= 0)
			return 1;
	return 0;
}

static int
infer_metric(loader *L)
{
	aml_task_info *t = L->t;
	const aml_ynode *node;
	const char *given, *text = t->description;
	size_t len = strlen(text), s0 = 0, s1 = len, i, pass;
	int rc, has_section;

	rc = ystr(L, "metric", &given, &node);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		size_t n, k;
		const char *const *names = aml_metric_names(&n);

		for (k = 0; k < n; k++)
			if (strcasecmp(given, names[k]) == 0)
				break;
		if (k == n)
			return yfail(L, node, "unknown metric '%s'; write one of: %s", given,
				     aml_metric_names_joined());
		t->metric = strdup(names[k]);
		if (t->metric == NULL)
			return oom(L);
		source(L, F_METRIC, "%s:%d", L->yaml_name, node->line);
		return AML_OK;
	}
	has_section = evaluation_section(text, &s0, &s1);
	for (pass = has_section ? 0 : 1; pass < 2; pass++) {
		const char *span = pass == 0 ? text + s0 : text;
		size_t span_len = pass == 0 ? s1 - s0 : len;

		for (i = 0; i < AML_ARRAY_LEN(metric_phrases); i++) {
			long at = find_phrase(span, span_len, metric_phrases[i].phrase);

			if (at < 0)
				continue;
			/* "RMSE between the logarithm of the predicted value and the
			 * logarithm of the observed ..." is Kaggle's wording for
			 * RMSLE (House Prices): look a sentence further. */
			if (strcmp(metric_phrases[i].metric, "rmse") == 0
			    && log_follows(span + at, span_len - (size_t)at)) {
				t->metric = strdup("rmsle");
				if (t->metric == NULL)
					return oom(L);
				source(L, F_METRIC, "description.md%s: '%.*s' of logarithms",
				       pass == 0 ? " (Evaluation section)" : "",
				       (int)strlen(metric_phrases[i].phrase), span + at);
				return AML_OK;
			}
			t->metric = strdup(metric_phrases[i].metric);
			if (t->metric == NULL)
				return oom(L);
			source(L, F_METRIC, "description.md%s: '%.*s'",
			       pass == 0 ? " (Evaluation section)" : "",
			       (int)strlen(metric_phrases[i].phrase), span + at);
			return AML_OK;
		}
	}
	return AML_OK; /* decided after the task type, which names a default */
}

/* ------------------------------------------------------------------ */
/* Task type, classes, output.                                         */

static int
parse_enum(loader *L, const char *key, const char *const *names, size_t n,
	   int *out, enum fact f)
{
	const aml_ynode *node;
	const char *given;
	size_t i;
	int rc;

	rc = ystr(L, key, &given, &node);
	if (rc <= 0)
		return rc;
	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcasecmp(given, names[i]) == 0) {
			*out = (int)i;
			source(L, f, "%s:%d", L->yaml_name, node->line);
			return 1;
		}
	{
		aml_sb b = {0};

		for (i = 0; i < n; i++)
			if (names[i] != NULL)
				aml_sb_printf(&b, "%s%s", b.len ? ", " : "", names[i]);
		rc = yfail(L, node, "%s '%s' is not one of: %s", key, given, b.s ? b.s : "");
		aml_sb_free(&b);
	}
	return rc;
}

static const char *const type_names[] = {
	NULL, "binary", "multiclass", "regression", "multi_regression",
};
static const char *const output_names[] = {"label", "proba", "class_proba", "value"};

static int
infer_type(loader *L)
{
	aml_task_info *t = L->t;
	const label_values *lv = &L->lv[0];
	const char *lab = t->labels[0];
	int type = AML_TASK_UNKNOWN, rc, cls, l;

	rc = parse_enum(L, "task_type", type_names, AML_ARRAY_LEN(type_names), &type, F_TYPE);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		t->view.type = (aml_task_type)type;
		return AML_OK;
	}
	cls = t->metric ? aml_metric_is_classification(t->metric) : -1;
	if (t->n_labels > 1) {
		for (l = 0; (size_t)l < t->n_labels; l++)
			if (!L->lv[l].all_numeric || L->lv[l].n == 0) {
				char *labs = joined(t->labels, t->n_labels);

				rc = fail(L, AML_EINVAL, "several label columns (%s) whose values"
					  " are not all numbers; write `task_type: NAME`"
					  " (binary, multiclass, regression or multi_regression)"
					  " and `target_columns: [NAME]` in %s", labs, L->yaml_at);
				free(labs);
				return rc;
			}
		t->view.type = AML_TASK_MULTI_REGRESSION;
		source(L, F_TYPE, "%zu numeric label columns in %s", t->n_labels, t->train_file);
		return AML_OK;
	}
	if (lv->n == 0)
		return fail(L, AML_EINVAL, "%s column '%s' holds no values; write"
			    " `task_type: NAME` in %s", t->train_file, lab, L->yaml_at);
	if (L->per_class) {
		t->view.type = lv->n <= 2 ? AML_TASK_BINARY : AML_TASK_MULTICLASS;
		source(L, F_TYPE, "%s '%s': %s%zu classes, one sample column each",
		       t->train_file, lab, lv->overflow ? "more than " : "", lv->n);
	} else if (!lv->all_numeric) {
		t->view.type = lv->n <= 2 ? AML_TASK_BINARY : AML_TASK_MULTICLASS;
		source(L, F_TYPE, "%s '%s': %s%zu distinct non-numeric values",
		       t->train_file, lab, lv->overflow ? "more than " : "", lv->n);
	} else if (cls == 0) {
		t->view.type = AML_TASK_REGRESSION;
		source(L, F_TYPE, "%s '%s' holds numbers and %s is a regression metric",
		       t->train_file, lab, t->metric);
	} else if (lv->n <= 2) {
		t->view.type = AML_TASK_BINARY;
		source(L, F_TYPE, "%s '%s': %zu distinct values", t->train_file, lab, lv->n);
	} else if (lv->all_integer && !lv->overflow && lv->n <= MULTICLASS_MAX
		   && (cls == 1 || lv->n * 20 <= t->view.train_rows)) {
		t->view.type = AML_TASK_MULTICLASS;
		source(L, F_TYPE, "%s '%s': %zu distinct whole numbers in %zu rows%s",
		       t->train_file, lab, lv->n, t->view.train_rows,
		       cls == 1 ? " and a classification metric" : "");
	} else {
		t->view.type = AML_TASK_REGRESSION;
		source(L, F_TYPE, "%s '%s': numbers with %s%zu distinct values in %zu rows",
		       t->train_file, lab, lv->overflow ? "more than " : "", lv->n,
		       t->view.train_rows);
	}
	return AML_OK;
}

static int
label_sort_numeric(const void *a, const void *b)
{
	double x = 0, y = 0;

	aml_csv_number(*(char *const *)a, &x);
	aml_csv_number(*(char *const *)b, &y);
	return (x > y) - (x < y);
}

static int
infer_classes(loader *L)
{
	aml_task_info *t = L->t;
	label_values *lv = &L->lv[0];

	if (t->view.type != AML_TASK_BINARY && t->view.type != AML_TASK_MULTICLASS) {
		source(L, F_CLASSES, "none for %s", aml_task_type_name(t->view.type));
		return AML_OK;
	}
	if (lv->overflow) {
		source(L, F_CLASSES, "not listed: %s '%s' has more than %d distinct values",
		       t->train_file, t->labels[0], AML_TASK_MAX_CLASSES);
		return AML_OK;
	}
	/* Take the spellings over: the label pass is done with them. */
	t->classes = lv->spell;
	t->n_classes = lv->n;
	lv->spell = NULL;
	lv->n = 0;
	if (t->n_classes > 1)
		qsort(t->classes, t->n_classes, sizeof *t->classes,
		      L->lv[0].all_numeric ? label_sort_numeric : name_cmp);
	source(L, F_CLASSES, "distinct values of %s '%s' (%zu rows%s)", t->train_file,
	       t->labels[0], t->view.train_rows, L->lv[0].missing ? ", some missing" : "");
	return AML_OK;
}

/* The sample's values of column name are fractions in [0,1] (not all 0/1). */
static int
sample_holds_fractions(const aml_csv_table *s, const char *name)
{
	long c = aml_csv_column(s, name);
	size_t r, fractional = 0;
	double v;

	if (c < 0)
		return 0;
	for (r = 0; r < s->nrows; r++) {
		if (aml_csv_number(s->cols[c][r], &v) != 0 || v < 0 || v > 1)
			return 0;
		fractional += v != 0 && v != 1;
	}
	return fractional > 0;
}

static int
infer_output(loader *L)
{
	aml_task_info *t = L->t;
	const aml_ynode *node = yget(L, "output");
	int out = AML_OUT_LABEL, rc;

	rc = parse_enum(L, "output", output_names, AML_ARRAY_LEN(output_names), &out, F_OUTPUT);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		if (out == AML_OUT_CLASS_PROBA && (t->n_subcols < 2 || t->n_labels != 1))
			return yfail(L, node, "output class_proba needs one probability column"
				     " per class in %s and one target column", t->sample_file);
		if (out == AML_OUT_PROBA && t->n_subcols != 1)
			return yfail(L, node, "output proba needs a single prediction column"
				     " in %s (it has %zu)", t->sample_file, t->n_subcols);
		t->view.output = (aml_output_kind)out;
		return AML_OK;
	}
	switch (t->view.type) {
	case AML_TASK_REGRESSION:
	case AML_TASK_MULTI_REGRESSION:
	case AML_TASK_UNKNOWN:
		t->view.output = AML_OUT_VALUE;
		source(L, F_OUTPUT, "numbers for a regression task");
		return AML_OK;
	default:
		break;
	}
	if (L->per_class) {
		t->view.output = AML_OUT_CLASS_PROBA;
		source(L, F_OUTPUT, "%s has a probability column per class", t->sample_file);
	} else if (t->view.type == AML_TASK_MULTICLASS) {
		t->view.output = AML_OUT_LABEL;
		source(L, F_OUTPUT, "%s has one column for a multiclass label", t->sample_file);
	} else if (sample_holds_fractions(t->sample, t->subcols[0])) {
		t->view.output = AML_OUT_PROBA;
		source(L, F_OUTPUT, "%s holds fractions in [0,1]", t->sample_file);
	} else if (t->metric && (strcmp(t->metric, "roc_auc") == 0
				 || strcmp(t->metric, "log_loss") == 0)) {
		t->view.output = AML_OUT_PROBA;
		source(L, F_OUTPUT, "%s scores probabilities", t->metric);
	} else if (t->metric && aml_metric_is_classification(t->metric) == 1) {
		t->view.output = AML_OUT_LABEL;
		source(L, F_OUTPUT, "%s scores labels", t->metric);
	} else if (find_phrase(t->description, strlen(t->description), "probability") >= 0
		   || find_phrase(t->description, strlen(t->description), "probabilities") >= 0) {
		t->view.output = AML_OUT_PROBA;
		source(L, F_OUTPUT, "description.md speaks of probability");
	} else {
		t->view.output = AML_OUT_LABEL;
		source(L, F_OUTPUT, "%s holds labels", t->sample_file);
	}
	return AML_OK;
}

/* For class_proba: which class each submission column holds. */
static int
map_columns(loader *L)
{
	aml_task_info *t = L->t;
	const char *prefix = NULL;
	size_t prefix_len = 0, i, k, j;
	int by_name = 1, used_prefix = 0;

	if (t->view.output != AML_OUT_CLASS_PROBA)
		return AML_OK;
	if (t->n_classes == 0)
		return fail(L, AML_EINVAL, "cannot list the classes of %s '%s' for the"
			    " probability columns of %s; write `output: label` in %s",
			    t->train_file, t->labels[0], t->sample_file, L->yaml_at);
	t->column_class = calloc(t->n_subcols, sizeof *t->column_class);
	if (t->column_class == NULL)
		return oom(L);
	for (i = 0; i < t->n_subcols && by_name; i++) {
		const char *col = t->subcols[i];
		size_t lc = strlen(col), best_len = 0;
		int best_score = 0;
		long best = -1;

		for (k = 0; k < t->n_classes; k++) {
			const char *cls = t->classes[k];
			size_t lk = strlen(cls);
			int score = 0;

			if (strcmp(col, cls) == 0)
				score = 3;
			else if (strcasecmp(col, cls) == 0)
				score = 2;
			else if (lc > lk && strcasecmp(col + lc - lk, cls) == 0)
				score = 1;
			if (score > best_score || (score == 1 && best_score == 1 && lk > best_len)) {
				best_score = score;
				best_len = lk;
				best = (long)k;
			}
		}
		if (best < 0) {
			by_name = 0;
			break;
		}
		if (best_score == 1) { /* "<prefix><class>": one prefix for all */
			size_t pl = lc - best_len;

			if (prefix == NULL) {
				prefix = col;
				prefix_len = pl;
			} else if (pl != prefix_len || strncasecmp(prefix, col, pl) != 0) {
				by_name = 0;
				break;
			}
			used_prefix = 1;
		}
		for (j = 0; j < i; j++)
			if (t->column_class[j] == t->classes[best])
				by_name = 0;
		t->column_class[i] = t->classes[best];
	}
	if (by_name && t->n_subcols == t->n_classes) {
		if (used_prefix)
			source(L, F_CLASSES, "distinct values of %s '%s'; %s columns are"
			       " '%.*s<class>'", t->train_file, t->labels[0], t->sample_file,
			       (int)prefix_len, prefix);
		else
			source(L, F_CLASSES, "distinct values of %s '%s'; %s columns are"
			       " named after them", t->train_file, t->labels[0], t->sample_file);
		return AML_OK;
	}
	if (t->n_subcols == t->n_classes) {
		for (i = 0; i < t->n_subcols; i++)
			t->column_class[i] = t->classes[i];
		source(L, F_CLASSES, "distinct values of %s '%s'; %s columns do not name"
		       " them, taken in sorted order", t->train_file, t->labels[0],
		       t->sample_file);
		return AML_OK;
	}
	{
		char *cols = joined(t->subcols, t->n_subcols);
		char *cls = joined(t->classes, t->n_classes);
		int rc = fail(L, AML_EINVAL, "%s has %zu probability columns (%s) but %s '%s'"
			      " has %zu classes (%s); write `target_columns: [NAME]` and"
			      " `output: NAME` in %s", t->sample_file, t->n_subcols, cols,
			      t->train_file, t->labels[0], t->n_classes, cls, L->yaml_at);

		free(cols);
		free(cls);
		return rc;
	}
}

/* ------------------------------------------------------------------ */
/* Modality.                                                           */

static int
is_image_name(const char *name)
{
	static const char *const ext[] = {
		".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff",
		".webp", ".dcm",
	};
	size_t i;

	for (i = 0; i < AML_ARRAY_LEN(ext); i++)
		if (ends_with_ci(name, ext[i]))
			return 1;
	return 0;
}

/* Image files under dir, to depth levels below it, looking at no more
 * than *budget entries. */
static size_t
count_images(const char *dir, int depth, size_t *budget)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	if (d == NULL)
		return 0;
	while (*budget > 0 && (e = readdir(d)) != NULL) {
		char *p;

		if (e->d_name[0] == '.')
			continue;
		(*budget)--;
		if (is_image_name(e->d_name)) {
			n++;
			continue;
		}
		if (depth == 0)
			continue;
		p = aml_path_join(dir, e->d_name);
		if (p == NULL)
			break;
		if (aml_is_dir(p))
			n += count_images(p, depth - 1, budget);
		free(p);
	}
	closedir(d);
	return n;
}

static int
is_pixel_name(const char *s)
{
	const char *p;

	if (strncasecmp(s, "pixel", 5) == 0)
		p = s + 5;
	else if (strncasecmp(s, "px", 2) == 0)
		p = s + 2;
	else
		return 0;
	if (*p == '_')
		p++;
	if (!isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p) || *p == 'x' || *p == '_')
		p++;
	return *p == '\0';
}

static int
is_date_name(const char *s)
{
	static const char *const names[] = {
		"date", "time", "timestamp", "datetime", "ds", "day", "dt",
	};
	size_t i;

	for (i = 0; i < AML_ARRAY_LEN(names); i++)
		if (strcasecmp(s, names[i]) == 0)
			return 1;
	return ends_with_ci(s, "_date") || ends_with_ci(s, "_time")
	       || ends_with_ci(s, "datetime");
}

static int
is_feature(const loader *L, size_t c)
{
	const char *name = L->train_hdr[c];

	if (L->t->id_column != NULL && strcmp(name, L->t->id_column) == 0)
		return 0;
	return strv_find(L->t->labels, L->t->n_labels, name) < 0;
}

static const char *const modality_names[] = {"tabular", "text", "image", "timeseries"};

static int
infer_modality(loader *L)
{
	aml_task_info *t = L->t;
	const aml_ynode *node = yget(L, "modality");
	aml_sb src = {0};
	uint32_t bits = 0;
	size_t c, i, pixels = 0, budget = SCAN_BUDGET, images;
	long date_col = -1;
	const char *ts_word = NULL;

	if (node != NULL && !aml_ynode_is_null(node)) {
		size_t n = node->type == AML_Y_SEQ ? node->n : 1;

		if (node->type == AML_Y_MAP)
			return yfail(L, node, "modality must be a name or a list of names");
		for (i = 0; i < n; i++) {
			const aml_ynode *it = node->type == AML_Y_SEQ ? node->items[i] : node;
			size_t k;

			for (k = 0; k < AML_ARRAY_LEN(modality_names); k++)
				if (it->type == AML_Y_SCALAR
				    && strcasecmp(it->scalar, modality_names[k]) == 0)
					break;
			if (k == AML_ARRAY_LEN(modality_names))
				return yfail(L, it, "modality must be tabular, text, image or timeseries");
			bits |= 1u << k;
		}
		t->view.modality = bits;
		source(L, F_MODALITY, "%s:%d", L->yaml_name, node->line);
		return AML_OK;
	}
	for (c = 0; c < L->train_ncols; c++) {
		const col_stats *st = &L->stats[c];

		if (!is_feature(L, c))
			continue;
		if (is_pixel_name(L->train_hdr[c]))
			pixels++;
		if (st->seen > 0 && st->numeric * 10 <= st->seen
		    && st->len_sum > TEXT_MEAN_LEN * st->seen && st->spaced * 2 >= st->seen
		    && !(bits & AML_MOD_TEXT)) {
			bits |= AML_MOD_TEXT;
			aml_sb_printf(&src, "%s'%s' is free text (mean %zu chars)",
				      src.len ? "; " : "", L->train_hdr[c], st->len_sum / st->seen);
		}
		if (date_col < 0 && st->seen > 0
		    && (is_date_name(L->train_hdr[c]) || st->dated * 10 >= st->seen * 9))
			date_col = (long)c;
	}
	if (pixels >= PIXEL_COLUMNS) {
		bits |= AML_MOD_IMAGE;
		aml_sb_printf(&src, "%s%zu pixel columns", src.len ? "; " : "", pixels);
	} else if ((images = count_images(t->public_dir, 2, &budget)) >= IMAGE_FILES) {
		bits |= AML_MOD_IMAGE;
		aml_sb_printf(&src, "%s%s%zu image files in the public folder",
			      src.len ? "; " : "", budget == 0 ? "at least " : "", images);
	}
	if (date_col >= 0) {
		static const char *const words[] = {
			"forecast", "forecasting", "time series", "time-series", "timeseries",
		};

		for (i = 0; i < AML_ARRAY_LEN(words) && ts_word == NULL; i++)
			if (find_phrase(t->description, strlen(t->description), words[i]) >= 0)
				ts_word = words[i];
		if (ts_word != NULL) {
			bits |= AML_MOD_TIMESERIES;
			aml_sb_printf(&src, "%s'%s' holds dates and description.md says '%s'",
				      src.len ? "; " : "", L->train_hdr[date_col], ts_word);
		}
	}
	if (bits == 0) {
		bits = AML_MOD_TABULAR;
		aml_sb_puts(&src, "no free text, images or time series found");
	} else if (pixels >= PIXEL_COLUMNS || !(bits & AML_MOD_IMAGE)) {
		/* Pixel, text and date columns are still columns of a table:
		 * tabular methods apply as well (a baseline, if not the best).
		 * Only images kept as files are not a table. */
		bits |= AML_MOD_TABULAR;
		aml_sb_puts(&src, "; the features are CSV columns, so tabular too");
	}
	t->view.modality = bits;
	if (src.oom)
		L->oom = 1;
	source(L, F_MODALITY, "%s columns and public files: %s", t->train_file,
	       src.s ? src.s : "");
	aml_sb_free(&src);
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Direction and the view.                                             */

static int
infer_direction(loader *L)
{
	aml_task_info *t = L->t;
	const aml_ynode *node;
	const char *given;
	int rc;

	if (t->metric == NULL) {
		const char *guess = t->view.type == AML_TASK_REGRESSION
				    || t->view.type == AML_TASK_MULTI_REGRESSION ? "rmse"
				    : t->view.output == AML_OUT_LABEL ? "accuracy" : "log_loss";

		return fail(L, AML_EINVAL, "cannot tell the metric from %s; write `metric: %s`"
			    " (one of %s) in %s", t->description[0] ? "description.md"
			    : "the task (no description.md)", guess,
			    aml_metric_names_joined(), L->yaml_at);
	}
	rc = ystr(L, "direction", &given, &node);
	if (rc < 0)
		return rc;
	if (rc == 1) {
		if (strcasecmp(given, "maximize") == 0 || strcasecmp(given, "max") == 0)
			t->view.higher_is_better = 1;
		else if (strcasecmp(given, "minimize") == 0 || strcasecmp(given, "min") == 0)
			t->view.higher_is_better = 0;
		else
			return yfail(L, node, "direction must be maximize or minimize, not '%s'", given);
		source(L, F_DIRECTION, "%s:%d", L->yaml_name, node->line);
		return AML_OK;
	}
	t->view.higher_is_better = aml_metric_higher_is_better(t->metric);
	source(L, F_DIRECTION, "%s is better for %s",
	       t->view.higher_is_better ? "higher" : "lower", t->metric);
	return AML_OK;
}

static void
fill_view(loader *L)
{
	aml_task_info *t = L->t;
	aml_task *v = &t->view;
	size_t c, nf = 0;

	for (c = 0; c < L->train_ncols; c++)
		nf += (size_t)is_feature(L, c);
	v->n_features = nf;
	source(L, F_NFEAT, "%s columns other than the id and labels", t->train_file);
	v->name = t->name;
	v->public_dir = t->public_dir;
	v->description = t->description;
	v->train_file = t->train_file;
	v->test_file = t->test_file;
	v->sample_file = t->sample_file;
	v->metric = t->metric;
	v->id_column = t->id_column;
	v->label_columns = (const char *const *)t->labels;
	v->n_label_columns = t->n_labels;
	v->submission_columns = (const char *const *)t->subcols;
	v->n_submission_columns = t->n_subcols;
	v->classes = (const char *const *)t->classes;
	v->n_classes = t->n_classes;
}

static void
loader_free(loader *L)
{
	size_t l;

	aml_ynode_free(L->yaml);
	free(L->yaml_path);
	free(L->yaml_at);
	aml_csv_close(L->train);
	strv_free(L->train_hdr, L->train_ncols);
	strv_free(L->test_hdr, L->test_ncols);
	aml_csv_map_free(L->test_ids);
	free(L->stats);
	if (L->lv != NULL)
		for (l = 0; l < L->t->n_labels; l++) {
			aml_csv_map_free(L->lv[l].distinct);
			strv_free(L->lv[l].spell, L->lv[l].n);
		}
	free(L->lv);
}

int
aml_task_load(const char *dir, aml_task_info **out, char *err, size_t errlen)
{
	loader L;
	char *p;
	int rc;

	*out = NULL;
	memset(&L, 0, sizeof L);
	L.err = err;
	L.errlen = errlen;
	if (dir == NULL || dir[0] == '\0') {
		aml_seterr(err, errlen, "no task folder given");
		return AML_EINVAL;
	}
	L.t = calloc(1, sizeof *L.t);
	if (L.t == NULL) {
		aml_seterr(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	rc = resolve_dirs(&L, dir);
	if (rc == AML_OK)
		rc = load_yaml(&L);
	if (rc == AML_OK) {
		p = aml_path_join(L.t->public_dir, "description.md");
		if (p == NULL) {
			rc = oom(&L);
		} else if (aml_is_file(p)) {
			rc = aml_read_file(p, DESCRIPTION_MAX, &L.t->description, NULL, err, errlen);
		} else if ((L.t->description = strdup("")) == NULL) {
			rc = oom(&L);
		}
		free(p);
	}
	if (rc == AML_OK)
		rc = find_sample(&L);
	if (rc == AML_OK)
		rc = open_data_files(&L);
	if (rc == AML_OK)
		rc = infer_id(&L);
	if (rc == AML_OK)
		rc = infer_subcols(&L);
	if (rc == AML_OK)
		rc = infer_labels(&L);
	if (rc == AML_OK)
		rc = scan_train(&L);
	if (rc == AML_OK)
		rc = infer_metric(&L);
	if (rc == AML_OK)
		rc = infer_type(&L);
	if (rc == AML_OK)
		rc = infer_classes(&L);
	if (rc == AML_OK)
		rc = infer_output(&L);
	if (rc == AML_OK)
		rc = map_columns(&L);
	if (rc == AML_OK)
		rc = infer_modality(&L);
	if (rc == AML_OK)
		rc = infer_direction(&L);
	if (rc == AML_OK)
		fill_view(&L);
	if (rc == AML_OK && L.oom)
		rc = oom(&L);
	loader_free(&L);
	if (rc != AML_OK) {
		aml_task_free(L.t);
		return rc;
	}
	*out = L.t;
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Accessors.                                                          */

const aml_task *
aml_task_view(const aml_task_info *t)
{
	return &t->view;
}

const char *
aml_task_root(const aml_task_info *t)
{
	return t->root;
}

const char *
aml_task_answers_path(const aml_task_info *t)
{
	return t->answers;
}

const char *
aml_task_source(const aml_task_info *t, const char *key)
{
	size_t i;

	for (i = 0; i < F_COUNT; i++)
		if (strcmp(fact_keys[i], key) == 0)
			return t->sources[i];
	return NULL;
}

const char *
aml_task_column_class(const aml_task_info *t, size_t i)
{
	if (t->column_class == NULL || i >= t->n_subcols)
		return NULL;
	return t->column_class[i];
}

const aml_csv_table *
aml_task_sample(const aml_task_info *t)
{
	return t->sample;
}

const char *
aml_task_type_name(aml_task_type type)
{
	if ((size_t)type < AML_ARRAY_LEN(type_names) && type_names[type] != NULL)
		return type_names[type];
	return "unknown";
}

const char *
aml_output_name(aml_output_kind output)
{
	if ((size_t)output < AML_ARRAY_LEN(output_names))
		return output_names[output];
	return "unknown";
}

const char *
aml_modality_name(unsigned bit)
{
	size_t i;

	for (i = 0; i < AML_ARRAY_LEN(modality_names); i++)
		if (bit == 1u << i)
			return modality_names[i];
	return "unknown";
}

void
aml_task_free(aml_task_info *t)
{
	size_t i;

	if (t == NULL)
		return;
	free(t->hardware);
	free(t->preview);
	free(t->root);
	free(t->public_dir);
	free(t->answers);
	free(t->name);
	free(t->description);
	free(t->train_file);
	free(t->test_file);
	free(t->sample_file);
	free(t->metric);
	free(t->id_column);
	strv_free(t->labels, t->n_labels);
	strv_free(t->subcols, t->n_subcols);
	strv_free(t->classes, t->n_classes);
	free(t->column_class);
	for (i = 0; i < F_COUNT; i++)
		free(t->sources[i]);
	aml_csv_table_free(t->sample);
	free(t);
}

/* ------------------------------------------------------------------ */
/* Printing.                                                           */

typedef struct file_entry {
	char *path;       /* relative to the root */
	unsigned long long bytes;
	size_t files;     /* for folders: files inside; 0 for files */
	int is_dir;
} file_entry;

static void
dir_usage(const char *dir, size_t *files, unsigned long long *bytes, size_t *budget)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;

	if (d == NULL)
		return;
	while (*budget > 0 && (e = readdir(d)) != NULL) {
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		(*budget)--;
		p = aml_path_join(dir, e->d_name);
		if (p == NULL)
			break;
		if (lstat(p, &st) == 0) {
			if (S_ISDIR(st.st_mode)) {
				dir_usage(p, files, bytes, budget);
			} else {
				(*files)++;
				*bytes += (unsigned long long)st.st_size;
			}
		}
		free(p);
	}
	closedir(d);
}

static int
file_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const file_entry *)a)->path, ((const file_entry *)b)->path);
}

/* The entries of dir (one level; folders summed up), paths prefixed. */
static int
list_files(const char *dir, const char *prefix, file_entry **v, size_t *n)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	size_t budget = LIST_BUDGET;

	if (d == NULL)
		return AML_OK;
	while ((e = readdir(d)) != NULL) {
		file_entry *nv, *fe;
		char *p;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		p = aml_path_join(dir, e->d_name);
		if (p == NULL || stat(p, &st) != 0) {
			int gone = p != NULL;

			free(p);
			if (gone)
				continue;
			closedir(d);
			return AML_ENOMEM;
		}
		nv = realloc(*v, (*n + 1) * sizeof *nv);
		if (nv == NULL) {
			free(p);
			closedir(d);
			return AML_ENOMEM;
		}
		*v = nv;
		fe = &nv[*n];
		memset(fe, 0, sizeof *fe);
		{
			aml_sb b = {0};

			aml_sb_printf(&b, "%s%s%s", prefix, e->d_name,
				      S_ISDIR(st.st_mode) ? "/" : "");
			fe->path = aml_sb_take(&b);
		}
		if (fe->path == NULL) {
			free(p);
			closedir(d);
			return AML_ENOMEM;
		}
		(*n)++;
		if (S_ISDIR(st.st_mode)) {
			fe->is_dir = 1;
			dir_usage(p, &fe->files, &fe->bytes, &budget);
		} else {
			fe->bytes = (unsigned long long)st.st_size;
		}
		free(p);
	}
	closedir(d);
	return AML_OK;
}

static void
files_free(file_entry *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].path);
	free(v);
}

static int
collect_files(const aml_task_info *t, file_entry **v, size_t *n)
{
	int rc;

	*v = NULL;
	*n = 0;
	if (strcmp(t->root, t->public_dir) == 0) {
		rc = list_files(t->public_dir, "", v, n);
	} else {
		char *priv = aml_path_join(t->root, "private");

		if (priv == NULL)
			return AML_ENOMEM;
		rc = list_files(t->public_dir, "public/", v, n);
		if (rc == AML_OK)
			rc = list_files(priv, "private/", v, n);
		free(priv);
	}
	if (rc != AML_OK) {
		files_free(*v, *n);
		*v = NULL;
		*n = 0;
		return rc;
	}
	if (*n > 1)
		qsort(*v, *n, sizeof **v, file_entry_cmp);
	return AML_OK;
}

static void
sb_modality(aml_sb *b, uint32_t bits)
{
	size_t i;
	int first = 1;

	for (i = 0; i < AML_ARRAY_LEN(modality_names); i++)
		if (bits & (1u << i)) {
			aml_sb_printf(b, "%s%s", first ? "" : "+", modality_names[i]);
			first = 0;
		}
}

static void
print_fact(aml_sb *b, const aml_task_info *t, enum fact f, const char *value)
{
	aml_sb_printf(b, "  %-19s %s\n  %-19s   <- %s\n", fact_keys[f], value, "",
		      t->sources[f] ? t->sources[f] : "?");
}

static int
print_text(const aml_task_info *t, FILE *f)
{
	const aml_task *v = &t->view;
	file_entry *files = NULL;
	size_t nfiles = 0, i;
	aml_sb b = {0}, val = {0};
	int rc;

	aml_sb_printf(&b, "task %s\n  root     %s\n  public   %s\n  answers  %s\n\nprofile\n",
		      v->name, t->root, t->public_dir,
		      t->answers ? t->answers : "(none: grading unavailable)");
	aml_sb_printf(&val, "%s (%s)", v->metric, v->higher_is_better ? "maximize" : "minimize");
	print_fact(&b, t, F_METRIC, val.s ? val.s : "");
	print_fact(&b, t, F_DIRECTION, v->higher_is_better ? "maximize" : "minimize");
	print_fact(&b, t, F_TYPE, aml_task_type_name(v->type));
	print_fact(&b, t, F_OUTPUT, aml_output_name(v->output));
	aml_sb_free(&val);
	sb_modality(&val, v->modality);
	print_fact(&b, t, F_MODALITY, val.s ? val.s : "");
	print_fact(&b, t, F_ID, v->id_column ? v->id_column : "(none)");
	aml_sb_free(&val);
	sb_join(&val, t->labels, t->n_labels, 20);
	print_fact(&b, t, F_LABELS, val.s ? val.s : "");
	aml_sb_free(&val);
	sb_join(&val, t->subcols, t->n_subcols, 20);
	print_fact(&b, t, F_SUBCOLS, val.s ? val.s : "");
	aml_sb_free(&val);
	sb_join(&val, t->classes, t->n_classes, 20);
	print_fact(&b, t, F_CLASSES, val.s ? val.s : "");
	aml_sb_free(&val);
	print_fact(&b, t, F_TRAIN, v->train_file);
	print_fact(&b, t, F_TEST, v->test_file[0] ? v->test_file : "(none)");
	print_fact(&b, t, F_SAMPLE, v->sample_file);
	aml_sb_printf(&val, "%zu", v->train_rows);
	print_fact(&b, t, F_TRAIN_ROWS, val.s ? val.s : "");
	aml_sb_free(&val);
	aml_sb_printf(&val, "%zu", v->test_rows);
	print_fact(&b, t, F_TEST_ROWS, val.s ? val.s : "");
	aml_sb_free(&val);
	aml_sb_printf(&val, "%zu", v->n_features);
	print_fact(&b, t, F_NFEAT, val.s ? val.s : "");
	aml_sb_free(&val);
	rc = collect_files(t, &files, &nfiles);
	if (rc != AML_OK) {
		aml_sb_free(&b);
		return rc;
	}
	aml_sb_puts(&b, "\nfiles\n");
	for (i = 0; i < nfiles; i++) {
		if (files[i].is_dir)
			aml_sb_printf(&b, "  %-40s %12llu bytes in %zu files\n", files[i].path,
				      files[i].bytes, files[i].files);
		else
			aml_sb_printf(&b, "  %-40s %12llu bytes\n", files[i].path, files[i].bytes);
	}
	files_free(files, nfiles);
	if (b.oom) {
		aml_sb_free(&b);
		return AML_ENOMEM;
	}
	rc = fputs(b.s, f) == EOF ? AML_EIO : AML_OK;
	aml_sb_free(&b);
	return rc;
}

static json_object *
json_strv(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a != NULL && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static int
print_json(const aml_task_info *t, FILE *f)
{
	const aml_task *v = &t->view;
	json_object *o = json_object_new_object(), *src, *mod, *fl;
	file_entry *files = NULL;
	size_t nfiles = 0, i;
	int rc;

	if (o == NULL)
		return AML_ENOMEM;
	json_object_object_add(o, "name", json_object_new_string(v->name));
	json_object_object_add(o, "root", json_object_new_string(t->root));
	json_object_object_add(o, "public_dir", json_object_new_string(t->public_dir));
	json_object_object_add(o, "answers", t->answers ? json_object_new_string(t->answers) : NULL);
	json_object_object_add(o, "metric", json_object_new_string(v->metric));
	json_object_object_add(o, "direction",
			       json_object_new_string(v->higher_is_better ? "maximize" : "minimize"));
	json_object_object_add(o, "higher_is_better", json_object_new_boolean(v->higher_is_better));
	json_object_object_add(o, "task_type", json_object_new_string(aml_task_type_name(v->type)));
	json_object_object_add(o, "output", json_object_new_string(aml_output_name(v->output)));
	mod = json_object_new_array();
	for (i = 0; mod != NULL && i < AML_ARRAY_LEN(modality_names); i++)
		if (v->modality & (1u << i))
			json_object_array_add(mod, json_object_new_string(modality_names[i]));
	json_object_object_add(o, "modality", mod);
	json_object_object_add(o, "id_column",
			       v->id_column ? json_object_new_string(v->id_column) : NULL);
	json_object_object_add(o, "label_columns", json_strv(t->labels, t->n_labels));
	json_object_object_add(o, "submission_columns", json_strv(t->subcols, t->n_subcols));
	json_object_object_add(o, "classes", json_strv(t->classes, t->n_classes));
	if (t->column_class != NULL) {
		json_object *cc = json_object_new_object();

		for (i = 0; cc != NULL && i < t->n_subcols; i++)
			json_object_object_add(cc, t->subcols[i],
					       json_object_new_string(t->column_class[i]));
		json_object_object_add(o, "column_classes", cc);
	}
	json_object_object_add(o, "train_file", json_object_new_string(v->train_file));
	json_object_object_add(o, "test_file",
			       v->test_file[0] ? json_object_new_string(v->test_file) : NULL);
	json_object_object_add(o, "sample_file", json_object_new_string(v->sample_file));
	json_object_object_add(o, "train_rows", json_object_new_int64((int64_t)v->train_rows));
	json_object_object_add(o, "test_rows", json_object_new_int64((int64_t)v->test_rows));
	json_object_object_add(o, "n_features", json_object_new_int64((int64_t)v->n_features));
	src = json_object_new_object();
	for (i = 0; src != NULL && i < F_COUNT; i++)
		json_object_object_add(src, fact_keys[i],
				       t->sources[i] ? json_object_new_string(t->sources[i]) : NULL);
	json_object_object_add(o, "sources", src);
	rc = collect_files(t, &files, &nfiles);
	if (rc != AML_OK) {
		json_object_put(o);
		return rc;
	}
	fl = json_object_new_array();
	for (i = 0; fl != NULL && i < nfiles; i++) {
		json_object *e = json_object_new_object();

		if (e == NULL)
			break;
		json_object_object_add(e, "path", json_object_new_string(files[i].path));
		json_object_object_add(e, "bytes", json_object_new_int64((int64_t)files[i].bytes));
		if (files[i].is_dir)
			json_object_object_add(e, "files", json_object_new_int64((int64_t)files[i].files));
		json_object_array_add(fl, e);
	}
	json_object_object_add(o, "files", fl);
	files_free(files, nfiles);
	{
		const char *text = json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);

		if (text == NULL)
			rc = AML_ENOMEM;
		else
			rc = fprintf(f, "%s\n", text) < 0 ? AML_EIO : AML_OK;
	}
	json_object_put(o);
	return rc;
}

int
aml_task_print(const aml_task_info *t, FILE *f, int json)
{
	return json ? print_json(t, f) : print_text(t, f);
}

void
aml_task_set_preview(aml_task_info *t, char *text)
{
	free(t->preview);
	t->preview = text;
	t->view.data_preview = text;
}

void
aml_task_set_hardware(aml_task_info *t, char *text)
{
	free(t->hardware);
	t->hardware = text;
	t->view.hardware = text;
}
