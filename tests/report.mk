# Report tests: the line diff, escaping, `automlgen report` on a real
# synthetic run and on broken run directories, and `automlgen runs`
# (check_report, which links the two sub-commands and the CLI's option
# parser in directly, like check_bench); and the page rendered by a
# headless chromium (check_report_browser: fails without chromium, which
# scripts/install-deps.sh installs).
check_PROGRAMS += tests/check_report tests/check_report_browser
TESTS += tests/check_report tests/check_report_browser
tests_check_report_SOURCES = tests/check_report.c tests/check_reportutil.h \
	core/cmd_report.c core/cmd_runs.c core/cli_args.c core/cli_args.h
tests_check_report_CFLAGS = $(TEST_CFLAGS)
tests_check_report_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
tests_check_report_browser_SOURCES = tests/check_report_browser.c tests/check_reportutil.h
tests_check_report_browser_CFLAGS = $(TEST_CFLAGS)
tests_check_report_browser_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
