/*
 * slurm.c — the "slurm" executor plugin: each candidate script runs as a
 * Slurm batch job, from the node's workdir, which must be on a filesystem
 * the compute nodes share (the run directory: run.dir).
 *
 * run() writes the batch script into the workdir (batch.c), submits it
 * with sbatch --parsable, records the job id there (the marker), and
 * waits: one poller thread (poll.c) watches every job in flight with one
 * squeue per poll_s, however many workers wait, and wakes them when their
 * job has left the queue; result.c then reads the outcome and the output
 * Slurm wrote into the workdir.  So the number of candidates running at
 * once is the search's worker count (or max_in_flight), not this
 * machine's cores: the work runs on the cluster.
 *
 * Jobs never outlive the run unless asked to: fini cancels the jobs still
 * in flight, and a guard process (guard.c) cancels them if the agent dies
 * without fini (Ctrl-C, SIGKILL, a crash).  With cancel_on_exit false
 * both leave the jobs queued, and a later run() for the same workdir (a
 * resumed run) finds the marker and re-attaches to the job instead of
 * submitting it again; a job that finished meanwhile gives its result.
 *
 * Cancel (ABI 1.3): a run() whose request's cancel flag is set (the run
 * is stopping: Ctrl-C) stops waiting within SL_CANCEL_TICK_S, removes the
 * workdir's marker (a job cut short is never re-attached to: a resumed
 * run submits the script again), scancels the job, waits up to
 * SL_CANCEL_WAIT_S for it to leave the queue and reports outcome
 * CANCELLED; fini's cancel at the end of a run removes the markers too.
 * With cancel_on_exit false the job is left queued with its marker, for
 * a resumed run to re-attach to.  A flag set before the job is submitted
 * (or while it waits for a max_in_flight slot) submits nothing.
 *
 * A job that waits in the queue longer than queue_timeout_s (default: the
 * request's time limit, at least a minute) is cancelled and reported as
 * not started, so a full cluster cannot hold a run past its budget by
 * much (the core hands the time left of the budget as the limit).
 *
 * Threads: run() may be called from several workers at once.  The
 * parameters are read-only after init; the job table, the counters and
 * the controller's health are under sl.lock; the guard has its own lock.
 * The plugin installs no signal handlers; it starts commands with
 * posix_spawn and waits only for the pids it started.
 */
#include "config.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <automlgen/plugin.h>

#include "slurm.h"

extern char **environ;

/* ------------------------------------------------------------------ */
/* Parameters.                                                         */

static void
free_vec(char **v)
{
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		free(v[i]);
	free(v);
}

/* Split s at any of the separator characters into a NULL-terminated
 * vector of non-empty words (transferred; NULL on oom). */
static char **
split(const char *s, const char *seps)
{
	size_t n = 0, i = 0;
	const char *p;
	char **v;

	for (p = s; *p; p++)
		n += strchr(seps, *p) != NULL;
	v = calloc(n + 2, sizeof *v);
	if (v == NULL)
		return NULL;
	for (p = s; *p;) {
		size_t len;

		p += strspn(p, seps);
		len = strcspn(p, seps);
		if (len == 0)
			break;
		v[i] = strndup(p, len);
		if (v[i] == NULL) {
			free_vec(v);
			return NULL;
		}
		i++;
		p += len;
	}
	return v;
}

static const char *
param(const struct sl *x, const char *key, const char *dflt)
{
	const char *v = x->host->param(x->self, key);

	return v != NULL ? v : dflt;
}

static int
param_str(struct sl *x, const char *key, const char *dflt, char **out, char *err, size_t errlen)
{
	*out = strdup(param(x, key, dflt));
	if (*out == NULL) {
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	return AML_OK;
}

static int
param_double(struct sl *x, const char *key, double lo, double *out, char *err, size_t errlen)
{
	const char *v = x->host->param(x->self, key);
	char *end;
	double d;

	if (v == NULL)
		return AML_OK;
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d < lo) {
		ek_err(err, errlen, "%s must be a number >= %g, got '%s'", key, lo, v);
		return AML_EINVAL;
	}
	*out = d;
	return AML_OK;
}

static int
param_bool(struct sl *x, const char *key, int *out, char *err, size_t errlen)
{
	const char *v = x->host->param(x->self, key);

	if (v == NULL)
		return AML_OK;
	if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 || strcmp(v, "1") == 0)
		*out = 1;
	else if (strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 || strcmp(v, "0") == 0)
		*out = 0;
	else {
		ek_err(err, errlen, "%s must be true or false, got '%s'", key, v);
		return AML_EINVAL;
	}
	return AML_OK;
}

/* GPUs a gres string asks for: "gpu" 1, "gpu:2" 2, "gpu:a100:2" 2, other
 * resources 0, summed over the comma-separated entries; -1 when a gpu
 * entry's count is not a number. */
static long
gres_gpus(const char *gres)
{
	char **v = split(gres, ","), *last;
	long n = 0, k;
	size_t i;

	if (v == NULL)
		return -1;
	for (i = 0; v[i] != NULL && n >= 0; i++) {
		if (strncmp(v[i], "gpu", 3) != 0 || (v[i][3] != '\0' && v[i][3] != ':'))
			continue;
		last = strrchr(v[i], ':');
		if (last == NULL) {
			n += 1;
			continue;
		}
		k = strtol(last + 1, &last, 10);
		if (*last == '\0' && k > 0)
			n += k;
		else if (strchr(v[i] + 4, ':') == NULL)
			n += 1; /* "gpu:a100": one of that type */
		else
			n = -1;
	}
	free_vec(v);
	return n;
}

/* The Slurm commands' environment: the agent's, with SLURM_CONF set to
 * slurm_conf when given.  Transferred. */
static char **
command_env(const char *conf)
{
	size_t n = 0, i, k = 0;
	char **v;

	while (environ != NULL && environ[n] != NULL)
		n++;
	v = calloc(n + 2, sizeof *v);
	if (v == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (conf[0] && strncmp(environ[i], "SLURM_CONF=", 11) == 0)
			continue;
		if ((v[k++] = strdup(environ[i])) == NULL)
			goto oom;
	}
	if (conf[0]) {
		v[k] = malloc(strlen(conf) + sizeof "SLURM_CONF=");
		if (v[k] == NULL)
			goto oom;
		sprintf(v[k], "SLURM_CONF=%s", conf);
	}
	return v;
oom:
	free_vec(v);
	return NULL;
}

static void
sl_free(struct sl *x)
{
	if (x == NULL)
		return;
	free(x->python);
	free(x->partition);
	free(x->account);
	free(x->qos);
	free(x->gres);
	free_vec(x->extra_args);
	free_vec(x->wrapper);
	free(x->sbatch);
	free(x->squeue);
	free(x->scontrol);
	free(x->scancel);
	free_vec(x->cmd_env);
	free_vec(x->pass);
	free_vec(x->drop);
	free(x);
}

static int
read_params(struct sl *x, char *err, size_t errlen)
{
	const char *conf;
	int rc;

	x->cpus = 1;
	x->poll_s = 5;
	x->grace_s = 5;
	x->cancel_on_exit = 1;
	if ((rc = param_str(x, "python", AML_DEFAULT_PYTHON, &x->python, err, errlen)) ||
	    (rc = param_str(x, "partition", "", &x->partition, err, errlen)) ||
	    (rc = param_str(x, "account", "", &x->account, err, errlen)) ||
	    (rc = param_str(x, "qos", "", &x->qos, err, errlen)) ||
	    (rc = param_str(x, "gres", "", &x->gres, err, errlen)) ||
	    (rc = param_str(x, "sbatch", "sbatch", &x->sbatch, err, errlen)) ||
	    (rc = param_str(x, "squeue", "squeue", &x->squeue, err, errlen)) ||
	    (rc = param_str(x, "scontrol", "scontrol", &x->scontrol, err, errlen)) ||
	    (rc = param_str(x, "scancel", "scancel", &x->scancel, err, errlen)) ||
	    (rc = ek_param_long(x->host, x->self, "cpus_per_task", 1, 4096, &x->cpus, err,
				errlen)) ||
	    (rc = ek_param_long(x->host, x->self, "mem_mb", 0, 1L << 40, &x->mem_mb, err,
				errlen)) ||
	    (rc = ek_param_long(x->host, x->self, "time_limit", 0, 525600, &x->time_limit_min,
				err, errlen)) ||
	    (rc = ek_param_long(x->host, x->self, "max_in_flight", 0, 1L << 20,
				&x->max_in_flight, err, errlen)) ||
	    (rc = param_double(x, "poll_s", 0.05, &x->poll_s, err, errlen)) ||
	    (rc = param_double(x, "kill_grace_s", 0, &x->grace_s, err, errlen)) ||
	    (rc = param_double(x, "queue_timeout_s", 0, &x->queue_timeout_s, err, errlen)) ||
	    (rc = param_bool(x, "cancel_on_exit", &x->cancel_on_exit, err, errlen)))
		return rc;
	if (x->python[0] == '\0' || x->sbatch[0] == '\0' || x->squeue[0] == '\0' ||
	    x->scontrol[0] == '\0' || x->scancel[0] == '\0') {
		ek_err(err, errlen, "python, sbatch, squeue, scontrol and scancel must not be empty");
		return AML_EINVAL;
	}
	x->gpus = gres_gpus(x->gres);
	if (x->gpus < 0) {
		ek_err(err, errlen, "gres '%s': a gpu entry must read gpu, gpu:N or gpu:TYPE:N",
		       x->gres);
		return AML_EINVAL;
	}
	conf = param(x, "slurm_conf", "");
	if (conf[0] && access(conf, R_OK) != 0) {
		char ebuf[128];

		ek_err(err, errlen, "slurm_conf %s: %s; point it at the cluster's slurm.conf", conf,
		       ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EINVAL;
	}
	x->extra_args = split(param(x, "extra_args", ""), " \t\n");
	x->wrapper = split(param(x, "wrapper", ""), " \t\n");
	x->pass = split(param(x, "env_pass", "PATH,LANG,LC_ALL,LC_CTYPE,TZ"), ", ");
	x->drop = split(param(x, "env_drop", "*API_KEY*,*TOKEN*,*SECRET*,*PASSWORD*"), ", ");
	x->cmd_env = command_env(conf);
	if (x->extra_args == NULL || x->wrapper == NULL || x->pass == NULL || x->drop == NULL ||
	    x->cmd_env == NULL) {
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	return AML_OK;
}

/* The user whose jobs the guard may cancel. */
static void
find_user(struct sl *x)
{
	struct passwd pw, *res = NULL;
	char buf[4096];

	if (getpwuid_r(geteuid(), &pw, buf, sizeof buf, &res) == 0 && res != NULL &&
	    strlen(pw.pw_name) < sizeof x->user)
		snprintf(x->user, sizeof x->user, "%s", pw.pw_name);
	else
		snprintf(x->user, sizeof x->user, "%ld", (long)geteuid());
}

/* One squeue, so that a wrong slurm_conf or a controller that is down
 * refuses the plugin at once rather than failing every node. */
static int
check_controller(const struct sl *x, char *err, size_t errlen)
{
	const char *argv[] = {x->squeue, "-h", "-o", "%i", "-u", x->user, NULL};
	char line[SL_TEXT_MAX];
	int status, rc;

	rc = sl_cmd(x, argv, NULL, line, sizeof line, &status, err, errlen);
	if (rc == AML_OK && status != 0) {
		ek_err(err, errlen,
		       "squeue cannot reach the Slurm controller (%s); point executor.slurm.slurm_conf "
		       "(or SLURM_CONF) at the cluster's slurm.conf", line[0] ? line : "no message");
		rc = AML_EIO;
	}
	return rc;
}

static void sl_fini(void *state);

static int
sl_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	pthread_condattr_t ca;
	struct sl *x;
	int rc;

	*state = NULL;
	x = calloc(1, sizeof *x);
	if (x == NULL) {
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	x->host = host;
	x->self = self;
	x->guard_fd = -1;
	if ((rc = read_params(x, err, errlen)) != AML_OK) {
		sl_free(x);
		return rc;
	}
	find_user(x);
	if ((rc = check_controller(x, err, errlen)) != AML_OK) {
		sl_free(x);
		return rc;
	}
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_init(&x->guard_lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&x->changed, &ca);
	pthread_cond_init(&x->wake, &ca);
	pthread_condattr_destroy(&ca);
	if ((rc = sl_poller_start(x, err, errlen)) != AML_OK ||
	    (x->cancel_on_exit && (rc = sl_guard_start(x, err, errlen)) != AML_OK)) {
		sl_fini(x);
		return rc;
	}
	*state = x;
	return AML_OK;
}

/* End of the run: cancel the jobs in flight (or leave them, with
 * cancel_on_exit false), let the waiting run() calls return, stop the
 * poller and the guard. */
static void
sl_fini(void *state)
{
	struct sl *x = state;
	struct sl_job *j;
	char **ids = NULL;
	size_t n = 0, k = 0;

	if (x == NULL)
		return;
	pthread_mutex_lock(&x->lock);
	x->closing = 1;
	pthread_cond_broadcast(&x->wake);
	pthread_cond_broadcast(&x->changed);
	for (j = x->jobs; j != NULL; j = j->next)
		n += !j->done;
	if (n > 0 && (ids = calloc(n, sizeof *ids)) != NULL)
		for (j = x->jobs; j != NULL; j = j->next)
			if (!j->done && (ids[k] = strdup(j->id)) != NULL)
				k++;
	pthread_mutex_unlock(&x->lock);

	if (k > 0 && x->cancel_on_exit) {
		x->host->log(x->self, AML_LOG_INFO, "cancelling %zu Slurm job%s still in flight",
			     k, k == 1 ? "" : "s");
		sl_cancel_ids(x, ids, k);
	} else if (k > 0) {
		x->host->log(x->self, AML_LOG_INFO,
			     "leaving %zu Slurm job%s in the queue (cancel_on_exit false), first %s",
			     k, k == 1 ? "" : "s", ids[0]);
	}
	pthread_mutex_lock(&x->lock);
	for (j = x->jobs; j != NULL; j = j->next)
		if (!j->done) {
			j->done = 1;
			j->cancel = x->cancel_on_exit ? SL_CANCEL_STOP : SL_CANCEL_LEFT;
		}
	pthread_cond_broadcast(&x->changed);
	while (x->n_calls > 0)
		pthread_cond_wait(&x->changed, &x->lock);
	pthread_mutex_unlock(&x->lock);
	while (k > 0)
		free(ids[--k]);
	free(ids);

	sl_poller_stop(x);
	sl_guard_stop(x);
	pthread_cond_destroy(&x->changed);
	pthread_cond_destroy(&x->wake);
	pthread_mutex_destroy(&x->lock);
	pthread_mutex_destroy(&x->guard_lock);
	sl_free(x);
}

/* ------------------------------------------------------------------ */
/* run().                                                              */

/* The id of the job of this name and comment still in the queue, for a
 * marker written while sbatch ran (the agent died before the id came
 * back).  1 found, 0 none, or an error. */
static int
find_by_comment(const struct sl *x, const char *name, const char *comment, char *id,
		size_t idlen, char *err, size_t errlen)
{
	char opt[SL_NAME_MAX + 16], line[SL_TEXT_MAX], *out = NULL, *p, *save = NULL;
	const char *argv[] = {x->squeue, "-h", "-o", "%i|%k", opt, NULL};
	int status, rc, found = 0;

	snprintf(opt, sizeof opt, "--name=%s", name);
	rc = sl_cmd(x, argv, &out, line, sizeof line, &status, err, errlen);
	if (rc != AML_OK)
		return rc;
	if (status != 0) {
		free(out);
		ek_err(err, errlen, "squeue --name=%s: %s", name, line);
		return AML_EIO;
	}
	for (p = strtok_r(out, "\n", &save); p != NULL && !found; p = strtok_r(NULL, "\n", &save)) {
		char *bar = strchr(p, '|');

		if (bar != NULL && strcmp(bar + 1, comment) == 0 && (size_t)(bar - p) < idlen) {
			snprintf(id, idlen, "%.*s", (int)(bar - p), p);
			found = 1;
		}
	}
	free(out);
	return found;
}

/* A marker in the workdir means this node's job was submitted before (a
 * resumed run, or a retry): wait for that job rather than submit it
 * again.  Returns 1 with j filled (j->done when it has already ended), 0
 * when there is nothing to re-attach to (no marker, another run's, or a
 * job that was cancelled or forgotten without a result), or an error
 * (the controller did not answer: submitting again could run it twice). */
static int
reattach(struct sl *x, const char *absdir, const char *name, const char *comment,
	 struct sl_job *j, char *err, size_t errlen)
{
	char id[SL_ID_MAX], mname[SL_NAME_MAX], mcomment[SL_TEXT_MAX];
	char qname[SL_NAME_MAX], qcomment[SL_TEXT_MAX], *exitf;
	struct stat st;
	int rc, has_exit;

	if (!sl_marker_read(absdir, id, sizeof id, mname, sizeof mname, mcomment, sizeof mcomment) ||
	    strcmp(mname, name) != 0 || strcmp(mcomment, comment) != 0)
		return 0;
	if (strcmp(id, "-") == 0) {
		rc = find_by_comment(x, name, comment, id, sizeof id, err, errlen);
		if (rc <= 0)
			return rc;
	}
	snprintf(j->id, sizeof j->id, "%s", id);
	rc = sl_query(x, j, qname, sizeof qname, qcomment, sizeof qcomment, err, errlen);
	if (rc != AML_OK)
		return rc;
	exitf = ek_join(absdir, SL_EXIT_FILE);
	has_exit = exitf != NULL && stat(exitf, &st) == 0;
	free(exitf);
	if (j->vanished) {
		if (!has_exit) {
			x->host->log(x->self, AML_LOG_INFO,
				     "%s: slurm job %s is unknown to the controller and left no exit "
				     "record: submitting the script again", absdir, id);
			return 0;
		}
		x->host->log(x->self, AML_LOG_INFO, "%s: slurm job %s ended earlier; using its result",
			     absdir, id);
		return 1;
	}
	if (strcmp(qname, name) != 0 || strcmp(qcomment, comment) != 0) {
		x->host->log(x->self, AML_LOG_INFO,
			     "%s: slurm job %s is another job now (the controller's ids restarted): "
			     "submitting the script", absdir, id);
		return 0;
	}
	if (strcmp(j->state, "CANCELLED") == 0 && !has_exit) {
		x->host->log(x->self, AML_LOG_INFO,
			     "%s: slurm job %s was cancelled before it finished: submitting the "
			     "script again", absdir, id);
		return 0;
	}
	x->host->log(x->self, AML_LOG_INFO, "%s: re-attaching to slurm job %s (%s)", absdir, id,
		     j->state);
	return 1;
}

/* Remove what an earlier submission of this workdir left. */
static void
clear_leftovers(const char *absdir)
{
	static const char *const files[] = {SL_EXIT_FILE, SL_RAW_OUT, SL_RAW_ERR};
	size_t i;

	for (i = 0; i < sizeof files / sizeof files[0]; i++) {
		char *p = ek_join(absdir, files[i]);

		if (p != NULL)
			(void)unlink(p);
		free(p);
	}
}

/* Wait on x->changed (under the lock) for at most s seconds. */
static void
wait_changed(struct sl *x, double s)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)s;
	ts.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	(void)pthread_cond_timedwait(&x->changed, &x->lock, &ts);
}

/* Wait (under the lock) for j to be done, cancelling it once it has
 * waited in the queue longer than allowed.  Returns 1 when the request's
 * cancel flag was set before j was done (the caller cancels it), else 0. */
static int
wait_done(struct sl *x, const aml_exec_request *req, struct sl_job *j)
{
	double qt = x->queue_timeout_s > 0 ? x->queue_timeout_s
		    : req->timeout_s > SL_QUEUE_MIN_S ? req->timeout_s : SL_QUEUE_MIN_S;
	/* nobody signals a cancel: look at the flag every tick */
	double tick = req->cancel != NULL ? SL_CANCEL_TICK_S : 1.0;

	while (!j->done) {
		double now = ek_now(), until = now + tick;

		if (sf_stopping(req->cancel))
			return 1;
		if (j->started == 0 && j->cancel == SL_CANCEL_NONE && now >= j->submitted + qt) {
			char *ids[1];

			j->cancel = SL_CANCEL_QUEUE;
			ids[0] = j->id;
			pthread_mutex_unlock(&x->lock);
			sl_cancel_ids(x, ids, 1); /* the poller sees it end */
			pthread_mutex_lock(&x->lock);
			continue;
		}
		if (j->started == 0 && j->cancel == SL_CANCEL_NONE && j->submitted + qt < until)
			until = j->submitted + qt;
		wait_changed(x, until - now);
	}
	return 0;
}

/* The request's cancel flag stopped the wait for j (no longer in the job
 * table): remove the marker first, so that no later run re-attaches to a
 * job cut short, then scancel it, so that none is left in the queue, and
 * wait up to SL_CANCEL_WAIT_S for it to leave (Slurm sends SIGTERM, then
 * SIGKILL after its KillWait).  Without the lock. */
static void
cancel_job(struct sl *x, const char *absdir, struct sl_job *j)
{
	char *ids[1] = {j->id}, err[SL_ERRLEN];
	double until;
	int rc;

	sl_marker_remove(absdir);
	sl_cancel_ids(x, ids, 1);
	until = ek_now() + SL_CANCEL_WAIT_S;
	while ((rc = sl_listed(x, j->id, err, sizeof err)) != 0) {
		if (rc < 0)
			x->host->log(x->self, AML_LOG_DEBUG, "%s", err);
		if (ek_now() >= until) {
			x->host->log(x->self, AML_LOG_WARN,
				     "slurm job %s is still in the queue %g s after its scancel; "
				     "Slurm ends it", j->id, SL_CANCEL_WAIT_S);
			return;
		}
		usleep((useconds_t)(SL_CANCEL_TICK_S * 1e6));
	}
}

/* Unlink j from the job table.  Under the lock. */
static void
unlink_job(struct sl *x, struct sl_job *j)
{
	struct sl_job **pp;

	for (pp = &x->jobs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == j) {
			*pp = j->next;
			break;
		}
}

/* Submit req's script as a new job into j.  Returns AML_OK with j->id
 * set; 1 when Slurm refused it (res filled: NOSTART); or an error. */
static int
submit(struct sl *x, const aml_exec_request *req, const char *absdir, const char *name,
       const char *comment, struct sl_job *j, aml_exec_result *res, char *err, size_t errlen)
{
	char why[SL_TEXT_MAX], detail[SL_TEXT_MAX + 64], *marker;
	int rc;

	clear_leftovers(absdir);
	if ((rc = sl_batch_write(x, req, absdir, err, errlen)) != AML_OK)
		return rc;
	sl_guard_name(x, name);
	/* "-" first: a submission whose id never came back is still found */
	if ((rc = sl_marker_write(absdir, "-", name, comment, err, errlen)) != AML_OK)
		return rc;
	rc = sl_submit(x, req, absdir, name, comment, j->id, sizeof j->id, why, sizeof why, err,
		       errlen);
	if (rc == AML_OK)
		return sl_marker_write(absdir, j->id, name, comment, err, errlen);
	marker = ek_join(absdir, SL_MARKER_FILE);
	if (marker != NULL)
		(void)unlink(marker);
	free(marker);
	if (rc != 1)
		return rc;
	res->outcome = AML_EXEC_NOSTART;
	snprintf(detail, sizeof detail, "Slurm refused the job: %s", why);
	res->detail = x->host->mem_strdup(detail);
	return 1;
}

static int
sl_run(void *state, const aml_exec_request *req, aml_exec_result *res, char *err,
       size_t errlen)
{
	struct sl *x = state;
	struct sl_job *j = NULL;
	char name[SL_NAME_MAX], comment[SL_TEXT_MAX], *absdir = NULL;
	int rc, attached = 0, counted = 0, stopped = 0;

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
	pthread_mutex_lock(&x->lock);
	if (x->closing) {
		pthread_mutex_unlock(&x->lock);
		ek_err(err, errlen, "the run is stopping");
		return AML_ECANCELED;
	}
	x->n_calls++;
	pthread_mutex_unlock(&x->lock);

	absdir = realpath(req->workdir, NULL);
	j = calloc(1, sizeof *j);
	if (absdir == NULL || j == NULL) {
		ek_err(err, errlen, "out of memory");
		rc = AML_ENOMEM;
		goto out;
	}
	j->run_s = -1;
	sl_job_name(absdir, name, sizeof name);
	sl_job_comment(absdir, req->node_id, comment, sizeof comment);

	rc = reattach(x, absdir, name, comment, j, err, errlen);
	if (rc < 0)
		goto out;
	attached = rc;
	if (!attached) {
		memset(j, 0, sizeof *j);
		j->run_s = -1;
	}

	/* a slot: max_in_flight counts this plugin's jobs in the queue */
	pthread_mutex_lock(&x->lock);
	while (!attached && x->max_in_flight > 0 && x->n_flight >= x->max_in_flight &&
	       !x->closing && !sf_stopping(req->cancel)) {
		if (req->cancel != NULL)
			wait_changed(x, SL_CANCEL_TICK_S);
		else
			pthread_cond_wait(&x->changed, &x->lock);
	}
	if (x->closing) {
		pthread_mutex_unlock(&x->lock);
		ek_err(err, errlen, "the run is stopping");
		rc = AML_ECANCELED;
		goto out;
	}
	if (!attached && sf_stopping(req->cancel)) {
		pthread_mutex_unlock(&x->lock);
		ek_fill_not_started(x->host, res);
		rc = AML_OK;
		goto out;
	}
	x->n_flight++;
	counted = 1;
	pthread_mutex_unlock(&x->lock);

	if (!attached) {
		rc = submit(x, req, absdir, name, comment, j, res, err, errlen);
		if (rc == 1) {
			rc = AML_OK; /* refused: the result says why */
			goto out;
		}
		if (rc != AML_OK)
			goto out;
	}
	j->submitted = ek_now();
	if (strcmp(j->state, "RUNNING") == 0)
		j->started = j->submitted;

	pthread_mutex_lock(&x->lock);
	if (x->closing && !j->done) {
		/* fini began while sbatch ran: fini did not see this job */
		j->cancel = x->cancel_on_exit ? SL_CANCEL_STOP : SL_CANCEL_LEFT;
		j->done = 1;
		pthread_mutex_unlock(&x->lock);
		if (x->cancel_on_exit) {
			char *ids[1] = {j->id};

			sl_cancel_ids(x, ids, 1);
		}
		pthread_mutex_lock(&x->lock);
	} else if (!j->done) {
		j->next = x->jobs;
		x->jobs = j;
		pthread_cond_broadcast(&x->wake);
		stopped = wait_done(x, req, j);
		if (stopped && x->cancel_on_exit)
			j->cancel = SL_CANCEL_RUN;
		unlink_job(x, j);
	}
	pthread_mutex_unlock(&x->lock);
	if (j->cancel == SL_CANCEL_RUN)
		cancel_job(x, absdir, j);
	else if (j->cancel == SL_CANCEL_STOP)
		sl_marker_remove(absdir); /* fini cancelled it: never re-attach */

	if (stopped && !x->cancel_on_exit) {
		char detail[SL_TEXT_MAX];

		/* its output is not final: the files stay as Slurm writes them */
		res->outcome = AML_EXEC_CANCELLED;
		snprintf(detail, sizeof detail,
			 SF_CANCELLED "; slurm job %s stays in the queue (cancel_on_exit false)",
			 j->id);
		res->detail = x->host->mem_strdup(detail);
		rc = AML_OK;
	} else if (j->ctl_lost) {
		pthread_mutex_lock(&x->lock);
		ek_err(err, errlen, "lost the Slurm controller for more than %d s (%s); slurm job %s "
		       "may still run", SL_CTL_GIVEUP_S, x->ctl_error, j->id);
		pthread_mutex_unlock(&x->lock);
		rc = AML_EIO;
	} else if (j->cancel == SL_CANCEL_LEFT) {
		ek_err(err, errlen, "the run is stopping; slurm job %s stays in the queue "
		       "(cancel_on_exit false)", j->id);
		rc = AML_ECANCELED;
	} else {
		sl_result(x, req, absdir, j, res);
		rc = AML_OK;
	}
out:
	pthread_mutex_lock(&x->lock);
	if (counted)
		x->n_flight--;
	x->n_calls--;
	pthread_cond_broadcast(&x->changed);
	pthread_mutex_unlock(&x->lock);
	free(j);
	free(absdir);
	return rc;
}

static const aml_executor_ops sl_ops = {sl_run};

AML_PLUGIN_DEFINE(AML_KIND_EXECUTOR, SL_NAME, SL_VERSION, sl_init, sl_fini, &sl_ops);
