/*
 * check_llm.c — the core's LLM door (core/llm.c): roles routed to their
 * providers, accounting per role by the price table, the cassette it
 * records; and the replay provider that answers from a cassette (exact,
 * loose and hand-written entries, recorded failures, exhaustion, a broken
 * cassette).  Providers are real plugins loaded through the registry:
 * tp-good (tests/plugins/testplugin.c) and replay.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "host.h"
#include "llm.h"
#include "loader.h"
#include "mock_host.h"
#include "registry.h"
#include "util.h"

static char saved_path[8192];
static char *tmp;
static aml_registry *reg;

static void
setup(void)
{
	const char *p = getenv("AUTOMLGEN_PLUGIN_PATH");
	char buf[16400], err[AML_ERRLEN] = "";

	snprintf(saved_path, sizeof saved_path, "%s", p ? p : "");
	snprintf(buf, sizeof buf, "%s/tests/data/plugins:%s", SRCDIR, saved_path);
	setenv("AUTOMLGEN_PLUGIN_PATH", buf, 1);
	tmp = aml_test_tmpdir();
	ck_assert_msg(aml_registry_scan(NULL, &reg, err, sizeof err) == AML_OK, "%s", err);
}

static void
teardown(void)
{
	aml_registry_free(reg);
	aml_test_rmtree(tmp);
	free(tmp);
	setenv("AUTOMLGEN_PLUGIN_PATH", saved_path, 1);
}

static aml_config *
config(const char *const *kv)
{
	char err[AML_ERRLEN] = "";
	aml_config *c = NULL;

	ck_assert_int_eq(aml_config_new(&c, err, sizeof err), AML_OK);
	for (; kv && *kv; kv++)
		ck_assert_msg(aml_config_set_arg(c, *kv, err, sizeof err) == AML_OK, "%s: %s", *kv, err);
	return c;
}

/* Load and initialise provider name into slot, as a run does. */
static aml_plugin *
open_provider(const char *name, const char *slot, aml_context *ctx, int expect_rc, char *err)
{
	const aml_manifest *m = aml_registry_find(reg, AML_KIND_PROVIDER, name, err, AML_ERRLEN);
	aml_plugin *p = NULL;
	int rc;

	ck_assert_msg(m != NULL, "%s", err);
	ck_assert_msg(aml_plugin_load(m, slot, &p, err, AML_ERRLEN) == AML_OK, "%s", err);
	rc = aml_host_check_params(p, ctx->cfg, err, AML_ERRLEN);
	if (rc == AML_OK)
		rc = aml_plugin_init(p, ctx, err, AML_ERRLEN);
	ck_assert_msg(rc == expect_rc, "rc %d: %s", rc, err);
	if (rc != AML_OK) {
		aml_plugin_close(p);
		return NULL;
	}
	return p;
}

static void
write_text(const char *path, const char *text)
{
	char err[AML_ERRLEN] = "";

	ck_assert_msg(aml_write_file(path, text, strlen(text), err, sizeof err) == AML_OK, "%s", err);
}

static char *
path_in_tmp(const char *name)
{
	char *p = aml_path_join(tmp, name);

	ck_assert_ptr_nonnull(p);
	return p;
}

static int
ask(aml_llm *l, const char *role, const char *user, const char *structured,
    char **text, char *err)
{
	aml_llm_request req;
	aml_llm_response resp;
	int rc;

	memset(&req, 0, sizeof req);
	req.role = role;
	req.system = "sys";
	req.user = user;
	req.structured = structured;
	req.temperature = -1;
	rc = aml_llm_call(l, &req, &resp, err, AML_ERRLEN);
	*text = resp.text;
	free(resp.model);
	return rc;
}

/* Roles go to their providers; the feedback role falls back to the code
 * provider; tokens and money are counted per role; every call is on the
 * cassette, and no config secret is. */
START_TEST(test_roles_accounting_record)
{
	char *cas = path_in_tmp("rec.jsonl"), *fb = path_in_tmp("fb.jsonl");
	char arg_rec[4200], arg_fb[4200], err[AML_ERRLEN] = "", *text, *data;
	const char *kv[9];
	aml_config *cfg;
	aml_context ctx;
	aml_llm l;
	aml_llm_role_stats s;
	aml_plugin *code, *feedback;
	size_t len, lines = 0;
	char *p, *save = NULL;

	write_text(fb, "{\"role\": \"feedback\", \"answer\": {\"text\": \"looks fine\", "
		   "\"tokens_in\": 1000000, \"tokens_out\": 0}}\n");
	snprintf(arg_rec, sizeof arg_rec, "llm.record=%s", cas);
	snprintf(arg_fb, sizeof arg_fb, "feedback.cassette=%s", fb);
	kv[0] = "provider.tp-good.answer=the code";
	kv[1] = "provider.tp-good.tokens=2000000"; /* in 2M, out 1M */
	kv[2] = "pricing.input_per_mtok=1";
	kv[3] = "pricing.output_per_mtok=4";
	kv[4] = "pricing.feedback.input_per_mtok=0.5";
	kv[5] = arg_rec;
	kv[6] = arg_fb;
	kv[7] = NULL;
	cfg = config(kv);
	aml_context_init(&ctx, cfg);
	ck_assert_msg(aml_llm_init(&l, cfg, err, sizeof err) == AML_OK, "%s", err);
	ctx.llm = &l;
	code = open_provider("tp-good", "provider", &ctx, AML_OK, err);

	/* no feedback provider: the code one answers both roles */
	l.provider[AML_ROLE_CODE] = code;
	ck_assert_int_eq(ask(&l, "feedback", "review this", NULL, &text, err), AML_OK);
	ck_assert_str_eq(text, "the code");
	free(text);

	feedback = open_provider("replay", "feedback", &ctx, AML_OK, err);
	l.provider[AML_ROLE_FEEDBACK] = feedback;
	ck_assert_int_eq(ask(&l, "code", "write code", NULL, &text, err), AML_OK);
	ck_assert_str_eq(text, "the code");
	free(text);
	ck_assert_int_eq(ask(&l, NULL, "write code", NULL, &text, err), AML_OK);
	free(text);
	ck_assert_int_eq(ask(&l, "feedback", "review this", NULL, &text, err), AML_OK);
	ck_assert_str_eq(text, "looks fine");
	free(text);
	/* the one feedback entry is used up: a failure, counted */
	ck_assert_int_eq(ask(&l, "feedback", "again", NULL, &text, err), AML_ENOTFOUND);
	ck_assert_ptr_null(text);
	ck_assert_msg(strstr(err, "no recorded answer left in") && !strchr(err, '\n'), "%s", err);
	ck_assert_int_eq(ask(&l, "planner", "x", NULL, &text, err), AML_EINVAL);
	ck_assert_str_eq(err, "unknown LLM role 'planner' (known: code, feedback)");

	aml_llm_role(&l, AML_ROLE_CODE, &s);
	ck_assert_uint_eq(s.calls, 2);
	ck_assert_uint_eq(s.failures, 0);
	ck_assert_uint_eq(s.tokens_in, 4000000);
	ck_assert_uint_eq(s.tokens_out, 2000000);
	ck_assert_double_eq_tol(s.cost, 4 * 1 + 2 * 4, 1e-9);
	/* the fallback call counts as the feedback role's, at its prices
	 * (0.5 in; out unset, so the code role's 4) */
	aml_llm_role(&l, AML_ROLE_FEEDBACK, &s);
	ck_assert_uint_eq(s.calls, 3);
	ck_assert_uint_eq(s.failures, 1);
	ck_assert_double_eq_tol(s.cost, (2 * 0.5 + 1 * 4) + 1 * 0.5, 1e-9);
	aml_llm_totals(&l, &s);
	ck_assert_uint_eq(s.calls, 5);
	ck_assert_uint_eq(s.failures, 1);
	aml_llm_destroy(&l);

	/* the cassette: one JSON object per call (the refused role made none) */
	ck_assert_msg(aml_read_file(cas, 1 << 20, &data, &len, err, sizeof err) == AML_OK, "%s", err);
	for (p = strtok_r(data, "\n", &save); p; p = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(p);

		ck_assert_ptr_nonnull(o);
		ck_assert_str_eq(json_object_get_string(json_object_object_get(o, "system")), "sys");
		if (json_object_object_get(o, "error"))
			ck_assert_msg(strstr(json_object_get_string(json_object_object_get(o, "error")),
					     "no recorded answer"), "%s", p);
		else
			ck_assert_ptr_nonnull(json_object_object_get(
				json_object_object_get(o, "answer"), "text"));
		json_object_put(o);
		lines++;
	}
	ck_assert_uint_eq(lines, 5);
	free(data);
	aml_plugin_close(feedback);
	aml_plugin_close(code);
	aml_config_free(cfg);
	free(cas);
	free(fb);
}
END_TEST

/* A feedback slot's own keys win over the provider section's. */
START_TEST(test_feedback_params)
{
	static const char *const kv[] = {"feedback=replay", "provider.replay.match=exact",
					 "feedback.match=loose", NULL};
	aml_config *cfg = config(kv);
	const aml_manifest *m;
	aml_plugin *p = NULL;
	char err[AML_ERRLEN] = "";

	m = aml_registry_find(reg, AML_KIND_PROVIDER, "replay", err, sizeof err);
	ck_assert_ptr_nonnull(m);
	ck_assert_int_eq(aml_plugin_load(m, "feedback", &p, err, sizeof err), AML_OK);
	ck_assert_str_eq(aml_host_param(p, cfg, "match"), "loose");
	aml_plugin_close(p);
	ck_assert_int_eq(aml_plugin_load(m, "provider", &p, err, sizeof err), AML_OK);
	ck_assert_str_eq(aml_host_param(p, cfg, "match"), "exact");
	aml_plugin_close(p);
	aml_config_free(cfg);
}
END_TEST

/* Replay: exact entries first, then loose (numbers differ), then
 * hand-written ones by operator; each once; failures replayed. */
START_TEST(test_replay_matching)
{
	char *cas = path_in_tmp("c.jsonl"), arg[4200], err[AML_ERRLEN] = "", *text;
	const char *kv[3];
	aml_config *cfg;
	aml_context ctx;
	aml_llm l;
	aml_plugin *p;

	write_text(cas,
		   "{\"v\": 1, \"role\": \"code\", \"system\": \"sys\", \"user\": \"time left 100 s\", "
		   "\"answer\": {\"text\": \"first\", \"model\": \"m\", \"tokens_in\": 7, \"tokens_out\": 3}}\n"
		   "\n"
		   "{\"role\": \"code\", \"system\": \"sys\", \"user\": \"time left 100 s\", "
		   "\"answer\": {\"text\": \"second\"}}\n"
		   "{\"role\": \"code\", \"system\": \"sys\", \"user\": \"boom\", "
		   "\"error\": \"openai: HTTP 500 after 5 attempts\", \"rc\": -10}\n"
		   "{\"operator\": \"debug\", \"answer\": {\"text\": \"any debug\"}}\n"
		   "{\"answer\": {\"text\": \"anything\"}}\n");
	snprintf(arg, sizeof arg, "provider.cassette=%s", cas);
	kv[0] = "provider=replay";
	kv[1] = arg;
	kv[2] = NULL;
	cfg = config(kv);
	aml_context_init(&ctx, cfg);
	ck_assert_int_eq(aml_llm_init(&l, cfg, err, sizeof err), AML_OK);
	p = open_provider("replay", "provider", &ctx, AML_OK, err);
	l.provider[AML_ROLE_CODE] = p;

	/* exact, in file order */
	ck_assert_int_eq(ask(&l, "code", "time left 100 s", NULL, &text, err), AML_OK);
	ck_assert_str_eq(text, "first");
	free(text);
	/* loose: 97.5 s left this time */
	ck_assert_int_eq(ask(&l, "code", "time left 97.5 s", NULL, &text, err), AML_OK);
	ck_assert_str_eq(text, "second");
	free(text);
	/* a recorded failure comes back as that failure */
	ck_assert_int_eq(ask(&l, "code", "boom", NULL, &text, err), AML_EPROTO);
	ck_assert_str_eq(err, "openai: HTTP 500 after 5 attempts");
	/* hand-written: by operator, then the catch-all */
	ck_assert_int_eq(ask(&l, "code", "fix it", "{\"operator\": \"debug\"}", &text, err), AML_OK);
	ck_assert_str_eq(text, "any debug");
	free(text);
	ck_assert_int_eq(ask(&l, "code", "fix it", "{\"operator\": \"debug\"}", &text, err), AML_OK);
	ck_assert_str_eq(text, "anything");
	free(text);
	ck_assert_int_eq(ask(&l, "code", "time left 100 s", NULL, &text, err), AML_ENOTFOUND);
	ck_assert_msg(strstr(err, "operator unknown") && strstr(err, "'time left 100 s'"), "%s", err);
	aml_llm_destroy(&l);
	aml_plugin_close(p);
	aml_config_free(cfg);
	free(cas);
}
END_TEST

/* match: exact refuses what only loosely matches. */
START_TEST(test_replay_exact)
{
	char *cas = path_in_tmp("c.jsonl"), arg[4200], err[AML_ERRLEN] = "", *text;
	const char *kv[4];
	aml_config *cfg;
	aml_context ctx;
	aml_llm l;
	aml_plugin *p;

	write_text(cas, "{\"role\": \"code\", \"user\": \"left 100 s\", \"answer\": {\"text\": \"a\"}}\n");
	snprintf(arg, sizeof arg, "provider.cassette=%s", cas);
	kv[0] = "provider=replay";
	kv[1] = arg;
	kv[2] = "provider.match=exact";
	kv[3] = NULL;
	cfg = config(kv);
	aml_context_init(&ctx, cfg);
	ck_assert_int_eq(aml_llm_init(&l, cfg, err, sizeof err), AML_OK);
	p = open_provider("replay", "provider", &ctx, AML_OK, err);
	l.provider[AML_ROLE_CODE] = p;
	ck_assert_int_eq(ask(&l, "code", "left 99 s", NULL, &text, err), AML_ENOTFOUND);
	aml_llm_destroy(&l);
	aml_plugin_close(p);
	aml_config_free(cfg);
	free(cas);
}
END_TEST

/* A cassette that cannot be used stops the plugin at init, one line
 * naming the file and line. */
static const struct {
	const char *text;      /* NULL: no file */
	const char *expect;
} broken[] = {
	{NULL, "replay: cannot open the cassette "},
	{"", "holds no entries"},
	{"{\"answer\": {\"text\": \"a\"}}\n{\"answer\": {\"text\": \n", "c.jsonl:2: not a JSON object"},
	{"[1, 2]\n", "c.jsonl:1: not a JSON object (another JSON value)"},
	{"{\"user\": \"x\"}\n", "c.jsonl:1: an entry needs \"answer\" or \"error\""},
	{"{\"user\": \"x\", \"answer\": 3}\n", "c.jsonl:1: \"answer\" must be an object"},
};

START_TEST(test_replay_broken_cassette)
{
	char *cas = path_in_tmp("c.jsonl"), arg[4200], err[AML_ERRLEN] = "";
	const char *kv[3];
	aml_config *cfg;
	aml_context ctx;

	if (broken[_i].text)
		write_text(cas, broken[_i].text);
	snprintf(arg, sizeof arg, "provider.cassette=%s", cas);
	kv[0] = "provider=replay";
	kv[1] = arg;
	kv[2] = NULL;
	cfg = config(kv);
	aml_context_init(&ctx, cfg);
	ck_assert_ptr_null(open_provider("replay", "provider", &ctx, _i < 2 ? (_i ? AML_EINVAL : AML_EIO)
					 : AML_EFORMAT, err));
	ck_assert_msg(strstr(err, broken[_i].expect) && !strchr(err, '\n'), "%s", err);
	aml_config_free(cfg);
	free(cas);
}
END_TEST

START_TEST(test_replay_needs_cassette)
{
	static const char *const kv[] = {"provider=replay", NULL};
	aml_config *cfg = config(kv);
	char err[AML_ERRLEN] = "";
	aml_context ctx;

	aml_context_init(&ctx, cfg);
	ck_assert_ptr_null(open_provider("replay", "provider", &ctx, AML_EINVAL, err));
	ck_assert_msg(strstr(err, "set provider.cassette") != NULL, "%s", err);
	aml_config_free(cfg);
}
END_TEST

/* llm.record to a file that cannot be written is refused up front. */
START_TEST(test_record_unwritable)
{
	static const char *const kv[] = {"llm.record=/nonexistent-dir/c.jsonl", NULL};
	aml_config *cfg = config(kv);
	char err[AML_ERRLEN] = "";
	aml_llm l;

	ck_assert_int_eq(aml_llm_init(&l, cfg, err, sizeof err), AML_EIO);
	ck_assert_msg(strstr(err, "llm.record: cannot open /nonexistent-dir/c.jsonl") != NULL, "%s", err);
	aml_llm_destroy(&l);
	aml_config_free(cfg);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("llm");
	TCase *tc = tcase_create("llm");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_roles_accounting_record);
	tcase_add_test(tc, test_feedback_params);
	tcase_add_test(tc, test_replay_matching);
	tcase_add_test(tc, test_replay_exact);
	tcase_add_loop_test(tc, test_replay_broken_cassette, 0, (int)AML_ARRAY_LEN(broken));
	tcase_add_test(tc, test_replay_needs_cassette);
	tcase_add_test(tc, test_record_unwritable);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
