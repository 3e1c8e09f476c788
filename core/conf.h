/*
 * conf.h — the run's configuration: a flat table of dotted keys
 * ("search.max_nodes") holding string values, each with where it came
 * from (the built-in defaults, a file and line, or -o).
 *
 * Layers, later wins: the built-in defaults (core/default.yaml, compiled
 * in), then --config FILE, then each -o key=value.  A key that is not in
 * the defaults is refused, except under the plugin sections (provider.,
 * executor., operators., kb.), whose keys are plugin parameters checked
 * against the manifests when the plugin is loaded.
 *
 * In the selector sections (provider, executor, operators.<op>) a map key
 * 'name' is the section's own value: 'provider: {name: x}' sets 'provider'.
 */
#ifndef AML_CONF_H
#define AML_CONF_H

#include <stdio.h>
#include <automlgen/plugin.h>

typedef struct aml_config aml_config;

/* The defaults alone.  *out is transferred (aml_config_free). */
int aml_config_new(aml_config **out, char *err, size_t errlen);
void aml_config_free(aml_config *c);

/* Merge a YAML file over what is there. */
int aml_config_load_file(aml_config *c, const char *path, char *err, size_t errlen);
/* Apply one "key=value" (the -o form). */
int aml_config_set_arg(aml_config *c, const char *kv, char *err, size_t errlen);
/* Set one key from code; source is a short label ("resume", "test"). */
int aml_config_set(aml_config *c, const char *key, const char *value,
		   const char *source, char *err, size_t errlen);

/* The value of key, or NULL when unset.  Borrowed, valid until the key is
 * set again or the config is freed. */
const char *aml_config_get(const aml_config *c, const char *key);
/* Where the value came from ("default", "FILE:LINE", "-o"), or NULL. */
const char *aml_config_source(const aml_config *c, const char *key);

/* Typed reads; a missing or malformed value is an error line that names
 * the key, its value and its source. */
int aml_config_double(const aml_config *c, const char *key, double *out,
		      char *err, size_t errlen);
int aml_config_long(const aml_config *c, const char *key, long *out,
		    char *err, size_t errlen);
int aml_config_bool(const aml_config *c, const char *key, int *out,
		    char *err, size_t errlen);

/* Iterate keys in sorted order: i from 0 while it returns non-NULL. */
const char *aml_config_key_at(const aml_config *c, size_t i);

/* Whether key holds a secret (its last part has a word "key", "token",
 * "secret", "password", "auth"... as in "provider.api_key"; not
 * "max_tokens", not "*_env", which names a variable). */
int aml_config_is_secret(const char *key);

/* Write the effective configuration as YAML-compatible "key: value  #
 * source" lines; secrets are written as <redacted>. */
void aml_config_dump(const aml_config *c, FILE *f, int with_sources);

#endif
