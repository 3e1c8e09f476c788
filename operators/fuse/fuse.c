/*
 * fuse.c — the fuse operator: one solution that combines several.
 *
 * The request's refs are the solutions to combine (at least one); its
 * node, when set, is the solution to build on (NULL in "aggregation"
 * mode, at the root of the search, where the refs are the best nodes of
 * all branches).  The prompt shows each with its score, plan and script,
 * and asks for a single solution that combines their strengths - an
 * ensemble of their models, or one's technique transplanted into
 * another - with the reason stated.  The answer is a whole script.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <automlgen/plugin.h>
#include "opkit.h"

typedef struct fuse_state {
	opkit_op op;
	long max_refs;    /* solutions shown */
	long code_chars;  /* characters of each script shown */
} fuse_state;

static int
fuse_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	fuse_state *st = calloc(1, sizeof *st);
	int rc;

	if (st == NULL)
		return AML_ENOMEM;
	rc = opkit_op_init(&st->op, host, self, "fuse", 0, err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "max_refs", 4, 1, 16, &st->max_refs, err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "code_chars", 12000, 500, 1000000,
				      &st->code_chars, err, errlen);
	if (rc != AML_OK) {
		opkit_op_fini(&st->op);
		free(st);
		return rc;
	}
	*state = st;
	return AML_OK;
}

static void
fuse_fini(void *state)
{
	fuse_state *st = state;

	if (st == NULL)
		return;
	opkit_op_fini(&st->op);
	free(st);
}

/* One solution for the prompt: a heading, the plan and the script (cut at
 * a line end after at most max characters). */
static int
solution_text(char **acc, const aml_node_view *v, const aml_task *t, const char *role,
	      size_t max)
{
	const char *code = v->code ? v->code : "";
	size_t len = strlen(code), shown = len;
	char score[64], *s;
	int rc;

	if (len > max) {
		shown = max;
		while (shown > 0 && code[shown - 1] != '\n')
			shown--;
		if (shown == 0)
			shown = max;
	}
	if (v->has_score)
		snprintf(score, sizeof score, "%.6g (%s)", v->score, t->metric);
	else
		snprintf(score, sizeof score, "none (%s)", opkit_status_name(v->status));
	rc = asprintf(&s, "%s## Node %u, %s: validation score %s\nPlan: %s\n\n```python\n%.*s%s%s```\n\n",
		      *acc, v->id, role, score, v->plan && v->plan[0] ? v->plan : "(no plan)",
		      (int)shown, code, shown && code[shown - 1] != '\n' ? "\n" : "",
		      shown < len ? "# [... the rest of the script is not shown]\n" : "");
	if (rc < 0)
		return AML_ENOMEM;
	free(*acc);
	*acc = s;
	return AML_OK;
}

static int
fuse_run(void *state, const aml_op_request *req, aml_op_result *res,
	 char *err, size_t errlen)
{
	fuse_state *st = state;
	const aml_task *t = req->task;
	char *task = NULL, *contract = NULL, *kb = NULL, *ids = NULL, *sols = NULL;
	char *user = NULL, *structured = NULL, *query = NULL, count[32];
	size_t i, nr;
	int rc = AML_OK;

	if (req->n_refs == 0) {
		snprintf(err, errlen, "fuse: no solutions to combine (the request has no refs)");
		return AML_EINVAL;
	}
	nr = req->n_refs < (size_t)st->max_refs ? req->n_refs : (size_t)st->max_refs;
	snprintf(count, sizeof count, "%zu", nr + (req->node != NULL));
	task = opkit_task_text(t);
	contract = opkit_contract_text(req);
	sols = strdup("");
	if (sols && req->node)
		rc = solution_text(&sols, req->node, t, "the solution to build on",
				   (size_t)st->code_chars);
	for (i = 0; sols && rc == AML_OK && i < nr; i++)
		rc = solution_text(&sols, req->refs[i], t, "to combine", (size_t)st->code_chars);
	if (asprintf(&query, "ensemble %s", req->node && req->node->plan ? req->node->plan : "") < 0)
		query = NULL;
	if (query)
		kb = opkit_kb_text(st->op.host, st->op.self, query,
				   (size_t)st->op.kb_per_level, &ids);
	if (rc != AML_OK || task == NULL || contract == NULL || sols == NULL
	    || kb == NULL || ids == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	{
		const opkit_var vars[] = {
			{"count", count},
			{"mode", req->mode ? req->mode : "primary"},
			{"solutions", sols},
			{"task", task},
			{"knowledge", kb},
			{"contract", contract},
		};

		rc = opkit_render(st->op.user, vars, sizeof vars / sizeof vars[0], &user,
				  err, errlen);
		if (rc != AML_OK)
			goto out;
	}
	structured = opkit_structured("fuse", req, ids);
	if (structured == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	rc = opkit_op_complete(&st->op, req, user, structured, NULL, res, err, errlen);
out:
	free(task);
	free(contract);
	free(sols);
	free(query);
	free(kb);
	free(ids);
	free(user);
	free(structured);
	return rc;
}

static const aml_operator_ops fuse_ops = {fuse_run};

AML_PLUGIN_DEFINE(AML_KIND_OPERATOR, "fuse", "1.0.0", fuse_init, fuse_fini, &fuse_ops);
