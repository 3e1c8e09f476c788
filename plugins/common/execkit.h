/*
 * execkit.h — what the executor plugins share, compiled into each (plugins
 * never link each other; see plugins/common/httpc.h for the providers'
 * counterpart): capturing a child's stdout and stderr into files with the
 * head and tail kept under a cap, reaping and watching the child, the
 * exec-status pipe, the last stderr line for a node's reason, small fd and
 * time helpers, the shares of the machine a running candidate holds (CPU
 * slots, GPU shares), and (through stopflag.h) the request's cancel flag.
 * plugins/local/local.c says how they fit together.
 */
#ifndef AML_EXECKIT_H
#define AML_EXECKIT_H

#include <sched.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <automlgen/plugin.h>

#include "stopflag.h"

/* Each plugin compiles execkit.c with its name: -DEK_NAME='"local"'. */
#ifndef EK_NAME
#error "compile execkit.c with -DEK_NAME='\"<plugin name>\"'"
#endif

#define EK_DEFAULT_CAP ((size_t)1 << 20) /* per stream, when the request has 0 */
#define EK_DRAIN_S 1.0          /* read output this long after the child exits */
#define EK_TICK_MS 50           /* exit check interval without pidfds */
#define EK_CANCEL_TICK_MS 100   /* how often a request's cancel flag is read */
#define EK_CHUNK 65536          /* one read() from a pipe */
#define EK_READS_PER_WAKE 16    /* reads per stream before checking deadlines */
#define EK_DETAIL_MAX 240       /* bytes of stderr quoted in a detail line */
#define EK_STDERR_PEEK 4096     /* bytes of stderr.txt searched for that line */

struct ek_stream {
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

struct ek_child_err {
	int stage;
	int err;
};

struct ek_watch {
	pid_t pid;
	int pidfd;             /* -1 when the kernel has no pidfd_open */
	double start, deadline, kill_at, drain_until;
	int exited, termed, killed;
	int cancelled;         /* termed because the run is stopping, not the deadline */
	int status;            /* from wait4, valid once exited */
	struct rusage ru;
};

/* One line into err: "executor <EK_NAME>: " and the message. */
void ek_err(char *err, size_t errlen, const char *fmt, ...) AML_PRINTF(3, 4);

/* strerror that is safe to call from several threads. */
const char *ek_strerror(int e, char *buf, size_t len);

double ek_now(void);

/* Milliseconds from now until t, rounded up, clamped to [0, INT_MAX]. */
int ek_ms_until(double t, double now);

void ek_close(int *fd);

/* "a/b" (transferred, NULL on oom). */
char *ek_join(const char *a, const char *b);

/* The integer parameter key of self, in [lo, hi], into *out (left alone
 * when unset); else AML_EINVAL and "<key> must be an integer from <lo> to
 * <hi>, got '<value>'" in err. */
int ek_param_long(const aml_host *host, aml_plugin *self, const char *key, long lo,
		  long hi, long *out, char *err, size_t errlen);

/* Fill res for a script that was not started because the run is
 * stopping: outcome AML_EXEC_CANCELLED, detail SF_CANCELLED plus
 * " (not started)" (res->detail transferred, host->mem_strdup). */
void ek_fill_not_started(const aml_host *host, aml_exec_result *res);

/* A request every executor refuses: no workdir or script, a script name
 * that reads as an option (or, with inside, one that is absolute or has
 * ".."), a timeout that is not a positive number (AML_EINVAL); a workdir
 * that is not a directory or a script that is not a regular file
 * (AML_ENOTFOUND). */
int ek_check_request(const aml_exec_request *req, int inside, char *err, size_t errlen);

/* Write all of p; returns 0 or an errno value. */
int ek_write_all(int fd, const char *p, size_t n);

/* Move fd to a number >= 3 (keeping close-on-exec), so that the child's
 * dup2() onto 0, 1 and 2 can never clobber it.  Returns 0 or -1. */
int ek_fd_above_stdio(int *fd);

const char *ek_signame(int sig);

/* What every executor's run sets up before it forks: the two captured
 * streams, the child's stdin (/dev/null), the status pipe on which the
 * child reports a failed start, a read buffer, and the bounds the child
 * needs to close inherited descriptors and to notice the agent's death. */
struct ek_jobio {
	struct ek_stream out, err;
	int devnull;            /* the child's stdin */
	int status_r, status_w; /* child -> parent: a failed start, or a report */
	char *buf;              /* EK_CHUNK bytes for read() */
	int maxfd;              /* fallback bound for closing fds in a child */
	pid_t parent_pid;       /* the agent, for the child's parent-death check */
};

/* Nothing open yet: every descriptor -1 (so ek_jobio_close is safe). */
void ek_jobio_init(struct ek_jobio *io);

/* Open io for a run in workdir keeping cap bytes per stream; err says
 * what failed.  Call ek_jobio_close in every case. */
int ek_jobio_open(struct ek_jobio *io, const char *workdir, size_t cap, char *err,
		  size_t errlen);

/* Close and free what io holds (idempotent). */
void ek_jobio_close(struct ek_jobio *io);

/* Create workdir/<file_name>, the pipe and the tail ring of one stream. */
int ek_stream_open(struct ek_stream *s, const char *workdir, size_t cap, char *err,
		   size_t errlen);

void ek_stream_write(struct ek_stream *s, const char *p, size_t n);

/* Account n bytes the child wrote: the head goes to the file now, the
 * rest into the tail ring, overwriting its oldest bytes. */
void ek_stream_feed(struct ek_stream *s, const char *p, size_t n);

/* Read what the pipe holds (a bounded number of chunks, so one busy stream
 * cannot hold off the deadlines); closes the read end at EOF. */
void ek_stream_pump(struct ek_stream *s, char *buf);

/* Bytes dropped between head and tail. */
uint64_t ek_stream_cut(const struct ek_stream *s);

/* Append the cut marker and the tail to the file and close it. */
void ek_stream_finish(struct ek_stream *s);

/* The last non-blank line of workdir/stderr.txt, cleaned up for a detail
 * line, into out (empty when there is none). */
void ek_last_stderr_line(const char *workdir, char *out, size_t outlen);

/* Wait for the child's exec: 1 when it reported a failure into *ce, 0
 * when exec succeeded (the close-on-exec pipe just closed). */
int ek_read_exec_status(int fd, struct ek_child_err *ce);

/* Close fds lo..hi (inclusive), with close_range() where the kernel has
 * it, else one by one up to maxfd. */
void ek_child_close_range(unsigned lo, unsigned hi, int maxfd);

/* Reap the child (blocking) into w.  Returns 0, or an errno value. */
int ek_reap(struct ek_watch *w);

/* Has the child exited?  Checked without reaping (WNOWAIT), so its pid,
 * which is also its group's id, cannot be reused before the group kill.
 * Returns 1 exited, 0 running, or -errno. */
int ek_child_exited(const struct ek_watch *w);

/* Signal pid's whole process group; ESRCH (nothing left) is fine, any
 * other failure is a warning through host->log. */
void ek_signal_group(const aml_host *host, aml_plugin *self, pid_t pid, int sig);

/* How a child is supervised: where its output goes and how it is stopped
 * at its deadline, or sooner when the run is stopping. */
typedef struct ek_sup {
	const aml_host *host;    /* warnings go to host->log(self, ...) */
	aml_plugin *self;
	double grace_s;          /* SIGTERM, then SIGKILL after grace_s; < 0:
				  * SIGKILL at the deadline (a sandbox dies whole) */
	struct ek_stream *out, *err;
	char *buf;               /* EK_CHUNK bytes for read() */
	const volatile int *cancel; /* the request's cancel flag (borrowed), may be NULL */
} ek_sup;

/* Read both streams until the child has exited and the pipes are closed
 * (or EK_DRAIN_S after the exit), stopping its group at w->deadline, or
 * as at the deadline as soon as *s->cancel is set (read every
 * EK_CANCEL_TICK_MS; w->cancelled then says so); on exit whatever is left
 * of the group is killed and the child reaped. */
int ek_supervise(const ek_sup *s, struct ek_watch *w, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* CPU slots: parallel candidates on disjoint CPUs.                    */

typedef struct ek_cpus ek_cpus;

/* Cut the CPUs this process may run on (sched_getaffinity) into slots of
 * per CPUs each, in order; one slot of all of them when there are fewer
 * than per.  *out is transferred (ek_cpus_free).  Returns 0, or an error
 * with the reason in err. */
int ek_cpus_new(long per, ek_cpus **out, char *err, size_t errlen);

void ek_cpus_free(ek_cpus *c);

/* Take the slot fewest running candidates hold (the first of those): no
 * waiting, so with more candidates than slots they share, spread evenly.
 * Its CPUs go to *set.  Returns the slot, for ek_cpus_release. */
int ek_cpus_acquire(ek_cpus *c, cpu_set_t *set);

void ek_cpus_release(ek_cpus *c, int slot);

/* ------------------------------------------------------------------ */
/* GPU shares: each running candidate holds its own devices.           */

typedef struct ek_gpus ek_gpus;

/* Read the parameters "gpus" ("auto", "none" or a list such as "0,1" or
 * GPU UUIDs) and "gpus_per_candidate", and cut the devices into shares of
 * gpus_per_candidate devices (leftovers unused).  "auto" takes the
 * agent's CUDA_VISIBLE_DEVICES when it is set, else one device per entry
 * of /proc/driver/nvidia/gpus, else none.  *out is transferred
 * (ek_gpus_free).  Returns 0, or AML_EINVAL with the reason in err. */
int ek_gpus_new(const aml_host *host, aml_plugin *self, ek_gpus **out, char *err,
		size_t errlen);

void ek_gpus_free(ek_gpus *g);

/* Number of shares; 0 when there are no GPUs. */
size_t ek_gpus_shares(const ek_gpus *g);

/* Take a free share, waiting until one is free or *cancel is set (read
 * every EK_CANCEL_TICK_MS; cancel may be NULL: no limit).  Returns the
 * share, -1 at once when there are no GPUs, or EK_GPUS_CANCELLED. */
#define EK_GPUS_CANCELLED (-2)
int ek_gpus_acquire(ek_gpus *g, const volatile int *cancel);

/* Give share back (-1: nothing to give) and wake one waiting candidate. */
void ek_gpus_release(ek_gpus *g, int share);

/* The environment of a candidate holding share (-1: none):
 * "CUDA_VISIBLE_DEVICES=<its devices>" ("" without GPUs, so no script
 * looks for one) and "AML_GPUS=<how many>".  Owned by g. */
const char *ek_gpus_visible(const ek_gpus *g, int share);
const char *ek_gpus_count(const ek_gpus *g, int share);

#endif
