/*
 * ks.h — the inside of the kbsynth provider (not installed, not part of
 * the ABI): the pieces its files share.
 *
 *   kbsynth.c    the plugin: parameters, complete(), dispatch by operator
 *   ks_util.c    strings, Python literals, JSON helpers, the seeded RNG
 *   ks_recipe.c  knowledge entries, recipes (read, write, compare, change)
 *   ks_change.c  single changes: differences, applying, steps in a space
 *   ks_candidates.c  the changes that fit a recipe, and the choice
 *   ks_profile.c a look at the training data (column kinds, levels)
 *   ks_render.c  a recipe rendered into a script through the skeleton
 *   ks_draft.c   the draft operator's answers
 *   ks_debug.c   ... debug's
 *   ks_improve.c ... improve's
 *   ks_fuse.c    ... fuse's
 *   ks_recall.c  ... recall's
 *
 * A recipe is what a script is made of: its model(s) with their
 * hyper-parameters, the data entries (preprocessing) with theirs, the
 * strategy entries with theirs, and the skeleton's own options (folds,
 * validation, test_from, class_weight).  Every script kbsynth writes
 * carries its recipe as one JSON comment line near the top,
 *
 *   # automlgen-recipe: {"model": ID, "params": {...},      one model, or
 *                        "models": [{"model", "params"}, ...], a blend
 *                        "preprocess": [IDS], "data_params": {ID: {...}},
 *                        "strategy": [IDS], "strategy_params": {ID: {...}},
 *                        "pipeline": ID, "seed": S, "folds": K,
 *                        "validation": "cv"|"holdout",
 *                        "test_from": "refit"|"folds",
 *                        "class_weight": "none"|"balanced"}
 *
 * (data_params, strategy_params, test_from and class_weight only when
 * they differ from the entries' defaults), so the other operators' answers
 * read the parent's recipe, change it and render it again.
 *
 * Ownership: json_object pointers in structs are owned by the struct
 * unless marked borrowed; entries (ks_entry) belong to the ks_kb of the
 * request and live as long as it.
 */
#ifndef KS_H
#define KS_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include <automlgen/plugin.h>

#define KS_RECIPE_TAG "# automlgen-recipe:"
#define KS_MAX_ENTRIES 256 /* entries of one level */
#define KS_MAX_PARTS 32    /* data or strategy entries in one recipe */
#define KS_MAX_MODELS 4    /* models in one recipe (a blend) */
#define KS_LINEAGE 8       /* ancestors' recipe hashes a recipe carries */
#define KS_MAX_CHANGES 128 /* changes between two recipes, candidates */

typedef struct ks_state {
	const aml_host *host;
	aml_plugin *self;
	long n_folds;       /* parameters, read at init */
	long holdout_rows;
	long max_blend;
	double latency_s;
} ks_state;

/* ------------------------------------------------------------------ */
/* ks_util.c                                                           */

typedef struct ks_buf {
	char *s;
	size_t len, cap;
	int oom;
} ks_buf;

void ks_buf_add(ks_buf *b, const char *s, size_t n);
void ks_buf_puts(ks_buf *b, const char *s);
void ks_buf_printf(ks_buf *b, const char *fmt, ...) AML_PRINTF(2, 3);
/* s on one line (line breaks and tabs as spaces), cut at max characters. */
void ks_buf_oneline(ks_buf *b, const char *s, size_t max);
void ks_buf_free(ks_buf *b);
/* The text so far ("" when empty; never NULL). */
const char *ks_buf_str(const ks_buf *b);

void ks_seterr(char *err, size_t errlen, const char *fmt, ...) AML_PRINTF(3, 4);

/* A JSON value as a Python literal. */
void ks_py_value(ks_buf *b, json_object *v);
void ks_py_string(ks_buf *b, const char *s);
/* A JSON value in a plan line: strings bare, null as None. */
void ks_value_words(ks_buf *b, json_object *v);
/* Compact JSON text of o (borrowed from o). */
const char *ks_json_text(json_object *o);
/* Equal values: numbers by value (1 equals 1.0), others by content. */
int ks_json_equal(json_object *a, json_object *b);
/* A deep copy (NULL for NULL). */
json_object *ks_json_copy(json_object *v);

const char *ks_obj_str(json_object *o, const char *key);
json_object *ks_obj_get(json_object *o, const char *key);
int ks_json_has_str(json_object *arr, const char *s);

/* Two texts are the same script but for trailing whitespace. */
int ks_same_script(const char *a, const char *b);
/* Case-insensitive substring search. */
int ks_contains(const char *hay, const char *needle);

/* A small seeded generator (splitmix64): the answers are deterministic
 * for a given request. */
typedef struct ks_rng {
	uint64_t s;
} ks_rng;

void ks_rng_seed(ks_rng *r, uint64_t seed, const char *salt);
uint64_t ks_rng_next(ks_rng *r);
/* Uniform in [0, n); 0 when n is 0. */
size_t ks_rng_below(ks_rng *r, size_t n);

/* ------------------------------------------------------------------ */
/* ks_recipe.c: entries                                                */

typedef struct ks_entry {
	const aml_kb_entry *e; /* borrowed from the host's knowledge base */
	json_object *j;        /* the entry's JSON, owned */
} ks_entry;

typedef struct ks_list {
	ks_entry v[KS_MAX_ENTRIES];
	size_t n;
} ks_list;

/* The entries that apply to the run's task, by level, best first. */
typedef struct ks_kb {
	ks_list model, data, strat;
	const ks_entry *skeleton; /* the strategy entry tagged "skeleton" */
} ks_kb;

/* Query the host for the applicable entries of every level.  No skeleton
 * or no model is AML_EUNSUPPORTED with a message that says so. */
int ks_kb_load(ks_state *st, const aml_task *task, ks_kb *kb, char *err, size_t errlen);
void ks_kb_free(ks_kb *kb);
const ks_entry *ks_kb_find(const ks_list *l, const char *id);
int ks_entry_tagged(const ks_entry *e, const char *tag);
/* The entry's space (borrowed), or NULL. */
json_object *ks_entry_space(const ks_entry *e);
/* The space defaults, as a new object. */
json_object *ks_default_params(const ks_entry *e);
/* Whether a model entry's code asks for scaled features. */
int ks_model_needs_scaling(const ks_entry *e);
/* A lower-case-first title for use inside a sentence, into b. */
void ks_title_words(ks_buf *b, const char *title);

/* ------------------------------------------------------------------ */
/* ks_recipe.c: recipes                                                */

enum ks_level { KS_LV_MODEL = 0, KS_LV_DATA = 1, KS_LV_STRAT = 2, KS_LV_PIPELINE = 3 };

/* One entry of a recipe and its full parameters (defaults filled in). */
typedef struct ks_part {
	const ks_entry *e;   /* borrowed from the ks_kb */
	json_object *params; /* owned */
} ks_part;

typedef struct ks_recipe {
	ks_part model[KS_MAX_MODELS];
	size_t n_model;
	ks_part data[KS_MAX_PARTS];
	size_t n_data;
	ks_part strat[KS_MAX_PARTS];
	size_t n_strat;
	ks_part pipeline;    /* the skeleton: folds, validation, test_from, class_weight */
	int64_t seed;
	/* hashes (ks_recipe_hash) of the recipes this one was made from by
	 * improve, recall or debug, the parent's first: a change that
	 * would make one of them again is never proposed */
	uint64_t lineage[KS_LINEAGE];
	size_t n_lineage;
} ks_recipe;

void ks_recipe_init(ks_recipe *r);
void ks_recipe_free(ks_recipe *r);
int ks_recipe_copy(ks_recipe *dst, const ks_recipe *src);

/* The parts of one level, their count and capacity; NULL for
 * KS_LV_PIPELINE (the one pipeline part, r->pipeline). */
ks_part *ks_recipe_parts(ks_recipe *r, int level, size_t **n, size_t *cap);
/* The part of entry e at level, or NULL; like strchr(), a const recipe
 * gives a pointer the caller must not write through. */
ks_part *ks_recipe_find(const ks_recipe *r, int level, const ks_entry *e);
/* Add e to a level with params (transferred; NULL: the defaults). */
int ks_recipe_add(ks_recipe *r, int level, const ks_entry *e, json_object *params);
void ks_recipe_remove(ks_recipe *r, int level, const ks_entry *e);

/* Read the recipe line of code.  AML_ENOTFOUND: no recipe line;
 * AML_EFORMAT: the line is not a recipe.  Entries the knowledge base
 * does not offer for this task are left out, each with a sentence in
 * notes (may be NULL); a recipe may so end up without a model, which the
 * caller checks. */
int ks_recipe_read(const ks_kb *kb, const char *code, ks_recipe *r, ks_buf *notes,
		   char *err, size_t errlen);
/* The recipe as the JSON object of its script's recipe line (new). */
json_object *ks_recipe_json(const ks_recipe *r);
/* A hash of what the recipe makes (its line without the lineage); 0
 * when out of memory. */
uint64_t ks_recipe_hash(const ks_recipe *r);
/* next, a copy of base about to be changed, records base as its parent. */
void ks_recipe_descend(ks_recipe *next, const ks_recipe *base);

/* ------------------------------------------------------------------ */
/* ks_recipe.c: changes                                                */

enum ks_change_kind { KS_SET = 0, KS_ADD = 1, KS_DROP = 2 };

/* One change of a recipe: a parameter set to a value, or an entry added
 * (with its parameters in `to`) or dropped. */
typedef struct ks_change {
	int kind;
	int level;
	const ks_entry *e;   /* the entry changed (the skeleton for pipeline options) */
	char key[64];        /* KS_SET: the parameter */
	json_object *from;   /* KS_SET: the old value (owned) */
	json_object *to;     /* KS_SET: the new value; KS_ADD: the params (owned) */
} ks_change;

void ks_change_free(ks_change *c);
void ks_changes_free(ks_change *v, size_t n);
/* The changes that turn a into b, into out (at most cap; *n). */
int ks_recipe_diff(const ks_recipe *a, const ks_recipe *b, ks_change *out, size_t cap,
		   size_t *n);
/* Apply c to r.  AML_ENOTFOUND when the entry it changes is not in r (or,
 * for an addition, already is). */
int ks_change_apply(ks_recipe *r, const ks_change *c);
/* "n_estimators 300 -> 450 in random forest", "folds 5 -> 8",
 * "added seed averaging (tabular.seed_averaging)". */
void ks_change_words(ks_buf *b, const ks_change *c);
/* Whether applying c to base makes one of base's ancestors again (a
 * step back).  Candidate changes always move away from base itself. */
int ks_change_revisits(const ks_recipe *base, const ks_change *c);
/* Same place (level, entry, parameter, kind). */
int ks_change_same_place(const ks_change *a, const ks_change *b);
/* Same place and same new value. */
int ks_change_same(const ks_change *a, const ks_change *b);

/* A parameter moved one step from cur (dir > 0 up, < 0 down) within its
 * space spec: int and float by a factor on wide ranges or a fraction of
 * the range on narrow ones, log_float by a factor, a choice to its
 * neighbour.  A new value, or NULL when it cannot move that way. */
json_object *ks_step(json_object *spec, json_object *cur, int dir);
/* The move from -> to repeated from cur (the same factor, difference or
 * number of choices), kept within the space; NULL when it cannot move. */
json_object *ks_step_like(json_object *spec, json_object *cur, json_object *from,
			  json_object *to);
/* A SET change of part p's key to `to` (transferred). */
int ks_change_set(ks_change *c, int level, const ks_part *p, const char *key,
		  json_object *to);

/* ------------------------------------------------------------------ */
/* ks_render.c                                                         */

/* The answer for recipe r: plan (one line, "Plan: ..."), then the script
 * in a ```python fence, appended to out. */
int ks_render_answer(const aml_task *task, const ks_recipe *r, const char *plan,
		     ks_buf *out, char *err, size_t errlen);
/* Just the script, appended to out. */
int ks_render_script(const aml_task *task, const ks_recipe *r, ks_buf *out,
		     char *err, size_t errlen);
/* "5-fold stratified cross-validation" / "a stratified 80/20 hold-out split". */
void ks_validation_words(ks_buf *b, const aml_task *task, const ks_recipe *r);
/* "Random forest", "a blend of random forest and ridge regression". */
void ks_models_words(ks_buf *b, const ks_recipe *r);
const char *ks_type_name(aml_task_type t);
int ks_is_classification(const aml_task *t);

/* ------------------------------------------------------------------ */
/* ks_profile.c                                                        */

#define KS_PROFILE_MAX_CAT 256

/* What the head of the training file shows (feature columns only). */
typedef struct ks_profile {
	int known;                    /* 0: not read; then nothing is ruled out */
	size_t rows;                  /* rows looked at */
	size_t n_numeric, n_categorical, n_dates;
	size_t n_missing_numeric;     /* numeric columns with missing values */
	size_t n_missing_categorical;
	size_t card[KS_PROFILE_MAX_CAT]; /* levels of each categorical column */
	size_t n_card;
	double date_frac[KS_PROFILE_MAX_CAT]; /* share of date-like values of each text column */
	size_t n_text;
	double class_ratio;           /* largest class over smallest (1: balanced) */
	int target_nonneg;            /* regression: the first target is >= 0 */
	double target_skew;
} ks_profile;

/* Profile the task's training file (and the test file's header).
 * AML_ENOTFOUND, with p->known 0, when they cannot be read. */
int ks_profile_read(const aml_task *t, ks_profile *p);
/* Whether a categorical column has more than min(a, b) and at most
 * max(a, b) levels (a one-hot cut-off moved from a to b changes it). */
int ks_profile_card_between(const ks_profile *p, double a, double b);
/* Whether a text column's share of date-like values lies between a and b
 * (a date threshold moved from a to b changes its fate). */
int ks_profile_dates_between(const ks_profile *p, double a, double b);

/* ------------------------------------------------------------------ */
/* The request, as the operators' answer builders see it.              */

/* A node of the structured request (strings borrowed from its JSON). */
typedef struct ks_node {
	long id, parent_id;
	const char *op, *plan, *code, *status, *reason, *output;
	int has_score;
	double score;
} ks_node;

void ks_node_of(json_object *j, ks_node *n);

typedef struct ks_req {
	ks_state *st;
	json_object *j;        /* the structured request (borrowed) */
	const aml_task *task;  /* the run's task (borrowed) */
	ks_kb *kb;             /* applicable entries */
	ks_rng rng;            /* seeded by the request */
	uint64_t seed;
	long seq;
	long n_folds;          /* the provider's parameters */
	long holdout_rows;
	long max_blend;
	ks_profile profile;    /* the training data, as far as read */
} ks_req;

/* The array at key of the request (borrowed; NULL when absent) and its
 * length. */
json_object *ks_req_array(const ks_req *r, const char *key, size_t *n);
/* Whether score a is better than b for the task. */
int ks_better(const ks_req *r, double a, double b);

/* Candidates: the single changes of one kind that fit recipe base.  The
 * kinds are the improve operator's flavors. */
enum ks_flavor { KS_FL_HYPER = 0, KS_FL_FEATURES = 1, KS_FL_STRATEGY = 2 };
const char *ks_flavor_name(int f);
int ks_candidates(const ks_req *r, const ks_recipe *base, int flavor, ks_change *out,
		  size_t cap, size_t *n);
/* The flavor a change belongs to. */
int ks_change_flavor(const ks_change *c);
/* Whether change c of recipe base can make a difference on this data
 * (the profile): no encoding change without categorical columns, no
 * imputation change without missing values, no class weights for
 * balanced classes...  1 when the profile is unknown. */
int ks_change_matters(const ks_req *r, const ks_recipe *base, const ks_change *c);
/* Whether change c, a difference of another node's recipe from base,
 * may be borrowed into base: of an improve flavor (no model family
 * switch), not a change of validation (the scores would no longer
 * compare), a strategy that suits base's models, and one that can matter
 * on this data. */
int ks_change_borrowable(const ks_req *r, const ks_recipe *base, const ks_change *c);
/* A parameter that sizes a model's work (trees, iterations, units): more
 * of it costs time, less of it is no improvement but a debug fix. */
int ks_is_cost_param(const char *key);
/* Whether a strategy entry suits the recipe's models: it has no
 * "when:<tag>" tags, or one names a tag of one of them, or is
 * "when:always", or "when:blend" and the recipe blends models. */
int ks_strategy_suits(const ks_entry *s, const ks_recipe *r);
/* The changes the request's nodes (siblings or refs) made against base,
 * for those whose scripts carry a recipe (into out, at most cap). */
int ks_tried_changes(const ks_req *r, const ks_recipe *base, const char *key,
		     ks_change *out, size_t cap, size_t *n);
/* Choose among candidates: not made by a tried change, preferably on a
 * parameter no tried change touched, seeded among the first few.
 * Returns the index or -1 when every candidate was tried. */
long ks_pick(ks_req *r, const ks_change *cand, size_t n, const ks_change *tried,
	     size_t n_tried);

/* The operators' answers: the whole answer text into out. */
int ks_draft(ks_req *r, ks_buf *out, char *err, size_t errlen);
int ks_debug(ks_req *r, ks_buf *out, char *err, size_t errlen);
int ks_improve(ks_req *r, ks_buf *out, char *err, size_t errlen);
int ks_fuse(ks_req *r, ks_buf *out, char *err, size_t errlen);
int ks_recall(ks_req *r, ks_buf *out, char *err, size_t errlen);

/* ks_draft.c: a fresh recipe for the request, as a draft would write it;
 * *why gets the reason of the model choice (static text). */
int ks_draft_recipe(ks_req *r, ks_recipe *out, const char **why, char *err,
		    size_t errlen);
/* ks_draft.c: the draft's plan line for a recipe. */
void ks_draft_plan(ks_buf *b, const ks_req *r, const ks_recipe *rec, const char *why);

#endif
