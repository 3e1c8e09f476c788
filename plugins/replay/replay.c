/*
 * replay.c — the provider that answers from a cassette: the JSON lines a
 * run wrote with llm.record (see core/llm.h for the format), or a file
 * written by hand for tests.  A recorded run is reproduced without a
 * model and without paying again; a recorded failure is replayed as the
 * same failure.
 *
 * A request takes the first unused entry, in file order, that matches it:
 *   1. exactly: the same role, system prompt, user prompt and structured
 *      request;
 *   2. loosely (match: loose, the default): the same after every run of
 *      digits is read as one '#', since prompts state the time left and
 *      the time stamps of the run they were made in;
 *   3. a hand-written entry with no prompts at all, only "operator" (or
 *      nothing): it answers any request of that operator (or any).
 * Each entry answers once.  A request nothing matches is a clear error
 * naming the cassette and the request.  A request whose cancel flag is
 * set (ABI 1.3: the run is stopping) takes no entry: AML_ECANCELED.
 */
#include <ctype.h>
#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <automlgen/plugin.h>

#include "stopflag.h"

typedef struct entry {
	char *role;
	char *exact;       /* role \x1f system \x1f user \x1f structured */
	char *loose;       /* exact with digit runs as '#' */
	char *op;          /* wildcard entries: the operator, NULL: any */
	int wildcard;
	char *text;        /* the answer, or NULL for a recorded failure */
	char *model;
	uint64_t tokens_in, tokens_out;
	char *error;
	int rc;
	int used;
} entry;

typedef struct replay {
	const aml_host *host;
	char *path;
	int loose;
	entry *v;
	size_t n;
	pthread_mutex_t lock;
} replay;

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	for (; *err; err++) /* one line */
		if (*err == '\n' || *err == '\r')
			*err = ' ';
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* The matching key of a request's parts; NULL parts count as "". */
static char *
make_key(const char *role, const char *system, const char *user, const char *structured)
{
	size_t n = strlen(role) + (system ? strlen(system) : 0) + (user ? strlen(user) : 0)
		+ (structured ? strlen(structured) : 0) + 4;
	char *k = malloc(n);

	if (k)
		snprintf(k, n, "%s\x1f%s\x1f%s\x1f%s", role, system ? system : "",
			 user ? user : "", structured ? structured : "");
	return k;
}

/* key with every run of digits (and decimal points inside one) as '#'. */
static char *
loosen(const char *key)
{
	char *out = malloc(strlen(key) + 1), *o = out;
	const char *p = key;

	if (out == NULL)
		return NULL;
	while (*p) {
		if (isdigit((unsigned char)*p)) {
			while (isdigit((unsigned char)*p)
			       || (*p == '.' && isdigit((unsigned char)p[1])))
				p++;
			*o++ = '#';
		} else {
			*o++ = *p++;
		}
	}
	*o = '\0';
	return out;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

/* The "operator" of a structured request, malloc()ed, or NULL. */
static char *
request_operator(const char *structured)
{
	json_object *j = structured ? json_tokener_parse(structured) : NULL;
	char *op = dup_or_null(j ? jstr(j, "operator") : NULL);

	json_object_put(j);
	return op;
}

static int
load_entry(entry *e, json_object *o, char *why, size_t whylen)
{
	json_object *a, *v;
	const char *role = jstr(o, "role");

	memset(e, 0, sizeof *e);
	e->role = strdup(role ? role : "code");
	if (json_object_object_get_ex(o, "answer", &a)) {
		if (!json_object_is_type(a, json_type_object) || jstr(a, "text") == NULL) {
			snprintf(why, whylen, "\"answer\" must be an object with a \"text\" string");
			return -1;
		}
		e->text = strdup(jstr(a, "text"));
		e->model = dup_or_null(jstr(a, "model"));
		if (json_object_object_get_ex(a, "tokens_in", &v))
			e->tokens_in = (uint64_t)json_object_get_int64(v);
		if (json_object_object_get_ex(a, "tokens_out", &v))
			e->tokens_out = (uint64_t)json_object_get_int64(v);
	} else if (jstr(o, "error")) {
		e->error = strdup(jstr(o, "error"));
		e->rc = json_object_object_get_ex(o, "rc", &v) ? json_object_get_int(v) : AML_EPLUGIN;
		if (e->rc >= 0)
			e->rc = AML_EPLUGIN;
	} else {
		snprintf(why, whylen, "an entry needs \"answer\" or \"error\"");
		return -1;
	}
	if (jstr(o, "system") == NULL && jstr(o, "user") == NULL && jstr(o, "structured") == NULL) {
		e->wildcard = 1;
		e->op = dup_or_null(jstr(o, "operator"));
	} else {
		e->exact = make_key(e->role, jstr(o, "system"), jstr(o, "user"), jstr(o, "structured"));
		e->loose = e->exact ? loosen(e->exact) : NULL;
		if (e->loose == NULL) {
			snprintf(why, whylen, "out of memory");
			return -1;
		}
	}
	return 0;
}

static void
free_entry(entry *e)
{
	free(e->role);
	free(e->exact);
	free(e->loose);
	free(e->op);
	free(e->text);
	free(e->model);
	free(e->error);
}

static void
rp_free(replay *r)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		free_entry(&r->v[i]);
	free(r->v);
	free(r->path);
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static int
load_cassette(replay *r, char *err, size_t errlen)
{
	FILE *f = fopen(r->path, "re");
	char *line = NULL, why[200];
	size_t cap = 0, lineno = 0, alloc = 0;
	ssize_t len;
	int rc = AML_OK;

	if (f == NULL) {
		seterr(err, errlen, "replay: cannot open the cassette %s: %s", r->path,
		       strerror(errno));
		return AML_EIO;
	}
	while (rc == AML_OK && (len = getline(&line, &cap, f)) >= 0) {
		json_object *o;
		enum json_tokener_error jerr;

		lineno++;
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		o = json_tokener_parse_verbose(line, &jerr);
		if (o == NULL || !json_object_is_type(o, json_type_object)) {
			seterr(err, errlen, "replay: %s:%zu: not a JSON object (%s)", r->path, lineno,
			       o ? "another JSON value" : json_tokener_error_desc(jerr));
			json_object_put(o);
			rc = AML_EFORMAT;
			break;
		}
		if (r->n == alloc) {
			size_t na = alloc ? alloc * 2 : 64;
			entry *nv = realloc(r->v, na * sizeof *nv);

			if (nv == NULL) {
				json_object_put(o);
				rc = AML_ENOMEM;
				seterr(err, errlen, "replay: out of memory");
				break;
			}
			r->v = nv;
			alloc = na;
		}
		if (load_entry(&r->v[r->n], o, why, sizeof why) != 0) {
			seterr(err, errlen, "replay: %s:%zu: %s", r->path, lineno, why);
			rc = AML_EFORMAT;
		}
		r->n++; /* freed with the rest even when incomplete */
		json_object_put(o);
	}
	free(line);
	fclose(f);
	if (rc == AML_OK && r->n == 0) {
		seterr(err, errlen, "replay: the cassette %s holds no entries", r->path);
		rc = AML_EINVAL;
	}
	return rc;
}

static int
rp_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	const char *path, *match;
	replay *r;
	int rc;

	if (host == NULL || host->abi_major != AML_ABI_MAJOR) {
		seterr(err, errlen, "replay: host ABI does not match %d", AML_ABI_MAJOR);
		return AML_EABI;
	}
	path = host->param(self, "cassette");
	match = host->param(self, "match");
	if (path == NULL || path[0] == '\0') {
		seterr(err, errlen, "replay: set provider.cassette to the file a run recorded "
		       "with -o llm.record=FILE");
		return AML_EINVAL;
	}
	if (match && strcmp(match, "exact") != 0 && strcmp(match, "loose") != 0) {
		seterr(err, errlen, "replay: match must be exact or loose, got '%s'", match);
		return AML_EINVAL;
	}
	r = calloc(1, sizeof *r);
	if (r == NULL || (r->path = strdup(path)) == NULL) {
		free(r);
		seterr(err, errlen, "replay: out of memory");
		return AML_ENOMEM;
	}
	r->host = host;
	r->loose = match == NULL || strcmp(match, "loose") == 0;
	pthread_mutex_init(&r->lock, NULL);
	rc = load_cassette(r, err, errlen);
	if (rc != AML_OK) {
		rp_free(r);
		return rc;
	}
	*state = r;
	return AML_OK;
}

static void
rp_fini(void *state)
{
	if (state)
		rp_free(state);
}

/* The first unused entry that matches, by the rules at the top.  Called
 * with the lock held. */
static entry *
find(replay *r, const char *role, const char *exact, const char *loose, const char *op)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (!r->v[i].used && r->v[i].exact && strcmp(r->v[i].exact, exact) == 0)
			return &r->v[i];
	for (i = 0; r->loose && i < r->n; i++)
		if (!r->v[i].used && r->v[i].loose && strcmp(r->v[i].loose, loose) == 0)
			return &r->v[i];
	for (i = 0; i < r->n; i++)
		if (!r->v[i].used && r->v[i].wildcard && strcmp(r->v[i].role, role) == 0
		    && (r->v[i].op == NULL || (op && strcmp(r->v[i].op, op) == 0)))
			return &r->v[i];
	return NULL;
}

static int
rp_complete(void *state, const aml_llm_request *req, aml_llm_response *resp,
	    char *err, size_t errlen)
{
	replay *r = state;
	const char *role = req->role ? req->role : "code";
	char *exact, *loose = NULL, *op;
	entry *e;
	int rc = AML_OK;

	/* ABI 1.3: the run is stopping; the entry stays for the resumed run */
	if (sf_stopping(req->cancel)) {
		seterr(err, errlen, "replay: " SF_CANCELLED);
		return AML_ECANCELED;
	}
	exact = make_key(role, req->system, req->user, req->structured);
	loose = exact ? loosen(exact) : NULL;
	op = request_operator(req->structured);
	if (loose == NULL) {
		free(exact);
		free(op);
		seterr(err, errlen, "replay: out of memory");
		return AML_ENOMEM;
	}
	pthread_mutex_lock(&r->lock);
	e = find(r, role, exact, loose, op);
	if (e)
		e->used = 1;
	pthread_mutex_unlock(&r->lock);
	if (e == NULL) {
		const char *u = req->user ? req->user : "";

		seterr(err, errlen, "replay: no recorded answer left in %s for this request "
		       "(role %s, operator %s, node %u, prompt starting '%.60s')", r->path, role,
		       op ? op : "unknown", (unsigned)req->node_id, u);
		rc = AML_ENOTFOUND;
	} else if (e->text == NULL) {
		seterr(err, errlen, "%s", e->error);
		rc = e->rc;
	} else {
		resp->text = r->host->mem_strdup(e->text);
		resp->model = e->model ? r->host->mem_strdup(e->model) : NULL;
		resp->tokens_in = e->tokens_in;
		resp->tokens_out = e->tokens_out;
		if (resp->text == NULL || (e->model && resp->model == NULL)) {
			r->host->mem_free(resp->text);
			r->host->mem_free(resp->model);
			resp->text = resp->model = NULL;
			seterr(err, errlen, "replay: out of memory");
			rc = AML_ENOMEM;
		}
	}
	free(exact);
	free(loose);
	free(op);
	return rc;
}

static const aml_provider_ops rp_ops = {rp_complete};

AML_PLUGIN_DEFINE(AML_KIND_PROVIDER, "replay", "1.0.0", rp_init, rp_fini, &rp_ops);
