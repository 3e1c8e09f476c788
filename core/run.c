/*
 * run.c — see run.h.
 */
#include "config.h"

#include <json-c/json.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ensemble.h"
#include "graph.h"
#include "host.h"
#include "hardware.h"
#include "interrupt.h"
#include "journal.h"
#include "kb.h"
#include "kbload.h"
#include "loader.h"
#include "log.h"
#include "preview.h"
#include "progress.h"
#include "registry.h"
#include "restore.h"
#include "review.h"
#include "run.h"
#include "rundir.h"
#include "search.h"
#include "task.h"
#include "util.h"

extern char **environ;

#define MAX_OPS 16

typedef struct run_state {
	const aml_config *cfg;
	aml_task_info *task;
	aml_registry *reg;
	aml_context ctx;
	aml_llm llm;
	int llm_ready;
	aml_plugin *provider;        /* the code role's */
	aml_plugin *feedback;        /* the feedback role's; NULL: the code one */
	aml_plugin *executor;
	aml_search_op ops[MAX_OPS];
	size_t n_ops;
	aml_kb *kb;
	aml_rundir rd;
	aml_search search;
	int search_ready;
	aml_journal *journal;        /* RUN_DIR/journal.jsonl, NULL when off */
} run_state;

/* Load, check and initialise plugin name into slot. */
static int
open_named(run_state *st, aml_kind kind, const char *slot, const char *name,
	   aml_plugin **out, char *err, size_t errlen)
{
	const aml_manifest *m;
	aml_plugin *p;
	int rc;

	*out = NULL;
	if (name == NULL || name[0] == '\0') {
		aml_seterr(err, errlen, "configuration key '%s' names no %s plugin",
			   slot, aml_kind_name(kind));
		return AML_EINVAL;
	}
	m = aml_registry_find(st->reg, kind, name, err, errlen);
	if (m == NULL)
		return AML_ENOTFOUND;
	rc = aml_plugin_load(m, slot, &p, err, errlen);
	if (rc != AML_OK)
		return rc;
	rc = aml_host_check_params(p, st->cfg, err, errlen);
	if (rc == AML_OK)
		rc = aml_plugin_init(p, &st->ctx, err, errlen);
	if (rc != AML_OK) {
		aml_plugin_close(p);
		return rc;
	}
	aml_debug("loaded %s plugin %s %s from %s", aml_kind_name(kind), m->name,
		  m->version, p->libpath);
	*out = p;
	return AML_OK;
}

/* Load, check and initialise the plugin the config names for slot. */
static int
open_slot(run_state *st, aml_kind kind, const char *slot, aml_plugin **out,
	  char *err, size_t errlen)
{
	return open_named(st, kind, slot, aml_config_get(st->cfg, slot), out, err, errlen);
}

/* executor: auto — the bwrap sandbox where it works on this machine (and
 * serves the configured interpreter), else the local executor, said in
 * one line. */
static int
open_executor(run_state *st, char *err, size_t errlen)
{
	const char *name = aml_config_get(st->cfg, "executor");
	int rc;

	if (name == NULL || strcmp(name, "auto") != 0)
		return open_slot(st, AML_KIND_EXECUTOR, "executor", &st->executor, err, errlen);
	rc = open_named(st, AML_KIND_EXECUTOR, "executor", "bwrap", &st->executor, err, errlen);
	if (rc == AML_EUNSUPPORTED || rc == AML_ENOTFOUND) {
		aml_warn("executor auto: no sandbox (%s); candidates run with the local executor",
			 err);
		rc = open_named(st, AML_KIND_EXECUTOR, "executor", "local", &st->executor, err,
				errlen);
	}
	return rc;
}

/* Open the operator plugin of slot operators.<name> as st->ops[n_ops]
 * (counted even when it fails, so cleanup frees its name). */
static int
open_op(run_state *st, const char *name, char *err, size_t errlen)
{
	aml_search_op *o = &st->ops[st->n_ops++];
	aml_sb slot = {0};
	int rc;

	aml_sb_printf(&slot, "operators.%s", name);
	o->name = strdup(name);
	rc = slot.oom || o->name == NULL ? AML_ENOMEM
		: open_slot(st, AML_KIND_OPERATOR, slot.s, &o->plugin, err, errlen);
	aml_sb_free(&slot);
	return rc;
}

/* Does the interpreter import what every generated script needs? */
static int
check_python(const char *python, char *err, size_t errlen)
{
	char *argv[] = {(char *)python, "-c", "import numpy, pandas, sklearn", NULL};
	posix_spawn_file_actions_t fa;
	pid_t pid;
	int status, rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&pid, python, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		aml_seterr(err, errlen, "cannot run the interpreter %s: %s; set executor.python",
			   python, strerror(rc));
		return AML_EINVAL;
	}
	while (waitpid(pid, &status, 0) < 0)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		aml_seterr(err, errlen,
			   "the interpreter %s cannot import numpy, pandas and sklearn; "
			   "install them (Debian: apt-get install python3-pandas python3-sklearn) "
			   "or point executor.python at one that can", python);
		return AML_EINVAL;
	}
	return AML_OK;
}

/* The knowledge base as kbload.h says (AUTOMLGEN_KB_PATH, kb.path, the
 * registry's packs), its retrievers serving this run; none when
 * kb.enabled is false (then host->kb_query answers no entries). */
static int
load_kb(run_state *st, const char *python, char *err, size_t errlen)
{
	int on, rc;

	rc = aml_config_bool(st->cfg, "kb.enabled", &on, err, errlen);
	if (rc != AML_OK || !on)
		return rc;
	rc = aml_kb_load_all(st->cfg, st->reg, &st->ctx, python, &st->kb, err, errlen);
	if (rc != AML_OK)
		return rc;
	st->ctx.kb = st->kb;
	return AML_OK;
}

static void
llm_stats_json(json_object *o, const aml_llm_role_stats *t)
{
	json_object_object_add(o, "calls", json_object_new_int64((int64_t)t->calls));
	json_object_object_add(o, "failures", json_object_new_int64((int64_t)t->failures));
	json_object_object_add(o, "tokens_in", json_object_new_int64((int64_t)t->tokens_in));
	json_object_object_add(o, "tokens_out", json_object_new_int64((int64_t)t->tokens_out));
	json_object_object_add(o, "cost", json_object_new_double(t->cost));
}

static int
write_summary(run_state *st, aml_run_result *res, const char *chosen_why)
{
	const aml_task *t = aml_task_view(st->task);
	aml_graph *g = &st->search.graph;
	json_object *o = json_object_new_object(), *nodes = json_object_new_array();
	json_object *counts = json_object_new_object(), *llm = json_object_new_object();
	size_t i, by_status[5] = {0};
	const char *text;
	char err[AML_ERRLEN];
	int rc;

	if (o == NULL || nodes == NULL || counts == NULL || llm == NULL) {
		json_object_put(o);
		json_object_put(nodes);
		json_object_put(counts);
		json_object_put(llm);
		return AML_ENOMEM;
	}
	for (i = 0; i < g->n; i++) {
		const aml_node *n = g->nodes[i];
		json_object *j = json_object_new_object();

		by_status[n->status]++;
		json_object_object_add(j, "id", json_object_new_int((int)n->id));
		json_object_object_add(j, "parent", json_object_new_int(n->parent));
		json_object_object_add(j, "operator", json_object_new_string(n->op));
		json_object_object_add(j, "mode", json_object_new_string(n->mode));
		json_object_object_add(j, "branch", json_object_new_int((int)n->branch));
		if (n->n_refs) {
			json_object *refs = json_object_new_array();
			uint32_t r;

			for (r = 0; r < n->n_refs; r++) {
				json_object *e = json_object_new_object();

				json_object_object_add(e, "node", json_object_new_int((int)n->refs[r]));
				json_object_object_add(e, "kind", json_object_new_string(
					aml_ref_kind_name((aml_ref_kind)n->ref_kinds[r])));
				json_object_array_add(refs, e);
			}
			json_object_object_add(j, "refs", refs);
		}
		json_object_object_add(j, "reward", json_object_new_double(n->reward));
		json_object_object_add(j, "visits", json_object_new_int((int)n->visits));
		json_object_object_add(j, "status",
				       json_object_new_string(aml_node_status_name(n->status)));
		json_object_object_add(j, "score",
				       n->has_score ? json_object_new_double(n->score) : NULL);
		json_object_object_add(j, "reason", json_object_new_string(n->reason));
		json_object_object_add(j, "flags", json_object_new_string(n->flags ? n->flags : ""));
		if (n->review)
			json_object_object_add(j, "review", json_object_new_string(n->review));
		json_object_object_add(j, "exec_seconds", json_object_new_double(n->exec_seconds));
		if (n->cached_from >= 0)
			json_object_object_add(j, "cached_from", json_object_new_int(n->cached_from));
		json_object_object_add(j, "tokens_in", json_object_new_int64((int64_t)n->tokens_in));
		json_object_object_add(j, "tokens_out", json_object_new_int64((int64_t)n->tokens_out));
		json_object_array_add(nodes, j);
	}
	for (i = 0; i < 5; i++)
		json_object_object_add(counts, aml_node_status_name((aml_node_status)i),
				       json_object_new_int((int)by_status[i]));
	json_object_object_add(o, "task", json_object_new_string(t->name));
	json_object_object_add(o, "metric", json_object_new_string(t->metric));
	json_object_object_add(o, "higher_is_better", json_object_new_boolean(t->higher_is_better));
	json_object_object_add(o, "best_node", g->best >= 0 ? json_object_new_int(g->best) : NULL);
	json_object_object_add(o, "best_score",
			       g->best >= 0 ? json_object_new_double(g->nodes[g->best]->score) : NULL);
	json_object_object_add(o, "chosen", json_object_new_string(chosen_why));
	json_object_object_add(o, "stop_reason", json_object_new_string(st->search.stop_reason));
	{
		double wall = aml_now() - st->search.t0;
		json_object *search = json_object_new_object();

		json_object_object_add(o, "seconds", json_object_new_double(wall));
		json_object_object_add(search, "policy", json_object_new_string(
			aml_config_get(st->cfg, "search.policy")));
		json_object_object_add(search, "workers", json_object_new_int((int)st->search.workers));
		json_object_object_add(search, "worker_utilization", json_object_new_double(
			wall > 0 ? st->search.busy_seconds / (wall * (double)st->search.workers) : 0));
		json_object_object_add(search, "cache_hits",
				       json_object_new_int64((int64_t)st->search.cache_hits));
		if (st->search.mcgs) {
			aml_mcgs_stats ms;

			aml_mcgs_get_stats(st->search.mcgs, &ms);
			json_object_object_add(search, "primary", json_object_new_int((int)ms.by_mode[0]));
			json_object_object_add(search, "evolution", json_object_new_int((int)ms.by_mode[1]));
			json_object_object_add(search, "reference", json_object_new_int((int)ms.by_mode[2]));
			json_object_object_add(search, "aggregation", json_object_new_int((int)ms.by_mode[3]));
			json_object_object_add(search, "late_topk_picks", json_object_new_int((int)ms.late_picks));
			json_object_object_add(search, "branches", json_object_new_int((int)ms.branches));
		}
		json_object_object_add(o, "search", search);
	}
	json_object_object_add(o, "nodes_total", json_object_new_int((int)g->n));
	json_object_object_add(o, "nodes_by_status", counts);
	{
		aml_llm_role_stats ls;
		json_object *roles = json_object_new_object();
		int r;

		aml_llm_totals(&st->llm, &ls);
		llm_stats_json(llm, &ls);
		for (r = 0; r < AML_N_ROLES; r++) {
			json_object *one = json_object_new_object();

			aml_llm_role(&st->llm, r, &ls);
			json_object_object_add(one, "provider", json_object_new_string(
				(r == AML_ROLE_FEEDBACK && st->feedback ? st->feedback
				 : st->provider)->manifest->name));
			llm_stats_json(one, &ls);
			json_object_object_add(roles, r == AML_ROLE_CODE ? "code" : "feedback", one);
		}
		json_object_object_add(llm, "roles", roles);
		if (st->llm.cassette_path)
			json_object_object_add(llm, "cassette",
					       json_object_new_string(st->llm.cassette_path));
	}
	json_object_object_add(o, "llm", llm);
	json_object_object_add(o, "provider", json_object_new_string(st->provider->manifest->name));
	json_object_object_add(o, "executor", json_object_new_string(st->executor->manifest->name));
	json_object_object_add(o, "nodes", nodes);
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	rc = aml_rundir_write(&st->rd, "summary.json", text, strlen(text), err, sizeof err);
	if (rc != AML_OK)
		aml_err("%s", err);
	json_object_put(o);
	res->nodes = g->n;
	res->valid = by_status[AML_NODE_VALID];
	return rc;
}

/* Copy the best node's script and submission to the run's top level. */
static int
write_best(run_state *st, aml_run_result *res, char *err, size_t errlen)
{
	aml_graph *g = &st->search.graph;
	const aml_node *b;
	aml_sb src = {0}, dst = {0};
	int rc;

	if (g->best < 0)
		return AML_OK;
	b = g->nodes[g->best];
	rc = aml_rundir_write(&st->rd, "best_solution.py", b->code, strlen(b->code), err, errlen);
	if (rc != AML_OK)
		return rc;
	aml_sb_printf(&src, "%s/nodes/%04u/submission/submission.csv", st->rd.path, (unsigned)b->id);
	aml_sb_printf(&dst, "%s/submission.csv", st->rd.path);
	rc = src.oom || dst.oom ? AML_ENOMEM : aml_copy_file(src.s, dst.s, err, errlen);
	aml_sb_free(&src);
	aml_sb_free(&dst);
	if (rc == AML_OK) {
		res->has_best = 1;
		res->best_score = b->score;
		res->best_node = (int)b->id;
	}
	return rc;
}

static void
run_cleanup(run_state *st)
{
	size_t i;

	if (st->search_ready)
		aml_search_destroy(&st->search);
	aml_journal_close(st->journal);
	for (i = 0; i < st->n_ops; i++) {
		aml_plugin_close(st->ops[i].plugin);
		free(st->ops[i].name);
	}
	aml_plugin_close(st->executor);
	aml_plugin_close(st->feedback);
	aml_plugin_close(st->provider);
	if (st->llm_ready)
		aml_llm_destroy(&st->llm);
	aml_kb_free(st->kb);
	aml_registry_free(st->reg);
	aml_task_free(st->task);
	aml_rundir_destroy(&st->rd);
	aml_log_close_file();
}

/* A run on the task in task_dir; with resume_dir, the run in that
 * directory goes on from its journal (restore.h). */
static int
run_main(const aml_config *cfg, const char *task_dir, const char *resume_dir,
	 aml_run_result *res, char *err, size_t errlen)
{
	run_state st;
	const char *const *need;
	const char *policy, *python, *feedback;
	size_t k;
	char *cfgtext = NULL, *logpath, *task_abs = NULL;
	int rc;

	memset(res, 0, sizeof *res);
	res->best_node = -1;
	memset(&st, 0, sizeof st);
	st.cfg = cfg;
	aml_context_init(&st.ctx, cfg);

	policy = aml_config_get(cfg, "search.policy");
	need = aml_search_policy_ops(policy ? policy : "");
	if (need == NULL) {
		aml_seterr(err, errlen, "unknown search.policy '%s' (known: mcgs, mcts, greedy, drafts)",
			   policy ? policy : "");
		rc = AML_EINVAL;
		goto out;
	}
	rc = aml_task_load(task_dir, &st.task, err, errlen);
	if (rc != AML_OK)
		goto out;
	{
		int prc;
		char perr[AML_ERRLEN] = "";
		char *preview = aml_preview_text(st.task, &prc, perr, sizeof perr);

		if (preview == NULL && prc == AML_ENOMEM) {
			rc = prc;
			goto out;
		}
		if (preview == NULL)
			aml_warn("no data preview for the prompts: %s", perr);
		aml_task_set_preview(st.task, preview);
	}
	st.ctx.task = aml_task_view(st.task);
	rc = aml_registry_scan(aml_config_get(cfg, "plugins.path"), &st.reg, err, errlen);
	if (rc != AML_OK)
		goto out;

	if ((rc = aml_llm_init(&st.llm, cfg, err, errlen)) != AML_OK) {
		aml_llm_destroy(&st.llm);
		goto out;
	}
	st.llm_ready = 1;
	st.ctx.llm = &st.llm;
	if ((rc = open_slot(&st, AML_KIND_PROVIDER, "provider", &st.provider, err, errlen)))
		goto out;
	st.llm.provider[AML_ROLE_CODE] = st.provider;
	feedback = aml_config_get(cfg, "feedback");
	if (feedback && feedback[0]) {
		if ((rc = open_slot(&st, AML_KIND_PROVIDER, "feedback", &st.feedback, err, errlen)))
			goto out;
		st.llm.provider[AML_ROLE_FEEDBACK] = st.feedback;
	}
	if ((rc = open_executor(&st, err, errlen)))
		goto out;
	aml_task_set_hardware(st.task, aml_hardware_text(st.executor, cfg));
	for (k = 0; need[k] && st.n_ops < MAX_OPS - 1; k++)
		if ((rc = open_op(&st, need[k], err, errlen)) != AML_OK)
			goto out;
	{
		aml_review_opts ro;

		if ((rc = aml_review_opts_load(&ro, cfg, err, errlen)) != AML_OK)
			goto out;
		if (ro.llm != AML_REVIEW_LLM_OFF
		    && (rc = open_op(&st, "review", err, errlen)) != AML_OK)
			goto out;
	}
	{
		/* the final.* keys are used when the search ends: a typo is
		 * refused now, not after hours of search */
		aml_ensemble_opts eo;

		if ((rc = aml_ensemble_opts_load(&eo, cfg, err, errlen)) != AML_OK)
			goto out;
	}
	python = aml_host_param(st.executor, cfg, "python");
	if (python == NULL)
		python = AML_DEFAULT_PYTHON;
	if ((rc = check_python(python, err, errlen)))
		goto out;
	if ((rc = load_kb(&st, python, err, errlen)))
		goto out;

	/* Ctrl-C while loading: stop before there is a run to leave behind */
	if (aml_interrupted()) {
		aml_seterr(err, errlen, "interrupted before the search started");
		rc = AML_ECANCELED;
		goto out;
	}
	if (resume_dir)
		rc = aml_rundir_open(resume_dir, &st.rd, err, errlen);
	else
		rc = aml_rundir_create(cfg, aml_task_view(st.task)->name, &st.rd, err, errlen);
	if (rc != AML_OK)
		goto out;
	res->run_dir = strdup(st.rd.path);
	logpath = aml_path_join(st.rd.path, "run.log");
	if (logpath == NULL || aml_log_open_file(logpath) != AML_OK)
		aml_warn("cannot write %s/run.log", st.rd.path);
	free(logpath);
	{
		FILE *f = open_memstream(&cfgtext, &(size_t){0});

		if (f) {
			size_t len;

			aml_config_dump(cfg, f, 1);
			fclose(f);
			len = strlen(cfgtext);
			if (aml_rundir_write(&st.rd, "config.yaml", cfgtext, len, err, errlen) != AML_OK)
				aml_warn("%s", err);
			free(cfgtext);
		}
	}
	aml_info("%s %s: task %s, metric %s (%s), provider %s, executor %s",
		 resume_dir ? "resuming run" : "run", st.rd.path, aml_task_view(st.task)->name, aml_task_view(st.task)->metric,
		 aml_task_view(st.task)->higher_is_better ? "higher is better" : "lower is better",
		 st.provider->manifest->name, st.executor->manifest->name);
	{
		char *private_dir = aml_path_join(aml_task_root(st.task), "private");

		/* a resumed run keeps the input its scripts saw */
		if (resume_dir && aml_is_dir(st.rd.input))
			rc = private_dir ? AML_OK : AML_ENOMEM;
		else
			rc = private_dir ? aml_rundir_stage_input(&st.rd,
								  aml_task_view(st.task)->public_dir,
								  private_dir, err, errlen)
					 : AML_ENOMEM;
		free(private_dir);
		if (rc != AML_OK)
			goto out;
	}

	rc = aml_search_init(&st.search, cfg, &st.ctx, st.task, &st.rd, st.executor,
			     st.ops, st.n_ops, err, errlen);
	if (rc != AML_OK)
		goto out;
	st.search_ready = 1;
	st.search.cancel = aml_interrupt_flag();
	st.llm.cancel = st.search.cancel;
	task_abs = aml_path_abs(task_dir);
	st.search.task_dir = task_abs;
	if (resume_dir) {
		aml_restore_info info;

		rc = aml_restore_search(&st.search, st.rd.path, &st.llm, &info, err, errlen);
		if (rc == AML_OK)
			aml_info("resume: %zu nodes replayed (%zu finished, %zu to run again), "
				 "%.0f s of the time budget spent%s%s", info.nodes, info.finished,
				 info.nodes - info.finished, info.elapsed,
				 info.stop_reason ? "; the last process stopped: " : "; the last "
				 "process died without stopping",
				 info.stop_reason ? info.stop_reason : "");
		aml_restore_info_free(&info);
		if (rc != AML_OK)
			goto out;
	}
	{
		int on;
		char *path;

		if ((rc = aml_config_bool(cfg, "run.journal", &on, err, errlen)) != AML_OK)
			goto out;
		path = on ? aml_path_join(st.rd.path, "journal.jsonl") : NULL;
		if (on)
			rc = path ? aml_journal_open(path, &st.journal, err, errlen) : AML_ENOMEM;
		free(path);
		if (rc != AML_OK)
			goto out;
		st.search.journal = st.journal;
	}
	{
		/* quiet (--quiet, log.level below info): no progress at all */
		aml_progress *progress = NULL;
		char perr[AML_ERRLEN] = "";

		if (aml_progress_start(&st.search, cfg, aml_log_get_level() < AML_LOG_INFO,
				       &progress, perr, sizeof perr) != AML_OK)
			aml_warn("no live progress: %s", perr);
		rc = aml_search_run(&st.search, err, errlen);
		aml_progress_stop(progress);
	}
	res->interrupted = st.search.interrupted;
	res->pending = st.search.n_interrupted;
	if (rc == AML_OK)
		rc = write_best(&st, res, err, errlen);
	{
		const aml_graph *g = &st.search.graph;
		size_t i, flagged = 0, len;
		char why[1024], ens[768] = "";
		int ens_rc = AML_OK;

		for (i = 0; i < g->n; i++)
			flagged += g->nodes[i]->status == AML_NODE_VALID && g->nodes[i]->flags
				&& g->nodes[i]->flags[0];
		/* the final choice: an ensemble replaces the best node's
		 * submission only when it passes the submission check; its
		 * failure never fails the run */
		if (rc == AML_OK && g->best >= 0) {
			aml_ensemble_opts eo;

			ens_rc = aml_ensemble_opts_load(&eo, cfg, ens, sizeof ens);
			if (ens_rc == AML_OK && eo.k >= 2)
				ens_rc = aml_ensemble_choose(st.task, g, st.rd.path, &eo, ens, sizeof ens);
			if (ens_rc != AML_OK)
				aml_warn("the ensemble was not used: %s", ens);
		}
		if (g->best < 0 && flagged && g->flags_bar_best) {
			snprintf(why, sizeof why, "no valid node the review did not flag (%zu flagged, "
				 "see their flags; review.keep_flagged=true accepts them): no submission",
				 flagged);
		} else if (g->best < 0) {
			snprintf(why, sizeof why, "no valid node: no submission");
		} else if (ens_rc == AML_OK && ens[0]) {
			snprintf(why, sizeof why, "%s", ens);
			len = strlen(why);
			if (flagged && g->flags_bar_best)
				snprintf(why + len, sizeof why - len, "; %zu valid node(s) flagged by "
					 "the review were not eligible, see their flags", flagged);
		} else {
			snprintf(why, sizeof why, "the valid node with the best validation score");
			len = strlen(why);
			if (flagged && g->flags_bar_best)
				snprintf(why + len, sizeof why - len, " among those the review did not "
					 "flag (%zu flagged, see their flags)", flagged);
			len = strlen(why);
			if (ens_rc != AML_OK)
				snprintf(why + len, sizeof why - len, "; the ensemble was not used: %s",
					 ens);
		}
		if (flagged && g->flags_bar_best)
			aml_warn("%zu valid node(s) flagged by the review were not eligible as best",
				 flagged);
		aml_info("final choice: %s", why);
		write_summary(&st, res, why);
	}
out:
	run_cleanup(&st);
	free(task_abs);
	return rc;
}

int
aml_run(const aml_config *cfg, const char *task_dir, aml_run_result *res,
	char *err, size_t errlen)
{
	return run_main(cfg, task_dir, NULL, res, err, errlen);
}

int
aml_resume(const aml_config *cfg, const char *run_dir, aml_run_result *res,
	   char *err, size_t errlen)
{
	aml_restore_info info;
	int rc;

	memset(res, 0, sizeof *res);
	res->best_node = -1;
	rc = aml_restore_peek(run_dir, &info, err, errlen);
	if (rc != AML_OK)
		return rc;
	{
		const char *policy = aml_config_get(cfg, "search.policy");

		if (info.policy && policy && strcmp(info.policy, policy) != 0) {
			aml_seterr(err, errlen, "the run searched with search.policy %s, not %s: a "
				   "resume keeps its policy (drop the override)", info.policy, policy);
			aml_restore_info_free(&info);
			return AML_EINVAL;
		}
	}
	if (!aml_is_dir(info.task_dir)) {
		aml_seterr(err, errlen, "the run's task directory %s is gone: a resume needs the "
			   "task it was started on", info.task_dir);
		aml_restore_info_free(&info);
		return AML_ENOTFOUND;
	}
	rc = run_main(cfg, info.task_dir, run_dir, res, err, errlen);
	aml_restore_info_free(&info);
	return rc;
}

void
aml_run_result_free(aml_run_result *res)
{
	free(res->run_dir);
	res->run_dir = NULL;
}
