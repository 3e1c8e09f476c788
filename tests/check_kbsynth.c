/*
 * check_kbsynth.c — the offline provider alone, through the mock host and
 * a real knowledge base over the tabular pack: the answer's shape, the
 * recipe line, model diversity among siblings, every refusal, and the
 * drafted scripts actually run under $AML_PYTHON on small generated tasks
 * of each output kind (label, proba, class_proba, value, two values).
 * Then the other operators' answers built on a real draft as the parent:
 * improve changes exactly one thing (of its flavor, not what a sibling
 * did; in reference mode borrowed from a better node, of another flavor
 * when need be), fuse blends two or more model families, recall builds on
 * the largest gain among the branch's steps, debug turns each kind of failure into a
 * working recipe; an improved and a fused script run under $AML_PYTHON.
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

/* A knowledge base with no entries at all. */
static int
kb_empty(const aml_kb_query *q, const aml_kb_entry **out, size_t cap,
	 size_t *n, char *err, size_t errlen)
{
	(void)q, (void)out, (void)cap, (void)err, (void)errlen;
	*n = 0;
	return AML_OK;
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

/* The draft request that gets family want on the current task: drafts in
 * turn, each shown the earlier ones as siblings, until want comes up
 * (transferred).  Fails the test when no draft uses it. */
static char *
family_request(const char *want)
{
	static char models[16][128];
	const char *sibs[16];
	size_t i;

	for (i = 0; i < 16; i++) {
		snprintf(models[i], sizeof models[i], "%s", draft_model((int)i, sibs, i));
		if (strcmp(models[i], want) == 0)
			return draft_request((int)i, sibs, i);
		sibs[i] = models[i];
	}
	ck_abort_msg("no draft uses %s", want);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Small generated tasks.                                              */

typedef struct gen_task {
	aml_task t;
	char public_dir[4200];   /* dir/input, which kbsynth profiles */
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
	snprintf(g->public_dir, sizeof g->public_dir, "%s/input", dir);
	g->t.public_dir = g->public_dir;
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
				size_t k;

				for (k = 0; k < g->t.n_classes && strcmp(tok, g->classes[k]) != 0; k++)
					;
				ck_assert_msg(k < g->t.n_classes, "label '%s'", tok);
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

/* Draft for output kind _i (steered to a model family by its siblings),
 * run the script, check its output and submission. */
static const char *const runs[] = {
	"tabular.hist_gradient_boosting",  /* label: the first pick */
	NULL,                              /* proba: XGBoost, else extra trees */
	"tabular.random_forest",           /* class_proba: with seed averaging */
	"tabular.ridge",                   /* value */
	"tabular.hist_gradient_boosting",  /* two values: MultiOutputRegressor */
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
	req = family_request(runs[_i] ? runs[_i]
			     : have_xgboost ? "tabular.xgboost" : "tabular.extra_trees");
	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	code = script_of(text);
	r = recipe_of(code);
	model = recipe_model(r);
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

/* Successive drafts differ by model until the families run out, and take
 * one kind of model after another: the second draft is the linear one
 * (only), not a second tree ensemble. */
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
	ck_assert_str_eq(models[1], only);
	for (i = 2; i < 5; i++) /* kernel, network, neighbours before more trees */
		ck_assert_msg(strstr("tabular.random_forest tabular.xgboost tabular.extra_trees",
				     models[i]) == NULL, "draft %zu is %s", i, models[i]);
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
	char err[AML_ERRLEN] = "", *dir = aml_test_tmpdir(), *req, *text, *code;
	json_object *r, *strat;
	gen_task g;

	write_task(dir, 3, &g);
	set_task(&g.t);
	req = family_request("tabular.random_forest");
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
	{"{\"operator\": \"nope\", \"seq\": 0}", AML_EUNSUPPORTED,
	 "kbsynth: operator 'nope' is not supported; kbsynth answers draft, debug"},
	{"{\"operator\": \"improve\", \"seq\": 0}", AML_EINVAL,
	 "kbsynth: the improve request has no parent node"},
	{"{\"operator\": \"debug\"}", AML_EINVAL, "kbsynth: the debug request has no parent node"},
	{"{\"operator\": \"recall\"}", AML_EINVAL, "kbsynth: the recall request has no parent node"},
	{"{\"operator\": \"fuse\", \"refs\": []}", AML_EINVAL,
	 "kbsynth: the fuse request has no nodes to combine"},
	{"{\"operator\": \"improve\", \"flavor\": \"speed\", \"parent\": {\"id\": 1}}",
	 AML_EINVAL, "kbsynth: unknown improve flavor 'speed'"},
	{"{\"operator\": \"improve\", \"parent\": {\"id\": 4, \"code\": \"print(1)\"}}",
	 AML_EUNSUPPORTED, "kbsynth: cannot improve node 4: the script has no '# automlgen-recipe:' line"},
	{"{\"operator\": \"fuse\", \"refs\": [{\"id\": 2, \"code\": \"x\"}]}",
	 AML_EUNSUPPORTED, "none of the nodes to fuse (2) has a recipe line"},
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
	/* a knowledge base with nothing for the task */
	mock_host_set_kb(kb_empty);
	set_task(&g.t);
	ck_assert_int_eq(ask(req, &text, err), AML_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "no applicable pipeline skeleton") != NULL, "%s", err);
	mock_host_set_kb(kb_backend);
	/* an image task: the skeleton and the models that take pixels apply */
	g.t.modality = AML_MOD_IMAGE;
	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	ck_assert_ptr_nonnull(strstr(text, "tabular.pipeline"));
	free(text);
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

/* ------------------------------------------------------------------ */
/* The other operators, on real drafts.                                */

/* A node of a request. */
typedef struct tnode {
	int id, parent_id;
	const char *code;
	const char *status;  /* NULL: "valid" */
	const char *reason;
	const char *output;
	int has_score;
	double score;
} tnode;

static json_object *
tnode_json(const tnode *n)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_int(n->id));
	json_object_object_add(o, "parent_id", json_object_new_int(n->parent_id));
	json_object_object_add(o, "op", json_object_new_string("improve"));
	json_object_object_add(o, "plan", json_object_new_string("a plan"));
	json_object_object_add(o, "code", json_object_new_string(n->code ? n->code : ""));
	json_object_object_add(o, "status", json_object_new_string(n->status ? n->status : "valid"));
	json_object_object_add(o, "reason", json_object_new_string(n->reason ? n->reason : ""));
	json_object_object_add(o, "output", json_object_new_string(n->output ? n->output : ""));
	json_object_object_add(o, "score", n->has_score ? json_object_new_double(n->score) : NULL);
	return o;
}

/* A structured request for op (transferred). */
static char *
op_request(const char *op, const char *flavor, const char *mode, int seq,
	   const tnode *parent, const tnode *sibs, size_t ns, const tnode *refs, size_t nr)
{
	json_object *r = json_object_new_object(), *a;
	char *s;
	size_t i;

	json_object_object_add(r, "operator", json_object_new_string(op));
	json_object_object_add(r, "mode", json_object_new_string(mode ? mode : "primary"));
	if (flavor)
		json_object_object_add(r, "flavor", json_object_new_string(flavor));
	json_object_object_add(r, "seq", json_object_new_int(seq));
	json_object_object_add(r, "seed", json_object_new_int(11));
	json_object_object_add(r, "node_id", json_object_new_int(100 + seq));
	if (parent)
		json_object_object_add(r, "parent", tnode_json(parent));
	a = json_object_new_array();
	for (i = 0; i < ns; i++)
		json_object_array_add(a, tnode_json(&sibs[i]));
	json_object_object_add(r, "siblings", a);
	a = json_object_new_array();
	for (i = 0; i < nr; i++)
		json_object_array_add(a, tnode_json(&refs[i]));
	json_object_object_add(r, "refs", a);
	s = strdup(json_object_to_json_string(r));
	json_object_put(r);
	return s;
}

/* The script of a draft whose siblings used these models (transferred). */
static char *
draft_code(int seq, const char *const *sibs, size_t n)
{
	char err[AML_ERRLEN] = "", *req = draft_request(seq, sibs, n), *text, *code;

	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	code = script_of(text);
	free(text);
	free(req);
	return code;
}

/* Ask and return the script (transferred); *plan gets the plan line. */
static char *
answer_code(const char *req, char **plan)
{
	char err[AML_ERRLEN] = "", *text, *code;

	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	ck_assert_msg(strncmp(text, "Plan: ", 6) == 0, "%.200s", text);
	ck_assert_ptr_null(memchr(text, '\n', (size_t)(strstr(text, "\n\n```python\n") - text)));
	code = script_of(text);
	check_syntax(code, "an operator's answer");
	if (plan)
		*plan = strndup(text, strcspn(text, "\n"));
	free(text);
	return code;
}

/* code with its recipe line replaced by recipe r (transferred). */
static char *
with_recipe(const char *code, json_object *r)
{
	const char *p = strstr(code, "# automlgen-recipe: "), *e;
	char *out;

	ck_assert_ptr_nonnull(p);
	e = strchr(p, '\n');
	ck_assert_int_ne(asprintf(&out, "%.*s# automlgen-recipe: %s%s", (int)(p - code), code,
				  json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN), e), -1);
	return out;
}

/* The recipe's keys whose values differ between a and b, as one line
 * ("params.n_estimators", "preprocess", ...); model params one by one.
 * "lineage" is bookkeeping (what the recipe was made from), not a change. */
static void
recipe_diff(json_object *a, json_object *b, char *out, size_t cap)
{
	json_object *pa = json_object_object_get(a, "params");
	json_object *pb = json_object_object_get(b, "params");
	size_t len = 0;

	out[0] = '\0';
	json_object_object_foreach(b, key, vb) {
		json_object *va = json_object_object_get(a, key);

		if (strcmp(key, "params") == 0 || strcmp(key, "lineage") == 0
		    || json_object_equal(va, vb))
			continue;
		len += (size_t)snprintf(out + len, cap - len, "%s%s", len ? " " : "", key);
	}
	json_object_object_foreach(a, key2, va2) {
		(void)va2;
		if (strcmp(key2, "lineage") != 0 && !json_object_object_get_ex(b, key2, NULL))
			len += (size_t)snprintf(out + len, cap - len, "%s-%s", len ? " " : "", key2);
	}
	if (pa && pb) {
		json_object_object_foreach(pb, k, vb2) {
			if (!json_object_equal(json_object_object_get(pa, k), vb2))
				len += (size_t)snprintf(out + len, cap - len, "%sparams.%s",
							len ? " " : "", k);
		}
	}
}

static double
param_of(json_object *r, const char *key)
{
	json_object *v = json_object_object_get(json_object_object_get(r, "params"), key);

	ck_assert_msg(v != NULL, "no parameter %s", key);
	return json_object_get_double(v);
}

/* A random forest draft on the current task. */
static char *
rf_draft(void)
{
	char err[AML_ERRLEN] = "", *req = family_request("tabular.random_forest"), *text, *code;

	ck_assert_msg(ask(req, &text, err) == AML_OK, "%s", err);
	code = script_of(text);
	free(text);
	free(req);
	return code;
}

START_TEST(test_improve_one_change)
{
	static const char *const flavors[] = {"hyperparameters", "features", "strategy"};
	/* what each flavor may change in the recipe line */
	static const char *const allowed[][5] = {
		{"params.", NULL},
		{"preprocess", "data_params", NULL},
		{"strategy", "strategy_params", "test_from", "class_weight", "folds"},
	};
	char *dir = aml_test_tmpdir(), *code, *req, *out, *plan, *again, diff[512];
	json_object *before, *after;
	tnode parent = {7, 3, NULL, NULL, NULL, NULL, 1, 0.9};
	gen_task g;
	size_t k;
	int ok = 0;

	write_task(dir, 0, &g);
	set_task(&g.t);
	code = rf_draft();
	parent.code = code;
	req = op_request("improve", flavors[_i], NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	before = recipe_of(code);
	after = recipe_of(out);
	recipe_diff(before, after, diff, sizeof diff);
	/* exactly one thing changed, of the flavor's kind */
	ck_assert_msg(diff[0] != '\0' && strchr(diff, ' ') == NULL, "changed: '%s'", diff);
	for (k = 0; k < 5 && allowed[_i][k]; k++)
		ok |= strncmp(diff, allowed[_i][k], strlen(allowed[_i][k])) == 0;
	ck_assert_msg(ok, "%s changed '%s'", flavors[_i], diff);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(after, "seed")),
			 json_object_get_int(json_object_object_get(before, "seed")));
	ck_assert_str_eq(recipe_model(after), "tabular.random_forest");
	ck_assert_msg(strstr(plan, "improve node 7") && (strstr(plan, " -> ")
		      || strstr(plan, "added") || strstr(plan, "dropped")), "%s", plan);
	ck_assert_msg(strstr(plan, flavors[_i]) != NULL, "%s", plan);
	/* the same request, the same answer */
	again = answer_code(req, NULL);
	ck_assert_str_eq(again, out);
	json_object_put(before);
	json_object_put(after);
	free(again);
	free(plan);
	free(out);
	free(req);
	free(code);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* An improve never steps back: no change of a child's recipe makes its
 * parent's again (C 0.25 -> 1 after C 1 -> 0.25 spent a node on churn),
 * and the recipe line records what it was made from. */
START_TEST(test_improve_never_steps_back)
{
	char *dir = aml_test_tmpdir(), *code, *req, *child, *text, *out[64], diff[512];
	char err[AML_ERRLEN] = "";
	json_object *draft, *mid, *after, *lin;
	tnode parent = {7, 3, NULL, NULL, NULL, NULL, 1, 0.9}, sibs[64];
	gen_task g;
	size_t n = 0, i;
	int rc, seq, found;

	write_task(dir, 3, &g);
	set_task(&g.t);
	code = rf_draft();
	draft = recipe_of(code);
	ck_assert_ptr_null(json_object_object_get(draft, "lineage"));
	parent.code = code;
	/* a child whose change can be undone: an option set to another of
	 * its choices, which offer the old value back */
	for (seq = 0;; seq++) {
		char *plan;

		ck_assert_int_lt(seq, 64);
		req = op_request("improve", "features", NULL, seq, &parent, NULL, 0, NULL, 0);
		child = answer_code(req, &plan);
		free(req);
		found = strstr(plan, "missing_indicator true -> false") != NULL
			|| strstr(plan, "strategy median -> mean") != NULL;
		free(plan);
		if (found)
			break;
		free(child);
	}
	mid = recipe_of(child);
	lin = json_object_object_get(mid, "lineage");
	ck_assert_ptr_nonnull(lin);
	ck_assert_uint_eq(json_object_array_length(lin), 1);
	parent.id = 8;
	parent.code = child;
	/* improve the child until every single change was tried by a
	 * sibling: each answer is shown to the next as a sibling */
	while (n < 64) {
		req = op_request("improve", "features", NULL, (int)n, &parent, sibs, n,
				 NULL, 0);
		rc = ask(req, &text, err);
		free(req);
		if (rc != AML_OK)
			break;
		out[n] = script_of(text);
		free(text);
		after = recipe_of(out[n]);
		recipe_diff(draft, after, diff, sizeof diff);
		ck_assert_msg(diff[0] != '\0', "answer %zu made the grandparent's recipe again", n);
		recipe_diff(mid, after, diff, sizeof diff);
		ck_assert_msg(diff[0] != '\0', "answer %zu made the parent's recipe again", n);
		lin = json_object_object_get(after, "lineage");
		ck_assert_uint_eq(json_object_array_length(lin), 2);
		ck_assert(json_object_equal(json_object_array_get_idx(lin, 1),
					    json_object_array_get_idx(json_object_object_get(mid,
							"lineage"), 0)));
		json_object_put(after);
		sibs[n] = (tnode){20 + (int)n, 8, out[n], NULL, NULL, NULL, 1, 0.9};
		n++;
	}
	ck_assert_int_eq(rc, AML_EUNSUPPORTED);
	ck_assert_msg(strstr(err, "already tried") != NULL, "%s", err);
	ck_assert_uint_ge(n, 4);
	for (i = 0; i < n; i++)
		free(out[i]);
	json_object_put(mid);
	json_object_put(draft);
	free(child);
	free(code);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_improve_hyperparameter_step)
{
	char *dir = aml_test_tmpdir(), *code, *req, *out, *plan, *out2, diff[512], diff2[512];
	json_object *before, *after, *after2, *space_check;
	tnode parent = {7, 3, NULL, NULL, NULL, NULL, 1, 0.9}, sib = {9, 7, NULL, NULL, NULL,
								  NULL, 1, 0.91};
	gen_task g;
	int seq;

	write_task(dir, 3, &g);
	set_task(&g.t);
	code = rf_draft();
	parent.code = code;
	before = recipe_of(code);
	/* one parameter, one step within the entry's space, said in the plan */
	for (seq = 0; seq < 4; seq++) {
		char *p2, want[128];
		const char *key;

		req = op_request("improve", "hyperparameters", NULL, seq, &parent, NULL, 0, NULL, 0);
		out = answer_code(req, &p2);
		after = recipe_of(out);
		recipe_diff(before, after, diff, sizeof diff);
		ck_assert_msg(strncmp(diff, "params.", 7) == 0 && strchr(diff, ' ') == NULL,
			      "%s", diff);
		key = diff + 7;
		space_check = json_object_object_get(json_object_object_get(after, "params"), key);
		if (strcmp(key, "n_estimators") == 0) {
			ck_assert(param_of(after, key) == 450 || param_of(after, key) == 200);
			snprintf(want, sizeof want, "n_estimators 300 -> %g", param_of(after, key));
			ck_assert_msg(strstr(p2, want) != NULL, "%s", p2);
		} else if (strcmp(key, "min_samples_leaf") == 0) {
			ck_assert_int_eq(json_object_get_int(space_check), 2);
		}
		free(p2);
		json_object_put(after);
		free(out);
		free(req);
	}
	/* a sibling's change is not made again */
	req = op_request("improve", "hyperparameters", NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	after = recipe_of(out);
	recipe_diff(before, after, diff, sizeof diff);
	sib.code = out;
	free(req);
	req = op_request("improve", "hyperparameters", NULL, 0, &parent, &sib, 1, NULL, 0);
	out2 = answer_code(req, NULL);
	after2 = recipe_of(out2);
	recipe_diff(before, after2, diff2, sizeof diff2);
	ck_assert_msg(strcmp(diff, diff2) != 0, "both changed %s", diff);
	json_object_put(after2);
	free(out2);
	json_object_put(after);
	json_object_put(before);
	free(plan);
	free(out);
	free(req);
	free(code);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_improve_reference_borrows)
{
	char *dir = aml_test_tmpdir(), *code, *better, *req, *out, *plan;
	json_object *r, *after;
	tnode parent = {7, 3, NULL, NULL, NULL, NULL, 1, 0.80};
	tnode ref = {12, 4, NULL, NULL, NULL, NULL, 1, 0.95};
	gen_task g;

	write_task(dir, 0, &g);
	set_task(&g.t);
	code = rf_draft();
	/* the better node elsewhere uses deeper-leaved trees */
	r = recipe_of(code);
	json_object_object_add(json_object_object_get(r, "params"), "min_samples_leaf",
			       json_object_new_int(5));
	better = with_recipe(code, r);
	parent.code = code;
	ref.code = better;
	req = op_request("improve", "hyperparameters", "reference", 0, &parent, NULL, 0, &ref, 1);
	out = answer_code(req, &plan);
	after = recipe_of(out);
	ck_assert_int_eq((int)param_of(after, "min_samples_leaf"), 5);
	ck_assert_msg(strstr(plan, "borrowed from node 12") != NULL, "%s", plan);
	json_object_put(after);
	json_object_put(r);
	free(plan);
	free(out);
	free(req);
	free(better);
	free(code);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* The better node of another branch is another model family with
 * nothing of the requested flavor to lend: what carries over (here its
 * test predictions from the fold models) is borrowed, not a plain
 * improve made. */
START_TEST(test_improve_reference_borrows_other_flavor)
{
	char *dir = aml_test_tmpdir(), *code, *better, *req, *out, *plan, *again;
	json_object *r, *after;
	tnode parent = {7, 3, NULL, NULL, NULL, NULL, 1, 0.80};
	tnode ref = {12, 4, NULL, NULL, NULL, NULL, 1, 0.95};
	gen_task g;

	write_task(dir, 0, &g);
	set_task(&g.t);
	code = rf_draft();
	r = recipe_of(code);
	json_object_object_add(r, "model", json_object_new_string("tabular.hist_gradient_boosting"));
	json_object_object_add(r, "params", json_object_new_object());
	json_object_object_add(r, "test_from", json_object_new_string("folds"));
	better = with_recipe(code, r);
	parent.code = code;
	ref.code = better;
	req = op_request("improve", "hyperparameters", "reference", 0, &parent, NULL, 0, &ref, 1);
	out = answer_code(req, &plan);
	after = recipe_of(out);
	ck_assert_str_eq(recipe_model(after), "tabular.random_forest");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(after, "test_from")),
			 "folds");
	ck_assert_msg(strstr(plan, "improve node 7 (strategy): test_from refit -> folds, "
			     "borrowed from node 12 (score 0.95), which does better, a strategy "
			     "change as no better node has a hyperparameters change that applies "
			     "to this recipe") != NULL, "%s", plan);
	again = answer_code(req, NULL);
	ck_assert_str_eq(again, out);
	free(again);
	json_object_put(after);
	json_object_put(r);
	free(plan);
	free(out);
	free(req);
	free(better);
	free(code);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

static size_t
n_models(json_object *r, const char **first, const char **second)
{
	json_object *m = json_object_object_get(r, "models");

	if (m == NULL)
		return 0;
	*first = json_object_get_string(json_object_object_get(json_object_array_get_idx(m, 0),
							       "model"));
	*second = json_object_get_string(json_object_object_get(json_object_array_get_idx(m, 1),
								"model"));
	return json_object_array_length(m);
}

START_TEST(test_fuse_blends_families)
{
	char *dir = aml_test_tmpdir(), *hgb, *rf, *req, *out, *plan;
	const char *m0 = NULL, *m1 = NULL;
	json_object *r;
	tnode refs[2] = {{3, -1, NULL, NULL, NULL, NULL, 1, 0.90},
			 {5, -1, NULL, NULL, NULL, NULL, 1, 0.93}};
	gen_task g;

	write_task(dir, 0, &g);
	set_task(&g.t);
	hgb = draft_code(0, NULL, 0);
	rf = rf_draft();
	refs[0].code = hgb;
	refs[1].code = rf;
	/* aggregation at the root: both families, the better node's first */
	req = op_request("fuse", NULL, "aggregation", 0, NULL, NULL, 0, refs, 2);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert_uint_eq(n_models(r, &m0, &m1), 2);
	ck_assert_str_eq(m0, "tabular.random_forest");
	ck_assert_str_eq(m1, "tabular.hist_gradient_boosting");
	ck_assert_ptr_null(json_object_object_get(r, "model"));
	/* the better node's seed averaging stays, so the forest scores as in
	 * its node; the weights are fitted, so a weak member cannot drag the
	 * strong one down */
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(r, "strategy")), 2);
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(
		json_object_object_get(r, "strategy"), 0)), "tabular.seed_averaging");
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(
		json_object_object_get(r, "strategy"), 1)), "tabular.stacking");
	ck_assert(strstr(out, "BLEND_WEIGHTS = fit_blend_weights") != NULL);
	ck_assert_msg(strstr(plan, "fuse node 5 (score 0.93) and node 3 (score 0.9)") != NULL
		      && strstr(plan, "averaging their predicted probabilities with weights")
		      != NULL && strstr(plan, "; stacking the blend with weights fitted") != NULL,
		      "%s", plan);
	ck_assert(strstr(out, "register_model('tabular.random_forest')") != NULL);
	ck_assert(strstr(out, "register_model('tabular.hist_gradient_boosting')") != NULL);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);
	/* one family only: another is added for diversity */
	refs[1].code = hgb;
	req = op_request("fuse", NULL, "primary", 0, &refs[0], NULL, 0, &refs[1], 1);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert_uint_ge(n_models(r, &m0, &m1), 2);
	ck_assert_str_eq(m0, "tabular.hist_gradient_boosting");
	ck_assert_str_ne(m1, m0);
	ck_assert_msg(strstr(plan, "added for diversity") != NULL, "%s", plan);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);
	free(hgb);
	free(rf);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* A trajectory of random forests: n_estimators 300 (score s1), 450 (s2),
 * then min_samples_leaf 1 -> 2 on top (s3, the parent). */
static void
rf_trajectory(char *codes[3])
{
	json_object *r;

	codes[0] = rf_draft();
	r = recipe_of(codes[0]);
	json_object_object_add(json_object_object_get(r, "params"), "n_estimators",
			       json_object_new_int(450));
	codes[1] = with_recipe(codes[0], r);
	json_object_object_add(json_object_object_get(r, "params"), "min_samples_leaf",
			       json_object_new_int(2));
	codes[2] = with_recipe(codes[0], r);
	json_object_put(r);
}

START_TEST(test_recall_repeats_what_helped)
{
	char *dir = aml_test_tmpdir(), *codes[3], *req, *out, *plan;
	json_object *r;
	tnode steps[3] = {{2, -1, NULL, NULL, NULL, NULL, 1, 0.80},
			  {5, 2, NULL, NULL, NULL, NULL, 1, 0.85},
			  {8, 5, NULL, NULL, NULL, NULL, 1, 0.84}};
	tnode other = {30, 29, "x = 1\n", NULL, NULL, NULL, 1, 0.5};
	tnode refs[3];
	gen_task g;

	write_task(dir, 1, &g);
	set_task(&g.t);
	rf_trajectory(codes);
	steps[0].code = codes[0];
	steps[1].code = codes[1];
	steps[2].code = codes[2];
	/* refs in any order, with a node from elsewhere */
	refs[0] = steps[1];
	refs[1] = other;
	refs[2] = steps[0];
	req = op_request("recall", NULL, "primary", 0, &steps[2], NULL, 0, refs, 3);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	/* 300 -> 450 helped most: 450 -> 675, the rest as in the parent */
	ck_assert_int_eq((int)param_of(r, "n_estimators"), 675);
	ck_assert_int_eq((int)param_of(r, "min_samples_leaf"), 2);
	ck_assert_msg(strstr(plan, "recall over 2 measured steps of the branch (2 -> 5, 5 -> 8)")
		      != NULL && strstr(plan, "the largest gain was 0.05 (roc_auc) from "
					"n_estimators 300 -> 450 in random forest at node 5") != NULL
		      && strstr(plan, "n_estimators 450 -> 675") != NULL, "%s", plan);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);
	/* nothing helped: back to the best (node 2) and a parameter the
	 * branch never touched */
	steps[0].score = 0.90;
	refs[0] = steps[1];
	refs[2] = steps[0];
	req = op_request("recall", NULL, "primary", 0, &steps[2], NULL, 0, refs, 3);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	{
		json_object *best = recipe_of(codes[0]);
		char diff[512];

		recipe_diff(best, r, diff, sizeof diff);
		ck_assert_msg(diff[0] && strchr(diff, ' ') == NULL, "changed: '%s'", diff);
		ck_assert_str_ne(diff, "params.n_estimators");
		ck_assert_str_ne(diff, "params.min_samples_leaf");
		json_object_put(best);
	}
	ck_assert_msg(strstr(plan, "go back to node 2's recipe") != NULL, "%s", plan);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);
	free(codes[0]);
	free(codes[1]);
	free(codes[2]);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* The refs the core passes are the branch's latest nodes, mostly the
 * parent's siblings and their children: the largest gain among all their
 * steps is built on, not the parent's last step. */
START_TEST(test_recall_sees_the_branch)
{
	char *dir = aml_test_tmpdir(), *codes[3], *c9, *c11, *c14, *req, *out, *plan, *again;
	json_object *r;
	tnode parent = {8, 5, NULL, NULL, NULL, NULL, 1, 0.815};
	tnode refs[4] = {{2, -1, NULL, NULL, NULL, NULL, 1, 0.80},
			 {5, 2, NULL, NULL, NULL, NULL, 1, 0.81},
			 {9, 2, NULL, NULL, NULL, NULL, 1, 0.79},
			 {11, 9, NULL, NULL, NULL, NULL, 1, 0.88}};
	tnode sib = {14, 8, NULL, NULL, NULL, NULL, 1, 0.80};
	gen_task g;

	write_task(dir, 1, &g);
	set_task(&g.t);
	rf_trajectory(codes); /* 2: the draft, 5: 450 trees, 8: and leaves of 2 */
	/* 9 and 11, a sibling chain of 5: max_depth 8, then max_features 0.3 */
	r = recipe_of(codes[0]);
	json_object_object_add(json_object_object_get(r, "params"), "max_depth",
			       json_object_new_int(8));
	c9 = with_recipe(codes[0], r);
	json_object_object_add(json_object_object_get(r, "params"), "max_features",
			       json_object_new_double(0.3));
	c11 = with_recipe(codes[0], r);
	json_object_put(r);
	refs[0].code = codes[0];
	refs[1].code = codes[1];
	refs[2].code = c9;
	refs[3].code = c11;
	parent.code = codes[2];
	req = op_request("recall", NULL, "evolution", 0, &parent, NULL, 0, refs, 4);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	/* 9 -> 11 gained most: its change on node 8, the rest as in node 8 */
	ck_assert(param_of(r, "max_features") == 0.3);
	ck_assert_int_eq((int)param_of(r, "n_estimators"), 450);
	ck_assert_int_eq((int)param_of(r, "min_samples_leaf"), 2);
	ck_assert(json_object_get_type(json_object_object_get(json_object_object_get(r, "params"),
							      "max_depth")) == json_type_null);
	ck_assert_msg(strstr(plan, "recall over 4 measured steps of the branch (9 -> 11, "
			     "2 -> 5, 5 -> 8, 2 -> 9), extending node 8: the largest gain was "
			     "0.09 (roc_auc) from max_features 0.5 -> 0.3 in random forest at "
			     "node 11, so make it on node 8 too: max_features 0.5 -> 0.3") != NULL,
		      "%s", plan);
	again = answer_code(req, NULL);
	ck_assert_str_eq(again, out);
	free(again);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);
	/* a child of node 8 already made that change: the next gain that can
	 * be built on (2 -> 5), pushed further */
	r = recipe_of(codes[2]);
	json_object_object_add(json_object_object_get(r, "params"), "max_features",
			       json_object_new_double(0.3));
	c14 = with_recipe(codes[0], r);
	json_object_put(r);
	sib.code = c14;
	req = op_request("recall", NULL, "evolution", 0, &parent, &sib, 1, refs, 4);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert(param_of(r, "max_features") == 0.5);
	ck_assert_int_eq((int)param_of(r, "n_estimators"), 675);
	ck_assert_msg(strstr(plan, "the largest gain was 0.09 (roc_auc) from max_features "
			     "0.5 -> 0.3 in random forest at node 11, which cannot be built on "
			     "in node 8; the next that can was 0.01 (roc_auc) from n_estimators "
			     "300 -> 450 in random forest at node 5, so push that way again: "
			     "n_estimators 450 -> 675") != NULL, "%s", plan);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);
	free(c14);
	free(c11);
	free(c9);
	free(codes[0]);
	free(codes[1]);
	free(codes[2]);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_debug_failures)
{
	char *dir = aml_test_tmpdir(), *code, *broken, *req, *out, *plan;
	json_object *before, *r;
	tnode parent = {4, 1, NULL, "buggy", NULL, NULL, 0, 0};
	gen_task g;

	write_task(dir, 0, &g);
	set_task(&g.t);
	code = rf_draft();
	before = recipe_of(code);
	parent.code = code;

	/* a timeout: a cheaper run of the same model */
	parent.reason = "timed_out: timed out after 600 s";
	req = op_request("debug", NULL, NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert_str_eq(recipe_model(r), "tabular.random_forest");
	ck_assert_int_eq((int)param_of(r, "n_estimators"), 150);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(r, "strategy")), 0);
	ck_assert_msg(strstr(plan, "ran out of time") && strstr(plan, "n_estimators 300 -> 150")
		      && strstr(plan, "dropped seed averaging"), "%s", plan);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);

	/* memory: a cheap family instead */
	parent.reason = "killed: killed by signal 9 (SIGKILL)";
	req = op_request("debug", NULL, NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert_str_eq(recipe_model(r), "tabular.hist_gradient_boosting");
	json_object_put(r);
	free(out);
	free(plan);
	free(req);

	/* a missing module: the model that needs it goes */
	parent.reason = "crashed (exit status 1): ModuleNotFoundError: No module named 'sklearn'";
	req = op_request("debug", NULL, NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert_str_ne(recipe_model(r), "tabular.random_forest");
	ck_assert_msg(strstr(plan, "'sklearn' is not installed") != NULL, "%s", plan);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);

	/* a crash of the script as its recipe gives it: the model goes */
	parent.reason = "crashed (exit status 1): ValueError: bad input";
	parent.output = "Traceback (most recent call last):\n  File \"x\"\nValueError: bad input\n";
	req = op_request("debug", NULL, NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert_str_ne(recipe_model(r), "tabular.random_forest");
	ck_assert_msg(strstr(plan, "the model is the likely cause") != NULL, "%s", plan);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);

	/* a broken edit: written again from the recipe, same model */
	ck_assert_int_ne(asprintf(&broken, "%s\nraise ValueError('edited')\n", code), -1);
	parent.code = broken;
	req = op_request("debug", NULL, NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert_str_eq(recipe_model(r), "tabular.random_forest");
	ck_assert(strstr(out, "raise ValueError('edited')") == NULL);
	ck_assert_str_eq(out, code);
	ck_assert_msg(strstr(plan, "undoing the edit that broke it") != NULL, "%s", plan);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);
	free(broken);

	/* a script kbsynth did not write: a new draft */
	parent.code = "import pandas\nprint(1 / 0)\n";
	req = op_request("debug", NULL, NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert_msg(strstr(plan, "carries no recipe line") != NULL, "%s", plan);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);

	json_object_put(before);
	free(code);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* Drafts still running (seq above the siblings shown) took the first
 * families in draft order: the next one is drafted. */
START_TEST(test_draft_skips_running_siblings)
{
	const char *sibs[3];
	char models[3][128];
	char *dir = aml_test_tmpdir();
	gen_task g;
	size_t i;

	write_task(dir, 1, &g);
	set_task(&g.t);
	for (i = 0; i < 3; i++) {
		snprintf(models[i], sizeof models[i], "%s", draft_model((int)i, sibs, i));
		sibs[i] = models[i];
	}
	ck_assert_str_eq(draft_model(1, NULL, 0), models[1]);
	ck_assert_str_eq(draft_model(2, NULL, 0), models[2]);
	ck_assert_str_eq(draft_model(2, sibs, 1), models[2]);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* All-numeric columns without missing values and balanced classes. */
static void
write_plain_task(const char *dir, gen_task *g)
{
	char path[4200];
	FILE *tr, *te, *sa;
	int i;

	write_task(dir, 1, g); /* the facts; the files are replaced */
	snprintf(path, sizeof path, "%s/input/train.csv", dir);
	tr = fopen(path, "w");
	snprintf(path, sizeof path, "%s/input/test.csv", dir);
	te = fopen(path, "w");
	snprintf(path, sizeof path, "%s/input/sample_submission.csv", dir);
	sa = fopen(path, "w");
	ck_assert(tr && te && sa);
	fprintf(tr, "id,x1,x2,target\n");
	fprintf(te, "id,x1,x2\n");
	fprintf(sa, "id,target\n");
	for (i = 0; i < 60; i++)
		fprintf(tr, "%d,%d.5,%d,%d\n", i, i % 7, i * 3 % 11, i % 2);
	for (i = 0; i < 20; i++) {
		fprintf(te, "%d,%d.5,%d\n", 100 + i, i % 5, i % 3);
		fprintf(sa, "%d,0.5\n", 100 + i);
	}
	fclose(tr);
	fclose(te);
	fclose(sa);
}

START_TEST(test_changes_that_cannot_matter)
{
	char *dir = aml_test_tmpdir(), *code, *req, *out, *plan, diff[512];
	tnode parent = {7, 3, NULL, NULL, NULL, NULL, 1, 0.9};
	json_object *before, *after;
	gen_task g;
	int seq;

	/* the generated task: categorical colours with 4 levels, missing
	 * values, no dates: no one-hot cut-off or date change */
	write_task(dir, 0, &g);
	set_task(&g.t);
	code = rf_draft();
	parent.code = code;
	before = recipe_of(code);
	for (seq = 0; seq < 6; seq++) {
		req = op_request("improve", "features", NULL, seq, &parent, NULL, 0, NULL, 0);
		out = answer_code(req, &plan);
		ck_assert_msg(strstr(plan, "max_onehot_levels") == NULL
			      && strstr(plan, "date") == NULL, "%s", plan);
		free(plan);
		free(out);
		free(req);
	}
	json_object_put(before);
	free(code);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);

	/* numbers only, nothing missing, balanced classes: no features
	 * change of a forest can matter, nor class weights */
	dir = aml_test_tmpdir();
	write_plain_task(dir, &g);
	set_task(&g.t);
	code = rf_draft();
	parent.code = code;
	before = recipe_of(code);
	for (seq = 0; seq < 6; seq++) {
		req = op_request("improve", seq % 2 ? "strategy" : "features", NULL, seq, &parent,
				 NULL, 0, NULL, 0);
		out = answer_code(req, &plan);
		after = recipe_of(out);
		recipe_diff(before, after, diff, sizeof diff);
		ck_assert_msg(strncmp(diff, "preprocess", 10) != 0 && strcmp(diff, "data_params") != 0
			      && strcmp(diff, "class_weight") != 0, "%s: %s", diff, plan);
		if (seq % 2 == 0)
			ck_assert_msg(strstr(plan, "as no features change that could matter on this "
					     "data is left to try") != NULL, "%s", plan);
		json_object_put(after);
		free(plan);
		free(out);
		free(req);
	}
	json_object_put(before);
	free(code);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_latency)
{
	static const char *const params[] = {"n_folds", "3", "latency_s", "0.3", NULL};
	static const char *const bad[] = {"latency_s", "-1", NULL};
	char err[AML_ERRLEN] = "", *text;
	void *st = NULL;
	aml_llm_request req;
	aml_llm_response resp;
	double t0;

	mock_host_set_params(bad);
	ck_assert_int_eq(desc->init(mock_host(), NULL, &st, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "latency_s must be a number in [0, 3600], got '-1'") != NULL,
		      "%s", err);
	mock_host_set_params(params);
	ck_assert_msg(desc->init(mock_host(), NULL, &st, err, sizeof err) == AML_OK, "%s", err);
	memset(&req, 0, sizeof req);
	req.structured = "{\"operator\": \"nope\"}";
	t0 = aml_now();
	ck_assert_int_eq(((const aml_provider_ops *)desc->ops)->complete(st, &req, &resp, err,
									sizeof err),
			 AML_EUNSUPPORTED);
	ck_assert(aml_now() - t0 >= 0.29);
	desc->fini(st);
	(void)text;
}
END_TEST

/* An improved and a fused script run and submit. */
static void
run_script(const char *dir, const char *code, const gen_task *g, const char *what)
{
	char cmd[8400], *path = aml_path_join(dir, "solution.py"), *out, *lines[4096], *last;
	char err[AML_ERRLEN] = "";
	double score;
	size_t n;
	int status;

	ck_assert_int_eq(aml_write_file(path, code, strlen(code), err, sizeof err), AML_OK);
	snprintf(cmd, sizeof cmd, "cd '%s' && rm -rf submission working && '%s' solution.py "
		 "> out.txt 2>&1", dir, python());
	status = system(cmd);
	out = read_text(dir, "out.txt");
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s failed:\n%s", what, out);
	n = split_lines(out, lines, 4096);
	ck_assert_uint_gt(n, 0);
	last = lines[n - 1];
	ck_assert_msg(strncmp(last, "Final Validation Score: ", 24) == 0, "last line: %s", last);
	ck_assert_int_eq(aml_parse_double(last + 24, &score), 0);
	ck_assert(isfinite(score));
	check_submission(dir, g);
	free(out);
	free(path);
}

START_TEST(test_derived_scripts_run)
{
	char *dir = aml_test_tmpdir(), *hgb, *rf, *req, *out, *plan, *text;
	tnode parent = {7, 3, NULL, NULL, NULL, NULL, 1, 0.9};
	tnode refs[2] = {{3, -1, NULL, NULL, NULL, NULL, 1, 0.90},
			 {5, -1, NULL, NULL, NULL, NULL, 1, 0.93}};
	const char *m0, *m1;
	json_object *r;
	gen_task g;

	/* class probabilities: a random forest, its test predictions from
	 * the fold models (the strategy flavor's first untried step after
	 * seed averaging, which the draft has) */
	write_task(dir, 2, &g);
	set_task(&g.t);
	rf = rf_draft();
	parent.code = rf;
	req = op_request("improve", "strategy", NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	run_script(dir, out, &g, plan);
	free(out);
	free(plan);
	free(req);
	/* a blend of three families on the same task */
	hgb = draft_code(0, NULL, 0);
	refs[0].code = hgb;
	refs[1].code = rf;
	req = op_request("fuse", NULL, "primary", 0, &refs[0], NULL, 0, &refs[1], 1);
	out = answer_code(req, &plan);
	r = recipe_of(out);
	ck_assert_uint_eq(n_models(r, &m0, &m1), 2);
	run_script(dir, out, &g, plan);
	text = read_text(dir, "out.txt");
	ck_assert_msg(strstr(text, "blending 2 models") && strstr(text, "tabular.random_forest alone:"),
		      "%s", text);
	free(text);
	json_object_put(r);
	free(out);
	free(plan);
	free(req);
	free(hgb);
	free(rf);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* The optional entries improve may add — target encoding, feature
 * selection — and stacking weights on a blend render into a script that
 * runs: a parent whose recipe holds them all, one hyper-parameter changed. */
START_TEST(test_optional_entries_run)
{
	static const char *const recipe =
		"# automlgen-recipe: {\"models\": [{\"model\": \"tabular.hist_gradient_boosting\"}, "
		"{\"model\": \"tabular.random_forest\"}], \"preprocess\": "
		"[\"tabular.numeric_impute_scale\", \"tabular.categorical_encoding\", "
		"\"tabular.target_encoding\", \"tabular.feature_selection\"], \"data_params\": "
		"{\"tabular.target_encoding\": {\"max_onehot_levels\": 2}}, \"strategy\": "
		"[\"tabular.stacking\"], \"pipeline\": \"tabular.pipeline\", \"seed\": 3, "
		"\"folds\": 3, \"validation\": \"cv\"}\n";
	char *dir = aml_test_tmpdir(), *req, *out, *plan, *log;
	tnode parent = {7, 3, recipe, NULL, NULL, NULL, 1, 0.9};
	gen_task g;

	write_task(dir, 1, &g);
	g.t.n_features = 15; /* feature selection needs at least 15 in the profile */
	set_task(&g.t);
	req = op_request("improve", "hyperparameters", NULL, 0, &parent, NULL, 0, NULL, 0);
	out = answer_code(req, &plan);
	ck_assert_ptr_nonnull(strstr(out, "class _TargetEncoder"));
	ck_assert_ptr_nonnull(strstr(out, "FEATURE_STEPS.append(_selection_steps)"));
	ck_assert_ptr_nonnull(strstr(out, "BLEND_WEIGHTS = fit_blend_weights"));
	run_script(dir, out, &g, plan);
	log = read_text(dir, "out.txt");
	ck_assert_msg(strstr(log, "blend weights hist_gradient_boosting") != NULL, "%s", log);
	free(log);
	free(out);
	free(plan);
	free(req);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_blend_runs_on_values)
{
	char *dir = aml_test_tmpdir(), *hgb, *rf, *req, *out, *plan;
	tnode refs[2] = {{3, -1, NULL, NULL, NULL, NULL, 1, 1.5},
			 {5, -1, NULL, NULL, NULL, NULL, 1, 1.2}};
	gen_task g;

	/* two targets: a blend of a multi-output forest and boosting that
	 * goes through MultiOutputRegressor, test predictions from the folds */
	write_task(dir, 4, &g);
	set_task(&g.t);
	hgb = draft_code(0, NULL, 0);
	rf = rf_draft();
	refs[0].code = hgb;
	refs[1].code = rf;
	req = op_request("fuse", NULL, "aggregation", 0, NULL, NULL, 0, refs, 2);
	out = answer_code(req, &plan);
	ck_assert_msg(strstr(plan, "averaging their predicted values") != NULL, "%s", plan);
	run_script(dir, out, &g, plan);
	free(out);
	free(plan);
	free(req);
	free(hgb);
	free(rf);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
}
END_TEST

/* Binary F1 on labels: a fusion's weights are fitted to F1 at the
 * cut-off the script picks (blend_objective), and the script still
 * reports that F1 and writes labels. */
START_TEST(test_blend_f1_cutoff)
{
	char *dir = aml_test_tmpdir(), *hgb, *rf, *req, *out, *plan, *log;
	tnode refs[2] = {{3, -1, NULL, NULL, NULL, NULL, 1, 0.80},
			 {5, -1, NULL, NULL, NULL, NULL, 1, 0.85}};
	gen_task g;

	write_task(dir, 1, &g);
	g.t.output = AML_OUT_LABEL;
	g.t.metric = "f1";
	set_task(&g.t);
	hgb = draft_code(0, NULL, 0);
	rf = rf_draft();
	refs[0].code = hgb;
	refs[1].code = rf;
	req = op_request("fuse", NULL, "aggregation", 0, NULL, NULL, 0, refs, 2);
	out = answer_code(req, &plan);
	ck_assert(strstr(out, "BLEND_WEIGHTS = fit_blend_weights") != NULL);
	ck_assert(strstr(out, "blend_objective") != NULL);
	run_script(dir, out, &g, plan);
	log = read_text(dir, "out.txt");
	ck_assert_msg(strstr(log, "blend weights ") != NULL, "%s", log);
	ck_assert_msg(strstr(log, "F1 cut-off ") != NULL, "%s", log);
	free(log);
	free(out);
	free(plan);
	free(req);
	free(hgb);
	free(rf);
	set_task(NULL);
	aml_test_rmtree(dir);
	free(dir);
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
	tcase_add_loop_test(tc, test_improve_one_change, 0, 3);
	tcase_add_test(tc, test_improve_hyperparameter_step);
	tcase_add_test(tc, test_improve_never_steps_back);
	tcase_add_test(tc, test_improve_reference_borrows);
	tcase_add_test(tc, test_improve_reference_borrows_other_flavor);
	tcase_add_test(tc, test_fuse_blends_families);
	tcase_add_test(tc, test_recall_repeats_what_helped);
	tcase_add_test(tc, test_recall_sees_the_branch);
	tcase_add_test(tc, test_debug_failures);
	tcase_add_test(tc, test_draft_skips_running_siblings);
	tcase_add_test(tc, test_changes_that_cannot_matter);
	tcase_add_test(tc, test_latency);
	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(run, test_drafts_run, 0, (int)AML_ARRAY_LEN(runs));
	tcase_add_test(run, test_derived_scripts_run);
	tcase_add_test(run, test_blend_runs_on_values);
	tcase_add_test(run, test_blend_f1_cutoff);
	tcase_add_test(run, test_optional_entries_run);
	tcase_set_timeout(run, 240);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, run);
	return aml_test_main(s);
}
