/*
 * server.c - RTMP sessions: handshake, commands, publishing and playing.
 *
 * Input: a bufferevent reads; its callback feeds the pure handshake and
 * chunk parsers (handshake.h, chunk.h) and dispatches each complete message.
 * Output: everything we send - handshake reply, command responses, media -
 * goes through the session's struct outq as packet references and leaves
 * with sendmsg() straight from the shared packet memory, so a media packet's
 * RTMP chunks are built once (rtmp_packet_wire) for all players. The
 * bufferevent's own output buffer is never used, which keeps one ordered
 * output path.
 *
 * Lifetime: session_close() detaches the session from the hub and its
 * socket at once, then frees the memory after the current loop turn, since
 * it may run inside a hub or libevent callback that still holds a pointer.
 */
#include "server.h"
#include "access/access.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "hub/hub.h"
#include "hub/outq.h"
#include "rtmp/amf.h"
#include "rtmp/chunk.h"
#include "rtmp/handshake.h"
#include "store/streams.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#define MAX_IOV 128
#define CTRL_BUF_MAX (1 << 20)
#define CLOSE_FLUSH_MS 2000

enum state {
    ST_C0C1,
    ST_C2,
    ST_RUNNING,
    ST_CLOSED,
};

enum role {
    ROLE_NONE,
    ROLE_PUBLISH,
    ROLE_PLAY,
};

struct session {
    struct bufferevent *bev;
    int fd;
    char peer[80]; /* ip:port, in every log line */
    char key[768]; /* domain/app/stream once publishing or playing, in every log line after */
    char ip[64];
    enum state state;
    enum role role;
    struct rtmp_chunk_reader reader;
    uint32_t peer_ack_window;
    uint64_t acked;
    bool connected;
    char app[256];
    char app_query[512];
    char tc_url[1024];
    char host[256];
    char name[256];
    char query[1024];
    uint32_t stream_id;
    struct access_grant grant;
    /* publishing */
    struct hub_stream *pub;
    struct hub_publisher publisher;
    int64_t history_id;
    /* playing */
    struct hub_sink sink;
    bool play_started;
    /* output */
    struct outq q;
    struct event *wev;
    bool wev_on;
    bool close_after_flush;
    int64_t close_deadline_ms;
    int64_t created_ms;
    int64_t last_input_ms;
    struct session *prev, *next;
    struct session *dead_next;
};

static struct {
    struct evconnlistener *listener;
    struct session *sessions;
    size_t nsessions;
    struct session *dead;
    struct event *sweep;
    bool started;
    bool quiesced;
    uint64_t partial; /* bytes of incomplete messages across sessions */
} R;

static const struct amf_limits amf_lim = {16, 4096};

#define slog(s, level, fmt, ...)                                                                   \
    oa_log(level, "rtmp %s%s%s: " fmt, (s)->peer, (s)->key[0] ? " " : "", (s)->key, ##__VA_ARGS__)

static void session_close(struct session *s, int level, const char *why);
static void flush(struct outq *q);

/* ===== output ===== */

/*
 * Every send may close the session (its queue overflowed), so callers that
 * go on to do more than send check s->state for ST_CLOSED afterwards.
 */
static void send_raw(struct session *s, struct oa_buf *b)
{
    if (!b->len || s->state == ST_CLOSED)
        return;
    struct packet *p = packet_new_raw(b->data, b->len);
    if (outq_push(&s->q, p) == 0)
        outq_schedule_for(&s->q, p);
    packet_unref(&p);
}

static void send_command(struct session *s, uint32_t stream_id, struct oa_buf *amf)
{
    struct oa_buf b = OA_BUF_INIT(CTRL_BUF_MAX);
    if (rtmp_chunk_write(&b, (uint32_t)oa_cfg.rtmp_chunk_size, RTMP_CSID_COMMAND,
                         RTMP_MSG_COMMAND_AMF0, stream_id, 0, amf->data, amf->len) == 0)
        send_raw(s, &b);
    oa_buf_free(&b);
}

static void send_status(struct session *s, const char *level, const char *code, const char *desc)
{
    struct oa_buf a = OA_BUF_INIT(CTRL_BUF_MAX);
    amf_put_cstring(&a, "onStatus");
    amf_put_number(&a, 0);
    amf_put_null(&a);
    amf_put_object_begin(&a);
    amf_put_key(&a, "level");
    amf_put_cstring(&a, level);
    amf_put_key(&a, "code");
    amf_put_cstring(&a, code);
    amf_put_key(&a, "description");
    amf_put_cstring(&a, desc);
    amf_put_key(&a, "details");
    amf_put_cstring(&a, s->name);
    amf_put_key(&a, "clientid");
    amf_put_number(&a, 1);
    amf_put_object_end(&a);
    send_command(s, s->stream_id ? s->stream_id : 1, &a);
    oa_buf_free(&a);
}

static void send_user_control(struct session *s, uint16_t event, uint32_t arg)
{
    struct oa_buf b = OA_BUF_INIT(256);
    if (rtmp_write_user_control(&b, (uint32_t)oa_cfg.rtmp_chunk_size, event, arg) == 0)
        send_raw(s, &b);
    oa_buf_free(&b);
}

static void set_write_event(struct session *s, bool on)
{
    if (on == s->wev_on)
        return;
    if (on)
        event_add(s->wev, NULL);
    else
        event_del(s->wev);
    s->wev_on = on;
}

static void flush(struct outq *q)
{
    struct session *s = oa_container_of(q, struct session, q);
    struct iovec iov[MAX_IOV];

    if (s->state == ST_CLOSED)
        return;
    while (!outq_empty(q)) {
        int n = outq_iov(q, iov, MAX_IOV);
        struct msghdr msg = {.msg_iov = iov, .msg_iovlen = (size_t)n};
        ssize_t w = sendmsg(s->fd, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                outq_note_blocked(q);
                set_write_event(s, true);
                return;
            }
            session_close(s, OA_LOG_INFO, strerror(errno));
            return;
        }
        size_t want = 0;
        for (int i = 0; i < n; i++)
            want += iov[i].iov_len;
        outq_consume(q, (size_t)w);
        if ((size_t)w < want) {
            outq_note_blocked(q);
            set_write_event(s, true);
            return;
        }
    }
    set_write_event(s, false);
    if (s->close_after_flush)
        session_close(s, OA_LOG_DEBUG, "closed"); /* close_after_flush() logged why */
}

static void on_writable(evutil_socket_t fd, short what, void *arg)
{
    flush(&((struct session *)arg)->q);
}

static void overrun(struct outq *q, const char *why)
{
    struct session *s = oa_container_of(q, struct session, q);
    session_close(s, OA_LOG_WARN, why);
}

static const struct outq_ops session_outq_ops = {flush, overrun};

/* Sends what is queued, then closes: for refusals that must reach the client. */
static void close_after_flush(struct session *s, const char *why)
{
    if (s->state == ST_CLOSED || s->close_after_flush)
        return;
    slog(s, OA_LOG_INFO, "closing: %s", why);
    s->close_after_flush = true;
    s->close_deadline_ms = oa_mono_ms() + CLOSE_FLUSH_MS;
    bufferevent_disable(s->bev, EV_READ);
    outq_schedule_urgent(&s->q);
}

/* ===== publishing ===== */

static void end_publish(struct session *s)
{
    if (!s->pub)
        return;
    struct hub_stream *st = s->pub;
    s->pub = NULL;
    slog(s, OA_LOG_INFO, "unpublish");
    hub_unpublish(st);
    if (s->history_id) {
        streams_history_stop(s->history_id, oa_wall_ms());
        s->history_id = 0;
    }
}

static void kick(struct hub_publisher *pub, const char *why)
{
    struct session *s = oa_container_of(pub, struct session, publisher);
    send_status(s, "error", "NetStream.Publish.Idle", why);
    end_publish(s);
    close_after_flush(s, why);
}

static const struct hub_publisher_ops publisher_ops = {kick};

/* ===== playing ===== */

static void sink_on_publish(struct hub_sink *sink)
{
    struct session *s = oa_container_of(sink, struct session, sink);
    if (!s->play_started)
        return;
    send_user_control(s, 0 /* Stream Begin */, s->stream_id);
    send_status(s, "status", "NetStream.Play.PublishNotify", "Start publishing.");
}

static void sink_on_packet(struct hub_sink *sink, struct packet *pkt)
{
    struct session *s = oa_container_of(sink, struct session, sink);
    if (rtmp_packet_wire(pkt, (uint32_t)oa_cfg.rtmp_chunk_size) != 0)
        return;
    if (outq_push(&s->q, pkt) == 0)
        outq_schedule_for(&s->q, pkt);
}

static void sink_on_unpublish(struct hub_sink *sink)
{
    struct session *s = oa_container_of(sink, struct session, sink);
    send_user_control(s, 1 /* Stream EOF */, s->stream_id);
    send_status(s, "status", "NetStream.Play.UnpublishNotify", "Stop publishing.");
}

static const struct hub_sink_ops sink_ops = {sink_on_publish, sink_on_packet, sink_on_unpublish};

static void end_play(struct session *s)
{
    if (s->sink.stream) {
        slog(s, OA_LOG_INFO, "stop playing");
        hub_unsubscribe(&s->sink);
    }
    s->play_started = false;
}

/* ===== commands ===== */

static void split_query(const char *in, char *name, size_t nlen, char *query, size_t qlen)
{
    const char *q = strchr(in, '?');
    size_t n = q ? (size_t)(q - in) : strlen(in);
    oa_strlcpy(name, in, OA_MIN(nlen, n + 1));
    oa_strlcpy(query, q ? q + 1 : "", qlen);
}

/* Host of "rtmp://host:port/app...". */
static void host_of_url(const char *url, char *out, size_t outlen)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t n = strcspn(p, "/?");
    oa_strlcpy(out, p, OA_MIN(outlen, n + 1));
}

static void on_connect(struct session *s, double txn, const struct amf_value *cmd)
{
    const char *app = amf_as_string(amf_object_get(cmd, "app"));
    const char *tc = amf_as_string(amf_object_get(cmd, "tcUrl"));
    if (s->connected || !app) {
        close_after_flush(s, s->connected ? "second connect" : "connect without app");
        return;
    }
    split_query(app, s->app, sizeof(s->app), s->app_query, sizeof(s->app_query));
    /* Some encoders send "app/" or "app/instance"; keep the first path element. */
    s->app[strcspn(s->app, "/")] = '\0';
    oa_strlcpy(s->tc_url, tc ? tc : "", sizeof(s->tc_url));
    host_of_url(s->tc_url, s->host, sizeof(s->host));
    s->connected = true;

    uint32_t cs = (uint32_t)oa_cfg.rtmp_chunk_size;
    struct oa_buf b = OA_BUF_INIT(CTRL_BUF_MAX);
    rtmp_write_window_ack_size(&b, cs, (uint32_t)oa_cfg.rtmp_ack_window);
    rtmp_write_peer_bandwidth(&b, cs, (uint32_t)oa_cfg.rtmp_ack_window, 2);
    rtmp_write_set_chunk_size(&b, RTMP_DEFAULT_CHUNK_SIZE, cs);
    send_raw(s, &b);
    oa_buf_free(&b);

    struct oa_buf a = OA_BUF_INIT(CTRL_BUF_MAX);
    amf_put_cstring(&a, "_result");
    amf_put_number(&a, txn);
    amf_put_object_begin(&a);
    amf_put_key(&a, "fmsVer");
    amf_put_cstring(&a, "FMS/3,0,1,123");
    amf_put_key(&a, "capabilities");
    amf_put_number(&a, 31);
    amf_put_object_end(&a);
    amf_put_object_begin(&a);
    amf_put_key(&a, "level");
    amf_put_cstring(&a, "status");
    amf_put_key(&a, "code");
    amf_put_cstring(&a, "NetConnection.Connect.Success");
    amf_put_key(&a, "description");
    amf_put_cstring(&a, "Connection succeeded.");
    amf_put_key(&a, "objectEncoding");
    amf_put_number(&a, amf_as_number(amf_object_get(cmd, "objectEncoding"), 0));
    amf_put_object_end(&a);
    send_command(s, 0, &a);
    oa_buf_free(&a);
}

static void send_result(struct session *s, double txn, uint32_t stream_id, bool with_number,
                        double number)
{
    struct oa_buf a = OA_BUF_INIT(4096);
    amf_put_cstring(&a, "_result");
    amf_put_number(&a, txn);
    amf_put_null(&a);
    if (with_number)
        amf_put_number(&a, number);
    send_command(s, stream_id, &a);
    oa_buf_free(&a);
}

static void send_error(struct session *s, double txn, const char *code, const char *desc)
{
    struct oa_buf a = OA_BUF_INIT(4096);
    amf_put_cstring(&a, "_error");
    amf_put_number(&a, txn);
    amf_put_null(&a);
    amf_put_object_begin(&a);
    amf_put_key(&a, "level");
    amf_put_cstring(&a, "error");
    amf_put_key(&a, "code");
    amf_put_cstring(&a, code);
    amf_put_key(&a, "description");
    amf_put_cstring(&a, desc);
    amf_put_object_end(&a);
    send_command(s, 0, &a);
    oa_buf_free(&a);
}

/* Resolves name?query for publish/play; fills s->name, s->query and s->grant. */
static int authorize(struct session *s, enum access_kind kind, const char *raw, const char **why)
{
    char uri[600];
    split_query(raw, s->name, sizeof(s->name), s->query, sizeof(s->query));
    if (!s->query[0] && s->app_query[0])
        oa_strlcpy(s->query, s->app_query, sizeof(s->query));
    oa_snprintf(uri, sizeof(uri), "/%s/%s", s->app, s->name);
    struct access_req req = {kind, s->host, s->app, s->name, s->query, uri, s->ip};
    return access_check(&req, &s->grant, why);
}

static void on_publish(struct session *s, const char *raw)
{
    const char *why = NULL;
    int err;

    if (s->role != ROLE_NONE || !s->connected) {
        close_after_flush(s, "publish in the wrong state");
        return;
    }
    if (authorize(s, ACCESS_PUBLISH, raw, &why) != 0) {
        slog(s, OA_LOG_WARN, "publish %s/%s refused: %s", s->app, s->name, why);
        send_status(s, "error", "NetStream.Publish.Unauthorized", why);
        close_after_flush(s, why);
        return;
    }
    s->publisher.ops = &publisher_ops;
    oa_strlcpy(s->publisher.client_ip, s->ip, sizeof(s->publisher.client_ip));
    oa_snprintf(s->publisher.url, sizeof(s->publisher.url), "%s/%s%s%s", s->tc_url, s->name,
                s->query[0] ? "?" : "", s->query);
    oa_strlcpy(s->publisher.query, s->query, sizeof(s->publisher.query));
    s->pub = hub_publish(s->grant.domain, s->app, s->name, &s->publisher, &err);
    if (!s->pub) {
        slog(s, OA_LOG_WARN, "publish %s/%s/%s refused: already publishing", s->grant.domain,
             s->app, s->name);
        send_status(s, "error", "NetStream.Publish.BadName", "Stream already publishing.");
        close_after_flush(s, "stream already publishing");
        return;
    }
    s->role = ROLE_PUBLISH;
    oa_strlcpy(s->key, s->pub->key, sizeof(s->key));
    slog(s, OA_LOG_INFO, "publish");
    streams_history_start(s->grant.account_id, s->grant.domain, s->app, s->name,
                          s->grant.request_domain, s->ip, s->publisher.url, oa_wall_ms(),
                          &s->history_id);
    send_user_control(s, 0, s->stream_id);
    send_status(s, "status", "NetStream.Publish.Start", "Start publishing.");
}

static void on_play(struct session *s, const char *raw)
{
    const char *why = NULL;

    if (s->role != ROLE_NONE || !s->connected) {
        close_after_flush(s, "play in the wrong state");
        return;
    }
    if (authorize(s, ACCESS_PLAY, raw, &why) != 0) {
        slog(s, OA_LOG_WARN, "play %s/%s refused: %s", s->app, s->name, why);
        send_status(s, "error", "NetStream.Play.Failed", why);
        close_after_flush(s, why);
        return;
    }
    s->role = ROLE_PLAY;
    send_user_control(s, 0, s->stream_id);
    send_status(s, "status", "NetStream.Play.Reset", "Playing and resetting.");
    send_status(s, "status", "NetStream.Play.Start", "Start live.");
    struct oa_buf a = OA_BUF_INIT(4096), b = OA_BUF_INIT(8192);
    amf_put_cstring(&a, "|RtmpSampleAccess");
    amf_put_bool(&a, true);
    amf_put_bool(&a, true);
    rtmp_chunk_write(&b, (uint32_t)oa_cfg.rtmp_chunk_size, RTMP_CSID_DATA, RTMP_MSG_DATA_AMF0,
                     s->stream_id, 0, a.data, a.len);
    send_raw(s, &b);
    oa_buf_free(&a);
    oa_buf_free(&b);
    if (s->state == ST_CLOSED)
        return; /* a reply overflowed the queue: never subscribe a closed session */
    s->play_started = true;
    s->sink.ops = &sink_ops;
    oa_snprintf(s->key, sizeof(s->key), "%s/%s/%s", s->grant.domain, s->app, s->name);
    slog(s, OA_LOG_INFO, "play");
    hub_subscribe(s->grant.domain, s->app, s->name, &s->sink);
}

static void on_command(struct session *s, const uint8_t *p, size_t len, uint32_t msg_stream)
{
    struct amf_value *v = NULL;
    size_t n = 0;
    /*
     * Arguments in types we do not decode (AMF3, references, typed objects)
     * end the argument list rather than the session: an unknown command
     * carrying them is answered like any other, and a known one misses the
     * arguments it needs and is refused on its own terms.
     */
    int r = amf_decode_prefix(p, len, &amf_lim, &v, &n);
    if (r < 0 || n < 2 || !amf_as_string(&v[0]) || v[1].type != AMF_NUMBER) {
        amf_values_free(v, n);
        session_close(s, OA_LOG_WARN, "malformed command");
        return;
    }
    const char *cmd = amf_as_string(&v[0]);
    if (r == 1)
        slog(s, OA_LOG_DEBUG, "command %s: arguments after the %zu-th not decoded", cmd, n);
    double txn = v[1].num;
    const char *arg = n > 3 ? amf_as_string(&v[3]) : NULL;

    if (strcmp(cmd, "connect") == 0) {
        if (n < 3 || (v[2].type != AMF_OBJECT && v[2].type != AMF_ECMA_ARRAY))
            session_close(s, OA_LOG_WARN, "connect without command object");
        else
            on_connect(s, txn, &v[2]);
    } else if (strcmp(cmd, "createStream") == 0) {
        s->stream_id = 1;
        send_result(s, txn, 0, true, 1);
    } else if (strcmp(cmd, "releaseStream") == 0 || strcmp(cmd, "getStreamLength") == 0 ||
               strcmp(cmd, "_checkbw") == 0 || strcmp(cmd, "checkBandwidth") == 0) {
        if (txn != 0)
            send_result(s, txn, 0, strcmp(cmd, "getStreamLength") == 0, 0);
    } else if (strcmp(cmd, "FCPublish") == 0 || strcmp(cmd, "FCSubscribe") == 0) {
        struct oa_buf a = OA_BUF_INIT(4096);
        amf_put_cstring(&a, cmd[2] == 'P' ? "onFCPublish" : "onFCSubscribe");
        amf_put_number(&a, 0);
        amf_put_null(&a);
        amf_put_object_begin(&a);
        amf_put_key(&a, "code");
        amf_put_cstring(&a, cmd[2] == 'P' ? "NetStream.Publish.Start" : "NetStream.Play.Start");
        amf_put_key(&a, "description");
        /* The stream name, echoed; clipped so the reply always fits its buffer. */
        amf_put_string(&a, arg ? arg : "", arg ? OA_MIN(strlen(arg), 1024) : 0);
        amf_put_object_end(&a);
        send_command(s, 0, &a);
        oa_buf_free(&a);
    } else if (strcmp(cmd, "publish") == 0) {
        if (!s->stream_id)
            s->stream_id = msg_stream ? msg_stream : 1;
        if (!arg || !*arg) {
            send_status(s, "error", "NetStream.Publish.BadName", "No stream name.");
            close_after_flush(s, "publish without a name");
        } else {
            on_publish(s, arg);
        }
    } else if (strcmp(cmd, "play") == 0) {
        if (!s->stream_id)
            s->stream_id = msg_stream ? msg_stream : 1;
        if (!arg || !*arg) {
            send_status(s, "error", "NetStream.Play.StreamNotFound", "No stream name.");
            close_after_flush(s, "play without a name");
        } else {
            on_play(s, arg);
        }
    } else if (strcmp(cmd, "FCUnpublish") == 0 || strcmp(cmd, "deleteStream") == 0 ||
               strcmp(cmd, "closeStream") == 0) {
        if (s->role == ROLE_PUBLISH) {
            end_publish(s);
            s->role = ROLE_NONE;
        } else if (s->role == ROLE_PLAY && strcmp(cmd, "FCUnpublish") != 0) {
            end_play(s);
            s->role = ROLE_NONE;
        }
    } else if (strcmp(cmd, "pause") == 0 || strcmp(cmd, "receiveAudio") == 0 ||
               strcmp(cmd, "receiveVideo") == 0 || strcmp(cmd, "_result") == 0 ||
               strcmp(cmd, "onBWDone") == 0) {
        /* Live streams cannot pause; the rest need no answer. */
    } else {
        slog(s, OA_LOG_DEBUG, "unknown command %s", cmd);
        if (txn != 0)
            send_error(s, txn, "NetConnection.Call.Failed", "Method not found.");
    }
    amf_values_free(v, n);
}

/* "@setDataFrame", "onMetaData", {...} -> "onMetaData", {...} as a PKT_META packet. */
static void on_data(struct session *s, struct packet *pkt)
{
    struct amf_value first;
    size_t used = 0;
    if (s->role != ROLE_PUBLISH || !s->pub)
        return;
    if (amf_decode_one(pkt->data, pkt->size, &amf_lim, &first, &used) != 0)
        return;
    const char *name = amf_as_string(&first);
    size_t skip = 0;
    if (name && strcmp(name, "@setDataFrame") == 0)
        skip = used;
    else if (!name || strcmp(name, "onMetaData") != 0) {
        amf_value_clear(&first);
        return;
    }
    amf_value_clear(&first);
    struct packet *meta =
        packet_new_copy(PKT_META, pkt->ts, pkt->data + skip, pkt->size - (uint32_t)skip);
    hub_stream_push(s->pub, meta);
}

static void on_media(struct session *s, struct packet *pkt)
{
    if (s->role != ROLE_PUBLISH || !s->pub || pkt->size == 0)
        return;
    s->last_input_ms = oa_mono_ms();
    hub_stream_push(s->pub, packet_ref(pkt));
}

/* Aggregate messages wrap FLV tags whose timestamps are relative to the first. */
static void on_aggregate(struct session *s, struct packet *agg)
{
    const uint8_t *p = agg->data;
    size_t left = agg->size;
    bool first = true;
    uint32_t base = 0;
    while (left >= 15) {
        uint8_t type = p[0];
        uint32_t size = oa_rb24(p + 1);
        uint32_t ts = oa_rb24(p + 4) | ((uint32_t)p[7] << 24);
        if (11 + (size_t)size + 4 > left) {
            session_close(s, OA_LOG_WARN, "malformed aggregate message");
            return;
        }
        if (first) {
            base = ts;
            first = false;
        }
        if (type == PKT_AUDIO || type == PKT_VIDEO) {
            struct packet *sub = packet_new_copy(type, agg->ts + (ts - base), p + 11, size);
            on_media(s, sub);
            packet_unref(&sub);
        }
        p += 11 + size + 4;
        left -= 11 + (size_t)size + 4;
    }
}

static void on_message(struct session *s, struct rtmp_msg *m)
{
    struct packet *pkt = m->pkt;
    switch (pkt->type) {
    case RTMP_MSG_AUDIO:
    case RTMP_MSG_VIDEO:
        on_media(s, pkt);
        break;
    case RTMP_MSG_DATA_AMF0:
        on_data(s, pkt);
        break;
    case RTMP_MSG_DATA_AMF3:
        if (pkt->size > 0 && pkt->data[0] == 0) {
            struct packet *q =
                packet_new_copy(RTMP_MSG_DATA_AMF0, pkt->ts, pkt->data + 1, pkt->size - 1);
            on_data(s, q);
            packet_unref(&q);
        }
        break;
    case RTMP_MSG_COMMAND_AMF0:
        on_command(s, pkt->data, pkt->size, m->stream_id);
        break;
    case RTMP_MSG_COMMAND_AMF3:
        /* An AMF3 command message starts with a format byte, then AMF0 values. */
        if (pkt->size > 0)
            on_command(s, pkt->data + 1, pkt->size - 1, m->stream_id);
        break;
    case RTMP_MSG_AGGREGATE:
        on_aggregate(s, pkt);
        break;
    case RTMP_MSG_WINDOW_ACK_SIZE:
        if (pkt->size >= 4)
            s->peer_ack_window = oa_rb32(pkt->data);
        break;
    case RTMP_MSG_USER_CONTROL:
        if (pkt->size >= 6 && oa_rb16(pkt->data) == 6) { /* PingRequest -> PingResponse */
            struct oa_buf b = OA_BUF_INIT(256);
            rtmp_write_user_control(&b, (uint32_t)oa_cfg.rtmp_chunk_size, 7,
                                    oa_rb32(pkt->data + 2));
            send_raw(s, &b);
            oa_buf_free(&b);
        }
        break;
    default:
        break; /* acks, bandwidth, shared objects: nothing to do */
    }
}

/* ===== input ===== */

/* An acknowledgement counts every byte received, the handshake's C0, C1 and C2 too. */
#define HANDSHAKE_IN (1 + 2 * RTMP_HANDSHAKE_SIZE)

static void maybe_ack(struct session *s)
{
    if (!s->peer_ack_window)
        return;
    uint64_t in = HANDSHAKE_IN + s->reader.bytes_in;
    if (in - s->acked >= s->peer_ack_window) {
        struct oa_buf b = OA_BUF_INIT(256);
        s->acked = in;
        /* The sequence number is 32 bits and wraps (RTMP 5.4.3). */
        rtmp_write_ack(&b, (uint32_t)oa_cfg.rtmp_chunk_size, (uint32_t)in);
        send_raw(s, &b);
        oa_buf_free(&b);
    }
}

static int read_handshake(struct session *s, struct evbuffer *in)
{
    if (s->state == ST_C0C1) {
        uint8_t c0c1[1 + RTMP_HANDSHAKE_SIZE], reply[1 + 2 * RTMP_HANDSHAKE_SIZE];
        bool digest;
        if (evbuffer_get_length(in) < sizeof(c0c1))
            return 1;
        evbuffer_remove(in, c0c1, sizeof(c0c1));
        if (rtmp_handshake_server(c0c1, reply, &digest) != 0) {
            session_close(s, OA_LOG_WARN, "bad handshake version");
            return -1;
        }
        struct packet *p = packet_new_raw(reply, sizeof(reply));
        outq_push(&s->q, p);
        packet_unref(&p);
        flush(&s->q);
        /* A failed send closes the session: nothing of it may be touched. */
        if (s->state == ST_CLOSED)
            return -1;
        s->state = ST_C2;
    }
    if (s->state == ST_C2) {
        if (evbuffer_get_length(in) < RTMP_HANDSHAKE_SIZE)
            return 1;
        evbuffer_drain(in, RTMP_HANDSHAKE_SIZE);
        s->state = ST_RUNNING;
    }
    return 0;
}

static void on_read(struct bufferevent *bev, void *arg)
{
    struct session *s = arg;
    struct evbuffer *in = bufferevent_get_input(bev);

    if (s->state == ST_CLOSED || s->close_after_flush)
        return;
    if (s->state != ST_RUNNING && read_handshake(s, in) != 0)
        return;
    while (s->state == ST_RUNNING && !s->close_after_flush && evbuffer_get_length(in) > 0) {
        struct evbuffer_iovec v;
        if (evbuffer_peek(in, -1, NULL, &v, 1) < 1)
            break;
        size_t used = 0;
        struct rtmp_msg m;
        int r = rtmp_chunk_read(&s->reader, v.iov_base, v.iov_len, &used, &m);
        evbuffer_drain(in, used);
        if (r < 0) {
            session_close(s, OA_LOG_WARN,
                          r == OA_ETOOBIG ? "message too large (rtmp_max_message)"
                          : r == OA_EBUSY ? "incomplete messages of all connections over "
                                            "rtmp_partial_max_bytes"
                                          : "malformed chunk stream");
            return;
        }
        if (r == 1) {
            on_message(s, &m);
            packet_unref(&m.pkt);
        }
    }
    if (s->state == ST_RUNNING)
        maybe_ack(s);
    if (s->role == ROLE_PUBLISH)
        outq_run_scheduled();
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
    struct session *s = arg;
    if (what & BEV_EVENT_EOF)
        session_close(s, OA_LOG_INFO, "peer closed");
    else if (what & BEV_EVENT_ERROR)
        session_close(s, OA_LOG_INFO, strerror(EVUTIL_SOCKET_ERROR()));
}

/* ===== lifetime ===== */

static void free_dead(void *arg)
{
    while (R.dead) {
        struct session *s = R.dead;
        R.dead = s->dead_next;
        oa_free(s);
    }
}

static void session_close(struct session *s, int level, const char *why)
{
    if (s->state == ST_CLOSED)
        return;
    if (s->role == ROLE_PUBLISH || s->role == ROLE_PLAY || level <= OA_LOG_WARN)
        slog(s, level, "closed: %s", why);
    else
        slog(s, OA_LOG_DEBUG, "closed: %s", why);
    s->state = ST_CLOSED;
    end_publish(s);
    end_play(s);
    outq_free(&s->q);
    event_free(s->wev);
    bufferevent_free(s->bev); /* closes the socket */
    rtmp_chunk_reader_free(&s->reader);
    if (s->prev)
        s->prev->next = s->next;
    else
        R.sessions = s->next;
    if (s->next)
        s->next->prev = s->prev;
    R.nsessions--;
    oa_conn_release();
    s->dead_next = R.dead;
    R.dead = s;
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
                      void *arg)
{
    char ip[64] = "?";
    int port = 0;
    if (sa->sa_family == AF_INET) {
        struct sockaddr_in *in = (struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &in->sin_addr, ip, sizeof(ip));
        port = ntohs(in->sin_port);
    } else if (sa->sa_family == AF_INET6) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof(ip));
        port = ntohs(in6->sin6_port);
    }
    if (!oa_conn_acquire()) {
        oa_log(OA_LOG_WARN, "rtmp %s:%d: refused: too many connections", ip, port);
        evutil_closesocket(fd);
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));

    struct session *s = oa_calloc(1, sizeof(*s));
    s->fd = fd;
    oa_strlcpy(s->ip, ip, sizeof(s->ip));
    oa_snprintf(s->peer, sizeof(s->peer), "%s:%d", ip, port);
    s->created_ms = s->last_input_ms = oa_mono_ms();
    rtmp_chunk_reader_init(&s->reader, (uint32_t)oa_cfg.rtmp_max_message);
    rtmp_chunk_reader_set_pool(&s->reader, &R.partial, (uint64_t)oa_cfg.rtmp_partial_max_bytes);
    outq_init(&s->q, &session_outq_ops, OUTQ_RTMP);
    s->bev = bufferevent_socket_new(oa_loop_base(), fd, BEV_OPT_CLOSE_ON_FREE);
    s->wev = event_new(oa_loop_base(), fd, EV_WRITE | EV_PERSIST, on_writable, s);
    bufferevent_setcb(s->bev, on_read, NULL, on_event, s);
    bufferevent_set_max_single_read(s->bev, 65536);
    /* Stop reading while more than this is waiting to be parsed. */
    bufferevent_setwatermark(s->bev, EV_READ, 0, 4 << 20);
    bufferevent_enable(s->bev, EV_READ);
    s->next = R.sessions;
    if (R.sessions)
        R.sessions->prev = s;
    R.sessions = s;
    R.nsessions++;
    oa_log(OA_LOG_DEBUG, "rtmp %s: connected", s->peer);
}

static void sweep(evutil_socket_t fd, short what, void *arg)
{
    int64_t now = oa_mono_ms();
    for (struct session *s = R.sessions, *next; s; s = next) {
        next = s->next;
        if (s->close_after_flush) {
            if (now > s->close_deadline_ms)
                session_close(s, OA_LOG_INFO, "last messages not taken in time");
        } else if (s->role == ROLE_NONE && now - s->created_ms > oa_cfg.rtmp_handshake_timeout_ms) {
            session_close(s, OA_LOG_INFO, "no publish or play in time");
        } else if (s->role == ROLE_PUBLISH &&
                   now - s->last_input_ms > oa_cfg.rtmp_idle_timeout_ms) {
            session_close(s, OA_LOG_WARN, "publisher sent no media in time");
        }
    }
}

static void on_listen_error(struct evconnlistener *l, void *arg)
{
    int e = EVUTIL_SOCKET_ERROR();
    /* EMFILE and friends: log and keep listening; the sessions that exist carry on. */
    oa_log(OA_LOG_WARN, "rtmp: accept failed: %s", evutil_socket_error_to_string(e));
}

int rtmp_server_start(const char *addr)
{
    struct sockaddr_storage ss;
    int sslen = sizeof(ss);
    if (evutil_parse_sockaddr_port(addr, (struct sockaddr *)&ss, &sslen) != 0) {
        oa_log(OA_LOG_ERROR, "rtmp: bad listen address %s", addr);
        return OA_EINVAL;
    }
    R.listener =
        evconnlistener_new_bind(oa_loop_base(), on_accept, NULL,
                                LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
                                1024, (struct sockaddr *)&ss, sslen);
    if (!R.listener) {
        oa_log(OA_LOG_ERROR, "rtmp: cannot listen on %s: %s", addr, strerror(errno));
        return -errno;
    }
    evconnlistener_set_error_cb(R.listener, on_listen_error);
    R.sweep = event_new(oa_loop_base(), -1, EV_PERSIST, sweep, NULL);
    struct timeval tv = {0, 250000};
    event_add(R.sweep, &tv);
    oa_loop_on_turn_end(free_dead, NULL);
    R.started = true;
    oa_log(OA_LOG_INFO, "rtmp: listening on %s", addr);
    return 0;
}

void rtmp_server_quiesce(void)
{
    if (!R.started || R.quiesced)
        return;
    R.quiesced = true;
    evconnlistener_free(R.listener);
    R.listener = NULL;
    /*
     * Publishers first, so players hear UnpublishNotify before Play.Stop.
     * Ending a publish tells its players, which may close one of them
     * (queue overflow): a closed session keeps its links until the turn
     * ends, and closing it again does nothing.
     */
    for (struct session *s = R.sessions, *next; s; s = next) {
        next = s->next;
        if (s->role == ROLE_PUBLISH && s->state != ST_CLOSED) {
            send_status(s, "status", "NetStream.Unpublish.Success", "Server shutting down.");
            end_publish(s);
        }
    }
    /* Then everyone is told why, and closes once that is written. */
    for (struct session *s = R.sessions, *next; s; s = next) {
        next = s->next;
        if (s->role == ROLE_PLAY && s->state != ST_CLOSED) {
            send_user_control(s, 1, s->stream_id);
            send_status(s, "status", "NetStream.Play.Stop", "Server shutting down.");
        }
        close_after_flush(s, "server shutting down");
        s->close_deadline_ms = oa_mono_ms() + oa_cfg.shutdown_drain_ms;
    }
}

void rtmp_server_stop(void)
{
    if (!R.started)
        return;
    rtmp_server_quiesce();
    for (struct session *s = R.sessions; s; s = s->next)
        flush(&s->q);
    while (R.sessions)
        session_close(R.sessions, OA_LOG_DEBUG, "server stopped");
    free_dead(NULL);
    oa_loop_off_turn_end(free_dead, NULL);
    event_free(R.sweep);
    R.started = false;
    R.quiesced = false;
}

size_t rtmp_server_sessions(void)
{
    return R.nsessions;
}
