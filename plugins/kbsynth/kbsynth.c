/*
 * kbsynth.c — the offline LLM provider: answers the operators' requests by
 * composing knowledge-pack templates instead of asking a model.
 *
 * It ignores the prose prompt and reads req->structured, the JSON object
 * every operator sends (opkit_structured: "operator", "mode", "flavor",
 * "seq", "seed", "node_id", "parent", "siblings", "refs"...), then answers
 * like an LLM would, "Plan: <one line>\n\n```python\n<script>```\n", with
 * the script's recipe on its first line (see ks.h):
 *
 *   draft    a new recipe: a model family no sibling used (ks_draft.c)
 *   debug    the buggy node's recipe made to work (ks_debug.c)
 *   improve  one change of the request's flavor (ks_improve.c)
 *   fuse     a blend of the nodes' model families (ks_fuse.c)
 *   recall   the branch's most helpful change again (ks_recall.c)
 *
 * Answers are deterministic for a given request: every choice is drawn
 * from a generator seeded by the request's seed, node id and seq.  A
 * request whose cancel flag is set (ABI 1.3: the run is stopping) gets
 * AML_ECANCELED, at once or as soon as the latency_s sleep sees it.
 * Plugins never link the core: everything comes through the aml_host
 * table.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ks.h"
#include "stopflag.h"

#define KS_DEFAULT_FOLDS 5
#define KS_DEFAULT_HOLDOUT_ROWS 200000
#define KS_DEFAULT_MAX_BLEND 3
#define KS_CANCEL_TICK_S 0.1 /* the latency sleep reads the cancel flag this often */

typedef int (*ks_answer_fn)(ks_req *r, ks_buf *out, char *err, size_t errlen);

static const struct {
	const char *name;
	ks_answer_fn fn;
} operators[] = {
	{"draft", ks_draft},
	{"debug", ks_debug},
	{"improve", ks_improve},
	{"fuse", ks_fuse},
	{"recall", ks_recall},
};

static int
param_long(ks_state *st, const char *key, long def, long lo, long hi, long *out,
	   char *err, size_t errlen)
{
	const char *s = st->host->param ? st->host->param(st->self, key) : NULL;
	char *end;
	long v;

	*out = def;
	if (s == NULL || *s == '\0')
		return AML_OK;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < lo || v > hi) {
		ks_seterr(err, errlen, "kbsynth: %s must be an integer in [%ld, %ld], got '%s'",
			  key, lo, hi, s);
		return AML_EINVAL;
	}
	*out = v;
	return AML_OK;
}

static int
param_double(ks_state *st, const char *key, double def, double lo, double hi,
	     double *out, char *err, size_t errlen)
{
	const char *s = st->host->param ? st->host->param(st->self, key) : NULL;
	char *end;
	double v;

	*out = def;
	if (s == NULL || *s == '\0')
		return AML_OK;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end != '\0' || !(v >= lo && v <= hi)) {
		ks_seterr(err, errlen, "kbsynth: %s must be a number in [%g, %g], got '%s'",
			  key, lo, hi, s);
		return AML_EINVAL;
	}
	*out = v;
	return AML_OK;
}

static int
answer(ks_state *st, ks_answer_fn fn, const char *op, json_object *j,
       const aml_llm_request *req, ks_buf *out, char *err, size_t errlen)
{
	ks_req r;
	ks_kb *kb;
	json_object *v;
	uint64_t mix;
	int rc;

	memset(&r, 0, sizeof r);
	r.st = st;
	r.j = j;
	r.task = st->host->task(st->self);
	if (r.task == NULL) {
		ks_seterr(err, errlen, "kbsynth: no task profile; %s answers need a run's task", op);
		return AML_EINVAL;
	}
	if (r.task->type == AML_TASK_UNKNOWN) {
		ks_seterr(err, errlen, "kbsynth: the task type is unknown, so no "
			  "pipeline fits; state it in the task's configuration");
		return AML_EUNSUPPORTED;
	}
	v = ks_obj_get(j, "seed");
	r.seed = v && json_object_is_type(v, json_type_int) ? json_object_get_uint64(v) : req->seed;
	v = ks_obj_get(j, "seq");
	r.seq = v ? (long)json_object_get_int64(v) : 0;
	v = ks_obj_get(j, "node_id");
	mix = (v ? (uint64_t)json_object_get_int64(v) : req->node_id) * 0x9e3779b97f4a7c15ULL
		^ ((uint64_t)r.seq << 32);
	ks_rng_seed(&r.rng, r.seed ^ mix, op);
	/* unknown (no files) is fine: it rules nothing out */
	(void)ks_profile_read(r.task, &r.profile);
	r.n_folds = st->n_folds;
	r.holdout_rows = st->holdout_rows;
	r.max_blend = st->max_blend;
	kb = calloc(1, sizeof *kb);
	if (kb == NULL) {
		ks_seterr(err, errlen, "kbsynth: out of memory");
		return AML_ENOMEM;
	}
	rc = ks_kb_load(st, r.task, kb, err, errlen);
	if (rc == AML_OK) {
		r.kb = kb;
		rc = fn(&r, out, err, errlen);
		ks_kb_free(kb);
	}
	free(kb);
	if (rc == AML_ENOMEM)
		ks_seterr(err, errlen, "kbsynth: out of memory answering %s", op);
	return rc;
}

static int
ks_complete(void *state, const aml_llm_request *req, aml_llm_response *resp,
	    char *err, size_t errlen)
{
	ks_state *st = state;
	enum json_tokener_error jerr = json_tokener_success;
	ks_buf out = {0};
	json_object *j;
	const char *op;
	size_t i;
	int rc;

	if (req == NULL || resp == NULL) {
		ks_seterr(err, errlen, "kbsynth: missing request or response");
		return AML_EINVAL;
	}
	memset(resp, 0, sizeof *resp);
	/* the run is stopping (Ctrl-C): answer nothing, at once */
	if (sf_sleep(st->latency_s, req->cancel, KS_CANCEL_TICK_S)) {
		ks_seterr(err, errlen, "kbsynth: " SF_CANCELLED);
		return AML_ECANCELED;
	}
	if (req->structured == NULL || req->structured[0] == '\0') {
		ks_seterr(err, errlen, "kbsynth: the request has no structured part; "
			  "kbsynth only answers operators that send one");
		return AML_EINVAL;
	}
	j = json_tokener_parse_verbose(req->structured, &jerr);
	if (j == NULL || !json_object_is_type(j, json_type_object)) {
		ks_seterr(err, errlen, "kbsynth: the structured request is not a JSON "
			  "object (%s)", j ? "wrong type" : json_tokener_error_desc(jerr));
		json_object_put(j);
		return AML_EFORMAT;
	}
	op = ks_obj_str(j, "operator");
	if (op == NULL) {
		ks_seterr(err, errlen, "kbsynth: the structured request has no "
			  "\"operator\" string");
		json_object_put(j);
		return AML_EFORMAT;
	}
	for (i = 0; i < sizeof operators / sizeof operators[0]; i++)
		if (strcmp(op, operators[i].name) == 0)
			break;
	if (i == sizeof operators / sizeof operators[0]) {
		ks_seterr(err, errlen, "kbsynth: operator '%.64s' is not supported; kbsynth "
			  "answers draft, debug, improve, fuse and recall", op);
		rc = AML_EUNSUPPORTED;
	} else {
		rc = answer(st, operators[i].fn, operators[i].name, j, req, &out, err, errlen);
	}
	if (rc == AML_OK) {
		resp->text = st->host->mem_strdup(ks_buf_str(&out));
		resp->model = st->host->mem_strdup("kbsynth");
		if (resp->text == NULL || resp->model == NULL || out.oom) {
			st->host->mem_free(resp->text);
			st->host->mem_free(resp->model);
			resp->text = resp->model = NULL;
			ks_seterr(err, errlen, "kbsynth: out of memory");
			rc = AML_ENOMEM;
		}
	}
	ks_buf_free(&out);
	json_object_put(j);
	return rc;
}

static int
ks_init(const aml_host *host, aml_plugin *self, void **state, char *err,
	size_t errlen)
{
	ks_state *st;
	int rc;

	if (host == NULL || host->abi_major != AML_ABI_MAJOR) {
		ks_seterr(err, errlen, "kbsynth: host ABI %u does not match %d",
			  host ? host->abi_major : 0, AML_ABI_MAJOR);
		return AML_EABI;
	}
	st = calloc(1, sizeof *st);
	if (st == NULL) {
		ks_seterr(err, errlen, "kbsynth: out of memory");
		return AML_ENOMEM;
	}
	st->host = host;
	st->self = self;
	rc = param_long(st, "n_folds", KS_DEFAULT_FOLDS, 2, 50, &st->n_folds, err, errlen);
	if (rc == AML_OK)
		rc = param_long(st, "holdout_rows", KS_DEFAULT_HOLDOUT_ROWS, 1, 1000000000L,
				&st->holdout_rows, err, errlen);
	if (rc == AML_OK)
		rc = param_long(st, "max_blend", KS_DEFAULT_MAX_BLEND, 2, KS_MAX_MODELS,
				&st->max_blend, err, errlen);
	if (rc == AML_OK)
		rc = param_double(st, "latency_s", 0, 0, 3600, &st->latency_s, err, errlen);
	if (rc != AML_OK) {
		free(st);
		return rc;
	}
	*state = st;
	return AML_OK;
}

static void
ks_fini(void *state)
{
	free(state);
}

static const aml_provider_ops ks_ops = {ks_complete};

AML_PLUGIN_DEFINE(AML_KIND_PROVIDER, "kbsynth", "1.0.0", ks_init, ks_fini, &ks_ops);
