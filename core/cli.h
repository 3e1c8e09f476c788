/*
 * cli.h — the sub-commands of the automlgen program, one file each
 * (cmd_run.c, cmd_inspect.c, ...).  Each takes argv starting at the
 * sub-command's name and returns the process exit status: 0 success,
 * 1 the job failed, 2 bad usage or input.
 */
#ifndef AML_CLI_H
#define AML_CLI_H

#include <automlgen/plugin.h>

int aml_cmd_run(int argc, char **argv);
int aml_cmd_inspect(int argc, char **argv);
int aml_cmd_grade(int argc, char **argv);
int aml_cmd_plugins(int argc, char **argv);
int aml_cmd_config(int argc, char **argv);
int aml_cmd_kb(int argc, char **argv);
int aml_cmd_report(int argc, char **argv);
int aml_cmd_runs(int argc, char **argv);
int aml_cmd_resume(int argc, char **argv);

/* What run and resume print at the end, from aml_run's status rc, its
 * result (freed here) and error line; returns the exit status (130 when
 * the run was interrupted). */
struct aml_run_result;
int aml_cmd_run_finish(int rc, struct aml_run_result *res, const char *err);

#endif
