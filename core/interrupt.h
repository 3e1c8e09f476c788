/*
 * interrupt.h — Ctrl-C (SIGINT) and SIGTERM for a run.
 *
 * The first signal sets the run's stop flag: the search starts nothing
 * new, the executors and providers that honour aml_*_request.cancel stop
 * what they are running, and the run ends as after a budget — journal
 * closed, best submission and summary written; candidates cut short stay
 * pending in the journal, so `automlgen resume` runs them again.  A
 * second signal exits at once (status 130).
 *
 * The flag is one process-wide int: it only goes from 0 to 1, written by
 * the handler (or aml_interrupt_raise), read with plain loads.
 */
#ifndef AML_INTERRUPT_H
#define AML_INTERRUPT_H

/* Install the SIGINT and SIGTERM handlers (idempotent).  0 or -1. */
int aml_interrupt_install(void);

/* The stop flag, for aml_exec_request.cancel / aml_llm_request.cancel
 * (static, valid forever). */
const volatile int *aml_interrupt_flag(void);

/* Non-zero once a stop was asked for. */
int aml_interrupted(void);

/* Ask for a stop as the first signal would (tests, embedding programs). */
void aml_interrupt_raise(void);

/* Clear the flag (tests that run several searches in one process). */
void aml_interrupt_reset(void);

#endif
