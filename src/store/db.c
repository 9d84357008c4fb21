/*
 * db.c - opening, migrating and checkpointing the SQLite database.
 * Migrations are an array of SQL scripts; PRAGMA user_version records how
 * many have run.
 */
#include "db.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"

#include <pthread.h>

static struct {
    sqlite3 *db;
    char path[1100];
    pthread_t ckpt_thread;
    bool ckpt_running;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool stop;
    int interval_ms;
    int tx_depth; /* db_begin()s not yet committed or rolled back */
} D = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void cache_clear(void);

static const char *const core_migrations[] = {
    /* 1: accounts, domains, streams */
    "CREATE TABLE accounts ("
    "  id INTEGER PRIMARY KEY, name TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE TABLE access_keys ("
    "  key_id TEXT PRIMARY KEY, account_id INTEGER NOT NULL REFERENCES accounts(id),"
    "  secret BLOB NOT NULL, status TEXT NOT NULL DEFAULT 'Active', created INTEGER NOT NULL);"
    "CREATE TABLE domains ("
    "  name TEXT PRIMARY KEY COLLATE NOCASE, account_id INTEGER NOT NULL,"
    "  type TEXT NOT NULL, status TEXT NOT NULL, region TEXT NOT NULL DEFAULT '',"
    "  scope TEXT NOT NULL DEFAULT 'domestic', description TEXT NOT NULL DEFAULT '',"
    "  resource_group TEXT NOT NULL DEFAULT '', created INTEGER NOT NULL,"
    "  modified INTEGER NOT NULL);"
    "CREATE TABLE domain_mappings ("
    "  push_domain TEXT PRIMARY KEY COLLATE NOCASE, pull_domain TEXT NOT NULL COLLATE NOCASE);"
    "CREATE TABLE domain_configs ("
    "  domain TEXT NOT NULL COLLATE NOCASE, function TEXT NOT NULL, config_id INTEGER NOT NULL,"
    "  args TEXT NOT NULL, PRIMARY KEY (domain, function));"
    "CREATE TABLE publish_history ("
    "  id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, domain TEXT NOT NULL,"
    "  app TEXT NOT NULL, stream TEXT NOT NULL, publish_domain TEXT NOT NULL,"
    "  client_addr TEXT NOT NULL, publish_url TEXT NOT NULL, start_ms INTEGER NOT NULL,"
    "  stop_ms INTEGER);"
    "CREATE INDEX publish_history_by_domain ON publish_history(domain, start_ms);"
    "CREATE TABLE stream_blocks ("
    "  domain TEXT NOT NULL COLLATE NOCASE, app TEXT NOT NULL, stream TEXT NOT NULL,"
    "  resume_at INTEGER NOT NULL, created INTEGER NOT NULL, PRIMARY KEY (domain, app, stream));"
    "CREATE TABLE control_history ("
    "  id INTEGER PRIMARY KEY, domain TEXT NOT NULL COLLATE NOCASE, app TEXT NOT NULL,"
    "  stream TEXT NOT NULL, client_ip TEXT NOT NULL, action TEXT NOT NULL,"
    "  at INTEGER NOT NULL);"
    "CREATE INDEX control_history_by_domain ON control_history(domain, at);",
    /* 2: names of deleted domains (they must not fall back to the default domain) */
    "CREATE TABLE deleted_domains ("
    "  name TEXT PRIMARY KEY COLLATE NOCASE, deleted INTEGER NOT NULL);"
    "CREATE INDEX publish_history_by_publish_domain ON publish_history(publish_domain, start_ms);",
    /* 3: owners of object-storage buckets (bucket.h) */
    ("CREATE TABLE buckets ("
     "  name TEXT PRIMARY KEY, account_id INTEGER NOT NULL, created INTEGER NOT NULL);"),
};

sqlite3 *db_handle(void)
{
    return D.db;
}

static int exec_on(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
        oa_log(OA_LOG_ERROR, "db: %s", msg ? msg : "error");
        sqlite3_free(msg);
        return OA_EDB;
    }
    return 0;
}

int db_exec(const char *sql)
{
    return exec_on(D.db, sql);
}

int db_migrate(const char *module, const char *const *scripts, size_t n)
{
    if (db_exec("CREATE TABLE IF NOT EXISTS schema_versions ("
                "  module TEXT PRIMARY KEY, version INTEGER NOT NULL)"))
        return OA_EDB;
    sqlite3_stmt *st = db_prepare("SELECT version FROM schema_versions WHERE module = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
    int version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
    sqlite3_finalize(st);
    for (int i = version; i < (int)n; i++) {
        if (db_begin() || db_exec(scripts[i]))
            goto fail;
        st = db_prepare("INSERT OR REPLACE INTO schema_versions (module, version) VALUES (?, ?)");
        if (!st)
            goto fail;
        sqlite3_bind_text(st, 1, module, -1, SQLITE_STATIC);
        sqlite3_bind_int(st, 2, i + 1);
        if (db_step_done(st) || db_commit())
            goto fail;
    }
    return 0;
fail:
    db_rollback();
    oa_log(OA_LOG_ERROR, "db: migration %s/%d failed", module, version + 1);
    return OA_EDB;
}

int db_open(const char *data_dir)
{
    oa_snprintf(D.path, sizeof(D.path), "%s/onair.db", data_dir);
    if (sqlite3_open_v2(D.path, &D.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK) {
        oa_log(OA_LOG_ERROR, "db: cannot open %s: %s", D.path, sqlite3_errmsg(D.db));
        sqlite3_close(D.db);
        D.db = NULL;
        return OA_EDB;
    }
    sqlite3_busy_timeout(D.db, 5000);
    if (db_exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
                "PRAGMA wal_autocheckpoint=0;"))
        return OA_EDB;
    return db_migrate("core", core_migrations, OA_ARRAY_SIZE(core_migrations));
}

static void *checkpointer(void *arg)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(D.path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        oa_log(OA_LOG_ERROR, "db: checkpointer cannot open %s", D.path);
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 1000);
    pthread_mutex_lock(&D.mu);
    while (!D.stop) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += D.interval_ms / 1000;
        ts.tv_nsec += (long)(D.interval_ms % 1000) * 1000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&D.cv, &D.mu, &ts);
        bool stopping = D.stop;
        pthread_mutex_unlock(&D.mu);
        int r = sqlite3_wal_checkpoint_v2(
            db, NULL, stopping ? SQLITE_CHECKPOINT_TRUNCATE : SQLITE_CHECKPOINT_PASSIVE, NULL,
            NULL);
        if (r != SQLITE_OK && r != SQLITE_BUSY)
            oa_log(OA_LOG_WARN, "db: checkpoint failed: %s", sqlite3_errmsg(db));
        pthread_mutex_lock(&D.mu);
    }
    pthread_mutex_unlock(&D.mu);
    sqlite3_close(db);
    return NULL;
}

void db_start_checkpointer(int interval_ms)
{
    D.interval_ms = interval_ms;
    D.stop = false;
    if (pthread_create(&D.ckpt_thread, NULL, checkpointer, NULL) == 0)
        D.ckpt_running = true;
}

void db_close(void)
{
    if (D.ckpt_running) {
        pthread_mutex_lock(&D.mu);
        D.stop = true;
        pthread_cond_signal(&D.cv);
        pthread_mutex_unlock(&D.mu);
        pthread_join(D.ckpt_thread, NULL);
        D.ckpt_running = false;
    }
    if (D.db) {
        cache_clear();
        sqlite3_close_v2(D.db);
        D.db = NULL;
    }
}

/*
 * Statements kept prepared for db_prepare_cached(), keyed by the address of
 * their SQL text (a string literal at the call site). Preparing is most of
 * the cost of a small query; the hot read paths (API authentication, domain
 * resolution on every publish and play) reuse theirs.
 */
#define STMT_CACHE 32
static struct {
    const char *sql;
    sqlite3_stmt *st;
    bool busy;
} C[STMT_CACHE];

sqlite3_stmt *db_prepare_cached(const char *sql)
{
    int free_slot = -1;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (C[i].sql == sql) {
            /* Already in use further up the stack: that caller keeps it, this one gets its own. */
            if (C[i].busy)
                return db_prepare(sql);
            C[i].busy = true;
            return C[i].st;
        }
        if (!C[i].sql && free_slot < 0)
            free_slot = i;
    }
    sqlite3_stmt *st = db_prepare(sql);
    if (st && free_slot >= 0) {
        C[free_slot].sql = sql;
        C[free_slot].st = st;
        C[free_slot].busy = true;
    }
    return st;
}

void db_release(sqlite3_stmt *st)
{
    if (!st)
        return;
    for (int i = 0; i < STMT_CACHE; i++) {
        if (C[i].st == st) {
            sqlite3_reset(st);
            sqlite3_clear_bindings(st);
            C[i].busy = false;
            return;
        }
    }
    sqlite3_finalize(st);
}

static void cache_clear(void)
{
    for (int i = 0; i < STMT_CACHE; i++) {
        sqlite3_finalize(C[i].st);
        C[i].sql = NULL;
        C[i].st = NULL;
        C[i].busy = false;
    }
}

sqlite3_stmt *db_prepare(const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(D.db, sql, -1, &st, NULL) != SQLITE_OK) {
        oa_log(OA_LOG_ERROR, "db: prepare failed: %s (%.80s)", sqlite3_errmsg(D.db), sql);
        return NULL;
    }
    return st;
}

int db_step_done(sqlite3_stmt *st)
{
    if (!st)
        return OA_EDB;
    int r = sqlite3_step(st);
    if (r != SQLITE_DONE && r != SQLITE_ROW) {
        oa_log(OA_LOG_ERROR, "db: %s", sqlite3_errmsg(D.db));
        sqlite3_finalize(st);
        return OA_EDB;
    }
    sqlite3_finalize(st);
    return 0;
}

int64_t db_last_insert_id(void)
{
    return sqlite3_last_insert_rowid(D.db);
}

int db_changes(void)
{
    return sqlite3_changes(D.db);
}

/*
 * Transactions nest: the outermost is a real transaction, inner ones are
 * savepoints, so a function that needs its own transaction (domain_delete)
 * can also run inside a caller's that covers more tables.
 */
int db_begin(void)
{
    int r = db_exec(D.tx_depth ? "SAVEPOINT nested" : "BEGIN IMMEDIATE");
    if (r == 0)
        D.tx_depth++;
    return r;
}

int db_commit(void)
{
    if (D.tx_depth == 0)
        return OA_EDB;
    /* A failed COMMIT leaves the transaction open: the caller rolls it back. */
    int r = db_exec(D.tx_depth > 1 ? "RELEASE nested" : "COMMIT");
    if (r == 0)
        D.tx_depth--;
    return r;
}

void db_rollback(void)
{
    bool open = !sqlite3_get_autocommit(D.db);
    if (D.tx_depth > 1 && open) {
        /* Undo the savepoint's work only; the caller's transaction goes on. */
        sqlite3_exec(D.db, "ROLLBACK TO nested; RELEASE nested", NULL, NULL, NULL);
        D.tx_depth--;
        return;
    }
    if (open)
        sqlite3_exec(D.db, "ROLLBACK", NULL, NULL, NULL);
    /* SQLite may have rolled everything back itself (SQLITE_FULL...): outer commits then fail. */
    if (D.tx_depth)
        D.tx_depth--;
}

const char *db_col_text(sqlite3_stmt *st, int col)
{
    const unsigned char *t = sqlite3_column_text(st, col);
    return t ? (const char *)t : "";
}
