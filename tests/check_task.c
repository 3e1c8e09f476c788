/*
 * check_task.c — task folders read into profiles: the odd fixture tasks in
 * tests/data/tasks/, inference variants and every refusal built in
 * temporary folders, and the printed profile (text and JSON).
 */
#include "config.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_taskutil.h"
#include "preview.h"
#include "task.h"

static aml_task_info *
load_ok(const char *dir)
{
	char err[AML_ERRLEN] = "";
	aml_task_info *t = NULL;
	int rc = aml_task_load(dir, &t, err, sizeof err);

	ck_assert_msg(rc == AML_OK, "%s: %s", dir, err);
	return t;
}

static void
load_fails(const char *dir, int status, const char *msg)
{
	char err[AML_ERRLEN] = "";
	aml_task_info *t = NULL;
	int rc = aml_task_load(dir, &t, err, sizeof err);

	ck_assert_ptr_null(t);
	ck_assert_msg(rc == status, "status %d, not %d: %s", rc, status, err);
	ck_assert_msg(strstr(err, msg) != NULL, "'%s' lacks '%s'", err, msg);
	ck_assert_ptr_null(strchr(err, '\n'));
}

static void
has_source(const aml_task_info *t, const char *key, const char *text)
{
	const char *src = aml_task_source(t, key);

	ck_assert_msg(src != NULL, "no source for %s", key);
	ck_assert_msg(strstr(src, text) != NULL, "%s source '%s' lacks '%s'", key, src, text);
}

START_TEST(test_classproba)
{
	aml_task_info *t = load_ok(tu_fixture("classproba"));
	const aml_task *v = aml_task_view(t);

	ck_assert_str_eq(v->name, "classproba");
	ck_assert_str_eq(v->metric, "log_loss");
	ck_assert_int_eq(v->higher_is_better, 0);
	has_source(t, "metric", "description.md (Evaluation section): 'logarithmic loss'");
	ck_assert_int_eq(v->type, AML_TASK_MULTICLASS);
	ck_assert_int_eq(v->output, AML_OUT_CLASS_PROBA);
	ck_assert_str_eq(v->id_column, "id");
	ck_assert_uint_eq(v->n_label_columns, 1);
	ck_assert_str_eq(v->label_columns[0], "target");
	has_source(t, "label_columns", "the only train.csv column not in test.csv");
	ck_assert_uint_eq(v->n_submission_columns, 3);
	ck_assert_str_eq(v->submission_columns[2], "class_11");
	/* sorted by value, not as strings */
	ck_assert_uint_eq(v->n_classes, 3);
	ck_assert_str_eq(v->classes[0], "1");
	ck_assert_str_eq(v->classes[1], "2");
	ck_assert_str_eq(v->classes[2], "11");
	/* class_11 is class 11 (the longest suffix), not class 1 */
	ck_assert_str_eq(aml_task_column_class(t, 0), "1");
	ck_assert_str_eq(aml_task_column_class(t, 2), "11");
	ck_assert_ptr_null(aml_task_column_class(t, 3));
	has_source(t, "classes", "'class_<class>'");
	ck_assert_uint_eq(v->train_rows, 12);
	ck_assert_uint_eq(v->test_rows, 4);
	ck_assert_uint_eq(v->n_features, 2);
	ck_assert_uint_eq(v->modality, AML_MOD_TABULAR);
	ck_assert_str_eq(v->train_file, "train.csv");
	ck_assert_str_eq(v->test_file, "test.csv");
	ck_assert_str_eq(v->sample_file, "sample_submission.csv");
	ck_assert(strstr(v->description, "## Evaluation") != NULL);
	ck_assert_ptr_nonnull(aml_task_answers_path(t));
	ck_assert(strstr(aml_task_answers_path(t), "/classproba/private/answers.csv") != NULL);
	ck_assert_int_eq(aml_task_root(t)[0], '/');
	ck_assert(strncmp(v->public_dir, aml_task_root(t), strlen(aml_task_root(t))) == 0);
	ck_assert(strstr(v->public_dir, "/classproba/public") != NULL);
	ck_assert_int_eq(v->public_dir[0], '/');
	ck_assert_ptr_null(aml_task_source(t, "nope"));
	aml_task_free(t);
}
END_TEST

START_TEST(test_binproba)
{
	aml_task_info *t = load_ok(tu_fixture("binproba"));
	const aml_task *v = aml_task_view(t);

	ck_assert_str_eq(v->metric, "roc_auc");
	ck_assert_int_eq(v->higher_is_better, 1);
	ck_assert_int_eq(v->type, AML_TASK_BINARY);
	ck_assert_int_eq(v->output, AML_OUT_PROBA);
	has_source(t, "output", "fractions in [0,1]");
	ck_assert_uint_eq(v->n_classes, 2);
	ck_assert_str_eq(v->classes[0], "0");
	ck_assert_str_eq(v->classes[1], "1");
	ck_assert_ptr_null(aml_task_column_class(t, 0));
	has_source(t, "label_columns", "found in train.csv");
	aml_task_free(t);
}
END_TEST

START_TEST(test_strlabels)
{
	/* CRLF files, string ids, a quoted field holding a comma */
	aml_task_info *t = load_ok(tu_fixture("strlabels"));
	const aml_task *v = aml_task_view(t);

	ck_assert_str_eq(v->metric, "accuracy");
	has_source(t, "metric", "'classification accuracy'");
	ck_assert_int_eq(v->type, AML_TASK_MULTICLASS);
	ck_assert_int_eq(v->output, AML_OUT_LABEL);
	ck_assert_uint_eq(v->n_classes, 3);
	ck_assert_str_eq(v->classes[0], "setosa");
	ck_assert_str_eq(v->classes[2], "virginica");
	ck_assert_str_eq(v->id_column, "id");
	has_source(t, "id_column", "values match test.csv's");
	ck_assert_uint_eq(v->train_rows, 15);
	ck_assert_uint_eq(v->n_features, 3);
	ck_assert_uint_eq(v->modality, AML_MOD_TABULAR);
	aml_task_free(t);
}
END_TEST

START_TEST(test_multireg)
{
	aml_task_info *t = load_ok(tu_fixture("multireg"));
	const aml_task *v = aml_task_view(t);

	ck_assert_str_eq(v->metric, "mcrmse");
	ck_assert_int_eq(v->higher_is_better, 0);
	ck_assert_int_eq(v->type, AML_TASK_MULTI_REGRESSION);
	ck_assert_int_eq(v->output, AML_OUT_VALUE);
	ck_assert_str_eq(v->id_column, "text_id");
	ck_assert_uint_eq(v->n_label_columns, 2);
	ck_assert_str_eq(v->label_columns[1], "y2");
	ck_assert_uint_eq(v->n_classes, 0);
	ck_assert_ptr_null(v->classes);
	ck_assert_uint_eq(v->n_features, 1);
	aml_task_free(t);
}
END_TEST

START_TEST(test_noid)
{
	aml_task_info *t = load_ok(tu_fixture("noid"));
	const aml_task *v = aml_task_view(t);

	ck_assert_ptr_null(v->id_column);
	has_source(t, "id_column", "a single column");
	ck_assert_str_eq(v->metric, "rmsle"); /* not the "Root-Mean-Squared-Error" before it */
	ck_assert_int_eq(v->type, AML_TASK_REGRESSION);
	has_source(t, "task_type", "rmsle is a regression metric");
	ck_assert_uint_eq(v->n_submission_columns, 1);
	ck_assert_str_eq(v->label_columns[0], "SalePrice");
	ck_assert_uint_eq(v->n_features, 2);
	aml_task_free(t);
}
END_TEST

START_TEST(test_publiconly)
{
	aml_task_info *t = load_ok(tu_fixture("publiconly"));
	const aml_task *v = aml_task_view(t);

	ck_assert_str_eq(v->name, "publiconly");
	ck_assert_str_eq(v->public_dir, aml_task_root(t));
	ck_assert_ptr_null(aml_task_answers_path(t));
	ck_assert_str_eq(v->metric, "qwk");
	ck_assert_int_eq(v->type, AML_TASK_MULTICLASS);
	has_source(t, "task_type", "5 distinct whole numbers in 30 rows and a classification metric");
	ck_assert_int_eq(v->output, AML_OUT_LABEL);
	ck_assert_uint_eq(v->modality, AML_MOD_TABULAR | AML_MOD_TEXT);
	has_source(t, "modality", "'review' is free text");
	aml_task_free(t);
}
END_TEST

START_TEST(test_public_given_alone)
{
	char *tmp = aml_test_tmpdir(), *copy = tu_copy_fixture(tmp, "classproba");
	char *pub = aml_path_join(copy, "public");
	aml_task_info *t = load_ok(pub);
	const aml_task *v = aml_task_view(t);

	ck_assert_str_eq(v->name, "classproba"); /* named after the folder above */
	ck_assert_ptr_null(aml_task_answers_path(t));
	ck_assert_int_eq(v->output, AML_OUT_CLASS_PROBA);
	aml_task_free(t);
	free(pub);
	free(copy);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_yaml_override)
{
	aml_task_info *t = load_ok(tu_fixture("yaml_override"));
	const aml_task *v = aml_task_view(t);

	ck_assert_str_eq(v->metric, "mae");
	has_source(t, "metric", "task.yaml:2");
	ck_assert_int_eq(v->higher_is_better, 1); /* direction: maximize wins */
	has_source(t, "direction", "task.yaml:3");
	ck_assert_str_eq(v->id_column, "key");
	has_source(t, "id_column", "task.yaml:4");
	ck_assert_str_eq(v->label_columns[0], "y");
	has_source(t, "label_columns", "task.yaml:5");
	ck_assert_int_eq(v->type, AML_TASK_REGRESSION);
	ck_assert_uint_eq(v->modality, AML_MOD_TABULAR | AML_MOD_TIMESERIES);
	has_source(t, "modality", "task.yaml:7");
	aml_task_free(t);
}
END_TEST

START_TEST(test_fixture_refusals)
{
	load_fails(tu_fixture("yaml_bad"), AML_EFORMAT, "yaml_bad/task.yaml:4: ");
	load_fails(tu_fixture("nometric"), AML_EINVAL,
		   "cannot tell the metric from description.md; write `metric: rmse`"
		   " (one of accuracy, roc_auc");
	load_fails(tu_fixture("nometric"), AML_EINVAL, "nometric/task.yaml");
	load_fails(tu_fixture("nosample"), AML_ENOTFOUND, "no sample_submission.csv in ");
	load_fails("/nonexistent/task", AML_ENOTFOUND, "task folder '/nonexistent/task' does not exist");
	load_fails(SRCDIR "/tests/check_task.c", AML_ENOTFOUND, "is not a folder");
	load_fails("", AML_EINVAL, "no task folder given");
}
END_TEST

START_TEST(test_images)
{
	aml_task_info *t = load_ok(tu_fixture("images"));
	const aml_task *v = aml_task_view(t);

	ck_assert_uint_eq(v->modality, AML_MOD_IMAGE);
	has_source(t, "modality", "6 image files");
	ck_assert_str_eq(v->test_file, "");
	ck_assert_uint_eq(v->test_rows, 3); /* the sample's rows */
	ck_assert_str_eq(v->id_column, "id");
	has_source(t, "id_column", "no test.csv to compare with");
	ck_assert_int_eq(v->type, AML_TASK_BINARY);
	ck_assert_int_eq(v->output, AML_OUT_LABEL);
	has_source(t, "output", "accuracy scores labels");
	aml_task_free(t);
}
END_TEST

START_TEST(test_timeseries)
{
	aml_task_info *t = load_ok(tu_fixture("timeseries"));
	const aml_task *v = aml_task_view(t);

	ck_assert_uint_eq(v->modality, AML_MOD_TABULAR | AML_MOD_TIMESERIES);
	has_source(t, "modality", "'date' holds dates");
	ck_assert_str_eq(v->metric, "mae");
	ck_assert_int_eq(v->type, AML_TASK_REGRESSION);
	aml_task_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Temporary tasks: a small valid base, then edits.                    */

typedef struct edit {
	const char *path;
	const char *text; /* NULL: delete the file */
} edit;

static char *
make_task(const char *tmp, const edit *edits, size_t n)
{
	char *dir = aml_path_join(tmp, "task");
	size_t i;

	tu_write(dir, "public/description.md", "# Base\n\nScored by RMSE.\n");
	tu_write(dir, "public/train.csv", "id,x,y\n1,1,1.5\n2,2,2.5\n3,3,3.5\n");
	tu_write(dir, "public/test.csv", "id,x\n4,4\n5,5\n");
	tu_write(dir, "public/sample_submission.csv", "id,y\n4,0\n5,0\n");
	for (i = 0; i < n && edits[i].path != NULL; i++) {
		if (edits[i].text != NULL) {
			tu_write(dir, edits[i].path, edits[i].text);
		} else {
			char *p = aml_path_join(dir, edits[i].path);

			ck_assert_int_eq(unlink(p), 0);
			free(p);
		}
	}
	return dir;
}

static const struct {
	edit edits[3];
	int status;
	const char *msg;
} refusals[] = {
	{{{"public/train.csv", NULL}}, AML_ENOTFOUND,
	 "no train.csv in "},
	{{{"public/train.csv", NULL}}, AML_ENOTFOUND,
	 "write `train_file: NAME` in "},
	{{{"public/train.csv", NULL}, {"public/train_a.csv", "id,x,y\n1,1,1\n"},
	  {"public/train_b.csv", "id,x,y\n1,1,1\n"}}, AML_EINVAL,
	 "several train*.csv files"},
	{{{"public/train.csv", "id,x,y\n1,1,\"1.5\n2,2,2\n"}}, AML_EFORMAT,
	 "train.csv:2: quoted field never closes"},
	{{{"public/train.csv", "id,x,y\n1,1,1\n2,2\n"}}, AML_EFORMAT,
	 "train.csv:3: 2 fields, but the header has 3"},
	{{{"public/train.csv", ""}}, AML_EFORMAT, "train.csv: empty file"},
	{{{"public/train.csv", "id,x,y\n"}}, AML_EFORMAT, "train.csv: no rows under the header"},
	{{{"public/train.csv", "\x89PNG\r\n\x1a\n\"\x01\x02"}}, AML_EFORMAT,
	 "train.csv:3: quoted field never closes"},
	{{{"public/test.csv", "id,x\n4,4\n5,5,5\n"}}, AML_EFORMAT, "test.csv:3: 3 fields"},
	{{{"public/sample_submission.csv", ""}}, AML_EFORMAT,
	 "sample_submission.csv: empty file"},
	{{{"public/sample_submission.csv", "id,y\n"}}, AML_EFORMAT,
	 "sample_submission.csv: no rows under the header"},
	{{{"public/sample_submission.csv", "id,y,y\n4,0,0\n"}}, AML_EFORMAT,
	 "column 'y' appears twice"},
	{{{"task.yaml", "metric: rmse\nmetrc: mae\n"}}, AML_EFORMAT,
	 "task.yaml:2: unknown key 'metrc' (known: metric, direction,"},
	{{{"task.yaml", "direction: sideways\n"}}, AML_EFORMAT,
	 "task.yaml:1: direction must be maximize or minimize, not 'sideways'"},
	{{{"task.yaml", "# comment\nmetric: auc_pr\n"}}, AML_EFORMAT,
	 "task.yaml:2: unknown metric 'auc_pr'; write one of: accuracy,"},
	{{{"task.yaml", "metric: [rmse]\n"}}, AML_EFORMAT,
	 "task.yaml:1: metric must be a single value"},
	{{{"task.yaml", "target_columns: [y, nope]\n"}}, AML_EFORMAT,
	 "task.yaml:1: target column 'nope' is not in train.csv"},
	{{{"task.yaml", "target_columns:\n  - y\n  - y\n"}}, AML_EFORMAT,
	 "task.yaml:3: target column 'y' is listed twice"},
	{{{"task.yaml", "id_column: key\n"}}, AML_EFORMAT,
	 "task.yaml:1: id_column 'key' is not a column of sample_submission.csv (columns: id, y)"},
	{{{"task.yaml", "train_file: other.csv\n"}}, AML_EFORMAT,
	 "task.yaml:1: train_file 'other.csv' is not a file in "},
	{{{"task.yaml", "- a\n- b\n"}}, AML_EFORMAT, "task.yaml:1: expected keys and values"},
	{{{"task.yaml", "task_type: ranking\n"}}, AML_EFORMAT,
	 "task_type 'ranking' is not one of: binary, multiclass, regression, multi_regression"},
	{{{"task.yaml", "output: class_proba\n"}}, AML_EFORMAT,
	 "task.yaml:1: output class_proba needs one probability column per class"},
	{{{"task.yaml", "modality: [text, video]\n"}}, AML_EFORMAT,
	 "task.yaml:1: modality must be tabular, text, image or timeseries"},
	{{{"public/task.yaml", "metric: rmse\n  bad: indent\n"}}, AML_EFORMAT,
	 "public/task.yaml:2: "},
	{{{"public/description.md", "RMSEish AUCTION MAEstro F1x"}}, AML_EINVAL,
	 "cannot tell the metric from description.md"},
	{{{"public/description.md", NULL}}, AML_EINVAL,
	 "cannot tell the metric from the task (no description.md); write `metric: rmse`"},
	{{{"public/train.csv", "id,x,y\n1,1,a\n2,2,b\n"},
	  {"public/sample_submission.csv", "id,p_a,p_b,p_c\n4,.3,.3,.4\n5,.3,.3,.4\n"}},
	 AML_EINVAL, "has 3 probability columns (p_a, p_b, p_c) but train.csv 'y' has 2"
	 " classes (a, b); write `target_columns: [NAME]` and `output: NAME`"},
	{{{"public/train.csv", "id,x,y,z\n1,1,1,1\n"},
	  {"public/sample_submission.csv", "id,a\n4,0\n5,0\n"}}, AML_EINVAL,
	 "train.csv columns not in test.csv: y, z); write `target_columns: [NAME]` in "},
};

START_TEST(test_refusals)
{
	char *tmp = aml_test_tmpdir();
	char *dir = make_task(tmp, refusals[_i].edits, AML_ARRAY_LEN(refusals[_i].edits));

	load_fails(dir, refusals[_i].status, refusals[_i].msg);
	free(dir);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

/* Metric wording from real competition pages. */
static const struct {
	const char *description;
	const char *metric;
} wordings[] = {
	{"## Evaluation\n\nSubmissions are evaluated on Root-Mean-Squared-Error (RMSE) between "
	 "the logarithm of the predicted value and the logarithm of the observed sales price.\n",
	 "rmsle"},
	{"## Evaluation\n\nThe score is the Root-Mean-Squared-Error of the predictions. "
	 "Logarithms are not taken.\n", "rmse"},
	{"## Evaluation\n\nSubmissions are scored on the root mean squared error of log(1 + y).\n",
	 "rmsle"},
};

START_TEST(test_metric_wordings)
{
	char *tmp = aml_test_tmpdir(), *dir;
	edit e[] = {{"public/description.md", wordings[_i].description}};
	aml_task_info *t;

	dir = make_task(tmp, e, AML_ARRAY_LEN(e));
	t = load_ok(dir);
	ck_assert_str_eq(aml_task_view(t)->metric, wordings[_i].metric);
	aml_task_free(t);
	free(dir);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_base_and_variants)
{
	char *tmp = aml_test_tmpdir(), *dir;
	aml_task_info *t;
	const aml_task *v;
	edit e1[] = {
		{"public/description.md", "# T\n\nImprove the accuracy of forecasts.\n\n"
		 "## Evaluation metric\n\nScored by mean absolute error.\n\n## Data\n\nAUC.\n"},
		{"public/train.csv", NULL},
		{"public/train_v2.csv", "id,x,y\n1,1,1.5\n2,2,2.5\n"},
	};
	edit e2[] = {
		{"public/task.yaml", "metric: R2\nid_column: ~\ntarget_columns: y\n"},
	};

	dir = make_task(tmp, NULL, 0);
	t = load_ok(dir);
	v = aml_task_view(t);
	ck_assert_str_eq(v->metric, "rmse");
	has_source(t, "metric", "description.md: 'RMSE'");
	has_source(t, "direction", "lower is better for rmse");
	ck_assert_int_eq(v->type, AML_TASK_REGRESSION);
	ck_assert_uint_eq(v->train_rows, 3);
	ck_assert_uint_eq(v->test_rows, 2);
	aml_task_free(t);
	free(dir);
	aml_test_rmtree(tmp);
	free(tmp);

	/* the Evaluation section wins over earlier words; train_v2.csv */
	tmp = aml_test_tmpdir();
	dir = make_task(tmp, e1, AML_ARRAY_LEN(e1));
	t = load_ok(dir);
	v = aml_task_view(t);
	ck_assert_str_eq(v->metric, "mae");
	has_source(t, "metric", "description.md (Evaluation section): 'mean absolute error'");
	ck_assert_str_eq(v->train_file, "train_v2.csv");
	has_source(t, "train_file", "the only train*.csv file");
	aml_task_free(t);
	free(dir);
	aml_test_rmtree(tmp);
	free(tmp);

	/* public/task.yaml; a null id column; a lone target name */
	tmp = aml_test_tmpdir();
	dir = make_task(tmp, e2, AML_ARRAY_LEN(e2));
	t = load_ok(dir);
	v = aml_task_view(t);
	ck_assert_str_eq(v->metric, "r2");
	ck_assert_int_eq(v->higher_is_better, 1);
	has_source(t, "metric", "public/task.yaml:1");
	ck_assert_ptr_null(v->id_column);
	has_source(t, "id_column", "public/task.yaml:2 (no id column)");
	ck_assert_uint_eq(v->n_submission_columns, 2);
	ck_assert_uint_eq(v->n_label_columns, 1);
	ck_assert_str_eq(v->label_columns[0], "y");
	aml_task_free(t);
	free(dir);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

/* The data preview the prompts carry: every column with its type and
 * values, the target's distribution, the first rows; on a wide file the
 * columns past the limit are counted, the target still described. */
START_TEST(test_preview)
{
	char err[AML_ERRLEN] = "", *text, *tmp = aml_test_tmpdir(), *dir;
	aml_task_info *t;
	aml_sb b = {0};
	int rc;
	size_t i, j;

	t = load_ok(tu_fixture("strlabels"));
	text = aml_preview_text(t, &rc, err, sizeof err);
	ck_assert_msg(text != NULL, "%s", err);
	ck_assert_msg(strstr(text, "train.csv: 5 column(s)") && strstr(text, ", 15 rows")
		      && strstr(text, "- sepal: float, min 4.1,")
		      && strstr(text, "- note: string, 2 distinct: plain (14), ")
		      && strstr(text, "- species [target]: string, 3 distinct")
		      && strstr(text, "Target distribution of species: ")
		      && strstr(text, "First rows of train.csv:\nid,sepal,petal,note,species\n"
				"r000,6.3,3.4,plain,setosa\n"), "%s", text);
	aml_task_set_preview(t, text);
	ck_assert_ptr_eq(aml_task_view(t)->data_preview, text);
	aml_task_free(t);

	/* 100 feature columns and a label at the end */
	for (i = 0; i < 100; i++)
		aml_sb_printf(&b, "f%zu,", i);
	aml_sb_puts(&b, "y\n");
	for (j = 0; j < 30; j++) {
		for (i = 0; i < 100; i++)
			aml_sb_printf(&b, "%zu,", (i * j) % 7);
		aml_sb_printf(&b, "%s\n", j % 3 ? "a" : "b");
	}
	{
		edit e[] = {
			{"public/description.md", "Accuracy."},
			{"public/train.csv", b.s},
			{"public/sample_submission.csv", "id,y\n1,a\n"},
		};

		ck_assert(!b.oom);
		dir = make_task(tmp, e, AML_ARRAY_LEN(e));
	}
	t = load_ok(dir);
	text = aml_preview_text(t, &rc, err, sizeof err);
	ck_assert_msg(text != NULL, "%s", err);
	ck_assert_msg(strstr(text, "- f59: integer") && !strstr(text, "- f60:")
		      && strstr(text, "- ... and 40 more columns: 40 numeric, 0 string")
		      && strstr(text, "- y [target]: string") && !strstr(text, "First rows"),
		      "%s", text);
	free(text);
	aml_task_free(t);
	free(dir);
	aml_sb_free(&b);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_large_train)
{
	char *tmp = aml_test_tmpdir(), *dir;
	aml_sb b = {0};
	aml_task_info *t;
	const aml_task *v;
	edit e[] = {
		{"public/description.md", "Macro F1 over the three labels."},
		{"public/train.csv", NULL},
		{"public/sample_submission.csv", "id,y\n4,a\n5,a\n"},
	};
	size_t i;

	/* 40 000 rows; label "late" first appears after the rows sampled for
	 * column types, and must still be a class; the row count is exact. */
	aml_sb_puts(&b, "id,x,y\n");
	for (i = 0; i < 40000; i++)
		aml_sb_printf(&b, "%zu,%zu,%s\n", i, i % 97, i == 39999 ? "late" : i % 2 ? "a" : "b");
	ck_assert(!b.oom);
	e[1].text = b.s;
	dir = make_task(tmp, e, AML_ARRAY_LEN(e));
	t = load_ok(dir);
	v = aml_task_view(t);
	ck_assert_uint_eq(v->train_rows, 40000);
	ck_assert_str_eq(v->metric, "f1_macro");
	ck_assert_int_eq(v->type, AML_TASK_MULTICLASS);
	ck_assert_uint_eq(v->n_classes, 3);
	ck_assert_str_eq(v->classes[0], "a");
	ck_assert_str_eq(v->classes[2], "late");
	aml_task_free(t);
	aml_sb_free(&b);
	free(dir);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_pixels_and_numbers)
{
	char *tmp = aml_test_tmpdir(), *dir;
	aml_sb tr = {0}, te = {0};
	aml_task_info *t;
	const aml_task *v;
	edit e[] = {
		{"public/description.md", "Classification accuracy."},
		{"public/train.csv", NULL},
		{"public/test.csv", NULL},
	};
	size_t i, r;

	/* 64 pixel columns make an image task; 7 whole-number labels in 200
	 * rows (<= 5%) with a classification metric: multiclass */
	aml_sb_puts(&tr, "id");
	aml_sb_puts(&te, "id");
	for (i = 0; i < 64; i++) {
		aml_sb_printf(&tr, ",pixel%zu", i);
		aml_sb_printf(&te, ",pixel%zu", i);
	}
	aml_sb_puts(&tr, ",y\n");
	aml_sb_puts(&te, "\n");
	for (r = 0; r < 200; r++) {
		aml_sb_printf(&tr, "%zu", r);
		for (i = 0; i < 64; i++)
			aml_sb_printf(&tr, ",%zu", (r * i) % 17);
		aml_sb_printf(&tr, ",%zu\n", r % 7);
	}
	for (r = 4; r < 6; r++) {
		aml_sb_printf(&te, "%zu", r);
		for (i = 0; i < 64; i++)
			aml_sb_puts(&te, ",0");
		aml_sb_puts(&te, "\n");
	}
	ck_assert(!tr.oom && !te.oom);
	e[1].text = tr.s;
	e[2].text = te.s;
	dir = make_task(tmp, e, AML_ARRAY_LEN(e));
	t = load_ok(dir);
	v = aml_task_view(t);
	ck_assert_uint_eq(v->modality, AML_MOD_TABULAR | AML_MOD_IMAGE);
	has_source(t, "modality", "64 pixel columns");
	ck_assert_int_eq(v->type, AML_TASK_MULTICLASS);
	ck_assert_uint_eq(v->n_classes, 7);
	ck_assert_uint_eq(v->n_features, 64);
	aml_task_free(t);
	aml_sb_free(&tr);
	aml_sb_free(&te);
	free(dir);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_print)
{
	char *tmp = aml_test_tmpdir(), *path = aml_path_join(tmp, "out"), *text;
	aml_task_info *t = load_ok(tu_fixture("classproba"));
	json_object *o, *x, *files;
	FILE *f;
	size_t i;
	int found = 0;

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(aml_task_print(t, f, 0), AML_OK);
	fclose(f);
	text = tu_slurp(path);
	ck_assert(strstr(text, "task classproba\n") != NULL);
	ck_assert(strstr(text, "metric              log_loss (minimize)") != NULL);
	ck_assert(strstr(text, "<- description.md (Evaluation section): 'logarithmic loss'") != NULL);
	ck_assert(strstr(text, "classes             1, 2, 11") != NULL);
	ck_assert(strstr(text, "public/train.csv") != NULL);
	ck_assert(strstr(text, "private/answers.csv") != NULL);
	ck_assert(strstr(text, " bytes\n") != NULL);
	free(text);

	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(aml_task_print(t, f, 1), AML_OK);
	fclose(f);
	text = tu_slurp(path);
	o = json_tokener_parse(text);
	ck_assert_msg(o != NULL, "not JSON: %s", text);
	ck_assert(json_object_object_get_ex(o, "metric", &x));
	ck_assert_str_eq(json_object_get_string(x), "log_loss");
	ck_assert(json_object_object_get_ex(o, "higher_is_better", &x));
	ck_assert(!json_object_get_boolean(x));
	ck_assert(json_object_object_get_ex(o, "column_classes", &x));
	ck_assert(json_object_object_get_ex(x, "class_11", &x));
	ck_assert_str_eq(json_object_get_string(x), "11");
	ck_assert(json_object_object_get_ex(o, "sources", &x));
	ck_assert(json_object_object_get_ex(x, "output", &x));
	ck_assert(strstr(json_object_get_string(x), "column per class") != NULL);
	ck_assert(json_object_object_get_ex(o, "files", &files));
	for (i = 0; i < json_object_array_length(files); i++) {
		json_object *e = json_object_array_get_idx(files, i), *p, *bytes;

		ck_assert(json_object_object_get_ex(e, "path", &p));
		ck_assert(json_object_object_get_ex(e, "bytes", &bytes));
		if (strcmp(json_object_get_string(p), "public/test.csv") == 0) {
			found = 1;
			ck_assert_int_eq(json_object_get_int64(bytes), 70);
		}
	}
	ck_assert(found);
	json_object_put(o);
	free(text);
	aml_task_free(t);

	/* folders are summed up */
	t = load_ok(tu_fixture("images"));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(aml_task_print(t, f, 0), AML_OK);
	fclose(f);
	text = tu_slurp(path);
	ck_assert_msg(strstr(text, "public/train/") != NULL && strstr(text, "in 6 files") != NULL,
		      "%s", text);
	ck_assert(strstr(text, "(none: grading unavailable)") != NULL);
	free(text);
	aml_task_free(t);
	free(path);
	aml_test_rmtree(tmp);
	free(tmp);
}
END_TEST

START_TEST(test_names)
{
	ck_assert_str_eq(aml_task_type_name(AML_TASK_MULTI_REGRESSION), "multi_regression");
	ck_assert_str_eq(aml_task_type_name(AML_TASK_UNKNOWN), "unknown");
	ck_assert_str_eq(aml_task_type_name((aml_task_type)42), "unknown");
	ck_assert_str_eq(aml_output_name(AML_OUT_CLASS_PROBA), "class_proba");
	ck_assert_str_eq(aml_output_name((aml_output_kind)9), "unknown");
	ck_assert_str_eq(aml_modality_name(AML_MOD_TIMESERIES), "timeseries");
	ck_assert_str_eq(aml_modality_name(AML_MOD_TEXT | AML_MOD_IMAGE), "unknown");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("task");
	TCase *tc = tcase_create("task");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_classproba);
	tcase_add_test(tc, test_binproba);
	tcase_add_test(tc, test_strlabels);
	tcase_add_test(tc, test_multireg);
	tcase_add_test(tc, test_noid);
	tcase_add_test(tc, test_publiconly);
	tcase_add_test(tc, test_public_given_alone);
	tcase_add_test(tc, test_yaml_override);
	tcase_add_test(tc, test_fixture_refusals);
	tcase_add_test(tc, test_images);
	tcase_add_test(tc, test_timeseries);
	tcase_add_loop_test(tc, test_refusals, 0, (int)AML_ARRAY_LEN(refusals));
	tcase_add_test(tc, test_base_and_variants);
	tcase_add_loop_test(tc, test_metric_wordings, 0, (int)AML_ARRAY_LEN(wordings));
	tcase_add_test(tc, test_large_train);
	tcase_add_test(tc, test_preview);
	tcase_add_test(tc, test_pixels_and_numbers);
	tcase_add_test(tc, test_print);
	tcase_add_test(tc, test_names);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
