/*
 * kb.c — see kb.h.  Loading (manifest, entry files, validation, YAML to
 * JSON), the Python module check, the packs' own retrievers, and
 * filtering, ranking (BM25, bm25.c) and fusion for queries.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bm25.h"
#include "host.h"
#include "kb.h"
#include "loader.h"
#include "log.h"
#include "manifest.h"
#include "util.h"
#include "yamltree.h"

#define KB_MAX_CODE_BYTES (1u << 20)
#define KB_CHECK_TIMEOUT_MS 120000
#define KB_DEFAULT_PRIORITY 50
#define KB_STRONG_WEIGHT 3    /* id, title and tags count 3 times in BM25 */
#define KB_RRF_K 60.0         /* reciprocal rank fusion: 1 / (60 + rank) */

/* A loaded pack. */
typedef struct kb_pack {
	char *name;
	char *dir;
	char *library;        /* the manifest's retriever library, or NULL */
	aml_manifest *manifest; /* owned, read as a plugin's for the retriever */
	aml_plugin *retriever;  /* owned; NULL: its entries are ranked by BM25 */
	int warned;           /* atomic: the retriever's failure was reported */
} kb_pack;

typedef struct kb_item {
	aml_kb_entry pub;     /* points into the strings below */
	char *id, *pack, *level, *title, *guidance, *code, *json, *source;
	unsigned types;       /* bit 1 << aml_task_type; 0 = any */
	unsigned outputs;     /* bit 1 << aml_output_kind; 0 = any */
	uint32_t modalities;  /* AML_MOD_* bits; 0 = any */
	long max_rows, max_features, min_rows, min_features; /* 0 = no limit */
	long priority;
	char **modules;
	size_t n_modules;
	char *strong;         /* lower-case id, title and tags */
	char *weak;           /* lower-case guidance */
	kb_pack *pk;          /* its pack (borrowed from the kb) */
} kb_item;

struct aml_kb {
	kb_item **items;      /* pointers, so entries never move */
	size_t n, cap;
	kb_pack **packs;      /* in load order */
	size_t n_packs;
	aml_bm25 *ix;         /* over items[0..n), document i = items[i] */
};

/* Set while this thread is inside a retriever: its own queries get BM25. */
static _Thread_local int in_retriever;

static const char *const type_names[] = {
	[AML_TASK_BINARY] = "binary", [AML_TASK_MULTICLASS] = "multiclass",
	[AML_TASK_REGRESSION] = "regression",
	[AML_TASK_MULTI_REGRESSION] = "multi_regression",
};
static const char *const output_names[] = {
	[AML_OUT_LABEL] = "label", [AML_OUT_PROBA] = "proba",
	[AML_OUT_CLASS_PROBA] = "class_proba", [AML_OUT_VALUE] = "value",
};
static const char *const modality_names[] = {
	"tabular", "text", "image", "timeseries",
};
static const char *const level_names[] = {"model", "data", "strategy"};

static const char *const entry_keys[] = {
	"id", "level", "title", "guidance", "task_types", "outputs",
	"modalities", "limits", "priority", "code", "code_file", "space",
	"modules", "tags", "references",
};

/* ------------------------------------------------------------------ */
/* Small helpers.                                                      */

static void
item_free(kb_item *it)
{
	size_t i;

	if (it == NULL)
		return;
	free(it->id);
	free(it->pack);
	free(it->level);
	free(it->title);
	free(it->guidance);
	free(it->code);
	free(it->json);
	free(it->source);
	for (i = 0; i < it->n_modules; i++)
		free(it->modules[i]);
	free(it->modules);
	free(it->strong);
	free(it->weak);
	free(it);
}

static void
lower(char *s)
{
	for (; s && *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

static int
name_index(const char *const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] && strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

/* [A-Za-z0-9_.-]+ */
static int
valid_id(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' && *s != '-')
			return 0;
	return 1;
}

/* A Python identifier, or dotted identifiers for modules. */
static int
valid_ident(const char *s, int dots)
{
	int start = 1;

	if (*s == '\0')
		return 0;
	for (; *s; s++) {
		if (dots && *s == '.' && !start) {
			start = 1;
			continue;
		}
		if (!(isalpha((unsigned char)*s) || *s == '_'
		      || (!start && isdigit((unsigned char)*s))))
			return 0;
		start = 0;
	}
	return !start;
}

/* A plain number: digits, sign, point, exponent; no inf or nan. */
static int
looks_numeric(const char *s, int *is_int)
{
	const char *p = s;
	int digits = 0, other = 0;

	if (*p == '+' || *p == '-')
		p++;
	for (; *p; p++) {
		if (isdigit((unsigned char)*p))
			digits++;
		else if (*p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-')
			other++;
		else
			return 0;
	}
	*is_int = other == 0;
	return digits > 0;
}

/* The JSON grammar of a number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static int
json_number_text(const char *s)
{
	if (*s == '-')
		s++;
	if (*s == '0')
		s++;
	else if (*s >= '1' && *s <= '9')
		while (isdigit((unsigned char)*s))
			s++;
	else
		return 0;
	if (*s == '.') {
		if (!isdigit((unsigned char)*++s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (!isdigit((unsigned char)*s))
			return 0;
		while (isdigit((unsigned char)*s))
			s++;
	}
	return *s == '\0';
}

/* A YAML node as a JSON value (scalars typed as kb.h says).  Floats keep
 * their YAML spelling when it is valid JSON (0.06, not 0.0599999...). */
static json_object *
yaml_to_json(const aml_ynode *n)
{
	json_object *o;
	size_t i;
	int is_int;
	long l;
	double d;

	switch (n->type) {
	case AML_Y_SCALAR:
		if (n->quoted)
			return json_object_new_string(n->scalar);
		if (aml_ynode_is_null(n))
			return NULL; /* json-c's null */
		if (strcmp(n->scalar, "true") == 0 || strcmp(n->scalar, "True") == 0)
			return json_object_new_boolean(1);
		if (strcmp(n->scalar, "false") == 0 || strcmp(n->scalar, "False") == 0)
			return json_object_new_boolean(0);
		if (looks_numeric(n->scalar, &is_int)) {
			if (is_int && aml_parse_long(n->scalar, &l) == 0)
				return json_object_new_int64(l);
			if (aml_parse_double(n->scalar, &d) == 0)
				return json_number_text(n->scalar)
					? json_object_new_double_s(d, n->scalar)
					: json_object_new_double(d);
		}
		return json_object_new_string(n->scalar);
	case AML_Y_SEQ:
		o = json_object_new_array();
		for (i = 0; o && i < n->n; i++)
			json_object_array_add(o, yaml_to_json(n->items[i]));
		return o;
	case AML_Y_MAP:
		o = json_object_new_object();
		for (i = 0; o && i < n->n; i++)
			json_object_object_add(o, n->keys[i], yaml_to_json(n->items[i]));
		return o;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Entry validation.  Each check writes "problem" and its line.        */

typedef struct vctx {
	char msg[AML_ERRLEN];
	int line;
} vctx;

static int
vfail(vctx *v, const aml_ynode *n, const char *fmt, ...) AML_PRINTF(3, 4);

static int
vfail(vctx *v, const aml_ynode *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(v->msg, sizeof v->msg, fmt, ap);
	va_end(ap);
	if (n)
		v->line = n->line;
	return -1;
}

/* A sequence of scalars (a lone scalar is refused, so typos show). */
static int
check_str_list(vctx *v, const aml_ynode *root, const char *key)
{
	const aml_ynode *l = aml_ynode_get(root, key);
	size_t i;

	if (l == NULL || aml_ynode_is_null(l))
		return 0;
	if (l->type != AML_Y_SEQ)
		return vfail(v, l, "'%s' must be a list", key);
	for (i = 0; i < l->n; i++)
		if (l->items[i]->type != AML_Y_SCALAR)
			return vfail(v, l->items[i], "'%s' items must be strings", key);
	return 0;
}

/* A list of names from a fixed set, folded into a bit set. */
static int
parse_names(vctx *v, const aml_ynode *root, const char *key,
	    const char *const *names, size_t n_names, unsigned *bits)
{
	const aml_ynode *l = aml_ynode_get(root, key);
	size_t i;
	int k;

	*bits = 0;
	if (check_str_list(v, root, key) != 0)
		return -1;
	for (i = 0; l && l->type == AML_Y_SEQ && i < l->n; i++) {
		k = name_index(names, n_names, l->items[i]->scalar);
		if (k < 0)
			return vfail(v, l->items[i], "unknown %s value '%s'", key,
				     l->items[i]->scalar);
		*bits |= 1u << k;
	}
	return 0;
}

static int
parse_count(vctx *v, const aml_ynode *n, const char *key, long *out)
{
	if (n->type != AML_Y_SCALAR || aml_parse_long(n->scalar, out) != 0 || *out < 0)
		return vfail(v, n, "'%s' must be a non-negative integer", key);
	return 0;
}

static int
parse_limits(vctx *v, const aml_ynode *root, kb_item *it)
{
	const aml_ynode *l = aml_ynode_get(root, "limits");
	size_t i;

	if (l == NULL || aml_ynode_is_null(l))
		return 0;
	if (l->type != AML_Y_MAP)
		return vfail(v, l, "'limits' must be a map");
	for (i = 0; i < l->n; i++) {
		long *dst = strcmp(l->keys[i], "max_rows") == 0 ? &it->max_rows
			: strcmp(l->keys[i], "max_features") == 0 ? &it->max_features
			: strcmp(l->keys[i], "min_rows") == 0 ? &it->min_rows
			: strcmp(l->keys[i], "min_features") == 0 ? &it->min_features : NULL;

		if (dst == NULL)
			return vfail(v, l->items[i], "unknown limit '%s' (max_rows, "
				     "max_features, min_rows, min_features)", l->keys[i]);
		if (parse_count(v, l->items[i], l->keys[i], dst) != 0)
			return -1;
	}
	return 0;
}

static int
space_number(vctx *v, const aml_ynode *p, const char *name, const char *key,
	     int integer, double *out)
{
	const aml_ynode *n = aml_ynode_get(p, key);
	long l;

	if (n == NULL)
		return vfail(v, p, "space '%s' needs '%s'", name, key);
	if (n->type == AML_Y_SCALAR && integer && aml_parse_long(n->scalar, &l) == 0) {
		*out = (double)l;
		return 0;
	}
	if (n->type == AML_Y_SCALAR && !integer && aml_parse_double(n->scalar, out) == 0)
		return 0;
	return vfail(v, n, "space '%s': '%s' must be %s", name, key,
		     integer ? "an integer" : "a number");
}

static int
check_param(vctx *v, const char *name, const aml_ynode *p)
{
	static const char *const types[] = {"int", "float", "log_float", "choice"};
	const char *type;
	const aml_ynode *def, *ch;
	double low, high, d;
	size_t i;
	int t;

	if (!valid_ident(name, 0))
		return vfail(v, p, "space name '%s' is not an identifier", name);
	if (p->type != AML_Y_MAP)
		return vfail(v, p, "space '%s' must be a map", name);
	for (i = 0; i < p->n; i++)
		if (name_index((const char *const[]){"type", "low", "high", "choices",
				"default", "description"}, 6, p->keys[i]) < 0)
			return vfail(v, p->items[i], "space '%s': unknown key '%s'",
				     name, p->keys[i]);
	type = aml_ynode_str(p, "type");
	t = type ? name_index(types, AML_ARRAY_LEN(types), type) : -1;
	if (t < 0)
		return vfail(v, p, "space '%s': type must be int, float, log_float "
			     "or choice", name);
	def = aml_ynode_get(p, "default");
	if (def == NULL)
		return vfail(v, p, "space '%s' needs a default", name);
	if (t == 3) {
		ch = aml_ynode_get(p, "choices");
		if (ch == NULL || ch->type != AML_Y_SEQ || ch->n == 0)
			return vfail(v, ch ? ch : p, "space '%s': choices must be a "
				     "non-empty list", name);
		if (def->type != AML_Y_SCALAR)
			return vfail(v, def, "space '%s': default must be a scalar", name);
		for (i = 0; i < ch->n; i++) {
			if (ch->items[i]->type != AML_Y_SCALAR)
				return vfail(v, ch->items[i], "space '%s': choices "
					     "must be scalars", name);
			if (strcmp(ch->items[i]->scalar, def->scalar) == 0)
				return 0;
		}
		return vfail(v, def, "space '%s': default '%s' is not among the "
			     "choices", name, def->scalar);
	}
	if (space_number(v, p, name, "low", t == 0, &low) != 0
	    || space_number(v, p, name, "high", t == 0, &high) != 0
	    || space_number(v, p, name, "default", t == 0, &d) != 0)
		return -1;
	if (low > high)
		return vfail(v, p, "space '%s': low is above high", name);
	if (t == 2 && low <= 0)
		return vfail(v, p, "space '%s': log_float needs low > 0", name);
	if (d < low || d > high)
		return vfail(v, def, "space '%s': default %s is outside [low, high]",
			     name, def->scalar);
	return 0;
}

static int
check_space(vctx *v, const aml_ynode *root)
{
	const aml_ynode *s = aml_ynode_get(root, "space");
	size_t i;

	if (s == NULL || aml_ynode_is_null(s))
		return 0;
	if (s->type != AML_Y_MAP)
		return vfail(v, s, "'space' must be a map of parameters");
	for (i = 0; i < s->n; i++)
		if (check_param(v, s->keys[i], s->items[i]) != 0)
			return -1;
	return 0;
}

static int
has_tag(const aml_ynode *root, const char *tag)
{
	const aml_ynode *l = aml_ynode_get(root, "tags");
	size_t i;

	for (i = 0; l && l->type == AML_Y_SEQ && i < l->n; i++)
		if (l->items[i]->type == AML_Y_SCALAR && strcmp(l->items[i]->scalar, tag) == 0)
			return 1;
	return 0;
}

/* 1-based line of position p in code. */
static int
code_line(const char *code, const char *p)
{
	int line = 1;

	for (; code < p; code++)
		line += *code == '\n';
	return line;
}

/* Every {{slot}} of the code must be a space parameter (unless skeleton). */
static int
check_slots(vctx *v, const aml_ynode *root, const aml_ynode *at, const char *code)
{
	const aml_ynode *space = aml_ynode_get(root, "space");
	const char *p = code, *e;
	char name[128];
	size_t len;

	while ((p = strstr(p, "{{")) != NULL) {
		e = strstr(p + 2, "}}");
		if (e == NULL)
			return vfail(v, at, "code has '{{' without '}}'");
		len = (size_t)(e - p - 2);
		if (len == 0 || len >= sizeof name)
			return vfail(v, at, "code has an empty or overlong {{slot}}");
		memcpy(name, p + 2, len);
		name[len] = '\0';
		if (!valid_ident(name, 0))
			return vfail(v, at, "code slot {{%s}} is not an identifier", name);
		if (!has_tag(root, "skeleton") && aml_ynode_get(space, name) == NULL)
			return vfail(v, at, "code slot {{%s}} (code line %d) is not a "
				     "space parameter", name, code_line(code, p));
		p = e + 2;
	}
	return 0;
}

/* The code text: inline, or from code_file inside the pack folder. */
static int
load_code(vctx *v, const aml_ynode *root, const char *packdir, char **out)
{
	const aml_ynode *c = aml_ynode_get(root, "code");
	const aml_ynode *f = aml_ynode_get(root, "code_file");
	char err[AML_ERRLEN], *path;
	int rc;

	*out = NULL;
	if (c && f)
		return vfail(v, f, "give 'code' or 'code_file', not both");
	if (c) {
		if (c->type != AML_Y_SCALAR)
			return vfail(v, c, "'code' must be a string");
		*out = strdup(c->scalar);
		return *out ? 0 : vfail(v, c, "out of memory");
	}
	if (f == NULL) {
		*out = strdup("");
		return *out ? 0 : vfail(v, root, "out of memory");
	}
	if (f->type != AML_Y_SCALAR || f->scalar[0] == '/' || f->scalar[0] == '\0'
	    || strstr(f->scalar, "..") != NULL)
		return vfail(v, f, "'code_file' must be a path inside the pack folder");
	path = aml_path_join(packdir, f->scalar);
	if (path == NULL)
		return vfail(v, f, "out of memory");
	rc = aml_read_file(path, KB_MAX_CODE_BYTES, out, NULL, err, sizeof err);
	free(path);
	if (rc != AML_OK)
		return vfail(v, f, "code_file: %s", err);
	return 0;
}

static char *
scalar_dup(const aml_ynode *root, const char *key)
{
	const char *s = aml_ynode_str(root, key);

	return strdup(s ? s : "");
}

/* Lower-case search text of the tags, title and id. */
static char *
strong_text(const aml_ynode *root, const char *id, const char *title)
{
	const aml_ynode *l = aml_ynode_get(root, "tags");
	aml_sb b = {0};
	size_t i;
	char *s;

	aml_sb_printf(&b, "%s %s", id, title);
	for (i = 0; l && l->type == AML_Y_SEQ && i < l->n; i++)
		aml_sb_printf(&b, " %s", l->items[i]->scalar);
	s = aml_sb_take(&b);
	lower(s);
	return s;
}

/* Validate one entry document and build its item; -1 with v filled. */
static int
build_item(vctx *v, const aml_ynode *root, const char *file,
	   const char *pack, const char *packdir, kb_item **out)
{
	const aml_ynode *n, *mods;
	kb_item *it;
	json_object *jo;
	char src[4200];
	size_t i;
	unsigned bits;

	*out = NULL;
	v->line = root->line;
	if (root->type != AML_Y_MAP)
		return vfail(v, root, "an entry file holds one entry, a map");
	if (aml_ynode_get(root, "entries") != NULL)
		return vfail(v, aml_ynode_get(root, "entries"),
			     "one entry per file: 'entries' lists are not supported");
	n = aml_ynode_get(root, "id");
	if (n == NULL || n->type != AML_Y_SCALAR || !valid_id(n->scalar))
		return vfail(v, n ? n : root, "'id' is missing or not [A-Za-z0-9_.-]+");
	n = aml_ynode_get(root, "level");
	if (n == NULL || n->type != AML_Y_SCALAR
	    || name_index(level_names, AML_ARRAY_LEN(level_names), n->scalar) < 0)
		return vfail(v, n ? n : root, "'level' must be model, data or strategy");
	n = aml_ynode_get(root, "title");
	if (n == NULL || n->type != AML_Y_SCALAR || n->scalar[0] == '\0')
		return vfail(v, n ? n : root, "'title' is missing");
	n = aml_ynode_get(root, "guidance");
	if (n && n->type != AML_Y_SCALAR)
		return vfail(v, n, "'guidance' must be text");
	if (check_str_list(v, root, "tags") != 0
	    || check_str_list(v, root, "references") != 0
	    || check_str_list(v, root, "modules") != 0
	    || check_space(v, root) != 0)
		return -1;
	mods = aml_ynode_get(root, "modules");
	for (i = 0; mods && mods->type == AML_Y_SEQ && i < mods->n; i++)
		if (!valid_ident(mods->items[i]->scalar, 1))
			return vfail(v, mods->items[i], "'%s' is not a module name",
				     mods->items[i]->scalar);

	it = calloc(1, sizeof *it);
	if (it == NULL)
		return vfail(v, root, "out of memory");
	it->priority = KB_DEFAULT_PRIORITY;
	n = aml_ynode_get(root, "priority");
	if (n && (n->type != AML_Y_SCALAR || aml_parse_long(n->scalar, &it->priority) != 0)) {
		item_free(it);
		return vfail(v, n, "'priority' must be an integer");
	}
	if (parse_names(v, root, "task_types", type_names,
			AML_ARRAY_LEN(type_names), &it->types) != 0
	    || parse_names(v, root, "outputs", output_names,
			   AML_ARRAY_LEN(output_names), &it->outputs) != 0
	    || parse_names(v, root, "modalities", modality_names,
			   AML_ARRAY_LEN(modality_names), &bits) != 0
	    || parse_limits(v, root, it) != 0
	    || load_code(v, root, packdir, &it->code) != 0
	    || check_slots(v, root, aml_ynode_get(root, "code")
			   ? aml_ynode_get(root, "code")
			   : aml_ynode_get(root, "code_file"), it->code) != 0) {
		item_free(it);
		return -1;
	}
	it->modalities = bits;
	for (i = 0; i < root->n; i++)
		if (name_index(entry_keys, AML_ARRAY_LEN(entry_keys), root->keys[i]) < 0)
			aml_warn("%s:%d: unknown entry field '%s' ignored", file,
				 root->items[i]->line, root->keys[i]);

	snprintf(src, sizeof src, "%s:%d", file, root->line);
	it->id = scalar_dup(root, "id");
	it->pack = strdup(pack);
	it->level = scalar_dup(root, "level");
	it->title = scalar_dup(root, "title");
	it->guidance = scalar_dup(root, "guidance");
	it->source = strdup(src);
	it->strong = strong_text(root, it->id ? it->id : "", it->title ? it->title : "");
	it->weak = scalar_dup(root, "guidance");
	lower(it->weak);
	if (mods && mods->type == AML_Y_SEQ && mods->n) {
		it->modules = calloc(mods->n, sizeof *it->modules);
		for (i = 0; it->modules && i < mods->n; i++) {
			it->modules[i] = strdup(mods->items[i]->scalar);
			if (it->modules[i])
				it->n_modules++;
		}
	}
	jo = yaml_to_json(root);
	if (jo) {
		json_object_object_add(jo, "pack", json_object_new_string(pack));
		json_object_object_add(jo, "code", json_object_new_string(it->code));
		it->json = strdup(json_object_to_json_string_ext(jo,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(jo);
	}
	if (!it->id || !it->pack || !it->level || !it->title || !it->guidance
	    || !it->source || !it->strong || !it->weak || !it->json
	    || (mods && mods->n && it->n_modules != mods->n)) {
		item_free(it);
		return vfail(v, root, "out of memory");
	}
	it->pub.id = it->id;
	it->pub.pack = it->pack;
	it->pub.level = it->level;
	it->pub.title = it->title;
	it->pub.guidance = it->guidance;
	it->pub.code = it->code;
	it->pub.json = it->json;
	it->pub.source = it->source;
	*out = it;
	return 0;
}

/* ------------------------------------------------------------------ */
/* Packs.                                                              */

static kb_item *
find_item(const aml_kb *kb, const char *id)
{
	size_t i;

	for (i = 0; i < kb->n; i++)
		if (strcmp(kb->items[i]->id, id) == 0)
			return kb->items[i];
	return NULL;
}

static int
push_item(aml_kb *kb, kb_item *it)
{
	kb_item **p;
	size_t cap;

	if (kb->n == kb->cap) {
		cap = kb->cap ? kb->cap * 2 : 32;
		p = realloc(kb->items, cap * sizeof *p);
		if (p == NULL)
			return AML_ENOMEM;
		kb->items = p;
		kb->cap = cap;
	}
	kb->items[kb->n++] = it;
	return AML_OK;
}

/* Load one entry file; problems are warnings. */
static int
load_entry_file(aml_kb *kb, const char *path, kb_pack *pk, const char *packdir)
{
	char err[AML_ERRLEN];
	aml_ynode *root = NULL;
	kb_item *it = NULL, *dup;
	vctx v = {"", 1};
	int rc;

	rc = aml_yaml_load_file(path, &root, err, sizeof err);
	if (rc != AML_OK) {
		aml_warn("%s; entry skipped", err);
		return rc == AML_ENOMEM ? AML_ENOMEM : AML_OK;
	}
	if (build_item(&v, root, path, pk->name, packdir, &it) != 0) {
		aml_warn("%s:%d: %s; entry skipped", path, v.line, v.msg);
		aml_ynode_free(root);
		return AML_OK;
	}
	aml_ynode_free(root);
	it->pk = pk;
	dup = find_item(kb, it->id);
	if (dup != NULL) {
		aml_warn("%s: entry id '%s' is already defined at %s; entry skipped",
			 it->source, it->id, dup->source);
		item_free(it);
		return AML_OK;
	}
	if (push_item(kb, it) != AML_OK) {
		item_free(it);
		return AML_ENOMEM;
	}
	return AML_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lx = strlen(suffix);

	return ls > lx && strcmp(s + ls - lx, suffix) == 0;
}

/* The sorted names of the *.yaml / *.yml files in dir (transferred). */
static int
list_yaml(const char *dir, char ***out, size_t *n, char *err, size_t errlen)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL, **p;
	size_t cnt = 0, cap = 0;

	*out = NULL;
	*n = 0;
	if (d == NULL) {
		aml_seterr(err, errlen, "%s: %s", dir, strerror(errno));
		return AML_ENOTFOUND;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.'
		    || !(ends_with(de->d_name, ".yaml") || ends_with(de->d_name, ".yml")))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			p = realloc(names, cap * sizeof *p);
			if (p == NULL)
				goto oom;
			names = p;
		}
		names[cnt] = strdup(de->d_name);
		if (names[cnt] == NULL)
			goto oom;
		cnt++;
	}
	closedir(d);
	if (cnt)
		qsort(names, cnt, sizeof *names, cmp_str);
	*out = names;
	*n = cnt;
	return AML_OK;
oom:
	closedir(d);
	while (cnt)
		free(names[--cnt]);
	free(names);
	aml_seterr(err, errlen, "out of memory");
	return AML_ENOMEM;
}

/* Check manifest.yaml; on success *name, *entries_dir and *library (NULL
 * when there is none) are transferred. */
static int
read_manifest(const char *dir, const aml_kb *kb, char **name,
	      char **entries_dir, char **library, char *err, size_t errlen)
{
	static const char *const keys[] = {
		"name", "kind", "version", "abi", "description", "entries", "library",
		"parameters",
	};
	char *path = aml_path_join(dir, "manifest.yaml");
	const aml_ynode *n, *lib;
	aml_ynode *root = NULL;
	const char *s;
	long major, minor;
	int rc, used;
	size_t i;

	*name = *entries_dir = *library = NULL;
	if (path == NULL)
		return AML_ENOMEM;
	rc = aml_yaml_load_file(path, &root, err, errlen);
	if (rc != AML_OK) {
		if (rc == AML_ENOTFOUND)
			aml_seterr(err, errlen, "%s: no such file; a knowledge pack "
				   "folder needs a manifest.yaml", path);
		free(path);
		return rc;
	}
	rc = AML_EFORMAT;
	if (root->type != AML_Y_MAP) {
		aml_seterr(err, errlen, "%s:%d: the manifest must be a map", path, root->line);
		goto out;
	}
	for (i = 0; i < root->n; i++)
		if (name_index(keys, AML_ARRAY_LEN(keys), root->keys[i]) < 0)
			aml_warn("%s:%d: unknown manifest field '%s' ignored", path,
				 root->items[i]->line, root->keys[i]);
	n = aml_ynode_get(root, "name");
	if (n == NULL || n->type != AML_Y_SCALAR || !valid_id(n->scalar)) {
		aml_seterr(err, errlen, "%s:%d: 'name' is missing or not [A-Za-z0-9_.-]+",
			   path, n ? n->line : root->line);
		goto out;
	}
	n = aml_ynode_get(root, "kind");
	if (n == NULL || n->type != AML_Y_SCALAR || strcmp(n->scalar, "kb") != 0) {
		aml_seterr(err, errlen, "%s:%d: 'kind' must be kb for a knowledge pack",
			   path, n ? n->line : root->line);
		goto out;
	}
	n = aml_ynode_get(root, "version");
	if (n == NULL || n->type != AML_Y_SCALAR || n->scalar[0] == '\0') {
		aml_seterr(err, errlen, "%s:%d: 'version' is missing", path,
			   n ? n->line : root->line);
		goto out;
	}
	n = aml_ynode_get(root, "abi");
	if (n == NULL || n->type != AML_Y_SCALAR
	    || sscanf(n->scalar, "%ld.%ld%n", &major, &minor, &used) != 2
	    || n->scalar[used] != '\0') {
		aml_seterr(err, errlen, "%s:%d: 'abi' must be \"MAJOR.MINOR\", e.g. \"%d.%d\"",
			   path, n ? n->line : root->line, AML_ABI_MAJOR, AML_ABI_MINOR);
		goto out;
	}
	if (major != AML_ABI_MAJOR || minor > AML_ABI_MINOR || minor < 0) {
		aml_seterr(err, errlen, "%s:%d: pack ABI %ld.%ld does not fit this "
			   "AutoMLGen (ABI %d.%d); use a pack made for it", path,
			   n->line, major, minor, AML_ABI_MAJOR, AML_ABI_MINOR);
		rc = AML_EABI;
		goto out;
	}
	s = aml_ynode_str(root, "name");
	for (i = 0; i < kb->n_packs; i++)
		if (strcmp(kb->packs[i]->name, s) == 0) {
			aml_seterr(err, errlen, "%s:%d: a pack named '%s' is already loaded",
				   path, aml_ynode_get(root, "name")->line, s);
			rc = AML_EINVAL;
			goto out;
		}
	n = aml_ynode_get(root, "entries");
	if (n && (n->type != AML_Y_SCALAR || n->scalar[0] == '/'
		  || strstr(n->scalar, "..") != NULL || n->scalar[0] == '\0')) {
		aml_seterr(err, errlen, "%s:%d: 'entries' must be a folder inside the pack",
			   path, n->line);
		goto out;
	}
	*entries_dir = aml_path_join(dir, n ? n->scalar : "entries");
	*name = strdup(s);
	if (*entries_dir == NULL || *name == NULL) {
		rc = AML_ENOMEM;
		goto out;
	}
	lib = aml_ynode_get(root, "library");
	if (lib && !aml_ynode_is_null(lib)) {
		if (lib->type != AML_Y_SCALAR || lib->scalar[0] == '\0'
		    || strchr(lib->scalar, '/')) {
			aml_seterr(err, errlen, "%s:%d: 'library' must be a file name like "
				   "%s.so", path, lib->line, s);
			goto out;
		}
		*library = strdup(lib->scalar);
		if (*library == NULL) {
			rc = AML_ENOMEM;
			goto out;
		}
	}
	if (!aml_is_dir(*entries_dir)) {
		aml_seterr(err, errlen, "%s:%d: entries folder %s does not exist", path,
			   n ? n->line : root->line, *entries_dir);
		rc = AML_ENOTFOUND;
		goto out;
	}
	rc = AML_OK;
out:
	if (rc != AML_OK) {
		AML_FREE(*name);
		AML_FREE(*entries_dir);
		AML_FREE(*library);
	}
	aml_ynode_free(root);
	free(path);
	return rc;
}

int
aml_kb_new(aml_kb **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? AML_OK : AML_ENOMEM;
}

static void
pack_free(kb_pack *pk)
{
	if (pk == NULL)
		return;
	aml_plugin_close(pk->retriever);
	aml_manifest_free(pk->manifest);
	free(pk->name);
	free(pk->dir);
	free(pk->library);
	free(pk);
}

/* The BM25 index of items[0..n) (transferred), or NULL when out of memory. */
static aml_bm25 *
build_index(kb_item *const *items, size_t n)
{
	static const unsigned weights[] = {KB_STRONG_WEIGHT, 1};
	const char **texts = calloc(2 * n + 1, sizeof *texts);
	aml_bm25 *ix = NULL;
	size_t i;

	if (texts == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		texts[2 * i] = items[i]->strong;
		texts[2 * i + 1] = items[i]->weak;
	}
	if (aml_bm25_build(texts, weights, 2, n, &ix) != AML_OK)
		ix = NULL;
	free(texts);
	return ix;
}

int
aml_kb_add_pack(aml_kb *kb, const char *dir, char *err, size_t errlen)
{
	char *edir = NULL, **files = NULL, *path;
	kb_pack *pk, **packs;
	aml_bm25 *ix = NULL;
	size_t n_files = 0, i, before = kb->n;
	int rc;

	pk = calloc(1, sizeof *pk);
	if (pk == NULL || (pk->dir = strdup(dir)) == NULL) {
		free(pk);
		aml_seterr(err, errlen, "%s: out of memory loading the pack", dir);
		return AML_ENOMEM;
	}
	rc = read_manifest(dir, kb, &pk->name, &edir, &pk->library, err, errlen);
	if (rc != AML_OK) {
		pack_free(pk);
		return rc;
	}
	rc = list_yaml(edir, &files, &n_files, err, errlen);
	for (i = 0; rc == AML_OK && i < n_files; i++) {
		path = aml_path_join(edir, files[i]);
		rc = path ? load_entry_file(kb, path, pk, dir) : AML_ENOMEM;
		free(path);
	}
	if (rc == AML_OK) {
		packs = realloc(kb->packs, (kb->n_packs + 1) * sizeof *packs);
		ix = packs ? build_index(kb->items, kb->n) : NULL;
		if (packs)
			kb->packs = packs;
		if (ix == NULL)
			rc = AML_ENOMEM;
	}
	if (rc == AML_OK) {
		kb->packs[kb->n_packs++] = pk;
		aml_bm25_free(kb->ix);
		kb->ix = ix;
		pk = NULL;
	}
	if (rc != AML_OK) { /* leave kb as it was */
		while (kb->n > before)
			item_free(kb->items[--kb->n]);
		if (rc == AML_ENOMEM)
			aml_seterr(err, errlen, "%s: out of memory loading the pack", dir);
	} else if (kb->n == before) {
		aml_warn("%s: knowledge pack has no usable entries", dir);
	}
	for (i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	pack_free(pk);
	free(edir);
	return rc;
}

/* ------------------------------------------------------------------ */
/* Module check.                                                       */

static const char check_script[] =
	"import importlib, sys\n"
	"for m in sys.argv[1:]:\n"
	"    try:\n"
	"        importlib.import_module(m)\n"
	"    except BaseException:\n"
	"        sys.stdout.write('aml-missing:' + m + '\\n')\n"
	"sys.stdout.flush()\n";

/* Run python once over all modules; *out gets its stdout (transferred). */
static int
run_check(const char *python, char **mods, size_t n, char **out,
	  char *err, size_t errlen)
{
	const char **argv;
	int fds[2], status, devnull;
	pid_t pid;
	aml_sb b = {0};
	char buf[4096];
	double deadline = aml_now() + KB_CHECK_TIMEOUT_MS / 1000.0;
	ssize_t r;
	size_t i;

	*out = NULL;
	argv = calloc(n + 4, sizeof *argv);
	if (argv == NULL)
		return AML_ENOMEM;
	argv[0] = python;
	argv[1] = "-c";
	argv[2] = check_script;
	for (i = 0; i < n; i++)
		argv[3 + i] = mods[i];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		aml_seterr(err, errlen, "kb: pipe: %s", strerror(errno));
		free(argv);
		return AML_EIO;
	}
	pid = fork();
	if (pid < 0) {
		aml_seterr(err, errlen, "kb: fork: %s", strerror(errno));
		close(fds[0]);
		close(fds[1]);
		free(argv);
		return AML_EIO;
	}
	if (pid == 0) {
		devnull = open("/dev/null", O_RDWR);
		if (devnull >= 0) {
			dup2(devnull, 0);
			dup2(devnull, 2);
			if (devnull > 2)
				close(devnull);
		}
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp(python, (char *const *)argv);
		_exit(127);
	}
	free(argv);
	close(fds[1]);
	for (;;) {
		struct pollfd pfd = {fds[0], POLLIN, 0};
		int left = (int)((deadline - aml_now()) * 1000);

		if (left <= 0 || poll(&pfd, 1, left) == 0) {
			kill(pid, SIGKILL);
			waitpid(pid, &status, 0);
			close(fds[0]);
			aml_sb_free(&b);
			aml_seterr(err, errlen, "kb: '%s' did not finish the module "
				   "check within %d s", python, KB_CHECK_TIMEOUT_MS / 1000);
			return AML_EIO;
		}
		r = read(fds[0], buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		aml_sb_add(&b, buf, (size_t)r);
	}
	close(fds[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		aml_sb_free(&b);
		aml_seterr(err, errlen, "kb: cannot run '%s' to check Python modules "
			   "(exit status %d); set the interpreter with --with-python "
			   "or the run's config", python,
			   WIFEXITED(status) ? WEXITSTATUS(status) : -1);
		return AML_EIO;
	}
	*out = aml_sb_take(&b);
	return *out ? AML_OK : AML_ENOMEM;
}

static int
missing_has(const char *text, const char *mod)
{
	const char *p = text;
	size_t len = strlen(mod);

	while ((p = strstr(p, "aml-missing:")) != NULL) {
		p += strlen("aml-missing:");
		if (strncmp(p, mod, len) == 0 && (p[len] == '\n' || p[len] == '\0'))
			return 1;
	}
	return 0;
}

/* Drop the entries drop() says go (it writes why, logged as an info
 * line), and rebuild the index.  The index of what stays is built first,
 * so that running out of memory (AML_ENOMEM) drops nothing. */
static int
kb_filter(aml_kb *kb, int (*drop)(const kb_item *, void *, char *, size_t), void *ctx)
{
	char why[256];
	kb_item **keep;
	aml_bm25 *ix;
	size_t i, kept;

	keep = calloc(kb->n + 1, sizeof *keep);
	for (i = kept = 0; keep && i < kb->n; i++)
		if (!drop(kb->items[i], ctx, why, sizeof why))
			keep[kept++] = kb->items[i];
	if (keep == NULL)
		return AML_ENOMEM;
	if (kept == kb->n) {
		free(keep);
		return AML_OK;
	}
	ix = build_index(keep, kept);
	if (ix == NULL) {
		free(keep);
		return AML_ENOMEM;
	}
	for (i = 0; i < kb->n; i++)
		if (drop(kb->items[i], ctx, why, sizeof why)) {
			aml_info("kb: skipping %s: %s", kb->items[i]->id, why);
			item_free(kb->items[i]);
		}
	memcpy(kb->items, keep, kept * sizeof *keep);
	kb->n = kept;
	aml_bm25_free(kb->ix);
	kb->ix = ix;
	free(keep);
	return AML_OK;
}

/* An entry needing a module of the list `missing` (run_check's output). */
static int
drop_missing_module(const kb_item *it, void *ctx, char *why, size_t whylen)
{
	size_t j;

	for (j = 0; j < it->n_modules; j++)
		if (missing_has(ctx, it->modules[j])) {
			snprintf(why, whylen, "module %s not importable", it->modules[j]);
			return 1;
		}
	return 0;
}

int
aml_kb_check_modules(aml_kb *kb, const char *python, char *err, size_t errlen)
{
	char **mods = NULL, *missing = NULL;
	size_t n = 0, i, j, k;
	int rc;

	for (i = 0; i < kb->n; i++)
		n += kb->items[i]->n_modules;
	if (n == 0)
		return AML_OK;
	mods = calloc(n, sizeof *mods);
	if (mods == NULL)
		return AML_ENOMEM;
	n = 0;
	for (i = 0; i < kb->n; i++)
		for (j = 0; j < kb->items[i]->n_modules; j++) {
			char *m = kb->items[i]->modules[j];

			for (k = 0; k < n && strcmp(mods[k], m) != 0; k++)
				;
			if (k == n)
				mods[n++] = m; /* borrowed */
		}
	rc = run_check(python, mods, n, &missing, err, errlen);
	free(mods);
	if (rc != AML_OK)
		return rc;
	rc = kb_filter(kb, drop_missing_module, missing);
	free(missing);
	if (rc != AML_OK)
		aml_seterr(err, errlen, "kb: out of memory checking modules");
	return rc;
}

/* The next name of a comma-separated list at *p (spaces around names
 * ignored): its start, its length in *len, and *p moved past it; NULL
 * when the list has no more names. */
static const char *
next_name(const char **p, size_t *len)
{
	const char *s;
	size_t n;

	for (;;) {
		*p += strspn(*p, " ,");
		if (**p == '\0')
			return NULL;
		s = *p;
		n = strcspn(s, ",");
		*p += n;
		while (n && s[n - 1] == ' ')
			n--;
		if (n) {
			*len = n;
			return s;
		}
	}
}

/* Whether the comma-separated list names name[0..len). */
static int
list_has(const char *list, const char *name, size_t len)
{
	const char *p = list, *s;
	size_t n;

	while ((s = next_name(&p, &n)) != NULL)
		if (n == len && strncmp(s, name, len) == 0)
			return 1;
	return 0;
}

/* The entries of packs not named in the list ctx go. */
static int
drop_other_pack(const kb_item *it, void *ctx, char *why, size_t whylen)
{
	if (list_has(ctx, it->pack, strlen(it->pack)))
		return 0;
	snprintf(why, whylen, "pack %s is not in kb.packs", it->pack);
	return 1;
}

int
aml_kb_keep_packs(aml_kb *kb, const char *names, char *err, size_t errlen)
{
	const char *p = names, *s;
	size_t i, n;
	int rc;

	if (names == NULL || names[strspn(names, " ,")] == '\0')
		return AML_OK;
	/* every name must be a loaded pack: a typo would silently drop all */
	while ((s = next_name(&p, &n)) != NULL) {
		for (i = 0; i < kb->n_packs; i++)
			if (strlen(kb->packs[i]->name) == n && strncmp(kb->packs[i]->name, s, n) == 0)
				break;
		if (i == kb->n_packs) {
			aml_sb have = {0};

			for (i = 0; i < kb->n_packs; i++)
				aml_sb_printf(&have, "%s%s", i ? ", " : "", kb->packs[i]->name);
			aml_seterr(err, errlen, "kb.packs names '%.*s', which is not a loaded "
				   "knowledge pack (loaded: %s)", (int)n, s,
				   have.s ? have.s : "none");
			aml_sb_free(&have);
			return AML_EINVAL;
		}
	}
	rc = kb_filter(kb, drop_other_pack, (void *)names);
	if (rc != AML_OK)
		aml_seterr(err, errlen, "kb: out of memory selecting packs");
	return rc;
}

/* ------------------------------------------------------------------ */
/* Queries.                                                            */

static int
applicable(const kb_item *it, const aml_task *t)
{
	if (it->types && t->type != AML_TASK_UNKNOWN
	    && !(it->types & (1u << t->type)))
		return 0;
	if (it->outputs && (unsigned)t->output < AML_ARRAY_LEN(output_names)
	    && !(it->outputs & (1u << t->output)))
		return 0;
	if (it->modalities && t->modality && !(it->modalities & t->modality))
		return 0;
	if (t->train_rows) {
		if (it->max_rows && t->train_rows > (size_t)it->max_rows)
			return 0;
		if (it->min_rows && t->train_rows < (size_t)it->min_rows)
			return 0;
	}
	if (t->n_features && it->max_features
	    && t->n_features > (size_t)it->max_features)
		return 0;
	if (t->n_features && it->min_features
	    && t->n_features < (size_t)it->min_features)
		return 0;
	return 1;
}

static int
passes(const kb_item *it, const aml_task *task, const aml_kb_query *q)
{
	return !((q->level && strcmp(it->level, q->level) != 0)
		 || (q->id && strcmp(it->id, q->id) != 0)
		 || (q->applicable_only && !applicable(it, task)));
}

/* The refusals every query shares. */
static int
check_query(const aml_kb *kb, const aml_task *task, const aml_kb_query *q,
	    size_t cap, const void *out, size_t *n, char *err, size_t errlen)
{
	if (n)
		*n = 0;
	if (kb == NULL || q == NULL || n == NULL || (cap && out == NULL)) {
		aml_seterr(err, errlen, "kb query: missing argument");
		return AML_EINVAL;
	}
	if (q->level && name_index(level_names, AML_ARRAY_LEN(level_names), q->level) < 0) {
		aml_seterr(err, errlen, "kb query: unknown level '%s' (model, data "
			   "or strategy)", q->level);
		return AML_EINVAL;
	}
	if (q->applicable_only && task == NULL) {
		aml_seterr(err, errlen, "kb query: applicable_only needs a task "
			   "profile, and there is none outside a run");
		return AML_EINVAL;
	}
	return AML_OK;
}

/* A candidate of one query. */
typedef struct cand {
	const kb_item *it;
	size_t order;         /* load order */
	double bm25;
	double score;         /* what the final order sorts by */
	const kb_pack *ranker; /* NULL: BM25 */
	size_t rank;          /* in its list, from 1; 0: left out */
} cand;

static const char bm25_name[] = "bm25";

static int
cmp_ties(const cand *x, const cand *y)
{
	if (x->it->priority != y->it->priority)
		return x->it->priority > y->it->priority ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static int
cmp_bm25(const void *a, const void *b)
{
	const cand *x = a, *y = b;

	if (x->bm25 != y->bm25)
		return x->bm25 > y->bm25 ? -1 : 1;
	return cmp_ties(x, y);
}

static int
cmp_score(const void *a, const void *b)
{
	const cand *x = a, *y = b;

	if (x->score != y->score)
		return x->score > y->score ? -1 : 1;
	return cmp_ties(x, y);
}

/* Report a retriever's misbehaviour: a warning the first time per pack. */
static void
retriever_failed(kb_pack *pk, const char *fmt, ...) AML_PRINTF(2, 3);

static void
retriever_failed(kb_pack *pk, const char *fmt, ...)
{
	char why[AML_ERRLEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	if (__atomic_exchange_n(&pk->warned, 1, __ATOMIC_RELAXED) == 0)
		aml_warn("kb: pack '%s': retriever %s; ranked by BM25", pk->name, why);
	else
		aml_debug("kb: pack '%s': retriever %s; ranked by BM25", pk->name, why);
}

/* Ask pk's retriever to rank its m candidates among c[0..cnt).  On
 * success their rank (0: left out) and ranker are set and 1 is returned;
 * on failure (warned about) nothing changes and 0 is returned; -1 when
 * out of memory. */
static int
ask_retriever(kb_pack *pk, const aml_kb_query *q, cand *c, size_t cnt, size_t m)
{
	const aml_kb_ops *ops = aml_plugin_kb(pk->retriever);
	const aml_kb_entry **got = calloc(m, sizeof *got);
	size_t *at = calloc(m, sizeof *at), n = 0, r, j;
	char perr[AML_ERRLEN] = "";
	int rc, ok = 0;

	if (got == NULL || at == NULL) {
		free(got);
		free(at);
		return -1;
	}
	in_retriever++;
	rc = ops->retrieve(pk->retriever->state, q, got, m, &n, perr, sizeof perr);
	in_retriever--;
	if (rc != AML_OK) {
		retriever_failed(pk, "failed: %s", perr[0] ? perr : aml_strerror(rc));
		goto out;
	}
	if (n > m) {
		retriever_failed(pk, "returned %zu entries for %zu places", n, m);
		goto out;
	}
	/* pointers are compared, never followed, until they are known */
	for (r = 0; r < n; r++) {
		for (j = 0; j < cnt && !(c[j].it->pk == pk && &c[j].it->pub == got[r]); j++)
			;
		if (j == cnt) {
			retriever_failed(pk, "returned an entry (#%zu) that is not one of the "
					 "%zu candidates of its pack", r + 1, m);
			goto out;
		}
		at[r] = j;
		for (j = 0; j < r; j++)
			if (at[j] == at[r]) {
				retriever_failed(pk, "returned %s twice", c[at[r]].it->id);
				goto out;
			}
	}
	for (j = 0; j < cnt; j++)
		if (c[j].it->pk == pk) {
			c[j].ranker = pk;
			c[j].rank = 0;
		}
	for (r = 0; r < n; r++)
		c[at[r]].rank = r + 1;
	ok = 1;
out:
	free(got);
	free(at);
	return ok;
}

int
aml_kb_rank(const aml_kb *kb, const aml_task *task, const aml_kb_query *q,
	    aml_kb_hit *out, size_t cap, size_t *n, char *err, size_t errlen)
{
	aml_bm25_query *bq = NULL;
	cand *c;
	size_t i, j, cnt = 0, m, lists = 0, limit, kept;
	int rc;

	rc = check_query(kb, task, q, cap, out, n, err, errlen);
	if (rc != AML_OK || kb->n == 0 || cap == 0)
		return rc;
	c = calloc(kb->n, sizeof *c);
	if (c == NULL || (q->text && aml_bm25_query_new(kb->ix, q->text, &bq) != AML_OK)) {
		free(c);
		aml_seterr(err, errlen, "kb query: out of memory");
		return AML_ENOMEM;
	}
	for (i = 0; i < kb->n; i++) {
		const kb_item *it = kb->items[i];

		if (!passes(it, task, q))
			continue;
		c[cnt].it = it;
		c[cnt].order = i;
		c[cnt].bm25 = bq ? aml_bm25_score(kb->ix, bq, i) : 0;
		cnt++;
	}
	aml_bm25_query_free(bq);
	/* the packs' own retrievers, each over its candidates */
	for (i = 0; q->id == NULL && !in_retriever && i < kb->n_packs; i++) {
		kb_pack *pk = kb->packs[i];

		if (pk->retriever == NULL)
			continue;
		for (j = m = 0; j < cnt; j++)
			m += c[j].it->pk == pk;
		if (m == 0)
			continue;
		rc = ask_retriever(pk, q, c, cnt, m);
		if (rc < 0) {
			free(c);
			aml_seterr(err, errlen, "kb query: out of memory");
			return AML_ENOMEM;
		}
		lists += (size_t)rc;
	}
	/* the BM25 list: every candidate no retriever took */
	for (i = j = 0; i < cnt; i++)
		if (c[i].ranker == NULL) {
			cand t = c[j];

			c[j] = c[i];
			c[i] = t;
			j++;
		}
	if (j > 1)
		qsort(c, j, sizeof *c, cmp_bm25);
	for (i = 0; i < j; i++) {
		c[i].rank = i + 1;
		c[i].score = c[i].bm25;
	}
	if (lists > 0) { /* fuse: 1 / (60 + rank) in the one list each is in */
		for (i = kept = 0; i < cnt; i++)
			if (c[i].rank > 0) {
				c[kept] = c[i];
				c[kept].score = 1.0 / (KB_RRF_K + (double)c[i].rank);
				kept++;
			}
		cnt = kept;
		if (cnt > 1)
			qsort(c, cnt, sizeof *c, cmp_score);
	}
	limit = q->k && q->k < cap ? q->k : cap;
	for (i = 0; i < cnt && i < limit; i++) {
		out[i].entry = &c[i].it->pub;
		out[i].score = c[i].score;
		out[i].bm25 = c[i].bm25;
		out[i].ranker = c[i].ranker ? c[i].ranker->name : bm25_name;
	}
	*n = i;
	free(c);
	return AML_OK;
}

int
aml_kb_search(const aml_kb *kb, const aml_task *task, const aml_kb_query *q,
	      const aml_kb_entry **out, size_t cap, size_t *n,
	      char *err, size_t errlen)
{
	aml_kb_hit *h;
	size_t i;
	int rc;

	rc = check_query(kb, task, q, cap, out, n, err, errlen);
	if (rc != AML_OK || kb->n == 0 || cap == 0)
		return rc;
	if (cap > kb->n)
		cap = kb->n;
	h = calloc(cap, sizeof *h);
	if (h == NULL) {
		aml_seterr(err, errlen, "kb query: out of memory");
		return AML_ENOMEM;
	}
	rc = aml_kb_rank(kb, task, q, h, cap, n, err, errlen);
	for (i = 0; rc == AML_OK && i < *n; i++)
		out[i] = h[i].entry;
	free(h);
	return rc;
}

static kb_pack *
find_pack(const aml_kb *kb, const char *name)
{
	size_t i;

	for (i = 0; name && i < kb->n_packs; i++)
		if (strcmp(kb->packs[i]->name, name) == 0)
			return kb->packs[i];
	return NULL;
}

int
aml_kb_pack_entries(const aml_kb *kb, const char *pack, const aml_task *task,
		    const aml_kb_query *q, const aml_kb_entry **out, size_t cap,
		    size_t *n, char *err, size_t errlen)
{
	const kb_pack *pk;
	size_t i, cnt = 0;
	int rc;

	rc = check_query(kb, task, q, cap, out, n, err, errlen);
	if (rc != AML_OK)
		return rc;
	pk = find_pack(kb, pack);
	if (pk == NULL) {
		aml_seterr(err, errlen, "kb: no pack named '%s' is loaded", pack ? pack : "");
		return AML_ENOTFOUND;
	}
	for (i = 0; i < kb->n; i++) {
		const kb_item *it = kb->items[i];

		if (it->pk != pk || !passes(it, task, q))
			continue;
		if (cnt < cap)
			out[cnt] = &it->pub;
		cnt++;
	}
	*n = cnt;
	return AML_OK;
}

int
aml_kb_open_retrievers(aml_kb *kb, struct aml_context *ctx)
{
	char perr[AML_ERRLEN];
	size_t i;
	int rc;

	for (i = 0; i < kb->n_packs; i++) {
		kb_pack *pk = kb->packs[i];
		aml_manifest *m = NULL;
		aml_plugin *p = NULL;
		char *path;

		if (pk->library == NULL || pk->retriever != NULL)
			continue;
		perr[0] = '\0';
		path = aml_path_join(pk->dir, "manifest.yaml");
		rc = path ? aml_manifest_load(path, &m, perr, sizeof perr) : AML_ENOMEM;
		free(path);
		if (rc == AML_OK)
			rc = aml_plugin_load(m, NULL, &p, perr, sizeof perr);
		if (rc == AML_OK && ctx && ctx->cfg)
			rc = aml_host_check_params(p, ctx->cfg, perr, sizeof perr);
		if (rc == AML_OK)
			rc = aml_plugin_init(p, ctx, perr, sizeof perr);
		if (rc != AML_OK) {
			aml_plugin_close(p);
			aml_manifest_free(m);
			if (rc == AML_ENOMEM)
				return rc;
			aml_warn("kb: pack '%s': retriever not used: %s; its entries are "
				 "ranked by BM25", pk->name, perr[0] ? perr : aml_strerror(rc));
			continue;
		}
		pk->manifest = m;
		pk->retriever = p;
		aml_debug("kb: pack '%s' ranked by its retriever %s", pk->name, p->libpath);
	}
	return AML_OK;
}

size_t
aml_kb_pack_count(const aml_kb *kb)
{
	return kb ? kb->n_packs : 0;
}

const char *
aml_kb_pack_name(const aml_kb *kb, size_t i, int *has_retriever)
{
	if (kb == NULL || i >= kb->n_packs)
		return NULL;
	if (has_retriever)
		*has_retriever = kb->packs[i]->retriever != NULL;
	return kb->packs[i]->name;
}

size_t
aml_kb_size(const aml_kb *kb)
{
	return kb ? kb->n : 0;
}

const aml_kb_entry *
aml_kb_at(const aml_kb *kb, size_t i)
{
	return kb && i < kb->n ? &kb->items[i]->pub : NULL;
}

void
aml_kb_free(aml_kb *kb)
{
	size_t i;

	if (kb == NULL)
		return;
	/* retrievers first: their fini() may still look at entries */
	for (i = 0; i < kb->n_packs; i++) {
		aml_plugin_close(kb->packs[i]->retriever);
		kb->packs[i]->retriever = NULL;
	}
	for (i = 0; i < kb->n; i++)
		item_free(kb->items[i]);
	for (i = 0; i < kb->n_packs; i++)
		pack_free(kb->packs[i]);
	free(kb->packs);
	free(kb->items);
	aml_bm25_free(kb->ix);
	free(kb);
}
