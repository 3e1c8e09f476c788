/*
 * provkit.h — what every LLM provider plugin reads and hands back, apart
 * from HTTP (httpc.h): its parameters (with environment fallbacks and
 * range checks), the API key, the parsed answer and its hand-over to the
 * core, and small helpers (URL join, comma lists, a token estimate).
 * Compiled into each provider's library, like httpc.c.
 */
#ifndef AML_PROVKIT_H
#define AML_PROVKIT_H

#include <stddef.h>
#include <stdint.h>

#include <automlgen/plugin.h>

#include "httpc.h"

/* ------------------------------------------------------------------ */
/* Parameters every provider shares, read through host->param (the run's
 * config, else the manifest's default; NULL under a bare mock host, which
 * then gets the compiled-in default).  Each refusal is one line naming
 * the parameter, its range and the value. */

/* connect_timeout_s, timeout_s, max_attempts, backoff_s, backoff_max_s and
 * retry_after_max_s into o (which holds the defaults on entry). */
int pk_opts_read(const aml_host *host, aml_plugin *self, httpc_opts *o,
		    char *err, size_t errlen);

/* A float parameter in [lo, hi]; def when unset or "". */
int pk_param_double(const aml_host *host, aml_plugin *self, const char *who,
		       const char *key, double def, double lo, double hi,
		       double *out, char *err, size_t errlen);
/* An integer parameter in [lo, hi]; def when unset or "". */
int pk_param_long(const aml_host *host, aml_plugin *self, const char *who,
		     const char *key, long def, long lo, long hi, long *out,
		     char *err, size_t errlen);
/* A string parameter, else the environment variable env (may be NULL),
 * else fallback, in that order, skipping empty values.  Returns a
 * malloc()ed copy (caller owns), or NULL when out of memory. */
char *pk_param_str(const aml_host *host, aml_plugin *self, const char *key,
		      const char *env, const char *fallback);
/* The API key: the api_key parameter, else the environment variable named
 * by the api_key_env parameter (default default_env).  *key is malloc()ed,
 * or NULL when there is none (local servers need none). */
int pk_api_key(const aml_host *host, aml_plugin *self, const char *who,
		  const char *default_env, char **key, char *err, size_t errlen);

/* An answer as a wire format parsed it; strings malloc()ed. */
typedef struct pk_answer {
	char *text;                /* the answer's text */
	char *model;               /* the model that answered, may be NULL */
	uint64_t tokens_in;        /* the usage the server reported */
	uint64_t tokens_out;
	int has_usage;             /* 0: the answer had no usage */
} pk_answer;

void pk_answer_free(pk_answer *a);

/* Hand a parsed answer to the core: text and model (fallback_model when
 * the server named none) copied with the host's allocator, the tokens
 * from the usage or, without one, estimated from req and the text.
 * AML_OK, or AML_ENOMEM with "<who>: out of memory" in err and resp
 * holding nothing. */
int pk_answer_take(const aml_host *host, const char *who, const pk_answer *a,
		      const char *fallback_model, const aml_llm_request *req,
		      aml_llm_response *resp, char *err, size_t errlen);

/* A rough token count for servers that send no usage: 4 characters a
 * token over a and b (either may be NULL), at least one. */
uint64_t pk_estimate_tokens(const char *a, const char *b);

/* base + "/" + path with any trailing slashes of base dropped
 * (malloc()ed; NULL when out of memory). */
char *pk_url_join(const char *base, const char *path);

/* Split a comma-separated list, each item trimmed of blanks, empty items
 * dropped.  *items is a malloc()ed NULL-terminated array of malloc()ed
 * strings (free with pk_list_free); returns 0, or -1 out of memory. */
int pk_list_split(const char *csv, char ***items, size_t *n);
void pk_list_free(char **items);

#endif /* AML_PROVKIT_H */
