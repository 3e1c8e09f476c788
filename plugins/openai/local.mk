# openai — the OpenAI chat-completions provider (also llama.cpp, Ollama,
# vLLM, LM Studio).  The shared HTTP client is compiled in: plugins never
# link the core nor each other.
pkglib_LTLIBRARIES += plugins/openai/openai.la
plugins_openai_openai_la_SOURCES = plugins/openai/openai.c plugins/openai/oa_wire.c \
	plugins/openai/oa_wire.h plugins/common/httpc.c plugins/common/httpc.h \
	plugins/common/provkit.c plugins/common/provkit.h plugins/common/stopflag.h
plugins_openai_openai_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
plugins_openai_openai_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
plugins_openai_openai_la_LDFLAGS = $(AML_MODULE_FLAGS)
plugins_openai_openai_la_LIBADD = $(CURL_LIBS) $(JSONC_LIBS) -lm
PLUGIN_LIBDIRS += $(abs_top_builddir)/plugins/openai/.libs

openaidir = $(pkgdatadir)/plugins/openai
dist_openai_DATA = plugins/openai/manifest.yaml
