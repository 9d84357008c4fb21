/*
 * stream.c - stream handlers. The online list reads the hub (values the hub
 * measured from the stream itself); history, blocks and control history
 * come from store/streams.h.
 *
 * A stream is keyed by its play domain. A DomainName given to these actions
 * may be the play domain or an ingest domain: an ingest domain stands for
 * the play domain it is mapped to (api_domain_stream_key), which is also
 * where blocks and control history are kept, so Forbid through one and
 * Resume through the other meet the same record.
 */
#include "api/stream.h"
#include "access/access.h"
#include "api/domain.h"
#include "api/render.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "hub/hub.h"
#include "store/streams.h"

#include <math.h>

/* Forbidden streams per domain at most (spec 5.4). */
#define BLOCK_MAX 10000
/* Rows DescribeLiveStreamsControlHistory returns at most (it has no paging). */
#define CONTROL_MAX 10000
#define SIX_MONTHS (183LL * 86400)

static json_t *iso_ms(int64_t ms)
{
    char buf[21];
    oa_time_iso((time_t)(ms / 1000), buf);
    return json_string(buf);
}

/* The server's own address for the *NodeAddr/ServerIp fields. */
static void server_host(struct api_req *r, char out[256])
{
    oa_strlcpy(out, oa_cfg.public_host[0] ? oa_cfg.public_host : r->host, 256);
    if (out[0] != '[')
        out[strcspn(out, ":")] = '\0';
}

/* The domain a live publisher addressed: the vhost parameter, else its URL's host. */
static void publish_domain_of(const struct hub_stream *st, char out[256])
{
    const struct hub_publisher *p = st->publisher;
    char host[256] = "";
    struct domain d;
    char play[256];
    oa_strlcpy(out, st->domain, 256);
    if (!p || p->internal)
        return;
    if (access_query_param(p->query, "vhost", host, sizeof(host)) != 0 || !host[0]) {
        const char *u = strstr(p->url, "://");
        u = u ? u + 3 : p->url;
        size_t n = strcspn(u, "/?");
        n = OA_MIN(n, sizeof(host) - 1);
        memcpy(host, u, n);
        host[n] = '\0';
    }
    if (domain_resolve(host, &d, play) == 0 && oa_strcaseeq(play, st->domain))
        oa_strlcpy(out, d.name, 256);
}

/* ===== kicking ===== */

struct kick_list {
    const char *domain;
    char (*keys)[3][256];
    size_t n, cap;
};

static bool collect_kick(struct hub_stream *st, void *arg)
{
    struct kick_list *k = arg;
    char via[256];
    publish_domain_of(st, via);
    if (!oa_strcaseeq(st->domain, k->domain) && !oa_strcaseeq(via, k->domain))
        return true;
    if (k->n == k->cap) {
        k->cap = k->cap ? k->cap * 2 : 16;
        k->keys = oa_realloc(k->keys, k->cap * sizeof(*k->keys));
    }
    oa_strlcpy(k->keys[k->n][0], st->domain, 256);
    oa_strlcpy(k->keys[k->n][1], st->app, 256);
    oa_strlcpy(k->keys[k->n][2], st->name, 256);
    k->n++;
    return true;
}

size_t api_streams_kick_domain(const char *domain, const char *why)
{
    struct kick_list k = {domain, NULL, 0, 0};
    size_t kicked = 0;
    /* Kicking unpublishes and may free streams: collect keys first, then look each up again. */
    hub_foreach(collect_kick, &k);
    for (size_t i = 0; i < k.n; i++) {
        struct hub_stream *st = hub_find(k.keys[i][0], k.keys[i][1], k.keys[i][2]);
        if (st && st->publisher) {
            st->publisher->ops->kick(st->publisher, why);
            kicked++;
        }
    }
    oa_free(k.keys);
    return kicked;
}

/* ===== shared parameter helpers ===== */

/* QueryType: fuzzy (default; the name contains the value) or strict (equal). */
static int query_strict(struct api_req *r, bool *strict)
{
    const char *q = api_str_or(r, "QueryType", "fuzzy");
    if (strcmp(q, "fuzzy") != 0 && strcmp(q, "strict") != 0)
        return api_error_malformed(r, "QueryType");
    *strict = strcmp(q, "strict") == 0;
    return 0;
}

static bool name_filter(const char *name, const char *want, bool strict)
{
    if (!want || !*want)
        return true;
    return strict ? strcmp(name, want) == 0 : strstr(name, want) != NULL;
}

static int time_range(struct api_req *r, int max_days, time_t *from, time_t *to)
{
    if (oa_time_parse_iso(api_str(r, "StartTime"), from) != 0)
        return api_error_malformed(r, "StartTime");
    if (oa_time_parse_iso(api_str(r, "EndTime"), to) != 0)
        return api_error_malformed(r, "EndTime");
    if (*to < *from)
        return api_error(r, 400, "InvalidEndTime.Mismatch",
                         "EndTime must not be earlier than StartTime.");
    if (*to - *from > (time_t)max_days * 86400)
        return api_error(r, 400, "InvalidTimeRange",
                         "The interval between StartTime and EndTime cannot exceed %d days.",
                         max_days);
    return 0;
}

static void paging(json_t *resp, long long page, long long size, long long total)
{
    json_object_set_new(resp, "PageNum", json_integer(page));
    json_object_set_new(resp, "PageSize", json_integer(size));
    json_object_set_new(resp, "TotalNum", json_integer(total));
    json_object_set_new(resp, "TotalPage", json_integer((total + size - 1) / size));
}

/* ===== DescribeLiveStreamsOnlineList ===== */

struct online {
    const char *domain, *app, *stream;
    bool strict;
    struct hub_stream **items;
    size_t n, cap;
};

static bool collect_online(struct hub_stream *st, void *arg)
{
    struct online *o = arg;
    if (!oa_strcaseeq(st->domain, o->domain) || !name_filter(st->app, o->app, o->strict) ||
        !name_filter(st->name, o->stream, o->strict))
        return true;
    if (o->n == o->cap) {
        o->cap = o->cap ? o->cap * 2 : 64;
        o->items = oa_realloc(o->items, o->cap * sizeof(*o->items));
    }
    o->items[o->n++] = st;
    return true;
}

static int cmp_online(const void *a, const void *b)
{
    const struct hub_stream *x = *(const struct hub_stream *const *)a;
    const struct hub_stream *y = *(const struct hub_stream *const *)b;
    if (x->info.publish_time != y->info.publish_time)
        return x->info.publish_time < y->info.publish_time ? -1 : 1;
    return strcmp(x->key, y->key);
}

int api_describe_live_streams_online_list(struct api_req *r)
{
    struct domain d;
    struct online o;
    long long page, size;
    bool only_stream;
    char key_domain[256], server[256];
    memset(&o, 0, sizeof(o));
    if (api_domain_owned(r, api_str(r, "DomainName"), &d) ||
        api_int(r, "PageNum", 1, 1000000, 1, &page) < 0 ||
        api_int(r, "PageSize", 1, 3000, 2000, &size) < 0 || query_strict(r, &o.strict))
        return -1;
    const char *type = api_str_or(r, "StreamType", "all");
    if (strcmp(type, "all") != 0 && strcmp(type, "raw") != 0 && strcmp(type, "trans") != 0)
        return api_error_malformed(r, "StreamType");
    const char *only = api_str_or(r, "OnlyStream", "no");
    if (strcmp(only, "yes") != 0 && strcmp(only, "no") != 0)
        return api_error_malformed(r, "OnlyStream");
    only_stream = strcmp(only, "yes") == 0;
    api_domain_stream_key(&d, key_domain);
    server_host(r, server);
    o.domain = key_domain;
    o.app = api_str(r, "AppName");
    o.stream = api_str(r, "StreamName");
    /* onair does not transcode: every live stream is a source ("raw") stream. */
    if (strcmp(type, "trans") != 0)
        hub_foreach(collect_online, &o);
    if (o.n > 1)
        qsort(o.items, o.n, sizeof(*o.items), cmp_online);

    paging(r->resp, page, size, (long long)o.n);
    json_t *list = api_list(r->resp, "OnlineInfo", "LiveStreamOnlineInfo");
    for (size_t i = (size_t)((page - 1) * size); i < o.n && i < (size_t)(page * size); i++) {
        const struct hub_stream *st = o.items[i];
        const struct hub_stream_info *in = &st->info;
        char via[256];
        json_t *e = json_object();
        json_object_set_new(e, "DomainName", json_string(st->domain));
        json_object_set_new(e, "AppName", json_string(st->app));
        json_object_set_new(e, "StreamName", json_string(st->name));
        json_object_set_new(e, "PublishTime", iso_ms((int64_t)in->publish_time * 1000));
        if (!only_stream) {
            publish_domain_of(st, via);
            json_object_set_new(e, "PublishUrl", json_string(st->publisher->url));
            json_object_set_new(e, "PublishDomain", json_string(via));
            json_object_set_new(e, "PublishType",
                                json_string(oa_strcaseeq(via, st->domain) ? "center" : "edge"));
            json_object_set_new(e, "ClientIp", json_string(st->publisher->client_ip));
            json_object_set_new(e, "ServerIp", json_string(server));
            json_object_set_new(e, "Transcoded", json_string("no"));
            json_object_set_new(e, "Width", json_integer(in->width));
            json_object_set_new(e, "Height", json_integer(in->height));
            json_object_set_new(e, "FrameRate", json_integer((json_int_t)lround(in->frame_rate)));
            json_object_set_new(e, "VideoCodecId",
                                json_integer(in->video_codec >= 0 ? in->video_codec : 0));
            json_object_set_new(e, "AudioCodecId",
                                json_integer(in->audio_codec >= 0 ? in->audio_codec : 0));
            json_object_set_new(e, "VideoDataRate", json_integer(in->video_kbps));
            json_object_set_new(e, "AudioDataRate", json_integer(in->audio_kbps));
        }
        json_array_append_new(list, e);
    }
    oa_free(o.items);
    return 0;
}

/* ===== DescribeLiveStreamsPublishList ===== */

struct publish_page {
    json_t *list;
    const char *server;
};

static void add_publish(const struct streams_publish *p, void *arg)
{
    struct publish_page *pp = arg;
    char url[1024];
    oa_snprintf(url, sizeof(url), "rtmp://%s/%s/%s", p->domain, p->app, p->stream);
    json_t *e = json_object();
    json_object_set_new(e, "DomainName", json_string(p->domain));
    json_object_set_new(e, "AppName", json_string(p->app));
    json_object_set_new(e, "StreamName", json_string(p->stream));
    json_object_set_new(e, "StreamUrl", json_string(url));
    json_object_set_new(e, "PublishDomain", json_string(p->publish_domain));
    json_object_set_new(e, "PublishUrl", json_string(p->url));
    json_object_set_new(e, "PublishTime", iso_ms(p->start_ms));
    json_object_set_new(e, "StopTime", p->stop_ms ? iso_ms(p->stop_ms) : json_string(""));
    json_object_set_new(
        e, "PublishType",
        json_string(oa_strcaseeq(p->publish_domain, p->domain) ? "center" : "edge"));
    json_object_set_new(e, "ClientAddr", json_string(p->client));
    json_object_set_new(e, "EdgeNodeAddr", json_string(pp->server));
    json_object_set_new(e, "Transcoded", json_string("no"));
    json_object_set_new(e, "TranscodeId", json_string(""));
    json_object_set_new(e, "AliInnerErrorFlags", json_string(""));
    json_array_append_new(pp->list, e);
}

int api_describe_live_streams_publish_list(struct api_req *r)
{
    static const char *const orders[] = {
        [STREAMS_ORDER_TIME_ASC] = "publish_time_asc",
        [STREAMS_ORDER_TIME_DESC] = "publish_time_desc",
        [STREAMS_ORDER_NAME_ASC] = "stream_name_asc",
        [STREAMS_ORDER_NAME_DESC] = "stream_name_desc",
    };
    struct domain d;
    struct streams_history_filter f;
    long long page, size;
    time_t from, to;
    char server[256];
    memset(&f, 0, sizeof(f));
    if (api_domain_owned(r, api_str(r, "DomainName"), &d) || time_range(r, 30, &from, &to) ||
        api_int(r, "PageNumber", 1, 1000000, 1, &page) < 0 ||
        api_int(r, "PageSize", 1, 3000, 2000, &size) < 0 || query_strict(r, &f.strict))
        return -1;
    const char *order = api_str_or(r, "OrderBy", "publish_time_asc");
    size_t i;
    for (i = 0; i < OA_ARRAY_SIZE(orders) && strcmp(order, orders[i]) != 0; i++)
        ;
    if (i == OA_ARRAY_SIZE(orders))
        return api_error_malformed(r, "OrderBy");
    const char *type = api_str_or(r, "StreamType", "");
    if (*type && strcmp(type, "all") != 0 && strcmp(type, "trans") != 0)
        return api_error_malformed(r, "StreamType");

    f.account_id = r->account_id;
    f.domain = d.name;
    f.app = api_str(r, "AppName");
    f.stream = api_str(r, "StreamName");
    f.from_ms = (int64_t)from * 1000;
    f.to_ms = (int64_t)to * 1000 + 999;
    f.order = (enum streams_order)i;
    f.offset = (page - 1) * size;
    f.limit = size;
    server_host(r, server);
    struct publish_page pp = {NULL, server};
    int64_t total = 0;
    json_t *total_num = json_integer(0);
    json_object_set_new(r->resp, "PageNum", json_integer(page));
    json_object_set_new(r->resp, "PageSize", json_integer(size));
    json_object_set_new(r->resp, "TotalNum", total_num);
    json_t *total_page = json_integer(0);
    json_object_set_new(r->resp, "TotalPage", total_page);
    pp.list = api_list(r->resp, "PublishInfo", "LiveStreamPublishInfo");
    /* No transcoded streams exist, so "trans" matches nothing. */
    if (strcmp(type, "trans") != 0 && streams_history_list(&f, add_publish, &pp, &total))
        return api_error_internal(r);
    json_integer_set(total_num, total);
    json_integer_set(total_page, (total + size - 1) / size);
    return 0;
}

/* ===== ForbidLiveStream / ResumeLiveStream ===== */

/* DomainName (owned), AppName, StreamName and LiveStreamType=publisher. */
static int stream_target(struct api_req *r, bool app_wildcard, struct domain *d,
                         char key_domain[256])
{
    if (api_domain_owned(r, api_str(r, "DomainName"), d))
        return -1;
    const char *app = api_str(r, "AppName");
    if (!(app_wildcard && strcmp(app, "*") == 0) && !access_name_ok(app))
        return api_error_malformed(r, "AppName");
    if (!access_name_ok(api_str(r, "StreamName")))
        return api_error_malformed(r, "StreamName");
    if (strcmp(api_str(r, "LiveStreamType"), "publisher") != 0)
        return api_error(r, 400, "InvalidLiveStreamType.Malformed",
                         "Specified parameter LiveStreamType is not valid: only publisher is "
                         "supported.");
    api_domain_stream_key(d, key_domain);
    return 0;
}

int api_forbid_live_stream(struct api_req *r)
{
    struct domain d;
    char key[256];
    int64_t now = (int64_t)time(NULL), resume = now + SIX_MONTHS, until;
    if (stream_target(r, false, &d, key))
        return -1;
    const char *app = api_str(r, "AppName"), *name = api_str(r, "StreamName");
    const char *oneshot = api_str_or(r, "Oneshot", "no");
    if (strcmp(oneshot, "yes") != 0 && strcmp(oneshot, "no") != 0)
        return api_error_malformed(r, "Oneshot");
    bool block = strcmp(oneshot, "no") == 0;
    if (block && api_has(r, "ResumeTime")) {
        time_t t;
        if (oa_time_parse_iso(api_str(r, "ResumeTime"), &t) != 0)
            return api_error_malformed(r, "ResumeTime");
        if ((int64_t)t <= now)
            return api_error(r, 400, "InvalidResumeTime.Malformed",
                             "Specified parameter ResumeTime is not valid: it must be in the "
                             "future.");
        resume = (int64_t)t;
    }
    if (block && streams_block_get(key, app, name, &until) == OA_ENOTFOUND) {
        int64_t total = 0;
        if (streams_block_list(key, 0, 0, NULL, NULL, &total))
            return api_error_internal(r);
        if (total >= BLOCK_MAX)
            return api_error(r, 400, "QuotaExceeded.ForbiddenStreams",
                             "At most %d streams can be forbidden per domain; resume some first.",
                             BLOCK_MAX);
    }
    /* Block first, so the kicked publisher cannot slip back in between. */
    if (block && streams_block_set(key, app, name, resume))
        return api_error_internal(r);
    char ip[64] = "";
    struct hub_stream *st = hub_find(key, app, name);
    if (st && st->publisher) {
        oa_strlcpy(ip, st->publisher->client_ip, sizeof(ip));
        st->publisher->ops->kick(st->publisher, "stream forbidden");
    }
    if (streams_control_add(key, app, name, ip, "ForbidLiveStream"))
        return api_error_internal(r);
    oa_log(OA_LOG_INFO, "api: account %lld forbade %s/%s/%s (%s)%s", (long long)r->account_id, key,
           app, name, block ? "blocked" : "one shot", ip[0] ? ", publisher disconnected" : "");
    return 0;
}

int api_resume_live_stream(struct api_req *r)
{
    struct domain d;
    char key[256];
    int removed = 0;
    if (stream_target(r, true, &d, key))
        return -1;
    const char *app = api_str(r, "AppName"), *name = api_str(r, "StreamName");
    if (streams_block_clear(key, app, name, &removed) ||
        streams_control_add(key, app, name, "", "ResumeLiveStream"))
        return api_error_internal(r);
    oa_log(OA_LOG_INFO, "api: account %lld resumed %s/%s/%s (%d blocks lifted)",
           (long long)r->account_id, key, app, name, removed);
    return 0;
}

/* ===== DescribeLiveStreamsBlockList ===== */

struct block_page {
    json_t *list;
    const char *domain;
};

static void add_block(const char *app, const char *stream, int64_t resume_at, void *arg)
{
    struct block_page *b = arg;
    char url[800];
    oa_snprintf(url, sizeof(url), "%s/%s/%s", b->domain, app, stream);
    json_array_append_new(b->list, json_string(url));
}

int api_describe_live_streams_block_list(struct api_req *r)
{
    struct domain d;
    char key[256];
    long long page, size;
    int64_t total = 0;
    if (api_domain_owned(r, api_str(r, "DomainName"), &d) ||
        api_int(r, "PageNum", 1, 1000000, 1, &page) < 0 ||
        api_int(r, "PageSize", 1, 3000, 2000, &size) < 0)
        return -1;
    api_domain_stream_key(&d, key);
    json_object_set_new(r->resp, "DomainName", json_string(d.name));
    struct block_page b = {json_array(), d.name};
    if (streams_block_list(key, (page - 1) * size, size, add_block, &b, &total)) {
        json_decref(b.list);
        return api_error_internal(r);
    }
    paging(r->resp, page, size, total);
    json_t *urls = json_object();
    json_object_set_new(urls, "StreamUrl", b.list);
    json_object_set_new(r->resp, "StreamUrls", urls);
    return 0;
}

/* ===== DescribeLiveStreamsControlHistory ===== */

static void add_control(const struct streams_control *c, void *arg)
{
    json_t *e = json_object();
    json_object_set_new(e, "StreamName", json_string(c->stream));
    json_object_set_new(e, "ClientIP", json_string(c->client_ip));
    json_object_set_new(e, "Action", json_string(c->action));
    json_object_set_new(e, "TimeStamp", iso_ms(c->at * 1000));
    json_array_append_new(arg, e);
}

int api_describe_live_streams_control_history(struct api_req *r)
{
    struct domain d;
    char key[256];
    time_t from, to;
    if (api_domain_owned(r, api_str(r, "DomainName"), &d) || time_range(r, 7, &from, &to))
        return -1;
    api_domain_stream_key(&d, key);
    json_t *list = api_list(r->resp, "ControlInfo", "LiveStreamControlInfo");
    if (streams_control_list(key, api_str(r, "AppName"), (int64_t)from, (int64_t)to, CONTROL_MAX,
                             add_control, list))
        return api_error_internal(r);
    return 0;
}
