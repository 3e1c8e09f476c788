# Executor tests: the local executor plugin alone under the mock host,
# running the Python scripts of tests/scripts/ and hostile ones the tests
# write (fork bomb, memory hog, daemon...) with $(AML_PYTHON).
check_PROGRAMS += tests/check_executor
tests_check_executor_SOURCES = tests/check_executor.c
tests_check_executor_CFLAGS = $(TEST_CFLAGS)
tests_check_executor_LDADD = $(TEST_LIBS)
TESTS += tests/check_executor
EXTRA_DIST += \
	tests/scripts/ok.py \
	tests/scripts/crash.py \
	tests/scripts/hang.py \
	tests/scripts/flood.py \
	tests/scripts/selfkill.py \
	tests/scripts/env.py \
	tests/scripts/sleep_id.py

# The bwrap executor plugin alone under the mock host: hostile scripts
# (written by the tests) in the sandbox.
check_PROGRAMS += tests/check_bwrap
tests_check_bwrap_SOURCES = tests/check_bwrap.c
tests_check_bwrap_CFLAGS = $(TEST_CFLAGS)
tests_check_bwrap_LDADD = $(TEST_LIBS)
TESTS += tests/check_bwrap
