/*
 * restore.h — `automlgen resume`: rebuild a search from its run's
 * journal (journal.h).
 *
 * The journal's created, finished and backprop events were written under
 * the search's lock, so replaying them in order rebuilds the graph, the
 * policy's statistics (visits, rewards, chains, top-k lists, branches)
 * and the result cache as they were.  Scripts come from the nodes'
 * solution.py.  Nodes created but never finished (running when the
 * process died, or cut short by Ctrl-C) stay pending and are run again
 * first.  What is not recorded: the policy's random stream (reseeded) and
 * the late-phase pick counter of the summary.
 */
#ifndef AML_RESTORE_H
#define AML_RESTORE_H

#include <stddef.h>

#include "llm.h"
#include "search.h"

typedef struct aml_restore_info {
	char *task_dir;          /* owned: the task the run was started on */
	char *task;              /* owned: its name */
	char *policy;            /* owned */
	char *stop_reason;       /* owned: why the last process stopped, NULL
				  * when it died without saying */
	size_t nodes;            /* nodes created */
	size_t finished;         /* ... of which finished */
	size_t torn;             /* torn lines cut off the journal's end */
	size_t segments;         /* processes that ran the search (start +
				  * resumes) */
	double elapsed;          /* seconds the earlier processes searched */
} aml_restore_info;

/* Read RUN_DIR/journal.jsonl far enough to know the run: its task
 * directory, task and policy.  A journal without a start event, or
 * written before journals recorded task_dir, is AML_EFORMAT with a line
 * that says so. */
int aml_restore_peek(const char *run_dir, aml_restore_info *info, char *err, size_t errlen);

/* Cut a torn last line off the journal, replay it into s (initialised,
 * not yet run, for the same task and policy), add the LLM spending it
 * recorded to llm (may be NULL), and rewrite node.json for finished nodes
 * that lack it.  info is filled.  A journal that contradicts itself (a
 * node finished twice, an unknown operator) is AML_EFORMAT naming the
 * line. */
int aml_restore_search(aml_search *s, const char *run_dir, aml_llm *llm,
		       aml_restore_info *info, char *err, size_t errlen);

void aml_restore_info_free(aml_restore_info *info);

#endif
