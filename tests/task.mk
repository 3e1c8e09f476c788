# Task tests: the CSV reader, metrics, task inference on the odd task
# folders in tests/data/tasks/, submission checks, and grading (with the
# inspect and grade sub-commands, linked in directly).
check_PROGRAMS += tests/check_csv tests/check_metric tests/check_task \
	tests/check_submission tests/check_grade
TESTS += tests/check_csv tests/check_metric tests/check_task \
	tests/check_submission tests/check_grade
tests_check_csv_SOURCES = tests/check_csv.c
tests_check_csv_CFLAGS = $(TEST_CFLAGS)
tests_check_csv_LDADD = $(TEST_LIBS)
tests_check_metric_SOURCES = tests/check_metric.c
tests_check_metric_CFLAGS = $(TEST_CFLAGS)
tests_check_metric_LDADD = $(TEST_LIBS)
tests_check_task_SOURCES = tests/check_task.c tests/check_taskutil.h
tests_check_task_CFLAGS = $(TEST_CFLAGS)
tests_check_task_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
tests_check_submission_SOURCES = tests/check_submission.c tests/check_taskutil.h
tests_check_submission_CFLAGS = $(TEST_CFLAGS)
tests_check_submission_LDADD = $(TEST_LIBS)
tests_check_grade_SOURCES = tests/check_grade.c tests/check_taskutil.h \
	core/cmd_grade.c core/cmd_inspect.c
tests_check_grade_CFLAGS = $(TEST_CFLAGS)
tests_check_grade_LDADD = $(TEST_LIBS) $(JSONC_LIBS)

EXTRA_DIST += tests/data/tasks
