/*
 * host.h — the core side of the plugin boundary: the aml_host table every
 * plugin receives, and the per-run context its functions serve from.
 *
 * Data flows one way: the run fills an aml_context (config, task, KB,
 * provider); plugins read it through the host table and never see the
 * core's structures.
 */
#ifndef AML_HOST_H
#define AML_HOST_H

#include <pthread.h>
#include <automlgen/plugin.h>

#include "conf.h"
#include "llm.h"
#include "loader.h"

struct aml_kb;

typedef struct aml_context {
	const aml_config *cfg;       /* borrowed */
	const aml_task *task;        /* borrowed; NULL outside a run */
	const struct aml_kb *kb;     /* borrowed; NULL when the KB is off */
	aml_llm *llm;                /* borrowed; the providers, NULL: none */
} aml_context;

/* Zero a context. */
void aml_context_init(aml_context *ctx, const aml_config *cfg);

/* The host function table (static, valid forever). */
const aml_host *aml_host_table(void);

/* Resolve a plugin parameter as host->param() does, then the manifest
 * default.  In the kind's own slot ("provider") config
 * "<section>.<name>.<key>" wins over "<slot>.<key>"
 * ("provider.openai.model" over "provider.model"); in another slot
 * ("feedback") the slot's key wins ("feedback.model" over
 * "provider.openai.model").  NULL for undeclared parameters.  Borrowed. */
const char *aml_host_param(const aml_plugin *p, const aml_config *cfg, const char *key);

/* Refuse config keys aimed at this plugin that it does not declare,
 * naming the key and the declared parameters. */
int aml_host_check_params(const aml_plugin *p, const aml_config *cfg,
			  char *err, size_t errlen);

#endif
