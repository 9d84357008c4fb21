/*
 * sign.h - the two signature schemes of Alibaba Cloud's RPC APIs.
 *
 * v1 (HMAC-SHA1, parameters in query/body):
 *     StringToSign = METHOD "&" enc("/") "&" enc(sorted "k=v" joined by "&")
 *     Signature    = base64(HMAC-SHA1(secret + "&", StringToSign))
 * v3 (ACS3-HMAC-SHA256 in the Authorization header):
 *     CanonicalRequest = METHOD \n path \n canonical query \n canonical headers \n
 *                        signed header names \n hex(sha256(body))
 *     StringToSign     = "ACS3-HMAC-SHA256\n" hex(sha256(CanonicalRequest))
 *     Signature        = hex(HMAC-SHA256(secret, StringToSign))
 * enc() is RFC 3986 percent-encoding: A-Z a-z 0-9 - _ . ~ kept, everything
 * else %XX with uppercase hex per UTF-8 byte (so space is %20, * is %2A).
 * Parameters sort by their decoded name, byte-wise and stably (so "X.10"
 * sorts before "X.2", and "ZzA" before "Zz[1]" although "Zz%5B1%5D" would
 * sort first): that is what the official SDKs do.
 *
 * All functions are pure; they take the secret and never store it.
 */
#ifndef OA_API_SIGN_H
#define OA_API_SIGN_H

#include "api/params.h"
#include "core/buf.h"
#include "core/common.h"

/* Appends enc(s[0..len)) to out. */
int api_percent_encode(struct oa_buf *out, const char *s, size_t len);

/*
 * Appends the v1 StringToSign for method and params to out. Parameters named
 * "Signature" are left out; empty values are kept.
 */
int api_sign_v1_string(struct oa_buf *out, const char *method, const struct api_param *params,
                       size_t count);
/* Writes base64(HMAC-SHA1(secret "&", sts)) as a NUL-terminated string (28 chars). */
void api_sign_v1(const char *secret, const char *sts, size_t sts_len, char out[29]);

struct api_header {
    const char *name; /* any case; canonicalized to lower case */
    const char *value;
};

/* The parts of "ACS3-HMAC-SHA256 Credential=..,SignedHeaders=..,Signature=..". */
struct api_v3_auth {
    char algorithm[32];
    char credential[129];      /* the AccessKeyId */
    char signed_headers[1024]; /* ';'-separated lower-case names */
    char signature[65];        /* lower-case hex */
};

/*
 * Parses an Authorization header value; 0 or -1 when it is not of that form.
 * The three parts may come in any order, each exactly once, with optional
 * blanks around them; the algorithm is stored as sent (the caller checks
 * it). Signature must be 64 hex digits. signed_headers and signature are
 * lower-cased.
 */
int api_v3_parse_authorization(const char *value, struct api_v3_auth *out);

/*
 * Appends the v3 CanonicalRequest. query holds the decoded query parameters;
 * headers the request's headers, of which those named in signed_headers are
 * used (lower-cased names, trimmed values, in signed_headers' order, which the
 * caller has checked is sorted); payload_hash is the hex SHA-256 of the body.
 * As in the official SDKs (Node openapi-util, Go openapi-util), the canonical
 * query is "name=enc(value)" with the name NOT encoded; only names outside
 * A-Z a-z 0-9 - _ . ~ can tell the difference. A header named more than once
 * contributes its values sorted and joined with ','; a signed header that is
 * absent contributes an empty value. OA_EINVAL if signed_headers has an empty
 * name (";;" or a trailing ';').
 */
int api_sign_v3_canonical(struct oa_buf *out, const char *method, const char *path,
                          const struct api_param *query, size_t nquery,
                          const struct api_header *headers, size_t nheaders,
                          const char *signed_headers, const char *payload_hash);
/* Appends "ACS3-HMAC-SHA256\n" hex(sha256(canonical)) to sts. */
int api_sign_v3_string(struct oa_buf *sts, const char *canonical, size_t len);
/* Writes hex(HMAC-SHA256(secret, sts)) NUL-terminated. */
void api_sign_v3(const char *secret, const char *sts, size_t sts_len, char out[65]);

/* Lower-case hex SHA-256 of p[0..len), NUL-terminated. */
void api_sha256_hex(const void *p, size_t len, char out[65]);

#endif
