/*
 * testplugin.c — one source, built several times with different -D flags
 * into deliberately broken (and one good) plugins, so that every loader
 * refusal has a test.
 *
 *   TP_NAME, TP_VERSION, TP_KIND        descriptor fields
 *   TP_ABI_MAJOR, TP_ABI_MINOR          ABI the descriptor claims
 *   TP_NO_SYMBOL                        export no descriptor at all
 *   TP_NO_OPS                           descriptor without a function table
 *   TP_INIT_FAILS                       init() refuses
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <automlgen/plugin.h>

#ifndef TP_ABI_MAJOR
#define TP_ABI_MAJOR AML_ABI_MAJOR
#endif
#ifndef TP_ABI_MINOR
#define TP_ABI_MINOR AML_ABI_MINOR
#endif
#ifndef TP_KIND
#define TP_KIND AML_KIND_PROVIDER
#endif
#ifndef TP_VERSION
#define TP_VERSION "1.0.0"
#endif

/* What complete() answers, and the token counts it reports. */
struct tp_state {
	const char *answer;
	unsigned long tokens;
};

static struct tp_state tp_the_state;

static int __attribute__((unused))
tp_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
#ifdef TP_INIT_FAILS
	snprintf(err, errlen, "the %s parameter is required", "answer");
	return AML_EINVAL;
#else
	const char *v = host->param(self, "answer");
	const char *t = host->param(self, "tokens");

	tp_the_state.answer = v ? v : "none";
	tp_the_state.tokens = t ? strtoul(t, NULL, 10) : 0;
	*state = &tp_the_state;
	return AML_OK;
#endif
}

static int
tp_complete(void *state, const aml_llm_request *req, aml_llm_response *resp,
	    char *err, size_t errlen)
{
	const struct tp_state *st = state;

	resp->text = strdup(st->answer);
	resp->tokens_in = st->tokens;
	resp->tokens_out = st->tokens / 2;
	return resp->text ? AML_OK : AML_ENOMEM;
}

static const aml_provider_ops tp_ops __attribute__((unused)) = {tp_complete};

#ifndef TP_NO_SYMBOL
__attribute__((visibility("default"))) const aml_plugin_desc aml_plugin_descriptor = {
	TP_ABI_MAJOR, TP_ABI_MINOR, TP_KIND, 0, TP_NAME, TP_VERSION,
	tp_init, NULL,
#ifdef TP_NO_OPS
	NULL,
#else
	&tp_ops,
#endif
	{0}};
#else
/* something is exported, just not the descriptor */
__attribute__((visibility("default"))) int aml_plugin_v0 = 1;
#endif
