/*
 * flv.c - HTTP-FLV players: access check, FLV header, then packets by reference.
 *
 * A player is PLAYING while it streams, ENDING once the end of its chunked
 * reply is queued (the publisher left, or shutdown) until evhttp reports the
 * reply written or the connection gone, and then dead: unlinked, and freed
 * after the loop turn. A player that has to be dropped (it fell behind, or
 * its socket stalled) is dead at once, but its connection is freed only
 * after the turn: the drop may come from inside an evhttp callback of that
 * very connection (priming a new player from the GOP cache in handle()).
 */
#include "flv.h"
#include "access/access.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "http/server.h"
#include "hub/hub.h"
#include "hub/outq.h"

#include <event2/buffer.h>
#include <event2/http.h>

enum player_state {
    P_PLAYING,
    P_ENDING,
    P_DEAD,
};

struct flv_player {
    struct evhttp_request *req;
    struct evhttp_connection *conn; /* NULL once libevent has freed it */
    struct hub_sink sink;
    struct outq q;
    enum player_state state;
    bool in_flight;
    bool ending; /* publisher gone: end the response after the queue drains */
    bool abort;  /* free the connection after the turn */
    char peer[80];
    char key[768];
    struct flv_player *prev, *next;
    struct flv_player *dead_next;
};

static struct {
    struct flv_player *players; /* PLAYING and ENDING */
    size_t nplayers;
    struct flv_player *dead;
    bool hooked;
    bool quiesced; /* shutting down: no new players */
} F;

static void player_finish(struct flv_player *p, bool send_end, const char *why);

static void release_packet(const void *data, size_t len, void *arg)
{
    struct packet *pkt = arg;
    packet_unref(&pkt);
}

static void on_sent(struct evhttp_connection *conn, void *arg)
{
    struct flv_player *p = arg;
    p->in_flight = false;
    if (p->state != P_PLAYING)
        return;
    if (!outq_empty(&p->q))
        outq_schedule(&p->q);
    else if (p->ending)
        player_finish(p, true, "stream ended");
}

static void flush(struct outq *q)
{
    struct flv_player *p = oa_container_of(q, struct flv_player, q);
    if (p->state != P_PLAYING)
        return;
    if (p->in_flight) {
        /* The last batch is still being written: the client is slow. */
        outq_note_blocked(q);
        return;
    }
    if (outq_empty(q)) {
        if (p->ending)
            player_finish(p, true, "stream ended");
        return;
    }
    struct evbuffer *b = evbuffer_new();
    while (!outq_empty(q)) {
        struct packet *pkt = q->ring[q->head];
        evbuffer_add_reference(b, pkt->flv, pkt->flv_len, release_packet, packet_ref(pkt));
        outq_consume(q, pkt->flv_len);
    }
    p->in_flight = true;
    evhttp_send_reply_chunk_with_cb(p->req, b, on_sent, p);
    evbuffer_free(b);
}

static void overrun(struct outq *q, const char *why)
{
    player_finish(oa_container_of(q, struct flv_player, q), false, why);
}

static const struct outq_ops flv_outq_ops = {flush, overrun};

static void sink_on_packet(struct hub_sink *sink, struct packet *pkt)
{
    struct flv_player *p = oa_container_of(sink, struct flv_player, sink);
    if (pkt->type == PKT_RAW)
        return;
    if (outq_push(&p->q, pkt) == 0)
        outq_schedule_for(&p->q, pkt);
}

/* Stops taking media; the reply ends once what is queued has gone out. */
static void end_after_queue(struct flv_player *p)
{
    hub_unsubscribe(&p->sink);
    p->ending = true;
    outq_schedule(&p->q);
}

static void sink_on_unpublish(struct hub_sink *sink)
{
    end_after_queue(oa_container_of(sink, struct flv_player, sink));
}

static const struct hub_sink_ops sink_ops = {NULL, sink_on_packet, sink_on_unpublish};

static void free_dead(void *arg)
{
    while (F.dead) {
        struct flv_player *p = F.dead;
        F.dead = p->dead_next;
        if (p->abort && p->conn) {
            /* Dropping the connection is the only way to abort a chunked reply. */
            evhttp_connection_set_closecb(p->conn, NULL, NULL);
            evhttp_connection_free(p->conn);
        }
        oa_free(p);
    }
}

/* Leaves the player list (and its connection slot); freed after the turn. */
static void retire(struct flv_player *p)
{
    if (p->state == P_DEAD)
        return;
    p->state = P_DEAD;
    if (p->prev)
        p->prev->next = p->next;
    else
        F.players = p->next;
    if (p->next)
        p->next->prev = p->prev;
    F.nplayers--;
    oa_conn_release();
    p->dead_next = F.dead;
    F.dead = p;
}

/* The reply of an ENDING player is written: the connection is evhttp's again. */
static void on_complete(struct evhttp_request *req, void *arg)
{
    struct flv_player *p = arg;
    if (p->conn)
        evhttp_connection_set_closecb(p->conn, NULL, NULL);
    p->conn = NULL;
    p->req = NULL;
    retire(p);
}

static void on_close(struct evhttp_connection *conn, void *arg)
{
    struct flv_player *p = arg;
    p->conn = NULL;
    /*
     * A client that leaves in the middle of a chunked reply makes libevent
     * detach the unfinished request from the connection and leave it to us;
     * ending a detached request frees it. An attached one goes with the
     * connection (as does one whose end we already sent).
     */
    if (p->state != P_ENDING && p->req && !evhttp_request_get_connection(p->req))
        evhttp_send_reply_end(p->req);
    p->req = NULL;
    if (p->state == P_PLAYING) {
        oa_log(OA_LOG_INFO, "flv %s %s: player left", p->peer, p->key);
        hub_unsubscribe(&p->sink);
        outq_free(&p->q);
    }
    retire(p);
}

static void player_finish(struct flv_player *p, bool send_end, const char *why)
{
    if (p->state != P_PLAYING)
        return;
    oa_log(send_end ? OA_LOG_INFO : OA_LOG_WARN, "flv %s %s: %s", p->peer, p->key, why);
    hub_unsubscribe(&p->sink);
    outq_free(&p->q);
    if (send_end) {
        p->state = P_ENDING;
        /* After its reply the connection may serve keep-alive requests: idle timeout again. */
        http_set_streaming(p->conn, false);
        evhttp_request_set_on_complete_cb(p->req, on_complete, p);
        evhttp_send_reply_end(p->req);
    } else {
        p->abort = true;
        retire(p);
    }
}

/*
 * FLV header flags (4: audio, 1: video) for a player joining st. Players
 * such as FFmpeg wait for every stream the header announces, so an
 * audio-only stream announced as audio+video makes them probe for seconds.
 * The metadata says what the publisher sends; without it, what arrived in
 * the stream's first second. Unknown (nothing published yet): both.
 */
static uint8_t header_flags(const struct hub_stream *st)
{
    bool audio, video;
    if (!st || !hub_stream_tracks(st, &audio, &video) || (!audio && !video))
        return 5;
    return (uint8_t)((audio ? 4 : 0) | (video ? 1 : 0));
}

static void handle(struct evhttp_request *req, void *arg)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    char *path = evhttp_uridecode(evhttp_uri_get_path(uri), 0, NULL);
    char app[256], stream[256], host[256];
    const char *why = NULL;
    struct access_grant grant;

    if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
        free(path);
        http_send_error(req, 405, "Method Not Allowed");
        return;
    }
    if (!path || http_split_stream_path(path, ".flv", app, sizeof(app), stream, sizeof(stream))) {
        free(path);
        http_send_error(req, 404, "Not Found");
        return;
    }
    http_request_host(req, host, sizeof(host));
    const char *ip = http_client_ip(req);
    struct access_req areq = {ACCESS_PLAY, host, app, stream, evhttp_uri_get_query(uri), path, ip};
    int r = access_check(&areq, &grant, &why);
    free(path);
    if (r != 0) {
        oa_log(OA_LOG_WARN, "flv %s %s/%s: refused: %s", ip, app, stream, why);
        if (r == OA_EAUTH || r == OA_EBUSY)
            http_send_error(req, 403, "Forbidden");
        else
            http_send_error(req, 404, "Not Found");
        return;
    }
    if (F.quiesced || !oa_conn_acquire()) {
        oa_log(OA_LOG_WARN, "flv %s %s/%s: refused: %s", ip, app, stream,
               F.quiesced ? "shutting down" : "too many connections");
        http_send_error(req, 503, "Service Unavailable");
        return;
    }

    struct flv_player *p = oa_calloc(1, sizeof(*p));
    p->req = req;
    p->conn = evhttp_request_get_connection(req);
    oa_strlcpy(p->peer, ip, sizeof(p->peer));
    oa_snprintf(p->key, sizeof(p->key), "%s/%s/%s", grant.domain, app, stream);
    outq_init(&p->q, &flv_outq_ops, OUTQ_FLV);
    p->next = F.players;
    if (F.players)
        F.players->prev = p;
    F.players = p;
    F.nplayers++;
    if (!F.hooked) {
        oa_loop_on_turn_end(free_dead, NULL);
        F.hooked = true;
    }
    evhttp_connection_set_closecb(p->conn, on_close, p);
    /* A player sends nothing, and waits for a publisher as long as it likes. */
    http_set_streaming(p->conn, true);

    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "video/x-flv");
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_send_reply_start(req, 200, "OK");
    const struct hub_stream *st = hub_find(grant.domain, app, stream);
    uint8_t header[13] = {'F', 'L', 'V', 1, header_flags(st), 0, 0, 0, 9, 0, 0, 0, 0};
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, header, sizeof(header));
    p->in_flight = true;
    evhttp_send_reply_chunk_with_cb(req, b, on_sent, p);
    evbuffer_free(b);

    oa_log(OA_LOG_INFO, "flv %s %s: play", p->peer, p->key);
    p->sink.ops = &sink_ops;
    hub_subscribe(grant.domain, app, stream, &p->sink);
}

void http_flv_init(void)
{
    http_server_route(HTTP_ROUTE_FLV, handle, NULL);
}

size_t http_flv_players(void)
{
    return F.nplayers;
}

void http_flv_quiesce(void)
{
    F.quiesced = true;
    for (struct flv_player *p = F.players, *next; p; p = next) {
        next = p->next;
        if (p->state == P_PLAYING && !p->ending) {
            oa_log(OA_LOG_DEBUG, "flv %s %s: server shutting down", p->peer, p->key);
            end_after_queue(p);
        }
    }
}

void http_flv_stop(void)
{
    while (F.players) {
        struct flv_player *p = F.players;
        if (p->state == P_PLAYING) {
            player_finish(p, false, "server stopped");
        } else {
            /* Its last chunk did not get out in time. */
            p->abort = true;
            retire(p);
        }
    }
    free_dead(NULL);
    F.quiesced = false;
    if (F.hooked) {
        oa_loop_off_turn_end(free_dead, NULL);
        F.hooked = false;
    }
}
