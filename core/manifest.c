/*
 * manifest.c — see manifest.h.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "util.h"

static const char *const kind_names[] = {NULL, "operator", "provider", "executor", "kb"};
static const char *const kind_sections[] = {NULL, "operators", "provider", "executor", "kb"};
static const char *const type_names[] = {"string", "int", "float", "bool"};
static const char *const known_keys[] = {
	"name", "kind", "version", "abi", "library", "description",
	"parameters", "entries", "prompts",
};

const char *
aml_kind_name(aml_kind kind)
{
	return kind >= AML_KIND_OPERATOR && kind <= AML_KIND_KB ? kind_names[kind] : "unknown";
}

const char *
aml_kind_section(aml_kind kind)
{
	return kind >= AML_KIND_OPERATOR && kind <= AML_KIND_KB ? kind_sections[kind] : "unknown";
}

int
aml_kind_parse(const char *s, aml_kind *out)
{
	int k;

	for (k = AML_KIND_OPERATOR; k <= AML_KIND_KB; k++)
		if (strcmp(s, kind_names[k]) == 0) {
			*out = (aml_kind)k;
			return 0;
		}
	return -1;
}

const char *
aml_param_type_name(aml_param_type t)
{
	return (unsigned)t < AML_ARRAY_LEN(type_names) ? type_names[t] : "unknown";
}

int
aml_param_check(const aml_param_spec *p, const char *value)
{
	double d;
	long l;
	int b;

	switch (p->type) {
	case AML_PARAM_STRING:
		return 0;
	case AML_PARAM_INT:
		return aml_parse_long(value, &l);
	case AML_PARAM_FLOAT:
		return aml_parse_double(value, &d);
	case AML_PARAM_BOOL:
		return aml_parse_bool(value, &b);
	}
	return -1;
}

void
aml_manifest_free(aml_manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n_params; i++) {
		free(m->params[i].name);
		free(m->params[i].dflt);
		free(m->params[i].description);
	}
	free(m->params);
	free(m->path);
	free(m->dir);
	free(m->name);
	free(m->version);
	free(m->library);
	free(m->description);
	aml_ynode_free(m->doc);
	free(m);
}

/* A required plain string under key; NULL with err set when missing. */
static const char *
req_scalar(const aml_ynode *doc, const char *path, const char *key,
	   char *err, size_t errlen)
{
	const aml_ynode *v = aml_ynode_get(doc, key);

	if (v == NULL || aml_ynode_is_null(v)) {
		aml_seterr(err, errlen, "%s: missing required key '%s'", path, key);
		return NULL;
	}
	if (v->type != AML_Y_SCALAR) {
		aml_seterr(err, errlen, "%s:%d: '%s' must be a plain value", path, v->line, key);
		return NULL;
	}
	return v->scalar;
}

static int
valid_name(const char *s)
{
	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (; *s; s++)
		if (!(islower((unsigned char)*s) || isdigit((unsigned char)*s)
		      || *s == '_' || *s == '-'))
			return 0;
	return 1;
}

static int
parse_params(aml_manifest *m, const aml_ynode *ps, char *err, size_t errlen)
{
	size_t i;
	int t;

	if (ps == NULL || aml_ynode_is_null(ps))
		return AML_OK;
	if (ps->type != AML_Y_MAP) {
		aml_seterr(err, errlen, "%s:%d: 'parameters' must be a mapping of name: {type, default, description}",
			   m->path, ps->line);
		return AML_EFORMAT;
	}
	m->params = calloc(ps->n ? ps->n : 1, sizeof *m->params);
	if (m->params == NULL)
		return AML_ENOMEM;
	for (i = 0; i < ps->n; i++) {
		const aml_ynode *p = ps->items[i];
		aml_param_spec *s = &m->params[m->n_params];
		const char *type, *dflt, *desc;

		if (p->type != AML_Y_MAP) {
			aml_seterr(err, errlen, "%s:%d: parameter '%s' must be a mapping with type, default, description",
				   m->path, p->line, ps->keys[i]);
			return AML_EFORMAT;
		}
		type = aml_ynode_str(p, "type");
		if (type == NULL) {
			aml_seterr(err, errlen, "%s:%d: parameter '%s' has no type (string, int, float or bool)",
				   m->path, p->line, ps->keys[i]);
			return AML_EFORMAT;
		}
		for (t = 0; t < (int)AML_ARRAY_LEN(type_names); t++)
			if (strcmp(type, type_names[t]) == 0)
				break;
		if (t == (int)AML_ARRAY_LEN(type_names)) {
			aml_seterr(err, errlen, "%s:%d: parameter '%s' has unknown type '%s' (string, int, float or bool)",
				   m->path, p->line, ps->keys[i], type);
			return AML_EFORMAT;
		}
		if (aml_ynode_get(p, "default") == NULL) {
			aml_seterr(err, errlen, "%s:%d: parameter '%s' has no default",
				   m->path, p->line, ps->keys[i]);
			return AML_EFORMAT;
		}
		dflt = aml_ynode_str(p, "default");
		if (dflt == NULL) {
			aml_seterr(err, errlen, "%s:%d: the default of parameter '%s' must be a plain value",
				   m->path, p->line, ps->keys[i]);
			return AML_EFORMAT;
		}
		if (aml_ynode_is_null(aml_ynode_get(p, "default")))
			dflt = "";
		desc = aml_ynode_str(p, "description");
		s->name = strdup(ps->keys[i]);
		s->type = (aml_param_type)t;
		s->dflt = strdup(dflt);
		s->description = strdup(desc ? desc : "");
		m->n_params++;
		if (s->name == NULL || s->dflt == NULL || s->description == NULL)
			return AML_ENOMEM;
		if (dflt[0] != '\0' && aml_param_check(s, dflt) != 0) {
			aml_seterr(err, errlen, "%s:%d: the default '%s' of parameter '%s' is not a %s",
				   m->path, p->line, dflt, s->name, type);
			return AML_EFORMAT;
		}
	}
	return AML_OK;
}

static int
parse_doc(aml_manifest *m, char *err, size_t errlen)
{
	const aml_ynode *doc = m->doc;
	const char *name, *kind, *version, *abi, *lib, *desc;
	unsigned maj, min;
	char tail;
	size_t i, k;

	if (doc->type != AML_Y_MAP) {
		aml_seterr(err, errlen, "%s:%d: a manifest must be a mapping (name, kind, version, abi, library, ...)",
			   m->path, doc->line);
		return AML_EFORMAT;
	}
	if ((name = req_scalar(doc, m->path, "name", err, errlen)) == NULL
	    || (kind = req_scalar(doc, m->path, "kind", err, errlen)) == NULL
	    || (version = req_scalar(doc, m->path, "version", err, errlen)) == NULL
	    || (abi = req_scalar(doc, m->path, "abi", err, errlen)) == NULL)
		return AML_EFORMAT;
	if (!valid_name(name)) {
		aml_seterr(err, errlen, "%s:%d: name '%s' must be 1-64 of [a-z0-9_-]",
			   m->path, aml_ynode_get(doc, "name")->line, name);
		return AML_EFORMAT;
	}
	if (aml_kind_parse(kind, &m->kind) != 0) {
		aml_seterr(err, errlen, "%s:%d: unknown kind '%s' (operator, provider, executor or kb)",
			   m->path, aml_ynode_get(doc, "kind")->line, kind);
		return AML_EFORMAT;
	}
	if (sscanf(abi, "%u.%u%c", &maj, &min, &tail) != 2) {
		aml_seterr(err, errlen, "%s:%d: abi '%s' must be MAJOR.MINOR, e.g. \"%d.%d\"",
			   m->path, aml_ynode_get(doc, "abi")->line, abi,
			   AML_ABI_MAJOR, AML_ABI_MINOR);
		return AML_EFORMAT;
	}
	m->abi_major = maj;
	m->abi_minor = min;
	lib = aml_ynode_str(doc, "library");
	if (lib && aml_ynode_is_null(aml_ynode_get(doc, "library")))
		lib = NULL;
	if (lib == NULL && aml_ynode_get(doc, "library") && !aml_ynode_is_null(aml_ynode_get(doc, "library"))) {
		aml_seterr(err, errlen, "%s:%d: 'library' must be a file name",
			   m->path, aml_ynode_get(doc, "library")->line);
		return AML_EFORMAT;
	}
	if (lib == NULL && m->kind != AML_KIND_KB) {
		aml_seterr(err, errlen, "%s: missing required key 'library' (the plugin's .so file name)",
			   m->path);
		return AML_EFORMAT;
	}
	if (lib && (strchr(lib, '/') || lib[0] == '.' || lib[0] == '\0')) {
		aml_seterr(err, errlen, "%s:%d: library '%s' must be a plain file name like %s.so",
			   m->path, aml_ynode_get(doc, "library")->line, lib, name);
		return AML_EFORMAT;
	}
	desc = aml_ynode_str(doc, "description");
	for (i = 0; i < doc->n; i++) {
		for (k = 0; k < AML_ARRAY_LEN(known_keys); k++)
			if (strcmp(doc->keys[i], known_keys[k]) == 0)
				break;
		if (k == AML_ARRAY_LEN(known_keys)) {
			aml_seterr(err, errlen, "%s:%d: unknown key '%s'", m->path,
				   doc->items[i]->line, doc->keys[i]);
			return AML_EFORMAT;
		}
	}
	m->name = strdup(name);
	m->version = strdup(version);
	m->library = aml_strdup0(lib);
	m->description = strdup(desc ? desc : "");
	if (m->name == NULL || m->version == NULL || m->description == NULL
	    || (lib && m->library == NULL))
		return AML_ENOMEM;
	return parse_params(m, aml_ynode_get(doc, "parameters"), err, errlen);
}

int
aml_manifest_load(const char *path, aml_manifest **out, char *err, size_t errlen)
{
	aml_manifest *m;
	char *slash;
	int rc;

	*out = NULL;
	m = calloc(1, sizeof *m);
	if (m == NULL)
		return AML_ENOMEM;
	m->path = strdup(path);
	m->dir = strdup(path);
	if (m->path == NULL || m->dir == NULL) {
		aml_manifest_free(m);
		return AML_ENOMEM;
	}
	slash = strrchr(m->dir, '/');
	if (slash)
		*slash = '\0';
	else
		strcpy(m->dir, ".");
	rc = aml_yaml_load_file(path, &m->doc, err, errlen);
	if (rc == AML_OK)
		rc = parse_doc(m, err, errlen);
	if (rc != AML_OK) {
		if (rc == AML_ENOMEM)
			aml_seterr(err, errlen, "%s: out of memory", path);
		aml_manifest_free(m);
		return rc;
	}
	*out = m;
	return AML_OK;
}

const aml_param_spec *
aml_manifest_param(const aml_manifest *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->n_params; i++)
		if (strcmp(m->params[i].name, name) == 0)
			return &m->params[i];
	return NULL;
}
