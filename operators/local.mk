# Operator plugins, each in its own folder with manifest.yaml and prompts/.
# opkit: helpers linked into every operator (operators never link the core).
noinst_LTLIBRARIES += operators/common/libopkit.la
operators_common_libopkit_la_SOURCES = operators/common/opkit.c operators/common/opkit.h
operators_common_libopkit_la_CFLAGS = $(AM_CFLAGS) -fPIC
operators_common_libopkit_la_LIBADD = $(JSONC_LIBS)

# draft
pkglib_LTLIBRARIES += operators/draft/draft.la
operators_draft_draft_la_SOURCES = operators/draft/draft.c
operators_draft_draft_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/operators/common
operators_draft_draft_la_LDFLAGS = $(AML_MODULE_FLAGS)
operators_draft_draft_la_LIBADD = operators/common/libopkit.la $(JSONC_LIBS)
draftdir = $(pkgdatadir)/operators/draft
dist_draft_DATA = operators/draft/manifest.yaml
draftpromptsdir = $(pkgdatadir)/operators/draft/prompts
dist_draftprompts_DATA = operators/draft/prompts/system.txt operators/draft/prompts/draft.txt
PLUGIN_LIBDIRS += $(abs_top_builddir)/operators/draft/.libs
