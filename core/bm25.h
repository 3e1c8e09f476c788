/*
 * bm25.h — a small Okapi BM25 index over short documents: the knowledge
 * base's ranking (kb.c builds one per kb after loading; queries only read
 * it, so they may run concurrently).
 *
 * Tokens are the runs of ASCII letters and digits, lower-cased; words of
 * one character and a few English stop words ("the", "and", "of", ...) are
 * dropped.  A document is made of fields, each with an integer weight: a
 * token of a field of weight w counts w times, in the term frequency and
 * in the document length alike (kb.c weighs id, title and tags 3, the
 * guidance 1).
 *
 *   score(D, Q) = sum over the distinct terms t of Q known to the index of
 *                 idf(t) * tf(t,D) * (k1 + 1)
 *                 / (tf(t,D) + k1 * (1 - b + b * |D| / avgdl))
 *   idf(t)      = ln(1 + (N - df(t) + 0.5) / (df(t) + 0.5))
 *
 * with k1 = 1.2, b = 0.75, N documents, df(t) the number of documents
 * holding t, |D| the weighted length of D and avgdl the mean length.  The
 * idf is Lucene's, never negative, so a term found in every document adds
 * a little instead of taking away.
 */
#ifndef AML_BM25_H
#define AML_BM25_H

#include <stddef.h>

#define AML_BM25_K1 1.2
#define AML_BM25_B 0.75

typedef struct aml_bm25 aml_bm25;
typedef struct aml_bm25_query aml_bm25_query;

/* Index n_docs documents of n_fields fields each: texts[d * n_fields + f]
 * is field f of document d (NULL reads as ""), weights[f] its weight.
 * Nothing is borrowed.  *out is transferred (aml_bm25_free). */
int aml_bm25_build(const char *const *texts, const unsigned *weights,
		   size_t n_fields, size_t n_docs, aml_bm25 **out);
void aml_bm25_free(aml_bm25 *ix);

/* The distinct terms of text that the index knows, with their idf.
 * *out is transferred (aml_bm25_query_free); text may be NULL. */
int aml_bm25_query_new(const aml_bm25 *ix, const char *text, aml_bm25_query **out);
void aml_bm25_query_free(aml_bm25_query *q);
/* How many of the query's terms the index knows (0: every score is 0). */
size_t aml_bm25_query_size(const aml_bm25_query *q);

/* The BM25 score of document doc for q (0 for doc out of range). */
double aml_bm25_score(const aml_bm25 *ix, const aml_bm25_query *q, size_t doc);

/* The idf of a single term (lower-case), 0 when the index lacks it; and
 * the weighted length of a document and the mean length (for tests and
 * explanations). */
double aml_bm25_idf(const aml_bm25 *ix, const char *term);
double aml_bm25_doc_len(const aml_bm25 *ix, size_t doc);
double aml_bm25_avg_len(const aml_bm25 *ix);

/* Tokenize: the next token of *p (see above) lower-cased into buf (cap
 * bytes, longer tokens are cut), *p moved past it.  Returns 0 at the end
 * of the text. */
int aml_bm25_next_token(const char **p, char *buf, size_t cap);

#endif
