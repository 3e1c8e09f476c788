/*
 * bwrap.c — the "bwrap" executor plugin: runs each candidate script inside
 * a bubblewrap sandbox (Debian's /usr/bin/bwrap) on this machine.
 *
 * The supervision is the local executor's (plugins/local/local.c): run()
 * forks; the child starts its own session, takes stdin from /dev/null and
 * stdout/stderr from two pipes, and execs bwrap, which runs "<python>
 * <script>" in the sandbox; the parent keeps per stream the first and the
 * last output_cap/2 bytes in workdir/stdout.txt and stderr.txt.
 *
 * The sandbox sees only: /usr (read-only, with the /bin, /lib, /lib64 and
 * /sbin symlinks of a merged-/usr Debian), a few files of /etc the dynamic
 * loader and numpy's BLAS alternatives need, a fresh /proc, a minimal
 * /dev, an empty /tmp, the node's workdir read-write at /work (the script
 * runs there), and the run's input folder read-only at /input and at
 * /work/input (when the workdir's input is the run directory's symlink
 * "../../input", it resolves to /input inside the sandbox).  Nothing else
 * of the host: not the task's private folder, not the other nodes, not
 * $HOME.  No network (a private network namespace with only a loopback),
 * a private PID namespace, and an environment built from scratch
 * (--clearenv): nothing of the agent's environment, so no API keys.
 *
 * Limits (setrlimit in the child before exec, inherited by the script):
 * RLIMIT_AS memory_mb, RLIMIT_FSIZE max_file_mb, RLIMIT_NPROC max_procs,
 * RLIMIT_NOFILE BW_NOFILE, RLIMIT_CPU timeout x threads x 2 + 10 s, no
 * core files.  RLIMIT_NPROC counts every process and thread of a real
 * uid across the machine, and the kernel does not apply it to root.  So:
 *   - an agent running as a normal user runs bwrap as itself, with
 *     --unshare-all (user namespace included); max_procs then bounds the
 *     agent's own processes too (its threads and concurrent runs count),
 *     so keep it well above what the agent's user runs anyway;
 *   - an agent running as root runs bwrap as root without a user namespace
 *     (everything else of --unshare-all), and bwrap starts the script
 *     through setpriv(1) as sandbox_uid (default 65534, nobody) with no
 *     capabilities, an empty bounding set and no_new_privs; the workdir
 *     and its working/ and submission/ are chowned to that uid first so
 *     the script can write there.  max_procs then bounds that uid, shared
 *     by concurrent runs.
 *
 * Killing: bwrap runs with --die-with-parent and a PID namespace, so the
 * sandbox's pid 1 dies with the bwrap process the executor forked, and the
 * kernel then kills everything in the namespace, including children that
 * called setsid() or double-forked.  At the time limit the executor
 * SIGKILLs bwrap's process group at once (a SIGTERM could not reach the
 * script gracefully anyway: bwrap dies of it and takes the sandbox along).
 *
 * Cancel (ABI 1.3): when the request's cancel flag is set (the run is
 * stopping: Ctrl-C), bwrap's group is SIGKILLed as at the time limit, so
 * the sandbox dies whole; the flag is read every EK_CANCEL_TICK_MS and
 * the outcome is AML_EXEC_CANCELLED.  A run whose flag is set before its
 * script starts (waiting for a GPU share, say) does not start it.
 *
 * GPUs (execkit.h): a run waits for a free share of gpus_per_candidate
 * devices before it starts; the sandbox then gets the NVIDIA device nodes
 * (/dev/nvidiactl, /dev/nvidia-uvm, /dev/nvidia<N>) and the script sees
 * only its share in CUDA_VISIBLE_DEVICES, their number in AML_GPUS.
 * Without GPUs: no device nodes, CUDA_VISIBLE_DEVICES empty, AML_GPUS=0.
 *
 * Outcomes: bwrap reports a script killed by signal N as exit status
 * 128 + N, so exit statuses 129..192 read as KILLED by N.  bwrap's own
 * setup failures (exit 1 with a "bwrap: " line on stderr) read as NOSTART.
 *
 * Threads: as in local.c, several workers may call run() at once; the
 * plugin has no mutable globals, installs no signal handlers, waits only
 * for the pid it forked, and the child calls only async-signal-safe
 * functions between fork() and exec().
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
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

#define BW_NAME "bwrap"
#define BW_VERSION "1.1.0"

#define BW_MAX_THREADS 4096
#define BW_NOFILE 4096          /* RLIMIT_NOFILE of the sandbox */
#define BW_SETPRIV "/usr/bin/setpriv"
#define BW_SANDBOX_WORK "/work"
#define BW_SANDBOX_INPUT "/input"
#define BW_MAX_ARGS 160         /* bwrap's argv, without the --setenv pairs */

/* Plugin state: set in init, read-only afterwards (so shared by threads). */
struct bw {
	const aml_host *host;
	aml_plugin *self;
	char *python;        /* interpreter inside the sandbox (under /usr) */
	char *bwrap;         /* the bwrap binary on the host */
	long threads;        /* default for the BLAS/OpenMP thread caps */
	long memory_mb;      /* RLIMIT_AS, 0: unlimited */
	long max_file_mb;    /* RLIMIT_FSIZE, 0: unlimited */
	long max_procs;      /* RLIMIT_NPROC */
	long sandbox_uid;    /* uid (and gid) of the script when the agent is root */
	int as_root;         /* the agent runs as root: setpriv mode */
	ek_gpus *gpus;       /* locks itself */
};

/* One captured stream of the child. */

/* Everything one run() owns; released by bw_job_free(). */
struct bw_job {
	struct ek_jobio io;    /* streams, stdin, exec status pipe, buffer */
	char **argv;           /* bwrap's argv, NULL-terminated */
	size_t argn, argcap;
	char **owned;          /* strings of argv this job allocated */
	size_t ownn, owncap;
	struct rlimit as, fsize, nproc, nofile, cpu;
	int set_as, set_fsize; /* 0 when the parameter is 0 (unlimited) */
	int gpu_share;         /* held by the run, -1 when none */
};

/* What the child reports through the status pipe when it cannot exec. */
enum bw_stage { BW_STAGE_SETSID = 1, BW_STAGE_RLIMIT, BW_STAGE_STDIO, BW_STAGE_EXEC };

/* The parent's view of the running child. */


/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

/* ------------------------------------------------------------------ */
/* bwrap's command line.                                               */

/* Files of /etc bound read-only when present: the dynamic loader's cache,
 * Debian's alternatives (numpy's libblas.so.3 is a symlink through
 * /etc/alternatives), time zone, user names, Python's and matplotlib's
 * configuration.  Not the rest of /etc (no shadow, no ssh keys). */
static const char *const bw_etc[] = {
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives",
	"/etc/localtime", "/etc/timezone", "/etc/nsswitch.conf", "/etc/passwd",
	"/etc/group", "/etc/os-release", "/etc/python3", "/etc/matplotlibrc",
};

/* Append one borrowed string to j->argv.  Returns 0 or -1 on oom. */
static int
bw_arg(struct bw_job *j, const char *a)
{
	if (j->argn + 2 > j->argcap) {
		size_t cap = j->argcap ? j->argcap * 2 : BW_MAX_ARGS;
		char **nv = realloc(j->argv, cap * sizeof *nv);

		if (nv == NULL)
			return -1;
		j->argv = nv;
		j->argcap = cap;
	}
	j->argv[j->argn++] = (char *)a;
	j->argv[j->argn] = NULL;
	return 0;
}

/* Append a string the job owns from now on (freed by bw_job_free even
 * when appending fails).  Returns 0 or -1 on oom. */
static int
bw_arg_own(struct bw_job *j, char *a)
{
	if (a == NULL)
		return -1;
	if (j->ownn + 1 > j->owncap) {
		size_t cap = j->owncap ? j->owncap * 2 : 32;
		char **nv = realloc(j->owned, cap * sizeof *nv);

		if (nv == NULL) {
			free(a);
			return -1;
		}
		j->owned = nv;
		j->owncap = cap;
	}
	j->owned[j->ownn++] = a;
	return bw_arg(j, a);
}

/* "%ld" as an owned argument. */
static int
bw_arg_long(struct bw_job *j, const char *prefix, long v)
{
	char buf[64];

	snprintf(buf, sizeof buf, "%s%ld", prefix, v);
	return bw_arg_own(j, strdup(buf));
}

/* bwrap itself and its namespace options: --unshare-all for a normal
 * user; as root everything of --unshare-all except the user namespace
 * (its single-uid map would leave the script real root, whom
 * RLIMIT_NPROC does not bind; setpriv drops to sandbox_uid instead). */
static int
bw_args_namespaces(const struct bw *x, struct bw_job *j)
{
	static const char *const root_ns[] = {
		"--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
		"--unshare-cgroup-try",
	};
	size_t i;

	if (bw_arg(j, x->bwrap) != 0)
		return -1;
	if (!x->as_root)
		return bw_arg(j, "--unshare-all");
	for (i = 0; i < sizeof root_ns / sizeof root_ns[0]; i++)
		if (bw_arg(j, root_ns[i]) != 0)
			return -1;
	return 0;
}

/* In root mode, the setpriv prefix that runs the script as sandbox_uid. */
static int
bw_args_setpriv(const struct bw *x, struct bw_job *j)
{
	if (!x->as_root)
		return 0;
	if (bw_arg(j, BW_SETPRIV) != 0 ||
	    bw_arg_long(j, "--reuid=", x->sandbox_uid) != 0 ||
	    bw_arg_long(j, "--regid=", x->sandbox_uid) != 0 ||
	    bw_arg(j, "--clear-groups") != 0 || bw_arg(j, "--inh-caps=-all") != 0 ||
	    bw_arg(j, "--bounding-set=-all") != 0 || bw_arg(j, "--no-new-privs") != 0 ||
	    bw_arg(j, "--") != 0)
		return -1;
	return 0;
}

/* Append "--setenv KEY VALUE" for kv ("KEY=VALUE").  Returns 0, -1 on oom. */
static int
bw_arg_env(struct bw_job *j, const char *kv)
{
	const char *eq = strchr(kv, '=');

	if (bw_arg(j, "--setenv") != 0 ||
	    bw_arg_own(j, strndup(kv, (size_t)(eq - kv))) != 0)
		return -1;
	return bw_arg_own(j, strdup(eq + 1));
}

/* 1 when workdir/input is a symlink (the run directory's "../../input"). */
static int
bw_input_is_link(const char *workdir)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof path, "%s/input", workdir) >= (int)sizeof path)
		return 0;
	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

/* The run's GPU share: the environment (after the request's, so a request
 * cannot widen it) and, with a share, NVIDIA's device nodes. */
static int
bw_args_gpus(const struct bw *x, struct bw_job *j)
{
	static const char *const ctl[] = {
		"/dev/nvidiactl", "/dev/nvidia-uvm", "/dev/nvidia-uvm-tools",
	};
	char dev[32];
	struct stat st;
	size_t i;
	int n;

	if (bw_arg_env(j, ek_gpus_visible(x->gpus, j->gpu_share)) != 0 ||
	    bw_arg_env(j, ek_gpus_count(x->gpus, j->gpu_share)) != 0)
		return -1;
	if (j->gpu_share < 0)
		return 0;
	for (i = 0; i < sizeof ctl / sizeof ctl[0]; i++)
		if (bw_arg(j, "--dev-bind-try") != 0 || bw_arg(j, ctl[i]) != 0 ||
		    bw_arg(j, ctl[i]) != 0)
			return -1;
	/* every GPU's node: CUDA_VISIBLE_DEVICES picks the share's */
	for (n = 0; n < 64; n++) {
		snprintf(dev, sizeof dev, "/dev/nvidia%d", n);
		if (stat(dev, &st) == 0 &&
		    (bw_arg(j, "--dev-bind") != 0 || bw_arg_own(j, strdup(dev)) != 0 ||
		     bw_arg_own(j, strdup(dev)) != 0))
			return -1;
	}
	return 0;
}

/* The whole command line of one run. */
static int
bw_build_args(const struct bw *x, const aml_exec_request *req, struct bw_job *j,
	      char *err, size_t errlen)
{
	static const char *const fs[] = {
		"--die-with-parent", "--new-session",
		"--ro-bind", "/usr", "/usr",
		"--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
		"--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
		"--proc", "/proc", "--dev", "/dev",
		/* bwrap makes mount points 0700 and a 0755 tmpfs, too tight
		 * for a script that runs as sandbox_uid */
		"--perms", "1777", "--tmpfs", "/tmp", "--perms", "0755", "--dir", "/etc",
	};
	static const char *const fixed[] = {
		"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" BW_SANDBOX_WORK "/working",
		"TMPDIR=/tmp", "LANG=C.UTF-8", "PYTHONUNBUFFERED=1",
		"PYTHONDONTWRITEBYTECODE=1", "MPLBACKEND=Agg",
		"MPLCONFIGDIR=/tmp/matplotlib",
	};
	static const char *const caps[] = {
		"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
		"NUMEXPR_NUM_THREADS",
		"AML_N_JOBS", /* the workspace contract's thread count for n_jobs */
	};
	char kv[64];
	size_t i;

	if (bw_args_namespaces(x, j) != 0)
		goto oom;
	for (i = 0; i < sizeof fs / sizeof fs[0]; i++)
		if (bw_arg(j, fs[i]) != 0)
			goto oom;
	for (i = 0; i < sizeof bw_etc / sizeof bw_etc[0]; i++)
		if (bw_arg(j, "--ro-bind-try") != 0 || bw_arg(j, bw_etc[i]) != 0 ||
		    bw_arg(j, bw_etc[i]) != 0)
			goto oom;
	if (bw_arg(j, "--bind") != 0 || bw_arg(j, req->workdir) != 0 ||
	    bw_arg(j, BW_SANDBOX_WORK) != 0)
		goto oom;
	if (req->input_dir != NULL && req->input_dir[0] != '\0') {
		if (bw_arg(j, "--ro-bind") != 0 || bw_arg(j, req->input_dir) != 0 ||
		    bw_arg(j, BW_SANDBOX_INPUT) != 0)
			goto oom;
		/* A symlink cannot be mounted over; "../../input" from /work
		 * already leads to /input. */
		if (!bw_input_is_link(req->workdir) &&
		    (bw_arg(j, "--ro-bind") != 0 || bw_arg(j, req->input_dir) != 0 ||
		     bw_arg(j, BW_SANDBOX_WORK "/input") != 0))
			goto oom;
	}
	if (bw_arg(j, "--chdir") != 0 || bw_arg(j, BW_SANDBOX_WORK) != 0 ||
	    bw_arg(j, "--clearenv") != 0)
		goto oom;
	for (i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (bw_arg_env(j, fixed[i]) != 0)
			goto oom;
	for (i = 0; i < sizeof caps / sizeof caps[0]; i++) {
		snprintf(kv, sizeof kv, "%s=%ld", caps[i], x->threads);
		if (bw_arg_env(j, kv) != 0)
			goto oom;
	}
	for (i = 0; req->env != NULL && req->env[i] != NULL; i++) {
		const char *eq = strchr(req->env[i], '=');

		if (eq == NULL || eq == req->env[i]) {
			ek_err(err, errlen, "request env entry '%s' is not KEY=VALUE", req->env[i]);
			return AML_EINVAL;
		}
		if (bw_arg_env(j, req->env[i]) != 0)
			goto oom;
	}
	if (bw_args_gpus(x, j) != 0)
		goto oom;
	if (bw_args_setpriv(x, j) != 0 || bw_arg(j, x->python) != 0 ||
	    bw_arg(j, req->script) != 0)
		goto oom;
	return AML_OK;
oom:
	ek_err(err, errlen, "out of memory building bwrap's command line");
	return AML_ENOMEM;
}

/* ------------------------------------------------------------------ */
/* Output capture.                                                     */

/* ------------------------------------------------------------------ */
/* The job.                                                            */

static void
bw_job_init(struct bw_job *j)
{
	memset(j, 0, sizeof *j);
	ek_jobio_init(&j->io);
	j->gpu_share = -1;
}

static void
bw_job_free(struct bw_job *j)
{
	size_t i;

	ek_jobio_close(&j->io);
	for (i = 0; i < j->ownn; i++)
		free(j->owned[i]);
	free(j->owned);
	free(j->argv);
}

/* Lower rl to the agent's own hard limit of res. */
static void
bw_clamp(int res, struct rlimit *rl)
{
	struct rlimit cur;

	if (getrlimit(res, &cur) != 0 || cur.rlim_max == RLIM_INFINITY)
		return;
	if (rl->rlim_max > cur.rlim_max)
		rl->rlim_max = cur.rlim_max;
	if (rl->rlim_cur > rl->rlim_max)
		rl->rlim_cur = rl->rlim_max;
}

/* The resource limits of one run (see the file comment). */
static void
bw_job_limits(const struct bw *x, const aml_exec_request *req, struct bw_job *j)
{
	double cpu = req->timeout_s * (double)x->threads * 2 + 10;

	j->set_as = x->memory_mb > 0;
	j->as.rlim_cur = j->as.rlim_max = (rlim_t)x->memory_mb << 20;
	j->set_fsize = x->max_file_mb > 0;
	j->fsize.rlim_cur = j->fsize.rlim_max = (rlim_t)x->max_file_mb << 20;
	j->nproc.rlim_cur = j->nproc.rlim_max = (rlim_t)x->max_procs;
	j->nofile.rlim_cur = j->nofile.rlim_max = BW_NOFILE;
	/* SIGXCPU at the soft limit, SIGKILL at the hard one. */
	j->cpu.rlim_cur = cpu > 1e9 ? (rlim_t)1e9 : (rlim_t)cpu;
	j->cpu.rlim_max = j->cpu.rlim_cur + 5;
	/* Only root may raise a hard limit: never ask for more than it is. */
	bw_clamp(RLIMIT_AS, &j->as);
	bw_clamp(RLIMIT_FSIZE, &j->fsize);
	bw_clamp(RLIMIT_NPROC, &j->nproc);
	bw_clamp(RLIMIT_NOFILE, &j->nofile);
	bw_clamp(RLIMIT_CPU, &j->cpu);
}

/* Everything the child needs, made before the fork. */
static int
bw_job_prepare(const struct bw *x, const aml_exec_request *req, size_t cap,
	       struct bw_job *j, char *err, size_t errlen)
{
	int rc;

	if ((rc = ek_jobio_open(&j->io, req->workdir, cap, err, errlen)) != AML_OK ||
	    (rc = bw_build_args(x, req, j, err, errlen)) != AML_OK)
		return rc;
	bw_job_limits(x, req, j);
	return AML_OK;
}

/* As root, give the script's uid the workdir and its working/ and
 * submission/ (not following symlinks), so it can write there. */
static int
bw_chown_workdir(const struct bw *x, const char *workdir, char *err, size_t errlen)
{
	static const char *const sub[] = {".", "working", "submission"};
	char ebuf[128];
	size_t i;
	int dfd;

	if (!x->as_root)
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
/* The child, between fork() and exec(): async-signal-safe calls only.  */

static void __attribute__((noreturn))
bw_child_fail(const struct bw_job *j, int stage, int e)
{
	struct ek_child_err ce = {stage, e};
	const char *p = (const char *)&ce;
	size_t n = sizeof ce;

	while (n > 0) {
		ssize_t w = write(j->io.status_w, p, n);

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
bw_child(const struct bw_job *j)
{
	static char *const noenv[] = {NULL};
	struct sigaction sa;
	sigset_t none;
	struct rlimit nocore = {0, 0};
	int sig;

	if (setsid() < 0)
		bw_child_fail(j, BW_STAGE_SETSID, errno);
	/* bwrap (and, through --die-with-parent, the whole sandbox) dies
	 * with the forking thread of the agent. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != j->io.parent_pid)
		_exit(127);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL); /* EINVAL for KILL, STOP, libc's own */
	sigemptyset(&none);
	if (chdir("/") != 0)
		bw_child_fail(j, BW_STAGE_SETSID, errno);
	if (dup2(j->io.devnull, 0) < 0 || dup2(j->io.out.wfd, 1) < 0 || dup2(j->io.err.wfd, 2) < 0)
		bw_child_fail(j, BW_STAGE_STDIO, errno);
	if (setrlimit(RLIMIT_CORE, &nocore) != 0 ||
	    (j->set_as && setrlimit(RLIMIT_AS, &j->as) != 0) ||
	    (j->set_fsize && setrlimit(RLIMIT_FSIZE, &j->fsize) != 0) ||
	    setrlimit(RLIMIT_NPROC, &j->nproc) != 0 ||
	    setrlimit(RLIMIT_NOFILE, &j->nofile) != 0 ||
	    setrlimit(RLIMIT_CPU, &j->cpu) != 0)
		bw_child_fail(j, BW_STAGE_RLIMIT, errno);
	ek_child_close_range(3, (unsigned)j->io.status_w - 1, j->io.maxfd);
	ek_child_close_range((unsigned)j->io.status_w + 1, ~0U, j->io.maxfd);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(j->argv[0], j->argv, noenv);
	bw_child_fail(j, BW_STAGE_EXEC, errno);
}

/* ------------------------------------------------------------------ */
/* Parameters.                                                         */

static void
bw_free(struct bw *x)
{
	if (x == NULL)
		return;
	free(x->python);
	free(x->bwrap);
	ek_gpus_free(x->gpus);
	free(x);
}

/* Run "bwrap <namespaces> --ro-bind / / [setpriv ...] true" once: 0 when
 * it works, else the reason (bwrap's first stderr line) in err. */
static int
bw_selftest(const struct bw *x, char *err, size_t errlen)
{
	static char *const noenv[] = {NULL};
	struct bw_job j;
	char line[256], ebuf[128];
	size_t got = 0;
	int fds[2], st = 0, rc = AML_OK;
	pid_t pid;

	bw_job_init(&j);
	if (bw_args_namespaces(x, &j) != 0 || bw_arg(&j, "--die-with-parent") != 0 ||
	    bw_arg(&j, "--ro-bind") != 0 || bw_arg(&j, "/") != 0 || bw_arg(&j, "/") != 0 ||
	    bw_args_setpriv(x, &j) != 0 || bw_arg(&j, "/usr/bin/true") != 0) {
		bw_job_free(&j);
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		bw_job_free(&j);
		ek_err(err, errlen, "pipe: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);

		if (null < 0 || dup2(null, 0) < 0 || dup2(null, 1) < 0 || dup2(fds[1], 2) < 0)
			_exit(126);
		execve(j.argv[0], j.argv, noenv);
		_exit(127);
	}
	(void)close(fds[1]);
	if (pid < 0) {
		(void)close(fds[0]);
		bw_job_free(&j);
		ek_err(err, errlen, "fork: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	for (;;) {
		ssize_t n = read(fds[0], line + got, sizeof line - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == sizeof line - 1)
			break;
	}
	(void)close(fds[0]);
	line[got] = '\0';
	line[strcspn(line, "\n")] = '\0';
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (WIFEXITED(st) && WEXITSTATUS(st) == 127 && line[0] == '\0')
			snprintf(line, sizeof line, "cannot execute it");
		ek_err(err, errlen,
		       "%s does not work here (%s); check that it is installed and that "
		       "namespaces are allowed (sysctl user.max_user_namespaces), or use the local executor",
		       x->bwrap, line[0] ? line : "exit status not 0");
		rc = AML_EUNSUPPORTED;
	}
	bw_job_free(&j);
	return rc;
}

/* Read and check the parameters (see manifest.yaml), then check that
 * bwrap works on this machine. */
static int
bw_init(const aml_host *host, aml_plugin *self, void **state, char *err,
	size_t errlen)
{
	struct bw *x;
	const char *v;
	int rc;

	*state = NULL;
	x = calloc(1, sizeof *x);
	if (x == NULL) {
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	x->host = host;
	x->self = self;
	x->threads = 1;
	x->memory_mb = 8192;
	x->max_file_mb = 2048;
	x->max_procs = 256;
	x->sandbox_uid = 65534;
	x->as_root = geteuid() == 0;
	if ((rc = ek_param_long(x->host, x->self, "threads", 1, BW_MAX_THREADS, &x->threads, err,
				errlen)) != AML_OK ||
	    (rc = ek_param_long(x->host, x->self, "memory_mb", 0, 1L << 30, &x->memory_mb, err,
				errlen)) != AML_OK ||
	    (rc = ek_param_long(x->host, x->self, "max_file_mb", 0, 1L << 30, &x->max_file_mb, err,
				errlen)) != AML_OK ||
	    (rc = ek_param_long(x->host, x->self, "max_procs", 1, 1L << 22, &x->max_procs, err,
				errlen)) != AML_OK ||
	    (rc = ek_param_long(x->host, x->self, "sandbox_uid", 1, 65534, &x->sandbox_uid, err,
				errlen)) != AML_OK) {
		bw_free(x);
		return rc;
	}
	v = host->param(self, "python");
	x->python = strdup(v != NULL && v[0] != '\0' ? v : AML_DEFAULT_PYTHON);
	v = host->param(self, "bwrap");
	x->bwrap = strdup(v != NULL && v[0] != '\0' ? v : "/usr/bin/bwrap");
	if (x->python == NULL || x->bwrap == NULL) {
		ek_err(err, errlen, "out of memory");
		bw_free(x);
		return AML_ENOMEM;
	}
	/* Only /usr of the host is in the sandbox. */
	if (strncmp(x->python, "/usr/", 5) != 0 || strstr(x->python, "/../") != NULL) {
		ek_err(err, errlen,
		       "python must be an absolute path under /usr (the only host folder in the sandbox), got '%s'",
		       x->python);
		bw_free(x);
		return AML_EUNSUPPORTED; /* executor auto then takes the local one */
	}
	if (x->bwrap[0] != '/') {
		ek_err(err, errlen, "bwrap must be an absolute path, got '%s'", x->bwrap);
		bw_free(x);
		return AML_EINVAL;
	}
	if ((rc = ek_gpus_new(host, self, &x->gpus, err, errlen)) != AML_OK ||
	    (rc = bw_selftest(x, err, errlen)) != AML_OK) {
		bw_free(x);
		return rc;
	}
	if (access(x->python, X_OK) != 0)
		host->log(self, AML_LOG_WARN,
			  "python '%s' is not executable: scripts will not start; set executor.bwrap.python",
			  x->python);
	*state = x;
	return AML_OK;
}

static void
bw_fini(void *state)
{
	bw_free(state);
}


/* The first line of workdir/stderr.txt when it is one of bwrap's own
 * ("bwrap: ..."), into out; else out is empty. */
static void
bw_bwrap_error(const char *workdir, char *out, size_t outlen)
{
	char buf[EK_DETAIL_MAX];
	char *path = ek_join(workdir, "stderr.txt");
	ssize_t n = -1;
	int fd;

	out[0] = '\0';
	if (path == NULL)
		return;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	free(path);
	if (fd < 0)
		return;
	do
		n = pread(fd, buf, sizeof buf - 1, 0);
	while (n < 0 && errno == EINTR);
	(void)close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	if (strncmp(buf, "bwrap: ", 7) == 0)
		snprintf(out, outlen, "%s", buf);
}

/* Turn the finished watch into the result's outcome and detail line.
 * bwrap exits 128 + N when the script died of signal N. */
static void
bw_fill_result(const struct bw *x, const aml_exec_request *req,
	       const struct bw_job *j, const struct ek_watch *w, aml_exec_result *res)
{
	char detail[EK_DETAIL_MAX + 128], line[EK_DETAIL_MAX];
	const char *name;
	int st = w->status, code = -1, sig = 0;

	res->wall_s = ek_now() - w->start;
	res->cpu_s = (double)w->ru.ru_utime.tv_sec + (double)w->ru.ru_utime.tv_usec / 1e6 +
		     (double)w->ru.ru_stime.tv_sec + (double)w->ru.ru_stime.tv_usec / 1e6;
	res->output_bytes = j->io.out.total + j->io.err.total;
	res->truncated = ek_stream_cut(&j->io.out) > 0 || ek_stream_cut(&j->io.err) > 0;
	if (WIFEXITED(st)) {
		code = WEXITSTATUS(st);
		if (code > 128 && code < 128 + NSIG)
			sig = code - 128;
	} else if (WIFSIGNALED(st)) {
		sig = WTERMSIG(st);
	}

	if (w->killed && w->cancelled) {
		res->outcome = AML_EXEC_CANCELLED;
		res->term_signal = SIGKILL;
		snprintf(detail, sizeof detail, SF_CANCELLED);
	} else if (w->killed) {
		res->outcome = AML_EXEC_TIMEOUT;
		res->term_signal = SIGKILL;
		snprintf(detail, sizeof detail, "timed out after %g s", req->timeout_s);
	} else if (sig != 0) {
		res->outcome = AML_EXEC_KILLED;
		res->term_signal = sig;
		name = ek_signame(sig);
		if (name != NULL)
			snprintf(detail, sizeof detail, "killed by signal %d (%s)", sig, name);
		else
			snprintf(detail, sizeof detail, "killed by signal %d", sig);
	} else if (code == 0) {
		res->outcome = AML_EXEC_OK;
		snprintf(detail, sizeof detail, "exit status 0");
	} else if (code == 1 && (bw_bwrap_error(req->workdir, line, sizeof line), line[0])) {
		res->outcome = AML_EXEC_NOSTART;
		res->exit_code = 1;
		snprintf(detail, sizeof detail, "sandbox did not start: %s", line);
	} else {
		res->outcome = AML_EXEC_CRASHED;
		res->exit_code = code;
		ek_last_stderr_line(req->workdir, line, sizeof line);
		if (line[0] != '\0')
			snprintf(detail, sizeof detail, "exit status %d: %s", code, line);
		else
			snprintf(detail, sizeof detail, "exit status %d", code);
	}
	res->detail = x->host->mem_strdup(detail);
}

static void
bw_fill_nostart(const struct bw *x, const aml_exec_request *req,
		const struct ek_child_err *ce, const struct ek_watch *w,
		aml_exec_result *res)
{
	char detail[PATH_MAX + 256], ebuf[128];
	const char *why = ek_strerror(ce->err, ebuf, sizeof ebuf);

	(void)req;

	res->outcome = AML_EXEC_NOSTART;
	res->exit_code = 127;
	res->wall_s = ek_now() - w->start;
	switch (ce->stage) {
	case BW_STAGE_EXEC:
		snprintf(detail, sizeof detail, "cannot execute %s: %s", x->bwrap, why);
		break;
	case BW_STAGE_RLIMIT:
		snprintf(detail, sizeof detail, "cannot set the resource limits: %s", why);
		break;
	case BW_STAGE_SETSID:
		snprintf(detail, sizeof detail, "cannot start a new session: %s", why);
		break;
	default:
		snprintf(detail, sizeof detail, "cannot set up stdin/stdout/stderr: %s", why);
		break;
	}
	res->detail = x->host->mem_strdup(detail);
}


/* Run req->script in req->workdir and wait for it (see the file comment). */
static int
bw_run(void *state, const aml_exec_request *req, aml_exec_result *res, char *err,
       size_t errlen)
{
	const struct bw *x = state;
	struct bw_job j;
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
	if ((rc = ek_check_request(req, 1, err, errlen)) != AML_OK)
		return rc;
	if (sf_stopping(req->cancel)) {
		ek_fill_not_started(x->host, res);
		return AML_OK;
	}
	cap = req->output_cap > 0 ? req->output_cap : EK_DEFAULT_CAP;

	bw_job_init(&j);
	memset(&w, 0, sizeof w);
	w.pidfd = -1;
	/* may wait for a share, or give up when the run is stopping */
	j.gpu_share = ek_gpus_acquire(x->gpus, req->cancel);
	if (j.gpu_share == EK_GPUS_CANCELLED) {
		j.gpu_share = -1;
		ek_fill_not_started(x->host, res);
		goto out;
	}
	if ((rc = bw_job_prepare(x, req, cap, &j, err, errlen)) != AML_OK ||
	    (rc = bw_chown_workdir(x, req->workdir, err, errlen)) != AML_OK)
		goto out;
	if (sf_stopping(req->cancel)) {
		ek_fill_not_started(x->host, res);
		goto out;
	}

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
		bw_child(&j);
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

	failed = ek_read_exec_status(j.io.status_r, &ce);
	if (failed) {
		if ((e = ek_reap(&w)) != 0) {
			ek_err(err, errlen, "lost child %d: %s", (int)w.pid,
			       ek_strerror(e, ebuf, sizeof ebuf));
			rc = AML_EIO;
			goto out;
		}
		ek_stream_finish(&j.io.out);
		ek_stream_finish(&j.io.err);
		bw_fill_nostart(x, req, &ce, &w, res);
		rc = AML_OK;
		goto out;
	}

#ifdef SYS_pidfd_open
	w.pidfd = (int)syscall(SYS_pidfd_open, w.pid, 0); /* close-on-exec */
	if (w.pidfd < 0)
		w.pidfd = -1; /* old kernel: poll with EK_TICK_MS instead */
#endif
	{
		/* no grace: bwrap dies of SIGKILL and its PID namespace with it */
		ek_sup sup = {x->host, x->self, -1, &j.io.out, &j.io.err, j.io.buf, req->cancel};

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
	bw_fill_result(x, req, &j, &w, res);
out:
	ek_gpus_release(x->gpus, j.gpu_share);
	bw_job_free(&j);
	return rc;
}

static const aml_executor_ops bw_ops = {bw_run};

AML_PLUGIN_DEFINE(AML_KIND_EXECUTOR, BW_NAME, BW_VERSION, bw_init, bw_fini, &bw_ops);
