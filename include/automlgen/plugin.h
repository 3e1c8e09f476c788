/*
 * automlgen/plugin.h — the plugin ABI of AutoMLGen.
 *
 * Every plugin is a shared object that exports exactly one symbol,
 * AML_PLUGIN_SYMBOL, a const aml_plugin_desc.  The core reads the plugin's
 * manifest.yaml first, then dlopen()s the library, then checks the
 * descriptor's ABI version, kind and name against the manifest before it
 * touches anything else.  Plugins never link against the core: everything
 * they need from it comes through the aml_host function table handed to
 * init() (the SQLite/Redis model).
 *
 * Compatibility rules
 *   - A plugin loads when its abi_major equals AML_ABI_MAJOR and its
 *     abi_minor is <= the core's AML_ABI_MINOR.
 *   - Structs in this header grow only at their end, and only with a minor
 *     bump; nothing is ever renumbered, reordered or removed without a
 *     major bump.  A plugin built against minor m reads only fields that
 *     existed in m, all of which the core still provides.
 *   - Status codes (AML_OK, AML_E*) are never renumbered.
 *
 * Ownership
 *   - Pointers handed to a plugin (requests, task, node views, KB entries)
 *     are borrowed: valid for the duration of the call (task and KB
 *     entries: for the whole run), never freed by the plugin.
 *   - Strings a plugin returns in a result struct (code, text, output...)
 *     are transferred to the core and must be allocated with
 *     host->mem_alloc / host->mem_strdup.
 *   - Errors: every call returns an int status (0 ok, negative AML_E*) and
 *     writes one human line into the caller-owned err buffer; the line says
 *     what went wrong and, where it can, what to do next.
 *
 * Changelog
 *   1.0  first version.
 *   1.1  aml_task.data_preview.
 *   1.2  aml_host.kb_pack_entries: a kb plugin (a pack's own retriever)
 *        reads the entries of its pack; aml_kb_ops.retrieve is called.
 *        aml_task.hardware.
 *   1.3  Cancellation: aml_exec_request.cancel and aml_llm_request.cancel
 *        (read only by plugins built for 1.3; the core always sets them),
 *        outcome AML_EXEC_CANCELLED.
 */
#ifndef AUTOMLGEN_PLUGIN_H
#define AUTOMLGEN_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AML_ABI_MAJOR 1
#define AML_ABI_MINOR 3

/* The one symbol every plugin exports (the descriptor). */
#define AML_PLUGIN_SYMBOL "aml_plugin_descriptor"

#if defined(__GNUC__)
#define AML_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define AML_EXPORT __attribute__((visibility("default")))
#else
#define AML_PRINTF(f, a)
#define AML_EXPORT
#endif

/* Status codes.  Never renumbered; aml_strerror() gives their names. */
enum aml_status {
	AML_OK = 0,
	AML_EINVAL = -1,       /* bad argument or malformed input */
	AML_ENOMEM = -2,       /* out of memory */
	AML_EIO = -3,          /* file or process I/O failed */
	AML_ENOTFOUND = -4,    /* no such file, key, plugin, entry */
	AML_ETIMEDOUT = -5,    /* a deadline passed */
	AML_EUNSUPPORTED = -6, /* not possible with this plugin or task */
	AML_EFORMAT = -7,      /* an answer or file has the wrong shape */
	AML_EBUDGET = -8,      /* a token, money or time budget is spent */
	AML_ECANCELED = -9,    /* the run is stopping */
	AML_EPROTO = -10,      /* a remote peer broke its protocol */
	AML_EPLUGIN = -11,     /* a plugin failed or was refused */
	AML_EABI = -12,        /* ABI version mismatch */
};

/* Plugin kinds. */
typedef enum aml_kind {
	AML_KIND_OPERATOR = 1,
	AML_KIND_PROVIDER = 2,
	AML_KIND_EXECUTOR = 3,
	AML_KIND_KB = 4,
} aml_kind;

/* Log levels for host->log. */
enum aml_log_level {
	AML_LOG_ERROR = 0,
	AML_LOG_WARN = 1,
	AML_LOG_INFO = 2,
	AML_LOG_DEBUG = 3,
};

/* ------------------------------------------------------------------ */
/* The task, as inferred by the core (read-only for plugins).          */

typedef enum aml_task_type {
	AML_TASK_UNKNOWN = 0,
	AML_TASK_BINARY = 1,
	AML_TASK_MULTICLASS = 2,
	AML_TASK_REGRESSION = 3,
	AML_TASK_MULTI_REGRESSION = 4,
} aml_task_type;

/* What the submission's prediction columns hold. */
typedef enum aml_output_kind {
	AML_OUT_LABEL = 0,       /* one column of class labels */
	AML_OUT_PROBA = 1,       /* one column: probability of the positive class */
	AML_OUT_CLASS_PROBA = 2, /* one column per class, each a probability */
	AML_OUT_VALUE = 3,       /* one or more numeric target columns */
} aml_output_kind;

/* Input modalities (bit set). */
enum aml_modality {
	AML_MOD_TABULAR = 1u << 0,
	AML_MOD_TEXT = 1u << 1,
	AML_MOD_IMAGE = 1u << 2,
	AML_MOD_TIMESERIES = 1u << 3,
};

typedef struct aml_task {
	const char *name;        /* task folder name */
	const char *public_dir;  /* absolute path of the public files */
	const char *description; /* description.md text, "" when absent */
	const char *train_file;  /* file names relative to public_dir */
	const char *test_file;
	const char *sample_file;
	aml_task_type type;
	aml_output_kind output;
	uint32_t modality;       /* AML_MOD_* bits */
	const char *metric;      /* canonical metric name, see aml_metric_names */
	int higher_is_better;    /* 1 maximize, 0 minimize */
	const char *id_column;   /* NULL when the submission has no id column */
	/* target column(s) in train.csv (the labels or values to learn) */
	const char *const *label_columns;
	size_t n_label_columns;
	/* prediction columns of sample_submission.csv, in order */
	const char *const *submission_columns;
	size_t n_submission_columns;
	/* class labels as they appear in train (classification only), sorted */
	const char *const *classes;
	size_t n_classes;
	size_t train_rows;
	size_t test_rows;
	size_t n_features;       /* train columns other than id and labels */
	/* ABI 1.1: a few hundred words on the data for prompts (columns with
	 * types and values, missing counts, the target's distribution, the
	 * first rows, sizes); NULL when it could not be computed */
	const char *data_preview;
	/* ABI 1.2: what each script runs on, one line for prompts ("2 CPU
	 * threads (AML_N_JOBS); no GPU ..."); NULL when the core does not know */
	const char *hardware;
} aml_task;

/* ------------------------------------------------------------------ */
/* Nodes of the solution graph, as operators see them.                 */

typedef enum aml_node_status {
	AML_NODE_PENDING = 0,
	AML_NODE_VALID = 1,       /* ran, valid submission, has a score */
	AML_NODE_BUGGY = 2,       /* crashed, timed out, or printed no score */
	AML_NODE_INVALID_SUB = 3, /* ran but the submission is invalid */
	AML_NODE_OP_FAILED = 4,   /* the operator produced no script */
} aml_node_status;

typedef struct aml_node_view {
	uint32_t id;
	int32_t parent_id;        /* -1 for children of the virtual root */
	uint32_t branch;
	const char *op;           /* operator that made it */
	const char *plan;         /* the plan text, may be "" */
	const char *code;         /* the script */
	aml_node_status status;
	const char *reason;       /* why it is not valid, "" when valid */
	const char *output;       /* trimmed output (head, tail, traceback) */
	int has_score;
	double score;             /* validation score printed by the script */
	double exec_seconds;
} aml_node_view;

/* ------------------------------------------------------------------ */
/* LLM provider requests.                                              */

typedef struct aml_llm_request {
	const char *role;        /* "code" or "feedback" */
	const char *system;      /* system prompt, may be NULL */
	const char *user;        /* user prompt */
	/* A JSON object describing the request for providers that do not read
	 * prose (kbsynth): {"operator": ..., "seq": ..., ...}.  May be NULL. */
	const char *structured;
	double temperature;      /* < 0: provider default */
	int max_tokens;          /* <= 0: provider default */
	uint32_t node_id;        /* node this request is for, for accounting */
	uint64_t seed;
	/* ABI 1.3: may be NULL.  Goes from 0 to non-zero, never back, when the
	 * run is stopping (Ctrl-C): abandon the call as soon as possible and
	 * return AML_ECANCELED.  Poll it at least every 0.5 s while waiting,
	 * with __atomic_load_n(cancel, __ATOMIC_RELAXED) (or a plain load). */
	const volatile int *cancel;
} aml_llm_request;

typedef struct aml_llm_response {
	char *text;              /* transferred: allocate with host->mem_* */
	char *model;             /* transferred, may be NULL */
	uint64_t tokens_in;
	uint64_t tokens_out;
} aml_llm_response;

/* ------------------------------------------------------------------ */
/* Knowledge base entries.                                             */

typedef struct aml_kb_entry {
	const char *id;          /* unique across packs, e.g. "tabular.rf" */
	const char *pack;        /* pack name */
	const char *level;       /* "model", "data" or "strategy" */
	const char *title;
	const char *guidance;    /* text for prompts */
	const char *code;        /* code template with {{slots}}, may be "" */
	const char *json;        /* the whole entry as a JSON object */
	const char *source;      /* file:line it came from */
} aml_kb_entry;

typedef struct aml_kb_query {
	const char *level;       /* NULL: any level */
	const char *text;        /* free text to rank by, may be NULL */
	const char *id;          /* exact id lookup, or NULL */
	size_t k;                /* at most this many; 0: no limit */
	int applicable_only;     /* 1: only entries that fit the task profile */
} aml_kb_query;

/* ------------------------------------------------------------------ */
/* Executor requests.                                                  */

typedef enum aml_exec_outcome {
	AML_EXEC_OK = 0,         /* exited 0 */
	AML_EXEC_CRASHED = 1,    /* non-zero exit status */
	AML_EXEC_TIMEOUT = 2,    /* killed at the wall-clock limit */
	AML_EXEC_KILLED = 3,     /* killed by a signal (memory, CPU limit...) */
	AML_EXEC_NOSTART = 4,    /* could not be started */
	AML_EXEC_CANCELLED = 5,  /* stopped because the run is stopping (1.3) */
} aml_exec_outcome;

typedef struct aml_exec_request {
	const char *workdir;     /* the node's directory: input/ working/ submission/ */
	const char *script;      /* script file name, relative to workdir */
	const char *input_dir;   /* absolute path of the read-only input files */
	double timeout_s;        /* wall-clock limit */
	size_t output_cap;       /* bytes kept per stream (head + tail) */
	const char *const *env;  /* extra "KEY=VALUE", NULL-terminated, may be NULL */
	uint32_t node_id;
	/* ABI 1.3: may be NULL.  Goes from 0 to non-zero, never back, when the
	 * run is stopping (Ctrl-C): stop the script and everything it started
	 * (or cancel its job) as soon as possible, poll it at least every
	 * 0.5 s with __atomic_load_n(cancel, __ATOMIC_RELAXED) (or a plain
	 * load), and report outcome AML_EXEC_CANCELLED. */
	const volatile int *cancel;
} aml_exec_request;

/* The executor leaves stdout.txt and stderr.txt (capped) in workdir. */
typedef struct aml_exec_result {
	aml_exec_outcome outcome;
	int exit_code;           /* when outcome is OK or CRASHED */
	int term_signal;         /* when TIMEOUT or KILLED */
	double wall_s;
	double cpu_s;
	uint64_t output_bytes;   /* bytes the script wrote, before capping */
	int truncated;           /* 1 when the captured output was capped */
	char *detail;            /* transferred, may be NULL: one line of why */
} aml_exec_result;

/* ------------------------------------------------------------------ */
/* Operator requests.                                                  */

typedef struct aml_op_request {
	const aml_task *task;
	const aml_node_view *node;            /* expanded node; NULL at the root */
	const aml_node_view *const *refs;     /* reference nodes shown */
	size_t n_refs;
	const aml_node_view *const *siblings; /* earlier children of the same parent */
	size_t n_siblings;
	const char *mode;        /* "primary", "evolution", "reference", "aggregation" */
	const char *flavor;      /* operator-specific hint, may be NULL */
	uint32_t node_id;        /* id the new node will get */
	uint32_t seq;            /* index among the parent's children */
	uint64_t seed;
	double time_left_s;      /* of the whole run */
	double per_run_limit_s;  /* of one script execution */
} aml_op_request;

typedef struct aml_op_result {
	char *code;              /* transferred: the new script */
	char *plan;              /* transferred, may be NULL */
	char *raw_answer;        /* transferred, may be NULL: kept on failure */
	uint64_t tokens_in;
	uint64_t tokens_out;
} aml_op_result;

/* ------------------------------------------------------------------ */
/* Function tables.                                                    */

typedef struct aml_plugin aml_plugin; /* opaque: the core's plugin handle */

/* What the core offers every plugin.  Grows only at the end. */
typedef struct aml_host {
	uint32_t abi_major;
	uint32_t abi_minor;

	/* Log one line, prefixed with the plugin's name. */
	void (*log)(aml_plugin *self, int level, const char *fmt, ...)
		AML_PRINTF(3, 4);

	/* The value of one of the plugin's parameters: the run's config
	 * (<kind>.<name>.<key>, then <kind>.<key>), else the manifest's
	 * default.  Borrowed, valid for the run; NULL when unknown. */
	const char *(*param)(aml_plugin *self, const char *key);

	/* The task of the current run; NULL outside a run (e.g. in tests of
	 * the plugin alone).  Borrowed, valid for the run. */
	const aml_task *(*task)(aml_plugin *self);

	/* Ask the configured LLM provider for req->role.  Fills resp (strings
	 * transferred to the caller, free with mem_free).  Accounts tokens
	 * and enforces budgets (AML_EBUDGET). */
	int (*llm_complete)(aml_plugin *self, const aml_llm_request *req,
			    aml_llm_response *resp, char *err, size_t errlen);

	/* Query the knowledge base.  Writes up to cap borrowed entry
	 * pointers into out (valid for the run) and their count into *n. */
	int (*kb_query)(aml_plugin *self, const aml_kb_query *q,
			const aml_kb_entry **out, size_t cap, size_t *n,
			char *err, size_t errlen);

	/* Memory that crosses the boundary. */
	void *(*mem_alloc)(size_t size);
	void (*mem_free)(void *ptr);
	char *(*mem_strdup)(const char *s);

	/* The folder holding the plugin's manifest (prompt templates and
	 * other data files live there).  Borrowed. */
	const char *(*plugin_dir)(aml_plugin *self);

	/* ABI 1.2 (check abi_minor >= 2 first).  For a kb plugin, the pack's
	 * own retriever: the entries of its pack that pass q's filters
	 * (q->level, q->id, and with q->applicable_only the run's task
	 * profile; q->text and q->k are ignored), in load order.  Writes at
	 * most cap borrowed pointers (valid for the run) into out and the
	 * number of entries that pass into *n, which may exceed cap: call
	 * with cap 0 to size a buffer.  AML_EUNSUPPORTED for a plugin of
	 * another kind; no entries (AML_OK) when the knowledge base is off.
	 * Safe to call from several threads, as retrieve() is called. */
	int (*kb_pack_entries)(aml_plugin *self, const aml_kb_query *q,
			       const aml_kb_entry **out, size_t cap, size_t *n,
			       char *err, size_t errlen);
} aml_host;

typedef struct aml_operator_ops {
	/* Produce a new script for req.  On failure return a negative status,
	 * a line in err, and (optionally) res->raw_answer for the record. */
	int (*run)(void *state, const aml_op_request *req, aml_op_result *res,
		   char *err, size_t errlen);
} aml_operator_ops;

typedef struct aml_provider_ops {
	int (*complete)(void *state, const aml_llm_request *req,
			aml_llm_response *resp, char *err, size_t errlen);
} aml_provider_ops;

typedef struct aml_executor_ops {
	/* Run req->script in req->workdir and wait for it.  Returns AML_OK
	 * whenever the script was run (whatever its outcome); a negative
	 * status only when the executor itself failed. */
	int (*run)(void *state, const aml_exec_request *req,
		   aml_exec_result *res, char *err, size_t errlen);
} aml_executor_ops;

typedef struct aml_kb_ops {
	/* A pack's own retriever: rank the pack's entries for q.  Same
	 * contract as host->kb_query, over the entries
	 * host->kb_pack_entries(self, q, ...) gives (cap is their number):
	 * every pointer written must be one of them, at most once; entries
	 * left out are not returned to the asker.  The core fuses this list
	 * with the others (see core/kb.h).  A failure, or a pointer that is
	 * not one of the pack's entries, makes the core warn once and rank
	 * the pack with BM25.  May be called from several threads at once
	 * (ABI 1.2: called at all; 1.0 and 1.1 never called it). */
	int (*retrieve)(void *state, const aml_kb_query *q,
			const aml_kb_entry **out, size_t cap, size_t *n,
			char *err, size_t errlen);
} aml_kb_ops;

/* The descriptor every plugin exports as AML_PLUGIN_SYMBOL. */
typedef struct aml_plugin_desc {
	uint32_t abi_major;      /* AML_ABI_MAJOR at build time: checked first */
	uint32_t abi_minor;      /* AML_ABI_MINOR at build time */
	uint32_t kind;           /* aml_kind */
	uint32_t flags;          /* reserved, 0 */
	const char *name;        /* must equal the manifest's name */
	const char *version;     /* must equal the manifest's version */
	/* Called once when a run loads the plugin; *state is handed back to
	 * every other call.  May be NULL. */
	int (*init)(const aml_host *host, aml_plugin *self, void **state,
		    char *err, size_t errlen);
	/* Called once at the end of the run.  May be NULL. */
	void (*fini)(void *state);
	/* The kind's function table: aml_operator_ops, aml_provider_ops,
	 * aml_executor_ops or aml_kb_ops. */
	const void *ops;
	void *reserved[8];       /* zero; room to grow without a major bump */
} aml_plugin_desc;

/* Declares the descriptor with the current ABI version. */
#define AML_PLUGIN_DEFINE(kind_, name_, version_, init_, fini_, ops_)       \
	AML_EXPORT const aml_plugin_desc aml_plugin_descriptor = {                    \
		AML_ABI_MAJOR, AML_ABI_MINOR, (kind_), 0, (name_), (version_), \
		(init_), (fini_), (ops_), {0}}

#ifdef __cplusplus
}
#endif
#endif /* AUTOMLGEN_PLUGIN_H */
