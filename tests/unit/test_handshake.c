/*
 * test_handshake.c - simple and digest handshakes, both sides, checked
 * against a second, independent implementation of the digest rules written
 * here (offsets and keys as in FFmpeg's rtmpproto.c and nginx-rtmp).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "core/err.h"
#include "rtmp/handshake.h"

#define HS RTMP_HANDSHAKE_SIZE

static const uint8_t fms_key[68] = {
    'G',  'e',  'n',  'u',  'i',  'n',  'e',  ' ',  'A',  'd',  'o',  'b',  'e',  ' ',
    'F',  'l',  'a',  's',  'h',  ' ',  'M',  'e',  'd',  'i',  'a',  ' ',  'S',  'e',
    'r',  'v',  'e',  'r',  ' ',  '0',  '0',  '1',  0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68,
    0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC, 0x5D, 0x2D,
    0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};
static const uint8_t fp_key[62] = {
    'G',  'e',  'n',  'u',  'i',  'n',  'e',  ' ',  'A',  'd',  'o',  'b',  'e',  ' ',  'F',  'l',
    'a',  's',  'h',  ' ',  'P',  'l',  'a',  'y',  'e',  'r',  ' ',  '0',  '0',  '1',  0xF0, 0xEE,
    0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57, 0x6E, 0xEC,
    0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};

/* FFmpeg's ff_rtmp_calc_digest_pos(buf, off, 728, add). */
static size_t calc_pos(const uint8_t *b, size_t off, size_t add)
{
    return (b[off] + b[off + 1] + b[off + 2] + b[off + 3]) % 728u + add;
}

static void hmac(const uint8_t *key, size_t klen, const uint8_t *a, size_t alen, const uint8_t *b,
                 size_t blen, uint8_t out[32])
{
    uint8_t msg[HS];
    memcpy(msg, a, alen);
    if (blen)
        memcpy(msg + alen, b, blen);
    unsigned int len = 0;
    assert_non_null(HMAC(EVP_sha256(), key, (int)klen, msg, alen + blen, out, &len));
    assert_int_equal(len, 32);
}

/* FFmpeg's ff_rtmp_calc_digest with a gap: the block without its 32 digest bytes. */
static void block_digest(const uint8_t *b, size_t pos, const uint8_t *key, size_t klen,
                         uint8_t out[32])
{
    hmac(key, klen, b, pos, b + pos + 32, HS - pos - 32, out);
}

/* Returns the digest position (either scheme) or 0, like FFmpeg's rtmp_validate_digest. */
static size_t validate(const uint8_t *b, const uint8_t *key, size_t klen)
{
    static const size_t offs[2][2] = {{772, 776}, {8, 12}};
    for (int i = 0; i < 2; i++) {
        uint8_t d[32];
        size_t pos = calc_pos(b, offs[i][0], offs[i][1]);
        block_digest(b, pos, key, klen, d);
        if (memcmp(d, b + pos, 32) == 0)
            return pos;
    }
    return 0;
}

/* The signature over the first 1504 bytes of an answer block, keyed from the peer's digest. */
static bool answer_ok(const uint8_t *answer, const uint8_t *peer_digest, const uint8_t *key,
                      size_t klen)
{
    uint8_t k2[32], sig[32];
    hmac(key, klen, peer_digest, 32, NULL, 0, k2);
    hmac(k2, 32, answer, HS - 32, NULL, 0, sig);
    return memcmp(sig, answer + HS - 32, 32) == 0;
}

static void test_simple_c1_echoed(void **state)
{
    uint8_t c0c1[1 + HS], out[1 + 2 * HS], c2[HS];
    bool digest = true;

    rtmp_handshake_client_start(c0c1, false);
    assert_int_equal(c0c1[0], 3);
    assert_memory_equal(c0c1 + 5, "\0\0\0\0", 4); /* no version: a simple client */
    assert_int_equal(rtmp_handshake_server(c0c1, out, &digest), 0);
    assert_false(digest);
    assert_int_equal(out[0], 3);
    assert_memory_equal(out + 5, "\0\0\0\0", 4); /* S1 claims no digest */
    assert_memory_equal(out + 1 + HS, c0c1 + 1, HS);
    assert_int_equal(rtmp_handshake_client_check_s2(c0c1, out + 1 + HS), 0);

    /* The client echoes S1 as C2. */
    assert_int_equal(rtmp_handshake_client_finish(out, c2), 0);
    assert_memory_equal(c2, out + 1, HS);

    /* A C1 with a version but no valid digest is answered the simple way too. */
    c0c1[5] = 9;
    c0c1[100] ^= 0xff;
    assert_int_equal(rtmp_handshake_server(c0c1, out, &digest), 0);
    assert_false(digest);
    assert_memory_equal(out + 1 + HS, c0c1 + 1, HS);
}

static void test_digest_c1(void **state)
{
    for (int iter = 0; iter < 50; iter++) {
        uint8_t c0c1[1 + HS], out[1 + 2 * HS], c2[HS];
        bool digest = false;

        rtmp_handshake_client_start(c0c1, true);
        const uint8_t *c1 = c0c1 + 1;
        /* Our client signs at scheme 0 with the 30-byte Flash Player key, as FFmpeg does. */
        size_t cpos = calc_pos(c1, 8, 12);
        uint8_t d[32];
        block_digest(c1, cpos, fp_key, 30, d);
        assert_memory_equal(d, c1 + cpos, 32);
        assert_true(c1[4] != 0);

        assert_int_equal(rtmp_handshake_server(c0c1, out, &digest), 0);
        assert_true(digest);
        assert_int_equal(out[0], 3);
        const uint8_t *s1 = out + 1, *s2 = out + 1 + HS;
        /* What FFmpeg checks: version >= 3, then a 36-byte-key digest in S1 ... */
        assert_true(s1[4] >= 3);
        size_t spos = validate(s1, fms_key, 36);
        assert_int_equal(spos, calc_pos(s1, 8, 12)); /* the client's scheme */
        /* ... and S2 signed with HMAC(68-byte key, client digest). */
        assert_true(answer_ok(s2, c1 + cpos, fms_key, sizeof(fms_key)));
        assert_int_equal(rtmp_handshake_client_check_s2(c0c1, s2), 0);

        assert_int_equal(rtmp_handshake_client_finish(out, c2), 0);
        /* C2 as nginx-rtmp and SRS check it: signed from the server digest with the FP key. */
        assert_true(answer_ok(c2, s1 + spos, fp_key, sizeof(fp_key)));
    }
}

static void test_digest_scheme1(void **state)
{
    /* A C1 signed at scheme 1 (digest after byte 776), as some Flash Players do. */
    uint8_t c0c1[1 + HS], out[1 + 2 * HS];
    uint8_t *c1 = c0c1 + 1;
    bool digest = false;

    c0c1[0] = 3;
    for (size_t i = 0; i < HS; i++)
        c1[i] = (uint8_t)(i * 131 + 7);
    memcpy(c1, "\0\0\0\0\x0a\x00\x2d\x02", 8);
    size_t cpos = calc_pos(c1, 772, 776);
    block_digest(c1, cpos, fp_key, 30, c1 + cpos);

    assert_int_equal(rtmp_handshake_server(c0c1, out, &digest), 0);
    assert_true(digest);
    const uint8_t *s1 = out + 1;
    size_t spos = validate(s1, fms_key, 36);
    assert_int_equal(spos, calc_pos(s1, 772, 776)); /* answered in the same scheme */
    assert_true(answer_ok(out + 1 + HS, c1 + cpos, fms_key, sizeof(fms_key)));
    assert_int_equal(rtmp_handshake_client_check_s2(c0c1, out + 1 + HS), 0);

    uint8_t c2[HS];
    assert_int_equal(rtmp_handshake_client_finish(out, c2), 0);
    assert_true(answer_ok(c2, s1 + spos, fp_key, sizeof(fp_key)));
}

static void test_client_rejects_bad_server(void **state)
{
    uint8_t c0c1[1 + HS], out[1 + 2 * HS], c2[HS];
    bool digest;

    rtmp_handshake_client_start(c0c1, true);
    assert_int_equal(rtmp_handshake_server(c0c1, out, &digest), 0);
    uint8_t *s1 = out + 1;
    size_t spos = validate(s1, fms_key, 36);
    assert_true(spos > 0);

    /* A flipped bit in the digest, or anywhere it covers, is refused. */
    uint8_t bad[1 + 2 * HS];
    static const size_t flips[] = {0, 3, 8, 100, 1000, HS - 1};
    memcpy(bad, out, sizeof(bad));
    bad[1 + spos + 5] ^= 1;
    assert_int_equal(rtmp_handshake_client_finish(bad, c2), OA_EPROTO);
    for (size_t i = 0; i < OA_ARRAY_SIZE(flips); i++) {
        memcpy(bad, out, sizeof(bad));
        bad[1 + flips[i]] ^= 0x40;
        /* (A flip in the version bytes could zero them; none of these offsets is one.) */
        assert_int_equal(rtmp_handshake_client_finish(bad, c2), OA_EPROTO);
    }

    /* A bad S2 signature is caught by the S2 check. */
    memcpy(bad, out, sizeof(bad));
    bad[1 + HS + 10] ^= 1;
    assert_int_equal(rtmp_handshake_client_check_s2(c0c1, bad + 1 + HS), OA_EPROTO);
    memcpy(bad, out, sizeof(bad));
    bad[1 + 2 * HS - 1] ^= 1;
    assert_int_equal(rtmp_handshake_client_check_s2(c0c1, bad + 1 + HS), OA_EPROTO);

    /* A server that claims no version is a simple one: nothing to validate, C2 echoes S1. */
    memcpy(bad, out, sizeof(bad));
    memset(bad + 5, 0, 4);
    assert_int_equal(rtmp_handshake_client_finish(bad, c2), 0);
    assert_memory_equal(c2, bad + 1, HS);

    /* S0 must be 3. */
    memcpy(bad, out, sizeof(bad));
    bad[0] = 6;
    assert_int_equal(rtmp_handshake_client_finish(bad, c2), OA_EPROTO);

    /* A simple S2 must echo C1. */
    uint8_t sc0c1[1 + HS];
    rtmp_handshake_client_start(sc0c1, false);
    assert_int_equal(rtmp_handshake_server(sc0c1, out, &digest), 0);
    out[1 + HS + 500] ^= 1;
    assert_int_equal(rtmp_handshake_client_check_s2(sc0c1, out + 1 + HS), OA_EPROTO);
}

static void test_c0_refused(void **state)
{
    static const uint8_t versions[] = {0, 1, 2, 4, 6, 8, 9, 0x80, 0xff};
    uint8_t c0c1[1 + HS], out[1 + 2 * HS];
    for (size_t i = 0; i < OA_ARRAY_SIZE(versions); i++) {
        bool digest = true;
        rtmp_handshake_client_start(c0c1, i & 1);
        c0c1[0] = versions[i];
        assert_int_equal(rtmp_handshake_server(c0c1, out, &digest), OA_EPROTO);
        assert_false(digest);
    }
}

static void test_random_differs(void **state)
{
    uint8_t a[1 + HS], b[1 + HS], oa[1 + 2 * HS], ob[1 + 2 * HS];
    bool digest;
    rtmp_handshake_client_start(a, true);
    rtmp_handshake_client_start(b, true);
    assert_memory_not_equal(a + 9, b + 9, HS - 8);
    assert_int_equal(rtmp_handshake_server(a, oa, &digest), 0);
    assert_int_equal(rtmp_handshake_server(a, ob, &digest), 0);
    assert_memory_not_equal(oa + 9, ob + 9, HS - 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_c1_echoed), cmocka_unit_test(test_digest_c1),
        cmocka_unit_test(test_digest_scheme1),   cmocka_unit_test(test_client_rejects_bad_server),
        cmocka_unit_test(test_c0_refused),       cmocka_unit_test(test_random_differs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
