/*
 * recall.c — the recall operator: the next step of a branch, learned from
 * the branch's own history.
 *
 * The request's node is the solution to extend; its refs hold the
 * branch's trajectory (the node's ancestors, from the branch's first node
 * down) and, in "evolution" mode, past solutions from elsewhere in the
 * search.  The trajectory is recovered from the refs by following
 * parent ids up from the node, whatever their order; the other refs are
 * the solutions from elsewhere.  The prompt lists every step with its
 * change (plan), outcome and score change against the step before, and
 * asks for one next change that repeats what helped and avoids what hurt.
 * The answer is edit blocks applied to the node's script, or a whole
 * script.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <automlgen/plugin.h>
#include "opkit.h"

typedef struct recall_state {
	opkit_op op;
	long max_steps;   /* trajectory steps shown (the latest) */
	long max_others;  /* solutions from elsewhere shown */
} recall_state;

static int
recall_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	recall_state *st = calloc(1, sizeof *st);
	int rc;

	if (st == NULL)
		return AML_ENOMEM;
	rc = opkit_op_init(&st->op, host, self, "recall", 0, err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "max_steps", 12, 1, 1000, &st->max_steps,
				      err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "max_others", 4, 0, 100, &st->max_others,
				      err, errlen);
	if (rc != AML_OK) {
		opkit_op_fini(&st->op);
		free(st);
		return rc;
	}
	*state = st;
	return AML_OK;
}

static void
recall_fini(void *state)
{
	recall_state *st = state;

	if (st == NULL)
		return;
	opkit_op_fini(&st->op);
	free(st);
}

/* Split the refs: the node's ancestors among them, first to last, with
 * the node itself at the end, into path (*n_path), the rest into others
 * (*n_others).  Both arrays hold n_refs + 1 entries. */
static void
split_refs(const aml_op_request *req, const aml_node_view **path, size_t *n_path,
	   const aml_node_view **others, size_t *n_others)
{
	const aml_node_view *cur = req->node;
	char *on_path = calloc(req->n_refs + 1, 1);
	size_t i, k = 0, found;

	*n_path = *n_others = 0;
	/* walk up: at most n_refs steps, so a cycle in bad input ends */
	path[k++] = cur;
	for (found = 1; found && k <= req->n_refs;) {
		found = 0;
		for (i = 0; i < req->n_refs && cur->parent_id >= 0; i++)
			if (req->refs[i]->id == (uint32_t)cur->parent_id
			    && !(on_path && on_path[i])) {
				if (on_path)
					on_path[i] = 1;
				cur = path[k++] = req->refs[i];
				found = 1;
				break;
			}
	}
	for (i = 0; i < k / 2; i++) {
		const aml_node_view *tmp = path[i];

		path[i] = path[k - 1 - i];
		path[k - 1 - i] = tmp;
	}
	*n_path = k;
	for (i = 0; i < req->n_refs; i++)
		if (!(on_path && on_path[i]) && req->refs[i]->id != req->node->id)
			others[(*n_others)++] = req->refs[i];
	free(on_path);
}

/* The trajectory as numbered steps with the score change of each against
 * the closest earlier step that has a score (malloc()ed). */
static char *
trajectory_text(const aml_node_view *const *path, size_t n, size_t max, int hib)
{
	const aml_node_view *prev = NULL;
	size_t i, from = n > max ? n - max : 0, len = 0;
	char *text = NULL;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	for (i = 0; i < from; i++)
		if (path[i]->has_score)
			prev = path[i];
	if (from)
		fprintf(f, "(%zu earlier steps not shown)\n", from);
	for (i = from; i < n; i++) {
		const aml_node_view *v = path[i];

		fprintf(f, "%zu. node %u (%s%s): %s", i + 1, v->id,
			v->op && v->op[0] ? v->op : "?",
			i + 1 == n ? ", the current solution" : "",
			opkit_status_name(v->status));
		if (v->has_score) {
			fprintf(f, ", score %.6g", v->score);
			if (prev) {
				double d = v->score - prev->score;

				if (d == 0)
					fprintf(f, " (no change against node %u)", prev->id);
				else
					fprintf(f, " (%+.4g against node %u: %s)", d, prev->id,
						(hib ? d > 0 : d < 0) ? "helped" : "hurt");
			}
			prev = v;
		}
		if (v->reason && v->reason[0])
			fprintf(f, " - %.300s", v->reason);
		fprintf(f, "\n   change: %.600s\n", v->plan && v->plan[0] ? v->plan : "(no plan)");
	}
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

static int
recall_run(void *state, const aml_op_request *req, aml_op_result *res,
	   char *err, size_t errlen)
{
	recall_state *st = state;
	const aml_node_view *n = req->node;
	const aml_task *t = req->task;
	const aml_node_view **path = NULL, **others = NULL;
	char *task = NULL, *contract = NULL, *steps = NULL, *elsewhere = NULL;
	char *kb = NULL, *ids = NULL, *user = NULL, *structured = NULL, *query = NULL;
	char id[32], score[64];
	size_t n_path = 0, n_others = 0, shown;
	int rc;

	if (n == NULL || n->code == NULL || n->code[0] == '\0') {
		snprintf(err, errlen, "recall: no script to extend (the request has %s)",
			 n ? "a node without code" : "no node");
		return AML_EINVAL;
	}
	path = calloc(req->n_refs + 1, sizeof *path);
	others = calloc(req->n_refs + 1, sizeof *others);
	if (path == NULL || others == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	split_refs(req, path, &n_path, others, &n_others);
	snprintf(id, sizeof id, "%u", n->id);
	if (n->has_score)
		snprintf(score, sizeof score, "%.6g (%s, %s is better)", n->score,
			 t->metric, t->higher_is_better ? "higher" : "lower");
	else
		snprintf(score, sizeof score, "none (%s)", opkit_status_name(n->status));
	shown = n_others < (size_t)st->max_others ? n_others : (size_t)st->max_others;
	task = opkit_task_text(t);
	contract = opkit_contract_text(req);
	steps = trajectory_text(path, n_path, (size_t)st->max_steps, t->higher_is_better);
	elsewhere = opkit_attempts_text(n, others, shown, shown, t->higher_is_better, 600);
	if (asprintf(&query, "%s", n->plan ? n->plan : "") < 0)
		query = NULL;
	if (query)
		kb = opkit_kb_text(st->op.host, st->op.self, query,
				   (size_t)st->op.kb_per_level, &ids);
	if (task == NULL || contract == NULL || steps == NULL || elsewhere == NULL
	    || kb == NULL || ids == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	{
		const opkit_var vars[] = {
			{"node_id", id},
			{"score", score},
			{"plan", n->plan && n->plan[0] ? n->plan : "(no plan)"},
			{"code", n->code},
			{"trajectory", steps},
			{"elsewhere", elsewhere},
			{"mode", req->mode ? req->mode : "primary"},
			{"task", task},
			{"knowledge", kb},
			{"contract", contract},
		};

		rc = opkit_render(st->op.user, vars, sizeof vars / sizeof vars[0], &user,
				  err, errlen);
		if (rc != AML_OK)
			goto out;
	}
	structured = opkit_structured("recall", req, ids);
	if (structured == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	rc = opkit_op_complete(&st->op, req, user, structured, n->code, res, err, errlen);
out:
	free(path);
	free(others);
	free(task);
	free(contract);
	free(steps);
	free(elsewhere);
	free(query);
	free(kb);
	free(ids);
	free(user);
	free(structured);
	return rc;
}

static const aml_operator_ops recall_ops = {recall_run};

AML_PLUGIN_DEFINE(AML_KIND_OPERATOR, "recall", "1.0.0", recall_init, recall_fini, &recall_ops);
