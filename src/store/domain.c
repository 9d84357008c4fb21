/*
 * domain.c - SQL for domains, ingest-to-play mappings and per-domain configs.
 * Deleting a domain leaves its name in deleted_domains, so that a host
 * naming it is refused instead of falling back to the default domain; adding
 * the name again clears that.
 */
#include "domain.h"
#include "db.h"
#include "core/config.h"
#include "core/err.h"
#include "core/util.h"

#include <ctype.h>
#include <time.h>

#define DOMAIN_COLS                                                                                \
    "name, account_id, type, status, region, scope, description, resource_group, created, "        \
    "modified"

static void read_row(sqlite3_stmt *st, struct domain *d)
{
    oa_strlcpy(d->name, db_col_text(st, 0), sizeof(d->name));
    d->account_id = sqlite3_column_int64(st, 1);
    oa_strlcpy(d->type, db_col_text(st, 2), sizeof(d->type));
    oa_strlcpy(d->status, db_col_text(st, 3), sizeof(d->status));
    oa_strlcpy(d->region, db_col_text(st, 4), sizeof(d->region));
    oa_strlcpy(d->scope, db_col_text(st, 5), sizeof(d->scope));
    oa_strlcpy(d->description, db_col_text(st, 6), sizeof(d->description));
    oa_strlcpy(d->resource_group, db_col_text(st, 7), sizeof(d->resource_group));
    d->created = sqlite3_column_int64(st, 8);
    d->modified = sqlite3_column_int64(st, 9);
}

int domain_get(const char *name, struct domain *out)
{
    sqlite3_stmt *st = db_prepare_cached("SELECT " DOMAIN_COLS " FROM domains WHERE name = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        read_row(st, out);
        r = 0;
    }
    db_release(st);
    return r;
}

int domain_add(const struct domain *d)
{
    struct domain existing;
    if (domain_get(d->name, &existing) == 0)
        return OA_EEXIST;
    sqlite3_stmt *st =
        db_prepare("INSERT INTO domains (" DOMAIN_COLS ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    if (!st)
        return OA_EDB;
    int64_t now = (int64_t)time(NULL);
    sqlite3_bind_text(st, 1, d->name, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, d->account_id);
    sqlite3_bind_text(st, 3, d->type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, d->status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, d->region, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, d->scope, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, d->description, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 8, d->resource_group, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 9, d->created ? d->created : now);
    sqlite3_bind_int64(st, 10, now);
    int r = db_step_done(st);
    if (r == 0) {
        st = db_prepare("DELETE FROM deleted_domains WHERE name = ?");
        if (!st)
            return OA_EDB;
        sqlite3_bind_text(st, 1, d->name, -1, SQLITE_TRANSIENT);
        r = db_step_done(st);
    }
    return r;
}

static int exec_name(const char *sql, const char *name)
{
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
    return db_step_done(st);
}

int domain_delete(const char *name)
{
    if (db_begin())
        return OA_EDB;
    if (exec_name("DELETE FROM domains WHERE name = ?", name) ||
        exec_name("DELETE FROM domain_mappings WHERE push_domain = ?1 OR pull_domain = ?1", name) ||
        exec_name("DELETE FROM domain_configs WHERE domain = ?", name) ||
        exec_name("DELETE FROM stream_blocks WHERE domain = ?", name) ||
        exec_name("DELETE FROM control_history WHERE domain = ?", name) ||
        exec_name("INSERT OR REPLACE INTO deleted_domains (name, deleted) "
                  "VALUES (?, strftime('%s', 'now'))",
                  name) ||
        db_commit()) {
        db_rollback();
        return OA_EDB;
    }
    return 0;
}

int domain_set_status(const char *name, const char *status)
{
    sqlite3_stmt *st = db_prepare("UPDATE domains SET status = ?, modified = ? WHERE name = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, status, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, (int64_t)time(NULL));
    sqlite3_bind_text(st, 3, name, -1, SQLITE_TRANSIENT);
    return db_step_done(st);
}

int domain_set_account(const char *name, int64_t account_id)
{
    sqlite3_stmt *st = db_prepare("UPDATE domains SET account_id = ? WHERE name = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
    return db_step_done(st);
}

int domain_foreach(int64_t account_id, void (*fn)(const struct domain *d, void *arg), void *arg)
{
    sqlite3_stmt *st = db_prepare_cached("SELECT " DOMAIN_COLS " FROM domains "
                                         "WHERE ?1 < 0 OR account_id = ?1 ORDER BY created, name");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int64(st, 1, account_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct domain d;
        read_row(st, &d);
        fn(&d, arg);
    }
    db_release(st);
    return 0;
}

int domain_map(const char *push_domain, const char *pull_domain)
{
    sqlite3_stmt *st = db_prepare(
        "INSERT OR REPLACE INTO domain_mappings (push_domain, pull_domain) VALUES (?, ?)");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, push_domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, pull_domain, -1, SQLITE_TRANSIENT);
    return db_step_done(st);
}

int domain_unmap(const char *push_domain)
{
    return exec_name("DELETE FROM domain_mappings WHERE push_domain = ?", push_domain);
}

int domain_mapping_get(const char *push_domain, char pull[256])
{
    sqlite3_stmt *st =
        db_prepare_cached("SELECT pull_domain FROM domain_mappings WHERE push_domain = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, push_domain, -1, SQLITE_TRANSIENT);
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        oa_strlcpy(pull, db_col_text(st, 0), 256);
        r = 0;
    }
    db_release(st);
    return r;
}

int domain_has_ingest(const char *pull_domain, bool *has)
{
    sqlite3_stmt *st =
        db_prepare_cached("SELECT 1 FROM domain_mappings WHERE pull_domain = ? LIMIT 1");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, pull_domain, -1, SQLITE_TRANSIENT);
    int rc = sqlite3_step(st);
    *has = rc == SQLITE_ROW;
    db_release(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : OA_EDB;
}

/* Longest wildcard domain (".example.com") that host ends with. */
static int match_wildcard(const char *host, struct domain *d)
{
    sqlite3_stmt *st =
        db_prepare_cached("SELECT " DOMAIN_COLS " FROM domains WHERE name LIKE '.%' "
                          "AND ?1 LIKE '%' || name ORDER BY length(name) DESC LIMIT 1");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        read_row(st, d);
        r = 0;
    }
    db_release(st);
    return r;
}

/* True when host names a deleted domain, exactly or under a deleted wildcard. */
static bool deleted_name(const char *host)
{
    sqlite3_stmt *st = db_prepare_cached("SELECT 1 FROM deleted_domains WHERE name = ?1 OR "
                                         "(name LIKE '.%' AND ?1 LIKE '%' || name) LIMIT 1");
    if (!st)
        return false;
    sqlite3_bind_text(st, 1, host, -1, SQLITE_TRANSIENT);
    bool r = sqlite3_step(st) == SQLITE_ROW;
    db_release(st);
    return r;
}

int domain_resolve(const char *host, struct domain *d, char play_domain[256])
{
    char h[256];
    size_t n = 0;
    /* Drop a port and lower-case: "Live.Example.com:1935" -> "live.example.com". */
    for (; host && host[n] && host[n] != ':' && n < sizeof(h) - 1; n++)
        h[n] = (char)tolower((unsigned char)host[n]);
    h[n] = '\0';
    int r = n ? domain_get(h, d) : OA_ENOTFOUND;
    if (r == OA_ENOTFOUND && n)
        r = match_wildcard(h, d);
    if (r == OA_ENOTFOUND && n && deleted_name(h))
        return OA_ENOTFOUND;
    if (r == OA_ENOTFOUND)
        r = domain_get(oa_cfg.domain, d);
    if (r)
        return r;
    if (strcmp(d->type, "liveEdge") == 0 && domain_mapping_get(d->name, play_domain) == 0)
        return 0;
    oa_strlcpy(play_domain, d->name, 256);
    return 0;
}

int domain_config_get(const char *domain, const char *function, json_t **args, int64_t *config_id)
{
    sqlite3_stmt *st = db_prepare_cached(
        "SELECT args, config_id FROM domain_configs WHERE domain = ? AND function = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, function, -1, SQLITE_TRANSIENT);
    int r = OA_ENOTFOUND;
    if (sqlite3_step(st) == SQLITE_ROW) {
        *args = json_loads(db_col_text(st, 0), 0, NULL);
        if (config_id)
            *config_id = sqlite3_column_int64(st, 1);
        r = *args ? 0 : OA_EDB;
    }
    db_release(st);
    return r;
}

int domain_config_set(const char *domain, const char *function, json_t *args)
{
    char *text = json_dumps(args, JSON_COMPACT);
    if (!text)
        return OA_EINVAL;
    sqlite3_stmt *st = db_prepare(
        "INSERT OR REPLACE INTO domain_configs (domain, function, config_id, args) VALUES "
        "(?1, ?2, COALESCE((SELECT config_id FROM domain_configs WHERE domain = ?1 AND "
        "function = ?2), (SELECT COALESCE(MAX(config_id), 0) + 1 FROM domain_configs)), ?3)");
    if (!st) {
        free(text);
        return OA_EDB;
    }
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, function, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, text, -1, SQLITE_TRANSIENT);
    free(text);
    return db_step_done(st);
}

int domain_config_delete(const char *domain, const char *function)
{
    sqlite3_stmt *st = db_prepare("DELETE FROM domain_configs WHERE domain = ? AND function = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, function, -1, SQLITE_TRANSIENT);
    return db_step_done(st);
}
