/*
 * search.h — the search over candidate solutions: W worker threads, each
 * looping select -> operator -> provider -> script -> executor ->
 * evaluation -> integrate, over one shared solution graph.
 *
 * Selection and integration (core/mcgs.c) and every graph change happen
 * under the search's lock; operators, providers and executors run outside
 * it, so the LLM calls and script runs of different workers overlap.  A
 * worker commits its finished node in one step under the lock, so other
 * workers only ever see pending or finished nodes.
 *
 * Policies: mcgs, mcts, greedy (core/mcgs.c) and drafts (num_drafts
 * independent drafts, keep the best).  Budgets: nodes, wall clock, tokens,
 * money; the first one hit stops new expansions, those under way finish,
 * and the result is the best valid node so far.
 */
#ifndef AML_SEARCH_H
#define AML_SEARCH_H

#include <pthread.h>

#include "conf.h"
#include "graph.h"
#include "rescache.h"
#include "host.h"
#include "loader.h"
#include "mcgs.h"
#include "review.h"
#include "rundir.h"
#include "task.h"

typedef struct aml_search_op {
	char *name;          /* operator slot name: "draft" */
	aml_plugin *plugin;
} aml_search_op;

typedef struct aml_search {
	/* borrowed */
	const aml_config *cfg;
	aml_context *ctx;
	const aml_task_info *task;
	const aml_rundir *rd;
	aml_plugin *executor;
	aml_search_op *ops;
	size_t n_ops;

	/* owned */
	aml_graph graph;
	aml_review_opts review;
	aml_mcgs *mcgs;          /* NULL for the drafts policy */
	aml_mcgs_params params;
	int drafts_only;
	long num_drafts;
	pthread_mutex_t lock;
	pthread_cond_t changed;  /* a node finished */
	long workers;
	long in_flight;          /* expansions under way */
	double t0;
	double time_limit_s;
	long max_nodes;
	double max_tokens;       /* 0: no limit */
	double max_cost;         /* 0: no limit */
	double exec_timeout_s;
	size_t output_cap;
	uint64_t seed;
	char stop_reason[256];   /* why the search stopped, "" while running */
	int stop_nodes;          /* ... because of the node budget */
	int fatal;               /* a worker hit an error the run cannot survive */
	char fatal_err[512];
	size_t exec_failures;    /* the executor itself failed (not the script) */
	int cache_on;            /* exec.cache: reuse the results of identical code */
	aml_rescache cache;      /* code -> the finished node that ran it */
	size_t cache_hits;
	struct aml_journal *journal; /* borrowed, may be NULL: node events */
	double busy_seconds;     /* summed over workers: time spent expanding */
	const volatile int *cancel; /* borrowed, may be NULL: the run's stop flag
				     * (interrupt.h); set before aml_search_run */
	const char *task_dir;    /* borrowed, may be NULL: for the journal */
	int interrupted;         /* the stop flag stopped the search */
	size_t n_interrupted;    /* nodes cut short, left pending for resume */
	size_t n_finished;       /* nodes with a result (not pending) */

	/* resume (aml_search_replay_*) */
	int resumed;
	aml_mcgs_decision *decided;  /* per node id while replaying */
	size_t cap_decided;
	uint32_t *rerun;             /* pending nodes to run again, in id order */
	size_t n_rerun, next_rerun;
} aml_search;

/* Prepare a search; reads the search./exec./run./pricing. keys of cfg. */
int aml_search_init(aml_search *s, const aml_config *cfg, aml_context *ctx,
		    const aml_task_info *task, const aml_rundir *rd,
		    aml_plugin *executor, aml_search_op *ops, size_t n_ops,
		    char *err, size_t errlen);
void aml_search_destroy(aml_search *s);

/* The operator slots a policy needs (NULL-terminated, static), or NULL
 * for an unknown policy. */
const char *const *aml_search_policy_ops(const char *policy);

/* Run the configured policy to its end with search.workers threads. */
int aml_search_run(aml_search *s, char *err, size_t errlen);

/* Resume: rebuild the graph and the policy's state from a journal
 * (restore.c reads it), before aml_search_run.  Events are replayed in
 * the journal's order, which is the order they happened under the lock.
 *
 * replay_created: the node made for decision d (names interned with
 * aml_mcgs_name); it gets the next id, which must be id.  created_at is
 * its time.  replay_finished: node id finished as rec says; rec's
 * strings (code, plan, reason, output, flags, review) are moved out,
 * its figures copied; the node is integrated as a worker would.
 * replay_done: the earlier processes spent elapsed seconds (the time
 * budget goes on from there); nodes still pending are run again first
 * (their scripts reused when they were written); salt reseeds the
 * policy's random stream. */
int aml_search_replay_created(aml_search *s, const aml_mcgs_decision *d, uint32_t id,
			      double created_at, char *err, size_t errlen);
int aml_search_replay_finished(aml_search *s, uint32_t id, aml_node *rec,
			       char *err, size_t errlen);
int aml_search_replay_done(aml_search *s, double elapsed, uint64_t salt,
			   char *err, size_t errlen);

/* Money spent so far by the token counts and the price table (llm.h). */
double aml_search_cost(const aml_search *s);

#endif
