/*
 * check_operators.c — the debug, improve, fuse and recall operators alone,
 * through the mock host with a canned provider, and the opkit helpers
 * they share: each prompt renders with the task, the metric and the
 * workspace contract; the structured request carries what kbsynth needs;
 * edit blocks apply exactly, then ignoring trailing whitespace, then with
 * the indentation shifted; a block that matches nowhere, an answer
 * without code and an unchanged script fail the operator with the reason
 * and the raw answer kept; of several code blocks the right one is taken.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "mock_host.h"
#include "opkit.h"
#include "util.h"

/* ------------------------------------------------------------------ */
/* The canned provider.                                                */

static const char *canned;        /* the answer it gives */
static int canned_rc = AML_OK;
static char *seen_user, *seen_system, *seen_structured, seen_role[32];
static int calls;

static int
fake_llm(const aml_llm_request *req, aml_llm_response *resp, char *err, size_t errlen)
{
	free(seen_user);
	free(seen_system);
	free(seen_structured);
	seen_user = strdup(req->user ? req->user : "");
	seen_system = strdup(req->system ? req->system : "");
	seen_structured = strdup(req->structured ? req->structured : "");
	snprintf(seen_role, sizeof seen_role, "%s", req->role ? req->role : "");
	calls++;
	memset(resp, 0, sizeof *resp);
	if (canned_rc != AML_OK) {
		snprintf(err, errlen, "provider down");
		return canned_rc;
	}
	resp->text = strdup(canned);
	resp->model = strdup("canned");
	resp->tokens_in = 100;
	resp->tokens_out = 20;
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* A task and nodes.                                                   */

static const char *const labels[] = {"species"};
static const char *const classes[] = {"setosa", "versicolor", "virginica"};

static const aml_task task = {
	.name = "iris", .public_dir = "/nowhere", .description = "Predict the species.",
	.train_file = "train.csv", .test_file = "test.csv",
	.sample_file = "sample_submission.csv", .type = AML_TASK_MULTICLASS,
	.output = AML_OUT_LABEL, .modality = AML_MOD_TABULAR, .metric = "accuracy",
	.higher_is_better = 1, .id_column = "id", .label_columns = labels,
	.n_label_columns = 1, .submission_columns = labels, .n_submission_columns = 1,
	.classes = classes, .n_classes = 3, .train_rows = 120, .test_rows = 30,
	.n_features = 4,
	.hardware = "1 CPU thread (AML_N_JOBS); no GPU (AML_GPUS=0, CUDA_VISIBLE_DEVICES "
		    "empty): write CPU code, never wait for CUDA",
};

static const char parent_code[] =
	"import numpy as np\n"
	"from sklearn.ensemble import RandomForestClassifier\n"
	"\n"
	"\n"
	"def make_model(seed):\n"
	"    model = RandomForestClassifier(n_estimators=300,\n"
	"                                   random_state=seed)\n"
	"    return model\n"
	"\n"
	"\n"
	"def main():\n"
	"    model = make_model(0)\n"
	"    print(\"Final Validation Score: 0.9\")\n";

static aml_node_view
node(uint32_t id, int32_t parent, const char *op, const char *plan, const char *code,
     aml_node_status status, const char *reason, const char *output, int has_score,
     double score)
{
	aml_node_view v;

	memset(&v, 0, sizeof v);
	v.id = id;
	v.parent_id = parent;
	v.branch = 1;
	v.op = op;
	v.plan = plan;
	v.code = code;
	v.status = status;
	v.reason = reason;
	v.output = output;
	v.has_score = has_score;
	v.score = score;
	return v;
}

static aml_op_request
request(const aml_node_view *n)
{
	aml_op_request r;

	memset(&r, 0, sizeof r);
	r.task = &task;
	r.node = n;
	r.mode = "primary";
	r.node_id = 42;
	r.seq = 0;
	r.seed = 5;
	r.time_left_s = 3000;
	r.per_run_limit_s = 600;
	return r;
}

/* ------------------------------------------------------------------ */
/* Opening an operator.                                                */

typedef struct opened {
	const aml_plugin_desc *d;
	void *state;
} opened;

static opened
open_op(const char *name, const char *const *params)
{
	static char dir[4200];
	const char *src = getenv("AML_SRCDIR");
	char err[AML_ERRLEN] = "";
	opened o;

	snprintf(dir, sizeof dir, "%s/operators/%s", src ? src : SRCDIR, name);
	mock_host_set_plugin_dir(dir);
	mock_host_set_params(params);
	mock_host_set_task(&task);
	mock_host_set_llm(fake_llm);
	o.d = mock_plugin_open(mock_plugin_library(name));
	ck_assert_str_eq(o.d->name, name);
	ck_assert_uint_eq(o.d->kind, AML_KIND_OPERATOR);
	o.state = NULL;
	ck_assert_msg(o.d->init(mock_host(), NULL, &o.state, err, sizeof err) == AML_OK,
		      "%s: %s", name, err);
	return o;
}

/* Run the operator; res is filled (free with free_result). */
static int
run_op(opened o, const aml_op_request *req, aml_op_result *res, char *err)
{
	memset(res, 0, sizeof *res);
	err[0] = '\0';
	return ((const aml_operator_ops *)o.d->ops)->run(o.state, req, res, err, AML_ERRLEN);
}

static void
free_result(aml_op_result *res)
{
	free(res->code);
	free(res->plan);
	free(res->raw_answer);
	memset(res, 0, sizeof *res);
}

static json_object *
structured(void)
{
	json_object *j = json_tokener_parse(seen_structured);

	ck_assert_msg(j != NULL, "structured request is not JSON: %s", seen_structured);
	return j;
}

static const char *
jstr(json_object *o, const char *key)
{
	json_object *v = json_object_object_get(o, key);

	return v ? json_object_get_string(v) : NULL;
}

/* The lines every prompt has: the task, the metric and direction, the
 * contract with its limits, the leakage rules. */
static void
check_common_prompt(const char *op)
{
	ck_assert_ptr_nonnull(seen_user);
	ck_assert_msg(strstr(seen_user, "Final Validation Score: <number>") != NULL,
		      "%s: no contract line in\n%s", op, seen_user);
	ck_assert_msg(strstr(seen_user, "Metric: accuracy, higher is better.") != NULL,
		      "%s: no metric in\n%s", op, seen_user);
	ck_assert_msg(strstr(seen_user, "at most 600 seconds; 3000 seconds are left") != NULL,
		      "%s: no limits", op);
	ck_assert_msg(strstr(seen_user, "Leakage rules:") != NULL, "%s: no leakage rules", op);
	ck_assert_msg(strstr(seen_user, "{{") == NULL, "%s: an unfilled slot", op);
	ck_assert_msg(seen_system && seen_system[0], "%s: no system prompt", op);
}

static const char full_answer[] =
	"Plan: a whole new script.\n\n```python\nimport os\nprint('Final Validation Score: 1')\n```\n";

/* ------------------------------------------------------------------ */
/* Prompts and structured requests.                                    */

START_TEST(test_debug_prompt)
{
	static const char output[] =
		"[    0.1s] train (120, 5)\n"
		"Traceback (most recent call last):\n"
		"  File \"solution.py\", line 7, in <module>\n"
		"    model.fit(X)\n"
		"ValueError: Input contains NaN\n";
	aml_node_view n = node(9, 4, "improve", "random forest", parent_code, AML_NODE_BUGGY,
			       "crashed (exit status 1): ValueError: Input contains NaN", output, 0, 0);
	aml_node_view sib = node(11, 9, "debug", "imputed the NaNs", parent_code,
				 AML_NODE_BUGGY, "crashed again", "", 0, 0);
	const aml_node_view *sibs[] = {&sib};
	aml_op_request req = request(&n);
	char err[AML_ERRLEN];
	aml_op_result res;
	opened o = open_op("debug", NULL);
	json_object *j, *p;

	req.siblings = sibs;
	req.n_siblings = 1;
	canned = full_answer;
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_OK);
	check_common_prompt("debug");
	ck_assert(strstr(seen_user, "Node 9 is buggy: crashed (exit status 1): ValueError") != NULL);
	ck_assert(strstr(seen_user, "ValueError: Input contains NaN\n```") != NULL);
	ck_assert(strstr(seen_user, "    model = RandomForestClassifier(n_estimators=300,\n") != NULL);
	ck_assert(strstr(seen_user, "<<<<<<< SEARCH") != NULL);
	ck_assert(strstr(seen_user, "Never \"fix\" a failure by predicting constants") != NULL);
	ck_assert(strstr(seen_user, "node 11 (debug): buggy [crashed again]: imputed the NaNs") != NULL);
	ck_assert_uint_eq(res.tokens_in, 100);
	ck_assert_uint_eq(res.tokens_out, 20);
	ck_assert_str_eq(res.plan, "a whole new script.");
	j = structured();
	ck_assert_str_eq(jstr(j, "operator"), "debug");
	p = json_object_object_get(j, "parent");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(p, "id")), 9);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(p, "parent_id")), 4);
	ck_assert_str_eq(jstr(p, "status"), "buggy");
	ck_assert_str_eq(jstr(p, "code"), parent_code);
	ck_assert_str_eq(jstr(p, "output"), output);
	ck_assert(json_object_get_type(json_object_object_get(p, "score")) == json_type_null);
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(j, "siblings")), 1);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(j, "per_run_limit_s")), 600);
	json_object_put(j);
	free_result(&res);
	o.d->fini(o.state);
}
END_TEST

START_TEST(test_improve_prompt_and_flavors)
{
	static const char *const want[] = {"hyperparameters", "features", "strategy"};
	aml_node_view n = node(7, 2, "draft", "random forest, 300 trees", parent_code,
			       AML_NODE_VALID, "", "fold 1: 0.9\nFinal Validation Score: 0.9\n", 1, 0.9);
	aml_node_view s1 = node(12, 7, "improve", "n_estimators 300 -> 450", parent_code,
				AML_NODE_VALID, "", "", 1, 0.92);
	aml_node_view s2 = node(13, 7, "improve", "max_depth None -> 8", parent_code,
				AML_NODE_VALID, "", "", 1, 0.85);
	aml_node_view r1 = node(30, 20, "improve", "xgboost, 800 rounds", parent_code,
				AML_NODE_VALID, "", "", 1, 0.97);
	const aml_node_view *sibs[] = {&s1, &s2}, *refs[] = {&r1};
	aml_op_request req = request(&n);
	char err[AML_ERRLEN];
	aml_op_result res;
	opened o = open_op("improve", NULL);
	json_object *j;
	uint32_t seq;

	canned = full_answer;
	req.siblings = sibs;
	req.n_siblings = 2;
	/* no flavor: the three in turn by seq */
	for (seq = 0; seq < 4; seq++) {
		req.seq = seq;
		ck_assert_int_eq(run_op(o, &req, &res, err), AML_OK);
		j = structured();
		ck_assert_str_eq(jstr(j, "flavor"), want[seq % 3]);
		ck_assert_str_eq(jstr(j, "operator"), "improve");
		json_object_put(j);
		ck_assert_msg(strstr(seen_user, want[seq % 3]) != NULL, "%s", seen_user);
		free_result(&res);
	}
	check_common_prompt("improve");
	ck_assert(strstr(seen_user, "Validation score: 0.9 (accuracy, higher is better)") != NULL);
	ck_assert(strstr(seen_user, "node 12 (improve): valid, score 0.92 (+0.02 vs node 7, better): "
			 "n_estimators 300 -> 450") != NULL);
	ck_assert(strstr(seen_user, "node 13 (improve): valid, score 0.85 (-0.05 vs node 7, worse)")
		  != NULL);
	ck_assert(strstr(seen_user, "Final Validation Score: 0.9\n```") != NULL);
	ck_assert(strstr(seen_user, "borrow what works") == NULL);
	/* a named flavor, and references in reference mode */
	req.flavor = "features";
	req.mode = "reference";
	req.refs = refs;
	req.n_refs = 1;
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_OK);
	ck_assert(strstr(seen_user, "Change one thing about the features") != NULL);
	ck_assert(strstr(seen_user, "borrow what works") != NULL);
	ck_assert(strstr(seen_user, "node 30 (improve): valid, score 0.97 (+0.07 vs node 7, better): "
			 "xgboost, 800 rounds") != NULL);
	j = structured();
	ck_assert_str_eq(jstr(j, "mode"), "reference");
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(j, "refs")), 1);
	json_object_put(j);
	free_result(&res);
	/* an unknown flavor */
	req.flavor = "speed";
	calls = 0;
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_EINVAL);
	ck_assert_msg(strstr(err, "improve: unknown flavor 'speed'") != NULL, "%s", err);
	ck_assert_int_eq(calls, 0);
	o.d->fini(o.state);
}
END_TEST

/* The knowledge base is asked with the operator's words and the task's
 * description together. */
static char kb_text_seen[4096];

static int
recording_kb(const aml_kb_query *q, const aml_kb_entry **out, size_t cap,
	     size_t *n, char *err, size_t errlen)
{
	(void)out, (void)cap, (void)err, (void)errlen;
	snprintf(kb_text_seen, sizeof kb_text_seen, "%s", q->text ? q->text : "");
	*n = 0;
	return AML_OK;
}

START_TEST(test_kb_query_text)
{
	aml_node_view n = node(7, 2, "draft", "random forest, 300 trees", parent_code,
			       AML_NODE_VALID, "", "", 1, 0.9);
	aml_op_request req = request(&n);
	char err[AML_ERRLEN];
	aml_op_result res;
	opened o;

	mock_host_set_kb(recording_kb);
	o = open_op("improve", NULL);
	canned = full_answer;
	req.flavor = "features";
	kb_text_seen[0] = '\0';
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_OK);
	ck_assert_msg(strstr(kb_text_seen, "features random forest, 300 trees") != NULL
		      && strstr(kb_text_seen, "Predict the species.") != NULL, "%s", kb_text_seen);
	free_result(&res);
	o.d->fini(o.state);
	mock_host_set_kb(NULL);
}
END_TEST

START_TEST(test_improve_flavors_parameter)
{
	static const char *const only[] = {"flavors", "strategy, features", NULL};
	static const char *const bad[] = {"flavors", "hyperparameters,speed", NULL};
	static const char *const bad_kb[] = {"kb_per_level", "lots", NULL};
	aml_node_view n = node(7, 2, "draft", "p", parent_code, AML_NODE_VALID, "", "", 1, 0.9);
	aml_op_request req = request(&n);
	char err[AML_ERRLEN] = "";
	aml_op_result res;
	void *st = NULL;
	opened o = open_op("improve", only);
	json_object *j;

	canned = full_answer;
	req.seq = 1;
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_OK);
	j = structured();
	ck_assert_str_eq(jstr(j, "flavor"), "features");
	json_object_put(j);
	free_result(&res);
	o.d->fini(o.state);
	mock_host_set_params(bad);
	ck_assert_int_eq(o.d->init(mock_host(), NULL, &st, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "improve: flavors: 'speed' is not a flavor") != NULL, "%s", err);
	mock_host_set_params(bad_kb);
	ck_assert_int_eq(o.d->init(mock_host(), NULL, &st, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "improve: kb_per_level must be an integer in [0, 32], got 'lots'")
		      != NULL, "%s", err);
	ck_assert_ptr_null(st);
}
END_TEST

START_TEST(test_fuse_prompt_and_code_blocks)
{
	static const char several[] =
		"Plan: average the two models.\n\n"
		"The old call was:\n```\nmodel.fit(X)\n```\n"
		"A shell line:\n```bash\npython solution.py\n```\n"
		"The script:\n```python\nimport numpy as np\nprint('Final Validation Score: 0.95')\n```\n"
		"A short snippet:\n```python\nx = 1\n```\n";
	aml_node_view a = node(3, -1, "draft", "random forest", parent_code, AML_NODE_VALID, "", "",
			       1, 0.93);
	aml_node_view b = node(5, -1, "draft", "logistic regression", "import sklearn\nLR = 1\n",
			       AML_NODE_VALID, "", "", 1, 0.91);
	const aml_node_view *refs[] = {&a, &b};
	aml_op_request req = request(NULL);
	char err[AML_ERRLEN];
	aml_op_result res;
	opened o = open_op("fuse", NULL);
	json_object *j;

	req.mode = "aggregation";
	req.refs = refs;
	req.n_refs = 2;
	canned = several;
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_OK);
	check_common_prompt("fuse");
	ck_assert(strstr(seen_user, "Combine these 2 solutions") != NULL);
	ck_assert(strstr(seen_user, "## Node 3, to combine: validation score 0.93 (accuracy)") != NULL);
	ck_assert(strstr(seen_user, "Plan: logistic regression\n\n```python\nimport sklearn\nLR = 1\n```")
		  != NULL);
	ck_assert(strstr(seen_user, "    model = RandomForestClassifier(n_estimators=300,") != NULL);
	/* the longest python block, not the untagged or the bash one */
	ck_assert_str_eq(res.code, "import numpy as np\nprint('Final Validation Score: 0.95')\n");
	ck_assert_str_eq(res.plan, "average the two models.\n\nThe old call was:");
	j = structured();
	ck_assert_str_eq(jstr(j, "operator"), "fuse");
	ck_assert_str_eq(jstr(j, "mode"), "aggregation");
	ck_assert_ptr_null(json_object_object_get(j, "parent"));
	ck_assert_uint_eq(json_object_array_length(json_object_object_get(j, "refs")), 2);
	json_object_put(j);
	free_result(&res);
	/* edit blocks are not a script here: fuse wants the whole script */
	canned = "Plan: x\n<<<<<<< SEARCH\nLR = 1\n=======\nLR = 2\n>>>>>>> REPLACE\n";
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_EFORMAT);
	ck_assert_msg(strstr(err, "fuse: the answer has no code block") != NULL, "%s", err);
	ck_assert_str_eq(res.raw_answer, canned);
	free_result(&res);
	/* nothing to combine */
	req.n_refs = 0;
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_EINVAL);
	ck_assert_msg(strstr(err, "fuse: no solutions to combine") != NULL, "%s", err);
	/* a long script is cut at a line end */
	{
		static const char *const small[] = {"code_chars", "600", NULL};
		opened o2 = open_op("fuse", small);
		char *big = malloc(5000), *p = big;
		aml_node_view c;
		const aml_node_view *one[1];
		int i;

		for (i = 0; i < 100; i++)
			p += sprintf(p, "x_%03d = %d\n", i, i);
		c = node(8, -1, "draft", "long", big, AML_NODE_VALID, "", "", 1, 0.5);
		one[0] = &c;
		req.refs = one;
		req.n_refs = 1;
		canned = full_answer;
		ck_assert_int_eq(run_op(o2, &req, &res, err), AML_OK);
		ck_assert(strstr(seen_user, "x_054 = 54\n# [... the rest of the script is not shown]\n```")
			  != NULL);
		ck_assert(strstr(seen_user, "x_055") == NULL);
		free_result(&res);
		free(big);
		o2.d->fini(o2.state);
	}
	o.d->fini(o.state);
}
END_TEST

START_TEST(test_recall_prompt)
{
	aml_node_view s1 = node(2, -1, "draft", "random forest 300 trees", parent_code,
				AML_NODE_VALID, "", "", 1, 0.80);
	aml_node_view s2 = node(5, 2, "improve", "n_estimators 300 -> 450", parent_code,
				AML_NODE_VALID, "", "", 1, 0.85);
	aml_node_view s3 = node(6, 5, "improve", "max_depth None -> 4", parent_code,
				AML_NODE_BUGGY, "timed_out: timed out after 600 s", "", 0, 0);
	aml_node_view cur = node(8, 6, "debug", "max_depth 4 -> 8", parent_code,
				 AML_NODE_VALID, "", "", 1, 0.83);
	aml_node_view far = node(40, 33, "improve", "xgboost elsewhere", parent_code,
				 AML_NODE_VALID, "", "", 1, 0.95);
	/* the trajectory in any order, mixed with a node from elsewhere */
	const aml_node_view *refs[] = {&s3, &far, &s1, &s2};
	aml_op_request req = request(&cur);
	char err[AML_ERRLEN];
	aml_op_result res;
	opened o = open_op("recall", NULL);
	const char *p1, *p2, *p3, *p4;

	req.mode = "evolution";
	req.refs = refs;
	req.n_refs = 4;
	canned = full_answer;
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_OK);
	check_common_prompt("recall");
	p1 = strstr(seen_user, "1. node 2 (draft): valid, score 0.8\n   change: random forest 300 trees");
	p2 = strstr(seen_user, "2. node 5 (improve): valid, score 0.85 (+0.05 against node 2: helped)\n"
		    "   change: n_estimators 300 -> 450");
	p3 = strstr(seen_user, "3. node 6 (improve): buggy - timed_out: timed out after 600 s");
	p4 = strstr(seen_user, "4. node 8 (debug, the current solution): valid, score 0.83 "
		    "(-0.02 against node 5: hurt)");
	ck_assert_msg(p1 && p2 && p3 && p4 && p1 < p2 && p2 < p3 && p3 < p4, "%s", seen_user);
	ck_assert(strstr(seen_user, "node 40 (improve): valid, score 0.95 (+0.12 vs node 8, better): "
			 "xgboost elsewhere") != NULL);
	ck_assert(strstr(seen_user, "search mode: evolution") != NULL);
	free_result(&res);
	/* no node */
	req.node = NULL;
	ck_assert_int_eq(run_op(o, &req, &res, err), AML_EINVAL);
	ck_assert_msg(strstr(err, "recall: no script to extend") != NULL, "%s", err);
	o.d->fini(o.state);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Answers that change the parent's script.                            */

static const struct {
	const char *answer;
	int rc;
	const char *code_has;   /* OK: in the new code */
	const char *code_lacks; /* OK: not in it */
	const char *err_has;    /* failure: in err */
} changes[] = {
	/* 0: one exact block, inside a fence */
	{"The forest is too small.\n```python\n<<<<<<< SEARCH\n"
	 "    model = RandomForestClassifier(n_estimators=300,\n=======\n"
	 "    model = RandomForestClassifier(n_estimators=600,\n>>>>>>> REPLACE\n```\n",
	 AML_OK, "    model = RandomForestClassifier(n_estimators=600,\n", "n_estimators=300", NULL},
	/* 1: trailing spaces and a CRLF answer */
	{"Fix.\r\n<<<<<<< SEARCH\r\n    model = make_model(0)   \r\n=======\r\n"
	 "    model = make_model(1)\r\n>>>>>>> REPLACE\r\n",
	 AML_OK, "def main():\n    model = make_model(1)\n    print(", "make_model(0)", NULL},
	/* 2: the block without its indentation: shifted back in */
	{"Fix.\n<<<<<<< SEARCH\nmodel = RandomForestClassifier(n_estimators=300,\n"
	 "                               random_state=seed)\nreturn model\n=======\n"
	 "model = RandomForestClassifier(n_estimators=300, max_depth=8,\n"
	 "                               random_state=seed)\n"
	 "if seed:\n    model.set_params(n_jobs=1)\nreturn model\n>>>>>>> REPLACE\n",
	 AML_OK, "    model = RandomForestClassifier(n_estimators=300, max_depth=8,\n"
	 "                                   random_state=seed)\n    if seed:\n"
	 "        model.set_params(n_jobs=1)\n    return model\n", NULL, NULL},
	/* 3: two blocks, the second applied to the first's result */
	{"Two changes.\n<<<<<<< SEARCH\nimport numpy as np\n=======\nimport numpy as np\n"
	 "import pandas as pd\n>>>>>>> REPLACE\n\n<<<<<<< SEARCH\nimport pandas as pd\n"
	 "=======\nimport pandas as pd  # frames\n>>>>>>> REPLACE\n",
	 AML_OK, "import numpy as np\nimport pandas as pd  # frames\nfrom sklearn.ensemble", NULL, NULL},
	/* 4: the second block matches nowhere */
	{"Fix.\n<<<<<<< SEARCH\nimport numpy as np\n=======\nimport numpy\n>>>>>>> REPLACE\n"
	 "<<<<<<< SEARCH\n    model = make_model(2)\n    print(1)\n=======\nx\n>>>>>>> REPLACE\n",
	 AML_ENOTFOUND, NULL, NULL,
	 "edit block 2 does not match the script: model = make_model(2)"},
	/* 5: no code at all */
	{"I would add more trees and tune the depth.", AML_EFORMAT, NULL, NULL,
	 "the answer has no code block"},
	/* 6: a block that is not closed */
	{"Fix.\n<<<<<<< SEARCH\nimport numpy as np\n=======\nimport numpy\n", AML_EFORMAT, NULL,
	 NULL, "edit block 1 is not closed by a '>>>>>>> REPLACE' line"},
	/* 7: a block without its divider */
	{"Fix.\n<<<<<<< SEARCH\nimport numpy as np\n>>>>>>> REPLACE\n", AML_EFORMAT, NULL, NULL,
	 "edit block 1 has no '=======' line"},
	/* 8: an empty SEARCH part */
	{"Fix.\n<<<<<<< SEARCH\n\n=======\nimport os\n>>>>>>> REPLACE\n", AML_EFORMAT, NULL, NULL,
	 "edit block 1 has an empty SEARCH part"},
	/* 9: a block that changes nothing */
	{"Fix.\n<<<<<<< SEARCH\nimport numpy as np\n=======\nimport numpy as np   \n>>>>>>> REPLACE\n",
	 AML_EFORMAT, NULL, NULL, "the answer leaves the script unchanged"},
	/* 10: a whole script instead of blocks */
	{"Rewritten.\n```python\nimport os\nprint('Final Validation Score: 1')\n```\n", AML_OK,
	 "import os\n", "RandomForest", NULL},
};

START_TEST(test_change_answers)
{
	static const char *const ops[] = {"debug", "improve", "recall"};
	aml_node_view n = node(9, 4, "draft", "forest", parent_code, AML_NODE_BUGGY,
			       "crashed", "", 0, 0);
	aml_op_request req = request(&n);
	char err[AML_ERRLEN];
	aml_op_result res;
	size_t k;

	for (k = 0; k < AML_ARRAY_LEN(ops); k++) {
		opened o = open_op(ops[k], NULL);
		int rc;

		canned = changes[_i].answer;
		rc = run_op(o, &req, &res, err);
		ck_assert_msg(rc == changes[_i].rc, "%s, answer %d: rc %d (%s)", ops[k], _i, rc, err);
		if (rc == AML_OK) {
			ck_assert_ptr_nonnull(res.code);
			ck_assert_msg(strstr(res.code, changes[_i].code_has) != NULL,
				      "%s, answer %d:\n%s", ops[k], _i, res.code);
			if (changes[_i].code_lacks)
				ck_assert_msg(strstr(res.code, changes[_i].code_lacks) == NULL,
					      "%s, answer %d:\n%s", ops[k], _i, res.code);
			ck_assert_ptr_nonnull(res.plan);
			ck_assert(strstr(res.plan, "<<<<<<<") == NULL && strstr(res.plan, "```") == NULL);
			ck_assert_ptr_null(res.raw_answer);
		} else {
			char want[256];

			snprintf(want, sizeof want, "%s: %s", ops[k], changes[_i].err_has);
			ck_assert_msg(strstr(err, want) != NULL, "'%s' lacks '%s'", err, want);
			ck_assert_ptr_null(res.code);
			ck_assert_str_eq(res.raw_answer, changes[_i].answer);
			ck_assert_uint_eq(res.tokens_out, 20);
		}
		free_result(&res);
		o.d->fini(o.state);
	}
}
END_TEST

START_TEST(test_refusals)
{
	static const char *const ops[] = {"debug", "improve", "recall"};
	static const char *const msgs[] = {"debug: no buggy script to fix",
		"improve: no script to improve", "recall: no script to extend"};
	aml_node_view empty = node(3, -1, "draft", "", "", AML_NODE_OP_FAILED, "", "", 0, 0);
	aml_node_view n = node(3, -1, "draft", "", parent_code, AML_NODE_VALID, "", "", 1, 1);
	aml_op_request req = request(NULL);
	char err[AML_ERRLEN];
	aml_op_result res;
	size_t k;

	for (k = 0; k < AML_ARRAY_LEN(ops); k++) {
		opened o = open_op(ops[k], NULL);

		calls = 0;
		req.node = NULL;
		ck_assert_int_eq(run_op(o, &req, &res, err), AML_EINVAL);
		ck_assert_msg(strstr(err, msgs[k]) && strstr(err, "no node"), "%s", err);
		req.node = &empty;
		ck_assert_int_eq(run_op(o, &req, &res, err), AML_EINVAL);
		ck_assert_msg(strstr(err, "a node without code") != NULL, "%s", err);
		ck_assert_int_eq(calls, 0);
		/* the provider fails: its error, nothing kept */
		req.node = &n;
		canned_rc = AML_EBUDGET;
		ck_assert_int_eq(run_op(o, &req, &res, err), AML_EBUDGET);
		ck_assert_str_eq(err, "provider down");
		ck_assert_ptr_null(res.code);
		ck_assert_ptr_null(res.raw_answer);
		canned_rc = AML_OK;
		o.d->fini(o.state);
	}
}
END_TEST

/* ------------------------------------------------------------------ */
/* opkit alone.                                                        */

START_TEST(test_edits_parse_and_apply)
{
	char err[AML_ERRLEN] = "", *out;
	opkit_edit *e;
	const char *first;
	size_t n;

	/* no blocks: not an error */
	ck_assert_int_eq(opkit_edits_parse("just prose", &e, &n, &first, err, sizeof err), AML_OK);
	ck_assert_uint_eq(n, 0);
	ck_assert_ptr_null(first);
	/* blocks and where they start */
	{
		const char *a = "Plan.\n<<<<<<< SEARCH\na\n=======\n>>>>>>> REPLACE\n";

		ck_assert_int_eq(opkit_edits_parse(a, &e, &n, &first, err, sizeof err), AML_OK);
		ck_assert_uint_eq(n, 1);
		ck_assert_ptr_eq(first, a + 6);
		ck_assert_str_eq(e[0].search, "a\n");
		ck_assert_str_eq(e[0].replace, ""); /* a deletion */
		ck_assert_int_eq(opkit_edits_apply("x\na\nb\n", e, n, &out, err, sizeof err), AML_OK);
		ck_assert_str_eq(out, "x\nb\n");
		free(out);
		/* the first occurrence when it repeats */
		ck_assert_int_eq(opkit_edits_apply("a\na\n", e, n, &out, err, sizeof err), AML_OK);
		ck_assert_str_eq(out, "a\n");
		free(out);
		/* a last line without its newline still matches, loosely */
		ck_assert_int_eq(opkit_edits_apply("x\na", e, n, &out, err, sizeof err), AML_OK);
		ck_assert_str_eq(out, "x\n");
		free(out);
		opkit_edits_free(e, n);
	}
	/* blank lines around a block are not part of its match */
	{
		const char *a = "<<<<<<< SEARCH\n\n  if x:  \n      y()\n\n=======\n\n  if z:\n"
			"      w()\n\n>>>>>>> REPLACE\n";

		ck_assert_int_eq(opkit_edits_parse(a, &e, &n, NULL, err, sizeof err), AML_OK);
		ck_assert_int_eq(opkit_edits_apply("def f():\n    if x:\n        y()\n    return 1\n",
						   e, n, &out, err, sizeof err), AML_OK);
		ck_assert_str_eq(out, "def f():\n    if z:\n        w()\n    return 1\n");
		free(out);
		/* an indentation that does not shift uniformly does not match */
		ck_assert_int_eq(opkit_edits_apply("def f():\n    if x:\n    y()\n", e, n, &out,
						   err, sizeof err), AML_ENOTFOUND);
		ck_assert_msg(strstr(err, "edit block 1 does not match the script: if x:") != NULL,
			      "%s", err);
		ck_assert_ptr_null(out);
		opkit_edits_free(e, n);
	}
	/* a shift to the left, and tabs */
	{
		const char *a = "<<<<<<< SEARCH\n\t\tfoo()\n\t\tbar()\n=======\n\t\tfoo(1)\n\t\t\tbar()\n"
			">>>>>>> REPLACE\n";

		ck_assert_int_eq(opkit_edits_parse(a, &e, &n, NULL, err, sizeof err), AML_OK);
		ck_assert_int_eq(opkit_edits_apply("\tfoo()\n\tbar()\n", e, n, &out, err, sizeof err),
				 AML_OK);
		ck_assert_str_eq(out, "\tfoo(1)\n\t\tbar()\n");
		free(out);
		opkit_edits_free(e, n);
	}
}
END_TEST

START_TEST(test_extract_change)
{
	char err[AML_ERRLEN] = "", *code, *plan;
	int edited = -1;

	ck_assert_int_eq(opkit_extract_change("The fix.\n\n```diff\n<<<<<<< SEARCH\nb = 1\n=======\n"
					      "b = 2\n>>>>>>> REPLACE\n```\n", "a = 0\nb = 1\n",
					      &code, &plan, &edited, err, sizeof err), AML_OK);
	ck_assert_str_eq(code, "a = 0\nb = 2\n");
	ck_assert_str_eq(plan, "The fix.");
	ck_assert_int_eq(edited, 1);
	free(code);
	free(plan);
	ck_assert_int_eq(opkit_extract_change("Plan: new.\n```python\nimport os\n```\n", "a = 0\n",
					      &code, &plan, &edited, err, sizeof err), AML_OK);
	ck_assert_str_eq(code, "import os\n");
	ck_assert_str_eq(plan, "new.");
	ck_assert_int_eq(edited, 0);
	free(code);
	free(plan);
	ck_assert_int_eq(opkit_extract_change("", "a\n", &code, &plan, NULL, err, sizeof err),
			 AML_EFORMAT);
	ck_assert_str_eq(err, "the answer is empty");
	ck_assert_int_eq(opkit_extract_change(NULL, "a\n", &code, &plan, NULL, err, sizeof err),
			 AML_EFORMAT);
	/* the same script again, but for trailing blank space */
	ck_assert_int_eq(opkit_extract_change("```python\nimport os  \n\n\n```\n", "import os\n",
					      &code, &plan, NULL, err, sizeof err), AML_EFORMAT);
	ck_assert_str_eq(err, "the answer leaves the script unchanged");
	ck_assert_ptr_null(code);
	ck_assert_ptr_null(plan);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Golden prompts: each operator's rendered system and user prompt for a
 * fixed request, against tests/data/golden/<op>.txt.  A change to a
 * prompt file or to the shared blocks shows here as a diff; after a
 * deliberate change, regenerate with AML_UPDATE_GOLDEN=1 make check
 * TESTS=tests/check_operators and review the files' diff. */

static const char *const golden_ops[] = {"draft", "debug", "improve", "fuse", "recall"};

START_TEST(test_golden_prompts)
{
	const char *op = golden_ops[_i];
	aml_node_view sib = node(3, -1, "draft", "Gradient boosting with default settings.",
				 parent_code, AML_NODE_VALID, "", "", 1, 0.91);
	aml_node_view base = node(7, 3, "improve", "Random forest, 300 trees.", parent_code,
				  AML_NODE_VALID, "", "fold 1: 0.90\n", 1, 0.9);
	aml_node_view buggy = node(8, 7, "improve", "More trees.", parent_code, AML_NODE_BUGGY,
				   "crashed (exit status 1): ValueError: bad input",
				   "Traceback (most recent call last):\n  File \"solution.py\", line 9\n"
				   "ValueError: bad input\n", 0, 0);
	aml_node_view other = node(12, 10, "improve", "Logistic regression, C=10.", parent_code,
				   AML_NODE_VALID, "", "", 1, 0.93);
	const aml_node_view *sibs[] = {&sib};
	const aml_node_view *refs[] = {&sib, &other};
	aml_op_request req;
	aml_op_result res;
	char err[AML_ERRLEN], path[4200], *want = NULL, *got;
	const char *src = getenv("AML_SRCDIR");
	opened o = open_op(op, NULL);
	size_t len;

	canned = full_answer;
	if (strcmp(op, "draft") == 0) {
		req = request(NULL);
		req.siblings = sibs;
		req.n_siblings = 1;
		req.seq = 1;
	} else if (strcmp(op, "debug") == 0) {
		req = request(&buggy);
	} else {
		req = request(&base);
		req.flavor = strcmp(op, "improve") == 0 ? "features" : NULL;
		req.mode = strcmp(op, "fuse") == 0 ? "aggregation"
			: strcmp(op, "recall") == 0 ? "evolution" : "primary";
		req.refs = refs;
		req.n_refs = strcmp(op, "improve") == 0 ? 0 : 2;
		req.siblings = strcmp(op, "improve") == 0 ? sibs : NULL;
		req.n_siblings = strcmp(op, "improve") == 0 ? 1 : 0;
	}
	ck_assert_msg(run_op(o, &req, &res, err) == AML_OK, "%s: %s", op, err);
	free_result(&res);
	ck_assert_int_ne(asprintf(&got, "%s\n---- user ----\n%s", seen_system, seen_user), -1);
	snprintf(path, sizeof path, "%s/tests/data/golden/%s.txt", src ? src : SRCDIR, op);
	if (getenv("AML_UPDATE_GOLDEN")) {
		ck_assert_int_eq(aml_write_file(path, got, strlen(got), err, sizeof err), AML_OK);
	} else {
		ck_assert_msg(aml_read_file(path, 0, &want, &len, err, sizeof err) == AML_OK,
			      "%s (make it with AML_UPDATE_GOLDEN=1)", err);
		if (strcmp(want, got) != 0) {
			size_t i = 0;

			while (want[i] && want[i] == got[i])
				i++;
			ck_abort_msg("%s prompt differs from %s at byte %zu: '%.60s' instead of "
				     "'%.60s'", op, path, i, got + i, want + i);
		}
	}
	free(want);
	free(got);
	o.d->fini(o.state);
}
END_TEST

/* The review operator asks the feedback role and reads its verdict
 * however it is wrapped; no verdict is a failure with the answer kept. */
static const struct {
	const char *answer;
	int rc;
	const char *plan;
} verdicts[] = {
	{"{\"suspicious\": false, \"reason\": \"sound 5-fold CV\"}", AML_OK, "clear: sound 5-fold CV"},
	{"The script scores on its training rows.\n```json\n{\"suspicious\": \"true\", "
	 "\"explanation\": \"fit and scored on the same rows\"}\n```", AML_OK,
	 "suspicious: fit and scored on the same rows"},
	{"{\"suspicious\": true}", AML_OK, "suspicious: no reason given"},
	{"Looks fine to me.", AML_EFORMAT, NULL},
	{"{\"verdict\": \"ok\"}", AML_EFORMAT, NULL},
};

START_TEST(test_review_operator)
{
	aml_node_view n = node(7, 3, "improve", "More trees.", parent_code, AML_NODE_VALID, "",
			       "fold 1: 1.0\n", 1, 1.0);
	aml_op_request req = request(&n);
	aml_op_result res;
	char err[AML_ERRLEN];
	opened o = open_op("review", NULL);
	json_object *j;

	req.mode = "review";
	req.flavor = "perfect_score: accuracy 1 is the best possible";
	canned = verdicts[_i].answer;
	ck_assert_int_eq(run_op(o, &req, &res, err), verdicts[_i].rc);
	ck_assert_str_eq(seen_role, "feedback");
	ck_assert_msg(strstr(seen_user, "perfect_score: accuracy 1 is the best possible")
		      && strstr(seen_user, "n_estimators=300") && strstr(seen_user, "fold 1: 1.0")
		      && strstr(seen_user, "{{") == NULL, "%s", seen_user);
	j = structured();
	ck_assert_str_eq(jstr(j, "operator"), "review");
	json_object_put(j);
	ck_assert_ptr_null(res.code);
	if (verdicts[_i].plan) {
		ck_assert_str_eq(res.plan, verdicts[_i].plan);
	} else {
		ck_assert_ptr_null(res.plan);
		ck_assert_str_eq(res.raw_answer, verdicts[_i].answer);
		ck_assert_msg(strstr(err, "no {\"suspicious\": true|false} verdict"), "%s", err);
	}
	ck_assert_uint_eq(res.tokens_in, 100);
	free_result(&res);
	o.d->fini(o.state);
}
END_TEST

/* JSON objects as models really write them. */
static const struct {
	const char *answer;
	const char *plan;     /* NULL: AML_EFORMAT expected */
	const char *why;      /* the error, when plan is NULL */
} jsons[] = {
	{"{\"plan\": \"p1\", \"n\": 1}", "p1", NULL},
	{"Sure! Here is the JSON:\n```json\n{\"plan\": \"p2\"}\n```\nHope it helps.", "p2", NULL},
	{"Here it is: {\"plan\": \"p3\", \"steps\": [1, 2,],} -- done", "p3", NULL},
	{"{\"plan\": \"a } in a string\", \"x\": \"\\\"{\"}", "a } in a string", NULL},
	{"I think {x} matters. {\"plan\": \"p5\"}", "p5", NULL},
	{"no json here", NULL, "the answer has no JSON object"},
	{"{\"plan\": \"cut", NULL, "the answer's JSON object is cut off before its end"},
	{"{plan: p}", NULL, "the answer has no JSON object that parses"},
	{"[{\"plan\": \"in an array\"}]", "in an array", NULL},
};

START_TEST(test_json_extract)
{
	char err[AML_ERRLEN] = "";
	json_object *o = NULL;
	static const char *const keys[] = {"nope", "plan", NULL};
	int rc = opkit_json_extract(jsons[_i].answer, &o, err, sizeof err);

	if (jsons[_i].plan) {
		ck_assert_msg(rc == AML_OK, "%s: %s", jsons[_i].answer, err);
		ck_assert_str_eq(opkit_json_string(o, keys), jsons[_i].plan);
		json_object_put(o);
	} else {
		ck_assert_int_eq(rc, AML_EFORMAT);
		ck_assert_ptr_null(o);
		ck_assert_str_eq(err, jsons[_i].why);
	}
}
END_TEST

/* An answer shaped as a JSON object gives its code and plan. */
static const char *const json_answers[] = {
	"{\"plan\": \"ridge on scaled features\", \"code\": \"import pandas as pd\\nprint(1)\\n\"}",
	"```json\n{\"reasoning\": \"ridge on scaled features\",\n \"script\": \"import pandas as pd\\nprint(1)\\n\",}\n```",
	"My answer:\n{\"explanation\": \"ridge on scaled features\", \"code\": "
	"\"```python\\nimport pandas as pd\\nprint(1)\\n```\"}\nThat is all.",
};

START_TEST(test_json_answers)
{
	char err[AML_ERRLEN] = "", *code = NULL, *plan = NULL;

	ck_assert_msg(opkit_extract_code(json_answers[_i], &code, &plan, err, sizeof err) == AML_OK,
		      "%s", err);
	ck_assert_str_eq(code, "import pandas as pd\nprint(1)\n");
	ck_assert_str_eq(plan, "ridge on scaled features");
	free(code);
	free(plan);
	/* JSON without code is not a script */
	ck_assert_int_eq(opkit_extract_code("{\"plan\": \"only words\"}", &code, &plan, err,
					    sizeof err), AML_EFORMAT);
	ck_assert_str_eq(err, "the answer has no code block");
}
END_TEST

START_TEST(test_output_text)
{
	char big[8192], *p = big, *t;
	int i;

	for (i = 1; i <= 50; i++)
		p += sprintf(p, "line %d\n", i);
	p += sprintf(p, "Traceback (most recent call last):\n  File \"s.py\", line 3\n"
		     "    boom()\nRuntimeError: boom\n");
	for (i = 51; i <= 80; i++)
		p += sprintf(p, "line %d\n", i);
	t = opkit_output_text(big, 2, 3);
	ck_assert_str_eq(t, "line 1\nline 2\n[... 48 lines omitted ...]\n"
			 "Traceback (most recent call last):\n  File \"s.py\", line 3\n"
			 "    boom()\nRuntimeError: boom\n[... 27 lines omitted ...]\n"
			 "line 78\nline 79\nline 80\n");
	free(t);
	t = opkit_output_text("short\n", 5, 5);
	ck_assert_str_eq(t, "short\n");
	free(t);
	t = opkit_output_text("", 5, 5);
	ck_assert_str_eq(t, "(no output)\n");
	free(t);
	/* an overlong line is cut */
	memset(big, 'x', 1000);
	big[1000] = '\0';
	t = opkit_output_text(big, 1, 1);
	ck_assert(strstr(t, " [... 600 more characters]\n") != NULL);
	free(t);
}
END_TEST

START_TEST(test_attempts_text)
{
	aml_node_view base = node(1, -1, "draft", "base", "", AML_NODE_VALID, "", "", 1, 0.5);
	aml_node_view a = node(2, 1, "improve", "lower", "", AML_NODE_VALID, "", "", 1, 0.4);
	aml_node_view b = node(3, 1, "improve", "same", "", AML_NODE_VALID, "", "", 1, 0.5);
	aml_node_view c = node(4, 1, "debug", "", "", AML_NODE_BUGGY, "timed out", "", 0, 0);
	const aml_node_view *v[] = {&a, &b, &c};
	char *t;

	/* rmse: lower is better */
	t = opkit_attempts_text(&base, v, 3, 2, 0, 100);
	ck_assert_str_eq(t, "(1 earlier attempts not shown)\n"
			 "- node 3 (improve): valid, score 0.5 (same as node 1): same\n"
			 "- node 4 (debug): buggy [timed out]: (no plan)\n");
	free(t);
	t = opkit_attempts_text(&base, v, 1, 5, 0, 100);
	ck_assert_str_eq(t, "- node 2 (improve): valid, score 0.4 (-0.1 vs node 1, better): lower\n");
	free(t);
	t = opkit_attempts_text(NULL, v, 0, 5, 1, 100);
	ck_assert_str_eq(t, "(none yet)\n");
	free(t);
}
END_TEST

START_TEST(test_descriptors_export_only_the_descriptor)
{
	static const char *const ops[] = {"debug", "improve", "fuse", "recall"};
	size_t k;

	for (k = 0; k < AML_ARRAY_LEN(ops); k++) {
		const aml_plugin_desc *d = mock_plugin_open(mock_plugin_library(ops[k]));
		char cmd[4400];

		ck_assert_uint_eq(d->abi_major, AML_ABI_MAJOR);
		ck_assert_str_eq(d->version, "1.0.0");
		ck_assert_ptr_nonnull(d->ops);
		/* no opkit symbol leaks out of the module */
		snprintf(cmd, sizeof cmd, "nm -D --defined-only '%s' | grep -q opkit_",
			 mock_plugin_library(ops[k]));
		ck_assert_msg(system(cmd) != 0, "%s exports opkit symbols", ops[k]);
	}
}
END_TEST

static void
teardown(void)
{
	free(seen_user);
	free(seen_system);
	free(seen_structured);
	seen_user = seen_system = seen_structured = NULL;
}

int
main(void)
{
	Suite *s = suite_create("operators");
	TCase *tc = tcase_create("operators");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_debug_prompt);
	tcase_add_test(tc, test_improve_prompt_and_flavors);
	tcase_add_test(tc, test_improve_flavors_parameter);
	tcase_add_test(tc, test_kb_query_text);
	tcase_add_test(tc, test_fuse_prompt_and_code_blocks);
	tcase_add_test(tc, test_recall_prompt);
	tcase_add_loop_test(tc, test_change_answers, 0, (int)AML_ARRAY_LEN(changes));
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_edits_parse_and_apply);
	tcase_add_test(tc, test_extract_change);
	tcase_add_loop_test(tc, test_review_operator, 0, (int)AML_ARRAY_LEN(verdicts));
	tcase_add_loop_test(tc, test_golden_prompts, 0, (int)AML_ARRAY_LEN(golden_ops));
	tcase_add_loop_test(tc, test_json_extract, 0, (int)AML_ARRAY_LEN(jsons));
	tcase_add_loop_test(tc, test_json_answers, 0, (int)AML_ARRAY_LEN(json_answers));
	tcase_add_test(tc, test_output_text);
	tcase_add_test(tc, test_attempts_text);
	tcase_add_test(tc, test_descriptors_export_only_the_descriptor);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
