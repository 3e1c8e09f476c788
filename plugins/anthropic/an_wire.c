/*
 * an_wire.c — see an_wire.h: the Messages request body and the reading
 * of its answer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "an_wire.h"
#include "httpc.h"
#include "provkit.h"

/* A JSON string of text made valid UTF-8 (NULL when out of memory). */
static json_object *
utf8_string(const char *text)
{
	json_object *v;
	const char *t;
	char *copy;

	t = httpc_utf8_clean(text, &copy);
	v = t ? json_object_new_string(t) : NULL;
	free(copy);
	return v;
}

int
an_request_build(const an_params *p, const aml_llm_request *req, char **body,
		 char *err, size_t errlen)
{
	json_object *root, *msgs, *msg, *stop;
	double temp = req->temperature >= 0 ? req->temperature : p->temperature;
	long max_tokens = req->max_tokens > 0 ? req->max_tokens : p->max_tokens;
	const char *s;
	size_t i;
	int rc = 0;

	*body = NULL;
	if (req->user == NULL) {
		httpc_seterr(err, errlen, "anthropic: the request has no user prompt");
		return AML_EINVAL;
	}
	root = json_object_new_object();
	rc |= httpc_json_add(root, "model", json_object_new_string(p->model));
	/* the Messages API refuses a request without it */
	rc |= httpc_json_add(root, "max_tokens", json_object_new_int64(max_tokens > 0
									  ? max_tokens : 1));
	if (req->system != NULL && req->system[0] != '\0')
		rc |= httpc_json_add(root, "system", utf8_string(req->system));
	msgs = json_object_new_array();
	msg = json_object_new_object();
	rc |= httpc_json_add(msg, "role", json_object_new_string("user"));
	rc |= httpc_json_add(msg, "content", utf8_string(req->user));
	rc |= httpc_json_append(msgs, msg);
	rc |= httpc_json_add(root, "messages", msgs);
	if (temp >= 0)
		rc |= httpc_json_add(root, "temperature", httpc_json_number(temp));
	if (p->n_stop > 0) {
		stop = json_object_new_array();
		for (i = 0; i < p->n_stop; i++)
			rc |= httpc_json_append(stop, json_object_new_string(p->stop[i]));
		rc |= httpc_json_add(root, "stop_sequences", stop);
	}
	s = rc == 0 ? json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN
						     | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	*body = s ? strdup(s) : NULL;
	json_object_put(root);
	if (*body == NULL) {
		httpc_seterr(err, errlen, "anthropic: out of memory building a request");
		return AML_ENOMEM;
	}
	return AML_OK;
}

/* The "text" parts of content, concatenated (thinking and tool parts are
 * skipped); NULL when there are none, *oom set when out of memory. */
static char *
content_text(json_object *content, int *oom)
{
	json_object *part, *type, *v;
	size_t i, n = json_object_array_length(content), len = 0, k;
	int found = 0;
	char *s;

	for (i = 0; i < n; i++) {
		part = json_object_array_get_idx(content, i);
		if (json_object_object_get_ex(part, "type", &type)
		    && strcmp(json_object_get_string(type), "text") == 0
		    && json_object_object_get_ex(part, "text", &v)
		    && json_object_is_type(v, json_type_string)) {
			len += (size_t)json_object_get_string_len(v);
			found = 1;
		}
	}
	if (!found)
		return NULL;
	s = malloc(len + 1);
	if (s == NULL) {
		*oom = 1;
		return NULL;
	}
	len = 0;
	for (i = 0; i < n; i++) {
		part = json_object_array_get_idx(content, i);
		if (json_object_object_get_ex(part, "type", &type)
		    && strcmp(json_object_get_string(type), "text") == 0
		    && json_object_object_get_ex(part, "text", &v)
		    && json_object_is_type(v, json_type_string)) {
			k = (size_t)json_object_get_string_len(v);
			memcpy(s + len, json_object_get_string(v), k);
			len += k;
		}
	}
	s[len] = '\0';
	return s;
}

/* A non-negative integer member of o, or -1. */
static int64_t
count(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return -1;
	return json_object_get_int64(v);
}

int
an_response_parse(const char *body, size_t len, const char *content_type,
		  an_answer *a, char *why, size_t whylen)
{
	json_object *j, *v, *content, *usage;
	const char *stop = NULL;
	int64_t in, out, cache;
	int oom = 0, rc = AML_EFORMAT;
	char detail[256];

	pk_answer_free(a);
	j = httpc_json_object(body, len, content_type, why, whylen);
	if (j == NULL)
		return AML_EFORMAT;
	if ((json_object_object_get_ex(j, "type", &v)
	     && strcmp(json_object_get_string(v), "error") == 0)
	    || (json_object_object_get_ex(j, "error", &v) && !json_object_is_type(v, json_type_null))) {
		httpc_error_detail(body, len, content_type, detail, sizeof detail);
		snprintf(why, whylen, "an error instead of an answer: %s", detail);
		goto out;
	}
	if (json_object_object_get_ex(j, "stop_reason", &v) && json_object_is_type(v, json_type_string))
		stop = json_object_get_string(v);
	if (!json_object_object_get_ex(j, "content", &content)
	    || !json_object_is_type(content, json_type_array)) {
		snprintf(why, whylen, "no content in the answer");
		goto out;
	}
	a->text = content_text(content, &oom);
	if (oom)
		goto nomem;
	if (a->text == NULL || a->text[0] == '\0') {
		snprintf(why, whylen, "%s text in the answer's content (stop_reason %s)",
			 a->text ? "empty" : "no", stop ? stop : "none");
		goto out;
	}
	if (json_object_object_get_ex(j, "model", &v) && json_object_is_type(v, json_type_string)) {
		a->model = strdup(json_object_get_string(v));
		if (a->model == NULL)
			goto nomem;
	}
	if (json_object_object_get_ex(j, "usage", &usage)
	    && (in = count(usage, "input_tokens")) >= 0
	    && (out = count(usage, "output_tokens")) >= 0) {
		/* cached prompt tokens are still prompt tokens for the budget */
		if ((cache = count(usage, "cache_creation_input_tokens")) > 0)
			in += cache;
		if ((cache = count(usage, "cache_read_input_tokens")) > 0)
			in += cache;
		a->tokens_in = (uint64_t)in;
		a->tokens_out = (uint64_t)out;
		a->has_usage = 1;
	}
	json_object_put(j);
	return AML_OK;
nomem:
	snprintf(why, whylen, "out of memory reading the answer");
	rc = AML_ENOMEM;
out:
	json_object_put(j);
	pk_answer_free(a);
	return rc;
}
