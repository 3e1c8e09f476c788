/*
 * child.c — the two processes each run of the local executor forks: the
 * supervisor, and under it the script.
 *
 * Both are forked from a multithreaded agent and the supervisor never
 * execs, so everything here is async-signal-safe: system calls and string
 * functions on data local.c prepared before the fork; no malloc, no
 * stdio, no locks.
 *
 * The supervisor starts its own session and becomes a child subreaper:
 * every process the script starts that loses its parent (a daemon's
 * double fork, a setsid() child whose parent exited) is reparented to it
 * rather than to init, so it knows all of them and no other run's.  It
 * forks the script into a process group of its own, and waits.
 *   - SIGTERM (the agent at the time limit or when the run is stopping,
 *     or the agent's death through the parent-death signal): SIGTERM and
 *     SIGCONT to the script's group
 *     and to every child of the supervisor (escapees it adopted, with the
 *     group each leads), then SIGKILL to the same after grace_s.
 *   - When the script has exited: SIGKILL to its group, then rounds of
 *     SIGKILL to every child of the supervisor (found by scanning /proc
 *     for processes whose parent it is) and reaping, until it has no
 *     child left: a killed process's own children are reparented to the
 *     supervisor and fall in the next round.
 * Then it writes a struct lx_report to the agent and exits, so when the
 * agent has reaped it, nothing the script started runs any more.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <automlgen/plugin.h>

#include "local.h"

#define LX_TICK_S 1.0    /* the supervisor looks at its children this often */

/* One entry of getdents64(). */
struct lx_dirent64 {
	uint64_t ino;
	int64_t off;
	unsigned short reclen;
	unsigned char type;
	char name[];
};

/* Raw calls: they change only the calling thread, which after fork() is
 * the only one, and take no lock of libc's. */
int
lx_become(uid_t uid, gid_t gid)
{
#if defined(SYS_setresuid32)
	return syscall(SYS_setgroups32, 0, NULL) == 0 &&
	       syscall(SYS_setresgid32, gid, gid, gid) == 0 &&
	       syscall(SYS_setresuid32, uid, uid, uid) == 0 ? 0 : -1;
#else
	return syscall(SYS_setgroups, 0, NULL) == 0 &&
	       syscall(SYS_setresgid, gid, gid, gid) == 0 &&
	       syscall(SYS_setresuid, uid, uid, uid) == 0 ? 0 : -1;
#endif
}

/* Tell the agent why the start failed, and exit. */
static void __attribute__((noreturn))
lx_fail(int fd, int stage, int e)
{
	struct ek_child_err ce = {stage, e};

	(void)ek_write_all(fd, (const char *)&ce, sizeof ce);
	_exit(127);
}

/* The script: its own group, limits, CPUs, uid; then exec.  fd is the
 * supervisor's exec-status pipe; sup the supervisor's pid. */
static void __attribute__((noreturn))
lx_script(const struct lx_job *j, const char *workdir, pid_t sup, int fd)
{
	const struct lx_limits *l = &j->lim;
	struct rlimit nocore = {0, 0};
	sigset_t none;

	if (setpgid(0, 0) != 0)
		lx_fail(fd, LX_STAGE_SETSID, errno);
	if (chdir(workdir) != 0)
		lx_fail(fd, LX_STAGE_CHDIR, errno);
	if (dup2(j->io.devnull, 0) < 0 || dup2(j->io.out.wfd, 1) < 0 || dup2(j->io.err.wfd, 2) < 0)
		lx_fail(fd, LX_STAGE_STDIO, errno);
	/* No core files in the workdir.  Everything the script starts
	 * inherits the limits; they are set while still root (who may raise
	 * a hard limit) and bind once the uid is dropped. */
	if (setrlimit(RLIMIT_CORE, &nocore) != 0 ||
	    (l->set_as && setrlimit(RLIMIT_AS, &l->as) != 0) ||
	    (l->set_fsize && setrlimit(RLIMIT_FSIZE, &l->fsize) != 0) ||
	    setrlimit(RLIMIT_NOFILE, &l->nofile) != 0 || setrlimit(RLIMIT_CPU, &l->cpu) != 0 ||
	    setrlimit(RLIMIT_NPROC, &l->nproc) != 0)
		lx_fail(fd, LX_STAGE_RLIMIT, errno);
	if (j->pin)
		(void)sched_setaffinity(0, sizeof j->cpus, &j->cpus); /* a hint */
	if (j->drop) {
		if (lx_become(j->uid, j->gid) != 0)
			lx_fail(fd, LX_STAGE_USER, errno);
		(void)prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	}
	/* After the uid change, which clears it.  The supervisor may already
	 * be gone by now, so check once by hand. */
	(void)prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != sup)
		_exit(127);
	ek_child_close_range(3, (unsigned)fd - 1, j->io.maxfd);
	ek_child_close_range((unsigned)fd + 1, ~0U, j->io.maxfd);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execve(j->argv[0], j->argv, j->envp);
	lx_fail(fd, LX_STAGE_EXEC, errno);
}

/* Close every fd from 3 up but the n in keep (sorted here). */
static void
lx_close_except(int *keep, int n, int maxfd)
{
	unsigned lo = 3;
	int i, k, t;

	for (i = 1; i < n; i++)
		for (k = i; k > 0 && keep[k - 1] > keep[k]; k--) {
			t = keep[k];
			keep[k] = keep[k - 1];
			keep[k - 1] = t;
		}
	for (i = 0; i < n; i++) {
		if (keep[i] < (int)lo)
			continue;
		ek_child_close_range(lo, (unsigned)keep[i] - 1, maxfd);
		lo = (unsigned)keep[i] + 1;
	}
	ek_child_close_range(lo, ~0U, maxfd);
}

/* "/proc/<name>/stat" (name: decimal digits) into buf. */
static void
lx_stat_path(const char *name, char *buf, size_t len)
{
	size_t n = strlen(name);

	buf[0] = '\0';
	if (n + sizeof "/proc//stat" > len)
		return;
	memcpy(buf, "/proc/", 6);
	memcpy(buf + 6, name, n);
	memcpy(buf + 6 + n, "/stat", sizeof "/stat");
}

/* The parent of the process named by decimal name; 0 when it is gone or
 * a zombie (nothing left to signal). */
static pid_t
lx_parent_of(const char *name)
{
	char path[64], buf[512], *p;
	ssize_t n;
	long v = 0;
	int fd;

	lx_stat_path(name, path, sizeof path);
	if (path[0] == '\0' || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	do
		n = read(fd, buf, sizeof buf - 1);
	while (n < 0 && errno == EINTR);
	(void)close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	/* "pid (comm) S ppid ...": comm may hold anything, ')' included. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ' || p[2] == '\0' || p[2] == 'Z' || p[2] == 'X' || p[3] != ' ')
		return 0;
	for (p += 4; *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (*p - '0');
	return (pid_t)v;
}

/* Send sig to every live child of self but skip, and to the process
 * group each leads (a child's pid cannot be reused while it is ours, so
 * neither can its group's id).  Returns how many, or -1 without /proc. */
static int
lx_signal_children(pid_t self, pid_t skip, int sig)
{
	char buf[8192] __attribute__((aligned(8)));
	long len, off;
	int fd, n = 0;

	fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	while ((len = syscall(SYS_getdents64, fd, buf, sizeof buf)) > 0)
		for (off = 0; off < len;) {
			const struct lx_dirent64 *d = (const void *)(buf + off);
			const char *c;
			long pid = 0;

			off += d->reclen;
			for (c = d->name; *c >= '0' && *c <= '9'; c++)
				pid = pid * 10 + (*c - '0');
			if (*c != '\0' || pid <= 0 || pid == skip || lx_parent_of(d->name) != self)
				continue;
			(void)kill((pid_t)-pid, sig);
			(void)kill((pid_t)pid, sig);
			n++;
		}
	(void)close(fd);
	return n;
}

/* sig to the script's group and to everything else under the supervisor. */
static void
lx_signal_tree(pid_t self, pid_t script, int sig)
{
	(void)kill(-script, sig);
	(void)lx_signal_children(self, script, sig);
}

/* Has the script exited?  Checked without reaping, so that its group id
 * stays its own until the group is killed. */
static int
lx_script_exited(pid_t script)
{
	siginfo_t si;

	memset(&si, 0, sizeof si);
	return waitid(P_PID, (id_t)script, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
	       si.si_pid == script;
}

/* Reap the adopted processes that have exited, not the script. */
static void
lx_reap_adopted(pid_t script)
{
	siginfo_t si;

	for (;;) {
		memset(&si, 0, sizeof si);
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0 || si.si_pid == 0 ||
		    si.si_pid == script)
			return;
		(void)waitpid(si.si_pid, NULL, 0);
	}
}

/* Kill and reap every process left under the supervisor. */
static void
lx_kill_all(pid_t self)
{
	const struct timespec pause = {0, 2000000};
	pid_t r;
	int n, reaped;

	for (;;) {
		n = lx_signal_children(self, 0, SIGKILL);
		reaped = 0;
		while ((r = waitpid(-1, NULL, WNOHANG)) > 0)
			reaped++;
		if (r < 0 && errno == ECHILD)
			return;
		if (n < 0)
			return; /* no /proc: what is left goes to init */
		/* Children left now may be new ones, reparented from those
		 * just reaped and not yet signalled: look again.  Else wait
		 * for one of those just killed, or for a reparenting. */
		if (reaped > 0)
			continue;
		if (n > 0)
			(void)waitpid(-1, NULL, 0);
		else
			(void)nanosleep(&pause, NULL);
	}
}

void
lx_supervisor(const struct lx_job *j, const char *workdir)
{
	struct lx_report rep;
	struct ek_child_err ce;
	struct sigaction sa;
	struct timespec ts;
	sigset_t wake;
	double kill_at = 0, now, wait;
	pid_t self, script;
	int pp[2], keep[4], sig;

	if (setsid() < 0)
		lx_fail(j->io.status_w, LX_STAGE_SETSID, errno);
	if (prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0)
		lx_fail(j->io.status_w, LX_STAGE_SUBREAPER, errno);
	/* If the agent dies (killed, Ctrl-C), stop everything as at the
	 * time limit rather than leave it running unattended. */
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (getppid() != j->io.parent_pid)
		_exit(127);
	/* Default dispositions (a SIGCHLD the agent ignores would reap for
	 * us); every signal stays blocked here, as the agent blocked them
	 * around fork(): the supervisor takes the ones it wants with
	 * sigtimedwait(), the script unblocks all before exec. */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL); /* EINVAL for KILL, STOP, libc's own */
	if (dup2(j->io.devnull, 0) < 0 || dup2(j->io.devnull, 1) < 0 || dup2(j->io.devnull, 2) < 0)
		lx_fail(j->io.status_w, LX_STAGE_STDIO, errno);
	/* Other runs' pipes the fork copied: they must not stay open here. */
	keep[0] = j->io.status_w;
	keep[1] = j->io.devnull;
	keep[2] = j->io.out.wfd;
	keep[3] = j->io.err.wfd;
	lx_close_except(keep, 4, j->io.maxfd);
	if (pipe2(pp, O_CLOEXEC) != 0)
		lx_fail(j->io.status_w, LX_STAGE_FORK, errno);
	self = getpid();
	script = fork();
	if (script < 0)
		lx_fail(j->io.status_w, LX_STAGE_FORK, errno);
	if (script == 0) {
		(void)close(pp[0]);
		lx_script(j, workdir, self, pp[1]);
	}
	(void)close(pp[1]);
	if (ek_read_exec_status(pp[0], &ce)) {
		while (waitpid(script, NULL, 0) < 0 && errno == EINTR)
			;
		lx_fail(j->io.status_w, ce.stage, ce.err);
	}
	keep[0] = j->io.status_w;
	lx_close_except(keep, 1, j->io.maxfd);
	ce.stage = LX_STAGE_RUNNING;
	ce.err = 0;
	(void)ek_write_all(j->io.status_w, (const char *)&ce, sizeof ce);

	memset(&rep, 0, sizeof rep);
	sigemptyset(&wake);
	sigaddset(&wake, SIGCHLD);
	sigaddset(&wake, SIGTERM);
	sigaddset(&wake, SIGINT);
	sigaddset(&wake, SIGHUP);
	for (;;) {
		if (lx_script_exited(script))
			break;
		lx_reap_adopted(script);
		now = ek_now();
		if (rep.termed && !rep.killed && now >= kill_at) {
			lx_signal_tree(self, script, SIGKILL);
			rep.killed = 1;
		}
		wait = LX_TICK_S;
		if (rep.termed && !rep.killed && kill_at - now < wait)
			wait = kill_at - now;
		ts.tv_sec = (time_t)wait;
		ts.tv_nsec = (long)((wait - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(&wake, NULL, &ts);
		if ((sig == SIGTERM || sig == SIGINT || sig == SIGHUP) && !rep.termed) {
			rep.termed = 1;
			lx_signal_tree(self, script, SIGTERM);
			lx_signal_tree(self, script, SIGCONT); /* a stopped one must see it */
			kill_at = ek_now() + j->grace_s;
		}
	}
	(void)kill(-script, SIGKILL);
	while (wait4(script, &rep.status, 0, NULL) < 0 && errno == EINTR)
		;
	lx_kill_all(self);
	(void)ek_write_all(j->io.status_w, (const char *)&rep, sizeof rep);
	_exit(0);
}
