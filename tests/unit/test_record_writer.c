/*
 * test_record_writer.c - the writer threads end to end on the local storage,
 * with synthetic FLV packets that carry their own sequence numbers:
 * cycle cuts on keyframes with every frame in exactly one file and each file
 * starting with a keyframe at timestamp 0; a start between keyframes; a
 * restart (cut at the next keyframe); an interruption (pause) that
 * continues in the same file from the next keyframe; final object names and
 * the events the loop receives.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/loop.h"
#include "core/packet.h"
#include "core/util.h"
#include "record/repair.h"
#include "record/storage.h"
#include "record/writer.h"
#include "store/account.h"
#include "store/bucket.h"

#include <stdlib.h>

static char dir[256];

#define MAX_FILES 16
static struct {
    struct rec_file done[MAX_FILES];
    int ndone, nopen, nerrors;
    bool refuse; /* the "loop" cannot write rows */
} E;

/* Plays the loop: rows are "written" (every open is answered), finished files get their names. */
static void on_event(struct rec_wevent *ev)
{
    if (ev->kind == RW_FILE_FINISH && E.ndone < MAX_FILES) {
        struct rec_file *f = &E.done[E.ndone++];
        *f = ev->file;
        assert_string_equal(f->state, "finishing");
        assert_int_equal(storage()->rename(f->bucket, f->object, f->final_object), 0);
        oa_strlcpy(f->object, f->final_object, sizeof(f->object));
    } else if (ev->kind == RW_FILE_OPEN) {
        /* The object is created only once its row exists. */
        uint64_t size;
        assert_int_equal(storage()->size(ev->file.bucket, ev->file.object, &size), OA_ENOTFOUND);
        E.nopen++;
        rec_writer_ack(ev, !E.refuse);
    } else if (ev->kind == RW_SLICE_OPEN) {
        rec_writer_ack(ev, true);
    } else if (ev->kind == RW_ERROR) {
        E.nerrors++;
    }
    rec_wevent_free(ev);
}

static int setup(void **state)
{
    oa_config_defaults(&oa_cfg);
    oa_strlcpy(dir, "/tmp/onair-test-recw-XXXXXX", sizeof(dir));
    if (!mkdtemp(dir) || oa_loop_init() || storage_init_local(dir))
        return -1;
    return 0;
}

static int teardown(void **state)
{
    char cmd[512];
    oa_loop_free();
    oa_snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Frames carry [codec header][4-byte sequence number]. */
static struct packet *frame(uint8_t type, uint32_t ts, bool key, uint32_t seq)
{
    uint8_t p[16] = {0};
    size_t n;
    if (type == PKT_VIDEO) {
        p[0] = key ? 0x17 : 0x27;
        p[1] = 1;
        oa_wb32(p + 5, seq);
        n = 9;
    } else {
        p[0] = 0xaf;
        p[1] = 1;
        oa_wb32(p + 2, seq);
        n = 6;
    }
    struct packet *pkt = packet_new_copy(type, ts, p, (uint32_t)n);
    packet_classify(pkt);
    return pkt;
}

static void feed(struct rec_writer *w, struct packet *pkt)
{
    rec_writer_packet(w, pkt, 1700000000000LL + pkt->ts, pkt->ts);
    packet_unref(&pkt);
}

static void feed_headers(struct rec_writer *w)
{
    struct packet *v = packet_new_copy(PKT_VIDEO, 0, "\x17\x00\x00\x00\x00\x01\x42", 7);
    struct packet *a = packet_new_copy(PKT_AUDIO, 0, "\xaf\x00\x12\x10", 4);
    packet_classify(v);
    packet_classify(a);
    feed(w, v);
    feed(w, a);
}

static struct rec_seq seqs;

static struct rec_writer *open_writer(const char *stream, int cycle_s)
{
    struct rec_writer_params p = {0};
    p.task_id = 1;
    p.account_id = 1;
    oa_strlcpy(p.domain, "d.example.com", sizeof(p.domain));
    oa_strlcpy(p.app, "live", sizeof(p.app));
    oa_strlcpy(p.stream, stream, sizeof(p.stream));
    oa_strlcpy(p.bucket, "rec", sizeof(p.bucket));
    p.nformats = 1;
    p.formats[0] = (struct rec_format){REC_FLV, REC_DEFAULT_OBJECT_PREFIX, "", cycle_s, 0};
    p.seq = &seqs;
    oa_strlcpy(p.push_args, "{}", sizeof(p.push_args));
    return rec_writer_open(&p, stream);
}

static void run_and_collect(void)
{
    bool refuse = E.refuse;
    memset(&E, 0, sizeof(E));
    E.refuse = refuse;
    rec_writers_stop();
    oa_loop_drain_posts();
}

struct tag {
    uint8_t type;
    uint32_t ts;
    uint32_t seq;
    bool key;
};

/* Media tags of a finished FLV object, in file order. */
static size_t read_tags(const char *object, struct tag *out, size_t max)
{
    uint8_t *b;
    size_t len, n = 0;
    assert_int_equal(storage()->get("rec", object, 64u << 20, &b, &len), 0);
    assert_memory_equal(b, "FLV\x01", 4);
    for (size_t off = 13; off + 15 <= len;) {
        uint8_t type = b[off];
        uint32_t size = oa_rb24(b + off + 1);
        uint32_t ts = oa_rb24(b + off + 4) | ((uint32_t)b[off + 7] << 24);
        const uint8_t *p = b + off + 11;
        bool media = (type == PKT_VIDEO && size == 9) || (type == PKT_AUDIO && size == 6);
        if (media && n < max) {
            out[n].type = type;
            out[n].ts = ts;
            out[n].key = type == PKT_VIDEO && (p[0] >> 4) == 1;
            out[n].seq = oa_rb32(type == PKT_VIDEO ? p + 5 : p + 2);
            n++;
        }
        assert_int_equal(oa_rb32(p + size), 11 + size);
        off += 11 + size + 4;
    }
    oa_free(b);
    return n;
}

/* 25 fps video with a keyframe every 25 frames, audio every 23 ms, for ms. */
static uint32_t feed_av(struct rec_writer *w, uint32_t from_ms, uint32_t to_ms, uint32_t *seq)
{
    uint32_t n = 0;
    uint32_t next_audio = from_ms + 10;
    for (uint32_t t = from_ms; t < to_ms; t += 40) {
        while (next_audio <= t) {
            feed(w, frame(PKT_AUDIO, next_audio, false, (*seq)++));
            next_audio += 23;
            n++;
        }
        feed(w, frame(PKT_VIDEO, t, (t / 40) % 25 == 0, (*seq)++));
        n++;
    }
    return n;
}

static void test_cycle_cuts(void **state)
{
    assert_int_equal(rec_writers_start(1, on_event), 0);
    struct rec_writer *w = open_writer("cycle", 3);
    feed_headers(w);
    uint32_t seq = 0;
    uint32_t fed = feed_av(w, 0, 10000, &seq);
    rec_writer_close(w);
    run_and_collect();
    assert_int_equal(E.nerrors, 0);
    assert_int_equal(E.ndone, 4); /* cuts at the keyframes at 3, 6 and 9 s */
    uint32_t expect = 0;
    for (int i = 0; i < E.ndone; i++) {
        const struct rec_file *f = &E.done[i];
        assert_null(strstr(f->object, "recording"));
        struct tag t[2000];
        size_t n = read_tags(f->object, t, 2000);
        assert_true(n > 0);
        assert_true(t[0].key);
        assert_int_equal(t[0].ts, 0);
        uint32_t base = (uint32_t)(i * 3000);
        for (size_t k = 0; k < n; k++) {
            /* Every frame once, in order, rebased to the file's first keyframe. */
            assert_int_equal(t[k].seq, expect);
            expect++;
        }
        double want = i < 3 ? 3.0 : 1.0;
        assert_true(f->duration > want - 0.05 && f->duration < want + 0.05);
        assert_int_equal(f->start_ms, 1700000000000LL + base);
    }
    assert_int_equal(expect, fed);
}

static void test_start_between_keyframes_and_restart(void **state)
{
    assert_int_equal(rec_writers_start(1, on_event), 0);
    struct rec_writer *w = open_writer("restart", 3600);
    feed_headers(w);
    uint32_t seq = 0;
    /* No keyframe yet: video waits for one, audio is held and opens the file with it. */
    feed(w, frame(PKT_VIDEO, 40, false, seq++));
    uint32_t held = seq;
    feed(w, frame(PKT_AUDIO, 50, false, seq++));
    uint32_t first_kept = seq;
    feed_av(w, 1000, 3000, &seq);
    rec_writer_cut(w);
    feed(w, frame(PKT_VIDEO, 3000, false, seq++)); /* before the next keyframe: old file */
    uint32_t cut_at = seq;
    feed_av(w, 4000, 5000, &seq);
    rec_writer_close(w);
    run_and_collect();
    assert_int_equal(E.ndone, 2);
    struct tag t[500];
    size_t n = read_tags(E.done[0].object, t, 500);
    assert_int_equal(t[0].seq, held);
    assert_int_equal(t[0].type, PKT_AUDIO);
    assert_int_equal(t[0].ts, 0);
    assert_int_equal(t[1].seq, first_kept);
    assert_true(t[1].key);
    assert_int_equal(t[1].ts, 950);
    assert_int_equal(t[n - 1].seq, cut_at - 1);
    n = read_tags(E.done[1].object, t, 500);
    assert_int_equal(t[0].seq, cut_at);
    assert_true(t[0].key);
    assert_int_equal(t[0].ts, 0);
    assert_int_equal(t[n - 1].seq, seq - 1);
}

static void test_pause_continues_same_file(void **state)
{
    assert_int_equal(rec_writers_start(1, on_event), 0);
    struct rec_writer *w = open_writer("pause", 3600);
    feed_headers(w);
    uint32_t seq = 0;
    feed_av(w, 0, 2000, &seq);
    uint32_t before = seq;
    rec_writer_pause(w);
    /* The publisher returns (timestamps continue, as the hub rebases them) mid-GOP. */
    feed(w, frame(PKT_VIDEO, 2040, false, seq++));
    uint32_t resumed = seq;
    feed(w, frame(PKT_VIDEO, 2080, true, seq++));
    feed(w, frame(PKT_AUDIO, 2090, false, seq++));
    rec_writer_close(w);
    run_and_collect();
    assert_int_equal(E.ndone, 1);
    struct tag t[500];
    size_t n = read_tags(E.done[0].object, t, 500);
    assert_int_equal(n, before + 2);
    assert_int_equal(t[before].seq, resumed);
    assert_true(t[before].key);
    assert_int_equal(t[before].ts, 2080);
}

static void test_name_taken(void **state)
{
    assert_int_equal(rec_writers_start(1, on_event), 0);
    /* Two files of one template in the same second get distinct names. */
    struct rec_writer_params p = {0};
    p.task_id = 1;
    oa_strlcpy(p.app, "live", sizeof(p.app));
    oa_strlcpy(p.stream, "same", sizeof(p.stream));
    oa_strlcpy(p.bucket, "rec", sizeof(p.bucket));
    p.nformats = 1;
    p.formats[0] = (struct rec_format){REC_FLV, "fixed/{StartTime}{EndTime}", "", 3600, 0};
    p.seq = &seqs;
    for (int i = 0; i < 2; i++) {
        struct rec_writer *w = rec_writer_open(&p, "same");
        feed_headers(w);
        uint32_t seq = 0;
        feed_av(w, 0, 500, &seq);
        rec_writer_close(w);
    }
    run_and_collect();
    assert_int_equal(E.ndone, 2);
    assert_string_not_equal(E.done[0].object, E.done[1].object);
    assert_non_null(strstr(E.done[1].object, "_1.flv"));
}

/* Audio stamped before the keyframe that cut the file, arriving after it, opens the new file. */
static void test_late_audio_after_a_cut(void **state)
{
    assert_int_equal(rec_writers_start(1, on_event), 0);
    struct rec_writer *w = open_writer("late", 3);
    feed_headers(w);
    uint32_t seq = 0;
    feed_av(w, 0, 3000, &seq); /* the last audio is at 2954 */
    uint32_t key = seq;
    feed(w, frame(PKT_VIDEO, 3000, true, seq++));
    uint32_t late = seq;
    feed(w, frame(PKT_AUDIO, 2990, false, seq++));
    feed(w, frame(PKT_AUDIO, 3013, false, seq++));
    feed(w, frame(PKT_VIDEO, 3040, false, seq++));
    rec_writer_close(w);
    run_and_collect();
    assert_int_equal(E.ndone, 2);
    struct tag t[500];
    size_t n = read_tags(E.done[0].object, t, 500);
    assert_int_equal(t[n - 1].seq, key - 1);
    n = read_tags(E.done[1].object, t, 500);
    assert_int_equal(n, 4);
    /* The earliest frame is the file's 0 and every other keeps its distance to it. */
    assert_int_equal(t[0].seq, late);
    assert_int_equal(t[0].ts, 0);
    assert_int_equal(t[1].seq, key);
    assert_true(t[1].key);
    assert_int_equal(t[1].ts, 10);
    assert_int_equal(t[2].ts, 23);
    assert_int_equal(t[3].ts, 50);
    assert_int_equal(E.done[1].start_ms, 1700000000000LL + 2990);
}

static bool count_one(const char *object, uint64_t size, void *arg)
{
    (*(int *)arg)++;
    return true;
}

/* Without an index row nothing is created: a refused row leaves no object behind. */
static void test_refused_row_creates_nothing(void **state)
{
    E.refuse = true;
    assert_int_equal(rec_writers_start(1, on_event), 0);
    struct rec_writer *w = open_writer("refused", 3600);
    feed_headers(w);
    uint32_t seq = 0;
    feed_av(w, 0, 2000, &seq);
    rec_writer_close(w);
    run_and_collect();
    E.refuse = false;
    assert_true(E.nopen >= 1);
    assert_int_equal(E.ndone, 0);
    assert_true(E.nerrors >= 1);
    int n = 0;
    assert_int_equal(storage()->list("rec", "record/live/refused/", count_one, &n), 0);
    assert_int_equal(n, 0);
}

static bool list_one(const char *object, uint64_t size, void *arg)
{
    int *n = arg;
    assert_true(strncmp(object, "st/", 3) == 0);
    (*n)++;
    return true;
}

static void test_storage_ops(void **state)
{
    const struct storage_ops *s = storage();
    struct storage_writer *w;
    assert_int_equal(s->open("rec", "st/a/one.flv", &w), 0);
    assert_int_equal(s->write(w, "0123456789", 10), 0);
    assert_int_equal(s->finish(w), 0);
    assert_int_equal(s->put("rec", "st/two.m3u8", "#EXTM3U\n", 8), 0);
    char buf[16];
    size_t got;
    assert_int_equal(s->read("rec", "st/a/one.flv", 3, buf, sizeof(buf), &got), 0);
    assert_int_equal(got, 7);
    assert_memory_equal(buf, "3456789", 7);
    /* Rename never replaces; missing sources are OA_ENOTFOUND. */
    assert_int_equal(s->rename("rec", "st/a/one.flv", "st/two.m3u8"), OA_EEXIST);
    assert_int_equal(s->rename("rec", "st/a/one.flv", "st/b/three.flv"), 0);
    assert_int_equal(s->rename("rec", "st/a/one.flv", "st/b/four.flv"), OA_ENOTFOUND);
    assert_int_equal(s->rename("rec", "../x", "st/y"), OA_EINVAL);
    /* Truncation for repair. */
    assert_int_equal(s->reopen("rec", "st/b/three.flv", 4, &w), 0);
    assert_int_equal(s->finish(w), 0);
    uint64_t size;
    assert_int_equal(s->size("rec", "st/b/three.flv", &size), 0);
    assert_int_equal(size, 4);
    int n = 0;
    assert_int_equal(s->list("rec", "st/", list_one, &n), 0);
    assert_int_equal(n, 2);
    n = 0;
    assert_int_equal(s->list("rec", "st/b", list_one, &n), 0);
    assert_int_equal(n, 1);
    assert_int_equal(s->remove("rec", "st/b/three.flv"), 0);
    assert_int_equal(s->remove("rec", "st/b/three.flv"), OA_ENOTFOUND);
    /* The URL carries the bucket's token, which needs the master key. */
    char url[256], token[BUCKET_TOKEN_LEN + 1], want[256];
    assert_int_equal(account_open_keyfile(dir), 0);
    assert_int_equal(bucket_url_token("rec", token), 0);
    assert_int_equal(storage_url("h:8080", "rec", "a b/c:d.flv", url, sizeof(url)), 0);
    oa_snprintf(want, sizeof(want), "http://h:8080/oss/~%s/rec/a%%20b/c%%3Ad.flv", token);
    assert_string_equal(url, want);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cycle_cuts),
        cmocka_unit_test(test_start_between_keyframes_and_restart),
        cmocka_unit_test(test_pause_continues_same_file),
        cmocka_unit_test(test_name_taken),
        cmocka_unit_test(test_late_audio_after_a_cut),
        cmocka_unit_test(test_refused_row_creates_nothing),
        cmocka_unit_test(test_storage_ops),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
