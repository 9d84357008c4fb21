/* streams.c - SQL for publish history, stream blocks and control history. */
#include "streams.h"
#include "db.h"
#include "core/err.h"

#include <time.h>

int streams_history_start(int64_t account_id, const char *domain, const char *app,
                          const char *stream, const char *publish_domain, const char *client,
                          const char *url, int64_t start_ms, int64_t *id)
{
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO publish_history (account_id, domain, app, stream, publish_domain, "
        "client_addr, publish_url, start_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, stream, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, publish_domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, client, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 8, start_ms);
    int r = db_step_done(st);
    if (!r)
        *id = db_last_insert_id();
    return r;
}

int streams_history_stop(int64_t id, int64_t stop_ms)
{
    sqlite3_stmt *st = db_prepare("UPDATE publish_history SET stop_ms = ? WHERE id = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int64(st, 1, stop_ms);
    sqlite3_bind_int64(st, 2, id);
    return db_step_done(st);
}

int streams_history_close_open(void)
{
    return db_exec("UPDATE publish_history SET stop_ms = start_ms WHERE stop_ms IS NULL");
}

int streams_block_get(const char *domain, const char *app, const char *stream, int64_t *resume_at)
{
    sqlite3_stmt *st = db_prepare("SELECT resume_at FROM stream_blocks WHERE domain = ? AND "
                                  "app = ? AND stream = ? AND resume_at > ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, stream, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, (int64_t)time(NULL));
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *resume_at = sqlite3_column_int64(st, 0);
        r = 0;
    }
    sqlite3_finalize(st);
    return r;
}

int streams_block_set(const char *domain, const char *app, const char *stream, int64_t resume_at)
{
    sqlite3_stmt *st = db_prepare("INSERT OR REPLACE INTO stream_blocks "
                                  "(domain, app, stream, resume_at, created) VALUES (?, ?, ?, ?, ?)");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, stream, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 4, resume_at);
    sqlite3_bind_int64(st, 5, (int64_t)time(NULL));
    return db_step_done(st);
}

int streams_block_clear(const char *domain, const char *app, const char *stream, int *removed)
{
    sqlite3_stmt *st = db_prepare("DELETE FROM stream_blocks WHERE domain = ?1 AND "
                                  "(?2 = '*' OR app = ?2) AND stream = ?3");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, stream, -1, SQLITE_TRANSIENT);
    int r = db_step_done(st);
    if (removed)
        *removed = r ? 0 : db_changes();
    return r;
}

int streams_control_add(const char *domain, const char *app, const char *stream,
                        const char *client_ip, const char *action)
{
    sqlite3_stmt *st = db_prepare("INSERT INTO control_history (domain, app, stream, client_ip, "
                                  "action, at) VALUES (?, ?, ?, ?, ?, ?)");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, stream, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, client_ip, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, action, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 6, (int64_t)time(NULL));
    return db_step_done(st);
}
