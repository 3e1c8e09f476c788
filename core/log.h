/*
 * log.h — the core's log: one line per message to stderr (the user's
 * terminal) and, once a run has started, to the run's run.log.
 *
 * On a terminal a status line (core/progress.c) may sit below the log:
 * each message then clears it, prints its own line and redraws it, all
 * under the log's lock, so the two never mangle each other.
 */
#ifndef AML_LOG_H
#define AML_LOG_H

#include <stdarg.h>
#include <automlgen/plugin.h>

/* Messages above this level (AML_LOG_*) are not printed on stderr. */
void aml_log_set_level(int level);
int aml_log_get_level(void);
/* Also append every message (all levels) to this file; NULL stops. */
int aml_log_open_file(const char *path);
void aml_log_close_file(void);

/* Show line as the status line on stderr, redrawn in place ("\r\033[K"
 * then the line, no newline) now and after every message printed on
 * stderr; NULL clears it off the screen and stops the redraws.  line is
 * copied (at most 1023 bytes) and should fit the terminal's width, or the
 * clearing leaves its wrapped part behind.  Never goes to run.log. */
void aml_log_status(const char *line);

void aml_log(int level, const char *fmt, ...) AML_PRINTF(2, 3);
void aml_vlog(int level, const char *prefix, const char *fmt, va_list ap);

#define aml_err(...) aml_log(AML_LOG_ERROR, __VA_ARGS__)
#define aml_warn(...) aml_log(AML_LOG_WARN, __VA_ARGS__)
#define aml_info(...) aml_log(AML_LOG_INFO, __VA_ARGS__)
#define aml_debug(...) aml_log(AML_LOG_DEBUG, __VA_ARGS__)

#endif
