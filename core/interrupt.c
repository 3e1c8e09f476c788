/*
 * interrupt.c — see interrupt.h.
 */
#include "config.h"

#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "interrupt.h"

static volatile int stop_flag;
static volatile sig_atomic_t installed;

static void
say(const char *msg)
{
	ssize_t r = write(STDERR_FILENO, msg, strlen(msg));

	(void)r;
}

/* Async-signal-safe: a store, a write(2), _exit(2). */
static void
on_signal(int sig)
{
	if (__atomic_load_n(&stop_flag, __ATOMIC_RELAXED)) {
		say("\nautomlgen: second interrupt: exiting now (resume with "
		    "'automlgen resume RUN_DIR')\n");
		_exit(128 + sig);
	}
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
	say("\nautomlgen: stopping: running candidates are being stopped and the best "
	    "submission written; interrupt again to exit at once\n");
}

int
aml_interrupt_install(void)
{
	struct sigaction sa;

	if (installed)
		return 0;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0)
		return -1;
	installed = 1;
	return 0;
}

const volatile int *
aml_interrupt_flag(void)
{
	return &stop_flag;
}

int
aml_interrupted(void)
{
	return __atomic_load_n(&stop_flag, __ATOMIC_RELAXED) != 0;
}

void
aml_interrupt_raise(void)
{
	__atomic_store_n(&stop_flag, 1, __ATOMIC_RELAXED);
}

void
aml_interrupt_reset(void)
{
	__atomic_store_n(&stop_flag, 0, __ATOMIC_RELAXED);
}
