/*
 * compose.c - black fills, swscale into per-layer frames copied into the
 * canvas, still-picture caching and alpha blending.
 *
 * Every layer is scaled into its slot's own frame and copied into the
 * canvas: swscale's SIMD writers round each row up to whole blocks, so
 * scaling straight into the canvas painted up to 15 pixels to the right of
 * any layer whose width is not a multiple of 16.
 *
 * Pointers into a cropped source are computed per plane from the pixel
 * format's descriptor (chroma shifts and pixel steps), so swscale reads only
 * the visible part of a clipped layer. Full-range sources (yuvj*, or any YUV
 * frame flagged full range) are declared as such to swscale, which converts
 * them to the canvas's limited range instead of printing warnings.
 */
#include "compose.h"
#include "core/alloc.h"
#include "core/err.h"

#include <libavutil/frame.h>
#include <libavutil/imgutils.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#define BLACK_Y 16
#define BLACK_C 128

struct slot {
    struct SwsContext *sws;
    int sw, sh, sfmt, srange, dw, dh, dfmt;
    /* stills: the visible part, scaled, and what it was made from */
    AVFrame *scaled;
    bool scaled_ok, opaque;
    uint64_t gen;
    struct studio_rect src;
    int frame_w, frame_h, frame_fmt;
};

struct studio_composer {
    int w, h;
    struct slot slots[STUDIO_MAX_LAYERS];
};

struct studio_composer *studio_composer_new(int w, int h)
{
    struct studio_composer *c = oa_calloc(1, sizeof(*c));
    c->w = w;
    c->h = h;
    return c;
}

void studio_composer_free(struct studio_composer *c)
{
    if (!c)
        return;
    for (int i = 0; i < STUDIO_MAX_LAYERS; i++) {
        sws_freeContext(c->slots[i].sws);
        av_frame_free(&c->slots[i].scaled);
    }
    oa_free(c);
}

void studio_compose_clear(AVFrame *cv)
{
    memset(cv->data[0], BLACK_Y, (size_t)cv->linesize[0] * (size_t)cv->height);
    memset(cv->data[1], BLACK_C, (size_t)cv->linesize[1] * (size_t)(cv->height / 2));
    memset(cv->data[2], BLACK_C, (size_t)cv->linesize[2] * (size_t)(cv->height / 2));
}

void studio_compose_fill_black(AVFrame *cv, struct studio_rect r)
{
    if (r.w <= 0 || r.h <= 0)
        return;
    for (int y = r.y; y < r.y + r.h; y++)
        memset(cv->data[0] + (size_t)y * cv->linesize[0] + r.x, BLACK_Y, (size_t)r.w);
    for (int y = r.y / 2; y < (r.y + r.h + 1) / 2; y++) {
        memset(cv->data[1] + (size_t)y * cv->linesize[1] + r.x / 2, BLACK_C, (size_t)(r.w + 1) / 2);
        memset(cv->data[2] + (size_t)y * cv->linesize[2] + r.x / 2, BLACK_C, (size_t)(r.w + 1) / 2);
    }
}

/* The format swscale should be told, and whether the samples are full range. */
static enum AVPixelFormat norm_fmt(const AVFrame *f, int *full)
{
    enum AVPixelFormat fmt = f->format;
    *full = f->color_range == AVCOL_RANGE_JPEG;
    switch (fmt) {
    case AV_PIX_FMT_YUVJ420P:
        *full = 1;
        return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P:
        *full = 1;
        return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P:
        *full = 1;
        return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P:
        *full = 1;
        return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P:
        *full = 1;
        return AV_PIX_FMT_YUV411P;
    default:
        return fmt;
    }
}

/* Plane pointers of f at the top-left corner of r (r.x, r.y even). */
static int crop_ptrs(const AVFrame *f, enum AVPixelFormat fmt, struct studio_rect r,
                     const uint8_t *out[4])
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    if (!d || (d->flags & (AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_HWACCEL)))
        return OA_ECODEC;
    int steps[4];
    av_image_fill_max_pixsteps(steps, NULL, d);
    for (int i = 0; i < 4; i++) {
        out[i] = f->data[i];
        if (!out[i] || ((d->flags & AV_PIX_FMT_FLAG_PAL) && i == 1))
            continue;
        int sx = (i == 1 || i == 2) ? d->log2_chroma_w : 0;
        int sy = (i == 1 || i == 2) ? d->log2_chroma_h : 0;
        out[i] += (ptrdiff_t)(r.y >> sy) * f->linesize[i] + (ptrdiff_t)(r.x >> sx) * steps[i];
    }
    return 0;
}

static struct SwsContext *get_sws(struct slot *s, int sw, int sh, int sfmt, int srange, int dw,
                                  int dh, int dfmt)
{
    if (s->sws && s->sw == sw && s->sh == sh && s->sfmt == sfmt && s->srange == srange &&
        s->dw == dw && s->dh == dh && s->dfmt == dfmt)
        return s->sws;
    sws_freeContext(s->sws);
    s->sws = sws_getContext(sw, sh, sfmt, dw, dh, dfmt, SWS_BILINEAR, NULL, NULL, NULL);
    if (!s->sws)
        return NULL;
    int *inv, *tab, in_full, out_full, bri, con, sat;
    if (sws_getColorspaceDetails(s->sws, &inv, &in_full, &tab, &out_full, &bri, &con, &sat) >= 0)
        sws_setColorspaceDetails(s->sws, inv, srange, tab, 0, bri, con, sat);
    s->sw = sw;
    s->sh = sh;
    s->sfmt = sfmt;
    s->srange = srange;
    s->dw = dw;
    s->dh = dh;
    s->dfmt = dfmt;
    return s->sws;
}

static void canvas_ptrs(AVFrame *cv, struct studio_rect r, uint8_t *out[4])
{
    out[0] = cv->data[0] + (ptrdiff_t)r.y * cv->linesize[0] + r.x;
    out[1] = cv->data[1] + (ptrdiff_t)(r.y / 2) * cv->linesize[1] + r.x / 2;
    out[2] = cv->data[2] + (ptrdiff_t)(r.y / 2) * cv->linesize[2] + r.x / 2;
    out[3] = NULL;
}

/* Scales the src rect of f to a dw x dh picture at dst[] (format dfmt). */
static int scale_into(struct slot *s, AVFrame *f, struct studio_rect src, int dw, int dh,
                      enum AVPixelFormat dfmt, uint8_t *dst[4], const int dst_ls[4])
{
    int full;
    enum AVPixelFormat fmt = norm_fmt(f, &full);
    const uint8_t *sp[4];
    if (crop_ptrs(f, fmt, src, sp) < 0)
        return OA_ECODEC;
    if (src.w == dw && src.h == dh && fmt == dfmt && fmt == AV_PIX_FMT_YUV420P && !full) {
        /* Same size, same format: a copy is all it takes. */
        av_image_copy_plane(dst[0], dst_ls[0], sp[0], f->linesize[0], dw, dh);
        av_image_copy_plane(dst[1], dst_ls[1], sp[1], f->linesize[1], (dw + 1) / 2, (dh + 1) / 2);
        av_image_copy_plane(dst[2], dst_ls[2], sp[2], f->linesize[2], (dw + 1) / 2, (dh + 1) / 2);
        return 0;
    }
    struct SwsContext *sws = get_sws(s, src.w, src.h, fmt, full, dw, dh, dfmt);
    if (!sws)
        return OA_ECODEC;
    return sws_scale(sws, sp, f->linesize, 0, src.h, dst, dst_ls) > 0 ? 0 : OA_ECODEC;
}

static bool has_alpha(enum AVPixelFormat fmt)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(fmt);
    return d && (d->flags & (AV_PIX_FMT_FLAG_ALPHA | AV_PIX_FMT_FLAG_PAL));
}

/* Makes s->scaled a w x h frame of format fmt (its content is not kept valid). */
static int slot_frame(struct slot *s, int w, int h, enum AVPixelFormat fmt)
{
    s->scaled_ok = false;
    if (s->scaled && s->scaled->width == w && s->scaled->height == h && s->scaled->format == fmt)
        return 0;
    av_frame_free(&s->scaled);
    s->scaled = av_frame_alloc();
    if (!s->scaled)
        return OA_ECODEC;
    s->scaled->width = w;
    s->scaled->height = h;
    s->scaled->format = fmt;
    if (av_frame_get_buffer(s->scaled, 0) < 0) {
        av_frame_free(&s->scaled);
        return OA_ECODEC;
    }
    return 0;
}

/* Makes s->scaled hold the visible part of a still picture. */
static int prepare_still(struct slot *s, AVFrame *f, const struct studio_place *pl, uint64_t gen)
{
    const struct studio_rect d = pl->dst, r = pl->src;
    if (s->scaled_ok && s->gen == gen && s->frame_w == f->width && s->frame_h == f->height &&
        s->frame_fmt == f->format && s->scaled->width == d.w && s->scaled->height == d.h &&
        memcmp(&s->src, &r, sizeof(r)) == 0)
        return 0;
    enum AVPixelFormat dfmt = has_alpha(f->format) ? AV_PIX_FMT_YUVA420P : AV_PIX_FMT_YUV420P;
    if (slot_frame(s, d.w, d.h, dfmt) < 0)
        return OA_ECODEC;
    int r2 = scale_into(s, f, r, d.w, d.h, dfmt, s->scaled->data, s->scaled->linesize);
    if (r2 < 0)
        return r2;
    s->opaque = true;
    if (dfmt == AV_PIX_FMT_YUVA420P) {
        for (int y = 0; y < d.h && s->opaque; y++) {
            const uint8_t *a = s->scaled->data[3] + (ptrdiff_t)y * s->scaled->linesize[3];
            for (int x = 0; x < d.w; x++) {
                if (a[x] != 255) {
                    s->opaque = false;
                    break;
                }
            }
        }
    }
    s->scaled_ok = true;
    s->gen = gen;
    s->src = r;
    s->frame_w = f->width;
    s->frame_h = f->height;
    s->frame_fmt = f->format;
    return 0;
}

static inline uint8_t mix8(uint8_t over, uint8_t under, unsigned a)
{
    return (uint8_t)((over * a + under * (255 - a) + 127) / 255);
}

static void blit_still(struct slot *s, AVFrame *cv, struct studio_rect d)
{
    AVFrame *sc = s->scaled;
    uint8_t *dp[4];
    canvas_ptrs(cv, d, dp);
    int cw = (d.w + 1) / 2, chh = (d.h + 1) / 2;
    if (s->opaque) {
        av_image_copy_plane(dp[0], cv->linesize[0], sc->data[0], sc->linesize[0], d.w, d.h);
        av_image_copy_plane(dp[1], cv->linesize[1], sc->data[1], sc->linesize[1], cw, chh);
        av_image_copy_plane(dp[2], cv->linesize[2], sc->data[2], sc->linesize[2], cw, chh);
        return;
    }
    for (int y = 0; y < d.h; y++) {
        const uint8_t *sy = sc->data[0] + (ptrdiff_t)y * sc->linesize[0];
        const uint8_t *sa = sc->data[3] + (ptrdiff_t)y * sc->linesize[3];
        uint8_t *py = dp[0] + (ptrdiff_t)y * cv->linesize[0];
        for (int x = 0; x < d.w; x++)
            py[x] = mix8(sy[x], py[x], sa[x]);
    }
    for (int y = 0; y < chh; y++) {
        const uint8_t *su = sc->data[1] + (ptrdiff_t)y * sc->linesize[1];
        const uint8_t *sv = sc->data[2] + (ptrdiff_t)y * sc->linesize[2];
        const uint8_t *sa = sc->data[3] + (ptrdiff_t)(2 * y) * sc->linesize[3];
        uint8_t *pu = dp[1] + (ptrdiff_t)y * cv->linesize[1];
        uint8_t *pv = dp[2] + (ptrdiff_t)y * cv->linesize[2];
        for (int x = 0; x < cw; x++) {
            unsigned a = sa[2 * x];
            pu[x] = mix8(su[x], pu[x], a);
            pv[x] = mix8(sv[x], pv[x], a);
        }
    }
}

int studio_compose_layer(struct studio_composer *c, int slot, AVFrame *cv,
                         const struct studio_place *pl, AVFrame *src, bool still, uint64_t gen)
{
    if (slot < 0 || slot >= STUDIO_MAX_LAYERS)
        return OA_EINVAL;
    struct slot *s = &c->slots[slot];
    for (int i = 0; i < pl->nbars; i++)
        studio_compose_fill_black(cv, pl->bars[i]);
    if (!src || pl->dst.w <= 0 || pl->dst.h <= 0 || pl->src.w <= 0 || pl->src.h <= 0)
        return 0;
    if (still) {
        int r = prepare_still(s, src, pl, gen);
        if (r == 0)
            blit_still(s, cv, pl->dst);
        return r;
    }
    /*
     * swscale writes whole SIMD blocks, up to 15 pixels past the end of each
     * row: scaled straight into the canvas, a layer whose width is not a
     * multiple of 16 would paint over what lies to its right. So it is
     * scaled into the slot's own (padded) frame and copied from there.
     */
    if (slot_frame(s, pl->dst.w, pl->dst.h, AV_PIX_FMT_YUV420P) < 0)
        return OA_ECODEC;
    int r = scale_into(s, src, pl->src, pl->dst.w, pl->dst.h, AV_PIX_FMT_YUV420P, s->scaled->data,
                       s->scaled->linesize);
    if (r < 0)
        return r;
    s->opaque = true;
    blit_still(s, cv, pl->dst);
    return 0;
}
