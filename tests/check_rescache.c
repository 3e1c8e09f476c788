/*
 * check_rescache.c — SHA-256 against the FIPS 180-4 / NIST example
 * vectors, and the result cache's table (find, first node wins, growth).
 */
#include "config.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mock_host.h"
#include "rescache.h"
#include "sha256.h"
#include "util.h"

static void
check_vector(const char *msg, size_t repeat, const char *want)
{
	uint8_t d[AML_SHA256_LEN];
	char hex[2 * AML_SHA256_LEN + 1];
	aml_sha256 c;
	size_t i;

	aml_sha256_init(&c);
	for (i = 0; i < repeat; i++)
		aml_sha256_update(&c, msg, strlen(msg));
	aml_sha256_final(&c, d);
	aml_sha256_hex(d, hex);
	ck_assert_str_eq(hex, want);
}

START_TEST(test_sha256_vectors)
{
	check_vector("", 1, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	check_vector("abc", 1, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	check_vector("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 1,
		     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	/* a million 'a's, fed in pieces that straddle the 64-byte blocks */
	check_vector("aaaaaaaaaaaaaaaaaaaaaaaaa", 40000,
		     "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

START_TEST(test_cache_table)
{
	aml_rescache c = {0};
	uint8_t k[AML_SHA256_LEN], other[AML_SHA256_LEN];
	char code[64];
	uint32_t i;

	aml_rescache_key("print(1)", k);
	ck_assert_int_eq(aml_rescache_find(&c, k), -1);
	ck_assert_int_eq(aml_rescache_add(&c, k, 7), AML_OK);
	ck_assert_int_eq(aml_rescache_add(&c, k, 9), AML_OK); /* the first stays */
	ck_assert_int_eq(aml_rescache_find(&c, k), 7);
	aml_rescache_key("print(1) ", other); /* one byte more: another key */
	ck_assert_int_eq(aml_rescache_find(&c, other), -1);
	for (i = 0; i < 5000; i++) {
		snprintf(code, sizeof code, "print(%u)\n", i);
		aml_rescache_key(code, k);
		ck_assert_int_eq(aml_rescache_add(&c, k, 100 + i), AML_OK);
	}
	ck_assert_uint_eq(c.n, 5001);
	for (i = 0; i < 5000; i++) {
		snprintf(code, sizeof code, "print(%u)\n", i);
		aml_rescache_key(code, k);
		ck_assert_int_eq(aml_rescache_find(&c, k), 100 + i);
	}
	aml_rescache_key("print(1)", k);
	ck_assert_int_eq(aml_rescache_find(&c, k), 7);
	aml_rescache_free(&c);
	aml_rescache_free(&c);
}
END_TEST

int
main(void)
{
	Suite *s = suite_create("rescache");
	TCase *tc = tcase_create("rescache");

	tcase_add_test(tc, test_sha256_vectors);
	tcase_add_test(tc, test_cache_table);
	suite_add_tcase(s, tc);
	return aml_test_main(s);
}
