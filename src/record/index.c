/* index.c - SQL for the recording index: record_files and record_slices. */
#include "index.h"
#include "core/err.h"
#include "core/util.h"
#include "store/db.h"

#define FILE_COLUMNS                                                                               \
    "record_id, kind, state, account_id, domain, app, stream, format, oss_endpoint, oss_bucket, "  \
    "oss_object, object_prefix, seq, start_ms, end_ms, duration, width, height, size, push_args, " \
    "created, final_object"

static void text(sqlite3_stmt *st, int col, const char *s)
{
    sqlite3_bind_text(st, col, s, -1, SQLITE_TRANSIENT);
}

static void row_to_file(sqlite3_stmt *st, struct rec_file *f)
{
    memset(f, 0, sizeof(*f));
    oa_strlcpy(f->record_id, db_col_text(st, 0), sizeof(f->record_id));
    oa_strlcpy(f->kind, db_col_text(st, 1), sizeof(f->kind));
    oa_strlcpy(f->state, db_col_text(st, 2), sizeof(f->state));
    f->account_id = sqlite3_column_int64(st, 3);
    oa_strlcpy(f->domain, db_col_text(st, 4), sizeof(f->domain));
    oa_strlcpy(f->app, db_col_text(st, 5), sizeof(f->app));
    oa_strlcpy(f->stream, db_col_text(st, 6), sizeof(f->stream));
    oa_strlcpy(f->format, db_col_text(st, 7), sizeof(f->format));
    oa_strlcpy(f->endpoint, db_col_text(st, 8), sizeof(f->endpoint));
    oa_strlcpy(f->bucket, db_col_text(st, 9), sizeof(f->bucket));
    oa_strlcpy(f->object, db_col_text(st, 10), sizeof(f->object));
    oa_strlcpy(f->object_prefix, db_col_text(st, 11), sizeof(f->object_prefix));
    f->seq = sqlite3_column_int64(st, 12);
    f->start_ms = sqlite3_column_int64(st, 13);
    f->end_ms = sqlite3_column_int64(st, 14);
    f->duration = sqlite3_column_double(st, 15);
    f->width = sqlite3_column_int(st, 16);
    f->height = sqlite3_column_int(st, 17);
    f->size = sqlite3_column_int64(st, 18);
    oa_strlcpy(f->push_args, db_col_text(st, 19), sizeof(f->push_args));
    f->created = sqlite3_column_int64(st, 20);
    oa_strlcpy(f->final_object, db_col_text(st, 21), sizeof(f->final_object));
}

int rec_index_insert(const struct rec_file *f)
{
    sqlite3_stmt *st = db_prepare("INSERT INTO record_files (" FILE_COLUMNS ") VALUES (?, ?, ?, ?, "
                                  "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return OA_EDB;
    text(st, 1, f->record_id);
    text(st, 2, f->kind);
    text(st, 3, f->state);
    sqlite3_bind_int64(st, 4, f->account_id);
    text(st, 5, f->domain);
    text(st, 6, f->app);
    text(st, 7, f->stream);
    text(st, 8, f->format);
    text(st, 9, f->endpoint);
    text(st, 10, f->bucket);
    text(st, 11, f->object);
    text(st, 12, f->object_prefix);
    sqlite3_bind_int64(st, 13, f->seq);
    sqlite3_bind_int64(st, 14, f->start_ms);
    sqlite3_bind_int64(st, 15, f->end_ms);
    sqlite3_bind_double(st, 16, f->duration);
    sqlite3_bind_int(st, 17, f->width);
    sqlite3_bind_int(st, 18, f->height);
    sqlite3_bind_int64(st, 19, f->size);
    text(st, 20, f->push_args[0] ? f->push_args : "{}");
    sqlite3_bind_int64(st, 21, f->created);
    text(st, 22, f->final_object);
    return db_step_done(st);
}

/* Sets a file's state, one of its names and its measurements. */
static int update_file(const char *sql, const char *name, const struct rec_file *f)
{
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return OA_EDB;
    text(st, 1, name);
    sqlite3_bind_int64(st, 2, f->start_ms);
    sqlite3_bind_int64(st, 3, f->end_ms);
    sqlite3_bind_double(st, 4, f->duration);
    sqlite3_bind_int(st, 5, f->width);
    sqlite3_bind_int(st, 6, f->height);
    sqlite3_bind_int64(st, 7, f->size);
    text(st, 8, f->record_id);
    return db_step_done(st);
}

int rec_index_finishing(const struct rec_file *f)
{
    return update_file("UPDATE record_files SET state = 'finishing', final_object = ?, "
                       "start_ms = ?, end_ms = ?, duration = ?, width = ?, height = ?, size = ? "
                       "WHERE record_id = ?",
                       f->final_object, f);
}

int rec_index_finish(const struct rec_file *f)
{
    return update_file("UPDATE record_files SET state = 'done', final_object = '', oss_object = ?, "
                       "start_ms = ?, end_ms = ?, duration = ?, width = ?, height = ?, size = ? "
                       "WHERE record_id = ?",
                       f->object, f);
}

int rec_index_get(const char *record_id, struct rec_file *out)
{
    sqlite3_stmt *st = db_prepare("SELECT " FILE_COLUMNS " FROM record_files WHERE record_id = ?");
    if (!st)
        return OA_EDB;
    text(st, 1, record_id);
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        row_to_file(st, out);
        r = 0;
    }
    sqlite3_finalize(st);
    return r;
}

int rec_index_delete(const char *record_id)
{
    sqlite3_stmt *st = db_prepare("DELETE FROM record_files WHERE record_id = ?");
    if (!st)
        return OA_EDB;
    text(st, 1, record_id);
    int r = db_step_done(st);
    if (!r && db_changes() == 0)
        return OA_ENOTFOUND;
    return r;
}

int rec_index_list(const char *domain, const char *app, const char *stream, const char *format,
                   int64_t start_ms, int64_t end_ms, bool desc, int offset, int limit,
                   void (*fn)(const struct rec_file *f, void *arg), void *arg, int *total)
{
    static const char where[] =
        " FROM record_files WHERE state = 'done' AND domain = ?1 AND app = ?2 AND stream = ?3 AND "
        "(?4 IS NULL OR format = ?4) AND start_ms < ?6 AND end_ms >= ?5";
    char sql[640];
    oa_snprintf(sql, sizeof(sql), "SELECT COUNT(*)%s", where);
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return OA_EDB;
    for (int pass = 0; pass < 2; pass++) {
        text(st, 1, domain);
        text(st, 2, app);
        text(st, 3, stream);
        if (format)
            text(st, 4, format);
        sqlite3_bind_int64(st, 5, start_ms);
        sqlite3_bind_int64(st, 6, end_ms);
        if (pass == 0) {
            *total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
            sqlite3_finalize(st);
            oa_snprintf(sql, sizeof(sql),
                        "SELECT " FILE_COLUMNS "%s ORDER BY start_ms %s, id %s LIMIT ?7 OFFSET ?8",
                        where, desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
            if (!(st = db_prepare(sql)))
                return OA_EDB;
            sqlite3_bind_int(st, 7, limit);
            sqlite3_bind_int(st, 8, offset);
            continue;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            struct rec_file f;
            row_to_file(st, &f);
            fn(&f, arg);
        }
    }
    sqlite3_finalize(st);
    return 0;
}

int rec_index_find_object(const char *bucket, const char *object, struct rec_file *out)
{
    sqlite3_stmt *st = db_prepare("SELECT " FILE_COLUMNS " FROM record_files WHERE oss_bucket = ? "
                                  "AND oss_object = ? ORDER BY kind = 'file' DESC LIMIT 1");
    if (!st)
        return OA_EDB;
    text(st, 1, bucket);
    text(st, 2, object);
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        row_to_file(st, out);
        r = 0;
    }
    sqlite3_finalize(st);
    return r;
}

int rec_index_foreach_recording(void (*fn)(const struct rec_file *f, void *arg), void *arg)
{
    sqlite3_stmt *st = db_prepare("SELECT " FILE_COLUMNS
                                  " FROM record_files WHERE state IN ('recording', 'finishing') "
                                  "ORDER BY id");
    if (!st)
        return OA_EDB;
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct rec_file f;
        row_to_file(st, &f);
        fn(&f, arg);
    }
    sqlite3_finalize(st);
    return 0;
}

static int64_t max_of(sqlite3_stmt *st)
{
    int64_t v = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
        v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

int64_t rec_index_max_seq(const char *domain, const char *app, const char *stream,
                          const char *format)
{
    sqlite3_stmt *st = db_prepare("SELECT MAX(seq) FROM record_files WHERE kind = 'file' AND "
                                  "domain = ? AND app = ? AND stream = ? AND format = ?");
    if (!st)
        return -1;
    text(st, 1, domain);
    text(st, 2, app);
    text(st, 3, stream);
    text(st, 4, format);
    return max_of(st);
}

/* ---- slices ---------------------------------------------------------------- */

#define SLICE_COLUMNS                                                                              \
    "id, file_record_id, account_id, domain, app, stream, oss_endpoint, oss_bucket, oss_object, "  \
    "seq, start_ms, duration, discontinuity, state"

static void row_to_slice(sqlite3_stmt *st, struct rec_slice *s)
{
    memset(s, 0, sizeof(*s));
    s->id = sqlite3_column_int64(st, 0);
    oa_strlcpy(s->file_record_id, db_col_text(st, 1), sizeof(s->file_record_id));
    s->account_id = sqlite3_column_int64(st, 2);
    oa_strlcpy(s->domain, db_col_text(st, 3), sizeof(s->domain));
    oa_strlcpy(s->app, db_col_text(st, 4), sizeof(s->app));
    oa_strlcpy(s->stream, db_col_text(st, 5), sizeof(s->stream));
    oa_strlcpy(s->endpoint, db_col_text(st, 6), sizeof(s->endpoint));
    oa_strlcpy(s->bucket, db_col_text(st, 7), sizeof(s->bucket));
    oa_strlcpy(s->object, db_col_text(st, 8), sizeof(s->object));
    s->seq = sqlite3_column_int64(st, 9);
    s->start_ms = sqlite3_column_int64(st, 10);
    s->duration = sqlite3_column_double(st, 11);
    s->discontinuity = sqlite3_column_int(st, 12) != 0;
    oa_strlcpy(s->state, db_col_text(st, 13), sizeof(s->state));
}

int rec_slice_insert(const struct rec_slice *s)
{
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO record_slices (file_record_id, account_id, domain, app, stream, "
        "oss_endpoint, oss_bucket, oss_object, seq, start_ms, duration, discontinuity, state) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return OA_EDB;
    text(st, 1, s->file_record_id);
    sqlite3_bind_int64(st, 2, s->account_id);
    text(st, 3, s->domain);
    text(st, 4, s->app);
    text(st, 5, s->stream);
    text(st, 6, s->endpoint);
    text(st, 7, s->bucket);
    text(st, 8, s->object);
    sqlite3_bind_int64(st, 9, s->seq);
    sqlite3_bind_int64(st, 10, s->start_ms);
    sqlite3_bind_double(st, 11, s->duration);
    sqlite3_bind_int(st, 12, s->discontinuity);
    text(st, 13, s->state[0] ? s->state : "open");
    return db_step_done(st);
}

int rec_slice_finish(const char *file_record_id, const char *object, double duration)
{
    sqlite3_stmt *st = db_prepare("UPDATE record_slices SET state = 'done', duration = ? WHERE "
                                  "file_record_id = ? AND oss_object = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_double(st, 1, duration);
    text(st, 2, file_record_id);
    text(st, 3, object);
    return db_step_done(st);
}

int rec_slice_delete(const char *file_record_id, const char *object)
{
    sqlite3_stmt *st =
        db_prepare("DELETE FROM record_slices WHERE file_record_id = ? AND oss_object = ?");
    if (!st)
        return OA_EDB;
    text(st, 1, file_record_id);
    text(st, 2, object);
    return db_step_done(st);
}

int rec_slice_list_file(const char *file_record_id,
                        void (*fn)(const struct rec_slice *s, void *arg), void *arg)
{
    sqlite3_stmt *st = db_prepare("SELECT " SLICE_COLUMNS " FROM record_slices WHERE "
                                  "file_record_id = ? ORDER BY seq, id");
    if (!st)
        return OA_EDB;
    text(st, 1, file_record_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct rec_slice s;
        row_to_slice(st, &s);
        fn(&s, arg);
    }
    sqlite3_finalize(st);
    return 0;
}

int rec_slice_list_range(const char *domain, const char *app, const char *stream,
                         const char *bucket, int64_t start_ms, int64_t end_ms,
                         void (*fn)(const struct rec_slice *s, void *arg), void *arg)
{
    sqlite3_stmt *st = db_prepare("SELECT " SLICE_COLUMNS " FROM record_slices WHERE domain = ? "
                                  "AND app = ? AND stream = ? AND oss_bucket = ? AND state = "
                                  "'done' AND start_ms >= ? AND start_ms <= ? ORDER BY start_ms, "
                                  "seq");
    if (!st)
        return OA_EDB;
    text(st, 1, domain);
    text(st, 2, app);
    text(st, 3, stream);
    text(st, 4, bucket);
    sqlite3_bind_int64(st, 5, start_ms);
    sqlite3_bind_int64(st, 6, end_ms);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct rec_slice s;
        row_to_slice(st, &s);
        fn(&s, arg);
    }
    sqlite3_finalize(st);
    return 0;
}

int rec_slice_delete_file(const char *file_record_id)
{
    sqlite3_stmt *st = db_prepare("DELETE FROM record_slices WHERE file_record_id = ?");
    if (!st)
        return OA_EDB;
    text(st, 1, file_record_id);
    return db_step_done(st);
}

int64_t rec_slice_max_seq(const char *domain, const char *app, const char *stream)
{
    sqlite3_stmt *st = db_prepare(
        "SELECT MAX(seq) FROM record_slices WHERE domain = ? AND app = ? AND stream = ?");
    if (!st)
        return -1;
    text(st, 1, domain);
    text(st, 2, app);
    text(st, 3, stream);
    return max_of(st);
}
