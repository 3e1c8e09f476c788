/*
 * ks_recall.c — kbsynth's answer to the recall operator: the next step of
 * a branch, learned from what its steps gained.
 *
 * The request shows the node to extend (the parent) and, as refs, the
 * branch's latest nodes: the parent's ancestors, but mostly its siblings
 * and their children.  Every node among them whose own parent is among
 * them too is a step of the branch; a step between two scored recipes is
 * measured (the changes it made, the score it gained).  Then, in this
 * order:
 *
 *   1. the change of the step with the largest gain that can still be
 *      made on the parent's recipe is made, in the same direction: the
 *      same factor, difference or number of choices ("n_estimators
 *      450 -> 675" after 300 -> 450 helped), or the very change when the
 *      parent does not have it yet (a sibling's added seed averaging);
 *   2. else another change of the same kind as the largest gain's (the
 *      step went as far as it can: another strategy or feature step);
 *   3. else, in evolution mode, a difference of a better node is borrowed;
 *   4. else the branch's best recipe is taken back and a parameter no
 *      step of the branch touched is changed.
 *
 * The plan says how many steps were measured and which gain was built
 * on.  Changes the parent's other children (siblings) made are not
 * repeated.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

/* A node the request shows: nodes[0] is the parent, the rest the refs. */
typedef struct rnode {
	ks_node node;
	ks_recipe rec;
	int ok;            /* has a recipe with a model */
	long up;           /* the index of its parent among the nodes, or -1 */
} rnode;

/* A measured step: from a node to its child, both scored recipes. */
typedef struct step {
	size_t to, from;   /* node indices */
	double by;         /* the gain, in the task's direction */
} step;

typedef struct recall_ctx {
	rnode *nodes;
	size_t n_nodes;
	step *steps;       /* largest gain first */
	size_t n_steps, n_gains; /* the first n_gains raised the score */
	ks_change tried[KS_MAX_CHANGES], diff[KS_MAX_CHANGES], cand[KS_MAX_CHANGES];
	size_t n_tried, n_diff, n_cand;
	ks_change chosen;  /* owned copy of the change made */
	int have_chosen;
} recall_ctx;

/* The parent and the refs (each id once), with their recipes and the
 * links between them. */
static int
nodes_of(ks_req *r, json_object *pj, recall_ctx *c)
{
	json_object *refs;
	size_t n_refs, i, k;

	refs = ks_req_array(r, "refs", &n_refs);
	c->nodes = calloc(n_refs + 1, sizeof *c->nodes);
	c->steps = calloc(n_refs + 1, sizeof *c->steps);
	if (c->nodes == NULL || c->steps == NULL)
		return AML_ENOMEM;
	ks_node_of(pj, &c->nodes[c->n_nodes++].node);
	for (i = 0; i < n_refs; i++) {
		ks_node n;

		ks_node_of(json_object_array_get_idx(refs, i), &n);
		for (k = 0; k < c->n_nodes && c->nodes[k].node.id != n.id; k++)
			;
		if (k == c->n_nodes)
			c->nodes[c->n_nodes++].node = n;
	}
	for (i = 0; i < c->n_nodes; i++) {
		rnode *s = &c->nodes[i];

		s->ok = ks_recipe_read(r->kb, s->node.code, &s->rec, NULL, NULL, 0) == AML_OK
			&& s->rec.n_model > 0;
		s->up = -1;
		for (k = 0; k < c->n_nodes; k++)
			if (k != i && s->node.parent_id >= 0 && c->nodes[k].node.id == s->node.parent_id)
				s->up = (long)k;
	}
	return AML_OK;
}

static int
measured(const rnode *s)
{
	return s->ok && s->node.has_score;
}

/* Every measured step, largest gain first (ties in the request's order). */
static void
steps_of(ks_req *r, recall_ctx *c)
{
	size_t i, j;

	for (i = 0; i < c->n_nodes; i++) {
		const rnode *s = &c->nodes[i];
		step *g;

		if (s->up < 0 || !measured(s) || !measured(&c->nodes[s->up]))
			continue;
		g = &c->steps[c->n_steps++];
		g->to = i;
		g->from = (size_t)s->up;
		g->by = s->node.score - c->nodes[s->up].node.score;
		if (!r->task->higher_is_better)
			g->by = -g->by;
		if (g->by > 0)
			c->n_gains++;
	}
	for (i = 1; i < c->n_steps; i++)
		for (j = i; j > 0 && c->steps[j].by > c->steps[j - 1].by; j--) {
			step tmp = c->steps[j];

			c->steps[j] = c->steps[j - 1];
			c->steps[j - 1] = tmp;
		}
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

/* Keep x as the chosen change if it is new and can matter: 1, else 0. */
static int
take(ks_req *r, recall_ctx *c, const ks_recipe *rec, const ks_change *x, int copy)
{
	if (tried(c, x) || !ks_change_matters(r, rec, x))
		return 0;
	c->chosen = *x;
	if (copy) {
		c->chosen.from = ks_json_copy(x->from);
		c->chosen.to = ks_json_copy(x->to);
	}
	c->have_chosen = 1;
	return 1;
}

/* The change d of a step made on rec: a parameter moved the same way
 * from its value in rec, an entry added or dropped that rec still has or
 * lacks.  1 when chosen, 0 when it cannot be made (a bound, an entry
 * already there, a model family switch, tried by a sibling). */
static int
again(ks_req *r, recall_ctx *c, const ks_recipe *rec, const ks_change *d)
{
	ks_part *p = ks_recipe_find(rec, d->level, d->e);
	json_object *spec, *to;
	ks_change x;

	if (ks_change_flavor(d) < 0)
		return 0;
	switch (d->kind) {
	case KS_SET:
		spec = p ? ks_obj_get(ks_entry_space(p->e), d->key) : NULL;
		to = spec ? ks_step_like(spec, ks_obj_get(p->params, d->key), d->from, d->to) : NULL;
		if (to == NULL)
			return 0;
		ks_change_set(&x, d->level, p, d->key, to);
		if (take(r, c, rec, &x, 0))
			return 1;
		ks_change_free(&x);
		return 0;
	case KS_ADD:
		if (p || (d->level == KS_LV_STRAT && !ks_strategy_suits(d->e, rec)))
			return 0;
		return take(r, c, rec, d, 1);
	default:
		return p ? take(r, c, rec, d, 1) : 0;
	}
}

/* Another change of d's kind on rec, when d itself went as far as it
 * can: 1 when chosen. */
static int
another(ks_req *r, recall_ctx *c, const ks_recipe *rec, const ks_change *d)
{
	int flavor = ks_change_flavor(d);
	long k;

	if (flavor < 0)
		return 0;
	ks_changes_free(c->cand, c->n_cand);
	ks_candidates(r, rec, flavor, c->cand, KS_MAX_CHANGES, &c->n_cand);
	k = ks_pick(r, c->cand, c->n_cand, c->tried, c->n_tried);
	return k >= 0 && take(r, c, rec, &c->cand[k], 1);
}

/* "0.05 from n_estimators 300 -> 450 in random forest at node 5": a
 * step, by its change d (NULL: its first change, and how many more). */
static void
gain_words(ks_buf *b, const ks_req *r, recall_ctx *c, const step *g, const ks_change *d)
{
	ks_change v[KS_MAX_CHANGES];
	size_t n = 0;

	ks_buf_printf(b, "%.4g (%s) from ", g->by, r->task->metric ? r->task->metric : "score");
	if (d == NULL) {
		ks_recipe_diff(&c->nodes[g->from].rec, &c->nodes[g->to].rec, v, KS_MAX_CHANGES, &n);
		if (n == 0)
			ks_buf_puts(b, "no change of the recipe");
		else
			ks_change_words(b, &v[0]);
		if (n > 1)
			ks_buf_printf(b, " (and %zu more change%s)", n - 1, n > 2 ? "s" : "");
		ks_changes_free(v, n);
	} else {
		ks_change_words(b, d);
	}
	ks_buf_printf(b, " at node %ld", c->nodes[g->to].node.id);
}

/* 1. and 2.: build on the largest gain that allows it. */
static void
build_on_gains(ks_req *r, recall_ctx *c, const ks_recipe *base, ks_buf *why)
{
	size_t i, k;
	int pass;

	for (pass = 0; pass < 2 && !c->have_chosen; pass++)
		for (i = 0; i < c->n_gains && !c->have_chosen; i++) {
			const step *g = &c->steps[i];

			ks_changes_free(c->diff, c->n_diff);
			ks_recipe_diff(&c->nodes[g->from].rec, &c->nodes[g->to].rec, c->diff,
				       KS_MAX_CHANGES, &c->n_diff);
			for (k = 0; k < c->n_diff && !c->have_chosen; k++) {
				const ks_change *d = &c->diff[k];
				int made = pass == 0 ? again(r, c, base, d) : another(r, c, base, d);

				if (!made)
					continue;
				ks_buf_puts(why, "the largest gain was ");
				gain_words(why, r, c, &c->steps[0], i == 0 ? d : NULL);
				if (i > 0) {
					ks_buf_printf(why, ", which cannot be built on in node %ld; "
						      "the next that can was ", c->nodes[0].node.id);
					gain_words(why, r, c, g, d);
				}
				if (pass == 1)
					ks_buf_printf(why, ", and it cannot go further, so another %s "
						      "step: ", ks_flavor_name(ks_change_flavor(d)));
				else if (d->kind == KS_SET && !ks_json_equal(d->from, c->chosen.from))
					ks_buf_puts(why, ", so push that way again: ");
				else
					ks_buf_printf(why, ", so make it on node %ld too: ",
						      c->nodes[0].node.id);
			}
		}
}

/* The lead of the plan when no gain could be built on. */
static void
no_gain_words(ks_buf *why, ks_req *r, recall_ctx *c)
{
	if (c->n_steps == 0)
		ks_buf_puts(why, "the branch shows no measured step");
	else if (c->n_gains == 0)
		ks_buf_puts(why, "none of them raised the score");
	else {
		ks_buf_puts(why, "the largest gain was ");
		gain_words(why, r, c, &c->steps[0], NULL);
		ks_buf_printf(why, ", but no step that raised the score can be made again "
			      "on node %ld", c->nodes[0].node.id);
	}
}

/* 3.: borrow a difference of a better node (evolution mode). */
static void
borrow(ks_req *r, recall_ctx *c, const ks_recipe *base, ks_buf *why)
{
	const ks_node *cur = &c->nodes[0].node;
	size_t i, k;

	for (i = 1; i < c->n_nodes && !c->have_chosen; i++) {
		const rnode *o = &c->nodes[i];

		if (!measured(o) || (cur->has_score && !ks_better(r, o->node.score, cur->score)))
			continue;
		ks_changes_free(c->diff, c->n_diff);
		ks_recipe_diff(base, &o->rec, c->diff, KS_MAX_CHANGES, &c->n_diff);
		for (k = 0; k < c->n_diff && !c->have_chosen; k++)
			if (ks_change_borrowable(r, base, &c->diff[k])
			    && take(r, c, base, &c->diff[k], 1)) {
				no_gain_words(why, r, c);
				ks_buf_printf(why, ", and node %ld scores %.6g, better than node %ld, "
					      "so borrow one of its differences: ", o->node.id,
					      o->node.score, cur->id);
			}
	}
}

/* 4.: back to the branch's best, and something the branch never touched.
 * Returns the node whose recipe is changed. */
static size_t
untouched(ks_req *r, recall_ctx *c, ks_buf *why)
{
	const ks_recipe *base;
	size_t i, best = 0;
	long at;
	int f;

	for (i = 1; i < c->n_nodes; i++)
		if (measured(&c->nodes[i]) && (!c->nodes[best].node.has_score
		    || ks_better(r, c->nodes[i].node.score, c->nodes[best].node.score)))
			best = i;
	base = &c->nodes[best].rec;
	/* every change made along the branch counts as tried */
	for (i = 0; i < c->n_nodes; i++) {
		size_t got = 0;

		if (!c->nodes[i].ok || c->n_tried >= KS_MAX_CHANGES)
			continue;
		ks_recipe_diff(base, &c->nodes[i].rec, c->tried + c->n_tried,
			       KS_MAX_CHANGES - c->n_tried, &got);
		c->n_tried += got;
	}
	for (f = KS_FL_HYPER; f <= KS_FL_STRATEGY && !c->have_chosen; f++) {
		ks_changes_free(c->cand, c->n_cand);
		ks_candidates(r, base, f, c->cand, KS_MAX_CHANGES, &c->n_cand);
		at = ks_pick(r, c->cand, c->n_cand, c->tried, c->n_tried);
		if (at >= 0)
			take(r, c, base, &c->cand[at], 1);
	}
	no_gain_words(why, r, c);
	if (best == 0)
		ks_buf_printf(why, ", and node %ld is the branch's best, so change what the "
			      "branch has not tried: ", c->nodes[0].node.id);
	else
		ks_buf_printf(why, ", so go back to node %ld's recipe (the branch's best, "
			      "score %.6g) and change what the branch has not tried: ",
			      c->nodes[best].node.id, c->nodes[best].node.score);
	return best;
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
	size_t i;
	int rc;

	if (pj == NULL) {
		ks_seterr(err, errlen, "kbsynth: the recall request has no parent node to extend");
		return AML_EINVAL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return AML_ENOMEM;
	ks_recipe_init(&next);
	rc = nodes_of(r, pj, c);
	if (rc != AML_OK)
		goto out;
	if (!c->nodes[0].ok) {
		ks_seterr(err, errlen, "kbsynth: cannot extend node %ld: its script has no "
			  "recipe line with a model offered for this task", c->nodes[0].node.id);
		rc = AML_EUNSUPPORTED;
		goto out;
	}
	steps_of(r, c);
	base = &c->nodes[0].rec;
	ks_tried_changes(r, base, "siblings", c->tried, KS_MAX_CHANGES, &c->n_tried);
	ks_buf_printf(&plan, "Plan: recall over %zu measured step%s of the branch",
		      c->n_steps, c->n_steps == 1 ? "" : "s");
	for (i = 0; i < c->n_steps; i++)
		ks_buf_printf(&plan, "%s%ld -> %ld", i ? ", " : " (",
			      c->nodes[c->steps[i].from].node.id, c->nodes[c->steps[i].to].node.id);
	ks_buf_printf(&plan, "%s, extending node %ld: ", c->n_steps ? ")" : "",
		      c->nodes[0].node.id);

	build_on_gains(r, c, base, &why);
	if (!c->have_chosen && mode && strcmp(mode, "evolution") == 0)
		borrow(r, c, base, &why);
	if (!c->have_chosen)
		base = &c->nodes[untouched(r, c, &why)].rec;
	if (!c->have_chosen) {
		ks_seterr(err, errlen, "kbsynth: cannot extend node %ld: every change "
			  "kbsynth knows was already tried", c->nodes[0].node.id);
		rc = AML_EUNSUPPORTED;
		goto out;
	}
	rc = ks_recipe_copy(&next, base);
	if (rc == AML_OK) {
		ks_recipe_descend(&next, base);
		rc = ks_change_apply(&next, &c->chosen);
	}
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
	for (i = 0; c->nodes && i < c->n_nodes; i++)
		ks_recipe_free(&c->nodes[i].rec);
	free(c->nodes);
	free(c->steps);
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
