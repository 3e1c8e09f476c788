/*
 * review.c — the review operator: the feedback role's verdict on a valid
 * node before it may be kept as the best.  The core calls it (review.llm)
 * with the node in req->node and what the rule-based review flagged in
 * req->flavor; it shows the model the task, the flags, the script and its
 * output, and reads back {"suspicious": bool, "reason": "..."} however
 * the model wrapped it (opkit_json_extract).
 *
 * The result carries no script: res->plan is "clear: <reason>" or
 * "suspicious: <reason>", which the core turns into cleared or added
 * flags.  An answer without a verdict is a failure with the raw answer
 * kept, and the node keeps its flags.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <automlgen/plugin.h>
#include "opkit.h"

typedef struct review_state {
	opkit_op op;
} review_state;

static int
review_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	review_state *st = calloc(1, sizeof *st);
	int rc;

	if (st == NULL)
		return AML_ENOMEM;
	rc = opkit_op_init(&st->op, host, self, "review", 0, err, errlen);
	if (rc != AML_OK) {
		free(st);
		return rc;
	}
	*state = st;
	return AML_OK;
}

static void
review_fini(void *state)
{
	review_state *st = state;

	if (st == NULL)
		return;
	opkit_op_fini(&st->op);
	free(st);
}

/* The verdict of an answer: 1 suspicious, 0 clear, -1 none; *reason
 * borrowed from o. */
static int
verdict(json_object *o, const char **reason)
{
	static const char *const reason_keys[] = {"reason", "explanation", "why", "rationale", NULL};
	json_object *v;

	*reason = opkit_json_string(o, reason_keys);
	if (!json_object_object_get_ex(o, "suspicious", &v))
		return -1;
	if (json_object_is_type(v, json_type_boolean))
		return json_object_get_boolean(v) ? 1 : 0;
	if (json_object_is_type(v, json_type_string)) {
		const char *s = json_object_get_string(v);

		if (strcmp(s, "true") == 0 || strcmp(s, "yes") == 0)
			return 1;
		if (strcmp(s, "false") == 0 || strcmp(s, "no") == 0)
			return 0;
	}
	return -1;
}

static int
review_run(void *state, const aml_op_request *req, aml_op_result *res,
	   char *err, size_t errlen)
{
	review_state *st = state;
	const opkit_op *op = &st->op;
	const aml_host *h = op->host;
	const aml_node_view *n = req->node;
	char *task = NULL, *output = NULL, *user = NULL, *structured = NULL, *plan = NULL;
	char node_id[32], score[64];
	aml_llm_response lresp;
	json_object *o = NULL, *j;
	const char *reason = NULL;
	int rc, v;

	memset(&lresp, 0, sizeof lresp);
	if (n == NULL || n->code == NULL) {
		opkit_seterr(err, errlen, "review: there is no node to review");
		return AML_EINVAL;
	}
	snprintf(node_id, sizeof node_id, "%u", n->id);
	if (n->has_score)
		snprintf(score, sizeof score, "%.6g (%s)", n->score, req->task->metric);
	else
		snprintf(score, sizeof score, "none");
	task = opkit_task_text(req->task);
	output = opkit_output_text(n->output ? n->output : "", 40, 40);
	j = json_object_new_object();
	if (task == NULL || output == NULL || j == NULL) {
		json_object_put(j);
		rc = AML_ENOMEM;
		goto out;
	}
	{
		const opkit_var vars[] = {
			{"task", task},
			{"flags", req->flavor && req->flavor[0] ? req->flavor : "nothing"},
			{"node_id", node_id},
			{"score", score},
			{"code", n->code},
			{"output", output},
		};

		rc = opkit_render(op->user, vars, sizeof vars / sizeof vars[0], &user, err, errlen);
		if (rc != AML_OK) {
			json_object_put(j);
			goto out;
		}
	}
	/* for offline providers, which do not read prose */
	json_object_object_add(j, "operator", json_object_new_string("review"));
	json_object_object_add(j, "node_id", json_object_new_int64(n->id));
	json_object_object_add(j, "flags", json_object_new_string(req->flavor ? req->flavor : ""));
	structured = strdup(json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	if (structured == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}

	rc = opkit_ask(op, req, "feedback", user, structured, &lresp, err, errlen);
	res->tokens_in = lresp.tokens_in;
	res->tokens_out = lresp.tokens_out;
	if (rc != AML_OK)
		goto out;
	v = -1;
	if (opkit_json_extract(lresp.text, &o, NULL, 0) == AML_OK)
		v = verdict(o, &reason);
	if (v < 0) {
		opkit_seterr(err, errlen, "review: the answer gives no {\"suspicious\": true|false} "
			     "verdict");
		res->raw_answer = h->mem_strdup(lresp.text ? lresp.text : "");
		rc = AML_EFORMAT;
		goto out;
	}
	if (asprintf(&plan, "%s: %s", v ? "suspicious" : "clear",
		     reason && reason[0] ? reason : "no reason given") < 0) {
		plan = NULL;
		rc = AML_ENOMEM;
		goto out;
	}
	res->plan = h->mem_strdup(plan);
	rc = res->plan ? AML_OK : AML_ENOMEM;
out:
	if (rc == AML_ENOMEM)
		opkit_seterr(err, errlen, "review: out of memory");
	json_object_put(o);
	h->mem_free(lresp.text);
	h->mem_free(lresp.model);
	free(task);
	free(output);
	free(user);
	free(structured);
	free(plan);
	return rc;
}

static const aml_operator_ops review_ops = {review_run};

AML_PLUGIN_DEFINE(AML_KIND_OPERATOR, "review", "1.0.0", review_init, review_fini, &review_ops);
