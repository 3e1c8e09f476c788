/*
 * llm_server.h — test support: start and drive tests/llm_server.py, the
 * fake LLM server (OpenAI and Anthropic wire formats, fault injection), from
 * a Check test.  Every function fails the running test (ck_abort_msg) on
 * error instead of returning one, so tests stay short.
 *
 * Start the server inside the test (or a checked fixture), not in the
 * runner: the server exits by itself when its parent process dies, so a
 * crashed test never leaves one behind.
 */
#ifndef AML_TEST_LLM_SERVER_H
#define AML_TEST_LLM_SERVER_H

#include <sys/types.h>

typedef struct aml_test_server {
	pid_t pid;     /* the server process */
	int port;      /* the port it listens on, on 127.0.0.1 */
	char url[96];  /* "http://127.0.0.1:PORT/v1": a provider's base URL */
	char *dir;     /* its temporary folder (owned; holds the port file) */
} aml_test_server;

/* Start the server: tests/llm_server.py under $AML_PYTHON (fallback
 * /usr/bin/python3), found under $AML_SRCDIR (fallback the SRCDIR macro),
 * with the extra command-line arguments args (NULL-terminated list; NULL for
 * none), e.g. {"--faults", "429,ok", NULL}.  Waits up to 20 s for it to
 * listen.  Fills *s; stop it with aml_test_server_stop(). */
void aml_test_server_start(aml_test_server *s, const char *const *args);

/* Stop the server (SIGTERM, then SIGKILL after 5 s), reap it and remove its
 * temporary folder.  Safe on a stopped or zeroed server. */
void aml_test_server_stop(aml_test_server *s);

/* GET a path of the server's root, e.g. "/_stats": the body of a 200
 * answer (transferred: free() it). */
char *aml_test_server_get(const aml_test_server *s, const char *path);

/* POST the JSON text json to a path of the server's root, e.g. "/_faults"
 * with {"faults": ["429", "ok"]}: the HTTP status. */
int aml_test_server_post(const aml_test_server *s, const char *path, const char *json);

/* An integer field of /_stats: "requests", "in_flight", "max_in_flight". */
long aml_test_server_stat(const aml_test_server *s, const char *field);

/* How many completion requests got the fault named fault ("ok", "429",
 * ...; "invalid" and "unauthorized" count requests refused by the checks). */
long aml_test_server_fault_count(const aml_test_server *s, const char *fault);

#endif
