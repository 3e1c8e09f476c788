/*
 * guard.c — no orphaned jobs when the agent dies.
 *
 * fini cancels the jobs still in flight (and a first Ctrl-C reaches the
 * waiting run() calls through the request's cancel flag, which cancel
 * their own jobs), but a run can also end without fini: a second Ctrl-C
 * (or SIGINT where no handler catches it), SIGKILL, a crash.  So init
 * starts a guard: a small shell
 * process in a session of its own (Ctrl-C at the terminal does not reach
 * it) whose stdin is one end of a socket pair the agent holds.  Before
 * the first job of a name is submitted the agent tells the guard the
 * name; when its stdin reaches end of file - the agent is gone, however
 * it went - without a goodbye first, the guard cancels every job of those
 * names with scancel --name (by name, so a job whose sbatch was
 * interrupted before its id came back goes too).  fini says goodbye, and
 * the guard exits cancelling nothing.
 *
 * The agent writes with MSG_NOSIGNAL: a guard that has died is a warning,
 * never a SIGPIPE.  With cancel_on_exit false there is no guard (the
 * jobs are left for a resume to re-attach to).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slurm.h"

/* $1: scancel, $2: the user.  Lines: "name <job name>", "bye". */
static const char guard_script[] =
	"trap '' INT HUP QUIT\n"
	"names=\n"
	"while IFS= read -r line; do\n"
	"  case $line in\n"
	"  bye) exit 0 ;;\n"
	"  name\\ *) names=\"$names ${line#name }\" ;;\n"
	"  esac\n"
	"done\n"
	"for n in $names; do \"$1\" --quiet --user=\"$2\" --name=\"$n\"; done\n";

int
sl_guard_start(struct sl *x, char *err, size_t errlen)
{
	const char *argv[] = {"/bin/sh", "-c", guard_script, "aml-slurm-guard", x->scancel,
			      x->user, NULL};
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	char ebuf[128];
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		ek_err(err, errlen, "socketpair: %s", ek_strerror(errno, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
					      POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_adddup2(&fa, sv[1], 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	rc = posix_spawn(&x->guard_pid, argv[0], &fa, &at, (char *const *)argv, x->cmd_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	(void)close(sv[1]);
	if (rc != 0) {
		(void)close(sv[0]);
		x->guard_pid = 0;
		ek_err(err, errlen, "cannot start the guard (/bin/sh): %s",
		       ek_strerror(rc, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	x->guard_fd = sv[0];
	return AML_OK;
}

/* Send one line; 0 or an errno value. */
static int
say(int fd, const char *line)
{
	size_t len = strlen(line), off = 0;

	while (off < len) {
		ssize_t n = send(fd, line + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno;
		off += (size_t)n;
	}
	return 0;
}

void
sl_guard_name(struct sl *x, const char *name)
{
	char line[SL_NAME_MAX + 8], ebuf[128], **nv;
	size_t i;
	int e;

	pthread_mutex_lock(&x->guard_lock);
	if (x->guard_fd < 0)
		goto out;
	for (i = 0; i < x->n_guard_names; i++)
		if (strcmp(x->guard_names[i], name) == 0)
			goto out;
	nv = realloc(x->guard_names, (x->n_guard_names + 1) * sizeof *nv);
	if (nv == NULL)
		goto out;
	x->guard_names = nv;
	nv[x->n_guard_names] = strdup(name);
	if (nv[x->n_guard_names] == NULL)
		goto out;
	x->n_guard_names++;
	snprintf(line, sizeof line, "name %s\n", name);
	if ((e = say(x->guard_fd, line)) != 0) {
		x->host->log(x->self, AML_LOG_WARN,
			     "the guard process is gone (%s): if the agent dies, jobs named %s stay "
			     "in the queue", ek_strerror(e, ebuf, sizeof ebuf), name);
		ek_close(&x->guard_fd);
	}
out:
	pthread_mutex_unlock(&x->guard_lock);
}

void
sl_guard_stop(struct sl *x)
{
	size_t i;
	int st;

	pthread_mutex_lock(&x->guard_lock);
	if (x->guard_fd >= 0) {
		(void)say(x->guard_fd, "bye\n");
		ek_close(&x->guard_fd);
	}
	if (x->guard_pid > 0) {
		while (waitpid(x->guard_pid, &st, 0) < 0 && errno == EINTR)
			;
		x->guard_pid = 0;
	}
	for (i = 0; i < x->n_guard_names; i++)
		free(x->guard_names[i]);
	free(x->guard_names);
	x->guard_names = NULL;
	x->n_guard_names = 0;
	pthread_mutex_unlock(&x->guard_lock);
}
