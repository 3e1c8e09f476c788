/*
 * ks_debug.c — kbsynth's answer to the debug operator: a working script
 * for a buggy node, made again from the node's recipe.
 *
 * The node's reason and output say what kind of failure it was:
 *
 *   a module that does not import   the models needing it are replaced
 *   a timeout                        a cheaper run: no seed averaging, the
 *                                    models' sizes (trees, iterations,
 *                                    units; not a linear model's) halved,
 *                                    3 folds; else a cheaper model family
 *   memory (MemoryError, SIGKILL)    a cheaper model family (tag "cheap"),
 *                                    else the cheaper run
 *   no convergence                   more iterations, else another family
 *   anything else                    the script rendered again from its
 *                                    recipe (undoing a broken edit); when
 *                                    that gives the same script, the model
 *                                    is the likely cause and is replaced
 *
 * Model families the node's earlier fixes (its siblings) used are not
 * picked again.  A script without a recipe line (not written by kbsynth)
 * is written again as a draft.  The plan line says what changed and why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

enum failure { F_IMPORT, F_TIMEOUT, F_MEMORY, F_CONVERGENCE, F_SUBMISSION, F_OTHER };

static int
failure_of(const ks_node *p, char *module, size_t cap)
{
	const char *texts[2] = {p->reason, p->output};
	const char *q;
	int i;

	module[0] = '\0';
	for (i = 0; i < 2; i++) {
		q = texts[i] ? strstr(texts[i], "No module named ") : NULL;
		if (q) {
			size_t n;

			q += strlen("No module named ");
			q += strspn(q, "'\"");
			n = strcspn(q, "'\".\n ");
			snprintf(module, cap, "%.*s", (int)n, q);
			return F_IMPORT;
		}
	}
	for (i = 0; i < 2; i++)
		if (ks_contains(texts[i], "ModuleNotFoundError")
		    || ks_contains(texts[i], "ImportError"))
			return F_IMPORT;
	for (i = 0; i < 2; i++)
		if (ks_contains(texts[i], "MemoryError") || ks_contains(texts[i], "out of memory")
		    || ks_contains(texts[i], "Cannot allocate memory")
		    || ks_contains(texts[i], "bad_alloc")
		    || (i == 0 && p->reason && strncmp(p->reason, "killed", 6) == 0))
			return F_MEMORY;
	for (i = 0; i < 2; i++)
		if (ks_contains(texts[i], "timed_out") || ks_contains(texts[i], "timed out")
		    || ks_contains(texts[i], "timeout"))
			return F_TIMEOUT;
	for (i = 0; i < 2; i++)
		if (ks_contains(texts[i], "ConvergenceWarning")
		    || ks_contains(texts[i], "failed to converge")
		    || ks_contains(texts[i], "did not converge"))
			return F_CONVERGENCE;
	if (p->status && strcmp(p->status, "invalid submission") == 0)
		return F_SUBMISSION;
	return F_OTHER;
}

static const char *
failure_words(int f)
{
	switch (f) {
	case F_IMPORT: return "could not import a module";
	case F_TIMEOUT: return "ran out of time";
	case F_MEMORY: return "ran out of memory";
	case F_CONVERGENCE: return "did not converge";
	case F_SUBMISSION: return "wrote an invalid submission";
	default: return "crashed";
	}
}

/* Model families not to pick: the node's own and those its earlier fixes
 * (siblings) used. */
typedef struct avoid {
	const ks_entry *v[KS_MAX_ENTRIES];
	size_t n;
} avoid;

static void
avoid_add(avoid *a, const ks_entry *e)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->v[i] == e)
			return;
	if (a->n < KS_MAX_ENTRIES)
		a->v[a->n++] = e;
}

static int
avoided(const avoid *a, const ks_entry *e)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		if (a->v[i] == e)
			return 1;
	return 0;
}

static void
avoid_siblings(ks_req *r, avoid *a)
{
	json_object *sibs;
	size_t n, i, k;

	sibs = ks_req_array(r, "siblings", &n);
	for (i = 0; i < n; i++) {
		ks_recipe s;

		if (ks_recipe_read(r->kb, ks_obj_str(json_object_array_get_idx(sibs, i), "code"),
				   &s, NULL, NULL, 0) != AML_OK)
			continue;
		for (k = 0; k < s.n_model; k++)
			avoid_add(a, s.model[k].e);
		ks_recipe_free(&s);
	}
}

/* Replace model `victim` (an index, or -1: none, add one) by the first
 * applicable family not in the recipe and not avoided, a cheap one first
 * when cheap is set.  0 when no family is left. */
static int
switch_model(ks_req *r, ks_recipe *rec, long victim, const avoid *a, int cheap, ks_buf *what)
{
	const ks_entry *pick = NULL, *old = victim >= 0 ? rec->model[victim].e : NULL;
	size_t i;
	int pass;

	for (pass = cheap ? 0 : 1; pass < 2 && pick == NULL; pass++)
		for (i = 0; i < r->kb->model.n && pick == NULL; i++) {
			const ks_entry *e = &r->kb->model.v[i];

			if (ks_recipe_find(rec, KS_LV_MODEL, e) || avoided(a, e)
			    || (pass == 0 && !ks_entry_tagged(e, "cheap")))
				continue;
			pick = e;
		}
	if (pick == NULL)
		return 0;
	if (old) {
		ks_recipe_remove(rec, KS_LV_MODEL, old);
		ks_buf_printf(what, "%sreplaced ", what->len ? "; " : "");
		ks_title_words(what, old->e->title);
		ks_buf_puts(what, " by ");
	} else {
		ks_buf_printf(what, "%schose ", what->len ? "; " : "");
	}
	ks_title_words(what, pick->e->title);
	ks_buf_printf(what, " (%s) with its default parameters", pick->e->id);
	/* the new model goes where the old one was: first */
	if (ks_recipe_add(rec, KS_LV_MODEL, pick, NULL) != AML_OK)
		return 0;
	for (i = rec->n_model - 1; i > 0 && victim >= 0 && (long)i > victim; i--) {
		ks_part tmp = rec->model[i];

		rec->model[i] = rec->model[i - 1];
		rec->model[i - 1] = tmp;
	}
	/* strategies for the old model only (seed averaging of a
	 * stochastic one) go with it */
	for (i = rec->n_strat; i-- > 0;)
		if (!ks_strategy_suits(rec->strat[i].e, rec)) {
			ks_buf_puts(what, ", without ");
			ks_title_words(what, rec->strat[i].e->e->title);
			ks_recipe_remove(rec, KS_LV_STRAT, rec->strat[i].e);
		}
	return 1;
}

/* Apply one SET change (to transferred) and say it. */
static int
set_param(ks_recipe *rec, int level, ks_part *p, const char *key, json_object *to, ks_buf *what)
{
	ks_change c;
	int rc;

	ks_change_set(&c, level, p, key, to);
	rc = ks_change_apply(rec, &c);
	if (rc == AML_OK) {
		ks_buf_puts(what, what->len ? "; " : "");
		ks_change_words(what, &c);
	}
	ks_change_free(&c);
	return rc == AML_OK;
}

/* A cheaper run of the same models; the number of changes made. */
static int
cheaper(ks_recipe *rec, ks_buf *what)
{
	const char *validation = ks_obj_str(rec->pipeline.params, "validation");
	json_object *folds = ks_obj_get(rec->pipeline.params, "folds");
	size_t i;
	int n = 0;

	for (i = rec->n_strat; i-- > 0;)
		if (ks_entry_tagged(rec->strat[i].e, "ensemble")) {
			ks_buf_printf(what, "%sdropped ", what->len ? "; " : "");
			ks_title_words(what, rec->strat[i].e->e->title);
			ks_recipe_remove(rec, KS_LV_STRAT, rec->strat[i].e);
			n++;
		}
	for (i = 0; i < rec->n_model; i++) {
		json_object *space = ks_entry_space(rec->model[i].e);

		/* a linear model's iterations buy convergence, not time */
		if (space == NULL || ks_entry_tagged(rec->model[i].e, "linear"))
			continue;
		json_object_object_foreach(space, key, spec) {
			json_object *cur = ks_obj_get(rec->model[i].params, key);
			int64_t v, low;

			if (!ks_is_cost_param(key) || cur == NULL
			    || !json_object_is_type(cur, json_type_int))
				continue;
			v = json_object_get_int64(cur);
			low = json_object_get_int64(ks_obj_get(spec, "low"));
			if (v / 2 < low || v / 2 == v)
				continue;
			n += set_param(rec, KS_LV_MODEL, &rec->model[i], key,
				       json_object_new_int64(v / 2), what);
		}
	}
	if ((validation == NULL || strcmp(validation, "cv") == 0) && folds
	    && json_object_get_int64(folds) > 3)
		n += set_param(rec, KS_LV_PIPELINE, &rec->pipeline, "folds",
			       json_object_new_int64(3), what);
	return n;
}

/* Drop the models that need module; the number dropped. */
static int
drop_importers(ks_recipe *rec, const char *module, ks_buf *what)
{
	size_t i;
	int n = 0;

	for (i = rec->n_model; module[0] && i-- > 0;) {
		const ks_entry *e = rec->model[i].e;

		if (ks_json_has_str(ks_obj_get(e->j, "modules"), module)) {
			ks_buf_printf(what, "%s'%s' is not installed, so dropped ",
				      what->len ? "; " : "", module);
			ks_title_words(what, e->e->title);
			ks_recipe_remove(rec, KS_LV_MODEL, e);
			n++;
		}
	}
	return n;
}

/* The recipe equals one an earlier fix (a sibling) already tried. */
static int
tried_before(ks_req *r, const ks_recipe *rec)
{
	json_object *sibs;
	size_t n, i, nd;
	ks_change d[KS_MAX_CHANGES];
	int same = 0;

	sibs = ks_req_array(r, "siblings", &n);
	for (i = 0; i < n && !same; i++) {
		ks_recipe s;

		if (ks_recipe_read(r->kb, ks_obj_str(json_object_array_get_idx(sibs, i), "code"),
				   &s, NULL, NULL, 0) != AML_OK)
			continue;
		if (s.n_model && ks_recipe_diff(rec, &s, d, KS_MAX_CHANGES, &nd) == AML_OK) {
			same = nd == 0;
			ks_changes_free(d, nd);
		}
		ks_recipe_free(&s);
	}
	return same;
}

/* A node whose script has no recipe: write it again as a draft. */
static int
redraft(ks_req *r, const ks_node *p, int fail, ks_buf *out, char *err, size_t errlen)
{
	ks_recipe rec;
	ks_buf plan = {0};
	const char *why = "";
	int rc = ks_draft_recipe(r, &rec, &why, err, errlen);

	if (rc != AML_OK)
		return rc;
	ks_buf_printf(&plan, "Plan: fix node %ld, which %s: its script carries no recipe line "
		      "kbsynth can read, so write it again from the knowledge base: %s (%s) "
		      "with its default parameters, validated by ", p->id, failure_words(fail),
		      rec.model[0].e->e->title, rec.model[0].e->e->id);
	ks_validation_words(&plan, r->task, &rec);
	ks_buf_puts(&plan, ".");
	rc = ks_render_answer(r->task, &rec, ks_buf_str(&plan), out, err, errlen);
	ks_buf_free(&plan);
	ks_recipe_free(&rec);
	return rc;
}

int
ks_debug(ks_req *r, ks_buf *out, char *err, size_t errlen)
{
	json_object *pj = ks_obj_get(r->j, "parent");
	ks_node parent;
	ks_recipe rec;
	ks_buf what = {0}, notes = {0}, script = {0}, plan = {0};
	avoid *a;
	char module[128];
	size_t i;
	int fail, rc, changed = 0;

	if (pj == NULL) {
		ks_seterr(err, errlen, "kbsynth: the debug request has no parent node to fix");
		return AML_EINVAL;
	}
	ks_node_of(pj, &parent);
	fail = failure_of(&parent, module, sizeof module);
	rc = ks_recipe_read(r->kb, parent.code, &rec, &notes, err, errlen);
	if (rc == AML_ENOTFOUND || rc == AML_EFORMAT) {
		ks_buf_free(&notes);
		return redraft(r, &parent, fail, out, err, errlen);
	}
	if (rc != AML_OK) {
		ks_buf_free(&notes);
		return rc;
	}
	a = calloc(1, sizeof *a);
	if (a == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	for (i = 0; i < rec.n_model; i++)
		avoid_add(a, rec.model[i].e);
	avoid_siblings(r, a);
	if (notes.len)
		ks_buf_puts(&what, ks_buf_str(&notes));
	switch (fail) {
	case F_IMPORT:
		changed = drop_importers(&rec, module, &what);
		break;
	case F_TIMEOUT:
		changed = cheaper(&rec, &what);
		if (!changed)
			changed = switch_model(r, &rec, 0, a, 1, &what);
		break;
	case F_MEMORY:
		changed = switch_model(r, &rec, 0, a, 1, &what);
		if (!changed)
			changed = cheaper(&rec, &what);
		break;
	case F_CONVERGENCE:
		for (i = 0; i < rec.n_model; i++) {
			json_object *spec = ks_obj_get(ks_entry_space(rec.model[i].e), "max_iter");
			json_object *to = spec ? ks_step(spec, ks_obj_get(rec.model[i].params,
									"max_iter"), 1) : NULL;

			if (to)
				changed += set_param(&rec, KS_LV_MODEL, &rec.model[i], "max_iter",
						     to, &what);
		}
		if (!changed)
			changed = switch_model(r, &rec, 0, a, 0, &what);
		break;
	default:
		break;
	}
	/* no model left (not offered here, or its module is missing) */
	if (rec.n_model == 0)
		changed = switch_model(r, &rec, -1, a, fail == F_TIMEOUT || fail == F_MEMORY, &what);
	if (rec.n_model == 0) {
		ks_seterr(err, errlen, "kbsynth: cannot fix node %ld: no applicable model "
			  "family is left to try", parent.id);
		rc = AML_EUNSUPPORTED;
		goto out;
	}
	rc = ks_render_script(r->task, &rec, &script, err, errlen);
	if (rc != AML_OK)
		goto out;
	if (ks_same_script(ks_buf_str(&script), parent.code) || tried_before(r, &rec)) {
		/* the recipe itself fails: its model is the likely cause */
		long victim = rec.n_model > 1 ? (long)rec.n_model - 1 : 0;

		if (!changed)
			ks_buf_printf(&what, "%sthe script is what its recipe gives, so the model "
				      "is the likely cause", what.len ? "; " : "");
		if (rec.n_model > 1) {
			ks_buf_puts(&what, "; dropped ");
			ks_title_words(&what, rec.model[victim].e->e->title);
			ks_buf_puts(&what, " from the blend");
			ks_recipe_remove(&rec, KS_LV_MODEL, rec.model[victim].e);
		} else if (!switch_model(r, &rec, 0, a, 0, &what)) {
			ks_seterr(err, errlen, "kbsynth: cannot fix node %ld: every applicable "
				  "model family was tried", parent.id);
			rc = AML_EUNSUPPORTED;
			goto out;
		}
	} else if (!changed) {
		ks_buf_printf(&what, "%swrote the script again from its recipe line, undoing "
			      "the edit that broke it", what.len ? "; " : "");
	}
	ks_buf_printf(&plan, "Plan: fix node %ld, which %s", parent.id, failure_words(fail));
	if (parent.reason && parent.reason[0]) {
		ks_buf_puts(&plan, " (\"");
		ks_buf_oneline(&plan, parent.reason, 160);
		ks_buf_puts(&plan, "\")");
	}
	ks_buf_printf(&plan, ": %s; everything else as in its recipe.", ks_buf_str(&what));
	rc = ks_render_answer(r->task, &rec, ks_buf_str(&plan), out, err, errlen);
out:
	free(a);
	ks_recipe_free(&rec);
	ks_buf_free(&what);
	ks_buf_free(&notes);
	ks_buf_free(&script);
	ks_buf_free(&plan);
	return rc;
}
