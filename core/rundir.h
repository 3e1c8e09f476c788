/*
 * rundir.h — the run directory, where everything a run makes is kept:
 *
 *   <run.dir>/<task>-<UTC timestamp>/
 *     config.yaml          effective configuration, with sources
 *     run.log              the log
 *     input/               read-only copy of the task's public files
 *     nodes/<id>/          one folder per candidate:
 *        solution.py  plan.txt  node.json  stdout.txt  stderr.txt
 *        input -> ../../input   working/   submission/submission.csv
 *     best_solution.py     the best valid node's script
 *     submission.csv       the best valid node's submission, or the
 *                          ensemble (ensemble.h)
 *     summary.json         the run's result
 *     journal.jsonl        every node event (journal.h; resume replays it)
 */
#ifndef AML_RUNDIR_H
#define AML_RUNDIR_H

#include <stdint.h>
#include "conf.h"
#include "graph.h"

typedef struct aml_rundir {
	char *path;   /* absolute */
	char *input;  /* path/input */
} aml_rundir;

/* Create a fresh run directory from run.dir and run.name (or
 * <task_name>-<timestamp>, made unique). */
int aml_rundir_create(const aml_config *cfg, const char *task_name,
		      aml_rundir *rd, char *err, size_t errlen);
/* Open the existing run directory at path (resume). */
int aml_rundir_open(const char *path, aml_rundir *rd, char *err, size_t errlen);
void aml_rundir_destroy(aml_rundir *rd);

/* Copy the task's public files into input/ and make them read-only.
 * Entries that resolve (through symbolic links) into forbidden — the
 * task's private folder, may be NULL — are skipped with a warning, so
 * the private answers never reach a candidate. */
int aml_rundir_stage_input(aml_rundir *rd, const char *public_dir,
			   const char *forbidden, char *err, size_t errlen);

/* Create nodes/<id>/ with its workspace; *dir is transferred. */
int aml_rundir_node_dir(const aml_rundir *rd, uint32_t id, char **dir,
			char *err, size_t errlen);

/* Write node.json (and plan.txt) for n into its folder. */
int aml_rundir_write_node(const aml_rundir *rd, const aml_node *n,
			  char *err, size_t errlen);

/* Write a file at path relative to the run directory. */
int aml_rundir_write(const aml_rundir *rd, const char *rel, const char *data,
		     size_t len, char *err, size_t errlen);

#endif
