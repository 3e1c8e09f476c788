/*
 * yamltree.c — libyaml's event parser folded into an aml_ynode tree.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util.h"
#include "yamltree.h"

#define YAML_MAX_DEPTH 64
#define YAML_MAX_BYTES (64u << 20)

typedef struct ystate {
	yaml_parser_t parser;
	const char *name;
	char *err;
	size_t errlen;
} ystate;

void
aml_ynode_free(aml_ynode *n)
{
	size_t i;

	if (n == NULL)
		return;
	for (i = 0; i < n->n; i++) {
		if (n->keys)
			free(n->keys[i]);
		aml_ynode_free(n->items[i]);
	}
	free(n->keys);
	free(n->items);
	free(n->scalar);
	free(n);
}

static aml_ynode *
ynode_new(aml_ytype type, int line)
{
	aml_ynode *n = calloc(1, sizeof *n);

	if (n) {
		n->type = type;
		n->line = line;
	}
	return n;
}

static int
ynode_push(aml_ynode *parent, char *key, aml_ynode *child)
{
	char **keys = parent->keys;
	aml_ynode **items;

	items = realloc(parent->items, (parent->n + 1) * sizeof *items);
	if (items == NULL)
		return -1;
	parent->items = items;
	if (parent->type == AML_Y_MAP) {
		keys = realloc(parent->keys, (parent->n + 1) * sizeof *keys);
		if (keys == NULL)
			return -1;
		parent->keys = keys;
		keys[parent->n] = key;
	}
	items[parent->n++] = child;
	return 0;
}

static int
next_event(ystate *st, yaml_event_t *ev)
{
	if (!yaml_parser_parse(&st->parser, ev)) {
		aml_seterr(st->err, st->errlen, "%s:%lu: %s%s%s", st->name,
			   (unsigned long)st->parser.problem_mark.line + 1,
			   st->parser.problem ? st->parser.problem : "parse error",
			   st->parser.context ? " " : "",
			   st->parser.context ? st->parser.context : "");
		return -1;
	}
	return 0;
}

static int parse_node(ystate *st, yaml_event_t *ev, int depth, aml_ynode **out);

/* Parse the items of a sequence or mapping until its end event. */
static int
parse_children(ystate *st, aml_ynode *node, int depth)
{
	yaml_event_t ev;
	yaml_event_type_t end = node->type == AML_Y_MAP
		? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;

	for (;;) {
		aml_ynode *child = NULL;
		char *key = NULL;

		if (next_event(st, &ev) != 0)
			return -1;
		if (ev.type == end) {
			yaml_event_delete(&ev);
			return 0;
		}
		if (node->type == AML_Y_MAP) {
			if (ev.type != YAML_SCALAR_EVENT) {
				aml_seterr(st->err, st->errlen,
					   "%s:%lu: mapping keys must be plain scalars",
					   st->name, (unsigned long)ev.start_mark.line + 1);
				yaml_event_delete(&ev);
				return -1;
			}
			key = strndup((const char *)ev.data.scalar.value,
				      ev.data.scalar.length);
			if (key && aml_ynode_get(node, key) != NULL) {
				aml_seterr(st->err, st->errlen,
					   "%s:%lu: duplicate key '%s'", st->name,
					   (unsigned long)ev.start_mark.line + 1, key);
				free(key);
				yaml_event_delete(&ev);
				return -1;
			}
			yaml_event_delete(&ev);
			if (key == NULL || next_event(st, &ev) != 0) {
				free(key);
				return -1;
			}
		}
		if (parse_node(st, &ev, depth + 1, &child) != 0) {
			free(key);
			return -1;
		}
		if (ynode_push(node, key, child) != 0) {
			free(key);
			aml_ynode_free(child);
			aml_seterr(st->err, st->errlen, "%s: out of memory", st->name);
			return -1;
		}
	}
}

/* Build the node that starts with *ev (consumed). */
static int
parse_node(ystate *st, yaml_event_t *ev, int depth, aml_ynode **out)
{
	int line = (int)ev->start_mark.line + 1;
	aml_ynode *n;

	*out = NULL;
	if (depth > YAML_MAX_DEPTH) {
		aml_seterr(st->err, st->errlen, "%s:%d: nested too deeply",
			   st->name, line);
		yaml_event_delete(ev);
		return -1;
	}
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		aml_seterr(st->err, st->errlen,
			   "%s:%d: aliases (*name) are not supported", st->name, line);
		yaml_event_delete(ev);
		return -1;
	case YAML_SCALAR_EVENT:
		n = ynode_new(AML_Y_SCALAR, line);
		if (n) {
			n->scalar = strndup((const char *)ev->data.scalar.value,
					    ev->data.scalar.length);
			n->quoted = ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
		}
		yaml_event_delete(ev);
		if (n == NULL || n->scalar == NULL) {
			aml_ynode_free(n);
			aml_seterr(st->err, st->errlen, "%s: out of memory", st->name);
			return -1;
		}
		*out = n;
		return 0;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if ((ev->type == YAML_SEQUENCE_START_EVENT
		     && ev->data.sequence_start.anchor)
		    || (ev->type == YAML_MAPPING_START_EVENT
			&& ev->data.mapping_start.anchor)) {
			aml_seterr(st->err, st->errlen,
				   "%s:%d: anchors (&name) are not supported",
				   st->name, line);
			yaml_event_delete(ev);
			return -1;
		}
		n = ynode_new(ev->type == YAML_MAPPING_START_EVENT
			      ? AML_Y_MAP : AML_Y_SEQ, line);
		yaml_event_delete(ev);
		if (n == NULL) {
			aml_seterr(st->err, st->errlen, "%s: out of memory", st->name);
			return -1;
		}
		if (parse_children(st, n, depth) != 0) {
			aml_ynode_free(n);
			return -1;
		}
		*out = n;
		return 0;
	default:
		aml_seterr(st->err, st->errlen, "%s:%d: unexpected YAML event",
			   st->name, line);
		yaml_event_delete(ev);
		return -1;
	}
}

int
aml_yaml_load_string(const char *text, size_t len, const char *name,
		     aml_ynode **out, char *err, size_t errlen)
{
	ystate st;
	yaml_event_t ev;
	aml_ynode *root = NULL;
	int rc = AML_EFORMAT;

	*out = NULL;
	memset(&st, 0, sizeof st);
	st.name = name;
	st.err = err;
	st.errlen = errlen;
	if (!yaml_parser_initialize(&st.parser)) {
		aml_seterr(err, errlen, "%s: out of memory", name);
		return AML_ENOMEM;
	}
	yaml_parser_set_input_string(&st.parser, (const unsigned char *)text, len);

	/* STREAM-START, then DOCUMENT-START or STREAM-END */
	if (next_event(&st, &ev) != 0)
		goto out;
	yaml_event_delete(&ev);
	if (next_event(&st, &ev) != 0)
		goto out;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		root = ynode_new(AML_Y_MAP, 1);
		rc = root ? AML_OK : AML_ENOMEM;
		goto out;
	}
	yaml_event_delete(&ev);
	if (next_event(&st, &ev) != 0)
		goto out;
	if (parse_node(&st, &ev, 0, &root) != 0)
		goto out;
	/* a document that is just "" or "~" counts as empty */
	if (aml_ynode_is_null(root)) {
		aml_ynode_free(root);
		root = ynode_new(AML_Y_MAP, 1);
	}
	if (next_event(&st, &ev) != 0)
		goto out;
	yaml_event_delete(&ev); /* DOCUMENT-END */
	if (next_event(&st, &ev) != 0)
		goto out;
	if (ev.type != YAML_STREAM_END_EVENT) {
		aml_seterr(err, errlen, "%s:%lu: only one YAML document is allowed",
			   name, (unsigned long)ev.start_mark.line + 1);
		yaml_event_delete(&ev);
		goto out;
	}
	yaml_event_delete(&ev);
	rc = root ? AML_OK : AML_ENOMEM;
out:
	yaml_parser_delete(&st.parser);
	if (rc != AML_OK) {
		aml_ynode_free(root);
		return rc;
	}
	*out = root;
	return AML_OK;
}

int
aml_yaml_load_file(const char *path, aml_ynode **out, char *err, size_t errlen)
{
	char *text;
	size_t len;
	int rc;

	*out = NULL;
	rc = aml_read_file(path, YAML_MAX_BYTES, &text, &len, err, errlen);
	if (rc != AML_OK)
		return rc;
	rc = aml_yaml_load_string(text, len, path, out, err, errlen);
	free(text);
	return rc;
}

const aml_ynode *
aml_ynode_get(const aml_ynode *map, const char *key)
{
	size_t i;

	if (map == NULL || map->type != AML_Y_MAP)
		return NULL;
	for (i = 0; i < map->n; i++)
		if (strcmp(map->keys[i], key) == 0)
			return map->items[i];
	return NULL;
}

const char *
aml_ynode_str(const aml_ynode *map, const char *key)
{
	const aml_ynode *v = aml_ynode_get(map, key);

	return v && v->type == AML_Y_SCALAR ? v->scalar : NULL;
}

int
aml_ynode_is_null(const aml_ynode *n)
{
	if (n == NULL || n->type != AML_Y_SCALAR || n->quoted)
		return 0;
	return n->scalar[0] == '\0' || strcmp(n->scalar, "~") == 0
		|| strcmp(n->scalar, "null") == 0 || strcmp(n->scalar, "Null") == 0
		|| strcmp(n->scalar, "NULL") == 0;
}
