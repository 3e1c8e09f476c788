/*
 * local.c — the "local" executor plugin: runs each candidate script on
 * this machine, under a supervisor process of its own, with resource
 * limits, its own CPUs and GPUs, and nothing left running after it.
 *
 * run() forks a supervisor (child.c), which starts its own session,
 * becomes a child subreaper and forks the script: stdin from /dev/null,
 * stdout/stderr into two pipes, its own process group, "<python>
 * <script>" exec'd in the node's workdir.  The agent reads both pipes
 * with poll() and keeps, per stream, the first output_cap/2 bytes
 * (written to workdir/stdout.txt or stderr.txt as they arrive) and the
 * last output_cap/2 bytes (in a ring buffer, written at the end after a
 * "[... N bytes cut ...]" marker), so a flood of output never reaches the
 * disk.
 *
 * Killing: at the wall-clock limit the agent sends the supervisor
 * SIGTERM; it passes SIGTERM to the script's group and to every process
 * it adopted, then SIGKILLs them after kill_grace_s.  When the script
 * exits (or is killed) the supervisor SIGKILLs its group, then, round by
 * round, every process still under it until none is left — children that
 * called setsid() or double-forked included, since as a subreaper it
 * inherits them when their parent dies.  Each run has its own supervisor,
 * so one run's escapees are never taken for another's.  Only then does the
 * supervisor report the script's wait status to the agent and exit.
 *
 * Limits (setrlimit in the script before exec, inherited by all it
 * starts): RLIMIT_AS memory_mb, RLIMIT_FSIZE max_file_mb, RLIMIT_NOFILE
 * max_open_files, RLIMIT_CPU timeout x threads x 2 + 10 s, no core files,
 * and RLIMIT_NPROC.  The kernel counts RLIMIT_NPROC over every process and
 * thread of the script's real uid on the machine, and does not apply it to
 * root.  So:
 *   - the limit is what that uid runs at the start (counted in /proc)
 *     plus max_procs: a script may start max_procs more, however busy
 *     the uid is; concurrent runs and the agent's own threads share the
 *     headroom as they grow;
 *   - an agent running as root runs the scripts as sandbox_uid (default
 *     65534, nobody: no supplementary groups, no_new_privs), after giving
 *     it the workdir and its working/ and submission/; HOME is then
 *     workdir/working.  That needs the uid to start the interpreter and
 *     import numpy if root can (checked once in init: a virtualenv under
 *     /root fails, so do packages installed with pip --user) and to reach
 *     the workdir by its absolute path, as Python opens its script by one
 *     (checked each run from the mode bits of the folders above: a run
 *     directory under /root or a mkdtemp folder fails).  Where it cannot,
 *     or sandbox_uid is 0, scripts run as root and max_procs does not
 *     bind them; a warning says so, once.
 *
 * Cancel (ABI 1.3): when the request's cancel flag is set (the run is
 * stopping: Ctrl-C), the script is stopped exactly as at the time limit,
 * only sooner: SIGTERM to the supervisor, which stops the script's group
 * and everything it adopted, SIGKILLs them after kill_grace_s and reaps
 * them all before it reports.  The agent reads the flag every
 * EK_CANCEL_TICK_MS; the outcome is AML_EXEC_CANCELLED.  A run whose flag
 * is set before its script starts (waiting for a GPU share, say) does not
 * start it.
 *
 * Shares: with pin_cpus auto the CPUs the agent may use are cut into
 * slots of `threads` CPUs; each run takes the slot fewest runs hold, so
 * parallel runs get disjoint CPUs while there are enough, and share them
 * evenly beyond.  GPUs (execkit.h) are cut into shares of
 * gpus_per_candidate devices; a run waits for a free share before it
 * starts (the wait counts against no limit of the run: its clock starts
 * when the script does) and sees only its devices in
 * CUDA_VISIBLE_DEVICES, their number in AML_GPUS; without GPUs
 * CUDA_VISIBLE_DEVICES is empty and AML_GPUS 0.
 *
 * Not contained (the bwrap executor contains the first two): the script
 * sees the whole filesystem with the rights of its uid, and the network.
 * Nothing it starts can leave the supervisor's tree (an orphan goes to
 * the nearest subreaper, which is the supervisor or a process under it),
 * but work it has another program start outside the tree (a server it
 * talks to, at, systemd-run) is out of reach, and so is whatever the
 * supervisor adopted if the supervisor itself is SIGKILLed (the agent
 * does that only when it has not finished LX_BACKSTOP_S after the grace
 * period).  Killing the agent is covered: the supervisor's parent-death
 * signal stops everything as at the time limit.  Pinning is a default,
 * not a wall: a script may widen its own affinity to the agent's CPUs.
 * Without /proc the supervisor cannot find the escapees, which then
 * outlive the run.
 *
 * Threads: several workers may call run() at once.  The plugin's state is
 * read-only after init but for the CPU slots and GPU shares, which lock
 * themselves; it installs no signal handlers, and waits only for the pid
 * it forked (a pidfd wakes poll() when it exits; without pidfds it polls
 * every EK_TICK_MS).  Every fd it opens is close-on-exec, and the children
 * close every fd they did not mean to inherit.  Between fork() and exec()
 * the children call only async-signal-safe functions, on data prepared
 * before the fork.  The agent around it must not reap children it did not
 * fork (no waitpid(-1), no SIGCHLD set to SIG_IGN): that would steal the
 * exit status, and run() then fails with AML_EIO.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <automlgen/plugin.h>

#include "local.h"

#define LX_NAME "local"
#define LX_VERSION "1.1.0"

#define LX_MAX_THREADS 4096
#define LX_BACKSTOP_S 10.0  /* after grace_s, the agent SIGKILLs a stuck supervisor */
/* init's check of the sandbox uid: exit 3 when the interpreter starts
 * but finds no numpy */
#define LX_PROBE_NUMPY "import sys\ntry:\n import numpy\nexcept ImportError:\n sys.exit(3)"
#define LX_PROBE_NO_NUMPY "no numpy"

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
	ek_cpus_free(x->cpus);
	ek_gpus_free(x->gpus);
	free(x);
}

/* Run "<python> -c <code>" as uid (0: as the agent), quietly: 1 when it
 * exits 0; else 0, with why. */
static int
lx_probe(const struct lx *x, uid_t uid, const char *code, char *why, size_t whylen)
{
	char *argv[] = {x->python, "-c", (char *)code, NULL};
	sigset_t all, old, none;
	char ebuf[128];
	int st = 0, null, e;
	pid_t pid, r;

	sigfillset(&all);
	sigemptyset(&none);
	if (pthread_sigmask(SIG_SETMASK, &all, &old) != 0) {
		snprintf(why, whylen, "cannot block signals");
		return 0;
	}
	pid = fork();
	if (pid == 0) {
		null = open("/dev/null", O_RDWR);
		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0 ||
		    (uid != 0 && lx_become(uid, (gid_t)uid) != 0))
			_exit(126);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		execve(x->python, argv, environ);
		_exit(127);
	}
	e = errno;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", ek_strerror(e, ebuf, sizeof ebuf));
		return 0;
	}
	while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
		;
	if (r != pid)
		snprintf(why, whylen, "cannot wait for it");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 1;
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
		snprintf(why, whylen, "cannot execute it");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 126)
		snprintf(why, whylen, "cannot switch to that uid");
	else if (WIFEXITED(st) && WEXITSTATUS(st) == 3 && strcmp(code, LX_PROBE_NUMPY) == 0)
		snprintf(why, whylen, LX_PROBE_NO_NUMPY);
	else if (WIFEXITED(st))
		snprintf(why, whylen, "'-c %s' exits %d", code, WEXITSTATUS(st));
	else
		snprintf(why, whylen, "it died of signal %d", WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	return 0;
}

/* As root, decide whether scripts run as sandbox_uid (see the file
 * comment): it must start the interpreter, and import numpy when root
 * can (packages installed for root alone, pip --user, are not its). */
static void
lx_decide_uid(struct lx *x)
{
	uid_t uid = (uid_t)x->sandbox_uid;
	char why[128];

	if (geteuid() != 0)
		return;
	if (x->sandbox_uid == 0) {
		x->host->log(x->self, AML_LOG_INFO,
			     "scripts run as root (sandbox_uid 0): max_procs does not bind them");
		return;
	}
	if (access(x->python, X_OK) != 0)
		return; /* said below; every run reports NOSTART */
	if (lx_probe(x, uid, LX_PROBE_NUMPY, why, sizeof why)) {
		x->drop_root = 1;
		return;
	}
	if (strcmp(why, LX_PROBE_NO_NUMPY) == 0) {
		if (!lx_probe(x, 0, "import numpy", why, sizeof why)) {
			x->drop_root = 1; /* no numpy for anyone */
			return;
		}
		snprintf(why, sizeof why, "cannot import numpy, which root can");
	}
	x->host->log(x->self, AML_LOG_WARN,
		     "uid %ld cannot use %s (%s): scripts run as root, where max_procs does not bind; "
		     "make the interpreter and its packages reachable for that uid, or set "
		     "executor.local.sandbox_uid=0",
		     x->sandbox_uid, x->python, why);
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
	int rc;

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
	x->memory_mb = 8192;
	x->max_file_mb = 2048;
	x->max_procs = 256;
	x->max_open_files = 4096;
	x->sandbox_uid = 65534;

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
	if ((rc = ek_param_long(x->host, x->self, "threads", 1, LX_MAX_THREADS, &x->threads, err,
				errlen)) != AML_OK ||
	    (rc = ek_param_long(x->host, x->self, "memory_mb", 0, 1L << 30, &x->memory_mb, err,
				errlen)) != AML_OK ||
	    (rc = ek_param_long(x->host, x->self, "max_file_mb", 0, 1L << 30, &x->max_file_mb, err,
				errlen)) != AML_OK ||
	    (rc = ek_param_long(x->host, x->self, "max_procs", 1, 1L << 22, &x->max_procs, err,
				errlen)) != AML_OK ||
	    (rc = ek_param_long(x->host, x->self, "max_open_files", 16, 1L << 20,
				&x->max_open_files, err, errlen)) != AML_OK ||
	    (rc = ek_param_long(x->host, x->self, "sandbox_uid", 0, 65534, &x->sandbox_uid, err,
				errlen)) != AML_OK) {
		lx_free(x);
		return rc;
	}
	v = host->param(self, "pin_cpus");
	if (v != NULL && strcmp(v, "auto") != 0 && strcmp(v, "off") != 0) {
		ek_err(err, errlen, "pin_cpus must be auto or off, got '%s'", v);
		lx_free(x);
		return AML_EINVAL;
	}
	if ((v == NULL || strcmp(v, "auto") == 0) &&
	    (rc = ek_cpus_new(x->threads, &x->cpus, err, errlen)) != AML_OK) {
		lx_free(x);
		return rc;
	}
	if ((rc = ek_gpus_new(host, self, &x->gpus, err, errlen)) != AML_OK) {
		lx_free(x);
		return rc;
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
	lx_decide_uid(x);
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
/* The script's environment.                                           */

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
 * the request's, then the run's GPU share (which a request cannot widen).
 * (Reading environ races with a concurrent setenv() in another thread;
 * the agent does not change its environment in a run.) */
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
	char kv[64], *home = NULL, *abs;
	const char *w;
	struct stat st;
	size_t i;
	int bad;

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
	if (j->drop) {
		/* the agent's HOME is not the sandbox uid's */
		abs = realpath(req->workdir, NULL);
		w = abs != NULL ? abs : req->workdir;
		home = malloc(strlen(w) + sizeof "HOME=/working");
		if (home != NULL) {
			sprintf(home, "HOME=%s/working", w);
			if (stat(home + 5, &st) != 0 || !S_ISDIR(st.st_mode))
				sprintf(home, "HOME=%s", w);
		}
		free(abs);
		bad = home == NULL || lx_env_set(j, home) != 0;
		free(home);
		if (bad)
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
	if (lx_env_set(j, ek_gpus_visible(x->gpus, j->gpu_share)) != 0 ||
	    lx_env_set(j, ek_gpus_count(x->gpus, j->gpu_share)) != 0)
		goto oom;
	return AML_OK;
oom:
	ek_err(err, errlen, "out of memory building the environment");
	return AML_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* The job.                                                            */

static void
lx_job_init(struct lx_job *j)
{
	memset(j, 0, sizeof *j);
	ek_jobio_init(&j->io);
	j->cpu_slot = j->gpu_share = -1;
}

/* Frees what the job owns and gives back its CPU slot and GPU share. */
static void
lx_job_free(const struct lx *x, struct lx_job *j)
{
	size_t i;

	ek_jobio_close(&j->io);
	for (i = 0; i < j->envn; i++)
		free(j->envp[i]);
	free(j->envp);
	if (j->cpu_slot >= 0)
		ek_cpus_release(x->cpus, j->cpu_slot);
	ek_gpus_release(x->gpus, j->gpu_share);
	j->cpu_slot = j->gpu_share = -1;
}

/* Tasks (threads included) of real uid uid now, as RLIMIT_NPROC counts
 * them: from /proc/<pid>/status, so only this PID namespace's. */
static long
lx_count_tasks(uid_t uid)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	char path[300], buf[4096], *p;
	long n = 0, threads;
	ssize_t len;
	int fd;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL) {
		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		snprintf(path, sizeof path, "/proc/%s/status", e->d_name);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		len = read(fd, buf, sizeof buf - 1);
		(void)close(fd);
		if (len <= 0)
			continue;
		buf[len] = '\0';
		p = strstr(buf, "\nUid:");
		if (p == NULL || strtoul(p + 5, NULL, 10) != (unsigned long)uid)
			continue;
		p = strstr(buf, "\nThreads:");
		threads = p != NULL ? strtol(p + 9, NULL, 10) : 1;
		n += threads > 0 ? threads : 1;
	}
	closedir(d);
	return n;
}

/* Lower rl to the agent's own hard limit of res (only root may raise
 * one, and the script's limits are set before it leaves root). */
static void
lx_clamp(int res, struct rlimit *rl)
{
	struct rlimit cur;

	if (geteuid() == 0 || getrlimit(res, &cur) != 0 || cur.rlim_max == RLIM_INFINITY)
		return;
	if (rl->rlim_max > cur.rlim_max)
		rl->rlim_max = cur.rlim_max;
	if (rl->rlim_cur > rl->rlim_max)
		rl->rlim_cur = rl->rlim_max;
}

/* The resource limits of one run (see the file comment). */
static void
lx_job_limits(const struct lx *x, const aml_exec_request *req, struct lx_job *j)
{
	struct lx_limits *l = &j->lim;
	double cpu = req->timeout_s * (double)x->threads * 2 + 10;
	uid_t uid = j->drop ? j->uid : getuid();
	long base = uid != 0 ? lx_count_tasks(uid) : 0;

	l->set_as = x->memory_mb > 0;
	l->as.rlim_cur = l->as.rlim_max = (rlim_t)x->memory_mb << 20;
	l->set_fsize = x->max_file_mb > 0;
	l->fsize.rlim_cur = l->fsize.rlim_max = (rlim_t)x->max_file_mb << 20;
	l->nproc.rlim_cur = l->nproc.rlim_max = (rlim_t)(base + x->max_procs);
	l->nofile.rlim_cur = l->nofile.rlim_max = (rlim_t)x->max_open_files;
	/* SIGXCPU at the soft limit, SIGKILL at the hard one. */
	l->cpu.rlim_cur = cpu > 1e9 ? (rlim_t)1e9 : (rlim_t)cpu;
	l->cpu.rlim_max = l->cpu.rlim_cur + 5;
	lx_clamp(RLIMIT_AS, &l->as);
	lx_clamp(RLIMIT_FSIZE, &l->fsize);
	lx_clamp(RLIMIT_NPROC, &l->nproc);
	lx_clamp(RLIMIT_NOFILE, &l->nofile);
	lx_clamp(RLIMIT_CPU, &l->cpu);
}

/* Everything the children need, made before the fork. */
static int
lx_job_prepare(const struct lx *x, const aml_exec_request *req, size_t cap,
	       struct lx_job *j, char *err, size_t errlen)
{
	int rc;

	j->uid = (uid_t)x->sandbox_uid;
	j->gid = (gid_t)x->sandbox_uid;
	j->grace_s = x->grace_s;
	if ((rc = ek_jobio_open(&j->io, req->workdir, cap, err, errlen)) != AML_OK ||
	    (rc = lx_build_env(x, req, j, err, errlen)) != AML_OK)
		return rc;
	lx_job_limits(x, req, j);
	if (x->cpus != NULL) {
		j->cpu_slot = ek_cpus_acquire(x->cpus, &j->cpus);
		j->pin = 1;
	}
	j->argv[0] = x->python;
	j->argv[1] = (char *)req->script;
	j->argv[2] = NULL;
	return AML_OK;
}

/* Can uid (gid) search every folder above dir, so as to reach dir by its
 * absolute path?  Python opens its script by one.  From the mode bits (an
 * ACL that grants more is not seen: the run is then only less confined). */
static int
lx_uid_reaches(const char *dir, uid_t uid, gid_t gid)
{
	char *real = realpath(dir, NULL), *p;
	struct stat st;
	int ok = 1;

	if (real == NULL)
		return 0;
	for (p = real; ok && (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		ok = stat(real[0] ? real : "/", &st) == 0 &&
		     ((st.st_mode & S_IXOTH) || (st.st_uid == uid && (st.st_mode & S_IXUSR)) ||
		      (st.st_gid == gid && (st.st_mode & S_IXGRP)));
		*p = '/';
	}
	free(real);
	return ok;
}

/* Whether this run's script runs as sandbox_uid (the agent is root and
 * that uid can run the interpreter): only when it reaches the workdir,
 * else as root, which is said once. */
static int
lx_drop_here(struct lx *x, const char *workdir)
{
	if (lx_uid_reaches(workdir, (uid_t)x->sandbox_uid, (gid_t)x->sandbox_uid))
		return 1;
	if (!__atomic_exchange_n(&x->warned_reach, 1, __ATOMIC_RELAXED))
		x->host->log(x->self, AML_LOG_WARN,
			     "uid %ld cannot reach %s (a folder above it is closed to others): "
			     "scripts there run as root, where max_procs does not bind; open the "
			     "folders above the run directory (chmod o+x), or set "
			     "executor.local.sandbox_uid=0 (said once)",
			     x->sandbox_uid, workdir);
	return 0;
}

/* As root with scripts as sandbox_uid, give that uid the workdir and its
 * working/ and submission/ (not following symlinks), so it can write
 * there. */
static int
lx_chown_workdir(const struct lx *x, const struct lx_job *j, const char *workdir, char *err,
		 size_t errlen)
{
	static const char *const sub[] = {".", "working", "submission"};
	char ebuf[128];
	size_t i;
	int dfd;

	if (!j->drop)
		return AML_OK;
	dfd = open(workdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ek_err(err, errlen, "cannot open workdir %s: %s", workdir,
		       ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	for (i = 0; i < sizeof sub / sizeof sub[0]; i++)
		if (fchownat(dfd, sub[i], (uid_t)x->sandbox_uid, (gid_t)x->sandbox_uid,
			     AT_SYMLINK_NOFOLLOW) != 0 && errno != ENOENT) {
			ek_err(err, errlen, "cannot give %s/%s to uid %ld: %s", workdir, sub[i],
			       x->sandbox_uid, ek_strerror(errno, ebuf, sizeof ebuf));
			(void)close(dfd);
			return AML_EIO;
		}
	(void)close(dfd);
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Results.                                                            */

/* Which limit a script's end may be due to, for the detail line, or "":
 * sig is the killing signal (0 when it exited), line its last stderr
 * line, cpu_s the CPU time of the run. */
static void
lx_limit_note(const struct lx *x, const struct lx_job *j, int sig, const char *line,
	      double cpu_s, char *out, size_t len)
{
	out[0] = '\0';
	if (sig == SIGXCPU || (sig == SIGKILL && cpu_s >= (double)j->lim.cpu.rlim_cur))
		snprintf(out, len, "CPU time limit: %llu s", (unsigned long long)j->lim.cpu.rlim_cur);
	else if (sig == SIGXFSZ || (sig == 0 && j->lim.set_fsize && strstr(line, "File too large")))
		snprintf(out, len, "file size limit: max_file_mb %ld", x->max_file_mb);
	else if (sig == SIGKILL)
		snprintf(out, len, "maybe out of memory");
	else if (j->lim.set_as && (sig == SIGSEGV || sig == SIGBUS || sig == SIGABRT))
		snprintf(out, len, "maybe the memory limit: memory_mb %ld", x->memory_mb);
	else if (j->lim.set_as && sig == 0 &&
		 (strstr(line, "MemoryError") || strstr(line, "Cannot allocate memory") ||
		  strstr(line, "std::bad_alloc")))
		snprintf(out, len, "memory limit: memory_mb %ld", x->memory_mb);
	else if (sig == 0 && (strstr(line, "can't start new thread") ||
			      (strstr(line, "BlockingIOError") &&
			       strstr(line, "Resource temporarily unavailable"))))
		snprintf(out, len, "process limit: max_procs %ld", x->max_procs);
	else if (sig == 0 && strstr(line, "Too many open files"))
		snprintf(out, len, "open files limit: max_open_files %ld", x->max_open_files);
}

/* Turn the supervisor's report into the result's outcome and detail. */
static void
lx_fill_result(const struct lx *x, const aml_exec_request *req, const struct lx_job *j,
	       const struct ek_watch *w, const struct lx_report *rep, aml_exec_result *res)
{
	char detail[EK_DETAIL_MAX + 256], line[EK_DETAIL_MAX], note[128];
	const char *name;
	int st = rep->status;

	res->wall_s = ek_now() - w->start;
	/* the supervisor's own, with every process it reaped: the whole tree */
	res->cpu_s = (double)w->ru.ru_utime.tv_sec + (double)w->ru.ru_utime.tv_usec / 1e6 +
		     (double)w->ru.ru_stime.tv_sec + (double)w->ru.ru_stime.tv_usec / 1e6;
	res->output_bytes = j->io.out.total + j->io.err.total;
	res->truncated = ek_stream_cut(&j->io.out) > 0 || ek_stream_cut(&j->io.err) > 0;
	if (WIFEXITED(st))
		res->exit_code = WEXITSTATUS(st);
	if (WIFSIGNALED(st))
		res->term_signal = WTERMSIG(st);

	if (rep->termed && w->cancelled) {
		res->outcome = AML_EXEC_CANCELLED;
		if (rep->killed)
			snprintf(detail, sizeof detail,
				 SF_CANCELLED " (SIGTERM ignored, SIGKILL after %g s)", x->grace_s);
		else
			snprintf(detail, sizeof detail, SF_CANCELLED);
	} else if (rep->termed) {
		res->outcome = AML_EXEC_TIMEOUT;
		if (rep->killed)
			snprintf(detail, sizeof detail,
				 "timed out after %g s (SIGTERM ignored, SIGKILL after %g s)",
				 req->timeout_s, x->grace_s);
		else
			snprintf(detail, sizeof detail, "timed out after %g s", req->timeout_s);
	} else if (WIFSIGNALED(st)) {
		res->outcome = AML_EXEC_KILLED;
		lx_limit_note(x, j, WTERMSIG(st), "", res->cpu_s, note, sizeof note);
		name = ek_signame(WTERMSIG(st));
		snprintf(detail, sizeof detail, "killed by signal %d (%s%s%s)", WTERMSIG(st),
			 name != NULL ? name : "?", note[0] ? "; " : "", note);
	} else if (WEXITSTATUS(st) == 0) {
		res->outcome = AML_EXEC_OK;
		snprintf(detail, sizeof detail, "exit status 0");
	} else {
		res->outcome = AML_EXEC_CRASHED;
		ek_last_stderr_line(req->workdir, line, sizeof line);
		lx_limit_note(x, j, 0, line, res->cpu_s, note, sizeof note);
		snprintf(detail, sizeof detail, "exit status %d%s%s%s%s%s", WEXITSTATUS(st),
			 line[0] ? ": " : "", line, note[0] ? " (" : "", note, note[0] ? ")" : "");
	}
	res->detail = x->host->mem_strdup(detail);
}

/* The result of a script that never started. */
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
	case LX_STAGE_RLIMIT:
		snprintf(detail, sizeof detail, "cannot set the resource limits: %s", why);
		break;
	case LX_STAGE_USER:
		snprintf(detail, sizeof detail, "cannot switch to uid %ld: %s", x->sandbox_uid, why);
		break;
	case LX_STAGE_FORK:
		snprintf(detail, sizeof detail, "cannot fork the script: %s", why);
		break;
	case LX_STAGE_SUBREAPER:
		snprintf(detail, sizeof detail, "cannot become a child subreaper: %s", why);
		break;
	default:
		snprintf(detail, sizeof detail, "cannot set up stdin/stdout/stderr: %s", why);
		break;
	}
	res->detail = x->host->mem_strdup(detail);
}

/* Read the supervisor's final report (it has exited): 1 when whole. */
static int
lx_read_report(int fd, struct lx_report *rep)
{
	char *p = (char *)rep;
	size_t got = 0;

	while (got < sizeof *rep) {
		ssize_t n = read(fd, p + got, sizeof *rep - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got == sizeof *rep;
}

/* Run req->script in req->workdir and wait for it (see the file comment). */
static int
lx_run(void *state, const aml_exec_request *req, aml_exec_result *res, char *err,
       size_t errlen)
{
	struct lx *x = state;
	struct lx_job j;
	struct lx_report rep;
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
	if ((rc = ek_check_request(req, 0, err, errlen)) != AML_OK)
		return rc;
	if (sf_stopping(req->cancel)) {
		ek_fill_not_started(x->host, res);
		return AML_OK;
	}
	cap = req->output_cap > 0 ? req->output_cap : EK_DEFAULT_CAP;

	lx_job_init(&j);
	memset(&w, 0, sizeof w);
	w.pidfd = -1;
	/* may wait for a share, or give up when the run is stopping */
	j.gpu_share = ek_gpus_acquire(x->gpus, req->cancel);
	if (j.gpu_share == EK_GPUS_CANCELLED) {
		j.gpu_share = -1;
		ek_fill_not_started(x->host, res);
		goto out;
	}
	j.drop = x->drop_root && lx_drop_here(x, req->workdir);
	if ((rc = lx_job_prepare(x, req, cap, &j, err, errlen)) != AML_OK ||
	    (rc = lx_chown_workdir(x, &j, req->workdir, err, errlen)) != AML_OK)
		goto out;
	if (sf_stopping(req->cancel)) {
		ek_fill_not_started(x->host, res);
		goto out;
	}

	/* Block every signal across fork() so no handler of the agent runs
	 * in the children before they have reset them. */
	sigfillset(&all);
	if ((e = pthread_sigmask(SIG_SETMASK, &all, &old)) != 0) {
		ek_err(err, errlen, "pthread_sigmask: %s", ek_strerror(e, ebuf, sizeof ebuf));
		rc = AML_EIO;
		goto out;
	}
	w.start = ek_now();
	w.pid = fork();
	if (w.pid == 0)
		lx_supervisor(&j, req->workdir);
	e = errno;
	(void)pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w.pid < 0) {
		ek_err(err, errlen, "fork: %s", ek_strerror(e, ebuf, sizeof ebuf));
		rc = AML_EIO;
		goto out;
	}
	w.deadline = w.start + req->timeout_s;
	ek_close(&j.io.out.wfd);
	ek_close(&j.io.err.wfd);
	ek_close(&j.io.devnull);
	ek_close(&j.io.status_w);

	failed = ek_read_exec_status(j.io.status_r, &ce) && ce.stage != LX_STAGE_RUNNING;
	if (failed) {
		if ((e = ek_reap(&w)) != 0) {
			ek_err(err, errlen, "lost child %d: %s", (int)w.pid,
			       ek_strerror(e, ebuf, sizeof ebuf));
			rc = AML_EIO;
			goto out;
		}
		ek_stream_finish(&j.io.out);
		ek_stream_finish(&j.io.err);
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
		/* SIGTERM tells the supervisor the time is up (or the run is
		 * stopping); it kills the script after grace_s itself, and is
		 * SIGKILLed only when it has not finished LX_BACKSTOP_S after
		 * that. */
		ek_sup sup = {x->host, x->self, x->grace_s + LX_BACKSTOP_S, &j.io.out, &j.io.err, j.io.buf,
			      req->cancel};

		rc = ek_supervise(&sup, &w, err, errlen);
	}
	ek_close(&w.pidfd);
	ek_stream_finish(&j.io.out);
	ek_stream_finish(&j.io.err);
	if (rc != AML_OK)
		goto out;
	if (j.io.out.write_errno != 0 || j.io.err.write_errno != 0)
		x->host->log(x->self, AML_LOG_WARN, "%s: writing captured output: %s",
			     req->workdir,
			     ek_strerror(j.io.out.write_errno ? j.io.out.write_errno : j.io.err.write_errno,
					 ebuf, sizeof ebuf));
	memset(&rep, 0, sizeof rep);
	if (!lx_read_report(j.io.status_r, &rep)) {
		if (w.killed) {
			/* stuck past the backstop: report the time limit */
			rep.status = w.status;
			rep.termed = rep.killed = 1;
			x->host->log(x->self, AML_LOG_WARN,
				     "%s: the supervisor did not stop the script in time; "
				     "processes it adopted may still run", req->workdir);
		} else {
			ek_err(err, errlen, "the supervisor (pid %d) ended without a report (wait status %d)",
			       (int)w.pid, w.status);
			rc = AML_EIO;
			goto out;
		}
	}
	lx_fill_result(x, req, &j, &w, &rep, res);
out:
	lx_job_free(x, &j);
	return rc;
}

static const aml_executor_ops lx_ops = {lx_run};

AML_PLUGIN_DEFINE(AML_KIND_EXECUTOR, LX_NAME, LX_VERSION, lx_init, lx_fini, &lx_ops);
