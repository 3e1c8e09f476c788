/*
 * registry.h — the plugins this installation can use, found by reading
 * manifests along the plugin search path; nothing is loaded.
 *
 * Search path, first match wins for a (kind, name):
 *   1. $AUTOMLGEN_PLUGIN_PATH (colon-separated folders)
 *   2. the config key plugins.path (colon-separated folders)
 *   3. the built-in folders under $(pkgdatadir): plugins, operators, kb-packs
 * A folder on the path is either one plugin (it holds manifest.yaml) or a
 * folder of plugin folders.  A later plugin with the same kind and name is
 * listed as shadowed; a broken manifest is listed with its error.
 */
#ifndef AML_REGISTRY_H
#define AML_REGISTRY_H

#include "manifest.h"

typedef struct aml_registry aml_registry;

typedef struct aml_registry_item {
	char *manifest_path;
	aml_manifest *manifest;  /* NULL when the manifest is broken */
	char *error;             /* why it is broken, or NULL */
	const struct aml_registry_item *shadowed_by; /* or NULL */
} aml_registry_item;

/* Scan the search path.  extra_path is the plugins.path value (may be NULL
 * or "").  *out is transferred (aml_registry_free). */
int aml_registry_scan(const char *extra_path, aml_registry **out,
		      char *err, size_t errlen);
void aml_registry_free(aml_registry *r);

size_t aml_registry_count(const aml_registry *r);
const aml_registry_item *aml_registry_at(const aml_registry *r, size_t i);
/* The search path as scanned, colon-separated (borrowed). */
const char *aml_registry_path(const aml_registry *r);

/* The usable manifest of (kind, name), or NULL with a line in err that
 * says what exists instead (or why that plugin's manifest is broken). */
const aml_manifest *aml_registry_find(const aml_registry *r, aml_kind kind,
				      const char *name, char *err, size_t errlen);

#endif
