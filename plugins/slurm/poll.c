/*
 * poll.c — the jobs in flight and the one thread that watches them.
 *
 * However many run() calls wait, the controller sees one squeue per
 * poll_s for all of them ("squeue --jobs=<ids>" lists those still queued,
 * running or completing), plus one "scontrol show job" for each job that
 * has left that list, which gives its final state, exit code and reason
 * for MinJobAge (300 s by default) after it ended; no accounting
 * (slurmdbd, sacct) is needed.  Each round ends with a broadcast on
 * sl.changed, which wakes the waiting run() calls to look at their job.
 *
 * A failed squeue (controller restarting, network) leaves the jobs as
 * they were and is retried the next round; only after SL_CTL_GIVEUP_S of
 * failures are the jobs given up (ctl_lost), each run() then failing
 * with the controller's last message.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "slurm.h"

int
sl_state_final(const char *s)
{
	static const char *const final[] = {
		"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "PREEMPTED",
		"BOOT_FAIL", "DEADLINE", "OUT_OF_MEMORY", "SPECIAL_EXIT", "REVOKED",
	};
	size_t i;

	for (i = 0; i < sizeof final / sizeof final[0]; i++)
		if (strcmp(s, final[i]) == 0)
			return 1;
	return 0;
}

/* The value of Key in scontrol's one-line "Key=Value Key=Value ..."
 * output, up to the next blank, into out; 0 when absent. */
static int
field(const char *line, const char *key, char *out, size_t len)
{
	size_t k = strlen(key), n;
	const char *p = line;

	for (;;) {
		p = strstr(p, key);
		if (p == NULL)
			return 0;
		if ((p == line || p[-1] == ' ') && p[k] == '=')
			break;
		p += k;
	}
	p += k + 1;
	n = strcspn(p, " \n");
	snprintf(out, len, "%.*s", (int)n, p);
	return 1;
}

/* "[days-]HH:MM:SS" (or MM:SS) in seconds, -1 when unreadable. */
static long
duration(const char *s)
{
	long d = 0, a = 0, b = 0, c = 0;

	if (strchr(s, '-') != NULL && sscanf(s, "%ld-%ld:%ld:%ld", &d, &a, &b, &c) == 4)
		return ((d * 24 + a) * 60 + b) * 60 + c;
	if (sscanf(s, "%ld:%ld:%ld", &a, &b, &c) == 3)
		return (a * 60 + b) * 60 + c;
	if (sscanf(s, "%ld:%ld", &a, &b) == 2)
		return a * 60 + b;
	return -1;
}

int
sl_query(const struct sl *x, struct sl_job *j, char *name, size_t namelen, char *comment,
	 size_t commentlen, char *err, size_t errlen)
{
	const char *argv[] = {x->scontrol, "show", "job", "-o", j->id, NULL};
	char line[SL_TEXT_MAX], v[SL_TEXT_MAX], *out = NULL;
	int status, rc, a = 0, b = 0;

	if (name != NULL)
		name[0] = '\0';
	if (comment != NULL)
		comment[0] = '\0';
	rc = sl_cmd(x, argv, &out, line, sizeof line, &status, err, errlen);
	if (rc != AML_OK)
		return rc;
	if (status != 0 || !field(out, "JobState", j->state, sizeof j->state)) {
		free(out);
		if (strstr(line, "Invalid job id") != NULL) {
			j->vanished = 1;
			j->done = 1;
			return AML_OK;
		}
		ek_err(err, errlen, "scontrol show job %s: %s", j->id,
		       line[0] ? line : "no JobState in its answer");
		return AML_EIO;
	}
	if (!field(out, "Reason", j->reason, sizeof j->reason))
		j->reason[0] = '\0';
	if (field(out, "NodeList", v, sizeof v) && strcmp(v, "(null)") != 0)
		snprintf(j->nodes, sizeof j->nodes, "%s", v);
	if (field(out, "ExitCode", v, sizeof v) && sscanf(v, "%d:%d", &a, &b) == 2) {
		j->exit_code = a;
		j->exit_sig = b;
	}
	if (field(out, "Restarts", v, sizeof v))
		j->restarts = atoi(v);
	if (field(out, "RunTime", v, sizeof v))
		j->run_s = duration(v);
	if (name != NULL)
		(void)field(out, "JobName", name, namelen);
	if (comment != NULL)
		(void)field(out, "Comment", comment, commentlen);
	j->done = sl_state_final(j->state);
	free(out);
	return AML_OK;
}

void
sl_cancel_ids(const struct sl *x, char *const *ids, size_t n)
{
	const char **argv = calloc(n + 2, sizeof *argv);
	char line[SL_TEXT_MAX], err[SL_ERRLEN];
	size_t i;
	int status;

	if (n == 0) {
		free(argv);
		return;
	}
	if (argv == NULL) {
		x->host->log(x->self, AML_LOG_WARN, "out of memory cancelling %zu jobs", n);
		return;
	}
	argv[0] = x->scancel;
	for (i = 0; i < n; i++)
		argv[i + 1] = ids[i];
	if (sl_cmd(x, argv, NULL, line, sizeof line, &status, err, sizeof err) != AML_OK)
		x->host->log(x->self, AML_LOG_WARN, "%s", err);
	else if (status != 0)
		x->host->log(x->self, AML_LOG_WARN, "scancel %s%s: %s", ids[0],
			     n > 1 ? " ..." : "", line[0] ? line : "failed");
	free(argv);
}

int
sl_listed(const struct sl *x, const char *id, char *err, size_t errlen)
{
	char opt[SL_ID_MAX + 16], line[SL_TEXT_MAX], *out = NULL, *p, *save = NULL;
	const char *argv[] = {x->squeue, "-h", "-o", "%i", opt, NULL};
	int status, rc, listed = 0;

	snprintf(opt, sizeof opt, "--jobs=%s", id);
	rc = sl_cmd(x, argv, &out, line, sizeof line, &status, err, errlen);
	if (rc != AML_OK)
		return rc;
	if (status != 0) {
		free(out);
		if (strstr(line, "Invalid job id") != NULL)
			return 0; /* purged: long gone */
		ek_err(err, errlen, "squeue --jobs=%s: %s", id, line[0] ? line : "failed");
		return AML_EIO;
	}
	for (p = out != NULL ? strtok_r(out, "\n", &save) : NULL; p != NULL;
	     p = strtok_r(NULL, "\n", &save))
		listed |= strcmp(p, id) == 0;
	free(out);
	return listed;
}

/* ------------------------------------------------------------------ */
/* The poller.                                                         */

/* One round's view of a job, gathered without the lock. */
struct seen {
	struct sl_job j;   /* id and the fields the controller gave */
	int listed;        /* squeue listed it */
	int known;         /* the fields are new (listed, or scontrol answered) */
};

/* squeue for all ids, then scontrol for each that is not listed.
 * Returns AML_OK, or an error (the controller did not answer) with the
 * message in msg. */
static int
poll_once(const struct sl *x, struct seen *v, size_t n, char *msg, size_t msglen)
{
	const char *argv[] = {x->squeue, "-h", "-o", "%i|%T|%r|%N", NULL, NULL};
	char line[SL_TEXT_MAX], err[SL_ERRLEN], *jobs, *out = NULL, *p, *save = NULL;
	size_t i, len = 16;
	int status, rc;

	for (i = 0; i < n; i++)
		len += strlen(v[i].j.id) + 1;
	jobs = malloc(len);
	if (jobs == NULL) {
		snprintf(msg, msglen, "out of memory");
		return AML_ENOMEM;
	}
	strcpy(jobs, "--jobs=");
	for (i = 0; i < n; i++) {
		if (i > 0)
			strcat(jobs, ",");
		strcat(jobs, v[i].j.id);
	}
	argv[4] = jobs;
	rc = sl_cmd(x, argv, &out, line, sizeof line, &status, err, sizeof err);
	free(jobs);
	if (rc != AML_OK) {
		snprintf(msg, msglen, "%s", err);
		return rc;
	}
	if (status != 0) {
		free(out);
		snprintf(msg, msglen, "squeue: %s", line[0] ? line : "failed");
		return AML_EIO;
	}
	for (p = strtok_r(out, "\n", &save); p != NULL; p = strtok_r(NULL, "\n", &save)) {
		char id[SL_ID_MAX], state[SL_STATE_MAX], reason[SL_TEXT_MAX], nodes[SL_TEXT_MAX];
		int got;

		id[0] = state[0] = reason[0] = nodes[0] = '\0';
		got = sscanf(p, "%31[^|]|%31[^|]|%255[^|]|%255[^\n]", id, state, reason, nodes);
		if (got < 2)
			continue;
		for (i = 0; i < n; i++)
			if (strcmp(v[i].j.id, id) == 0) {
				v[i].listed = v[i].known = 1;
				snprintf(v[i].j.state, sizeof v[i].j.state, "%s", state);
				snprintf(v[i].j.reason, sizeof v[i].j.reason, "%s", reason);
				snprintf(v[i].j.nodes, sizeof v[i].j.nodes, "%s", nodes);
			}
	}
	free(out);
	for (i = 0; i < n; i++) {
		if (v[i].listed)
			continue;
		if (sl_query(x, &v[i].j, NULL, 0, NULL, 0, err, sizeof err) == AML_OK)
			v[i].known = 1;
		else
			x->host->log(x->self, AML_LOG_DEBUG, "%s", err);
	}
	return AML_OK;
}

/* Record a round's findings in the jobs still in flight.  Under the lock. */
static void
apply(struct sl *x, const struct seen *v, size_t n, double now)
{
	struct sl_job *j;
	size_t i;

	for (j = x->jobs; j != NULL; j = j->next) {
		if (j->done)
			continue;
		for (i = 0; i < n && strcmp(v[i].j.id, j->id) != 0; i++)
			;
		if (i == n || !v[i].known)
			continue;
		snprintf(j->state, sizeof j->state, "%s", v[i].j.state);
		snprintf(j->reason, sizeof j->reason, "%s", v[i].j.reason);
		if (v[i].j.nodes[0])
			snprintf(j->nodes, sizeof j->nodes, "%s", v[i].j.nodes);
		if (!v[i].listed) {
			j->exit_code = v[i].j.exit_code;
			j->exit_sig = v[i].j.exit_sig;
			j->restarts = v[i].j.restarts;
			j->run_s = v[i].j.run_s;
			j->vanished = v[i].j.vanished;
			j->done = v[i].j.done;
		}
		if (j->started == 0 && (strcmp(j->state, "RUNNING") == 0 ||
					strcmp(j->state, "COMPLETING") == 0 || j->run_s > 0))
			j->started = now;
		if (strcmp(j->state, "PENDING") == 0 && j->started != 0 && !j->done) {
			/* requeued (node failure, preemption): in the queue again,
			 * and queue_timeout_s counts from now */
			j->started = 0;
			j->submitted = now;
		}
	}
}

/* Give up on every job after SL_CTL_GIVEUP_S without an answer.  Under
 * the lock. */
static void
give_up(struct sl *x)
{
	struct sl_job *j;

	for (j = x->jobs; j != NULL; j = j->next)
		if (!j->done) {
			j->done = 1;
			j->ctl_lost = 1;
		}
}

static void
abs_deadline(struct timespec *ts, double s)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_sec += (time_t)s;
	ts->tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *
poller(void *arg)
{
	struct sl *x = arg;
	struct seen *v = NULL;
	size_t cap = 0;

	pthread_mutex_lock(&x->lock);
	while (!x->closing) {
		struct timespec ts;
		struct sl_job *j;
		char msg[SL_ERRLEN];
		size_t n = 0;
		int rc;

		for (j = x->jobs; j != NULL; j = j->next)
			n += !j->done;
		if (n == 0) {
			pthread_cond_wait(&x->wake, &x->lock);
			continue;
		}
		abs_deadline(&ts, x->poll_s);
		while (!x->closing && pthread_cond_timedwait(&x->wake, &x->lock, &ts) != ETIMEDOUT)
			;
		if (x->closing)
			break;
		n = 0;
		for (j = x->jobs; j != NULL; j = j->next)
			n += !j->done;
		if (n > cap) {
			struct seen *nv = realloc(v, n * sizeof *nv);

			if (nv == NULL)
				continue; /* try again next round */
			v = nv;
			cap = n;
		}
		n = 0;
		for (j = x->jobs; j != NULL; j = j->next)
			if (!j->done) {
				memset(&v[n], 0, sizeof v[n]);
				snprintf(v[n].j.id, sizeof v[n].j.id, "%s", j->id);
				v[n].j.run_s = -1;
				n++;
			}
		pthread_mutex_unlock(&x->lock);
		rc = n > 0 ? poll_once(x, v, n, msg, sizeof msg) : AML_OK;
		pthread_mutex_lock(&x->lock);
		if (rc == AML_OK) {
			x->ctl_fail_since = 0;
			apply(x, v, n, ek_now());
		} else {
			double now = ek_now();

			if (x->ctl_fail_since == 0) {
				x->ctl_fail_since = now;
				x->host->log(x->self, AML_LOG_WARN,
					     "cannot poll the Slurm controller (retrying every %g s): %s",
					     x->poll_s, msg);
			}
			snprintf(x->ctl_error, sizeof x->ctl_error, "%s", msg);
			if (now - x->ctl_fail_since > SL_CTL_GIVEUP_S)
				give_up(x);
		}
		pthread_cond_broadcast(&x->changed);
	}
	pthread_mutex_unlock(&x->lock);
	free(v);
	return NULL;
}

int
sl_poller_start(struct sl *x, char *err, size_t errlen)
{
	char ebuf[128];
	int e = pthread_create(&x->poller, NULL, poller, x);

	if (e != 0) {
		ek_err(err, errlen, "cannot start the poller thread: %s",
		       ek_strerror(e, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	x->poller_on = 1;
	return AML_OK;
}

void
sl_poller_stop(struct sl *x)
{
	if (!x->poller_on)
		return;
	pthread_mutex_lock(&x->lock);
	x->closing = 1;
	pthread_cond_broadcast(&x->wake);
	pthread_mutex_unlock(&x->lock);
	pthread_join(x->poller, NULL);
	x->poller_on = 0;
}
