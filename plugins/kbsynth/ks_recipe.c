/*
 * ks_recipe.c — the knowledge entries a request may use, and recipes:
 * read from a script's recipe line, written back as JSON, and their parts
 * added and removed.  See ks.h for the recipe format.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ks.h"

/* ------------------------------------------------------------------ */
/* Entries.                                                            */

static void
list_free(ks_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		json_object_put(l->v[i].j);
	l->n = 0;
}

static int
query(ks_state *st, const char *level, ks_list *out, char *err, size_t errlen)
{
	const aml_kb_entry *found[KS_MAX_ENTRIES];
	aml_kb_query q = {level, NULL, NULL, 0, 1};
	size_t n = 0, i;
	int rc;

	out->n = 0;
	rc = st->host->kb_query(st->self, &q, found, KS_MAX_ENTRIES, &n, err, errlen);
	if (rc != AML_OK)
		return rc;
	for (i = 0; i < n; i++) {
		json_object *j = found[i]->json ? json_tokener_parse(found[i]->json) : NULL;

		if (j == NULL || !json_object_is_type(j, json_type_object)) {
			json_object_put(j);
			st->host->log(st->self, AML_LOG_WARN, "entry %s (%s) has no "
				      "valid JSON; ignored", found[i]->id, found[i]->source);
			continue;
		}
		if (strcmp(found[i]->level, "model") == 0
		    && (found[i]->code == NULL || found[i]->code[0] == '\0')) {
			/* guidance only (a GPU recipe, say): for prompts, not for
			 * composing scripts */
			json_object_put(j);
			continue;
		}
		out->v[out->n].e = found[i];
		out->v[out->n].j = j;
		out->n++;
	}
	return AML_OK;
}

int
ks_kb_load(ks_state *st, const aml_task *task, ks_kb *kb, char *err, size_t errlen)
{
	size_t i;
	int rc;

	memset(kb, 0, sizeof *kb);
	if ((rc = query(st, "strategy", &kb->strat, err, errlen)) != AML_OK
	    || (rc = query(st, "model", &kb->model, err, errlen)) != AML_OK
	    || (rc = query(st, "data", &kb->data, err, errlen)) != AML_OK) {
		ks_kb_free(kb);
		return rc;
	}
	for (i = 0; i < kb->strat.n && kb->skeleton == NULL; i++)
		if (ks_entry_tagged(&kb->strat.v[i], "skeleton"))
			kb->skeleton = &kb->strat.v[i];
	if (kb->skeleton == NULL || kb->model.n == 0) {
		ks_seterr(err, errlen, "kbsynth: no applicable %s in the knowledge base "
			  "for this %s task with %zu rows; add a knowledge pack that "
			  "covers it", kb->skeleton ? "model entry" : "pipeline skeleton",
			  ks_type_name(task->type), task->train_rows);
		ks_kb_free(kb);
		return AML_EUNSUPPORTED;
	}
	return AML_OK;
}

void
ks_kb_free(ks_kb *kb)
{
	list_free(&kb->model);
	list_free(&kb->data);
	list_free(&kb->strat);
	kb->skeleton = NULL;
}

const ks_entry *
ks_kb_find(const ks_list *l, const char *id)
{
	size_t i;

	for (i = 0; id && i < l->n; i++)
		if (strcmp(l->v[i].e->id, id) == 0)
			return &l->v[i];
	return NULL;
}

int
ks_entry_tagged(const ks_entry *e, const char *tag)
{
	return ks_json_has_str(ks_obj_get(e->j, "tags"), tag);
}

json_object *
ks_entry_space(const ks_entry *e)
{
	json_object *s = ks_obj_get(e->j, "space");

	return s && json_object_is_type(s, json_type_object) ? s : NULL;
}

json_object *
ks_default_params(const ks_entry *e)
{
	json_object *space = ks_entry_space(e), *params = json_object_new_object();

	if (params && space) {
		json_object_object_foreach(space, key, spec)
			json_object_object_add(params, key, ks_json_copy(ks_obj_get(spec, "default")));
	}
	return params;
}

int
ks_model_needs_scaling(const ks_entry *e)
{
	return e->e->code && strstr(e->e->code, "MODEL_NEEDS_SCALING = True") != NULL;
}

void
ks_title_words(ks_buf *b, const char *title)
{
	if (title[0] && isupper((unsigned char)title[0])
	    && !(title[1] && isupper((unsigned char)title[1]))) {
		char c = (char)tolower((unsigned char)title[0]);

		ks_buf_add(b, &c, 1);
		ks_buf_puts(b, title + 1);
	} else {
		ks_buf_puts(b, title);
	}
}

/* ------------------------------------------------------------------ */
/* Recipes.                                                            */

void
ks_recipe_init(ks_recipe *r)
{
	memset(r, 0, sizeof *r);
}

static void
parts_free(ks_part *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		json_object_put(v[i].params);
		v[i].params = NULL;
		v[i].e = NULL;
	}
}

void
ks_recipe_free(ks_recipe *r)
{
	parts_free(r->model, r->n_model);
	parts_free(r->data, r->n_data);
	parts_free(r->strat, r->n_strat);
	parts_free(&r->pipeline, 1);
	ks_recipe_init(r);
}

static int
parts_copy(ks_part *dst, const ks_part *src, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		dst[i].e = src[i].e;
		dst[i].params = ks_json_copy(src[i].params);
		if (src[i].params && dst[i].params == NULL)
			return AML_ENOMEM;
	}
	return AML_OK;
}

int
ks_recipe_copy(ks_recipe *dst, const ks_recipe *src)
{
	ks_recipe_init(dst);
	dst->n_model = src->n_model;
	dst->n_data = src->n_data;
	dst->n_strat = src->n_strat;
	dst->seed = src->seed;
	memcpy(dst->lineage, src->lineage, sizeof dst->lineage);
	dst->n_lineage = src->n_lineage;
	if (parts_copy(dst->model, src->model, src->n_model) != AML_OK
	    || parts_copy(dst->data, src->data, src->n_data) != AML_OK
	    || parts_copy(dst->strat, src->strat, src->n_strat) != AML_OK
	    || parts_copy(&dst->pipeline, &src->pipeline, 1) != AML_OK) {
		ks_recipe_free(dst);
		return AML_ENOMEM;
	}
	return AML_OK;
}

ks_part *
ks_recipe_parts(ks_recipe *r, int level, size_t **n, size_t *cap)
{
	switch (level) {
	case KS_LV_MODEL: *n = &r->n_model; *cap = KS_MAX_MODELS; return r->model;
	case KS_LV_DATA: *n = &r->n_data; *cap = KS_MAX_PARTS; return r->data;
	case KS_LV_STRAT: *n = &r->n_strat; *cap = KS_MAX_PARTS; return r->strat;
	default: *n = NULL; *cap = 0; return NULL; /* the pipeline is one part */
	}
}

ks_part *
ks_recipe_find(const ks_recipe *r, int level, const ks_entry *e)
{
	const ks_part *v;
	size_t i, n;

	switch (level) {
	case KS_LV_MODEL: v = r->model; n = r->n_model; break;
	case KS_LV_DATA: v = r->data; n = r->n_data; break;
	case KS_LV_STRAT: v = r->strat; n = r->n_strat; break;
	default: v = &r->pipeline; n = r->pipeline.e ? 1 : 0; break;
	}
	for (i = 0; i < n; i++)
		if (v[i].e == e)
			return (ks_part *)&v[i]; /* strchr()'s convention */
	return NULL;
}

int
ks_recipe_add(ks_recipe *r, int level, const ks_entry *e, json_object *params)
{
	size_t *n, cap;
	ks_part *v = ks_recipe_parts(r, level, &n, &cap);

	if (v == NULL || *n >= cap) {
		json_object_put(params);
		return AML_EUNSUPPORTED;
	}
	if (params == NULL)
		params = ks_default_params(e);
	if (params == NULL)
		return AML_ENOMEM;
	v[*n].e = e;
	v[*n].params = params;
	(*n)++;
	return AML_OK;
}

void
ks_recipe_remove(ks_recipe *r, int level, const ks_entry *e)
{
	size_t *n, cap, i;
	ks_part *v = ks_recipe_parts(r, level, &n, &cap);

	for (i = 0; v && i < *n; i++)
		if (v[i].e == e) {
			json_object_put(v[i].params);
			memmove(&v[i], &v[i + 1], (*n - i - 1) * sizeof *v);
			(*n)--;
			return;
		}
}

/* The entry's defaults with the values of given (keys of its space only). */
static json_object *
params_over(const ks_entry *e, json_object *given)
{
	json_object *p = ks_default_params(e), *v;

	if (p && given && json_object_is_type(given, json_type_object)) {
		json_object_object_foreach(p, key, def) {
			(void)def;
			v = NULL;
			if (json_object_object_get_ex(given, key, &v))
				json_object_object_add(p, key, ks_json_copy(v));
		}
	}
	return p;
}

/* Add the part id of level (found in l) with params given over its
 * defaults; an id the list lacks is noted and skipped. */
static int
read_part(ks_recipe *r, int level, const ks_list *l, const char *id, json_object *given,
	  ks_buf *notes, const char *what)
{
	const ks_entry *e = ks_kb_find(l, id);

	if (e == NULL) {
		if (notes)
			ks_buf_printf(notes, "%s%s %s is not offered for this task, so it "
				      "is left out", notes->len ? "; " : "", what, id ? id : "(unnamed)");
		return AML_OK;
	}
	if (ks_recipe_find(r, level, e))
		return AML_OK;
	return ks_recipe_add(r, level, e, params_over(e, given));
}

int
ks_recipe_read(const ks_kb *kb, const char *code, ks_recipe *r, ks_buf *notes,
	       char *err, size_t errlen)
{
	const char *p = code ? strstr(code, KS_RECIPE_TAG) : NULL, *end;
	json_object *j, *v, *arr, *dp, *sp;
	size_t i, n;
	char *line;
	int rc = AML_OK;

	ks_recipe_init(r);
	if (p == NULL) {
		ks_seterr(err, errlen, "the script has no '%s' line", KS_RECIPE_TAG);
		return AML_ENOTFOUND;
	}
	p += strlen(KS_RECIPE_TAG);
	end = strchr(p, '\n');
	line = end ? strndup(p, (size_t)(end - p)) : strdup(p);
	if (line == NULL)
		return AML_ENOMEM;
	j = json_tokener_parse(line);
	free(line);
	if (j == NULL || !json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		ks_seterr(err, errlen, "the script's '%s' line is not a JSON object",
			  KS_RECIPE_TAG);
		return AML_EFORMAT;
	}
	v = ks_obj_get(j, "seed");
	r->seed = v && json_object_is_type(v, json_type_int) ? json_object_get_int64(v) : 0;
	arr = ks_obj_get(j, "lineage");
	n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (i = 0; i < n && r->n_lineage < KS_LINEAGE; i++) {
		const char *hex = json_object_get_string(json_object_array_get_idx(arr, i));
		char *e;
		unsigned long long h;

		if (hex == NULL)
			continue;
		errno = 0;
		h = strtoull(hex, &e, 16);
		if (errno == 0 && e != hex && *e == '\0' && h != 0)
			r->lineage[r->n_lineage++] = (uint64_t)h;
	}
	/* the skeleton's options are top-level keys */
	r->pipeline.e = kb->skeleton;
	r->pipeline.params = params_over(kb->skeleton, j);
	if (r->pipeline.params == NULL)
		rc = AML_ENOMEM;
	arr = ks_obj_get(j, "models");
	if (rc == AML_OK && arr && json_object_is_type(arr, json_type_array)) {
		n = json_object_array_length(arr);
		for (i = 0; i < n && rc == AML_OK; i++) {
			json_object *m = json_object_array_get_idx(arr, i);

			rc = read_part(r, KS_LV_MODEL, &kb->model, ks_obj_str(m, "model"),
				       ks_obj_get(m, "params"), notes, "model");
		}
	} else if (rc == AML_OK && ks_obj_str(j, "model")) {
		rc = read_part(r, KS_LV_MODEL, &kb->model, ks_obj_str(j, "model"),
			       ks_obj_get(j, "params"), notes, "model");
	}
	arr = ks_obj_get(j, "preprocess");
	dp = ks_obj_get(j, "data_params");
	n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (i = 0; i < n && rc == AML_OK; i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(arr, i));

		rc = read_part(r, KS_LV_DATA, &kb->data, id, ks_obj_get(dp, id ? id : ""),
			       notes, "data entry");
	}
	arr = ks_obj_get(j, "strategy");
	sp = ks_obj_get(j, "strategy_params");
	n = arr && json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
	for (i = 0; i < n && rc == AML_OK; i++) {
		const char *id = json_object_get_string(json_object_array_get_idx(arr, i));

		if (id && strcmp(id, kb->skeleton->e->id) == 0)
			continue;
		rc = read_part(r, KS_LV_STRAT, &kb->strat, id, ks_obj_get(sp, id ? id : ""),
			       notes, "strategy entry");
	}
	json_object_put(j);
	if (rc == AML_EUNSUPPORTED)
		rc = AML_OK; /* more parts than a recipe holds: the rest is dropped */
	if (rc != AML_OK)
		ks_recipe_free(r);
	return rc;
}

/* {key: value} of the params that differ from the entry's defaults (new;
 * NULL when none differ). */
static json_object *
changed_params(const ks_part *p)
{
	json_object *space = ks_entry_space(p->e), *o = NULL;

	json_object_object_foreach(p->params, key, val) {
		json_object *spec = space ? ks_obj_get(space, key) : NULL;

		if (spec && ks_json_equal(val, ks_obj_get(spec, "default")))
			continue;
		if (o == NULL)
			o = json_object_new_object();
		if (o)
			json_object_object_add(o, key, ks_json_copy(val));
	}
	return o;
}

static json_object *
ids_of(const ks_part *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i].e->e->id));
	return a;
}

/* {id: {changed params}} of the parts, or NULL when none has any. */
static json_object *
part_params(const ks_part *v, size_t n)
{
	json_object *o = NULL, *c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = changed_params(&v[i]);
		if (c == NULL)
			continue;
		if (o == NULL)
			o = json_object_new_object();
		json_object_object_add(o, v[i].e->e->id, c);
	}
	return o;
}

json_object *
ks_recipe_json(const ks_recipe *r)
{
	json_object *o = json_object_new_object(), *arr, *m, *pp;
	size_t i;

	if (o == NULL)
		return NULL;
	if (r->n_model == 1) {
		json_object_object_add(o, "model", json_object_new_string(r->model[0].e->e->id));
		json_object_object_add(o, "params", ks_json_copy(r->model[0].params));
	} else {
		arr = json_object_new_array();
		for (i = 0; arr && i < r->n_model; i++) {
			m = json_object_new_object();
			json_object_object_add(m, "model", json_object_new_string(r->model[i].e->e->id));
			json_object_object_add(m, "params", ks_json_copy(r->model[i].params));
			json_object_array_add(arr, m);
		}
		json_object_object_add(o, "models", arr);
	}
	json_object_object_add(o, "preprocess", ids_of(r->data, r->n_data));
	if ((pp = part_params(r->data, r->n_data)) != NULL)
		json_object_object_add(o, "data_params", pp);
	json_object_object_add(o, "strategy", ids_of(r->strat, r->n_strat));
	if ((pp = part_params(r->strat, r->n_strat)) != NULL)
		json_object_object_add(o, "strategy_params", pp);
	json_object_object_add(o, "pipeline", json_object_new_string(r->pipeline.e->e->id));
	json_object_object_add(o, "seed", json_object_new_int64(r->seed));
	/* folds and validation always; the other options when set */
	json_object_object_add(o, "folds", ks_json_copy(ks_obj_get(r->pipeline.params, "folds")));
	json_object_object_add(o, "validation",
			       ks_json_copy(ks_obj_get(r->pipeline.params, "validation")));
	pp = changed_params(&r->pipeline);
	if (pp) {
		json_object_object_foreach(pp, key, val) {
			if (strcmp(key, "folds") != 0 && strcmp(key, "validation") != 0)
				json_object_object_add(o, key, ks_json_copy(val));
		}
		json_object_put(pp);
	}
	if (r->n_lineage > 0) {
		arr = json_object_new_array();
		for (i = 0; arr && i < r->n_lineage; i++) {
			char hex[17];

			snprintf(hex, sizeof hex, "%016llx", (unsigned long long)r->lineage[i]);
			json_object_array_add(arr, json_object_new_string(hex));
		}
		json_object_object_add(o, "lineage", arr);
	}
	return o;
}

uint64_t
ks_recipe_hash(const ks_recipe *r)
{
	ks_recipe bare = *r; /* shallow: ks_recipe_json only reads */
	json_object *o;
	const char *s;
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	bare.n_lineage = 0;
	o = ks_recipe_json(&bare);
	s = o ? json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN) : NULL;
	if (s == NULL) {
		json_object_put(o);
		return 0;
	}
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	json_object_put(o);
	return h | 1; /* 0 means no hash */
}

void
ks_recipe_descend(ks_recipe *next, const ks_recipe *base)
{
	uint64_t h = ks_recipe_hash(base);
	size_t i, n = base->n_lineage < KS_LINEAGE ? base->n_lineage : KS_LINEAGE - 1;

	if (h == 0)
		return;
	for (i = n; i > 0; i--)
		next->lineage[i] = base->lineage[i - 1];
	next->lineage[0] = h;
	next->n_lineage = n + 1;
}

int
ks_change_revisits(const ks_recipe *base, const ks_change *c)
{
	ks_recipe t;
	uint64_t h;
	size_t i;
	int hit = 0;

	if (ks_recipe_copy(&t, base) != AML_OK)
		return 0;
	if (ks_change_apply(&t, c) == AML_OK && (h = ks_recipe_hash(&t)) != 0)
		for (i = 0; i < base->n_lineage && !hit; i++)
			hit = h == base->lineage[i];
	ks_recipe_free(&t);
	return hit;
}
