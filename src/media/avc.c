/*
 * avc.c - H.264 SPS reading (exp-Golomb), AVCC/Annex B conversion and the
 * AAC AudioSpecificConfig. Every read is bounds-checked: these bytes come
 * from publishers.
 */
#include "avc.h"
#include "core/err.h"

struct bits {
    const uint8_t *p;
    size_t len; /* bytes */
    size_t pos; /* bits */
    bool error;
};

static unsigned get_bit(struct bits *b)
{
    if (b->pos >= b->len * 8) {
        b->error = true;
        return 0;
    }
    unsigned v = (b->p[b->pos >> 3] >> (7 - (b->pos & 7))) & 1;
    b->pos++;
    return v;
}

static uint32_t get_bits(struct bits *b, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++)
        v = (v << 1) | get_bit(b);
    return v;
}

static uint32_t get_ue(struct bits *b)
{
    int zeros = 0;
    while (!get_bit(b)) {
        if (b->error || ++zeros > 31) {
            b->error = true;
            return 0;
        }
    }
    if (zeros == 0)
        return 0;
    return ((1u << zeros) - 1) + get_bits(b, zeros);
}

static int32_t get_se(struct bits *b)
{
    uint32_t v = get_ue(b);
    return (v & 1) ? (int32_t)((v + 1) / 2) : -(int32_t)(v / 2);
}

static void skip_scaling_list(struct bits *b, int size)
{
    int last = 8, next = 8;
    for (int j = 0; j < size && !b->error; j++) {
        if (next != 0) {
            int delta = get_se(b);
            next = (last + delta + 256) % 256;
        }
        last = next == 0 ? last : next;
    }
}

int avc_parse_sps(const uint8_t *p, size_t len, int *width, int *height)
{
    /* Remove emulation-prevention bytes (00 00 03) into a bounded copy. */
    uint8_t rbsp[512];
    size_t n = 0;
    for (size_t i = 1; i < len && n < sizeof(rbsp); i++) {
        if (i >= 3 && p[i] == 3 && p[i - 1] == 0 && p[i - 2] == 0)
            continue;
        rbsp[n++] = p[i];
    }
    if (len < 4 || (p[0] & 0x1f) != 7)
        return OA_EPROTO;
    struct bits b = {rbsp, n, 0, false};
    int profile = (int)get_bits(&b, 8);
    get_bits(&b, 16); /* constraint flags, level */
    get_ue(&b);       /* seq_parameter_set_id */
    int chroma_format_idc = 1;
    if (profile == 100 || profile == 110 || profile == 122 || profile == 244 || profile == 44 ||
        profile == 83 || profile == 86 || profile == 118 || profile == 128 || profile == 138 ||
        profile == 139 || profile == 134 || profile == 135) {
        chroma_format_idc = (int)get_ue(&b);
        if (chroma_format_idc == 3)
            get_bit(&b); /* separate_colour_plane_flag */
        get_ue(&b);      /* bit_depth_luma */
        get_ue(&b);      /* bit_depth_chroma */
        get_bit(&b);     /* qpprime_y_zero_transform_bypass */
        if (get_bit(&b)) {
            for (int i = 0; i < (chroma_format_idc != 3 ? 8 : 12); i++) {
                if (get_bit(&b))
                    skip_scaling_list(&b, i < 6 ? 16 : 64);
            }
        }
    }
    get_ue(&b); /* log2_max_frame_num */
    uint32_t poc_type = get_ue(&b);
    if (poc_type == 0) {
        get_ue(&b);
    } else if (poc_type == 1) {
        get_bit(&b);
        get_se(&b);
        get_se(&b);
        uint32_t cycle = get_ue(&b);
        if (cycle > 255)
            return OA_EPROTO;
        for (uint32_t i = 0; i < cycle; i++)
            get_se(&b);
    }
    get_ue(&b);  /* max_num_ref_frames */
    get_bit(&b); /* gaps_in_frame_num_allowed */
    uint32_t mbs_w = get_ue(&b) + 1;
    uint32_t map_h = get_ue(&b) + 1;
    unsigned frame_mbs_only = get_bit(&b);
    if (!frame_mbs_only)
        get_bit(&b); /* mb_adaptive_frame_field */
    get_bit(&b);     /* direct_8x8_inference */
    uint32_t crop_l = 0, crop_r = 0, crop_t = 0, crop_b = 0;
    if (get_bit(&b)) {
        crop_l = get_ue(&b);
        crop_r = get_ue(&b);
        crop_t = get_ue(&b);
        crop_b = get_ue(&b);
    }
    if (b.error || mbs_w > 1024 || map_h > 1024)
        return OA_EPROTO;
    uint32_t w = mbs_w * 16, h = (2 - frame_mbs_only) * map_h * 16;
    uint32_t cx = (chroma_format_idc == 1 || chroma_format_idc == 2) ? 2 : 1;
    uint32_t cy = (chroma_format_idc == 1 ? 2 : 1) * (2 - frame_mbs_only);
    if (chroma_format_idc == 0) {
        cx = 1;
        cy = 2 - frame_mbs_only;
    }
    uint32_t cw = (crop_l + crop_r) * cx, ch = (crop_t + crop_b) * cy;
    if (cw >= w || ch >= h)
        return OA_EPROTO;
    *width = (int)(w - cw);
    *height = (int)(h - ch);
    return 0;
}

int avc_parse_config(const uint8_t *p, size_t len, struct avc_config *out)
{
    memset(out, 0, sizeof(*out));
    if (len < 7 || p[0] != 1)
        return OA_EPROTO;
    out->profile = p[1];
    out->level = p[3];
    out->nal_length_size = (p[4] & 3) + 1;
    if (out->nal_length_size == 3)
        return OA_EPROTO;
    size_t pos = 5;
    unsigned nsps = p[pos++] & 0x1f;
    for (unsigned i = 0; i < nsps; i++) {
        if (pos + 2 > len)
            return OA_EPROTO;
        size_t n = oa_rb16(p + pos);
        pos += 2;
        if (n == 0 || pos + n > len)
            return OA_EPROTO;
        if (!out->sps) {
            out->sps = p + pos;
            out->sps_len = n;
        }
        pos += n;
    }
    if (pos + 1 > len)
        return OA_EPROTO;
    unsigned npps = p[pos++];
    for (unsigned i = 0; i < npps; i++) {
        if (pos + 2 > len)
            return OA_EPROTO;
        size_t n = oa_rb16(p + pos);
        pos += 2;
        if (pos + n > len)
            return OA_EPROTO;
        if (!out->pps) {
            out->pps = p + pos;
            out->pps_len = n;
        }
        pos += n;
    }
    if (!out->sps)
        return OA_EPROTO;
    if (avc_parse_sps(out->sps, out->sps_len, &out->width, &out->height) != 0)
        out->width = out->height = 0;
    return 0;
}

int aac_parse_asc(const uint8_t *p, size_t len, struct aac_config *out)
{
    static const int rates[] = {96000, 88200, 64000, 48000, 44100, 32000, 24000,
                                22050, 16000, 12000, 11025, 8000,  7350};
    struct bits b = {p, len, 0, false};
    memset(out, 0, sizeof(*out));
    int aot = (int)get_bits(&b, 5);
    if (aot == 31)
        aot = 32 + (int)get_bits(&b, 6);
    unsigned idx = get_bits(&b, 4);
    int rate;
    if (idx == 15)
        rate = (int)get_bits(&b, 24);
    else if (idx < OA_ARRAY_SIZE(rates))
        rate = rates[idx];
    else
        return OA_EPROTO;
    int ch = (int)get_bits(&b, 4);
    if (b.error || aot == 0 || rate <= 0)
        return OA_EPROTO;
    out->object_type = aot;
    out->sample_rate = rate;
    out->channels = ch == 7 ? 8 : ch;
    return 0;
}

/* Finds the next start code at or after pos; returns its offset or len. */
static size_t next_start(const uint8_t *p, size_t len, size_t pos, size_t *sc_len)
{
    for (size_t i = pos; i + 3 <= len; i++) {
        if (p[i] == 0 && p[i + 1] == 0) {
            if (p[i + 2] == 1) {
                *sc_len = 3;
                return i;
            }
            if (i + 4 <= len && p[i + 2] == 0 && p[i + 3] == 1) {
                *sc_len = 4;
                return i;
            }
        }
    }
    *sc_len = 0;
    return len;
}

/* Calls fn for every NAL unit of an Annex B buffer. */
static int each_nal(const uint8_t *p, size_t len, int (*fn)(const uint8_t *, size_t, void *),
                    void *arg)
{
    size_t sc, pos = next_start(p, len, 0, &sc);
    while (pos < len) {
        size_t start = pos + sc, sc2;
        size_t end = next_start(p, len, start, &sc2);
        size_t n = end - start;
        /* Trailing zero bytes belong to the next start code, not to this NAL. */
        while (n > 0 && p[start + n - 1] == 0)
            n--;
        if (n > 0) {
            int r = fn(p + start, n, arg);
            if (r)
                return r;
        }
        pos = end;
        sc = sc2;
    }
    return 0;
}

struct params_acc {
    const uint8_t *sps, *pps;
    size_t sps_len, pps_len;
};

static int collect_params(const uint8_t *nal, size_t n, void *arg)
{
    struct params_acc *a = arg;
    int type = nal[0] & 0x1f;
    if (type == 7 && !a->sps) {
        a->sps = nal;
        a->sps_len = n;
    } else if (type == 8 && !a->pps) {
        a->pps = nal;
        a->pps_len = n;
    }
    return 0;
}

int avc_config_from_annexb(const uint8_t *p, size_t len, struct oa_buf *out)
{
    struct params_acc a = {0};
    each_nal(p, len, collect_params, &a);
    if (!a.sps || !a.pps || a.sps_len < 4 || a.sps_len > 65535 || a.pps_len > 65535)
        return OA_EPROTO;
    uint8_t h[8] = {1, a.sps[1], a.sps[2], a.sps[3], 0xff, 0xe1};
    oa_wb16(h + 6, (uint32_t)a.sps_len);
    int r = oa_buf_append(out, h, 8);
    if (!r)
        r = oa_buf_append(out, a.sps, a.sps_len);
    uint8_t h2[3] = {1};
    oa_wb16(h2 + 1, (uint32_t)a.pps_len);
    if (!r)
        r = oa_buf_append(out, h2, 3);
    if (!r)
        r = oa_buf_append(out, a.pps, a.pps_len);
    return r;
}

struct to_avcc {
    struct oa_buf *out;
    bool drop_params;
};

static int append_avcc(const uint8_t *nal, size_t n, void *arg)
{
    struct to_avcc *t = arg;
    int type = nal[0] & 0x1f;
    if (t->drop_params && (type == 7 || type == 8 || type == 9))
        return 0;
    uint8_t h[4];
    oa_wb32(h, (uint32_t)n);
    int r = oa_buf_append(t->out, h, 4);
    return r ? r : oa_buf_append(t->out, nal, n);
}

int avc_annexb_to_avcc(const uint8_t *p, size_t len, bool drop_params, struct oa_buf *out)
{
    struct to_avcc t = {out, drop_params};
    return each_nal(p, len, append_avcc, &t);
}

static int find_idr(const uint8_t *nal, size_t n, void *arg)
{
    return (nal[0] & 0x1f) == 5 ? 1 : 0;
}

bool avc_annexb_has_idr(const uint8_t *p, size_t len)
{
    return each_nal(p, len, find_idr, NULL) == 1;
}
