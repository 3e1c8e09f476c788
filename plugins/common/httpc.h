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
 *
 * A call may carry the request's cancel flag (ABI 1.3: set once, when the
 * run is stopping).  The transfer runs on a multi handle polled every
 * HTTPC_CANCEL_TICK_MS (a libcurl progress callback also aborts it), and
 * the backoff sleeps in slices as short, so a call in flight is abandoned
 * within a fraction of a second and returns AML_ECANCELED with "<who>:
 * cancelled: the run is stopping".
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

/* How often a call reads its cancel flag while it waits (milliseconds). */
#define HTTPC_CANCEL_TICK_MS 100

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
 * backoff jitter between callers; cancel (borrowed, may be NULL) is the
 * request's cancel flag.  Returns AML_OK, or a negative AML_E* status
 * with one line in err:
 *   AML_EPROTO     a non-retryable HTTP status, or retries exhausted on one
 *   AML_ETIMEDOUT  retries exhausted on timeouts
 *   AML_EIO        a connection error (refused, reset...)
 *   AML_EFORMAT    the answer stayed malformed, or parse said FATAL
 *   AML_EINVAL     a bad URL or protocol
 *   AML_ENOMEM     out of memory
 *   AML_ECANCELED  *cancel was set: the call was abandoned */
int httpc_post_json(httpc_pool *pool, const httpc_opts *o, const char *url,
		    const char *const *headers, const char *body, uint64_t seed,
		    const volatile int *cancel, httpc_parse_fn parse, void *ctx,
		    char *err, size_t errlen);

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

#endif /* AML_HTTPC_H */
