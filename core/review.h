/*
 * review.h — the rule-based review of a valid node: results that look too
 * good or too idle to be true are flagged, and a flagged node is not
 * chosen as the run's best unless review.keep_flagged is set.  An agent
 * that keeps the best validation score is exactly what a leaking or
 * degenerate script fools, so the rules look at what the script printed
 * and what it submitted:
 *
 *   perfect_score    the validation score is the metric's best possible
 *                    (accuracy 1, AUC 1, RMSE 0...): almost always a
 *                    validation that saw its own labels;
 *   score_range      a score the metric cannot take (accuracy 1.3, AUC
 *                    below 0.5 for what should beat chance, a negative
 *                    error: sklearn's neg_* scorers printed as is);
 *   constant         every row of the submission predicts the same;
 *   sample_copy      most of the submission equals sample_submission.csv
 *                    where the sample is not itself constant;
 *   train_mismatch   the script printed "Final Training Score:" and its
 *                    validation score is clearly better than its training
 *                    score (validation on data it was fitted on, or a
 *                    leak).
 *
 * Flags are short names with the evidence, "; "-separated.
 */
#ifndef AML_REVIEW_H
#define AML_REVIEW_H

#include <stddef.h>

#include "conf.h"
#include "task.h"

/* The tag of the optional training-score line scripts may print. */
#define AML_TRAIN_SCORE_TAG "Final Training Score:"

typedef struct aml_review_opts {
	int enabled;             /* review.enabled */
	int keep_flagged;        /* review.keep_flagged: flags do not bar best */
	double sample_copy_frac; /* review.sample_copy_frac */
	double train_gap;        /* review.train_gap: relative margin */
	int llm;                 /* review.llm: AML_REVIEW_LLM_* */
} aml_review_opts;

/* Which valid nodes the feedback role reviews (the review operator):
 * none, the flagged ones (a "clear" verdict lifts their flags), or all
 * (a "suspicious" verdict flags them). */
enum { AML_REVIEW_LLM_OFF, AML_REVIEW_LLM_FLAGGED, AML_REVIEW_LLM_ALL };

int aml_review_opts_load(aml_review_opts *o, const aml_config *cfg, char *err, size_t errlen);

/* Whether node flags ("" or NULL: none) go to the feedback role. */
int aml_review_wants_llm(const aml_review_opts *o, const char *flags);

/* Apply the review operator's verdict ("clear: why" or "suspicious: why")
 * to *flags (malloc()ed, replaced); *note gets what the node records
 * (malloc()ed).  An answer of another shape leaves the flags and says so
 * in the note.  AML_OK or AML_ENOMEM. */
int aml_review_apply_verdict(const char *verdict, char **flags, char **note);

/* Review a valid node: its score, its stdout text (may be NULL) and its
 * submission file.  *flags gets a malloc()ed "" or the flags; AML_OK or
 * AML_ENOMEM.  A submission that cannot be read again is not flagged
 * (it was checked valid a moment before). */
int aml_review_node(const aml_review_opts *o, const aml_task_info *task, double score,
		    const char *stdout_text, const char *submission_path, char **flags);

#endif
