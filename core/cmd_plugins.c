/*
 * cmd_plugins.c — `automlgen plugins`: every plugin on the search path,
 * from its manifest alone (nothing is loaded), with its parameters.
 */
#include "config.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cli_args.h"
#include "loader.h"
#include "registry.h"
#include "util.h"

static const char *
status_of(const aml_registry_item *it, char *buf, size_t len)
{
	char err[AML_ERRLEN];
	char *lib;

	if (it->manifest == NULL)
		return "broken";
	if (it->shadowed_by) {
		snprintf(buf, len, "shadowed by %s", it->shadowed_by->manifest_path);
		return buf;
	}
	if (it->manifest->abi_major != AML_ABI_MAJOR || it->manifest->abi_minor > AML_ABI_MINOR) {
		snprintf(buf, len, "ABI %u.%u, needs %d.x", it->manifest->abi_major,
			 it->manifest->abi_minor, AML_ABI_MAJOR);
		return buf;
	}
	if (it->manifest->library == NULL)
		return "ok";
	lib = aml_loader_find_library(it->manifest, err, sizeof err);
	if (lib == NULL)
		return "library missing";
	free(lib);
	return "ok";
}

static void
print_json(const aml_registry *r)
{
	json_object *arr = json_object_new_array();
	char buf[1200];
	size_t i, j;

	for (i = 0; i < aml_registry_count(r); i++) {
		const aml_registry_item *it = aml_registry_at(r, i);
		const aml_manifest *m = it->manifest;
		json_object *o = json_object_new_object();

		json_object_object_add(o, "manifest", json_object_new_string(it->manifest_path));
		json_object_object_add(o, "status", json_object_new_string(status_of(it, buf, sizeof buf)));
		if (it->error)
			json_object_object_add(o, "error", json_object_new_string(it->error));
		if (m) {
			json_object *ps = json_object_new_object();

			json_object_object_add(o, "kind", json_object_new_string(aml_kind_name(m->kind)));
			json_object_object_add(o, "name", json_object_new_string(m->name));
			json_object_object_add(o, "version", json_object_new_string(m->version));
			json_object_object_add(o, "description", json_object_new_string(m->description));
			for (j = 0; j < m->n_params; j++) {
				json_object *p = json_object_new_object();

				json_object_object_add(p, "type", json_object_new_string(
					aml_param_type_name(m->params[j].type)));
				json_object_object_add(p, "default", json_object_new_string(m->params[j].dflt));
				json_object_object_add(p, "description",
						       json_object_new_string(m->params[j].description));
				json_object_object_add(ps, m->params[j].name, p);
			}
			json_object_object_add(o, "parameters", ps);
		}
		json_object_array_add(arr, o);
	}
	printf("%s\n", json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PRETTY
						      | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(arr);
}

int
aml_cmd_plugins(int argc, char **argv)
{
	aml_cli_args a;
	aml_registry *r;
	char err[AML_ERRLEN] = "", buf[1200];
	size_t i, j;
	int rc;

	if ((rc = aml_cli_parse(argc, argv, &a)) != 0) {
		aml_cli_free(&a);
		return rc;
	}
	if (aml_registry_scan(aml_config_get(a.cfg, "plugins.path"), &r, err, sizeof err) != AML_OK) {
		fprintf(stderr, "automlgen: %s\n", err);
		aml_cli_free(&a);
		return 1;
	}
	if (a.json) {
		print_json(r);
	} else {
		printf("%-9s %-12s %-8s %-16s %s\n", "KIND", "NAME", "VERSION", "STATUS", "PATH");
		for (i = 0; i < aml_registry_count(r); i++) {
			const aml_registry_item *it = aml_registry_at(r, i);
			const aml_manifest *m = it->manifest;

			if (m == NULL) {
				printf("%-9s %-12s %-8s %-16s %s\n", "?", "?", "?", "broken",
				       it->manifest_path);
				printf("    %s\n", it->error);
				continue;
			}
			printf("%-9s %-12s %-8s %-16s %s\n", aml_kind_name(m->kind), m->name,
			       m->version, status_of(it, buf, sizeof buf), m->dir);
			if (a.verbose) {
				printf("    %s\n", m->description);
				for (j = 0; j < m->n_params; j++)
					printf("    %s (%s, default '%s'): %s\n", m->params[j].name,
					       aml_param_type_name(m->params[j].type),
					       m->params[j].dflt, m->params[j].description);
			}
		}
		printf("search path: %s\n", aml_registry_path(r));
	}
	aml_registry_free(r);
	aml_cli_free(&a);
	return 0;
}
