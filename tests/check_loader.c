/*
 * check_loader.c — the plugin search path and every loader refusal, each
 * with a deliberately broken plugin built in the test tree
 * (tests/plugins/testplugin.c, manifests in tests/data/plugins/).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf.h"
#include "host.h"
#include "loader.h"
#include "mock_host.h"
#include "registry.h"
#include "util.h"

static char saved_path[8192];

/* Put the test plugins first on the path (keeping the harness's). */
static void
setup(void)
{
	const char *p = getenv("AUTOMLGEN_PLUGIN_PATH");
	char buf[16400];

	snprintf(saved_path, sizeof saved_path, "%s", p ? p : "");
	snprintf(buf, sizeof buf, "%s/tests/data/plugins:%s/tests/data/plugins-shadow",
		 SRCDIR, SRCDIR);
	setenv("AUTOMLGEN_PLUGIN_PATH", buf, 1);
}

static void
teardown(void)
{
	setenv("AUTOMLGEN_PLUGIN_PATH", saved_path, 1);
}

static aml_registry *
scan(void)
{
	char err[AML_ERRLEN] = "";
	aml_registry *r = NULL;

	ck_assert_msg(aml_registry_scan(NULL, &r, err, sizeof err) == AML_OK, "%s", err);
	return r;
}

static const aml_manifest *
find(aml_registry *r, const char *name)
{
	char err[AML_ERRLEN] = "";
	const aml_manifest *m = aml_registry_find(r, AML_KIND_PROVIDER, name, err, sizeof err);

	ck_assert_msg(m != NULL, "%s", err);
	return m;
}

START_TEST(test_good_loads_and_answers)
{
	aml_registry *r = scan();
	char err[AML_ERRLEN] = "";
	aml_plugin *p = NULL;
	aml_config *cfg = NULL;
	aml_context ctx;
	aml_llm_request req;
	aml_llm_response resp;

	ck_assert_int_eq(aml_config_new(&cfg, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_config_set_arg(cfg, "provider.tp-good.answer=configured", err, sizeof err), AML_OK);
	aml_context_init(&ctx, cfg);
	ck_assert_msg(aml_plugin_load(find(r, "tp-good"), NULL, &p, err, sizeof err) == AML_OK, "%s", err);
	ck_assert_str_eq(p->slot, "provider.tp-good");
	ck_assert_int_eq(aml_host_check_params(p, cfg, err, sizeof err), AML_OK);
	ck_assert_msg(aml_plugin_init(p, &ctx, err, sizeof err) == AML_OK, "%s", err);
	memset(&req, 0, sizeof req);
	memset(&resp, 0, sizeof resp);
	ck_assert_int_eq(aml_plugin_provider(p)->complete(p->state, &req, &resp, err, sizeof err), AML_OK);
	/* the parameter came through host->param from the config */
	ck_assert_str_eq(resp.text, "configured");
	free(resp.text);
	ck_assert_ptr_null(aml_plugin_executor(p));
	aml_plugin_close(p);
	aml_config_free(cfg);
	aml_registry_free(r);
}
END_TEST

START_TEST(test_param_defaults_and_slot)
{
	aml_registry *r = scan();
	char err[AML_ERRLEN] = "";
	aml_plugin *p = NULL;
	aml_config *cfg = NULL;

	ck_assert_int_eq(aml_config_new(&cfg, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_plugin_load(find(r, "tp-good"), "provider", &p, err, sizeof err), AML_OK);
	ck_assert_str_eq(aml_host_param(p, cfg, "answer"), "hello");
	ck_assert_ptr_null(aml_host_param(p, cfg, "undeclared"));
	ck_assert_int_eq(aml_config_set_arg(cfg, "provider.answer=by-slot", err, sizeof err), AML_OK);
	ck_assert_str_eq(aml_host_param(p, cfg, "answer"), "by-slot");
	/* the plugin's own section wins over the slot */
	ck_assert_int_eq(aml_config_set_arg(cfg, "provider.tp-good.answer=by-name", err, sizeof err), AML_OK);
	ck_assert_str_eq(aml_host_param(p, cfg, "answer"), "by-name");
	/* an undeclared key aimed at this plugin is refused, naming it */
	ck_assert_int_eq(aml_config_set_arg(cfg, "provider.anser=typo", err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_host_check_params(p, cfg, err, sizeof err), AML_EINVAL);
	ck_assert_msg(strstr(err, "'provider.anser' is not a parameter of provider plugin 'tp-good' (it takes: answer, tokens)"),
		      "%s", err);
	/* keys for another provider are not this plugin's business */
	ck_assert_int_eq(aml_config_set(cfg, "provider.anser", "", "test", err, sizeof err), AML_OK);
	aml_plugin_close(p);
	aml_config_free(cfg);
	aml_registry_free(r);
}
END_TEST

static const struct {
	const char *name;
	int rc;
	const char *msg;
} refusals[] = {
	{"tp-nosym", AML_EPLUGIN, "tp_nosym.so does not export 'aml_plugin_descriptor'"},
	{"tp-abi-major", AML_EABI, "tp_abi_major.so was built for plugin ABI 2.3, automlgen has 1.3"},
	{"tp-abi-minor", AML_EABI, "tp_abi_minor.so was built for plugin ABI 1.99, automlgen has 1.3"},
	{"tp-manifest-abi", AML_EABI, "declares plugin ABI 2.0, automlgen has 1.3"},
	{"tp-kind", AML_EPLUGIN, "tp_kind.so is an executor, its manifest"},
	{"tp-name", AML_EPLUGIN, "tp_name.so is named 'tp-other', its manifest"},
	{"tp-version", AML_EPLUGIN, "tp_version.so is version 9.9.9, its manifest"},
	{"tp-noops", AML_EPLUGIN, "tp_noops.so has no provider function table"},
	{"tp-garbage", AML_EPLUGIN, "cannot load"},
	{"tp-nolib", AML_ENOTFOUND, "library tp_missing_library.so not found (looked in"},
};

START_TEST(test_refusals)
{
	aml_registry *r = scan();
	char err[AML_ERRLEN] = "";
	aml_plugin *p = NULL;
	const aml_manifest *m = find(r, refusals[_i].name);

	ck_assert_int_eq(aml_plugin_load(m, NULL, &p, err, sizeof err), refusals[_i].rc);
	ck_assert_ptr_null(p);
	ck_assert_msg(strstr(err, refusals[_i].msg) != NULL, "'%s' lacks '%s'", err, refusals[_i].msg);
	ck_assert_msg(strstr(err, refusals[_i].name) != NULL, "'%s' does not name the plugin", err);
	ck_assert_msg(strchr(err, '\n') == NULL, "not one line: '%s'", err);
	aml_registry_free(r);
}
END_TEST

START_TEST(test_init_failure)
{
	aml_registry *r = scan();
	char err[AML_ERRLEN] = "";
	aml_plugin *p = NULL;
	aml_context ctx;

	aml_context_init(&ctx, NULL);
	ck_assert_int_eq(aml_plugin_load(find(r, "tp-initfail"), NULL, &p, err, sizeof err), AML_OK);
	ck_assert_int_eq(aml_plugin_init(p, &ctx, err, sizeof err), AML_EINVAL);
	ck_assert_str_eq(err, "plugin 'tp-initfail': init failed: the answer parameter is required");
	aml_plugin_close(p);
	aml_registry_free(r);
}
END_TEST

START_TEST(test_search_path_order)
{
	aml_registry *r = scan();
	char err[AML_ERRLEN] = "";
	const aml_manifest *m = find(r, "tp-good");
	size_t i, shadowed = 0, broken = 0;

	/* the first folder on the path wins; the later copy is shadowed */
	ck_assert_msg(strstr(m->path, "/tests/data/plugins/good/") != NULL, "%s", m->path);
	for (i = 0; i < aml_registry_count(r); i++) {
		const aml_registry_item *it = aml_registry_at(r, i);

		if (it->shadowed_by) {
			shadowed++;
			ck_assert(strstr(it->manifest_path, "plugins-shadow/good2") != NULL);
		}
		if (it->error) {
			broken++;
			ck_assert_msg(strstr(it->error, "broken-yaml/manifest.yaml:") != NULL, "%s", it->error);
		}
	}
	ck_assert_uint_eq(shadowed, 1);
	ck_assert_uint_eq(broken, 1);
	/* the path as scanned starts with the environment's folders */
	ck_assert(strncmp(aml_registry_path(r), SRCDIR "/tests/data/plugins:", strlen(SRCDIR) + 20) == 0);
	/* unknown names list what exists */
	ck_assert_ptr_null(aml_registry_find(r, AML_KIND_PROVIDER, "nope", err, sizeof err));
	ck_assert_msg(strstr(err, "no provider plugin named 'nope' (available: ") != NULL, "%s", err);
	ck_assert(strstr(err, "tp-good") != NULL);
	/* a plugin whose folder holds a broken manifest says why */
	ck_assert_ptr_null(aml_registry_find(r, AML_KIND_PROVIDER, "broken-yaml", err, sizeof err));
	ck_assert_msg(strstr(err, "is unusable: ") != NULL, "%s", err);
	aml_registry_free(r);
}
END_TEST

START_TEST(test_config_path_after_env)
{
	aml_registry *r = NULL;
	char err[AML_ERRLEN] = "";
	const aml_manifest *m;

	/* with the shadow folder on the environment path and the main folder
	 * in the config path, the environment's copy wins */
	setenv("AUTOMLGEN_PLUGIN_PATH", SRCDIR "/tests/data/plugins-shadow", 1);
	ck_assert_int_eq(aml_registry_scan(SRCDIR "/tests/data/plugins", &r, err, sizeof err), AML_OK);
	m = aml_registry_find(r, AML_KIND_PROVIDER, "tp-good", err, sizeof err);
	ck_assert_ptr_nonnull(m);
	ck_assert_str_eq(m->description, "shadowing copy");
	ck_assert_ptr_nonnull(aml_registry_find(r, AML_KIND_PROVIDER, "tp-kind", err, sizeof err));
	aml_registry_free(r);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("loader");
	TCase *tc = tcase_create("loader");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_good_loads_and_answers);
	tcase_add_test(tc, test_param_defaults_and_slot);
	tcase_add_loop_test(tc, test_refusals, 0, (int)AML_ARRAY_LEN(refusals));
	tcase_add_test(tc, test_init_failure);
	tcase_add_test(tc, test_search_path_order);
	tcase_add_test(tc, test_config_path_after_env);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
