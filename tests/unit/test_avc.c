/* Unit tests for H.264/AAC header parsing and Annex B <-> AVCC conversion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "core/err.h"
#include "media/avc.h"

/* SPS of a 320x240 baseline stream, PPS after it, as an encoder's Annex B extradata. */
static const uint8_t annexb[] = {0,    0,    0,    1,    0x67, 0x42, 0xc0, 0x0d, 0xd9, 0x01, 0x41,
                                 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00, 0x10, 0x00, 0x00, 0x03,
                                 0x01, 0x80, 0,    0,    1,    0x68, 0xcb, 0x83, 0xcb, 0x20};

static void test_config_roundtrip(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    struct avc_config c;
    assert_int_equal(avc_config_from_annexb(annexb, sizeof(annexb), &b), 0);
    assert_int_equal(avc_parse_config(b.data, b.len, &c), 0);
    assert_int_equal(c.profile, 66);
    assert_int_equal(c.nal_length_size, 4);
    assert_int_equal(c.width, 320);
    assert_int_equal(c.height, 240);
    assert_int_equal(c.sps_len, 20);
    assert_int_equal(c.pps_len, 5);
    oa_buf_free(&b);
}

static void test_config_truncated(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    struct avc_config c;
    assert_int_equal(avc_config_from_annexb(annexb, sizeof(annexb), &b), 0);
    for (size_t n = 0; n < b.len - 5; n++)
        assert_int_equal(avc_parse_config(b.data, n, &c), OA_EPROTO);
    oa_buf_free(&b);
}

static void test_annexb_to_avcc(void **state)
{
    const uint8_t au[] = {0,    0,    0,    1, 0x09, 0xf0, 0, 0,    1,
                          0x65, 0x88, 0x84, 0, 0,    0,    1, 0x41, 0x9a};
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    assert_true(avc_annexb_has_idr(au, sizeof(au)));
    assert_int_equal(avc_annexb_to_avcc(au, sizeof(au), true, &b), 0);
    const uint8_t want[] = {0, 0, 0, 3, 0x65, 0x88, 0x84, 0, 0, 0, 2, 0x41, 0x9a};
    assert_int_equal(b.len, sizeof(want));
    assert_memory_equal(b.data, want, sizeof(want));
    oa_buf_free(&b);
    assert_false(avc_annexb_has_idr(au + 12, sizeof(au) - 12));
}

static void test_aac_asc(void **state)
{
    struct aac_config c;
    const uint8_t lc_44k_stereo[] = {0x12, 0x10};
    const uint8_t lc_48k_mono[] = {0x11, 0x88};
    assert_int_equal(aac_parse_asc(lc_44k_stereo, 2, &c), 0);
    assert_int_equal(c.object_type, 2);
    assert_int_equal(c.sample_rate, 44100);
    assert_int_equal(c.channels, 2);
    assert_int_equal(aac_parse_asc(lc_48k_mono, 2, &c), 0);
    assert_int_equal(c.sample_rate, 48000);
    assert_int_equal(c.channels, 1);
    assert_int_equal(aac_parse_asc(lc_44k_stereo, 1, &c), OA_EPROTO);
    const uint8_t bad_rate[] = {0x17, 0x90};
    assert_int_equal(aac_parse_asc(bad_rate, 2, &c), OA_EPROTO);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_roundtrip),
        cmocka_unit_test(test_config_truncated),
        cmocka_unit_test(test_annexb_to_avcc),
        cmocka_unit_test(test_aac_asc),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
