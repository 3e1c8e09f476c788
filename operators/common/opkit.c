/*
 * opkit.c — see opkit.h: prompt rendering and shared prompt parts, the
 * structured request, code extraction, edit blocks, and the common run
 * of an operator (prompts, parameters, one provider call, the result).
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "opkit.h"

typedef struct kbuf {
	char *s;
	size_t len, cap;
	int oom;
} kbuf;

static void
kb_add(kbuf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		char *p;

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
kb_puts(kbuf *b, const char *s)
{
	kb_add(b, s, strlen(s));
}

static void __attribute__((format(printf, 2, 3)))
kb_printf(kbuf *b, const char *fmt, ...)
{
	char tmp[2048];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	kb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

static char *
kb_take(kbuf *b)
{
	if (b->oom) {
		free(b->s);
		return NULL;
	}
	return b->s ? b->s : strdup("");
}

void
opkit_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

int
opkit_render(const char *tmpl, const opkit_var *vars, size_t n,
	     char **out, char *err, size_t errlen)
{
	kbuf b = {0};
	const char *p = tmpl, *open, *close;
	size_t i, len;

	*out = NULL;
	while ((open = strstr(p, "{{")) != NULL) {
		kb_add(&b, p, (size_t)(open - p));
		close = strstr(open + 2, "}}");
		if (close == NULL) {
			opkit_seterr(err, errlen, "prompt template: '{{' without '}}'");
			free(b.s);
			return AML_EFORMAT;
		}
		len = (size_t)(close - open - 2);
		for (i = 0; i < n; i++)
			if (strlen(vars[i].name) == len && strncmp(vars[i].name, open + 2, len) == 0)
				break;
		if (i == n) {
			opkit_seterr(err, errlen, "prompt template: unknown slot {{%.*s}}", (int)len, open + 2);
			free(b.s);
			return AML_EFORMAT;
		}
		kb_puts(&b, vars[i].value ? vars[i].value : "");
		p = close + 2;
	}
	kb_puts(&b, p);
	*out = kb_take(&b);
	return *out ? AML_OK : AML_ENOMEM;
}

int
opkit_load_prompt(const aml_host *host, aml_plugin *self, const char *file,
		  char **out, char *err, size_t errlen)
{
	char path[4096];
	kbuf b = {0};
	char buf[8192];
	size_t n;
	FILE *f;

	*out = NULL;
	snprintf(path, sizeof path, "%s/prompts/%s", host->plugin_dir(self), file);
	f = fopen(path, "r");
	if (f == NULL) {
		opkit_seterr(err, errlen, "cannot read prompt template %s", path);
		return AML_ENOTFOUND;
	}
	while ((n = fread(buf, 1, sizeof buf, f)) > 0)
		kb_add(&b, buf, n);
	fclose(f);
	*out = kb_take(&b);
	return *out ? AML_OK : AML_ENOMEM;
}

static const char *
type_name(aml_task_type t)
{
	switch (t) {
	case AML_TASK_BINARY: return "binary classification";
	case AML_TASK_MULTICLASS: return "multiclass classification";
	case AML_TASK_REGRESSION: return "regression";
	case AML_TASK_MULTI_REGRESSION: return "multi-target regression";
	default: return "unknown";
	}
}

static const char *
output_name(aml_output_kind o)
{
	switch (o) {
	case AML_OUT_LABEL: return "class labels";
	case AML_OUT_PROBA: return "probability of the positive class";
	case AML_OUT_CLASS_PROBA: return "one probability column per class";
	case AML_OUT_VALUE: return "numeric values";
	}
	return "unknown";
}

static void
list_text(kbuf *b, const char *const *items, size_t n, size_t max)
{
	size_t i;

	for (i = 0; i < n && i < max; i++)
		kb_printf(b, "%s%s", i ? ", " : "", items[i]);
	if (n > max)
		kb_printf(b, ", ... (%zu in all)", n);
}

char *
opkit_task_text(const aml_task *t)
{
	kbuf b = {0};

	kb_printf(&b, "Task: %s (%s).\n", t->name, type_name(t->type));
	kb_printf(&b, "Metric: %s, %s is better.\n", t->metric,
		  t->higher_is_better ? "higher" : "lower");
	kb_printf(&b, "Files in ./input/: %s (%zu rows), %s (%zu rows), %s.\n",
		  t->train_file, t->train_rows, t->test_file, t->test_rows, t->sample_file);
	kb_printf(&b, "Id column: %s.\n", t->id_column ? t->id_column : "(none)");
	kb_puts(&b, "Target column(s) in the training file: ");
	list_text(&b, t->label_columns, t->n_label_columns, 20);
	kb_puts(&b, ".\nSubmission columns to predict: ");
	list_text(&b, t->submission_columns, t->n_submission_columns, 20);
	kb_printf(&b, " (%s).\n", output_name(t->output));
	if (t->n_classes) {
		kb_puts(&b, "Classes: ");
		list_text(&b, t->classes, t->n_classes, 30);
		kb_puts(&b, ".\n");
	}
	kb_printf(&b, "Feature columns: %zu.\n", t->n_features);
	if (t->data_preview && t->data_preview[0]) /* ABI 1.1: the core's preview */
		kb_printf(&b, "\n%s", t->data_preview);
	return kb_take(&b);
}

char *
opkit_contract_text(const aml_op_request *req)
{
	kbuf b = {0};
	const aml_task *t = req->task;

	kb_puts(&b,
		"Workspace contract:\n"
		"- The script runs in its own directory. ./input/ holds the task's public files "
		"(read-only); use ./working/ for scratch files.\n"
		"- It must write ./submission/submission.csv with exactly the columns and the row "
		"order (ids) of ./input/");
	kb_puts(&b, t->sample_file);
	kb_puts(&b, ".\n"
		"- It must compute a validation score on training data only (hold-out or "
		"cross-validation) with the task's metric and print, as its last line:\n"
		"  Final Validation Score: <number>\n"
		"  It may print before it the same metric on the data the model was fitted on:\n"
		"  Final Training Score: <number>\n"
		"  (a validation score far better than that, or a perfect one, is taken for a "
		"leak and the solution is not kept).\n");
	kb_printf(&b, "- One run of the script may take at most %.0f seconds; %.0f seconds are "
		  "left for the whole search. Stay well inside the limit.\n",
		  req->per_run_limit_s, req->time_left_s);
	if (t->hardware && t->hardware[0]) /* ABI 1.2: the core's line */
		kb_printf(&b, "- No network access. Each run gets %s.\n", t->hardware);
	else
		kb_puts(&b, "- No network access, no GPU.\n");
	kb_puts(&b,
		"- Use numpy, pandas, scikit-learn (xgboost when installed).\n"
		"Leakage rules: the test labels and the private answers do not exist for the "
		"script; never fit anything on test predictions treated as labels, never read "
		"files outside ./input and ./working.\n");
	return kb_take(&b);
}

char *
opkit_kb_text(const aml_host *host, aml_plugin *self, const char *query,
	      size_t per_level, char **ids_json)
{
	static const char *const levels[] = {"model", "data", "strategy"};
	json_object *ids = json_object_new_array();
	const aml_task *t = host->task ? host->task(self) : NULL;
	kbuf b = {0}, text = {0};
	size_t l, i, n;

	/* ranked against the operator's query and the task's description */
	kb_puts(&text, query ? query : "");
	if (t && t->description && t->description != query
	    && (query == NULL || strcmp(t->description, query) != 0)) {
		kb_puts(&text, "\n");
		kb_puts(&text, t->description);
	}

	/* 0 per level means none (a query's k = 0 would mean all) */
	for (l = 0; l < 3 && per_level > 0; l++) {
		const aml_kb_entry *e[32];
		aml_kb_query q;
		char err[256];

		memset(&q, 0, sizeof q);
		q.level = levels[l];
		q.text = text.len ? text.s : NULL;
		q.k = per_level < 32 ? per_level : 32;
		q.applicable_only = 1;
		if (host->kb_query(self, &q, e, 32, &n, err, sizeof err) != AML_OK) {
			host->log(self, AML_LOG_WARN, "knowledge base: %s", err);
			continue;
		}
		for (i = 0; i < n; i++) {
			kb_printf(&b, "- [%s] %s (%s)\n", levels[l], e[i]->title, e[i]->id);
			if (e[i]->guidance && e[i]->guidance[0]) {
				kb_puts(&b, "  ");
				kb_puts(&b, e[i]->guidance);
				if (b.len && b.s[b.len - 1] != '\n')
					kb_puts(&b, "\n");
			}
			if (ids)
				json_object_array_add(ids, json_object_new_string(e[i]->id));
		}
	}
	if (ids_json)
		*ids_json = strdup(ids ? json_object_to_json_string(ids) : "[]");
	json_object_put(ids);
	free(kb_take(&text));
	if (b.len == 0)
		kb_puts(&b, "(no entries)\n");
	return kb_take(&b);
}

const char *
opkit_status_name(aml_node_status s)
{
	switch (s) {
	case AML_NODE_VALID: return "valid";
	case AML_NODE_BUGGY: return "buggy";
	case AML_NODE_INVALID_SUB: return "invalid submission";
	case AML_NODE_OP_FAILED: return "operator failed";
	default: return "pending";
	}
}

char *
opkit_nodes_text(const aml_node_view *const *nodes, size_t n, size_t max_each)
{
	kbuf b = {0};
	size_t i;

	for (i = 0; i < n; i++) {
		const aml_node_view *v = nodes[i];
		const char *plan = v->plan && v->plan[0] ? v->plan : "(no plan)";

		kb_printf(&b, "- node %u: %s", v->id, opkit_status_name(v->status));
		if (v->has_score)
			kb_printf(&b, ", score %.6g", v->score);
		if (v->reason && v->reason[0])
			kb_printf(&b, " (%.*s)", 200, v->reason);
		kb_printf(&b, ": %.*s\n", (int)max_each, plan);
	}
	if (n == 0)
		kb_puts(&b, "(none yet)\n");
	return kb_take(&b);
}

static json_object *
node_json(const aml_node_view *v)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int((int)v->id));
	json_object_object_add(o, "parent_id", json_object_new_int(v->parent_id));
	json_object_object_add(o, "branch", json_object_new_int((int)v->branch));
	json_object_object_add(o, "op", json_object_new_string(v->op ? v->op : ""));
	json_object_object_add(o, "plan", json_object_new_string(v->plan ? v->plan : ""));
	json_object_object_add(o, "code", json_object_new_string(v->code ? v->code : ""));
	json_object_object_add(o, "status", json_object_new_string(opkit_status_name(v->status)));
	json_object_object_add(o, "reason", json_object_new_string(v->reason ? v->reason : ""));
	json_object_object_add(o, "output", json_object_new_string(v->output ? v->output : ""));
	json_object_object_add(o, "score", v->has_score ? json_object_new_double(v->score) : NULL);
	json_object_object_add(o, "exec_seconds", json_object_new_double(v->exec_seconds));
	return o;
}

char *
opkit_structured(const char *op, const aml_op_request *req, const char *kb_ids_json)
{
	json_object *o = json_object_new_object(), *arr;
	char *s;
	size_t i;

	if (o == NULL)
		return NULL;
	json_object_object_add(o, "operator", json_object_new_string(op));
	json_object_object_add(o, "mode", json_object_new_string(req->mode ? req->mode : "primary"));
	if (req->flavor)
		json_object_object_add(o, "flavor", json_object_new_string(req->flavor));
	json_object_object_add(o, "seq", json_object_new_int((int)req->seq));
	json_object_object_add(o, "seed", json_object_new_int64((int64_t)(req->seed & 0x7fffffffffffffffULL)));
	json_object_object_add(o, "node_id", json_object_new_int((int)req->node_id));
	json_object_object_add(o, "time_left_s", json_object_new_double(req->time_left_s));
	json_object_object_add(o, "per_run_limit_s", json_object_new_double(req->per_run_limit_s));
	if (req->node)
		json_object_object_add(o, "parent", node_json(req->node));
	arr = json_object_new_array();
	for (i = 0; i < req->n_siblings; i++)
		json_object_array_add(arr, node_json(req->siblings[i]));
	json_object_object_add(o, "siblings", arr);
	arr = json_object_new_array();
	for (i = 0; i < req->n_refs; i++)
		json_object_array_add(arr, node_json(req->refs[i]));
	json_object_object_add(o, "refs", arr);
	json_object_object_add(o, "kb", kb_ids_json ? json_tokener_parse(kb_ids_json)
			       : json_object_new_array());
	s = strdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
						  | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
	return s;
}

/* A fenced block: [start, end) of its body and its language tag. */
typedef struct fence {
	const char *body;
	size_t len;
	char lang[32];
} fence;

static size_t
find_fences(const char *a, fence *out, size_t cap, const char **first)
{
	const char *p = a;
	size_t n = 0;

	*first = NULL;
	while ((p = strstr(p, "```")) != NULL) {
		const char *tag = p + 3, *nl = strchr(tag, '\n'), *close;
		size_t tl;

		if (nl == NULL)
			break;
		close = strstr(nl + 1, "```");
		if (close == NULL) {
			/* an unterminated block (a truncated answer): take the rest */
			close = nl + 1 + strlen(nl + 1);
		}
		if (*first == NULL)
			*first = p;
		if (n < cap) {
			tl = (size_t)(nl - tag);
			while (tl && isspace((unsigned char)tag[tl - 1]))
				tl--;
			if (tl >= sizeof out[n].lang)
				tl = sizeof out[n].lang - 1;
			memcpy(out[n].lang, tag, tl);
			out[n].lang[tl] = '\0';
			out[n].body = nl + 1;
			out[n].len = (size_t)(close - (nl + 1));
			n++;
		}
		if (*close == '\0')
			break;
		p = close + 3;
	}
	return n;
}

static int
looks_like_python(const char *s)
{
	return (strstr(s, "import ") != NULL || strstr(s, "def ") != NULL)
		&& strchr(s, '\n') != NULL;
}

/* Drop the blank space around a plan and a leading "Plan:". */
static void
trim_plan(char *plan)
{
	char *s = plan, *e;

	while (isspace((unsigned char)*s))
		s++;
	if (strncasecmp(s, "plan:", 5) == 0)
		s += 5;
	while (isspace((unsigned char)*s))
		s++;
	memmove(plan, s, strlen(s) + 1);
	e = plan + strlen(plan);
	while (e > plan && isspace((unsigned char)e[-1]))
		*--e = '\0';
}

/* The script and plan of an answer shaped as a JSON object: the code
 * under "code", "script", "solution" or "python" (itself fenced or not),
 * the plan under "plan", "reasoning", "explanation", "rationale" or
 * "thoughts".  1 when it is one (*code, *plan malloc()ed, either may be
 * NULL when out of memory), else 0. */
static int
json_plan(const char *answer, char **code, char **plan)
{
	static const char *const code_keys[] = {"code", "script", "solution", "python", NULL};
	static const char *const plan_keys[] = {"plan", "reasoning", "explanation", "rationale",
						"thoughts", NULL};
	json_object *o = NULL;
	const char *c, *pl;
	char *inner = NULL, *inner_plan = NULL;

	if (opkit_json_extract(answer, &o, NULL, 0) != AML_OK)
		return 0;
	c = opkit_json_string(o, code_keys);
	if (c == NULL || !looks_like_python(c)) {
		json_object_put(o);
		return 0;
	}
	pl = opkit_json_string(o, plan_keys);
	if (strstr(c, "```") && opkit_extract_code(c, &inner, &inner_plan, NULL, 0) == AML_OK) {
		*code = inner;
		free(inner_plan);
	} else {
		*code = strdup(c);
	}
	*plan = strdup(pl ? pl : "");
	json_object_put(o);
	return 1;
}

int
opkit_extract_code(const char *answer, char **code, char **plan,
		   char *err, size_t errlen)
{
	fence f[64];
	const char *first;
	size_t n, i, best = (size_t)-1;
	int pass;

	*code = *plan = NULL;
	if (answer == NULL || answer[0] == '\0') {
		opkit_seterr(err, errlen, "the answer is empty");
		return AML_EFORMAT;
	}
	n = find_fences(answer, f, 64, &first);
	for (pass = 0; pass < 2 && best == (size_t)-1; pass++) {
		for (i = 0; i < n; i++) {
			int py = strcasecmp(f[i].lang, "python") == 0 || strcasecmp(f[i].lang, "py") == 0
				|| strcasecmp(f[i].lang, "python3") == 0;
			int ok = pass == 0 ? py : (f[i].lang[0] == '\0' && looks_like_python(f[i].body));

			if (ok && (best == (size_t)-1 || f[i].len > f[best].len))
				best = i;
		}
	}
	if (best != (size_t)-1) {
		*code = strndup(f[best].body, f[best].len);
		*plan = strndup(answer, (size_t)(first - answer));
	} else if (json_plan(answer, code, plan)) {
		/* {"plan": ..., "code": ...}, bare, fenced or in prose */
	} else if (n == 0 && looks_like_python(answer)) {
		*code = strdup(answer);
		*plan = strdup("");
	} else {
		opkit_seterr(err, errlen, n ? "the answer has %zu code block(s) but none in Python"
		       : "the answer has no code block", n);
		return AML_EFORMAT;
	}
	if (*code == NULL || *plan == NULL) {
		free(*code);
		free(*plan);
		*code = *plan = NULL;
		return AML_ENOMEM;
	}
	trim_plan(*plan);
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Lines of a text.                                                    */

/* One line: [s, s + len), without its '\n'. */
typedef struct line {
	const char *s;
	size_t len;
} line;

/* The lines of text (a last line without '\n' counts) in a malloc()ed
 * array; NULL when out of memory. */
static line *
split_lines(const char *text, size_t *n)
{
	size_t cap = 1, i = 0, len;
	const char *p, *nl;
	line *v;

	for (p = text; *p; p++)
		cap += *p == '\n';
	v = malloc(cap * sizeof *v);
	if (v == NULL)
		return NULL;
	for (p = text; *p; p += len + (nl != NULL)) {
		nl = strchr(p, '\n');
		len = nl ? (size_t)(nl - p) : strlen(p);
		v[i].s = p;
		v[i].len = len;
		i++;
	}
	*n = i;
	return v;
}

static size_t
indent_of(const line *l)
{
	size_t i = 0;

	while (i < l->len && (l->s[i] == ' ' || l->s[i] == '\t'))
		i++;
	return i;
}

/* Length without trailing whitespace (and '\r'). */
static size_t
rstrip_len(const line *l)
{
	size_t n = l->len;

	while (n > 0 && isspace((unsigned char)l->s[n - 1]))
		n--;
	return n;
}

static int
is_blank(const line *l)
{
	return rstrip_len(l) == 0;
}

/* ------------------------------------------------------------------ */
/* Edit blocks.                                                        */

/* A marker line: 5 to 9 times c, then optionally spaces and word, then
 * nothing but whitespace. */
static int
is_marker(const line *l, char c, const char *word)
{
	size_t i = 0, w;

	while (i < l->len && l->s[i] == c)
		i++;
	if (i < 5 || i > 9)
		return 0;
	while (i < l->len && l->s[i] == ' ')
		i++;
	if (word) {
		w = strlen(word);
		if (l->len - i < w || strncmp(l->s + i, word, w) != 0)
			return 0;
		i += w;
	}
	return i == l->len || rstrip_len(l) <= i;
}

/* Lines [a, b) joined, each ending in '\n' (a CRLF answer's '\r' left
 * out). */
static char *
join_lines(const line *v, size_t a, size_t b)
{
	kbuf out = {0};
	size_t i, len;

	kb_puts(&out, "");
	for (i = a; i < b; i++) {
		len = v[i].len;
		if (len > 0 && v[i].s[len - 1] == '\r')
			len--;
		kb_add(&out, v[i].s, len);
		kb_puts(&out, "\n");
	}
	return kb_take(&out);
}

void
opkit_edits_free(opkit_edit *edits, size_t n)
{
	size_t i;

	for (i = 0; edits && i < n; i++) {
		free(edits[i].search);
		free(edits[i].replace);
	}
	free(edits);
}

int
opkit_edits_parse(const char *answer, opkit_edit **edits, size_t *n,
		  const char **first, char *err, size_t errlen)
{
	opkit_edit *v = NULL, *grown;
	size_t nl = 0, i, k, div, end, cap = 0, blank;
	line *L;
	int rc = AML_OK;

	*edits = NULL;
	*n = 0;
	if (first)
		*first = NULL;
	if (answer == NULL || strstr(answer, "<<<<<") == NULL)
		return AML_OK;
	L = split_lines(answer, &nl);
	if (L == NULL)
		return AML_ENOMEM;
	for (i = 0; i < nl && rc == AML_OK; i++) {
		if (!is_marker(&L[i], '<', "SEARCH"))
			continue;
		div = end = 0;
		for (k = i + 1; k < nl && div == 0; k++) {
			if (is_marker(&L[k], '=', NULL))
				div = k;
			else if (is_marker(&L[k], '<', "SEARCH") || is_marker(&L[k], '>', "REPLACE"))
				break;
		}
		for (k = div + 1; div && k < nl && end == 0; k++) {
			if (is_marker(&L[k], '>', "REPLACE"))
				end = k;
			else if (is_marker(&L[k], '<', "SEARCH") || is_marker(&L[k], '=', NULL))
				break;
		}
		for (blank = 1, k = i + 1; div && k < div; k++)
			blank &= is_blank(&L[k]);
		if (div == 0) {
			opkit_seterr(err, errlen, "edit block %zu has no '=======' line after its "
			       "SEARCH part", *n + 1);
			rc = AML_EFORMAT;
		} else if (end == 0) {
			opkit_seterr(err, errlen, "edit block %zu is not closed by a "
			       "'>>>>>>> REPLACE' line", *n + 1);
			rc = AML_EFORMAT;
		} else if (blank) {
			opkit_seterr(err, errlen, "edit block %zu has an empty SEARCH part; it must "
			       "copy the lines to replace from the script", *n + 1);
			rc = AML_EFORMAT;
		} else if (*n == cap) {
			cap = cap ? cap * 2 : 4;
			grown = realloc(v, cap * sizeof *v);
			if (grown == NULL)
				rc = AML_ENOMEM;
			else
				v = grown;
		}
		if (rc != AML_OK)
			break;
		v[*n].search = join_lines(L, i + 1, div);
		v[*n].replace = join_lines(L, div + 1, end);
		(*n)++;
		if (v[*n - 1].search == NULL || v[*n - 1].replace == NULL)
			rc = AML_ENOMEM;
		if (first && *first == NULL)
			*first = L[i].s;
		i = end;
	}
	free(L);
	if (rc != AML_OK) {
		opkit_edits_free(v, *n);
		*n = 0;
		if (first)
			*first = NULL;
		return rc;
	}
	*edits = v;
	return AML_OK;
}

/* Lines [i, i + ns) of C equal S: mode 0 ignoring trailing whitespace,
 * mode 1 also with the indentation shifted by one amount (*delta, the
 * script's indentation minus the block's). */
static int
lines_match(const line *C, const line *S, size_t ns, int mode, long *delta)
{
	size_t k, ic, is, lc, ls;
	int have = 0;

	*delta = 0;
	for (k = 0; k < ns; k++) {
		if (is_blank(&C[k]) || is_blank(&S[k])) {
			if (is_blank(&C[k]) != is_blank(&S[k]))
				return 0;
			continue;
		}
		ic = mode ? indent_of(&C[k]) : 0;
		is = mode ? indent_of(&S[k]) : 0;
		lc = rstrip_len(&C[k]) - ic;
		ls = rstrip_len(&S[k]) - is;
		if (lc != ls || memcmp(C[k].s + ic, S[k].s + is, lc) != 0)
			return 0;
		if (!have) {
			*delta = (long)ic - (long)is;
			have = 1;
		} else if ((long)ic - (long)is != *delta) {
			return 0;
		}
	}
	return 1;
}

/* Apply one block to code into *out; AML_ENOTFOUND when it matches
 * nowhere. */
static int
apply_edit(const char *code, const opkit_edit *e, char **out)
{
	const char *at = strstr(code, e->search);
	line *C = NULL, *S = NULL, *R = NULL;
	size_t nc = 0, ns = 0, nr = 0, s0, s1, r0, r1, i, k, j;
	long delta = 0;
	int mode, found = 0;
	char ic = ' ';
	kbuf b = {0};

	*out = NULL;
	if (at != NULL) {
		kb_add(&b, code, (size_t)(at - code));
		kb_puts(&b, e->replace);
		kb_puts(&b, at + strlen(e->search));
		*out = kb_take(&b);
		return *out ? AML_OK : AML_ENOMEM;
	}
	C = split_lines(code, &nc);
	S = split_lines(e->search, &ns);
	R = split_lines(e->replace, &nr);
	if (C == NULL || S == NULL || R == NULL) {
		free(C);
		free(S);
		free(R);
		return AML_ENOMEM;
	}
	/* blank lines around the block are not part of the match, nor (as
	 * many) around its replacement */
	for (s0 = 0; s0 < ns && is_blank(&S[s0]); s0++)
		;
	for (s1 = ns; s1 > s0 && is_blank(&S[s1 - 1]); s1--)
		;
	for (r0 = 0; r0 < nr && r0 < s0 && is_blank(&R[r0]); r0++)
		;
	for (r1 = nr; r1 > r0 && nr - r1 < ns - s1 && is_blank(&R[r1 - 1]); r1--)
		;
	for (mode = 0; mode < 2 && !found && s1 > s0; mode++)
		for (i = 0; i + (s1 - s0) <= nc && !found; i++)
			if (lines_match(&C[i], &S[s0], s1 - s0, mode, &delta))
				found = 1;
	if (found) {
		i--;
		for (k = i; k < i + (s1 - s0); k++)
			if (!is_blank(&C[k]) && indent_of(&C[k]) > 0) {
				ic = C[k].s[0];
				break;
			}
		kb_add(&b, code, (size_t)(C[i].s - code));
		for (k = r0; k < r1; k++) {
			size_t skip = 0, ind = indent_of(&R[k]);

			if (is_blank(&R[k])) {
				kb_puts(&b, "\n");
				continue;
			}
			for (j = 0; delta > 0 && j < (size_t)delta; j++)
				kb_add(&b, &ic, 1);
			if (delta < 0)
				skip = (size_t)-delta < ind ? (size_t)-delta : ind;
			kb_add(&b, R[k].s + skip, R[k].len - skip);
			kb_puts(&b, "\n");
		}
		k = i + (s1 - s0) - 1;
		at = C[k].s + C[k].len;
		kb_puts(&b, *at == '\n' ? at + 1 : at);
		*out = kb_take(&b);
	}
	free(C);
	free(S);
	free(R);
	if (!found)
		return AML_ENOTFOUND;
	return *out ? AML_OK : AML_ENOMEM;
}

/* The first non-blank line of text, trimmed and cut, into buf. */
static const char *
first_line(const char *text, char *buf, size_t cap)
{
	const char *p = text, *e;
	size_t n;

	while (*p && isspace((unsigned char)*p))
		p++;
	e = strchr(p, '\n');
	n = e ? (size_t)(e - p) : strlen(p);
	while (n > 0 && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= cap)
		n = cap - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return buf;
}

int
opkit_edits_apply(const char *code, const opkit_edit *edits, size_t n,
		  char **out, char *err, size_t errlen)
{
	char *cur = strdup(code ? code : ""), *next, line1[121];
	size_t i;
	int rc;

	*out = NULL;
	if (cur == NULL)
		return AML_ENOMEM;
	for (i = 0; i < n; i++) {
		rc = apply_edit(cur, &edits[i], &next);
		if (rc == AML_ENOTFOUND)
			opkit_seterr(err, errlen, "edit block %zu does not match the script: %s",
			       i + 1, first_line(edits[i].search, line1, sizeof line1));
		free(cur);
		if (rc != AML_OK)
			return rc;
		cur = next;
	}
	*out = cur;
	return AML_OK;
}

/* a and b are the same script but for trailing whitespace. */
static int
same_script(const char *a, const char *b)
{
	line *A, *B;
	size_t na = 0, nb = 0, i, la, lb;
	int same;

	A = split_lines(a, &na);
	B = split_lines(b, &nb);
	if (A == NULL || B == NULL) {
		free(A);
		free(B);
		return strcmp(a, b) == 0;
	}
	while (na > 0 && is_blank(&A[na - 1]))
		na--;
	while (nb > 0 && is_blank(&B[nb - 1]))
		nb--;
	same = na == nb;
	for (i = 0; same && i < na; i++) {
		la = rstrip_len(&A[i]);
		lb = rstrip_len(&B[i]);
		same = la == lb && memcmp(A[i].s, B[i].s, la) == 0;
	}
	free(A);
	free(B);
	return same;
}

int
opkit_extract_change(const char *answer, const char *parent_code,
		     char **code, char **plan, int *edited,
		     char *err, size_t errlen)
{
	opkit_edit *e = NULL;
	const char *first = NULL;
	size_t n = 0, len;
	int rc;

	*code = *plan = NULL;
	if (edited)
		*edited = 0;
	if (answer == NULL || answer[0] == '\0') {
		opkit_seterr(err, errlen, "the answer is empty");
		return AML_EFORMAT;
	}
	rc = opkit_edits_parse(answer, &e, &n, &first, err, errlen);
	if (rc != AML_OK)
		return rc;
	if (n == 0)
		rc = opkit_extract_code(answer, code, plan, err, errlen);
	else
		rc = opkit_edits_apply(parent_code ? parent_code : "", e, n, code, err, errlen);
	opkit_edits_free(e, n);
	if (rc != AML_OK)
		return rc;
	if (n > 0) {
		/* the plan: the prose before the first block, without the
		 * fence line that opens the block */
		len = (size_t)(first - answer);
		while (len > 0 && isspace((unsigned char)answer[len - 1]))
			len--;
		{
			size_t bol = len;

			while (bol > 0 && answer[bol - 1] != '\n')
				bol--;
			if (strncmp(answer + bol, "```", 3) == 0)
				len = bol;
		}
		*plan = strndup(answer, len);
		if (*plan == NULL) {
			free(*code);
			*code = NULL;
			return AML_ENOMEM;
		}
		trim_plan(*plan);
		if (edited)
			*edited = 1;
	}
	if (parent_code && same_script(*code, parent_code)) {
		opkit_seterr(err, errlen, "the answer leaves the script unchanged");
		free(*code);
		free(*plan);
		*code = *plan = NULL;
		return AML_EFORMAT;
	}
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Prompt parts about existing nodes.                                  */

#define OUTPUT_LINE_MAX 400   /* characters kept of one output line */
#define TRACEBACK_MAX 120     /* lines kept of one traceback */

static void
emit_line(kbuf *b, const line *l)
{
	if (l->len > OUTPUT_LINE_MAX) {
		kb_add(b, l->s, OUTPUT_LINE_MAX);
		kb_printf(b, " [... %zu more characters]\n", l->len - OUTPUT_LINE_MAX);
	} else {
		kb_add(b, l->s, l->len);
		kb_puts(b, "\n");
	}
}

char *
opkit_output_text(const char *output, size_t head_lines, size_t tail_lines)
{
	static const char tb[] = "Traceback (most recent call last)";
	kbuf b = {0};
	size_t n = 0, i, k, omitted = 0;
	char *keep;
	line *L;

	if (output == NULL || output[0] == '\0')
		return strdup("(no output)\n");
	L = split_lines(output, &n);
	keep = calloc(n + 1, 1);
	if (L == NULL || keep == NULL) {
		free(L);
		free(keep);
		return NULL;
	}
	for (i = 0; i < n && i < head_lines; i++)
		keep[i] = 1;
	for (i = n > tail_lines ? n - tail_lines : 0; i < n; i++)
		keep[i] = 1;
	/* the last traceback, up to its exception line (the first line
	 * after it that is not indented) */
	for (i = n; i-- > 0;)
		if (L[i].len >= sizeof tb - 1 && strncmp(L[i].s, tb, sizeof tb - 1) == 0)
			break;
	for (k = i; i < n && k < n && k < i + TRACEBACK_MAX; k++) {
		keep[k] = 1;
		if (k > i && L[k].len && !isspace((unsigned char)L[k].s[0]))
			break;
	}
	for (i = 0; i < n; i++) {
		if (!keep[i]) {
			omitted++;
			continue;
		}
		if (omitted)
			kb_printf(&b, "[... %zu lines omitted ...]\n", omitted);
		omitted = 0;
		emit_line(&b, &L[i]);
	}
	if (omitted)
		kb_printf(&b, "[... %zu lines omitted ...]\n", omitted);
	free(L);
	free(keep);
	return kb_take(&b);
}

char *
opkit_attempts_text(const aml_node_view *base, const aml_node_view *const *nodes,
		    size_t n, size_t max_nodes, int higher_is_better, size_t max_each)
{
	kbuf b = {0};
	size_t i, from = n > max_nodes ? n - max_nodes : 0;

	if (n == 0)
		return strdup("(none yet)\n");
	if (from)
		kb_printf(&b, "(%zu earlier attempts not shown)\n", from);
	for (i = from; i < n; i++) {
		const aml_node_view *v = nodes[i];
		const char *plan = v->plan && v->plan[0] ? v->plan : "(no plan)";

		kb_printf(&b, "- node %u", v->id);
		if (v->op && v->op[0])
			kb_printf(&b, " (%s)", v->op);
		kb_printf(&b, ": %s", opkit_status_name(v->status));
		if (v->has_score) {
			kb_printf(&b, ", score %.6g", v->score);
			if (base && base->has_score) {
				double d = v->score - base->score;
				int better = higher_is_better ? d > 0 : d < 0;

				if (d == 0)
					kb_printf(&b, " (same as node %u)", base->id);
				else
					kb_printf(&b, " (%+.4g vs node %u, %s)", d, base->id,
						  better ? "better" : "worse");
			}
		}
		if (v->reason && v->reason[0])
			kb_printf(&b, " [%.*s]", 200, v->reason);
		kb_printf(&b, ": %.*s\n", (int)max_each, plan);
	}
	return kb_take(&b);
}

/* ------------------------------------------------------------------ */
/* The common shape of an operator.                                    */

int
opkit_param_long(const opkit_op *op, const char *key, long def, long lo,
		 long hi, long *out, char *err, size_t errlen)
{
	const char *v = op->host->param(op->self, key);
	char *end;
	long l;

	*out = def;
	if (v == NULL || v[0] == '\0')
		return AML_OK;
	errno = 0;
	l = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || l < lo || l > hi) {
		opkit_seterr(err, errlen, "%s: %s must be an integer in [%ld, %ld], got '%s'",
		       op->name, key, lo, hi, v);
		return AML_EINVAL;
	}
	*out = l;
	return AML_OK;
}

int
opkit_param_double(const opkit_op *op, const char *key, double def, double lo,
		   double hi, double *out, char *err, size_t errlen)
{
	const char *v = op->host->param(op->self, key);
	char *end;
	double d;

	*out = def;
	if (v == NULL || v[0] == '\0')
		return AML_OK;
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !(d >= lo && d <= hi)) {
		opkit_seterr(err, errlen, "%s: %s must be a number in [%g, %g], got '%s'",
		       op->name, key, lo, hi, v);
		return AML_EINVAL;
	}
	*out = d;
	return AML_OK;
}

int
opkit_op_init(opkit_op *op, const aml_host *host, aml_plugin *self,
	      const char *name, long kb_default, char *err, size_t errlen)
{
	char file[128];
	int rc;

	memset(op, 0, sizeof *op);
	op->host = host;
	op->self = self;
	op->name = name;
	snprintf(file, sizeof file, "%s.txt", name);
	rc = opkit_param_double(op, "temperature", -1, -1e9, 10, &op->temperature,
				err, errlen);
	if (rc == AML_OK)
		rc = opkit_param_long(op, "kb_per_level", kb_default, 0, 32,
				      &op->kb_per_level, err, errlen);
	if (rc == AML_OK)
		rc = opkit_load_prompt(host, self, "system.txt", &op->system, err, errlen);
	if (rc == AML_OK)
		rc = opkit_load_prompt(host, self, file, &op->user, err, errlen);
	if (rc != AML_OK)
		opkit_op_fini(op);
	return rc;
}

void
opkit_op_fini(opkit_op *op)
{
	free(op->system);
	free(op->user);
	op->system = op->user = NULL;
}

int
opkit_ask(const opkit_op *op, const aml_op_request *req, const char *role,
	  const char *user, const char *structured, aml_llm_response *resp,
	  char *err, size_t errlen)
{
	aml_llm_request lr;

	memset(&lr, 0, sizeof lr);
	memset(resp, 0, sizeof *resp);
	lr.role = role;
	lr.system = op->system;
	lr.user = user;
	lr.structured = structured;
	lr.temperature = op->temperature;
	lr.node_id = req->node_id;
	lr.seed = req->seed;
	return op->host->llm_complete(op->self, &lr, resp, err, errlen);
}

int
opkit_op_complete(const opkit_op *op, const aml_op_request *req,
		  const char *user, const char *structured,
		  const char *parent_code, aml_op_result *res,
		  char *err, size_t errlen)
{
	const aml_host *h = op->host;
	aml_llm_response lresp;
	char *code = NULL, *plan = NULL, why[512] = "";
	int rc;

	rc = opkit_ask(op, req, "code", user, structured, &lresp, err, errlen);
	res->tokens_in = lresp.tokens_in;
	res->tokens_out = lresp.tokens_out;
	if (rc != AML_OK)
		goto out;
	if (parent_code)
		rc = opkit_extract_change(lresp.text, parent_code, &code, &plan, NULL,
					  why, sizeof why);
	else
		rc = opkit_extract_code(lresp.text, &code, &plan, why, sizeof why);
	if (rc != AML_OK) {
		opkit_seterr(err, errlen, "%s: %s", op->name, why);
		res->raw_answer = h->mem_strdup(lresp.text ? lresp.text : "");
		goto out;
	}
	res->code = h->mem_strdup(code);
	res->plan = h->mem_strdup(plan);
	if (res->code == NULL || res->plan == NULL) {
		h->mem_free(res->code);
		h->mem_free(res->plan);
		res->code = res->plan = NULL;
		opkit_seterr(err, errlen, "%s: out of memory", op->name);
		rc = AML_ENOMEM;
	}
out:
	h->mem_free(lresp.text);
	h->mem_free(lresp.model);
	free(code);
	free(plan);
	return rc;
}
