/*
 * kbsynth.c — the offline LLM provider: answers code requests by composing
 * knowledge-pack templates instead of asking a model.
 *
 * It ignores the prose prompt and reads req->structured, the JSON object
 * the operators send ({"operator": "draft", "seq": N, "seed": S,
 * "siblings": [{"plan", "code"}], ...}).  For a draft it picks a model
 * entry that fits the task (host->kb_query, applicable_only) and that no
 * sibling used yet, the applicable data entries, the pipeline skeleton
 * (a strategy entry tagged "skeleton") and the strategy entries tagged
 * "when:<tag>" for a model tagged <tag> (e.g. seed averaging for
 * stochastic models), then fills the skeleton's slots with the task facts
 * and the model's default hyper-parameters.  The choices are written into
 * the script as one comment line near the top,
 *
 *   # automlgen-recipe: {"model": ..., "params": {...}, "preprocess": [...],
 *                        "strategy": [...], "seed": S, ...}
 *
 * so later operators can read, mutate and re-render it.  The answer looks
 * like an LLM's: "Plan: <one line>\n\n```python\n<script>```\n".
 *
 * Plugins never link the core: everything comes through the aml_host
 * table, and this file carries its own small string buffer.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <automlgen/plugin.h>

#define KS_MAX_ENTRIES 256
#define KS_RECIPE_TAG "# automlgen-recipe:"
#define KS_DEFAULT_FOLDS 5
#define KS_DEFAULT_HOLDOUT_ROWS 200000

typedef struct ks_state {
	const aml_host *host;
	aml_plugin *self;
} ks_state;

/* ------------------------------------------------------------------ */
/* A growable string (the core's aml_sb is not reachable from here).   */

typedef struct ks_buf {
	char *s;
	size_t len, cap;
	int oom;
} ks_buf;

static void
buf_add(ks_buf *b, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_puts(ks_buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void buf_printf(ks_buf *b, const char *fmt, ...) AML_PRINTF(2, 3);

static void
buf_printf(ks_buf *b, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		buf_add(b, small, (size_t)n);
		return;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	buf_add(b, big, (size_t)n);
	free(big);
}

static void
buf_free(ks_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}

static void
seterr(char *err, size_t errlen, const char *fmt, ...) AML_PRINTF(3, 4);

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* JSON to Python source.                                              */

/* A Python string literal (single-quoted, escaped). */
static void
py_string(ks_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	buf_puts(b, "'");
	for (; *p; p++) {
		switch (*p) {
		case '\\': buf_puts(b, "\\\\"); break;
		case '\'': buf_puts(b, "\\'"); break;
		case '\n': buf_puts(b, "\\n"); break;
		case '\r': buf_puts(b, "\\r"); break;
		case '\t': buf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				buf_printf(b, "\\x%02x", *p);
			else
				buf_add(b, (const char *)p, 1);
		}
	}
	buf_puts(b, "'");
}

/* A float that Python reads back as the same float. */
static void
py_float(ks_buf *b, double d)
{
	char s[64];
	int prec;

	for (prec = 12; prec <= 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	if (strspn(s, "-0123456789") == strlen(s))
		strcat(s, ".0");
	if (strchr(s, 'n') || strchr(s, 'N')) /* inf, nan */
		snprintf(s, sizeof s, "float('%s')", d != d ? "nan" : d > 0 ? "inf" : "-inf");
	buf_puts(b, s);
}

/* A JSON value as a Python literal. */
static void
py_value(ks_buf *b, json_object *v)
{
	size_t i, n;
	int first = 1;

	switch (json_object_get_type(v)) {
	case json_type_null: buf_puts(b, "None"); break;
	case json_type_boolean:
		buf_puts(b, json_object_get_boolean(v) ? "True" : "False");
		break;
	case json_type_int:
		buf_printf(b, "%lld", (long long)json_object_get_int64(v));
		break;
	case json_type_double: py_float(b, json_object_get_double(v)); break;
	case json_type_string: py_string(b, json_object_get_string(v)); break;
	case json_type_array:
		buf_puts(b, "[");
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if (i)
				buf_puts(b, ", ");
			py_value(b, json_object_array_get_idx(v, i));
		}
		buf_puts(b, "]");
		break;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			buf_puts(b, first ? "{" : ", ");
			first = 0;
			py_string(b, key);
			buf_puts(b, ": ");
			py_value(b, val);
		}
		buf_puts(b, first ? "{}" : "}");
		break;
	}
	}
}

static const char *
json_text(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
					      | JSON_C_TO_STRING_NOSLASHESCAPE);
}

/* ------------------------------------------------------------------ */
/* Templates.                                                          */

/* Slot values: name -> text, either raw text or a JSON value. */
typedef struct slot {
	const char *name;
	const char *text;   /* raw, or NULL */
	json_object *value; /* rendered as a Python literal when text is NULL */
} slot;

/* Copy tmpl into b with every {{name}} replaced; an unknown slot fails. */
static int
fill(ks_buf *b, const char *tmpl, const slot *slots, size_t n,
     const char *what, char *err, size_t errlen)
{
	const char *p = tmpl, *open, *close;
	size_t i, len;

	while ((open = strstr(p, "{{")) != NULL) {
		buf_add(b, p, (size_t)(open - p));
		close = strstr(open + 2, "}}");
		if (close == NULL) {
			seterr(err, errlen, "kbsynth: the template of %s has '{{' "
			       "without '}}'", what);
			return AML_EFORMAT;
		}
		len = (size_t)(close - open - 2);
		for (i = 0; i < n; i++)
			if (strlen(slots[i].name) == len
			    && strncmp(slots[i].name, open + 2, len) == 0)
				break;
		if (i == n) {
			seterr(err, errlen, "kbsynth: the template of %s uses the "
			       "unknown slot {{%.*s}}", what, (int)len, open + 2);
			return AML_EFORMAT;
		}
		if (slots[i].text)
			buf_puts(b, slots[i].text);
		else
			py_value(b, slots[i].value);
		p = close + 2;
	}
	buf_puts(b, p);
	return b->oom ? AML_ENOMEM : AML_OK;
}

/* An entry's code with its space slots filled from params (default:
 * the space defaults); appended to b. */
static int
fill_entry(ks_buf *b, const aml_kb_entry *e, json_object *ej,
	   json_object *params, char *err, size_t errlen)
{
	json_object *space = NULL, *v;
	slot slots[64];
	size_t n = 0;

	if (json_object_object_get_ex(ej, "space", &space)
	    && json_object_is_type(space, json_type_object)) {
		json_object_object_foreach(space, key, spec) {
			if (n == sizeof slots / sizeof slots[0])
				break;
			v = NULL;
			if (params == NULL || !json_object_object_get_ex(params, key, &v))
				json_object_object_get_ex(spec, "default", &v);
			slots[n].name = key;
			slots[n].text = NULL;
			slots[n].value = v;
			n++;
		}
	}
	return fill(b, e->code, slots, n, e->id, err, errlen);
}

/* ------------------------------------------------------------------ */
/* Request facts.                                                      */

static const char *
type_name(aml_task_type t)
{
	switch (t) {
	case AML_TASK_BINARY: return "binary";
	case AML_TASK_MULTICLASS: return "multiclass";
	case AML_TASK_REGRESSION: return "regression";
	case AML_TASK_MULTI_REGRESSION: return "multi_regression";
	default: return "unknown";
	}
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

/* The task facts the skeleton reads, as JSON (transferred). */
static json_object *
task_json(const aml_task *t)
{
	json_object *o = json_object_new_object();

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "name", str_or_null(t->name));
	json_object_object_add(o, "type", json_object_new_string(type_name(t->type)));
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

/* The recipe embedded in a script (transferred), or NULL. */
static json_object *
recipe_of(const char *code)
{
	const char *p = code ? strstr(code, KS_RECIPE_TAG) : NULL;
	const char *end;
	json_object *r;
	char *line;

	if (p == NULL)
		return NULL;
	p += strlen(KS_RECIPE_TAG);
	end = strchr(p, '\n');
	line = end ? strndup(p, (size_t)(end - p)) : strdup(p);
	if (line == NULL)
		return NULL;
	r = json_tokener_parse(line);
	free(line);
	if (r && !json_object_is_type(r, json_type_object)) {
		json_object_put(r);
		r = NULL;
	}
	return r;
}

static const char *
obj_str(json_object *o, const char *key)
{
	json_object *v;

	if (o && json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

static int
json_has_str(json_object *arr, const char *s)
{
	size_t i, n;

	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (json_object_is_type(v, json_type_string)
		    && strcmp(json_object_get_string(v), s) == 0)
			return 1;
	}
	return 0;
}

/* Entry JSONs, parsed once per request. */
typedef struct ks_entry {
	const aml_kb_entry *e;
	json_object *j;
} ks_entry;

typedef struct ks_list {
	ks_entry v[KS_MAX_ENTRIES];
	size_t n;
} ks_list;

static void
list_free(ks_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		json_object_put(l->v[i].j);
	l->n = 0;
}

static int
tagged(json_object *ej, const char *tag)
{
	json_object *tags = NULL;

	json_object_object_get_ex(ej, "tags", &tags);
	return json_has_str(tags, tag);
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
		out->v[out->n].e = found[i];
		out->v[out->n].j = j;
		out->n++;
	}
	return AML_OK;
}

static long
param_long(ks_state *st, const char *key, long def, long lo, long hi)
{
	const char *s = st->host->param ? st->host->param(st->self, key) : NULL;
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end != '\0' || v < lo || v > hi) {
		st->host->log(st->self, AML_LOG_WARN, "parameter %s = '%s' is not an "
			      "integer in [%ld, %ld]; using %ld", key, s, lo, hi, def);
		return def;
	}
	return v;
}

/* ------------------------------------------------------------------ */
/* The draft.                                                          */

typedef struct draft {
	const aml_task *task;
	const ks_entry *skeleton, *model;
	const ks_entry *data[KS_MAX_ENTRIES], *strat[KS_MAX_ENTRIES];
	size_t n_data, n_strat;
	json_object *recipe;   /* owned */
	const char *why;
	long folds;
	int holdout;
	uint64_t fallback_seed; /* req->seed, when the JSON has none */
} draft;

/* Choose the model: the first family no sibling used, else round-robin. */
static const ks_entry *
choose_model(const ks_list *models, json_object *req, long seq, const char **why)
{
	json_object *sibs = NULL;
	char used[KS_MAX_ENTRIES] = {0};
	size_t i, j, n_sibs = 0, n_used = 0;

	if (json_object_object_get_ex(req, "siblings", &sibs)
	    && json_object_is_type(sibs, json_type_array))
		n_sibs = json_object_array_length(sibs);
	for (i = 0; i < n_sibs; i++) {
		json_object *r = recipe_of(obj_str(json_object_array_get_idx(sibs, i), "code"));
		const char *m = obj_str(r, "model");

		for (j = 0; m && j < models->n; j++)
			if (strcmp(models->v[j].e->id, m) == 0 && !used[j]) {
				used[j] = 1;
				n_used++;
			}
		json_object_put(r);
	}
	for (i = 0; i < models->n; i++)
		if (!used[i]) {
			*why = n_used ? "the strongest applicable model family no "
				"sibling has tried yet"
				: "the strongest applicable model family for this task";
			return &models->v[i];
		}
	*why = "every applicable model family was tried, so the next one in "
		"turn";
	return &models->v[(size_t)(seq < 0 ? 0 : seq) % models->n];
}

static json_object *
default_params(json_object *ej)
{
	json_object *space = NULL, *params = json_object_new_object(), *v;

	if (params && json_object_object_get_ex(ej, "space", &space)
	    && json_object_is_type(space, json_type_object)) {
		json_object_object_foreach(space, key, spec) {
			v = NULL;
			json_object_object_get_ex(spec, "default", &v);
			json_object_object_add(params, key, json_object_get(v));
		}
	}
	return params;
}

static json_object *
ids_array(const ks_entry *const *v, size_t n)
{
	json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; a && i < n; i++)
		json_object_array_add(a, json_object_new_string(v[i]->e->id));
	return a;
}

/* Pick the entries and build the recipe. */
static int
plan_draft(ks_state *st, json_object *req, draft *d, ks_list *models,
	   ks_list *data, ks_list *strat, char *err, size_t errlen)
{
	json_object *mtags = NULL, *v;
	uint64_t seed = 0;
	long seq = 0;
	size_t i, j;
	int rc;

	if ((rc = query(st, "strategy", strat, err, errlen)) != AML_OK
	    || (rc = query(st, "model", models, err, errlen)) != AML_OK
	    || (rc = query(st, "data", data, err, errlen)) != AML_OK)
		return rc;
	for (i = 0; i < strat->n && d->skeleton == NULL; i++)
		if (tagged(strat->v[i].j, "skeleton"))
			d->skeleton = &strat->v[i];
	if (d->skeleton == NULL || models->n == 0) {
		seterr(err, errlen, "kbsynth: no applicable %s in the knowledge base "
		       "for this %s task with %zu rows; add a knowledge pack that "
		       "covers it", d->skeleton ? "model entry" : "pipeline skeleton",
		       type_name(d->task->type), d->task->train_rows);
		return AML_EUNSUPPORTED;
	}
	if (json_object_object_get_ex(req, "seq", &v))
		seq = (long)json_object_get_int64(v);
	d->model = choose_model(models, req, seq, &d->why);
	for (i = 0; i < data->n; i++)
		d->data[d->n_data++] = &data->v[i];
	json_object_object_get_ex(d->model->j, "tags", &mtags);
	for (i = 0; i < strat->n; i++) {
		json_object *tags = NULL;

		if (&strat->v[i] == d->skeleton)
			continue;
		json_object_object_get_ex(strat->v[i].j, "tags", &tags);
		for (j = 0; tags && json_object_is_type(tags, json_type_array)
			     && j < json_object_array_length(tags); j++) {
			const char *t = json_object_get_string(json_object_array_get_idx(tags, j));

			if (t && strncmp(t, "when:", 5) == 0 && json_has_str(mtags, t + 5)) {
				d->strat[d->n_strat++] = &strat->v[i];
				break;
			}
		}
	}

	if (json_object_object_get_ex(req, "seed", &v) && json_object_is_type(v, json_type_int))
		seed = json_object_get_uint64(v);
	else
		seed = d->fallback_seed;
	d->folds = param_long(st, "n_folds", KS_DEFAULT_FOLDS, 2, 50);
	d->holdout = d->task->train_rows > (size_t)param_long(st, "holdout_rows",
		KS_DEFAULT_HOLDOUT_ROWS, 1, 1000000000L);
	d->recipe = json_object_new_object();
	if (d->recipe == NULL)
		return AML_ENOMEM;
	json_object_object_add(d->recipe, "model", json_object_new_string(d->model->e->id));
	json_object_object_add(d->recipe, "params", default_params(d->model->j));
	json_object_object_add(d->recipe, "preprocess", ids_array(d->data, d->n_data));
	json_object_object_add(d->recipe, "strategy", ids_array(d->strat, d->n_strat));
	json_object_object_add(d->recipe, "pipeline", json_object_new_string(d->skeleton->e->id));
	json_object_object_add(d->recipe, "seed", json_object_new_int64((int64_t)(seed % 2147483647u)));
	json_object_object_add(d->recipe, "folds", json_object_new_int64(d->folds));
	json_object_object_add(d->recipe, "validation",
			       json_object_new_string(d->holdout ? "holdout" : "cv"));
	return AML_OK;
}

static int
is_classification(const aml_task *t)
{
	return t->type == AML_TASK_BINARY || t->type == AML_TASK_MULTICLASS;
}

static void
validation_words(ks_buf *b, const draft *d)
{
	if (d->holdout)
		buf_printf(b, "a%s 80/20 hold-out split",
			   is_classification(d->task) ? " stratified" : "");
	else
		buf_printf(b, "%ld-fold%s cross-validation", d->folds,
			   is_classification(d->task) ? " stratified" : "");
}

/* Lower-case first letter, for titles inside a sentence. */
static void
title_words(ks_buf *b, const char *title)
{
	if (title[0] && isupper((unsigned char)title[0])
	    && !(title[1] && isupper((unsigned char)title[1]))) {
		char c = (char)tolower((unsigned char)title[0]);

		buf_add(b, &c, 1);
		buf_puts(b, title + 1);
	} else {
		buf_puts(b, title);
	}
}

static void
plan_line(ks_buf *b, const draft *d)
{
	size_t i;

	buf_printf(b, "Plan: %s (%s) for this %s task", d->model->e->title,
		   d->model->e->id, type_name(d->task->type));
	if (d->n_data) {
		buf_puts(b, ", with ");
		for (i = 0; i < d->n_data; i++) {
			if (i)
				buf_puts(b, i + 1 == d->n_data ? " and " : ", ");
			title_words(b, d->data[i]->e->title);
		}
	}
	for (i = 0; i < d->n_strat; i++) {
		buf_puts(b, " plus ");
		title_words(b, d->strat[i]->e->title);
	}
	buf_puts(b, ", validated by ");
	validation_words(b, d);
	buf_printf(b, " on %s (%s is better); chosen as %s.",
		   d->task->metric ? d->task->metric : "the task metric",
		   d->task->higher_is_better ? "higher" : "lower", d->why);
}

/* Render the whole answer text into b. */
static int
render(const draft *d, ks_buf *b, char *err, size_t errlen)
{
	ks_buf data = {0}, model = {0}, strat = {0}, ids = {0}, title = {0},
		words = {0}, tlit = {0}, rlit = {0}, script = {0};
	json_object *tj = task_json(d->task), *params = NULL;
	const char *recipe = json_text(d->recipe);
	size_t i;
	int rc = AML_OK;

	if (tj == NULL)
		return AML_ENOMEM;
	json_object_object_get_ex(d->recipe, "params", &params);
	for (i = 0; rc == AML_OK && i < d->n_data; i++) {
		buf_puts(&data, i ? "\n\n" : "");
		rc = fill_entry(&data, d->data[i]->e, d->data[i]->j, NULL, err, errlen);
	}
	if (rc == AML_OK)
		rc = fill_entry(&model, d->model->e, d->model->j, params, err, errlen);
	for (i = 0; rc == AML_OK && i < d->n_strat; i++) {
		buf_puts(&strat, i ? "\n\n" : "");
		rc = fill_entry(&strat, d->strat[i]->e, d->strat[i]->j, NULL, err, errlen);
	}
	if (d->n_data == 0)
		buf_puts(&data, "# (no data entries: the default hooks above apply)\n");
	if (d->n_strat == 0)
		buf_puts(&strat, "# (none)\n");
	buf_printf(&ids, "%s, %s", d->skeleton->e->id, d->model->e->id);
	for (i = 0; i < d->n_data; i++)
		buf_printf(&ids, ", %s", d->data[i]->e->id);
	for (i = 0; i < d->n_strat; i++)
		buf_printf(&ids, ", %s", d->strat[i]->e->id);
	buf_printf(&title, "%s: %s on %s", d->task->name ? d->task->name : "task",
		   d->model->e->title, type_name(d->task->type));
	validation_words(&words, d);
	py_string(&tlit, json_text(tj));
	py_string(&rlit, recipe);
	if (rc == AML_OK) {
		const slot slots[] = {
			{"recipe_json", recipe, NULL},
			{"entry_ids", ids.s ? ids.s : "", NULL},
			{"title", title.s ? title.s : "", NULL},
			{"validation_words", words.s ? words.s : "", NULL},
			{"task_literal", tlit.s ? tlit.s : "''", NULL},
			{"recipe_literal", rlit.s ? rlit.s : "''", NULL},
			{"data_code", data.s ? data.s : "", NULL},
			{"model_code", model.s ? model.s : "", NULL},
			{"strategy_code", strat.s ? strat.s : "", NULL},
		};

		rc = fill(&script, d->skeleton->e->code, slots,
			  sizeof slots / sizeof slots[0], d->skeleton->e->id, err, errlen);
	}
	if (rc == AML_OK) {
		plan_line(b, d);
		buf_puts(b, "\n\n```python\n");
		buf_puts(b, script.s ? script.s : "");
		if (script.len && script.s[script.len - 1] != '\n')
			buf_puts(b, "\n");
		buf_puts(b, "```\n");
	}
	if (rc == AML_OK && (b->oom || data.oom || model.oom || strat.oom || ids.oom
			     || title.oom || words.oom || tlit.oom || rlit.oom
			     || script.oom))
		rc = AML_ENOMEM;
	if (rc == AML_ENOMEM)
		seterr(err, errlen, "kbsynth: out of memory rendering the draft");
	buf_free(&data);
	buf_free(&model);
	buf_free(&strat);
	buf_free(&ids);
	buf_free(&title);
	buf_free(&words);
	buf_free(&tlit);
	buf_free(&rlit);
	buf_free(&script);
	json_object_put(tj);
	return rc;
}

static int
do_draft(ks_state *st, json_object *req, uint64_t seed, aml_llm_response *resp,
	 char *err, size_t errlen)
{
	ks_list *lists;
	draft d;
	ks_buf text = {0};
	int rc;

	memset(&d, 0, sizeof d);
	d.fallback_seed = seed;
	d.task = st->host->task(st->self);
	if (d.task == NULL) {
		seterr(err, errlen, "kbsynth: no task profile; drafts need a run's task");
		return AML_EINVAL;
	}
	if (d.task->type == AML_TASK_UNKNOWN) {
		seterr(err, errlen, "kbsynth: the task type is unknown, so no "
		       "pipeline fits; state it in the task's configuration");
		return AML_EUNSUPPORTED;
	}
	lists = calloc(3, sizeof *lists);
	if (lists == NULL) {
		seterr(err, errlen, "kbsynth: out of memory");
		return AML_ENOMEM;
	}
	rc = plan_draft(st, req, &d, &lists[0], &lists[1], &lists[2], err, errlen);
	if (rc == AML_OK)
		rc = render(&d, &text, err, errlen);
	if (rc == AML_OK) {
		resp->text = st->host->mem_strdup(text.s);
		resp->model = st->host->mem_strdup("kbsynth");
		resp->tokens_in = resp->tokens_out = 0;
		if (resp->text == NULL || resp->model == NULL) {
			st->host->mem_free(resp->text);
			st->host->mem_free(resp->model);
			resp->text = resp->model = NULL;
			seterr(err, errlen, "kbsynth: out of memory");
			rc = AML_ENOMEM;
		}
	}
	buf_free(&text);
	json_object_put(d.recipe);
	list_free(&lists[0]);
	list_free(&lists[1]);
	list_free(&lists[2]);
	free(lists);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The plugin.                                                         */

static int
ks_complete(void *state, const aml_llm_request *req, aml_llm_response *resp,
	    char *err, size_t errlen)
{
	ks_state *st = state;
	enum json_tokener_error jerr = json_tokener_success;
	json_object *j;
	const char *op;
	int rc;

	if (req == NULL || resp == NULL) {
		seterr(err, errlen, "kbsynth: missing request or response");
		return AML_EINVAL;
	}
	memset(resp, 0, sizeof *resp);
	if (req->structured == NULL || req->structured[0] == '\0') {
		seterr(err, errlen, "kbsynth: the request has no structured part; "
		       "kbsynth only answers operators that send one");
		return AML_EINVAL;
	}
	j = json_tokener_parse_verbose(req->structured, &jerr);
	if (j == NULL || !json_object_is_type(j, json_type_object)) {
		seterr(err, errlen, "kbsynth: the structured request is not a JSON "
		       "object (%s)", j ? "wrong type" : json_tokener_error_desc(jerr));
		json_object_put(j);
		return AML_EFORMAT;
	}
	op = obj_str(j, "operator");
	if (op == NULL) {
		seterr(err, errlen, "kbsynth: the structured request has no "
		       "\"operator\" string");
		rc = AML_EFORMAT;
	} else if (strcmp(op, "draft") == 0) {
		rc = do_draft(st, j, req->seed, resp, err, errlen);
	} else {
		seterr(err, errlen, "kbsynth: operator '%.64s' is not supported yet", op);
		rc = AML_EUNSUPPORTED;
	}
	json_object_put(j);
	return rc;
}

static int
ks_init(const aml_host *host, aml_plugin *self, void **state, char *err,
	size_t errlen)
{
	ks_state *st;

	if (host == NULL || host->abi_major != AML_ABI_MAJOR) {
		seterr(err, errlen, "kbsynth: host ABI %u does not match %d",
		       host ? host->abi_major : 0, AML_ABI_MAJOR);
		return AML_EABI;
	}
	st = calloc(1, sizeof *st);
	if (st == NULL) {
		seterr(err, errlen, "kbsynth: out of memory");
		return AML_ENOMEM;
	}
	st->host = host;
	st->self = self;
	*state = st;
	return AML_OK;
}

static void
ks_fini(void *state)
{
	free(state);
}

static const aml_provider_ops ks_ops = {ks_complete};

AML_PLUGIN_DEFINE(AML_KIND_PROVIDER, "kbsynth", "1.0.0", ks_init, ks_fini, &ks_ops);
