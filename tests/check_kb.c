/*
 * check_kb.c — the knowledge base: the real tabular pack, every refusal of
 * a malformed manifest or entry (with file:line), the Python module check,
 * and query filtering and ranking.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "kb.h"
#include "log.h"
#include "mock_host.h"
#include "util.h"

static char *
srcdir_path(const char *rel)
{
	const char *src = getenv("AML_SRCDIR");
	static char path[4096];

	snprintf(path, sizeof path, "%s/%s", src ? src : SRCDIR, rel);
	return path;
}

static const char *
python(void)
{
	const char *p = getenv("AML_PYTHON");

	return p && *p ? p : AML_DEFAULT_PYTHON;
}

/* Load a pack with the log captured; returns the log text (transferred). */
static char *
load_logged(aml_kb *kb, const char *rel, int *rc, char *err)
{
	char *dir = aml_test_tmpdir(), *logpath = aml_path_join(dir, "log"), *text = NULL;

	ck_assert_int_eq(aml_log_open_file(logpath), AML_OK);
	*rc = aml_kb_add_pack(kb, srcdir_path(rel), err, AML_ERRLEN);
	aml_log_close_file();
	if (aml_read_file(logpath, 0, &text, NULL, NULL, 0) != AML_OK)
		text = strdup("");
	free(logpath);
	aml_test_rmtree(dir);
	free(dir);
	return text;
}

static const aml_kb_entry *
by_id(const aml_kb *kb, const char *id)
{
	size_t i;

	for (i = 0; i < aml_kb_size(kb); i++)
		if (strcmp(aml_kb_at(kb, i)->id, id) == 0)
			return aml_kb_at(kb, i);
	return NULL;
}

static aml_task
task_of(aml_task_type type, aml_output_kind out, size_t rows, size_t feats)
{
	aml_task t;

	memset(&t, 0, sizeof t);
	t.name = "t";
	t.type = type;
	t.output = out;
	t.modality = AML_MOD_TABULAR;
	t.train_rows = rows;
	t.n_features = feats;
	return t;
}

static size_t
run_query(const aml_kb *kb, const aml_task *t, const char *level, const char *text,
	  const char *id, int applicable, const aml_kb_entry **out, size_t cap)
{
	aml_kb_query q = {level, text, id, 0, applicable};
	char err[AML_ERRLEN] = "";
	size_t n = 99;

	ck_assert_msg(aml_kb_search(kb, t, &q, out, cap, &n, err, sizeof err) == AML_OK,
		      "%s", err);
	return n;
}

static int
has(const aml_kb_entry **v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i]->id, id) == 0)
			return 1;
	return 0;
}

START_TEST(test_tabular_pack)
{
	static const char *const models[] = {
		"tabular.logistic_regression", "tabular.ridge", "tabular.random_forest",
		"tabular.extra_trees", "tabular.hist_gradient_boosting",
		"tabular.xgboost", "tabular.knn", "tabular.svm", "tabular.mlp",
	};
	char err[AML_ERRLEN] = "";
	aml_kb *kb = NULL;
	const aml_kb_entry *e;
	json_object *j, *space, *v;
	char *log;
	size_t i;
	int rc;

	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	log = load_logged(kb, "kb-packs/tabular", &rc, err);
	ck_assert_msg(rc == AML_OK, "%s", err);
	ck_assert_msg(strstr(log, "warning") == NULL, "the tabular pack warns: %s", log);
	free(log);
	ck_assert_uint_ge(aml_kb_size(kb), 15);
	for (i = 0; i < AML_ARRAY_LEN(models); i++) {
		e = by_id(kb, models[i]);
		ck_assert_msg(e != NULL, "%s missing", models[i]);
		ck_assert_str_eq(e->level, "model");
		ck_assert_str_eq(e->pack, "tabular");
		ck_assert(strstr(e->code, "def make_model(classification, seed)") != NULL);
		ck_assert(strstr(e->code, "MODEL_NEEDS_SCALING") != NULL);
		j = json_tokener_parse(e->json);
		ck_assert_ptr_nonnull(j);
		ck_assert(json_object_object_get_ex(j, "space", &space));
		json_object_object_foreach(space, key, spec) {
			ck_assert_msg(json_object_object_get_ex(spec, "default", &v),
				      "%s: %s has no default", e->id, key);
		}
		json_object_put(j);
	}
	e = by_id(kb, "tabular.pipeline");
	ck_assert_ptr_nonnull(e);
	ck_assert_str_eq(e->level, "strategy");
	/* code_file was resolved into the code */
	ck_assert(strstr(e->code, "Final Validation Score") != NULL);
	ck_assert(strstr(e->code, "{{model_code}}") != NULL);
	ck_assert(strstr(e->source, "entries/pipeline.yaml:1") != NULL);
	e = by_id(kb, "tabular.xgboost");
	j = json_tokener_parse(e->json);
	ck_assert(json_object_object_get_ex(j, "modules", &v));
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(v, 0)), "xgboost");
	/* typed scalars: int, float, null stay typed in the JSON */
	json_object_object_get_ex(j, "space", &space);
	json_object_object_get_ex(json_object_object_get(space, "max_depth"), "default", &v);
	ck_assert(json_object_is_type(v, json_type_int));
	json_object_object_get_ex(json_object_object_get(space, "subsample"), "default", &v);
	ck_assert(json_object_is_type(v, json_type_double));
	json_object_put(j);
	for (i = 0; i < 4; i++)
		ck_assert_ptr_nonnull(by_id(kb, (const char *[]){
			"tabular.numeric_impute_scale", "tabular.categorical_encoding",
			"tabular.date_parts", "tabular.log_target"}[i]));
	ck_assert_ptr_nonnull(by_id(kb, "tabular.seed_averaging"));
	ck_assert_ptr_null(aml_kb_at(kb, aml_kb_size(kb)));
	/* the same pack twice is refused */
	ck_assert_int_eq(aml_kb_add_pack(kb, srcdir_path("kb-packs/tabular"), err,
					 sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "manifest.yaml:") && strstr(err, "already loaded"), "%s", err);
	aml_kb_free(kb);
}
END_TEST

static const struct {
	const char *where;
	const char *what;
} mixed_warnings[] = {
	{"b_no_id.yaml:1:", "'id' is missing"},
	{"c_bad_level.yaml:4:", "'level' must be model, data or strategy"},
	{"d_bad_default.yaml:10:", "space 'rate': default 0.9 is outside"},
	{"e_bad_yaml.yaml:", "entry skipped"},
	{"f_dup.yaml:1:", "entry id 't.good' is already defined at"},
	{"g_bad_slot.yaml:6:", "code slot {{width}} (code line 2) is not a space parameter"},
	{"h_list.yaml:", "one entry per file"},
	{"i_bad_type.yaml:4:", "unknown task_types value 'clustering'"},
	{"l_bad_code_file.yaml:4:", "'code_file' must be a path inside the pack"},
};

START_TEST(test_malformed_entries)
{
	char err[AML_ERRLEN] = "", *log, line[1024];
	aml_kb *kb = NULL;
	int rc;

	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	log = load_logged(kb, "tests/data/kb/mixed", &rc, err);
	ck_assert_msg(rc == AML_OK, "%s", err);
	snprintf(line, sizeof line, "%s", mixed_warnings[_i].where);
	ck_assert_msg(strstr(log, line) != NULL, "no warning at %s in:\n%s", line, log);
	ck_assert_msg(strstr(strstr(log, line), mixed_warnings[_i].what) != NULL,
		      "warning at %s lacks '%s':\n%s", line, mixed_warnings[_i].what, log);
	/* the good entries survive, the bad ones are gone */
	ck_assert_uint_eq(aml_kb_size(kb), 3);
	ck_assert_str_eq(aml_kb_at(kb, 0)->id, "t.good");
	ck_assert_str_eq(aml_kb_at(kb, 0)->level, "model");
	ck_assert(strstr(aml_kb_at(kb, 0)->source, "a_good.yaml:1") != NULL);
	ck_assert_str_eq(aml_kb_at(kb, 1)->id, "t.needs_missing");
	ck_assert_str_eq(aml_kb_at(kb, 2)->id, "t.needs_json");
	free(log);
	aml_kb_free(kb);
}
END_TEST

static const struct {
	const char *dir;
	int rc;
	const char *msg;
} bad_manifests[] = {
	{"tests/data/kb/bad_kind", AML_EFORMAT, "bad_kind/manifest.yaml:4: 'kind' must be kb"},
	{"tests/data/kb/bad_abi", AML_EABI, "bad_abi/manifest.yaml:4: pack ABI 2.0 does not fit"},
	{"tests/data/kb/bad_yaml", AML_EFORMAT, "bad_yaml/manifest.yaml:"},
	{"tests/data/kb/no_entries_dir", AML_ENOTFOUND,
	 "no_entries_dir/manifest.yaml:5: entries folder"},
	{"tests/data/kb", AML_ENOTFOUND, "needs a manifest.yaml"},
};

START_TEST(test_bad_manifests)
{
	char err[AML_ERRLEN] = "";
	aml_kb *kb = NULL;

	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	ck_assert_int_eq(aml_kb_add_pack(kb, srcdir_path(bad_manifests[_i].dir), err,
					 sizeof err), bad_manifests[_i].rc);
	ck_assert_msg(strstr(err, bad_manifests[_i].msg) != NULL, "'%s' lacks '%s'",
		      err, bad_manifests[_i].msg);
	ck_assert_uint_eq(aml_kb_size(kb), 0);
	aml_kb_free(kb);
}
END_TEST

START_TEST(test_module_check)
{
	char err[AML_ERRLEN] = "", *dir, *logpath, *log = NULL;
	aml_kb *kb = NULL;
	int rc;

	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	free(load_logged(kb, "tests/data/kb/mixed", &rc, err));
	ck_assert_uint_eq(aml_kb_size(kb), 3);
	dir = aml_test_tmpdir();
	logpath = aml_path_join(dir, "log");
	aml_log_open_file(logpath);
	rc = aml_kb_check_modules(kb, python(), err, sizeof err);
	aml_log_close_file();
	ck_assert_msg(rc == AML_OK, "%s", err);
	ck_assert_int_eq(aml_read_file(logpath, 0, &log, NULL, NULL, 0), AML_OK);
	ck_assert_msg(strstr(log, "kb: skipping t.needs_missing: module "
			     "no_such_module_xyz not importable") != NULL, "%s", log);
	ck_assert(strstr(log, "t.needs_json") == NULL);
	ck_assert_uint_eq(aml_kb_size(kb), 2);
	ck_assert_str_eq(aml_kb_at(kb, 0)->id, "t.good");
	ck_assert_str_eq(aml_kb_at(kb, 1)->id, "t.needs_json");
	/* an interpreter that does not exist drops nothing */
	ck_assert_int_eq(aml_kb_check_modules(kb, "/nonexistent/python3", err,
					      sizeof err), AML_EIO);
	ck_assert_msg(strstr(err, "/nonexistent/python3") != NULL, "%s", err);
	ck_assert_uint_eq(aml_kb_size(kb), 2);
	free(log);
	free(logpath);
	aml_test_rmtree(dir);
	free(dir);
	aml_kb_free(kb);
}
END_TEST

START_TEST(test_query_filters)
{
	char err[AML_ERRLEN] = "";
	const aml_kb_entry *out[64];
	aml_kb *kb = NULL;
	aml_task bin = task_of(AML_TASK_BINARY, AML_OUT_PROBA, 1000, 10);
	aml_task reg = task_of(AML_TASK_REGRESSION, AML_OUT_VALUE, 1000, 10);
	aml_task big = task_of(AML_TASK_MULTICLASS, AML_OUT_LABEL, 100000, 10);
	aml_task wide = task_of(AML_TASK_BINARY, AML_OUT_LABEL, 1000, 5000);
	aml_task image = task_of(AML_TASK_BINARY, AML_OUT_LABEL, 1000, 10);
	aml_kb_query q = {"modle", NULL, NULL, 0, 0};
	size_t n, i;

	image.modality = AML_MOD_IMAGE;
	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	ck_assert_int_eq(aml_kb_add_pack(kb, srcdir_path("kb-packs/tabular"), err,
					 sizeof err), AML_OK);
	/* level */
	n = run_query(kb, NULL, "model", NULL, NULL, 0, out, 64);
	ck_assert_uint_eq(n, 9);
	for (i = 0; i < n; i++)
		ck_assert_str_eq(out[i]->level, "model");
	ck_assert_uint_eq(run_query(kb, NULL, "data", NULL, NULL, 0, out, 64), 4);
	ck_assert_uint_eq(run_query(kb, NULL, "strategy", NULL, NULL, 0, out, 64), 2);
	ck_assert_uint_eq(run_query(kb, NULL, NULL, NULL, NULL, 0, out, 64), aml_kb_size(kb));
	/* task type and output */
	n = run_query(kb, &bin, "model", NULL, NULL, 1, out, 64);
	ck_assert(has(out, n, "tabular.logistic_regression"));
	ck_assert(!has(out, n, "tabular.ridge"));
	n = run_query(kb, &reg, "model", NULL, NULL, 1, out, 64);
	ck_assert(has(out, n, "tabular.ridge"));
	ck_assert(!has(out, n, "tabular.logistic_regression"));
	ck_assert(has(out, n, "tabular.svm"));
	ck_assert(has(out, run_query(kb, &reg, "data", NULL, NULL, 1, out, 64), "tabular.log_target"));
	ck_assert(!has(out, run_query(kb, &bin, "data", NULL, NULL, 1, out, 64), "tabular.log_target"));
	/* row limits: the SVM (max 20000 rows) and seed averaging drop out */
	n = run_query(kb, &big, "model", NULL, NULL, 1, out, 64);
	ck_assert(!has(out, n, "tabular.svm"));
	ck_assert(has(out, n, "tabular.knn"));
	ck_assert(!has(out, run_query(kb, &big, "strategy", NULL, NULL, 1, out, 64),
		       "tabular.seed_averaging"));
	/* feature limits: k-NN (max 500) and the SVM (max 2000) drop out */
	n = run_query(kb, &wide, "model", NULL, NULL, 1, out, 64);
	ck_assert(!has(out, n, "tabular.knn"));
	ck_assert(!has(out, n, "tabular.svm"));
	ck_assert(has(out, n, "tabular.random_forest"));
	/* modality: nothing tabular applies to images */
	ck_assert_uint_eq(run_query(kb, &image, NULL, NULL, NULL, 1, out, 64), 0);
	/* id lookup, and an unknown id gives nothing */
	n = run_query(kb, NULL, NULL, NULL, "tabular.extra_trees", 0, out, 64);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out[0]->id, "tabular.extra_trees");
	ck_assert_uint_eq(run_query(kb, NULL, NULL, NULL, "tabular.nope", 0, out, 64), 0);
	ck_assert_uint_eq(run_query(kb, NULL, "data", NULL, "tabular.extra_trees", 0, out, 64), 0);
	/* cap and k */
	ck_assert_uint_eq(run_query(kb, NULL, "model", NULL, NULL, 0, out, 3), 3);
	q.level = "model";
	q.k = 2;
	ck_assert_int_eq(aml_kb_search(kb, NULL, &q, out, 64, &n, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 2);
	/* refusals */
	q.level = "modle";
	ck_assert_int_eq(aml_kb_search(kb, NULL, &q, out, 64, &n, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "unknown level 'modle'") != NULL, "%s", err);
	q.level = NULL;
	q.applicable_only = 1;
	ck_assert_int_eq(aml_kb_search(kb, NULL, &q, out, 64, &n, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "needs a task") != NULL, "%s", err);
	aml_kb_free(kb);
}
END_TEST

START_TEST(test_query_ranking)
{
	char err[AML_ERRLEN] = "";
	const aml_kb_entry *out[64];
	aml_kb *kb = NULL;
	aml_task bin = task_of(AML_TASK_BINARY, AML_OUT_PROBA, 1000, 10);
	size_t n;

	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	ck_assert_int_eq(aml_kb_add_pack(kb, srcdir_path("kb-packs/tabular"), err,
					 sizeof err), AML_OK);
	/* without text: by priority (HistGradientBoosting is the pack's first) */
	n = run_query(kb, &bin, "model", NULL, NULL, 1, out, 64);
	ck_assert_str_eq(out[0]->id, "tabular.hist_gradient_boosting");
	ck_assert_str_eq(out[n - 1]->id, "tabular.knn");
	/* text relevance wins over priority */
	n = run_query(kb, &bin, "model", "neural network", NULL, 1, out, 64);
	ck_assert_str_eq(out[0]->id, "tabular.mlp");
	n = run_query(kb, &bin, "model", "nearest neighbours distance", NULL, 1, out, 64);
	ck_assert_str_eq(out[0]->id, "tabular.knn");
	n = run_query(kb, NULL, NULL, "missing values imputation", NULL, 0, out, 64);
	ck_assert_str_eq(out[0]->id, "tabular.numeric_impute_scale");
	n = run_query(kb, NULL, NULL, "XGBoost", NULL, 0, out, 64);
	ck_assert_str_eq(out[0]->id, "tabular.xgboost");
	ck_assert_uint_eq(n, aml_kb_size(kb)); /* text ranks, never filters */
	aml_kb_free(kb);
}
END_TEST

START_TEST(test_free_null)
{
	aml_kb_free(NULL);
	ck_assert_uint_eq(aml_kb_size(NULL), 0);
	ck_assert_ptr_null(aml_kb_at(NULL, 0));
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("kb");
	TCase *tc = tcase_create("kb");

	aml_log_set_level(AML_LOG_ERROR); /* keep the expected warnings quiet */
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tabular_pack);
	tcase_add_loop_test(tc, test_malformed_entries, 0, (int)AML_ARRAY_LEN(mixed_warnings));
	tcase_add_loop_test(tc, test_bad_manifests, 0, (int)AML_ARRAY_LEN(bad_manifests));
	tcase_add_test(tc, test_module_check);
	tcase_add_test(tc, test_query_filters);
	tcase_add_test(tc, test_query_ranking);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
