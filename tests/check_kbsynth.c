/*
 * check_kbsynth.c — the offline provider alone, through the mock host and
 * a real knowledge base over the tabular pack: the answer's shape, the
 * recipe line, model diversity among siblings, every refusal, and the
 * drafted scripts actually run under $AML_PYTHON on small generated tasks
 * of each output kind (label, proba, class_proba, value, two values).
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include <json-c/json.h>

#include "kb.h"
#include "log.h"
#include "mock_host.h"
#include "util.h"

static aml_kb *kb;
static const aml_task *cur_task;
static const aml_plugin_desc *desc;
static void *state;
static int have_xgboost;

static const char *
python(void)
{
	const char *p = getenv("AML_PYTHON");

	return p && *p ? p : AML_DEFAULT_PYTHON;
}

static int
kb_backend(const aml_kb_query *q, const aml_kb_entry **out, size_t cap,
	   size_t *n, char *err, size_t errlen)
{
	return aml_kb_search(kb, cur_task, q, out, cap, n, err, errlen);
}

static void
set_task(const aml_task *t)
{
	cur_task = t;
	mock_host_set_task(t);
}

/* complete() with a structured request; text transferred (NULL on error). */
static int
ask(const char *structured, char **text, char *err)
{
	aml_llm_request req;
	aml_llm_response resp;
	int rc;

	memset(&req, 0, sizeof req);
	req.role = "code";
	req.user = "Write a solution.";
	req.structured = structured;
	req.temperature = -1;
	rc = ((const aml_provider_ops *)desc->ops)->complete(state, &req, &resp, err,
							   AML_ERRLEN);
	*text = NULL;
	if (rc == AML_OK) {
		ck_assert_ptr_nonnull(resp.text);
		ck_assert_str_eq(resp.model, "kbsynth");
		ck_assert_uint_eq(resp.tokens_in, 0);
		ck_assert_uint_eq(resp.tokens_out, 0);
		*text = resp.text;
		free(resp.model);
	} else {
		ck_assert_ptr_null(resp.text);
	}
	return rc;
}

/* A draft request, with siblings whose scripts carry these models. */
static char *
draft_request(int seq, const char *const *sibling_models, size_t n)
{
	json_object *r = json_object_new_object(), *sibs = json_object_new_array();
	char *s;
	size_t i;

	json_object_object_add(r, "operator", json_object_new_string("draft"));
	json_object_object_add(r, "seq", json_object_new_int(seq));
	json_object_object_add(r, "seed", json_object_new_int(7));
	json_object_object_add(r, "node_id", json_object_new_int(seq + 1));
	json_object_object_add(r, "mode", json_object_new_string("primary"));
	for (i = 0; i < n; i++) {
		json_object *sib = json_object_new_object();
		char code[512];

		snprintf(code, sizeof code, "import os\n# automlgen-recipe: "
			 "{\"model\": \"%s\", \"params\": {}, \"seed\": 1}\nprint(1)\n",
			 sibling_models[i]);
		json_object_object_add(sib, "plan", json_object_new_string("a sibling"));
		json_object_object_add(sib, "code", json_object_new_string(code));
		json_object_array_add(sibs, sib);
	}
	json_object_object_add(r, "siblings", sibs);
	s = strdup(json_object_to_json_string(r));
	json_object_put(r);
	return s;
}

/* The script inside the answer's ```python fence (transferred). */
static char *
script_of(const char *text)
{
	const char *b = strstr(text, "```python\n"), *e;

	ck_assert_msg(b != NULL, "no python fence in:\n%.300s", text);
	b += strlen("```python\n");
	e = strstr(b, "```\n");
	ck_assert_msg(e != NULL, "unterminated fence");
	return strndup(b, (size_t)(e - b));
}

/* The recipe JSON of a script (transferred). */
static json_object *
recipe_of(const char *script)
{
	const char *p = strstr(script, "# automlgen-recipe: ");
	json_object *r;
	char *line;

	ck_assert_msg(p != NULL, "no recipe line");
	p += strlen("# automlgen-recipe: ");
	line = strndup(p, strcspn(p, "\n"));
	r = json_tokener_parse(line);
	ck_assert_msg(r != NULL, "recipe is not JSON: %s", line);
	free(line);
	return r;
}

static const char *
recipe_model(json_object *r)
{
	return json_object_get_string(json_object_object_get(r, "model"));
}

/* Fail unless the script is valid Python (parsed, not run). */
static void
check_syntax(const char *code, const char *what)
{
	char *dir = aml_test_tmpdir(), *path = aml_path_join(dir, "s.py"), cmd[8400];
	int status;

	ck_assert_int_eq(aml_write_file(path, code, strlen(code), NULL, 0), AML_OK);
	snprintf(cmd, sizeof cmd, "'%s' -c 'import ast, sys; ast.parse(open(sys.argv[1]).read())' "
		 "'%s' > '%s/err.txt' 2>&1", python(), path, dir);
	status = system(cmd);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char *e = aml_path_join(dir, "err.txt"), *text = NULL;

		aml_read_file(e, 0, &text, NULL, NULL, 0);
		ck_abort_msg("the draft with %s is not valid Python:\n%s", what,
			     text ? text : "");
	}
	free(path);
	aml_test_rmtree(dir);
	free(dir);
}

/* Draft once, check the script parses, return the model id (static buffer). */
static const char *
draft_model(int seq, const char *const *sibs, size_t n)
{
	static char model[128];
	char err[AML_ERRLEN] = "", *req = draft_request(seq, sibs, n), *text, *code;
	json_object *r;

	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	code = script_of(text);
	r = recipe_of(code);
	snprintf(model, sizeof model, "%s", recipe_model(r));
	check_syntax(code, model);
	json_object_put(r);
	free(code);
	free(text);
	free(req);
	return model;
}

/* ------------------------------------------------------------------ */
/* Small generated tasks.                                              */

typedef struct gen_task {
	aml_task t;
	const char *labels[2];
	const char *subcols[3];
	const char *classes[3];
	int n_targets;
} gen_task;

static unsigned long rng_state;

static double
rnd(void)
{
	rng_state = rng_state * 6364136223846793005UL + 1442695040888963407UL;
	return (double)(rng_state >> 11) / 9007199254740992.0;
}

/* Write train/test/sample for task kind k into dir/input. */
static void
write_task(const char *dir, int k, gen_task *g)
{
	static const char *const words[] = {"alpha", "beta", "gamma"};
	static const char *const colours[] = {"red", "green", "blue", "teal"};
	char path[4200];
	FILE *tr, *te, *sa;
	int i, n_train = 150, n_test = 40, cls;
	double x1, x2, x3, z;

	memset(g, 0, sizeof *g);
	rng_state = 12345u + (unsigned long)k;
	snprintf(path, sizeof path, "%s/input", dir);
	ck_assert_int_eq(aml_mkdirs(path, NULL, 0), AML_OK);
	snprintf(path, sizeof path, "%s/input/train.csv", dir);
	tr = fopen(path, "w");
	snprintf(path, sizeof path, "%s/input/test.csv", dir);
	te = fopen(path, "w");
	snprintf(path, sizeof path, "%s/input/sample_submission.csv", dir);
	sa = fopen(path, "w");
	ck_assert(tr && te && sa);
	g->t.name = "gen";
	g->t.public_dir = dir;
	g->t.description = "";
	g->t.train_file = "train.csv";
	g->t.test_file = "test.csv";
	g->t.sample_file = "sample_submission.csv";
	g->t.modality = AML_MOD_TABULAR;
	g->t.id_column = "id";
	g->t.train_rows = (size_t)n_train;
	g->t.test_rows = (size_t)n_test;
	g->t.n_features = 4;
	g->t.label_columns = g->labels;
	g->t.submission_columns = g->subcols;
	g->t.classes = g->classes;
	switch (k) {
	case 0: /* multiclass, string labels, label output */
		g->t.type = AML_TASK_MULTICLASS;
		g->t.output = AML_OUT_LABEL;
		g->t.metric = "accuracy";
		g->t.higher_is_better = 1;
		g->labels[0] = "kind";
		g->subcols[0] = "kind";
		g->t.n_label_columns = g->t.n_submission_columns = 1;
		memcpy(g->classes, words, sizeof words);
		g->t.n_classes = 3;
		fprintf(sa, "id,kind\n");
		break;
	case 1: /* binary, probability of 1 */
		g->t.type = AML_TASK_BINARY;
		g->t.output = AML_OUT_PROBA;
		g->t.metric = "roc_auc";
		g->t.higher_is_better = 1;
		g->labels[0] = "target";
		g->subcols[0] = "target";
		g->t.n_label_columns = g->t.n_submission_columns = 1;
		g->classes[0] = "0";
		g->classes[1] = "1";
		g->t.n_classes = 2;
		fprintf(sa, "id,target\n");
		break;
	case 2: /* multiclass 1..3, one probability column per class */
		g->t.type = AML_TASK_MULTICLASS;
		g->t.output = AML_OUT_CLASS_PROBA;
		g->t.metric = "log_loss";
		g->labels[0] = "grade";
		g->subcols[0] = "grade_1";
		g->subcols[1] = "grade_2";
		g->subcols[2] = "grade_3";
		g->t.n_label_columns = 1;
		g->t.n_submission_columns = 3;
		g->classes[0] = "1";
		g->classes[1] = "2";
		g->classes[2] = "3";
		g->t.n_classes = 3;
		fprintf(sa, "id,grade_1,grade_2,grade_3\n");
		break;
	case 3: /* regression */
		g->t.type = AML_TASK_REGRESSION;
		g->t.output = AML_OUT_VALUE;
		g->t.metric = "rmse";
		g->labels[0] = "price";
		g->subcols[0] = "price";
		g->t.n_label_columns = g->t.n_submission_columns = 1;
		fprintf(sa, "id,price\n");
		break;
	default: /* two targets */
		g->t.type = AML_TASK_MULTI_REGRESSION;
		g->t.output = AML_OUT_VALUE;
		g->t.metric = "mcrmse";
		g->labels[0] = "y1";
		g->labels[1] = "y2";
		g->subcols[0] = "y1";
		g->subcols[1] = "y2";
		g->t.n_label_columns = g->t.n_submission_columns = 2;
		fprintf(sa, "id,y1,y2\n");
		break;
	}
	fprintf(tr, "id,x1,x2,x3,colour,%s\n", k == 4 ? "y1,y2" : g->labels[0]);
	fprintf(te, "id,x1,x2,x3,colour\n");
	for (i = 0; i < n_train + n_test; i++) {
		int id = 5000 + (i * 37) % 1000;
		const char *colour = colours[(int)(rnd() * 4)];
		FILE *f = i < n_train ? tr : te;
		char x3s[32];

		x1 = rnd() * 4 - 2;
		x2 = rnd() * 4 - 2;
		x3 = rnd();
		z = x1 + 0.5 * x2 + (strcmp(colour, "red") == 0) + 0.3 * (rnd() - 0.5);
		cls = z < -0.5 ? 0 : z < 0.8 ? 1 : 2;
		if (rnd() < 0.1) /* missing values */
			x3s[0] = '\0';
		else
			snprintf(x3s, sizeof x3s, "%.4f", x3);
		fprintf(f, "%d,%.4f,%.4f,%s,%s", id, x1, x2, x3s,
			rnd() < 0.05 ? "" : colour);
		if (i < n_train) {
			switch (k) {
			case 0: fprintf(f, ",%s\n", words[cls]); break;
			case 1: fprintf(f, ",%d\n", z > 0.3); break;
			case 2: fprintf(f, ",%d\n", cls + 1); break;
			case 3: fprintf(f, ",%.3f\n", 100 + 20 * z + 5 * x3); break;
			default: fprintf(f, ",%.3f,%.3f\n", 3 * z, x1 * x2); break;
			}
		} else {
			fprintf(f, "\n");
		}
	}
	/* the sample lists the test ids in reverse order, with placeholders */
	for (i = n_train + n_test - 1; i >= n_train; i--) {
		int id = 5000 + (i * 37) % 1000;

		switch (k) {
		case 0: fprintf(sa, "%d,alpha\n", id); break;
		case 1: fprintf(sa, "%d,0.5\n", id); break;
		case 2: fprintf(sa, "%d,0.333,0.333,0.333\n", id); break;
		case 3: fprintf(sa, "%d,100.0\n", id); break;
		default: fprintf(sa, "%d,0.0,0.0\n", id); break;
		}
	}
	fclose(tr);
	fclose(te);
	fclose(sa);
}

static char *
read_text(const char *dir, const char *rel)
{
	char *path = aml_path_join(dir, rel), *text = NULL;

	ck_assert_msg(aml_read_file(path, 0, &text, NULL, NULL, 0) == AML_OK,
		      "cannot read %s", path);
	free(path);
	return text;
}

/* Split text into lines in place; returns the count. */
static size_t
split_lines(char *text, char **lines, size_t cap)
{
	size_t n = 0;
	char *save = NULL, *l;

	for (l = strtok_r(text, "\n", &save); l && n < cap; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	return n;
}

/* Check the submission against the sample and the output kind. */
static void
check_submission(const char *dir, const gen_task *g)
{
	char *sub = read_text(dir, "submission/submission.csv");
	char *sample = read_text(dir, "input/sample_submission.csv");
	char *sl[128], *ml[128];
	size_t ns = split_lines(sub, sl, 128), nm = split_lines(sample, ml, 128), i;

	ck_assert_uint_eq(ns, nm);
	ck_assert_str_eq(sl[0], ml[0]); /* the header */
	for (i = 1; i < ns; i++) {
		char *comma = strchr(sl[i], ','), *vals, *tok, *save = NULL;
		double sum = 0, v;
		int cols = 0;

		ck_assert_ptr_nonnull(comma);
		/* same id, same place */
		ck_assert_int_eq(strncmp(sl[i], ml[i], (size_t)(comma - sl[i]) + 1), 0);
		vals = comma + 1;
		for (tok = strtok_r(vals, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			cols++;
			if (g->t.output == AML_OUT_LABEL) {
				ck_assert_msg(strcmp(tok, "alpha") == 0 || strcmp(tok, "beta") == 0
					      || strcmp(tok, "gamma") == 0, "label '%s'", tok);
				continue;
			}
			ck_assert_msg(aml_parse_double(tok, &v) == 0 && isfinite(v), "value '%s'", tok);
			if (g->t.output == AML_OUT_PROBA || g->t.output == AML_OUT_CLASS_PROBA)
				ck_assert_msg(v >= 0 && v <= 1, "probability %g", v);
			sum += v;
		}
		ck_assert_int_eq(cols, (int)g->t.n_submission_columns);
		if (g->t.output == AML_OUT_CLASS_PROBA)
			ck_assert_msg(fabs(sum - 1) < 1e-3, "row sums to %g", sum);
	}
	free(sub);
	free(sample);
}

/* Draft for output kind _i (steered to a model by its siblings), run the
 * script, check its output and submission. */
static const struct {
	const char *siblings[4];
	size_t n;
	const char *expect; /* the model the siblings leave first */
} runs[] = {
	/* label: the first pick, gradient boosting */
	{{NULL}, 0, "tabular.hist_gradient_boosting"},
	/* proba: XGBoost when importable, else extra trees */
	{{"tabular.hist_gradient_boosting", "tabular.random_forest"}, 2, NULL},
	/* class_proba: a random forest, with seed averaging */
	{{"tabular.hist_gradient_boosting"}, 1, "tabular.random_forest"},
	/* value: ridge regression, once the tree families are taken */
	{{"tabular.hist_gradient_boosting", "tabular.random_forest", "tabular.xgboost",
	  "tabular.extra_trees"}, 4, "tabular.ridge"},
	/* two values: gradient boosting through MultiOutputRegressor */
	{{NULL}, 0, "tabular.hist_gradient_boosting"},
};

START_TEST(test_drafts_run)
{
	char err[AML_ERRLEN] = "", *dir = aml_test_tmpdir(), *req, *text, *code, *out;
	char cmd[8400], *lines[4096], *path, *last;
	const char *model;
	size_t n;
	json_object *r;
	gen_task g;
	int status;
	double score;

	write_task(dir, _i, &g);
	set_task(&g.t);
	req = draft_request((int)runs[_i].n, runs[_i].siblings, runs[_i].n);
	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	code = script_of(text);
	r = recipe_of(code);
	model = recipe_model(r);
	if (runs[_i].expect)
		ck_assert_str_eq(model, runs[_i].expect);
	else if (_i == 1)
		ck_assert_str_eq(model, have_xgboost ? "tabular.xgboost" : "tabular.extra_trees");
	path = aml_path_join(dir, "solution.py");
	ck_assert_int_eq(aml_write_file(path, code, strlen(code), err, sizeof err), AML_OK);
	snprintf(cmd, sizeof cmd, "cd '%s' && '%s' solution.py > out.txt 2>&1", dir, python());
	status = system(cmd);
	out = read_text(dir, "out.txt");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "%s failed on output kind %d:\n%s", model, _i, out);
	n = split_lines(out, lines, 4096);
	ck_assert_uint_gt(n, 0);
	last = lines[n - 1];
	ck_assert_msg(strncmp(last, "Final Validation Score: ", 24) == 0,
		      "last line: %s", last);
	ck_assert_int_eq(aml_parse_double(last + 24, &score), 0);
	ck_assert(isfinite(score));
	check_submission(dir, &g);
	json_object_put(r);
	free(out);
	free(path);
	free(code);
	free(text);
	free(req);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The answer's shape and the choice of models.                        */

START_TEST(test_answer_shape)
{
	char err[AML_ERRLEN] = "", *dir = aml_test_tmpdir(), *req, *text, *code;
	json_object *r, *params, *v;
	gen_task g;

	write_task(dir, 0, &g);
	set_task(&g.t);
	req = draft_request(0, NULL, 0);
	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	ck_assert_msg(strncmp(text, "Plan: ", 6) == 0, "%.100s", text);
	ck_assert(strchr(text, '\n') < strstr(text, "\n\n```python\n") + 1);
	ck_assert(strstr(text, "tabular.hist_gradient_boosting") < strstr(text, "```"));
	code = script_of(text);
	/* the recipe is the first line */
	ck_assert_int_eq(strncmp(code, "# automlgen-recipe: {", 21), 0);
	r = recipe_of(code);
	ck_assert_str_eq(recipe_model(r), "tabular.hist_gradient_boosting");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(r, "seed")), 7);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(r, "folds")), 3);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(r, "validation")), "cv");
	params = json_object_object_get(r, "params");
	ck_assert(json_object_object_get_ex(params, "learning_rate", &v));
	ck_assert_double_eq_tol(json_object_get_double(v), 0.06, 1e-12);
	ck_assert(json_object_array_length(json_object_object_get(r, "preprocess")) >= 3);
	/* the contract lines of every script */
	ck_assert(strstr(code, "INPUT_DIR, WORK_DIR, SUB_DIR = \"./input\", \"./working\", \"./submission\"") != NULL);
	ck_assert(strstr(code, "\"submission.csv\"") != NULL);
	ck_assert(strstr(code, "print(\"Final Validation Score: %.6f\" % cv, flush=True)") != NULL);
	ck_assert(strstr(code, "AML_N_JOBS") != NULL);
	ck_assert(strstr(code, "learning_rate=0.06,") != NULL);
	ck_assert(strstr(code, "def numeric_transformer(scale)") != NULL);
	ck_assert(strstr(code, "strategy='median'") != NULL);
	ck_assert(strstr(code, "{{") == NULL);
	/* the task facts are in it */
	ck_assert(strstr(code, "\"label_columns\":[\"kind\"]") != NULL);
	ck_assert(strstr(code, "\"metric\":\"accuracy\"") != NULL);
	json_object_put(r);
	free(code);
	free(text);
	free(req);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* Successive drafts differ by model until the families run out. */
static void
check_diversity(int kind, const char *only, const char *never)
{
	const char *sibs[16];
	char models[16][128];
	char *dir = aml_test_tmpdir();
	size_t i, j, n_models;
	int seen_only = 0;
	gen_task g;

	write_task(dir, kind, &g);
	set_task(&g.t);
	n_models = 8 - (have_xgboost ? 0 : 1); /* 9 entries, 8 per task type */
	for (i = 0; i < n_models; i++) {
		snprintf(models[i], sizeof models[i], "%s", draft_model((int)i, sibs, i));
		sibs[i] = models[i];
		for (j = 0; j < i; j++)
			ck_assert_str_ne(models[i], models[j]);
		seen_only |= strcmp(models[i], only) == 0;
		ck_assert_str_ne(models[i], never);
	}
	ck_assert_msg(seen_only, "no draft used %s", only);
	/* all tried: round-robin by seq */
	ck_assert_str_eq(draft_model((int)n_models, sibs, n_models), models[0]);
	ck_assert_str_eq(draft_model((int)n_models + 1, sibs, n_models), models[1]);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}

START_TEST(test_diversity_classification)
{
	check_diversity(0, "tabular.logistic_regression", "tabular.ridge");
}
END_TEST

START_TEST(test_diversity_regression)
{
	check_diversity(3, "tabular.ridge", "tabular.logistic_regression");
}
END_TEST

START_TEST(test_stochastic_models_average_seeds)
{
	const char *sibs[] = {"tabular.hist_gradient_boosting"};
	char err[AML_ERRLEN] = "", *dir = aml_test_tmpdir(), *req, *text, *code;
	json_object *r, *strat;
	gen_task g;

	write_task(dir, 3, &g);
	set_task(&g.t);
	req = draft_request(1, sibs, 1);
	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	code = script_of(text);
	r = recipe_of(code);
	ck_assert_str_eq(recipe_model(r), "tabular.random_forest");
	strat = json_object_object_get(r, "strategy");
	ck_assert_uint_eq(json_object_array_length(strat), 1);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(strat, 0)),
			 "tabular.seed_averaging");
	ck_assert(strstr(code, "SEEDS = [SEED + 1009 * i for i in range(3)]") != NULL);
	ck_assert(strstr(text, "plus seed averaging") != NULL);
	json_object_put(r);
	free(code);
	free(text);
	free(req);
	/* a deterministic model gets no seed averaging */
	req = draft_request(0, NULL, 0);
	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	code = script_of(text);
	r = recipe_of(code);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(r, "strategy")), 0);
	json_object_put(r);
	free(code);
	free(text);
	free(req);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Refusals.                                                           */

static const struct {
	const char *structured;
	int rc;
	const char *msg;
} refusals[] = {
	{NULL, AML_EINVAL, "kbsynth: the request has no structured part"},
	{"{\"operator\": \"draft\", ", AML_EFORMAT, "kbsynth: the structured request is not a JSON object"},
	{"[1, 2]", AML_EFORMAT, "not a JSON object (wrong type)"},
	{"{\"seq\": 1}", AML_EFORMAT, "has no \"operator\" string"},
	{"{\"operator\": \"improve\", \"seq\": 0}", AML_EUNSUPPORTED,
	 "kbsynth: operator 'improve' is not supported yet"},
	{"{\"operator\": \"debug\"}", AML_EUNSUPPORTED, "kbsynth: operator 'debug' is not supported yet"},
};

START_TEST(test_refusals)
{
	char err[AML_ERRLEN] = "", *text, *dir = aml_test_tmpdir();
	gen_task g;

	write_task(dir, 1, &g);
	set_task(&g.t);
	ck_assert_int_eq(ask(refusals[_i].structured, &text, err), refusals[_i].rc);
	ck_assert_msg(strstr(err, refusals[_i].msg) != NULL, "'%s' lacks '%s'", err,
		      refusals[_i].msg);
	ck_assert_ptr_null(strchr(err, '\n'));
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_no_task_no_model)
{
	char err[AML_ERRLEN] = "", *text, *dir = aml_test_tmpdir();
	const char *req = "{\"operator\": \"draft\", \"seq\": 0, \"seed\": 1}";
	gen_task g;

	set_task(NULL);
	ck_assert_int_eq(ask(req, &text, err), AML_EINVAL);
	ck_assert_msg(strstr(err, "kbsynth: no task profile") != NULL, "%s", err);
	write_task(dir, 1, &g);
	/* an image task: the tabular pack has nothing for it */
	g.t.modality = AML_MOD_IMAGE;
	set_task(&g.t);
	ck_assert_int_eq(ask(req, &text, err), AML_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "no applicable pipeline skeleton") != NULL, "%s", err);
	/* a task of unknown type */
	g.t.modality = AML_MOD_TABULAR;
	g.t.type = AML_TASK_UNKNOWN;
	ck_assert_int_eq(ask(req, &text, err), AML_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "task type is unknown") != NULL, "%s", err);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_descriptor)
{
	void *st = NULL;
	char err[AML_ERRLEN] = "";
	aml_host bad = *mock_host();

	ck_assert_uint_eq(desc->abi_major, AML_ABI_MAJOR);
	ck_assert_uint_eq(desc->kind, AML_KIND_PROVIDER);
	ck_assert_str_eq(desc->name, "kbsynth");
	ck_assert_str_eq(desc->version, "1.0.0");
	bad.abi_major = AML_ABI_MAJOR + 1;
	ck_assert_int_eq(desc->init(&bad, NULL, &st, err, sizeof err), AML_EABI);
	ck_assert_ptr_null(st);
}
END_TEST

/* Per test (forked): a real kb over the tabular pack behind the mock
 * host's kb_query, and the plugin opened and initialised. */
static void
setup(void)
{
	static const char *const params[] = {"n_folds", "3", NULL};
	char err[AML_ERRLEN] = "", pack[4200];
	const char *src = getenv("AML_SRCDIR");
	const aml_kb_entry *e;
	aml_kb_query q = {NULL, NULL, "tabular.xgboost", 0, 0};
	size_t n = 0;

	aml_log_set_level(AML_LOG_WARN);
	snprintf(pack, sizeof pack, "%s/kb-packs/tabular", src ? src : SRCDIR);
	ck_assert_int_eq(aml_kb_new(&kb), AML_OK);
	ck_assert_msg(aml_kb_add_pack(kb, pack, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_kb_check_modules(kb, python(), err, sizeof err) == AML_OK,
		      "%s", err);
	ck_assert_int_eq(aml_kb_search(kb, NULL, &q, &e, 1, &n, err, sizeof err), AML_OK);
	have_xgboost = n == 1;
	mock_host_set_kb(kb_backend);
	mock_host_set_params(params);
	desc = mock_plugin_open(mock_plugin_library("kbsynth"));
	ck_assert_msg(desc->init(mock_host(), NULL, &state, err, sizeof err) == AML_OK,
		      "init: %s", err);
}

static void
teardown(void)
{
	desc->fini(state);
	state = NULL;
	aml_kb_free(kb);
	kb = NULL;
}

int
main(void)
{
	Suite *s = suite_create("kbsynth");
	TCase *tc = tcase_create("kbsynth");
	TCase *run = tcase_create("run");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_checked_fixture(run, setup, teardown);
	tcase_add_test(tc, test_descriptor);
	tcase_add_test(tc, test_answer_shape);
	tcase_add_test(tc, test_diversity_classification);
	tcase_add_test(tc, test_diversity_regression);
	tcase_add_test(tc, test_stochastic_models_average_seeds);
	tcase_add_loop_test(tc, test_refusals, 0, (int)AML_ARRAY_LEN(refusals));
	tcase_add_test(tc, test_no_task_no_model);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(run, test_drafts_run, 0, (int)AML_ARRAY_LEN(runs));
	tcase_set_timeout(run, 240);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, run);
	return aml_test_main(s);
}
