/*
 * ensemble.h — the run's final choice: the best valid node's submission,
 * or, with final.ensemble_k >= 2, one submission combined from the top k
 * valid nodes'.
 *
 * The members are the nodes that could be the graph's best (valid, a
 * finite score, not flagged by the review when flags bar the best: see
 * aml_graph_finish), the best node first, then by validation score; a node
 * whose code or submission bytes equal a better member's adds nothing and
 * is skipped.  Their submissions are combined row by row, rows aligned by
 * the id column in the sample submission's order (never by position,
 * unless the task has no id column), column by column:
 *
 *   value, proba, class_proba output   weighted mean of the numbers; for
 *                                      class_proba each row is then
 *                                      renormalised to sum 1;
 *   label output (integer-coded        weighted vote; a tie goes to the
 *   classes too), or any column        label of the best-ranked member
 *   holding a non-number               among those tied.
 *
 * The file keeps the sample's header and column order, the sample's id
 * cells, numbers written with 9 significant digits.  It is then checked
 * with aml_submission_check(), exactly as a node's submission is; an
 * ensemble that fails is discarded with the reason, and the run keeps the
 * best node's submission.
 *
 * Files in the run directory when the ensemble is used:
 *   submission.csv             the ensemble
 *   best_node_submission.csv   the best node's own submission
 *   ensemble.json              members (node, score, weight), skipped
 *                              nodes and why, each column's method
 * ensemble.json is also written when the ensemble was tried and not used
 * ("used": false and the reason); submission.csv is then the best node's.
 */
#ifndef AML_ENSEMBLE_H
#define AML_ENSEMBLE_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "graph.h"
#include "task.h"

/* How members are weighted (final.ensemble_weights). */
typedef enum aml_ensemble_weighting {
	AML_ENSEMBLE_RANK = 0,   /* "rank": k, k-1, ..., 1, normalised */
	AML_ENSEMBLE_EQUAL = 1,  /* "equal": 1/k each */
} aml_ensemble_weighting;

typedef struct aml_ensemble_opts {
	long k;                          /* final.ensemble_k; < 2: no ensemble */
	aml_ensemble_weighting weighting;
} aml_ensemble_opts;

/* How one prediction column was combined. */
typedef enum aml_ensemble_method {
	AML_ENSEMBLE_MEAN = 0,           /* weighted mean */
	AML_ENSEMBLE_MEAN_RENORM = 1,    /* weighted mean, row renormalised */
	AML_ENSEMBLE_VOTE = 2,           /* weighted vote */
} aml_ensemble_method;

/* One member submission for aml_ensemble_build(). */
typedef struct aml_ensemble_member {
	int32_t node;            /* node id (messages, ensemble.json); -1: none */
	double score;            /* its validation score (ensemble.json) */
	const char *path;        /* its submission CSV (borrowed) */
	double weight;           /* > 0; need not sum to 1 */
	/* set by aml_ensemble_build() */
	int used;                /* 1 when it took part */
	double share;            /* its normalised weight when used, else 0 */
	char reason[256];        /* why it was dropped; "" when used */
} aml_ensemble_member;

/* Read final.ensemble_k (a whole number >= 0) and final.ensemble_weights
 * (rank or equal) from cfg into *o.  Returns AML_OK, or AML_EINVAL /
 * AML_ENOTFOUND with one line in err naming the key, its value and where
 * it was set. */
int aml_ensemble_opts_load(aml_ensemble_opts *o, const aml_config *cfg,
			   char *err, size_t errlen);

/* "weighted_mean", "weighted_mean_renormalised", "weighted_vote" (static). */
const char *aml_ensemble_method_name(aml_ensemble_method m);
/* "rank" or "equal" (static). */
const char *aml_ensemble_weighting_name(aml_ensemble_weighting w);

/* Combine the submissions of members[0..n) — best-ranked first, which
 * breaks ties in votes — into one CSV at out_path for task t, and check it
 * against the sample.  Each member is loaded and aligned by id
 * (aml_submission_load); one that fails to load (a missing id, say) or
 * whose bytes equal an earlier used member's is dropped, with the reason
 * in its reason field.  The weights of the members left are normalised
 * into their share.  methods, when not NULL, receives the method of each
 * of the task's n_submission_columns prediction columns (caller-owned
 * array of that length).
 * Returns AML_OK when out_path holds the ensemble and it is valid.
 * Otherwise out_path does not exist and err has one line:
 * AML_EINVAL with fewer than 2 members left, AML_EFORMAT when the result
 * fails the submission check (the check's reason quoted), AML_EIO,
 * AML_ENOMEM. */
int aml_ensemble_build(const aml_task_info *t, aml_ensemble_member *members, size_t n,
		       const char *out_path, aml_ensemble_method *methods,
		       char *err, size_t errlen);

/* The final choice of a finished run: with o->k >= 2 and a best node in
 * g, ensemble the top o->k eligible distinct nodes (their submissions are
 * run_dir/nodes/NNNN/submission/submission.csv), writing the files listed
 * at the top of this header.  run_dir/submission.csv must already hold
 * the best node's submission; it is replaced only by a valid ensemble.
 * Returns AML_OK when the ensemble is used, with desc saying which nodes
 * and weights ("ensemble of the top 3 valid nodes (3, 7, 9; rank
 * weights), validated against the sample"); otherwise a negative status
 * with desc saying why it was not used (fewer than 2 eligible distinct
 * nodes, no member left, a failed check...), the best node's submission
 * untouched.  With o->k < 2 nothing is done (AML_EINVAL).
 * run_dir/submission.csv is either left as it was or replaced whole (a
 * rename) by the checked ensemble. */
int aml_ensemble_choose(const aml_task_info *t, const aml_graph *g, const char *run_dir,
			const aml_ensemble_opts *o, char *desc, size_t desclen);

#endif
