/*
 * progress.h — the live progress of a run, while its search goes on:
 * nodes finished of the budget, the best score and its node, workers
 * busy, elapsed and time left, tokens and money.
 *
 * On a terminal it is one status line below the log, redrawn in place
 * (log.h's aml_log_status keeps it clear of the log lines); elsewhere a
 * plain "progress: ..." info line every run.progress_every_s seconds,
 * which also lands in run.log.  run.progress picks: auto, line, plain,
 * off.  A quiet run (--quiet, or log.level below info) shows none.
 *
 * A thread reads the search's numbers under its lock, briefly, and
 * formats and prints them outside it; aml_progress_format() is the pure
 * part, so the line's shape is tested without a search.
 */
#ifndef AML_PROGRESS_H
#define AML_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "search.h"

typedef enum aml_progress_mode {
	AML_PROGRESS_AUTO,   /* line when stderr is a terminal, else plain */
	AML_PROGRESS_LINE,   /* a status line redrawn in place */
	AML_PROGRESS_PLAIN,  /* a log line every run.progress_every_s */
	AML_PROGRESS_OFF
} aml_progress_mode;

/* The numbers of one progress line, copied out of a search. */
typedef struct aml_progress_snapshot {
	long done;               /* nodes finished (not pending) */
	long max_nodes;          /* the node budget */
	const char *metric;      /* borrowed; the task's metric name */
	int has_best;
	int32_t best_node;
	double best_score;
	long busy;               /* expansions under way */
	long workers;
	double elapsed_s;
	double left_s;           /* of the time budget; < 0 reads as 0 */
	int has_tokens;          /* there is an LLM layer to count them */
	uint64_t tokens;         /* in + out, every role */
	int has_cost;            /* a price is configured or a money budget set */
	double cost;
	double max_cost;         /* 0: no money budget */
} aml_progress_snapshot;

typedef struct aml_progress aml_progress;

/* Read and check run.progress (auto, line, plain, off) and
 * run.progress_every_s (a number of seconds > 0).  A bad value is a
 * one-line error in err naming the key, its source and what it takes;
 * returns AML_OK or AML_EINVAL (AML_ENOTFOUND for an unset key). */
int aml_progress_config(const aml_config *cfg, aml_progress_mode *mode, double *every_s,
			char *err, size_t errlen);

/* Start showing the progress of s (borrowed: it must outlive the
 * aml_progress_stop() call), as cfg's run.progress says, on stderr.  With
 * quiet set, or run.progress off, nothing is shown and *out is NULL.
 * Returns AML_OK with *out transferred (NULL: nothing to show), or a
 * negative status with err set (bad run.progress keys, no thread); a
 * caller should treat a failure as a warning: the run goes on without. */
int aml_progress_start(aml_search *s, const aml_config *cfg, int quiet, aml_progress **out,
		       char *err, size_t errlen);

/* Stop at once (the thread is woken, not waited out), clear the status
 * line, log the final numbers as one "progress: ..." line, and free p.
 * NULL is a no-op. */
void aml_progress_stop(aml_progress *p);

/* The numbers of s now: takes s->lock briefly, and the LLM layer's. */
void aml_progress_read(aml_search *s, aml_progress_snapshot *snap);

/* Format snap as one line into buf (len bytes, always terminated):
 * "nodes 12/40 · best auc 0.8734 (node 7) · 3/4 busy · 1m12s, 8m48s left
 * · 12.3k tok".  With width > 0 the line takes at most width terminal
 * columns: the parts that do not fit are left off from the end, and a
 * first part wider than that is cut.  Returns the bytes written. */
size_t aml_progress_format(const aml_progress_snapshot *snap, int width, char *buf, size_t len);

/* A duration as "42s", "1m05s" or "2h07m" (whole seconds, rounded down;
 * negative reads as 0) into buf (len bytes).  Returns buf. */
char *aml_progress_duration(double seconds, char *buf, size_t len);

#endif
