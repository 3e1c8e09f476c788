/*
 * loader.c — see loader.h.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "loader.h"
#include "util.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/automlgen"
#endif

static int
try_path(aml_sb *tried, const char *dir, const char *lib, char **out)
{
	char *p = aml_path_join(dir, lib);

	if (p == NULL)
		return AML_ENOMEM;
	if (aml_is_file(p)) {
		*out = p;
		return AML_OK;
	}
	aml_sb_printf(tried, "%s%s", tried->len ? ", " : "", dir);
	free(p);
	return AML_ENOTFOUND;
}

char *
aml_loader_find_library(const aml_manifest *m, char *err, size_t errlen)
{
	aml_sb tried = {0};
	const char *lp = getenv("AUTOMLGEN_LIBRARY_PATH");
	char *libs = aml_path_join(m->dir, ".libs");
	char *found = NULL, *copy, *tok, *save = NULL;

	if (m->library == NULL) {
		aml_seterr(err, errlen, "plugin '%s' (%s) has no library", m->name, m->path);
		free(libs);
		return NULL;
	}
	if (libs == NULL)
		return NULL;
	if (try_path(&tried, m->dir, m->library, &found) == AML_OK
	    || try_path(&tried, libs, m->library, &found) == AML_OK)
		goto out;
	if (lp && (copy = strdup(lp)) != NULL) {
		for (tok = strtok_r(copy, ":", &save); tok; tok = strtok_r(NULL, ":", &save))
			if (try_path(&tried, tok, m->library, &found) == AML_OK)
				break;
		free(copy);
		if (found)
			goto out;
	}
	if (try_path(&tried, PKGLIBDIR, m->library, &found) == AML_OK)
		goto out;
	aml_seterr(err, errlen, "plugin '%s' (%s): library %s not found (looked in %s)",
		   m->name, m->path, m->library, tried.len ? tried.s : "nowhere");
out:
	aml_sb_free(&tried);
	free(libs);
	return found;
}

static int
refuse(aml_plugin *p, int rc)
{
	aml_plugin_close(p);
	return rc;
}

int
aml_plugin_load(const aml_manifest *m, const char *slot, aml_plugin **out,
		char *err, size_t errlen)
{
	const aml_plugin_desc *d;
	aml_plugin *p;

	*out = NULL;
	/* the manifest's own ABI claim is checked before anything is opened */
	if (m->abi_major != AML_ABI_MAJOR || m->abi_minor > AML_ABI_MINOR) {
		aml_seterr(err, errlen,
			   "plugin '%s' (%s) declares plugin ABI %u.%u, automlgen has %d.%d "
			   "(major must match, minor <= %d); rebuild or update the plugin",
			   m->name, m->path, m->abi_major, m->abi_minor,
			   AML_ABI_MAJOR, AML_ABI_MINOR, AML_ABI_MINOR);
		return AML_EABI;
	}
	p = calloc(1, sizeof *p);
	if (p == NULL)
		return AML_ENOMEM;
	p->manifest = m;
	if (slot) {
		p->slot = strdup(slot);
	} else {
		aml_sb s = {0};

		aml_sb_printf(&s, "%s.%s", aml_kind_section(m->kind), m->name);
		p->slot = aml_sb_take(&s);
	}
	if (p->slot == NULL)
		return refuse(p, AML_ENOMEM);
	p->libpath = aml_loader_find_library(m, err, errlen);
	if (p->libpath == NULL)
		return refuse(p, AML_ENOTFOUND);
	p->dl = dlopen(p->libpath, RTLD_NOW | RTLD_LOCAL);
	if (p->dl == NULL) {
		const char *why = dlerror();

		aml_seterr(err, errlen, "plugin '%s' (%s): cannot load %s: %s",
			   m->name, m->path, p->libpath, why ? why : "unknown error");
		return refuse(p, AML_EPLUGIN);
	}
	d = dlsym(p->dl, AML_PLUGIN_SYMBOL);
	if (d == NULL) {
		aml_seterr(err, errlen,
			   "plugin '%s': %s does not export '%s' (declare it with AML_PLUGIN_DEFINE)",
			   m->name, p->libpath, AML_PLUGIN_SYMBOL);
		return refuse(p, AML_EPLUGIN);
	}
	/* ABI first: nothing past these two fields is trusted before this */
	if (d->abi_major != AML_ABI_MAJOR || d->abi_minor > AML_ABI_MINOR) {
		aml_seterr(err, errlen,
			   "plugin '%s': %s was built for plugin ABI %u.%u, automlgen has %d.%d "
			   "(major must match, minor <= %d); rebuild the plugin",
			   m->name, p->libpath, d->abi_major, d->abi_minor,
			   AML_ABI_MAJOR, AML_ABI_MINOR, AML_ABI_MINOR);
		return refuse(p, AML_EABI);
	}
	if (d->kind != (uint32_t)m->kind) {
		aml_seterr(err, errlen, "plugin '%s': %s is a%s %s, its manifest %s says %s",
			   m->name, p->libpath,
			   d->kind == AML_KIND_OPERATOR || d->kind == AML_KIND_EXECUTOR ? "n" : "",
			   aml_kind_name((aml_kind)d->kind), m->path, aml_kind_name(m->kind));
		return refuse(p, AML_EPLUGIN);
	}
	if (d->name == NULL || strcmp(d->name, m->name) != 0) {
		aml_seterr(err, errlen, "plugin '%s': %s is named '%s', its manifest %s says '%s'",
			   m->name, p->libpath, d->name ? d->name : "(null)", m->path, m->name);
		return refuse(p, AML_EPLUGIN);
	}
	if (d->version == NULL || strcmp(d->version, m->version) != 0) {
		aml_seterr(err, errlen, "plugin '%s': %s is version %s, its manifest %s says %s",
			   m->name, p->libpath, d->version ? d->version : "(null)", m->path,
			   m->version);
		return refuse(p, AML_EPLUGIN);
	}
	if (d->ops == NULL || (m->kind == AML_KIND_OPERATOR
			       && ((const aml_operator_ops *)d->ops)->run == NULL)
	    || (m->kind == AML_KIND_PROVIDER
		&& ((const aml_provider_ops *)d->ops)->complete == NULL)
	    || (m->kind == AML_KIND_EXECUTOR
		&& ((const aml_executor_ops *)d->ops)->run == NULL)
	    || (m->kind == AML_KIND_KB && ((const aml_kb_ops *)d->ops)->retrieve == NULL)) {
		aml_seterr(err, errlen, "plugin '%s': %s has no %s function table",
			   m->name, p->libpath, aml_kind_name(m->kind));
		return refuse(p, AML_EPLUGIN);
	}
	p->desc = d;
	*out = p;
	return AML_OK;
}

int
aml_plugin_init(aml_plugin *p, struct aml_context *ctx, char *err, size_t errlen)
{
	char perr[AML_ERRLEN] = "";
	int rc;

	p->ctx = ctx;
	if (p->desc->init) {
		rc = p->desc->init(aml_host_table(), p, &p->state, perr, sizeof perr);
		if (rc != AML_OK) {
			aml_seterr(err, errlen, "plugin '%s': init failed: %s", p->manifest->name,
				   perr[0] ? perr : aml_strerror(rc));
			return rc < 0 ? rc : AML_EPLUGIN;
		}
	}
	p->initialised = 1;
	return AML_OK;
}

void
aml_plugin_close(aml_plugin *p)
{
	if (p == NULL)
		return;
	if (p->initialised && p->desc->fini)
		p->desc->fini(p->state);
	/* Sanitizer builds keep the library mapped so leak reports can still
	 * name the plugin's frames. */
#ifndef AML_KEEP_PLUGINS_MAPPED
	if (p->dl)
		dlclose(p->dl);
#endif
	free(p->slot);
	free(p->libpath);
	free(p);
}

const aml_operator_ops *
aml_plugin_operator(const aml_plugin *p)
{
	return p->desc->kind == AML_KIND_OPERATOR ? p->desc->ops : NULL;
}

const aml_provider_ops *
aml_plugin_provider(const aml_plugin *p)
{
	return p->desc->kind == AML_KIND_PROVIDER ? p->desc->ops : NULL;
}

const aml_executor_ops *
aml_plugin_executor(const aml_plugin *p)
{
	return p->desc->kind == AML_KIND_EXECUTOR ? p->desc->ops : NULL;
}

const aml_kb_ops *
aml_plugin_kb(const aml_plugin *p)
{
	return p->desc->kind == AML_KIND_KB ? p->desc->ops : NULL;
}
