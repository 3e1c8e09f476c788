/*
 * journal.h — the run's journal: every node event appended to
 * RUN_DIR/journal.jsonl as one JSON line and flushed to disk before the
 * search moves on, so a crash, a reboot or a SIGKILL loses at most the
 * line being written.  Readers tolerate a torn last line.
 *
 * Events (the "ev" key; "t" is seconds since the search started):
 *
 *   start     task, task_dir, policy, seed, workers, max_nodes
 *   resume    the same, plus nodes (replayed) and reruns (nodes left
 *             running, run again first); "t" goes on from the last event
 *   created   id, parent, op, mode, flavor, refs [{node, kind}]
 *   scripted  id, op_seconds, tokens_in, tokens_out, llm: the operator
 *             wrote solution.py and plan.txt (a resume runs that script)
 *   finished  id, status, score (or null), reason, outcome, exit_code,
 *             flags, cached_from, op_seconds, exec_seconds, tokens_in,
 *             tokens_out, truncated, plan, output, review (when any), llm
 *   backprop  id, reward, visits (the node's, after backpropagation),
 *             best (the run's best node, -1 none)
 *   interrupted id: cut short by Ctrl-C; it stays pending (resume)
 *   stop      reason, nodes
 *
 * llm is the run's LLM spending so far, per role ({code, feedback}, each
 * calls, failures, tokens_in, tokens_out, cost).  created, finished and
 * backprop are written under the search's lock, so their order is the
 * order things happened to the graph; restore.c replays them.
 *
 * Appends are serialised by the journal's own lock; a failed write is
 * reported once (aml_warn) and the run goes on without a journal.
 */
#ifndef AML_JOURNAL_H
#define AML_JOURNAL_H

#include <stddef.h>
#include <json-c/json.h>

typedef struct aml_journal aml_journal;

/* Open (create or append to) the journal at path; *out is transferred
 * (aml_journal_close).  AML_EIO with the path and the cause in err. */
int aml_journal_open(const char *path, aml_journal **out, char *err, size_t errlen);

/* Append ev (borrowed) as one line and fdatasync() it.  Returns AML_OK,
 * or AML_EIO once the journal has failed (the first failure is logged). */
int aml_journal_append(aml_journal *j, json_object *ev);

/* Cut a torn last line (a write cut short, or a last line that does not
 * parse) off the journal at path, so appending goes on after whole lines.
 * *cut (may be NULL) is set to the bytes removed. */
int aml_journal_repair(const char *path, size_t *cut, char *err, size_t errlen);

/* Append n events as consecutive lines in one write() and one
 * fdatasync(): a crash keeps all of them or cuts the last one short. */
int aml_journal_append_n(aml_journal *j, json_object *const *evs, size_t n);

/* Close; NULL is fine. */
void aml_journal_close(aml_journal *j);

/* Read the journal at path: fn(ev, ctx) for every complete line in order
 * (ev borrowed for the call; a non-zero return stops the reading and is
 * returned).  A last line without its newline or that does not parse —
 * a write cut short — is skipped and counted in *torn (may be NULL); a
 * bad line elsewhere is AML_EFORMAT with its line number. */
int aml_journal_read(const char *path, int (*fn)(json_object *ev, void *ctx), void *ctx,
		     size_t *torn, char *err, size_t errlen);

#endif
