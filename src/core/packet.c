/* packet.c - allocation, FLV framing and classification of media packets. */
#include "packet.h"
#include "alloc.h"

#include <string.h>

static _Atomic int64_t bytes_live;

static void write_flv_header(struct packet *pkt)
{
    uint8_t *h = pkt->flv;
    h[0] = pkt->type;
    oa_wb24(h + 1, pkt->size);
    oa_wb24(h + 4, pkt->ts & 0xffffff);
    h[7] = (uint8_t)(pkt->ts >> 24);
    oa_wb24(h + 8, 0); /* stream id, always 0 in FLV */
    oa_wb32(h + 11 + pkt->size, pkt->size + 11);
}

struct packet *packet_new(uint8_t type, uint32_t ts, uint32_t size)
{
    size_t total = 11 + (size_t)size + 4;
    struct packet *pkt = oa_malloc(sizeof(*pkt) + total);
    atomic_init(&pkt->refs, 1);
    pkt->type = type;
    pkt->flags = 0;
    pkt->ts = ts;
    pkt->size = size;
    pkt->data = pkt->flv + 11;
    pkt->flv_len = total;
    pkt->wire = NULL;
    pkt->wire_len = 0;
    pkt->wire_chunk = 0;
    write_flv_header(pkt);
    atomic_fetch_add_explicit(&bytes_live, (int64_t)total, memory_order_relaxed);
    return pkt;
}

struct packet *packet_new_copy(uint8_t type, uint32_t ts, const void *p, uint32_t size)
{
    struct packet *pkt = packet_new(type, ts, size);
    if (size)
        memcpy(pkt->data, p, size);
    packet_classify(pkt);
    return pkt;
}

struct packet *packet_new_raw(const void *p, size_t len)
{
    struct packet *pkt = packet_new(PKT_RAW, 0, 0);
    pkt->wire = oa_memdup(p, len);
    pkt->wire_len = len;
    pkt->wire_chunk = UINT32_MAX;
    return pkt;
}

void packet_set_ts(struct packet *pkt, uint32_t ts)
{
    pkt->ts = ts;
    write_flv_header(pkt);
}

void packet_classify(struct packet *pkt)
{
    pkt->flags = 0;
    if (pkt->size < 1)
        return;
    uint8_t b0 = pkt->data[0];
    if (pkt->type == PKT_VIDEO) {
        int codec = b0 & 0x0f;
        if ((b0 >> 4) == 1)
            pkt->flags |= PKT_F_KEY;
        if ((codec == FLV_VIDEO_CODEC_AVC || codec == FLV_VIDEO_CODEC_HEVC) && pkt->size >= 2 &&
            pkt->data[1] == 0)
            pkt->flags |= PKT_F_SEQHDR;
    } else if (pkt->type == PKT_AUDIO) {
        if ((b0 >> 4) == FLV_AUDIO_CODEC_AAC && pkt->size >= 2 && pkt->data[1] == 0)
            pkt->flags |= PKT_F_SEQHDR;
    }
}

int packet_codec(const struct packet *pkt)
{
    if (pkt->size < 1)
        return -1;
    if (pkt->type == PKT_VIDEO)
        return pkt->data[0] & 0x0f;
    if (pkt->type == PKT_AUDIO)
        return pkt->data[0] >> 4;
    return -1;
}

void packet_unref(struct packet **pp)
{
    struct packet *pkt = *pp;
    if (!pkt)
        return;
    *pp = NULL;
    if (atomic_fetch_sub_explicit(&pkt->refs, 1, memory_order_acq_rel) != 1)
        return;
    atomic_fetch_sub_explicit(&bytes_live, (int64_t)pkt->flv_len, memory_order_relaxed);
    oa_free(pkt->wire);
    oa_free(pkt);
}

int64_t packet_bytes_live(void)
{
    return atomic_load_explicit(&bytes_live, memory_order_relaxed);
}
