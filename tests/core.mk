# Core tests: YAML, config, manifests, plugin loading, runs.
check_PROGRAMS += tests/check_yaml tests/check_conf tests/check_manifest tests/check_loader \
	tests/check_run tests/check_cli tests/check_mcgs tests/check_search tests/check_rescache tests/check_journal \
	tests/check_progress
TESTS += tests/check_yaml tests/check_conf tests/check_manifest tests/check_loader \
	tests/check_run tests/check_cli tests/check_mcgs tests/check_search tests/check_rescache tests/check_journal \
	tests/check_progress
tests_check_yaml_SOURCES = tests/check_yaml.c
tests_check_yaml_CFLAGS = $(TEST_CFLAGS)
tests_check_yaml_LDADD = $(TEST_LIBS)
tests_check_conf_SOURCES = tests/check_conf.c
tests_check_conf_CFLAGS = $(TEST_CFLAGS)
tests_check_conf_LDADD = $(TEST_LIBS)
tests_check_manifest_SOURCES = tests/check_manifest.c
tests_check_manifest_CFLAGS = $(TEST_CFLAGS)
tests_check_manifest_LDADD = $(TEST_LIBS)
tests_check_loader_SOURCES = tests/check_loader.c
tests_check_loader_CFLAGS = $(TEST_CFLAGS)
tests_check_loader_LDADD = $(TEST_LIBS)
tests_check_run_SOURCES = tests/check_run.c
tests_check_run_CFLAGS = $(TEST_CFLAGS)
tests_check_run_LDADD = $(TEST_LIBS)
tests_check_cli_SOURCES = tests/check_cli.c
tests_check_cli_CFLAGS = $(TEST_CFLAGS)
tests_check_cli_LDADD = $(TEST_LIBS)
tests_check_mcgs_SOURCES = tests/check_mcgs.c
tests_check_mcgs_CFLAGS = $(TEST_CFLAGS)
tests_check_mcgs_LDADD = $(TEST_LIBS)
tests_check_rescache_SOURCES = tests/check_rescache.c
tests_check_rescache_CFLAGS = $(TEST_CFLAGS)
tests_check_rescache_LDADD = $(TEST_LIBS)
tests_check_journal_SOURCES = tests/check_journal.c
tests_check_journal_CFLAGS = $(TEST_CFLAGS)
tests_check_journal_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
tests_check_search_SOURCES = tests/check_search.c
tests_check_search_CFLAGS = $(TEST_CFLAGS)
tests_check_search_LDADD = $(TEST_LIBS)
tests_check_progress_SOURCES = tests/check_progress.c
tests_check_progress_CFLAGS = $(TEST_CFLAGS)
tests_check_progress_LDADD = $(TEST_LIBS)

# Deliberately broken plugins, one per loader refusal (never installed).
check_LTLIBRARIES += tests/tp_good.la
tests_tp_good_la_SOURCES = tests/plugins/testplugin.c
tests_tp_good_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_NAME=\"tp-good\"
tests_tp_good_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += tests/tp_nosym.la
tests_tp_nosym_la_SOURCES = tests/plugins/testplugin.c
tests_tp_nosym_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_NAME=\"tp-nosym\" -DTP_NO_SYMBOL
tests_tp_nosym_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += tests/tp_abi_major.la
tests_tp_abi_major_la_SOURCES = tests/plugins/testplugin.c
tests_tp_abi_major_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_NAME=\"tp-abi-major\" -DTP_ABI_MAJOR=2
tests_tp_abi_major_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += tests/tp_abi_minor.la
tests_tp_abi_minor_la_SOURCES = tests/plugins/testplugin.c
tests_tp_abi_minor_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_NAME=\"tp-abi-minor\" -DTP_ABI_MINOR=99
tests_tp_abi_minor_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += tests/tp_kind.la
tests_tp_kind_la_SOURCES = tests/plugins/testplugin.c
tests_tp_kind_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_NAME=\"tp-kind\" -DTP_KIND=AML_KIND_EXECUTOR
tests_tp_kind_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += tests/tp_name.la
tests_tp_name_la_SOURCES = tests/plugins/testplugin.c
tests_tp_name_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_NAME=\"tp-other\"
tests_tp_name_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += tests/tp_version.la
tests_tp_version_la_SOURCES = tests/plugins/testplugin.c
tests_tp_version_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_NAME=\"tp-version\" -DTP_VERSION=\"9.9.9\"
tests_tp_version_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += tests/tp_noops.la
tests_tp_noops_la_SOURCES = tests/plugins/testplugin.c
tests_tp_noops_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_NAME=\"tp-noops\" -DTP_NO_OPS
tests_tp_noops_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
check_LTLIBRARIES += tests/tp_initfail.la
tests_tp_initfail_la_SOURCES = tests/plugins/testplugin.c
tests_tp_initfail_la_CPPFLAGS = $(AM_CPPFLAGS) -DTP_NAME=\"tp-initfail\" -DTP_INIT_FAILS
tests_tp_initfail_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
EXTRA_DIST += tests/data

# Benchmark programs (built by `make bench`, never run by make check).
EXTRA_PROGRAMS = tests/bench/bench_mcgs
tests_bench_bench_mcgs_SOURCES = tests/bench/bench_mcgs.c
tests_bench_bench_mcgs_CFLAGS = $(AM_CFLAGS)
tests_bench_bench_mcgs_LDADD = core/libamlcore.la
CLEANFILES += $(EXTRA_PROGRAMS)
bench: $(EXTRA_PROGRAMS)
.PHONY: bench

# The LLM door of the core and the replay provider.
check_PROGRAMS += tests/check_llm
TESTS += tests/check_llm
tests_check_llm_SOURCES = tests/check_llm.c
tests_check_llm_CFLAGS = $(TEST_CFLAGS)
tests_check_llm_LDADD = $(TEST_LIBS)

# Whole runs through the HTTP providers and the fake LLM server.
check_PROGRAMS += tests/check_llm_e2e
TESTS += tests/check_llm_e2e
tests_check_llm_e2e_SOURCES = tests/check_llm_e2e.c
tests_check_llm_e2e_CFLAGS = $(TEST_CFLAGS)
tests_check_llm_e2e_LDADD = $(TEST_LIBS) $(JSONC_LIBS)

# The rule-based review of valid nodes.
check_PROGRAMS += tests/check_review
TESTS += tests/check_review
tests_check_review_SOURCES = tests/check_review.c tests/check_taskutil.h
tests_check_review_CFLAGS = $(TEST_CFLAGS)
tests_check_review_LDADD = $(TEST_LIBS) $(JSONC_LIBS)

# The run's final choice: the best node, or an ensemble of the top k.
check_PROGRAMS += tests/check_ensemble
TESTS += tests/check_ensemble
tests_check_ensemble_SOURCES = tests/check_ensemble.c tests/check_taskutil.h
tests_check_ensemble_CFLAGS = $(TEST_CFLAGS)
tests_check_ensemble_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
