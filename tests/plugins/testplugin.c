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

static int __attribute__((unused))
tp_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
#ifdef TP_INIT_FAILS
	snprintf(err, errlen, "the %s parameter is required", "answer");
	return AML_EINVAL;
#else
	const char *v = host->param(self, "answer");

	*state = (void *)(v ? v : "none");
	return AML_OK;
#endif
}

static int
tp_complete(void *state, const aml_llm_request *req, aml_llm_response *resp,
	    char *err, size_t errlen)
{
	resp->text = strdup((const char *)state);
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
