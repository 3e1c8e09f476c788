/*
 * ks_draft.c — kbsynth's answer to the draft operator: a new solution
 * from the task alone.
 *
 * It takes the first applicable model family in draft order (the best of
 * each kind of model, then the second best of each, ...) that no sibling
 * (earlier draft) used yet, else the families in turn by seq; every
 * applicable data entry but those tagged "optional" (alternatives that
 * improve may add); the strategy entries tagged "when:<tag>" for a tag of
 * the model (e.g. seed averaging for stochastic models) or "when:always";
 * the skeleton with the provider's folds, and a hold-out split above
 * holdout_rows rows.
 * Every parameter is its space's default.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

/* A model entry's kind of model: its first tag ("trees", "linear",
 * "kernel", "neural network", "neighbours"), "" when it has none. */
static const char *
model_kind(const ks_entry *e)
{
	json_object *tags = ks_obj_get(e->j, "tags");

	if (tags && json_object_is_type(tags, json_type_array)
	    && json_object_array_length(tags) > 0)
		return json_object_get_string(json_object_array_get_idx(tags, 0));
	return "";
}

/* The order drafts take model families in: the best family of each kind
 * (kinds by their best family's priority), then the second best of each,
 * and so on.  Five drafts thus try trees, a linear model, a kernel
 * machine, a network and neighbours before a second tree ensemble: a
 * search seeded only with tree ensembles never finds out that a task is
 * linear.  order[] gets indexes into models (best first within a kind,
 * as the list is). */
static void
draft_order(const ks_list *models, size_t *order)
{
	size_t rank[KS_MAX_ENTRIES], i, j, n = 0, round;

	for (i = 0; i < models->n; i++) {
		rank[i] = 0; /* how many of the same kind come before it */
		for (j = 0; j < i; j++)
			if (strcmp(model_kind(&models->v[j]), model_kind(&models->v[i])) == 0)
				rank[i]++;
	}
	for (round = 0; n < models->n; round++)
		for (i = 0; i < models->n; i++)
			if (rank[i] == round)
				order[n++] = i;
}

/* The first family in draft order that no sibling used, else the order
 * in turn by seq.  Siblings still running are not in the request (seq
 * counts them, the siblings array does not): as many unused families as
 * there are such drafts are skipped, since they took them. */
static const ks_entry *
choose_model(const ks_req *r, const char **why)
{
	const ks_list *models = &r->kb->model;
	json_object *sibs;
	char used[KS_MAX_ENTRIES] = {0};
	size_t order[KS_MAX_ENTRIES];
	size_t i, n_sibs = 0, n_used = 0, pending, skip;

	draft_order(models, order);
	sibs = ks_req_array(r, "siblings", &n_sibs);
	for (i = 0; i < n_sibs; i++) {
		json_object *sib = json_object_array_get_idx(sibs, i);
		const char *code = ks_obj_str(sib, "code"), *p, *m;
		json_object *recipe = NULL;
		char *line;

		p = code ? strstr(code, KS_RECIPE_TAG) : NULL;
		if (p == NULL)
			continue;
		p += strlen(KS_RECIPE_TAG);
		line = strndup(p, strcspn(p, "\n"));
		recipe = line ? json_tokener_parse(line) : NULL;
		free(line);
		m = ks_obj_str(recipe, "model");
		if (m) {
			const ks_entry *e = ks_kb_find(models, m);

			if (e && !used[e - models->v]) {
				used[e - models->v] = 1;
				n_used++;
			}
		}
		json_object_put(recipe);
	}
	pending = r->seq > 0 && (size_t)r->seq > n_sibs ? (size_t)r->seq - n_sibs : 0;
	if (n_used < models->n) {
		skip = pending % (models->n - n_used);
		for (i = 0; i < models->n; i++) {
			if (used[order[i]] || skip-- > 0)
				continue;
			*why = pending ? "the next model family in draft order, as earlier "
				"drafts still running took the ones before it"
				: n_used ? "the first family in draft order (one kind of "
				"model after another) no sibling has tried yet"
				: "the strongest applicable model family for this task";
			return &models->v[order[i]];
		}
	}
	*why = "every applicable model family was tried, so the next one in turn";
	return &models->v[order[(size_t)(r->seq < 0 ? 0 : r->seq) % models->n]];
}

/* Whether a strategy entry goes with the model: one of its "when:<tag>"
 * tags names a tag of the model, or is "when:always" (a strategy the
 * task's kind of data calls for whatever the model, like validation
 * windows in time for a time series). */
static int
strategy_fits(const ks_entry *s, const ks_entry *model)
{
	json_object *tags = ks_obj_get(s->j, "tags");
	size_t i, n;

	n = tags && json_object_is_type(tags, json_type_array) ? json_object_array_length(tags) : 0;
	for (i = 0; i < n; i++) {
		const char *t = json_object_get_string(json_object_array_get_idx(tags, i));

		if (t && strncmp(t, "when:", 5) == 0
		    && (strcmp(t + 5, "always") == 0 || ks_entry_tagged(model, t + 5)))
			return 1;
	}
	return 0;
}

int
ks_draft_recipe(ks_req *r, ks_recipe *out, const char **why, char *err, size_t errlen)
{
	const ks_kb *kb = r->kb;
	const ks_entry *model = choose_model(r, why);
	size_t i;
	int rc;

	ks_recipe_init(out);
	out->seed = (int64_t)(r->seed % 2147483647u);
	out->pipeline.e = kb->skeleton;
	out->pipeline.params = ks_default_params(kb->skeleton);
	if (out->pipeline.params == NULL)
		return AML_ENOMEM;
	json_object_object_add(out->pipeline.params, "folds", json_object_new_int64(r->n_folds));
	json_object_object_add(out->pipeline.params, "validation", json_object_new_string(
		r->task->train_rows > (size_t)r->holdout_rows ? "holdout" : "cv"));
	rc = ks_recipe_add(out, KS_LV_MODEL, model, NULL);
	for (i = 0; rc == AML_OK && i < kb->data.n; i++)
		if (!ks_entry_tagged(&kb->data.v[i], "optional"))
			rc = ks_recipe_add(out, KS_LV_DATA, &kb->data.v[i], NULL);
	for (i = 0; rc == AML_OK && i < kb->strat.n; i++)
		if (&kb->strat.v[i] != kb->skeleton && strategy_fits(&kb->strat.v[i], model))
			rc = ks_recipe_add(out, KS_LV_STRAT, &kb->strat.v[i], NULL);
	if (rc == AML_EUNSUPPORTED)
		rc = AML_OK; /* more entries than a recipe holds: the best ones */
	if (rc != AML_OK) {
		ks_seterr(err, errlen, "kbsynth: out of memory composing a draft");
		ks_recipe_free(out);
	}
	return rc;
}

void
ks_draft_plan(ks_buf *b, const ks_req *r, const ks_recipe *rec, const char *why)
{
	const aml_task *t = r->task;
	size_t i;

	ks_buf_printf(b, "Plan: %s (%s) for this %s task", rec->model[0].e->e->title,
		      rec->model[0].e->e->id, ks_type_name(t->type));
	if (rec->n_data) {
		ks_buf_puts(b, ", with ");
		for (i = 0; i < rec->n_data; i++) {
			if (i)
				ks_buf_puts(b, i + 1 == rec->n_data ? " and " : ", ");
			ks_title_words(b, rec->data[i].e->e->title);
		}
	}
	for (i = 0; i < rec->n_strat; i++) {
		ks_buf_puts(b, " plus ");
		ks_title_words(b, rec->strat[i].e->e->title);
	}
	ks_buf_puts(b, ", validated by ");
	ks_validation_words(b, t, rec);
	ks_buf_printf(b, " on %s (%s is better); chosen as %s.",
		      t->metric ? t->metric : "the task metric",
		      t->higher_is_better ? "higher" : "lower", why);
}

int
ks_draft(ks_req *r, ks_buf *out, char *err, size_t errlen)
{
	ks_recipe rec;
	ks_buf plan = {0};
	const char *why = "";
	int rc;

	rc = ks_draft_recipe(r, &rec, &why, err, errlen);
	if (rc != AML_OK)
		return rc;
	ks_draft_plan(&plan, r, &rec, why);
	rc = ks_render_answer(r->task, &rec, ks_buf_str(&plan), out, err, errlen);
	ks_buf_free(&plan);
	ks_recipe_free(&rec);
	return rc;
}
