/*
 * llm.c — see llm.h.
 */
#include "config.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "llm.h"
#include "loader.h"
#include "log.h"
#include "util.h"

static const char *const role_names[AML_N_ROLES] = {"code", "feedback"};

int
aml_llm_init(aml_llm *l, const aml_config *cfg, char *err, size_t errlen)
{
	const char *path;
	int rc, i;

	memset(l, 0, sizeof *l);
	pthread_mutex_init(&l->lock, NULL);
	if ((rc = aml_config_double(cfg, "pricing.input_per_mtok", &l->price_in[0], err, errlen))
	    || (rc = aml_config_double(cfg, "pricing.output_per_mtok", &l->price_out[0], err, errlen))
	    || (rc = aml_config_double(cfg, "pricing.feedback.input_per_mtok", &l->price_in[1],
				       err, errlen))
	    || (rc = aml_config_double(cfg, "pricing.feedback.output_per_mtok", &l->price_out[1],
				       err, errlen)))
		return rc;
	if (l->price_in[0] < 0 || l->price_out[0] < 0) {
		aml_seterr(err, errlen, "pricing.input_per_mtok and pricing.output_per_mtok "
			   "must be >= 0");
		return AML_EINVAL;
	}
	for (i = 0; i < 2; i++) { /* feedback prices < 0: the code role's */
		double *p = i ? &l->price_out[1] : &l->price_in[1];

		if (*p < 0)
			*p = i ? l->price_out[0] : l->price_in[0];
	}
	path = aml_config_get(cfg, "llm.record");
	if (path && path[0]) {
		l->cassette = fopen(path, "ae");
		if (l->cassette == NULL) {
			aml_seterr(err, errlen, "llm.record: cannot open %s for appending: %s",
				   path, strerror(errno));
			return AML_EIO;
		}
		l->cassette_path = strdup(path);
		if (l->cassette_path == NULL) {
			fclose(l->cassette);
			l->cassette = NULL;
			return AML_ENOMEM;
		}
	}
	return AML_OK;
}

void
aml_llm_destroy(aml_llm *l)
{
	if (l->cassette && fclose(l->cassette) != 0)
		aml_warn("llm.record: writing %s failed: %s", l->cassette_path, strerror(errno));
	free(l->cassette_path);
	pthread_mutex_destroy(&l->lock);
	memset(l, 0, sizeof *l);
}

static json_object *
str_or_null(const char *s)
{
	return s ? json_object_new_string(s) : NULL;
}

/* Append one call to the cassette.  Called with the lock held. */
static void
record(aml_llm *l, int role, const aml_llm_request *req, const aml_llm_response *resp,
       int rc, const char *err)
{
	json_object *o = json_object_new_object(), *a;
	const char *line;

	json_object_object_add(o, "v", json_object_new_int(1));
	json_object_object_add(o, "role", json_object_new_string(role_names[role]));
	json_object_object_add(o, "system", str_or_null(req->system));
	json_object_object_add(o, "user", str_or_null(req->user));
	json_object_object_add(o, "structured", str_or_null(req->structured));
	json_object_object_add(o, "temperature", json_object_new_double(req->temperature));
	json_object_object_add(o, "max_tokens", json_object_new_int(req->max_tokens));
	json_object_object_add(o, "seed", json_object_new_int64((int64_t)req->seed));
	json_object_object_add(o, "node_id", json_object_new_int64(req->node_id));
	if (rc == AML_OK) {
		a = json_object_new_object();
		json_object_object_add(a, "text", str_or_null(resp->text));
		json_object_object_add(a, "model", str_or_null(resp->model));
		json_object_object_add(a, "tokens_in", json_object_new_int64((int64_t)resp->tokens_in));
		json_object_object_add(a, "tokens_out", json_object_new_int64((int64_t)resp->tokens_out));
		json_object_object_add(o, "answer", a);
	} else {
		json_object_object_add(o, "error", json_object_new_string(err));
		json_object_object_add(o, "rc", json_object_new_int(rc));
	}
	line = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
					      | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (fprintf(l->cassette, "%s\n", line) < 0 || fflush(l->cassette) != 0)
		aml_warn("llm.record: writing %s failed: %s", l->cassette_path, strerror(errno));
	json_object_put(o);
}

int
aml_llm_call(aml_llm *l, const aml_llm_request *req, aml_llm_response *resp,
	     char *err, size_t errlen)
{
	struct aml_plugin *p;
	aml_llm_role_stats *st;
	aml_llm_request r;
	uint64_t tin, tout;
	char own[AML_ERRLEN];
	int role, rc;

	if (err == NULL || errlen == 0) { /* a plugin that does not want the why */
		err = own;
		errlen = sizeof own;
	}
	memset(resp, 0, sizeof *resp);
	if (req->role == NULL || strcmp(req->role, "code") == 0) {
		role = AML_ROLE_CODE;
	} else if (strcmp(req->role, "feedback") == 0) {
		role = AML_ROLE_FEEDBACK;
	} else {
		aml_seterr(err, errlen, "unknown LLM role '%s' (known: code, feedback)", req->role);
		return AML_EINVAL;
	}
	p = l->provider[role] ? l->provider[role] : l->provider[AML_ROLE_CODE];
	if (p == NULL) {
		aml_seterr(err, errlen, "no LLM provider is configured for this run");
		return AML_EUNSUPPORTED;
	}
	if (l->cancel && __atomic_load_n(l->cancel, __ATOMIC_RELAXED)) {
		aml_seterr(err, errlen, "cancelled: the run is stopping");
		return AML_ECANCELED;
	}
	/* the fields every 1.x operator sets, then the core's own: an
	 * operator built for an older ABI passes a shorter struct */
	memset(&r, 0, sizeof r);
	r.role = req->role;
	r.system = req->system;
	r.user = req->user;
	r.structured = req->structured;
	r.temperature = req->temperature;
	r.max_tokens = req->max_tokens;
	r.node_id = req->node_id;
	r.seed = req->seed;
	r.cancel = l->cancel;
	req = &r;
	err[0] = '\0';
	rc = aml_plugin_provider(p)->complete(p->state, req, resp, err, errlen);
	if (rc == AML_OK && resp->text == NULL) {
		aml_seterr(err, errlen, "provider '%s' returned no text", p->manifest->name);
		free(resp->model);
		resp->model = NULL;
		rc = AML_EPROTO;
	}
	tin = resp->tokens_in; /* a failed call may still have been paid for */
	tout = resp->tokens_out;
	if (rc != AML_OK) {
		free(resp->text);
		free(resp->model);
		memset(resp, 0, sizeof *resp);
		if (err[0] == '\0')
			aml_seterr(err, errlen, "provider '%s' failed (status %d) without saying why",
				   p->manifest->name, rc);
		if (rc > 0)
			rc = AML_EPLUGIN;
	}
	pthread_mutex_lock(&l->lock);
	st = &l->stats[role];
	st->calls++;
	st->tokens_in += tin;
	st->tokens_out += tout;
	st->cost += ((double)tin * l->price_in[role] + (double)tout * l->price_out[role]) / 1e6;
	if (rc != AML_OK)
		st->failures++;
	if (l->cassette)
		record(l, role, req, resp, rc, err);
	pthread_mutex_unlock(&l->lock);
	return rc;
}

void
aml_llm_role(aml_llm *l, int role, aml_llm_role_stats *out)
{
	pthread_mutex_lock(&l->lock);
	*out = l->stats[role];
	pthread_mutex_unlock(&l->lock);
}

void
aml_llm_add_prior(aml_llm *l, int role, const aml_llm_role_stats *prior)
{
	aml_llm_role_stats *st;

	if (role < 0 || role >= AML_N_ROLES)
		return;
	pthread_mutex_lock(&l->lock);
	st = &l->stats[role];
	st->calls += prior->calls;
	st->failures += prior->failures;
	st->tokens_in += prior->tokens_in;
	st->tokens_out += prior->tokens_out;
	st->cost += prior->cost;
	pthread_mutex_unlock(&l->lock);
}

void
aml_llm_totals(aml_llm *l, aml_llm_role_stats *out)
{
	int i;

	memset(out, 0, sizeof *out);
	pthread_mutex_lock(&l->lock);
	for (i = 0; i < AML_N_ROLES; i++) {
		out->calls += l->stats[i].calls;
		out->failures += l->stats[i].failures;
		out->tokens_in += l->stats[i].tokens_in;
		out->tokens_out += l->stats[i].tokens_out;
		out->cost += l->stats[i].cost;
	}
	pthread_mutex_unlock(&l->lock);
}
