/*
 * config.c (record) - SQL for record configs and callback configs, plus the
 * schema of every recording table (one migration list for module "record").
 * A config's formats are one JSON column: they are read and written whole.
 */
#include "config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "store/db.h"

#include <jansson.h>
#include <time.h>

static const char *const migrations[] = {
    "CREATE TABLE record_configs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " account_id INTEGER NOT NULL,"
    " domain TEXT NOT NULL COLLATE NOCASE,"
    " app TEXT NOT NULL,"
    " stream TEXT NOT NULL DEFAULT '',"
    " oss_endpoint TEXT NOT NULL,"
    " oss_bucket TEXT NOT NULL,"
    " on_demand INTEGER NOT NULL DEFAULT 0,"
    " delay_time INTEGER NOT NULL DEFAULT 180,"
    " start_time INTEGER NOT NULL DEFAULT 0,"
    " end_time INTEGER NOT NULL DEFAULT 0,"
    " formats TEXT NOT NULL,"
    " transcode_formats TEXT NOT NULL DEFAULT '[]',"
    " transcode_templates TEXT NOT NULL DEFAULT '[]',"
    " created INTEGER NOT NULL,"
    " UNIQUE (domain, app, stream));"
    "CREATE TABLE record_notify_configs ("
    " domain TEXT PRIMARY KEY COLLATE NOCASE,"
    " account_id INTEGER NOT NULL,"
    " notify_url TEXT NOT NULL,"
    " on_demand_url TEXT NOT NULL DEFAULT '',"
    " need_status_notify INTEGER NOT NULL DEFAULT 0,"
    " notify_req_auth INTEGER NOT NULL DEFAULT 0,"
    " notify_auth_key TEXT NOT NULL DEFAULT '');"
    /* kind: 'file' (a recording) or 'index' (CreateLiveStreamRecordIndexFiles). */
    "CREATE TABLE record_files ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " record_id TEXT NOT NULL UNIQUE,"
    " kind TEXT NOT NULL,"
    " state TEXT NOT NULL,"
    " account_id INTEGER NOT NULL,"
    " domain TEXT NOT NULL COLLATE NOCASE,"
    " app TEXT NOT NULL,"
    " stream TEXT NOT NULL,"
    " format TEXT NOT NULL,"
    " oss_endpoint TEXT NOT NULL,"
    " oss_bucket TEXT NOT NULL,"
    " oss_object TEXT NOT NULL,"
    " object_prefix TEXT NOT NULL DEFAULT '',"
    " seq INTEGER NOT NULL DEFAULT 0,"
    " start_ms INTEGER NOT NULL,"
    " end_ms INTEGER NOT NULL DEFAULT 0,"
    " duration REAL NOT NULL DEFAULT 0,"
    " width INTEGER NOT NULL DEFAULT 0,"
    " height INTEGER NOT NULL DEFAULT 0,"
    " size INTEGER NOT NULL DEFAULT 0,"
    " push_args TEXT NOT NULL DEFAULT '{}',"
    " created INTEGER NOT NULL);"
    "CREATE INDEX record_files_stream ON record_files (domain, app, stream, start_ms);"
    "CREATE INDEX record_files_state ON record_files (state);"
    "CREATE TABLE record_slices ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " file_record_id TEXT NOT NULL,"
    " account_id INTEGER NOT NULL,"
    " domain TEXT NOT NULL COLLATE NOCASE,"
    " app TEXT NOT NULL,"
    " stream TEXT NOT NULL,"
    " oss_endpoint TEXT NOT NULL,"
    " oss_bucket TEXT NOT NULL,"
    " oss_object TEXT NOT NULL,"
    " seq INTEGER NOT NULL,"
    " start_ms INTEGER NOT NULL,"
    " duration REAL NOT NULL DEFAULT 0,"
    " discontinuity INTEGER NOT NULL DEFAULT 0,"
    " state TEXT NOT NULL);"
    "CREATE INDEX record_slices_stream ON record_slices (domain, app, stream, start_ms);"
    "CREATE INDEX record_slices_file ON record_slices (file_record_id);"
    "CREATE TABLE record_notify_records ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " account_id INTEGER NOT NULL,"
    " domain TEXT NOT NULL COLLATE NOCASE,"
    " app TEXT NOT NULL,"
    " stream TEXT NOT NULL,"
    " notify_type TEXT NOT NULL,"
    " notify_url TEXT NOT NULL,"
    " content TEXT NOT NULL,"
    " header TEXT NOT NULL DEFAULT '',"
    " response TEXT NOT NULL DEFAULT '',"
    " result TEXT NOT NULL,"
    " description TEXT NOT NULL DEFAULT '',"
    " notify_ms INTEGER NOT NULL);"
    "CREATE INDEX record_notify_records_domain ON record_notify_records (domain, notify_ms);",
    /* The name a finishing file is getting (finish.h), so a crash mid-rename is resolved. */
    "ALTER TABLE record_files ADD COLUMN final_object TEXT NOT NULL DEFAULT '';",
};

int rec_store_migrate(void)
{
    return db_migrate("record", migrations, OA_ARRAY_SIZE(migrations));
}

static const char *const fmt_names[REC_NFMT] = {"flv", "mp4", "m3u8"};

const char *rec_fmt_name(enum rec_fmt f)
{
    return (unsigned)f < REC_NFMT ? fmt_names[f] : "?";
}

int rec_fmt_parse(const char *s)
{
    for (int i = 0; i < REC_NFMT; i++) {
        if (oa_strcaseeq(s, fmt_names[i]))
            return i;
    }
    return -1;
}

/* ---- formats <-> JSON ------------------------------------------------------ */

static char *formats_json(const struct rec_config *c)
{
    json_t *a = json_array();
    for (int i = 0; i < c->nformats; i++) {
        const struct rec_format *f = &c->formats[i];
        json_array_append_new(a,
                              json_pack("{s:s, s:s, s:s, s:i, s:i}", "Format", rec_fmt_name(f->fmt),
                                        "OssObjectPrefix", f->object_prefix, "SliceOssObjectPrefix",
                                        f->slice_prefix, "CycleDuration", f->cycle_s,
                                        "SliceDuration", f->slice_s));
    }
    char *s = json_dumps(a, JSON_COMPACT);
    json_decref(a);
    return s;
}

static const char *jstr(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    return s ? s : "";
}

static void formats_parse(const char *text, struct rec_config *c)
{
    json_t *a = json_loads(text, 0, NULL);
    size_t i;
    json_t *v;
    c->nformats = 0;
    json_array_foreach(a, i, v)
    {
        if (c->nformats >= REC_NFMT)
            break;
        struct rec_format *f = &c->formats[c->nformats];
        int fmt = rec_fmt_parse(jstr(v, "Format"));
        if (fmt < 0)
            continue;
        f->fmt = (enum rec_fmt)fmt;
        oa_strlcpy(f->object_prefix, jstr(v, "OssObjectPrefix"), sizeof(f->object_prefix));
        oa_strlcpy(f->slice_prefix, jstr(v, "SliceOssObjectPrefix"), sizeof(f->slice_prefix));
        f->cycle_s = (int)json_integer_value(json_object_get(v, "CycleDuration"));
        f->slice_s = (int)json_integer_value(json_object_get(v, "SliceDuration"));
        c->nformats++;
    }
    json_decref(a);
}

/* ---- record configs ------------------------------------------------------- */

#define CONFIG_COLUMNS                                                                             \
    "id, account_id, domain, app, stream, oss_endpoint, oss_bucket, on_demand, delay_time, "       \
    "start_time, end_time, formats, transcode_formats, transcode_templates, created"

static void row_to_config(sqlite3_stmt *st, struct rec_config *c)
{
    memset(c, 0, sizeof(*c));
    c->id = sqlite3_column_int64(st, 0);
    c->account_id = sqlite3_column_int64(st, 1);
    oa_strlcpy(c->domain, db_col_text(st, 2), sizeof(c->domain));
    oa_strlcpy(c->app, db_col_text(st, 3), sizeof(c->app));
    oa_strlcpy(c->stream, db_col_text(st, 4), sizeof(c->stream));
    oa_strlcpy(c->endpoint, db_col_text(st, 5), sizeof(c->endpoint));
    oa_strlcpy(c->bucket, db_col_text(st, 6), sizeof(c->bucket));
    c->on_demand = sqlite3_column_int(st, 7);
    c->delay_s = sqlite3_column_int(st, 8);
    c->start_time = sqlite3_column_int64(st, 9);
    c->end_time = sqlite3_column_int64(st, 10);
    formats_parse(db_col_text(st, 11), c);
    oa_strlcpy(c->transcode_formats, db_col_text(st, 12), sizeof(c->transcode_formats));
    oa_strlcpy(c->transcode_templates, db_col_text(st, 13), sizeof(c->transcode_templates));
    c->created = sqlite3_column_int64(st, 14);
}

static void bind_fields(sqlite3_stmt *st, const struct rec_config *c, char *formats)
{
    sqlite3_bind_text(st, 1, c->endpoint, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, c->bucket, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 3, c->on_demand);
    sqlite3_bind_int(st, 4, c->delay_s);
    sqlite3_bind_int64(st, 5, c->start_time);
    sqlite3_bind_int64(st, 6, c->end_time);
    sqlite3_bind_text(st, 7, formats, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, c->transcode_formats[0] ? c->transcode_formats : "[]", -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 9, c->transcode_templates[0] ? c->transcode_templates : "[]", -1,
                      SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 10, c->domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 11, c->app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 12, c->stream, -1, SQLITE_TRANSIENT);
}

int rec_config_add(struct rec_config *c)
{
    struct rec_config old;
    int r = rec_config_get(c->domain, c->app, c->stream, &old);
    if (r != OA_ENOTFOUND)
        return r ? r : OA_EEXIST;
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO record_configs (oss_endpoint, oss_bucket, on_demand, delay_time, start_time, "
        "end_time, formats, transcode_formats, transcode_templates, domain, app, stream, "
        "account_id, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return OA_EDB;
    char *formats = formats_json(c);
    c->created = (int64_t)time(NULL);
    bind_fields(st, c, formats);
    sqlite3_bind_int64(st, 13, c->account_id);
    sqlite3_bind_int64(st, 14, c->created);
    r = db_step_done(st);
    free(formats);
    if (!r)
        c->id = db_last_insert_id();
    return r;
}

int rec_config_update(const struct rec_config *c)
{
    sqlite3_stmt *st = db_prepare(
        "UPDATE record_configs SET oss_endpoint = ?, oss_bucket = ?, on_demand = ?, "
        "delay_time = ?, start_time = ?, end_time = ?, formats = ?, transcode_formats = ?, "
        "transcode_templates = ? WHERE domain = ? AND app = ? AND stream = ?");
    if (!st)
        return OA_EDB;
    char *formats = formats_json(c);
    bind_fields(st, c, formats);
    int r = db_step_done(st);
    free(formats);
    if (!r && db_changes() == 0)
        return OA_ENOTFOUND;
    return r;
}

int rec_config_get(const char *domain, const char *app, const char *stream, struct rec_config *out)
{
    sqlite3_stmt *st = db_prepare("SELECT " CONFIG_COLUMNS " FROM record_configs WHERE domain = ? "
                                  "AND app = ? AND stream = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, stream ? stream : "", -1, SQLITE_TRANSIENT);
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        row_to_config(st, out);
        r = 0;
    }
    sqlite3_finalize(st);
    return r;
}

int rec_config_delete(const char *domain, const char *app, const char *stream)
{
    sqlite3_stmt *st =
        db_prepare("DELETE FROM record_configs WHERE domain = ? AND app = ? AND stream = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, stream ? stream : "", -1, SQLITE_TRANSIENT);
    int r = db_step_done(st);
    if (!r && db_changes() == 0)
        return OA_ENOTFOUND;
    return r;
}

int rec_configs_delete_domain(const char *domain)
{
    sqlite3_stmt *st = db_prepare("DELETE FROM record_configs WHERE domain = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    int r = db_step_done(st);
    if (r)
        return r;
    r = rec_notify_config_delete(domain);
    return r == OA_ENOTFOUND ? 0 : r;
}

int rec_config_list(const char *domain, const char *app, const char *stream, bool desc, int offset,
                    int limit, void (*fn)(const struct rec_config *c, void *arg), void *arg,
                    int *total)
{
    static const char where[] = " FROM record_configs WHERE domain = ?1 AND (?2 IS NULL OR app = "
                                "?2) AND (?3 IS NULL OR stream = ?3)";
    char sql[512];
    oa_snprintf(sql, sizeof(sql), "SELECT COUNT(*)%s", where);
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return OA_EDB;
    for (int pass = 0; pass < 2; pass++) {
        sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
        if (app)
            sqlite3_bind_text(st, 2, app, -1, SQLITE_TRANSIENT);
        if (stream)
            sqlite3_bind_text(st, 3, stream, -1, SQLITE_TRANSIENT);
        if (pass == 0) {
            *total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
            sqlite3_finalize(st);
            oa_snprintf(sql, sizeof(sql),
                        "SELECT " CONFIG_COLUMNS "%s ORDER BY created %s, id %s LIMIT ?4 OFFSET ?5",
                        where, desc ? "DESC" : "ASC", desc ? "DESC" : "ASC");
            if (!(st = db_prepare(sql)))
                return OA_EDB;
            sqlite3_bind_int(st, 4, limit);
            sqlite3_bind_int(st, 5, offset);
            continue;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            struct rec_config c;
            row_to_config(st, &c);
            fn(&c, arg);
        }
    }
    sqlite3_finalize(st);
    return 0;
}

int rec_config_rank(const char *cfg_app, const char *cfg_stream, const char *app,
                    const char *stream)
{
    bool any_app = strcmp(cfg_app, "*") == 0;
    if (!any_app && strcmp(cfg_app, app) != 0)
        return -1;
    if (cfg_stream[0] && strcmp(cfg_stream, stream) != 0)
        return -1;
    return (cfg_stream[0] ? 2 : 0) + (any_app ? 0 : 1);
}

int rec_config_match(const char *domain, const char *app, const char *stream,
                     struct rec_config *out)
{
    sqlite3_stmt *st = db_prepare("SELECT " CONFIG_COLUMNS " FROM record_configs WHERE domain = ? "
                                  "AND (app = ? OR app = '*') AND (stream = ? OR stream = '')");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, stream, -1, SQLITE_TRANSIENT);
    int best = -1;
    while (sqlite3_step(st) == SQLITE_ROW) {
        int rank = rec_config_rank(db_col_text(st, 3), db_col_text(st, 4), app, stream);
        if (rank > best) {
            best = rank;
            row_to_config(st, out);
        }
    }
    sqlite3_finalize(st);
    return best < 0 ? OA_ENOTFOUND : 0;
}

/* ---- callback configs ----------------------------------------------------- */

int rec_notify_config_put(const struct rec_notify_config *c, bool insert)
{
    struct rec_notify_config old;
    int r = rec_notify_config_get(c->domain, &old);
    if (r && r != OA_ENOTFOUND)
        return r;
    if (insert && r == 0)
        return OA_EEXIST;
    if (!insert && r == OA_ENOTFOUND)
        return OA_ENOTFOUND;
    sqlite3_stmt *st =
        db_prepare("INSERT OR REPLACE INTO record_notify_configs (domain, account_id, notify_url, "
                   "on_demand_url, need_status_notify, notify_req_auth, notify_auth_key) VALUES "
                   "(?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, c->domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, c->account_id);
    sqlite3_bind_text(st, 3, c->notify_url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, c->on_demand_url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int(st, 5, c->need_status_notify);
    sqlite3_bind_int(st, 6, c->notify_req_auth);
    sqlite3_bind_text(st, 7, c->auth_key, -1, SQLITE_TRANSIENT);
    return db_step_done(st);
}

int rec_notify_config_get(const char *domain, struct rec_notify_config *out)
{
    sqlite3_stmt *st =
        db_prepare("SELECT domain, account_id, notify_url, on_demand_url, need_status_notify, "
                   "notify_req_auth, notify_auth_key FROM record_notify_configs WHERE domain = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        memset(out, 0, sizeof(*out));
        oa_strlcpy(out->domain, db_col_text(st, 0), sizeof(out->domain));
        out->account_id = sqlite3_column_int64(st, 1);
        oa_strlcpy(out->notify_url, db_col_text(st, 2), sizeof(out->notify_url));
        oa_strlcpy(out->on_demand_url, db_col_text(st, 3), sizeof(out->on_demand_url));
        out->need_status_notify = sqlite3_column_int(st, 4) != 0;
        out->notify_req_auth = sqlite3_column_int(st, 5) != 0;
        oa_strlcpy(out->auth_key, db_col_text(st, 6), sizeof(out->auth_key));
        r = 0;
    }
    sqlite3_finalize(st);
    return r;
}

int rec_notify_config_delete(const char *domain)
{
    sqlite3_stmt *st = db_prepare("DELETE FROM record_notify_configs WHERE domain = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    int r = db_step_done(st);
    if (!r && db_changes() == 0)
        return OA_ENOTFOUND;
    return r;
}
