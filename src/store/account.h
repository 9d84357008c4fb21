/*
 * account.h - accounts and their AccessKey pairs.
 *
 * The API verifies HMAC signatures, so the server needs every
 * AccessKeySecret in clear. Secrets are therefore stored encrypted
 * (AES-256-GCM, a fresh nonce each, the AccessKeyId as associated data) with
 * a master key kept in a separate file beside the database (master.key,
 * mode 0600, created on first start). A copy of onair.db alone reveals no
 * secret; see docs/security.md.
 */
#ifndef OA_STORE_ACCOUNT_H
#define OA_STORE_ACCOUNT_H

#include "core/common.h"

#define ACCOUNT_KEY_ID_MAX 64
#define ACCOUNT_SECRET_MAX 128

/*
 * Loads data_dir/master.key, creating it (0600) if missing. Refuses
 * (OA_EAUTH, logged) a key file that group or others may access.
 */
int account_open_keyfile(const char *data_dir);

/*
 * Creates an account with a new random key pair; writes the pair to
 * key_id/secret (NUL-terminated) and the account id to *account_id.
 */
int account_create(const char *name, char key_id[ACCOUNT_KEY_ID_MAX + 1],
                   char secret[ACCOUNT_SECRET_MAX + 1], int64_t *account_id);

/*
 * Makes sure key_id exists with this secret (creating an account for it, or
 * updating the stored secret). Sets *account_id and *created.
 */
int account_ensure_key(const char *key_id, const char *secret, int64_t *account_id, bool *created);

/*
 * Looks key_id up. Returns 0 and fills *account_id, secret and *active;
 * OA_ENOTFOUND when no such key; OA_EDB/OA_EAUTH when it cannot be decrypted.
 */
int account_lookup(const char *key_id, int64_t *account_id, char secret[ACCOUNT_SECRET_MAX + 1],
                   bool *active);

/*
 * HMAC-SHA256 of msg under a key derived from the master key (not the
 * master key itself), for tokens in URLs the server hands out (bucket.h):
 * whoever lacks master.key cannot forge them. 0, or OA_EINVAL before
 * account_open_keyfile.
 */
int account_url_mac(const void *msg, size_t n, uint8_t out[32]);

/*
 * Sets an AccessKey's status: Active, or Inactive (requests signed with it
 * get InvalidAccessKeyId.Inactive). 0, OA_ENOTFOUND (no such key), OA_EDB.
 */
int account_set_key_status(const char *key_id, bool active);

/* Number of accounts. */
int64_t account_count(void);

#endif
