/*
 * bm25.c — see bm25.h.  The index is built in one pass (every token of
 * every document, sorted), and is read-only afterwards: a sorted
 * vocabulary with each term's idf, and per document its postings (term
 * id, weighted frequency) sorted by term id.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bm25.h"
#include "util.h"

#define BM25_TOKEN_MAX 64

struct aml_bm25 {
	char **terms;          /* sorted, distinct */
	double *idf;           /* per term */
	size_t n_terms;
	size_t n_docs;
	size_t *start;         /* n_docs + 1 offsets into the postings */
	uint32_t *term;        /* postings: term id ... */
	double *tf;            /* ... and its weighted frequency */
	double *len;           /* weighted document lengths */
	double avgdl;
};

struct aml_bm25_query {
	uint32_t *ids;         /* distinct known terms */
	size_t n;
};

static const char *const stop_words[] = {
	"an", "and", "are", "as", "at", "be", "by", "for", "from", "in", "is",
	"it", "its", "of", "on", "or", "that", "the", "this", "to", "with",
};

static int
is_stop(const char *w)
{
	size_t i;

	for (i = 0; i < AML_ARRAY_LEN(stop_words); i++)
		if (strcmp(stop_words[i], w) == 0)
			return 1;
	return 0;
}

int
aml_bm25_next_token(const char **p, char *buf, size_t cap)
{
	const char *s = *p;
	size_t len;

	if (s == NULL || cap < 2)
		return 0;
	for (;;) {
		while (*s && !isalnum((unsigned char)*s))
			s++;
		if (*s == '\0') {
			*p = s;
			return 0;
		}
		for (len = 0; isalnum((unsigned char)*s); s++)
			if (len < cap - 1)
				buf[len++] = (char)tolower((unsigned char)*s);
		buf[len] = '\0';
		if (len >= 2 && !is_stop(buf)) {
			*p = s;
			return 1;
		}
	}
}

typedef struct occ {
	char *term;            /* owned */
	size_t doc;
	unsigned weight;
} occ;

static int
cmp_occ(const void *a, const void *b)
{
	const occ *x = a, *y = b;
	int c = strcmp(x->term, y->term);

	if (c)
		return c;
	return x->doc < y->doc ? -1 : x->doc > y->doc;
}

void
aml_bm25_free(aml_bm25 *ix)
{
	size_t i;

	if (ix == NULL)
		return;
	for (i = 0; i < ix->n_terms; i++)
		free(ix->terms[i]);
	free(ix->terms);
	free(ix->idf);
	free(ix->start);
	free(ix->term);
	free(ix->tf);
	free(ix->len);
	free(ix);
}

/* Every token occurrence of every document (transferred). */
static int
collect(const char *const *texts, const unsigned *weights, size_t n_fields,
	size_t n_docs, occ **out, size_t *n_out, double *len)
{
	char tok[BM25_TOKEN_MAX];
	occ *v = NULL, *nv;
	size_t n = 0, cap = 0, d, f;

	for (d = 0; d < n_docs; d++) {
		len[d] = 0;
		for (f = 0; f < n_fields; f++) {
			const char *p = texts[d * n_fields + f];

			if (weights[f] == 0)
				continue;
			while (aml_bm25_next_token(&p, tok, sizeof tok)) {
				if (n == cap) {
					cap = cap ? cap * 2 : 256;
					nv = realloc(v, cap * sizeof *v);
					if (nv == NULL)
						goto oom;
					v = nv;
				}
				v[n].term = strdup(tok);
				if (v[n].term == NULL)
					goto oom;
				v[n].doc = d;
				v[n].weight = weights[f];
				n++;
				len[d] += weights[f];
			}
		}
	}
	*out = v;
	*n_out = n;
	return AML_OK;
oom:
	while (n)
		free(v[--n].term);
	free(v);
	return AML_ENOMEM;
}

int
aml_bm25_build(const char *const *texts, const unsigned *weights,
	       size_t n_fields, size_t n_docs, aml_bm25 **out)
{
	aml_bm25 *ix;
	occ *v = NULL;
	size_t n = 0, i, j, k, n_post = 0, *fill = NULL;
	size_t *df = NULL;
	double total = 0;
	int rc = AML_ENOMEM;

	*out = NULL;
	ix = calloc(1, sizeof *ix);
	if (ix == NULL)
		return AML_ENOMEM;
	ix->n_docs = n_docs;
	ix->len = calloc(n_docs + 1, sizeof *ix->len);
	ix->start = calloc(n_docs + 1, sizeof *ix->start);
	if (ix->len == NULL || ix->start == NULL)
		goto out;
	if (collect(texts, weights, n_fields, n_docs, &v, &n, ix->len) != AML_OK)
		goto out;
	if (n > 1)
		qsort(v, n, sizeof *v, cmp_occ);
	/* distinct terms and distinct (term, doc) pairs */
	for (i = 0; i < n; i++) {
		if (i == 0 || strcmp(v[i].term, v[i - 1].term) != 0)
			ix->n_terms++;
		if (i == 0 || strcmp(v[i].term, v[i - 1].term) != 0 || v[i].doc != v[i - 1].doc)
			n_post++;
	}
	ix->terms = calloc(ix->n_terms + 1, sizeof *ix->terms);
	ix->idf = calloc(ix->n_terms + 1, sizeof *ix->idf);
	df = calloc(ix->n_terms + 1, sizeof *df);
	ix->term = calloc(n_post + 1, sizeof *ix->term);
	ix->tf = calloc(n_post + 1, sizeof *ix->tf);
	fill = calloc(n_docs + 1, sizeof *fill);
	if (!ix->terms || !ix->idf || !df || !ix->term || !ix->tf || !fill)
		goto out;
	/* postings per document: count, then offsets */
	for (i = 0; i < n; i++)
		if (i == 0 || strcmp(v[i].term, v[i - 1].term) != 0 || v[i].doc != v[i - 1].doc)
			ix->start[v[i].doc + 1]++;
	for (j = 0; j < n_docs; j++)
		ix->start[j + 1] += ix->start[j];
	/* terms in sorted order, so each document's postings come out sorted */
	for (i = 0, k = 0; i < n; i = j) {
		size_t d = v[i].doc, at;
		double tf = 0;

		if (i > 0 && strcmp(v[i].term, v[i - 1].term) != 0)
			k++;
		if (ix->terms[k] == NULL && (ix->terms[k] = strdup(v[i].term)) == NULL)
			goto out;
		for (j = i; j < n && v[j].doc == d && strcmp(v[j].term, v[i].term) == 0; j++)
			tf += v[j].weight;
		at = ix->start[d] + fill[d]++;
		ix->term[at] = (uint32_t)k;
		ix->tf[at] = tf;
		df[k]++;
	}
	for (k = 0; k < ix->n_terms; k++)
		ix->idf[k] = log(1.0 + ((double)n_docs - (double)df[k] + 0.5)
				 / ((double)df[k] + 0.5));
	for (j = 0; j < n_docs; j++)
		total += ix->len[j];
	ix->avgdl = n_docs ? total / (double)n_docs : 0;
	rc = AML_OK;
out:
	for (i = 0; i < n; i++)
		free(v[i].term);
	free(v);
	free(df);
	free(fill);
	if (rc != AML_OK)
		aml_bm25_free(ix);
	else
		*out = ix;
	return rc;
}

static long
find_term(const aml_bm25 *ix, const char *t)
{
	size_t lo = 0, hi = ix->n_terms;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ix->terms[mid], t);

		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

int
aml_bm25_query_new(const aml_bm25 *ix, const char *text, aml_bm25_query **out)
{
	aml_bm25_query *q;
	char tok[BM25_TOKEN_MAX];
	const char *p = text;
	size_t cap = 0, i;
	long id;

	*out = NULL;
	q = calloc(1, sizeof *q);
	if (q == NULL)
		return AML_ENOMEM;
	while (text && aml_bm25_next_token(&p, tok, sizeof tok)) {
		id = ix ? find_term(ix, tok) : -1;
		if (id < 0)
			continue;
		for (i = 0; i < q->n && q->ids[i] != (uint32_t)id; i++)
			;
		if (i < q->n)
			continue; /* a term asked twice counts once */
		if (q->n == cap) {
			uint32_t *nv = realloc(q->ids, (cap = cap ? cap * 2 : 8) * sizeof *nv);

			if (nv == NULL) {
				aml_bm25_query_free(q);
				return AML_ENOMEM;
			}
			q->ids = nv;
		}
		q->ids[q->n++] = (uint32_t)id;
	}
	*out = q;
	return AML_OK;
}

void
aml_bm25_query_free(aml_bm25_query *q)
{
	if (q == NULL)
		return;
	free(q->ids);
	free(q);
}

size_t
aml_bm25_query_size(const aml_bm25_query *q)
{
	return q ? q->n : 0;
}

/* The weighted frequency of term id in doc (postings sorted by id). */
static double
doc_tf(const aml_bm25 *ix, size_t doc, uint32_t id)
{
	size_t lo = ix->start[doc], hi = ix->start[doc + 1];

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ix->term[mid] == id)
			return ix->tf[mid];
		if (ix->term[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

double
aml_bm25_score(const aml_bm25 *ix, const aml_bm25_query *q, size_t doc)
{
	double score = 0, norm, tf;
	size_t i;

	if (ix == NULL || q == NULL || doc >= ix->n_docs || ix->avgdl <= 0)
		return 0;
	norm = AML_BM25_K1 * (1 - AML_BM25_B + AML_BM25_B * ix->len[doc] / ix->avgdl);
	for (i = 0; i < q->n; i++) {
		tf = doc_tf(ix, doc, q->ids[i]);
		if (tf > 0)
			score += ix->idf[q->ids[i]] * tf * (AML_BM25_K1 + 1) / (tf + norm);
	}
	return score;
}

double
aml_bm25_idf(const aml_bm25 *ix, const char *term)
{
	long id = ix && term ? find_term(ix, term) : -1;

	return id < 0 ? 0 : ix->idf[id];
}

double
aml_bm25_doc_len(const aml_bm25 *ix, size_t doc)
{
	return ix && doc < ix->n_docs ? ix->len[doc] : 0;
}

double
aml_bm25_avg_len(const aml_bm25 *ix)
{
	return ix ? ix->avgdl : 0;
}
