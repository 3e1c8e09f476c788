/*
 * ks_improve.c — kbsynth's answer to the improve operator: exactly one
 * change to the parent's recipe, of the request's flavor.
 *
 *   hyperparameters  one model parameter one step within its space
 *   features         one data entry's option, or a data entry dropped or
 *                    added (scaler, imputation, encoding, log target...)
 *   strategy         a strategy added (seed averaging, test predictions
 *                    from the fold models, balanced class weights, more
 *                    seeds or folds)
 *
 * A change a sibling (an earlier child of the same parent) already made
 * is not made again, and a parameter no sibling touched is preferred.  In
 * "reference" mode a change that a better reference node has over the
 * parent is borrowed first: of the flavor if any reference has one, else
 * of another flavor (the references come from other branches, often
 * another model family, whose preprocessing or strategy may still
 * apply).  The parent's seed (so its folds) is kept, and the plan line
 * says exactly what changed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

typedef struct improve_ctx {
	ks_change tried[KS_MAX_CHANGES], cand[KS_MAX_CHANGES], ref[KS_MAX_CHANGES];
	size_t n_tried, n_cand, n_ref;
} improve_ctx;

static int
flavor_of(const char *name, long seq)
{
	int f;

	if (name == NULL)
		return (int)((seq < 0 ? 0 : seq) % 3);
	for (f = KS_FL_HYPER; f <= KS_FL_STRATEGY; f++)
		if (strcmp(name, ks_flavor_name(f)) == 0)
			return f;
	return -1;
}

/* A change of the flavor that a reference better than the parent has
 * over it, not tried yet and borrowable: its index in c->ref, or -1;
 * *from gets the node.  The refs in the request's order. */
static long
borrow(ks_req *r, improve_ctx *c, const ks_recipe *base, const ks_node *parent,
       int flavor, ks_node *from)
{
	json_object *refs;
	size_t n_refs, i, k, got;

	refs = ks_req_array(r, "refs", &n_refs);
	for (i = 0; i < n_refs; i++) {
		ks_node ref;
		ks_recipe other;

		ks_node_of(json_object_array_get_idx(refs, i), &ref);
		if (!ref.has_score || (parent->has_score && !ks_better(r, ref.score, parent->score)))
			continue;
		if (ks_recipe_read(r->kb, ref.code, &other, NULL, NULL, 0) != AML_OK)
			continue;
		ks_changes_free(c->ref, c->n_ref);
		c->n_ref = 0;
		if (other.n_model > 0 && ks_recipe_diff(base, &other, c->ref, KS_MAX_CHANGES,
							&got) == AML_OK)
			c->n_ref = got;
		ks_recipe_free(&other);
		for (k = 0; k < c->n_ref; k++) {
			size_t t;
			int seen = 0;

			if (ks_change_flavor(&c->ref[k]) != flavor
			    || !ks_change_borrowable(r, base, &c->ref[k]))
				continue;
			for (t = 0; t < c->n_tried; t++)
				seen |= ks_change_same(&c->ref[k], &c->tried[t]);
			if (!seen) {
				*from = ref;
				return (long)k;
			}
		}
	}
	return -1;
}

int
ks_improve(ks_req *r, ks_buf *out, char *err, size_t errlen)
{
	json_object *pj = ks_obj_get(r->j, "parent");
	const char *mode = ks_obj_str(r->j, "mode");
	improve_ctx *c = NULL;
	ks_recipe base, next;
	ks_node parent, from = {0};
	ks_buf notes = {0}, plan = {0};
	const ks_change *chosen = NULL;
	int flavor, f, used = -1, rc;
	long k;

	ks_recipe_init(&base);
	ks_recipe_init(&next);
	if (pj == NULL) {
		ks_seterr(err, errlen, "kbsynth: the improve request has no parent node");
		return AML_EINVAL;
	}
	ks_node_of(pj, &parent);
	flavor = flavor_of(ks_obj_str(r->j, "flavor"), r->seq);
	if (flavor < 0) {
		ks_seterr(err, errlen, "kbsynth: unknown improve flavor '%.64s'; use "
			  "hyperparameters, features or strategy", ks_obj_str(r->j, "flavor"));
		return AML_EINVAL;
	}
	rc = ks_recipe_read(r->kb, parent.code, &base, &notes, err, errlen);
	if (rc == AML_OK && base.n_model == 0) {
		ks_seterr(err, errlen, "%s", ks_buf_str(&notes));
		rc = AML_EUNSUPPORTED;
	}
	if (rc != AML_OK) {
		char why[512];

		snprintf(why, sizeof why, "%s", err);
		ks_seterr(err, errlen, "kbsynth: cannot improve node %ld: %s", parent.id, why);
		ks_recipe_free(&base);
		ks_buf_free(&notes);
		return rc == AML_ENOMEM ? rc : AML_EUNSUPPORTED;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	ks_tried_changes(r, &base, "siblings", c->tried, KS_MAX_CHANGES, &c->n_tried);
	/* a better node of another branch is usually another model family:
	 * when it has nothing of the flavor to lend, what it does to its
	 * data or its strategy may still carry over */
	for (f = 0; chosen == NULL && mode && strcmp(mode, "reference") == 0 && f < 3; f++) {
		k = borrow(r, c, &base, &parent, (flavor + f) % 3, &from);
		if (k >= 0) {
			chosen = &c->ref[k];
			used = (flavor + f) % 3;
		}
	}
	for (f = 0; chosen == NULL && f < 3; f++) {
		int fl = (flavor + f) % 3;

		ks_changes_free(c->cand, c->n_cand);
		ks_candidates(r, &base, fl, c->cand, KS_MAX_CHANGES, &c->n_cand);
		k = ks_pick(r, c->cand, c->n_cand, c->tried, c->n_tried);
		if (k >= 0) {
			chosen = &c->cand[k];
			used = fl;
		}
	}
	if (chosen == NULL) {
		ks_seterr(err, errlen, "kbsynth: every single change of node %ld's recipe "
			  "was already tried by its children", parent.id);
		rc = AML_EUNSUPPORTED;
		goto out;
	}
	rc = ks_recipe_copy(&next, &base);
	if (rc == AML_OK) {
		ks_recipe_descend(&next, &base);
		rc = ks_change_apply(&next, chosen);
	}
	if (rc != AML_OK) {
		ks_seterr(err, errlen, "kbsynth: cannot apply the change to node %ld's "
			  "recipe", parent.id);
		goto out;
	}
	ks_buf_printf(&plan, "Plan: improve node %ld (%s): ", parent.id, ks_flavor_name(used));
	ks_change_words(&plan, chosen);
	if (chosen >= c->ref && chosen < c->ref + KS_MAX_CHANGES) {
		ks_buf_printf(&plan, ", borrowed from node %ld (score %.6g), which does "
			      "better", from.id, from.score);
		if (used != flavor)
			ks_buf_printf(&plan, ", a %s change as no better node has a %s change "
				      "that applies to this recipe", ks_flavor_name(used),
				      ks_flavor_name(flavor));
	} else if (used != flavor)
		ks_buf_printf(&plan, ", a %s change as no %s change that could matter on "
			      "this data is left to try", ks_flavor_name(used),
			      ks_flavor_name(flavor));
	if (chosen->level == KS_LV_PIPELINE && (strcmp(chosen->key, "folds") == 0
						|| strcmp(chosen->key, "validation") == 0)) {
		ks_buf_printf(&plan, "; everything else as in node %ld, now validated by ",
			      parent.id);
		ks_validation_words(&plan, r->task, &next);
		ks_buf_puts(&plan, ".");
	} else {
		ks_buf_printf(&plan, "; everything else as in node %ld, on the same ", parent.id);
		ks_validation_words(&plan, r->task, &next);
		ks_buf_puts(&plan, ", so the scores compare.");
	}
	if (notes.len)
		ks_buf_printf(&plan, " Note: %s.", ks_buf_str(&notes));
	rc = ks_render_answer(r->task, &next, ks_buf_str(&plan), out, err, errlen);
out:
	if (c) {
		ks_changes_free(c->tried, c->n_tried);
		ks_changes_free(c->cand, c->n_cand);
		ks_changes_free(c->ref, c->n_ref);
		free(c);
	}
	ks_recipe_free(&base);
	ks_recipe_free(&next);
	ks_buf_free(&notes);
	ks_buf_free(&plan);
	return rc;
}
