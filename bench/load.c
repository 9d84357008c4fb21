/*
 * load.c - onair-load's command line, its timeline and its report.
 *
 * Timeline: publishers connect and start; after --preroll seconds (so that a
 * server with a GOP cache has a keyframe to start players with) players
 * connect at --ramp per second (or one per --stagger ms); once all are
 * connected (or have failed), --warmup seconds pass and the measurement
 * window of --duration seconds begins. Server CPU time and memory are read
 * from /proc at its edges. After the window one more --behind-ms passes so
 * that frames sent inside the window can still arrive; then one JSON object
 * goes to stdout and a summary to stderr.
 *
 * The loop is libevent's, with precise timers; a 10 ms tick drives the
 * timeline and measures how late the loop itself runs (reported as the
 * tool's loop lag: when it is large, the tool, not the server, is the limit).
 */
#include "load.h"
#include "core/alloc.h"
#include "core/util.h"

#include <errno.h>
#include <event2/event.h>
#include <getopt.h>
#include <libavutil/log.h>
#include <netdb.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <sys/resource.h>
#include <unistd.h>

#define TICK_US 10000

struct opts O;
struct event_base *base;
struct sample S;
int64_t win_start_us, win_end_us;
struct hist lat_hist, ttff_hist, ttfk_hist, ttfd_hist, read_delay_hist;
int64_t mono_minus_real_us;

static void update_clock_offset(void)
{
    struct timespec r;
    int64_t m0 = oa_mono_us();
    clock_gettime(CLOCK_REALTIME, &r);
    int64_t m1 = oa_mono_us();
    mono_minus_real_us = (m0 + m1) / 2 - ((int64_t)r.tv_sec * 1000000 + r.tv_nsec / 1000);
}

enum phase { PH_PUBLISH, PH_PREROLL, PH_CONNECT, PH_WARMUP, PH_WINDOW, PH_DRAIN };

static struct {
    enum phase phase;
    int64_t phase_start;
    int64_t last_tick;
    int64_t last_check;
    struct url *play_urls;
    int started;
    int total_players;
    int64_t last_start_us;
    struct hist lag;
    struct proc_sample base_sample, start_sample, end_sample;
    long rss_max_kib;
    bool hwm_reset;
    struct rusage ru_start, ru_end;
    struct cpu_times cpu_start, cpu_end;
    uint64_t pub_frames_start, pub_frames_end;
    uint64_t bytes_start, bytes_end;
    int64_t window_us;
    struct event *tick;
    bool failed;
} T;

/* ===== small network helpers (load.h) ===== */

int url_parse(const char *s, struct url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof(*u));
    err[0] = '\0';
    const char *rest;
    if (strncmp(s, "rtmp://", 7) == 0) {
        u->proto = PROTO_RTMP;
        u->port = 1935;
        rest = s + 7;
    } else if (strncmp(s, "http://", 7) == 0) {
        u->proto = PROTO_FLV;
        u->port = 80;
        rest = s + 7;
    } else {
        oa_snprintf(err, errlen, "%s: expected rtmp:// or http://", s);
        return -1;
    }
    size_t hl = strcspn(rest, ":/");
    if (hl == 0 || hl >= sizeof(u->host)) {
        oa_snprintf(err, errlen, "%s: bad host", s);
        return -1;
    }
    memcpy(u->host, rest, hl);
    u->host[hl] = '\0';
    rest += hl;
    if (*rest == ':') {
        char port[8];
        size_t pl = strcspn(rest + 1, "/");
        long long v;
        if (pl == 0 || pl >= sizeof(port)) {
            oa_snprintf(err, errlen, "%s: bad port", s);
            return -1;
        }
        memcpy(port, rest + 1, pl);
        port[pl] = '\0';
        if (oa_parse_int(port, 1, 65535, &v) != 0) {
            oa_snprintf(err, errlen, "%s: bad port", s);
            return -1;
        }
        u->port = (int)v;
        rest += 1 + pl;
    }
    if (*rest != '/') {
        oa_snprintf(err, errlen, "%s: no path", s);
        return -1;
    }
    oa_strlcpy(u->path, rest, sizeof(u->path));
    if (u->proto == PROTO_RTMP) {
        const char *slash = strchr(rest + 1, '/');
        if (!slash || !slash[1] || (size_t)(slash - rest - 1) >= sizeof(u->app)) {
            oa_snprintf(err, errlen, "%s: expected rtmp://host[:port]/app/name", s);
            return -1;
        }
        memcpy(u->app, rest + 1, (size_t)(slash - rest - 1));
        u->app[slash - rest - 1] = '\0';
        oa_strlcpy(u->name, slash + 1, sizeof(u->name));
        oa_snprintf(u->tc_url, sizeof(u->tc_url), "rtmp://%s:%d/%s", u->host, u->port, u->app);
    }
    struct addrinfo hints, *ai = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    char port[8];
    oa_snprintf(port, sizeof(port), "%d", u->port);
    int r = getaddrinfo(u->host, port, &hints, &ai);
    if (r != 0 || !ai) {
        oa_snprintf(err, errlen, "%s: %s", u->host, gai_strerror(r));
        return -1;
    }
    memcpy(&u->addr, ai->ai_addr, ai->ai_addrlen);
    u->addrlen = ai->ai_addrlen;
    freeaddrinfo(ai);
    return 0;
}

int tcp_connect(const struct url *u)
{
    int fd = socket(u->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -errno;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, (const struct sockaddr *)&u->addr, u->addrlen) != 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        return -e;
    }
    return fd;
}

int send_or_queue(int fd, struct oa_buf *pending, const void *p, size_t len)
{
    if (fd < 0)
        return -1;
    size_t done = 0;
    if (!pending->len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && errno != EAGAIN && errno != EINTR)
            return -1;
        done = w > 0 ? (size_t)w : 0;
    }
    if (done < len && oa_buf_append(pending, (const uint8_t *)p + done, len - done) != 0)
        return -1;
    return 0;
}

int flush_pending(int fd, struct oa_buf *pending)
{
    if (fd < 0)
        return -1;
    while (pending->len) {
        ssize_t w = send(fd, pending->data, pending->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return errno == EAGAIN ? 0 : -1;
        }
        memmove(pending->data, pending->data + w, pending->len - (size_t)w);
        pending->len -= (size_t)w;
    }
    return 1;
}

void expand(const char *tmpl, int i, char *out, size_t outlen)
{
    struct oa_buf b = OA_BUF_INIT(outlen);
    const char *p = tmpl, *q;
    while ((q = strstr(p, "{i}")) != NULL) {
        oa_buf_append(&b, p, (size_t)(q - p));
        oa_buf_printf(&b, "%d", i);
        p = q + 3;
    }
    oa_buf_append_str(&b, p);
    oa_strlcpy(out, oa_buf_cstr(&b), outlen);
    oa_buf_free(&b);
}

/* ===== options ===== */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: onair-load [options]   (bench/README.md describes every option)\n"
            "  --file PATH          sample FLV (H.264 + AAC) to publish, looped in real time\n"
            "  --publish URL        rtmp://host:port/app/name; \"{i}\" is the stream index\n"
            "  --streams N          publishers (default 1)\n"
            "  --play URL           rtmp://host:port/app/name or http://host:port/app/name.flv\n"
            "  --players N          players per stream (default 0)\n"
            "  --ramp N             player connects per second (default 2000)\n"
            "  --stagger MS         connect players one at a time, MS apart\n"
            "  --preroll S          seconds between publishing and the first player (3)\n"
            "  --warmup S           seconds between the last connect and the window (5)\n"
            "  --duration S         measurement window in seconds (20)\n"
            "  --behind-ms N        a player this far behind has not kept up (1000)\n"
            "  --chunk-size N       publisher's outgoing RTMP chunk size (65536)\n"
            "  --server-pid P[,P]   server processes to read CPU time and memory of\n"
            "  --hls URL            poll this HLS playlist and time segment listing\n"
            "  --hls-interval MS    playlist poll interval (5)\n"
            "  --decode             decode video until the first picture (start times)\n"
            "  --verify             check the RTMP skimmer against rtmp_chunk_read\n"
            "  --connect-timeout S  give up on players not playing after S seconds (15)\n"
            "  --label TEXT         copied into the JSON report\n");
}

static double parse_num(const char *opt, const char *s, double lo, double hi)
{
    double v;
    if (oa_parse_double(s, &v) != 0 || v < lo || v > hi) {
        fprintf(stderr, "onair-load: %s: expected a number from %g to %g\n", opt, lo, hi);
        exit(2);
    }
    return v;
}

static void parse_opts(int argc, char **argv)
{
    static const struct option opts[] = {
        {"file", required_argument, NULL, 'f'},
        {"publish", required_argument, NULL, 'P'},
        {"streams", required_argument, NULL, 's'},
        {"play", required_argument, NULL, 'p'},
        {"players", required_argument, NULL, 'n'},
        {"ramp", required_argument, NULL, 'r'},
        {"stagger", required_argument, NULL, 'g'},
        {"preroll", required_argument, NULL, 'R'},
        {"warmup", required_argument, NULL, 'w'},
        {"duration", required_argument, NULL, 'd'},
        {"behind-ms", required_argument, NULL, 'b'},
        {"chunk-size", required_argument, NULL, 'c'},
        {"server-pid", required_argument, NULL, 'S'},
        {"hls", required_argument, NULL, 'H'},
        {"hls-interval", required_argument, NULL, 'i'},
        {"decode", no_argument, NULL, 'D'},
        {"verify", no_argument, NULL, 'V'},
        {"connect-timeout", required_argument, NULL, 't'},
        {"label", required_argument, NULL, 'l'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    O.streams = 1;
    O.ramp = 2000;
    O.preroll_s = 3;
    O.warmup_s = 5;
    O.duration_s = 20;
    O.behind_ms = 1000;
    O.chunk_size = 65536;
    O.hls_interval_ms = 5;
    O.connect_timeout_ms = 15000;
    O.label = "";
    int c;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'f':
            O.file = optarg;
            break;
        case 'P':
            O.publish = optarg;
            break;
        case 's':
            O.streams = (int)parse_num("--streams", optarg, 1, 10000);
            break;
        case 'p':
            O.play = optarg;
            break;
        case 'n':
            O.players = (int)parse_num("--players", optarg, 0, 1000000);
            break;
        case 'r':
            O.ramp = parse_num("--ramp", optarg, 1, 1e6);
            break;
        case 'g':
            O.stagger_ms = (int)parse_num("--stagger", optarg, 1, 600000);
            break;
        case 'R':
            O.preroll_s = parse_num("--preroll", optarg, 0, 3600);
            break;
        case 'w':
            O.warmup_s = parse_num("--warmup", optarg, 0, 3600);
            break;
        case 'd':
            O.duration_s = parse_num("--duration", optarg, 0.1, 86400);
            break;
        case 'b':
            O.behind_ms = (int)parse_num("--behind-ms", optarg, 1, 600000);
            break;
        case 'c':
            O.chunk_size = (uint32_t)parse_num("--chunk-size", optarg, 128, 16777215);
            break;
        case 'S':
            O.server_pid = optarg;
            break;
        case 'H':
            O.hls = optarg;
            break;
        case 'i':
            O.hls_interval_ms = (int)parse_num("--hls-interval", optarg, 1, 10000);
            break;
        case 'D':
            O.decode = true;
            break;
        case 'V':
            O.verify = true;
            break;
        case 't':
            O.connect_timeout_ms = (int)(parse_num("--connect-timeout", optarg, 1, 3600) * 1000);
            break;
        case 'l':
            O.label = optarg;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            exit(2);
        }
    }
    if (optind < argc || (!O.publish && !O.play) || (O.publish && !O.file)) {
        usage(stderr);
        exit(2);
    }
    if (O.streams > 1 &&
        ((O.publish && !strstr(O.publish, "{i}")) || (O.play && !strstr(O.play, "{i}")))) {
        fprintf(stderr, "onair-load: with --streams > 1, URLs need \"{i}\"\n");
        exit(2);
    }
}

/* ===== timeline ===== */

static void set_phase(enum phase ph, int64_t now)
{
    T.phase = ph;
    T.phase_start = now;
}

static void start_window(int64_t now)
{
    uint64_t bytes;
    win_start_us = now;
    proc_read(O.server_pid, &T.start_sample);
    T.hwm_reset = proc_reset_hwm(O.server_pid);
    T.rss_max_kib = T.start_sample.rss_kib;
    getrusage(RUSAGE_SELF, &T.ru_start);
    cpu_read(&T.cpu_start);
    publisher_stats(&T.pub_frames_start, &bytes, &(uint64_t){0});
    struct player_totals t;
    players_totals(&t);
    T.bytes_start = t.bytes;
    set_phase(PH_WINDOW, now);
}

static void end_window(int64_t now)
{
    uint64_t bytes, late;
    proc_read(O.server_pid, &T.end_sample);
    getrusage(RUSAGE_SELF, &T.ru_end);
    cpu_read(&T.cpu_end);
    players_check(now);
    publisher_stats(&T.pub_frames_end, &bytes, &late);
    struct player_totals t;
    players_totals(&t);
    T.bytes_end = t.bytes;
    win_end_us = now;
    T.window_us = now - win_start_us;
    set_phase(PH_DRAIN, now);
}

static void start_players(int64_t now)
{
    int want;
    if (O.stagger_ms)
        want = (int)((now - T.phase_start) / ((int64_t)O.stagger_ms * 1000)) + 1;
    else
        want = (int)((double)(now - T.phase_start) * O.ramp / 1e6) + 1;
    want = OA_MIN(want, T.total_players);
    while (T.started < want) {
        int stream = T.started % O.streams;
        player_start(T.started, stream, &T.play_urls[stream]);
        T.started++;
        T.last_start_us = now;
    }
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    int64_t now = oa_mono_us();
    update_clock_offset();
    if (T.phase == PH_WINDOW && T.last_tick)
        hist_add(&T.lag, now - T.last_tick - TICK_US);
    T.last_tick = now;
    double in_phase = (double)(now - T.phase_start) / 1e6;

    switch (T.phase) {
    case PH_PUBLISH: {
        int ready = 0, failed = 0;
        for (int i = 0; i < publisher_count(); i++) {
            ready += publisher_ready(publisher_get(i));
            failed += publisher_failed(publisher_get(i));
        }
        if (failed || in_phase > 15) {
            fprintf(stderr, "onair-load: %d of %d publishers failed to start\n",
                    publisher_count() - ready, publisher_count());
            T.failed = true;
            event_base_loopbreak(base);
            return;
        }
        if (ready == publisher_count()) {
            set_phase(PH_PREROLL, now);
            if (O.hls)
                hls_probe_start(O.hls);
        }
        break;
    }
    case PH_PREROLL:
        if (in_phase >= (O.publish ? O.preroll_s : 0)) {
            proc_read(O.server_pid, &T.base_sample);
            set_phase(T.total_players ? PH_CONNECT : PH_WARMUP, now);
        }
        break;
    case PH_CONNECT:
        start_players(now);
        if (T.started == T.total_players &&
            (player_pending_connects() == 0 ||
             now - T.last_start_us > (int64_t)O.connect_timeout_ms * 1000))
            set_phase(PH_WARMUP, now);
        break;
    case PH_WARMUP:
        if (in_phase >= O.warmup_s)
            start_window(now);
        break;
    case PH_WINDOW:
        if (now - T.last_check >= 100000) {
            T.last_check = now;
            players_check(now);
            struct proc_sample ps;
            proc_read(O.server_pid, &ps);
            T.rss_max_kib = OA_MAX(T.rss_max_kib, ps.rss_kib);
        }
        if (in_phase >= O.duration_s)
            end_window(now);
        break;
    case PH_DRAIN:
        if (in_phase * 1000 >= O.behind_ms)
            event_base_loopbreak(base);
        break;
    }
}

/* ===== report ===== */

static double ms(int64_t us)
{
    return us < 0 ? -1.0 : (double)us / 1000.0;
}

static void put_hist(struct oa_buf *j, const char *key, const struct hist *h)
{
    oa_buf_printf(j,
                  ",\"%s\":{\"n\":%llu,\"p50\":%.2f,\"p90\":%.2f,\"p99\":%.2f,\"max\":%.2f,"
                  "\"mean\":%.2f}",
                  key, (unsigned long long)h->n, ms(hist_quantile(h, 0.5)),
                  ms(hist_quantile(h, 0.9)), ms(hist_quantile(h, 0.99)), h->n ? ms(h->max) : -1,
                  h->n ? h->sum / (double)h->n / 1000.0 : -1);
}

static double tv_s(const struct timeval *tv)
{
    return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

static void report(void)
{
    struct player_totals t;
    players_totals(&t);
    struct oa_buf j = OA_BUF_INIT((size_t)1 << 20);
    double win_s = (double)T.window_us / 1e6;
    long hz = sysconf(_SC_CLK_TCK);
    bool have_server = T.start_sample.ok && T.end_sample.ok;
    double cpu_s =
        have_server ? (double)(T.end_sample.ticks - T.start_sample.ticks) / (double)hz : -1;
    long hwm = T.hwm_reset ? T.end_sample.hwm_kib : T.rss_max_kib;
    double per_player =
        have_server && t.connected > 0 ? (double)(hwm - T.base_sample.rss_kib) / t.connected : -1;
    double tool_cpu = tv_s(&T.ru_end.ru_utime) + tv_s(&T.ru_end.ru_stime) -
                      tv_s(&T.ru_start.ru_utime) - tv_s(&T.ru_start.ru_stime);
    uint64_t sent = T.pub_frames_end - T.pub_frames_start;
    uint64_t expected = sent * (uint64_t)O.players;
    double rx_mbps = win_s > 0 ? (double)(T.bytes_end - T.bytes_start) * 8 / win_s / 1e6 : 0;
    const char *proto = O.play ? (strncmp(O.play, "http", 4) == 0 ? "flv" : "rtmp") : "none";

    oa_buf_printf(&j,
                  "{\"label\":\"%s\",\"proto\":\"%s\",\"streams\":%d,\"players\":%d,"
                  "\"connected\":%d,\"kept_up\":%d,\"disconnected\":%d,\"failed\":%d,"
                  "\"behind\":%d,\"window_s\":%.2f,\"frames_sent\":%llu,"
                  "\"frames_expected\":%llu,\"frames_received\":%llu,\"frames_lost\":%llu,"
                  "\"frames_unmarked\":%llu,\"out_of_order\":%llu,\"parse_errors\":%llu,"
                  "\"ts_offset_ms\":[%lld,%lld]",
                  O.label, proto, O.publish ? O.streams : 0, t.players, t.connected, t.kept_up,
                  t.disconnected, t.failed, t.behind, win_s, (unsigned long long)sent,
                  (unsigned long long)expected, (unsigned long long)t.frames,
                  (unsigned long long)t.frames_lost, (unsigned long long)t.frames_unmarked,
                  (unsigned long long)t.reorders, (unsigned long long)t.parse_errors,
                  (long long)t.ts_offset_min, (long long)t.ts_offset_max);
    if (O.verify)
        oa_buf_printf(&j, ",\"verify_mismatches\":%llu", (unsigned long long)t.verify_mismatches);
    put_hist(&j, "latency_ms", &lat_hist);
    put_hist(&j, "ttff_ms", &ttff_hist);
    put_hist(&j, "ttfk_ms", &ttfk_hist);
    if (O.decode)
        put_hist(&j, "ttfd_ms", &ttfd_hist);
    oa_buf_printf(&j,
                  ",\"server\":{\"pid\":\"%s\",\"cpu_s\":%.3f,\"cpu_pct\":%.1f,"
                  "\"rss_base_kib\":%ld,\"rss_end_kib\":%ld,\"peak_rss_kib\":%ld,"
                  "\"hwm_reset\":%s,\"rss_per_player_kib\":%.2f}",
                  O.server_pid ? O.server_pid : "", cpu_s,
                  have_server && win_s > 0 ? cpu_s / win_s * 100 : -1.0, T.base_sample.rss_kib,
                  T.end_sample.rss_kib, hwm, T.hwm_reset ? "true" : "false", per_player);
    oa_buf_printf(&j,
                  ",\"tool\":{\"cpu_pct\":%.1f,\"loop_lag_ms_p99\":%.2f,\"loop_lag_ms_max\":%.2f,"
                  "\"read_delay_ms_p50\":%.2f,\"read_delay_ms_p99\":%.2f,\"kernel_stamps\":%llu,"
                  "\"rx_mbit_s\":%.1f,\"max_rss_kib\":%ld}",
                  win_s > 0 ? tool_cpu / win_s * 100 : -1.0, ms(hist_quantile(&T.lag, 0.99)),
                  T.lag.n ? ms(T.lag.max) : -1.0, ms(hist_quantile(&read_delay_hist, 0.5)),
                  ms(hist_quantile(&read_delay_hist, 0.99)), (unsigned long long)read_delay_hist.n,
                  rx_mbps, T.ru_end.ru_maxrss);
    /* Whole cores: softirq work (loopback TCP) and other processes are not in cpu_s. */
    oa_buf_append_str(&j, ",\"cpus\":[");
    for (int i = 0; i < T.cpu_end.n && i < T.cpu_start.n; i++) {
        double tot = (double)(T.cpu_end.total[i] - T.cpu_start.total[i]);
        if (tot <= 0)
            tot = 1;
        double idle = (double)(T.cpu_end.idle[i] - T.cpu_start.idle[i]);
        double sirq = (double)(T.cpu_end.softirq[i] - T.cpu_start.softirq[i]);
        double steal = (double)(T.cpu_end.steal[i] - T.cpu_start.steal[i]);
        oa_buf_printf(
            &j, "%s{\"cpu\":%d,\"busy_pct\":%.1f,\"softirq_pct\":%.1f,\"steal_pct\":%.1f}",
            i ? "," : "", i, (tot - idle) / tot * 100, sirq / tot * 100, steal / tot * 100);
        fprintf(stderr, "%score %d %.0f %% busy (softirq %.0f %%)", i ? ", " : "cores: ", i,
                (tot - idle) / tot * 100, sirq / tot * 100);
    }
    oa_buf_append_str(&j, "]");
    if (T.cpu_end.n)
        fprintf(stderr, "\n");
    hls_probe_report(&j, stderr);
    oa_buf_append_str(&j, "}\n");
    fwrite(j.data, 1, j.len, stdout);
    fflush(stdout);
    oa_buf_free(&j);

    fprintf(stderr,
            "%s%s%d players (%s): %d connected, %d kept up, %d disconnected, %d behind, "
            "%d failed\n",
            O.label, O.label[0] ? ": " : "", t.players, proto, t.connected, t.kept_up,
            t.disconnected, t.behind, t.failed);
    if (expected)
        fprintf(stderr, "frames: %llu received of %llu sent in the window, %llu lost\n",
                (unsigned long long)t.frames, (unsigned long long)expected,
                (unsigned long long)t.frames_lost);
    if (lat_hist.n)
        fprintf(stderr, "added latency ms: p50 %.2f p99 %.2f max %.2f\n",
                ms(hist_quantile(&lat_hist, 0.5)), ms(hist_quantile(&lat_hist, 0.99)),
                ms(lat_hist.max));
    if (ttff_hist.n)
        fprintf(stderr, "first frame ms: p50 %.1f max %.1f; first keyframe p50 %.1f\n",
                ms(hist_quantile(&ttff_hist, 0.5)), ms(ttff_hist.max),
                ms(hist_quantile(&ttfk_hist, 0.5)));
    if (ttfd_hist.n)
        fprintf(stderr, "first decoded picture ms: p50 %.1f max %.1f\n",
                ms(hist_quantile(&ttfd_hist, 0.5)), ms(ttfd_hist.max));
    if (have_server)
        fprintf(stderr,
                "server: %.2f s CPU in %.1f s (%.1f %%), peak RSS %ld KiB (%.1f KiB/player)\n",
                cpu_s, win_s, cpu_s / win_s * 100, hwm, per_player);
    fprintf(stderr,
            "tool: %.1f %% CPU, loop lag p99 %.2f ms, read delay p99 %.2f ms, %.0f Mbit/s "
            "received, max RSS %ld KiB\n",
            win_s > 0 ? tool_cpu / win_s * 100 : -1.0, ms(hist_quantile(&T.lag, 0.99)),
            ms(hist_quantile(&read_delay_hist, 0.99)), rx_mbps, T.ru_end.ru_maxrss);
}

int main(int argc, char **argv)
{
    char err[512];
    parse_opts(argc, argv);
    signal(SIGPIPE, SIG_IGN);
    av_log_set_level(AV_LOG_QUIET);

    /* Thousands of sockets: take every descriptor the hard limit allows. */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    int need = O.players * O.streams + O.streams + 16;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < (rlim_t)need) {
        fprintf(stderr, "onair-load: %d sockets needed, the descriptor limit is %llu\n", need,
                (unsigned long long)rl.rlim_cur);
        return 2;
    }

    if (O.file && sample_load(&S, O.file, err, sizeof(err)) != 0) {
        fprintf(stderr, "onair-load: %s\n", err);
        return 2;
    }
    hist_init(&lat_hist);
    hist_init(&ttff_hist);
    hist_init(&ttfk_hist);
    hist_init(&ttfd_hist);
    hist_init(&read_delay_hist);
    update_clock_offset();
    hist_init(&T.lag);

    struct event_config *cfg = event_config_new();
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!base) {
        fprintf(stderr, "onair-load: cannot create the event loop\n");
        return 1;
    }

    if (O.play) {
        T.play_urls = oa_calloc((size_t)O.streams, sizeof(*T.play_urls));
        for (int i = 0; i < O.streams; i++) {
            char u[1024];
            expand(O.play, i, u, sizeof(u));
            if (url_parse(u, &T.play_urls[i], err, sizeof(err)) != 0) {
                fprintf(stderr, "onair-load: --play: %s\n", err);
                return 2;
            }
        }
        T.total_players = O.players * O.streams;
    }
    int64_t now = oa_mono_us();
    if (O.publish) {
        for (int i = 0; i < O.streams; i++) {
            char s[1024];
            struct url u;
            expand(O.publish, i, s, sizeof(s));
            if (url_parse(s, &u, err, sizeof(err)) != 0 || u.proto != PROTO_RTMP) {
                fprintf(stderr, "onair-load: --publish: %s\n", err[0] ? err : "needs rtmp://");
                return 2;
            }
            publisher_new(i, &u);
        }
        set_phase(PH_PUBLISH, now);
    } else {
        set_phase(PH_PREROLL, now);
        if (O.hls)
            hls_probe_start(O.hls);
    }
    T.tick = event_new(base, -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {0, TICK_US};
    event_add(T.tick, &tv);
    event_base_dispatch(base);
    if (T.failed)
        return 1;
    report();
    return 0;
}
