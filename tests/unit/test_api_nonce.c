/*
 * test_api_nonce.c - the SignatureNonce replay cache: replays are caught,
 * entries expire exactly when their timestamp would (in expiry order, not
 * arrival order), each account's bound refuses that account's new nonces
 * instead of forgetting old ones and leaves every other account alone, a
 * check records nothing until the add, and memory follows the traffic.
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

/* Check and, when new, add: what the dispatcher does for an accepted request. */
static int accept(struct api_nonce_cache *c, int64_t acct, const char *key_id, const char *nonce,
                  int64_t expires, int64_t now)
{
    int rc = api_nonce_check(c, acct, key_id, nonce, now);
    if (rc == 0)
        api_nonce_add(c, acct, key_id, nonce, expires);
    return rc;
}

static void test_replay(void **state)
{
    struct api_nonce_cache *c = api_nonce_new(100);
    assert_int_equal(accept(c, 1, "AK1", "n1", 1900, 1000), 0);
    assert_int_equal(accept(c, 1, "AK1", "n1", 1900, 1000), OA_EEXIST);
    /* A replay with another timestamp is still a replay. */
    assert_int_equal(accept(c, 1, "AK1", "n1", 1950, 1050), OA_EEXIST);
    /* The same nonce under another AccessKeyId is a different request. */
    assert_int_equal(accept(c, 1, "AK2", "n1", 1900, 1000), 0);
    assert_int_equal(accept(c, 2, "AK3", "n1", 1900, 1000), 0);
    /* The separator keeps ("AK1", "n1x") apart from ("AK1n", "1x"). */
    assert_int_equal(accept(c, 1, "AK1", "n1x", 1900, 1000), 0);
    assert_int_equal(accept(c, 1, "AK1n", "1x", 1900, 1000), 0);
    assert_int_equal(api_nonce_count(c, 1), 4);
    assert_int_equal(api_nonce_count(c, 2), 1);
    assert_int_equal(api_nonce_total(c), 5);
    api_nonce_free(c);
}

/* A check alone records nothing: a request refused after it (rate limit) can come again. */
static void test_check_records_nothing(void **state)
{
    struct api_nonce_cache *c = api_nonce_new(2);
    for (int i = 0; i < 10; i++)
        assert_int_equal(api_nonce_check(c, 1, "AK", "throttled", 1000), 0);
    assert_int_equal(api_nonce_total(c), 0);
    assert_int_equal(accept(c, 1, "AK", "a", 1900, 1000), 0);
    assert_int_equal(accept(c, 1, "AK", "throttled", 1900, 1000), 0);
    assert_int_equal(accept(c, 1, "AK", "throttled", 1900, 1000), OA_EEXIST);
    api_nonce_free(c);
}

static void test_expiry(void **state)
{
    struct api_nonce_cache *c = api_nonce_new(100);
    assert_int_equal(accept(c, 1, "AK", "a", 1900, 1000), 0);
    /* Still remembered at the last second it is valid... */
    assert_int_equal(accept(c, 1, "AK", "a", 1900, 1900), OA_EEXIST);
    /* ...and forgotten after it: a replay then fails on the timestamp instead. */
    assert_int_equal(accept(c, 1, "AK", "b", 2000, 1901), 0);
    assert_int_equal(api_nonce_count(c, 1), 1);
    assert_int_equal(accept(c, 1, "AK", "a", 2500, 1901), 0);
    api_nonce_free(c);
}

/*
 * Entries leave in expiry order: one dated far ahead does not hold back
 * younger ones that expire earlier, so a full set frees room on time.
 */
static void test_expiry_out_of_order(void **state)
{
    struct api_nonce_cache *c = api_nonce_new(3);
    assert_int_equal(accept(c, 1, "AK", "late", 3000, 1000), 0);
    assert_int_equal(accept(c, 1, "AK", "early", 1500, 1000), 0);
    assert_int_equal(accept(c, 1, "AK", "mid", 2000, 1000), 0);
    assert_int_equal(accept(c, 1, "AK", "x", 4000, 1000), OA_EBUSY);
    /* At 1501 "early" has gone although "late" came before it. */
    assert_int_equal(accept(c, 1, "AK", "x", 4000, 1501), 0);
    assert_int_equal(api_nonce_count(c, 1), 3);
    assert_int_equal(accept(c, 1, "AK", "early", 4000, 1501), OA_EBUSY);
    assert_int_equal(accept(c, 1, "AK", "late", 4000, 1501), OA_EEXIST);
    assert_int_equal(accept(c, 1, "AK", "mid", 4000, 2000), OA_EEXIST);
    assert_int_equal(accept(c, 1, "AK", "mid", 4000, 2001), 0);
    assert_int_equal(accept(c, 1, "AK", "late", 5000, 3001), 0);
    assert_int_equal(api_nonce_count(c, 1), 3); /* x, mid, late */
    api_nonce_free(c);
}

static void test_bound(void **state)
{
    char n[32];
    struct api_nonce_cache *c = api_nonce_new(1000);
    for (int i = 0; i < 1000; i++) {
        nonce_name(n, sizeof(n), i);
        assert_int_equal(accept(c, 1, "AK", n, 2000 + i, 1000), 0);
    }
    /* Full: a new nonce is refused, and every old one is still caught (not "full"). */
    assert_int_equal(accept(c, 1, "AK", "new", 5000, 1000), OA_EBUSY);
    for (int i = 0; i < 1000; i++) {
        nonce_name(n, sizeof(n), i);
        assert_int_equal(accept(c, 1, "AK", n, 2000, 1500), OA_EEXIST);
    }
    /* Once the oldest expire, there is room again, exactly as much as expired. */
    assert_int_equal(accept(c, 1, "AK", "new", 5000, 2010), 0);
    assert_int_equal(api_nonce_count(c, 1), 991);
    for (int i = 0; i < 9; i++) {
        nonce_name(n, sizeof(n), 5000 + i);
        assert_int_equal(accept(c, 1, "AK", n, 5000, 2010), 0);
    }
    assert_int_equal(accept(c, 1, "AK", "one-more", 5000, 2010), OA_EBUSY);
    api_nonce_free(c);
}

/* One account's full set does not touch another's: the bound is per account. */
static void test_accounts_independent(void **state)
{
    char n[32];
    struct api_nonce_cache *c = api_nonce_new(50);
    for (int i = 0; i < 50; i++) {
        nonce_name(n, sizeof(n), i);
        assert_int_equal(accept(c, 7, "AK7", n, 2000, 1000), 0);
    }
    assert_int_equal(accept(c, 7, "AK7", "more", 2000, 1000), OA_EBUSY);
    /* Another key of the same account shares its set... */
    assert_int_equal(accept(c, 7, "AK7b", "more", 2000, 1000), OA_EBUSY);
    /* ...another account has its own, with all its room. */
    for (int i = 0; i < 50; i++) {
        nonce_name(n, sizeof(n), i);
        assert_int_equal(accept(c, 8, "AK8", n, 2000, 1000), 0);
    }
    assert_int_equal(accept(c, 8, "AK8", "more", 2000, 1000), OA_EBUSY);
    assert_int_equal(accept(c, 9, "AK9", "more", 2000, 1000), 0);
    assert_int_equal(api_nonce_total(c), 101);
    api_nonce_free(c);
}

/* An account that stops sending gives its memory back: other accounts' checks sweep it. */
static void test_idle_accounts_freed(void **state)
{
    char n[32];
    struct api_nonce_cache *c = api_nonce_new(100);
    for (int a = 1; a <= 20; a++) {
        nonce_name(n, sizeof(n), a);
        assert_int_equal(accept(c, a, "AK", n, 1100, 1000), 0);
    }
    assert_int_equal(api_nonce_accounts(c), 20);
    /* Later, only account 100 is busy; each of its checks sweeps one other set. */
    for (int i = 0; i < 40; i++) {
        nonce_name(n, sizeof(n), 1000 + i);
        assert_int_equal(accept(c, 100, "AK", n, 3000, 2000), 0);
    }
    assert_int_equal(api_nonce_accounts(c), 1);
    assert_int_equal(api_nonce_total(c), 40);
    assert_int_equal(api_nonce_count(c, 5), 0);
    api_nonce_free(c);
}

/*
 * Many entries through growth, shrinking and a long run of expiry: the
 * set's backward-shift deletion and the heap must never lose or keep a
 * wrong entry. Expiries are scattered (as timestamps are), not in order.
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
        /* Each lives 20 to 40 s: about 3000 alive at a time. */
        int64_t life = 20 + (i * 7919) % 21;
        assert_int_equal(accept(c, 1, "AK", n, now + life, now), 0);
        if (i >= 5000) {
            /* A recent one is remembered; one long expired is not (and is re-added). */
            nonce_name(n, sizeof(n), i - 500);
            assert_int_equal(accept(c, 1, "AK", n, now + 30, now), OA_EEXIST);
            nonce_name(n, sizeof(n), i - 4500);
            assert_int_equal(accept(c, 1, "AK", n, now + 1, now), 0);
        }
        assert_true(api_nonce_count(c, 1) <= 5000);
    }
    assert_true(api_nonce_count(c, 1) >= 2900 && api_nonce_count(c, 1) <= 3300);
    /* All of it expires, and the memory with it once another account sweeps. */
    assert_int_equal(accept(c, 2, "AK", "x", now + 100, now + 100), 0);
    assert_int_equal(accept(c, 2, "AK", "y", now + 100, now + 100), 0);
    assert_int_equal(api_nonce_count(c, 1), 0);
    assert_int_equal(api_nonce_accounts(c), 1);
    api_nonce_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replay),
        cmocka_unit_test(test_check_records_nothing),
        cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_expiry_out_of_order),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_accounts_independent),
        cmocka_unit_test(test_idle_accounts_freed),
        cmocka_unit_test(test_churn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
