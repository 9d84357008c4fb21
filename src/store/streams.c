/*
 * streams.c - SQL for publish history, stream blocks and control history.
 * The list queries run a COUNT and a page query over the same WHERE clause,
 * so paging never reads more rows than it returns.
 */
#include "streams.h"
#include "db.h"
#include "core/err.h"
#include "core/util.h"

#include <time.h>

int streams_history_start(int64_t account_id, const char *domain, const char *app,
                          const char *stream, const char *publish_domain, const char *client,
                          const char *url, int64_t start_ms, int64_t *id)
{
    sqlite3_stmt *st =
        db_prepare("INSERT INTO publish_history (account_id, domain, app, stream, publish_domain, "
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
    sqlite3_stmt *st = db_prepare_cached("SELECT resume_at FROM stream_blocks WHERE domain = ? AND "
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
    db_release(st);
    return r;
}

int streams_block_set(const char *domain, const char *app, const char *stream, int64_t resume_at)
{
    sqlite3_stmt *st =
        db_prepare("INSERT OR REPLACE INTO stream_blocks "
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

#define HISTORY_WHERE                                                                              \
    " FROM publish_history WHERE account_id = ?1 AND (domain = ?2 OR publish_domain = ?2) "        \
    "AND start_ms <= ?3 AND (stop_ms IS NULL OR stop_ms >= ?4) "                                   \
    "AND (?5 IS NULL OR (?6 AND app = ?5) OR (NOT ?6 AND instr(app, ?5) > 0)) "                    \
    "AND (?7 IS NULL OR (?6 AND stream = ?7) OR (NOT ?6 AND instr(stream, ?7) > 0))"

static void bind_history(sqlite3_stmt *st, const struct streams_history_filter *f)
{
    sqlite3_bind_int64(st, 1, f->account_id);
    sqlite3_bind_text(st, 2, f->domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 3, f->to_ms);
    sqlite3_bind_int64(st, 4, f->from_ms);
    if (f->app && f->app[0])
        sqlite3_bind_text(st, 5, f->app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 6, f->strict);
    if (f->stream && f->stream[0])
        sqlite3_bind_text(st, 7, f->stream, -1, SQLITE_TRANSIENT);
}

int streams_history_list(const struct streams_history_filter *f, streams_publish_fn *fn, void *arg,
                         int64_t *total)
{
    static const char *const order_by[] = {
        [STREAMS_ORDER_TIME_ASC] = "start_ms ASC, id ASC",
        [STREAMS_ORDER_TIME_DESC] = "start_ms DESC, id DESC",
        [STREAMS_ORDER_NAME_ASC] = "stream ASC, start_ms ASC, id ASC",
        [STREAMS_ORDER_NAME_DESC] = "stream DESC, start_ms DESC, id DESC",
    };
    char sql[1024];
    sqlite3_stmt *st = db_prepare("SELECT count(*)" HISTORY_WHERE);
    if (!st)
        return OA_EDB;
    bind_history(st, f);
    *total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);

    oa_snprintf(sql, sizeof(sql),
                "SELECT domain, app, stream, publish_domain, client_addr, publish_url, start_ms, "
                "stop_ms" HISTORY_WHERE " ORDER BY %s LIMIT ?8 OFFSET ?9",
                order_by[f->order]);
    st = db_prepare(sql);
    if (!st)
        return OA_EDB;
    bind_history(st, f);
    sqlite3_bind_int64(st, 8, f->limit);
    sqlite3_bind_int64(st, 9, f->offset);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct streams_publish p = {
            .domain = db_col_text(st, 0),
            .app = db_col_text(st, 1),
            .stream = db_col_text(st, 2),
            .publish_domain = db_col_text(st, 3),
            .client = db_col_text(st, 4),
            .url = db_col_text(st, 5),
            .start_ms = sqlite3_column_int64(st, 6),
            .stop_ms = sqlite3_column_int64(st, 7),
        };
        fn(&p, arg);
    }
    sqlite3_finalize(st);
    return 0;
}

int streams_block_list(const char *domain, int64_t offset, int64_t limit, streams_block_fn *fn,
                       void *arg, int64_t *total)
{
    int64_t now = (int64_t)time(NULL);
    sqlite3_stmt *st =
        db_prepare("SELECT count(*) FROM stream_blocks WHERE domain = ? AND resume_at > ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    *total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    if (!fn)
        return 0;
    st = db_prepare("SELECT app, stream, resume_at FROM stream_blocks WHERE domain = ? AND "
                    "resume_at > ? ORDER BY app, stream LIMIT ? OFFSET ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, now);
    sqlite3_bind_int64(st, 3, limit);
    sqlite3_bind_int64(st, 4, offset);
    while (sqlite3_step(st) == SQLITE_ROW)
        fn(db_col_text(st, 0), db_col_text(st, 1), sqlite3_column_int64(st, 2), arg);
    sqlite3_finalize(st);
    return 0;
}

int streams_control_list(const char *domain, const char *app, int64_t from, int64_t to,
                         int64_t limit, streams_control_fn *fn, void *arg)
{
    sqlite3_stmt *st = db_prepare("SELECT app, stream, client_ip, action, at FROM control_history "
                                  "WHERE domain = ?1 AND at >= ?2 AND at <= ?3 AND "
                                  "(?4 IS NULL OR app = ?4) ORDER BY at, id LIMIT ?5");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, from);
    sqlite3_bind_int64(st, 3, to);
    if (app && app[0])
        sqlite3_bind_text(st, 4, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, limit);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct streams_control c = {
            .app = db_col_text(st, 0),
            .stream = db_col_text(st, 1),
            .client_ip = db_col_text(st, 2),
            .action = db_col_text(st, 3),
            .at = sqlite3_column_int64(st, 4),
        };
        fn(&c, arg);
    }
    sqlite3_finalize(st);
    return 0;
}
