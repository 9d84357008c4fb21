/*
 * load.h - onair-load, the benchmark client: shared types of its parts.
 *
 * One process, one libevent loop. Publishers (publisher.c) loop a sample FLV
 * file (sample.c) over RTMP in real time; players (player.c) read RTMP or
 * HTTP-FLV at line rate and parse just enough to find each video frame; an
 * optional probe (hls.c) polls an HLS playlist. Every video frame a publisher
 * sends carries a marker in an H.264 SEI NAL unit (see sample.c): its
 * sequence number, publisher index, RTMP timestamp and send time. A player
 * that receives the frame reads the marker back, so matching a received
 * frame to the sent one never depends on what the server does to
 * timestamps. Results are accumulated in histograms (stats.c) and reported
 * by load.c.
 */
#ifndef OA_BENCH_LOAD_H
#define OA_BENCH_LOAD_H

#include "core/buf.h"
#include "core/common.h"

#include <netinet/in.h>
#include <sys/socket.h>

struct event_base;
struct event;

/* ===== sample.c: the FLV file and the frame marker ===== */

/* The SEI NAL unit inserted at the front of every video frame. */
#define MARK_NAL_LEN 52 /* NAL bytes after the 4-byte length prefix */
#define MARK_LEN (4 + MARK_NAL_LEN)
#define MARK_OFFSET 5 /* after the FLV video tag's codec byte, packet type and cts */

struct sample_tag {
    uint8_t type; /* 8 audio, 9 video */
    bool key;     /* video keyframe */
    bool marked;  /* carries a marker at MARK_OFFSET */
    uint32_t ts;  /* ms from the start of the file */
    uint32_t len;
    uint8_t *data; /* payload (FLV tag body); marked ones have room for the marker */
};

struct sample {
    struct sample_tag *tags; /* audio and video frames in file order */
    size_t ntags;
    uint32_t duration_ms; /* one loop: last video ts plus one frame */
    uint8_t *meta;        /* onMetaData script body, or NULL */
    uint32_t meta_len;
    struct sample_tag vhdr, ahdr; /* sequence headers (len 0 if absent) */
    uint64_t bytes;               /* payload bytes of one loop */
};

struct mark {
    uint32_t seq;    /* per-publisher video frame counter, from 1 */
    uint32_t pub;    /* publisher index */
    uint32_t ts;     /* RTMP timestamp it was sent with */
    int64_t send_us; /* CLOCK_MONOTONIC when the publisher sent it */
};

int sample_load(struct sample *s, const char *path, char *err, size_t errlen);
/* Writes the marker into a marked tag's payload (the shared copy; single-threaded). */
void sample_mark(struct sample_tag *t, const struct mark *m);
/* Reads a marker from the first bytes of a video payload; false if it has none. */
bool mark_parse(const uint8_t *p, size_t len, struct mark *m);

/* ===== stats.c ===== */

/* Microsecond histogram: 10 us steps to 100 ms, 1 ms steps to 100 s, then one bucket. */
struct hist {
    uint64_t *b;
    uint64_t n;
    int64_t max, min;
    double sum;
};

void hist_init(struct hist *h);
void hist_free(struct hist *h);
void hist_add(struct hist *h, int64_t us);
/* The q-quantile (0..1) in microseconds, or -1 when empty. */
int64_t hist_quantile(const struct hist *h, double q);

struct proc_sample {
    bool ok;
    uint64_t ticks; /* utime + stime */
    long rss_kib, hwm_kib;
};

/* Per-core jiffies from /proc/stat: what the machine's cores spent their time on. */
#define MAX_CPUS 64
struct cpu_times {
    int n;
    uint64_t total[MAX_CPUS], idle[MAX_CPUS], softirq[MAX_CPUS], steal[MAX_CPUS];
};

void cpu_read(struct cpu_times *c);

/* Sums over the comma-separated pids. */
void proc_read(const char *pids, struct proc_sample *out);
/* Resets VmHWM (Linux >= 4.0; needs ptrace rights); false if refused. */
bool proc_reset_hwm(const char *pids);

/* ===== load.c: settings and global state ===== */

enum proto { PROTO_RTMP, PROTO_FLV };

struct url {
    enum proto proto;
    char host[128];
    int port;
    char app[128];  /* RTMP: first path element */
    char name[256]; /* RTMP: the rest (stream name, with query) */
    char path[512]; /* HTTP: path and query */
    char tc_url[512];
    struct sockaddr_storage addr;
    socklen_t addrlen;
};

int url_parse(const char *s, struct url *u, char *err, size_t errlen);

struct opts {
    const char *file;
    const char *publish; /* URL template, "{i}" = stream index */
    const char *play;
    const char *hls;
    int streams;
    int players; /* per stream */
    double ramp; /* player connects per second */
    int stagger_ms;
    double preroll_s, warmup_s, duration_s;
    uint32_t chunk_size; /* publisher's outgoing chunk size */
    const char *server_pid;
    const char *label;
    int hls_interval_ms;
    int behind_ms;
    bool decode;
    bool verify;
    bool reset_hwm;
    int connect_timeout_ms;
};

extern struct opts O;
extern struct event_base *base;
extern struct sample S;

/* The measurement window, CLOCK_MONOTONIC us; 0 until it starts / ends. */
extern int64_t win_start_us, win_end_us;

extern struct hist lat_hist;        /* added latency of frames sent in the window */
extern struct hist ttff_hist;       /* connect -> first video frame */
extern struct hist ttfk_hist;       /* connect -> first keyframe after a sequence header */
extern struct hist ttfd_hist;       /* connect -> first decoded picture (--decode) */
extern struct hist read_delay_hist; /* kernel receive -> the tool reading it */
/* CLOCK_MONOTONIC - CLOCK_REALTIME in us, refreshed every tick (kernel stamps are real time). */
extern int64_t mono_minus_real_us;

/* Opens a non-blocking TCP socket and starts connecting; fd or -errno. */
int tcp_connect(const struct url *u);
/* Writes all of p or queues the rest in *pending; -1 on a dead socket. */
int send_or_queue(int fd, struct oa_buf *pending, const void *p, size_t len);
/* Writes what is queued; 1 when done, 0 when the socket is full, -1 on error. */
int flush_pending(int fd, struct oa_buf *pending);
/* Replaces "{i}" in tmpl with i. */
void expand(const char *tmpl, int i, char *out, size_t outlen);

/* ===== publisher.c ===== */

struct publisher;

struct publisher *publisher_new(int idx, const struct url *u);
bool publisher_ready(const struct publisher *p);
bool publisher_failed(const struct publisher *p);
/* The send time of frame seq, or 0 if unknown (not sent or too old). */
int64_t publisher_send_time(const struct publisher *p, uint32_t seq);
/* The last frame sent and its send time. */
uint32_t publisher_last_seq(const struct publisher *p);
/* Send time of the newest keyframe sent at or before t_us, and of the one before it. */
bool publisher_keyframe_before(const struct publisher *p, int64_t t_us, int64_t *kf_us,
                               int64_t *prev_kf_us);
struct publisher *publisher_get(int idx);
int publisher_count(void);
void publisher_stats(uint64_t *frames, uint64_t *bytes, uint64_t *late_us_max);

/* ===== player.c ===== */

struct player_totals {
    int players;
    int connected;    /* reached playing and received video */
    int kept_up;      /* connected, never disconnected, never > behind_ms behind */
    int disconnected; /* closed by the server or failed after connecting */
    int failed;       /* never got to play */
    int behind;
    uint64_t frames;      /* video frames received in the window */
    uint64_t frames_lost; /* gaps in the sequence, in the window */
    uint64_t frames_unmarked;
    uint64_t bytes;
    uint64_t reorders;
    int64_t ts_offset_min, ts_offset_max; /* player ts - publisher ts, first frame */
    uint64_t parse_errors;
    uint64_t verify_mismatches;
};

void player_start(int idx, int stream, const struct url *u);
int player_count(void);
int player_pending_connects(void);
/* Called every 100 ms: marks players that are more than behind_ms behind. */
void players_check(int64_t now_us);
void players_totals(struct player_totals *t);

/* ===== hls.c ===== */

void hls_probe_start(const char *url);
/* Appends the probe's results as JSON members (leading comma included). */
void hls_probe_report(struct oa_buf *json, FILE *human);

#endif
