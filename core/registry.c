/*
 * registry.c — see registry.h.
 */
#include "config.h"

#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"
#include "util.h"

#ifndef PKGDATADIR
#define PKGDATADIR "/usr/local/share/automlgen"
#endif

struct aml_registry {
	aml_registry_item *items;
	size_t n, cap;
	char *path;
};

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
add_item(aml_registry *r, const char *mpath)
{
	char err[AML_ERRLEN] = "";
	aml_registry_item *it;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->items[i].manifest_path, mpath) == 0)
			return AML_OK; /* the same folder twice on the path */
	if (r->n == r->cap) {
		size_t cap = r->cap ? r->cap * 2 : 16;
		aml_registry_item *items = realloc(r->items, cap * sizeof *items);

		if (items == NULL)
			return AML_ENOMEM;
		r->items = items;
		r->cap = cap;
	}
	it = &r->items[r->n];
	memset(it, 0, sizeof *it);
	it->manifest_path = strdup(mpath);
	if (it->manifest_path == NULL)
		return AML_ENOMEM;
	if (aml_manifest_load(mpath, &it->manifest, err, sizeof err) != AML_OK) {
		it->error = strdup(err);
		if (it->error == NULL) {
			free(it->manifest_path);
			return AML_ENOMEM;
		}
	}
	r->n++;
	return AML_OK;
}

/* One folder of the path: a plugin, or a folder of plugins. */
static int
scan_dir(aml_registry *r, const char *dir)
{
	char *mpath = aml_path_join(dir, "manifest.yaml");
	char **names = NULL;
	size_t n = 0, cap = 0, i;
	struct dirent *de;
	DIR *d;
	int rc = AML_OK;

	if (mpath == NULL)
		return AML_ENOMEM;
	if (aml_is_file(mpath)) {
		rc = add_item(r, mpath);
		free(mpath);
		return rc;
	}
	free(mpath);
	d = opendir(dir);
	if (d == NULL)
		return AML_OK; /* a missing folder on the path is not an error */
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nn = realloc(names, (cap ? cap * 2 : 16) * sizeof *nn);

			if (nn == NULL) {
				rc = AML_ENOMEM;
				break;
			}
			names = nn;
			cap = cap ? cap * 2 : 16;
		}
		if ((names[n] = strdup(de->d_name)) == NULL) {
			rc = AML_ENOMEM;
			break;
		}
		n++;
	}
	closedir(d);
	if (n)
		qsort(names, n, sizeof *names, name_cmp);
	for (i = 0; i < n; i++) {
		if (rc == AML_OK) {
			char *sub = aml_path_join(dir, names[i]);
			char *m = sub ? aml_path_join(sub, "manifest.yaml") : NULL;

			if (m == NULL)
				rc = AML_ENOMEM;
			else if (aml_is_file(m))
				rc = add_item(r, m);
			free(sub);
			free(m);
		}
		free(names[i]);
	}
	free(names);
	return rc;
}

static void
path_add(aml_sb *p, const char *list)
{
	if (list == NULL || list[0] == '\0')
		return;
	if (p->len)
		aml_sb_puts(p, ":");
	aml_sb_puts(p, list);
}

int
aml_registry_scan(const char *extra_path, aml_registry **out,
		  char *err, size_t errlen)
{
	aml_registry *r;
	aml_sb path = {0};
	char *copy, *tok, *save = NULL;
	size_t i, j;
	int rc = AML_OK;

	*out = NULL;
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return AML_ENOMEM;
	path_add(&path, getenv("AUTOMLGEN_PLUGIN_PATH"));
	path_add(&path, extra_path);
	path_add(&path, PKGDATADIR "/plugins:" PKGDATADIR "/operators:" PKGDATADIR "/kb-packs");
	if (path.oom) {
		free(r);
		return AML_ENOMEM;
	}
	r->path = aml_sb_take(&path);
	copy = r->path ? strdup(r->path) : NULL;
	if (copy == NULL) {
		aml_registry_free(r);
		return AML_ENOMEM;
	}
	for (tok = strtok_r(copy, ":", &save); tok && rc == AML_OK;
	     tok = strtok_r(NULL, ":", &save))
		rc = scan_dir(r, tok);
	free(copy);
	if (rc != AML_OK) {
		aml_seterr(err, errlen, "scanning plugins: %s", aml_strerror(rc));
		aml_registry_free(r);
		return rc;
	}
	/* earlier on the path wins */
	for (i = 0; i < r->n; i++) {
		const aml_manifest *a = r->items[i].manifest;

		if (a == NULL || r->items[i].shadowed_by)
			continue;
		for (j = i + 1; j < r->n; j++) {
			const aml_manifest *b = r->items[j].manifest;

			if (b && b->kind == a->kind && strcmp(a->name, b->name) == 0)
				r->items[j].shadowed_by = &r->items[i];
		}
	}
	*out = r;
	return AML_OK;
}

void
aml_registry_free(aml_registry *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->n; i++) {
		free(r->items[i].manifest_path);
		aml_manifest_free(r->items[i].manifest);
		free(r->items[i].error);
	}
	free(r->items);
	free(r->path);
	free(r);
}

size_t
aml_registry_count(const aml_registry *r)
{
	return r->n;
}

const aml_registry_item *
aml_registry_at(const aml_registry *r, size_t i)
{
	return i < r->n ? &r->items[i] : NULL;
}

const char *
aml_registry_path(const aml_registry *r)
{
	return r->path;
}

const aml_manifest *
aml_registry_find(const aml_registry *r, aml_kind kind, const char *name,
		  char *err, size_t errlen)
{
	aml_sb have = {0};
	size_t i;

	for (i = 0; i < r->n; i++) {
		const aml_manifest *m = r->items[i].manifest;

		if (m && m->kind == kind && strcmp(m->name, name) == 0
		    && r->items[i].shadowed_by == NULL)
			return m;
	}
	/* a broken manifest in a folder named like the plugin is the likely culprit */
	for (i = 0; i < r->n; i++) {
		const aml_registry_item *it = &r->items[i];
		char *dir = it->error ? strdup(it->manifest_path) : NULL;
		char *base;

		if (dir == NULL)
			continue;
		*strrchr(dir, '/') = '\0';
		base = aml_path_base(dir);
		if (base && strcmp(base, name) == 0) {
			aml_seterr(err, errlen, "%s plugin '%s' is unusable: %s",
				   aml_kind_name(kind), name, it->error);
			free(base);
			free(dir);
			return NULL;
		}
		free(base);
		free(dir);
	}
	for (i = 0; i < r->n; i++) {
		const aml_manifest *m = r->items[i].manifest;

		if (m && m->kind == kind && r->items[i].shadowed_by == NULL)
			aml_sb_printf(&have, "%s%s", have.len ? ", " : "", m->name);
	}
	aml_seterr(err, errlen, "no %s plugin named '%s' (available: %s; search path: %s)",
		   aml_kind_name(kind), name, have.len ? have.s : "none", r->path);
	aml_sb_free(&have);
	return NULL;
}
