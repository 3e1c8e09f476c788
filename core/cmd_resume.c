/*
 * cmd_resume.c — `automlgen resume RUN_DIR [--config FILE] [-o key=value]...`
 *
 * The configuration is the run's own (RUN_DIR/config.yaml) with --config
 * and -o over it, so `-o search.max_nodes=80` gives a finished run more
 * budget.  Secrets were never written to config.yaml: they come from
 * their *_env variables as before, or again from -o.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "interrupt.h"
#include "progress.h"
#include "run.h"
#include "util.h"

#define REDACTED "<redacted>"

/* defaults < RUN_DIR/config.yaml (secrets left at their defaults) <
 * --config < -o.  *out is transferred. */
static int
layered_config(const char *run_dir, const aml_config *cli, aml_config **out,
	       char *err, size_t errlen)
{
	aml_config *cfg = NULL, *dflt = NULL;
	char *path = aml_path_join(run_dir, "config.yaml");
	const char *key;
	size_t i;
	int rc;

	*out = NULL;
	if (path == NULL)
		return AML_ENOMEM;
	if (!aml_is_file(path)) {
		aml_seterr(err, errlen, "%s: no config.yaml: not a run directory", run_dir);
		free(path);
		return AML_ENOTFOUND;
	}
	rc = aml_config_new(&cfg, err, errlen);
	if (rc == AML_OK)
		rc = aml_config_new(&dflt, err, errlen);
	if (rc == AML_OK)
		rc = aml_config_load_file(cfg, path, err, errlen);
	for (i = 0; rc == AML_OK && (key = aml_config_key_at(cfg, i)) != NULL; i++) {
		const char *v = aml_config_get(cfg, key);

		if (v == NULL || strcmp(v, REDACTED) != 0)
			continue;
		v = aml_config_get(dflt, key);
		rc = aml_config_set(cfg, key, v ? v : "", "default", err, errlen);
		if (rc == AML_OK && aml_config_get(cli, key) && strcmp(aml_config_source(cli, key),
								       "default") == 0)
			fprintf(stderr, "automlgen: note: %s was not saved with the run (a secret); "
				"pass it again with -o if its *_env variable does not hold it\n", key);
	}
	for (i = 0; rc == AML_OK && (key = aml_config_key_at(cli, i)) != NULL; i++) {
		const char *src = aml_config_source(cli, key);

		if (src && strcmp(src, "default") != 0)
			rc = aml_config_set(cfg, key, aml_config_get(cli, key), src, err, errlen);
	}
	free(path);
	aml_config_free(dflt);
	if (rc != AML_OK) {
		aml_config_free(cfg);
		return rc;
	}
	*out = cfg;
	return AML_OK;
}

int
aml_cmd_resume(int argc, char **argv)
{
	aml_cli_args a;
	aml_config *cfg = NULL;
	aml_run_result res;
	aml_progress_mode mode;
	double every;
	char err[AML_ERRLEN] = "";
	int rc;

	if ((rc = aml_cli_parse(argc, argv, &a)) != 0) {
		aml_cli_free(&a);
		return rc;
	}
	if (a.n_pos != 1) {
		fprintf(stderr, "usage: automlgen resume RUN_DIR [--config FILE] [-o key=value]... "
			"[-q|-v]\n");
		aml_cli_free(&a);
		return 2;
	}
	if (layered_config(a.pos[0], a.cfg, &cfg, err, sizeof err) != AML_OK
	    || aml_progress_config(cfg, &mode, &every, err, sizeof err) != AML_OK) {
		fprintf(stderr, "automlgen: %s\n", err);
		aml_config_free(cfg);
		aml_cli_free(&a);
		return 2;
	}
	if (aml_interrupt_install() != 0)
		fprintf(stderr, "automlgen: warning: Ctrl-C will not stop the run cleanly "
			"(cannot install a signal handler)\n");
	rc = aml_resume(cfg, a.pos[0], &res, err, sizeof err);
	rc = aml_cmd_run_finish(rc, &res, err);
	aml_config_free(cfg);
	aml_cli_free(&a);
	return rc;
}
