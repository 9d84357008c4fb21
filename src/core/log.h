/*
 * log.h - one line per event on stderr.
 *
 * Each line is "<UTC time> <level> <message>". The caller puts the context
 * in the message (client address, domain/app/stream), which is why every
 * subsystem has a small helper that prefixes its own. The level is tested
 * before the arguments are evaluated, so debug logging costs nothing when off.
 * Safe to call from any thread: a line is written with a single write().
 */
#ifndef OA_CORE_LOG_H
#define OA_CORE_LOG_H

#include "common.h"

#include <stdarg.h>

enum oa_log_level {
    OA_LOG_ERROR = 0,
    OA_LOG_WARN = 1,
    OA_LOG_INFO = 2,
    OA_LOG_DEBUG = 3,
};

extern int oa_log_level;

#define oa_log(level, ...)                                                                         \
    do {                                                                                           \
        if ((level) <= oa_log_level)                                                               \
            oa_log_write(level, __VA_ARGS__);                                                      \
    } while (0)

void oa_log_write(int level, const char *fmt, ...) OA_PRINTF(2, 3);
void oa_log_vwrite(int level, const char *fmt, va_list ap) OA_PRINTF(2, 0);

/* Parses "error", "warn", "info" or "debug"; returns -1 for anything else. */
int oa_log_level_parse(const char *name);

/* Routes FFmpeg's own messages (warnings and worse) through oa_log. */
void oa_log_route_ffmpeg(void);

#endif
