/*
 * ks_candidates.c — what kbsynth may change in a recipe, and which change
 * to make: the single changes of each kind (the improve operator's
 * flavors) that fit a recipe, the changes other nodes already made
 * (siblings, references), and a seeded choice that avoids repeating them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

/* Among the first this many preferred candidates the choice is seeded:
 * early candidates matter more (the space lists the important
 * parameters first), later ones still get their turn once those are
 * tried. */
#define KS_PICK_WINDOW 4

void
ks_node_of(json_object *j, ks_node *n)
{
	json_object *v;

	memset(n, 0, sizeof *n);
	n->id = (v = ks_obj_get(j, "id")) ? (long)json_object_get_int64(v) : -1;
	n->parent_id = (v = ks_obj_get(j, "parent_id")) ? (long)json_object_get_int64(v) : -1;
	n->op = ks_obj_str(j, "op");
	n->plan = ks_obj_str(j, "plan");
	n->code = ks_obj_str(j, "code");
	n->status = ks_obj_str(j, "status");
	n->reason = ks_obj_str(j, "reason");
	n->output = ks_obj_str(j, "output");
	v = ks_obj_get(j, "score");
	n->has_score = v && (json_object_is_type(v, json_type_double)
			     || json_object_is_type(v, json_type_int));
	n->score = n->has_score ? json_object_get_double(v) : 0;
	/* a score counts only for a valid node */
	if (n->status && strcmp(n->status, "valid") != 0)
		n->has_score = 0;
}

json_object *
ks_req_array(const ks_req *r, const char *key, size_t *n)
{
	json_object *a = ks_obj_get(r->j, key);

	if (a == NULL || !json_object_is_type(a, json_type_array)) {
		*n = 0;
		return NULL;
	}
	*n = json_object_array_length(a);
	return a;
}

int
ks_better(const ks_req *r, double a, double b)
{
	return r->task->higher_is_better ? a > b : a < b;
}

const char *
ks_flavor_name(int f)
{
	switch (f) {
	case KS_FL_HYPER: return "hyperparameters";
	case KS_FL_FEATURES: return "features";
	default: return "strategy";
	}
}

int
ks_change_flavor(const ks_change *c)
{
	switch (c->level) {
	case KS_LV_MODEL: return c->kind == KS_SET ? KS_FL_HYPER : -1;
	case KS_LV_DATA: return KS_FL_FEATURES;
	default: return KS_FL_STRATEGY;
	}
}

static int
json_num(json_object *v, double *d)
{
	if (v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))) {
		*d = json_object_get_double(v);
		return 1;
	}
	return 0;
}

/* Add the SET candidates of part p's key: one step up and/or down. */
static void
steps_of(const ks_part *p, int level, const char *key, int up, int down,
	 ks_change *out, size_t cap, size_t *n)
{
	json_object *spec = ks_obj_get(ks_entry_space(p->e), key);
	int d;

	for (d = 0; d < 2 && spec; d++) {
		json_object *to;

		if ((d == 0 && !up) || (d == 1 && !down) || *n >= cap)
			continue;
		to = ks_step(spec, ks_obj_get(p->params, key), d == 0 ? 1 : -1);
		if (to)
			ks_change_set(&out[(*n)++], level, p, key, to);
	}
}

/* Add a SET candidate for each value of choice key other than the
 * current one (options without an order: scaler, imputation...). */
static void
alternatives_of(const ks_part *p, int level, const char *key, ks_change *out, size_t cap,
		size_t *n)
{
	json_object *spec = ks_obj_get(ks_entry_space(p->e), key);
	json_object *choices = ks_obj_get(spec, "choices"), *cur = ks_obj_get(p->params, key);
	size_t i, k;

	k = choices && json_object_is_type(choices, json_type_array)
		? json_object_array_length(choices) : 0;
	for (i = 0; i < k && *n < cap; i++) {
		json_object *v = json_object_array_get_idx(choices, i);

		if (!ks_json_equal(v, cur))
			ks_change_set(&out[(*n)++], level, p, key, ks_json_copy(v));
	}
}

static int
is_choice(const ks_part *p, const char *key)
{
	const char *t = ks_obj_str(ks_obj_get(ks_entry_space(p->e), key), "type");

	return t && strcmp(t, "choice") == 0;
}

static int
any_model(const ks_recipe *r, int (*pred)(const ks_entry *, const char *), const char *arg)
{
	size_t i;

	for (i = 0; i < r->n_model; i++)
		if (pred(r->model[i].e, arg))
			return 1;
	return 0;
}

static int
needs_scaling(const ks_entry *e, const char *unused)
{
	(void)unused;
	return ks_model_needs_scaling(e);
}

int
ks_is_cost_param(const char *key)
{
	static const char *const cost[] = {"n_estimators", "max_iter", "hidden_units"};
	size_t i;

	for (i = 0; i < sizeof cost / sizeof cost[0]; i++)
		if (strcmp(key, cost[i]) == 0)
			return 1;
	return 0;
}

int
ks_strategy_suits(const ks_entry *s, const ks_recipe *r)
{
	json_object *tags = ks_obj_get(s->j, "tags");
	size_t i, n;
	int conditional = 0;

	n = tags && json_object_is_type(tags, json_type_array) ? json_object_array_length(tags) : 0;
	for (i = 0; i < n; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(tags, i));

		if (t && strncmp(t, "when:", 5) == 0) {
			conditional = 1;
			if (strcmp(t + 5, "always") == 0 || (strcmp(t + 5, "blend") == 0 && r->n_model > 1)
			    || any_model(r, ks_entry_tagged, t + 5))
				return 1;
		}
	}
	return !conditional;
}

static void
hyper_candidates(const ks_recipe *base, ks_change *out, size_t cap, size_t *n)
{
	size_t i;

	for (i = 0; i < base->n_model; i++) {
		json_object *space = ks_entry_space(base->model[i].e);

		if (space == NULL)
			continue;
		/* a model's size only grows: fewer trees or iterations are
		 * cheaper, rarely better */
		json_object_object_foreach(space, key, spec) {
			(void)spec;
			steps_of(&base->model[i], KS_LV_MODEL, key, 1, !ks_is_cost_param(key),
				 out, cap, n);
		}
	}
}

static void
feature_candidates(const ks_req *r, const ks_recipe *base, ks_change *out, size_t cap,
		   size_t *n)
{
	int scaled = any_model(base, needs_scaling, NULL), pass;
	size_t i;

	/* the choices first (scaler, imputation, encoding style, log
	 * target), then the numbers, then dropping or adding an entry */
	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < base->n_data; i++) {
			json_object *space = ks_entry_space(base->data[i].e);

			if (space == NULL)
				continue;
			json_object_object_foreach(space, key, spec) {
				(void)spec;
				if (is_choice(&base->data[i], key) != (pass == 0))
					continue;
				if (strcmp(key, "scaler") == 0 && !scaled)
					continue; /* no model of the recipe scales */
				if (pass == 0)
					alternatives_of(&base->data[i], KS_LV_DATA, key, out, cap, n);
				else
					steps_of(&base->data[i], KS_LV_DATA, key, 1, 1, out, cap, n);
			}
		}
	for (i = 0; i < base->n_data && *n < cap; i++) {
		memset(&out[*n], 0, sizeof out[*n]);
		out[*n].kind = KS_DROP;
		out[*n].level = KS_LV_DATA;
		out[*n].e = base->data[i].e;
		(*n)++;
	}
	for (i = 0; i < r->kb->data.n && *n < cap; i++) {
		const ks_entry *e = &r->kb->data.v[i];

		if (ks_recipe_find(base, KS_LV_DATA, e))
			continue;
		memset(&out[*n], 0, sizeof out[*n]);
		out[*n].kind = KS_ADD;
		out[*n].level = KS_LV_DATA;
		out[*n].e = e;
		(*n)++;
	}
}

static void
strategy_candidates(const ks_req *r, const ks_recipe *base, ks_change *out, size_t cap,
		    size_t *n)
{
	const char *validation = ks_obj_str(base->pipeline.params, "validation");
	int cv = validation == NULL || strcmp(validation, "cv") == 0;
	size_t i;

	/* a strategy entry that suits the models (seed averaging for
	 * stochastic ones) */
	for (i = 0; i < r->kb->strat.n && *n < cap; i++) {
		const ks_entry *e = &r->kb->strat.v[i];

		if (e == r->kb->skeleton || ks_recipe_find(base, KS_LV_STRAT, e)
		    || !ks_strategy_suits(e, base))
			continue;
		memset(&out[*n], 0, sizeof out[*n]);
		out[*n].kind = KS_ADD;
		out[*n].level = KS_LV_STRAT;
		out[*n].e = e;
		(*n)++;
	}
	/* the test predictions from the fold models instead of a refit */
	if (cv)
		steps_of(&base->pipeline, KS_LV_PIPELINE, "test_from", 1, 0, out, cap, n);
	/* more of a strategy the recipe has (more seeds) */
	for (i = 0; i < base->n_strat; i++) {
		json_object *space = ks_entry_space(base->strat[i].e);

		if (space == NULL)
			continue;
		json_object_object_foreach(space, key, spec) {
			(void)spec;
			steps_of(&base->strat[i], KS_LV_STRAT, key, 1, 0, out, cap, n);
		}
	}
	/* balanced class weights, when a model takes them */
	if (ks_is_classification(r->task) && any_model(base, ks_entry_tagged, "class-weights"))
		steps_of(&base->pipeline, KS_LV_PIPELINE, "class_weight", 1, 0, out, cap, n);
	/* more folds */
	if (cv)
		steps_of(&base->pipeline, KS_LV_PIPELINE, "folds", 1, 0, out, cap, n);
}

/* Whether the target is fitted on a log scale with the log-target
 * entry's params (mode auto/always/never, min_skew), or -1 when the
 * params are not those. */
static int
target_logged(const ks_req *r, json_object *params)
{
	const char *mode = ks_obj_str(params, "mode");
	double min_skew;

	if (mode == NULL || !json_num(ks_obj_get(params, "min_skew"), &min_skew))
		return -1;
	if (strcmp(mode, "never") == 0 || !r->profile.target_nonneg)
		return 0;
	return strcmp(mode, "always") == 0 || r->profile.target_skew > min_skew;
}

int
ks_change_matters(const ks_req *r, const ks_recipe *base, const ks_change *c)
{
	const ks_profile *p = &r->profile;
	double a, b;

	if (!p->known)
		return 1;
	if (c->level == KS_LV_PIPELINE && c->kind == KS_SET && strcmp(c->key, "class_weight") == 0)
		return p->class_ratio >= 1.1;
	if (c->level != KS_LV_DATA)
		return 1;
	/* a data entry acts on the columns its tags name */
	if (ks_entry_tagged(c->e, "dates")) {
		/* a numeric option of the date entry is its threshold */
		if (c->kind == KS_SET && json_num(c->from, &a) && json_num(c->to, &b))
			return ks_profile_dates_between(p, a, b);
		return p->n_dates > 0;
	}
	if (ks_entry_tagged(c->e, "categorical")) {
		if (p->n_categorical == 0)
			return 0;
		/* the one-hot cut-off matters when a column's levels lie between */
		if (c->kind == KS_SET && strcmp(c->key, "max_onehot_levels") == 0
		    && json_num(c->from, &a) && json_num(c->to, &b))
			return ks_profile_card_between(p, a, b);
		return 1;
	}
	if (ks_entry_tagged(c->e, "numeric")) {
		const ks_part *part = ks_recipe_find(base, KS_LV_DATA, c->e);
		const char *scaler = part ? ks_obj_str(part->params, "scaler") : NULL;
		int scaled = any_model(base, needs_scaling, NULL);

		if (p->n_numeric == 0)
			return 0;
		if (c->kind == KS_SET && strcmp(c->key, "scaler") == 0)
			return scaled;
		if (c->kind == KS_DROP)
			return p->n_missing_numeric > 0
				|| (scaled && scaler && strcmp(scaler, "standard") != 0);
		return p->n_missing_numeric > 0; /* imputation options */
	}
	if (ks_entry_tagged(c->e, "target")) {
		const ks_part *part = ks_recipe_find(base, KS_LV_DATA, c->e);
		json_object *after;
		int before, now;

		if (r->task->metric && strcmp(r->task->metric, "rmsle") == 0)
			return 0; /* the skeleton fits RMSLE on log1p whatever the entry says */
		if (c->kind == KS_DROP) /* without the entry the target is never logged */
			return part == NULL || target_logged(r, part->params) != 0;
		if (c->kind == KS_ADD || part == NULL) {
			int logged;

			after = c->to ? ks_json_copy(c->to) : ks_default_params(c->e);
			logged = target_logged(r, after);
			json_object_put(after);
			return logged != 0;
		}
		/* does the decision to fit on log1p flip? */
		after = ks_json_copy(part->params);
		if (after == NULL)
			return 1;
		json_object_object_add(after, c->key, ks_json_copy(c->to));
		before = target_logged(r, part->params);
		now = target_logged(r, after);
		json_object_put(after);
		return before < 0 || now < 0 || before != now;
	}
	return 1;
}

int
ks_change_borrowable(const ks_req *r, const ks_recipe *base, const ks_change *c)
{
	if (ks_change_flavor(c) < 0)
		return 0;
	if (c->level == KS_LV_PIPELINE && strcmp(c->key, "validation") == 0)
		return 0;
	if (c->level == KS_LV_STRAT && c->kind == KS_ADD && !ks_strategy_suits(c->e, base))
		return 0;
	return ks_change_matters(r, base, c) && !ks_change_revisits(base, c);
}

int
ks_candidates(const ks_req *r, const ks_recipe *base, int flavor, ks_change *out,
	      size_t cap, size_t *n)
{
	size_t i, k = 0;

	*n = 0;
	switch (flavor) {
	case KS_FL_HYPER: hyper_candidates(base, out, cap, n); break;
	case KS_FL_FEATURES: feature_candidates(r, base, out, cap, n); break;
	default: strategy_candidates(r, base, out, cap, n); break;
	}
	/* keep the changes that can make a difference on this data and
	 * that do not step back to a recipe the branch already ran */
	for (i = 0; i < *n; i++) {
		if (ks_change_matters(r, base, &out[i]) && !ks_change_revisits(base, &out[i]))
			out[k++] = out[i];
		else
			ks_change_free(&out[i]);
	}
	*n = k;
	return AML_OK;
}

int
ks_tried_changes(const ks_req *r, const ks_recipe *base, const char *key,
		 ks_change *out, size_t cap, size_t *n)
{
	json_object *arr;
	size_t i, count, got;
	int rc = AML_OK;

	*n = 0;
	arr = ks_req_array(r, key, &count);
	for (i = 0; i < count && rc == AML_OK && *n < cap; i++) {
		const char *code = ks_obj_str(json_object_array_get_idx(arr, i), "code");
		ks_recipe other;

		if (ks_recipe_read(r->kb, code, &other, NULL, NULL, 0) != AML_OK)
			continue; /* no recipe: nothing to compare */
		if (other.n_model > 0) {
			rc = ks_recipe_diff(base, &other, out + *n, cap - *n, &got);
			*n += got;
		}
		ks_recipe_free(&other);
	}
	return rc;
}

long
ks_pick(ks_req *r, const ks_change *cand, size_t n, const ks_change *tried, size_t n_tried)
{
	size_t fresh[KS_MAX_CHANGES], untried[KS_MAX_CHANGES], nf = 0, nu = 0, i, k;

	for (i = 0; i < n && i < KS_MAX_CHANGES; i++) {
		int same = 0, touched = 0;

		for (k = 0; k < n_tried; k++) {
			same |= ks_change_same(&cand[i], &tried[k]);
			touched |= ks_change_same_place(&cand[i], &tried[k]);
		}
		if (same)
			continue;
		untried[nu++] = i;
		if (!touched)
			fresh[nf++] = i;
	}
	if (nf)
		return (long)fresh[ks_rng_below(&r->rng, nf < KS_PICK_WINDOW ? nf : KS_PICK_WINDOW)];
	if (nu)
		return (long)untried[ks_rng_below(&r->rng, nu < KS_PICK_WINDOW ? nu : KS_PICK_WINDOW)];
	return -1;
}
