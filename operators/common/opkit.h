/*
 * opkit.h — what every operator plugin needs, linked into each operator
 * (operators never link the core): prompt templates with {{slots}}, the
 * text blocks every prompt shares (task, workspace contract, leakage
 * rules), the structured request offline providers read, and extraction
 * of the plan and script from an LLM answer.
 *
 * Strings returned here are malloc()ed and owned by the caller.
 */
#ifndef AML_OPKIT_H
#define AML_OPKIT_H

#include <stddef.h>
#include <automlgen/plugin.h>

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

/* The task in a few lines: type, metric and direction, columns, files. */
char *opkit_task_text(const aml_task *t);
/* The workspace contract, limits and leakage rules for this request. */
char *opkit_contract_text(const aml_op_request *req);
/* Knowledge-base entries retrieved for the task, as prompt text; their
 * ids are appended to ids_json (a JSON array text, malloc()ed). */
char *opkit_kb_text(const aml_host *host, aml_plugin *self, const char *query,
		    size_t per_level, char **ids_json);
/* Short summaries of nodes (siblings, references): plan, outcome, score. */
char *opkit_nodes_text(const aml_node_view *const *nodes, size_t n, size_t max_each);

/* The structured request for offline providers (a JSON object text):
 * {"operator", "mode", "seq", "seed", "node_id", "parent", "siblings",
 *  "refs", "kb"}. */
char *opkit_structured(const char *op, const aml_op_request *req, const char *kb_ids_json);

/* Find the script in an answer: the fenced block tagged python (the
 * longest when several), else the longest untagged block, else the whole
 * answer when it reads as Python.  *plan gets the prose before the code
 * (may be ""). */
int opkit_extract_code(const char *answer, char **code, char **plan,
		       char *err, size_t errlen);

#endif
