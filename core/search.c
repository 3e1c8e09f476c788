/*
 * search.c — see search.h.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "evaluate.h"
#include "journal.h"
#include "log.h"
#include "search.h"
#include "util.h"

static const char *const drafts_ops[] = {"draft", NULL};
static const char *const tree_ops[] = {"draft", "debug", "improve", NULL};
static const char *const mcgs_ops[] = {"draft", "debug", "improve", "fuse", "recall", NULL};

const char *const *
aml_search_policy_ops(const char *policy)
{
	if (strcmp(policy, "drafts") == 0)
		return drafts_ops;
	if (strcmp(policy, "mcts") == 0 || strcmp(policy, "greedy") == 0)
		return tree_ops;
	if (strcmp(policy, "mcgs") == 0)
		return mcgs_ops;
	return NULL;
}

int
aml_search_init(aml_search *s, const aml_config *cfg, aml_context *ctx,
		const aml_task_info *task, const aml_rundir *rd,
		aml_plugin *executor, aml_search_op *ops, size_t n_ops,
		char *err, size_t errlen)
{
	const char *policy = aml_config_get(cfg, "search.policy");
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
	    || (rc = aml_config_long(cfg, "search.num_drafts", &s->num_drafts, err, errlen))
	    || (rc = aml_config_long(cfg, "search.workers", &s->workers, err, errlen))
	    || (rc = aml_config_double(cfg, "search.max_tokens", &s->max_tokens, err, errlen))
	    || (rc = aml_config_double(cfg, "search.max_cost", &s->max_cost, err, errlen))
	    || (rc = aml_config_double(cfg, "exec.timeout_s", &s->exec_timeout_s, err, errlen))
	    || (rc = aml_config_long(cfg, "exec.output_cap", &cap, err, errlen))
	    || (rc = aml_config_long(cfg, "run.seed", &seed, err, errlen))
	    || (rc = aml_config_bool(cfg, "exec.cache", &s->cache_on, err, errlen))
	    || (rc = aml_review_opts_load(&s->review, cfg, err, errlen)))
		return rc;
	if (s->time_limit_s <= 0 || s->max_nodes <= 0 || s->exec_timeout_s <= 0 || cap < 1024
	    || s->num_drafts <= 0 || s->workers < 0 || s->max_tokens < 0 || s->max_cost < 0) {
		aml_seterr(err, errlen,
			   "search.time_limit_s, search.max_nodes, search.num_drafts and "
			   "exec.timeout_s must be > 0, search.workers, search.max_tokens and "
			   "search.max_cost >= 0, exec.output_cap >= 1024");
		return AML_EINVAL;
	}
	if (s->workers == 0) {
		long cores = sysconf(_SC_NPROCESSORS_ONLN);

		s->workers = cores > 0 ? cores : 1;
	}
	s->output_cap = (size_t)cap;
	s->seed = (uint64_t)seed;
	aml_graph_init(&s->graph, aml_task_view(task)->higher_is_better);
	s->graph.flags_bar_best = s->review.enabled && !s->review.keep_flagged;
	if (policy && strcmp(policy, "drafts") == 0) {
		s->drafts_only = 1;
	} else {
		rc = aml_mcgs_params_load(&s->params, cfg, err, errlen);
		if (rc == AML_OK)
			rc = aml_mcgs_new(&s->params, &s->graph, s->seed, &s->mcgs);
		if (rc != AML_OK) {
			aml_graph_destroy(&s->graph);
			return rc;
		}
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->changed, NULL);
	s->t0 = aml_now();
	return AML_OK;
}

void
aml_search_destroy(aml_search *s)
{
	aml_mcgs_free(s->mcgs);
	free(s->decided);
	free(s->rerun);
	aml_rescache_free(&s->cache);
	aml_graph_destroy(&s->graph);
	pthread_mutex_destroy(&s->lock);
	pthread_cond_destroy(&s->changed);
}

double
aml_search_cost(const aml_search *s)
{
	aml_llm_role_stats t;

	if (s->ctx->llm == NULL)
		return 0;
	aml_llm_totals(s->ctx->llm, &t);
	return t.cost;
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

/* Fraction of the tightest budget spent, and the stop reason when one is
 * spent.  Called with the lock held. */
static double
budget_frac(aml_search *s)
{
	double elapsed = aml_now() - s->t0, f, tokens = 0, cost = 0;
	aml_llm_role_stats t;

	if (s->ctx->llm) {
		aml_llm_totals(s->ctx->llm, &t);
		tokens = (double)(t.tokens_in + t.tokens_out);
		cost = t.cost;
	}
	f = (double)s->graph.n / (double)s->max_nodes;
	if (elapsed / s->time_limit_s > f)
		f = elapsed / s->time_limit_s;
	if (s->max_tokens > 0 && tokens / s->max_tokens > f)
		f = tokens / s->max_tokens;
	if (s->max_cost > 0 && cost / s->max_cost > f)
		f = cost / s->max_cost;
	if (s->stop_reason[0])
		return f;
	if ((long)s->graph.n >= s->max_nodes) {
		snprintf(s->stop_reason, sizeof s->stop_reason,
			 "node budget reached (search.max_nodes = %ld)", s->max_nodes);
		s->stop_nodes = 1;
	}
	else if (elapsed >= s->time_limit_s)
		snprintf(s->stop_reason, sizeof s->stop_reason,
			 "time budget reached (search.time_limit_s = %g)", s->time_limit_s);
	else if (s->max_tokens > 0 && tokens >= s->max_tokens)
		snprintf(s->stop_reason, sizeof s->stop_reason,
			 "token budget reached (search.max_tokens = %g)", s->max_tokens);
	else if (s->max_cost > 0 && cost >= s->max_cost)
		snprintf(s->stop_reason, sizeof s->stop_reason,
			 "money budget reached (search.max_cost = %g)", s->max_cost);
	return f;
}

/* One expansion's inputs, gathered under the lock. */
typedef struct job {
	aml_mcgs_decision d;
	aml_node *n;
	aml_plugin *op;
	aml_node_view parent;
	int has_parent;
	aml_node_view *views;        /* siblings then refs */
	const aml_node_view **sib;
	const aml_node_view **refs;
	size_t n_sib, n_refs;
	uint32_t seq;                /* the new node's index among its parent's children */
	double time_left;
	int rerun;                   /* a node an earlier process left running */
} job;

/* What an expansion produced, committed to the node under the lock. */
typedef struct outcome {
	char *code, *plan, *raw, *reason, *output, *flags, *review;
	aml_node_status status;
	int has_score;
	double score;
	aml_exec_outcome exec;
	int exit_code, truncated;
	double op_seconds, exec_seconds;
	uint64_t tokens_in, tokens_out;
	uint8_t key[AML_SHA256_LEN]; /* the code's result-cache key */
	int cacheable;               /* the result may be reused for the same code */
	int32_t cached_from;         /* -1, or the node whose result was reused */
	int interrupted;             /* cut short by the stop flag: stays pending */
} outcome;

static void
outcome_free(outcome *o)
{
	free(o->code);
	free(o->plan);
	free(o->raw);
	free(o->reason);
	free(o->output);
	free(o->flags);
	free(o->review);
}

static int
job_prepare(aml_search *s, const aml_mcgs_decision *d, job *j)
{
	const aml_node *p = d->parent >= 0 ? s->graph.nodes[d->parent] : NULL;
	size_t i, nsib = 0, k = 0;

	memset(j, 0, sizeof *j);
	j->d = *d;
	j->op = find_op(s, d->op);
	if (j->op == NULL)
		return AML_EINVAL;
	/* siblings: the finished children of the same parent */
	if (p) {
		nsib = p->n_children;
	} else {
		nsib = s->graph.root_children;
	}
	j->views = calloc(nsib + d->n_refs + 1, sizeof *j->views);
	j->sib = calloc(nsib + 1, sizeof *j->sib);
	j->refs = calloc(d->n_refs + 1, sizeof *j->refs);
	if (j->views == NULL || j->sib == NULL || j->refs == NULL)
		return AML_ENOMEM;
	if (p) {
		for (i = 0; i < p->n_children; i++) {
			const aml_node *c = s->graph.nodes[p->children[i]];

			if (c->status != AML_NODE_PENDING) {
				j->views[k] = aml_node_view_of(c);
				j->sib[j->n_sib++] = &j->views[k++];
			}
		}
		j->parent = aml_node_view_of(p);
		j->has_parent = 1;
	} else {
		for (i = 0; i < s->graph.root_children; i++) {
			const aml_node *c = s->graph.nodes[s->graph.roots[i]];

			if (c->status != AML_NODE_PENDING) {
				j->views[k] = aml_node_view_of(c);
				j->sib[j->n_sib++] = &j->views[k++];
			}
		}
	}
	for (i = 0; i < d->n_refs; i++) {
		j->views[k] = aml_node_view_of(s->graph.nodes[d->refs[i]]);
		j->refs[j->n_refs++] = &j->views[k++];
	}
	j->time_left = s->time_limit_s - (aml_now() - s->t0);
	if (j->time_left < 0)
		j->time_left = 0;
	return AML_OK;
}

static void
job_free(job *j)
{
	free(j->views);
	free(j->sib);
	free(j->refs);
}

static void
set_reason(outcome *o, aml_node_status st, const char *why)
{
	o->status = st;
	free(o->reason);
	o->reason = strdup(why);
}

/* The feedback role's verdict on the valid outcome o of node id (the
 * review operator): a "clear" lifts the rules' flags, a "suspicious"
 * adds one; a failed review leaves the flags and says so.  Outside the
 * lock. */
static int
llm_review(aml_search *s, const job *j, uint32_t id, outcome *o, char *ferr, size_t ferrlen)
{
	aml_plugin *op = find_op(s, "review");
	aml_node_view v;
	aml_op_request req;
	aml_op_result res;
	char err[AML_ERRLEN] = "";
	int rc;

	if (op == NULL)
		return AML_OK; /* review.llm off when the run was set up */
	memset(&v, 0, sizeof v);
	v.id = id;
	v.parent_id = j->d.parent;
	v.branch = j->n->branch;
	v.op = j->d.op;
	v.plan = o->plan ? o->plan : "";
	v.code = o->code;
	v.status = AML_NODE_VALID;
	v.reason = "";
	v.output = o->output ? o->output : "";
	v.has_score = o->has_score;
	v.score = o->score;
	v.exec_seconds = o->exec_seconds;
	memset(&req, 0, sizeof req);
	memset(&res, 0, sizeof res);
	req.task = aml_task_view(s->task);
	req.node = &v;
	req.mode = "review";
	req.flavor = o->flags ? o->flags : "";
	req.node_id = id;
	req.seed = s->seed * 1000003u + id;
	req.time_left_s = s->time_limit_s - (aml_now() - s->t0);
	req.per_run_limit_s = s->exec_timeout_s;
	rc = aml_plugin_operator(op)->run(op->state, &req, &res, err, sizeof err);
	o->tokens_in += res.tokens_in;
	o->tokens_out += res.tokens_out;
	if (rc == AML_OK && res.plan) {
		rc = aml_review_apply_verdict(res.plan, &o->flags, &o->review);
	} else {
		aml_sb b = {0};

		aml_sb_printf(&b, "the LLM review failed: %s", err[0] ? err : aml_strerror(rc));
		o->review = aml_sb_take(&b);
		rc = o->review ? AML_OK : AML_ENOMEM;
		aml_warn("node %u: %s", id, o->review ? o->review : "out of memory");
	}
	free(res.code);
	free(res.plan);
	free(res.raw_answer);
	if (rc != AML_OK)
		aml_seterr(ferr, ferrlen, "node %u: review: %s", id, aml_strerror(rc));
	return rc;
}

/* The expansion itself, outside the lock.  Returns a negative status
 * only when the run cannot go on (the run directory is unusable). */
static char *
dup_or_null(const char *t)
{
	return t ? strdup(t) : NULL;
}

/* The result of a finished node that ran the same code as o (o->key), if
 * any: its outcome copied into o and its submission into dir.  A copy that
 * fails is not an error: the script is run instead. */
static int
reuse(aml_search *s, outcome *o, const char *dir, char *ferr, size_t ferrlen)
{
	char cerr[AML_ERRLEN] = "", *src_dir = NULL, *from = NULL, *to = NULL, *sub = NULL;
	const aml_node *n;
	outcome c;
	long id;
	int rc;

	memset(&c, 0, sizeof c);
	pthread_mutex_lock(&s->lock);
	id = aml_rescache_find(&s->cache, o->key);
	if (id >= 0) {
		n = s->graph.nodes[id];
		c.status = n->status;
		c.has_score = n->has_score;
		c.score = n->score;
		c.exec = n->outcome;
		c.exit_code = n->exit_code;
		c.truncated = n->truncated;
		c.reason = dup_or_null(n->reason);
		c.output = dup_or_null(n->output);
		c.flags = dup_or_null(n->flags);
		c.review = dup_or_null(n->review);
	}
	pthread_mutex_unlock(&s->lock);
	if (id < 0)
		return AML_OK;
	if ((n->reason && !c.reason) || (n->output && !c.output) || (n->flags && !c.flags)
	    || (n->review && !c.review)) {
		rc = AML_ENOMEM;
		goto out;
	}
	rc = aml_rundir_node_dir(s->rd, (uint32_t)id, &src_dir, ferr, ferrlen);
	if (rc != AML_OK)
		goto out;
	from = aml_path_join(src_dir, "submission/submission.csv");
	sub = aml_path_join(dir, "submission");
	to = aml_path_join(dir, "submission/submission.csv");
	if (from == NULL || sub == NULL || to == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	if (aml_is_file(from) && (aml_mkdirs(sub, cerr, sizeof cerr) != AML_OK
				  || aml_copy_file(from, to, cerr, sizeof cerr) != AML_OK)) {
		aml_warn("node result cache: %s; running the script instead", cerr);
		goto out;
	}
	o->status = c.status;
	o->has_score = c.has_score;
	o->score = c.score;
	o->exec = c.exec;
	o->exit_code = c.exit_code;
	o->truncated = c.truncated;
	o->reason = c.reason;
	o->output = c.output;
	o->flags = c.flags;
	o->review = c.review;
	c.reason = c.output = c.flags = c.review = NULL;
	o->cached_from = (int32_t)id;
	pthread_mutex_lock(&s->lock);
	s->cache_hits++;
	pthread_mutex_unlock(&s->lock);
out:
	outcome_free(&c);
	free(src_dir);
	free(from);
	free(sub);
	free(to);
	return rc;
}

static void journal_scripted(aml_search *s, uint32_t id, const outcome *o);

/* Has the stop flag been raised? */
static int
stopping(const aml_search *s)
{
	return s->cancel != NULL && __atomic_load_n(s->cancel, __ATOMIC_RELAXED) != 0;
}

/* The script (and plan) an earlier process wrote into dir for a node it
 * did not finish; 0 with o->code set, or -1 when there is none. */
static int
load_script(const char *dir, outcome *o)
{
	char *path = aml_path_join(dir, "solution.py"), err[AML_ERRLEN];
	size_t len;

	if (path == NULL || aml_read_file(path, 16u << 20, &o->code, &len, err, sizeof err) != AML_OK
	    || o->code == NULL || o->code[0] == '\0') {
		free(path);
		free(o->code);
		o->code = NULL;
		return -1;
	}
	free(path);
	path = aml_path_join(dir, "plan.txt");
	if (path == NULL || aml_read_file(path, 1u << 20, &o->plan, &len, err, sizeof err) != AML_OK)
		o->plan = NULL;
	free(path);
	return 0;
}

static int
expand(aml_search *s, job *j, outcome *o, char *ferr, size_t ferrlen)
{
	const aml_task *task = aml_task_view(s->task);
	aml_op_request req;
	aml_op_result res;
	aml_exec_request ereq;
	aml_exec_result eres;
	char err[AML_ERRLEN] = "", *dir = NULL, *script;
	uint32_t id = j->n->id;
	double t, left;
	int rc;

	memset(o, 0, sizeof *o);
	o->cached_from = -1;
	rc = aml_rundir_node_dir(s->rd, id, &dir, ferr, ferrlen);
	if (rc != AML_OK)
		return rc;

	if (j->rerun && load_script(dir, o) == 0) {
		aml_info("node %u: running again the script an interrupted run left", id);
		goto run;
	}
	memset(&req, 0, sizeof req);
	memset(&res, 0, sizeof res);
	req.task = task;
	req.node = j->has_parent ? &j->parent : NULL;
	req.refs = j->refs;
	req.n_refs = j->n_refs;
	req.siblings = j->sib;
	req.n_siblings = j->n_sib;
	req.mode = j->d.mode;
	req.flavor = j->d.flavor;
	req.node_id = id;
	req.seq = j->seq;
	req.seed = s->seed * 1000003u + id;
	req.time_left_s = j->time_left;
	req.per_run_limit_s = s->exec_timeout_s;

	t = aml_now();
	rc = aml_plugin_operator(j->op)->run(j->op->state, &req, &res, err, sizeof err);
	o->op_seconds = aml_now() - t;
	o->tokens_in = res.tokens_in;
	o->tokens_out = res.tokens_out;
	o->plan = res.plan;
	o->raw = res.raw_answer;
	if ((rc != AML_OK || res.code == NULL || res.code[0] == '\0') && stopping(s)) {
		free(res.code);
		o->interrupted = 1;
		free(dir);
		return AML_OK;
	}
	if (rc != AML_OK || res.code == NULL || res.code[0] == '\0') {
		free(res.code);
		set_reason(o, AML_NODE_OP_FAILED, err[0] ? err : "the operator returned no script");
		aml_warn("node %u: operator %s failed: %s", id, j->d.op, o->reason);
		free(dir);
		return AML_OK;
	}
	o->code = res.code;

	/* the plan first: a script on disk always has its plan (resume) */
	script = aml_path_join(dir, "plan.txt");
	rc = script ? aml_write_file(script, o->plan ? o->plan : "", o->plan ? strlen(o->plan) : 0,
				     ferr, ferrlen) : AML_ENOMEM;
	free(script);
	if (rc == AML_OK) {
		script = aml_path_join(dir, "solution.py");
		rc = script ? aml_write_file(script, o->code, strlen(o->code), ferr, ferrlen)
			    : AML_ENOMEM;
		free(script);
	}
	if (rc != AML_OK) {
		free(dir);
		return rc;
	}
	journal_scripted(s, id, o);
run:
	if (stopping(s)) {
		o->interrupted = 1;
		free(dir);
		return AML_OK;
	}
	if (s->cache_on) {
		aml_rescache_key(o->code, o->key);
		rc = reuse(s, o, dir, ferr, ferrlen);
		if (rc != AML_OK || o->cached_from >= 0) {
			free(dir);
			return rc;
		}
	}

	memset(&ereq, 0, sizeof ereq);
	memset(&eres, 0, sizeof eres);
	ereq.workdir = dir;
	ereq.script = "solution.py";
	ereq.input_dir = s->rd->input;
	left = s->time_limit_s - (aml_now() - s->t0);
	ereq.timeout_s = s->exec_timeout_s < left ? s->exec_timeout_s : (left > 1 ? left : 1);
	ereq.output_cap = s->output_cap;
	ereq.node_id = id;
	ereq.cancel = s->cancel;
	err[0] = '\0';
	rc = aml_plugin_executor(s->executor)->run(s->executor->state, &ereq, &eres, err, sizeof err);
	if ((rc == AML_OK && eres.outcome == AML_EXEC_CANCELLED) || (rc != AML_OK && stopping(s))) {
		/* cut short by the stop: neither a failure nor a result */
		o->interrupted = 1;
		free(eres.detail);
		free(dir);
		return AML_OK;
	}
	if (rc != AML_OK) {
		set_reason(o, AML_NODE_BUGGY, err[0] ? err : "the executor failed");
		aml_warn("node %u: executor failed: %s", id, o->reason);
		pthread_mutex_lock(&s->lock);
		s->exec_failures++;
		pthread_mutex_unlock(&s->lock);
	} else {
		/* evaluate into a scratch node, so the shared one changes only
		 * under the lock */
		aml_node tmp;

		memset(&tmp, 0, sizeof tmp);
		rc = aml_evaluate_node(&tmp, &eres, dir, s->task, &s->review);
		o->status = tmp.status;
		o->flags = tmp.flags;
		o->reason = tmp.reason;
		o->output = tmp.output;
		o->has_score = tmp.has_score;
		o->score = tmp.score;
		o->exec = tmp.outcome;
		o->exit_code = tmp.exit_code;
		o->truncated = tmp.truncated;
		o->exec_seconds = tmp.exec_seconds;
		/* a crash or a result repeats for the same code; a timeout,
		 * a kill or a failed start may not */
		o->cacheable = eres.outcome == AML_EXEC_OK || eres.outcome == AML_EXEC_CRASHED;
		if (rc != AML_OK) {
			aml_seterr(ferr, ferrlen, "node %u: evaluation: %s", id, aml_strerror(rc));
			free(eres.detail);
			free(dir);
			return rc;
		}
	}
	free(eres.detail);
	free(dir);
	/* a script that failed while the run was stopping may have failed
	 * because of it (a terminal's Ctrl-C reaches its process group too) */
	if (o->status != AML_NODE_VALID && stopping(s)) {
		o->interrupted = 1;
		return AML_OK;
	}
	if (o->status == AML_NODE_VALID && aml_review_wants_llm(&s->review, o->flags))
		return llm_review(s, j, id, o, ferr, ferrlen);
	return AML_OK;
}

/* Journal events (journal.h); a journal that fails says so once. */
static void
journal_stamp(aml_search *s, json_object *ev, const char *name)
{
	json_object_object_add(ev, "ev", json_object_new_string(name));
	json_object_object_add(ev, "t", json_object_new_double(aml_now() - s->t0));
}

static void
journal_put(aml_search *s, json_object *ev, const char *name)
{
	if (ev == NULL)
		return;
	journal_stamp(s, ev, name);
	(void)aml_journal_append(s->journal, ev);
	json_object_put(ev);
}

static void
journal_created(aml_search *s, const job *j)
{
	json_object *ev, *refs;
	uint32_t i;

	if (s->journal == NULL || (ev = json_object_new_object()) == NULL)
		return;
	json_object_object_add(ev, "id", json_object_new_int((int)j->n->id));
	json_object_object_add(ev, "parent", json_object_new_int(j->d.parent));
	json_object_object_add(ev, "op", json_object_new_string(j->d.op));
	json_object_object_add(ev, "mode", json_object_new_string(j->d.mode));
	json_object_object_add(ev, "flavor", j->d.flavor ? json_object_new_string(j->d.flavor) : NULL);
	refs = json_object_new_array();
	for (i = 0; refs && i < j->d.n_refs; i++) {
		json_object *r = json_object_new_object();

		json_object_object_add(r, "node", json_object_new_int((int)j->d.refs[i]));
		json_object_object_add(r, "kind", json_object_new_string(
			aml_ref_kind_name((aml_ref_kind)j->d.ref_kinds[i])));
		json_object_array_add(refs, r);
	}
	json_object_object_add(ev, "refs", refs);
	journal_put(s, ev, "created");
}

/* The LLM spending so far, per role: a resumed run carries it on. */
static json_object *
llm_json(aml_search *s)
{
	json_object *o, *one;
	aml_llm_role_stats t;
	int r;

	if (s->ctx->llm == NULL || (o = json_object_new_object()) == NULL)
		return NULL;
	for (r = 0; r < AML_N_ROLES; r++) {
		aml_llm_role(s->ctx->llm, r, &t);
		if ((one = json_object_new_object()) == NULL)
			break;
		json_object_object_add(one, "calls", json_object_new_int64((int64_t)t.calls));
		json_object_object_add(one, "failures", json_object_new_int64((int64_t)t.failures));
		json_object_object_add(one, "tokens_in", json_object_new_int64((int64_t)t.tokens_in));
		json_object_object_add(one, "tokens_out", json_object_new_int64((int64_t)t.tokens_out));
		json_object_object_add(one, "cost", json_object_new_double(t.cost));
		json_object_object_add(o, r == AML_ROLE_CODE ? "code" : "feedback", one);
	}
	return o;
}

/* The operator wrote node id's script (solution.py, plan.txt): what it
 * spent is on record even if the script never finishes.  Outside the
 * search's lock (the journal has its own; the order does not matter). */
static void
journal_scripted(aml_search *s, uint32_t id, const outcome *o)
{
	json_object *ev;

	if (s->journal == NULL || (ev = json_object_new_object()) == NULL)
		return;
	json_object_object_add(ev, "id", json_object_new_int((int)id));
	json_object_object_add(ev, "op_seconds", json_object_new_double(o->op_seconds));
	json_object_object_add(ev, "tokens_in", json_object_new_int64((int64_t)o->tokens_in));
	json_object_object_add(ev, "tokens_out", json_object_new_int64((int64_t)o->tokens_out));
	json_object_object_add(ev, "llm", llm_json(s));
	journal_put(s, ev, "scripted");
}

/* Node id was cut short by the stop flag: it stays pending (resume runs
 * it again). */
static void
journal_interrupted(aml_search *s, uint32_t id)
{
	json_object *ev;

	if (s->journal == NULL || (ev = json_object_new_object()) == NULL)
		return;
	json_object_object_add(ev, "id", json_object_new_int((int)id));
	journal_put(s, ev, "interrupted");
}

/* The finished and backprop events of n; called with the lock held, after
 * the node was integrated, so the journal's order is the graph's. */
static void
journal_finished(aml_search *s, const aml_node *n)
{
	json_object *ev, *bp;

	if (s->journal == NULL || (ev = json_object_new_object()) == NULL)
		return;
	json_object_object_add(ev, "id", json_object_new_int((int)n->id));
	json_object_object_add(ev, "status", json_object_new_string(aml_node_status_name(n->status)));
	json_object_object_add(ev, "score", n->has_score ? json_object_new_double(n->score) : NULL);
	json_object_object_add(ev, "reason", json_object_new_string(n->reason ? n->reason : ""));
	json_object_object_add(ev, "outcome", json_object_new_string(
		n->code ? aml_exec_outcome_name(n->outcome) : "not_run"));
	json_object_object_add(ev, "exit_code", json_object_new_int(n->exit_code));
	json_object_object_add(ev, "flags", json_object_new_string(n->flags ? n->flags : ""));
	json_object_object_add(ev, "cached_from", json_object_new_int(n->cached_from));
	json_object_object_add(ev, "op_seconds", json_object_new_double(n->op_seconds));
	json_object_object_add(ev, "exec_seconds", json_object_new_double(n->exec_seconds));
	json_object_object_add(ev, "tokens_in", json_object_new_int64((int64_t)n->tokens_in));
	json_object_object_add(ev, "tokens_out", json_object_new_int64((int64_t)n->tokens_out));
	json_object_object_add(ev, "truncated", json_object_new_boolean(n->truncated));
	json_object_object_add(ev, "plan", json_object_new_string(n->plan ? n->plan : ""));
	json_object_object_add(ev, "output", json_object_new_string(n->output ? n->output : ""));
	if (n->review)
		json_object_object_add(ev, "review", json_object_new_string(n->review));
	json_object_object_add(ev, "llm", llm_json(s));
	journal_stamp(s, ev, "finished");
	if ((bp = json_object_new_object()) == NULL) {
		json_object_put(ev);
		return;
	}
	json_object_object_add(bp, "id", json_object_new_int((int)n->id));
	json_object_object_add(bp, "reward", json_object_new_double(n->reward));
	json_object_object_add(bp, "visits", json_object_new_int((int)n->visits));
	json_object_object_add(bp, "best", json_object_new_int(s->graph.best));
	journal_stamp(s, bp, "backprop");
	/* one write: a crash keeps both or neither whole */
	{
		json_object *both[2] = {ev, bp};

		(void)aml_journal_append_n(s->journal, both, 2);
	}
	json_object_put(ev);
	json_object_put(bp);
}

/* Move o into n; called with the lock held. */
static void
commit(aml_node *n, outcome *o)
{
#define MOVE(f) do { if (o->f) { free(n->f); n->f = o->f; o->f = NULL; } } while (0)
	MOVE(code);
	MOVE(plan);
	MOVE(reason);
	MOVE(output);
	MOVE(flags);
	MOVE(review);
#undef MOVE
	n->raw_answer = o->raw;
	o->raw = NULL;
	n->has_score = o->has_score;
	n->score = o->score;
	n->outcome = o->exec;
	n->exit_code = o->exit_code;
	n->truncated = o->truncated;
	n->op_seconds = o->op_seconds;
	n->exec_seconds = o->exec_seconds;
	n->tokens_in = o->tokens_in;
	n->tokens_out = o->tokens_out;
	n->cached_from = o->cached_from;
	n->status = o->status;
	if (n->status == AML_NODE_PENDING) /* cannot happen: belt and braces */
		n->status = AML_NODE_BUGGY;
}

static void
log_node(aml_search *s, const aml_node *n, int new_best)
{
	const char *metric = aml_task_view(s->task)->metric;
	char cached[48] = "";

	if (n->cached_from >= 0)
		snprintf(cached, sizeof cached, "  (same code as node %d: its result)", n->cached_from);
	if (n->status == AML_NODE_VALID)
		aml_info("node %u (%s%s%s, parent %d): %s = %.6g%s%s%s%s", n->id, n->op,
			 strcmp(n->mode, "primary") ? "/" : "",
			 strcmp(n->mode, "primary") ? n->mode : "", n->parent, metric, n->score,
			 new_best ? "  new best" : "", n->flags && n->flags[0] ? "  flagged: " : "",
			 n->flags && n->flags[0] ? n->flags : "", cached);
	else
		aml_info("node %u (%s, parent %d): %s: %s%s", n->id, n->op, n->parent,
			 aml_node_status_name(n->status), n->reason, cached);
}

/* Pick the next expansion; 1 with d set, 2 with *rerun set (a node an
 * earlier process left running, d its decision), 0 to wait, -1 to stop.
 * Called with the lock held. */
static int
pick(aml_search *s, aml_mcgs_decision *d, uint32_t *rerun)
{
	double f;

	if (s->fatal)
		return -1;
	if (stopping(s)) {
		if (!s->interrupted)
			snprintf(s->stop_reason, sizeof s->stop_reason,
				 "interrupted (SIGINT or SIGTERM)");
		s->interrupted = 1;
		return -1;
	}
	f = budget_frac(s);
	/* the node budget counted these already */
	if (s->next_rerun < s->n_rerun && (!s->stop_reason[0] || s->stop_nodes)) {
		*rerun = s->rerun[s->next_rerun++];
		*d = s->decided[*rerun];
		return 2;
	}
	if (s->stop_reason[0])
		return -1;
	if (s->drafts_only) {
		if (s->graph.root_children >= (size_t)s->num_drafts) {
			if (s->in_flight == 0)
				snprintf(s->stop_reason, sizeof s->stop_reason,
					 "all %ld drafts done", s->num_drafts);
			return -1;
		}
		memset(d, 0, sizeof *d);
		d->parent = -1;
		d->op = "draft";
		d->mode = "primary";
		return 1;
	}
	if (aml_mcgs_select(s->mcgs, f > 1 ? 1 : f, d) == 0)
		return 1;
	if (s->in_flight == 0) {
		snprintf(s->stop_reason, sizeof s->stop_reason, "nothing left to expand");
		return -1;
	}
	return 0;
}

static void *
worker(void *arg)
{
	aml_search *s = arg;
	aml_mcgs_decision d;
	job j;
	outcome o;
	char ferr[512];
	uint32_t rerun = 0;
	int r, rc, new_best;
	double t;

	pthread_mutex_lock(&s->lock);
	for (;;) {
		r = pick(s, &d, &rerun);
		if (r < 0)
			break;
		if (r == 0) {
			if (s->cancel) {
				/* a signal cannot signal a condition variable */
				struct timespec ts;

				clock_gettime(CLOCK_REALTIME, &ts);
				ts.tv_nsec += 200 * 1000 * 1000;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&s->changed, &s->lock, &ts);
			} else {
				pthread_cond_wait(&s->changed, &s->lock);
			}
			continue;
		}
		rc = job_prepare(s, &d, &j);
		if (rc == AML_OK && r == 2) {
			j.n = s->graph.nodes[rerun];
			j.rerun = 1;
		} else if (rc == AML_OK) {
			j.n = aml_graph_add(&s->graph, d.parent, d.op, d.mode);
			if (j.n == NULL)
				rc = AML_ENOMEM;
		}
		if (rc != AML_OK) {
			if (s->mcgs)
				aml_mcgs_release(s->mcgs, &d);
			job_free(&j);
			s->fatal = 1;
			snprintf(s->fatal_err, sizeof s->fatal_err, "cannot start node for %s: %s",
				 d.op, aml_strerror(rc));
			break;
		}
		if (j.rerun) {
			const uint32_t *kids = d.parent >= 0 ? s->graph.nodes[d.parent]->children
				: s->graph.roots;
			size_t nk = d.parent >= 0 ? s->graph.nodes[d.parent]->n_children
				: s->graph.root_children;

			for (j.seq = 0; j.seq < nk && kids[j.seq] != rerun; j.seq++)
				;
		} else {
			j.n->created_at = aml_now() - s->t0;
			/* counting siblings still running, so concurrent drafts differ */
			j.seq = (uint32_t)(d.parent >= 0 ? s->graph.nodes[d.parent]->n_children
					   : s->graph.root_children) - 1;
			/* under the lock: the journal's order is the graph's */
			journal_created(s, &j);
		}
		s->in_flight++;
		pthread_mutex_unlock(&s->lock);

		t = aml_now();
		ferr[0] = '\0';
		rc = expand(s, &j, &o, ferr, sizeof ferr);
		if (rc != AML_OK && o.status == AML_NODE_PENDING)
			set_reason(&o, AML_NODE_BUGGY, ferr[0] ? ferr : aml_strerror(rc));

		pthread_mutex_lock(&s->lock);
		s->busy_seconds += aml_now() - t;
		if (o.interrupted && rc == AML_OK) {
			/* not a result: the node stays pending, for resume */
			s->n_interrupted++;
			journal_interrupted(s, j.n->id);
			aml_info("node %u (%s): interrupted; 'automlgen resume' runs it again",
				 j.n->id, j.n->op);
			s->in_flight--;
			pthread_cond_broadcast(&s->changed);
			outcome_free(&o);
			job_free(&j);
			continue;
		}
		if (s->cache_on && o.cacheable && rc == AML_OK
		    && aml_rescache_add(&s->cache, o.key, j.n->id) != AML_OK)
			aml_warn("node result cache: out of memory; node %u not cached", j.n->id);
		commit(j.n, &o);
		s->n_finished++;
		if (s->mcgs) {
			int before = s->graph.best;

			if (aml_mcgs_integrate(s->mcgs, &j.d, j.n) != AML_OK && !s->fatal) {
				s->fatal = 1;
				snprintf(s->fatal_err, sizeof s->fatal_err, "out of memory");
			}
			new_best = s->graph.best != before;
		} else {
			new_best = aml_graph_finish(&s->graph, j.n);
		}
		if (rc != AML_OK && !s->fatal) {
			s->fatal = 1;
			snprintf(s->fatal_err, sizeof s->fatal_err, "%s", ferr);
		}
		log_node(s, j.n, new_best);
		journal_finished(s, j.n);
		s->in_flight--;
		pthread_cond_broadcast(&s->changed);
		pthread_mutex_unlock(&s->lock);

		/* the node is finished: its record no longer changes */
		if (aml_rundir_write_node(s->rd, j.n, ferr, sizeof ferr) != AML_OK)
			aml_warn("node %u: %s", j.n->id, ferr);
		outcome_free(&o);
		job_free(&j);
		pthread_mutex_lock(&s->lock);
	}
	pthread_cond_broadcast(&s->changed);
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Resume                                                              */

int
aml_search_replay_created(aml_search *s, const aml_mcgs_decision *d, uint32_t id,
			  double created_at, char *err, size_t errlen)
{
	aml_node *n;

	if (id != s->graph.n || (d->parent >= 0 && (size_t)d->parent >= s->graph.n)) {
		aml_seterr(err, errlen, "node %u created out of order (next id %zu, parent %d)",
			   id, s->graph.n, d->parent);
		return AML_EFORMAT;
	}
	if (d->parent >= 0 && s->graph.nodes[d->parent]->status == AML_NODE_PENDING) {
		aml_seterr(err, errlen, "node %u: its parent %d never finished", id, d->parent);
		return AML_EFORMAT;
	}
	if (id >= s->cap_decided) {
		size_t cap = s->cap_decided ? s->cap_decided * 2 : 64;
		aml_mcgs_decision *nd;

		while (cap <= id)
			cap *= 2;
		nd = realloc(s->decided, cap * sizeof *nd);
		if (nd == NULL)
			return AML_ENOMEM;
		s->decided = nd;
		s->cap_decided = cap;
	}
	n = aml_graph_add(&s->graph, d->parent, d->op, d->mode);
	if (n == NULL)
		return AML_ENOMEM;
	n->created_at = created_at;
	s->decided[id] = *d;
	if (s->mcgs)
		aml_mcgs_replay(s->mcgs, d);
	return AML_OK;
}

int
aml_search_replay_finished(aml_search *s, uint32_t id, aml_node *rec, char *err, size_t errlen)
{
	aml_node *n;
	outcome o;
	int rc = AML_OK;

	if (id >= s->graph.n || s->graph.nodes[id]->status != AML_NODE_PENDING) {
		aml_seterr(err, errlen, "node %u finished %s", id,
			   id >= s->graph.n ? "before it was created" : "twice");
		return AML_EFORMAT;
	}
	if (rec->status == AML_NODE_PENDING) {
		aml_seterr(err, errlen, "node %u finished without a status", id);
		return AML_EFORMAT;
	}
	n = s->graph.nodes[id];
	memset(&o, 0, sizeof o);
	o.code = rec->code;
	o.plan = rec->plan;
	o.reason = rec->reason;
	o.output = rec->output;
	o.flags = rec->flags;
	o.review = rec->review;
	rec->code = rec->plan = rec->reason = rec->output = rec->flags = rec->review = NULL;
	o.status = rec->status;
	o.has_score = rec->has_score;
	o.score = rec->score;
	o.exec = rec->outcome;
	o.exit_code = rec->exit_code;
	o.truncated = rec->truncated;
	o.op_seconds = rec->op_seconds;
	o.exec_seconds = rec->exec_seconds;
	o.tokens_in = rec->tokens_in;
	o.tokens_out = rec->tokens_out;
	o.cached_from = rec->cached_from;
	if (o.reason == NULL)
		o.reason = strdup("");
	if (o.reason == NULL) {
		outcome_free(&o);
		return AML_ENOMEM;
	}
	/* what the worker cached: code that ran itself to an exit */
	if (s->cache_on && o.code && o.cached_from < 0
	    && (o.exec == AML_EXEC_OK || o.exec == AML_EXEC_CRASHED)) {
		aml_rescache_key(o.code, o.key);
		rc = aml_rescache_add(&s->cache, o.key, id);
	}
	commit(n, &o);
	s->n_finished++;
	outcome_free(&o);
	if (rc != AML_OK)
		return rc;
	if (s->mcgs)
		return aml_mcgs_integrate(s->mcgs, &s->decided[id], n);
	aml_graph_finish(&s->graph, n);
	return AML_OK;
}

int
aml_search_replay_done(aml_search *s, double elapsed, uint64_t salt, char *err, size_t errlen)
{
	size_t i, k = 0;

	(void)err;
	(void)errlen;
	for (i = 0; i < s->graph.n; i++)
		k += s->graph.nodes[i]->status == AML_NODE_PENDING;
	s->rerun = k ? calloc(k, sizeof *s->rerun) : NULL;
	if (k && s->rerun == NULL)
		return AML_ENOMEM;
	for (i = 0; i < s->graph.n; i++)
		if (s->graph.nodes[i]->status == AML_NODE_PENDING)
			s->rerun[s->n_rerun++] = (uint32_t)i;
	s->next_rerun = 0;
	if (elapsed > 0)
		s->t0 = aml_now() - elapsed;
	if (s->mcgs)
		aml_mcgs_reseed(s->mcgs, salt);
	s->resumed = 1;
	return AML_OK;
}

int
aml_search_run(aml_search *s, char *err, size_t errlen)
{
	pthread_t *th;
	long i, started = 0;

	th = calloc((size_t)s->workers, sizeof *th);
	if (th == NULL)
		return AML_ENOMEM;
	aml_info("search: policy %s, %ld worker%s, budget %ld nodes / %g s",
		 s->drafts_only ? "drafts" : aml_policy_name(s->params.policy), s->workers,
		 s->workers == 1 ? "" : "s", s->max_nodes, s->time_limit_s);
	if (s->journal) {
		json_object *ev = json_object_new_object();

		if (ev) {
			json_object_object_add(ev, "task", json_object_new_string(
				aml_task_view(s->task)->name));
			json_object_object_add(ev, "policy", json_object_new_string(
				s->drafts_only ? "drafts" : aml_policy_name(s->params.policy)));
			json_object_object_add(ev, "seed", json_object_new_int64((int64_t)s->seed));
			json_object_object_add(ev, "workers", json_object_new_int((int)s->workers));
			json_object_object_add(ev, "max_nodes", json_object_new_int64(s->max_nodes));
			if (s->task_dir)
				json_object_object_add(ev, "task_dir", json_object_new_string(s->task_dir));
			if (s->resumed) {
				json_object_object_add(ev, "nodes", json_object_new_int((int)s->graph.n));
				json_object_object_add(ev, "reruns", json_object_new_int((int)s->n_rerun));
			}
		}
		journal_put(s, ev, s->resumed ? "resume" : "start");
	}
	if (s->workers == 1) {
		worker(s); /* no thread: the same order every time */
	} else {
		for (i = 0; i < s->workers; i++) {
			if (pthread_create(&th[i], NULL, worker, s) != 0)
				break;
			started++;
		}
		if (started == 0) {
			worker(s);
		}
		for (i = 0; i < started; i++)
			pthread_join(th[i], NULL);
	}
	free(th);
	if (s->journal) {
		json_object *ev = json_object_new_object();

		if (ev) {
			json_object_object_add(ev, "reason", json_object_new_string(
				s->fatal ? s->fatal_err : s->stop_reason));
			json_object_object_add(ev, "nodes", json_object_new_int((int)s->graph.n));
		}
		journal_put(s, ev, "stop");
	}
	if (s->fatal) {
		aml_seterr(err, errlen, "the search stopped: %s", s->fatal_err);
		return AML_EIO;
	}
	return AML_OK;
}
