/*
 * result.c — a finished job as the core wants it: stdout.txt and
 * stderr.txt capped from the files Slurm wrote, and the outcome.
 *
 * Two records say how a job ended.  The script's own (SL_EXIT_FILE,
 * written by the batch script once the interpreter returned: its exit
 * status and the seconds it ran) is exact and outlives the controller's
 * memory of the job; it is missing when Slurm killed the whole job (its
 * time limit, a cancel, a node failure, preemption, the memory limit) or
 * when the script never ran.  Then Slurm's final JobState says why:
 *
 *   exit record 0                          OK
 *   exit 124/137 at the request's limit    TIMEOUT (the script's timeout)
 *   exit 128+N                             KILLED by signal N
 *   exit 126/127 from env or timeout       NOSTART (no interpreter there)
 *   other exit status                      CRASHED
 *   TIMEOUT, DEADLINE                      TIMEOUT (Slurm's time limit)
 *   CANCELLED                              KILLED, or NOSTART when the
 *                                          plugin gave up on the queue
 *   cancelled by the plugin as the run     CANCELLED, whatever the records
 *     stops (fini, the request's cancel)
 *   NODE_FAIL, PREEMPTED, OUT_OF_MEMORY    KILLED, saying which
 *   BOOT_FAIL                              NOSTART
 *   FAILED/COMPLETED without exit record   NOSTART: the batch script did
 *                                          not get to run the interpreter
 *                                          (a workdir the node cannot see)
 *
 * Output: Slurm writes all of it (SL_RAW_OUT, SL_RAW_ERR); the first and
 * last output_cap/2 bytes are kept in stdout.txt and stderr.txt through
 * execkit's streams, with the same "[... N bytes cut ...]" marker as the
 * other executors, and the raw files are removed.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slurm.h"

#define SL_FS_WAIT_S 5.0 /* how long a shared filesystem may take to show the exit record */

/* Read absdir/SL_EXIT_FILE: 1 with *status and *secs, else 0. */
static int
read_exit(const char *absdir, int *status, long *secs)
{
	char *path = ek_join(absdir, SL_EXIT_FILE);
	FILE *f;
	int ok;

	if (path == NULL)
		return 0;
	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return 0;
	ok = fscanf(f, "%d %ld", status, secs) == 2;
	fclose(f);
	return ok;
}

/* The exit record, waiting up to SL_FS_WAIT_S for it when Slurm says the
 * batch script ended by itself (a shared filesystem's client may show a
 * file written on another machine a little later). */
static int
exit_record(const char *absdir, const struct sl_job *j, int *status, long *secs)
{
	double until = ek_now() + SL_FS_WAIT_S;

	for (;;) {
		if (read_exit(absdir, status, secs))
			return 1;
		if ((strcmp(j->state, "COMPLETED") != 0 && strcmp(j->state, "FAILED") != 0) ||
		    ek_now() >= until)
			return 0;
		usleep(100 * 1000);
	}
}

/* Keep the head and tail of absdir/raw in absdir/name (execkit's streams,
 * fed from the file instead of a pipe) and remove raw.  Adds the bytes
 * the job wrote to *total; sets *cut when some were dropped. */
static void
cap_stream(const struct sl *x, const char *absdir, const char *raw, const char *name,
	   size_t cap, uint64_t *total, int *cut)
{
	struct ek_stream s;
	char err[SL_ERRLEN], *buf, *path;
	struct stat st;
	int fd;

	memset(&s, 0, sizeof s);
	path = ek_join(absdir, raw);
	buf = ek_join(absdir, name);
	if (path != NULL && buf != NULL && stat(path, &st) != 0 && errno == ENOENT &&
	    stat(buf, &st) == 0) {
		/* capped already (a job re-attached to after it was read) */
		*total += (uint64_t)st.st_size;
		free(path);
		free(buf);
		return;
	}
	free(path);
	free(buf);
	s.file_name = name;
	s.rfd = s.wfd = s.file = -1;
	if (ek_stream_open(&s, absdir, cap, err, sizeof err) != AML_OK) {
		x->host->log(x->self, AML_LOG_WARN, "%s", err);
		goto out;
	}
	ek_close(&s.rfd);
	ek_close(&s.wfd);
	path = ek_join(absdir, raw);
	buf = malloc(EK_CHUNK);
	fd = path != NULL ? open(path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0 && buf != NULL && fstat(fd, &st) == 0) {
		uint64_t size = (uint64_t)st.st_size, pos = 0;
		ssize_t n;

		/* the head, then only the tail: a flood is not read whole */
		while (pos < size && (n = read(fd, buf, EK_CHUNK)) > 0) {
			ek_stream_feed(&s, buf, (size_t)n);
			pos += (uint64_t)n;
			if (s.head_len >= s.head_cap && size - pos > s.tail_cap) {
				uint64_t skip = size - pos - s.tail_cap;

				if (lseek(fd, (off_t)skip, SEEK_CUR) < 0)
					break;
				s.total += skip;
				pos += skip;
			}
		}
	}
	if (fd >= 0)
		(void)close(fd);
	if (path != NULL)
		(void)unlink(path);
	free(path);
	free(buf);
	*total += s.total;
	*cut |= ek_stream_cut(&s) > 0;
	ek_stream_finish(&s);
out:
	ek_close(&s.rfd);
	ek_close(&s.wfd);
	ek_close(&s.file);
	free(s.tail);
}

/* " (slurm job 12 on node1, requeued 2 times)" into out. */
static void
job_note(const struct sl_job *j, char *out, size_t len)
{
	int n = snprintf(out, len, " (slurm job %s%s%s", j->id, j->nodes[0] ? " on " : "",
			 j->nodes);

	if (n > 0 && (size_t)n < len && j->restarts > 0)
		n += snprintf(out + n, len - (size_t)n, ", requeued %d time%s", j->restarts,
			      j->restarts == 1 ? "" : "s");
	if (n > 0 && (size_t)n < len)
		snprintf(out + n, len - (size_t)n, ")");
}

void
sl_result(const struct sl *x, const aml_exec_request *req, const char *absdir,
	  const struct sl_job *j, aml_exec_result *res)
{
	char detail[1280], line[EK_DETAIL_MAX], note[SL_TEXT_MAX + 96];
	const char *st = j->state, *sig;
	size_t cap = req->output_cap > 0 ? req->output_cap : EK_DEFAULT_CAP;
	int status = 0, has_exit, queue, stopping;
	long secs = -1;

	cap_stream(x, absdir, SL_RAW_OUT, "stdout.txt", cap, &res->output_bytes, &res->truncated);
	cap_stream(x, absdir, SL_RAW_ERR, "stderr.txt", cap, &res->output_bytes, &res->truncated);
	ek_last_stderr_line(absdir, line, sizeof line);
	job_note(j, note, sizeof note);
	/* the plugin's own cancel explains the end only when it took effect */
	queue = j->cancel == SL_CANCEL_QUEUE && strcmp(st, "CANCELLED") == 0;
	stopping = j->cancel == SL_CANCEL_STOP || j->cancel == SL_CANCEL_RUN;
	has_exit = !stopping && !queue && exit_record(absdir, j, &status, &secs);

	if (has_exit)
		res->wall_s = (double)secs;
	else if (j->run_s >= 0)
		res->wall_s = (double)j->run_s;
	else if (j->started > 0)
		res->wall_s = ek_now() - j->started;

	if (queue) {
		res->outcome = AML_EXEC_NOSTART;
		snprintf(detail, sizeof detail,
			 "still waiting in the Slurm queue after %g s (%s): cancelled%s",
			 x->queue_timeout_s > 0 ? x->queue_timeout_s
			 : req->timeout_s > SL_QUEUE_MIN_S ? req->timeout_s : SL_QUEUE_MIN_S,
			 j->reason[0] ? j->reason : "no reason given", note);
	} else if (stopping) {
		res->outcome = AML_EXEC_CANCELLED;
		snprintf(detail, sizeof detail, SF_CANCELLED "%s", note);
	} else if (has_exit && status == 0) {
		res->outcome = AML_EXEC_OK;
		snprintf(detail, sizeof detail, "exit status 0%s", note);
	} else if (has_exit && (status == 124 || status == 128 + SIGKILL) &&
		   (double)secs + 1 >= req->timeout_s) {
		res->outcome = AML_EXEC_TIMEOUT;
		res->term_signal = status == 124 ? SIGTERM : SIGKILL;
		snprintf(detail, sizeof detail, "timed out after %g s%s%s", req->timeout_s,
			 status == 124 ? "" : " (SIGTERM ignored, SIGKILL after the grace period)",
			 note);
	} else if (has_exit && status > 128 && status <= 128 + 64) {
		res->outcome = AML_EXEC_KILLED;
		res->term_signal = status - 128;
		sig = ek_signame(res->term_signal);
		snprintf(detail, sizeof detail, "killed by signal %d (%s%s)%s", res->term_signal,
			 sig != NULL ? sig : "?",
			 strcmp(st, "OUT_OF_MEMORY") == 0 ? "; out of memory: Slurm's limit" : "",
			 note);
	} else if (has_exit && (status == 126 || status == 127) &&
		   (strncmp(line, "env:", 4) == 0 || strncmp(line, "timeout:", 8) == 0)) {
		res->outcome = AML_EXEC_NOSTART;
		res->exit_code = status;
		snprintf(detail, sizeof detail, "cannot execute %s on the compute node: %s%s",
			 x->python, line, note);
	} else if (has_exit) {
		res->outcome = AML_EXEC_CRASHED;
		res->exit_code = status;
		snprintf(detail, sizeof detail, "exit status %d%s%s%s", status, line[0] ? ": " : "",
			 line, note);
	} else if (strcmp(st, "TIMEOUT") == 0 || strcmp(st, "DEADLINE") == 0) {
		res->outcome = AML_EXEC_TIMEOUT;
		res->term_signal = SIGTERM;
		snprintf(detail, sizeof detail, "exceeded its Slurm time limit%s (%s)%s",
			 strcmp(st, "DEADLINE") == 0 ? " (the job's deadline)" : "", st, note);
	} else if (strcmp(st, "CANCELLED") == 0) {
		res->outcome = AML_EXEC_KILLED;
		res->term_signal = SIGTERM;
		snprintf(detail, sizeof detail, "cancelled outside the run (scancel, an admin)%s",
			 note);
	} else if (strcmp(st, "NODE_FAIL") == 0) {
		res->outcome = AML_EXEC_KILLED;
		res->term_signal = SIGKILL;
		snprintf(detail, sizeof detail, "its node failed (NODE_FAIL)%s", note);
	} else if (strcmp(st, "PREEMPTED") == 0) {
		res->outcome = AML_EXEC_KILLED;
		res->term_signal = SIGTERM;
		snprintf(detail, sizeof detail,
			 "preempted by another job and not requeued (PREEMPTED)%s", note);
	} else if (strcmp(st, "OUT_OF_MEMORY") == 0) {
		res->outcome = AML_EXEC_KILLED;
		res->term_signal = SIGKILL;
		if (x->mem_mb > 0)
			snprintf(detail, sizeof detail,
				 "out of memory: Slurm's limit, mem_mb %ld (OUT_OF_MEMORY)%s",
				 x->mem_mb, note);
		else
			snprintf(detail, sizeof detail,
				 "out of memory: Slurm's limit (OUT_OF_MEMORY)%s", note);
	} else if (strcmp(st, "BOOT_FAIL") == 0) {
		res->outcome = AML_EXEC_NOSTART;
		snprintf(detail, sizeof detail, "its node failed to boot (BOOT_FAIL)%s", note);
	} else if (j->vanished) {
		res->outcome = AML_EXEC_KILLED;
		snprintf(detail, sizeof detail,
			 "the controller no longer knows the job and it left no exit record%s", note);
	} else {
		res->outcome = AML_EXEC_NOSTART;
		res->exit_code = j->exit_code;
		snprintf(detail, sizeof detail,
			 "the job ended (%s, exit %d:%d) before its script ran the interpreter%s%s%s; "
			 "is the workdir on a filesystem the compute nodes share?",
			 st[0] ? st : "no state", j->exit_code, j->exit_sig, line[0] ? ": " : "", line,
			 note);
	}
	res->detail = x->host->mem_strdup(detail);
}
