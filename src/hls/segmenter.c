/*
 * segmenter.c - cut rule, runs and the segment window of segmenter.h.
 *
 * The open segment is an oa_buf that the run's mux writes into. Finishing a
 * segment flushes the mux (pending PES out, tables again next) and steals
 * the buffer into a refcounted hls_segment appended to a small array, oldest
 * first. Timestamps are unwrapped from the 32-bit FLV milliseconds to 64
 * bits so that durations and the mux never see a wrap.
 */
#include "segmenter.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "media/mux.h"

/* Timing of one stream (audio or video) of the current publish. */
struct track_time {
    bool have;
    int64_t last;  /* last timestamp */
    int64_t step;  /* last step between packets */
    size_t n;      /* packets in the open segment */
    int64_t first; /* first timestamp in the open segment */
};

struct hls_segmenter {
    char label[800];
    int segment_ms;
    size_t window, keep;

    /* The current publish. */
    struct packet *vhdr, *ahdr; /* latest sequence headers */
    bool video_seen;            /* a video frame arrived during this publish */
    bool ended;
    bool have_ts;
    uint32_t last_raw;
    int64_t last_ext;

    /* The current run. */
    struct mux *mux;
    struct packet *mux_vhdr, *mux_ahdr; /* what the mux was opened with */
    bool open_failed;                   /* until the headers change: do not retry every frame */
    bool discontinuity;                 /* the next run's first segment follows an earlier one */

    /* The open segment. */
    struct oa_buf cur;
    bool cur_open;
    bool cur_discontinuity;
    int64_t cur_start;
    struct track_time vt, at;

    /* Finished segments, oldest first. */
    struct hls_segment **segs;
    size_t nsegs;
    uint64_t next_seq;
    uint64_t disc_dropped; /* discontinuities in segments released so far */
};

struct hls_segment *hls_segment_ref(struct hls_segment *seg)
{
    atomic_fetch_add_explicit(&seg->refs, 1, memory_order_relaxed);
    return seg;
}

void hls_segment_unref(struct hls_segment **pseg)
{
    struct hls_segment *seg = *pseg;
    if (!seg)
        return;
    *pseg = NULL;
    if (atomic_fetch_sub_explicit(&seg->refs, 1, memory_order_acq_rel) != 1)
        return;
    oa_free(seg->data);
    oa_free(seg);
}

struct hls_segmenter *hls_segmenter_new(const char *label, int segment_ms, int window)
{
    struct hls_segmenter *sg = oa_calloc(1, sizeof(*sg));
    oa_strlcpy(sg->label, label, sizeof(sg->label));
    sg->segment_ms = segment_ms > 0 ? segment_ms : 1;
    sg->window = window > 0 ? (size_t)window : 1;
    sg->keep = sg->window + HLS_EXTRA_SEGMENTS;
    sg->segs = oa_calloc(sg->keep + 1, sizeof(*sg->segs));
    oa_buf_init(&sg->cur, HLS_SEGMENT_MAX_BYTES);
    return sg;
}

static int mux_out(void *opaque, const uint8_t *buf, size_t len)
{
    struct hls_segmenter *sg = opaque;
    return oa_buf_append(&sg->cur, buf, len);
}

static bool same_header(const struct packet *a, const struct packet *b)
{
    if (!a || !b)
        return a == b;
    return a == b || (a->size == b->size && memcmp(a->data, b->data, a->size) == 0);
}

static bool headers_changed(const struct hls_segmenter *sg)
{
    return !same_header(sg->mux_vhdr, sg->vhdr) || !same_header(sg->mux_ahdr, sg->ahdr);
}

/* Extends a 32-bit millisecond timestamp to 64 bits, relative to the previous one. */
static int64_t unwrap(struct hls_segmenter *sg, uint32_t ts)
{
    if (!sg->have_ts) {
        sg->have_ts = true;
        sg->last_ext = ts;
    } else {
        sg->last_ext += (int32_t)(ts - sg->last_raw);
    }
    sg->last_raw = ts;
    return sg->last_ext;
}

static void add_segment(struct hls_segmenter *sg, struct hls_segment *seg)
{
    sg->segs[sg->nsegs++] = seg;
    while (sg->nsegs > sg->keep) {
        if (sg->segs[0]->discontinuity)
            sg->disc_dropped++;
        hls_segment_unref(&sg->segs[0]);
        memmove(sg->segs, sg->segs + 1, (sg->nsegs - 1) * sizeof(*sg->segs));
        sg->nsegs--;
    }
}

static void drop_open_segment(struct hls_segmenter *sg)
{
    oa_buf_free(&sg->cur);
    sg->cur_open = false;
}

/* Ends the run: closes the mux (its trailer bytes belong to no segment). */
static void close_run(struct hls_segmenter *sg)
{
    if (sg->mux) {
        mux_close(sg->mux);
        sg->mux = NULL;
        sg->discontinuity = true;
    }
    drop_open_segment(sg);
    packet_unref(&sg->mux_vhdr);
    packet_unref(&sg->mux_ahdr);
}

static void abort_run(struct hls_segmenter *sg, int err)
{
    oa_log(OA_LOG_WARN, "%s: segment dropped: %s", sg->label, oa_strerror(err));
    close_run(sg);
}

static void start_segment(struct hls_segmenter *sg, int64_t ts)
{
    sg->cur_open = true;
    sg->cur_start = ts;
    sg->vt.n = sg->at.n = 0;
    sg->cur_discontinuity = sg->discontinuity && sg->next_seq > 0;
    sg->discontinuity = false;
}

/* Closes the open segment, which ends at end_ms, and lists it. */
static int finish_segment(struct hls_segmenter *sg, int64_t end_ms)
{
    int r = mux_flush(sg->mux);
    if (r < 0) {
        abort_run(sg, r);
        return r;
    }
    struct hls_segment *seg = oa_calloc(1, sizeof(*seg));
    atomic_init(&seg->refs, 1);
    seg->seq = sg->next_seq++;
    seg->start_ms = sg->cur_start;
    seg->duration_ms = OA_MAX(end_ms - sg->cur_start, 1);
    seg->discontinuity = sg->cur_discontinuity;
    seg->data = oa_buf_steal(&sg->cur, &seg->len);
    /* The buffer grew by doubling; give back the slack of a segment kept for a while. */
    if (seg->len)
        seg->data = oa_realloc(seg->data, seg->len);
    sg->cur_open = false;
    add_segment(sg, seg);
    return 0;
}

/* Starts a new run at ts: ends the previous one, opens a mux, opens a segment. */
static int begin_run(struct hls_segmenter *sg, int64_t ts, bool with_video)
{
    if (sg->mux && sg->cur_open) {
        int r = finish_segment(sg, ts);
        if (r < 0)
            return r;
    }
    close_run(sg);
    if (sg->open_failed)
        return OA_ECODEC;
    int err = 0;
    sg->mux = mux_open("mpegts", with_video ? sg->vhdr : NULL, sg->ahdr, mux_out, sg, &err);
    if (!sg->mux) {
        oa_log(OA_LOG_WARN, "%s: cannot mux this stream: %s", sg->label, oa_strerror(err));
        sg->open_failed = true;
        drop_open_segment(sg);
        return err;
    }
    if (with_video && sg->vhdr)
        sg->mux_vhdr = packet_ref(sg->vhdr);
    if (sg->ahdr)
        sg->mux_ahdr = packet_ref(sg->ahdr);
    start_segment(sg, ts);
    return 0;
}

static int cut(struct hls_segmenter *sg, int64_t ts)
{
    int r = finish_segment(sg, ts);
    if (r < 0)
        return r;
    start_segment(sg, ts);
    return 0;
}

static void set_header(struct hls_segmenter *sg, struct packet **slot, const struct packet *pkt)
{
    if (same_header(*slot, pkt))
        return;
    packet_unref(slot);
    *slot = packet_ref((struct packet *)pkt);
    sg->open_failed = false;
}

/* Decides where pkt goes: a new run, a new segment, the open one, or nowhere (false). */
static bool place(struct hls_segmenter *sg, const struct packet *pkt, int64_t ts, int *err)
{
    /* Half a frame of slack: a keyframe 1999 ms into a 2000 ms segment is on time. */
    int64_t slack = (pkt->type == PKT_VIDEO ? sg->vt.step : sg->at.step) / 2;
    bool due = sg->cur_open && ts - sg->cur_start + slack >= sg->segment_ms;
    if (pkt->type == PKT_VIDEO) {
        if (packet_is_video_key(pkt)) {
            if (!sg->mux || headers_changed(sg) || !mux_has_video(sg->mux))
                *err = begin_run(sg, ts, true);
            else if (due)
                *err = cut(sg, ts);
        }
        return sg->mux && mux_has_video(sg->mux);
    }
    if (!sg->mux) {
        /* A stream that declared video starts at its first keyframe. */
        if (sg->vhdr || sg->video_seen)
            return false;
        *err = begin_run(sg, ts, false);
    } else if (!mux_has_video(sg->mux)) {
        /* Audio only; once video shows up, the next keyframe starts a new run. */
        if (!sg->vhdr && headers_changed(sg))
            *err = begin_run(sg, ts, false);
        else if (due)
            *err = cut(sg, ts);
    }
    return sg->mux != NULL;
}

int hls_segmenter_push(struct hls_segmenter *sg, const struct packet *pkt)
{
    if (sg->ended || (pkt->type != PKT_VIDEO && pkt->type != PKT_AUDIO))
        return 0;
    int codec = packet_codec(pkt);
    if (pkt->type == PKT_VIDEO && codec != FLV_VIDEO_CODEC_AVC)
        return 0;
    if (pkt->type == PKT_AUDIO && codec != FLV_AUDIO_CODEC_AAC)
        return 0;
    if (pkt->flags & PKT_F_SEQHDR) {
        set_header(sg, pkt->type == PKT_VIDEO ? &sg->vhdr : &sg->ahdr, pkt);
        return 0;
    }
    /*
     * Only frames with a payload may start or cut a segment: an AVC
     * end-of-sequence marker (which FLV flags as a keyframe) or an empty
     * frame must not.
     */
    size_t hlen = pkt->type == PKT_VIDEO ? 5 : 2;
    if (pkt->size < hlen)
        return OA_EPROTO;
    if (pkt->data[1] != 1 || pkt->size == hlen)
        return 0;
    if (pkt->type == PKT_VIDEO) {
        sg->video_seen = true;
        if (!sg->vhdr)
            return 0;
    } else if (!sg->ahdr) {
        return 0;
    }

    int64_t ts = unwrap(sg, pkt->ts);
    int err = 0;
    if (!place(sg, pkt, ts, &err) || err < 0)
        return err;
    err = mux_write(sg->mux, pkt, ts - (int64_t)pkt->ts);
    if (err < 0) {
        abort_run(sg, err);
        return err;
    }
    struct track_time *t = pkt->type == PKT_VIDEO ? &sg->vt : &sg->at;
    if (t->have && ts > t->last)
        t->step = ts - t->last;
    t->last = ts;
    t->have = true;
    if (t->n++ == 0)
        t->first = ts;
    return 0;
}

/*
 * Where the open segment ends when nothing follows it: one frame (the
 * segment's mean frame interval) after its last packet. Video defines the
 * timeline when there is video: audio frames that stick out a few ms past
 * the last picture would otherwise stretch the last segment.
 */
static int64_t open_segment_end(const struct hls_segmenter *sg)
{
    const struct track_time *t = sg->vt.n ? &sg->vt : &sg->at;
    if (t->n == 0)
        return sg->cur_start;
    int64_t frame = t->step;
    if (t->n > 1)
        frame = (t->last - t->first + (int64_t)(t->n - 1) / 2) / (int64_t)(t->n - 1);
    return t->last + frame;
}

void hls_segmenter_start(struct hls_segmenter *sg)
{
    if (sg->mux)
        hls_segmenter_end(sg);
    sg->ended = false;
    sg->discontinuity = sg->next_seq > 0;
    sg->video_seen = false;
    sg->have_ts = false;
    memset(&sg->vt, 0, sizeof(sg->vt));
    memset(&sg->at, 0, sizeof(sg->at));
    sg->open_failed = false;
    packet_unref(&sg->vhdr);
    packet_unref(&sg->ahdr);
}

void hls_segmenter_end(struct hls_segmenter *sg)
{
    if (sg->mux && sg->cur_open)
        finish_segment(sg, open_segment_end(sg));
    close_run(sg);
    sg->ended = true;
}

void hls_segmenter_free(struct hls_segmenter *sg)
{
    if (!sg)
        return;
    close_run(sg);
    for (size_t i = 0; i < sg->nsegs; i++)
        hls_segment_unref(&sg->segs[i]);
    oa_free(sg->segs);
    packet_unref(&sg->vhdr);
    packet_unref(&sg->ahdr);
    oa_free(sg);
}

bool hls_segmenter_ended(const struct hls_segmenter *sg)
{
    return sg->ended;
}

size_t hls_segmenter_count(const struct hls_segmenter *sg)
{
    return OA_MIN(sg->nsegs, sg->window);
}

uint64_t hls_segmenter_finished(const struct hls_segmenter *sg)
{
    return sg->next_seq;
}

struct hls_segment *hls_segmenter_find(const struct hls_segmenter *sg, uint64_t seq)
{
    if (sg->nsegs == 0 || seq < sg->segs[0]->seq)
        return NULL;
    uint64_t i = seq - sg->segs[0]->seq;
    return i < sg->nsegs ? sg->segs[i] : NULL;
}

int hls_segmenter_playlist(const struct hls_segmenter *sg, const char *name, const char *query,
                           struct oa_buf *out)
{
    size_t n = hls_segmenter_count(sg);
    if (n == 0)
        return OA_EAGAIN;
    size_t first = sg->nsegs - n;
    int64_t max_ms = 0;
    uint64_t disc = sg->disc_dropped;
    for (size_t i = 0; i < sg->nsegs; i++) {
        if (i < first)
            disc += sg->segs[i]->discontinuity;
        else
            max_ms = OA_MAX(max_ms, sg->segs[i]->duration_ms);
    }
    int r =
        oa_buf_printf(out,
                      "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:%lld\n"
                      "#EXT-X-MEDIA-SEQUENCE:%llu\n",
                      (long long)((max_ms + 999) / 1000), (unsigned long long)sg->segs[first]->seq);
    /* A player must be able to count discontinuities that left the window (RFC 8216 6.2.1). */
    if (!r && disc)
        r = oa_buf_printf(out, "#EXT-X-DISCONTINUITY-SEQUENCE:%llu\n", (unsigned long long)disc);
    bool q = query && query[0];
    for (size_t i = first; i < sg->nsegs && !r; i++) {
        const struct hls_segment *s = sg->segs[i];
        if (s->discontinuity)
            r = oa_buf_append_str(out, "#EXT-X-DISCONTINUITY\n");
        if (!r)
            r = oa_buf_printf(out, "#EXTINF:%lld.%03lld,\n%s/%llu.ts%s%s\n",
                              (long long)(s->duration_ms / 1000),
                              (long long)(s->duration_ms % 1000), name, (unsigned long long)s->seq,
                              q ? "?" : "", q ? query : "");
    }
    if (!r && sg->ended)
        r = oa_buf_append_str(out, "#EXT-X-ENDLIST\n");
    return r;
}
