/*
 * ensemble.c — see ensemble.h.  Members are loaded with the same code that
 * checks a node's submission (submission.c), which also maps each
 * sample row to the member's row through the id column; combining is
 * then a loop over the sample's rows.  The result goes through the same
 * check again before anything in the run directory is replaced.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ensemble.h"
#include "metric.h"
#include "sha256.h"
#include "submission.h"
#include "util.h"

/* Vote totals closer than this are a tie (shares sum to 1). */
#define TIE_EPS 1e-9

int
aml_ensemble_opts_load(aml_ensemble_opts *o, const aml_config *cfg, char *err, size_t errlen)
{
	const char *w;
	int rc;

	memset(o, 0, sizeof *o);
	if ((rc = aml_config_long(cfg, "final.ensemble_k", &o->k, err, errlen)) != AML_OK)
		return rc;
	if (o->k < 0) {
		aml_seterr(err, errlen, "%s: 'final.ensemble_k' must be 0 (off) or a number of "
			   "nodes >= 2, got '%s'", aml_config_source(cfg, "final.ensemble_k"),
			   aml_config_get(cfg, "final.ensemble_k"));
		return AML_EINVAL;
	}
	w = aml_config_get(cfg, "final.ensemble_weights");
	if (w == NULL) {
		aml_seterr(err, errlen, "configuration key 'final.ensemble_weights' is not set");
		return AML_ENOTFOUND;
	}
	if (strcmp(w, "rank") == 0) {
		o->weighting = AML_ENSEMBLE_RANK;
	} else if (strcmp(w, "equal") == 0) {
		o->weighting = AML_ENSEMBLE_EQUAL;
	} else {
		aml_seterr(err, errlen, "%s: 'final.ensemble_weights' must be rank or equal, got '%s'",
			   aml_config_source(cfg, "final.ensemble_weights"), w);
		return AML_EINVAL;
	}
	return AML_OK;
}

const char *
aml_ensemble_method_name(aml_ensemble_method m)
{
	switch (m) {
	case AML_ENSEMBLE_MEAN: return "weighted_mean";
	case AML_ENSEMBLE_MEAN_RENORM: return "weighted_mean_renormalised";
	case AML_ENSEMBLE_VOTE: return "weighted_vote";
	}
	return "unknown";
}

const char *
aml_ensemble_weighting_name(aml_ensemble_weighting w)
{
	return w == AML_ENSEMBLE_EQUAL ? "equal" : "rank";
}

/* The SHA-256 of a file's bytes; 0, or -1 when it cannot be read. */
static int
hash_file(const char *path, uint8_t out[AML_SHA256_LEN])
{
	char buf[65536];
	aml_sha256 c;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	aml_sha256_init(&c);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			return -1;
		}
		aml_sha256_update(&c, buf, (size_t)n);
	}
	close(fd);
	aml_sha256_final(&c, out);
	return 0;
}

/* Append one CSV field, quoted when it has to be. */
static void
put_field(aml_sb *b, const char *s)
{
	if (strpbrk(s, ",\"\r\n") == NULL) {
		aml_sb_puts(b, s);
		return;
	}
	aml_sb_puts(b, "\"");
	for (; *s; s++) {
		if (*s == '"')
			aml_sb_puts(b, "\"");
		aml_sb_add(b, s, 1);
	}
	aml_sb_puts(b, "\"");
}

/* The method the task's output kind calls for. */
static aml_ensemble_method
kind_method(const aml_task *v)
{
	switch (v->output) {
	case AML_OUT_LABEL: return AML_ENSEMBLE_VOTE;
	case AML_OUT_CLASS_PROBA: return AML_ENSEMBLE_MEAN_RENORM;
	case AML_OUT_PROBA:
	case AML_OUT_VALUE: break;
	}
	return AML_ENSEMBLE_MEAN;
}

/* How column c is combined: by the task's output kind; a numeric kind
 * whose cells are not all numbers (the submission check does not let
 * that happen today) is voted rather than averaged. */
static aml_ensemble_method
column_method(const aml_task *v, aml_submission *const *subs, const size_t *used,
	      size_t n_used, size_t c)
{
	size_t i, r;
	double x;

	if (kind_method(v) == AML_ENSEMBLE_VOTE)
		return AML_ENSEMBLE_VOTE;
	for (i = 0; i < n_used; i++)
		for (r = 0; r < aml_submission_rows(subs[used[i]]); r++)
			if (aml_csv_number(aml_submission_value(subs[used[i]], c, r), &x) != 0)
				return AML_ENSEMBLE_VOTE;
	return kind_method(v);
}

/* The weighted vote on column c, row r: the label with the largest total
 * share; among tied labels, the one of the best-ranked member.  Returns
 * that member's cell (borrowed). */
static const char *
vote(aml_submission *const *subs, const aml_ensemble_member *m, const size_t *used,
     size_t n_used, size_t c, size_t r, char (*keybuf)[64], const char **keys,
     double *totals)
{
	double top = -1;
	size_t i, j;

	for (i = 0; i < n_used; i++)
		keys[i] = aml_metric_label_key(aml_submission_value(subs[used[i]], c, r),
					       keybuf[i], sizeof keybuf[i]);
	for (i = 0; i < n_used; i++) {
		totals[i] = 0;
		for (j = 0; j < n_used; j++)
			if (strcmp(keys[i], keys[j]) == 0)
				totals[i] += m[used[j]].share;
		if (totals[i] > top)
			top = totals[i];
	}
	for (i = 0; i < n_used; i++)
		if (totals[i] >= top - TIE_EPS)
			break;
	return aml_submission_value(subs[used[i]], c, r);
}

/* Write the combined CSV into b: the sample's header, its id cells, each
 * prediction column by its method. */
static int
combine(const aml_task_info *t, aml_submission *const *subs, const aml_ensemble_member *m,
	const size_t *used, size_t n_used, const aml_ensemble_method *methods, aml_sb *b)
{
	const aml_task *v = aml_task_view(t);
	const aml_csv_table *sample = aml_task_sample(t);
	size_t k = v->n_submission_columns, c, r, i, sc;
	long *pred = calloc(sample->ncols ? sample->ncols : 1, sizeof *pred);
	double *vals = calloc(k ? k : 1, sizeof *vals), *totals = calloc(n_used, sizeof *totals);
	char (*keybuf)[64] = calloc(n_used, sizeof *keybuf);
	const char **keys = calloc(n_used, sizeof *keys);
	char num[64];
	int rc = AML_ENOMEM;

	if (pred == NULL || vals == NULL || totals == NULL || keybuf == NULL || keys == NULL)
		goto out;
	/* each sample column: its prediction column, or -1 for the id */
	for (sc = 0; sc < sample->ncols; sc++) {
		pred[sc] = -1;
		for (c = 0; c < k; c++)
			if (strcmp(sample->header[sc], v->submission_columns[c]) == 0)
				pred[sc] = (long)c;
		aml_sb_puts(b, sc ? "," : "");
		put_field(b, sample->header[sc]);
	}
	aml_sb_puts(b, "\n");
	for (r = 0; r < sample->nrows; r++) {
		double sum = 0;

		for (c = 0; c < k; c++) {
			double x, acc = 0;

			if (methods[c] == AML_ENSEMBLE_VOTE)
				continue;
			for (i = 0; i < n_used; i++)
				if (aml_csv_number(aml_submission_value(subs[used[i]], c, r), &x) == 0)
					acc += m[used[i]].share * x;
			vals[c] = acc;
			if (methods[c] == AML_ENSEMBLE_MEAN_RENORM)
				sum += acc;
		}
		for (c = 0; c < k && sum > 0; c++)
			if (methods[c] == AML_ENSEMBLE_MEAN_RENORM)
				vals[c] /= sum;
		for (sc = 0; sc < sample->ncols; sc++) {
			aml_sb_puts(b, sc ? "," : "");
			if (pred[sc] < 0) {
				put_field(b, sample->cols[sc][r]);
			} else if (methods[pred[sc]] == AML_ENSEMBLE_VOTE) {
				put_field(b, vote(subs, m, used, n_used, (size_t)pred[sc], r, keybuf,
						  keys, totals));
			} else {
				snprintf(num, sizeof num, "%.9g", vals[pred[sc]]);
				aml_sb_puts(b, num);
			}
		}
		aml_sb_puts(b, "\n");
	}
	rc = b->oom ? AML_ENOMEM : AML_OK;
out:
	free(pred);
	free(vals);
	free(totals);
	free(keybuf);
	free(keys);
	return rc;
}

/* A short name of member i for messages. */
static const char *
member_name(const aml_ensemble_member *m, char *buf, size_t len)
{
	if (m->node >= 0)
		snprintf(buf, len, "node %d", (int)m->node);
	else
		snprintf(buf, len, "%s", m->path);
	return buf;
}

int
aml_ensemble_build(const aml_task_info *t, aml_ensemble_member *members, size_t n,
		   const char *out_path, aml_ensemble_method *methods,
		   char *err, size_t errlen)
{
	const aml_task *v = aml_task_view(t);
	size_t k = v->n_submission_columns, i, j, n_used = 0;
	aml_submission **subs = calloc(n ? n : 1, sizeof *subs);
	uint8_t (*digest)[AML_SHA256_LEN] = calloc(n ? n : 1, sizeof *digest);
	size_t *used = calloc(n ? n : 1, sizeof *used);
	aml_ensemble_method *meth = calloc(k ? k : 1, sizeof *meth);
	aml_sb b = {0};
	double total = 0;
	char reason[AML_ERRLEN], name[64];
	int rc = AML_ENOMEM;

	unlink(out_path);
	for (i = 0; methods != NULL && i < k; i++)
		methods[i] = kind_method(v);
	if (subs == NULL || digest == NULL || used == NULL || meth == NULL) {
		aml_seterr(err, errlen, "out of memory while combining submissions");
		goto out;
	}
	for (i = 0; i < n; i++) {
		aml_ensemble_member *m = &members[i];

		m->used = 0;
		m->share = 0;
		m->reason[0] = '\0';
		if (!(m->weight > 0) || !isfinite(m->weight)) {
			snprintf(m->reason, sizeof m->reason, "its weight %g is not > 0", m->weight);
			continue;
		}
		if (m->path == NULL) {
			snprintf(m->reason, sizeof m->reason, "no submission file given");
			continue;
		}
		if (hash_file(m->path, digest[i]) != 0) {
			snprintf(m->reason, sizeof m->reason, "cannot read its submission %s: %s",
				 m->path, strerror(errno));
			continue;
		}
		for (j = 0; j < n_used; j++)
			if (memcmp(digest[used[j]], digest[i], AML_SHA256_LEN) == 0)
				break;
		if (j < n_used) {
			snprintf(m->reason, sizeof m->reason, "the same submission as %s",
				 member_name(&members[used[j]], name, sizeof name));
			continue;
		}
		rc = aml_submission_load(t, m->path, &subs[i], m->reason, sizeof m->reason);
		if (rc == AML_ENOMEM) {
			aml_seterr(err, errlen, "out of memory while loading %s", m->path);
			goto out;
		}
		if (rc != AML_OK)
			continue;
		m->reason[0] = '\0';
		used[n_used++] = i;
		total += m->weight;
	}
	if (n_used < 2) {
		for (i = 0; i < n && members[i].reason[0] == '\0'; i++)
			;
		aml_seterr(err, errlen,
			   "fewer than 2 submissions to combine (%zu of %zu dropped%s%s%s%s)",
			   n - n_used, n, i < n ? "; " : "",
			   i < n ? member_name(&members[i], name, sizeof name) : "",
			   i < n ? ": " : "", i < n ? members[i].reason : "");
		rc = AML_EINVAL;
		goto out;
	}
	for (i = 0; i < n_used; i++) {
		members[used[i]].used = 1;
		members[used[i]].share = members[used[i]].weight / total;
	}
	for (i = 0; i < k; i++)
		meth[i] = column_method(v, subs, used, n_used, i);
	if (methods != NULL)
		memcpy(methods, meth, k * sizeof *meth);
	rc = combine(t, subs, members, used, n_used, meth, &b);
	if (rc != AML_OK) {
		aml_seterr(err, errlen, "out of memory while combining submissions");
		goto out;
	}
	rc = aml_write_file(out_path, b.s, b.len, err, errlen);
	if (rc != AML_OK)
		goto out;
	rc = aml_submission_check(t, out_path, reason, sizeof reason);
	if (rc != AML_OK) {
		unlink(out_path);
		aml_seterr(err, errlen, "the ensemble failed the submission check: %s", reason);
		rc = rc == AML_ENOMEM ? rc : AML_EFORMAT;
	}
out:
	for (i = 0; rc != AML_OK && i < n; i++) {
		members[i].used = 0;
		members[i].share = 0;
	}
	for (i = 0; subs && i < n; i++)
		aml_submission_free(subs[i]);
	free(subs);
	free(digest);
	free(used);
	free(meth);
	aml_sb_free(&b);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The final choice of a run.                                          */

typedef struct ranked {
	double key;       /* smaller is better */
	uint32_t id;
} ranked;

static int
ranked_cmp(const void *a, const void *b)
{
	const ranked *x = a, *y = b;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

/* A node the graph could have chosen as its best. */
static int
eligible(const aml_graph *g, const aml_node *n)
{
	return n->status == AML_NODE_VALID && n->has_score && isfinite(n->score)
		&& !(g->flags_bar_best && n->flags && n->flags[0]);
}

static char *
node_submission(const char *run_dir, uint32_t id)
{
	aml_sb p = {0};

	aml_sb_printf(&p, "%s/nodes/%04u/submission/submission.csv", run_dir, (unsigned)id);
	return p.oom ? (aml_sb_free(&p), NULL) : aml_sb_take(&p);
}

static void
add_skip(json_object *skipped, uint32_t id, const char *fmt, ...) AML_PRINTF(3, 4);

static void
add_skip(json_object *skipped, uint32_t id, const char *fmt, ...)
{
	json_object *e = json_object_new_object();
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	json_object_object_add(e, "node", json_object_new_int((int)id));
	json_object_object_add(e, "reason", json_object_new_string(why));
	json_object_array_add(skipped, e);
}

/* Write run_dir/ensemble.json. */
static int
write_record(const aml_task_info *t, const char *run_dir, const aml_ensemble_opts *o,
	     const aml_ensemble_member *m, size_t n, json_object *skipped,
	     const aml_ensemble_method *methods, int used, const char *reason)
{
	const aml_task *v = aml_task_view(t);
	json_object *j = json_object_new_object(), *mem = json_object_new_array();
	json_object *cols = json_object_new_array();
	char err[AML_ERRLEN], *path = aml_path_join(run_dir, "ensemble.json");
	const char *text;
	size_t i;
	int rc;

	json_object_object_add(j, "used", json_object_new_boolean(used));
	json_object_object_add(j, "reason", used ? NULL : json_object_new_string(reason));
	json_object_object_add(j, "k", json_object_new_int64(o->k));
	json_object_object_add(j, "weights",
			       json_object_new_string(aml_ensemble_weighting_name(o->weighting)));
	json_object_object_add(j, "submission", used ? json_object_new_string("submission.csv")
			       : NULL);
	json_object_object_add(j, "best_node_submission", used
			       ? json_object_new_string("best_node_submission.csv") : NULL);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "node", json_object_new_int((int)m[i].node));
		json_object_object_add(e, "score", json_object_new_double(m[i].score));
		json_object_object_add(e, "weight", json_object_new_double(m[i].share));
		json_object_object_add(e, "used", json_object_new_boolean(m[i].used));
		if (m[i].reason[0])
			json_object_object_add(e, "reason", json_object_new_string(m[i].reason));
		json_object_array_add(mem, e);
	}
	json_object_object_add(j, "members", mem);
	json_object_object_add(j, "skipped", json_object_get(skipped));
	for (i = 0; methods && i < v->n_submission_columns; i++) {
		json_object *e = json_object_new_object();

		json_object_object_add(e, "name", json_object_new_string(v->submission_columns[i]));
		json_object_object_add(e, "method",
				       json_object_new_string(aml_ensemble_method_name(methods[i])));
		json_object_array_add(cols, e);
	}
	json_object_object_add(j, "columns", cols);
	text = json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY
					      | JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = path == NULL || text == NULL ? AML_ENOMEM
		: aml_write_file(path, text, strlen(text), err, sizeof err);
	json_object_put(j);
	free(path);
	return rc;
}

int
aml_ensemble_choose(const aml_task_info *t, const aml_graph *g, const char *run_dir,
		    const aml_ensemble_opts *o, char *desc, size_t desclen)
{
	const aml_task *v = aml_task_view(t);
	size_t n_elig = 0, n_pick = 0, cap, i, j, dropped = 0;
	ranked *order = NULL;
	aml_ensemble_member *m = NULL;
	char **paths = NULL, *tmp = NULL, *sub = NULL, *keep = NULL, *best_sub = NULL;
	uint8_t (*digest)[AML_SHA256_LEN] = NULL;
	aml_ensemble_method *methods = NULL;
	json_object *skipped = NULL;
	aml_sb list = {0};
	char err[AML_ERRLEN] = "";
	int rc = AML_ENOMEM, tried = 0;

	if (o->k < 2) {
		aml_seterr(desc, desclen, "final.ensemble_k is %ld: no ensemble", o->k);
		return AML_EINVAL;
	}
	if (g->best < 0) {
		aml_seterr(desc, desclen, "no valid node");
		return AML_ENOTFOUND;
	}
	cap = (size_t)o->k < g->n ? (size_t)o->k : g->n;
	order = calloc(g->n, sizeof *order);
	m = calloc(cap, sizeof *m);
	paths = calloc(cap, sizeof *paths);
	digest = calloc(cap, sizeof *digest);
	methods = calloc(v->n_submission_columns, sizeof *methods);
	skipped = json_object_new_array();
	tmp = aml_path_join(run_dir, "ensemble_submission.csv.tmp");
	sub = aml_path_join(run_dir, "submission.csv");
	keep = aml_path_join(run_dir, "best_node_submission.csv");
	if (!order || !m || !paths || !digest || !methods || !skipped || !tmp || !sub || !keep) {
		aml_seterr(desc, desclen, "out of memory");
		goto out;
	}
	tried = 1;
	/* the best node first, then by score (ties: the older node) */
	for (i = 0; i < g->n; i++) {
		const aml_node *n = g->nodes[i];

		if (!eligible(g, n) && (int32_t)i != g->best)
			continue;
		order[n_elig].id = (uint32_t)i;
		order[n_elig].key = (int32_t)i == g->best ? -HUGE_VAL
			: g->higher_is_better ? -n->score : n->score;
		n_elig++;
	}
	qsort(order, n_elig, sizeof *order, ranked_cmp);
	for (i = 0; i < n_elig && n_pick < cap; i++) {
		const aml_node *n = g->nodes[order[i].id];
		char *p = node_submission(run_dir, n->id);

		if (p == NULL) {
			aml_seterr(desc, desclen, "out of memory");
			goto out;
		}
		for (j = 0; j < n_pick; j++)
			if (n->code && g->nodes[m[j].node]->code
			    && strcmp(n->code, g->nodes[m[j].node]->code) == 0)
				break;
		if (j < n_pick) {
			add_skip(skipped, n->id, "the same code as node %d", (int)m[j].node);
			free(p);
			continue;
		}
		if (hash_file(p, digest[n_pick]) != 0) {
			add_skip(skipped, n->id, "cannot read %s: %s", p, strerror(errno));
			free(p);
			continue;
		}
		for (j = 0; j < n_pick; j++)
			if (memcmp(digest[j], digest[n_pick], AML_SHA256_LEN) == 0)
				break;
		if (j < n_pick) {
			add_skip(skipped, n->id, "the same submission as node %d", (int)m[j].node);
			free(p);
			continue;
		}
		paths[n_pick] = p;
		m[n_pick].node = (int32_t)n->id;
		m[n_pick].score = n->score;
		m[n_pick].path = p;
		n_pick++;
	}
	if (n_pick < 2) {
		aml_seterr(desc, desclen, "fewer than 2 eligible distinct valid nodes (%zu eligible, "
			   "%zu with the same code or submission as a better one)", n_elig,
			   json_object_array_length(skipped));
		rc = AML_EINVAL;
		goto out;
	}
	for (i = 0; i < n_pick; i++)
		m[i].weight = o->weighting == AML_ENSEMBLE_RANK ? (double)(n_pick - i) : 1.0;
	rc = aml_ensemble_build(t, m, n_pick, tmp, methods, err, sizeof err);
	if (rc != AML_OK) {
		aml_seterr(desc, desclen, "%s", err);
		goto out;
	}
	/* the best node's own submission, from its folder, then the swap */
	best_sub = node_submission(run_dir, (uint32_t)g->best);
	rc = best_sub ? aml_copy_file(best_sub, keep, err, sizeof err) : AML_ENOMEM;
	if (rc == AML_OK && rename(tmp, sub) != 0) {
		aml_seterr(err, sizeof err, "cannot rename %s to %s: %s", tmp, sub, strerror(errno));
		unlink(keep);
		rc = AML_EIO;
	}
	if (rc != AML_OK) {
		unlink(tmp);
		aml_seterr(desc, desclen, "%s", err);
		for (i = 0; i < n_pick; i++) {
			m[i].used = 0;
			m[i].share = 0;
		}
		goto out;
	}
	for (i = 0; i < n_pick; i++) {
		if (!m[i].used) {
			dropped++;
			continue;
		}
		aml_sb_printf(&list, "%s%d", list.len ? ", " : "", (int)m[i].node);
	}
	if (dropped)
		aml_seterr(desc, desclen, "ensemble of %zu of the top %zu valid nodes (%s; %s "
			   "weights; %zu dropped, see ensemble.json), validated against the sample",
			   n_pick - dropped, n_pick, list.s ? list.s : "",
			   aml_ensemble_weighting_name(o->weighting), dropped);
	else
		aml_seterr(desc, desclen, "ensemble of the top %zu valid nodes (%s; %s weights), "
			   "validated against the sample", n_pick, list.s ? list.s : "",
			   aml_ensemble_weighting_name(o->weighting));
	rc = list.oom ? AML_ENOMEM : AML_OK;
out:
	if (tried && write_record(t, run_dir, o, m, n_pick, skipped,
				  n_pick >= 2 ? methods : NULL, rc == AML_OK,
				  desc) != AML_OK && rc == AML_OK) {
		/* the ensemble is in place; only its record is missing */
		size_t len = strlen(desc);

		if (len + 1 < desclen)
			snprintf(desc + len, desclen - len, " (ensemble.json could not be written)");
	}
	for (i = 0; paths && i < cap; i++)
		free(paths[i]);
	free(paths);
	free(order);
	free(m);
	free(digest);
	free(methods);
	json_object_put(skipped);
	free(tmp);
	free(sub);
	free(keep);
	free(best_sub);
	aml_sb_free(&list);
	return rc;
}
