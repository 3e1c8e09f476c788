# kbsynth — the offline provider that composes scripts from knowledge packs.
pkglib_LTLIBRARIES += plugins/kbsynth/kbsynth.la
plugins_kbsynth_kbsynth_la_SOURCES = plugins/kbsynth/kbsynth.c
plugins_kbsynth_kbsynth_la_LDFLAGS = $(AML_MODULE_FLAGS)
plugins_kbsynth_kbsynth_la_LIBADD = $(JSONC_LIBS)
PLUGIN_LIBDIRS += $(abs_top_builddir)/plugins/kbsynth/.libs

kbsynthdir = $(pkgdatadir)/plugins/kbsynth
dist_kbsynth_DATA = plugins/kbsynth/manifest.yaml
