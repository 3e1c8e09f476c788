/*
 * review.c — see review.h.
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "evaluate.h"
#include "review.h"
#include "submission.h"
#include "util.h"

/* The values a metric can take and its best one. */
static const struct {
	const char *name;
	double lo, hi;     /* the range (-HUGE_VAL / HUGE_VAL: unbounded) */
	double perfect;
	int chance_half;   /* below 0.5 is worse than chance (AUC) */
} ranges[] = {
	{"accuracy", 0, 1, 1, 0},
	{"f1", 0, 1, 1, 0},
	{"f1_macro", 0, 1, 1, 0},
	{"roc_auc", 0, 1, 1, 1},
	{"qwk", -1, 1, 1, 0},
	{"r2", -HUGE_VAL, 1, 1, 0},
	{"log_loss", 0, HUGE_VAL, 0, 0},
	{"rmse", 0, HUGE_VAL, 0, 0},
	{"rmsle", 0, HUGE_VAL, 0, 0},
	{"mae", 0, HUGE_VAL, 0, 0},
	{"mse", 0, HUGE_VAL, 0, 0},
	{"mcrmse", 0, HUGE_VAL, 0, 0},
};

int
aml_review_opts_load(aml_review_opts *o, const aml_config *cfg, char *err, size_t errlen)
{
	int rc;

	memset(o, 0, sizeof *o);
	if ((rc = aml_config_bool(cfg, "review.enabled", &o->enabled, err, errlen))
	    || (rc = aml_config_bool(cfg, "review.keep_flagged", &o->keep_flagged, err, errlen))
	    || (rc = aml_config_double(cfg, "review.sample_copy_frac", &o->sample_copy_frac,
				       err, errlen))
	    || (rc = aml_config_double(cfg, "review.train_gap", &o->train_gap, err, errlen)))
		return rc;
	{
		const char *llm = aml_config_get(cfg, "review.llm");

		if (llm == NULL || strcmp(llm, "off") == 0 || strcmp(llm, "false") == 0) {
			o->llm = AML_REVIEW_LLM_OFF;
		} else if (strcmp(llm, "flagged") == 0) {
			o->llm = AML_REVIEW_LLM_FLAGGED;
		} else if (strcmp(llm, "all") == 0) {
			o->llm = AML_REVIEW_LLM_ALL;
		} else {
			aml_seterr(err, errlen, "%s: review.llm must be off, flagged or all, got '%s'",
				   aml_config_source(cfg, "review.llm"), llm);
			return AML_EINVAL;
		}
		if (!o->enabled)
			o->llm = AML_REVIEW_LLM_OFF;
	}
	if (!(o->sample_copy_frac > 0 && o->sample_copy_frac <= 1) || !(o->train_gap >= 0)) {
		aml_seterr(err, errlen, "review.sample_copy_frac must be in (0, 1] and "
			   "review.train_gap >= 0");
		return AML_EINVAL;
	}
	return AML_OK;
}

static void
flag(aml_sb *b, const char *fmt, ...) AML_PRINTF(2, 3);

static void
flag(aml_sb *b, const char *fmt, ...)
{
	va_list ap;

	if (b->len)
		aml_sb_puts(b, "; ");
	va_start(ap, fmt);
	aml_sb_vprintf(b, fmt, ap);
	va_end(ap);
}

static void
score_rules(aml_sb *b, const char *metric, int higher, double score, const char *stdout_text,
	    double train_gap)
{
	double train;
	size_t i;

	for (i = 0; i < AML_ARRAY_LEN(ranges); i++) {
		if (strcmp(ranges[i].name, metric) != 0)
			continue;
		if (score < ranges[i].lo || score > ranges[i].hi)
			flag(b, "score_range: %s %g is outside what it can take%s", metric, score,
			     score < 0 && ranges[i].lo == 0 && !higher
			     ? " (a neg_* scorer printed as is?)" : "");
		else if (fabs(score - ranges[i].perfect) <= 1e-9)
			flag(b, "perfect_score: %s %g is the best possible, which a fair "
			     "validation almost never gives", metric, score);
		else if (ranges[i].chance_half && score < 0.5)
			flag(b, "score_range: %s %g is worse than chance (inverted "
			     "probabilities?)", metric, score);
		break;
	}
	if (stdout_text && aml_parse_tagged(stdout_text, AML_TRAIN_SCORE_TAG, &train) == 1) {
		double margin = train_gap * (fabs(train) > 1e-12 ? fabs(train) : 1e-12);

		if (higher ? score > train + margin : score < train - margin)
			flag(b, "train_mismatch: validation %s %g is clearly better than "
			     "training %g (validated on fitted data, or a leak?)", metric, score, train);
	}
}

/* Are two cells the same prediction ("1" == "1.0")? */
static int
same_cell(const char *a, const char *b)
{
	double x, y;

	if (strcmp(a, b) == 0)
		return 1;
	return aml_csv_number(a, &x) == 0 && aml_csv_number(b, &y) == 0 && x == y;
}

static void
submission_rules(aml_sb *b, const aml_review_opts *o, const aml_task_info *task,
		 const char *path)
{
	const aml_task *t = aml_task_view(task);
	const aml_csv_table *sample = aml_task_sample(task);
	aml_submission *sub = NULL;
	char reason[256];
	size_t r, c, rows, same_first = 0, same_sample = 0;
	int sample_constant = 1;

	if (aml_submission_load(task, path, &sub, reason, sizeof reason) != AML_OK)
		return;
	rows = aml_submission_rows(sub);
	if (rows < 2 || t->n_submission_columns == 0) {
		aml_submission_free(sub);
		return;
	}
	for (r = 0; r < rows; r++) {
		int eq_first = 1, eq_sample = sample != NULL;

		for (c = 0; c < t->n_submission_columns; c++) {
			const char *v = aml_submission_value(sub, c, r);
			long sc = sample ? aml_csv_column(sample, t->submission_columns[c]) : -1;

			eq_first &= same_cell(v, aml_submission_value(sub, c, 0));
			if (sc < 0 || r >= sample->nrows) {
				eq_sample = 0;
				continue;
			}
			eq_sample &= same_cell(v, sample->cols[sc][r]);
			if (r > 0 && !same_cell(sample->cols[sc][r], sample->cols[sc][0]))
				sample_constant = 0;
		}
		same_first += (size_t)eq_first;
		same_sample += (size_t)eq_sample;
	}
	if (same_first == rows)
		flag(b, "constant: all %zu rows of the submission predict the same", rows);
	else if (!sample_constant && (double)same_sample >= o->sample_copy_frac * (double)rows)
		flag(b, "sample_copy: %zu of %zu rows equal sample_submission.csv", same_sample, rows);
	aml_submission_free(sub);
}

int
aml_review_node(const aml_review_opts *o, const aml_task_info *task, double score,
		const char *stdout_text, const char *submission_path, char **flags)
{
	const aml_task *t = aml_task_view(task);
	aml_sb b = {0};

	*flags = NULL;
	if (o->enabled) {
		score_rules(&b, t->metric, t->higher_is_better, score, stdout_text, o->train_gap);
		if (submission_path)
			submission_rules(&b, o, task, submission_path);
	}
	if (b.oom) {
		aml_sb_free(&b);
		return AML_ENOMEM;
	}
	*flags = aml_sb_take(&b);
	return *flags ? AML_OK : AML_ENOMEM;
}

int
aml_review_wants_llm(const aml_review_opts *o, const char *flags)
{
	if (o->llm == AML_REVIEW_LLM_ALL)
		return 1;
	return o->llm == AML_REVIEW_LLM_FLAGGED && flags && flags[0];
}

int
aml_review_apply_verdict(const char *verdict, char **flags, char **note)
{
	aml_sb b = {0};

	*note = NULL;
	if (strncmp(verdict, "clear:", 6) == 0) {
		aml_sb_printf(&b, "cleared by the LLM review:%s%s%s", verdict + 6,
			      *flags && (*flags)[0] ? " (was: " : "",
			      *flags && (*flags)[0] ? *flags : "");
		if (*flags && (*flags)[0])
			aml_sb_puts(&b, ")");
		free(*flags);
		*flags = strdup("");
	} else if (strncmp(verdict, "suspicious:", 11) == 0) {
		aml_sb f = {0};
		const char *why = verdict + 11;

		while (*why == ' ')
			why++;
		aml_sb_printf(&b, "flagged by the LLM review: %s", why);
		aml_sb_printf(&f, "%s%sllm: %s", *flags ? *flags : "",
			      *flags && (*flags)[0] ? "; " : "", why);
		free(*flags);
		*flags = aml_sb_take(&f);
	} else {
		aml_sb_printf(&b, "the LLM review gave no verdict: %s", verdict);
	}
	*note = aml_sb_take(&b);
	return *note && *flags ? AML_OK : AML_ENOMEM;
}
