/*
 * account.c - accounts and encrypted AccessKey secrets (AES-256-GCM through
 * OpenSSL EVP). Blob layout: 12-byte nonce | ciphertext | 16-byte tag.
 */
#include "account.h"
#include "db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static uint8_t master_key[32];
static uint8_t url_key[32]; /* HMAC(master_key, URL_KEY_LABEL) */
static bool have_key;

#define URL_KEY_LABEL "onair url tokens v1"

/* Called whenever master_key is set. */
static void derive_keys(void)
{
    unsigned int len = sizeof(url_key);
    OA_ASSERT(HMAC(EVP_sha256(), master_key, sizeof(master_key),
                   (const unsigned char *)URL_KEY_LABEL, strlen(URL_KEY_LABEL), url_key, &len));
}

int account_url_mac(const void *msg, size_t n, uint8_t out[32])
{
    unsigned int len = 32;
    if (!have_key)
        return OA_EINVAL;
    return HMAC(EVP_sha256(), url_key, sizeof(url_key), msg, n, out, &len) ? 0 : OA_EINVAL;
}

int account_open_keyfile(const char *data_dir)
{
    char path[1100];
    oa_snprintf(path, sizeof(path), "%s/master.key", data_dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
        struct stat stt;
        /*
         * Refuse rather than warn, as ssh does with private keys: whoever
         * could read the file may already have every secret, and a warning
         * in a log nobody reads would let that go on. The fix is one chmod.
         */
        if (fstat(fd, &stt) != 0 || (stt.st_mode & 077)) {
            oa_log(OA_LOG_ERROR,
                   "store: %s is accessible by group or others (mode %o): it protects every "
                   "AccessKey secret; chmod 600 it (and rotate the keys if others could read it)",
                   path, (unsigned)(stt.st_mode & 0777));
            close(fd);
            return OA_EAUTH;
        }
        ssize_t n = read(fd, master_key, sizeof(master_key));
        close(fd);
        if (n != (ssize_t)sizeof(master_key)) {
            oa_log(OA_LOG_ERROR, "store: %s is not a 32-byte key file", path);
            return OA_EINVAL;
        }
        derive_keys();
        have_key = true;
        return 0;
    }
    if (errno != ENOENT) {
        oa_log(OA_LOG_ERROR, "store: cannot open %s: %s", path, strerror(errno));
        return -errno;
    }
    oa_random_bytes(master_key, sizeof(master_key));
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        oa_log(OA_LOG_ERROR, "store: cannot create %s: %s", path, strerror(errno));
        return -errno;
    }
    ssize_t w = write(fd, master_key, sizeof(master_key));
    int synced = fsync(fd);
    close(fd);
    if (w != (ssize_t)sizeof(master_key) || synced != 0) {
        oa_log(OA_LOG_ERROR, "store: cannot write %s", path);
        unlink(path);
        return OA_EINVAL;
    }
    oa_log(OA_LOG_INFO, "store: created master key %s", path);
    derive_keys();
    have_key = true;
    return 0;
}

static int seal(const char *key_id, const char *secret, uint8_t *out, size_t *outlen)
{
    size_t n = strlen(secret);
    int len = 0, fin = 0, ok;
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    oa_random_bytes(out, 12);
    ok = EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), NULL, master_key, out) == 1 &&
         EVP_EncryptUpdate(c, NULL, &len, (const uint8_t *)key_id, (int)strlen(key_id)) == 1 &&
         EVP_EncryptUpdate(c, out + 12, &len, (const uint8_t *)secret, (int)n) == 1 &&
         EVP_EncryptFinal_ex(c, out + 12 + len, &fin) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, out + 12 + len + fin) == 1;
    EVP_CIPHER_CTX_free(c);
    *outlen = 12 + (size_t)len + (size_t)fin + 16;
    return ok ? 0 : OA_EINVAL;
}

static int unseal(const char *key_id, const uint8_t *in, size_t inlen, char *out, size_t outcap)
{
    if (inlen < 28 || inlen - 28 >= outcap)
        return OA_EAUTH;
    int len = 0, fin = 0, ok;
    int n = (int)(inlen - 28);
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
    ok = EVP_DecryptInit_ex(c, EVP_aes_256_gcm(), NULL, master_key, in) == 1 &&
         EVP_DecryptUpdate(c, NULL, &len, (const uint8_t *)key_id, (int)strlen(key_id)) == 1 &&
         EVP_DecryptUpdate(c, (uint8_t *)out, &len, in + 12, n) == 1 &&
         EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_SET_TAG, 16, (void *)(in + 12 + n)) == 1 &&
         EVP_DecryptFinal_ex(c, (uint8_t *)out + len, &fin) == 1;
    EVP_CIPHER_CTX_free(c);
    if (!ok)
        return OA_EAUTH;
    out[len + fin] = '\0';
    return 0;
}

static void random_alnum(char *out, size_t n)
{
    static const char set[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    uint8_t r[64];
    OA_ASSERT(n <= sizeof(r));
    oa_random_bytes(r, n);
    for (size_t i = 0; i < n; i++)
        out[i] = set[r[i] % (sizeof(set) - 1)];
    out[n] = '\0';
}

static int insert_key(int64_t account_id, const char *key_id, const char *secret)
{
    uint8_t blob[ACCOUNT_SECRET_MAX + 64];
    size_t n;
    if (!have_key || strlen(secret) > ACCOUNT_SECRET_MAX || seal(key_id, secret, blob, &n))
        return OA_EINVAL;
    sqlite3_stmt *st = db_prepare("INSERT OR REPLACE INTO access_keys "
                                  "(key_id, account_id, secret, status, created) "
                                  "VALUES (?, ?, ?, 'Active', ?)");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, key_id, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, account_id);
    sqlite3_bind_blob(st, 3, blob, (int)n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
    return db_step_done(st);
}

static int insert_account(const char *name, int64_t *account_id)
{
    sqlite3_stmt *st = db_prepare("INSERT INTO accounts (name, created) VALUES (?, ?)");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
    int r = db_step_done(st);
    if (!r)
        *account_id = db_last_insert_id();
    return r;
}

int account_create(const char *name, char key_id[ACCOUNT_KEY_ID_MAX + 1],
                   char secret[ACCOUNT_SECRET_MAX + 1], int64_t *account_id)
{
    memcpy(key_id, "LTAI", 4);
    random_alnum(key_id + 4, 20);
    random_alnum(secret, 30);
    if (db_begin())
        return OA_EDB;
    if (insert_account(name, account_id) || insert_key(*account_id, key_id, secret) ||
        db_commit()) {
        db_rollback();
        return OA_EDB;
    }
    return 0;
}

int account_ensure_key(const char *key_id, const char *secret, int64_t *account_id, bool *created)
{
    char old[ACCOUNT_SECRET_MAX + 1];
    bool active;
    *created = false;
    if (!*key_id || strlen(key_id) > ACCOUNT_KEY_ID_MAX || !*secret ||
        strlen(secret) > ACCOUNT_SECRET_MAX)
        return OA_EINVAL;
    int r = account_lookup(key_id, account_id, old, &active);
    if (r == 0 && strcmp(old, secret) == 0)
        return 0;
    if (r == 0 || r == OA_EAUTH)
        return insert_key(*account_id, key_id, secret);
    if (r != OA_ENOTFOUND)
        return r;
    if (db_begin())
        return OA_EDB;
    if (insert_account(key_id, account_id) || insert_key(*account_id, key_id, secret) ||
        db_commit()) {
        db_rollback();
        return OA_EDB;
    }
    *created = true;
    return 0;
}

int account_lookup(const char *key_id, int64_t *account_id, char secret[ACCOUNT_SECRET_MAX + 1],
                   bool *active)
{
    sqlite3_stmt *st =
        db_prepare_cached("SELECT account_id, secret, status FROM access_keys WHERE key_id = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, key_id, -1, SQLITE_TRANSIENT);
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *account_id = sqlite3_column_int64(st, 0);
        *active = strcmp(db_col_text(st, 2), "Active") == 0;
        r = unseal(key_id, sqlite3_column_blob(st, 1), (size_t)sqlite3_column_bytes(st, 1), secret,
                   ACCOUNT_SECRET_MAX + 1);
        if (r)
            oa_log(OA_LOG_ERROR, "store: secret of %s does not decrypt (wrong master.key?)",
                   key_id);
    }
    db_release(st);
    return r;
}

int account_set_key_status(const char *key_id, bool active)
{
    sqlite3_stmt *st = db_prepare("UPDATE access_keys SET status = ? WHERE key_id = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, active ? "Active" : "Inactive", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, key_id, -1, SQLITE_TRANSIENT);
    int r = db_step_done(st);
    if (r == 0 && db_changes() == 0)
        r = OA_ENOTFOUND;
    return r;
}

int64_t account_count(void)
{
    sqlite3_stmt *st = db_prepare("SELECT count(*) FROM accounts");
    int64_t n = 0;
    if (st && sqlite3_step(st) == SQLITE_ROW)
        n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return n;
}
