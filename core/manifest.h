/*
 * manifest.h — a plugin's manifest.yaml: what the plugin is, which library
 * holds it and which parameters it takes.  Read before anything is
 * loaded, so plugins can be listed (and refused) without dlopen().
 *
 *   name: local              # [a-z0-9_-]+, unique per kind
 *   kind: executor           # operator | provider | executor | kb
 *   version: "1.0.0"
 *   abi: "1.0"               # plugin ABI major.minor it was built for
 *   library: local.so        # file name; optional for kb packs
 *   description: one line
 *   parameters:
 *     timeout_s: {type: float, default: 30, description: ...}
 */
#ifndef AML_MANIFEST_H
#define AML_MANIFEST_H

#include <automlgen/plugin.h>
#include "yamltree.h"

typedef enum aml_param_type {
	AML_PARAM_STRING,
	AML_PARAM_INT,
	AML_PARAM_FLOAT,
	AML_PARAM_BOOL,
} aml_param_type;

typedef struct aml_param_spec {
	char *name;
	aml_param_type type;
	char *dflt;          /* default value as text ("" allowed) */
	char *description;
} aml_param_spec;

typedef struct aml_manifest {
	char *path;          /* the manifest file */
	char *dir;           /* its folder */
	char *name;
	aml_kind kind;
	char *version;
	unsigned abi_major;
	unsigned abi_minor;
	char *library;       /* NULL for a kb pack without a retriever */
	char *description;
	aml_param_spec *params;
	size_t n_params;
	aml_ynode *doc;      /* the whole document, for kind-specific keys */
} aml_manifest;

/* Parse and validate a manifest.  *out is transferred
 * (aml_manifest_free).  Errors: "<path>:<line>: <what>" in err. */
int aml_manifest_load(const char *path, aml_manifest **out, char *err, size_t errlen);
void aml_manifest_free(aml_manifest *m);

/* The parameter spec called name, or NULL. */
const aml_param_spec *aml_manifest_param(const aml_manifest *m, const char *name);
/* Check a value against a parameter's type; 0 when it fits. */
int aml_param_check(const aml_param_spec *p, const char *value);

const char *aml_kind_name(aml_kind kind);
/* The config section of a kind: "operators", "provider", "executor", "kb". */
const char *aml_kind_section(aml_kind kind);
int aml_kind_parse(const char *s, aml_kind *out);
const char *aml_param_type_name(aml_param_type t);

#endif
