/*
 * outq.h - a player's bounded output queue, and batched flushing.
 *
 * Each player (RTMP or HTTP-FLV) queues references to shared packets, never
 * copies. The queue is bounded by media duration (player_queue_max_ms) and
 * bytes (player_queue_max_bytes). When a push would exceed either, the
 * player has fallen behind: every queued media packet that has not started
 * going out is dropped and the queue skips incoming media until the next
 * video keyframe (audio-only streams resume at once). Control messages,
 * metadata and sequence headers are never dropped; they have a budget of
 * their own, player_queue_max_bytes again, and a player whose unsent
 * messages of that kind exceed it (a client that sends commands and never
 * reads the replies) is closed. A player that has to skip
 * more than player_max_skips times a minute, or whose socket accepts nothing
 * for player_stall_timeout_ms while data is waiting, is to be closed: the
 * queue reports it and its owner closes the connection.
 *
 * Flushing: owners call outq_schedule() after queuing; after the current
 * loop turn (or after flush_ms, when batching is configured) every scheduled
 * queue's flush() runs once, so a player gets one writev per turn however
 * many packets arrived in it. Audio frames may wait: outq_schedule_for()
 * schedules a queue that only gained audio lazily, to go out with the next
 * video frame or after audio_flush_ms at the latest. With one publisher a
 * loop turn carries one packet, so without this every audio frame (~43 a
 * second for AAC at 44.1 kHz) would cost every player a system call of its
 * own; with it a player costs about one write per video frame, and video,
 * what viewers wait for, is never delayed.
 */
#ifndef OA_HUB_OUTQ_H
#define OA_HUB_OUTQ_H

#include "core/common.h"
#include "core/packet.h"

#include <sys/uio.h>

enum outq_form {
    OUTQ_RTMP, /* packets go out as pkt->wire */
    OUTQ_FLV,  /* packets go out as pkt->flv */
};

struct outq;

struct outq_ops {
    /* Write what is queued; called after the turn in which outq_schedule() was called. */
    void (*flush)(struct outq *q);
    /* The player stalled or kept falling behind; close it (deferred is fine). */
    void (*overrun)(struct outq *q, const char *why);
};

struct outq {
    const struct outq_ops *ops;
    enum outq_form form;
    struct packet **ring;
    uint32_t cap, head, count;
    size_t offset;     /* bytes of ring[head] already written */
    size_t bytes;      /* bytes queued and not yet written */
    size_t ctrl_bytes; /* of those, in packets the skip policy never drops */
    bool skipping;
    bool has_video;
    uint32_t skips;
    int64_t skip_window_ms;
    int64_t stalled_since_ms; /* 0 while the socket keeps taking data */
    uint64_t dropped;         /* packets dropped by the skip policy */
    uint64_t sent_bytes;
    /* private */
    uint8_t _sched;       /* not scheduled, now, or lazily */
    int64_t _lazy_due_ms; /* when lazily scheduled audio must go out */
    struct outq *_sprev, *_snext;
    struct outq *_prev_all, *_next_all;
};

void outq_init(struct outq *q, const struct outq_ops *ops, enum outq_form form);
/* Drops every reference; unschedules. */
void outq_free(struct outq *q);

/*
 * Queues a new reference to pkt (which must have its RTMP wire form built
 * when form is OUTQ_RTMP). Returns 0 when queued or dropped by the skip
 * policy, OA_ETOOBIG when the player must be closed (overrun() has been
 * called as well).
 */
int outq_push(struct outq *q, struct packet *pkt);
static inline bool outq_empty(const struct outq *q)
{
    return q->count == 0;
}

/* Fills up to max iovecs from the head of the queue; returns how many. */
int outq_iov(struct outq *q, struct iovec *iov, int max);
/* Marks n bytes as written, releasing the packets fully sent. */
void outq_consume(struct outq *q, size_t n);
/* Records that the socket accepted nothing (for the stall timeout). */
void outq_note_blocked(struct outq *q);

/* Asks for flush() after this turn (or after the flush window). */
void outq_schedule(struct outq *q);
/* Asks for flush() within audio_flush_ms; an outq_schedule() meanwhile wins. */
void outq_schedule_lazy(struct outq *q);
/* Asks for flush() after this turn even when flush_ms batches media: replies. */
void outq_schedule_urgent(struct outq *q);
/*
 * The right one of the above for what was just queued: urgent for control
 * messages (a client waits for each reply), lazy for an audio frame, and
 * outq_schedule() for anything else.
 */
void outq_schedule_for(struct outq *q, const struct packet *pkt);

/*
 * Runs the flushes scheduled so far, as the end of the turn would. A
 * publisher's session calls it after handling its input, so with many
 * publishers a stream's players need not wait for every other publisher's
 * input of the same turn.
 */
void outq_run_scheduled(void);

/* Starts the flush hook and the stall sweep (loop thread, once). */
void outq_global_init(void);
void outq_global_free(void);

#endif
