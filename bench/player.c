/*
 * player.c - RTMP and HTTP-FLV players that read at line rate and never decode
 * (unless asked to, for the time to the first decoded picture).
 *
 * Thousands of players share one 256 KiB read buffer: each readable socket is
 * read into it and the bytes are skimmed at once by a resumable parser, so a
 * player holds no input buffer of its own, only its parser state. The RTMP
 * skimmer follows chunk headers (all four formats, extended timestamps,
 * interleaved chunk streams, Set Chunk Size) and keeps only the first
 * HEAD_LEN bytes of each audio or video message - enough for the codec bytes
 * and the frame marker (sample.c) - while payload bytes are skipped in bulk.
 * Whole messages are kept only for the few that need parsing (commands, user
 * control, and video while --decode waits for its first picture). The
 * HTTP-FLV skimmer does the same under a chunked (or plain) HTTP response.
 * --verify feeds every RTMP byte to the project's own chunk reader as well
 * and compares the messages, which checks the skimmer against rtmp_chunk_read.
 *
 * Accounting per video frame: the marker says which publisher sent it, its
 * sequence number and its send time. Arrival is the kernel's receive
 * timestamp of the read that completed the frame (see arrival_us()).
 * added latency = arrival - send time for
 * frames sent inside the measurement window; sequence gaps are frames lost;
 * a player is "behind" once a frame it has not received was sent more than
 * behind_ms ago (checked every 100 ms, and on each arrival).
 */
#include "load.h"
#include "core/alloc.h"
#include "core/util.h"
#include "rtmp/amf.h"
#include "rtmp/chunk.h"
#include "rtmp/handshake.h"

#include <errno.h>
#include <event2/event.h>
#include <libavcodec/avcodec.h>
#include <unistd.h>

#define HEAD_LEN 64          /* media bytes kept: codec header + marker */
#define MAX_CS 8             /* chunk streams tracked per RTMP player */
#define SMALL_MAX (64 << 10) /* largest non-media message kept whole */
#define VIDEO_MAX (16 << 20) /* largest video frame kept whole for --decode */
#define HTTP_HEAD_MAX 16384
#define READ_BUF (256 << 10)
#define READS_PER_EVENT 4 /* then let other players have the loop */

enum pl_state {
    PL_CONNECTING,
    PL_HANDSHAKE,
    PL_CONNECT,
    PL_CREATE,
    PL_PLAY,
    PL_HTTP_HEAD,
    PL_LIVE,
    PL_DONE,
};

/* One message being received: its header fields and what is kept of it. */
struct cap {
    uint8_t type;
    uint32_t ts, len, got;
    uint8_t head[HEAD_LEN];
    uint8_t *full; /* whole payload, when this message is kept */
};

struct skim_cs {
    uint32_t csid;
    uint32_t delta, sid;
    bool ext;
    bool active; /* a message is in progress */
    struct cap m;
};

struct rtmp_skim {
    uint32_t chunk_size;
    uint8_t hdr[18];
    uint8_t hdr_len;
    int8_t cur; /* chunk stream whose payload is being read, or -1 */
    uint8_t ncs;
    uint32_t chunk_left;
    struct skim_cs cs[MAX_CS];
};

enum { F_HDR, F_SKIP, F_PREV, F_TAG, F_BODY };
enum { C_SIZE, C_EXT, C_DATA, C_CRLF, C_PLAIN, C_END };

struct flv_skim {
    uint8_t cstate;
    uint8_t fstate;
    bool chunked;
    uint32_t chunk_left;
    uint32_t skip;
    uint8_t fb[16];
    uint8_t fb_len;
    struct cap m;
};

struct decoder {
    AVCodecContext *ctx;
    AVPacket *pkt;
    AVFrame *frame;
    bool keyed; /* fed a keyframe: later frames can be decoded */
};

struct verify {
    struct rtmp_chunk_reader r;
    struct {
        uint8_t type;
        uint32_t ts, len;
    } q[64];
    unsigned head, count;
};

struct player {
    int idx, stream;
    int fd;
    enum proto proto;
    enum pl_state state;
    struct url *url;
    struct event *ev;
    bool want_write;
    int64_t t_connect_us, t_first_us, t_key_us, t_dec_us;
    uint64_t bytes_in, acked;
    uint32_t ack_window;
    uint32_t stream_id;
    uint32_t last_seq;
    uint32_t frames, lost, unmarked, reorders, wrong_stream;
    int64_t ts_offset;
    bool have_offset;
    bool got_vhdr;
    bool disconnected, behind, failed;
    struct oa_buf *pending; /* output the socket did not take, rarely used */
    uint8_t *hs;            /* handshake bytes while they arrive */
    size_t hs_len;
    union {
        struct rtmp_skim r;
        struct flv_skim f;
    } u;
    struct decoder *dec;
    struct verify *ver;
};

static struct player **players;
static int nplayers, nconnecting;
static uint8_t *rbuf;
static uint64_t parse_errors, verify_mismatches;
static const struct amf_limits lim = {16, 4096};

static void player_close(struct player *p, bool by_server, const char *why);
static void on_event(evutil_socket_t fd, short what, void *arg);
static int closes_logged;

/* ===== output ===== */

static void set_events(struct player *p, bool want_write)
{
    if (p->want_write == want_write || p->fd < 0)
        return;
    event_del(p->ev);
    short what = (short)(EV_READ | EV_PERSIST | (want_write ? EV_WRITE : 0));
    event_assign(p->ev, base, p->fd, what, on_event, p);
    event_add(p->ev, NULL);
    p->want_write = want_write;
}

static void psend(struct player *p, const void *data, size_t len)
{
    if (p->state == PL_DONE)
        return;
    if (!p->pending) {
        p->pending = oa_malloc(sizeof(*p->pending));
        oa_buf_init(p->pending, 1 << 20);
    }
    if (send_or_queue(p->fd, p->pending, data, len) < 0) {
        player_close(p, true, "write failed");
        return;
    }
    if (p->pending->len)
        set_events(p, true);
}

static void send_cmd(struct player *p, uint32_t sid, struct oa_buf *a)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    rtmp_chunk_write(&b, RTMP_DEFAULT_CHUNK_SIZE, RTMP_CSID_COMMAND, RTMP_MSG_COMMAND_AMF0, sid, 0,
                     a->data, a->len);
    psend(p, b.data, b.len);
    oa_buf_free(&b);
    oa_buf_reset(a);
}

/* ===== decoding (--decode) ===== */

static void dec_free(struct player *p)
{
    if (!p->dec)
        return;
    avcodec_free_context(&p->dec->ctx);
    av_packet_free(&p->dec->pkt);
    av_frame_free(&p->dec->frame);
    oa_free(p->dec);
    p->dec = NULL;
}

static void dec_config(struct player *p, const uint8_t *payload, uint32_t len)
{
    if (!p->dec || p->dec->ctx || len < 6)
        return;
    const AVCodec *c = avcodec_find_decoder(AV_CODEC_ID_H264);
    AVCodecContext *ctx = c ? avcodec_alloc_context3(c) : NULL;
    if (!ctx)
        return;
    ctx->extradata = av_mallocz(len - 5 + AV_INPUT_BUFFER_PADDING_SIZE);
    memcpy(ctx->extradata, payload + 5, len - 5);
    ctx->extradata_size = (int)(len - 5);
    ctx->thread_count = 1;
    if (avcodec_open2(ctx, c, NULL) < 0) {
        avcodec_free_context(&ctx);
        return;
    }
    p->dec->ctx = ctx;
    p->dec->pkt = av_packet_alloc();
    p->dec->frame = av_frame_alloc();
}

static void dec_frame(struct player *p, const uint8_t *payload, uint32_t len, uint32_t ts, bool key,
                      int64_t now)
{
    struct decoder *d = p->dec;
    if (!d || !d->ctx || len < 6 || !payload)
        return;
    if (!d->keyed && !key)
        return;
    d->keyed = true;
    int32_t cts = (int32_t)(oa_rb24(payload + 2) << 8) >> 8;
    if (av_new_packet(d->pkt, (int)(len - 5)) < 0)
        return;
    memcpy(d->pkt->data, payload + 5, len - 5);
    d->pkt->dts = ts;
    d->pkt->pts = (int64_t)ts + cts;
    d->pkt->flags = key ? AV_PKT_FLAG_KEY : 0;
    int r = avcodec_send_packet(d->ctx, d->pkt);
    av_packet_unref(d->pkt);
    if (r < 0)
        return;
    if (avcodec_receive_frame(d->ctx, d->frame) == 0) {
        p->t_dec_us = oa_mono_us();
        hist_add(&ttfd_hist, p->t_dec_us - p->t_connect_us);
        dec_free(p);
    }
    OA_UNUSED(now);
}

/* ===== what a player does with a message ===== */

static bool in_window(int64_t send_us)
{
    return win_start_us && send_us >= win_start_us && (!win_end_us || send_us < win_end_us);
}

static void on_video(struct player *p, const struct cap *m, int64_t now)
{
    const uint8_t *h = m->head;
    size_t hl = OA_MIN(m->len, HEAD_LEN);
    if (m->len < 2)
        return;
    bool avc = (h[0] & 0x0f) == 7;
    if (avc && h[1] == 0) {
        p->got_vhdr = true;
        if (m->full)
            dec_config(p, m->full, m->len);
        return;
    }
    if (avc && h[1] != 1)
        return;
    bool key = (h[0] >> 4) == 1;
    if (!p->t_first_us) {
        p->t_first_us = now;
        hist_add(&ttff_hist, now - p->t_connect_us);
    }
    if (key && p->got_vhdr && !p->t_key_us) {
        p->t_key_us = now;
        hist_add(&ttfk_hist, now - p->t_connect_us);
    }
    if (p->dec)
        dec_frame(p, m->full, m->len, m->ts, key, now);

    struct mark mk;
    if (!mark_parse(h, hl, &mk)) {
        p->unmarked++;
        return;
    }
    if ((int)mk.pub != p->stream) {
        p->wrong_stream++;
        return;
    }
    if (!p->have_offset) {
        p->ts_offset = (int64_t)m->ts - (int64_t)mk.ts;
        p->have_offset = true;
    }
    bool win = in_window(mk.send_us);
    if (p->last_seq && mk.seq <= p->last_seq) {
        p->reorders++;
        return;
    }
    if (p->last_seq && mk.seq > p->last_seq + 1 && win)
        p->lost += mk.seq - p->last_seq - 1;
    p->last_seq = mk.seq;
    if (win) {
        int64_t lat = now - mk.send_us;
        p->frames++;
        hist_add(&lat_hist, lat);
        if (lat > (int64_t)O.behind_ms * 1000)
            p->behind = true;
    }
}

static void send_play(struct player *p)
{
    struct oa_buf a = OA_BUF_INIT(65536);
    amf_put_cstring(&a, "play");
    amf_put_number(&a, 3);
    amf_put_null(&a);
    amf_put_cstring(&a, p->url->name);
    amf_put_number(&a, -1000);
    send_cmd(p, p->stream_id, &a);
    oa_buf_free(&a);
    /* Set Buffer Length, as FFmpeg sends it: stream id and milliseconds. */
    uint8_t ucm[10];
    oa_wb16(ucm, 3);
    oa_wb32(ucm + 2, p->stream_id);
    oa_wb32(ucm + 6, 3000);
    struct oa_buf b = OA_BUF_INIT(256);
    rtmp_chunk_write(&b, RTMP_DEFAULT_CHUNK_SIZE, RTMP_CSID_CONTROL, RTMP_MSG_USER_CONTROL, 0, 0,
                     ucm, sizeof(ucm));
    psend(p, b.data, b.len);
    oa_buf_free(&b);
    p->state = PL_PLAY;
}

static void on_command(struct player *p, const uint8_t *data, size_t len)
{
    struct amf_value *v = NULL;
    size_t n = 0;
    if (amf_decode_all(data, len, &lim, &v, &n) != 0 || n < 2) {
        amf_values_free(v, n);
        return;
    }
    const char *name = amf_as_string(&v[0]);
    double txn = amf_as_number(&v[1], -1);
    if (!name) {
    } else if (strcmp(name, "_result") == 0 && txn == 1 && p->state == PL_CONNECT) {
        struct oa_buf a = OA_BUF_INIT(4096);
        amf_put_cstring(&a, "createStream");
        amf_put_number(&a, 2);
        amf_put_null(&a);
        send_cmd(p, 0, &a);
        oa_buf_free(&a);
        p->state = PL_CREATE;
    } else if (strcmp(name, "_result") == 0 && txn == 2 && p->state == PL_CREATE) {
        p->stream_id = n > 3 ? (uint32_t)amf_as_number(&v[3], 1) : 1;
        send_play(p);
    } else if (strcmp(name, "_error") == 0) {
        player_close(p, false, "server answered _error");
    } else if (strcmp(name, "onStatus") == 0 && n > 3) {
        const char *level = amf_as_string(amf_object_get(&v[3], "level"));
        const char *code = amf_as_string(amf_object_get(&v[3], "code"));
        if (level && strcmp(level, "error") == 0)
            player_close(p, false, code ? code : "error status");
        else if (code && strcmp(code, "NetStream.Play.Start") == 0 && p->state == PL_PLAY)
            p->state = PL_LIVE;
    }
    amf_values_free(v, n);
}

static void on_rtmp_message(struct player *p, struct skim_cs *cs, int64_t now)
{
    struct cap *m = &cs->m;
    if (p->ver) {
        struct verify *vr = p->ver;
        if (vr->count == OA_ARRAY_SIZE(vr->q)) {
            verify_mismatches++; /* the library reader fell behind: cannot be */
        } else {
            unsigned i = (vr->head + vr->count++) % OA_ARRAY_SIZE(vr->q);
            vr->q[i].type = m->type;
            vr->q[i].ts = m->ts;
            vr->q[i].len = m->len;
        }
    }
    switch (m->type) {
    case RTMP_MSG_VIDEO:
        if (p->state == PL_PLAY)
            p->state = PL_LIVE;
        on_video(p, m, now);
        break;
    case RTMP_MSG_SET_CHUNK_SIZE:
        if (m->full && m->len >= 4) {
            uint32_t cs_size = oa_rb32(m->full) & 0x7fffffff;
            if (cs_size)
                p->u.r.chunk_size = cs_size;
        }
        break;
    case RTMP_MSG_WINDOW_ACK_SIZE:
        if (m->full && m->len >= 4)
            p->ack_window = oa_rb32(m->full);
        break;
    case RTMP_MSG_USER_CONTROL:
        if (m->full && m->len >= 6 && oa_rb16(m->full) == 6) {
            struct oa_buf b = OA_BUF_INIT(256);
            rtmp_write_user_control(&b, RTMP_DEFAULT_CHUNK_SIZE, 7, oa_rb32(m->full + 2));
            psend(p, b.data, b.len);
            oa_buf_free(&b);
        }
        break;
    case RTMP_MSG_COMMAND_AMF0:
        if (m->full)
            on_command(p, m->full, m->len);
        break;
    case RTMP_MSG_COMMAND_AMF3:
        if (m->full && m->len > 0)
            on_command(p, m->full + 1, m->len - 1);
        break;
    default:
        break; /* audio, metadata, acks, bandwidth */
    }
}

/* ===== message capture, shared by both skimmers ===== */

static void cap_begin(struct player *p, struct cap *m)
{
    m->got = 0;
    oa_free(m->full);
    m->full = NULL;
    bool media = m->type == RTMP_MSG_AUDIO || m->type == RTMP_MSG_VIDEO ||
                 m->type == RTMP_MSG_DATA_AMF0 || m->type == RTMP_MSG_AGGREGATE;
    if (!media && m->len <= SMALL_MAX && p->proto == PROTO_RTMP)
        m->full = oa_malloc(m->len ? m->len : 1);
    else if (m->type == RTMP_MSG_VIDEO && p->dec && m->len <= VIDEO_MAX)
        m->full = oa_malloc(m->len ? m->len : 1);
}

static void cap_bytes(struct cap *m, const uint8_t *d, size_t n)
{
    if (m->got < HEAD_LEN) {
        size_t k = OA_MIN(n, HEAD_LEN - m->got);
        memcpy(m->head + m->got, d, k);
    }
    if (m->full)
        memcpy(m->full + m->got, d, n);
    m->got += (uint32_t)n;
}

static void cap_end(struct cap *m)
{
    oa_free(m->full);
    m->full = NULL;
}

/* ===== the RTMP skimmer ===== */

static const uint8_t msg_header_len[4] = {11, 7, 3, 0};

static struct skim_cs *find_cs(struct rtmp_skim *r, uint32_t csid, bool create)
{
    for (unsigned i = 0; i < r->ncs; i++)
        if (r->cs[i].csid == csid)
            return &r->cs[i];
    if (!create || r->ncs == MAX_CS)
        return NULL;
    struct skim_cs *cs = &r->cs[r->ncs++];
    memset(cs, 0, sizeof(*cs));
    cs->csid = csid;
    return cs;
}

/* Bytes the header in r->hdr needs in all, given what is known so far. */
static unsigned header_need(struct rtmp_skim *r)
{
    if (r->hdr_len < 1)
        return 1;
    unsigned fmt = r->hdr[0] >> 6, low = r->hdr[0] & 0x3f;
    unsigned basic = low == 0 ? 2 : low == 1 ? 3 : 1;
    unsigned need = basic + msg_header_len[fmt];
    if (r->hdr_len < need)
        return need;
    if (fmt < 3) {
        if (oa_rb24(r->hdr + basic) == 0xffffff)
            need += 4;
    } else {
        uint32_t csid = low == 0   ? 64u + r->hdr[1]
                        : low == 1 ? 64u + r->hdr[1] + 256u * r->hdr[2]
                                   : low;
        struct skim_cs *cs = find_cs(r, csid, false);
        if (cs && cs->ext)
            need += 4;
    }
    return need;
}

/* Applies a complete chunk header; returns the chunk stream or NULL on a protocol error. */
static struct skim_cs *apply_header(struct player *p, struct rtmp_skim *r)
{
    const uint8_t *h = r->hdr;
    unsigned fmt = h[0] >> 6, low = h[0] & 0x3f;
    unsigned basic = low == 0 ? 2 : low == 1 ? 3 : 1;
    uint32_t csid = low == 0 ? 64u + h[1] : low == 1 ? 64u + h[1] + 256u * h[2] : low;
    struct skim_cs *cs = find_cs(r, csid, true);
    if (!cs)
        return NULL;
    const uint8_t *mh = h + basic;
    bool starts = fmt < 3 || !cs->active;
    if (fmt < 3 && cs->active)
        return NULL; /* a new header in the middle of a message */
    if (fmt < 3) {
        uint32_t t = oa_rb24(mh);
        cs->ext = t == 0xffffff;
        if (cs->ext)
            t = oa_rb32(mh + msg_header_len[fmt]);
        if (fmt == 0) {
            cs->m.ts = t;
            cs->delta = t; /* a format-3 header after format 0 repeats it (RTMP 5.3.1.2.4) */
            cs->sid = (uint32_t)mh[7] | (uint32_t)mh[8] << 8 | (uint32_t)mh[9] << 16 |
                      (uint32_t)mh[10] << 24;
        } else {
            cs->delta = t;
            cs->m.ts += t;
        }
        if (fmt <= 1) {
            cs->m.len = oa_rb24(mh + 3);
            cs->m.type = mh[6];
        }
    } else if (starts) {
        if (cs->ext)
            cs->delta = oa_rb32(mh);
        cs->m.ts += cs->delta;
    }
    if (starts) {
        cs->active = true;
        cap_begin(p, &cs->m);
    }
    return cs;
}

static int rtmp_feed(struct player *p, const uint8_t *d, size_t len, int64_t now)
{
    struct rtmp_skim *r = &p->u.r;
    while (len > 0 && p->state != PL_DONE) {
        if (r->cur < 0) {
            unsigned need;
            while ((need = header_need(r)) > r->hdr_len && len > 0) {
                size_t k = OA_MIN(len, need - r->hdr_len);
                memcpy(r->hdr + r->hdr_len, d, k);
                r->hdr_len = (uint8_t)(r->hdr_len + k);
                d += k;
                len -= k;
            }
            if (need > r->hdr_len)
                return 0;
            struct skim_cs *cs = apply_header(p, r);
            r->hdr_len = 0;
            if (!cs)
                return -1;
            r->cur = (int8_t)(cs - r->cs);
            r->chunk_left = OA_MIN(r->chunk_size, cs->m.len - cs->m.got);
        }
        struct skim_cs *cs = &r->cs[r->cur];
        size_t k = OA_MIN(len, r->chunk_left);
        cap_bytes(&cs->m, d, k);
        d += k;
        len -= k;
        r->chunk_left -= (uint32_t)k;
        if (cs->m.got == cs->m.len) {
            cs->active = false;
            r->cur = -1;
            on_rtmp_message(p, cs, now);
            cap_end(&cs->m);
        } else if (r->chunk_left == 0) {
            r->cur = -1;
        }
    }
    return 0;
}

static void verify_feed(struct player *p, const uint8_t *d, size_t len)
{
    struct verify *vr = p->ver;
    while (len > 0) {
        size_t used = 0;
        struct rtmp_msg m;
        int r = rtmp_chunk_read(&vr->r, d, len, &used, &m);
        d += used;
        len -= used;
        if (r < 0) {
            verify_mismatches++;
            rtmp_chunk_reader_free(&vr->r);
            oa_free(vr);
            p->ver = NULL;
            return;
        }
        if (r == 1) {
            /* The library applies Set Chunk Size and Abort itself and returns the rest. */
            if (vr->count == 0) {
                verify_mismatches++;
            } else {
                unsigned i = vr->head;
                vr->head = (vr->head + 1) % OA_ARRAY_SIZE(vr->q);
                vr->count--;
                if (vr->q[i].type == RTMP_MSG_SET_CHUNK_SIZE && vr->count > 0 &&
                    m.pkt->type != RTMP_MSG_SET_CHUNK_SIZE) {
                    i = vr->head;
                    vr->head = (vr->head + 1) % OA_ARRAY_SIZE(vr->q);
                    vr->count--;
                }
                if (vr->q[i].type != m.pkt->type || vr->q[i].ts != m.pkt->ts ||
                    vr->q[i].len != m.pkt->size)
                    verify_mismatches++;
            }
            packet_unref(&m.pkt);
        }
    }
}

/* ===== the HTTP-FLV skimmer ===== */

static void flv_message(struct player *p, int64_t now)
{
    struct cap *m = &p->u.f.m;
    if (m->type == RTMP_MSG_VIDEO) {
        p->state = PL_LIVE;
        on_video(p, m, now);
    }
}

static int flv_body(struct player *p, const uint8_t *d, size_t len, int64_t now)
{
    struct flv_skim *f = &p->u.f;
    while (len > 0) {
        size_t k;
        switch (f->fstate) {
        case F_HDR:
        case F_PREV:
        case F_TAG: {
            unsigned need = f->fstate == F_HDR ? 9 : f->fstate == F_PREV ? 4 : 11;
            k = OA_MIN(len, need - f->fb_len);
            memcpy(f->fb + f->fb_len, d, k);
            f->fb_len = (uint8_t)(f->fb_len + k);
            d += k;
            len -= k;
            if (f->fb_len < need)
                return 0;
            f->fb_len = 0;
            if (f->fstate == F_HDR) {
                if (memcmp(f->fb, "FLV", 3) != 0 || oa_rb32(f->fb + 5) < 9)
                    return -1;
                f->skip = oa_rb32(f->fb + 5) - 9;
                f->fstate = F_SKIP;
            } else if (f->fstate == F_PREV) {
                f->fstate = F_TAG;
            } else {
                f->m.type = f->fb[0] & 0x1f;
                f->m.len = oa_rb24(f->fb + 1);
                f->m.ts = oa_rb24(f->fb + 4) | (uint32_t)f->fb[7] << 24;
                cap_begin(p, &f->m);
                f->fstate = F_BODY;
                if (f->m.len == 0) {
                    f->fstate = F_PREV;
                    cap_end(&f->m);
                }
            }
            break;
        }
        case F_SKIP:
            k = OA_MIN(len, f->skip);
            f->skip -= (uint32_t)k;
            d += k;
            len -= k;
            if (!f->skip)
                f->fstate = F_PREV;
            break;
        case F_BODY:
            k = OA_MIN(len, f->m.len - f->m.got);
            cap_bytes(&f->m, d, k);
            d += k;
            len -= k;
            if (f->m.got == f->m.len) {
                flv_message(p, now);
                cap_end(&f->m);
                f->fstate = F_PREV;
            }
            break;
        }
    }
    return 0;
}

static int flv_feed(struct player *p, const uint8_t *d, size_t len, int64_t now)
{
    struct flv_skim *f = &p->u.f;
    while (len > 0) {
        size_t k;
        switch (f->cstate) {
        case C_PLAIN:
            return flv_body(p, d, len, now);
        case C_SIZE: {
            uint8_t c = *d++;
            len--;
            if (c >= '0' && c <= '9')
                f->chunk_left = f->chunk_left * 16 + (uint32_t)(c - '0');
            else if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                f->chunk_left = f->chunk_left * 16 + (uint32_t)((c | 0x20) - 'a' + 10);
            else if (c == ';')
                f->cstate = C_EXT;
            else if (c == '\n')
                f->cstate = f->chunk_left ? C_DATA : C_END;
            else if (c != '\r')
                return -1;
            if (f->chunk_left > (1u << 30))
                return -1;
            break;
        }
        case C_EXT:
            if (*d == '\n')
                f->cstate = f->chunk_left ? C_DATA : C_END;
            d++;
            len--;
            break;
        case C_DATA:
            k = OA_MIN(len, f->chunk_left);
            if (flv_body(p, d, k, now) != 0)
                return -1;
            d += k;
            len -= k;
            f->chunk_left -= (uint32_t)k;
            if (!f->chunk_left)
                f->cstate = C_CRLF;
            break;
        case C_CRLF:
            if (*d == '\n')
                f->cstate = C_SIZE;
            d++;
            len--;
            break;
        case C_END:
            return 1;
        }
    }
    return f->cstate == C_END ? 1 : 0;
}

/* Collects the response head; returns body bytes consumed from d via *used, -1 on error. */
static int http_head(struct player *p, const uint8_t *d, size_t len, size_t *used)
{
    if (!p->hs)
        p->hs = oa_malloc(HTTP_HEAD_MAX + 1);
    size_t k = 0;
    while (k < len) {
        if (p->hs_len == HTTP_HEAD_MAX)
            return -1;
        p->hs[p->hs_len++] = d[k++];
        if (p->hs_len >= 4 && memcmp(p->hs + p->hs_len - 4, "\r\n\r\n", 4) == 0)
            break;
    }
    *used = k;
    if (p->hs_len < 4 || memcmp(p->hs + p->hs_len - 4, "\r\n\r\n", 4) != 0)
        return 0;
    p->hs[p->hs_len] = '\0';
    char *h = (char *)p->hs;
    if (strncmp(h, "HTTP/1.", 7) != 0 || strncmp(h + 8, " 200", 4) != 0) {
        char *eol = strchr(h, '\r');
        if (eol)
            *eol = '\0';
        fprintf(stderr, "onair-load: player %d: %s\n", p->idx, h);
        return -1;
    }
    for (char *c = h; *c; c++)
        *c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
    struct flv_skim *f = &p->u.f;
    f->chunked = strstr(h, "\ntransfer-encoding: chunked") != NULL;
    f->cstate = f->chunked ? C_SIZE : C_PLAIN;
    f->fstate = F_HDR;
    oa_free(p->hs);
    p->hs = NULL;
    p->hs_len = 0;
    p->state = PL_LIVE;
    return 1;
}

/* ===== connection life ===== */

static void player_close(struct player *p, bool by_server, const char *why)
{
    if (p->state == PL_DONE)
        return;
    if (p->state == PL_CONNECTING)
        nconnecting--;
    if (p->state == PL_LIVE || p->t_first_us)
        p->disconnected = true;
    else
        p->failed = true;
    /* The first few reasons are enough: thousands of players fail alike. */
    if (closes_logged++ < 5)
        fprintf(stderr, "onair-load: player %d closed%s: %s\n", p->idx,
                by_server ? " by the server" : "", why);
    p->state = PL_DONE;
    event_del(p->ev);
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    oa_free(p->hs);
    p->hs = NULL;
    if (p->proto == PROTO_RTMP) {
        for (unsigned i = 0; i < p->u.r.ncs; i++)
            cap_end(&p->u.r.cs[i].m);
    } else {
        cap_end(&p->u.f.m);
    }
    dec_free(p);
    if (p->ver) {
        rtmp_chunk_reader_free(&p->ver->r);
        oa_free(p->ver);
        p->ver = NULL;
    }
}

static void send_connect(struct player *p)
{
    struct oa_buf a = OA_BUF_INIT(65536);
    amf_put_cstring(&a, "connect");
    amf_put_number(&a, 1);
    amf_put_object_begin(&a);
    amf_put_key(&a, "app");
    amf_put_cstring(&a, p->url->app);
    amf_put_key(&a, "flashVer");
    amf_put_cstring(&a, "LNX 9,0,124,2");
    amf_put_key(&a, "tcUrl");
    amf_put_cstring(&a, p->url->tc_url);
    amf_put_key(&a, "fpad");
    amf_put_bool(&a, false);
    amf_put_key(&a, "capabilities");
    amf_put_number(&a, 15);
    amf_put_key(&a, "audioCodecs");
    amf_put_number(&a, 4071);
    amf_put_key(&a, "videoCodecs");
    amf_put_number(&a, 252);
    amf_put_key(&a, "videoFunction");
    amf_put_number(&a, 1);
    amf_put_object_end(&a);
    send_cmd(p, 0, &a);
    oa_buf_free(&a);
    p->state = PL_CONNECT;
}

static void maybe_ack(struct player *p)
{
    if (!p->ack_window || p->bytes_in - p->acked < p->ack_window)
        return;
    struct oa_buf b = OA_BUF_INIT(256);
    p->acked = p->bytes_in;
    rtmp_write_ack(&b, RTMP_DEFAULT_CHUNK_SIZE, (uint32_t)p->bytes_in);
    psend(p, b.data, b.len);
    oa_buf_free(&b);
}

static int consume(struct player *p, const uint8_t *d, size_t len, int64_t now)
{
    if (p->proto == PROTO_FLV) {
        if (p->state == PL_HTTP_HEAD) {
            size_t used = 0;
            int r = http_head(p, d, len, &used);
            if (r <= 0)
                return r;
            d += used;
            len -= used;
        }
        int r = flv_feed(p, d, len, now);
        if (r > 0) {
            player_close(p, true, "response ended");
            return 1;
        }
        return r;
    }
    if (p->state == PL_HANDSHAKE) {
        size_t want = 1 + 2 * RTMP_HANDSHAKE_SIZE;
        size_t k = OA_MIN(len, want - p->hs_len);
        memcpy(p->hs + p->hs_len, d, k);
        p->hs_len += k;
        d += k;
        len -= k;
        if (p->hs_len < want)
            return 0;
        uint8_t c2[RTMP_HANDSHAKE_SIZE];
        if (rtmp_handshake_client_finish(p->hs, c2) != 0)
            return -1;
        oa_free(p->hs);
        p->hs = NULL;
        psend(p, c2, sizeof(c2));
        send_connect(p);
    }
    /* The skimmer first: verify_feed() compares with what it queued. */
    int r = rtmp_feed(p, d, len, now);
    if (p->ver)
        verify_feed(p, d, len);
    return r;
}

/*
 * When the bytes of a read arrived: the kernel's receive timestamp of the
 * last segment read (SO_TIMESTAMPNS, CLOCK_REALTIME, mapped to the monotonic
 * clock), or the read's own time when there is none. The kernel's time keeps
 * the tool's own queueing - thousands of sockets waiting their turn in one
 * loop - out of the server's latency; read_delay_hist records that queueing.
 */
static int64_t arrival_us(struct msghdr *mh)
{
    int64_t now = oa_mono_us();
    for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_TIMESTAMPNS)
            continue;
        struct timespec ts;
        memcpy(&ts, CMSG_DATA(c), sizeof(ts));
        int64_t t = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + mono_minus_real_us;
        /* Clock steps or a stale stamp: trust the read time instead. */
        if (t > now || now - t > 10000000)
            return now;
        if (win_start_us && !win_end_us)
            hist_add(&read_delay_hist, now - t);
        return t;
    }
    return now;
}

static void on_event(evutil_socket_t fd, short what, void *arg)
{
    struct player *p = arg;
    if (p->state == PL_CONNECTING) {
        int e = 0;
        socklen_t el = sizeof(e);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) {
            player_close(p, false, strerror(e));
            return;
        }
        nconnecting--;
        p->want_write = true; /* so that set_events() switches to reading */
        set_events(p, false);
        if (p->proto == PROTO_RTMP) {
            uint8_t c0c1[1 + RTMP_HANDSHAKE_SIZE];
            rtmp_handshake_client_start(c0c1, false);
            p->hs = oa_malloc(1 + 2 * RTMP_HANDSHAKE_SIZE);
            p->hs_len = 0;
            p->state = PL_HANDSHAKE;
            psend(p, c0c1, sizeof(c0c1));
        } else {
            char req[1024];
            oa_snprintf(req, sizeof(req),
                        "GET %s HTTP/1.1\r\nHost: %s:%d\r\nUser-Agent: onair-load\r\n"
                        "Accept: */*\r\n\r\n",
                        p->url->path, p->url->host, p->url->port);
            p->state = PL_HTTP_HEAD;
            psend(p, req, strlen(req));
        }
        return;
    }
    if ((what & EV_WRITE) && p->pending) {
        int r = flush_pending(p->fd, p->pending);
        if (r < 0) {
            player_close(p, true, "write failed");
            return;
        }
        if (r > 0)
            set_events(p, false);
    }
    if (!(what & EV_READ))
        return;
    for (int i = 0; i < READS_PER_EVENT && p->state != PL_DONE; i++) {
        struct iovec iov = {rbuf, READ_BUF};
        union {
            char buf[CMSG_SPACE(sizeof(struct timespec)) * 2];
            struct cmsghdr align;
        } ctl;
        struct msghdr mh = {.msg_iov = &iov,
                            .msg_iovlen = 1,
                            .msg_control = ctl.buf,
                            .msg_controllen = sizeof(ctl.buf)};
        ssize_t n = recvmsg(fd, &mh, MSG_DONTWAIT);
        if (n == 0) {
            player_close(p, true, "server closed the connection");
            return;
        }
        if (n < 0) {
            if (errno != EAGAIN && errno != EINTR)
                player_close(p, true, strerror(errno));
            return;
        }
        int64_t now = arrival_us(&mh);
        p->bytes_in += (uint64_t)n;
        int r = consume(p, rbuf, (size_t)n, now);
        if (r < 0) {
            parse_errors++;
            player_close(p, false, "cannot parse the stream");
            return;
        }
        if (p->proto == PROTO_RTMP && p->state != PL_DONE)
            maybe_ack(p);
        if (n < READ_BUF)
            break; /* most likely drained; the loop comes back if not */
    }
}

void player_start(int idx, int stream, const struct url *u)
{
    if (!rbuf)
        rbuf = oa_malloc(READ_BUF);
    struct player *p = oa_calloc(1, sizeof(*p));
    p->idx = idx;
    p->stream = stream;
    p->proto = u->proto;
    p->url = (struct url *)u;
    p->state = PL_CONNECTING;
    if (p->proto == PROTO_RTMP) {
        p->u.r.chunk_size = RTMP_DEFAULT_CHUNK_SIZE;
        p->u.r.cur = -1;
        if (O.verify) {
            p->ver = oa_calloc(1, sizeof(*p->ver));
            rtmp_chunk_reader_init(&p->ver->r, 16 << 20);
        }
    }
    if (O.decode)
        p->dec = oa_calloc(1, sizeof(*p->dec));
    players = oa_realloc(players, (size_t)(nplayers + 1) * sizeof(*players));
    players[nplayers++] = p;
    nconnecting++;
    p->t_connect_us = oa_mono_us();
    p->fd = tcp_connect(u);
    p->ev = event_new(base, p->fd, EV_WRITE, on_event, p);
    if (p->fd < 0) {
        p->fd = -1;
        player_close(p, false, "cannot connect");
        return;
    }
    int one = 1;
    setsockopt(p->fd, SOL_SOCKET, SO_TIMESTAMPNS, &one, sizeof(one));
    event_add(p->ev, NULL);
}

int player_count(void)
{
    return nplayers;
}

int player_pending_connects(void)
{
    int n = 0;
    for (int i = 0; i < nplayers; i++)
        n += players[i]->state != PL_DONE && players[i]->state != PL_LIVE;
    return n;
}

void players_check(int64_t now_us)
{
    if (!win_start_us)
        return;
    int64_t limit = (int64_t)O.behind_ms * 1000;
    for (int i = 0; i < nplayers; i++) {
        struct player *p = players[i];
        if (p->state == PL_DONE || p->behind)
            continue;
        const struct publisher *pub = publisher_get(p->stream);
        if (!pub) {
            /* An outside publisher: all we can tell is whether video keeps coming. */
            continue;
        }
        uint32_t last = publisher_last_seq(pub);
        if (p->last_seq >= last)
            continue;
        int64_t t = publisher_send_time(pub, p->last_seq + 1);
        if (p->last_seq == 0)
            t = win_start_us;
        if (t == 0 || now_us - t > limit)
            p->behind = true;
    }
}

void players_totals(struct player_totals *t)
{
    memset(t, 0, sizeof(*t));
    t->players = nplayers;
    t->ts_offset_min = INT64_MAX;
    t->ts_offset_max = INT64_MIN;
    for (int i = 0; i < nplayers; i++) {
        struct player *p = players[i];
        bool connected = p->t_first_us != 0;
        t->connected += connected;
        t->disconnected += p->disconnected;
        t->failed += !connected && !p->disconnected;
        t->behind += p->behind;
        t->kept_up += connected && !p->disconnected && !p->behind && p->state != PL_DONE;
        t->frames += p->frames;
        t->frames_lost += p->lost;
        t->frames_unmarked += p->unmarked;
        t->reorders += p->reorders + p->wrong_stream;
        t->bytes += p->bytes_in;
        if (p->have_offset) {
            t->ts_offset_min = OA_MIN(t->ts_offset_min, p->ts_offset);
            t->ts_offset_max = OA_MAX(t->ts_offset_max, p->ts_offset);
        }
    }
    if (t->ts_offset_min == INT64_MAX)
        t->ts_offset_min = t->ts_offset_max = 0;
    t->parse_errors = parse_errors;
    t->verify_mismatches = verify_mismatches;
}
