/*
 * chunk.c - RTMP chunk stream reader and writer.
 *
 * Reader: a two-state machine. Between chunks it collects the chunk header
 * (basic header, message header, optional extended timestamp; at most 18
 * bytes) in r->_hdr, byte counts computed as soon as enough of the header is
 * known, so a header may be split anywhere across reads. Once the header is
 * complete it is applied to the chunk stream's state; a header that starts a
 * message allocates the whole packet right away (after the size checks), and
 * the chunk's payload bytes are then copied straight into it. There is no
 * intermediate buffer, so the only memory a peer can make us hold is the
 * packets of its partial messages, which the size caps bound.
 *
 * Writer: one format-0 chunk followed by format-3 continuations, the size
 * computed first so the output buffer is reserved once and never left with a
 * partial message.
 */
#include "rtmp/chunk.h"
#include "core/alloc.h"
#include "core/err.h"

#define EXT_TS 0xffffffu

struct rtmp_chunk_stream {
    uint32_t csid;
    uint32_t ts;    /* timestamp of the current (or last) message */
    uint32_t delta; /* what a format-3 header that starts a message adds */
    uint32_t len;   /* message length from the last header */
    uint32_t stream_id;
    uint8_t type;
    bool ext;           /* the last format 0/1/2 header used an extended timestamp */
    struct packet *pkt; /* partial message, or NULL */
    uint32_t got;       /* payload bytes of pkt received so far */
};

static const uint8_t msg_header_len[4] = {11, 7, 3, 0};

void rtmp_chunk_reader_init(struct rtmp_chunk_reader *r, uint32_t max_message)
{
    memset(r, 0, sizeof(*r));
    r->chunk_size = RTMP_DEFAULT_CHUNK_SIZE;
    r->max_message = max_message;
    r->_cur = -1;
}

void rtmp_chunk_reader_set_pool(struct rtmp_chunk_reader *r, uint64_t *pool, uint64_t pool_max)
{
    r->_pool = pool;
    r->_pool_max = pool_max;
}

/* A partial message of n bytes is allocated (n > 0) or released (n < 0). */
static void account(struct rtmp_chunk_reader *r, int64_t n)
{
    r->_pending += (uint64_t)n;
    if (r->_pool)
        *r->_pool += (uint64_t)n;
}

void rtmp_chunk_reader_free(struct rtmp_chunk_reader *r)
{
    account(r, -(int64_t)r->_pending);
    for (unsigned i = 0; i < r->_nstreams; i++)
        packet_unref(&r->_streams[i].pkt);
    oa_free(r->_streams);
    r->_streams = NULL;
    r->_nstreams = 0;
    r->_cur = -1;
    r->_pending = 0;
}

static int find_stream(const struct rtmp_chunk_reader *r, uint32_t csid)
{
    for (unsigned i = 0; i < r->_nstreams; i++) {
        if (r->_streams[i].csid == csid)
            return (int)i;
    }
    return -1;
}

static int add_stream(struct rtmp_chunk_reader *r, uint32_t csid)
{
    if (r->_nstreams >= RTMP_MAX_CSIDS)
        return OA_EPROTO;
    /* Grow by powers of two; few peers use more than four chunk streams. */
    unsigned n = r->_nstreams;
    if (n == 0 || (n >= 4 && (n & (n - 1)) == 0)) {
        unsigned cap = n ? n * 2 : 4;
        r->_streams = oa_realloc(r->_streams, cap * sizeof(*r->_streams));
    }
    memset(&r->_streams[n], 0, sizeof(r->_streams[n]));
    r->_streams[n].csid = csid;
    r->_nstreams = n + 1;
    return (int)n;
}

static uint32_t header_csid(const uint8_t *h)
{
    switch (h[0] & 0x3f) {
    case 0:
        return 64 + (uint32_t)h[1];
    case 1:
        return 64 + (uint32_t)h[1] + ((uint32_t)h[2] << 8);
    default:
        return h[0] & 0x3f;
    }
}

static unsigned basic_header_len(uint8_t b0)
{
    switch (b0 & 0x3f) {
    case 0:
        return 2;
    case 1:
        return 3;
    default:
        return 1;
    }
}

/*
 * How many header bytes the chunk whose first `have` bytes are in h needs in
 * total. The answer only grows as bytes arrive, and is final once have
 * reaches it.
 */
static unsigned header_need(const struct rtmp_chunk_reader *r, const uint8_t *h, unsigned have)
{
    if (have < 1)
        return 1;
    unsigned basic = basic_header_len(h[0]);
    if (have < basic)
        return basic;
    unsigned fmt = h[0] >> 6;
    unsigned need = basic + msg_header_len[fmt];
    if (have < need)
        return need;
    bool ext;
    if (fmt < 3) {
        ext = oa_rb24(h + basic) == EXT_TS;
    } else {
        int i = find_stream(r, header_csid(h));
        ext = i >= 0 && r->_streams[i].ext;
    }
    return need + (ext ? 4 : 0);
}

/* Minimum sizes of the protocol control messages; 0 for everything else. */
static int check_control_len(uint8_t type, uint32_t len)
{
    switch (type) {
    case RTMP_MSG_SET_CHUNK_SIZE:
    case RTMP_MSG_ABORT:
        /* These two we interpret ourselves, so they must be exact. */
        return len == 4 ? 0 : OA_EPROTO;
    case RTMP_MSG_ACK:
    case RTMP_MSG_WINDOW_ACK_SIZE:
    case RTMP_MSG_SET_PEER_BANDWIDTH:
        return len >= 4 ? 0 : OA_EPROTO;
    case RTMP_MSG_USER_CONTROL:
        return len >= 2 ? 0 : OA_EPROTO;
    default:
        return 0;
    }
}

/* Applies a complete chunk header; on success r->_cur is the chunk's stream. */
static int apply_header(struct rtmp_chunk_reader *r, const uint8_t *h)
{
    unsigned fmt = h[0] >> 6;
    uint32_t csid = header_csid(h);
    const uint8_t *m = h + basic_header_len(h[0]);
    int idx = find_stream(r, csid);

    if (idx < 0) {
        /* Format 1 may open a chunk stream (librtmp does); 2 and 3 have nothing to refer to. */
        if (fmt > 1)
            return OA_EPROTO;
        idx = add_stream(r, csid);
        if (idx < 0)
            return idx;
    }
    struct rtmp_chunk_stream *st = &r->_streams[idx];

    if (fmt < 3 && st->pkt)
        return OA_EPROTO; /* a new message header in the middle of a message */

    uint32_t tsf = 0;
    if (fmt < 3) {
        tsf = oa_rb24(m);
        st->ext = tsf == EXT_TS;
    }
    if (fmt < 2) {
        st->len = oa_rb24(m + 3);
        st->type = m[6];
    }
    if (fmt == 0) {
        /* The message stream id is the one little-endian field of RTMP. */
        st->stream_id = (uint32_t)m[7] | ((uint32_t)m[8] << 8) | ((uint32_t)m[9] << 16) |
                        ((uint32_t)m[10] << 24);
    }
    if (st->ext)
        tsf = oa_rb32(m + msg_header_len[fmt]);

    if (!st->pkt) {
        /* This chunk starts a message. */
        if (fmt == 0) {
            st->ts = tsf;
            st->delta = tsf;
        } else {
            if (fmt < 3 || st->ext)
                st->delta = tsf;
            st->ts += st->delta;
        }
        if (st->len > r->max_message)
            return OA_ETOOBIG;
        int rc = check_control_len(st->type, st->len);
        if (rc < 0)
            return rc;
        if (r->_pending + st->len > 2 * (uint64_t)r->max_message)
            return OA_ETOOBIG;
        if (r->_pool && *r->_pool + st->len > r->_pool_max)
            return OA_EBUSY;
        st->pkt = packet_new(st->type, st->ts, st->len);
        st->got = 0;
        account(r, st->len);
    }
    /* A continuation chunk's extended timestamp repeats the message's: nothing to do. */

    r->_cur = idx;
    r->_chunk_left = OA_MIN(r->chunk_size, st->len - st->got);
    return 0;
}

/*
 * Called when st's message is complete. Returns 1 with *msg filled for a
 * message the caller gets, 0 for one the reader consumed itself, or an error.
 */
static int finish_message(struct rtmp_chunk_reader *r, struct rtmp_chunk_stream *st,
                          struct rtmp_msg *msg)
{
    struct packet *pkt = st->pkt;
    st->pkt = NULL;
    account(r, -(int64_t)pkt->size);

    if (pkt->type == RTMP_MSG_SET_CHUNK_SIZE) {
        uint32_t size = oa_rb32(pkt->data);
        packet_unref(&pkt);
        if (size == 0 || size > RTMP_MAX_CHUNK_SIZE)
            return OA_EPROTO;
        r->chunk_size = size;
        return 0;
    }
    if (pkt->type == RTMP_MSG_ABORT) {
        int i = find_stream(r, oa_rb32(pkt->data));
        packet_unref(&pkt);
        if (i >= 0 && r->_streams[i].pkt) {
            account(r, -(int64_t)r->_streams[i].pkt->size);
            packet_unref(&r->_streams[i].pkt);
        }
        return 0;
    }
    if (pkt->type == PKT_AUDIO || pkt->type == PKT_VIDEO)
        packet_classify(pkt);
    msg->csid = st->csid;
    msg->stream_id = st->stream_id;
    msg->pkt = pkt;
    return 1;
}

static int read_chunks(struct rtmp_chunk_reader *r, const uint8_t *p, size_t len, size_t *pos,
                       struct rtmp_msg *msg)
{
    for (;;) {
        if (r->_cur < 0) {
            unsigned need = header_need(r, r->_hdr, r->_hdr_len);
            while (r->_hdr_len < need) {
                if (*pos == len)
                    return 0;
                size_t take = OA_MIN((size_t)(need - r->_hdr_len), len - *pos);
                memcpy(r->_hdr + r->_hdr_len, p + *pos, take);
                r->_hdr_len += (unsigned)take;
                *pos += take;
                need = header_need(r, r->_hdr, r->_hdr_len);
            }
            r->_hdr_len = 0;
            int rc = apply_header(r, r->_hdr);
            if (rc < 0)
                return rc;
        }

        struct rtmp_chunk_stream *st = &r->_streams[r->_cur];
        size_t take = OA_MIN((size_t)r->_chunk_left, len - *pos);
        if (take) {
            memcpy(st->pkt->data + st->got, p + *pos, take);
            st->got += (uint32_t)take;
            r->_chunk_left -= (uint32_t)take;
            *pos += take;
        }
        if (r->_chunk_left > 0)
            return 0; /* input exhausted mid-chunk */
        r->_cur = -1;
        if (st->got == st->len) {
            int rc = finish_message(r, st, msg);
            if (rc != 0)
                return rc;
        }
    }
}

int rtmp_chunk_read(struct rtmp_chunk_reader *r, const uint8_t *p, size_t len, size_t *consumed,
                    struct rtmp_msg *msg)
{
    size_t pos = 0;

    memset(msg, 0, sizeof(*msg));
    int rc = read_chunks(r, p, len, &pos, msg);
    *consumed = pos;
    r->bytes_in += pos;
    return rc;
}

static unsigned put_basic_header(uint8_t *p, unsigned fmt, uint32_t csid)
{
    if (csid < 64) {
        p[0] = (uint8_t)(fmt << 6 | csid);
        return 1;
    }
    if (csid < 320) {
        p[0] = (uint8_t)(fmt << 6);
        p[1] = (uint8_t)(csid - 64);
        return 2;
    }
    p[0] = (uint8_t)(fmt << 6 | 1);
    p[1] = (uint8_t)(csid - 64);
    p[2] = (uint8_t)((csid - 64) >> 8);
    return 3;
}

int rtmp_chunk_write(struct oa_buf *out, uint32_t chunk_size, uint32_t csid, uint8_t type,
                     uint32_t stream_id, uint32_t ts, const uint8_t *payload, size_t len)
{
    if (csid < 2 || csid > 65599 || chunk_size == 0 || chunk_size > RTMP_MAX_CHUNK_SIZE)
        return OA_EINVAL;
    if (len > 0xffffff)
        return OA_ETOOBIG;

    uint8_t h[18];
    unsigned bl = put_basic_header(h, 0, csid);
    bool ext = ts >= EXT_TS;
    size_t nchunks = len ? (len + chunk_size - 1) / chunk_size : 1;
    size_t cont = bl + (ext ? 4 : 0);
    size_t total = bl + 11 + (ext ? 4 : 0) + len + (nchunks - 1) * cont;
    int rc = oa_buf_reserve(out, total);
    if (rc < 0)
        return rc;

    uint8_t *w = out->data + out->len;
    memcpy(w, h, bl);
    w += bl;
    oa_wb24(w, ext ? EXT_TS : ts);
    oa_wb24(w + 3, (uint32_t)len);
    w[6] = type;
    w[7] = (uint8_t)stream_id;
    w[8] = (uint8_t)(stream_id >> 8);
    w[9] = (uint8_t)(stream_id >> 16);
    w[10] = (uint8_t)(stream_id >> 24);
    w += 11;
    if (ext) {
        oa_wb32(w, ts);
        w += 4;
    }

    /* The continuation header is the same for every chunk: basic header, ext ts. */
    uint8_t c[7];
    unsigned cl = put_basic_header(c, 3, csid);
    if (ext) {
        oa_wb32(c + cl, ts);
        cl += 4;
    }
    for (size_t off = 0; off < len;) {
        if (off) {
            memcpy(w, c, cl);
            w += cl;
        }
        size_t n = OA_MIN((size_t)chunk_size, len - off);
        memcpy(w, payload + off, n);
        w += n;
        off += n;
    }
    OA_ASSERT((size_t)(w - out->data) == out->len + total);
    out->len += total;
    return 0;
}

int rtmp_packet_wire(struct packet *pkt, uint32_t chunk_size)
{
    if (pkt->type == PKT_RAW)
        return 0;
    if (pkt->wire && pkt->wire_chunk == chunk_size)
        return 0;

    uint32_t csid = RTMP_CSID_DATA;
    if (pkt->type == PKT_AUDIO)
        csid = RTMP_CSID_AUDIO;
    else if (pkt->type == PKT_VIDEO)
        csid = RTMP_CSID_VIDEO;

    struct oa_buf b = OA_BUF_INIT(SIZE_MAX - 1);
    int rc = rtmp_chunk_write(&b, chunk_size, csid, pkt->type, 1, pkt->ts, pkt->data, pkt->size);
    if (rc < 0) {
        oa_buf_free(&b);
        return rc;
    }
    oa_free(pkt->wire);
    pkt->wire = oa_buf_steal(&b, &pkt->wire_len);
    pkt->wire_chunk = chunk_size;
    return 0;
}

static int write_control(struct oa_buf *out, uint32_t chunk_size, uint8_t type, const uint8_t *p,
                         size_t len)
{
    return rtmp_chunk_write(out, chunk_size, RTMP_CSID_CONTROL, type, 0, 0, p, len);
}

int rtmp_write_set_chunk_size(struct oa_buf *out, uint32_t chunk_size, uint32_t size)
{
    uint8_t p[4];
    if (size == 0 || size > RTMP_MAX_CHUNK_SIZE)
        return OA_EINVAL;
    oa_wb32(p, size);
    return write_control(out, chunk_size, RTMP_MSG_SET_CHUNK_SIZE, p, sizeof(p));
}

int rtmp_write_ack(struct oa_buf *out, uint32_t chunk_size, uint32_t seq)
{
    uint8_t p[4];
    oa_wb32(p, seq);
    return write_control(out, chunk_size, RTMP_MSG_ACK, p, sizeof(p));
}

int rtmp_write_window_ack_size(struct oa_buf *out, uint32_t chunk_size, uint32_t size)
{
    uint8_t p[4];
    oa_wb32(p, size);
    return write_control(out, chunk_size, RTMP_MSG_WINDOW_ACK_SIZE, p, sizeof(p));
}

int rtmp_write_peer_bandwidth(struct oa_buf *out, uint32_t chunk_size, uint32_t size,
                              uint8_t limit_type)
{
    uint8_t p[5];
    oa_wb32(p, size);
    p[4] = limit_type;
    return write_control(out, chunk_size, RTMP_MSG_SET_PEER_BANDWIDTH, p, sizeof(p));
}

int rtmp_write_user_control(struct oa_buf *out, uint32_t chunk_size, uint16_t event, uint32_t arg)
{
    uint8_t p[6];
    oa_wb16(p, event);
    oa_wb32(p + 2, arg);
    return write_control(out, chunk_size, RTMP_MSG_USER_CONTROL, p, sizeof(p));
}
