/*
 * cli_args.c — see cli_args.h.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "cli_args.h"
#include "log.h"
#include "util.h"

int
aml_cli_parse(int argc, char **argv, aml_cli_args *a)
{
	char err[AML_ERRLEN] = "";
	const char *cfgfile = NULL;
	const char *level;
	int i, rc;

	memset(a, 0, sizeof *a);
	/* --config first, so -o always wins over the file */
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 || strcmp(argv[i], "-c") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "automlgen %s: --config needs a file\n", argv[0]);
				return 2;
			}
			cfgfile = argv[++i];
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			cfgfile = argv[i] + 9;
		}
	}
	rc = aml_config_new(&a->cfg, err, sizeof err);
	if (rc == AML_OK && cfgfile)
		rc = aml_config_load_file(a->cfg, cfgfile, err, sizeof err);
	if (rc != AML_OK) {
		fprintf(stderr, "automlgen: %s\n", err);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--config") == 0 || strcmp(s, "-c") == 0) {
			i++;
		} else if (strncmp(s, "--config=", 9) == 0) {
			continue;
		} else if (strcmp(s, "-o") == 0 || strcmp(s, "--option") == 0) {
			if (i + 1 >= argc) {
				fprintf(stderr, "automlgen %s: -o needs key=value\n", argv[0]);
				return 2;
			}
			if (aml_config_set_arg(a->cfg, argv[++i], err, sizeof err) != AML_OK) {
				fprintf(stderr, "automlgen: %s\n", err);
				return 2;
			}
		} else if (strncmp(s, "-o", 2) == 0 && s[2]) {
			if (aml_config_set_arg(a->cfg, s + 2, err, sizeof err) != AML_OK) {
				fprintf(stderr, "automlgen: %s\n", err);
				return 2;
			}
		} else if (strcmp(s, "--json") == 0) {
			a->json = 1;
		} else if (strcmp(s, "-q") == 0 || strcmp(s, "--quiet") == 0) {
			a->quiet = 1;
		} else if (strcmp(s, "-v") == 0 || strcmp(s, "--verbose") == 0) {
			a->verbose = 1;
		} else if (s[0] == '-' && s[1] != '\0') {
			fprintf(stderr, "automlgen %s: unknown option '%s' (try 'automlgen --help')\n",
				argv[0], s);
			return 2;
		} else if (a->n_pos < AML_CLI_MAX_POS) {
			a->pos[a->n_pos++] = s;
		} else {
			fprintf(stderr, "automlgen %s: too many arguments\n", argv[0]);
			return 2;
		}
	}
	level = aml_config_get(a->cfg, "log.level");
	if (level && strcmp(level, "error") == 0)
		aml_log_set_level(AML_LOG_ERROR);
	else if (level && (strcmp(level, "warning") == 0 || strcmp(level, "warn") == 0))
		aml_log_set_level(AML_LOG_WARN);
	else if (level && strcmp(level, "debug") == 0)
		aml_log_set_level(AML_LOG_DEBUG);
	else if (level && strcmp(level, "info") != 0) {
		fprintf(stderr, "automlgen: log.level must be error, warning, info or debug, got '%s'\n",
			level);
		return 2;
	}
	if (a->quiet)
		aml_log_set_level(AML_LOG_WARN);
	if (a->verbose)
		aml_log_set_level(AML_LOG_DEBUG);
	return 0;
}

void
aml_cli_free(aml_cli_args *a)
{
	aml_config_free(a->cfg);
	a->cfg = NULL;
}
