/*
 * common.h - what every onair source file includes first.
 *
 * Small, dependency-free macros: array sizes, min/max, printf-style attribute
 * checking, and OA_ASSERT, which stays on in release builds because a broken
 * invariant in a media server is better as a crash report than as silent
 * corruption of other people's streams. Risky libc calls are poisoned here so
 * that they cannot creep back in.
 */
#ifndef OA_CORE_COMMON_H
#define OA_CORE_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
/* Included before the poison below, which must not hit their declarations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define OA_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define OA_MIN(a, b) ((a) < (b) ? (a) : (b))
#define OA_MAX(a, b) ((a) > (b) ? (a) : (b))
#define OA_UNUSED(x) ((void)(x))

#define OA_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define OA_NORETURN __attribute__((noreturn))
#define OA_LIKELY(x) __builtin_expect(!!(x), 1)
#define OA_UNLIKELY(x) __builtin_expect(!!(x), 0)

#define oa_container_of(ptr, type, member) ((type *)((char *)(ptr)-offsetof(type, member)))

OA_NORETURN void oa_assert_fail(const char *expr, const char *file, int line);

#define OA_ASSERT(e)                                                                               \
    do {                                                                                           \
        if (OA_UNLIKELY(!(e)))                                                                     \
            oa_assert_fail(#e, __FILE__, __LINE__);                                                \
    } while (0)

/* Big-endian helpers used by every wire format we speak (RTMP, AMF, FLV, TS). */
static inline uint16_t oa_rb16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t oa_rb24(const uint8_t *p)
{
    return ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
}

static inline uint32_t oa_rb32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void oa_wb16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void oa_wb24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)v;
}

static inline void oa_wb32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* sprintf, strcpy and friends have no length; use snprintf and memcpy with sizes. */
#pragma GCC poison sprintf vsprintf strcpy strcat strtok gets atoi atol

#endif
