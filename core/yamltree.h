/*
 * yamltree.h — YAML documents as a small tree with line numbers.
 *
 * Every YAML file the core reads (plugin manifests, configuration,
 * task.yaml, knowledge-base entries) goes through here, so errors name the
 * file and line the same way everywhere.  Scalars stay strings; callers
 * convert them with the aml_parse_* helpers and report bad values with the
 * node's line.  Anchors and aliases are refused (no config needs them, and
 * refusing them rules out "billion laughs" documents).
 */
#ifndef AML_YAMLTREE_H
#define AML_YAMLTREE_H

#include <stddef.h>

typedef enum aml_ytype {
	AML_Y_SCALAR,
	AML_Y_SEQ,
	AML_Y_MAP,
} aml_ytype;

typedef struct aml_ynode aml_ynode;
struct aml_ynode {
	aml_ytype type;
	int line;            /* 1-based */
	char *scalar;        /* AML_Y_SCALAR: the text (never NULL) */
	int quoted;          /* scalar was quoted (so "null" is a string) */
	size_t n;            /* SEQ/MAP: number of items */
	char **keys;         /* MAP: keys[i] names items[i] */
	aml_ynode **items;
};

/* Parse a file / a buffer holding one YAML document.  An empty document
 * gives an empty map.  *out is transferred (aml_ynode_free).  On error:
 * "<name>:<line>: <problem>" in err. */
int aml_yaml_load_file(const char *path, aml_ynode **out,
		       char *err, size_t errlen);
int aml_yaml_load_string(const char *text, size_t len, const char *name,
			 aml_ynode **out, char *err, size_t errlen);
void aml_ynode_free(aml_ynode *n);

/* The value under key in a map; NULL when absent or n is not a map. */
const aml_ynode *aml_ynode_get(const aml_ynode *map, const char *key);
/* The scalar text under key, or NULL when absent or not a scalar. */
const char *aml_ynode_str(const aml_ynode *map, const char *key);
/* 1 when a scalar spells YAML's null ("", "~", "null") unquoted. */
int aml_ynode_is_null(const aml_ynode *n);

#endif
