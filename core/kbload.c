/*
 * kbload.c — see kbload.h.
 */
#include "config.h"

#include <dirent.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "kbload.h"
#include "log.h"
#include "util.h"

/* The real paths of the folders loaded so far. */
typedef struct seen {
	char **dirs;
	size_t n;
} seen;

static void
seen_free(seen *s)
{
	while (s->n)
		free(s->dirs[--s->n]);
	free(s->dirs);
}

/* Load the pack in dir unless it was loaded already; a refusal is a
 * warning.  Only AML_ENOMEM is returned. */
static int
load_pack(aml_kb *kb, seen *s, const char *dir)
{
	char perr[AML_ERRLEN] = "", *real = realpath(dir, NULL), **nd;
	size_t i;
	int rc;

	for (i = 0; real && i < s->n; i++)
		if (strcmp(s->dirs[i], real) == 0) {
			free(real);
			return AML_OK;
		}
	rc = aml_kb_add_pack(kb, dir, perr, sizeof perr);
	if (rc == AML_ENOMEM) {
		free(real);
		return rc;
	}
	if (rc != AML_OK)
		aml_warn("knowledge pack skipped: %s", perr);
	if (real == NULL)
		return AML_OK;
	nd = realloc(s->dirs, (s->n + 1) * sizeof *nd);
	if (nd == NULL) {
		free(real);
		return AML_ENOMEM;
	}
	s->dirs = nd;
	s->dirs[s->n++] = real;
	return AML_OK;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* One folder of a path: a pack, or a folder of packs. */
static int
load_dir(aml_kb *kb, seen *s, const char *dir, const char *from)
{
	char *m = aml_path_join(dir, "manifest.yaml"), **names = NULL, **nn;
	size_t n = 0, i;
	struct dirent *de;
	DIR *d;
	int rc = AML_OK;

	if (m == NULL)
		return AML_ENOMEM;
	if (aml_is_file(m)) {
		free(m);
		return load_pack(kb, s, dir);
	}
	free(m);
	d = opendir(dir);
	if (d == NULL) {
		aml_warn("%s: knowledge pack folder %s does not exist", from, dir);
		return AML_OK;
	}
	while (rc == AML_OK && (de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		nn = realloc(names, (n + 1) * sizeof *nn);
		if (nn == NULL || (nn[n] = strdup(de->d_name)) == NULL)
			rc = AML_ENOMEM;
		if (nn)
			names = nn;
		if (rc == AML_OK)
			n++;
	}
	closedir(d);
	if (n > 1)
		qsort(names, n, sizeof *names, cmp_str);
	for (i = 0; i < n; i++) {
		char *sub = rc == AML_OK ? aml_path_join(dir, names[i]) : NULL;
		char *sm = sub ? aml_path_join(sub, "manifest.yaml") : NULL;

		if (rc == AML_OK && sm == NULL)
			rc = AML_ENOMEM;
		else if (rc == AML_OK && aml_is_file(sm))
			rc = load_pack(kb, s, sub);
		free(sm);
		free(sub);
		free(names[i]);
	}
	free(names);
	return rc;
}

/* Every folder of a colon-separated list. */
static int
load_path(aml_kb *kb, seen *s, const char *list, const char *from)
{
	char *copy, *tok, *save = NULL;
	int rc = AML_OK;

	if (list == NULL || list[0] == '\0')
		return AML_OK;
	copy = strdup(list);
	if (copy == NULL)
		return AML_ENOMEM;
	for (tok = strtok_r(copy, ":", &save); tok && rc == AML_OK;
	     tok = strtok_r(NULL, ":", &save))
		rc = load_dir(kb, s, tok, from);
	free(copy);
	return rc;
}

int
aml_kb_load_all(const aml_config *cfg, const aml_registry *reg,
		struct aml_context *ctx, const char *python, aml_kb **out,
		char *err, size_t errlen)
{
	seen s = {NULL, 0};
	aml_kb *kb = NULL;
	size_t i;
	int rc;

	*out = NULL;
	rc = aml_kb_new(&kb);
	if (rc == AML_OK)
		rc = load_path(kb, &s, getenv("AUTOMLGEN_KB_PATH"), "AUTOMLGEN_KB_PATH");
	if (rc == AML_OK && cfg)
		rc = load_path(kb, &s, aml_config_get(cfg, "kb.path"), "kb.path");
	for (i = 0; rc == AML_OK && reg && i < aml_registry_count(reg); i++) {
		const aml_registry_item *it = aml_registry_at(reg, i);

		if (it->manifest == NULL) {
			if (it->error)
				aml_debug("plugin manifest skipped: %s", it->error);
			continue;
		}
		if (it->manifest->kind == AML_KIND_KB && it->shadowed_by == NULL)
			rc = load_pack(kb, &s, it->manifest->dir);
	}
	seen_free(&s);
	if (rc == AML_OK && cfg)
		rc = aml_kb_keep_packs(kb, aml_config_get(cfg, "kb.packs"), err, errlen);
	if (rc == AML_OK && python)
		rc = aml_kb_check_modules(kb, python, err, errlen);
	if (rc == AML_OK && ctx)
		rc = aml_kb_open_retrievers(kb, ctx);
	if (rc != AML_OK) {
		if (rc == AML_ENOMEM)
			aml_seterr(err, errlen, "loading the knowledge base: out of memory");
		aml_kb_free(kb);
		return rc;
	}
	aml_info("knowledge base: %zu entries from %zu packs", aml_kb_size(kb),
		 aml_kb_pack_count(kb));
	*out = kb;
	return AML_OK;
}
