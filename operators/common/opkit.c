/*
 * opkit.c — see opkit.h.
 */
#include "config.h"

#include <ctype.h>
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
			seterr(err, errlen, "prompt template: '{{' without '}}'");
			free(b.s);
			return AML_EFORMAT;
		}
		len = (size_t)(close - open - 2);
		for (i = 0; i < n; i++)
			if (strlen(vars[i].name) == len && strncmp(vars[i].name, open + 2, len) == 0)
				break;
		if (i == n) {
			seterr(err, errlen, "prompt template: unknown slot {{%.*s}}", (int)len, open + 2);
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
		seterr(err, errlen, "cannot read prompt template %s", path);
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
		"  Final Validation Score: <number>\n");
	kb_printf(&b, "- One run of the script may take at most %.0f seconds; %.0f seconds are "
		  "left for the whole search. Stay well inside the limit.\n",
		  req->per_run_limit_s, req->time_left_s);
	kb_puts(&b,
		"- No network access, no GPU. Use numpy, pandas, scikit-learn (xgboost when "
		"installed).\n"
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
	kbuf b = {0};
	size_t l, i, n;

	for (l = 0; l < 3; l++) {
		const aml_kb_entry *e[32];
		aml_kb_query q;
		char err[256];

		memset(&q, 0, sizeof q);
		q.level = levels[l];
		q.text = query;
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
	if (b.len == 0)
		kb_puts(&b, "(no entries)\n");
	return kb_take(&b);
}

static const char *
status_name(aml_node_status s)
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

		kb_printf(&b, "- node %u: %s", v->id, status_name(v->status));
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
	json_object_object_add(o, "plan", json_object_new_string(v->plan ? v->plan : ""));
	json_object_object_add(o, "code", json_object_new_string(v->code ? v->code : ""));
	json_object_object_add(o, "status", json_object_new_string(status_name(v->status)));
	json_object_object_add(o, "reason", json_object_new_string(v->reason ? v->reason : ""));
	json_object_object_add(o, "output", json_object_new_string(v->output ? v->output : ""));
	json_object_object_add(o, "score", v->has_score ? json_object_new_double(v->score) : NULL);
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
		seterr(err, errlen, "the answer is empty");
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
	} else if (n == 0 && looks_like_python(answer)) {
		*code = strdup(answer);
		*plan = strdup("");
	} else {
		seterr(err, errlen, n ? "the answer has %zu code block(s) but none in Python"
		       : "the answer has no code block", n);
		return AML_EFORMAT;
	}
	if (*code == NULL || *plan == NULL) {
		free(*code);
		free(*plan);
		*code = *plan = NULL;
		return AML_ENOMEM;
	}
	/* trim the plan */
	{
		char *s = *plan, *e;

		while (isspace((unsigned char)*s))
			s++;
		if (strncasecmp(s, "plan:", 5) == 0)
			s += 5;
		while (isspace((unsigned char)*s))
			s++;
		memmove(*plan, s, strlen(s) + 1);
		e = *plan + strlen(*plan);
		while (e > *plan && isspace((unsigned char)e[-1]))
			*--e = '\0';
	}
	return AML_OK;
}
