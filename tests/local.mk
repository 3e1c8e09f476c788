# tests/ — Check suites run by automake's parallel harness, TAP output.
aml_empty =
aml_space = $(aml_empty) $(aml_empty)
LOG_DRIVER = env AM_TAP_AWK='$(AWK)' $(SHELL) $(top_srcdir)/build-aux/tap-driver.sh
AM_TESTS_ENVIRONMENT = \
	CK_TAP_LOG_FILE_NAME=- ; \
	export CK_TAP_LOG_FILE_NAME ; \
	AUTOMLGEN_PLUGIN_PATH='$(abs_top_srcdir)/plugins:$(abs_top_srcdir)/operators:$(abs_top_srcdir)/kb-packs' ; \
	AUTOMLGEN_LIBRARY_PATH='$(subst $(aml_space),:,$(strip $(PLUGIN_LIBDIRS)))' ; \
	AML_PYTHON='$(AML_PYTHON)' ; \
	AML_SRCDIR='$(abs_top_srcdir)' ; AML_BUILDDIR='$(abs_top_builddir)' ; \
	export AUTOMLGEN_PLUGIN_PATH AUTOMLGEN_LIBRARY_PATH AML_PYTHON AML_SRCDIR AML_BUILDDIR ;

TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) -DSRCDIR=\"$(abs_top_srcdir)\" \
	-DBUILDDIR=\"$(abs_top_builddir)\"
TEST_LIBS = core/libamlcore.la tests/libamltest.la $(CHECK_LIBS)

# The example tasks the end-to-end tests run on, made from scikit-learn's
# bundled datasets by the same script users run.
check_DATA = examples/tasks/.stamp
examples/tasks/.stamp: $(top_srcdir)/scripts/make-example-tasks.py
	$(AM_V_GEN)$(AML_PYTHON) $(top_srcdir)/scripts/make-example-tasks.py examples/tasks \
		>/dev/null && touch $@
clean-local: clean-example-tasks
clean-example-tasks:
	-rm -rf examples/tasks
.PHONY: clean-example-tasks

# Shared test support: a mock host table for testing plugins alone, and a
# fake LLM server (tests/llm_server.py) for testing the HTTP providers.
check_LTLIBRARIES += tests/libamltest.la
tests_libamltest_la_SOURCES = tests/mock_host.c tests/mock_host.h \
	tests/llm_server.c tests/llm_server.h
tests_libamltest_la_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS)
tests_libamltest_la_LIBADD = core/libamlcore.la $(CURL_LIBS) $(JSONC_LIBS)
EXTRA_DIST += tests/llm_server.py

# The fake LLM server itself, through the helper and libcurl.
check_PROGRAMS += tests/check_llm_server
TESTS += tests/check_llm_server
tests_check_llm_server_SOURCES = tests/check_llm_server.c
tests_check_llm_server_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS)
tests_check_llm_server_LDADD = $(TEST_LIBS) $(CURL_LIBS) $(JSONC_LIBS)

include tests/task.mk
include tests/kb.mk
include tests/executor.mk
include tests/core.mk
include tests/bench.mk
include tests/provider.mk
include tests/report.mk
include tests/slurm.mk
include tests/resume.mk
