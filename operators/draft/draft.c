/*
 * draft.c — the draft operator: a new solution from the task alone.
 *
 * It shows the provider the task, its description, the knowledge-base
 * entries retrieved for it, the workspace contract and short summaries of
 * the drafts already written (so a new draft differs from them), and takes
 * the script from the answer.  Prompts are text files in prompts/ that a
 * user edits without recompiling.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <automlgen/plugin.h>
#include "opkit.h"

typedef struct draft_state {
	const aml_host *host;
	aml_plugin *self;
	char *system;      /* prompts/system.txt */
	char *user;        /* prompts/draft.txt */
	long kb_per_level;
	double temperature;
} draft_state;

static int
draft_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	draft_state *st = calloc(1, sizeof *st);
	const char *v;
	char *end;
	int rc;

	if (st == NULL)
		return AML_ENOMEM;
	st->host = host;
	st->self = self;
	v = host->param(self, "kb_per_level");
	st->kb_per_level = v ? strtol(v, &end, 10) : 2;
	if (v && (*end != '\0' || st->kb_per_level < 0 || st->kb_per_level > 32)) {
		snprintf(err, errlen, "draft: kb_per_level must be 0..32, got '%s'", v);
		free(st);
		return AML_EINVAL;
	}
	v = host->param(self, "temperature");
	st->temperature = v ? strtod(v, &end) : -1;
	if (v && *end != '\0') {
		snprintf(err, errlen, "draft: temperature must be a number, got '%s'", v);
		free(st);
		return AML_EINVAL;
	}
	rc = opkit_load_prompt(host, self, "system.txt", &st->system, err, errlen);
	if (rc == AML_OK)
		rc = opkit_load_prompt(host, self, "draft.txt", &st->user, err, errlen);
	if (rc != AML_OK) {
		free(st->system);
		free(st);
		return rc;
	}
	*state = st;
	return AML_OK;
}

static void
draft_fini(void *state)
{
	draft_state *st = state;

	if (st == NULL)
		return;
	free(st->system);
	free(st->user);
	free(st);
}

static int
draft_run(void *state, const aml_op_request *req, aml_op_result *res,
	  char *err, size_t errlen)
{
	draft_state *st = state;
	const aml_host *h = st->host;
	char *task = opkit_task_text(req->task);
	char *contract = opkit_contract_text(req);
	char *ids = NULL;
	char *kb = opkit_kb_text(h, st->self, req->task->description,
				 (size_t)st->kb_per_level, &ids);
	char *sibs = opkit_nodes_text(req->siblings, req->n_siblings, 300);
	char *user = NULL, *structured = NULL, *code = NULL, *plan = NULL;
	char seq[32];
	aml_llm_request lr;
	aml_llm_response lresp;
	int rc;

	memset(&lresp, 0, sizeof lresp);
	snprintf(seq, sizeof seq, "%u", req->seq + 1);
	if (task == NULL || contract == NULL || kb == NULL || sibs == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	{
		const opkit_var vars[] = {
			{"task", task},
			{"description", req->task->description},
			{"knowledge", kb},
			{"siblings", sibs},
			{"contract", contract},
			{"draft_number", seq},
		};

		rc = opkit_render(st->user, vars, sizeof vars / sizeof vars[0], &user, err, errlen);
		if (rc != AML_OK)
			goto out;
	}
	structured = opkit_structured("draft", req, ids);
	if (structured == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	memset(&lr, 0, sizeof lr);
	lr.role = "code";
	lr.system = st->system;
	lr.user = user;
	lr.structured = structured;
	lr.temperature = st->temperature;
	lr.node_id = req->node_id;
	lr.seed = req->seed;
	rc = h->llm_complete(st->self, &lr, &lresp, err, errlen);
	res->tokens_in = lresp.tokens_in;
	res->tokens_out = lresp.tokens_out;
	if (rc != AML_OK)
		goto out;
	rc = opkit_extract_code(lresp.text, &code, &plan, err, errlen);
	if (rc != AML_OK) {
		res->raw_answer = h->mem_strdup(lresp.text);
		goto out;
	}
	res->code = h->mem_strdup(code);
	res->plan = h->mem_strdup(plan);
	if (res->code == NULL || res->plan == NULL) {
		h->mem_free(res->code);
		h->mem_free(res->plan);
		res->code = res->plan = NULL;
		rc = AML_ENOMEM;
	}
out:
	h->mem_free(lresp.text);
	h->mem_free(lresp.model);
	free(task);
	free(contract);
	free(ids);
	free(kb);
	free(sibs);
	free(user);
	free(structured);
	free(code);
	free(plan);
	return rc;
}

static const aml_operator_ops draft_ops = {draft_run};

AML_PLUGIN_DEFINE(AML_KIND_OPERATOR, "draft", "1.0.0", draft_init, draft_fini, &draft_ops);
