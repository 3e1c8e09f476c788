/*
 * loader.h — turning a manifest into a live plugin: find its library,
 * dlopen() it, check its descriptor against the manifest and the core's
 * ABI, then init() it with the host table.
 *
 * Every refusal is one line that names the file and what differs:
 *   plugin 'x' (/p/manifest.yaml): cannot load /p/x.so: <dlerror>
 *   plugin 'x': /p/x.so does not export 'aml_plugin' ...
 *   plugin 'x': /p/x.so was built for plugin ABI 2.0, automlgen has 1.0 ...
 *   plugin 'x': /p/x.so is a provider, its manifest says executor
 */
#ifndef AML_LOADER_H
#define AML_LOADER_H

#include <automlgen/plugin.h>
#include "manifest.h"

struct aml_context;

/* The core's handle of a loaded plugin; plugins see it as opaque. */
struct aml_plugin {
	const aml_manifest *manifest;  /* borrowed from the registry */
	char *slot;                    /* config slot: "provider", "operators.draft" */
	char *libpath;                 /* the library actually loaded */
	void *dl;
	const aml_plugin_desc *desc;
	void *state;                   /* the plugin's, from init() */
	int initialised;
	struct aml_context *ctx;       /* the run it serves; NULL in tests */
};

/* Find the library of m: the manifest's folder, its .libs/ (a build
 * tree), each folder of $AUTOMLGEN_LIBRARY_PATH, then $(pkglibdir).
 * Transferred; NULL with a line in err listing where it looked. */
char *aml_loader_find_library(const aml_manifest *m, char *err, size_t errlen);

/* Load and check m's library without calling init().  slot may be NULL
 * (then "<section>.<name>").  *out is transferred (aml_plugin_close). */
int aml_plugin_load(const aml_manifest *m, const char *slot, aml_plugin **out,
		    char *err, size_t errlen);
/* Call the plugin's init() with the core's host table and ctx. */
int aml_plugin_init(aml_plugin *p, struct aml_context *ctx, char *err, size_t errlen);
/* fini() when initialised, then dlclose(). */
void aml_plugin_close(aml_plugin *p);

/* The kind's function table (borrowed). */
const aml_operator_ops *aml_plugin_operator(const aml_plugin *p);
const aml_provider_ops *aml_plugin_provider(const aml_plugin *p);
const aml_executor_ops *aml_plugin_executor(const aml_plugin *p);
const aml_kb_ops *aml_plugin_kb(const aml_plugin *p);

#endif
