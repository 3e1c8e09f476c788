/*
 * check_resume.c — runs that survive their process: `automlgen run`
 * killed with SIGKILL at random moments and `automlgen resume`d until it
 * completes (no finished node lost or run twice), Ctrl-C (SIGINT) that
 * stops cleanly and leaves a resumable run, a second Ctrl-C that exits at
 * once, a finished run given more budget, a faithful replay, and the
 * refusals (no journal, no start event, a changed policy).
 *
 * The runs use the synthetic executor (no Python per candidate), so a
 * search of a few dozen nodes takes well under a second and the kills
 * land anywhere in it.
 */
#include "config.h"

#include <check.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "interrupt.h"
#include "mock_host.h"
#include "util.h"

#define BIN BUILDDIR "/automlgen"
#define TASK BUILDDIR "/examples/tasks/iris"
#define NODES 16
#define KILL_RUNS 20

extern char **environ;

static char *tmpdir;

static void
setup(void)
{
	tmpdir = aml_test_tmpdir();
}

static void
teardown(void)
{
	aml_test_rmtree(tmpdir);
	AML_FREE(tmpdir);
}

/* Start the program with the common options and extra args (NULL-ended);
 * its output goes to files in tmpdir named after tag. */
static pid_t
start(const char *tag, const char *first, ...)
{
	const char *argv[48];
	char outp[512], errp[512], rundir[512];
	posix_spawn_file_actions_t fa;
	va_list ap;
	pid_t pid;
	int n = 0;

	argv[n++] = BIN;
	va_start(ap, first);
	for (const char *a = first; a && n < 30; a = va_arg(ap, const char *))
		argv[n++] = a;
	va_end(ap);
	snprintf(rundir, sizeof rundir, "run.dir=%s", tmpdir);
	argv[n++] = "-o";
	argv[n++] = strdup(rundir);
	argv[n] = NULL;
	snprintf(outp, sizeof outp, "%s/%s.out", tmpdir, tag);
	snprintf(errp, sizeof errp, "%s/%s.err", tmpdir, tag);
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, outp, O_WRONLY | O_CREAT | O_APPEND, 0644);
	posix_spawn_file_actions_addopen(&fa, 2, errp, O_WRONLY | O_CREAT | O_APPEND, 0644);
	ck_assert_int_eq(posix_spawn(&pid, BIN, &fa, NULL, (char **)argv, environ), 0);
	posix_spawn_file_actions_destroy(&fa);
	free((char *)argv[n - 1]);
	return pid;
}

/* Wait for pid; its exit status, or 1000 + signal. */
static int
reap(pid_t pid)
{
	int st;

	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1000 + WTERMSIG(st);
}

static char *
slurp(const char *path)
{
	char *t = NULL;

	if (aml_read_file(path, 0, &t, NULL, NULL, 0) != AML_OK)
		return strdup("");
	return t;
}

static size_t
count_lines(const char *path)
{
	char *t = slurp(path), *p;
	size_t n = 0;

	for (p = t; *p; p++)
		n += *p == '\n';
	free(t);
	return n;
}

static void
sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	while (nanosleep(&ts, &ts) != 0)
		;
}

/* Wait until the journal of run has at least lines whole lines, or the
 * process ended; 1 when it got there. */
static int
wait_lines(pid_t pid, const char *journal, size_t lines)
{
	int st, i;

	for (i = 0; i < 30000; i++) { /* 5 minutes at most, never in practice */
		if (count_lines(journal) >= lines)
			return 1;
		if (waitpid(pid, &st, WNOHANG) == pid)
			return -1; /* reaped: the caller must not reap again */
		sleep_s(0.01);
	}
	return 0;
}

/* The journal's events, checked: each node created once and finished
 * once at most; *finished set to how many finished; returns the events
 * (caller frees). */
typedef struct jstats {
	size_t created, finished, backprop, starts, resumes, stops, interrupted, scripted;
	int seen_created[256], seen_finished[256];
	double score[256];
	int has_score[256];
	char last_stop[256];
} jstats;

static void
read_journal(const char *path, jstats *js)
{
	char *t = slurp(path), *line, *save = NULL;

	memset(js, 0, sizeof *js);
	for (line = strtok_r(t, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		json_object *ev = json_tokener_parse(line), *v;
		const char *name;
		int id = -1;

		ck_assert_msg(ev != NULL, "%s: a line that does not parse: %s", path, line);
		ck_assert(json_object_object_get_ex(ev, "ev", &v));
		name = json_object_get_string(v);
		if (json_object_object_get_ex(ev, "id", &v))
			id = json_object_get_int(v);
		if (strcmp(name, "created") == 0) {
			ck_assert_int_ge(id, 0);
			ck_assert_int_lt(id, 256);
			ck_assert_msg(js->seen_created[id] == 0, "node %d created twice", id);
			js->seen_created[id] = 1;
			js->created++;
		} else if (strcmp(name, "finished") == 0) {
			ck_assert_msg(id >= 0 && id < 256 && js->seen_created[id],
				      "node %d finished before it was created", id);
			ck_assert_msg(js->seen_finished[id] == 0, "node %d finished twice", id);
			js->seen_finished[id] = 1;
			js->finished++;
			if (json_object_object_get_ex(ev, "score", &v) && v) {
				js->has_score[id] = 1;
				js->score[id] = json_object_get_double(v);
			}
		} else if (strcmp(name, "backprop") == 0) {
			js->backprop++;
		} else if (strcmp(name, "start") == 0) {
			js->starts++;
		} else if (strcmp(name, "resume") == 0) {
			js->resumes++;
		} else if (strcmp(name, "stop") == 0) {
			js->stops++;
			ck_assert(json_object_object_get_ex(ev, "reason", &v));
			snprintf(js->last_stop, sizeof js->last_stop, "%s", json_object_get_string(v));
		} else if (strcmp(name, "interrupted") == 0) {
			js->interrupted++;
		} else if (strcmp(name, "scripted") == 0) {
			js->scripted++;
		}
		json_object_put(ev);
	}
	free(t);
}

static json_object *
summary_of(const char *rundir)
{
	char path[512];
	json_object *o;

	snprintf(path, sizeof path, "%s/summary.json", rundir);
	o = json_object_from_file(path);
	ck_assert_msg(o != NULL, "no summary.json in %s", rundir);
	return o;
}

static int
get_int(json_object *o, const char *k)
{
	json_object *v;

	ck_assert_msg(json_object_object_get_ex(o, k, &v), "no %s", k);
	return json_object_get_int(v);
}

/* A completed run of NODES nodes: every node created, finished and
 * backpropagated exactly once, none pending, node.json for each, the
 * best the best score the journal recorded. */
static void
check_complete(const char *rundir, size_t nodes)
{
	char path[512];
	json_object *sum = summary_of(rundir), *by, *v;
	jstats js;
	size_t i;
	int best = -1;

	snprintf(path, sizeof path, "%s/journal.jsonl", rundir);
	read_journal(path, &js);
	ck_assert_uint_eq(js.created, nodes);
	ck_assert_uint_eq(js.finished, nodes);
	ck_assert_uint_eq(js.backprop, nodes);
	ck_assert_uint_eq(js.starts, 1);
	ck_assert_int_eq(get_int(sum, "nodes_total"), (int)nodes);
	ck_assert(json_object_object_get_ex(sum, "nodes_by_status", &by));
	ck_assert_int_eq(get_int(by, "pending"), 0);
	for (i = 0; i < nodes; i++) {
		json_object *nj;

		snprintf(path, sizeof path, "%s/nodes/%04zu/node.json", rundir, i);
		nj = json_object_from_file(path);
		ck_assert_msg(nj != NULL, "no %s", path);
		ck_assert(json_object_object_get_ex(nj, "score", &v));
		ck_assert_int_eq(v != NULL, js.has_score[i]);
		if (v)
			ck_assert(json_object_get_double(v) == js.score[i]);
		json_object_put(nj);
		if (js.has_score[i] && (best < 0 || js.score[i] > js.score[best]))
			best = (int)i;
	}
	/* iris: accuracy, higher is better; a flagged node could be skipped,
	 * but the review is off in these runs */
	ck_assert(json_object_object_get_ex(sum, "best_node", &v));
	ck_assert_int_ge(best, 0);
	ck_assert(js.score[json_object_get_int(v)] == js.score[best]);
	json_object_put(sum);
}

#define COMMON "-q", "-o", "executor=synthetic", "-o", "review.enabled=false", \
	"-o", "executor.synthetic.fail_rate=0.25", "-o", "executor.synthetic.latency_s=0.03"

/* The loop: runs killed with SIGKILL at random moments (by the
 * journal's length, so the kills land anywhere in the search: between a
 * node's creation and its end, between its end and its record...) and
 * resumed, killed again some of the time, until each completes. */
START_TEST(kill_and_resume_loop)
{
	unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
	int r, kills = 0, mid = 0;

	fprintf(stderr, "kill_and_resume_loop: seed %u\n", seed);
	srand(seed);
	for (r = 0; r < KILL_RUNS; r++) {
		char name[32], opt[96], rundir[512], journal[600], tag[96], *err;
		char nodes[64], workers[64], policy[64];
		pid_t pid;
		int round, rc, reaped;

		snprintf(name, sizeof name, "k%02d", r);
		snprintf(opt, sizeof opt, "run.name=%s", name);
		snprintf(nodes, sizeof nodes, "search.max_nodes=%d", NODES);
		snprintf(workers, sizeof workers, "search.workers=%d", 1 + r % 3);
		snprintf(policy, sizeof policy, "search.policy=%s",
			 (const char *[]){"mcgs", "mcts", "greedy"}[(r / 3) % 3]);
		snprintf(rundir, sizeof rundir, "%s/%s", tmpdir, name);
		snprintf(journal, sizeof journal, "%s/journal.jsonl", rundir);
		snprintf(tag, sizeof tag, "%s-0", name);
		pid = start(tag, "run", TASK, COMMON, "-o", opt, "-o", nodes, "-o", workers,
			    "-o", policy, (char *)NULL);
		for (round = 0;; round++) {
			/* about 4 lines per node plus start and stop; kill
			 * twice at most, the last round runs to its end */
			size_t at = 1 + (size_t)rand() % (3 * NODES);

			if (round < 2 && (round == 0 || rand() % 2)) {
				reaped = wait_lines(pid, journal, at);
				if (reaped == 1) {
					kill(pid, SIGKILL);
					rc = reap(pid);
					ck_assert_int_eq(rc, 1000 + SIGKILL);
					kills++;
					mid += at > 1;
				} else if (reaped == 0) {
					ck_abort_msg("%s: the journal never reached %zu lines", name, at);
				}
			} else {
				rc = reap(pid);
				snprintf(tag, sizeof tag, "%s-%d", name, round);
				{
					char p[600];

					snprintf(p, sizeof p, "%s/%s.err", tmpdir, tag);
					err = slurp(p);
				}
				ck_assert_msg(rc == 0, "%s round %d: exit %d: %s", name, round, rc, err);
				ck_assert_msg(strstr(err, "replay as") == NULL,
					      "%s: the replay was not faithful: %s", name, err);
				free(err);
				break;
			}
			snprintf(tag, sizeof tag, "%s-%d", name, round + 1);
			pid = start(tag, "resume", rundir, COMMON, (char *)NULL);
		}
		check_complete(rundir, NODES);
	}
	/* the loop must have killed mid-search, not only at the start */
	ck_assert_int_ge(kills, KILL_RUNS);
	ck_assert_int_ge(mid, KILL_RUNS / 2);
}
END_TEST

/* Ctrl-C: the running candidates are stopped, the journal closed with a
 * stop event, the best submission and the summary written, exit 130;
 * the run resumes to completion. */
START_TEST(ctrl_c_stops_cleanly_and_resumes)
{
	char rundir[512], journal[600], path[600], *out;
	json_object *sum, *by;
	jstats js;
	pid_t pid;
	int rc;

	snprintf(rundir, sizeof rundir, "%s/c", tmpdir);
	snprintf(journal, sizeof journal, "%s/journal.jsonl", rundir);
	pid = start("c0", "run", TASK, "-q", "-o", "executor=synthetic", "-o",
		    "review.enabled=false", "-o", "executor.synthetic.latency_s=30", "-o",
		    "run.name=c", "-o", "search.max_nodes=6", "-o", "search.workers=2",
		    "-o", "exec.timeout_s=60", (char *)NULL);
	/* both workers' scripts are running (30 s each) */
	while (1) {
		read_journal(journal, &js);
		if (js.scripted >= 2)
			break;
		ck_assert_int_eq(waitpid(pid, &rc, WNOHANG), 0);
		sleep_s(0.02);
	}
	sleep_s(0.2);
	kill(pid, SIGINT);
	rc = reap(pid);
	snprintf(path, sizeof path, "%s/c0.out", tmpdir);
	out = slurp(path);
	ck_assert_msg(rc == 130, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "automlgen resume") != NULL, "%s", out);
	free(out);
	read_journal(journal, &js);
	ck_assert_uint_eq(js.stops, 1);
	ck_assert_msg(strstr(js.last_stop, "interrupted") != NULL, "%s", js.last_stop);
	ck_assert_uint_eq(js.finished, 0);
	ck_assert_uint_eq(js.interrupted, 2);
	sum = summary_of(rundir);
	ck_assert(json_object_object_get_ex(sum, "nodes_by_status", &by));
	ck_assert_int_eq(get_int(by, "pending"), 2);
	json_object_put(sum);

	/* the resume runs the two cut short again, with their scripts; one
	 * worker, so one of them waits while the other runs, and the
	 * progress lines count neither as done until it is */
	pid = start("c1", "resume", rundir, "-o", "executor.synthetic.latency_s=0.4",
		    "-o", "search.workers=1", "-o", "run.progress=plain",
		    "-o", "run.progress_every_s=0.1", (char *)NULL);
	rc = reap(pid);
	snprintf(path, sizeof path, "%s/c1.err", tmpdir);
	out = slurp(path);
	ck_assert_msg(rc == 0 || rc == 1, "exit %d: %s", rc, out);
	ck_assert_msg(strstr(out, "running again the script") != NULL, "%s", out);
	ck_assert_msg(strstr(out, "progress: nodes ") != NULL, "%s", out);
	ck_assert_msg(strncmp(strstr(out, "progress: nodes "), "progress: nodes 0/6 ", 20) == 0,
		      "the first progress line counts a pending node as done: %s", out);
	free(out);
	check_complete(rundir, 6);
}
END_TEST

/* A second Ctrl-C exits at once, without waiting for anything. */
START_TEST(second_ctrl_c_exits_at_once)
{
	char rundir[512], journal[600];
	jstats js;
	pid_t pid;
	int rc;

	snprintf(rundir, sizeof rundir, "%s/d", tmpdir);
	snprintf(journal, sizeof journal, "%s/journal.jsonl", rundir);
	/* a script that ignores SIGTERM would hold up a clean stop for the
	 * executor's grace period; the second signal does not wait for it */
	pid = start("d0", "run", TASK, "-q", "-o", "executor=synthetic", "-o",
		    "review.enabled=false", "-o", "executor.synthetic.latency_s=30", "-o",
		    "run.name=d", "-o", "search.max_nodes=4", "-o", "search.workers=1",
		    "-o", "exec.timeout_s=60", (char *)NULL);
	do {
		read_journal(journal, &js);
		ck_assert_int_eq(waitpid(pid, &rc, WNOHANG), 0);
		sleep_s(0.02);
	} while (js.scripted < 1);
	kill(pid, SIGINT);
	sleep_s(0.01);
	kill(pid, SIGINT);
	rc = reap(pid);
	ck_assert_int_eq(rc, 130);
	/* whatever it managed, the run resumes */
	pid = start("d1", "resume", rundir, "-o", "executor.synthetic.latency_s=0.01", (char *)NULL);
	rc = reap(pid);
	ck_assert_msg(rc == 0 || rc == 1, "exit %d", rc);
	check_complete(rundir, 4);
}
END_TEST

/* The handler itself: the first SIGINT sets the flag and the process goes
 * on; the second ends it at once with 130, whatever it was doing. */
START_TEST(second_signal_exits_the_process)
{
	pid_t pid = fork();
	int st;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		if (aml_interrupt_install() != 0 || aml_interrupted())
			_exit(3);
		raise(SIGINT);
		if (!aml_interrupted() || *aml_interrupt_flag() == 0)
			_exit(4);
		raise(SIGINT);
		_exit(5); /* never reached */
	}
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st));
	ck_assert_int_eq(WEXITSTATUS(st), 130);
	/* and in this process, raise/reset work without a handler */
	aml_interrupt_raise();
	ck_assert(aml_interrupted());
	aml_interrupt_reset();
	ck_assert(!aml_interrupted());
}
END_TEST

/* A finished run given more nodes goes on from where it stopped; one
 * given nothing more does nothing and its replay is faithful. */
START_TEST(finished_run_gets_more_budget)
{
	char rundir[512], path[600], *err;
	json_object *sum, *v;
	double best0;
	jstats js;
	pid_t pid;

	snprintf(rundir, sizeof rundir, "%s/m", tmpdir);
	pid = start("m0", "run", TASK, COMMON, "-o", "run.name=m", "-o", "search.max_nodes=8",
		    "-o", "search.workers=2", (char *)NULL);
	ck_assert_int_eq(reap(pid), 0);
	sum = summary_of(rundir);
	ck_assert(json_object_object_get_ex(sum, "best_score", &v));
	best0 = json_object_get_double(v);
	json_object_put(sum);

	pid = start("m1", "resume", rundir, (char *)NULL);
	ck_assert_int_eq(reap(pid), 0);
	snprintf(path, sizeof path, "%s/m1.err", tmpdir);
	err = slurp(path);
	ck_assert_msg(strstr(err, "replay as") == NULL, "%s", err);
	free(err);
	check_complete(rundir, 8);

	pid = start("m2", "resume", rundir, "-o", "search.max_nodes=20", (char *)NULL);
	ck_assert_int_eq(reap(pid), 0);
	snprintf(path, sizeof path, "%s/journal.jsonl", rundir);
	read_journal(path, &js);
	ck_assert_uint_eq(js.resumes, 2);
	check_complete(rundir, 20);
	sum = summary_of(rundir);
	ck_assert(json_object_object_get_ex(sum, "best_score", &v));
	ck_assert(json_object_get_double(v) >= best0);
	json_object_put(sum);
}
END_TEST

/* One clear line, exit 2, for what cannot be resumed. */
START_TEST(refusals)
{
	char rundir[512], path[600], *err;
	pid_t pid;
	FILE *f;

	/* not a run directory */
	pid = start("r0", "resume", tmpdir, (char *)NULL);
	ck_assert_int_eq(reap(pid), 2);
	snprintf(path, sizeof path, "%s/r0.err", tmpdir);
	err = slurp(path);
	ck_assert_msg(strstr(err, "config.yaml") != NULL, "%s", err);
	free(err);

	snprintf(rundir, sizeof rundir, "%s/p", tmpdir);
	pid = start("p0", "run", TASK, COMMON, "-o", "run.name=p", "-o", "search.max_nodes=3",
		    (char *)NULL);
	ck_assert_int_eq(reap(pid), 0);
	/* another policy */
	pid = start("r1", "resume", rundir, "-o", "search.policy=greedy", (char *)NULL);
	ck_assert_int_eq(reap(pid), 2);
	snprintf(path, sizeof path, "%s/r1.err", tmpdir);
	err = slurp(path);
	ck_assert_msg(strstr(err, "keeps its policy") != NULL, "%s", err);
	free(err);
	/* a journal without its start */
	snprintf(path, sizeof path, "%s/journal.jsonl", rundir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"ev\":\"created\",\"id\":0,\"parent\":-1,\"op\":\"draft\",\"mode\":\"primary\"}\n", f);
	fclose(f);
	pid = start("r2", "resume", rundir, (char *)NULL);
	ck_assert_int_eq(reap(pid), 2);
	snprintf(path, sizeof path, "%s/r2.err", tmpdir);
	err = slurp(path);
	ck_assert_msg(strstr(err, "start event") != NULL, "%s", err);
	free(err);
}
END_TEST

/* A torn last line is cut off, and the events after it append cleanly. */
START_TEST(torn_last_line_is_repaired)
{
	char rundir[512], path[600];
	jstats js;
	pid_t pid;
	FILE *f;

	snprintf(rundir, sizeof rundir, "%s/t", tmpdir);
	pid = start("t0", "run", TASK, COMMON, "-o", "run.name=t", "-o", "search.max_nodes=4",
		    (char *)NULL);
	ck_assert_int_eq(reap(pid), 0);
	snprintf(path, sizeof path, "%s/journal.jsonl", rundir);
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("{\"id\":3,\"status\":\"va", f);
	fclose(f);
	pid = start("t1", "resume", rundir, "-o", "search.max_nodes=6", (char *)NULL);
	ck_assert_int_eq(reap(pid), 0);
	read_journal(path, &js); /* every line parses */
	check_complete(rundir, 6);
}
END_TEST

static Suite *
suite(void)
{
	Suite *s = suite_create("resume");
	TCase *tc = tcase_create("resume");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 1800);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, torn_last_line_is_repaired);
	tcase_add_test(tc, finished_run_gets_more_budget);
	tcase_add_test(tc, ctrl_c_stops_cleanly_and_resumes);
	tcase_add_test(tc, second_ctrl_c_exits_at_once);
	tcase_add_test(tc, second_signal_exits_the_process);
	tcase_add_test(tc, kill_and_resume_loop);
	suite_add_tcase(s, tc);
	return s;
}

int
main(void)
{
	SRunner *sr = srunner_create(suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
