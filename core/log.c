/*
 * log.c — see log.h.  Thread-safe: one mutex around each line, and around
 * the status line's clear-print-redraw.
 */
#include "config.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <time.h>

#include "log.h"

static int log_level = AML_LOG_INFO;
static FILE *log_file;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char status_line[1024];   /* shown below the log; "" when none */

/* Back to the start of the terminal's line, and erase it. */
#define CLEAR_LINE "\r\033[K"

static const char *const level_names[] = {"error", "warning", "info", "debug"};

void
aml_log_set_level(int level)
{
	log_level = level;
}

int
aml_log_get_level(void)
{
	return log_level;
}

int
aml_log_open_file(const char *path)
{
	FILE *f = fopen(path, "a");

	if (f == NULL)
		return AML_EIO;
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = f;
	pthread_mutex_unlock(&log_lock);
	return AML_OK;
}

void
aml_log_close_file(void)
{
	pthread_mutex_lock(&log_lock);
	if (log_file)
		fclose(log_file);
	log_file = NULL;
	pthread_mutex_unlock(&log_lock);
}

void
aml_vlog(int level, const char *prefix, const char *fmt, va_list ap)
{
	char msg[2048];
	const char *lname;

	if (level < AML_LOG_ERROR)
		level = AML_LOG_ERROR;
	if (level > AML_LOG_DEBUG)
		level = AML_LOG_DEBUG;
	lname = level_names[level];
	vsnprintf(msg, sizeof msg, fmt, ap);
	pthread_mutex_lock(&log_lock);
	if (level <= log_level) {
		if (status_line[0])
			fputs(CLEAR_LINE, stderr);
		if (level <= AML_LOG_WARN)
			fprintf(stderr, "automlgen: %s: %s%s%s\n", lname,
				prefix ? prefix : "", prefix ? ": " : "", msg);
		else
			fprintf(stderr, "%s%s%s\n", prefix ? prefix : "",
				prefix ? ": " : "", msg);
		if (status_line[0]) {
			fputs(status_line, stderr);
			fflush(stderr);
		}
	}
	if (log_file) {
		char ts[32];
		time_t now = time(NULL);
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(log_file, "%s %s %s%s%s\n", ts, lname,
			prefix ? prefix : "", prefix ? ": " : "", msg);
		fflush(log_file);
	}
	pthread_mutex_unlock(&log_lock);
}

void
aml_log_status(const char *line)
{
	pthread_mutex_lock(&log_lock);
	if (line && line[0]) {
		snprintf(status_line, sizeof status_line, "%s", line);
		fprintf(stderr, CLEAR_LINE "%s", status_line);
	} else if (status_line[0]) {
		status_line[0] = '\0';
		fputs(CLEAR_LINE, stderr);
	}
	fflush(stderr);
	pthread_mutex_unlock(&log_lock);
}

void
aml_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	aml_vlog(level, NULL, fmt, ap);
	va_end(ap);
}
