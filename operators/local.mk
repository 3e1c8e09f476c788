# Operator plugins, each in its own folder with manifest.yaml and prompts/.
# opkit: helpers linked into every operator (operators never link the core).
noinst_LTLIBRARIES += operators/common/libopkit.la
operators_common_libopkit_la_SOURCES = operators/common/opkit.c operators/common/opkit.h \
	operators/common/opjson.c
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

# debug
pkglib_LTLIBRARIES += operators/debug/debug.la
operators_debug_debug_la_SOURCES = operators/debug/debug.c
operators_debug_debug_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/operators/common
operators_debug_debug_la_LDFLAGS = $(AML_MODULE_FLAGS)
operators_debug_debug_la_LIBADD = operators/common/libopkit.la $(JSONC_LIBS)
debugdir = $(pkgdatadir)/operators/debug
dist_debug_DATA = operators/debug/manifest.yaml
debugpromptsdir = $(pkgdatadir)/operators/debug/prompts
dist_debugprompts_DATA = operators/debug/prompts/system.txt operators/debug/prompts/debug.txt
PLUGIN_LIBDIRS += $(abs_top_builddir)/operators/debug/.libs

# improve
pkglib_LTLIBRARIES += operators/improve/improve.la
operators_improve_improve_la_SOURCES = operators/improve/improve.c
operators_improve_improve_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/operators/common
operators_improve_improve_la_LDFLAGS = $(AML_MODULE_FLAGS)
operators_improve_improve_la_LIBADD = operators/common/libopkit.la $(JSONC_LIBS)
improvedir = $(pkgdatadir)/operators/improve
dist_improve_DATA = operators/improve/manifest.yaml
improvepromptsdir = $(pkgdatadir)/operators/improve/prompts
dist_improveprompts_DATA = operators/improve/prompts/system.txt \
	operators/improve/prompts/improve.txt operators/improve/prompts/hyperparameters.txt \
	operators/improve/prompts/features.txt operators/improve/prompts/strategy.txt \
	operators/improve/prompts/reference.txt
PLUGIN_LIBDIRS += $(abs_top_builddir)/operators/improve/.libs

# fuse
pkglib_LTLIBRARIES += operators/fuse/fuse.la
operators_fuse_fuse_la_SOURCES = operators/fuse/fuse.c
operators_fuse_fuse_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/operators/common
operators_fuse_fuse_la_LDFLAGS = $(AML_MODULE_FLAGS)
operators_fuse_fuse_la_LIBADD = operators/common/libopkit.la $(JSONC_LIBS)
fusedir = $(pkgdatadir)/operators/fuse
dist_fuse_DATA = operators/fuse/manifest.yaml
fusepromptsdir = $(pkgdatadir)/operators/fuse/prompts
dist_fuseprompts_DATA = operators/fuse/prompts/system.txt operators/fuse/prompts/fuse.txt
PLUGIN_LIBDIRS += $(abs_top_builddir)/operators/fuse/.libs

# recall
pkglib_LTLIBRARIES += operators/recall/recall.la
operators_recall_recall_la_SOURCES = operators/recall/recall.c
operators_recall_recall_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/operators/common
operators_recall_recall_la_LDFLAGS = $(AML_MODULE_FLAGS)
operators_recall_recall_la_LIBADD = operators/common/libopkit.la $(JSONC_LIBS)
recalldir = $(pkgdatadir)/operators/recall
dist_recall_DATA = operators/recall/manifest.yaml
recallpromptsdir = $(pkgdatadir)/operators/recall/prompts
dist_recallprompts_DATA = operators/recall/prompts/system.txt operators/recall/prompts/recall.txt
PLUGIN_LIBDIRS += $(abs_top_builddir)/operators/recall/.libs

# review (the feedback role's verdict on a valid node; review.llm)
pkglib_LTLIBRARIES += operators/review/review.la
operators_review_review_la_SOURCES = operators/review/review.c
operators_review_review_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/operators/common
operators_review_review_la_LDFLAGS = $(AML_MODULE_FLAGS)
operators_review_review_la_LIBADD = operators/common/libopkit.la $(JSONC_LIBS)
reviewdir = $(pkgdatadir)/operators/review
dist_review_DATA = operators/review/manifest.yaml
reviewpromptsdir = $(pkgdatadir)/operators/review/prompts
dist_reviewprompts_DATA = operators/review/prompts/system.txt operators/review/prompts/review.txt
PLUGIN_LIBDIRS += $(abs_top_builddir)/operators/review/.libs
