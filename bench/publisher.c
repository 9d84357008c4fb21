/*
 * publisher.c - publishes the sample over RTMP in real time, looping.
 *
 * The session is the one FFmpeg and OBS use: handshake, connect, releaseStream,
 * FCPublish, createStream, publish, then @setDataFrame, both sequence headers
 * and the frames. Tag k of loop L is due at start + L * duration + ts_k and is
 * sent with RTMP timestamp L * duration + ts_k, so timestamps keep increasing
 * across loops. Each video frame is stamped (sample_mark) just before it is
 * written to the socket, and its send time is also kept in a ring indexed by
 * sequence number, which tells the players' lag check when a frame they have
 * not received yet was sent. Messages go out as one format-0 chunk plus
 * continuations of chunk_size bytes (a large chunk size, like OBS's, keeps
 * the publisher's side cheap). Replies are parsed with the project's chunk
 * reader.
 */
#include "load.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/util.h"
#include "rtmp/amf.h"
#include "rtmp/chunk.h"
#include "rtmp/handshake.h"

#include <errno.h>
#include <event2/event.h>
#include <unistd.h>

#define SEND_RING 8192 /* frames: over four minutes at 30 fps */
#define KEY_RING 64
#define OUT_MAX ((size_t)256 << 20)

enum pstate { P_CONNECTING, P_HANDSHAKE, P_CONNECT, P_CREATE, P_PUBLISH, P_LIVE, P_FAILED };

struct publisher {
    int idx;
    int fd;
    enum pstate state;
    struct url url;
    struct event *rev, *wev, *timer;
    uint8_t c0c1[1 + RTMP_HANDSHAKE_SIZE];
    uint8_t hs[1 + 2 * RTMP_HANDSHAKE_SIZE];
    size_t hs_len;
    struct rtmp_chunk_reader reader;
    struct oa_buf out;
    uint32_t stream_id;
    /* pacing */
    int64_t t0_us;
    size_t next_tag;
    uint64_t loop;
    uint32_t seq;
    int64_t send_us[SEND_RING];
    int64_t key_us[KEY_RING];
    uint32_t nkeys;
    uint64_t frames, bytes;
    int64_t late_max_us;
};

static struct publisher **pubs;
static int npubs;

static const struct amf_limits lim = {16, 4096};

static void pub_fail(struct publisher *p, const char *why)
{
    if (p->state == P_FAILED)
        return;
    fprintf(stderr, "onair-load: publisher %d (%s): %s\n", p->idx, p->url.name, why);
    p->state = P_FAILED;
    event_del(p->rev);
    event_del(p->wev);
    event_del(p->timer);
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
}

static void pub_flush(struct publisher *p)
{
    int r = flush_pending(p->fd, &p->out);
    if (r < 0)
        pub_fail(p, "connection lost");
    else if (r == 0)
        event_add(p->wev, NULL);
}

static void queue(struct publisher *p, const void *data, size_t len)
{
    if (oa_buf_append(&p->out, data, len) != 0)
        pub_fail(p, "server does not read: output buffer full");
}

static void send_msg(struct publisher *p, uint32_t csid, uint8_t type, uint32_t sid, uint32_t ts,
                     const uint8_t *payload, size_t len)
{
    if (p->state == P_FAILED)
        return;
    if (rtmp_chunk_write(&p->out, O.chunk_size, csid, type, sid, ts, payload, len) != 0)
        pub_fail(p, "server does not read: output buffer full");
}

static void send_cmd(struct publisher *p, uint32_t sid, struct oa_buf *a)
{
    send_msg(p, RTMP_CSID_COMMAND, RTMP_MSG_COMMAND_AMF0, sid, 0, a->data, a->len);
    oa_buf_reset(a);
}

static void send_connect(struct publisher *p)
{
    struct oa_buf b = OA_BUF_INIT(65536), a = OA_BUF_INIT(65536);
    /* Set Chunk Size travels in the default chunk size; everything after it in ours. */
    rtmp_write_set_chunk_size(&b, RTMP_DEFAULT_CHUNK_SIZE, O.chunk_size);
    queue(p, b.data, b.len);
    amf_put_cstring(&a, "connect");
    amf_put_number(&a, 1);
    amf_put_object_begin(&a);
    amf_put_key(&a, "app");
    amf_put_cstring(&a, p->url.app);
    amf_put_key(&a, "type");
    amf_put_cstring(&a, "nonprivate");
    amf_put_key(&a, "flashVer");
    amf_put_cstring(&a, "FMLE/3.0 (compatible; onair-load)");
    amf_put_key(&a, "tcUrl");
    amf_put_cstring(&a, p->url.tc_url);
    amf_put_object_end(&a);
    send_cmd(p, 0, &a);
    oa_buf_free(&a);
    oa_buf_free(&b);
    p->state = P_CONNECT;
}

static void send_create(struct publisher *p)
{
    struct oa_buf a = OA_BUF_INIT(65536);
    amf_put_cstring(&a, "releaseStream");
    amf_put_number(&a, 2);
    amf_put_null(&a);
    amf_put_cstring(&a, p->url.name);
    send_cmd(p, 0, &a);
    amf_put_cstring(&a, "FCPublish");
    amf_put_number(&a, 3);
    amf_put_null(&a);
    amf_put_cstring(&a, p->url.name);
    send_cmd(p, 0, &a);
    amf_put_cstring(&a, "createStream");
    amf_put_number(&a, 4);
    amf_put_null(&a);
    send_cmd(p, 0, &a);
    oa_buf_free(&a);
    p->state = P_CREATE;
}

static void send_publish(struct publisher *p)
{
    struct oa_buf a = OA_BUF_INIT(65536);
    amf_put_cstring(&a, "publish");
    amf_put_number(&a, 5);
    amf_put_null(&a);
    amf_put_cstring(&a, p->url.name);
    amf_put_cstring(&a, "live");
    send_msg(p, 8, RTMP_MSG_COMMAND_AMF0, p->stream_id, 0, a.data, a.len);
    oa_buf_free(&a);
    p->state = P_PUBLISH;
}

static void schedule(struct publisher *p, int64_t now);

static void start_live(struct publisher *p)
{
    p->state = P_LIVE;
    if (S.meta) {
        struct oa_buf a = OA_BUF_INIT(1 << 20);
        amf_put_cstring(&a, "@setDataFrame");
        oa_buf_append(&a, S.meta, S.meta_len);
        send_msg(p, RTMP_CSID_DATA, RTMP_MSG_DATA_AMF0, p->stream_id, 0, a.data, a.len);
        oa_buf_free(&a);
    }
    send_msg(p, RTMP_CSID_VIDEO, RTMP_MSG_VIDEO, p->stream_id, 0, S.vhdr.data, S.vhdr.len);
    if (S.ahdr.len)
        send_msg(p, RTMP_CSID_AUDIO, RTMP_MSG_AUDIO, p->stream_id, 0, S.ahdr.data, S.ahdr.len);
    p->t0_us = oa_mono_us();
    schedule(p, p->t0_us);
}

static int64_t due_us(const struct publisher *p)
{
    const struct sample_tag *t = &S.tags[p->next_tag];
    return p->t0_us + ((int64_t)p->loop * S.duration_ms + t->ts) * 1000;
}

/* Sends every tag that is due, then sleeps until the next one. */
static void schedule(struct publisher *p, int64_t now)
{
    while (p->state == P_LIVE && due_us(p) <= now) {
        struct sample_tag *t = &S.tags[p->next_tag];
        uint32_t ts = (uint32_t)(p->loop * S.duration_ms + t->ts);
        int64_t late = now - due_us(p);
        if (late > p->late_max_us)
            p->late_max_us = late;
        if (t->marked) {
            struct mark m = {++p->seq, (uint32_t)p->idx, ts, oa_mono_us()};
            sample_mark(t, &m);
            p->send_us[m.seq % SEND_RING] = m.send_us;
            if (t->key)
                p->key_us[p->nkeys++ % KEY_RING] = m.send_us;
            p->frames++;
        }
        send_msg(p, t->type == 9 ? RTMP_CSID_VIDEO : RTMP_CSID_AUDIO, t->type, p->stream_id, ts,
                 t->data, t->len);
        p->bytes += t->len;
        /* Send each frame as it is stamped, so its send time is when it left. */
        pub_flush(p);
        if (++p->next_tag == S.ntags) {
            p->next_tag = 0;
            p->loop++;
        }
    }
    if (p->state != P_LIVE)
        return;
    int64_t wait = due_us(p) - oa_mono_us();
    if (wait < 0)
        wait = 0;
    struct timeval tv = {(time_t)(wait / 1000000), (suseconds_t)(wait % 1000000)};
    event_add(p->timer, &tv);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    schedule(arg, oa_mono_us());
}

static void on_command(struct publisher *p, const uint8_t *data, size_t len)
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
    } else if (strcmp(name, "_result") == 0 && txn == 1 && p->state == P_CONNECT) {
        send_create(p);
    } else if (strcmp(name, "_result") == 0 && txn == 4 && p->state == P_CREATE) {
        p->stream_id = n > 3 ? (uint32_t)amf_as_number(&v[3], 1) : 1;
        send_publish(p);
    } else if (strcmp(name, "_error") == 0 && (txn == 1 || txn == 4 || txn == 5)) {
        pub_fail(p, "server answered _error");
    } else if (strcmp(name, "onStatus") == 0 && n > 3) {
        const char *code = amf_as_string(amf_object_get(&v[3], "code"));
        const char *level = amf_as_string(amf_object_get(&v[3], "level"));
        if (code && strcmp(code, "NetStream.Publish.Start") == 0 && p->state == P_PUBLISH)
            start_live(p);
        else if (level && strcmp(level, "error") == 0)
            pub_fail(p, code ? code : "error status");
    }
    amf_values_free(v, n);
}

static void on_message(struct publisher *p, struct rtmp_msg *m)
{
    struct packet *pkt = m->pkt;
    if (pkt->type == RTMP_MSG_COMMAND_AMF0)
        on_command(p, pkt->data, pkt->size);
    else if (pkt->type == RTMP_MSG_COMMAND_AMF3 && pkt->size > 0)
        on_command(p, pkt->data + 1, pkt->size - 1);
    else if (pkt->type == RTMP_MSG_USER_CONTROL && pkt->size >= 6 && oa_rb16(pkt->data) == 6) {
        struct oa_buf b = OA_BUF_INIT(256);
        rtmp_write_user_control(&b, O.chunk_size, 7, oa_rb32(pkt->data + 2));
        queue(p, b.data, b.len);
        oa_buf_free(&b);
    }
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
    struct publisher *p = arg;
    uint8_t buf[65536];
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        pub_fail(p, n == 0 ? "server closed the connection" : strerror(errno));
        return;
    }
    if (n < 0)
        return;
    const uint8_t *q = buf;
    size_t left = (size_t)n;
    if (p->state == P_HANDSHAKE) {
        size_t take = OA_MIN(left, sizeof(p->hs) - p->hs_len);
        memcpy(p->hs + p->hs_len, q, take);
        p->hs_len += take;
        q += take;
        left -= take;
        if (p->hs_len < sizeof(p->hs))
            return;
        uint8_t c2[RTMP_HANDSHAKE_SIZE];
        if (rtmp_handshake_client_finish(p->hs, c2) != 0) {
            pub_fail(p, "bad handshake reply");
            return;
        }
        queue(p, c2, sizeof(c2));
        send_connect(p);
    }
    while (left > 0 && p->state != P_FAILED) {
        size_t used = 0;
        struct rtmp_msg m;
        int r = rtmp_chunk_read(&p->reader, q, left, &used, &m);
        q += used;
        left -= used;
        if (r < 0) {
            pub_fail(p, "malformed chunk stream from the server");
            return;
        }
        if (r == 1) {
            on_message(p, &m);
            packet_unref(&m.pkt);
        }
    }
    if (p->state != P_FAILED)
        pub_flush(p);
}

static void on_write(evutil_socket_t fd, short what, void *arg)
{
    struct publisher *p = arg;
    if (p->state == P_CONNECTING) {
        int e = 0;
        socklen_t el = sizeof(e);
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el);
        if (e) {
            pub_fail(p, strerror(e));
            return;
        }
        p->state = P_HANDSHAKE;
        rtmp_handshake_client_start(p->c0c1, false);
        queue(p, p->c0c1, sizeof(p->c0c1));
        event_add(p->rev, NULL);
    }
    pub_flush(p);
}

struct publisher *publisher_new(int idx, const struct url *u)
{
    struct publisher *p = oa_calloc(1, sizeof(*p));
    p->idx = idx;
    p->url = *u;
    oa_buf_init(&p->out, OUT_MAX);
    rtmp_chunk_reader_init(&p->reader, 16 << 20);
    p->fd = tcp_connect(u);
    p->rev = event_new(base, p->fd, EV_READ | EV_PERSIST, on_read, p);
    p->wev = event_new(base, p->fd, EV_WRITE, on_write, p);
    p->timer = evtimer_new(base, on_timer, p);
    pubs = oa_realloc(pubs, (size_t)(npubs + 1) * sizeof(*pubs));
    pubs[npubs++] = p;
    if (p->fd < 0)
        pub_fail(p, strerror(-p->fd));
    else
        event_add(p->wev, NULL);
    return p;
}

bool publisher_ready(const struct publisher *p)
{
    return p->state == P_LIVE;
}

bool publisher_failed(const struct publisher *p)
{
    return p->state == P_FAILED;
}

int64_t publisher_send_time(const struct publisher *p, uint32_t seq)
{
    if (seq == 0 || seq > p->seq || p->seq - seq >= SEND_RING)
        return 0;
    return p->send_us[seq % SEND_RING];
}

uint32_t publisher_last_seq(const struct publisher *p)
{
    return p->seq;
}

bool publisher_keyframe_before(const struct publisher *p, int64_t t_us, int64_t *kf_us,
                               int64_t *prev_kf_us)
{
    uint32_t n = OA_MIN(p->nkeys, KEY_RING);
    for (uint32_t i = 0; i < n; i++) {
        uint32_t k = p->nkeys - 1 - i;
        if (p->key_us[k % KEY_RING] <= t_us) {
            *kf_us = p->key_us[k % KEY_RING];
            *prev_kf_us = i + 1 < n ? p->key_us[(k - 1) % KEY_RING] : 0;
            return true;
        }
    }
    return false;
}

struct publisher *publisher_get(int idx)
{
    return idx >= 0 && idx < npubs ? pubs[idx] : NULL;
}

int publisher_count(void)
{
    return npubs;
}

void publisher_stats(uint64_t *frames, uint64_t *bytes, uint64_t *late_us_max)
{
    *frames = *bytes = *late_us_max = 0;
    for (int i = 0; i < npubs; i++) {
        *frames += pubs[i]->frames;
        *bytes += pubs[i]->bytes;
        if ((uint64_t)pubs[i]->late_max_us > *late_us_max)
            *late_us_max = (uint64_t)pubs[i]->late_max_us;
    }
}
