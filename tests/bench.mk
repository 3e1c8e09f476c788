# Synthetic executor and bench tests: the synthetic executor alone under
# the mock host (check_synthetic), and `automlgen bench` on a small suite
# of example tasks run with it (check_bench, which runs
# scripts/make-thresholds.py with $(AML_PYTHON) too).
#
# check_bench links the sub-command and the CLI's option parser in
# directly, like check_grade (they are not in the library).
check_PROGRAMS += tests/check_synthetic tests/check_bench
TESTS += tests/check_synthetic tests/check_bench
tests_check_synthetic_SOURCES = tests/check_synthetic.c
tests_check_synthetic_CFLAGS = $(TEST_CFLAGS)
tests_check_synthetic_LDADD = $(TEST_LIBS)
tests_check_bench_SOURCES = tests/check_bench.c core/cmd_bench.c core/cli_args.c \
	core/cli_args.h
tests_check_bench_CFLAGS = $(TEST_CFLAGS)
tests_check_bench_LDADD = $(TEST_LIBS) $(JSONC_LIBS)

# The HTTP providers' overhead (build + parse, no network) and their
# throughput with parallel callers against the fake LLM server (built by
# `make bench` like bench_mcgs, never run by make check; see its header).
EXTRA_PROGRAMS += tests/bench/bench_provider
tests_bench_bench_provider_SOURCES = tests/bench/bench_provider.c plugins/openai/oa_wire.c \
	plugins/anthropic/an_wire.c plugins/common/httpc.c plugins/common/provkit.c
tests_bench_bench_provider_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/openai -I$(top_srcdir)/plugins/anthropic \
	-DSRCDIR=\"$(abs_top_srcdir)\" -DBUILDDIR=\"$(abs_top_builddir)\"
tests_bench_bench_provider_CFLAGS = $(AM_CFLAGS) $(CURL_CFLAGS)
tests_bench_bench_provider_LDADD = $(CURL_LIBS) $(JSONC_LIBS) -lm
