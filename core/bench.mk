# `automlgen bench`: suites of tasks x search policies x seeds, graded and
# tabulated (see bench.h).  The library part, and the sub-command (linked
# into the CLI, not the library).
core_libamlcore_la_SOURCES += core/bench.c core/bench.h
AML_CLI_FILES += core/cmd_bench.c
