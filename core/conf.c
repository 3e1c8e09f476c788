/*
 * conf.c — see conf.h.  A few dozen keys: a sorted array is plenty.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "conf.h"
#include "util.h"
#include "yamltree.h"

extern const char aml_default_config[];

typedef struct cfg_item {
	char *key;
	char *value;
	char *source;
} cfg_item;

struct aml_config {
	cfg_item *items;
	size_t n, cap;
	int loading_defaults;
};

/* Sections whose keys are plugin parameters, validated by the plugins. */
static const char *const plugin_sections[] = {"provider.", "feedback.", "executor.",
					       "operators.", "kb."};

static int
item_cmp(const void *a, const void *b)
{
	return strcmp(((const cfg_item *)a)->key, ((const cfg_item *)b)->key);
}

static cfg_item *
find(const aml_config *c, const char *key)
{
	cfg_item probe = {(char *)key, NULL, NULL};

	if (c->n == 0)
		return NULL;
	return bsearch(&probe, c->items, c->n, sizeof *c->items, item_cmp);
}

static int
is_plugin_key(const char *key)
{
	size_t i;

	for (i = 0; i < AML_ARRAY_LEN(plugin_sections); i++)
		if (strncmp(key, plugin_sections[i], strlen(plugin_sections[i])) == 0)
			return 1;
	return 0;
}

/* A selector section: 'provider', 'feedback', 'executor' or
 * 'operators.<op>'. */
static int
is_selector(const char *path)
{
	const char *p;

	if (strcmp(path, "provider") == 0 || strcmp(path, "feedback") == 0
	    || strcmp(path, "executor") == 0)
		return 1;
	if (strncmp(path, "operators.", 10) != 0)
		return 0;
	p = path + 10;
	return *p != '\0' && strchr(p, '.') == NULL;
}

int
aml_config_set(aml_config *c, const char *key, const char *value,
	       const char *source, char *err, size_t errlen)
{
	cfg_item *it;
	char *v, *s;
	const char *p;

	if (key[0] == '\0') {
		aml_seterr(err, errlen, "%s: empty configuration key", source);
		return AML_EINVAL;
	}
	for (p = key; *p; p++) {
		if (!(*p == '.' || *p == '_' || *p == '-' || (*p >= 'a' && *p <= 'z')
		      || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9'))
		    || (*p == '.' && (p == key || p[1] == '.' || p[1] == '\0'))) {
			aml_seterr(err, errlen, "%s: bad configuration key '%s'", source, key);
			return AML_EINVAL;
		}
	}
	it = find(c, key);
	if (it == NULL && !c->loading_defaults && !is_plugin_key(key)) {
		aml_seterr(err, errlen,
			   "%s: unknown configuration key '%s' (see 'automlgen config' for the keys)",
			   source, key);
		return AML_EINVAL;
	}
	v = strdup(value);
	s = strdup(source);
	if (v == NULL || s == NULL) {
		free(v);
		free(s);
		return AML_ENOMEM;
	}
	if (it) {
		free(it->value);
		free(it->source);
		it->value = v;
		it->source = s;
		return AML_OK;
	}
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 64;
		cfg_item *items = realloc(c->items, cap * sizeof *items);

		if (items == NULL) {
			free(v);
			free(s);
			return AML_ENOMEM;
		}
		c->items = items;
		c->cap = cap;
	}
	c->items[c->n].key = strdup(key);
	if (c->items[c->n].key == NULL) {
		free(v);
		free(s);
		return AML_ENOMEM;
	}
	c->items[c->n].value = v;
	c->items[c->n].source = s;
	c->n++;
	qsort(c->items, c->n, sizeof *c->items, item_cmp);
	return AML_OK;
}

/* Flatten one YAML node under path into the table. */
static int
merge_node(aml_config *c, const char *name, const char *path,
	   const aml_ynode *n, char *err, size_t errlen)
{
	char src[1100];
	size_t i;
	int rc;

	snprintf(src, sizeof src, "%s:%d", name, n->line);
	switch (n->type) {
	case AML_Y_SCALAR:
		return aml_config_set(c, path, aml_ynode_is_null(n) ? "" : n->scalar,
				      c->loading_defaults ? "default" : src, err, errlen);
	case AML_Y_SEQ: {
		/* lists are kept as comma-separated text */
		aml_sb b = {0};

		for (i = 0; i < n->n; i++) {
			if (n->items[i]->type != AML_Y_SCALAR) {
				aml_seterr(err, errlen, "%s: '%s' must be a list of plain values",
					   src, path);
				aml_sb_free(&b);
				return AML_EINVAL;
			}
			if (i)
				aml_sb_puts(&b, ",");
			aml_sb_puts(&b, n->items[i]->scalar);
		}
		if (b.oom)
			return AML_ENOMEM;
		rc = aml_config_set(c, path, b.s ? b.s : "",
				    c->loading_defaults ? "default" : src, err, errlen);
		aml_sb_free(&b);
		return rc;
	}
	case AML_Y_MAP:
		for (i = 0; i < n->n; i++) {
			aml_sb key = {0};

			if (is_selector(path) && strcmp(n->keys[i], "name") == 0) {
				aml_sb_puts(&key, path);
			} else {
				if (path[0])
					aml_sb_printf(&key, "%s.", path);
				aml_sb_puts(&key, n->keys[i]);
			}
			if (key.oom)
				return AML_ENOMEM;
			rc = merge_node(c, name, key.s, n->items[i], err, errlen);
			aml_sb_free(&key);
			if (rc != AML_OK)
				return rc;
		}
		return AML_OK;
	}
	return AML_EINVAL;
}

static int
merge_text(aml_config *c, const char *text, size_t len, const char *name,
	   char *err, size_t errlen)
{
	aml_ynode *doc;
	int rc;

	rc = aml_yaml_load_string(text, len, name, &doc, err, errlen);
	if (rc != AML_OK)
		return rc;
	if (doc->type != AML_Y_MAP) {
		aml_seterr(err, errlen, "%s:%d: the configuration must be a mapping of keys",
			   name, doc->line);
		aml_ynode_free(doc);
		return AML_EINVAL;
	}
	rc = merge_node(c, name, "", doc, err, errlen);
	aml_ynode_free(doc);
	return rc;
}

int
aml_config_new(aml_config **out, char *err, size_t errlen)
{
	aml_config *c = calloc(1, sizeof *c);
	int rc;

	*out = NULL;
	if (c == NULL)
		return AML_ENOMEM;
	c->loading_defaults = 1;
	rc = merge_text(c, aml_default_config, strlen(aml_default_config),
			"default.yaml", err, errlen);
	c->loading_defaults = 0;
	if (rc != AML_OK) {
		aml_config_free(c);
		return rc;
	}
	*out = c;
	return AML_OK;
}

void
aml_config_free(aml_config *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->n; i++) {
		free(c->items[i].key);
		free(c->items[i].value);
		free(c->items[i].source);
	}
	free(c->items);
	free(c);
}

int
aml_config_load_file(aml_config *c, const char *path, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	rc = aml_read_file(path, 1u << 20, &text, &len, err, errlen);
	if (rc != AML_OK)
		return rc;
	rc = merge_text(c, text, len, path, err, errlen);
	free(text);
	return rc;
}

int
aml_config_set_arg(aml_config *c, const char *kv, char *err, size_t errlen)
{
	const char *eq = strchr(kv, '=');
	char *key;
	int rc;

	if (eq == NULL || eq == kv) {
		aml_seterr(err, errlen, "-o %s: expected key=value", kv);
		return AML_EINVAL;
	}
	key = strndup(kv, (size_t)(eq - kv));
	if (key == NULL)
		return AML_ENOMEM;
	/* -o provider.name=x means the same as -o provider=x */
	if (strlen(key) > 5 && strcmp(key + strlen(key) - 5, ".name") == 0) {
		key[strlen(key) - 5] = '\0';
		if (!is_selector(key))
			key[strlen(key)] = '.';
	}
	rc = aml_config_set(c, aml_trim(key), eq + 1, "-o", err, errlen);
	free(key);
	return rc;
}

const char *
aml_config_get(const aml_config *c, const char *key)
{
	cfg_item *it = find(c, key);

	return it ? it->value : NULL;
}

const char *
aml_config_source(const aml_config *c, const char *key)
{
	cfg_item *it = find(c, key);

	return it ? it->source : NULL;
}

static const char *
need(const aml_config *c, const char *key, char *err, size_t errlen)
{
	const char *v = aml_config_get(c, key);

	if (v == NULL)
		aml_seterr(err, errlen, "configuration key '%s' is not set", key);
	return v;
}

int
aml_config_double(const aml_config *c, const char *key, double *out,
		  char *err, size_t errlen)
{
	const char *v = need(c, key, err, errlen);

	if (v == NULL)
		return AML_ENOTFOUND;
	if (aml_parse_double(v, out) != 0) {
		aml_seterr(err, errlen, "%s: '%s' must be a number, got '%s'",
			   aml_config_source(c, key), key, v);
		return AML_EINVAL;
	}
	return AML_OK;
}

int
aml_config_long(const aml_config *c, const char *key, long *out,
		char *err, size_t errlen)
{
	const char *v = need(c, key, err, errlen);

	if (v == NULL)
		return AML_ENOTFOUND;
	if (aml_parse_long(v, out) != 0) {
		aml_seterr(err, errlen, "%s: '%s' must be a whole number, got '%s'",
			   aml_config_source(c, key), key, v);
		return AML_EINVAL;
	}
	return AML_OK;
}

int
aml_config_bool(const aml_config *c, const char *key, int *out,
		char *err, size_t errlen)
{
	const char *v = need(c, key, err, errlen);

	if (v == NULL)
		return AML_ENOTFOUND;
	if (aml_parse_bool(v, out) != 0) {
		aml_seterr(err, errlen, "%s: '%s' must be true or false, got '%s'",
			   aml_config_source(c, key), key, v);
		return AML_EINVAL;
	}
	return AML_OK;
}

const char *
aml_config_key_at(const aml_config *c, size_t i)
{
	return i < c->n ? c->items[i].key : NULL;
}

int
aml_config_is_secret(const char *key)
{
	static const char *const words[] = {"key", "secret", "password", "passwd",
					    "token", "auth", "credential"};
	const char *last = strrchr(key, '.');
	char word[64];
	size_t i, n;

	last = last ? last + 1 : key;
	/* each '_'-separated word of the last part: "api_key" is a secret,
	 * "max_tokens" and "api_key_env" (the name of a variable) are not */
	if (strstr(last, "_env") && strcmp(strstr(last, "_env"), "_env") == 0)
		return 0;
	while (*last) {
		n = strcspn(last, "_-");
		if (n < sizeof word) {
			memcpy(word, last, n);
			word[n] = '\0';
			for (i = 0; i < AML_ARRAY_LEN(words); i++)
				if (strcasecmp(word, words[i]) == 0)
					return 1;
		}
		last += n;
		last += strspn(last, "_-");
	}
	return 0;
}

void
aml_config_dump(const aml_config *c, FILE *f, int with_sources)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		const char *v = c->items[i].value;
		int quote;

		if (v[0] && aml_config_is_secret(c->items[i].key))
			v = "<redacted>"; /* run directories and logs never hold keys */
		quote = v[0] == '\0' || strpbrk(v, ":#'\"{}[],&*!|>%@`") != NULL
			|| v[0] == ' ' || v[strlen(v) - 1] == ' ';

		fprintf(f, "%s: ", c->items[i].key);
		if (quote) {
			fputc('"', f);
			for (; *v; v++) {
				if (*v == '"' || *v == '\\')
					fputc('\\', f);
				fputc(*v, f);
			}
			fputc('"', f);
		} else {
			fputs(v, f);
		}
		if (with_sources)
			fprintf(f, "  # %s", c->items[i].source);
		fputc('\n', f);
	}
}
