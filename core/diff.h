/*
 * diff.h — a line diff (Myers' algorithm), for the report's code diffs
 * and the edit scripts it ships each node's code as (report.h).
 */
#ifndef AML_DIFF_H
#define AML_DIFF_H

#include <stddef.h>
#include <stdint.h>

/* One run of lines of a line diff from text a to text b. */
typedef enum aml_diff_kind {
	AML_DIFF_KEEP = 0, /* lines a[a_at..] equal b[b_at..] */
	AML_DIFF_DEL = 1,  /* lines a[a_at..] are removed */
	AML_DIFF_ADD = 2   /* lines b[b_at..] are inserted */
} aml_diff_kind;

typedef struct aml_diff_op {
	aml_diff_kind kind;
	size_t a_at;  /* first line in a (KEEP, DEL; for ADD: where it goes) */
	size_t b_at;  /* first line in b (KEEP, ADD; for DEL: where it was) */
	size_t n;     /* number of lines, > 0 */
} aml_diff_op;

/* Split a text into lines at '\n' as the diff does: n newlines give n + 1
 * lines (so "x\n" is "x" and "", and "" is one empty line); joining them
 * with '\n' gives the text back.  Returns the number of lines. */
size_t aml_diff_count_lines(const char *text);

/* One line of a text: where it starts, its length without the '\n', and
 * a hash of its bytes (equal lines, equal hashes). */
typedef struct aml_diff_line {
	const char *s;
	size_t len;
	uint64_t h;
} aml_diff_line;

/* The lines of t as aml_diff_count_lines() counts them, pointing into t
 * (the array is transferred: free(); NULL when out of memory); *n their
 * number. */
aml_diff_line *aml_diff_split(const char *t, size_t *n);

/* A shortest line diff from a to b (Myers' algorithm after trimming the
 * common head and tail), its runs in order, within a change deletions
 * before insertions, adjacent runs of a kind merged.  When the texts
 * differ in more than a few thousand lines, the middle is given as one
 * deletion and one insertion (still a correct diff, not the shortest).
 * *ops is transferred (free()), *n_ops its length; 0 or AML_ENOMEM. */
int aml_line_diff(const char *a, const char *b, aml_diff_op **ops, size_t *n_ops);

#endif
