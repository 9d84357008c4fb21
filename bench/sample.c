/*
 * sample.c - the sample FLV file, and the marker every sent video frame carries.
 *
 * The file is read whole and split into tags. Metadata and the two sequence
 * headers are kept apart (a publisher sends them once); every AVC frame gets
 * room for a marker: an SEI NAL unit of type 5 (user data unregistered) put
 * in front of the frame's own NAL units. Decoders skip user data whose UUID
 * they do not know, and neither onair nor nginx-rtmp touches video payloads,
 * so the marker reaches every player intact, whatever the server does to
 * timestamps (a server may restart them at each player's first frame, or
 * shift them after a republish). The marker's fields are written as
 * lower-case hex digits: no zero bytes, so the NAL unit never needs emulation
 * prevention, and the size is fixed, so a publisher rewrites them in place
 * just before each send.
 */
#include "load.h"
#include "core/alloc.h"
#include "core/util.h"

#include <errno.h>

static const uint8_t mark_uuid[16] = {'o', 'n', 'a', 'i', 'r', '-', 'l', 'o',
                                      'a', 'd', '-', 'm', 'a', 'r', 'k', '1'};

#define HEX_LEN 32 /* seq 8, pub 4, ts 8, send_us 12 */

static uint8_t *read_file(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        oa_snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    struct oa_buf b = OA_BUF_INIT((size_t)1 << 30);
    uint8_t tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0) {
        if (oa_buf_append(&b, tmp, n) != 0) {
            oa_snprintf(err, errlen, "%s: too large", path);
            fclose(f);
            oa_buf_free(&b);
            return NULL;
        }
    }
    fclose(f);
    return oa_buf_steal(&b, len);
}

static void copy_tag(struct sample_tag *t, uint8_t type, uint32_t ts, const uint8_t *p,
                     uint32_t len)
{
    t->type = type;
    t->ts = ts;
    t->len = len;
    t->data = oa_memdup(p, len);
}

int sample_load(struct sample *s, const char *path, char *err, size_t errlen)
{
    size_t len;
    uint8_t *f = read_file(path, &len, err, errlen);
    if (!f)
        return -1;
    memset(s, 0, sizeof(*s));
    if (len < 13 || memcmp(f, "FLV", 3) != 0 || oa_rb32(f + 5) > len - 4) {
        oa_snprintf(err, errlen, "%s: not an FLV file", path);
        oa_free(f);
        return -1;
    }
    size_t pos = oa_rb32(f + 5) + 4, cap = 0;
    uint32_t last_video = 0, prev_video = 0, last_audio = 0, prev_audio = 0;
    while (pos + 11 <= len) {
        uint8_t type = f[pos] & 0x1f;
        uint32_t size = oa_rb24(f + pos + 1);
        uint32_t ts = oa_rb24(f + pos + 4) | ((uint32_t)f[pos + 7] << 24);
        const uint8_t *p = f + pos + 11;
        if (pos + 11 + size > len)
            break; /* a truncated last tag */
        pos += 11 + (size_t)size + 4;
        if (type == 18 && !s->meta) {
            s->meta = oa_memdup(p, size);
            s->meta_len = size;
            continue;
        }
        if ((type != 8 && type != 9) || size < 2)
            continue;
        bool avc = type == 9 && (p[0] & 0x0f) == 7;
        bool aac = type == 8 && (p[0] >> 4) == 10;
        if ((avc || aac) && p[1] == 0) {
            struct sample_tag *h = avc ? &s->vhdr : &s->ahdr;
            if (!h->len)
                copy_tag(h, type, 0, p, size);
            continue;
        }
        if (avc && p[1] != 1)
            continue; /* end of sequence */
        if (s->ntags == cap) {
            cap = cap ? 2 * cap : 1024;
            s->tags = oa_realloc(s->tags, cap * sizeof(*s->tags));
        }
        struct sample_tag *t = &s->tags[s->ntags++];
        memset(t, 0, sizeof(*t));
        t->type = type;
        t->ts = ts;
        if (type == 9) {
            t->key = (p[0] >> 4) == 1;
            prev_video = last_video;
            last_video = ts;
        } else {
            prev_audio = last_audio;
            last_audio = ts;
        }
        if (avc && size >= 5) {
            /* Room for the marker NAL unit between the 5-byte AVC header and the frame. */
            t->marked = true;
            t->len = size + MARK_LEN;
            t->data = oa_malloc(t->len);
            memcpy(t->data, p, 5);
            memcpy(t->data + MARK_OFFSET + MARK_LEN, p + 5, size - 5);
            struct mark zero = {0, 0, 0, 0};
            sample_mark(t, &zero);
        } else {
            t->len = size;
            t->data = oa_memdup(p, size);
        }
        s->bytes += t->len;
    }
    oa_free(f);
    if (!s->ntags || !s->vhdr.len) {
        oa_snprintf(err, errlen, "%s: no H.264 video", path);
        return -1;
    }
    /* The marker is written with a 4-byte length: the stream must use 4-byte NAL lengths. */
    if (s->vhdr.len < 10 || (s->vhdr.data[9] & 3) != 3) {
        oa_snprintf(err, errlen, "%s: H.264 must use 4-byte NAL unit lengths", path);
        return -1;
    }
    /* A loop lasts until one frame interval after the last frame of either kind. */
    uint32_t vend = last_video + (last_video - prev_video);
    uint32_t aend = last_audio + (last_audio - prev_audio);
    s->duration_ms = OA_MAX(vend, aend);
    if (s->duration_ms == 0) {
        oa_snprintf(err, errlen, "%s: no timestamps", path);
        return -1;
    }
    return 0;
}

static void put_hex(uint8_t *p, uint64_t v, int digits)
{
    static const char hex[] = "0123456789abcdef";
    for (int i = digits - 1; i >= 0; i--) {
        p[i] = (uint8_t)hex[v & 15];
        v >>= 4;
    }
}

static bool get_hex(const uint8_t *p, int digits, uint64_t *out)
{
    uint64_t v = 0;
    for (int i = 0; i < digits; i++) {
        uint8_t c = p[i];
        if (c >= '0' && c <= '9')
            v = v << 4 | (uint64_t)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v = v << 4 | (uint64_t)(c - 'a' + 10);
        else
            return false;
    }
    *out = v;
    return true;
}

void sample_mark(struct sample_tag *t, const struct mark *m)
{
    uint8_t *p = t->data + MARK_OFFSET;
    oa_wb32(p, MARK_NAL_LEN);
    p[4] = 0x06;         /* nal_ref_idc 0, type 6: SEI */
    p[5] = 0x05;         /* payload type 5: user data unregistered */
    p[6] = 16 + HEX_LEN; /* payload size */
    memcpy(p + 7, mark_uuid, 16);
    uint8_t *h = p + 7 + 16;
    put_hex(h, m->seq, 8);
    put_hex(h + 8, m->pub & 0xffff, 4);
    put_hex(h + 12, m->ts, 8);
    put_hex(h + 20, (uint64_t)m->send_us & 0xffffffffffffULL, 12);
    p[7 + 16 + HEX_LEN] = 0x80; /* rbsp trailing bits */
}

bool mark_parse(const uint8_t *p, size_t len, struct mark *m)
{
    if (len < MARK_OFFSET + MARK_LEN)
        return false;
    p += MARK_OFFSET;
    if (oa_rb32(p) != MARK_NAL_LEN || p[4] != 0x06 || p[5] != 0x05 || p[6] != 16 + HEX_LEN ||
        memcmp(p + 7, mark_uuid, 16) != 0)
        return false;
    const uint8_t *h = p + 7 + 16;
    uint64_t seq, pub, ts, us;
    if (!get_hex(h, 8, &seq) || !get_hex(h + 8, 4, &pub) || !get_hex(h + 12, 8, &ts) ||
        !get_hex(h + 20, 12, &us))
        return false;
    m->seq = (uint32_t)seq;
    m->pub = (uint32_t)pub;
    m->ts = (uint32_t)ts;
    m->send_us = (int64_t)us;
    return true;
}
