/*
 * recover.c - crash recovery of recordings (see recover.h): rows are read
 * on the loop, files are repaired and measured on worker threads, and the
 * results go back to the loop, which hands each file to finish.h for its
 * final name - the same path a file finished normally takes.
 */
#include "recover.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "core/worker.h"
#include "record/config.h"
#include "record/finish.h"
#include "record/index.h"
#include "record/m3u8.h"
#include "record/notify.h"
#include "record/repair.h"
#include "record/storage.h"
#include "record/tmpl.h"
#include "record/writer.h"

#include <libavformat/avformat.h>

struct job_slice {
    struct rec_slice s;
    bool removed; /* empty: object and row deleted */
    bool changed; /* repaired: duration measured */
};

struct job {
    struct rec_file f;
    struct job_slice *slices;
    size_t nslices, cap;
    bool removed;      /* nothing playable: object and row deleted */
    uint8_t *playlist; /* m3u8: the VOD playlist for f.final_object */
    size_t playlist_len;
};

int rec_probe_file(const char *path, struct rec_probe *out)
{
    memset(out, 0, sizeof(*out));
    AVFormatContext *ic = NULL;
    if (avformat_open_input(&ic, path, NULL, NULL) < 0)
        return OA_ECODEC;
    if (avformat_find_stream_info(ic, NULL) < 0) {
        avformat_close_input(&ic);
        return OA_ECODEC;
    }
    int vi = av_find_best_stream(ic, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    int ai = av_find_best_stream(ic, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (vi >= 0) {
        out->width = ic->streams[vi]->codecpar->width;
        out->height = ic->streams[vi]->codecpar->height;
    }
    int main_index = vi >= 0 ? vi : ai;
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    AVPacket *pkt = av_packet_alloc();
    while (pkt && av_read_frame(ic, pkt) >= 0) {
        AVStream *st = ic->streams[pkt->stream_index];
        if (pkt->stream_index == vi)
            out->video_packets++;
        else if (pkt->stream_index == ai)
            out->audio_packets++;
        int64_t t = pkt->pts != AV_NOPTS_VALUE ? pkt->pts : pkt->dts;
        if (pkt->stream_index == main_index && t != AV_NOPTS_VALUE) {
            int64_t a = av_rescale_q(t, st->time_base, AV_TIME_BASE_Q);
            int64_t b = av_rescale_q(t + OA_MAX(pkt->duration, 0), st->time_base, AV_TIME_BASE_Q);
            lo = OA_MIN(lo, a);
            hi = OA_MAX(hi, b);
        }
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&ic);
    if (hi > lo)
        out->duration = (double)(hi - lo) / AV_TIME_BASE;
    return 0;
}

struct reader {
    const char *bucket, *object;
};

static int read_object(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    struct reader *rd = ctx;
    return storage()->read(rd->bucket, rd->object, off, buf, n, got);
}

/* Cuts an object to keep bytes (when shorter than size). */
static int truncate_to(const char *bucket, const char *object, uint64_t keep, uint64_t size)
{
    if (keep >= size)
        return 0;
    struct storage_writer *w;
    int r = storage()->reopen(bucket, object, keep, &w);
    return r ? r : storage()->finish(w);
}

static void probe_object(const char *bucket, const char *object, struct rec_probe *p)
{
    char path[2200];
    memset(p, 0, sizeof(*p));
    if (storage()->local_path && storage()->local_path(bucket, object, path, sizeof(path)) == 0)
        rec_probe_file(path, p);
}

static void repair_single(struct job *j)
{
    struct rec_file *f = &j->f;
    uint64_t size = 0, keep = 0;
    if (storage()->size(f->bucket, f->object, &size) != 0) {
        j->removed = true;
        return;
    }
    struct reader rd = {f->bucket, f->object};
    struct rec_flv_scan scan = {0};
    if (strcmp(f->format, "flv") == 0) {
        rec_repair_flv(read_object, &rd, size, &scan);
        keep = scan.video_frames || scan.audio_frames ? scan.good_len : 0;
    } else {
        rec_repair_fmp4(read_object, &rd, size, &keep);
    }
    if (keep == 0 || truncate_to(f->bucket, f->object, keep, size) != 0) {
        storage()->remove(f->bucket, f->object);
        j->removed = true;
        return;
    }
    struct rec_probe p;
    probe_object(f->bucket, f->object, &p);
    if (p.duration <= 0 && scan.good_len)
        p.duration = (double)rec_flv_scan_duration_ms(&scan) / 1000.0;
    if (!p.width && scan.width) {
        p.width = scan.width;
        p.height = scan.height;
    }
    f->duration = p.duration;
    f->width = p.width;
    f->height = p.height;
    f->size = (int64_t)keep;
}

static void repair_m3u8(struct job *j)
{
    struct rec_file *f = &j->f;
    double total = 0;
    size_t live = 0;
    for (size_t i = 0; i < j->nslices; i++) {
        struct job_slice *js = &j->slices[i];
        uint64_t size = 0;
        if (strcmp(js->s.state, "done") == 0 &&
            storage()->size(js->s.bucket, js->s.object, &size) == 0) {
            total += js->s.duration;
            f->size += (int64_t)size;
            live++;
            continue;
        }
        uint64_t keep = 0;
        struct reader rd = {js->s.bucket, js->s.object};
        if (storage()->size(js->s.bucket, js->s.object, &size) == 0 &&
            rec_repair_ts(read_object, &rd, size, &keep) != 0)
            keep = 0;
        struct rec_probe p = {0};
        if (keep && truncate_to(js->s.bucket, js->s.object, keep, size) == 0)
            probe_object(js->s.bucket, js->s.object, &p);
        if (p.duration <= 0) {
            storage()->remove(js->s.bucket, js->s.object);
            js->removed = true;
            continue;
        }
        js->s.duration = p.duration;
        oa_strlcpy(js->s.state, "done", sizeof(js->s.state));
        js->changed = true;
        total += p.duration;
        f->size += (int64_t)keep;
        live++;
        if (!f->width) {
            f->width = p.width;
            f->height = p.height;
        }
    }
    if (!f->width) {
        for (size_t i = 0; i < j->nslices && !f->width; i++) {
            struct rec_probe p;
            if (!j->slices[i].removed) {
                probe_object(j->slices[i].s.bucket, j->slices[i].s.object, &p);
                f->width = p.width;
                f->height = p.height;
            }
        }
    }
    f->duration = total;
    if (!live) {
        storage()->remove(f->bucket, f->object);
        j->removed = true;
    }
}

static bool exists(const char *bucket, const char *object)
{
    uint64_t size;
    return storage()->size(bucket, object, &size) == 0;
}

/*
 * Worker thread. A "recording" row: the file is cut back to what plays,
 * measured and given a free final name. A "finishing" row was complete and
 * measured; only its final step is missing (finish.h decides whether the
 * rename happened). m3u8: the open slice is repaired and the VOD playlist
 * built for the final name - the recorded one if there is one, since a
 * playlist may already stand under it.
 */
static void repair(void *arg)
{
    struct job *j = arg;
    struct rec_file *f = &j->f;
    bool m3u8 = strcmp(f->format, "m3u8") == 0;
    bool finishing = strcmp(f->state, "finishing") == 0 && f->final_object[0];
    if (m3u8) {
        struct rec_file row = *f;
        repair_m3u8(j);
        if (finishing && j->removed)
            storage()->remove(f->bucket, f->final_object);
        if (finishing && !j->removed) {
            /* Keep what the writer measured; the slices are the same. */
            f->duration = row.duration;
            f->width = row.width ? row.width : f->width;
            f->height = row.height ? row.height : f->height;
        }
    } else if (finishing) {
        if (!exists(f->bucket, f->object) && !exists(f->bucket, f->final_object))
            j->removed = true;
        return; /* finish.h completes or recognises the rename */
    } else {
        repair_single(j);
    }
    if (j->removed)
        return;
    if (!finishing)
        f->end_ms = f->start_ms + (int64_t)(f->duration * 1000.0 + 0.5);
    if (!(m3u8 && finishing)) {
        struct rec_tmpl_vars v = {f->app,      f->stream, f->seq,
                                  f->start_ms, f->end_ms, f->start_ms / 1000};
        char final[REC_OBJECT_MAX];
        const char *ext = m3u8 ? "m3u8" : f->format;
        if (rec_object_name(f->object_prefix[0] ? f->object_prefix : REC_DEFAULT_OBJECT_PREFIX, &v,
                            ext, final, sizeof(final)) != 0 ||
            strcmp(final, f->object) == 0 ||
            rec_free_name(f->bucket, final, ext, f->final_object, sizeof(f->final_object)) != 0)
            oa_strlcpy(f->final_object, f->object, sizeof(f->final_object));
    }
    if (!m3u8)
        return;
    struct rec_m3u8_entry *e = oa_calloc(j->nslices + 1, sizeof(*e));
    size_t n = 0;
    for (size_t i = 0; i < j->nslices; i++) {
        if (!j->slices[i].removed)
            e[n++] = (struct rec_m3u8_entry){j->slices[i].s.object, j->slices[i].s.duration,
                                             j->slices[i].s.discontinuity};
    }
    struct oa_buf b = OA_BUF_INIT(16u << 20);
    if (rec_m3u8_build(f->final_object, e, n, true, &b) == 0)
        j->playlist = oa_buf_steal(&b, &j->playlist_len);
    oa_buf_free(&b);
    oa_free(e);
}

/* Loop thread: slice rows updated, then the file's final step (finish.h). */
static void repaired(void *arg)
{
    struct job *j = arg;
    struct rec_file *f = &j->f;
    if (j->removed) {
        rec_slice_delete_file(f->record_id);
        rec_index_delete(f->record_id);
        oa_log(OA_LOG_INFO, "record: %s/%s/%s: interrupted %s file had nothing playable; removed",
               f->domain, f->app, f->stream, f->format);
    } else {
        for (size_t i = 0; i < j->nslices; i++) {
            struct job_slice *js = &j->slices[i];
            if (js->removed)
                rec_slice_delete(f->record_id, js->s.object);
            else if (js->changed)
                rec_slice_finish(f->record_id, js->s.object, js->s.duration);
        }
        rec_finish_begin(f, j->playlist, j->playlist_len, 0, 0, true);
        j->playlist = NULL;
    }
    oa_free(j->playlist);
    oa_free(j->slices);
    oa_free(j);
}

static void add_slice(const struct rec_slice *s, void *arg)
{
    struct job *j = arg;
    if (j->nslices == j->cap) {
        j->cap = j->cap ? 2 * j->cap : 32;
        j->slices = oa_realloc(j->slices, j->cap * sizeof(*j->slices));
    }
    j->slices[j->nslices++] = (struct job_slice){*s, false, false};
}

static void queue_one(const struct rec_file *f, void *arg)
{
    int *count = arg;
    struct job *j = oa_calloc(1, sizeof(*j));
    j->f = *f;
    if (strcmp(f->format, "m3u8") == 0)
        rec_slice_list_file(f->record_id, add_slice, j);
    if (oa_worker_submit(repair, repaired, j) != 0) {
        /* Left "recording": the next start tries again. */
        oa_log(OA_LOG_WARN, "record: cannot queue the repair of %s", f->object);
        oa_free(j->slices);
        oa_free(j);
        return;
    }
    (*count)++;
}

int rec_recover_start(void)
{
    int count = 0;
    int r = rec_index_foreach_recording(queue_one, &count);
    if (count)
        oa_log(OA_LOG_INFO, "record: repairing %d file(s) interrupted by a crash", count);
    return r;
}
