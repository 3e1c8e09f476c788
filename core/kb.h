/*
 * kb.h — the knowledge base: packs of entries (models, preprocessing,
 * strategies) loaded from YAML, filtered against the task and ranked for
 * operators and providers (host->kb_query is backed by aml_kb_search).
 *
 * A pack is a folder:
 *
 *   <pack>/manifest.yaml     name, kind: kb, version, abi, description,
 *                            entries (folder of entry files, default
 *                            "entries"), library (optional: the pack's own
 *                            retriever, a kb plugin; see "Ranking"),
 *                            parameters (the retriever's, as for plugins)
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
 *   limits      {max_rows, max_features, min_rows, min_features}:
 *               non-negative integers
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
 * Ranking (aml_kb_rank, aml_kb_search).  BM25 (see bm25.h: k1 1.2,
 * b 0.75) over every loaded entry, the id, title and tags weighing 3 and
 * the guidance 1; the index is rebuilt at the end of every call that
 * changes the entries, so queries only read it.  A pack whose manifest
 * names a library ranks its own entries: after aml_kb_open_retrievers()
 * its kb plugin's retrieve() is asked (it reads the candidates with
 * host->kb_pack_entries).  The lists — BM25 over the entries of the packs
 * without a retriever, and one list per retriever — are fused by
 * reciprocal rank: score = sum over the lists of 1 / (60 + rank), rank
 * from 1.  As each entry sits in one list this interleaves the lists rank
 * by rank.  With BM25 as the only list the score is the BM25 score.
 * Ties go by priority (higher first), then load order; so does everything
 * when q->text is NULL (every BM25 score is then 0).  Text ranks, never
 * filters (a retriever may leave entries out).  A retriever that fails or
 * returns a pointer that is not one of its candidates gets one warning
 * per pack ("kb: pack 'x': retriever ...; ranked by BM25"), and its pack
 * is ranked by BM25 in that query.  q->id lookups ask no retriever; nor
 * does a query a retriever makes itself (no recursion).
 *
 * Ownership: the aml_kb owns every entry and every string in it, and the
 * retriever plugins it opened.  Entry pointers handed out (aml_kb_at,
 * aml_kb_search) are borrowed and stay valid until aml_kb_free(), except
 * that aml_kb_check_modules() frees the entries it drops: call it once
 * after loading, before handing entries out.  Not thread-safe while
 * loading; queries on a loaded kb (and the retrievers they call) may run
 * concurrently.
 */
#ifndef AML_KB_H
#define AML_KB_H

#include <stddef.h>
#include <automlgen/plugin.h>

typedef struct aml_kb aml_kb;
struct aml_context;

/* One ranked entry. */
typedef struct aml_kb_hit {
	const aml_kb_entry *entry;  /* borrowed, like the entries */
	double score;               /* what ranked it: BM25, or fused (above) */
	double bm25;                /* its BM25 score for q->text (0: no text) */
	const char *ranker;         /* "bm25", or the retriever's pack name */
} aml_kb_hit;

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

/* Open the retriever of every pack whose manifest names a library: its
 * manifest is read as a plugin's (manifest.h), the library found and
 * checked like any plugin's (loader.h), its parameters checked against
 * ctx->cfg and init() called with ctx (borrowed: it must outlive kb, and
 * ctx->kb should be kb once loading is done, for host->kb_pack_entries).
 * A retriever that cannot be opened is one warning ("kb: pack 'x':
 * retriever not used: <why>; its entries are ranked by BM25"); only
 * AML_ENOMEM fails the call.  Call it after aml_kb_check_modules(). */
int aml_kb_open_retrievers(aml_kb *kb, struct aml_context *ctx);

/* Keep only the entries of the packs named in the comma-separated list
 * names (the `kb.packs` ablation switch); NULL or "" keeps everything.  A
 * name that is not a loaded pack is AML_EINVAL with a line listing the
 * loaded ones; each dropped entry is an info line.  Call it, like
 * aml_kb_check_modules(), before handing entries out. */
int aml_kb_keep_packs(aml_kb *kb, const char *names, char *err, size_t errlen);

/* Select and rank entries (named _search, not _query: aml_kb_query is the
 * query struct's type name in plugin.h): q->level and q->id filter exactly (an unknown
 * level is AML_EINVAL; an unknown id gives no entries, not an error);
 * q->applicable_only keeps the entries that fit task (type, output,
 * modality, row and feature limits; a profile field that is unknown, such
 * as train_rows 0, rules nothing out) and needs task non-NULL.  Ranking:
 * see "Ranking" above.  Writes at most min(cap, q->k or cap) borrowed
 * pointers into out and their count in *n. */
int aml_kb_search(const aml_kb *kb, const aml_task *task,
		  const aml_kb_query *q, const aml_kb_entry **out, size_t cap,
		  size_t *n, char *err, size_t errlen);

/* aml_kb_search with the scores: the same entries in the same order. */
int aml_kb_rank(const aml_kb *kb, const aml_task *task, const aml_kb_query *q,
		aml_kb_hit *out, size_t cap, size_t *n, char *err, size_t errlen);

/* The entries of pack that pass q's filters (as aml_kb_search; q->text and
 * q->k are ignored), in load order: at most cap borrowed pointers in out,
 * and the number that pass in *n (may exceed cap).  An unknown pack gives
 * AML_ENOTFOUND.  Backs host->kb_pack_entries. */
int aml_kb_pack_entries(const aml_kb *kb, const char *pack, const aml_task *task,
			const aml_kb_query *q, const aml_kb_entry **out, size_t cap,
			size_t *n, char *err, size_t errlen);

/* The loaded packs: their number, and pack i's name and whether a
 * retriever ranks it (borrowed; NULL past the end). */
size_t aml_kb_pack_count(const aml_kb *kb);
const char *aml_kb_pack_name(const aml_kb *kb, size_t i, int *has_retriever);

/* Number of entries, and entry i in load order (borrowed; NULL past the end). */
size_t aml_kb_size(const aml_kb *kb);
const aml_kb_entry *aml_kb_at(const aml_kb *kb, size_t i);

/* Release kb, all its entries, and close its retrievers (fini, then
 * dlclose); NULL is fine. */
void aml_kb_free(aml_kb *kb);

#endif
