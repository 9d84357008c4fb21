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
    URLAUTH_MISMATCH = -4,  /* md5 matches neither key */
};

/*
 * Checks auth_key (may be NULL) for uri at time now. key2 may be NULL or
 * empty (then only key1 is tried). Keys shorter than 1 byte never match.
 */
int urlauth_check(const char *uri, const char *auth_key, const char *key1, const char *key2,
                  long delta, time_t now);

/* Writes a valid auth_key for uri, expiring at ts + delta, into out. */
void urlauth_sign(const char *uri, time_t ts, const char *key, char *out, size_t outlen);

/* Lower-case hex MD5 of p[0..len), NUL-terminated. */
void urlauth_md5_hex(const void *p, size_t len, char out[33]);

#endif
