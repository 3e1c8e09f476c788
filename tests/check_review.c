/*
 * check_review.c — the rule-based review of valid nodes (core/review.c):
 * each rule fires on the case it is for and stays quiet on an honest
 * result, on fixture tasks with hand-written submissions; and a whole run
 * whose only valid node is flagged keeps no best unless
 * review.keep_flagged is set.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_taskutil.h"
#include "conf.h"
#include "review.h"
#include "run.h"
#include "task.h"

static char *tmp;

static void
setup(void)
{
	tmp = aml_test_tmpdir();
}

static void
teardown(void)
{
	aml_test_rmtree(tmp);
	free(tmp);
}

static aml_review_opts
opts(void)
{
	aml_review_opts o = {1, 0, 0.95, 0.1};

	return o;
}

/* The flags of a node on task dir with this score, stdout and submission
 * text (NULL: no submission file), transferred. */
static char *
review(const char *dir, const aml_review_opts *o, double score, const char *out,
       const char *submission)
{
	aml_task_info *t = NULL;
	char err[AML_ERRLEN] = "", *flags = NULL, *path = NULL;

	ck_assert_msg(aml_task_load(dir, &t, err, sizeof err) == AML_OK, "%s", err);
	if (submission) {
		tu_write(tmp, "sub/submission.csv", submission);
		path = aml_path_join(tmp, "sub/submission.csv");
	}
	ck_assert_int_eq(aml_review_node(o, t, score, out, path, &flags), AML_OK);
	ck_assert_ptr_nonnull(flags);
	free(path);
	aml_task_free(t);
	return flags;
}

#define VARIED "id,species\nt000,setosa\nt001,versicolor\nt002,virginica\nt003,setosa\nt004,virginica\n"

static const struct {
	const char *fixture;
	double score;
	const char *out;
	const char *submission;
	const char *expect;    /* "" for no flag, else a part of the flags */
} cases[] = {
	/* honest: an ordinary score, varied predictions */
	{"strlabels", 0.8, "Final Validation Score: 0.8\n", VARIED, ""},
	/* perfect accuracy */
	{"strlabels", 1.0, NULL, VARIED, "perfect_score: accuracy 1 is the best possible"},
	/* a score accuracy cannot take */
	{"strlabels", 1.3, NULL, VARIED, "score_range: accuracy 1.3 is outside"},
	/* one label for every row */
	{"strlabels", 0.8, NULL, "id,species\nt000,setosa\nt001,setosa\nt002,setosa\n"
	 "t003,setosa\nt004,setosa\n", "constant: all 5 rows of the submission predict the same"},
	/* validation far better than training */
	{"strlabels", 0.95, "Final Training Score: 0.80\nFinal Validation Score: 0.95\n", VARIED,
	 "train_mismatch: validation accuracy 0.95 is clearly better than training 0.8"},
	/* ... but training better than validation is ordinary overfitting */
	{"strlabels", 0.8, "Final Training Score: 1.0\nFinal Validation Score: 0.8\n", VARIED, ""},
	/* an error metric printed negative (sklearn's neg_* scorers) */
	{"multireg", -0.31, NULL, "text_id,y1,y2\np0,3.1,2.0\np1,2.0,3.3\np2,2.2,3.0\n",
	 "(a neg_* scorer printed as is?)"},
	/* a zero error */
	{"multireg", 0.0, NULL, "text_id,y1,y2\np0,3.1,2.0\np1,2.0,3.3\np2,2.2,3.0\n",
	 "perfect_score: mcrmse 0"},
	/* an AUC below chance */
	{"binproba", 0.31, NULL, "id,target\n21,0.1\n22,0.9\n23,0.4\n24,0.3\n25,0.8\n26,0.2\n",
	 "worse than chance"},
	/* the sample's 0.5 everywhere: constant */
	{"binproba", 0.7, NULL, "id,target\n21,0.5\n22,0.5\n23,0.5\n24,0.5\n25,0.5\n26,0.5\n",
	 "constant: all 6 rows"},
};

START_TEST(test_rules)
{
	aml_review_opts o = opts();
	char *flags = review(tu_fixture(cases[_i].fixture), &o, cases[_i].score, cases[_i].out,
			     cases[_i].submission);

	if (cases[_i].expect[0] == '\0')
		ck_assert_msg(flags[0] == '\0', "unexpected flags: %s", flags);
	else
		ck_assert_msg(strstr(flags, cases[_i].expect) != NULL, "flags '%s' lack '%s'",
			      flags, cases[_i].expect);
	free(flags);
}
END_TEST

/* A copy of the sample is flagged when the sample is not constant
 * itself; several flags are joined with "; "; off means off. */
START_TEST(test_sample_copy_and_off)
{
	char *dir = tu_copy_fixture(tmp, "strlabels"), *flags, *sample;
	aml_review_opts o = opts();

	sample = aml_path_join(dir, "public/sample_submission.csv");
	ck_assert_int_eq(aml_write_file(sample, VARIED, strlen(VARIED), NULL, 0), AML_OK);
	flags = review(dir, &o, 0.8, NULL, VARIED);
	ck_assert_msg(strstr(flags, "sample_copy: 5 of 5 rows equal sample_submission.csv"), "%s",
		      flags);
	free(flags);
	flags = review(dir, &o, 1.0, NULL, VARIED);
	ck_assert_msg(strstr(flags, "perfect_score") && strstr(flags, "; sample_copy"), "%s", flags);
	free(flags);
	o.enabled = 0;
	flags = review(dir, &o, 1.0, NULL, VARIED);
	ck_assert_str_eq(flags, "");
	free(flags);
	free(sample);
	free(dir);
}
END_TEST

/* The feedback role's verdicts on a node's flags. */
START_TEST(test_apply_verdict)
{
	char *flags = strdup("perfect_score: accuracy 1"), *note = NULL;

	ck_assert_int_eq(aml_review_apply_verdict("clear: iris is easy", &flags, &note), AML_OK);
	ck_assert_str_eq(flags, "");
	ck_assert_str_eq(note, "cleared by the LLM review: iris is easy (was: perfect_score: "
			 "accuracy 1)");
	free(note);
	ck_assert_int_eq(aml_review_apply_verdict("suspicious: fit on the test rows", &flags, &note),
			 AML_OK);
	ck_assert_str_eq(flags, "llm: fit on the test rows");
	ck_assert_str_eq(note, "flagged by the LLM review: fit on the test rows");
	free(note);
	ck_assert_int_eq(aml_review_apply_verdict("maybe", &flags, &note), AML_OK);
	ck_assert_str_eq(flags, "llm: fit on the test rows");
	ck_assert_str_eq(note, "the LLM review gave no verdict: maybe");
	free(note);
	free(flags);
}
END_TEST

/* A whole run with a script that claims a perfect score: flagged, so no
 * best and no submission; with review.keep_flagged it is the best. */
START_TEST(test_run_keeps_no_flagged_best)
{
	static const char *const answer =
		"provider.tp-good.answer=```python\n"
		"import csv, os\n"
		"os.makedirs('submission', exist_ok=True)\n"
		"rows = list(csv.reader(open('input/test.csv')))[1:]\n"
		"with open('submission/submission.csv', 'w') as f:\n"
		"    f.write('id,species\\n')\n"
		"    for i, r in enumerate(rows):\n"
		"        f.write('%s,%s\\n' % (r[0], ['setosa', 'versicolor', 'virginica'][i % 3]))\n"
		"print('Final Validation Score: 1.0')\n```";
	char run_dir[4200], plugins[8400], cassette[4200], *cas;
	const char *kv[] = {"provider=tp-good", answer, "search.num_drafts=1", "search.policy=drafts",
			    "log.level=error", run_dir, NULL, NULL, NULL, NULL};
	const char *saved = getenv("AUTOMLGEN_PLUGIN_PATH");
	char err[AML_ERRLEN] = "";
	aml_config *cfg = NULL;
	aml_run_result res;
	json_object *sum, *node;
	char *path;
	int keep;

	snprintf(plugins, sizeof plugins, "%s:%s/tests/data/plugins", saved ? saved : "", SRCDIR);
	setenv("AUTOMLGEN_PLUGIN_PATH", plugins, 1);
	snprintf(run_dir, sizeof run_dir, "run.dir=%s", tmp);
	/* the feedback role's verdicts, replayed: the first run asks none */
	tu_write(tmp, "review.jsonl",
		 "{\"role\": \"feedback\", \"operator\": \"review\", \"answer\": {\"text\": "
		 "\"Looking at it:\\n```json\\n{\\\"suspicious\\\": false, \\\"reason\\\": "
		 "\\\"iris classes separate cleanly\\\"}\\n```\"}}\n");
	cas = aml_path_join(tmp, "review.jsonl");
	snprintf(cassette, sizeof cassette, "feedback.cassette=%s", cas);
	free(cas);
	/* 0: flagged, no best; 1: keep_flagged; 2: the LLM review clears it */
	for (keep = 0; keep < 3; keep++) {
		kv[6] = keep == 1 ? "review.keep_flagged=true" : keep == 2 ? "review.llm=flagged" : NULL;
		kv[7] = keep == 2 ? "feedback=replay" : NULL;
		kv[8] = keep == 2 ? cassette : NULL;
		ck_assert_int_eq(aml_config_new(&cfg, err, sizeof err), AML_OK);
		for (size_t i = 0; kv[i]; i++)
			ck_assert_msg(aml_config_set_arg(cfg, kv[i], err, sizeof err) == AML_OK,
				      "%s", err);
		ck_assert_msg(aml_run(cfg, BUILDDIR "/examples/tasks/iris", &res, err, sizeof err)
			      == AML_OK, "%s", err);
		ck_assert_uint_eq(res.valid, 1);
		ck_assert_int_eq(res.has_best, keep > 0);
		path = aml_path_join(res.run_dir, "summary.json");
		sum = json_object_from_file(path);
		free(path);
		ck_assert_ptr_nonnull(sum);
		node = json_object_array_get_idx(json_object_object_get(sum, "nodes"), 0);
		if (keep < 2) {
			ck_assert_msg(strstr(json_object_get_string(json_object_object_get(node, "flags")),
					     "perfect_score"), "%s", json_object_to_json_string(node));
		} else {
			ck_assert_str_eq(json_object_get_string(json_object_object_get(node, "flags")), "");
			ck_assert_msg(strstr(json_object_get_string(json_object_object_get(node, "review")),
					     "cleared by the LLM review: iris classes separate cleanly "
					     "(was: perfect_score"), "%s", json_object_to_json_string(node));
			ck_assert_int_eq(json_object_get_int(json_object_object_get(json_object_object_get(
				json_object_object_get(json_object_object_get(sum, "llm"), "roles"),
				"feedback"), "calls")), 1);
		}
		ck_assert_msg(strstr(json_object_get_string(json_object_object_get(sum, "chosen")),
				     keep ? "the best validation score" : "did not flag"), "%s",
			      json_object_get_string(json_object_object_get(sum, "chosen")));
		json_object_put(sum);
		aml_run_result_free(&res);
		aml_config_free(cfg);
	}
	setenv("AUTOMLGEN_PLUGIN_PATH", saved ? saved : "", 1);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("review");
	TCase *tc = tcase_create("review");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 120);
	tcase_add_loop_test(tc, test_rules, 0, (int)AML_ARRAY_LEN(cases));
	tcase_add_test(tc, test_sample_copy_and_off);
	tcase_add_test(tc, test_apply_verdict);
	tcase_add_test(tc, test_run_keeps_no_flagged_best);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
