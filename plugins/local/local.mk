# plugins/local/ — the local executor: each script runs on this machine
# under a supervisor process of its own, with resource limits.  A libtool
# module; reaches the core only through the aml_host table, so it does not
# link core/libamlcore.
pkglib_LTLIBRARIES += plugins/local/local.la
plugins_local_local_la_SOURCES = plugins/local/local.c plugins/local/local.h \
	plugins/local/child.c \
	plugins/common/execkit.c plugins/common/execkit.h plugins/common/stopflag.h
plugins_local_local_la_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/plugins/common -DEK_NAME='"local"'
plugins_local_local_la_LDFLAGS = $(AM_LDFLAGS) $(AML_MODULE_FLAGS)
PLUGIN_LIBDIRS += $(abs_top_builddir)/plugins/local/.libs

localmanifestdir = $(pkgdatadir)/plugins/local
dist_localmanifest_DATA = plugins/local/manifest.yaml
