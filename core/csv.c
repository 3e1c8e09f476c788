/*
 * csv.c — see csv.h.  A byte-at-a-time state machine over a 64 KiB
 * buffer, a chunk arena for tables and map keys, and an open-addressing
 * hash map.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "csv.h"
#include "util.h"

#define CSV_BUFSZ 65536
#define CSV_EOF (-1)
#define CSV_IOERR (-2)

/* ------------------------------------------------------------------ */
/* Arena: strings that live as long as their table or map.            */

typedef struct arena_block {
	struct arena_block *next;
	size_t used;
	size_t cap;
	char data[];
} arena_block;

struct aml_csv_arena {
	arena_block *head;
};

static aml_csv_arena *
arena_new(void)
{
	return calloc(1, sizeof(aml_csv_arena));
}

static void
arena_free(aml_csv_arena *a)
{
	arena_block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

/* A copy of n bytes in the arena, NULL on oom. */
static char *
arena_copy(aml_csv_arena *a, const char *s, size_t n)
{
	arena_block *b = a->head;
	char *p;

	if (b == NULL || b->cap - b->used < n) {
		size_t cap = n > 65536 ? n : 65536;

		b = malloc(sizeof *b + cap);
		if (b == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = a->head;
		a->head = b;
	}
	p = b->data + b->used;
	if (n)
		memcpy(p, s, n);
	b->used += n;
	return p;
}

/* ------------------------------------------------------------------ */
/* Streaming reader.                                                   */

struct aml_csv {
	FILE *f;
	const char *mem;
	size_t memlen;
	size_t mempos;
	unsigned char buf[CSV_BUFSZ];
	size_t pos;
	size_t len;
	int ioerr;
	char *name;
	size_t line;      /* physical line the next byte is on */
	size_t row_line;  /* line on which the last record began */
	size_t rows;
	/* the current record: fields separated by NULs */
	char *rb;
	size_t rlen;
	size_t rcap;
	size_t *offs;
	size_t nf;
	size_t capf;
	const char **fields;
	char **header;
	size_t ncols;
	int status;       /* sticky error */
	char errmsg[AML_ERRLEN];
};

static size_t
csv_refill(aml_csv *r)
{
	size_t n;

	r->pos = 0;
	if (r->f != NULL) {
		n = fread(r->buf, 1, sizeof r->buf, r->f);
		if (n == 0 && ferror(r->f))
			r->ioerr = errno ? errno : EIO;
	} else {
		n = r->memlen - r->mempos;
		if (n > sizeof r->buf)
			n = sizeof r->buf;
		if (n)
			memcpy(r->buf, r->mem + r->mempos, n);
		r->mempos += n;
	}
	r->len = n;
	return n;
}

static inline int
csv_get(aml_csv *r)
{
	if (r->pos == r->len && csv_refill(r) == 0)
		return r->ioerr ? CSV_IOERR : CSV_EOF;
	return r->buf[r->pos++];
}

static inline int
csv_peek(aml_csv *r)
{
	if (r->pos == r->len && csv_refill(r) == 0)
		return r->ioerr ? CSV_IOERR : CSV_EOF;
	return r->buf[r->pos];
}

static int
rec_grow(aml_csv *r)
{
	size_t cap = r->rcap ? r->rcap * 2 : 1024;
	char *p = realloc(r->rb, cap);

	if (p == NULL)
		return -1;
	r->rb = p;
	r->rcap = cap;
	return 0;
}

static inline int
rec_put(aml_csv *r, int c)
{
	if (r->rlen == r->rcap && rec_grow(r) != 0)
		return -1;
	r->rb[r->rlen++] = (char)c;
	return 0;
}

static int
rec_field(aml_csv *r)
{
	if (r->nf == r->capf) {
		size_t cap = r->capf ? r->capf * 2 : 16;
		size_t *o = realloc(r->offs, cap * sizeof *o);

		if (o == NULL)
			return -1;
		r->offs = o;
		r->capf = cap;
	}
	r->offs[r->nf++] = r->rlen;
	return 0;
}

/* Record a sticky error and return its status. */
static int
csv_fail(aml_csv *r, int status, const char *fmt, ...) AML_PRINTF(3, 4);

static int
csv_fail(aml_csv *r, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
	va_end(ap);
	r->status = status;
	return status;
}

static int
csv_ioerr(aml_csv *r)
{
	return csv_fail(r, AML_EIO, "%s: read error: %s", r->name,
			strerror(r->ioerr ? r->ioerr : EIO));
}

static int
csv_nul(aml_csv *r)
{
	return csv_fail(r, AML_EFORMAT,
			"%s:%zu: NUL byte in the data (not a text CSV file?)",
			r->name, r->line);
}

/* Read one record into rb/offs.  1: a record, 0: end of input, <0: error. */
static int
csv_record(aml_csv *r)
{
	int c;

	for (;;) { /* skip blank lines */
		c = csv_get(r);
		if (c == CSV_IOERR)
			return csv_ioerr(r);
		if (c == CSV_EOF)
			return 0;
		if (c == '\r') {
			if (csv_peek(r) == '\n')
				csv_get(r);
			r->line++;
			continue;
		}
		if (c != '\n')
			break;
		r->line++;
	}
	r->row_line = r->line;
	r->rlen = 0;
	r->nf = 0;
	for (;;) { /* one field per turn; c is its first byte */
		if (rec_field(r) != 0)
			goto oom;
		if (c == '"') {
			size_t qline = r->line;

			for (;;) {
				c = csv_get(r);
				if (c == CSV_IOERR)
					return csv_ioerr(r);
				if (c == CSV_EOF)
					return csv_fail(r, AML_EFORMAT,
							"%s:%zu: quoted field never closes (end of file reached)",
							r->name, qline);
				if (c == '"') {
					c = csv_get(r);
					if (c != '"')
						break;
				} else if (c == '\0') {
					return csv_nul(r);
				} else if (c == '\n') {
					r->line++;
				} else if (c == '\r' && csv_peek(r) != '\n') {
					r->line++;
				}
				if (rec_put(r, c) != 0)
					goto oom;
				if (r->rlen > AML_CSV_MAX_RECORD)
					goto toolong;
			}
			if (c == CSV_IOERR)
				return csv_ioerr(r);
			if (c != ',' && c != '\n' && c != '\r' && c != CSV_EOF)
				return csv_fail(r, AML_EFORMAT,
						"%s:%zu: unexpected character after a closing quote"
						" (a quote inside a quoted field must be doubled)",
						r->name, r->line);
		} else {
			while (c != ',' && c != '\n' && c != '\r' && c >= 0) {
				if (c == '\0')
					return csv_nul(r);
				if (rec_put(r, c) != 0)
					goto oom;
				c = csv_get(r);
			}
			if (c == CSV_IOERR)
				return csv_ioerr(r);
			if (r->rlen > AML_CSV_MAX_RECORD)
				goto toolong;
		}
		if (rec_put(r, '\0') != 0)
			goto oom;
		if (c != ',')
			break;
		c = csv_get(r);
	}
	if (c == '\r' && csv_peek(r) == '\n')
		csv_get(r);
	if (c == '\r' || c == '\n')
		r->line++;
	return 1;
oom:
	return csv_fail(r, AML_ENOMEM, "%s: out of memory", r->name);
toolong:
	return csv_fail(r, AML_EFORMAT,
			"%s:%zu: record longer than %u bytes (not a CSV file?)",
			r->name, r->row_line, AML_CSV_MAX_RECORD);
}

/* Point r->fields at the fields of the current record. */
static int
csv_point_fields(aml_csv *r)
{
	const char **f;
	size_t i;

	if (r->fields == NULL) { /* nf == ncols: checked by the caller */
		f = calloc(r->ncols, sizeof *f);
		if (f == NULL)
			return -1;
		r->fields = f;
	}
	for (i = 0; i < r->nf; i++)
		r->fields[i] = r->rb + r->offs[i];
	return 0;
}

static int
csv_start(aml_csv *r, aml_csv **out, char *err, size_t errlen)
{
	size_t i;
	int rc;

	r->line = 1;
	if (csv_peek(r) == 0xEF && r->len - r->pos >= 3
	    && r->buf[r->pos + 1] == 0xBB && r->buf[r->pos + 2] == 0xBF)
		r->pos += 3;
	rc = csv_record(r);
	if (rc == 0)
		rc = csv_fail(r, AML_EFORMAT, "%s: empty file (no header line)", r->name);
	if (rc < 0) {
		aml_seterr(err, errlen, "%s", r->errmsg);
		aml_csv_close(r);
		return rc;
	}
	r->ncols = r->nf;
	r->header = calloc(r->ncols, sizeof *r->header);
	if (r->header == NULL)
		goto oom;
	for (i = 0; i < r->ncols; i++) {
		r->header[i] = strdup(r->rb + r->offs[i]);
		if (r->header[i] == NULL)
			goto oom;
	}
	*out = r;
	return AML_OK;
oom:
	aml_seterr(err, errlen, "%s: out of memory", r->name);
	aml_csv_close(r);
	return AML_ENOMEM;
}

int
aml_csv_open(const char *path, aml_csv **out, char *err, size_t errlen)
{
	struct stat st;
	aml_csv *r;

	*out = NULL;
	if (stat(path, &st) != 0) {
		aml_seterr(err, errlen, "%s: %s", path, strerror(errno));
		return errno == ENOENT ? AML_ENOTFOUND : AML_EIO;
	}
	if (!S_ISREG(st.st_mode)) {
		aml_seterr(err, errlen, "%s: not a regular file", path);
		return AML_EIO;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL || (r->name = strdup(path)) == NULL) {
		free(r);
		aml_seterr(err, errlen, "%s: out of memory", path);
		return AML_ENOMEM;
	}
	r->f = fopen(path, "rb");
	if (r->f == NULL) {
		aml_seterr(err, errlen, "%s: %s", path, strerror(errno));
		aml_csv_close(r);
		return AML_EIO;
	}
	return csv_start(r, out, err, errlen);
}

int
aml_csv_open_mem(const char *name, const char *data, size_t len,
		 aml_csv **out, char *err, size_t errlen)
{
	aml_csv *r;

	*out = NULL;
	r = calloc(1, sizeof *r);
	if (r == NULL || (r->name = strdup(name)) == NULL) {
		free(r);
		aml_seterr(err, errlen, "%s: out of memory", name);
		return AML_ENOMEM;
	}
	r->mem = data;
	r->memlen = data ? len : 0;
	return csv_start(r, out, err, errlen);
}

size_t
aml_csv_ncols(const aml_csv *r)
{
	return r->ncols;
}

const char *const *
aml_csv_header(const aml_csv *r)
{
	return (const char *const *)r->header;
}

int
aml_csv_next(aml_csv *r, const char *const **fields, char *err, size_t errlen)
{
	int rc;

	*fields = NULL;
	if (r->status != AML_OK) {
		aml_seterr(err, errlen, "%s", r->errmsg);
		return r->status;
	}
	rc = csv_record(r);
	if (rc == 1 && r->nf != r->ncols)
		rc = csv_fail(r, AML_EFORMAT,
			      "%s:%zu: %zu field%s, but the header has %zu"
			      " (quote fields that hold commas)", r->name,
			      r->row_line, r->nf, r->nf == 1 ? "" : "s", r->ncols);
	if (rc == 1 && csv_point_fields(r) != 0)
		rc = csv_fail(r, AML_ENOMEM, "%s: out of memory", r->name);
	if (rc < 0) {
		aml_seterr(err, errlen, "%s", r->errmsg);
		return rc;
	}
	if (rc == 1) {
		r->rows++;
		*fields = r->fields;
	}
	return rc;
}

size_t
aml_csv_line(const aml_csv *r)
{
	return r->row_line;
}

size_t
aml_csv_rows(const aml_csv *r)
{
	return r->rows;
}

void
aml_csv_close(aml_csv *r)
{
	size_t i;

	if (r == NULL)
		return;
	if (r->f != NULL)
		fclose(r->f);
	if (r->header != NULL)
		for (i = 0; i < r->ncols; i++)
			free(r->header[i]);
	free(r->header);
	free(r->fields);
	free(r->offs);
	free(r->rb);
	free(r->name);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Whole tables.                                                       */

void
aml_csv_table_free(aml_csv_table *t)
{
	size_t c;

	if (t == NULL)
		return;
	if (t->cols != NULL)
		for (c = 0; c < t->ncols; c++)
			free(t->cols[c]);
	free(t->cols);
	free(t->lines);
	free(t->header);
	free(t->name);
	arena_free(t->arena);
	free(t);
}

static int
table_grow(aml_csv_table *t, size_t *cap)
{
	size_t ncap = *cap ? *cap * 2 : 64, c;
	size_t *lines;

	for (c = 0; c < t->ncols; c++) {
		char **col = realloc(t->cols[c], ncap * sizeof *col);

		if (col == NULL)
			return -1;
		t->cols[c] = col;
	}
	lines = realloc(t->lines, ncap * sizeof *lines);
	if (lines == NULL)
		return -1;
	t->lines = lines;
	*cap = ncap;
	return 0;
}

static int
table_read(aml_csv *r, aml_csv_table **out, char *err, size_t errlen)
{
	aml_csv_table *t;
	const char *const *f;
	size_t cap = 0, c;
	int rc;

	t = calloc(1, sizeof *t);
	if (t == NULL)
		goto oom;
	t->ncols = r->ncols;
	t->name = strdup(r->name);
	t->arena = arena_new();
	t->header = calloc(t->ncols, sizeof *t->header);
	t->cols = calloc(t->ncols, sizeof *t->cols);
	if (t->name == NULL || t->arena == NULL || t->header == NULL || t->cols == NULL)
		goto oom;
	for (c = 0; c < t->ncols; c++) {
		t->header[c] = arena_copy(t->arena, r->header[c], strlen(r->header[c]) + 1);
		if (t->header[c] == NULL)
			goto oom;
	}
	while ((rc = aml_csv_next(r, &f, err, errlen)) == 1) {
		char *copy;

		if (t->nrows == cap && table_grow(t, &cap) != 0)
			goto oom;
		copy = arena_copy(t->arena, r->rb, r->rlen);
		if (copy == NULL)
			goto oom;
		for (c = 0; c < t->ncols; c++)
			t->cols[c][t->nrows] = copy + r->offs[c];
		t->lines[t->nrows++] = r->row_line;
	}
	if (rc < 0) {
		aml_csv_table_free(t);
		return rc;
	}
	*out = t;
	return AML_OK;
oom:
	aml_csv_table_free(t);
	aml_seterr(err, errlen, "%s: out of memory", r->name);
	return AML_ENOMEM;
}

int
aml_csv_load(const char *path, size_t max_bytes, aml_csv_table **out,
	     char *err, size_t errlen)
{
	struct stat st;
	aml_csv *r;
	int rc;

	*out = NULL;
	if (max_bytes && stat(path, &st) == 0 && (uintmax_t)st.st_size > max_bytes) {
		aml_seterr(err, errlen, "%s: larger than %zu bytes", path, max_bytes);
		return AML_EFORMAT;
	}
	rc = aml_csv_open(path, &r, err, errlen);
	if (rc != AML_OK)
		return rc;
	rc = table_read(r, out, err, errlen);
	aml_csv_close(r);
	return rc;
}

int
aml_csv_load_mem(const char *name, const char *data, size_t len,
		 aml_csv_table **out, char *err, size_t errlen)
{
	aml_csv *r;
	int rc;

	*out = NULL;
	rc = aml_csv_open_mem(name, data, len, &r, err, errlen);
	if (rc != AML_OK)
		return rc;
	rc = table_read(r, out, err, errlen);
	aml_csv_close(r);
	return rc;
}

long
aml_csv_column(const aml_csv_table *t, const char *name)
{
	size_t c;

	for (c = 0; c < t->ncols; c++)
		if (strcmp(t->header[c], name) == 0)
			return (long)c;
	return -1;
}

int
aml_csv_has_duplicate_column(const aml_csv_table *t, const char **dup)
{
	size_t a, b;

	for (b = 1; b < t->ncols; b++)
		for (a = 0; a < b; a++)
			if (strcmp(t->header[a], t->header[b]) == 0) {
				if (dup)
					*dup = t->header[b];
				return 1;
			}
	return 0;
}

int
aml_csv_column_is_numeric(const aml_csv_table *t, size_t c)
{
	double v;
	size_t r;

	if (c >= t->ncols || t->nrows == 0)
		return 0;
	for (r = 0; r < t->nrows; r++)
		if (aml_csv_number(t->cols[c][r], &v) != 0)
			return 0;
	return 1;
}

/* ------------------------------------------------------------------ */
/* Cell values.                                                        */

int
aml_csv_number(const char *s, double *out)
{
	const char *p = s, *q;
	size_t digits = 0;
	double v;

	if (s == NULL)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	q = p;
	if (*q == '+' || *q == '-')
		q++;
	while (isdigit((unsigned char)*q)) {
		q++;
		digits++;
	}
	if (*q == '.') {
		q++;
		while (isdigit((unsigned char)*q)) {
			q++;
			digits++;
		}
	}
	if (digits == 0)
		return -1;
	if (*q == 'e' || *q == 'E') {
		q++;
		if (*q == '+' || *q == '-')
			q++;
		if (!isdigit((unsigned char)*q))
			return -1;
		while (isdigit((unsigned char)*q))
			q++;
	}
	while (*q == ' ' || *q == '\t')
		q++;
	if (*q != '\0')
		return -1;
	v = strtod(p, NULL);
	if (!isfinite(v))
		return -1;
	if (out)
		*out = v;
	return 0;
}

int
aml_csv_is_missing(const char *s)
{
	static const char *const spell[] = {"na", "n/a", "nan", "null", "none", "#n/a"};
	size_t b = 0, e, i;

	while (s[b] == ' ' || s[b] == '\t')
		b++;
	e = strlen(s);
	while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t'))
		e--;
	if (e == b)
		return 1;
	for (i = 0; i < AML_ARRAY_LEN(spell); i++)
		if (strlen(spell[i]) == e - b && strncasecmp(s + b, spell[i], e - b) == 0)
			return 1;
	return 0;
}

int
aml_csv_is_integer(const char *s)
{
	double v;

	return aml_csv_number(s, &v) == 0 && v == floor(v) && fabs(v) < 9007199254740992.0;
}

/* ------------------------------------------------------------------ */
/* Hash map.                                                           */

struct aml_csv_map {
	aml_csv_arena *arena;
	char **keys;      /* insertion order */
	size_t *vals;
	uint64_t *hashes;
	size_t n;
	size_t cap;       /* of keys/vals/hashes */
	size_t *slots;    /* entry index + 1, 0 empty */
	size_t nslots;    /* power of two */
};

static uint64_t
map_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ull;
	}
	return h;
}

aml_csv_map *
aml_csv_map_new(void)
{
	aml_csv_map *m = calloc(1, sizeof *m);

	if (m == NULL)
		return NULL;
	m->arena = arena_new();
	m->nslots = 64;
	m->slots = calloc(m->nslots, sizeof *m->slots);
	if (m->arena == NULL || m->slots == NULL) {
		aml_csv_map_free(m);
		return NULL;
	}
	return m;
}

void
aml_csv_map_free(aml_csv_map *m)
{
	if (m == NULL)
		return;
	arena_free(m->arena);
	free(m->keys);
	free(m->vals);
	free(m->hashes);
	free(m->slots);
	free(m);
}

/* The slot holding key, or the empty slot where it would go. */
static size_t
map_find(const aml_csv_map *m, const char *key, uint64_t h)
{
	size_t mask = m->nslots - 1, i = (size_t)h & mask;

	while (m->slots[i] != 0) {
		size_t e = m->slots[i] - 1;

		if (m->hashes[e] == h && strcmp(m->keys[e], key) == 0)
			break;
		i = (i + 1) & mask;
	}
	return i;
}

static int
map_rehash(aml_csv_map *m)
{
	size_t nslots = m->nslots * 2, e, mask = nslots - 1;
	size_t *slots = calloc(nslots, sizeof *slots);

	if (slots == NULL)
		return -1;
	for (e = 0; e < m->n; e++) {
		size_t i = (size_t)m->hashes[e] & mask;

		while (slots[i] != 0)
			i = (i + 1) & mask;
		slots[i] = e + 1;
	}
	free(m->slots);
	m->slots = slots;
	m->nslots = nslots;
	return 0;
}

int
aml_csv_map_add(aml_csv_map *m, const char *key, size_t value, size_t *old)
{
	uint64_t h = map_hash(key);
	size_t i = map_find(m, key, h);
	char *copy;

	if (m->slots[i] != 0) {
		if (old)
			*old = m->vals[m->slots[i] - 1];
		return 0;
	}
	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 32;
		char **k = realloc(m->keys, cap * sizeof *k);
		size_t *v;
		uint64_t *hs;

		if (k == NULL)
			return AML_ENOMEM;
		m->keys = k;
		v = realloc(m->vals, cap * sizeof *v);
		if (v == NULL)
			return AML_ENOMEM;
		m->vals = v;
		hs = realloc(m->hashes, cap * sizeof *hs);
		if (hs == NULL)
			return AML_ENOMEM;
		m->hashes = hs;
		m->cap = cap;
	}
	copy = arena_copy(m->arena, key, strlen(key) + 1);
	if (copy == NULL)
		return AML_ENOMEM;
	m->keys[m->n] = copy;
	m->vals[m->n] = value;
	m->hashes[m->n] = h;
	m->slots[i] = ++m->n;
	if (m->n * 2 > m->nslots && map_rehash(m) != 0) {
		/* The entry is in; the table is just fuller than we like.
		 * Linear probing still works until every slot is taken. */
		if (m->n == m->nslots) {
			m->slots[i] = 0;
			m->n--;
			return AML_ENOMEM;
		}
	}
	return 1;
}

int
aml_csv_map_get(const aml_csv_map *m, const char *key, size_t *value)
{
	size_t i = map_find(m, key, map_hash(key));

	if (m->slots[i] == 0)
		return 0;
	if (value)
		*value = m->vals[m->slots[i] - 1];
	return 1;
}

void
aml_csv_map_set(aml_csv_map *m, const char *key, size_t value)
{
	size_t i = map_find(m, key, map_hash(key));

	if (m->slots[i] != 0)
		m->vals[m->slots[i] - 1] = value;
}

size_t
aml_csv_map_count(const aml_csv_map *m)
{
	return m->n;
}

const char *
aml_csv_map_key(const aml_csv_map *m, size_t i)
{
	return i < m->n ? m->keys[i] : NULL;
}

size_t
aml_csv_map_value(const aml_csv_map *m, size_t i)
{
	return i < m->n ? m->vals[i] : 0;
}
