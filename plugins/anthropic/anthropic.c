/*
 * anthropic.c — the "anthropic" LLM provider: Anthropic's Messages API
 * (POST {base_url}/messages), for users who bring a Claude model.
 *
 * This file is the plugin glue: it reads the parameters once at init
 * (with environment fallbacks for the URL, model and key), then each
 * complete() builds the body (an_wire.c), posts it with retries
 * (../common/httpc.c; 529 "overloaded" is retried like 503) and hands the
 * answer to the core.  Complete() is called by several search workers at
 * once; the state is read-only after init and the handle pool serves each
 * call its own connection.  A call whose request's cancel flag is set
 * (the run is stopping) is abandoned within a fraction of a second:
 * AML_ECANCELED (see httpc.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "an_wire.h"
#include "httpc.h"
#include "provkit.h"

#define AN_NAME "anthropic"
#define AN_DEFAULT_URL "https://api.anthropic.com/v1"
#define AN_DEFAULT_MODEL "claude-sonnet-4-5"
#define AN_DEFAULT_VERSION "2023-06-01"
#define AN_DEFAULT_MAX_TOKENS 8192
#define AN_POOL_HANDLES 32

typedef struct an_state {
	const aml_host *host;
	aml_plugin *self;
	char *url;              /* {base_url}/messages */
	char *model;
	char *key;              /* NULL: no x-api-key header */
	char *key_header;       /* "x-api-key: KEY", or NULL */
	char *version_header;   /* "anthropic-version: V" */
	char **stop;
	an_params wire;
	httpc_opts http;
	httpc_pool *pool;
} an_state;

static void
wipe_free(char *s)
{
	if (s != NULL)
		memset(s, 0, strlen(s));
	free(s);
}

static void
an_fini(void *state)
{
	an_state *st = state;

	if (st == NULL)
		return;
	httpc_pool_free(st->pool);
	free(st->url);
	free(st->model);
	wipe_free(st->key);
	wipe_free(st->key_header);
	free(st->version_header);
	pk_list_free(st->stop);
	free(st);
}

/* "Name: value" (malloc()ed), NULL when out of memory. */
static char *
header(const char *name, const char *value)
{
	size_t n = strlen(name) + strlen(value) + 3;
	char *h = malloc(n);

	if (h != NULL)
		snprintf(h, n, "%s: %s", name, value);
	return h;
}

static int
read_params(an_state *st, char *err, size_t errlen)
{
	const aml_host *h = st->host;
	char *base, *stop, *version, *c;
	size_t n_stop = 0;
	int rc;

	base = pk_param_str(h, st->self, "base_url", "ANTHROPIC_BASE_URL", AN_DEFAULT_URL);
	st->model = pk_param_str(h, st->self, "model", "ANTHROPIC_MODEL", AN_DEFAULT_MODEL);
	stop = pk_param_str(h, st->self, "stop", NULL, "");
	version = pk_param_str(h, st->self, "anthropic-version", NULL, AN_DEFAULT_VERSION);
	if (base == NULL || st->model == NULL || stop == NULL || version == NULL
	    || pk_list_split(stop, &st->stop, &n_stop) != 0) {
		free(base);
		free(stop);
		free(version);
		httpc_seterr(err, errlen, AN_NAME ": out of memory");
		return AML_ENOMEM;
	}
	free(stop);
	for (c = version; *c; c++)
		if ((unsigned char)*c < 0x20) {
			httpc_seterr(err, errlen, AN_NAME ": anthropic-version holds a control "
				     "character");
			free(base);
			free(version);
			return AML_EINVAL;
		}
	st->version_header = header("anthropic-version", version);
	free(version);
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
		httpc_seterr(err, errlen, AN_NAME ": base_url must start with http:// or "
			     "https://, got '%.200s'", base);
		free(base);
		return AML_EINVAL;
	}
	st->url = pk_url_join(base, "messages");
	free(base);
	if (st->url == NULL || st->version_header == NULL) {
		httpc_seterr(err, errlen, AN_NAME ": out of memory");
		return AML_ENOMEM;
	}
	st->wire.model = st->model;
	st->wire.stop = (const char *const *)st->stop;
	st->wire.n_stop = n_stop;
	rc = pk_param_double(h, st->self, AN_NAME, "temperature", -1, -1e9, 1,
				&st->wire.temperature, err, errlen);
	if (rc == AML_OK)
		rc = pk_param_long(h, st->self, AN_NAME, "max_tokens", AN_DEFAULT_MAX_TOKENS,
				      1, 100000000L, &st->wire.max_tokens, err, errlen);
	if (rc == AML_OK)
		rc = pk_opts_read(h, st->self, &st->http, err, errlen);
	if (rc == AML_OK)
		rc = pk_api_key(h, st->self, AN_NAME, "ANTHROPIC_API_KEY", &st->key, err,
				   errlen);
	if (rc == AML_OK && st->key != NULL) {
		st->key_header = header("x-api-key", st->key);
		if (st->key_header == NULL) {
			httpc_seterr(err, errlen, AN_NAME ": out of memory");
			return AML_ENOMEM;
		}
		st->http.secret = st->key;
	}
	return rc;
}

static int
an_init(const aml_host *host, aml_plugin *self, void **state, char *err,
	size_t errlen)
{
	an_state *st;
	int rc;

	if (host == NULL || host->abi_major != AML_ABI_MAJOR) {
		httpc_seterr(err, errlen, AN_NAME ": host ABI %u does not match %d",
			     host ? host->abi_major : 0, AML_ABI_MAJOR);
		return AML_EABI;
	}
	if (httpc_global_init(err, errlen) != 0)
		return AML_EPLUGIN;
	st = calloc(1, sizeof *st);
	if (st == NULL) {
		httpc_seterr(err, errlen, AN_NAME ": out of memory");
		return AML_ENOMEM;
	}
	st->host = host;
	st->self = self;
	httpc_opts_default(&st->http, AN_NAME);
	rc = read_params(st, err, errlen);
	if (rc == AML_OK && (st->pool = httpc_pool_new(AN_POOL_HANDLES)) == NULL) {
		httpc_seterr(err, errlen, AN_NAME ": out of memory");
		rc = AML_ENOMEM;
	}
	if (rc != AML_OK) {
		an_fini(st);
		return rc;
	}
	/* the hosted API refuses a request without a key; a proxy may not */
	if (host->log)
		host->log(self, st->key ? AML_LOG_DEBUG : AML_LOG_WARN, "%s, model %s%s",
			  st->url, st->model, st->key ? "" : ", no API key (x-api-key not sent)");
	*state = st;
	return AML_OK;
}

/* httpc's parse callback: a 2xx body into the an_answer. */
static int
parse_reply(void *ctx, const httpc_reply *r, char *why, size_t whylen)
{
	int rc = an_response_parse(r->body, r->len, r->content_type, ctx, why, whylen);

	return rc == AML_OK ? HTTPC_OK : rc == AML_ENOMEM ? HTTPC_FATAL : HTTPC_RETRY;
}

static int
an_complete(void *state, const aml_llm_request *req, aml_llm_response *resp,
	    char *err, size_t errlen)
{
	an_state *st = state;
	const char *headers[3] = {NULL, NULL, NULL};
	an_answer ans;
	char *body = NULL;
	int rc;

	if (req == NULL || resp == NULL) {
		httpc_seterr(err, errlen, AN_NAME ": missing request or response");
		return AML_EINVAL;
	}
	memset(resp, 0, sizeof *resp);
	memset(&ans, 0, sizeof ans);
	rc = an_request_build(&st->wire, req, &body, err, errlen);
	if (rc != AML_OK)
		return rc;
	headers[0] = st->version_header;
	headers[1] = st->key_header;
	rc = httpc_post_json(st->pool, &st->http, st->url, headers, body,
			     req->seed ^ ((uint64_t)req->node_id << 32), req->cancel, parse_reply,
			     &ans, err, errlen);
	free(body);
	if (rc == AML_OK)
		rc = pk_answer_take(st->host, AN_NAME, &ans, st->model, req, resp, err, errlen);
	pk_answer_free(&ans);
	return rc;
}

static const aml_provider_ops an_ops = {an_complete};

AML_PLUGIN_DEFINE(AML_KIND_PROVIDER, AN_NAME, "1.0.0", an_init, an_fini, &an_ops);
