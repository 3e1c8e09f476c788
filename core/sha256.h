/*
 * sha256.h — SHA-256 (FIPS 180-4), for content keys such as the result
 * cache's (rescache.h).  Not for anything secret: no constant-time care.
 */
#ifndef AML_SHA256_H
#define AML_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define AML_SHA256_LEN 32

typedef struct aml_sha256 {
	uint32_t h[8];
	uint64_t bytes;      /* message length so far */
	uint8_t buf[64];
	size_t used;         /* bytes waiting in buf */
} aml_sha256;

void aml_sha256_init(aml_sha256 *c);
void aml_sha256_update(aml_sha256 *c, const void *data, size_t len);
void aml_sha256_final(aml_sha256 *c, uint8_t out[AML_SHA256_LEN]);
/* The digest of one buffer. */
void aml_sha256_of(const void *data, size_t len, uint8_t out[AML_SHA256_LEN]);
/* The digest as 64 lower-case hex digits and a NUL, into hex. */
void aml_sha256_hex(const uint8_t d[AML_SHA256_LEN], char hex[2 * AML_SHA256_LEN + 1]);

#endif
