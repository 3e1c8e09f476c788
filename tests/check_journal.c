/*
 * check_journal.c — the run's journal: lines from several threads never
 * interleave, a torn last line is tolerated and a bad middle line is not,
 * and a real run (kbsynth + the synthetic executor) journals every node
 * once created and once finished, between a start and a stop event.
 */
#include "config.h"

#include <check.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "journal.h"
#include "mock_host.h"
#include "run.h"
#include "util.h"

#define TASK BUILDDIR "/examples/tasks/breast_cancer"
#define THREADS 4
#define PER_THREAD 100

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

static aml_journal *shared;

static void *
writer(void *arg)
{
	long t = (long)arg, i;

	for (i = 0; i < PER_THREAD; i++) {
		json_object *ev = json_object_new_object();

		json_object_object_add(ev, "thread", json_object_new_int((int)t));
		json_object_object_add(ev, "i", json_object_new_int((int)i));
		/* a long line: a write split in pieces would show */
		json_object_object_add(ev, "pad", json_object_new_string(
			"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
		ck_assert_int_eq(aml_journal_append(shared, ev), AML_OK);
		json_object_put(ev);
	}
	return NULL;
}

typedef struct counts {
	size_t n, per_thread[THREADS], created, finished, backprop, start, stop;
	char seen_created[64], seen_finished[64];
	int first_is_start, last_is_stop;
	const char *last;
} counts;

static int
count_event(json_object *ev, void *ctx)
{
	counts *c = ctx;
	json_object *v;

	if (json_object_object_get_ex(ev, "thread", &v))
		c->per_thread[json_object_get_int(v)]++;
	if (json_object_object_get_ex(ev, "ev", &v)) {
		const char *name = json_object_get_string(v);
		json_object *id;
		int i = json_object_object_get_ex(ev, "id", &id) ? json_object_get_int(id) : -1;

		if (c->n == 0)
			c->first_is_start = strcmp(name, "start") == 0;
		c->last_is_stop = strcmp(name, "stop") == 0;
		if (strcmp(name, "created") == 0 && i >= 0 && i < 64) {
			c->created++;
			c->seen_created[i]++;
		} else if (strcmp(name, "finished") == 0 && i >= 0 && i < 64) {
			c->finished++;
			c->seen_finished[i]++;
			/* finished after its created */
			ck_assert_int_eq(c->seen_created[i], 1);
		} else if (strcmp(name, "backprop") == 0) {
			c->backprop++;
		}
	}
	c->n++;
	return 0;
}

START_TEST(test_threads_and_torn_lines)
{
	char err[AML_ERRLEN] = "", *path = aml_path_join(tmpdir, "journal.jsonl");
	pthread_t th[THREADS];
	counts c;
	size_t torn, i;
	FILE *f;

	ck_assert_int_eq(aml_journal_open(path, &shared, err, sizeof err), AML_OK);
	for (i = 0; i < THREADS; i++)
		ck_assert_int_eq(pthread_create(&th[i], NULL, writer, (void *)(long)i), 0);
	for (i = 0; i < THREADS; i++)
		pthread_join(th[i], NULL);
	aml_journal_close(shared);
	memset(&c, 0, sizeof c);
	ck_assert_msg(aml_journal_read(path, count_event, &c, &torn, err, sizeof err) == AML_OK,
		      "%s", err);
	ck_assert_uint_eq(c.n, THREADS * PER_THREAD);
	ck_assert_uint_eq(torn, 0);
	for (i = 0; i < THREADS; i++)
		ck_assert_uint_eq(c.per_thread[i], PER_THREAD);
	/* a write cut short by a crash: the rest still reads */
	f = fopen(path, "a");
	ck_assert_ptr_nonnull(f);
	fputs("{\"thread\": 0, \"i\": 100, \"pa", f);
	fclose(f);
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(aml_journal_read(path, count_event, &c, &torn, err, sizeof err), AML_OK);
	ck_assert_uint_eq(c.n, THREADS * PER_THREAD);
	ck_assert_uint_eq(torn, 1);
	/* appending after a torn line starts a new line: still one torn */
	f = fopen(path, "a");
	fputs("\n{\"thread\": 1}\n", f);
	fclose(f);
	memset(&c, 0, sizeof c);
	ck_assert_int_eq(aml_journal_read(path, count_event, &c, &torn, err, sizeof err),
			 AML_EFORMAT);
	ck_assert_msg(strstr(err, "journal.jsonl:401: not a JSON object") != NULL, "%s", err);
	free(path);
}
END_TEST

START_TEST(test_run_journal)
{
	char err[AML_ERRLEN] = "", buf[4200], *path;
	const char *kv[] = {"executor=synthetic", "review.enabled=false", "log.level=warning",
			    "search.max_nodes=40", "executor.synthetic.fail_rate=0.3",
			    _i ? "run.journal=false" : "run.journal=true", NULL};
	aml_config *cfg = NULL;
	aml_run_result res;
	counts c;
	size_t i, torn;

	ck_assert_int_eq(aml_config_new(&cfg, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "run.dir=%s", tmpdir);
	ck_assert_int_eq(aml_config_set_arg(cfg, buf, err, sizeof err), AML_OK);
	for (i = 0; kv[i]; i++)
		ck_assert_msg(aml_config_set_arg(cfg, kv[i], err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_run(cfg, TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	path = aml_path_join(res.run_dir, "journal.jsonl");
	if (_i) {
		ck_assert(!aml_is_file(path));
	} else {
		memset(&c, 0, sizeof c);
		ck_assert_msg(aml_journal_read(path, count_event, &c, &torn, err, sizeof err)
			      == AML_OK, "%s", err);
		ck_assert_uint_eq(torn, 0);
		ck_assert(c.first_is_start && c.last_is_stop);
		ck_assert_uint_eq(c.created, 40);
		ck_assert_uint_eq(c.finished, 40);
		ck_assert_uint_eq(c.backprop, 40);
		for (i = 0; i < 40; i++)
			ck_assert(c.seen_created[i] == 1 && c.seen_finished[i] == 1);
	}
	free(path);
	aml_run_result_free(&res);
	aml_config_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");

	tcase_set_timeout(tc, 300);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_threads_and_torn_lines);
	tcase_add_loop_test(tc, test_run_journal, 0, 2);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
