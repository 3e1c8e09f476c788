/*
 * cmd_bench.c — `automlgen bench SUITE_DIR [--policies P,...] [--seeds N]
 * [--out DIR] [--config FILE] [-o key=value]... [--json]`: run every task
 * of a suite under each policy and seed, grade, and report (bench.h).
 *
 * The bench's own options are taken out of argv here; the rest (--config,
 * -o, -q, -v, --json, the suite) go through the shared aml_cli_parse(), so
 * every run sees the same configuration `automlgen run` would.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"
#include "cli_args.h"
#include "util.h"

static void
bench_usage(FILE *f)
{
	fputs("usage: automlgen bench SUITE_DIR [--policies P,...] [--seeds N] [--out DIR]\n"
	      "                       [--config FILE] [-o key=value]... [--json]\n"
	      "  Run every task folder of SUITE_DIR once per policy and seed (run.seed\n"
	      "  0..N-1), grade each final submission against private/answers.csv, and\n"
	      "  write bench.md, bench.csv and bench.json into DIR (default\n"
	      "  bench-<UTC timestamp>/; it must be new or empty).  A task's\n"
	      "  thresholds.json (scripts/make-thresholds.py) adds normalized scores\n"
	      "  and medals.\n"
	      "  --policies  search policies, comma-separated (default " AML_BENCH_DEFAULT_POLICIES ")\n"
	      "  --seeds     runs per task and policy (default 1)\n"
	      "  --json      print bench.json instead of the Markdown tables\n"
	      "  Exit status: 0 the bench ran (whatever the runs' results), 1 its\n"
	      "  outputs could not be written, 2 bad usage or suite.\n", f);
}

/* The value of option name at argv[*i] ("--name V" or "--name=V"); NULL
 * when argv[*i] is not that option.  *missing is set when V is absent. */
static const char *
opt_value(int argc, char **argv, int *i, const char *name, int *missing)
{
	size_t n = strlen(name);

	if (strncmp(argv[*i], name, n) != 0)
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

int
aml_cmd_bench(int argc, char **argv)
{
	aml_bench_opts o;
	aml_cli_args a;
	aml_bench *b = NULL;
	char err[AML_ERRLEN] = "", **rest;
	const char *v;
	int n = 0, i, rc, missing = 0;

	memset(&o, 0, sizeof o);
	memset(&a, 0, sizeof a);
	o.seeds = 1;
	o.progress = stderr;
	rest = calloc((size_t)argc + 1, sizeof *rest);
	if (rest == NULL) {
		fprintf(stderr, "automlgen bench: out of memory\n");
		return 1;
	}
	rest[n++] = argv[0];
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];

		if (strcmp(s, "--help") == 0 || strcmp(s, "-h") == 0) {
			bench_usage(stdout);
			free(rest);
			return 0;
		}
		if (strcmp(s, "-o") == 0 || strcmp(s, "--option") == 0 ||
		    strcmp(s, "--config") == 0 || strcmp(s, "-c") == 0) {
			/* shared options with a value: keep both, whatever the value */
			rest[n++] = argv[i];
			if (i + 1 < argc)
				rest[n++] = argv[++i];
		} else if ((v = opt_value(argc, argv, &i, "--policies", &missing)) != NULL) {
			o.policies = v;
		} else if ((v = opt_value(argc, argv, &i, "--seeds", &missing)) != NULL) {
			if (aml_parse_long(v, &o.seeds) != 0 || o.seeds < 1) {
				fprintf(stderr, "automlgen bench: --seeds must be a whole number >= 1, got '%s'\n", v);
				free(rest);
				return 2;
			}
		} else if ((v = opt_value(argc, argv, &i, "--out", &missing)) != NULL) {
			o.out_dir = v;
		} else if (missing) {
			break;
		} else {
			rest[n++] = argv[i];
		}
	}
	if (missing) {
		fprintf(stderr, "automlgen bench: %s needs a value\n", argv[i]);
		bench_usage(stderr);
		free(rest);
		return 2;
	}
	if ((rc = aml_cli_parse(n, rest, &a)) != 0) {
		aml_cli_free(&a);
		free(rest);
		return rc;
	}
	free(rest);
	if (a.n_pos != 1) {
		bench_usage(stderr);
		aml_cli_free(&a);
		return 2;
	}
	o.suite_dir = a.pos[0];
	rc = aml_bench_run(a.cfg, &o, &b, err, sizeof err);
	if (rc != AML_OK) {
		fprintf(stderr, "automlgen bench: %s\n", err[0] ? err : aml_strerror(rc));
		aml_cli_free(&a);
		return rc == AML_EINVAL || rc == AML_ENOTFOUND ? 2 : 1;
	}
	rc = aml_bench_write(b, err, sizeof err);
	if (rc != AML_OK) {
		fprintf(stderr, "automlgen bench: %s\n", err);
		rc = 1;
	} else {
		char *path = aml_path_join(b->out_dir, a.json ? "bench.json" : "bench.md");
		char *text = NULL;

		if (path != NULL && aml_read_file(path, 0, &text, NULL, err, sizeof err) == AML_OK) {
			fputs(text, stdout);
			rc = fflush(stdout) == 0 ? 0 : 1;
		} else {
			fprintf(stderr, "automlgen bench: %s\n", err[0] ? err : "out of memory");
			rc = 1;
		}
		free(text);
		free(path);
	}
	aml_bench_free(b);
	aml_cli_free(&a);
	return rc;
}
