/*
 * mux.c - libavformat output through a custom, non-seekable AVIOContext.
 *
 * mux_open() turns the FLV sequence headers into AVCodecParameters (avcC and
 * AudioSpecificConfig as extradata, picture size and audio format parsed by
 * media/avc.c) and writes the container header. mux_write() strips the FLV
 * audio/video tag header from each payload, copies it into a padded
 * AVPacket, applies the timestamp policy of mux.h and hands it to
 * av_write_frame(). libavformat's automatic bitstream filters do the
 * container-specific conversion (h264_mp4toannexb for MPEG-TS; the MPEG-TS
 * muxer also adds ADTS headers to raw AAC when extradata is present).
 */
#include "mux.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "media/avc.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/opt.h>

/* The AVIOContext's buffer: bytes reach write() in chunks of this size or at a flush. */
#define MUX_IO_BUF 32768
/* A DTS step above this is a jump, not a frame's duration. */
#define MUX_MAX_STEP_MS 60000

enum { MUX_VIDEO, MUX_AUDIO, MUX_NSTREAMS };

struct mux_track {
    int index; /* AVStream index, -1 when absent */
    int64_t last_dts;
    int64_t last_delta; /* last DTS step (ms) that was not a jump: a frame's duration estimate */
    bool have_dts;
    int64_t frame_samples; /* audio: samples per frame */
    int sample_rate;
    AVPacket *held; /* MP4: the newest packet (ms), written once the next one gives its duration */
    bool has_held;
};

struct mux {
    AVFormatContext *oc;
    AVIOContext *pb;
    AVPacket *pkt;
    mux_write_fn *write;
    void *opaque;
    struct mux_track tracks[MUX_NSTREAMS];
    bool is_ts;
    bool flushed; /* a fragment was ended (the MP4 moov is out) */
    int err;      /* first error, sticky */
};

/*
 * Records the first error. AVERROR(errno) codes pass through (err.h); FFmpeg's
 * own tags are outside errno's range and become OA_ECODEC, logged with their text.
 */
static int fail(struct mux *m, int r, const char *what)
{
    if (!m->err) {
        if (r > -4096) {
            m->err = r;
        } else {
            char msg[AV_ERROR_MAX_STRING_SIZE];
            av_strerror(r, msg, sizeof(msg));
            oa_log(OA_LOG_WARN, "mux %s: %s: %s", m->oc->oformat->name, what, msg);
            m->err = OA_ECODEC;
        }
    }
    return m->err;
}

static int io_write(void *opaque, uint8_t *buf, int size)
{
    struct mux *m = opaque;
    if (m->err)
        return m->err;
    int r = m->write(m->opaque, buf, (size_t)size);
    if (r < 0) {
        m->err = r;
        return r;
    }
    return size;
}

static int set_extradata(AVCodecParameters *par, const uint8_t *p, size_t len)
{
    par->extradata = av_mallocz(len + AV_INPUT_BUFFER_PADDING_SIZE);
    if (!par->extradata)
        return AVERROR(ENOMEM);
    memcpy(par->extradata, p, len);
    par->extradata_size = (int)len;
    return 0;
}

static int add_video(struct mux *m, const struct packet *vhdr)
{
    struct avc_config cfg;
    if (vhdr->type != PKT_VIDEO || packet_codec(vhdr) != FLV_VIDEO_CODEC_AVC || vhdr->size <= 5 ||
        vhdr->data[1] != 0 || avc_parse_config(vhdr->data + 5, vhdr->size - 5, &cfg) != 0 ||
        cfg.width <= 0)
        return OA_ECODEC;
    AVStream *st = avformat_new_stream(m->oc, NULL);
    if (!st)
        return OA_ECODEC;
    AVCodecParameters *par = st->codecpar;
    par->codec_type = AVMEDIA_TYPE_VIDEO;
    par->codec_id = AV_CODEC_ID_H264;
    par->width = cfg.width;
    par->height = cfg.height;
    par->profile = cfg.profile;
    par->level = cfg.level;
    st->time_base = (AVRational){1, 1000};
    m->tracks[MUX_VIDEO].index = st->index;
    return set_extradata(par, vhdr->data + 5, vhdr->size - 5) ? OA_ECODEC : 0;
}

static int add_audio(struct mux *m, const struct packet *ahdr)
{
    struct aac_config cfg;
    if (ahdr->type != PKT_AUDIO || packet_codec(ahdr) != FLV_AUDIO_CODEC_AAC || ahdr->size <= 2 ||
        ahdr->data[1] != 0 || aac_parse_asc(ahdr->data + 2, ahdr->size - 2, &cfg) != 0 ||
        cfg.sample_rate <= 0 || cfg.channels <= 0)
        return OA_ECODEC;
    AVStream *st = avformat_new_stream(m->oc, NULL);
    if (!st)
        return OA_ECODEC;
    AVCodecParameters *par = st->codecpar;
    par->codec_type = AVMEDIA_TYPE_AUDIO;
    par->codec_id = AV_CODEC_ID_AAC;
    par->sample_rate = cfg.sample_rate;
    av_channel_layout_default(&par->ch_layout, cfg.channels);
    par->frame_size = 1024;
    st->time_base = (AVRational){1, 1000};
    struct mux_track *t = &m->tracks[MUX_AUDIO];
    t->index = st->index;
    t->frame_samples = 1024;
    t->sample_rate = cfg.sample_rate;
    return set_extradata(par, ahdr->data + 2, ahdr->size - 2) ? OA_ECODEC : 0;
}

static void mux_free(struct mux *m)
{
    for (int i = 0; i < MUX_NSTREAMS; i++)
        av_packet_free(&m->tracks[i].held);
    if (m->pb) {
        av_freep(&m->pb->buffer);
        avio_context_free(&m->pb);
    }
    avformat_free_context(m->oc);
    av_packet_free(&m->pkt);
    oa_free(m);
}

struct mux *mux_open(const char *format, const struct packet *vhdr, const struct packet *ahdr,
                     mux_write_fn *write, void *opaque, int *err)
{
    bool is_ts = strcmp(format, "mpegts") == 0, is_mp4 = strcmp(format, "mp4") == 0;
    if ((!is_ts && !is_mp4) || (!vhdr && !ahdr)) {
        *err = OA_EINVAL;
        return NULL;
    }
    struct mux *m = oa_calloc(1, sizeof(*m));
    m->write = write;
    m->opaque = opaque;
    m->is_ts = is_ts;
    for (int i = 0; i < MUX_NSTREAMS; i++)
        m->tracks[i].index = -1;
    int r = avformat_alloc_output_context2(&m->oc, NULL, format, NULL);
    if (r < 0 || !m->oc) {
        oa_free(m);
        *err = OA_ECODEC;
        return NULL;
    }
    m->pkt = av_packet_alloc();
    if (!m->pkt) {
        r = OA_ECODEC;
        goto fail;
    }
    if ((vhdr && (r = add_video(m, vhdr)) != 0) || (ahdr && (r = add_audio(m, ahdr)) != 0))
        goto fail;
    for (int i = 0; i < MUX_NSTREAMS && is_mp4; i++) {
        if (m->tracks[i].index >= 0 && !(m->tracks[i].held = av_packet_alloc())) {
            r = OA_ECODEC;
            goto fail;
        }
    }

    uint8_t *iobuf = av_malloc(MUX_IO_BUF);
    if (!iobuf) {
        r = OA_ECODEC;
        goto fail;
    }
    m->pb = avio_alloc_context(iobuf, MUX_IO_BUF, 1, m, NULL, io_write, NULL);
    if (!m->pb) {
        av_free(iobuf);
        r = OA_ECODEC;
        goto fail;
    }
    m->oc->pb = m->pb;
    m->oc->flags |= AVFMT_FLAG_CUSTOM_IO;
    /* Bytes leave in MUX_IO_BUF chunks or at mux_flush(), not after every packet. */
    m->oc->flush_packets = 0;

    AVDictionary *opts = NULL;
    /*
     * Continuity counters start afresh in every new TS: flag the first packet
     * of each PID as a discontinuity, so a demuxer reading this right after
     * another mux's output (HLS after EXT-X-DISCONTINUITY, a file appended
     * to) does not take the counter jump for packet loss.
     */
    if (is_ts)
        av_dict_set(&opts, "mpegts_flags", "+initial_discontinuity", 0);
    if (is_mp4) {
        av_dict_set(&opts, "movflags", "frag_keyframe+delay_moov+default_base_moof", 0);
        /* Without video there are no keyframes to cut on: fragment every second. */
        if (!vhdr)
            av_dict_set(&opts, "frag_duration", "1000000", 0);
    }
    r = avformat_write_header(m->oc, &opts);
    const AVDictionaryEntry *unused = av_dict_get(opts, "", NULL, AV_DICT_IGNORE_SUFFIX);
    if (unused)
        oa_log(OA_LOG_WARN, "mux %s: option %s not supported", format, unused->key);
    av_dict_free(&opts);
    if (r < 0) {
        r = fail(m, r, "write header");
        goto fail;
    }
    if (m->err) {
        r = m->err;
        goto fail;
    }
    return m;

fail:
    *err = r < 0 ? r : OA_ECODEC;
    mux_free(m);
    return NULL;
}

bool mux_has_video(const struct mux *m)
{
    return m->tracks[MUX_VIDEO].index >= 0;
}

bool mux_has_audio(const struct mux *m)
{
    return m->tracks[MUX_AUDIO].index >= 0;
}

/* A packet's duration when the next one is not known: exact for AAC, the last step for video. */
static int64_t estimate(const struct mux_track *t)
{
    if (t->frame_samples)
        return av_rescale_q(t->frame_samples, (AVRational){1, t->sample_rate},
                            (AVRational){1, 1000});
    return t->last_delta;
}

/* Writes a track's held packet (MP4) with its duration in ms. */
static int release(struct mux *m, struct mux_track *t, int64_t duration_ms)
{
    if (!t->has_held)
        return 0;
    t->has_held = false;
    AVPacket *ap = t->held;
    ap->duration = duration_ms;
    av_packet_rescale_ts(ap, (AVRational){1, 1000}, m->oc->streams[t->index]->time_base);
    int r = av_write_frame(m->oc, ap);
    av_packet_unref(ap);
    if (m->err)
        return m->err;
    return r < 0 ? fail(m, r, "write") : 0;
}

static int release_all(struct mux *m)
{
    int r = 0;
    for (int i = 0; i < MUX_NSTREAMS && !r; i++)
        r = release(m, &m->tracks[i], estimate(&m->tracks[i]));
    return r;
}

/* Ends the current MP4 fragment (or TS PES packets) and pushes the bytes to write(). */
static int end_fragment(struct mux *m)
{
    int r = av_write_frame(m->oc, NULL);
    /* With delay_moov the first flush writes only the moov: once more for the fragment. */
    if (r >= 0 && !m->is_ts && !m->flushed)
        r = av_write_frame(m->oc, NULL);
    m->flushed = true;
    if (r < 0)
        return fail(m, r, "flush");
    avio_flush(m->pb);
    if (m->err)
        return m->err;
    if (m->pb->error < 0)
        return fail(m, m->pb->error, "flush");
    return 0;
}

int mux_write(struct mux *m, const struct packet *pkt, int64_t ts_offset_ms)
{
    if (m->err)
        return m->err;
    struct mux_track *t;
    const uint8_t *p;
    size_t len;
    int64_t cts = 0;
    bool key = true;

    if (pkt->type == PKT_VIDEO) {
        t = &m->tracks[MUX_VIDEO];
        if (t->index < 0 || packet_codec(pkt) != FLV_VIDEO_CODEC_AVC)
            return 0;
        if (pkt->size < 2)
            return OA_EPROTO;
        if (pkt->data[1] != 1)
            return 0; /* sequence header (given at open) or end of sequence */
        if (pkt->size < 5)
            return OA_EPROTO;
        /* 24-bit signed composition time offset. */
        cts = (int32_t)(oa_rb24(pkt->data + 2) << 8) >> 8;
        p = pkt->data + 5;
        len = pkt->size - 5;
        key = (pkt->flags & PKT_F_KEY) != 0;
    } else if (pkt->type == PKT_AUDIO) {
        t = &m->tracks[MUX_AUDIO];
        if (t->index < 0 || packet_codec(pkt) != FLV_AUDIO_CODEC_AAC)
            return 0;
        if (pkt->size < 2)
            return OA_EPROTO;
        if (pkt->data[1] != 1)
            return 0;
        p = pkt->data + 2;
        len = pkt->size - 2;
    } else {
        return 0;
    }
    if (len == 0)
        return 0;

    int64_t dts = (int64_t)pkt->ts + ts_offset_ms;
    int64_t pts = dts + cts;
    if (t->have_dts && dts <= t->last_dts)
        dts = t->last_dts + 1; /* jitter: keep DTS strictly increasing (see mux.h) */
    if (pts < dts)
        pts = dts;
    bool first = !t->have_dts;
    /* A jump (a timestamp wrapped or reset) says nothing about a frame's length. */
    int64_t step = first ? 0 : dts - t->last_dts;
    bool jump = step <= 0 || step > MUX_MAX_STEP_MS;
    if (!jump)
        t->last_delta = step;
    t->last_dts = dts;
    t->have_dts = true;

    AVPacket *ap = t->held ? t->held : m->pkt;
    if (t->held) {
        /* MP4: the held packet lasts until this one; a video keyframe then ends the fragment. */
        int r = release(m, t, jump ? estimate(t) : step);
        if (!r && pkt->type == PKT_VIDEO && key && !first)
            r = end_fragment(m);
        if (r)
            return r;
    }
    av_packet_unref(ap);
    int r = av_new_packet(ap, (int)len);
    if (r < 0)
        return fail(m, r, "packet");
    memcpy(ap->data, p, len);
    ap->stream_index = t->index;
    ap->dts = dts;
    ap->pts = pts;
    if (key)
        ap->flags |= AV_PKT_FLAG_KEY;
    if (t->held) {
        t->has_held = true;
        return 0;
    }
    ap->duration = estimate(t);
    av_packet_rescale_ts(ap, (AVRational){1, 1000}, m->oc->streams[t->index]->time_base);
    r = av_write_frame(m->oc, ap);
    av_packet_unref(ap);
    if (m->err)
        return m->err;
    if (r < 0)
        return fail(m, r, "write");
    return 0;
}

int mux_flush(struct mux *m)
{
    if (m->err)
        return m->err;
    int r = release_all(m);
    if (!r)
        r = end_fragment(m);
    if (r || !m->is_ts)
        return r;
    /* The next packet starts with PAT/PMT, so a new segment can start here. */
    r = av_opt_set(m->oc->priv_data, "mpegts_flags", "+resend_headers", 0);
    return r < 0 ? fail(m, r, "resend headers") : 0;
}

int mux_close(struct mux *m)
{
    if (!m)
        return 0;
    if (!m->err && release_all(m) == 0) {
        int r = av_write_trailer(m->oc);
        if (r < 0)
            fail(m, r, "write trailer");
        avio_flush(m->pb);
        if (!m->err && m->pb->error < 0)
            fail(m, m->pb->error, "flush");
    }
    int err = m->err;
    mux_free(m);
    return err;
}
