/*
 * check_executor.c — the local executor plugin, loaded alone under the mock
 * host, running the real Python scripts of tests/scripts/ (each copied into
 * a fresh temporary workdir) with the interpreter named by AML_PYTHON.
 *
 * The tests check outcomes, files and process state, never how fast
 * anything was: a timeout test asserts that the run ended and its process
 * group is gone, not when; a cancel test (the run stopping, Ctrl-C) only
 * that the run ended long before its 60 s limit.
 *
 * The hostile tests write their scripts themselves, named with a marker
 * unique to this test process, so /proc can be scanned for anything of
 * theirs left running.  Run as root, the scripts run as TEST_UID (not
 * nobody, whose process count the bwrap tests running alongside limit).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
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
#define TEST_UID "65532"        /* sandbox_uid of these tests */

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
		ck_assert(n + 8 < AML_ARRAY_LEN(kv));
		kv[n++] = extra[i];
		kv[n++] = extra[i + 1];
	}
	kv[n++] = "python";
	kv[n++] = python();
	kv[n++] = "kill_grace_s";
	kv[n++] = "0.3";
	kv[n++] = "sandbox_uid";
	kv[n++] = TEST_UID;
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

/* Run script in dir with the request's cancel flag (may be NULL). */
static int
run_cancellable(void *state, const char *dir, const char *script, double timeout_s,
		const volatile int *cancel, aml_exec_result *res, char *err)
{
	aml_exec_request req;

	memset(&req, 0, sizeof req);
	req.workdir = dir;
	req.script = script;
	req.input_dir = dir;
	req.timeout_s = timeout_s;
	req.output_cap = 1 << 20;
	req.node_id = 1;
	req.cancel = cancel;
	err[0] = '\0';
	return ops()->run(state, &req, res, err, AML_ERRLEN);
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

/* A marker unique to this test process, part of every written script's
 * name (so of its processes' command lines). */
static const char *
marker(void)
{
	static char m[64];

	snprintf(m, sizeof m, "amllx%d", (int)getpid());
	return m;
}

/* A fresh workdir (with working/ and submission/, as the core makes
 * them) holding <marker>.py with the given text; its name into script.
 * Transferred. */
static char *
workdir_text(const char *text, char *script, size_t scriptlen)
{
	char err[AML_ERRLEN] = "";
	char *dir = aml_test_tmpdir(), *p;

	snprintf(script, scriptlen, "%s.py", marker());
	p = aml_path_join(dir, script);
	ck_assert_msg(aml_write_file(p, text, strlen(text), err, sizeof err) == AML_OK, "%s", err);
	free(p);
	p = aml_path_join(dir, "working");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	p = aml_path_join(dir, "submission");
	ck_assert_int_eq(mkdir(p, 0755), 0);
	free(p);
	return dir;
}

/* Live (non-zombie) processes whose command line contains marker(). */
static int
count_marked(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)) != NULL) {
		char path[300], buf[4096];
		size_t len, i;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || atoi(e->d_name) == getpid())
			continue;
		snprintf(path, sizeof path, "/proc/%s/cmdline", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		len = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		for (i = 0; i < len; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		buf[len] = '\0';
		if (strstr(buf, marker()) != NULL && !proc_gone(atoi(e->d_name)))
			n++;
	}
	closedir(d);
	return n;
}

/* Nothing of ours runs any more: checked at once, since the executor
 * returns only when everything under the run's supervisor is reaped. */
static void
assert_no_strays(void)
{
	int n = count_marked();

	ck_assert_msg(n == 0, "%d processes of the script outlived the run", n);
}

static void
cleanup(void *state, char *dir, aml_exec_result *res)
{
	free(res->detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
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
	ck_assert_str_eq(res.detail, "killed by signal 9 (SIGKILL; maybe out of memory)");
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

/* A crash by SIGSEGV with a memory limit says the limit may be why. */
START_TEST(test_segv_note)
{
	static const char text[] = "import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n";
	static const char *const kv[] = {"memory_mb", "1024", NULL};
	static const char *const nolimit[] = {"memory_mb", "0", NULL};
	char script[128], err[AML_ERRLEN];
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;
	void *state = start(kv);

	ck_assert_int_eq(run_script(state, dir, script, 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_KILLED);
	ck_assert_int_eq(res.term_signal, SIGSEGV);
	ck_assert_str_eq(res.detail,
			 "killed by signal 11 (SIGSEGV; maybe the memory limit: memory_mb 1024)");
	free(res.detail);
	stop(state);
	state = start(nolimit);
	ck_assert_int_eq(run_script(state, dir, script, 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_str_eq(res.detail, "killed by signal 11 (SIGSEGV)");
	cleanup(state, dir, &res);
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
	{"memory_mb", "-1", "executor local: memory_mb must be an integer from 0 to 1073741824, got '-1'"},
	{"max_procs", "0", "executor local: max_procs must be an integer from 1 to 4194304, got '0'"},
	{"sandbox_uid", "65535", "executor local: sandbox_uid must be an integer from 0 to 65534, got '65535'"},
	{"pin_cpus", "yes", "executor local: pin_cpus must be auto or off, got 'yes'"},
	{"gpus", "0,0", "executor local: gpus must be auto, none or a comma-separated list of "
	 "distinct devices (\"0,1\"), got '0,0'"},
	{"gpus", "0,,1", "executor local: gpus must be auto, none or a comma-separated list of "
	 "distinct devices (\"0,1\"), got '0,,1'"},
	{"gpus", "0;rm", "executor local: gpus must be auto, none or a comma-separated list of "
	 "distinct devices (\"0,1\"), got '0;rm'"},
	{"gpus_per_candidate", "0", "executor local: gpus_per_candidate must be an integer from 1 to 256, got '0'"},
};

/* More GPUs per candidate than listed. */
START_TEST(test_gpus_too_few)
{
	static const char *const kv[] = {"gpus", "0", "gpus_per_candidate", "2", NULL};
	char err[AML_ERRLEN] = "";
	void *state = NULL;

	mock_host_set_params(kv);
	ck_assert_int_eq(plugin()->init(mock_host(), NULL, &state, err, sizeof err), AML_EINVAL);
	ck_assert_ptr_null(state);
	ck_assert_str_eq(err, "executor local: gpus_per_candidate is 2, but gpus lists only 1");
}
END_TEST

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

/* One of several runs at once, in a thread of its own. */
struct par_run {
	void *state;
	char *dir;
	char script[128];
	const char *env[2];
	char envbuf[256];
	int rc;
	aml_exec_result res;
	char err[AML_ERRLEN];
};

static void *
par_thread(void *arg)
{
	struct par_run *p = arg;

	p->rc = run_script(p->state, p->dir, p->script, 30, 1 << 20, p->env, &p->res, p->err);
	return NULL;
}

/* Run n at once and wait for all; each must have run to its end. */
static void
run_parallel(struct par_run *runs, int n)
{
	pthread_t th[8];
	int i;

	ck_assert_int_le(n, 8);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, par_thread, &runs[i]), 0);
	for (i = 0; i < n; i++)
		ck_assert_int_eq(pthread_join(th[i], NULL), 0);
	for (i = 0; i < n; i++) {
		ck_assert_msg(runs[i].rc == AML_OK, "%s", runs[i].err);
		ck_assert_msg(runs[i].res.outcome == AML_EXEC_OK, "%s", runs[i].res.detail);
	}
}

static void
par_free(struct par_run *runs, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(runs[i].res.detail);
		aml_test_rmtree(runs[i].dir);
		free(runs[i].dir);
	}
}

START_TEST(test_parallel)
{
	void *state = start(NULL);
	struct par_run runs[2];
	char want[32], *out;
	int i;

	memset(runs, 0, sizeof runs);
	for (i = 0; i < 2; i++) {
		runs[i].state = state;
		runs[i].dir = workdir_with("sleep_id.py");
		snprintf(runs[i].script, sizeof runs[i].script, "sleep_id.py");
		snprintf(runs[i].envbuf, sizeof runs[i].envbuf, "AML_TEST_ID=%c", 'a' + i);
		runs[i].env[0] = runs[i].envbuf;
	}
	run_parallel(runs, 2);
	for (i = 0; i < 2; i++) {
		out = slurp(runs[i].dir, "stdout.txt", NULL);
		snprintf(want, sizeof want, "id=%c\n", 'a' + i);
		ck_assert_str_eq(out, want);
		free(out);
	}
	par_free(runs, 2);
	stop(state);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Hostile scripts.                                                    */

/* As root, scripts run as sandbox_uid, which can write its workdir and
 * has HOME there; otherwise as the agent's own uid. */
START_TEST(test_sandbox_uid)
{
	static const char text[] =
		"import os\n"
		"open('submission/submission.csv', 'w').write('id\\n')\n"
		"open('working/x', 'w').write('x')\n"
		"print('uid', os.getuid(), os.geteuid(), os.getgid(), os.getgroups())\n"
		"print('home', os.environ['HOME'])\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], want[4200], *out, *abs;
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, dir, script, 30, 1 << 20, NULL, &res, err), AML_OK);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s: %s", res.detail, out);
	if (geteuid() == 0) {
		ck_assert_str_eq(strtok(out, "\n"), "uid " TEST_UID " " TEST_UID " " TEST_UID " []");
		abs = aml_path_abs(dir);
		snprintf(want, sizeof want, "home %s/working", abs);
		ck_assert_str_eq(strtok(NULL, "\n"), want);
		free(abs);
	} else {
		snprintf(want, sizeof want, "uid %d %d", (int)getuid(), (int)geteuid());
		ck_assert(strncmp(out, want, strlen(want)) == 0);
	}
	free(out);
	cleanup(state, dir, &res);
}
END_TEST

/* As root, an interpreter the sandbox uid cannot start (here behind a
 * 0700 folder, as a virtualenv under /root), or whose numpy it cannot
 * import, runs scripts as root, and init says so. */
START_TEST(test_sandbox_uid_no_python)
{
	static const char text[] = "import os\nprint('uid', os.getuid())\n";
	static const char *kv[] = {"python", NULL, NULL};
	char script[128], err[AML_ERRLEN], wrapper[4200], *out;
	char *dir = workdir_text(text, script, sizeof script), *hidden = aml_test_tmpdir();
	char *py = aml_path_join(hidden, "python3");
	aml_exec_result res;
	void *state;

	ck_assert_int_eq(chmod(hidden, 0700), 0);
	ck_assert_int_eq(symlink(python(), py), 0);
	kv[1] = py;
	state = start(kv);
	if (geteuid() == 0)
		ck_assert_msg(strstr(mock_host_last_log(), "uid " TEST_UID " cannot use ") != NULL &&
			      strstr(mock_host_last_log(), "(cannot execute it)") != NULL, "%s",
			      mock_host_last_log());
	ck_assert_int_eq(run_script(state, dir, script, 30, 1 << 20, NULL, &res, err), AML_OK);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s: %s", res.detail, out);
	if (geteuid() == 0)
		ck_assert_str_eq(out, "uid 0\n");
	free(out);
	free(res.detail);
	stop(state);

	/* an interpreter whose numpy only root can import (pip --user) */
	snprintf(wrapper, sizeof wrapper,
		 "#!/bin/sh\n"
		 "if [ \"$(id -u)\" != 0 ] && [ \"$1\" = -c ]; then exit 3; fi\n"
		 "exec '%s' \"$@\"\n", python());
	free(py);
	ck_assert_int_eq(chmod(hidden, 0755), 0);
	py = aml_path_join(hidden, "python-wrapper");
	ck_assert(aml_write_file(py, wrapper, strlen(wrapper), err, sizeof err) == AML_OK);
	ck_assert_int_eq(chmod(py, 0755), 0);
	kv[1] = py;
	state = start(kv);
	if (geteuid() == 0)
		ck_assert_msg(strstr(mock_host_last_log(), "(cannot import numpy, which root can)") !=
			      NULL, "%s", mock_host_last_log());
	ck_assert_int_eq(run_script(state, dir, script, 30, 1 << 20, NULL, &res, err), AML_OK);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s: %s", res.detail, out);
	if (geteuid() == 0)
		ck_assert_str_eq(out, "uid 0\n");
	free(out);
	aml_test_rmtree(hidden);
	free(hidden);
	free(py);
	cleanup(state, dir, &res);
}
END_TEST

/* As root, a workdir the sandbox uid cannot reach by its path (below a
 * 0700 folder, as mkdtemp makes them) runs its script as root, and says
 * so once. */
START_TEST(test_sandbox_uid_unreachable)
{
	static const char text[] = "import os\nprint('uid', os.getuid())\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], *out, *inner, *tmp;
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(chmod(dir, 0700), 0);
	inner = aml_path_join(dir, "run");
	ck_assert_int_eq(mkdir(inner, 0755), 0);
	tmp = aml_path_join(dir, script);
	out = aml_path_join(inner, script);
	ck_assert_int_eq(rename(tmp, out), 0);
	free(tmp);
	free(out);
	ck_assert_int_eq(run_script(state, inner, script, 30, 1 << 20, NULL, &res, err), AML_OK);
	out = slurp(inner, "stdout.txt", NULL);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s: %s", res.detail, out);
	if (geteuid() == 0) {
		ck_assert_str_eq(out, "uid 0\n");
		ck_assert_ptr_nonnull(strstr(mock_host_last_log(), "uid " TEST_UID " cannot reach"));
	}
	free(out);
	free(inner);
	cleanup(state, dir, &res);
}
END_TEST

/* A fork bomb stops at max_procs more processes than its uid had. */
START_TEST(test_fork_bomb)
{
	static const char *const kv[] = {"max_procs", "40", NULL};
	static const char text[] =
		"import os, resource, time\n"
		"n = 0\n"
		"err = 'none'\n"
		"while n < 3000:\n"
		"    try:\n"
		"        pid = os.fork()\n"
		"    except OSError as e:\n"
		"        err = type(e).__name__\n"
		"        break\n"
		"    if pid == 0:\n"
		"        time.sleep(30)\n"
		"        os._exit(0)\n"
		"    n += 1\n"
		"print('forked', n, err, resource.getrlimit(resource.RLIMIT_NPROC)[0], flush=True)\n"
		"time.sleep(30)\n";
	void *state = start(kv);
	char script[128], err[AML_ERRLEN], *out;
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;
	int n = -1, limit = -1;

	ck_assert_int_eq(run_script(state, dir, script, 3, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_msg(sscanf(out, "forked %d BlockingIOError %d", &n, &limit) == 2, "not bounded: %s",
		      out);
	ck_assert_int_lt(n, limit);
	/* TEST_UID runs nothing else: exactly max_procs; else the user's
	 * own processes come on top */
	if (geteuid() == 0)
		ck_assert_int_eq(limit, 40);
	free(out);
	assert_no_strays();
	cleanup(state, dir, &res);
}
END_TEST

START_TEST(test_memory_hog)
{
	static const char *const kv[] = {"memory_mb", "512", NULL};
	static const char text[] =
		"blocks = []\n"
		"while True:\n"
		"    blocks.append(bytearray(64 << 20))\n";
	void *state = start(kv);
	char script[128], err[AML_ERRLEN];
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, dir, script, 20, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
	ck_assert_int_eq(res.exit_code, 1);
	ck_assert_str_eq(res.detail, "exit status 1: MemoryError (memory limit: memory_mb 512)");
	cleanup(state, dir, &res);
}
END_TEST

/* A busy loop with a child in a session of its own: both gone at the
 * time limit. */
START_TEST(test_endless_loop)
{
	static const char text[] =
		"import subprocess, sys\n"
		"subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.05)', sys.argv[0]], start_new_session=True)\n"
		"print('started', flush=True)\n"
		"while True:\n    pass\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], *out;
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_script(state, dir, script, 2, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
	ck_assert_int_eq(res.term_signal, SIGTERM);
	ck_assert_str_eq(res.detail, "timed out after 2 s");
	ck_assert(res.cpu_s > 0.5);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_str_eq(out, "started\n");
	free(out);
	assert_no_strays();
	cleanup(state, dir, &res);
}
END_TEST

/* Output without end: the files stay at the cap, the run at its limit. */
START_TEST(test_endless_flood)
{
	static const char text[] =
		"import sys\n"
		"out = sys.stdout.buffer\n"
		"out.write(b'HEAD\\n')\n"
		"while True:\n"
		"    out.write(b'x' * (1 << 20))\n"
		"    sys.stderr.write('y' * 4096)\n";
	const size_t cap = 64 * 1024;
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], *out;
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;
	size_t len;

	ck_assert_int_eq(run_script(state, dir, script, 2, cap, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
	ck_assert_int_eq(res.truncated, 1);
	ck_assert(res.output_bytes > 8 * cap);
	out = slurp(dir, "stdout.txt", &len);
	ck_assert(len <= cap + 64);
	ck_assert(strncmp(out, "HEAD\n", 5) == 0);
	free(out);
	out = slurp(dir, "stderr.txt", &len);
	ck_assert(len <= cap + 64);
	free(out);
	assert_no_strays();
	cleanup(state, dir, &res);
}
END_TEST

/* A disk filler stops at max_file_mb. */
START_TEST(test_disk_filler)
{
	static const char *const kv[] = {"max_file_mb", "8", NULL};
	static const char text[] =
		"with open('working/big.bin', 'wb') as f:\n"
		"    for _ in range(64):\n"
		"        f.write(b'z' * (1 << 20))\n"
		"        f.flush()\n";
	void *state = start(kv);
	char script[128], err[AML_ERRLEN], *path;
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;
	struct stat st;

	ck_assert_int_eq(run_script(state, dir, script, 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
	ck_assert_str_eq(res.detail, "exit status 1: OSError: [Errno 27] File too large "
			 "(file size limit: max_file_mb 8)");
	path = aml_path_join(dir, "working/big.bin");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_le(st.st_size, 8 << 20);
	free(path);
	cleanup(state, dir, &res);
}
END_TEST

/* A daemon (double fork + setsid) with a child in a session of its own,
 * which has one too: all dead when run() returns, though the script
 * itself ended well. */
START_TEST(test_daemon_dies)
{
	static const char text[] =
		"import os, time\n"
		"def chain(level):\n"
		"    os.setsid()\n"
		"    if level < 3 and os.fork() == 0:\n"
		"        chain(level + 1)\n"
		"    open('working/d.tmp%d' % level, 'w').write(str(os.getpid()))\n"
		"    os.rename('working/d.tmp%d' % level, 'working/daemon%d.pid' % level)\n"
		"    time.sleep(60)\n"
		"    os._exit(0)\n"
		"if os.fork() == 0:\n"
		"    if os.fork() == 0:\n"
		"        chain(1)\n"
		"    os._exit(0)\n"
		"os.wait()\n"
		"while not all(os.path.exists('working/daemon%d.pid' % i) for i in (1, 2, 3)):\n"
		"    time.sleep(0.01)\n"
		"print('parent done')\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], name[64], *text_pid;
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;
	int pid, i;

	ck_assert_int_eq(run_script(state, dir, script, 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	for (i = 1; i <= 3; i++) {
		snprintf(name, sizeof name, "working/daemon%d.pid", i);
		text_pid = slurp(dir, name, NULL);
		pid = atoi(text_pid);
		free(text_pid);
		ck_assert_int_gt(pid, 1);
		ck_assert_msg(kill(pid, 0) == -1 && errno == ESRCH, "daemon %d (pid %d) outlived the run",
			      i, pid);
	}
	assert_no_strays();
	cleanup(state, dir, &res);
}
END_TEST

/* Runs at once: one run's daemon dies when that run ends, while the
 * other run, still going, keeps its own session child. */
START_TEST(test_parallel_escapees)
{
	static const char daemon_text[] =
		"import os, time\n"
		"if os.fork() == 0:\n"
		"    os.setsid()\n"
		"    if os.fork() == 0:\n"
		"        open('working/d.tmp', 'w').write(str(os.getpid()))\n"
		"        os.rename('working/d.tmp', 'working/daemon.pid')\n"
		"        time.sleep(60)\n"
		"    os._exit(0)\n"
		"while not os.path.exists('working/daemon.pid'):\n"
		"    time.sleep(0.01)\n";
	static const char watcher_text[] =
		"import os, subprocess, sys, time\n"
		"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)', sys.argv[0]],\n"
		"                         start_new_session=True)\n"
		"t = time.time()\n"
		"while not os.path.exists(os.environ['PIDFILE']) and time.time() - t < 20:\n"
		"    time.sleep(0.01)\n"
		"pid = int(open(os.environ['PIDFILE']).read())\n"
		"state = 'alive'\n"
		"while time.time() - t < 20:\n"
		"    try:\n"
		"        os.kill(pid, 0)\n"
		"    except ProcessLookupError:\n"
		"        state = 'dead'\n"
		"        break\n"
		"    time.sleep(0.01)\n"
		"time.sleep(0.3)\n"
		"os.kill(child.pid, 0)\n"
		"print('other daemon', state, 'own child alive')\n";
	struct par_run runs[2];
	void *state = start(NULL);
	char *out;

	memset(runs, 0, sizeof runs);
	runs[0].state = runs[1].state = state;
	runs[0].dir = workdir_text(daemon_text, runs[0].script, sizeof runs[0].script);
	runs[1].dir = workdir_text(watcher_text, runs[1].script, sizeof runs[1].script);
	snprintf(runs[1].envbuf, sizeof runs[1].envbuf, "PIDFILE=%s/working/daemon.pid",
		 runs[0].dir);
	runs[1].env[0] = runs[1].envbuf;
	run_parallel(runs, 2);
	out = slurp(runs[1].dir, "stdout.txt", NULL);
	ck_assert_str_eq(out, "other daemon dead own child alive\n");
	free(out);
	assert_no_strays();
	par_free(runs, 2);
	stop(state);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Cancel (ABI 1.3): the run is stopping.                              */

/* Sets flag, as the core's Ctrl-C handler would, delay_s after the file
 * path appears (path NULL: after delay_s alone; at most 20 s of waiting
 * for the file). */
struct canceller {
	pthread_t t;
	volatile int flag;
	const char *path;
	double delay_s;
};

static void *
canceller_main(void *arg)
{
	struct canceller *c = arg;
	int i;

	for (i = 0; c->path != NULL && i < 2000 && !aml_is_file(c->path); i++)
		usleep(10000);
	usleep((useconds_t)(c->delay_s * 1e6));
	__atomic_store_n(&c->flag, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void
canceller_start(struct canceller *c, const char *path, double delay_s)
{
	memset(c, 0, sizeof *c);
	c->path = path;
	c->delay_s = delay_s;
	ck_assert_int_eq(pthread_create(&c->t, NULL, canceller_main, c), 0);
}

static void
canceller_join(struct canceller *c)
{
	ck_assert_int_eq(pthread_join(c->t, NULL), 0);
	ck_assert_int_eq(c->flag, 1);
}

/* A running script (with a child in its group) is stopped when the flag
 * is set, long before its time limit: CANCELLED, nothing of it left. */
START_TEST(test_cancel_running)
{
	void *state = start(NULL);
	char *dir = workdir_with("hang.py"), *pids = aml_path_join(dir, "pids.txt"), *out;
	char err[AML_ERRLEN];
	struct canceller c;
	aml_exec_result res;
	double t0 = aml_now();

	canceller_start(&c, pids, 0.3);
	ck_assert_int_eq(run_cancellable(state, dir, "hang.py", 60, &c.flag, &res, err), AML_OK);
	canceller_join(&c);
	ck_assert_msg(aml_now() - t0 < 30, "run took %g s", aml_now() - t0);
	ck_assert_msg(res.outcome == AML_EXEC_CANCELLED, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_str_eq(res.detail, "cancelled: the run is stopping");
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_str_eq(out, "started\n");
	free(out);
	assert_group_gone(dir);
	free(pids);
	cleanup(state, dir, &res);
}
END_TEST

/* A script that ignores SIGTERM and left a daemon (double fork, setsid,
 * SIGTERM ignored too): killed after the grace period, the daemon with
 * it, though it left the script's group and session. */
START_TEST(test_cancel_daemon)
{
	static const char text[] =
		"import os, signal, time\n"
		"signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
		"if os.fork() == 0:\n"
		"    os.setsid()\n"
		"    if os.fork() == 0:\n"
		"        open('working/d.tmp', 'w').write(str(os.getpid()))\n"
		"        os.rename('working/d.tmp', 'working/daemon.pid')\n"
		"        time.sleep(120)\n"
		"    os._exit(0)\n"
		"while True:\n"
		"    time.sleep(0.05)\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], *text_pid, *pidfile;
	char *dir = workdir_text(text, script, sizeof script);
	struct canceller c;
	aml_exec_result res;
	double t0 = aml_now();
	int pid;

	pidfile = aml_path_join(dir, "working/daemon.pid");
	canceller_start(&c, pidfile, 0.3);
	ck_assert_int_eq(run_cancellable(state, dir, script, 60, &c.flag, &res, err), AML_OK);
	canceller_join(&c);
	ck_assert_msg(aml_now() - t0 < 30, "run took %g s", aml_now() - t0);
	ck_assert_msg(res.outcome == AML_EXEC_CANCELLED, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_str_eq(res.detail,
			 "cancelled: the run is stopping (SIGTERM ignored, SIGKILL after 0.3 s)");
	text_pid = slurp(dir, "working/daemon.pid", NULL);
	pid = atoi(text_pid);
	free(text_pid);
	ck_assert_int_gt(pid, 1);
	ck_assert_msg(kill(pid, 0) == -1 && errno == ESRCH, "the daemon (pid %d) outlived the run",
		      pid);
	assert_no_strays();
	free(pidfile);
	cleanup(state, dir, &res);
}
END_TEST

/* The flag already set: the script is not started. */
START_TEST(test_cancel_before_start)
{
	static const char text[] = "open('ran.txt', 'w').write('ran')\n";
	static const volatile int stopping = 1;
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], *ran;
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_cancellable(state, dir, script, 60, &stopping, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_CANCELLED);
	ck_assert_str_eq(res.detail, "cancelled: the run is stopping (not started)");
	ran = aml_path_join(dir, "ran.txt");
	ck_assert_msg(!aml_is_file(ran), "the script ran");
	free(ran);
	free(res.detail);
	/* a flag that stays clear changes nothing */
	{
		static const volatile int running = 0;

		ck_assert_int_eq(run_cancellable(state, dir, script, 60, &running, &res, err),
				 AML_OK);
		ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	}
	cleanup(state, dir, &res);
}
END_TEST

/* One GPU share, held by a running script: a second run waiting for it
 * gives up when the flag is set, without starting its script. */
START_TEST(test_cancel_gpu_wait)
{
	static const char *const kv[] = {"gpus", "0", NULL};
	static const char holder_text[] =
		"import time\n"
		"open('working/started', 'w').close()\n"
		"time.sleep(3)\n"
		"open('working/done', 'w').close()\n";
	static const char waiter_text[] = "open('ran.txt', 'w').write('ran')\n";
	void *state = start(kv);
	struct par_run holder;
	pthread_t th;
	struct canceller c;
	char script[128], err[AML_ERRLEN], *dir, *started, *done, *ran;
	aml_exec_result res;

	memset(&holder, 0, sizeof holder);
	holder.state = state;
	holder.dir = workdir_text(holder_text, holder.script, sizeof holder.script);
	started = aml_path_join(holder.dir, "working/started");
	done = aml_path_join(holder.dir, "working/done");
	ck_assert_int_eq(pthread_create(&th, NULL, par_thread, &holder), 0);
	dir = workdir_text(waiter_text, script, sizeof script);
	/* the holder has the share before the waiter asks for it */
	{
		double t0 = aml_now();

		while (!aml_is_file(started) && aml_now() < t0 + 60)
			usleep(20 * 1000);
		ck_assert_msg(aml_is_file(started), "the holder never started");
	}
	canceller_start(&c, started, 0.3);
	ck_assert_int_eq(run_cancellable(state, dir, script, 60, &c.flag, &res, err), AML_OK);
	canceller_join(&c);
	ck_assert_msg(!aml_is_file(done), "the waiting run returned only after the holder's end");
	ck_assert_int_eq(res.outcome, AML_EXEC_CANCELLED);
	ck_assert_str_eq(res.detail, "cancelled: the run is stopping (not started)");
	ran = aml_path_join(dir, "ran.txt");
	ck_assert_msg(!aml_is_file(ran), "the waiting script ran");
	free(ran);
	free(res.detail);
	ck_assert_int_eq(pthread_join(th, NULL), 0);
	ck_assert_msg(holder.rc == AML_OK && holder.res.outcome == AML_EXEC_OK, "holder: %s %s",
		      holder.err, holder.res.detail);
	free(holder.res.detail);
	aml_test_rmtree(holder.dir);
	free(holder.dir);
	free(started);
	free(done);
	aml_test_rmtree(dir);
	free(dir);
	stop(state);
}
END_TEST

/* ------------------------------------------------------------------ */
/* CPU slots and GPU shares.                                           */

/* Script text: sleep, then print what the run was given. */
static const char share_text[] =
	"import os, time\n"
	"t0 = time.time()\n"
	"time.sleep(1.0)\n"
	"cpus = [l.split()[1] for l in open('/proc/self/status') if l.startswith('Cpus_allowed_list:')][0]\n"
	"print('%r %r' % (t0, time.time()))\n"
	"print(cpus)\n"
	"print(os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>'))\n"
	"print(os.environ.get('AML_GPUS', '<unset>'))\n";

/* What one share_text run printed. */
struct share_seen {
	char cpus[64], gpus[64], ngpus[16];
	double t0, t1;
};

/* The next line of *p into out (possibly empty), advancing *p. */
static void
next_line(char **p, char *out, size_t len)
{
	char *nl = strchr(*p, '\n');

	ck_assert_ptr_nonnull(nl);
	ck_assert_uint_lt((size_t)(nl - *p), len);
	memcpy(out, *p, (size_t)(nl - *p));
	out[nl - *p] = '\0';
	*p = nl + 1;
}

static void
share_read(const char *dir, struct share_seen *s)
{
	char *out = slurp(dir, "stdout.txt", NULL), *p = out, times[128];

	memset(s, 0, sizeof *s);
	next_line(&p, times, sizeof times);
	ck_assert_msg(sscanf(times, "%lf %lf", &s->t0, &s->t1) == 2, "%s", out);
	next_line(&p, s->cpus, sizeof s->cpus);
	next_line(&p, s->gpus, sizeof s->gpus);
	next_line(&p, s->ngpus, sizeof s->ngpus);
	free(out);
}

/* n share_text runs at once under state, into seen[]. */
static void
share_runs(void *state, int n, struct share_seen *seen)
{
	struct par_run runs[8];
	int i;

	memset(runs, 0, sizeof runs);
	for (i = 0; i < n; i++) {
		runs[i].state = state;
		runs[i].dir = workdir_text(share_text, runs[i].script, sizeof runs[i].script);
	}
	run_parallel(runs, n);
	for (i = 0; i < n; i++)
		share_read(runs[i].dir, &seen[i]);
	par_free(runs, n);
}

/* The CPUs this process may use, as /proc shows a list ("0-1"). */
static void
own_cpus(char *out, size_t len)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	out[0] = '\0';
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (sscanf(line, "Cpus_allowed_list: %63s", out) == 1)
			break;
	fclose(f);
	(void)len;
}

/* pin_cpus auto: parallel runs on disjoint CPUs while there are enough,
 * shared beyond; off: every CPU the agent has. */
START_TEST(test_cpu_slots)
{
	static const char *const off[] = {"pin_cpus", "off", NULL};
	struct share_seen seen[3];
	char all[64];
	cpu_set_t set;
	void *state;
	int ncpu, i, a, b;

	ck_assert_int_eq(sched_getaffinity(0, sizeof set, &set), 0);
	ncpu = CPU_COUNT(&set);
	state = start(NULL);
	share_runs(state, 2, seen);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(sscanf(seen[i].cpus, "%d", &a) == 1 && strchr(seen[i].cpus, ',') == NULL &&
			      strchr(seen[i].cpus, '-') == NULL, "one CPU, got %s", seen[i].cpus);
		ck_assert(CPU_ISSET(a, &set));
	}
	/* gpus auto on a machine without NVIDIA's driver: no GPU */
	if (access("/proc/driver/nvidia/gpus", F_OK) != 0 && getenv("CUDA_VISIBLE_DEVICES") == NULL) {
		ck_assert_str_eq(seen[0].gpus, "");
		ck_assert_str_eq(seen[0].ngpus, "0");
	}
	a = atoi(seen[0].cpus);
	b = atoi(seen[1].cpus);
	if (ncpu >= 2)
		ck_assert_msg(a != b, "both runs on CPU %d", a);
	/* more runs than CPUs: still one CPU each */
	share_runs(state, ncpu + 1 <= 3 ? ncpu + 1 : 3, seen);
	for (i = 0; i < (ncpu + 1 <= 3 ? ncpu + 1 : 3); i++)
		ck_assert(strchr(seen[i].cpus, ',') == NULL && strchr(seen[i].cpus, '-') == NULL);
	stop(state);

	state = start(off);
	share_runs(state, 1, seen);
	own_cpus(all, sizeof all);
	ck_assert_str_eq(seen[0].cpus, all);
	stop(state);
}
END_TEST

/* Two GPUs, two runs at once: one device each, never the same. */
START_TEST(test_gpu_shares)
{
	static const char *const kv[] = {"gpus", "0,1", NULL};
	struct share_seen seen[2];
	void *state = start(kv);
	int i;

	share_runs(state, 2, seen);
	for (i = 0; i < 2; i++) {
		ck_assert_msg(strcmp(seen[i].gpus, "0") == 0 || strcmp(seen[i].gpus, "1") == 0,
			      "CUDA_VISIBLE_DEVICES=%s", seen[i].gpus);
		ck_assert_str_eq(seen[i].ngpus, "1");
	}
	ck_assert_str_ne(seen[0].gpus, seen[1].gpus);
	stop(state);
}
END_TEST

/* Three runs, two shares: the third waits; at no moment do more than two
 * run, nor two on one device. */
START_TEST(test_gpu_wait)
{
	static const char *const kv[] = {"gpus", "0,1", NULL};
	struct share_seen seen[3];
	void *state = start(kv);
	int i, k, holders;

	share_runs(state, 3, seen);
	for (i = 0; i < 3; i++) {
		holders = 0;
		for (k = 0; k < 3; k++)
			if (seen[k].t0 <= seen[i].t0 && seen[i].t0 < seen[k].t1) {
				holders++;
				if (k != i)
					ck_assert_str_ne(seen[k].gpus, seen[i].gpus);
			}
		ck_assert_msg(holders <= 2, "%d runs at once on 2 GPUs", holders);
	}
	stop(state);
}
END_TEST

/* The devices of a share; none (CUDA_VISIBLE_DEVICES empty, AML_GPUS=0);
 * auto from the agent's own CUDA_VISIBLE_DEVICES. */
START_TEST(test_gpu_env)
{
	static const char *const two[] = {"gpus", "GPU-aa, GPU-bb,GPU-cc", "gpus_per_candidate", "2",
					  NULL};
	static const char *const none[] = {"gpus", "none", NULL};
	static const char text[] =
		"import os\n"
		"print('[%s] [%s]' % (os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>'), os.environ.get('AML_GPUS', '<unset>')))\n";
	static const char *const envs[] = {"CUDA_VISIBLE_DEVICES=9", NULL};
	static const struct {
		const char *const *kv;
		const char *agent_env;
		const char *want;
	} cases[] = {
		{two, NULL, "[GPU-aa,GPU-bb] [2]\n"},
		{none, "3", "[] [0]\n"},
		{NULL, "5,7", "[5] [1]\n"},
		{NULL, "", "[] [0]\n"},
		{NULL, "-1", "[] [0]\n"},
	};
	char script[128], err[AML_ERRLEN], *out;
	char *dir = workdir_text(text, script, sizeof script);
	aml_exec_result res;
	void *state;
	size_t i;

	for (i = 0; i < AML_ARRAY_LEN(cases); i++) {
		if (cases[i].agent_env != NULL)
			ck_assert_int_eq(setenv("CUDA_VISIBLE_DEVICES", cases[i].agent_env, 1), 0);
		state = start(cases[i].kv);
		unsetenv("CUDA_VISIBLE_DEVICES");
		/* a request cannot widen its share */
		ck_assert_int_eq(run_script(state, dir, script, 30, 1 << 20, envs, &res, err), AML_OK);
		ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
		out = slurp(dir, "stdout.txt", NULL);
		ck_assert_str_eq(out, cases[i].want);
		free(out);
		free(res.detail);
		stop(state);
	}
	aml_test_rmtree(dir);
	free(dir);
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
	tcase_add_test(tc, test_segv_note);
	tcase_add_test(tc, test_missing_interpreter);
	tcase_add_test(tc, test_python_on_path);
	tcase_add_test(tc, test_missing_workdir);
	tcase_add_test(tc, test_bad_request);
	tcase_add_loop_test(tc, test_bad_params, 0, (int)AML_ARRAY_LEN(bad_params));
	tcase_add_test(tc, test_env);
	tcase_add_test(tc, test_gpus_too_few);
	tcase_add_test(tc, test_parallel);
	tcase_add_test(tc, test_sandbox_uid);
	tcase_add_test(tc, test_sandbox_uid_unreachable);
	tcase_add_test(tc, test_sandbox_uid_no_python);
	tcase_add_test(tc, test_fork_bomb);
	tcase_add_test(tc, test_memory_hog);
	tcase_add_test(tc, test_endless_loop);
	tcase_add_test(tc, test_endless_flood);
	tcase_add_test(tc, test_disk_filler);
	tcase_add_test(tc, test_daemon_dies);
	tcase_add_test(tc, test_parallel_escapees);
	tcase_add_test(tc, test_cpu_slots);
	tcase_add_test(tc, test_gpu_shares);
	tcase_add_test(tc, test_gpu_wait);
	tcase_add_test(tc, test_cancel_running);
	tcase_add_test(tc, test_cancel_daemon);
	tcase_add_test(tc, test_cancel_before_start);
	tcase_add_test(tc, test_cancel_gpu_wait);
	tcase_add_test(tc, test_gpu_env);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
