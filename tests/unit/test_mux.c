/*
 * test_mux.c - media/mux.c: a synthetic stream (H.264 from libx264, AAC from
 * FFmpeg's encoder, wrapped as FLV packets the way RTMP delivers them) is
 * muxed into MPEG-TS and fragmented MP4 in memory and demuxed back with
 * libavformat: codecs, picture size, frame counts, timestamps, keyframes.
 * Also the timestamp policy (jitter), PAT/PMT after a flush, write errors
 * and bad input.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "support/media_fixture.h"

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/packet.h"
#include "media/avc.h"
#include "media/mux.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/opt.h>

/* ---- output to memory ---------------------------------------------------- */

struct memout {
    struct oa_buf b;
    int calls;
    int fail_after; /* > 0: the n-th call fails */
};

static int mem_write(void *opaque, const uint8_t *buf, size_t len)
{
    struct memout *o = opaque;
    o->calls++;
    if (o->fail_after && o->calls >= o->fail_after)
        return OA_ETOOBIG;
    return oa_buf_append(&o->b, buf, len);
}

static struct synth S; /* 640x360 is too slow for a unit test: 160x96, 30 fps, 3 s */
#define BASE_MS 5000
#define FPS 30
#define KEYINT 30
#define NFRAMES 90

static int setup(void **state)
{
    synth_video(&S, 160, 96, FPS, KEYINT, NFRAMES, true, BASE_MS);
    synth_audio(&S, 2, 3000, BASE_MS);
    synth_sort(&S);
    return 0;
}

static int teardown(void **state)
{
    synth_free(&S);
    return 0;
}

static void mux_all(const char *fmt, const struct packet *vhdr, const struct packet *ahdr,
                    int64_t offset, struct memout *o)
{
    int err = 0;
    struct mux *m = mux_open(fmt, vhdr, ahdr, mem_write, o, &err);
    assert_non_null(m);
    assert_int_equal(err, 0);
    assert_int_equal(mux_has_video(m), vhdr != NULL);
    assert_int_equal(mux_has_audio(m), ahdr != NULL);
    for (size_t i = 0; i < S.n; i++)
        assert_int_equal(mux_write(m, S.pkts[i], offset), 0);
    assert_int_equal(mux_close(m), 0);
}

static void expect_video_pts(const struct dtrack *t, int64_t shift)
{
    /* Every source frame comes back once, with its presentation time. */
    size_t seen = 0;
    for (int i = 0; i < NFRAMES; i++) {
        int64_t want = BASE_MS + (int64_t)i * 1000 / FPS + shift;
        for (size_t k = 0; k < t->count; k++) {
            if (llabs(t->pts[k] - want) <= 1) {
                seen++;
                break;
            }
        }
    }
    assert_int_equal(seen, NFRAMES);
}

static void test_mpegts_round_trip(void **state)
{
    struct memout o = {OA_BUF_INIT(1 << 26)};
    mux_all("mpegts", S.vhdr, S.ahdr, 0, &o);
    assert_true(o.b.len > 0);
    assert_int_equal(o.b.len % 188, 0);
    assert_int_equal(o.b.data[0], 0x47);
    struct demuxed d;
    demux(o.b.data, o.b.len, &d);
    assert_int_equal(d.nstreams, 2);
    assert_int_equal(d.v.codec, AV_CODEC_ID_H264);
    assert_int_equal(d.v.width, 160);
    assert_int_equal(d.v.height, 96);
    assert_int_equal(d.v.count, NFRAMES);
    assert_int_equal(d.v.keys, NFRAMES / KEYINT);
    assert_true(d.v.dts_increasing);
    assert_int_equal(d.a.codec, AV_CODEC_ID_AAC);
    assert_int_equal(d.a.sample_rate, 44100);
    assert_int_equal(d.a.channels, 2);
    assert_int_equal(d.a.count, S.naudio);
    assert_true(d.a.dts_increasing);
    /* MPEG-TS keeps the input's timestamps (no shift to zero). */
    expect_video_pts(&d.v, 0);
    oa_buf_free(&o.b);
}

static void test_mpegts_decodes(void **state)
{
    /* The TS must decode, not just parse: Annex B with SPS/PPS and ADTS inside. */
    struct memout o = {OA_BUF_INIT(1 << 26)};
    mux_all("mpegts", S.vhdr, S.ahdr, 0, &o);
    struct memin in = {o.b.data, o.b.len, 0};
    uint8_t *iobuf = av_malloc(4096);
    AVIOContext *pb = avio_alloc_context(iobuf, 4096, 0, &in, mem_read, NULL, NULL);
    AVFormatContext *ic = avformat_alloc_context();
    ic->pb = pb;
    assert_int_equal(avformat_open_input(&ic, NULL, NULL, NULL), 0);
    assert_true(avformat_find_stream_info(ic, NULL) >= 0);
    AVCodecContext *dec[2] = {NULL, NULL};
    for (unsigned i = 0; i < ic->nb_streams && i < 2; i++) {
        const AVCodec *c = avcodec_find_decoder(ic->streams[i]->codecpar->codec_id);
        assert_non_null(c);
        dec[i] = avcodec_alloc_context3(c);
        avcodec_parameters_to_context(dec[i], ic->streams[i]->codecpar);
        dec[i]->err_recognition = AV_EF_EXPLODE;
        assert_int_equal(avcodec_open2(dec[i], c, NULL), 0);
    }
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    size_t frames[2] = {0, 0};
    while (av_read_frame(ic, pkt) >= 0) {
        int i = pkt->stream_index;
        assert_int_equal(avcodec_send_packet(dec[i], pkt), 0);
        while (avcodec_receive_frame(dec[i], f) == 0)
            frames[i]++;
        av_packet_unref(pkt);
    }
    size_t total = 0;
    for (int i = 0; i < 2; i++) {
        avcodec_send_packet(dec[i], NULL);
        while (avcodec_receive_frame(dec[i], f) == 0)
            frames[i]++;
        total += frames[i];
        avcodec_free_context(&dec[i]);
    }
    assert_int_equal(total, NFRAMES + S.naudio);
    av_frame_free(&f);
    av_packet_free(&pkt);
    avformat_close_input(&ic);
    av_freep(&pb->buffer);
    avio_context_free(&pb);
    oa_buf_free(&o.b);
}

static void test_mp4_round_trip(void **state)
{
    struct memout o = {OA_BUF_INIT(1 << 26)};
    mux_all("mp4", S.vhdr, S.ahdr, -BASE_MS, &o);
    /* Fragmented: ftyp, then the moov (written with the first fragment), then moof/mdat pairs. */
    assert_true(o.b.len > 16);
    assert_memory_equal(o.b.data + 4, "ftyp", 4);
    assert_non_null(memmem(o.b.data, o.b.len, "moof", 4));
    struct demuxed d;
    demux(o.b.data, o.b.len, &d);
    assert_int_equal(d.nstreams, 2);
    assert_int_equal(d.v.codec, AV_CODEC_ID_H264);
    assert_int_equal(d.v.width, 160);
    assert_int_equal(d.v.height, 96);
    assert_int_equal(d.v.count, NFRAMES);
    assert_int_equal(d.v.keys, NFRAMES / KEYINT);
    assert_true(d.v.dts_increasing);
    assert_int_equal(d.a.codec, AV_CODEC_ID_AAC);
    assert_int_equal(d.a.sample_rate, 44100);
    assert_int_equal(d.a.count, S.naudio);
    assert_true(d.a.dts_increasing);
    /*
     * The offset moved the stream to about zero. The edit list keeps the
     * first picture's time: B-frames start the DTS slightly before it.
     */
    assert_true(d.v.pts[0] >= 0 && d.v.pts[0] < 200);
    assert_true(d.v.dts[0] > -200 && d.v.dts[0] <= d.v.pts[0]);
    oa_buf_free(&o.b);
}

/* A recording that starts with audio held for the first keyframe keeps the video's start. */
static void test_mp4_video_after_audio(void **state)
{
    struct synth late = {0};
    synth_video(&late, 160, 96, FPS, KEYINT, KEYINT, false, 500);
    synth_audio(&late, 2, 1500, 0);
    synth_sort(&late);
    struct memout o = {OA_BUF_INIT(1 << 24)};
    int err = 0;
    struct mux *m = mux_open("mp4", late.vhdr, late.ahdr, mem_write, &o, &err);
    assert_non_null(m);
    for (size_t i = 0; i < late.n; i++)
        assert_int_equal(mux_write(m, late.pkts[i], 0), 0);
    assert_int_equal(mux_close(m), 0);
    struct demuxed d;
    demux(o.b.data, o.b.len, &d);
    assert_true(d.a.pts[0] < 30);
    assert_true(d.v.pts[0] >= 470 && d.v.pts[0] <= 530);
    oa_buf_free(&o.b);
    synth_free(&late);
}

/*
 * Many fragments of 30 fps video (steps of 33 and 34 ms) and AAC (23/24 ms),
 * as a file writer sees them: each fragment is out (write() called) once
 * the keyframe after it has been written, and every timestamp comes back as
 * it went in. The MP4 muxer dates a fragment by the durations before it, so
 * a guessed last-sample duration would make the later fragments drift.
 */
static void test_mp4_timestamps_exact(void **state)
{
    struct synth s = {0};
    synth_video(&s, 160, 96, 25, 25, 250, false, BASE_MS);
    synth_audio(&s, 1, 10000, BASE_MS);
    synth_sort(&s);
    struct memout o = {OA_BUF_INIT(1 << 26)};
    int err = 0;
    struct mux *m = mux_open("mp4", s.vhdr, s.ahdr, mem_write, &o, &err);
    assert_non_null(m);
    static int64_t vts[4096], ats[4096];
    size_t nv = 0, na = 0, keys = 0;
    for (size_t i = 0; i < s.n; i++) {
        /* As a recording that starts at a keyframe: audio from just after it. */
        if (s.pkts[i]->type == PKT_AUDIO && s.pkts[i]->ts < BASE_MS + 10)
            continue;
        assert_int_equal(mux_write(m, s.pkts[i], -BASE_MS), 0);
        if (packet_is_video_key(s.pkts[i]) && ++keys > 1) {
            size_t moofs = 0;
            for (const uint8_t *q = o.b.data;
                 q && (q = memmem(q, o.b.len - (size_t)(q - o.b.data), "moof", 4)) != NULL; q += 4)
                moofs++;
            assert_int_equal(moofs, keys - 1);
        }
        if (s.pkts[i]->type == PKT_VIDEO)
            vts[nv++] = (int64_t)s.pkts[i]->ts - BASE_MS;
        else
            ats[na++] = (int64_t)s.pkts[i]->ts - BASE_MS;
    }
    assert_int_equal(mux_close(m), 0);
    static struct demuxed d;
    demux(o.b.data, o.b.len, &d);
    assert_int_equal(d.v.count, nv);
    assert_int_equal(d.a.count, na);
    for (size_t k = 0; k < nv; k++)
        assert_true(llabs(d.v.dts[k] - vts[k]) <= 1);
    for (size_t k = 0; k < na; k++)
        assert_true(llabs(d.a.dts[k] - ats[k]) <= 1);
    oa_buf_free(&o.b);
    synth_free(&s);
}

static void test_mp4_is_playable_while_written(void **state)
{
    /* Cut the output after two keyframes' worth of fragments: what is there must play. */
    struct memout o = {OA_BUF_INIT(1 << 26)};
    int err = 0;
    struct mux *m = mux_open("mp4", S.vhdr, S.ahdr, mem_write, &o, &err);
    assert_non_null(m);
    size_t keys = 0;
    for (size_t i = 0; i < S.n; i++) {
        if (packet_is_video_key(S.pkts[i]) && ++keys == 3) {
            assert_int_equal(mux_flush(m), 0);
            break;
        }
        assert_int_equal(mux_write(m, S.pkts[i], -BASE_MS), 0);
    }
    struct oa_buf partial = OA_BUF_INIT(1 << 26);
    assert_int_equal(oa_buf_append(&partial, o.b.data, o.b.len), 0);
    assert_int_equal(mux_close(m), 0);
    struct demuxed d;
    demux(partial.data, partial.len, &d);
    assert_int_equal(d.v.count, 2 * KEYINT);
    assert_int_equal(d.v.keys, 2);
    oa_buf_free(&partial);
    oa_buf_free(&o.b);
}

static void test_audio_only_and_video_only(void **state)
{
    struct memout o = {OA_BUF_INIT(1 << 26)};
    mux_all("mpegts", NULL, S.ahdr, 0, &o);
    struct demuxed d;
    demux(o.b.data, o.b.len, &d);
    assert_int_equal(d.nstreams, 1);
    assert_int_equal(d.a.count, S.naudio);
    assert_int_equal(d.v.count, 0);
    oa_buf_free(&o.b);

    struct memout o2 = {OA_BUF_INIT(1 << 26)};
    mux_all("mp4", NULL, S.ahdr, -BASE_MS, &o2);
    /* Audio-only MP4 has no keyframes to cut on: fragments by time instead. */
    size_t moofs = 0;
    for (const uint8_t *p = o2.b.data, *end = o2.b.data + o2.b.len;
         (p = memmem(p, (size_t)(end - p), "moof", 4)) != NULL; p += 4)
        moofs++;
    assert_true(moofs >= 2);
    demux(o2.b.data, o2.b.len, &d);
    assert_int_equal(d.a.count, S.naudio);
    oa_buf_free(&o2.b);

    struct memout o3 = {OA_BUF_INIT(1 << 26)};
    mux_all("mp4", S.vhdr, NULL, -BASE_MS, &o3);
    demux(o3.b.data, o3.b.len, &d);
    assert_int_equal(d.nstreams, 1);
    assert_int_equal(d.v.count, NFRAMES);
    assert_int_equal(d.a.count, 0);
    oa_buf_free(&o3.b);
}

static void test_flush_restarts_with_pat(void **state)
{
    struct memout o = {OA_BUF_INIT(1 << 26)};
    int err = 0;
    struct mux *m = mux_open("mpegts", S.vhdr, S.ahdr, mem_write, &o, &err);
    assert_non_null(m);
    size_t cut = 0, keys = 0;
    for (size_t i = 0; i < S.n; i++) {
        if (packet_is_video_key(S.pkts[i]) && ++keys == 2) {
            assert_int_equal(mux_flush(m), 0);
            cut = o.b.len;
        }
        assert_int_equal(mux_write(m, S.pkts[i], 0), 0);
    }
    assert_int_equal(mux_close(m), 0);
    assert_true(cut > 0 && cut % 188 == 0 && cut < o.b.len);
    /*
     * The second part opens with the tables, as the first one does: SDT (PID
     * 0x11), PAT (PID 0), PMT (PID 0x1000), and parses on its own.
     */
    const uint8_t *p = o.b.data + cut;
    static const int pids[3] = {0x11, 0, 0x1000};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(p[188 * i], 0x47);
        assert_int_equal(((p[188 * i + 1] & 0x1f) << 8) | p[188 * i + 2], pids[i]);
        assert_int_equal(o.b.data[188 * i + 2], p[188 * i + 2]);
    }
    struct demuxed d;
    demux(p, o.b.len - cut, &d);
    assert_int_equal(d.v.count, NFRAMES - KEYINT);
    assert_int_equal(d.v.keys, NFRAMES / KEYINT - 1);
    assert_true(d.v.count > 0);
    oa_buf_free(&o.b);
}

static void test_jitter_is_absorbed(void **state)
{
    /* Audio stepping back by a few ms, and a video frame with the same DTS as the previous. */
    struct memout o = {OA_BUF_INIT(1 << 26)};
    int err = 0;
    struct mux *m = mux_open("mp4", S.vhdr, S.ahdr, mem_write, &o, &err);
    assert_non_null(m);
    size_t nv = 0, na = 0;
    for (size_t i = 0; i < S.n; i++) {
        struct packet *p = S.pkts[i];
        struct packet *q = packet_new_copy(p->type, p->ts, p->data, p->size);
        if (p->type == PKT_AUDIO && ++na % 5 == 0)
            packet_set_ts(q, q->ts - 30);
        if (p->type == PKT_VIDEO && ++nv % 7 == 0)
            packet_set_ts(q, q->ts - 33);
        assert_int_equal(mux_write(m, q, -BASE_MS + 100), 0);
        packet_unref(&q);
    }
    assert_int_equal(mux_close(m), 0);
    struct demuxed d;
    demux(o.b.data, o.b.len, &d);
    assert_int_equal(d.v.count, NFRAMES);
    assert_int_equal(d.a.count, S.naudio);
    assert_true(d.v.dts_increasing);
    assert_true(d.a.dts_increasing);
    for (size_t i = 0; i < d.v.count; i++)
        assert_true(d.v.pts[i] >= d.v.dts[i]);
    oa_buf_free(&o.b);
}

static void test_ignored_and_bad_packets(void **state)
{
    struct memout o = {OA_BUF_INIT(1 << 26)};
    int err = 0;
    struct mux *m = mux_open("mpegts", S.vhdr, NULL, mem_write, &o, &err);
    assert_non_null(m);
    /* Headers, metadata and audio of a video-only mux are ignored. */
    assert_int_equal(mux_write(m, S.vhdr, 0), 0);
    assert_int_equal(mux_write(m, S.ahdr, 0), 0);
    static const uint8_t meta[] = {2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'};
    struct packet *p = packet_new_copy(PKT_META, 0, meta, sizeof(meta));
    assert_int_equal(mux_write(m, p, 0), 0);
    packet_unref(&p);
    for (size_t i = 0; i < S.n; i++) {
        if (S.pkts[i]->type == PKT_AUDIO) {
            assert_int_equal(mux_write(m, S.pkts[i], 0), 0);
            break;
        }
    }
    /* A truncated AVC packet. */
    static const uint8_t trunc[] = {0x27, 1, 0};
    p = packet_new_copy(PKT_VIDEO, 0, trunc, sizeof(trunc));
    assert_int_equal(mux_write(m, p, 0), OA_EPROTO);
    packet_unref(&p);
    /* End of sequence, and a non-AVC codec. */
    static const uint8_t eos[] = {0x17, 2, 0, 0, 0};
    p = packet_new_copy(PKT_VIDEO, 0, eos, sizeof(eos));
    assert_int_equal(mux_write(m, p, 0), 0);
    packet_unref(&p);
    static const uint8_t vp6[] = {0x14, 0, 0, 0};
    p = packet_new_copy(PKT_VIDEO, 0, vp6, sizeof(vp6));
    assert_int_equal(mux_write(m, p, 0), 0);
    packet_unref(&p);
    assert_int_equal(mux_close(m), 0);
    assert_int_equal(o.b.len % 188, 0);
    oa_buf_free(&o.b);
    assert_int_equal(mux_close(NULL), 0);
}

static void test_open_errors(void **state)
{
    struct memout o = {OA_BUF_INIT(1 << 26)};
    int err = 0;
    assert_null(mux_open("mpegts", NULL, NULL, mem_write, &o, &err));
    assert_int_equal(err, OA_EINVAL);
    assert_null(mux_open("avi", S.vhdr, S.ahdr, mem_write, &o, &err));
    assert_int_equal(err, OA_EINVAL);
    /* Headers swapped, a truncated header, a non-AVC header. */
    assert_null(mux_open("mpegts", S.ahdr, NULL, mem_write, &o, &err));
    assert_int_equal(err, OA_ECODEC);
    struct packet *p = packet_new_copy(PKT_VIDEO, 0, S.vhdr->data, 9);
    assert_null(mux_open("mp4", p, NULL, mem_write, &o, &err));
    assert_int_equal(err, OA_ECODEC);
    packet_unref(&p);
    static const uint8_t hevc[] = {0x1c, 0, 0, 0, 0, 1, 2, 3};
    p = packet_new_copy(PKT_VIDEO, 0, hevc, sizeof(hevc));
    assert_null(mux_open("mpegts", p, NULL, mem_write, &o, &err));
    assert_int_equal(err, OA_ECODEC);
    packet_unref(&p);
    static const uint8_t badasc[] = {0xaf, 0, 0xff};
    p = packet_new_copy(PKT_AUDIO, 0, badasc, sizeof(badasc));
    assert_null(mux_open("mpegts", NULL, p, mem_write, &o, &err));
    assert_int_equal(err, OA_ECODEC);
    packet_unref(&p);
    oa_buf_free(&o.b);
}

static void test_write_error_is_reported(void **state)
{
    for (int fmt = 0; fmt < 2; fmt++) {
        struct memout o = {OA_BUF_INIT(1 << 26), 0, 3};
        int err = 0;
        struct mux *m = mux_open(fmt ? "mp4" : "mpegts", S.vhdr, S.ahdr, mem_write, &o, &err);
        if (!m) {
            /* The header alone may reach the failing call. */
            assert_int_equal(err, OA_ETOOBIG);
            continue;
        }
        int first = 0;
        for (size_t i = 0; i < S.n && !first; i++) {
            first = mux_write(m, S.pkts[i], -BASE_MS);
            if (!first && packet_is_video_key(S.pkts[i]))
                first = mux_flush(m);
        }
        assert_int_equal(first, OA_ETOOBIG);
        /* Sticky: later calls and close report it too. */
        assert_int_equal(mux_write(m, S.pkts[S.n - 1], -BASE_MS), OA_ETOOBIG);
        assert_int_equal(mux_flush(m), OA_ETOOBIG);
        assert_int_equal(mux_close(m), OA_ETOOBIG);
        oa_buf_free(&o.b);
    }
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mpegts_round_trip),
        cmocka_unit_test(test_mpegts_decodes),
        cmocka_unit_test(test_mp4_round_trip),
        cmocka_unit_test(test_mp4_video_after_audio),
        cmocka_unit_test(test_mp4_timestamps_exact),
        cmocka_unit_test(test_mp4_is_playable_while_written),
        cmocka_unit_test(test_audio_only_and_video_only),
        cmocka_unit_test(test_flush_restarts_with_pat),
        cmocka_unit_test(test_jitter_is_absorbed),
        cmocka_unit_test(test_ignored_and_bad_packets),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_write_error_is_reported),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
