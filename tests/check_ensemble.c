/*
 * check_ensemble.c — the run's final choice (ensemble.h): small tasks and
 * member submissions written into a temporary folder, combined by
 * aml_ensemble_build() (means, renormalised class probabilities, votes
 * and their tie-break, rows aligned by id, members dropped with a
 * reason, a result that fails the submission check); graphs built by hand
 * for aml_ensemble_choose() (eligibility, order, duplicates, the files
 * it leaves); the final.* keys; and one whole offline run on the wine
 * example with final.ensemble_k=3.
 */
#include "config.h"

#include <float.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_taskutil.h"
#include "conf.h"
#include "ensemble.h"
#include "graph.h"
#include "run.h"
#include "submission.h"
#include "task.h"

#define WINE BUILDDIR "/examples/tasks/wine"

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

/* The small tasks: each a train.csv, test.csv, sample and a task.yaml
 * stating every fact, so nothing depends on inference. */
static const struct {
	const char *name;
	const char *yaml;
	const char *train;
	const char *sample;
} tasks[] = {
	{"value", "metric: rmse\nid_column: id\ntarget_columns: [y]\ntask_type: regression\n"
	 "output: value\n",
	 "id,x,y\n10,1,1.5\n11,2,2.5\n12,3,3.5\n13,4,4.5\n",
	 "id,y\n1,0\n2,0\n3,0\n"},
	{"classproba", "metric: log_loss\nid_column: id\ntarget_columns: [target]\n"
	 "task_type: multiclass\noutput: class_proba\n",
	 "id,x,target\n10,1,a\n11,2,b\n12,3,c\n13,4,a\n14,5,b\n15,6,c\n",
	 "id,class_a,class_b,class_c\n1,0.3,0.3,0.4\n2,0.3,0.3,0.4\n"},
	{"strlabel", "metric: accuracy\nid_column: id\ntarget_columns: [animal]\n"
	 "task_type: multiclass\noutput: label\n",
	 "id,x,animal\n10,1,cat\n11,2,dog\n12,3,fox\n13,4,cat\n14,5,dog\n15,6,fox\n",
	 "id,animal\nr1,cat\nr2,cat\nr3,cat\n"},
	{"intlabel", "metric: accuracy\nid_column: id\ntarget_columns: [grade]\n"
	 "task_type: multiclass\noutput: label\n",
	 "id,x,grade\n10,1,1\n11,2,2\n12,3,3\n13,4,1\n14,5,2\n15,6,3\n",
	 "id,grade\n1,1\n2,1\n"},
};

/* Write task name into tmpdir/name and load it. */
static aml_task_info *
make_task(const char *name)
{
	char err[AML_ERRLEN] = "", *dir = aml_path_join(tmpdir, name), *test;
	aml_task_info *t = NULL;
	size_t i, r;

	for (i = 0; i < AML_ARRAY_LEN(tasks) && strcmp(tasks[i].name, name) != 0; i++)
		;
	ck_assert_uint_lt(i, AML_ARRAY_LEN(tasks));
	tu_write(dir, "task.yaml", tasks[i].yaml);
	tu_write(dir, "public/description.md", "# A test task\n");
	tu_write(dir, "public/train.csv", tasks[i].train);
	tu_write(dir, "public/sample_submission.csv", tasks[i].sample);
	/* test.csv: the sample's ids with one feature */
	{
		aml_sb b = {0};
		const char *s = strchr(tasks[i].sample, '\n') + 1;

		aml_sb_puts(&b, "id,x\n");
		for (r = 0; *s; r++) {
			aml_sb_add(&b, s, strcspn(s, ","));
			aml_sb_printf(&b, ",%zu\n", r);
			s = strchr(s, '\n') + 1;
		}
		test = aml_sb_take(&b);
	}
	tu_write(dir, "public/test.csv", test);
	free(test);
	ck_assert_msg(aml_task_load(dir, &t, err, sizeof err) == AML_OK, "%s", err);
	free(dir);
	return t;
}

/* Write text as tmpdir/rel; returns its path (transferred). */
static char *
member_file(const char *rel, const char *text)
{
	tu_write(tmpdir, rel, text);
	return aml_path_join(tmpdir, rel);
}

static aml_csv_table *
load_csv(const char *path)
{
	char err[AML_ERRLEN] = "";
	aml_csv_table *tb = NULL;

	ck_assert_msg(aml_csv_load(path, 0, &tb, err, sizeof err) == AML_OK, "%s", err);
	return tb;
}

static double
num(const char *s)
{
	double x;

	ck_assert_msg(aml_csv_number(s, &x) == 0, "'%s' is not a number", s);
	return x;
}

/* Build members (paths[i], weights[i]) for task t into tmpdir/out.csv. */
static int
build(aml_task_info *t, char **paths, const double *weights, size_t n,
      aml_ensemble_member *m, aml_ensemble_method *methods, char *err, size_t errlen)
{
	char *out = aml_path_join(tmpdir, "out.csv");
	size_t i;
	int rc;

	memset(m, 0, n * sizeof *m);
	for (i = 0; i < n; i++) {
		m[i].node = (int32_t)i;
		m[i].path = paths[i];
		m[i].weight = weights[i];
	}
	err[0] = '\0';
	rc = aml_ensemble_build(t, m, n, out, methods, err, errlen);
	ck_assert_int_eq(aml_is_file(out), rc == AML_OK);
	free(out);
	return rc;
}

static char *
out_path(void)
{
	return aml_path_join(tmpdir, "out.csv");
}

static void
free_paths(char **p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(p[i]);
}

/* Weighted means of values, rows aligned by id whatever order (and id
 * spelling) the members use; the sample's header and ids are kept. */
START_TEST(test_weighted_mean_by_id)
{
	aml_task_info *t = make_task("value");
	char *p[2], err[AML_ERRLEN], *out, *text;
	double w[2] = {2, 1};
	aml_ensemble_member m[2];
	aml_ensemble_method meth[1];

	p[0] = member_file("m0.csv", "id,y\n1,1\n2,2\n3,3\n");
	p[1] = member_file("m1.csv", "y,id\n6,3.0\n4,1\n5,2\n");   /* shuffled */
	ck_assert_msg(build(t, p, w, 2, m, meth, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(meth[0], AML_ENSEMBLE_MEAN);
	ck_assert(m[0].used && m[1].used);
	ck_assert_double_eq_tol(m[0].share, 2.0 / 3, 1e-12);
	ck_assert_double_eq_tol(m[1].share, 1.0 / 3, 1e-12);
	out = out_path();
	text = tu_slurp(out);
	/* (2*1 + 4)/3, (2*2 + 5)/3, (2*3 + 6)/3 */
	ck_assert_str_eq(text, "id,y\n1,2\n2,3\n3,4\n");
	free(text);
	free(out);
	free_paths(p, 2);
	aml_task_free(t);
}
END_TEST

/* Class probabilities: a weighted mean per column, then each row
 * renormalised to sum 1; columns in the sample's order. */
START_TEST(test_class_proba_renormalised)
{
	aml_task_info *t = make_task("classproba");
	char *p[2], err[AML_ERRLEN], *out;
	double w[2] = {1, 1};
	aml_ensemble_member m[2];
	aml_ensemble_method meth[3];
	aml_csv_table *tb;
	size_t c;

	p[0] = member_file("m0.csv", "id,class_a,class_b,class_c\n1,0.2,0.3,0.5\n2,1,0,0\n");
	/* rows that do not sum to 1, columns and rows shuffled */
	p[1] = member_file("m1.csv", "class_c,id,class_a,class_b\n0.5,2,0.5,0.5\n0.5,1,0.5,0.5\n");
	ck_assert_msg(build(t, p, w, 2, m, meth, err, sizeof err) == AML_OK, "%s", err);
	for (c = 0; c < 3; c++)
		ck_assert_int_eq(meth[c], AML_ENSEMBLE_MEAN_RENORM);
	out = out_path();
	tb = load_csv(out);
	ck_assert_str_eq(tb->header[0], "id");
	ck_assert_str_eq(tb->header[1], "class_a");
	ck_assert_str_eq(tb->header[3], "class_c");
	/* row 1: means 0.35, 0.4, 0.5 (sum 1.25) -> 0.28, 0.32, 0.4 */
	ck_assert_str_eq(tb->cols[0][0], "1");
	ck_assert_double_eq_tol(num(tb->cols[1][0]), 0.28, 1e-9);
	ck_assert_double_eq_tol(num(tb->cols[2][0]), 0.32, 1e-9);
	ck_assert_double_eq_tol(num(tb->cols[3][0]), 0.40, 1e-9);
	/* row 2: means 0.75, 0.25, 0.25 (sum 1.25) -> 0.6, 0.2, 0.2 */
	ck_assert_double_eq_tol(num(tb->cols[1][1]), 0.6, 1e-9);
	ck_assert_double_eq_tol(num(tb->cols[2][1]), 0.2, 1e-9);
	ck_assert_double_eq_tol(num(tb->cols[3][1]), 0.2, 1e-9);
	ck_assert_double_eq_tol(num(tb->cols[1][1]) + num(tb->cols[2][1]) + num(tb->cols[3][1]),
				1, 1e-8);
	aml_csv_table_free(tb);
	free(out);
	free_paths(p, 2);
	aml_task_free(t);
}
END_TEST

/* Labels: a weighted vote; a tie goes to the best-ranked member's label. */
START_TEST(test_weighted_vote_tie_break)
{
	aml_task_info *t = make_task("strlabel");
	char *p[3], err[AML_ERRLEN], *out, *text;
	double rank[3] = {3, 2, 1}, equal[3] = {1, 1, 1};
	aml_ensemble_member m[3];
	aml_ensemble_method meth[1];

	p[0] = member_file("m0.csv", "id,animal\nr1,cat\nr2,dog\nr3,cat\n");
	p[1] = member_file("m1.csv", "id,animal\nr1,dog\nr2,cat\nr3,dog\n");
	p[2] = member_file("m2.csv", "id,animal\nr3,fox\nr2,cat\nr1,dog\n");
	out = out_path();
	/* rank weights 3/6, 2/6, 1/6: r1 cat 3 = dog 2+1, a tie: member 0's
	 * cat; r2 dog 3 = cat 2+1, a tie again: dog; r3 cat 3 > dog 2 > fox 1 */
	ck_assert_msg(build(t, p, rank, 3, m, meth, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(meth[0], AML_ENSEMBLE_VOTE);
	text = tu_slurp(out);
	ck_assert_str_eq(text, "id,animal\nr1,cat\nr2,dog\nr3,cat\n");
	free(text);
	/* equal weights: r1 dog 2 > cat 1; r2 cat 2; r3 a three-way tie: cat */
	ck_assert_msg(build(t, p, equal, 3, m, meth, err, sizeof err) == AML_OK, "%s", err);
	text = tu_slurp(out);
	ck_assert_str_eq(text, "id,animal\nr1,dog\nr2,cat\nr3,cat\n");
	free(text);
	free(out);
	free_paths(p, 3);
	aml_task_free(t);
}
END_TEST

/* Integer-coded classes are labels: voted, never averaged (the mean of
 * 1, 3 and 3 is no class); "3" and "3.0" are the same vote. */
START_TEST(test_integer_labels_voted)
{
	aml_task_info *t = make_task("intlabel");
	char *p[3], err[AML_ERRLEN], *out, *text;
	double w[3] = {1, 1, 1};
	aml_ensemble_member m[3];
	aml_ensemble_method meth[1];

	p[0] = member_file("m0.csv", "id,grade\n1,1\n2,2\n");
	p[1] = member_file("m1.csv", "id,grade\n1,3\n2,1\n");
	p[2] = member_file("m2.csv", "id,grade\n1,3.0\n2,3\n");
	ck_assert_msg(build(t, p, w, 3, m, meth, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(meth[0], AML_ENSEMBLE_VOTE);
	out = out_path();
	text = tu_slurp(out);
	/* row 1: 3 (two votes, spelled as member 1 did); row 2: a tie, member 0's 2 */
	ck_assert_str_eq(text, "id,grade\n1,3\n2,2\n");
	free(text);
	free(out);
	free_paths(p, 3);
	aml_task_free(t);
}
END_TEST

/* A member without one of the sample's ids is dropped with the reason;
 * the others' weights are renormalised.  With one member left there is
 * no ensemble, and no file. */
START_TEST(test_missing_id_dropped)
{
	aml_task_info *t = make_task("value");
	char *p[3], err[AML_ERRLEN], *out, *text;
	double w[3] = {3, 2, 1};
	aml_ensemble_member m[3];

	p[0] = member_file("m0.csv", "id,y\n1,0\n2,0\n3,0\n");
	p[1] = member_file("m1.csv", "id,y\n1,5\n2,9\n9,7\n");     /* no id 3 */
	p[2] = member_file("m2.csv", "id,y\n3,4\n2,4\n1,4\n");
	ck_assert_msg(build(t, p, w, 3, m, NULL, err, sizeof err) == AML_OK, "%s", err);
	ck_assert(m[0].used && !m[1].used && m[2].used);
	ck_assert_msg(strstr(m[1].reason, "missing ids: '3'") != NULL, "%s", m[1].reason);
	ck_assert_double_eq_tol(m[0].share, 0.75, 1e-12);
	ck_assert_double_eq_tol(m[2].share, 0.25, 1e-12);
	ck_assert_double_eq(m[1].share, 0);
	out = out_path();
	text = tu_slurp(out);
	ck_assert_str_eq(text, "id,y\n1,1\n2,1\n3,1\n");
	free(text);
	free(out);
	/* m0 and m1 alone: one member left */
	ck_assert_int_eq(build(t, p, w, 2, m, NULL, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "fewer than 2 submissions to combine (1 of 2 dropped; "
			     "node 1: ids not in the sample") != NULL, "%s", err);
	ck_assert_ptr_null(strchr(err, '\n'));
	free_paths(p, 3);
	aml_task_free(t);
}
END_TEST

/* Byte-identical submissions count once. */
START_TEST(test_duplicate_submission_dropped)
{
	aml_task_info *t = make_task("value");
	char *p[3], err[AML_ERRLEN], *out, *text;
	double w[3] = {1, 1, 1};
	aml_ensemble_member m[3];

	p[0] = member_file("m0.csv", "id,y\n1,0\n2,0\n3,0\n");
	p[1] = member_file("m1.csv", "id,y\n1,0\n2,0\n3,0\n");
	p[2] = member_file("m2.csv", "id,y\n1,2\n2,2\n3,2\n");
	ck_assert_msg(build(t, p, w, 3, m, NULL, err, sizeof err) == AML_OK, "%s", err);
	ck_assert(m[0].used && !m[1].used && m[2].used);
	ck_assert_str_eq(m[1].reason, "the same submission as node 0");
	out = out_path();
	text = tu_slurp(out);
	ck_assert_str_eq(text, "id,y\n1,1\n2,1\n3,1\n");
	free(text);
	free(out);
	free_paths(p, 3);
	aml_task_free(t);
}
END_TEST

/* Eleven distinct submissions that all predict DBL_MAX for id 1: with
 * equal weights, eleven rounded shares of 1/11 of DBL_MAX add up past it,
 * the mean is infinite, and its spelling "inf" fails the check. */
#define N_HUGE 11

static char *
huge_member(size_t i)
{
	char text[256];

	snprintf(text, sizeof text, "id,y\n1,1.7976931348623157e308\n2,%zu\n3,0\n", i);
	return strdup(text);
}

/* A result that fails the submission check is discarded with the
 * check's reason. */
START_TEST(test_failed_check_discarded)
{
	aml_task_info *t = make_task("value");
	char *p[N_HUGE], err[AML_ERRLEN], rel[32];
	double w[N_HUGE];
	aml_ensemble_member m[N_HUGE];
	size_t i;

	for (i = 0; i < N_HUGE; i++) {
		char *text = huge_member(i);

		snprintf(rel, sizeof rel, "m%zu.csv", i);
		p[i] = member_file(rel, text);
		free(text);
		w[i] = 1;
	}
	ck_assert_int_eq(build(t, p, w, N_HUGE, m, NULL, err, sizeof err), AML_EFORMAT);
	ck_assert_str_eq(err, "the ensemble failed the submission check: column 'y': 1 value "
			 "not a finite number, the first 'inf' at line 2");
	for (i = 0; i < N_HUGE; i++)
		ck_assert(!m[i].used);
	free_paths(p, N_HUGE);
	aml_task_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* aml_ensemble_choose() over hand-made graphs.                        */

typedef struct fake_node {
	const char *status;     /* "valid", "buggy" */
	double score;
	const char *code;
	const char *flags;
	const char *sub;        /* its submission, NULL: none */
} fake_node;

/* A graph of drafts with their submissions under tmpdir/run; the run's
 * submission.csv is the best node's, as write_best leaves it. */
static void
make_run(aml_graph *g, int higher, int bar_flags, const fake_node *f, size_t n, char **run)
{
	char rel[128], err[AML_ERRLEN] = "";
	size_t i;

	*run = aml_path_join(tmpdir, "run");
	aml_graph_init(g, higher);
	g->flags_bar_best = bar_flags;
	for (i = 0; i < n; i++) {
		aml_node *nd = aml_graph_add(g, -1, "draft", "primary");

		ck_assert_ptr_nonnull(nd);
		nd->status = strcmp(f[i].status, "valid") == 0 ? AML_NODE_VALID : AML_NODE_BUGGY;
		nd->has_score = nd->status == AML_NODE_VALID;
		nd->score = f[i].score;
		nd->code = strdup(f[i].code);
		nd->flags = strdup(f[i].flags ? f[i].flags : "");
		if (f[i].sub) {
			snprintf(rel, sizeof rel, "run/nodes/%04zu/submission/submission.csv", i);
			tu_write(tmpdir, rel, f[i].sub);
		}
		aml_graph_finish(g, nd);
	}
	ck_assert_int_ge(g->best, 0);
	{
		char *src, *dst = aml_path_join(*run, "submission.csv");

		snprintf(rel, sizeof rel, "run/nodes/%04d/submission/submission.csv", (int)g->best);
		src = aml_path_join(tmpdir, rel);
		ck_assert_int_eq(aml_copy_file(src, dst, err, sizeof err), AML_OK);
		free(src);
		free(dst);
	}
}

static json_object *
read_json(const char *dir, const char *rel)
{
	char *p = aml_path_join(dir, rel);
	json_object *o = json_object_from_file(p);

	ck_assert_msg(o != NULL, "cannot read %s", p);
	free(p);
	return o;
}

static json_object *
jget(json_object *o, const char *key)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, key, &v), "no key %s", key);
	return v;
}

static char *
run_file(const char *run, const char *rel)
{
	char *p = aml_path_join(run, rel), *text;

	text = aml_is_file(p) ? tu_slurp(p) : NULL;
	free(p);
	return text;
}

/* The eligible nodes — valid, unflagged — best first, then by score
 * (lower is better here); the files the choice leaves. */
START_TEST(test_choose_members)
{
	static const fake_node f[] = {
		{"valid", 3.0, "a", NULL, "id,y\n1,3\n2,3\n3,3\n"},
		{"valid", 1.0, "b", NULL, "id,y\n1,1\n2,1\n3,1\n"},           /* the best */
		{"buggy", 0.0, "c", NULL, NULL},
		{"valid", 0.5, "d", "perfect_score", "id,y\n1,9\n2,9\n3,9\n"}, /* flagged */
		{"valid", 2.0, "e", NULL, "id,y\n3,2\n2,2\n1,2\n"},
		{"valid", 4.0, "f", NULL, "id,y\n1,4\n2,4\n3,4\n"},           /* 4th: out */
	};
	aml_task_info *t = make_task("value");
	aml_ensemble_opts o = {3, AML_ENSEMBLE_RANK};
	aml_graph g;
	char desc[AML_ERRLEN], *run, *text;
	json_object *j, *mem, *e;
	static const int want[] = {1, 4, 0};
	size_t i;

	make_run(&g, 0, 1, f, AML_ARRAY_LEN(f), &run);
	ck_assert_int_eq(g.best, 1);
	ck_assert_msg(aml_ensemble_choose(t, &g, run, &o, desc, sizeof desc) == AML_OK, "%s", desc);
	ck_assert_str_eq(desc, "ensemble of the top 3 valid nodes (1, 4, 0; rank weights), "
			 "validated against the sample");
	/* (3*1 + 2*2 + 1*3) / 6 */
	text = run_file(run, "submission.csv");
	ck_assert_str_eq(text, "id,y\n1,1.66666667\n2,1.66666667\n3,1.66666667\n");
	free(text);
	text = run_file(run, "best_node_submission.csv");
	ck_assert_str_eq(text, f[1].sub);
	free(text);
	ck_assert_ptr_null(run_file(run, "ensemble_submission.csv.tmp"));
	j = read_json(run, "ensemble.json");
	ck_assert(json_object_get_boolean(jget(j, "used")));
	ck_assert_str_eq(json_object_get_string(jget(j, "weights")), "rank");
	mem = jget(j, "members");
	ck_assert_uint_eq(json_object_array_length(mem), 3);
	for (i = 0; i < 3; i++) {
		e = json_object_array_get_idx(mem, i);
		ck_assert_int_eq(json_object_get_int(jget(e, "node")), want[i]);
		ck_assert_double_eq_tol(json_object_get_double(jget(e, "weight")),
					(3.0 - (double)i) / 6, 1e-12);
		ck_assert_double_eq(json_object_get_double(jget(e, "score")), f[want[i]].score);
	}
	e = json_object_array_get_idx(jget(j, "columns"), 0);
	ck_assert_str_eq(json_object_get_string(jget(e, "name")), "y");
	ck_assert_str_eq(json_object_get_string(jget(e, "method")), "weighted_mean");
	json_object_put(j);
	free(run);
	aml_graph_destroy(&g);
	aml_task_free(t);
}
END_TEST

/* The same code or the same submission as a better node adds nothing:
 * skipped, and the next distinct node takes the place; with fewer than
 * 2 distinct nodes there is no ensemble and the best node's submission
 * stays. */
START_TEST(test_choose_duplicates)
{
	static const fake_node f[] = {
		{"valid", 0.9, "same", NULL, "id,y\n1,1\n2,1\n3,1\n"},          /* the best */
		{"valid", 0.8, "same", NULL, "id,y\n1,1\n2,1\n3,1\n"},          /* same code */
		{"valid", 0.7, "other", NULL, "id,y\n1,1\n2,1\n3,1\n"},         /* same bytes */
		{"valid", 0.6, "third", NULL, "id,y\n1,3\n2,3\n3,3\n"},
	};
	aml_task_info *t = make_task("value");
	aml_ensemble_opts o = {2, AML_ENSEMBLE_EQUAL};
	aml_graph g;
	char desc[AML_ERRLEN], *run, *text;
	json_object *j, *sk;

	/* without node 3: one distinct node */
	make_run(&g, 1, 1, f, 3, &run);
	ck_assert_int_ne(aml_ensemble_choose(t, &g, run, &o, desc, sizeof desc), AML_OK);
	ck_assert_str_eq(desc, "fewer than 2 eligible distinct valid nodes (3 eligible, 2 with "
			 "the same code or submission as a better one)");
	text = run_file(run, "submission.csv");
	ck_assert_str_eq(text, f[0].sub);
	free(text);
	ck_assert_ptr_null(run_file(run, "best_node_submission.csv"));
	j = read_json(run, "ensemble.json");
	ck_assert(!json_object_get_boolean(jget(j, "used")));
	ck_assert_str_eq(json_object_get_string(jget(j, "reason")), desc);
	sk = jget(j, "skipped");
	ck_assert_uint_eq(json_object_array_length(sk), 2);
	ck_assert_str_eq(json_object_get_string(jget(json_object_array_get_idx(sk, 0), "reason")),
			 "the same code as node 0");
	ck_assert_str_eq(json_object_get_string(jget(json_object_array_get_idx(sk, 1), "reason")),
			 "the same submission as node 0");
	json_object_put(j);
	aml_graph_destroy(&g);
	aml_test_rmtree(run);
	free(run);
	/* with node 3: nodes 0 and 3, equal weights */
	make_run(&g, 1, 1, f, 4, &run);
	ck_assert_msg(aml_ensemble_choose(t, &g, run, &o, desc, sizeof desc) == AML_OK, "%s", desc);
	ck_assert_str_eq(desc, "ensemble of the top 2 valid nodes (0, 3; equal weights), "
			 "validated against the sample");
	text = run_file(run, "submission.csv");
	ck_assert_str_eq(text, "id,y\n1,2\n2,2\n3,2\n");
	free(text);
	aml_graph_destroy(&g);
	free(run);
	aml_task_free(t);
}
END_TEST

/* An ensemble that fails the check leaves the best node's submission in
 * place, no best_node_submission.csv, and says why. */
START_TEST(test_choose_falls_back)
{
	aml_task_info *t = make_task("value");
	aml_ensemble_opts o = {N_HUGE, AML_ENSEMBLE_EQUAL};
	fake_node f[N_HUGE];
	char *subs[N_HUGE], code[N_HUGE][8];
	aml_graph g;
	char desc[AML_ERRLEN], *run, *text;
	json_object *j;
	size_t i;

	for (i = 0; i < N_HUGE; i++) {
		subs[i] = huge_member(i);
		snprintf(code[i], sizeof code[i], "c%zu", i);
		f[i] = (fake_node){"valid", 1.0 - 0.01 * (double)i, code[i], NULL, subs[i]};
	}
	make_run(&g, 1, 1, f, N_HUGE, &run);
	ck_assert_int_eq(aml_ensemble_choose(t, &g, run, &o, desc, sizeof desc), AML_EFORMAT);
	ck_assert_msg(strstr(desc, "the ensemble failed the submission check: column 'y'") != NULL,
		      "%s", desc);
	text = run_file(run, "submission.csv");
	ck_assert_str_eq(text, f[0].sub);
	free(text);
	ck_assert_ptr_null(run_file(run, "best_node_submission.csv"));
	ck_assert_ptr_null(run_file(run, "ensemble_submission.csv.tmp"));
	j = read_json(run, "ensemble.json");
	ck_assert(!json_object_get_boolean(jget(j, "used")));
	ck_assert_str_eq(json_object_get_string(jget(j, "reason")), desc);
	ck_assert_uint_eq(json_object_array_length(jget(j, "members")), N_HUGE);
	json_object_put(j);
	/* k < 2: nothing is tried, nothing written */
	aml_test_rmtree(run);
	free(run);
	aml_graph_destroy(&g);
	make_run(&g, 1, 1, f, 2, &run);
	o.k = 1;
	ck_assert_int_eq(aml_ensemble_choose(t, &g, run, &o, desc, sizeof desc), AML_EINVAL);
	ck_assert_ptr_null(run_file(run, "ensemble.json"));
	aml_graph_destroy(&g);
	free(run);
	for (i = 0; i < N_HUGE; i++)
		free(subs[i]);
	aml_task_free(t);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The final.* keys.                                                   */

static const struct {
	const char *kv;
	const char *msg;
} bad_keys[] = {
	{"final.ensemble_k=-1",
	 "-o: 'final.ensemble_k' must be 0 (off) or a number of nodes >= 2, got '-1'"},
	{"final.ensemble_k=three", "-o: 'final.ensemble_k' must be a whole number, got 'three'"},
	{"final.ensemble_k=2.5", "-o: 'final.ensemble_k' must be a whole number, got '2.5'"},
	{"final.ensemble_weights=rnak",
	 "-o: 'final.ensemble_weights' must be rank or equal, got 'rnak'"},
};

START_TEST(test_config_errors)
{
	char err[AML_ERRLEN] = "";
	aml_config *c = NULL;
	aml_ensemble_opts o;

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, bad_keys[_i].kv, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_ensemble_opts_load(&o, c, err, sizeof err), AML_EINVAL);
	ck_assert_str_eq(err, bad_keys[_i].msg);
	aml_config_free(c);
}
END_TEST

START_TEST(test_config_defaults)
{
	char err[AML_ERRLEN] = "";
	aml_config *c = NULL;
	aml_ensemble_opts o;

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_ensemble_opts_load(&o, c, err, sizeof err), AML_OK);
	ck_assert_int_eq(o.k, 0);
	ck_assert_int_eq(o.weighting, AML_ENSEMBLE_RANK);
	ck_assert_int_eq(aml_config_set_arg(c, "final.ensemble_k=4", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, "final.ensemble_weights=equal", err, sizeof err),
			 AML_OK);
	ck_assert_int_eq(aml_ensemble_opts_load(&o, c, err, sizeof err), AML_OK);
	ck_assert_int_eq(o.k, 4);
	ck_assert_int_eq(o.weighting, AML_ENSEMBLE_EQUAL);
	/* the section takes no other key */
	ck_assert_int_eq(aml_config_set_arg(c, "final.ensemble=3", err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "unknown configuration key 'final.ensemble'") != NULL, "%s", err);
	aml_config_free(c);
}
END_TEST

/* ------------------------------------------------------------------ */
/* A whole offline run.                                                */

/* kbsynth drafts on wine, final.ensemble_k=3: submission.csv is the
 * weighted, renormalised mean of the members ensemble.json lists, the
 * best node's own is kept, and the summary says so. */
START_TEST(test_offline_run)
{
	char dirkv[4200], err[AML_ERRLEN] = "", reason[AML_ERRLEN] = "";
	const char *kv[] = {dirkv, "run.name=r", "log.level=warning", "search.max_nodes=6",
			    "final.ensemble_k=3", "exec.timeout_s=300", NULL};
	aml_config *cfg = NULL;
	aml_run_result res;
	aml_task_info *t = NULL;
	aml_submission *ens = NULL, *mem[3] = {NULL, NULL, NULL};
	double share[3] = {0, 0, 0}, total = 0;
	json_object *sum, *j, *members, *cols;
	const char *chosen;
	char rel[128], *a, *b;
	size_t i, n, r, c;

	snprintf(dirkv, sizeof dirkv, "run.dir=%s", tmpdir);
	ck_assert_int_eq(aml_config_new(&cfg, err, sizeof err), AML_OK);
	for (i = 0; kv[i]; i++)
		ck_assert_msg(aml_config_set_arg(cfg, kv[i], err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_run(cfg, WINE, &res, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_int_eq(res.has_best, 1);
	ck_assert_msg(aml_task_load(WINE, &t, err, sizeof err) == AML_OK, "%s", err);

	sum = read_json(res.run_dir, "summary.json");
	chosen = json_object_get_string(jget(sum, "chosen"));
	ck_assert_msg(strncmp(chosen, "ensemble of the top ", 20) == 0
		      && strstr(chosen, "; rank weights), validated against the sample") != NULL,
		      "%s", chosen);
	j = read_json(res.run_dir, "ensemble.json");
	ck_assert(json_object_get_boolean(jget(j, "used")));
	members = jget(j, "members");
	n = json_object_array_length(members);
	ck_assert_uint_ge(n, 2);
	ck_assert_uint_le(n, 3);
	ck_assert_int_eq(json_object_get_int(jget(json_object_array_get_idx(members, 0), "node")),
			 res.best_node);
	cols = jget(j, "columns");
	ck_assert_uint_eq(json_object_array_length(cols), 3);
	for (c = 0; c < 3; c++)
		ck_assert_str_eq(json_object_get_string(jget(json_object_array_get_idx(cols, c),
							     "method")), "weighted_mean_renormalised");

	/* best_node_submission.csv is the best node's own file */
	snprintf(rel, sizeof rel, "nodes/%04d/submission/submission.csv", res.best_node);
	a = run_file(res.run_dir, rel);
	b = run_file(res.run_dir, "best_node_submission.csv");
	ck_assert_ptr_nonnull(b);
	ck_assert_str_eq(a, b);
	free(a);
	free(b);

	/* submission.csv is valid and is the members' weighted mean, renormalised */
	a = aml_path_join(res.run_dir, "submission.csv");
	ck_assert_msg(aml_submission_load(t, a, &ens, reason, sizeof reason) == AML_OK, "%s", reason);
	free(a);
	for (i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(members, i);

		ck_assert(json_object_get_boolean(jget(e, "used")));
		share[i] = json_object_get_double(jget(e, "weight"));
		total += share[i];
		snprintf(rel, sizeof rel, "nodes/%04d/submission/submission.csv",
			 json_object_get_int(jget(e, "node")));
		a = aml_path_join(res.run_dir, rel);
		ck_assert_msg(aml_submission_load(t, a, &mem[i], reason, sizeof reason) == AML_OK,
			      "%s", reason);
		free(a);
	}
	ck_assert_double_eq_tol(total, 1, 1e-9);
	for (r = 0; r < aml_submission_rows(ens); r++) {
		double want[3] = {0, 0, 0}, s = 0;

		for (c = 0; c < 3; c++) {
			for (i = 0; i < n; i++)
				want[c] += share[i] * num(aml_submission_value(mem[i], c, r));
			s += want[c];
		}
		for (c = 0; c < 3; c++)
			ck_assert_double_eq_tol(num(aml_submission_value(ens, c, r)), want[c] / s, 1e-7);
	}
	for (i = 0; i < n; i++)
		aml_submission_free(mem[i]);
	aml_submission_free(ens);
	json_object_put(j);
	json_object_put(sum);
	aml_task_free(t);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("ensemble");
	TCase *tc = tcase_create("build");
	TCase *ch = tcase_create("choose");
	TCase *run = tcase_create("run");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_weighted_mean_by_id);
	tcase_add_test(tc, test_class_proba_renormalised);
	tcase_add_test(tc, test_weighted_vote_tie_break);
	tcase_add_test(tc, test_integer_labels_voted);
	tcase_add_test(tc, test_missing_id_dropped);
	tcase_add_test(tc, test_duplicate_submission_dropped);
	tcase_add_test(tc, test_failed_check_discarded);
	tcase_add_loop_test(tc, test_config_errors, 0, (int)AML_ARRAY_LEN(bad_keys));
	tcase_add_test(tc, test_config_defaults);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ch, setup, teardown);
	tcase_add_test(ch, test_choose_members);
	tcase_add_test(ch, test_choose_duplicates);
	tcase_add_test(ch, test_choose_falls_back);
	suite_add_tcase(s, ch);
	tcase_set_timeout(run, 600);
	tcase_add_checked_fixture(run, setup, teardown);
	tcase_add_test(run, test_offline_run);
	suite_add_tcase(s, run);
	return aml_test_main(s);
}
