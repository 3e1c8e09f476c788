/*
 * bench.h — `automlgen bench`: run a suite of tasks under several search
 * policies and seeds, grade every final submission, and report.
 *
 * A suite is a folder of task folders (MLE-bench's prepared layout, with
 * private/answers.csv); every sub-folder holding public/ or a
 * sample_submission.csv is a task, taken in name order.  Each task runs
 * once per policy and seed through aml_run() with the given configuration
 * plus, for seed i and policy P:
 *
 *   run.seed=i  search.policy=P  run.dir=<out>/runs  run.name=<task>-<P>-s<i>
 *
 * (set with source "bench", over --config and -o).  Its final submission
 * is graded with aml_grade().  A run that fails (an unknown policy, a
 * task that does not load, a search error) is an invalid run with its
 * error line; the bench goes on.
 *
 * Normalisation.  A task may hold TASK_DIR/thresholds.json:
 *   {"metric": "accuracy", "higher_is_better": true, "naive": 0.33,
 *    "reference": 0.95, "bronze": 0.80, "silver": 0.89, "gold": 0.95}
 * naive and reference are required (finite, different); metric and
 * higher_is_better, when present, must agree with the task; each medal
 * cut-off is optional (scripts/make-thresholds.py writes them all).
 *   normalized = (score - naive) / (reference - naive)
 * is 0 at the naive baseline and 1 at the reference in both directions
 * (for a lower-is-better metric reference < naive, and the sign works out);
 * above 1 beats the reference, below 0 is worse than naive.  The medal is
 * the best cut-off the score reaches (>= for higher-is-better, <= for
 * lower-is-better): "gold", "silver", "bronze", else "none".
 *
 * Aggregates, per policy:
 *   valid_rate       valid final submissions / runs
 *   mean_normalized  over the runs of tasks with thresholds; an invalid run
 *                    counts 0 (no better than the naive baseline)
 *   medal_rate       runs with a medal / runs of tasks with medal cut-offs
 *                    (an invalid run has none)
 *   mean nodes, seconds, tokens   over the runs that started (made a run
 *                    directory); tokens are summary.json's llm tokens_in +
 *                    tokens_out
 *
 * Outputs, in the bench folder (--out, default bench-<UTC timestamp>/,
 * which must be new or empty):
 *   bench.csv   one row per run: task, policy, seed, valid,
 *               validation_score, test_score, metric, normalized, medal,
 *               nodes, seconds, tokens_in, tokens_out, run_dir, error, note
 *               (empty cells for what does not apply)
 *   bench.json  {"suite", "out", "started", "seconds", "seeds", "policies",
 *               "tasks", "runs": [per run, as the CSV, null for empty],
 *               "by_policy": [aggregates]}
 *   bench.md    the runs table and the per-policy table, in Markdown
 *   runs/       the run directories
 *
 * Ownership: everything an aml_bench holds is owned by it (aml_bench_free).
 */
#ifndef AML_BENCH_H
#define AML_BENCH_H

#include <stdint.h>
#include <stdio.h>

#include "conf.h"

#define AML_BENCH_DEFAULT_POLICIES "mcgs,mcts,greedy"

/* One task's thresholds.json. */
typedef struct aml_thresholds {
	int higher_is_better;       /* 1 maximise, 0 minimise */
	double naive;               /* a trivial baseline's test score */
	double reference;           /* a tuned reference pipeline's test score */
	int has_bronze, has_silver, has_gold;
	double bronze, silver, gold;
} aml_thresholds;

/* Read path into *th.  The task's metric and direction are the truth the
 * file must agree with (metric may be NULL: not checked).  Returns AML_OK;
 * AML_ENOTFOUND when there is no such file; AML_EFORMAT with one line in
 * err for a file that does not parse, lacks naive or reference, or
 * disagrees with the task. */
int aml_thresholds_load(const char *path, const char *metric, int higher_is_better,
			aml_thresholds *th, char *err, size_t errlen);

/* (score - naive) / (reference - naive); see the file comment. */
double aml_bench_normalize(const aml_thresholds *th, double score);

/* The best medal score reaches: "gold", "silver", "bronze" or "none"
 * (static strings); NULL when th has no cut-off at all. */
const char *aml_bench_medal(const aml_thresholds *th, double score);

/* One run of the bench.  Strings are owned by the row. */
typedef struct aml_bench_row {
	char *task;
	char *policy;
	long seed;
	char *metric;               /* the task's metric; NULL when it did not load */
	int started;                /* aml_run made a run directory */
	int valid;                  /* the final submission graded valid */
	int has_val, has_test, has_norm;
	double val_score;           /* best validation score of the run */
	double test_score;          /* graded against private/answers.csv */
	double normalized;
	int thresholded;            /* the task has usable thresholds */
	const char *medal;          /* static; NULL when the task has no cut-offs */
	size_t nodes;
	double seconds;             /* wall clock of aml_run() */
	uint64_t tokens_in, tokens_out;
	char *run_dir;              /* NULL when the run did not start */
	char *error;                /* why the run is invalid; NULL when valid */
	char *note;                 /* anything else worth a look, or NULL */
} aml_bench_row;

/* Aggregates of one policy (see the file comment); NAN when undefined. */
typedef struct aml_bench_agg {
	const char *policy;         /* borrowed from the bench */
	size_t runs, valid, started;
	size_t scored;              /* runs of tasks with thresholds */
	size_t medal_runs;          /* runs of tasks with medal cut-offs */
	size_t medals, gold, silver, bronze;
	double valid_rate, mean_normalized, medal_rate;
	double mean_nodes, mean_seconds, mean_tokens;
} aml_bench_agg;

typedef struct aml_bench {
	char *suite_dir;            /* absolute */
	char *out_dir;              /* absolute */
	char started[32];           /* UTC, ISO 8601 */
	double seconds;
	long seeds;
	char **policies;
	size_t n_policies;
	char **tasks;
	size_t n_tasks;
	aml_bench_row *rows;        /* n_tasks * n_policies * seeds, task-major */
	size_t n_rows;
	aml_bench_agg *aggs;        /* one per policy */
} aml_bench;

typedef struct aml_bench_opts {
	const char *suite_dir;
	const char *policies;       /* comma-separated; NULL: the default */
	long seeds;                 /* runs per task and policy, >= 1 */
	const char *out_dir;        /* NULL: bench-<UTC timestamp> in the cwd */
	FILE *progress;             /* a line per finished run, or NULL */
} aml_bench_opts;

/* Run the bench described by o with configuration cfg (which the bench
 * changes: the four keys above, left at the last run's values).  *out is
 * transferred (aml_bench_free), with the rows and the aggregates.
 * Returns AML_OK when every run was tried (whatever their results);
 * AML_EINVAL for bad options (err says which), AML_ENOTFOUND for a suite
 * without tasks, AML_EIO when the bench folder cannot be made. */
int aml_bench_run(aml_config *cfg, const aml_bench_opts *o, aml_bench **out,
		  char *err, size_t errlen);

/* Recompute b->aggs from b->rows (aml_bench_run does it already). */
int aml_bench_aggregate(aml_bench *b);

/* bench.md's text (transferred; NULL on oom). */
char *aml_bench_markdown(const aml_bench *b);

/* Write bench.md, bench.csv and bench.json into b->out_dir. */
int aml_bench_write(const aml_bench *b, char *err, size_t errlen);

void aml_bench_free(aml_bench *b);

/* The sub-command: `automlgen bench SUITE_DIR [--policies P,...]
 * [--seeds N] [--out DIR] [--config FILE] [-o key=value]... [--json]`.
 * argv starts at "bench".  Prints bench.md (bench.json with --json) on
 * stdout and one progress line per run on stderr.  Exit status: 0 the
 * bench ran and wrote its outputs (whatever the runs' results), 1 the
 * outputs could not be written, 2 bad usage, options or suite. */
int aml_cmd_bench(int argc, char **argv);

#endif
