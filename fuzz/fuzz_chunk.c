/*
 * fuzz_chunk.c - libFuzzer driver for the RTMP chunk reader and writer.
 *
 * The first bytes pick max_message and how the input is sliced; the rest is
 * fed to a reader. Every message that comes out is written again with
 * rtmp_chunk_write at some chunk size and read back by a second reader, which
 * must return the same message: the writer and reader agree on anything the
 * reader accepts.
 */
#include "core/common.h"
#include "core/err.h"
#include "rtmp/chunk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const struct rtmp_msg *m, uint32_t chunk_size)
{
    struct oa_buf b = OA_BUF_INIT(1 << 28);
    struct rtmp_chunk_reader r;
    struct rtmp_msg got;
    size_t used;
    const struct packet *pkt = m->pkt;
    uint32_t csid = m->csid;

    if (rtmp_write_set_chunk_size(&b, RTMP_DEFAULT_CHUNK_SIZE, chunk_size) != 0)
        abort();
    if (rtmp_chunk_write(&b, chunk_size, csid, pkt->type, m->stream_id, pkt->ts, pkt->data,
                         pkt->size) != 0)
        abort();
    /* Just enough for the message and the Set Chunk Size before it. */
    rtmp_chunk_reader_init(&r, OA_MAX(pkt->size, 4));
    size_t off = 0;
    int rc;
    do {
        rc = rtmp_chunk_read(&r, b.data + off, b.len - off, &used, &got);
        off += used;
    } while (rc == 0 && off < b.len);
    /* Control messages the reader consumes itself (chunk size, abort) do not come back. */
    if (pkt->type == 1 || pkt->type == 2) {
        if (rc == 1)
            packet_unref(&got.pkt);
    } else {
        if (rc != 1 || off != b.len || got.csid != csid || got.stream_id != m->stream_id ||
            got.pkt->type != pkt->type || got.pkt->ts != pkt->ts || got.pkt->size != pkt->size ||
            got.pkt->flags != pkt->flags ||
            (pkt->size && memcmp(got.pkt->data, pkt->data, pkt->size) != 0))
            abort();
        packet_unref(&got.pkt);
    }
    rtmp_chunk_reader_free(&r);
    oa_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    uint32_t max_message = 1u << (data[0] % 21);
    uint32_t slice_max = 1 + data[1];
    uint32_t out_chunk = 1 + data[2] * 37u;
    data += 3;
    size -= 3;

    struct rtmp_chunk_reader r;
    rtmp_chunk_reader_init(&r, max_message);
    size_t pos = 0;
    while (pos < size) {
        /* Slice sizes vary with position so header splits land everywhere. */
        size_t slice = 1 + (pos * 7 + data[pos]) % slice_max;
        slice = OA_MIN(slice, size - pos);
        struct rtmp_msg m;
        size_t used;
        int rc = rtmp_chunk_read(&r, data + pos, slice, &used, &m);
        if (used > slice)
            abort();
        pos += used;
        if (rc < 0)
            break;
        if (rc == 0) {
            if (used != slice || m.pkt)
                abort();
            continue;
        }
        if (!m.pkt || m.pkt->size > max_message)
            abort();
        round_trip(&m, out_chunk);
        packet_unref(&m.pkt);
    }
    if (r.bytes_in != pos)
        abort();
    rtmp_chunk_reader_free(&r);
    return 0;
}
