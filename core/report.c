/*
 * report.c — the HTML report of a run directory (report.h).  Reads
 * summary.json (required) and each node's files (optional), lays the
 * search tree out (a tidy tree: leaves left to right in depth-first order,
 * a parent centred over its children, one row per depth), and writes one
 * page: the facts, the graph and the score chart as inline SVG, the node
 * table, the best solution, and the data the page's script needs (codes
 * as edit scripts against the parent's) as escaped JSON.
 *
 * The page's CSS and JavaScript live in core/report.css and core/report.js
 * and are compiled in (report_assets.c, made by scripts/embed-text.sh).
 */
#include "config.h"

#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diff.h"
#include "report.h"
#include "util.h"

/* Defined in the generated report_assets.c. */
extern const char aml_report_css[];
extern const char aml_report_js[];

#define REPORT_MAX_SUMMARY ((size_t)64 << 20)
#define REPORT_MAX_NODE_JSON ((size_t)4 << 20)
#define REPORT_MAX_CODE ((size_t)8 << 20)
#define REPORT_TAIL_OUT 1500
#define REPORT_TAIL_ERR 3000
#define REPORT_MAX_ID 10000000

/* The graph's geometry (SVG user units = CSS pixels at zoom 1). */
#define G_DX 26.0
#define G_DY 48.0
#define G_MARGIN 24.0
#define G_R 9.0
/* The score chart's. */
#define C_W 900.0
#define C_H 280.0
#define C_L 70.0
#define C_R 16.0
#define C_T 14.0
#define C_B 42.0

/* ------------------------------------------------------------------ */
/* Escaping                                                            */

void
aml_html_escape(aml_sb *b, const char *s)
{
	const char *run = s;

	for (; *s; s++) {
		const char *rep;

		switch (*s) {
		case '&': rep = "&amp;"; break;
		case '<': rep = "&lt;"; break;
		case '>': rep = "&gt;"; break;
		case '"': rep = "&quot;"; break;
		case '\'': rep = "&#39;"; break;
		default: continue;
		}
		aml_sb_add(b, run, (size_t)(s - run));
		aml_sb_puts(b, rep);
		run = s + 1;
	}
	aml_sb_add(b, run, (size_t)(s - run));
}

void
aml_json_script_escape(aml_sb *b, const char *json)
{
	const char *run = json, *s = json;

	for (; *s; s++) {
		const char *rep;

		switch (*s) {
		case '<': rep = "\\u003c"; break;
		case '>': rep = "\\u003e"; break;
		case '&': rep = "\\u0026"; break;
		default: continue;
		}
		aml_sb_add(b, run, (size_t)(s - run));
		aml_sb_puts(b, rep);
		run = s + 1;
	}
	aml_sb_add(b, run, (size_t)(s - run));
}

/* ------------------------------------------------------------------ */
/* The run, as read                                                    */

enum { ST_VALID, ST_BUGGY, ST_INVALID, ST_FAILED, ST_PENDING, ST_OTHER };
static const char *const st_class[] = {"valid", "buggy", "invalid", "failed", "pending",
				       "other"};

typedef struct rnode {
	json_object *j;        /* borrowed: the node's entry in summary.json */
	json_object *nj;       /* owned: node.json, NULL when missing or broken */
	int id, parent;        /* as recorded */
	int tp;                /* the tree parent's index, -1 for a root */
	const char *op, *mode, *status, *reason; /* borrowed from j */
	int st, opix;
	int has_score;
	double score;
	char *code;            /* owned: solution.py, NULL when missing */
	char *plan;            /* owned: plan.txt or node.json's plan */
	char *out_tail, *err_tail; /* owned: the end of stdout.txt, stderr.txt */
	int has_times;
	double created, finish;
	int depth, first, last, next; /* children as a linked list of indices */
	double x;
	int rank;              /* place in the finish order */
} rnode;

typedef struct report {
	const char *dir;
	char *name;            /* owned: the run directory's base name */
	json_object *sum;      /* owned */
	rnode *v;
	size_t n;
	int *idx;              /* id -> index, -1; idx_len entries */
	size_t idx_len;
	const char **ops;      /* distinct operator names, sorted (borrowed) */
	size_t n_ops;
	int best;              /* index or -1 */
	int hib;
	const char *metric;
	size_t no_files;       /* nodes with no node.json */
	double slots;
	int max_depth;
} report;

static const char *
jstr(json_object *o, const char *key, const char *dflt)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return dflt;
}

static int
jnum(json_object *o, const char *key, double *out)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v)
	    && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
		*out = json_object_get_double(v);
		return isfinite(*out);
	}
	return 0;
}

static int
jint(json_object *o, const char *key, int *out)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int)) {
		int64_t i = json_object_get_int64(v);

		if (i < INT32_MIN || i > INT32_MAX)
			return 0;
		*out = (int)i;
		return 1;
	}
	return 0;
}

static json_object *
jget(json_object *o, const char *key, json_type type)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, type))
		return v;
	return NULL;
}

static int
status_index(const char *s)
{
	if (strcmp(s, "valid") == 0)
		return ST_VALID;
	if (strcmp(s, "buggy") == 0)
		return ST_BUGGY;
	if (strcmp(s, "invalid_submission") == 0)
		return ST_INVALID;
	if (strcmp(s, "operator_failed") == 0)
		return ST_FAILED;
	if (strcmp(s, "pending") == 0)
		return ST_PENDING;
	return ST_OTHER;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_node_id(const void *a, const void *b)
{
	const rnode *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

static void
report_free(report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		json_object_put(r->v[i].nj);
		free(r->v[i].code);
		free(r->v[i].plan);
		free(r->v[i].out_tail);
		free(r->v[i].err_tail);
	}
	free(r->v);
	free(r->idx);
	free(r->ops);
	free(r->name);
	json_object_put(r->sum);
}

/* Read and check summary.json; fill r's nodes from it. */
static int
load_summary(report *r, char *err, size_t errlen)
{
	char *path = aml_path_join(r->dir, "summary.json"), *text = NULL;
	enum json_tokener_error jerr = json_tokener_success;
	json_object *arr;
	int rc = AML_OK, max_id = -1, b;
	size_t i, k;

	if (path == NULL)
		return AML_ENOMEM;
	if (!aml_is_dir(r->dir)) {
		aml_seterr(err, errlen, "%s: not a directory", r->dir);
		rc = AML_ENOTFOUND;
		goto out;
	}
	if (!aml_is_file(path)) {
		aml_seterr(err, errlen, "%s: no summary.json (a run still going, or one that "
			   "stopped early: see its run.log)", r->dir);
		rc = AML_ENOTFOUND;
		goto out;
	}
	if (aml_read_file(path, REPORT_MAX_SUMMARY, &text, NULL, err, errlen) != AML_OK) {
		rc = AML_EFORMAT;
		goto out;
	}
	r->sum = json_tokener_parse_verbose(text, &jerr);
	if (r->sum == NULL || !json_object_is_type(r->sum, json_type_object)) {
		aml_seterr(err, errlen, "%s: not a run summary (%s)", path, r->sum == NULL
			   ? json_tokener_error_desc(jerr) : "not a JSON object");
		rc = AML_EFORMAT;
		goto out;
	}
	arr = jget(r->sum, "nodes", json_type_array);
	if (arr == NULL) {
		aml_seterr(err, errlen, "%s: not a run summary (no \"nodes\" array)", path);
		rc = AML_EFORMAT;
		goto out;
	}
	r->n = json_object_array_length(arr);
	r->v = calloc(r->n ? r->n : 1, sizeof *r->v);
	if (r->v == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	for (i = 0; i < r->n; i++) {
		rnode *nd = &r->v[i];
		json_object *j = json_object_array_get_idx(arr, i);

		if (!json_object_is_type(j, json_type_object) || !jint(j, "id", &nd->id)
		    || nd->id < 0 || nd->id > REPORT_MAX_ID) {
			aml_seterr(err, errlen, "%s: not a run summary (nodes[%zu] has no valid \"id\")",
				   path, i);
			rc = AML_EFORMAT;
			goto out;
		}
		nd->j = j;
		if (!jint(j, "parent", &nd->parent) || nd->parent < 0)
			nd->parent = -1;
		nd->op = jstr(j, "operator", "?");
		nd->mode = jstr(j, "mode", "");
		nd->status = jstr(j, "status", "unknown");
		nd->reason = jstr(j, "reason", "");
		nd->st = status_index(nd->status);
		nd->has_score = jnum(j, "score", &nd->score);
		if (nd->id > max_id)
			max_id = nd->id;
	}
	qsort(r->v, r->n, sizeof *r->v, cmp_node_id);
	r->idx_len = (size_t)max_id + 1;
	r->idx = malloc((r->idx_len ? r->idx_len : 1) * sizeof *r->idx);
	r->ops = malloc((r->n ? r->n : 1) * sizeof *r->ops);
	if (r->idx == NULL || r->ops == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	for (i = 0; i < r->idx_len; i++)
		r->idx[i] = -1;
	for (i = 0; i < r->n; i++) {
		rnode *nd = &r->v[i];

		if (r->idx[nd->id] >= 0) {
			aml_seterr(err, errlen, "%s: not a run summary (node id %d appears twice)",
				   path, nd->id);
			rc = AML_EFORMAT;
			goto out;
		}
		r->idx[nd->id] = (int)i;
		/* parents come first; anything else is drawn as a root */
		nd->tp = nd->parent >= 0 && nd->parent < nd->id ? r->idx[nd->parent] : -1;
	}
	/* operators, sorted, for stable colours */
	for (i = 0; i < r->n; i++) {
		for (k = 0; k < r->n_ops && strcmp(r->ops[k], r->v[i].op) != 0; k++)
			;
		if (k == r->n_ops)
			r->ops[r->n_ops++] = r->v[i].op;
	}
	qsort(r->ops, r->n_ops, sizeof *r->ops, cmp_str);
	for (i = 0; i < r->n; i++)
		for (k = 0; k < r->n_ops; k++)
			if (strcmp(r->ops[k], r->v[i].op) == 0)
				r->v[i].opix = (int)k;
	r->metric = jstr(r->sum, "metric", "score");
	r->hib = 1;
	{
		json_object *h = jget(r->sum, "higher_is_better", json_type_boolean);

		if (h)
			r->hib = json_object_get_boolean(h);
	}
	r->best = -1;
	if (jint(r->sum, "best_node", &b) && b >= 0 && (size_t)b < r->idx_len)
		r->best = r->idx[b];
out:
	free(text);
	free(path);
	return rc;
}

/* The last keep bytes of a file (transferred), "" or NULL if none. */
static char *
read_tail(const char *path, size_t keep)
{
	FILE *f = fopen(path, "rb");
	long size;
	size_t got, skip = 0;
	int cut;
	char *buf, *res;

	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) <= 0) {
		fclose(f);
		return NULL;
	}
	cut = (size_t)size > keep;
	if (fseek(f, cut ? size - (long)keep : 0, SEEK_SET) != 0) {
		fclose(f);
		return NULL;
	}
	buf = malloc(keep + 1);
	if (buf == NULL) {
		fclose(f);
		return NULL;
	}
	got = fread(buf, 1, keep, f);
	fclose(f);
	buf[got] = '\0';
	if (cut) {
		/* start on a whole character, and on a whole line when one is near */
		char *nl = memchr(buf, '\n', got < 200 ? got : 200);

		if (nl)
			skip = (size_t)(nl + 1 - buf);
		while (skip < got && ((unsigned char)buf[skip] & 0xC0) == 0x80)
			skip++;
	}
	res = malloc(strlen(buf + skip) + 8);
	if (res)
		sprintf(res, "%s%s", cut ? "[...]\n" : "", buf + skip);
	free(buf);
	return res;
}

static char *
read_node_file(const char *dir, const char *name, size_t max)
{
	char *p = aml_path_join(dir, name), *text = NULL;

	if (p && aml_is_file(p) && aml_read_file(p, max, &text, NULL, NULL, 0) != AML_OK)
		text = NULL;
	free(p);
	return text;
}

/* Read what exists of each node's folder. */
static int
load_node_files(report *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		rnode *nd = &r->v[i];
		char rel[48], *dir, *t, *p;
		double os = 0, es = 0;

		snprintf(rel, sizeof rel, "nodes/%04d", nd->id);
		dir = aml_path_join(r->dir, rel);
		if (dir == NULL)
			return AML_ENOMEM;
		t = read_node_file(dir, "node.json", REPORT_MAX_NODE_JSON);
		if (t) {
			nd->nj = json_tokener_parse(t);
			if (nd->nj && !json_object_is_type(nd->nj, json_type_object)) {
				json_object_put(nd->nj);
				nd->nj = NULL;
			}
			free(t);
		}
		if (nd->nj == NULL)
			r->no_files++;
		nd->code = read_node_file(dir, "solution.py", REPORT_MAX_CODE);
		nd->plan = read_node_file(dir, "plan.txt", REPORT_MAX_NODE_JSON);
		if (nd->plan == NULL && jstr(nd->nj, "plan", "")[0])
			nd->plan = strdup(jstr(nd->nj, "plan", ""));
		p = aml_path_join(dir, "stdout.txt");
		nd->out_tail = p ? read_tail(p, REPORT_TAIL_OUT) : NULL;
		free(p);
		p = aml_path_join(dir, "stderr.txt");
		nd->err_tail = p ? read_tail(p, REPORT_TAIL_ERR) : NULL;
		free(p);
		free(dir);
		if (jnum(nd->nj, "created_at", &nd->created)) {
			nd->has_times = 1;
			jnum(nd->nj, "operator_seconds", &os);
			jnum(nd->nj, "exec_seconds", &es);
			nd->finish = nd->created + os + es;
		}
	}
	return AML_OK;
}

typedef struct rank_key {
	double key;
	int id;
	int ix;
} rank_key;

static int
cmp_rank(const void *a, const void *b)
{
	const rank_key *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* Depths, x slots (a tidy tree per root, roots side by side) and the
 * finish order. */
static int
layout(report *r)
{
	int *stack = malloc((r->n ? r->n : 1) * sizeof *stack);
	int *cur = malloc((r->n ? r->n : 1) * sizeof *cur);
	rank_key *rk = malloc((r->n ? r->n : 1) * sizeof *rk);
	double slot = 0;
	size_t i, sp;

	if (stack == NULL || cur == NULL || rk == NULL) {
		free(stack);
		free(cur);
		free(rk);
		return AML_ENOMEM;
	}
	for (i = 0; i < r->n; i++)
		r->v[i].first = r->v[i].last = r->v[i].next = -1;
	for (i = 0; i < r->n; i++) {
		rnode *nd = &r->v[i];

		if (nd->tp < 0)
			continue;
		/* tp < i: the parent's depth is known */
		nd->depth = r->v[nd->tp].depth + 1;
		if (nd->depth > r->max_depth)
			r->max_depth = nd->depth;
		if (r->v[nd->tp].first < 0)
			r->v[nd->tp].first = (int)i;
		else
			r->v[r->v[nd->tp].last].next = (int)i;
		r->v[nd->tp].last = (int)i;
	}
	for (i = 0; i < r->n; i++) {
		if (r->v[i].tp >= 0)
			continue;
		if (slot > 0)
			slot += 0.6; /* a little air between trees */
		sp = 0;
		stack[sp++] = (int)i;
		cur[i] = r->v[i].first;
		while (sp > 0) {
			int t = stack[sp - 1], c = cur[t];

			if (c >= 0) {
				cur[t] = r->v[c].next;
				cur[c] = r->v[c].first;
				stack[sp++] = c;
				continue;
			}
			sp--;
			if (r->v[t].first < 0)
				r->v[t].x = slot++;
			else
				r->v[t].x = (r->v[r->v[t].first].x + r->v[r->v[t].last].x) / 2;
		}
	}
	r->slots = slot;
	for (i = 0; i < r->n; i++) {
		rk[i].key = r->v[i].has_times ? r->v[i].finish : HUGE_VAL;
		rk[i].id = r->v[i].id;
		rk[i].ix = (int)i;
	}
	qsort(rk, r->n, sizeof *rk, cmp_rank);
	for (i = 0; i < r->n; i++)
		r->v[rk[i].ix].rank = (int)i;
	free(rk);
	free(stack);
	free(cur);
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Rendering                                                           */

static void
esc(aml_sb *b, const char *s)
{
	aml_html_escape(b, s ? s : "");
}

static const char *
fmt_num(char *buf, size_t len, double d)
{
	snprintf(buf, len, "%.6g", d);
	return buf;
}

/* Axis labels: short, the chart's scale needs no more. */
static const char *
tick_num(char *buf, size_t len, double d)
{
	snprintf(buf, len, "%.4g", d);
	return buf;
}

static double
gx(const rnode *nd)
{
	return G_MARGIN + nd->x * G_DX;
}

static double
gy(const rnode *nd)
{
	return G_MARGIN + nd->depth * G_DY;
}

static const char *
ref_class(const char *kind)
{
	if (strcmp(kind, "recall") == 0)
		return "recall";
	if (strcmp(kind, "reference") == 0)
		return "reference";
	if (strcmp(kind, "fusion") == 0)
		return "fusion";
	return "other";
}

/* "valid", "buggy (crashed)", "valid (cached from #3)": escaped. */
static void
status_text(aml_sb *b, const rnode *nd)
{
	const char *outcome = jstr(nd->nj, "outcome", NULL);
	int from;

	esc(b, nd->status);
	if (outcome && strcmp(outcome, "ok") != 0 && strcmp(outcome, "not_run") != 0) {
		aml_sb_puts(b, " (");
		esc(b, outcome);
		aml_sb_puts(b, ")");
	}
	if (jint(nd->j, "cached_from", &from) && from >= 0)
		aml_sb_printf(b, " (cached from #%d)", from);
}

static void
fact(aml_sb *b, const char *label, const char *value)
{
	aml_sb_printf(b, "<div><dt>%s</dt><dd>", label);
	esc(b, value);
	aml_sb_puts(b, "</dd></div>\n");
}

static void
render_facts(aml_sb *b, const report *r)
{
	json_object *search = jget(r->sum, "search", json_type_object);
	json_object *llm = jget(r->sum, "llm", json_type_object);
	json_object *counts = jget(r->sum, "nodes_by_status", json_type_object);
	char buf[128], n1[32], n2[32];
	double d, d2;

	aml_sb_puts(b, "<dl class=\"facts\">\n");
	fact(b, "task", jstr(r->sum, "task", "?"));
	snprintf(buf, sizeof buf, "%s is better", r->hib ? "higher" : "lower");
	aml_sb_puts(b, "<div><dt>metric</dt><dd>");
	esc(b, r->metric);
	aml_sb_printf(b, " <span class=\"dim\">(%s)</span></dd></div>\n", buf);
	if (r->best >= 0) {
		const rnode *bn = &r->v[r->best];

		aml_sb_printf(b, "<div><dt>best</dt><dd><a href=\"#node-%d\" class=\"nlink\" "
			      "data-id=\"%d\">node %d</a>", bn->id, bn->id, bn->id);
		if (bn->has_score)
			aml_sb_printf(b, ", %s", fmt_num(n1, sizeof n1, bn->score));
		aml_sb_puts(b, "</dd></div>\n");
	} else {
		fact(b, "best", "none (no valid node)");
	}
	if (jstr(r->sum, "chosen", NULL))
		fact(b, "chosen", jstr(r->sum, "chosen", ""));
	if (jstr(r->sum, "stop_reason", NULL))
		fact(b, "stopped", jstr(r->sum, "stop_reason", ""));
	if (jnum(r->sum, "seconds", &d)) {
		snprintf(buf, sizeof buf, "%.1f s", d);
		fact(b, "time", buf);
	}
	if (search) {
		aml_sb_puts(b, "<div><dt>search</dt><dd>");
		esc(b, jstr(search, "policy", "?"));
		if (jnum(search, "workers", &d))
			aml_sb_printf(b, ", %.0f workers", d);
		if (jnum(search, "cache_hits", &d))
			aml_sb_printf(b, ", %.0f cache hits", d);
		aml_sb_puts(b, "</dd></div>\n");
	}
	aml_sb_printf(b, "<div><dt>nodes</dt><dd>%zu", r->n);
	if (counts) {
		json_object_object_foreach(counts, key, val) {
			if (json_object_get_int(val) <= 0)
				continue;
			aml_sb_puts(b, ", ");
			esc(b, key);
			aml_sb_printf(b, " %d", json_object_get_int(val));
		}
	}
	aml_sb_puts(b, "</dd></div>\n");
	if (jstr(r->sum, "provider", NULL)) {
		aml_sb_puts(b, "<div><dt>plugins</dt><dd>provider ");
		esc(b, jstr(r->sum, "provider", ""));
		aml_sb_puts(b, ", executor ");
		esc(b, jstr(r->sum, "executor", "?"));
		aml_sb_puts(b, "</dd></div>\n");
	}
	if (llm && jnum(llm, "calls", &d)) {
		aml_sb_printf(b, "<div><dt>LLM</dt><dd>%.0f calls", d);
		if (jnum(llm, "tokens_in", &d) && jnum(llm, "tokens_out", &d2))
			aml_sb_printf(b, ", %s in / %s out tokens", fmt_num(n1, sizeof n1, d),
				      fmt_num(n2, sizeof n2, d2));
		if (jnum(llm, "cost", &d) && d > 0)
			aml_sb_printf(b, ", $%.4f", d);
		aml_sb_puts(b, "</dd></div>\n");
	}
	aml_sb_puts(b, "</dl>\n");
	if (r->no_files)
		aml_sb_printf(b, "<p class=\"note\">%zu of %zu nodes have no readable node.json "
			      "in nodes/: they are shown from summary.json alone.</p>\n",
			      r->no_files, r->n);
}

static void
render_legend(aml_sb *b, const report *r)
{
	size_t k;

	aml_sb_puts(b, "<div class=\"legend\"><span class=\"lg-h\">operators:</span>");
	for (k = 0; k < r->n_ops; k++) {
		aml_sb_printf(b, "<span><svg width=\"14\" height=\"14\"><circle class=\"op%zu\" "
			      "cx=\"7\" cy=\"7\" r=\"6\"/></svg>", k % 10);
		esc(b, r->ops[k]);
		aml_sb_puts(b, "</span>");
	}
	aml_sb_puts(b, "<br><span class=\"lg-h\">outcome:</span>");
	for (k = 0; k < AML_ARRAY_LEN(st_class); k++) {
		static const char *const label[] = {"valid", "buggy", "invalid submission",
						    "operator failed", "pending", "other"};

		aml_sb_printf(b, "<span class=\"st-%s\"><svg width=\"16\" height=\"16\">"
			      "<circle class=\"mark\" cx=\"8\" cy=\"8\" r=\"6\"/></svg>%s</span>",
			      st_class[k], label[k]);
	}
	aml_sb_puts(b, "<span class=\"best\"><svg width=\"20\" height=\"20\"><circle class=\"halo\" "
		    "cx=\"10\" cy=\"10\" r=\"8\"/></svg>best</span>"
		    "<br><span class=\"lg-h\">edges:</span>"
		    "<span><svg width=\"30\" height=\"10\"><path class=\"edge\" d=\"M2 5H28\"/></svg>"
		    "parent &#8594; child</span>"
		    "<span><svg width=\"30\" height=\"10\"><path class=\"ref ref-reference\" "
		    "d=\"M2 5H28\"/></svg>reference</span>"
		    "<span><svg width=\"30\" height=\"10\"><path class=\"ref ref-recall\" "
		    "d=\"M2 5H28\"/></svg>recall</span>"
		    "<span><svg width=\"30\" height=\"10\"><path class=\"ref ref-fusion\" "
		    "d=\"M2 5H28\"/></svg>fusion</span></div>\n");
}

static void
render_graph(aml_sb *b, const report *r)
{
	double w = 2 * G_MARGIN + (r->slots > 1 ? r->slots - 1 : 0) * G_DX;
	double h = 2 * G_MARGIN + r->max_depth * G_DY;
	char n1[32];
	size_t i, k;

	if (w < 120)
		w = 120;
	aml_sb_puts(b, "<section id=\"graph-section\"><h2>Search graph</h2>\n");
	render_legend(b, r);
	aml_sb_puts(b, "<div class=\"zoom\"><button type=\"button\" id=\"zoom-out\" "
		    "title=\"zoom out\">&#8722;</button><button type=\"button\" id=\"zoom-in\" "
		    "title=\"zoom in\">+</button><button type=\"button\" id=\"zoom-fit\">fit</button>"
		    "<button type=\"button\" id=\"zoom-1\">1:1</button> "
		    "<label><input type=\"checkbox\" id=\"show-refs\" checked> reference edges</label>"
		    "<span class=\"dim\"> click a node for its code and diff</span></div>\n");
	aml_sb_printf(b, "<div class=\"scroll\" id=\"graph-scroll\"><svg id=\"graph\" "
		      "xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
		      "viewBox=\"0 0 %.0f %.0f\" data-w=\"%.0f\" data-h=\"%.0f\" data-nodes=\"%zu\">\n",
		      w, h, w, h, w, h, r->n);
	aml_sb_puts(b, "<g class=\"edges\">\n");
	for (i = 0; i < r->n; i++) {
		const rnode *c = &r->v[i], *p;
		double my;

		if (c->tp < 0)
			continue;
		p = &r->v[c->tp];
		my = (gy(p) + gy(c)) / 2;
		aml_sb_printf(b, "<path class=\"edge\" d=\"M%.1f %.1fC%.1f %.1f %.1f %.1f %.1f %.1f\"/>\n",
			      gx(p), gy(p) + G_R, gx(p), my, gx(c), my, gx(c), gy(c) - G_R);
	}
	aml_sb_puts(b, "</g>\n<g class=\"refs\">\n");
	for (i = 0; i < r->n; i++) {
		const rnode *c = &r->v[i];
		json_object *refs = jget(c->j, "refs", json_type_array);

		for (k = 0; refs && k < json_object_array_length(refs); k++) {
			json_object *e = json_object_array_get_idx(refs, k);
			const char *kind = jstr(e, "kind", "reference");
			const rnode *s;
			double cx, cy;
			int from;

			if (!jint(e, "node", &from) || from < 0 || (size_t)from >= r->idx_len
			    || r->idx[from] < 0)
				continue;
			s = &r->v[r->idx[from]];
			/* bow the curve sideways so it does not hide a tree edge */
			cx = (gx(s) + gx(c)) / 2 + (gy(c) - gy(s)) * 0.2;
			cy = (gy(s) + gy(c)) / 2 - (gx(c) - gx(s)) * 0.2;
			aml_sb_printf(b, "<path class=\"ref ref-%s\" data-from=\"%d\" data-to=\"%d\" "
				      "d=\"M%.1f %.1fQ%.1f %.1f %.1f %.1f\"><title>node %d &#8594; node %d: ",
				      ref_class(kind), s->id, c->id, gx(s), gy(s), cx, cy, gx(c), gy(c),
				      s->id, c->id);
			esc(b, kind);
			aml_sb_puts(b, "</title></path>\n");
		}
	}
	aml_sb_puts(b, "</g>\n<g class=\"nodes\">\n");
	for (i = 0; i < r->n; i++) {
		const rnode *nd = &r->v[i];
		int best = (int)i == r->best;

		aml_sb_printf(b, "<g class=\"node op%d st-%s%s\" id=\"g%d\" data-id=\"%d\" "
			      "transform=\"translate(%.1f %.1f)\"><title>node %d: ", nd->opix % 10,
			      st_class[nd->st], best ? " best" : "", nd->id, nd->id, gx(nd), gy(nd),
			      nd->id);
		esc(b, nd->op);
		aml_sb_puts(b, " (");
		esc(b, nd->mode);
		aml_sb_puts(b, "), ");
		status_text(b, nd);
		if (nd->has_score)
			aml_sb_printf(b, ", %s", fmt_num(n1, sizeof n1, nd->score));
		if (best)
			aml_sb_puts(b, ", best");
		aml_sb_puts(b, "</title>");
		if (best)
			aml_sb_printf(b, "<circle class=\"halo\" r=\"%.0f\"/>", G_R + 5);
		aml_sb_printf(b, "<circle class=\"mark\" r=\"%.0f\"/><text dy=\"3\">%d</text></g>\n",
			      G_R, nd->id);
	}
	aml_sb_puts(b, "</g>\n</svg></div></section>\n");
}

static void
render_chart(aml_sb *b, const report *r)
{
	double lo = HUGE_VAL, hi = -HUGE_VAL, pw = C_W - C_L - C_R, ph = C_H - C_T - C_B;
	int *order = malloc((r->n ? r->n : 1) * sizeof *order);
	char n1[32];
	size_t i, scored = 0;
	int t, have = 0;
	double bestv = 0;

	aml_sb_puts(b, "<section id=\"score-section\"><h2>Score over time</h2>\n");
	if (order == NULL) {
		b->oom = 1;
		return;
	}
	for (i = 0; i < r->n; i++) {
		order[r->v[i].rank] = (int)i;
		if (r->v[i].has_score) {
			scored++;
			lo = fmin(lo, r->v[i].score);
			hi = fmax(hi, r->v[i].score);
		}
	}
	if (scored == 0) {
		aml_sb_puts(b, "<p class=\"note\">No node has a score.</p></section>\n");
		free(order);
		return;
	}
	if (hi - lo < 1e-12) {
		double pad = fabs(hi) * 0.01 + 0.01;

		lo -= pad;
		hi += pad;
	} else {
		double pad = (hi - lo) * 0.05;

		lo -= pad;
		hi += pad;
	}
#define CX(rank) (C_L + (r->n > 1 ? (double)(rank) / (double)(r->n - 1) : 0.5) * pw)
#define CY(v) (C_T + (hi - (v)) / (hi - lo) * ph)
	aml_sb_printf(b, "<svg id=\"scores\" xmlns=\"http://www.w3.org/2000/svg\" "
		      "viewBox=\"0 0 %.0f %.0f\">\n", C_W, C_H);
	aml_sb_printf(b, "<path class=\"axis\" d=\"M%.0f %.0fV%.0fH%.0f\"/>\n", C_L, C_T, C_T + ph,
		      C_L + pw);
	for (t = 0; t <= 4; t++) {
		double v = lo + (hi - lo) * t / 4, y = CY(v);

		aml_sb_printf(b, "<path class=\"grid\" d=\"M%.0f %.1fH%.0f\"/><text class=\"tick\" "
			      "x=\"%.0f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", C_L, y,
			      C_L + pw, C_L - 6, y + 4, tick_num(n1, sizeof n1, v));
	}
	for (t = 0; t <= 4 && r->n > 0; t++) {
		size_t rank = (size_t)((double)(r->n - 1) * t / 4 + 0.5);

		aml_sb_printf(b, "<text class=\"tick\" x=\"%.1f\" y=\"%.0f\" text-anchor=\"middle\">"
			      "%zu</text>\n", CX(rank), C_T + ph + 16, rank + 1);
	}
	aml_sb_printf(b, "<text class=\"label\" x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">"
		      "nodes, in the order they finished</text>\n", C_L + pw / 2, C_H - 6);
	aml_sb_printf(b, "<text class=\"label\" transform=\"translate(14 %.0f) rotate(-90)\" "
		      "text-anchor=\"middle\">", C_T + ph / 2);
	esc(b, r->metric);
	aml_sb_printf(b, " (%s is better)</text>\n", r->hib ? "higher" : "lower");
	/* best so far among valid nodes, as steps */
	aml_sb_puts(b, "<path class=\"bestline\" d=\"");
	for (i = 0; i < r->n; i++) {
		const rnode *nd = &r->v[order[i]];

		if (nd->st != ST_VALID || !nd->has_score)
			continue;
		if (!have) {
			aml_sb_printf(b, "M%.1f %.1f", CX(i), CY(nd->score));
			bestv = nd->score;
			have = 1;
		} else if (r->hib ? nd->score > bestv : nd->score < bestv) {
			aml_sb_printf(b, "H%.1fV%.1f", CX(i), CY(nd->score));
			bestv = nd->score;
		}
	}
	if (have)
		aml_sb_printf(b, "H%.1f", CX(r->n - 1));
	aml_sb_puts(b, "\"/>\n");
	for (i = 0; i < r->n; i++) {
		const rnode *nd = &r->v[order[i]];

		if (!nd->has_score)
			continue;
		aml_sb_printf(b, "<circle class=\"pt op%d st-%s\" cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" "
			      "data-id=\"%d\"><title>node %d (", nd->opix % 10, st_class[nd->st],
			      CX(i), CY(nd->score), nd->id, nd->id);
		esc(b, nd->op);
		aml_sb_printf(b, "): %s</title></circle>\n", fmt_num(n1, sizeof n1, nd->score));
	}
#undef CX
#undef CY
	aml_sb_puts(b, "</svg>\n<p class=\"dim\">Dots: scored nodes, coloured by operator "
		    "(hollow: not valid); line: the best valid score so far.</p></section>\n");
	free(order);
}

static void
render_table(aml_sb *b, const report *r)
{
	char n1[32], n2[32];
	size_t i, k;

	aml_sb_puts(b, "<section id=\"table-section\"><h2>Nodes</h2>\n"
		    "<div class=\"tools\"><input id=\"filter\" type=\"search\" "
		    "placeholder=\"filter rows\" aria-label=\"filter rows\"> "
		    "<span id=\"shown\" class=\"dim\"></span>"
		    "<span class=\"dim\"> click a header to sort, a row for its code</span></div>\n"
		    "<div class=\"scroll table-wrap\"><table id=\"nodes\"><thead><tr>"
		    "<th data-type=\"num\">id</th><th>operator</th><th>mode</th>"
		    "<th data-type=\"num\">parent</th><th>references</th><th>status</th>"
		    "<th data-type=\"num\">score</th><th>reason</th>"
		    "<th data-type=\"num\">started s</th><th data-type=\"num\">exec s</th>"
		    "<th data-type=\"num\">tokens in / out</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < r->n; i++) {
		const rnode *nd = &r->v[i];
		json_object *refs = jget(nd->j, "refs", json_type_array);
		double es = 0, tin = 0, tout = 0;

		aml_sb_printf(b, "<tr data-id=\"%d\" class=\"st-%s%s\"><td data-v=\"%d\">%d</td>"
			      "<td><span class=\"sw op%d\"></span>", nd->id, st_class[nd->st],
			      (int)i == r->best ? " best" : "", nd->id, nd->id, nd->opix % 10);
		esc(b, nd->op);
		aml_sb_puts(b, "</td><td>");
		esc(b, nd->mode);
		if (nd->parent >= 0)
			aml_sb_printf(b, "</td><td data-v=\"%d\">%d</td>", nd->parent, nd->parent);
		else
			aml_sb_puts(b, "</td><td data-v=\"-1\">&#8212;</td>");
		/* the references, in the cell and (whole) in its title */
		{
			aml_sb refs_text = {0};

			for (k = 0; refs && k < json_object_array_length(refs); k++) {
				json_object *e = json_object_array_get_idx(refs, k);
				int from;

				if (!jint(e, "node", &from))
					continue;
				aml_sb_printf(&refs_text, "%s%d ", k ? ", " : "", from);
				aml_sb_puts(&refs_text, jstr(e, "kind", ""));
			}
			if (refs_text.oom)
				b->oom = 1;
			aml_sb_puts(b, "<td class=\"refs\" title=\"");
			esc(b, refs_text.s);
			aml_sb_puts(b, "\">");
			esc(b, refs_text.s);
			aml_sb_free(&refs_text);
		}
		aml_sb_puts(b, "</td><td>");
		status_text(b, nd);
		if (nd->has_score)
			aml_sb_printf(b, "</td><td data-v=\"%.17g\">%s", nd->score,
				      fmt_num(n1, sizeof n1, nd->score));
		else
			aml_sb_puts(b, "</td><td data-v=\"\">");
		aml_sb_puts(b, "</td><td class=\"reason\" title=\"");
		esc(b, nd->reason);
		aml_sb_puts(b, "\">");
		esc(b, nd->reason);
		if (nd->has_times)
			aml_sb_printf(b, "</td><td data-v=\"%.3f\">%.1f", nd->created, nd->created);
		else
			aml_sb_puts(b, "</td><td data-v=\"\">");
		jnum(nd->j, "exec_seconds", &es);
		jnum(nd->j, "tokens_in", &tin);
		jnum(nd->j, "tokens_out", &tout);
		aml_sb_printf(b, "</td><td data-v=\"%.3f\">%.1f</td><td data-v=\"%.0f\">%s / %s</td></tr>\n",
			      es, es, tin + tout, fmt_num(n1, sizeof n1, tin),
			      fmt_num(n2, sizeof n2, tout));
	}
	aml_sb_puts(b, "</tbody></table></div></section>\n");
}

static void
render_best(aml_sb *b, const report *r)
{
	char *path = aml_path_join(r->dir, "best_solution.py"), *code = NULL, n1[32];
	const rnode *bn = r->best >= 0 ? &r->v[r->best] : NULL;

	aml_sb_puts(b, "<section id=\"best-section\"><h2>Best solution</h2>\n");
	if (path && aml_is_file(path))
		aml_read_file(path, REPORT_MAX_CODE, &code, NULL, NULL, 0);
	free(path);
	if (bn) {
		aml_sb_printf(b, "<p>Node <a href=\"#node-%d\" class=\"nlink\" data-id=\"%d\">%d</a> "
			      "(", bn->id, bn->id, bn->id);
		esc(b, bn->op);
		aml_sb_puts(b, ")");
		if (bn->has_score) {
			aml_sb_puts(b, ", ");
			esc(b, r->metric);
			aml_sb_printf(b, " = %s", fmt_num(n1, sizeof n1, bn->score));
		}
		aml_sb_printf(b, "%s</p>\n", code ? ": best_solution.py" : "");
	}
	if (code || (bn && bn->code)) {
		aml_sb_puts(b, "<pre class=\"code\" id=\"best-code\">");
		esc(b, code ? code : bn->code);
		aml_sb_puts(b, "</pre>\n");
	} else {
		aml_sb_puts(b, "<p class=\"note\">No best solution: no valid node, or its "
			    "script is missing.</p>\n");
	}
	aml_sb_puts(b, "</section>\n");
	free(code);
}

/* Node c's code for the page: {"base": parent id, "d": edit script} when
 * the parent's code is known, else {"f": the text}.  The edit script is an
 * array: n > 0 keep n lines, n < 0 drop -n lines, [lines] insert them. */
static json_object *
code_json(const report *r, const rnode *c)
{
	json_object *o = json_object_new_object(), *d;
	const rnode *p = c->tp >= 0 ? &r->v[c->tp] : NULL;
	aml_diff_op *ops = NULL;
	aml_diff_line *lb = NULL;
	size_t n_ops = 0, nb, i, k;

	if (o == NULL)
		return NULL;
	if (p == NULL || p->code == NULL
	    || aml_line_diff(p->code, c->code, &ops, &n_ops) != AML_OK
	    || (lb = aml_diff_split(c->code, &nb)) == NULL) {
		free(ops);
		json_object_object_add(o, "f", json_object_new_string(c->code));
		return o;
	}
	d = json_object_new_array();
	for (i = 0; i < n_ops; i++) {
		if (ops[i].kind == AML_DIFF_KEEP) {
			json_object_array_add(d, json_object_new_int64((int64_t)ops[i].n));
		} else if (ops[i].kind == AML_DIFF_DEL) {
			json_object_array_add(d, json_object_new_int64(-(int64_t)ops[i].n));
		} else {
			json_object *lines = json_object_new_array();

			for (k = 0; k < ops[i].n; k++) {
				const aml_diff_line *l = &lb[ops[i].b_at + k];

				json_object_array_add(lines, json_object_new_string_len(l->s, (int)l->len));
			}
			json_object_array_add(d, lines);
		}
	}
	json_object_object_add(o, "base", json_object_new_int(p->id));
	json_object_object_add(o, "d", d);
	free(ops);
	free(lb);
	return o;
}

static void
add_str(json_object *o, const char *key, const char *s)
{
	if (s && s[0])
		json_object_object_add(o, key, json_object_new_string(s));
}

/* The data the page's script reads, escaped for a script element. */
static int
render_data(aml_sb *b, const report *r)
{
	json_object *root = json_object_new_object(), *nodes = json_object_new_array();
	const char *text;
	size_t i, k;

	if (root == NULL || nodes == NULL) {
		json_object_put(root);
		json_object_put(nodes);
		return AML_ENOMEM;
	}
	json_object_object_add(root, "run", json_object_new_string(r->name));
	json_object_object_add(root, "metric", json_object_new_string(r->metric));
	json_object_object_add(root, "best", r->best >= 0
			       ? json_object_new_int(r->v[r->best].id) : NULL);
	for (i = 0; i < r->n; i++) {
		const rnode *nd = &r->v[i];
		json_object *o = json_object_new_object(), *refs = jget(nd->j, "refs",
									 json_type_array);
		double v;
		int from;

		json_object_object_add(o, "id", json_object_new_int(nd->id));
		json_object_object_add(o, "parent", json_object_new_int(nd->parent));
		json_object_object_add(o, "op", json_object_new_string(nd->op));
		json_object_object_add(o, "mode", json_object_new_string(nd->mode));
		json_object_object_add(o, "status", json_object_new_string(nd->status));
		json_object_object_add(o, "st", json_object_new_string(st_class[nd->st]));
		add_str(o, "outcome", jstr(nd->nj, "outcome", NULL));
		if (nd->has_score)
			json_object_object_add(o, "score", json_object_new_double(nd->score));
		add_str(o, "reason", nd->reason);
		add_str(o, "review", jstr(nd->j, "review", jstr(nd->nj, "review", NULL)));
		add_str(o, "flags", jstr(nd->j, "flags", NULL));
		add_str(o, "plan", nd->plan);
		if (refs) {
			json_object *a = json_object_new_array();

			for (k = 0; k < json_object_array_length(refs); k++) {
				json_object *e = json_object_array_get_idx(refs, k), *pair;

				if (!jint(e, "node", &from))
					continue;
				pair = json_object_new_array();
				json_object_array_add(pair, json_object_new_int(from));
				json_object_array_add(pair, json_object_new_string(jstr(e, "kind", "")));
				json_object_array_add(a, pair);
			}
			json_object_object_add(o, "refs", a);
		}
		if (jint(nd->j, "cached_from", &from) && from >= 0)
			json_object_object_add(o, "cached_from", json_object_new_int(from));
		if (nd->has_times)
			json_object_object_add(o, "created", json_object_new_double(nd->created));
		if (jnum(nd->j, "exec_seconds", &v))
			json_object_object_add(o, "exec", json_object_new_double(v));
		if (jnum(nd->nj, "operator_seconds", &v))
			json_object_object_add(o, "opsec", json_object_new_double(v));
		if (jnum(nd->j, "tokens_in", &v))
			json_object_object_add(o, "tin", json_object_new_double(v));
		if (jnum(nd->j, "tokens_out", &v))
			json_object_object_add(o, "tout", json_object_new_double(v));
		if (nd->code)
			json_object_object_add(o, "code", code_json(r, nd));
		if (nd->nj == NULL)
			json_object_object_add(o, "nofiles", json_object_new_boolean(1));
		add_str(o, "out", nd->out_tail);
		add_str(o, "err", nd->err_tail);
		json_object_array_add(nodes, o);
	}
	json_object_object_add(root, "nodes", nodes);
	text = json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN
					      | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text == NULL) {
		json_object_put(root);
		return AML_ENOMEM;
	}
	aml_sb_puts(b, "<script type=\"application/json\" id=\"report-data\">");
	aml_json_script_escape(b, text);
	aml_sb_puts(b, "</script>\n");
	json_object_put(root);
	return AML_OK;
}

static int
render(aml_sb *b, const report *r)
{
	aml_sb_puts(b, "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
		    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>AutoMLGen run ");
	esc(b, r->name);
	aml_sb_puts(b, "</title>\n<style>\n");
	aml_sb_puts(b, aml_report_css);
	aml_sb_puts(b, "</style>\n</head>\n<body>\n");
	/* first, so that any error later in the page is counted */
	aml_sb_puts(b, "<script>window.onerror=function(m){var b=document.body;"
		    "b.setAttribute('data-js-errors',String(Number(b.getAttribute('data-js-errors')"
		    "||0)+1));b.setAttribute('data-js-error',String(m));};</script>\n");
	aml_sb_puts(b, "<header><h1>AutoMLGen run <code>");
	esc(b, r->name);
	aml_sb_puts(b, "</code></h1>\n");
	render_facts(b, r);
	aml_sb_puts(b, "</header>\n<main>\n<div class=\"left\">\n");
	render_graph(b, r);
	render_chart(b, r);
	render_table(b, r);
	render_best(b, r);
	aml_sb_puts(b, "</div>\n<aside id=\"detail\"><h2 id=\"detail-title\">Node</h2>"
		    "<div id=\"detail-body\"><p class=\"dim\">Click a node in the graph, the "
		    "chart or the table to see its code and its diff to its parent.</p>"
		    "</div></aside>\n</main>\n");
	if (render_data(b, r) != AML_OK)
		return AML_ENOMEM;
	aml_sb_puts(b, "<script>\n");
	aml_sb_puts(b, aml_report_js);
	aml_sb_puts(b, "</script>\n</body></html>\n");
	return b->oom ? AML_ENOMEM : AML_OK;
}

int
aml_report_write(const char *run_dir, const char *out, char *err, size_t errlen)
{
	report r;
	aml_sb page = {0};
	char *def = NULL;
	int rc;

	memset(&r, 0, sizeof r);
	r.dir = run_dir;
	r.name = aml_path_base(run_dir);
	if (r.name == NULL)
		return AML_ENOMEM;
	rc = load_summary(&r, err, errlen);
	if (rc == AML_OK)
		rc = load_node_files(&r);
	if (rc == AML_OK)
		rc = layout(&r);
	if (rc == AML_OK)
		rc = render(&page, &r);
	if (rc == AML_OK && out == NULL) {
		def = aml_path_join(run_dir, "report.html");
		out = def;
		if (def == NULL)
			rc = AML_ENOMEM;
	}
	if (rc == AML_OK && aml_write_file(out, page.s, page.len, err, errlen) != AML_OK)
		rc = AML_EIO;
	if (rc == AML_ENOMEM)
		aml_seterr(err, errlen, "out of memory writing the report of %s", run_dir);
	free(def);
	aml_sb_free(&page);
	report_free(&r);
	return rc;
}
