/*
 * cmd_runs.c — `automlgen runs [DIR]`: one line per run directory under
 * DIR (default: the configured run.dir), oldest first.  A run with a
 * summary.json is finished; one with only run.log or config.yaml is still
 * going, or stopped before writing its summary (the two look alike from
 * outside), and is shown from its log and its nodes/ folder.  Entries
 * that cannot be read are listed with a note, never fatal.
 *
 * Exit status: 0 listed (possibly nothing); 2 bad usage, or DIR cannot be
 * read.
 */
#include "config.h"

#include <dirent.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "cli.h"
#include "cli_args.h"
#include "util.h"

#define RUNS_MAX_SUMMARY ((size_t)64 << 20)

enum { COL_STARTED, COL_NAME, COL_TASK, COL_STATUS, COL_BEST, COL_NODES, COL_SECONDS,
       COL_POLICY, COL_NOTE, N_COLS };

static const char *const col_title[N_COLS] = {
	"STARTED", "NAME", "TASK", "STATUS", "BEST", "NODES", "SECONDS", "POLICY", "NOTE"
};

typedef struct run_row {
	char col[N_COLS][160];
	double t;  /* when it started, for the order */
} run_row;

static void
runs_usage(FILE *f)
{
	fputs("usage: automlgen runs [DIR] [--config FILE] [-o key=value]...\n"
	      "  One line per run directory in DIR (default: run.dir), oldest first:\n"
	      "  when it started, name, task, status (finished; interrupted: stopped by\n"
	      "  Ctrl-C, 'automlgen resume' goes on; running-or-interrupted when there\n"
	      "  is no summary.json newer than the journal: running, or killed), best\n"
	      "  score with the metric, nodes,\n"
	      "  seconds and search policy.  Entries that cannot be read get a note.\n", f);
}

static void
setcol(run_row *r, int c, const char *fmt, ...) AML_PRINTF(3, 4);

static void
setcol(run_row *r, int c, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	vsnprintf(r->col[c], sizeof r->col[c], fmt, ap);
	va_end(ap);
	/* one line per run, whatever a file held */
	for (p = r->col[c]; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
}

static int
mtime_of(const char *dir, const char *name, double *t)
{
	char *p = aml_path_join(dir, name);
	struct stat st;
	int ok = p && stat(p, &st) == 0;

	if (ok)
		*t = (double)st.st_mtime;
	free(p);
	return ok;
}

/* The value of "key: value  # source" in a config.yaml a run wrote. */
static int
config_value(const char *dir, const char *key, char *buf, size_t len)
{
	char *p = aml_path_join(dir, "config.yaml"), line[1024];
	size_t kl = strlen(key);
	FILE *f = p ? fopen(p, "r") : NULL;
	int found = 0;

	free(p);
	if (f == NULL)
		return 0;
	while (!found && fgets(line, sizeof line, f)) {
		char *v, *c;

		if (strncmp(line, key, kl) != 0 || line[kl] != ':')
			continue;
		v = line + kl + 1;
		c = strstr(v, "  #");
		if (c)
			*c = '\0';
		v = aml_trim(v);
		if (v[0] == '"' && strlen(v) >= 2 && v[strlen(v) - 1] == '"') {
			v[strlen(v) - 1] = '\0';
			v++;
		}
		snprintf(buf, len, "%s", v);
		found = 1;
	}
	fclose(f);
	return found;
}

/* From run.log: the task ("run DIR: task NAME, ...") and the last
 * "METRIC = SCORE  new best". */
static void
from_log(const char *dir, run_row *r)
{
	char *p = aml_path_join(dir, "run.log"), line[2048];
	FILE *f = p ? fopen(p, "r") : NULL;

	free(p);
	if (f == NULL)
		return;
	while (fgets(line, sizeof line, f)) {
		char *s;

		if (r->col[COL_TASK][0] == '\0' && (s = strstr(line, ": task ")) != NULL) {
			char *e = strchr(s + 7, ',');

			if (e)
				*e = '\0';
			setcol(r, COL_TASK, "%s", aml_trim(s + 7));
		} else if (strstr(line, "new best") && (s = strrchr(line, ':')) != NULL) {
			/* "node 3 (draft, parent -1): accuracy = 0.95  new best" */
			char *e = strstr(s, "new best"), *eq;

			*e = '\0';
			s = aml_trim(s + 1);
			eq = strstr(s, " = ");
			if (eq) {
				*eq = '\0';
				setcol(r, COL_BEST, "%s %s (so far)", s, eq + 3);
			} else {
				setcol(r, COL_BEST, "%s (so far)", s);
			}
		}
	}
	fclose(f);
}

static size_t
count_nodes(const char *dir)
{
	char *p = aml_path_join(dir, "nodes");
	DIR *d = p ? opendir(p) : NULL;
	struct dirent *de;
	size_t n = 0;

	free(p);
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] >= '0' && de->d_name[0] <= '9')
			n++;
	closedir(d);
	return n;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static int
jnum(json_object *o, const char *key, double *d)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v)
	    && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))) {
		*d = json_object_get_double(v);
		return 1;
	}
	return 0;
}

/* Fill r from summary.json; returns 0, or -1 with a note when it cannot
 * be read as a run summary. */
static int
from_summary(const char *path, run_row *r)
{
	char err[AML_ERRLEN] = "", *text = NULL;
	enum json_tokener_error jerr = json_tokener_success;
	json_object *o, *nodes, *search;
	double d;

	if (aml_read_file(path, RUNS_MAX_SUMMARY, &text, NULL, err, sizeof err) != AML_OK) {
		setcol(r, COL_NOTE, "%s", err);
		return -1;
	}
	o = json_tokener_parse_verbose(text, &jerr);
	free(text);
	if (o == NULL || !json_object_is_type(o, json_type_object)) {
		setcol(r, COL_NOTE, "summary.json is not a run summary (%s)",
		       o ? "not a JSON object" : json_tokener_error_desc(jerr));
		json_object_put(o);
		return -1;
	}
	if (jstr(o, "task"))
		setcol(r, COL_TASK, "%s", jstr(o, "task"));
	if (jstr(o, "stop_reason") && strncmp(jstr(o, "stop_reason"), "interrupted", 11) == 0)
		setcol(r, COL_STATUS, "interrupted");
	if (jnum(o, "best_score", &d))
		setcol(r, COL_BEST, "%s %.6g", jstr(o, "metric") ? jstr(o, "metric") : "score", d);
	else
		setcol(r, COL_BEST, "none");
	if (jnum(o, "nodes_total", &d))
		setcol(r, COL_NODES, "%.0f", d);
	else if (json_object_object_get_ex(o, "nodes", &nodes) && json_object_is_type(nodes, json_type_array))
		setcol(r, COL_NODES, "%zu", json_object_array_length(nodes));
	if (jnum(o, "seconds", &d))
		setcol(r, COL_SECONDS, "%.1f", d);
	if (json_object_object_get_ex(o, "search", &search) && jstr(search, "policy"))
		setcol(r, COL_POLICY, "%s", jstr(search, "policy"));
	json_object_put(o);
	return 0;
}

/* Describe dir/name into r; 0 when it is no run at all (skipped). */
static int
describe(const char *parent, const char *name, run_row *r)
{
	char *dir = aml_path_join(parent, name), *sum = NULL;
	double t_cfg = 0, t_log = 0, t_dir = 0, t_sum = 0, t_jnl = 0, t;
	int has_sum, has_log, has_cfg;
	struct tm tm;
	time_t tt;

	memset(r, 0, sizeof *r);
	if (dir == NULL || !aml_is_dir(dir)) {
		free(dir);
		return 0;
	}
	sum = aml_path_join(dir, "summary.json");
	has_sum = sum && aml_is_file(sum);
	has_cfg = mtime_of(dir, "config.yaml", &t_cfg);
	has_log = mtime_of(dir, "run.log", &t_log);
	if (!has_sum && !has_cfg && !has_log) {
		free(sum);
		free(dir);
		return 0;
	}
	mtime_of(dir, ".", &t_dir);
	setcol(r, COL_NAME, "%s", name);
	/* a summary older than the journal's last event: a resume is
	 * running, or was killed, after the summary was written */
	if (has_sum && mtime_of(dir, "summary.json", &t_sum) && mtime_of(dir, "journal.jsonl", &t_jnl)
	    && t_jnl > t_sum + 1)
		has_sum = 0;
	if (has_sum) {
		setcol(r, COL_STATUS, "finished");
		if (from_summary(sum, r) != 0) {
			setcol(r, COL_STATUS, "malformed");
			from_log(dir, r);
		}
	} else {
		setcol(r, COL_STATUS, "running-or-interrupted");
		from_log(dir, r);
		setcol(r, COL_NODES, "%zu", count_nodes(dir));
		if (has_cfg && has_log && t_log >= t_cfg)
			setcol(r, COL_SECONDS, "%.0f+", t_log - t_cfg);
	}
	if (r->col[COL_POLICY][0] == '\0')
		config_value(dir, "search.policy", r->col[COL_POLICY], sizeof r->col[COL_POLICY]);
	/* config.yaml is written when the run starts */
	t = has_cfg ? t_cfg : has_log ? t_log : t_dir;
	r->t = t;
	tt = (time_t)t;
	if (localtime_r(&tt, &tm) != NULL)
		strftime(r->col[COL_STARTED], sizeof r->col[COL_STARTED], "%Y-%m-%d %H:%M", &tm);
	free(sum);
	free(dir);
	return 1;
}

static int
cmp_rows(const void *a, const void *b)
{
	const run_row *x = a, *y = b;

	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return strcmp(x->col[COL_NAME], y->col[COL_NAME]);
}

static void
print_rows(const run_row *rows, size_t n)
{
	size_t w[N_COLS], i;
	int c, last = COL_POLICY;

	for (c = 0; c < N_COLS; c++)
		w[c] = strlen(col_title[c]);
	for (i = 0; i < n; i++)
		for (c = 0; c < N_COLS; c++) {
			size_t l = strlen(rows[i].col[c]) ? strlen(rows[i].col[c]) : 1;

			if (l > w[c])
				w[c] = l;
			if (c == COL_NOTE && rows[i].col[c][0])
				last = COL_NOTE;
		}
	for (c = 0; c <= last; c++)
		printf("%-*s%s", c == last ? 0 : (int)w[c], col_title[c], c == last ? "\n" : "  ");
	for (i = 0; i < n; i++)
		for (c = 0; c <= last; c++) {
			const char *v = rows[i].col[c][0] || c == COL_NOTE ? rows[i].col[c] : "-";

			printf("%-*s%s", c == last ? 0 : (int)w[c], v, c == last ? "\n" : "  ");
		}
}

int
aml_cmd_runs(int argc, char **argv)
{
	aml_cli_args a;
	const char *dir;
	run_row *rows = NULL;
	size_t n = 0, cap = 0, notes = 0;
	struct dirent *de;
	DIR *d;
	int i, status = 0;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			runs_usage(stdout);
			return 0;
		}
	if (aml_cli_parse(argc, argv, &a) != 0)
		return 2;
	if (a.n_pos > 1 || a.json) {
		runs_usage(stderr);
		aml_cli_free(&a);
		return 2;
	}
	dir = a.n_pos ? a.pos[0] : aml_config_get(a.cfg, "run.dir");
	if (dir == NULL || dir[0] == '\0')
		dir = "runs";
	d = opendir(dir);
	if (d == NULL) {
		fprintf(stderr, "automlgen runs: cannot read %s: %s\n", dir,
			aml_is_dir(dir) ? "permission denied" : "no such directory");
		aml_cli_free(&a);
		return 2;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			run_row *t = realloc(rows, ncap * sizeof *t);

			if (t == NULL) {
				fprintf(stderr, "automlgen runs: out of memory\n");
				status = 1;
				break;
			}
			rows = t;
			cap = ncap;
		}
		if (describe(dir, de->d_name, &rows[n])) {
			notes += rows[n].col[COL_NOTE][0] != '\0';
			n++;
		}
	}
	closedir(d);
	if (status == 0) {
		if (n == 0) {
			printf("no runs in %s\n", dir);
		} else {
			qsort(rows, n, sizeof *rows, cmp_rows);
			print_rows(rows, n);
		}
		if (notes)
			fprintf(stderr, "automlgen runs: %zu run director%s could not be read: "
				"see NOTE\n", notes, notes == 1 ? "y" : "ies");
	}
	free(rows);
	aml_cli_free(&a);
	if (fflush(stdout) != 0)
		status = 1;
	return status;
}
