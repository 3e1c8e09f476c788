/*
 * kb_retriever.c — test retrievers for knowledge packs (kb plugins, ABI
 * 1.2), one source built with different -D flags:
 *
 *   TPK_NAME            the descriptor's name (= the pack's name)
 *   TPK_REVERSE         rank the pack's entries in reverse id order,
 *                       leaving out any entry tagged "hidden"
 *   TPK_GARBAGE         answer a pointer that is not one of the pack's
 *   TPK_FAIL            fail with an error line
 *   TPK_TWICE           answer the same entry twice
 *
 * Each asks the host for its pack's entries (host->kb_pack_entries), as a
 * real retriever does, and keeps no state between calls, so it may be
 * called from several threads at once.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <automlgen/plugin.h>

struct tpk_state {
	const aml_host *host;
	aml_plugin *self;
};

static struct tpk_state tpk_the_state;

static int
tpk_init(const aml_host *host, aml_plugin *self, void **state, char *err, size_t errlen)
{
	if (host->abi_minor < 2) {
		snprintf(err, errlen, "needs plugin ABI 1.2 (kb_pack_entries)");
		return AML_EABI;
	}
	tpk_the_state.host = host;
	tpk_the_state.self = self;
	*state = &tpk_the_state;
	return AML_OK;
}

static int __attribute__((unused))
cmp_id_desc(const void *a, const void *b)
{
	const aml_kb_entry *x = *(const aml_kb_entry *const *)a;
	const aml_kb_entry *y = *(const aml_kb_entry *const *)b;

	return -strcmp(x->id, y->id);
}

static int
tpk_retrieve(void *state, const aml_kb_query *q, const aml_kb_entry **out,
	     size_t cap, size_t *n, char *err, size_t errlen)
{
	const struct tpk_state *st = state;
	const aml_kb_entry **mine;
	size_t total = 0, i, k = 0;
	int rc;

	*n = 0;
#ifdef TPK_FAIL
	snprintf(err, errlen, "index is corrupt");
	return AML_EIO;
#endif
	rc = st->host->kb_pack_entries(st->self, q, NULL, 0, &total, err, errlen);
	if (rc != AML_OK)
		return rc;
	mine = calloc(total + 1, sizeof *mine);
	if (mine == NULL)
		return AML_ENOMEM;
	rc = st->host->kb_pack_entries(st->self, q, mine, total, &total, err, errlen);
	if (rc != AML_OK) {
		free(mine);
		return rc;
	}
#if defined(TPK_GARBAGE)
	{
		static const aml_kb_entry fake = {"fake.entry", "fake", "model", "Fake",
						  "", "", "{}", "nowhere:1"};

		if (cap > 0)
			out[k++] = &fake;
	}
#elif defined(TPK_TWICE)
	if (total > 0 && cap > 1) {
		out[k++] = mine[0];
		out[k++] = mine[0];
	}
#else
	qsort(mine, total, sizeof *mine, cmp_id_desc);
	for (i = 0; i < total && k < cap; i++)
		if (strstr(mine[i]->json, "\"hidden\"") == NULL)
			out[k++] = mine[i];
#endif
	(void)i;
	free(mine);
	*n = k;
	return AML_OK;
}

static const aml_kb_ops tpk_ops = {tpk_retrieve};

AML_PLUGIN_DEFINE(AML_KIND_KB, TPK_NAME, "1.0.0", tpk_init, NULL, &tpk_ops);
