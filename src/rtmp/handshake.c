/*
 * handshake.c - RTMP handshake: the simple echo form and the digest form.
 *
 * Digest form, as Flash Player, librtmp, FFmpeg, nginx-rtmp and SRS do it:
 * a 1536-byte block carries a 32-byte HMAC-SHA256 digest at an offset derived
 * from four bytes of the block itself. Scheme 0 sums bytes 8..11 and puts the
 * digest at 12 + sum % 728; scheme 1 sums bytes 772..775 and puts it at
 * 776 + sum % 728. The digest is keyed with the open part of the sender's key
 * (30 bytes of the Flash Player key, 36 of the Media Server key) and covers
 * the block minus the digest. The answer to a block (S2 or C2) is 1504 random
 * bytes followed by HMAC-SHA256 over them, keyed by HMAC-SHA256(the whole
 * 62- or 68-byte key of the answering side, the peer's digest).
 *
 * Everything here works on caller-provided arrays; the only outside inputs
 * are OpenSSL's HMAC and random generator.
 */
#include "rtmp/handshake.h"
#include "core/err.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#define HS RTMP_HANDSHAKE_SIZE
#define DIGEST_LEN 32
#define OFFSET_SPAN 728

/* "Genuine Adobe Flash Media Server 001" + 32 bytes; "... Player 001" + the same. */
static const uint8_t key_tail[32] = {
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE};
static const char fms_text[] = "Genuine Adobe Flash Media Server 001";
static const char fp_text[] = "Genuine Adobe Flash Player 001";

#define FMS_OPEN_LEN (sizeof(fms_text) - 1) /* 36 */
#define FP_OPEN_LEN (sizeof(fp_text) - 1)   /* 30 */

/* Version bytes we claim in a digest S1; FFmpeg checks the digest when the first is >= 3. */
static const uint8_t server_version[4] = {4, 5, 0, 1};
/* FFmpeg's client claims Flash Player 9.0.124.2; so do we. */
static const uint8_t client_version[4] = {9, 0, 124, 2};

enum key_kind { KEY_FMS, KEY_FP };

static size_t full_key(enum key_kind kind, uint8_t out[68])
{
    const char *text = kind == KEY_FMS ? fms_text : fp_text;
    size_t n = kind == KEY_FMS ? FMS_OPEN_LEN : FP_OPEN_LEN;
    memcpy(out, text, n);
    memcpy(out + n, key_tail, sizeof(key_tail));
    return n + sizeof(key_tail);
}

static void hmac_sha256(const void *key, size_t key_len, const uint8_t *msg, size_t len,
                        uint8_t out[DIGEST_LEN])
{
    unsigned int out_len = 0;
    /* One-shot HMAC() is not deprecated in OpenSSL 3, unlike HMAC_CTX. */
    const uint8_t *md = HMAC(EVP_sha256(), key, (int)key_len, msg, len, out, &out_len);
    /* Fails only without a working SHA-256, and then no RTMP peer can be served. */
    OA_ASSERT(md != NULL && out_len == DIGEST_LEN);
}

static void random_bytes(uint8_t *p, size_t n)
{
    if (RAND_bytes(p, (int)n) == 1)
        return;
    /*
     * The handshake's random bytes protect nothing (the keys are public), so
     * a broken entropy source is no reason to refuse clients.
     */
    static _Thread_local uint64_t x = 0x9e3779b97f4a7c15u;
    x ^= (uint64_t)(uintptr_t)p;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p[i] = (uint8_t)(x >> 32);
    }
}

/* Where the digest sits in block under scheme 0 (base 8) or 1 (base 772). */
static size_t digest_pos(const uint8_t *block, int scheme)
{
    size_t base = scheme == 0 ? 8 : 772;
    unsigned sum = (unsigned)block[base] + block[base + 1] + block[base + 2] + block[base + 3];
    return base + 4 + sum % OFFSET_SPAN;
}

/* HMAC-SHA256 of block without the 32 bytes at pos. */
static void block_digest(const uint8_t *block, size_t pos, const void *key, size_t key_len,
                         uint8_t out[DIGEST_LEN])
{
    uint8_t msg[HS - DIGEST_LEN];
    memcpy(msg, block, pos);
    memcpy(msg + pos, block + pos + DIGEST_LEN, HS - pos - DIGEST_LEN);
    hmac_sha256(key, key_len, msg, sizeof(msg), out);
}

static void imprint_digest(uint8_t *block, int scheme, const void *key, size_t key_len)
{
    size_t pos = digest_pos(block, scheme);
    block_digest(block, pos, key, key_len, block + pos);
}

static bool digest_valid(const uint8_t *block, int scheme, const void *key, size_t key_len)
{
    uint8_t d[DIGEST_LEN];
    size_t pos = digest_pos(block, scheme);
    block_digest(block, pos, key, key_len, d);
    return memcmp(d, block + pos, DIGEST_LEN) == 0;
}

/* The scheme whose digest validates, or -1. Scheme 1 first, as FFmpeg and nginx-rtmp check. */
static int find_digest(const uint8_t *block, const void *key, size_t key_len)
{
    if (digest_valid(block, 1, key, key_len))
        return 1;
    if (digest_valid(block, 0, key, key_len))
        return 0;
    return -1;
}

/* The answer to a peer's digest block: random bytes signed with a key derived from its digest. */
static void make_response(uint8_t out[HS], const uint8_t *peer_digest, enum key_kind kind)
{
    uint8_t key[68], derived[DIGEST_LEN];
    size_t key_len = full_key(kind, key);
    hmac_sha256(key, key_len, peer_digest, DIGEST_LEN, derived);
    random_bytes(out, HS - DIGEST_LEN);
    hmac_sha256(derived, sizeof(derived), out, HS - DIGEST_LEN, out + HS - DIGEST_LEN);
}

static bool response_valid(const uint8_t resp[HS], const uint8_t *my_digest, enum key_kind kind)
{
    uint8_t key[68], derived[DIGEST_LEN], sig[DIGEST_LEN];
    size_t key_len = full_key(kind, key);
    hmac_sha256(key, key_len, my_digest, DIGEST_LEN, derived);
    hmac_sha256(derived, sizeof(derived), resp, HS - DIGEST_LEN, sig);
    return memcmp(sig, resp + HS - DIGEST_LEN, DIGEST_LEN) == 0;
}

int rtmp_handshake_server(const uint8_t c0c1[1 + RTMP_HANDSHAKE_SIZE],
                          uint8_t out[1 + 2 * RTMP_HANDSHAKE_SIZE], bool *digest)
{
    const uint8_t *c1 = c0c1 + 1;
    uint8_t *s1 = out + 1;
    uint8_t *s2 = out + 1 + HS;

    *digest = false;
    /* 6 (and 8, 9) are RTMPE, whose Diffie-Hellman and RC4 we do not speak. */
    if (c0c1[0] != 3)
        return OA_EPROTO;
    out[0] = 3;

    /*
     * The digest is looked for even when C1's version bytes are zero: a client
     * that signed C1 checks our answer whatever version it claims.
     */
    int scheme = find_digest(c1, fp_text, FP_OPEN_LEN);
    memset(s1, 0, 8); /* time 0; version 0 tells clients not to expect a digest */
    random_bytes(s1 + 8, HS - 8);
    if (scheme < 0) {
        memcpy(s2, c1, HS);
        return 0;
    }

    *digest = true;
    memcpy(s1 + 4, server_version, sizeof(server_version));
    imprint_digest(s1, scheme, fms_text, FMS_OPEN_LEN);
    make_response(s2, c1 + digest_pos(c1, scheme), KEY_FMS);
    return 0;
}

void rtmp_handshake_client_start(uint8_t out[1 + RTMP_HANDSHAKE_SIZE], bool digest)
{
    uint8_t *c1 = out + 1;

    out[0] = 3;
    memset(c1, 0, 8);
    random_bytes(c1 + 8, HS - 8);
    if (digest) {
        memcpy(c1 + 4, client_version, sizeof(client_version));
        imprint_digest(c1, 0, fp_text, FP_OPEN_LEN);
    }
}

int rtmp_handshake_client_finish(const uint8_t s0s1s2[1 + 2 * RTMP_HANDSHAKE_SIZE],
                                 uint8_t c2[RTMP_HANDSHAKE_SIZE])
{
    const uint8_t *s1 = s0s1s2 + 1;

    if (s0s1s2[0] != 3)
        return OA_EPROTO;
    /* Zero version bytes: a server of the simple kind, which wants S1 echoed. */
    if (!s1[4] && !s1[5] && !s1[6] && !s1[7]) {
        memcpy(c2, s1, HS);
        return 0;
    }
    int scheme = find_digest(s1, fms_text, FMS_OPEN_LEN);
    if (scheme < 0)
        return OA_EPROTO;
    make_response(c2, s1 + digest_pos(s1, scheme), KEY_FP);
    return 0;
}

int rtmp_handshake_client_check_s2(const uint8_t c0c1[1 + RTMP_HANDSHAKE_SIZE],
                                   const uint8_t s2[RTMP_HANDSHAKE_SIZE])
{
    const uint8_t *c1 = c0c1 + 1;
    int scheme = find_digest(c1, fp_text, FP_OPEN_LEN);

    /* The spec lets a simple server put its own time in S2 bytes 4..7; the rest is an echo. */
    if (scheme < 0)
        return memcmp(s2 + 8, c1 + 8, HS - 8) == 0 ? 0 : OA_EPROTO;
    return response_valid(s2, c1 + digest_pos(c1, scheme), KEY_FMS) ? 0 : OA_EPROTO;
}
