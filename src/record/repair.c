/*
 * repair.c - container walkers for crash recovery. Each reads only headers
 * (FLV tag headers, MP4 box headers) and seeks over payloads, so a
 * multi-gigabyte file costs a few thousand small reads.
 */
#include "repair.h"
#include "core/alloc.h"
#include "core/packet.h"
#include "media/avc.h"

static int read_exact(rec_read_fn *rd, void *ctx, uint64_t off, void *buf, size_t n, bool *ok)
{
    size_t got = 0;
    int r = rd(ctx, off, buf, n, &got);
    *ok = r == 0 && got == n;
    return r;
}

int rec_repair_flv(rec_read_fn *rd, void *ctx, uint64_t size, struct rec_flv_scan *out)
{
    memset(out, 0, sizeof(*out));
    uint8_t h[16];
    bool ok;
    int r = read_exact(rd, ctx, 0, h, 13, &ok);
    if (r || !ok || memcmp(h, "FLV", 3) != 0 || oa_rb32(h + 5) < 9)
        return r;
    uint64_t off = oa_rb32(h + 5) + 4;
    if (off > size)
        return 0;
    out->good_len = off;
    bool first = true;
    while (off + 11 + 4 <= size) {
        if ((r = read_exact(rd, ctx, off, h, 11, &ok)) != 0 || !ok)
            return r;
        uint8_t type = h[0] & 0x1f;
        uint32_t len = oa_rb24(h + 1);
        uint32_t ts = oa_rb24(h + 4) | ((uint32_t)h[7] << 24);
        uint64_t end = off + 11 + len + 4;
        if ((type != PKT_AUDIO && type != PKT_VIDEO && type != PKT_META) || end > size)
            break;
        uint8_t pts[4];
        if ((r = read_exact(rd, ctx, off + 11 + len, pts, 4, &ok)) != 0 || !ok)
            return r;
        if (oa_rb32(pts) != 11 + len)
            break; /* a torn write: the tag header is there, its end is not */
        uint8_t p[2] = {0, 0};
        if (len >= 2 && (r = read_exact(rd, ctx, off + 11, p, 2, &ok)) != 0)
            return r;
        bool seqhdr =
            len >= 2 && ((type == PKT_VIDEO && (p[0] & 0x0f) == FLV_VIDEO_CODEC_AVC && p[1] == 0) ||
                         (type == PKT_AUDIO && (p[0] >> 4) == FLV_AUDIO_CODEC_AAC && p[1] == 0));
        if (seqhdr && type == PKT_VIDEO && !out->width && len > 5 && len < 65536) {
            uint8_t *b = oa_malloc(len);
            if (read_exact(rd, ctx, off + 11, b, len, &ok) == 0 && ok) {
                struct avc_config c;
                if (avc_parse_config(b + 5, len - 5, &c) == 0) {
                    out->width = c.width;
                    out->height = c.height;
                }
            }
            oa_free(b);
        }
        if (!seqhdr && type != PKT_META && len > 0) {
            if (first)
                out->first_ts = ts;
            first = false;
            out->last_ts = OA_MAX(out->last_ts, ts);
            if (type == PKT_VIDEO) {
                if (!out->video_frames)
                    out->first_video_ts = ts;
                out->video_frames++;
                out->last_video_ts = ts;
            } else {
                out->audio_frames++;
            }
        }
        off = end;
        out->good_len = off;
    }
    return 0;
}

int64_t rec_flv_scan_duration_ms(const struct rec_flv_scan *s)
{
    if (!s->video_frames && !s->audio_frames)
        return 0;
    int64_t span = (int64_t)s->last_ts - s->first_ts, frame = 0;
    if (s->video_frames > 1)
        frame = ((int64_t)s->last_video_ts - s->first_video_ts) / (int64_t)(s->video_frames - 1);
    else if (s->audio_frames)
        frame = 23; /* one AAC frame at 44.1 kHz */
    return span + frame;
}

uint64_t rec_repair_ts(uint64_t size)
{
    return size - size % 188;
}

int rec_repair_fmp4(rec_read_fn *rd, void *ctx, uint64_t size, uint64_t *good)
{
    uint64_t off = 0;
    bool have_ftyp = false, have_moov = false, in_fragment = false;
    *good = 0;
    while (off + 8 <= size) {
        uint8_t h[16];
        bool ok;
        int r = read_exact(rd, ctx, off, h, 8, &ok);
        if (r || !ok)
            return r;
        uint64_t bs = oa_rb32(h);
        size_t hl = 8;
        if (bs == 1) {
            if (off + 16 > size)
                break;
            if ((r = read_exact(rd, ctx, off + 8, h + 8, 8, &ok)) != 0 || !ok)
                return r;
            bs = ((uint64_t)oa_rb32(h + 8) << 32) | oa_rb32(h + 12);
            hl = 16;
        }
        if (bs < hl || bs > size - off)
            break; /* size 0 ("to the end") or a box cut short */
        uint64_t end = off + bs;
        if (memcmp(h + 4, "ftyp", 4) == 0) {
            have_ftyp = true;
        } else if (memcmp(h + 4, "moov", 4) == 0) {
            have_moov = true;
            if (have_ftyp)
                *good = end;
        } else if (memcmp(h + 4, "moof", 4) == 0) {
            in_fragment = true;
        } else if (memcmp(h + 4, "mdat", 4) == 0) {
            if (in_fragment && have_moov)
                *good = end;
            in_fragment = false;
        } else if (!in_fragment && have_moov) {
            *good = end; /* styp, sidx, mfra... complete and harmless */
        }
        off = end;
    }
    return 0;
}
