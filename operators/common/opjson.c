/*
 * opjson.c — JSON objects in model answers, however the model wrapped
 * them.  Few models that are asked for JSON answer with JSON alone: it
 * comes in a ```json fence, after a sentence of preamble, followed by
 * an explanation, or with a trailing comma; local models without
 * function calling do all of these.  This finds the object without any
 * provider feature.
 */
#include <ctype.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opkit.h"

#define MAX_CANDIDATES 64 /* '{' tried before giving up */

/* Where the object opening at s ('{') closes: the matching '}' counted
 * outside strings, or NULL when the text ends first (a cut answer). */
static const char *
object_end(const char *s)
{
	int depth = 0, in_str = 0;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_str = 0;
		} else if (*s == '"') {
			in_str = 1;
		} else if (*s == '{' || *s == '[') {
			depth++;
		} else if (*s == '}' || *s == ']') {
			if (--depth == 0)
				return *s == '}' ? s : NULL;
		}
	}
	return NULL;
}

/* text[0, len) with the commas that directly precede '}' or ']' (outside
 * strings) removed: the commonest slip of a model writing JSON. */
static char *
drop_trailing_commas(const char *text, size_t len)
{
	char *out = malloc(len + 1);
	size_t i, j = 0, k;
	int in_str = 0;

	if (out == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		char c = text[i];

		if (in_str) {
			if (c == '\\' && i + 1 < len)
				out[j++] = text[i++];
			else if (c == '"')
				in_str = 0;
		} else if (c == '"') {
			in_str = 1;
		} else if (c == ',') {
			for (k = i + 1; k < len && isspace((unsigned char)text[k]); k++)
				;
			if (k < len && (text[k] == '}' || text[k] == ']'))
				continue;
		}
		out[j++] = text[i];
	}
	out[j] = '\0';
	return out;
}

/* text[0, len) parsed as a JSON object (as written, then without
 * trailing commas), or NULL. */
static json_object *
parse_object(const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	json_object *o = NULL;
	char *fixed;
	int pass;

	if (tok == NULL)
		return NULL;
	for (pass = 0; pass < 2 && o == NULL; pass++) {
		const char *s = text;
		size_t n = len;

		fixed = NULL;
		if (pass == 1) {
			fixed = drop_trailing_commas(text, len);
			if (fixed == NULL)
				break;
			s = fixed;
			n = strlen(fixed);
		}
		json_tokener_reset(tok);
		o = json_tokener_parse_ex(tok, s, (int)n);
		/* the whole span must be the object: nothing left, nothing owed */
		if (o && (json_tokener_get_error(tok) != json_tokener_success
			  || strspn(s + json_tokener_get_parse_end(tok), " \t\r\n")
			     != n - json_tokener_get_parse_end(tok)
			  || !json_object_is_type(o, json_type_object))) {
			json_object_put(o);
			o = NULL;
		}
		free(fixed);
	}
	json_tokener_free(tok);
	return o;
}

int
opkit_json_extract(const char *answer, json_object **out, char *err, size_t errlen)
{
	const char *p, *end;
	size_t tried = 0;
	int cut = 0;

	*out = NULL;
	if (answer == NULL || answer[0] == '\0') {
		opkit_seterr(err, errlen, "the answer is empty");
		return AML_EFORMAT;
	}
	/* the first '{' whose balanced span parses: covers the bare object,
	 * the fenced one and the one inside prose alike */
	for (p = strchr(answer, '{'); p && tried < MAX_CANDIDATES; p = strchr(p + 1, '{'), tried++) {
		end = object_end(p);
		if (end == NULL) {
			cut = 1;
			continue;
		}
		*out = parse_object(p, (size_t)(end - p + 1));
		if (*out)
			return AML_OK;
	}
	opkit_seterr(err, errlen, tried == 0 ? "the answer has no JSON object"
	       : cut ? "the answer's JSON object is cut off before its end"
	       : "the answer has no JSON object that parses");
	return AML_EFORMAT;
}

const char *
opkit_json_string(json_object *o, const char *const *keys)
{
	json_object *v;

	for (; *keys; keys++)
		if (json_object_object_get_ex(o, *keys, &v) && json_object_is_type(v, json_type_string))
			return json_object_get_string(v);
	return NULL;
}
