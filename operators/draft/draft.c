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
	opkit_op op;
} draft_state;

static int
draft_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	draft_state *st = calloc(1, sizeof *st);
	int rc;

	if (st == NULL)
		return AML_ENOMEM;
	rc = opkit_op_init(&st->op, host, self, "draft", 2, err, errlen);
	if (rc != AML_OK) {
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
	opkit_op_fini(&st->op);
	free(st);
}

static int
draft_run(void *state, const aml_op_request *req, aml_op_result *res,
	  char *err, size_t errlen)
{
	draft_state *st = state;
	const opkit_op *op = &st->op;
	char *task = opkit_task_text(req->task);
	char *contract = opkit_contract_text(req);
	char *ids = NULL;
	char *kb = opkit_kb_text(op->host, op->self, req->task->description,
				 (size_t)op->kb_per_level, &ids);
	char *sibs = opkit_nodes_text(req->siblings, req->n_siblings, 300);
	char *user = NULL, *structured = NULL;
	char seq[32];
	int rc;

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

		rc = opkit_render(op->user, vars, sizeof vars / sizeof vars[0], &user, err, errlen);
		if (rc != AML_OK)
			goto out;
	}
	structured = opkit_structured("draft", req, ids);
	if (structured == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	/* a draft has no parent script: the answer must be a whole one */
	rc = opkit_op_complete(op, req, user, structured, NULL, res, err, errlen);
out:
	free(task);
	free(contract);
	free(ids);
	free(kb);
	free(sibs);
	free(user);
	free(structured);
	return rc;
}

static const aml_operator_ops draft_ops = {draft_run};

AML_PLUGIN_DEFINE(AML_KIND_OPERATOR, "draft", "1.0.0", draft_init, draft_fini, &draft_ops);
