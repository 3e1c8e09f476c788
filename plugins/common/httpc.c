/*
 * httpc.c — see httpc.h: one JSON POST with retries over libcurl, a pool
 * of easy handles for connection reuse, and the parameters every provider
 * shares.
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
#include "stopflag.h"

#define HTTPC_MAX_BODY_DEFAULT ((size_t)16 << 20)
#define HTTPC_DETAIL_CHARS 200
#define HTTPC_LINE 1024

/* ------------------------------------------------------------------ */
/* Messages. */

/* Turn every control character (line breaks, tabs) into a space, so the
 * message stays one line whatever a server sent. */
static void
flatten(char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			*s = ' ';
}

void
httpc_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	flatten(err);
}

/* Replace each occurrence of secret in s (capacity cap) by "[redacted]":
 * a server may echo the key it refused. */
static void
scrub(char *s, size_t cap, const char *secret)
{
	static const char mask[] = "[redacted]";
	size_t n = secret ? strlen(secret) : 0, m = sizeof mask - 1;
	char *p;

	if (n < 6 || s == NULL)
		return; /* too short to tell from ordinary text */
	while ((p = strstr(s, secret)) != NULL) {
		size_t tail = strlen(p + n) + 1;

		if ((size_t)(p - s) + m + tail > cap) {
			/* no room to expand: cut the message at the key */
			*p = '\0';
			return;
		}
		memmove(p + m, p + n, tail);
		memcpy(p, mask, m);
	}
}

/* The first HTTPC_DETAIL_CHARS characters of s (len bytes) as one line:
 * line breaks and runs of blanks become one space, an ellipsis when cut.
 * An HTML error page then reads like its text. */
static void
excerpt(const char *s, size_t len, char *out, size_t outlen)
{
	size_t i = 0, j, o = 0, max = outlen > 4 ? outlen - 4 : 0;
	int space = 0;

	if (outlen == 0)
		return;
	if (max > HTTPC_DETAIL_CHARS)
		max = HTTPC_DETAIL_CHARS;
	while (i < len && isspace((unsigned char)s[i]))
		i++;
	for (; i < len && s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c <= ' ' || c == 0x7f) {
			space = 1;
			continue;
		}
		if (o + (space ? 2 : 1) > max)
			break;
		if (space)
			out[o++] = ' ';
		space = 0;
		out[o++] = (char)c;
	}
	/* never end inside a UTF-8 sequence */
	if (i < len && ((unsigned char)s[i] & 0xc0) == 0x80) {
		while (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0x80)
			o--;
		if (o > 0 && ((unsigned char)out[o - 1] & 0xc0) == 0xc0)
			o--;
	}
	for (j = i; j < len && isspace((unsigned char)s[j]); j++)
		;
	if (j < len && s[j] != '\0') {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
}

void
httpc_error_detail(const char *body, size_t len, const char *content_type,
		   char *out, size_t outlen)
{
	json_object *j = NULL, *e, *m;
	const char *msg = NULL;

	if (outlen == 0)
		return;
	if (body == NULL || len == 0) {
		snprintf(out, outlen, "empty body");
		return;
	}
	if (len < HTTPC_MAX_BODY_DEFAULT)
		j = json_tokener_parse(body);
	if (j != NULL && json_object_is_type(j, json_type_object)) {
		/* OpenAI, Anthropic: {"error": {"message": ...}};
		 * Ollama and others: {"error": "..."} or {"message": "..."} */
		if (json_object_object_get_ex(j, "error", &e)) {
			if (json_object_is_type(e, json_type_string))
				msg = json_object_get_string(e);
			else if (json_object_is_type(e, json_type_object)
				 && json_object_object_get_ex(e, "message", &m)
				 && json_object_is_type(m, json_type_string))
				msg = json_object_get_string(m);
		}
		if (msg == NULL && json_object_object_get_ex(j, "message", &m)
		    && json_object_is_type(m, json_type_string))
			msg = json_object_get_string(m);
	}
	if (msg != NULL && *msg)
		excerpt(msg, strlen(msg), out, outlen);
	else
		excerpt(body, len, out, outlen);
	json_object_put(j);
	(void)content_type;
}

static int
looks_html(const char *body, size_t len, const char *content_type)
{
	size_t i = 0;

	if (content_type != NULL && strstr(content_type, "html") != NULL)
		return 1;
	while (i < len && isspace((unsigned char)body[i]))
		i++;
	return i < len && body[i] == '<';
}

struct json_object *
httpc_json_object(const char *body, size_t len, const char *content_type,
		  char *why, size_t whylen)
{
	enum json_tokener_error jerr;
	json_tokener *tok;
	json_object *j;
	char ex[HTTPC_DETAIL_CHARS + 8];
	size_t i = 0;

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	if (i == len) {
		snprintf(why, whylen, "empty body");
		return NULL;
	}
	if (looks_html(body, len, content_type)) {
		excerpt(body, len, ex, sizeof ex);
		snprintf(why, whylen, "an HTML page instead of JSON: %s", ex);
		return NULL;
	}
	tok = json_tokener_new();
	if (tok == NULL) {
		snprintf(why, whylen, "out of memory");
		return NULL;
	}
	j = len <= INT32_MAX ? json_tokener_parse_ex(tok, body, (int)len) : NULL;
	jerr = json_tokener_get_error(tok);
	json_tokener_free(tok);
	if (j == NULL) {
		if (jerr == json_tokener_continue) {
			snprintf(why, whylen, "truncated JSON (%zu bytes)", len);
		} else {
			excerpt(body, len, ex, sizeof ex);
			snprintf(why, whylen, "not JSON (%s): %s", json_tokener_error_desc(jerr), ex);
		}
		return NULL;
	}
	if (!json_object_is_type(j, json_type_object)) {
		json_object_put(j);
		snprintf(why, whylen, "not a JSON object");
		return NULL;
	}
	return j;
}

int
httpc_json_add(struct json_object *o, const char *key, struct json_object *v)
{
	if (v == NULL || o == NULL) {
		json_object_put(v);
		return -1;
	}
	if (json_object_object_add(o, key, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

int
httpc_json_append(struct json_object *a, struct json_object *v)
{
	if (v == NULL || a == NULL) {
		json_object_put(v);
		return -1;
	}
	if (json_object_array_add(a, v) != 0) {
		json_object_put(v);
		return -1;
	}
	return 0;
}

struct json_object *
httpc_json_number(double d)
{
	char buf[32];
	char *c;

	/* %.15g gives back every value a person types, without the noise */
	snprintf(buf, sizeof buf, "%.15g", d);
	/* a host that set a locale with a decimal comma must not break JSON */
	for (c = buf; *c; c++)
		if (*c == ',')
			*c = '.';
	return json_object_new_double_s(d, buf);
}

/* Length of the valid UTF-8 sequence at s, 0 when it is not one. */
static size_t
utf8_seq(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xe0 && s[0] <= 0xef) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f))
			return 0; /* overlong, or a surrogate */
		return 3;
	}
	if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		if ((s[1] & 0xc0) != 0x80 || (s[2] & 0xc0) != 0x80 || (s[3] & 0xc0) != 0x80)
			return 0;
		if ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
			return 0;
		return 4;
	}
	return 0;
}

const char *
httpc_utf8_clean(const char *s, char **copy)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t bad = 0, n, o = 0;
	char *d;

	*copy = NULL;
	while (*p) {
		n = utf8_seq(p);
		bad += n == 0;
		p += n ? n : 1;
	}
	if (bad == 0)
		return s;
	d = malloc((size_t)(p - (const unsigned char *)s) + 2 * bad + 1);
	if (d == NULL)
		return NULL;
	for (p = (const unsigned char *)s; *p;) {
		n = utf8_seq(p);
		if (n == 0) {
			memcpy(d + o, "\xef\xbf\xbd", 3);
			o += 3;
			p++;
		} else {
			memcpy(d + o, p, n);
			o += n;
			p += n;
		}
	}
	d[o] = '\0';
	*copy = d;
	return d;
}

/* ------------------------------------------------------------------ */
/* Options and process-wide setup. */

void
httpc_opts_default(httpc_opts *o, const char *who)
{
	memset(o, 0, sizeof *o);
	o->who = who;
	o->connect_timeout_s = 10;
	o->timeout_s = 600;
	o->max_attempts = 5;
	o->backoff_s = 1;
	o->backoff_max_s = 60;
	o->retry_after_max_s = 120;
	o->max_body = HTTPC_MAX_BODY_DEFAULT;
}

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static CURLcode global_rc = CURLE_OK;

static void
global_init_once(void)
{
	global_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int
httpc_global_init(char *err, size_t errlen)
{
	const curl_version_info_data *v;

	pthread_once(&global_once, global_init_once);
	if (global_rc != CURLE_OK) {
		httpc_seterr(err, errlen, "libcurl failed to initialize: %s",
			     curl_easy_strerror(global_rc));
		return -1;
	}
	/* handles shared by threads rely on a thread-safe resolver or none */
	v = curl_version_info(CURLVERSION_NOW);
	if (v == NULL || v->version_num < 0x075500) {
		httpc_seterr(err, errlen, "libcurl %s is too old; 7.85.0 or newer is needed",
			     v ? v->version : "(unknown)");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* The handle pool. */

/* An easy handle and the multi handle it runs on (so that the wait can
 * look at a cancel flag).  The multi handle holds the connection cache:
 * the pair keeps its connection open from one call to the next. */
typedef struct conn {
	CURL *easy;
	CURLM *multi;
} conn;

struct httpc_pool {
	pthread_mutex_t lock;
	conn *idle;
	size_t n, cap;
};

static void
conn_free(conn *c)
{
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	if (c->easy != NULL)
		curl_easy_cleanup(c->easy);
	c->multi = NULL;
	c->easy = NULL;
}

httpc_pool *
httpc_pool_new(size_t cap)
{
	httpc_pool *p = calloc(1, sizeof *p);

	if (p == NULL)
		return NULL;
	p->cap = cap ? cap : 1;
	p->idle = calloc(p->cap, sizeof *p->idle);
	if (p->idle == NULL || pthread_mutex_init(&p->lock, NULL) != 0) {
		free(p->idle);
		free(p);
		return NULL;
	}
	return p;
}

void
httpc_pool_free(httpc_pool *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->n; i++)
		conn_free(&p->idle[i]);
	pthread_mutex_destroy(&p->lock);
	free(p->idle);
	free(p);
}

/* An idle pair (its connection still open), or a new one into *c.  The
 * lock is held only to pop, never during a transfer.  0, or -1 when out
 * of memory. */
static int
pool_take(httpc_pool *p, conn *c)
{
	c->easy = NULL;
	c->multi = NULL;
	pthread_mutex_lock(&p->lock);
	if (p->n > 0)
		*c = p->idle[--p->n];
	pthread_mutex_unlock(&p->lock);
	if (c->easy != NULL)
		return 0;
	c->easy = curl_easy_init();
	c->multi = curl_multi_init();
	if (c->easy == NULL || c->multi == NULL) {
		conn_free(c);
		return -1;
	}
	return 0;
}

static void
pool_put(httpc_pool *p, conn *c)
{
	pthread_mutex_lock(&p->lock);
	if (p->n < p->cap) {
		p->idle[p->n++] = *c;
		c->easy = NULL;
		c->multi = NULL;
	}
	pthread_mutex_unlock(&p->lock);
	conn_free(c);
}

/* ------------------------------------------------------------------ */
/* One attempt. */

typedef struct attempt {
	char *buf;
	size_t len, cap, max;
	int over;               /* the body passed max: transfer aborted */
	int oom;                /* no memory for the body: transfer aborted */
	int has_retry_after;
	char retry_after[64];
	char errbuf[CURL_ERROR_SIZE];
	long status;
	CURLcode cc;
	const volatile int *cancel; /* the request's flag, may be NULL */
	int cancelled;          /* the flag stopped the transfer */
} attempt;

static size_t
on_body(char *data, size_t size, size_t nmemb, void *userp)
{
	attempt *a = userp;
	size_t n = size * nmemb;

	if (n > a->max - a->len) {
		a->over = 1;
		return 0; /* curl aborts with CURLE_WRITE_ERROR */
	}
	if (a->len + n + 1 > a->cap) {
		size_t cap = a->cap ? a->cap : 16384;
		char *b;

		while (cap < a->len + n + 1)
			cap *= 2;
		b = realloc(a->buf, cap);
		if (b == NULL) {
			a->oom = 1;
			return 0;
		}
		a->buf = b;
		a->cap = cap;
	}
	memcpy(a->buf + a->len, data, n);
	a->len += n;
	a->buf[a->len] = '\0';
	return n;
}

static size_t
on_header(char *data, size_t size, size_t nmemb, void *userp)
{
	attempt *a = userp;
	size_t n = size * nmemb, k;
	static const char name[] = "retry-after:";

	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* a new response (after a 1xx): forget the previous headers */
		a->has_retry_after = 0;
	} else if (n > sizeof name - 1 && strncasecmp(data, name, sizeof name - 1) == 0) {
		const char *v = data + sizeof name - 1, *end = data + n;

		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		while (end > v && isspace((unsigned char)end[-1]))
			end--;
		k = (size_t)(end - v);
		if (k >= sizeof a->retry_after)
			k = sizeof a->retry_after - 1;
		memcpy(a->retry_after, v, k);
		a->retry_after[k] = '\0';
		a->has_retry_after = 1;
	}
	return n;
}

/* Seconds the server asked us to wait: delta-seconds or an HTTP-date;
 * -1 when absent or unreadable. */
static double
retry_after_s(const attempt *a)
{
	const char *s = a->retry_after;
	char *end;
	double d;
	time_t t;

	if (!a->has_retry_after || *s == '\0')
		return -1;
	if (isdigit((unsigned char)*s)) {
		errno = 0;
		d = strtod(s, &end);
		return errno || *end != '\0' || !isfinite(d) ? -1 : d;
	}
	t = curl_getdate(s, NULL);
	if (t == (time_t)-1)
		return -1;
	d = difftime(t, time(NULL));
	return d > 0 ? d : 0;
}

/* libcurl's progress callback: abort the transfer once the flag is set. */
static int
on_progress(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
	    curl_off_t ulnow)
{
	attempt *a = userp;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (!sf_stopping(a->cancel))
		return 0;
	a->cancelled = 1;
	return 1; /* curl ends the transfer with CURLE_ABORTED_BY_CALLBACK */
}

/* Run the transfer set up on c->easy to its end on c->multi, waking every
 * HTTPC_CANCEL_TICK_MS to look at a->cancel (curl_easy_perform would
 * wait up to a second between progress callbacks).  Sets a->cc. */
static void
transfer(conn *c, attempt *a)
{
	CURLMcode mc;
	CURLMsg *msg;
	int running = 1, left, done = 0;

	mc = curl_multi_add_handle(c->multi, c->easy);
	while (mc == CURLM_OK) {
		mc = curl_multi_perform(c->multi, &running);
		if (mc != CURLM_OK || running == 0)
			break;
		if (sf_stopping(a->cancel)) {
			a->cancelled = 1;
			break;
		}
		mc = curl_multi_poll(c->multi, NULL, 0,
				     a->cancel != NULL ? HTTPC_CANCEL_TICK_MS : 1000, NULL);
	}
	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL)
		if (msg->msg == CURLMSG_DONE && msg->easy_handle == c->easy) {
			a->cc = msg->data.result;
			done = 1;
		}
	if (!done && a->cancelled) {
		a->cc = CURLE_ABORTED_BY_CALLBACK;
	} else if (!done) {
		a->cc = mc == CURLM_OUT_OF_MEMORY ? CURLE_OUT_OF_MEMORY : CURLE_FAILED_INIT;
		snprintf(a->errbuf, sizeof a->errbuf, "libcurl's multi interface: %s",
			 curl_multi_strerror(mc));
	}
	/* mid-transfer (cancelled) this aborts it and closes the connection */
	(void)curl_multi_remove_handle(c->multi, c->easy);
}

static int
run_attempt(conn *c, const httpc_opts *o, const char *url,
	    struct curl_slist *headers, const char *body, attempt *a)
{
	CURL *h = c->easy;

	curl_easy_reset(h);
	a->errbuf[0] = '\0';
	if (curl_easy_setopt(h, CURLOPT_URL, url) != CURLE_OK
	    || curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") != CURLE_OK
	    || curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https") != CURLE_OK)
		return -1;
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h, CURLOPT_USERAGENT, "automlgen/" PACKAGE_VERSION);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	/* long generations sit idle for minutes: keep NATs from dropping us */
	curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
	if (o->connect_timeout_s > 0)
		curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
				 (long)ceil(o->connect_timeout_s * 1000));
	if (o->timeout_s > 0)
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)ceil(o->timeout_s * 1000));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, a->errbuf);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, a);
	a->cancelled = 0;
	transfer(c, a);
	a->status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &a->status);
	return 0;
}

/* ------------------------------------------------------------------ */
/* The retry loop. */

static int
retryable_status(long s)
{
	switch (s) {
	case 408: case 409: case 429: case 500: case 502: case 503: case 504: case 529:
		return 1;
	}
	return 0;
}

/* Transient transport failures: the same request may well succeed. */
static int
retryable_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_HTTP3:
	case CURLE_QUIC_CONNECT_ERROR:
		return 1;
	default:
		return 0;
	}
}

/* A small, thread-safe generator for the jitter (xorshift64*), seeded
 * per call: rand() would share hidden state between threads. */
static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static double
next_unit(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return (double)((*s * 0x2545f4914f6cdd1dULL) >> 11) / 9007199254740992.0;
}

/* Seconds to wait before retry number k (0-based): the server's
 * Retry-After when it sent one (capped), else full jitter over
 * min(cap, base * 2^k). */
static double
backoff_s(const httpc_opts *o, int k, double retry_after, uint64_t *rng)
{
	double d;

	if (retry_after >= 0)
		return retry_after < o->retry_after_max_s ? retry_after : o->retry_after_max_s;
	d = o->backoff_s * ldexp(1.0, k < 60 ? k : 60);
	if (d > o->backoff_max_s)
		d = o->backoff_max_s;
	return d * next_unit(rng);
}

/* Where the loop stands after an attempt. */
enum outcome { OUT_DONE, OUT_RETRY, OUT_FATAL };

enum err_kind { ERR_STATUS, ERR_MALFORMED, ERR_TRANSPORT, ERR_TOO_LARGE };

typedef struct last_error {
	int rc;              /* AML_E* to return */
	enum err_kind kind;
	long status;
	char detail[HTTPC_LINE];
} last_error;

static enum outcome
classify(const httpc_opts *o, attempt *a, CURL *h, httpc_parse_fn parse,
	 void *ctx, last_error *le)
{
	char *ctype = NULL;
	httpc_reply r;
	int v;

	if (a->cc != CURLE_OK) {
		le->kind = ERR_TRANSPORT;
		le->status = 0;
		if (a->over) {
			/* a server that sends this much is not answering a chat */
			le->kind = ERR_TOO_LARGE;
			snprintf(le->detail, sizeof le->detail, "larger than %zu bytes", a->max);
			le->rc = AML_EPROTO;
			return OUT_FATAL;
		}
		snprintf(le->detail, sizeof le->detail, "%s (curl error %d)",
			 a->errbuf[0] ? a->errbuf : curl_easy_strerror(a->cc), (int)a->cc);
		if (a->oom) {
			snprintf(le->detail, sizeof le->detail, "out of memory for the answer");
			le->rc = AML_ENOMEM;
			return OUT_FATAL;
		}
		switch (a->cc) {
		case CURLE_OPERATION_TIMEDOUT:
			le->rc = AML_ETIMEDOUT;
			break;
		case CURLE_OUT_OF_MEMORY:
			le->rc = AML_ENOMEM;
			break;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_URL_MALFORMAT:
			le->rc = AML_EINVAL;
			break;
		default:
			le->rc = AML_EIO;
		}
		return retryable_curl(a->cc) ? OUT_RETRY : OUT_FATAL;
	}
	curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &ctype);
	if (a->status < 200 || a->status > 299) {
		le->kind = ERR_STATUS;
		le->status = a->status;
		le->rc = AML_EPROTO;
		httpc_error_detail(a->buf, a->len, ctype, le->detail, sizeof le->detail);
		return retryable_status(a->status) ? OUT_RETRY : OUT_FATAL;
	}
	r.status = a->status;
	r.body = a->buf ? a->buf : "";
	r.len = a->len;
	r.content_type = ctype;
	le->detail[0] = '\0';
	v = parse(ctx, &r, le->detail, sizeof le->detail);
	if (v == HTTPC_OK)
		return OUT_DONE;
	le->kind = ERR_MALFORMED;
	le->status = a->status;
	le->rc = AML_EFORMAT;
	if (le->detail[0] == '\0')
		snprintf(le->detail, sizeof le->detail, "the answer could not be read");
	return v == HTTPC_RETRY ? OUT_RETRY : OUT_FATAL;
}

/* The one line of a failed call.  "after N attempts" says the request
 * was retried (or could have been, when max_attempts is 1). */
static void
report(const httpc_opts *o, const char *url, const last_error *le, int attempts,
       int retried, char *err, size_t errlen)
{
	char after[48] = "";

	if (retried)
		snprintf(after, sizeof after, " after %d attempt%s", attempts,
			 attempts == 1 ? "" : "s");
	switch (le->kind) {
	case ERR_STATUS:
		httpc_seterr(err, errlen, "%s: HTTP %ld from %s%s: %s", o->who, le->status,
			     url, after, le->detail);
		break;
	case ERR_MALFORMED:
		httpc_seterr(err, errlen, "%s: malformed answer from %s%s: %s", o->who, url,
			     after, le->detail);
		break;
	case ERR_TOO_LARGE:
		httpc_seterr(err, errlen, "%s: answer from %s%s refused: %s", o->who, url,
			     after, le->detail);
		break;
	case ERR_TRANSPORT:
		httpc_seterr(err, errlen, "%s: no answer from %s%s: %s", o->who, url, after,
			     le->detail);
		break;
	}
	scrub(err, errlen, o->secret);
}

static struct curl_slist *
build_headers(const char *const *extra)
{
	struct curl_slist *l = NULL, *t;
	static const char *const base[] = {
		"Content-Type: application/json",
		"Accept: application/json",
		"Expect:", /* no 100-continue round trip for large prompts */
	};
	size_t i;

	for (i = 0; i < sizeof base / sizeof base[0]; i++) {
		t = curl_slist_append(l, base[i]);
		if (t == NULL)
			goto oom;
		l = t;
	}
	for (i = 0; extra && extra[i]; i++) {
		t = curl_slist_append(l, extra[i]);
		if (t == NULL)
			goto oom;
		l = t;
	}
	return l;
oom:
	curl_slist_free_all(l);
	return NULL;
}

/* The one line of a call the run stopped. */
static int
report_cancel(const httpc_opts *o, char *err, size_t errlen)
{
	httpc_seterr(err, errlen, "%s: " SF_CANCELLED, o->who);
	return AML_ECANCELED;
}

int
httpc_post_json(httpc_pool *pool, const httpc_opts *o, const char *url,
		const char *const *headers, const char *body, uint64_t seed,
		const volatile int *cancel, httpc_parse_fn parse, void *ctx, char *err,
		size_t errlen)
{
	struct curl_slist *hl;
	last_error le;
	attempt a;
	uint64_t rng;
	struct timespec now;
	int k, max = o->max_attempts > 0 ? o->max_attempts : 1, rc = AML_OK;
	enum outcome out = OUT_FATAL;

	if (sf_stopping(cancel))
		return report_cancel(o, err, errlen);
	hl = build_headers(headers);
	if (hl == NULL) {
		httpc_seterr(err, errlen, "%s: out of memory", o->who);
		return AML_ENOMEM;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	rng = mix64(seed ^ mix64((uint64_t)now.tv_nsec ^ ((uint64_t)now.tv_sec << 30)
				 ^ (uint64_t)(uintptr_t)&a));
	if (rng == 0)
		rng = 1;
	memset(&le, 0, sizeof le);
	memset(&a, 0, sizeof a);
	a.cancel = cancel;
	for (k = 0; k < max; k++) {
		conn c;

		if (pool_take(pool, &c) != 0) {
			httpc_seterr(err, errlen, "%s: out of memory", o->who);
			rc = AML_ENOMEM;
			break;
		}
		a.len = 0;
		a.over = 0;
		a.oom = 0;
		a.has_retry_after = 0;
		a.max = o->max_body ? o->max_body : HTTPC_MAX_BODY_DEFAULT;
		if (run_attempt(&c, o, url, hl, body, &a) != 0) {
			pool_put(pool, &c);
			httpc_seterr(err, errlen, "%s: cannot set up a request to %s: libcurl "
				     "refused the URL or an option (out of memory, or built "
				     "without http/https)", o->who, url);
			scrub(err, errlen, o->secret);
			rc = AML_EINVAL;
			break;
		}
		if (a.cancelled) {
			pool_put(pool, &c);
			rc = report_cancel(o, err, errlen);
			break;
		}
		out = classify(o, &a, c.easy, parse, ctx, &le);
		pool_put(pool, &c);
		if (out == OUT_DONE) {
			rc = AML_OK;
			break;
		}
		if (out == OUT_FATAL || k + 1 == max) {
			report(o, url, &le, k + 1, out == OUT_RETRY || k > 0, err, errlen);
			rc = le.rc;
			break;
		}
		if (sf_sleep(backoff_s(o, k, retry_after_s(&a), &rng), cancel,
			     HTTPC_CANCEL_TICK_MS / 1000.0)) {
			rc = report_cancel(o, err, errlen);
			break;
		}
	}
	free(a.buf);
	curl_slist_free_all(hl);
	return rc;
}
