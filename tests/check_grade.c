/*
 * check_grade.c — grading end to end on the fixture tasks that carry
 * private answers, every way grading refuses, and the `grade` and
 * `inspect` sub-commands (exit status, text and JSON output).
 *
 * Expected scores were computed once, offline, with scikit-learn 1.2.1
 * under /usr/bin/python3; the call is in the comment next to each.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "check_taskutil.h"
#include "cli.h"
#include "grade.h"
#include "task.h"

#define TOL 1e-12

static const char *const cp_sub =
	"id,class_1,class_2,class_11\n"
	"200,.7,.2,.1\n201,.1,.1,.8\n202,.2,.6,.2\n203,.5,.25,.25\n";

/* Grade text as a submission of the task folder dir; *res filled.
 * Returns aml_grade's status. */
static int
grade_dir(const char *dir, const char *text, aml_grade_result *res, char *err)
{
	char *tmp = aml_test_tmpdir(), *path = aml_path_join(tmp, "submission.csv");
	aml_task_info *t = NULL;
	int rc;

	tu_write(tmp, "submission.csv", text);
	err[0] = '\0';
	ck_assert_msg(aml_task_load(dir, &t, err, AML_ERRLEN) == AML_OK, "%s", err);
	rc = aml_grade(t, path, res, err, AML_ERRLEN);
	/* res->metric borrows the task: compare it before the task goes */
	if (res->metric != NULL)
		ck_assert_str_eq(res->metric, aml_task_view(t)->metric);
	res->metric = NULL;
	aml_task_free(t);
	free(path);
	aml_test_rmtree(tmp);
	free(tmp);
	return rc;
}

static double
graded(const char *fixture, const char *text)
{
	char err[AML_ERRLEN];
	aml_grade_result res;

	ck_assert_msg(grade_dir(tu_fixture(fixture), text, &res, err) == AML_OK, "%s", err);
	ck_assert_msg(res.valid, "%s: invalid: %s", fixture, res.reason);
	ck_assert_str_eq(res.reason, "");
	return res.score;
}

START_TEST(test_scores)
{
	/* log_loss([1,11,2,1], P, labels=[1,2,11]) = 0.4459478248947195 */
	ck_assert_double_eq_tol(graded("classproba", cp_sub), 0.4459478248947195, TOL);
	/* roc_auc_score([1,0,0,1,0,1], [.8,.3,.6,.6,.1,.9]) = 0.9444444444444444;
	 * the rows come shuffled */
	ck_assert_double_eq_tol(graded("binproba", "id,target\n26,.9\n21,.8\n22,.3\n"
				       "23,.6\n24,.6\n25,.1\n"), 0.9444444444444444, TOL);
	/* 3 of 5 right */
	ck_assert_double_eq_tol(graded("strlabels", "id,species\nt000,setosa\nt001,virginica\n"
				       "t002,virginica\nt003,virginica\nt004,versicolor\n"), 0.6, TOL);
	/* answers.csv lists p2, p0, p1: rows meet by id.  mean of the column
	 * RMSEs of y1 [2.5,4,3] vs [2.5,3,3] and y2 [3.5,3,2.5] vs [3,3,3]
	 * = 0.4927992798267444 */
	ck_assert_double_eq_tol(graded("multireg", "text_id,y2,y1\np0,3.0,2.5\np1,3.0,3.0\n"
				       "p2,3.0,3.0\n"), 0.4927992798267444, TOL);
	/* no id column: rows meet by position.
	 * sqrt(mean_squared_log_error([1e5,2e5,1.5e5,1.2e5],
	 *      [1.1e5,1.9e5,1.5e5,1e5])) = 0.1060134124533769 */
	ck_assert_double_eq_tol(graded("noid", "SalePrice\n110000\n190000\n150000\n100000\n"),
				0.1060134124533769, TOL);
}
END_TEST

START_TEST(test_result_fields)
{
	char err[AML_ERRLEN];
	aml_grade_result res;
	char *tmp = aml_test_tmpdir(), *path = aml_path_join(tmp, "s.csv");
	aml_task_info *t = NULL;

	tu_write(tmp, "s.csv", cp_sub);
	ck_assert_int_eq(aml_task_load(tu_fixture("classproba"), &t, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_grade(t, path, &res, err, sizeof err), AML_OK);
	ck_assert_int_eq(res.valid, 1);
	ck_assert_str_eq(res.metric, "log_loss");
	ck_assert_int_eq(res.higher_is_better, 0);
	aml_task_free(t);
	free(path);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_invalid)
{
	char err[AML_ERRLEN];
	aml_grade_result res;

	/* the submission's fault: judged, not valid */
	ck_assert_int_eq(grade_dir(tu_fixture("classproba"), "id,class_1\n200,1\n", &res, err),
			 AML_OK);
	ck_assert_int_eq(res.valid, 0);
	ck_assert(strstr(res.reason, "missing column(s) 'class_2', 'class_11'") != NULL);
	ck_assert_int_eq(grade_dir(tu_fixture("noid"), "SalePrice\n1\n-5\n3\n4\n", &res, err),
			 AML_OK);
	ck_assert_int_eq(res.valid, 0);
	ck_assert_msg(strstr(res.reason, "cannot score it: rmsle is undefined for negative"
			     " values; predicted row 2 is -5") != NULL, "%s", res.reason);
}
END_TEST

/* A copy of fixture name with private/answers.csv replaced by answers
 * (NULL: removed). */
static char *
with_answers(const char *tmp, const char *name, const char *answers)
{
	char *dir = tu_copy_fixture(tmp, name);

	if (answers != NULL) {
		tu_write(dir, "private/answers.csv", answers);
	} else {
		char *p = aml_path_join(dir, "private/answers.csv");

		ck_assert_int_eq(remove(p), 0);
		free(p);
	}
	return dir;
}

static const struct {
	const char *task;
	const char *answers;
	int status;
	const char *msg;
} task_errors[] = {
	{"strlabels", NULL, AML_ENOTFOUND, "no private/answers.csv in /tmp/aml-test-"},
	{"strlabels", "id,species\nt000,setosa\nt001,setosa\nt002,setosa\nt003,setosa\n",
	 AML_EFORMAT, "answers.csv has no row for the sample submission's id 't004'"},
	{"strlabels", "id,species\nt000,a\nt001,b\nt002,c\nt003,d\nt004,e\nt000,f\n",
	 AML_EFORMAT, "answers.csv: id 't000' appears twice (lines 2 and 7)"},
	{"strlabels", "key,species\nt000,a\n", AML_EFORMAT, "answers.csv has no id column 'id'"},
	{"strlabels", "id,kind\nt000,a\nt001,b\nt002,c\nt003,d\nt004,e\n",
	 AML_EFORMAT, "answers.csv has no column 'species' with the true labels"},
	{"strlabels", "id,species\nt000,a\nt001,\"b\nt002,c\n", AML_EFORMAT,
	 "answers.csv:3: quoted field never closes"},
	{"multireg", "text_id,y1,y2\np0,1,2\np1,x,2\np2,1,2\n", AML_EFORMAT,
	 "answers.csv: 'x' in column 'y1' at line 3 is not a number"},
	{"noid", "SalePrice\n1\n2\n", AML_EFORMAT,
	 "answers.csv has 2 rows but the sample submission has 4"},
	{"classproba", "id,label\n200,1\n201,1\n202,1\n203,1\n", AML_EFORMAT,
	 "answers.csv has neither a 'target' column with the true classes nor one-hot columns"},
};

START_TEST(test_task_errors)
{
	char err[AML_ERRLEN];
	aml_grade_result res;
	char *tmp = aml_test_tmpdir();
	char *dir = with_answers(tmp, task_errors[_i].task, task_errors[_i].answers);
	const char *sub = strcmp(task_errors[_i].task, "classproba") == 0 ? cp_sub
			  : strcmp(task_errors[_i].task, "multireg") == 0
			  ? "text_id,y1,y2\np0,1,1\np1,1,1\np2,1,1\n"
			  : strcmp(task_errors[_i].task, "noid") == 0 ? "SalePrice\n1\n2\n3\n4\n"
			  : "id,species\nt000,setosa\nt001,setosa\nt002,setosa\nt003,setosa\n"
			    "t004,setosa\n";
	int rc = grade_dir(dir, sub, &res, err);

	ck_assert_int_eq(rc, task_errors[_i].status);
	ck_assert_int_eq(res.valid, 0);
	ck_assert_msg(strstr(err, task_errors[_i].msg) != NULL, "'%s' lacks '%s'", err,
		      task_errors[_i].msg);
	free(dir);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_one_hot_answers)
{
	char err[AML_ERRLEN];
	aml_grade_result res;
	char *tmp = aml_test_tmpdir();
	char *dir = with_answers(tmp, "classproba", "id,class_1,class_2,class_11\n"
				 "203,1,0,0\n200,1,0,0\n201,0,0,1\n202,0,1,0\n");

	/* the same truth as one-hot columns: the same score as test_scores */
	ck_assert_int_eq(grade_dir(dir, cp_sub, &res, err), AML_OK);
	ck_assert_msg(res.valid, "%s", res.reason);
	ck_assert_double_eq_tol(res.score, 0.4459478248947195, TOL);
	free(dir);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The sub-commands.                                                   */

static int
run(tu_cmd_fn fn, char **out, char **errout, const char *a0, const char *a1,
    const char *a2, const char *a3, const char *a4)
{
	char *argv[6] = {(char *)a0, (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
	int argc = 0;

	while (argc < 5 && argv[argc] != NULL)
		argc++;
	return tu_capture(fn, argc, argv, out, errout);
}

static json_object *
field(json_object *o, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no '%s'", key);
	return v;
}

START_TEST(test_cmd_grade)
{
	char *tmp = aml_test_tmpdir(), *good = aml_path_join(tmp, "good.csv");
	char *badsub = aml_path_join(tmp, "bad.csv");
	char dir[1024], *out, *err;
	json_object *o;

	snprintf(dir, sizeof dir, "%s", tu_fixture("classproba"));
	tu_write(tmp, "good.csv", cp_sub);
	tu_write(tmp, "bad.csv", "id,class_1,class_2,class_11\n200,.7,.2,.1\n");

	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", dir, good, NULL, NULL), 0);
	ck_assert_msg(strstr(out, "valid submission\nlog_loss = 0.4459478249 (lower is better)\n")
		      != NULL, "%s", out);
	ck_assert_str_eq(err, "");
	free(out);
	free(err);

	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", "--json", dir, good, NULL), 0);
	o = json_tokener_parse(out);
	ck_assert_msg(o != NULL, "not JSON: %s", out);
	ck_assert(json_object_get_boolean(field(o, "valid")));
	ck_assert_str_eq(json_object_get_string(field(o, "metric")), "log_loss");
	ck_assert_double_eq_tol(json_object_get_double(field(o, "score")), 0.4459478248947195, 1e-9);
	ck_assert(!json_object_get_boolean(field(o, "higher_is_better")));
	ck_assert_ptr_null(field(o, "reason"));
	json_object_put(o);
	free(out);
	free(err);

	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", dir, badsub, NULL, NULL), 1);
	ck_assert_msg(strstr(out, "invalid submission: 1 rows, but the sample submission has 4\n")
		      != NULL, "%s", out);
	free(out);
	free(err);

	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", dir, badsub, "--json", NULL), 1);
	o = json_tokener_parse(out);
	ck_assert_msg(o != NULL, "not JSON: %s", out);
	ck_assert(!json_object_get_boolean(field(o, "valid")));
	ck_assert_ptr_null(field(o, "score"));
	ck_assert(strstr(json_object_get_string(field(o, "reason")), "1 rows") != NULL);
	json_object_put(o);
	free(out);
	free(err);

	/* a task without answers: exit 2, the reason on stderr (and in JSON) */
	snprintf(dir, sizeof dir, "%s", tu_fixture("publiconly"));
	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", dir, good, NULL, NULL), 2);
	ck_assert_msg(strstr(err, "automlgen grade: no private/answers.csv in ") != NULL, "%s", err);
	free(out);
	free(err);
	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", dir, good, "--json", NULL), 2);
	o = json_tokener_parse(out);
	ck_assert_msg(o != NULL, "not JSON: %s", out);
	ck_assert(!json_object_get_boolean(field(o, "valid")));
	ck_assert_ptr_null(field(o, "metric"));
	ck_assert(strstr(json_object_get_string(field(o, "reason")), "answers.csv") != NULL);
	json_object_put(o);
	free(out);
	free(err);

	/* usage */
	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", NULL, NULL, NULL, NULL), 2);
	ck_assert(strstr(err, "usage: automlgen grade TASK_DIR SUBMISSION.csv") != NULL);
	free(out);
	free(err);
	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", dir, good, "x", NULL), 2);
	ck_assert(strstr(err, "unexpected argument 'x'") != NULL);
	free(out);
	free(err);
	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", "--jsn", dir, good, NULL), 2);
	ck_assert(strstr(err, "unexpected argument '--jsn'") != NULL);
	free(out);
	free(err);
	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", "--help", NULL, NULL, NULL), 0);
	ck_assert(strstr(out, "usage: automlgen grade") != NULL);
	free(out);
	free(err);
	ck_assert_int_eq(run(aml_cmd_grade, &out, &err, "grade", "/nonexistent", good, NULL, NULL), 2);
	ck_assert(strstr(err, "automlgen grade: task folder '/nonexistent' does not exist") != NULL);
	free(out);
	free(err);

	free(good);
	free(badsub);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_cmd_inspect)
{
	char dir[1024], *out, *err;
	json_object *o;

	snprintf(dir, sizeof dir, "%s", tu_fixture("multireg"));
	ck_assert_int_eq(run(aml_cmd_inspect, &out, &err, "inspect", dir, NULL, NULL, NULL), 0);
	ck_assert_msg(strstr(out, "task multireg\n") != NULL, "%s", out);
	ck_assert(strstr(out, "task_type           multi_regression") != NULL);
	ck_assert(strstr(out, "<- 2 numeric label columns in train.csv") != NULL);
	free(out);
	free(err);

	ck_assert_int_eq(run(aml_cmd_inspect, &out, &err, "inspect", "--json", dir, NULL, NULL), 0);
	o = json_tokener_parse(out);
	ck_assert_msg(o != NULL, "not JSON: %s", out);
	ck_assert_str_eq(json_object_get_string(field(o, "metric")), "mcrmse");
	ck_assert_str_eq(json_object_get_string(field(o, "id_column")), "text_id");
	ck_assert_int_eq(json_object_array_length(field(o, "label_columns")), 2);
	ck_assert(strstr(json_object_get_string(field(o, "answers")), "private/answers.csv") != NULL);
	json_object_put(o);
	free(out);
	free(err);

	snprintf(dir, sizeof dir, "%s", tu_fixture("nometric"));
	ck_assert_int_eq(run(aml_cmd_inspect, &out, &err, "inspect", dir, NULL, NULL, NULL), 2);
	ck_assert_str_eq(out, "");
	ck_assert(strstr(err, "automlgen inspect: cannot tell the metric") != NULL);
	ck_assert_ptr_eq(strchr(err, '\n'), err + strlen(err) - 1); /* one line */
	free(out);
	free(err);

	ck_assert_int_eq(run(aml_cmd_inspect, &out, &err, "inspect", NULL, NULL, NULL, NULL), 2);
	ck_assert(strstr(err, "usage: automlgen inspect TASK_DIR [--json]") != NULL);
	free(out);
	free(err);
	ck_assert_int_eq(run(aml_cmd_inspect, &out, &err, "inspect", dir, dir, NULL, NULL), 2);
	ck_assert(strstr(err, "unexpected argument") != NULL);
	free(out);
	free(err);
	ck_assert_int_eq(run(aml_cmd_inspect, &out, &err, "inspect", "-h", NULL, NULL, NULL), 0);
	ck_assert(strstr(out, "usage: automlgen inspect") != NULL);
	free(out);
	free(err);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("grade");
	TCase *tc = tcase_create("grade");

	tcase_add_test(tc, test_scores);
	tcase_add_test(tc, test_result_fields);
	tcase_add_test(tc, test_invalid);
	tcase_add_loop_test(tc, test_task_errors, 0, (int)AML_ARRAY_LEN(task_errors));
	tcase_add_test(tc, test_one_hot_answers);
	tcase_add_test(tc, test_cmd_grade);
	tcase_add_test(tc, test_cmd_inspect);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
