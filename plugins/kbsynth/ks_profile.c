/*
 * ks_profile.c — a quick look at the training data, so kbsynth does not
 * propose changes that cannot matter (an LLM sees the columns in its
 * prompt; kbsynth reads them): which feature columns are numeric,
 * categorical or dates, which have missing values, how many levels the
 * categorical ones have, how unbalanced the classes are.
 *
 * Only the head of the files is read (KS_PROFILE_BYTES, at most
 * KS_PROFILE_ROWS rows), with the same rules as the skeleton: a column is
 * numeric when 98% of its present values parse as numbers, a date when
 * 90% of its text values start like one (the date entry's default).  When the files cannot be read
 * the profile is unknown and rules nothing out.
 */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ks.h"

#define KS_PROFILE_BYTES (4u << 20)
#define KS_PROFILE_ROWS 2000
#define KS_PROFILE_COLS 4096

/* The head of a file, NUL-terminated (malloc()ed), or NULL. */
static char *
read_head(const char *dir, const char *name)
{
	char path[4096];
	size_t n;
	char *buf;
	FILE *f;

	if (dir == NULL || name == NULL)
		return NULL;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (f == NULL)
		return NULL;
	buf = malloc(KS_PROFILE_BYTES + 1);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	n = fread(buf, 1, KS_PROFILE_BYTES, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* Parse one CSV record at *p in place (quotes removed, fields NUL-ended)
 * into fields (at most cap kept); *p moves past it.  Returns the field
 * count, 0 at the end; a record the end of the buffer cuts is left out. */
static size_t
next_record(char **p, char **fields, size_t cap)
{
	char *s = *p;
	size_t n = 0;

	if (*s == '\0')
		return 0;
	for (;;) {
		char *start = s, *out = s, delim;

		if (*s == '"') {
			s++;
			for (;;) {
				if (*s == '\0')
					return 0;
				if (*s == '"' && s[1] == '"') {
					*out++ = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					*out++ = *s++;
				}
			}
		}
		while (*s && *s != ',' && *s != '\n' && *s != '\r')
			*out++ = *s++;
		delim = *s;
		if (delim == '\0')
			return 0;
		*out = '\0'; /* out <= s, and the delimiter is saved */
		if (n < cap)
			fields[n] = start;
		n++;
		s++;
		if (delim == ',')
			continue;
		if (delim == '\r' && *s == '\n')
			s++;
		break;
	}
	*p = s;
	return n;
}

static int
is_missing(const char *v)
{
	static const char *const na[] = {"", "NA", "N/A", "n/a", "NaN", "nan", "null", "NULL",
					 "None", "<NA>", "-nan", "#N/A"};
	size_t i;

	for (i = 0; i < sizeof na / sizeof na[0]; i++)
		if (strcmp(v, na[i]) == 0)
			return 1;
	return 0;
}

static int
is_number(const char *v)
{
	char *end;

	while (isspace((unsigned char)*v))
		v++;
	strtod(v, &end);
	if (end == v)
		return 0;
	while (isspace((unsigned char)*end))
		end++;
	return *end == '\0';
}

/* digits: between lo and hi of them at *p, moved past. */
static int
digits(const char **p, int lo, int hi)
{
	int n = 0;

	while (isdigit((unsigned char)**p) && n < hi) {
		(*p)++;
		n++;
	}
	return n >= lo && !isdigit((unsigned char)**p);
}

static int
sep(const char **p)
{
	if (**p == '-' || **p == '/' || **p == '.') {
		(*p)++;
		return 1;
	}
	return 0;
}

/* The skeleton's date pattern: 2021-03-04 or 03/04/2021 at the start. */
static int
is_date(const char *v)
{
	const char *p;

	while (isspace((unsigned char)*v))
		v++;
	p = v;
	if (digits(&p, 4, 4) && sep(&p) && digits(&p, 1, 2) && sep(&p) && digits(&p, 1, 2))
		return 1;
	p = v;
	return digits(&p, 1, 2) && sep(&p) && digits(&p, 1, 2) && sep(&p) && digits(&p, 2, 4);
}

static uint64_t
hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h | 1; /* 0 marks an empty slot */
}

/* Distinct values of column c over the rows (an open-addressing set of
 * hashes; collisions are rare enough for a profile). */
static size_t
distinct(char ***rows, size_t n_rows, size_t c, uint64_t *set, size_t slots)
{
	size_t i, k, n = 0;

	memset(set, 0, slots * sizeof *set);
	for (i = 0; i < n_rows; i++) {
		uint64_t h;

		if (rows[i][c] == NULL || is_missing(rows[i][c]))
			continue;
		h = hash_str(rows[i][c]);
		for (k = h % slots; set[k] && set[k] != h; k = (k + 1) % slots)
			;
		if (!set[k]) {
			set[k] = h;
			n++;
		}
	}
	return n;
}

static int
named(const char *col, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], col) == 0)
			return 1;
	return 0;
}

static long
column_of(char **head, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name && i < n; i++)
		if (strcmp(head[i], name) == 0)
			return (long)i;
	return -1;
}

/* The label's class counts (largest over smallest) and, for a numeric
 * target, its sign and skew. */
static void
profile_target(const aml_task *t, char ***rows, size_t n_rows, long c, ks_profile *p)
{
	size_t i, k, n = 0;
	double sum = 0, sq = 0, cube = 0, mean, sd, v;
	size_t counts[64] = {0};
	uint64_t keys[64] = {0};

	p->class_ratio = 1;
	if (c < 0)
		return;
	if (ks_is_classification(t)) {
		size_t lo = (size_t)-1, hi = 0, used = 0;

		for (i = 0; i < n_rows; i++) {
			uint64_t h;

			if (rows[i][c] == NULL || is_missing(rows[i][c]))
				continue;
			h = hash_str(rows[i][c]);
			for (k = 0; k < used && keys[k] != h; k++)
				;
			if (k == used && used < 64)
				keys[used++] = h;
			if (k < 64)
				counts[k]++;
		}
		for (k = 0; k < used; k++) {
			lo = counts[k] < lo ? counts[k] : lo;
			hi = counts[k] > hi ? counts[k] : hi;
		}
		if (used > 1 && lo > 0)
			p->class_ratio = (double)hi / (double)lo;
		return;
	}
	p->target_nonneg = 1;
	for (i = 0; i < n_rows; i++) {
		if (rows[i][c] == NULL || is_missing(rows[i][c]) || !is_number(rows[i][c]))
			continue;
		v = strtod(rows[i][c], NULL);
		p->target_nonneg &= v >= 0;
		sum += v;
		n++;
	}
	if (n < 3)
		return;
	mean = sum / (double)n;
	for (i = 0; i < n_rows; i++) {
		if (rows[i][c] == NULL || is_missing(rows[i][c]) || !is_number(rows[i][c]))
			continue;
		v = strtod(rows[i][c], NULL) - mean;
		sq += v * v;
		cube += v * v * v;
	}
	sd = sqrt(sq / (double)n);
	p->target_skew = sd > 0 ? cube / (double)n / (sd * sd * sd) : 0;
}

int
ks_profile_read(const aml_task *t, ks_profile *p)
{
	char *train = NULL, *test = NULL, *cur, **head = NULL, **thead = NULL, ***rows = NULL;
	size_t n_head, n_thead, n_rows = 0, i, c, slots = 2 * KS_PROFILE_ROWS + 1;
	uint64_t *set = NULL;
	long label;
	int rc = AML_ENOTFOUND;

	memset(p, 0, sizeof *p);
	p->class_ratio = 1;
	train = read_head(t->public_dir, t->train_file);
	test = read_head(t->public_dir, t->test_file);
	head = calloc(KS_PROFILE_COLS, sizeof *head);
	thead = calloc(KS_PROFILE_COLS, sizeof *thead);
	rows = calloc(KS_PROFILE_ROWS, sizeof *rows);
	set = malloc(slots * sizeof *set);
	if (train == NULL || test == NULL || head == NULL || thead == NULL || rows == NULL
	    || set == NULL)
		goto out;
	cur = train;
	n_head = next_record(&cur, head, KS_PROFILE_COLS);
	if (n_head == 0 || n_head > KS_PROFILE_COLS)
		goto out;
	{
		char *tc = test;

		n_thead = next_record(&tc, thead, KS_PROFILE_COLS);
		if (n_thead > KS_PROFILE_COLS)
			n_thead = KS_PROFILE_COLS;
	}
	while (n_rows < KS_PROFILE_ROWS) {
		char **f = calloc(n_head, sizeof *f);
		size_t n;

		if (f == NULL)
			goto out;
		n = next_record(&cur, f, n_head);
		if (n == 0) {
			free(f);
			break;
		}
		rows[n_rows++] = f; /* short rows keep NULL fields */
	}
	if (n_rows == 0)
		goto out;
	for (c = 0; c < n_head; c++) {
		size_t present = 0, numeric = 0, missing = 0, dates = 0;

		/* features: in both files, neither the id nor a label */
		if (column_of(thead, n_thead, head[c]) < 0
		    || (t->id_column && strcmp(head[c], t->id_column) == 0)
		    || named(head[c], t->label_columns, t->n_label_columns))
			continue;
		for (i = 0; i < n_rows; i++) {
			const char *v = rows[i][c];

			if (v == NULL || is_missing(v)) {
				missing++;
				continue;
			}
			present++;
			numeric += is_number(v);
			dates += is_date(v);
		}
		if (present == 0 || (double)numeric >= 0.98 * (double)present) {
			p->n_numeric++;
			p->n_missing_numeric += missing > 0;
			continue;
		}
		if (p->n_text < KS_PROFILE_MAX_CAT)
			p->date_frac[p->n_text++] = (double)dates / (double)present;
		if ((double)dates >= 0.9 * (double)present) {
			p->n_dates++;
		} else {
			p->n_categorical++;
			p->n_missing_categorical += missing > 0;
			if (p->n_card < KS_PROFILE_MAX_CAT)
				p->card[p->n_card++] = distinct(rows, n_rows, c, set, slots);
		}
	}
	label = t->n_label_columns ? column_of(head, n_head, t->label_columns[0]) : -1;
	profile_target(t, rows, n_rows, label, p);
	p->rows = n_rows;
	p->known = 1;
	rc = AML_OK;
out:
	for (i = 0; rows && i < n_rows; i++)
		free(rows[i]);
	free(rows);
	free(head);
	free(thead);
	free(set);
	free(train);
	free(test);
	return rc;
}

int
ks_profile_dates_between(const ks_profile *p, double a, double b)
{
	double lo = a < b ? a : b, hi = a < b ? b : a;
	size_t i;

	/* the skeleton keeps a column whose share is >= the threshold */
	for (i = 0; i < p->n_text; i++)
		if (p->date_frac[i] >= lo && p->date_frac[i] < hi)
			return 1;
	return 0;
}

int
ks_profile_card_between(const ks_profile *p, double a, double b)
{
	double lo = a < b ? a : b, hi = a < b ? b : a;
	size_t i;

	for (i = 0; i < p->n_card; i++)
		if ((double)p->card[i] > lo && (double)p->card[i] <= hi)
			return 1;
	return 0;
}
