/* log.c - formats a whole line in a stack buffer and writes it with one call. */
#include "log.h"

#include <libavutil/log.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/time.h>

int oa_log_level = OA_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void oa_log_vwrite(int level, const char *fmt, va_list ap)
{
    char line[2048];
    struct timeval tv;
    struct tm tm;
    size_t n;
    int r;

    gettimeofday(&tv, NULL);
    gmtime_r(&tv.tv_sec, &tm);
    n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
    r = snprintf(line + n, sizeof(line) - n, ".%03dZ %s ", (int)(tv.tv_usec / 1000),
                 level_names[level < 0   ? 0
                             : level > 3 ? 3
                                         : level]);
    if (r > 0)
        n += (size_t)r;
    r = vsnprintf(line + n, sizeof(line) - n, fmt, ap);
    if (r > 0)
        n += OA_MIN((size_t)r, sizeof(line) - n - 1);
    /* Keep one event on one line whatever the message holds. */
    while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        n--;
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '\n' || line[i] == '\r')
            line[i] = ' ';
    }
    line[n++] = '\n';
    ssize_t w = write(STDERR_FILENO, line, n);
    OA_UNUSED(w);
}

void oa_log_write(int level, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    oa_log_vwrite(level, fmt, ap);
    va_end(ap);
}

int oa_log_level_parse(const char *name)
{
    for (size_t i = 0; i < OA_ARRAY_SIZE(level_names); i++) {
        if (strcmp(name, level_names[i]) == 0)
            return (int)i;
    }
    return -1;
}

OA_PRINTF(3, 0) static void ffmpeg_log(void *avcl, int level, const char *fmt, va_list ap)
{
    char msg[1024];
    int ours;

    if (level > AV_LOG_WARNING)
        return;
    ours = level <= AV_LOG_ERROR ? OA_LOG_WARN : OA_LOG_DEBUG;
    if (ours > oa_log_level)
        return;
    vsnprintf(msg, sizeof(msg), fmt, ap);
    const char *name = "";
    if (avcl && *(AVClass **)avcl)
        name = (*(AVClass **)avcl)->item_name(avcl);
    oa_log_write(ours, "ffmpeg %s: %s", name, msg);
}

void oa_log_route_ffmpeg(void)
{
    av_log_set_callback(ffmpeg_log);
}
