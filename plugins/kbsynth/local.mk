# kbsynth — the offline provider that composes scripts from knowledge packs.
pkglib_LTLIBRARIES += plugins/kbsynth/kbsynth.la
plugins_kbsynth_kbsynth_la_SOURCES = plugins/kbsynth/kbsynth.c plugins/kbsynth/ks.h \
	plugins/kbsynth/ks_util.c plugins/kbsynth/ks_recipe.c plugins/kbsynth/ks_change.c \
	plugins/kbsynth/ks_candidates.c plugins/kbsynth/ks_profile.c plugins/kbsynth/ks_render.c \
	plugins/kbsynth/ks_draft.c plugins/kbsynth/ks_debug.c plugins/kbsynth/ks_improve.c \
	plugins/kbsynth/ks_fuse.c plugins/kbsynth/ks_recall.c plugins/common/stopflag.h
plugins_kbsynth_kbsynth_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
plugins_kbsynth_kbsynth_la_LDFLAGS = $(AML_MODULE_FLAGS)
plugins_kbsynth_kbsynth_la_LIBADD = $(JSONC_LIBS) -lm
PLUGIN_LIBDIRS += $(abs_top_builddir)/plugins/kbsynth/.libs

kbsynthdir = $(pkgdatadir)/plugins/kbsynth
dist_kbsynth_DATA = plugins/kbsynth/manifest.yaml
