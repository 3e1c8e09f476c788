/*
 * bench_provider.c — what the HTTP LLM providers cost besides the model:
 *
 *  (1) overhead: the provider's own work per request, building the JSON
 *      body and reading the answer (oa_wire.c, an_wire.c; no network),
 *      with an ~8 KB prompt and an ~4 KB answer, averaged over ITERATIONS;
 *  (2) throughput: W = 1, 2, 4, 8 threads sharing one provider instance
 *      (the plugin .so, as a run loads it) against the fake server of
 *      tests/llm_server.py answering each request after LATENCY seconds;
 *      requests completed per latency period, which should be >= 0.9 * W
 *      when calls run in parallel and connections are reused.
 *
 *   make -C _build tests/bench/bench_provider
 *   _build/tests/bench/bench_provider [ITERATIONS [LATENCY_S [REQUESTS_PER_THREAD]]]
 *
 * (defaults 20000, 0.5, 4).  It starts the fake server itself on
 * 127.0.0.1 (python3 from $AML_PYTHON, else /usr/bin/python3; the script
 * under $AML_SRCDIR, else this source tree) with --latency LATENCY_S and
 * stops it at the end; it contacts nothing else.  The plugins come from
 * the build tree ($AUTOMLGEN_LIBRARY_PATH, else BUILDDIR/plugins/NAME/.libs).
 */
#include "config.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "an_wire.h"
#include "httpc.h"
#include "provkit.h"
#include "oa_wire.h"

#ifndef SRCDIR
#define SRCDIR "."
#endif
#ifndef BUILDDIR
#define BUILDDIR "."
#endif

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "bench_provider: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

/* ------------------------------------------------------------------ */
/* A realistic request and answer. */

/* text of about n bytes: lines of a task prompt and a parent script, with
 * the quotes, backslashes and newlines JSON has to escape. */
static char *
filler(size_t n, const char *const *lines, size_t n_lines)
{
	char *s = malloc(n + 256);
	size_t len = 0, i = 0;

	if (s == NULL)
		die("out of memory");
	while (len < n) {
		len += (size_t)snprintf(s + len, 256, "%s\n", lines[i % n_lines]);
		i++;
	}
	s[len] = '\0';
	return s;
}

static const char *const prompt_lines[] = {
	"Metric: roc_auc, higher is better.",
	"Id column: id.  Target column(s) in the training file: target.",
	"Files in ./input/: train.csv (891 rows), test.csv (418 rows), sample_submission.csv.",
	"    df[\"fare_per_person\"] = df[\"fare\"] / (df[\"sibsp\"] + df[\"parch\"] + 1)",
	"    model = HistGradientBoostingClassifier(learning_rate=0.05, max_iter=300)",
	"Traceback (most recent call last):\\n  File \"solution.py\", line 42, in <module>",
	"Write the complete script in one ```python block; print 'Final Validation Score: <x>'.",
	"\tpath = os.path.join(\"input\", \"train.csv\")  # tabs, \\ backslashes / slashes",
};

static const char *const answer_lines[] = {
	"import numpy as np",
	"import pandas as pd",
	"from sklearn.model_selection import StratifiedKFold",
	"train = pd.read_csv(\"input/train.csv\")",
	"oof = np.zeros(len(train))  # out-of-fold \"probabilities\"",
	"for tr, va in StratifiedKFold(5, shuffle=True, random_state=0).split(X, y):",
	"    oof[va] = model.fit(X.iloc[tr], y.iloc[tr]).predict_proba(X.iloc[va])[:, 1]",
	"print(f\"Final Validation Score: {roc_auc_score(y, oof):.6f}\")",
};

static char *
answer_text(void)
{
	char *code = filler(3800, answer_lines, sizeof answer_lines / sizeof answer_lines[0]);
	size_t n = strlen(code) + 300;
	char *t = malloc(n);

	if (t == NULL)
		die("out of memory");
	snprintf(t, n, "Plan: gradient-boosted trees with stratified 5-fold CV.\n\n"
		 "```python\n%s```\n", code);
	free(code);
	return t;
}

static char *
oa_answer_body(const char *text)
{
	char *s;
	size_t n = strlen(text) * 2 + 512;
	json_object *j = json_object_new_string(text);

	s = malloc(n);
	if (s == NULL || j == NULL)
		die("out of memory");
	snprintf(s, n, "{\"id\": \"chatcmpl-1\", \"object\": \"chat.completion\", "
		 "\"created\": 1700000000, \"model\": \"gpt-4o-mini\", \"choices\": [{\"index\": 0, "
		 "\"message\": {\"role\": \"assistant\", \"content\": %s}, \"logprobs\": null, "
		 "\"finish_reason\": \"stop\"}], \"usage\": {\"prompt_tokens\": 2100, "
		 "\"completion_tokens\": 1000, \"total_tokens\": 3100}}",
		 json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	return s;
}

static char *
an_answer_body(const char *text)
{
	char *s;
	size_t n = strlen(text) * 2 + 512;
	json_object *j = json_object_new_string(text);

	s = malloc(n);
	if (s == NULL || j == NULL)
		die("out of memory");
	snprintf(s, n, "{\"id\": \"msg_1\", \"type\": \"message\", \"role\": \"assistant\", "
		 "\"model\": \"claude-sonnet-4-5\", \"content\": [{\"type\": \"text\", \"text\": %s}], "
		 "\"stop_reason\": \"end_turn\", \"stop_sequence\": null, \"usage\": "
		 "{\"input_tokens\": 2100, \"output_tokens\": 1000}}",
		 json_object_to_json_string_ext(j, JSON_C_TO_STRING_PLAIN));
	json_object_put(j);
	return s;
}

/* ------------------------------------------------------------------ */
/* (1) Overhead of build + parse. */

static void
overhead(const aml_llm_request *req, long iterations)
{
	char *text = answer_text(), *oa_body = oa_answer_body(text), *an_body = an_answer_body(text);
	size_t oa_len = strlen(oa_body), an_len = strlen(an_body), oa_req = 0, an_req = 0;
	oa_params op = {"gpt-4o-mini", -1, 0, NULL, 0, 0};
	an_params ap = {"claude-sonnet-4-5", -1, 8192, NULL, 0};
	char err[512], why[512], *body;
	double t0, tb_oa = 0, tp_oa = 0, tb_an = 0, tp_an = 0;
	oa_answer oa;
	an_answer an;
	long i;

	memset(&oa, 0, sizeof oa);
	memset(&an, 0, sizeof an);
	for (i = 0; i < iterations; i++) {
		t0 = now();
		if (oa_request_build(&op, req, &body, err, sizeof err) != AML_OK)
			die("%s", err);
		tb_oa += now() - t0;
		oa_req = strlen(body);
		free(body);
		t0 = now();
		if (oa_response_parse(oa_body, oa_len, "application/json", &oa, why,
				      sizeof why) != AML_OK)
			die("openai parse: %s", why);
		tp_oa += now() - t0;
		t0 = now();
		if (an_request_build(&ap, req, &body, err, sizeof err) != AML_OK)
			die("%s", err);
		tb_an += now() - t0;
		an_req = strlen(body);
		free(body);
		t0 = now();
		if (an_response_parse(an_body, an_len, "application/json", &an, why,
				      sizeof why) != AML_OK)
			die("anthropic parse: %s", why);
		tp_an += now() - t0;
	}
	printf("(1) provider overhead per request, no network: %zu-byte prompt, "
	       "%zu-byte answer text, %ld iterations\n", strlen(req->system) + strlen(req->user),
	       strlen(text), iterations);
	printf("    %-10s %10s %10s %10s %14s %14s\n", "provider", "build us", "parse us",
	       "total us", "request bytes", "answer bytes");
	printf("    %-10s %10.2f %10.2f %10.2f %14zu %14zu\n", "openai",
	       tb_oa / iterations * 1e6, tp_oa / iterations * 1e6,
	       (tb_oa + tp_oa) / iterations * 1e6, oa_req, oa_len);
	printf("    %-10s %10.2f %10.2f %10.2f %14zu %14zu\n", "anthropic",
	       tb_an / iterations * 1e6, tp_an / iterations * 1e6,
	       (tb_an + tp_an) / iterations * 1e6, an_req, an_len);
	pk_answer_free(&oa);
	pk_answer_free(&an);
	free(text);
	free(oa_body);
	free(an_body);
}

/* ------------------------------------------------------------------ */
/* (2) Throughput against the fake server. */

typedef struct server {
	pid_t pid;
	char dir[64];
	char url[96];
} server;

static const char *
env_or(const char *name, const char *fallback)
{
	const char *v = getenv(name);

	return v && *v ? v : fallback;
}

static void
server_start(server *s, double latency)
{
	const char *python = env_or("AML_PYTHON", "/usr/bin/python3");
	char script[4096], portfile[128], lat[32];
	FILE *f;
	int port = 0, k;

	snprintf(script, sizeof script, "%s/tests/llm_server.py", env_or("AML_SRCDIR", SRCDIR));
	snprintf(s->dir, sizeof s->dir, "/tmp/aml-bench-XXXXXX");
	if (mkdtemp(s->dir) == NULL)
		die("mkdtemp: %s", strerror(errno));
	snprintf(portfile, sizeof portfile, "%s/port", s->dir);
	snprintf(lat, sizeof lat, "%g", latency);
	fflush(NULL);
	s->pid = fork();
	if (s->pid < 0)
		die("fork: %s", strerror(errno));
	if (s->pid == 0) {
		dup2(STDERR_FILENO, STDOUT_FILENO);
		execl(python, python, script, "--port-file", portfile, "--latency", lat,
		      (char *)NULL);
		fprintf(stderr, "bench_provider: exec %s: %s\n", python, strerror(errno));
		_exit(127);
	}
	for (k = 0; k < 1000 && port <= 0; k++) {
		struct timespec ts = {0, 20 * 1000 * 1000};

		if ((f = fopen(portfile, "r")) != NULL) {
			if (fscanf(f, "%d", &port) != 1)
				port = 0;
			fclose(f);
		}
		if (port <= 0) {
			if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
				die("the fake server (%s %s) exited before listening", python, script);
			nanosleep(&ts, NULL);
		}
	}
	if (port <= 0)
		die("the fake server did not listen within 20 s");
	snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/v1", port);
	unlink(portfile);
}

static void
server_stop(server *s)
{
	kill(s->pid, SIGTERM);
	waitpid(s->pid, NULL, 0);
	rmdir(s->dir);
}

/* A host for the plugin: parameters from a list, no run. */
static const char *const *bench_params;

static void
h_log(aml_plugin *self, int level, const char *fmt, ...)
{
}

static const char *
h_param(aml_plugin *self, const char *key)
{
	size_t i;

	for (i = 0; bench_params && bench_params[i]; i += 2)
		if (strcmp(bench_params[i], key) == 0)
			return bench_params[i + 1];
	return NULL;
}

static const aml_task *
h_task(aml_plugin *self)
{
	return NULL;
}

static const char *
h_dir(aml_plugin *self)
{
	return ".";
}

static const aml_host bench_host = {
	AML_ABI_MAJOR, AML_ABI_MINOR, h_log, h_param, h_task, NULL, NULL,
	malloc, free, strdup, h_dir,
};

static const aml_plugin_desc *
load(const char *name)
{
	char path[4096];
	const char *lp = getenv("AUTOMLGEN_LIBRARY_PATH");
	const aml_plugin_desc *d;
	void *h = NULL;

	if (lp != NULL && *lp) {
		char *copy = strdup(lp), *tok, *save = NULL;

		for (tok = strtok_r(copy, ":", &save); tok && h == NULL;
		     tok = strtok_r(NULL, ":", &save)) {
			snprintf(path, sizeof path, "%s/%s.so", tok, name);
			if (access(path, R_OK) == 0)
				h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
		}
		free(copy);
	}
	if (h == NULL) {
		snprintf(path, sizeof path, "%s/plugins/%s/.libs/%s.so", BUILDDIR, name, name);
		h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	}
	if (h == NULL)
		die("cannot load %s.so (build the plugins first): %s", name, dlerror());
	d = dlsym(h, AML_PLUGIN_SYMBOL);
	if (d == NULL || d->kind != AML_KIND_PROVIDER)
		die("%s: not a provider plugin", path);
	return d;
}

typedef struct job {
	const aml_provider_ops *ops;
	void *state;
	const aml_llm_request *req;
	int n;
	int failed;
	char err[512];
} job;

static void *
worker(void *arg)
{
	job *j = arg;
	aml_llm_response resp;
	int k;

	for (k = 0; k < j->n; k++) {
		if (j->ops->complete(j->state, j->req, &resp, j->err, sizeof j->err) != AML_OK) {
			j->failed++;
			continue;
		}
		free(resp.text);
		free(resp.model);
	}
	return NULL;
}

static void
throughput(const char *name, const server *s, const aml_llm_request *req, double latency,
	   int per_thread)
{
	static const int widths[] = {1, 2, 4, 8};
	const char *params[] = {"base_url", s->url, "model", "bench-model", "api_key",
				"bench-key", "max_attempts", "1", NULL};
	const aml_plugin_desc *d = load(name);
	pthread_t t[8];
	job jobs[8];
	char err[512];
	void *state = NULL;
	size_t wi;
	int k;

	bench_params = params;
	if (d->init(&bench_host, NULL, &state, err, sizeof err) != AML_OK)
		die("%s init: %s", name, err);
	/* one warm-up call: the connection, the server's first answer */
	{
		job w = {d->ops, state, req, 1, 0, ""};

		worker(&w);
		if (w.failed)
			die("%s: %s", name, w.err);
	}
	for (wi = 0; wi < sizeof widths / sizeof widths[0]; wi++) {
		int w = widths[wi], done = 0, failed = 0;
		double t0 = now(), dt, per;

		for (k = 0; k < w; k++) {
			memset(&jobs[k], 0, sizeof jobs[k]);
			jobs[k].ops = d->ops;
			jobs[k].state = state;
			jobs[k].req = req;
			jobs[k].n = per_thread;
			if (pthread_create(&t[k], NULL, worker, &jobs[k]) != 0)
				die("pthread_create failed");
		}
		for (k = 0; k < w; k++) {
			pthread_join(t[k], NULL);
			failed += jobs[k].failed;
			done += jobs[k].n - jobs[k].failed;
			if (jobs[k].failed)
				fprintf(stderr, "bench_provider: %s: %s\n", name, jobs[k].err);
		}
		dt = now() - t0;
		per = (double)done * latency / dt;
		printf("    %-10s %3d %9d %7d %9.2f %12.2f %9.2f  %s\n", name, w, done, failed, dt,
		       per, per / w, per >= 0.9 * w ? "ok" : "BELOW 0.9 W");
	}
	d->fini(state);
}

int
main(int argc, char **argv)
{
	long iterations = argc > 1 ? strtol(argv[1], NULL, 10) : 20000;
	double latency = argc > 2 ? strtod(argv[2], NULL) : 0.5;
	int per_thread = argc > 3 ? atoi(argv[3]) : 4;
	char *system, *user;
	aml_llm_request req;
	server s;

	if (iterations < 1 || !(latency > 0) || per_thread < 1) {
		fprintf(stderr, "usage: bench_provider [ITERATIONS >= 1 [LATENCY_S > 0 "
			"[REQUESTS_PER_THREAD >= 1]]]\n");
		return 2;
	}
	/* only ever 127.0.0.1, never through a proxy */
	setenv("NO_PROXY", "127.0.0.1", 1);
	setenv("no_proxy", "127.0.0.1", 1);
	system = filler(1000, prompt_lines, 3);
	user = filler(7200, prompt_lines, sizeof prompt_lines / sizeof prompt_lines[0]);
	memset(&req, 0, sizeof req);
	req.role = "code";
	req.system = system;
	req.user = user;
	req.temperature = 0.7;
	req.max_tokens = 4096;
	req.seed = 1;

	overhead(&req, iterations);

	server_start(&s, latency);
	printf("\n(2) throughput: W threads share one provider; the server answers after "
	       "%g s; %d requests per thread\n", latency, per_thread);
	printf("    %-10s %3s %9s %7s %9s %12s %9s\n", "provider", "W", "requests", "failed",
	       "seconds", "req/latency", "per W");
	throughput("openai", &s, &req, latency, per_thread);
	throughput("anthropic", &s, &req, latency, per_thread);
	server_stop(&s);
	free(system);
	free(user);
	return 0;
}
