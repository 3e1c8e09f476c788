/*
 * bench.c — see bench.h.  The runs go through aml_run() one after the
 * other (each run may use workers of its own); the bench only sets the
 * run's keys, times it, grades what it delivered and tabulates.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"
#include "grade.h"
#include "run.h"
#include "task.h"
#include "util.h"

#define BENCH_MAX_SEEDS 10000
#define BENCH_JSON_MAX (1u << 20)

/* ------------------------------------------------------------------ */
/* Thresholds, normalisation, medals.                                  */

/* The number at key of o into *out; 1 when there is one. */
static int
json_number(json_object *o, const char *key, double *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		return 0;
	*out = json_object_get_double(v);
	return 1;
}

int
aml_thresholds_load(const char *path, const char *metric, int higher_is_better,
		    aml_thresholds *th, char *err, size_t errlen)
{
	static const char *const cuts[] = {"bronze", "silver", "gold"};
	json_object *o, *v;
	char *text = NULL;
	int rc, i;

	memset(th, 0, sizeof *th);
	th->higher_is_better = higher_is_better;
	if (!aml_is_file(path)) {
		aml_seterr(err, errlen, "%s: no such file", path);
		return AML_ENOTFOUND;
	}
	rc = aml_read_file(path, BENCH_JSON_MAX, &text, NULL, err, errlen);
	if (rc != AML_OK)
		return rc;
	o = json_tokener_parse(text);
	free(text);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		aml_seterr(err, errlen, "%s: not a JSON object", path);
		return AML_EFORMAT;
	}
	rc = AML_EFORMAT;
	if (!json_number(o, "naive", &th->naive) || !json_number(o, "reference", &th->reference) ||
	    !isfinite(th->naive) || !isfinite(th->reference)) {
		aml_seterr(err, errlen, "%s: needs numbers 'naive' and 'reference'", path);
		goto out;
	}
	if (th->naive == th->reference) {
		aml_seterr(err, errlen, "%s: 'naive' and 'reference' are both %g: nothing to normalise by",
			   path, th->naive);
		goto out;
	}
	if (json_object_object_get_ex(o, "metric", &v) && metric != NULL &&
	    strcmp(json_object_get_string(v), metric) != 0) {
		aml_seterr(err, errlen, "%s is for metric '%s', but the task is scored with '%s'",
			   path, json_object_get_string(v), metric);
		goto out;
	}
	if (json_object_object_get_ex(o, "higher_is_better", &v)) {
		if (!json_object_is_type(v, json_type_boolean) ||
		    json_object_get_boolean(v) != (higher_is_better != 0)) {
			aml_seterr(err, errlen, "%s: higher_is_better must be %s for this task",
				   path, higher_is_better ? "true" : "false");
			goto out;
		}
	}
	for (i = 0; i < 3; i++) {
		double x;
		int has;

		if (!json_object_object_get_ex(o, cuts[i], &v))
			continue;
		has = json_number(o, cuts[i], &x) && isfinite(x);
		if (!has) {
			aml_seterr(err, errlen, "%s: '%s' must be a number", path, cuts[i]);
			goto out;
		}
		if (i == 0) {
			th->has_bronze = 1;
			th->bronze = x;
		} else if (i == 1) {
			th->has_silver = 1;
			th->silver = x;
		} else {
			th->has_gold = 1;
			th->gold = x;
		}
	}
	rc = AML_OK;
out:
	json_object_put(o);
	return rc;
}

double
aml_bench_normalize(const aml_thresholds *th, double score)
{
	return (score - th->naive) / (th->reference - th->naive);
}

/* 1 when score reaches cut-off c in th's direction. */
static int
reaches(const aml_thresholds *th, double score, double c)
{
	return th->higher_is_better ? score >= c : score <= c;
}

const char *
aml_bench_medal(const aml_thresholds *th, double score)
{
	if (!th->has_bronze && !th->has_silver && !th->has_gold)
		return NULL;
	if (th->has_gold && reaches(th, score, th->gold))
		return "gold";
	if (th->has_silver && reaches(th, score, th->silver))
		return "silver";
	if (th->has_bronze && reaches(th, score, th->bronze))
		return "bronze";
	return "none";
}

/* ------------------------------------------------------------------ */
/* Options and the suite.                                              */

static void
free_strv(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

/* Split the comma-separated policy list into b->policies (duplicates
 * dropped).  A name is [A-Za-z0-9_.-]+: it becomes part of folder names. */
static int
parse_policies(aml_bench *b, const char *list, char *err, size_t errlen)
{
	const char *p = list;
	size_t cap = 1, i;

	for (i = 0; list[i]; i++)
		cap += list[i] == ',';
	b->policies = calloc(cap, sizeof *b->policies);
	if (b->policies == NULL)
		return AML_ENOMEM;
	for (;;) {
		size_t n = strcspn(p, ","), k;
		char *name;

		while (n > 0 && (*p == ' ' || *p == '\t')) {
			p++;
			n--;
		}
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		if (n == 0) {
			aml_seterr(err, errlen, "--policies '%s' has an empty name", list);
			return AML_EINVAL;
		}
		for (k = 0; k < n; k++)
			if (!(p[k] == '_' || p[k] == '-' || p[k] == '.' ||
			      (p[k] >= 'a' && p[k] <= 'z') || (p[k] >= 'A' && p[k] <= 'Z') ||
			      (p[k] >= '0' && p[k] <= '9'))) {
				aml_seterr(err, errlen,
					   "--policies: '%.*s' is not a policy name (letters, digits, '_', '-', '.')",
					   (int)n, p);
				return AML_EINVAL;
			}
		name = strndup(p, n);
		if (name == NULL)
			return AML_ENOMEM;
		for (k = 0; k < b->n_policies; k++)
			if (strcmp(b->policies[k], name) == 0)
				break;
		if (k < b->n_policies)
			free(name);
		else
			b->policies[b->n_policies++] = name;
		p = strchr(p, ',');
		if (p == NULL)
			break;
		p++;
	}
	return AML_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* 1 when dir looks like a task folder. */
static int
is_task_dir(const char *dir)
{
	char *pub = aml_path_join(dir, "public");
	char *sample = aml_path_join(dir, "sample_submission.csv");
	int yes = (pub && aml_is_dir(pub)) || (sample && aml_is_file(sample));

	free(pub);
	free(sample);
	return yes;
}

/* The task folders of the suite, sorted, into b->tasks. */
static int
find_tasks(aml_bench *b, char *err, size_t errlen)
{
	DIR *d = opendir(b->suite_dir);
	struct dirent *de;
	size_t cap = 0;

	if (d == NULL) {
		aml_seterr(err, errlen, "cannot open the suite %s: %s", b->suite_dir, strerror(errno));
		return AML_ENOTFOUND;
	}
	while ((de = readdir(d)) != NULL) {
		char *path;

		if (de->d_name[0] == '.')
			continue;
		path = aml_path_join(b->suite_dir, de->d_name);
		if (path == NULL)
			goto oom;
		if (!aml_is_dir(path) || !is_task_dir(path)) {
			free(path);
			continue;
		}
		free(path);
		if (b->n_tasks == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nt = realloc(b->tasks, ncap * sizeof *nt);

			if (nt == NULL)
				goto oom;
			b->tasks = nt;
			cap = ncap;
		}
		if ((b->tasks[b->n_tasks] = strdup(de->d_name)) == NULL)
			goto oom;
		b->n_tasks++;
	}
	closedir(d);
	if (b->n_tasks == 0) {
		aml_seterr(err, errlen,
			   "no task folders in %s (a task folder holds public/ or sample_submission.csv)",
			   b->suite_dir);
		return AML_ENOTFOUND;
	}
	qsort(b->tasks, b->n_tasks, sizeof *b->tasks, cmp_str);
	return AML_OK;
oom:
	closedir(d);
	return AML_ENOMEM;
}

/* Make the bench folder: a new one, or an existing empty one. */
static int
make_out_dir(aml_bench *b, const char *want, char *err, size_t errlen)
{
	char stamp[64];
	struct tm tm;
	time_t now = time(NULL);
	DIR *d;
	int rc;

	gmtime_r(&now, &tm);
	strftime(b->started, sizeof b->started, "%Y-%m-%dT%H:%M:%SZ", &tm);
	strftime(stamp, sizeof stamp, "bench-%Y%m%dT%H%M%SZ", &tm);
	if (want == NULL || want[0] == '\0')
		want = stamp;
	if ((d = opendir(want)) != NULL) {
		struct dirent *de;
		int empty = 1;

		while ((de = readdir(d)) != NULL)
			if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
				empty = 0;
		closedir(d);
		if (!empty) {
			aml_seterr(err, errlen, "the bench folder %s is not empty; pick another --out",
				   want);
			return AML_EINVAL;
		}
	}
	rc = aml_mkdirs(want, err, errlen);
	if (rc != AML_OK)
		return rc == AML_ENOMEM ? rc : AML_EIO;
	b->out_dir = aml_path_abs(want);
	if (b->out_dir == NULL) {
		aml_seterr(err, errlen, "cannot resolve %s", want);
		return AML_EIO;
	}
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* One run.                                                            */

/* Replace *dst with a copy of s (s may be NULL). */
static void
set_text(char **dst, const char *s)
{
	free(*dst);
	*dst = s ? strdup(s) : NULL;
}

/* tokens_in and tokens_out from the run's summary.json, when there is one. */
static void
read_tokens(aml_bench_row *r)
{
	char *path = aml_path_join(r->run_dir, "summary.json"), *text = NULL;
	json_object *o = NULL, *llm;
	double x;

	if (path != NULL && aml_is_file(path) &&
	    aml_read_file(path, 64u << 20, &text, NULL, NULL, 0) == AML_OK)
		o = json_tokener_parse(text);
	if (o != NULL && json_object_object_get_ex(o, "llm", &llm)) {
		if (json_number(llm, "tokens_in", &x) && x >= 0)
			r->tokens_in = (uint64_t)x;
		if (json_number(llm, "tokens_out", &x) && x >= 0)
			r->tokens_out = (uint64_t)x;
	}
	json_object_put(o);
	free(text);
	free(path);
}

/* Grade the run's submission.csv into r. */
static void
grade_row(aml_bench_row *r, const aml_task_info *t, const aml_thresholds *th,
	  int th_ok)
{
	char err[AML_ERRLEN] = "", msg[AML_ERRLEN + 64];
	char *sub = aml_path_join(r->run_dir, "submission.csv");
	aml_grade_result g;
	int rc;

	if (sub == NULL) {
		set_text(&r->error, "out of memory");
		return;
	}
	memset(&g, 0, sizeof g);
	rc = aml_grade(t, sub, &g, err, sizeof err);
	free(sub);
	if (rc != AML_OK) {
		/* The run validated it against the sample; the task just has no
		 * usable answers to grade with. */
		r->valid = 1;
		snprintf(msg, sizeof msg, "not graded: %s", err);
		set_text(&r->note, msg);
		return;
	}
	if (!g.valid) {
		snprintf(msg, sizeof msg, "submission graded invalid: %s", g.reason);
		set_text(&r->error, msg);
		return;
	}
	r->valid = 1;
	r->has_test = 1;
	r->test_score = g.score;
	if (th_ok) {
		r->has_norm = 1;
		r->normalized = aml_bench_normalize(th, g.score);
		r->medal = aml_bench_medal(th, g.score);
	}
}

/* Set the run's keys in cfg. */
static int
set_run_keys(aml_config *cfg, const aml_bench *b, const aml_bench_row *r,
	     char *err, size_t errlen)
{
	char seed[32], *runs = aml_path_join(b->out_dir, "runs"), *name = NULL;
	int rc;

	snprintf(seed, sizeof seed, "%ld", r->seed);
	if (runs == NULL || asprintf(&name, "%s-%s-s%ld", r->task, r->policy, r->seed) < 0) {
		free(runs);
		return AML_ENOMEM;
	}
	if ((rc = aml_config_set(cfg, "search.policy", r->policy, "bench", err, errlen)) == AML_OK &&
	    (rc = aml_config_set(cfg, "run.seed", seed, "bench", err, errlen)) == AML_OK &&
	    (rc = aml_config_set(cfg, "run.dir", runs, "bench", err, errlen)) == AML_OK)
		rc = aml_config_set(cfg, "run.name", name, "bench", err, errlen);
	free(runs);
	free(name);
	return rc;
}

/* Run r's task with r's policy and seed; fill in the rest of r. */
static void
run_one(aml_config *cfg, const aml_bench *b, aml_bench_row *r, const aml_task_info *t,
	const aml_thresholds *th, int th_ok)
{
	char err[AML_ERRLEN] = "", msg[AML_ERRLEN + 64];
	char *task_dir = aml_path_join(b->suite_dir, r->task);
	aml_run_result res;
	double t0;
	int rc;

	if (task_dir == NULL) {
		set_text(&r->error, "out of memory");
		return;
	}
	rc = set_run_keys(cfg, b, r, err, sizeof err);
	if (rc != AML_OK) {
		set_text(&r->error, err[0] ? err : aml_strerror(rc));
		free(task_dir);
		return;
	}
	t0 = aml_now();
	rc = aml_run(cfg, task_dir, &res, err, sizeof err);
	r->seconds = aml_now() - t0;
	free(task_dir);
	r->nodes = res.nodes;
	if (res.run_dir != NULL) {
		r->started = 1;
		r->run_dir = res.run_dir;
		res.run_dir = NULL;
		read_tokens(r);
	}
	if (rc != AML_OK) {
		set_text(&r->error, err[0] ? err : aml_strerror(rc));
	} else if (!res.has_best) {
		snprintf(msg, sizeof msg, "no valid submission: none of %zu nodes was valid", res.nodes);
		set_text(&r->error, msg);
	} else {
		r->has_val = 1;
		r->val_score = res.best_score;
		grade_row(r, t, th, th_ok);
	}
	aml_run_result_free(&res);
}

/* One progress line for a finished run. */
static void
progress(FILE *f, const aml_bench_row *r, size_t i, size_t n)
{
	if (f == NULL)
		return;
	fprintf(f, "bench [%zu/%zu] %s %s seed %ld: ", i + 1, n, r->task, r->policy, r->seed);
	if (!r->valid)
		fprintf(f, "invalid: %s", r->error ? r->error : "?");
	else if (r->has_test)
		fprintf(f, "valid, test %s %.6g", r->metric ? r->metric : "score", r->test_score);
	else
		fprintf(f, "valid");
	if (r->has_norm)
		fprintf(f, " (normalized %.3f%s%s)", r->normalized, r->medal ? ", " : "",
			r->medal ? r->medal : "");
	fprintf(f, "; %zu nodes, %.1f s\n", r->nodes, r->seconds);
	fflush(f);
}

int
aml_bench_run(aml_config *cfg, const aml_bench_opts *o, aml_bench **out,
	      char *err, size_t errlen)
{
	aml_bench *b;
	size_t ti, pi, k = 0;
	double t0 = aml_now();
	long s;
	int rc;

	*out = NULL;
	if (o->seeds < 1 || o->seeds > BENCH_MAX_SEEDS) {
		aml_seterr(err, errlen, "--seeds must be from 1 to %d, got %ld", BENCH_MAX_SEEDS,
			   o->seeds);
		return AML_EINVAL;
	}
	if (o->suite_dir == NULL || !aml_is_dir(o->suite_dir)) {
		aml_seterr(err, errlen, "the suite %s is not a folder",
			   o->suite_dir ? o->suite_dir : "(none)");
		return AML_ENOTFOUND;
	}
	b = calloc(1, sizeof *b);
	if (b == NULL)
		return AML_ENOMEM;
	b->seeds = o->seeds;
	b->suite_dir = aml_path_abs(o->suite_dir);
	if (b->suite_dir == NULL) {
		rc = AML_ENOMEM;
		goto fail;
	}
	if ((rc = parse_policies(b, o->policies ? o->policies : AML_BENCH_DEFAULT_POLICIES,
				 err, errlen)) != AML_OK ||
	    (rc = find_tasks(b, err, errlen)) != AML_OK ||
	    (rc = make_out_dir(b, o->out_dir, err, errlen)) != AML_OK)
		goto fail;
	b->n_rows = b->n_tasks * b->n_policies * (size_t)b->seeds;
	b->rows = calloc(b->n_rows, sizeof *b->rows);
	if (b->rows == NULL) {
		rc = AML_ENOMEM;
		goto fail;
	}

	for (ti = 0; ti < b->n_tasks; ti++) {
		char terr[AML_ERRLEN] = "", therr[AML_ERRLEN] = "", msg[AML_ERRLEN + 64];
		char *dir = aml_path_join(b->suite_dir, b->tasks[ti]);
		char *thpath = dir ? aml_path_join(dir, "thresholds.json") : NULL;
		aml_task_info *t = NULL;
		aml_thresholds th;
		int th_rc = AML_ENOTFOUND;

		memset(&th, 0, sizeof th);
		rc = dir && thpath ? aml_task_load(dir, &t, terr, sizeof terr) : AML_ENOMEM;
		if (rc == AML_OK) {
			const aml_task *v = aml_task_view(t);

			th_rc = aml_thresholds_load(thpath, v->metric, v->higher_is_better, &th,
						    therr, sizeof therr);
		}
		for (pi = 0; pi < b->n_policies; pi++) {
			for (s = 0; s < b->seeds; s++, k++) {
				aml_bench_row *r = &b->rows[k];

				r->task = strdup(b->tasks[ti]);
				r->policy = strdup(b->policies[pi]);
				r->seed = s;
				if (r->task == NULL || r->policy == NULL) {
					rc = AML_ENOMEM;
					aml_task_free(t);
					free(dir);
					free(thpath);
					goto fail;
				}
				if (t == NULL) {
					snprintf(msg, sizeof msg, "cannot load the task: %s",
						 terr[0] ? terr : aml_strerror(rc));
					set_text(&r->error, msg);
					progress(o->progress, r, k, b->n_rows);
					continue;
				}
				r->metric = strdup(aml_task_view(t)->metric);
				r->thresholded = th_rc == AML_OK;
				if (th_rc != AML_OK && th_rc != AML_ENOTFOUND) {
					snprintf(msg, sizeof msg, "thresholds.json ignored: %s", therr);
					set_text(&r->note, msg);
				}
				run_one(cfg, b, r, t, &th, th_rc == AML_OK);
				/* an invalid run of a task with cut-offs wins no medal */
				if (!r->valid && th_rc == AML_OK &&
				    (th.has_bronze || th.has_silver || th.has_gold))
					r->medal = "none";
				progress(o->progress, r, k, b->n_rows);
			}
		}
		aml_task_free(t);
		free(dir);
		free(thpath);
	}
	b->seconds = aml_now() - t0;
	if ((rc = aml_bench_aggregate(b)) != AML_OK)
		goto fail;
	*out = b;
	return AML_OK;
fail:
	if (rc == AML_ENOMEM && (err == NULL || errlen == 0 || err[0] == '\0'))
		aml_seterr(err, errlen, "out of memory");
	aml_bench_free(b);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Aggregates.                                                         */

static double
ratio(double num, size_t den)
{
	return den > 0 ? num / (double)den : NAN;
}

int
aml_bench_aggregate(aml_bench *b)
{
	size_t p, i;

	free(b->aggs);
	b->aggs = calloc(b->n_policies ? b->n_policies : 1, sizeof *b->aggs);
	if (b->aggs == NULL)
		return AML_ENOMEM;
	for (p = 0; p < b->n_policies; p++) {
		aml_bench_agg *a = &b->aggs[p];
		double norm = 0, nodes = 0, secs = 0, tokens = 0;

		a->policy = b->policies[p];
		for (i = 0; i < b->n_rows; i++) {
			const aml_bench_row *r = &b->rows[i];

			if (r->policy == NULL || strcmp(r->policy, a->policy) != 0)
				continue;
			a->runs++;
			a->valid += r->valid != 0;
			if (r->thresholded) {
				a->scored++;
				if (r->valid && r->has_norm)
					norm += r->normalized;
			}
			if (r->medal != NULL) {
				a->medal_runs++;
				a->gold += strcmp(r->medal, "gold") == 0;
				a->silver += strcmp(r->medal, "silver") == 0;
				a->bronze += strcmp(r->medal, "bronze") == 0;
			}
			if (r->started) {
				a->started++;
				nodes += (double)r->nodes;
				secs += r->seconds;
				tokens += (double)(r->tokens_in + r->tokens_out);
			}
		}
		a->medals = a->gold + a->silver + a->bronze;
		a->valid_rate = ratio((double)a->valid, a->runs);
		a->mean_normalized = ratio(norm, a->scored);
		a->medal_rate = ratio((double)a->medals, a->medal_runs);
		a->mean_nodes = ratio(nodes, a->started);
		a->mean_seconds = ratio(secs, a->started);
		a->mean_tokens = ratio(tokens, a->started);
	}
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Outputs.                                                            */

/* A Markdown table cell: '|' escaped, line breaks as spaces. */
static void
md_cell(aml_sb *sb, const char *s)
{
	aml_sb_puts(sb, " ");
	for (; s && *s; s++) {
		if (*s == '|')
			aml_sb_puts(sb, "\\|");
		else if (*s == '\n' || *s == '\r')
			aml_sb_puts(sb, " ");
		else
			aml_sb_add(sb, s, 1);
	}
	aml_sb_puts(sb, " |");
}

/* A number cell: prec significant digits (general) or decimals (fixed). */
static void
md_num(aml_sb *sb, int general, int prec, int has, double v)
{
	char buf[64];

	if (has && isfinite(v) && general)
		snprintf(buf, sizeof buf, "%.*g", prec, v);
	else if (has && isfinite(v))
		/* no "-0.000" for a value that rounds to zero */
		snprintf(buf, sizeof buf, "%.*f", prec,
			 fabs(v) < 0.5 * pow(10, -prec) ? 0.0 : v);
	else
		snprintf(buf, sizeof buf, "-");
	md_cell(sb, buf);
}

static void
md_rate(aml_sb *sb, double v)
{
	char buf[32];

	if (isfinite(v))
		snprintf(buf, sizeof buf, "%.0f%%", 100 * v);
	else
		snprintf(buf, sizeof buf, "-");
	md_cell(sb, buf);
}

char *
aml_bench_markdown(const aml_bench *b)
{
	aml_sb sb = {0};
	size_t i;

	aml_sb_printf(&sb, "# automlgen bench\n\n"
		      "Suite `%s`: %zu task%s x %zu polic%s x %ld seed%s = %zu runs, "
		      "started %s, %.1f s.  Outputs in `%s`.\n\n",
		      b->suite_dir, b->n_tasks, b->n_tasks == 1 ? "" : "s", b->n_policies,
		      b->n_policies == 1 ? "y" : "ies", b->seeds, b->seeds == 1 ? "" : "s",
		      b->n_rows, b->started, b->seconds, b->out_dir);
	aml_sb_puts(&sb, "## Runs\n\n"
		    "| task | policy | seed | valid | metric | validation | test | normalized | medal "
		    "| nodes | seconds | tokens | error |\n"
		    "|---|---|---:|---|---|---:|---:|---:|---|---:|---:|---:|---|\n");
	for (i = 0; i < b->n_rows; i++) {
		const aml_bench_row *r = &b->rows[i];
		char buf[64];

		aml_sb_puts(&sb, "|");
		md_cell(&sb, r->task);
		md_cell(&sb, r->policy);
		snprintf(buf, sizeof buf, "%ld", r->seed);
		md_cell(&sb, buf);
		md_cell(&sb, r->valid ? "yes" : "no");
		md_cell(&sb, r->metric ? r->metric : "-");
		md_num(&sb, 1, 6, r->has_val, r->val_score);
		md_num(&sb, 1, 6, r->has_test, r->test_score);
		md_num(&sb, 0, 3, r->has_norm, r->normalized);
		md_cell(&sb, r->medal ? r->medal : "-");
		snprintf(buf, sizeof buf, "%zu", r->nodes);
		md_cell(&sb, buf);
		md_num(&sb, 0, 1, 1, r->seconds);
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)(r->tokens_in + r->tokens_out));
		md_cell(&sb, buf);
		if (r->error && r->note) {
			aml_sb s2 = {0};

			aml_sb_printf(&s2, "%s; %s", r->error, r->note);
			md_cell(&sb, s2.s);
			aml_sb_free(&s2);
		} else {
			md_cell(&sb, r->error ? r->error : r->note ? r->note : "");
		}
		aml_sb_puts(&sb, "\n");
	}
	aml_sb_puts(&sb, "\n## Per policy\n\n"
		    "| policy | runs | valid | valid rate | mean normalized | medal rate "
		    "| gold | silver | bronze | mean nodes | mean seconds | mean tokens |\n"
		    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	for (i = 0; i < b->n_policies; i++) {
		const aml_bench_agg *a = &b->aggs[i];
		char buf[64];

		aml_sb_puts(&sb, "|");
		md_cell(&sb, a->policy);
		snprintf(buf, sizeof buf, "%zu", a->runs);
		md_cell(&sb, buf);
		snprintf(buf, sizeof buf, "%zu", a->valid);
		md_cell(&sb, buf);
		md_rate(&sb, a->valid_rate);
		md_num(&sb, 0, 3, 1, a->mean_normalized);
		md_rate(&sb, a->medal_rate);
		snprintf(buf, sizeof buf, "%zu", a->gold);
		md_cell(&sb, buf);
		snprintf(buf, sizeof buf, "%zu", a->silver);
		md_cell(&sb, buf);
		snprintf(buf, sizeof buf, "%zu", a->bronze);
		md_cell(&sb, buf);
		md_num(&sb, 0, 1, 1, a->mean_nodes);
		md_num(&sb, 0, 1, 1, a->mean_seconds);
		md_num(&sb, 0, 0, 1, a->mean_tokens);
		aml_sb_puts(&sb, "\n");
	}
	aml_sb_puts(&sb, "\nnormalized = (test - naive) / (reference - naive) from the task's "
		    "thresholds.json (0 = naive baseline, 1 = reference); the mean counts an "
		    "invalid run as 0.  Medal rate: runs with a medal among the runs of tasks "
		    "with medal cut-offs.  Means of nodes, seconds and tokens are over the runs "
		    "that started.\n");
	return aml_sb_take(&sb);
}

/* A CSV field, quoted when it must be (RFC 4180). */
static void
csv_field(aml_sb *sb, const char *s, int last)
{
	if (s != NULL && s[strcspn(s, ",\"\r\n")] != '\0') {
		aml_sb_puts(sb, "\"");
		for (; *s; s++) {
			if (*s == '"')
				aml_sb_puts(sb, "\"");
			aml_sb_add(sb, s, 1);
		}
		aml_sb_puts(sb, "\"");
	} else if (s != NULL) {
		aml_sb_puts(sb, s);
	}
	aml_sb_puts(sb, last ? "\n" : ",");
}

static void
csv_num(aml_sb *sb, int has, double v)
{
	char buf[64];

	if (has && isfinite(v)) {
		snprintf(buf, sizeof buf, "%.10g", v);
		csv_field(sb, buf, 0);
	} else {
		csv_field(sb, NULL, 0);
	}
}

static char *
bench_csv(const aml_bench *b)
{
	aml_sb sb = {0};
	size_t i;

	aml_sb_puts(&sb, "task,policy,seed,valid,validation_score,test_score,metric,normalized,"
		    "medal,nodes,seconds,tokens_in,tokens_out,run_dir,error,note\n");
	for (i = 0; i < b->n_rows; i++) {
		const aml_bench_row *r = &b->rows[i];
		char buf[64];

		csv_field(&sb, r->task, 0);
		csv_field(&sb, r->policy, 0);
		snprintf(buf, sizeof buf, "%ld", r->seed);
		csv_field(&sb, buf, 0);
		csv_field(&sb, r->valid ? "1" : "0", 0);
		csv_num(&sb, r->has_val, r->val_score);
		csv_num(&sb, r->has_test, r->test_score);
		csv_field(&sb, r->metric, 0);
		csv_num(&sb, r->has_norm, r->normalized);
		csv_field(&sb, r->medal, 0);
		snprintf(buf, sizeof buf, "%zu", r->nodes);
		csv_field(&sb, buf, 0);
		csv_num(&sb, 1, r->seconds);
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)r->tokens_in);
		csv_field(&sb, buf, 0);
		snprintf(buf, sizeof buf, "%llu", (unsigned long long)r->tokens_out);
		csv_field(&sb, buf, 0);
		csv_field(&sb, r->run_dir, 0);
		csv_field(&sb, r->error, 0);
		csv_field(&sb, r->note, 1);
	}
	return aml_sb_take(&sb);
}

/* json-c values; NULL (JSON null) for what does not apply. */
static json_object *
jnum(int has, double v)
{
	return has && isfinite(v) ? json_object_new_double(v) : NULL;
}

static json_object *
jstr(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *
jstrv(char *const *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]));
	return a;
}

static char *
bench_json(const aml_bench *b)
{
	json_object *o = json_object_new_object(), *runs = json_object_new_array();
	json_object *aggs = json_object_new_array();
	const char *text;
	char *copy = NULL;
	size_t i;

	if (o == NULL || runs == NULL || aggs == NULL) {
		json_object_put(o);
		json_object_put(runs);
		json_object_put(aggs);
		return NULL;
	}
	json_object_object_add(o, "suite", jstr(b->suite_dir));
	json_object_object_add(o, "out", jstr(b->out_dir));
	json_object_object_add(o, "started", jstr(b->started));
	json_object_object_add(o, "seconds", json_object_new_double(b->seconds));
	json_object_object_add(o, "seeds", json_object_new_int64(b->seeds));
	json_object_object_add(o, "policies", jstrv(b->policies, b->n_policies));
	json_object_object_add(o, "tasks", jstrv(b->tasks, b->n_tasks));
	json_object_object_add(o, "normalization",
			       jstr("(test_score - naive) / (reference - naive), from TASK/thresholds.json"));
	for (i = 0; i < b->n_rows; i++) {
		const aml_bench_row *r = &b->rows[i];
		json_object *j = json_object_new_object();

		if (j == NULL)
			continue;
		json_object_object_add(j, "task", jstr(r->task));
		json_object_object_add(j, "policy", jstr(r->policy));
		json_object_object_add(j, "seed", json_object_new_int64(r->seed));
		json_object_object_add(j, "valid", json_object_new_boolean(r->valid));
		json_object_object_add(j, "validation_score", jnum(r->has_val, r->val_score));
		json_object_object_add(j, "test_score", jnum(r->has_test, r->test_score));
		json_object_object_add(j, "metric", jstr(r->metric));
		json_object_object_add(j, "normalized", jnum(r->has_norm, r->normalized));
		json_object_object_add(j, "medal", jstr(r->medal));
		json_object_object_add(j, "nodes", json_object_new_int64((int64_t)r->nodes));
		json_object_object_add(j, "seconds", json_object_new_double(r->seconds));
		json_object_object_add(j, "tokens_in", json_object_new_int64((int64_t)r->tokens_in));
		json_object_object_add(j, "tokens_out", json_object_new_int64((int64_t)r->tokens_out));
		json_object_object_add(j, "run_dir", jstr(r->run_dir));
		json_object_object_add(j, "error", jstr(r->error));
		json_object_object_add(j, "note", jstr(r->note));
		json_object_array_add(runs, j);
	}
	json_object_object_add(o, "runs", runs);
	for (i = 0; i < b->n_policies; i++) {
		const aml_bench_agg *a = &b->aggs[i];
		json_object *j = json_object_new_object();

		if (j == NULL)
			continue;
		json_object_object_add(j, "policy", jstr(a->policy));
		json_object_object_add(j, "runs", json_object_new_int64((int64_t)a->runs));
		json_object_object_add(j, "valid", json_object_new_int64((int64_t)a->valid));
		json_object_object_add(j, "valid_rate", jnum(1, a->valid_rate));
		json_object_object_add(j, "scored_runs", json_object_new_int64((int64_t)a->scored));
		json_object_object_add(j, "mean_normalized", jnum(1, a->mean_normalized));
		json_object_object_add(j, "medal_runs", json_object_new_int64((int64_t)a->medal_runs));
		json_object_object_add(j, "medals", json_object_new_int64((int64_t)a->medals));
		json_object_object_add(j, "gold", json_object_new_int64((int64_t)a->gold));
		json_object_object_add(j, "silver", json_object_new_int64((int64_t)a->silver));
		json_object_object_add(j, "bronze", json_object_new_int64((int64_t)a->bronze));
		json_object_object_add(j, "medal_rate", jnum(1, a->medal_rate));
		json_object_object_add(j, "started_runs", json_object_new_int64((int64_t)a->started));
		json_object_object_add(j, "mean_nodes", jnum(1, a->mean_nodes));
		json_object_object_add(j, "mean_seconds", jnum(1, a->mean_seconds));
		json_object_object_add(j, "mean_tokens", jnum(1, a->mean_tokens));
		json_object_array_add(aggs, j);
	}
	json_object_object_add(o, "by_policy", aggs);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
					      JSON_C_TO_STRING_NOSLASHESCAPE);
	if (text != NULL && asprintf(&copy, "%s\n", text) < 0)
		copy = NULL;
	json_object_put(o);
	return copy;
}

/* Write text (transferred) as b->out_dir/name. */
static int
write_out(const aml_bench *b, const char *name, char *text, char *err, size_t errlen)
{
	char *path;
	int rc;

	if (text == NULL) {
		aml_seterr(err, errlen, "out of memory writing %s", name);
		return AML_ENOMEM;
	}
	path = aml_path_join(b->out_dir, name);
	rc = path ? aml_write_file(path, text, strlen(text), err, errlen) : AML_ENOMEM;
	free(path);
	free(text);
	return rc;
}

int
aml_bench_write(const aml_bench *b, char *err, size_t errlen)
{
	int rc;

	if ((rc = write_out(b, "bench.csv", bench_csv(b), err, errlen)) != AML_OK ||
	    (rc = write_out(b, "bench.json", bench_json(b), err, errlen)) != AML_OK)
		return rc;
	return write_out(b, "bench.md", aml_bench_markdown(b), err, errlen);
}

void
aml_bench_free(aml_bench *b)
{
	size_t i;

	if (b == NULL)
		return;
	for (i = 0; b->rows != NULL && i < b->n_rows; i++) {
		aml_bench_row *r = &b->rows[i];

		free(r->task);
		free(r->policy);
		free(r->metric);
		free(r->run_dir);
		free(r->error);
		free(r->note);
	}
	free(b->rows);
	free(b->aggs);
	free_strv(b->policies, b->n_policies);
	free_strv(b->tasks, b->n_tasks);
	free(b->suite_dir);
	free(b->out_dir);
	free(b);
}
