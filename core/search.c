/*
 * search.c — see search.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "log.h"
#include "search.h"
#include "util.h"

static const char *const drafts_ops[] = {"draft", NULL};

const char *const *
aml_search_policy_ops(const char *policy)
{
	if (strcmp(policy, "drafts") == 0)
		return drafts_ops;
	return NULL;
}

int
aml_search_init(aml_search *s, const aml_config *cfg, aml_context *ctx,
		const aml_task_info *task, const aml_rundir *rd,
		aml_plugin *executor, aml_search_op *ops, size_t n_ops,
		char *err, size_t errlen)
{
	long cap, seed;
	int rc;

	memset(s, 0, sizeof *s);
	s->cfg = cfg;
	s->ctx = ctx;
	s->task = task;
	s->rd = rd;
	s->executor = executor;
	s->ops = ops;
	s->n_ops = n_ops;
	if ((rc = aml_config_double(cfg, "search.time_limit_s", &s->time_limit_s, err, errlen))
	    || (rc = aml_config_long(cfg, "search.max_nodes", &s->max_nodes, err, errlen))
	    || (rc = aml_config_double(cfg, "exec.timeout_s", &s->exec_timeout_s, err, errlen))
	    || (rc = aml_config_long(cfg, "exec.output_cap", &cap, err, errlen))
	    || (rc = aml_config_long(cfg, "run.seed", &seed, err, errlen)))
		return rc;
	if (s->time_limit_s <= 0 || s->max_nodes <= 0 || s->exec_timeout_s <= 0 || cap < 1024) {
		aml_seterr(err, errlen,
			   "search.time_limit_s, search.max_nodes and exec.timeout_s must be > 0, "
			   "exec.output_cap >= 1024");
		return AML_EINVAL;
	}
	s->output_cap = (size_t)cap;
	s->seed = (uint64_t)seed;
	aml_graph_init(&s->graph, aml_task_view(task)->higher_is_better);
	pthread_mutex_init(&s->lock, NULL);
	s->t0 = aml_now();
	return AML_OK;
}

void
aml_search_destroy(aml_search *s)
{
	aml_graph_destroy(&s->graph);
	pthread_mutex_destroy(&s->lock);
}

static aml_plugin *
find_op(const aml_search *s, const char *name)
{
	size_t i;

	for (i = 0; i < s->n_ops; i++)
		if (strcmp(s->ops[i].name, name) == 0)
			return s->ops[i].plugin;
	return NULL;
}

int
aml_search_budget_spent(aml_search *s)
{
	double elapsed = aml_now() - s->t0;

	if (s->stop_reason[0])
		return 1;
	if ((long)s->graph.n >= s->max_nodes)
		snprintf(s->stop_reason, sizeof s->stop_reason,
			 "node budget reached (search.max_nodes = %ld)", s->max_nodes);
	else if (elapsed >= s->time_limit_s)
		snprintf(s->stop_reason, sizeof s->stop_reason,
			 "time budget reached (search.time_limit_s = %g)", s->time_limit_s);
	return s->stop_reason[0] != '\0';
}

/* Record a failure of the step itself on the node. */
static void
fail_node(aml_node *n, aml_node_status st, const char *why)
{
	char *r = strdup(why);

	n->status = st;
	if (r) {
		free(n->reason);
		n->reason = r;
	}
}

static const char *const child_env[] = {NULL};

int
aml_search_expand(aml_search *s, int32_t parent, const char *op,
		  const char *mode, aml_node **out)
{
	const aml_task *task = aml_task_view(s->task);
	aml_plugin *opp = find_op(s, op);
	const aml_node_view **sib = NULL;
	aml_node_view *sibv = NULL, parentv;
	aml_op_request req;
	aml_op_result res;
	aml_exec_request ereq;
	aml_exec_result eres;
	char err[AML_ERRLEN] = "", *dir = NULL;
	aml_node *n, *p = NULL;
	size_t i, nsib;
	double t, left;
	int rc;

	*out = NULL;
	if (opp == NULL) {
		aml_err("no operator '%s' is loaded", op);
		return AML_EINVAL;
	}
	n = aml_graph_add(&s->graph, parent, op, mode);
	if (n == NULL)
		return AML_ENOMEM;
	*out = n;
	n->created_at = aml_now() - s->t0;
	if (parent >= 0)
		p = s->graph.nodes[parent];

	/* siblings: earlier children of the same parent */
	nsib = 0;
	if (p) {
		nsib = p->n_children - 1;
	} else {
		for (i = 0; i + 1 < s->graph.n; i++)
			if (s->graph.nodes[i]->parent < 0)
				nsib++;
	}
	sib = calloc(nsib + 1, sizeof *sib);
	sibv = calloc(nsib + 1, sizeof *sibv);
	if (sib == NULL || sibv == NULL) {
		free(sib);
		free(sibv);
		return AML_ENOMEM;
	}
	nsib = 0;
	for (i = 0; i + 1 < s->graph.n; i++) {
		if (s->graph.nodes[i]->parent != parent)
			continue;
		sibv[nsib] = aml_node_view_of(s->graph.nodes[i]);
		sib[nsib] = &sibv[nsib];
		nsib++;
	}

	memset(&req, 0, sizeof req);
	memset(&res, 0, sizeof res);
	req.task = task;
	if (p) {
		parentv = aml_node_view_of(p);
		req.node = &parentv;
	}
	req.siblings = sib;
	req.n_siblings = nsib;
	req.mode = mode;
	req.node_id = n->id;
	req.seq = (uint32_t)nsib;
	req.seed = s->seed * 1000003u + n->id;
	left = s->time_limit_s - (aml_now() - s->t0);
	req.time_left_s = left > 0 ? left : 0;
	req.per_run_limit_s = s->exec_timeout_s;

	/* the node's folder exists whatever happens next, for its record */
	rc = aml_rundir_node_dir(s->rd, n->id, &dir, err, sizeof err);
	if (rc != AML_OK) {
		free(sib);
		free(sibv);
		aml_err("node %u: %s", n->id, err);
		return rc; /* the run directory is unusable: stop */
	}
	err[0] = '\0';
	t = aml_now();
	rc = aml_plugin_operator(opp)->run(opp->state, &req, &res, err, sizeof err);
	n->op_seconds = aml_now() - t;
	n->tokens_in = res.tokens_in;
	n->tokens_out = res.tokens_out;
	free(sib);
	free(sibv);
	if (res.plan) {
		free(n->plan);
		n->plan = res.plan;
		res.plan = NULL;
	}
	n->raw_answer = res.raw_answer;
	res.raw_answer = NULL;
	if (rc != AML_OK || res.code == NULL || res.code[0] == '\0') {
		free(res.code);
		fail_node(n, AML_NODE_OP_FAILED,
			  err[0] ? err : "the operator returned no script");
		aml_warn("node %u: operator %s failed: %s", n->id, op, n->reason);
		goto record;
	}
	n->code = res.code;

	{
		char *script = aml_path_join(dir, "solution.py");

		rc = script ? aml_write_file(script, n->code, strlen(n->code), err, sizeof err)
			    : AML_ENOMEM;
		free(script);
	}
	if (rc != AML_OK) {
		free(dir);
		aml_err("node %u: %s", n->id, err);
		return rc; /* the run directory is unusable: stop */
	}

	memset(&ereq, 0, sizeof ereq);
	memset(&eres, 0, sizeof eres);
	ereq.workdir = dir;
	ereq.script = "solution.py";
	ereq.input_dir = s->rd->input;
	left = s->time_limit_s - (aml_now() - s->t0);
	ereq.timeout_s = s->exec_timeout_s < left ? s->exec_timeout_s : (left > 1 ? left : 1);
	ereq.output_cap = s->output_cap;
	ereq.env = child_env;
	ereq.node_id = n->id;
	err[0] = '\0';
	rc = aml_plugin_executor(s->executor)->run(s->executor->state, &ereq, &eres,
						   err, sizeof err);
	if (rc != AML_OK) {
		s->exec_failures++;
		fail_node(n, AML_NODE_BUGGY, err[0] ? err : "the executor failed");
		aml_warn("node %u: executor failed: %s", n->id, n->reason);
	} else {
		rc = aml_evaluate_node(n, &eres, dir, s->task);
		if (rc != AML_OK) {
			free(eres.detail);
			free(dir);
			return rc;
		}
	}
	free(eres.detail);

record:
	free(dir);
	if (aml_graph_finish(&s->graph, n))
		aml_info("node %u (%s): %s = %.6g  new best", n->id, op,
			 task->metric, n->score);
	else if (n->status == AML_NODE_VALID)
		aml_info("node %u (%s): %s = %.6g", n->id, op, task->metric, n->score);
	else
		aml_info("node %u (%s): %s: %s", n->id, op,
			 aml_node_status_name(n->status), n->reason);
	rc = aml_rundir_write_node(s->rd, n, err, sizeof err);
	if (rc != AML_OK)
		aml_err("node %u: %s", n->id, err);
	return rc;
}

static int
policy_drafts(aml_search *s, char *err, size_t errlen)
{
	long want, i;
	aml_node *n;
	int rc;

	rc = aml_config_long(s->cfg, "search.num_drafts", &want, err, errlen);
	if (rc != AML_OK)
		return rc;
	if (want <= 0) {
		aml_seterr(err, errlen, "search.num_drafts must be > 0");
		return AML_EINVAL;
	}
	for (i = 0; i < want; i++) {
		if (aml_search_budget_spent(s))
			return AML_OK;
		rc = aml_search_expand(s, -1, "draft", "primary", &n);
		if (rc != AML_OK) {
			aml_seterr(err, errlen, "the search stopped at node %ld: %s", i,
				   aml_strerror(rc));
			return rc;
		}
	}
	snprintf(s->stop_reason, sizeof s->stop_reason, "all %ld drafts done", want);
	return AML_OK;
}

int
aml_search_run(aml_search *s, char *err, size_t errlen)
{
	const char *policy = aml_config_get(s->cfg, "search.policy");

	if (policy && strcmp(policy, "drafts") == 0)
		return policy_drafts(s, err, errlen);
	aml_seterr(err, errlen, "unknown search.policy '%s' (known: drafts)",
		   policy ? policy : "");
	return AML_EINVAL;
}
