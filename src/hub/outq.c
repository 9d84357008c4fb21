/*
 * outq.c - per-player ring of packet references with the skip policy, the
 * scheduled-flush lists (the "now" list runs from a loop turn-end hook, or
 * from a timer when flush_ms batching is on; the "lazy" list from a timer
 * after audio_flush_ms) and a once-a-second sweep for stalled players.
 */
#include "outq.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/util.h"

#include <event2/event.h>

#define RING_MIN 64
#define RING_MAX 65536

enum { SCHED_NONE, SCHED_URGENT, SCHED_NOW, SCHED_LAZY };

static struct {
    struct outq *urgent; /* flush after this turn, whatever flush_ms says */
    struct outq *now;    /* flush after this turn (or the batch window) */
    struct outq *lazy;   /* flush within audio_flush_ms, oldest first */
    struct outq *lazy_tail;
    struct outq *all;
    struct event *sweep;
    struct event *batch;
    struct event *lazy_timer;
    bool batch_armed, lazy_armed;
    bool initialised;
} Q;

static struct outq **sched_list(uint8_t which)
{
    return which == SCHED_URGENT ? &Q.urgent : which == SCHED_NOW ? &Q.now : &Q.lazy;
}

static void sched_unlink(struct outq *q)
{
    if (q->_sched == SCHED_NONE)
        return;
    if (q->_sched == SCHED_LAZY && Q.lazy_tail == q)
        Q.lazy_tail = q->_sprev;
    if (q->_sprev)
        q->_sprev->_snext = q->_snext;
    else
        *sched_list(q->_sched) = q->_snext;
    if (q->_snext)
        q->_snext->_sprev = q->_sprev;
    q->_sprev = q->_snext = NULL;
    q->_sched = SCHED_NONE;
}

static void sched_link(struct outq *q, uint8_t which)
{
    struct outq **head = sched_list(which);
    q->_sched = which;
    if (which == SCHED_LAZY) {
        /* Appended, so the list stays in deadline order for lazy_fired(). */
        q->_snext = NULL;
        q->_sprev = Q.lazy_tail;
        if (Q.lazy_tail)
            Q.lazy_tail->_snext = q;
        else
            Q.lazy = q;
        Q.lazy_tail = q;
        return;
    }
    q->_sprev = NULL;
    q->_snext = *head;
    if (*head)
        (*head)->_sprev = q;
    *head = q;
}

static size_t pkt_len(const struct outq *q, const struct packet *pkt)
{
    return q->form == OUTQ_RTMP || pkt->type == PKT_RAW ? pkt->wire_len : pkt->flv_len;
}

static const uint8_t *pkt_bytes(const struct outq *q, const struct packet *pkt)
{
    return q->form == OUTQ_RTMP || pkt->type == PKT_RAW ? pkt->wire : pkt->flv;
}

void outq_init(struct outq *q, const struct outq_ops *ops, enum outq_form form)
{
    memset(q, 0, sizeof(*q));
    q->ops = ops;
    q->form = form;
    q->cap = RING_MIN;
    q->ring = oa_calloc(q->cap, sizeof(*q->ring));
    q->_next_all = Q.all;
    if (Q.all)
        Q.all->_prev_all = q;
    Q.all = q;
}

void outq_free(struct outq *q)
{
    if (!q->ring)
        return;
    sched_unlink(q);
    for (uint32_t i = 0; i < q->count; i++)
        packet_unref(&q->ring[(q->head + i) % q->cap]);
    oa_free(q->ring);
    q->ring = NULL;
    q->count = 0;
    q->bytes = q->ctrl_bytes = 0;
    if (q->_prev_all)
        q->_prev_all->_next_all = q->_next_all;
    else if (Q.all == q)
        Q.all = q->_next_all;
    if (q->_next_all)
        q->_next_all->_prev_all = q->_prev_all;
    q->_prev_all = q->_next_all = NULL;
}

static bool droppable(const struct packet *pkt)
{
    return (pkt->type == PKT_AUDIO || pkt->type == PKT_VIDEO) && !(pkt->flags & PKT_F_SEQHDR);
}

/* Oldest queued media timestamp that has not started going out. */
static bool oldest_media_ts(const struct outq *q, uint32_t *ts)
{
    for (uint32_t i = 0; i < q->count; i++) {
        const struct packet *p = q->ring[(q->head + i) % q->cap];
        if (droppable(p) && !(i == 0 && q->offset > 0)) {
            *ts = p->ts;
            return true;
        }
    }
    return false;
}

/* Drops unsent media, compacting the ring; keeps control messages and headers. */
static void drop_media(struct outq *q)
{
    uint32_t kept = 0;
    for (uint32_t i = 0; i < q->count; i++) {
        uint32_t idx = (q->head + i) % q->cap;
        struct packet *p = q->ring[idx];
        bool started = i == 0 && q->offset > 0;
        if (droppable(p) && !started) {
            q->bytes -= pkt_len(q, p);
            q->dropped++;
            packet_unref(&q->ring[idx]);
            continue;
        }
        q->ring[(q->head + kept) % q->cap] = p;
        if (kept != i)
            q->ring[idx] = NULL;
        kept++;
    }
    q->count = kept;
}

static void grow(struct outq *q)
{
    uint32_t ncap = q->cap * 2;
    struct packet **r = oa_calloc(ncap, sizeof(*r));
    for (uint32_t i = 0; i < q->count; i++)
        r[i] = q->ring[(q->head + i) % q->cap];
    oa_free(q->ring);
    q->ring = r;
    q->cap = ncap;
    q->head = 0;
}

static int fall_behind(struct outq *q)
{
    int64_t now = oa_mono_ms();
    drop_media(q);
    q->skipping = q->has_video;
    if (now - q->skip_window_ms > 60000) {
        q->skip_window_ms = now;
        q->skips = 0;
    }
    if (++q->skips > (uint32_t)oa_cfg.player_max_skips) {
        q->ops->overrun(q, "kept falling behind");
        return OA_ETOOBIG;
    }
    return 0;
}

int outq_push(struct outq *q, struct packet *pkt)
{
    if (!q->ring)
        return OA_EINVAL; /* freed: its owner was closed */
    if (pkt->type == PKT_VIDEO)
        q->has_video = true;
    if (droppable(pkt)) {
        if (q->skipping) {
            if (!packet_is_video_key(pkt)) {
                q->dropped++;
                return 0;
            }
            q->skipping = false;
        }
        uint32_t oldest;
        size_t len = pkt_len(q, pkt);
        bool over = q->bytes + len > (size_t)oa_cfg.player_queue_max_bytes;
        if (!over && oldest_media_ts(q, &oldest))
            over = (int32_t)(pkt->ts - oldest) > oa_cfg.player_queue_max_ms;
        if (over) {
            int r = fall_behind(q);
            if (r)
                return r;
            if (q->skipping && !packet_is_video_key(pkt)) {
                q->dropped++;
                return 0;
            }
        }
    } else if (q->ctrl_bytes + pkt_len(q, pkt) > (size_t)oa_cfg.player_queue_max_bytes) {
        q->ops->overrun(q, "too many unsent replies and headers");
        return OA_ETOOBIG;
    }
    if (q->count == q->cap) {
        if (q->cap >= RING_MAX) {
            q->ops->overrun(q, "output queue full");
            return OA_ETOOBIG;
        }
        grow(q);
    }
    q->ring[(q->head + q->count) % q->cap] = packet_ref(pkt);
    q->count++;
    q->bytes += pkt_len(q, pkt);
    if (!droppable(pkt))
        q->ctrl_bytes += pkt_len(q, pkt);
    return 0;
}

int outq_iov(struct outq *q, struct iovec *iov, int max)
{
    int n = 0;
    for (uint32_t i = 0; i < q->count && n < max; i++) {
        const struct packet *p = q->ring[(q->head + i) % q->cap];
        size_t off = i == 0 ? q->offset : 0;
        size_t len = pkt_len(q, p);
        if (len <= off)
            continue;
        iov[n].iov_base = (void *)(pkt_bytes(q, p) + off);
        iov[n].iov_len = len - off;
        n++;
    }
    return n;
}

void outq_consume(struct outq *q, size_t n)
{
    if (n > 0)
        q->stalled_since_ms = 0;
    q->sent_bytes += n;
    while (q->count > 0) {
        struct packet **slot = &q->ring[q->head];
        size_t left = pkt_len(q, *slot) - q->offset;
        if (n < left) {
            q->offset += n;
            q->bytes -= n;
            return;
        }
        n -= left;
        q->bytes -= left;
        q->offset = 0;
        if (!droppable(*slot))
            q->ctrl_bytes -= pkt_len(q, *slot);
        packet_unref(slot);
        q->head = (q->head + 1) % q->cap;
        q->count--;
    }
    q->head = 0;
}

void outq_note_blocked(struct outq *q)
{
    if (!q->stalled_since_ms)
        q->stalled_since_ms = oa_mono_ms();
}

/* Runs flush() for every queue on a list; flush() may close players, so pop first. */
static void run_list(struct outq **head)
{
    while (*head) {
        struct outq *q = *head;
        sched_unlink(q);
        q->ops->flush(q);
    }
}

static void batch_fired(evutil_socket_t fd, short what, void *arg)
{
    Q.batch_armed = false;
    run_list(&Q.now);
}

static void arm(struct event *ev, bool *armed, int ms);

/*
 * Flushes only the queues whose audio has waited audio_flush_ms: one timer
 * for all of them must not flush audio that arrived just before it fires,
 * or that audio goes out alone instead of with the video frame due next.
 */
static void lazy_fired(evutil_socket_t fd, short what, void *arg)
{
    Q.lazy_armed = false;
    int64_t now = oa_mono_ms();
    while (Q.lazy && Q.lazy->_lazy_due_ms <= now) {
        struct outq *q = Q.lazy;
        sched_unlink(q);
        q->ops->flush(q);
    }
    if (Q.lazy) {
        int64_t wait = Q.lazy->_lazy_due_ms - now;
        arm(Q.lazy_timer, &Q.lazy_armed, wait > 0 ? (int)wait : 1);
    }
}

static void arm(struct event *ev, bool *armed, int ms)
{
    if (*armed)
        return;
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    evtimer_add(ev, &tv);
    *armed = true;
}

void outq_schedule(struct outq *q)
{
    if (q->_sched == SCHED_NOW || q->_sched == SCHED_URGENT)
        return;
    sched_unlink(q);
    sched_link(q, SCHED_NOW);
    if (oa_cfg.flush_ms > 0)
        arm(Q.batch, &Q.batch_armed, oa_cfg.flush_ms);
}

void outq_schedule_urgent(struct outq *q)
{
    if (q->_sched == SCHED_URGENT)
        return;
    sched_unlink(q);
    sched_link(q, SCHED_URGENT);
}

void outq_schedule_lazy(struct outq *q)
{
    if (q->_sched != SCHED_NONE)
        return;
    if (oa_cfg.audio_flush_ms <= 0) {
        outq_schedule(q);
        return;
    }
    q->_lazy_due_ms = oa_mono_ms() + oa_cfg.audio_flush_ms;
    sched_link(q, SCHED_LAZY);
    arm(Q.lazy_timer, &Q.lazy_armed, oa_cfg.audio_flush_ms);
}

void outq_schedule_for(struct outq *q, const struct packet *pkt)
{
    if (pkt->type == PKT_RAW)
        outq_schedule_urgent(q);
    else if (pkt->type == PKT_AUDIO && !(pkt->flags & PKT_F_SEQHDR))
        outq_schedule_lazy(q);
    else
        outq_schedule(q);
}

void outq_run_scheduled(void)
{
    run_list(&Q.urgent);
    if (oa_cfg.flush_ms == 0)
        run_list(&Q.now);
}

static void turn_end(void *arg)
{
    outq_run_scheduled();
}

static void sweep(evutil_socket_t fd, short what, void *arg)
{
    int64_t now = oa_mono_ms();
    for (struct outq *q = Q.all, *next; q; q = next) {
        next = q->_next_all;
        if (q->count && q->stalled_since_ms &&
            now - q->stalled_since_ms > oa_cfg.player_stall_timeout_ms) {
            q->stalled_since_ms = 0;
            q->ops->overrun(q, "socket stalled");
        }
    }
}

void outq_global_init(void)
{
    if (Q.initialised)
        return;
    Q.initialised = true;
    oa_loop_on_turn_end(turn_end, NULL);
    Q.batch = evtimer_new(oa_loop_base(), batch_fired, NULL);
    Q.lazy_timer = evtimer_new(oa_loop_base(), lazy_fired, NULL);
    Q.sweep = event_new(oa_loop_base(), -1, EV_PERSIST, sweep, NULL);
    struct timeval tv = {1, 0};
    event_add(Q.sweep, &tv);
}

void outq_global_free(void)
{
    if (!Q.initialised)
        return;
    oa_loop_off_turn_end(turn_end, NULL);
    event_free(Q.batch);
    event_free(Q.lazy_timer);
    event_free(Q.sweep);
    memset(&Q, 0, sizeof(Q));
}
