/*
 * check_slurm.c — the slurm executor against a real single-node Slurm
 * cluster on localhost, which main() starts before the suite and stops
 * after it (tests/slurm-cluster.sh, config tests/data/slurm/slurm.conf.in:
 * auth/none, no systemd, no accounting, a node of 8 CPUs on a machine of
 * fewer).  Without Slurm installed every test fails, saying so.
 *
 * Each test uses run folders of its own under a fresh temporary folder,
 * so its jobs have a name of their own and "is the queue empty" asks
 * about them alone.  The plugin is loaded alone under the mock host,
 * except in the end-to-end test, which is a whole offline run.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "mock_host.h"
#include "run.h"
#include "submission.h"
#include "task.h"
#include "util.h"

#define TASK BUILDDIR "/examples/tasks/iris"

static char cluster_dir[64];       /* the cluster's folder, "" when not started */
static char cluster_conf[128];     /* its slurm.conf */
static char cluster_error[4096];   /* why it did not start */
static char *tmpdir;

/* ------------------------------------------------------------------ */
/* The cluster.                                                        */

static void
cluster_stop(void)
{
	char cmd[512];

	if (cluster_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof cmd, "sh '%s/tests/slurm-cluster.sh' stop '%s' && rm -rf '%s'",
		 SRCDIR, cluster_dir, cluster_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not stop the test cluster in %s\n", cluster_dir);
	cluster_dir[0] = '\0';
}

static void
cluster_start(void)
{
	char tmpl[] = "/tmp/aml-slurm-XXXXXX", cmd[512];
	FILE *p;
	size_t n;

	if (mkdtemp(tmpl) == NULL) {
		snprintf(cluster_error, sizeof cluster_error, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(cluster_dir, sizeof cluster_dir, "%s", tmpl);
	snprintf(cmd, sizeof cmd, "sh '%s/tests/slurm-cluster.sh' start '%s' 2>&1", SRCDIR,
		 cluster_dir);
	p = popen(cmd, "r");
	n = p != NULL ? fread(cluster_error, 1, sizeof cluster_error - 1, p) : 0;
	cluster_error[n] = '\0';
	if (p == NULL || pclose(p) != 0) {
		if (p == NULL)
			snprintf(cluster_error, sizeof cluster_error, "popen: %s", strerror(errno));
		cluster_stop();
		return;
	}
	snprintf(cluster_conf, sizeof cluster_conf, "%s/slurm.conf", tmpl);
	cluster_error[0] = '\0';
}

/* Every test starts here: the cluster must be up. */
static void
setup(void)
{
	ck_assert_msg(cluster_conf[0] != '\0',
		      "no Slurm test cluster (install Debian's slurmctld slurmd slurm-client): %s",
		      cluster_error);
	tmpdir = aml_test_tmpdir();
}

static void
teardown(void)
{
	aml_test_rmtree(tmpdir);
	AML_FREE(tmpdir);
}

/* The output of a shell command run with the cluster's SLURM_CONF
 * (transferred, trailing newline kept). */
static char *
sh(const char *fmt, ...)
{
	char cmd[4096], *out = NULL;
	size_t len = 0, cap = 0;
	va_list ap;
	FILE *p;
	int n;

	n = snprintf(cmd, sizeof cmd, "SLURM_CONF='%s'; export SLURM_CONF; ", cluster_conf);
	va_start(ap, fmt);
	vsnprintf(cmd + n, sizeof cmd - (size_t)n, fmt, ap);
	va_end(ap);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	for (;;) {
		if (len + 1024 > cap) {
			cap = cap ? cap * 2 : 4096;
			out = realloc(out, cap);
			ck_assert_ptr_nonnull(out);
		}
		n = (int)fread(out + len, 1, cap - len - 1, p);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	out[len] = '\0';
	pclose(p);
	return out;
}

/* Jobs of this name in the queue (pending, running, completing). */
static int
queued(const char *name)
{
	char *out = sh("squeue -h -o %%i --name='%s'", name), *p;
	int n = 0;

	for (p = out; *p; p++)
		n += *p == '\n';
	free(out);
	return n;
}

/* Wait up to timeout_s until `queued(name) == want`; the last count. */
static int
wait_queued(const char *name, int want, double timeout_s)
{
	double until = aml_now() + timeout_s;
	int n;

	while ((n = queued(name)) != want && aml_now() < until)
		usleep(200 * 1000);
	return n;
}

/* Jobs of this name running. */
static int
running(const char *name)
{
	char *out = sh("squeue -h -o %%i -t RUNNING --name='%s'", name), *p;
	int n = 0;

	for (p = out; *p; p++)
		n += *p == '\n';
	free(out);
	return n;
}

/* ------------------------------------------------------------------ */
/* The plugin.                                                         */

static const char *
python(void)
{
	const char *p = getenv("AML_PYTHON");

	return p != NULL && p[0] != '\0' ? p : "/usr/bin/python3";
}

static const aml_plugin_desc *
plugin(void)
{
	const aml_plugin_desc *d = mock_plugin_open(mock_plugin_library("slurm"));

	ck_assert_int_eq(d->kind, AML_KIND_EXECUTOR);
	ck_assert_str_eq(d->name, "slurm");
	return d;
}

/* Init with extra parameters ("key", "value", ..., NULL) over the test
 * defaults: the cluster's slurm.conf, a fast poll. */
static void *
start(const char *const *extra)
{
	static const char *kv[64];
	char err[AML_ERRLEN] = "";
	void *state = NULL;
	size_t n = 0, i;
	int rc;

	kv[n++] = "python";
	kv[n++] = python();
	kv[n++] = "slurm_conf";
	kv[n++] = cluster_conf;
	kv[n++] = "poll_s";
	kv[n++] = "0.2";
	for (i = 0; extra != NULL && extra[i] != NULL && n < 60; i += 2) {
		kv[n++] = extra[i];
		kv[n++] = extra[i + 1];
	}
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

/* A node folder <tmpdir>/<run>/nodes/<node> as the core makes it, with
 * solution.py holding text.  Transferred. */
static char *
node_dir(const char *run, unsigned node, const char *text)
{
	char err[AML_ERRLEN] = "", rel[128];
	char *dir, *p;

	snprintf(rel, sizeof rel, "%s/nodes/%04u", run, node);
	dir = aml_path_join(tmpdir, rel);
	p = aml_path_join(dir, "working");
	ck_assert_int_eq(aml_mkdirs(p, err, sizeof err), AML_OK);
	free(p);
	p = aml_path_join(dir, "submission");
	ck_assert_int_eq(aml_mkdirs(p, err, sizeof err), AML_OK);
	free(p);
	p = aml_path_join(dir, "solution.py");
	ck_assert_msg(aml_write_file(p, text, strlen(text), err, sizeof err) == AML_OK, "%s", err);
	free(p);
	return dir;
}

/* The job name the plugin gives the jobs of <tmpdir>/<run> (from the
 * marker of a node it submitted). */
static void
marker_of(const char *dir, char *id, size_t idlen, char *name, size_t namelen)
{
	char err[AML_ERRLEN] = "", *path = aml_path_join(dir, "slurm_job_id"), *text = NULL;
	char a[64], b[128];

	ck_assert_msg(aml_read_file(path, 0, &text, NULL, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(sscanf(text, "%63s %127s", a, b), 2);
	snprintf(id, idlen, "%s", a);
	snprintf(name, namelen, "%s", b);
	free(text);
	free(path);
}

/* Wait until dir has a marker with a job id (the job is submitted). */
static void
wait_marker(const char *dir, char *id, size_t idlen, char *name, size_t namelen)
{
	char *path = aml_path_join(dir, "slurm_job_id");
	int i;

	for (i = 0; i < 300; i++) {
		if (aml_is_file(path)) {
			marker_of(dir, id, idlen, name, namelen);
			if (strcmp(id, "-") != 0)
				break;
		}
		usleep(100 * 1000);
	}
	free(path);
	ck_assert_msg(i < 300, "no job was submitted for %s", dir);
}

/* Does dir hold a marker (slurm_job_id)? */
static int
has_marker(const char *dir)
{
	char *path = aml_path_join(dir, "slurm_job_id");
	int yes = aml_is_file(path);

	free(path);
	return yes;
}

/* Wait up to 20 s until a job of this name runs; fails the test else. */
static void
wait_running(const char *name)
{
	double until = aml_now() + 20;

	while (running(name) < 1 && aml_now() < until)
		usleep(100 * 1000);
	ck_assert_int_eq(running(name), 1);
}

static char *
slurp(const char *dir, const char *name)
{
	char err[AML_ERRLEN] = "", *path = aml_path_join(dir, name), *text = NULL;

	ck_assert_msg(aml_read_file(path, 0, &text, NULL, err, sizeof err) == AML_OK, "%s", err);
	free(path);
	return text;
}

/* run() with the request's cancel flag (may be NULL). */
static int
run_cancellable(void *state, const char *dir, double timeout_s, size_t cap,
		const char *const *env, unsigned node, const volatile int *cancel,
		aml_exec_result *res, char *err)
{
	aml_exec_request req;

	memset(&req, 0, sizeof req);
	req.workdir = dir;
	req.script = "solution.py";
	req.input_dir = dir;
	req.timeout_s = timeout_s;
	req.output_cap = cap;
	req.env = env;
	req.node_id = node;
	req.cancel = cancel;
	err[0] = '\0';
	return ((const aml_executor_ops *)plugin()->ops)->run(state, &req, res, err, AML_ERRLEN);
}

static int
run_in(void *state, const char *dir, double timeout_s, size_t cap, const char *const *env,
       unsigned node, aml_exec_result *res, char *err)
{
	return run_cancellable(state, dir, timeout_s, cap, env, node, NULL, res, err);
}

/* run() in a thread, with a cancel flag the test may set (stop), as the
 * core's Ctrl-C handler would. */
struct call {
	pthread_t t;
	void *state;
	char *dir;
	double timeout_s;
	unsigned node;
	volatile int stop;
	int rc;
	aml_exec_result res;
	char err[AML_ERRLEN];
};

static void *
call_main(void *arg)
{
	struct call *c = arg;

	c->rc = run_cancellable(c->state, c->dir, c->timeout_s, 0, NULL, c->node, &c->stop,
				&c->res, c->err);
	return NULL;
}

static void
call_start(struct call *c, void *state, char *dir, double timeout_s, unsigned node)
{
	memset(c, 0, sizeof *c);
	c->state = state;
	c->dir = dir;
	c->timeout_s = timeout_s;
	c->node = node;
	ck_assert_int_eq(pthread_create(&c->t, NULL, call_main, c), 0);
}

static void
call_join(struct call *c)
{
	ck_assert_int_eq(pthread_join(c->t, NULL), 0);
}

static void
res_free(aml_exec_result *res)
{
	mock_host()->mem_free(res->detail);
	res->detail = NULL;
}

#define SCORE_OK "print('Final Validation Score: 0.5')\n"

/* ------------------------------------------------------------------ */
/* Tests.                                                              */

/* A script runs as a Slurm job in its workdir: output captured, a clean
 * environment with the allow-list, the thread count of cpus_per_task,
 * no secret, and the batch script and marker left in the workdir. */
START_TEST(test_ok_job)
{
	static const char *const extra[] = {"cpus_per_task", "2", "env_pass", "PATH,AML_TEST_API_KEY,LANG",
					    NULL};
	static const char *const env[] = {"AML_SEED=7", NULL};
	const char *text =
		"import os\n"
		"print('cwd', os.getcwd())\n"
		"print('jobs', os.environ.get('AML_N_JOBS'), os.environ.get('OMP_NUM_THREADS'))\n"
		"print('gpus', os.environ.get('AML_GPUS'), repr(os.environ.get('CUDA_VISIBLE_DEVICES')))\n"
		"print('seed', os.environ.get('AML_SEED'))\n"
		"print('slurm', os.environ.get('SLURM_JOB_ID'))\n"
		"print('home', os.environ.get('HOME'))\n"
		"print('keys', sorted(k for k in os.environ if 'API' in k or k in ('USER', 'SHELL', 'MAIL')))\n"
		"open('submission/submission.csv', 'w').write('id,y\\n')\n"
		SCORE_OK;
	char err[AML_ERRLEN], id[64], name[128], line[256], *dir, *out, *script, *real;
	aml_exec_result res;
	void *state;

	setenv("AML_TEST_API_KEY", "sk-secret-value", 1);
	state = start(extra);
	dir = node_dir("r", 3, text);
	ck_assert_msg(run_in(state, dir, 60, 0, env, 3, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_int_eq(res.exit_code, 0);
	ck_assert_ptr_nonnull(strstr(res.detail, "slurm job "));
	marker_of(dir, id, sizeof id, name, sizeof name);
	ck_assert_msg(strspn(id, "0123456789") == strlen(id) && id[0], "job id '%s'", id);
	ck_assert_msg(strncmp(name, "aml-r-", 6) == 0, "job name '%s'", name);
	out = slurp(dir, "stdout.txt");
	real = aml_path_abs(dir);
	snprintf(line, sizeof line, "cwd %s\n", real);
	ck_assert_msg(strstr(out, line) != NULL, "%s", out);
	ck_assert_msg(strstr(out, "jobs 2 2\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "gpus 0 ''\n") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "seed 7\n") != NULL, "%s", out);
	snprintf(line, sizeof line, "slurm %s\n", id);
	ck_assert_msg(strstr(out, line) != NULL, "%s", out);
	snprintf(line, sizeof line, "home %s/working\n", real);
	ck_assert_msg(strstr(out, line) != NULL, "%s", out);
	/* no secret, none of the login environment Slurm loads */
	ck_assert_msg(strstr(out, "keys []\n") != NULL, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "Final Validation Score: 0.5"));
	script = slurp(dir, "slurm_job.sh");
	ck_assert_ptr_null(strstr(script, "sk-secret-value"));
	ck_assert_ptr_nonnull(strstr(script, "--cpus-per-task=2"));
	/* Slurm's own files were capped into stdout.txt/stderr.txt */
	{
		char *raw = aml_path_join(dir, "slurm-stdout.txt");

		ck_assert(!aml_is_file(raw));
		free(raw);
	}
	ck_assert_int_eq(wait_queued(name, 0, 10), 0);
	free(script);
	free(out);
	free(real);
	res_free(&res);
	free(dir);
	stop(state);
	unsetenv("AML_TEST_API_KEY");
}
END_TEST

/* A script that fails: CRASHED with its exit status and last error line. */
START_TEST(test_failing_job)
{
	const char *text = "import sys\nprint('partial')\nraise ValueError('bad column x')\n";
	char err[AML_ERRLEN], *dir, *e;
	aml_exec_result res;
	void *state = start(NULL);

	dir = node_dir("r", 1, text);
	ck_assert_msg(run_in(state, dir, 60, 0, NULL, 1, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_CRASHED, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_int_eq(res.exit_code, 1);
	ck_assert_msg(strstr(res.detail, "ValueError: bad column x") != NULL, "%s", res.detail);
	e = slurp(dir, "stderr.txt");
	ck_assert_ptr_nonnull(strstr(e, "Traceback"));
	free(e);
	res_free(&res);
	free(dir);
	stop(state);
}
END_TEST

/* A script past the request's limit is stopped there (inside the job)
 * and reported as timed out. */
START_TEST(test_timeout)
{
	const char *text = "import time\nprint('start', flush=True)\ntime.sleep(120)\n";
	char err[AML_ERRLEN], *dir;
	aml_exec_result res;
	void *state = start(NULL);
	double t0 = aml_now();

	dir = node_dir("r", 1, text);
	ck_assert_msg(run_in(state, dir, 2, 0, NULL, 1, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_TIMEOUT, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_msg(strstr(res.detail, "timed out after 2 s") != NULL, "%s", res.detail);
	ck_assert_msg(aml_now() - t0 < 20, "took %g s", aml_now() - t0);
	res_free(&res);
	free(dir);
	stop(state);
}
END_TEST

/* A job that reaches Slurm's own time limit first (time_limit 1 minute,
 * the request allowing more) ends TIMEOUT in Slurm: timed out. */
START_TEST(test_slurm_time_limit)
{
	static const char *const extra[] = {"time_limit", "1", NULL};
	const char *text = "import time\nprint('start', flush=True)\ntime.sleep(600)\n";
	char err[AML_ERRLEN], *dir;
	aml_exec_result res;
	void *state = start(extra);

	dir = node_dir("r", 1, text);
	ck_assert_msg(run_in(state, dir, 300, 0, NULL, 1, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_TIMEOUT, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_msg(strstr(res.detail, "Slurm time limit") != NULL, "%s", res.detail);
	res_free(&res);
	free(dir);
	stop(state);
}
END_TEST

/* A job Slurm refuses (more memory than any node has) is not started,
 * at once, with Slurm's message; so is an unknown partition. */
START_TEST(test_refused)
{
	static const char *const mem[] = {"mem_mb", "100000", NULL};
	static const char *const part[] = {"partition", "nosuchpartition", NULL};
	char err[AML_ERRLEN], *dir;
	aml_exec_result res;
	void *state = start(_i == 0 ? mem : part);
	double t0 = aml_now();

	dir = node_dir("r", 1, SCORE_OK);
	ck_assert_msg(run_in(state, dir, 60, 0, NULL, 1, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_NOSTART, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_msg(strstr(res.detail, "Slurm refused the job") != NULL, "%s", res.detail);
	ck_assert_msg(aml_now() - t0 < 10, "took %g s", aml_now() - t0);
	res_free(&res);
	free(dir);
	stop(state);
}
END_TEST

/* A job that cannot start (held) is cancelled after queue_timeout_s and
 * reported as not started, with Slurm's reason; the queue is left empty. */
START_TEST(test_queue_timeout)
{
	static const char *const extra[] = {"extra_args", "--hold", "queue_timeout_s", "2", NULL};
	char err[AML_ERRLEN], id[64], name[128], *dir;
	aml_exec_result res;
	void *state = start(extra);
	double t0 = aml_now();

	dir = node_dir("r", 1, SCORE_OK);
	ck_assert_msg(run_in(state, dir, 60, 0, NULL, 1, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_NOSTART, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_msg(strstr(res.detail, "waiting in the Slurm queue after 2 s (JobHeld") != NULL,
		      "%s", res.detail);
	ck_assert_msg(aml_now() - t0 < 15, "took %g s", aml_now() - t0);
	marker_of(dir, id, sizeof id, name, sizeof name);
	ck_assert_int_eq(wait_queued(name, 0, 10), 0);
	res_free(&res);
	free(dir);
	stop(state);
}
END_TEST

/* A flood of output is capped (head and tail) like the other executors'. */
START_TEST(test_output_cap)
{
	const char *text = "import sys\n"
			   "print('HEAD')\n"
			   "for i in range(200000): print('line %06d' % i)\n"
			   "print('TAIL')\n";
	char err[AML_ERRLEN], *dir, *out;
	aml_exec_result res;
	aml_exec_request req;
	void *state = start(NULL);

	dir = node_dir("r", 1, text);
	memset(&req, 0, sizeof req);
	req.workdir = dir;
	req.script = "solution.py";
	req.timeout_s = 60;
	req.output_cap = 10000;
	req.node_id = 1;
	ck_assert_int_eq(((const aml_executor_ops *)plugin()->ops)->run(state, &req, &res, err,
									sizeof err), AML_OK);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_int_eq(res.truncated, 1);
	ck_assert_uint_gt(res.output_bytes, 2000000);
	out = slurp(dir, "stdout.txt");
	ck_assert_uint_lt(strlen(out), 10100);
	ck_assert(strncmp(out, "HEAD\n", 5) == 0);
	ck_assert_ptr_nonnull(strstr(out, "bytes cut ...]"));
	ck_assert_ptr_nonnull(strstr(out, "TAIL\n"));
	free(out);
	res_free(&res);
	free(dir);
	stop(state);
}
END_TEST

/* More jobs run at once than this machine has cores (the test node says
 * 8 CPUs), and however many wait, the controller gets one squeue per
 * poll: counted by an squeue wrapper. */
START_TEST(test_in_flight)
{
	enum { N = 6 };
	const char *text = "import time, os\n"
			   "open('t_start', 'w').write(repr(time.time()))\n"
			   "time.sleep(4)\n"
			   "open('t_end', 'w').write(repr(time.time()))\n" SCORE_OK;
	char err[AML_ERRLEN] = "", wrapper[4200], log[4200], *real, *text_log, *p;
	const char *kv[5];
	struct call c[N];
	char *dirs[N];
	double first_end = 1e300, last_start = 0, t0, elapsed;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	int i, calls = 0;
	void *state;

	/* squeue that logs each call */
	real = sh("command -v squeue");
	real[strcspn(real, "\n")] = '\0';
	snprintf(log, sizeof log, "%s/squeue.log", tmpdir);
	snprintf(wrapper, sizeof wrapper, "%s/squeue", tmpdir);
	{
		char body[9000];

		snprintf(body, sizeof body, "#!/bin/sh\necho \"$*\" >>'%s'\nexec '%s' \"$@\"\n", log,
			 real);
		ck_assert(aml_write_file(wrapper, body, strlen(body), err, sizeof err) == AML_OK);
		ck_assert_int_eq(chmod(wrapper, 0755), 0);
	}
	free(real);
	kv[0] = "squeue";
	kv[1] = wrapper;
	kv[2] = NULL;
	state = start(kv);
	t0 = aml_now();
	for (i = 0; i < N; i++) {
		dirs[i] = node_dir("r", (unsigned)i, text);
		call_start(&c[i], state, dirs[i], 60, (unsigned)i);
	}
	for (i = 0; i < N; i++) {
		call_join(&c[i]);
		ck_assert_msg(c[i].rc == AML_OK, "%s", c[i].err);
		ck_assert_msg(c[i].res.outcome == AML_EXEC_OK, "job %d: %s", i, c[i].res.detail);
		res_free(&c[i].res);
	}
	elapsed = aml_now() - t0;
	for (i = 0; i < N; i++) {
		double s = atof(p = slurp(dirs[i], "t_start"));

		free(p);
		if (s > last_start)
			last_start = s;
		s = atof(p = slurp(dirs[i], "t_end"));
		free(p);
		if (s < first_end)
			first_end = s;
		free(dirs[i]);
	}
	/* all N ran at the same time, on a machine of fewer cores */
	ck_assert_msg(last_start < first_end, "the jobs did not all run at once (%ld cores)", cores);
	text_log = slurp(tmpdir, "squeue.log");
	for (p = text_log; *p; p++)
		calls += *p == '\n';
	/* one at init, then one per poll (0.2 s), whatever N */
	ck_assert_msg(calls <= 2 + (int)(elapsed / 0.2) + 2, "%d squeue calls in %g s", calls,
		      elapsed);
	ck_assert_msg(calls >= 3, "%d squeue calls", calls);
	free(text_log);
	stop(state);
}
END_TEST

/* max_in_flight bounds the jobs in the queue; the others wait for a slot. */
START_TEST(test_max_in_flight)
{
	static const char *const extra[] = {"max_in_flight", "2", NULL};
	enum { N = 4 };
	const char *text = "import time\ntime.sleep(1.5)\n" SCORE_OK;
	struct call c[N];
	char *dirs[N], id[64], name[128] = "";
	int i, most = 0;
	void *state = start(extra);

	for (i = 0; i < N; i++) {
		dirs[i] = node_dir("r", (unsigned)i, text);
		call_start(&c[i], state, dirs[i], 60, (unsigned)i);
	}
	wait_marker(dirs[0], id, sizeof id, name, sizeof name);
	for (;;) {
		int q = queued(name), done = 1;

		if (q > most)
			most = q;
		for (i = 0; i < N; i++) {
			char *m = aml_path_join(dirs[i], "stdout.txt");

			done &= aml_is_file(m);
			free(m);
		}
		if (done)
			break;
		usleep(100 * 1000);
	}
	for (i = 0; i < N; i++) {
		call_join(&c[i]);
		ck_assert_msg(c[i].rc == AML_OK && c[i].res.outcome == AML_EXEC_OK, "%d: %s %s", i,
			      c[i].err, c[i].res.detail ? c[i].res.detail : "");
		res_free(&c[i].res);
		free(dirs[i]);
	}
	ck_assert_msg(most <= 2, "%d jobs in the queue at once", most);
	ck_assert_int_ge(most, 1);
	stop(state);
}
END_TEST

/* The end of a run (budget, fini) cancels the jobs still in flight: the
 * waiting calls return at once, cancelled, the queue is left empty and
 * the markers are gone (a resumed run submits those nodes again). */
START_TEST(test_cancel_at_end)
{
	enum { N = 3 };
	const char *text = "import time\ntime.sleep(300)\n";
	struct call c[N];
	char *dirs[N], id[64], name[128];
	double t0;
	int i;
	void *state = start(NULL);

	for (i = 0; i < N; i++) {
		dirs[i] = node_dir("r", (unsigned)i, text);
		call_start(&c[i], state, dirs[i], 600, (unsigned)i);
	}
	for (i = 0; i < N; i++)
		wait_marker(dirs[i], id, sizeof id, name, sizeof name);
	ck_assert_int_eq(wait_queued(name, N, 20), N);
	t0 = aml_now();
	stop(state);
	for (i = 0; i < N; i++) {
		call_join(&c[i]);
		ck_assert_msg(c[i].rc == AML_OK, "%s", c[i].err);
		ck_assert_msg(c[i].res.outcome == AML_EXEC_CANCELLED, "outcome %d: %s",
			      c[i].res.outcome, c[i].res.detail);
		ck_assert_msg(strstr(c[i].res.detail, "the run is stopping") != NULL, "%s",
			      c[i].res.detail);
		ck_assert_msg(!has_marker(dirs[i]), "%s: the cancelled job's marker stayed", dirs[i]);
		res_free(&c[i].res);
		free(dirs[i]);
	}
	ck_assert_msg(aml_now() - t0 < 10, "fini took %g s", aml_now() - t0);
	ck_assert_int_eq(wait_queued(name, 0, 15), 0);
}
END_TEST

/* An agent interrupted with Ctrl-C (SIGINT: the core has no handler, so
 * the process just ends, without fini) leaves no job behind: the guard
 * cancels them. */
START_TEST(test_interrupt)
{
	const char *text = "import time\ntime.sleep(300)\n";
	char *dir = node_dir("r", 1, text), id[64], name[128];
	pid_t pid;
	int st;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		char err[AML_ERRLEN];
		aml_exec_result res;
		void *state;

		signal(SIGINT, SIG_DFL);
		state = start(NULL);
		(void)run_in(state, dir, 600, 0, NULL, 1, &res, err);
		_exit(3); /* never: SIGINT comes first */
	}
	wait_marker(dir, id, sizeof id, name, sizeof name);
	ck_assert_int_eq(wait_queued(name, 1, 20), 1);
	ck_assert_int_eq(kill(pid, SIGINT), 0);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st) && WTERMSIG(st) == SIGINT);
	ck_assert_msg(wait_queued(name, 0, 15) == 0, "job %s outlived the agent", id);
	free(dir);
}
END_TEST

/* A run that stops with cancel_on_exit false leaves its job queued; a
 * later run() on the same workdir (a resumed run) re-attaches to it and
 * gets its result; the script ran once, and a run() after it has
 * finished takes the same result without submitting again. */
START_TEST(test_reattach)
{
	static const char *const keep[] = {"cancel_on_exit", "false", NULL};
	const char *text = "import time\n"
			   "open('runs.txt', 'a').write('ran\\n')\n"
			   "time.sleep(4)\n" SCORE_OK;
	char err[AML_ERRLEN], id[64], id2[64], name[128], name2[128], *dir, *runs, *out;
	aml_exec_result res;
	struct call c;
	void *state = start(keep);

	dir = node_dir("r", 5, text);
	call_start(&c, state, dir, 120, 5);
	wait_marker(dir, id, sizeof id, name, sizeof name);
	wait_running(name);
	stop(state); /* the agent stops; the job stays */
	call_join(&c);
	ck_assert_int_eq(c.rc, AML_ECANCELED);
	ck_assert_msg(strstr(c.err, "stays in the queue") != NULL, "%s", c.err);
	ck_assert_int_eq(queued(name), 1);

	/* the resumed run */
	state = start(NULL);
	ck_assert_msg(run_in(state, dir, 120, 0, NULL, 5, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "outcome %d: %s", res.outcome, res.detail);
	marker_of(dir, id2, sizeof id2, name2, sizeof name2);
	ck_assert_str_eq(id2, id);
	ck_assert_msg(strstr(res.detail, id) != NULL, "%s", res.detail);
	res_free(&res);
	out = slurp(dir, "stdout.txt");
	ck_assert_ptr_nonnull(strstr(out, "Final Validation Score: 0.5"));
	free(out);

	/* once more: the job is over, its result stands */
	ck_assert_msg(run_in(state, dir, 120, 0, NULL, 5, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "outcome %d: %s", res.outcome, res.detail);
	res_free(&res);
	marker_of(dir, id2, sizeof id2, name2, sizeof name2);
	ck_assert_str_eq(id2, id);
	runs = slurp(dir, "runs.txt");
	ck_assert_str_eq(runs, "ran\n");
	free(runs);
	out = slurp(dir, "stdout.txt");
	ck_assert_ptr_nonnull(strstr(out, "Final Validation Score: 0.5"));
	free(out);
	stop(state);
	ck_assert_int_eq(wait_queued(name, 0, 10), 0);
	free(dir);
}
END_TEST

/* The run is stopping (the request's cancel flag: Ctrl-C) while its job
 * runs: run() scancels it and returns CANCELLED long before the job's
 * limit, the queue holds none of the run's jobs, and the marker is gone,
 * so a later run() on the same workdir submits the script again rather
 * than re-attaching to the cancelled job. */
START_TEST(test_cancel_flag)
{
	const char *text = "import time\n"
			   "open('runs.txt', 'a').write('ran\\n')\n"
			   "time.sleep(300)\n";
	const char *again = "open('runs.txt', 'a').write('ran\\n')\n" SCORE_OK;
	char err[AML_ERRLEN] = "", id[64], id2[64], name[128], name2[128], *dir, *path, *runs;
	aml_exec_result res;
	struct call c;
	double t0;
	void *state = start(NULL);

	dir = node_dir("r", 2, text);
	call_start(&c, state, dir, 600, 2);
	wait_marker(dir, id, sizeof id, name, sizeof name);
	wait_running(name);
	path = aml_path_join(dir, "runs.txt");
	for (t0 = aml_now(); !aml_is_file(path) && aml_now() < t0 + 20;)
		usleep(100 * 1000);
	ck_assert_msg(aml_is_file(path), "the script did not start");
	free(path);
	t0 = aml_now();
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	call_join(&c);
	ck_assert_msg(aml_now() - t0 < 30, "run() took %g s to stop", aml_now() - t0);
	ck_assert_msg(c.rc == AML_OK, "%s", c.err);
	ck_assert_msg(c.res.outcome == AML_EXEC_CANCELLED, "outcome %d: %s", c.res.outcome,
		      c.res.detail);
	ck_assert_msg(strncmp(c.res.detail, "cancelled: the run is stopping", 30) == 0 &&
		      strstr(c.res.detail, id) != NULL, "%s", c.res.detail);
	res_free(&c.res);
	ck_assert_msg(wait_queued(name, 0, 5) == 0, "job %s is still in the queue", id);
	ck_assert_msg(!has_marker(dir), "the cancelled job's marker stayed");

	/* the resumed run: a new job, which runs the script to its end */
	path = aml_path_join(dir, "solution.py");
	ck_assert_int_eq(aml_write_file(path, again, strlen(again), err, sizeof err), AML_OK);
	free(path);
	ck_assert_msg(run_in(state, dir, 120, 0, NULL, 2, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "outcome %d: %s", res.outcome, res.detail);
	res_free(&res);
	marker_of(dir, id2, sizeof id2, name2, sizeof name2);
	ck_assert_str_ne(id2, id);
	runs = slurp(dir, "runs.txt");
	ck_assert_str_eq(runs, "ran\nran\n");
	free(runs);
	stop(state);
	ck_assert_int_eq(wait_queued(name, 0, 10), 0);
	free(dir);
}
END_TEST

/* With cancel_on_exit false the flag leaves the job running and its
 * marker in place: run() returns CANCELLED at once, saying so, and a
 * resumed run re-attaches to the job and takes its result. */
START_TEST(test_cancel_flag_keep)
{
	static const char *const keep[] = {"cancel_on_exit", "false", NULL};
	const char *text = "import time\n"
			   "open('runs.txt', 'a').write('ran\\n')\n"
			   "time.sleep(4)\n" SCORE_OK;
	char err[AML_ERRLEN], id[64], id2[64], name[128], name2[128], *dir, *runs;
	aml_exec_result res;
	struct call c;
	void *state = start(keep);

	dir = node_dir("r", 3, text);
	call_start(&c, state, dir, 120, 3);
	wait_marker(dir, id, sizeof id, name, sizeof name);
	wait_running(name);
	__atomic_store_n(&c.stop, 1, __ATOMIC_RELAXED);
	call_join(&c);
	ck_assert_msg(c.rc == AML_OK, "%s", c.err);
	ck_assert_msg(c.res.outcome == AML_EXEC_CANCELLED, "outcome %d: %s", c.res.outcome,
		      c.res.detail);
	ck_assert_msg(strstr(c.res.detail, "stays in the queue") != NULL, "%s", c.res.detail);
	res_free(&c.res);
	ck_assert_int_eq(queued(name), 1);
	marker_of(dir, id2, sizeof id2, name2, sizeof name2);
	ck_assert_str_eq(id2, id);
	stop(state);

	state = start(NULL);
	ck_assert_msg(run_in(state, dir, 120, 0, NULL, 3, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "outcome %d: %s", res.outcome, res.detail);
	ck_assert_msg(strstr(res.detail, id) != NULL, "%s", res.detail);
	res_free(&res);
	runs = slurp(dir, "runs.txt");
	ck_assert_str_eq(runs, "ran\n");
	free(runs);
	stop(state);
	ck_assert_int_eq(wait_queued(name, 0, 10), 0);
	free(dir);
}
END_TEST

/* The flag already set: nothing is submitted. */
START_TEST(test_cancel_before_submit)
{
	static const volatile int stopping = 1;
	char err[AML_ERRLEN], *dir, *path;
	aml_exec_result res;
	void *state = start(NULL);

	dir = node_dir("r", 4, SCORE_OK);
	ck_assert_msg(run_cancellable(state, dir, 120, 0, NULL, 4, &stopping, &res, err) == AML_OK,
		      "%s", err);
	ck_assert_int_eq(res.outcome, AML_EXEC_CANCELLED);
	ck_assert_str_eq(res.detail, "cancelled: the run is stopping (not started)");
	res_free(&res);
	ck_assert(!has_marker(dir));
	path = aml_path_join(dir, "slurm_job.sh");
	ck_assert_msg(!aml_is_file(path), "a batch script was written");
	free(path);
	stop(state);
	free(dir);
}
END_TEST

/* The node fails under two running jobs: the one Slurm requeues is
 * waited for until it has run again; the one it may not requeue ends
 * NODE_FAIL, killed.  A job cancelled by hand is killed, saying so. */
START_TEST(test_node_failure)
{
	static const char *const noreq[] = {"extra_args", "--no-requeue", NULL};
	const char *text = "import time\ntime.sleep(5)\n" SCORE_OK;
	const char *hang = "import time\ntime.sleep(300)\n";
	char ida[64], idb[64], idc[64], namea[128], nameb[128], namec[128], *da, *db, *dc, *o;
	struct call a, b, cc;
	void *sa = start(NULL), *sb;
	int ra;

	sb = start(noreq); /* the mock's parameters are read in init */
	da = node_dir("ra", 1, text);
	db = node_dir("rb", 1, text);
	dc = node_dir("rc", 1, hang);
	call_start(&a, sa, da, 120, 1);
	call_start(&b, sb, db, 120, 1);
	call_start(&cc, sa, dc, 120, 1);
	wait_marker(da, ida, sizeof ida, namea, sizeof namea);
	wait_marker(db, idb, sizeof idb, nameb, sizeof nameb);
	wait_marker(dc, idc, sizeof idc, namec, sizeof namec);
	{
		double until = aml_now() + 20;

		while ((running(namea) < 1 || running(nameb) < 1 || running(namec) < 1) &&
		       aml_now() < until)
			usleep(100 * 1000);
	}
	ck_assert_int_eq(running(namea) + running(nameb) + running(namec), 3);
	o = sh("scancel %s 2>&1", idc);
	free(o);
	o = sh("scontrol update nodename=amlnode state=down reason=aml-test 2>&1");
	free(o);
	/* back in service; the requeued job may start at once */
	for (ra = 0; ra < 50; ra++) {
		o = sh("sinfo -h -n amlnode -o %%t");
		if (strncmp(o, "idle", 4) == 0 || strncmp(o, "mix", 3) == 0 ||
		    strncmp(o, "alloc", 5) == 0) {
			free(o);
			break;
		}
		free(o);
		o = sh("scontrol update nodename=amlnode state=resume 2>&1");
		free(o);
		usleep(200 * 1000);
	}
	for (ra = 0; ra < 50; ra++) {
		o = sh("scontrol show job -o %s", ida);
		if (strstr(o, "Restarts=1") != NULL && strstr(o, "JobState=PENDING") != NULL) {
			free(o);
			o = sh("scontrol update jobid=%s starttime=now 2>&1", ida);
			free(o);
			break;
		}
		free(o);
		usleep(200 * 1000);
	}
	call_join(&a);
	call_join(&b);
	call_join(&cc);
	ck_assert_msg(a.rc == AML_OK && a.res.outcome == AML_EXEC_OK, "requeued: %s %s", a.err,
		      a.res.detail ? a.res.detail : "");
	ck_assert_msg(strstr(a.res.detail, "requeued 1 time") != NULL, "%s", a.res.detail);
	ck_assert_msg(b.rc == AML_OK && b.res.outcome == AML_EXEC_KILLED, "not requeued: %s %s",
		      b.err, b.res.detail ? b.res.detail : "");
	ck_assert_msg(strstr(b.res.detail, "NODE_FAIL") != NULL, "%s", b.res.detail);
	ck_assert_msg(cc.rc == AML_OK && cc.res.outcome == AML_EXEC_KILLED, "cancelled: %s %s",
		      cc.err, cc.res.detail ? cc.res.detail : "");
	ck_assert_msg(strstr(cc.res.detail, "cancelled outside the run") != NULL, "%s",
		      cc.res.detail);
	res_free(&a.res);
	res_free(&b.res);
	res_free(&cc.res);
	stop(sa);
	stop(sb);
	free(da);
	free(db);
	free(dc);
}
END_TEST

/* Whatever a test did to the node, it is back in service. */
static void
node_resume(void)
{
	char *o = sh("scontrol update nodename=amlnode state=resume >/dev/null 2>&1; "
		     "sinfo -h -n amlnode -o %%t");

	free(o);
	teardown();
}

/* wrapper: the interpreter runs in bwrap inside the job, without the
 * network ({workdir} bound writable). */
START_TEST(test_wrapper_bwrap)
{
	static const char *const extra[] = {
		"wrapper", "bwrap --ro-bind / / --dev /dev --proc /proc --unshare-net "
			   "--bind {workdir} {workdir} --",
		NULL};
	const char *text = "import os, socket\n"
			   "s = socket.socket()\n"
			   "try:\n"
			   "    s.connect(('127.0.0.1', int(os.environ['AML_PORT'])))\n"
			   "    print('net: connected')\n"
			   "except OSError as e:\n"
			   "    print('net: refused', e.errno)\n"
			   "open('working/w.txt', 'w').write('ok')\n" SCORE_OK;
	char err[AML_ERRLEN], kv[64], *dir, *out, *w, *port;
	const char *env[] = {kv, NULL};
	aml_exec_result res;
	void *state;

	if (system("bwrap --ro-bind / / --unshare-net true >/dev/null 2>&1") != 0) {
		fprintf(stderr, "# bwrap does not work here: wrapper test not run\n");
		return;
	}
	/* the controller's port: open outside the sandbox, not inside */
	port = sh("sed -n 's/^SlurmctldPort=//p' '%s'", cluster_conf);
	port[strcspn(port, "\n")] = '\0';
	snprintf(kv, sizeof kv, "AML_PORT=%s", port);
	free(port);
	state = start(extra);
	dir = node_dir("r", 1, text);
	ck_assert_msg(run_in(state, dir, 60, 0, env, 1, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.outcome == AML_EXEC_OK, "outcome %d: %s", res.outcome, res.detail);
	out = slurp(dir, "stdout.txt");
	ck_assert_msg(strstr(out, "net: refused") != NULL, "%s", out);
	w = slurp(dir, "working/w.txt"); /* {workdir} is writable inside */
	ck_assert_str_eq(w, "ok");
	free(w);
	res_free(&res);
	stop(state);
	/* without the wrapper the same script reaches the controller (in a
	 * node of its own: this one's job is done, a run() would re-attach) */
	free(dir);
	state = start(NULL);
	dir = node_dir("r", 2, text);
	ck_assert_msg(run_in(state, dir, 60, 0, env, 2, &res, err) == AML_OK, "%s", err);
	free(out);
	out = slurp(dir, "stdout.txt");
	ck_assert_msg(strstr(out, "net: connected") != NULL, "%s", out);
	free(out);
	res_free(&res);
	free(dir);
	stop(state);
}
END_TEST

/* Broken parameters and a controller that cannot be reached refuse the
 * plugin at init, saying what to set. */
START_TEST(test_init_refusals)
{
	static const char *const conf[] = {"python", "/usr/bin/python3", "slurm_conf",
					   "/nonexistent/slurm.conf", NULL};
	static const char *const gres[] = {"python", "/usr/bin/python3", "gres", "gpu:x:y", NULL};
	char err[AML_ERRLEN] = "";
	void *state = NULL;

	mock_host_set_params(conf);
	ck_assert_int_ne(plugin()->init(mock_host(), NULL, &state, err, sizeof err), AML_OK);
	ck_assert_msg(strstr(err, "slurm_conf") != NULL, "%s", err);
	ck_assert_ptr_null(state);
	mock_host_set_params(gres);
	ck_assert_int_eq(plugin()->init(mock_host(), NULL, &state, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "gres") != NULL, "%s", err);
}
END_TEST

/* A whole offline search whose candidates all run as Slurm jobs, three at
 * a time: a valid submission, and every node's job id in its folder. */
START_TEST(test_offline_run)
{
	char err[AML_ERRLEN] = "", buf[4300], reason[512] = "", id[64], name[128] = "";
	const char *kv[] = {"executor=slurm", "search.num_drafts=3", "search.max_nodes=4",
			    "search.workers=3", "exec.timeout_s=300", "executor.slurm.poll_s=0.2",
			    "log.level=warning", "run.name=r", NULL};
	aml_config *cfg = NULL;
	aml_run_result res;
	aml_task_info *t = NULL;
	json_object *sum, *v;
	char *sub, *p;
	size_t i;

	ck_assert_int_eq(aml_config_new(&cfg, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "run.dir=%s", tmpdir);
	ck_assert_int_eq(aml_config_set_arg(cfg, buf, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "executor.slurm.slurm_conf=%s", cluster_conf);
	ck_assert_int_eq(aml_config_set_arg(cfg, buf, err, sizeof err), AML_OK);
	for (i = 0; kv[i]; i++)
		ck_assert_msg(aml_config_set_arg(cfg, kv[i], err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_run(cfg, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(res.has_best, 1);
	ck_assert_uint_eq(res.nodes, 4);
	ck_assert_int_eq(aml_task_load(TASK, &t, err, sizeof err), AML_OK);
	sub = aml_path_join(res.run_dir, "submission.csv");
	ck_assert_msg(aml_submission_check(t, sub, reason, sizeof reason) == AML_OK, "%s", reason);
	free(sub);
	p = aml_path_join(res.run_dir, "summary.json");
	sum = json_object_from_file(p);
	free(p);
	ck_assert_ptr_nonnull(sum);
	ck_assert(json_object_object_get_ex(sum, "executor", &v));
	ck_assert_str_eq(json_object_get_string(v), "slurm");
	json_object_put(sum);
	for (i = 0; i < 4; i++) {
		char rel[64], *dir, *out;

		snprintf(rel, sizeof rel, "nodes/%04zu", i);
		dir = aml_path_join(res.run_dir, rel);
		marker_of(dir, id, sizeof id, name, sizeof name);
		ck_assert_msg(id[0] && strspn(id, "0123456789") == strlen(id), "node %zu: '%s'", i, id);
		out = slurp(dir, "slurm_job.sh");
		ck_assert_ptr_nonnull(strstr(out, "solution.py"));
		free(out);
		out = slurp(dir, "stdout.txt");
		ck_assert_msg(strstr(out, "Final Validation Score") != NULL, "node %zu: %s", i, out);
		free(out);
		free(dir);
	}
	ck_assert_int_eq(wait_queued(name, 0, 10), 0);
	aml_task_free(t);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

/* The whole program: a search whose candidates run as Slurm jobs is
 * SIGKILLed while two of them run (cancel_on_exit false: the jobs stay);
 * `automlgen resume` re-attaches to both instead of submitting them again
 * (each node keeps its job id), the run completes with a valid
 * submission, and the queue ends empty. */
START_TEST(test_resume_reattaches)
{
	char opt[6][600], slow[512], rundir[600], d0[700], d1[700], id0[64], id1[64];
	char name0[128], name1[128], idb[64], nameb[128], errp[700], *err, *text;
	const char *argv[40];
	pid_t pid;
	int n = 0, st, i;
	FILE *f;

	/* every job waits 4 s before its script: they are running when the
	 * agent is killed */
	snprintf(slow, sizeof slow, "%s/slow.sh", tmpdir);
	f = fopen(slow, "w");
	ck_assert_ptr_nonnull(f);
	fputs("#!/bin/sh\nsleep 4\nexec \"$@\"\n", f);
	fclose(f);
	chmod(slow, 0755);
	snprintf(opt[0], sizeof opt[0], "run.dir=%s", tmpdir);
	snprintf(opt[1], sizeof opt[1], "executor.slurm.slurm_conf=%s", cluster_conf);
	snprintf(opt[2], sizeof opt[2], "executor.slurm.wrapper=%s", slow);
	argv[n++] = BUILDDIR "/automlgen";
	argv[n++] = "run";
	argv[n++] = TASK;
	for (i = 0; i < 3; i++) {
		argv[n++] = "-o";
		argv[n++] = opt[i];
	}
	{
		static const char *const kv[] = {
			"executor=slurm", "executor.slurm.cancel_on_exit=false",
			"executor.slurm.poll_s=0.2", "search.num_drafts=2", "search.max_nodes=3",
			"search.workers=2", "exec.timeout_s=300", "review.enabled=false",
			"run.progress=off", "run.name=k", NULL};

		for (i = 0; kv[i]; i++) {
			argv[n++] = "-o";
			argv[n++] = kv[i];
		}
	}
	argv[n] = NULL;
	snprintf(errp, sizeof errp, "%s/run.err", tmpdir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execv(argv[0], (char **)argv);
		_exit(127);
	}
	snprintf(rundir, sizeof rundir, "%s/k", tmpdir);
	snprintf(d0, sizeof d0, "%s/nodes/0000", rundir);
	snprintf(d1, sizeof d1, "%s/nodes/0001", rundir);
	wait_marker(d0, id0, sizeof id0, name0, sizeof name0);
	wait_marker(d1, id1, sizeof id1, name1, sizeof name1);
	for (i = 0; i < 200 && running(name0) < 2; i++)
		usleep(100 * 1000);
	ck_assert_msg(running(name0) == 2, "the two drafts' jobs are not running");
	kill(pid, SIGKILL);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFSIGNALED(st));
	ck_assert_int_eq(queued(name0), 2);

	snprintf(errp, sizeof errp, "%s/resume.err", tmpdir);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		int fd = open(errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);

		if (fd < 0 || dup2(fd, 2) < 0 || dup2(fd, 1) < 0)
			_exit(127);
		execl(BUILDDIR "/automlgen", BUILDDIR "/automlgen", "resume", rundir, (char *)NULL);
		_exit(127);
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	err = slurp(tmpdir, "resume.err");
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "resume: %s", err);
	for (i = 0; i < 2; i++) {
		char line[160];

		snprintf(line, sizeof line, "re-attaching to slurm job %s", i ? id1 : id0);
		ck_assert_msg(strstr(err, line) != NULL, "no '%s' in: %s", line, err);
	}
	free(err);
	marker_of(d0, idb, sizeof idb, nameb, sizeof nameb);
	ck_assert_str_eq(idb, id0);
	marker_of(d1, idb, sizeof idb, nameb, sizeof nameb);
	ck_assert_str_eq(idb, id1);
	text = slurp(rundir, "summary.json");
	ck_assert_msg(strstr(text, "\"nodes_total\":3") != NULL
		      || strstr(text, "\"nodes_total\": 3") != NULL, "%s", text);
	ck_assert_msg(strstr(text, "\"pending\":0") != NULL || strstr(text, "\"pending\": 0") != NULL,
		      "%s", text);
	free(text);
	ck_assert_int_eq(wait_queued(name0, 0, 10), 0);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("slurm");
	TCase *tc = tcase_create("cluster");
	TCase *tn = tcase_create("node");
	int rc;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, test_init_refusals);
	tcase_add_test(tc, test_ok_job);
	tcase_add_test(tc, test_failing_job);
	tcase_add_test(tc, test_timeout);
	tcase_add_test(tc, test_slurm_time_limit);
	tcase_add_loop_test(tc, test_refused, 0, 2);
	tcase_add_test(tc, test_queue_timeout);
	tcase_add_test(tc, test_output_cap);
	tcase_add_test(tc, test_in_flight);
	tcase_add_test(tc, test_max_in_flight);
	tcase_add_test(tc, test_cancel_at_end);
	tcase_add_test(tc, test_interrupt);
	tcase_add_test(tc, test_reattach);
	tcase_add_test(tc, test_cancel_flag);
	tcase_add_test(tc, test_cancel_flag_keep);
	tcase_add_test(tc, test_cancel_before_submit);
	tcase_add_test(tc, test_wrapper_bwrap);
	tcase_add_test(tc, test_offline_run);
	tcase_add_test(tc, test_resume_reattaches);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(tn, setup, node_resume);
	tcase_set_timeout(tn, 240);
	tcase_add_test(tn, test_node_failure);
	suite_add_tcase(s, tn);

	cluster_start();
	rc = aml_test_main(s);
	cluster_stop();
	return rc;
}
