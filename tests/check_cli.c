/*
 * check_cli.c — the automlgen program as a user meets it: exit codes, one
 * clear line on bad input, a whole offline run graded by `automlgen
 * grade`, and `automlgen kb` over the packs a run would load.
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
	unsetenv("AUTOMLGEN_KB_PATH");
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
	ck_assert(strstr(out_text, "automlgen " PACKAGE_VERSION " (plugin ABI 1.3)") != NULL);
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

/* The line of out_text holding needle (transferred); fails when none. */
static char *
out_line(const char *needle)
{
	const char *p = strstr(out_text, needle), *s, *e;

	ck_assert_msg(p != NULL, "no line with '%s' in:\n%s", needle, out_text);
	for (s = p; s > out_text && s[-1] != '\n'; s--)
		;
	e = strchr(p, '\n');
	return strndup(s, e ? (size_t)(e - s) : strlen(s));
}

static size_t
n_lines(const char *text)
{
	size_t n = 0;

	for (; *text; text++)
		n += *text == '\n';
	return n;
}

START_TEST(test_kb_list_show_search)
{
	char *line, id[256], level[64];
	const char *p;
	json_object *o, *first, *v;

	/* list: one line per entry, id, level, pack, title */
	ck_assert_int_eq(cli("kb", "list", "--all", NULL), 0);
	line = out_line("tabular.xgboost ");
	ck_assert_int_eq(sscanf(line, "%255s %63s", id, level), 2);
	ck_assert_str_eq(id, "tabular.xgboost");
	ck_assert_str_eq(level, "model");
	ck_assert_msg(strstr(line, " tabular ") && strstr(line, "XGBoost gradient boosted trees"),
		      "%s", line);
	free(line);
	ck_assert_msg(err_text[0] == '\0', "%s", err_text);
	ck_assert_int_eq(cli("kb", "list", "--all", "--level", "data", NULL), 0);
	ck_assert_uint_ge(n_lines(out_text), 4);
	for (p = out_text; *p; p = strchr(p, '\n') + 1) {
		ck_assert_int_eq(sscanf(p, "%255s %63s", id, level), 2);
		ck_assert_msg(strcmp(level, "data") == 0, "%s is %s", id, level);
	}
	ck_assert_int_eq(cli("kb", "list", "--level", "bogus", NULL), 2);
	one_line("unknown level 'bogus'");
	/* show: every field */
	ck_assert_int_eq(cli("kb", "show", "tabular.ridge", "--all", NULL), 0);
	for (size_t i = 0; i < 12; i++) {
		static const char *const want[] = {
			"id:          tabular.ridge\n", "title:       Ridge regression\n",
			"level:       model\n", "pack:        tabular\n", "entries/ridge.yaml:1\n",
			"modalities:  tabular", "task types:  regression, multi_regression\n",
			"modules:     sklearn\n", "tags:        linear", "guidance:\n  Least squares",
			"space:\n  alpha: log_float in [0.001, 1000.0], default 1.0\n",
			"code:\n  MODEL_NEEDS_SCALING = True\n",
		};

		ck_assert_msg(strstr(out_text, want[i]) != NULL, "no '%s' in:\n%s", want[i], out_text);
	}
	ck_assert(strstr(out_text, "limits:") && strstr(out_text, "outputs:     value\n"));
	ck_assert_int_eq(cli("kb", "show", "tabular.ridge", "--all", "--json", NULL), 0);
	o = json_tokener_parse(out_text);
	ck_assert_ptr_nonnull(o);
	ck_assert(json_object_object_get_ex(o, "source", &v));
	ck_assert(strstr(json_object_get_string(v), "ridge.yaml:1") != NULL);
	json_object_put(o);
	/* an unknown id: exit 2, one line */
	ck_assert_int_eq(cli("kb", "show", "tabular.nope", "--all", NULL), 2);
	one_line("automlgen kb show: no entry 'tabular.nope'");
	ck_assert_str_eq(out_text, "");
	/* search: ranked, with the BM25 score */
	ck_assert_int_eq(cli("kb", "search", "gradient", "boosting", "trees", "-k", "3", "--all",
			     NULL), 0);
	ck_assert_uint_eq(n_lines(out_text), 4);
	ck_assert_msg(strncmp(out_text, "RANK     BM25  ID", 17) == 0, "%s", out_text);
	p = strchr(out_text, '\n') + 1;
	ck_assert_msg(strncmp(p, "   1  ", 6) == 0 && (strstr(p, "tabular.hist_gradient_boosting")
						      < strchr(p, '\n')
						      || strstr(p, "tabular.xgboost") < strchr(p, '\n')),
		      "%s", out_text);
	ck_assert(strstr(out_text, "tabular.ridge") == NULL);
	ck_assert_int_eq(cli("kb", "search", "linear", "regression", "baseline", "-k", "0",
			     "--all", "--json", NULL), 0);
	o = json_tokener_parse(out_text);
	ck_assert(o && json_object_is_type(o, json_type_array));
	first = json_object_array_get_idx(o, 0);
	ck_assert(json_object_object_get_ex(first, "bm25", &v) && json_object_get_double(v) > 0);
	ck_assert(json_object_object_get_ex(first, "ranker", &v));
	ck_assert_str_eq(json_object_get_string(v), "bm25");
	json_object_put(o);
	ck_assert(strstr(out_text, "\"tabular.ridge\"") != NULL);
	/* --task: only what fits a binary task (ridge is for regression) */
	ck_assert_int_eq(cli("kb", "search", "linear", "regression", "baseline", "-k", "0",
			     "--all", "--task", TASKS "/breast_cancer", NULL), 0);
	ck_assert(strstr(out_text, "tabular.logistic_regression") != NULL);
	ck_assert_msg(strstr(out_text, "tabular.ridge") == NULL, "%s", out_text);
	ck_assert_int_eq(cli("kb", "search", "x", "--task", "/nonexistent/task", "--all", NULL), 2);
	one_line("/nonexistent/task");
	/* usage */
	ck_assert_int_eq(cli("kb", NULL), 2);
	ck_assert_int_eq(cli("kb", "frobnicate", NULL), 2);
	one_line("unknown sub-command 'frobnicate'");
	ck_assert_int_eq(cli("kb", "search", "--all", NULL), 2);
	one_line("give a query");
	ck_assert_int_eq(cli("kb", "search", "x", "-k", "many", NULL), 2);
	one_line("-k must be a non-negative integer");
	ck_assert_int_eq(cli("kb", "--help", NULL), 0);
	ck_assert(strstr(out_text, "AUTOMLGEN_KB_PATH") != NULL);
}
END_TEST

static void
write_pack(const char *dir, const char *name, const char *kind, const char *id)
{
	char err[AML_ERRLEN], text[1024], *edir = aml_path_join(dir, "entries");
	char *m = aml_path_join(dir, "manifest.yaml"), *e = aml_path_join(edir, "one.yaml");

	ck_assert_int_eq(aml_mkdirs(edir, err, sizeof err), AML_OK);
	snprintf(text, sizeof text, "name: %s\nkind: %s\nversion: \"1.0.0\"\nabi: \"1.0\"\n", name, kind);
	ck_assert_int_eq(aml_write_file(m, text, strlen(text), err, sizeof err), AML_OK);
	snprintf(text, sizeof text, "id: %s\nlevel: model\ntitle: Zorblax frobnicator\n"
		 "guidance: frobnicates the zorblax\n", id);
	ck_assert_int_eq(aml_write_file(e, text, strlen(text), err, sizeof err), AML_OK);
	free(edir);
	free(m);
	free(e);
}

/* Without --all, the entries are checked as in a run: with the executor's
 * interpreter. */
START_TEST(test_kb_module_check)
{
	char *pack = aml_path_join(tmpdir, "needs"), *e = aml_path_join(pack, "entries/two.yaml");
	static const char two[] = "id: needs.missing\nlevel: model\ntitle: Needs a module\n"
		"modules: [no_such_module_xyz]\n";
	char err[AML_ERRLEN];

	write_pack(pack, "needs", "kb", "needs.present");
	ck_assert_int_eq(aml_write_file(e, two, strlen(two), err, sizeof err), AML_OK);
	ck_assert_int_eq(setenv("AUTOMLGEN_KB_PATH", pack, 1), 0);
	ck_assert_int_eq(cli("kb", "list", "-o", "executor.python=/nonexistent/python3", NULL), 1);
	one_line("/nonexistent/python3");
	ck_assert(strstr(err_text, "--all skips the module check") != NULL);
	ck_assert_int_eq(cli("kb", "list", NULL), 0);
	ck_assert_msg(strstr(out_text, "needs.present") && !strstr(out_text, "needs.missing"),
		      "%s", out_text);
	ck_assert_int_eq(cli("kb", "list", "-v", NULL), 0);
	ck_assert_msg(strstr(err_text, "kb: skipping needs.missing: module no_such_module_xyz "
			     "not importable"), "%s", err_text);
	ck_assert_int_eq(cli("kb", "list", "--all", NULL), 0);
	ck_assert(strstr(out_text, "needs.present") && strstr(out_text, "needs.missing"));
	unsetenv("AUTOMLGEN_KB_PATH");
	free(pack);
	free(e);
}
END_TEST

/* A user's packs, used without recompiling: AUTOMLGEN_KB_PATH, kb.path,
 * a broken one beside them, and a pack with its own retriever. */
START_TEST(test_kb_user_packs)
{
	char *packs = aml_path_join(tmpdir, "packs"), *user = aml_path_join(packs, "userpack");
	char *broken = aml_path_join(packs, "broken"), *other = aml_path_join(tmpdir, "other");
	char opt[4200], *line;

	write_pack(user, "userpack", "kb", "user.magic");
	write_pack(broken, "broken", "provider", "broken.one");
	write_pack(other, "otherpack", "kb", "other.magic");
	ck_assert_int_eq(setenv("AUTOMLGEN_KB_PATH", packs, 1), 0);
	ck_assert_int_eq(cli("kb", "list", "--all", NULL), 0);
	ck_assert(strstr(out_text, "user.magic ") != NULL);
	ck_assert(strstr(out_text, "tabular.xgboost ") != NULL);
	ck_assert(strstr(out_text, "broken.one") == NULL);
	one_line("knowledge pack skipped: ");
	ck_assert_msg(strstr(err_text, "broken/manifest.yaml:2: 'kind' must be kb") != NULL,
		      "%s", err_text);
	ck_assert_int_eq(cli("kb", "show", "user.magic", "--all", NULL), 0);
	line = out_line("source:");
	ck_assert_msg(strstr(line, "/packs/userpack/entries/one.yaml:1") != NULL, "%s", line);
	free(line);
	ck_assert_int_eq(cli("kb", "search", "zorblax", "-k", "1", "--all", NULL), 0);
	ck_assert_msg(strstr(out_text, "   1  ") && strstr(out_text, "user.magic"), "%s", out_text);
	/* kb.path, after the environment */
	snprintf(opt, sizeof opt, "kb.path=%s", other);
	ck_assert_int_eq(cli("kb", "search", "zorblax", "-k", "2", "--all", "-o", opt, NULL), 0);
	ck_assert_msg(strstr(out_text, "user.magic") < strstr(out_text, "other.magic")
		      && strstr(out_text, "user.magic"), "%s", out_text);
	/* a pack ranked by its own retriever (tests/plugins/kb_retriever.c) */
	ck_assert_int_eq(setenv("AUTOMLGEN_KB_PATH", SRCDIR "/tests/data/kb/tpk-reverse", 1), 0);
	ck_assert_int_eq(cli("kb", "search", "alpha", "--all", "--level", "model", "-k", "0", NULL), 0);
	ck_assert_msg(err_text[0] == '\0', "%s", err_text);
	ck_assert_msg(strstr(out_text, "rev.d") && strstr(out_text, "rev.d") < strstr(out_text, "rev.b")
		      && strstr(out_text, "rev.b") < strstr(out_text, "rev.a"), "%s", out_text);
	line = out_line("rev.d");
	ck_assert_msg(strstr(line, "[0.01639, tpk-reverse]") != NULL, "%s", line);
	free(line);
	unsetenv("AUTOMLGEN_KB_PATH");
	free(packs);
	free(user);
	free(broken);
	free(other);
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
	tcase_add_test(tc, test_kb_list_show_search);
	tcase_add_test(tc, test_kb_module_check);
	tcase_add_test(tc, test_kb_user_packs);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
