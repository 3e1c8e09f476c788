/*
 * cli_args.h — the options the sub-commands share: --config FILE,
 * -o key=value (repeatable), -q/--quiet, -v/--verbose, --json, and
 * positional arguments.  Builds the effective configuration.
 */
#ifndef AML_CLI_ARGS_H
#define AML_CLI_ARGS_H

#include "conf.h"

#define AML_CLI_MAX_POS 8

typedef struct aml_cli_args {
	aml_config *cfg;           /* owned: defaults + --config + -o */
	const char *pos[AML_CLI_MAX_POS];
	int n_pos;
	int json;
	int quiet;
	int verbose;
} aml_cli_args;

/* Parse argv (argv[0] is the sub-command).  Prints one error line and
 * returns non-zero on bad usage or configuration. */
int aml_cli_parse(int argc, char **argv, aml_cli_args *a);
void aml_cli_free(aml_cli_args *a);

#endif
