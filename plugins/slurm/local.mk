# plugins/slurm/ — the slurm executor: each candidate script runs as a
# Slurm batch job from the node's workdir (on a filesystem the compute
# nodes share), watched by one poller thread.  A libtool module; reaches
# the core only through the aml_host table, so it does not link
# core/libamlcore.
pkglib_LTLIBRARIES += plugins/slurm/slurm.la
plugins_slurm_slurm_la_SOURCES = plugins/slurm/slurm.c plugins/slurm/slurm.h \
	plugins/slurm/cmd.c plugins/slurm/batch.c plugins/slurm/poll.c \
	plugins/slurm/result.c plugins/slurm/guard.c \
	plugins/common/execkit.c plugins/common/execkit.h plugins/common/stopflag.h
plugins_slurm_slurm_la_CFLAGS = $(AM_CFLAGS) -I$(top_srcdir)/plugins/common -DEK_NAME='"slurm"'
plugins_slurm_slurm_la_LDFLAGS = $(AM_LDFLAGS) $(AML_MODULE_FLAGS)
PLUGIN_LIBDIRS += $(abs_top_builddir)/plugins/slurm/.libs

slurmmanifestdir = $(pkgdatadir)/plugins/slurm
dist_slurmmanifest_DATA = plugins/slurm/manifest.yaml
