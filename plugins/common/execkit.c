/*
 * execkit.c — see execkit.h.
 */
#include "config.h"

#include <assert.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
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

#include "execkit.h"

void
ek_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "executor " EK_NAME ": ");
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

/* strerror that is safe to call from several threads. */
const char *
ek_strerror(int e, char *buf, size_t len)
{
	return strerror_r(e, buf, len);
}

double
ek_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Milliseconds from now until t, rounded up, clamped to [0, INT_MAX]. */
int
ek_ms_until(double t, double now)
{
	double ms = (t - now) * 1000.0;

	if (ms <= 0)
		return 0;
	if (ms >= (double)INT_MAX - 1)
		return INT_MAX;
	return (int)ms + 1;
}

void
ek_close(int *fd)
{
	if (*fd >= 0) {
		/* After close() the fd is gone even on EINTR (Linux): never retry. */
		(void)close(*fd);
		*fd = -1;
	}
}

/* "a/b" (transferred, NULL on oom). */
char *
ek_join(const char *a, const char *b)
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

int
ek_param_long(const aml_host *host, aml_plugin *self, const char *key, long lo, long hi,
	      long *out, char *err, size_t errlen)
{
	const char *v = host->param(self, key);
	char *end;
	long n;

	if (v == NULL)
		return AML_OK;
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
		ek_err(err, errlen, "%s must be an integer from %ld to %ld, got '%s'", key, lo,
		       hi, v);
		return AML_EINVAL;
	}
	*out = n;
	return AML_OK;
}

void
ek_fill_not_started(const aml_host *host, aml_exec_result *res)
{
	res->outcome = AML_EXEC_CANCELLED;
	res->detail = host->mem_strdup(SF_CANCELLED " (not started)");
}

int
ek_check_request(const aml_exec_request *req, int inside, char *err, size_t errlen)
{
	struct stat st;
	char ebuf[128];
	char *path;

	if (req->workdir == NULL || req->workdir[0] == '\0' || req->script == NULL ||
	    req->script[0] == '\0') {
		ek_err(err, errlen, "request without a workdir or script");
		return AML_EINVAL;
	}
	if (inside && (req->script[0] == '/' || strstr(req->script, "..") != NULL)) {
		ek_err(err, errlen, "script name '%s' must be a path inside the workdir, without '..'",
		       req->script);
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

/* Write all of p; returns 0 or an errno value. */
int
ek_write_all(int fd, const char *p, size_t n)
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
int
ek_fd_above_stdio(int *fd)
{
	int nfd;

	if (*fd > 2)
		return 0;
	nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -1;
	ek_close(fd);
	*fd = nfd;
	return 0;
}

const char *
ek_signame(int sig)
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

/* Create workdir/<file_name>, the pipe and the tail ring of one stream. */
void
ek_jobio_init(struct ek_jobio *io)
{
	memset(io, 0, sizeof *io);
	io->out.file_name = "stdout.txt";
	io->err.file_name = "stderr.txt";
	io->out.rfd = io->out.wfd = io->out.file = -1;
	io->err.rfd = io->err.wfd = io->err.file = -1;
	io->devnull = io->status_r = io->status_w = -1;
}

int
ek_jobio_open(struct ek_jobio *io, const char *workdir, size_t cap, char *err, size_t errlen)
{
	struct rlimit rl;
	char ebuf[128];
	int fds[2], rc;

	if ((rc = ek_stream_open(&io->out, workdir, cap, err, errlen)) != AML_OK ||
	    (rc = ek_stream_open(&io->err, workdir, cap, err, errlen)) != AML_OK)
		return rc;
	io->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (io->devnull < 0 || ek_fd_above_stdio(&io->devnull) != 0) {
		ek_err(err, errlen, "/dev/null: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		ek_err(err, errlen, "pipe: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	io->status_r = fds[0];
	io->status_w = fds[1];
	if (ek_fd_above_stdio(&io->status_w) != 0) {
		ek_err(err, errlen, "pipe setup: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	io->buf = malloc(EK_CHUNK);
	if (io->buf == NULL) {
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	io->maxfd = 65536;
	io->parent_pid = getpid();
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)(1 << 20))
		io->maxfd = (int)rl.rlim_cur;
	return AML_OK;
}

void
ek_jobio_close(struct ek_jobio *io)
{
	struct ek_stream *s[2] = {&io->out, &io->err};
	size_t i;

	for (i = 0; i < 2; i++) {
		ek_close(&s[i]->rfd);
		ek_close(&s[i]->wfd);
		ek_close(&s[i]->file);
		free(s[i]->tail);
		s[i]->tail = NULL;
	}
	ek_close(&io->devnull);
	ek_close(&io->status_r);
	ek_close(&io->status_w);
	free(io->buf);
	io->buf = NULL;
}

int
ek_stream_open(struct ek_stream *s, const char *workdir, size_t cap, char *err,
	       size_t errlen)
{
	int fds[2];
	char ebuf[128];
	char *path = ek_join(workdir, s->file_name);

	if (path == NULL) {
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	s->file = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (s->file < 0) {
		ek_err(err, errlen, "cannot create %s: %s", path,
		       ek_strerror(errno, ebuf, sizeof ebuf));
		free(path);
		return AML_EIO;
	}
	free(path);
	s->head_cap = cap / 2;
	s->tail_cap = cap - s->head_cap;
	s->tail = malloc(s->tail_cap);
	if (s->tail == NULL) {
		ek_err(err, errlen, "out of memory for a %zu-byte output buffer", s->tail_cap);
		return AML_ENOMEM;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		ek_err(err, errlen, "pipe: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	s->rfd = fds[0];
	s->wfd = fds[1];
	/* Only the parent's end is non-blocking: the flag lives on the open
	 * file description, and the script's writes must block as usual. */
	if (fcntl(s->rfd, F_SETFL, O_NONBLOCK) != 0 || ek_fd_above_stdio(&s->wfd) != 0) {
		ek_err(err, errlen, "pipe setup: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	return AML_OK;
}

void
ek_stream_write(struct ek_stream *s, const char *p, size_t n)
{
	int e;

	if (n == 0 || s->write_errno != 0)
		return;
	e = ek_write_all(s->file, p, n);
	if (e != 0)
		s->write_errno = e;
}

/* Account n bytes the child wrote: the head goes to the file now, the
 * rest into the tail ring, overwriting its oldest bytes. */
void
ek_stream_feed(struct ek_stream *s, const char *p, size_t n)
{
	size_t k, first;

	s->total += n;
	if (s->head_len < s->head_cap) {
		k = n < s->head_cap - s->head_len ? n : s->head_cap - s->head_len;
		ek_stream_write(s, p, k);
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
void
ek_stream_pump(struct ek_stream *s, char *buf)
{
	int i;

	for (i = 0; i < EK_READS_PER_WAKE && s->rfd >= 0; i++) {
		ssize_t n = read(s->rfd, buf, EK_CHUNK);

		if (n > 0) {
			ek_stream_feed(s, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* EOF, or an error after which nothing more can be read. */
		ek_close(&s->rfd);
	}
}

/* Bytes dropped between head and tail. */
uint64_t
ek_stream_cut(const struct ek_stream *s)
{
	return s->total - s->head_len - s->tail_len;
}

/* Append the cut marker and the tail to the file and close it. */
void
ek_stream_finish(struct ek_stream *s)
{
	char marker[64];
	uint64_t cut = ek_stream_cut(s);
	int n;

	if (s->file < 0)
		return;
	if (cut > 0) {
		n = snprintf(marker, sizeof marker, "\n[... %llu bytes cut ...]\n",
			     (unsigned long long)cut);
		ek_stream_write(s, marker, (size_t)n);
	}
	if (s->tail_len < s->tail_cap) {
		ek_stream_write(s, s->tail, s->tail_len);
	} else {
		ek_stream_write(s, s->tail + s->tail_pos, s->tail_cap - s->tail_pos);
		ek_stream_write(s, s->tail, s->tail_pos);
	}
	if (close(s->file) != 0 && s->write_errno == 0 && errno != EINTR)
		s->write_errno = errno;
	s->file = -1;
}

/* The last non-blank line of workdir/stderr.txt, cleaned up for a detail
 * line, into out (empty when there is none). */
void
ek_last_stderr_line(const char *workdir, char *out, size_t outlen)
{
	char buf[EK_STDERR_PEEK + 1];
	char *path = ek_join(workdir, "stderr.txt");
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
		off = st.st_size > EK_STDERR_PEEK ? st.st_size - EK_STDERR_PEEK : 0;
		do
			n = pread(fd, buf, EK_STDERR_PEEK, off);
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

/* Wait for the child's exec: 1 when it reported a failure into *ce, 0
 * when exec succeeded (the close-on-exec pipe just closed). */
int
ek_read_exec_status(int fd, struct ek_child_err *ce)
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

/* Close fds lo..hi (inclusive), with close_range() where the kernel has
 * it, else one by one up to maxfd. */
void
ek_child_close_range(unsigned lo, unsigned hi, int maxfd)
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

/* Reap the child (blocking) into w.  Returns 0, or an errno value. */
int
ek_reap(struct ek_watch *w)
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
int
ek_child_exited(const struct ek_watch *w)
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

/* Signal the child's whole process group.  ESRCH (nothing left) is fine. */
void
ek_signal_group(const aml_host *host, aml_plugin *self, pid_t pid, int sig)
{
	char ebuf[128];

	if (kill(-pid, sig) != 0 && errno != ESRCH)
		host->log(self, AML_LOG_WARN, "kill(-%d, %d): %s", (int)pid, sig,
			  ek_strerror(errno, ebuf, sizeof ebuf));
}

/* When the child has exited: kill what is left of its group, reap it. */
static int
child_gone(const ek_sup *s, struct ek_watch *w, char *err, size_t errlen)
{
	char ebuf[128];
	int e;

	ek_signal_group(s->host, s->self, w->pid, SIGKILL);
	e = ek_reap(w);
	w->exited = 1;
	w->drain_until = ek_now() + EK_DRAIN_S;
	ek_close(&w->pidfd);
	if (e != 0) {
		ek_err(err, errlen,
		       "lost child %d (%s): is SIGCHLD ignored, or does another thread wait for any child?",
		       (int)w->pid, ek_strerror(e, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	return AML_OK;
}

/* Kill the group and reap the child after an internal failure. */
static void
abort_child(const ek_sup *s, struct ek_watch *w)
{
	if (w->exited)
		return;
	ek_signal_group(s->host, s->self, w->pid, SIGKILL);
	(void)ek_reap(w);
	w->exited = 1;
	ek_close(&w->pidfd);
}

int
ek_supervise(const ek_sup *s, struct ek_watch *w, char *err, size_t errlen)
{
	struct ek_stream *st[2] = {s->out, s->err};
	struct pollfd pfd[3];
	int idx[3];
	char ebuf[128];

	for (;;) {
		double now = ek_now(), next;
		int nfds = 0, ms, r, i;

		if (!w->exited) {
			r = ek_child_exited(w);
			if (r < 0) {
				abort_child(s, w);
				ek_err(err, errlen, "waitid(%d): %s", (int)w->pid,
				       ek_strerror(-r, ebuf, sizeof ebuf));
				return AML_EIO;
			}
			if (r == 1 && (r = child_gone(s, w, err, errlen)) != AML_OK)
				return r;
		}
		if (!w->exited && !w->termed && (now >= w->deadline || sf_stopping(s->cancel))) {
			/* the run is stopping: as at the deadline, only sooner */
			w->cancelled = now < w->deadline;
			w->termed = 1;
			w->kill_at = now;
			if (s->grace_s >= 0) {
				ek_signal_group(s->host, s->self, w->pid, SIGTERM);
				/* a stopped group must see it */
				ek_signal_group(s->host, s->self, w->pid, SIGCONT);
				w->kill_at = now + s->grace_s;
			}
		}
		if (!w->exited && w->termed && !w->killed && now >= w->kill_at) {
			ek_signal_group(s->host, s->self, w->pid, SIGKILL);
			w->killed = 1;
		}
		if (w->exited && ((st[0]->rfd < 0 && st[1]->rfd < 0) || now >= w->drain_until))
			return AML_OK;

		for (i = 0; i < 2; i++)
			if (st[i]->rfd >= 0) {
				pfd[nfds].fd = st[i]->rfd;
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
		ms = isinf(next) ? -1 : ek_ms_until(next, now);
		if (!w->exited && w->pidfd < 0 && (ms < 0 || ms > EK_TICK_MS))
			ms = EK_TICK_MS;
		if (!w->exited && !w->termed && s->cancel != NULL &&
		    (ms < 0 || ms > EK_CANCEL_TICK_MS))
			ms = EK_CANCEL_TICK_MS;

		r = poll(pfd, (nfds_t)nfds, ms);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			ek_err(err, errlen, "poll: %s", ek_strerror(errno, ebuf, sizeof ebuf));
			abort_child(s, w);
			return AML_EIO;
		}
		for (i = 0; i < nfds; i++)
			if (idx[i] >= 0 && pfd[i].revents != 0)
				ek_stream_pump(st[idx[i]], s->buf);
	}
}

/* ------------------------------------------------------------------ */
/* CPU slots.                                                          */

struct ek_cpus {
	pthread_mutex_t mu;
	size_t n;            /* slots, >= 1 */
	cpu_set_t *sets;     /* n sets of CPUs */
	unsigned *users;     /* running candidates per slot */
};

int
ek_cpus_new(long per, ek_cpus **out, char *err, size_t errlen)
{
	cpu_set_t all;
	ek_cpus *c;
	size_t ncpu, i, k;
	int cpu, e;
	char ebuf[128];

	*out = NULL;
	CPU_ZERO(&all);
	if (sched_getaffinity(0, sizeof all, &all) != 0) {
		ek_err(err, errlen, "cannot read the CPUs this process may use: %s; set pin_cpus: off",
		       ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	ncpu = (size_t)CPU_COUNT(&all);
	if (per < 1 || ncpu == 0) {
		ek_err(err, errlen, "no CPU to pin candidates to; set pin_cpus: off");
		return AML_EINVAL;
	}
	c = calloc(1, sizeof *c);
	if (c == NULL)
		goto oom;
	c->n = ncpu >= (size_t)per ? ncpu / (size_t)per : 1;
	c->sets = calloc(c->n, sizeof *c->sets);
	c->users = calloc(c->n, sizeof *c->users);
	if (c->sets == NULL || c->users == NULL)
		goto oom;
	for (i = 0; i < c->n; i++)
		CPU_ZERO(&c->sets[i]);
	/* CPUs in order, per to a slot; the few left over go unused. */
	for (cpu = 0, k = 0; cpu < CPU_SETSIZE && k < c->n * (size_t)per; cpu++)
		if (CPU_ISSET(cpu, &all)) {
			CPU_SET(cpu, &c->sets[k / (size_t)per]);
			k++;
		}
	if ((e = pthread_mutex_init(&c->mu, NULL)) != 0) {
		free(c->sets);
		free(c->users);
		free(c);
		ek_err(err, errlen, "pthread_mutex_init: %s", ek_strerror(e, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	*out = c;
	return AML_OK;
oom:
	if (c != NULL) {
		free(c->sets);
		free(c->users);
		free(c);
	}
	ek_err(err, errlen, "out of memory");
	return AML_ENOMEM;
}

void
ek_cpus_free(ek_cpus *c)
{
	if (c == NULL)
		return;
	pthread_mutex_destroy(&c->mu);
	free(c->sets);
	free(c->users);
	free(c);
}

int
ek_cpus_acquire(ek_cpus *c, cpu_set_t *set)
{
	size_t i, best = 0;

	pthread_mutex_lock(&c->mu);
	for (i = 1; i < c->n; i++)
		if (c->users[i] < c->users[best])
			best = i;
	c->users[best]++;
	*set = c->sets[best];
	pthread_mutex_unlock(&c->mu);
	return (int)best;
}

void
ek_cpus_release(ek_cpus *c, int slot)
{
	assert(slot >= 0 && (size_t)slot < c->n);
	pthread_mutex_lock(&c->mu);
	assert(c->users[slot] > 0);
	c->users[slot]--;
	pthread_mutex_unlock(&c->mu);
}

/* ------------------------------------------------------------------ */
/* GPU shares.                                                         */

#define EK_MAX_GPUS 256
#define EK_NVIDIA_GPUS "/proc/driver/nvidia/gpus"

struct ek_gpus {
	pthread_mutex_t mu;
	pthread_cond_t freed;
	size_t n;            /* shares; 0 without GPUs */
	char **visible;      /* per share: "CUDA_VISIBLE_DEVICES=a,b" */
	unsigned char *busy; /* per share */
	char count[32];      /* "AML_GPUS=<devices per share>" */
};

/* A device name: an index, a GPU or MIG UUID. */
static int
gpu_name_ok(const char *p, size_t n)
{
	size_t i;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++)
		if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') ||
		      (p[i] >= 'A' && p[i] <= 'Z') || strchr("-_:/.", p[i]) != NULL))
			return 0;
	return 1;
}

/* Split a comma-separated device list into dev[] (pointers into the
 * copy *buf, transferred).  Returns the count, or -1 when an entry is
 * empty, malformed, repeated or one too many; -2 on oom. */
static int
gpu_split(const char *list, char **buf, char **dev)
{
	char *p, *s, *e;
	int n = 0, i;

	*buf = strdup(list);
	if (*buf == NULL)
		return -2;
	for (p = *buf;; p = s + 1) {
		s = strchr(p, ',');
		if (s != NULL)
			*s = '\0';
		while (*p == ' ')
			p++;
		for (e = p + strlen(p); e > p && e[-1] == ' '; e--)
			e[-1] = '\0';
		if (!gpu_name_ok(p, strlen(p)) || n == EK_MAX_GPUS)
			return -1;
		for (i = 0; i < n; i++)
			if (strcmp(dev[i], p) == 0)
				return -1;
		dev[n++] = p;
		if (s == NULL)
			return n;
	}
}

/* Entries of /proc/driver/nvidia/gpus (one per GPU the driver sees). */
static int
gpu_count_proc(void)
{
	DIR *d = opendir(EK_NVIDIA_GPUS);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL && n < EK_MAX_GPUS)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The devices the "gpus" value v names into dev[] (pointers into *buf,
 * transferred, or into names).  Returns their number, -1 (AML_EINVAL,
 * reason in err) or -2 on oom. */
static int
gpu_devices(const aml_host *host, aml_plugin *self, const char *v, char **buf,
	    char **dev, char (*names)[8], char *err, size_t errlen)
{
	const char *env = getenv("CUDA_VISIBLE_DEVICES");
	int n = 0, i;

	if (strcmp(v, "none") == 0)
		return 0;
	if (strcmp(v, "auto") != 0) {
		n = gpu_split(v, buf, dev);
		if (n == -1)
			ek_err(err, errlen,
			       "gpus must be auto, none or a comma-separated list of distinct devices (\"0,1\"), got '%s'",
			       v);
		return n;
	}
	if (env == NULL) {
		n = gpu_count_proc();
		for (i = 0; i < n; i++) {
			snprintf(names[i], sizeof names[i], "%d", i);
			dev[i] = names[i];
		}
		return n;
	}
	/* The agent was given these: hand them out, nothing else. */
	if (env[0] != '\0' && (n = gpu_split(env, buf, dev)) < 0) {
		if (n == -2)
			return n;
		host->log(self, AML_LOG_WARN,
			  "cannot read the agent's CUDA_VISIBLE_DEVICES='%s': scripts get no GPU; set gpus",
			  env);
		return 0;
	}
	/* as CUDA reads it: an invalid index ("-1") ends the list */
	for (i = 0; i < n; i++)
		if (dev[i][0] == '-')
			n = i;
	return n;
}

int
ek_gpus_new(const aml_host *host, aml_plugin *self, ek_gpus **out, char *err,
	    size_t errlen)
{
	const char *v = host->param(self, "gpus"), *per_s;
	char *dev[EK_MAX_GPUS], *buf = NULL, *end;
	char names[EK_MAX_GPUS][8];
	long per = 1;
	int ndev, i, e = 0;
	size_t k, len;
	pthread_condattr_t ca;
	ek_gpus *g;
	char ebuf[128];

	*out = NULL;
	if (v == NULL || v[0] == '\0')
		v = "auto";
	per_s = host->param(self, "gpus_per_candidate");
	if (per_s != NULL) {
		errno = 0;
		per = strtol(per_s, &end, 10);
		if (errno != 0 || end == per_s || *end != '\0' || per < 1 || per > EK_MAX_GPUS) {
			ek_err(err, errlen, "gpus_per_candidate must be an integer from 1 to %d, got '%s'",
			       EK_MAX_GPUS, per_s);
			return AML_EINVAL;
		}
	}
	ndev = gpu_devices(host, self, v, &buf, dev, names, err, errlen);
	if (ndev == -1) {
		free(buf);
		return AML_EINVAL;
	}
	if (ndev == -2)
		goto oom;
	if (ndev > 0 && per > ndev) {
		if (strcmp(v, "auto") != 0) {
			free(buf);
			ek_err(err, errlen, "gpus_per_candidate is %ld, but gpus lists only %d", per, ndev);
			return AML_EINVAL;
		}
		host->log(self, AML_LOG_WARN,
			  "gpus_per_candidate is %ld, but %d GPU%s found: each candidate gets %d",
			  per, ndev, ndev == 1 ? " was" : "s were", ndev);
		per = ndev;
	}

	g = calloc(1, sizeof *g);
	if (g == NULL)
		goto oom;
	g->n = ndev > 0 ? (size_t)(ndev / per) : 0;
	snprintf(g->count, sizeof g->count, "AML_GPUS=%ld", ndev > 0 ? per : 0L);
	if (g->n > 0) {
		g->visible = calloc(g->n, sizeof *g->visible);
		g->busy = calloc(g->n, 1);
		if (g->visible == NULL || g->busy == NULL)
			goto oom_g;
	}
	/* share k: devices k*per .. k*per+per-1 */
	for (k = 0; k < g->n; k++) {
		len = sizeof "CUDA_VISIBLE_DEVICES=";
		for (i = 0; i < per; i++)
			len += strlen(dev[k * (size_t)per + (size_t)i]) + 1;
		g->visible[k] = malloc(len);
		if (g->visible[k] == NULL)
			goto oom_g;
		strcpy(g->visible[k], "CUDA_VISIBLE_DEVICES=");
		for (i = 0; i < per; i++) {
			if (i > 0)
				strcat(g->visible[k], ",");
			strcat(g->visible[k], dev[k * (size_t)per + (size_t)i]);
		}
	}
	free(buf);
	buf = NULL;
	/* the cancel ticks of ek_gpus_acquire wait on the monotonic clock */
	if ((e = pthread_condattr_init(&ca)) == 0) {
		e = pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
		if (e == 0)
			e = pthread_cond_init(&g->freed, &ca);
		pthread_condattr_destroy(&ca);
	}
	if (e != 0 || (e = pthread_mutex_init(&g->mu, NULL)) != 0) {
		/* not on Linux with default attributes; the cond is left */
		ek_err(err, errlen, "pthread: %s", ek_strerror(e, ebuf, sizeof ebuf));
		goto free_g;
	}
	if (g->n > 0)
		host->log(self, AML_LOG_INFO, "%d GPU%s: %zu share%s of %ld", ndev,
			  ndev == 1 ? "" : "s", g->n, g->n == 1 ? "" : "s", per);
	*out = g;
	return AML_OK;
oom_g:
	ek_err(err, errlen, "out of memory");
free_g:
	for (k = 0; g->visible != NULL && k < g->n; k++)
		free(g->visible[k]);
	free(g->visible);
	free(g->busy);
	free(g);
	free(buf);
	return e != 0 ? AML_EIO : AML_ENOMEM;
oom:
	free(buf);
	ek_err(err, errlen, "out of memory");
	return AML_ENOMEM;
}

void
ek_gpus_free(ek_gpus *g)
{
	size_t k;

	if (g == NULL)
		return;
	pthread_cond_destroy(&g->freed);
	pthread_mutex_destroy(&g->mu);
	for (k = 0; k < g->n; k++)
		free(g->visible[k]);
	free(g->visible);
	free(g->busy);
	free(g);
}

size_t
ek_gpus_shares(const ek_gpus *g)
{
	return g->n;
}

int
ek_gpus_acquire(ek_gpus *g, const volatile int *cancel)
{
	struct timespec ts;
	size_t k;

	if (g->n == 0)
		return -1;
	pthread_mutex_lock(&g->mu);
	for (;;) {
		for (k = 0; k < g->n; k++)
			if (!g->busy[k]) {
				g->busy[k] = 1;
				pthread_mutex_unlock(&g->mu);
				return (int)k;
			}
		if (sf_stopping(cancel)) {
			pthread_mutex_unlock(&g->mu);
			return EK_GPUS_CANCELLED;
		}
		if (cancel == NULL) {
			pthread_cond_wait(&g->freed, &g->mu);
			continue;
		}
		/* no one signals a cancel: look at the flag every tick */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += EK_CANCEL_TICK_MS * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		(void)pthread_cond_timedwait(&g->freed, &g->mu, &ts);
	}
}

void
ek_gpus_release(ek_gpus *g, int share)
{
	if (share < 0)
		return;
	assert((size_t)share < g->n);
	pthread_mutex_lock(&g->mu);
	assert(g->busy[share]);
	g->busy[share] = 0;
	pthread_cond_signal(&g->freed);
	pthread_mutex_unlock(&g->mu);
}

const char *
ek_gpus_visible(const ek_gpus *g, int share)
{
	return share >= 0 ? g->visible[share] : "CUDA_VISIBLE_DEVICES=";
}

const char *
ek_gpus_count(const ek_gpus *g, int share)
{
	return share >= 0 ? g->count : "AML_GPUS=0";
}
