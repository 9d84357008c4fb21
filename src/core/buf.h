/*
 * buf.h - a growable byte buffer with a hard ceiling.
 *
 * Invariants: data is NULL only while cap == 0; len <= cap <= max.
 * Every append checks the ceiling first and fails with OA_ETOOBIG instead of
 * growing, so a peer can never make one of these grow without bound. A buffer
 * initialised with OA_BUF_INIT(max) is empty and owns nothing.
 */
#ifndef OA_CORE_BUF_H
#define OA_CORE_BUF_H

#include "common.h"

struct oa_buf {
    uint8_t *data;
    size_t len;
    size_t cap;
    size_t max;
};

#define OA_BUF_INIT(maxbytes)                                                                      \
    {                                                                                              \
        NULL, 0, 0, (maxbytes)                                                                     \
    }

void oa_buf_init(struct oa_buf *b, size_t max);
void oa_buf_free(struct oa_buf *b);
/* Makes room for n more bytes; 0 or OA_ETOOBIG. */
int oa_buf_reserve(struct oa_buf *b, size_t n);
int oa_buf_append(struct oa_buf *b, const void *p, size_t n);
int oa_buf_append_str(struct oa_buf *b, const char *s);
int oa_buf_append_u8(struct oa_buf *b, uint8_t v);
int oa_buf_printf(struct oa_buf *b, const char *fmt, ...) OA_PRINTF(2, 3);
/* Empties the buffer and keeps its memory. */
void oa_buf_reset(struct oa_buf *b);
/* Hands the bytes to the caller (free with oa_free) and leaves b empty. */
uint8_t *oa_buf_steal(struct oa_buf *b, size_t *len);
/* NUL-terminates (without counting it in len) and returns the text. */
const char *oa_buf_cstr(struct oa_buf *b);

#endif
