/*
 * Unit tests for the studio's layer geometry: sizing (height only, width
 * only, both, neither), all nine PositionRefer anchors with the "offset
 * inward from an edge, right/down from a centre" reading, FillMode fit with
 * its letterbox bars, clipping to the canvas with the matching source
 * rectangle, even rounding, and the API name parsers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <math.h>

#include "core/err.h"
#include "studio/layout.h"

static struct studio_video_layer layer(double wn, double hn, double x, double y,
                                       enum studio_refer refer, enum studio_fill fill)
{
    struct studio_video_layer l = {"RV01", hn, wn, x, y, refer, fill};
    return l;
}

static void assert_rect(struct studio_rect r, int x, int y, int w, int h)
{
    if (r.x != x || r.y != y || r.w != w || r.h != h)
        print_error("rect {%d,%d,%d,%d} != expected {%d,%d,%d,%d}\n", r.x, r.y, r.w, r.h, x, y, w,
                    h);
    assert_int_equal(r.x, x);
    assert_int_equal(r.y, y);
    assert_int_equal(r.w, w);
    assert_int_equal(r.h, h);
}

static struct studio_place place(int cw, int ch, struct studio_video_layer l, int sw, int sh)
{
    struct studio_place p;
    assert_int_equal(studio_layout_place(cw, ch, &l, sw, sh, &p), 0);
    return p;
}

static void test_sizes(void **state)
{
    /* Height only: width follows the source's aspect ratio. */
    struct studio_place p =
        place(1280, 720, layer(0, 0.5, 0, 0, STUDIO_REFER_TOP_LEFT, 0), 1920, 1080);
    assert_rect(p.pic, 0, 0, 640, 360);
    assert_rect(p.box, 0, 0, 640, 360);
    assert_rect(p.src, 0, 0, 1920, 1080);
    assert_int_equal(p.nbars, 0);
    /* Width only: the mirror case. */
    p = place(1280, 720, layer(0.25, 0, 0, 0, STUDIO_REFER_TOP_LEFT, 0), 640, 480);
    assert_rect(p.pic, 0, 0, 320, 240);
    /* Both, FillMode none: exactly the box, distorting. */
    p = place(1280, 720, layer(0.5, 0.5, 0, 0, STUDIO_REFER_TOP_LEFT, 0), 640, 480);
    assert_rect(p.pic, 0, 0, 640, 360);
    /* Neither: the source's own size (rounded to even). */
    p = place(1280, 720, layer(0, 0, 0, 0, STUDIO_REFER_TOP_LEFT, 0), 320, 240);
    assert_rect(p.pic, 0, 0, 320, 240);
    p = place(1280, 720, layer(0, 0, 0, 0, STUDIO_REFER_TOP_LEFT, 0), 321, 241);
    assert_rect(p.pic, 0, 0, 322, 242);
    /* The spec's picture-in-picture example. */
    p = place(1280, 720, layer(0, 1, 0, 0, STUDIO_REFER_TOP_LEFT, 0), 1280, 720);
    assert_rect(p.dst, 0, 0, 1280, 720);
    p = place(1280, 720, layer(0, 0.3, 0.2, 0.2, STUDIO_REFER_TOP_LEFT, 0), 1280, 720);
    assert_rect(p.pic, 256, 144, 384, 216);
    /* A tiny non-zero size is at least 2 pixels. */
    p = place(1280, 720, layer(0.0001, 0.0001, 0, 0, STUDIO_REFER_TOP_LEFT, 0), 100, 100);
    assert_rect(p.pic, 0, 0, 2, 2);
}

static void test_anchors(void **state)
{
    /* A 200x100 layer at [0.1, 0.2] on 1280x720: offsets are 128 and 144 pixels. */
    const double wn = 200.0 / 1280, hn = 100.0 / 720;
    static const struct {
        enum studio_refer refer;
        int x, y;
    } cases[] = {
        {STUDIO_REFER_TOP_LEFT, 128, 144},
        {STUDIO_REFER_TOP_RIGHT, 1280 - 128 - 200, 144},
        {STUDIO_REFER_BOTTOM_LEFT, 128, 720 - 144 - 100},
        {STUDIO_REFER_BOTTOM_RIGHT, 1280 - 128 - 200, 720 - 144 - 100},
        {STUDIO_REFER_CENTER, 540 + 128, 310 + 144},
        {STUDIO_REFER_TOP_CENTER, 540 + 128, 144},
        {STUDIO_REFER_BOTTOM_CENTER, 540 + 128, 720 - 144 - 100},
        {STUDIO_REFER_LEFT_CENTER, 128, 310 + 144},
        {STUDIO_REFER_RIGHT_CENTER, 1280 - 128 - 200, 310 + 144},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct studio_place p =
            place(1280, 720, layer(wn, hn, 0.1, 0.2, cases[i].refer, 0), 640, 480);
        assert_rect(p.pic, cases[i].x, cases[i].y, 200, 100);
        assert_rect(p.dst, cases[i].x, cases[i].y, 200, 100);
    }
    /* On a centred axis negative offsets go left and up. */
    struct studio_place p =
        place(1280, 720, layer(wn, hn, -0.1, -0.2, STUDIO_REFER_CENTER, 0), 640, 480);
    assert_rect(p.pic, 540 - 128, 310 - 144, 200, 100);
    /* Zero offsets: each anchor puts the layer flush against its corner or edge. */
    p = place(1280, 720, layer(wn, hn, 0, 0, STUDIO_REFER_BOTTOM_RIGHT, 0), 640, 480);
    assert_rect(p.pic, 1080, 620, 200, 100);
    p = place(1280, 720, layer(wn, hn, 0, 0, STUDIO_REFER_CENTER, 0), 640, 480);
    assert_rect(p.pic, 540, 310, 200, 100);
    p = place(1280, 720, layer(wn, hn, 0, 0, STUDIO_REFER_RIGHT_CENTER, 0), 640, 480);
    assert_rect(p.pic, 1080, 310, 200, 100);
    p = place(1280, 720, layer(wn, hn, 0, 0, STUDIO_REFER_BOTTOM_CENTER, 0), 640, 480);
    assert_rect(p.pic, 540, 620, 200, 100);
}

static void test_rounding(void **state)
{
    /* 30% of 360 = 108, 4:3 width 144; 5% of 640 = 32, 5% of 360 = 18. */
    struct studio_place p =
        place(640, 360, layer(0, 0.3, 0.05, 0.05, STUDIO_REFER_BOTTOM_RIGHT, 0), 320, 240);
    assert_rect(p.pic, 640 - 32 - 144, 360 - 18 - 108, 144, 108);
    /* (640 - 142) / 2 = 249 rounds (halves away from zero) to 250. */
    p = place(640, 360, layer(142.0 / 640, 0.5, 0, 0, STUDIO_REFER_CENTER, 0), 320, 240);
    assert_rect(p.pic, 250, 90, 142, 180);
    /* Odd pixel offsets round to even: 0.0015 * 1280 = 1.92 -> 2, 0.003 * 720 = 2.16 -> 2. */
    p = place(1280, 720, layer(0.25, 0.25, 0.0015, 0.003, STUDIO_REFER_TOP_LEFT, 0), 320, 240);
    assert_rect(p.pic, 2, 2, 320, 180);
    /* ... the same gap from the right edge. */
    p = place(1280, 720, layer(0.25, 0.25, 0.0015, 0.003, STUDIO_REFER_TOP_RIGHT, 0), 320, 240);
    assert_rect(p.pic, 1280 - 2 - 320, 2, 320, 180);
    assert_int_equal(studio_round_even(3.0), 4);
    assert_int_equal(studio_round_even(2.9), 2);
    assert_int_equal(studio_round_even(-3.0), -4);
    assert_int_equal(studio_round_even(0.9), 0);
    for (int i = 0; i < 9; i++) {
        p = place(1280, 720, layer(0.333, 0.277, 0.123, 0.321, (enum studio_refer)i, 0), 333, 111);
        assert_int_equal(p.pic.x % 2, 0);
        assert_int_equal(p.pic.y % 2, 0);
        assert_int_equal(p.pic.w % 2, 0);
        assert_int_equal(p.pic.h % 2, 0);
    }
}

static void test_fit(void **state)
{
    /* A 640x360 box (top-left) holding a 4:3 source: 480x360 centred, bars left and right. */
    struct studio_place p =
        place(1280, 720, layer(0.5, 0.5, 0, 0, STUDIO_REFER_TOP_LEFT, STUDIO_FILL_FIT), 640, 480);
    assert_rect(p.box, 0, 0, 640, 360);
    assert_rect(p.pic, 80, 0, 480, 360);
    assert_rect(p.dst, 80, 0, 480, 360);
    assert_rect(p.src, 0, 0, 640, 480);
    assert_int_equal(p.nbars, 2);
    assert_rect(p.bars[0], 0, 0, 80, 360);
    assert_rect(p.bars[1], 560, 0, 80, 360);
    /* The box is what the anchor places: topRight [0,0]. */
    p = place(1280, 720, layer(0.5, 0.5, 0, 0, STUDIO_REFER_TOP_RIGHT, STUDIO_FILL_FIT), 640, 480);
    assert_rect(p.box, 640, 0, 640, 360);
    assert_rect(p.pic, 720, 0, 480, 360);
    /* A tall box with a 16:9 source: bars above and below. */
    p = place(1280, 720, layer(0.5, 1, 0, 0, STUDIO_REFER_TOP_LEFT, STUDIO_FILL_FIT), 1920, 1080);
    assert_rect(p.box, 0, 0, 640, 720);
    assert_rect(p.pic, 0, 180, 640, 360);
    assert_int_equal(p.nbars, 2);
    assert_rect(p.bars[0], 0, 0, 640, 180);
    assert_rect(p.bars[1], 0, 540, 640, 180);
    /* Same aspect ratio: no bars. Upscaling works too. */
    p = place(1280, 720, layer(1, 1, 0, 0, STUDIO_REFER_CENTER, STUDIO_FILL_FIT), 320, 180);
    assert_rect(p.pic, 0, 0, 1280, 720);
    assert_int_equal(p.nbars, 0);
    /* Centred fit box. */
    p = place(1280, 720, layer(0.5, 0.5, 0, 0, STUDIO_REFER_CENTER, STUDIO_FILL_FIT), 640, 480);
    assert_rect(p.box, 320, 180, 640, 360);
    assert_rect(p.pic, 400, 180, 480, 360);
    /* Fit with a missing dimension behaves as FillMode none (height only). */
    p = place(1280, 720, layer(0, 0.5, 0, 0, STUDIO_REFER_TOP_LEFT, STUDIO_FILL_FIT), 640, 480);
    assert_rect(p.pic, 0, 0, 480, 360);
    assert_int_equal(p.nbars, 0);
    /* Bars are clipped to the canvas like the picture. */
    p = place(1280, 720, layer(0.5, 0.5, -0.0625, 0, STUDIO_REFER_TOP_LEFT, STUDIO_FILL_FIT), 640,
              480);
    assert_rect(p.box, -80, 0, 640, 360);
    assert_rect(p.pic, 0, 0, 480, 360);
    assert_int_equal(p.nbars, 1);
    assert_rect(p.bars[0], 480, 0, 80, 360);
}

static void test_clipping(void **state)
{
    /* Sticking out on the right: the left half of the source is visible. */
    struct studio_place p =
        place(1280, 720, layer(0, 0.5, 0.75, 0, STUDIO_REFER_TOP_LEFT, 0), 1280, 720);
    assert_rect(p.pic, 960, 0, 640, 360);
    assert_rect(p.dst, 960, 0, 320, 360);
    assert_rect(p.src, 0, 0, 640, 720);
    /* Sticking out on the left: the right half. */
    p = place(1280, 720, layer(0, 0.5, -0.25, 0, STUDIO_REFER_TOP_LEFT, 0), 1280, 720);
    assert_rect(p.pic, -320, 0, 640, 360);
    assert_rect(p.dst, 0, 0, 320, 360);
    assert_rect(p.src, 640, 0, 640, 720);
    /* Bottom-right anchor with a negative offset pushes it out at the bottom-right. */
    p = place(1280, 720, layer(0, 0.5, -0.125, -0.25, STUDIO_REFER_BOTTOM_RIGHT, 0), 1280, 720);
    assert_rect(p.pic, 800, 540, 640, 360);
    assert_rect(p.dst, 800, 540, 480, 180);
    assert_rect(p.src, 0, 0, 960, 360);
    /* Larger than the canvas (unscaled 1920x1080 on 1280x720), centred. */
    p = place(1280, 720, layer(0, 0, 0, 0, STUDIO_REFER_CENTER, 0), 1920, 1080);
    assert_rect(p.pic, -320, -180, 1920, 1080);
    assert_rect(p.dst, 0, 0, 1280, 720);
    assert_rect(p.src, 320, 180, 1280, 720);
    /* Entirely off the canvas: nothing to draw, not an error. */
    p = place(1280, 720, layer(0, 0.5, 1.0, 0, STUDIO_REFER_TOP_LEFT, 0), 1280, 720);
    assert_int_equal(p.dst.w, 0);
    assert_int_equal(p.dst.h, 0);
    p = place(1280, 720, layer(0, 0.5, 1.0, 0, STUDIO_REFER_TOP_RIGHT, 0), 1280, 720);
    assert_int_equal(p.dst.w, 0);
    /* A clipped source rectangle starts on an even pixel (chroma alignment). */
    p = place(1280, 720, layer(0, 1, -0.1, 0, STUDIO_REFER_TOP_LEFT, 0), 333, 222);
    assert_int_equal(p.src.x % 2, 0);
    assert_true(p.src.x + p.src.w <= 333);
}

static void test_errors(void **state)
{
    struct studio_place p;
    struct studio_video_layer l = layer(0.5, 0.5, 0, 0, STUDIO_REFER_TOP_LEFT, 0);
    assert_int_equal(studio_layout_place(1280, 720, &l, 0, 720, &p), OA_EINVAL);
    assert_int_equal(studio_layout_place(0, 720, &l, 10, 10, &p), OA_EINVAL);
    l.height_norm = -1;
    assert_int_equal(studio_layout_place(1280, 720, &l, 10, 10, &p), OA_EINVAL);
    l.height_norm = 1e9;
    assert_int_equal(studio_layout_place(1280, 720, &l, 10, 10, &p), OA_EINVAL);
    l.height_norm = 0.5;
    l.pos_x = NAN;
    assert_int_equal(studio_layout_place(1280, 720, &l, 10, 10, &p), OA_EINVAL);
}

static void test_names(void **state)
{
    enum studio_refer r;
    enum studio_fill f;
    enum studio_channel c;
    const char *names[] = {"topLeft",   "topRight",     "bottomLeft", "bottomRight", "center",
                           "topCenter", "bottomCenter", "leftCenter", "rightCenter"};
    for (int i = 0; i < 9; i++) {
        assert_int_equal(studio_refer_parse(names[i], &r), 0);
        assert_int_equal(r, i);
        assert_string_equal(studio_refer_name(r), names[i]);
    }
    assert_int_equal(studio_refer_parse("TOPRIGHT", &r), 0);
    assert_int_equal(r, STUDIO_REFER_TOP_RIGHT);
    assert_int_equal(studio_refer_parse("", &r), 0);
    assert_int_equal(r, STUDIO_REFER_TOP_LEFT);
    assert_int_equal(studio_refer_parse("middle", &r), OA_EINVAL);
    assert_int_equal(studio_fill_parse("fit", &f), 0);
    assert_int_equal(f, STUDIO_FILL_FIT);
    assert_int_equal(studio_fill_parse("none", &f), 0);
    assert_int_equal(f, STUDIO_FILL_NONE);
    assert_int_equal(studio_fill_parse("stretch", &f), OA_EINVAL);
    assert_int_equal(studio_channel_parse("leftChannel", &c), 0);
    assert_int_equal(c, STUDIO_CHANNEL_LEFT);
    assert_int_equal(studio_channel_parse("rightChannel", &c), 0);
    assert_int_equal(c, STUDIO_CHANNEL_RIGHT);
    assert_int_equal(studio_channel_parse("all", &c), 0);
    assert_int_equal(c, STUDIO_CHANNEL_ALL);
    assert_int_equal(studio_location_index("RV01"), 1);
    assert_int_equal(studio_location_index("rv12"), 12);
    assert_int_equal(studio_location_index("RV99"), 99);
    assert_int_equal(studio_location_index("RV00"), OA_EINVAL);
    assert_int_equal(studio_location_index("RV100"), OA_EINVAL);
    assert_int_equal(studio_location_index("RC01"), OA_EINVAL);
    assert_int_equal(studio_location_index("RV1"), OA_EINVAL);
    assert_int_equal(studio_location_index(NULL), OA_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sizes),    cmocka_unit_test(test_anchors),
        cmocka_unit_test(test_rounding), cmocka_unit_test(test_fit),
        cmocka_unit_test(test_clipping), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
