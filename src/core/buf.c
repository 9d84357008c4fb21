/* buf.c - growable byte buffer; doubles its capacity up to its ceiling. */
#include "buf.h"
#include "alloc.h"
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void oa_buf_init(struct oa_buf *b, size_t max)
{
    b->data = NULL;
    b->len = b->cap = 0;
    b->max = max;
}

void oa_buf_free(struct oa_buf *b)
{
    oa_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

int oa_buf_reserve(struct oa_buf *b, size_t n)
{
    if (n > b->max || b->len > b->max - n)
        return OA_ETOOBIG;
    if (b->len + n <= b->cap)
        return 0;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + n)
        cap *= 2;
    if (cap > b->max)
        cap = b->max;
    b->data = oa_realloc(b->data, cap + 1);
    b->cap = cap;
    return 0;
}

int oa_buf_append(struct oa_buf *b, const void *p, size_t n)
{
    int r = oa_buf_reserve(b, n);
    if (r < 0)
        return r;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    return 0;
}

int oa_buf_append_str(struct oa_buf *b, const char *s)
{
    return oa_buf_append(b, s, strlen(s));
}

int oa_buf_append_u8(struct oa_buf *b, uint8_t v)
{
    return oa_buf_append(b, &v, 1);
}

int oa_buf_printf(struct oa_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return OA_EINVAL;
    if ((size_t)n < sizeof(small))
        return oa_buf_append(b, small, (size_t)n);
    int r = oa_buf_reserve(b, (size_t)n + 1);
    if (r < 0)
        return r;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

void oa_buf_reset(struct oa_buf *b)
{
    b->len = 0;
}

uint8_t *oa_buf_steal(struct oa_buf *b, size_t *len)
{
    uint8_t *p = b->data;
    if (len)
        *len = b->len;
    if (!p)
        p = oa_calloc(1, 1);
    b->data = NULL;
    b->len = b->cap = 0;
    return p;
}

const char *oa_buf_cstr(struct oa_buf *b)
{
    if (!b->data)
        b->data = oa_calloc(1, 1); /* cap stays 0: the byte is only for the terminator */
    b->data[b->len] = '\0';
    return (const char *)b->data;
}
