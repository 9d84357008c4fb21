/*
 * hls.c - polls an HLS playlist and times when each new segment is listed.
 *
 * The playlist is fetched over one keep-alive connection, the next request
 * a random 0 to 2 * --hls-interval ms after the last answer: a fixed period
 * would lock onto the publisher's equally fixed keyframe period and turn the
 * poll's resolution into a constant bias. A segment is "listed"
 * when a response first shows a higher last media sequence number. The
 * listing happened after the previous answer was made and before this one
 * arrived; the middle of that interval is taken (and never earlier than the
 * keyframe that caused it), so the error is half a poll either way rather
 * than a whole poll one way. A segment is cut at a keyframe, so at
 * the listing time the newest keyframe publisher 0 has sent is the one that
 * closed the segment (and opens the next); the keyframe that opened the
 * listed segment is the one that closed the previous listed segment. Two
 * figures follow:
 *   listing delay          listed - sent(closing keyframe): the server's own
 *                          cost of finishing and publishing a segment;
 *   keyframe to listed     listed - sent(opening keyframe): what a keyframe
 *                          waits before a player can see its segment, about
 *                          one segment duration more.
 * The first listing seen is only a starting point (it may be old).
 */
#include "load.h"
#include "core/util.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

static struct {
    bool on;
    struct url url;
    struct evhttp_connection *conn;
    struct event *timer;
    bool in_flight;
    int64_t newest;  /* last media sequence number listed, -1 before the first */
    int64_t open_kf; /* send time of the keyframe that opened the newest segment */
    uint64_t polls, ok, listings, gaps;
    int last_status;
    int64_t first_ok_us;
    int64_t last_answer_us; /* the previous 200 answer */
    int64_t gap_sum_us;     /* between answers, for the resolution */
    struct hist listing, kf_listed;
    double target_s;
} H;

static void poll_now(void);

static void schedule_next(void)
{
    long range = 2L * O.hls_interval_ms * 1000;
    long us = random() % (range + 1);
    struct timeval tv = {us / 1000000, us % 1000000};
    evtimer_add(H.timer, &tv);
}

/* The highest media sequence number the playlist lists, or -1. */
static int64_t newest_segment(const char *text)
{
    const char *p = strstr(text, "#EXT-X-MEDIA-SEQUENCE:");
    if (!p)
        return -1;
    long long seq = strtoll(p + 22, NULL, 10);
    const char *t = strstr(text, "#EXT-X-TARGETDURATION:");
    if (t)
        H.target_s = strtod(t + 22, NULL);
    int64_t count = 0;
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > 0 && line[0] != '#' && line[0] != '\r')
            count++;
        line = eol ? eol + 1 : line + len;
    }
    return count ? seq + count - 1 : -1;
}

static void on_response(struct evhttp_request *req, void *arg)
{
    int64_t now = oa_mono_us();
    H.in_flight = false;
    schedule_next();
    if (!req) {
        H.last_status = 0;
        evhttp_connection_free(H.conn);
        H.conn = NULL;
        return;
    }
    H.last_status = evhttp_request_get_response_code(req);
    if (H.last_status != 200)
        return;
    struct evbuffer *in = evhttp_request_get_input_buffer(req);
    size_t len = evbuffer_get_length(in);
    char text[65536];
    if (len >= sizeof(text))
        len = sizeof(text) - 1;
    evbuffer_copyout(in, text, len);
    text[len] = '\0';
    H.ok++;
    if (!H.first_ok_us)
        H.first_ok_us = now;
    int64_t prev_answer = H.last_answer_us ? H.last_answer_us : now;
    H.gap_sum_us += now - prev_answer;
    H.last_answer_us = now;
    int64_t newest = newest_segment(text);
    if (newest < 0 || newest <= H.newest)
        return;
    bool first = H.newest < 0;
    if (!first && newest > H.newest + 1)
        H.gaps++;
    H.newest = newest;
    struct publisher *pub = publisher_get(0);
    int64_t kf = 0, prev_kf = 0;
    if (!pub || !publisher_keyframe_before(pub, now, &kf, &prev_kf))
        return;
    if (!first) {
        int64_t listed = (OA_MAX(prev_answer, kf) + now) / 2;
        H.listings++;
        hist_add(&H.listing, listed - kf);
        if (H.open_kf)
            hist_add(&H.kf_listed, listed - H.open_kf);
    }
    H.open_kf = first ? 0 : kf;
}

static void poll_now(void)
{
    if (H.in_flight)
        return;
    if (!H.conn) {
        H.conn = evhttp_connection_base_new(base, NULL, H.url.host, (unsigned short)H.url.port);
        if (!H.conn) {
            schedule_next();
            return;
        }
    }
    struct evhttp_request *req = evhttp_request_new(on_response, NULL);
    char host[160];
    oa_snprintf(host, sizeof(host), "%s:%d", H.url.host, H.url.port);
    evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
    if (evhttp_make_request(H.conn, req, EVHTTP_REQ_GET, H.url.path) == 0) {
        H.in_flight = true;
        H.polls++;
    } else {
        schedule_next();
    }
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    poll_now();
}

void hls_probe_start(const char *url)
{
    char err[256];
    if (url_parse(url, &H.url, err, sizeof(err)) != 0 || H.url.proto != PROTO_FLV) {
        fprintf(stderr, "onair-load: --hls: %s\n", err[0] ? err : "needs an http:// URL");
        exit(2);
    }
    H.on = true;
    H.newest = -1;
    hist_init(&H.listing);
    hist_init(&H.kf_listed);
    srandom((unsigned)oa_mono_us());
    H.timer = evtimer_new(base, on_timer, NULL);
    poll_now();
}

static double mean_gap_ms(void)
{
    return H.ok > 1 ? (double)H.gap_sum_us / (double)(H.ok - 1) / 1000 : -1.0;
}

static void put_ms(struct oa_buf *j, const char *key, const struct hist *h)
{
    oa_buf_printf(j, ",\"%s\":{\"n\":%llu,\"p50\":%.1f,\"max\":%.1f}", key,
                  (unsigned long long)h->n, h->n ? (double)hist_quantile(h, 0.5) / 1000 : -1.0,
                  h->n ? (double)h->max / 1000 : -1.0);
}

void hls_probe_report(struct oa_buf *j, FILE *human)
{
    if (!H.on)
        return;
    oa_buf_printf(j,
                  ",\"hls\":{\"polls\":%llu,\"ok\":%llu,\"last_status\":%d,\"segments\":%llu,"
                  "\"gaps\":%llu,\"target_s\":%.1f,\"interval_ms\":%d,"
                  "\"mean_answer_gap_ms\":%.2f",
                  (unsigned long long)H.polls, (unsigned long long)H.ok, H.last_status,
                  (unsigned long long)H.listings, (unsigned long long)H.gaps, H.target_s,
                  O.hls_interval_ms, mean_gap_ms());
    put_ms(j, "listing_delay_ms", &H.listing);
    put_ms(j, "keyframe_to_listed_ms", &H.kf_listed);
    oa_buf_append_str(j, "}");
    fprintf(human, "hls: %llu polls (%llu ok, last status %d), %llu new segments listed\n",
            (unsigned long long)H.polls, (unsigned long long)H.ok, H.last_status,
            (unsigned long long)H.listings);
    if (H.listing.n)
        fprintf(human,
                "hls: listing delay p50 %.1f ms max %.1f ms; keyframe to listed p50 %.1f "
                "ms max %.1f ms (answers %.1f ms apart)\n",
                (double)hist_quantile(&H.listing, 0.5) / 1000, (double)H.listing.max / 1000,
                H.kf_listed.n ? (double)hist_quantile(&H.kf_listed, 0.5) / 1000 : -1.0,
                H.kf_listed.n ? (double)H.kf_listed.max / 1000 : -1.0, mean_gap_ms());
}
