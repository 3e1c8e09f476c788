/*
 * check_progress.c — the live progress of a run (core/progress.c) and the
 * log's status line (core/log.c): the line's text on fixed numbers, its
 * truncation to a width, durations, the bytes a log message writes around
 * a status line, the periodic plain lines and the redrawn line of a
 * running progress over a hand-made search, quiet and off showing
 * nothing, and every bad run.progress value refused in one line.
 *
 * stderr is sent to a file while a test looks at it; no test measures
 * time, they only wait (bounded by the case's timeout) for lines to come.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf.h"
#include "graph.h"
#include "log.h"
#include "mock_host.h"
#include "progress.h"
#include "search.h"
#include "task.h"
#include "util.h"

#define CLR "\r\033[K"
#define FULL "nodes 12/40 \xc2\xb7 best auc 0.8734 (node 7) \xc2\xb7 3/4 busy \xc2\xb7 " \
	"1m12s, 8m48s left \xc2\xb7 12.3k tok"

static char *tmpdir;

static void
setup(void)
{
	tmpdir = aml_test_tmpdir();
	aml_log_set_level(AML_LOG_INFO);
}

static void
teardown(void)
{
	aml_test_rmtree(tmpdir);
	AML_FREE(tmpdir);
}

/* ---- stderr into a file ---- */

static int saved_fd = -1;
static char *err_path;

static void
capture_stderr(void)
{
	FILE *f;

	err_path = aml_path_join(tmpdir, "stderr.txt");
	ck_assert_ptr_nonnull(err_path);
	fflush(stderr);
	f = fopen(err_path, "w");
	ck_assert_ptr_nonnull(f);
	saved_fd = dup(2);
	ck_assert_int_ge(saved_fd, 0);
	ck_assert_int_ge(dup2(fileno(f), 2), 0);
	fclose(f);
}

/* What stderr got so far (transferred). */
static char *
captured(void)
{
	char err[AML_ERRLEN] = "", *text = NULL;

	fflush(stderr);
	ck_assert_msg(aml_read_file(err_path, 0, &text, NULL, err, sizeof err) == AML_OK,
		      "%s", err);
	return text;
}

/* Put stderr back; returns what it got (transferred). */
static char *
release_stderr(void)
{
	char *text = captured();

	dup2(saved_fd, 2);
	close(saved_fd);
	saved_fd = -1;
	AML_FREE(err_path);
	return text;
}

static size_t
count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (; (hay = strstr(hay, needle)) != NULL; hay += strlen(needle))
		n++;
	return n;
}

/* Wait until stderr holds at least n copies of needle; returns its text
 * (transferred).  Bounded by the test case's timeout, not by a clock. */
static char *
wait_for(const char *needle, size_t n)
{
	for (;;) {
		char *text = captured();

		if (count(text, needle) >= n)
			return text;
		free(text);
		usleep(2000);
	}
}

/* ---- a search made by hand: no plugins, no threads of its own ---- */

typedef struct fake {
	aml_search s;
	aml_context ctx;
	aml_task_info *task;
	aml_config *cfg;
} fake;

static void
fake_init(fake *f, const char *const *kv)
{
	char err[AML_ERRLEN] = "";
	aml_node *n;

	memset(f, 0, sizeof *f);
	ck_assert_int_eq(aml_config_new(&f->cfg, err, sizeof err), AML_OK);
	for (; kv && *kv; kv++)
		ck_assert_msg(aml_config_set_arg(f->cfg, *kv, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_task_load(SRCDIR "/tests/data/tasks/binproba", &f->task, err, sizeof err)
		      == AML_OK, "%s", err);
	aml_context_init(&f->ctx, f->cfg);
	f->s.cfg = f->cfg;
	f->s.ctx = &f->ctx;
	f->s.task = f->task;
	f->s.max_nodes = 10;
	f->s.workers = 4;
	f->s.time_limit_s = 3600;
	f->s.t0 = aml_now();
	pthread_mutex_init(&f->s.lock, NULL);
	pthread_cond_init(&f->s.changed, NULL);
	aml_graph_init(&f->s.graph, 1);
	/* node 0 buggy, node 1 valid (the best), node 2 under way */
	n = aml_graph_add(&f->s.graph, -1, "draft", "primary");
	n->status = AML_NODE_BUGGY;
	n = aml_graph_add(&f->s.graph, -1, "draft", "primary");
	n->status = AML_NODE_VALID;
	n->has_score = 1;
	n->score = 0.91;
	ck_assert_int_eq(aml_graph_finish(&f->s.graph, n), 1);
	aml_graph_add(&f->s.graph, -1, "draft", "primary");
	f->s.in_flight = 1;
	f->s.n_finished = 2;
}

static void
fake_free(fake *f)
{
	aml_graph_destroy(&f->s.graph);
	pthread_mutex_destroy(&f->s.lock);
	pthread_cond_destroy(&f->s.changed);
	aml_task_free(f->task);
	aml_config_free(f->cfg);
}

static aml_progress_snapshot
example(void)
{
	aml_progress_snapshot snap;

	memset(&snap, 0, sizeof snap);
	snap.done = 12;
	snap.max_nodes = 40;
	snap.metric = "auc";
	snap.has_best = 1;
	snap.best_node = 7;
	snap.best_score = 0.873412;
	snap.busy = 3;
	snap.workers = 4;
	snap.elapsed_s = 72.3;
	snap.left_s = 600 - 72.3;
	snap.has_tokens = 1;
	snap.tokens = 12345;
	return snap;
}

START_TEST(test_duration)
{
	char b[32];

	ck_assert_str_eq(aml_progress_duration(0, b, sizeof b), "0s");
	ck_assert_str_eq(aml_progress_duration(42.9, b, sizeof b), "42s");
	ck_assert_str_eq(aml_progress_duration(-5, b, sizeof b), "0s");
	ck_assert_str_eq(aml_progress_duration(60, b, sizeof b), "1m00s");
	ck_assert_str_eq(aml_progress_duration(72, b, sizeof b), "1m12s");
	ck_assert_str_eq(aml_progress_duration(3599.9, b, sizeof b), "59m59s");
	ck_assert_str_eq(aml_progress_duration(3600, b, sizeof b), "1h00m");
	ck_assert_str_eq(aml_progress_duration(7322, b, sizeof b), "2h02m");
	ck_assert_str_eq(aml_progress_duration(100 * 3600.0 + 59, b, sizeof b), "100h00m");
}
END_TEST

START_TEST(test_format)
{
	aml_progress_snapshot snap = example();
	char b[512];

	ck_assert_uint_eq(aml_progress_format(&snap, 0, b, sizeof b), strlen(FULL));
	ck_assert_str_eq(b, FULL);
	/* a wide enough terminal changes nothing */
	aml_progress_format(&snap, 200, b, sizeof b);
	ck_assert_str_eq(b, FULL);

	snap.has_best = 0;
	snap.has_tokens = 0;
	aml_progress_format(&snap, 0, b, sizeof b);
	ck_assert_str_eq(b, "nodes 12/40 \xc2\xb7 best auc: none yet \xc2\xb7 3/4 busy \xc2\xb7 "
			 "1m12s, 8m48s left");

	snap = example();
	snap.has_cost = 1;
	snap.cost = 0.4231;
	snap.max_cost = 5;
	snap.tokens = 999;
	snap.left_s = -3;          /* over time: nothing left, not negative */
	snap.best_score = 12345.678;
	snap.metric = NULL;
	aml_progress_format(&snap, 0, b, sizeof b);
	ck_assert_str_eq(b, "nodes 12/40 \xc2\xb7 best score 12345.7 (node 7) \xc2\xb7 3/4 busy "
			 "\xc2\xb7 1m12s, 0s left \xc2\xb7 999 tok \xc2\xb7 cost 0.4231 of 5");
	snap.max_cost = 0;
	snap.tokens = 1500000;
	aml_progress_format(&snap, 0, b, sizeof b);
	ck_assert_ptr_nonnull(strstr(b, " \xc2\xb7 1.5M tok \xc2\xb7 cost 0.4231"));
	ck_assert_ptr_null(strstr(b, " of "));
}
END_TEST

/* Terminal columns of UTF-8 text. */
static int
cols(const char *t)
{
	int n = 0;

	for (; *t; t++)
		n += ((unsigned char)*t & 0xc0) != 0x80;
	return n;
}

START_TEST(test_format_width)
{
	aml_progress_snapshot snap = example();
	char b[512];
	int w;

	/* whole parts, left off from the end */
	aml_progress_format(&snap, 40, b, sizeof b);
	ck_assert_str_eq(b, "nodes 12/40 \xc2\xb7 best auc 0.8734 (node 7)");
	aml_progress_format(&snap, 13, b, sizeof b);
	ck_assert_str_eq(b, "nodes 12/40");
	/* a first part wider than the line is cut */
	aml_progress_format(&snap, 5, b, sizeof b);
	ck_assert_str_eq(b, "nodes");
	/* every width: a prefix of the full line, within the width, never
	 * ending inside a character */
	for (w = 1; w < 120; w++) {
		size_t n = aml_progress_format(&snap, w, b, sizeof b);

		ck_assert_uint_eq(n, strlen(b));
		ck_assert_int_le(cols(b), w);
		ck_assert_msg(strncmp(FULL, b, n) == 0, "width %d: '%s'", w, b);
		ck_assert(n == 0 || ((unsigned char)b[n - 1] & 0xc0) != 0xc0);
	}
	/* a small buffer: cut, terminated */
	ck_assert_uint_eq(aml_progress_format(&snap, 0, b, 8), 7);
	ck_assert_str_eq(b, "nodes 1");
	ck_assert_uint_eq(aml_progress_format(&snap, 0, b, 14), 11);
	ck_assert_str_eq(b, "nodes 12/40");
}
END_TEST

START_TEST(test_status_line_and_log)
{
	char *text;

	capture_stderr();
	aml_info("before");
	aml_log_status("STATUS 1");
	aml_info("hello");
	aml_warn("careful");
	aml_debug("hidden");           /* below the level: the line stays as it is */
	aml_log_status("STATUS 2");
	aml_log_status(NULL);
	aml_log_status(NULL);          /* nothing shown: nothing to clear */
	aml_info("after");
	text = release_stderr();
	ck_assert_str_eq(text, "before\n"
			 CLR "STATUS 1"
			 CLR "hello\n" "STATUS 1"
			 CLR "automlgen: warning: careful\n" "STATUS 1"
			 CLR "STATUS 2"
			 CLR
			 "after\n");
	free(text);
}
END_TEST

START_TEST(test_status_not_in_run_log)
{
	char *log = aml_path_join(tmpdir, "run.log"), *text, err[AML_ERRLEN];

	capture_stderr();
	ck_assert_int_eq(aml_log_open_file(log), AML_OK);
	aml_log_status("STATUS");
	aml_info("hello");
	aml_log_status(NULL);
	aml_log_close_file();
	free(release_stderr());
	ck_assert_int_eq(aml_read_file(log, 0, &text, NULL, err, sizeof err), AML_OK);
	ck_assert_ptr_nonnull(strstr(text, " info hello\n"));
	ck_assert_ptr_null(strstr(text, "STATUS"));
	ck_assert_ptr_null(strchr(text, '\r'));
	free(text);
	free(log);
}
END_TEST

START_TEST(test_read)
{
	static const char *const kv[] = {"search.max_cost=2", NULL};
	aml_progress_snapshot snap;
	fake f;

	fake_init(&f, kv);
	f.s.max_cost = 2;
	aml_progress_read(&f.s, &snap);
	ck_assert_int_eq(snap.done, 2);          /* three nodes, one under way */
	ck_assert_int_eq(snap.max_nodes, 10);
	ck_assert_int_eq(snap.has_best, 1);
	ck_assert_int_eq(snap.best_node, 1);
	ck_assert(snap.best_score == 0.91);
	ck_assert_int_eq(snap.busy, 1);
	ck_assert_int_eq(snap.workers, 4);
	ck_assert_str_eq(snap.metric, aml_task_view(f.task)->metric);
	ck_assert(snap.elapsed_s >= 0 && snap.left_s <= 3600);
	ck_assert_int_eq(snap.has_tokens, 0);    /* no LLM layer */
	ck_assert_int_eq(snap.has_cost, 1);      /* a money budget */
	fake_free(&f);
}
END_TEST

START_TEST(test_plain_lines)
{
	static const char *const kv[] = {"run.progress=plain", "run.progress_every_s=0.001", NULL};
	char err[AML_ERRLEN] = "", *text, *line, *save = NULL, prefix[128];
	aml_progress *p = NULL;
	size_t lines = 0;
	fake f;

	fake_init(&f, kv);
	snprintf(prefix, sizeof prefix, "progress: nodes 2/10 \xc2\xb7 best %s 0.91 (node 1) "
		 "\xc2\xb7 1/4 busy \xc2\xb7 ", aml_task_view(f.task)->metric);
	capture_stderr();
	ck_assert_msg(aml_progress_start(&f.s, f.cfg, 0, &p, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_ptr_nonnull(p);
	free(wait_for("progress: ", 3));
	aml_progress_stop(p);
	text = release_stderr();
	ck_assert_ptr_null(strchr(text, '\r'));  /* no status line drawn */
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		ck_assert_msg(strncmp(line, prefix, strlen(prefix)) == 0, "'%s'", line);
		ck_assert_msg(strstr(line, " left") != NULL, "'%s'", line);
		lines++;
	}
	ck_assert_uint_ge(lines, 4);             /* three periodic, one final */
	free(text);
	fake_free(&f);
}
END_TEST

START_TEST(test_line_mode)
{
	static const char *const kv[] = {"run.progress=line", NULL};
	char err[AML_ERRLEN] = "", *text, *final, *drawn;
	aml_progress *p = NULL;
	fake f;

	fake_init(&f, kv);
	capture_stderr();
	ck_assert_msg(aml_progress_start(&f.s, f.cfg, 0, &p, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_ptr_nonnull(p);
	free(wait_for(CLR "nodes 2/10 ", 1));
	aml_info("a message");
	aml_progress_stop(p);
	text = release_stderr();
	/* drawn, cleared around the message and redrawn, cleared at the
	 * end, then the final numbers as a plain line */
	ck_assert_msg(strncmp(text, CLR "nodes 2/10 \xc2\xb7 ", strlen(CLR) + 14) == 0, "%s", text);
	ck_assert_ptr_nonnull(strstr(text, CLR "a message\nnodes 2/10 "));
	final = strstr(text, CLR "progress: nodes 2/10 ");
	ck_assert_msg(final != NULL, "%s", text);
	ck_assert_ptr_null(strchr(final + strlen(CLR), '\r'));
	ck_assert_ptr_nonnull(strstr(final, " left\n"));
	ck_assert(text[strlen(text) - 1] == '\n');
	/* each line drawn within the width (80 when stderr is no terminal,
	 * less one column) */
	*final = '\0';
	for (drawn = strstr(text, CLR); drawn; drawn = strstr(drawn, CLR)) {
		char *end, *nl;

		drawn += strlen(CLR);
		end = strstr(drawn, CLR);
		if (end)
			*end = '\0';
		nl = strrchr(drawn, '\n');
		ck_assert_int_le(cols(nl ? nl + 1 : drawn), 79);
		if (end == NULL)
			break;
		*end = '\r';
	}
	free(text);
	fake_free(&f);
}
END_TEST

START_TEST(test_quiet_and_off)
{
	static const char *const off[] = {"run.progress=off", NULL};
	static const char *const line[] = {"run.progress=line", NULL};
	char err[AML_ERRLEN] = "", *text;
	aml_progress *p = (aml_progress *)&p;
	fake f;

	fake_init(&f, line);
	capture_stderr();
	ck_assert_int_eq(aml_progress_start(&f.s, f.cfg, 1, &p, err, sizeof err), AML_OK);
	ck_assert_ptr_null(p);
	aml_progress_stop(p);                    /* NULL: a no-op */
	text = release_stderr();
	ck_assert_str_eq(text, "");
	free(text);
	fake_free(&f);

	fake_init(&f, off);
	p = (aml_progress *)&p;
	ck_assert_int_eq(aml_progress_start(&f.s, f.cfg, 0, &p, err, sizeof err), AML_OK);
	ck_assert_ptr_null(p);
	fake_free(&f);
}
END_TEST

/* Set one key, then check that aml_progress_config refuses it with msg. */
static void
refused(const char *kv, const char *msg)
{
	char err[AML_ERRLEN] = "";
	aml_progress_mode mode;
	aml_config *c = NULL;
	double every;

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(c, kv, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_progress_config(c, &mode, &every, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, msg) != NULL, "'%s' lacks '%s'", err, msg);
	ck_assert_ptr_null(strchr(err, '\n'));
	aml_config_free(c);
}

START_TEST(test_config)
{
	static const char *const names[] = {"auto", "line", "plain", "off"};
	static const aml_progress_mode modes[] = {AML_PROGRESS_AUTO, AML_PROGRESS_LINE,
						  AML_PROGRESS_PLAIN, AML_PROGRESS_OFF};
	char err[AML_ERRLEN] = "", kv[64];
	aml_progress_mode mode;
	aml_config *c = NULL;
	double every = 0;
	size_t i;

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_progress_config(c, &mode, &every, err, sizeof err), AML_OK);
	ck_assert_int_eq(mode, AML_PROGRESS_AUTO);     /* the defaults */
	ck_assert(every == 60);
	for (i = 0; i < 4; i++) {
		snprintf(kv, sizeof kv, "run.progress=%s", names[i]);
		ck_assert_int_eq(aml_config_set_arg(c, kv, err, sizeof err), AML_OK);
		ck_assert_int_eq(aml_progress_config(c, &mode, &every, err, sizeof err), AML_OK);
		ck_assert_int_eq(mode, modes[i]);
	}
	aml_config_free(c);
	refused("run.progress=sometimes",
		"-o: 'run.progress' must be auto, line, plain or off, got 'sometimes'");
	refused("run.progress=", "got ''");
	refused("run.progress=OFF", "got 'OFF'");
	refused("run.progress_every_s=0",
		"-o: 'run.progress_every_s' must be a number of seconds > 0, got '0'");
	refused("run.progress_every_s=-1", "must be a number of seconds > 0, got '-1'");
	refused("run.progress_every_s=inf", "must be a number of seconds > 0, got 'inf'");
	refused("run.progress_every_s=soon", "'run.progress_every_s' must be a number, got 'soon'");
}
END_TEST

START_TEST(test_start_refuses_bad_config)
{
	static const char *const kv[] = {"run.progress=sometimes", NULL};
	char err[AML_ERRLEN] = "";
	aml_progress *p = (aml_progress *)&p;
	fake f;

	fake_init(&f, kv);
	ck_assert_int_eq(aml_progress_start(&f.s, f.cfg, 0, &p, err, sizeof err), AML_EINVAL);
	ck_assert_ptr_null(p);
	ck_assert_ptr_nonnull(strstr(err, "'run.progress' must be"));
	/* quiet does not hide a bad value */
	ck_assert_int_eq(aml_progress_start(&f.s, f.cfg, 1, &p, err, sizeof err), AML_EINVAL);
	fake_free(&f);
}
END_TEST

/* `automlgen run` refuses a bad run.progress before anything runs: exit
 * 2, one line on stderr, even for a task folder that does not exist. */
START_TEST(test_cli_refuses)
{
	char cmd[8192], *path = aml_path_join(tmpdir, "err.txt"), *text, err[AML_ERRLEN];
	int status;

	snprintf(cmd, sizeof cmd, "'%s/automlgen' run /nonexistent/task -o run.progress=sometimes "
		 "-o run.dir='%s' >/dev/null 2>'%s'", BUILDDIR, tmpdir, path);
	status = system(cmd);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 2);
	ck_assert_int_eq(aml_read_file(path, 0, &text, NULL, err, sizeof err), AML_OK);
	ck_assert_str_eq(text, "automlgen: -o: 'run.progress' must be auto, line, plain or off, "
			 "got 'sometimes'\n");
	free(text);
	free(path);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("progress");
	TCase *tc = tcase_create("progress");

	tcase_set_timeout(tc, 120);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_duration);
	tcase_add_test(tc, test_format);
	tcase_add_test(tc, test_format_width);
	tcase_add_test(tc, test_status_line_and_log);
	tcase_add_test(tc, test_status_not_in_run_log);
	tcase_add_test(tc, test_read);
	tcase_add_test(tc, test_plain_lines);
	tcase_add_test(tc, test_line_mode);
	tcase_add_test(tc, test_quiet_and_off);
	tcase_add_test(tc, test_config);
	tcase_add_test(tc, test_start_refuses_bad_config);
	tcase_add_test(tc, test_cli_refuses);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
