/*
 * check_kb.c — the knowledge base: the real tabular pack, every refusal of
 * a malformed manifest or entry (with file:line), the Python module check,
 * query filtering, BM25 ranking (the formula, idf, ties), packs found on
 * AUTOMLGEN_KB_PATH and kb.path, packs ranked by their own retriever (and
 * retrievers that misbehave), concurrent queries, and the host's answers
 * when the knowledge base is off.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bm25.h"
#include "host.h"
#include "kb.h"
#include "kbload.h"
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

/* Does e list modality m, or none at all (any)? */
static int
claims_modality(const aml_kb_entry *e, const char *m)
{
	json_object *j = json_tokener_parse(e->json), *l;
	int yes = 1;
	size_t i;

	ck_assert_ptr_nonnull(j);
	if (json_object_object_get_ex(j, "modalities", &l) && json_object_array_length(l) > 0) {
		yes = 0;
		for (i = 0; i < json_object_array_length(l); i++)
			yes |= strcmp(json_object_get_string(json_object_array_get_idx(l, i)), m) == 0;
	}
	json_object_put(j);
	return yes;
}

static size_t
pos_of(const aml_kb_entry **v, size_t n, const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i]->id, id) == 0)
			return i;
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
	{"tests/data/kb/bad_library", AML_EFORMAT,
	 "bad_library/manifest.yaml:5: 'library' must be a file name like bad_library.so"},
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
	ck_assert_uint_eq(run_query(kb, NULL, "data", NULL, NULL, 0, out, 64), 6);
	ck_assert_uint_eq(run_query(kb, NULL, "strategy", NULL, NULL, 0, out, 64), 5);
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
	/* min_features: feature selection (15) applies to wide data only */
	ck_assert(has(out, run_query(kb, &wide, "data", NULL, NULL, 1, out, 64),
		      "tabular.feature_selection"));
	ck_assert(!has(out, run_query(kb, &bin, "data", NULL, NULL, 1, out, 64),
		       "tabular.feature_selection"));
	/* modality: only what names images (or no modality) applies to them */
	n = run_query(kb, &image, NULL, NULL, NULL, 1, out, 64);
	for (i = 0; i < n; i++)
		ck_assert_msg(claims_modality(out[i], "image"), "%s applies to images", out[i]->id);
	ck_assert_uint_lt(n, aml_kb_size(kb));
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

/* The modality packs load cleanly, apply to their kind of task, rank for
 * a matching query, and kb.packs keeps only the packs it names. */
START_TEST(test_modality_packs)
{
	static const char *const packs[] = {
		"kb-packs/tabular", "kb-packs/text", "kb-packs/image", "kb-packs/timeseries",
		"examples/packs/naive_bayes", /* the README's worked example */
	};
	char err[AML_ERRLEN] = "", *log;
	const aml_kb_entry *out[128];
	aml_kb *kb = NULL;
	aml_task text = task_of(AML_TASK_BINARY, AML_OUT_PROBA, 4000, 2);
	aml_task image = task_of(AML_TASK_MULTICLASS, AML_OUT_LABEL, 1500, 0);
	aml_task ts = task_of(AML_TASK_REGRESSION, AML_OUT_VALUE, 5000, 30);
	size_t i, n;
	int rc;

	text.modality = AML_MOD_TEXT | AML_MOD_TABULAR;
	image.modality = AML_MOD_IMAGE;
	ts.modality = AML_MOD_TIMESERIES | AML_MOD_TABULAR;
	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	for (i = 0; i < AML_ARRAY_LEN(packs); i++) {
		log = load_logged(kb, packs[i], &rc, err);
		ck_assert_msg(rc == AML_OK, "%s: %s", packs[i], err);
		ck_assert_msg(strstr(log, "warning") == NULL, "%s warns: %s", packs[i], log);
		free(log);
	}
	/* text: the text models and TF-IDF join the tabular ones */
	n = run_query(kb, &text, "model", NULL, NULL, 1, out, 128);
	ck_assert(has(out, n, "text.nbsvm") && has(out, n, "tabular.logistic_regression"));
	ck_assert(!has(out, n, "image.small_cnn"));
	ck_assert(has(out, run_query(kb, &text, "data", NULL, NULL, 1, out, 128), "text.tfidf"));
	/* images as files: the CNN and the models that take pixels, not boosting */
	n = run_query(kb, &image, "model", NULL, NULL, 1, out, 128);
	ck_assert(has(out, n, "image.small_cnn") && has(out, n, "tabular.random_forest"));
	ck_assert(!has(out, n, "tabular.hist_gradient_boosting") && !has(out, n, "text.nbsvm"));
	n = run_query(kb, &image, "data", NULL, NULL, 1, out, 128);
	ck_assert(has(out, n, "image.load_files") && !has(out, n, "tabular.categorical_encoding"));
	/* time series: lags, calendar and the time split; the skeleton everywhere */
	n = run_query(kb, &ts, "data", NULL, NULL, 1, out, 128);
	ck_assert(has(out, n, "timeseries.lags") && has(out, n, "timeseries.calendar"));
	n = run_query(kb, &ts, "strategy", NULL, NULL, 1, out, 128);
	ck_assert(has(out, n, "timeseries.time_split") && has(out, n, "tabular.pipeline"));
	ck_assert(has(out, run_query(kb, &image, "strategy", NULL, NULL, 1, out, 128),
		      "tabular.pipeline"));
	/* a query in the pack's words finds its entries first */
	n = run_query(kb, NULL, NULL, "tf-idf character n-grams for review text", NULL, 0, out, 3);
	ck_assert_str_eq(out[0]->id, "text.tfidf");
	n = run_query(kb, NULL, "data", "lagged target values forecast horizon", NULL, 0, out, 3);
	ck_assert_str_eq(out[0]->id, "timeseries.lags");
	n = run_query(kb, NULL, "model", "convolutional network images", NULL, 0, out, 3);
	ck_assert_str_eq(out[0]->id, "image.small_cnn");
	/* kb.packs: a name that is not loaded is refused, nothing dropped */
	n = aml_kb_size(kb);
	ck_assert_int_eq(aml_kb_keep_packs(kb, "tabular, txet", err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "kb.packs names 'txet'") != NULL
		      && strstr(err, "loaded: tabular, text, image, timeseries, naive_bayes") != NULL,
		      "%s", err);
	ck_assert_uint_eq(aml_kb_size(kb), n);
	ck_assert_int_eq(aml_kb_keep_packs(kb, "", err, sizeof err), AML_OK);
	ck_assert_uint_eq(aml_kb_size(kb), n);
	ck_assert_int_eq(aml_kb_keep_packs(kb, " tabular ,text", err, sizeof err), AML_OK);
	ck_assert_uint_lt(aml_kb_size(kb), n);
	for (i = 0; i < aml_kb_size(kb); i++) {
		const char *pack = aml_kb_at(kb, i)->pack;

		ck_assert_msg(strcmp(pack, "tabular") == 0 || strcmp(pack, "text") == 0,
			      "%s kept", aml_kb_at(kb, i)->id);
	}
	ck_assert(has(out, run_query(kb, &text, "data", NULL, NULL, 1, out, 128), "text.tfidf"));
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
	/* BM25: the boosted trees before the linear model */
	n = run_query(kb, NULL, NULL, "gradient boosting trees", NULL, 0, out, 64);
	ck_assert_msg(strcmp(out[0]->id, "tabular.hist_gradient_boosting") == 0
		      || strcmp(out[0]->id, "tabular.xgboost") == 0, "first: %s", out[0]->id);
	ck_assert_uint_lt(pos_of(out, n, "tabular.hist_gradient_boosting"), 2);
	ck_assert_uint_lt(pos_of(out, n, "tabular.xgboost"), 2);
	ck_assert_uint_lt(pos_of(out, n, "tabular.xgboost"), pos_of(out, n, "tabular.ridge"));
	ck_assert_uint_lt(pos_of(out, n, "tabular.ridge"), n);
	aml_kb_free(kb);
}
END_TEST

/* ------------------------------------------------------------------ */
/* BM25, retrievers, paths.                                            */

static char *log_path;

/* Capture the log from now on (the file gets every level). */
static void
log_start(void)
{
	char *dir = aml_test_tmpdir();

	log_path = aml_path_join(dir, "log");
	free(dir);
	ck_assert_int_eq(aml_log_open_file(log_path), AML_OK);
}

/* The warning and error lines captured (transferred). */
static char *
log_stop(void)
{
	char *text = NULL, *dir, *line, *save = NULL;
	aml_sb b = {0};

	aml_log_close_file();
	if (aml_read_file(log_path, 0, &text, NULL, NULL, 0) == AML_OK)
		for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			if (strstr(line, " warning ") || strstr(line, " error "))
				aml_sb_printf(&b, "%s\n", line);
	free(text);
	text = aml_sb_take(&b);
	if (text == NULL)
		text = strdup("");
	dir = strdup(log_path);
	*strrchr(dir, '/') = '\0';
	aml_test_rmtree(dir);
	free(dir);
	AML_FREE(log_path);
	return text;
}

static size_t
count_of(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay += strlen(needle))
		n++;
	return n;
}

static size_t
rank_ids(const aml_kb *kb, const aml_task *t, const char *level, const char *text,
	 size_t k, aml_kb_hit *h, size_t cap)
{
	aml_kb_query q = {level, text, NULL, k, t != NULL};
	char err[AML_ERRLEN] = "";
	size_t n = 0;

	ck_assert_msg(aml_kb_rank(kb, t, &q, h, cap, &n, err, sizeof err) == AML_OK, "%s", err);
	return n;
}

/* The hits' ids, space-separated, into buf. */
static const char *
ids_into(const aml_kb_hit *h, size_t n, char *buf, size_t cap)
{
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n && len < cap; i++)
		len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? " " : "",
					h[i].entry->id);
	return buf;
}

/* The same in a static buffer, for one comparison on the test's thread. */
static const char *
ids_of(const aml_kb_hit *h, size_t n)
{
	static char buf[2048];

	return ids_into(h, n, buf, sizeof buf);
}

/* The line of text holding needle (transferred), or NULL. */
static char *
line_with(const char *text, const char *needle)
{
	const char *p = strstr(text, needle), *s, *e;

	if (p == NULL)
		return NULL;
	for (s = p; s > text && s[-1] != '\n'; s--)
		;
	e = strchr(p, '\n');
	return strndup(s, e ? (size_t)(e - s) : strlen(s));
}

START_TEST(test_bm25_tokens)
{
	const char *p = "XGBoost, k-NN & the l2_reg; A";
	char tok[8];

	ck_assert(aml_bm25_next_token(&p, tok, sizeof tok));
	ck_assert_str_eq(tok, "xgboost");
	ck_assert(aml_bm25_next_token(&p, tok, sizeof tok));
	ck_assert_str_eq(tok, "nn");           /* "k" is one letter */
	ck_assert(aml_bm25_next_token(&p, tok, sizeof tok));
	ck_assert_str_eq(tok, "l2");           /* "the" is a stop word */
	ck_assert(aml_bm25_next_token(&p, tok, sizeof tok));
	ck_assert_str_eq(tok, "reg");
	ck_assert(!aml_bm25_next_token(&p, tok, sizeof tok));
	p = "Histogram";                       /* cut to the buffer */
	ck_assert(aml_bm25_next_token(&p, tok, 5));
	ck_assert_str_eq(tok, "hist");
}
END_TEST

/* The score by the formula of bm25.h. */
static double
bm25_term(double idf, double tf, double len, double avg)
{
	return idf * tf * (AML_BM25_K1 + 1)
		/ (tf + AML_BM25_K1 * (1 - AML_BM25_B + AML_BM25_B * len / avg));
}

START_TEST(test_bm25_formula)
{
	static const char *const texts[] = {
		"apple banana", "apple",       /* strong (x3), weak */
		"cherry", "banana banana",
		"the durian", NULL,
	};
	static const unsigned weights[] = {3, 1};
	aml_bm25 *ix = NULL;
	aml_bm25_query *q = NULL;
	double idf_apple = log(1 + (3 - 1 + 0.5) / (1 + 0.5));
	double idf_banana = log(1 + (3 - 2 + 0.5) / (2 + 0.5));

	ck_assert_int_eq(aml_bm25_build(texts, weights, 2, 3, &ix), AML_OK);
	ck_assert_double_eq_tol(aml_bm25_doc_len(ix, 0), 7, 1e-12);
	ck_assert_double_eq_tol(aml_bm25_doc_len(ix, 1), 5, 1e-12);
	ck_assert_double_eq_tol(aml_bm25_doc_len(ix, 2), 3, 1e-12);
	ck_assert_double_eq_tol(aml_bm25_avg_len(ix), 5, 1e-12);
	ck_assert_double_eq_tol(aml_bm25_idf(ix, "apple"), idf_apple, 1e-12);
	ck_assert_double_eq_tol(aml_bm25_idf(ix, "banana"), idf_banana, 1e-12);
	ck_assert(aml_bm25_idf(ix, "apple") > aml_bm25_idf(ix, "banana"));
	ck_assert_double_eq(aml_bm25_idf(ix, "the"), 0);
	/* a term asked twice counts once; unknown terms add nothing */
	ck_assert_int_eq(aml_bm25_query_new(ix, "Banana APPLE apple kiwi", &q), AML_OK);
	ck_assert_uint_eq(aml_bm25_query_size(q), 2);
	ck_assert_double_eq_tol(aml_bm25_score(ix, q, 0),
				bm25_term(idf_apple, 4, 7, 5) + bm25_term(idf_banana, 3, 7, 5), 1e-12);
	ck_assert_double_eq_tol(aml_bm25_score(ix, q, 1), bm25_term(idf_banana, 2, 5, 5), 1e-12);
	ck_assert_double_eq(aml_bm25_score(ix, q, 2), 0);
	ck_assert_double_eq(aml_bm25_score(ix, q, 3), 0);
	aml_bm25_query_free(q);
	ck_assert_int_eq(aml_bm25_query_new(ix, NULL, &q), AML_OK);
	ck_assert_uint_eq(aml_bm25_query_size(q), 0);
	aml_bm25_query_free(q);
	aml_bm25_free(ix);
	/* no documents at all */
	ck_assert_int_eq(aml_bm25_build(NULL, weights, 2, 0, &ix), AML_OK);
	ck_assert_int_eq(aml_bm25_query_new(ix, "apple", &q), AML_OK);
	ck_assert_double_eq(aml_bm25_score(ix, q, 0), 0);
	aml_bm25_query_free(q);
	aml_bm25_free(ix);
}
END_TEST

START_TEST(test_bm25_idf_and_ties)
{
	char err[AML_ERRLEN] = "";
	aml_kb_hit h[16];
	aml_kb *kb = NULL;
	size_t n, i;

	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	ck_assert_int_eq(aml_kb_add_pack(kb, srcdir_path("tests/data/kb/idf"), err, sizeof err),
			 AML_OK);
	/* one rare word beats five common ones (and a priority of 99) */
	n = rank_ids(kb, NULL, NULL, "common rare", 0, h, 16);
	ck_assert_uint_eq(n, 5);
	ck_assert_str_eq(h[0].entry->id, "idf.scarce");
	ck_assert_str_eq(h[1].entry->id, "idf.heavy");
	ck_assert(h[0].bm25 > 3 * h[1].bm25);
	ck_assert(h[1].bm25 > h[2].bm25);    /* more of the common word still counts */
	ck_assert(h[2].bm25 > 0);
	for (i = 0; i < n; i++) {
		ck_assert_str_eq(h[i].ranker, "bm25");
		ck_assert_double_eq(h[i].score, h[i].bm25);
	}
	/* equal scores: priority, then load order; no score comes after */
	n = rank_ids(kb, NULL, NULL, "filler", 0, h, 16);
	ck_assert_str_eq(ids_of(h, n), "idf.filler2 idf.filler1 idf.filler3 idf.heavy idf.scarce");
	ck_assert_double_eq(h[0].bm25, h[2].bm25);
	ck_assert_double_eq(h[3].bm25, 0);
	/* no text: priority, then load order, every score 0 */
	n = rank_ids(kb, NULL, NULL, NULL, 0, h, 16);
	ck_assert_str_eq(ids_of(h, n), "idf.heavy idf.filler2 idf.filler1 idf.filler3 idf.scarce");
	ck_assert_double_eq(h[0].score, 0);
	/* words the pack never uses change nothing */
	n = rank_ids(kb, NULL, NULL, "zebra of the", 0, h, 16);
	ck_assert_str_eq(ids_of(h, n), "idf.heavy idf.filler2 idf.filler1 idf.filler3 idf.scarce");
	/* k and cap */
	ck_assert_uint_eq(rank_ids(kb, NULL, NULL, "filler", 2, h, 16), 2);
	ck_assert_uint_eq(rank_ids(kb, NULL, "data", "filler", 0, h, 2), 2);
	aml_kb_free(kb);
}
END_TEST

static void
put_file(const char *dir, const char *rel, const char *text)
{
	char err[AML_ERRLEN] = "", *path = aml_path_join(dir, rel), *parent = strdup(path);

	*strrchr(parent, '/') = '\0';
	ck_assert_msg(aml_mkdirs(parent, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_write_file(path, text, strlen(text), err, sizeof err) == AML_OK, "%s", err);
	free(parent);
	free(path);
}

static void
put_pack(const char *dir, const char *name, const char *kind, const char *id,
	 const char *title)
{
	char text[1024], rel[512];

	snprintf(text, sizeof text, "name: %s\nkind: %s\nversion: \"1.0.0\"\nabi: \"1.0\"\n"
		 "description: a user's pack\n", name, kind);
	put_file(dir, "manifest.yaml", text);
	snprintf(text, sizeof text, "id: %s\nlevel: model\ntitle: %s\n"
		 "guidance: frobnicates the zorblax\n", id, title);
	snprintf(rel, sizeof rel, "entries/%s.yaml", id);
	put_file(dir, rel, text);
}

START_TEST(test_kb_path)
{
	char *tmp = aml_test_tmpdir(), env[8192], opt[8192], err[AML_ERRLEN] = "";
	char *a = aml_path_join(tmp, "a"), *b = aml_path_join(tmp, "b"), *c = aml_path_join(tmp, "c");
	char *user = aml_path_join(a, "userpack"), *broken = aml_path_join(a, "broken"), *log, *line;
	aml_config *cfg = NULL;
	aml_registry *reg = NULL;
	aml_kb *kb = NULL;
	aml_kb_hit h[64];
	size_t n;

	put_pack(user, "userpack", "kb", "user.magic", "Zorblax frobnicator");
	put_pack(broken, "broken", "operator", "broken.one", "Never loaded");
	put_file(a, "notapack/README.txt", "not a pack\n");
	put_pack(b, "userpack", "kb", "user.other", "Same pack name, later");
	put_pack(c, "second", "kb", "second.one", "Second user pack");
	snprintf(env, sizeof env, "%s:%s/missing:%s", a, tmp, a);
	ck_assert_int_eq(setenv("AUTOMLGEN_KB_PATH", env, 1), 0);
	ck_assert_int_eq(aml_config_new(&cfg, err, sizeof err), AML_OK);
	snprintf(opt, sizeof opt, "kb.path=%s:%s", b, c);
	ck_assert_msg(aml_config_set_arg(cfg, opt, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_registry_scan(NULL, &reg, err, sizeof err) == AML_OK, "%s", err);
	log_start();
	ck_assert_msg(aml_kb_load_all(cfg, reg, NULL, NULL, &kb, err, sizeof err) == AML_OK,
		      "%s", err);
	log = log_stop();
	/* the user's packs come first, then the plugin path's */
	ck_assert_str_eq(aml_kb_pack_name(kb, 0, NULL), "userpack");
	ck_assert_str_eq(aml_kb_pack_name(kb, 1, NULL), "second");
	ck_assert_ptr_nonnull(by_id(kb, "user.magic"));
	ck_assert_ptr_nonnull(by_id(kb, "second.one"));
	ck_assert_ptr_nonnull(by_id(kb, "tabular.xgboost"));
	ck_assert_ptr_null(by_id(kb, "user.other"));
	ck_assert_ptr_null(by_id(kb, "broken.one"));
	/* one line for each problem; the folder named twice loads once */
	ck_assert_msg(strstr(log, "broken/manifest.yaml:2: 'kind' must be kb") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "AUTOMLGEN_KB_PATH: knowledge pack folder") != NULL
		      && strstr(log, "/missing does not exist") != NULL, "%s", log);
	ck_assert_msg(count_of(log, "a pack named 'userpack' is already loaded") == 1, "%s", log);
	line = line_with(log, "already loaded");
	ck_assert_msg(strstr(line, "/b/manifest.yaml:1:") != NULL, "%s", line);
	free(line);
	/* and the user's entry is found */
	n = rank_ids(kb, NULL, NULL, "zorblax frobnicator", 0, h, 64);
	ck_assert_uint_ge(n, 3);
	ck_assert_str_eq(h[0].entry->id, "user.magic");
	ck_assert_str_eq(h[1].entry->id, "second.one");
	ck_assert(h[2].bm25 == 0);
	free(log);
	aml_kb_free(kb);
	/* without the environment, kb.path alone */
	unsetenv("AUTOMLGEN_KB_PATH");
	log_start();
	ck_assert_int_eq(aml_kb_load_all(cfg, NULL, NULL, NULL, &kb, err, sizeof err), AML_OK);
	log = log_stop();
	ck_assert_uint_eq(aml_kb_pack_count(kb), 2);
	ck_assert_ptr_nonnull(by_id(kb, "user.other"));
	ck_assert_msg(log[0] == '\0', "%s", log);
	free(log);
	aml_kb_free(kb);
	aml_registry_free(reg);
	aml_config_free(cfg);
	aml_test_rmtree(tmp);
	free(tmp);
	free(a);
	free(b);
	free(c);
	free(user);
	free(broken);
}
END_TEST

/* A kb loaded from tests/data/kb packs, retrievers opened with ctx (whose
 * kb it becomes); the log of the opening in *log when log is non-NULL. */
static aml_kb *
load_with_retrievers(aml_context *ctx, const char *const *packs, char **log)
{
	char err[AML_ERRLEN] = "", rel[256];
	aml_kb *kb = NULL;
	size_t i;

	aml_context_init(ctx, NULL);
	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	log_start();
	for (i = 0; packs[i]; i++) {
		snprintf(rel, sizeof rel, "%s%s", strchr(packs[i], '/') ? "" : "tests/data/kb/",
			 packs[i]);
		ck_assert_msg(aml_kb_add_pack(kb, srcdir_path(rel), err, sizeof err) == AML_OK,
			      "%s", err);
	}
	ck_assert_int_eq(aml_kb_open_retrievers(kb, ctx), AML_OK);
	ctx->kb = kb;
	if (log)
		*log = log_stop();
	else
		free(log_stop());
	return kb;
}

START_TEST(test_retriever_ranks_its_pack)
{
	static const char *const packs[] = {"tpk-reverse", NULL};
	aml_manifest m_op = {0}, m_kb = {0};
	aml_plugin op = {0}, kbp = {0};
	aml_context ctx;
	aml_kb_query q = {"model", NULL, NULL, 0, 0};
	const aml_kb_entry *e[16];
	char err[AML_ERRLEN] = "", *log;
	aml_kb_hit h[16];
	aml_kb *kb = load_with_retrievers(&ctx, packs, &log);
	const aml_host *host = aml_host_table();
	size_t n;
	int has_retriever = 0;

	ck_assert_msg(log[0] == '\0', "%s", log);
	free(log);
	ck_assert_str_eq(aml_kb_pack_name(kb, 0, &has_retriever), "tpk-reverse");
	ck_assert_int_eq(has_retriever, 1);
	ck_assert_uint_eq(host->abi_minor, 3);
	/* reverse id order, the hidden entry left out; BM25 would say a, b, d */
	n = rank_ids(kb, NULL, "model", NULL, 0, h, 16);
	ck_assert_str_eq(ids_of(h, n), "rev.d rev.b rev.a");
	ck_assert_str_eq(h[0].ranker, "tpk-reverse");
	ck_assert_double_eq_tol(h[0].score, 1.0 / 61, 1e-12);
	ck_assert_double_eq_tol(h[2].score, 1.0 / 63, 1e-12);
	/* the filters reach the retriever: every level, then text it ignores */
	n = rank_ids(kb, NULL, NULL, NULL, 0, h, 16);
	ck_assert_str_eq(ids_of(h, n), "rev.d rev.c rev.b rev.a");
	n = rank_ids(kb, NULL, NULL, "alpha model", 2, h, 16);
	ck_assert_str_eq(ids_of(h, n), "rev.d rev.c");
	/* an id lookup asks no retriever: the hidden entry is there */
	q.level = NULL;
	q.id = "rev.e";
	ck_assert_int_eq(aml_kb_search(kb, NULL, &q, e, 16, &n, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(e[0]->id, "rev.e");
	/* through the host, as operators ask */
	m_op.name = (char *)"someop";
	m_op.kind = AML_KIND_OPERATOR;
	op.manifest = &m_op;
	op.ctx = &ctx;
	q.id = NULL;
	q.level = "model";
	ck_assert_int_eq(host->kb_query(&op, &q, e, 16, &n, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 3);
	ck_assert_str_eq(e[0]->id, "rev.d");
	/* only a kb plugin has a pack */
	ck_assert_int_eq(host->kb_pack_entries(&op, &q, e, 16, &n, err, sizeof err),
			 AML_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "only a knowledge pack's retriever") != NULL, "%s", err);
	ck_assert_uint_eq(n, 0);
	m_kb.name = (char *)"tpk-reverse";
	m_kb.kind = AML_KIND_KB;
	kbp.manifest = &m_kb;
	kbp.ctx = &ctx;
	ck_assert_int_eq(host->kb_pack_entries(&kbp, &q, e, 0, &n, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 4);                 /* counted, none written */
	ck_assert_int_eq(host->kb_pack_entries(&kbp, &q, e, 2, &n, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(e[0]->id, "rev.a");     /* load order */
	ck_assert_str_eq(e[1]->id, "rev.b");
	m_kb.name = (char *)"no-such-pack";
	ck_assert_int_eq(host->kb_pack_entries(&kbp, &q, e, 2, &n, err, sizeof err), AML_ENOTFOUND);
	aml_kb_free(kb);
}
END_TEST

START_TEST(test_retriever_fused)
{
	static const char *const packs[] = {"idf", "tpk-reverse", NULL};
	aml_context ctx;
	aml_kb_hit h[16];
	aml_kb *kb = load_with_retrievers(&ctx, packs, NULL);
	size_t n;

	/* BM25 (heavy, scarce) and the retriever (d, b, a) interleaved by
	 * rank; equal ranks by priority: heavy 99 > d 10, b 70 > scarce 10 */
	n = rank_ids(kb, NULL, "model", NULL, 0, h, 16);
	ck_assert_str_eq(ids_of(h, n), "idf.heavy rev.d rev.b idf.scarce rev.a");
	ck_assert_str_eq(h[0].ranker, "bm25");
	ck_assert_str_eq(h[1].ranker, "tpk-reverse");
	ck_assert_double_eq_tol(h[0].score, 1.0 / 61, 1e-12);
	ck_assert_double_eq_tol(h[3].score, 1.0 / 62, 1e-12);
	/* text reorders the BM25 list only */
	n = rank_ids(kb, NULL, "model", "rare", 0, h, 16);
	ck_assert_str_eq(ids_of(h, n), "idf.scarce rev.d idf.heavy rev.b rev.a");
	ck_assert(h[0].bm25 > 0);
	ck_assert_uint_eq(rank_ids(kb, NULL, "model", "rare", 2, h, 16), 2);
	aml_kb_free(kb);
}
END_TEST

static const struct {
	const char *pack;
	const char *warning;
	const char *ids;
} bad_retrievers[] = {
	{"tpk-garbage", "kb: pack 'tpk-garbage': retriever returned an entry (#1) that is not "
	 "one of the 2 candidates of its pack; ranked by BM25", "gar.b gar.a"},
	{"tpk-fail", "kb: pack 'tpk-fail': retriever failed: index is corrupt; ranked by BM25",
	 "fail.b fail.a"},
	{"tpk-twice", "kb: pack 'tpk-twice': retriever returned tw.a twice; ranked by BM25",
	 "tw.b tw.a"},
	{"tpk-nolib", "kb: pack 'tpk-nolib': retriever not used: plugin 'tpk-nolib'", "nolib.b nolib.a"},
};

START_TEST(test_retriever_misbehaves)
{
	const char *packs[] = {bad_retrievers[_i].pack, NULL};
	int at_open = strcmp(bad_retrievers[_i].pack, "tpk-nolib") == 0;
	aml_context ctx;
	aml_kb_hit h[16];
	char *open_log, *log;
	aml_kb *kb = load_with_retrievers(&ctx, packs, &open_log);
	size_t n, k;

	log_start();
	for (k = 0; k < 3; k++) { /* the run goes on, with BM25 */
		n = rank_ids(kb, NULL, "model", NULL, 0, h, 16);
		ck_assert_str_eq(ids_of(h, n), bad_retrievers[_i].ids);
		ck_assert_str_eq(h[0].ranker, "bm25");
	}
	log = log_stop();
	if (at_open) {
		/* a library that is not there: said once, when opening */
		ck_assert_msg(strstr(open_log, bad_retrievers[_i].warning) != NULL
			      && strstr(open_log, "tpk_nowhere.so not found") != NULL
			      && strstr(open_log, "its entries are ranked by BM25") != NULL,
			      "%s", open_log);
		ck_assert_msg(log[0] == '\0', "%s", log);
	} else {
		/* one warning line for three queries */
		ck_assert_msg(open_log[0] == '\0', "%s", open_log);
		ck_assert_msg(strstr(log, bad_retrievers[_i].warning) != NULL, "'%s' lacks '%s'",
			      log, bad_retrievers[_i].warning);
		ck_assert_msg(count_of(log, "\n") == 1, "%s", log);
	}
	free(open_log);
	free(log);
	aml_kb_free(kb);
}
END_TEST

/* Queries from several threads at once, the retriever's included: each
 * thread must see what one thread alone sees. */
static const struct {
	const char *level;
	const char *text;
} conc_queries[] = {
	{NULL, "gradient boosting trees"}, {"model", NULL}, {NULL, "common rare"},
	{"model", "neural network"}, {"data", "missing values imputation"}, {NULL, NULL},
};

typedef struct conc_arg {
	const aml_kb *kb;
	const aml_task *task;
	char expect[AML_ARRAY_LEN(conc_queries)][2048];
	int mismatches;
} conc_arg;

static void *
conc_worker(void *p)
{
	conc_arg *a = p;
	aml_kb_hit h[128];
	char err[AML_ERRLEN], got[2048];
	size_t i, r, n;

	for (r = 0; r < 60; r++)
		for (i = 0; i < AML_ARRAY_LEN(conc_queries); i++) {
			aml_kb_query q = {conc_queries[i].level, conc_queries[i].text, NULL, 0, 1};

			if (aml_kb_rank(a->kb, a->task, &q, h, 128, &n, err, sizeof err) != AML_OK
			    || strcmp(ids_into(h, n, got, sizeof got), a->expect[i]) != 0)
				__atomic_add_fetch(&a->mismatches, 1, __ATOMIC_RELAXED);
		}
	return NULL;
}

START_TEST(test_concurrent_queries)
{
	static const char *const packs[] = {"kb-packs/tabular", "idf", "tpk-reverse", NULL};
	aml_task bin = task_of(AML_TASK_BINARY, AML_OUT_PROBA, 1000, 10);
	static conc_arg arg;
	pthread_t th[4];
	aml_context ctx;
	aml_kb_hit h[128];
	aml_kb *kb = load_with_retrievers(&ctx, packs, NULL);
	size_t i, n;

	memset(&arg, 0, sizeof arg);
	arg.kb = kb;
	arg.task = &bin;
	ctx.task = &bin;
	for (i = 0; i < AML_ARRAY_LEN(conc_queries); i++) {
		n = rank_ids(kb, &bin, conc_queries[i].level, conc_queries[i].text, 0, h, 128);
		ck_assert_uint_gt(n, 0);
		snprintf(arg.expect[i], sizeof arg.expect[i], "%s", ids_of(h, n));
	}
	ck_assert_msg(strstr(arg.expect[1], "rev.d") != NULL, "%s", arg.expect[1]);
	for (i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, conc_worker, &arg), 0);
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ck_assert_int_eq(arg.mismatches, 0);
	aml_kb_free(kb);
}
END_TEST

/* kb.enabled=false: the run leaves ctx.kb NULL, and the host answers no
 * entries (operators then write "(no entries)" in their prompts). */
START_TEST(test_host_kb_off)
{
	aml_manifest m = {0};
	aml_plugin p = {0};
	aml_context ctx;
	aml_kb_query q = {NULL, "gradient boosting", NULL, 5, 1};
	const aml_kb_entry *e[8] = {NULL};
	aml_task bin = task_of(AML_TASK_BINARY, AML_OUT_PROBA, 1000, 10);
	char err[AML_ERRLEN] = "";
	const aml_host *host = aml_host_table();
	aml_kb *kb = NULL;
	size_t n = 99;

	aml_context_init(&ctx, NULL);
	ctx.task = &bin;
	m.name = (char *)"draft";
	m.kind = AML_KIND_OPERATOR;
	p.manifest = &m;
	p.ctx = &ctx;
	ck_assert_int_eq(host->kb_query(&p, &q, e, 8, &n, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(e[0]);
	m.kind = AML_KIND_KB;
	n = 99;
	ck_assert_int_eq(host->kb_pack_entries(&p, &q, e, 8, &n, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 0);
	/* outside a run (no context) too */
	p.ctx = NULL;
	m.kind = AML_KIND_OPERATOR;
	ck_assert_int_eq(host->kb_query(&p, &q, e, 8, &n, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 0);
	/* and with the knowledge base on, the same query has entries */
	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	ck_assert_int_eq(aml_kb_add_pack(kb, srcdir_path("kb-packs/tabular"), err, sizeof err),
			 AML_OK);
	ctx.kb = kb;
	p.ctx = &ctx;
	ck_assert_int_eq(host->kb_query(&p, &q, e, 8, &n, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 5);
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
	tcase_add_test(tc, test_modality_packs);
	tcase_add_test(tc, test_bm25_tokens);
	tcase_add_test(tc, test_bm25_formula);
	tcase_add_test(tc, test_bm25_idf_and_ties);
	tcase_add_test(tc, test_kb_path);
	tcase_add_test(tc, test_retriever_ranks_its_pack);
	tcase_add_test(tc, test_retriever_fused);
	tcase_add_loop_test(tc, test_retriever_misbehaves, 0, (int)AML_ARRAY_LEN(bad_retrievers));
	tcase_add_test(tc, test_concurrent_queries);
	tcase_add_test(tc, test_host_kb_off);
	tcase_add_test(tc, test_free_null);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
