# plugins/synthetic/ — the synthetic executor: scores each candidate by a
# known function of its recipe line, runs no Python, injects failures on
# request (for testing and timing the search).  A libtool module that
# reaches the core only through the aml_host table; it parses the recipe
# with json-c.
pkglib_LTLIBRARIES += plugins/synthetic/synthetic.la
plugins_synthetic_synthetic_la_SOURCES = plugins/synthetic/synthetic.c plugins/common/stopflag.h
plugins_synthetic_synthetic_la_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/plugins/common
plugins_synthetic_synthetic_la_LDFLAGS = $(AM_LDFLAGS) $(AML_MODULE_FLAGS)
plugins_synthetic_synthetic_la_LIBADD = $(JSONC_LIBS)
PLUGIN_LIBDIRS += $(abs_top_builddir)/plugins/synthetic/.libs

syntheticmanifestdir = $(pkgdatadir)/plugins/synthetic
dist_syntheticmanifest_DATA = plugins/synthetic/manifest.yaml
