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
	int fatal;               /* a worker hit an error the run cannot survive */
	char fatal_err[512];
	size_t exec_failures;    /* the executor itself failed (not the script) */
	int cache_on;            /* exec.cache: reuse the results of identical code */
	aml_rescache cache;      /* code -> the finished node that ran it */
	size_t cache_hits;
	struct aml_journal *journal; /* borrowed, may be NULL: node events */
	double busy_seconds;     /* summed over workers: time spent expanding */
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

/* Money spent so far by the token counts and the price table (llm.h). */
double aml_search_cost(const aml_search *s);

#endif
