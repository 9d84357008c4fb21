/*
 * test_api_nonce.c - the SignatureNonce replay cache: replays are caught,
 * entries expire exactly when their timestamp would, the bound refuses new
 * nonces instead of forgetting old ones, and growth keeps every entry.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/nonce.h"
#include "core/err.h"
#include "core/util.h"

static void nonce_name(char *out, size_t n, int i)
{
    oa_snprintf(out, n, "nonce-%d", i);
}

static void test_replay(void **state)
{
    struct api_nonce_cache *c = api_nonce_new(100);
    assert_int_equal(api_nonce_check_add(c, "AK1", "n1", 1900, 1000), 0);
    assert_int_equal(api_nonce_check_add(c, "AK1", "n1", 1900, 1000), OA_EEXIST);
    /* A replay with another timestamp is still a replay. */
    assert_int_equal(api_nonce_check_add(c, "AK1", "n1", 1950, 1050), OA_EEXIST);
    /* The same nonce under another AccessKeyId is a different request. */
    assert_int_equal(api_nonce_check_add(c, "AK2", "n1", 1900, 1000), 0);
    /* The separator keeps ("AK1", "n1x") apart from ("AK1n", "1x"). */
    assert_int_equal(api_nonce_check_add(c, "AK1", "n1x", 1900, 1000), 0);
    assert_int_equal(api_nonce_check_add(c, "AK1n", "1x", 1900, 1000), 0);
    assert_int_equal(api_nonce_count(c), 4);
    api_nonce_free(c);
}

static void test_expiry(void **state)
{
    struct api_nonce_cache *c = api_nonce_new(100);
    assert_int_equal(api_nonce_check_add(c, "AK", "a", 1900, 1000), 0);
    /* Still remembered at the last second it is valid... */
    assert_int_equal(api_nonce_check_add(c, "AK", "a", 1900, 1900), OA_EEXIST);
    /* ...and forgotten after it: a replay then fails on the timestamp instead. */
    assert_int_equal(api_nonce_check_add(c, "AK", "b", 2000, 1901), 0);
    assert_int_equal(api_nonce_count(c), 1);
    assert_int_equal(api_nonce_check_add(c, "AK", "a", 2500, 1901), 0);
    api_nonce_free(c);
}

/* An entry with a late expiry at the head holds back younger, earlier ones: late, never early. */
static void test_expiry_out_of_order(void **state)
{
    struct api_nonce_cache *c = api_nonce_new(100);
    assert_int_equal(api_nonce_check_add(c, "AK", "late", 3000, 1000), 0);
    assert_int_equal(api_nonce_check_add(c, "AK", "early", 1500, 1000), 0);
    assert_int_equal(api_nonce_check_add(c, "AK", "x", 4000, 2000), 0);
    assert_int_equal(api_nonce_count(c), 3);
    assert_int_equal(api_nonce_check_add(c, "AK", "late", 3000, 2000), OA_EEXIST);
    assert_int_equal(api_nonce_check_add(c, "AK", "y", 4000, 3001), 0);
    /* "late" expired and released "early" behind it. */
    assert_int_equal(api_nonce_count(c), 2);
    assert_int_equal(api_nonce_check_add(c, "AK", "late", 5000, 3001), 0);
    api_nonce_free(c);
}

static void test_bound(void **state)
{
    char n[32];
    struct api_nonce_cache *c = api_nonce_new(1000);
    for (int i = 0; i < 1000; i++) {
        nonce_name(n, sizeof(n), i);
        assert_int_equal(api_nonce_check_add(c, "AK", n, 2000 + i, 1000), 0);
    }
    /* Full: a new nonce is refused, and every old one is still caught. */
    assert_int_equal(api_nonce_check_add(c, "AK", "new", 5000, 1000), OA_EBUSY);
    for (int i = 0; i < 1000; i++) {
        nonce_name(n, sizeof(n), i);
        assert_int_equal(api_nonce_check_add(c, "AK", n, 2000, 1500), OA_EEXIST);
    }
    /* Once the oldest expire, there is room again, exactly as much as expired. */
    assert_int_equal(api_nonce_check_add(c, "AK", "new", 5000, 2010), 0);
    assert_int_equal(api_nonce_count(c), 991);
    for (int i = 0; i < 9; i++) {
        nonce_name(n, sizeof(n), 5000 + i);
        assert_int_equal(api_nonce_check_add(c, "AK", n, 5000, 2010), 0);
    }
    assert_int_equal(api_nonce_check_add(c, "AK", "one-more", 5000, 2010), OA_EBUSY);
    api_nonce_free(c);
}

/*
 * Many entries through growth and a long run of expiry: the set's
 * backward-shift deletion must never lose or keep a wrong entry.
 */
static void test_churn(void **state)
{
    char n[32];
    struct api_nonce_cache *c = api_nonce_new(5000);
    int64_t now = 1000000;
    for (int i = 0; i < 200000; i++) {
        if (i % 100 == 0)
            now++;
        nonce_name(n, sizeof(n), i);
        /* Each lives 30 s: about 3000 alive at a time. */
        assert_int_equal(api_nonce_check_add(c, "AK", n, now + 30, now), 0);
        if (i >= 1000) {
            /* A recent one is remembered; one long expired is not (and is re-added). */
            nonce_name(n, sizeof(n), i - 500);
            assert_int_equal(api_nonce_check_add(c, "AK", n, now + 30, now), OA_EEXIST);
        }
        assert_true(api_nonce_count(c) <= 5000);
    }
    assert_true(api_nonce_count(c) >= 2900 && api_nonce_count(c) <= 3200);
    api_nonce_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_expiry_out_of_order),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
