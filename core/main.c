/*
 * main.c — the automlgen command line: parses the sub-command and hands
 * over to the cmd_*.c file that implements it.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "bench.h"
#include "cli.h"

static void
usage(FILE *f)
{
	fputs("usage: automlgen COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  run TASK_DIR [--config FILE] [-o key=value]... [-q|-v]\n"
	      "                      search for the best solution of a task; -q: no\n"
	      "                      progress, only warnings and errors on stderr\n"
	      "  resume RUN_DIR [--config FILE] [-o key=value]... [-q|-v]\n"
	      "                      go on with a run that crashed, was killed or\n"
	      "                      interrupted, or give a finished one more budget\n"
	      "  inspect TASK_DIR [--json]\n"
	      "                      show the task profile inferred, run nothing\n"
	      "  grade TASK_DIR SUBMISSION.csv [--json]\n"
	      "                      score a submission against private/answers.csv\n"
	      "  plugins [--config FILE] [-o key=value]...\n"
	      "                      list plugins found, without loading them\n"
	      "  config [--config FILE] [-o key=value]...\n"
	      "                      print the effective configuration\n"
	      "  kb list|show ID|search QUERY [--task DIR] [--level L] [-k N] [--all]\n"
	      "                      the knowledge base: entries, one entry, ranked search\n"
	      "  bench SUITE_DIR [--policies P,...] [--seeds N] [--out DIR] [-o key=value]...\n"
	      "                      run every task x policy x seed, grade, tabulate\n"
	      "  report RUN_DIR [-o FILE]\n"
	      "                      write one self-contained HTML page about a run\n"
	      "  runs [DIR]          list the run directories in DIR (default: run.dir)\n"
	      "  --help, --version\n"
	      "\n"
	      "Configuration: see 'automlgen config' and the README.\n", f);
}

int
main(int argc, char **argv)
{
	const char *cmd;

	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0
	    || strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("automlgen %s (plugin ABI %d.%d)\n", PACKAGE_VERSION,
		       AML_ABI_MAJOR, AML_ABI_MINOR);
		return 0;
	}
	if (strcmp(cmd, "run") == 0)
		return aml_cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "resume") == 0)
		return aml_cmd_resume(argc - 1, argv + 1);
	if (strcmp(cmd, "inspect") == 0)
		return aml_cmd_inspect(argc - 1, argv + 1);
	if (strcmp(cmd, "grade") == 0)
		return aml_cmd_grade(argc - 1, argv + 1);
	if (strcmp(cmd, "plugins") == 0)
		return aml_cmd_plugins(argc - 1, argv + 1);
	if (strcmp(cmd, "config") == 0)
		return aml_cmd_config(argc - 1, argv + 1);
	if (strcmp(cmd, "kb") == 0)
		return aml_cmd_kb(argc - 1, argv + 1);
	if (strcmp(cmd, "bench") == 0)
		return aml_cmd_bench(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return aml_cmd_report(argc - 1, argv + 1);
	if (strcmp(cmd, "runs") == 0)
		return aml_cmd_runs(argc - 1, argv + 1);
	fprintf(stderr, "automlgen: unknown command '%s' (try 'automlgen --help')\n", cmd);
	return 2;
}
