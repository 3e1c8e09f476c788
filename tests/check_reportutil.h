/*
 * check_reportutil.h — helpers shared by the report tests (check_report.c,
 * check_report_browser.c): a fast real run with the synthetic executor,
 * planting a hostile script in one of its nodes, reading files and
 * counting substrings.  Header-only: each test program includes it once.
 */
#ifndef AML_CHECK_REPORTUTIL_H
#define AML_CHECK_REPORTUTIL_H

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "mock_host.h"
#include "run.h"
#include "util.h"

#define RT_TASK BUILDDIR "/examples/tasks/iris"
/* What a hostile script or reason would try; the report must keep it text. */
#define RT_INJECT "</script><script>alert(1)</script><!--"

/* Run the iris example with the synthetic executor into dir/name: nodes
 * nodes, a fifth of them failing in every way it knows.  Returns the run
 * directory (transferred). */
static inline char *
rt_run(const char *dir, const char *name, int nodes)
{
	char err[AML_ERRLEN] = "", buf[4200];
	aml_config *c = NULL;
	aml_run_result res;
	char *path;
	size_t i;
	static const char *const base[] = {
		"executor=synthetic", "log.level=error", "search.time_limit_s=600",
		"executor.synthetic.fail_rate=0.2",
		"executor.synthetic.fail_modes=crash,timeout,no_score,invalid_submission",
		/* its submissions are the sample's, which the review would flag */
		"review.enabled=false", NULL,
	};

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "run.dir=%s", dir);
	ck_assert_int_eq(aml_config_set_arg(c, buf, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "run.name=%s", name);
	ck_assert_int_eq(aml_config_set_arg(c, buf, err, sizeof err), AML_OK);
	snprintf(buf, sizeof buf, "search.max_nodes=%d", nodes);
	ck_assert_int_eq(aml_config_set_arg(c, buf, err, sizeof err), AML_OK);
	for (i = 0; base[i]; i++)
		ck_assert_msg(aml_config_set_arg(c, base[i], err, sizeof err) == AML_OK, "%s", err);
	ck_assert_msg(aml_run(c, RT_TASK, &res, err, sizeof err) == AML_OK, "%s", err);
	path = strdup(res.run_dir);
	aml_run_result_free(&res);
	aml_config_free(c);
	return path;
}

/* The whole of dir/rel (transferred), failing the test when unreadable. */
static inline char *
rt_read(const char *dir, const char *rel)
{
	char err[AML_ERRLEN] = "", *p = aml_path_join(dir, rel), *text = NULL, *copy;

	ck_assert_msg(aml_read_file(p, 0, &text, NULL, err, sizeof err) == AML_OK, "%s", err);
	free(p);
	/* a copy: gcc's -Wdangling-pointer takes &text for the result's home */
	copy = strdup(text);
	free(text);
	ck_assert_ptr_nonnull(copy);
	return copy;
}

static inline void
rt_write(const char *dir, const char *rel, const char *text)
{
	char err[AML_ERRLEN] = "", *p = aml_path_join(dir, rel);

	ck_assert_msg(aml_write_file(p, text, strlen(text), err, sizeof err) == AML_OK, "%s", err);
	free(p);
}

/* Plant RT_INJECT in a node's script (a child's, so it shows in a diff)
 * and in its reason and operator name in summary.json; returns its id. */
static inline int
rt_plant(const char *run_dir)
{
	char *text = rt_read(run_dir, "summary.json"), rel[64], *code;
	json_object *sum = json_tokener_parse(text), *nodes, *n = NULL;
	aml_sb b = {0};
	size_t i;
	int id = -1;

	ck_assert_ptr_nonnull(sum);
	ck_assert(json_object_object_get_ex(sum, "nodes", &nodes));
	for (i = 0; i < json_object_array_length(nodes) && id < 0; i++) {
		json_object *p, *nid;
		char *path;

		n = json_object_array_get_idx(nodes, i);
		ck_assert(json_object_object_get_ex(n, "id", &nid));
		ck_assert(json_object_object_get_ex(n, "parent", &p));
		snprintf(rel, sizeof rel, "nodes/%04d/solution.py", json_object_get_int(nid));
		path = aml_path_join(run_dir, rel);
		if (json_object_get_int(p) >= 0 && aml_is_file(path))
			id = json_object_get_int(nid);
		free(path);
	}
	ck_assert_int_ge(id, 0);
	json_object_object_add(n, "reason", json_object_new_string("reason " RT_INJECT));
	json_object_object_add(n, "operator", json_object_new_string("<b>op</b>" RT_INJECT));
	rt_write(run_dir, "summary.json", json_object_to_json_string(sum));
	json_object_put(sum);
	free(text);
	code = rt_read(run_dir, rel);
	aml_sb_printf(&b, "# %s\n%s\nprint('%s')\n", RT_INJECT, code, RT_INJECT);
	ck_assert(!b.oom);
	rt_write(run_dir, rel, b.s);
	aml_sb_free(&b);
	free(code);
	return id;
}

static inline size_t
rt_count(const char *hay, const char *needle)
{
	size_t n = 0, l = strlen(needle);

	for (hay = strstr(hay, needle); hay; hay = strstr(hay + l, needle))
		n++;
	return n;
}

#endif
