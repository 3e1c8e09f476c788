# kb tests: the knowledge base (check_kb), the kbsynth provider
# (check_kbsynth, which runs the scripts it writes under $(AML_PYTHON)) and
# the operators that ask it (check_operators, with a canned provider, and
# the opkit helpers they link).
check_PROGRAMS += tests/check_kb tests/check_kbsynth tests/check_operators
TESTS += tests/check_kb tests/check_kbsynth tests/check_operators
tests_check_kb_SOURCES = tests/check_kb.c
tests_check_kb_CFLAGS = $(TEST_CFLAGS)
tests_check_kb_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
# check_kb's packs with their own retrievers (tests/data/kb/tpk-*): one
# source, one behaviour per build (never installed).
check_LTLIBRARIES += tests/tpk_reverse.la tests/tpk_garbage.la tests/tpk_fail.la \
	tests/tpk_twice.la
tests_tpk_reverse_la_SOURCES = tests/plugins/kb_retriever.c
tests_tpk_reverse_la_CPPFLAGS = $(AM_CPPFLAGS) -DTPK_NAME=\"tpk-reverse\" -DTPK_REVERSE
tests_tpk_reverse_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_tpk_garbage_la_SOURCES = tests/plugins/kb_retriever.c
tests_tpk_garbage_la_CPPFLAGS = $(AM_CPPFLAGS) -DTPK_NAME=\"tpk-garbage\" -DTPK_GARBAGE
tests_tpk_garbage_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_tpk_fail_la_SOURCES = tests/plugins/kb_retriever.c
tests_tpk_fail_la_CPPFLAGS = $(AM_CPPFLAGS) -DTPK_NAME=\"tpk-fail\" -DTPK_FAIL
tests_tpk_fail_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_tpk_twice_la_SOURCES = tests/plugins/kb_retriever.c
tests_tpk_twice_la_CPPFLAGS = $(AM_CPPFLAGS) -DTPK_NAME=\"tpk-twice\" -DTPK_TWICE
tests_tpk_twice_la_LDFLAGS = -module -avoid-version -shared -rpath /nowhere
tests_check_kbsynth_SOURCES = tests/check_kbsynth.c
tests_check_kbsynth_CFLAGS = $(TEST_CFLAGS)
tests_check_kbsynth_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
tests_check_operators_SOURCES = tests/check_operators.c
tests_check_operators_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/operators/common
tests_check_operators_CFLAGS = $(TEST_CFLAGS)
tests_check_operators_LDADD = operators/common/libopkit.la $(TEST_LIBS) $(JSONC_LIBS)

EXTRA_DIST += \
	tests/data/kb/bad_abi/manifest.yaml \
	tests/data/kb/bad_kind/manifest.yaml \
	tests/data/kb/bad_yaml/manifest.yaml \
	tests/data/kb/no_entries_dir/manifest.yaml \
	tests/data/kb/mixed/manifest.yaml \
	tests/data/kb/mixed/entries/README.txt \
	tests/data/kb/mixed/entries/a_good.yaml \
	tests/data/kb/mixed/entries/b_no_id.yaml \
	tests/data/kb/mixed/entries/c_bad_level.yaml \
	tests/data/kb/mixed/entries/d_bad_default.yaml \
	tests/data/kb/mixed/entries/e_bad_yaml.yaml \
	tests/data/kb/mixed/entries/f_dup.yaml \
	tests/data/kb/mixed/entries/g_bad_slot.yaml \
	tests/data/kb/mixed/entries/h_list.yaml \
	tests/data/kb/mixed/entries/i_bad_type.yaml \
	tests/data/kb/mixed/entries/j_missing_module.yaml \
	tests/data/kb/mixed/entries/k_needs_json.yaml \
	tests/data/kb/mixed/entries/l_bad_code_file.yaml

# Whole offline runs on the text, time-series and image example tasks
# (real Python: a few minutes).
check_PROGRAMS += tests/check_modalities
TESTS += tests/check_modalities
tests_check_modalities_SOURCES = tests/check_modalities.c
tests_check_modalities_CFLAGS = $(TEST_CFLAGS)
tests_check_modalities_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
