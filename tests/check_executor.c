/*
 * check_executor.c — the local executor plugin, loaded alone under the mock
 * host, running the real Python scripts of tests/scripts/ (each copied into
 * a fresh temporary workdir) with the interpreter named by AML_PYTHON.
 *
 * The tests check outcomes, files and process state, never how fast
 * anything was: a timeout test asserts that the run ended and its process
 * group is gone, not when.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "mock_host.h"
#include "util.h"

#define FLOOD_BYTES 52428820ULL /* what flood.py writes: 10 + 50 MiB + 10 */

static const char *
python(void)
{
	const char *p = getenv("AML_PYTHON");

	return p != NULL && p[0] != '\0' ? p : "/usr/bin/python3";
}

static const char *
srcdir(void)
{
	const char *p = getenv("AML_SRCDIR");

	return p != NULL && p[0] != '\0' ? p : SRCDIR;
}

static const aml_plugin_desc *
plugin(void)
{
	const aml_plugin_desc *d = mock_plugin_open(mock_plugin_library("local"));

	ck_assert_int_eq(d->kind, AML_KIND_EXECUTOR);
	ck_assert_str_eq(d->name, "local");
	return d;
}

static const aml_executor_ops *
ops(void)
{
	return plugin()->ops;
}

/* Init the plugin with the given parameters ("key", "value", ..., NULL),
 * which win over the defaults of these tests (python from AML_PYTHON, a
 * short kill grace). */
static void *
start(const char *const *extra)
{
	static const char *kv[32];
	char err[AML_ERRLEN] = "";
	void *state = NULL;
	size_t n = 0, i;
	int rc;

	for (i = 0; extra != NULL && extra[i] != NULL; i += 2) {
		ck_assert(n + 6 < AML_ARRAY_LEN(kv));
		kv[n++] = extra[i];
		kv[n++] = extra[i + 1];
	}
	kv[n++] = "python";
	kv[n++] = python();
	kv[n++] = "kill_grace_s";
	kv[n++] = "0.3";
	kv[n] = NULL;
	mock_host_set_params(kv);
	rc = plugin()->init(mock_host(), NULL, &state, err, sizeof err);
	ck_assert_msg(rc == AML_OK, "init: %s", err);
	ck_assert_ptr_nonnull(state);
	return state;
}

static void
stop(void *state)
{
	plugin()->fini(state);
}

/* A fresh temporary workdir holding a copy of tests/scripts/<script>
 * (transferred; remove with aml_test_rmtree). */
static char *
workdir_with(const char *script)
{
	char err[AML_ERRLEN] = "";
	char *dir = aml_test_tmpdir();
	char *scripts = aml_path_join(srcdir(), "tests/scripts");
	char *src = aml_path_join(scripts, script);
	char *dst = aml_path_join(dir, script);

	ck_assert_msg(aml_copy_file(src, dst, err, sizeof err) == AML_OK, "%s", err);
	free(scripts);
	free(src);
	free(dst);
	return dir;
}

static int
run_script(void *state, const char *dir, const char *script, double timeout_s,
	   size_t cap, const char *const *env, aml_exec_result *res, char *err)
{
	aml_exec_request req;

	memset(&req, 0, sizeof req);
	req.workdir = dir;
	req.script = script;
	req.input_dir = dir;
	req.timeout_s = timeout_s;
	req.output_cap = cap;
	req.env = env;
	req.node_id = 1;
	err[0] = '\0';
	return ops()->run(state, &req, res, err, AML_ERRLEN);
}

/* The contents of dir/name (transferred), failing the test when absent. */
static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char err[AML_ERRLEN] = "";
	char *path = aml_path_join(dir, name), *text = NULL;

	ck_assert_msg(aml_read_file(path, 0, &text, len, err, sizeof err) == AML_OK, "%s", err);
	free(path);
	return text;
}

/* 1 when pid no longer runs: gone, or a zombie waiting for a reaper that
 * is not us (an orphan belongs to init or a subreaper). */
static int
proc_gone(pid_t pid)
{
	char path[64], buf[1024], *p;
	size_t n;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return 1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ')
		return n == 0;
	return p[2] == 'Z' || p[2] == 'X';
}

/* The pids hang.py recorded are gone (allowing the kernel a moment to
 * deliver the group's SIGKILL to the orphaned child). */
static void
assert_group_gone(const char *dir)
{
	char *pids = slurp(dir, "pids.txt", NULL);
	int main_pid = 0, child_pid = 0, i;

	ck_assert_int_eq(sscanf(pids, "%d %d", &main_pid, &child_pid), 2);
	free(pids);
	/* The main child was reaped by the executor. */
	ck_assert_int_eq(kill(main_pid, 0), -1);
	ck_assert_int_eq(errno, ESRCH);
	for (i = 0; i < 250 && !proc_gone(child_pid); i++)
		usleep(20000);
	ck_assert_msg(proc_gone(child_pid), "child %d of the script still runs", child_pid);
}

START_TEST(test_ok)
{
	void *state = start(NULL);
	char *dir = workdir_with("ok.py"), *out, *errtext;
	char err[AML_ERRLEN];
	aml_exec_result res;
	size_t outlen, errlen;

	ck_assert_int_eq(run_script(state, dir, "ok.py", 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_OK);
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_int_eq(res.term_signal, 0);
	ck_assert_int_eq(res.truncated, 0);
	ck_assert_str_eq(res.detail, "exit status 0");
	ck_assert(res.wall_s > 0);
	ck_assert(res.cpu_s >= 0);
	out = slurp(dir, "stdout.txt", &outlen);
	errtext = slurp(dir, "stderr.txt", &errlen);
	ck_assert_str_eq(out, "training...\nFinal Validation Score: 0.5\n");
	ck_assert_str_eq(errtext, "warming up\n");
	ck_assert_uint_eq(res.output_bytes, outlen + errlen);
	free(out);
	free(errtext);
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

START_TEST(test_crash)
{
	void *state = start(NULL);
	char *dir = workdir_with("crash.py"), *errtext;
	char err[AML_ERRLEN];
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, dir, "crash.py", 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
	ck_assert_int_eq(res.exit_code, 1);
	ck_assert_str_eq(res.detail, "exit status 1: ValueError: column 'target' is missing");
	errtext = slurp(dir, "stderr.txt", NULL);
	ck_assert_ptr_nonnull(strstr(errtext, "Traceback (most recent call last):"));
	free(errtext);
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

START_TEST(test_timeout_kills_group)
{
	void *state = start(NULL);
	char *dir = workdir_with("hang.py"), *out;
	char err[AML_ERRLEN];
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, dir, "hang.py", 1, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
	ck_assert_int_eq(res.term_signal, SIGTERM);
	ck_assert_str_eq(res.detail, "timed out after 1 s");
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_str_eq(out, "started\n");
	free(out);
	assert_group_gone(dir);
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

START_TEST(test_sigterm_ignored)
{
	static const char *const env[] = {"AML_TEST_IGNORE_TERM=1", NULL};
	void *state = start(NULL);
	char *dir = workdir_with("hang.py");
	char err[AML_ERRLEN];
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, dir, "hang.py", 1, 1 << 20, env, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
	ck_assert_int_eq(res.term_signal, SIGKILL);
	ck_assert_str_eq(res.detail, "timed out after 1 s (SIGTERM ignored, SIGKILL after 0.3 s)");
	assert_group_gone(dir);
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

START_TEST(test_output_capped)
{
	const size_t cap = 64 * 1024;
	void *state = start(NULL);
	char *dir = workdir_with("flood.py"), *out;
	char err[AML_ERRLEN], marker[64];
	aml_exec_result res;
	size_t len;

	ck_assert_int_eq(run_script(state, dir, "flood.py", 60, cap, NULL, &res, err), AML_OK);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	ck_assert_int_eq(res.truncated, 1);
	ck_assert_uint_eq(res.output_bytes, FLOOD_BYTES);
	out = slurp(dir, "stdout.txt", &len);
	snprintf(marker, sizeof marker, "\n[... %llu bytes cut ...]\n", FLOOD_BYTES - cap);
	ck_assert_uint_eq(len, cap + strlen(marker));
	ck_assert(strncmp(out, "HEAD-MARK\n", 10) == 0);
	ck_assert_str_eq(out + len - 10, "TAIL-MARK\n");
	ck_assert_ptr_eq(strstr(out, marker), out + cap / 2);
	free(out);
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

/* A cap smaller than one write: the tail ring wraps and keeps exactly the
 * last bytes. */
START_TEST(test_tiny_cap)
{
	void *state = start(NULL);
	char *dir = workdir_with("ok.py"), *out;
	char err[AML_ERRLEN];
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, dir, "ok.py", 30, 10, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_OK);
	ck_assert_int_eq(res.truncated, 1);
	ck_assert_uint_eq(res.output_bytes, 40 + 11);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_str_eq(out, "train\n[... 30 bytes cut ...]\n 0.5\n");
	free(out);
	out = slurp(dir, "stderr.txt", NULL);
	ck_assert_str_eq(out, "warmi\n[... 1 bytes cut ...]\ng up\n");
	free(out);
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

START_TEST(test_killed_by_signal)
{
	void *state = start(NULL);
	char *dir = workdir_with("selfkill.py");
	char err[AML_ERRLEN];
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, dir, "selfkill.py", 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_KILLED);
	ck_assert_int_eq(res.term_signal, SIGKILL);
	ck_assert_str_eq(res.detail, "killed by signal 9 (SIGKILL)");
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

START_TEST(test_missing_interpreter)
{
	static const char *const kv[] = {"python", "/nonexistent/python3", NULL};
	void *state = start(kv);
	char *dir = workdir_with("ok.py"), *out;
	char err[AML_ERRLEN];
	aml_exec_result res;

	/* init succeeds, but says so */
	ck_assert_ptr_nonnull(strstr(mock_host_last_log(), "/nonexistent/python3"));
	ck_assert_int_eq(run_script(state, dir, "ok.py", 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_NOSTART);
	ck_assert_int_eq(res.exit_code, 127);
	ck_assert_str_eq(res.detail, "cannot execute /nonexistent/python3: No such file or directory");
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_str_eq(out, "");
	free(out);
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

/* A bare interpreter name is looked up on PATH (here with PATH limited to
 * the folder of AML_PYTHON); an unknown one reports NOSTART. */
START_TEST(test_python_on_path)
{
	static const char *kv[] = {"python", NULL, NULL};
	char *dir = workdir_with("ok.py"), *base, *slash;
	char err[AML_ERRLEN], path[4096];
	aml_exec_result res;
	void *state;

	snprintf(path, sizeof path, "%s", python());
	slash = strrchr(path, '/');
	ck_assert_ptr_nonnull(slash);
	base = strdup(slash + 1);
	*slash = '\0';
	ck_assert_int_eq(setenv("PATH", path[0] ? path : "/", 1), 0);
	kv[1] = base;
	state = start(kv);
	ck_assert_int_eq(run_script(state, dir, "ok.py", 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	free(res.detail);
	stop(state);

	kv[1] = "aml-no-such-python";
	state = start(kv);
	ck_assert_int_eq(run_script(state, dir, "ok.py", 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_NOSTART);
	ck_assert_str_eq(res.detail, "cannot execute aml-no-such-python: No such file or directory");
	free(res.detail);
	stop(state);
	free(base);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_missing_workdir)
{
	void *state = start(NULL);
	char *dir = workdir_with("ok.py");
	char err[AML_ERRLEN];
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, "/nonexistent/aml-workdir", "ok.py", 30, 1 << 20,
				    NULL, &res, err), AML_ENOTFOUND);
	ck_assert_str_eq(err, "executor local: cannot use workdir /nonexistent/aml-workdir: "
			 "No such file or directory");
	ck_assert_ptr_null(res.detail);
	ck_assert_int_eq(run_script(state, dir, "absent.py", 30, 1 << 20, NULL, &res, err),
			 AML_ENOTFOUND);
	ck_assert_ptr_nonnull(strstr(err, "absent.py is not a regular file"));
	ck_assert_ptr_null(strchr(err, '\n'));
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

START_TEST(test_bad_request)
{
	static const char *const bad_env[] = {"NOEQUALS", NULL};
	void *state = start(NULL);
	char *dir = workdir_with("ok.py");
	char err[AML_ERRLEN];
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, dir, "ok.py", 0, 1 << 20, NULL, &res, err), AML_EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "timeout_s must be a positive number"));
	ck_assert_int_eq(run_script(state, dir, "ok.py", 30, 1 << 20, bad_env, &res, err),
			 AML_EINVAL);
	ck_assert_str_eq(err, "executor local: request env entry 'NOEQUALS' is not KEY=VALUE");
	ck_assert_int_eq(run_script(state, dir, "-c", 30, 1 << 20, NULL, &res, err), AML_EINVAL);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

static const struct {
	const char *key, *value, *msg;
} bad_params[] = {
	{"kill_grace_s", "x", "executor local: kill_grace_s must be a number >= 0, got 'x'"},
	{"kill_grace_s", "-1", "executor local: kill_grace_s must be a number >= 0, got '-1'"},
	{"kill_grace_s", "nan", "executor local: kill_grace_s must be a number >= 0, got 'nan'"},
	{"threads", "0", "executor local: threads must be an integer from 1 to 4096, got '0'"},
	{"threads", "2x", "executor local: threads must be an integer from 1 to 4096, got '2x'"},
};

START_TEST(test_bad_params)
{
	const char *kv[] = {bad_params[_i].key, bad_params[_i].value, NULL};
	char err[AML_ERRLEN] = "";
	void *state = (void *)&err;

	mock_host_set_params(kv);
	ck_assert_int_eq(plugin()->init(mock_host(), NULL, &state, err, sizeof err), AML_EINVAL);
	ck_assert_ptr_null(state);
	ck_assert_str_eq(err, bad_params[_i].msg);
}
END_TEST

START_TEST(test_env)
{
	static const char *const kv[] = {"threads", "2", NULL};
	static const char *const env[] = {"AML_TEST_VAR=hello world", "OMP_NUM_THREADS=3", NULL};
	void *state;
	char *dir = workdir_with("env.py"), *out, *abs;
	char err[AML_ERRLEN], cwd[4200];
	aml_exec_result res;

	ck_assert_int_eq(setenv("AML_FAKE_API_KEY", "sk-not-for-scripts", 1), 0);
	state = start(kv);
	ck_assert_int_eq(run_script(state, dir, "env.py", 30, 1 << 20, env, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_OK);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_ptr_nonnull(strstr(out, "AML_TEST_VAR=hello world\n"));
	ck_assert_ptr_nonnull(strstr(out, "AML_FAKE_API_KEY=<unset>\n"));
	ck_assert_ptr_nonnull(strstr(out, "OMP_NUM_THREADS=3\n"));
	ck_assert_ptr_nonnull(strstr(out, "OPENBLAS_NUM_THREADS=2\n"));
	ck_assert_ptr_nonnull(strstr(out, "MKL_NUM_THREADS=2\n"));
	ck_assert_ptr_nonnull(strstr(out, "PYTHONUNBUFFERED=1\n"));
	ck_assert_ptr_nonnull(strstr(out, "MPLBACKEND=Agg\n"));
	abs = aml_path_abs(dir);
	snprintf(cwd, sizeof cwd, "cwd=%s\n", abs);
	ck_assert_ptr_nonnull(strstr(out, cwd));
	free(abs);
	free(out);
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
	unsetenv("AML_FAKE_API_KEY");
}
END_TEST

struct par_run {
	void *state;
	const char *id;
	char *dir;
	int rc;
	aml_exec_result res;
	char err[AML_ERRLEN];
};

static void *
par_thread(void *arg)
{
	struct par_run *p = arg;
	char kv[32];
	const char *env[2] = {kv, NULL};

	snprintf(kv, sizeof kv, "AML_TEST_ID=%s", p->id);
	p->rc = run_script(p->state, p->dir, "sleep_id.py", 30, 1 << 20, env, &p->res, p->err);
	return NULL;
}

START_TEST(test_parallel)
{
	void *state = start(NULL);
	struct par_run runs[2];
	pthread_t th[2];
	char want[32], *out;
	int i;

	memset(runs, 0, sizeof runs);
	for (i = 0; i < 2; i++) {
		runs[i].state = state;
		runs[i].id = i == 0 ? "a" : "b";
		runs[i].dir = workdir_with("sleep_id.py");
		ck_assert_int_eq(pthread_create(&th[i], NULL, par_thread, &runs[i]), 0);
	}
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(runs[i].rc == AML_OK, "%s", runs[i].err);
		ck_assert_msg(runs[i].res.outcome == AML_EXEC_OK, "%s", runs[i].res.detail);
		out = slurp(runs[i].dir, "stdout.txt", NULL);
		snprintf(want, sizeof want, "id=%s\n", runs[i].id);
		ck_assert_str_eq(out, want);
		free(out);
		free(runs[i].res.detail);
		aml_test_rmtree(runs[i].dir);
		free(runs[i].dir);
	}
	stop(state);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("executor");
	TCase *tc = tcase_create("local");

	/* Generous: sanitizers and valgrind slow the flood test down. */
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_ok);
	tcase_add_test(tc, test_crash);
	tcase_add_test(tc, test_timeout_kills_group);
	tcase_add_test(tc, test_sigterm_ignored);
	tcase_add_test(tc, test_output_capped);
	tcase_add_test(tc, test_tiny_cap);
	tcase_add_test(tc, test_killed_by_signal);
	tcase_add_test(tc, test_missing_interpreter);
	tcase_add_test(tc, test_python_on_path);
	tcase_add_test(tc, test_missing_workdir);
	tcase_add_test(tc, test_bad_request);
	tcase_add_loop_test(tc, test_bad_params, 0, (int)AML_ARRAY_LEN(bad_params));
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_parallel);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
