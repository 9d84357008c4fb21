/*
 * writer.h - the recorder's disk side: oa_cfg.record_threads threads that
 * turn FLV packets into files (FLV, fragmented MP4, m3u8 + TS slices).
 *
 * The event loop calls rec_writer_*(); each call queues one item (a packet
 * reference or a command) for the thread the recording is bound to, so one
 * recording's items are handled in order by one thread. Items collected
 * during a loop turn are handed over at the turn's end with one lock and at
 * most one wake-up per thread. The writer threads create, write, fsync
 * (every record_fsync_ms) and finish files; the loop never touches the disk
 * for a recording, and the writers never touch SQLite.
 *
 * Per format a recording has at most one open file. A file starts on a
 * video keyframe (or any audio frame when the stream has no video), with
 * timestamps rebased so its earliest frame is at 0, and is cut - the old
 * file finished and a new one started on the same keyframe, so no frame is
 * lost or written twice - when CycleDuration has passed, on rec_writer_cut()
 * (restart), and for MP4 when the codec headers change. Audio that arrives
 * just after a file's first keyframe with an earlier timestamp (publishers
 * interleave loosely) belongs to that file and is written before the
 * keyframe, so no timestamp is ever changed. m3u8 files are cut into TS
 * slices of SliceDuration on keyframes the same way, and a header change
 * there starts a new slice after EXT-X-DISCONTINUITY. Audio that follows new
 * codec headers waits for the keyframe that starts the new file or slice.
 *
 * Crash safety: no object exists without an index row that names it. A new
 * file (or slice) is announced to the loop first (RW_FILE_OPEN /
 * RW_SLICE_OPEN); its bytes stay in memory until the loop has written the
 * row and answered with rec_writer_ack(), and only then is the object
 * created. A finished file keeps its temporary name ({EndTime} expanded to
 * "recording"): the writer picks a free final name (never an existing
 * object: "_1", "_2"... before the extension if the name is taken) and
 * reports it with RW_FILE_FINISH, and the loop records that name before the
 * object is renamed (finish.h). An m3u8 playlist is rewritten (put) under
 * the temporary name after every slice, as an EVENT playlist; the VOD
 * playlist under the final name is part of RW_FILE_FINISH.
 *
 * Results go back to the loop as events (oa_loop_post), in order.
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
    RW_FILE_OPEN,   /* insert the row, then rec_writer_ack() */
    RW_FILE_FINISH, /* the file is complete under file.object; record file.final_object */
    RW_SLICE_OPEN,  /* insert the slice row, then rec_writer_ack() */
    RW_SLICE_DONE,
    RW_SLICE_DROP, /* the slice's object could not be created: remove its row */
    RW_ERROR,
};

/* A writer result; the handler owns it and frees it with rec_wevent_free(). */
struct rec_wevent {
    enum rec_wevent_kind kind;
    uint64_t task_id;
    struct rec_file file;                /* RW_FILE_*: the index row */
    struct rec_slice slice;              /* RW_SLICE_* */
    uint64_t video_frames, audio_frames; /* RW_FILE_FINISH */
    /* RW_FILE_FINISH of m3u8: the VOD playlist for final_object (NULL: no slice was written). */
    uint8_t *playlist;
    size_t playlist_len;
    char message[512]; /* RW_ERROR */
    _Atomic int *ack;  /* RW_FILE_OPEN, RW_SLICE_OPEN: the writer waits on it */
};

typedef void rec_wevent_fn(struct rec_wevent *ev);

/*
 * Answers RW_FILE_OPEN or RW_SLICE_OPEN (loop thread, exactly once per such
 * event): ok when the row is written, so the writer may create the object;
 * otherwise the writer drops the file or slice.
 */
void rec_writer_ack(struct rec_wevent *ev, bool ok);
/* Frees an event and what it still owns (an unanswered open is refused first). */
void rec_wevent_free(struct rec_wevent *ev);

/* Starts the threads; events are delivered to fn on the loop thread. */
int rec_writers_start(int nthreads, rec_wevent_fn *fn);
/*
 * Hands over pending items, lets the threads finish every queued item and
 * joins them. Meanwhile it runs the loop's posted events (the threads wait
 * for the answers to their opens), so call it on the loop thread.
 */
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
 * The first name among name, name_1.ext, name_2.ext... that no object has
 * (writer and worker threads; it asks the storage). 0 or OA_EEXIST.
 */
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
