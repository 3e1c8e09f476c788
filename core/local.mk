# core/ — the library every program and test links, and the CLI.
noinst_LTLIBRARIES += core/libamlcore.la
core_libamlcore_la_SOURCES = \
	core/util.c core/util.h \
	core/log.c core/log.h \
	core/yamltree.c core/yamltree.h
core_libamlcore_la_LIBADD = $(YAML_LIBS) $(JSONC_LIBS)

# Fragments owned by the parts of the core that grow on their own.
include core/task.mk
include core/kb.mk

# The CLI (enabled once its commands exist).
#bin_PROGRAMS += automlgen
#automlgen_SOURCES = core/main.c
#automlgen_LDADD = core/libamlcore.la
EXTRA_DIST += core/main.c
