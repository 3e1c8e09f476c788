/*
 * hardware.c — see hardware.h.
 */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "hardware.h"
#include "host.h"
#include "util.h"

static size_t
list_len(const char *s)
{
	size_t n = 0;

	while (*s) {
		size_t len;

		s += strspn(s, " ,");
		len = strcspn(s, ",");
		if (len)
			n++;
		s += len;
	}
	return n;
}

size_t
aml_hardware_gpus(const char *value)
{
	const char *env;
	DIR *d;
	struct dirent *de;
	size_t n = 0;

	if (value == NULL || value[0] == '\0' || strcmp(value, "none") == 0
	    || strcmp(value, "-1") == 0)
		return 0;
	if (strcmp(value, "auto") != 0)
		return list_len(value);
	env = getenv("CUDA_VISIBLE_DEVICES");
	if (env != NULL)
		return strcmp(env, "-1") == 0 ? 0 : list_len(env);
	d = opendir("/proc/driver/nvidia/gpus");
	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

/* The GPUs of a Slurm gres request ("gpu:2", "gpu:a100:2", "gpu"), 0
 * for anything else. */
static long
gres_gpus(const char *gres)
{
	const char *g = gres ? strstr(gres, "gpu") : NULL, *colon;
	char *end;
	long n;

	if (g == NULL)
		return 0;
	colon = strrchr(g, ':');
	if (colon == NULL)
		return 1;
	n = strtol(colon + 1, &end, 10);
	return end != colon + 1 && n > 0 ? n : 1;
}

char *
aml_hardware_text(const aml_plugin *p, const aml_config *cfg)
{
	const char *threads = aml_host_param(p, cfg, "threads");
	const char *gpus = aml_host_param(p, cfg, "gpus");
	const char *per = aml_host_param(p, cfg, "gpus_per_candidate");
	const char *gres = aml_host_param(p, cfg, "gres");
	size_t n = aml_hardware_gpus(gpus ? gpus : "none");
	long k = per ? atol(per) : 1;
	aml_sb b = {0};

	if (threads == NULL) /* a Slurm job's CPUs */
		threads = aml_host_param(p, cfg, "cpus_per_task");
	if (gpus == NULL && gres != NULL) { /* a Slurm job's GPUs */
		k = gres_gpus(gres);
		n = (size_t)k;
	}
	if (k < 1)
		k = 1;
	aml_sb_printf(&b, "%s CPU thread%s (AML_N_JOBS)", threads ? threads : "1",
		      threads && strcmp(threads, "1") ? "s" : "");
	if (n >= (size_t)k)
		aml_sb_printf(&b, " and %ld GPU%s (AML_GPUS, CUDA_VISIBLE_DEVICES)", k,
			      k > 1 ? "s" : "");
	else
		aml_sb_puts(&b, "; no GPU (AML_GPUS=0, CUDA_VISIBLE_DEVICES empty): write CPU "
			    "code, never wait for CUDA");
	return aml_sb_take(&b);
}
