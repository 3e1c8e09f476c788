/*
 * kb.h — the knowledge base: packs of entries (models, preprocessing,
 * strategies) loaded from YAML, filtered against the task and ranked for
 * operators and providers (host->kb_query is backed by aml_kb_search).
 *
 * A pack is a folder:
 *
 *   <pack>/manifest.yaml     name, kind: kb, version, abi, description,
 *                            entries (folder of entry files, default
 *                            "entries"), library (optional retriever .so,
 *                            not used yet)
 *   <pack>/entries/NAME.yaml  ONE entry per file (.yaml or .yml, read in
 *                            name order; other files are ignored)
 *   <pack>/...               anything an entry's code_file names
 *
 * Entry fields (only id, level and title are required):
 *
 *   id          unique across packs, [A-Za-z0-9_.-], e.g. tabular.random_forest
 *   level       model | data | strategy
 *   title       one line
 *   guidance    text for prompts
 *   task_types  [binary, multiclass, regression, multi_regression]; empty = any
 *   outputs     [label, proba, class_proba, value]; empty = any
 *   modalities  [tabular, text, image, timeseries]; empty = any
 *   limits      {max_rows, max_features, min_rows}: non-negative integers
 *   priority    integer, default 50: breaks ties in ranking (higher first)
 *   code        a Python template with {{slot}} names, or
 *   code_file   the template's path relative to the pack folder
 *   space       hyper-parameters: name -> {type: int|float|log_float|choice,
 *               low, high, choices, default}; default is required, and in
 *               range / among the choices.  Slots in the code of an entry
 *               must name its space parameters, except in entries tagged
 *               "skeleton", whose slots the provider fills.
 *   modules     Python modules the code imports, e.g. [xgboost]
 *   tags, references   lists of strings
 *
 * Unquoted YAML scalars become JSON numbers, booleans (true/false) and
 * null where they spell one; quote a value to keep it a string.
 *
 * Ownership: the aml_kb owns every entry and every string in it.  Entry
 * pointers handed out (aml_kb_at, aml_kb_search) are borrowed and stay
 * valid until aml_kb_free(), except that aml_kb_check_modules() frees the
 * entries it drops: call it once after loading, before handing entries out.
 * Not thread-safe while loading; queries on a loaded kb may run
 * concurrently.
 */
#ifndef AML_KB_H
#define AML_KB_H

#include <stddef.h>
#include <automlgen/plugin.h>

typedef struct aml_kb aml_kb;

/* A new, empty knowledge base (transferred: aml_kb_free). */
int aml_kb_new(aml_kb **out);

/* Load the pack in folder dir.  A malformed entry is reported (aml_warn,
 * "file:line: problem; entry skipped") and skipped, as is an entry whose
 * id another entry already has.  A missing or malformed manifest, a wrong
 * kind or ABI, a pack name already loaded or a missing entries folder
 * fail the call with "file:line: problem" in err, leaving kb unchanged. */
int aml_kb_add_pack(aml_kb *kb, const char *dir, char *err, size_t errlen);

/* Drop the entries whose Python modules do not import under the
 * interpreter python (a path or a name on PATH), with one interpreter call
 * for all modules and one info line per dropped entry ("kb: skipping
 * tabular.xgboost: module xgboost not importable").  Fails (AML_EIO,
 * dropping nothing) when the interpreter cannot be run or times out. */
int aml_kb_check_modules(aml_kb *kb, const char *python, char *err,
			 size_t errlen);

/* Select and rank entries (named _search, not _query: aml_kb_query is the
 * query struct's type name in plugin.h): q->level and q->id filter exactly (an unknown
 * level is AML_EINVAL; an unknown id gives no entries, not an error);
 * q->applicable_only keeps the entries that fit task (type, output,
 * modality, row and feature limits; a profile field that is unknown, such
 * as train_rows 0, rules nothing out) and needs task non-NULL.  Ranking:
 * the term overlap of q->text with the entry (id, title and tags weigh
 * more than guidance), then priority, then load order.  Writes at most
 * min(cap, q->k or cap) borrowed pointers into out and their count in *n. */
int aml_kb_search(const aml_kb *kb, const aml_task *task,
		  const aml_kb_query *q, const aml_kb_entry **out, size_t cap,
		  size_t *n, char *err, size_t errlen);

/* Number of entries, and entry i in load order (borrowed; NULL past the end). */
size_t aml_kb_size(const aml_kb *kb);
const aml_kb_entry *aml_kb_at(const aml_kb *kb, size_t i);

/* Release kb and all its entries; NULL is fine. */
void aml_kb_free(aml_kb *kb);

#endif
