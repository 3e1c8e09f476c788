/*
 * improve.c — the improve operator: one fine-grained change to a valid
 * node.
 *
 * A request's flavor says what kind of change to ask for:
 * "hyperparameters", "features" or "strategy" (none: the operator takes
 * them in turn by the request's seq, in the order of its `flavors`
 * parameter).  The prompt shows the script with its score and plan, the
 * flavor's instructions (prompts/<flavor>.txt), what the node's earlier
 * children already tried with their scores (so attempts are not
 * repeated) and, in "reference" mode, the best nodes of other branches
 * with their plans and scores to borrow from.  The answer is edit blocks
 * applied to the script, or a whole script.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <automlgen/plugin.h>
#include "opkit.h"

static const char *const known_flavors[] = {"hyperparameters", "features", "strategy"};
#define N_FLAVORS (sizeof known_flavors / sizeof known_flavors[0])

typedef struct improve_state {
	opkit_op op;
	char *instructions[N_FLAVORS]; /* prompts/<flavor>.txt */
	char *reference;               /* prompts/reference.txt */
	size_t order[N_FLAVORS];       /* the round-robin: indices of known_flavors */
	size_t n_order;
	long max_siblings, max_refs, tail_lines;
} improve_state;

static void
improve_fini(void *state)
{
	improve_state *st = state;
	size_t i;

	if (st == NULL)
		return;
	opkit_op_fini(&st->op);
	for (i = 0; i < N_FLAVORS; i++)
		free(st->instructions[i]);
	free(st->reference);
	free(st);
}

static int
flavor_index(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < N_FLAVORS; i++)
		if (strlen(known_flavors[i]) == len && strncmp(known_flavors[i], name, len) == 0)
			return (int)i;
	return -1;
}

/* Parse the comma-separated `flavors` parameter into st->order. */
static int
parse_flavors(improve_state *st, const char *list, char *err, size_t errlen)
{
	const char *p = list;
	size_t len;
	int i;

	st->n_order = 0;
	while (*p) {
		p += strspn(p, " ,");
		len = strcspn(p, " ,");
		if (len == 0)
			break;
		i = flavor_index(p, len);
		if (i < 0 || st->n_order == N_FLAVORS) {
			snprintf(err, errlen, "improve: flavors: '%.*s' is not a flavor; "
				 "use hyperparameters, features and strategy, comma-separated",
				 (int)len, p);
			return AML_EINVAL;
		}
		st->order[st->n_order++] = (size_t)i;
		p += len;
	}
	if (st->n_order == 0) {
		snprintf(err, errlen, "improve: flavors is empty; name at least one of "
			 "hyperparameters, features and strategy");
		return AML_EINVAL;
	}
	return AML_OK;
}

static int
improve_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	improve_state *st = calloc(1, sizeof *st);
	const char *flavors;
	char file[64];
	size_t i;
	int rc;

	if (st == NULL)
		return AML_ENOMEM;
	rc = opkit_op_init(&st->op, host, self, "improve", 1, err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "max_siblings", 12, 0, 1000,
				      &st->max_siblings, err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "max_refs", 5, 0, 100, &st->max_refs,
				      err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(&st->op, "output_tail_lines", 15, 0, 10000,
				      &st->tail_lines, err, errlen);
	if (rc == AML_OK) {
		flavors = host->param(self, "flavors");
		rc = parse_flavors(st, flavors && flavors[0] ? flavors
				   : "hyperparameters,features,strategy", err, errlen);
	}
	for (i = 0; rc == AML_OK && i < N_FLAVORS; i++) {
		snprintf(file, sizeof file, "%s.txt", known_flavors[i]);
		rc = opkit_load_prompt(host, self, file, &st->instructions[i], err, errlen);
	}
	if (rc == AML_OK)
		rc = opkit_load_prompt(host, self, "reference.txt", &st->reference, err, errlen);
	if (rc != AML_OK) {
		improve_fini(st);
		return rc;
	}
	*state = st;
	return AML_OK;
}

static int
improve_run(void *state, const aml_op_request *req, aml_op_result *res,
	    char *err, size_t errlen)
{
	improve_state *st = state;
	const aml_node_view *n = req->node;
	const aml_task *t = req->task;
	aml_op_request sent;
	char *task = NULL, *contract = NULL, *output = NULL, *sibs = NULL, *kb = NULL;
	char *ids = NULL, *refs = NULL, *refblock = NULL, *user = NULL;
	char *structured = NULL, *query = NULL, id[32], score[64];
	int f, rc;

	if (n == NULL || n->code == NULL || n->code[0] == '\0') {
		snprintf(err, errlen, "improve: no script to improve (the request has %s)",
			 n ? "a node without code" : "no node");
		return AML_EINVAL;
	}
	if (req->flavor) {
		f = flavor_index(req->flavor, strlen(req->flavor));
		if (f < 0) {
			snprintf(err, errlen, "improve: unknown flavor '%.64s'; use "
				 "hyperparameters, features or strategy", req->flavor);
			return AML_EINVAL;
		}
	} else {
		f = (int)st->order[req->seq % st->n_order];
	}
	sent = *req;
	sent.flavor = known_flavors[f];
	snprintf(id, sizeof id, "%u", n->id);
	if (n->has_score)
		snprintf(score, sizeof score, "%.6g (%s, %s is better)", n->score,
			 t->metric, t->higher_is_better ? "higher" : "lower");
	else
		snprintf(score, sizeof score, "none recorded");
	task = opkit_task_text(t);
	contract = opkit_contract_text(req);
	output = opkit_output_text(n->output, 0, (size_t)st->tail_lines);
	sibs = opkit_attempts_text(n, req->siblings, req->n_siblings,
				   (size_t)st->max_siblings, t->higher_is_better, 400);
	if (asprintf(&query, "%s %s", known_flavors[f], n->plan ? n->plan : "") < 0)
		query = NULL;
	if (query)
		kb = opkit_kb_text(st->op.host, st->op.self, query,
				   (size_t)st->op.kb_per_level, &ids);
	if (req->n_refs > 0) {
		size_t nr = req->n_refs < (size_t)st->max_refs ? req->n_refs : (size_t)st->max_refs;

		refs = opkit_attempts_text(n, req->refs, nr, nr, t->higher_is_better, 600);
		if (refs) {
			const opkit_var rv[] = {{"refs", refs}};

			rc = opkit_render(st->reference, rv, 1, &refblock, err, errlen);
			if (rc != AML_OK)
				goto out;
		}
	} else {
		refblock = strdup("");
	}
	if (task == NULL || contract == NULL || output == NULL || sibs == NULL
	    || kb == NULL || ids == NULL || refblock == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	{
		const opkit_var vars[] = {
			{"node_id", id},
			{"score", score},
			{"plan", n->plan && n->plan[0] ? n->plan : "(no plan)"},
			{"code", n->code},
			{"output", output},
			{"task", task},
			{"knowledge", kb},
			{"siblings", sibs},
			{"references", refblock},
			{"flavor", known_flavors[f]},
			{"flavor_instructions", st->instructions[f]},
			{"contract", contract},
		};

		rc = opkit_render(st->op.user, vars, sizeof vars / sizeof vars[0], &user,
				  err, errlen);
		if (rc != AML_OK)
			goto out;
	}
	structured = opkit_structured("improve", &sent, ids);
	if (structured == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	rc = opkit_op_complete(&st->op, &sent, user, structured, n->code, res, err, errlen);
out:
	free(task);
	free(contract);
	free(output);
	free(sibs);
	free(query);
	free(kb);
	free(ids);
	free(refs);
	free(refblock);
	free(user);
	free(structured);
	return rc;
}

static const aml_operator_ops improve_ops = {improve_run};

AML_PLUGIN_DEFINE(AML_KIND_OPERATOR, "improve", "1.0.0", improve_init, improve_fini, &improve_ops);
