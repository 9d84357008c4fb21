/*
 * packet.h - the one reference-counted media packet.
 *
 * A publisher's audio, video or metadata message is stored exactly once, in a
 * single block laid out as an FLV tag:
 *
 *     [11-byte FLV tag header][payload (size bytes)][4-byte previous-tag-size]
 *
 * so the HTTP-FLV output and the FLV recorder send/write `flv`/`flv_len`
 * without copying, and `data` points at the payload inside that block. The
 * RTMP wire form (chunked, with headers) is built lazily the first time an
 * RTMP player needs it and then shared by every RTMP player.
 *
 * Ownership: packet_new() returns a packet with one reference. packet_ref()
 * adds one; packet_unref() drops one and frees the block at zero. The count is
 * atomic, so packets are the objects that cross threads (recorder, studio).
 * After a packet has been handed to the hub it is immutable, except for the
 * lazily built `wire` form, which only the event-loop thread touches.
 */
#ifndef OA_CORE_PACKET_H
#define OA_CORE_PACKET_H

#include "common.h"

#include <stdatomic.h>

/* Type ids are the RTMP message types, which are also the FLV tag types. */
enum packet_type {
    PKT_AUDIO = 8,
    PKT_VIDEO = 9,
    PKT_META = 18,
    /* Pre-serialized control bytes for one session: only `wire` is valid. */
    PKT_RAW = 255,
};

enum packet_flags {
    PKT_F_KEY = 1 << 0,    /* a video keyframe: playback can start here */
    PKT_F_SEQHDR = 1 << 1, /* codec configuration (AVC or AAC sequence header) */
};

/* FLV codec ids found in the first payload byte. */
#define FLV_VIDEO_CODEC_AVC 7
#define FLV_VIDEO_CODEC_HEVC 12
#define FLV_AUDIO_CODEC_MP3 2
#define FLV_AUDIO_CODEC_AAC 10

struct packet {
    _Atomic int refs;
    uint8_t type;
    uint8_t flags;
    uint32_t ts;   /* milliseconds, the publisher's RTMP timestamp */
    uint32_t size; /* payload bytes */
    uint8_t *data; /* payload, inside flv[] */
    size_t flv_len;
    /* Lazily built RTMP chunks (event-loop thread only); see rtmp/chunk.h. */
    uint8_t *wire;
    size_t wire_len;
    uint32_t wire_chunk; /* chunk size the wire form was built for */
    uint8_t flv[];
};

/*
 * Allocates a packet for `size` payload bytes (uninitialised) and writes its
 * FLV tag header and trailer. Returns a new reference.
 */
struct packet *packet_new(uint8_t type, uint32_t ts, uint32_t size);
/* As packet_new, copying the payload from p. */
struct packet *packet_new_copy(uint8_t type, uint32_t ts, const void *p, uint32_t size);
/* A PKT_RAW packet whose wire form is a copy of p; used for control messages. */
struct packet *packet_new_raw(const void *p, size_t len);

/* Rewrites the FLV header's timestamp (after the hub rebases one). */
void packet_set_ts(struct packet *pkt, uint32_t ts);
/* Recomputes flags from the payload's first bytes (keyframe, sequence header). */
void packet_classify(struct packet *pkt);

static inline struct packet *packet_ref(struct packet *pkt)
{
    atomic_fetch_add_explicit(&pkt->refs, 1, memory_order_relaxed);
    return pkt;
}

/* Drops a reference and sets *pp to NULL; accepts NULL. */
void packet_unref(struct packet **pp);

static inline bool packet_is_video_key(const struct packet *pkt)
{
    return pkt->type == PKT_VIDEO && (pkt->flags & PKT_F_KEY) && !(pkt->flags & PKT_F_SEQHDR);
}

/* The codec id in the payload's first byte, or -1 for an empty payload. */
int packet_codec(const struct packet *pkt);

/* Total bytes currently held by all live packets (for stats and tests). */
int64_t packet_bytes_live(void);

#endif
