/*
 * batch.c — one candidate as a Slurm batch job: its name and comment, the
 * batch script written into the node's workdir, the sbatch command line
 * that submits it, and the marker file that records the submission.
 *
 * Every job of a run has the same name, "aml-<run folder>-<hash of the
 * run's path>", so the run's jobs can be found (and cancelled, by the
 * guard) by name; the comment "aml:<node>:<hash of the workdir>" tells
 * one node's job from the others.  The options go on sbatch's command
 * line (argv, not #SBATCH lines, so a path with blanks needs no quoting);
 * the script's first lines repeat them as a comment.
 *
 * The script runs the interpreter with a clean environment (env -i): the
 * job gets the user's login environment from Slurm (--export=NONE
 * still loads it on the node), which may hold secrets; the script sees
 * only the allow-list built here.  It stops the interpreter at the
 * request's time limit with coreutils' timeout (Slurm's own limit is in
 * whole minutes and checked only every half minute; it stays as the
 * backstop), and records the exit status and the seconds it ran in
 * SL_EXIT_FILE, which result.c reads.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "slurm.h"

/* FNV-1a, 32 bits: a short stable tag for a path. */
static uint32_t
fnv1a(const char *s)
{
	uint32_t h = 2166136261u;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 16777619u;
	}
	return h;
}

/* The run folder of a node's workdir: the parent of nodes/, else the
 * workdir's own parent.  Transferred. */
static char *
run_dir_of(const char *absdir)
{
	char *d = strdup(absdir), *slash;

	if (d == NULL)
		return NULL;
	slash = strrchr(d, '/');
	if (slash == NULL || slash == d)
		return d;
	*slash = '\0';
	slash = strrchr(d, '/');
	if (slash != NULL && strcmp(slash + 1, "nodes") == 0 && slash != d)
		*slash = '\0';
	return d;
}

void
sl_job_name(const char *absdir, char *name, size_t len)
{
	char *run = run_dir_of(absdir), base[41];
	const char *b;
	size_t i;

	if (run == NULL) {
		snprintf(name, len, "aml-%08x", fnv1a(absdir));
		return;
	}
	b = strrchr(run, '/');
	b = b != NULL ? b + 1 : run;
	for (i = 0; b[i] && i < sizeof base - 1; i++)
		base[i] = (isalnum((unsigned char)b[i]) || b[i] == '.' || b[i] == '-' ||
			   b[i] == '_') ? b[i] : '_';
	base[i] = '\0';
	snprintf(name, len, "aml-%s-%08x", base, fnv1a(run));
	free(run);
}

void
sl_job_comment(const char *absdir, uint32_t node_id, char *out, size_t len)
{
	snprintf(out, len, "aml:%u:%08x", node_id, fnv1a(absdir));
}

/* ------------------------------------------------------------------ */
/* The script.                                                         */

/* A growing text buffer; oom is sticky and checked once at the end. */
struct buf {
	char *s;
	size_t len, cap;
	int oom;
};

static void
put(struct buf *b, const char *s, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *ns;

		while (cap < b->len + n + 1)
			cap *= 2;
		ns = realloc(b->s, cap);
		if (ns == NULL) {
			b->oom = 1;
			return;
		}
		b->s = ns;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void AML_PRINTF(2, 3)
printf_(struct buf *b, const char *fmt, ...)
{
	char tmp[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n > 0)
		put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* s in single quotes for sh: 'it'\''s'. */
static void
quote(struct buf *b, const char *s)
{
	puts_(b, "'");
	for (; *s; s++) {
		if (*s == '\'')
			puts_(b, "'\\''");
		else
			put(b, s, 1);
	}
	puts_(b, "'");
}

/* The environment of the script, "KEY=VALUE" each, later entries of a
 * key replacing earlier ones. */
struct env {
	char **kv;
	size_t n, cap;
	int oom;
};

static void
env_set(struct env *e, const char *key, size_t klen, const char *value)
{
	size_t i;
	char *kv;

	if (e->oom)
		return;
	kv = malloc(klen + 1 + strlen(value) + 1);
	if (kv == NULL) {
		e->oom = 1;
		return;
	}
	sprintf(kv, "%.*s=%s", (int)klen, key, value);
	for (i = 0; i < e->n; i++)
		if (strncmp(e->kv[i], kv, klen + 1) == 0) {
			free(e->kv[i]);
			e->kv[i] = kv;
			return;
		}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 32;
		char **nv = realloc(e->kv, cap * sizeof *nv);

		if (nv == NULL) {
			free(kv);
			e->oom = 1;
			return;
		}
		e->kv = nv;
		e->cap = cap;
	}
	e->kv[e->n++] = kv;
}

static int
env_has(const struct env *e, const char *key)
{
	size_t i, k = strlen(key);

	for (i = 0; i < e->n; i++)
		if (strncmp(e->kv[i], key, k) == 0 && e->kv[i][k] == '=')
			return 1;
	return 0;
}

static void
env_free(struct env *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->kv[i]);
	free(e->kv);
}

static int
dropped(const struct sl *x, const char *name)
{
	size_t i;

	for (i = 0; x->drop[i]; i++)
		if (fnmatch(x->drop[i], name, 0) == 0)
			return 1;
	return 0;
}

/* The allow-list: env_pass from the agent (less env_drop), the plugin's
 * settings, then the request's entries.  (getenv() from several threads
 * is safe while nobody calls setenv(); the agent does not in a run.) */
static int
build_env(const struct sl *x, const aml_exec_request *req, const char *absdir, struct env *e,
	  char *err, size_t errlen)
{
	static const char *const caps[] = {
		"OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
		"NUMEXPR_NUM_THREADS", "AML_N_JOBS",
	};
	char num[32], *home;
	struct stat st;
	size_t i;

	for (i = 0; x->pass[i]; i++) {
		const char *v = getenv(x->pass[i]);

		if (v != NULL && !dropped(x, x->pass[i]))
			env_set(e, x->pass[i], strlen(x->pass[i]), v);
	}
	env_set(e, "PYTHONUNBUFFERED", 16, "1");
	env_set(e, "PYTHONDONTWRITEBYTECODE", 23, "1");
	env_set(e, "MPLBACKEND", 10, "Agg");
	home = ek_join(absdir, "working");
	if (home == NULL)
		return AML_ENOMEM;
	env_set(e, "HOME", 4, stat(home, &st) == 0 && S_ISDIR(st.st_mode) ? home : absdir);
	free(home);
	snprintf(num, sizeof num, "%ld", x->cpus);
	for (i = 0; i < sizeof caps / sizeof caps[0]; i++)
		env_set(e, caps[i], strlen(caps[i]), num);
	snprintf(num, sizeof num, "%ld", x->gpus);
	env_set(e, "AML_GPUS", 8, num);
	for (i = 0; req->env != NULL && req->env[i] != NULL; i++) {
		const char *eq = strchr(req->env[i], '=');

		if (eq == NULL || eq == req->env[i]) {
			ek_err(err, errlen, "request env entry '%s' is not KEY=VALUE", req->env[i]);
			return AML_EINVAL;
		}
		env_set(e, req->env[i], (size_t)(eq - req->env[i]), eq + 1);
	}
	return e->oom ? AML_ENOMEM : AML_OK;
}

/* Variables the script takes from the job's own environment on the node
 * (Slurm sets them), unless the request set them. */
static const char *const node_vars[] = {
	"SLURM_JOB_ID", "SLURM_CPUS_PER_TASK", "SLURM_JOB_NODELIST", "TMPDIR",
};

/* The words of `wrapper` with {workdir} and {input} replaced. */
static void
put_wrapper(const struct sl *x, struct buf *b, const char *absdir, const char *input)
{
	size_t i;

	for (i = 0; x->wrapper[i]; i++) {
		const char *w = x->wrapper[i];

		if (strcmp(w, "{workdir}") == 0)
			w = absdir;
		else if (strcmp(w, "{input}") == 0)
			w = input;
		quote(b, w);
		puts_(b, " ");
	}
}

/* --time in minutes: the parameter, else the request's limit plus the
 * grace period, rounded up, plus a minute (the script's own timeout
 * comes first; this is the backstop). */
static long
time_minutes(const struct sl *x, double timeout_s)
{
	double m;

	if (x->time_limit_min > 0)
		return x->time_limit_min;
	m = ceil((timeout_s + x->grace_s) / 60.0) + 1;
	return m > 525600 ? 525600 : (long)m;
}

int
sl_batch_write(const struct sl *x, const aml_exec_request *req, const char *absdir,
	       char *err, size_t errlen)
{
	struct buf b = {0};
	struct env e = {0};
	const char *path_v = NULL, *input = req->input_dir;
	char *path, *tmp, *realinput = NULL, ebuf[128];
	size_t i;
	int rc, fd, werr;

	rc = build_env(x, req, absdir, &e, err, errlen);
	if (rc != AML_OK) {
		if (rc == AML_ENOMEM)
			ek_err(err, errlen, "out of memory building the environment");
		env_free(&e);
		return rc;
	}
	for (i = 0; i < e.n; i++)
		if (strncmp(e.kv[i], "PATH=", 5) == 0)
			path_v = e.kv[i] + 5;
	if (input != NULL && (realinput = realpath(input, NULL)) != NULL)
		input = realinput;

	puts_(&b, "#!/bin/sh\n");
	printf_(&b, "# AutoMLGen's slurm executor: node %u, run with a clean environment,\n"
		    "# stopped at %.3f s; its exit status and seconds go to " SL_EXIT_FILE ".\n"
		    "# Submitted with sbatch --parsable --export=NONE --nodes=1 --ntasks=1\n"
		    "#   --cpus-per-task=%ld --time=%ld",
		req->node_id, req->timeout_s, x->cpus, time_minutes(x, req->timeout_s));
	if (x->mem_mb > 0)
		printf_(&b, " --mem=%ld", x->mem_mb);
	if (x->partition[0])
		printf_(&b, " --partition=%s", x->partition);
	if (x->gres[0])
		printf_(&b, " --gres=%s", x->gres);
	if (x->account[0])
		printf_(&b, " --account=%s", x->account);
	if (x->qos[0])
		printf_(&b, " --qos=%s", x->qos);
	for (i = 0; x->extra_args[i]; i++)
		printf_(&b, " %s", x->extra_args[i]);
	puts_(&b, "\n#   --job-name --comment --chdir --output --error (this folder)\n");
	puts_(&b, "PATH=");
	quote(&b, path_v != NULL ? path_v : "/usr/local/bin:/usr/bin:/bin");
	puts_(&b, ":/usr/bin:/bin\nexport PATH\ncd ");
	quote(&b, absdir);
	puts_(&b, " || exit 125\nrm -f " SL_EXIT_FILE " " SL_EXIT_FILE ".tmp\n"
		  "t0=$(date +%s)\n");
	printf_(&b, "timeout --kill-after=%.3f %.3f env -i \\\n", x->grace_s, req->timeout_s);
	for (i = 0; i < e.n; i++) {
		puts_(&b, "\t");
		quote(&b, e.kv[i]);
		puts_(&b, " \\\n");
	}
	for (i = 0; i < sizeof node_vars / sizeof node_vars[0]; i++)
		if (!env_has(&e, node_vars[i]))
			printf_(&b, "\t\"%s=${%s%s}\" \\\n", node_vars[i], node_vars[i],
				strcmp(node_vars[i], "TMPDIR") == 0 ? ":-/tmp" : "-");
	/* Slurm sets CUDA_VISIBLE_DEVICES for a job with GPUs; without, it
	 * is empty so no script waits for a device it does not have. */
	if (!env_has(&e, "CUDA_VISIBLE_DEVICES"))
		puts_(&b, x->gpus > 0 ? "\t\"CUDA_VISIBLE_DEVICES=${CUDA_VISIBLE_DEVICES-}\" \\\n"
				      : "\t'CUDA_VISIBLE_DEVICES=' \\\n");
	puts_(&b, "\t");
	put_wrapper(x, &b, absdir, input != NULL ? input : absdir);
	quote(&b, x->python);
	puts_(&b, " ");
	quote(&b, req->script);
	puts_(&b, " </dev/null\n"
		  "st=$?\n"
		  "t1=$(date +%s)\n"
		  "printf '%s %s\\n' \"$st\" \"$((t1 - t0))\" >" SL_EXIT_FILE ".tmp &&\n"
		  "\tmv -f " SL_EXIT_FILE ".tmp " SL_EXIT_FILE "\n"
		  "exit \"$st\"\n");
	env_free(&e);
	free(realinput);
	if (b.oom) {
		free(b.s);
		ek_err(err, errlen, "out of memory writing the batch script");
		return AML_ENOMEM;
	}

	path = ek_join(absdir, SL_SCRIPT_FILE);
	tmp = ek_join(absdir, SL_SCRIPT_FILE ".tmp");
	if (path == NULL || tmp == NULL) {
		free(path);
		free(tmp);
		free(b.s);
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0755);
	werr = fd < 0 ? errno : ek_write_all(fd, b.s, b.len);
	if (fd >= 0 && close(fd) != 0 && werr == 0)
		werr = errno;
	if (werr == 0 && rename(tmp, path) != 0)
		werr = errno;
	if (werr != 0) {
		ek_err(err, errlen, "cannot write %s: %s", path, ek_strerror(werr, ebuf, sizeof ebuf));
		(void)unlink(tmp);
	}
	free(path);
	free(tmp);
	free(b.s);
	return werr == 0 ? AML_OK : AML_EIO;
}

/* ------------------------------------------------------------------ */
/* Submission.                                                         */

/* Does sbatch's message say it could not reach the controller (the
 * executor's failure), rather than that the job was refused? */
static int
unreachable(const char *msg)
{
	return strstr(msg, "Unable to contact") != NULL || strstr(msg, "Socket timed out") != NULL ||
	       strstr(msg, "Connection refused") != NULL ||
	       strstr(msg, "configuration source") != NULL;
}

int
sl_submit(const struct sl *x, const aml_exec_request *req, const char *absdir,
	  const char *name, const char *comment, char *id, size_t idlen, char *why,
	  size_t whylen, char *err, size_t errlen)
{
	enum { N_FIXED = 32, OPT_MAX = 4200 + SL_NAME_MAX };
	const char **argv;
	char (*opt)[OPT_MAX];
	char line[SL_TEXT_MAX], *out = NULL, *script;
	size_t n_extra = 0, i, k = 0, o = 0;
	int rc, status;

	while (x->extra_args[n_extra])
		n_extra++;
	if (strlen(absdir) > 4096) {
		ek_err(err, errlen, "workdir path too long");
		return AML_EINVAL;
	}
	argv = calloc(N_FIXED + n_extra + 2, sizeof *argv);
	opt = calloc(N_FIXED, sizeof *opt);
	script = ek_join(absdir, SL_SCRIPT_FILE);
	if (argv == NULL || opt == NULL || script == NULL) {
		free(argv);
		free(opt);
		free(script);
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
#define OPT(...) (snprintf(opt[o], sizeof opt[o], __VA_ARGS__), argv[k++] = opt[o++])
	argv[k++] = x->sbatch;
	argv[k++] = "--parsable";
	OPT("--job-name=%s", name);
	OPT("--comment=%s", comment);
	OPT("--chdir=%s", absdir);
	OPT("--output=%s/" SL_RAW_OUT, absdir);
	OPT("--error=%s/" SL_RAW_ERR, absdir);
	argv[k++] = "--export=NONE";
	argv[k++] = "--nodes=1";
	argv[k++] = "--ntasks=1";
	OPT("--cpus-per-task=%ld", x->cpus);
	OPT("--time=%ld", time_minutes(x, req->timeout_s));
	if (x->mem_mb > 0)
		OPT("--mem=%ld", x->mem_mb);
	if (x->partition[0])
		OPT("--partition=%s", x->partition);
	if (x->gres[0])
		OPT("--gres=%s", x->gres);
	if (x->account[0])
		OPT("--account=%s", x->account);
	if (x->qos[0])
		OPT("--qos=%s", x->qos);
#undef OPT
	for (i = 0; i < n_extra; i++)
		argv[k++] = x->extra_args[i];
	argv[k++] = script;
	argv[k] = NULL;

	rc = sl_cmd(x, argv, &out, line, sizeof line, &status, err, errlen);
	free(argv);
	free(opt);
	free(script);
	if (rc != AML_OK)
		return rc;
	if (status != 0) {
		free(out);
		if (unreachable(line)) {
			ek_err(err, errlen, "sbatch cannot reach the Slurm controller: %s", line);
			return AML_EIO;
		}
		snprintf(why, whylen, "%s", line[0] ? line : "sbatch failed without a message");
		return 1;
	}
	/* "<id>" or "<id>;<cluster>" */
	i = strspn(out, "0123456789");
	if (i == 0 || i >= idlen) {
		ek_err(err, errlen, "sbatch answered no job id: '%.80s'", out);
		free(out);
		return AML_EPROTO;
	}
	memcpy(id, out, i);
	id[i] = '\0';
	free(out);
	return AML_OK;
}

/* ------------------------------------------------------------------ */
/* The marker.                                                         */

int
sl_marker_write(const char *absdir, const char *id, const char *name, const char *comment,
		char *err, size_t errlen)
{
	char *path = ek_join(absdir, SL_MARKER_FILE), *tmp = ek_join(absdir, SL_MARKER_FILE ".tmp");
	char text[SL_ID_MAX + SL_NAME_MAX + SL_TEXT_MAX], ebuf[128];
	int fd, werr, n;

	if (path == NULL || tmp == NULL) {
		free(path);
		free(tmp);
		ek_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	n = snprintf(text, sizeof text, "%s %s %s\n", id, name, comment);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	werr = fd < 0 ? errno : ek_write_all(fd, text, (size_t)n);
	if (fd >= 0 && close(fd) != 0 && werr == 0)
		werr = errno;
	if (werr == 0 && rename(tmp, path) != 0)
		werr = errno;
	if (werr != 0) {
		ek_err(err, errlen, "cannot write %s: %s", path, ek_strerror(werr, ebuf, sizeof ebuf));
		(void)unlink(tmp);
	}
	free(path);
	free(tmp);
	return werr == 0 ? AML_OK : AML_EIO;
}

void
sl_marker_remove(const char *absdir)
{
	char *path = ek_join(absdir, SL_MARKER_FILE);

	if (path != NULL)
		(void)unlink(path);
	free(path);
}

int
sl_marker_read(const char *absdir, char *id, size_t idlen, char *name, size_t namelen,
	       char *comment, size_t commentlen)
{
	char *path = ek_join(absdir, SL_MARKER_FILE);
	char text[SL_ID_MAX + SL_NAME_MAX + SL_TEXT_MAX];
	char a[SL_ID_MAX], b[SL_NAME_MAX], c[SL_TEXT_MAX];
	FILE *f;
	int ok;

	if (path == NULL)
		return 0;
	f = fopen(path, "re");
	free(path);
	if (f == NULL)
		return 0;
	ok = fgets(text, sizeof text, f) != NULL &&
	     sscanf(text, "%31s %95s %255s", a, b, c) == 3;
	fclose(f);
	if (!ok)
		return 0;
	snprintf(id, idlen, "%s", a);
	snprintf(name, namelen, "%s", b);
	snprintf(comment, commentlen, "%s", c);
	return 1;
}
