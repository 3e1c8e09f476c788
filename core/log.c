/*
 * log.c — see log.h.  Thread-safe: one mutex around each line.
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
		if (level <= AML_LOG_WARN)
			fprintf(stderr, "automlgen: %s: %s%s%s\n", lname,
				prefix ? prefix : "", prefix ? ": " : "", msg);
		else
			fprintf(stderr, "%s%s%s\n", prefix ? prefix : "",
				prefix ? ": " : "", msg);
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
aml_log(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	aml_vlog(level, NULL, fmt, ap);
	va_end(ap);
}
