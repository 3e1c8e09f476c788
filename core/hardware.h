/*
 * hardware.h — what each candidate script gets to run on (CPU threads,
 * GPUs), said in one line for the operators' prompts (aml_task.hardware),
 * so a model writes CPU code where no GPU exists instead of a script that
 * waits for one.
 */
#ifndef AML_HARDWARE_H
#define AML_HARDWARE_H

#include "conf.h"
#include "loader.h"

/* The line for the executor p under cfg (transferred; NULL when out of
 * memory).  It reads p's parameters "threads", "gpus" and
 * "gpus_per_candidate" where p has them (a Slurm executor's
 * "cpus_per_task" and "gres" otherwise), and counts GPUs for "auto" the
 * way the executors do (plugins/common/execkit.c, ek_gpus_new): the
 * agent's CUDA_VISIBLE_DEVICES, else /proc/driver/nvidia/gpus. */
char *aml_hardware_text(const aml_plugin *p, const aml_config *cfg);

/* Devices in a "gpus" value: "none", "" or "-1" -> 0; "auto" -> the
 * count above; a comma-separated list -> its length. */
size_t aml_hardware_gpus(const char *value);

#endif
