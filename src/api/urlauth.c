/*
 * urlauth.c - URL authentication type A: checking and making auth_key.
 *
 * The key is split on '-' into its four fields, each checked for shape
 * before anything is hashed; the fields are then hashed exactly as they were
 * sent (so "0" stays "0" and a timestamp keeps its digits), streamed into
 * one MD5 context per private key, and compared in constant time against
 * the lower-cased hash from the URL.
 */
#include "api/urlauth.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#define FIELD_MAX 64 /* rand and uid: "0", or up to a hyphen-less UUID and then some */
#define TS_MAX 12

struct field {
    const char *s;
    size_t n;
};

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Takes the field up to the next '-' (or the end when last); false if absent. */
static bool next_field(const char **p, struct field *f, bool last)
{
    const char *s = *p;
    const char *dash = strchr(s, '-');
    if (last ? dash != NULL : dash == NULL)
        return false;
    f->s = s;
    f->n = dash ? (size_t)(dash - s) : strlen(s);
    *p = dash ? dash + 1 : s + f->n;
    return true;
}

static bool all_of(const struct field *f, bool (*pred)(char), size_t min, size_t max)
{
    if (f->n < min || f->n > max)
        return false;
    for (size_t i = 0; i < f->n; i++) {
        if (!pred(f->s[i]))
            return false;
    }
    return true;
}

static void hex_lower(const unsigned char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 0x0F];
    }
    out[2 * n] = '\0';
}

/* md5hex("<uri>-<ts>-<rand>-<uid>-<key>") without building the string. */
static void auth_md5(const char *uri, const struct field f[3], const char *key, char out[33])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    OA_ASSERT(ctx);
    OA_ASSERT(EVP_DigestInit_ex(ctx, EVP_md5(), NULL) == 1);
    OA_ASSERT(EVP_DigestUpdate(ctx, uri, strlen(uri)) == 1);
    for (int i = 0; i < 3; i++) {
        OA_ASSERT(EVP_DigestUpdate(ctx, "-", 1) == 1);
        OA_ASSERT(EVP_DigestUpdate(ctx, f[i].s, f[i].n) == 1);
    }
    OA_ASSERT(EVP_DigestUpdate(ctx, "-", 1) == 1);
    OA_ASSERT(EVP_DigestUpdate(ctx, key, strlen(key)) == 1);
    OA_ASSERT(EVP_DigestFinal_ex(ctx, md, &mdlen) == 1);
    EVP_MD_CTX_free(ctx);
    OA_ASSERT(mdlen == 16);
    hex_lower(md, mdlen, out);
}

int urlauth_check(const char *uri, const char *auth_key, const char *key1, const char *key2,
                  long delta, time_t now)
{
    struct field f[4];
    const char *p = auth_key;
    char given[33];

    if (!auth_key)
        return URLAUTH_MISSING;
    OA_ASSERT(uri);
    if (!next_field(&p, &f[0], false) || !next_field(&p, &f[1], false) ||
        !next_field(&p, &f[2], false) || !next_field(&p, &f[3], true))
        return URLAUTH_MALFORMED;
    if (!all_of(&f[0], is_digit, 1, TS_MAX) || !all_of(&f[1], is_alnum, 1, FIELD_MAX) ||
        !all_of(&f[2], is_alnum, 1, FIELD_MAX) || !all_of(&f[3], is_hex, 32, 32))
        return URLAUTH_MALFORMED;

    /* At most 12 digits, so this fits; the sum saturates instead of wrapping. */
    long long ts = 0;
    for (size_t i = 0; i < f[0].n; i++)
        ts = ts * 10 + (f[0].s[i] - '0');
    long long expiry;
    if (delta > 0 && ts > LLONG_MAX - delta)
        expiry = LLONG_MAX;
    else
        expiry = ts + delta;
    if ((long long)now > expiry)
        return URLAUTH_EXPIRED;

    for (size_t i = 0; i < 32; i++) {
        char c = f[3].s[i];
        given[i] = c >= 'A' && c <= 'F' ? (char)(c - 'A' + 'a') : c;
    }
    given[32] = '\0';

    const char *keys[2] = {key1, key2};
    bool ok = false;
    for (int k = 0; k < 2; k++) {
        char want[33];
        if (!keys[k] || !keys[k][0])
            continue;
        auth_md5(uri, f, keys[k], want);
        ok |= CRYPTO_memcmp(want, given, 32) == 0;
    }
    return ok ? URLAUTH_OK : URLAUTH_MISMATCH;
}

void urlauth_sign(const char *uri, time_t ts, const char *key, char *out, size_t outlen)
{
    char tsbuf[32];
    char md5[33];
    struct field f[3];

    snprintf(tsbuf, sizeof(tsbuf), "%lld", (long long)ts);
    f[0].s = tsbuf;
    f[0].n = strlen(tsbuf);
    f[1].s = "0";
    f[1].n = 1;
    f[2].s = "0";
    f[2].n = 1;
    auth_md5(uri, f, key, md5);
    int n = snprintf(out, outlen, "%s-0-0-%s", tsbuf, md5);
    /* A cut-off key would only fail later, and more confusingly. */
    if (outlen && (n < 0 || (size_t)n >= outlen))
        out[0] = '\0';
}

void urlauth_md5_hex(const void *p, size_t len, char out[33])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;

    OA_ASSERT(EVP_Digest(p, len, md, &mdlen, EVP_md5(), NULL) == 1);
    OA_ASSERT(mdlen == 16);
    hex_lower(md, mdlen, out);
}
