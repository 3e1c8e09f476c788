/*
 * stopflag.h — the request's cancel flag (ABI 1.3: aml_exec_request.cancel
 * and aml_llm_request.cancel), read the same way by every plugin that
 * waits: executors, providers, their sleeps.  Header-only (static inline),
 * since plugins never link each other and not all of them compile a kit.
 *
 * The flag may be NULL (a core or caller that cannot stop); else it goes
 * from 0 to non-zero once, when the run is stopping (Ctrl-C), and is read
 * with plain loads.  Nobody signals it, so a plugin that waits looks at it
 * every tick (ABI: at least every 0.5 s).
 */
#ifndef AML_STOPFLAG_H
#define AML_STOPFLAG_H

#include <errno.h>
#include <time.h>

/* What a call or run cut short says (after "<plugin>: " for a provider's
 * error line; as an executor's detail line). */
#define SF_CANCELLED "cancelled: the run is stopping"

/* Is the run stopping?  flag may be NULL (never). */
static inline int
sf_stopping(const volatile int *flag)
{
	return flag != NULL && __atomic_load_n(flag, __ATOMIC_RELAXED) != 0;
}

/* Sleep s seconds (through signals), in slices of tick_s while flag is
 * clear (one slice without a flag): 1 when the flag cut it short, or was
 * set on entry; else 0. */
static inline int
sf_sleep(double s, const volatile int *flag, double tick_s)
{
	struct timespec now, ts, rem;
	double until, left;

	clock_gettime(CLOCK_MONOTONIC, &now);
	until = (double)now.tv_sec + (double)now.tv_nsec / 1e9 + s;
	for (;;) {
		if (sf_stopping(flag))
			return 1;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left = until - ((double)now.tv_sec + (double)now.tv_nsec / 1e9);
		if (!(left > 0))
			return 0;
		if (flag != NULL && left > tick_s)
			left = tick_s;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (ts.tv_nsec >= 1000000000L)
			ts.tv_nsec = 999999999L;
		while (nanosleep(&ts, &rem) != 0 && errno == EINTR)
			ts = rem;
	}
}

#endif
