/*
 * preview.h — the data preview every draft prompt carries: what a model
 * needs to write a script that runs the first time (column names and
 * types, missing values, a few rows, the target's distribution, sizes),
 * computed by the core from the task's public files in one streaming pass
 * over at most AML_PREVIEW_MAX_ROWS rows, and bounded in length.
 */
#ifndef AML_PREVIEW_H
#define AML_PREVIEW_H

#include <stddef.h>

#include "task.h"

#define AML_PREVIEW_MAX_ROWS 200000 /* rows of train read for the statistics */
#define AML_PREVIEW_MAX_COLS 60     /* columns described one by one */

/* The preview text of task t (transferred), or NULL with err set when the
 * training file cannot be read (AML_EIO, AML_EFORMAT, AML_ENOMEM in *rc). */
char *aml_preview_text(const aml_task_info *t, int *rc, char *err, size_t errlen);

#endif
