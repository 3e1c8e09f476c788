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
 * every LX_TICK_MS).  Every fd it opens is close-on-exec, and the child
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
 * stops waiting for such escapees' output LX_DRAIN_S after the main child
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

#define LX_NAME "local"
#define LX_VERSION "1.0.0"

#define LX_DEFAULT_CAP ((size_t)1 << 20) /* per stream, when the request has 0 */
#define LX_DRAIN_S 1.0          /* read output this long after the child exits */
#define LX_TICK_MS 50           /* exit check interval without pidfds */
#define LX_CHUNK 65536          /* one read() from a pipe */
#define LX_READS_PER_WAKE 16    /* reads per stream before checking deadlines */
#define LX_DETAIL_MAX 240       /* bytes of stderr quoted in a detail line */
#define LX_STDERR_PEEK 4096     /* bytes of stderr.txt searched for that line */
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
struct lx_stream {
	const char *file_name; /* "stdout.txt" / "stderr.txt" */
	int rfd;               /* parent's read end, -1 at EOF */
	int wfd;               /* child's write end; -1 in the parent after fork */
	int file;              /* workdir/<file_name> */
	size_t head_cap, head_len;
	char *tail;            /* ring of tail_cap bytes, after the head */
	size_t tail_cap, tail_len, tail_pos;
	uint64_t total;        /* bytes the child wrote */
	int write_errno;       /* first error writing the file, 0 if none */
};

/* Everything one run() owns; released by lx_job_free(). */
struct lx_job {
	struct lx_stream out, err;
	int devnull;           /* the child's stdin */
	int status_r, status_w; /* exec status pipe: child -> parent */
	char **envp;           /* owned strings, NULL-terminated */
	size_t envn, envcap;
	char *argv[3];         /* python (borrowed), script (borrowed), NULL */
	char *buf;             /* LX_CHUNK bytes for read() */
	int maxfd;             /* fallback bound for closing fds in the child */
	pid_t parent_pid;      /* the agent, for the child's parent-death check */
};

/* What the child reports through the status pipe when it cannot exec. */
enum lx_stage { LX_STAGE_SETSID = 1, LX_STAGE_CHDIR, LX_STAGE_STDIO, LX_STAGE_EXEC };
struct lx_child_err {
	int stage;
	int err;
};

/* The parent's view of the running child. */
struct lx_watch {
	pid_t pid;
	int pidfd;             /* -1 when the kernel has no pidfd_open */
	double start, deadline, kill_at, drain_until;
	int exited, termed, killed;
	int status;            /* from wait4, valid once exited */
	struct rusage ru;
};

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

static void AML_PRINTF(3, 4)
lx_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "executor " LX_NAME ": ");
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* strerror that is safe to call from several threads. */
static const char *
lx_strerror(int e, char *buf, size_t len)
{
	return strerror_r(e, buf, len);
}

static double
lx_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds from now until t, rounded up, clamped to [0, INT_MAX]. */
static int
lx_ms_until(double t, double now)
{
	double ms = (t - now) * 1000.0;

	if (ms <= 0)
		return 0;
	if (ms >= (double)INT_MAX - 1)
		return INT_MAX;
	return (int)ms + 1;
}

static void
lx_close(int *fd)
{
	if (*fd >= 0) {
		/* After close() the fd is gone even on EINTR (Linux): never retry. */
		(void)close(*fd);
		*fd = -1;
	}
}

/* "a/b" (transferred, NULL on oom). */
static char *
lx_join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *p = malloc(la + 1 + lb + 1);

	if (p == NULL)
		return NULL;
	memcpy(p, a, la);
	p[la] = '/';
	memcpy(p + la + 1, b, lb + 1);
	return p;
}

/* Write all of p; returns 0 or an errno value. */
static int
lx_write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Move fd to a number >= 3 (keeping close-on-exec), so that the child's
 * dup2() onto 0, 1 and 2 can never clobber it.  Returns 0 or -1. */
static int
lx_fd_above_stdio(int *fd)
{
	int nfd;

	if (*fd > 2)
		return 0;
	nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -1;
	lx_close(fd);
	*fd = nfd;
	return 0;
}

static const char *
lx_signame(int sig)
{
	switch (sig) {
	case SIGHUP: return "SIGHUP";
	case SIGINT: return "SIGINT";
	case SIGQUIT: return "SIGQUIT";
	case SIGILL: return "SIGILL";
	case SIGTRAP: return "SIGTRAP";
	case SIGABRT: return "SIGABRT";
	case SIGBUS: return "SIGBUS";
	case SIGFPE: return "SIGFPE";
	case SIGKILL: return "SIGKILL";
	case SIGUSR1: return "SIGUSR1";
	case SIGSEGV: return "SIGSEGV";
	case SIGUSR2: return "SIGUSR2";
	case SIGPIPE: return "SIGPIPE";
	case SIGALRM: return "SIGALRM";
	case SIGTERM: return "SIGTERM";
	case SIGXCPU: return "SIGXCPU";
	case SIGXFSZ: return "SIGXFSZ";
	case SIGSYS: return "SIGSYS";
	}
	return NULL;
}

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
		return lx_join(cwd, name);
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
		lx_err(err, errlen, "out of memory");
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
			lx_err(err, errlen, "kill_grace_s must be a number >= 0, got '%s'", v);
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
			lx_err(err, errlen, "threads must be an integer from 1 to %d, got '%s'",
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
		lx_err(err, errlen, "out of memory");
		lx_free(x);
		return AML_ENOMEM;
	}
	/* Not an error: the interpreter may appear later, and each run reports
	 * NOSTART with the reason.  Say it once now, though. */
	if (access(x->python, X_OK) != 0)
		host->log(self, AML_LOG_WARN,
			  "python '%s' is not executable (%s): scripts will not start; set executor.local.python",
			  x->python, lx_strerror(errno, ebuf, sizeof ebuf));
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
			lx_err(err, errlen, "request env entry '%s' is not KEY=VALUE", req->env[i]);
			return AML_EINVAL;
		}
		if (lx_env_set(j, req->env[i]) != 0)
			goto oom;
	}
	return AML_OK;
oom:
	lx_err(err, errlen, "out of memory building the environment");
	return AML_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Output capture.                                                     */

/* Create workdir/<file_name>, the pipe and the tail ring of one stream. */
static int
lx_stream_open(struct lx_stream *s, const char *workdir, size_t cap, char *err,
	       size_t errlen)
{
	int fds[2];
	char ebuf[128];
	char *path = lx_join(workdir, s->file_name);

	if (path == NULL) {
		lx_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	s->file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->file < 0) {
		lx_err(err, errlen, "cannot create %s: %s", path,
		       lx_strerror(errno, ebuf, sizeof ebuf));
		free(path);
		return AML_EIO;
	}
	free(path);
	s->head_cap = cap / 2;
	s->tail_cap = cap - s->head_cap;
	s->tail = malloc(s->tail_cap);
	if (s->tail == NULL) {
		lx_err(err, errlen, "out of memory for a %zu-byte output buffer", s->tail_cap);
		return AML_ENOMEM;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		lx_err(err, errlen, "pipe: %s", lx_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	s->rfd = fds[0];
	s->wfd = fds[1];
	/* Only the parent's end is non-blocking: the flag lives on the open
	 * file description, and the script's writes must block as usual. */
	if (fcntl(s->rfd, F_SETFL, O_NONBLOCK) != 0 || lx_fd_above_stdio(&s->wfd) != 0) {
		lx_err(err, errlen, "pipe setup: %s", lx_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	return AML_OK;
}

static void
lx_stream_write(struct lx_stream *s, const char *p, size_t n)
{
	int e;

	if (n == 0 || s->write_errno != 0)
		return;
	e = lx_write_all(s->file, p, n);
	if (e != 0)
		s->write_errno = e;
}

/* Account n bytes the child wrote: the head goes to the file now, the
 * rest into the tail ring, overwriting its oldest bytes. */
static void
lx_stream_feed(struct lx_stream *s, const char *p, size_t n)
{
	size_t k, first;

	s->total += n;
	if (s->head_len < s->head_cap) {
		k = n < s->head_cap - s->head_len ? n : s->head_cap - s->head_len;
		lx_stream_write(s, p, k);
		s->head_len += k;
		p += k;
		n -= k;
	}
	if (n == 0 || s->tail_cap == 0)
		return;
	if (n >= s->tail_cap) {
		memcpy(s->tail, p + n - s->tail_cap, s->tail_cap);
		s->tail_pos = 0;
		s->tail_len = s->tail_cap;
		return;
	}
	first = s->tail_cap - s->tail_pos;
	if (first > n)
		first = n;
	memcpy(s->tail + s->tail_pos, p, first);
	memcpy(s->tail, p + first, n - first);
	s->tail_pos = (s->tail_pos + n) % s->tail_cap;
	s->tail_len = s->tail_len + n > s->tail_cap ? s->tail_cap : s->tail_len + n;
}

/* Read what the pipe holds (a bounded number of chunks, so one busy stream
 * cannot hold off the deadlines); closes the read end at EOF. */
static void
lx_stream_pump(struct lx_stream *s, char *buf)
{
	int i;

	for (i = 0; i < LX_READS_PER_WAKE && s->rfd >= 0; i++) {
		ssize_t n = read(s->rfd, buf, LX_CHUNK);

		if (n > 0) {
			lx_stream_feed(s, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EOF, or an error after which nothing more can be read. */
		lx_close(&s->rfd);
	}
}

/* Bytes dropped between head and tail. */
static uint64_t
lx_stream_cut(const struct lx_stream *s)
{
	return s->total - s->head_len - s->tail_len;
}

/* Append the cut marker and the tail to the file and close it. */
static void
lx_stream_finish(struct lx_stream *s)
{
	char marker[64];
	uint64_t cut = lx_stream_cut(s);
	int n;

	if (s->file < 0)
		return;
	if (cut > 0) {
		n = snprintf(marker, sizeof marker, "\n[... %llu bytes cut ...]\n",
			     (unsigned long long)cut);
		lx_stream_write(s, marker, (size_t)n);
	}
	if (s->tail_len < s->tail_cap) {
		lx_stream_write(s, s->tail, s->tail_len);
	} else {
		lx_stream_write(s, s->tail + s->tail_pos, s->tail_cap - s->tail_pos);
		lx_stream_write(s, s->tail, s->tail_pos);
	}
	if (close(s->file) != 0 && s->write_errno == 0 && errno != EINTR)
		s->write_errno = errno;
	s->file = -1;
}

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
	struct lx_stream *s[2] = {&j->out, &j->err};

	for (i = 0; i < 2; i++) {
		lx_close(&s[i]->rfd);
		lx_close(&s[i]->wfd);
		lx_close(&s[i]->file);
		free(s[i]->tail);
	}
	lx_close(&j->devnull);
	lx_close(&j->status_r);
	lx_close(&j->status_w);
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

	if ((rc = lx_stream_open(&j->out, req->workdir, cap, err, errlen)) != AML_OK ||
	    (rc = lx_stream_open(&j->err, req->workdir, cap, err, errlen)) != AML_OK)
		return rc;
	j->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (j->devnull < 0 || lx_fd_above_stdio(&j->devnull) != 0) {
		lx_err(err, errlen, "/dev/null: %s", lx_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		lx_err(err, errlen, "pipe: %s", lx_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	j->status_r = fds[0];
	j->status_w = fds[1];
	if (lx_fd_above_stdio(&j->status_w) != 0) {
		lx_err(err, errlen, "pipe setup: %s", lx_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	if ((rc = lx_build_env(x, req, j, err, errlen)) != AML_OK)
		return rc;
	j->buf = malloc(LX_CHUNK);
	if (j->buf == NULL) {
		lx_err(err, errlen, "out of memory");
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
	struct lx_child_err ce = {stage, e};
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

/* Close fds lo..hi (inclusive), with close_range() where the kernel has
 * it, else one by one up to maxfd. */
static void
lx_child_close_range(unsigned lo, unsigned hi, int maxfd)
{
	unsigned fd;

	if (lo > hi)
		return;
#ifdef SYS_close_range
	if (syscall(SYS_close_range, lo, hi, 0) == 0)
		return;
#endif
	for (fd = lo; fd <= hi && fd < (unsigned)maxfd; fd++)
		(void)close((int)fd);
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
	lx_child_close_range(3, (unsigned)j->status_w - 1, j->maxfd);
	lx_child_close_range((unsigned)j->status_w + 1, ~0U, j->maxfd);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(j->argv[0], j->argv, j->envp);
	lx_child_fail(j, LX_STAGE_EXEC, errno);
}

/* ------------------------------------------------------------------ */
/* The parent: supervise, kill, reap.                                  */

/* Signal the child's whole process group.  ESRCH (nothing left) is fine. */
static void
lx_signal_group(const struct lx *x, pid_t pid, int sig)
{
	char ebuf[128];

	if (kill(-pid, sig) != 0 && errno != ESRCH)
		x->host->log(x->self, AML_LOG_WARN, "kill(-%d, %d): %s", (int)pid, sig,
			     lx_strerror(errno, ebuf, sizeof ebuf));
}

/* Reap the child (blocking) into w.  Returns 0, or an errno value. */
static int
lx_reap(struct lx_watch *w)
{
	for (;;) {
		pid_t r = wait4(w->pid, &w->status, 0, &w->ru);

		if (r == w->pid)
			return 0;
		if (r < 0 && errno == EINTR)
			continue;
		return r < 0 ? errno : ECHILD;
	}
}

/* Has the child exited?  Checked without reaping (WNOWAIT), so its pid,
 * which is also its group's id, cannot be reused before the group kill.
 * Returns 1 exited, 0 running, or -errno. */
static int
lx_child_exited(const struct lx_watch *w)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_PID, (id_t)w->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0)
			return si.si_pid != 0;
		if (errno != EINTR)
			return -errno;
	}
}

/* When the child has exited: kill what is left of its group, reap it. */
static int
lx_on_exit(const struct lx *x, struct lx_watch *w, char *err, size_t errlen)
{
	char ebuf[128];
	int e;

	lx_signal_group(x, w->pid, SIGKILL);
	e = lx_reap(w);
	w->exited = 1;
	w->drain_until = lx_now() + LX_DRAIN_S;
	lx_close(&w->pidfd);
	if (e != 0) {
		lx_err(err, errlen,
		       "lost child %d (%s): is SIGCHLD ignored, or does another thread wait for any child?",
		       (int)w->pid, lx_strerror(e, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	return AML_OK;
}

/* Kill the group and reap the child after an internal failure. */
static void
lx_abort(const struct lx *x, struct lx_watch *w)
{
	if (w->exited)
		return;
	lx_signal_group(x, w->pid, SIGKILL);
	(void)lx_reap(w);
	w->exited = 1;
	lx_close(&w->pidfd);
}

/* Read both streams until the child has exited and the pipes are closed
 * (or LX_DRAIN_S after the exit), enforcing the time limit on the way. */
static int
lx_supervise(const struct lx *x, struct lx_job *j, struct lx_watch *w, char *err,
	     size_t errlen)
{
	struct lx_stream *s[2] = {&j->out, &j->err};
	struct pollfd pfd[3];
	int idx[3];
	char ebuf[128];

	for (;;) {
		double now = lx_now(), next;
		int nfds = 0, ms, r, i;

		if (!w->exited) {
			r = lx_child_exited(w);
			if (r < 0) {
				lx_abort(x, w);
				lx_err(err, errlen, "waitid(%d): %s", (int)w->pid,
				       lx_strerror(-r, ebuf, sizeof ebuf));
				return AML_EIO;
			}
			if (r == 1 && (r = lx_on_exit(x, w, err, errlen)) != AML_OK)
				return r;
		}
		if (!w->exited && !w->termed && now >= w->deadline) {
			lx_signal_group(x, w->pid, SIGTERM);
			lx_signal_group(x, w->pid, SIGCONT); /* a stopped group must see it */
			w->termed = 1;
			w->kill_at = now + x->grace_s;
		}
		if (!w->exited && w->termed && !w->killed && now >= w->kill_at) {
			lx_signal_group(x, w->pid, SIGKILL);
			w->killed = 1;
		}
		if (w->exited && ((s[0]->rfd < 0 && s[1]->rfd < 0) || now >= w->drain_until))
			return AML_OK;

		for (i = 0; i < 2; i++)
			if (s[i]->rfd >= 0) {
				pfd[nfds].fd = s[i]->rfd;
				pfd[nfds].events = POLLIN;
				idx[nfds++] = i;
			}
		if (!w->exited && w->pidfd >= 0) {
			pfd[nfds].fd = w->pidfd;
			pfd[nfds].events = POLLIN;
			idx[nfds++] = -1;
		}
		if (w->exited)
			next = w->drain_until;
		else if (!w->termed)
			next = w->deadline;
		else if (!w->killed)
			next = w->kill_at;
		else
			next = INFINITY;
		ms = isinf(next) ? -1 : lx_ms_until(next, now);
		if (!w->exited && w->pidfd < 0 && (ms < 0 || ms > LX_TICK_MS))
			ms = LX_TICK_MS;

		r = poll(pfd, (nfds_t)nfds, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			lx_err(err, errlen, "poll: %s", lx_strerror(errno, ebuf, sizeof ebuf));
			lx_abort(x, w);
			return AML_EIO;
		}
		for (i = 0; i < nfds; i++)
			if (idx[i] >= 0 && pfd[i].revents != 0)
				lx_stream_pump(s[idx[i]], j->buf);
	}
}

/* The last non-blank line of workdir/stderr.txt, cleaned up for a detail
 * line, into out (empty when there is none). */
static void
lx_last_stderr_line(const char *workdir, char *out, size_t outlen)
{
	char buf[LX_STDERR_PEEK + 1];
	char *path = lx_join(workdir, "stderr.txt");
	struct stat st;
	ssize_t n = -1;
	off_t off;
	size_t end, start, len, i;
	int fd;

	out[0] = '\0';
	if (path == NULL)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0) {
		off = st.st_size > LX_STDERR_PEEK ? st.st_size - LX_STDERR_PEEK : 0;
		do
			n = pread(fd, buf, LX_STDERR_PEEK, off);
		while (n < 0 && errno == EINTR);
	}
	(void)close(fd);
	if (n <= 0)
		return;
	end = (size_t)n;
	while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r' ||
			   buf[end - 1] == ' ' || buf[end - 1] == '\t'))
		end--;
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	len = end - start;
	if (len >= outlen)
		len = outlen - 1;
	/* Do not cut a UTF-8 sequence in half. */
	while (len > 0 && start + len < end &&
	       ((unsigned char)buf[start + len] & 0xC0) == 0x80)
		len--;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[start + i];

		out[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
	}
	out[len] = '\0';
}

/* Turn the finished watch into the result's outcome and detail line. */
static void
lx_fill_result(const struct lx *x, const aml_exec_request *req,
	       const struct lx_job *j, const struct lx_watch *w, aml_exec_result *res)
{
	char detail[LX_DETAIL_MAX + 128], line[LX_DETAIL_MAX];
	const char *name;
	int st = w->status;

	res->wall_s = lx_now() - w->start;
	res->cpu_s = (double)w->ru.ru_utime.tv_sec + (double)w->ru.ru_utime.tv_usec / 1e6 +
		     (double)w->ru.ru_stime.tv_sec + (double)w->ru.ru_stime.tv_usec / 1e6;
	res->output_bytes = j->out.total + j->err.total;
	res->truncated = lx_stream_cut(&j->out) > 0 || lx_stream_cut(&j->err) > 0;
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
		name = lx_signame(WTERMSIG(st));
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
		lx_last_stderr_line(req->workdir, line, sizeof line);
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
		const struct lx_child_err *ce, const struct lx_watch *w,
		aml_exec_result *res)
{
	char detail[PATH_MAX + 256], ebuf[128];
	const char *why = lx_strerror(ce->err, ebuf, sizeof ebuf);

	res->outcome = AML_EXEC_NOSTART;
	res->exit_code = 127;
	res->wall_s = lx_now() - w->start;
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

/* Wait for the child's exec: 1 when it reported a failure into *ce, 0
 * when exec succeeded (the close-on-exec pipe just closed). */
static int
lx_read_exec_status(int fd, struct lx_child_err *ce)
{
	char *p = (char *)ce;
	size_t got = 0;

	while (got < sizeof *ce) {
		ssize_t n = read(fd, p + got, sizeof *ce - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got == sizeof *ce;
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
		lx_err(err, errlen, "request without a workdir or script");
		return AML_EINVAL;
	}
	if (req->script[0] == '-') {
		lx_err(err, errlen, "script name '%s' would read as an interpreter option",
		       req->script);
		return AML_EINVAL;
	}
	if (!(req->timeout_s > 0) || !isfinite(req->timeout_s)) {
		lx_err(err, errlen, "timeout_s must be a positive number of seconds, got %g",
		       req->timeout_s);
		return AML_EINVAL;
	}
	if (stat(req->workdir, &st) != 0) {
		lx_err(err, errlen, "cannot use workdir %s: %s", req->workdir,
		       lx_strerror(errno, ebuf, sizeof ebuf));
		return AML_ENOTFOUND;
	}
	if (!S_ISDIR(st.st_mode)) {
		lx_err(err, errlen, "workdir %s is not a directory", req->workdir);
		return AML_ENOTFOUND;
	}
	path = req->script[0] == '/' ? strdup(req->script) : lx_join(req->workdir, req->script);
	if (path == NULL) {
		lx_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		lx_err(err, errlen, "script %s is not a regular file", path);
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
	struct lx_watch w;
	struct lx_child_err ce;
	sigset_t all, old;
	char ebuf[128];
	int rc, e, failed;
	size_t cap;

	if (x == NULL || req == NULL || res == NULL) {
		lx_err(err, errlen, "run called without state, request or result");
		return AML_EINVAL;
	}
	memset(res, 0, sizeof *res);
	if ((rc = lx_check_request(req, err, errlen)) != AML_OK)
		return rc;
	cap = req->output_cap > 0 ? req->output_cap : LX_DEFAULT_CAP;

	lx_job_init(&j);
	memset(&w, 0, sizeof w);
	w.pidfd = -1;
	if ((rc = lx_job_prepare(x, req, cap, &j, err, errlen)) != AML_OK)
		goto out;

	/* Block every signal across fork() so no handler of the agent runs
	 * in the child before it has reset them. */
	sigfillset(&all);
	if ((e = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0) {
		lx_err(err, errlen, "pthread_sigmask: %s", lx_strerror(e, ebuf, sizeof ebuf));
		rc = AML_EIO;
		goto out;
	}
	w.start = lx_now();
	w.pid = fork();
	if (w.pid == 0)
		lx_child(&j, req->workdir);
	e = errno;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w.pid < 0) {
		lx_err(err, errlen, "fork: %s", lx_strerror(e, ebuf, sizeof ebuf));
		rc = AML_EIO;
		goto out;
	}
	w.deadline = w.start + req->timeout_s;
	lx_close(&j.out.wfd);
	lx_close(&j.err.wfd);
	lx_close(&j.devnull);
	lx_close(&j.status_w);

	failed = lx_read_exec_status(j.status_r, &ce);
	if (failed) {
		if ((e = lx_reap(&w)) != 0) {
			lx_err(err, errlen, "lost child %d: %s", (int)w.pid,
			       lx_strerror(e, ebuf, sizeof ebuf));
			rc = AML_EIO;
			goto out;
		}
		lx_stream_finish(&j.out);
		lx_stream_finish(&j.err);
		lx_fill_nostart(x, req, &ce, &w, res);
		rc = AML_OK;
		goto out;
	}

#ifdef SYS_pidfd_open
	w.pidfd = (int)syscall(SYS_pidfd_open, w.pid, 0); /* close-on-exec */
	if (w.pidfd < 0)
		w.pidfd = -1; /* old kernel: poll with LX_TICK_MS instead */
#endif
	rc = lx_supervise(x, &j, &w, err, errlen);
	lx_close(&w.pidfd);
	lx_stream_finish(&j.out);
	lx_stream_finish(&j.err);
	if (rc != AML_OK)
		goto out;
	if (j.out.write_errno != 0 || j.err.write_errno != 0)
		x->host->log(x->self, AML_LOG_WARN, "%s: writing captured output: %s",
			     req->workdir,
			     lx_strerror(j.out.write_errno ? j.out.write_errno : j.err.write_errno,
					 ebuf, sizeof ebuf));
	lx_fill_result(x, req, &j, &w, res);
out:
	lx_job_free(&j);
	return rc;
}

static const aml_executor_ops lx_ops = {lx_run};

AML_PLUGIN_DEFINE(AML_KIND_EXECUTOR, LX_NAME, LX_VERSION, lx_init, lx_fini, &lx_ops);
