/*
 * segmenter.h - one live stream cut into MPEG-TS segments, and its playlist.
 *
 * The pure half of HLS: FLV packets in, finished in-memory segments and the
 * text of a live media playlist out. No libevent, no clock, no hub: the
 * caller (hls.c, or a test) feeds packets and publish/unpublish events.
 *
 * Cutting: a segment starts at a video keyframe and is closed at the first
 * keyframe that arrives at least segment_ms after its start, so a GOP longer
 * than the target makes a longer segment. "At least" allows half a frame of
 * slack, or millisecond jitter in the timestamps (a keyframe 1999 ms after
 * the start of a 2000 ms segment) would double the segment. An audio-only
 * stream (no AVC sequence header) is cut on time at an audio packet. A segment's duration
 * is the distance between the first timestamps of it and the next one; the
 * last segment of a publish ends one frame (its mean frame interval) after
 * its last video frame, or its last audio frame in an audio-only stream.
 *
 * One muxer runs for a whole publish (a "run"), so continuity counters,
 * timestamps and audio PES packets flow across segment boundaries; each
 * segment still opens with SDT/PAT/PMT and a keyframe (see mux_flush()).
 * A new run starts - with EXT-X-DISCONTINUITY before its first segment -
 * after a republish, when the codec headers change, or after a mux error.
 * Media sequence numbers keep increasing across runs.
 *
 * Memory: the playlist lists the last `window` segments; two more are kept
 * so that a player that has just read the playlist can still fetch the ones
 * that slid out. Older segments are released; an HTTP response that still
 * holds a reference keeps its segment alive until it is sent. The open
 * segment's buffer is capped at HLS_SEGMENT_MAX_BYTES: a stream that never
 * sends a keyframe loses that segment (and starts a new run) instead of
 * growing without bound.
 *
 * Not thread-safe: a segmenter belongs to one thread (the event loop).
 * Segments are reference-counted atomically and may be released anywhere.
 */
#ifndef OA_HLS_SEGMENTER_H
#define OA_HLS_SEGMENTER_H

#include "core/buf.h"
#include "core/common.h"
#include "core/packet.h"

#include <stdatomic.h>

#define HLS_SEGMENT_MAX_BYTES (64u << 20)
/* Segments kept beyond the playlist window. */
#define HLS_EXTRA_SEGMENTS 2

struct hls_segment {
    _Atomic int refs;
    uint64_t seq;
    int64_t start_ms;    /* timestamp of its first packet */
    int64_t duration_ms; /* > 0 */
    bool discontinuity;  /* first segment of a run that follows an earlier one */
    size_t len;
    uint8_t *data; /* MPEG-TS, len bytes */
};

/* Returns seg with one more reference. */
struct hls_segment *hls_segment_ref(struct hls_segment *seg);
/* Drops a reference and sets *pseg to NULL; frees at zero. Accepts NULL. */
void hls_segment_unref(struct hls_segment **pseg);

struct hls_segmenter;

/*
 * A segmenter with no publish yet. label prefixes its log lines (copied).
 * segment_ms is the target duration, window the number of listed segments.
 */
struct hls_segmenter *hls_segmenter_new(const char *label, int segment_ms, int window);
/* Frees the segmenter and drops its segment references. Accepts NULL. */
void hls_segmenter_free(struct hls_segmenter *sg);

/*
 * A publish begins: the ENDLIST goes away and, if segments were made before,
 * the next one carries EXT-X-DISCONTINUITY. Forgets the codec headers.
 */
void hls_segmenter_start(struct hls_segmenter *sg);
/*
 * Feeds one packet (borrowed; sequence headers are kept by reference).
 * Metadata, codecs other than AVC and AAC, AVC end-of-sequence markers and
 * empty frames are ignored. Returns 0, OA_EPROTO for a truncated frame
 * (skipped), or the mux's error: the open segment is then dropped and a new
 * run begins at the next keyframe.
 */
int hls_segmenter_push(struct hls_segmenter *sg, const struct packet *pkt);
/* The publisher went away: finishes the open segment and ends the playlist. */
void hls_segmenter_end(struct hls_segmenter *sg);

/* True between hls_segmenter_end() and the next hls_segmenter_start(). */
bool hls_segmenter_ended(const struct hls_segmenter *sg);
/* Segments the playlist lists now (at most `window`). */
size_t hls_segmenter_count(const struct hls_segmenter *sg);
/* Segments finished since creation; grows by one per finished segment. */
uint64_t hls_segmenter_finished(const struct hls_segmenter *sg);
/* A segment still held (listed or just slid out), borrowed; NULL if gone or unknown. */
struct hls_segment *hls_segmenter_find(const struct hls_segmenter *sg, uint64_t seq);

/*
 * Appends the playlist to out: segment URIs are "<name>/<seq>.ts", followed
 * by "?<query>" when query is not empty (it is copied unchanged). Returns 0,
 * OA_EAGAIN while no segment exists, or OA_ETOOBIG from out.
 */
int hls_segmenter_playlist(const struct hls_segmenter *sg, const char *name, const char *query,
                           struct oa_buf *out);

#endif
