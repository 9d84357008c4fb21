/*
 * bucket.h - who owns which bucket of onair's object storage.
 *
 * Bucket names are one namespace for the whole server (like OSS), so a
 * bucket belongs to the account that first names it in a record config or
 * an index file (bucket_claim), for good: deleting the configs does not
 * release it, since the recordings stay in it. Another account naming it
 * is refused, and the HTTP route serves an owned bucket's objects only with
 * the bucket's URL token, which the API puts into every RecordUrl. A bucket
 * nobody owns holds only what the operator put under <data_dir>/oss by hand
 * (studio media, say); it is served to anyone.
 *
 * Loop thread (SQLite).
 */
#ifndef OA_STORE_BUCKET_H
#define OA_STORE_BUCKET_H

#include "core/common.h"

/* Hex digits of a URL token (128 bits). */
#define BUCKET_TOKEN_LEN 32

/*
 * Makes account_id the owner of bucket unless someone owns it already.
 * Returns 0 when account_id owns it (now or before), OA_EAUTH when another
 * account does, OA_EDB.
 */
int bucket_claim(const char *bucket, int64_t account_id);

/* The owner of bucket: 0, OA_ENOTFOUND (nobody) or OA_EDB. */
int bucket_owner(const char *bucket, int64_t *account_id);

/*
 * The bucket's URL token: hex of HMAC-SHA256 under a key derived from
 * master.key (account.h), cut to BUCKET_TOKEN_LEN digits. The same for a
 * name as long as master.key is; unguessable without it. 0, or OA_EINVAL
 * when no master key is loaded.
 */
int bucket_url_token(const char *bucket, char out[BUCKET_TOKEN_LEN + 1]);

/* True when token (any string) is bucket's URL token; constant time. */
bool bucket_url_token_ok(const char *bucket, const char *token);

#endif
