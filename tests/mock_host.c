/*
 * mock_host.c — see mock_host.h.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_host.h"
#include "util.h"

static const char *const *mock_params;
static const aml_task *mock_task;
static const char *mock_dir = ".";
static mock_llm_fn mock_llm;
static mock_kb_fn mock_kb;
static char mock_log[2048];
static pthread_mutex_t mock_log_lock = PTHREAD_MUTEX_INITIALIZER; /* plugins log from workers */

void mock_host_set_params(const char *const *kv) { mock_params = kv; }
void mock_host_set_task(const aml_task *task) { mock_task = task; }
void mock_host_set_plugin_dir(const char *dir) { mock_dir = dir; }
void mock_host_set_llm(mock_llm_fn fn) { mock_llm = fn; }
void mock_host_set_kb(mock_kb_fn fn) { mock_kb = fn; }
const char *mock_host_last_log(void) { return mock_log; }

static void
m_log(aml_plugin *self, int level, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&mock_log_lock);
	va_start(ap, fmt);
	vsnprintf(mock_log, sizeof mock_log, fmt, ap);
	va_end(ap);
	pthread_mutex_unlock(&mock_log_lock);
}

static const char *
m_param(aml_plugin *self, const char *key)
{
	size_t i;

	for (i = 0; mock_params && mock_params[i]; i += 2)
		if (strcmp(mock_params[i], key) == 0)
			return mock_params[i + 1];
	return NULL;
}

static const aml_task *
m_task(aml_plugin *self)
{
	return mock_task;
}

static int
m_llm(aml_plugin *self, const aml_llm_request *req, aml_llm_response *resp,
      char *err, size_t errlen)
{
	if (mock_llm == NULL) {
		aml_seterr(err, errlen, "no provider in the mock host");
		return AML_EUNSUPPORTED;
	}
	return mock_llm(req, resp, err, errlen);
}

static int
m_kb(aml_plugin *self, const aml_kb_query *q, const aml_kb_entry **out,
     size_t cap, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	if (mock_kb == NULL)
		return AML_OK;
	return mock_kb(q, out, cap, n, err, errlen);
}

static const char *
m_dir(aml_plugin *self)
{
	return mock_dir;
}

/* ABI 1.2: the mock has no packs */
static int
m_kb_pack(aml_plugin *self, const aml_kb_query *q, const aml_kb_entry **out,
	  size_t cap, size_t *n, char *err, size_t errlen)
{
	*n = 0;
	return AML_OK;
}

static const aml_host host = {
	AML_ABI_MAJOR, AML_ABI_MINOR, m_log, m_param, m_task, m_llm, m_kb,
	malloc, free, strdup, m_dir, m_kb_pack,
};

const aml_host *
mock_host(void)
{
	return &host;
}

const aml_plugin_desc *
mock_plugin_open(const char *path)
{
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	const aml_plugin_desc *d;

	ck_assert_msg(h != NULL, "dlopen %s: %s", path, dlerror());
	d = dlsym(h, AML_PLUGIN_SYMBOL);
	ck_assert_msg(d != NULL, "%s: no %s symbol", path, AML_PLUGIN_SYMBOL);
	return d;
}

const char *
mock_plugin_library(const char *name)
{
	static _Thread_local char path[4096]; /* tests call it from several threads */
	const char *lp = getenv("AUTOMLGEN_LIBRARY_PATH");
	char *copy, *tok, *save = NULL;

	ck_assert_msg(lp != NULL, "AUTOMLGEN_LIBRARY_PATH is not set");
	copy = strdup(lp);
	for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof path, "%s/%s.so", tok, name);
		if (access(path, R_OK) == 0) {
			free(copy);
			return path;
		}
	}
	free(copy);
	ck_abort_msg("plugin library %s.so not found on AUTOMLGEN_LIBRARY_PATH", name);
	return NULL;
}

int
aml_test_main(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_set_tap(sr, "-");
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? 0 : 1;
}

char *
aml_test_tmpdir(void)
{
	char tmpl[] = "/tmp/aml-test-XXXXXX";
	char *d = mkdtemp(tmpl);

	ck_assert_msg(d != NULL, "mkdtemp failed");
	return strdup(d);
}

void
aml_test_rmtree(const char *dir)
{
	char cmd[4200];

	if (dir == NULL || strncmp(dir, "/tmp/aml-test-", 14) != 0)
		return;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}
