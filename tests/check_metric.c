/*
 * check_metric.c — every metric against known values, and every refusal.
 *
 * The expected numbers were computed once, offline, with scikit-learn
 * 1.2.1 under /usr/bin/python3 (the call is in the comment next to each);
 * qwk's with Kaggle's reference formula in numpy where it differs from
 * scikit-learn; the rest by hand.
 */
#include "config.h"

#include <math.h>
#include <string.h>

#include "metric.h"
#include "mock_host.h"
#include "util.h"

#define TOL 1e-12

static double
score(const char *name, const aml_metric_data *d)
{
	char err[AML_ERRLEN] = "";
	double v = NAN;
	int rc = aml_metric_compute(name, d, &v, err, sizeof err);

	ck_assert_msg(rc == AML_OK, "%s: %s", name, err);
	return v;
}

static void
refused(const char *name, const aml_metric_data *d, const char *msg)
{
	char err[AML_ERRLEN] = "";
	double v = 0;
	int rc = aml_metric_compute(name, d, &v, err, sizeof err);

	ck_assert_int_eq(rc, AML_EINVAL);
	ck_assert_msg(strstr(err, msg) != NULL, "'%s' lacks '%s'", err, msg);
}

START_TEST(test_names)
{
	size_t n, i, up = 0;
	const char *const *names = aml_metric_names(&n);

	ck_assert_uint_eq(n, 12);
	for (i = 0; i < n; i++) {
		ck_assert(aml_metric_known(names[i]));
		ck_assert(strstr(aml_metric_names_joined(), names[i]) != NULL);
		up += (size_t)aml_metric_higher_is_better(names[i]);
	}
	ck_assert_uint_eq(up, 6);
	ck_assert_int_eq(aml_metric_higher_is_better("qwk"), 1);
	ck_assert_int_eq(aml_metric_higher_is_better("r2"), 1);
	ck_assert_int_eq(aml_metric_higher_is_better("log_loss"), 0);
	ck_assert_int_eq(aml_metric_higher_is_better("mcrmse"), 0);
	ck_assert_int_eq(aml_metric_higher_is_better("RMSE"), -1);
	ck_assert_int_eq(aml_metric_is_classification("f1_macro"), 1);
	ck_assert_int_eq(aml_metric_is_classification("mae"), 0);
	ck_assert_int_eq(aml_metric_is_classification("auc"), -1);
	ck_assert(!aml_metric_known(NULL));
}
END_TEST

START_TEST(test_labels)
{
	static const char *const a[] = {"0", "1"};
	static const char *const b[] = {"2", "1"};
	static const char *const c[] = {"4", "2"};
	static const char *const d[] = {"yes", "no"};
	static const char *const e[] = {"cat", "dog"};
	static const char *const f[] = {"-1", "1.0"};
	static const char *const g[] = {"False", "True"};
	char buf[64];

	ck_assert_uint_eq(aml_metric_positive(a, 2), 1);
	ck_assert_uint_eq(aml_metric_positive(b, 2), 1); /* "1", as pos_label=1 */
	ck_assert_uint_eq(aml_metric_positive(c, 2), 0); /* the larger */
	ck_assert_uint_eq(aml_metric_positive(d, 2), 0);
	ck_assert_uint_eq(aml_metric_positive(e, 2), 1);
	ck_assert_uint_eq(aml_metric_positive(f, 2), 1);
	ck_assert_uint_eq(aml_metric_positive(g, 2), 1);
	ck_assert(aml_metric_label_eq("1", "1.0"));
	ck_assert(aml_metric_label_eq("cat", "cat"));
	ck_assert(!aml_metric_label_eq("cat", "Cat"));
	ck_assert(!aml_metric_label_eq("1", "01x"));
	ck_assert_int_lt(aml_metric_label_cmp("2", "10"), 0);
	ck_assert_int_gt(aml_metric_label_cmp("b", "a"), 0);
	ck_assert_str_eq(aml_metric_label_key("x", buf, sizeof buf), "x");
	ck_assert_str_eq(aml_metric_label_key("7.0", buf, sizeof buf),
			 aml_metric_label_key("7", buf + 32, 32));
}
END_TEST

START_TEST(test_accuracy)
{
	static const char *const t[] = {"a", "b", "a", "c", "b"};
	static const char *const p[] = {"a", "b", "b", "c", "a"};
	static const char *const tn[] = {"1", "2", "3"};
	static const char *const pn[] = {"1.0", "2", "4"};
	aml_metric_data d = {.n = 5, .y_true = t, .y_pred = p};

	/* accuracy_score(list("abacb"), list("abbca")) = 0.6 */
	ck_assert_double_eq_tol(score("accuracy", &d), 0.6, TOL);
	d = (aml_metric_data){.n = 3, .y_true = tn, .y_pred = pn};
	ck_assert_double_eq_tol(score("accuracy", &d), 2.0 / 3.0, TOL);
}
END_TEST

START_TEST(test_accuracy_from_probabilities)
{
	static const char *const t[] = {"x", "y", "z"};
	static const char *const cls[] = {"x", "y", "z"};
	/* column-major: P(x), P(y), P(z) for rows 0..2 -> argmax x, z, z */
	static const double p[] = {0.6, 0.1, 0.2, 0.3, 0.2, 0.3, 0.1, 0.7, 0.5};
	static const char *const bt[] = {"0", "1", "1", "0"};
	static const char *const bcls[] = {"0", "1"};
	static const double bp[] = {0.2, 0.5, 0.9, 0.7};
	aml_metric_data d = {.n = 3, .k = 3, .y_true = t, .v_pred = p,
			     .classes = cls, .n_classes = 3};

	ck_assert_double_eq_tol(score("accuracy", &d), 2.0 / 3.0, TOL);
	d = (aml_metric_data){.n = 4, .k = 1, .y_true = bt, .v_pred = bp,
			      .classes = bcls, .n_classes = 2};
	/* >= 0.5 is the positive class: 0 1 1 1 */
	ck_assert_double_eq_tol(score("accuracy", &d), 0.75, TOL);
}
END_TEST

START_TEST(test_roc_auc)
{
	static const char *const t[] = {"0", "0", "1", "1", "0", "1"};
	static const double s[] = {0.1, 0.4, 0.35, 0.8, 0.4, 0.4};
	static const char *const t3[] = {"0", "1", "2", "2", "1", "0"};
	static const char *const cls[] = {"0", "1", "2"};
	/* rows [.7 .2 .1] [.3 .4 .3] [.1 .3 .6] [.2 .5 .3] [.25 .5 .25] [.4 .4 .2] */
	static const double p3[] = {
		.7, .3, .1, .2, .25, .4,
		.2, .4, .3, .5, .5, .4,
		.1, .3, .6, .3, .25, .2,
	};
	static const double vt[] = {0, 1, 1, 0, 1, 1, 1, 0};
	static const double vp[] = {0.1, 0.9, 0.8, 0.3, 0.3, 0.6, 0.9, 0.1};
	aml_metric_data d = {.n = 6, .k = 1, .y_true = t, .v_pred = s};

	/* roc_auc_score([0,0,1,1,0,1], [.1,.4,.35,.8,.4,.4]) = 0.6666666666666667 */
	ck_assert_double_eq_tol(score("roc_auc", &d), 0.6666666666666667, TOL);
	/* roc_auc_score(y, P, multi_class='ovr', average='macro') = 0.8958333333333334 */
	d = (aml_metric_data){.n = 6, .k = 3, .y_true = t3, .v_pred = p3,
			      .classes = cls, .n_classes = 3};
	ck_assert_double_eq_tol(score("roc_auc", &d), 0.8958333333333334, TOL);
	/* two 0/1 truth columns: mean of the per-column AUCs, by hand:
	 * column 1 truth 0 1 1 0, scores .1 .9 .8 .3 -> 1.0;
	 * column 2 truth 1 1 1 0, scores .3 .6 .9 .1 -> 1.0 */
	d = (aml_metric_data){.n = 4, .k = 2, .v_true = vt, .v_pred = vp};
	ck_assert_double_eq_tol(score("roc_auc", &d), 1.0, TOL);
}
END_TEST

START_TEST(test_log_loss)
{
	static const char *const t[] = {"1", "0", "1", "1"};
	static const double p[] = {0.9, 0.2, 0.6, 0.0};
	static const char *const cls2[] = {"0", "1"};
	static const char *const t3[] = {"a", "b", "c", "a"};
	static const char *const cls3[] = {"a", "b", "c"};
	/* rows [.5 .3 .2] [.2 .2 .2] [.1 .1 .8] [1 0 0]: the second is
	 * renormalised, the zeros clipped */
	static const double p3[] = {.5, .2, .1, 1, .3, .2, .1, 0, .2, .2, .8, 0};
	aml_metric_data d = {.n = 4, .k = 1, .y_true = t, .v_pred = p,
			     .classes = cls2, .n_classes = 2};

	/* log_loss([1,0,1,1], [.9,.2,.6,0], eps=1e-15) = 8.844526521412178 */
	ck_assert_double_eq_tol(score("log_loss", &d), 8.844526521412178, 1e-9);
	d.classes = NULL; /* the classes then come from the labels */
	d.n_classes = 0;
	ck_assert_double_eq_tol(score("log_loss", &d), 8.844526521412178, 1e-9);
	/* log_loss(list("abca"), P, eps=1e-15) = 0.5037257551355667 (scikit-learn
	 * 1.2 clips, then divides rows by their sums, as we do) */
	d = (aml_metric_data){.n = 4, .k = 3, .y_true = t3, .v_pred = p3,
			      .classes = cls3, .n_classes = 3};
	ck_assert_double_eq_tol(score("log_loss", &d), 0.5037257551355667, 1e-12);
}
END_TEST

START_TEST(test_f1)
{
	static const char *const t[] = {"0", "1", "1", "0", "1", "1"};
	static const char *const p[] = {"0", "1", "0", "0", "1", "1"};
	static const char *const ts[] = {"no", "yes", "yes", "no"};
	static const char *const ps[] = {"yes", "yes", "no", "no"};
	static const char *const tm[] = {"a", "b", "c", "a", "b", "c"};
	static const char *const pm[] = {"a", "c", "c", "a", "b", "b"};
	static const char *const tu[] = {"a", "a", "b"};
	static const char *const pu[] = {"a", "b", "d"};
	static const char *const neg[] = {"0", "0"};
	aml_metric_data d = {.n = 6, .y_true = t, .y_pred = p};

	/* f1_score([0,1,1,0,1,1], [0,1,0,0,1,1]) = 0.8571428571428571 */
	ck_assert_double_eq_tol(score("f1", &d), 0.8571428571428571, TOL);
	/* f1_score(..., pos_label="yes") = 0.5 */
	d = (aml_metric_data){.n = 4, .y_true = ts, .y_pred = ps};
	ck_assert_double_eq_tol(score("f1", &d), 0.5, TOL);
	/* f1_score(list("abcabc"), list("accabb"), average='macro') = 0.6666666666666666 */
	d = (aml_metric_data){.n = 6, .y_true = tm, .y_pred = pm};
	ck_assert_double_eq_tol(score("f1_macro", &d), 0.6666666666666666, TOL);
	/* a predicted label never true counts: f1_score(list("aab"),
	 * list("abd"), average='macro') = 0.2222222222222222 */
	d = (aml_metric_data){.n = 3, .y_true = tu, .y_pred = pu};
	ck_assert_double_eq_tol(score("f1_macro", &d), 0.2222222222222222, TOL);
	/* no positive anywhere: 0 (scikit-learn's zero_division=0) */
	{
		static const char *const cls[] = {"0", "1"};

		d = (aml_metric_data){.n = 2, .y_true = neg, .y_pred = neg,
				      .classes = cls, .n_classes = 2};
		ck_assert_double_eq_tol(score("f1", &d), 0.0, TOL);
	}
}
END_TEST

START_TEST(test_qwk)
{
	static const char *const t[] = {"1", "2", "3", "4", "3"};
	static const char *const p[] = {"1", "2", "4", "4", "2"};
	static const double tg[] = {1, 2, 5, 5, 1};
	static const double pg[] = {1, 2, 5, 2, 2};
	static const char *const same[] = {"3", "3"};
	aml_metric_data d = {.n = 5, .y_true = t, .y_pred = p};

	/* cohen_kappa_score([1,2,3,4,3], [1,2,4,4,2], weights='quadratic')
	 * = 0.8387096774193549 (every rating 1..4 occurs: both forms agree) */
	ck_assert_double_eq_tol(score("qwk", &d), 0.8387096774193549, TOL);
	/* ratings 3 and 4 never occur: Kaggle's formula over 1..5 gives
	 * 0.6268656716417911 (scikit-learn, over {1,2,5}: 0.6666666666666667) */
	d = (aml_metric_data){.n = 5, .k = 1, .v_true = tg, .v_pred = pg};
	ck_assert_double_eq_tol(score("qwk", &d), 0.6268656716417911, TOL);
	d = (aml_metric_data){.n = 2, .y_true = same, .y_pred = same};
	ck_assert_double_eq_tol(score("qwk", &d), 1.0, TOL);
}
END_TEST

START_TEST(test_regression)
{
	static const double t[] = {3, -0.5, 2, 7};
	static const double p[] = {2.5, 0, 2, 8};
	static const double tl[] = {3, 5, 2.5, 7};
	static const double pl[] = {2.5, 5, 4, 8};
	/* columns y1 = 1 2 3, y2 = 0 0 0 */
	static const double tm[] = {1, 2, 3, 0, 0, 0};
	static const double pm[] = {1, 2, 4, 1, 1, 1};
	/* [[.5,1],[-1,1],[7,-6]] vs [[0,2],[-1,2],[8,-5]], column-major */
	static const double tr[] = {0.5, -1, 7, 1, 1, -6};
	static const double pr[] = {0, -1, 8, 2, 2, -5};
	static const double c[] = {2, 2, 2};
	static const double pc[] = {1, 2, 3};
	aml_metric_data d = {.n = 4, .k = 1, .v_true = t, .v_pred = p};

	/* mean_squared_error = 0.375, its root 0.6123724356957945,
	 * mean_absolute_error = 0.5, r2_score = 0.9486081370449679 */
	ck_assert_double_eq_tol(score("mse", &d), 0.375, TOL);
	ck_assert_double_eq_tol(score("rmse", &d), 0.6123724356957945, TOL);
	ck_assert_double_eq_tol(score("mae", &d), 0.5, TOL);
	ck_assert_double_eq_tol(score("r2", &d), 0.9486081370449679, TOL);
	/* sqrt(mean_squared_log_error([3,5,2.5,7], [2.5,5,4,8])) = 0.1993241655810799 */
	d = (aml_metric_data){.n = 4, .k = 1, .v_true = tl, .v_pred = pl};
	ck_assert_double_eq_tol(score("rmsle", &d), 0.1993241655810799, TOL);
	/* by hand: (sqrt(1/3) + 1) / 2 */
	d = (aml_metric_data){.n = 3, .k = 2, .v_true = tm, .v_pred = pm};
	ck_assert_double_eq_tol(score("mcrmse", &d), 0.7886751345948129, TOL);
	ck_assert_double_eq_tol(score("rmse", &d), 0.7886751345948129, TOL);
	/* r2_score(multioutput='uniform_average') = 0.9368005266622779 */
	d = (aml_metric_data){.n = 3, .k = 2, .v_true = tr, .v_pred = pr};
	ck_assert_double_eq_tol(score("r2", &d), 0.9368005266622779, TOL);
	/* a constant truth: 1 when exact, else 0 */
	d = (aml_metric_data){.n = 3, .k = 1, .v_true = c, .v_pred = c};
	ck_assert_double_eq_tol(score("r2", &d), 1.0, TOL);
	d.v_pred = pc;
	ck_assert_double_eq_tol(score("r2", &d), 0.0, TOL);
}
END_TEST

START_TEST(test_refusals)
{
	static const char *const one[] = {"1", "1"};
	static const char *const three[] = {"a", "b", "c"};
	static const char *const frac[] = {"1", "2.5"};
	static const char *const cls[] = {"a", "b"};
	static const double s[] = {0.2, 0.8, 0.5};
	static const double neg[] = {1, -0.5, 2};
	static const double pos[] = {1, 1, 1};
	static const double inf[] = {1, INFINITY, 1};
	static const double p2[] = {.5, .5, .5, .5, .5, .5};
	aml_metric_data d = {.n = 2, .k = 1, .y_true = one, .v_pred = s};

	refused("roc_auc", &d, "one class only");
	d = (aml_metric_data){.n = 3, .k = 1, .y_true = three, .y_pred = three};
	refused("f1", &d, "f1 is for two classes, but the labels hold 3");
	refused("nope", &d, "unknown metric 'nope'");
	refused("roc_auc", &d, "needs scores or probabilities");
	d.n = 0;
	refused("accuracy", &d, "no rows to score");
	d = (aml_metric_data){.n = 2, .y_true = one, .y_pred = frac};
	refused("qwk", &d, "predicted row 2 is '2.5'");
	d = (aml_metric_data){.n = 3, .k = 1, .v_true = pos, .v_pred = neg};
	refused("rmsle", &d, "predicted row 2 is -0.5");
	d = (aml_metric_data){.n = 3, .k = 1, .v_true = neg, .v_pred = pos};
	refused("rmsle", &d, "true row 2 is -0.5");
	d = (aml_metric_data){.n = 3, .k = 1, .v_true = pos, .v_pred = inf};
	refused("rmse", &d, "not finite");
	d = (aml_metric_data){.n = 3, .k = 1, .y_true = three};
	refused("rmse", &d, "needs true and predicted numbers");
	refused("accuracy", &d, "needs predicted labels");
	d = (aml_metric_data){.n = 3, .k = 2, .y_true = three, .v_pred = p2,
			      .classes = cls, .n_classes = 2};
	refused("log_loss", &d, "true label 'c' in row 3 is not one of the 2 classes");
	d = (aml_metric_data){.n = 3, .k = 1, .y_true = three, .v_pred = s,
			      .classes = cls, .n_classes = 2};
	refused("log_loss", &d, "true label 'c' in row 3 is neither 'a' nor 'b'");
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("metric");
	TCase *tc = tcase_create("metric");

	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_labels);
	tcase_add_test(tc, test_accuracy);
	tcase_add_test(tc, test_accuracy_from_probabilities);
	tcase_add_test(tc, test_roc_auc);
	tcase_add_test(tc, test_log_loss);
	tcase_add_test(tc, test_f1);
	tcase_add_test(tc, test_qwk);
	tcase_add_test(tc, test_regression);
	tcase_add_test(tc, test_refusals);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
