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

#define TS_PACKET 188
#define TS_CHUNK (TS_PACKET * 512)

/* The payload of a TS packet (after any adaptation field): offset in p, or -1. */
static int ts_payload(const uint8_t *p)
{
    int afc = (p[3] >> 4) & 3;
    if (!(afc & 1))
        return -1;
    int off = 4;
    if (afc & 2)
        off += 1 + p[4];
    return off < TS_PACKET ? off : -1;
}

int rec_repair_ts(rec_read_fn *rd, void *ctx, uint64_t size, uint64_t *good)
{
    uint64_t whole = size - size % TS_PACKET;
    uint8_t *buf = oa_malloc(TS_CHUNK);
    uint64_t last_pes = UINT64_MAX; /* where the last PES starts */
    int last_pid = -1;
    uint64_t pes_len = 0, pes_got = 0; /* its declared length (0: unbounded) and payload seen */
    int r = 0;
    *good = 0;
    uint64_t off = 0;
    for (; off < whole; off += TS_CHUNK) {
        size_t n = (size_t)OA_MIN((uint64_t)TS_CHUNK, whole - off), got = 0;
        if ((r = rd(ctx, off, buf, n, &got)) != 0)
            break;
        n = got - got % TS_PACKET;
        for (size_t i = 0; i < n; i += TS_PACKET) {
            const uint8_t *p = buf + i;
            if (p[0] != 0x47) {
                whole = off + i; /* garbage: the stream ends here */
                break;
            }
            int pid = ((p[1] & 0x1f) << 8) | p[2];
            int po = ts_payload(p);
            if (po < 0)
                continue;
            if ((p[1] & 0x40) && po + 6 <= TS_PACKET && p[po] == 0 && p[po + 1] == 0 &&
                p[po + 2] == 1) {
                last_pes = off + i;
                last_pid = pid;
                pes_len = oa_rb16(p + po + 4);
                pes_got = (uint64_t)(TS_PACKET - po - 6);
            } else if (pid == last_pid) {
                pes_got += (uint64_t)(TS_PACKET - po);
            }
        }
        if (n < OA_MIN((uint64_t)TS_CHUNK, size - off))
            break;
    }
    oa_free(buf);
    if (r)
        return r;
    /*
     * The muxer writes each PES as consecutive packets, so only the last one
     * can be cut short. With a length (audio) it is checked; without one
     * (video) it cannot be, and it goes.
     */
    *good = whole;
    if (last_pes != UINT64_MAX && (pes_len == 0 || pes_got < pes_len))
        *good = last_pes;
    return 0;
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
