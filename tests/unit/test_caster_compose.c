/*
 * Regression test for the studio's compositing (studio/compose.h), found by
 * the caster pixel tests: a moving-picture layer whose width is not a
 * multiple of 16 must not paint past its right edge. swscale writes whole
 * SIMD blocks per row, so scaling straight into the canvas left a stripe
 * of garbage up to 15 pixels wide to the right of such layers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "studio/compose.h"

#include <libavutil/frame.h>

static AVFrame *frame(int w, int h, int y, int u, int v)
{
    AVFrame *f = av_frame_alloc();
    assert_non_null(f);
    f->width = w;
    f->height = h;
    f->format = AV_PIX_FMT_YUV420P;
    assert_int_equal(av_frame_get_buffer(f, 0), 0);
    for (int r = 0; r < h; r++)
        memset(f->data[0] + (size_t)r * f->linesize[0], y, (size_t)w);
    for (int r = 0; r < h / 2; r++) {
        memset(f->data[1] + (size_t)r * f->linesize[1], u, (size_t)w / 2);
        memset(f->data[2] + (size_t)r * f->linesize[2], v, (size_t)w / 2);
    }
    return f;
}

static void test_no_paint_past_the_layer(void **state)
{
    /* Widths that are not multiples of 16 (and one that is), moving and still. */
    static const int widths[] = {76, 84, 98, 100, 108, 116, 122, 130, 138, 64};
    for (size_t k = 0; k < sizeof(widths) / sizeof(widths[0]); k++) {
        for (int still = 0; still <= 1; still++) {
            AVFrame *cv = frame(320, 96, 81, 90, 240);    /* red-ish canvas */
            AVFrame *src = frame(240, 240, 41, 240, 110); /* blue-ish source */
            struct studio_composer *c = studio_composer_new(320, 96);
            assert_non_null(c);
            struct studio_video_layer l = {"RV01",          0, 0, 0, 0, STUDIO_REFER_TOP_LEFT,
                                           STUDIO_FILL_NONE};
            l.width_norm = widths[k] / 320.0;
            l.height_norm = 64 / 96.0;
            l.pos_x = 20 / 320.0;
            l.pos_y = 16 / 96.0;
            struct studio_place pl;
            assert_int_equal(studio_layout_place(320, 96, &l, 240, 240, &pl), 0);
            assert_int_equal(pl.dst.w, widths[k]);
            assert_int_equal(studio_compose_layer(c, 0, cv, &pl, src, still, 1), 0);
            for (int y = 0; y < 96; y++) {
                for (int x = 0; x < 320; x++) {
                    bool in = x >= pl.dst.x && x < pl.dst.x + pl.dst.w && y >= pl.dst.y &&
                              y < pl.dst.y + pl.dst.h;
                    int want = in ? 41 : 81, got = cv->data[0][y * cv->linesize[0] + x];
                    if (abs(got - want) > 2)
                        print_error("width %d still %d: luma at (%d,%d) is %d, not %d\n", widths[k],
                                    still, x, y, got, want);
                    assert_true(abs(got - want) <= 2);
                }
            }
            for (int y = 0; y < 48; y++) {
                for (int x = 0; x < 160; x++) {
                    bool in = x >= pl.dst.x / 2 && x < (pl.dst.x + pl.dst.w) / 2 &&
                              y >= pl.dst.y / 2 && y < (pl.dst.y + pl.dst.h) / 2;
                    int got = cv->data[1][y * cv->linesize[1] + x];
                    assert_true(abs(got - (in ? 240 : 90)) <= 2);
                }
            }
            studio_composer_free(c);
            av_frame_free(&cv);
            av_frame_free(&src);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_paint_past_the_layer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
