/*
 * test_hls.c - hls/segmenter.c: synthetic streams (libx264 H.264 and FFmpeg
 * AAC, wrapped as FLV packets) go through a segmenter, and the test checks
 * where segments are cut, their durations, the media sequence and the
 * sliding window, ENDLIST and DISCONTINUITY around a republish or a codec
 * change, and that every segment is a transport stream of its own that
 * libavformat reads back with the right codecs, frame counts and times.
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
#include "hls/segmenter.h"
#include "media/avc.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>

/* ---- driving a segmenter ------------------------------------------------- */

#define SEG_MS 2000
#define WINDOW 3

/* Stream A: 10 s, 160x96 at 30 fps, a keyframe every second, B-frames, stereo AAC. */
static struct synth A;
/* Stream B: 4 s, 320x192, no B-frames, mono AAC (a different encoder setup). */
static struct synth B;
/* Stream C: 9 s of video only with 3-second GOPs. */
static struct synth C;
#define A_BASE 5000

/* What the test expects each segment to hold, tallied while feeding. */
struct tally {
    size_t video[64], audio[64];
    bool started;
};

/* Feeds s from packet `from` to `to` (exclusive) with timestamps moved by shift ms. */
static void feed(struct hls_segmenter *sg, const struct synth *s, size_t from, size_t to,
                 int64_t shift, struct tally *t, bool audio, bool video)
{
    for (size_t i = from; i < to && i < s->n; i++) {
        const struct packet *p = s->pkts[i];
        if ((p->type == PKT_AUDIO && !audio) || (p->type == PKT_VIDEO && !video))
            continue;
        struct packet *q =
            packet_new_copy(p->type, (uint32_t)((int64_t)p->ts + shift), p->data, p->size);
        if (t && packet_is_video_key(q))
            t->started = true;
        assert_int_equal(hls_segmenter_push(sg, q), 0);
        if (t && (t->started || !video)) {
            uint64_t seq = hls_segmenter_finished(sg);
            assert_true(seq < 64);
            if (q->type == PKT_VIDEO)
                t->video[seq]++;
            else
                t->audio[seq]++;
        }
        packet_unref(&q);
    }
}

static void feed_headers(struct hls_segmenter *sg, const struct synth *s, bool audio, bool video)
{
    static const uint8_t meta[] = {2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a'};
    struct packet *m = packet_new_copy(PKT_META, 0, meta, sizeof(meta));
    assert_int_equal(hls_segmenter_push(sg, m), 0);
    packet_unref(&m);
    if (video)
        assert_int_equal(hls_segmenter_push(sg, s->vhdr), 0);
    if (audio)
        assert_int_equal(hls_segmenter_push(sg, s->ahdr), 0);
}

/*
 * Timestamps of the keyframes that start segments, by the rule in
 * segmenter.h: at least seg_ms after the previous cut, less half a frame.
 */
static size_t expected_cuts(const struct synth *s, int seg_ms, int64_t *cuts, size_t max)
{
    size_t n = 0;
    int64_t prev = -1, step = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->pkts[i]->type != PKT_VIDEO)
            continue;
        int64_t ts = s->pkts[i]->ts;
        if (prev >= 0)
            step = ts - prev;
        prev = ts;
        if (!packet_is_video_key(s->pkts[i]))
            continue;
        if (n == 0 || ts - cuts[n - 1] + step / 2 >= seg_ms) {
            assert_true(n < max);
            cuts[n++] = ts;
        }
    }
    return n;
}

/*
 * Where the last segment of packets [from, to) of s ends, if it starts at
 * `start`: one mean frame interval after the last packet of the stream that
 * defines the timeline (video if `video`, else audio); with a single packet,
 * the last step between packets instead.
 */
static int64_t range_end(const struct synth *s, size_t from, size_t to, int64_t start, bool video)
{
    int type = video ? PKT_VIDEO : PKT_AUDIO;
    int64_t first = -1, last = -1, prev = -1, n = 0;
    for (size_t i = from; i < to; i++) {
        if (s->pkts[i]->type != type)
            continue;
        prev = last;
        last = s->pkts[i]->ts;
        if (last >= start && n++ == 0)
            first = last;
    }
    assert_true(n > 0 && prev >= 0);
    return last + (n > 1 ? (last - first + (n - 1) / 2) / (n - 1) : last - prev);
}

static char *playlist(struct hls_segmenter *sg, const char *query)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    assert_int_equal(hls_segmenter_playlist(sg, "s1", query, &b), 0);
    oa_buf_cstr(&b);
    return (char *)oa_buf_steal(&b, NULL);
}

static void check_segment(const struct hls_segment *seg, int width, int height, int channels,
                          size_t nvideo, size_t naudio)
{
    /* A self-contained transport stream: tables first, a keyframe first. */
    assert_true(seg->len > 0);
    assert_int_equal(seg->len % 188, 0);
    for (size_t i = 0; i < seg->len; i += 188)
        assert_int_equal(seg->data[i], 0x47);
    assert_int_equal(((seg->data[188 + 1] & 0x1f) << 8) | seg->data[188 + 2], 0); /* PAT */
    struct demuxed d;
    demux(seg->data, seg->len, &d);
    if (nvideo) {
        assert_int_equal(d.v.codec, AV_CODEC_ID_H264);
        assert_int_equal(d.v.width, width);
        assert_int_equal(d.v.height, height);
        assert_true(d.v.keys >= 1);
        assert_true(d.v.dts_increasing);
        /* Starts at the keyframe, on the publisher's clock. */
        assert_int_equal(d.v.dts[0], seg->start_ms);
    }
    assert_int_equal(d.v.count, nvideo);
    if (naudio) {
        assert_int_equal(d.a.codec, AV_CODEC_ID_AAC);
        assert_int_equal(d.a.channels, channels);
        assert_true(d.a.dts_increasing);
    }
    assert_int_equal(d.a.count, naudio);
}

static int setup(void **state)
{
    synth_video(&A, 160, 96, 30, 30, 300, true, A_BASE);
    synth_audio(&A, 2, 10000, A_BASE);
    synth_sort(&A);
    synth_video(&B, 320, 192, 30, 30, 120, false, 0);
    synth_audio(&B, 1, 4000, 0);
    synth_sort(&B);
    synth_video(&C, 160, 96, 30, 90, 270, false, 0);
    synth_sort(&C);
    return 0;
}

static int teardown(void **state)
{
    synth_free(&A);
    synth_free(&B);
    synth_free(&C);
    return 0;
}

static void test_cuts_on_keyframes(void **state)
{
    struct hls_segmenter *sg = hls_segmenter_new("hls test", SEG_MS, 10);
    struct tally t = {0};
    hls_segmenter_start(sg);
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    assert_int_equal(hls_segmenter_playlist(sg, "s1", NULL, &b), OA_EAGAIN);
    feed_headers(sg, &A, true, true);
    feed(sg, &A, 0, A.n, 0, &t, true, true);

    int64_t cuts[32];
    size_t ncuts = expected_cuts(&A, SEG_MS, cuts, 32);
    assert_int_equal(ncuts, 5);
    /* Every segment but the open last one is finished. */
    assert_int_equal(hls_segmenter_finished(sg), ncuts - 1);
    assert_false(hls_segmenter_ended(sg));
    hls_segmenter_end(sg);
    assert_true(hls_segmenter_ended(sg));
    assert_int_equal(hls_segmenter_finished(sg), ncuts);
    assert_int_equal(hls_segmenter_count(sg), ncuts);

    for (size_t i = 0; i < ncuts; i++) {
        struct hls_segment *seg = hls_segmenter_find(sg, i);
        assert_non_null(seg);
        assert_int_equal(seg->seq, i);
        assert_int_equal(seg->start_ms, cuts[i]);
        int64_t end = i + 1 < ncuts ? cuts[i + 1] : range_end(&A, 0, A.n, cuts[i], true);
        assert_int_equal(seg->duration_ms, end - cuts[i]);
        assert_false(seg->discontinuity);
        check_segment(seg, 160, 96, 2, t.video[i], t.audio[i]);
        /* Keyframes every second, segments of two seconds. */
        assert_int_equal(t.video[i], 60);
    }
    assert_null(hls_segmenter_find(sg, ncuts));

    /* The playlist lists them all, with ENDLIST; the longest makes the target duration. */
    char *text = playlist(sg, NULL);
    char want[1024];
    int64_t max = 0;
    size_t w = (size_t)snprintf(want, sizeof(want), "#EXTM3U\n#EXT-X-VERSION:3\n");
    for (size_t i = 0; i < ncuts; i++)
        max = OA_MAX(max, hls_segmenter_find(sg, i)->duration_ms);
    w += (size_t)snprintf(want + w, sizeof(want) - w,
                          "#EXT-X-TARGETDURATION:%lld\n#EXT-X-MEDIA-SEQUENCE:0\n",
                          (long long)(max + 999) / 1000);
    for (size_t i = 0; i < ncuts; i++) {
        int64_t d = hls_segmenter_find(sg, i)->duration_ms;
        w += (size_t)snprintf(want + w, sizeof(want) - w, "#EXTINF:%lld.%03lld,\ns1/%zu.ts\n",
                              (long long)d / 1000, (long long)d % 1000, i);
    }
    snprintf(want + w, sizeof(want) - w, "#EXT-X-ENDLIST\n");
    assert_string_equal(text, want);
    assert_non_null(strstr(text, "#EXT-X-TARGETDURATION:2\n"));
    oa_free(text);
    oa_buf_free(&b);
    hls_segmenter_free(sg);
}

static void test_segments_are_continuous(void **state)
{
    /* Played back to back, the segments are the whole stream after the first keyframe. */
    struct hls_segmenter *sg = hls_segmenter_new("hls test", SEG_MS, 10);
    hls_segmenter_start(sg);
    feed_headers(sg, &A, true, true);
    feed(sg, &A, 0, A.n, 0, NULL, true, true);
    hls_segmenter_end(sg);
    struct oa_buf all = OA_BUF_INIT(1 << 26);
    for (uint64_t i = 0; i < hls_segmenter_finished(sg); i++) {
        struct hls_segment *seg = hls_segmenter_find(sg, i);
        assert_int_equal(oa_buf_append(&all, seg->data, seg->len), 0);
    }
    struct demuxed d;
    demux(all.data, all.len, &d);
    assert_int_equal(d.v.count, A.nvideo);
    assert_true(d.v.dts_increasing);
    assert_true(d.a.dts_increasing);
    /* Audio before the first keyframe has nothing to play with; the rest is all there. */
    assert_true(d.a.count >= A.naudio - 4 && d.a.count <= A.naudio);
    oa_buf_free(&all);
    hls_segmenter_free(sg);
}

static void test_sliding_window_and_query(void **state)
{
    /* 1-second segments of stream A: ten of them, three listed, two more kept. */
    struct hls_segmenter *sg = hls_segmenter_new("hls test", 1000, WINDOW);
    hls_segmenter_start(sg);
    feed_headers(sg, &A, true, true);
    feed(sg, &A, 0, A.n, 0, NULL, true, true);
    assert_int_equal(hls_segmenter_finished(sg), 9);
    assert_int_equal(hls_segmenter_count(sg), WINDOW);
    char *text = playlist(sg, "vhost=live.example.com&auth_key=1700000000-0-0-abc%2F");
    assert_string_equal(
        text, "#EXTM3U\n"
              "#EXT-X-VERSION:3\n"
              "#EXT-X-TARGETDURATION:1\n"
              "#EXT-X-MEDIA-SEQUENCE:6\n"
              "#EXTINF:1.000,\ns1/6.ts?vhost=live.example.com&auth_key=1700000000-0-0-abc%2F\n"
              "#EXTINF:1.000,\ns1/7.ts?vhost=live.example.com&auth_key=1700000000-0-0-abc%2F\n"
              "#EXTINF:1.000,\ns1/8.ts?vhost=live.example.com&auth_key=1700000000-0-0-abc%2F\n");
    oa_free(text);
    /* Two segments beyond the window are still served; older ones are gone. */
    assert_non_null(hls_segmenter_find(sg, 4));
    assert_non_null(hls_segmenter_find(sg, 5));
    assert_null(hls_segmenter_find(sg, 3));
    assert_null(hls_segmenter_find(sg, 0));
    assert_null(hls_segmenter_find(sg, 9));
    hls_segmenter_free(sg);
}

static void test_segment_outlives_window(void **state)
{
    struct hls_segmenter *sg = hls_segmenter_new("hls test", 1000, 2);
    hls_segmenter_start(sg);
    feed_headers(sg, &A, true, true);
    struct tally t = {0};
    feed(sg, &A, 0, A.n / 4, 0, &t, true, true);
    struct hls_segment *held = hls_segment_ref(hls_segmenter_find(sg, 0));
    size_t len = held->len;
    feed(sg, &A, A.n / 4, A.n, 0, NULL, true, true);
    assert_null(hls_segmenter_find(sg, 0));
    /* Still intact for the response that is sending it. */
    assert_int_equal(held->len, len);
    check_segment(held, 160, 96, 2, 30, t.audio[0]);
    hls_segment_unref(&held);
    assert_null(held);
    hls_segmenter_free(sg);
}

static void test_long_gop(void **state)
{
    struct hls_segmenter *sg = hls_segmenter_new("hls test", SEG_MS, WINDOW);
    hls_segmenter_start(sg);
    feed_headers(sg, &C, false, true);
    feed(sg, &C, 0, C.n, 0, NULL, false, true);
    hls_segmenter_end(sg);
    assert_int_equal(hls_segmenter_finished(sg), 3);
    for (uint64_t i = 0; i < 3; i++) {
        struct hls_segment *seg = hls_segmenter_find(sg, i);
        /* The last one ends one frame (33 ms at 30 fps, by its timestamps) after its last. */
        assert_int_equal(seg->duration_ms, i < 2 ? 3000 : 2999);
        check_segment(seg, 160, 96, 0, 90, 0);
    }
    char *text = playlist(sg, "");
    assert_non_null(strstr(text, "#EXT-X-TARGETDURATION:3\n"));
    assert_non_null(strstr(text, "#EXTINF:3.000,\ns1/0.ts\n"));
    oa_free(text);
    hls_segmenter_free(sg);
}

static void test_starts_at_a_keyframe(void **state)
{
    /* Joining mid-GOP: everything before the next keyframe is dropped. */
    struct hls_segmenter *sg = hls_segmenter_new("hls test", SEG_MS, 10);
    hls_segmenter_start(sg);
    feed_headers(sg, &A, true, true);
    size_t from = 0, keys = 0;
    for (size_t i = 0; i < A.n && !from; i++) {
        if (packet_is_video_key(A.pkts[i]) && ++keys == 2)
            from = i - 10;
    }
    feed(sg, &A, from, A.n, 0, NULL, true, true);
    hls_segmenter_end(sg);
    struct hls_segment *seg = hls_segmenter_find(sg, 0);
    assert_non_null(seg);
    assert_int_equal(seg->start_ms, A.pkts[from + 10]->ts);
    struct demuxed d;
    demux(seg->data, seg->len, &d);
    assert_int_equal(d.v.count, 60);
    assert_int_equal(d.v.keys, 2);
    hls_segmenter_free(sg);
}

static void test_audio_only(void **state)
{
    struct hls_segmenter *sg = hls_segmenter_new("hls test", SEG_MS, 10);
    struct tally t = {0};
    hls_segmenter_start(sg);
    feed_headers(sg, &A, true, false);
    feed(sg, &A, 0, A.n, 0, &t, true, false);
    hls_segmenter_end(sg);
    /* 10 s of audio and the encoder's last frames: five segments and a short one. */
    uint64_t n = hls_segmenter_finished(sg);
    assert_int_equal(n, 6);
    int64_t total = 0;
    for (uint64_t i = 0; i < n; i++) {
        struct hls_segment *seg = hls_segmenter_find(sg, i);
        /* Cut at the first AAC frame (23.2 ms) at 2 s, less half a frame, or later. */
        if (i + 1 < n)
            assert_true(seg->duration_ms >= SEG_MS - 12 && seg->duration_ms < SEG_MS + 24);
        total += seg->duration_ms;
        check_segment(seg, 0, 0, 2, 0, t.audio[i]);
    }
    size_t first_audio = 0;
    while (A.pkts[first_audio]->type != PKT_AUDIO)
        first_audio++;
    int64_t last_start = hls_segmenter_find(sg, n - 1)->start_ms;
    assert_int_equal(total, range_end(&A, 0, A.n, last_start, false) - A.pkts[first_audio]->ts);
    hls_segmenter_free(sg);
}

/* The index of the n-th (0-based) video keyframe of s. */
static size_t nth_key(const struct synth *s, size_t n)
{
    for (size_t i = 0; i < s->n; i++) {
        if (packet_is_video_key(s->pkts[i]) && n-- == 0)
            return i;
    }
    fail();
    return 0;
}

static void test_republish(void **state)
{
    struct hls_segmenter *sg = hls_segmenter_new("hls test", SEG_MS, WINDOW);
    hls_segmenter_start(sg);
    feed_headers(sg, &A, true, true);
    /* Up to the sixth keyframe: cuts at the first, third and fifth. */
    size_t split = nth_key(&A, 5);
    feed(sg, &A, 0, split, 0, NULL, true, true);
    assert_int_equal(hls_segmenter_finished(sg), 2);
    hls_segmenter_end(sg);
    uint64_t n1 = hls_segmenter_finished(sg);
    assert_int_equal(n1, 3);
    char *text = playlist(sg, NULL);
    assert_non_null(strstr(text, "s1/2.ts\n#EXT-X-ENDLIST\n"));
    oa_free(text);
    /* The partial last segment was finished: one GOP, up to one frame after its last. */
    struct hls_segment *last = hls_segmenter_find(sg, 2);
    assert_int_equal(last->duration_ms,
                     range_end(&A, 0, split, last->start_ms, true) - last->start_ms);
    assert_true(llabs(last->duration_ms - 1000) <= 1);

    /* Same key, a different encoder; the hub continues the timestamps. */
    hls_segmenter_start(sg);
    assert_false(hls_segmenter_ended(sg));
    text = playlist(sg, NULL);
    assert_null(strstr(text, "#EXT-X-ENDLIST"));
    assert_null(strstr(text, "#EXT-X-DISCONTINUITY"));
    oa_free(text);
    int64_t shift = (int64_t)A.pkts[split - 1]->ts + 1;
    struct tally t = {0};
    feed_headers(sg, &B, true, true);
    feed(sg, &B, 0, B.n, shift, &t, true, true);
    hls_segmenter_end(sg);
    uint64_t n2 = hls_segmenter_finished(sg);
    assert_int_equal(n2, n1 + 2);
    struct hls_segment *first = hls_segmenter_find(sg, n1);
    assert_true(first->discontinuity);
    assert_int_equal(first->start_ms, shift);
    assert_false(hls_segmenter_find(sg, n1 + 1)->discontinuity);
    check_segment(first, 320, 192, 1, t.video[n1], t.audio[n1]);
    check_segment(hls_segmenter_find(sg, n1 + 1), 320, 192, 1, t.video[n1 + 1], t.audio[n1 + 1]);
    text = playlist(sg, NULL);
    char want[512];
    int64_t d[3];
    for (int i = 0; i < 3; i++)
        d[i] = hls_segmenter_find(sg, 2 + (uint64_t)i)->duration_ms;
    assert_int_equal(d[1], 2000);
    snprintf(want, sizeof(want),
             "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:2\n"
             "#EXTINF:%lld.%03lld,\ns1/2.ts\n"
             "#EXT-X-DISCONTINUITY\n"
             "#EXTINF:%lld.%03lld,\ns1/3.ts\n"
             "#EXTINF:%lld.%03lld,\ns1/4.ts\n"
             "#EXT-X-ENDLIST\n",
             (long long)d[0] / 1000, (long long)d[0] % 1000, (long long)d[1] / 1000,
             (long long)d[1] % 1000, (long long)d[2] / 1000, (long long)d[2] % 1000);
    assert_string_equal(text, want);
    oa_free(text);

    /* Once the discontinuity slides out, the playlist counts it. */
    hls_segmenter_start(sg);
    feed_headers(sg, &A, true, true);
    feed(sg, &A, 0, A.n, shift + 10000 - A_BASE, NULL, true, true);
    text = playlist(sg, NULL);
    assert_non_null(strstr(text, "#EXT-X-DISCONTINUITY-SEQUENCE:2\n"));
    assert_null(strstr(text, "#EXT-X-DISCONTINUITY\n"));
    assert_null(strstr(text, "#EXT-X-ENDLIST"));
    oa_free(text);
    hls_segmenter_free(sg);
}

static void test_header_change_mid_publish(void **state)
{
    /* A new AVC sequence header without a republish starts a new run at its keyframe. */
    struct hls_segmenter *sg = hls_segmenter_new("hls test", SEG_MS, 10);
    hls_segmenter_start(sg);
    feed_headers(sg, &A, true, true);
    size_t split = nth_key(&A, 5);
    feed(sg, &A, 0, split, 0, NULL, true, true);
    uint64_t n1 = hls_segmenter_finished(sg);
    /* The same headers again change nothing. */
    feed_headers(sg, &A, true, true);
    int64_t shift = (int64_t)A.pkts[split - 1]->ts + 1;
    struct tally t = {0};
    feed_headers(sg, &B, true, true);
    feed(sg, &B, 0, B.n, shift, &t, true, true);
    hls_segmenter_end(sg);
    struct hls_segment *before = hls_segmenter_find(sg, n1);
    struct hls_segment *after = hls_segmenter_find(sg, n1 + 1);
    assert_non_null(after);
    assert_false(before->discontinuity);
    assert_true(after->discontinuity);
    assert_int_equal(before->duration_ms, shift - before->start_ms);
    check_segment(after, 320, 192, 1, t.video[n1 + 1], t.audio[n1 + 1]);
    hls_segmenter_free(sg);
}

static void test_ignored_input(void **state)
{
    struct hls_segmenter *sg = hls_segmenter_new("hls test", SEG_MS, WINDOW);
    /* Frames before any header, other codecs, truncated and empty frames. */
    hls_segmenter_start(sg);
    for (size_t i = 0; i < 20; i++)
        assert_int_equal(hls_segmenter_push(sg, A.pkts[i]), 0);
    static const uint8_t vp6[] = {0x14, 0, 0, 0, 1, 2};
    static const uint8_t mp3[] = {0x2f, 0xff, 0xfb, 0x90};
    struct packet *p = packet_new_copy(PKT_VIDEO, A_BASE, vp6, sizeof(vp6));
    assert_int_equal(hls_segmenter_push(sg, p), 0);
    packet_unref(&p);
    p = packet_new_copy(PKT_AUDIO, A_BASE, mp3, sizeof(mp3));
    assert_int_equal(hls_segmenter_push(sg, p), 0);
    packet_unref(&p);
    assert_int_equal(hls_segmenter_finished(sg), 0);
    feed_headers(sg, &A, true, true);
    feed(sg, &A, 0, A.n / 2, 0, NULL, true, true);
    static const uint8_t trunc[] = {0x27, 1, 0};
    p = packet_new_copy(PKT_VIDEO, A.pkts[A.n / 2]->ts, trunc, sizeof(trunc));
    assert_int_equal(hls_segmenter_push(sg, p), OA_EPROTO);
    packet_unref(&p);
    feed(sg, &A, A.n / 2, A.n, 0, NULL, true, true);
    /*
     * An end-of-sequence marker and an empty frame, both flagged as keyframes
     * and late enough to cut: neither may start a segment.
     */
    static const uint8_t eos[] = {0x17, 2, 0, 0, 0};
    static const uint8_t empty[] = {0x17, 1, 0, 0, 0};
    uint32_t late = A.pkts[A.n - 1]->ts + 2500;
    p = packet_new_copy(PKT_VIDEO, late, empty, sizeof(empty));
    assert_true(packet_is_video_key(p));
    assert_int_equal(hls_segmenter_push(sg, p), 0);
    packet_unref(&p);
    p = packet_new_copy(PKT_VIDEO, late + 33, eos, sizeof(eos));
    assert_true(packet_is_video_key(p));
    assert_int_equal(hls_segmenter_push(sg, p), 0);
    packet_unref(&p);
    assert_int_equal(hls_segmenter_finished(sg), 4);
    hls_segmenter_end(sg);
    assert_int_equal(hls_segmenter_finished(sg), 5);
    struct hls_segment *last = hls_segmenter_find(sg, 4);
    assert_int_equal(last->duration_ms,
                     range_end(&A, 0, A.n, last->start_ms, true) - last->start_ms);
    /* After the end, packets are ignored until the next publish. */
    assert_int_equal(hls_segmenter_push(sg, A.pkts[0]), 0);
    assert_int_equal(hls_segmenter_finished(sg), 5);
    hls_segmenter_free(sg);
    hls_segmenter_free(NULL);
}

int main(void)
{
    av_log_set_level(AV_LOG_ERROR);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cuts_on_keyframes),
        cmocka_unit_test(test_segments_are_continuous),
        cmocka_unit_test(test_sliding_window_and_query),
        cmocka_unit_test(test_segment_outlives_window),
        cmocka_unit_test(test_long_gop),
        cmocka_unit_test(test_starts_at_a_keyframe),
        cmocka_unit_test(test_audio_only),
        cmocka_unit_test(test_republish),
        cmocka_unit_test(test_header_change_mid_publish),
        cmocka_unit_test(test_ignored_input),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
