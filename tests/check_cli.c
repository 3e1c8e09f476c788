/*
 * check_cli.c — the automlgen program as a user meets it: exit codes, one
 * clear line on bad input, and a whole offline run graded by
 * `automlgen grade`.
 */
#include "config.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mock_host.h"
#include "util.h"

#define BIN BUILDDIR "/automlgen"
#define TASKS BUILDDIR "/examples/tasks"

extern char **environ;

static char *tmpdir;
static char *out_text, *err_text;

static void
setup(void)
{
	tmpdir = aml_test_tmpdir();
}

static void
teardown(void)
{
	aml_test_rmtree(tmpdir);
	AML_FREE(tmpdir);
	AML_FREE(out_text);
	AML_FREE(err_text);
}

/* Run the program with args (NULL-terminated); stdout and stderr are kept
 * in out_text and err_text.  Returns the exit status. */
static int
cli(const char *first, ...)
{
	const char *argv[32];
	char *outp = aml_path_join(tmpdir, "out.txt"), *errp = aml_path_join(tmpdir, "err.txt");
	posix_spawn_file_actions_t fa;
	va_list ap;
	pid_t pid;
	int n = 0, st;

	argv[n++] = BIN;
	va_start(ap, first);
	for (const char *a = first; a && n < 31; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	argv[n] = NULL;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	posix_spawn_file_actions_addchdir_np(&fa, tmpdir);
	ck_assert_int_eq(posix_spawn(&pid, BIN, &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	free(out_text);
	free(err_text);
	ck_assert_int_eq(aml_read_file(outp, 0, &out_text, NULL, NULL, 0), AML_OK);
	ck_assert_int_eq(aml_read_file(errp, 0, &err_text, NULL, NULL, 0), AML_OK);
	free(outp);
	free(errp);
	ck_assert_msg(WIFEXITED(st), "automlgen died by a signal; stderr: %s", err_text);
	return WEXITSTATUS(st);
}

/* stderr is exactly one line containing part */
static void
one_line(const char *part)
{
	size_t len = strlen(err_text);

	ck_assert_msg(strstr(err_text, part) != NULL, "stderr '%s' lacks '%s'", err_text, part);
	ck_assert_msg(len > 0 && err_text[len - 1] == '\n' && strchr(err_text, '\n') == err_text + len - 1,
		      "stderr is not one line: '%s'", err_text);
}

START_TEST(test_version_help)
{
	ck_assert_int_eq(cli("--version", NULL), 0);
	ck_assert(strstr(out_text, "automlgen " PACKAGE_VERSION " (plugin ABI 1.1)") != NULL);
	ck_assert_int_eq(cli("--help", NULL), 0);
	ck_assert(strstr(out_text, "run TASK_DIR") != NULL);
	ck_assert_int_eq(cli(NULL), 2);
	ck_assert_int_eq(cli("frobnicate", NULL), 2);
	one_line("unknown command 'frobnicate'");
	ck_assert_int_eq(cli("run", NULL), 2);
	ck_assert(strstr(err_text, "usage: automlgen run TASK_DIR") != NULL);
	ck_assert_int_eq(cli("run", TASKS "/iris", "--bogus", NULL), 2);
	one_line("unknown option '--bogus'");
}
END_TEST

START_TEST(test_bad_inputs)
{
	char *bad = aml_path_join(tmpdir, "bad.yaml"), *nosample;
	char err[AML_ERRLEN];

	ck_assert_int_eq(aml_write_file(bad, "search:\n  max_nodes: [1\n", 25, err, sizeof err), AML_OK);
	ck_assert_int_eq(cli("run", "/nonexistent/task", NULL), 2);
	one_line("/nonexistent/task");
	ck_assert_int_eq(cli("run", TASKS "/iris", "--config", bad, NULL), 2);
	one_line("bad.yaml:");
	ck_assert_int_eq(cli("run", TASKS "/iris", "-o", "provider=nope", NULL), 2);
	one_line("no provider plugin named 'nope'");
	ck_assert_int_eq(cli("run", TASKS "/iris", "-o", "search.max_nodez=1", NULL), 2);
	one_line("unknown configuration key 'search.max_nodez'");
	/* a task folder without sample_submission.csv */
	nosample = aml_path_join(tmpdir, "nosample");
	ck_assert_int_eq(aml_mkdirs(nosample, err, sizeof err), AML_OK);
	ck_assert_int_eq(cli("run", nosample, NULL), 2);
	one_line("sample_submission.csv");
	/* a missing submission is an invalid one (exit 1), said in one line */
	ck_assert_int_eq(cli("grade", TASKS "/iris", "/nonexistent.csv", NULL), 1);
	ck_assert_msg(strstr(out_text, "/nonexistent.csv") != NULL || strstr(err_text, "/nonexistent.csv") != NULL,
		      "%s%s", out_text, err_text);
	free(bad);
	free(nosample);
}
END_TEST

START_TEST(test_plugins_and_config)
{
	json_object *o;

	ck_assert_int_eq(cli("plugins", NULL), 0);
	ck_assert(strstr(out_text, "provider  kbsynth") != NULL);
	ck_assert(strstr(out_text, "executor  local") != NULL);
	ck_assert(strstr(out_text, "operator  draft") != NULL);
	ck_assert(strstr(out_text, "kb        tabular") != NULL);
	ck_assert_int_eq(cli("plugins", "--json", NULL), 0);
	o = json_tokener_parse(out_text);
	ck_assert(o && json_object_is_type(o, json_type_array));
	ck_assert_uint_ge(json_object_array_length(o), 4);
	json_object_put(o);
	ck_assert_int_eq(cli("config", "-o", "search.max_nodes=3", NULL), 0);
	ck_assert(strstr(out_text, "search.max_nodes: 3  # -o\n") != NULL);
	ck_assert(strstr(out_text, "provider: kbsynth  # default\n") != NULL);
	ck_assert_int_eq(cli("inspect", TASKS "/breast_cancer", "--json", NULL), 0);
	o = json_tokener_parse(out_text);
	ck_assert_ptr_nonnull(o);
	ck_assert(strstr(out_text, "roc_auc") != NULL);
	json_object_put(o);
}
END_TEST

/* The README's promise: a run ends with a submission `grade` calls valid. */
START_TEST(test_run_then_grade)
{
	char sub[4200], rundir[4200];

	snprintf(rundir, sizeof rundir, "run.dir=%s/runs", tmpdir);
	ck_assert_int_eq(cli("run", TASKS "/breast_cancer", "-o", rundir, "-o", "run.name=bc",
			     "-o", "search.num_drafts=2", "-o", "search.max_nodes=4", "-q", NULL), 0);
	ck_assert_msg(strstr(out_text, "best validation score: ") != NULL, "%s", out_text);
	snprintf(sub, sizeof sub, "%s/runs/bc/submission.csv", tmpdir);
	ck_assert_msg(strstr(out_text, sub) != NULL, "%s", out_text);
	ck_assert_int_eq(cli("grade", TASKS "/breast_cancer", sub, NULL), 0);
	ck_assert_msg(strstr(out_text, "valid submission") != NULL, "%s", out_text);
	ck_assert(strstr(out_text, "roc_auc = ") != NULL);
	/* the same run name again is refused, not overwritten */
	ck_assert_int_eq(cli("run", TASKS "/breast_cancer", "-o", rundir, "-o", "run.name=bc", "-q", NULL), 2);
	one_line("already exists");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("cli");
	TCase *tc = tcase_create("cli");

	tcase_set_timeout(tc, 600);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_version_help);
	tcase_add_test(tc, test_bad_inputs);
	tcase_add_test(tc, test_plugins_and_config);
	tcase_add_test(tc, test_run_then_grade);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
