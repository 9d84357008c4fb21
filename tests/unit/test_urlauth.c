/*
 * test_urlauth.c - URL authentication type A: the spec's official and
 * live-shaped vectors, expiry, both keys, and malformed auth_key values.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/urlauth.h"

#include <limits.h>

#define KEY "aliyuncdnexp1234"
#define TS 1444435200

static void check_md5(const char *in, const char *want)
{
    char hex[33];
    urlauth_md5_hex(in, strlen(in), hex);
    assert_string_equal(hex, want);
}

/* Spec 5.7, official vectors. */
static void test_md5_official(void **state)
{
    check_md5("/video/standard/1K.html-1444435200-0-0-aliyuncdnexp1234",
              "80cd3862d699b7118eed99103f2a3a4f");
    check_md5("/video/standard/test.mp4-1444435200-0-0-aliyuncdnexp1234",
              "23bf85053008f5c0e791667a313e28ce");
    check_md5("", "d41d8cd98f00b204e9800998ecf8427e");
}

static void test_sign_official(void **state)
{
    char key[URLAUTH_KEY_LEN];
    urlauth_sign("/video/standard/1K.html", TS, KEY, key, sizeof(key));
    assert_string_equal(key, "1444435200-0-0-80cd3862d699b7118eed99103f2a3a4f");
    assert_int_equal(urlauth_check("/video/standard/1K.html", key, KEY, NULL, 1800, TS),
                     URLAUTH_OK);
}

/* Spec 5.7, live-shaped vectors (RTMP, FLV, HLS, transcoded FLV). */
static void test_live_vectors(void **state)
{
    static const struct {
        const char *uri, *md5;
    } v[] = {
        {"/liveApp/liveStream", "1b9fc54c75e9dc6929154b6df9ea93c6"},
        {"/liveApp/liveStream.flv", "9ccea790019f26a830665ecc6f7e6626"},
        {"/liveApp/liveStream.m3u8", "42396887c46e19fdc6fd002173d905c6"},
        {"/liveApp/liveStream_lld.flv", "6893f1caea1fbb846045733d026fa227"},
    };
    for (size_t i = 0; i < OA_ARRAY_SIZE(v); i++) {
        char want[URLAUTH_KEY_LEN], key[URLAUTH_KEY_LEN];
        snprintf(want, sizeof(want), "1444435200-0-0-%s", v[i].md5);
        urlauth_sign(v[i].uri, TS, KEY, key, sizeof(key));
        assert_string_equal(key, want);
        assert_int_equal(urlauth_check(v[i].uri, want, KEY, NULL, 1800, TS + 10), URLAUTH_OK);
        /* Signed for one URI, not valid for another. */
        assert_int_equal(urlauth_check("/liveApp/other", want, KEY, NULL, 1800, TS),
                         URLAUTH_MISMATCH);
    }
}

static void test_expiry(void **state)
{
    const char *uri = "/liveApp/liveStream";
    const char *k = "1444435200-0-0-1b9fc54c75e9dc6929154b6df9ea93c6";

    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 1800, TS - 5000), URLAUTH_OK);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 1800, TS + 1800), URLAUTH_OK);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 1800, TS + 1801), URLAUTH_EXPIRED);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 0, TS), URLAUTH_OK);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 0, TS + 1), URLAUTH_EXPIRED);
    /* No overflow at the extremes. */
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, LONG_MAX, TS + 1000000000L), URLAUTH_OK);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, LONG_MIN, TS), URLAUTH_EXPIRED);
    char big[URLAUTH_KEY_LEN];
    urlauth_sign(uri, 999999999999LL, KEY, big, sizeof(big));
    assert_int_equal(urlauth_check(uri, big, KEY, NULL, LONG_MAX, TS), URLAUTH_OK);
}

static void test_two_keys(void **state)
{
    const char *uri = "/app/s.flv";
    char k1[URLAUTH_KEY_LEN], k2[URLAUTH_KEY_LEN];

    urlauth_sign(uri, TS, "primary", k1, sizeof(k1));
    urlauth_sign(uri, TS, "secondary", k2, sizeof(k2));
    assert_string_not_equal(k1, k2);
    assert_int_equal(urlauth_check(uri, k1, "primary", "secondary", 60, TS), URLAUTH_OK);
    assert_int_equal(urlauth_check(uri, k2, "primary", "secondary", 60, TS), URLAUTH_OK);
    assert_int_equal(urlauth_check(uri, k2, "primary", NULL, 60, TS), URLAUTH_MISMATCH);
    assert_int_equal(urlauth_check(uri, k2, "primary", "", 60, TS), URLAUTH_MISMATCH);
    assert_int_equal(urlauth_check(uri, k2, "", "secondary", 60, TS), URLAUTH_OK);
    assert_int_equal(urlauth_check(uri, k1, NULL, NULL, 60, TS), URLAUTH_MISMATCH);
    assert_int_equal(urlauth_check(uri, k1, "", "", 60, TS), URLAUTH_MISMATCH);

    /* A key signed with an empty private key never passes. */
    char k0[URLAUTH_KEY_LEN];
    urlauth_sign(uri, TS, "", k0, sizeof(k0));
    assert_int_equal(urlauth_check(uri, k0, "", NULL, 60, TS), URLAUTH_MISMATCH);
}

/* The hash compares case-insensitively; rand and uid are hashed as sent. */
static void test_fields(void **state)
{
    const char *uri = "/liveApp/liveStream";

    assert_int_equal(
        urlauth_check(uri, "1444435200-0-0-1B9FC54C75E9DC6929154B6DF9EA93C6", KEY, NULL, 1800, TS),
        URLAUTH_OK);

    /* A hyphen-less UUID as rand and an alphanumeric uid. */
    static const char rand[] = "477b3bbc253f467b8def6711128c7bec";
    char src[256], md5[33], k[256];
    snprintf(src, sizeof(src), "%s-%d-%s-%s-%s", uri, TS, rand, "user42", KEY);
    urlauth_md5_hex(src, strlen(src), md5);
    snprintf(k, sizeof(k), "%d-%s-user42-%s", TS, rand, md5);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 1800, TS), URLAUTH_OK);
    /* Another rand with the same hash is a mismatch. */
    snprintf(k, sizeof(k), "%d-%s-user43-%s", TS, rand, md5);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 1800, TS), URLAUTH_MISMATCH);

    /* The timestamp is hashed as written: leading zeros are part of it. */
    snprintf(src, sizeof(src), "%s-0%d-0-0-%s", uri, TS, KEY);
    urlauth_md5_hex(src, strlen(src), md5);
    snprintf(k, sizeof(k), "0%d-0-0-%s", TS, md5);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 1800, TS), URLAUTH_OK);

    /* 64-character rand and uid are the longest accepted. */
    char f64[65];
    memset(f64, 'a', 64);
    f64[64] = '\0';
    snprintf(src, sizeof(src), "%s-%d-%s-%s-%s", uri, TS, f64, f64, KEY);
    urlauth_md5_hex(src, strlen(src), md5);
    snprintf(k, sizeof(k), "%d-%s-%s-%s", TS, f64, f64, md5);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 1800, TS), URLAUTH_OK);
}

static void test_malformed(void **state)
{
    const char *uri = "/liveApp/liveStream";
    const char *md5 = "1b9fc54c75e9dc6929154b6df9ea93c6";
    char k[256];

    assert_int_equal(urlauth_check(uri, NULL, KEY, NULL, 1800, TS), URLAUTH_MISSING);

    const char *bad[] = {
        "",
        "abc",
        "1444435200",
        "1444435200-0-0",
        "1444435200-0-0-",
        "-0-0-1b9fc54c75e9dc6929154b6df9ea93c6",
        "1444435200--0-1b9fc54c75e9dc6929154b6df9ea93c6",
        "1444435200-0--1b9fc54c75e9dc6929154b6df9ea93c6",
        "1444435200-0-0-1b9fc54c75e9dc6929154b6df9ea93c",   /* 31 hex */
        "1444435200-0-0-1b9fc54c75e9dc6929154b6df9ea93c6a", /* 33 hex */
        "1444435200-0-0-1b9fc54c75e9dc6929154b6df9ea93cg",  /* not hex */
        "1444435200-0-0-1b9fc54c75e9dc6929154b6df9ea93c6-",
        "1444435200-0-0-0-1b9fc54c75e9dc6929154b6df9ea93c6",
        "144443520a-0-0-1b9fc54c75e9dc6929154b6df9ea93c6",
        "+1444435200-0-0-1b9fc54c75e9dc6929154b6df9ea93c6",
        " 1444435200-0-0-1b9fc54c75e9dc6929154b6df9ea93c6",
        "1444435200000-0-0-1b9fc54c75e9dc6929154b6df9ea93c6", /* 13 digits */
        "1444435200-a_b-0-1b9fc54c75e9dc6929154b6df9ea93c6",
        "1444435200-0-u.1-1b9fc54c75e9dc6929154b6df9ea93c6",
        /* A UUID with its hyphens is too many fields. */
        "1444435200-477b3bbc-253f-467b-8def-6711128c7bec-0-1b9fc54c75e9dc6929154b6df9ea93c6",
    };
    for (size_t i = 0; i < OA_ARRAY_SIZE(bad); i++) {
        if (urlauth_check(uri, bad[i], KEY, NULL, 1800, TS) != URLAUTH_MALFORMED)
            fail_msg("not malformed: %s", bad[i]);
    }

    /* 65 characters of rand or uid are too many. */
    char f65[66];
    memset(f65, 'a', 65);
    f65[65] = '\0';
    snprintf(k, sizeof(k), "%d-%s-0-%s", TS, f65, md5);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 1800, TS), URLAUTH_MALFORMED);
    snprintf(k, sizeof(k), "%d-0-%s-%s", TS, f65, md5);
    assert_int_equal(urlauth_check(uri, k, KEY, NULL, 1800, TS), URLAUTH_MALFORMED);
    /* One digit and twelve are fine as far as the form goes. */
    assert_int_equal(
        urlauth_check(uri, "1-0-0-1b9fc54c75e9dc6929154b6df9ea93c6", KEY, NULL, 1800, TS),
        URLAUTH_EXPIRED);
    assert_int_equal(urlauth_check(uri, "999999999999-0-0-1b9fc54c75e9dc6929154b6df9ea93c6", KEY,
                                   NULL, 1800, TS),
                     URLAUTH_MISMATCH);
}

static void test_sign_small_buffer(void **state)
{
    char k[20];
    memset(k, 'x', sizeof(k));
    urlauth_sign("/a/b", TS, KEY, k, sizeof(k));
    assert_string_equal(k, "");
    /* Exactly enough: 10 + 5 + 32 characters and the NUL. */
    char exact[48];
    urlauth_sign("/a/b", TS, KEY, exact, sizeof(exact));
    assert_int_equal(strlen(exact), 47);
    assert_int_equal(urlauth_check("/a/b", exact, KEY, NULL, 1, TS), URLAUTH_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_md5_official), cmocka_unit_test(test_sign_official),
        cmocka_unit_test(test_live_vectors), cmocka_unit_test(test_expiry),
        cmocka_unit_test(test_two_keys),     cmocka_unit_test(test_fields),
        cmocka_unit_test(test_malformed),    cmocka_unit_test(test_sign_small_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
