/*
 * ks_util.c — kbsynth's small helpers: a growable string (the core's is
 * not reachable from a plugin), Python literals of JSON values, JSON
 * accessors and comparison, and a seeded random generator.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ks.h"

void
ks_buf_add(ks_buf *b, const char *s, size_t n)
{
	char *p;
	size_t cap;

	if (b->oom)
		return;
	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 256;
		while (cap < b->len + n + 1)
			cap *= 2;
		p = realloc(b->s, cap);
		if (p == NULL) {
			b->oom = 1;
			return;
		}
		b->s = p;
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

void
ks_buf_puts(ks_buf *b, const char *s)
{
	ks_buf_add(b, s, strlen(s));
}

void
ks_buf_printf(ks_buf *b, const char *fmt, ...)
{
	char small[512], *big;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof small, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if ((size_t)n < sizeof small) {
		ks_buf_add(b, small, (size_t)n);
		return;
	}
	big = malloc((size_t)n + 1);
	if (big == NULL) {
		b->oom = 1;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(big, (size_t)n + 1, fmt, ap);
	va_end(ap);
	ks_buf_add(b, big, (size_t)n);
	free(big);
}

void
ks_buf_oneline(ks_buf *b, const char *s, size_t max)
{
	size_t i;

	for (i = 0; s[i] && i < max; i++) {
		char c = s[i] == '\n' || s[i] == '\r' || s[i] == '\t' ? ' ' : s[i];

		ks_buf_add(b, &c, 1);
	}
	if (s[i])
		ks_buf_puts(b, "...");
}

void
ks_buf_free(ks_buf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}

const char *
ks_buf_str(const ks_buf *b)
{
	return b->s ? b->s : "";
}

void
ks_seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------------ */
/* JSON to Python source.                                              */

void
ks_py_string(ks_buf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	ks_buf_puts(b, "'");
	for (; *p; p++) {
		switch (*p) {
		case '\\': ks_buf_puts(b, "\\\\"); break;
		case '\'': ks_buf_puts(b, "\\'"); break;
		case '\n': ks_buf_puts(b, "\\n"); break;
		case '\r': ks_buf_puts(b, "\\r"); break;
		case '\t': ks_buf_puts(b, "\\t"); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				ks_buf_printf(b, "\\x%02x", *p);
			else
				ks_buf_add(b, (const char *)p, 1);
		}
	}
	ks_buf_puts(b, "'");
}

/* A float that Python reads back as the same float. */
static void
py_float(ks_buf *b, double d)
{
	char s[64];
	int prec;

	if (d != d || isinf(d)) {
		ks_buf_printf(b, "float('%s')", d != d ? "nan" : d > 0 ? "inf" : "-inf");
		return;
	}
	for (prec = 12; prec <= 17; prec++) {
		snprintf(s, sizeof s, "%.*g", prec, d);
		if (strtod(s, NULL) == d)
			break;
	}
	if (strspn(s, "-0123456789") == strlen(s))
		strcat(s, ".0");
	ks_buf_puts(b, s);
}

void
ks_py_value(ks_buf *b, json_object *v)
{
	size_t i, n;
	int first = 1;

	switch (json_object_get_type(v)) {
	case json_type_null: ks_buf_puts(b, "None"); break;
	case json_type_boolean:
		ks_buf_puts(b, json_object_get_boolean(v) ? "True" : "False");
		break;
	case json_type_int:
		ks_buf_printf(b, "%lld", (long long)json_object_get_int64(v));
		break;
	case json_type_double: py_float(b, json_object_get_double(v)); break;
	case json_type_string: ks_py_string(b, json_object_get_string(v)); break;
	case json_type_array:
		ks_buf_puts(b, "[");
		n = json_object_array_length(v);
		for (i = 0; i < n; i++) {
			if (i)
				ks_buf_puts(b, ", ");
			ks_py_value(b, json_object_array_get_idx(v, i));
		}
		ks_buf_puts(b, "]");
		break;
	case json_type_object: {
		json_object_object_foreach(v, key, val) {
			ks_buf_puts(b, first ? "{" : ", ");
			first = 0;
			ks_py_string(b, key);
			ks_buf_puts(b, ": ");
			ks_py_value(b, val);
		}
		ks_buf_puts(b, first ? "{}" : "}");
		break;
	}
	}
}

void
ks_value_words(ks_buf *b, json_object *v)
{
	switch (json_object_get_type(v)) {
	case json_type_null: ks_buf_puts(b, "None"); break;
	case json_type_string: ks_buf_puts(b, json_object_get_string(v)); break;
	case json_type_double: ks_buf_printf(b, "%.6g", json_object_get_double(v)); break;
	default: ks_buf_puts(b, ks_json_text(v)); break;
	}
}

const char *
ks_json_text(json_object *o)
{
	return json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN
					      | JSON_C_TO_STRING_NOSLASHESCAPE);
}

static int
is_number(json_object *v)
{
	return json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double);
}

int
ks_json_equal(json_object *a, json_object *b)
{
	if (a == NULL || b == NULL)
		return (a == NULL || json_object_is_type(a, json_type_null))
			&& (b == NULL || json_object_is_type(b, json_type_null));
	if (is_number(a) && is_number(b))
		return json_object_get_double(a) == json_object_get_double(b);
	return json_object_equal(a, b);
}

json_object *
ks_json_copy(json_object *v)
{
	json_object *c = NULL;

	if (v == NULL)
		return NULL;
	if (json_object_deep_copy(v, &c, NULL) != 0)
		return NULL;
	return c;
}

json_object *
ks_obj_get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o && json_object_is_type(o, json_type_object))
		json_object_object_get_ex(o, key, &v);
	return v;
}

const char *
ks_obj_str(json_object *o, const char *key)
{
	json_object *v = ks_obj_get(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

int
ks_json_has_str(json_object *arr, const char *s)
{
	size_t i, n;

	if (arr == NULL || !json_object_is_type(arr, json_type_array))
		return 0;
	n = json_object_array_length(arr);
	for (i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);

		if (json_object_is_type(v, json_type_string)
		    && strcmp(json_object_get_string(v), s) == 0)
			return 1;
	}
	return 0;
}

/* The length of the line at s without trailing whitespace; *next gets
 * the start of the following line. */
static size_t
line_at(const char *s, const char **next)
{
	const char *nl = strchr(s, '\n');
	size_t n = nl ? (size_t)(nl - s) : strlen(s);

	*next = nl ? nl + 1 : s + n;
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		n--;
	return n;
}

static const char *
skip_blank_tail(const char *s)
{
	const char *p = s;

	while (*p && isspace((unsigned char)*p))
		p++;
	return *p ? s : p;
}

int
ks_same_script(const char *a, const char *b)
{
	const char *na, *nb;
	size_t la, lb;

	if (a == NULL || b == NULL)
		return a == b;
	for (;;) {
		a = skip_blank_tail(a);
		b = skip_blank_tail(b);
		if (*a == '\0' || *b == '\0')
			return *a == *b;
		la = line_at(a, &na);
		lb = line_at(b, &nb);
		if (la != lb || memcmp(a, b, la) != 0)
			return 0;
		a = na;
		b = nb;
	}
}

int
ks_contains(const char *hay, const char *needle)
{
	size_t n = strlen(needle);

	for (; hay && *hay; hay++)
		if (strncasecmp(hay, needle, n) == 0)
			return 1;
	return 0;
}

/* ------------------------------------------------------------------ */
/* The seeded generator.                                               */

void
ks_rng_seed(ks_rng *r, uint64_t seed, const char *salt)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a of the salt */

	for (; salt && *salt; salt++)
		h = (h ^ (unsigned char)*salt) * 1099511628211ULL;
	r->s = seed ^ h;
}

uint64_t
ks_rng_next(ks_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

size_t
ks_rng_below(ks_rng *r, size_t n)
{
	return n ? (size_t)(ks_rng_next(r) % n) : 0;
}
