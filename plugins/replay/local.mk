# replay — the provider that answers from a recorded cassette.
pkglib_LTLIBRARIES += plugins/replay/replay.la
plugins_replay_replay_la_SOURCES = plugins/replay/replay.c plugins/common/stopflag.h
plugins_replay_replay_la_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common
plugins_replay_replay_la_LDFLAGS = $(AML_MODULE_FLAGS)
plugins_replay_replay_la_LIBADD = $(JSONC_LIBS) -lpthread
PLUGIN_LIBDIRS += $(abs_top_builddir)/plugins/replay/.libs

replaydir = $(pkgdatadir)/plugins/replay
dist_replay_DATA = plugins/replay/manifest.yaml
