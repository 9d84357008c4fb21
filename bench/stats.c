/*
 * stats.c - latency histograms, and the server's CPU time and memory from /proc.
 *
 * A histogram has fixed buckets (10 us wide below 100 ms, 1 ms wide to 100 s)
 * so that millions of samples from thousands of players cost one increment
 * each and no memory per sample; quantiles are exact to the bucket width.
 */
#include "load.h"
#include "core/alloc.h"
#include "core/util.h"

#include <fcntl.h>
#include <unistd.h>

#define FINE_US 10
#define FINE_N 10000 /* 0 .. 100 ms */
#define COARSE_US 1000
#define COARSE_N 99900 /* 100 ms .. 100 s */
#define NBUCKETS (FINE_N + COARSE_N + 1)

void hist_init(struct hist *h)
{
    memset(h, 0, sizeof(*h));
    h->b = oa_calloc(NBUCKETS, sizeof(*h->b));
    h->min = INT64_MAX;
}

void hist_free(struct hist *h)
{
    oa_free(h->b);
    h->b = NULL;
}

void hist_add(struct hist *h, int64_t us)
{
    if (us < 0)
        us = 0;
    size_t i;
    if (us < FINE_N * FINE_US)
        i = (size_t)(us / FINE_US);
    else if (us < FINE_N * FINE_US + (int64_t)COARSE_N * COARSE_US)
        i = FINE_N + (size_t)((us - FINE_N * FINE_US) / COARSE_US);
    else
        i = NBUCKETS - 1;
    h->b[i]++;
    h->n++;
    h->sum += (double)us;
    if (us > h->max)
        h->max = us;
    if (us < h->min)
        h->min = us;
}

int64_t hist_quantile(const struct hist *h, double q)
{
    if (!h->n)
        return -1;
    uint64_t want = (uint64_t)(q * (double)h->n);
    if (want >= h->n)
        want = h->n - 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < NBUCKETS; i++) {
        seen += h->b[i];
        if (seen > want) {
            int64_t v;
            if (i < FINE_N)
                v = (int64_t)i * FINE_US + FINE_US / 2;
            else if (i < NBUCKETS - 1)
                v = FINE_N * FINE_US + (int64_t)(i - FINE_N) * COARSE_US + COARSE_US / 2;
            else
                v = h->max;
            /* The bucket's middle, but never outside what was seen. */
            return OA_MAX(OA_MIN(v, h->max), h->min);
        }
    }
    return h->max;
}

static ssize_t read_small(const char *path, char *buf, size_t len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, len - 1);
    close(fd);
    if (n < 0)
        return -1;
    buf[n] = '\0';
    return n;
}

static long status_kib(const char *status, const char *key)
{
    const char *p = strstr(status, key);
    if (!p)
        return 0;
    return strtol(p + strlen(key), NULL, 10);
}

static bool read_one(long pid, struct proc_sample *s)
{
    char path[64], buf[4096];
    oa_snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    if (read_small(path, buf, sizeof(buf)) <= 0)
        return false;
    /* The command name may hold spaces and parentheses: fields follow the last ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return false;
    p++;
    /* Fields 3.. follow; utime and stime are fields 14 and 15. */
    unsigned long long utime = 0, stime = 0;
    int field = 2;
    for (char *save = NULL, *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        field++;
        if (field == 14)
            utime = strtoull(tok, NULL, 10);
        else if (field == 15) {
            stime = strtoull(tok, NULL, 10);
            break;
        }
    }
    if (field != 15)
        return false;
    s->ticks += utime + stime;
    oa_snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    if (read_small(path, buf, sizeof(buf)) <= 0)
        return false;
    s->rss_kib += status_kib(buf, "VmRSS:");
    s->hwm_kib += status_kib(buf, "VmHWM:");
    return true;
}

void cpu_read(struct cpu_times *c)
{
    char buf[16384];
    memset(c, 0, sizeof(*c));
    if (read_small("/proc/stat", buf, sizeof(buf)) <= 0)
        return;
    /* "cpuN user nice system idle iowait irq softirq steal ..." */
    for (char *line = buf; line && c->n < MAX_CPUS; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
            continue;
        char *p = line + 3;
        strtol(p, &p, 10);
        unsigned long long v[8] = {0};
        for (int i = 0; i < 8; i++)
            v[i] = strtoull(p, &p, 10);
        int i = c->n++;
        for (int k = 0; k < 8; k++)
            c->total[i] += v[k];
        c->idle[i] = v[3] + v[4];
        c->softirq[i] = v[6];
        c->steal[i] = v[7];
    }
}

void proc_read(const char *pids, struct proc_sample *out)
{
    memset(out, 0, sizeof(*out));
    if (!pids || !*pids)
        return;
    out->ok = true;
    const char *p = pids;
    while (*p) {
        char *end;
        long pid = strtol(p, &end, 10);
        if (end == p || pid <= 0 || !read_one(pid, out)) {
            out->ok = false;
            return;
        }
        p = *end == ',' ? end + 1 : end;
    }
}

bool proc_reset_hwm(const char *pids)
{
    bool ok = pids && *pids;
    for (const char *p = pids; ok && *p;) {
        char *end, path[64];
        long pid = strtol(p, &end, 10);
        if (end == p)
            return false;
        oa_snprintf(path, sizeof(path), "/proc/%ld/clear_refs", pid);
        int fd = open(path, O_WRONLY | O_CLOEXEC);
        ok = fd >= 0 && write(fd, "5", 1) == 1;
        if (fd >= 0)
            close(fd);
        p = *end == ',' ? end + 1 : end;
    }
    return ok;
}
