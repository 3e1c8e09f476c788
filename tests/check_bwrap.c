/*
 * check_bwrap.c — the bwrap executor plugin, loaded alone under the mock
 * host, running hostile Python scripts (written by each test into a fresh
 * temporary workdir) with the interpreter named by AML_PYTHON.
 *
 * Each test checks what the host sees afterwards: outcomes, files that
 * must (not) exist, and the process table (/proc scanned for a marker
 * that only the test's own scripts carry in their command line).  Timing
 * is never asserted beyond "a cancelled run ended long before its limit".
 */
#include "config.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "mock_host.h"
#include "util.h"

static const char *
python(void)
{
	const char *p = getenv("AML_PYTHON");

	return p != NULL && p[0] != '\0' ? p : "/usr/bin/python3";
}

static const aml_plugin_desc *
plugin(void)
{
	const aml_plugin_desc *d = mock_plugin_open(mock_plugin_library("bwrap"));

	ck_assert_int_eq(d->kind, AML_KIND_EXECUTOR);
	ck_assert_str_eq(d->name, "bwrap");
	return d;
}

/* Init with extra parameters ("key", "value", ..., NULL). */
static void *
start(const char *const *extra)
{
	static const char *kv[32];
	char err[AML_ERRLEN] = "";
	void *state = NULL;
	size_t n = 0, i;
	int rc;

	for (i = 0; extra != NULL && extra[i] != NULL; i += 2) {
		kv[n++] = extra[i];
		kv[n++] = extra[i + 1];
	}
	kv[n++] = "python";
	kv[n++] = python();
	kv[n] = NULL;
	mock_host_set_params(kv);
	rc = plugin()->init(mock_host(), NULL, &state, err, sizeof err);
	ck_assert_msg(rc == AML_OK, "init: %s", err);
	return state;
}

static void
stop(void *state)
{
	plugin()->fini(state);
}

/* A marker unique to this test process, part of every script's name. */
static const char *
marker(void)
{
	static char m[64];

	snprintf(m, sizeof m, "amlbw%d", (int)getpid());
	return m;
}

/* A fresh workdir (with working/ and submission/, as the core makes
 * them) holding <marker>.py with the given text.  Transferred. */
static char *
workdir_with(const char *text, char *script, size_t scriptlen)
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

/* Run script in dir with the request's cancel flag (may be NULL). */
static int
run_cancellable(void *state, const char *dir, const char *script, const char *input,
		double timeout_s, size_t cap, const char *const *env,
		const volatile int *cancel, aml_exec_result *res, char *err)
{
	aml_exec_request req;

	memset(&req, 0, sizeof req);
	req.workdir = dir;
	req.script = script;
	req.input_dir = input;
	req.timeout_s = timeout_s;
	req.output_cap = cap;
	req.env = env;
	req.node_id = 1;
	req.cancel = cancel;
	err[0] = '\0';
	return plugin()->ops == NULL ? -1 :
	       ((const aml_executor_ops *)plugin()->ops)->run(state, &req, res, err, AML_ERRLEN);
}

static int
run_in(void *state, const char *dir, const char *script, const char *input,
       double timeout_s, size_t cap, const char *const *env, aml_exec_result *res,
       char *err)
{
	return run_cancellable(state, dir, script, input, timeout_s, cap, env, NULL, res, err);
}

static char *
slurp(const char *dir, const char *name, size_t *len)
{
	char err[AML_ERRLEN] = "";
	char *path = aml_path_join(dir, name), *text = NULL;

	ck_assert_msg(aml_read_file(path, 0, &text, len, err, sizeof err) == AML_OK, "%s", err);
	free(path);
	return text;
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
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
		char path[300], buf[4096], *p;
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
		if (strstr(buf, marker()) == NULL)
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
		if ((f = fopen(path, "r")) == NULL)
			continue;
		len = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
		buf[len] = '\0';
		p = strrchr(buf, ')');
		if (p != NULL && p[1] == ' ' && (p[2] == 'Z' || p[2] == 'X'))
			continue;
		n++;
	}
	closedir(d);
	return n;
}

/* No process of ours is left (allowing the kernel a moment to tear the
 * PID namespace down). */
static void
assert_no_strays(void)
{
	int i;

	for (i = 0; i < 100 && count_marked() > 0; i++)
		usleep(20000);
	ck_assert_msg(count_marked() == 0, "%d sandboxed processes outlived the run",
		      count_marked());
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
	static const char text[] =
		"import os, numpy, pandas, sklearn\n"
		"from sklearn.linear_model import LogisticRegression\n"
		"df = pandas.read_csv('input/train.csv')\n"
		"pandas.DataFrame({'id': df['id'], 'y': 0}).to_csv('submission/submission.csv', index=False)\n"
		"print('cwd', os.getcwd(), 'home', os.environ['HOME'], 'threads', os.environ['OMP_NUM_THREADS'])\n"
		"print('keys', sorted(k for k in os.environ if 'KEY' in k))\n"
		"print('Final Validation Score: 0.75')\n";
	void *state;
	char *dir, *input = aml_test_tmpdir(), *p, *out;

	ck_assert_int_eq(chmod(input, 0755), 0);
	char script[128], err[AML_ERRLEN] = "";
	aml_exec_result res;

	ck_assert_int_eq(setenv("AML_FAKE_API_KEY", "sk-not-for-scripts", 1), 0);
	state = start(NULL);
	dir = workdir_with(text, script, sizeof script);
	p = aml_path_join(input, "train.csv");
	ck_assert(aml_write_file(p, "id,x\n1,2\n3,4\n", 13, err, sizeof err) == AML_OK);
	free(p);
	ck_assert_int_eq(run_in(state, dir, script, input, 30, 1 << 20, NULL, &res, err), AML_OK);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s / %s", res.detail, out);
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_str_eq(res.detail, "exit status 0");
	ck_assert_ptr_nonnull(strstr(out, "cwd /work home /work/working threads 1\n"));
	ck_assert_ptr_nonnull(strstr(out, "keys []\n"));
	ck_assert_ptr_nonnull(strstr(out, "Final Validation Score: 0.75\n"));
	free(out);
	out = slurp(dir, "submission/submission.csv", NULL);
	ck_assert_str_eq(out, "id,y\n1,0\n3,0\n");
	free(out);
	unsetenv("AML_FAKE_API_KEY");
	aml_test_rmtree(input);
	free(input);
	cleanup(state, dir, &res);
}
END_TEST

START_TEST(test_crash)
{
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN];
	char *dir = workdir_with("import sys\nprint('x')\nraise ValueError('column target is missing')\n",
				 script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_in(state, dir, script, NULL, 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
	ck_assert_int_eq(res.exit_code, 1);
	ck_assert_str_eq(res.detail, "exit status 1: ValueError: column target is missing");
	free(res.detail);
	aml_test_rmtree(dir);
	free(dir);
	dir = workdir_with("import sys\nsys.exit(3)\n", script, sizeof script);
	ck_assert_int_eq(run_in(state, dir, script, NULL, 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_CRASHED);
	ck_assert_int_eq(res.exit_code, 3);
	cleanup(state, dir, &res);
}
END_TEST

START_TEST(test_killed_by_signal)
{
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN];
	char *dir = workdir_with("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)\n",
				 script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_in(state, dir, script, NULL, 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_KILLED);
	ck_assert_int_eq(res.term_signal, SIGSEGV);
	ck_assert_str_eq(res.detail, "killed by signal 11 (SIGSEGV)");
	cleanup(state, dir, &res);
}
END_TEST

/* An endless loop with a child in another session: both gone at 2 s. */
START_TEST(test_timeout)
{
	static const char text[] =
		"import os, subprocess, sys, time\n"
		"subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.05)', sys.argv[0]], start_new_session=True)\n"
		"print('started', flush=True)\n"
		"while True:\n    pass\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], *out;
	char *dir = workdir_with(text, script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_in(state, dir, script, NULL, 2, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
	ck_assert_int_eq(res.term_signal, SIGKILL);
	ck_assert_str_eq(res.detail, "timed out after 2 s");
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_str_eq(out, "started\n");
	free(out);
	assert_no_strays();
	cleanup(state, dir, &res);
}
END_TEST

/* A fork bomb stops at max_procs (a normal user: counted for the
 * agent's uid; root: for sandbox_uid, whose processes are only ours). */
START_TEST(test_fork_bomb)
{
	static const char *const kv[] = {"max_procs", "40", NULL};
	static const char text[] =
		"import os, time\n"
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
		"print('forked', n, err, flush=True)\n"
		"time.sleep(30)\n";
	void *state = start(kv);
	char script[128], err[AML_ERRLEN], *out;
	char *dir = workdir_with(text, script, sizeof script);
	aml_exec_result res;
	int n = -1;

	if (geteuid() != 0)
		fprintf(stderr, "# fork bomb: max_procs counts this user's processes too\n");
	ck_assert_int_eq(run_in(state, dir, script, NULL, 3, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_TIMEOUT);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_msg(sscanf(out, "forked %d BlockingIOError", &n) == 1 && n < 40,
		      "not bounded: %s", out);
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
	char script[128], err[AML_ERRLEN], *errtext;
	char *dir = workdir_with(text, script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_in(state, dir, script, NULL, 20, 1 << 20, NULL, &res, err), AML_OK);
	errtext = slurp(dir, "stderr.txt", NULL);
	ck_assert_msg((res.outcome == AML_EXEC_CRASHED && strstr(errtext, "MemoryError") != NULL) ||
		      res.outcome == AML_EXEC_KILLED, "%d %s", res.outcome, res.detail);
	free(errtext);
	cleanup(state, dir, &res);
}
END_TEST

START_TEST(test_flood)
{
	static const char text[] =
		"import sys\n"
		"out = sys.stdout.buffer\n"
		"out.write(b'HEAD\\n')\n"
		"for _ in range(20):\n    out.write(b'x' * (1 << 20))\n"
		"out.write(b'\\nTAIL\\n')\n";
	const size_t cap = 64 * 1024;
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], *out;
	char *dir = workdir_with(text, script, sizeof script);
	aml_exec_result res;
	size_t len;

	ck_assert_int_eq(run_in(state, dir, script, NULL, 30, cap, NULL, &res, err), AML_OK);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	ck_assert_int_eq(res.truncated, 1);
	ck_assert_uint_eq(res.output_bytes, 5 + (20u << 20) + 6);
	out = slurp(dir, "stdout.txt", &len);
	ck_assert(len < cap + 64);
	ck_assert(strncmp(out, "HEAD\n", 5) == 0);
	ck_assert_str_eq(out + len - 6, "\nTAIL\n");
	free(out);
	cleanup(state, dir, &res);
}
END_TEST

/* Writes outside the workdir land nowhere on the host. */
START_TEST(test_writes_outside)
{
	static const char text[] =
		"import os\n"
		"m = os.environ['M']\n"
		"ok = []\n"
		"for p in ['../' + m + '-up', '/tmp/' + m + '-tmp', os.path.expanduser('~/' + m + '-home'),\n"
		"          os.environ['HOSTHOME'] + '/' + m + '-hosthome', os.environ['PARENT'] + '/' + m + '-abs',\n"
		"          '/usr/' + m + '-usr', '/' + m + '-root', 'input/' + m + '-input']:\n"
		"    try:\n"
		"        with open(p, 'w') as f: f.write('x')\n"
		"        ok.append(os.path.abspath(p))\n"
		"    except OSError as e:\n"
		"        pass\n"
		"print('written', ok)\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], path[4200], envm[128], envh[4200], envp[4200], *out;
	char *dir = workdir_with(text, script, sizeof script), *parent, *input;
	const char *home = getenv("HOME") ? getenv("HOME") : "/root";
	const char *env[4] = {envm, envh, envp, NULL};
	aml_exec_result res;

	parent = strdup(dir);
	*strrchr(parent, '/') = '\0';
	input = aml_test_tmpdir();
	ck_assert_int_eq(chmod(input, 0755), 0);
	snprintf(envm, sizeof envm, "M=%s", marker());
	snprintf(envh, sizeof envh, "HOSTHOME=%s", home);
	snprintf(envp, sizeof envp, "PARENT=%s", parent);
	ck_assert_int_eq(run_in(state, dir, script, input, 30, 1 << 20, env, &res, err), AML_OK);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	fprintf(stderr, "# %s", out);
	/* Only what lands inside the sandbox's own /tmp, home (in the
	 * workdir) or / (a tmpfs) may have "worked". */
	ck_assert_ptr_null(strstr(out, "-usr"));
	ck_assert_ptr_null(strstr(out, "-input"));
	snprintf(path, sizeof path, "%s/%s-up", parent, marker());
	ck_assert_msg(!exists(path), "%s exists", path);
	snprintf(path, sizeof path, "/tmp/%s-tmp", marker());
	ck_assert_msg(!exists(path), "%s exists", path);
	snprintf(path, sizeof path, "%s/%s-home", home, marker());
	ck_assert_msg(!exists(path), "%s exists", path);
	snprintf(path, sizeof path, "%s/%s-hosthome", home, marker());
	ck_assert_msg(!exists(path), "%s exists", path);
	snprintf(path, sizeof path, "%s/%s-abs", parent, marker());
	ck_assert_msg(!exists(path), "%s exists", path);
	snprintf(path, sizeof path, "/usr/%s-usr", marker());
	ck_assert_msg(!exists(path), "%s exists", path);
	snprintf(path, sizeof path, "/%s-root", marker());
	ck_assert_msg(!exists(path), "%s exists", path);
	snprintf(path, sizeof path, "%s/%s-input", input, marker());
	ck_assert_msg(!exists(path), "%s exists", path);
	/* the sandbox's own /tmp is writable (a tmpfs that vanishes) */
	ck_assert_ptr_nonnull(strstr(out, "-tmp'"));
	/* ~ is the workdir's working/: the one place outside "." it may write */
	snprintf(path, sizeof path, "%s/working/%s-home", dir, marker());
	ck_assert_msg(exists(path), "%s missing", path);
	free(out);
	aml_test_rmtree(input);
	free(input);
	free(parent);
	cleanup(state, dir, &res);
}
END_TEST

/* The task's private answers next to the input folder are out of reach. */
START_TEST(test_answers_hidden)
{
	static const char text[] =
		"import os\n"
		"found = []\n"
		"for root, dirs, files in os.walk('/'):\n"
		"    if root.startswith(('/proc', '/sys')):\n"
		"        dirs[:] = []\n"
		"        continue\n"
		"    if 'answers.csv' in files:\n"
		"        found.append(os.path.join(root, 'answers.csv'))\n"
		"opened = []\n"
		"for p in [os.environ['ANSWERS'], 'input/../private/answers.csv', '/input/../private/answers.csv']:\n"
		"    try:\n"
		"        opened.append(open(p).read())\n"
		"    except OSError:\n"
		"        pass\n"
		"print('found', found)\n"
		"print('opened', opened)\n"
		"print('train', open('input/train.csv').read().strip(), open('/input/train.csv').read().strip())\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN] = "", enva[4200], *out, *p;
	char *dir = workdir_with(text, script, sizeof script), *task = aml_test_tmpdir();
	char *pub = aml_path_join(task, "public"), *priv = aml_path_join(task, "private");
	const char *env[2] = {enva, NULL};
	aml_exec_result res;

	ck_assert_int_eq(mkdir(pub, 0755), 0);
	ck_assert_int_eq(mkdir(priv, 0755), 0);
	p = aml_path_join(pub, "train.csv");
	ck_assert(aml_write_file(p, "id,y\n", 5, err, sizeof err) == AML_OK);
	free(p);
	p = aml_path_join(priv, "answers.csv");
	ck_assert(aml_write_file(p, "SECRET\n", 7, err, sizeof err) == AML_OK);
	snprintf(enva, sizeof enva, "ANSWERS=%s", p);
	free(p);
	ck_assert_int_eq(run_in(state, dir, script, pub, 60, 1 << 20, env, &res, err), AML_OK);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	ck_assert_ptr_nonnull(strstr(out, "found []\nopened []\ntrain id,y id,y\n"));
	ck_assert_ptr_null(strstr(out, "SECRET"));
	free(out);
	free(pub);
	free(priv);
	aml_test_rmtree(task);
	free(task);
	cleanup(state, dir, &res);
}
END_TEST

/* A listener on the host's 127.0.0.1 is unreachable from the sandbox. */
START_TEST(test_no_network)
{
	static const char text[] =
		"import os, socket\n"
		"s = socket.socket()\n"
		"s.settimeout(2)\n"
		"try:\n"
		"    s.connect(('127.0.0.1', int(os.environ['PORT'])))\n"
		"    print('connected')\n"
		"except OSError as e:\n"
		"    print('blocked', type(e).__name__)\n"
		"try:\n"
		"    socket.create_connection(('1.1.1.1', 80), timeout=2)\n"
		"    print('internet')\n"
		"except OSError as e:\n"
		"    print('no internet', type(e).__name__)\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], envp[64], *out;
	char *dir = workdir_with(text, script, sizeof script);
	const char *env[2] = {envp, NULL};
	struct sockaddr_in sa;
	socklen_t salen = sizeof sa;
	aml_exec_result res;
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(ls, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(listen(ls, 4), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sa, &salen), 0);
	snprintf(envp, sizeof envp, "PORT=%d", ntohs(sa.sin_port));
	ck_assert_int_eq(run_in(state, dir, script, NULL, 30, 1 << 20, env, &res, err), AML_OK);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	ck_assert_ptr_nonnull(strstr(out, "blocked ConnectionRefusedError\n"));
	ck_assert_ptr_nonnull(strstr(out, "no internet"));
	/* and nothing reached the listener */
	ck_assert_int_eq(accept(ls, NULL, NULL), -1);
	ck_assert(errno == EAGAIN || errno == EWOULDBLOCK);
	close(ls);
	free(out);
	cleanup(state, dir, &res);
}
END_TEST

/* A daemon (double fork + setsid) dies with the run: it never writes. */
START_TEST(test_daemon_dies)
{
	static const char text[] =
		"import os, time\n"
		"if os.fork() == 0:\n"
		"    os.setsid()\n"
		"    if os.fork() == 0:\n"
		"        time.sleep(1.5)\n"
		"        open('late.txt', 'w').write('escaped')\n"
		"        time.sleep(60)\n"
		"    os._exit(0)\n"
		"time.sleep(0.3)\n"
		"print('parent done')\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], *path;
	char *dir = workdir_with(text, script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_in(state, dir, script, NULL, 30, 1 << 20, NULL, &res, err), AML_OK);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	assert_no_strays();
	sleep(2);
	path = aml_path_join(dir, "late.txt");
	ck_assert_msg(!exists(path), "the daemon outlived the run");
	free(path);
	cleanup(state, dir, &res);
}
END_TEST

/* Sets flag, as the core's Ctrl-C handler would, delay_s after the file
 * path appears (at most 20 s of waiting for it). */
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

	for (i = 0; c->path != NULL && i < 2000 && !exists(c->path); i++)
		usleep(10000);
	usleep((useconds_t)(c->delay_s * 1e6));
	__atomic_store_n(&c->flag, 1, __ATOMIC_RELAXED);
	return NULL;
}

/* A script busy in a loop, with a child in a session of its own, is
 * stopped when the run is stopping, long before its 60 s limit: the
 * sandbox dies whole. */
START_TEST(test_cancel_running)
{
	static const char text[] =
		"import os, subprocess, sys, time\n"
		"subprocess.Popen([sys.executable, '-c', 'import time\\nwhile True: time.sleep(0.05)', sys.argv[0]], start_new_session=True)\n"
		"open('working/started', 'w').close()\n"
		"while True:\n    time.sleep(0.05)\n";
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN];
	char *dir = workdir_with(text, script, sizeof script);
	char *started = aml_path_join(dir, "working/started");
	struct canceller c;
	aml_exec_result res;
	double t0 = aml_now();

	memset(&c, 0, sizeof c);
	c.path = started;
	c.delay_s = 0.3;
	ck_assert_int_eq(pthread_create(&c.t, NULL, canceller_main, &c), 0);
	ck_assert_int_eq(run_cancellable(state, dir, script, NULL, 60, 1 << 20, NULL, &c.flag,
					 &res, err), AML_OK);
	ck_assert_int_eq(pthread_join(c.t, NULL), 0);
	ck_assert_msg(exists(started), "the script did not start");
	ck_assert_msg(aml_now() - t0 < 30, "run took %g s", aml_now() - t0);
	ck_assert_msg(res.outcome == AML_EXEC_CANCELLED, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_str_eq(res.detail, "cancelled: the run is stopping");
	ck_assert_int_eq(res.term_signal, SIGKILL);
	assert_no_strays();
	free(started);
	cleanup(state, dir, &res);
}
END_TEST

/* The flag already set: the sandbox is not even started. */
START_TEST(test_cancel_before_start)
{
	static const volatile int stopping = 1;
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN], *ran;
	char *dir = workdir_with("open('ran.txt', 'w').write('ran')\n", script, sizeof script);
	aml_exec_result res;

	ck_assert_int_eq(run_cancellable(state, dir, script, NULL, 60, 1 << 20, NULL, &stopping,
					 &res, err), AML_OK);
	ck_assert_int_eq(res.outcome, AML_EXEC_CANCELLED);
	ck_assert_str_eq(res.detail, "cancelled: the run is stopping (not started)");
	ran = aml_path_join(dir, "ran.txt");
	ck_assert_msg(!exists(ran), "the script ran");
	free(ran);
	cleanup(state, dir, &res);
}
END_TEST

/* The run's GPU share in the environment (a request cannot widen it);
 * without GPUs an empty CUDA_VISIBLE_DEVICES and AML_GPUS=0. */
START_TEST(test_gpu_env)
{
	static const char *const two[] = {"gpus", "0,1", NULL};
	static const char *const none[] = {"gpus", "none", NULL};
	static const char *const env[] = {"CUDA_VISIBLE_DEVICES=0,1", NULL};
	static const char text[] =
		"import os\n"
		"print('[%s] [%s]' % (os.environ.get('CUDA_VISIBLE_DEVICES', '<unset>'), os.environ.get('AML_GPUS', '<unset>')))\n";
	char script[128], err[AML_ERRLEN], *out;
	char *dir = workdir_with(text, script, sizeof script);
	aml_exec_result res;
	void *state = start(two);

	ck_assert_int_eq(run_in(state, dir, script, NULL, 30, 1 << 20, env, &res, err), AML_OK);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_str_eq(out, "[0] [1]\n");
	free(out);
	free(res.detail);
	stop(state);
	state = start(none);
	ck_assert_int_eq(run_in(state, dir, script, NULL, 30, 1 << 20, env, &res, err), AML_OK);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "%s", res.detail);
	out = slurp(dir, "stdout.txt", NULL);
	ck_assert_str_eq(out, "[] [0]\n");
	free(out);
	cleanup(state, dir, &res);
}
END_TEST

START_TEST(test_init_refusals)
{
	static const char *const badbw[] = {"bwrap", "/nonexistent/bwrap", NULL};
	static const char *const badpy[] = {"python", "/opt/venv/bin/python", NULL};
	static const char *const badmem[] = {"memory_mb", "-1", NULL};
	char err[AML_ERRLEN] = "";
	void *state = NULL;

	mock_host_set_params(badbw);
	ck_assert_int_eq(plugin()->init(mock_host(), NULL, &state, err, sizeof err),
			 AML_EUNSUPPORTED);
	ck_assert_ptr_null(state);
	ck_assert_msg(strncmp(err, "executor bwrap: /nonexistent/bwrap does not work here (", 55) == 0,
		      "%s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	mock_host_set_params(badpy);
	ck_assert_int_eq(plugin()->init(mock_host(), NULL, &state, err, sizeof err),
			 AML_EUNSUPPORTED);
	ck_assert_str_eq(err, "executor bwrap: python must be an absolute path under /usr (the only "
			 "host folder in the sandbox), got '/opt/venv/bin/python'");
	mock_host_set_params(badmem);
	ck_assert_int_eq(plugin()->init(mock_host(), NULL, &state, err, sizeof err), AML_EINVAL);
	ck_assert_str_eq(err, "executor bwrap: memory_mb must be an integer from 0 to 1073741824, got '-1'");
}
END_TEST

START_TEST(test_bad_script_name)
{
	void *state = start(NULL);
	char script[128], err[AML_ERRLEN];
	char *dir = workdir_with("print(1)\n", script, sizeof script);
	aml_exec_result res;

	memset(&res, 0, sizeof res);
	ck_assert_int_eq(run_in(state, dir, "../x.py", NULL, 30, 1 << 20, NULL, &res, err),
			 AML_EINVAL);
	ck_assert_int_eq(run_in(state, dir, "/etc/passwd", NULL, 30, 1 << 20, NULL, &res, err),
			 AML_EINVAL);
	cleanup(state, dir, &res);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("bwrap");
	TCase *tc = tcase_create("bwrap");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_init_refusals);
	tcase_add_test(tc, test_ok);
	tcase_add_test(tc, test_crash);
	tcase_add_test(tc, test_killed_by_signal);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_fork_bomb);
	tcase_add_test(tc, test_memory_hog);
	tcase_add_test(tc, test_flood);
	tcase_add_test(tc, test_writes_outside);
	tcase_add_test(tc, test_answers_hidden);
	tcase_add_test(tc, test_no_network);
	tcase_add_test(tc, test_daemon_dies);
	tcase_add_test(tc, test_bad_script_name);
	tcase_add_test(tc, test_gpu_env);
	tcase_add_test(tc, test_cancel_running);
	tcase_add_test(tc, test_cancel_before_start);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
