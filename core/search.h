/*
 * search.h — the search over candidate solutions.
 *
 * aml_search_expand() is the one step every policy is built from:
 * operator -> provider -> script -> executor -> evaluation -> graph.
 * A policy decides which node to expand with which operator, and when to
 * stop.  The first policy, "drafts", writes search.num_drafts independent
 * drafts and keeps the best valid one; Monte Carlo Graph Search replaces it
 * as the default without changing the step.
 */
#ifndef AML_SEARCH_H
#define AML_SEARCH_H

#include <pthread.h>

#include "conf.h"
#include "graph.h"
#include "host.h"
#include "loader.h"
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
	pthread_mutex_t lock;
	double t0;
	double time_limit_s;
	long max_nodes;
	double exec_timeout_s;
	size_t output_cap;
	uint64_t seed;
	char stop_reason[256];   /* why the search stopped, "" while running */
	size_t exec_failures;    /* executor itself failed (not the script) */
} aml_search;

/* Prepare a search; reads the search./exec./run. keys of cfg. */
int aml_search_init(aml_search *s, const aml_config *cfg, aml_context *ctx,
		    const aml_task_info *task, const aml_rundir *rd,
		    aml_plugin *executor, aml_search_op *ops, size_t n_ops,
		    char *err, size_t errlen);
void aml_search_destroy(aml_search *s);

/* The operator slots a policy needs (NULL-terminated, static). */
const char *const *aml_search_policy_ops(const char *policy);

/* Expand parent (-1: the root) with operator op in mode; the new node is
 * in the graph whatever happened (failed with its reason, or evaluated).
 * Returns AML_OK, or a negative status when the run cannot go on. */
int aml_search_expand(aml_search *s, int32_t parent, const char *op,
		      const char *mode, aml_node **out);

/* 1 (and stop_reason set) when a budget is spent. */
int aml_search_budget_spent(aml_search *s);

/* Run the configured policy to its end. */
int aml_search_run(aml_search *s, char *err, size_t errlen);

#endif
