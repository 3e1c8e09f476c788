/*
 * check_providers.c — the HTTP LLM providers (openai, anthropic), each
 * loaded alone under the mock host and pointed at the fake server of
 * tests/llm_server.py on 127.0.0.1 (nothing else is ever contacted: every
 * test sets base_url, the environment fallbacks are cleared and proxies
 * are bypassed for 127.0.0.1).
 *
 * Per provider: an ordinary answer; the request as the server received
 * it (model, where the system prompt goes, temperature, the token limit
 * and its name for reasoning models, stop sequences, the key and version
 * headers); no Authorization header without a key; the key from the
 * variable api_key_env names; every retryable fault once then success
 * (429 with Retry-After, 500, 503, 529, a slow answer past timeout_s, a
 * reset connection, HTML error pages, truncated JSON, no choices); every
 * fault max_attempts times, which ends in one line naming the cause and
 * never the key; 401 and 400 fatal after one request; an answer without
 * code still succeeds; four threads in flight at once; a call abandoned
 * with AML_ECANCELED when the request's cancel flag is set (in flight, in
 * a backoff, or before it starts).  Then the wire
 * functions alone on bodies the server never sends (content parts, no
 * usage, error objects) and the init refusals.
 */
#include "config.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <json-c/json.h>

#include "an_wire.h"
#include "httpc.h"
#include "provkit.h"
#include "llm_server.h"
#include "mock_host.h"
#include "oa_wire.h"

#define KEY "sk-test-0123456789abcdef-SECRET"
#define ERRLEN 1024

/* The two providers and where they differ. */
typedef struct provider {
	const char *name;
	const char *path;        /* the completion endpoint's path suffix */
	const char *key_env;     /* the default api_key_env */
} provider;

static const provider providers[] = {
	{"openai", "/v1/chat/completions", "OPENAI_API_KEY"},
	{"anthropic", "/v1/messages", "ANTHROPIC_API_KEY"},
};

#define N_PROVIDERS 2

/* One provider instance under test. */
typedef struct inst {
	const provider *p;
	const aml_plugin_desc *desc;
	void *state;
} inst;

static const aml_plugin_desc *
open_desc(const provider *p)
{
	const aml_plugin_desc *d = mock_plugin_open(mock_plugin_library(p->name));

	ck_assert_uint_eq(d->abi_major, AML_ABI_MAJOR);
	ck_assert_uint_eq(d->kind, AML_KIND_PROVIDER);
	ck_assert_str_eq(d->name, p->name);
	return d;
}

/* Init provider i with the server's URL, small backoffs, the key KEY and
 * extra parameters (kv pairs, NULL-terminated; a later key wins). */
static int
try_init(inst *in, int i, const aml_test_server *s, const char *const *extra, char *err)
{
	const char *kv[64];
	size_t n = 0, k;
	int rc;

	in->p = &providers[i];
	in->desc = open_desc(in->p);
	in->state = NULL;
	/* extra first: mock_host answers the first match */
	for (k = 0; extra && extra[k]; k += 2) {
		kv[n++] = extra[k];
		kv[n++] = extra[k + 1];
	}
	kv[n++] = "base_url";
	kv[n++] = s ? s->url : "http://127.0.0.1:9/v1";
	kv[n++] = "model";
	kv[n++] = "test-model";
	kv[n++] = "api_key";
	kv[n++] = KEY;
	kv[n++] = "backoff_s";
	kv[n++] = "0.01";
	kv[n++] = "backoff_max_s";
	kv[n++] = "0.05";
	kv[n++] = "retry_after_max_s";
	kv[n++] = "0.2";
	kv[n++] = "max_attempts";
	kv[n++] = "3";
	kv[n++] = "timeout_s";
	kv[n++] = "20";
	kv[n] = NULL;
	ck_assert(n < 64);
	mock_host_set_params(kv);
	err[0] = '\0';
	rc = in->desc->init(mock_host(), NULL, &in->state, err, ERRLEN);
	mock_host_set_params(NULL);
	return rc;
}

static void
init(inst *in, int i, const aml_test_server *s, const char *const *extra)
{
	char err[ERRLEN];

	ck_assert_msg(try_init(in, i, s, extra, err) == AML_OK, "init %s: %s",
		      providers[i].name, err);
}

static void
fini(inst *in)
{
	in->desc->fini(in->state);
	in->state = NULL;
}

static void
request_init(aml_llm_request *req)
{
	memset(req, 0, sizeof *req);
	req->role = "code";
	req->system = "You are a careful ML engineer.";
	req->user = "Metric: accuracy, higher is better.\nWrite a solution.";
	req->temperature = -1;
	req->seed = 42;
	req->node_id = 7;
}

/* complete(); the response strings are freed unless kept. */
static int
ask(inst *in, const aml_llm_request *req, aml_llm_response *resp, char *err)
{
	const aml_provider_ops *ops = in->desc->ops;

	err[0] = '\0';
	return ops->complete(in->state, req, resp, err, ERRLEN);
}

static void
response_free(aml_llm_response *r)
{
	free(r->text);
	free(r->model);
	memset(r, 0, sizeof *r);
}

static void
server_start(aml_test_server *s, const char *faults, const char *const *more)
{
	const char *args[32];
	size_t n = 0, k;

	args[n++] = "--retry-after";
	args[n++] = "0";
	args[n++] = "--slow-s";
	args[n++] = "2";
	if (faults) {
		args[n++] = "--faults";
		args[n++] = faults;
	}
	for (k = 0; more && more[k]; k++)
		args[n++] = more[k];
	args[n] = NULL;
	aml_test_server_start(s, args);
}

/* Wait until the server has no completion in flight: it logs and counts
 * a request after answering it, and a timed-out slow answer is still
 * sleeping on its side. */
static void
settle(const aml_test_server *s)
{
	struct timespec ts = {0, 20 * 1000 * 1000};
	int k;

	for (k = 0; k < 500 && aml_test_server_stat(s, "in_flight") > 0; k++)
		nanosleep(&ts, NULL);
	ck_assert_int_eq(aml_test_server_stat(s, "in_flight"), 0);
}

/* The last request the server logged (transferred: json_object_put). */
static json_object *
last_logged(const aml_test_server *s)
{
	char *text;
	json_object *st, *log, *e;
	size_t n;

	settle(s);
	text = aml_test_server_get(s, "/_stats");
	st = json_tokener_parse(text);
	free(text);
	ck_assert_ptr_nonnull(st);
	ck_assert(json_object_object_get_ex(st, "log", &log));
	n = json_object_array_length(log);
	ck_assert_uint_gt(n, 0);
	e = json_object_get(json_object_array_get_idx(log, n - 1));
	json_object_put(st);
	return e;
}

/* obj[key] (NULL when absent). */
static json_object *
get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o == NULL || !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

static const char *
get_str(json_object *o, const char *key)
{
	json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* The checks every failure line passes: one line, names the cause, no
 * key. */
static void
check_err_line(const char *err, const char *cause)
{
	ck_assert_msg(err[0] != '\0', "no error message");
	ck_assert_msg(strchr(err, '\n') == NULL && strchr(err, '\r') == NULL,
		      "error is not one line: %s", err);
	ck_assert_msg(strstr(err, KEY) == NULL, "error holds the key: %s", err);
	ck_assert_msg(strstr(err, "SECRET") == NULL, "error holds part of the key: %s", err);
	ck_assert_msg(strstr(err, cause) != NULL, "error does not say '%s': %s", cause, err);
}

/* ------------------------------------------------------------------ */
/* Ordinary answers and the request on the wire. */

START_TEST(test_descriptor)
{
	const aml_plugin_desc *d = open_desc(&providers[_i]);

	ck_assert_str_eq(d->version, "1.0.0");
	ck_assert_ptr_nonnull(d->init);
	ck_assert_ptr_nonnull(d->fini);
	ck_assert_ptr_nonnull(d->ops);
}
END_TEST

START_TEST(test_ok)
{
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	server_start(&s, NULL, NULL);
	init(&in, _i, &s, NULL);
	request_init(&req);
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	ck_assert_ptr_nonnull(resp.text);
	ck_assert_msg(strstr(resp.text, "```python\n") != NULL, "no code: %.200s", resp.text);
	ck_assert_ptr_nonnull(resp.model);
	ck_assert_str_eq(resp.model, "test-model");
	ck_assert_uint_gt(resp.tokens_in, 0);
	ck_assert_uint_gt(resp.tokens_out, 0);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 1);
	response_free(&resp);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* Model, system placement, temperature, max_tokens, stop, key headers. */
START_TEST(test_wire_request)
{
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	json_object *e, *body, *hdr, *msgs, *v;
	char err[ERRLEN], url[128];
	inst in;

	server_start(&s, NULL, (const char *const[]){"--require-key", KEY, NULL});
	/* a trailing slash on base_url is tolerated */
	snprintf(url, sizeof url, "%s/", s.url);
	init(&in, _i, &s, (const char *const[]){"stop", "END, ###", "base_url", url, NULL});
	request_init(&req);
	req.temperature = 0.3;
	req.max_tokens = 123;
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	response_free(&resp);
	e = last_logged(&s);
	body = get(e, "body");
	hdr = get(e, "headers");
	ck_assert_str_eq(get_str(e, "path"), in.p->path);
	ck_assert_str_eq(get_str(body, "model"), "test-model");
	ck_assert_double_eq_tol(json_object_get_double(get(body, "temperature")), 0.3, 1e-12);
	ck_assert_int_eq(json_object_get_int(get(body, "max_tokens")), 123);
	ck_assert_str_eq(get_str(hdr, "content-type"), "application/json");
	msgs = get(body, "messages");
	if (_i == 0) {
		ck_assert_int_eq(json_object_array_length(msgs), 2);
		v = json_object_array_get_idx(msgs, 0);
		ck_assert_str_eq(get_str(v, "role"), "system");
		ck_assert_str_eq(get_str(v, "content"), req.system);
		v = json_object_array_get_idx(msgs, 1);
		ck_assert_str_eq(get_str(v, "role"), "user");
		ck_assert_str_eq(get_str(v, "content"), req.user);
		v = get(body, "stop");
		ck_assert_int_eq(json_object_array_length(v), 2);
		ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "END");
		ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 1)), "###");
		ck_assert_int_eq(json_object_get_int(get(body, "seed")), 42);
		ck_assert_ptr_null(get(body, "max_completion_tokens"));
		ck_assert_str_eq(get_str(hdr, "authorization"), "Bearer " KEY);
		ck_assert_ptr_null(get(hdr, "x-api-key"));
	} else {
		ck_assert_str_eq(get_str(body, "system"), req.system);
		ck_assert_int_eq(json_object_array_length(msgs), 1);
		v = json_object_array_get_idx(msgs, 0);
		ck_assert_str_eq(get_str(v, "role"), "user");
		ck_assert_str_eq(get_str(v, "content"), req.user);
		v = get(body, "stop_sequences");
		ck_assert_int_eq(json_object_array_length(v), 2);
		ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "END");
		ck_assert_ptr_null(get(body, "stop"));
		ck_assert_ptr_null(get(body, "seed"));
		ck_assert_str_eq(get_str(hdr, "x-api-key"), KEY);
		ck_assert_str_eq(get_str(hdr, "anthropic-version"), "2023-06-01");
		ck_assert_ptr_null(get(hdr, "authorization"));
	}
	json_object_put(e);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* Unset temperature and max_tokens: the provider's defaults, or none. */
START_TEST(test_wire_defaults)
{
	static const char *const with_temp[] = {"temperature", "0.2", "anthropic-version",
						"2024-01-01", NULL};
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	json_object *e, *body;
	char err[ERRLEN];
	inst in;

	server_start(&s, NULL, NULL);
	init(&in, _i, &s, NULL);
	request_init(&req);
	req.system = NULL;
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	response_free(&resp);
	e = last_logged(&s);
	body = get(e, "body");
	ck_assert_ptr_null(get(body, "temperature"));
	ck_assert_ptr_null(get(body, "stop"));
	ck_assert_ptr_null(get(body, "stop_sequences"));
	if (_i == 0) {
		ck_assert_ptr_null(get(body, "max_tokens"));
		/* no system prompt: no system message */
		ck_assert_int_eq(json_object_array_length(get(body, "messages")), 1);
	} else {
		ck_assert_int_eq(json_object_get_int(get(body, "max_tokens")), 8192);
		ck_assert_ptr_null(get(body, "system"));
	}
	json_object_put(e);
	fini(&in);

	/* the provider's temperature when the request has none ... */
	init(&in, _i, &s, with_temp);
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	response_free(&resp);
	e = last_logged(&s);
	ck_assert_double_eq_tol(json_object_get_double(get(get(e, "body"), "temperature")), 0.2,
				1e-12);
	if (_i == 1)
		ck_assert_str_eq(get_str(get(e, "headers"), "anthropic-version"), "2024-01-01");
	json_object_put(e);
	/* ... the request's when it has one */
	req.temperature = 0.7;
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	response_free(&resp);
	e = last_logged(&s);
	ck_assert_double_eq_tol(json_object_get_double(get(get(e, "body"), "temperature")), 0.7,
				1e-12);
	json_object_put(e);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* Reasoning models: no temperature, max_completion_tokens; by name
 * (auto) or forced either way. */
static const struct {
	const char *model;
	const char *reasoning;
	int is_reasoning;
} reasoning_cases[] = {
	{"o3-mini", "auto", 1},
	{"gpt-5", "auto", 1},
	{"o1", "auto", 1},
	{"gpt-4o", "auto", 0},
	{"llama-3-8b", "yes", 1},
	{"o4-mini", "no", 0},
};

START_TEST(test_wire_reasoning)
{
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	json_object *e, *body;
	char err[ERRLEN];
	size_t i;
	int rc;
	inst in;

	server_start(&s, NULL, NULL);
	request_init(&req);
	req.temperature = 0.5;
	req.max_tokens = 100;
	for (i = 0; i < sizeof reasoning_cases / sizeof reasoning_cases[0]; i++) {
		const char *model = reasoning_cases[i].model;

		init(&in, 0, &s, (const char *const[]){"model", model, "reasoning",
						       reasoning_cases[i].reasoning, NULL});
		rc = ask(&in, &req, &resp, err);
		e = last_logged(&s);
		body = get(e, "body");
		ck_assert_str_eq(get_str(body, "model"), model);
		if (reasoning_cases[i].is_reasoning) {
			ck_assert_msg(rc == AML_OK, "%s: %s", model, err);
			ck_assert_msg(get(body, "temperature") == NULL
				      && get(body, "max_tokens") == NULL
				      && json_object_get_int(get(body, "max_completion_tokens")) == 100,
				      "%s: not sent as a reasoning model", model);
			response_free(&resp);
		} else {
			ck_assert_msg(json_object_get_double(get(body, "temperature")) == 0.5
				      && json_object_get_int(get(body, "max_tokens")) == 100
				      && get(body, "max_completion_tokens") == NULL,
				      "%s: sent as a reasoning model", model);
			if (strncmp(model, "o4", 2) == 0) {
				/* forced off on a reasoning model: the server refuses
				 * (400), which is fatal at once and quoted */
				ck_assert_int_eq(rc, AML_EPROTO);
				check_err_line(err, "HTTP 400");
				check_err_line(err, "'temperature' does not support");
				ck_assert_msg(strstr(err, "attempt") == NULL, "retried a 400: %s", err);
			} else {
				ck_assert_msg(rc == AML_OK, "%s: %s", model, err);
				response_free(&resp);
			}
		}
		json_object_put(e);
		fini(&in);
	}
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"),
			 (long)(sizeof reasoning_cases / sizeof reasoning_cases[0]));
	aml_test_server_stop(&s);
}
END_TEST

/* No key anywhere: no Authorization header (local servers). */
START_TEST(test_no_key)
{
	static const char *const extra[] = {"api_key", "", "api_key_env",
					    "AML_TEST_UNSET_KEY_VAR", NULL};
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	json_object *e;
	char err[ERRLEN];
	inst in;

	unsetenv("AML_TEST_UNSET_KEY_VAR");
	server_start(&s, NULL, NULL);
	init(&in, 0, &s, extra);
	request_init(&req);
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	response_free(&resp);
	e = last_logged(&s);
	ck_assert_ptr_null(get(get(e, "headers"), "authorization"));
	json_object_put(e);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* The key from the variable api_key_env names (the server requires it),
 * and from the default variable when api_key_env is unset. */
START_TEST(test_key_from_env)
{
	static const char *const extra[] = {"api_key", "", "api_key_env", "AML_TEST_KEY_VAR",
					    NULL};
	static const char *const dflt[] = {"api_key", "", NULL};
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	server_start(&s, NULL, (const char *const[]){"--require-key", KEY, NULL});
	setenv("AML_TEST_KEY_VAR", KEY, 1);
	init(&in, _i, &s, extra);
	unsetenv("AML_TEST_KEY_VAR");
	request_init(&req);
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	response_free(&resp);
	fini(&in);

	setenv(providers[_i].key_env, KEY, 1);
	init(&in, _i, &s, dflt);
	unsetenv(providers[_i].key_env);
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	response_free(&resp);
	fini(&in);
	settle(&s);
	ck_assert_int_eq(aml_test_server_fault_count(&s, "unauthorized"), 0);
	aml_test_server_stop(&s);
}
END_TEST

/* base_url and model from the environment when the parameters are
 * empty. */
START_TEST(test_env_fallbacks)
{
	static const char *const extra[] = {"base_url", "", "model", "", NULL};
	static const char *const url_env[] = {"OPENAI_BASE_URL", "ANTHROPIC_BASE_URL"};
	static const char *const model_env[] = {"OPENAI_MODEL", "ANTHROPIC_MODEL"};
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	server_start(&s, NULL, NULL);
	setenv(url_env[_i], s.url, 1);
	setenv(model_env[_i], "env-model", 1);
	init(&in, _i, &s, extra);
	unsetenv(url_env[_i]);
	unsetenv(model_env[_i]);
	request_init(&req);
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	ck_assert_str_eq(resp.model, "env-model");
	response_free(&resp);
	fini(&in);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 1);
	aml_test_server_stop(&s);
}
END_TEST

/* A prompt with bytes that are not UTF-8 (a script's binary output) is
 * still sent as valid JSON. */
START_TEST(test_invalid_utf8_prompt)
{
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	json_object *e;
	char err[ERRLEN];
	inst in;

	server_start(&s, NULL, NULL);
	init(&in, _i, &s, NULL);
	request_init(&req);
	req.user = "output: \xff\xfe caf\xc3\xa9 \xe2\x82";
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	response_free(&resp);
	e = last_logged(&s);
	ck_assert_int_eq(json_object_get_int(get(e, "status")), 200);
	json_object_put(e);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Faults: once then success, and until the attempts run out. */

static const struct {
	const char *fault;
	const char *cause;       /* in the message when it never stops */
	int rc;                  /* the status then */
} faults[] = {
	{"429", "HTTP 429", AML_EPROTO},
	{"500", "HTTP 500", AML_EPROTO},
	{"503", "HTTP 503", AML_EPROTO},
	{"529", "HTTP 529", AML_EPROTO}, /* Anthropic's "overloaded" */
	{"slow", "timed out", AML_ETIMEDOUT},
	{"reset", "no answer", AML_EIO},
	{"html", "HTTP 502", AML_EPROTO},
	{"html200", "malformed answer", AML_EFORMAT},
	{"truncated", "malformed answer", AML_EFORMAT},
	{"empty", "malformed answer", AML_EFORMAT},
};

#define N_FAULTS (sizeof faults / sizeof faults[0])

static const char *const fast_timeout[] = {"timeout_s", "1", NULL};

/* Replace the server's fault schedule with fault n times then "ok", and
 * clear its counts. */
static void
schedule(const aml_test_server *s, const char *fault, int n)
{
	char json[256];
	size_t len;
	int k;

	settle(s);
	ck_assert_int_eq(aml_test_server_post(s, "/_reset", "{}"), 200);
	len = (size_t)snprintf(json, sizeof json, "{\"faults\": [");
	for (k = 0; k < n; k++)
		len += (size_t)snprintf(json + len, sizeof json - len, "\"%s\", ", fault);
	snprintf(json + len, sizeof json - len, "\"ok\"]}");
	ck_assert_int_eq(aml_test_server_post(s, "/_faults", json), 200);
}

/* Each fault once, then an ordinary answer: success in two requests. */
START_TEST(test_fault_then_ok)
{
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	size_t fi;
	inst in;

	server_start(&s, NULL, NULL);
	init(&in, _i, &s, fast_timeout);
	request_init(&req);
	for (fi = 0; fi < N_FAULTS; fi++) {
		schedule(&s, faults[fi].fault, 1);
		ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s after %s: %s",
			      providers[_i].name, faults[fi].fault, err);
		ck_assert_msg(strstr(resp.text, "```python\n") != NULL, "no code after %s",
			      faults[fi].fault);
		response_free(&resp);
		settle(&s);
		ck_assert_msg(aml_test_server_fault_count(&s, faults[fi].fault) == 1
			      && aml_test_server_fault_count(&s, "ok") == 1
			      && aml_test_server_stat(&s, "requests") == 2,
			      "%s: not one fault then one answer", faults[fi].fault);
	}
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* Each fault max_attempts (3) times: one line that names the cause, the
 * URL and the attempts, never the key, and the status of the cause. */
START_TEST(test_fault_exhausted)
{
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	size_t fi;
	int rc;
	inst in;

	server_start(&s, NULL, NULL);
	init(&in, _i, &s, fast_timeout);
	request_init(&req);
	for (fi = 0; fi < N_FAULTS; fi++) {
		schedule(&s, faults[fi].fault, 3);
		rc = ask(&in, &req, &resp, err);
		ck_assert_msg(rc == faults[fi].rc, "%s %s: status %d: %s", providers[_i].name,
			      faults[fi].fault, rc, err);
		ck_assert_ptr_null(resp.text);
		ck_assert_ptr_null(resp.model);
		check_err_line(err, faults[fi].cause);
		check_err_line(err, "after 3 attempts");
		check_err_line(err, providers[_i].path);
		check_err_line(err, providers[_i].name);
		settle(&s);
		ck_assert_msg(aml_test_server_fault_count(&s, faults[fi].fault) == 3
			      && aml_test_server_stat(&s, "requests") == 3,
			      "%s: not three attempts", faults[fi].fault);
	}
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* The messages say what went wrong, in the server's words where it gave
 * some. */
START_TEST(test_fault_messages)
{
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	server_start(&s, NULL, NULL);
	init(&in, _i, &s, fast_timeout);
	request_init(&req);

	aml_test_server_post(&s, "/_faults", "{\"faults\": [\"429\", \"429\", \"429\"]}");
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EPROTO);
	check_err_line(err, _i == 0 ? "Rate limit reached" : "exceeded your rate limit");

	aml_test_server_post(&s, "/_faults", "{\"faults\": [\"empty\", \"empty\", \"empty\"]}");
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EFORMAT);
	check_err_line(err, _i == 0 ? "no choices in the answer" : "no text in the answer");

	aml_test_server_post(&s, "/_faults", "{\"faults\": [\"html\", \"html\", \"html\"]}");
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EPROTO);
	check_err_line(err, "502 Bad Gateway");

	aml_test_server_post(&s, "/_faults",
			     "{\"faults\": [\"html200\", \"html200\", \"html200\"]}");
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EFORMAT);
	check_err_line(err, "HTML page");

	aml_test_server_post(&s, "/_faults",
			     "{\"faults\": [\"truncated\", \"truncated\", \"truncated\"]}");
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EFORMAT);
	check_err_line(err, "truncated JSON");

	/* a fatal error after retries says how many attempts it took */
	aml_test_server_post(&s, "/_faults", "{\"faults\": [\"500\", \"401\"]}");
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EPROTO);
	check_err_line(err, "HTTP 401");
	check_err_line(err, "after 2 attempts");
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* 401 is fatal after one request, and the refused key is not quoted. */
START_TEST(test_401_fatal)
{
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	server_start(&s, "401", NULL);
	init(&in, _i, &s, NULL);
	request_init(&req);
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EPROTO);
	ck_assert_ptr_null(resp.text);
	check_err_line(err, "HTTP 401 from http://127.0.0.1:");
	check_err_line(err, _i == 0 ? "Incorrect API key provided." : "invalid x-api-key");
	ck_assert_msg(strstr(err, "attempt") == NULL, "retried a 401: %s", err);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 1);
	fini(&in);
	aml_test_server_stop(&s);

	/* a server that wants another key */
	server_start(&s, NULL, (const char *const[]){"--require-key", "the-right-key", NULL});
	init(&in, _i, &s, NULL);
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EPROTO);
	check_err_line(err, "HTTP 401");
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 1);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* Prose without code is still an answer: judging it is the operators'
 * job. */
START_TEST(test_nocode)
{
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	server_start(&s, "nocode", NULL);
	init(&in, _i, &s, NULL);
	request_init(&req);
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "%s", err);
	ck_assert_ptr_null(strstr(resp.text, "```"));
	ck_assert_uint_gt(strlen(resp.text), 20);
	response_free(&resp);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 1);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* Nothing listens: a connection error, retried, then one line. */
START_TEST(test_connection_refused)
{
	static const char *const extra[] = {"max_attempts", "2", NULL};
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	server_start(&s, NULL, NULL);
	init(&in, _i, &s, extra);
	aml_test_server_stop(&s); /* its port is now closed */
	request_init(&req);
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EIO);
	check_err_line(err, "no answer from http://127.0.0.1:");
	check_err_line(err, "after 2 attempts");
	fini(&in);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Cancel (ABI 1.3): the run is stopping.                              */

/* Sets *flag after delay_s, as the core's Ctrl-C handler would. */
typedef struct canceller {
	volatile int flag;
	double delay_s;
} canceller;

static void *
canceller_main(void *arg)
{
	canceller *c = arg;
	struct timespec ts;

	ts.tv_sec = (time_t)c->delay_s;
	ts.tv_nsec = (long)((c->delay_s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
	__atomic_store_n(&c->flag, 1, __ATOMIC_RELAXED);
	return NULL;
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ask() with a flag set 0.3 s into the call: AML_ECANCELED, one line,
 * long before the answer (or the backoff) would have come. */
static void
ask_cancelled(inst *in, aml_llm_request *req, aml_llm_response *resp, char *err)
{
	canceller c = {0, 0.3};
	char want[64];
	pthread_t t;
	double t0 = now_s();
	int rc;

	req->cancel = &c.flag;
	ck_assert_int_eq(pthread_create(&t, NULL, canceller_main, &c), 0);
	rc = ask(in, req, resp, err);
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	req->cancel = NULL;
	ck_assert_msg(rc == AML_ECANCELED, "%s: status %d: %s", in->p->name, rc, err);
	ck_assert_msg(now_s() - t0 < 10, "the call took %g s", now_s() - t0);
	ck_assert_ptr_null(resp->text);
	snprintf(want, sizeof want, "%s: cancelled: the run is stopping", in->p->name);
	ck_assert_str_eq(err, want);
}

/* An answer the server holds back 30 s (within timeout_s, 60) is
 * abandoned when the flag is set, and the provider answers the next call
 * (the handle of the abandoned transfer serves again). */
START_TEST(test_cancel_in_flight)
{
	static const char *const slow[] = {"--slow-s", "30", NULL};
	static const char *const patient[] = {"timeout_s", "60", NULL};
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	server_start(&s, "slow,ok", slow);
	init(&in, _i, &s, patient);
	request_init(&req);
	ask_cancelled(&in, &req, &resp, err);
	ck_assert_msg(ask(&in, &req, &resp, err) == AML_OK, "after a cancel: %s", err);
	ck_assert_ptr_nonnull(strstr(resp.text, "```python\n"));
	response_free(&resp);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* A 429 that asks for 30 s: the backoff sleep ends when the flag is set,
 * with no second request. */
START_TEST(test_cancel_in_backoff)
{
	static const char *const wait30[] = {"--retry-after", "30", NULL};
	static const char *const obey[] = {"retry_after_max_s", "60", NULL};
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	server_start(&s, "429,429,429", wait30);
	init(&in, _i, &s, obey);
	request_init(&req);
	ask_cancelled(&in, &req, &resp, err);
	settle(&s);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 1);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* The flag already set: no request at all. */
START_TEST(test_cancel_before)
{
	static const volatile int stopping = 1;
	aml_test_server s;
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN], want[64];
	inst in;

	server_start(&s, NULL, NULL);
	init(&in, _i, &s, NULL);
	request_init(&req);
	req.cancel = &stopping;
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_ECANCELED);
	snprintf(want, sizeof want, "%s: cancelled: the run is stopping", providers[_i].name);
	ck_assert_str_eq(err, want);
	ck_assert_ptr_null(resp.text);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 0);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Concurrency: W threads in flight at once (server's gauge, not time). */

#define CONC_THREADS 4
#define CONC_EACH 2

typedef struct worker {
	inst *in;
	int ok;
	char err[ERRLEN];
} worker;

static void *
conc_worker(void *arg)
{
	worker *w = arg;
	aml_llm_request req;
	aml_llm_response resp;
	int k;

	request_init(&req);
	for (k = 0; k < CONC_EACH; k++) {
		if (ask(w->in, &req, &resp, w->err) == AML_OK) {
			w->ok += resp.text != NULL && strstr(resp.text, "```python") != NULL;
			response_free(&resp);
		}
	}
	return NULL;
}

START_TEST(test_concurrency)
{
	aml_test_server s;
	pthread_t t[CONC_THREADS];
	worker w[CONC_THREADS];
	inst in;
	int k;

	server_start(&s, NULL, (const char *const[]){"--latency", "0.5", NULL});
	init(&in, _i, &s, NULL);
	for (k = 0; k < CONC_THREADS; k++) {
		memset(&w[k], 0, sizeof w[k]);
		w[k].in = &in;
		ck_assert_int_eq(pthread_create(&t[k], NULL, conc_worker, &w[k]), 0);
	}
	for (k = 0; k < CONC_THREADS; k++)
		pthread_join(t[k], NULL);
	for (k = 0; k < CONC_THREADS; k++)
		ck_assert_msg(w[k].ok == CONC_EACH, "thread %d: %d of %d: %s", k, w[k].ok,
			      CONC_EACH, w[k].err);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), CONC_THREADS * CONC_EACH);
	ck_assert_int_ge(aml_test_server_stat(&s, "max_in_flight"), CONC_THREADS);
	fini(&in);
	aml_test_server_stop(&s);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Refusals at init and on bad requests (no server needed). */

static const struct {
	const char *key;
	const char *value;
	const char *says;
} refusals[] = {
	{"base_url", "ftp://127.0.0.1/v1", "base_url must start with http:// or https://"},
	{"base_url", "127.0.0.1:8080", "base_url must start with http:// or https://"},
	{"max_attempts", "0", "max_attempts must be an integer in [1, 100]"},
	{"timeout_s", "soon", "timeout_s must be a number"},
	{"backoff_s", "-1", "backoff_s must be a number"},
	{"temperature", "3", "temperature must be a number"},
	{"max_tokens", "-5", "max_tokens must be an integer"},
	{"reasoning", "maybe", "reasoning must be auto, yes or no"},
	{"api_key", "sk-abc\ndef", "control character"},
};

START_TEST(test_init_refusals)
{
	int pi = _i / (int)(sizeof refusals / sizeof refusals[0]);
	int ri = _i % (int)(sizeof refusals / sizeof refusals[0]);
	const char *extra[] = {refusals[ri].key, refusals[ri].value, NULL};
	char err[ERRLEN];
	inst in;
	int rc;

	if (pi == 1 && strcmp(refusals[ri].key, "reasoning") == 0)
		return; /* an openai parameter */
	rc = try_init(&in, pi, NULL, extra, err);
	ck_assert_msg(rc == AML_EINVAL, "%s=%s: status %d", refusals[ri].key,
		      refusals[ri].value, rc);
	ck_assert_ptr_null(in.state);
	check_err_line(err, refusals[ri].says);
	check_err_line(err, providers[pi].name);
}
END_TEST

START_TEST(test_bad_request)
{
	aml_llm_request req;
	aml_llm_response resp;
	char err[ERRLEN];
	inst in;

	init(&in, _i, NULL, NULL);
	request_init(&req);
	req.user = NULL;
	ck_assert_int_eq(ask(&in, &req, &resp, err), AML_EINVAL);
	check_err_line(err, "no user prompt");
	ck_assert_int_eq(((const aml_provider_ops *)in.desc->ops)->complete(in.state, NULL,
									&resp, err, ERRLEN),
			 AML_EINVAL);
	fini(&in);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The wire functions alone, on bodies the fake server never sends. */

START_TEST(test_oa_parse)
{
	oa_answer a;
	char why[512];
	static const char parts[] = "{\"model\": \"m\", \"choices\": [{\"message\": {\"role\": "
		"\"assistant\", \"content\": [{\"type\": \"text\", \"text\": \"Plan.\\n\"}, "
		"{\"type\": \"image_url\", \"image_url\": {}}, {\"type\": \"text\", \"text\": "
		"\"```python\\nprint(1)\\n```\"}]}}]}";
	static const char refused[] = "{\"choices\": [{\"message\": {\"content\": null, "
		"\"refusal\": \"I can't help with that.\"}, \"finish_reason\": \"stop\"}]}";
	static const char length[] = "{\"choices\": [{\"message\": {\"content\": \"\"}, "
		"\"finish_reason\": \"length\"}]}";
	static const char error[] = "{\"error\": {\"message\": \"model overloaded\"}}";

	memset(&a, 0, sizeof a);
	ck_assert_int_eq(oa_response_parse(parts, strlen(parts), "application/json", &a, why,
					   sizeof why), AML_OK);
	ck_assert_str_eq(a.text, "Plan.\n```python\nprint(1)\n```");
	ck_assert_str_eq(a.model, "m");
	ck_assert_int_eq(a.has_usage, 0); /* the glue estimates then */
	ck_assert_int_eq(oa_response_parse(refused, strlen(refused), NULL, &a, why, sizeof why),
			 AML_EFORMAT);
	ck_assert_ptr_null(a.text);
	ck_assert_ptr_nonnull(strstr(why, "refused: I can't help"));
	ck_assert_int_eq(oa_response_parse(length, strlen(length), NULL, &a, why, sizeof why),
			 AML_EFORMAT);
	ck_assert_ptr_nonnull(strstr(why, "finish_reason length"));
	ck_assert_int_eq(oa_response_parse(error, strlen(error), NULL, &a, why, sizeof why),
			 AML_EFORMAT);
	ck_assert_ptr_nonnull(strstr(why, "model overloaded"));
	ck_assert_int_eq(oa_response_parse("[1]", 3, NULL, &a, why, sizeof why), AML_EFORMAT);
	ck_assert_str_eq(why, "not a JSON object");
	ck_assert_int_eq(oa_response_parse("  ", 2, NULL, &a, why, sizeof why), AML_EFORMAT);
	ck_assert_str_eq(why, "empty body");
	pk_answer_free(&a);
}
END_TEST

START_TEST(test_an_parse)
{
	an_answer a;
	char why[512];
	static const char mixed[] = "{\"type\": \"message\", \"model\": \"c\", \"content\": ["
		"{\"type\": \"thinking\", \"thinking\": \"hmm\"}, {\"type\": \"text\", \"text\": "
		"\"A\"}, {\"type\": \"text\", \"text\": \"B\"}], \"usage\": {\"input_tokens\": 10, "
		"\"cache_read_input_tokens\": 5, \"output_tokens\": 3}}";
	static const char error[] = "{\"type\": \"error\", \"error\": {\"type\": "
		"\"overloaded_error\", \"message\": \"Overloaded\"}}";
	static const char thinking[] = "{\"type\": \"message\", \"content\": [{\"type\": "
		"\"thinking\", \"thinking\": \"x\"}], \"stop_reason\": \"max_tokens\"}";

	memset(&a, 0, sizeof a);
	ck_assert_int_eq(an_response_parse(mixed, strlen(mixed), NULL, &a, why, sizeof why),
			 AML_OK);
	ck_assert_str_eq(a.text, "AB");
	ck_assert_str_eq(a.model, "c");
	ck_assert_int_eq(a.has_usage, 1);
	ck_assert_uint_eq(a.tokens_in, 15);
	ck_assert_uint_eq(a.tokens_out, 3);
	ck_assert_int_eq(an_response_parse(error, strlen(error), NULL, &a, why, sizeof why),
			 AML_EFORMAT);
	ck_assert_ptr_nonnull(strstr(why, "Overloaded"));
	ck_assert_int_eq(an_response_parse(thinking, strlen(thinking), NULL, &a, why, sizeof why),
			 AML_EFORMAT);
	ck_assert_ptr_nonnull(strstr(why, "stop_reason max_tokens"));
	pk_answer_free(&a);
}
END_TEST

START_TEST(test_wire_helpers)
{
	char **items = NULL, *u, *copy, out[300], big[1000];
	size_t n = 0;
	const char *c;

	ck_assert_int_eq(pk_list_split(" a , ,b,", &items, &n), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_str_eq(items[0], "a");
	ck_assert_str_eq(items[1], "b");
	ck_assert_ptr_null(items[2]);
	pk_list_free(items);
	u = pk_url_join("http://h:1/v1///", "chat/completions");
	ck_assert_str_eq(u, "http://h:1/v1/chat/completions");
	free(u);
	ck_assert_int_eq(oa_reasoning_model("o1-preview"), 1);
	ck_assert_int_eq(oa_reasoning_model("gpt-4.1"), 0);
	ck_assert_int_eq(oa_wire_seed(42), 42);
	ck_assert_int_le(oa_wire_seed(UINT64_MAX), 0x7fffffff);
	ck_assert_int_ge(oa_wire_seed(UINT64_MAX), 0);
	c = httpc_utf8_clean("ok \xc3\xa9", &copy);
	ck_assert_ptr_null(copy);
	ck_assert_str_eq(c, "ok \xc3\xa9");
	c = httpc_utf8_clean("a\xff" "b\xe2\x82", &copy);
	ck_assert_str_eq(c, "a\xef\xbf\xbd" "b\xef\xbf\xbd\xef\xbf\xbd");
	free(copy);
	/* an error body becomes one line of at most ~200 characters */
	memset(big, 'x', sizeof big - 1);
	big[sizeof big - 1] = '\0';
	big[5] = '\n';
	httpc_error_detail(big, strlen(big), "text/plain", out, sizeof out);
	ck_assert_ptr_null(strchr(out, '\n'));
	ck_assert_uint_le(strlen(out), 203);
	httpc_error_detail("{\"error\": \"no such model\"}", 26, NULL, out, sizeof out);
	ck_assert_str_eq(out, "no such model");
	httpc_error_detail("", 0, NULL, out, sizeof out);
	ck_assert_str_eq(out, "empty body");
}
END_TEST

/* Build and parse round trip without a network: the request has what the
 * APIs require and every byte of the prompt. */
START_TEST(test_build_roundtrip)
{
	const char *stop[] = {"STOP"};
	oa_params op = {"gpt-4o", -1, 0, stop, 1, 0};
	an_params ap = {"claude", -1, 8192, stop, 1};
	aml_llm_request req;
	json_object *j;
	char *body, err[ERRLEN];

	request_init(&req);
	req.user = "quote \" backslash \\ slash / tab \t newline \n end";
	ck_assert_int_eq(oa_request_build(&op, &req, &body, err, sizeof err), AML_OK);
	ck_assert_ptr_null(strstr(body, "\\/")); /* no needless slash escapes */
	j = json_tokener_parse(body);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(get_str(json_object_array_get_idx(get(j, "messages"), 1), "content"),
			 req.user);
	json_object_put(j);
	free(body);
	ck_assert_int_eq(an_request_build(&ap, &req, &body, err, sizeof err), AML_OK);
	j = json_tokener_parse(body);
	ck_assert_ptr_nonnull(j);
	ck_assert_str_eq(get_str(json_object_array_get_idx(get(j, "messages"), 0), "content"),
			 req.user);
	ck_assert_int_eq(json_object_get_int(get(j, "max_tokens")), 8192);
	json_object_put(j);
	free(body);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("providers");
	TCase *wire = tcase_create("wire");
	TCase *net = tcase_create("net");
	TCase *fault = tcase_create("faults");
	static const char *const clear[] = {
		"OPENAI_BASE_URL", "OPENAI_MODEL", "OPENAI_API_KEY", "ANTHROPIC_BASE_URL",
		"ANTHROPIC_MODEL", "ANTHROPIC_API_KEY", "http_proxy", "HTTP_PROXY",
		"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY",
	};
	size_t i;

	/* never reach past 127.0.0.1: no default URL from the environment,
	 * no proxy */
	for (i = 0; i < sizeof clear / sizeof clear[0]; i++)
		unsetenv(clear[i]);
	setenv("NO_PROXY", "127.0.0.1,localhost", 1);
	setenv("no_proxy", "127.0.0.1,localhost", 1);

	tcase_add_loop_test(wire, test_descriptor, 0, N_PROVIDERS);
	tcase_add_loop_test(wire, test_init_refusals, 0,
			    N_PROVIDERS * (int)(sizeof refusals / sizeof refusals[0]));
	tcase_add_loop_test(wire, test_bad_request, 0, N_PROVIDERS);
	tcase_add_test(wire, test_oa_parse);
	tcase_add_test(wire, test_an_parse);
	tcase_add_test(wire, test_wire_helpers);
	tcase_add_test(wire, test_build_roundtrip);

	tcase_add_loop_test(net, test_ok, 0, N_PROVIDERS);
	tcase_add_loop_test(net, test_wire_request, 0, N_PROVIDERS);
	tcase_add_loop_test(net, test_wire_defaults, 0, N_PROVIDERS);
	tcase_add_test(net, test_wire_reasoning);
	tcase_add_test(net, test_no_key);
	tcase_add_loop_test(net, test_key_from_env, 0, N_PROVIDERS);
	tcase_add_loop_test(net, test_env_fallbacks, 0, N_PROVIDERS);
	tcase_add_loop_test(net, test_invalid_utf8_prompt, 0, N_PROVIDERS);
	tcase_add_loop_test(net, test_401_fatal, 0, N_PROVIDERS);
	tcase_add_loop_test(net, test_nocode, 0, N_PROVIDERS);
	tcase_add_loop_test(net, test_connection_refused, 0, N_PROVIDERS);
	tcase_add_loop_test(net, test_concurrency, 0, N_PROVIDERS);
	tcase_set_timeout(net, 60);

	tcase_add_loop_test(fault, test_fault_then_ok, 0, N_PROVIDERS);
	tcase_add_loop_test(fault, test_fault_exhausted, 0, N_PROVIDERS);
	tcase_add_loop_test(fault, test_fault_messages, 0, N_PROVIDERS);
	tcase_add_loop_test(fault, test_cancel_in_flight, 0, N_PROVIDERS);
	tcase_add_loop_test(fault, test_cancel_in_backoff, 0, N_PROVIDERS);
	tcase_add_loop_test(fault, test_cancel_before, 0, N_PROVIDERS);
	tcase_set_timeout(fault, 60);

	suite_add_tcase(s, wire);
	suite_add_tcase(s, net);
	suite_add_tcase(s, fault);
	return aml_test_main(s);
}
