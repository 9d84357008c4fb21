/*
 * urlauth.h - URL authentication "type A" (the auth_key query parameter).
 *
 *     auth_key = "<timestamp>-<rand>-<uid>-<md5hex>"
 *     md5hex   = md5("<URI>-<timestamp>-<rand>-<uid>-<PrivateKey>")
 *
 * URI is the request path without its query string ("/app/stream",
 * "/app/stream.flv", "/app/stream.m3u8"). The URL is valid until
 * timestamp + delta seconds. Either of the domain's two keys is accepted.
 */
#ifndef OA_API_URLAUTH_H
#define OA_API_URLAUTH_H

#include "core/common.h"

#include <time.h>

enum urlauth_result {
    URLAUTH_OK = 0,
    URLAUTH_MISSING = -1,   /* no auth_key */
    URLAUTH_MALFORMED = -2, /* not four '-'-separated fields of the right form */
    URLAUTH_EXPIRED = -3,
    URLAUTH_MISMATCH = -4, /* md5 matches neither key */
};

/*
 * Checks auth_key (may be NULL) for uri at time now. key2 may be NULL or
 * empty (then only key1 is tried). Keys shorter than 1 byte never match.
 * Fields: timestamp 1-12 digits, rand and uid 1-64 ASCII letters or digits
 * ("0" when unused), md5 exactly 32 hex digits in either case. Checks run
 * in that order: form, then expiry (now > timestamp + delta), then the hash.
 */
int urlauth_check(const char *uri, const char *auth_key, const char *key1, const char *key2,
                  long delta, time_t now);

/* Room for any auth_key urlauth_sign() writes (at most 49 bytes with the NUL). */
#define URLAUTH_KEY_LEN 64

/*
 * Writes a valid auth_key for uri, expiring at ts + delta, into out (rand
 * and uid are "0"). If outlen is too small, out gets "" rather than a key
 * cut short.
 */
void urlauth_sign(const char *uri, time_t ts, const char *key, char *out, size_t outlen);

/* Lower-case hex MD5 of p[0..len), NUL-terminated. */
void urlauth_md5_hex(const void *p, size_t len, char out[33]);

#endif
