/*
 * diff.c — see diff.h.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "util.h"

/* Myers keeps (D + 1)^2 ints for D differing lines: 16 MB at this bound. */
#define DIFF_MAX_D 2000

/* ------------------------------------------------------------------ */
/* Line diff                                                           */

size_t
aml_diff_count_lines(const char *text)
{
	size_t n = 1;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

static uint64_t
fnv1a(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	while (n--) {
		h ^= (unsigned char)*s++;
		h *= 1099511628211ULL;
	}
	return h;
}

aml_diff_line *
aml_diff_split(const char *t, size_t *n)
{
	size_t cap = aml_diff_count_lines(t), i = 0;
	aml_diff_line *v = malloc(cap * sizeof *v);
	const char *p = t;

	if (v == NULL)
		return NULL;
	for (;;) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);

		v[i].s = p;
		v[i].len = len;
		v[i].h = fnv1a(p, len);
		i++;
		if (e == NULL)
			break;
		p = e + 1;
	}
	*n = i;
	return v;
}

static int
line_eq(const aml_diff_line *x, const aml_diff_line *y)
{
	return x->h == y->h && x->len == y->len && memcmp(x->s, y->s, x->len) == 0;
}

/* Myers' greedy O((N+M)D) diff of A[0..N) and B[0..M): writes one move per
 * line ('K' keep, 'D' delete, 'A' add) into rev, last move first, and its
 * count into *n_rev.  Returns 0, 1 when D would pass DIFF_MAX_D, or
 * AML_ENOMEM. */
static int
myers(const aml_diff_line *A, long N, const aml_diff_line *B, long M, char *rev, size_t *n_rev)
{
	long dmax = N + M < DIFF_MAX_D ? N + M : DIFF_MAX_D;
	long off = dmax + 1, d, k, x, y, found = -1;
	long *V = calloc((size_t)(2 * dmax + 3), sizeof *V);
	int *trace = NULL;
	size_t cap = 0, pos = 0;

	if (V == NULL)
		return AML_ENOMEM;
	for (d = 0; d <= dmax && found < 0; d++) {
		size_t need = (size_t)(d + 1) * (size_t)(d + 1);

		if (need > cap) {
			size_t ncap = cap ? cap * 2 : 64;
			int *t;

			while (ncap < need)
				ncap *= 2;
			t = realloc(trace, ncap * sizeof *t);
			if (t == NULL) {
				free(trace);
				free(V);
				return AML_ENOMEM;
			}
			trace = t;
			cap = ncap;
		}
		for (k = -d; k <= d; k += 2) {
			if (k == -d || (k != d && V[off + k - 1] < V[off + k + 1]))
				x = V[off + k + 1];
			else
				x = V[off + k - 1] + 1;
			y = x - k;
			while (x < N && y < M && line_eq(&A[x], &B[y])) {
				x++;
				y++;
			}
			V[off + k] = x;
			trace[d * d + k + d] = (int)x;
			if (x >= N && y >= M) {
				found = d;
				break;
			}
		}
	}
	free(V);
	if (found < 0) {
		free(trace);
		return 1;
	}
	x = N;
	y = M;
	for (d = found; d > 0; d--) {
		const int *pv = trace + (d - 1) * (d - 1) + (d - 1); /* pv[k]: V[k] after d-1 */
		long pk, px, mx;

		k = x - y;
		if (k == -d || (k != d && pv[k - 1] < pv[k + 1]))
			pk = k + 1;
		else
			pk = k - 1;
		px = pv[pk];
		mx = pk == k + 1 ? px : px + 1;
		for (; x > mx; x--, y--)
			rev[pos++] = 'K';
		rev[pos++] = pk == k + 1 ? 'A' : 'D';
		x = px;
		y = px - pk;
	}
	for (; x > 0; x--)
		rev[pos++] = 'K';
	free(trace);
	*n_rev = pos;
	return 0;
}

typedef struct diff_out {
	aml_diff_op *v;
	size_t n, cap;
	int oom;
} diff_out;

static void
diff_push(diff_out *o, aml_diff_kind kind, size_t a_at, size_t b_at, size_t n)
{
	if (n == 0 || o->oom)
		return;
	if (o->n && o->v[o->n - 1].kind == kind) {
		o->v[o->n - 1].n += n;
		return;
	}
	if (o->n == o->cap) {
		size_t ncap = o->cap ? o->cap * 2 : 16;
		aml_diff_op *t = realloc(o->v, ncap * sizeof *t);

		if (t == NULL) {
			o->oom = 1;
			return;
		}
		o->v = t;
		o->cap = ncap;
	}
	o->v[o->n].kind = kind;
	o->v[o->n].a_at = a_at;
	o->v[o->n].b_at = b_at;
	o->v[o->n].n = n;
	o->n++;
}

int
aml_line_diff(const char *a, const char *b, aml_diff_op **ops, size_t *n_ops)
{
	size_t na, nb, pre = 0, suf = 0, n_rev = 0, i, ai = 0, bi = 0;
	size_t del_at = 0, del_n = 0, add_at = 0, add_n = 0, chg_a = 0, chg_b = 0;
	aml_diff_line *la = aml_diff_split(a, &na), *lb = la ? aml_diff_split(b, &nb) : NULL;
	diff_out o = {0};
	char *moves = NULL;
	int rc;

	*ops = NULL;
	*n_ops = 0;
	if (la == NULL || lb == NULL) {
		free(la);
		return AML_ENOMEM;
	}
	while (pre < na && pre < nb && line_eq(&la[pre], &lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && line_eq(&la[na - 1 - suf], &lb[nb - 1 - suf]))
		suf++;
	moves = malloc(na + nb + 1);
	if (moves == NULL) {
		free(la);
		free(lb);
		return AML_ENOMEM;
	}
	/* moves, last first: the common tail, the middle, the common head */
	memset(moves, 'K', suf);
	rc = myers(la + pre, (long)(na - pre - suf), lb + pre, (long)(nb - pre - suf),
		   moves + suf, &n_rev);
	if (rc == 1) {
		/* too different for the bound: replace the whole middle */
		memset(moves + suf, 'A', nb - pre - suf);
		memset(moves + suf + (nb - pre - suf), 'D', na - pre - suf);
		n_rev = na + nb - 2 * pre - 2 * suf;
	} else if (rc != 0) {
		free(moves);
		free(la);
		free(lb);
		return AML_ENOMEM;
	}
	memset(moves + suf + n_rev, 'K', pre);
	n_rev += suf + pre;
	/* forward, each change (between kept lines) as deletions then additions */
	for (i = n_rev; i-- > 0;) {
		char m = moves[i];

		if (m == 'K') {
			if (del_n || add_n) {
				diff_push(&o, AML_DIFF_DEL, del_at, chg_b, del_n);
				diff_push(&o, AML_DIFF_ADD, chg_a + del_n, add_at, add_n);
				del_n = add_n = 0;
			}
			diff_push(&o, AML_DIFF_KEEP, ai, bi, 1);
			ai++;
			bi++;
			continue;
		}
		if (del_n == 0 && add_n == 0) {
			chg_a = ai;
			chg_b = bi;
		}
		if (m == 'D') {
			if (del_n++ == 0)
				del_at = ai;
			ai++;
		} else {
			if (add_n++ == 0)
				add_at = bi;
			bi++;
		}
	}
	diff_push(&o, AML_DIFF_DEL, del_at, chg_b, del_n);
	diff_push(&o, AML_DIFF_ADD, chg_a + del_n, add_at, add_n);
	free(moves);
	free(la);
	free(lb);
	if (o.oom) {
		free(o.v);
		return AML_ENOMEM;
	}
	*ops = o.v;
	*n_ops = o.n;
	return AML_OK;
}

