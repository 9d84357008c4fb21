/*
 * Unit tests for the hub: one publisher per key, fan-out of the same packet
 * to every sink, the GOP cache that primes late joiners, timestamp continuity
 * across a republish, and sinks that leave from inside their callbacks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/err.h"
#include "hub/hub.h"

struct rec_sink {
    struct hub_sink sink;
    struct packet *got[256];
    int n;
    int publishes, unpublishes;
    bool leave_on_packet;
};

static void rs_publish(struct hub_sink *s)
{
    ((struct rec_sink *)s)->publishes++;
}

static void rs_packet(struct hub_sink *s, struct packet *pkt)
{
    struct rec_sink *r = (struct rec_sink *)s;
    if (r->n < 256)
        r->got[r->n++] = packet_ref(pkt);
    if (r->leave_on_packet)
        hub_unsubscribe(s);
}

static void rs_unpublish(struct hub_sink *s)
{
    ((struct rec_sink *)s)->unpublishes++;
}

static const struct hub_sink_ops rs_ops = {rs_publish, rs_packet, rs_unpublish};

static void rs_init(struct rec_sink *r)
{
    memset(r, 0, sizeof(*r));
    r->sink.ops = &rs_ops;
}

static void rs_free(struct rec_sink *r)
{
    for (int i = 0; i < r->n; i++)
        packet_unref(&r->got[i]);
    r->n = 0;
}

static int kicks;
static void kick(struct hub_publisher *p, const char *why)
{
    kicks++;
}
static const struct hub_publisher_ops pub_ops = {kick};

static struct packet *video(uint32_t ts, bool key)
{
    uint8_t b[8] = {key ? 0x17 : 0x27, 0x01, 0, 0, 0, 0, 0, (uint8_t)ts};
    return packet_new_copy(PKT_VIDEO, ts, b, sizeof(b));
}

static struct packet *audio(uint32_t ts)
{
    uint8_t b[4] = {0xAF, 0x01, 0x21, (uint8_t)ts};
    return packet_new_copy(PKT_AUDIO, ts, b, sizeof(b));
}

static struct packet *avc_header(void)
{
    /* AVCDecoderConfigurationRecord with a 320x240 baseline SPS. */
    static const uint8_t b[] = {0x17, 0x00, 0,    0,    0,    0x01, 0x42, 0xc0, 0x0d, 0xff,
                                0xe1, 0x00, 0x0f, 0x67, 0x42, 0xc0, 0x0d, 0xd9, 0x01, 0x41,
                                0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00,
                                0x03, 0x01, 0x00, 0x04, 0x68, 0xcb, 0x83, 0xcb, 0x20};
    return packet_new_copy(PKT_VIDEO, 0, b, sizeof(b));
}

static int setup(void **state)
{
    oa_config_defaults(&oa_cfg);
    hub_init();
    return 0;
}

static void test_one_publisher(void **state)
{
    struct hub_publisher a = {&pub_ops}, b = {&pub_ops};
    int err = 0;
    struct hub_stream *st = hub_publish("d", "live", "one", &a, &err);
    assert_non_null(st);
    assert_null(hub_publish("d", "live", "one", &b, &err));
    assert_int_equal(err, OA_EBUSY);
    assert_ptr_equal(st->publisher, &a);
    hub_unpublish(st);
    assert_null(hub_find("d", "live", "one"));
}

static void test_fanout_shares_packets(void **state)
{
    struct rec_sink r1, r2;
    struct hub_publisher pub = {&pub_ops};
    int err;
    rs_init(&r1);
    rs_init(&r2);
    hub_subscribe("d", "live", "fan", &r1.sink); /* waits for a publisher */
    struct hub_stream *st = hub_publish("d", "live", "fan", &pub, &err);
    assert_int_equal(r1.publishes, 1);
    hub_subscribe("d", "live", "fan", &r2.sink);
    assert_int_equal(r2.publishes, 1);
    hub_stream_push(st, video(0, true));
    hub_stream_push(st, audio(10));
    assert_int_equal(r1.n, 2);
    assert_int_equal(r2.n, 2);
    assert_ptr_equal(r1.got[0], r2.got[0]);             /* the same packet, not a copy */
    assert_int_equal(atomic_load(&r1.got[0]->refs), 3); /* two sinks + the GOP cache */
    hub_unpublish(st);
    assert_int_equal(r1.unpublishes, 1);
    assert_int_equal(r2.unpublishes, 1);
    hub_unsubscribe(&r1.sink);
    hub_unsubscribe(&r2.sink);
    assert_null(hub_find("d", "live", "fan"));
    rs_free(&r1);
    rs_free(&r2);
}

static void test_gop_cache_primes_late_joiner(void **state)
{
    struct rec_sink r;
    struct hub_publisher pub = {&pub_ops};
    int err;
    struct hub_stream *st = hub_publish("d", "live", "gop", &pub, &err);
    hub_stream_push(st, avc_header());
    hub_stream_push(st, video(0, true));
    hub_stream_push(st, video(40, false));
    hub_stream_push(st, video(80, true)); /* a new GOP starts: the old one is dropped */
    hub_stream_push(st, audio(90));
    hub_stream_push(st, video(120, false));
    assert_int_equal(st->info.width, 320);
    assert_int_equal(st->info.height, 240);
    rs_init(&r);
    hub_subscribe("d", "live", "gop", &r.sink);
    assert_int_equal(r.n, 4);
    assert_true(r.got[0]->flags & PKT_F_SEQHDR);
    assert_true(packet_is_video_key(r.got[1]));
    assert_int_equal(r.got[1]->ts, 80);
    assert_int_equal(r.got[2]->type, PKT_AUDIO);
    assert_int_equal(r.got[3]->ts, 120);
    hub_unsubscribe(&r.sink);
    hub_unpublish(st);
    rs_free(&r);
}

static void test_gop_cache_bounded(void **state)
{
    struct hub_publisher pub = {&pub_ops};
    int err;
    oa_cfg.gop_cache_max_ms = 1000;
    struct hub_stream *st = hub_publish("d", "live", "long", &pub, &err);
    hub_stream_push(st, video(0, true));
    for (uint32_t t = 40; t <= 2000; t += 40)
        hub_stream_push(st, video(t, false));
    assert_true(st->gop_overflow);
    assert_int_equal(st->gop_len, 0);
    hub_stream_push(st, video(2040, true));
    assert_int_equal(st->gop_len, 1);
    hub_unpublish(st);
    oa_cfg.gop_cache_max_ms = 15000;
}

/* Audio interleaved a little before the keyframe's timestamp must not look like a huge GOP. */
static void test_gop_cache_keeps_earlier_audio(void **state)
{
    struct rec_sink r;
    struct hub_publisher pub = {&pub_ops};
    int err;
    struct hub_stream *st = hub_publish("d", "live", "early-audio", &pub, &err);
    hub_stream_push(st, avc_header());
    hub_stream_push(st, video(1000, true));
    hub_stream_push(st, audio(990));
    hub_stream_push(st, video(1040, false));
    assert_false(st->gop_overflow);
    assert_int_equal(st->gop_len, 3);
    rs_init(&r);
    hub_subscribe("d", "live", "early-audio", &r.sink);
    assert_int_equal(r.n, 4);
    assert_true(r.got[0]->flags & PKT_F_SEQHDR);
    assert_true(packet_is_video_key(r.got[1]));
    assert_int_equal(r.got[1]->ts, 1000);
    assert_int_equal(r.got[2]->type, PKT_AUDIO);
    hub_unsubscribe(&r.sink);
    hub_unpublish(st);
    rs_free(&r);
}

static void test_republish_continues_time(void **state)
{
    struct rec_sink r;
    struct hub_publisher a = {&pub_ops}, b = {&pub_ops};
    int err;
    rs_init(&r);
    hub_subscribe("d", "live", "re", &r.sink);
    struct hub_stream *st = hub_publish("d", "live", "re", &a, &err);
    hub_stream_push(st, video(5000, true));
    hub_stream_push(st, video(5040, false));
    hub_stream_push(st, audio(5060));
    hub_stream_push(st, video(5080, false));
    /* The publisher's last video frame comes after later audio. */
    hub_stream_push(st, audio(5100));
    hub_stream_push(st, video(5090, false));
    hub_unpublish(st);
    st = hub_publish("d", "live", "re", &b, &err);
    assert_non_null(st);
    hub_stream_push(st, audio(0)); /* the new publisher starts at zero */
    hub_stream_push(st, video(0, true));
    assert_int_equal(r.n, 8);
    /* Time moves forward in each stream: after the newest packet, not the last one. */
    assert_true(r.got[6]->ts > 5100);
    assert_true(r.got[7]->ts > 5090);
    hub_unpublish(st);
    hub_unsubscribe(&r.sink);
    rs_free(&r);
}

static void test_sink_leaves_inside_callback(void **state)
{
    struct rec_sink r1, r2, r3;
    struct hub_publisher pub = {&pub_ops};
    int err;
    rs_init(&r1);
    rs_init(&r2);
    rs_init(&r3);
    r2.leave_on_packet = true;
    hub_subscribe("d", "live", "leave", &r1.sink);
    hub_subscribe("d", "live", "leave", &r2.sink);
    hub_subscribe("d", "live", "leave", &r3.sink);
    struct hub_stream *st = hub_publish("d", "live", "leave", &pub, &err);
    hub_stream_push(st, audio(0));
    hub_stream_push(st, audio(20));
    assert_int_equal(r1.n, 2);
    assert_int_equal(r2.n, 1);
    assert_int_equal(r3.n, 2);
    assert_int_equal(st->nsinks, 2);
    hub_unpublish(st);
    hub_unsubscribe(&r1.sink);
    hub_unsubscribe(&r3.sink);
    rs_free(&r1);
    rs_free(&r2);
    rs_free(&r3);
}

static void test_shutdown_kicks(void **state)
{
    struct hub_publisher a = {&pub_ops}, b = {&pub_ops};
    int err;
    kicks = 0;
    struct hub_stream *s1 = hub_publish("d", "live", "k1", &a, &err);
    struct hub_stream *s2 = hub_publish("d", "live", "k2", &b, &err);
    hub_shutdown();
    assert_int_equal(kicks, 2);
    hub_unpublish(s1);
    hub_unpublish(s2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_one_publisher),
        cmocka_unit_test(test_fanout_shares_packets),
        cmocka_unit_test(test_gop_cache_primes_late_joiner),
        cmocka_unit_test(test_gop_cache_bounded),
        cmocka_unit_test(test_gop_cache_keeps_earlier_audio),
        cmocka_unit_test(test_republish_continues_time),
        cmocka_unit_test(test_sink_leaves_inside_callback),
        cmocka_unit_test(test_shutdown_kicks),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
