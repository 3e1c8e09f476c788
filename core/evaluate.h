/*
 * evaluate.h — what a finished script run means for its node: the score
 * it printed, whether its submission is valid, and a trimmed record of
 * its output for the operators that read it (debug, improve).
 *
 * The workspace contract: the script prints a last line
 *   Final Validation Score: <number>
 * and writes ./submission/submission.csv.
 */
#ifndef AML_EVALUATE_H
#define AML_EVALUATE_H

#include "graph.h"
#include "review.h"
#include "task.h"

#define AML_SCORE_TAG "Final Validation Score:"

/* Find the last score line in text.  Returns 1 and sets *out when found
 * with a finite number, 0 when there is no such line, -1 when the line
 * holds no finite number. */
int aml_parse_score(const char *text, double *out);
/* The same for another tag ("Final Training Score:"). */
int aml_parse_tagged(const char *text, const char *tag, double *out);

/* Trim a script's output for prompts and the run record: head and tail
 * of stdout and the tail of stderr (with the traceback), at most about
 * max bytes.  Transferred; NULL on oom. */
char *aml_output_excerpt(const char *workdir, size_t max);

/* Set n's status, reason, score and output from the run result and the
 * files in workdir (stdout.txt, stderr.txt, submission/submission.csv);
 * a valid node is reviewed (review may be NULL: not) into n->flags. */
int aml_evaluate_node(aml_node *n, const aml_exec_result *res,
		      const char *workdir, const aml_task_info *task,
		      const aml_review_opts *review);

#endif
