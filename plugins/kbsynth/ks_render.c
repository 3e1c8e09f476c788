/*
 * ks_render.c — a recipe rendered into a complete script: the skeleton's
 * {{slots}} filled with the task facts, the recipe and the code of its
 * entries (each entry's own {{slots}} filled with its parameters), and
 * the answer text around it ("Plan: ..." and a ```python fence).
 *
 * Every model's code is followed by register_model("<id>"), which files
 * the make_model() / MODEL_NEEDS_SCALING / MODEL_MULTI_OUTPUT just defined
 * in the skeleton's MODELS list, so a blend is its models' code in a row.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

const char *
ks_type_name(aml_task_type t)
{
	switch (t) {
	case AML_TASK_BINARY: return "binary";
	case AML_TASK_MULTICLASS: return "multiclass";
	case AML_TASK_REGRESSION: return "regression";
	case AML_TASK_MULTI_REGRESSION: return "multi_regression";
	default: return "unknown";
	}
}

int
ks_is_classification(const aml_task *t)
{
	return t->type == AML_TASK_BINARY || t->type == AML_TASK_MULTICLASS;
}

static const char *
output_name(aml_output_kind o)
{
	switch (o) {
	case AML_OUT_LABEL: return "label";
	case AML_OUT_PROBA: return "proba";
	case AML_OUT_CLASS_PROBA: return "class_proba";
	case AML_OUT_VALUE: return "value";
	}
	return "label";
}

static json_object *
str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

static json_object *
str_array(const char *const *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a && v && i < n; i++)
		json_object_array_add(a, str_or_null(v[i]));
	return a;
}

/* The task facts the skeleton reads, as JSON (new). */
static json_object *
task_json(const aml_task *t)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "name", str_or_null(t->name));
	json_object_object_add(o, "type", json_object_new_string(ks_type_name(t->type)));
	json_object_object_add(o, "output", json_object_new_string(output_name(t->output)));
	json_object_object_add(o, "metric", str_or_null(t->metric));
	json_object_object_add(o, "higher_is_better", json_object_new_boolean(t->higher_is_better));
	json_object_object_add(o, "train_file", str_or_null(t->train_file ? t->train_file : "train.csv"));
	json_object_object_add(o, "test_file", str_or_null(t->test_file ? t->test_file : "test.csv"));
	json_object_object_add(o, "sample_file", str_or_null(t->sample_file
		? t->sample_file : "sample_submission.csv"));
	json_object_object_add(o, "id_column", str_or_null(t->id_column));
	json_object_object_add(o, "label_columns", str_array(t->label_columns, t->n_label_columns));
	json_object_object_add(o, "submission_columns",
			       str_array(t->submission_columns, t->n_submission_columns));
	json_object_object_add(o, "classes", str_array(t->classes, t->n_classes));
	json_object_object_add(o, "train_rows", json_object_new_int64((int64_t)t->train_rows));
	json_object_object_add(o, "test_rows", json_object_new_int64((int64_t)t->test_rows));
	json_object_object_add(o, "n_features", json_object_new_int64((int64_t)t->n_features));
	return o;
}

/* Slot values: raw text, or a JSON value rendered as a Python literal. */
typedef struct slot {
	const char *name;
	const char *text;   /* raw, or NULL */
	json_object *value; /* used when text is NULL */
} slot;

/* Copy tmpl into b with every {{name}} replaced; an unknown slot fails. */
static int
fill(ks_buf *b, const char *tmpl, const slot *slots, size_t n,
     const char *what, char *err, size_t errlen)
{
	const char *p = tmpl, *open, *close;
	size_t i, len;

	while ((open = strstr(p, "{{")) != NULL) {
		ks_buf_add(b, p, (size_t)(open - p));
		close = strstr(open + 2, "}}");
		if (close == NULL) {
			ks_seterr(err, errlen, "kbsynth: the template of %s has '{{' "
				  "without '}}'", what);
			return AML_EFORMAT;
		}
		len = (size_t)(close - open - 2);
		for (i = 0; i < n; i++)
			if (strlen(slots[i].name) == len
			    && strncmp(slots[i].name, open + 2, len) == 0)
				break;
		if (i == n) {
			ks_seterr(err, errlen, "kbsynth: the template of %s uses the "
				  "unknown slot {{%.*s}}", what, (int)len, open + 2);
			return AML_EFORMAT;
		}
		if (slots[i].text)
			ks_buf_puts(b, slots[i].text);
		else
			ks_py_value(b, slots[i].value);
		p = close + 2;
	}
	ks_buf_puts(b, p);
	return b->oom ? AML_ENOMEM : AML_OK;
}

/* A part's code with its space slots filled from its params. */
static int
fill_part(ks_buf *b, const ks_part *p, char *err, size_t errlen)
{
	json_object *space = ks_entry_space(p->e);
	slot slots[64];
	size_t n = 0;

	if (space) {
		json_object_object_foreach(space, key, spec) {
			(void)spec;
			if (n == sizeof slots / sizeof slots[0])
				break;
			slots[n].name = key;
			slots[n].text = NULL;
			slots[n].value = ks_obj_get(p->params, key);
			n++;
		}
	}
	return fill(b, p->e->e->code ? p->e->e->code : "", slots, n, p->e->e->id, err, errlen);
}

void
ks_validation_words(ks_buf *b, const aml_task *task, const ks_recipe *r)
{
	const char *v = ks_obj_str(r->pipeline.params, "validation");
	json_object *f = ks_obj_get(r->pipeline.params, "folds");

	if (v && strcmp(v, "holdout") == 0)
		ks_buf_printf(b, "a%s 80/20 hold-out split",
			      ks_is_classification(task) ? " stratified" : "");
	else
		ks_buf_printf(b, "%lld-fold%s cross-validation",
			      (long long)(f ? json_object_get_int64(f) : 5),
			      ks_is_classification(task) ? " stratified" : "");
}

void
ks_models_words(ks_buf *b, const ks_recipe *r)
{
	size_t i;

	if (r->n_model == 1) {
		ks_buf_puts(b, r->model[0].e->e->title);
		return;
	}
	ks_buf_puts(b, "a blend of ");
	for (i = 0; i < r->n_model; i++) {
		if (i)
			ks_buf_puts(b, i + 1 == r->n_model ? " and " : ", ");
		ks_title_words(b, r->model[i].e->e->title);
	}
}

int
ks_render_script(const aml_task *task, const ks_recipe *r, ks_buf *out,
		 char *err, size_t errlen)
{
	ks_buf data = {0}, model = {0}, strat = {0}, ids = {0}, title = {0},
		words = {0}, tlit = {0}, rlit = {0};
	json_object *tj = task_json(task), *rj = ks_recipe_json(r);
	const char *recipe = rj ? ks_json_text(rj) : NULL;
	size_t i;
	int rc = AML_OK;

	if (tj == NULL || recipe == NULL || r->n_model == 0 || r->pipeline.e == NULL) {
		json_object_put(tj);
		json_object_put(rj);
		if (r->n_model == 0 || r->pipeline.e == NULL) {
			ks_seterr(err, errlen, "kbsynth: a recipe without a %s cannot be "
				  "rendered", r->n_model ? "pipeline" : "model");
			return AML_EINVAL;
		}
		return AML_ENOMEM;
	}
	for (i = 0; rc == AML_OK && i < r->n_data; i++) {
		ks_buf_puts(&data, i ? "\n\n" : "");
		rc = fill_part(&data, &r->data[i], err, errlen);
	}
	for (i = 0; rc == AML_OK && i < r->n_model; i++) {
		ks_buf_puts(&model, i ? "\n\n" : "");
		if (r->n_model > 1)
			ks_buf_printf(&model, "# model %zu of %zu: %s\n", i + 1, r->n_model,
				      r->model[i].e->e->id);
		rc = fill_part(&model, &r->model[i], err, errlen);
		if (model.len && model.s[model.len - 1] != '\n')
			ks_buf_puts(&model, "\n");
		ks_buf_puts(&model, "\n\nregister_model(");
		ks_py_string(&model, r->model[i].e->e->id);
		ks_buf_puts(&model, ")\n");
	}
	for (i = 0; rc == AML_OK && i < r->n_strat; i++) {
		ks_buf_puts(&strat, i ? "\n\n" : "");
		rc = fill_part(&strat, &r->strat[i], err, errlen);
	}
	if (r->n_data == 0)
		ks_buf_puts(&data, "# (no data entries: the default hooks above apply)\n");
	if (r->n_strat == 0)
		ks_buf_puts(&strat, "# (none)\n");
	ks_buf_puts(&ids, r->pipeline.e->e->id);
	for (i = 0; i < r->n_model; i++)
		ks_buf_printf(&ids, ", %s", r->model[i].e->e->id);
	for (i = 0; i < r->n_data; i++)
		ks_buf_printf(&ids, ", %s", r->data[i].e->e->id);
	for (i = 0; i < r->n_strat; i++)
		ks_buf_printf(&ids, ", %s", r->strat[i].e->e->id);
	ks_buf_printf(&title, "%s: ", task->name ? task->name : "task");
	ks_models_words(&title, r);
	ks_buf_printf(&title, " on %s", ks_type_name(task->type));
	ks_validation_words(&words, task, r);
	ks_py_string(&tlit, ks_json_text(tj));
	ks_py_string(&rlit, recipe);
	if (rc == AML_OK) {
		const slot slots[] = {
			{"recipe_json", recipe, NULL},
			{"entry_ids", ks_buf_str(&ids), NULL},
			{"title", ks_buf_str(&title), NULL},
			{"validation_words", ks_buf_str(&words), NULL},
			{"task_literal", ks_buf_str(&tlit), NULL},
			{"recipe_literal", ks_buf_str(&rlit), NULL},
			{"data_code", ks_buf_str(&data), NULL},
			{"model_code", ks_buf_str(&model), NULL},
			{"strategy_code", ks_buf_str(&strat), NULL},
		};

		rc = fill(out, r->pipeline.e->e->code, slots, sizeof slots / sizeof slots[0],
			  r->pipeline.e->e->id, err, errlen);
	}
	if (rc == AML_OK && (out->oom || data.oom || model.oom || strat.oom || ids.oom
			     || title.oom || words.oom || tlit.oom || rlit.oom))
		rc = AML_ENOMEM;
	if (rc == AML_ENOMEM)
		ks_seterr(err, errlen, "kbsynth: out of memory rendering a script");
	ks_buf_free(&data);
	ks_buf_free(&model);
	ks_buf_free(&strat);
	ks_buf_free(&ids);
	ks_buf_free(&title);
	ks_buf_free(&words);
	ks_buf_free(&tlit);
	ks_buf_free(&rlit);
	json_object_put(tj);
	json_object_put(rj);
	return rc;
}

int
ks_render_answer(const aml_task *task, const ks_recipe *r, const char *plan,
		 ks_buf *out, char *err, size_t errlen)
{
	ks_buf script = {0};
	int rc = ks_render_script(task, r, &script, err, errlen);

	if (rc == AML_OK) {
		ks_buf_puts(out, plan);
		ks_buf_puts(out, "\n\n```python\n");
		ks_buf_puts(out, ks_buf_str(&script));
		if (script.len && script.s[script.len - 1] != '\n')
			ks_buf_puts(out, "\n");
		ks_buf_puts(out, "```\n");
		if (out->oom) {
			ks_seterr(err, errlen, "kbsynth: out of memory rendering a script");
			rc = AML_ENOMEM;
		}
	}
	ks_buf_free(&script);
	return rc;
}
