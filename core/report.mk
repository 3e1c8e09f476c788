# `automlgen report` and `automlgen runs` (see report.h): the page maker
# and its line diff in the library, the two sub-commands in the CLI.  The
# page's CSS and JavaScript are plain files here, compiled in like
# default.yaml.
core_libamlcore_la_SOURCES += core/diff.c core/diff.h core/report.c core/report.h
nodist_core_libamlcore_la_SOURCES += core/report_assets.c
AML_CLI_FILES += core/cmd_report.c core/cmd_runs.c

core/report_assets.c: $(top_srcdir)/core/report.css $(top_srcdir)/core/report.js \
		$(top_srcdir)/scripts/embed-text.sh
	$(AM_V_GEN)$(MKDIR_P) core && \
	{ $(SHELL) $(top_srcdir)/scripts/embed-text.sh aml_report_css \
		$(top_srcdir)/core/report.css && \
	  $(SHELL) $(top_srcdir)/scripts/embed-text.sh aml_report_js \
		$(top_srcdir)/core/report.js; } > $@.tmp && mv $@.tmp $@
BUILT_SOURCES += core/report_assets.c
CLEANFILES += core/report_assets.c
EXTRA_DIST += core/report.css core/report.js
