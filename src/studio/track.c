/*
 * track.c - the per-input picture queue, audio ring and clock mapping.
 *
 * The audio ring is split into blocks; each block remembers which absolute
 * block index it last held. A writer touching a block for a new index clears
 * it first, and a reader treats a block holding another index as silence.
 * That makes "not written" cheap to detect without ever clearing the ring
 * from the reader side, which matters because several scenes read it.
 */
#include "track.h"
#include "core/alloc.h"

#include <libavutil/frame.h>
#include <pthread.h>

#define RING_SAMPLES (1 << 17)
#define BLOCK 256
#define NBLOCKS (RING_SAMPLES / BLOCK)
/* Frames later than this re-anchor the mapping at once. */
#define RESYNC_US 1000000
/* A picture superseded this long before the readers' time is never picked again. */
#define OBSOLETE_US 100000
/* Audio off by more than this, one way, for AUDIO_FINE_FRAMES writes in a row is realigned. */
#define AUDIO_FINE_US 2000
#define AUDIO_FINE_FRAMES 16
/* Window over which consistent lateness moves the mapping. */
#define WINDOW_US 1000000

struct vslot {
    AVFrame *f;
    int64_t t_us;
};

struct studio_track {
    pthread_mutex_t mu;
    int rate;
    /* video */
    struct vslot vq[TRACK_VQ_MAX];
    int vq_len;
    bool released; /* a queued picture was ever released (readers have been shown pictures) */
    AVFrame *still;
    uint64_t still_gen;
    int width, height;
    /* audio */
    float *ring[2];
    int64_t tag[NBLOCKS];
    int64_t next_pos;
    bool have_next;
    /* consecutive writes off the contiguous position in one direction */
    int off_frames, off_sign;
    int64_t off_min;
};

struct studio_track *studio_track_new(int sample_rate)
{
    struct studio_track *t = oa_calloc(1, sizeof(*t));
    pthread_mutex_init(&t->mu, NULL);
    t->rate = sample_rate;
    t->ring[0] = oa_calloc(RING_SAMPLES, sizeof(float));
    t->ring[1] = oa_calloc(RING_SAMPLES, sizeof(float));
    for (int i = 0; i < NBLOCKS; i++)
        t->tag[i] = INT64_MIN;
    return t;
}

void studio_track_free(struct studio_track *t)
{
    if (!t)
        return;
    for (int i = 0; i < t->vq_len; i++)
        av_frame_free(&t->vq[i].f);
    av_frame_free(&t->still);
    oa_free(t->ring[0]);
    oa_free(t->ring[1]);
    pthread_mutex_destroy(&t->mu);
    oa_free(t);
}

static AVFrame *frame_ref(AVFrame *f)
{
    AVFrame *r = av_frame_alloc();
    if (r && av_frame_ref(r, f) < 0)
        av_frame_free(&r);
    return r;
}

void studio_track_push_video(struct studio_track *t, AVFrame *f, int64_t t_us, int64_t now_us)
{
    AVFrame *r = frame_ref(f);
    if (!r)
        return;
    pthread_mutex_lock(&t->mu);
    if (t->vq_len == TRACK_VQ_MAX) {
        av_frame_free(&t->vq[0].f);
        memmove(&t->vq[0], &t->vq[1], (TRACK_VQ_MAX - 1) * sizeof(t->vq[0]));
        t->vq_len--;
        t->released = true;
    }
    t->vq[t->vq_len++] = (struct vslot){r, t_us};
    int64_t horizon = now_us - STUDIO_DELAY_US - OBSOLETE_US;
    while (t->vq_len > 1 && t->vq[1].t_us <= horizon) {
        av_frame_free(&t->vq[0].f);
        memmove(&t->vq[0], &t->vq[1], (size_t)(t->vq_len - 1) * sizeof(t->vq[0]));
        t->vq_len--;
        t->released = true;
    }
    t->width = f->width;
    t->height = f->height;
    av_frame_free(&t->still);
    pthread_mutex_unlock(&t->mu);
}

void studio_track_set_still(struct studio_track *t, AVFrame *f)
{
    AVFrame *r = frame_ref(f);
    if (!r)
        return;
    pthread_mutex_lock(&t->mu);
    for (int i = 0; i < t->vq_len; i++)
        av_frame_free(&t->vq[i].f);
    t->vq_len = 0;
    av_frame_free(&t->still);
    t->still = r;
    t->still_gen++;
    t->width = f->width;
    t->height = f->height;
    pthread_mutex_unlock(&t->mu);
}

void studio_track_pick(struct studio_track *t, int64_t t_us, struct studio_track_pick *out)
{
    memset(out, 0, sizeof(*out));
    out->age_us = INT64_MAX;
    pthread_mutex_lock(&t->mu);
    out->width = t->width;
    out->height = t->height;
    if (t->still) {
        out->frame = frame_ref(t->still);
        out->still = true;
        out->gen = t->still_gen;
        out->age_us = 0;
    } else {
        int pick = -1;
        for (int i = t->vq_len - 1; i >= 0; i--) {
            if (t->vq[i].t_us <= t_us) {
                pick = i;
                break;
            }
        }
        /*
         * Nothing is dropped here: scenes of one caster run on their own
         * clocks, and one slightly behind another must still find its
         * frame. The writer releases what nobody can want any more.
         */
        /*
         * Nothing due yet: either the input has just started - then nothing
         * is shown until its first picture is due, as its sound is not
         * heard before then either (the first picture shown early would
         * lead its sound by the whole presentation delay) - or this reader
         * runs late and the writer already released what it would have
         * picked: the oldest left is the nearest.
         */
        if (pick < 0 && t->vq_len > 0 && t->released)
            pick = 0;
        if (pick >= 0) {
            /*
             * The age of the picture itself: a source that resumes after a
             * stall has newer frames queued, but until they are due its old
             * picture is still stale.
             */
            out->frame = frame_ref(t->vq[pick].f);
            out->age_us = OA_MAX(t_us - t->vq[pick].t_us, 0);
        }
    }
    pthread_mutex_unlock(&t->mu);
}

void studio_track_peek(struct studio_track *t, int *width, int *height, bool *still)
{
    pthread_mutex_lock(&t->mu);
    *width = t->width;
    *height = t->height;
    *still = t->still != NULL;
    pthread_mutex_unlock(&t->mu);
}

static void ring_write(struct studio_track *t, int64_t pos, const float *l, const float *r, int n)
{
    while (n > 0) {
        int64_t b = pos >= 0 ? pos / BLOCK : -((-pos + BLOCK - 1) / BLOCK);
        int slot = (int)(((b % NBLOCKS) + NBLOCKS) % NBLOCKS);
        int off = (int)(pos - b * BLOCK);
        int k = OA_MIN(n, BLOCK - off);
        float *dl = t->ring[0] + (size_t)slot * BLOCK, *dr = t->ring[1] + (size_t)slot * BLOCK;
        if (t->tag[slot] != b) {
            memset(dl, 0, BLOCK * sizeof(float));
            memset(dr, 0, BLOCK * sizeof(float));
            t->tag[slot] = b;
        }
        memcpy(dl + off, l, (size_t)k * sizeof(float));
        memcpy(dr + off, r, (size_t)k * sizeof(float));
        pos += k;
        l += k;
        r += k;
        n -= k;
    }
}

void studio_track_push_audio(struct studio_track *t, const float *l, const float *r, int n,
                             int64_t t_us, int64_t now_us)
{
    if (n <= 0)
        return;
    int64_t pos = studio_track_pos(t_us, t->rate);
    int64_t slip = (int64_t)STUDIO_AUDIO_SLIP_US * t->rate / 1000000;
    int64_t fine = (int64_t)AUDIO_FINE_US * t->rate / 1000000;
    int64_t now = studio_track_pos(now_us, t->rate);
    pthread_mutex_lock(&t->mu);
    if (t->have_next) {
        int64_t err = pos - t->next_pos, mag = err < 0 ? -err : err;
        int sign = err < 0 ? -1 : 1;
        /*
         * Stay contiguous through timestamp jitter. An error that persists
         * with the same sign (the mapping settled differently after the
         * burst a source starts with, or the clocks drift) is corrected
         * after AUDIO_FINE_FRAMES writes by the smallest error seen, which
         * is the persistent part; a large error at once.
         */
        if (mag > slip) {
            t->off_frames = 0;
        } else if (mag <= fine || (t->off_frames && sign != t->off_sign)) {
            t->off_frames = 0;
            pos = t->next_pos;
        } else {
            if (t->off_frames == 0 || mag < t->off_min)
                t->off_min = mag;
            t->off_sign = sign;
            if (++t->off_frames < AUDIO_FINE_FRAMES) {
                pos = t->next_pos;
            } else {
                pos = t->next_pos + sign * t->off_min;
                t->off_frames = 0;
            }
        }
    }
    t->next_pos = pos + n;
    t->have_next = true;
    /* Only the window around now: older is useless, newer would wrap onto live data. */
    int64_t lo = now - RING_SAMPLES / 2, hi = now + RING_SAMPLES / 2;
    if (pos < lo) {
        int64_t skip = lo - pos;
        if (skip >= n)
            goto out;
        l += skip;
        r += skip;
        n -= (int)skip;
        pos = lo;
    }
    if (pos + n > hi)
        n = pos >= hi ? 0 : (int)(hi - pos);
    if (n > 0)
        ring_write(t, pos, l, r, n);
out:
    pthread_mutex_unlock(&t->mu);
}

void studio_track_audio_discontinuity(struct studio_track *t)
{
    pthread_mutex_lock(&t->mu);
    t->have_next = false;
    pthread_mutex_unlock(&t->mu);
}

void studio_track_mix(struct studio_track *t, int64_t pos, int n, float *const *out, int nch,
                      float vol, enum studio_channel ch)
{
    int done = 0;
    pthread_mutex_lock(&t->mu);
    while (done < n) {
        int64_t p = pos + done;
        int64_t b = p >= 0 ? p / BLOCK : -((-p + BLOCK - 1) / BLOCK);
        int slot = (int)(((b % NBLOCKS) + NBLOCKS) % NBLOCKS);
        int off = (int)(p - b * BLOCK);
        int k = OA_MIN(n - done, BLOCK - off);
        if (t->tag[slot] == b) {
            const float *l = t->ring[0] + (size_t)slot * BLOCK + off;
            const float *r = t->ring[1] + (size_t)slot * BLOCK + off;
            const float *a = ch == STUDIO_CHANNEL_RIGHT ? r : l;
            const float *c = ch == STUDIO_CHANNEL_LEFT ? l : r;
            if (nch >= 2) {
                float *o0 = out[0] + done, *o1 = out[1] + done;
                for (int i = 0; i < k; i++) {
                    o0[i] += vol * a[i];
                    o1[i] += vol * c[i];
                }
            } else {
                float *o0 = out[0] + done, h = vol * 0.5f;
                for (int i = 0; i < k; i++)
                    o0[i] += h * (a[i] + c[i]);
            }
        }
        done += k;
    }
    pthread_mutex_unlock(&t->mu);
}

void studio_clockmap_reset(struct studio_clockmap *c, bool paced)
{
    memset(c, 0, sizeof(*c));
    c->paced = paced;
}

int64_t studio_clockmap_map(struct studio_clockmap *c, int64_t pts_us, int64_t now_us)
{
    if (!c->mapped) {
        c->mapped = true;
        c->offset_us = now_us - pts_us;
        c->win_start_us = now_us;
        c->win_min_us = INT64_MAX;
        return now_us;
    }
    int64_t late = now_us - (pts_us + c->offset_us);
    if (late > RESYNC_US || late < (c->paced ? -RESYNC_US : 0)) {
        /* Earlier than ever (a new delay floor), or a jump: re-anchor on this frame. */
        c->offset_us += late;
        late = 0;
    }
    if (late < c->win_min_us)
        c->win_min_us = late;
    if (now_us - c->win_start_us >= WINDOW_US) {
        if (c->win_min_us > 0 && c->win_min_us != INT64_MAX)
            c->offset_us += c->win_min_us;
        c->win_start_us = now_us;
        c->win_min_us = INT64_MAX;
    }
    return pts_us + c->offset_us;
}
