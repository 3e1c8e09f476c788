/*
 * metric.c — see metric.h for the definitions each function follows.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "csv.h"
#include "metric.h"
#include "util.h"

#define LOGLOSS_EPS 1e-15
#define QWK_MAX_SCALE 10000

typedef struct metric_def {
	const char *name;
	int higher_is_better;
	int classification;
} metric_def;

static const metric_def metrics[] = {
	{"accuracy", 1, 1},
	{"roc_auc", 1, 1},
	{"log_loss", 0, 1},
	{"f1", 1, 1},
	{"f1_macro", 1, 1},
	{"qwk", 1, 1},
	{"rmse", 0, 0},
	{"rmsle", 0, 0},
	{"mae", 0, 0},
	{"mse", 0, 0},
	{"r2", 1, 0},
	{"mcrmse", 0, 0},
};

static const char *const metric_names[] = {
	"accuracy", "roc_auc", "log_loss", "f1", "f1_macro", "qwk",
	"rmse", "rmsle", "mae", "mse", "r2", "mcrmse",
};

static const metric_def *
metric_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < AML_ARRAY_LEN(metrics); i++)
		if (strcmp(metrics[i].name, name) == 0)
			return &metrics[i];
	return NULL;
}

const char *const *
aml_metric_names(size_t *n)
{
	if (n)
		*n = AML_ARRAY_LEN(metric_names);
	return metric_names;
}

const char *
aml_metric_names_joined(void)
{
	return "accuracy, roc_auc, log_loss, f1, f1_macro, qwk, rmse, rmsle,"
	       " mae, mse, r2, mcrmse";
}

int
aml_metric_known(const char *name)
{
	return metric_find(name) != NULL;
}

int
aml_metric_higher_is_better(const char *name)
{
	const metric_def *m = metric_find(name);

	return m ? m->higher_is_better : -1;
}

int
aml_metric_is_classification(const char *name)
{
	const metric_def *m = metric_find(name);

	return m ? m->classification : -1;
}

/* ------------------------------------------------------------------ */
/* Labels.                                                             */

int
aml_metric_label_eq(const char *a, const char *b)
{
	double x, y;

	if (strcmp(a, b) == 0)
		return 1;
	return aml_csv_number(a, &x) == 0 && aml_csv_number(b, &y) == 0 && x == y;
}

int
aml_metric_label_cmp(const char *a, const char *b)
{
	double x, y;

	if (aml_csv_number(a, &x) == 0 && aml_csv_number(b, &y) == 0 && x != y)
		return x < y ? -1 : 1;
	return strcmp(a, b);
}

static int
looks_positive(const char *s)
{
	static const char *const yes[] = {"true", "yes", "y", "pos", "positive"};
	double v;
	size_t i;

	if (aml_csv_number(s, &v) == 0)
		return v == 1.0;
	for (i = 0; i < AML_ARRAY_LEN(yes); i++)
		if (strcasecmp(s, yes[i]) == 0)
			return 1;
	return 0;
}

size_t
aml_metric_positive(const char *const *labels, size_t n)
{
	size_t i, best = 0;

	for (i = 0; i < n; i++)
		if (looks_positive(labels[i]))
			return i;
	for (i = 1; i < n; i++)
		if (aml_metric_label_cmp(labels[i], labels[best]) > 0)
			best = i;
	return best;
}

const char *
aml_metric_label_key(const char *s, char *buf, size_t len)
{
	double v;

	if (aml_csv_number(s, &v) != 0)
		return s;
	if (v == 0)
		v = 0; /* -0 and 0 */
	snprintf(buf, len, "\x01%.17g", v);
	return buf;
}

/* The distinct labels of up to two vectors, in first-seen order, as
 * indices into a map keyed by aml_metric_label_key (transferred, NULL on oom).
 * *first gets, for each distinct label, one spelling of it (transferred). */
static aml_csv_map *
label_set(const char *const *a, const char *const *b, size_t n,
	  const char ***first)
{
	aml_csv_map *m = aml_csv_map_new();
	const char **sp = NULL;
	char buf[64];
	size_t i, j;

	if (m == NULL)
		return NULL;
	sp = malloc(2 * n * sizeof *sp + 1);
	if (sp == NULL)
		goto oom;
	for (j = 0; j < 2; j++) {
		const char *const *v = j == 0 ? a : b;

		if (v == NULL)
			continue;
		for (i = 0; i < n; i++) {
			size_t count = aml_csv_map_count(m);
			int rc = aml_csv_map_add(m, aml_metric_label_key(v[i], buf, sizeof buf), count, NULL);

			if (rc < 0)
				goto oom;
			if (rc == 1)
				sp[count] = v[i];
		}
	}
	*first = sp;
	return m;
oom:
	free(sp);
	aml_csv_map_free(m);
	return NULL;
}

static size_t
label_index(const aml_csv_map *m, const char *s)
{
	char buf[64];
	size_t v = 0;

	aml_csv_map_get(m, aml_metric_label_key(s, buf, sizeof buf), &v);
	return v;
}

/* The positive class for a binary metric: from d->classes when there are
 * two, else from the labels seen in the truth (and predicted labels). */
static int
binary_positive(const aml_metric_data *d, const char *name, const char **pos,
		char *err, size_t errlen)
{
	const char **seen = NULL;
	aml_csv_map *m;
	size_t count;

	if (d->classes != NULL && d->n_classes == 2) {
		*pos = d->classes[aml_metric_positive(d->classes, 2)];
		return AML_OK;
	}
	m = label_set(d->y_true, d->y_pred, d->n, &seen);
	if (m == NULL) {
		aml_seterr(err, errlen, "%s: out of memory", name);
		return AML_ENOMEM;
	}
	count = aml_csv_map_count(m);
	if (count == 1) {
		/* One label only: it is the positive class if it looks like
		 * one, else there is no positive row at all. */
		*pos = looks_positive(seen[0]) ? seen[0] : "\001(no positive class)";
		aml_csv_map_free(m);
		free(seen);
		return AML_OK;
	}
	if (count != 2) {
		aml_seterr(err, errlen,
			   "%s is for two classes, but the labels hold %zu", name, count);
		aml_csv_map_free(m);
		free(seen);
		return AML_EINVAL;
	}
	*pos = seen[aml_metric_positive(seen, 2)];
	aml_csv_map_free(m);
	free(seen);
	return AML_OK;
}

/* Predicted labels: y_pred, or derived from v_pred (transferred array of
 * borrowed strings). */
static int
pred_labels(const aml_metric_data *d, const char *name, const char ***out,
	    char *err, size_t errlen)
{
	const char **p;
	size_t i, c;

	*out = NULL;
	p = malloc((d->n ? d->n : 1) * sizeof *p);
	if (p == NULL) {
		aml_seterr(err, errlen, "%s: out of memory", name);
		return AML_ENOMEM;
	}
	if (d->y_pred != NULL) {
		for (i = 0; i < d->n; i++)
			p[i] = d->y_pred[i];
	} else if (d->v_pred != NULL && d->classes != NULL && d->k > 1
		   && d->k == d->n_classes) {
		for (i = 0; i < d->n; i++) {
			size_t best = 0;

			for (c = 1; c < d->k; c++)
				if (d->v_pred[c * d->n + i] > d->v_pred[best * d->n + i])
					best = c;
			p[i] = d->classes[best];
		}
	} else if (d->v_pred != NULL && d->classes != NULL && d->k == 1
		   && d->n_classes == 2) {
		size_t pos = aml_metric_positive(d->classes, 2);

		for (i = 0; i < d->n; i++)
			p[i] = d->classes[d->v_pred[i] >= 0.5 ? pos : 1 - pos];
	} else {
		free(p);
		aml_seterr(err, errlen, "%s needs predicted labels, or probabilities"
			   " with their classes", name);
		return AML_EINVAL;
	}
	*out = p;
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Label metrics.                                                      */

static int
m_accuracy(const aml_metric_data *d, const char *const *pred, double *out)
{
	size_t i, hit = 0;

	for (i = 0; i < d->n; i++)
		hit += (size_t)aml_metric_label_eq(d->y_true[i], pred[i]);
	*out = (double)hit / (double)d->n;
	return AML_OK;
}

static int
m_f1(const aml_metric_data *d, const char *const *pred, double *out,
     char *err, size_t errlen)
{
	aml_metric_data dd = *d;
	const char *pos;
	size_t i, tp = 0, fp = 0, fn = 0;
	int rc;

	dd.y_pred = pred;
	rc = binary_positive(&dd, "f1", &pos, err, errlen);
	if (rc != AML_OK)
		return rc;
	for (i = 0; i < d->n; i++) {
		int t = aml_metric_label_eq(d->y_true[i], pos);
		int p = aml_metric_label_eq(pred[i], pos);

		tp += (size_t)(t && p);
		fp += (size_t)(!t && p);
		fn += (size_t)(t && !p);
	}
	*out = 2 * tp + fp + fn ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : 0.0;
	return AML_OK;
}

static int
m_f1_macro(const aml_metric_data *d, const char *const *pred, double *out,
	   char *err, size_t errlen)
{
	const char **seen = NULL;
	aml_csv_map *m = label_set(d->y_true, pred, d->n, &seen);
	size_t *tp = NULL, *fp = NULL, *fn = NULL, count, i;
	double sum = 0;

	if (m == NULL)
		goto oom;
	count = aml_csv_map_count(m);
	tp = calloc(count, sizeof *tp);
	fp = calloc(count, sizeof *fp);
	fn = calloc(count, sizeof *fn);
	if (tp == NULL || fp == NULL || fn == NULL)
		goto oom;
	for (i = 0; i < d->n; i++) {
		size_t t = label_index(m, d->y_true[i]);
		size_t p = label_index(m, pred[i]);

		if (t == p) {
			tp[t]++;
		} else {
			fn[t]++;
			fp[p]++;
		}
	}
	for (i = 0; i < count; i++)
		sum += 2.0 * (double)tp[i] / (double)(2 * tp[i] + fp[i] + fn[i]);
	*out = sum / (double)count;
	free(tp);
	free(fp);
	free(fn);
	free(seen);
	aml_csv_map_free(m);
	return AML_OK;
oom:
	free(tp);
	free(fp);
	free(fn);
	free(seen);
	aml_csv_map_free(m);
	aml_seterr(err, errlen, "f1_macro: out of memory");
	return AML_ENOMEM;
}

/* A whole rating from a label or a number. */
static int
rating(const char *s, double v, int use_label, long *out)
{
	double x = v;

	if (use_label && aml_csv_number(s, &x) != 0)
		return -1;
	if (!isfinite(x) || x != floor(x) || fabs(x) > 1e9)
		return -1;
	*out = (long)x;
	return 0;
}

static int
m_qwk(const aml_metric_data *d, double *out, char *err, size_t errlen)
{
	const char **pred = NULL;
	long *rt, *rp, lo = 0, hi = 0;
	double *o = NULL, *ht = NULL, *hp = NULL, num = 0, den = 0;
	size_t i, a, b, scale;
	int rc = AML_OK;

	if (d->y_true == NULL && (d->v_true == NULL || d->k != 1)) {
		aml_seterr(err, errlen, "qwk needs the true ratings");
		return AML_EINVAL;
	}
	if (d->y_pred == NULL && d->v_pred != NULL && d->k == 1 && d->classes == NULL) {
		pred = NULL; /* whole numbers in v_pred */
	} else {
		rc = pred_labels(d, "qwk", &pred, err, errlen);
		if (rc != AML_OK)
			return rc;
	}
	rt = malloc(d->n * sizeof *rt);
	rp = malloc(d->n * sizeof *rp);
	if (rt == NULL || rp == NULL) {
		rc = AML_ENOMEM;
		aml_seterr(err, errlen, "qwk: out of memory");
		goto out;
	}
	for (i = 0; i < d->n; i++) {
		if (rating(d->y_true ? d->y_true[i] : NULL, d->v_true ? d->v_true[i] : 0,
			   d->y_true != NULL, &rt[i]) != 0) {
			aml_seterr(err, errlen, "qwk needs whole-number ratings; true row %zu is '%s'",
				   i + 1, d->y_true ? d->y_true[i] : "not whole");
			rc = AML_EINVAL;
			goto out;
		}
		if (rating(pred ? pred[i] : NULL, pred ? 0 : d->v_pred[i],
			   pred != NULL, &rp[i]) != 0) {
			char num_s[64];

			snprintf(num_s, sizeof num_s, "%g", pred ? 0.0 : d->v_pred[i]);
			aml_seterr(err, errlen, "qwk needs whole-number ratings; predicted row %zu is '%s'",
				   i + 1, pred ? pred[i] : num_s);
			rc = AML_EINVAL;
			goto out;
		}
		if (i == 0)
			lo = hi = rt[0];
		if (rt[i] < lo) lo = rt[i];
		if (rt[i] > hi) hi = rt[i];
		if (rp[i] < lo) lo = rp[i];
		if (rp[i] > hi) hi = rp[i];
	}
	if (hi - lo >= QWK_MAX_SCALE) {
		aml_seterr(err, errlen, "qwk: ratings from %ld to %ld span more than %d values",
			   lo, hi, QWK_MAX_SCALE);
		rc = AML_EINVAL;
		goto out;
	}
	scale = (size_t)(hi - lo) + 1;
	o = calloc(scale * scale, sizeof *o);
	ht = calloc(scale, sizeof *ht);
	hp = calloc(scale, sizeof *hp);
	if (o == NULL || ht == NULL || hp == NULL) {
		rc = AML_ENOMEM;
		aml_seterr(err, errlen, "qwk: out of memory");
		goto out;
	}
	for (i = 0; i < d->n; i++) {
		a = (size_t)(rt[i] - lo);
		b = (size_t)(rp[i] - lo);
		o[a * scale + b] += 1;
		ht[a] += 1;
		hp[b] += 1;
	}
	for (a = 0; a < scale; a++)
		for (b = 0; b < scale; b++) {
			double w = ((double)a - (double)b) * ((double)a - (double)b);

			num += w * o[a * scale + b];
			den += w * ht[a] * hp[b] / (double)d->n;
		}
	*out = den > 0 ? 1.0 - num / den : 1.0;
out:
	free(pred);
	free(rt);
	free(rp);
	free(o);
	free(ht);
	free(hp);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Ranking and probabilities.                                          */

typedef struct scored {
	double s;
	int pos;
} scored;

static int
scored_cmp(const void *a, const void *b)
{
	double x = ((const scored *)a)->s, y = ((const scored *)b)->s;

	return (x > y) - (x < y);
}

/* AUC of scores s against 0/1 truth y (buffer of n scored, reused).
 * -1 when the truth holds one class only. */
static double
auc_one(scored *v, size_t n)
{
	double rank_sum = 0, npos = 0, nneg;
	size_t i = 0, j;

	if (n > 1)
		qsort(v, n, sizeof *v, scored_cmp);
	while (i < n) {
		double avg;
		size_t k;

		for (j = i + 1; j < n && v[j].s == v[i].s; j++)
			;
		avg = ((double)i + 1 + (double)j) / 2.0; /* ranks i+1..j */
		for (k = i; k < j; k++)
			if (v[k].pos) {
				rank_sum += avg;
				npos += 1;
			}
		i = j;
	}
	nneg = (double)n - npos;
	if (npos == 0 || nneg == 0)
		return -1;
	return (rank_sum - npos * (npos + 1) / 2.0) / (npos * nneg);
}

static int
m_roc_auc(const aml_metric_data *d, double *out, char *err, size_t errlen)
{
	scored *v;
	double sum = 0, a;
	size_t used = 0, c, i;
	const char *pos = NULL;
	int rc;

	if (d->v_pred == NULL) {
		aml_seterr(err, errlen, "roc_auc needs scores or probabilities, not labels");
		return AML_EINVAL;
	}
	v = malloc(d->n * sizeof *v);
	if (v == NULL) {
		aml_seterr(err, errlen, "roc_auc: out of memory");
		return AML_ENOMEM;
	}
	if (d->y_true == NULL) { /* k columns of 0/1 truth */
		if (d->v_true == NULL) {
			free(v);
			aml_seterr(err, errlen, "roc_auc needs the true labels");
			return AML_EINVAL;
		}
		for (c = 0; c < d->k; c++) {
			for (i = 0; i < d->n; i++) {
				double t = d->v_true[c * d->n + i];

				if (t != 0 && t != 1) {
					free(v);
					aml_seterr(err, errlen, "roc_auc: true value %g in column %zu,"
						   " row %zu is not 0 or 1", t, c + 1, i + 1);
					return AML_EINVAL;
				}
				v[i].s = d->v_pred[c * d->n + i];
				v[i].pos = t == 1;
			}
			if ((a = auc_one(v, d->n)) >= 0) {
				sum += a;
				used++;
			}
		}
	} else if (d->k == 1) {
		rc = binary_positive(d, "roc_auc", &pos, err, errlen);
		if (rc != AML_OK) {
			free(v);
			return rc;
		}
		for (i = 0; i < d->n; i++) {
			v[i].s = d->v_pred[i];
			v[i].pos = aml_metric_label_eq(d->y_true[i], pos);
		}
		if ((a = auc_one(v, d->n)) >= 0) {
			sum = a;
			used = 1;
		}
	} else {
		if (d->classes == NULL || d->n_classes != d->k) {
			free(v);
			aml_seterr(err, errlen, "roc_auc with %zu columns needs the class of each", d->k);
			return AML_EINVAL;
		}
		for (c = 0; c < d->k; c++) {
			for (i = 0; i < d->n; i++) {
				v[i].s = d->v_pred[c * d->n + i];
				v[i].pos = aml_metric_label_eq(d->y_true[i], d->classes[c]);
			}
			if ((a = auc_one(v, d->n)) >= 0) {
				sum += a;
				used++;
			}
		}
	}
	free(v);
	if (used == 0) {
		aml_seterr(err, errlen, "roc_auc is undefined: the answers hold one class only");
		return AML_EINVAL;
	}
	*out = sum / (double)used;
	return AML_OK;
}

static double
clip(double p)
{
	if (p < LOGLOSS_EPS)
		return LOGLOSS_EPS;
	if (p > 1 - LOGLOSS_EPS)
		return 1 - LOGLOSS_EPS;
	return p;
}

static int
m_log_loss(const aml_metric_data *d, double *out, char *err, size_t errlen)
{
	double sum = 0;
	size_t i, c;
	int rc;

	if (d->v_pred == NULL || d->y_true == NULL) {
		aml_seterr(err, errlen, "log_loss needs true labels and predicted probabilities");
		return AML_EINVAL;
	}
	if (d->k == 1) {
		const char *pos, *neg = NULL;

		rc = binary_positive(d, "log_loss", &pos, err, errlen);
		if (rc != AML_OK)
			return rc;
		if (d->classes != NULL && d->n_classes == 2)
			neg = d->classes[0] == pos ? d->classes[1] : d->classes[0];
		for (i = 0; i < d->n; i++) {
			double p = clip(d->v_pred[i]);
			int y = aml_metric_label_eq(d->y_true[i], pos);

			if (!y && neg != NULL && !aml_metric_label_eq(d->y_true[i], neg)) {
				aml_seterr(err, errlen, "log_loss: true label '%s' in row %zu is"
					   " neither '%s' nor '%s'", d->y_true[i], i + 1, neg, pos);
				return AML_EINVAL;
			}
			sum -= y ? log(p) : log(1 - p);
		}
		*out = sum / (double)d->n;
		return AML_OK;
	}
	if (d->classes == NULL || d->n_classes != d->k) {
		aml_seterr(err, errlen, "log_loss with %zu columns needs the class of each", d->k);
		return AML_EINVAL;
	}
	for (i = 0; i < d->n; i++) {
		double rowsum = 0, pt = -1;

		for (c = 0; c < d->k; c++)
			rowsum += clip(d->v_pred[c * d->n + i]);
		for (c = 0; c < d->k; c++)
			if (aml_metric_label_eq(d->y_true[i], d->classes[c])) {
				pt = clip(d->v_pred[c * d->n + i]) / rowsum;
				break;
			}
		if (pt < 0) {
			aml_seterr(err, errlen, "log_loss: true label '%s' in row %zu is not"
				   " one of the %zu classes", d->y_true[i], i + 1, d->k);
			return AML_EINVAL;
		}
		sum -= log(pt);
	}
	*out = sum / (double)d->n;
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* Regression.                                                         */

enum reg_kind { REG_MSE, REG_RMSE, REG_MAE, REG_R2, REG_RMSLE };

static int
m_regression(const aml_metric_data *d, const char *name, enum reg_kind kind,
	     double *out, char *err, size_t errlen)
{
	double total = 0;
	size_t c, i;

	if (d->v_true == NULL || d->v_pred == NULL || d->k == 0) {
		aml_seterr(err, errlen, "%s needs true and predicted numbers", name);
		return AML_EINVAL;
	}
	for (c = 0; c < d->k; c++) {
		const double *t = d->v_true + c * d->n, *p = d->v_pred + c * d->n;
		double acc = 0, mean = 0, sst = 0, v;

		for (i = 0; i < d->n; i++) {
			if (!isfinite(t[i]) || !isfinite(p[i])) {
				aml_seterr(err, errlen, "%s: row %zu holds a value that is not finite",
					   name, i + 1);
				return AML_EINVAL;
			}
			if (kind == REG_RMSLE && (t[i] < 0 || p[i] < 0)) {
				aml_seterr(err, errlen, "rmsle is undefined for negative values; %s"
					   " row %zu is %g", t[i] < 0 ? "true" : "predicted",
					   i + 1, t[i] < 0 ? t[i] : p[i]);
				return AML_EINVAL;
			}
			if (kind == REG_RMSLE)
				v = log1p(p[i]) - log1p(t[i]);
			else
				v = p[i] - t[i];
			acc += kind == REG_MAE ? fabs(v) : v * v;
			mean += t[i];
		}
		acc /= (double)d->n;
		switch (kind) {
		case REG_MSE:
		case REG_MAE:
			total += acc;
			break;
		case REG_RMSE:
		case REG_RMSLE:
			total += sqrt(acc);
			break;
		case REG_R2:
			mean /= (double)d->n;
			for (i = 0; i < d->n; i++)
				sst += (t[i] - mean) * (t[i] - mean);
			/* acc * n is the residual sum of squares */
			if (sst == 0)
				total += acc == 0 ? 1.0 : 0.0;
			else
				total += 1.0 - acc * (double)d->n / sst;
			break;
		}
	}
	*out = total / (double)d->k;
	return AML_OK;
}

/* ------------------------------------------------------------------ */

int
aml_metric_compute(const char *name, const aml_metric_data *d, double *out,
		   char *err, size_t errlen)
{
	const metric_def *m = metric_find(name);
	const char **pred = NULL;
	int rc;

	if (m == NULL) {
		aml_seterr(err, errlen, "unknown metric '%s' (known: %s)",
			   name ? name : "(null)", aml_metric_names_joined());
		return AML_EINVAL;
	}
	if (d->n == 0) {
		aml_seterr(err, errlen, "%s: no rows to score", name);
		return AML_EINVAL;
	}
	if (strcmp(name, "qwk") == 0)
		return m_qwk(d, out, err, errlen);
	if (strcmp(name, "roc_auc") == 0)
		return m_roc_auc(d, out, err, errlen);
	if (strcmp(name, "log_loss") == 0)
		return m_log_loss(d, out, err, errlen);
	if (m->classification) {
		if (d->y_true == NULL) {
			aml_seterr(err, errlen, "%s needs the true labels", name);
			return AML_EINVAL;
		}
		rc = pred_labels(d, name, &pred, err, errlen);
		if (rc != AML_OK)
			return rc;
		if (strcmp(name, "accuracy") == 0)
			rc = m_accuracy(d, pred, out);
		else if (strcmp(name, "f1") == 0)
			rc = m_f1(d, pred, out, err, errlen);
		else
			rc = m_f1_macro(d, pred, out, err, errlen);
		free(pred);
		return rc;
	}
	if (strcmp(name, "rmse") == 0 || strcmp(name, "mcrmse") == 0)
		return m_regression(d, name, REG_RMSE, out, err, errlen);
	if (strcmp(name, "rmsle") == 0)
		return m_regression(d, name, REG_RMSLE, out, err, errlen);
	if (strcmp(name, "mae") == 0)
		return m_regression(d, name, REG_MAE, out, err, errlen);
	if (strcmp(name, "mse") == 0)
		return m_regression(d, name, REG_MSE, out, err, errlen);
	return m_regression(d, name, REG_R2, out, err, errlen);
}
