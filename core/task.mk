# Task profile, data files, metrics, grading (see task.h).
core_libamlcore_la_SOURCES += \
	core/csv.c core/csv.h \
	core/metric.c core/metric.h \
	core/task.c core/task.h \
	core/submission.c core/submission.h \
	core/grade.c core/grade.h
# The inspect and grade sub-commands (linked into the CLI, not the library).
AML_CLI_FILES += core/cmd_inspect.c core/cmd_grade.c
