/*
 * input.c - caster inputs: where their media comes from and how it is
 * decoded, each on its own thread.
 *
 * All four kinds share one decoder set (struct dec): a video and an audio
 * decoder, a resampler to the canvas's rate as stereo float, and the
 * timestamp mapping onto the common clock (a clockmap for live sources,
 * real-time pacing for files). Decoded pictures are handed to the track by
 * reference; nothing is copied or scaled here.
 *
 * Local streams are read from the hub: the sink runs on the loop thread and
 * only takes packet references into a bounded queue guarded by the waiter's
 * mutex, so the loop never decodes. If the decoder falls that far behind,
 * the queue is emptied and video restarts at the next keyframe.
 *
 * Remote sources use libavformat on the input's thread. Its interrupt
 * callback checks the stop flag and a per-operation deadline, which bounds
 * every blocking call (open, probe, read) so stop and reconnect are prompt.
 */
#include "input.h"
#include "threads.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "hub/hub.h"
#include "media/avc.h"

#include <ctype.h>
#include <strings.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#define QUEUE_MAX 1024
#define QUEUE_MAX_BYTES (32 << 20)
#define BACKOFF_MIN_MS 500
#define BACKOFF_MAX_MS 4000
#define IMAGE_BACKOFF_MAX_MS 30000
#define OPEN_TIMEOUT_US 10000000
/* Files and paced live sources are decoded this far ahead of their presentation time. */
#define VOD_LEAD_US 50000
#define US ((AVRational){1, 1000000})

struct studio_input {
    struct studio_input_pub pub; /* the read-only view scenes use */
    _Atomic int refs;
    enum studio_input_kind kind;
    char *url;
    int64_t begin_ms, end_ms;
    int repeat;
    int rate;
    char domain[256], app[256], stream[256];
    /* stop flag; mu also guards the packet queue */
    struct studio_waiter w;
    struct packet **q; /* NULL entries mark a new publish */
    size_t qhead, qlen, qbytes;
    bool need_key;
    uint64_t qdrops;
    /* loop thread only */
    struct hub_sink sink;
    bool subscribed;
};

#define ilog(in, level, fmt, ...)                                                                  \
    oa_log(level, "studio input %s (%s): " fmt, (in)->pub.location_id, (in)->url, ##__VA_ARGS__)

static bool stopping(struct studio_input *in)
{
    return atomic_load(&in->w.stop);
}

/* ===== the local queue (hub sink on the loop thread -> input thread) ===== */

static void q_clear(struct studio_input *in)
{
    while (in->qlen) {
        packet_unref(&in->q[in->qhead]);
        in->qhead = (in->qhead + 1) % QUEUE_MAX;
        in->qlen--;
    }
    in->qbytes = 0;
}

/* Takes pkt's reference (NULL = publish marker). Called with w.mu held. */
static void q_push(struct studio_input *in, struct packet *pkt)
{
    if (in->qlen == QUEUE_MAX || in->qbytes > QUEUE_MAX_BYTES) {
        /* The decoder is hopelessly behind: start again from the next keyframe. */
        if (in->qdrops++ % 100 == 0)
            ilog(in, OA_LOG_WARN, "decoder behind, dropping %zu queued packets", in->qlen);
        q_clear(in);
        in->need_key = true;
    }
    if (pkt && pkt->type == PKT_VIDEO && !(pkt->flags & PKT_F_SEQHDR) && in->need_key) {
        if (!packet_is_video_key(pkt)) {
            packet_unref(&pkt);
            return;
        }
        in->need_key = false;
    }
    in->q[(in->qhead + in->qlen) % QUEUE_MAX] = pkt;
    in->qlen++;
    in->qbytes += pkt ? pkt->flv_len : 0;
    pthread_cond_signal(&in->w.cond);
}

static void sink_publish(struct hub_sink *sink)
{
    struct studio_input *in = oa_container_of(sink, struct studio_input, sink);
    ilog(in, OA_LOG_DEBUG, "source published");
    pthread_mutex_lock(&in->w.mu);
    q_push(in, NULL);
    pthread_mutex_unlock(&in->w.mu);
}

static void sink_packet(struct hub_sink *sink, struct packet *pkt)
{
    struct studio_input *in = oa_container_of(sink, struct studio_input, sink);
    if ((pkt->type != PKT_VIDEO && pkt->type != PKT_AUDIO) || pkt->size < 2)
        return;
    pthread_mutex_lock(&in->w.mu);
    q_push(in, packet_ref(pkt));
    pthread_mutex_unlock(&in->w.mu);
}

static void sink_unpublish(struct hub_sink *sink)
{
    struct studio_input *in = oa_container_of(sink, struct studio_input, sink);
    ilog(in, OA_LOG_DEBUG, "source unpublished");
}

static const struct hub_sink_ops sink_ops = {sink_publish, sink_packet, sink_unpublish};

/* ===== decoding ===== */

struct dec {
    struct studio_input *in;
    AVCodecContext *vc, *ac;
    /* local: the FLV codec and configuration record the decoders were opened with */
    int v_flv, a_flv;
    uint8_t *vcfg, *acfg;
    size_t vcfg_len, acfg_len;
    bool v_need_key;
    AVPacket *pkt;
    AVFrame *frame;
    SwrContext *swr;
    AVChannelLayout swr_layout;
    int swr_rate, swr_fmt;
    bool swr_mono;
    float *ab[2];
    int ab_cap;
    int64_t v_next_pts, v_last_pts, a_next_pts;
    struct studio_clockmap clock;
    /* libavformat */
    AVFormatContext *fmt;
    int vs, as;
    int64_t io_deadline_us;
    /* files */
    bool vod;
    int64_t vod_begin_us, vod_end_us; /* relative to the file's start */
    int64_t vod_skip_until_us;        /* frames before this are decoded but not shown */
    int64_t vod_base_us;              /* media time added by earlier plays */
    int64_t vod_offset_us;            /* common clock - media time */
    bool vod_anchored, vod_hit_end;
    int64_t vod_start_us;      /* the file's start_time */
    int64_t vod_last_end_us;   /* largest frame end seen, relative */
    int64_t vod_last_shown_us; /* last delivered frame, relative (resume point) */
};

static void dec_init(struct dec *d, struct studio_input *in)
{
    memset(d, 0, sizeof(*d));
    d->in = in;
    d->pkt = av_packet_alloc();
    d->frame = av_frame_alloc();
    d->vs = d->as = -1;
    d->v_next_pts = d->a_next_pts = d->v_last_pts = AV_NOPTS_VALUE;
    d->vod_end_us = INT64_MAX;
    studio_clockmap_reset(&d->clock, false);
}

static void dec_close_codecs(struct dec *d)
{
    avcodec_free_context(&d->vc);
    avcodec_free_context(&d->ac);
    oa_free(d->vcfg);
    oa_free(d->acfg);
    d->vcfg = d->acfg = NULL;
    d->vcfg_len = d->acfg_len = 0;
    d->v_flv = d->a_flv = 0;
    d->v_next_pts = d->a_next_pts = d->v_last_pts = AV_NOPTS_VALUE;
}

static void dec_free(struct dec *d)
{
    dec_close_codecs(d);
    avformat_close_input(&d->fmt);
    swr_free(&d->swr);
    av_channel_layout_uninit(&d->swr_layout);
    av_freep(&d->ab[0]);
    av_freep(&d->ab[1]);
    av_packet_free(&d->pkt);
    av_frame_free(&d->frame);
}

static AVCodecContext *open_decoder(enum AVCodecID id, const AVCodecParameters *par,
                                    const uint8_t *extra, size_t extra_len)
{
    const AVCodec *codec = avcodec_find_decoder(id);
    if (!codec)
        return NULL;
    AVCodecContext *c = avcodec_alloc_context3(codec);
    if (!c)
        return NULL;
    if (par && avcodec_parameters_to_context(c, par) < 0) {
        avcodec_free_context(&c);
        return NULL;
    }
    if (extra && extra_len) {
        c->extradata = av_mallocz(extra_len + AV_INPUT_BUFFER_PADDING_SIZE);
        if (!c->extradata) {
            avcodec_free_context(&c);
            return NULL;
        }
        memcpy(c->extradata, extra, extra_len);
        c->extradata_size = (int)extra_len;
    }
    c->pkt_timebase = US;
    /*
     * One thread per input up to 1080p: inputs already decode in parallel.
     * Bigger pictures get libavcodec's own threads so one input keeps up.
     */
    c->thread_count = (int64_t)c->width * c->height > 1920 * 1088 ? 0 : 1;
    if (avcodec_open2(c, codec, NULL) < 0)
        avcodec_free_context(&c);
    return c;
}

/*
 * The common-clock time of a frame (pts in microseconds), pacing files in
 * real time. Returns false if the frame is not to be shown.
 */
static bool dec_time(struct dec *d, int64_t pts, int64_t *t_us)
{
    int64_t now = oa_mono_us();
    if (!d->vod) {
        int64_t t = studio_clockmap_map(&d->clock, pts, now);
        /* Paced: hold the frame back until just before it is due, as files are. */
        while (d->clock.paced && oa_mono_us() < t - VOD_LEAD_US) {
            if (studio_waiter_sleep_until(&d->in->w, (t - VOD_LEAD_US) * 1000))
                return false;
        }
        *t_us = t;
        return true;
    }
    int64_t rel = pts - d->vod_start_us;
    if (rel >= d->vod_end_us) {
        d->vod_hit_end = true;
        return false;
    }
    if (rel < d->vod_skip_until_us)
        return false;
    int64_t m = rel - d->vod_begin_us + d->vod_base_us;
    if (!d->vod_anchored) {
        d->vod_offset_us = now - m;
        d->vod_anchored = true;
    }
    int64_t t = m + d->vod_offset_us;
    if (now > t + STUDIO_DELAY_US / 2) {
        /* We fell behind (slow source): pause the file's timeline rather than skip. */
        d->vod_offset_us += now - t;
        t = now;
    }
    while (oa_mono_us() < t - VOD_LEAD_US) {
        if (studio_waiter_sleep_until(&d->in->w, (t - VOD_LEAD_US) * 1000))
            return false;
    }
    d->vod_last_shown_us = rel;
    *t_us = t;
    return true;
}

static int64_t frame_pts(AVFrame *f, int64_t next)
{
    int64_t pts = f->best_effort_timestamp;
    if (pts == AV_NOPTS_VALUE)
        pts = f->pts;
    return pts == AV_NOPTS_VALUE ? (next == AV_NOPTS_VALUE ? 0 : next) : pts;
}

static void got_video(struct dec *d, AVFrame *f)
{
    int64_t pts = frame_pts(f, d->v_next_pts);
    int64_t dur = d->v_last_pts != AV_NOPTS_VALUE ? pts - d->v_last_pts : 0;
    if (dur <= 0 || dur > 200000)
        dur = 40000;
    d->v_last_pts = pts;
    d->v_next_pts = pts + dur;
    if (d->vod && pts + dur - d->vod_start_us > d->vod_last_end_us)
        d->vod_last_end_us = pts + dur - d->vod_start_us;
    int64_t t;
    if (!dec_time(d, pts, &t))
        return;
    studio_track_push_video(d->in->pub.track, f, t, oa_mono_us());
    atomic_store(&d->in->pub.last_frame_us, oa_mono_us());
}

static int ensure_swr(struct dec *d, AVFrame *f)
{
    AVChannelLayout in_layout;
    if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || f->ch_layout.nb_channels <= 0)
        av_channel_layout_default(&in_layout,
                                  f->ch_layout.nb_channels > 0 ? f->ch_layout.nb_channels : 2);
    else if (av_channel_layout_copy(&in_layout, &f->ch_layout) < 0)
        return OA_ECODEC;
    if (d->swr && d->swr_rate == f->sample_rate && d->swr_fmt == f->format &&
        av_channel_layout_compare(&d->swr_layout, &in_layout) == 0) {
        av_channel_layout_uninit(&in_layout);
        return 0;
    }
    swr_free(&d->swr);
    av_channel_layout_uninit(&d->swr_layout);
    /*
     * Mono stays mono here and is copied to both sides of the ring, so it
     * plays as loud on each side as it is (swresample would make it 3 dB
     * quieter); anything else is mixed down to stereo.
     */
    AVChannelLayout out = AV_CHANNEL_LAYOUT_STEREO, mono = AV_CHANNEL_LAYOUT_MONO;
    int r =
        swr_alloc_set_opts2(&d->swr, in_layout.nb_channels == 1 ? &mono : &out, AV_SAMPLE_FMT_FLTP,
                            d->in->rate, &in_layout, f->format, f->sample_rate, 0, NULL);
    if (r >= 0)
        r = swr_init(d->swr);
    if (r < 0) {
        swr_free(&d->swr);
        av_channel_layout_uninit(&in_layout);
        return OA_ECODEC;
    }
    d->swr_mono = in_layout.nb_channels == 1;
    d->swr_layout = in_layout;
    d->swr_rate = f->sample_rate;
    d->swr_fmt = f->format;
    return 0;
}

static void got_audio(struct dec *d, AVFrame *f)
{
    if (f->sample_rate <= 0 || f->nb_samples <= 0)
        return;
    int64_t pts = frame_pts(f, d->a_next_pts);
    int64_t dur = (int64_t)f->nb_samples * 1000000 / f->sample_rate;
    d->a_next_pts = pts + dur;
    if (d->vod && pts + dur - d->vod_start_us > d->vod_last_end_us)
        d->vod_last_end_us = pts + dur - d->vod_start_us;
    int64_t t;
    if (!dec_time(d, pts, &t) || ensure_swr(d, f) < 0)
        return;
    int64_t delay = swr_get_delay(d->swr, d->in->rate);
    int cap = swr_get_out_samples(d->swr, f->nb_samples);
    if (cap <= 0)
        return;
    if (cap > d->ab_cap) {
        av_freep(&d->ab[0]);
        av_freep(&d->ab[1]);
        d->ab[0] = av_malloc_array((size_t)cap, sizeof(float));
        d->ab[1] = av_malloc_array((size_t)cap, sizeof(float));
        if (!d->ab[0] || !d->ab[1]) {
            av_freep(&d->ab[0]);
            av_freep(&d->ab[1]);
            d->ab_cap = 0;
            return;
        }
        d->ab_cap = cap;
    }
    int n = swr_convert(d->swr, (uint8_t **)d->ab, cap, (const uint8_t **)f->extended_data,
                        f->nb_samples);
    if (n > 0)
        studio_track_push_audio(d->in->pub.track, d->ab[0], d->ab[d->swr_mono ? 0 : 1], n,
                                t - delay * 1000000 / d->in->rate, oa_mono_us());
}

/* Sends pkt (NULL: drain) and hands every frame that comes out to the track. */
static void dec_decode(struct dec *d, AVCodecContext *c, AVPacket *pkt)
{
    if (!c)
        return;
    avcodec_send_packet(c, pkt); /* errors: corrupt input; the decoder resyncs by itself */
    while (!stopping(d->in) && avcodec_receive_frame(c, d->frame) >= 0) {
        if (c == d->vc)
            got_video(d, d->frame);
        else
            got_audio(d, d->frame);
        av_frame_unref(d->frame);
    }
}

/* ===== local hub streams ===== */

static bool same_cfg(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
    return a && alen == blen && memcmp(a, b, alen) == 0;
}

static void local_video(struct dec *d, struct packet *pkt)
{
    int codec = pkt->data[0] & 0x0f;
    if ((codec != FLV_VIDEO_CODEC_AVC && codec != FLV_VIDEO_CODEC_HEVC) || pkt->size < 5)
        return;
    const uint8_t *body = pkt->data + 5;
    size_t n = pkt->size - 5;
    if (pkt->data[1] == 0) {
        if (d->vc && d->v_flv == codec && same_cfg(d->vcfg, d->vcfg_len, body, n))
            return;
        avcodec_free_context(&d->vc);
        oa_free(d->vcfg);
        d->vcfg = oa_memdup(body, n);
        d->vcfg_len = n;
        d->v_flv = codec;
        AVCodecParameters *par = avcodec_parameters_alloc();
        struct avc_config cfg;
        if (par && codec == FLV_VIDEO_CODEC_AVC && avc_parse_config(body, n, &cfg) == 0) {
            par->width = cfg.width; /* only to choose the thread count */
            par->height = cfg.height;
        }
        enum AVCodecID id = codec == FLV_VIDEO_CODEC_AVC ? AV_CODEC_ID_H264 : AV_CODEC_ID_HEVC;
        if (par) {
            par->codec_type = AVMEDIA_TYPE_VIDEO;
            par->codec_id = id;
        }
        d->vc = open_decoder(id, par, body, n);
        avcodec_parameters_free(&par);
        d->v_need_key = true;
        if (!d->vc)
            ilog(d->in, OA_LOG_WARN, "cannot open the video decoder");
        return;
    }
    if (pkt->data[1] != 1 || !d->vc || n == 0)
        return;
    bool key = (pkt->data[0] >> 4) == 1;
    if (d->v_need_key && !key)
        return;
    d->v_need_key = false;
    int32_t cts = (int32_t)(oa_rb24(pkt->data + 2) << 8) >> 8;
    if (av_new_packet(d->pkt, (int)n) < 0)
        return;
    memcpy(d->pkt->data, body, n);
    d->pkt->dts = (int64_t)pkt->ts * 1000;
    d->pkt->pts = ((int64_t)pkt->ts + cts) * 1000;
    if (key)
        d->pkt->flags |= AV_PKT_FLAG_KEY;
    dec_decode(d, d->vc, d->pkt);
    av_packet_unref(d->pkt);
}

static void local_audio(struct dec *d, struct packet *pkt)
{
    int codec = pkt->data[0] >> 4;
    const uint8_t *body;
    size_t n;
    if (codec == FLV_AUDIO_CODEC_AAC) {
        body = pkt->data + 2;
        n = pkt->size - 2;
        if (pkt->data[1] == 0) {
            if (d->ac && d->a_flv == codec && same_cfg(d->acfg, d->acfg_len, body, n))
                return;
            avcodec_free_context(&d->ac);
            oa_free(d->acfg);
            d->acfg = oa_memdup(body, n);
            d->acfg_len = n;
            d->a_flv = codec;
            d->ac = open_decoder(AV_CODEC_ID_AAC, NULL, body, n);
            if (!d->ac)
                ilog(d->in, OA_LOG_WARN, "cannot open the AAC decoder");
            return;
        }
    } else if (codec == FLV_AUDIO_CODEC_MP3) {
        body = pkt->data + 1;
        n = pkt->size - 1;
        if (!d->ac || d->a_flv != codec) {
            avcodec_free_context(&d->ac);
            d->a_flv = codec;
            d->ac = open_decoder(AV_CODEC_ID_MP3, NULL, NULL, 0);
        }
    } else {
        return; /* other audio codecs: silence */
    }
    if (!d->ac || n == 0 || av_new_packet(d->pkt, (int)n) < 0)
        return;
    memcpy(d->pkt->data, body, n);
    d->pkt->pts = d->pkt->dts = (int64_t)pkt->ts * 1000;
    dec_decode(d, d->ac, d->pkt);
    av_packet_unref(d->pkt);
}

static void run_local(struct dec *d)
{
    struct studio_input *in = d->in;
    struct packet *batch[64];
    while (!stopping(in)) {
        size_t n = 0;
        pthread_mutex_lock(&in->w.mu);
        if (in->qlen == 0 && !atomic_load(&in->w.stop)) {
            struct timespec ts;
            int64_t dl = studio_mono_ns() + 500000000;
            ts.tv_sec = (time_t)(dl / 1000000000);
            ts.tv_nsec = (long)(dl % 1000000000);
            pthread_cond_timedwait(&in->w.cond, &in->w.mu, &ts);
        }
        while (in->qlen && n < OA_ARRAY_SIZE(batch)) {
            struct packet *p = in->q[in->qhead];
            in->qhead = (in->qhead + 1) % QUEUE_MAX;
            in->qlen--;
            in->qbytes -= p ? p->flv_len : 0;
            batch[n++] = p;
        }
        pthread_mutex_unlock(&in->w.mu);
        for (size_t i = 0; i < n; i++) {
            if (!batch[i]) {
                /* A new publisher: new timestamps, maybe new codecs (its headers follow). */
                studio_track_audio_discontinuity(in->pub.track);
                d->v_need_key = true;
                continue;
            }
            if (!stopping(in)) {
                if (batch[i]->type == PKT_VIDEO)
                    local_video(d, batch[i]);
                else
                    local_audio(d, batch[i]);
            }
            packet_unref(&batch[i]);
        }
    }
}

/* ===== libavformat sources ===== */

static int interrupt_cb(void *opaque)
{
    struct dec *d = opaque;
    return stopping(d->in) || (d->io_deadline_us && oa_mono_us() > d->io_deadline_us);
}

/*
 * A source silent this long is reconnected. HLS delivers whole segments,
 * so a live playlist may legitimately stay silent for a segment or two.
 */
static int64_t read_timeout_us(const struct studio_input *in)
{
    int ms = OA_MAX(oa_cfg.studio_black_after_ms, 2000);
    if (strstr(in->url, ".m3u8"))
        ms = OA_MAX(ms, 15000);
    return (int64_t)ms * 1000;
}

static void close_source(struct dec *d)
{
    dec_close_codecs(d);
    avformat_close_input(&d->fmt);
    d->vs = d->as = -1;
}

/* Opens the URL and the decoders of its best video and audio streams. */
static int open_source(struct dec *d, bool live)
{
    struct studio_input *in = d->in;
    AVFormatContext *fmt = avformat_alloc_context();
    if (!fmt)
        return OA_ECODEC;
    fmt->interrupt_callback = (AVIOInterruptCB){interrupt_cb, d};
    /* Live sources start playing sooner with a short probe; files can afford a longer one. */
    fmt->probesize = live ? 512 << 10 : 5 << 20;
    fmt->max_analyze_duration = live ? 700000 : 5000000;
    AVDictionary *opts = NULL;
    char tmo[32];
    snprintf(tmo, sizeof(tmo), "%lld", (long long)read_timeout_us(in));
    av_dict_set(&opts, "rw_timeout", tmo, 0);
    if (live && strncmp(in->url, "rtmp", 4) == 0)
        av_dict_set(&opts, "rtmp_live", "live", 0);
    d->io_deadline_us = oa_mono_us() + OPEN_TIMEOUT_US;
    int r = avformat_open_input(&fmt, in->url, NULL, &opts);
    av_dict_free(&opts);
    if (r < 0)
        return r;
    d->fmt = fmt;
    d->io_deadline_us = oa_mono_us() + OPEN_TIMEOUT_US;
    r = avformat_find_stream_info(fmt, NULL);
    if (r < 0) {
        close_source(d);
        return r;
    }
    d->vs = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    d->as = av_find_best_stream(fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    if (d->vs >= 0) {
        AVCodecParameters *par = fmt->streams[d->vs]->codecpar;
        d->vc = open_decoder(par->codec_id, par, NULL, 0);
        if (!d->vc)
            d->vs = -1;
    }
    if (d->as >= 0) {
        AVCodecParameters *par = fmt->streams[d->as]->codecpar;
        d->ac = open_decoder(par->codec_id, par, NULL, 0);
        if (!d->ac)
            d->as = -1;
    }
    if (d->vs < 0 && d->as < 0) {
        close_source(d);
        return OA_ECODEC;
    }
    for (unsigned i = 0; i < fmt->nb_streams; i++) {
        if ((int)i != d->vs && (int)i != d->as)
            fmt->streams[i]->discard = AVDISCARD_ALL;
    }
    d->io_deadline_us = 0;
    return 0;
}

/* Reads and decodes one packet; returns av_read_frame's result. */
static int read_one(struct dec *d)
{
    d->io_deadline_us = oa_mono_us() + read_timeout_us(d->in);
    int r = av_read_frame(d->fmt, d->pkt);
    d->io_deadline_us = 0;
    if (r < 0)
        return r;
    int si = d->pkt->stream_index;
    if (si == d->vs || si == d->as) {
        av_packet_rescale_ts(d->pkt, d->fmt->streams[si]->time_base, US);
        dec_decode(d, si == d->vs ? d->vc : d->ac, d->pkt);
    }
    av_packet_unref(d->pkt);
    return 0;
}

/* Sleeps ms unless stopped; returns true if stopped. */
static bool nap(struct studio_input *in, int ms)
{
    int64_t until = studio_mono_ns() + (int64_t)ms * 1000000;
    while (studio_mono_ns() < until) {
        if (studio_waiter_sleep_until(&in->w, until))
            return true;
    }
    return stopping(in);
}

static void run_remote(struct dec *d)
{
    struct studio_input *in = d->in;
    int backoff = BACKOFF_MIN_MS;
    while (!stopping(in)) {
        int r = open_source(d, true);
        if (r == 0) {
            ilog(in, OA_LOG_INFO, "connected");
            /* HLS hands over whole segments at once: pace them (see struct studio_clockmap). */
            studio_clockmap_reset(&d->clock, strcmp(d->fmt->iformat->name, "hls") == 0);
            studio_track_audio_discontinuity(in->pub.track);
            int64_t opened = oa_mono_us();
            while (!stopping(in) && (r = read_one(d)) == 0) {
                /* Healthy for a while: the next failure starts the backoff afresh. */
                if (backoff > BACKOFF_MIN_MS && oa_mono_us() - opened > 10000000)
                    backoff = BACKOFF_MIN_MS;
            }
            close_source(d);
        }
        if (stopping(in))
            break;
        ilog(in, OA_LOG_INFO, "%s (%s), retrying in %d ms", r == AVERROR_EOF ? "ended" : "failed",
             av_err2str(r), backoff);
        if (nap(in, backoff))
            break;
        backoff = OA_MIN(backoff * 2, BACKOFF_MAX_MS);
    }
}

static void flush_decoders(struct dec *d)
{
    if (d->vc)
        avcodec_flush_buffers(d->vc);
    if (d->ac)
        avcodec_flush_buffers(d->ac);
    d->v_last_pts = AV_NOPTS_VALUE;
}

/* Opens the file and seeks to rel_us (relative to its start). */
static int vod_open_at(struct dec *d, int64_t rel_us)
{
    int r = open_source(d, false);
    if (r < 0)
        return r;
    d->vod_start_us = d->fmt->start_time != AV_NOPTS_VALUE ? d->fmt->start_time : 0;
    int64_t dur = d->fmt->duration;
    d->vod_begin_us = OA_MAX(d->in->begin_ms, 0) * 1000;
    if (d->in->end_ms > 0)
        d->vod_end_us = d->in->end_ms * 1000;
    else if (d->in->end_ms < 0 && dur != AV_NOPTS_VALUE && dur > 0)
        d->vod_end_us = dur + d->in->end_ms * 1000;
    else
        d->vod_end_us = INT64_MAX;
    if (d->vod_end_us <= d->vod_begin_us) {
        ilog(d->in, OA_LOG_WARN, "empty range %lld..%lld ms", (long long)d->vod_begin_us / 1000,
             (long long)d->vod_end_us / 1000);
        return OA_EINVAL;
    }
    if (rel_us > 0) {
        int64_t ts = d->vod_start_us + rel_us;
        d->io_deadline_us = oa_mono_us() + OPEN_TIMEOUT_US;
        avformat_seek_file(d->fmt, -1, INT64_MIN, ts, ts, 0);
        d->io_deadline_us = 0;
        flush_decoders(d);
    }
    d->vod_skip_until_us = rel_us;
    return 0;
}

static void run_vod(struct dec *d)
{
    struct studio_input *in = d->in;
    int backoff = BACKOFF_MIN_MS, plays = 0;
    bool opened = false;
    d->vod = true;
    while (!stopping(in)) {
        if (!opened) {
            /* First open, or reopen after an error: continue where we were. */
            int64_t at = d->vod_anchored ? d->vod_last_shown_us : OA_MAX(in->begin_ms, 0) * 1000;
            int r = vod_open_at(d, at);
            if (r < 0) {
                close_source(d);
                ilog(in, OA_LOG_INFO, "cannot open (%s), retrying in %d ms", av_err2str(r),
                     backoff);
                if (nap(in, backoff))
                    break;
                backoff = OA_MIN(backoff * 2, BACKOFF_MAX_MS);
                continue;
            }
            opened = true;
        }
        d->vod_hit_end = false;
        int r = 0;
        while (!stopping(in) && !d->vod_hit_end && (r = read_one(d)) == 0)
            ;
        if (stopping(in))
            break;
        if (r < 0 && r != AVERROR_EOF) {
            ilog(in, OA_LOG_INFO, "read failed (%s), reopening", av_err2str(r));
            close_source(d);
            opened = false;
            if (nap(in, backoff))
                break;
            backoff = OA_MIN(backoff * 2, BACKOFF_MAX_MS);
            continue;
        }
        backoff = BACKOFF_MIN_MS;
        /* End of this play: let the decoders give up their last frames. */
        if (!d->vod_hit_end) {
            dec_decode(d, d->vc, NULL);
            dec_decode(d, d->ac, NULL);
        }
        flush_decoders(d);
        plays++;
        if (in->repeat >= 0 && plays > in->repeat)
            break;
        int64_t end = d->vod_end_us != INT64_MAX ? d->vod_end_us : d->vod_last_end_us;
        d->vod_base_us += OA_MAX(end - d->vod_begin_us, 40000);
        d->io_deadline_us = oa_mono_us() + OPEN_TIMEOUT_US;
        int64_t ts = d->vod_start_us + d->vod_begin_us;
        if (avformat_seek_file(d->fmt, -1, INT64_MIN, ts, ts, 0) < 0) {
            close_source(d);
            opened = false;
            d->vod_last_shown_us = d->vod_begin_us;
        }
        d->io_deadline_us = 0;
        d->vod_skip_until_us = d->vod_begin_us;
        d->v_next_pts = d->a_next_pts = AV_NOPTS_VALUE;
    }
    close_source(d);
    if (!stopping(in))
        ilog(in, OA_LOG_INFO, "finished after %d play(s); holding the last frame", plays);
    while (!stopping(in) && !nap(in, 1000))
        ;
}

/*
 * Makes f the input's still. The composer reads planes by byte offsets, so
 * the rare bit-packed formats (1-bit PNGs) are converted to 8-bit grey first.
 */
static void set_still(struct dec *d, AVFrame *f)
{
    const AVPixFmtDescriptor *desc = av_pix_fmt_desc_get(f->format);
    if (desc && !(desc->flags & (AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL))) {
        studio_track_set_still(d->in->pub.track, f);
        return;
    }
    AVFrame *g = av_frame_alloc();
    struct SwsContext *sws = sws_getContext(f->width, f->height, f->format, f->width, f->height,
                                            AV_PIX_FMT_GRAY8, SWS_POINT, NULL, NULL, NULL);
    if (g && sws) {
        g->width = f->width;
        g->height = f->height;
        g->format = AV_PIX_FMT_GRAY8;
        if (av_frame_get_buffer(g, 0) == 0 &&
            sws_scale(sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, g->data,
                      g->linesize) > 0)
            studio_track_set_still(d->in->pub.track, g);
    }
    sws_freeContext(sws);
    av_frame_free(&g);
}

static void run_image(struct dec *d)
{
    struct studio_input *in = d->in;
    int backoff = 1000;
    while (!stopping(in)) {
        bool got = false;
        int r = open_source(d, false);
        if (r == 0 && d->vc) {
            /* Read until the decoder gives a picture (usually the first packet). */
            while (!got && !stopping(in)) {
                d->io_deadline_us = oa_mono_us() + OPEN_TIMEOUT_US;
                r = av_read_frame(d->fmt, d->pkt);
                d->io_deadline_us = 0;
                bool eof = r < 0;
                if (!eof && d->pkt->stream_index != d->vs) {
                    av_packet_unref(d->pkt);
                    continue;
                }
                avcodec_send_packet(d->vc, eof ? NULL : d->pkt);
                av_packet_unref(d->pkt);
                if (avcodec_receive_frame(d->vc, d->frame) >= 0) {
                    set_still(d, d->frame);
                    atomic_store(&in->pub.last_frame_us, oa_mono_us());
                    av_frame_unref(d->frame);
                    got = true;
                } else if (eof) {
                    break;
                }
            }
        }
        close_source(d);
        if (got) {
            ilog(in, OA_LOG_INFO, "image loaded");
            break;
        }
        if (stopping(in))
            break;
        ilog(in, OA_LOG_INFO, "cannot load the image (%s), retrying in %d ms",
             r < 0 ? av_err2str(r) : "no picture", backoff);
        if (nap(in, backoff))
            break;
        backoff = OA_MIN(backoff * 2, IMAGE_BACKOFF_MAX_MS);
    }
    while (!stopping(in) && !nap(in, 1000))
        ;
}

static void input_main(void *arg)
{
    struct studio_input *in = arg;
    struct dec d;
    dec_init(&d, in);
    if (!d.pkt || !d.frame)
        ilog(in, OA_LOG_ERROR, "out of memory");
    else if (in->pub.local)
        run_local(&d);
    else if (in->kind == STUDIO_INPUT_VOD)
        run_vod(&d);
    else if (in->kind == STUDIO_INPUT_IMAGE)
        run_image(&d);
    else
        run_remote(&d);
    dec_free(&d);
    studio_input_unref(&in);
}

/* ===== URLs ===== */

static int port_of(const char *listen)
{
    const char *c = strrchr(listen, ':');
    long long v;
    return c && oa_parse_int(c + 1, 1, 65535, &v) == 0 ? (int)v : -1;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Copies the decoded value of name from a query string; false if absent. */
static bool query_param(const char *q, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    while (q && *q) {
        size_t len = strcspn(q, "&");
        if (len > nlen && strncmp(q, name, nlen) == 0 && q[nlen] == '=') {
            size_t o = 0;
            for (size_t i = nlen + 1; i < len && o + 1 < outlen; i++) {
                int c = (unsigned char)q[i];
                if (c == '%' && i + 2 < len && hexval(q[i + 1]) >= 0 && hexval(q[i + 2]) >= 0) {
                    c = hexval(q[i + 1]) * 16 + hexval(q[i + 2]);
                    i += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                out[o++] = (char)c;
            }
            out[o] = '\0';
            return o > 0;
        }
        q = q[len] ? q + len + 1 : NULL;
    }
    return false;
}

static bool name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '_' && c != '-' && c != '.' && c != '~')
            return false;
    }
    return true;
}

static bool is_loopback(const char *host)
{
    if (oa_strcaseeq(host, "127.0.0.1") || oa_strcaseeq(host, "localhost") ||
        oa_strcaseeq(host, "::1"))
        return true;
    if (!oa_cfg.public_host[0])
        return false;
    char ph[256];
    oa_strlcpy(ph, oa_cfg.public_host, sizeof(ph));
    /* public_host may carry a port ("example.com:8080"); compare the host part. */
    char *colon = strrchr(ph, ':');
    if (colon && strchr(ph, ':') == colon)
        *colon = '\0';
    return oa_strcaseeq(host, ph);
}

bool studio_url_local(const char *url, const char *caster_domain, studio_domain_resolver *resolver,
                      char *domain, char *app, char *stream)
{
    bool rtmp = strncasecmp(url, "rtmp://", 7) == 0, http = strncasecmp(url, "http://", 7) == 0;
    if (!rtmp && !http)
        return false;
    const char *p = url + 7;
    char host[256];
    size_t n;
    if (*p == '[') {
        const char *e = strchr(p, ']');
        if (!e || (size_t)(e - p - 1) >= sizeof(host))
            return false;
        n = (size_t)(e - p - 1);
        memcpy(host, p + 1, n);
        host[n] = '\0';
        p = e + 1;
    } else {
        n = strcspn(p, ":/?");
        if (n == 0 || n >= sizeof(host))
            return false;
        memcpy(host, p, n);
        host[n] = '\0';
        p += n;
    }
    int port = rtmp ? 1935 : 80;
    if (*p == ':') {
        char num[8];
        n = strcspn(p + 1, "/?");
        long long v;
        if (n == 0 || n >= sizeof(num))
            return false;
        memcpy(num, p + 1, n);
        num[n] = '\0';
        if (oa_parse_int(num, 1, 65535, &v) != 0)
            return false;
        port = (int)v;
        p += 1 + n;
    }
    if (*p != '/' || port != port_of(rtmp ? oa_cfg.rtmp_listen : oa_cfg.http_listen))
        return false;
    /* "/app[?q]/stream[?q]": some clients put the query after the app. */
    p++;
    char seg1[512], seg2[1024];
    n = strcspn(p, "/");
    if (p[n] != '/' || n >= sizeof(seg1) || strlen(p + n + 1) >= sizeof(seg2))
        return false;
    memcpy(seg1, p, n);
    seg1[n] = '\0';
    oa_strlcpy(seg2, p + n + 1, sizeof(seg2));
    char *q1 = strchr(seg1, '?'), *q2 = strchr(seg2, '?');
    if (q1)
        *q1++ = '\0';
    if (q2)
        *q2++ = '\0';
    if (strchr(seg2, '/'))
        return false;
    if (http) {
        size_t len = strlen(seg2);
        if (oa_str_has_suffix(seg2, ".flv"))
            seg2[len - 4] = '\0';
        else if (oa_str_has_suffix(seg2, ".m3u8"))
            seg2[len - 5] = '\0';
        else
            return false;
    }
    if (!name_ok(seg1) || !name_ok(seg2))
        return false;
    char vhost[256];
    bool have_vhost = query_param(q2, "vhost", vhost, sizeof(vhost)) ||
                      query_param(q1, "vhost", vhost, sizeof(vhost));
    char dom[256];
    if (have_vhost) {
        if (!resolver || !resolver(vhost, dom, sizeof(dom)))
            oa_strlcpy(dom, vhost, sizeof(dom));
    } else if (is_loopback(host)) {
        oa_strlcpy(dom, caster_domain, sizeof(dom));
    } else if (!resolver || !resolver(host, dom, sizeof(dom))) {
        return false;
    }
    oa_strlcpy(domain, dom, 256);
    oa_strlcpy(app, seg1, 256);
    oa_strlcpy(stream, seg2, 256);
    return true;
}

/* ===== lifetime ===== */

static void network_init(void)
{
    avformat_network_init();
}

static void input_free(struct studio_input *in)
{
    if (in->q) {
        q_clear(in);
        oa_free(in->q);
    }
    studio_track_free(in->pub.track);
    studio_waiter_destroy(&in->w);
    oa_free(in->url);
    oa_free(in);
}

struct studio_input *studio_input_ref(struct studio_input *in)
{
    atomic_fetch_add_explicit(&in->refs, 1, memory_order_relaxed);
    return in;
}

void studio_input_unref(struct studio_input **pin)
{
    struct studio_input *in = *pin;
    if (!in)
        return;
    *pin = NULL;
    if (atomic_fetch_sub_explicit(&in->refs, 1, memory_order_acq_rel) == 1)
        input_free(in);
}

const struct studio_input_pub *studio_input_pub(const struct studio_input *in)
{
    return &in->pub;
}

bool studio_input_same(const struct studio_input *in, const struct studio_input_spec *spec)
{
    return in->kind == spec->kind && spec->url && strcmp(in->url, spec->url) == 0 &&
           in->begin_ms == spec->begin_offset_ms && in->end_ms == spec->end_offset_ms &&
           in->repeat == spec->repeat;
}

struct studio_input *studio_input_start(const struct studio_input_spec *spec,
                                        const char *caster_domain, int sample_rate,
                                        studio_domain_resolver *resolver, int *err)
{
    if (studio_location_index(spec->location_id) < 0 || !spec->url || !spec->url[0] ||
        strlen(spec->url) > 4096 || (unsigned)spec->kind > STUDIO_INPUT_IMAGE ||
        spec->begin_offset_ms < 0) {
        *err = OA_EINVAL;
        return NULL;
    }
    static pthread_once_t net_once = PTHREAD_ONCE_INIT;
    pthread_once(&net_once, network_init);

    struct studio_input *in = oa_calloc(1, sizeof(*in));
    atomic_init(&in->refs, 1);
    oa_strlcpy(in->pub.location_id, spec->location_id, sizeof(in->pub.location_id));
    in->pub.location_id[0] = 'R';
    in->pub.location_id[1] = 'V';
    in->pub.track = studio_track_new(sample_rate);
    atomic_init(&in->pub.last_frame_us, 0);
    in->kind = spec->kind;
    in->url = oa_strdup(spec->url);
    in->begin_ms = spec->begin_offset_ms;
    in->end_ms = spec->end_offset_ms;
    in->repeat = spec->repeat;
    in->rate = sample_rate;
    studio_waiter_init(&in->w);
    if (in->kind == STUDIO_INPUT_LIVE)
        in->pub.local =
            studio_url_local(in->url, caster_domain, resolver, in->domain, in->app, in->stream);
    if (in->pub.local) {
        in->q = oa_calloc(QUEUE_MAX, sizeof(*in->q));
        in->sink.ops = &sink_ops;
    }
    char name[16];
    snprintf(name, sizeof(name), "studio-in-%s", in->pub.location_id + 2);
    studio_input_ref(in); /* the thread's */
    int r = studio_thread_spawn(input_main, in, name);
    if (r) {
        ilog(in, OA_LOG_ERROR, "cannot start a thread: %s", oa_strerror(r));
        atomic_store(&in->refs, 1);
        studio_input_unref(&in);
        *err = r;
        return NULL;
    }
    if (in->pub.local) {
        ilog(in, OA_LOG_INFO, "reading %s/%s/%s in-process", in->domain, in->app, in->stream);
        hub_subscribe(in->domain, in->app, in->stream, &in->sink);
        in->subscribed = true;
    }
    return in;
}

void studio_input_stop(struct studio_input **pin)
{
    struct studio_input *in = *pin;
    if (!in)
        return;
    *pin = NULL;
    if (in->subscribed) {
        hub_unsubscribe(&in->sink);
        in->subscribed = false;
    }
    studio_waiter_stop(&in->w);
    studio_input_unref(&in);
}

/* ===== the input table ===== */

struct studio_bank {
    _Atomic int refs;
    pthread_mutex_t mu;
    struct studio_input *inputs[STUDIO_MAX_INPUTS];
};

struct studio_bank *studio_bank_new(void)
{
    struct studio_bank *b = oa_calloc(1, sizeof(*b));
    atomic_init(&b->refs, 1);
    pthread_mutex_init(&b->mu, NULL);
    return b;
}

struct studio_bank *studio_bank_ref(struct studio_bank *b)
{
    atomic_fetch_add_explicit(&b->refs, 1, memory_order_relaxed);
    return b;
}

void studio_bank_unref(struct studio_bank **pb)
{
    struct studio_bank *b = *pb;
    if (!b)
        return;
    *pb = NULL;
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    for (int i = 0; i < STUDIO_MAX_INPUTS; i++)
        studio_input_unref(&b->inputs[i]);
    pthread_mutex_destroy(&b->mu);
    oa_free(b);
}

struct studio_input *studio_bank_get(struct studio_bank *b, int index)
{
    if (index <= 0 || index >= STUDIO_MAX_INPUTS)
        return NULL;
    pthread_mutex_lock(&b->mu);
    struct studio_input *in = b->inputs[index];
    if (in)
        studio_input_ref(in);
    pthread_mutex_unlock(&b->mu);
    return in;
}

struct studio_input *studio_bank_swap(struct studio_bank *b, int index, struct studio_input *in)
{
    OA_ASSERT(index > 0 && index < STUDIO_MAX_INPUTS);
    pthread_mutex_lock(&b->mu);
    struct studio_input *old = b->inputs[index];
    b->inputs[index] = in;
    pthread_mutex_unlock(&b->mu);
    return old;
}
