/*
 * Unit tests for a player's output queue: iovecs over shared packets,
 * partial writes, the byte and duration bounds, skipping to the next
 * keyframe, never dropping control messages, and giving up on a player that
 * keeps falling behind.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/config.h"
#include "core/err.h"
#include "core/loop.h"
#include "hub/outq.h"

#include <event2/event.h>

static int overruns, flushes;
static void flush(struct outq *q)
{
    flushes++;
    outq_consume(q, q->bytes);
}
static void overrun(struct outq *q, const char *why)
{
    overruns++;
}
static const struct outq_ops ops = {flush, overrun};

static struct packet *video(uint32_t ts, bool key, uint32_t size)
{
    struct packet *p = packet_new(PKT_VIDEO, ts, size);
    memset(p->data, 0, size);
    p->data[0] = key ? 0x17 : 0x27;
    p->data[1] = 1;
    packet_classify(p);
    return p;
}

static int setup(void **state)
{
    oa_config_defaults(&oa_cfg);
    oa_cfg.player_queue_max_ms = 1000;
    oa_cfg.player_queue_max_bytes = 1 << 20;
    oa_cfg.player_max_skips = 3;
    return 0;
}

static void push(struct outq *q, struct packet *p)
{
    assert_int_equal(outq_push(q, p), 0);
    packet_unref(&p);
}

static void test_iov_and_partial_writes(void **state)
{
    struct outq q;
    struct iovec iov[8];
    outq_init(&q, &ops, OUTQ_FLV);
    push(&q, video(0, true, 100));
    push(&q, video(40, false, 50));
    int n = outq_iov(&q, iov, 8);
    assert_int_equal(n, 2);
    assert_int_equal(iov[0].iov_len, 115);
    assert_int_equal(iov[1].iov_len, 65);
    outq_consume(&q, 100);
    n = outq_iov(&q, iov, 8);
    assert_int_equal(iov[0].iov_len, 15);
    outq_consume(&q, 15 + 65);
    assert_true(outq_empty(&q));
    assert_int_equal(q.sent_bytes, 180);
    outq_free(&q);
}

static void test_duration_bound_skips_to_keyframe(void **state)
{
    struct outq q;
    outq_init(&q, &ops, OUTQ_FLV);
    struct packet *ctl = packet_new_raw("ctl", 3);
    push(&q, video(0, true, 10));
    assert_int_equal(outq_push(&q, ctl), 0);
    packet_unref(&ctl);
    for (uint32_t t = 40; t <= 1000; t += 40)
        push(&q, video(t, false, 10));
    /* 1040 ms queued: over the bound. Media is dropped, control kept, skipping starts. */
    push(&q, video(1040, false, 10));
    assert_true(q.skipping);
    assert_int_equal(q.count, 1);
    assert_int_equal(q.ring[q.head]->type, PKT_RAW);
    push(&q, video(1080, false, 10)); /* still skipping */
    assert_int_equal(q.count, 1);
    push(&q, video(1120, true, 10)); /* the next keyframe resumes */
    assert_false(q.skipping);
    assert_int_equal(q.count, 2);
    assert_true(q.dropped >= 27);
    outq_free(&q);
}

static void test_started_packet_is_never_dropped(void **state)
{
    struct outq q;
    outq_init(&q, &ops, OUTQ_FLV);
    push(&q, video(0, true, 1000));
    outq_consume(&q, 10); /* half-written: the byte stream needs the rest */
    for (uint32_t t = 40; t <= 1100; t += 40)
        push(&q, video(t, false, 10));
    assert_true(q.skipping);
    assert_int_equal(q.count, 1);
    assert_int_equal(q.offset, 10);
    outq_free(&q);
}

static void test_byte_bound(void **state)
{
    struct outq q;
    outq_init(&q, &ops, OUTQ_FLV);
    push(&q, video(0, true, 600 * 1024));
    push(&q, video(40, false, 600 * 1024));
    assert_true(q.skipping);
    assert_int_equal(q.count, 0);
    outq_free(&q);
}

/* Replies are never dropped, but a client that never reads them cannot pile them up. */
static void test_control_budget(void **state)
{
    struct outq q;
    static uint8_t reply[64 * 1024];
    outq_init(&q, &ops, OUTQ_RTMP);
    overruns = 0;
    for (int i = 0; i < 16; i++) /* exactly player_queue_max_bytes (1 MiB) */
        push(&q, packet_new_raw(reply, sizeof(reply)));
    assert_int_equal(q.ctrl_bytes, 1 << 20);
    assert_int_equal(overruns, 0);
    struct packet *more = packet_new_raw(reply, 1);
    assert_int_equal(outq_push(&q, more), OA_ETOOBIG);
    assert_int_equal(overruns, 1);
    /* What is written gives its budget back; a half-written reply still counts. */
    outq_consume(&q, sizeof(reply) + 10);
    assert_int_equal(q.ctrl_bytes, 15 * sizeof(reply));
    assert_int_equal(outq_push(&q, more), 0);
    packet_unref(&more);
    /* Media does not use the budget. */
    push(&q, video(0, true, 1000));
    assert_int_equal(q.ctrl_bytes, 15 * sizeof(reply) + 1);
    outq_free(&q);
    assert_int_equal(q.ctrl_bytes, 0);
}

static void test_keeps_falling_behind(void **state)
{
    struct outq q;
    overruns = 0;
    outq_init(&q, &ops, OUTQ_FLV);
    uint32_t t = 0;
    int r = 0;
    for (int round = 0; round < 10 && r == 0; round++) {
        struct packet *k = video(t, true, 10);
        r = outq_push(&q, k);
        packet_unref(&k);
        for (int i = 0; i < 30 && r == 0; i++) {
            t += 40;
            struct packet *p = video(t, false, 10);
            r = outq_push(&q, p);
            packet_unref(&p);
        }
    }
    assert_int_equal(r, OA_ETOOBIG);
    assert_int_equal(overruns, 1);
    outq_free(&q);
}

static void test_audio_only_resumes_at_once(void **state)
{
    struct outq q;
    outq_init(&q, &ops, OUTQ_FLV);
    for (uint32_t t = 0; t <= 1100; t += 23) {
        struct packet *p = packet_new(PKT_AUDIO, t, 8);
        memset(p->data, 0, 8);
        p->data[0] = 0xAF;
        p->data[1] = 1;
        packet_classify(p);
        push(&q, p);
    }
    assert_false(q.skipping);
    assert_true(q.count > 0 && q.count < 10);
    outq_free(&q);
}

static void stop_loop(evutil_socket_t fd, short what, void *arg)
{
    oa_loop_stop();
}

/* Runs the real loop (turn-end hooks included) for ms milliseconds. */
static void run_for(int ms)
{
    struct timeval tv = {0, ms * 1000};
    event_base_once(oa_loop_base(), -1, EV_TIMEOUT, stop_loop, NULL, &tv);
    oa_loop_run();
}

static void test_audio_waits_for_video(void **state)
{
    struct outq q;
    oa_loop_init();
    outq_global_init();
    oa_cfg.audio_flush_ms = 200;
    outq_init(&q, &ops, OUTQ_FLV);
    flushes = 0;

    struct packet *a = packet_new(PKT_AUDIO, 0, 8);
    memset(a->data, 0, 8);
    a->data[0] = 0xAF;
    a->data[1] = 1;
    packet_classify(a);
    assert_int_equal(outq_push(&q, a), 0);
    outq_schedule_for(&q, a);
    run_for(20);
    assert_int_equal(flushes, 0); /* the audio frame waits */

    struct packet *v = video(40, false, 100);
    assert_int_equal(outq_push(&q, v), 0);
    outq_schedule_for(&q, v);
    run_for(5);
    assert_int_equal(flushes, 1); /* the video frame takes it along at once */
    assert_true(outq_empty(&q));

    assert_int_equal(outq_push(&q, a), 0);
    outq_schedule_for(&q, a);
    run_for(300);
    assert_int_equal(flushes, 2); /* alone, audio goes out after audio_flush_ms */

    packet_unref(&a);
    packet_unref(&v);
    outq_free(&q);
    outq_global_free();
    oa_loop_free();
}

/*
 * Each queue's audio waits its own audio_flush_ms: the timer that one
 * queue's audio armed must not flush audio another queue gained just
 * before it fires (that audio would go out alone, a write per frame).
 */
static void test_audio_deadline_is_per_queue(void **state)
{
    struct outq q1, q2;
    oa_loop_init();
    outq_global_init();
    oa_cfg.audio_flush_ms = 200;
    outq_init(&q1, &ops, OUTQ_FLV);
    outq_init(&q2, &ops, OUTQ_FLV);

    struct packet *a = packet_new(PKT_AUDIO, 0, 8);
    memset(a->data, 0, 8);
    a->data[0] = 0xAF;
    a->data[1] = 1;
    packet_classify(a);
    assert_int_equal(outq_push(&q1, a), 0);
    outq_schedule_for(&q1, a);
    run_for(150);
    assert_int_equal(outq_push(&q2, a), 0);
    outq_schedule_for(&q2, a);
    run_for(100); /* q1's deadline (200 ms) has passed, q2's (350 ms) has not */
    assert_true(outq_empty(&q1));
    assert_false(outq_empty(&q2));
    run_for(150);
    assert_true(outq_empty(&q2));

    packet_unref(&a);
    outq_free(&q1);
    outq_free(&q2);
    outq_global_free();
    oa_loop_free();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iov_and_partial_writes),
        cmocka_unit_test(test_duration_bound_skips_to_keyframe),
        cmocka_unit_test(test_started_packet_is_never_dropped),
        cmocka_unit_test(test_byte_bound),
        cmocka_unit_test(test_control_budget),
        cmocka_unit_test(test_keeps_falling_behind),
        cmocka_unit_test(test_audio_only_resumes_at_once),
        cmocka_unit_test(test_audio_waits_for_video),
        cmocka_unit_test(test_audio_deadline_is_per_queue),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
