/*
 * cmd_run.c — `automlgen run TASK_DIR [--config FILE] [-o key=value]...
 * [-q|-v]`
 */
#include "config.h"

#include <stdio.h>

#include "cli.h"
#include "cli_args.h"
#include "interrupt.h"
#include "progress.h"
#include "run.h"
#include "util.h"

int
aml_cmd_run(int argc, char **argv)
{
	aml_cli_args a;
	aml_run_result res;
	char err[AML_ERRLEN] = "";
	int rc;

	if ((rc = aml_cli_parse(argc, argv, &a)) != 0) {
		aml_cli_free(&a);
		return rc;
	}
	if (a.n_pos != 1) {
		fprintf(stderr, "usage: automlgen run TASK_DIR [--config FILE] [-o key=value]... [-q|-v]\n");
		aml_cli_free(&a);
		return 2;
	}
	{
		/* a bad run.progress is bad input, refused before anything runs
		 * (aml_run itself would only warn and go on without progress) */
		aml_progress_mode mode;
		double every;

		if (aml_progress_config(a.cfg, &mode, &every, err, sizeof err) != AML_OK) {
			fprintf(stderr, "automlgen: %s\n", err);
			aml_cli_free(&a);
			return 2;
		}
	}
	if (aml_interrupt_install() != 0)
		fprintf(stderr, "automlgen: warning: Ctrl-C will not stop the run cleanly "
			"(cannot install a signal handler)\n");
	rc = aml_run(a.cfg, a.pos[0], &res, err, sizeof err);
	rc = aml_cmd_run_finish(rc, &res, err);
	aml_cli_free(&a);
	return rc;
}

int
aml_cmd_run_finish(int rc, aml_run_result *res_, const char *err)
{
	aml_run_result res = *res_;

	if (rc != AML_OK) {
		/* 2: it could not start (bad input); 1: it started and failed;
		 * 130: Ctrl-C before it started */
		int status = rc == AML_ECANCELED ? 130 : res.run_dir ? 1 : 2;

		fprintf(stderr, "automlgen: %s\n", err);
		if (res.run_dir)
			fprintf(stderr, "automlgen: what was done is in %s\n", res.run_dir);
		aml_run_result_free(res_);
		return status;
	}
	if (res.has_best) {
		printf("best validation score: %.6g (node %d; %zu of %zu nodes valid)\n",
		       res.best_score, res.best_node, res.valid, res.nodes);
		printf("run directory: %s\n", res.run_dir);
		printf("  submission:    %s/submission.csv\n", res.run_dir);
		printf("  best solution: %s/best_solution.py\n", res.run_dir);
		printf("  summary:       %s/summary.json\n", res.run_dir);
	} else {
		printf("no valid submission: none of %zu nodes was valid (see %s/summary.json)\n",
		       res.nodes, res.run_dir);
	}
	rc = res.has_best ? 0 : 1;
	if (res.interrupted) {
		printf("interrupted: %zu node(s) cut short; go on with: automlgen resume %s\n",
		       res.pending, res.run_dir);
		rc = 130;
	}
	aml_run_result_free(res_);
	return rc;
}
