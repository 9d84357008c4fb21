/*
 * tmpl.c - expansion of recording object-name templates: one pass over the
 * template, each "{Name}" looked up in a small table of formatters.
 */
#include "tmpl.h"
#include "core/err.h"
#include "core/util.h"
#include "record/storage.h"

#include <time.h>

struct out {
    char *p;
    size_t len, cap;
    bool overflow;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->len + n >= o->cap) {
        o->overflow = true;
        return;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void put_str(struct out *o, const char *s)
{
    put(o, s, strlen(s));
}

/* "yyyy-MM-dd-HH:mm:ss" or with '-' for ':' when escaped. */
static void put_time(struct out *o, int64_t ms, bool escaped)
{
    if (ms < 0) {
        put_str(o, "recording");
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char b[40];
    gmtime_r(&t, &tm);
    char sep = escaped ? '-' : ':';
    oa_snprintf(b, sizeof(b), "%04d-%02d-%02d-%02d%c%02d%c%02d", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, sep, tm.tm_min, sep, tm.tm_sec);
    put_str(o, b);
}

static void put_part(struct out *o, int64_t ms, char which)
{
    time_t t = (time_t)(OA_MAX(ms, 0) / 1000);
    struct tm tm;
    char b[40];
    gmtime_r(&t, &tm);
    switch (which) {
    case 'D':
        oa_snprintf(b, sizeof(b), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
        break;
    case 'H':
        oa_snprintf(b, sizeof(b), "%02d", tm.tm_hour);
        break;
    case 'M':
        oa_snprintf(b, sizeof(b), "%02d", tm.tm_min);
        break;
    default:
        oa_snprintf(b, sizeof(b), "%02d", tm.tm_sec);
        break;
    }
    put_str(o, b);
}

static void put_int(struct out *o, int64_t v)
{
    char b[32];
    oa_snprintf(b, sizeof(b), "%lld", (long long)v);
    put_str(o, b);
}

/* Expands one variable name (without braces); false if it is not one. */
static bool put_var(struct out *o, const char *name, size_t n, const struct rec_tmpl_vars *v)
{
#define IS(s) (n == sizeof(s) - 1 && memcmp(name, s, n) == 0)
    if (IS("AppName"))
        put_str(o, v->app ? v->app : "");
    else if (IS("StreamName"))
        put_str(o, v->stream ? v->stream : "");
    else if (IS("Sequence"))
        put_int(o, v->sequence);
    else if (IS("StartTime"))
        put_time(o, v->start_ms, false);
    else if (IS("EndTime"))
        put_time(o, v->end_ms, false);
    else if (IS("EscapedStartTime"))
        put_time(o, v->start_ms, true);
    else if (IS("EscapedEndTime"))
        put_time(o, v->end_ms, true);
    else if (IS("UnixTimestamp"))
        put_int(o, v->unix_ts);
    else if (IS("Date"))
        put_part(o, v->start_ms, 'D');
    else if (IS("Hour"))
        put_part(o, v->start_ms, 'H');
    else if (IS("Minute"))
        put_part(o, v->start_ms, 'M');
    else if (IS("Second"))
        put_part(o, v->start_ms, 'S');
    else
        return false;
    return true;
#undef IS
}

int rec_tmpl_expand(const char *tmpl, const struct rec_tmpl_vars *v, char *out, size_t outlen)
{
    struct out o = {out, 0, outlen, outlen == 0};
    if (outlen)
        out[0] = '\0';
    for (const char *p = tmpl; *p && !o.overflow;) {
        const char *close = *p == '{' ? strchr(p + 1, '}') : NULL;
        if (close && put_var(&o, p + 1, (size_t)(close - p - 1), v)) {
            p = close + 1;
            continue;
        }
        put(&o, p, 1);
        p++;
    }
    return o.overflow ? OA_ETOOBIG : 0;
}

int rec_object_name(const char *tmpl, const struct rec_tmpl_vars *v, const char *ext, char *out,
                    size_t outlen)
{
    int r = rec_tmpl_expand(tmpl, v, out, outlen);
    if (r)
        return r;
    char dot[16];
    oa_snprintf(dot, sizeof(dot), ".%s", ext);
    if (!oa_str_has_suffix(out, dot)) {
        size_t n = strlen(out), d = strlen(dot);
        if (n + d >= outlen)
            return OA_ETOOBIG;
        memcpy(out + n, dot, d + 1);
    }
    return storage_object_valid(out) ? 0 : OA_EINVAL;
}

static bool expands_valid(const char *tmpl)
{
    /* Names that the checks at config time cannot see are checked at record time. */
    struct rec_tmpl_vars v = {"app", "stream", 1, 1500000000000, 1500000060000, 1500000000};
    char out[REC_OBJECT_MAX];
    return rec_object_name(tmpl, &v, "flv", out, sizeof(out)) == 0;
}

bool rec_tmpl_object_ok(const char *tmpl)
{
    if (strlen(tmpl) >= REC_TMPL_MAX)
        return false;
    bool plain = strstr(tmpl, "{StartTime}") && strstr(tmpl, "{EndTime}");
    bool escaped = strstr(tmpl, "{EscapedStartTime}") && strstr(tmpl, "{EscapedEndTime}");
    return (plain || escaped) && expands_valid(tmpl);
}

bool rec_tmpl_slice_ok(const char *tmpl)
{
    return strlen(tmpl) < REC_TMPL_MAX && strstr(tmpl, "{UnixTimestamp}") &&
           strstr(tmpl, "{Sequence}") && expands_valid(tmpl);
}
