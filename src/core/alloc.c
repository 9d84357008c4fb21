/* alloc.c - abort-on-OOM wrappers around the libc allocator. */
#include "alloc.h"
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

OA_NORETURN static void oom(size_t n)
{
    fprintf(stderr, "fatal: out of memory allocating %zu bytes\n", n);
    abort();
}

void *oa_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *oa_calloc(size_t count, size_t n)
{
    void *p = calloc(count ? count : 1, n ? n : 1);
    if (!p)
        oom(count * n);
    return p;
}

void *oa_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *oa_strdup(const char *s)
{
    return oa_memdup(s, strlen(s) + 1);
}

char *oa_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *p = oa_malloc(len + 1);
    memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

void *oa_memdup(const void *p, size_t n)
{
    void *q = oa_malloc(n);
    if (n)
        memcpy(q, p, n);
    return q;
}

void oa_free(void *p)
{
    free(p);
}

void oa_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "fatal: assertion failed: %s (%s:%d)\n", expr, file, line);
    abort();
}
