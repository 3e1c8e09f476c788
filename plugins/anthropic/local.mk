# anthropic — the Anthropic Messages API provider.  The shared HTTP client
# is compiled in: plugins never link the core nor each other.
pkglib_LTLIBRARIES += plugins/anthropic/anthropic.la
plugins_anthropic_anthropic_la_SOURCES = plugins/anthropic/anthropic.c plugins/anthropic/an_wire.c \
	plugins/anthropic/an_wire.h plugins/common/httpc.c plugins/common/httpc.h \
	plugins/common/provkit.c plugins/common/provkit.h plugins/common/stopflag.h
plugins_anthropic_anthropic_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
plugins_anthropic_anthropic_la_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
plugins_anthropic_anthropic_la_LDFLAGS = $(AML_MODULE_FLAGS)
plugins_anthropic_anthropic_la_LIBADD = $(CURL_LIBS) $(JSONC_LIBS) -lm
PLUGIN_LIBDIRS += $(abs_top_builddir)/plugins/anthropic/.libs

anthropicdir = $(pkgdatadir)/plugins/anthropic
dist_anthropic_DATA = plugins/anthropic/manifest.yaml
