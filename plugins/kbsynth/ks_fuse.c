/*
 * ks_fuse.c — kbsynth's answer to the fuse operator: a blend of the
 * models of the nodes to combine.
 *
 * The sources are the parent (when set) and the refs whose scripts carry
 * a recipe, the parent first, then the refs best score first.  The blend
 * takes the first source's recipe (preprocessing, validation, seed) and
 * the distinct model families of all sources, in that order, up to the
 * provider's max_blend, each with the parameters its source had; with
 * fewer than two families the strongest applicable ones the sources lack
 * are added for diversity.  The skeleton averages the models'
 * probabilities (classification) or values (regression) on the same
 * folds, so the validation score is the blend's.  Strategy entries that
 * multiply the fits (tagged "ensemble", like seed averaging) stay: without
 * them a seeded member (a network, a forest) scores below its source, and
 * the skeleton fits a member that takes no seed only once.  The
 * strategy entries that go with a blend ("when:blend", like weights
 * fitted on out-of-fold predictions) are added: an equal-weight blend
 * of a strong model and weaker ones often scores below the strong one
 * alone, which would make every fusion look like a step back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

typedef struct source {
	ks_node node;
	ks_recipe rec;
	int is_parent;
} source;

/* Parent first, then by score, best first; unscored last. */
static int
source_before(const ks_req *r, const source *a, const source *b)
{
	if (a->is_parent != b->is_parent)
		return a->is_parent;
	if (a->node.has_score != b->node.has_score)
		return a->node.has_score;
	return a->node.has_score && ks_better(r, a->node.score, b->node.score);
}

static int
add_source(ks_req *r, json_object *j, int is_parent, source *v, size_t *n, ks_buf *skipped)
{
	source *s = &v[*n];

	memset(s, 0, sizeof *s);
	ks_node_of(j, &s->node);
	s->is_parent = is_parent;
	if (ks_recipe_read(r->kb, s->node.code, &s->rec, NULL, NULL, 0) != AML_OK
	    || s->rec.n_model == 0) {
		ks_recipe_free(&s->rec);
		ks_buf_printf(skipped, "%s%ld", skipped->len ? ", " : "", s->node.id);
		return 0;
	}
	(*n)++;
	return 1;
}

int
ks_fuse(ks_req *r, ks_buf *out, char *err, size_t errlen)
{
	json_object *refs, *pj = ks_obj_get(r->j, "parent");
	const char *mode = ks_obj_str(r->j, "mode");
	size_t n_refs, n = 0, i, k;
	long origin[KS_MAX_MODELS];
	source *v;
	ks_recipe next;
	ks_buf plan = {0}, skipped = {0}, added = {0};
	int rc = AML_OK;

	refs = ks_req_array(r, "refs", &n_refs);
	if (n_refs == 0 && pj == NULL) {
		ks_seterr(err, errlen, "kbsynth: the fuse request has no nodes to combine");
		return AML_EINVAL;
	}
	v = calloc(n_refs + 1, sizeof *v);
	if (v == NULL)
		return AML_ENOMEM;
	ks_recipe_init(&next);
	if (pj)
		add_source(r, pj, 1, v, &n, &skipped);
	for (i = 0; i < n_refs; i++)
		add_source(r, json_object_array_get_idx(refs, i), 0, v, &n, &skipped);
	if (n == 0) {
		ks_seterr(err, errlen, "kbsynth: none of the nodes to fuse (%s) has a "
			  "recipe line kbsynth can read", ks_buf_str(&skipped));
		rc = AML_EUNSUPPORTED;
		goto out;
	}
	/* insertion sort: a handful of sources */
	for (i = 1; i < n; i++)
		for (k = i; k > 0 && source_before(r, &v[k], &v[k - 1]); k--) {
			source tmp = v[k];

			v[k] = v[k - 1];
			v[k - 1] = tmp;
		}
	rc = ks_recipe_copy(&next, &v[0].rec);
	if (rc != AML_OK)
		goto out;
	next.n_lineage = 0; /* the root of a new branch */
	while (next.n_model > 0)
		ks_recipe_remove(&next, KS_LV_MODEL, next.model[0].e);
	for (i = 0; i < n && rc == AML_OK; i++)
		for (k = 0; k < v[i].rec.n_model && rc == AML_OK; k++) {
			const ks_part *m = &v[i].rec.model[k];

			if ((long)next.n_model >= r->max_blend
			    || ks_recipe_find(&next, KS_LV_MODEL, m->e))
				continue;
			origin[next.n_model] = v[i].node.id;
			rc = ks_recipe_add(&next, KS_LV_MODEL, m->e, ks_json_copy(m->params));
		}
	for (i = 0; i < r->kb->model.n && next.n_model < 2 && rc == AML_OK; i++)
		if (!ks_recipe_find(&next, KS_LV_MODEL, &r->kb->model.v[i])) {
			origin[next.n_model] = -1;
			rc = ks_recipe_add(&next, KS_LV_MODEL, &r->kb->model.v[i], NULL);
		}
	if (rc != AML_OK)
		goto out;
	/* the blend's own strategies (its weights); the sources' strategies,
	 * seed averaging included, stay as they are */
	for (i = 0; next.n_model > 1 && i < r->kb->strat.n && rc == AML_OK; i++) {
		const ks_entry *e = &r->kb->strat.v[i];

		if (e == r->kb->skeleton || !ks_entry_tagged(e, "when:blend")
		    || ks_recipe_find(&next, KS_LV_STRAT, e))
			continue;
		rc = ks_recipe_add(&next, KS_LV_STRAT, e, NULL);
		if (rc == AML_OK) {
			ks_buf_printf(&added, "%s", added.len ? " and " : "");
			ks_title_words(&added, e->e->title);
		}
	}
	if (rc != AML_OK)
		goto out;

	ks_buf_puts(&plan, "Plan: fuse ");
	for (i = 0; i < n; i++) {
		ks_buf_printf(&plan, "%snode %ld", i == 0 ? "" : i + 1 == n ? " and " : ", ",
			      v[i].node.id);
		if (v[i].node.has_score)
			ks_buf_printf(&plan, " (score %.6g)", v[i].node.score);
	}
	if (mode && strcmp(mode, "aggregation") == 0)
		ks_buf_puts(&plan, ", the best of the search's branches");
	ks_buf_puts(&plan, ": blend ");
	for (i = 0; i < next.n_model; i++) {
		if (i)
			ks_buf_puts(&plan, i + 1 == next.n_model ? " and " : ", ");
		ks_title_words(&plan, next.model[i].e->e->title);
		if (origin[i] >= 0)
			ks_buf_printf(&plan, " (from node %ld)", origin[i]);
		else
			ks_buf_puts(&plan, " (added for diversity)");
	}
	ks_buf_printf(&plan, ", averaging their predicted %s%s on the same ",
		      ks_is_classification(r->task) ? "probabilities" : "values",
		      added.len ? " with weights" : "");
	ks_validation_words(&plan, r->task, &next);
	ks_buf_printf(&plan, ", which scores the blend; preprocessing, validation and seed "
		      "from node %ld", v[0].node.id);
	if (added.len)
		ks_buf_printf(&plan, "; %s", ks_buf_str(&added));
	if (skipped.len)
		ks_buf_printf(&plan, "; node(s) %s left out (no recipe line)", ks_buf_str(&skipped));
	if (next.n_model < 2)
		ks_buf_puts(&plan, "; only one model family applies to this task");
	ks_buf_puts(&plan, ".");
	rc = ks_render_answer(r->task, &next, ks_buf_str(&plan), out, err, errlen);
out:
	for (i = 0; i < n; i++)
		ks_recipe_free(&v[i].rec);
	free(v);
	ks_recipe_free(&next);
	ks_buf_free(&plan);
	ks_buf_free(&skipped);
	ks_buf_free(&added);
	return rc;
}
