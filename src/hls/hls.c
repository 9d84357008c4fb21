/*
 * hls.c - the HTTP and hub side of HLS: a map from stream key to a hub sink
 * that owns a segmenter, the playlist and segment handlers, held playlist
 * requests, and one timer that fails overdue held requests and removes
 * segmenters nobody has asked for in a while. The timer runs only while
 * some segmenter exists.
 */
#include "hls.h"
#include "access/access.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/util.h"
#include "hls/segmenter.h"
#include "http/server.h"
#include "hub/hub.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#define HLS_TICK_MS 500

struct hls_stream;

/* A playlist request held until the first segment exists. */
struct hls_waiter {
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    struct hls_stream *hs;
    int64_t deadline;
    char *query; /* NULL or the request's query string */
    struct hls_waiter *prev, *next;
};

struct hls_stream {
    char key[768]; /* domain/app/stream */
    char name[256];
    struct hub_sink sink;
    struct hls_segmenter *sg;
    int64_t last_request;
    struct hls_waiter *waiters;
};

static struct {
    struct oa_map streams;
    struct event *timer;
    bool running;
} H;

/* ---- responses ----------------------------------------------------------- */

/*
 * The query is copied into the playlist's URIs: anything that could break a
 * playlist line (controls, spaces, non-ASCII) drops it instead.
 */
static const char *safe_query(const char *q)
{
    if (!q)
        return NULL;
    for (const char *p = q; *p; p++) {
        if (*p <= 0x20 || *p >= 0x7f)
            return NULL;
    }
    return q;
}

static void send_playlist(struct hls_stream *hs, struct evhttp_request *req, const char *query)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    if (hls_segmenter_playlist(hs->sg, hs->name, safe_query(query), &b) != 0) {
        oa_buf_free(&b);
        http_send_error(req, 404, "Not Found");
        return;
    }
    struct evbuffer *eb = evbuffer_new();
    evbuffer_add(eb, b.data, b.len);
    oa_buf_free(&b);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "application/vnd.apple.mpegurl");
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_send_reply(req, 200, "OK", eb);
    evbuffer_free(eb);
}

static void release_segment(const void *data, size_t len, void *arg)
{
    struct hls_segment *seg = arg;
    hls_segment_unref(&seg);
}

static void send_segment(struct hls_segment *seg, struct evhttp_request *req)
{
    struct evbuffer *eb = evbuffer_new();
    /* No copy: the response keeps the segment alive until its bytes are written. */
    evbuffer_add_reference(eb, seg->data, seg->len, release_segment, hls_segment_ref(seg));
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "video/mp2t");
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_send_reply(req, 200, "OK", eb);
    evbuffer_free(eb);
}

/* ---- held playlist requests ---------------------------------------------- */

static void waiter_unlink(struct hls_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        w->hs->waiters = w->next;
    if (w->next)
        w->next->prev = w->prev;
}

static void waiter_free(struct hls_waiter *w)
{
    oa_conn_release();
    oa_free(w->query);
    oa_free(w);
}

static void waiter_closed(struct evhttp_connection *conn, void *arg)
{
    /* The client left; evhttp frees the request with its connection. */
    struct hls_waiter *w = arg;
    waiter_unlink(w);
    waiter_free(w);
}

/* Answers a held request: the playlist if ok, else 404. */
static void waiter_finish(struct hls_waiter *w, bool ok)
{
    evhttp_connection_set_closecb(w->conn, NULL, NULL);
    http_set_streaming(w->conn, false);
    waiter_unlink(w);
    if (ok)
        send_playlist(w->hs, w->req, w->query);
    else
        http_send_error(w->req, 404, "Not Found");
    waiter_free(w);
}

static void wake_waiters(struct hls_stream *hs)
{
    if (!hs->waiters || hls_segmenter_count(hs->sg) == 0)
        return;
    while (hs->waiters)
        waiter_finish(hs->waiters, true);
}

static void hold(struct hls_stream *hs, struct evhttp_request *req, const char *query)
{
    if (!oa_conn_acquire()) {
        oa_log(OA_LOG_WARN, "hls %s %s: refused: too many connections", http_client_ip(req),
               hs->key);
        http_send_error(req, 503, "Service Unavailable");
        return;
    }
    struct hls_waiter *w = oa_calloc(1, sizeof(*w));
    w->req = req;
    w->conn = evhttp_request_get_connection(req);
    w->hs = hs;
    w->deadline = oa_mono_ms() + (int64_t)oa_cfg.hls_segment_ms * 3 + 10000;
    w->query = query ? oa_strdup(query) : NULL;
    w->next = hs->waiters;
    if (hs->waiters)
        hs->waiters->prev = w;
    hs->waiters = w;
    evhttp_connection_set_closecb(w->conn, waiter_closed, w);
    /* Held past the idle timeout if need be: the deadline above bounds it. */
    http_set_streaming(w->conn, true);
}

/* ---- segmenters as hub sinks --------------------------------------------- */

static void sink_on_publish(struct hub_sink *sink)
{
    struct hls_stream *hs = oa_container_of(sink, struct hls_stream, sink);
    oa_log(OA_LOG_DEBUG, "hls %s: publish", hs->key);
    hls_segmenter_start(hs->sg);
}

static void sink_on_packet(struct hub_sink *sink, struct packet *pkt)
{
    struct hls_stream *hs = oa_container_of(sink, struct hls_stream, sink);
    /* Errors are logged by the segmenter, which recovers at the next keyframe. */
    hls_segmenter_push(hs->sg, pkt);
    wake_waiters(hs);
}

static void sink_on_unpublish(struct hub_sink *sink)
{
    /* Stay subscribed: a publisher that comes back continues this playlist. */
    struct hls_stream *hs = oa_container_of(sink, struct hls_stream, sink);
    oa_log(OA_LOG_DEBUG, "hls %s: unpublish, playlist ended", hs->key);
    hls_segmenter_end(hs->sg);
    wake_waiters(hs);
}

static const struct hub_sink_ops sink_ops = {sink_on_publish, sink_on_packet, sink_on_unpublish};

static void tick(evutil_socket_t fd, short what, void *arg);

static void stream_free(struct hls_stream *hs)
{
    while (hs->waiters)
        waiter_finish(hs->waiters, false);
    hub_unsubscribe(&hs->sink);
    hls_segmenter_free(hs->sg);
    oa_free(hs);
}

static struct hls_stream *stream_new(const char *key, const char *domain, const char *app,
                                     const char *name)
{
    struct hls_stream *hs = oa_calloc(1, sizeof(*hs));
    oa_strlcpy(hs->key, key, sizeof(hs->key));
    oa_strlcpy(hs->name, name, sizeof(hs->name));
    char label[800];
    oa_snprintf(label, sizeof(label), "hls %s", key);
    hs->sg = hls_segmenter_new(label, oa_cfg.hls_segment_ms, oa_cfg.hls_window);
    hs->last_request = oa_mono_ms();
    oa_map_put(&H.streams, hs->key, hs);
    if (!H.timer)
        H.timer = event_new(oa_loop_base(), -1, EV_PERSIST, tick, NULL);
    if (!evtimer_pending(H.timer, NULL)) {
        struct timeval tv = {0, HLS_TICK_MS * 1000};
        evtimer_add(H.timer, &tv);
    }
    oa_log(OA_LOG_INFO, "hls %s: started", key);
    /* May prime the sink at once (on_publish, headers, cached GOP). */
    hs->sink.ops = &sink_ops;
    hub_subscribe(domain, app, name, &hs->sink);
    return hs;
}

static void tick(evutil_socket_t fd, short what, void *arg)
{
    int64_t now = oa_mono_ms();
    struct oa_map_iter it;
    oa_map_iter_init(&it, &H.streams);
    while (oa_map_iter_next(&it)) {
        struct hls_stream *hs = it.entry->value;
        for (struct hls_waiter *w = hs->waiters, *next; w; w = next) {
            next = w->next;
            if (now >= w->deadline)
                waiter_finish(w, false);
        }
        if (!hs->waiters && now - hs->last_request >= oa_cfg.hls_idle_ms) {
            oa_log(OA_LOG_INFO, "hls %s: no requests for %d ms, removed", hs->key,
                   oa_cfg.hls_idle_ms);
            oa_map_iter_remove(&it);
            stream_free(hs);
        }
    }
    if (H.streams.count == 0)
        evtimer_del(H.timer);
}

/* ---- requests ------------------------------------------------------------ */

/* Splits "/<app>/<stream>/<seq>.ts". Returns 0 or -1. */
static int split_segment_path(const char *path, char *app, size_t applen, char *stream,
                              size_t streamlen, uint64_t *seq)
{
    if (path[0] != '/')
        return -1;
    const char *a = path + 1, *s1 = strchr(a, '/');
    if (!s1)
        return -1;
    const char *st = s1 + 1, *s2 = strchr(st, '/');
    if (!s2 || strchr(s2 + 1, '/'))
        return -1;
    const char *num = s2 + 1;
    size_t alen = (size_t)(s1 - a), slen = (size_t)(s2 - st), nlen = strlen(num);
    if (alen == 0 || alen >= applen || slen == 0 || slen >= streamlen || nlen <= 3 ||
        nlen - 3 > 19 || strcmp(num + nlen - 3, ".ts") != 0)
        return -1;
    uint64_t v = 0;
    for (size_t i = 0; i < nlen - 3; i++) {
        if (num[i] < '0' || num[i] > '9')
            return -1;
        v = v * 10 + (uint64_t)(num[i] - '0');
    }
    memcpy(app, a, alen);
    app[alen] = '\0';
    memcpy(stream, st, slen);
    stream[slen] = '\0';
    *seq = v;
    return 0;
}

static void handle(struct evhttp_request *req, void *arg)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    const char *query = evhttp_uri_get_query(uri);
    char *path = evhttp_uridecode(evhttp_uri_get_path(uri), 0, NULL);
    char app[256], stream[256], host[256], playlist_uri[600], key[768];
    uint64_t seq = 0;
    bool is_playlist = false;
    const char *why = NULL;
    struct access_grant grant;

    enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
    if (cmd != EVHTTP_REQ_GET && cmd != EVHTTP_REQ_HEAD) {
        free(path);
        http_send_error(req, 405, "Method Not Allowed");
        return;
    }
    if (!H.running) {
        free(path);
        http_send_error(req, 503, "Service Unavailable");
        return;
    }
    if (path && oa_str_has_suffix(path, ".m3u8"))
        is_playlist =
            http_split_stream_path(path, ".m3u8", app, sizeof(app), stream, sizeof(stream)) == 0;
    if (!path || (!is_playlist &&
                  split_segment_path(path, app, sizeof(app), stream, sizeof(stream), &seq) != 0)) {
        free(path);
        http_send_error(req, 404, "Not Found");
        return;
    }
    free(path);
    /* Segments are authorized as their playlist (see hls.h). */
    oa_snprintf(playlist_uri, sizeof(playlist_uri), "/%s/%s.m3u8", app, stream);
    http_request_host(req, host, sizeof(host));
    const char *ip = http_client_ip(req);
    struct access_req areq = {ACCESS_PLAY, host, app, stream, query, playlist_uri, ip};
    int r = access_check(&areq, &grant, &why);
    if (r != 0) {
        oa_log(OA_LOG_WARN, "hls %s %s/%s: refused: %s", ip, app, stream, why);
        if (r == OA_EAUTH || r == OA_EBUSY)
            http_send_error(req, 403, "Forbidden");
        else
            http_send_error(req, 404, "Not Found");
        return;
    }
    oa_snprintf(key, sizeof(key), "%s/%s/%s", grant.domain, app, stream);
    struct hls_stream *hs = oa_map_get(&H.streams, key);

    if (!is_playlist) {
        struct hls_segment *seg = hs ? hls_segmenter_find(hs->sg, seq) : NULL;
        if (!seg) {
            http_send_error(req, 404, "Not Found");
            return;
        }
        hs->last_request = oa_mono_ms();
        send_segment(seg, req);
        return;
    }
    if (!hs)
        hs = stream_new(key, grant.domain, app, stream);
    hs->last_request = oa_mono_ms();
    if (hls_segmenter_count(hs->sg) > 0)
        send_playlist(hs, req, query);
    else
        hold(hs, req, query);
}

void hls_init(void)
{
    if (!H.running) {
        oa_map_init(&H.streams);
        H.running = true;
    }
    http_server_route(HTTP_ROUTE_HLS, handle, NULL);
}

void hls_stop(void)
{
    if (!H.running)
        return;
    H.running = false;
    struct oa_map_iter it;
    oa_map_iter_init(&it, &H.streams);
    while (oa_map_iter_next(&it)) {
        struct hls_stream *hs = it.entry->value;
        oa_map_iter_remove(&it);
        stream_free(hs);
    }
    oa_map_free(&H.streams);
    if (H.timer) {
        event_free(H.timer);
        H.timer = NULL;
    }
}
