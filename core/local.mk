# core/ — the library every program and test links, and the CLI.
noinst_LTLIBRARIES += core/libamlcore.la
core_libamlcore_la_SOURCES = \
	core/util.c core/util.h \
	core/log.c core/log.h \
	core/yamltree.c core/yamltree.h \
	core/conf.c core/conf.h \
	core/manifest.c core/manifest.h \
	core/registry.c core/registry.h \
	core/loader.c core/loader.h \
	core/host.c core/host.h \
	core/llm.c core/llm.h \
	core/graph.c core/graph.h \
	core/rundir.c core/rundir.h \
	core/evaluate.c core/evaluate.h \
	core/review.c core/review.h \
	core/preview.c core/preview.h \
	core/hardware.c core/hardware.h \
	core/mcgs.c core/mcgs.h \
	core/sha256.c core/sha256.h \
	core/rescache.c core/rescache.h \
	core/journal.c core/journal.h \
	core/restore.c core/restore.h \
	core/interrupt.c core/interrupt.h \
	core/search.c core/search.h \
	core/ensemble.c core/ensemble.h \
	core/progress.c core/progress.h \
	core/run.c core/run.h
nodist_core_libamlcore_la_SOURCES = core/default_config.c
core_libamlcore_la_LIBADD = $(YAML_LIBS) $(JSONC_LIBS)

# The built-in defaults ship inside the binary (and as a file to read).
core/default_config.c: $(top_srcdir)/core/default.yaml $(top_srcdir)/scripts/embed-text.sh
	$(AM_V_GEN)$(MKDIR_P) core && \
	$(SHELL) $(top_srcdir)/scripts/embed-text.sh aml_default_config \
		$(top_srcdir)/core/default.yaml > $@.tmp && mv $@.tmp $@
BUILT_SOURCES = core/default_config.c
CLEANFILES += core/default_config.c
dist_pkgdata_DATA += core/default.yaml

# Fragments owned by the parts of the core that grow on their own.
AML_CLI_FILES =
include core/task.mk
include core/kb.mk
include core/bench.mk
include core/report.mk

# The CLI: one file per sub-command.
bin_PROGRAMS += automlgen
automlgen_SOURCES = core/main.c core/cli.h core/cli_args.c core/cli_args.h \
	core/cmd_run.c core/cmd_resume.c core/cmd_config.c core/cmd_plugins.c $(AML_CLI_FILES)
automlgen_LDADD = core/libamlcore.la
