/*
 * writer.h - the recorder's disk side: oa_cfg.record_threads threads that
 * turn FLV packets into files (FLV, fragmented MP4, m3u8 + TS slices).
 *
 * The event loop calls rec_writer_*(); each call queues one item (a packet
 * reference or a command) for the thread the recording is bound to, so one
 * recording's items are handled in order by one thread. Items collected
 * during a loop turn are handed over at the turn's end with one lock and at
 * most one wake-up per thread. The writer threads open, write, fsync
 * (every record_fsync_ms), rename and finish files; the loop never touches
 * the disk for a recording.
 *
 * Per format a recording has at most one open file. A file starts on a
 * video keyframe (or any audio frame when the stream has no video), with
 * timestamps rebased so that frame is at 0, and is cut - the old file
 * finished and a new one started on the same keyframe, so no frame is lost
 * or written twice - when CycleDuration has passed, on rec_writer_cut()
 * (restart), and for MP4 when the codec headers change. m3u8 files are cut
 * into TS slices of SliceDuration on keyframes the same way, and a header
 * change there starts a new slice after EXT-X-DISCONTINUITY.
 *
 * While a file is being written its object name has {EndTime} expanded to
 * "recording"; when it is finished it is renamed to its final name (never
 * replacing an existing object: "_1", "_2"... is added before the
 * extension if the name is taken). An m3u8 playlist is rewritten (put) after
 * every slice: EVENT while recording, VOD with ENDLIST when finished.
 *
 * Results go back to the loop as events (oa_loop_post): file opened and
 * finished, slice opened and finished, errors.
 */
#ifndef OA_RECORD_WRITER_H
#define OA_RECORD_WRITER_H

#include "core/common.h"
#include "core/packet.h"
#include "record/config.h"
#include "record/index.h"

#include <stdatomic.h>

/* Per-stream sequence counters, shared by every recording of that stream. */
struct rec_seq {
    _Atomic int64_t file[REC_NFMT];
    _Atomic int64_t slice;
};

struct rec_writer_params {
    uint64_t task_id;
    int64_t account_id;
    char domain[256], app[256], stream[256];
    char endpoint[256], bucket[64];
    struct rec_format formats[REC_NFMT];
    int nformats;
    struct rec_seq *seq; /* borrowed; must outlive the recording */
    char push_args[1024];
};

enum rec_wevent_kind {
    RW_FILE_OPEN,
    RW_FILE_DONE,
    RW_SLICE_OPEN,
    RW_SLICE_DONE,
    RW_ERROR,
};

/* A writer result; the handler owns it and frees it with oa_free. */
struct rec_wevent {
    enum rec_wevent_kind kind;
    uint64_t task_id;
    struct rec_file file;                /* RW_FILE_*: the index row */
    struct rec_slice slice;              /* RW_SLICE_* */
    uint64_t video_frames, audio_frames; /* RW_FILE_DONE */
    char message[512];                   /* RW_ERROR */
};

typedef void rec_wevent_fn(struct rec_wevent *ev);

/* Starts the threads; events are delivered to fn on the loop thread. */
int rec_writers_start(int nthreads, rec_wevent_fn *fn);
/* Hands over pending items, lets the threads finish every queued item, joins them. */
void rec_writers_stop(void);

struct rec_writer;

/* A new recording (loop thread). key picks the thread, so one stream stays on one. */
struct rec_writer *rec_writer_open(const struct rec_writer_params *p, const char *key);
/* Queues a packet (takes a new reference). wall_ms/live_ts: the wall clock now and the
 * stream's newest timestamp, to date the packet. */
void rec_writer_packet(struct rec_writer *w, struct packet *pkt, int64_t wall_ms, uint32_t live_ts);
/* Finish the current files at the next keyframe and continue in new ones (restart). */
void rec_writer_cut(struct rec_writer *w);
/* The stream was interrupted: flush and sync, keep the files open; what comes next must
 * start with a keyframe. */
void rec_writer_pause(struct rec_writer *w);
/* Finish every file; w is freed by its thread and must not be used after this call. */
void rec_writer_close(struct rec_writer *w);

/*
 * How full w's queue is, in percent of the tightest limit: record_queue_ms of
 * media, record_queue_bytes for the recording, record_thread_queue_bytes for
 * its thread. newest_ts is the timestamp about to be queued. Loop thread.
 */
int rec_writer_backlog(struct rec_writer *w, uint32_t newest_ts);

/*
 * Final names (writer and crash recovery; writer/worker threads): renames
 * `from` to `name`, or to name_1.ext, name_2.ext... when taken; *out is the
 * name used. 0 or the storage error.
 */
int rec_rename_free(const char *bucket, const char *from, const char *name, const char *ext,
                    char *out, size_t outlen);
/* The first name among name, name_1.ext... that no object has. */
int rec_free_name(const char *bucket, const char *name, const char *ext, char *out, size_t outlen);

/* ---- pure parts, exposed for tests ---------------------------------------- */

enum rec_cut {
    REC_CUT_NONE,
    REC_CUT_SLICE,
    REC_CUT_FILE,
};

struct rec_cut_in {
    bool has_video;           /* cuts happen only on video keyframes */
    bool is_key;              /* this packet is a video keyframe */
    bool is_audio;            /* this packet is an audio frame */
    int64_t file_elapsed_ms;  /* packet ts - the file's first ts */
    int64_t slice_elapsed_ms; /* packet ts - the slice's first ts (m3u8) */
    int64_t cycle_ms;         /* CycleDuration */
    int64_t slice_ms;         /* SliceDuration, 0 without slices */
    int64_t frame_ms;         /* frame interval estimate: half of it is slack */
    bool cut_requested;       /* restart, or new codec headers (MP4) */
};

/* Where the packet must start something new (before it is written). */
enum rec_cut rec_cut_decide(const struct rec_cut_in *in);

/* The FLV file header (13 bytes: signature, flags, offset, first previous-tag-size). */
void rec_flv_file_header(uint8_t out[13], bool audio, bool video);
/*
 * Zeroes the "duration" and "filesize" numbers of an onMetaData payload (a
 * copy): a publisher's values describe its own file, and 0 makes players
 * measure the recording instead.
 */
void rec_flv_meta_patch(uint8_t *payload, size_t len);
/* A copy of pkt's 11-byte FLV tag header with the timestamp replaced (ts may be > 24 bits). */
void rec_flv_tag_header(const struct packet *pkt, uint32_t ts, uint8_t out[11]);

#endif
