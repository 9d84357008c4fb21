/*
 * test_api_ratelimit.c - token buckets per (account, action): the burst,
 * the refill rate (per second and per minute), independence of accounts and
 * actions, and the bound on memory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/ratelimit.h"
#include "core/err.h"

#define SEC 1000000LL

static int burst(struct api_ratelimit *rl, int64_t acct, int action, int limit, int window,
                 int64_t now, int n)
{
    int ok = 0;
    for (int i = 0; i < n; i++)
        ok += api_ratelimit_take(rl, acct, action, limit, window, now, NULL) == 0;
    return ok;
}

static void test_qps(void **state)
{
    struct api_ratelimit *rl = api_ratelimit_new(100);
    int64_t t = 5 * SEC, retry = 0;
    /* QPS 3: a burst of 10 admits 3. */
    assert_int_equal(burst(rl, 1, 0, 3, 1, t, 10), 3);
    assert_int_equal(api_ratelimit_take(rl, 1, 0, 3, 1, t, &retry), OA_EBUSY);
    assert_int_equal(retry, 334); /* one token takes 1/3 s */
    /* A third of a second later one more token is there, and only one. */
    assert_int_equal(burst(rl, 1, 0, 3, 1, t + SEC / 3 + 1, 5), 1);
    /* After a whole second the bucket is full again, not fuller. */
    assert_int_equal(burst(rl, 1, 0, 3, 1, t + 5 * SEC, 10), 3);
    api_ratelimit_free(rl);
}

static void test_sustained_rate(void **state)
{
    struct api_ratelimit *rl = api_ratelimit_new(100);
    int ok = 0;
    /* 50 QPS, asked 1000 times a second for 10 s: 50 burst + 50/s * 10 s. */
    for (int64_t us = 0; us <= 10 * SEC; us += 1000)
        ok += api_ratelimit_take(rl, 7, 3, 50, 1, SEC + us, NULL) == 0;
    assert_in_range(ok, 549, 551);
    api_ratelimit_free(rl);
}

static void test_per_minute(void **state)
{
    struct api_ratelimit *rl = api_ratelimit_new(100);
    int64_t t = SEC;
    /* 10,000 per minute: the burst, then 166.67 per second. */
    assert_int_equal(burst(rl, 1, 5, 10000, 60, t, 10005), 10000);
    assert_in_range(burst(rl, 1, 5, 10000, 60, t + 6 * SEC, 2000), 999, 1000);
    api_ratelimit_free(rl);
}

static void test_independent(void **state)
{
    struct api_ratelimit *rl = api_ratelimit_new(100);
    assert_int_equal(burst(rl, 1, 0, 2, 1, SEC, 5), 2);
    assert_int_equal(burst(rl, 2, 0, 2, 1, SEC, 5), 2); /* another account */
    assert_int_equal(burst(rl, 1, 1, 2, 1, SEC, 5), 2); /* another action */
    assert_int_equal(burst(rl, 1, 0, 0, 1, SEC, 5), 5); /* no limit */
    api_ratelimit_free(rl);
}

static void test_bound(void **state)
{
    struct api_ratelimit *rl = api_ratelimit_new(10);
    /* Ten busy pairs fill the table; an eleventh is refused rather than forgetting one. */
    for (int a = 0; a < 10; a++)
        assert_int_equal(api_ratelimit_take(rl, a, 0, 5, 1, SEC, NULL), 0);
    assert_int_equal(api_ratelimit_take(rl, 99, 0, 5, 1, SEC, NULL), OA_EBUSY);
    assert_int_equal(api_ratelimit_count(rl), 10);
    /* Once their buckets have refilled they are as good as absent and make room. */
    assert_int_equal(api_ratelimit_take(rl, 99, 0, 5, 1, 3 * SEC, NULL), 0);
    assert_int_equal(api_ratelimit_count(rl), 1);
    /* A pair that is still being limited keeps its bucket through a sweep. */
    assert_int_equal(burst(rl, 42, 0, 2, 60, 3 * SEC, 3), 2);
    for (int a = 0; a < 8; a++)
        assert_int_equal(api_ratelimit_take(rl, 100 + a, 0, 5, 1, 3 * SEC, NULL), 0);
    assert_int_equal(api_ratelimit_count(rl), 10);
    assert_int_equal(api_ratelimit_take(rl, 200, 0, 5, 1, 5 * SEC, NULL), 0);
    assert_int_equal(api_ratelimit_take(rl, 42, 0, 2, 60, 5 * SEC, NULL), OA_EBUSY);
    api_ratelimit_free(rl);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qps),        cmocka_unit_test(test_sustained_rate),
        cmocka_unit_test(test_per_minute), cmocka_unit_test(test_independent),
        cmocka_unit_test(test_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
