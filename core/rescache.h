/*
 * rescache.h — the result cache of a search: which finished node ran a
 * given script (keyed by the SHA-256 of its code), so identical code is
 * not run twice on the same task data.  Within one run the task data, the
 * executor and its limits are fixed, so the code alone is the key.
 *
 * A hash table with open addressing; not locked itself (the search holds
 * its lock around every call).
 */
#ifndef AML_RESCACHE_H
#define AML_RESCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "sha256.h"

typedef struct aml_rescache_slot {
	uint8_t key[AML_SHA256_LEN];
	uint32_t node;
	int used;
} aml_rescache_slot;

typedef struct aml_rescache {
	aml_rescache_slot *slots; /* owned */
	size_t cap, n;
} aml_rescache;

/* The key of a script. */
void aml_rescache_key(const char *code, uint8_t key[AML_SHA256_LEN]);
/* The node recorded for key, or -1. */
long aml_rescache_find(const aml_rescache *c, const uint8_t key[AML_SHA256_LEN]);
/* Record node for key (the first node with a key stays).  AML_ENOMEM. */
int aml_rescache_add(aml_rescache *c, const uint8_t key[AML_SHA256_LEN], uint32_t node);
void aml_rescache_free(aml_rescache *c);

#endif
