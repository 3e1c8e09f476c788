/*
 * ks_change.c — single changes of a recipe: the differences between two
 * recipes, applying one, saying it in a plan, and moving a parameter one
 * step within its entry's space (or repeating a move another step made).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

void
ks_change_free(ks_change *c)
{
	json_object_put(c->from);
	json_object_put(c->to);
	memset(c, 0, sizeof *c);
}

void
ks_changes_free(ks_change *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		ks_change_free(&v[i]);
}

static int
push(ks_change *out, size_t cap, size_t *n, int kind, int level, const ks_entry *e,
     const char *key, json_object *from, json_object *to)
{
	ks_change *c;

	if (*n >= cap) {
		json_object_put(from);
		json_object_put(to);
		return AML_OK; /* enough: later differences are left out */
	}
	c = &out[(*n)++];
	memset(c, 0, sizeof *c);
	c->kind = kind;
	c->level = level;
	c->e = e;
	if (key)
		snprintf(c->key, sizeof c->key, "%s", key);
	c->from = from;
	c->to = to;
	return AML_OK;
}

/* The SET changes between two parts of the same entry. */
static void
diff_params(const ks_part *a, const ks_part *b, int level, ks_change *out, size_t cap,
	    size_t *n)
{
	json_object_object_foreach(b->params, key, vb) {
		json_object *va = ks_obj_get(a->params, key);

		if (!ks_json_equal(va, vb))
			push(out, cap, n, KS_SET, level, b->e, key, ks_json_copy(va),
			     ks_json_copy(vb));
	}
}

/* The changes of one level's parts between a (av, na) and b (bv, nb). */
static void
diff_level(const ks_recipe *a, const ks_part *av, size_t na, const ks_recipe *b,
	   const ks_part *bv, size_t nb, int level, ks_change *out, size_t cap, size_t *n)
{
	size_t i;

	for (i = 0; i < nb; i++) {
		const ks_part *same = ks_recipe_find(a, level, bv[i].e);

		if (same)
			diff_params(same, &bv[i], level, out, cap, n);
		else
			push(out, cap, n, KS_ADD, level, bv[i].e, NULL, NULL,
			     ks_json_copy(bv[i].params));
	}
	for (i = 0; i < na; i++)
		if (ks_recipe_find(b, level, av[i].e) == NULL)
			push(out, cap, n, KS_DROP, level, av[i].e, NULL, NULL, NULL);
}

int
ks_recipe_diff(const ks_recipe *a, const ks_recipe *b, ks_change *out, size_t cap,
	       size_t *n)
{
	*n = 0;
	diff_level(a, a->model, a->n_model, b, b->model, b->n_model, KS_LV_MODEL, out, cap, n);
	diff_level(a, a->data, a->n_data, b, b->data, b->n_data, KS_LV_DATA, out, cap, n);
	diff_level(a, a->strat, a->n_strat, b, b->strat, b->n_strat, KS_LV_STRAT, out, cap, n);
	if (a->pipeline.e && b->pipeline.e)
		diff_params(&a->pipeline, &b->pipeline, KS_LV_PIPELINE, out, cap, n);
	return AML_OK;
}

int
ks_change_apply(ks_recipe *r, const ks_change *c)
{
	ks_part *p = ks_recipe_find(r, c->level, c->e);
	json_object *v;

	switch (c->kind) {
	case KS_SET:
		if (p == NULL)
			return AML_ENOTFOUND;
		v = ks_json_copy(c->to);
		if (c->to && v == NULL)
			return AML_ENOMEM;
		json_object_object_add(p->params, c->key, v);
		return AML_OK;
	case KS_ADD:
		if (p != NULL)
			return AML_ENOTFOUND;
		v = c->to ? ks_json_copy(c->to) : NULL;
		return ks_recipe_add(r, c->level, c->e, v);
	case KS_DROP:
		if (p == NULL)
			return AML_ENOTFOUND;
		ks_recipe_remove(r, c->level, c->e);
		return AML_OK;
	}
	return AML_EINVAL;
}

void
ks_change_words(ks_buf *b, const ks_change *c)
{
	switch (c->kind) {
	case KS_SET:
		ks_buf_printf(b, "%s ", c->key);
		ks_value_words(b, c->from);
		ks_buf_puts(b, " -> ");
		ks_value_words(b, c->to);
		if (c->level != KS_LV_PIPELINE) {
			ks_buf_puts(b, " in ");
			ks_title_words(b, c->e->e->title);
		}
		break;
	case KS_ADD:
	case KS_DROP:
		ks_buf_puts(b, c->kind == KS_ADD ? "added " : "dropped ");
		ks_title_words(b, c->e->e->title);
		ks_buf_printf(b, " (%s)", c->e->e->id);
		break;
	}
}

int
ks_change_same_place(const ks_change *a, const ks_change *b)
{
	return a->kind == b->kind && a->level == b->level && a->e == b->e
		&& strcmp(a->key, b->key) == 0;
}

int
ks_change_same(const ks_change *a, const ks_change *b)
{
	return ks_change_same_place(a, b) && (a->kind != KS_SET || ks_json_equal(a->to, b->to));
}

int
ks_change_set(ks_change *c, int level, const ks_part *p, const char *key, json_object *to)
{
	memset(c, 0, sizeof *c);
	c->kind = KS_SET;
	c->level = level;
	c->e = p->e;
	snprintf(c->key, sizeof c->key, "%s", key);
	c->from = ks_json_copy(ks_obj_get(p->params, key));
	c->to = to;
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Steps within a space.                                               */

static double
num(json_object *spec, const char *key, double def)
{
	json_object *v = ks_obj_get(spec, key);

	if (v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
		return json_object_get_double(v);
	return def;
}

static int
is_num(json_object *v)
{
	return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double));
}

/* Round to sig significant digits (tidy values in recipes and plans). */
static double
round_sig(double v, int sig)
{
	char s[64];

	if (v == 0 || !isfinite(v))
		return v;
	snprintf(s, sizeof s, "%.*g", sig, v);
	return strtod(s, NULL);
}

static int
choice_index(json_object *choices, json_object *v)
{
	size_t i, n = json_object_array_length(choices);

	for (i = 0; i < n; i++)
		if (ks_json_equal(json_object_array_get_idx(choices, i), v))
			return (int)i;
	return -1;
}

/* The number v as a value of spec's type, within [low, high]; NULL when
 * it equals cur. */
static json_object *
finish(json_object *spec, const char *type, double v, double cur)
{
	double low = num(spec, "low", -HUGE_VAL), high = num(spec, "high", HUGE_VAL);

	if (strcmp(type, "int") == 0)
		v = round(v);
	else
		v = round_sig(v, strcmp(type, "log_float") == 0 ? 3 : 4);
	if (v < low)
		v = low;
	if (v > high)
		v = high;
	if (v == cur || !isfinite(v))
		return NULL;
	if (strcmp(type, "int") == 0)
		return json_object_new_int64((int64_t)v);
	return json_object_new_double(v);
}

/* Whether a number's range is wide enough to move by factors. */
static int
wide(json_object *spec)
{
	double low = num(spec, "low", 0), high = num(spec, "high", 0);

	return low > 0 && high / low >= 4;
}

json_object *
ks_step(json_object *spec, json_object *cur, int dir)
{
	const char *type = ks_obj_str(spec, "type");
	double low, high, c, v, step, factor;

	if (type == NULL || dir == 0)
		return NULL;
	if (strcmp(type, "choice") == 0) {
		json_object *choices = ks_obj_get(spec, "choices");
		int i, n;

		if (choices == NULL || !json_object_is_type(choices, json_type_array))
			return NULL;
		n = (int)json_object_array_length(choices);
		i = choice_index(choices, cur);
		if (i < 0)
			i = choice_index(choices, ks_obj_get(spec, "default"));
		i += dir > 0 ? 1 : -1;
		if (i < 0 || i >= n)
			return NULL;
		return ks_json_copy(json_object_array_get_idx(choices, (size_t)i));
	}
	if (!is_num(cur))
		return NULL;
	low = num(spec, "low", -HUGE_VAL);
	high = num(spec, "high", HUGE_VAL);
	c = json_object_get_double(cur);
	if ((dir > 0 && c >= high) || (dir < 0 && c <= low))
		return NULL;
	if (strcmp(type, "log_float") == 0) {
		factor = pow(high / low, 1.0 / 8);
		factor = factor < 1.5 ? 1.5 : factor > 4 ? 4 : factor;
		v = dir > 0 ? c * factor : c / factor;
	} else if (strcmp(type, "int") == 0) {
		if (wide(spec) && c > 0) {
			v = dir > 0 ? c * 1.5 : c / 1.5;
		} else {
			step = round((high - low) / 5);
			v = c + (dir > 0 ? 1 : -1) * (step < 1 ? 1 : step);
		}
		if (round(v) == c)
			v = c + (dir > 0 ? 1 : -1);
	} else {
		v = c + (dir > 0 ? 1 : -1) * (high - low) / 5;
	}
	return finish(spec, type, v, c);
}

json_object *
ks_step_like(json_object *spec, json_object *cur, json_object *from, json_object *to)
{
	const char *type = ks_obj_str(spec, "type");
	double c, f, t, v;

	if (type == NULL)
		return NULL;
	if (strcmp(type, "choice") == 0) {
		json_object *choices = ks_obj_get(spec, "choices");
		int i, a, b, n;

		if (choices == NULL || !json_object_is_type(choices, json_type_array))
			return NULL;
		n = (int)json_object_array_length(choices);
		a = choice_index(choices, from);
		b = choice_index(choices, to);
		i = choice_index(choices, cur);
		if (a < 0 || b < 0 || i < 0 || a == b || i + (b - a) < 0 || i + (b - a) >= n)
			return NULL;
		return ks_json_copy(json_object_array_get_idx(choices, (size_t)(i + b - a)));
	}
	if (!is_num(cur) || !is_num(from) || !is_num(to))
		return NULL;
	c = json_object_get_double(cur);
	f = json_object_get_double(from);
	t = json_object_get_double(to);
	if (f == t)
		return NULL;
	if ((strcmp(type, "log_float") == 0 || wide(spec)) && f > 0 && t > 0 && c > 0)
		v = c * (t / f);
	else
		v = c + (t - f);
	if (strcmp(type, "int") == 0 && round(v) == c)
		v = c + (t > f ? 1 : -1);
	return finish(spec, type, v, c);
}
