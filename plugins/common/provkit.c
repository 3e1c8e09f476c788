/*
 * provkit.c — see provkit.h.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "httpc.h"
#include "provkit.h"

/* ------------------------------------------------------------------ */
/* Shared parameters. */

static const char *
param(const aml_host *host, aml_plugin *self, const char *key)
{
	return host && host->param ? host->param(self, key) : NULL;
}

int
pk_param_double(const aml_host *host, aml_plugin *self, const char *who,
		   const char *key, double def, double lo, double hi,
		   double *out, char *err, size_t errlen)
{
	const char *s = param(host, self, key);
	char *end;
	double v;

	*out = def;
	if (s == NULL || *s == '\0')
		return AML_OK;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		httpc_seterr(err, errlen, "%s: %s must be a number in [%g, %g], got '%.64s'",
			     who, key, lo, hi, s);
		return AML_EINVAL;
	}
	*out = v;
	return AML_OK;
}

int
pk_param_long(const aml_host *host, aml_plugin *self, const char *who,
		 const char *key, long def, long lo, long hi, long *out,
		 char *err, size_t errlen)
{
	const char *s = param(host, self, key);
	char *end;
	long v;

	*out = def;
	if (s == NULL || *s == '\0')
		return AML_OK;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi) {
		httpc_seterr(err, errlen, "%s: %s must be an integer in [%ld, %ld], got '%.64s'",
			     who, key, lo, hi, s);
		return AML_EINVAL;
	}
	*out = v;
	return AML_OK;
}

int
pk_opts_read(const aml_host *host, aml_plugin *self, httpc_opts *o,
		char *err, size_t errlen)
{
	long attempts = o->max_attempts;
	int rc;

	rc = pk_param_double(host, self, o->who, "connect_timeout_s", o->connect_timeout_s,
				0.001, 3600, &o->connect_timeout_s, err, errlen);
	if (rc == AML_OK)
		rc = pk_param_double(host, self, o->who, "timeout_s", o->timeout_s, 0.001,
					86400, &o->timeout_s, err, errlen);
	if (rc == AML_OK)
		rc = pk_param_long(host, self, o->who, "max_attempts", attempts, 1, 100,
				      &attempts, err, errlen);
	if (rc == AML_OK)
		rc = pk_param_double(host, self, o->who, "backoff_s", o->backoff_s, 0, 3600,
					&o->backoff_s, err, errlen);
	if (rc == AML_OK)
		rc = pk_param_double(host, self, o->who, "backoff_max_s", o->backoff_max_s,
					0, 86400, &o->backoff_max_s, err, errlen);
	if (rc == AML_OK)
		rc = pk_param_double(host, self, o->who, "retry_after_max_s",
					o->retry_after_max_s, 0, 86400,
					&o->retry_after_max_s, err, errlen);
	o->max_attempts = (int)attempts;
	return rc;
}

char *
pk_param_str(const aml_host *host, aml_plugin *self, const char *key,
		const char *env, const char *fallback)
{
	const char *s = param(host, self, key);

	if ((s == NULL || *s == '\0') && env != NULL)
		s = getenv(env);
	if (s == NULL || *s == '\0')
		s = fallback;
	return strdup(s ? s : "");
}

int
pk_api_key(const aml_host *host, aml_plugin *self, const char *who,
	      const char *default_env, char **key, char *err, size_t errlen)
{
	const char *k = param(host, self, "api_key"), *env;

	*key = NULL;
	if (k == NULL || *k == '\0') {
		env = param(host, self, "api_key_env");
		if (env == NULL || *env == '\0')
			env = default_env;
		k = getenv(env);
	}
	if (k == NULL || *k == '\0')
		return AML_OK;
	/* a key with a line break would let it forge headers */
	for (env = k; *env; env++)
		if ((unsigned char)*env < 0x20 || *env == 0x7f) {
			httpc_seterr(err, errlen, "%s: the API key holds a control "
				     "character; check api_key or its environment variable", who);
			return AML_EINVAL;
		}
	*key = strdup(k);
	if (*key == NULL) {
		httpc_seterr(err, errlen, "%s: out of memory", who);
		return AML_ENOMEM;
	}
	return AML_OK;
}

uint64_t
pk_estimate_tokens(const char *a, const char *b)
{
	size_t n = (a ? strlen(a) : 0) + (b ? strlen(b) : 0);

	return n / 4 + 1;
}

char *
pk_url_join(const char *base, const char *path)
{
	size_t n = strlen(base), m;
	char *s;

	while (n > 0 && base[n - 1] == '/')
		n--;
	while (*path == '/')
		path++;
	m = strlen(path);
	s = malloc(n + m + 2);
	if (s == NULL)
		return NULL;
	memcpy(s, base, n);
	s[n] = '/';
	memcpy(s + n + 1, path, m + 1);
	return s;
}

void
pk_list_free(char **items)
{
	size_t i;

	for (i = 0; items && items[i]; i++)
		free(items[i]);
	free(items);
}

int
pk_list_split(const char *csv, char ***items, size_t *n)
{
	char **v;
	const char *p = csv ? csv : "", *e;
	size_t cap = 1, k = 0;

	for (e = p; *e; e++)
		cap += *e == ',';
	v = calloc(cap + 1, sizeof *v);
	if (v == NULL)
		return -1;
	while (*p) {
		const char *b, *t;

		e = strchr(p, ',');
		if (e == NULL)
			e = p + strlen(p);
		for (b = p; b < e && isspace((unsigned char)*b); b++)
			;
		for (t = e; t > b && isspace((unsigned char)t[-1]); t--)
			;
		if (t > b) {
			v[k] = strndup(b, (size_t)(t - b));
			if (v[k] == NULL) {
				pk_list_free(v);
				return -1;
			}
			k++;
		}
		p = *e ? e + 1 : e;
	}
	*items = v;
	*n = k;
	return 0;
}

void
pk_answer_free(pk_answer *a)
{
	free(a->text);
	free(a->model);
	memset(a, 0, sizeof *a);
}

int
pk_answer_take(const aml_host *host, const char *who, const pk_answer *a,
		  const char *fallback_model, const aml_llm_request *req,
		  aml_llm_response *resp, char *err, size_t errlen)
{
	const char *model = a->model ? a->model : fallback_model;

	resp->text = host->mem_strdup(a->text);
	resp->model = model ? host->mem_strdup(model) : NULL;
	if (resp->text == NULL || (model && resp->model == NULL)) {
		host->mem_free(resp->text);
		host->mem_free(resp->model);
		resp->text = resp->model = NULL;
		httpc_seterr(err, errlen, "%s: out of memory", who);
		return AML_ENOMEM;
	}
	if (a->has_usage) {
		resp->tokens_in = a->tokens_in;
		resp->tokens_out = a->tokens_out;
	} else {
		resp->tokens_in = pk_estimate_tokens(req->system, req->user);
		resp->tokens_out = pk_estimate_tokens(a->text, NULL);
	}
	return AML_OK;
}
