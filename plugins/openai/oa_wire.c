/*
 * oa_wire.c — see oa_wire.h: the chat-completions request body and the
 * reading of its answer.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "httpc.h"
#include "provkit.h"
#include "oa_wire.h"

int
oa_reasoning_model(const char *model)
{
	static const char *const prefixes[] = {"o1", "o3", "o4", "gpt-5"};
	size_t i;

	if (model == NULL)
		return 0;
	for (i = 0; i < sizeof prefixes / sizeof prefixes[0]; i++)
		if (strncmp(model, prefixes[i], strlen(prefixes[i])) == 0)
			return 1;
	return 0;
}

int64_t
oa_wire_seed(uint64_t seed)
{
	if (seed <= 0x7fffffffu)
		return (int64_t)seed;
	return (int64_t)((seed ^ (seed >> 31) ^ (seed >> 62)) & 0x7fffffffu);
}

/* {"role": role, "content": text}, text made valid UTF-8. */
static json_object *
message(const char *role, const char *text)
{
	json_object *m = json_object_new_object();
	const char *t;
	char *copy;
	int rc;

	t = httpc_utf8_clean(text, &copy);
	rc = httpc_json_add(m, "role", json_object_new_string(role));
	rc |= httpc_json_add(m, "content", t ? json_object_new_string(t) : NULL);
	free(copy);
	if (rc != 0) {
		json_object_put(m);
		return NULL;
	}
	return m;
}

int
oa_request_build(const oa_params *p, const aml_llm_request *req, char **body,
		 char *err, size_t errlen)
{
	json_object *root, *msgs, *stop;
	double temp = req->temperature >= 0 ? req->temperature : p->temperature;
	long max_tokens = req->max_tokens > 0 ? req->max_tokens : p->max_tokens;
	const char *s;
	size_t i;
	int rc = 0;

	*body = NULL;
	if (req->user == NULL) {
		httpc_seterr(err, errlen, "openai: the request has no user prompt");
		return AML_EINVAL;
	}
	root = json_object_new_object();
	msgs = json_object_new_array();
	rc |= httpc_json_add(root, "model", json_object_new_string(p->model));
	if (req->system != NULL && req->system[0] != '\0')
		rc |= httpc_json_append(msgs, message("system", req->system));
	rc |= httpc_json_append(msgs, message("user", req->user));
	rc |= httpc_json_add(root, "messages", msgs);
	/* reasoning models refuse any temperature but their own */
	if (temp >= 0 && !p->reasoning)
		rc |= httpc_json_add(root, "temperature", httpc_json_number(temp));
	if (max_tokens > 0)
		rc |= httpc_json_add(root, p->reasoning ? "max_completion_tokens" : "max_tokens",
				     json_object_new_int64(max_tokens));
	if (p->n_stop > 0) {
		stop = json_object_new_array();
		for (i = 0; i < p->n_stop; i++)
			rc |= httpc_json_append(stop, json_object_new_string(p->stop[i]));
		rc |= httpc_json_add(root, "stop", stop);
	}
	/* OpenAI and vLLM sample reproducibly with it; others ignore it */
	rc |= httpc_json_add(root, "seed", json_object_new_int64(oa_wire_seed(req->seed)));
	s = rc == 0 ? json_object_to_json_string_ext(root, JSON_C_TO_STRING_PLAIN
						     | JSON_C_TO_STRING_NOSLASHESCAPE) : NULL;
	*body = s ? strdup(s) : NULL;
	json_object_put(root);
	if (*body == NULL) {
		httpc_seterr(err, errlen, "openai: out of memory building a request");
		return AML_ENOMEM;
	}
	return AML_OK;
}

/* The text of a message's content: a string, or an array of parts of
 * which the {"type": "text", "text": ...} ones count (some servers send
 * that shape).  NULL when there is none; malloc()ed. */
static char *
content_text(json_object *c, int *oom)
{
	json_object *part, *v;
	size_t i, n, len = 0;
	char *s;

	if (json_object_is_type(c, json_type_string)) {
		s = strdup(json_object_get_string(c));
		*oom = s == NULL;
		return s;
	}
	if (!json_object_is_type(c, json_type_array))
		return NULL;
	n = json_object_array_length(c);
	for (i = 0; i < n; i++) {
		part = json_object_array_get_idx(c, i);
		if (json_object_object_get_ex(part, "text", &v)
		    && json_object_is_type(v, json_type_string))
			len += (size_t)json_object_get_string_len(v);
	}
	s = malloc(len + 1);
	if (s == NULL) {
		*oom = 1;
		return NULL;
	}
	len = 0;
	for (i = 0; i < n; i++) {
		json_object *type;

		part = json_object_array_get_idx(c, i);
		if (json_object_object_get_ex(part, "type", &type)
		    && strcmp(json_object_get_string(type), "text") != 0)
			continue;
		if (json_object_object_get_ex(part, "text", &v)
		    && json_object_is_type(v, json_type_string)) {
			memcpy(s + len, json_object_get_string(v),
			       (size_t)json_object_get_string_len(v));
			len += (size_t)json_object_get_string_len(v);
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
oa_response_parse(const char *body, size_t len, const char *content_type,
		  oa_answer *a, char *why, size_t whylen)
{
	json_object *j, *v, *choice, *msg, *c, *usage;
	const char *finish = NULL;
	int64_t in, out;
	int oom = 0, rc = AML_EFORMAT;
	char detail[256];

	pk_answer_free(a);
	j = httpc_json_object(body, len, content_type, why, whylen);
	if (j == NULL)
		return AML_EFORMAT;
	if (json_object_object_get_ex(j, "error", &v) && !json_object_is_type(v, json_type_null)) {
		httpc_error_detail(body, len, content_type, detail, sizeof detail);
		snprintf(why, whylen, "an error instead of an answer: %s", detail);
		goto out;
	}
	if (!json_object_object_get_ex(j, "choices", &v) || !json_object_is_type(v, json_type_array)
	    || json_object_array_length(v) == 0) {
		snprintf(why, whylen, "no choices in the answer");
		goto out;
	}
	choice = json_object_array_get_idx(v, 0);
	if (json_object_object_get_ex(choice, "finish_reason", &v)
	    && json_object_is_type(v, json_type_string))
		finish = json_object_get_string(v);
	if (!json_object_object_get_ex(choice, "message", &msg)
	    || !json_object_is_type(msg, json_type_object)) {
		snprintf(why, whylen, "no message in the first choice");
		goto out;
	}
	c = NULL;
	json_object_object_get_ex(msg, "content", &c);
	a->text = content_text(c, &oom);
	if (oom)
		goto nomem;
	if (a->text == NULL || a->text[0] == '\0') {
		if (json_object_object_get_ex(msg, "refusal", &v)
		    && json_object_is_type(v, json_type_string))
			snprintf(why, whylen, "the model refused: %.200s", json_object_get_string(v));
		else
			snprintf(why, whylen, "%s content in the first choice (finish_reason %s)",
				 a->text ? "empty" : "no", finish ? finish : "none");
		goto out;
	}
	if (json_object_object_get_ex(j, "model", &v) && json_object_is_type(v, json_type_string)) {
		a->model = strdup(json_object_get_string(v));
		if (a->model == NULL)
			goto nomem;
	}
	if (json_object_object_get_ex(j, "usage", &usage)
	    && (in = count(usage, "prompt_tokens")) >= 0
	    && (out = count(usage, "completion_tokens")) >= 0) {
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
