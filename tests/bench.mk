# Synthetic executor and bench tests: the synthetic executor alone under
# the mock host (check_synthetic), and `automlgen bench` on a small suite
# of example tasks run with it (check_bench, which links the sub-command
# in directly and runs scripts/make-thresholds.py with $(AML_PYTHON)).
check_PROGRAMS += tests/check_synthetic tests/check_bench
TESTS += tests/check_synthetic tests/check_bench
tests_check_synthetic_SOURCES = tests/check_synthetic.c
tests_check_synthetic_CFLAGS = $(TEST_CFLAGS)
tests_check_synthetic_LDADD = $(TEST_LIBS)
tests_check_bench_SOURCES = tests/check_bench.c core/cmd_bench.c
tests_check_bench_CFLAGS = $(TEST_CFLAGS)
tests_check_bench_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
