/*
 * chunk.h - the RTMP chunk stream: reassembly of incoming messages and
 * serialization of outgoing ones.
 *
 * The reader is a pure parser: it is fed bytes, never does I/O or logs, and
 * keeps per-chunk-stream state (up to RTMP_MAX_CSIDS of them) so that chunks
 * of different messages may interleave. Every size it allocates is checked
 * first against the reader's max_message ceiling. A complete message is
 * returned as a struct packet (core/packet.h) whose type is the RTMP message
 * type and whose ts is the absolute timestamp after applying deltas; the
 * packet's flags are classified for audio/video.
 *
 * Timestamps: format 0 sets the absolute time; formats 1 and 2 set a delta
 * and add it; a format-3 chunk that starts a new message adds the last delta
 * again. After a format-0 header that "last delta" is the format-0 timestamp
 * itself, as the RTMP spec (5.3.1.2.4) says and as FFmpeg's writer relies on:
 * it sends format 3 right after format 0 when the second message's delta
 * equals the first message's timestamp. Extended timestamps (0xFFFFFF in the
 * header) are read from the 4 bytes after the header, and also after every
 * format-3 header of a chunk stream whose last header used one; on a format-3
 * chunk that starts a message, that value is the delta (FFmpeg writes it so).
 *
 * A chunk stream must start with format 0 (format 1 is tolerated, counting
 * from time 0 and stream 0, because librtmp does it); a format 0, 1 or 2
 * header on a chunk stream that has a partial message is OA_EPROTO, as in
 * nginx-rtmp and SRS. Besides max_message for one message, the payloads of all
 * partial messages together may not exceed 2 * max_message: a packet is
 * allocated as soon as its header arrives, and without this cap 64 headers of
 * a few bytes each could pin 64 * max_message bytes. Readers may also share
 * a pool (rtmp_chunk_reader_set_pool): the partial messages of all of them
 * together may not exceed its maximum, which bounds the memory a crowd of
 * connections can pin, each below its own cap (OA_EBUSY).
 *
 * Protocol control messages 1 (Set Chunk Size) and 2 (Abort) are applied by
 * the reader itself and not returned. Everything else is returned. Those two
 * must be exactly 4 bytes; Acknowledgement, Window Acknowledgement Size and
 * Set Peer Bandwidth at least 4, User Control at least 2 (checked at the
 * header, before anything is allocated).
 */
#ifndef OA_RTMP_CHUNK_H
#define OA_RTMP_CHUNK_H

#include "core/buf.h"
#include "core/common.h"
#include "core/packet.h"

#define RTMP_DEFAULT_CHUNK_SIZE 128
#define RTMP_MAX_CHUNK_SIZE 0x7fffffff
#define RTMP_MAX_CSIDS 64 /* distinct chunk streams one peer may use at once */

enum rtmp_msg_type {
    RTMP_MSG_SET_CHUNK_SIZE = 1,
    RTMP_MSG_ABORT = 2,
    RTMP_MSG_ACK = 3,
    RTMP_MSG_USER_CONTROL = 4,
    RTMP_MSG_WINDOW_ACK_SIZE = 5,
    RTMP_MSG_SET_PEER_BANDWIDTH = 6,
    RTMP_MSG_AUDIO = 8,
    RTMP_MSG_VIDEO = 9,
    RTMP_MSG_DATA_AMF3 = 15,
    RTMP_MSG_SHARED_OBJECT_AMF3 = 16,
    RTMP_MSG_COMMAND_AMF3 = 17,
    RTMP_MSG_DATA_AMF0 = 18,
    RTMP_MSG_SHARED_OBJECT_AMF0 = 19,
    RTMP_MSG_COMMAND_AMF0 = 20,
    RTMP_MSG_AGGREGATE = 22,
};

/* Chunk stream ids we use when sending. */
enum {
    RTMP_CSID_CONTROL = 2,
    RTMP_CSID_COMMAND = 3,
    RTMP_CSID_AUDIO = 4,
    RTMP_CSID_DATA = 5,
    RTMP_CSID_VIDEO = 6,
};

struct rtmp_msg {
    uint32_t csid;
    uint32_t stream_id; /* message stream id */
    struct packet *pkt; /* new reference, owned by the caller */
};

struct rtmp_chunk_stream; /* private per-csid state */

struct rtmp_chunk_reader {
    uint32_t chunk_size;  /* current incoming chunk size */
    uint32_t max_message; /* largest message accepted, in bytes */
    uint64_t bytes_in;    /* total bytes consumed, for acknowledgements */
    /* private */
    struct rtmp_chunk_stream *_streams;
    unsigned _nstreams;
    uint8_t _hdr[18]; /* a chunk header split across reads */
    unsigned _hdr_len;
    int _cur;             /* stream whose chunk payload is being read, or -1 */
    uint32_t _chunk_left; /* payload bytes left in that chunk */
    uint64_t _pending;    /* payload bytes allocated for partial messages */
    uint64_t *_pool;      /* shared count of such bytes across readers, or NULL */
    uint64_t _pool_max;
};

void rtmp_chunk_reader_init(struct rtmp_chunk_reader *r, uint32_t max_message);
void rtmp_chunk_reader_free(struct rtmp_chunk_reader *r);
/*
 * Makes r count its partial messages in *pool (borrowed; it must outlive r,
 * start at 0 and be shared only on one thread), refusing a message that
 * would take *pool past pool_max. Call before the first read.
 */
void rtmp_chunk_reader_set_pool(struct rtmp_chunk_reader *r, uint64_t *pool, uint64_t pool_max);

/*
 * Feeds p[0..len). Sets *consumed to the bytes used and returns:
 *   1  a complete message is in *msg (the caller owns msg->pkt); call again
 *      with the rest of the input,
 *   0  all input was consumed without completing a message,
 *   OA_EPROTO   malformed input (bad chunk size, csid limit, inconsistent
 *               lengths, a control message of the wrong size, ...),
 *   OA_ETOOBIG  a message longer than max_message, or partial messages
 *               over 2 * max_message,
 *   OA_EBUSY    a message that does not fit in the shared pool.
 * After an error the reader must only be freed.
 */
int rtmp_chunk_read(struct rtmp_chunk_reader *r, const uint8_t *p, size_t len, size_t *consumed,
                    struct rtmp_msg *msg);

/*
 * Appends one whole message to out as a format-0 chunk followed by format-3
 * continuation chunks of at most chunk_size payload bytes each, with extended
 * timestamps where ts >= 0xFFFFFF. csid must be 2..65599 and chunk_size
 * 1..RTMP_MAX_CHUNK_SIZE (else OA_EINVAL); len above 0xFFFFFF, or more than
 * out's ceiling allows, is OA_ETOOBIG. On failure out is unchanged.
 */
int rtmp_chunk_write(struct oa_buf *out, uint32_t chunk_size, uint32_t csid, uint8_t type,
                     uint32_t stream_id, uint32_t ts, const uint8_t *payload, size_t len);

/*
 * Builds pkt->wire for message stream id 1 (the csid follows the packet type:
 * audio, video or data) at chunk_size, unless it is already built for that
 * chunk size. Event-loop thread only. Returns 0, or OA_ETOOBIG.
 */
int rtmp_packet_wire(struct packet *pkt, uint32_t chunk_size);

/*
 * Convenience encoders for protocol control and user control messages (chunk
 * stream 2, message stream 0, time 0). A Set Chunk Size outside
 * 1..RTMP_MAX_CHUNK_SIZE is OA_EINVAL.
 */
int rtmp_write_set_chunk_size(struct oa_buf *out, uint32_t chunk_size, uint32_t size);
int rtmp_write_ack(struct oa_buf *out, uint32_t chunk_size, uint32_t seq);
int rtmp_write_window_ack_size(struct oa_buf *out, uint32_t chunk_size, uint32_t size);
int rtmp_write_peer_bandwidth(struct oa_buf *out, uint32_t chunk_size, uint32_t size,
                              uint8_t limit_type);
/* User control event with one 32-bit argument (Stream Begin = 0, EOF = 1, ...). */
int rtmp_write_user_control(struct oa_buf *out, uint32_t chunk_size, uint16_t event, uint32_t arg);

#endif
