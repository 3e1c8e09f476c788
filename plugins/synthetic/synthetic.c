/*
 * synthetic.c — the "synthetic" executor plugin: scores a candidate at
 * once by a known function of its recipe, runs no Python, and fails on
 * request.  It lets the search be tested and timed (many nodes, several
 * workers, every failure path) in milliseconds per node.
 *
 * The recipe.  Scripts written by the offline provider carry a line
 *
 *   # automlgen-recipe: {"model": "tabular.random_forest",
 *                        "params": {"n_estimators": 300, ...},
 *                        "models": [{"model": ..., "params": {...}}, ...],
 *                        "preprocess": [...], "strategy": [...], "seed": S}
 *
 * (the first line that starts with the tag; "models", the ensemble's
 * members, is optional, and so are the lists).  A script without a
 * parseable recipe "crashes" with a SyntaxError-like traceback, exit 1.
 *
 * The score.  U(a, b, ...) is a number in [0, 1): FNV-1a (64 bit) over the
 * strings a, b, ... each followed by a NUL byte, through the splitmix64
 * finalizer, top 53 bits.  The quality q of a recipe is
 *
 *   member(m)  = 0.50 + 0.25 U("base", model)                 base quality
 *              + 0.15 mean_k closeness(m, k)                  its parameters
 *   closeness  = 1 / (1 + |ln(v / opt)|)  for a number v > 0, where the
 *                hidden optimum opt = 10^(-3 + 6.5 U("opt", model, k)),
 *                i.e. somewhere in [0.001, 3162];
 *              = 0 for a number v <= 0;
 *              = U("choice", model, k, v as JSON text) for anything else
 *                (strings, booleans, null, lists);
 *   q          = max over the members (the recipe's model and params, and
 *                each entry of "models") of member(m)
 *              + sum over the distinct "preprocess" and "strategy"
 *                entries e of 0.005 + 0.010 U("item", e), at most 0.05
 *              + 0.02 per distinct model beyond the first, at most 0.04
 *              + noise (2 U("noise", script) - 1)      (parameter noise)
 *
 * clamped to [0.001, 0.999].  The parameter key "fail" takes no part.
 * The reported score is q when the task's metric is higher-is-better and
 * 1 - q when it is lower-is-better, so moving a parameter toward its
 * optimum, adding preprocessing or strategies, and fusing distinct models
 * all improve it, smoothly, as an improve, fuse or recall operator would
 * hope.  With the parameter explain on, stdout.txt shows every term
 * (including the hidden optima: tests use it; a real search should not).
 *
 * Failures.  A recipe with "fail": MODE at its top level or in any
 * member's params forces that failure; otherwise a run fails when
 * U("fail", script, node id, seed) < fail_rate, with the mode picked from
 * fail_modes by a second hash of the same.  MODE is one of
 *   crash               stderr holds a Python-like traceback, exit 1
 *   timeout             outcome TIMEOUT, term_signal SIGKILL, wall_s the
 *                       request's timeout_s (reported, not slept)
 *   no_score            exit 0 and a valid submission, but no score line
 *   invalid_submission  exit 0 and a score, but the submission lacks the
 *                       sample's last row (one row more when it has none)
 * ("none" forces nothing; an unknown name crashes with a ValueError).
 * A run that succeeds prints a few lines ending in
 * "Final Validation Score: <score>", leaves stderr.txt empty, and copies
 * the task's sample submission (input/<sample_file>) to
 * submission/submission.csv: a valid submission by construction.
 *
 * latency_s makes every run sleep that long first (for worker
 * benchmarks); a latency at or above the request's timeout_s sleeps
 * timeout_s and times out.  wall_s is the real time spent.  The sleep
 * ends early when the request's cancel flag is set (ABI 1.3: the run is
 * stopping), read every SY_CANCEL_TICK_S: outcome CANCELLED, with the
 * output printed so far; a run whose flag is set on entry does nothing.
 *
 * Threads: the state is set in init and read-only afterwards; run() keeps
 * everything on its stack or heap, so several workers may call it at once.
 * The plugin reaches the core only through the aml_host table.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include <automlgen/plugin.h>

#include "stopflag.h"

#define SY_NAME "synthetic"
#define SY_VERSION "1.0.0"
#define SY_RECIPE_TAG "# automlgen-recipe:"

#define SY_SCRIPT_MAX ((size_t)16 << 20)  /* bytes of script read */
#define SY_SAMPLE_MAX ((size_t)1 << 30)   /* bytes of sample submission copied */
#define SY_MAX_MEMBERS 64                 /* ensemble members scored */
#define SY_MAX_ITEMS 64                   /* preprocess + strategy entries scored */
#define SY_CANCEL_TICK_S 0.05             /* the latency sleep reads the cancel flag this often */

/* The score function's constants (see the file comment). */
#define SY_BASE_LO 0.50
#define SY_BASE_SPAN 0.25
#define SY_PARAM_MAX 0.15
#define SY_OPT_LOG10_LO (-3.0)
#define SY_OPT_LOG10_SPAN 6.5
#define SY_ITEM_LO 0.005
#define SY_ITEM_SPAN 0.010
#define SY_ITEMS_MAX 0.05
#define SY_ENSEMBLE_STEP 0.02
#define SY_ENSEMBLE_MAX 0.04
#define SY_Q_MIN 0.001
#define SY_Q_MAX 0.999

typedef enum sy_mode {
	SY_NONE = 0,
	SY_CRASH,
	SY_TIMEOUT,
	SY_NO_SCORE,
	SY_INVALID_SUB,
	SY_N_MODES,
} sy_mode;

static const char *const sy_mode_names[SY_N_MODES] = {
	"none", "crash", "timeout", "no_score", "invalid_submission",
};

/* Plugin state: set in init, read-only afterwards (so shared by threads). */
struct sy {
	const aml_host *host;
	aml_plugin *self;
	double fail_rate;             /* 0..1 */
	sy_mode modes[SY_N_MODES];    /* what fail_rate picks from */
	size_t n_modes;
	uint64_t seed;
	double latency_s;
	double noise;
	int explain;
};

/* What one run decided: the failure to act out and the score. */
struct sy_job {
	char *code;                   /* the script, owned */
	json_object *recipe;          /* owned; NULL when the script has none */
	char syntax[256];             /* why there is no recipe */
	sy_mode mode;
	char why[160];                /* why the mode was chosen */
	char crash_msg[320];          /* the exception line of a crash */
	double score;                 /* in the metric's direction */
	char *explain;                /* owned, may be NULL: the score's terms */
	char model[128];              /* the main model, for the output */
	size_t n_members, n_params, n_items;
};

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

static void AML_PRINTF(3, 4)
sy_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (err == NULL || errlen == 0)
		return;
	n = snprintf(err, errlen, "executor " SY_NAME ": ");
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

static double
sy_clock(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}


/* "dir/name" (transferred, NULL on oom). */
static char *
sy_join(const char *dir, const char *name)
{
	char *p;

	if (asprintf(&p, "%s/%s", dir, name) < 0)
		return NULL;
	return p;
}

/* Read a whole regular file of at most max bytes (transferred,
 * NUL-terminated).  Returns 0 or an errno value (EFBIG when too big). */
static int
sy_read(const char *path, size_t max, char **out, size_t *len)
{
	struct stat st;
	size_t got = 0;
	char *buf;
	int fd, e;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0) {
		e = errno;
		close(fd);
		return e;
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return EINVAL;
	}
	if ((uint64_t)st.st_size > max) {
		close(fd);
		return EFBIG;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (buf == NULL) {
		close(fd);
		return ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			e = errno;
			free(buf);
			close(fd);
			return e;
		}
		if (n == 0)
			break; /* the file shrank: take what is there */
		got += (size_t)n;
	}
	close(fd);
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return 0;
}

/* Write len bytes to dir/name (created or truncated).  Returns 0 or an
 * errno value. */
static int
sy_write(const char *dir, const char *name, const char *data, size_t len)
{
	char *path = sy_join(dir, name);
	int fd, e = 0;

	if (path == NULL)
		return ENOMEM;
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	free(path);
	if (fd < 0)
		return errno;
	while (len > 0) {
		ssize_t w = write(fd, data, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			e = errno;
			break;
		}
		data += w;
		len -= (size_t)w;
	}
	if (close(fd) != 0 && e == 0)
		e = errno;
	return e;
}

/* ------------------------------------------------------------------ */
/* Hashing: U(parts...) in [0, 1), see the file comment.               */

#define SY_FNV_OFFSET 0xcbf29ce484222325ULL
#define SY_FNV_PRIME 0x100000001b3ULL

/* FNV-1a of the NULL-terminated list of strings, each followed by a NUL,
 * through the splitmix64 finalizer. */
static uint64_t
sy_hash(const char *first, ...)
{
	uint64_t h = SY_FNV_OFFSET;
	const char *s;
	va_list ap;

	va_start(ap, first);
	for (s = first; s != NULL; s = va_arg(ap, const char *)) {
		const unsigned char *p = (const unsigned char *)s;

		do {
			h ^= *p;
			h *= SY_FNV_PRIME;
		} while (*p++ != '\0');
	}
	va_end(ap);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebULL;
	h ^= h >> 31;
	return h;
}

static double
sy_unit(uint64_t h)
{
	return (double)(h >> 11) * 0x1p-53;
}

/* ------------------------------------------------------------------ */
/* Parameters.                                                         */

/* Parse fail_modes ("crash,timeout", blanks allowed) into x->modes. */
static int
sy_parse_modes(struct sy *x, const char *list, char *err, size_t errlen)
{
	const char *p = list;

	x->n_modes = 0;
	while (*p) {
		size_t n, i;
		int m = -1;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, ", \t");
		if (n == 0)
			break;
		for (i = SY_CRASH; i < SY_N_MODES; i++)
			if (strlen(sy_mode_names[i]) == n && strncmp(p, sy_mode_names[i], n) == 0)
				m = (int)i;
		if (m < 0) {
			sy_err(err, errlen,
			       "fail_modes: unknown failure '%.*s' (known: crash, timeout, no_score, invalid_submission)",
			       (int)(n > 64 ? 64 : n), p);
			return AML_EINVAL;
		}
		for (i = 0; i < x->n_modes; i++)
			if (x->modes[i] == (sy_mode)m)
				break;
		if (i == x->n_modes)
			x->modes[x->n_modes++] = (sy_mode)m;
		p += n;
	}
	if (x->n_modes == 0) {
		sy_err(err, errlen, "fail_modes names no failure; use e.g. 'crash,timeout'");
		return AML_EINVAL;
	}
	return AML_OK;
}

/* A float parameter within [lo, hi]; *out keeps its value when unset. */
static int
sy_param_double(struct sy *x, const char *key, double lo, double hi, double *out,
		char *err, size_t errlen)
{
	const char *v = x->host->param(x->self, key);
	char *end;
	double d;

	if (v == NULL || v[0] == '\0')
		return AML_OK;
	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !isfinite(d) || d < lo || d > hi) {
		sy_err(err, errlen, "%s must be a number from %g to %g, got '%s'", key, lo, hi, v);
		return AML_EINVAL;
	}
	*out = d;
	return AML_OK;
}

static void
sy_fini(void *state)
{
	free(state);
}

/* Read and check the parameters (see manifest.yaml). */
static int
sy_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	struct sy *x;
	const char *v;
	char *end;
	int rc;

	*state = NULL;
	x = calloc(1, sizeof *x);
	if (x == NULL) {
		sy_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	x->host = host;
	x->self = self;
	x->noise = 0.005;
	if ((rc = sy_param_double(x, "fail_rate", 0, 1, &x->fail_rate, err, errlen)) ||
	    (rc = sy_param_double(x, "latency_s", 0, 86400, &x->latency_s, err, errlen)) ||
	    (rc = sy_param_double(x, "noise", 0, 1, &x->noise, err, errlen)))
		goto fail;
	v = host->param(self, "fail_modes");
	if ((rc = sy_parse_modes(x, v != NULL && v[0] != '\0' ? v : "crash", err, errlen)))
		goto fail;
	v = host->param(self, "seed");
	if (v != NULL && v[0] != '\0') {
		long long s;

		errno = 0;
		s = strtoll(v, &end, 10);
		if (errno != 0 || end == v || *end != '\0') {
			sy_err(err, errlen, "seed must be an integer, got '%s'", v);
			rc = AML_EINVAL;
			goto fail;
		}
		x->seed = (uint64_t)s;
	}
	v = host->param(self, "explain");
	if (v != NULL && v[0] != '\0') {
		if (strcasecmp(v, "true") == 0 || strcasecmp(v, "yes") == 0 ||
		    strcasecmp(v, "on") == 0 || strcmp(v, "1") == 0) {
			x->explain = 1;
		} else if (!(strcasecmp(v, "false") == 0 || strcasecmp(v, "no") == 0 ||
			     strcasecmp(v, "off") == 0 || strcmp(v, "0") == 0)) {
			sy_err(err, errlen, "explain must be true or false, got '%s'", v);
			rc = AML_EINVAL;
			goto fail;
		}
	}
	*state = x;
	return AML_OK;
fail:
	free(x);
	return rc;
}

/* ------------------------------------------------------------------ */
/* The recipe and its score.                                           */

/* The recipe of code: the JSON object on the first line that starts with
 * SY_RECIPE_TAG (transferred), or NULL with the reason in why. */
static json_object *
sy_recipe_of(const char *code, char *why, size_t whylen)
{
	const char *p = code, *end;
	json_object *r;
	char *line;

	for (;;) {
		if (strncmp(p, SY_RECIPE_TAG, strlen(SY_RECIPE_TAG)) == 0)
			break;
		p = strchr(p, '\n');
		if (p == NULL) {
			snprintf(why, whylen,
				 "no '" SY_RECIPE_TAG " {json}' line: the synthetic executor scores only scripts that carry a recipe");
			return NULL;
		}
		p++;
	}
	p += strlen(SY_RECIPE_TAG);
	end = strchr(p, '\n');
	line = end ? strndup(p, (size_t)(end - p)) : strdup(p);
	if (line == NULL) {
		snprintf(why, whylen, "out of memory reading the recipe");
		return NULL;
	}
	r = json_tokener_parse(line);
	free(line);
	if (r == NULL || !json_object_is_type(r, json_type_object)) {
		json_object_put(r);
		snprintf(why, whylen, "the '" SY_RECIPE_TAG "' line does not hold a JSON object");
		return NULL;
	}
	return r;
}

/* The string at key of object o, or NULL. */
static const char *
sy_str(json_object *o, const char *key)
{
	json_object *v;

	if (o != NULL && json_object_object_get_ex(o, key, &v) &&
	    json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return NULL;
}

/* A value's text for hashing: strings as they are, the rest as JSON. */
static const char *
sy_text(json_object *v)
{
	if (v == NULL)
		return "null";
	if (json_object_is_type(v, json_type_string))
		return json_object_get_string(v);
	return json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN);
}

/* How close parameter key = v of model is to its hidden optimum, in [0, 1]. */
static double
sy_closeness(const char *model, const char *key, json_object *v, double *opt_out)
{
	*opt_out = NAN;
	if (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)) {
		double d = json_object_get_double(v);
		double opt = pow(10.0, SY_OPT_LOG10_LO +
				       SY_OPT_LOG10_SPAN * sy_unit(sy_hash("opt", model, key, NULL)));

		*opt_out = opt;
		if (!(d > 0) || !isfinite(d))
			return 0;
		return 1.0 / (1.0 + fabs(log(d / opt)));
	}
	return sy_unit(sy_hash("choice", model, key, sy_text(v), NULL));
}

/* The quality of one member (a model and its params); ex gets the terms
 * when non-NULL.  Counts the parameters scored into *n_params. */
static double
sy_member(const char *model, json_object *params, FILE *ex, size_t *n_params)
{
	double base = SY_BASE_LO + SY_BASE_SPAN * sy_unit(sy_hash("base", model, NULL));
	double sum = 0, bonus;
	size_t n = 0;

	if (ex)
		fprintf(ex, "synthetic explain: model %s base %.6f\n", model, base);
	if (params != NULL && json_object_is_type(params, json_type_object)) {
		json_object_object_foreach(params, key, v) {
			double opt, c;

			if (strcmp(key, "fail") == 0)
				continue;
			c = sy_closeness(model, key, v, &opt);
			sum += c;
			n++;
			if (ex && isnan(opt))
				fprintf(ex, "synthetic explain:   %s = %s closeness %.6f\n", key,
					sy_text(v), c);
			else if (ex)
				fprintf(ex, "synthetic explain:   %s = %s optimum %.9g closeness %.6f\n",
					key, sy_text(v), opt, c);
		}
	}
	bonus = n > 0 ? SY_PARAM_MAX * sum / (double)n : 0;
	*n_params += n;
	if (ex)
		fprintf(ex, "synthetic explain:   parameters +%.6f, member %.6f\n", bonus, base + bonus);
	return base + bonus;
}

/* 1 when s is among the first n strings of v. */
static int
sy_seen(const char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Score the recipe into j (see the file comment). */
static int
sy_score(const struct sy *x, int higher_is_better, struct sy_job *j)
{
	const char *models[SY_MAX_MEMBERS], *items[SY_MAX_ITEMS];
	static const char *const lists[] = {"preprocess", "strategy"};
	size_t n_models = 0, n_items = 0, i, l;
	double q = -INFINITY, items_bonus = 0, ens_bonus, noise;
	const char *model = sy_str(j->recipe, "model");
	json_object *arr, *params = NULL;
	size_t exlen = 0;
	FILE *ex = NULL;

	if (x->explain) {
		ex = open_memstream(&j->explain, &exlen);
		if (ex == NULL)
			return AML_ENOMEM;
	}
	if (model != NULL) {
		json_object_object_get_ex(j->recipe, "params", &params);
		q = sy_member(model, params, ex, &j->n_params);
		models[n_models++] = model;
		j->n_members++;
	}
	if (json_object_object_get_ex(j->recipe, "models", &arr) &&
	    json_object_is_type(arr, json_type_array)) {
		for (i = 0; i < json_object_array_length(arr) && j->n_members < SY_MAX_MEMBERS; i++) {
			json_object *m = json_object_array_get_idx(arr, i);
			const char *id = sy_str(m, "model");
			double mq;

			if (id == NULL)
				continue;
			params = NULL;
			json_object_object_get_ex(m, "params", &params);
			mq = sy_member(id, params, ex, &j->n_params);
			if (mq > q)
				q = mq;
			j->n_members++;
			if (!sy_seen(models, n_models, id))
				models[n_models++] = id;
		}
	}
	for (l = 0; l < 2; l++) {
		if (!json_object_object_get_ex(j->recipe, lists[l], &arr) ||
		    !json_object_is_type(arr, json_type_array))
			continue;
		for (i = 0; i < json_object_array_length(arr) && n_items < SY_MAX_ITEMS; i++) {
			const char *e = sy_text(json_object_array_get_idx(arr, i));

			if (sy_seen(items, n_items, e))
				continue;
			items[n_items++] = e;
			items_bonus += SY_ITEM_LO + SY_ITEM_SPAN * sy_unit(sy_hash("item", e, NULL));
		}
	}
	j->n_items = n_items;
	if (items_bonus > SY_ITEMS_MAX)
		items_bonus = SY_ITEMS_MAX;
	ens_bonus = n_models > 1 ? SY_ENSEMBLE_STEP * (double)(n_models - 1) : 0;
	if (ens_bonus > SY_ENSEMBLE_MAX)
		ens_bonus = SY_ENSEMBLE_MAX;
	noise = x->noise * (2 * sy_unit(sy_hash("noise", j->code, NULL)) - 1);
	q += items_bonus + ens_bonus + noise;
	if (q < SY_Q_MIN)
		q = SY_Q_MIN;
	if (q > SY_Q_MAX)
		q = SY_Q_MAX;
	j->score = higher_is_better ? q : 1 - q;
	if (ex) {
		fprintf(ex, "synthetic explain: items +%.6f, ensemble +%.6f, noise %+.6f, quality %.6f\n",
			items_bonus, ens_bonus, noise, q);
		if (fclose(ex) != 0)
			return AML_ENOMEM;
	}
	return AML_OK;
}

/* 1 when the recipe names a model: "model", or an entry of "models". */
static int
sy_has_member(json_object *recipe)
{
	json_object *arr;
	size_t i;

	if (sy_str(recipe, "model") != NULL)
		return 1;
	if (json_object_object_get_ex(recipe, "models", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (i = 0; i < json_object_array_length(arr); i++)
			if (sy_str(json_object_array_get_idx(arr, i), "model") != NULL)
				return 1;
	return 0;
}

/* Choose the failure to act out (j->mode, j->why, j->crash_msg). */
static void
sy_choose(const struct sy *x, const aml_exec_request *req, struct sy_job *j)
{
	const char *forced = NULL;
	char id[32], seed[32];
	json_object *arr, *params;
	double u;
	size_t i;

	j->mode = SY_NONE;
	if (j->recipe == NULL) {
		j->mode = SY_CRASH;
		snprintf(j->why, sizeof j->why, "the script has no recipe");
		snprintf(j->crash_msg, sizeof j->crash_msg, "SyntaxError: %s", j->syntax);
		return;
	}
	if (!sy_has_member(j->recipe)) {
		j->mode = SY_CRASH;
		snprintf(j->why, sizeof j->why, "the recipe names no model");
		snprintf(j->crash_msg, sizeof j->crash_msg,
			 "KeyError: 'model' (the recipe has neither \"model\" nor \"models\" entries with one)");
		return;
	}
	/* Forced by the recipe: its own "fail", else any member's params. */
	forced = sy_str(j->recipe, "fail");
	if (forced == NULL && json_object_object_get_ex(j->recipe, "params", &params))
		forced = sy_str(params, "fail");
	if (forced == NULL && json_object_object_get_ex(j->recipe, "models", &arr) &&
	    json_object_is_type(arr, json_type_array))
		for (i = 0; forced == NULL && i < json_object_array_length(arr); i++)
			if (json_object_object_get_ex(json_object_array_get_idx(arr, i), "params",
						      &params))
				forced = sy_str(params, "fail");
	if (forced != NULL && strcmp(forced, "none") != 0) {
		for (i = SY_CRASH; i < SY_N_MODES; i++)
			if (strcmp(forced, sy_mode_names[i]) == 0)
				j->mode = (sy_mode)i;
		snprintf(j->why, sizeof j->why, "the recipe asks for '%.64s'", forced);
		if (j->mode == SY_NONE) {
			j->mode = SY_CRASH;
			snprintf(j->crash_msg, sizeof j->crash_msg,
				 "ValueError: unknown synthetic failure '%.64s' (known: crash, timeout, no_score, invalid_submission)",
				 forced);
		} else if (j->mode == SY_CRASH) {
			snprintf(j->crash_msg, sizeof j->crash_msg,
				 "RuntimeError: synthetic crash (%s)", j->why);
		}
		return;
	}
	if (!(x->fail_rate > 0))
		return;
	snprintf(id, sizeof id, "%u", (unsigned)req->node_id);
	snprintf(seed, sizeof seed, "%llu", (unsigned long long)x->seed);
	u = sy_unit(sy_hash("fail", j->code, id, seed, NULL));
	if (u >= x->fail_rate)
		return;
	j->mode = x->modes[sy_hash("mode", j->code, id, seed, NULL) % x->n_modes];
	snprintf(j->why, sizeof j->why, "injected by fail_rate %g", x->fail_rate);
	if (j->mode == SY_CRASH)
		snprintf(j->crash_msg, sizeof j->crash_msg, "RuntimeError: synthetic crash (%s)",
			 j->why);
}

/* ------------------------------------------------------------------ */
/* Acting it out.                                                      */

/* Copy the task's sample submission to workdir/submission/submission.csv;
 * without its last row when invalid is set. */
static int
sy_submit(const aml_exec_request *req, const aml_task *task, int invalid, char *err,
	  size_t errlen)
{
	char *input = NULL, *src = NULL, *dir = NULL, *data = NULL, ebuf[128];
	size_t len = 0;
	int e, rc = AML_OK;

	input = req->input_dir != NULL && req->input_dir[0] != '\0'
		? strdup(req->input_dir) : sy_join(req->workdir, "input");
	src = input ? sy_join(input, task->sample_file) : NULL;
	dir = sy_join(req->workdir, "submission");
	if (src == NULL || dir == NULL) {
		sy_err(err, errlen, "out of memory");
		rc = AML_ENOMEM;
		goto out;
	}
	if ((e = sy_read(src, SY_SAMPLE_MAX, &data, &len)) != 0) {
		sy_err(err, errlen, "cannot read the sample submission %s: %s", src,
		       strerror_r(e, ebuf, sizeof ebuf));
		rc = e == ENOENT ? AML_ENOTFOUND : AML_EIO;
		goto out;
	}
	if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
		sy_err(err, errlen, "cannot make %s: %s", dir, strerror_r(errno, ebuf, sizeof ebuf));
		rc = AML_EIO;
		goto out;
	}
	if (invalid) {
		/* Drop the last non-empty line, unless it is the header. */
		size_t end = len, start;
		char *nl = strchr(data, '\n');
		size_t header_end = nl ? (size_t)(nl - data) + 1 : len;

		while (end > 0 && (data[end - 1] == '\n' || data[end - 1] == '\r'))
			end--;
		start = end;
		while (start > 0 && data[start - 1] != '\n')
			start--;
		if (start >= header_end) {
			len = start;
		} else {
			/* no data rows: add one, so the count is wrong anyway */
			char *more;

			if (asprintf(&more, "%.*s%s%s", (int)end, data, end > 0 ? "\n" : "",
				     "synthetic-extra-row\n") < 0) {
				sy_err(err, errlen, "out of memory");
				rc = AML_ENOMEM;
				goto out;
			}
			free(data);
			data = more;
			len = strlen(more);
		}
	}
	if ((e = sy_write(dir, "submission.csv", data, len)) != 0) {
		sy_err(err, errlen, "cannot write %s/submission.csv: %s", dir,
		       strerror_r(e, ebuf, sizeof ebuf));
		rc = AML_EIO;
	}
out:
	free(input);
	free(src);
	free(dir);
	free(data);
	return rc;
}

/* Write stdout.txt and stderr.txt and count their bytes into res. */
static int
sy_streams(const aml_exec_request *req, const char *out, const char *errtext,
	   aml_exec_result *res, char *err, size_t errlen)
{
	char ebuf[128];
	int e;

	if ((e = sy_write(req->workdir, "stdout.txt", out, strlen(out))) != 0 ||
	    (e = sy_write(req->workdir, "stderr.txt", errtext, strlen(errtext))) != 0) {
		sy_err(err, errlen, "cannot write the output files in %s: %s", req->workdir,
		       strerror_r(e, ebuf, sizeof ebuf));
		return AML_EIO;
	}
	res->output_bytes = strlen(out) + strlen(errtext);
	return AML_OK;
}

/* The line a Python traceback would point at: the first line of the script
 * after the recipe that is not blank or a comment. */
static void
sy_code_line(const char *code, char *out, size_t outlen, int *lineno)
{
	const char *p = code;
	int n = 1;

	snprintf(out, outlen, "model.fit(X, y)");
	*lineno = 1;
	for (; *p; n++) {
		const char *e = strchr(p, '\n');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		const char *s = p;

		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		if (len > 0 && *s != '#') {
			snprintf(out, outlen, "%.*s", (int)(len > 120 ? 120 : len), s);
			*lineno = n;
			return;
		}
		if (e == NULL)
			break;
		p = e + 1;
	}
}

/* Act out j into the workdir and res. */
static int
sy_act(const struct sy *x, const aml_exec_request *req, const aml_task *task,
       struct sy_job *j, aml_exec_result *res, char *err, size_t errlen)
{
	char *out = NULL, *tb = NULL, line[160];
	size_t outlen = 0, tblen = 0;
	FILE *f;
	int rc, lineno;

	f = open_memstream(&out, &outlen);
	if (f == NULL)
		goto oom;
	if (j->recipe != NULL)
		fprintf(f, "synthetic: model %s, %zu member(s), %zu parameter(s), %zu preprocessing/strategy entr%s\n",
			j->model[0] ? j->model : "(ensemble)", j->n_members, j->n_params, j->n_items,
			j->n_items == 1 ? "y" : "ies");
	if (j->mode == SY_NONE || j->mode == SY_NO_SCORE || j->mode == SY_INVALID_SUB) {
		fprintf(f, "synthetic: fitted in %.3f s\n", x->latency_s);
		if (j->explain)
			fputs(j->explain, f);
		if (j->mode == SY_NO_SCORE)
			fprintf(f, "synthetic: done, no score printed (%s)\n", j->why);
		else
			fprintf(f, "Final Validation Score: %.6f\n", j->score);
	}
	if (fclose(f) != 0)
		goto oom;

	switch (j->mode) {
	case SY_NONE:
	case SY_NO_SCORE:
	case SY_INVALID_SUB:
		rc = sy_streams(req, out, "", res, err, errlen);
		if (rc == AML_OK)
			rc = sy_submit(req, task, j->mode == SY_INVALID_SUB, err, errlen);
		if (rc != AML_OK)
			goto done;
		res->outcome = AML_EXEC_OK;
		res->exit_code = 0;
		res->detail = x->host->mem_strdup("exit status 0");
		break;
	case SY_CRASH:
		sy_code_line(j->code, line, sizeof line, &lineno);
		f = open_memstream(&tb, &tblen);
		if (f == NULL)
			goto oom;
		fputs("Traceback (most recent call last):\n", f);
		if (j->recipe == NULL) /* how Python reports a script it cannot compile */
			fprintf(f, "  File \"%s\", line 1\n    %s\n    ^\n%s\n", req->script,
				line, j->crash_msg);
		else
			fprintf(f, "  File \"%s\", line %d, in <module>\n    %s\n%s\n",
				req->script, lineno, line, j->crash_msg);
		if (fclose(f) != 0)
			goto oom;
		rc = sy_streams(req, out, tb, res, err, errlen);
		if (rc != AML_OK)
			goto done;
		res->outcome = AML_EXEC_CRASHED;
		res->exit_code = 1;
		{
			char *detail;

			if (asprintf(&detail, "exit status 1: %s", j->crash_msg) < 0)
				goto oom;
			res->detail = x->host->mem_strdup(detail);
			free(detail);
		}
		break;
	case SY_TIMEOUT:
	default:
		/* sy_run acts out timeouts itself */
		rc = AML_EINVAL;
		sy_err(err, errlen, "internal error: unexpected mode %d", (int)j->mode);
		goto done;
	}
	rc = res->detail != NULL ? AML_OK : AML_ENOMEM;
	if (rc != AML_OK)
		sy_err(err, errlen, "out of memory");
done:
	free(out);
	free(tb);
	return rc;
oom:
	free(out);
	free(tb);
	sy_err(err, errlen, "out of memory");
	return AML_ENOMEM;
}

/* A run stopped before its end (timeout, cancel): the output the script
 * had printed so far, the outcome, the killing signal (0: none) and the
 * detail line. */
static int
sy_cut_short(const struct sy *x, const aml_exec_request *req, const struct sy_job *j,
	     aml_exec_outcome outcome, int sig, const char *detail, double wall_s,
	     aml_exec_result *res, char *err, size_t errlen)
{
	char *out = NULL;
	int rc;

	if (asprintf(&out, "synthetic: model %s, fitting...\n",
		     j->model[0] ? j->model : "(ensemble)") < 0) {
		sy_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	rc = sy_streams(req, out, "", res, err, errlen);
	free(out);
	if (rc != AML_OK)
		return rc;
	res->outcome = outcome;
	res->term_signal = sig;
	res->wall_s = wall_s;
	res->detail = x->host->mem_strdup(detail);
	if (res->detail == NULL) {
		sy_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	return AML_OK;
}

/* A timeout: SIGKILL at the limit. */
static int
sy_timeout(const struct sy *x, const aml_exec_request *req, const struct sy_job *j,
	   double wall_s, aml_exec_result *res, char *err, size_t errlen)
{
	char detail[256];

	snprintf(detail, sizeof detail, "timed out after %g s (synthetic: %s)", req->timeout_s,
		 j->mode == SY_TIMEOUT ? j->why : "latency_s reached the time limit");
	return sy_cut_short(x, req, j, AML_EXEC_TIMEOUT, SIGKILL, detail, wall_s, res, err,
			    errlen);
}

/* Check the request's arguments. */
static int
sy_check_request(const aml_exec_request *req, char *err, size_t errlen)
{
	struct stat st;

	if (req->workdir == NULL || req->workdir[0] == '\0' || req->script == NULL ||
	    req->script[0] == '\0') {
		sy_err(err, errlen, "request without a workdir or script");
		return AML_EINVAL;
	}
	if (!(req->timeout_s > 0) || !isfinite(req->timeout_s)) {
		sy_err(err, errlen, "timeout_s must be a positive number of seconds, got %g",
		       req->timeout_s);
		return AML_EINVAL;
	}
	if (stat(req->workdir, &st) != 0 || !S_ISDIR(st.st_mode)) {
		sy_err(err, errlen, "workdir %s is not a directory", req->workdir);
		return AML_ENOTFOUND;
	}
	return AML_OK;
}

/* Score req->script (see the file comment). */
static int
sy_run(void *state, const aml_exec_request *req, aml_exec_result *res, char *err,
       size_t errlen)
{
	const struct sy *x = state;
	double t0 = sy_clock(CLOCK_MONOTONIC), c0 = sy_clock(CLOCK_THREAD_CPUTIME_ID);
	const aml_task *task;
	struct sy_job j;
	char *path, ebuf[128];
	const char *model;
	int rc, e;

	if (x == NULL || req == NULL || res == NULL) {
		sy_err(err, errlen, "run called without state, request or result");
		return AML_EINVAL;
	}
	memset(res, 0, sizeof *res);
	if ((rc = sy_check_request(req, err, errlen)) != AML_OK)
		return rc;
	if (sf_stopping(req->cancel)) {
		res->outcome = AML_EXEC_CANCELLED;
		res->detail = x->host->mem_strdup(SF_CANCELLED " (not started)");
		return AML_OK;
	}
	task = x->host->task(x->self);
	if (task == NULL || task->sample_file == NULL || task->sample_file[0] == '\0') {
		sy_err(err, errlen, "no task with a sample submission: this executor copies it as the candidate's submission");
		return AML_EUNSUPPORTED;
	}

	memset(&j, 0, sizeof j);
	path = req->script[0] == '/' ? strdup(req->script) : sy_join(req->workdir, req->script);
	if (path == NULL) {
		sy_err(err, errlen, "out of memory");
		return AML_ENOMEM;
	}
	e = sy_read(path, SY_SCRIPT_MAX, &j.code, NULL);
	if (e != 0) {
		sy_err(err, errlen, "cannot read the script %s: %s", path,
		       e == EINVAL ? "not a regular file" : strerror_r(e, ebuf, sizeof ebuf));
		free(path);
		return e == ENOMEM ? AML_ENOMEM : AML_ENOTFOUND;
	}
	free(path);

	j.recipe = sy_recipe_of(j.code, j.syntax, sizeof j.syntax);
	model = sy_str(j.recipe, "model");
	snprintf(j.model, sizeof j.model, "%s", model ? model : "");
	sy_choose(x, req, &j);
	if (j.recipe != NULL && (j.mode == SY_NONE || j.mode == SY_NO_SCORE ||
				 j.mode == SY_INVALID_SUB)) {
		if ((rc = sy_score(x, task->higher_is_better, &j)) != AML_OK) {
			sy_err(err, errlen, "out of memory");
			goto out;
		}
	}

	if (j.mode == SY_TIMEOUT) {
		rc = sy_timeout(x, req, &j, req->timeout_s, res, err, errlen);
		goto out;
	}
	if (sf_sleep(x->latency_s < req->timeout_s ? x->latency_s : req->timeout_s,
		     req->cancel, SY_CANCEL_TICK_S)) {
		rc = sy_cut_short(x, req, &j, AML_EXEC_CANCELLED, 0, SF_CANCELLED,
				  sy_clock(CLOCK_MONOTONIC) - t0, res, err, errlen);
		goto out;
	}
	if (x->latency_s >= req->timeout_s) {
		rc = sy_timeout(x, req, &j, sy_clock(CLOCK_MONOTONIC) - t0, res, err, errlen);
		goto out;
	}
	rc = sy_act(x, req, task, &j, res, err, errlen);
	res->wall_s = sy_clock(CLOCK_MONOTONIC) - t0;
out:
	res->cpu_s = sy_clock(CLOCK_THREAD_CPUTIME_ID) - c0;
	if (rc != AML_OK) {
		x->host->mem_free(res->detail);
		res->detail = NULL;
	}
	json_object_put(j.recipe);
	free(j.code);
	free(j.explain);
	return rc;
}

static const aml_executor_ops sy_ops = {sy_run};

AML_PLUGIN_DEFINE(AML_KIND_EXECUTOR, SY_NAME, SY_VERSION, sy_init, sy_fini, &sy_ops);
