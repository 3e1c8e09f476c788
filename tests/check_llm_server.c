/*
 * check_llm_server.c — the fake LLM server (tests/llm_server.py) through
 * its C helper and libcurl: both wire formats, the request checks the real
 * APIs make, the fault schedule in order, and parallel answers.  The
 * provider plugins' tests stand on this server, so what they rely on is
 * pinned here.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "llm_server.h"
#include "mock_host.h"

#define OPENAI_OK "{\"model\":\"gpt-4o\",\"temperature\":0.2,\"messages\":[" \
	"{\"role\":\"system\",\"content\":\"You are a Kaggle grandmaster.\"}," \
	"{\"role\":\"user\",\"content\":\"Task: iris (multiclass classification).\\n" \
	"Metric: accuracy, higher is better.\\n\"}]}"
#define ANTHROPIC_OK "{\"model\":\"claude-sonnet-4-5\",\"max_tokens\":4096," \
	"\"system\":\"You are a Kaggle grandmaster.\"," \
	"\"messages\":[{\"role\":\"user\",\"content\":\"Metric: rmse, lower is better.\\n\"}]}"

static const char *const openai_hdrs[] = {"Authorization: Bearer test-key", NULL};
static const char *const anthropic_hdrs[] = {"x-api-key: test-key",
					     "anthropic-version: 2023-06-01", NULL};

/* One HTTP answer as the test sees it. */
typedef struct {
	CURLcode rc;           /* transport result */
	long status;           /* HTTP status (0 when none came) */
	char *body;            /* the body (owned) */
	size_t len;
	char retry_after[32];  /* the Retry-After header, "" when absent */
	char ctype[128];       /* the Content-Type header */
} answer;

static size_t
on_body(char *p, size_t size, size_t n, void *userdata)
{
	answer *a = userdata;
	char *grown = realloc(a->body, a->len + size * n + 1);

	if (grown == NULL)
		return 0;
	a->body = grown;
	memcpy(a->body + a->len, p, size * n);
	a->len += size * n;
	a->body[a->len] = '\0';
	return size * n;
}

/* Copy the value of header line "Name: value\r\n" to buf when it is name. */
static void
header_value(const char *line, size_t len, const char *name, char *buf, size_t cap)
{
	size_t nl = strlen(name), vl;

	if (len <= nl + 1 || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return;
	line += nl + 1;
	len -= nl + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == '\r' || line[len - 1] == '\n'))
		len--;
	vl = len < cap - 1 ? len : cap - 1;
	memcpy(buf, line, vl);
	buf[vl] = '\0';
}

static size_t
on_header(char *p, size_t size, size_t n, void *userdata)
{
	answer *a = userdata;

	header_value(p, size * n, "Retry-After", a->retry_after, sizeof a->retry_after);
	header_value(p, size * n, "Content-Type", a->ctype, sizeof a->ctype);
	return size * n;
}

/* POST json to the server's base URL + path with extra header lines,
 * giving up after timeout_ms. */
static answer
post_within(const aml_test_server *s, const char *path, const char *const *hdrs,
	    const char *json, long timeout_ms)
{
	answer a;
	char url[256];
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	CURL *c = curl_easy_init();

	memset(&a, 0, sizeof a);
	ck_assert_ptr_nonnull(c);
	for (; hdrs && *hdrs; hdrs++)
		h = curl_slist_append(h, *hdrs);
	snprintf(url, sizeof url, "%s%s", s->url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &a);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &a);
	a.rc = curl_easy_perform(c);
	if (a.rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &a.status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	return a;
}

static answer
post(const aml_test_server *s, const char *path, const char *const *hdrs, const char *json)
{
	return post_within(s, path, hdrs, json, 30000);
}

static answer
openai(const aml_test_server *s, const char *json)
{
	return post(s, "/chat/completions", openai_hdrs, json);
}

static void
answer_free(answer *a)
{
	free(a->body);
	a->body = NULL;
}

/* The string at a path of keys/indexes in a parsed body, e.g.
 * get_str(o, "error", "code", NULL); NULL when absent.  A key "#N" indexes
 * an array. */
static const char *
get_str(json_object *o, ...)
{
	va_list ap;
	const char *k;

	va_start(ap, o);
	while (o && (k = va_arg(ap, const char *)) != NULL) {
		if (k[0] == '#')
			o = json_object_is_type(o, json_type_array)
				    ? json_object_array_get_idx(o, (size_t)atoi(k + 1)) : NULL;
		else if (!json_object_object_get_ex(o, k, &o))
			o = NULL;
	}
	va_end(ap);
	return o ? json_object_get_string(o) : NULL;
}

static json_object *
parse(const answer *a)
{
	json_object *o = a->body ? json_tokener_parse(a->body) : NULL;

	ck_assert_msg(o != NULL, "not JSON: %.300s", a->body ? a->body : "(none)");
	return o;
}

START_TEST(test_openai_ok)
{
	aml_test_server s;
	answer a;
	json_object *o, *usage, *v;
	const char *text;
	long p, c, t;

	aml_test_server_start(&s, NULL);
	a = openai(&s, OPENAI_OK);
	ck_assert_int_eq(a.rc, CURLE_OK);
	ck_assert_int_eq(a.status, 200);
	o = parse(&a);
	ck_assert_str_eq(get_str(o, "object", NULL), "chat.completion");
	ck_assert_str_eq(get_str(o, "model", NULL), "gpt-4o");
	ck_assert_str_eq(get_str(o, "choices", "#0", "finish_reason", NULL), "stop");
	ck_assert_str_eq(get_str(o, "choices", "#0", "message", "role", NULL), "assistant");
	text = get_str(o, "choices", "#0", "message", "content", NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_nonnull(strstr(text, "```python\n"));
	ck_assert_ptr_nonnull(strstr(text, "Final Validation Score"));
	ck_assert_ptr_nonnull(strstr(text, "'metric': 'accuracy'")); /* read from the prompt */
	ck_assert_ptr_null(strstr(strstr(text, "```python\n") + 10, "```python"));
	ck_assert(json_object_object_get_ex(o, "usage", &usage));
	ck_assert(json_object_object_get_ex(usage, "prompt_tokens", &v));
	p = json_object_get_int(v);
	ck_assert(json_object_object_get_ex(usage, "completion_tokens", &v));
	c = json_object_get_int(v);
	ck_assert(json_object_object_get_ex(usage, "total_tokens", &v));
	t = json_object_get_int(v);
	ck_assert_int_gt(p, 1);
	ck_assert_int_eq(c, (long)strlen(text) / 4 + 1);
	ck_assert_int_eq(t, p + c);
	json_object_put(o);
	answer_free(&a);

	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 1);
	ck_assert_int_eq(aml_test_server_fault_count(&s, "ok"), 1);
	aml_test_server_stop(&s);
}
END_TEST

START_TEST(test_anthropic)
{
	static const char *const no_version[] = {"x-api-key: test-key", NULL};
	static const char *const no_key[] = {"anthropic-version: 2023-06-01", NULL};
	aml_test_server s;
	answer a;
	json_object *o;

	aml_test_server_start(&s, NULL);
	a = post(&s, "/messages", no_version, ANTHROPIC_OK);
	ck_assert_int_eq(a.status, 400);
	o = parse(&a);
	ck_assert_str_eq(get_str(o, "type", NULL), "error");
	ck_assert_str_eq(get_str(o, "error", "type", NULL), "invalid_request_error");
	ck_assert_ptr_nonnull(strstr(get_str(o, "error", "message", NULL), "anthropic-version"));
	json_object_put(o);
	answer_free(&a);

	a = post(&s, "/messages", no_key, ANTHROPIC_OK);
	ck_assert_int_eq(a.status, 401);
	o = parse(&a);
	ck_assert_str_eq(get_str(o, "error", "type", NULL), "authentication_error");
	json_object_put(o);
	answer_free(&a);

	/* a system message belongs in the top-level "system" field */
	a = post(&s, "/messages", anthropic_hdrs,
		 "{\"model\":\"claude-x\",\"max_tokens\":100,\"messages\":["
		 "{\"role\":\"system\",\"content\":\"be brief\"},"
		 "{\"role\":\"user\",\"content\":\"hi\"}]}");
	ck_assert_int_eq(a.status, 400);
	answer_free(&a);
	a = post(&s, "/messages", anthropic_hdrs,
		 "{\"model\":\"claude-x\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
	ck_assert_int_eq(a.status, 400); /* max_tokens is required */
	answer_free(&a);

	a = post(&s, "/messages", anthropic_hdrs, ANTHROPIC_OK);
	ck_assert_int_eq(a.status, 200);
	o = parse(&a);
	ck_assert_str_eq(get_str(o, "type", NULL), "message");
	ck_assert_str_eq(get_str(o, "stop_reason", NULL), "end_turn");
	ck_assert_str_eq(get_str(o, "content", "#0", "type", NULL), "text");
	ck_assert_ptr_nonnull(strstr(get_str(o, "content", "#0", "text", NULL), "```python\n"));
	ck_assert_ptr_nonnull(get_str(o, "usage", "input_tokens", NULL));
	ck_assert_ptr_nonnull(get_str(o, "usage", "output_tokens", NULL));
	json_object_put(o);
	answer_free(&a);

	/* refused requests take no entry of the schedule */
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 5);
	ck_assert_int_eq(aml_test_server_fault_count(&s, "invalid"), 3);
	ck_assert_int_eq(aml_test_server_fault_count(&s, "unauthorized"), 1);
	ck_assert_int_eq(aml_test_server_fault_count(&s, "ok"), 1);
	aml_test_server_stop(&s);
}
END_TEST

START_TEST(test_fault_schedule)
{
	static const char *const args[] = {"--faults", "429,truncated,empty,500,nocode",
					   "--retry-after", "7", NULL};
	aml_test_server s;
	answer a;
	json_object *o, *choices;
	const char *text;

	aml_test_server_start(&s, args);
	/* a refused request first: it must not shift the schedule */
	a = openai(&s, "{\"model\":\"gpt-4o\",\"messages\":[]}");
	ck_assert_int_eq(a.status, 400);
	answer_free(&a);

	a = openai(&s, OPENAI_OK);
	ck_assert_int_eq(a.status, 429);
	ck_assert_str_eq(a.retry_after, "7");
	o = parse(&a);
	ck_assert_str_eq(get_str(o, "error", "code", NULL), "rate_limit_exceeded");
	json_object_put(o);
	answer_free(&a);

	a = openai(&s, OPENAI_OK);
	ck_assert_int_eq(a.rc, CURLE_OK); /* Content-Length matches the cut body */
	ck_assert_int_eq(a.status, 200);
	ck_assert_ptr_null(json_tokener_parse(a.body));
	answer_free(&a);

	a = openai(&s, OPENAI_OK);
	ck_assert_int_eq(a.status, 200);
	o = parse(&a);
	ck_assert(json_object_object_get_ex(o, "choices", &choices));
	ck_assert_uint_eq(json_object_array_length(choices), 0);
	json_object_put(o);
	answer_free(&a);

	a = openai(&s, OPENAI_OK);
	ck_assert_int_eq(a.status, 500);
	ck_assert_str_eq(a.retry_after, "");
	answer_free(&a);

	a = openai(&s, OPENAI_OK);
	ck_assert_int_eq(a.status, 200);
	o = parse(&a);
	text = get_str(o, "choices", "#0", "message", "content", NULL);
	ck_assert_ptr_nonnull(text);
	ck_assert_ptr_null(strstr(text, "```"));
	json_object_put(o);
	answer_free(&a);

	a = openai(&s, OPENAI_OK); /* the schedule is exhausted */
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
	ck_assert_int_eq(aml_test_server_fault_count(&s, "429"), 1);
	ck_assert_int_eq(aml_test_server_fault_count(&s, "ok"), 1);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 7);

	/* a new schedule, cycling: HTML error page, dropped connection, again */
	ck_assert_int_eq(aml_test_server_post(&s, "/_faults",
					      "{\"faults\":[\"html\",\"reset\"],\"cycle\":true}"), 200);
	ck_assert_int_eq(aml_test_server_post(&s, "/_faults", "{\"faults\":[\"nope\"]}"), 400);
	ck_assert_int_eq(aml_test_server_post(&s, "/_reset", "{}"), 200);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), 0);
	a = post(&s, "/messages", anthropic_hdrs, ANTHROPIC_OK);
	ck_assert_int_eq(a.status, 502);
	ck_assert_ptr_nonnull(strstr(a.ctype, "text/html"));
	ck_assert_ptr_nonnull(strstr(a.body, "Bad Gateway"));
	answer_free(&a);
	a = post(&s, "/messages", anthropic_hdrs, ANTHROPIC_OK);
	ck_assert_int_ne(a.rc, CURLE_OK);
	ck_assert_int_eq(a.status, 0);
	answer_free(&a);
	a = post(&s, "/messages", anthropic_hdrs, ANTHROPIC_OK);
	ck_assert_int_eq(a.status, 502);
	answer_free(&a);
	ck_assert_int_eq(aml_test_server_fault_count(&s, "html"), 2);
	ck_assert_int_eq(aml_test_server_fault_count(&s, "reset"), 1);

	/* Anthropic's overload, and a login page served with status 200 */
	ck_assert_int_eq(aml_test_server_post(&s, "/_faults",
					      "{\"faults\":[\"529\",\"html200\"]}"), 200);
	a = post(&s, "/messages", anthropic_hdrs, ANTHROPIC_OK);
	ck_assert_int_eq(a.status, 529);
	ck_assert_str_eq(a.retry_after, "7");
	o = parse(&a);
	ck_assert_str_eq(get_str(o, "error", "type", NULL), "overloaded_error");
	json_object_put(o);
	answer_free(&a);
	a = post(&s, "/messages", anthropic_hdrs, ANTHROPIC_OK);
	ck_assert_int_eq(a.status, 200);
	ck_assert_ptr_nonnull(strstr(a.ctype, "text/html"));
	ck_assert_ptr_null(json_tokener_parse(a.body));
	answer_free(&a);
	aml_test_server_stop(&s);
}
END_TEST

START_TEST(test_reasoning_quirk)
{
	aml_test_server s;
	answer a;
	json_object *o;

	aml_test_server_start(&s, NULL);
	a = openai(&s, "{\"model\":\"o3-mini\",\"temperature\":0.2,"
		       "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
	ck_assert_int_eq(a.status, 400);
	o = parse(&a);
	ck_assert_str_eq(get_str(o, "error", "type", NULL), "invalid_request_error");
	ck_assert_str_eq(get_str(o, "error", "param", NULL), "temperature");
	ck_assert_str_eq(get_str(o, "error", "code", NULL), "unsupported_value");
	ck_assert_ptr_nonnull(strstr(get_str(o, "error", "message", NULL),
				     "does not support 0.2 with this model"));
	json_object_put(o);
	answer_free(&a);

	a = openai(&s, "{\"model\":\"gpt-5\",\"max_tokens\":100,"
		       "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
	ck_assert_int_eq(a.status, 400);
	o = parse(&a);
	ck_assert_str_eq(get_str(o, "error", "param", NULL), "max_tokens");
	ck_assert_ptr_nonnull(strstr(get_str(o, "error", "message", NULL),
				     "max_completion_tokens"));
	json_object_put(o);
	answer_free(&a);

	a = openai(&s, "{\"model\":\"o3-mini\",\"temperature\":1,\"max_completion_tokens\":100,"
		       "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
	a = openai(&s, OPENAI_OK); /* temperature 0.2 is fine for gpt-4o */
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
	aml_test_server_stop(&s);
}
END_TEST

START_TEST(test_require_key)
{
	static const char *const args[] = {"--require-key", "sekrit", NULL};
	static const char *const good[] = {"Authorization: Bearer sekrit", NULL};
	aml_test_server s;
	answer a;

	aml_test_server_start(&s, args);
	a = openai(&s, OPENAI_OK); /* "test-key" is not the key */
	ck_assert_int_eq(a.status, 401);
	answer_free(&a);
	a = post(&s, "/chat/completions", good, OPENAI_OK);
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
	a = post(&s, "/nowhere", good, OPENAI_OK);
	ck_assert_int_eq(a.status, 404);
	answer_free(&a);
	aml_test_server_stop(&s);
}
END_TEST

START_TEST(test_slow)
{
	static const char *const args[] = {"--faults", "slow", "--slow-s", "60", NULL};
	aml_test_server s;
	answer a;

	aml_test_server_start(&s, args);
	a = post_within(&s, "/chat/completions", openai_hdrs, OPENAI_OK, 300);
	ck_assert_int_eq(a.rc, CURLE_OPERATION_TIMEDOUT);
	answer_free(&a);
	/* counted at once; still sleeping; not in the way of the next request */
	ck_assert_int_eq(aml_test_server_fault_count(&s, "slow"), 1);
	ck_assert_int_eq(aml_test_server_stat(&s, "in_flight"), 1);
	a = openai(&s, OPENAI_OK);
	ck_assert_int_eq(a.status, 200);
	answer_free(&a);
	aml_test_server_stop(&s); /* must not wait for the sleeper */
}
END_TEST

#define N_PARALLEL 4

typedef struct {
	const aml_test_server *s;
	pthread_barrier_t *go;
	long status;
} parallel_arg;

static void *
parallel_request(void *p)
{
	parallel_arg *arg = p;
	answer a;

	pthread_barrier_wait(arg->go);
	a = openai(arg->s, OPENAI_OK);
	arg->status = a.status;
	answer_free(&a);
	return NULL;
}

START_TEST(test_parallel)
{
	static const char *const args[] = {"--latency", "0.5", NULL};
	aml_test_server s;
	pthread_t th[N_PARALLEL];
	parallel_arg arg[N_PARALLEL];
	pthread_barrier_t go;
	int i;

	aml_test_server_start(&s, args);
	pthread_barrier_init(&go, NULL, N_PARALLEL);
	for (i = 0; i < N_PARALLEL; i++) {
		arg[i].s = &s;
		arg[i].go = &go;
		arg[i].status = 0;
		ck_assert_int_eq(pthread_create(&th[i], NULL, parallel_request, &arg[i]), 0);
	}
	for (i = 0; i < N_PARALLEL; i++)
		pthread_join(th[i], NULL);
	pthread_barrier_destroy(&go);
	for (i = 0; i < N_PARALLEL; i++)
		ck_assert_int_eq(arg[i].status, 200);
	ck_assert_int_eq(aml_test_server_stat(&s, "requests"), N_PARALLEL);
	ck_assert_int_eq(aml_test_server_stat(&s, "max_in_flight"), N_PARALLEL);
	ck_assert_int_eq(aml_test_server_stat(&s, "in_flight"), 0);
	aml_test_server_stop(&s);
}
END_TEST

static Suite *
llm_server_suite(void)
{
	Suite *s = suite_create("llm_server");
	TCase *tc = tcase_create("server");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_openai_ok);
	tcase_add_test(tc, test_anthropic);
	tcase_add_test(tc, test_fault_schedule);
	tcase_add_test(tc, test_reasoning_quirk);
	tcase_add_test(tc, test_require_key);
	tcase_add_test(tc, test_slow);
	tcase_add_test(tc, test_parallel);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = aml_test_main(llm_server_suite());
	curl_global_cleanup();
	return rc;
}
