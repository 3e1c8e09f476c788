/*
 * journal.h — the run's journal: every node event appended to
 * RUN_DIR/journal.jsonl as one JSON line and flushed to disk before the
 * search moves on, so a crash, a reboot or a SIGKILL loses at most the
 * line being written.  Readers tolerate a torn last line.
 *
 * Events (the "ev" key; "t" is seconds since the search started):
 *
 *   start     task, policy, seed, workers, max_nodes
 *   created   id, parent, op, mode, flavor, refs [{node, kind}]
 *   finished  id, status, score (or null), reason, outcome, exit_code,
 *             flags, cached_from, op_seconds, exec_seconds, tokens_in,
 *             tokens_out
 *   backprop  id, reward, visits (the node's, after backpropagation),
 *             best (the run's best node, -1 none)
 *   stop      reason, nodes
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
