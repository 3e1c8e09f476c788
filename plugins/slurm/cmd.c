/*
 * cmd.c — running a Slurm command (sbatch, squeue, scontrol, scancel)
 * from any thread: posix_spawn (no fork of a threaded agent), the
 * environment made once in init (the agent's, with SLURM_CONF when the
 * slurm_conf parameter sets it), stdout collected, the last stderr line
 * kept for messages, and a time limit, since a command waiting for a
 * controller that does not answer would hold a worker forever.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "slurm.h"

#define SL_OUT_MAX ((size_t)16 << 20) /* stdout kept; more is dropped */
#define SL_ERR_KEEP 4096              /* bytes of stderr kept for its last line */

/* The last non-blank line of buf[0..n) into out. */
static void
last_line(const char *buf, size_t n, char *out, size_t outlen)
{
	size_t end = n, start;

	out[0] = '\0';
	while (end > 0 && (buf[end - 1] == '\n' || buf[end - 1] == '\r' || buf[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (end > start)
		snprintf(out, outlen, "%.*s", (int)(end - start), buf + start);
}

/* Spawn argv with stdout and stderr into two pipes.  Returns 0 or an
 * errno value. */
static int
spawn(const struct sl *x, const char *const *argv, pid_t *pid, int *ofd, int *efd)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t none, def;
	int op[2] = {-1, -1}, ep[2] = {-1, -1}, rc;

	if (pipe2(op, O_CLOEXEC) != 0 || pipe2(ep, O_CLOEXEC) != 0) {
		rc = errno;
		ek_close(&op[0]);
		ek_close(&op[1]);
		return rc;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&at);
	sigemptyset(&none);
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	sigaddset(&def, SIGINT);
	sigaddset(&def, SIGTERM);
	sigaddset(&def, SIGHUP);
	sigaddset(&def, SIGQUIT);
	sigaddset(&def, SIGCHLD);
	posix_spawnattr_setsigmask(&at, &none);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, op[1], 1);
	posix_spawn_file_actions_adddup2(&fa, ep[1], 2);
	rc = posix_spawnp(pid, argv[0], &fa, &at, (char *const *)argv, x->cmd_env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	ek_close(&op[1]);
	ek_close(&ep[1]);
	if (rc != 0) {
		ek_close(&op[0]);
		ek_close(&ep[0]);
		return rc;
	}
	*ofd = op[0];
	*efd = ep[0];
	return 0;
}

int
sl_cmd(const struct sl *x, const char *const *argv, char **out, char *errline,
       size_t errlinelen, int *status, char *err, size_t errlen)
{
	char *obuf = NULL, ebuf[SL_ERR_KEEP * 2], chunk[8192], sbuf[128];
	size_t olen = 0, ocap = 0, elen = 0;
	double deadline = ek_now() + SL_CMD_TIMEOUT_S;
	int ofd = -1, efd = -1, st = 0, killed = 0, rc;
	pid_t pid;

	if (out != NULL)
		*out = NULL;
	if (errline != NULL && errlinelen > 0)
		errline[0] = '\0';
	*status = -1;
	rc = spawn(x, argv, &pid, &ofd, &efd);
	if (rc != 0) {
		ek_err(err, errlen, "cannot run %s: %s", argv[0], ek_strerror(rc, sbuf, sizeof sbuf));
		return AML_EIO;
	}
	while (ofd >= 0 || efd >= 0) {
		struct pollfd p[2];
		int n = 0, r, i;

		if (ofd >= 0)
			p[n++] = (struct pollfd){ofd, POLLIN, 0};
		if (efd >= 0)
			p[n++] = (struct pollfd){efd, POLLIN, 0};
		r = poll(p, (nfds_t)n, killed ? 1000 : ek_ms_until(deadline, ek_now()));
		if (r < 0 && errno == EINTR)
			continue;
		if (r == 0) {
			if (killed)
				break; /* a grandchild holds the pipes: give up on them */
			(void)kill(pid, SIGKILL);
			killed = 1;
			continue;
		}
		for (i = 0; i < n; i++) {
			int *fd = p[i].fd == ofd ? &ofd : &efd;
			ssize_t got;

			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			got = read(*fd, chunk, sizeof chunk);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				ek_close(fd);
				continue;
			}
			if (fd == &ofd) {
				if (olen + (size_t)got + 1 > ocap && olen + (size_t)got < SL_OUT_MAX) {
					size_t nc = ocap ? ocap * 2 : 8192;
					char *nb;

					while (nc < olen + (size_t)got + 1)
						nc *= 2;
					nb = realloc(obuf, nc);
					if (nb == NULL)
						continue; /* drop it; the caller sees less */
					obuf = nb;
					ocap = nc;
				}
				if (olen + (size_t)got + 1 <= ocap) {
					memcpy(obuf + olen, chunk, (size_t)got);
					olen += (size_t)got;
				}
			} else {
				size_t g = (size_t)got;

				if (g > SL_ERR_KEEP) {
					memcpy(ebuf, chunk + g - SL_ERR_KEEP, SL_ERR_KEEP);
					elen = SL_ERR_KEEP;
				} else {
					if (elen + g > sizeof ebuf) {
						memmove(ebuf, ebuf + elen - SL_ERR_KEEP, SL_ERR_KEEP);
						elen = SL_ERR_KEEP;
					}
					memcpy(ebuf + elen, chunk, g);
					elen += g;
				}
			}
		}
	}
	ek_close(&ofd);
	ek_close(&efd);
	if (!killed && ek_now() > deadline) {
		(void)kill(pid, SIGKILL);
		killed = 1;
	}
	while (waitpid(pid, &st, 0) < 0) {
		if (errno != EINTR) {
			free(obuf);
			ek_err(err, errlen, "lost %s (pid %d): %s", argv[0], (int)pid,
			       ek_strerror(errno, sbuf, sizeof sbuf));
			return AML_EIO;
		}
	}
	if (killed) {
		free(obuf);
		ek_err(err, errlen, "%s did not answer within %d s (is the Slurm controller up?)",
		       argv[0], SL_CMD_TIMEOUT_S);
		return AML_ETIMEDOUT;
	}
	if (errline != NULL && errlinelen > 0)
		last_line(ebuf, elen, errline, errlinelen);
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
	if (out != NULL) {
		if (obuf == NULL)
			obuf = calloc(1, 1);
		else
			obuf[olen] = '\0';
		if (obuf == NULL) {
			ek_err(err, errlen, "out of memory");
			return AML_ENOMEM;
		}
		*out = obuf;
	} else {
		free(obuf);
	}
	return AML_OK;
}
