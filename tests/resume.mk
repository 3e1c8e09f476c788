# Resume and Ctrl-C: the program killed, interrupted and resumed.
check_PROGRAMS += tests/check_resume
TESTS += tests/check_resume
tests_check_resume_SOURCES = tests/check_resume.c
tests_check_resume_CFLAGS = $(TEST_CFLAGS)
tests_check_resume_LDADD = $(TEST_LIBS) $(JSONC_LIBS)
