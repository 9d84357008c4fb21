/*
 * media_fixture.c - shared by the media unit tests (mux, HLS): a synthetic
 * FLV stream (H.264 from libx264, AAC from FFmpeg's encoder, wrapped as FLV
 * packets the way RTMP delivers them) and demuxing from memory with
 * libavformat to check what a muxer produced.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "media_fixture.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "media/avc.h"

#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

/* ---- a synthetic FLV stream ---------------------------------------------- */

static void synth_add(struct synth *s, struct packet *p)
{
    if (s->n == s->cap) {
        s->cap = s->cap ? 2 * s->cap : 256;
        s->pkts = oa_realloc(s->pkts, s->cap * sizeof(*s->pkts));
    }
    s->pkts[s->n++] = p;
}

static struct packet *flv_packet(uint8_t type, int64_t ts, const uint8_t *hdr, size_t hlen,
                                 const uint8_t *p, size_t len)
{
    struct packet *pkt = packet_new(type, (uint32_t)ts, (uint32_t)(hlen + len));
    memcpy(pkt->data, hdr, hlen);
    memcpy(pkt->data + hlen, p, len);
    packet_classify(pkt);
    return pkt;
}

static void synth_video_packet(struct synth *s, const AVPacket *pkt, int64_t base)
{
    struct oa_buf b = OA_BUF_INIT(1 << 24);
    assert_int_equal(avc_annexb_to_avcc(pkt->data, (size_t)pkt->size, true, &b), 0);
    bool key = (pkt->flags & AV_PKT_FLAG_KEY) != 0;
    int64_t cts = pkt->pts - pkt->dts;
    uint8_t h[5] = {key ? 0x17 : 0x27, 1};
    oa_wb24(h + 2, (uint32_t)cts & 0xffffff);
    synth_add(s, flv_packet(PKT_VIDEO, base + pkt->dts, h, 5, b.data, b.len));
    s->nvideo++;
    s->nkeys += key;
    oa_buf_free(&b);
}

/* nframes of w x h at fps, a keyframe every keyint frames; timestamps from base (ms). */
void synth_video(struct synth *s, int w, int h, int fps, int keyint, int nframes, bool bframes,
                 int64_t base)
{
    const AVCodec *c = avcodec_find_encoder_by_name("libx264");
    assert_non_null(c);
    AVCodecContext *ctx = avcodec_alloc_context3(c);
    ctx->width = w;
    ctx->height = h;
    ctx->pix_fmt = AV_PIX_FMT_YUV420P;
    ctx->time_base = (AVRational){1, 1000};
    ctx->framerate = (AVRational){fps, 1};
    ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    ctx->thread_count = 1;
    AVDictionary *o = NULL;
    char params[160];
    snprintf(params, sizeof(params), "keyint=%d:min-keyint=%d:scenecut=0:bframes=%d", keyint,
             keyint, bframes ? 2 : 0);
    av_dict_set(&o, "preset", "ultrafast", 0);
    av_dict_set(&o, "x264-params", params, 0);
    assert_int_equal(avcodec_open2(ctx, c, &o), 0);
    av_dict_free(&o);

    struct oa_buf cfg = OA_BUF_INIT(1 << 16);
    assert_int_equal(avc_config_from_annexb(ctx->extradata, (size_t)ctx->extradata_size, &cfg), 0);
    static const uint8_t vh[5] = {0x17, 0, 0, 0, 0};
    s->vhdr = flv_packet(PKT_VIDEO, base, vh, 5, cfg.data, cfg.len);
    oa_buf_free(&cfg);

    AVFrame *f = av_frame_alloc();
    f->format = ctx->pix_fmt;
    f->width = w;
    f->height = h;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    AVPacket *pkt = av_packet_alloc();
    for (int i = 0; i <= nframes; i++) {
        if (i < nframes) {
            assert_int_equal(av_frame_make_writable(f), 0);
            for (int y = 0; y < h; y++)
                for (int x = 0; x < w; x++)
                    f->data[0][y * f->linesize[0] + x] = (uint8_t)(x + y + 3 * i);
            for (int y = 0; y < h / 2; y++) {
                memset(f->data[1] + y * f->linesize[1], 128 + i % 64, (size_t)w / 2);
                memset(f->data[2] + y * f->linesize[2], 64, (size_t)w / 2);
            }
            f->pts = (int64_t)i * 1000 / fps;
            assert_int_equal(avcodec_send_frame(ctx, f), 0);
        } else {
            assert_int_equal(avcodec_send_frame(ctx, NULL), 0);
        }
        while (avcodec_receive_packet(ctx, pkt) == 0) {
            synth_video_packet(s, pkt, base);
            av_packet_unref(pkt);
        }
    }
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&ctx);
}

/* AAC, 44.1 kHz, `channels` channels, about duration_ms of a sine from base (ms). */
void synth_audio(struct synth *s, int channels, int duration_ms, int64_t base)
{
    const AVCodec *c = avcodec_find_encoder(AV_CODEC_ID_AAC);
    assert_non_null(c);
    AVCodecContext *ctx = avcodec_alloc_context3(c);
    ctx->sample_fmt = AV_SAMPLE_FMT_FLTP;
    ctx->sample_rate = 44100;
    av_channel_layout_default(&ctx->ch_layout, channels);
    ctx->bit_rate = 64000;
    ctx->time_base = (AVRational){1, 44100};
    ctx->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    assert_int_equal(avcodec_open2(ctx, c, NULL), 0);
    static const uint8_t ah[2] = {0xaf, 0};
    s->ahdr = flv_packet(PKT_AUDIO, base, ah, 2, ctx->extradata, (size_t)ctx->extradata_size);

    AVFrame *f = av_frame_alloc();
    f->format = ctx->sample_fmt;
    f->nb_samples = ctx->frame_size;
    f->sample_rate = ctx->sample_rate;
    av_channel_layout_copy(&f->ch_layout, &ctx->ch_layout);
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    AVPacket *pkt = av_packet_alloc();
    int nframes = (int)((int64_t)duration_ms * 44100 / 1000 / ctx->frame_size);
    for (int i = 0; i <= nframes; i++) {
        if (i < nframes) {
            assert_int_equal(av_frame_make_writable(f), 0);
            for (int ch = 0; ch < channels; ch++) {
                float *d = (float *)f->data[ch];
                for (int k = 0; k < f->nb_samples; k++)
                    d[k] = (float)(0.3 * ((i * f->nb_samples + k) % 100) / 100.0);
            }
            f->pts = (int64_t)i * ctx->frame_size;
            assert_int_equal(avcodec_send_frame(ctx, f), 0);
        } else {
            assert_int_equal(avcodec_send_frame(ctx, NULL), 0);
        }
        while (avcodec_receive_packet(ctx, pkt) == 0) {
            static const uint8_t h[2] = {0xaf, 1};
            int64_t ts = base + av_rescale(pkt->pts, 1000, 44100);
            synth_add(s, flv_packet(PKT_AUDIO, ts, h, 2, pkt->data, (size_t)pkt->size));
            s->naudio++;
            av_packet_unref(pkt);
        }
    }
    av_packet_free(&pkt);
    av_frame_free(&f);
    avcodec_free_context(&ctx);
}

static int cmp_ts(const void *a, const void *b)
{
    const struct packet *x = *(struct packet *const *)a, *y = *(struct packet *const *)b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    /* Video first at equal times, as publishers usually send it. */
    return (int)y->type - (int)x->type;
}

void synth_sort(struct synth *s)
{
    /* qsort is not stable: video DTS order must survive, and video DTS are distinct. */
    qsort(s->pkts, s->n, sizeof(*s->pkts), cmp_ts);
}

void synth_free(struct synth *s)
{
    for (size_t i = 0; i < s->n; i++)
        packet_unref(&s->pkts[i]);
    oa_free(s->pkts);
    packet_unref(&s->vhdr);
    packet_unref(&s->ahdr);
    memset(s, 0, sizeof(*s));
}

/* ---- demuxing from memory ------------------------------------------------ */

int mem_read(void *opaque, uint8_t *buf, int size)
{
    struct memin *m = opaque;
    size_t n = OA_MIN((size_t)size, m->len - m->pos);
    if (n == 0)
        return AVERROR_EOF;
    memcpy(buf, m->p + m->pos, n);
    m->pos += n;
    return (int)n;
}

static int64_t mem_seek(void *opaque, int64_t off, int whence)
{
    struct memin *m = opaque;
    if (whence & AVSEEK_SIZE)
        return (int64_t)m->len;
    whence &= ~AVSEEK_FORCE;
    int64_t base = whence == SEEK_CUR ? (int64_t)m->pos : whence == SEEK_END ? (int64_t)m->len : 0;
    if (base + off < 0 || base + off > (int64_t)m->len)
        return -1;
    m->pos = (size_t)(base + off);
    return (int64_t)m->pos;
}

void demux(const uint8_t *p, size_t len, struct demuxed *d)
{
    memset(d, 0, sizeof(*d));
    d->v.dts_increasing = d->a.dts_increasing = true;
    struct memin in = {p, len, 0};
    uint8_t *iobuf = av_malloc(4096);
    AVIOContext *pb = avio_alloc_context(iobuf, 4096, 0, &in, mem_read, NULL, mem_seek);
    AVFormatContext *ic = avformat_alloc_context();
    ic->pb = pb;
    assert_int_equal(avformat_open_input(&ic, NULL, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(ic, NULL) >= 0);
    d->nstreams = (int)ic->nb_streams;
    AVPacket *pkt = av_packet_alloc();
    while (av_read_frame(ic, pkt) >= 0) {
        AVStream *st = ic->streams[pkt->stream_index];
        struct dtrack *t = st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO ? &d->v : &d->a;
        t->codec = st->codecpar->codec_id;
        t->width = st->codecpar->width;
        t->height = st->codecpar->height;
        t->sample_rate = st->codecpar->sample_rate;
        t->channels = st->codecpar->ch_layout.nb_channels;
        assert_true(t->count < OA_ARRAY_SIZE(t->pts));
        int64_t dts = av_rescale_q(pkt->dts, st->time_base, (AVRational){1, 1000});
        if (t->count && dts <= t->dts[t->count - 1])
            t->dts_increasing = false;
        t->dts[t->count] = dts;
        t->pts[t->count] = av_rescale_q(pkt->pts, st->time_base, (AVRational){1, 1000});
        t->keys += (pkt->flags & AV_PKT_FLAG_KEY) != 0;
        t->count++;
        av_packet_unref(pkt);
    }
    av_packet_free(&pkt);
    avformat_close_input(&ic);
    av_freep(&pb->buffer);
    avio_context_free(&pb);
}
