/*
 * restore.c — see restore.h.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "journal.h"
#include "log.h"
#include "mcgs.h"
#include "restore.h"
#include "util.h"

typedef struct replay {
	aml_search *s;                /* NULL: peek only */
	const char *run_dir;
	aml_restore_info *info;
	json_object *llm;             /* the last "llm" seen (a reference) */
	size_t line;                  /* events read */
	int warned_backprop;
	char err[AML_ERRLEN];
} replay;

static const char *
str_of(json_object *ev, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The integer at key; -1 with *ok cleared when missing or not a number. */
static int64_t
int_of(json_object *ev, const char *key, int *ok)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, key, &v)
	    || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))) {
		*ok = 0;
		return -1;
	}
	return json_object_get_int64(v);
}

static double
num_of(json_object *ev, const char *key, double dflt)
{
	json_object *v;

	if (!json_object_object_get_ex(ev, key, &v)
	    || !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return dflt;
	return json_object_get_double(v);
}

static int
set_str(char **dst, const char *v)
{
	char *c;

	if (v == NULL)
		return AML_OK;
	if ((c = strdup(v)) == NULL)
		return AML_ENOMEM;
	free(*dst);
	*dst = c;
	return AML_OK;
}

static int
bad(replay *r, const char *what)
{
	snprintf(r->err, sizeof r->err, "journal event %zu: %.400s", r->line, what);
	return AML_EFORMAT;
}

static int
status_by_name(const char *name, aml_node_status *out)
{
	int i;

	for (i = AML_NODE_VALID; name && i <= AML_NODE_OP_FAILED; i++)
		if (strcmp(name, aml_node_status_name((aml_node_status)i)) == 0) {
			*out = (aml_node_status)i;
			return 0;
		}
	return -1;
}

static int
outcome_by_name(const char *name, aml_exec_outcome *out)
{
	int i;

	for (i = AML_EXEC_OK; name && i <= AML_EXEC_CANCELLED; i++)
		if (strcmp(name, aml_exec_outcome_name((aml_exec_outcome)i)) == 0) {
			*out = (aml_exec_outcome)i;
			return 0;
		}
	return -1;
}

static int
ref_kind_by_name(const char *name, uint8_t *out)
{
	int k;

	for (k = AML_REF_RECALL; name && k <= AML_REF_FUSION; k++)
		if (strcmp(name, aml_ref_kind_name((aml_ref_kind)k)) == 0) {
			*out = (uint8_t)k;
			return 0;
		}
	return -1;
}

static int
on_start(replay *r, json_object *ev)
{
	aml_restore_info *in = r->info;
	int rc;

	in->segments++;
	if ((rc = set_str(&in->task_dir, str_of(ev, "task_dir"))) != AML_OK
	    || (rc = set_str(&in->task, str_of(ev, "task"))) != AML_OK
	    || (rc = set_str(&in->policy, str_of(ev, "policy"))) != AML_OK)
		return rc;
	free(in->stop_reason); /* a new process: it has not stopped yet */
	in->stop_reason = NULL;
	return AML_OK;
}

static int
on_created(replay *r, json_object *ev)
{
	aml_mcgs_decision d;
	json_object *refs;
	const char *flavor = str_of(ev, "flavor");
	int ok = 1, rc;
	int64_t id = int_of(ev, "id", &ok), parent = int_of(ev, "parent", &ok);
	size_t i, n;

	r->info->nodes++;
	if (r->s == NULL)
		return AML_OK;
	memset(&d, 0, sizeof d);
	d.op = aml_mcgs_name(str_of(ev, "op"));
	d.mode = aml_mcgs_name(str_of(ev, "mode"));
	d.flavor = flavor ? aml_mcgs_name(flavor) : NULL;
	if (!ok || id < 0 || parent < -1 || id > UINT32_MAX)
		return bad(r, "created: no valid id and parent");
	if (d.op == NULL || d.mode == NULL || (flavor && d.flavor == NULL))
		return bad(r, "created: unknown operator, mode or flavor");
	d.parent = (int32_t)parent;
	if (json_object_object_get_ex(ev, "refs", &refs) && json_object_is_type(refs, json_type_array)) {
		n = json_object_array_length(refs);
		if (n > AML_MCGS_MAX_REFS)
			return bad(r, "created: too many references");
		for (i = 0; i < n; i++) {
			json_object *e = json_object_array_get_idx(refs, i);
			int64_t to = int_of(e, "node", &ok);

			if (!ok || to < 0 || to >= id
			    || ref_kind_by_name(str_of(e, "kind"), &d.ref_kinds[i]) != 0)
				return bad(r, "created: a bad reference");
			d.refs[i] = (uint32_t)to;
		}
		d.n_refs = (uint32_t)n;
	}
	rc = aml_search_replay_created(r->s, &d, (uint32_t)id, num_of(ev, "t", 0), r->err,
				       sizeof r->err);
	if (rc == AML_EFORMAT) {
		char why[AML_ERRLEN];

		snprintf(why, sizeof why, "%s", r->err);
		return bad(r, why);
	}
	return rc;
}

/* The node's script: what ran, from its folder. */
static int
read_code(replay *r, uint32_t id, char **code)
{
	char rel[64], *path, err[AML_ERRLEN];
	int rc;

	snprintf(rel, sizeof rel, "nodes/%04u/solution.py", (unsigned)id);
	path = aml_path_join(r->run_dir, rel);
	if (path == NULL)
		return AML_ENOMEM;
	rc = aml_read_file(path, 16u << 20, code, NULL, err, sizeof err);
	free(path);
	if (rc != AML_OK) {
		snprintf(r->err, sizeof r->err, "journal event %zu: node %u finished but %.400s",
			 r->line, (unsigned)id, err);
		return AML_EFORMAT;
	}
	return AML_OK;
}

static int
on_finished(replay *r, json_object *ev)
{
	aml_node rec;
	json_object *v;
	const char *outcome = str_of(ev, "outcome");
	int ok = 1, rc = AML_OK;
	int64_t id = int_of(ev, "id", &ok);

	r->info->finished++;
	if (r->s == NULL)
		return AML_OK;
	if (!ok || id < 0 || id > UINT32_MAX)
		return bad(r, "finished: no valid id");
	memset(&rec, 0, sizeof rec);
	rec.cached_from = -1;
	if (status_by_name(str_of(ev, "status"), &rec.status) != 0)
		return bad(r, "finished: unknown status");
	if (outcome == NULL || (strcmp(outcome, "not_run") != 0
				&& outcome_by_name(outcome, &rec.outcome) != 0))
		return bad(r, "finished: unknown outcome");
	if (json_object_object_get_ex(ev, "score", &v) && v != NULL) {
		rec.has_score = 1;
		rec.score = json_object_get_double(v);
	}
	rec.exit_code = (int)int_of(ev, "exit_code", &(int){1});
	rec.cached_from = (int32_t)int_of(ev, "cached_from", &(int){1});
	if (rec.cached_from >= id)
		return bad(r, "finished: cached_from a later node");
	rec.truncated = json_object_object_get_ex(ev, "truncated", &v) && json_object_get_boolean(v);
	rec.op_seconds = num_of(ev, "op_seconds", 0);
	rec.exec_seconds = num_of(ev, "exec_seconds", 0);
	rec.tokens_in = (uint64_t)num_of(ev, "tokens_in", 0);
	rec.tokens_out = (uint64_t)num_of(ev, "tokens_out", 0);
	if (strcmp(outcome, "not_run") != 0)
		rc = read_code(r, (uint32_t)id, &rec.code);
	if (rc == AML_OK && ((rc = set_str(&rec.reason, str_of(ev, "reason"))) != AML_OK
			     || (rc = set_str(&rec.plan, str_of(ev, "plan"))) != AML_OK
			     || (rc = set_str(&rec.output, str_of(ev, "output"))) != AML_OK
			     || (rc = set_str(&rec.flags, str_of(ev, "flags"))) != AML_OK
			     || (rc = set_str(&rec.review, str_of(ev, "review"))) != AML_OK))
		rc = AML_ENOMEM;
	if (rc == AML_OK && rec.plan == NULL)
		rc = set_str(&rec.plan, "");
	if (rc == AML_OK) {
		rc = aml_search_replay_finished(r->s, (uint32_t)id, &rec, r->err, sizeof r->err);
		if (rc == AML_EFORMAT) {
			char why[AML_ERRLEN];

			snprintf(why, sizeof why, "%s", r->err);
			rc = bad(r, why);
		}
	}
	free(rec.code);
	free(rec.plan);
	free(rec.reason);
	free(rec.output);
	free(rec.flags);
	free(rec.review);
	return rc;
}

/* The journal's reward and visits for a node must be what the replay
 * gave it; a difference means the replay is not faithful (said once). */
static int
on_backprop(replay *r, json_object *ev)
{
	const aml_node *n;
	int ok = 1;
	int64_t id = int_of(ev, "id", &ok);

	if (r->s == NULL || !ok || id < 0 || (size_t)id >= r->s->graph.n || r->warned_backprop)
		return AML_OK;
	n = r->s->graph.nodes[id];
	if (n->reward != num_of(ev, "reward", n->reward)
	    || (int64_t)n->visits != int_of(ev, "visits", &ok)) {
		aml_warn("resume: node %u's reward/visits replay as %g/%u, the journal says %g/%lld",
			 n->id, n->reward, n->visits, num_of(ev, "reward", 0),
			 (long long)int_of(ev, "visits", &ok));
		r->warned_backprop = 1;
	}
	return AML_OK;
}

static int
on_event(json_object *ev, void *ctx)
{
	replay *r = ctx;
	const char *name = str_of(ev, "ev");
	json_object *llm;
	double t = num_of(ev, "t", 0);
	int rc = AML_OK;

	r->line++;
	if (t > r->info->elapsed)
		r->info->elapsed = t;
	if (json_object_object_get_ex(ev, "llm", &llm) && json_object_is_type(llm, json_type_object)) {
		json_object_put(r->llm);
		r->llm = json_object_get(llm);
	}
	if (name == NULL)
		return bad(r, "no \"ev\" key");
	if (strcmp(name, "start") == 0 || strcmp(name, "resume") == 0)
		rc = on_start(r, ev);
	else if (r->info->segments == 0)
		return bad(r, "events before the start event");
	else if (strcmp(name, "created") == 0)
		rc = on_created(r, ev);
	else if (strcmp(name, "finished") == 0)
		rc = on_finished(r, ev);
	else if (strcmp(name, "backprop") == 0)
		rc = on_backprop(r, ev);
	else if (strcmp(name, "stop") == 0)
		rc = set_str(&r->info->stop_reason, str_of(ev, "reason") ? str_of(ev, "reason") : "");
	/* scripted, interrupted and unknown events change nothing here */
	return rc;
}

static char *
journal_path(const char *run_dir)
{
	return aml_path_join(run_dir, "journal.jsonl");
}

static int
read_all(replay *r, char *err, size_t errlen)
{
	char *path = journal_path(r->run_dir);
	int rc;

	if (path == NULL)
		return AML_ENOMEM;
	if (!aml_is_file(path)) {
		aml_seterr(err, errlen, "%s: no journal.jsonl: not a run directory, or the run had "
			   "run.journal=false (nothing to resume from)", r->run_dir);
		free(path);
		return AML_ENOTFOUND;
	}
	r->err[0] = '\0';
	rc = aml_journal_read(path, on_event, r, &r->info->torn, err, errlen);
	if (rc != AML_OK && r->err[0])
		aml_seterr(err, errlen, "%s: %s", path, r->err);
	else if (rc == AML_OK && r->info->segments == 0) {
		aml_seterr(err, errlen, "%s: no start event: the run never began its search", path);
		rc = AML_EFORMAT;
	}
	free(path);
	return rc;
}

int
aml_restore_peek(const char *run_dir, aml_restore_info *info, char *err, size_t errlen)
{
	replay r;
	int rc;

	memset(info, 0, sizeof *info);
	memset(&r, 0, sizeof r);
	r.run_dir = run_dir;
	r.info = info;
	rc = read_all(&r, err, errlen);
	json_object_put(r.llm);
	if (rc == AML_OK && info->task_dir == NULL) {
		aml_seterr(err, errlen, "%s/journal.jsonl does not name its task directory (it was "
			   "written by an older automlgen): it cannot be resumed", run_dir);
		rc = AML_EFORMAT;
	}
	if (rc != AML_OK)
		aml_restore_info_free(info);
	return rc;
}

/* Add the LLM spending the journal recorded last. */
static void
add_llm(aml_llm *llm, json_object *o)
{
	static const char *const roles[AML_N_ROLES] = {"code", "feedback"};
	int role, ok = 1;

	for (role = 0; o && llm && role < AML_N_ROLES; role++) {
		json_object *one;
		aml_llm_role_stats st;

		if (!json_object_object_get_ex(o, roles[role], &one))
			continue;
		memset(&st, 0, sizeof st);
		st.calls = (uint64_t)int_of(one, "calls", &ok);
		st.failures = (uint64_t)int_of(one, "failures", &ok);
		st.tokens_in = (uint64_t)int_of(one, "tokens_in", &ok);
		st.tokens_out = (uint64_t)int_of(one, "tokens_out", &ok);
		st.cost = num_of(one, "cost", 0);
		if (ok)
			aml_llm_add_prior(llm, role, &st);
	}
}

/* node.json for finished nodes that lack it (the process died between
 * journaling a node and writing its record). */
static void
write_missing_records(aml_search *s)
{
	char rel[64], *path, err[AML_ERRLEN];
	size_t i;

	for (i = 0; i < s->graph.n; i++) {
		const aml_node *n = s->graph.nodes[i];

		if (n->status == AML_NODE_PENDING)
			continue;
		snprintf(rel, sizeof rel, "nodes/%04u/node.json", (unsigned)n->id);
		path = aml_path_join(s->rd->path, rel);
		if (path && !aml_is_file(path) && aml_rundir_write_node(s->rd, n, err, sizeof err) != AML_OK)
			aml_warn("node %u: %s", n->id, err);
		free(path);
	}
}

int
aml_restore_search(aml_search *s, const char *run_dir, aml_llm *llm,
		   aml_restore_info *info, char *err, size_t errlen)
{
	const char *policy = s->drafts_only ? "drafts" : aml_policy_name(s->params.policy);
	char *path = journal_path(run_dir);
	replay r;
	size_t cut = 0;
	int rc;

	memset(info, 0, sizeof *info);
	memset(&r, 0, sizeof r);
	r.s = s;
	r.run_dir = run_dir;
	r.info = info;
	rc = path ? aml_journal_repair(path, &cut, err, errlen) : AML_ENOMEM;
	free(path);
	if (rc == AML_OK && cut)
		aml_warn("resume: cut %zu bytes of a torn last journal line", cut);
	if (rc == AML_OK)
		rc = read_all(&r, err, errlen);
	if (rc == AML_OK && info->policy && strcmp(info->policy, policy) != 0) {
		aml_seterr(err, errlen, "the run searched with search.policy %s, not %s: a resume "
			   "keeps its policy (drop the override)", info->policy, policy);
		rc = AML_EINVAL;
	}
	if (rc == AML_OK) {
		add_llm(llm, r.llm);
		rc = aml_search_replay_done(s, info->elapsed, (uint64_t)r.line, err, errlen);
	}
	if (rc == AML_OK)
		write_missing_records(s);
	json_object_put(r.llm);
	return rc;
}

void
aml_restore_info_free(aml_restore_info *info)
{
	free(info->task_dir);
	free(info->task);
	free(info->policy);
	free(info->stop_reason);
	memset(info, 0, sizeof *info);
}
