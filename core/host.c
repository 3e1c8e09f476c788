/*
 * host.c — see host.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "kb.h"
#include "log.h"
#include "util.h"

void
aml_context_init(aml_context *ctx, const aml_config *cfg)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->cfg = cfg;
}

static void
h_log(aml_plugin *self, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	aml_vlog(level, self ? self->manifest->name : "plugin", fmt, ap);
	va_end(ap);
}

const char *
aml_host_param(const aml_plugin *p, const aml_config *cfg, const char *key)
{
	const aml_param_spec *spec = aml_manifest_param(p->manifest, key);
	const char *section, *v = NULL;
	aml_sb plugin_key = {0}, slot_key = {0};

	if (spec == NULL)
		return NULL;
	if (cfg) {
		section = aml_kind_section(p->manifest->kind);
		aml_sb_printf(&plugin_key, "%s.%s.%s", section, p->manifest->name, key);
		aml_sb_printf(&slot_key, "%s.%s", p->slot, key);
		if (plugin_key.oom || slot_key.oom) {
			v = NULL;
		} else if (strcmp(p->slot, section) == 0) {
			/* "provider.openai.model" is more specific than "provider.model" */
			v = aml_config_get(cfg, plugin_key.s);
			if (v == NULL)
				v = aml_config_get(cfg, slot_key.s);
		} else {
			/* a slot of its own ("feedback.model") beats what the
			 * plugin's section says for every slot it fills */
			v = aml_config_get(cfg, slot_key.s);
			if (v == NULL)
				v = aml_config_get(cfg, plugin_key.s);
		}
		aml_sb_free(&plugin_key);
		aml_sb_free(&slot_key);
	}
	return v ? v : spec->dflt;
}

static const char *
h_param(aml_plugin *self, const char *key)
{
	return aml_host_param(self, self->ctx ? self->ctx->cfg : NULL, key);
}

/* Is key (under prefix) a parameter this plugin must declare? */
static int
check_one(const aml_plugin *p, const aml_config *cfg, const char *key,
	  const char *prefix, char *err, size_t errlen)
{
	size_t n = strlen(prefix);
	const char *rest;
	const aml_param_spec *spec;
	aml_sb names = {0};
	size_t i;

	if (strncmp(key, prefix, n) != 0 || key[n] != '.')
		return AML_OK;
	rest = key + n + 1;
	if (strchr(rest, '.'))
		return AML_OK; /* another plugin's ("provider.openai.model") */
	spec = aml_manifest_param(p->manifest, rest);
	if (spec == NULL) {
		for (i = 0; i < p->manifest->n_params; i++)
			aml_sb_printf(&names, "%s%s", i ? ", " : "", p->manifest->params[i].name);
		aml_seterr(err, errlen, "%s: '%s' is not a parameter of %s plugin '%s' (%s: %s)",
			   aml_config_source(cfg, key), key, aml_kind_name(p->manifest->kind),
			   p->manifest->name, names.len ? "it takes" : "it takes none",
			   names.len ? names.s : "see its manifest.yaml");
		aml_sb_free(&names);
		return AML_EINVAL;
	}
	if (aml_param_check(spec, aml_config_get(cfg, key)) != 0) {
		aml_seterr(err, errlen, "%s: '%s' must be a%s %s, got '%s'",
			   aml_config_source(cfg, key), key,
			   spec->type == AML_PARAM_INT ? "n" : "",
			   aml_param_type_name(spec->type), aml_config_get(cfg, key));
		return AML_EINVAL;
	}
	return AML_OK;
}

int
aml_host_check_params(const aml_plugin *p, const aml_config *cfg,
		      char *err, size_t errlen)
{
	aml_sb own = {0};
	const char *key;
	size_t i;
	int rc = AML_OK;

	aml_sb_printf(&own, "%s.%s", aml_kind_section(p->manifest->kind), p->manifest->name);
	if (own.oom)
		return AML_ENOMEM;
	for (i = 0; rc == AML_OK && (key = aml_config_key_at(cfg, i)) != NULL; i++) {
		rc = check_one(p, cfg, key, own.s, err, errlen);
		if (rc == AML_OK && strcmp(own.s, p->slot) != 0)
			rc = check_one(p, cfg, key, p->slot, err, errlen);
	}
	aml_sb_free(&own);
	return rc;
}

static const aml_task *
h_task(aml_plugin *self)
{
	return self->ctx ? self->ctx->task : NULL;
}

static int
h_llm(aml_plugin *self, const aml_llm_request *req, aml_llm_response *resp,
      char *err, size_t errlen)
{
	aml_context *ctx = self->ctx;

	if (ctx == NULL || ctx->llm == NULL) {
		memset(resp, 0, sizeof *resp);
		aml_seterr(err, errlen, "no LLM provider is configured for this run");
		return AML_EUNSUPPORTED;
	}
	return aml_llm_call(ctx->llm, req, resp, err, errlen);
}

static int
h_kb(aml_plugin *self, const aml_kb_query *q, const aml_kb_entry **out,
     size_t cap, size_t *n, char *err, size_t errlen)
{
	aml_context *ctx = self->ctx;

	*n = 0;
	if (ctx == NULL || ctx->kb == NULL)
		return AML_OK; /* knowledge base off: no entries */
	return aml_kb_search(ctx->kb, ctx->task, q, out, cap, n, err, errlen);
}

static const char *
h_dir(aml_plugin *self)
{
	return self->manifest->dir;
}

/* A retriever's own pack: the kb plugin's manifest is its pack's. */
static int
h_kb_pack(aml_plugin *self, const aml_kb_query *q, const aml_kb_entry **out,
	  size_t cap, size_t *n, char *err, size_t errlen)
{
	aml_context *ctx = self ? self->ctx : NULL;

	*n = 0;
	if (self == NULL || self->manifest->kind != AML_KIND_KB) {
		aml_seterr(err, errlen, "kb_pack_entries: only a knowledge pack's "
			   "retriever (a kb plugin) has a pack");
		return AML_EUNSUPPORTED;
	}
	if (ctx == NULL || ctx->kb == NULL)
		return AML_OK; /* knowledge base off: no entries */
	return aml_kb_pack_entries(ctx->kb, self->manifest->name, ctx->task, q, out,
				   cap, n, err, errlen);
}

static const aml_host host_table = {
	AML_ABI_MAJOR, AML_ABI_MINOR, h_log, h_param, h_task, h_llm, h_kb,
	malloc, free, strdup, h_dir, h_kb_pack,
};

const aml_host *
aml_host_table(void)
{
	return &host_table;
}
