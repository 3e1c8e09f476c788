/*
 * llm_server.c — see llm_server.h.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <check.h>
#include <curl/curl.h>
#include <json-c/json.h>

#include "llm_server.h"
#include "mock_host.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif

#define START_WAIT_S 20
#define STOP_WAIT_S 5
#define MAX_ARGS 64

static void
sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static const char *
env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && v[0] ? v : fallback;
}

/* The port from the port file, 0 while it is not there yet. */
static int
read_port(const char *path)
{
	FILE *f = fopen(path, "r");
	int port = 0;

	if (f == NULL)
		return 0;
	if (fscanf(f, "%d", &port) != 1)
		port = 0;
	fclose(f);
	return port;
}

void
aml_test_server_start(aml_test_server *s, const char *const *args)
{
	const char *python = env_or("AML_PYTHON", "/usr/bin/python3");
	char script[4096], portfile[4200];
	const char *argv[MAX_ARGS];
	size_t n = 0, i;
	long waited;

	memset(s, 0, sizeof *s);
	snprintf(script, sizeof script, "%s/tests/llm_server.py", env_or("AML_SRCDIR", SRCDIR));
	ck_assert_msg(access(script, R_OK) == 0, "cannot read %s (set AML_SRCDIR)", script);
	s->dir = aml_test_tmpdir();
	snprintf(portfile, sizeof portfile, "%s/port", s->dir);
	argv[n++] = python;
	argv[n++] = script;
	argv[n++] = "--port-file";
	argv[n++] = portfile;
	for (i = 0; args && args[i]; i++) {
		ck_assert_msg(n < MAX_ARGS - 1, "too many server arguments");
		argv[n++] = args[i];
	}
	argv[n] = NULL;

	fflush(NULL);
	s->pid = fork();
	ck_assert_msg(s->pid >= 0, "fork: %s", strerror(errno));
	if (s->pid == 0) {
		/* stdout carries the suite's TAP stream: keep the server off it */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execv(python, (char *const *)argv);
		fprintf(stderr, "exec %s: %s\n", python, strerror(errno));
		_exit(127);
	}
	for (waited = 0; waited < START_WAIT_S * 1000L; waited += 20) {
		int status;

		s->port = read_port(portfile);
		if (s->port > 0)
			break;
		if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
			s->pid = 0;
			aml_test_server_stop(s);
			ck_abort_msg("the fake LLM server (%s %s) exited with status %d before "
				     "listening", python, script,
				     WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
		}
		sleep_ms(20);
	}
	if (s->port <= 0) {
		aml_test_server_stop(s);
		ck_abort_msg("the fake LLM server did not write its port within %d s",
			     START_WAIT_S);
	}
	snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/v1", s->port);
	curl_global_init(CURL_GLOBAL_DEFAULT); /* balanced in aml_test_server_stop() */
}

void
aml_test_server_stop(aml_test_server *s)
{
	if (s->pid > 0) {
		int status;
		long waited = 0;
		pid_t r;

		kill(s->pid, SIGTERM);
		while ((r = waitpid(s->pid, &status, WNOHANG)) == 0 &&
		       waited < STOP_WAIT_S * 1000L) {
			sleep_ms(20);
			waited += 20;
		}
		if (r == 0) {
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
		}
		s->pid = 0;
	}
	if (s->port > 0)
		curl_global_cleanup();
	if (s->dir) {
		aml_test_rmtree(s->dir);
		free(s->dir);
		s->dir = NULL;
	}
	s->port = 0;
}

typedef struct {
	char *s;
	size_t len;
} body_buf;

static size_t
on_body(char *p, size_t size, size_t n, void *userdata)
{
	body_buf *b = userdata;
	size_t add = size * n;
	char *grown = realloc(b->s, b->len + add + 1);

	if (grown == NULL)
		return 0;
	b->s = grown;
	memcpy(b->s + b->len, p, add);
	b->len += add;
	b->s[b->len] = '\0';
	return add;
}

/* One request to the server's root; the body (transferred) in *body when
 * body is not NULL.  Returns the HTTP status. */
static long
request(const aml_test_server *s, const char *path, const char *json, char **body)
{
	char url[4096];
	body_buf b = {NULL, 0};
	struct curl_slist *hdr = NULL;
	CURL *c = curl_easy_init();
	CURLcode rc;
	long status = 0;

	ck_assert_msg(c != NULL, "curl_easy_init failed");
	ck_assert_msg(s->port > 0, "the fake LLM server is not running");
	snprintf(url, sizeof url, "http://127.0.0.1:%d%s", s->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (json) {
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	}
	rc = curl_easy_perform(c);
	if (rc == CURLE_OK)
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(c);
	if (rc != CURLE_OK) {
		free(b.s);
		ck_abort_msg("%s %s: %s", json ? "POST" : "GET", url, curl_easy_strerror(rc));
	}
	if (body)
		*body = b.s ? b.s : strdup("");
	else
		free(b.s);
	return status;
}

char *
aml_test_server_get(const aml_test_server *s, const char *path)
{
	char *body = NULL;
	long status = request(s, path, NULL, &body);

	if (status != 200) {
		char msg[512];

		snprintf(msg, sizeof msg, "GET %s: status %ld: %.400s", path, status, body);
		free(body);
		ck_abort_msg("%s", msg);
	}
	return body;
}

int
aml_test_server_post(const aml_test_server *s, const char *path, const char *json)
{
	return (int)request(s, path, json ? json : "", NULL);
}

/* /_stats, parsed (transferred: json_object_put() it). */
static json_object *
stats(const aml_test_server *s)
{
	char *text = aml_test_server_get(s, "/_stats");
	json_object *o = json_tokener_parse(text);

	free(text);
	ck_assert_msg(o != NULL, "/_stats is not JSON");
	return o;
}

long
aml_test_server_stat(const aml_test_server *s, const char *field)
{
	json_object *o = stats(s), *v;
	long n;

	if (!json_object_object_get_ex(o, field, &v) || !json_object_is_type(v, json_type_int)) {
		json_object_put(o);
		ck_abort_msg("/_stats has no integer field '%s'", field);
	}
	n = (long)json_object_get_int64(v);
	json_object_put(o);
	return n;
}

long
aml_test_server_fault_count(const aml_test_server *s, const char *fault)
{
	json_object *o = stats(s), *by, *v;
	long n = 0;

	if (json_object_object_get_ex(o, "by_fault", &by) &&
	    json_object_object_get_ex(by, fault, &v))
		n = (long)json_object_get_int64(v);
	json_object_put(o);
	return n;
}
