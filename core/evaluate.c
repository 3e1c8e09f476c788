/*
 * evaluate.c — see evaluate.h.
 */
#include "config.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "evaluate.h"
#include "submission.h"
#include "util.h"

#define OUTPUT_READ_MAX (64u << 20)

int
aml_parse_score(const char *text, double *out)
{
	return aml_parse_tagged(text, AML_SCORE_TAG, out);
}

int
aml_parse_tagged(const char *text, const char *tag, double *out)
{
	const char *p, *last = NULL;
	char num[128];
	size_t n;
	double v;

	for (p = text; (p = strstr(p, tag)) != NULL; p++)
		last = p;
	if (last == NULL)
		return 0;
	last += strlen(tag);
	n = strcspn(last, "\r\n");
	if (n >= sizeof num)
		n = sizeof num - 1;
	memcpy(num, last, n);
	num[n] = '\0';
	if (aml_parse_double(num, &v) != 0 || !isfinite(v))
		return -1;
	*out = v;
	return 1;
}

static char *
read_stream(const char *workdir, const char *name)
{
	char *path = aml_path_join(workdir, name), *text = NULL;

	if (path && aml_read_file(path, OUTPUT_READ_MAX, &text, NULL, NULL, 0) != AML_OK)
		text = NULL;
	free(path);
	return text;
}

/* The last max bytes of s, starting at a line boundary when one is near. */
static const char *
tail_of(const char *s, size_t max)
{
	size_t len = strlen(s);
	const char *t, *nl;

	if (len <= max)
		return s;
	t = s + len - max;
	nl = strchr(t, '\n');
	return nl && (size_t)(nl - t) < max / 4 ? nl + 1 : t;
}

/* The excerpt of already-read streams (either may be NULL). */
static char *
excerpt_of(const char *out, const char *err, size_t max)
{
	aml_sb b = {0};
	size_t half = max / 2;

	if (out && out[0]) {
		size_t len = strlen(out);

		aml_sb_puts(&b, "--- stdout ---\n");
		if (len <= half) {
			aml_sb_puts(&b, out);
		} else {
			aml_sb_add(&b, out, half / 4);
			aml_sb_printf(&b, "\n[... %zu bytes ...]\n", len - half / 4 - (half * 3 / 4));
			aml_sb_puts(&b, tail_of(out, half * 3 / 4));
		}
		if (b.len && b.s[b.len - 1] != '\n')
			aml_sb_puts(&b, "\n");
	}
	if (err && err[0]) {
		aml_sb_puts(&b, "--- stderr ---\n");
		if (strlen(err) > half)
			aml_sb_puts(&b, "[...]\n");
		aml_sb_puts(&b, tail_of(err, half));
		if (b.len && b.s[b.len - 1] != '\n')
			aml_sb_puts(&b, "\n");
	}
	return aml_sb_take(&b);
}

char *
aml_output_excerpt(const char *workdir, size_t max)
{
	char *out = read_stream(workdir, "stdout.txt");
	char *err = read_stream(workdir, "stderr.txt");
	char *x = excerpt_of(out, err, max);

	free(out);
	free(err);
	return x;
}

static int
set_str(char **dst, const char *s)
{
	char *c = strdup(s);

	if (c == NULL)
		return AML_ENOMEM;
	free(*dst);
	*dst = c;
	return AML_OK;
}

/* The last non-empty line of stderr, for a one-line crash reason. */
static void
last_error_line(const char *err, char *buf, size_t len)
{
	size_t end, start;

	buf[0] = '\0';
	if (err == NULL)
		return;
	end = strlen(err);
	while (end > 0 && (err[end - 1] == '\n' || err[end - 1] == '\r' || err[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && err[start - 1] != '\n')
		start--;
	snprintf(buf, len, "%.*s", (int)(end - start), err + start);
}

int
aml_evaluate_node(aml_node *n, const aml_exec_result *res,
		  const char *workdir, const aml_task_info *task,
		  const aml_review_opts *review)
{
	char reason[1024] = "", line[512];
	char *out, *sub, *stdout_text, *stderr_text;
	double score = 0;
	int found, rc;

	n->outcome = res->outcome;
	n->exit_code = res->exit_code;
	n->truncated = res->truncated;
	n->exec_seconds = res->wall_s;
	/* each stream is read once, for the excerpt, the score, the reason
	 * and the review */
	stdout_text = read_stream(workdir, "stdout.txt");
	stderr_text = read_stream(workdir, "stderr.txt");
	out = excerpt_of(stdout_text, stderr_text, 6000);
	if (out) {
		free(n->output);
		n->output = out;
	}
	found = stdout_text ? aml_parse_score(stdout_text, &score) : 0;
	last_error_line(stderr_text, line, sizeof line);
	free(stderr_text);
	if (found == 1) {
		n->has_score = 1;
		n->score = score;
	}

	sub = NULL;
	if (res->outcome != AML_EXEC_OK) {
		n->status = AML_NODE_BUGGY;
		if (res->outcome == AML_EXEC_CRASHED && line[0])
			snprintf(reason, sizeof reason, "%s (exit status %d): %s",
				 aml_exec_outcome_name(res->outcome), res->exit_code, line);
		else
			snprintf(reason, sizeof reason, "%s: %s",
				 aml_exec_outcome_name(res->outcome),
				 res->detail ? res->detail : "no detail");
	} else if (found == 0) {
		n->status = AML_NODE_BUGGY;
		snprintf(reason, sizeof reason, "no '" AML_SCORE_TAG " <number>' line in the output");
	} else if (found < 0) {
		n->status = AML_NODE_BUGGY;
		snprintf(reason, sizeof reason, "the '" AML_SCORE_TAG "' line holds no finite number");
	} else if ((sub = aml_path_join(workdir, "submission/submission.csv")) == NULL) {
		free(stdout_text);
		return AML_ENOMEM;
	} else if (!aml_is_file(sub)) {
		n->status = AML_NODE_INVALID_SUB;
		snprintf(reason, sizeof reason, "no ./submission/submission.csv was written");
	} else {
		rc = aml_submission_check(task, sub, reason, sizeof reason);
		if (rc == AML_ENOMEM) {
			free(sub);
			free(stdout_text);
			return rc;
		}
		if (rc != AML_OK) {
			n->status = AML_NODE_INVALID_SUB;
			if (reason[0] == '\0')
				snprintf(reason, sizeof reason, "invalid submission");
		} else {
			n->status = AML_NODE_VALID;
			free(n->flags);
			n->flags = NULL;
			rc = review ? aml_review_node(review, task, score, stdout_text, sub, &n->flags)
				: AML_OK;
			if (rc != AML_OK) {
				free(sub);
				free(stdout_text);
				return rc;
			}
		}
	}
	free(sub);
	free(stdout_text);
	return set_str(&n->reason, reason);
}
