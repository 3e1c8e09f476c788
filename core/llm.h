/*
 * llm.h — the one door every LLM call of a run goes through: it picks the
 * provider of the request's role ("code", or "feedback" for reviews, which
 * falls back to the code provider), counts calls, failures, tokens and
 * money per role by the price table, and, when llm.record names a file,
 * appends every request and its answer (or its error) to that cassette so
 * the replay provider can answer the same run again without a model.
 *
 * Cassette format (JSON lines, one object per call, in completion order):
 *   {"v": 1, "role", "system", "user", "structured", "temperature",
 *    "max_tokens", "seed", "node_id",
 *    "answer": {"text", "model", "tokens_in", "tokens_out"}   on success
 *    "error": "one line", "rc": status                           on failure}
 * The request holds prompts only: API keys live in the provider plugins
 * and never reach a cassette.
 */
#ifndef AML_LLM_H
#define AML_LLM_H

#include <stdint.h>
#include <stdio.h>
#include <pthread.h>
#include <automlgen/plugin.h>

#include "conf.h"

struct aml_plugin;

enum { AML_ROLE_CODE, AML_ROLE_FEEDBACK, AML_N_ROLES };

/* Accounting of one role. */
typedef struct aml_llm_role_stats {
	uint64_t calls;
	uint64_t failures;
	uint64_t tokens_in;
	uint64_t tokens_out;
	double cost;             /* by the role's prices */
} aml_llm_role_stats;

typedef struct aml_llm {
	struct aml_plugin *provider[AML_N_ROLES]; /* borrowed; feedback may be NULL */
	double price_in[AML_N_ROLES];             /* money per million tokens */
	double price_out[AML_N_ROLES];
	FILE *cassette;                           /* owned; NULL: not recording */
	char *cassette_path;
	pthread_mutex_t lock;                     /* guards stats and cassette */
	aml_llm_role_stats stats[AML_N_ROLES];
	const volatile int *cancel;               /* borrowed, may be NULL: the
						   * run's stop flag (interrupt.h) */
} aml_llm;

/* Read the price table (pricing.*) and, when llm.record is set, open the
 * cassette for appending.  Providers are set by the caller afterwards. */
int aml_llm_init(aml_llm *l, const aml_config *cfg, char *err, size_t errlen);
void aml_llm_destroy(aml_llm *l);

/* Ask the provider of req->role (NULL or "code": code; "feedback": the
 * feedback provider, else the code one; anything else is AML_EINVAL).
 * Once l->cancel is set, AML_ECANCELED without a call; the provider sees
 * l->cancel as req->cancel (whatever the operator passed).
 * Fills resp on success; on failure resp holds nothing and err one line.
 * Thread-safe: providers are called outside the lock. */
int aml_llm_call(aml_llm *l, const aml_llm_request *req, aml_llm_response *resp,
		 char *err, size_t errlen);

/* Add what an earlier process of the same run spent (resume), so the
 * budgets and the summary count it. */
void aml_llm_add_prior(aml_llm *l, int role, const aml_llm_role_stats *prior);

/* The totals over both roles (a consistent snapshot). */
void aml_llm_totals(aml_llm *l, aml_llm_role_stats *out);
/* One role's figures (a consistent snapshot). */
void aml_llm_role(aml_llm *l, int role, aml_llm_role_stats *out);

#endif
