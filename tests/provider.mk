# Provider tests: the HTTP LLM providers (openai, anthropic) alone under the
# mock host, against the fake server tests/llm_server.py (libamltest's
# helper runs it with $(AML_PYTHON) on 127.0.0.1), plus their wire
# functions and the shared HTTP client compiled in for unit tests.
check_PROGRAMS += tests/check_providers
TESTS += tests/check_providers
tests_check_providers_SOURCES = tests/check_providers.c plugins/openai/oa_wire.c \
	plugins/anthropic/an_wire.c plugins/common/httpc.c plugins/common/provkit.c
tests_check_providers_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/plugins/common \
	-I$(top_srcdir)/plugins/openai -I$(top_srcdir)/plugins/anthropic
tests_check_providers_CFLAGS = $(TEST_CFLAGS) $(CURL_CFLAGS)
tests_check_providers_LDADD = $(TEST_LIBS) $(CURL_LIBS) $(JSONC_LIBS) -lm
