# Core tests: YAML, config, manifests, plugin loading, runs.
check_PROGRAMS += tests/check_yaml
tests_check_yaml_SOURCES = tests/check_yaml.c
tests_check_yaml_CFLAGS = $(TEST_CFLAGS)
tests_check_yaml_LDADD = $(TEST_LIBS)
TESTS += tests/check_yaml
