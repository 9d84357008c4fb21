/*
 * repair.h - finding the playable part of a recording that was cut short
 * (SIGKILL, power loss): the length to truncate to, per container.
 *
 *   FLV   everything up to the end of the last complete tag (header, payload
 *         and a matching previous-tag-size), after a valid file header;
 *   MPEG-TS  whole 188-byte packets, without a last PES (frame) that may
 *         be cut short;
 *   fragmented MP4  ftyp + moov, then every moof whose mdat is complete
 *         (and any other complete top-level box after them).
 *
 * Pure: the walkers read through a callback (storage read, or memory in
 * tests) and touch nothing else, so any thread may call them.
 */
#ifndef OA_RECORD_REPAIR_H
#define OA_RECORD_REPAIR_H

#include "core/common.h"

/* Reads up to n bytes at off; *got < n only at the end. 0 or a negative code. */
typedef int rec_read_fn(void *ctx, uint64_t off, void *buf, size_t n, size_t *got);

struct rec_flv_scan {
    uint64_t good_len; /* bytes to keep; 0 if even the header is bad */
    uint64_t video_frames, audio_frames;
    uint32_t first_ts, last_ts;                /* of audio/video frames (not headers) */
    uint32_t last_video_ts, video_span_frames; /* for the last frame's duration */
    uint32_t first_video_ts;
    int width, height; /* from the first AVC sequence header */
};

/* Scans an FLV object of `size` bytes. 0, or the reader's error. */
int rec_repair_flv(rec_read_fn *rd, void *ctx, uint64_t size, struct rec_flv_scan *out);

/*
 * Scans an MPEG-TS object: *good is its whole 188-byte packets up to any
 * garbage, less the last PES unless it is provably complete (a declared
 * length that its packets fill). 0, or the reader's error.
 */
int rec_repair_ts(rec_read_fn *rd, void *ctx, uint64_t size, uint64_t *good);

/* Scans a fragmented MP4 object; *good is 0 when ftyp/moov are incomplete. */
int rec_repair_fmp4(rec_read_fn *rd, void *ctx, uint64_t size, uint64_t *good);

/* Duration (ms) of an FLV scan: the frame span plus one frame interval. */
int64_t rec_flv_scan_duration_ms(const struct rec_flv_scan *s);

#endif
