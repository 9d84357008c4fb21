/*
 * scene.c - a scene's thread (compose, mix, encode on a steady clock) and
 * its publishing side on the loop thread.
 *
 * The canvas, the AAC frame and the packet buffers are allocated once; per
 * frame the thread only clears the canvas, draws each layer with swscale
 * straight into it (compose.c) and hands it to libx264, which copies it.
 * FLV packaging is done here: the AVC sequence header comes from the
 * encoder's extradata (AV_CODEC_FLAG_GLOBAL_HEADER), frames are converted
 * from Annex B to 4-byte AVCC, AAC gets 0xAF 0x00 + ASC then 0xAF 0x01 +
 * raw frames, and an onMetaData packet describes the stream.
 *
 * Posting to the loop can fail when its queue is full. The thread then
 * waits and tries again (it is not the loop thread, and its own clock lets
 * it catch up afterwards), so no output is ever lost; only a scene that is
 * being stopped gives up.
 *
 * With an output delay (PGM and SetCasterConfig Delay) the loop side holds
 * each batch's packets in a delay line (delay.h) before they enter the
 * hub, so the undelayed program is never a stream anyone could play.
 */
#include "scene.h"
#include "compose.h"
#include "delay.h"
#include "threads.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "hub/hub.h"
#include "media/avc.h"

#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>

#define BATCH_MAX 64
/*
 * A scene that falls behind (a busy machine) catches up by composing the
 * missed frames at once, so timestamps stay continuous; only beyond this
 * lag does it skip frame slots to get back to real time.
 */
#define MAX_LAG_NS 1000000000LL
/* How long a scene thread sleeps before posting again to a full loop queue. */
#define POST_RETRY_NS 2000000LL
#define AVCC_MAX (64 << 20)

struct studio_scene {
    _Atomic int refs;
    struct studio_bank *bank;
    struct studio_canvas canvas;
    char domain[256], app[256], name[256];
    /* stop flag and sleeping; mu guards the pending changes */
    struct studio_waiter w;
    struct studio_layout *pending_layout;
    struct studio_audio *pending_audio;
    _Atomic uint64_t frames, skipped, audio_frames, post_waits;
    /* loop thread only */
    struct hub_publisher pub;
    struct hub_stream *st;
    struct studio_delay *delay; /* NULL without an output delay */
    bool running;
    void *owner;
};

#define slog(s, level, fmt, ...)                                                                   \
    oa_log(level, "studio scene %s/%s/%s: " fmt, (s)->domain, (s)->app, (s)->name, ##__VA_ARGS__)

static void scene_unref(struct studio_scene **ps)
{
    struct studio_scene *s = *ps;
    if (!s)
        return;
    *ps = NULL;
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) != 1)
        return;
    oa_free(s->pending_layout);
    oa_free(s->pending_audio);
    studio_bank_unref(&s->bank);
    studio_waiter_destroy(&s->w);
    oa_free(s);
}

/* ===== the loop side ===== */

struct batch {
    struct studio_scene *scene;
    int n;
    struct packet *pkts[BATCH_MAX];
};

static void batch_run(void *arg)
{
    struct batch *b = arg;
    struct studio_scene *s = b->scene;
    for (int i = 0; i < b->n; i++) {
        if (s->st && s->delay)
            studio_delay_put(s->delay, b->pkts[i]);
        else if (s->st)
            hub_stream_push(s->st, b->pkts[i]);
        else
            packet_unref(&b->pkts[i]);
    }
    scene_unref(&s);
    oa_free(b);
}

/* The delay line hands over what is due (loop thread). */
static void delay_emit(void *arg, struct packet *pkt)
{
    struct studio_scene *s = arg;
    if (s->st)
        hub_stream_push(s->st, pkt);
    else
        packet_unref(&pkt);
}

/* Ends the output (loop thread); the thread is told to stop too. */
static void end_output(struct studio_scene *s, const char *why)
{
    studio_delay_free(s->delay);
    s->delay = NULL;
    if (s->st) {
        slog(s, OA_LOG_INFO, "output stopped: %s", why);
        struct hub_stream *st = s->st;
        s->st = NULL;
        hub_unpublish(st);
    }
    s->running = false;
    studio_waiter_stop(&s->w);
}

static void pub_kick(struct hub_publisher *pub, const char *why)
{
    struct studio_scene *s = oa_container_of(pub, struct studio_scene, pub);
    end_output(s, why);
}

static const struct hub_publisher_ops pub_ops = {pub_kick};

static void failed_run(void *arg)
{
    struct studio_scene *s = arg;
    end_output(s, "encoder failure");
    scene_unref(&s);
}

/* ===== the thread ===== */

struct run {
    struct studio_scene *s;
    struct studio_canvas cv;
    AVCodecContext *venc, *aenc;
    AVFrame *canvas, *aframe;
    AVPacket *pkt;
    struct studio_composer *comp;
    struct studio_layout layout;
    struct studio_audio audio;
    struct oa_buf buf;
    struct packet *meta, *vhdr, *ahdr;
    bool need_headers;
    int64_t t0_ns, n;
    /* Frame slots of real time the output has fallen back by (see scene_main). */
    int64_t shift;
    int64_t a_samples, apos0;
    int64_t a_last_pts; /* pts (samples) of the last AAC packet sent, -1 before the first */
    struct batch *batch;
    int64_t black_after_us;
};

static void batch_add(struct run *r, struct packet *p);

static void batch_flush(struct run *r)
{
    struct batch *b = r->batch;
    if (!b || b->n == 0)
        return;
    r->batch = NULL;
    /*
     * A frame's AAC packets (the encoder lags by a frame of samples) may be
     * older than its video frame: send the batch in timestamp order, so the
     * stream's tags never go back in time - the hub's GOP cache measures a
     * GOP from its keyframe, and FLV demuxers expect interleaved tags.
     * Stable, so the headers that open the first batch stay first.
     */
    for (int i = 1; i < b->n; i++) {
        struct packet *p = b->pkts[i];
        int j = i;
        for (; j > 0 && b->pkts[j - 1]->ts > p->ts; j--)
            b->pkts[j] = b->pkts[j - 1];
        b->pkts[j] = p;
    }
    atomic_fetch_add_explicit(&r->s->refs, 1, memory_order_relaxed);
    b->scene = r->s;
    bool waited = false;
    while (oa_loop_post(batch_run, b) != 0) {
        if (!waited) {
            waited = true;
            uint64_t n = atomic_fetch_add(&r->s->post_waits, 1);
            if (n % 100 == 0)
                slog(r->s, OA_LOG_WARN, "event loop busy: output waited %llu time(s)",
                     (unsigned long long)n + 1);
        }
        if (studio_waiter_sleep_until(&r->s->w, studio_mono_ns() + POST_RETRY_NS)) {
            /* Stopping: nobody will play this any more. */
            for (int i = 0; i < b->n; i++)
                packet_unref(&b->pkts[i]);
            oa_free(b);
            /* The thread's own reference keeps the scene alive: just undo the batch's. */
            atomic_fetch_sub_explicit(&r->s->refs, 1, memory_order_relaxed);
            return;
        }
    }
}

static void batch_add(struct run *r, struct packet *p)
{
    if (!r->batch) {
        r->batch = oa_calloc(1, sizeof(*r->batch));
        if (r->need_headers) {
            r->need_headers = false;
            r->batch->pkts[r->batch->n++] = packet_ref(r->meta);
            r->batch->pkts[r->batch->n++] = packet_ref(r->vhdr);
            r->batch->pkts[r->batch->n++] = packet_ref(r->ahdr);
        }
    }
    r->batch->pkts[r->batch->n++] = p;
    if (r->batch->n == BATCH_MAX)
        batch_flush(r);
}

/* --- AMF0 for onMetaData --- */

static void amf_str(struct oa_buf *b, const char *s)
{
    uint8_t h[3] = {0x02};
    oa_wb16(h + 1, (uint32_t)strlen(s));
    oa_buf_append(b, h, 3);
    oa_buf_append(b, s, strlen(s));
}

static void amf_key(struct oa_buf *b, const char *k)
{
    uint8_t h[2];
    oa_wb16(h, (uint32_t)strlen(k));
    oa_buf_append(b, h, 2);
    oa_buf_append(b, k, strlen(k));
}

static void amf_num(struct oa_buf *b, const char *k, double v)
{
    uint8_t h[9] = {0x00};
    uint64_t bits;
    memcpy(&bits, &v, 8);
    for (int i = 0; i < 8; i++)
        h[1 + i] = (uint8_t)(bits >> (56 - 8 * i));
    amf_key(b, k);
    oa_buf_append(b, h, 9);
}

static void amf_bool(struct oa_buf *b, const char *k, bool v)
{
    uint8_t h[2] = {0x01, v ? 1 : 0};
    amf_key(b, k);
    oa_buf_append(b, h, 2);
}

static struct packet *make_meta(const struct studio_canvas *c)
{
    struct oa_buf b = OA_BUF_INIT(4096);
    amf_str(&b, "onMetaData");
    uint8_t h[5] = {0x08, 0, 0, 0, 11};
    oa_buf_append(&b, h, 5);
    amf_num(&b, "width", c->width);
    amf_num(&b, "height", c->height);
    amf_num(&b, "framerate", c->fps);
    amf_num(&b, "videocodecid", FLV_VIDEO_CODEC_AVC);
    amf_num(&b, "videodatarate", c->video_kbps);
    amf_num(&b, "audiocodecid", FLV_AUDIO_CODEC_AAC);
    amf_num(&b, "audiodatarate", c->audio_kbps);
    amf_num(&b, "audiosamplerate", c->sample_rate);
    amf_num(&b, "audiosamplesize", 16);
    amf_bool(&b, "stereo", c->channels == 2);
    amf_key(&b, "encoder");
    amf_str(&b, "onair studio");
    uint8_t end[3] = {0, 0, 9};
    oa_buf_append(&b, end, 3);
    struct packet *p = packet_new_copy(PKT_META, 0, b.data, (uint32_t)b.len);
    oa_buf_free(&b);
    return p;
}

static int open_encoders(struct run *r)
{
    const struct studio_canvas *c = &r->cv;
    const AVCodec *vcodec = avcodec_find_encoder_by_name("libx264");
    const AVCodec *acodec = avcodec_find_encoder_by_name("aac");
    if (!vcodec || !acodec)
        return OA_ECODEC;

    AVCodecContext *v = r->venc = avcodec_alloc_context3(vcodec);
    if (!v)
        return OA_ECODEC;
    v->width = c->width;
    v->height = c->height;
    v->pix_fmt = AV_PIX_FMT_YUV420P;
    v->time_base = (AVRational){1, c->fps};
    v->framerate = (AVRational){c->fps, 1};
    v->gop_size = 2 * c->fps; /* a keyframe every 2 s */
    v->keyint_min = v->gop_size;
    v->max_b_frames = 0;
    v->bit_rate = (int64_t)c->video_kbps * 1000;
    v->rc_max_rate = v->bit_rate;
    v->rc_buffer_size = (int)OA_MIN(v->bit_rate, INT32_MAX);
    v->color_range = AVCOL_RANGE_MPEG;
    v->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    v->thread_count = oa_cfg.studio_x264_threads;
    AVDictionary *o = NULL;
    av_dict_set(&o, "preset", oa_cfg.studio_x264_preset[0] ? oa_cfg.studio_x264_preset : "veryfast",
                0);
    av_dict_set(&o, "tune", "zerolatency", 0);
    av_dict_set(&o, "forced-idr", "1", 0);
    /* Fixed keyframe interval: no scene-cut keyframes in between. */
    av_dict_set(&o, "x264-params", "scenecut=0", 0);
    int e = avcodec_open2(v, vcodec, &o);
    av_dict_free(&o);
    if (e < 0 || !v->extradata_size)
        return OA_ECODEC;

    AVCodecContext *a = r->aenc = avcodec_alloc_context3(acodec);
    if (!a)
        return OA_ECODEC;
    a->sample_fmt = AV_SAMPLE_FMT_FLTP;
    a->sample_rate = c->sample_rate;
    av_channel_layout_default(&a->ch_layout, c->channels);
    a->bit_rate = (int64_t)c->audio_kbps * 1000;
    a->time_base = (AVRational){1, c->sample_rate};
    a->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    if (avcodec_open2(a, acodec, NULL) < 0 || !a->extradata_size || a->frame_size <= 0)
        return OA_ECODEC;

    r->canvas = av_frame_alloc();
    r->aframe = av_frame_alloc();
    r->pkt = av_packet_alloc();
    if (!r->canvas || !r->aframe || !r->pkt)
        return OA_ECODEC;
    r->canvas->width = c->width;
    r->canvas->height = c->height;
    r->canvas->format = AV_PIX_FMT_YUV420P;
    r->canvas->color_range = AVCOL_RANGE_MPEG;
    if (av_frame_get_buffer(r->canvas, 0) < 0)
        return OA_ECODEC;
    r->aframe->nb_samples = a->frame_size;
    r->aframe->format = AV_SAMPLE_FMT_FLTP;
    r->aframe->sample_rate = c->sample_rate;
    if (av_channel_layout_copy(&r->aframe->ch_layout, &a->ch_layout) < 0 ||
        av_frame_get_buffer(r->aframe, 0) < 0)
        return OA_ECODEC;

    /* Sequence headers and metadata, kept to be sent again after a dropped batch. */
    oa_buf_reset(&r->buf);
    uint8_t vh[5] = {0x17, 0x00, 0, 0, 0};
    oa_buf_append(&r->buf, vh, 5);
    if (avc_config_from_annexb(v->extradata, (size_t)v->extradata_size, &r->buf) != 0)
        return OA_ECODEC;
    r->vhdr = packet_new_copy(PKT_VIDEO, 0, r->buf.data, (uint32_t)r->buf.len);
    oa_buf_reset(&r->buf);
    uint8_t ah[2] = {0xAF, 0x00};
    oa_buf_append(&r->buf, ah, 2);
    oa_buf_append(&r->buf, a->extradata, (size_t)a->extradata_size);
    r->ahdr = packet_new_copy(PKT_AUDIO, 0, r->buf.data, (uint32_t)r->buf.len);
    r->meta = make_meta(c);
    r->need_headers = true;
    r->comp = studio_composer_new(c->width, c->height);
    return 0;
}

static void close_encoders(struct run *r)
{
    if (r->batch) {
        for (int i = 0; i < r->batch->n; i++)
            packet_unref(&r->batch->pkts[i]);
        oa_free(r->batch);
        r->batch = NULL;
    }
    avcodec_free_context(&r->venc);
    avcodec_free_context(&r->aenc);
    av_frame_free(&r->canvas);
    av_frame_free(&r->aframe);
    av_packet_free(&r->pkt);
    studio_composer_free(r->comp);
    r->comp = NULL;
    packet_unref(&r->meta);
    packet_unref(&r->vhdr);
    packet_unref(&r->ahdr);
    oa_buf_free(&r->buf);
}

/* Picks up layout and audio changes made since the last frame. */
static void take_pending(struct run *r)
{
    struct studio_scene *s = r->s;
    struct studio_layout *l;
    struct studio_audio *a;
    pthread_mutex_lock(&s->w.mu);
    l = s->pending_layout;
    a = s->pending_audio;
    s->pending_layout = NULL;
    s->pending_audio = NULL;
    pthread_mutex_unlock(&s->w.mu);
    if (l) {
        r->layout = *l;
        oa_free(l);
    }
    if (a) {
        r->audio = *a;
        oa_free(a);
    }
}

static void draw_layer(struct run *r, int i, int64_t t_us)
{
    const struct studio_video_layer *L = &r->layout.video[i];
    const int W = r->cv.width, H = r->cv.height;
    struct studio_input *in = studio_bank_get(r->s->bank, studio_location_index(L->location_id));
    struct studio_track_pick pk = {0};
    if (in)
        studio_track_pick(studio_input_pub(in)->track, t_us, &pk);
    studio_input_unref(&in);
    if (pk.frame && !pk.still && pk.age_us >= r->black_after_us)
        av_frame_free(&pk.frame); /* stalled too long: black */
    struct studio_place pl;
    if (pk.frame) {
        if (studio_layout_place(W, H, L, pk.frame->width, pk.frame->height, &pl) == 0)
            studio_compose_layer(r->comp, i, r->canvas, &pl, pk.frame, pk.still, pk.gen);
        av_frame_free(&pk.frame);
        return;
    }
    /*
     * Nothing to show: paint the layer's box black. Without a known source
     * size, a layer sized by one dimension assumes the canvas's aspect ratio;
     * an unscaled layer (both 0) has no size at all and draws nothing.
     */
    int sw = pk.width, sh = pk.height;
    if (sw <= 0 || sh <= 0) {
        if (L->height_norm <= 0 && L->width_norm <= 0)
            return;
        sw = W;
        sh = H;
    }
    if (studio_layout_place(W, H, L, sw, sh, &pl) == 0) {
        struct studio_rect b = pl.box;
        int x0 = OA_MAX(b.x, 0), y0 = OA_MAX(b.y, 0);
        int x1 = OA_MIN(b.x + b.w, W), y1 = OA_MIN(b.y + b.h, H);
        if (x1 > x0 && y1 > y0)
            studio_compose_fill_black(r->canvas, (struct studio_rect){x0, y0, x1 - x0, y1 - y0});
    }
}

static void compose_frame(struct run *r, int64_t t_us)
{
    if (av_frame_make_writable(r->canvas) < 0)
        return;
    studio_compose_clear(r->canvas);
    for (int i = 0; i < r->layout.n_video && i < STUDIO_MAX_LAYERS; i++)
        draw_layer(r, i, t_us);
}

static void send_video_packets(struct run *r)
{
    while (avcodec_receive_packet(r->venc, r->pkt) >= 0) {
        AVPacket *p = r->pkt;
        int64_t dts = p->dts != AV_NOPTS_VALUE ? p->dts : p->pts;
        int64_t ts = av_rescale(dts, 1000, r->cv.fps);
        int64_t cts = p->pts != AV_NOPTS_VALUE ? av_rescale(p->pts, 1000, r->cv.fps) - ts : 0;
        oa_buf_reset(&r->buf);
        if (avc_annexb_to_avcc(p->data, (size_t)p->size, true, &r->buf) == 0 && r->buf.len) {
            bool key = p->flags & AV_PKT_FLAG_KEY;
            struct packet *fp =
                packet_new(PKT_VIDEO, (uint32_t)OA_MAX(ts, 0), 5 + (uint32_t)r->buf.len);
            fp->data[0] = key ? 0x17 : 0x27;
            fp->data[1] = 1;
            oa_wb24(fp->data + 2, (uint32_t)(cts & 0xffffff));
            memcpy(fp->data + 5, r->buf.data, r->buf.len);
            packet_classify(fp);
            batch_add(r, fp);
        }
        av_packet_unref(p);
    }
}

static void send_audio_packets(struct run *r)
{
    while (avcodec_receive_packet(r->aenc, r->pkt) >= 0) {
        AVPacket *p = r->pkt;
        /*
         * A packet's pts already accounts for the encoder's delay, so it is
         * the time of the samples it decodes to. The first packet is the
         * priming frame (negative pts): drop it, like a player joining a
         * live stream would, rather than give two packets timestamp 0.
         */
        if (p->pts == AV_NOPTS_VALUE || p->pts < 0) {
            av_packet_unref(p);
            continue;
        }
        int64_t ts = av_rescale(p->pts, 1000, r->cv.sample_rate);
        r->a_last_pts = p->pts;
        struct packet *fp = packet_new(PKT_AUDIO, (uint32_t)ts, 2 + (uint32_t)p->size);
        fp->data[0] = 0xAF;
        fp->data[1] = 0x01;
        memcpy(fp->data + 2, p->data, (size_t)p->size);
        packet_classify(fp);
        batch_add(r, fp);
        av_packet_unref(p);
    }
}

/* Mixes the next AAC frame of audio (output samples [a_samples, a_samples + frame_size)). */
static void mix_audio_frame(struct run *r)
{
    AVFrame *f = r->aframe;
    int n = f->nb_samples, nch = r->cv.channels;
    if (av_frame_make_writable(f) < 0)
        return;
    float *out[2] = {(float *)f->data[0], nch > 1 ? (float *)f->data[1] : NULL};
    for (int c = 0; c < nch; c++)
        memset(out[c], 0, (size_t)n * sizeof(float));
    /* The input audio of the same moment as the video: moved on by the slots given up too. */
    int64_t pos = r->apos0 + r->a_samples + r->shift * r->cv.sample_rate / r->cv.fps;

    /* Which inputs, how loud, which channels. */
    struct studio_audio_layer derived[STUDIO_MAX_LAYERS];
    const struct studio_audio_layer *list;
    int count;
    if (!r->audio.follow_video) {
        list = r->audio.layers;
        count = r->audio.n;
    } else if (r->layout.n_audio > 0) {
        list = r->layout.audio;
        count = r->layout.n_audio;
    } else {
        count = 0;
        for (int i = 0; i < r->layout.n_video && i < STUDIO_MAX_LAYERS; i++) {
            bool dup = false;
            for (int j = 0; j < count; j++)
                dup |= studio_location_index(derived[j].location_id) ==
                       studio_location_index(r->layout.video[i].location_id);
            if (dup)
                continue;
            memcpy(derived[count].location_id, r->layout.video[i].location_id,
                   sizeof(derived[count].location_id));
            derived[count].volume_rate = 1.0;
            derived[count].channel = STUDIO_CHANNEL_ALL;
            count++;
        }
        list = derived;
    }
    for (int i = 0; i < count && i < STUDIO_MAX_LAYERS; i++) {
        double vol = list[i].volume_rate;
        if (!(vol > 0))
            continue;
        struct studio_input *in =
            studio_bank_get(r->s->bank, studio_location_index(list[i].location_id));
        if (!in)
            continue;
        studio_track_mix(studio_input_pub(in)->track, pos, n, out, nch, (float)OA_MIN(vol, 10.0),
                         list[i].channel);
        studio_input_unref(&in);
    }
    for (int c = 0; c < nch; c++) {
        for (int i = 0; i < n; i++)
            out[c][i] = out[c][i] > 1.0f ? 1.0f : out[c][i] < -1.0f ? -1.0f : out[c][i];
    }
    f->pts = r->a_samples;
    r->a_samples += n;
    if (avcodec_send_frame(r->aenc, f) >= 0)
        send_audio_packets(r);
    atomic_fetch_add_explicit(&r->s->audio_frames, 1, memory_order_relaxed);
}

/* When output frame n is due: its slot, moved on by the slots given up. */
static int64_t deadline_of(const struct run *r, int64_t n)
{
    return r->t0_ns + (n + r->shift) * 1000000000LL / r->cv.fps;
}

static void run_frame(struct run *r, int64_t deadline)
{
    take_pending(r);
    /*
     * Show the input picture nearest to this frame's time rather than the
     * last one before it: half an output frame of look-ahead centres the
     * video-vs-audio error around zero instead of up to a frame late.
     */
    compose_frame(r, deadline / 1000 - STUDIO_DELAY_US + 500000 / r->cv.fps);
    r->canvas->pts = r->n;
    r->canvas->pict_type = AV_PICTURE_TYPE_NONE;
    if (avcodec_send_frame(r->venc, r->canvas) >= 0)
        send_video_packets(r);
    atomic_fetch_add_explicit(&r->s->frames, 1, memory_order_relaxed);
    /*
     * Audio up to the end of this frame, and on until the encoder (which
     * holds a frame back) has given every packet as old as this video frame:
     * then whatever comes later is newer, and the sorted batches make a
     * stream whose timestamps never go back. Audio is mixed at most about
     * two AAC frames ahead of the video, well inside the inputs' delay.
     */
    int64_t target = (r->n + 1) * r->cv.sample_rate / r->cv.fps;
    int64_t vpos = r->n * r->cv.sample_rate / r->cv.fps;
    int64_t limit = target + 4 * (int64_t)r->aframe->nb_samples;
    while (r->a_samples < target || (r->a_last_pts < vpos && r->a_samples < limit))
        mix_audio_frame(r);
    batch_flush(r);
}

static void scene_main(void *arg)
{
    struct run *r = oa_calloc(1, sizeof(*r));
    struct studio_scene *s = r->s = arg;
    r->cv = s->canvas;
    r->audio.follow_video = true;
    r->a_last_pts = -1;
    oa_buf_init(&r->buf, AVCC_MAX);
    r->black_after_us = (int64_t)oa_cfg.studio_black_after_ms * 1000;
    if (open_encoders(r) != 0) {
        slog(s, OA_LOG_ERROR, "cannot open the encoders (libx264 %s, aac)",
             oa_cfg.studio_x264_preset);
        atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
        if (oa_loop_post(failed_run, s) != 0)
            atomic_fetch_sub_explicit(&s->refs, 1, memory_order_relaxed);
    } else {
        r->t0_ns = studio_mono_ns();
        r->apos0 = studio_track_pos(r->t0_ns / 1000 - STUDIO_DELAY_US, r->cv.sample_rate);
        while (!atomic_load(&s->w.stop)) {
            int64_t deadline = deadline_of(r, r->n);
            while (studio_mono_ns() < deadline && !studio_waiter_sleep_until(&s->w, deadline))
                ;
            if (atomic_load(&s->w.stop))
                break;
            int64_t now = studio_mono_ns();
            if (now - deadline > MAX_LAG_NS) {
                /*
                 * Too far behind to catch up: give up the missed slots of
                 * real time, but not the timestamps. Frame n keeps
                 * timestamp n/fps and is composed as of now, so players see
                 * the program pause and go on, never jump.
                 */
                int64_t slot = (now - r->t0_ns) * r->cv.fps / 1000000000LL;
                atomic_fetch_add(&s->skipped, (uint64_t)(slot - r->n - r->shift));
                r->shift = slot - r->n;
                deadline = deadline_of(r, r->n);
            }
            run_frame(r, deadline);
            r->n++;
        }
    }
    close_encoders(r);
    oa_free(r);
    scene_unref(&s);
}

/* ===== the facade's scene functions ===== */

static void terminate_ids(struct studio_layout *l);

bool studio_canvas_ok(const struct studio_canvas *c)
{
    static const int aac_rates[] = {8000,  11025, 12000, 16000, 22050, 24000,
                                    32000, 44100, 48000, 64000, 88200, 96000};
    bool rate_ok = false;
    for (size_t i = 0; i < OA_ARRAY_SIZE(aac_rates); i++)
        rate_ok |= c->sample_rate == aac_rates[i];
    return rate_ok && c->width >= 16 && c->width <= 4096 && c->height >= 16 && c->height <= 4096 &&
           c->width % 2 == 0 && c->height % 2 == 0 && c->fps >= 1 && c->fps <= 120 &&
           c->video_kbps > 0 && c->video_kbps <= 100000 && c->audio_kbps > 0 &&
           c->audio_kbps <= 512 && (c->channels == 1 || c->channels == 2);
}

struct studio_scene *studio_scene_spawn(struct studio_bank *bank,
                                        const struct studio_canvas *canvas, const char *domain,
                                        const char *app, const char *stream,
                                        const struct studio_layout *initial, int delay_ms, int *err)
{
    if (!studio_canvas_ok(canvas) || !domain || !app || !stream || !*domain || !*app || !*stream ||
        delay_ms < 0 || delay_ms > STUDIO_MAX_DELAY_MS || strlen(domain) >= 256 ||
        strlen(app) >= 256 || strlen(stream) >= 256 ||
        (initial && (initial->n_video < 0 || initial->n_video > STUDIO_MAX_LAYERS ||
                     initial->n_audio < 0 || initial->n_audio > STUDIO_MAX_LAYERS))) {
        *err = OA_EINVAL;
        return NULL;
    }
    if (!avcodec_find_encoder_by_name("libx264") || !avcodec_find_encoder_by_name("aac")) {
        *err = OA_ECODEC;
        return NULL;
    }
    struct studio_scene *s = oa_calloc(1, sizeof(*s));
    atomic_init(&s->refs, 1);
    s->bank = studio_bank_ref(bank);
    s->canvas = *canvas;
    oa_strlcpy(s->domain, domain, sizeof(s->domain));
    oa_strlcpy(s->app, app, sizeof(s->app));
    oa_strlcpy(s->name, stream, sizeof(s->name));
    studio_waiter_init(&s->w);
    s->pending_layout = oa_calloc(1, sizeof(*s->pending_layout));
    if (initial)
        *s->pending_layout = *initial;
    terminate_ids(s->pending_layout);
    s->pub.ops = &pub_ops;
    s->pub.internal = true;
    oa_strlcpy(s->pub.client_ip, "127.0.0.1", sizeof(s->pub.client_ip));
    oa_snprintf(s->pub.url, sizeof(s->pub.url), "rtmp://%s/%s/%s", domain, app, stream);

    s->st = hub_publish(domain, app, stream, &s->pub, err);
    if (!s->st) {
        scene_unref(&s);
        return NULL;
    }
    s->running = true;
    if (delay_ms > 0)
        s->delay = studio_delay_new(delay_ms, delay_emit, s);
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed); /* the thread's */
    int r = studio_thread_spawn(scene_main, s, "studio-scene");
    if (r) {
        atomic_fetch_sub(&s->refs, 1);
        end_output(s, "no thread");
        scene_unref(&s);
        *err = r;
        return NULL;
    }
    slog(s, OA_LOG_INFO, "started %dx%d@%d, output delay %d ms", canvas->width, canvas->height,
         canvas->fps, delay_ms);
    return s;
}

void studio_scene_halt(struct studio_scene *s)
{
    if (!s)
        return;
    end_output(s, "stopped");
    scene_unref(&s);
}

void studio_scene_set_owner(struct studio_scene *s, void *owner)
{
    s->owner = owner;
}

void *studio_scene_owner(const struct studio_scene *s)
{
    return s->owner;
}

static bool layout_ok(const struct studio_layout *l)
{
    return l->n_video >= 0 && l->n_video <= STUDIO_MAX_LAYERS && l->n_audio >= 0 &&
           l->n_audio <= STUDIO_MAX_LAYERS;
}

/* Location ids are read with strlen() on the scene thread: make sure they end. */
static void terminate_ids(struct studio_layout *l)
{
    for (int i = 0; i < STUDIO_MAX_LAYERS; i++) {
        l->video[i].location_id[sizeof(l->video[i].location_id) - 1] = '\0';
        l->audio[i].location_id[sizeof(l->audio[i].location_id) - 1] = '\0';
    }
}

int studio_scene_set_layout(struct studio_scene *s, const struct studio_layout *layout)
{
    if (!layout_ok(layout))
        return OA_EINVAL;
    struct studio_layout *copy = oa_memdup(layout, sizeof(*layout));
    terminate_ids(copy);
    pthread_mutex_lock(&s->w.mu);
    oa_free(s->pending_layout);
    s->pending_layout = copy;
    pthread_mutex_unlock(&s->w.mu);
    return 0;
}

int studio_scene_set_audio(struct studio_scene *s, const struct studio_audio *audio)
{
    if (audio->n < 0 || audio->n > STUDIO_MAX_LAYERS)
        return OA_EINVAL;
    struct studio_audio *copy = oa_memdup(audio, sizeof(*audio));
    for (int i = 0; i < STUDIO_MAX_LAYERS; i++)
        copy->layers[i].location_id[sizeof(copy->layers[i].location_id) - 1] = '\0';
    pthread_mutex_lock(&s->w.mu);
    oa_free(s->pending_audio);
    s->pending_audio = copy;
    pthread_mutex_unlock(&s->w.mu);
    return 0;
}

bool studio_scene_running(const struct studio_scene *s)
{
    return s->running;
}

void studio_scene_get_stats(const struct studio_scene *s, struct studio_scene_stats *out)
{
    out->frames = atomic_load_explicit(&s->frames, memory_order_relaxed);
    out->skipped_frames = atomic_load_explicit(&s->skipped, memory_order_relaxed);
    out->audio_frames = atomic_load_explicit(&s->audio_frames, memory_order_relaxed);
    out->post_waits = atomic_load_explicit(&s->post_waits, memory_order_relaxed);
}
