/*
 * ks_recall.c — kbsynth's answer to the recall operator: the next step of
 * a branch, learned from its trajectory.
 *
 * The trajectory is the parent's ancestors among the request's refs
 * (followed by parent ids) and the parent itself; the other refs are
 * solutions from elsewhere ("evolution" mode).  For each step with a
 * score and a recipe, the changes from the closest earlier such step and
 * the score gain they brought are worked out.  Then, in this order:
 *
 *   1. the change with the largest gain is made again on the parent's
 *      recipe in the same direction (the same factor, difference or
 *      number of choices: "n_estimators 450 -> 675" after 300 -> 450
 *      helped; another strategy or feature step after one helped);
 *   2. else, in evolution mode, a difference of a better solution from
 *      elsewhere is borrowed;
 *   3. else the branch's best recipe is taken back and a parameter no
 *      step of the branch touched is changed.
 *
 * Changes the parent's other children (siblings) made are not repeated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

typedef struct step {
	ks_node node;
	ks_recipe rec;
	int ok;            /* has a recipe with a model */
} step;

/* A step that raised the score over an earlier one. */
typedef struct gain {
	size_t to, from;   /* step indices */
	double by;         /* > 0, in the task's direction */
} gain;

typedef struct recall_ctx {
	step *steps;
	size_t n_steps;
	ks_node *others;
	size_t n_others;
	gain *gains;
	size_t n_gains;
	ks_change tried[KS_MAX_CHANGES], diff[KS_MAX_CHANGES], cand[KS_MAX_CHANGES];
	size_t n_tried, n_diff, n_cand;
	ks_change chosen;  /* owned copy of the change made */
	int have_chosen;
} recall_ctx;

/* The trajectory: the parent's ancestors among the refs, first to last,
 * then the parent; the other refs into c->others. */
static int
trajectory(ks_req *r, json_object *pj, recall_ctx *c)
{
	json_object *refs;
	size_t n_refs, i, k = 0;
	char *used;
	ks_node cur;

	refs = ks_req_array(r, "refs", &n_refs);
	c->steps = calloc(n_refs + 1, sizeof *c->steps);
	c->others = calloc(n_refs + 1, sizeof *c->others);
	used = calloc(n_refs + 1, 1);
	if (c->steps == NULL || c->others == NULL || used == NULL) {
		free(used);
		return AML_ENOMEM;
	}
	ks_node_of(pj, &cur);
	c->steps[k++].node = cur;
	for (;;) {
		for (i = 0; i < n_refs; i++) {
			ks_node n;

			ks_node_of(json_object_array_get_idx(refs, i), &n);
			if (!used[i] && cur.parent_id >= 0 && n.id == cur.parent_id)
				break;
		}
		if (i == n_refs || k > n_refs)
			break;
		used[i] = 1;
		ks_node_of(json_object_array_get_idx(refs, i), &cur);
		c->steps[k++].node = cur;
	}
	c->n_steps = k;
	for (i = 0; i < k / 2; i++) {
		step tmp = c->steps[i];

		c->steps[i] = c->steps[k - 1 - i];
		c->steps[k - 1 - i] = tmp;
	}
	for (i = 0; i < n_refs; i++) {
		ks_node n;

		ks_node_of(json_object_array_get_idx(refs, i), &n);
		if (!used[i] && n.id != c->steps[k - 1].node.id)
			c->others[c->n_others++] = n;
	}
	free(used);
	for (i = 0; i < c->n_steps; i++) {
		step *s = &c->steps[i];

		s->ok = ks_recipe_read(r->kb, s->node.code, &s->rec, NULL, NULL, 0) == AML_OK
			&& s->rec.n_model > 0;
	}
	return AML_OK;
}

/* The steps that raised the score, largest gain first. */
static int
gains_of(ks_req *r, recall_ctx *c)
{
	size_t i, j;
	long prev = -1;

	c->gains = calloc(c->n_steps + 1, sizeof *c->gains);
	if (c->gains == NULL)
		return AML_ENOMEM;
	for (i = 0; i < c->n_steps; i++) {
		step *s = &c->steps[i];

		if (!s->ok || !s->node.has_score)
			continue;
		if (prev >= 0 && ks_better(r, s->node.score, c->steps[prev].node.score)) {
			gain *g = &c->gains[c->n_gains++];

			g->to = i;
			g->from = (size_t)prev;
			g->by = s->node.score - c->steps[prev].node.score;
			if (!r->task->higher_is_better)
				g->by = -g->by;
		}
		prev = (long)i;
	}
	for (i = 1; i < c->n_gains; i++)
		for (j = i; j > 0 && c->gains[j].by > c->gains[j - 1].by; j--) {
			gain tmp = c->gains[j];

			c->gains[j] = c->gains[j - 1];
			c->gains[j - 1] = tmp;
		}
	return AML_OK;
}

static int
tried(const recall_ctx *c, const ks_change *x)
{
	size_t i;

	for (i = 0; i < c->n_tried; i++)
		if (ks_change_same(x, &c->tried[i]))
			return 1;
	return 0;
}

/* Keep a copy of x as the chosen change. */
static int
choose(recall_ctx *c, const ks_change *x)
{
	c->chosen = *x;
	c->chosen.from = ks_json_copy(x->from);
	c->chosen.to = ks_json_copy(x->to);
	c->have_chosen = 1;
	return 1;
}

/* The change d (from one step to the next) made again on rec: 1 when
 * the same parameter moves the same way again, 2 when that cannot go
 * further (a bound, an entry already added) and another change of the
 * same kind is made instead, 0 when neither works. */
static int
repeat(ks_req *r, recall_ctx *c, const ks_recipe *rec, const ks_change *d)
{
	ks_part *p;
	json_object *spec, *to;
	ks_change x;
	long k;
	int flavor;

	if (d->kind == KS_SET) {
		p = ks_recipe_find(rec, d->level, d->e);
		spec = p ? ks_obj_get(ks_entry_space(p->e), d->key) : NULL;
		to = spec ? ks_step_like(spec, ks_obj_get(p->params, d->key), d->from, d->to) : NULL;
		if (to) {
			ks_change_set(&x, d->level, p, d->key, to);
			if (!tried(c, &x) && ks_change_matters(r, rec, &x)) {
				c->chosen = x;
				c->have_chosen = 1;
				return 1;
			}
			ks_change_free(&x);
		}
	}
	flavor = ks_change_flavor(d);
	if (flavor < 0)
		return 0; /* a model family switch cannot be made again */
	ks_changes_free(c->cand, c->n_cand);
	ks_candidates(r, rec, flavor, c->cand, KS_MAX_CHANGES, &c->n_cand);
	k = ks_pick(r, c->cand, c->n_cand, c->tried, c->n_tried);
	return k >= 0 && choose(c, &c->cand[k]) ? 2 : 0;
}

static void
path_words(ks_buf *b, const recall_ctx *c)
{
	size_t i;

	ks_buf_puts(b, c->n_steps > 1 ? "nodes " : "node ");
	for (i = 0; i < c->n_steps; i++)
		ks_buf_printf(b, "%s%ld", i ? " -> " : "", c->steps[i].node.id);
}

int
ks_recall(ks_req *r, ks_buf *out, char *err, size_t errlen)
{
	json_object *pj = ks_obj_get(r->j, "parent");
	const char *mode = ks_obj_str(r->j, "mode");
	recall_ctx *c;
	ks_recipe next;
	const ks_recipe *base;
	ks_buf plan = {0}, why = {0};
	size_t i, k, best;
	long at;
	int rc, f;

	if (pj == NULL) {
		ks_seterr(err, errlen, "kbsynth: the recall request has no parent node to extend");
		return AML_EINVAL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return AML_ENOMEM;
	ks_recipe_init(&next);
	rc = trajectory(r, pj, c);
	if (rc == AML_OK)
		rc = gains_of(r, c);
	if (rc != AML_OK)
		goto out;
	if (!c->steps[c->n_steps - 1].ok) {
		ks_seterr(err, errlen, "kbsynth: cannot extend node %ld: its script has no "
			  "recipe line with a model offered for this task",
			  c->steps[c->n_steps - 1].node.id);
		rc = AML_EUNSUPPORTED;
		goto out;
	}
	base = &c->steps[c->n_steps - 1].rec;
	ks_tried_changes(r, base, "siblings", c->tried, KS_MAX_CHANGES, &c->n_tried);
	ks_buf_puts(&plan, "Plan: recall over ");
	path_words(&plan, c);
	ks_buf_puts(&plan, ": ");

	/* 1. the most helpful change, again */
	for (i = 0; i < c->n_gains && !c->have_chosen; i++) {
		const gain *g = &c->gains[i];

		ks_changes_free(c->diff, c->n_diff);
		ks_recipe_diff(&c->steps[g->from].rec, &c->steps[g->to].rec, c->diff,
			       KS_MAX_CHANGES, &c->n_diff);
		for (k = 0; k < c->n_diff && !c->have_chosen; k++) {
			int how = repeat(r, c, base, &c->diff[k]);

			if (how == 0)
				continue;
			ks_buf_printf(&why, "the step to node %ld made ", c->steps[g->to].node.id);
			ks_change_words(&why, &c->diff[k]);
			ks_buf_printf(&why, " and improved %s by %.4g (%s), ",
				      r->task->metric ? r->task->metric : "the score", g->by,
				      i == 0 ? "the largest gain on the branch"
				      : "a gain that can still be built on");
			if (how == 1)
				ks_buf_puts(&why, "so push that way again: ");
			else
				ks_buf_printf(&why, "and it cannot go further, so another %s "
					      "step: ", ks_flavor_name(ks_change_flavor(&c->diff[k])));
		}
	}
	/* 2. borrow from a better solution elsewhere */
	if (!c->have_chosen && mode && strcmp(mode, "evolution") == 0) {
		const ks_node *cur = &c->steps[c->n_steps - 1].node;

		for (i = 0; i < c->n_others && !c->have_chosen; i++) {
			ks_recipe o;

			if (!c->others[i].has_score
			    || (cur->has_score && !ks_better(r, c->others[i].score, cur->score))
			    || ks_recipe_read(r->kb, c->others[i].code, &o, NULL, NULL, 0) != AML_OK)
				continue;
			ks_changes_free(c->diff, c->n_diff);
			c->n_diff = 0;
			if (o.n_model)
				ks_recipe_diff(base, &o, c->diff, KS_MAX_CHANGES, &c->n_diff);
			for (k = 0; k < c->n_diff && !c->have_chosen; k++)
				if (ks_change_flavor(&c->diff[k]) >= 0 && !tried(c, &c->diff[k])
				    && ks_change_matters(r, base, &c->diff[k])) {
					choose(c, &c->diff[k]);
					ks_buf_printf(&why, "no step of this branch raised the score, "
						      "and node %ld elsewhere scores %.6g, so borrow one "
						      "of its differences: ", c->others[i].id,
						      c->others[i].score);
				}
			ks_recipe_free(&o);
		}
	}
	/* 3. back to the branch's best, and something the branch never touched */
	if (!c->have_chosen) {
		best = c->n_steps - 1;
		for (i = 0; i < c->n_steps; i++)
			if (c->steps[i].ok && c->steps[i].node.has_score
			    && (!c->steps[best].node.has_score
				|| ks_better(r, c->steps[i].node.score, c->steps[best].node.score)))
				best = i;
		base = &c->steps[best].rec;
		/* every change made along the branch counts as tried */
		for (i = 0; i < c->n_steps; i++) {
			size_t got = 0;

			if (!c->steps[i].ok || c->n_tried >= KS_MAX_CHANGES)
				continue;
			ks_recipe_diff(base, &c->steps[i].rec, c->tried + c->n_tried,
				       KS_MAX_CHANGES - c->n_tried, &got);
			c->n_tried += got;
		}
		for (f = KS_FL_HYPER; f <= KS_FL_STRATEGY && !c->have_chosen; f++) {
			ks_changes_free(c->cand, c->n_cand);
			ks_candidates(r, base, f, c->cand, KS_MAX_CHANGES, &c->n_cand);
			at = ks_pick(r, c->cand, c->n_cand, c->tried, c->n_tried);
			if (at >= 0)
				choose(c, &c->cand[at]);
		}
		ks_buf_puts(&why, c->n_gains ? "no step that raised the score can be taken "
			    "further" : "no step of this branch raised the score");
		if (best == c->n_steps - 1)
			ks_buf_printf(&why, " and node %ld is its best, so change what the branch "
				      "has not tried: ", c->steps[best].node.id);
		else
			ks_buf_printf(&why, ", so go back to node %ld's recipe (the branch's best, "
				      "score %.6g) and change what the branch has not tried: ",
				      c->steps[best].node.id, c->steps[best].node.score);
	}
	if (!c->have_chosen) {
		ks_seterr(err, errlen, "kbsynth: cannot extend node %ld: every change "
			  "kbsynth knows was already tried", c->steps[c->n_steps - 1].node.id);
		rc = AML_EUNSUPPORTED;
		goto out;
	}
	rc = ks_recipe_copy(&next, base);
	if (rc == AML_OK)
		rc = ks_change_apply(&next, &c->chosen);
	if (rc != AML_OK) {
		ks_seterr(err, errlen, "kbsynth: cannot apply the recalled change");
		goto out;
	}
	ks_buf_puts(&plan, ks_buf_str(&why));
	ks_change_words(&plan, &c->chosen);
	ks_buf_puts(&plan, "; everything else as before, on the same ");
	ks_validation_words(&plan, r->task, &next);
	ks_buf_puts(&plan, ".");
	rc = ks_render_answer(r->task, &next, ks_buf_str(&plan), out, err, errlen);
out:
	for (i = 0; c->steps && i < c->n_steps; i++)
		ks_recipe_free(&c->steps[i].rec);
	free(c->steps);
	free(c->others);
	free(c->gains);
	ks_changes_free(c->tried, c->n_tried);
	ks_changes_free(c->diff, c->n_diff);
	ks_changes_free(c->cand, c->n_cand);
	if (c->have_chosen)
		ks_change_free(&c->chosen);
	free(c);
	ks_recipe_free(&next);
	ks_buf_free(&plan);
	ks_buf_free(&why);
	return rc;
}
