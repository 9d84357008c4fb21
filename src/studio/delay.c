/*
 * delay.c - a ring of (packet, due time) and a periodic timer that emits
 * what is due. See delay.h.
 */
#include "studio/delay.h"
#include "core/alloc.h"
#include "core/loop.h"
#include "core/util.h"

#include <event2/event.h>

/* How often due packets are emitted: well under a frame. */
#define TICK_MS 10

struct item {
    struct packet *pkt;
    int64_t due_ms;
};

struct studio_delay {
    struct item *q; /* ring */
    size_t head, len, cap;
    int delay_ms;
    studio_delay_emit *emit;
    void *arg;
    struct event *timer;
    /* emit() may end the output, which frees the line: then on_tick frees it. */
    bool in_tick, dead;
};

static void destroy(struct studio_delay *d)
{
    event_free(d->timer);
    while (d->len) {
        packet_unref(&d->q[d->head].pkt);
        d->head = (d->head + 1) % d->cap;
        d->len--;
    }
    oa_free(d->q);
    oa_free(d);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    struct studio_delay *d = arg;
    int64_t now = oa_mono_ms();
    d->in_tick = true;
    while (!d->dead && d->len && d->q[d->head].due_ms <= now) {
        struct packet *pkt = d->q[d->head].pkt;
        d->head = (d->head + 1) % d->cap;
        d->len--;
        d->emit(d->arg, pkt);
    }
    d->in_tick = false;
    if (d->dead)
        destroy(d);
}

struct studio_delay *studio_delay_new(int delay_ms, studio_delay_emit *emit, void *arg)
{
    OA_ASSERT(oa_loop_is_loop_thread());
    OA_ASSERT(delay_ms > 0 && emit);
    struct studio_delay *d = oa_calloc(1, sizeof(*d));
    d->delay_ms = delay_ms;
    d->emit = emit;
    d->arg = arg;
    d->timer = event_new(oa_loop_base(), -1, EV_PERSIST, on_tick, d);
    struct timeval tv = {0, TICK_MS * 1000};
    event_add(d->timer, &tv);
    return d;
}

void studio_delay_put(struct studio_delay *d, struct packet *pkt)
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
    d->q[(d->head + d->len) % d->cap] = (struct item){pkt, oa_mono_ms() + d->delay_ms};
    d->len++;
}

void studio_delay_free(struct studio_delay *d)
{
    if (!d)
        return;
    if (d->in_tick)
        d->dead = true;
    else
        destroy(d);
}
