/*
 * End-to-end test of the studio engine without the API: the test runs the
 * event loop and the hub, publishes two synthetic live streams into the hub
 * (solid red and solid blue H.264 pictures with AAC tones, encoded here with
 * libavcodec), starts a caster whose two inputs are those streams given as
 * local URLs, starts a scene and subscribes to its output stream. It decodes
 * what the scene publishes and checks, at the pixels the geometry predicts:
 *   - side by side: red on the left, blue on the right, audio present, and
 *     the red source's flashes (brighter picture + a tone burst, starting
 *     together) arrive in sync within about a frame;
 *   - a layout change (picture-in-picture) shows within a few frames, with
 *     continuous timestamps;
 *   - when the blue source stops, its inset holds the last picture, then
 *     turns black after the configured timeout, while the output keeps its
 *     frame rate;
 *   - when the source is published again, the inset comes back.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "hub/hub.h"
#include "media/avc.h"
#include "studio/engine.h"
#include "studio/input.h"
#include "studio/track.h"

#include <event2/event.h>
#include <libavcodec/avcodec.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>
#include <math.h>
#include <time.h>
#include <unistd.h>

#define DOMAIN "studio.test"
#define W 640
#define H 360
#define FPS 30
#define SR 48000

/* ===== synthetic sources (loop thread) ===== */

struct synth {
    const char *name;
    int y, u, v;      /* picture colour */
    int dim_y;        /* flashing: luma outside the flash (0 = no flashing) */
    double freq, amp; /* tone */
    bool gated;       /* tone only during the flash */
    int rate, channels;
    AVCodecContext *venc, *aenc;
    AVFrame *vf, *af;
    AVPacket *pkt;
    struct hub_publisher pub;
    struct hub_stream *st;
    int64_t start_ms;
    int64_t vframes, asamples;
    bool first;
    FILE *file; /* writing an FLV file instead of publishing */
};

static void synth_emit(struct synth *s, struct packet *p)
{
    if (s->file) {
        fwrite(p->flv, 1, p->flv_len, s->file);
        packet_unref(&p);
    } else {
        hub_stream_push(s->st, p);
    }
}

static void synth_kick(struct hub_publisher *p, const char *why)
{
    struct synth *s = oa_container_of(p, struct synth, pub);
    if (s->st) {
        struct hub_stream *st = s->st;
        s->st = NULL;
        hub_unpublish(st);
    }
}

static const struct hub_publisher_ops synth_ops = {synth_kick};

static void synth_open(struct synth *s)
{
    const AVCodec *vc = avcodec_find_encoder_by_name("libx264");
    const AVCodec *ac = avcodec_find_encoder_by_name("aac");
    assert_non_null(vc);
    assert_non_null(ac);
    s->venc = avcodec_alloc_context3(vc);
    s->venc->width = 320;
    s->venc->height = 240;
    s->venc->pix_fmt = AV_PIX_FMT_YUV420P;
    s->venc->time_base = (AVRational){1, FPS};
    s->venc->framerate = (AVRational){FPS, 1};
    s->venc->gop_size = FPS;
    s->venc->max_b_frames = 0;
    s->venc->bit_rate = 200000;
    s->venc->thread_count = 1;
    s->venc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    AVDictionary *o = NULL;
    av_dict_set(&o, "preset", "ultrafast", 0);
    av_dict_set(&o, "tune", "zerolatency", 0);
    av_dict_set(&o, "forced-idr", "1", 0);
    assert_int_equal(avcodec_open2(s->venc, vc, &o), 0);
    av_dict_free(&o);
    s->aenc = avcodec_alloc_context3(ac);
    s->aenc->sample_fmt = AV_SAMPLE_FMT_FLTP;
    s->aenc->sample_rate = s->rate;
    av_channel_layout_default(&s->aenc->ch_layout, s->channels);
    s->aenc->bit_rate = 96000;
    s->aenc->time_base = (AVRational){1, s->rate};
    s->aenc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    assert_int_equal(avcodec_open2(s->aenc, ac, NULL), 0);
    s->vf = av_frame_alloc();
    s->vf->width = 320;
    s->vf->height = 240;
    s->vf->format = AV_PIX_FMT_YUV420P;
    assert_int_equal(av_frame_get_buffer(s->vf, 0), 0);
    s->af = av_frame_alloc();
    s->af->nb_samples = s->aenc->frame_size;
    s->af->format = AV_SAMPLE_FMT_FLTP;
    s->af->sample_rate = s->rate;
    av_channel_layout_copy(&s->af->ch_layout, &s->aenc->ch_layout);
    assert_int_equal(av_frame_get_buffer(s->af, 0), 0);
    s->pkt = av_packet_alloc();
    s->pub.ops = &synth_ops;
}

static void synth_close(struct synth *s)
{
    avcodec_free_context(&s->venc);
    avcodec_free_context(&s->aenc);
    av_frame_free(&s->vf);
    av_frame_free(&s->af);
    av_packet_free(&s->pkt);
}

static void synth_headers(struct synth *s)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    uint8_t vh[5] = {0x17, 0, 0, 0, 0};
    oa_buf_append(&b, vh, 5);
    assert_int_equal(
        avc_config_from_annexb(s->venc->extradata, (size_t)s->venc->extradata_size, &b), 0);
    synth_emit(s, packet_new_copy(PKT_VIDEO, 0, b.data, (uint32_t)b.len));
    oa_buf_reset(&b);
    uint8_t ah[2] = {0xAF, 0};
    oa_buf_append(&b, ah, 2);
    oa_buf_append(&b, s->aenc->extradata, (size_t)s->aenc->extradata_size);
    synth_emit(s, packet_new_copy(PKT_AUDIO, 0, b.data, (uint32_t)b.len));
    oa_buf_free(&b);
}

static void synth_publish(struct synth *s)
{
    int err = 0;
    s->st = hub_publish(DOMAIN, "live", s->name, &s->pub, &err);
    assert_non_null(s->st);
    synth_headers(s);
    s->start_ms = oa_mono_ms();
    s->vframes = s->asamples = 0;
    s->first = true;
}

static void synth_unpublish(struct synth *s)
{
    if (s->st) {
        struct hub_stream *st = s->st;
        s->st = NULL;
        hub_unpublish(st);
    }
}

/* In the flash: the first 500 ms of every 2 s. */
static bool flash_at(int64_t t_ms)
{
    return t_ms % 2000 < 500;
}

static void synth_video(struct synth *s)
{
    int64_t t_ms = s->vframes * 1000 / FPS;
    AVFrame *f = s->vf;
    assert_int_equal(av_frame_make_writable(f), 0);
    int y = s->dim_y && !flash_at(t_ms) ? s->dim_y : s->y;
    for (int r = 0; r < 240; r++)
        memset(f->data[0] + r * f->linesize[0], y, 320);
    for (int r = 0; r < 120; r++) {
        memset(f->data[1] + r * f->linesize[1], s->u, 160);
        memset(f->data[2] + r * f->linesize[2], s->v, 160);
    }
    f->pts = s->vframes++;
    f->pict_type = s->first ? AV_PICTURE_TYPE_I : AV_PICTURE_TYPE_NONE;
    s->first = false;
    assert_int_equal(avcodec_send_frame(s->venc, f), 0);
    struct oa_buf b = OA_BUF_INIT(1 << 22);
    while (avcodec_receive_packet(s->venc, s->pkt) == 0) {
        oa_buf_reset(&b);
        bool key = s->pkt->flags & AV_PKT_FLAG_KEY;
        uint8_t h[5] = {key ? 0x17 : 0x27, 1, 0, 0, 0};
        oa_buf_append(&b, h, 5);
        avc_annexb_to_avcc(s->pkt->data, (size_t)s->pkt->size, true, &b);
        uint32_t ts = (uint32_t)(s->pkt->dts * 1000 / FPS);
        synth_emit(s, packet_new_copy(PKT_VIDEO, ts, b.data, (uint32_t)b.len));
        av_packet_unref(s->pkt);
    }
    oa_buf_free(&b);
}

static void synth_audio(struct synth *s)
{
    AVFrame *f = s->af;
    assert_int_equal(av_frame_make_writable(f), 0);
    for (int i = 0; i < f->nb_samples; i++) {
        int64_t n = s->asamples + i;
        int64_t t_ms = n * 1000 / s->rate;
        float v = (!s->gated || flash_at(t_ms))
                      ? (float)(s->amp * sin(2 * M_PI * s->freq * (double)n / s->rate))
                      : 0.0f;
        for (int c = 0; c < s->channels; c++)
            ((float *)f->data[c])[i] = v;
    }
    f->pts = s->asamples;
    s->asamples += f->nb_samples;
    assert_int_equal(avcodec_send_frame(s->aenc, f), 0);
    while (avcodec_receive_packet(s->aenc, s->pkt) == 0) {
        if (s->pkt->pts >= 0) {
            uint32_t ts = (uint32_t)(s->pkt->pts * 1000 / s->rate);
            struct packet *p = packet_new(PKT_AUDIO, ts, 2 + (uint32_t)s->pkt->size);
            p->data[0] = 0xAF;
            p->data[1] = 1;
            memcpy(p->data + 2, s->pkt->data, (size_t)s->pkt->size);
            packet_classify(p);
            synth_emit(s, p);
        }
        av_packet_unref(s->pkt);
    }
}

/* Produces whatever is due by now, interleaved by timestamp. */
static void synth_tick(struct synth *s)
{
    if (!s->st)
        return;
    int64_t el = oa_mono_ms() - s->start_ms;
    for (;;) {
        int64_t vt = s->vframes * 1000 / FPS, at = s->asamples * 1000 / s->rate;
        if (vt > el && at > el)
            break;
        if (vt <= at)
            synth_video(s);
        else
            synth_audio(s);
    }
}

static struct synth red = {"red", 81, 90, 240, 62, 440, 0.4, true, 44100, 2};
static struct synth blue = {"blue", 41, 240, 110, 0, 660, 0.2, false, 48000, 1};

static void tick_cb(evutil_socket_t fd, short what, void *arg)
{
    synth_tick(&red);
    synth_tick(&blue);
}

static void stop_cb(evutil_socket_t fd, short what, void *arg)
{
    oa_loop_stop();
}

static void run_for(int ms)
{
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    event_base_once(oa_loop_base(), -1, EV_TIMEOUT, stop_cb, NULL, &tv);
    oa_loop_run();
}

/* ===== the output: a sink that keeps every packet, and decoders ===== */

struct out_sink {
    struct hub_sink sink;
    struct packet **pkts;
    size_t n, cap;
    int publishes;
};

static void os_publish(struct hub_sink *s)
{
    ((struct out_sink *)s)->publishes++;
}

static void os_packet(struct hub_sink *s, struct packet *pkt)
{
    struct out_sink *o = (struct out_sink *)s;
    if (o->n == o->cap) {
        o->cap = o->cap ? 2 * o->cap : 1024;
        o->pkts = realloc(o->pkts, o->cap * sizeof(*o->pkts));
    }
    o->pkts[o->n++] = packet_ref(pkt);
}

static void os_unpublish(struct hub_sink *s)
{
}

static const struct hub_sink_ops os_ops = {os_publish, os_packet, os_unpublish};

enum { P_LEFT, P_RIGHT, P_PIP, P_RIGHT_TOP, NPROBES };
static const int probe_xy[NPROBES][2] = {{160, 180}, {480, 180}, {536, 288}, {480, 60}};

struct vinfo {
    int64_t ts;
    uint8_t y[NPROBES], u[NPROBES], v[NPROBES];
};

enum colour { C_OTHER, C_RED, C_BLUE, C_BLACK };

static enum colour classify(const struct vinfo *f, int p)
{
    int y = f->y[p], u = f->u[p], v = f->v[p];
    if (v > 180 && u < 120 && y > 40 && y < 110)
        return C_RED;
    if (u > 200 && v < 140 && y < 70)
        return C_BLUE;
    if (y < 30 && abs(u - 128) < 15 && abs(v - 128) < 15)
        return C_BLACK;
    return C_OTHER;
}

static const char *cname(enum colour c)
{
    static const char *const n[] = {"other", "red", "blue", "black"};
    return n[c];
}

/* One scene output as the test receives and decodes it. */
struct outdec {
    struct out_sink out;
    size_t next; /* next packet to decode */
    AVCodecContext *vdec, *adec;
    AVFrame *frame;
    AVPacket *pkt;
    struct vinfo *frames;
    size_t nframes, capframes;
    int64_t *vts; /* every video packet's timestamp, in arrival order */
    bool *vkey;   /* and whether it is a keyframe */
    size_t nvts;
    int64_t *ats;
    size_t nats;
    float *pcm; /* decoded audio, mono mix, indexed by time (SR) */
    size_t pcm_len;
    bool have_meta, have_vhdr, have_ahdr;
};

static struct outdec out1, out2;
/* The output the helpers below work on: out1 unless a check switches. */
static struct outdec *cur = &out1;
#define O (*cur)

static AVCodecContext *open_dec(enum AVCodecID id, const uint8_t *extra, size_t n)
{
    const AVCodec *c = avcodec_find_decoder(id);
    AVCodecContext *ctx = avcodec_alloc_context3(c);
    ctx->extradata = av_mallocz(n + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(ctx->extradata, extra, n);
    ctx->extradata_size = (int)n;
    ctx->thread_count = 1;
    assert_int_equal(avcodec_open2(ctx, c, NULL), 0);
    return ctx;
}

static void got_picture(AVFrame *f)
{
    assert_int_equal(f->width, W);
    assert_int_equal(f->height, H);
    if (O.nframes == O.capframes) {
        O.capframes = O.capframes ? 2 * O.capframes : 512;
        O.frames = realloc(O.frames, O.capframes * sizeof(*O.frames));
    }
    struct vinfo *v = &O.frames[O.nframes++];
    v->ts = f->pts;
    for (int p = 0; p < NPROBES; p++) {
        int x = probe_xy[p][0], y = probe_xy[p][1];
        v->y[p] = f->data[0][y * f->linesize[0] + x];
        v->u[p] = f->data[1][(y / 2) * f->linesize[1] + x / 2];
        v->v[p] = f->data[2][(y / 2) * f->linesize[2] + x / 2];
    }
}

static void got_audio(AVFrame *f, int64_t ts_ms)
{
    /* Contiguous samples; the millisecond timestamps must agree with the count. */
    size_t at = O.pcm_len;
    assert_true(llabs(ts_ms - (int64_t)at * 1000 / SR) <= 1);
    size_t need = at + (size_t)f->nb_samples;
    if (need > O.pcm_len) {
        O.pcm = realloc(O.pcm, need * sizeof(float));
        memset(O.pcm + O.pcm_len, 0, (need - O.pcm_len) * sizeof(float));
        O.pcm_len = need;
    }
    int nch = f->ch_layout.nb_channels;
    for (int i = 0; i < f->nb_samples; i++) {
        float s = 0;
        for (int c = 0; c < nch; c++)
            s += ((float *)f->extended_data[c])[i];
        O.pcm[at + i] = s / (float)nch;
    }
}

static void decode_new(void)
{
    for (; O.next < O.out.n; O.next++) {
        struct packet *p = O.out.pkts[O.next];
        if (p->type == PKT_META) {
            O.have_meta = true;
            continue;
        }
        if (p->type == PKT_VIDEO && p->size > 5 && p->data[1] == 0) {
            O.have_vhdr = true;
            if (!O.vdec)
                O.vdec = open_dec(AV_CODEC_ID_H264, p->data + 5, p->size - 5);
            continue;
        }
        if (p->type == PKT_AUDIO && p->size > 2 && p->data[1] == 0) {
            O.have_ahdr = true;
            if (!O.adec)
                O.adec = open_dec(AV_CODEC_ID_AAC, p->data + 2, p->size - 2);
            continue;
        }
        if (p->type == PKT_VIDEO) {
            O.vts = realloc(O.vts, (O.nvts + 1) * sizeof(*O.vts));
            O.vkey = realloc(O.vkey, (O.nvts + 1) * sizeof(*O.vkey));
            O.vkey[O.nvts] = packet_is_video_key(p);
            O.vts[O.nvts++] = p->ts;
            assert_non_null(O.vdec);
            assert_int_equal(av_new_packet(O.pkt, (int)p->size - 5), 0);
            memcpy(O.pkt->data, p->data + 5, p->size - 5);
            O.pkt->pts = O.pkt->dts = p->ts;
            assert_int_equal(avcodec_send_packet(O.vdec, O.pkt), 0);
            av_packet_unref(O.pkt);
            while (avcodec_receive_frame(O.vdec, O.frame) == 0) {
                got_picture(O.frame);
                av_frame_unref(O.frame);
            }
        } else if (p->type == PKT_AUDIO) {
            O.ats = realloc(O.ats, (O.nats + 1) * sizeof(*O.ats));
            O.ats[O.nats++] = p->ts;
            assert_non_null(O.adec);
            assert_int_equal(av_new_packet(O.pkt, (int)p->size - 2), 0);
            memcpy(O.pkt->data, p->data + 2, p->size - 2);
            O.pkt->pts = O.pkt->dts = p->ts;
            int64_t ts = p->ts;
            assert_int_equal(avcodec_send_packet(O.adec, O.pkt), 0);
            av_packet_unref(O.pkt);
            while (avcodec_receive_frame(O.adec, O.frame) == 0) {
                got_audio(O.frame, ts);
                av_frame_unref(O.frame);
            }
        }
    }
}

/* Video frames received so far (decoded or not): the index the next one will have. */
static size_t video_packets(void)
{
    size_t n = 0;
    for (size_t i = 0; i < O.out.n; i++) {
        struct packet *p = O.out.pkts[i];
        n += p->type == PKT_VIDEO && !(p->flags & PKT_F_SEQHDR);
    }
    return n;
}

static int64_t last_video_ts(void)
{
    for (size_t i = O.out.n; i > 0; i--) {
        struct packet *p = O.out.pkts[i - 1];
        if (p->type == PKT_VIDEO && !(p->flags & PKT_F_SEQHDR))
            return p->ts;
    }
    return 0;
}

/* Video timestamps from index `from` on advance by one frame (33 or 34 ms) each. */
static void check_video_ts(size_t from)
{
    for (size_t i = from + 1; i < O.nvts; i++) {
        int64_t d = O.vts[i] - O.vts[i - 1];
        if (d != 33 && d != 34)
            print_error("video ts jump at %zu: %lld -> %lld\n", i, (long long)O.vts[i - 1],
                        (long long)O.vts[i]);
        assert_true(d == 33 || d == 34);
    }
}

static void check_audio_ts(size_t from)
{
    for (size_t i = from + 1; i < O.nats; i++) {
        int64_t d = O.ats[i] - O.ats[i - 1];
        if (d != 21 && d != 22)
            print_error("audio ts jump at %zu: %lld -> %lld\n", i, (long long)O.ats[i - 1],
                        (long long)O.ats[i]);
        assert_true(d == 21 || d == 22);
    }
}

/*
 * Audio and video together never go back in time (the GOP cache and FLV
 * demuxers rely on it).
 */
static void check_interleaved(void)
{
    uint32_t last = 0;
    for (size_t i = 0; i < O.out.n; i++) {
        struct packet *p = O.out.pkts[i];
        if (p->type == PKT_META || (p->flags & PKT_F_SEQHDR))
            continue;
        if (p->ts < last)
            print_error("packet %zu (%s) ts %u after %u\n", i,
                        p->type == PKT_VIDEO ? "video" : "audio", p->ts, last);
        assert_true(p->ts >= last);
        last = p->ts;
    }
}

/* The output starts with a keyframe and has one exactly every 2 s (2 * FPS frames), no other. */
static void check_keyframes(void)
{
    assert_true(O.nvts > 0);
    assert_int_equal(O.vts[0], 0);
    for (size_t i = 0; i < O.nvts; i++) {
        if (O.vkey[i] != (i % (2 * FPS) == 0))
            print_error("frame %zu (ts %lld): keyframe %d\n", i, (long long)O.vts[i], O.vkey[i]);
        assert_int_equal(O.vkey[i], i % (2 * FPS) == 0);
    }
}

static double rms(size_t from, size_t to)
{
    double s = 0;
    if (to > O.pcm_len)
        to = O.pcm_len;
    for (size_t i = from; i < to; i++)
        s += (double)O.pcm[i] * O.pcm[i];
    return to > from ? sqrt(s / (double)(to - from)) : 0;
}

/* Magnitude of frequency f in pcm[from, from + n) (Goertzel). */
static double tone(size_t from, size_t n, double f)
{
    double w = 2 * M_PI * f / SR, c = 2 * cos(w), s1 = 0, s2 = 0;
    for (size_t i = from; i < from + n && i < O.pcm_len; i++) {
        double s0 = O.pcm[i] + c * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    return sqrt(s1 * s1 + s2 * s2 - c * s1 * s2) / (double)n;
}

static const struct vinfo *last_frame(void)
{
    assert_true(O.nframes > 0);
    return &O.frames[O.nframes - 1];
}

/* ===== layouts ===== */

static struct studio_layout side_by_side(void)
{
    struct studio_layout l;
    memset(&l, 0, sizeof(l));
    l.n_video = 2;
    l.video[0] = (struct studio_video_layer){"RV01", 1, 0.5, 0, 0, STUDIO_REFER_TOP_LEFT, 0};
    l.video[1] = (struct studio_video_layer){"RV02", 1, 0.5, 0, 0, STUDIO_REFER_TOP_RIGHT, 0};
    return l;
}

static struct studio_layout pip(void)
{
    struct studio_layout l;
    memset(&l, 0, sizeof(l));
    l.n_video = 2;
    l.video[0] = (struct studio_video_layer){"RV01", 1, 1, 0, 0, STUDIO_REFER_TOP_LEFT, 0};
    /* 30% high, 4:3 -> 144x108 at 5% from the bottom-right corner: (464, 234). */
    l.video[1] =
        (struct studio_video_layer){"RV02", 0.3, 0, 0.05, 0.05, STUDIO_REFER_BOTTOM_RIGHT, 0};
    l.n_audio = 2;
    l.audio[0] = (struct studio_audio_layer){"RV01", 1.0, STUDIO_CHANNEL_ALL};
    l.audio[1] = (struct studio_audio_layer){"RV02", 1.0, STUDIO_CHANNEL_ALL};
    return l;
}

static void test_url_local(void **state)
{
    char d[256], a[256], s[256];
    oa_config_defaults(&oa_cfg);
    assert_true(studio_url_local("rtmp://127.0.0.1:1935/live/cam", "dom", NULL, d, a, s));
    assert_string_equal(d, "dom");
    assert_string_equal(a, "live");
    assert_string_equal(s, "cam");
    assert_true(
        studio_url_local("rtmp://localhost/live/cam?vhost=other.example", "dom", NULL, d, a, s));
    assert_string_equal(d, "other.example");
    assert_true(studio_url_local("rtmp://[::1]:1935/app?vhost=v.example/st", "dom", NULL, d, a, s));
    assert_string_equal(d, "v.example");
    assert_string_equal(a, "app");
    assert_string_equal(s, "st");
    assert_true(studio_url_local("http://127.0.0.1:8080/live/cam.flv?x=1", "dom", NULL, d, a, s));
    assert_string_equal(s, "cam");
    assert_true(studio_url_local("http://127.0.0.1:8080/live/cam.m3u8", "dom", NULL, d, a, s));
    assert_false(studio_url_local("http://127.0.0.1:8080/live/cam.mp4", "dom", NULL, d, a, s));
    assert_false(studio_url_local("http://127.0.0.1/live/cam.flv", "dom", NULL, d, a, s));
    assert_false(studio_url_local("rtmp://127.0.0.1:1936/live/cam", "dom", NULL, d, a, s));
    assert_false(studio_url_local("rtmp://example.com/live/cam", "dom", NULL, d, a, s));
    assert_false(studio_url_local("https://127.0.0.1:8080/live/cam.flv", "dom", NULL, d, a, s));
    assert_false(studio_url_local("rtmp://127.0.0.1/live/a/b", "dom", NULL, d, a, s));
}

static void loop_setup(void);
static void output_free(void);

/* ===== the track: clock mapping, picture queue, audio ring ===== */

static void test_track(void **state)
{
    /* Clock mapping: anchored on the first frame, pulled down by earlier arrivals. */
    struct studio_clockmap cm;
    studio_clockmap_reset(&cm, false);
    assert_int_equal(studio_clockmap_map(&cm, 0, 1000000), 1000000);
    assert_int_equal(studio_clockmap_map(&cm, 40000, 1050000), 1040000); /* 10 ms late: kept */
    assert_int_equal(studio_clockmap_map(&cm, 80000, 1070000), 1070000); /* early: new floor */
    assert_int_equal(studio_clockmap_map(&cm, 120000, 1120000), 1110000);
    /*
     * Every frame late by 40-45 ms for a whole window (the windows are 1 s,
     * the first ends at 2.03 s, the second at 3.03 s): the floor moves up by
     * the smallest lateness, 40 ms.
     */
    for (int i = 0; i < 60; i++)
        studio_clockmap_map(&cm, 160000 + i * 40000, 1190000 + i * 40000 + (i % 2) * 5000);
    assert_int_equal(studio_clockmap_map(&cm, 2560000, 3595000), 2560000 + 1030000);
    /* A jump of more than a second (a republish continuing old timestamps) re-anchors. */
    assert_int_equal(studio_clockmap_map(&cm, 1440000, 9000000), 9000000);
    assert_int_equal(studio_clockmap_map(&cm, 1480000, 9040000), 9040000);

    /*
     * Paced (HLS): a segment's frames all arrive at once and keep the first
     * one's offset, so each is due at its own time; lateness still moves the
     * mapping, and only a jump of over a second either way re-anchors it.
     */
    studio_clockmap_reset(&cm, true);
    assert_int_equal(studio_clockmap_map(&cm, 0, 5000000), 5000000);
    for (int i = 1; i < 30; i++)
        assert_int_equal(studio_clockmap_map(&cm, i * 33333, 5001000), 5000000 + i * 33333);
    assert_int_equal(studio_clockmap_map(&cm, 1000000, 6020000), 6000000); /* 20 ms late: kept */
    assert_int_equal(studio_clockmap_map(&cm, 9000000, 6040000), 6040000); /* 8 s ahead: a jump */
    assert_int_equal(studio_clockmap_map(&cm, 9500000, 6045000), 6540000);

    /* Pictures: the newest one due is picked, older ones are dropped. */
    struct studio_track *tr = studio_track_new(SR);
    AVFrame *f = av_frame_alloc();
    f->width = 32;
    f->height = 16;
    f->format = AV_PIX_FMT_YUV420P;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    struct studio_track_pick pk;
    studio_track_pick(tr, 5000000, &pk);
    assert_null(pk.frame);
    assert_int_equal(pk.width, 0);
    for (int i = 0; i < 5; i++)
        studio_track_push_video(tr, f, 5000000 + i * 40000, 5000000);
    /* Nothing due yet, just started: nothing shown before its time (its sound is not either). */
    studio_track_pick(tr, 4990000, &pk);
    assert_null(pk.frame);
    assert_int_equal(pk.width, 32);
    studio_track_pick(tr, 5090000, &pk); /* frame 2 (5.08 s) is the newest due */
    assert_non_null(pk.frame);
    assert_int_equal(pk.age_us, 10000);
    av_frame_free(&pk.frame);
    studio_track_pick(tr, 7000000, &pk); /* the last one, held, 1.84 s old */
    assert_non_null(pk.frame);
    assert_int_equal(pk.age_us, 7000000 - 5160000);
    assert_false(pk.still);
    av_frame_free(&pk.frame);
    /* Later pictures release the old ones: a reader running late gets the oldest left. */
    studio_track_push_video(tr, f, 5600000, 5900000);
    studio_track_pick(tr, 5000000, &pk);
    assert_non_null(pk.frame);
    assert_int_equal(pk.age_us, 0);
    av_frame_free(&pk.frame);
    /* A still is always shown and never stale. */
    studio_track_set_still(tr, f);
    studio_track_pick(tr, 99000000, &pk);
    assert_non_null(pk.frame);
    assert_true(pk.still);
    assert_int_equal(pk.age_us, 0);
    av_frame_free(&pk.frame);
    av_frame_free(&f);

    /* Audio: written where the timestamps say, silence elsewhere. */
    float l[1024], r[1024], o0[2048], o1[2048];
    for (int i = 0; i < 1024; i++) {
        l[i] = 0.5f;
        r[i] = -0.25f;
    }
    int64_t now = 10000000, base = studio_track_pos(now, SR);
    studio_track_push_audio(tr, l, r, 1024, now, now);
    /* 1024 samples at 48 kHz end at +21333 us; a timestamp 1 ms off stays contiguous. */
    studio_track_push_audio(tr, l, r, 1024, now + 22333, now);
    memset(o0, 0, sizeof(o0));
    memset(o1, 0, sizeof(o1));
    float *out[2] = {o0, o1};
    studio_track_mix(tr, base - 100, 2048, out, 2, 2.0f, STUDIO_CHANNEL_ALL);
    assert_true(o0[99] == 0.0f && o1[99] == 0.0f);
    assert_true(o0[100] == 1.0f && o1[100] == -0.5f);
    assert_true(o0[100 + 2047 - 100] == 1.0f); /* contiguous: no hole at 1024 */
    memset(o0, 0, sizeof(o0));
    memset(o1, 0, sizeof(o1));
    studio_track_mix(tr, base, 16, out, 2, 1.0f, STUDIO_CHANNEL_RIGHT);
    assert_true(o0[0] == -0.25f && o1[0] == -0.25f);
    memset(o0, 0, sizeof(o0));
    studio_track_mix(tr, base, 16, out, 1, 1.0f, STUDIO_CHANNEL_ALL);
    assert_true(o0[0] == 0.125f);
    /* 100 ms further on (beyond the slip): written there, leaving silence between. */
    studio_track_push_audio(tr, l, r, 1024, now + 143000, now);
    memset(o0, 0, sizeof(o0));
    memset(o1, 0, sizeof(o1));
    /* 143 ms = 6864 samples: silence from 2048 up to there, then the new block. */
    studio_track_mix(tr, base + 6864 - 2000, 2048, out, 2, 1.0f, STUDIO_CHANNEL_ALL);
    assert_true(o0[0] == 0.0f && o0[1999] == 0.0f);
    assert_true(o0[2000] == 0.5f && o0[2047] == 0.5f);
    /* Far outside the ring's window: dropped. */
    studio_track_push_audio(tr, l, r, 1024, now + 10000000, now);
    memset(o0, 0, sizeof(o0));
    studio_track_mix(tr, studio_track_pos(now + 10000000, SR), 1024, out, 1, 1.0f,
                     STUDIO_CHANNEL_ALL);
    assert_true(o0[0] == 0.0f);
    studio_track_free(tr);

    /* A persistent 3 ms error (same direction) is corrected after 16 writes, once. */
    tr = studio_track_new(SR);
    for (int k = 0; k < 20; k++) {
        int64_t p = k * 1024 + (k ? 144 : 0); /* where the timestamps say */
        studio_track_push_audio(tr, l, r, 1024, now + (p * 125 + 5) / 6, now);
    }
    memset(o0, 0, sizeof(o0));
    studio_track_mix(tr, base + 16 * 1024 - 1000, 2048, out, 1, 1.0f, STUDIO_CHANNEL_LEFT);
    assert_true(o0[999] == 0.5f);  /* end of write 15, contiguous */
    assert_true(o0[1000] == 0.0f); /* the 144-sample correction */
    assert_true(o0[1000 + 143] == 0.0f);
    assert_true(o0[1000 + 144] == 0.5f); /* write 16, realigned */
    assert_true(o0[2047] == 0.5f);       /* and contiguous again */
    studio_track_free(tr);
}

/* ===== the scenario ===== */

static void test_engine(void **state)
{
    loop_setup();
    synth_open(&red);
    synth_open(&blue);
    synth_publish(&red);
    synth_publish(&blue);
    struct event *tick = event_new(oa_loop_base(), -1, EV_PERSIST, tick_cb, NULL);
    struct timeval tv = {0, 5000};
    event_add(tick, &tv);
    run_for(300);

    struct studio_canvas canvas = {W, H, FPS, 800, 96, SR, 2};
    struct studio_caster *c = studio_caster_new(&canvas, DOMAIN);
    assert_non_null(c);
    struct studio_input_spec in1 = {"RV01", STUDIO_INPUT_LIVE, "rtmp://127.0.0.1:1935/live/red"};
    struct studio_input_spec in2 = {"RV02", STUDIO_INPUT_LIVE,
                                    "http://localhost:8080/live/blue.flv"};
    assert_int_equal(studio_caster_set_input(c, &in1), 0);
    assert_int_equal(studio_caster_set_input(c, &in2), 0);
    assert_int_equal(studio_caster_set_input(c, &in2), 0); /* same spec: no-op */
    struct studio_input_spec bad = {"RV00", STUDIO_INPUT_LIVE, "rtmp://x/y/z"};
    assert_int_equal(studio_caster_set_input(c, &bad), OA_EINVAL);

    struct studio_layout l = side_by_side();
    struct studio_scene *scene = NULL;
    assert_int_equal(studio_scene_start(c, "caster", "scene1", &l, 0, &scene), 0);
    assert_non_null(scene);
    struct studio_scene *dup = NULL;
    assert_int_equal(studio_scene_start(c, "caster", "scene1", &l, 0, &dup), OA_EBUSY);
    hub_subscribe(DOMAIN, "caster", "scene1", &O.out.sink);
    assert_int_equal(O.out.publishes, 1);
    /* A second scene (think PVW) on the same inputs, decoded only once. */
    struct studio_layout l2 = pip();
    struct studio_scene *scene2 = NULL;
    assert_int_equal(studio_scene_start(c, "caster", "scene2", &l2, 0, &scene2), 0);
    hub_subscribe(DOMAIN, "caster", "scene2", &out2.out.sink);

    /* --- 1. side by side --- */
    run_for(3000);
    decode_new();
    assert_true(O.have_meta && O.have_vhdr && O.have_ahdr);
    print_message("side by side: %zu video, %zu audio packets\n", O.nvts, O.nats);
    assert_true(O.nvts >= 80);
    assert_true(O.nats >= 120);
    assert_int_equal(O.vts[0], 0);
    check_video_ts(0);
    check_audio_ts(0);
    check_keyframes();
    check_interleaved();
    const struct vinfo *f = last_frame();
    print_message("left %s (%d,%d,%d), right %s (%d,%d,%d)\n", cname(classify(f, P_LEFT)),
                  f->y[P_LEFT], f->u[P_LEFT], f->v[P_LEFT], cname(classify(f, P_RIGHT)),
                  f->y[P_RIGHT], f->u[P_RIGHT], f->v[P_RIGHT]);
    assert_int_equal(classify(f, P_LEFT), C_RED);
    assert_int_equal(classify(f, P_RIGHT), C_BLUE);
    /* Once the inputs show (after the presentation delay), never a black or wrong frame. */
    for (size_t i = 0; i < O.nframes; i++) {
        if (O.frames[i].ts < 500)
            continue;
        assert_int_equal(classify(&O.frames[i], P_LEFT), C_RED);
        assert_int_equal(classify(&O.frames[i], P_RIGHT), C_BLUE);
    }
    /* The second scene composed its own layout from the same inputs. */
    cur = &out2;
    decode_new();
    check_video_ts(0);
    print_message("second scene: %zu frames\n", O.nframes);
    assert_true(O.nframes >= 80);
    for (size_t i = 0; i < O.nframes; i++) {
        if (O.frames[i].ts < 500)
            continue;
        assert_int_equal(classify(&O.frames[i], P_PIP), C_BLUE);
        assert_int_equal(classify(&O.frames[i], P_RIGHT_TOP), C_RED);
        assert_int_equal(classify(&O.frames[i], P_LEFT), C_RED);
    }
    cur = &out1;
    hub_unsubscribe(&out2.out.sink);
    studio_scene_stop(scene2);
    /* Audio: both tones in the last second. */
    size_t end = O.pcm_len, sec = SR;
    double level = rms(end - sec, end);
    double t660 = tone(end - sec, sec, 660);
    print_message("audio rms %.3f, 660 Hz %.3f\n", level, t660);
    assert_true(level > 0.05);
    assert_true(t660 > 0.03);

    /* A/V sync: the red source's flash (brighter + 440 Hz burst) starts together. */
    int checked = 0;
    double worst = 0;
    for (size_t i = 1; i < O.nframes; i++) {
        bool on = O.frames[i].y[P_LEFT] > 72, was = O.frames[i - 1].y[P_LEFT] > 72;
        if (!on || was || O.frames[i].ts < 500)
            continue;
        /* Find the audio onset near the video onset: 440 Hz magnitude in 10 ms windows. */
        int64_t vt = O.frames[i].ts;
        int64_t best = -1;
        for (int64_t t = vt - 150; t < vt + 150; t += 2) {
            size_t at = (size_t)(t * SR / 1000);
            if (at + 480 > O.pcm_len)
                break;
            if (tone(at, 480, 440) > 0.08) {
                best = t;
                break;
            }
        }
        if (best < 0)
            continue;
        /* The burst window starts when its first 10 ms hold most of the tone. */
        double d = (double)(best + 5 - vt);
        print_message("flash at %lld ms: audio onset %+.0f ms\n", (long long)vt, d);
        worst = fmax(worst, fabs(d));
        checked++;
    }
    assert_true(checked >= 1);
    assert_true(worst <= 34); /* within a frame */

    /* --- 2. take: picture-in-picture --- */
    /*
     * Checking took a while, and the scene went on composing: take in what it
     * produced meanwhile, so that `before` counts every frame composed with
     * the old layout up to now (one decoded frame per video packet).
     */
    run_for(1);
    size_t before = video_packets(), vts_before = O.nvts;
    l = pip();
    assert_int_equal(studio_scene_set_layout(scene, &l), 0);
    run_for(1000);
    decode_new();
    size_t first_pip = 0;
    for (size_t i = before; i < O.nframes; i++) {
        if (classify(&O.frames[i], P_PIP) == C_BLUE && classify(&O.frames[i], P_RIGHT) == C_RED &&
            classify(&O.frames[i], P_RIGHT_TOP) == C_RED) {
            first_pip = i;
            break;
        }
    }
    print_message("pip after %zu frames\n", first_pip - before);
    assert_true(first_pip >= before && first_pip - before <= 5);
    for (size_t i = first_pip; i < O.nframes; i++) {
        assert_int_equal(classify(&O.frames[i], P_PIP), C_BLUE);
        assert_int_equal(classify(&O.frames[i], P_LEFT), C_RED);
    }
    check_video_ts(vts_before - 1);

    /* --- 3. the blue source stops: hold, then black, the output keeps going --- */
    run_for(1);
    synth_unpublish(&blue);
    int64_t stop_ts = last_video_ts();
    size_t stop_idx = video_packets();
    run_for(2200);
    decode_new();
    print_message("after stop: %zu frames in 2.2 s\n", O.nframes - stop_idx);
    assert_true(O.nframes - stop_idx >= 60);
    check_video_ts(vts_before);
    int64_t black_from = -1, held_until = -1;
    for (size_t i = stop_idx; i < O.nframes; i++) {
        enum colour pc = classify(&O.frames[i], P_PIP);
        assert_int_equal(classify(&O.frames[i], P_LEFT), C_RED);
        if (pc == C_BLUE) {
            assert_true(black_from < 0);
            held_until = O.frames[i].ts;
        } else if (pc == C_BLACK && black_from < 0) {
            black_from = O.frames[i].ts;
        }
    }
    print_message("inset held until +%lld ms, black from +%lld ms\n",
                  (long long)(held_until - stop_ts), (long long)(black_from - stop_ts));
    assert_true(held_until - stop_ts >= 800); /* held, not blacked at once */
    assert_true(black_from > 0);
    assert_true(black_from - stop_ts <= 1800); /* black after ~1 s + delay */
    assert_int_equal(classify(last_frame(), P_PIP), C_BLACK);
    assert_int_equal(classify(last_frame(), P_RIGHT_TOP), C_RED);
    struct studio_input_info info;
    studio_caster_input_info(c, "RV02", &info);
    assert_true(info.present && info.local && info.has_picture && info.black);
    studio_caster_input_info(c, "RV01", &info);
    assert_false(info.black);
    /* The blue tone has gone, the red one is still there. */
    end = O.pcm_len;
    assert_true(tone(end - sec / 2, sec / 2, 660) < 0.01);

    /* --- 4. the source comes back --- */
    run_for(1);
    synth_publish(&blue);
    size_t back_idx = video_packets();
    run_for(1500);
    decode_new();
    check_video_ts(vts_before);
    int64_t back_at = -1;
    for (size_t i = back_idx; i < O.nframes; i++) {
        if (classify(&O.frames[i], P_PIP) == C_BLUE) {
            back_at = O.frames[i].ts - O.frames[back_idx].ts;
            break;
        }
    }
    print_message("inset back after %lld ms\n", (long long)back_at);
    assert_true(back_at >= 0 && back_at < 1000);
    /* Through the take, the stall, the black and the recovery: no gap, no jump, fixed GOPs. */
    check_video_ts(0);
    check_audio_ts(0);
    check_keyframes();
    check_interleaved();
    assert_int_equal(classify(last_frame(), P_PIP), C_BLUE);
    end = O.pcm_len;
    assert_true(tone(end - sec / 2, sec / 2, 660) > 0.03);

    struct studio_scene_stats st;
    studio_scene_get_stats(scene, &st);
    print_message("stats: %llu frames, %llu skipped, %llu audio, %llu post waits\n",
                  (unsigned long long)st.frames, (unsigned long long)st.skipped_frames,
                  (unsigned long long)st.audio_frames, (unsigned long long)st.post_waits);
    assert_true(studio_scene_running(scene));
    studio_caster_input_info(c, "RV02", &info);
    assert_true(info.present && info.local && info.has_picture && !info.black);
    assert_int_equal(info.width, 320);

    /* --- teardown --- */
    hub_unsubscribe(&O.out.sink);
    studio_caster_remove_input(c, "RV02");
    studio_scene_stop(scene);
    studio_caster_free(c);
    assert_int_equal(studio_wait_idle(10000), 0);
    oa_loop_drain_posts();
    event_free(tick);
    synth_unpublish(&red);
    synth_unpublish(&blue);
    synth_close(&red);
    synth_close(&blue);
    output_free();
    assert_int_equal(hub_stream_count(), 0);
    oa_loop_free();
}

/* ===== files: a looping VOD with a half-transparent PNG over it ===== */

static void write_flv(const char *path, int seconds)
{
    struct synth y = {"yellow", 210, 16, 146, 0, 500, 0.3, false, 48000, 2};
    synth_open(&y);
    y.file = fopen(path, "wb");
    assert_non_null(y.file);
    fwrite("FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00", 1, 13, y.file);
    synth_headers(&y);
    y.first = true;
    while (y.vframes < seconds * FPS) {
        if (y.vframes * 1000 / FPS <= y.asamples * 1000 / y.rate)
            synth_video(&y);
        else
            synth_audio(&y);
    }
    fclose(y.file);
    synth_close(&y);
}

static void write_png(const char *path, int alpha)
{
    const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_PNG);
    assert_non_null(c);
    AVCodecContext *ctx = avcodec_alloc_context3(c);
    ctx->width = 64;
    ctx->height = 48;
    ctx->pix_fmt = AV_PIX_FMT_RGBA;
    ctx->time_base = (AVRational){1, 25};
    assert_int_equal(avcodec_open2(ctx, c, NULL), 0);
    AVFrame *f = av_frame_alloc();
    f->width = 64;
    f->height = 48;
    f->format = AV_PIX_FMT_RGBA;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int y = 0; y < 48; y++) {
        for (int x = 0; x < 64; x++) {
            uint8_t *px = f->data[0] + y * f->linesize[0] + 4 * x;
            px[0] = 0;
            px[1] = 200;
            px[2] = 0;
            px[3] = (uint8_t)alpha;
        }
    }
    AVPacket *pkt = av_packet_alloc();
    assert_int_equal(avcodec_send_frame(ctx, f), 0);
    assert_int_equal(avcodec_receive_packet(ctx, pkt), 0);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    fwrite(pkt->data, 1, (size_t)pkt->size, fp);
    fclose(fp);
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&ctx);
}

static void loop_setup(void)
{
    struct outdec *outs[2] = {&out1, &out2};
    for (int i = 0; i < 2; i++) {
        memset(outs[i], 0, sizeof(*outs[i]));
        outs[i]->frame = av_frame_alloc();
        outs[i]->pkt = av_packet_alloc();
        outs[i]->out.sink.ops = &os_ops;
    }
    cur = &out1;
    oa_config_defaults(&oa_cfg);
    oa_cfg.studio_black_after_ms = 1000;
    oa_cfg.studio_x264_threads = 1;
    oa_strlcpy(oa_cfg.studio_x264_preset, "ultrafast", sizeof(oa_cfg.studio_x264_preset));
    oa_log_level = OA_LOG_WARN;
    av_log_set_level(AV_LOG_ERROR);
    assert_int_equal(oa_loop_init(), 0);
    hub_init();
}

static void output_free(void)
{
    struct outdec *outs[2] = {&out1, &out2};
    for (int k = 0; k < 2; k++) {
        struct outdec *o = outs[k];
        for (size_t i = 0; i < o->out.n; i++)
            packet_unref(&o->out.pkts[i]);
        free(o->out.pkts);
        avcodec_free_context(&o->vdec);
        avcodec_free_context(&o->adec);
        av_frame_free(&o->frame);
        av_packet_free(&o->pkt);
        free(o->frames);
        free(o->vts);
        free(o->vkey);
        free(o->ats);
        free(o->pcm);
        memset(o, 0, sizeof(*o));
    }
    cur = &out1;
}

static void noop_post(void *arg)
{
}

static bool near(int a, int b, int tol)
{
    return abs(a - b) <= tol;
}

static void test_files(void **state)
{
    char vod[128], png[128];
    snprintf(vod, sizeof(vod), "/tmp/onair-studio-test-%d.flv", (int)getpid());
    snprintf(png, sizeof(png), "/tmp/onair-studio-test-%d.png", (int)getpid());
    loop_setup();
    write_flv(vod, 2);
    write_png(png, 128);

    struct studio_canvas canvas = {W, H, FPS, 800, 96, SR, 2};
    struct studio_caster *c = studio_caster_new(&canvas, DOMAIN);
    struct studio_input_spec in1 = {"RV01", STUDIO_INPUT_VOD, vod, 0, 0, -1};
    struct studio_input_spec in2 = {"RV02", STUDIO_INPUT_IMAGE, png};
    assert_int_equal(studio_caster_set_input(c, &in1), 0);
    assert_int_equal(studio_caster_set_input(c, &in2), 0);
    struct studio_layout l;
    memset(&l, 0, sizeof(l));
    l.n_video = 2;
    l.video[0] = (struct studio_video_layer){"RV01", 1, 1, 0, 0, STUDIO_REFER_TOP_LEFT, 0};
    l.video[1] = (struct studio_video_layer){"RV02", 1, 0.5, 0, 0, STUDIO_REFER_TOP_RIGHT, 0};
    struct studio_scene *scene = NULL, *delayed = NULL;
    assert_int_equal(studio_scene_start(c, "caster", "files", &l, 0, &scene), 0);
    hub_subscribe(DOMAIN, "caster", "files", &O.out.sink);
    /* The same program 800 ms late: nothing reaches its stream before that. */
    assert_int_equal(studio_scene_start(c, "caster", "late", &l, STUDIO_MAX_DELAY_MS + 1, &delayed),
                     OA_EINVAL);
    assert_int_equal(studio_scene_start(c, "caster", "late", &l, 800, &delayed), 0);
    hub_subscribe(DOMAIN, "caster", "late", &out2.out.sink);
    assert_non_null(hub_find(DOMAIN, "caster", "late")->publisher);
    run_for(400);
    assert_int_equal(out2.out.n, 0);

    /* Longer than the 2 s file: it loops without a gap. */
    run_for(3100);
    decode_new();
    check_video_ts(0);
    check_audio_ts(0);
    size_t yellow = 0, late = 0;
    for (size_t i = 0; i < O.nframes; i++) {
        const struct vinfo *f = &O.frames[i];
        if (f->ts < 600)
            continue;
        late++;
        if (near(f->y[P_LEFT], 210, 12) && near(f->u[P_LEFT], 16, 12) &&
            near(f->v[P_LEFT], 146, 12))
            yellow++;
    }
    const struct vinfo *f = last_frame();
    print_message("vod+image: %zu/%zu frames yellow; right (%d,%d,%d)\n", yellow, late,
                  f->y[P_RIGHT], f->u[P_RIGHT], f->v[P_RIGHT]);
    assert_true(late >= 80);
    assert_int_equal(yellow, late);
    /* 50% green over yellow. */
    assert_true(near(f->y[P_RIGHT], 164, 10));
    assert_true(near(f->u[P_RIGHT], 43, 10));
    assert_true(near(f->v[P_RIGHT], 100, 10));
    size_t end = O.pcm_len, sec = SR;
    double t500 = tone(end - sec, sec, 500);
    print_message("vod audio 500 Hz %.3f\n", t500);
    assert_true(t500 > 0.1);
    cur = &out2;
    decode_new();
    print_message("delayed scene: %zu frames\n", O.nframes);
    assert_true(O.nframes >= 60);
    check_video_ts(0);
    check_audio_ts(0);
    check_keyframes();
    check_interleaved();
    cur = &out1;

    /*
     * The event loop stalls 1.5 s with its post queue full: the scene
     * threads wait for it instead of dropping output, then find themselves
     * more than a second behind and give up real time, not timestamps.
     */
    size_t stall_from = O.nvts;
    for (int i = 0; i < OA_LOOP_POST_MAX; i++)
        if (oa_loop_post(noop_post, NULL) != 0)
            break;
    struct timespec nap = {1, 500000000};
    nanosleep(&nap, NULL);
    run_for(1200);
    decode_new();
    struct studio_scene_stats st;
    studio_scene_get_stats(scene, &st);
    print_message("after the stall: %zu more frames; %llu post waits, %llu slots given up\n",
                  O.nvts - stall_from, (unsigned long long)st.post_waits,
                  (unsigned long long)st.skipped_frames);
    assert_true(st.post_waits > 0);
    assert_true(st.skipped_frames > 0);
    assert_true(O.nvts - stall_from >= 20);
    check_video_ts(0);
    check_audio_ts(0);
    check_keyframes();
    check_interleaved();

    hub_unsubscribe(&out2.out.sink);
    hub_unsubscribe(&O.out.sink);
    studio_caster_free(c);
    assert_int_equal(studio_wait_idle(10000), 0);
    oa_loop_drain_posts();
    output_free();
    assert_int_equal(hub_stream_count(), 0);
    oa_loop_free();
    unlink(vod);
    unlink(png);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_url_local),
        cmocka_unit_test(test_track),
        cmocka_unit_test(test_engine),
        cmocka_unit_test(test_files),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
