/*
 * local.h — what the local executor's two files share: the plugin's
 * state, one run's job, and the two processes each run forks (child.c):
 * a supervisor, and under it the script.  local.c says how they fit.
 */
#ifndef AML_LOCAL_H
#define AML_LOCAL_H

#include <sched.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "execkit.h"

/* Plugin state: the parameters are set in init and read-only afterwards;
 * the CPU slots and GPU shares lock themselves, so threads share it. */
struct lx {
	const aml_host *host;
	aml_plugin *self;
	char *python;        /* interpreter, absolute or as found on PATH */
	double grace_s;      /* SIGTERM -> SIGKILL */
	long threads;        /* default for the BLAS/OpenMP thread caps */
	char **drop;         /* NULL-terminated env name patterns not inherited */
	long memory_mb;      /* RLIMIT_AS, 0: unlimited */
	long max_file_mb;    /* RLIMIT_FSIZE, 0: unlimited */
	long max_procs;      /* RLIMIT_NPROC above what the uid runs already */
	long max_open_files; /* RLIMIT_NOFILE */
	long sandbox_uid;    /* as root: uid (and gid) of the scripts; 0: root */
	int drop_root;       /* scripts run as sandbox_uid (root agent, uid works) */
	int warned_reach;    /* said once that a workdir is out of its reach */
	ek_cpus *cpus;       /* NULL: pin_cpus off */
	ek_gpus *gpus;
};

/* The resource limits of one script. */
struct lx_limits {
	struct rlimit as, fsize, nproc, nofile, cpu;
	int set_as, set_fsize; /* 0 when the parameter is 0 (unlimited) */
};

/* Everything one run() owns; released by lx_job_free().  The two child
 * processes read it as the fork left it. */
struct lx_job {
	struct ek_jobio io;    /* streams, the script's stdin, the supervisor ->
				* agent pipe (start, then the report), buffer */
	char **envp;           /* owned strings, NULL-terminated */
	size_t envn, envcap;
	char *argv[3];         /* python (borrowed), script (borrowed), NULL */
	double grace_s;        /* the supervisor's SIGTERM -> SIGKILL */
	struct lx_limits lim;
	int pin;               /* 1: the script runs on cpus only */
	int cpu_slot, gpu_share; /* held by the run, -1 when none */
	cpu_set_t cpus;
	int drop;              /* 1: the script runs as uid/gid */
	uid_t uid;
	gid_t gid;
};

/* Where the start failed, as the supervisor reports it (an ek_child_err
 * with stage LX_STAGE_RUNNING says the script started). */
enum lx_stage {
	LX_STAGE_RUNNING = 0, LX_STAGE_SETSID, LX_STAGE_CHDIR, LX_STAGE_STDIO,
	LX_STAGE_EXEC, LX_STAGE_RLIMIT, LX_STAGE_USER, LX_STAGE_FORK,
	LX_STAGE_SUBREAPER,
};

/* What the supervisor writes when the script and everything it started
 * are gone, just before it exits. */
struct lx_report {
	int status;            /* the script's wait status */
	int termed;            /* the supervisor was told to stop it (time limit, cancel) */
	int killed;            /* ... and SIGKILLed it after grace_s */
};

/* The supervisor: forked by run(), never returns.  It starts its own
 * session, becomes a child subreaper, forks the script (own process
 * group, limits, affinity, uid, then exec), reports the start through
 * j->status_w, waits, and at the end kills every process left under it
 * (see local.c).  Async-signal-safe calls only. */
void lx_supervisor(const struct lx_job *j, const char *workdir) __attribute__((noreturn));

/* In a child of the agent: drop every supplementary group and become uid
 * and gid (real, effective, saved).  Async-signal-safe.  0 or -1. */
int lx_become(uid_t uid, gid_t gid);

#endif
