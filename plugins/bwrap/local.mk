# plugins/bwrap/ — the bwrap executor: each script runs in a bubblewrap
# sandbox (no network, only /usr, the workdir and the input visible) with
# resource limits.  A libtool module; reaches the core only through the
# aml_host table, so it does not link core/libamlcore.
pkglib_LTLIBRARIES += plugins/bwrap/bwrap.la
plugins_bwrap_bwrap_la_SOURCES = plugins/bwrap/bwrap.c \
	plugins/common/execkit.c plugins/common/execkit.h plugins/common/stopflag.h
plugins_bwrap_bwrap_la_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/plugins/common -DEK_NAME='"bwrap"'
plugins_bwrap_bwrap_la_LDFLAGS = $(AM_LDFLAGS) $(AML_MODULE_FLAGS)
PLUGIN_LIBDIRS += $(abs_top_builddir)/plugins/bwrap/.libs

bwrapmanifestdir = $(pkgdatadir)/plugins/bwrap
dist_bwrapmanifest_DATA = plugins/bwrap/manifest.yaml
