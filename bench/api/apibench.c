/*
 * apibench.c - the control API's throughput: many keep-alive connections,
 * each with one request in flight, every request v1-signed (sign.h) with a
 * fresh nonce and the current timestamp, as an SDK would send it.
 *
 *   onair-apibench --setup-accounts N --data DIR --keys FILE
 *       creates N accounts in DIR (before the server starts on it) and
 *       writes their "AccessKeyId AccessKeySecret" lines to FILE
 *   onair-apibench --url http://127.0.0.1:PORT --keys FILE [--connections 64]
 *                  [--seconds 10] [--warmup 2] [--action DescribeLiveUserDomains]
 *       runs the load and prints requests/s and latency percentiles
 *
 * Requests rotate over the accounts in FILE: limits are per account and
 * action (DescribeLiveUserDomains: 100/s each), so enough accounts keep the
 * benchmark measuring the API rather than its throttling; throttled answers
 * are counted and reported separately. Latency is from handing the request
 * to libevent to its complete response. See bench/README.md.
 */
#include "api/params.h"
#include "api/sign.h"
#include "core/alloc.h"
#include "core/buf.h"
#include "core/config.h"
#include "core/log.h"
#include "core/util.h"
#include "store/account.h"
#include "store/db.h"

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

struct key {
    char id[ACCOUNT_KEY_ID_MAX + 1];
    char secret[ACCOUNT_SECRET_MAX + 1];
};

struct conn {
    struct evhttp_connection *evcon;
    int64_t sent_us;
};

static struct {
    struct event_base *base;
    char host[256];
    int port;
    char hosthdr[300];
    const char *action;
    struct key *keys;
    size_t nkeys, next_key;
    uint64_t nonce;
    char pid_tag[32];
    char ts[21];
    time_t ts_sec;
    bool measuring, stopping;
    int64_t t_start_us, t_end_us;
    /* results, counted while measuring */
    uint64_t ok, throttled, other, errors;
    uint32_t *lat; /* microseconds */
    size_t nlat, caplat;
    int inflight;
    long long server_pid;
    double cpu_start, cpu_end; /* the server's utime + stime, seconds */
} B;

static void usage(void)
{
    fprintf(stderr, "usage: onair-apibench --setup-accounts N --data DIR --keys FILE\n"
                    "       onair-apibench --url http://HOST:PORT --keys FILE [--connections N]\n"
                    "                      [--seconds S] [--warmup S] [--action NAME]\n"
                    "                      [--server-pid PID]\n");
}

/* ===== accounts ===== */

static int setup_accounts(const char *dir, int n, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "apibench: cannot write %s\n", path);
        return 1;
    }
    oa_strlcpy(oa_cfg.data_dir, dir, sizeof(oa_cfg.data_dir));
    if (db_open(dir) || account_open_keyfile(dir)) {
        fclose(f);
        return 1;
    }
    for (int i = 0; i < n; i++) {
        char id[ACCOUNT_KEY_ID_MAX + 1], secret[ACCOUNT_SECRET_MAX + 1], name[32];
        int64_t account;
        oa_snprintf(name, sizeof(name), "bench-%d", i);
        if (account_create(name, id, secret, &account)) {
            fclose(f);
            return 1;
        }
        fprintf(f, "%s %s\n", id, secret);
    }
    db_close();
    fclose(f);
    fprintf(stderr, "apibench: %d accounts in %s, keys in %s\n", n, dir, path);
    return 0;
}

static int load_keys(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[512];
    if (!f) {
        fprintf(stderr, "apibench: cannot read %s\n", path);
        return -1;
    }
    while (fgets(line, sizeof(line), f)) {
        char *sp = strchr(line, ' ');
        if (!sp)
            continue;
        *sp = '\0';
        sp[1 + strcspn(sp + 1, "\r\n")] = '\0';
        B.keys = oa_realloc(B.keys, (B.nkeys + 1) * sizeof(*B.keys));
        oa_strlcpy(B.keys[B.nkeys].id, line, sizeof(B.keys[0].id));
        oa_strlcpy(B.keys[B.nkeys].secret, sp + 1, sizeof(B.keys[0].secret));
        B.nkeys++;
    }
    fclose(f);
    return B.nkeys ? 0 : -1;
}

/* ===== requests ===== */

static void append_pair(struct oa_buf *b, const char *k, const char *v)
{
    if (b->len > 2)
        oa_buf_append_u8(b, '&');
    api_percent_encode(b, k, strlen(k));
    oa_buf_append_u8(b, '=');
    api_percent_encode(b, v, strlen(v));
}

/* "/?<signed query>" for the next account, with a fresh nonce. */
static void build_path(struct oa_buf *path)
{
    const struct key *k = &B.keys[B.next_key++ % B.nkeys];
    char nonce[64], sig[29];
    time_t now = time(NULL);
    if (now != B.ts_sec) {
        oa_time_iso(now, B.ts);
        B.ts_sec = now;
    }
    oa_snprintf(nonce, sizeof(nonce), "%s-%llu", B.pid_tag, (unsigned long long)++B.nonce);
    /* Already in byte order, as the canonical form wants. */
    struct api_param p[] = {
        {(char *)"AccessKeyId", (char *)k->id},
        {(char *)"Action", (char *)B.action},
        {(char *)"Format", (char *)"JSON"},
        {(char *)"SignatureMethod", (char *)"HMAC-SHA1"},
        {(char *)"SignatureNonce", nonce},
        {(char *)"SignatureVersion", (char *)"1.0"},
        {(char *)"Timestamp", B.ts},
        {(char *)"Version", (char *)"2016-11-01"},
    };
    struct oa_buf sts = OA_BUF_INIT(1 << 16);
    api_sign_v1_string(&sts, "GET", p, OA_ARRAY_SIZE(p));
    api_sign_v1(k->secret, (const char *)sts.data, sts.len, sig);
    oa_buf_free(&sts);
    oa_buf_reset(path);
    oa_buf_append_str(path, "/?");
    for (size_t i = 0; i < OA_ARRAY_SIZE(p); i++)
        append_pair(path, p[i].name, p[i].value);
    append_pair(path, "Signature", sig);
}

static void send_one(struct conn *c);

static void on_response(struct evhttp_request *req, void *arg)
{
    struct conn *c = arg;
    int64_t now = oa_mono_us();
    B.inflight--;
    if (B.measuring && c->sent_us >= B.t_start_us) {
        int code = req ? evhttp_request_get_response_code(req) : 0;
        if (code == 200) {
            B.ok++;
        } else if (code == 400) {
            struct evbuffer *in = evhttp_request_get_input_buffer(req);
            bool thr = evbuffer_search(in, "\"Throttling", 11, NULL).pos >= 0;
            if (thr)
                B.throttled++;
            else
                B.other++;
        } else if (code) {
            B.other++;
        } else {
            B.errors++;
        }
        if (code) {
            if (B.nlat == B.caplat) {
                B.caplat = B.caplat ? B.caplat * 2 : 1 << 20;
                B.lat = oa_realloc(B.lat, B.caplat * sizeof(*B.lat));
            }
            B.lat[B.nlat++] = (uint32_t)OA_MIN(now - c->sent_us, (int64_t)UINT32_MAX);
        }
    }
    if (!B.stopping)
        send_one(c);
    else if (B.inflight == 0)
        event_base_loopbreak(B.base);
}

static void send_one(struct conn *c)
{
    static struct oa_buf path = OA_BUF_INIT(1 << 16);
    struct evhttp_request *req = evhttp_request_new(on_response, c);
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "Host", B.hosthdr);
    evhttp_add_header(h, "Connection", "keep-alive");
    build_path(&path);
    c->sent_us = oa_mono_us();
    if (evhttp_make_request(c->evcon, req, EVHTTP_REQ_GET, oa_buf_cstr(&path)) != 0) {
        B.errors++;
        return;
    }
    B.inflight++;
}

/* utime + stime of pid in seconds, from /proc/PID/stat; -1 if unreadable. */
static double proc_cpu(long long pid)
{
    char path[64], buf[1024];
    oa_snprintf(path, sizeof(path), "/proc/%lld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after the command's closing parenthesis: state is the 3rd, utime the 14th. */
    char *p = strrchr(buf, ')');
    unsigned long long ut = 0, st = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

static void on_phase(evutil_socket_t fd, short what, void *arg)
{
    int phase = (int)(intptr_t)arg;
    if (phase == 0) {
        B.measuring = true;
        B.t_start_us = oa_mono_us();
        if (B.server_pid)
            B.cpu_start = proc_cpu(B.server_pid);
    } else {
        B.t_end_us = oa_mono_us();
        if (B.server_pid)
            B.cpu_end = proc_cpu(B.server_pid);
        B.measuring = false;
        B.stopping = true;
        if (B.inflight == 0)
            event_base_loopbreak(B.base);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static double pct(double p)
{
    if (!B.nlat)
        return 0;
    size_t i = (size_t)ceil(p / 100.0 * (double)B.nlat);
    i = i ? i - 1 : 0;
    return B.lat[OA_MIN(i, B.nlat - 1)] / 1000.0;
}

static int parse_url(const char *url)
{
    const char *p = strncmp(url, "http://", 7) == 0 ? url + 7 : url;
    size_t n = strcspn(p, ":/");
    long long port = 80;
    if (n == 0 || n >= sizeof(B.host))
        return -1;
    memcpy(B.host, p, n);
    B.host[n] = '\0';
    if (p[n] == ':') {
        char tmp[16];
        oa_strlcpy(tmp, p + n + 1, sizeof(tmp));
        tmp[strcspn(tmp, "/")] = '\0';
        if (oa_parse_int(tmp, 1, 65535, &port) != 0)
            return -1;
    }
    B.port = (int)port;
    oa_snprintf(B.hosthdr, sizeof(B.hosthdr), "%s:%d", B.host, B.port);
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"keys", required_argument, NULL, 'k'},
        {"connections", required_argument, NULL, 'c'},
        {"seconds", required_argument, NULL, 's'},
        {"warmup", required_argument, NULL, 'w'},
        {"action", required_argument, NULL, 'a'},
        {"setup-accounts", required_argument, NULL, 'S'},
        {"data", required_argument, NULL, 'd'},
        {"server-pid", required_argument, NULL, 'p'},
        {NULL, 0, NULL, 0},
    };
    const char *url = NULL, *keys = NULL, *data = NULL;
    long long conns = 64, seconds = 10, warmup = 2, setup = 0;
    int c;
    B.action = "DescribeLiveUserDomains";
    oa_config_defaults(&oa_cfg);
    oa_log_level = OA_LOG_WARN;
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            url = optarg;
            break;
        case 'k':
            keys = optarg;
            break;
        case 'd':
            data = optarg;
            break;
        case 'a':
            B.action = optarg;
            break;
        case 'p':
            if (oa_parse_int(optarg, 1, INT32_MAX, &B.server_pid) != 0) {
                usage();
                return 2;
            }
            break;
        case 'c':
        case 's':
        case 'w':
        case 'S': {
            long long v;
            if (oa_parse_int(optarg, 0, 1000000, &v) != 0) {
                usage();
                return 2;
            }
            if (c == 'c')
                conns = v;
            else if (c == 's')
                seconds = v;
            else if (c == 'w')
                warmup = v;
            else
                setup = v;
            break;
        }
        default:
            usage();
            return 2;
        }
    }
    if (setup) {
        if (!data || !keys) {
            usage();
            return 2;
        }
        return setup_accounts(data, (int)setup, keys);
    }
    if (!url || !keys || conns < 1 || seconds < 1 || parse_url(url) != 0 || load_keys(keys) != 0) {
        usage();
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    oa_random_hex(B.pid_tag, 8);
    B.base = event_base_new();
    struct conn *cs = oa_calloc((size_t)conns, sizeof(*cs));
    for (long long i = 0; i < conns; i++) {
        cs[i].evcon = evhttp_connection_base_new(B.base, NULL, B.host, (uint16_t)B.port);
        evhttp_connection_set_timeout(cs[i].evcon, 30);
        send_one(&cs[i]);
    }
    struct timeval tw = {(time_t)warmup, 0}, te = {(time_t)(warmup + seconds), 0};
    struct event *e0 = evtimer_new(B.base, on_phase, (void *)(intptr_t)0);
    struct event *e1 = evtimer_new(B.base, on_phase, (void *)(intptr_t)1);
    evtimer_add(e0, &tw);
    evtimer_add(e1, &te);
    event_base_dispatch(B.base);

    double secs = (double)(B.t_end_us - B.t_start_us) / 1e6;
    qsort(B.lat, B.nlat, sizeof(*B.lat), cmp_u32);
    printf("onair-apibench: %s, %lld connections, %zu accounts, %.1f s measured after %lld s "
           "warm-up\n",
           B.action, conns, B.nkeys, secs, warmup);
    printf("responses: %llu ok, %llu throttled, %llu other errors, %llu failed requests\n",
           (unsigned long long)B.ok, (unsigned long long)B.throttled, (unsigned long long)B.other,
           (unsigned long long)B.errors);
    printf("throughput: %.0f requests/s (%.0f ok/s)\n", (double)B.nlat / secs, (double)B.ok / secs);
    printf("latency ms: p50 %.3f  p90 %.3f  p99 %.3f  p99.9 %.3f  max %.3f\n", pct(50), pct(90),
           pct(99), pct(99.9), B.nlat ? B.lat[B.nlat - 1] / 1000.0 : 0.0);
    if (B.server_pid && B.cpu_start >= 0 && B.cpu_end > B.cpu_start) {
        double cpu = B.cpu_end - B.cpu_start;
        /* Requests per second of server CPU: what one fully available core would serve. */
        printf("server: %.2f CPU s in the window (%.0f %% of a core), %.0f requests per CPU "
               "second, %.1f us CPU per request\n",
               cpu, 100.0 * cpu / secs, (double)B.nlat / cpu, 1e6 * cpu / (double)B.nlat);
    }

    for (long long i = 0; i < conns; i++)
        evhttp_connection_free(cs[i].evcon);
    oa_free(cs);
    event_free(e0);
    event_free(e1);
    event_base_free(B.base);
    oa_free(B.lat);
    oa_free(B.keys);
    return B.errors || B.other ? 1 : 0;
}
