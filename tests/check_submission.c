/*
 * check_submission.c — submission checks against the fixture tasks: valid
 * files in any column and row order, and each way a file can be wrong,
 * with the exact reason given.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "check_taskutil.h"
#include "submission.h"
#include "task.h"

static aml_task_info *
task(const char *name)
{
	char err[AML_ERRLEN] = "";
	aml_task_info *t = NULL;

	ck_assert_msg(aml_task_load(tu_fixture(name), &t, err, sizeof err) == AML_OK, "%s", err);
	return t;
}

/* Check text (NULL: no file at all) as a submission of fixture name. */
static int
check(const char *name, const char *text, char *reason, size_t len)
{
	char *tmp = aml_test_tmpdir(), *path = aml_path_join(tmp, "submission.csv");
	aml_task_info *t = task(name);
	int rc;

	if (text != NULL)
		tu_write(tmp, "submission.csv", text);
	reason[0] = '\0';
	rc = aml_submission_check(t, path, reason, len);
	aml_task_free(t);
	free(path);
	aml_test_rmtree(tmp);
	free(tmp);
	return rc;
}

START_TEST(test_valid)
{
	static const struct {
		const char *task;
		const char *text;
	} ok[] = {
		{"classproba", "id,class_1,class_2,class_11\n200,.2,.3,.5\n201,0,0,1\n"
			       "202,1,0,0\n203,0.25,0.25,0.5\n"},
		{"binproba", "id,target\n21,0.1\n22,0.9\n23,0\n24,1\n25,0.5\n26,1e-3\n"},
		{"strlabels", "id,species\r\nt000,setosa\r\nt001,virginica\r\nt002,setosa\r\n"
			      "t003,versicolor\r\nt004,setosa\r\n"},
		{"multireg", "text_id,y1,y2\np0,1,2\np1,-3.5,4e2\np2,0,0\n"},
		{"noid", "SalePrice\n1\n2\n3\n4\n"},
		{"publiconly", "id,stars\n100,1\n101,2.0\n102,3\n103,4\n104,5\n"},
		{"images", "id,label\nt0.png,cat\nt1.png,dog\nt2.png,cat\n"},
	};
	char reason[AML_ERRLEN];
	size_t i;

	for (i = 0; i < AML_ARRAY_LEN(ok); i++)
		ck_assert_msg(check(ok[i].task, ok[i].text, reason, sizeof reason) == AML_OK,
			      "%s: %s", ok[i].task, reason);
}
END_TEST

START_TEST(test_any_order)
{
	char err[AML_ERRLEN] = "";
	char *tmp = aml_test_tmpdir(), *path = aml_path_join(tmp, "s.csv");
	aml_task_info *t = task("classproba");
	aml_submission *s = NULL;

	/* columns and rows shuffled; one id spelled as a float */
	tu_write(tmp, "s.csv", "class_11,id,class_2,class_1\n0.5,203,0.25,0.25\n"
		 "0.7,200.0,0.2,0.1\n0,202,0,1\n1,201,0,0\n");
	ck_assert_msg(aml_submission_load(t, path, &s, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_uint_eq(aml_submission_rows(s), 4);
	/* the sample's first row is id 200; column 2 is class_11 */
	ck_assert_str_eq(aml_submission_value(s, 2, 0), "0.7");
	ck_assert_str_eq(aml_submission_value(s, 0, 0), "0.1");
	ck_assert_str_eq(aml_submission_value(s, 0, 2), "1");
	ck_assert_str_eq(aml_submission_value(s, 1, 3), "0.25");
	ck_assert_ptr_null(aml_submission_value(s, 3, 0));
	ck_assert_ptr_null(aml_submission_value(s, 0, 4));
	aml_submission_free(s);
	aml_task_free(t);
	free(path);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

#define CP_HEAD "id,class_1,class_2,class_11\n"

static const struct {
	const char *task;
	const char *text;
	const char *msg;
} bad[] = {
	{"classproba", NULL, "no submission file at /tmp/aml-test-"},
	{"classproba", "", "submission.csv: empty file"},
	{"classproba", CP_HEAD "200,\"0.3,0.3,0.4\n201,0,0,1\n",
	 "submission.csv:2: quoted field never closes"},
	{"classproba", CP_HEAD "200,0.3,0.3\n", "submission.csv:2: 3 fields, but the header has 4"},
	{"classproba", "id,class_1,class_2\n200,1,0\n201,1,0\n202,1,0\n203,1,0\n",
	 "columns differ from the sample submission: missing column(s) 'class_11'"},
	{"classproba", "id,class_1,class_2,class_11,foo\n200,1,0,0,x\n",
	 "columns differ from the sample submission: unexpected column(s) 'foo'"},
	{"classproba", "Id,class_1,class_2,class_3\n200,1,0,0\n",
	 "missing column(s) 'id', 'class_11'; unexpected column(s) 'Id', 'class_3'"},
	{"classproba", "id,class_1,class_1,class_2,class_11\n200,1,0,0,0\n",
	 "column 'class_1' appears twice in the header"},
	{"classproba", CP_HEAD "200,1,0,0\n201,1,0,0\n202,1,0,0\n",
	 "3 rows, but the sample submission has 4"},
	{"classproba", CP_HEAD "200,1,0,0\n200,1,0,0\n202,1,0,0\n203,1,0,0\n",
	 "id '200' appears twice (lines 2 and 3)"},
	{"classproba", CP_HEAD "200,1,0,0\n201,1,0,0\n202,1,0,0\n999,1,0,0\n",
	 "ids not in the sample submission: '999' (1 in all); missing ids: '203' (1 in all)"},
	{"classproba", CP_HEAD "900,1,0,0\n901,1,0,0\n902,1,0,0\n903,1,0,0\n",
	 "'900', '901', '902', ... (4 in all); missing ids: '200', '201', '202', ... (4 in all)"},
	{"classproba", CP_HEAD "200,1,0,0\n201,1,,0\n202,1,0,0\n203,1,0,0\n",
	 "column 'class_2' has an empty or NaN value at line 3"},
	{"classproba", CP_HEAD "200,1,0,0\n201,1,0,0\n202,1,0,NaN\n203,1,0,0\n",
	 "column 'class_11' has an empty or NaN value at line 4"},
	{"classproba", CP_HEAD "200,1,0,0\n201,1,0,0\n202,1,0,1.5\n203,1,0,-2\n",
	 "column 'class_11': 2 values not a probability in [0,1], the first '1.5' at line 4"},
	{"classproba", CP_HEAD "200,high,0,0\n201,1,0,0\n202,1,0,0\n203,1,0,0\n",
	 "column 'class_1': 1 value not a probability in [0,1], the first 'high' at line 2"},
	{"binproba", "id,target\n21,0.1\n22,0.9\n23,0\n24,1\n25,0.5\n26,-0.1\n",
	 "column 'target': 1 value not a probability in [0,1], the first '-0.1' at line 7"},
	{"strlabels", "id,species\nt000,setosa\nt001,rose\nt002,setosa\nt003,Setosa\nt004,setosa\n",
	 "column 'species': 2 values not one of the classes, the first 'rose' at line 3"
	 " (classes: setosa, versicolor, virginica)"},
	{"strlabels", "id,species\nt000,setosa\nt001,setosa\nt002,setosa\nt003,setosa\nt04,setosa\n",
	 "ids not in the sample submission: 't04' (1 in all); missing ids: 't004' (1 in all)"},
	{"publiconly", "id,stars\n100,1\n101,2\n102,3\n103,4\n104,6\n",
	 "column 'stars': 1 value not one of the classes, the first '6' at line 6 (classes: 1, 2, 3, 4, 5)"},
	{"multireg", "text_id,y1,y2\np0,1,2\np1,inf,4\np2,0,0\n",
	 "column 'y1': 1 value not a finite number, the first 'inf' at line 3"},
	{"multireg", "text_id,y1,y2\np0,1,2\np1,3,4\np2,0,0x1\n",
	 "column 'y2': 1 value not a finite number, the first '0x1' at line 4"},
	{"noid", "SalePrice\n1\n2\n3\n4\n5\n", "5 rows, but the sample submission has 4"},
};

START_TEST(test_refusals)
{
	char reason[AML_ERRLEN];
	int rc = check(bad[_i].task, bad[_i].text, reason, sizeof reason);

	ck_assert_int_eq(rc, AML_EFORMAT);
	ck_assert_msg(strstr(reason, bad[_i].msg) != NULL, "'%s' lacks '%s'", reason, bad[_i].msg);
	ck_assert_ptr_null(strchr(reason, '\n'));
}
END_TEST

START_TEST(test_no_path)
{
	char reason[AML_ERRLEN] = "";
	aml_task_info *t = task("noid");
	aml_submission *s = (aml_submission *)&reason; /* must be reset */

	ck_assert_int_eq(aml_submission_load(t, "", &s, reason, sizeof reason), AML_EFORMAT);
	ck_assert_ptr_null(s);
	ck_assert_str_eq(reason, "no submission file given");
	ck_assert_int_eq(aml_submission_check(t, NULL, reason, sizeof reason), AML_EFORMAT);
	aml_task_free(t);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("submission");
	TCase *tc = tcase_create("submission");

	tcase_add_test(tc, test_valid);
	tcase_add_test(tc, test_any_order);
	tcase_add_loop_test(tc, test_refusals, 0, (int)AML_ARRAY_LEN(bad));
	tcase_add_test(tc, test_no_path);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
