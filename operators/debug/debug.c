/*
 * debug.c — the debug operator: a fix for a buggy node.
 *
 * It shows the provider the failed script, why it failed (the node's
 * reason and its output cut to the head, the tail and the traceback), the
 * task, the contract and the fixes already tried for the same node, and
 * asks for the smallest fix of the root cause as SEARCH/REPLACE edit
 * blocks (a whole script is accepted too).  The blocks are applied to the
 * buggy script here; one that matches nowhere fails the operator with the
 * block named.  Prompts are text files in prompts/.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <automlgen/plugin.h>
#include "opkit.h"

typedef struct debug_state {
	opkit_op op;
	long head_lines;    /* output lines shown from the start */
	long tail_lines;    /* ... and from the end */
	long max_siblings;  /* earlier fixes of the same node shown */
} debug_state;

static int
debug_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	debug_state *st = calloc(1, sizeof *st);
	int rc;

	if (st == NULL)
		return AML_ENOMEM;
	rc = opkit_op_init(&st->op, host, self, "debug", 1, err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "output_head_lines", 20, 0, 10000,
				      &st->head_lines, err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "output_tail_lines", 60, 0, 10000,
				      &st->tail_lines, err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "max_siblings", 5, 0, 100,
				      &st->max_siblings, err, errlen);
	if (rc != AML_OK) {
		opkit_op_fini(&st->op);
		free(st);
		return rc;
	}
	*state = st;
	return AML_OK;
}

static void
debug_fini(void *state)
{
	debug_state *st = state;

	if (st == NULL)
		return;
	opkit_op_fini(&st->op);
	free(st);
}

static int
debug_run(void *state, const aml_op_request *req, aml_op_result *res,
	  char *err, size_t errlen)
{
	debug_state *st = state;
	const aml_node_view *n = req->node;
	char *task = NULL, *contract = NULL, *output = NULL, *sibs = NULL, *kb = NULL;
	char *ids = NULL, *user = NULL, *structured = NULL, *query = NULL, id[32];
	int rc;

	if (n == NULL || n->code == NULL || n->code[0] == '\0') {
		snprintf(err, errlen, "debug: no buggy script to fix (the request has %s)",
			 n ? "a node without code" : "no node");
		return AML_EINVAL;
	}
	snprintf(id, sizeof id, "%u", n->id);
	task = opkit_task_text(req->task);
	contract = opkit_contract_text(req);
	output = opkit_output_text(n->output, (size_t)st->head_lines, (size_t)st->tail_lines);
	sibs = opkit_attempts_text(NULL, req->siblings, req->n_siblings,
				   (size_t)st->max_siblings, req->task->higher_is_better, 400);
	/* knowledge ranked by the failure and the plan (which models fit) */
	if (asprintf(&query, "%s %s", n->reason ? n->reason : "",
		     n->plan ? n->plan : "") < 0)
		query = NULL;
	if (query)
		kb = opkit_kb_text(st->op.host, st->op.self, query,
				   (size_t)st->op.kb_per_level, &ids);
	if (task == NULL || contract == NULL || output == NULL || sibs == NULL
	    || kb == NULL || ids == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	{
		const opkit_var vars[] = {
			{"node_id", id},
			{"status", opkit_status_name(n->status)},
			{"reason", n->reason && n->reason[0] ? n->reason : "(no reason recorded)"},
			{"output", output},
			{"code", n->code},
			{"plan", n->plan && n->plan[0] ? n->plan : "(no plan)"},
			{"task", task},
			{"knowledge", kb},
			{"siblings", sibs},
			{"contract", contract},
		};

		rc = opkit_render(st->op.user, vars, sizeof vars / sizeof vars[0], &user,
				  err, errlen);
		if (rc != AML_OK)
			goto out;
	}
	structured = opkit_structured("debug", req, ids);
	if (structured == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	rc = opkit_op_complete(&st->op, req, user, structured, n->code, res, err, errlen);
out:
	free(task);
	free(contract);
	free(output);
	free(sibs);
	free(query);
	free(kb);
	free(ids);
	free(user);
	free(structured);
	return rc;
}

static const aml_operator_ops debug_ops = {debug_run};

AML_PLUGIN_DEFINE(AML_KIND_OPERATOR, "debug", "1.0.0", debug_init, debug_fini, &debug_ops);
