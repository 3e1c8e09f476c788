/*
 * metric.h — the evaluation metrics a task can name, computed from plain
 * vectors.  grade.c feeds them answers and a submission; anything else that
 * needs a score (a run re-scoring a candidate, a test) can call them too.
 *
 * Canonical names (shared with task.yaml, the task profile and plugins):
 *   accuracy, roc_auc, log_loss, f1, f1_macro, qwk        (truth: labels)
 *   rmse, rmsle, mae, mse, r2, mcrmse                     (truth: numbers)
 *
 * Definitions, where they could differ from one library to another:
 *   - Labels are compared as strings, except that two numbers are equal
 *     when their values are ("1" equals "1.0").
 *   - The positive class of a binary task (f1, roc_auc, log_loss with one
 *     probability column) is the label spelled "1", "true", "yes", "y",
 *     "pos" or "positive" (any case, or any number equal to 1) when there
 *     is one; else the larger label: by value when both are numbers, else
 *     by strcmp().  So {0,1} -> 1, {1,2} -> 1 (like scikit-learn's
 *     pos_label=1), {2,4} -> 4, {"no","yes"} -> "yes", {"cat","dog"} -> "dog".
 *     The two labels are the classes given, else those seen in the truth
 *     and predicted labels; when only one is seen, it is the positive class
 *     if spelled like one, else no row is positive.
 *   - roc_auc: ties get average ranks (the Mann-Whitney form).  With one
 *     column per class it is the unweighted mean of one-vs-rest AUCs over
 *     the classes that occur in the truth with both positives and
 *     negatives; with several 0/1 truth columns (multi-label) it is the
 *     mean of the per-column AUCs.
 *   - log_loss: probabilities are clipped to [1e-15, 1-1e-15]; with one
 *     column per class each row is then divided by its sum.
 *   - f1: binary only (see positive class); 0 when there is no true or
 *     predicted positive.  f1_macro: unweighted mean of per-label F1 over
 *     every label seen in the truth or the predictions.
 *   - qwk: quadratic weighted kappa over integer ratings, with the rating
 *     scale running from the smallest to the largest rating seen in either
 *     vector (Kaggle's reference implementation; scikit-learn's
 *     cohen_kappa_score uses only the ratings seen, which agrees whenever no
 *     rating inside the range is absent from both).  1 when both vectors
 *     hold one and the same rating.
 *   - rmse, mse, mae, r2, rmsle with several columns: the mean of the
 *     per-column values (scikit-learn's multioutput="uniform_average");
 *     mcrmse is always that mean of per-column RMSEs.
 *   - r2 of a constant truth: 1 when the predictions are exact, else 0.
 *   - rmsle uses log1p and refuses negative values in either vector.
 */
#ifndef AML_METRIC_H
#define AML_METRIC_H

#include <stddef.h>

/* The canonical names, in the order above (static, never freed). */
const char *const *aml_metric_names(size_t *n);
/* The names as one string "accuracy, roc_auc, ..." (static). */
const char *aml_metric_names_joined(void);
/* 1 when name is one of the canonical names. */
int aml_metric_known(const char *name);
/* 1 when higher scores are better (accuracy, roc_auc, f1, f1_macro, qwk,
 * r2), 0 when lower are (the rest), -1 for an unknown name. */
int aml_metric_higher_is_better(const char *name);
/* 1 when the metric's truth is class labels, 0 when it is numbers, -1 for
 * an unknown name. */
int aml_metric_is_classification(const char *name);

/* Label equality and order as described above (numbers by value). */
int aml_metric_label_eq(const char *a, const char *b);
int aml_metric_label_cmp(const char *a, const char *b);
/* The index in labels[0..n) of the positive class; 0 when n == 0. */
size_t aml_metric_positive(const char *const *labels, size_t n);
/* A key under which equal labels meet (for hash sets of labels): s itself,
 * or for a number a canonical spelling of its value written into buf
 * (64 bytes are enough).  Borrowed from s or buf. */
const char *aml_metric_label_key(const char *s, char *buf, size_t len);

/* What a metric is computed from.  Every pointer is borrowed.  Numeric
 * vectors are column-major: column c, row i is at [c * n + i]. */
typedef struct aml_metric_data {
	size_t n;                      /* rows */
	size_t k;                      /* columns of v_true / v_pred */
	const char *const *y_true;     /* n true labels, or NULL */
	const double *v_true;          /* k*n true numbers, or NULL */
	const char *const *y_pred;     /* n predicted labels, or NULL */
	const double *v_pred;          /* k*n scores, probabilities or values */
	/* The classes.  With k > 1 probability columns, classes[c] is the
	 * class of column c (n_classes == k).  With one probability column
	 * of a binary task, the task's two classes.  May be NULL when the
	 * predictions are labels. */
	const char *const *classes;
	size_t n_classes;
} aml_metric_data;

/* Compute metric name over d into *out.
 *
 * Classification metrics need y_true (roc_auc also accepts k 0/1 columns
 * in v_true).  accuracy, f1, f1_macro and qwk take y_pred, or derive it
 * from v_pred: the argmax class of k == n_classes columns, or the positive
 * class when a single probability is >= 0.5.  qwk also takes numbers in
 * v_true / v_pred, which must be whole.  roc_auc and log_loss need v_pred.
 * Regression metrics need v_true and v_pred.
 *
 * Returns AML_OK, or AML_EINVAL with one line in err: unknown metric,
 * missing vectors, no rows, values the metric cannot take (a label that is
 * not a class, a negative value for rmsle, a fractional rating for qwk,
 * one class only for roc_auc). */
int aml_metric_compute(const char *name, const aml_metric_data *d,
		       double *out, char *err, size_t errlen);

#endif
