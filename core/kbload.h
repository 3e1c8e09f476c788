/*
 * kbload.h — the knowledge packs a run (and `automlgen kb`) uses: where
 * they are found, in which order, and what is done after loading them.
 *
 * Packs load in this order; a pack whose name is already loaded is
 * skipped with a warning (the first one wins, as on the plugin path), and
 * so is a broken pack, the others still load:
 *   1. $AUTOMLGEN_KB_PATH (colon-separated folders)
 *   2. the config key kb.path (colon-separated folders)
 *   3. the kb plugins of the registry (registry.h: $AUTOMLGEN_PLUGIN_PATH,
 *      plugins.path, then the installed kb-packs/)
 * A folder of 1 or 2 is a pack (it holds manifest.yaml) or a folder of
 * pack folders, taken in name order; one that does not exist is a
 * warning.  A folder met twice (same real path) is loaded once.
 */
#ifndef AML_KBLOAD_H
#define AML_KBLOAD_H

#include "conf.h"
#include "kb.h"
#include "registry.h"

struct aml_context;

/* Load every pack (see above) into a new kb (*out, transferred:
 * aml_kb_free), drop the entries whose modules python cannot import
 * (aml_kb_check_modules; python NULL: no check), then, when ctx is not
 * NULL, open the packs' retrievers with ctx (aml_kb_open_retrievers; the
 * caller sets ctx->kb = *out).  With cfg, only the packs its kb.packs
 * names are kept (aml_kb_keep_packs).  cfg may be NULL (no kb.path, no
 * kb.packs), reg too (no registry packs).  Fails when out of memory, when
 * kb.packs names a pack that is not loaded, or when the module check
 * cannot run (err says why; nothing is loaded then). */
int aml_kb_load_all(const aml_config *cfg, const aml_registry *reg,
		    struct aml_context *ctx, const char *python, aml_kb **out,
		    char *err, size_t errlen);

#endif
