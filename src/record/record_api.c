/*
 * record_api.c - recording API handlers (see record_api.h).
 *
 * Every handler first resolves DomainName to a domain the caller owns
 * (another account's domain answers InvalidDomain.NotFound) and keys its
 * records by the domain that keys the streams (an ingest domain's mapped
 * play domain), so a config or command given with either name reaches the
 * same streams. Records read from the index are matched against the
 * requested domain, app and stream as well, so a RecordId of another
 * stream is "not found" too.
 */
#include "record/record_api.h"
#include "access/access.h"
#include "api/domain.h"
#include "api/render.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "core/worker.h"
#include "http/client.h"
#include "record/config.h"
#include "record/index.h"
#include "record/m3u8.h"
#include "record/notify.h"
#include "record/recorder.h"
#include "record/storage.h"
#include "record/tmpl.h"
#include "store/bucket.h"

#include <time.h>

#define CONFIG_NOT_FOUND "Config does not exist."

/* ===== shared helpers ===== */

/* The caller's domain named by DomainName, and the domain its streams are keyed by. */
static int target_domain(struct api_req *r, char key[256])
{
    struct domain d;
    if (api_domain_owned(r, api_str(r, "DomainName"), &d))
        return -1;
    api_domain_stream_key(&d, key);
    return 0;
}

static void iso(json_t *o, const char *key, int64_t ms)
{
    char b[21];
    oa_time_iso((time_t)(ms / 1000), b);
    json_object_set_new(o, key, json_string(b));
}

static void iso_or_empty(json_t *o, const char *key, int64_t s)
{
    if (s > 0)
        iso(o, key, s * 1000);
    else
        json_object_set_new(o, key, json_string(""));
}

static const char *url_host(struct api_req *r)
{
    return oa_cfg.public_host[0] ? oa_cfg.public_host : r->host;
}

static void paging(json_t *resp, long long page, long long size, long long total)
{
    json_object_set_new(resp, "PageNum", json_integer(page));
    json_object_set_new(resp, "PageSize", json_integer(size));
    json_object_set_new(resp, "TotalNum", json_integer(total));
    json_object_set_new(resp, "TotalPage", json_integer((total + size - 1) / size));
}

/* StartTime/EndTime (required) as ms, EndTime not before StartTime, span <= max_days (0: any). */
static int time_range_ms(struct api_req *r, int max_days, int64_t *from, int64_t *to)
{
    time_t a, b;
    if (oa_time_parse_iso(api_str(r, "StartTime"), &a) != 0)
        return api_error_malformed(r, "StartTime");
    if (oa_time_parse_iso(api_str(r, "EndTime"), &b) != 0)
        return api_error_malformed(r, "EndTime");
    if (b < a)
        return api_error(r, 400, "InvalidEndTime.Mismatch",
                         "EndTime must not be earlier than StartTime.");
    if (max_days && b - a > (time_t)max_days * 86400)
        return api_error(r, 400, "InvalidTimeRange",
                         "The interval between StartTime and EndTime cannot exceed %d days.",
                         max_days);
    *from = (int64_t)a * 1000;
    *to = (int64_t)b * 1000;
    return 0;
}

static int page_params(struct api_req *r, const char *page_name, long long max_size, long long def,
                       long long *page, long long *size)
{
    if (api_int(r, page_name, 1, 100000, 1, page) < 0 ||
        api_int(r, "PageSize", 1, max_size, def, size) < 0)
        return -1;
    return 0;
}

static int order_desc(struct api_req *r, bool *desc)
{
    const char *o = api_str_or(r, "Order", "asc");
    if (!oa_strcaseeq(o, "asc") && !oa_strcaseeq(o, "desc"))
        return api_error_malformed(r, "Order");
    *desc = oa_strcaseeq(o, "desc");
    return 0;
}

static bool http_url_ok(const char *u)
{
    char host[256];
    return (strncmp(u, "http://", 7) == 0 || strncmp(u, "https://", 8) == 0) &&
           http_client_url_host(u, host, sizeof(host)) == 0;
}

/* Objects removed or written off the loop: the event loop never touches the disk. */
struct object_job {
    char bucket[64];
    char **objects;
    size_t n;
    uint8_t *data; /* put: one object */
    size_t len;
};

static void object_job_run(void *arg)
{
    struct object_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        int rc = j->data ? storage()->put(j->bucket, j->objects[i], j->data, j->len)
                         : storage()->remove(j->bucket, j->objects[i]);
        if (rc && rc != OA_ENOTFOUND)
            oa_log(OA_LOG_WARN, "record: cannot %s %s/%s: %s", j->data ? "write" : "remove",
                   j->bucket, j->objects[i], oa_strerror(rc));
    }
}

static void object_job_done(void *arg)
{
    struct object_job *j = arg;
    for (size_t i = 0; i < j->n; i++)
        oa_free(j->objects[i]);
    oa_free(j->objects);
    oa_free(j->data);
    oa_free(j);
}

static struct object_job *object_job_new(const char *bucket)
{
    struct object_job *j = oa_calloc(1, sizeof(*j));
    oa_strlcpy(j->bucket, bucket, sizeof(j->bucket));
    return j;
}

static void object_job_add(struct object_job *j, const char *object)
{
    j->objects = oa_realloc(j->objects, (j->n + 1) * sizeof(*j->objects));
    j->objects[j->n++] = oa_strdup(object);
}

static int object_job_submit(struct object_job *j)
{
    if (j->n == 0 || oa_worker_submit(object_job_run, object_job_done, j) != 0) {
        int rc = j->n ? OA_EBUSY : 0;
        object_job_done(j);
        return rc;
    }
    return 0;
}

/* ===== record configs ===== */

static const char *fmt_param(const json_t *item, const char *key)
{
    const char *s = json_string_value(json_object_get(item, key));
    return s && *s ? s : NULL;
}

/*
 * RecordFormat.N.* into c->formats. Returns 0 (also when absent: *given =
 * false) or -1 with the error recorded.
 */
static int parse_formats(struct api_req *r, struct rec_config *c, bool *given)
{
    json_t *list = api_list_param(r, "RecordFormat");
    *given = false;
    if (!list)
        return 0;
    if (!json_is_array(list))
        return api_error_malformed(r, "RecordFormat");
    size_t i;
    json_t *item;
    c->nformats = 0;
    json_array_foreach(list, i, item)
    {
        if (json_is_null(item))
            continue;
        const char *fname = json_is_object(item) ? fmt_param(item, "Format") : NULL;
        int fmt = fname ? rec_fmt_parse(fname) : -1;
        if (fmt < 0)
            return api_error(r, 400, "InvalidFormat.Malformed",
                             "RecordFormat.%zu.Format must be flv, mp4 or m3u8%s.", i + 1,
                             fname && oa_strcaseeq(fname, "cmaf") ? " (cmaf is not supported)"
                                                                  : "");
        for (int k = 0; k < c->nformats; k++) {
            if (c->formats[k].fmt == (enum rec_fmt)fmt)
                return api_error(r, 400, "InvalidFormat.Duplicate",
                                 "RecordFormat lists the format %s twice.", fname);
        }
        struct rec_format *f = &c->formats[c->nformats++];
        memset(f, 0, sizeof(*f));
        f->fmt = (enum rec_fmt)fmt;
        const char *op = fmt_param(item, "OssObjectPrefix");
        const char *sp = fmt_param(item, "SliceOssObjectPrefix");
        if (op && !rec_tmpl_object_ok(op))
            return api_error(r, 400, "InvalidOssObjectPrefix.Malformed",
                             "RecordFormat.%zu.OssObjectPrefix must be shorter than %d bytes, "
                             "contain {StartTime} and {EndTime} (or {EscapedStartTime} and "
                             "{EscapedEndTime}) and expand to a valid object name.",
                             i + 1, REC_TMPL_MAX);
        if (sp && fmt == REC_M3U8 && !rec_tmpl_slice_ok(sp))
            return api_error(r, 400, "InvalidSliceOssObjectPrefix.Malformed",
                             "RecordFormat.%zu.SliceOssObjectPrefix must be shorter than %d "
                             "bytes, contain {UnixTimestamp} and {Sequence} and expand to a "
                             "valid object name.",
                             i + 1, REC_TMPL_MAX);
        oa_strlcpy(f->object_prefix, op ? op : REC_DEFAULT_OBJECT_PREFIX, sizeof(f->object_prefix));
        if (fmt == REC_M3U8)
            oa_strlcpy(f->slice_prefix, sp ? sp : REC_DEFAULT_SLICE_PREFIX,
                       sizeof(f->slice_prefix));
        long long v = REC_DEFAULT_CYCLE_S;
        const char *cd = fmt_param(item, "CycleDuration");
        if (cd && oa_parse_int(cd, 1, 21600, &v) != 0)
            return api_error(r, 400, "InvalidCycleDuration.Malformed",
                             "RecordFormat.%zu.CycleDuration must be 1 to 21600 seconds.", i + 1);
        f->cycle_s = (int)v;
        v = REC_DEFAULT_SLICE_S;
        const char *sd = fmt_param(item, "SliceDuration");
        if (sd && oa_parse_int(sd, 5, 30, &v) != 0)
            return api_error(r, 400, "InvalidSliceDuration.Malformed",
                             "RecordFormat.%zu.SliceDuration must be 5 to 30 seconds.", i + 1);
        f->slice_s = fmt == REC_M3U8 ? (int)v : 0;
    }
    *given = c->nformats > 0;
    return 0;
}

static int parse_json_list(struct api_req *r, const char *name, char *out, size_t outlen)
{
    json_t *list = api_list_param(r, name);
    if (!list)
        return 1;
    char *s = json_dumps(list, JSON_COMPACT);
    int rc = s && strlen(s) < outlen
                 ? 0
                 : api_error(r, 400, "InvalidParameter", "%s is too long.", name);
    if (!rc)
        oa_strlcpy(out, s, outlen);
    free(s);
    return rc;
}

/* Claims the bucket for the caller (store/bucket.h), or answers why not. */
static int claim_bucket(struct api_req *r, const char *bucket)
{
    int rc = bucket_claim(bucket, r->account_id);
    if (rc == OA_EAUTH)
        return api_error(r, 401, "Forbidden",
                         "User not authorized to operate on the specified resource: OssBucket "
                         "\"%s\" belongs to another account.",
                         bucket);
    return rc ? api_error_internal(r) : 0;
}

/* The fields Add and Update share; `update` keeps what is not given. */
static int parse_config(struct api_req *r, struct rec_config *c, bool update)
{
    const char *app = api_str(r, "AppName"), *stream = api_str_or(r, "StreamName", "");
    if (!app || (strcmp(app, "*") != 0 && !access_name_ok(app)))
        return api_error_malformed(r, "AppName");
    if (*stream && !access_name_ok(stream))
        return api_error_malformed(r, "StreamName");
    oa_strlcpy(c->app, app, sizeof(c->app));
    oa_strlcpy(c->stream, stream, sizeof(c->stream));
    oa_strlcpy(c->endpoint, api_str_or(r, "OssEndpoint", c->endpoint), sizeof(c->endpoint));
    const char *bucket = api_str_or(r, "OssBucket", c->bucket);
    if (!storage_bucket_valid(bucket))
        return api_error(r, 400, "InvalidOssBucket.Malformed",
                         "OssBucket must be 3 to 63 lower-case letters, digits and hyphens.");
    oa_strlcpy(c->bucket, bucket, sizeof(c->bucket));
    long long v;
    if (api_int(r, "OnDemand", 0, 7, update ? c->on_demand : 0, &v) < 0)
        return -1;
    if (v != 0 && v != 1 && v != 2 && v != 7)
        return api_error(r, 400, "InvalidOnDemand.Malformed", "OnDemand must be 0, 1, 2 or 7.");
    c->on_demand = (int)v;
    if (api_int(r, "DelayTime", 15, 21600, update ? c->delay_s : REC_DEFAULT_DELAY_S, &v) < 0)
        return -1;
    c->delay_s = (int)v;
    for (int i = 0; i < 2; i++) {
        const char *name = i ? "EndTime" : "StartTime";
        const char *s = api_str_or(r, name, NULL);
        time_t t;
        if (!s)
            continue;
        if (oa_time_parse_iso(s, &t) != 0)
            return api_error_malformed(r, name);
        if (!c->stream[0])
            return api_error(r, 400, "InvalidParameter",
                             "StartTime and EndTime apply to stream-level configs only.");
        *(i ? &c->end_time : &c->start_time) = (int64_t)t;
    }
    if (c->start_time && c->end_time &&
        (c->end_time <= c->start_time || c->end_time - c->start_time > 7 * 86400))
        return api_error(r, 400, "InvalidEndTime.Mismatch",
                         "EndTime must be after StartTime and within 7 days of it.");
    bool given;
    if (parse_formats(r, c, &given))
        return -1;
    bool tgiven = parse_json_list(r, "TranscodeRecordFormat", c->transcode_formats,
                                  sizeof(c->transcode_formats)) == 0;
    if (r->status >= 400)
        return -1;
    parse_json_list(r, "TranscodeTemplates", c->transcode_templates,
                    sizeof(c->transcode_templates));
    if (r->status >= 400)
        return -1;
    if (!update && !given && !tgiven)
        return api_error_missing(r, "RecordFormat");
    return claim_bucket(r, c->bucket);
}

int api_add_live_app_record_config(struct api_req *r)
{
    struct rec_config c;
    memset(&c, 0, sizeof(c));
    if (target_domain(r, c.domain) || parse_config(r, &c, false))
        return -1;
    c.account_id = r->account_id;
    int rc = rec_config_add(&c);
    if (rc == OA_EEXIST)
        return api_error(r, 400, "ConfigAlreadyExists", "Config has already exist.");
    return rc ? api_error_internal(r) : 0;
}

int api_update_live_app_record_config(struct api_req *r)
{
    struct rec_config c;
    char domain[256];
    if (target_domain(r, domain))
        return -1;
    const char *app = api_str_or(r, "AppName", ""), *stream = api_str_or(r, "StreamName", "");
    int rc = rec_config_get(domain, app, stream, &c);
    if (rc == OA_ENOTFOUND)
        return api_error(r, 404, "InvalidConfig.NotFound", CONFIG_NOT_FOUND);
    if (rc)
        return api_error_internal(r);
    if (parse_config(r, &c, true))
        return -1;
    return rec_config_update(&c) ? api_error_internal(r) : 0;
}

static json_t *formats_json(const struct rec_config *c)
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
    return a;
}

static void describe_config(const struct rec_config *c, void *arg)
{
    json_t *o = json_object();
    json_object_set_new(o, "DomainName", json_string(c->domain));
    json_object_set_new(o, "AppName", json_string(c->app));
    json_object_set_new(o, "StreamName", json_string(c->stream));
    json_object_set_new(o, "OssEndpoint", json_string(c->endpoint));
    json_object_set_new(o, "OssBucket", json_string(c->bucket));
    iso(o, "CreateTime", c->created * 1000);
    iso_or_empty(o, "StartTime", c->start_time);
    iso_or_empty(o, "EndTime", c->end_time);
    json_object_set_new(o, "DelayTime", json_integer(c->delay_s));
    /* Spelled as the real API spells it. */
    json_object_set_new(o, "OnDemond", json_integer(c->on_demand));
    json_object_set_new(o, "RecordFormatList", json_pack("{s:o}", "RecordFormat", formats_json(c)));
    json_t *tf = json_loads(c->transcode_formats, 0, NULL);
    json_object_set_new(o, "TranscodeRecordFormatList",
                        json_pack("{s:o}", "RecordFormat", json_is_array(tf) ? tf : json_array()));
    if (!json_is_array(tf))
        json_decref(tf);
    json_t *tt = json_loads(c->transcode_templates, 0, NULL);
    json_object_set_new(o, "TranscodeTemplates",
                        json_pack("{s:o}", "Templates", json_is_array(tt) ? tt : json_array()));
    if (!json_is_array(tt))
        json_decref(tt);
    json_array_append_new(arg, o);
}

int api_describe_live_record_config(struct api_req *r)
{
    char domain[256];
    long long page, size;
    bool desc;
    if (target_domain(r, domain) || page_params(r, "PageNum", 30, 10, &page, &size) ||
        order_desc(r, &desc))
        return -1;
    json_t *list = api_list(r->resp, "LiveAppRecordList", "LiveAppRecord");
    int total = 0;
    if (rec_config_list(domain, api_str_or(r, "AppName", NULL), api_str_or(r, "StreamName", NULL),
                        desc, (int)((page - 1) * size), (int)size, describe_config, list, &total))
        return api_error_internal(r);
    paging(r->resp, page, size, total);
    json_object_set_new(r->resp, "Order", json_string(desc ? "desc" : "asc"));
    return 0;
}

int api_delete_live_app_record_config(struct api_req *r)
{
    char domain[256];
    if (target_domain(r, domain))
        return -1;
    int rc =
        rec_config_delete(domain, api_str_or(r, "AppName", ""), api_str_or(r, "StreamName", ""));
    if (rc == OA_ENOTFOUND)
        return api_error(r, 404, "InvalidConfig.NotFound", CONFIG_NOT_FOUND);
    return rc ? api_error_internal(r) : 0;
}

/* ===== RealTimeRecordCommand ===== */

int api_real_time_record_command(struct api_req *r)
{
    const char *cmd = api_str(r, "Command");
    if (!cmd || (strcmp(cmd, "start") != 0 && strcmp(cmd, "stop") != 0 &&
                 strcmp(cmd, "cancel_delay") != 0 && strcmp(cmd, "restart") != 0))
        return api_error(r, 400, "InvalidCommand.Malformed",
                         "Command must be one of start, stop, cancel_delay, restart.");
    char domain[256];
    if (target_domain(r, domain))
        return -1;
    switch (recorder_command(r->account_id, domain, api_str(r, "AppName"), api_str(r, "StreamName"),
                             cmd)) {
    case REC_CMD_OK:
        return 0;
    case REC_CMD_NO_STREAM:
        return api_error(r, 404, "InvalidStream.NotFound", "Stream does not exist.");
    case REC_CMD_NO_CONFIG:
        return api_error(r, 404, "InvalidConfig.NotFound", CONFIG_NOT_FOUND);
    case REC_CMD_ALREADY_STARTED:
        return api_error(r, 409, "TaskAlreadyStarted", "Task has already started.");
    case REC_CMD_NO_FORMAT:
        return api_error(r, 404, "InvalidConfig.NotFound",
                         "Config does not exist: the effective record config has no RecordFormat "
                         "(transcoded streams are not recorded).");
    case REC_CMD_EXPIRED:
        return api_error(
            r, 404, "InvalidConfig.NotFound",
            "Config does not exist: the effective record config's EndTime has passed.");
    case REC_CMD_BAD_COMMAND:
        break;
    }
    return api_error(r, 400, "InvalidCommand.Malformed",
                     "Command must be one of start, stop, cancel_delay, restart.");
}

/* ===== the index ===== */

static json_t *index_info(struct api_req *r, const struct rec_file *f, bool with_format)
{
    char url[4096];
    if (storage_url(url_host(r), f->bucket, f->object, url, sizeof(url)))
        url[0] = '\0';
    json_t *o = json_object();
    json_object_set_new(o, "RecordId", json_string(f->record_id));
    json_object_set_new(o, "RecordUrl", json_string(url));
    json_object_set_new(o, "DomainName", json_string(f->domain));
    json_object_set_new(o, "AppName", json_string(f->app));
    json_object_set_new(o, "StreamName", json_string(f->stream));
    json_object_set_new(o, "OssEndpoint", json_string(f->endpoint));
    json_object_set_new(o, "OssBucket", json_string(f->bucket));
    json_object_set_new(o, "OssObject", json_string(f->object));
    iso(o, "StartTime", f->start_ms);
    iso(o, "EndTime", f->end_ms);
    json_object_set_new(o, "Duration", json_real(f->duration));
    json_object_set_new(o, "Height", json_integer(f->height));
    json_object_set_new(o, "Width", json_integer(f->width));
    iso(o, "CreateTime", f->created * 1000);
    if (with_format)
        json_object_set_new(o, "Format", json_string(f->format));
    return o;
}

/* DomainName (owned), AppName and StreamName of the index calls. */
static int stream_target(struct api_req *r, char domain[256], const char **app, const char **stream)
{
    if (target_domain(r, domain))
        return -1;
    *app = api_str_or(r, "AppName", "");
    *stream = api_str_or(r, "StreamName", "");
    return 0;
}

static bool same_stream(const struct rec_file *f, struct api_req *r, const char *domain,
                        const char *app, const char *stream)
{
    return f->account_id == r->account_id && oa_strcaseeq(f->domain, domain) &&
           strcmp(f->app, app) == 0 && strcmp(f->stream, stream) == 0;
}

struct list_ctx {
    struct api_req *r;
    json_t *list;
};

static void add_index_info(const struct rec_file *f, void *arg)
{
    struct list_ctx *c = arg;
    json_array_append_new(c->list, index_info(c->r, f, true));
}

int api_describe_live_stream_record_index_files(struct api_req *r)
{
    char domain[256];
    const char *app, *stream;
    int64_t from, to;
    long long page, size;
    bool desc;
    if (stream_target(r, domain, &app, &stream) || time_range_ms(r, 0, &from, &to) ||
        page_params(r, "PageNum", 30, 10, &page, &size) || order_desc(r, &desc))
        return -1;
    struct list_ctx c = {r, api_list(r->resp, "RecordIndexInfoList", "RecordIndexInfo")};
    int total = 0;
    if (rec_index_list(domain, app, stream, NULL, from, to + 999, desc, (int)((page - 1) * size),
                       (int)size, add_index_info, &c, &total))
        return api_error_internal(r);
    paging(r->resp, page, size, total);
    json_object_set_new(r->resp, "Order", json_string(desc ? "desc" : "asc"));
    return 0;
}

int api_describe_live_stream_record_index_file(struct api_req *r)
{
    char domain[256];
    const char *app, *stream;
    if (stream_target(r, domain, &app, &stream))
        return -1;
    struct rec_file f;
    int rc = rec_index_get(api_str_or(r, "RecordId", ""), &f);
    if (rc && rc != OA_ENOTFOUND)
        return api_error_internal(r);
    if (rc || !same_stream(&f, r, domain, app, stream) || strcmp(f.state, "done") != 0)
        return api_error(r, 404, "InvalidRecordId.NotFound", "The record does not exist.");
    json_object_set_new(r->resp, "RecordIndexInfo", index_info(r, &f, true));
    return 0;
}

struct content_ctx {
    json_t *list;
    int64_t from, to;
};

static void first_slice(const struct rec_slice *s, void *arg)
{
    char *prefix = arg;
    if (prefix[0])
        return;
    const char *slash = strrchr(s->object, '/');
    size_t n = slash ? (size_t)(slash - s->object + 1) : 0;
    memcpy(prefix, s->object, n);
    prefix[n] = '\0';
    if (!n)
        oa_strlcpy(prefix, "/", 2); /* marks "found, at the bucket root" */
}

static void add_content(const struct rec_file *f, void *arg)
{
    struct content_ctx *c = arg;
    if (strcmp(f->kind, "file") != 0)
        return;
    char prefix[REC_OBJECT_MAX] = "";
    rec_slice_list_file(f->record_id, first_slice, prefix);
    if (strcmp(prefix, "/") == 0)
        prefix[0] = '\0';
    json_t *o = json_object();
    json_object_set_new(o, "OssEndpoint", json_string(f->endpoint));
    json_object_set_new(o, "OssBucket", json_string(f->bucket));
    json_object_set_new(o, "OssObjectPrefix", json_string(prefix));
    iso(o, "StartTime", f->start_ms);
    iso(o, "EndTime", f->end_ms);
    json_object_set_new(o, "Duration", json_real(f->duration));
    json_array_append_new(c->list, o);
}

int api_describe_live_stream_record_content(struct api_req *r)
{
    char domain[256];
    const char *app, *stream;
    int64_t from, to;
    if (stream_target(r, domain, &app, &stream) || time_range_ms(r, 4, &from, &to))
        return -1;
    struct content_ctx c = {api_list(r->resp, "RecordContentInfoList", "RecordContentInfo"), from,
                            to};
    int total = 0;
    if (rec_index_list(domain, app, stream, "m3u8", from, to + 999, false, 0, 100000, add_content,
                       &c, &total))
        return api_error_internal(r);
    return 0;
}

struct slices_ctx {
    struct rec_slice *s;
    size_t n, cap;
    int64_t end_ms;
    bool one_more;
};

static void collect_slice(const struct rec_slice *s, void *arg)
{
    struct slices_ctx *c = arg;
    if (s->start_ms >= c->end_ms) {
        if (!c->one_more)
            return;
        c->one_more = false; /* EndTimeIncluded: the first slice starting at or after EndTime */
    }
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 64;
        c->s = oa_realloc(c->s, c->cap * sizeof(*c->s));
    }
    c->s[c->n++] = *s;
}

int api_create_live_stream_record_index_files(struct api_req *r)
{
    char domain[256];
    const char *app, *stream;
    int64_t from, to;
    bool end_included;
    if (stream_target(r, domain, &app, &stream) || time_range_ms(r, 0, &from, &to) ||
        api_bool(r, "EndTimeIncluded", false, &end_included) < 0)
        return -1;
    if (to <= from)
        return api_error(r, 400, "InvalidEndTime.Mismatch", "EndTime must be after StartTime.");
    const char *bucket = api_str_or(r, "OssBucket", "");
    if (!storage_bucket_valid(bucket))
        return api_error(r, 400, "InvalidOssBucket.Malformed",
                         "OssBucket must be 3 to 63 lower-case letters, digits and hyphens.");
    struct rec_tmpl_vars v = {app, stream, 0, from, to, from / 1000};
    char object[REC_OBJECT_MAX];
    if (rec_object_name(api_str_or(r, "OssObject", ""), &v, "m3u8", object, sizeof(object)))
        return api_error_malformed(r, "OssObject");
    if (claim_bucket(r, bucket))
        return -1;

    struct rec_file old;
    int rc = rec_index_find_object(bucket, object, &old);
    if (rc == 0 && strcmp(old.kind, "file") == 0)
        return api_error(r, 409, "ObjectAlreadyExists",
                         "OssObject names a recording; choose another name.");
    if (rc != 0 && rc != OA_ENOTFOUND)
        return api_error_internal(r);
    bool replaces = rc == 0;

    struct slices_ctx c = {NULL, 0, 0, to, end_included};
    if (rec_slice_list_range(domain, app, stream, bucket, from, INT64_MAX, collect_slice, &c)) {
        oa_free(c.s);
        return api_error_internal(r);
    }
    if (!c.n)
        return api_error(r, 404, "InvalidRecord.NotFound",
                         "No recorded segment starts in the time range.");
    struct rec_m3u8_entry *e = oa_calloc(c.n, sizeof(*e));
    struct rec_file f;
    memset(&f, 0, sizeof(f));
    for (size_t i = 0; i < c.n; i++) {
        bool new_file = i > 0 && strcmp(c.s[i].file_record_id, c.s[i - 1].file_record_id) != 0;
        e[i] = (struct rec_m3u8_entry){c.s[i].object, c.s[i].duration,
                                       i > 0 && (c.s[i].discontinuity || new_file)};
        f.duration += c.s[i].duration;
    }
    struct oa_buf b = OA_BUF_INIT(16u << 20);
    rc = rec_m3u8_build(object, e, c.n, true, &b);
    oa_free(e);
    struct rec_file src;
    if (!rc && rec_index_get(c.s[0].file_record_id, &src) == 0) {
        f.width = src.width;
        f.height = src.height;
    }
    oa_uuid_lower(f.record_id);
    oa_strlcpy(f.kind, "index", sizeof(f.kind));
    oa_strlcpy(f.state, "done", sizeof(f.state));
    f.account_id = r->account_id;
    oa_strlcpy(f.domain, domain, sizeof(f.domain));
    oa_strlcpy(f.app, app, sizeof(f.app));
    oa_strlcpy(f.stream, stream, sizeof(f.stream));
    oa_strlcpy(f.format, "m3u8", sizeof(f.format));
    oa_strlcpy(f.endpoint, api_str_or(r, "OssEndpoint", ""), sizeof(f.endpoint));
    oa_strlcpy(f.bucket, bucket, sizeof(f.bucket));
    oa_strlcpy(f.object, object, sizeof(f.object));
    f.start_ms = c.s[0].start_ms;
    f.end_ms = c.s[c.n - 1].start_ms + (int64_t)(c.s[c.n - 1].duration * 1000.0 + 0.5);
    f.size = (int64_t)b.len;
    f.created = (int64_t)time(NULL);
    oa_free(c.s);
    if (rc) {
        oa_buf_free(&b);
        return api_error_internal(r);
    }
    struct object_job *j = object_job_new(bucket);
    object_job_add(j, object);
    size_t len;
    j->data = oa_buf_steal(&b, &len);
    j->len = len;
    /* A new index playlist under an earlier one's name replaces it. */
    if (replaces)
        rec_index_delete(old.record_id);
    if (object_job_submit(j) || rec_index_insert(&f))
        return api_error_internal(r);
    json_object_set_new(r->resp, "RecordInfo", index_info(r, &f, false));
    return 0;
}

struct slice_objects {
    struct object_job *job;
};

static void add_slice_object(const struct rec_slice *s, void *arg)
{
    struct slice_objects *so = arg;
    object_job_add(so->job, s->object);
}

int api_delete_live_stream_record_index_files(struct api_req *r)
{
    char domain[256];
    const char *app, *stream;
    bool remove_file;
    if (stream_target(r, domain, &app, &stream) ||
        api_bool(r, "RemoveFile", false, &remove_file) < 0)
        return -1;
    json_t *ids = api_list_param(r, "RecordId");
    if (!json_is_array(ids) || json_array_size(ids) == 0)
        return api_error_missing(r, "RecordId");
    json_t *out = api_list(r->resp, "RecordDeleteInfoList", "RecordDeleteInfo");
    size_t i;
    json_t *v;
    json_array_foreach(ids, i, v)
    {
        const char *id = json_string_value(v);
        if (!id)
            continue;
        struct rec_file f;
        const char *msg = "OK";
        int rc = rec_index_get(id, &f);
        if (rc || !same_stream(&f, r, domain, app, stream)) {
            msg = rc && rc != OA_ENOTFOUND ? "InternalError" : "NotFound";
        } else if (strcmp(f.state, "done") != 0) {
            msg = "Recording"; /* still being written: stop the recording first */
        } else {
            if (remove_file) {
                struct slice_objects so = {object_job_new(f.bucket)};
                object_job_add(so.job, f.object);
                if (strcmp(f.kind, "file") == 0 && strcmp(f.format, "m3u8") == 0)
                    rec_slice_list_file(f.record_id, add_slice_object, &so);
                if (object_job_submit(so.job))
                    msg = "InternalError";
            }
            if (strcmp(msg, "OK") == 0 &&
                (rec_slice_delete_file(f.record_id) || rec_index_delete(f.record_id)))
                msg = "InternalError";
        }
        json_array_append_new(out, json_pack("{s:s, s:s}", "RecordId", id, "Message", msg));
    }
    json_object_set_new(r->resp, "Code", json_string("OK"));
    json_object_set_new(r->resp, "Message", json_string("OK"));
    return 0;
}

/* ===== callbacks ===== */

static int parse_notify(struct api_req *r, struct rec_notify_config *c)
{
    const char *url = api_str_or(r, "NotifyUrl", "");
    if (!http_url_ok(url) || strlen(url) >= sizeof(c->notify_url))
        return api_error_malformed(r, "NotifyUrl");
    oa_strlcpy(c->notify_url, url, sizeof(c->notify_url));
    if (api_has(r, "OnDemandUrl")) {
        const char *od = api_str(r, "OnDemandUrl");
        if (!http_url_ok(od) || strlen(od) >= sizeof(c->on_demand_url))
            return api_error_malformed(r, "OnDemandUrl");
        oa_strlcpy(c->on_demand_url, od, sizeof(c->on_demand_url));
    }
    if (api_bool(r, "NeedStatusNotify", c->need_status_notify, &c->need_status_notify) < 0 ||
        api_bool(r, "NotifyReqAuth", c->notify_req_auth, &c->notify_req_auth) < 0)
        return -1;
    if (api_has(r, "NotifyAuthKey")) {
        const char *k = api_str(r, "NotifyAuthKey");
        if (strlen(k) >= sizeof(c->auth_key))
            return api_error_malformed(r, "NotifyAuthKey");
        oa_strlcpy(c->auth_key, k, sizeof(c->auth_key));
    }
    if (c->notify_req_auth && !c->auth_key[0])
        return api_error_missing(r, "NotifyAuthKey");
    return 0;
}

int api_add_live_record_notify_config(struct api_req *r)
{
    struct rec_notify_config c;
    memset(&c, 0, sizeof(c));
    if (target_domain(r, c.domain) || parse_notify(r, &c))
        return -1;
    c.account_id = r->account_id;
    int rc = rec_notify_config_put(&c, true);
    if (rc == OA_EEXIST)
        return api_error(r, 400, "ConfigAlreadyExists", "Config has already exist.");
    return rc ? api_error_internal(r) : 0;
}

int api_update_live_record_notify_config(struct api_req *r)
{
    struct rec_notify_config c;
    char domain[256];
    if (target_domain(r, domain))
        return -1;
    int rc = rec_notify_config_get(domain, &c);
    if (rc == OA_ENOTFOUND)
        return api_error(r, 404, "InvalidConfig.NotFound", CONFIG_NOT_FOUND);
    if (rc)
        return api_error_internal(r);
    if (parse_notify(r, &c))
        return -1;
    return rec_notify_config_put(&c, false) ? api_error_internal(r) : 0;
}

int api_describe_live_record_notify_config(struct api_req *r)
{
    struct rec_notify_config c;
    char domain[256];
    if (target_domain(r, domain))
        return -1;
    int rc = rec_notify_config_get(domain, &c);
    if (rc == OA_ENOTFOUND)
        return api_error(r, 404, "InvalidConfig.NotFound", CONFIG_NOT_FOUND);
    if (rc)
        return api_error_internal(r);
    json_object_set_new(r->resp, "LiveRecordNotifyConfig",
                        json_pack("{s:s, s:s, s:s, s:b, s:b, s:s}", "DomainName", c.domain,
                                  "NotifyUrl", c.notify_url, "OnDemandUrl", c.on_demand_url,
                                  "NeedStatusNotify", c.need_status_notify, "NotifyReqAuth",
                                  c.notify_req_auth, "NotifyAuthKey", c.auth_key));
    return 0;
}

int api_delete_live_record_notify_config(struct api_req *r)
{
    char domain[256];
    if (target_domain(r, domain))
        return -1;
    int rc = rec_notify_config_delete(domain);
    if (rc == OA_ENOTFOUND)
        return api_error(r, 404, "InvalidConfig.NotFound", CONFIG_NOT_FOUND);
    return rc ? api_error_internal(r) : 0;
}

static void add_record(const struct rec_notify_record *n, void *arg)
{
    json_t *o = json_object();
    json_object_set_new(o, "DomainName", json_string(n->domain));
    json_object_set_new(o, "AppName", json_string(n->app));
    json_object_set_new(o, "StreamName", json_string(n->stream));
    json_object_set_new(o, "NotifyType", json_string(n->type));
    json_object_set_new(o, "NotifyUrl", json_string(n->url));
    json_object_set_new(o, "NotifyContent", json_string(n->content));
    json_object_set_new(o, "NotifyHeader", json_string(n->header));
    json_object_set_new(o, "NotifyResponse", json_string(n->response));
    json_object_set_new(o, "NotifyResult", json_string(n->result));
    iso(o, "NotifyTime", n->notify_ms);
    json_object_set_new(o, "Description", json_string(n->description));
    json_object_set_new(o, "StorageType", json_string("oss"));
    json_array_append_new(arg, o);
}

int api_describe_live_record_notify_records(struct api_req *r)
{
    char domain[256];
    int64_t from, to;
    long long page, size;
    if (target_domain(r, domain) || time_range_ms(r, 0, &from, &to) ||
        page_params(r, "PageNumber", 500, 20, &page, &size))
        return -1;
    const char *status = api_str_or(r, "Status", NULL);
    if (status && strcmp(status, "success") != 0 && strcmp(status, "failed") != 0)
        return api_error_malformed(r, "Status");
    json_t *list = json_array();
    int total = 0;
    if (rec_notify_records_list(domain, api_str_or(r, "AppName", NULL),
                                api_str_or(r, "StreamName", NULL), status, from, to + 999,
                                (int)((page - 1) * size), (int)size, add_record, list, &total)) {
        json_decref(list);
        return api_error_internal(r);
    }
    json_object_set_new(r->resp, "Code", json_integer(200));
    json_object_set_new(r->resp, "Msg", json_string("success"));
    paging(r->resp, page, size, total);
    /* A bare array, as the real API returns it. */
    json_object_set_new(r->resp, "CallbackList", list);
    return 0;
}
