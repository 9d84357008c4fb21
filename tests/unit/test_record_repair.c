/*
 * test_record_repair.c - crash repair of recordings (record/repair.c): an
 * FLV file, a fragmented MP4 box sequence and MPEG-TS cut at every possible
 * length must be repaired to exactly the last complete unit before the cut,
 * and torn or zero-filled tails must not be taken for data.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/err.h"
#include "core/packet.h"
#include "record/repair.h"
#include "record/writer.h"

struct mem {
    const uint8_t *p;
    size_t len;
};

static int mem_read(void *ctx, uint64_t off, void *buf, size_t n, size_t *got)
{
    struct mem *m = ctx;
    *got = off >= m->len ? 0 : OA_MIN(n, m->len - (size_t)off);
    memcpy(buf, m->p + off, *got);
    return 0;
}

static void add_tag(struct oa_buf *b, uint8_t type, uint32_t ts, const uint8_t *p, size_t n,
                    size_t *ends, size_t *nends)
{
    struct packet *pkt = packet_new_copy(type, 0, p, (uint32_t)n);
    uint8_t th[11];
    rec_flv_tag_header(pkt, ts, th);
    oa_buf_append(b, th, 11);
    oa_buf_append(b, pkt->flv + 11, pkt->flv_len - 11);
    packet_unref(&pkt);
    ends[(*nends)++] = b->len;
}

static void test_flv_every_cut(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    size_t ends[64], nends = 0;
    uint8_t h[13];
    rec_flv_file_header(h, true, true);
    oa_buf_append(&b, h, 13);
    ends[nends++] = 13;
    static const uint8_t meta[] = {2, 0, 10, 'o', 'n', 'M', 'e', 't', 'a', 'D', 'a', 't', 'a', 5};
    add_tag(&b, PKT_META, 0, meta, sizeof(meta), ends, &nends);
    static const uint8_t vhdr[] = {0x17, 0, 0, 0, 0, 1, 0x42, 0, 0x1e, 0xff, 0xe0, 0};
    static const uint8_t ahdr[] = {0xaf, 0, 0x12, 0x10};
    add_tag(&b, PKT_VIDEO, 0, vhdr, sizeof(vhdr), ends, &nends);
    add_tag(&b, PKT_AUDIO, 0, ahdr, sizeof(ahdr), ends, &nends);
    size_t frames_after[64] = {0}; /* video+audio frames complete at each end */
    size_t nframes = 0;
    for (int i = 0; i < 20; i++) {
        uint8_t v[40] = {i % 10 ? 0x27 : 0x17, 1, 0, 0, 0};
        uint8_t a[20] = {0xaf, 1};
        add_tag(&b, PKT_VIDEO, (uint32_t)(i * 40), v, sizeof(v) - (size_t)i, ends, &nends);
        frames_after[nends - 1] = ++nframes;
        add_tag(&b, PKT_AUDIO, (uint32_t)(i * 40 + 20), a, sizeof(a), ends, &nends);
        frames_after[nends - 1] = ++nframes;
    }
    for (size_t len = 0; len <= b.len; len++) {
        struct mem m = {b.data, len};
        struct rec_flv_scan s;
        assert_int_equal(rec_repair_flv(mem_read, &m, len, &s), 0);
        size_t want = 0, frames = 0;
        for (size_t k = 0; k < nends && ends[k] <= len; k++) {
            want = ends[k];
            frames = frames_after[k] ? frames_after[k] : frames;
        }
        assert_int_equal(s.good_len, want);
        assert_int_equal(s.video_frames + s.audio_frames, frames);
    }
    struct mem m = {b.data, b.len};
    struct rec_flv_scan s;
    rec_repair_flv(mem_read, &m, b.len, &s);
    assert_int_equal(s.video_frames, 20);
    assert_int_equal(s.audio_frames, 20);
    assert_int_equal(s.first_ts, 0);
    assert_int_equal(s.last_ts, 19 * 40 + 20);
    assert_int_equal(rec_flv_scan_duration_ms(&s), 19 * 40 + 20 + 40);

    /* A crash can leave zeros (or garbage) after the last write: not data. */
    size_t full = b.len;
    static const uint8_t zeros[300];
    oa_buf_append(&b, zeros, sizeof(zeros));
    m = (struct mem){b.data, b.len};
    rec_repair_flv(mem_read, &m, b.len, &s);
    assert_int_equal(s.good_len, full);
    /* A torn tag: header and payload present, previous-tag-size wrong. */
    b.len = full;
    uint8_t v[30] = {0x27, 1};
    size_t e2[2], n2 = 0;
    add_tag(&b, PKT_VIDEO, 9999, v, sizeof(v), e2, &n2);
    b.data[b.len - 1] ^= 0xff;
    m = (struct mem){b.data, b.len};
    rec_repair_flv(mem_read, &m, b.len, &s);
    assert_int_equal(s.good_len, full);
    /* Not an FLV file at all. */
    m = (struct mem){(const uint8_t *)"GIF89a........", 14};
    rec_repair_flv(mem_read, &m, 14, &s);
    assert_int_equal(s.good_len, 0);
    oa_buf_free(&b);
}

static void box(struct oa_buf *b, const char *type, size_t size, bool large, size_t *ends,
                size_t *n)
{
    uint8_t h[16];
    if (large) {
        oa_wb32(h, 1);
        memcpy(h + 4, type, 4);
        oa_wb32(h + 8, 0);
        oa_wb32(h + 12, (uint32_t)size);
        oa_buf_append(b, h, 16);
        size -= 16;
    } else {
        oa_wb32(h, (uint32_t)size);
        memcpy(h + 4, type, 4);
        oa_buf_append(b, h, 8);
        size -= 8;
    }
    for (size_t i = 0; i < size; i++)
        oa_buf_append_u8(b, (uint8_t)(i * 7));
    ends[(*n)++] = b->len;
}

static void test_fmp4_every_cut(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    size_t ends[16], n = 0;
    box(&b, "ftyp", 24, false, ends, &n);
    box(&b, "moov", 120, false, ends, &n);
    box(&b, "moof", 60, false, ends, &n);
    box(&b, "mdat", 300, false, ends, &n);
    box(&b, "moof", 60, false, ends, &n);
    box(&b, "mdat", 500, true, ends, &n);
    box(&b, "moof", 60, false, ends, &n);
    box(&b, "mdat", 200, false, ends, &n);
    box(&b, "mfra", 40, false, ends, &n);
    /* Valid cut points: after moov, after each mdat, after mfra (not after a lone moof). */
    const size_t good_idx[] = {1, 3, 5, 7, 8};
    for (size_t len = 0; len <= b.len; len++) {
        struct mem m = {b.data, len};
        uint64_t good = 12345;
        assert_int_equal(rec_repair_fmp4(mem_read, &m, len, &good), 0);
        size_t want = 0;
        for (size_t k = 0; k < OA_ARRAY_SIZE(good_idx); k++) {
            if (ends[good_idx[k]] <= len)
                want = ends[good_idx[k]];
        }
        assert_int_equal(good, want);
    }
    /* A box size that runs past the end (torn header) stops the walk. */
    struct oa_buf c = OA_BUF_INIT(1 << 20);
    n = 0;
    box(&c, "ftyp", 24, false, ends, &n);
    box(&c, "moov", 64, false, ends, &n);
    size_t keep = c.len;
    box(&c, "moof", 32, false, ends, &n);
    oa_wb32(c.data + keep, 0x7fffffff);
    struct mem m = {c.data, c.len};
    uint64_t good;
    rec_repair_fmp4(mem_read, &m, c.len, &good);
    assert_int_equal(good, keep);
    oa_buf_free(&b);
    oa_buf_free(&c);
}

/* One TS packet of pid; start: it begins a PES (stream id sid, declared length len). */
static void ts_packet(struct oa_buf *b, int pid, bool start, uint8_t sid, uint16_t len)
{
    uint8_t p[188];
    memset(p, 0xff, sizeof(p));
    p[0] = 0x47;
    p[1] = (uint8_t)((start ? 0x40 : 0) | (pid >> 8));
    p[2] = (uint8_t)pid;
    p[3] = 0x10; /* payload only */
    if (start) {
        static const uint8_t h[] = {0, 0, 1};
        memcpy(p + 4, h, 3);
        p[7] = sid;
        oa_wb16(p + 8, len);
    }
    assert_int_equal(oa_buf_append(b, p, sizeof(p)), 0);
}

static uint64_t ts_good(const struct oa_buf *b, size_t len)
{
    struct mem m = {b->data, len};
    uint64_t good = 12345;
    assert_int_equal(rec_repair_ts(mem_read, &m, len, &good), 0);
    return good;
}

static void test_ts(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    assert_int_equal(ts_good(&b, 0), 0);
    /* A video PES (no length) of 3 packets, then an audio PES whose length 2 packets fill. */
    ts_packet(&b, 256, true, 0xe0, 0);
    ts_packet(&b, 256, false, 0, 0);
    ts_packet(&b, 256, false, 0, 0);
    uint16_t alen = (uint16_t)(188 - 4 - 6 + 188 - 4);
    ts_packet(&b, 257, true, 0xc0, alen);
    ts_packet(&b, 257, false, 0, 0);
    /* The audio PES is complete: everything stays. */
    assert_int_equal(ts_good(&b, b.len), b.len);
    /* Cut inside the audio PES (or its last packet torn): it goes, the video before it stays. */
    assert_int_equal(ts_good(&b, b.len - 1), 3 * 188);
    assert_int_equal(ts_good(&b, 4 * 188), 3 * 188);
    /* The video PES is last: it may be cut short, so it goes. */
    assert_int_equal(ts_good(&b, 3 * 188), 0);
    assert_int_equal(ts_good(&b, 2 * 188 + 100), 0);
    /* A PES after it and garbage after that: up to the garbage, less the last PES. */
    ts_packet(&b, 256, true, 0xe0, 0);
    size_t v2 = b.len;
    ts_packet(&b, 257, true, 0xc0, 10);
    b.data[b.len - 188] = 0x00; /* lost sync */
    assert_int_equal(ts_good(&b, b.len), v2 - 188);
    oa_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flv_every_cut),
        cmocka_unit_test(test_fmp4_every_cut),
        cmocka_unit_test(test_ts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
