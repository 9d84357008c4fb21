/* Unit tests: FLV tag layout of struct packet, classification, refcounting. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/packet.h"

static void test_flv_layout(void **state)
{
    const uint8_t payload[] = {0x17, 0x01, 0, 0, 0, 0xAA, 0xBB};
    struct packet *p = packet_new_copy(PKT_VIDEO, 0x12345678, payload, sizeof(payload));
    assert_int_equal(p->flv_len, 11 + sizeof(payload) + 4);
    assert_int_equal(p->flv[0], 9);
    assert_int_equal(oa_rb24(p->flv + 1), sizeof(payload));
    /* 24-bit timestamp then the extension byte holding bits 24-31. */
    assert_int_equal(oa_rb24(p->flv + 4), 0x345678);
    assert_int_equal(p->flv[7], 0x12);
    assert_int_equal(oa_rb24(p->flv + 8), 0);
    assert_memory_equal(p->flv + 11, payload, sizeof(payload));
    assert_ptr_equal(p->data, p->flv + 11);
    assert_int_equal(oa_rb32(p->flv + 11 + sizeof(payload)), 11 + sizeof(payload));
    packet_set_ts(p, 42);
    assert_int_equal(oa_rb24(p->flv + 4), 42);
    assert_int_equal(p->flv[7], 0);
    packet_unref(&p);
    assert_null(p);
}

static void test_classify(void **state)
{
    const uint8_t key_hdr[] = {0x17, 0x00, 0, 0, 0, 1};
    const uint8_t key[] = {0x17, 0x01, 0, 0, 0};
    const uint8_t inter[] = {0x27, 0x01, 0, 0, 0};
    const uint8_t aac_hdr[] = {0xAF, 0x00, 0x12, 0x10};
    const uint8_t aac[] = {0xAF, 0x01, 0x21};
    struct packet *p = packet_new_copy(PKT_VIDEO, 0, key_hdr, sizeof(key_hdr));
    assert_true(p->flags & PKT_F_SEQHDR);
    assert_false(packet_is_video_key(p));
    packet_unref(&p);
    p = packet_new_copy(PKT_VIDEO, 0, key, sizeof(key));
    assert_true(packet_is_video_key(p));
    assert_int_equal(packet_codec(p), FLV_VIDEO_CODEC_AVC);
    packet_unref(&p);
    p = packet_new_copy(PKT_VIDEO, 0, inter, sizeof(inter));
    assert_false(packet_is_video_key(p));
    packet_unref(&p);
    p = packet_new_copy(PKT_AUDIO, 0, aac_hdr, sizeof(aac_hdr));
    assert_true(p->flags & PKT_F_SEQHDR);
    assert_int_equal(packet_codec(p), FLV_AUDIO_CODEC_AAC);
    packet_unref(&p);
    p = packet_new_copy(PKT_AUDIO, 0, aac, sizeof(aac));
    assert_int_equal(p->flags, 0);
    packet_unref(&p);
    p = packet_new_copy(PKT_VIDEO, 0, NULL, 0);
    assert_int_equal(p->flags, 0);
    assert_int_equal(packet_codec(p), -1);
    packet_unref(&p);
}

static void test_refcount(void **state)
{
    int64_t before = packet_bytes_live();
    struct packet *p = packet_new(PKT_AUDIO, 1, 1000);
    struct packet *q = packet_ref(p);
    assert_true(packet_bytes_live() >= before + 1000);
    packet_unref(&p);
    assert_int_equal(q->size, 1000); /* still alive */
    packet_unref(&q);
    assert_int_equal(packet_bytes_live(), before);
    packet_unref(&q); /* NULL is fine */
}

static void test_raw(void **state)
{
    struct packet *p = packet_new_raw("abc", 3);
    assert_int_equal(p->type, PKT_RAW);
    assert_int_equal(p->wire_len, 3);
    assert_memory_equal(p->wire, "abc", 3);
    packet_unref(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flv_layout),
        cmocka_unit_test(test_classify),
        cmocka_unit_test(test_refcount),
        cmocka_unit_test(test_raw),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
