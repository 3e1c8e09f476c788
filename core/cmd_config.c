/*
 * cmd_config.c — `automlgen config [--config FILE] [-o key=value]...`:
 * the effective configuration, each key with where its value came from.
 */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "cli_args.h"

int
aml_cmd_config(int argc, char **argv)
{
	aml_cli_args a;
	int rc;

	if ((rc = aml_cli_parse(argc, argv, &a)) != 0) {
		aml_cli_free(&a);
		return rc;
	}
	if (a.n_pos != 0) {
		fprintf(stderr, "usage: automlgen config [--config FILE] [-o key=value]...\n");
		aml_cli_free(&a);
		return 2;
	}
	aml_config_dump(a.cfg, stdout, 1);
	aml_cli_free(&a);
	return 0;
}
