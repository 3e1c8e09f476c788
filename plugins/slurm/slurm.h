/*
 * slurm.h — what the slurm executor's files share: the plugin's state, a
 * job in flight, and the functions each file offers the others.
 * slurm.c says how they fit together:
 *
 *   slurm.c   the plugin: parameters, init/fini, run()
 *   cmd.c     running the Slurm commands (sbatch, squeue, ...) with a limit
 *   batch.c   the batch script, the submission and the workdir's marker
 *   poll.c    the job table and the one thread that polls the controller
 *   result.c  a finished job's outcome and its capped output
 *   guard.c   a process that cancels the run's jobs if the agent dies
 */
#ifndef AML_SLURM_H
#define AML_SLURM_H

#include <pthread.h>
#include <stddef.h>
#include <sys/types.h>

#include "execkit.h"

#define SL_NAME "slurm"
#define SL_VERSION "1.0.0"

#define SL_ID_MAX 32         /* a job id ("123", "123_4", "123+0") */
#define SL_STATE_MAX 32      /* a job state name ("OUT_OF_MEMORY") */
#define SL_TEXT_MAX 256      /* a reason, a node list, a command's error line */
#define SL_NAME_MAX 96       /* a job name: "aml-<run>-<hash>" */
#define SL_ERRLEN 512        /* an error message from a helper */
#define SL_CMD_TIMEOUT_S 120 /* a Slurm command that takes longer is killed */
#define SL_CTL_GIVEUP_S 900  /* the controller unreachable this long fails the jobs */
#define SL_QUEUE_MIN_S 60.0  /* queue_timeout_s 0: the request's limit, at least this */
#define SL_CANCEL_TICK_S 0.25 /* a waiting run() reads the request's cancel flag this often */
#define SL_CANCEL_WAIT_S 10.0 /* after its scancel, how long run() waits for a job to leave */

/* Files in the node's workdir (which the compute nodes share). */
#define SL_SCRIPT_FILE "slurm_job.sh"     /* the batch script */
#define SL_MARKER_FILE "slurm_job_id"     /* "<id> <name> <comment>": submitted */
#define SL_EXIT_FILE "slurm_exit"         /* "<status> <seconds>": the script ended */
#define SL_RAW_OUT "slurm-stdout.txt"     /* Slurm's --output, capped into stdout.txt */
#define SL_RAW_ERR "slurm-stderr.txt"     /* Slurm's --error, capped into stderr.txt */

/* Why the plugin itself cancelled a job. */
enum sl_cancel {
	SL_CANCEL_NONE = 0,
	SL_CANCEL_QUEUE = 1, /* it waited in the queue longer than allowed */
	SL_CANCEL_STOP = 2,  /* the run is stopping (fini) */
	SL_CANCEL_LEFT = 3,  /* the run is stopping, the job left queued (cancel_on_exit false) */
	SL_CANCEL_RUN = 4,   /* the request's cancel flag: the run is stopping (ABI 1.3) */
};

/* A job in flight.  Created by run(), which waits for it; updated by the
 * poller; every field after `id` is read and written under sl.lock. */
struct sl_job {
	struct sl_job *next;
	char id[SL_ID_MAX];
	char state[SL_STATE_MAX];  /* Slurm's JobState, "" before the first poll */
	char reason[SL_TEXT_MAX];  /* Slurm's Reason */
	char nodes[SL_TEXT_MAX];   /* where it ran */
	int exit_code, exit_sig;   /* Slurm's ExitCode=<code>:<signal> */
	int restarts;              /* times requeued */
	long run_s;                /* Slurm's RunTime, -1 when unknown */
	double submitted;          /* ek_now() at submission (or re-attach) */
	double started;            /* ek_now() when first seen running, 0 before */
	int done;                  /* it left the queue: the fields are final */
	int vanished;              /* the controller no longer knows it */
	int ctl_lost;              /* the controller was unreachable too long */
	int cancel;                /* enum sl_cancel */
};

/* Plugin state.  The parameters are set in init and read-only afterwards;
 * the rest is under `lock`. */
struct sl {
	const aml_host *host;
	aml_plugin *self;

	/* parameters (manifest.yaml) */
	char *python;
	char *partition, *account, *qos, *gres;
	char **extra_args;         /* NULL-terminated: added to sbatch's arguments */
	char **wrapper;            /* NULL-terminated: runs the interpreter inside */
	long cpus;                 /* --cpus-per-task, AML_N_JOBS */
	long mem_mb;               /* --mem, 0: the cluster's default */
	long gpus;                 /* GPUs gres asks for (AML_GPUS) */
	long time_limit_min;       /* --time, 0: from the request's timeout */
	long max_in_flight;        /* 0: no limit */
	double poll_s, grace_s, queue_timeout_s;
	int cancel_on_exit;
	char *sbatch, *squeue, *scontrol, *scancel;
	char **cmd_env;            /* the Slurm commands' environment */
	char **pass;               /* agent variables the scripts get */
	char **drop;               /* ... unless they match one of these patterns */
	char user[64];             /* for scancel --user */

	/* shared */
	pthread_mutex_t lock;
	pthread_cond_t changed;    /* a job moved, a slot freed, a call ended */
	pthread_cond_t wake;       /* the poller: jobs to poll, or stop */
	struct sl_job *jobs;       /* in flight (the poller's list) */
	long n_flight;             /* jobs in the queue for this plugin */
	long n_calls;              /* run() calls in progress */
	int closing;               /* fini has begun */
	int poller_on;
	pthread_t poller;
	double ctl_fail_since;     /* first failed poll of a failing streak, 0 */
	char ctl_error[SL_ERRLEN];

	/* the guard process (guard.c), under guard_lock */
	pthread_mutex_t guard_lock;
	pid_t guard_pid;
	int guard_fd;
	char **guard_names;        /* job names it was told */
	size_t n_guard_names;
};

/* ------------------------------------------------------------------ */
/* cmd.c                                                               */

/* Run argv (argv[0] a path, or a name looked up on PATH) with the Slurm
 * commands' environment and stdin from /dev/null, for at most
 * SL_CMD_TIMEOUT_S.  *out gets its stdout (transferred, NUL-terminated,
 * may be NULL), errline its last non-blank stderr line, *status its exit
 * status (or 128 + the signal that ended it).  Returns AML_OK when it ran
 * (whatever its status), else an error with the reason in err. */
int sl_cmd(const struct sl *x, const char *const *argv, char **out, char *errline,
	   size_t errlinelen, int *status, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* batch.c                                                             */

/* The job name all jobs of the run holding absdir share: "aml-<run
 * folder>-<hash of its path>", into name. */
void sl_job_name(const char *absdir, char *name, size_t len);

/* The comment that tells one node's job apart: "aml:<node>:<hash>". */
void sl_job_comment(const char *absdir, uint32_t node_id, char *out, size_t len);

/* Write absdir/SL_SCRIPT_FILE for req.  Returns AML_OK or an error. */
int sl_batch_write(const struct sl *x, const aml_exec_request *req, const char *absdir,
		   char *err, size_t errlen);

/* Submit absdir/SL_SCRIPT_FILE with sbatch: AML_OK with the job's id in
 * id; 1 when Slurm refused the job, with its message in why; or an error
 * when sbatch could not run. */
int sl_submit(const struct sl *x, const aml_exec_request *req, const char *absdir,
	      const char *name, const char *comment, char *id, size_t idlen, char *why,
	      size_t whylen, char *err, size_t errlen);

/* The marker: "<id|-> <name> <comment>" in absdir/SL_MARKER_FILE ("-"
 * while sbatch runs).  Write returns AML_OK or an error; read returns 1
 * and fills id (possibly "-"), name and comment when there is one, else 0;
 * remove deletes it (a job the run cut short is never re-attached to). */
int sl_marker_write(const char *absdir, const char *id, const char *name,
		    const char *comment, char *err, size_t errlen);
int sl_marker_read(const char *absdir, char *id, size_t idlen, char *name, size_t namelen,
		   char *comment, size_t commentlen);
void sl_marker_remove(const char *absdir);

/* ------------------------------------------------------------------ */
/* poll.c                                                              */

/* Start and stop the poller thread.  sl_poller_stop must be called with
 * closing set; it joins the thread. */
int sl_poller_start(struct sl *x, char *err, size_t errlen);
void sl_poller_stop(struct sl *x);

/* What the controller says about one job (scontrol show job), for a
 * re-attach: AML_OK with the fields of j filled (j->done when it has left
 * the queue, j->vanished when the controller does not know it) and its
 * JobName and Comment, or an error when scontrol could not run. */
int sl_query(const struct sl *x, struct sl_job *j, char *name, size_t namelen,
	     char *comment, size_t commentlen, char *err, size_t errlen);

/* 1 when a JobState is final: the job has left the queue for good. */
int sl_state_final(const char *state);

/* Cancel the jobs ids[0..n) with one scancel; warnings go to the log. */
void sl_cancel_ids(const struct sl *x, char *const *ids, size_t n);

/* Is job id still in the queue (pending, running or completing: squeue
 * lists it)?  1 yes, 0 no (the controller does not know it any more
 * included), or an error with the reason in err. */
int sl_listed(const struct sl *x, const char *id, char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* result.c                                                            */

/* Turn a finished job into res: its outcome from the script's exit
 * record (SL_EXIT_FILE) and Slurm's final state, and stdout.txt and
 * stderr.txt capped from Slurm's output files.  res->detail is
 * transferred (host->mem_strdup). */
void sl_result(const struct sl *x, const aml_exec_request *req, const char *absdir,
	       const struct sl_job *j, aml_exec_result *res);

/* ------------------------------------------------------------------ */
/* guard.c                                                             */

/* Start the guard: a process of its own session that, when the agent
 * ends without saying goodbye (a crash, SIGKILL, Ctrl-C), cancels every
 * job of the names it was told.  Returns AML_OK or an error. */
int sl_guard_start(struct sl *x, char *err, size_t errlen);

/* Tell the guard a job name before the first job of that name is
 * submitted.  A guard that is gone is a warning. */
void sl_guard_name(struct sl *x, const char *name);

/* Say goodbye (the guard exits without cancelling) and reap it. */
void sl_guard_stop(struct sl *x);

#endif
