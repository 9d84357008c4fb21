/*
 * bucket.c - bucket ownership (table buckets, core migration 3) and the
 * URL token that opens an owned bucket's objects over HTTP.
 */
#include "bucket.h"
#include "account.h"
#include "db.h"
#include "core/err.h"
#include "core/util.h"

#include <openssl/crypto.h>
#include <time.h>

int bucket_owner(const char *bucket, int64_t *account_id)
{
    sqlite3_stmt *st = db_prepare_cached("SELECT account_id FROM buckets WHERE name = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st), r = OA_EDB;
    if (rc == SQLITE_ROW) {
        *account_id = sqlite3_column_int64(st, 0);
        r = 0;
    } else if (rc == SQLITE_DONE) {
        r = OA_ENOTFOUND;
    }
    db_release(st);
    return r;
}

int bucket_claim(const char *bucket, int64_t account_id)
{
    /* One statement: the first account to get here owns it, whoever asks second. */
    sqlite3_stmt *st = db_prepare_cached(
        "INSERT OR IGNORE INTO buckets (name, account_id, created) VALUES (?, ?, ?)");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, bucket, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, account_id);
    sqlite3_bind_int64(st, 3, (int64_t)time(NULL));
    int rc = sqlite3_step(st);
    db_release(st);
    if (rc != SQLITE_DONE)
        return OA_EDB;
    int64_t owner;
    int r = bucket_owner(bucket, &owner);
    if (r)
        return r == OA_ENOTFOUND ? OA_EDB : r;
    return owner == account_id ? 0 : OA_EAUTH;
}

int bucket_url_token(const char *bucket, char out[BUCKET_TOKEN_LEN + 1])
{
    static const char hx[] = "0123456789abcdef";
    uint8_t mac[32];
    /* "oss:" keeps these MACs apart from any other use of the same derived key. */
    char msg[80];
    if (oa_snprintf(msg, sizeof(msg), "oss:%s", bucket) != 0 ||
        account_url_mac(msg, strlen(msg), mac) != 0)
        return OA_EINVAL;
    for (int i = 0; i < BUCKET_TOKEN_LEN / 2; i++) {
        out[2 * i] = hx[mac[i] >> 4];
        out[2 * i + 1] = hx[mac[i] & 15];
    }
    out[BUCKET_TOKEN_LEN] = '\0';
    OPENSSL_cleanse(mac, sizeof(mac));
    return 0;
}

bool bucket_url_token_ok(const char *bucket, const char *token)
{
    char want[BUCKET_TOKEN_LEN + 1];
    if (strlen(token) != BUCKET_TOKEN_LEN || bucket_url_token(bucket, want) != 0)
        return false;
    return CRYPTO_memcmp(want, token, BUCKET_TOKEN_LEN) == 0;
}
