/*
 * test_chunk.c - RTMP chunk stream reader and writer: every chunk size from 1
 * to 65536 through the writer and back through the reader in random slices,
 * interleaving, header formats 1-3 and their timestamp deltas, extended
 * timestamps, control messages, limits, and random garbage.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/err.h"
#include "rtmp/chunk.h"

struct want {
    uint32_t csid;
    uint8_t type;
    uint32_t stream_id;
    uint32_t ts;
    const uint8_t *payload;
    uint32_t len;
};

static uint32_t rnd(uint32_t *seed)
{
    /* xorshift32: deterministic, so a failure is reproducible. */
    uint32_t x = *seed;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *seed = x;
    return x;
}

static uint8_t big[300000]; /* random payload source */

static int setup_big(void **state)
{
    uint32_t seed = 0x1234567;
    for (size_t i = 0; i < sizeof(big); i++)
        big[i] = (uint8_t)rnd(&seed);
    return 0;
}

/*
 * Feeds p[0..len) in random slices of 1..maxslice bytes, storing the messages.
 * Returns the number of messages, or the reader's error.
 */
static long feed(struct rtmp_chunk_reader *r, const uint8_t *p, size_t len, uint32_t maxslice,
                 uint32_t *seed, struct rtmp_msg *out, size_t cap)
{
    size_t pos = 0, n = 0;
    while (pos < len) {
        size_t slice = 1 + rnd(seed) % maxslice;
        slice = OA_MIN(slice, len - pos);
        size_t off = 0;
        while (off < slice) {
            struct rtmp_msg m;
            size_t used = 0;
            int rc = rtmp_chunk_read(r, p + pos + off, slice - off, &used, &m);
            assert_true(used <= slice - off);
            off += used;
            if (rc < 0)
                return rc;
            if (rc == 0) {
                assert_int_equal(off, slice); /* 0 means everything was consumed */
                assert_null(m.pkt);
                break;
            }
            assert_non_null(m.pkt);
            assert_true(n < cap);
            out[n++] = m;
        }
        pos += slice;
    }
    return (long)n;
}

static void check_msgs(struct rtmp_msg *got, long n, const struct want *w, size_t nw)
{
    assert_int_equal(n, nw);
    for (size_t i = 0; i < nw; i++) {
        struct packet *pkt = got[i].pkt;
        assert_int_equal(got[i].csid, w[i].csid);
        assert_int_equal(got[i].stream_id, w[i].stream_id);
        assert_int_equal(pkt->type, w[i].type);
        assert_int_equal(pkt->ts, w[i].ts);
        assert_int_equal(pkt->size, w[i].len);
        if (w[i].len)
            assert_memory_equal(pkt->data, w[i].payload, w[i].len);
        /* The FLV framing around the payload is consistent. */
        assert_int_equal(pkt->flv[0], w[i].type);
        assert_int_equal(oa_rb24(pkt->flv + 1), w[i].len);
        assert_int_equal(oa_rb32(pkt->flv + 11 + w[i].len), w[i].len + 11);
    }
}

static void free_msgs(struct rtmp_msg *got, long n)
{
    for (long i = 0; i < n; i++)
        packet_unref(&got[i].pkt);
}

static void write_all(struct oa_buf *b, uint32_t chunk_size, const struct want *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        assert_int_equal(rtmp_chunk_write(b, chunk_size, w[i].csid, w[i].type, w[i].stream_id,
                                          w[i].ts, w[i].payload, w[i].len),
                         0);
}

static void test_every_chunk_size(void **state)
{
    uint32_t seed = 0xdecafbad;
    struct oa_buf b = OA_BUF_INIT(1 << 22);
    struct rtmp_msg got[16];
    int64_t live0 = packet_bytes_live();

    for (uint32_t n = 1; n <= 65536; n++) {
        struct want w[8];
        size_t nw = 0;
        uint32_t sizes[8] = {0, 1, 7, 200, 3000, n + 1, n <= 4096 ? 2 * n : 17, n - 1};
        static const uint8_t types[] = {8, 9, 18, 20, 9, 8, 15, 22};
        for (size_t i = 0; i < 8; i++) {
            uint32_t ts = rnd(&seed);
            /* Mostly ordinary timestamps, some extended ones. */
            if (rnd(&seed) % 4)
                ts %= 0x1000000;
            w[nw].csid = 3 + (uint32_t)(i % 4) + (i == 6 ? 200 : 0) + (i == 7 ? 5000 : 0);
            w[nw].type = types[i];
            w[nw].stream_id = i % 3 ? 1 : rnd(&seed);
            w[nw].ts = ts;
            w[nw].payload = big + rnd(&seed) % (sizeof(big) - 140000);
            w[nw].len = sizes[i];
            nw++;
        }
        oa_buf_reset(&b);
        assert_int_equal(rtmp_write_set_chunk_size(&b, RTMP_DEFAULT_CHUNK_SIZE, n), 0);
        write_all(&b, n, w, nw);

        struct rtmp_chunk_reader r;
        rtmp_chunk_reader_init(&r, 1 << 20);
        /* Byte-at-a-time now and then; otherwise slices proportional to the chunk size. */
        uint32_t maxslice = n % 97 == 0 ? 1 : 1 + n / 2 + rnd(&seed) % 300;
        long got_n = feed(&r, b.data, b.len, maxslice, &seed, got, OA_ARRAY_SIZE(got));
        assert_true(got_n >= 0);
        check_msgs(got, got_n, w, nw);
        assert_int_equal(r.chunk_size, n);
        assert_int_equal(r.bytes_in, b.len);
        free_msgs(got, got_n);
        rtmp_chunk_reader_free(&r);
    }
    assert_int_equal(packet_bytes_live(), live0);
    oa_buf_free(&b);
}

/* Splits the output of rtmp_chunk_write for one message back into its chunks. */
static size_t split_chunks(const uint8_t *p, size_t len, uint32_t chunk_size, uint32_t msg_len,
                           size_t *ends, size_t cap)
{
    size_t bl = (p[0] & 0x3f) == 0 ? 2 : (p[0] & 0x3f) == 1 ? 3 : 1;
    bool ext = oa_rb24(p + bl) == 0xffffff;
    size_t pos = bl + 11 + (ext ? 4 : 0), n = 0, left = msg_len;
    for (;;) {
        size_t take = OA_MIN((size_t)chunk_size, left);
        pos += take;
        left -= take;
        assert_true(n < cap);
        ends[n++] = pos;
        if (!left)
            break;
        pos += bl + (ext ? 4 : 0);
    }
    assert_int_equal(pos, len);
    return n;
}

static void test_interleaved(void **state)
{
    uint32_t seed = 99;
    for (int iter = 0; iter < 300; iter++) {
        uint32_t cs = 1 + rnd(&seed) % 300;
        enum { NS = 5, PER = 4 };
        /* Per chunk stream: a queue of messages, each split into chunks. */
        struct oa_buf wire[NS];
        struct want w[NS][PER];
        size_t ends[NS][PER * 64 + 8];
        size_t nends[NS] = {0}, next[NS] = {0};
        size_t want_idx[NS] = {0};
        uint32_t csids[NS] = {3, 4, 6, 64, 400};
        for (int s = 0; s < NS; s++) {
            oa_buf_init(&wire[s], 1 << 20);
            for (int k = 0; k < PER; k++) {
                struct want *x = &w[s][k];
                x->csid = csids[s];
                x->type = (uint8_t)(8 + s);
                x->stream_id = 1;
                x->ts = rnd(&seed) % 0x2000000;
                x->len = rnd(&seed) % (cs * 12 + 1);
                x->payload = big + rnd(&seed) % 100000;
                size_t start = wire[s].len;
                assert_int_equal(
                    rtmp_chunk_write(&wire[s], cs, x->csid, x->type, 1, x->ts, x->payload, x->len),
                    0);
                size_t e[PER * 64];
                size_t ne = split_chunks(wire[s].data + start, wire[s].len - start, cs, x->len, e,
                                         64 * PER);
                for (size_t i = 0; i < ne; i++)
                    ends[s][nends[s]++] = start + e[i];
            }
        }
        /* The stream: a set-chunk-size, then chunks taken from random chunk streams. */
        struct oa_buf all = OA_BUF_INIT(1 << 22);
        rtmp_write_set_chunk_size(&all, 128, cs);
        size_t done = 0, total = 0;
        for (int s = 0; s < NS; s++)
            total += nends[s];
        size_t pos[NS] = {0};
        while (done < total) {
            int s = (int)(rnd(&seed) % NS);
            if (next[s] == nends[s])
                continue;
            size_t end = ends[s][next[s]++];
            oa_buf_append(&all, wire[s].data + pos[s], end - pos[s]);
            pos[s] = end;
            done++;
        }
        struct rtmp_chunk_reader r;
        rtmp_chunk_reader_init(&r, 1 << 20);
        struct rtmp_msg got[NS * PER];
        long n = feed(&r, all.data, all.len, 1 + rnd(&seed) % 1000, &seed, got, NS * PER);
        assert_int_equal(n, NS * PER);
        /* Each chunk stream's messages arrive in order; match them per csid. */
        for (long i = 0; i < n; i++) {
            int s = 0;
            while (csids[s] != got[i].csid)
                s++;
            check_msgs(&got[i], 1, &w[s][want_idx[s]++], 1);
        }
        free_msgs(got, n);
        rtmp_chunk_reader_free(&r);
        oa_buf_free(&all);
        for (int s = 0; s < NS; s++)
            oa_buf_free(&wire[s]);
    }
}

/* Hand-built chunks for the header formats. */
static void put_fmt(struct oa_buf *b, unsigned fmt, uint32_t csid, uint32_t ts, uint32_t len,
                    uint8_t type, uint32_t sid, const char *payload, size_t plen)
{
    uint8_t h[18];
    size_t n = 0;
    OA_ASSERT(csid >= 2 && csid < 64);
    h[n++] = (uint8_t)(fmt << 6 | csid);
    if (fmt < 3) {
        oa_wb24(h + n, ts >= 0xffffff ? 0xffffff : ts);
        n += 3;
    }
    if (fmt < 2) {
        oa_wb24(h + n, len);
        h[n + 3] = type;
        n += 4;
    }
    if (fmt == 0) {
        h[n++] = (uint8_t)sid;
        h[n++] = (uint8_t)(sid >> 8);
        h[n++] = (uint8_t)(sid >> 16);
        h[n++] = (uint8_t)(sid >> 24);
    }
    oa_buf_append(b, h, n);
    oa_buf_append(b, payload, plen);
}

static void put_ext(struct oa_buf *b, uint32_t v)
{
    uint8_t e[4];
    oa_wb32(e, v);
    oa_buf_append(b, e, 4);
}

static long read_all(struct oa_buf *b, uint32_t max, struct rtmp_msg *got, size_t cap,
                     uint32_t slice)
{
    uint32_t seed = 7;
    struct rtmp_chunk_reader r;
    rtmp_chunk_reader_init(&r, max);
    long n = feed(&r, b->data, b->len, slice, &seed, got, cap);
    rtmp_chunk_reader_free(&r);
    return n;
}

static void test_fmt_deltas(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    const uint8_t *p = (const uint8_t *)"abcdefghij";
    put_fmt(&b, 0, 4, 1000, 3, 8, 1, "abc", 3); /* ts 1000 */
    put_fmt(&b, 1, 4, 20, 2, 9, 0, "de", 2);    /* +20: 1020, new length and type */
    put_fmt(&b, 2, 4, 30, 0, 0, 0, "fg", 2);    /* +30: 1050 */
    put_fmt(&b, 3, 4, 0, 0, 0, 0, "hi", 2);     /* +30 again: 1080 */
    put_fmt(&b, 3, 4, 0, 0, 0, 0, "ij", 2);     /* 1110 */
    /* Format 3 right after format 0 adds the format-0 timestamp (spec 5.3.1.2.4). */
    put_fmt(&b, 0, 5, 40, 1, 8, 1, "a", 1);
    put_fmt(&b, 3, 5, 0, 0, 0, 0, "b", 1); /* 80 */
    put_fmt(&b, 3, 5, 0, 0, 0, 0, "c", 1); /* 120 */
    /* A continuation chunk does not move the timestamp; the next message does. */
    uint8_t long_msg[200];
    memcpy(long_msg, big, sizeof(long_msg));
    put_fmt(&b, 0, 6, 500, 200, 9, 1, (const char *)long_msg, 128);
    put_fmt(&b, 3, 6, 0, 0, 0, 0, (const char *)long_msg + 128, 72);
    put_fmt(&b, 1, 6, 33, 1, 9, 0, "x", 1); /* 533 */
    put_fmt(&b, 3, 6, 0, 0, 0, 0, "y", 1);  /* 566 */
    /* Format 1 may open a chunk stream: time counts from 0, stream id 0. */
    put_fmt(&b, 1, 9, 7, 1, 20, 0, "z", 1);
    put_fmt(&b, 2, 9, 5, 0, 0, 0, "w", 1); /* 12 */

    struct want w[] = {
        {4, 8, 1, 1000, p, 3},
        {4, 9, 1, 1020, p + 3, 2},
        {4, 9, 1, 1050, p + 5, 2},
        {4, 9, 1, 1080, p + 7, 2},
        {4, 9, 1, 1110, p + 8, 2},
        {5, 8, 1, 40, p, 1},
        {5, 8, 1, 80, p + 1, 1},
        {5, 8, 1, 120, p + 2, 1},
        {6, 9, 1, 500, long_msg, 200},
        {6, 9, 1, 533, (const uint8_t *)"x", 1},
        {6, 9, 1, 566, (const uint8_t *)"y", 1},
        {9, 20, 0, 7, (const uint8_t *)"z", 1},
        {9, 20, 0, 12, (const uint8_t *)"w", 1},
    };
    for (uint32_t slice = 1; slice < 40; slice += 7) {
        struct rtmp_msg got[16];
        long n = read_all(&b, 1 << 20, got, 16, slice);
        check_msgs(got, n, w, OA_ARRAY_SIZE(w));
        free_msgs(got, n);
    }
    oa_buf_free(&b);
}

static void test_extended_timestamps(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    const uint8_t *p = big;

    /* Writer: format 0 with an extended timestamp, repeated in every format-3 chunk. */
    assert_int_equal(rtmp_chunk_write(&b, 128, 4, 8, 1, 0x12345678, p, 300), 0);
    assert_int_equal(b.len, 1 + 11 + 4 + 300 + 2 * (1 + 4));
    assert_int_equal(oa_rb24(b.data + 1), 0xffffff);
    assert_int_equal(oa_rb32(b.data + 12), 0x12345678);
    assert_int_equal(b.data[16 + 128], 0xc4);
    assert_int_equal(oa_rb32(b.data + 16 + 128 + 1), 0x12345678);
    /* Exactly 0xffffff is extended too; 0xfffffe is not. */
    assert_int_equal(rtmp_chunk_write(&b, 128, 4, 8, 1, 0xffffff, p, 10), 0);
    assert_int_equal(rtmp_chunk_write(&b, 128, 4, 8, 1, 0xfffffe, p, 10), 0);

    /* Format 1 with an extended delta, then format 3 messages with their own ext value. */
    put_fmt(&b, 1, 4, 0xffffff, 4, 8, 0, NULL, 0);
    put_ext(&b, 0x01000000);
    oa_buf_append(&b, p, 4);
    put_fmt(&b, 3, 4, 0, 0, 0, 0, NULL, 0);
    put_ext(&b, 0x02000000); /* the delta of this message, as FFmpeg writes it */
    oa_buf_append(&b, p + 4, 4);
    /* Back to an ordinary delta: format 3 then has no extended field any more. */
    put_fmt(&b, 2, 4, 10, 0, 0, 0, "abcd", 4);
    put_fmt(&b, 3, 4, 0, 0, 0, 0, "efgh", 4);

    uint32_t t = 0xfffffe;
    struct want w[] = {
        {4, 8, 1, 0x12345678, p, 300},
        {4, 8, 1, 0xffffff, p, 10},
        {4, 8, 1, t, p, 10},
        {4, 8, 1, t + 0x01000000, p, 4},
        {4, 8, 1, t + 0x03000000, p + 4, 4},
        {4, 8, 1, t + 0x03000000 + 10, (const uint8_t *)"abcd", 4},
        {4, 8, 1, t + 0x03000000 + 20, (const uint8_t *)"efgh", 4},
    };
    for (uint32_t slice = 1; slice < 400; slice += 37) {
        struct rtmp_msg got[16];
        long n = read_all(&b, 1 << 20, got, 16, slice);
        check_msgs(got, n, w, OA_ARRAY_SIZE(w));
        free_msgs(got, n);
    }

    /* Timestamps wrap modulo 2^32. */
    oa_buf_reset(&b);
    put_fmt(&b, 0, 4, 0xffffff, 1, 8, 1, NULL, 0);
    put_ext(&b, 0xfffffff0);
    oa_buf_append(&b, "a", 1);
    put_fmt(&b, 2, 4, 0x20, 0, 0, 0, "b", 1);
    struct rtmp_msg got[4];
    long n = read_all(&b, 1 << 20, got, 4, 100);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].pkt->ts, 0xfffffff0);
    assert_int_equal(got[1].pkt->ts, 0x10);
    free_msgs(got, n);
    oa_buf_free(&b);
}

static void test_zero_length(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    put_fmt(&b, 0, 3, 5, 0, 20, 0, NULL, 0);
    put_fmt(&b, 3, 3, 0, 0, 0, 0, NULL, 0); /* another one, ts 10 */
    assert_int_equal(rtmp_chunk_write(&b, 1, 300, 9, 1, 77, NULL, 0), 0);
    assert_int_equal(rtmp_chunk_write(&b, 1, 300, 9, 1, 78, (const uint8_t *)"k", 1), 0);
    struct want w[] = {
        {3, 20, 0, 5, NULL, 0},
        {3, 20, 0, 10, NULL, 0},
        {300, 9, 1, 77, NULL, 0},
        {300, 9, 1, 78, (const uint8_t *)"k", 1},
    };
    struct rtmp_msg got[8];
    for (uint32_t slice = 1; slice < 30; slice++) {
        long n = read_all(&b, 1 << 20, got, 8, slice);
        check_msgs(got, n, w, OA_ARRAY_SIZE(w));
        assert_int_equal(got[2].pkt->flags, 0);
        free_msgs(got, n);
    }
    /* A zero-length message completes on its header alone, even with max_message 0. */
    struct rtmp_chunk_reader r;
    struct rtmp_msg m;
    size_t used, off = 0;
    static const size_t header_len[] = {12, 1, 13};
    rtmp_chunk_reader_init(&r, 0);
    for (size_t i = 0; i < OA_ARRAY_SIZE(header_len); i++) {
        assert_int_equal(rtmp_chunk_read(&r, b.data + off, b.len - off, &used, &m), 1);
        assert_int_equal(used, header_len[i]);
        assert_int_equal(m.pkt->size, 0);
        packet_unref(&m.pkt);
        off += used;
    }
    /* Anything longer is too big. */
    assert_int_equal(rtmp_chunk_read(&r, b.data + off, b.len - off, &used, &m), OA_ETOOBIG);
    rtmp_chunk_reader_free(&r);
    oa_buf_free(&b);
}

static int read_once(struct rtmp_chunk_reader *r, struct oa_buf *b, struct rtmp_msg *m)
{
    size_t off = 0;
    for (;;) {
        size_t used;
        int rc = rtmp_chunk_read(r, b->data + off, b->len - off, &used, m);
        off += used;
        if (rc != 1)
            return rc;
        packet_unref(&m->pkt);
        if (off == b->len)
            return 1;
    }
}

static void test_max_message(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    struct rtmp_chunk_reader r;
    struct rtmp_msg m;

    rtmp_chunk_write(&b, 128, 4, 9, 1, 0, big, 1000);
    rtmp_chunk_reader_init(&r, 1000);
    assert_int_equal(read_once(&r, &b, &m), 1);
    rtmp_chunk_reader_free(&r);

    /* One byte over: refused at the header, before any payload arrives. */
    rtmp_chunk_reader_init(&r, 999);
    size_t used;
    assert_int_equal(rtmp_chunk_read(&r, b.data, 12, &used, &m), OA_ETOOBIG);
    rtmp_chunk_reader_free(&r);

    /* The largest length the header can express, against a small cap. */
    oa_buf_reset(&b);
    put_fmt(&b, 0, 4, 0, 0xffffff, 9, 1, NULL, 0);
    rtmp_chunk_reader_init(&r, 1 << 20);
    assert_int_equal(rtmp_chunk_read(&r, b.data, b.len, &used, &m), OA_ETOOBIG);
    rtmp_chunk_reader_free(&r);

    /* Partial messages together may hold at most 2 * max_message. */
    oa_buf_reset(&b);
    put_fmt(&b, 0, 4, 0, 1000, 9, 1, (const char *)big, 128);
    put_fmt(&b, 0, 5, 0, 1000, 8, 1, (const char *)big, 128);
    rtmp_chunk_reader_init(&r, 1000);
    assert_int_equal(read_once(&r, &b, &m), 0);
    oa_buf_reset(&b);
    put_fmt(&b, 0, 6, 0, 1, 8, 1, "x", 1);
    assert_int_equal(read_once(&r, &b, &m), OA_ETOOBIG);
    rtmp_chunk_reader_free(&r);
    oa_buf_free(&b);
}

/* Readers sharing a pool: together their partial messages stay under its maximum. */
static void test_shared_pool(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    struct rtmp_chunk_reader r1, r2;
    struct rtmp_msg m;
    uint64_t pool = 0;

    rtmp_chunk_reader_init(&r1, 1000);
    rtmp_chunk_reader_init(&r2, 1000);
    rtmp_chunk_reader_set_pool(&r1, &pool, 1500);
    rtmp_chunk_reader_set_pool(&r2, &pool, 1500);
    /* r1 holds 1000 bytes of a partial message. */
    put_fmt(&b, 0, 4, 0, 1000, 9, 1, (const char *)big, 128);
    assert_int_equal(read_once(&r1, &b, &m), 0);
    assert_int_equal(pool, 1000);
    /* r2 is under its own cap, but the pool has only 500 left. */
    oa_buf_reset(&b);
    put_fmt(&b, 0, 4, 0, 600, 9, 1, (const char *)big, 128);
    struct rtmp_chunk_reader r3;
    rtmp_chunk_reader_init(&r3, 1000);
    rtmp_chunk_reader_set_pool(&r3, &pool, 1500);
    assert_int_equal(read_once(&r3, &b, &m), OA_EBUSY);
    rtmp_chunk_reader_free(&r3);
    assert_int_equal(pool, 1000);
    /* A message that fits is fine, and completing it gives its bytes back. */
    oa_buf_reset(&b);
    rtmp_chunk_write(&b, 128, 4, 9, 1, 0, big, 400);
    assert_int_equal(read_once(&r2, &b, &m), 1);
    assert_int_equal(pool, 1000);
    /* Freeing a reader returns what its partial messages held. */
    rtmp_chunk_reader_free(&r1);
    assert_int_equal(pool, 0);
    rtmp_chunk_reader_free(&r2);
    oa_buf_free(&b);
}

static void test_csid_limit(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    struct rtmp_chunk_reader r;
    struct rtmp_msg m;

    rtmp_chunk_reader_init(&r, 1 << 20);
    for (uint32_t i = 0; i < RTMP_MAX_CSIDS; i++)
        rtmp_chunk_write(&b, 128, 3 + i * 1000, 20, 0, 0, (const uint8_t *)"x", 1);
    /* Reusing known chunk streams is fine. */
    rtmp_chunk_write(&b, 128, 3, 20, 0, 0, (const uint8_t *)"y", 1);
    assert_int_equal(read_once(&r, &b, &m), 1);
    oa_buf_reset(&b);
    rtmp_chunk_write(&b, 128, 65599, 20, 0, 0, (const uint8_t *)"z", 1);
    assert_int_equal(read_once(&r, &b, &m), OA_EPROTO);
    rtmp_chunk_reader_free(&r);

    /* The three basic-header forms, at their limits. */
    static const uint32_t ids[] = {2, 63, 64, 319, 320, 65599};
    oa_buf_reset(&b);
    rtmp_write_set_chunk_size(&b, 128, 2);
    for (size_t i = 0; i < OA_ARRAY_SIZE(ids); i++)
        assert_int_equal(rtmp_chunk_write(&b, 2, ids[i], 20, 0, 0, big, 5), 0);
    struct rtmp_msg got[8];
    long n = read_all(&b, 100, got, 8, 3);
    assert_int_equal(n, OA_ARRAY_SIZE(ids));
    for (size_t i = 0; i < OA_ARRAY_SIZE(ids); i++)
        assert_int_equal(got[i].csid, ids[i]);
    free_msgs(got, n);
    assert_int_equal(rtmp_chunk_write(&b, 128, 1, 20, 0, 0, big, 5), OA_EINVAL);
    assert_int_equal(rtmp_chunk_write(&b, 128, 65600, 20, 0, 0, big, 5), OA_EINVAL);
    assert_int_equal(rtmp_chunk_write(&b, 0, 3, 20, 0, 0, big, 5), OA_EINVAL);
    assert_int_equal(rtmp_chunk_write(&b, 128, 3, 20, 0, 0, big, 0x1000000), OA_ETOOBIG);
    oa_buf_free(&b);
}

static void test_protocol_errors(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    struct rtmp_chunk_reader r;
    struct rtmp_msg m;
    uint8_t v[4];

    /* Set Chunk Size of 0, of 2^31, of the wrong length. */
    static const uint32_t bad_sizes[] = {0, 0x80000000u, 0xffffffffu};
    for (size_t i = 0; i < OA_ARRAY_SIZE(bad_sizes); i++) {
        oa_buf_reset(&b);
        oa_wb32(v, bad_sizes[i]);
        rtmp_chunk_write(&b, 128, 2, RTMP_MSG_SET_CHUNK_SIZE, 0, 0, v, 4);
        rtmp_chunk_reader_init(&r, 1 << 20);
        assert_int_equal(read_once(&r, &b, &m), OA_EPROTO);
        rtmp_chunk_reader_free(&r);
    }
    oa_buf_reset(&b);
    rtmp_chunk_write(&b, 128, 2, RTMP_MSG_SET_CHUNK_SIZE, 0, 0, v, 3);
    rtmp_chunk_reader_init(&r, 1 << 20);
    assert_int_equal(read_once(&r, &b, &m), OA_EPROTO);
    rtmp_chunk_reader_free(&r);

    /* The largest legal chunk size is applied (and a helper refuses illegal ones). */
    oa_buf_reset(&b);
    assert_int_equal(rtmp_write_set_chunk_size(&b, 128, 0x7fffffff), 0);
    assert_int_equal(rtmp_write_set_chunk_size(&b, 128, 0), OA_EINVAL);
    assert_int_equal(rtmp_write_set_chunk_size(&b, 128, 0x80000000u), OA_EINVAL);
    rtmp_chunk_write(&b, 0x7fffffff, 4, 9, 1, 0, big, 5000);
    rtmp_chunk_reader_init(&r, 1 << 20);
    assert_int_equal(read_once(&r, &b, &m), 1);
    assert_int_equal(r.chunk_size, 0x7fffffff);
    rtmp_chunk_reader_free(&r);

    /* Formats 2 and 3 cannot open a chunk stream. */
    for (unsigned fmt = 2; fmt < 4; fmt++) {
        oa_buf_reset(&b);
        put_fmt(&b, fmt, 4, 1, 0, 0, 0, "abc", 3);
        rtmp_chunk_reader_init(&r, 1 << 20);
        assert_int_equal(read_once(&r, &b, &m), OA_EPROTO);
        rtmp_chunk_reader_free(&r);
    }

    /* A new message header while a message is still partial on that chunk stream. */
    for (unsigned fmt = 0; fmt < 3; fmt++) {
        oa_buf_reset(&b);
        put_fmt(&b, 0, 4, 0, 200, 9, 1, (const char *)big, 128);
        put_fmt(&b, fmt, 4, 0, 72, 9, 1, (const char *)big, 72);
        rtmp_chunk_reader_init(&r, 1 << 20);
        assert_int_equal(read_once(&r, &b, &m), OA_EPROTO);
        rtmp_chunk_reader_free(&r);
    }

    /* Short control messages. */
    static const uint8_t types[] = {RTMP_MSG_ABORT, RTMP_MSG_ACK, RTMP_MSG_WINDOW_ACK_SIZE,
                                    RTMP_MSG_SET_PEER_BANDWIDTH, RTMP_MSG_USER_CONTROL};
    for (size_t i = 0; i < OA_ARRAY_SIZE(types); i++) {
        oa_buf_reset(&b);
        rtmp_chunk_write(&b, 128, 2, types[i], 0, 0, big, 1);
        rtmp_chunk_reader_init(&r, 1 << 20);
        assert_int_equal(read_once(&r, &b, &m), OA_EPROTO);
        rtmp_chunk_reader_free(&r);
    }
    oa_buf_free(&b);
}

static void test_abort(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    uint8_t v[4];
    put_fmt(&b, 0, 4, 10, 200, 9, 1, (const char *)big, 128);
    oa_wb32(v, 4);
    rtmp_chunk_write(&b, 128, 2, RTMP_MSG_ABORT, 0, 0, v, 4);
    /* After the abort, a new message header on csid 4 is fine. */
    put_fmt(&b, 0, 4, 20, 3, 9, 1, "new", 3);
    /* Aborting an unknown or idle chunk stream is harmless. */
    oa_wb32(v, 12345);
    rtmp_chunk_write(&b, 128, 2, RTMP_MSG_ABORT, 0, 0, v, 4);
    /* A format-3 header after an abort starts a message with the last header's values. */
    put_fmt(&b, 0, 5, 10, 200, 8, 1, (const char *)big, 128);
    oa_wb32(v, 5);
    rtmp_chunk_write(&b, 128, 2, RTMP_MSG_ABORT, 0, 0, v, 4);
    put_fmt(&b, 3, 5, 0, 0, 0, 0, (const char *)big, 128);
    put_fmt(&b, 3, 5, 0, 0, 0, 0, (const char *)big + 128, 72);
    struct want w[] = {
        {4, 9, 1, 20, (const uint8_t *)"new", 3},
        {5, 8, 1, 20, big, 200},
    };
    struct rtmp_msg got[4];
    int64_t live0 = packet_bytes_live();
    long n = read_all(&b, 1000, got, 4, 50);
    check_msgs(got, n, w, OA_ARRAY_SIZE(w));
    free_msgs(got, n);
    assert_int_equal(packet_bytes_live(), live0);
    oa_buf_free(&b);
}

static void test_control_helpers(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    assert_int_equal(rtmp_write_ack(&b, 128, 0x01020304), 0);
    assert_int_equal(rtmp_write_window_ack_size(&b, 128, 2500000), 0);
    assert_int_equal(rtmp_write_peer_bandwidth(&b, 128, 2500000, 2), 0);
    assert_int_equal(rtmp_write_user_control(&b, 128, 0, 1), 0);
    assert_int_equal(rtmp_write_set_chunk_size(&b, 128, 4096), 0);
    /* Wire bytes of a Set Chunk Size, as every RTMP implementation expects them. */
    static const uint8_t scs[] = {0x02, 0, 0, 0, 0, 0, 4, 1, 0, 0, 0, 0, 0, 0, 0x10, 0};
    assert_memory_equal(b.data + b.len - sizeof(scs), scs, sizeof(scs));

    static const uint8_t ack[] = {1, 2, 3, 4};
    static const uint8_t win[] = {0x00, 0x26, 0x25, 0xa0};
    static const uint8_t bw[] = {0x00, 0x26, 0x25, 0xa0, 2};
    static const uint8_t uc[] = {0, 0, 0, 0, 0, 1};
    struct want w[] = {
        {2, RTMP_MSG_ACK, 0, 0, ack, 4},
        {2, RTMP_MSG_WINDOW_ACK_SIZE, 0, 0, win, 4},
        {2, RTMP_MSG_SET_PEER_BANDWIDTH, 0, 0, bw, 5},
        {2, RTMP_MSG_USER_CONTROL, 0, 0, uc, 6},
    };
    struct rtmp_msg got[8];
    long n = read_all(&b, 1000, got, 8, 5);
    check_msgs(got, n, w, OA_ARRAY_SIZE(w));
    free_msgs(got, n);

    /* A full buffer is left untouched. */
    struct oa_buf small = OA_BUF_INIT(15);
    assert_int_equal(rtmp_write_ack(&small, 128, 1), OA_ETOOBIG);
    assert_int_equal(small.len, 0);
    oa_buf_free(&small);
    oa_buf_free(&b);
}

static void test_packet_wire(void **state)
{
    /* An AVC keyframe and an AAC sequence header; classified on the way in. */
    uint8_t video[5000];
    memcpy(video, big, sizeof(video));
    video[0] = 0x17;
    video[1] = 0x01;
    struct packet *pv = packet_new_copy(PKT_VIDEO, 0x1234567, video, sizeof(video));
    static const uint8_t aac[] = {0xaf, 0x00, 0x12, 0x10};
    struct packet *pa = packet_new_copy(PKT_AUDIO, 5, aac, sizeof(aac));
    struct packet *pm = packet_new_copy(PKT_META, 0, "meta", 4);

    assert_int_equal(rtmp_packet_wire(pv, 4096), 0);
    uint8_t *first = pv->wire;
    assert_int_equal(pv->wire_chunk, 4096);
    assert_int_equal(rtmp_packet_wire(pv, 4096), 0);
    assert_ptr_equal(pv->wire, first); /* not rebuilt */
    assert_int_equal(rtmp_packet_wire(pa, 4096), 0);
    assert_int_equal(rtmp_packet_wire(pm, 4096), 0);

    struct oa_buf b = OA_BUF_INIT(1 << 20);
    rtmp_write_set_chunk_size(&b, 128, 4096);
    oa_buf_append(&b, pv->wire, pv->wire_len);
    oa_buf_append(&b, pa->wire, pa->wire_len);
    oa_buf_append(&b, pm->wire, pm->wire_len);
    struct want w[] = {
        {RTMP_CSID_VIDEO, PKT_VIDEO, 1, 0x1234567, video, sizeof(video)},
        {RTMP_CSID_AUDIO, PKT_AUDIO, 1, 5, aac, sizeof(aac)},
        {RTMP_CSID_DATA, PKT_META, 1, 0, (const uint8_t *)"meta", 4},
    };
    struct rtmp_msg got[4];
    long n = read_all(&b, 1 << 20, got, 4, 333);
    check_msgs(got, n, w, OA_ARRAY_SIZE(w));
    assert_true(packet_is_video_key(got[0].pkt));
    assert_int_equal(got[1].pkt->flags, PKT_F_SEQHDR);
    free_msgs(got, n);

    /* A different chunk size rebuilds. */
    assert_int_equal(rtmp_packet_wire(pv, 128), 0);
    assert_int_equal(pv->wire_chunk, 128);
    oa_buf_reset(&b);
    oa_buf_append(&b, pv->wire, pv->wire_len);
    n = read_all(&b, 1 << 20, got, 4, 1000);
    check_msgs(got, n, w, 1);
    free_msgs(got, n);

    /* Raw packets already are wire bytes. */
    struct packet *raw = packet_new_raw("\x02\x00", 2);
    assert_int_equal(rtmp_packet_wire(raw, 4096), 0);
    assert_int_equal(raw->wire_len, 2);
    assert_int_equal(raw->wire_chunk, UINT32_MAX);

    packet_unref(&raw);
    packet_unref(&pv);
    packet_unref(&pa);
    packet_unref(&pm);
    oa_buf_free(&b);
}

/* Random bytes, and random mutations of a valid stream: any result but a crash or a leak. */
static void test_random_garbage(void **state)
{
    uint32_t seed = 424242;
    struct oa_buf valid = OA_BUF_INIT(1 << 20);
    rtmp_write_set_chunk_size(&valid, 128, 60);
    for (int i = 0; i < 20; i++)
        rtmp_chunk_write(&valid, 60, 3 + (uint32_t)i % 5, (uint8_t)(8 + i % 2), 1,
                         (uint32_t)i * 0x800000u, big + i, (size_t)i * 37);
    int64_t live0 = packet_bytes_live();
    uint8_t buf[4096];
    for (int iter = 0; iter < 5000; iter++) {
        size_t len;
        if (iter & 1) {
            len = OA_MIN(valid.len, sizeof(buf));
            memcpy(buf, valid.data, len);
            int muts = 1 + (int)(rnd(&seed) % 8);
            for (int k = 0; k < muts; k++)
                buf[rnd(&seed) % len] = (uint8_t)rnd(&seed);
        } else {
            len = rnd(&seed) % sizeof(buf);
            for (size_t i = 0; i < len; i++) {
                uint32_t x = rnd(&seed);
                /* Small values make plausible headers more likely. */
                buf[i] = (uint8_t)(x & 0x100 ? x >> 24 : x % 8);
            }
        }
        struct rtmp_chunk_reader r;
        rtmp_chunk_reader_init(&r, 1 << 16);
        size_t pos = 0;
        while (pos < len) {
            struct rtmp_msg m;
            size_t used;
            size_t slice = 1 + rnd(&seed) % 64; /* not inside OA_MIN, which evaluates twice */
            slice = OA_MIN(slice, len - pos);
            int rc = rtmp_chunk_read(&r, buf + pos, slice, &used, &m);
            pos += used;
            if (rc < 0)
                break;
            if (rc == 1) {
                assert_true(m.pkt->size <= 1 << 16);
                packet_unref(&m.pkt);
            }
        }
        rtmp_chunk_reader_free(&r);
    }
    assert_int_equal(packet_bytes_live(), live0);
    oa_buf_free(&valid);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_chunk_size), cmocka_unit_test(test_interleaved),
        cmocka_unit_test(test_fmt_deltas),       cmocka_unit_test(test_extended_timestamps),
        cmocka_unit_test(test_zero_length),      cmocka_unit_test(test_max_message),
        cmocka_unit_test(test_shared_pool),      cmocka_unit_test(test_csid_limit),
        cmocka_unit_test(test_protocol_errors),  cmocka_unit_test(test_abort),
        cmocka_unit_test(test_control_helpers),  cmocka_unit_test(test_packet_wire),
        cmocka_unit_test(test_random_garbage),
    };
    return cmocka_run_group_tests(tests, setup_big, NULL);
}
