/*
 * test_record_tmpl.c - the pure parts of recording: object-name templates
 * (every variable, escaped times, sequence, extension, invalid names),
 * the template checks of AddLiveAppRecordConfig, cycle/slice cut decisions,
 * m3u8 playlists with relative URIs, the onMetaData patch, the OnDemandUrl
 * reply parser and the callback signature.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/buf.h"
#include "core/packet.h"
#include "core/err.h"
#include "record/m3u8.h"
#include "record/notify.h"
#include "record/tmpl.h"
#include "record/writer.h"

/* 2017-03-08T15:09:46Z and 54 s later. */
#define T0 1488985786000LL
#define T1 1488985840000LL

static void test_expand_every_variable(void **state)
{
    struct rec_tmpl_vars v = {"liveApp", "liveStream", 7, T0, T1, 1488985786};
    char out[512];
    assert_int_equal(rec_tmpl_expand("{AppName}/{StreamName}/{Sequence}_{StartTime}_{EndTime}", &v,
                                     out, sizeof(out)),
                     0);
    assert_string_equal(out, "liveApp/liveStream/7_2017-03-08-15:09:46_2017-03-08-15:10:40");
    assert_int_equal(rec_tmpl_expand("{EscapedStartTime}_{EscapedEndTime}/{UnixTimestamp}", &v, out,
                                     sizeof(out)),
                     0);
    assert_string_equal(out, "2017-03-08-15-09-46_2017-03-08-15-10-40/1488985786");
    assert_int_equal(rec_tmpl_expand("{Date}/{Hour}/{Minute}_{Second}", &v, out, sizeof(out)), 0);
    assert_string_equal(out, "2017-03-08/15/09_46");
}

static void test_expand_unknown_and_literal(void **state)
{
    struct rec_tmpl_vars v = {"a", "s", 0, T0, -1, 0};
    char out[128];
    assert_int_equal(rec_tmpl_expand("x/{Nope}/{AppName/{StreamName}}{", &v, out, sizeof(out)), 0);
    assert_string_equal(out, "x/{Nope}/{AppName/s}{");
    /* An end time not known yet (a file being written). */
    assert_int_equal(rec_tmpl_expand("{EscapedStartTime}_{EscapedEndTime}", &v, out, sizeof(out)),
                     0);
    assert_string_equal(out, "2017-03-08-15-09-46_recording");
    assert_int_equal(rec_tmpl_expand("{StreamName}{StreamName}", &v, out, 2), OA_ETOOBIG);
}

static void test_object_name(void **state)
{
    struct rec_tmpl_vars v = {"live", "cam", 0, T0, T1, 0};
    char out[REC_OBJECT_MAX];
    assert_int_equal(rec_object_name(REC_DEFAULT_OBJECT_PREFIX, &v, "flv", out, sizeof(out)), 0);
    assert_string_equal(out, "record/live/cam/0_2017-03-08-15-09-46_2017-03-08-15-10-40.flv");
    /* An extension already there is not doubled. */
    assert_int_equal(rec_object_name("r/{StreamName}.m3u8", &v, "m3u8", out, sizeof(out)), 0);
    assert_string_equal(out, "r/cam.m3u8");
    assert_int_equal(rec_object_name("r/{StreamName}.mp4", &v, "m3u8", out, sizeof(out)), 0);
    assert_string_equal(out, "r/cam.mp4.m3u8");
    /* Names that are no valid objects. */
    assert_int_equal(rec_object_name("/abs/{StreamName}", &v, "flv", out, sizeof(out)), OA_EINVAL);
    assert_int_equal(rec_object_name("a/../{StreamName}", &v, "flv", out, sizeof(out)), OA_EINVAL);
    assert_int_equal(rec_object_name("a//{StreamName}", &v, "flv", out, sizeof(out)), OA_EINVAL);
    struct rec_tmpl_vars dots = {"live", "..", 0, T0, T1, 0};
    assert_int_equal(rec_object_name("a/{StreamName}/x", &dots, "flv", out, sizeof(out)),
                     OA_EINVAL);
}

static void test_sequence_of_slices(void **state)
{
    char a[256], b[256];
    struct rec_tmpl_vars v1 = {"live", "s", 41, T0, -1, T0 / 1000};
    struct rec_tmpl_vars v2 = {"live", "s", 42, T0, -1, T0 / 1000};
    assert_int_equal(rec_object_name(REC_DEFAULT_SLICE_PREFIX, &v1, "ts", a, sizeof(a)), 0);
    assert_int_equal(rec_object_name(REC_DEFAULT_SLICE_PREFIX, &v2, "ts", b, sizeof(b)), 0);
    assert_string_equal(a, "record/live/s/1488985786_41.ts");
    assert_string_equal(b, "record/live/s/1488985786_42.ts");
}

static void test_template_checks(void **state)
{
    assert_true(rec_tmpl_object_ok(REC_DEFAULT_OBJECT_PREFIX));
    assert_true(rec_tmpl_object_ok("x/{StartTime}-{EndTime}"));
    assert_false(rec_tmpl_object_ok("x/{StartTime}"));
    assert_false(rec_tmpl_object_ok("x/{EscapedStartTime}-{EndTime}"));
    assert_false(rec_tmpl_object_ok("/x/{StartTime}-{EndTime}"));
    char long_tmpl[400];
    memset(long_tmpl, 'a', sizeof(long_tmpl));
    memcpy(long_tmpl, "{StartTime}{EndTime}", 20);
    long_tmpl[sizeof(long_tmpl) - 1] = '\0';
    assert_false(rec_tmpl_object_ok(long_tmpl));
    assert_true(rec_tmpl_slice_ok(REC_DEFAULT_SLICE_PREFIX));
    assert_false(rec_tmpl_slice_ok("x/{UnixTimestamp}"));
    assert_false(rec_tmpl_slice_ok("x/{Sequence}"));
}

/* ---- cut decisions --------------------------------------------------------- */

static enum rec_cut decide(bool video, bool key, bool audio, int64_t file_ms, int64_t slice_ms,
                           int64_t cycle, int64_t slice, bool requested)
{
    struct rec_cut_in in = {video, key, audio, file_ms, slice_ms, cycle, slice, 40, requested};
    return rec_cut_decide(&in);
}

static void test_cut_decisions(void **state)
{
    /* Video streams cut only on keyframes, once the cycle has passed. */
    assert_int_equal(decide(true, true, false, 9000, 0, 10000, 0, false), REC_CUT_NONE);
    assert_int_equal(decide(true, false, false, 15000, 0, 10000, 0, false), REC_CUT_NONE);
    assert_int_equal(decide(true, false, true, 15000, 0, 10000, 0, false), REC_CUT_NONE);
    assert_int_equal(decide(true, true, false, 10000, 0, 10000, 0, false), REC_CUT_FILE);
    assert_int_equal(decide(true, true, false, 12000, 0, 10000, 0, false), REC_CUT_FILE);
    /* Half a frame of slack: a keyframe 1 ms early still cuts. */
    assert_int_equal(decide(true, true, false, 9999, 0, 10000, 0, false), REC_CUT_FILE);
    assert_int_equal(decide(true, true, false, 9970, 0, 10000, 0, false), REC_CUT_NONE);
    /* A restart cuts at the very next keyframe, and only there. */
    assert_int_equal(decide(true, false, false, 10, 0, 10000, 0, true), REC_CUT_NONE);
    assert_int_equal(decide(true, true, false, 10, 0, 10000, 0, true), REC_CUT_FILE);
    /* Slices inside a file; a due file cut wins over a slice cut. */
    assert_int_equal(decide(true, true, false, 6000, 6000, 10000, 5000, false), REC_CUT_SLICE);
    assert_int_equal(decide(true, true, false, 6000, 4000, 10000, 5000, false), REC_CUT_NONE);
    assert_int_equal(decide(true, true, false, 10000, 5000, 10000, 5000, false), REC_CUT_FILE);
    /* Audio-only streams cut at any audio frame. */
    assert_int_equal(decide(false, false, true, 10000, 0, 10000, 0, false), REC_CUT_FILE);
    assert_int_equal(decide(false, false, true, 5000, 0, 10000, 0, false), REC_CUT_NONE);
}

/* ---- playlists --------------------------------------------------------------- */

static void test_m3u8(void **state)
{
    struct rec_m3u8_entry e[] = {
        {"record/live/s/ts/1_0.ts", 5.005, false},
        {"record/live/s/ts/1_1.ts", 4.2, true},
        {"other/a b:c.ts", 1, false},
    };
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    assert_int_equal(rec_m3u8_build("record/live/s/x.m3u8", e, 3, true, &b), 0);
    assert_string_equal(oa_buf_cstr(&b), "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:5\n"
                                         "#EXT-X-MEDIA-SEQUENCE:0\n#EXT-X-PLAYLIST-TYPE:VOD\n"
                                         "#EXTINF:5.005,\nts/1_0.ts\n#EXT-X-DISCONTINUITY\n"
                                         "#EXTINF:4.200,\nts/1_1.ts\n#EXTINF:1.000,\n"
                                         "../../../other/a%20b%3Ac.ts\n#EXT-X-ENDLIST\n");
    oa_buf_reset(&b);
    assert_int_equal(rec_m3u8_build("p.m3u8", e, 1, false, &b), 0);
    assert_non_null(strstr(oa_buf_cstr(&b), "#EXT-X-PLAYLIST-TYPE:EVENT\n"));
    assert_null(strstr(oa_buf_cstr(&b), "ENDLIST"));
    assert_non_null(strstr(oa_buf_cstr(&b), "\nrecord/live/s/ts/1_0.ts\n"));
    oa_buf_free(&b);
}

/* ---- FLV bits ---------------------------------------------------------------- */

static void test_flv_headers(void **state)
{
    uint8_t h[13];
    rec_flv_file_header(h, true, true);
    assert_memory_equal(h, "FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00", 13);
    rec_flv_file_header(h, true, false);
    assert_int_equal(h[4], 4);

    struct packet *p = packet_new_copy(PKT_VIDEO, 0x12345678, "\x17\x01\x00\x00\x00", 5);
    uint8_t th[11];
    rec_flv_tag_header(p, 0x01020304, th);
    assert_int_equal(th[0], 9);
    assert_int_equal(oa_rb24(th + 1), 5);
    assert_int_equal(oa_rb24(th + 4), 0x020304);
    assert_int_equal(th[7], 0x01);
    /* The shared packet is not touched. */
    assert_int_equal(oa_rb24(p->flv + 4), 0x345678);
    packet_unref(&p);
}

static void test_meta_patch(void **state)
{
    /* "onMetaData" ECMA array with duration=12 and filesize=99 and width=320. */
    uint8_t m[] = {0x02, 0x00, 0x0a, 'o',  'n',  'M',  'e',  't',  'a', 'D', 'a', 't',  'a',
                   0x08, 0,    0,    0,    3,    0x00, 0x08, 'd',  'u', 'r', 'a', 't',  'i',
                   'o',  'n',  0x00, 0x40, 0x28, 0,    0,    0,    0,   0,   0,   0x00, 0x05,
                   'w',  'i',  'd',  't',  'h',  0x00, 0x40, 0x74, 0,   0,   0,   0,    0,
                   0,    0x00, 0x08, 'f',  'i',  'l',  'e',  's',  'i', 'z', 'e', 0x00, 0x40,
                   0x58, 0xc0, 0,    0,    0,    0,    0,    0,    0,   9};
    rec_flv_meta_patch(m, sizeof(m));
    static const uint8_t zero[8] = {0};
    assert_memory_equal(m + 29, zero, 8);
    assert_int_equal(m[45], 0x40); /* width kept */
    assert_int_equal(m[46], 0x74);
    assert_memory_equal(m + 64, zero, 8);
}

/* ---- callbacks ----------------------------------------------------------------- */

static void test_signature(void **state)
{
    char sig[33];
    rec_notify_signature("learn.aliyundoc.com", 1519375990, "yourkey", sig);
    assert_string_equal(sig, "9e226fc2c250be266e3657e156f68c12");
}

static void test_ondemand_reply(void **state)
{
    struct rec_ondemand_reply r;
    const char *doc = "{\"ApiVersion\":\"1.0\",\"NeedRecord\":true,\"Interval\":{\"Mp4\":300,"
                      "\"Flv\":120,\"M3U8\":2},\"Format\":[\"mp4\",\"flv\",\"cmaf\"]}";
    rec_ondemand_parse((const uint8_t *)doc, strlen(doc), &r);
    assert_true(r.ok);
    assert_true(r.need_record);
    assert_int_equal(r.interval_s[REC_MP4], 300);
    assert_int_equal(r.interval_s[REC_FLV], 120);
    assert_int_equal(r.interval_s[REC_M3U8], 5); /* clamped to 5..21600 */
    assert_true(r.formats_given);
    assert_true(r.format[REC_MP4] && r.format[REC_FLV] && !r.format[REC_M3U8]);

    rec_ondemand_parse((const uint8_t *)"{\"NeedRecord\":false}", 20, &r);
    assert_true(r.ok);
    assert_false(r.need_record);
    assert_false(r.formats_given);
    rec_ondemand_parse((const uint8_t *)"{\"Format\":[\"flv\"]}", 18, &r);
    assert_false(r.ok); /* NeedRecord is required */
    rec_ondemand_parse((const uint8_t *)"<html>", 6, &r);
    assert_false(r.ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expand_every_variable),
        cmocka_unit_test(test_expand_unknown_and_literal),
        cmocka_unit_test(test_object_name),
        cmocka_unit_test(test_sequence_of_slices),
        cmocka_unit_test(test_template_checks),
        cmocka_unit_test(test_cut_decisions),
        cmocka_unit_test(test_m3u8),
        cmocka_unit_test(test_flv_headers),
        cmocka_unit_test(test_meta_patch),
        cmocka_unit_test(test_signature),
        cmocka_unit_test(test_ondemand_reply),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
