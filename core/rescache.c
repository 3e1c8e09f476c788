/*
 * rescache.c — see rescache.h.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "rescache.h"
#include "util.h"

void
aml_rescache_key(const char *code, uint8_t key[AML_SHA256_LEN])
{
	aml_sha256_of(code, strlen(code), key);
}

/* The slot of key, or the free slot where it would go. */
static size_t
probe(const aml_rescache_slot *slots, size_t cap, const uint8_t *key)
{
	uint64_t h;
	size_t i;

	memcpy(&h, key, sizeof h); /* a digest's bytes are already uniform */
	for (i = (size_t)(h & (cap - 1));; i = (i + 1) & (cap - 1))
		if (!slots[i].used || memcmp(slots[i].key, key, AML_SHA256_LEN) == 0)
			return i;
}

long
aml_rescache_find(const aml_rescache *c, const uint8_t key[AML_SHA256_LEN])
{
	size_t i;

	if (c->cap == 0)
		return -1;
	i = probe(c->slots, c->cap, key);
	return c->slots[i].used ? (long)c->slots[i].node : -1;
}

int
aml_rescache_add(aml_rescache *c, const uint8_t key[AML_SHA256_LEN], uint32_t node)
{
	size_t i;

	if ((c->n + 1) * 4 > c->cap * 3) { /* keep the load under 3/4 */
		size_t cap = c->cap ? c->cap * 2 : 64, j;
		aml_rescache_slot *slots = calloc(cap, sizeof *slots);

		if (slots == NULL)
			return AML_ENOMEM;
		for (j = 0; j < c->cap; j++)
			if (c->slots[j].used)
				slots[probe(slots, cap, c->slots[j].key)] = c->slots[j];
		free(c->slots);
		c->slots = slots;
		c->cap = cap;
	}
	i = probe(c->slots, c->cap, key);
	if (c->slots[i].used)
		return AML_OK;
	memcpy(c->slots[i].key, key, AML_SHA256_LEN);
	c->slots[i].node = node;
	c->slots[i].used = 1;
	c->n++;
	return AML_OK;
}

void
aml_rescache_free(aml_rescache *c)
{
	free(c->slots);
	memset(c, 0, sizeof *c);
}
