/*
 * layout.c - layer geometry (see layout.h for the conventions) and the
 * API's names for anchors, fill modes and channels.
 *
 * Everything is computed in double and rounded once per coordinate, to even
 * numbers, so that 4:2:0 chroma planes line up with luma. The clipped source
 * rectangle is widened outwards to even source pixels: at most one source
 * pixel more than the exact mapping, which is invisible and keeps the chroma
 * planes' offsets exact.
 */
#include "layout.h"
#include "core/err.h"
#include "core/util.h"

#include <math.h>

/* Normalized values beyond this are nonsense (and would overflow ints). */
#define NORM_MAX 64.0
#define SIZE_MAX_PX 65536

int studio_round_even(double v)
{
    return 2 * (int)lround(v / 2.0);
}

static int even_size(double v)
{
    int n = studio_round_even(v);
    return n < 2 ? 2 : n;
}

enum axis { AX_LOW, AX_HIGH, AX_MID }; /* left/top edge, right/bottom edge, centred */

static void refer_axes(enum studio_refer r, enum axis *ax, enum axis *ay)
{
    switch (r) {
    case STUDIO_REFER_TOP_RIGHT:
        *ax = AX_HIGH;
        *ay = AX_LOW;
        break;
    case STUDIO_REFER_BOTTOM_LEFT:
        *ax = AX_LOW;
        *ay = AX_HIGH;
        break;
    case STUDIO_REFER_BOTTOM_RIGHT:
        *ax = AX_HIGH;
        *ay = AX_HIGH;
        break;
    case STUDIO_REFER_CENTER:
        *ax = AX_MID;
        *ay = AX_MID;
        break;
    case STUDIO_REFER_TOP_CENTER:
        *ax = AX_MID;
        *ay = AX_LOW;
        break;
    case STUDIO_REFER_BOTTOM_CENTER:
        *ax = AX_MID;
        *ay = AX_HIGH;
        break;
    case STUDIO_REFER_LEFT_CENTER:
        *ax = AX_LOW;
        *ay = AX_MID;
        break;
    case STUDIO_REFER_RIGHT_CENTER:
        *ax = AX_HIGH;
        *ay = AX_MID;
        break;
    case STUDIO_REFER_TOP_LEFT:
    default:
        *ax = AX_LOW;
        *ay = AX_LOW;
        break;
    }
}

/* Start coordinate of a span of `len` on an axis of `full`, offset `off` (pixels). */
static int place_axis(enum axis a, int full, int len, double off)
{
    switch (a) {
    case AX_HIGH:
        return studio_round_even((double)full - off - (double)len);
    case AX_MID:
        return studio_round_even(((double)full - (double)len) / 2.0 + off);
    case AX_LOW:
    default:
        return studio_round_even(off);
    }
}

static struct studio_rect intersect(struct studio_rect a, int cw, int ch)
{
    int x0 = OA_MAX(a.x, 0), y0 = OA_MAX(a.y, 0);
    int x1 = OA_MIN(a.x + a.w, cw), y1 = OA_MIN(a.y + a.h, ch);
    if (x1 <= x0 || y1 <= y0)
        return (struct studio_rect){0, 0, 0, 0};
    return (struct studio_rect){x0, y0, x1 - x0, y1 - y0};
}

/* The source span [s0, s1) that maps onto [d0, d1) of a picture at p0 of length plen. */
static void src_span(int d0, int d1, int p0, int plen, int slen, int *s, int *n)
{
    double scale = (double)slen / (double)plen;
    int a = (int)floor((double)(d0 - p0) * scale);
    int b = (int)ceil((double)(d1 - p0) * scale);
    a &= ~1; /* even, for the chroma planes */
    if (b > slen)
        b = slen;
    if (a < 0)
        a = 0;
    if (b <= a)
        b = OA_MIN(a + 2, slen);
    *s = a;
    *n = b - a;
}

static void add_bar(struct studio_place *out, struct studio_rect r, int cw, int ch)
{
    if (r.w <= 0 || r.h <= 0)
        return;
    r = intersect(r, cw, ch);
    if (r.w > 0)
        out->bars[out->nbars++] = r;
}

int studio_layout_place(int cw, int ch, const struct studio_video_layer *l, int sw, int sh,
                        struct studio_place *out)
{
    memset(out, 0, sizeof(*out));
    if (cw <= 0 || ch <= 0 || sw <= 0 || sh <= 0 || cw > SIZE_MAX_PX || ch > SIZE_MAX_PX ||
        sw > SIZE_MAX_PX || sh > SIZE_MAX_PX)
        return OA_EINVAL;
    double hn = l->height_norm, wn = l->width_norm;
    if (!(fabs(hn) <= NORM_MAX) || !(fabs(wn) <= NORM_MAX) || !(fabs(l->pos_x) <= NORM_MAX) ||
        !(fabs(l->pos_y) <= NORM_MAX) || hn < 0 || wn < 0)
        return OA_EINVAL;
    double W = cw, H = ch;
    bool fit = l->fill == STUDIO_FILL_FIT && hn > 0 && wn > 0;
    int bw, bh; /* the layer's box */
    if (hn > 0 && wn > 0) {
        bw = even_size(wn * W);
        bh = even_size(hn * H);
    } else if (hn > 0) {
        bh = even_size(hn * H);
        bw = even_size(hn * H * (double)sw / (double)sh);
    } else if (wn > 0) {
        bw = even_size(wn * W);
        bh = even_size(wn * W * (double)sh / (double)sw);
    } else {
        bw = even_size(sw);
        bh = even_size(sh);
    }
    if (bw > SIZE_MAX_PX || bh > SIZE_MAX_PX)
        return OA_EINVAL;

    enum axis ax, ay;
    refer_axes(l->refer, &ax, &ay);
    out->box.w = bw;
    out->box.h = bh;
    out->box.x = place_axis(ax, cw, bw, l->pos_x * W);
    out->box.y = place_axis(ay, ch, bh, l->pos_y * H);

    if (fit) {
        double s = OA_MIN((double)bw / sw, (double)bh / sh);
        int pw = OA_MIN(even_size(sw * s), bw), ph = OA_MIN(even_size(sh * s), bh);
        out->pic.w = pw;
        out->pic.h = ph;
        out->pic.x = out->box.x + studio_round_even((bw - pw) / 2.0);
        out->pic.y = out->box.y + studio_round_even((bh - ph) / 2.0);
        const struct studio_rect b = out->box, p = out->pic;
        add_bar(out, (struct studio_rect){b.x, b.y, b.w, p.y - b.y}, cw, ch);
        add_bar(out, (struct studio_rect){b.x, p.y + p.h, b.w, b.y + b.h - (p.y + p.h)}, cw, ch);
        add_bar(out, (struct studio_rect){b.x, p.y, p.x - b.x, p.h}, cw, ch);
        add_bar(out, (struct studio_rect){p.x + p.w, p.y, b.x + b.w - (p.x + p.w), p.h}, cw, ch);
    } else {
        out->pic = out->box;
    }

    out->dst = intersect(out->pic, cw, ch);
    if (out->dst.w == 0) {
        out->src = (struct studio_rect){0, 0, 0, 0};
        return 0;
    }
    if (out->dst.w == out->pic.w && out->dst.h == out->pic.h) {
        out->src = (struct studio_rect){0, 0, sw, sh};
        return 0;
    }
    src_span(out->dst.x, out->dst.x + out->dst.w, out->pic.x, out->pic.w, sw, &out->src.x,
             &out->src.w);
    src_span(out->dst.y, out->dst.y + out->dst.h, out->pic.y, out->pic.h, sh, &out->src.y,
             &out->src.h);
    return 0;
}

int studio_location_index(const char *id)
{
    if (!id || (id[0] != 'R' && id[0] != 'r') || (id[1] != 'V' && id[1] != 'v'))
        return OA_EINVAL;
    long long n;
    if (strlen(id) != 4 || id[2] < '0' || id[2] > '9' || id[3] < '0' || id[3] > '9' ||
        oa_parse_int(id + 2, 1, 99, &n) != 0)
        return OA_EINVAL;
    return (int)n;
}

static const char *const refer_names[] = {
    "topLeft",   "topRight",     "bottomLeft", "bottomRight", "center",
    "topCenter", "bottomCenter", "leftCenter", "rightCenter",
};
static const char *const fill_names[] = {"none", "fit"};
static const char *const channel_names[] = {"all", "leftChannel", "rightChannel"};

static int parse_name(const char *s, const char *const *names, size_t n, int *out)
{
    if (!s || !*s) {
        *out = 0;
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        if (oa_strcaseeq(s, names[i])) {
            *out = (int)i;
            return 0;
        }
    }
    return OA_EINVAL;
}

int studio_refer_parse(const char *s, enum studio_refer *out)
{
    int v;
    int r = parse_name(s, refer_names, OA_ARRAY_SIZE(refer_names), &v);
    if (!r)
        *out = (enum studio_refer)v;
    return r;
}

int studio_fill_parse(const char *s, enum studio_fill *out)
{
    int v;
    int r = parse_name(s, fill_names, OA_ARRAY_SIZE(fill_names), &v);
    if (!r)
        *out = (enum studio_fill)v;
    return r;
}

int studio_channel_parse(const char *s, enum studio_channel *out)
{
    int v;
    int r = parse_name(s, channel_names, OA_ARRAY_SIZE(channel_names), &v);
    /* Some clients say "left"/"right". */
    if (r && oa_strcaseeq(s, "left")) {
        v = STUDIO_CHANNEL_LEFT;
        r = 0;
    } else if (r && oa_strcaseeq(s, "right")) {
        v = STUDIO_CHANNEL_RIGHT;
        r = 0;
    }
    if (!r)
        *out = (enum studio_channel)v;
    return r;
}

const char *studio_refer_name(enum studio_refer r)
{
    return (unsigned)r < OA_ARRAY_SIZE(refer_names) ? refer_names[r] : refer_names[0];
}

const char *studio_fill_name(enum studio_fill f)
{
    return (unsigned)f < OA_ARRAY_SIZE(fill_names) ? fill_names[f] : fill_names[0];
}

const char *studio_channel_name(enum studio_channel c)
{
    return (unsigned)c < OA_ARRAY_SIZE(channel_names) ? channel_names[c] : channel_names[0];
}
