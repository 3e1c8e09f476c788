/*
 * check_taskutil.h — helpers shared by the task tests (check_task.c,
 * check_submission.c, check_grade.c): paths of the fixture task folders,
 * writing files into a temporary task, copying a fixture, and running a
 * sub-command with its stdout and stderr captured.  Header-only: each
 * test program includes it once.
 */
#ifndef AML_CHECK_TASKUTIL_H
#define AML_CHECK_TASKUTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mock_host.h"
#include "util.h"

/* The path of fixture task folder name (static buffer, one at a time). */
static inline const char *
tu_fixture(const char *name)
{
	static char path[1024];

	snprintf(path, sizeof path, "%s/tests/data/tasks/%s", SRCDIR, name);
	return path;
}

/* Write text to dir/rel, creating folders on the way. */
static inline void
tu_write(const char *dir, const char *rel, const char *text)
{
	char err[AML_ERRLEN] = "";
	char *path = aml_path_join(dir, rel), *slash;

	ck_assert_ptr_nonnull(path);
	slash = strrchr(path, '/');
	*slash = '\0';
	ck_assert_msg(aml_mkdirs(path, err, sizeof err) == AML_OK, "%s", err);
	*slash = '/';
	ck_assert_msg(aml_write_file(path, text, strlen(text), err, sizeof err) == AML_OK,
		      "%s", err);
	free(path);
}

/* A copy of fixture name inside the temporary folder tmp; returns the
 * copy's path (transferred). */
static inline char *
tu_copy_fixture(const char *tmp, const char *name)
{
	char cmd[4096];
	char *dst = aml_path_join(tmp, name);

	ck_assert_ptr_nonnull(dst);
	snprintf(cmd, sizeof cmd, "cp -R '%s' '%s'", tu_fixture(name), dst);
	ck_assert_msg(system(cmd) == 0, "%s failed", cmd);
	return dst;
}

/* Read a whole file (transferred). */
static inline char *
tu_slurp(const char *path)
{
	char err[AML_ERRLEN] = "";
	char *text = NULL;

	ck_assert_msg(aml_read_file(path, 0, &text, NULL, err, sizeof err) == AML_OK, "%s", err);
	return text;
}

typedef int (*tu_cmd_fn)(int argc, char **argv);

/* Run fn(argc, argv) with stdout and stderr sent to files; their text
 * goes to *out and *errout (transferred).  Returns fn's exit status. */
static inline int
tu_capture(tu_cmd_fn fn, int argc, char **argv, char **out, char **errout)
{
	char *tmp = aml_test_tmpdir();
	char *po = aml_path_join(tmp, "out"), *pe = aml_path_join(tmp, "err");
	FILE *fo, *fe;
	int so, se, status;

	fflush(stdout);
	fflush(stderr);
	fo = fopen(po, "w");
	fe = fopen(pe, "w");
	ck_assert(fo != NULL && fe != NULL);
	so = dup(1);
	se = dup(2);
	ck_assert(so >= 0 && se >= 0);
	ck_assert(dup2(fileno(fo), 1) >= 0 && dup2(fileno(fe), 2) >= 0);
	status = fn(argc, argv);
	fflush(stdout);
	fflush(stderr);
	dup2(so, 1);
	dup2(se, 2);
	close(so);
	close(se);
	fclose(fo);
	fclose(fe);
	*out = tu_slurp(po);
	*errout = tu_slurp(pe);
	free(po);
	free(pe);
	aml_test_rmtree(tmp);
	free(tmp);
	return status;
}

#endif
