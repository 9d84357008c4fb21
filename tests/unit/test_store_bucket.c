/*
 * test_store_bucket.c - bucket ownership and URL tokens: the first account
 * to claim a bucket keeps it, others are refused; tokens are per bucket,
 * stable for a master key, different under another one, and checked
 * exactly.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "store/account.h"
#include "store/bucket.h"
#include "store/db.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static int setup(void **state)
{
    oa_config_defaults(&oa_cfg);
    oa_log_level = OA_LOG_ERROR;
    oa_strlcpy(dir, "/tmp/onair-test-bucket-XXXXXX", sizeof(dir));
    if (!mkdtemp(dir) || db_open(dir) || account_open_keyfile(dir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    db_close();
    oa_snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_claim(void **state)
{
    int64_t owner = 0;
    assert_int_equal(bucket_owner("records", &owner), OA_ENOTFOUND);
    assert_int_equal(bucket_claim("records", 1), 0);
    assert_int_equal(bucket_claim("records", 1), 0);
    assert_int_equal(bucket_claim("records", 2), OA_EAUTH);
    assert_int_equal(bucket_owner("records", &owner), 0);
    assert_int_equal(owner, 1);
    /* Other names are other buckets. */
    assert_int_equal(bucket_claim("records-2", 2), 0);
    assert_int_equal(bucket_claim("records-2", 1), OA_EAUTH);
}

static void test_token(void **state)
{
    char a[BUCKET_TOKEN_LEN + 1], a2[BUCKET_TOKEN_LEN + 1], b[BUCKET_TOKEN_LEN + 1];
    assert_int_equal(bucket_url_token("rec", a), 0);
    assert_int_equal(bucket_url_token("rec", a2), 0);
    assert_int_equal(bucket_url_token("red", b), 0);
    assert_int_equal(strlen(a), BUCKET_TOKEN_LEN);
    assert_int_equal(strspn(a, "0123456789abcdef"), BUCKET_TOKEN_LEN);
    assert_string_equal(a, a2);
    assert_string_not_equal(a, b);
    assert_true(bucket_url_token_ok("rec", a));
    assert_false(bucket_url_token_ok("red", a));
    assert_false(bucket_url_token_ok("rec", ""));
    a2[BUCKET_TOKEN_LEN - 1] ^= 1;
    assert_false(bucket_url_token_ok("rec", a2));
    a2[BUCKET_TOKEN_LEN - 1] ^= 1;
    a2[BUCKET_TOKEN_LEN - 1] = '\0';
    assert_false(bucket_url_token_ok("rec", a2));

    /* Another master key gives other tokens: they are not guessable from the name. */
    char other[96], c[BUCKET_TOKEN_LEN + 1];
    oa_snprintf(other, sizeof(other), "%s/other", dir);
    assert_int_equal(mkdir(other, 0700), 0);
    assert_int_equal(account_open_keyfile(other), 0);
    assert_int_equal(bucket_url_token("rec", c), 0);
    assert_string_not_equal(a, c);
    assert_false(bucket_url_token_ok("rec", a));
    assert_int_equal(account_open_keyfile(dir), 0);
    assert_true(bucket_url_token_ok("rec", a));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_claim),
        cmocka_unit_test(test_token),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
