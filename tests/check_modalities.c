/*
 * check_modalities.c — offline runs (kbsynth, the real executor, real
 * Python) on the bundled text, time-series and image tasks: each gives a
 * valid submission built from its modality's knowledge pack, and the
 * submission, graded on the private answers, beats the sample submission
 * (a constant) and a bar well past the naive baseline of
 * scripts/make-thresholds.py (reviews: AUC 0.5; ridership: RMSE 7.88 for
 * the train mean; digit_images: accuracy 0.10).
 */
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "grade.h"
#include "run.h"
#include "task.h"
#include "mock_host.h"
#include "util.h"

static const struct {
	const char *task;
	const char *entries[3]; /* pack entries the best script must use */
	double bar;             /* the test score must beat this */
} cases[] = {
	{"reviews", {"text.tfidf", NULL}, 0.80},
	{"ridership", {"timeseries.calendar", "timeseries.time_split", NULL}, 4.0},
	{"digit_images", {"image.load_files", NULL}, 0.90},
};

static char *tmpdir;

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
}

/* The grade of file path (valid). */
static double
grade(const aml_task_info *t, const char *path, aml_grade_result *g)
{
	char err[AML_ERRLEN] = "";

	ck_assert_msg(aml_grade(t, path, g, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(g->valid, "%s: %s", path, g->reason);
	return g->score;
}

static int
beats(const aml_grade_result *g, double score, double other)
{
	return g->higher_is_better ? score > other : score < other;
}

START_TEST(test_offline_modality)
{
	const char *kv[] = {"search.num_drafts=2", "search.max_nodes=2", "search.workers=2",
			    "exec.timeout_s=600", "provider.kbsynth.n_folds=3",
			    "log.level=warning", "run.name=r", NULL};
	char err[AML_ERRLEN] = "", arg[4200], task_dir[4200], *path, *code;
	aml_config *cfg = NULL;
	aml_run_result res;
	aml_task_info *t = NULL;
	aml_grade_result g;
	double score, sample;
	size_t i, len;

	snprintf(task_dir, sizeof task_dir, "%s/examples/tasks/%s", BUILDDIR, cases[_i].task);
	ck_assert_int_eq(aml_config_new(&cfg, err, sizeof err), AML_OK);
	snprintf(arg, sizeof arg, "run.dir=%s", tmpdir);
	ck_assert_int_eq(aml_config_set_arg(cfg, arg, err, sizeof err), AML_OK);
	for (i = 0; kv[i]; i++)
		ck_assert_msg(aml_config_set_arg(cfg, kv[i], err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_run(cfg, task_dir, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(res.has_best, "%s: no valid node", cases[_i].task);
	/* the best script was composed from the modality's pack */
	path = aml_path_join(res.run_dir, "best_solution.py");
	ck_assert_int_eq(aml_read_file(path, 0, &code, &len, err, sizeof err), AML_OK);
	for (i = 0; i < AML_ARRAY_LEN(cases[_i].entries) && cases[_i].entries[i]; i++)
		ck_assert_msg(strstr(code, cases[_i].entries[i]) != NULL,
			      "%s: the best script does not use %s", cases[_i].task,
			      cases[_i].entries[i]);
	free(code);
	free(path);
	/* graded on the private answers, it beats the sample and the bar */
	ck_assert_int_eq(aml_task_load(task_dir, &t, err, sizeof err), AML_OK);
	path = aml_path_join(res.run_dir, "submission.csv");
	score = grade(t, path, &g);
	free(path);
	path = aml_path_join(task_dir, "public/sample_submission.csv");
	sample = grade(t, path, &g);
	free(path);
	ck_assert_msg(beats(&g, score, sample) && beats(&g, score, cases[_i].bar),
		      "%s: %s %.6f does not beat the sample's %.6f and %.6f", cases[_i].task,
		      g.metric, score, sample, cases[_i].bar);
	aml_task_free(t);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("modalities");
	TCase *tc = tcase_create("modalities");

	tcase_set_timeout(tc, 1200);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_loop_test(tc, test_offline_modality, 0, (int)AML_ARRAY_LEN(cases));
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
