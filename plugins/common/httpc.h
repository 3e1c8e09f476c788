/*
 * httpc.h — the HTTP client the LLM provider plugins share: one JSON POST
 * with retries, over libcurl, compiled into each provider's library
 * (plugins never link the core, nor each other).
 *
 * A call is a loop of attempts.  Each attempt takes a curl easy handle
 * from a small pool (so its connection is reused by the next call), runs
 * the transfer without holding any lock, and classifies the outcome:
 *
 *   2xx                the caller's parse function reads the body; it
 *                      answers OK, RETRY (malformed: truncated JSON, an
 *                      HTML page, no answer) or FATAL;
 *   408 409 429 500 502 503 504 529
 *                      retried, after Retry-After when the server sent it;
 *   any other status   fatal at once (400, 401, 403, 404...);
 *   curl errors        retried when they are transient (timeouts, refused
 *                      or broken connections), fatal otherwise.
 *
 * Between attempts it sleeps base * 2^k seconds with full jitter, capped.
 * Every failure ends as one line in the caller's err buffer, which names
 * the URL and the cause and never holds a request header (the API key is
 * also scrubbed from anything the server echoed).
 *
 * Thread safety: every function may be called from several threads at
 * once; a pool serves each concurrent call its own handle.
 */
#ifndef AML_HTTPC_H
#define AML_HTTPC_H

#include <stddef.h>
#include <stdint.h>

#include <automlgen/plugin.h>

/* A 2xx answer's verdict, from the caller's parse function. */
enum httpc_verdict {
	HTTPC_OK = 0,      /* parsed: the call succeeds */
	HTTPC_RETRY = 1,   /* malformed: try again */
	HTTPC_FATAL = 2,   /* malformed in a way another try cannot fix */
};

/* What one attempt received.  Borrowed by the parse function for the
 * duration of the call. */
typedef struct httpc_reply {
	long status;                /* HTTP status */
	const char *body;           /* NUL-terminated; may hold NULs before len */
	size_t len;
	const char *content_type;   /* may be NULL */
} httpc_reply;

/* Reads a 2xx reply into the caller's ctx.  On RETRY or FATAL it writes
 * one line of why into why (e.g. "no choices in the answer"); on RETRY it
 * must leave ctx ready for another reply. */
typedef int (*httpc_parse_fn)(void *ctx, const httpc_reply *reply, char *why,
			      size_t whylen);

/* The settings of a call (borrowed). */
typedef struct httpc_opts {
	const char *who;            /* message prefix: the plugin's name */
	double connect_timeout_s;   /* <= 0: curl's default */
	double timeout_s;           /* whole transfer; <= 0: none */
	int max_attempts;           /* >= 1 */
	double backoff_s;           /* base of the exponential backoff */
	double backoff_max_s;       /* cap of one backoff sleep */
	double retry_after_max_s;   /* cap of a server's Retry-After */
	size_t max_body;            /* reply body cap in bytes; 0: 16 MiB */
	const char *secret;         /* scrubbed from messages; may be NULL */
} httpc_opts;

/* Fills o with the defaults: 10 s connect, 600 s total, 5 attempts,
 * backoff 1 s up to 60 s, Retry-After up to 120 s, 16 MiB. */
void httpc_opts_default(httpc_opts *o, const char *who);

/* Initializes libcurl once per process image (pthread_once); call from
 * the plugin's init.  Returns 0, or -1 with a line in err. */
int httpc_global_init(char *err, size_t errlen);

typedef struct httpc_pool httpc_pool;

/* A pool that keeps up to cap idle handles (their connections stay
 * open).  Returns NULL when out of memory. */
httpc_pool *httpc_pool_new(size_t cap);
/* Closes every idle handle and frees the pool.  No call may be running. */
void httpc_pool_free(httpc_pool *pool);

/* POST body (JSON) to url with the extra headers ("Name: value",
 * NULL-terminated, borrowed; Content-Type and Accept are added), retrying
 * as described above; parse reads a 2xx reply into ctx.  seed varies the
 * backoff jitter between callers.  Returns AML_OK, or a negative AML_E*
 * status with one line in err:
 *   AML_EPROTO     a non-retryable HTTP status, or retries exhausted on one
 *   AML_ETIMEDOUT  retries exhausted on timeouts
 *   AML_EIO        a connection error (refused, reset...)
 *   AML_EFORMAT    the answer stayed malformed, or parse said FATAL
 *   AML_EINVAL     a bad URL or protocol
 *   AML_ENOMEM     out of memory */
int httpc_post_json(httpc_pool *pool, const httpc_opts *o, const char *url,
		    const char *const *headers, const char *body, uint64_t seed,
		    httpc_parse_fn parse, void *ctx, char *err, size_t errlen);

/* One line describing an error reply body: error.message (or error as a
 * string, or message) of a JSON body, else its first 200 characters with
 * line breaks flattened; "empty body" when there is none. */
void httpc_error_detail(const char *body, size_t len, const char *content_type,
			char *out, size_t outlen);

/* The JSON object of a 2xx reply body, or NULL with one line of why:
 * "empty body", "an HTML page instead of JSON: ...", "truncated JSON
 * (N bytes)", "not JSON: ...", "not a JSON object".  The object is
 * owned by the caller (json_object_put).  (struct json_object: json-c.) */
struct json_object;
struct json_object *httpc_json_object(const char *body, size_t len,
				      const char *content_type, char *why,
				      size_t whylen);

/* Add v under key to object o, or append v to array a.  v is taken in
 * every case (released on failure); -1 when v is NULL (an allocation
 * failed before) or the add failed, else 0.  So a body is built with
 * "rc |= httpc_json_add(...)" and checked once. */
int httpc_json_add(struct json_object *o, const char *key, struct json_object *v);
int httpc_json_append(struct json_object *a, struct json_object *v);

/* A JSON number for d written the short way ("0.7", not
 * "0.69999999999999996"); NULL when out of memory. */
struct json_object *httpc_json_number(double d);

/* s when it is valid UTF-8, else a malloc()ed copy with each invalid
 * byte replaced by U+FFFD (*copy holds it, to be freed; NULL when s was
 * kept): a script's binary output quoted in a prompt must not make the
 * API refuse the whole request.  Returns NULL when out of memory. */
const char *httpc_utf8_clean(const char *s, char **copy);

/* Writes the one-line message into err ("fmt" printf-style), flattening
 * line breaks. */
void httpc_seterr(char *err, size_t errlen, const char *fmt, ...)
#if defined(__GNUC__)
	__attribute__((format(printf, 3, 4)))
#endif
	;

/* ------------------------------------------------------------------ */
/* Parameters every provider shares, read through host->param (the run's
 * config, else the manifest's default; NULL under a bare mock host, which
 * then gets the compiled-in default).  Each refusal is one line naming
 * the parameter, its range and the value. */

/* connect_timeout_s, timeout_s, max_attempts, backoff_s, backoff_max_s and
 * retry_after_max_s into o (which holds the defaults on entry). */
int httpc_opts_read(const aml_host *host, aml_plugin *self, httpc_opts *o,
		    char *err, size_t errlen);

/* A float parameter in [lo, hi]; def when unset or "". */
int httpc_param_double(const aml_host *host, aml_plugin *self, const char *who,
		       const char *key, double def, double lo, double hi,
		       double *out, char *err, size_t errlen);
/* An integer parameter in [lo, hi]; def when unset or "". */
int httpc_param_long(const aml_host *host, aml_plugin *self, const char *who,
		     const char *key, long def, long lo, long hi, long *out,
		     char *err, size_t errlen);
/* A string parameter, else the environment variable env (may be NULL),
 * else fallback, in that order, skipping empty values.  Returns a
 * malloc()ed copy (caller owns), or NULL when out of memory. */
char *httpc_param_str(const aml_host *host, aml_plugin *self, const char *key,
		      const char *env, const char *fallback);
/* The API key: the api_key parameter, else the environment variable named
 * by the api_key_env parameter (default default_env).  *key is malloc()ed,
 * or NULL when there is none (local servers need none). */
int httpc_api_key(const aml_host *host, aml_plugin *self, const char *who,
		  const char *default_env, char **key, char *err, size_t errlen);

/* An answer as a wire format parsed it; strings malloc()ed. */
typedef struct httpc_answer {
	char *text;                /* the answer's text */
	char *model;               /* the model that answered, may be NULL */
	uint64_t tokens_in;        /* the usage the server reported */
	uint64_t tokens_out;
	int has_usage;             /* 0: the answer had no usage */
} httpc_answer;

void httpc_answer_free(httpc_answer *a);

/* Hand a parsed answer to the core: text and model (fallback_model when
 * the server named none) copied with the host's allocator, the tokens
 * from the usage or, without one, estimated from req and the text.
 * AML_OK, or AML_ENOMEM with "<who>: out of memory" in err and resp
 * holding nothing. */
int httpc_answer_take(const aml_host *host, const char *who, const httpc_answer *a,
		      const char *fallback_model, const aml_llm_request *req,
		      aml_llm_response *resp, char *err, size_t errlen);

/* A rough token count for servers that send no usage: 4 characters a
 * token over a and b (either may be NULL), at least one. */
uint64_t httpc_estimate_tokens(const char *a, const char *b);

/* base + "/" + path with any trailing slashes of base dropped
 * (malloc()ed; NULL when out of memory). */
char *httpc_url_join(const char *base, const char *path);

/* Split a comma-separated list, each item trimmed of blanks, empty items
 * dropped.  *items is a malloc()ed NULL-terminated array of malloc()ed
 * strings (free with httpc_list_free); returns 0, or -1 out of memory. */
int httpc_list_split(const char *csv, char ***items, size_t *n);
void httpc_list_free(char **items);

#endif /* AML_HTTPC_H */
