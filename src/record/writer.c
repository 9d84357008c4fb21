/*
 * writer.c - recorder writer threads (see writer.h).
 *
 * Each thread owns a FIFO of items (packet references and commands). The
 * loop appends to a per-thread pending list during its turn and splices it
 * into the FIFO at the turn's end. A thread takes the whole FIFO at once,
 * handles every item, then writes out what the items buffered (one write
 * per file per batch, or every OUT_FLUSH_BYTES) and fsyncs files whose last
 * sync is older than record_fsync_ms. FLV is written here (the file header,
 * then each packet's own FLV bytes behind a rewritten tag header); MP4 and
 * MPEG-TS go through media/mux.h. The writer threads are the only code that
 * touches a recording's file.
 *
 * A file or slice starts in memory: its bytes collect in the file's buffer
 * until the loop has answered its RW_*_OPEN event (an atomic the loop sets,
 * with a broadcast on one condition variable), and the first flush after a
 * yes creates the object. Only finishing an object waits for the answer;
 * the loop gives it within a turn, and during shutdown rec_writers_stop()
 * runs the posted events itself.
 *
 * A new file's first keyframe is held with the packets that follow it
 * ("settling") until an audio frame at or after its timestamp arrives, or
 * SETTLE_MS of video: audio interleaved late is then written before the
 * keyframe, and the file's earliest frame is its timestamp 0.
 */
#include "writer.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/util.h"
#include "media/avc.h"
#include "media/mux.h"
#include "record/fault.h"
#include "record/m3u8.h"
#include "record/storage.h"
#include "record/tmpl.h"

#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <unistd.h>

#define OUT_FLUSH_BYTES (256 * 1024)
#define OUT_BUF_MAX (64u << 20)
#define OPEN_RETRY_MS 5000
#define NAME_TRIES 100
#define PLAYLIST_MAX (16u << 20)
#define IDLE_WAKE_MS 200
#define SETTLE_MS 500

enum item_kind { IT_PACKET, IT_OPEN, IT_CUT, IT_PAUSE, IT_CLOSE };

struct item {
    struct item *next;
    uint8_t kind;
    struct rec_writer *w;
    struct packet *pkt;
    int64_t wall_ms;
    uint32_t live_ts;
};

struct wslice {
    char *object;
    double duration;
    bool discontinuity;
};

/* A packet waiting for its file: audio before a keyframe, or a settling file's frames. */
struct held {
    struct packet *pkt;
    int64_t wall;
};

#define HELD_MAX 512
#define HELD_MAX_MS 10000

struct wfile {
    struct rec_writer *w;
    struct rec_format cfg;
    bool open;                  /* a file is being written */
    bool settling;              /* the held packets open the file when settled() */
    int64_t settle_ts;          /* the held keyframe's timestamp */
    struct rec_file row;        /* the index row: record_id, names, times */
    _Atomic int row_ack;        /* the loop's answer to RW_FILE_OPEN: 1 yes, -1 no, 0 not yet */
    struct storage_writer *out; /* the file, or the current slice; NULL until created */
    int out_err;                /* the object could not be created */
    struct oa_buf buf;
    int64_t last_sync_ms;
    bool dirty;
    struct mux *mux;
    int64_t base_ts; /* publisher timestamp written as 0 */
    int64_t last_abs;
    int64_t last_rel, first_vrel, last_vrel, last_arel, last_adelta;
    uint64_t vframes, aframes;
    int64_t last_wall;
    bool cut_requested;  /* restart, or new headers for MP4 */
    bool newrun_pending; /* new headers for m3u8: a new mux and slice */
    bool hdr_cut;        /* the pending cut or run is for new headers: audio waits for it */
    bool waiting_key;    /* after an interruption: start again on a keyframe */
    int64_t retry_after; /* monotonic ms: after an open failure */
    int err;
    struct held *held;
    size_t nheld;
    /* m3u8 */
    struct rec_slice slice;
    _Atomic int slice_ack; /* the answer to RW_SLICE_OPEN */
    bool slice_live;       /* a slice is announced and not finished */
    int64_t slice_first_abs;
    struct wslice *slices;
    size_t nslices, capslices;
};

struct wthread;

struct rec_writer {
    struct wthread *t;
    struct rec_writer_params p;
    struct wfile files[REC_NFMT];
    int nfiles;
    struct packet *meta, *vhdr, *ahdr;
    struct rec_writer *prev, *next; /* the thread's recordings (writer thread) */
    _Atomic int64_t queued_bytes;
    _Atomic int64_t done_ts; /* last handled packet timestamp, -1 before any */
    int64_t first_enq_ts;    /* loop thread */
};

struct wthread {
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct item *head, *tail; /* shared FIFO */
    bool stopping;
    bool waiting;
    _Atomic bool exited;
    _Atomic int64_t queued_bytes;
    struct item *phead, *ptail; /* loop side, handed over at turn end */
    struct rec_writer *recs;    /* writer side */
};

static struct {
    struct wthread *t;
    int n;
    rec_wevent_fn *fn;
    bool started;
    int stall_ms; /* fault injection: a slow disk (record_fault_write_delay_ms per packet) */
} WR;

/* The loop's answers to opens: rare waits, so one condition variable for all threads. */
static pthread_mutex_t ack_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ack_cv = PTHREAD_COND_INITIALIZER;

/* ===== pure helpers ===== */

enum rec_cut rec_cut_decide(const struct rec_cut_in *in)
{
    bool boundary = in->has_video ? in->is_key : in->is_audio;
    if (!boundary)
        return REC_CUT_NONE;
    /* Half a frame of slack, so a keyframe 1 ms early does not add a whole GOP. */
    int64_t slack = OA_MAX(in->frame_ms, 0) / 2;
    if (in->cut_requested || in->file_elapsed_ms + slack >= in->cycle_ms)
        return REC_CUT_FILE;
    if (in->slice_ms > 0 && in->slice_elapsed_ms + slack >= in->slice_ms)
        return REC_CUT_SLICE;
    return REC_CUT_NONE;
}

void rec_flv_file_header(uint8_t out[13], bool audio, bool video)
{
    memcpy(out, "FLV\x01", 4);
    out[4] = (uint8_t)((audio ? 4 : 0) | (video ? 1 : 0));
    oa_wb32(out + 5, 9);
    oa_wb32(out + 9, 0);
}

void rec_flv_meta_patch(uint8_t *p, size_t len)
{
    static const char *const keys[] = {"duration", "filesize"};
    for (size_t k = 0; k < OA_ARRAY_SIZE(keys); k++) {
        size_t kl = strlen(keys[k]);
        /* AMF0: u16 name length, name, then a number marker (0) and a big-endian double. */
        for (size_t i = 0; i + 2 + kl + 9 <= len; i++) {
            if (oa_rb16(p + i) == kl && memcmp(p + i + 2, keys[k], kl) == 0 &&
                p[i + 2 + kl] == 0x00) {
                memset(p + i + 3 + kl, 0, 8);
                break;
            }
        }
    }
}

void rec_flv_tag_header(const struct packet *pkt, uint32_t ts, uint8_t out[11])
{
    memcpy(out, pkt->flv, 11);
    oa_wb24(out + 4, ts & 0xffffff);
    out[7] = (uint8_t)(ts >> 24);
}

/* ===== events ===== */

static void deliver(void *arg)
{
    WR.fn(arg);
}

static void post(struct rec_wevent *ev)
{
    /* The loop's queue is far larger than anything we post; wait out a full one. */
    while (oa_loop_post(deliver, ev) == OA_EBUSY)
        sched_yield();
}

static struct rec_wevent *event_new(struct rec_writer *w, enum rec_wevent_kind kind)
{
    struct rec_wevent *ev = oa_calloc(1, sizeof(*ev));
    ev->kind = kind;
    ev->task_id = w->p.task_id;
    return ev;
}

static void post_error(struct rec_writer *w, struct wfile *f, const char *what, int err)
{
    struct rec_wevent *ev = event_new(w, RW_ERROR);
    oa_snprintf(ev->message, sizeof(ev->message), "%s %s: %s", f ? rec_fmt_name(f->cfg.fmt) : "",
                what, oa_strerror(err));
    ev->file = f ? f->row : (struct rec_file){0};
    post(ev);
}

void rec_writer_ack(struct rec_wevent *ev, bool ok)
{
    if (!ev->ack)
        return;
    pthread_mutex_lock(&ack_mu);
    atomic_store(ev->ack, ok ? 1 : -1);
    pthread_cond_broadcast(&ack_cv);
    pthread_mutex_unlock(&ack_mu);
    /* The writer may reuse the slot from here on. */
    ev->ack = NULL;
}

void rec_wevent_free(struct rec_wevent *ev)
{
    if (!ev)
        return;
    rec_writer_ack(ev, false);
    oa_free(ev->playlist);
    oa_free(ev);
}

/* Waits for the loop's answer to an open (writer thread); 1 or -1. */
static int wait_ack(_Atomic int *a)
{
    int v = atomic_load(a);
    if (v)
        return v;
    pthread_mutex_lock(&ack_mu);
    while ((v = atomic_load(a)) == 0)
        pthread_cond_wait(&ack_cv, &ack_mu);
    pthread_mutex_unlock(&ack_mu);
    return v;
}

/* ===== output buffering ===== */

/*
 * The file's (or the current slice's) object, created at the first call
 * after the loop has its row: 1 ready, 0 not yet (the bytes wait in memory),
 * or the error that makes the object impossible.
 */
static int out_ready(struct wfile *f)
{
    if (f->out)
        return 1;
    if (f->out_err)
        return f->out_err;
    bool m3u8 = f->cfg.fmt == REC_M3U8;
    int a = atomic_load(&f->row_ack), b = m3u8 ? atomic_load(&f->slice_ack) : 1;
    if (a < 0 || b < 0)
        return f->out_err = OA_EDB;
    if (!a || !b)
        return 0;
    const char *object = m3u8 ? f->slice.object : f->row.object;
    int r = storage()->open(f->w->p.bucket, object, &f->out);
    if (r) {
        f->out = NULL;
        post_error(f->w, f, m3u8 ? "cannot create slice" : "cannot create", r);
        return f->out_err = r;
    }
    rec_fault(m3u8 ? "slice_create" : "file_create");
    return 1;
}

static int out_flush(struct wfile *f)
{
    if (f->err || !f->buf.len)
        return f->err;
    int r = out_ready(f);
    if (r <= 0)
        return r ? (f->err = r) : 0;
    r = storage()->write(f->out, f->buf.data, f->buf.len);
    oa_buf_reset(&f->buf);
    if (r)
        f->err = r;
    return r;
}

static int out_append(struct wfile *f, const void *p, size_t n)
{
    if (f->err)
        return f->err;
    if (f->buf.len + n > OUT_FLUSH_BYTES && out_flush(f))
        return f->err;
    f->row.size += (int64_t)n;
    f->dirty = true;
    if (n >= OUT_FLUSH_BYTES && !f->buf.len && f->out) {
        int r = storage()->write(f->out, p, n);
        return r ? (f->err = r) : 0;
    }
    int r = oa_buf_append(&f->buf, p, n);
    return r ? (f->err = r) : 0;
}

static int mux_out(void *opaque, const uint8_t *buf, size_t len)
{
    return out_append(opaque, buf, len);
}

static int out_sync(struct wfile *f)
{
    int r = out_flush(f);
    if (!r && f->out && f->dirty) {
        r = storage()->sync(f->out);
        if (r)
            f->err = r;
        f->dirty = false;
    }
    f->last_sync_ms = oa_mono_ms();
    return r;
}

/* Before an object is finished: waits for its row, then writes out every buffered byte. */
static int out_complete(struct wfile *f)
{
    wait_ack(&f->row_ack);
    if (f->cfg.fmt == REC_M3U8 && f->slice_live)
        wait_ack(&f->slice_ack);
    return out_flush(f);
}

/* ===== naming ===== */

static const char *ext_of(enum rec_fmt fmt)
{
    return fmt == REC_M3U8 ? "m3u8" : rec_fmt_name(fmt);
}

/* "a/b.flv" -> "a/b_<n>.flv". */
static int name_suffixed(const char *name, const char *ext, int n, char *out, size_t outlen)
{
    size_t base = strlen(name) - strlen(ext) - 1;
    return oa_snprintf(out, outlen, "%.*s_%d.%s", (int)base, name, n, ext) ? OA_ETOOBIG : 0;
}

static bool object_exists(const char *bucket, const char *object)
{
    uint64_t size;
    return storage()->size(bucket, object, &size) == 0;
}

int rec_free_name(const char *bucket, const char *name, const char *ext, char *out, size_t outlen)
{
    oa_strlcpy(out, name, outlen);
    for (int i = 1; object_exists(bucket, out); i++) {
        if (i > NAME_TRIES || name_suffixed(name, ext, i, out, outlen))
            return OA_EEXIST;
    }
    return 0;
}

/* Appends pkt as an FLV tag at ts; metadata goes out patched (rec_flv_meta_patch). */
static int flv_tag(struct wfile *f, const struct packet *pkt, uint32_t ts)
{
    uint8_t th[11];
    rec_flv_tag_header(pkt, ts, th);
    int r = out_append(f, th, sizeof(th));
    if (r)
        return r;
    if (pkt->type != PKT_META)
        return out_append(f, pkt->flv + 11, pkt->flv_len - 11);
    uint8_t *copy = oa_memdup(pkt->data, pkt->size);
    rec_flv_meta_patch(copy, pkt->size);
    r = out_append(f, copy, pkt->size);
    oa_free(copy);
    return r ? r : out_append(f, pkt->flv + 11 + pkt->size, pkt->flv_len - 11 - pkt->size);
}

static int64_t frame_ms(const struct wfile *f)
{
    if (f->vframes > 1)
        return OA_MAX((f->last_vrel - f->first_vrel) / (int64_t)(f->vframes - 1), 1);
    if (f->aframes > 1)
        return OA_MAX(f->last_adelta, 1);
    return f->vframes ? 40 : 23;
}

/* ===== m3u8 slices and playlists ===== */

static int playlist_build(struct wfile *f, const char *object, bool ended, struct oa_buf *b)
{
    struct rec_m3u8_entry *e = oa_calloc(f->nslices ? f->nslices : 1, sizeof(*e));
    for (size_t i = 0; i < f->nslices; i++)
        e[i] = (struct rec_m3u8_entry){f->slices[i].object, f->slices[i].duration,
                                       f->slices[i].discontinuity};
    int r = rec_m3u8_build(object, e, f->nslices, ended, b);
    oa_free(e);
    return r;
}

/* The live (EVENT) playlist under the temporary name, after every finished slice. */
static int playlist_put(struct rec_writer *w, struct wfile *f)
{
    struct oa_buf b = OA_BUF_INIT(PLAYLIST_MAX);
    int r = playlist_build(f, f->row.object, false, &b);
    if (!r)
        r = storage()->put(w->p.bucket, f->row.object, b.data, b.len);
    oa_buf_free(&b);
    return r;
}

/* Starts a slice at pkt: named and announced now, created once the loop has its row. */
static int slice_open(struct rec_writer *w, struct wfile *f, const struct packet *pkt, int64_t wall,
                      bool discontinuity)
{
    struct rec_slice *s = &f->slice;
    memset(s, 0, sizeof(*s));
    s->seq = atomic_fetch_add(&w->p.seq->slice, 1);
    struct rec_tmpl_vars v = {w->p.app, w->p.stream, s->seq, wall, -1, wall / 1000};
    int r = rec_object_name(f->cfg.slice_prefix, &v, "ts", s->object, sizeof(s->object));
    if (r) {
        post_error(w, f, "cannot name the slice", r);
        return f->err = r;
    }
    oa_strlcpy(s->file_record_id, f->row.record_id, sizeof(s->file_record_id));
    s->account_id = w->p.account_id;
    oa_strlcpy(s->domain, w->p.domain, sizeof(s->domain));
    oa_strlcpy(s->app, w->p.app, sizeof(s->app));
    oa_strlcpy(s->stream, w->p.stream, sizeof(s->stream));
    oa_strlcpy(s->endpoint, w->p.endpoint, sizeof(s->endpoint));
    oa_strlcpy(s->bucket, w->p.bucket, sizeof(s->bucket));
    s->start_ms = wall;
    s->discontinuity = discontinuity;
    oa_strlcpy(s->state, "open", sizeof(s->state));
    f->slice_first_abs = pkt->ts;
    f->out = NULL;
    f->out_err = 0;
    f->dirty = false;
    f->last_sync_ms = oa_mono_ms();
    atomic_store(&f->slice_ack, 0);
    f->slice_live = true;
    struct rec_wevent *ev = event_new(w, RW_SLICE_OPEN);
    ev->slice = *s;
    ev->ack = &f->slice_ack;
    post(ev);
    return 0;
}

/* Finishes the open slice; next_abs is the next slice's first timestamp, or -1 at the end. */
static int slice_finish(struct rec_writer *w, struct wfile *f, int64_t next_abs)
{
    if (!f->slice_live)
        return 0;
    int r = out_complete(f);
    f->slice_live = false;
    bool created = f->out != NULL;
    if (f->out) {
        int r2 = storage()->finish(f->out);
        f->out = NULL;
        if (!r)
            r = r2;
    }
    if (!created) {
        /* Nothing of it reached the disk: its row goes, no playlist names it. */
        if (atomic_load(&f->slice_ack) > 0) {
            struct rec_wevent *ev = event_new(w, RW_SLICE_DROP);
            ev->slice = f->slice;
            post(ev);
        }
        return r;
    }
    int64_t end = next_abs >= 0 ? next_abs : f->last_abs + frame_ms(f);
    f->slice.duration = (double)OA_MAX(end - f->slice_first_abs, 1) / 1000.0;
    oa_strlcpy(f->slice.state, "done", sizeof(f->slice.state));
    if (f->nslices == f->capslices) {
        f->capslices = f->capslices ? 2 * f->capslices : 64;
        f->slices = oa_realloc(f->slices, f->capslices * sizeof(*f->slices));
    }
    f->slices[f->nslices++] =
        (struct wslice){oa_strdup(f->slice.object), f->slice.duration, f->slice.discontinuity};
    struct rec_wevent *ev = event_new(w, RW_SLICE_DONE);
    ev->slice = f->slice;
    post(ev);
    return r;
}

static int open_mux(struct rec_writer *w, struct wfile *f)
{
    int err = 0;
    f->mux = mux_open(f->cfg.fmt == REC_MP4 ? "mp4" : "mpegts", w->vhdr, w->ahdr, mux_out, f, &err);
    return f->mux ? 0 : err;
}

/* A new TS slice at this keyframe; newrun also restarts the muxer (new codec headers). */
static int slice_cut(struct rec_writer *w, struct wfile *f, const struct packet *pkt, int64_t wall,
                     bool newrun)
{
    int r = newrun ? mux_close(f->mux) : mux_flush(f->mux);
    if (newrun)
        f->mux = NULL;
    int r2 = slice_finish(w, f, pkt->ts);
    if (!r)
        r = r2;
    if (f->nslices) {
        int r3 = playlist_put(w, f);
        if (r3)
            post_error(w, f, "cannot write playlist", r3);
    }
    f->newrun_pending = false;
    if (r)
        return f->err = r;
    if ((r = slice_open(w, f, pkt, wall, newrun)) != 0)
        return r;
    if (newrun && (r = open_mux(w, f)) != 0) {
        post_error(w, f, "cannot start the muxer for the new codec headers", r);
        f->err = r;
    }
    return r;
}

/* ===== files ===== */

static void held_release(struct wfile *f)
{
    for (size_t i = 0; i < f->nheld; i++)
        packet_unref(&f->held[i].pkt);
    f->nheld = 0;
}

static void hold(struct wfile *f, struct packet *pkt, int64_t wall)
{
    if (!f->held)
        f->held = oa_calloc(HELD_MAX, sizeof(*f->held));
    /*
     * Bounded: a stream whose keyframe never comes keeps only its latest
     * audio. A settling file is never cut short here: settled() ends it
     * before the list is full.
     */
    while (!f->settling && f->nheld &&
           (f->nheld == HELD_MAX || (int64_t)pkt->ts - (int64_t)f->held[0].pkt->ts > HELD_MAX_MS)) {
        packet_unref(&f->held[0].pkt);
        memmove(f->held, f->held + 1, --f->nheld * sizeof(*f->held));
    }
    if (f->nheld < HELD_MAX)
        f->held[f->nheld++] = (struct held){packet_ref(pkt), wall};
}

/* Stable, by timestamp: each stream keeps its order, late audio moves before the keyframe. */
static void held_sort(struct wfile *f)
{
    for (size_t i = 1; i < f->nheld; i++) {
        struct held h = f->held[i];
        size_t j = i;
        for (; j > 0 && (int64_t)f->held[j - 1].pkt->ts > (int64_t)h.pkt->ts; j--)
            f->held[j] = f->held[j - 1];
        f->held[j] = h;
    }
}

/* A settling file may begin: an audio frame at or after the keyframe came, or enough video. */
static bool settled(const struct rec_writer *w, const struct wfile *f, const struct packet *last)
{
    if (!w->vhdr || !w->ahdr || f->nheld >= HELD_MAX)
        return true; /* one kind of frame only: nothing arrives late */
    if (last->type == PKT_AUDIO)
        return (int64_t)last->ts >= f->settle_ts;
    return (int64_t)last->ts >= f->settle_ts + SETTLE_MS;
}

static void file_reset(struct wfile *f)
{
    for (size_t i = 0; i < f->nslices; i++)
        oa_free(f->slices[i].object);
    oa_free(f->slices);
    f->slices = NULL;
    f->nslices = f->capslices = 0;
    f->open = f->settling = false;
    f->out = NULL;
    f->out_err = 0;
    f->mux = NULL;
    f->err = 0;
    f->cut_requested = f->newrun_pending = f->hdr_cut = f->waiting_key = false;
    f->slice_live = false;
    oa_buf_reset(&f->buf);
}

static void file_write(struct rec_writer *w, struct wfile *f, const struct packet *pkt,
                       int64_t wall);

/*
 * Opens f with the held packets (a keyframe, audio around it), the earliest
 * timestamp being the file's 0. The row is announced to the loop; the
 * object is created when the loop has written it.
 */
static void file_begin(struct rec_writer *w, struct wfile *f)
{
    f->settling = false;
    if (!f->nheld)
        return;
    held_sort(f);
    struct rec_file *row = &f->row;
    memset(row, 0, sizeof(*row));
    oa_uuid_lower(row->record_id);
    oa_strlcpy(row->kind, "file", sizeof(row->kind));
    oa_strlcpy(row->state, "recording", sizeof(row->state));
    row->account_id = w->p.account_id;
    oa_strlcpy(row->domain, w->p.domain, sizeof(row->domain));
    oa_strlcpy(row->app, w->p.app, sizeof(row->app));
    oa_strlcpy(row->stream, w->p.stream, sizeof(row->stream));
    oa_strlcpy(row->format, rec_fmt_name(f->cfg.fmt), sizeof(row->format));
    oa_strlcpy(row->endpoint, w->p.endpoint, sizeof(row->endpoint));
    oa_strlcpy(row->bucket, w->p.bucket, sizeof(row->bucket));
    oa_strlcpy(row->object_prefix, f->cfg.object_prefix, sizeof(row->object_prefix));
    oa_strlcpy(row->push_args, w->p.push_args, sizeof(row->push_args));
    row->seq = atomic_fetch_add(&w->p.seq->file[f->cfg.fmt], 1);
    /* The picture size the file starts with (headers may change later: FLV and m3u8 go on). */
    struct avc_config c;
    if (w->vhdr && packet_codec(w->vhdr) == FLV_VIDEO_CODEC_AVC && w->vhdr->size > 5 &&
        avc_parse_config(w->vhdr->data + 5, w->vhdr->size - 5, &c) == 0) {
        row->width = c.width;
        row->height = c.height;
    }
    int64_t wall = f->held[0].wall;
    row->start_ms = wall;
    row->created = wall / 1000;
    f->base_ts = f->held[0].pkt->ts;
    f->last_abs = f->base_ts;
    f->last_rel = f->first_vrel = f->last_vrel = f->last_arel = f->last_adelta = 0;
    f->vframes = f->aframes = 0;
    f->last_wall = wall;
    f->err = f->out_err = 0;
    f->out = NULL;
    f->dirty = false;
    f->last_sync_ms = oa_mono_ms();

    struct rec_tmpl_vars v = {w->p.app, w->p.stream, row->seq, wall, -1, wall / 1000};
    int r = rec_object_name(f->cfg.object_prefix, &v, ext_of(f->cfg.fmt), row->object,
                            sizeof(row->object));
    if (r) {
        post_error(w, f, "cannot name the file", r);
        goto fail;
    }
    if (f->cfg.fmt == REC_FLV) {
        uint8_t h[13];
        rec_flv_file_header(h, w->ahdr != NULL, w->vhdr != NULL);
        r = out_append(f, h, sizeof(h));
        struct packet *hdrs[3] = {w->meta, w->vhdr, w->ahdr};
        for (int i = 0; i < 3 && !r; i++) {
            if (hdrs[i])
                r = flv_tag(f, hdrs[i], 0);
        }
    } else if ((r = open_mux(w, f)) != 0) {
        post_error(w, f, "cannot start the muxer (H.264/AAC only)", r);
        goto fail;
    }
    if (r)
        goto fail;
    /* From here on the loop knows the file: every path ends in file_finish(). */
    atomic_store(&f->row_ack, 0);
    struct rec_wevent *ev = event_new(w, RW_FILE_OPEN);
    ev->file = *row;
    ev->ack = &f->row_ack;
    post(ev);
    f->open = true;
    if (f->cfg.fmt == REC_M3U8 && slice_open(w, f, f->held[0].pkt, wall, false) != 0) {
        held_release(f);
        return;
    }
    for (size_t i = 0; i < f->nheld && !f->err; i++)
        file_write(w, f, f->held[i].pkt, f->held[i].wall);
    held_release(f);
    return;

fail:
    mux_close(f->mux);
    held_release(f);
    file_reset(f);
    f->retry_after = oa_mono_ms() + OPEN_RETRY_MS;
}

/* Finishes f: trailer, fsync, a free final name, the VOD playlist; posts RW_FILE_FINISH. */
static void file_finish(struct rec_writer *w, struct wfile *f)
{
    if (f->settling)
        file_begin(w, f);
    if (!f->open)
        return;
    int r = 0;
    if (f->mux) {
        r = mux_close(f->mux);
        f->mux = NULL;
    }
    int64_t fm = frame_ms(f);
    bool created;
    if (f->cfg.fmt == REC_M3U8) {
        int r2 = slice_finish(w, f, -1);
        if (!r)
            r = r2;
        created = f->nslices > 0;
    } else {
        int r2 = out_complete(f);
        created = f->out != NULL;
        if (f->out) {
            int r3 = storage()->finish(f->out);
            f->out = NULL;
            if (!r2)
                r2 = r3;
        }
        if (!r)
            r = r2;
    }
    if (r)
        post_error(w, f, "error while finishing", r);
    /* out_complete() waited for the loop's answer: without a row nothing was created. */
    if (atomic_load(&f->row_ack) < 0) {
        file_reset(f);
        return;
    }
    if (created)
        rec_fault("file_finished");

    struct rec_file *row = &f->row;
    row->end_ms = OA_MAX(f->last_wall + fm, row->start_ms);
    row->duration = (double)(f->last_rel + fm) / 1000.0;
    struct rec_tmpl_vars v = {w->p.app,      w->p.stream, row->seq,
                              row->start_ms, row->end_ms, row->start_ms / 1000};
    char final[REC_OBJECT_MAX];
    r = rec_object_name(f->cfg.object_prefix, &v, ext_of(f->cfg.fmt), final, sizeof(final));
    if (!r)
        r = rec_free_name(w->p.bucket, final, ext_of(f->cfg.fmt), row->final_object,
                          sizeof(row->final_object));
    if (r) {
        post_error(w, f, "cannot find a final name; the file keeps its temporary one", r);
        oa_strlcpy(row->final_object, row->object, sizeof(row->final_object));
    }
    oa_strlcpy(row->state, "finishing", sizeof(row->state));
    struct rec_wevent *ev = event_new(w, RW_FILE_FINISH);
    if (f->cfg.fmt == REC_M3U8 && created) {
        struct oa_buf b = OA_BUF_INIT(PLAYLIST_MAX);
        if (playlist_build(f, row->final_object, true, &b) == 0)
            ev->playlist = oa_buf_steal(&b, &ev->playlist_len);
        else
            post_error(w, f, "cannot build the final playlist", OA_ETOOBIG);
        oa_buf_free(&b);
    }
    ev->file = *row;
    ev->video_frames = f->vframes;
    ev->audio_frames = f->aframes;
    post(ev);
    file_reset(f);
}

/* A write failed: the file is finished where it is, a new one may start in OPEN_RETRY_MS. */
static void fail_file(struct rec_writer *w, struct wfile *f)
{
    if (!f->err)
        return;
    post_error(w, f, "write failed; the file is finished here", f->err);
    f->err = 0;
    file_finish(w, f);
    f->retry_after = oa_mono_ms() + OPEN_RETRY_MS;
}

static void file_write(struct rec_writer *w, struct wfile *f, const struct packet *pkt,
                       int64_t wall)
{
    /* Only a publisher's timestamps going backwards can put a frame before the file's 0. */
    int64_t rel = OA_MAX((int64_t)pkt->ts - f->base_ts, 0);
    int r;
    if (f->cfg.fmt == REC_FLV) {
        r = flv_tag(f, pkt, (uint32_t)rel);
    } else {
        /* A PES boundary (TS; MP4 ends its fragments itself) at each keyframe: durable up to it. */
        r = packet_is_video_key(pkt) && f->vframes && f->cfg.fmt != REC_MP4 ? mux_flush(f->mux) : 0;
        if (!r)
            r = mux_write(f->mux, pkt, pkt->ts < f->base_ts ? -(int64_t)pkt->ts : -f->base_ts);
        if (r == OA_EPROTO)
            r = 0; /* a truncated frame is skipped by the muxer, not fatal */
    }
    if (r) {
        f->err = r;
        return;
    }
    if (pkt->type == PKT_VIDEO) {
        if (!f->vframes)
            f->first_vrel = rel;
        f->last_vrel = rel;
        f->vframes++;
    } else {
        if (f->aframes)
            f->last_adelta = rel - f->last_arel;
        f->last_arel = rel;
        f->aframes++;
    }
    f->last_rel = OA_MAX(f->last_rel, rel);
    f->last_abs = OA_MAX(f->last_abs, (int64_t)pkt->ts);
    f->last_wall = wall;
}

/* pkt (a keyframe, or audio without video) starts a file: held until the file settles. */
static void file_start(struct rec_writer *w, struct wfile *f, struct packet *pkt, int64_t wall)
{
    if (oa_mono_ms() < f->retry_after)
        return;
    f->hdr_cut = false;
    f->settling = true;
    f->settle_ts = pkt->ts;
    hold(f, pkt, wall);
    if (settled(w, f, pkt))
        file_begin(w, f);
}

static void file_packet(struct rec_writer *w, struct wfile *f, struct packet *pkt, int64_t wall)
{
    bool has_video = w->vhdr != NULL;
    bool key = packet_is_video_key(pkt), audio = pkt->type == PKT_AUDIO;
    bool boundary = has_video ? key : audio;
    if (f->settling) {
        hold(f, pkt, wall);
        if (settled(w, f, pkt))
            file_begin(w, f);
        fail_file(w, f);
        return;
    }
    if (!f->open) {
        if (boundary)
            file_start(w, f, pkt, wall);
        else if (has_video && audio)
            hold(f, pkt, wall); /* video must start on a keyframe; audio waits for it */
        fail_file(w, f);
        return;
    }
    if (f->waiting_key) {
        /* Back after an interruption: video resumes on a keyframe, audio at once. */
        if (pkt->type == PKT_VIDEO && !key)
            return;
        f->waiting_key = !boundary;
    }
    if (!boundary) {
        if (f->hdr_cut && audio)
            hold(f, pkt, wall); /* made with the new headers: it goes where they start */
        else
            file_write(w, f, pkt, wall);
        fail_file(w, f);
        return;
    }
    struct rec_cut_in in = {
        .has_video = has_video,
        .is_key = key,
        .is_audio = audio,
        .file_elapsed_ms = (int64_t)pkt->ts - f->base_ts,
        .slice_elapsed_ms = (int64_t)pkt->ts - f->slice_first_abs,
        .cycle_ms = (int64_t)f->cfg.cycle_s * 1000,
        .slice_ms = f->cfg.fmt == REC_M3U8 ? (int64_t)f->cfg.slice_s * 1000 : 0,
        .frame_ms = frame_ms(f),
        .cut_requested = f->cut_requested,
    };
    enum rec_cut cut = rec_cut_decide(&in);
    if (cut == REC_CUT_FILE) {
        file_finish(w, f);
        /* Audio held for new headers joins the keyframe in the new file. */
        file_start(w, f, pkt, wall);
        fail_file(w, f);
        return;
    }
    if (f->cfg.fmt == REC_M3U8 && (cut == REC_CUT_SLICE || f->newrun_pending)) {
        bool newrun = f->newrun_pending;
        f->hdr_cut = false;
        if (slice_cut(w, f, pkt, wall, newrun) == 0 && newrun && f->nheld) {
            hold(f, pkt, wall);
            held_sort(f);
            for (size_t i = 0; i < f->nheld && !f->err; i++)
                file_write(w, f, f->held[i].pkt, f->held[i].wall);
            held_release(f);
            fail_file(w, f);
            return;
        }
    }
    if (!f->err)
        file_write(w, f, pkt, wall);
    fail_file(w, f);
}

static bool same_bytes(const struct packet *a, const struct packet *b)
{
    return a && b && a->size == b->size && memcmp(a->data, b->data, a->size) == 0;
}

static void rec_header(struct rec_writer *w, struct packet *pkt)
{
    struct packet **slot = pkt->type == PKT_META    ? &w->meta
                           : pkt->type == PKT_VIDEO ? &w->vhdr
                                                    : &w->ahdr;
    bool changed = !same_bytes(*slot, pkt);
    for (int i = 0; i < w->nfiles && changed; i++) {
        struct wfile *f = &w->files[i];
        /* Held frames were made with the old headers: a settling file begins with those. */
        if (f->settling) {
            file_begin(w, f);
            fail_file(w, f);
        } else if (!f->open && pkt->type == PKT_AUDIO) {
            held_release(f);
        }
    }
    packet_unref(slot);
    *slot = packet_ref(pkt);
    for (int i = 0; i < w->nfiles; i++) {
        struct wfile *f = &w->files[i];
        if (!f->open || !changed)
            continue;
        if (f->cfg.fmt == REC_FLV) {
            /* FLV carries new headers and metadata in-band, at the current position. */
            flv_tag(f, pkt, (uint32_t)f->last_rel);
            fail_file(w, f);
        } else if (pkt->type == PKT_META) {
            continue; /* MP4 and TS have no place for it */
        } else if (f->cfg.fmt == REC_MP4) {
            f->cut_requested = f->hdr_cut = true;
        } else {
            f->newrun_pending = f->hdr_cut = true;
        }
    }
}

static void rec_packet(struct rec_writer *w, struct packet *pkt, int64_t wall_ms, uint32_t live_ts)
{
    if (pkt->type == PKT_META ||
        ((pkt->type == PKT_VIDEO || pkt->type == PKT_AUDIO) && (pkt->flags & PKT_F_SEQHDR))) {
        rec_header(w, pkt);
        return;
    }
    if (pkt->type != PKT_VIDEO && pkt->type != PKT_AUDIO)
        return;
    /* Date the packet by its distance from the newest timestamp the loop had seen. */
    int64_t wall = wall_ms - OA_MAX((int64_t)(int32_t)(live_ts - pkt->ts), 0);
    for (int i = 0; i < w->nfiles; i++)
        file_packet(w, &w->files[i], pkt, wall);
    if (WR.stall_ms)
        usleep((useconds_t)WR.stall_ms * 1000);
}

/* ===== the thread ===== */

static void rec_free(struct rec_writer *w)
{
    for (int i = 0; i < w->nfiles; i++) {
        oa_buf_free(&w->files[i].buf);
        held_release(&w->files[i]);
        oa_free(w->files[i].held);
    }
    packet_unref(&w->meta);
    packet_unref(&w->vhdr);
    packet_unref(&w->ahdr);
    oa_free(w);
}

static void handle(struct wthread *t, struct item *it)
{
    struct rec_writer *w = it->w;
    switch (it->kind) {
    case IT_OPEN:
        w->prev = NULL;
        w->next = t->recs;
        if (t->recs)
            t->recs->prev = w;
        t->recs = w;
        break;
    case IT_PACKET:
        rec_packet(w, it->pkt, it->wall_ms, it->live_ts);
        atomic_store(&w->done_ts, (int64_t)it->pkt->ts);
        atomic_fetch_sub(&w->queued_bytes, (int64_t)it->pkt->flv_len);
        atomic_fetch_sub(&t->queued_bytes, (int64_t)it->pkt->flv_len);
        packet_unref(&it->pkt);
        break;
    case IT_CUT:
        for (int i = 0; i < w->nfiles; i++)
            w->files[i].cut_requested = w->files[i].open;
        break;
    case IT_PAUSE:
        for (int i = 0; i < w->nfiles; i++) {
            struct wfile *f = &w->files[i];
            if (f->settling)
                file_begin(w, f);
            if (f->open) {
                if (f->mux)
                    mux_flush(f->mux);
                out_sync(f);
                f->waiting_key = true;
            }
            fail_file(w, f);
        }
        break;
    case IT_CLOSE:
        for (int i = 0; i < w->nfiles; i++)
            file_finish(w, &w->files[i]);
        if (w->prev)
            w->prev->next = w->next;
        else
            t->recs = w->next;
        if (w->next)
            w->next->prev = w->prev;
        rec_free(w);
        break;
    }
}

/* After a batch: write out buffered bytes (creating objects the loop has rows for), fsync what is
 * due. */
static void after_batch(struct wthread *t)
{
    int64_t now = oa_mono_ms();
    for (struct rec_writer *w = t->recs; w; w = w->next) {
        for (int i = 0; i < w->nfiles; i++) {
            struct wfile *f = &w->files[i];
            if (!f->open)
                continue;
            if (oa_cfg.record_fsync_ms > 0 && now - f->last_sync_ms >= oa_cfg.record_fsync_ms)
                out_sync(f);
            else
                out_flush(f);
            fail_file(w, f);
        }
    }
}

static void *thread_main(void *arg)
{
    struct wthread *t = arg;
    for (;;) {
        pthread_mutex_lock(&t->mu);
        if (!t->head && !t->stopping) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            ts.tv_nsec += IDLE_WAKE_MS * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            t->waiting = true;
            pthread_cond_timedwait(&t->cv, &t->mu, &ts);
            t->waiting = false;
        }
        struct item *list = t->head;
        t->head = t->tail = NULL;
        bool stop = t->stopping;
        pthread_mutex_unlock(&t->mu);
        for (struct item *it = list, *next; it; it = next) {
            next = it->next;
            handle(t, it);
            oa_free(it);
        }
        after_batch(t);
        if (!list && stop)
            break;
    }
    /* Recordings never closed (the loop went away first): finish their files anyway. */
    while (t->recs) {
        struct item it = {NULL, IT_CLOSE, t->recs, NULL, 0, 0};
        handle(t, &it);
    }
    atomic_store(&t->exited, true);
    return NULL;
}

/* Turn-end hook: hands each thread what the turn queued, with one lock and one signal. */
static void handover(void *arg)
{
    for (int i = 0; i < WR.n; i++) {
        struct wthread *t = &WR.t[i];
        if (!t->phead)
            continue;
        pthread_mutex_lock(&t->mu);
        if (t->tail)
            t->tail->next = t->phead;
        else
            t->head = t->phead;
        t->tail = t->ptail;
        if (t->waiting)
            pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
        t->phead = t->ptail = NULL;
    }
}

int rec_writers_start(int nthreads, rec_wevent_fn *fn)
{
    WR.stall_ms = oa_cfg.record_fault_write_delay_ms;
    WR.fn = fn;
    WR.t = oa_calloc((size_t)nthreads, sizeof(*WR.t));
    for (int i = 0; i < nthreads; i++) {
        struct wthread *t = &WR.t[i];
        pthread_condattr_t ca;
        pthread_condattr_init(&ca);
        pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
        pthread_mutex_init(&t->mu, NULL);
        pthread_cond_init(&t->cv, &ca);
        pthread_condattr_destroy(&ca);
        atomic_init(&t->exited, false);
        if (pthread_create(&t->th, NULL, thread_main, t) != 0) {
            oa_log(OA_LOG_ERROR, "record: cannot start writer thread %d", i);
            return OA_EINVAL;
        }
        WR.n++;
    }
    oa_loop_on_turn_end(handover, NULL);
    WR.started = true;
    return 0;
}

void rec_writers_stop(void)
{
    if (!WR.started)
        return;
    oa_loop_off_turn_end(handover, NULL);
    handover(NULL);
    for (int i = 0; i < WR.n; i++) {
        struct wthread *t = &WR.t[i];
        pthread_mutex_lock(&t->mu);
        t->stopping = true;
        pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
    }
    /*
     * The threads finish their files, and finishing waits for the loop's
     * answers to the last opens: run the loop's posts here until every
     * thread is done, then once more for what they posted last.
     */
    for (;;) {
        bool running = false;
        for (int i = 0; i < WR.n; i++)
            running = running || !atomic_load(&WR.t[i].exited);
        oa_loop_drain_posts();
        if (!running)
            break;
        usleep(1000);
    }
    for (int i = 0; i < WR.n; i++) {
        pthread_join(WR.t[i].th, NULL);
        pthread_mutex_destroy(&WR.t[i].mu);
        pthread_cond_destroy(&WR.t[i].cv);
    }
    oa_free(WR.t);
    WR.t = NULL;
    WR.n = 0;
    WR.started = false;
}

/* ===== loop side ===== */

static void enqueue(struct rec_writer *w, enum item_kind kind, struct packet *pkt, int64_t wall,
                    uint32_t live_ts)
{
    struct wthread *t = w->t;
    struct item *it = oa_malloc(sizeof(*it));
    *it = (struct item){NULL, (uint8_t)kind, w, pkt, wall, live_ts};
    if (t->ptail)
        t->ptail->next = it;
    else
        t->phead = it;
    t->ptail = it;
}

struct rec_writer *rec_writer_open(const struct rec_writer_params *p, const char *key)
{
    OA_ASSERT(WR.started);
    struct rec_writer *w = oa_calloc(1, sizeof(*w));
    w->t = &WR.t[oa_hash(key, strlen(key)) % (uint64_t)WR.n];
    w->p = *p;
    w->nfiles = p->nformats;
    for (int i = 0; i < w->nfiles; i++) {
        w->files[i].w = w;
        w->files[i].cfg = p->formats[i];
        oa_buf_init(&w->files[i].buf, OUT_BUF_MAX);
    }
    atomic_init(&w->queued_bytes, 0);
    atomic_init(&w->done_ts, -1);
    w->first_enq_ts = -1;
    enqueue(w, IT_OPEN, NULL, 0, 0);
    return w;
}

void rec_writer_packet(struct rec_writer *w, struct packet *pkt, int64_t wall_ms, uint32_t live_ts)
{
    if (w->first_enq_ts < 0)
        w->first_enq_ts = pkt->ts;
    atomic_fetch_add(&w->queued_bytes, (int64_t)pkt->flv_len);
    atomic_fetch_add(&w->t->queued_bytes, (int64_t)pkt->flv_len);
    enqueue(w, IT_PACKET, packet_ref(pkt), wall_ms, live_ts);
}

void rec_writer_cut(struct rec_writer *w)
{
    enqueue(w, IT_CUT, NULL, 0, 0);
}

void rec_writer_pause(struct rec_writer *w)
{
    enqueue(w, IT_PAUSE, NULL, 0, 0);
}

void rec_writer_close(struct rec_writer *w)
{
    enqueue(w, IT_CLOSE, NULL, 0, 0);
}

int rec_writer_backlog(struct rec_writer *w, uint32_t newest_ts)
{
    int64_t done = atomic_load(&w->done_ts);
    int64_t from = done >= 0 ? done : w->first_enq_ts;
    int64_t ms = from >= 0 ? (int64_t)(int32_t)(newest_ts - (uint32_t)from) : 0;
    int64_t pct = OA_MAX(ms, 0) * 100 / OA_MAX(oa_cfg.record_queue_ms, 1);
    pct = OA_MAX(pct, atomic_load(&w->queued_bytes) * 100 / oa_cfg.record_queue_bytes);
    pct = OA_MAX(pct, atomic_load(&w->t->queued_bytes) * 100 / oa_cfg.record_thread_queue_bytes);
    return (int)OA_MIN(pct, 1000000);
}
