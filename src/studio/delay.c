/*
 * delay.c - a hub sink on the source stream queues copies of its packets
 * with the time they are due; a periodic timer publishes what is due into
 * the delayed stream. See delay.h.
 */
#include "studio/delay.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/packet.h"
#include "core/util.h"
#include "hub/hub.h"

#include <event2/event.h>

/* How often due packets are pushed: well under a frame. */
#define TICK_MS 10

struct item {
    struct packet *pkt;
    int64_t due_ms;
};

struct studio_delay {
    struct hub_sink sink;
    struct hub_publisher pub;
    struct hub_stream *out; /* NULL once kicked */
    struct item *q;         /* ring */
    size_t head, len, cap;
    int delay_ms;
    struct event *timer;
    char name[768];
};

static void q_push(struct studio_delay *d, struct packet *pkt, int64_t due)
{
    if (d->len == d->cap) {
        size_t cap = d->cap ? 2 * d->cap : 256;
        struct item *q = oa_malloc(cap * sizeof(*q));
        for (size_t i = 0; i < d->len; i++)
            q[i] = d->q[(d->head + i) % d->cap];
        oa_free(d->q);
        d->q = q;
        d->head = 0;
        d->cap = cap;
    }
    d->q[(d->head + d->len) % d->cap] = (struct item){pkt, due};
    d->len++;
}

static void on_publish(struct hub_sink *s)
{
}

static void on_packet(struct hub_sink *s, struct packet *pkt)
{
    struct studio_delay *d = oa_container_of(s, struct studio_delay, sink);
    if (pkt->type != PKT_AUDIO && pkt->type != PKT_VIDEO && pkt->type != PKT_META)
        return;
    q_push(d, packet_new_copy(pkt->type, pkt->ts, pkt->data, pkt->size),
           oa_mono_ms() + d->delay_ms);
}

static void on_unpublish(struct hub_sink *s)
{
}

static const struct hub_sink_ops sink_ops = {on_publish, on_packet, on_unpublish};

static void kick(struct hub_publisher *p, const char *why)
{
    struct studio_delay *d = oa_container_of(p, struct studio_delay, pub);
    if (d->out) {
        struct hub_stream *st = d->out;
        d->out = NULL;
        oa_log(OA_LOG_INFO, "studio delay %s: output ended: %s", d->name, why);
        hub_unpublish(st);
    }
}

static const struct hub_publisher_ops pub_ops = {kick};

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct studio_delay *d = arg;
    int64_t now = oa_mono_ms();
    while (d->len && d->q[d->head].due_ms <= now) {
        struct packet *pkt = d->q[d->head].pkt;
        d->head = (d->head + 1) % d->cap;
        d->len--;
        if (d->out)
            hub_stream_push(d->out, pkt);
        else
            packet_unref(&pkt);
    }
}

struct studio_delay *studio_delay_start(const char *domain, const char *app, const char *src,
                                        const char *dst, int delay_ms, int *err)
{
    OA_ASSERT(oa_loop_is_loop_thread());
    struct studio_delay *d = oa_calloc(1, sizeof(*d));
    d->delay_ms = delay_ms;
    oa_snprintf(d->name, sizeof(d->name), "%s/%s/%s", domain, app, dst);
    d->pub.ops = &pub_ops;
    d->pub.internal = true;
    oa_strlcpy(d->pub.client_ip, "127.0.0.1", sizeof(d->pub.client_ip));
    oa_snprintf(d->pub.url, sizeof(d->pub.url), "rtmp://%s/%s/%s", domain, app, dst);
    d->out = hub_publish(domain, app, dst, &d->pub, err);
    if (!d->out) {
        oa_free(d);
        return NULL;
    }
    d->sink.ops = &sink_ops;
    hub_subscribe(domain, app, src, &d->sink);
    d->timer = event_new(oa_loop_base(), -1, EV_PERSIST, on_tick, d);
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(d->timer, &tv);
    oa_log(OA_LOG_INFO, "studio delay %s: %d ms behind %s", d->name, delay_ms, src);
    return d;
}

bool studio_delay_running(const struct studio_delay *d)
{
    return d && d->out;
}

void studio_delay_stop(struct studio_delay *d)
{
    if (!d)
        return;
    event_free(d->timer);
    if (d->sink.stream)
        hub_unsubscribe(&d->sink);
    if (d->out) {
        struct hub_stream *st = d->out;
        d->out = NULL;
        hub_unpublish(st);
    }
    while (d->len) {
        packet_unref(&d->q[d->head].pkt);
        d->head = (d->head + 1) % d->cap;
        d->len--;
    }
    oa_free(d->q);
    oa_free(d);
}
