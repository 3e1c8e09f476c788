/*
 * openai.c — the "openai" LLM provider: OpenAI's chat-completions API and
 * every server that speaks it (llama.cpp's server, Ollama, vLLM, LM
 * Studio), so users bring their own model, hosted or local.
 *
 * This file is the plugin glue: it reads the parameters once at init
 * (with environment fallbacks for the URL, model and key), then each
 * complete() builds the body (oa_wire.c), posts it with retries
 * (../common/httpc.c) and hands the answer to the core.  Complete() is
 * called by several search workers at once; the state is read-only after
 * init and the handle pool serves each call its own connection.  A call
 * whose request's cancel flag is set (the run is stopping) is abandoned
 * within a fraction of a second: AML_ECANCELED (see httpc.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "httpc.h"
#include "provkit.h"
#include "oa_wire.h"

#define OA_NAME "openai"
#define OA_DEFAULT_URL "https://api.openai.com/v1"
#define OA_DEFAULT_MODEL "gpt-4o-mini"
#define OA_POOL_HANDLES 32

typedef struct oa_state {
	const aml_host *host;
	aml_plugin *self;
	char *url;              /* {base_url}/chat/completions */
	char *model;
	char *key;              /* NULL: no Authorization header */
	char *auth;             /* "Authorization: Bearer KEY", or NULL */
	char **stop;
	oa_params wire;
	httpc_opts http;
	httpc_pool *pool;
} oa_state;

static void
oa_fini(void *state)
{
	oa_state *st = state;

	if (st == NULL)
		return;
	httpc_pool_free(st->pool);
	free(st->url);
	free(st->model);
	if (st->key != NULL)
		memset(st->key, 0, strlen(st->key));
	free(st->key);
	if (st->auth != NULL)
		memset(st->auth, 0, strlen(st->auth));
	free(st->auth);
	pk_list_free(st->stop);
	free(st);
}

/* "auto" (by the model's name), "yes" or "no". */
static int
read_reasoning(oa_state *st, char *err, size_t errlen)
{
	const char *s = st->host->param ? st->host->param(st->self, "reasoning") : NULL;

	if (s == NULL || *s == '\0' || strcmp(s, "auto") == 0)
		st->wire.reasoning = oa_reasoning_model(st->model);
	else if (strcmp(s, "yes") == 0)
		st->wire.reasoning = 1;
	else if (strcmp(s, "no") == 0)
		st->wire.reasoning = 0;
	else {
		httpc_seterr(err, errlen, OA_NAME ": reasoning must be auto, yes or no, got '%.64s'", s);
		return AML_EINVAL;
	}
	return AML_OK;
}

static int
read_params(oa_state *st, char *err, size_t errlen)
{
	const aml_host *h = st->host;
	char *base, *stop;
	size_t n_stop = 0;
	int rc;

	base = pk_param_str(h, st->self, "base_url", "OPENAI_BASE_URL", OA_DEFAULT_URL);
	st->model = pk_param_str(h, st->self, "model", "OPENAI_MODEL", OA_DEFAULT_MODEL);
	stop = pk_param_str(h, st->self, "stop", NULL, "");
	if (base == NULL || st->model == NULL || stop == NULL
	    || pk_list_split(stop, &st->stop, &n_stop) != 0) {
		free(base);
		free(stop);
		httpc_seterr(err, errlen, OA_NAME ": out of memory");
		return AML_ENOMEM;
	}
	free(stop);
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
		httpc_seterr(err, errlen, OA_NAME ": base_url must start with http:// or "
			     "https://, got '%.200s'", base);
		free(base);
		return AML_EINVAL;
	}
	st->url = pk_url_join(base, "chat/completions");
	free(base);
	if (st->url == NULL) {
		httpc_seterr(err, errlen, OA_NAME ": out of memory");
		return AML_ENOMEM;
	}
	st->wire.model = st->model;
	st->wire.stop = (const char *const *)st->stop;
	st->wire.n_stop = n_stop;
	rc = pk_param_double(h, st->self, OA_NAME, "temperature", -1, -1e9, 2,
				&st->wire.temperature, err, errlen);
	if (rc == AML_OK)
		rc = pk_param_long(h, st->self, OA_NAME, "max_tokens", 0, 0, 100000000L,
				      &st->wire.max_tokens, err, errlen);
	if (rc == AML_OK)
		rc = read_reasoning(st, err, errlen);
	if (rc == AML_OK)
		rc = pk_opts_read(h, st->self, &st->http, err, errlen);
	if (rc == AML_OK)
		rc = pk_api_key(h, st->self, OA_NAME, "OPENAI_API_KEY", &st->key, err, errlen);
	if (rc == AML_OK && st->key != NULL) {
		size_t n = strlen(st->key) + sizeof "Authorization: Bearer ";

		st->auth = malloc(n);
		if (st->auth == NULL) {
			httpc_seterr(err, errlen, OA_NAME ": out of memory");
			return AML_ENOMEM;
		}
		snprintf(st->auth, n, "Authorization: Bearer %s", st->key);
		st->http.secret = st->key;
	}
	return rc;
}

static int
oa_init(const aml_host *host, aml_plugin *self, void **state, char *err,
	size_t errlen)
{
	oa_state *st;
	int rc;

	if (host == NULL || host->abi_major != AML_ABI_MAJOR) {
		httpc_seterr(err, errlen, OA_NAME ": host ABI %u does not match %d",
			     host ? host->abi_major : 0, AML_ABI_MAJOR);
		return AML_EABI;
	}
	if (httpc_global_init(err, errlen) != 0)
		return AML_EPLUGIN;
	st = calloc(1, sizeof *st);
	if (st == NULL) {
		httpc_seterr(err, errlen, OA_NAME ": out of memory");
		return AML_ENOMEM;
	}
	st->host = host;
	st->self = self;
	httpc_opts_default(&st->http, OA_NAME);
	rc = read_params(st, err, errlen);
	if (rc == AML_OK && (st->pool = httpc_pool_new(OA_POOL_HANDLES)) == NULL) {
		httpc_seterr(err, errlen, OA_NAME ": out of memory");
		rc = AML_ENOMEM;
	}
	if (rc != AML_OK) {
		oa_fini(st);
		return rc;
	}
	if (host->log)
		host->log(self, AML_LOG_DEBUG, "%s, model %s%s%s", st->url, st->model,
			  st->wire.reasoning ? " (reasoning)" : "",
			  st->key ? "" : ", no API key");
	*state = st;
	return AML_OK;
}

/* httpc's parse callback: a 2xx body into the oa_answer. */
static int
parse_reply(void *ctx, const httpc_reply *r, char *why, size_t whylen)
{
	int rc = oa_response_parse(r->body, r->len, r->content_type, ctx, why, whylen);

	return rc == AML_OK ? HTTPC_OK : rc == AML_ENOMEM ? HTTPC_FATAL : HTTPC_RETRY;
}

static int
oa_complete(void *state, const aml_llm_request *req, aml_llm_response *resp,
	    char *err, size_t errlen)
{
	oa_state *st = state;
	const char *headers[2] = {NULL, NULL};
	oa_answer ans;
	char *body = NULL;
	int rc;

	if (req == NULL || resp == NULL) {
		httpc_seterr(err, errlen, OA_NAME ": missing request or response");
		return AML_EINVAL;
	}
	memset(resp, 0, sizeof *resp);
	memset(&ans, 0, sizeof ans);
	rc = oa_request_build(&st->wire, req, &body, err, errlen);
	if (rc != AML_OK)
		return rc;
	headers[0] = st->auth;
	rc = httpc_post_json(st->pool, &st->http, st->url, headers, body,
			     req->seed ^ ((uint64_t)req->node_id << 32), req->cancel, parse_reply,
			     &ans, err, errlen);
	free(body);
	if (rc == AML_OK)
		rc = pk_answer_take(st->host, OA_NAME, &ans, st->model, req, resp, err, errlen);
	pk_answer_free(&ans);
	return rc;
}

static const aml_provider_ops oa_ops = {oa_complete};

AML_PLUGIN_DEFINE(AML_KIND_PROVIDER, OA_NAME, "1.0.0", oa_init, oa_fini, &oa_ops);
