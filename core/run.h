/*
 * run.h — one whole run: task -> plugins -> knowledge base -> run
 * directory -> search -> best submission and summary.
 */
#ifndef AML_RUN_H
#define AML_RUN_H

#include "conf.h"

typedef struct aml_run_result {
	char *run_dir;           /* transferred; NULL when no directory was made */
	int has_best;
	double best_score;
	int best_node;
	size_t nodes;
	size_t valid;
	int interrupted;         /* stopped by SIGINT/SIGTERM (interrupt.h) */
	size_t pending;          /* nodes cut short: a resume runs them again */
} aml_run_result;

/* Run the search on the task in task_dir with configuration cfg.
 * Returns AML_OK when the run finished (with or without a valid
 * submission: see res->has_best), a negative status with err set when it
 * could not start or had to stop. */
int aml_run(const aml_config *cfg, const char *task_dir, aml_run_result *res,
	    char *err, size_t errlen);
/* Go on with the run in run_dir (`automlgen resume`): its journal names
 * the task; the graph and the search state are rebuilt from the journal
 * and the search continues with the budgets cfg gives, minus what was
 * spent.  cfg is the run's config.yaml with the caller's overrides over
 * it.  Returns as aml_run. */
int aml_resume(const aml_config *cfg, const char *run_dir, aml_run_result *res,
	       char *err, size_t errlen);
void aml_run_result_free(aml_run_result *res);

#endif
