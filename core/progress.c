/*
 * progress.c — see progress.h.  One thread per run that sleeps on a
 * condition variable with a deadline (so stopping it is immediate), wakes
 * every half second on a terminal or every run.progress_every_s seconds
 * elsewhere, copies the search's numbers and prints them.
 *
 * Lock order: the thread never holds the search's lock while it logs, so
 * it cannot deadlock against a worker that logs under that lock.
 */
#include "config.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "progress.h"
#include "util.h"

#define LINE_PERIOD_S 0.5       /* redraws of the status line */
#define MAX_PERIOD_S 1e6        /* a longer wait is only a stop */
#define TEXT_MAX 1024
#define SEP " \xc2\xb7 "        /* " · " (U+00B7), three columns */

struct aml_progress {
	aml_search *s;              /* borrowed */
	aml_progress_mode mode;     /* LINE or PLAIN */
	double period_s;
	pthread_t thread;
	pthread_mutex_t lock;       /* guards stopping */
	pthread_cond_t wake;
	int stopping;
	char shown[TEXT_MAX];       /* the status line last drawn */
};

int
aml_progress_config(const aml_config *cfg, aml_progress_mode *mode, double *every_s,
		    char *err, size_t errlen)
{
	const char *v = aml_config_get(cfg, "run.progress");
	int rc;

	if (v == NULL) {
		aml_seterr(err, errlen, "configuration key 'run.progress' is not set");
		return AML_ENOTFOUND;
	}
	if (strcmp(v, "auto") == 0) {
		*mode = AML_PROGRESS_AUTO;
	} else if (strcmp(v, "line") == 0) {
		*mode = AML_PROGRESS_LINE;
	} else if (strcmp(v, "plain") == 0) {
		*mode = AML_PROGRESS_PLAIN;
	} else if (strcmp(v, "off") == 0) {
		*mode = AML_PROGRESS_OFF;
	} else {
		aml_seterr(err, errlen, "%s: 'run.progress' must be auto, line, plain or off, got '%s'",
			   aml_config_source(cfg, "run.progress"), v);
		return AML_EINVAL;
	}
	rc = aml_config_double(cfg, "run.progress_every_s", every_s, err, errlen);
	if (rc != AML_OK)
		return rc;
	if (!isfinite(*every_s) || *every_s <= 0) {
		aml_seterr(err, errlen,
			   "%s: 'run.progress_every_s' must be a number of seconds > 0, got '%s'",
			   aml_config_source(cfg, "run.progress_every_s"),
			   aml_config_get(cfg, "run.progress_every_s"));
		return AML_EINVAL;
	}
	return AML_OK;
}

/* Whether any role has a price: then money is worth showing at 0 too. */
static int
priced(const aml_llm *l)
{
	int r;

	for (r = 0; r < AML_N_ROLES; r++)
		if (l->price_in[r] > 0 || l->price_out[r] > 0)
			return 1;
	return 0;
}

void
aml_progress_read(aml_search *s, aml_progress_snapshot *snap)
{
	aml_llm *llm = s->ctx ? s->ctx->llm : NULL;

	memset(snap, 0, sizeof *snap);
	snap->best_node = -1;
	pthread_mutex_lock(&s->lock);
	/* not graph.n - in_flight: a resumed run's pending nodes wait
	 * outside the workers until they are run again */
	snap->done = (long)s->n_finished;
	snap->max_nodes = s->max_nodes;
	if (s->graph.best >= 0) {
		snap->has_best = 1;
		snap->best_node = s->graph.best;
		snap->best_score = s->graph.nodes[s->graph.best]->score;
	}
	snap->busy = s->in_flight;
	snap->workers = s->workers;
	snap->elapsed_s = aml_now() - s->t0;
	snap->left_s = s->time_limit_s - snap->elapsed_s;
	snap->max_cost = s->max_cost;
	pthread_mutex_unlock(&s->lock);
	snap->metric = s->task ? aml_task_view(s->task)->metric : NULL;
	if (llm) {
		aml_llm_role_stats t;

		aml_llm_totals(llm, &t);
		snap->has_tokens = 1;
		snap->tokens = t.tokens_in + t.tokens_out;
		snap->cost = aml_search_cost(s);
	}
	snap->has_cost = snap->cost > 0 || snap->max_cost > 0 || (llm && priced(llm));
}

char *
aml_progress_duration(double seconds, char *buf, size_t len)
{
	long t = seconds > 0 && seconds < 1e12 ? (long)seconds : 0;

	if (t < 60)
		snprintf(buf, len, "%lds", t);
	else if (t < 3600)
		snprintf(buf, len, "%ldm%02lds", t / 60, t % 60);
	else
		snprintf(buf, len, "%ldh%02ldm", t / 3600, t % 3600 / 60);
	return buf;
}

/* A line under construction: bytes and terminal columns used. */
typedef struct line {
	char *buf;
	size_t len, used;
	int width, cols;    /* width 0: no column limit */
	int full;           /* a part did not fit: the rest is left off */
} line;

/* Terminal columns of UTF-8 text t: its bytes that start a character. */
static int
columns(const char *t)
{
	int n = 0;

	for (; *t; t++)
		n += ((unsigned char)*t & 0xc0) != 0x80;
	return n;
}

/* Append part, after the separator unless it is the first; a part that
 * does not fit ends the line, except a first one, which is cut. */
static void
put(line *l, const char *part)
{
	const char *sep = l->used ? SEP : "";
	size_t n = strlen(sep) + strlen(part), i, k;
	int c = columns(sep) + columns(part);

	if (l->full)
		return;
	if (l->used + n < l->len && (l->width <= 0 || l->cols + c <= l->width)) {
		snprintf(l->buf + l->used, l->len - l->used, "%s%s", sep, part);
		l->used += n;
		l->cols += c;
		return;
	}
	l->full = 1;
	if (l->used)
		return;
	/* a first part wider than the line: as many whole characters as fit */
	for (i = 0, c = 0; part[i]; i += k, c++) {
		k = 1;
		while (((unsigned char)part[i + k] & 0xc0) == 0x80)
			k++;
		if (i + k >= l->len || (l->width > 0 && c + 1 > l->width))
			break;
	}
	memcpy(l->buf, part, i);
	l->buf[i] = '\0';
	l->used = i;
	l->cols = c;
}

static void
fmt_tokens(uint64_t t, char *buf, size_t len)
{
	if (t < 1000)
		snprintf(buf, len, "%llu tok", (unsigned long long)t);
	else if (t < 999950)
		snprintf(buf, len, "%.1fk tok", (double)t / 1e3);
	else if (t < 999950000)
		snprintf(buf, len, "%.1fM tok", (double)t / 1e6);
	else
		snprintf(buf, len, "%.1fG tok", (double)t / 1e9);
}

size_t
aml_progress_format(const aml_progress_snapshot *snap, int width, char *buf, size_t len)
{
	line l = {buf, len, 0, width, 0, 0};
	const char *metric = snap->metric && snap->metric[0] ? snap->metric : "score";
	char part[160], d1[32], d2[32];

	if (len == 0)
		return 0;
	buf[0] = '\0';
	snprintf(part, sizeof part, "nodes %ld/%ld", snap->done, snap->max_nodes);
	put(&l, part);
	if (snap->has_best)
		snprintf(part, sizeof part, fabs(snap->best_score) < 1000 ? "best %s %.4g (node %d)"
			 : "best %s %.1f (node %d)", metric, snap->best_score, (int)snap->best_node);
	else
		snprintf(part, sizeof part, "best %s: none yet", metric);
	put(&l, part);
	snprintf(part, sizeof part, "%ld/%ld busy", snap->busy, snap->workers);
	put(&l, part);
	/* time left rounded up: it shows 0s only once the budget is spent */
	snprintf(part, sizeof part, "%s, %s left",
		 aml_progress_duration(snap->elapsed_s, d1, sizeof d1),
		 aml_progress_duration(ceil(snap->left_s), d2, sizeof d2));
	put(&l, part);
	if (snap->has_tokens) {
		fmt_tokens(snap->tokens, part, sizeof part);
		put(&l, part);
	}
	if (snap->has_cost) {
		if (snap->max_cost > 0)
			snprintf(part, sizeof part, "cost %.4g of %g", snap->cost, snap->max_cost);
		else
			snprintf(part, sizeof part, "cost %.4g", snap->cost);
		put(&l, part);
	}
	return l.used;
}

/* Columns of the terminal on stderr, 80 when it is not one. */
static int
term_width(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Print the numbers now, as the mode says. */
static void
show(aml_progress *p)
{
	aml_progress_snapshot snap;
	char text[TEXT_MAX];

	aml_progress_read(p->s, &snap);
	if (p->mode == AML_PROGRESS_LINE) {
		/* one column spare: a full-width line makes some terminals wrap */
		aml_progress_format(&snap, term_width() - 1, text, sizeof text);
		if (strcmp(text, p->shown) != 0) {
			memcpy(p->shown, text, sizeof p->shown);
			aml_log_status(text);
		}
	} else {
		aml_progress_format(&snap, 0, text, sizeof text);
		aml_info("progress: %s", text);
	}
}

static void *
progress_main(void *arg)
{
	aml_progress *p = arg;
	struct timespec at;
	int rc;

	if (p->mode == AML_PROGRESS_LINE)
		show(p);
	pthread_mutex_lock(&p->lock);
	while (!p->stopping) {
		/* from now, not from the last deadline: a late tick is not
		 * followed by a burst of catching up */
		clock_gettime(CLOCK_MONOTONIC, &at);
		at.tv_sec += (time_t)p->period_s;
		at.tv_nsec += (long)((p->period_s - floor(p->period_s)) * 1e9);
		if (at.tv_nsec >= 1000000000L) {
			at.tv_sec++;
			at.tv_nsec -= 1000000000L;
		}
		rc = 0;
		while (!p->stopping && rc == 0)
			rc = pthread_cond_timedwait(&p->wake, &p->lock, &at);
		if (p->stopping)
			break;
		pthread_mutex_unlock(&p->lock);
		show(p);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

int
aml_progress_start(aml_search *s, const aml_config *cfg, int quiet, aml_progress **out,
		   char *err, size_t errlen)
{
	aml_progress_mode mode;
	pthread_condattr_t ca;
	aml_progress *p;
	double every;
	int rc;

	*out = NULL;
	rc = aml_progress_config(cfg, &mode, &every, err, errlen);
	if (rc != AML_OK)
		return rc;
	if (quiet || mode == AML_PROGRESS_OFF)
		return AML_OK;
	if (mode == AML_PROGRESS_AUTO)
		mode = isatty(STDERR_FILENO) ? AML_PROGRESS_LINE : AML_PROGRESS_PLAIN;
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return AML_ENOMEM;
	p->s = s;
	p->mode = mode;
	p->period_s = mode == AML_PROGRESS_LINE ? LINE_PERIOD_S : every;
	if (p->period_s > MAX_PERIOD_S)
		p->period_s = MAX_PERIOD_S;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->wake, &ca);
	pthread_condattr_destroy(&ca);
	rc = pthread_create(&p->thread, NULL, progress_main, p);
	if (rc != 0) {
		aml_seterr(err, errlen, "cannot start the progress thread: %s", strerror(rc));
		pthread_cond_destroy(&p->wake);
		pthread_mutex_destroy(&p->lock);
		free(p);
		return AML_EIO;
	}
	*out = p;
	return AML_OK;
}

void
aml_progress_stop(aml_progress *p)
{
	aml_progress_snapshot snap;
	char text[TEXT_MAX];

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	pthread_join(p->thread, NULL);
	if (p->mode == AML_PROGRESS_LINE)
		aml_log_status(NULL);
	aml_progress_read(p->s, &snap);
	aml_progress_format(&snap, 0, text, sizeof text);
	aml_info("progress: %s", text);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}
