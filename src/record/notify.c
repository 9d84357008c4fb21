/*
 * notify.c - recording callbacks: a row in record_notify_records per event,
 * then one asynchronous POST (with retries) whose outcome updates the row.
 */
#include "notify.h"
#include "api/sign.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "http/client.h"
#include "store/db.h"

#include <jansson.h>
#include <openssl/evp.h>
#include <time.h>

#define NOTIFY_TIMEOUT_MS 5000
#define NOTIFY_RETRIES 5
#define NOTIFY_RETRY_MS 1000

struct pending {
    struct pending *prev, *next;
    int64_t row;
    struct http_client_req *req;
    char header[512];
};

static struct {
    bool running;
    struct pending *list;
} N;

void rec_notify_signature(const char *host, int64_t ts, const char *key, char out[33])
{
    char text[1024];
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    oa_snprintf(text, sizeof(text), "%s|%lld|%s", host, (long long)ts, key);
    EVP_Digest(text, strlen(text), md, &n, EVP_md5(), NULL);
    oa_hex(md, 16, out);
}

/* ---- rows ------------------------------------------------------------------ */

static int64_t row_insert(int64_t account_id, const char *domain, const char *app,
                          const char *stream, const char *type, const char *url,
                          const char *content)
{
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO record_notify_records (account_id, domain, app, stream, notify_type, "
        "notify_url, content, result, notify_ms) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)");
    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, account_id);
    sqlite3_bind_text(st, 2, domain, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, app, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, stream, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 5, type, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 6, url, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 7, content, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 8, oa_wall_ms());
    return db_step_done(st) ? -1 : db_last_insert_id();
}

static void row_result(int64_t row, const char *result, const char *header, const char *response,
                       const char *description)
{
    sqlite3_stmt *st = db_prepare("UPDATE record_notify_records SET result = ?, header = ?, "
                                  "response = ?, description = ?, notify_ms = ? WHERE id = ?");
    if (!st)
        return;
    sqlite3_bind_text(st, 1, result, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, header, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 3, response, -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 4, description, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 5, oa_wall_ms());
    sqlite3_bind_int64(st, 6, row);
    db_step_done(st);
}

/* ---- sending --------------------------------------------------------------- */

static void pending_unlink(struct pending *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        N.list = p->next;
    if (p->next)
        p->next->prev = p->prev;
}

static void on_sent(void *arg, const struct http_client_response *res)
{
    struct pending *p = arg;
    char response[1024];
    bool ok = res->status >= 200 && res->status < 300;
    if (res->status)
        oa_snprintf(response, sizeof(response), "HTTP %d: %.*s", res->status,
                    (int)OA_MIN(res->body_len, 900), res->body ? (const char *)res->body : "");
    else
        oa_snprintf(response, sizeof(response), "%s", res->error ? res->error : "no response");
    char desc[256];
    oa_snprintf(desc, sizeof(desc), "%d attempt%s", res->attempts, res->attempts == 1 ? "" : "s");
    row_result(p->row, ok ? "success" : "failed", p->header, response, desc);
    if (!ok)
        oa_log(OA_LOG_WARN, "record: callback %lld failed after %s: %s", (long long)p->row, desc,
               response);
    pending_unlink(p);
    oa_free(p);
}

/* Sends a stored row's content to url; the domain's config supplies the key. */
static void send_row(int64_t row, const char *domain, const char *url, const char *content)
{
    struct rec_notify_config nc;
    bool auth = rec_notify_config_get(domain, &nc) == 0 && nc.notify_req_auth;
    struct pending *p = oa_calloc(1, sizeof(*p));
    p->row = row;
    char ts[32], sig[33], host[256];
    const char *headers[5] = {NULL};
    if (auth && http_client_url_host(url, host, sizeof(host)) == 0) {
        int64_t now = (int64_t)time(NULL);
        oa_snprintf(ts, sizeof(ts), "%lld", (long long)now);
        rec_notify_signature(host, now, nc.auth_key, sig);
        headers[0] = "ALI-LIVE-TIMESTAMP";
        headers[1] = ts;
        headers[2] = "ALI-LIVE-SIGNATURE";
        headers[3] = sig;
        oa_snprintf(p->header, sizeof(p->header), "ALI-LIVE-TIMESTAMP: %s\nALI-LIVE-SIGNATURE: %s",
                    ts, sig);
    }
    struct http_client_opts o = {
        .timeout_ms = NOTIFY_TIMEOUT_MS,
        .retries = NOTIFY_RETRIES,
        .retry_delay_ms = NOTIFY_RETRY_MS,
        .content_type = "application/json",
        .body = content,
        .body_len = strlen(content),
        .headers = headers,
        .max_body = 4096,
    };
    int err = 0;
    p->req = http_client_request("POST", url, &o, on_sent, p, &err);
    if (!p->req) {
        row_result(row, "failed", "", "", err == OA_EINVAL ? "bad NotifyUrl" : "cannot send");
        oa_free(p);
        return;
    }
    p->next = N.list;
    if (N.list)
        N.list->prev = p;
    N.list = p;
}

static void queue_event(int64_t account_id, const char *domain, const char *app, const char *stream,
                        const char *type, const char *url, json_t *body)
{
    char *content = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    if (!content)
        return;
    int64_t row = row_insert(account_id, domain, app, stream, type, url, content);
    if (row >= 0 && N.running)
        send_row(row, domain, url, content);
    free(content);
}

void rec_notify_status(int64_t account_id, const char *domain, const char *app, const char *stream,
                       const char *event, const char *description)
{
    struct rec_notify_config nc;
    if (rec_notify_config_get(domain, &nc) != 0 || !nc.need_status_notify || !nc.notify_url[0])
        return;
    json_t *b = json_pack("{s:s, s:s, s:s, s:s}", "domain", domain, "app", app, "stream", stream,
                          "event", event);
    if (description && *description)
        json_object_set_new(b, "description", json_string(description));
    queue_event(account_id, domain, app, stream, event, nc.notify_url, b);
}

void rec_notify_file(const struct rec_file *f)
{
    struct rec_notify_config nc;
    if (rec_notify_config_get(f->domain, &nc) != 0 || !nc.notify_url[0])
        return;
    json_t *args = json_loads(f->push_args, 0, NULL);
    if (!json_is_object(args)) {
        json_decref(args);
        args = json_object();
    }
    json_t *b = json_pack("{s:s, s:s, s:s, s:s, s:f, s:I, s:I, s:o}", "domain", f->domain, "app",
                          f->app, "stream", f->stream, "uri", f->object, "duration", f->duration,
                          "start_time", (json_int_t)(f->start_ms / 1000), "stop_time",
                          (json_int_t)(f->end_ms / 1000), "push_args", args);
    queue_event(f->account_id, f->domain, f->app, f->stream, "file_created", nc.notify_url, b);
}

int rec_notify_init(void)
{
    N.running = true;
    /* Collect first: sending updates the table being read. */
    sqlite3_stmt *st = db_prepare("SELECT id, domain, notify_url, content FROM "
                                  "record_notify_records WHERE result = 'pending' ORDER BY id");
    if (!st)
        return OA_EDB;
    struct row {
        int64_t id;
        char *domain, *url, *content;
    } *rows = NULL;
    size_t n = 0, cap = 0;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 16;
            rows = oa_realloc(rows, cap * sizeof(*rows));
        }
        rows[n++] = (struct row){sqlite3_column_int64(st, 0), oa_strdup(db_col_text(st, 1)),
                                 oa_strdup(db_col_text(st, 2)), oa_strdup(db_col_text(st, 3))};
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        send_row(rows[i].id, rows[i].domain, rows[i].url, rows[i].content);
        oa_free(rows[i].domain);
        oa_free(rows[i].url);
        oa_free(rows[i].content);
    }
    oa_free(rows);
    if (n)
        oa_log(OA_LOG_INFO, "record: resending %zu callback(s) left pending", n);
    return 0;
}

void rec_notify_stop(void)
{
    N.running = false;
    while (N.list) {
        struct pending *p = N.list;
        pending_unlink(p);
        http_client_cancel(p->req);
        oa_free(p);
    }
}

int rec_notify_records_list(const char *domain, const char *app, const char *stream,
                            const char *result, int64_t start_ms, int64_t end_ms, int offset,
                            int limit, void (*fn)(const struct rec_notify_record *n, void *arg),
                            void *arg, int *total)
{
    static const char where[] =
        " FROM record_notify_records WHERE domain = ?1 AND (?2 IS NULL OR app = ?2) AND "
        "(?3 IS NULL OR stream = ?3) AND (?4 IS NULL OR result = ?4) AND notify_ms >= ?5 AND "
        "notify_ms <= ?6";
    char sql[768];
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
        if (result)
            sqlite3_bind_text(st, 4, result, -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(st, 5, start_ms);
        sqlite3_bind_int64(st, 6, end_ms);
        if (pass == 0) {
            *total = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
            sqlite3_finalize(st);
            oa_snprintf(sql, sizeof(sql),
                        "SELECT domain, app, stream, notify_type, notify_url, content, header, "
                        "response, result, description, notify_ms%s ORDER BY notify_ms DESC, id "
                        "DESC LIMIT ?7 OFFSET ?8",
                        where);
            if (!(st = db_prepare(sql)))
                return OA_EDB;
            sqlite3_bind_int(st, 7, limit);
            sqlite3_bind_int(st, 8, offset);
            continue;
        }
        while (sqlite3_step(st) == SQLITE_ROW) {
            struct rec_notify_record n;
            memset(&n, 0, sizeof(n));
            oa_strlcpy(n.domain, db_col_text(st, 0), sizeof(n.domain));
            oa_strlcpy(n.app, db_col_text(st, 1), sizeof(n.app));
            oa_strlcpy(n.stream, db_col_text(st, 2), sizeof(n.stream));
            oa_strlcpy(n.type, db_col_text(st, 3), sizeof(n.type));
            oa_strlcpy(n.url, db_col_text(st, 4), sizeof(n.url));
            oa_strlcpy(n.content, db_col_text(st, 5), sizeof(n.content));
            oa_strlcpy(n.header, db_col_text(st, 6), sizeof(n.header));
            oa_strlcpy(n.response, db_col_text(st, 7), sizeof(n.response));
            oa_strlcpy(n.result, db_col_text(st, 8), sizeof(n.result));
            oa_strlcpy(n.description, db_col_text(st, 9), sizeof(n.description));
            n.notify_ms = sqlite3_column_int64(st, 10);
            fn(&n, arg);
        }
    }
    sqlite3_finalize(st);
    return 0;
}

/* ---- OnDemandUrl ------------------------------------------------------------ */

void rec_ondemand_parse(const uint8_t *body, size_t len, struct rec_ondemand_reply *out)
{
    memset(out, 0, sizeof(*out));
    json_t *j = json_loadb((const char *)body, len, 0, NULL);
    json_t *need = json_object_get(j, "NeedRecord");
    if (!json_is_object(j) || !json_is_boolean(need)) {
        json_decref(j);
        return;
    }
    out->ok = true;
    out->need_record = json_is_true(need);
    json_t *iv = json_object_get(j, "Interval");
    static const char *const keys[REC_NFMT] = {"Flv", "Mp4", "M3U8"};
    for (int i = 0; i < REC_NFMT; i++) {
        const char *k;
        json_t *v;
        /* Keys are compared without case: replies write "M3u8" and "m3u8" too. */
        json_object_foreach(iv, k, v)
        {
            if (oa_strcaseeq(k, keys[i]) && json_is_integer(v)) {
                json_int_t s = json_integer_value(v);
                out->interval_s[i] = s < 5 ? 5 : s > 21600 ? 21600 : (int)s;
            }
        }
    }
    json_t *fmts = json_object_get(j, "Format");
    if (json_is_array(fmts)) {
        size_t i;
        json_t *v;
        json_array_foreach(fmts, i, v)
        {
            int f = json_is_string(v) ? rec_fmt_parse(json_string_value(v)) : -1;
            if (f >= 0) {
                out->format[f] = true;
                out->formats_given = true;
            }
        }
    }
    json_decref(j);
}

struct rec_ondemand {
    rec_ondemand_fn *fn;
    void *arg;
    struct http_client_req *req;
};

void rec_ondemand_cancel(struct rec_ondemand *od)
{
    if (od) {
        http_client_cancel(od->req);
        oa_free(od);
    }
}

static void on_ondemand(void *arg, const struct http_client_response *res)
{
    struct rec_ondemand *od = arg;
    struct rec_ondemand_reply reply;
    /* Only a 2xx answer counts; after the retries anything else means "no usable reply". */
    bool ok = res->status >= 200 && res->status < 300;
    rec_ondemand_parse(res->body, ok ? res->body_len : 0, &reply);
    if (!ok)
        oa_log(OA_LOG_WARN, "record: OnDemandUrl: %s after %d attempt(s); not recording",
               res->status ? "HTTP error" : (res->error ? res->error : "no answer"), res->attempts);
    od->fn(od->arg, &reply);
    oa_free(od);
}

struct rec_ondemand *rec_notify_ondemand(const char *domain, const char *app, const char *stream,
                                         int vbitrate_kbps, const char *codec, rec_ondemand_fn *fn,
                                         void *arg)
{
    struct rec_notify_config nc;
    if (rec_notify_config_get(domain, &nc) != 0 || !nc.on_demand_url[0])
        return NULL;
    struct oa_buf u = OA_BUF_INIT(8192);
    oa_buf_append_str(&u, nc.on_demand_url);
    oa_buf_append_str(&u, strchr(nc.on_demand_url, '?') ? "&app=" : "?app=");
    api_percent_encode(&u, app, strlen(app));
    oa_buf_append_str(&u, "&domain=");
    api_percent_encode(&u, domain, strlen(domain));
    oa_buf_append_str(&u, "&stream=");
    api_percent_encode(&u, stream, strlen(stream));
    oa_buf_printf(&u, "&vbitrate=%d&codec=%s", vbitrate_kbps, codec);
    char ts[32], sig[33], host[256];
    const char *headers[5] = {NULL};
    if (nc.notify_req_auth && http_client_url_host(nc.on_demand_url, host, sizeof(host)) == 0) {
        int64_t now = (int64_t)time(NULL);
        oa_snprintf(ts, sizeof(ts), "%lld", (long long)now);
        rec_notify_signature(host, now, nc.auth_key, sig);
        headers[0] = "ALI-LIVE-TIMESTAMP";
        headers[1] = ts;
        headers[2] = "ALI-LIVE-SIGNATURE";
        headers[3] = sig;
    }
    struct http_client_opts o = {
        .timeout_ms = NOTIFY_TIMEOUT_MS,
        .retries = NOTIFY_RETRIES,
        .retry_delay_ms = NOTIFY_RETRY_MS,
        .headers = headers,
        .max_body = 65536,
    };
    struct rec_ondemand *od = oa_calloc(1, sizeof(*od));
    od->fn = fn;
    od->arg = arg;
    int err = 0;
    od->req = http_client_request("GET", oa_buf_cstr(&u), &o, on_ondemand, od, &err);
    oa_buf_free(&u);
    if (!od->req) {
        oa_log(OA_LOG_WARN, "record: %s/%s/%s: bad OnDemandUrl %s", domain, app, stream,
               nc.on_demand_url);
        oa_free(od);
        return NULL;
    }
    return od;
}
