/* flv.c - HTTP-FLV players: access check, FLV header, then packets by reference. */
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

struct flv_player {
    struct evhttp_request *req;
    struct evhttp_connection *conn;
    struct hub_sink sink;
    struct outq q;
    bool in_flight;
    bool ending;   /* publisher gone: end the response after the queue drains */
    bool finished; /* response ended or connection gone */
    char peer[80];
    char key[768];
    struct flv_player *prev, *next;
    struct flv_player *dead_next;
};

static struct {
    struct flv_player *players;
    struct flv_player *dead;
    bool hooked;
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
    if (p->finished)
        return;
    if (!outq_empty(&p->q))
        outq_schedule(&p->q);
    else if (p->ending)
        player_finish(p, true, "stream ended");
}

static void flush(struct outq *q)
{
    struct flv_player *p = oa_container_of(q, struct flv_player, q);
    if (p->finished)
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

static void sink_on_unpublish(struct hub_sink *sink)
{
    struct flv_player *p = oa_container_of(sink, struct flv_player, sink);
    hub_unsubscribe(&p->sink);
    p->ending = true;
    outq_schedule(&p->q);
}

static const struct hub_sink_ops sink_ops = {NULL, sink_on_packet, sink_on_unpublish};

static void free_dead(void *arg)
{
    while (F.dead) {
        struct flv_player *p = F.dead;
        F.dead = p->dead_next;
        oa_free(p);
    }
}

static void unlink_player(struct flv_player *p)
{
    if (p->prev)
        p->prev->next = p->next;
    else
        F.players = p->next;
    if (p->next)
        p->next->prev = p->prev;
    p->dead_next = F.dead;
    F.dead = p;
}

static void on_close(struct evhttp_connection *conn, void *arg)
{
    struct flv_player *p = arg;
    if (p->finished)
        return;
    oa_log(OA_LOG_INFO, "flv %s %s: player left", p->peer, p->key);
    p->finished = true;
    /*
     * A client that leaves in the middle of a chunked reply makes libevent
     * detach the unfinished request from the connection and leave it to us;
     * ending a detached request frees it. An attached one goes with the
     * connection.
     */
    if (p->req && !evhttp_request_get_connection(p->req))
        evhttp_send_reply_end(p->req);
    p->req = NULL;
    hub_unsubscribe(&p->sink);
    outq_free(&p->q);
    unlink_player(p);
}

static void player_finish(struct flv_player *p, bool send_end, const char *why)
{
    if (p->finished)
        return;
    p->finished = true;
    oa_log(send_end ? OA_LOG_INFO : OA_LOG_WARN, "flv %s %s: %s", p->peer, p->key, why);
    hub_unsubscribe(&p->sink);
    outq_free(&p->q);
    evhttp_connection_set_closecb(p->conn, NULL, NULL);
    if (send_end) {
        evhttp_send_reply_end(p->req);
    } else {
        /* Dropping the connection is the only way to abort a chunked reply. */
        evhttp_connection_free(p->conn);
    }
    unlink_player(p);
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
    if (!F.hooked) {
        oa_loop_on_turn_end(free_dead, NULL);
        F.hooked = true;
    }
    evhttp_connection_set_closecb(p->conn, on_close, p);

    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Content-Type", "video/x-flv");
    evhttp_add_header(h, "Cache-Control", "no-cache");
    evhttp_add_header(h, "Access-Control-Allow-Origin", "*");
    evhttp_send_reply_start(req, 200, "OK");
    static const uint8_t header[13] = {'F', 'L', 'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0};
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

void http_flv_stop(void)
{
    while (F.players)
        player_finish(F.players, true, "server stopped");
    free_dead(NULL);
    if (F.hooked) {
        oa_loop_off_turn_end(free_dead, NULL);
        F.hooked = false;
    }
}
