/*
 * opkit.h — what every operator plugin needs, linked into each operator
 * (operators never link the core): prompt templates with {{slots}}, the
 * text blocks every prompt shares (task, workspace contract, leakage
 * rules, earlier attempts, a failed run's output), the structured request
 * offline providers read, extraction of the plan and script from an LLM
 * answer, SEARCH/REPLACE edit blocks applied to a parent's script, and the
 * common run of an operator (its prompts and shared parameters, one
 * provider call, the result).
 *
 * Strings returned here are malloc()ed and owned by the caller; strings
 * put into an aml_op_result are allocated with the host's mem_* functions
 * (transferred to the core).
 */
#ifndef AML_OPKIT_H
#define AML_OPKIT_H

#include <stddef.h>
#include <json-c/json.h>
#include <automlgen/plugin.h>

/* printf into err (nothing when err is NULL or errlen 0). */
void opkit_seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

typedef struct opkit_var {
	const char *name;
	const char *value;
} opkit_var;

/* Replace each {{name}} in tmpl with its value.  An unknown slot is an
 * error that names it (so a typo in an edited prompt is caught). */
int opkit_render(const char *tmpl, const opkit_var *vars, size_t n,
		 char **out, char *err, size_t errlen);

/* Read <plugin dir>/prompts/<file>. */
int opkit_load_prompt(const aml_host *host, aml_plugin *self, const char *file,
		      char **out, char *err, size_t errlen);

/* The task in a few lines: type, metric and direction, columns, files;
 * then the core's data preview when there is one. */
char *opkit_task_text(const aml_task *t);
/* The workspace contract, limits and leakage rules for this request. */
char *opkit_contract_text(const aml_op_request *req);
/* Knowledge-base entries retrieved for the task, as prompt text: the
 * applicable entries of each level ranked against query (the operator's
 * words: a flavor and plan, an error) together with the task's
 * description; their ids are appended to ids_json (a JSON array text,
 * malloc()ed). */
char *opkit_kb_text(const aml_host *host, aml_plugin *self, const char *query,
		    size_t per_level, char **ids_json);
/* Short summaries of nodes (siblings, references): plan, outcome, score. */
char *opkit_nodes_text(const aml_node_view *const *nodes, size_t n, size_t max_each);

/* The structured request for offline providers (a JSON object text):
 * {"operator", "mode", "flavor" (when set), "seq", "seed", "node_id",
 *  "time_left_s", "per_run_limit_s", "parent" (when req->node is set),
 *  "siblings", "refs", "kb"}.  Each node is {"id", "parent_id", "branch",
 *  "op", "plan", "code", "status", "reason", "output", "score" (null when
 *  none), "exec_seconds"}. */
char *opkit_structured(const char *op, const aml_op_request *req, const char *kb_ids_json);

/* Find the script in an answer: the fenced block tagged python (the
 * longest when several), else the longest untagged block, else a JSON
 * object's "code" (or "script", "solution") with its "plan" (or
 * "reasoning", "explanation"), else the whole answer when it reads as
 * Python.  *plan gets the prose before the code (may be ""). */
int opkit_extract_code(const char *answer, char **code, char **plan,
		       char *err, size_t errlen);

/* opjson.c: the first JSON object in an answer, however it is wrapped:
 * the whole text, a ```json fence, or inside prose before or after it;
 * commas before a closing bracket are forgiven.  *out is transferred
 * (json_object_put).  None is AML_EFORMAT with why ("no JSON object",
 * "cut off before its end", "no JSON object that parses"). */
int opkit_json_extract(const char *answer, json_object **out, char *err, size_t errlen);
/* The first of keys (NULL-terminated) that o holds as a string, or NULL.
 * Borrowed from o. */
const char *opkit_json_string(json_object *o, const char *const *keys);

/* ------------------------------------------------------------------ */
/* Edit blocks: the answer format of the operators that change a script
 * (debug, improve, recall).  A block is
 *
 *   <<<<<<< SEARCH
 *   lines copied from the script
 *   =======
 *   the lines that replace them
 *   >>>>>>> REPLACE
 *
 * anywhere in the answer (inside a code fence or not). */

typedef struct opkit_edit {
	char *search;   /* the SEARCH lines, each ending in '\n' */
	char *replace;  /* the REPLACE lines, each ending in '\n' (may be "") */
} opkit_edit;

/* Parse every edit block of answer into *edits (malloc()ed, free with
 * opkit_edits_free) and their count into *n; *first (may be NULL) gets
 * where the first block starts.  No blocks is not an error (*n = 0).  A
 * block without its '=======' or '>>>>>>> REPLACE' line, or with an empty
 * SEARCH part, is AML_EFORMAT naming the block ("edit block 2 ..."). */
int opkit_edits_parse(const char *answer, opkit_edit **edits, size_t *n,
		      const char **first, char *err, size_t errlen);
void opkit_edits_free(opkit_edit *edits, size_t n);

/* Apply the blocks to code in order, each to the result of the previous
 * one, into *out (malloc()ed).  A block's SEARCH text is looked up exactly
 * first (its first occurrence), then line by line ignoring trailing
 * whitespace and blank lines around it, then with its indentation shifted
 * uniformly (the REPLACE lines are shifted the same way).  A block that
 * matches nowhere is AML_ENOTFOUND with "edit block 2 does not match the
 * script: <first line of SEARCH>". */
int opkit_edits_apply(const char *code, const opkit_edit *edits, size_t n,
		      char **out, char *err, size_t errlen);

/* The new script an answer gives for parent_code: its edit blocks applied
 * to parent_code when it has any, else the whole script it holds
 * (opkit_extract_code).  *plan gets the prose before the blocks or the
 * code.  *edited (may be NULL) is set to 1 when edit blocks were applied.
 * A script equal to parent_code is AML_EFORMAT ("the answer leaves the
 * script unchanged").  Strings malloc()ed. */
int opkit_extract_change(const char *answer, const char *parent_code,
			 char **code, char **plan, int *edited,
			 char *err, size_t errlen);

/* ------------------------------------------------------------------ */
/* Prompt parts of the operators that work on existing nodes.          */

/* A node's output cut for a prompt: the first head_lines and the last
 * tail_lines lines, plus the last Python traceback wherever it is, with
 * "[... N lines omitted ...]" where lines were left out. */
char *opkit_output_text(const char *output, size_t head_lines, size_t tail_lines);

/* Status name of a node ("valid", "buggy", ...). */
const char *opkit_status_name(aml_node_status s);

/* Summaries of earlier attempts from the same base node: outcome, score
 * and its change against base ("+0.0123, better"), and the plan cut to
 * max_each characters.  At most max_nodes (the latest ones).  base may
 * be NULL (no deltas). */
char *opkit_attempts_text(const aml_node_view *base, const aml_node_view *const *nodes,
			  size_t n, size_t max_nodes, int higher_is_better, size_t max_each);

/* ------------------------------------------------------------------ */
/* The common shape of an operator plugin.                             */

/* What every operator reads at init: its prompts and the parameters all
 * operators share (temperature, kb_per_level). */
typedef struct opkit_op {
	const aml_host *host;  /* borrowed */
	aml_plugin *self;      /* borrowed */
	const char *name;      /* the operator's name, for messages */
	char *system;          /* prompts/system.txt */
	char *user;            /* prompts/<name>.txt */
	double temperature;    /* < 0: the provider's default */
	long kb_per_level;     /* knowledge entries per level in the prompt */
} opkit_op;

/* Fill op: read the prompts and the shared parameters (kb_per_level
 * defaults to kb_default when the manifest has none).  On failure op
 * holds nothing to free. */
int opkit_op_init(opkit_op *op, const aml_host *host, aml_plugin *self,
		  const char *name, long kb_default, char *err, size_t errlen);
void opkit_op_fini(opkit_op *op);

/* An integer / a number parameter of the operator, checked against
 * [lo, hi]; the default when it is unset.  A bad value is AML_EINVAL
 * naming the operator, the key and the value. */
int opkit_param_long(const opkit_op *op, const char *key, long def, long lo,
		     long hi, long *out, char *err, size_t errlen);
int opkit_param_double(const opkit_op *op, const char *key, double def, double lo,
		       double hi, double *out, char *err, size_t errlen);

/* Ask the provider of role ("code", "feedback") with op's system prompt
 * and temperature, user and structured text, for req's node and seed.
 * resp is filled as host->llm_complete does (free its strings with the
 * host's mem_free). */
int opkit_ask(const opkit_op *op, const aml_op_request *req, const char *role,
	      const char *user, const char *structured, aml_llm_response *resp,
	      char *err, size_t errlen);

/* Ask the provider with op's system prompt, user and structured text for
 * req, then turn the answer into res: a change of parent_code (edit
 * blocks or a whole script, see opkit_extract_change) or, when
 * parent_code is NULL, a whole script.  Tokens are counted in res either
 * way; when the answer holds no usable script, res->raw_answer keeps it
 * and the status is the extraction's, with err prefixed by the
 * operator's name. */
int opkit_op_complete(const opkit_op *op, const aml_op_request *req,
		      const char *user, const char *structured,
		      const char *parent_code, aml_op_result *res,
		      char *err, size_t errlen);

#endif
