/*
 * local.c — the "local" executor plugin: runs each candidate script as a
 * child process group on this machine.
 *
 * run() forks; the child starts its own session (so the script and every
 * process it spawns share one process group the parent can signal as a
 * whole), takes stdin from /dev/null and stdout/stderr from two pipes, and
 * execs "<python> <script>" in the node's workdir.  The parent reads both
 * pipes with poll() and keeps, per stream, the first output_cap/2 bytes
 * (written to workdir/stdout.txt or stderr.txt as they arrive) and the last
 * output_cap/2 bytes (in a ring buffer, written at the end after a
 * "[... N bytes cut ...]" marker), so a flood of output never reaches the
 * disk.  At the wall-clock limit the group gets SIGTERM, then SIGKILL after
 * kill_grace_s; when the main child exits, whatever is left of its group is
 * SIGKILLed too.
 *
 * Threads: several workers may call run() at once.  The plugin has no
 * mutable globals, installs no signal handlers, and waits only for the pid
 * it forked (a pidfd wakes poll() when it exits; without pidfds it polls
 * every EK_TICK_MS).  Every fd it opens is close-on-exec, and the child
 * closes every fd it did not mean to inherit.  Between fork() and exec()
 * the child calls only async-signal-safe functions, on data prepared
 * before the fork.  The agent around it must not reap children it did not
 * fork (no waitpid(-1), no SIGCHLD set to SIG_IGN): that would steal the
 * exit status, and run() then fails with AML_EIO.
 *
 * Known gap: a process that leaves the group (setsid(), setpgid()) escapes
 * the group kill and may outlive the run.  Catching those needs a PID
 * namespace or a child subreaper, both of which change process-wide state
 * of the agent; the hardened executor covers them.  Here the parent only
 * stops waiting for such escapees' output EK_DRAIN_S after the main child
 * exits.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <automlgen/plugin.h>

#include "execkit.h"

#define LX_NAME "local"
#define LX_VERSION "1.0.0"

#define LX_MAX_THREADS 4096

/* Plugin state: set in init, read-only afterwards (so shared by threads). */
struct lx {
	const aml_host *host;
	aml_plugin *self;
	char *python;        /* interpreter, absolute or as found on PATH */
	double grace_s;      /* SIGTERM -> SIGKILL */
	long threads;        /* default for the BLAS/OpenMP thread caps */
	char **drop;         /* NULL-terminated env name patterns not inherited */
};

/* One captured stream of the child. */

/* Everything one run() owns; released by lx_job_free(). */
struct lx_job {
	struct ek_stream out, err;
	int devnull;           /* the child's stdin */
	int status_r, status_w; /* exec status pipe: child -> parent */
	char **envp;           /* owned strings, NULL-terminated */
	size_t envn, envcap;
	char *argv[3];         /* python (borrowed), script (borrowed), NULL */
	char *buf;             /* EK_CHUNK bytes for read() */
	int maxfd;             /* fallback bound for closing fds in the child */
	pid_t parent_pid;      /* the agent, for the child's parent-death check */
};

/* What the child reports through the status pipe when it cannot exec. */
enum lx_stage { LX_STAGE_SETSID = 1, LX_STAGE_CHDIR, LX_STAGE_STDIO, LX_STAGE_EXEC };

/* The parent's view of the running child. */

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

/* ------------------------------------------------------------------ */
/* Parameters.                                                         */

/* The interpreter as the child will exec it: a name without '/' is looked
 * up on PATH now (exec in the child must not search, nor malloc); a
 * relative path is made absolute against the agent's cwd, since the child
 * runs in the workdir.  Symlinks are kept: a virtualenv's python finds its
 * environment through the path it was started by.  Transferred. */
static char *
lx_resolve_python(const char *name)
{
	const char *path, *p, *colon;
	char cwd[PATH_MAX];
	struct stat st;

	if (name[0] == '/')
		return strdup(name);
	if (strchr(name, '/') != NULL) {
		if (getcwd(cwd, sizeof cwd) == NULL)
			return strdup(name);
		return ek_join(cwd, name);
	}
	path = getenv("PATH");
	if (path == NULL || path[0] == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;; p = colon + 1) {
		size_t dl, size;
		char *cand;

		colon = strchr(p, ':');
		dl = colon ? (size_t)(colon - p) : strlen(p);
		size = (dl > 0 ? dl : 1) + 1 + strlen(name) + 1; /* "" means "." */
		cand = malloc(size);
		if (cand == NULL)
			return NULL;
		if (dl == 0)
			snprintf(cand, size, "./%s", name);
		else
			snprintf(cand, size, "%.*s/%s", (int)dl, p, name);
		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (colon == NULL)
			break;
	}
	/* Not found: keep the bare name; every run reports NOSTART for it. */
	return strdup(name);
}

/* Split a comma-separated pattern list into a NULL-terminated vector
 * (transferred; NULL on oom).  Blanks around patterns are ignored. */
static char **
lx_split_patterns(const char *list)
{
	size_t n = 1, i = 0;
	const char *p;
	char **v;

	for (p = list; *p; p++)
		if (*p == ',')
			n++;
	v = calloc(n + 1, sizeof *v);
	if (v == NULL)
		return NULL;
	for (p = list;;) {
		const char *end = strchr(p, ',');
		const char *e = end ? end : p + strlen(p);

		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > p) {
			v[i] = strndup(p, (size_t)(e - p));
			if (v[i] == NULL)
				goto oom;
			i++;
		}
		if (end == NULL)
			break;
		p = end + 1;
	}
	return v;
oom:
	while (i > 0)
		free(v[--i]);
	free(v);
	return NULL;
}

static void
lx_free(struct lx *x)
{
	size_t i;

	if (x == NULL)
		return;
	free(x->python);
	for (i = 0; x->drop && x->drop[i]; i++)
		free(x->drop[i]);
	free(x->drop);
	free(x);
}

/* Read and check the parameters (see manifest.yaml). */
static int
lx_init(const aml_host *host, aml_plugin *self, void **state, char *err,
	size_t errlen)
{
	struct lx *x;
	const char *v;
	char *end;
	char ebuf[128];

	*state = NULL;
	x = calloc(1, sizeof *x);
	if (x == NULL) {
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	x->host = host;
	x->self = self;
	x->grace_s = 5;
	x->threads = 1;

	v = host->param(self, "kill_grace_s");
	if (v != NULL) {
		errno = 0;
		x->grace_s = strtod(v, &end);
		if (errno != 0 || end == v || *end != '\0' || !isfinite(x->grace_s) ||
		    x->grace_s < 0) {
			ek_err(err, errlen, "kill_grace_s must be a number >= 0, got '%s'", v);
			lx_free(x);
			return AML_EINVAL;
		}
	}
	v = host->param(self, "threads");
	if (v != NULL) {
		errno = 0;
		x->threads = strtol(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0' || x->threads < 1 ||
		    x->threads > LX_MAX_THREADS) {
			ek_err(err, errlen, "threads must be an integer from 1 to %d, got '%s'",
			       LX_MAX_THREADS, v);
			lx_free(x);
			return AML_EINVAL;
		}
	}
	v = host->param(self, "env_drop");
	x->drop = lx_split_patterns(v != NULL ? v : "*API_KEY*,*TOKEN*,*SECRET*,*PASSWORD*");
	v = host->param(self, "python");
	if (v == NULL || v[0] == '\0')
		v = AML_DEFAULT_PYTHON;
	x->python = lx_resolve_python(v);
	if (x->drop == NULL || x->python == NULL) {
		ek_err(err, errlen, "out of memory");
		lx_free(x);
		return AML_ENOMEM;
	}
	/* Not an error: the interpreter may appear later, and each run reports
	 * NOSTART with the reason.  Say it once now, though. */
	if (access(x->python, X_OK) != 0)
		host->log(self, AML_LOG_WARN,
			  "python '%s' is not executable (%s): scripts will not start; set executor.local.python",
			  x->python, ek_strerror(errno, ebuf, sizeof ebuf));
	*state = x;
	return AML_OK;
}

static void
lx_fini(void *state)
{
	lx_free(state);
}

/* ------------------------------------------------------------------ */
/* The child's environment.                                            */

/* Set "KEY=VALUE" in the job's environment, replacing any entry with the
 * same key.  Returns 0 or -1 on oom. */
static int
lx_env_set(struct lx_job *j, const char *kv)
{
	size_t klen = strcspn(kv, "=") + 1, i;
	char *dup = strdup(kv);

	if (dup == NULL)
		return -1;
	for (i = 0; i < j->envn; i++)
		if (strncmp(j->envp[i], kv, klen) == 0) {
			free(j->envp[i]);
			j->envp[i] = dup;
			return 0;
		}
	if (j->envn + 2 > j->envcap) {
		size_t cap = j->envcap ? j->envcap * 2 : 64;
		char **nv = realloc(j->envp, cap * sizeof *nv);

		if (nv == NULL) {
			free(dup);
			return -1;
		}
		j->envp = nv;
		j->envcap = cap;
	}
	j->envp[j->envn++] = dup;
	j->envp[j->envn] = NULL;
	return 0;
}

/* 1 when the inherited variable kv ("NAME=...") matches an env_drop pattern. */
static int
lx_env_dropped(const struct lx *x, const char *kv)
{
	char name[256];
	size_t n = strcspn(kv, "="), i;

	if (n >= sizeof name)
		return 0;
	memcpy(name, kv, n);
	name[n] = '\0';
	for (i = 0; x->drop[i]; i++)
		if (fnmatch(x->drop[i], name, 0) == 0)
			return 1;
	return 0;
}

/* The agent's environment less env_drop, then the plugin's settings, then
 * the request's.  (Reading environ races with a concurrent setenv() in
 * another thread; the agent does not change its environment in a run.) */
static int
lx_build_env(const struct lx *x, const aml_exec_request *req, struct lx_job *j,
	     char *err, size_t errlen)
{
	static const char *const fixed[] = {
		"PYTHONUNBUFFERED=1", "PYTHONDONTWRITEBYTECODE=1", "MPLBACKEND=Agg",
	};
	static const char *const caps[] = {
		"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
		"NUMEXPR_NUM_THREADS",
		"AML_N_JOBS", /* the workspace contract's thread count for n_jobs */
	};
	char kv[64];
	size_t i;

	for (i = 0; environ != NULL && environ[i] != NULL; i++) {
		if (strchr(environ[i], '=') == NULL || lx_env_dropped(x, environ[i]))
			continue;
		if (lx_env_set(j, environ[i]) != 0)
			goto oom;
	}
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (lx_env_set(j, fixed[i]) != 0)
			goto oom;
	for (i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		snprintf(kv, sizeof kv, "%s=%ld", caps[i], x->threads);
		if (lx_env_set(j, kv) != 0)
			goto oom;
	}
	for (i = 0; req->env != NULL && req->env[i] != NULL; i++) {
		const char *eq = strchr(req->env[i], '=');

		if (eq == NULL || eq == req->env[i]) {
			ek_err(err, errlen, "request env entry '%s' is not KEY=VALUE", req->env[i]);
			return AML_EINVAL;
		}
		if (lx_env_set(j, req->env[i]) != 0)
			goto oom;
	}
	return AML_OK;
oom:
	ek_err(err, errlen, "out of memory building the environment");
	return AML_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Output capture.                                                     */

/* ------------------------------------------------------------------ */
/* The job.                                                            */

static void
lx_job_init(struct lx_job *j)
{
	memset(j, 0, sizeof *j);
	j->out.file_name = "stdout.txt";
	j->err.file_name = "stderr.txt";
	j->out.rfd = j->out.wfd = j->out.file = -1;
	j->err.rfd = j->err.wfd = j->err.file = -1;
	j->devnull = j->status_r = j->status_w = -1;
}

static void
lx_job_free(struct lx_job *j)
{
	size_t i;
	struct ek_stream *s[2] = {&j->out, &j->err};

	for (i = 0; i < 2; i++) {
		ek_close(&s[i]->rfd);
		ek_close(&s[i]->wfd);
		ek_close(&s[i]->file);
		free(s[i]->tail);
	}
	ek_close(&j->devnull);
	ek_close(&j->status_r);
	ek_close(&j->status_w);
	for (i = 0; i < j->envn; i++)
		free(j->envp[i]);
	free(j->envp);
	free(j->buf);
}

/* Everything the child needs, made before the fork. */
static int
lx_job_prepare(const struct lx *x, const aml_exec_request *req, size_t cap,
	       struct lx_job *j, char *err, size_t errlen)
{
	int fds[2], rc;
	char ebuf[128];
	struct rlimit rl;

	if ((rc = ek_stream_open(&j->out, req->workdir, cap, err, errlen)) != AML_OK ||
	    (rc = ek_stream_open(&j->err, req->workdir, cap, err, errlen)) != AML_OK)
		return rc;
	j->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (j->devnull < 0 || ek_fd_above_stdio(&j->devnull) != 0) {
		ek_err(err, errlen, "/dev/null: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		ek_err(err, errlen, "pipe: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	j->status_r = fds[0];
	j->status_w = fds[1];
	if (ek_fd_above_stdio(&j->status_w) != 0) {
		ek_err(err, errlen, "pipe setup: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	if ((rc = lx_build_env(x, req, j, err, errlen)) != AML_OK)
		return rc;
	j->buf = malloc(EK_CHUNK);
	if (j->buf == NULL) {
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	j->argv[0] = x->python;
	j->argv[1] = (char *)req->script;
	j->argv[2] = NULL;
	j->maxfd = 65536;
	j->parent_pid = getpid();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)(1 << 20))
		j->maxfd = (int)rl.rlim_cur;
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* The child, between fork() and exec(): async-signal-safe calls only.  */

static void __attribute__((noreturn))
lx_child_fail(const struct lx_job *j, int stage, int e)
{
	struct ek_child_err ce = {stage, e};
	const char *p = (const char *)&ce;
	size_t n = sizeof ce;

	while (n > 0) {
		ssize_t w = write(j->status_w, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		p += w;
		n -= (size_t)w;
	}
	_exit(127);
}

static void __attribute__((noreturn))
lx_child(const struct lx_job *j, const char *workdir)
{
	struct sigaction sa;
	sigset_t none;
	struct rlimit nocore = {0, 0};
	int sig;

	if (setsid() < 0)
		lx_child_fail(j, LX_STAGE_SETSID, errno);
	/* If the agent dies (killed, Ctrl-C) the script must not run on
	 * unattended: it gets SIGKILL when the forking thread goes away.  The
	 * parent may already be gone by now, so check once by hand. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != j->parent_pid)
		_exit(127);
	/* Handlers are reset by exec, but ignored signals are inherited (an
	 * agent often ignores SIGPIPE); then unblock everything, since the
	 * parent blocked all signals around fork(). */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL); /* EINVAL for KILL, STOP, libc's own */
	sigemptyset(&none);
	if (chdir(workdir) != 0)
		lx_child_fail(j, LX_STAGE_CHDIR, errno);
	if (dup2(j->devnull, 0) < 0 || dup2(j->out.wfd, 1) < 0 || dup2(j->err.wfd, 2) < 0)
		lx_child_fail(j, LX_STAGE_STDIO, errno);
	/* A crashing script leaves no core file in the workdir. */
	(void)setrlimit(RLIMIT_CORE, &nocore);
	ek_child_close_range(3, (unsigned)j->status_w - 1, j->maxfd);
	ek_child_close_range((unsigned)j->status_w + 1, ~0U, j->maxfd);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(j->argv[0], j->argv, j->envp);
	lx_child_fail(j, LX_STAGE_EXEC, errno);
}

/* ------------------------------------------------------------------ */
/* The parent: supervise, kill, reap.                                  */

/* Turn the finished watch into the result's outcome and detail line. */
static void
lx_fill_result(const struct lx *x, const aml_exec_request *req,
	       const struct lx_job *j, const struct ek_watch *w, aml_exec_result *res)
{
	char detail[EK_DETAIL_MAX + 128], line[EK_DETAIL_MAX];
	const char *name;
	int st = w->status;

	res->wall_s = ek_now() - w->start;
	res->cpu_s = (double)w->ru.ru_utime.tv_sec + (double)w->ru.ru_utime.tv_usec / 1e6 +
		     (double)w->ru.ru_stime.tv_sec + (double)w->ru.ru_stime.tv_usec / 1e6;
	res->output_bytes = j->out.total + j->err.total;
	res->truncated = ek_stream_cut(&j->out) > 0 || ek_stream_cut(&j->err) > 0;
	if (WIFEXITED(st))
		res->exit_code = WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		res->term_signal = WTERMSIG(st);

	if (w->termed) {
		res->outcome = AML_EXEC_TIMEOUT;
		if (w->killed)
			snprintf(detail, sizeof detail,
				 "timed out after %g s (SIGTERM ignored, SIGKILL after %g s)",
				 req->timeout_s, x->grace_s);
		else
			snprintf(detail, sizeof detail, "timed out after %g s", req->timeout_s);
	} else if (WIFSIGNALED(st)) {
		res->outcome = AML_EXEC_KILLED;
		name = ek_signame(WTERMSIG(st));
		if (name != NULL)
			snprintf(detail, sizeof detail, "killed by signal %d (%s)",
				 WTERMSIG(st), name);
		else
			snprintf(detail, sizeof detail, "killed by signal %d", WTERMSIG(st));
	} else if (WEXITSTATUS(st) == 0) {
		res->outcome = AML_EXEC_OK;
		snprintf(detail, sizeof detail, "exit status 0");
	} else {
		res->outcome = AML_EXEC_CRASHED;
		ek_last_stderr_line(req->workdir, line, sizeof line);
		if (line[0] != '\0')
			snprintf(detail, sizeof detail, "exit status %d: %s",
				 WEXITSTATUS(st), line);
		else
			snprintf(detail, sizeof detail, "exit status %d", WEXITSTATUS(st));
	}
	res->detail = x->host->mem_strdup(detail);
}

/* The result of a child that never reached the script. */
static void
lx_fill_nostart(const struct lx *x, const aml_exec_request *req,
		const struct ek_child_err *ce, const struct ek_watch *w,
		aml_exec_result *res)
{
	char detail[PATH_MAX + 256], ebuf[128];
	const char *why = ek_strerror(ce->err, ebuf, sizeof ebuf);

	res->outcome = AML_EXEC_NOSTART;
	res->exit_code = 127;
	res->wall_s = ek_now() - w->start;
	switch (ce->stage) {
	case LX_STAGE_EXEC:
		snprintf(detail, sizeof detail, "cannot execute %s: %s", x->python, why);
		break;
	case LX_STAGE_CHDIR:
		snprintf(detail, sizeof detail, "cannot enter %s: %s", req->workdir, why);
		break;
	case LX_STAGE_SETSID:
		snprintf(detail, sizeof detail, "cannot start a new session: %s", why);
		break;
	default:
		snprintf(detail, sizeof detail, "cannot set up stdin/stdout/stderr: %s", why);
		break;
	}
	res->detail = x->host->mem_strdup(detail);
}

/* Check the request's arguments and that workdir/script exist. */
static int
lx_check_request(const aml_exec_request *req, char *err, size_t errlen)
{
	struct stat st;
	char ebuf[128];
	char *path;

	if (req->workdir == NULL || req->workdir[0] == '\0' || req->script == NULL ||
	    req->script[0] == '\0') {
		ek_err(err, errlen, "request without a workdir or script");
		return AML_EINVAL;
	}
	if (req->script[0] == '-') {
		ek_err(err, errlen, "script name '%s' would read as an interpreter option",
		       req->script);
		return AML_EINVAL;
	}
	if (!(req->timeout_s > 0) || !isfinite(req->timeout_s)) {
		ek_err(err, errlen, "timeout_s must be a positive number of seconds, got %g",
		       req->timeout_s);
		return AML_EINVAL;
	}
	if (stat(req->workdir, &st) != 0) {
		ek_err(err, errlen, "cannot use workdir %s: %s", req->workdir,
		       ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_ENOTFOUND;
	}
	if (!S_ISDIR(st.st_mode)) {
		ek_err(err, errlen, "workdir %s is not a directory", req->workdir);
		return AML_ENOTFOUND;
	}
	path = req->script[0] == '/' ? strdup(req->script) : ek_join(req->workdir, req->script);
	if (path == NULL) {
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		ek_err(err, errlen, "script %s is not a regular file", path);
		free(path);
		return AML_ENOTFOUND;
	}
	free(path);
	return AML_OK;
}

/* Run req->script in req->workdir and wait for it (see the file comment). */
static int
lx_run(void *state, const aml_exec_request *req, aml_exec_result *res, char *err,
       size_t errlen)
{
	const struct lx *x = state;
	struct lx_job j;
	struct ek_watch w;
	struct ek_child_err ce;
	sigset_t all, old;
	char ebuf[128];
	int rc, e, failed;
	size_t cap;

	if (x == NULL || req == NULL || res == NULL) {
		ek_err(err, errlen, "run called without state, request or result");
		return AML_EINVAL;
	}
	memset(res, 0, sizeof *res);
	if ((rc = lx_check_request(req, err, errlen)) != AML_OK)
		return rc;
	cap = req->output_cap > 0 ? req->output_cap : EK_DEFAULT_CAP;

	lx_job_init(&j);
	memset(&w, 0, sizeof w);
	w.pidfd = -1;
	if ((rc = lx_job_prepare(x, req, cap, &j, err, errlen)) != AML_OK)
		goto out;

	/* Block every signal across fork() so no handler of the agent runs
	 * in the child before it has reset them. */
	sigfillset(&all);
	if ((e = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0) {
		ek_err(err, errlen, "pthread_sigmask: %s", ek_strerror(e, ebuf, sizeof ebuf));
		rc = AML_EIO;
		goto out;
	}
	w.start = ek_now();
	w.pid = fork();
	if (w.pid == 0)
		lx_child(&j, req->workdir);
	e = errno;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w.pid < 0) {
		ek_err(err, errlen, "fork: %s", ek_strerror(e, ebuf, sizeof ebuf));
		rc = AML_EIO;
		goto out;
	}
	w.deadline = w.start + req->timeout_s;
	ek_close(&j.out.wfd);
	ek_close(&j.err.wfd);
	ek_close(&j.devnull);
	ek_close(&j.status_w);

	failed = ek_read_exec_status(j.status_r, &ce);
	if (failed) {
		if ((e = ek_reap(&w)) != 0) {
			ek_err(err, errlen, "lost child %d: %s", (int)w.pid,
			       ek_strerror(e, ebuf, sizeof ebuf));
			rc = AML_EIO;
			goto out;
		}
		ek_stream_finish(&j.out);
		ek_stream_finish(&j.err);
		lx_fill_nostart(x, req, &ce, &w, res);
		rc = AML_OK;
		goto out;
	}

#ifdef SYS_pidfd_open
	w.pidfd = (int)syscall(SYS_pidfd_open, w.pid, 0); /* close-on-exec */
	if (w.pidfd < 0)
		w.pidfd = -1; /* old kernel: poll with EK_TICK_MS instead */
#endif
	{
		ek_sup sup = {x->host, x->self, x->grace_s, &j.out, &j.err, j.buf};

		rc = ek_supervise(&sup, &w, err, errlen);
	}
	ek_close(&w.pidfd);
	ek_stream_finish(&j.out);
	ek_stream_finish(&j.err);
	if (rc != AML_OK)
		goto out;
	if (j.out.write_errno != 0 || j.err.write_errno != 0)
		x->host->log(x->self, AML_LOG_WARN, "%s: writing captured output: %s",
			     req->workdir,
			     ek_strerror(j.out.write_errno ? j.out.write_errno : j.err.write_errno,
					 ebuf, sizeof ebuf));
	lx_fill_result(x, req, &j, &w, res);
out:
	lx_job_free(&j);
	return rc;
}

static const aml_executor_ops lx_ops = {lx_run};

AML_PLUGIN_DEFINE(AML_KIND_EXECUTOR, LX_NAME, LX_VERSION, lx_init, lx_fini, &lx_ops);
