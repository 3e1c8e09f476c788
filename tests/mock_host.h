/*
 * mock_host.h — test support: a host function table that needs no run, so
 * a plugin can be tested alone (collectd's plugin_mock), plus the common
 * main() of every Check suite.
 */
#ifndef AML_MOCK_HOST_H
#define AML_MOCK_HOST_H

#include <check.h>
#include <automlgen/plugin.h>

/* Parameters the mock's host->param() answers ("key", "value", ... NULL). */
void mock_host_set_params(const char *const *kv);
/* The task host->task() returns (borrowed; NULL by default). */
void mock_host_set_task(const aml_task *task);
/* The folder host->plugin_dir() returns. */
void mock_host_set_plugin_dir(const char *dir);
/* What host->llm_complete() does (NULL: fails with AML_EUNSUPPORTED). */
typedef int (*mock_llm_fn)(const aml_llm_request *req, aml_llm_response *resp,
			   char *err, size_t errlen);
void mock_host_set_llm(mock_llm_fn fn);
/* What host->kb_query() does (NULL: answers no entries). */
typedef int (*mock_kb_fn)(const aml_kb_query *q, const aml_kb_entry **out,
			  size_t cap, size_t *n, char *err, size_t errlen);
void mock_host_set_kb(mock_kb_fn fn);
/* The last line a plugin logged (static buffer). */
const char *mock_host_last_log(void);

/* The mock host table. */
const aml_host *mock_host(void);

/* dlopen a plugin library and return its descriptor, failing the test on
 * any error.  The handle stays open for the test process. */
const aml_plugin_desc *mock_plugin_open(const char *path);
/* Path of a built plugin library "<name>.so" found on
 * AUTOMLGEN_LIBRARY_PATH (a buffer per thread), failing the test when
 * absent. */
const char *mock_plugin_library(const char *name);

/* Run a suite with TAP output on stdout; returns the process exit status. */
int aml_test_main(Suite *s);

/* A fresh empty temporary directory (transferred), removed by
 * aml_test_rmtree(). */
char *aml_test_tmpdir(void);
void aml_test_rmtree(const char *dir);

#endif
