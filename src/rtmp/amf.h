/*
 * amf.h - AMF0, the value encoding of RTMP commands and metadata.
 *
 * The decoder is a pure function of (bytes, length): no I/O, no logging, no
 * globals. It builds a tree of struct amf_value that the caller owns and frees
 * with amf_values_free(). Hostile input is bounded by struct amf_limits
 * (nesting depth, total number of values); strings are copied and always
 * NUL-terminated (their `len` is authoritative, since AMF strings may hold NUL).
 *
 * The encoder appends to an oa_buf and fails only with OA_ETOOBIG when the
 * buffer's ceiling would be exceeded.
 */
#ifndef OA_RTMP_AMF_H
#define OA_RTMP_AMF_H

#include "core/buf.h"
#include "core/common.h"

enum amf_type {
    AMF_NUMBER = 0x00,
    AMF_BOOLEAN = 0x01,
    AMF_STRING = 0x02,
    AMF_OBJECT = 0x03,
    AMF_NULL = 0x05,
    AMF_UNDEFINED = 0x06,
    AMF_ECMA_ARRAY = 0x08,
    AMF_OBJECT_END = 0x09,
    AMF_STRICT_ARRAY = 0x0a,
    AMF_DATE = 0x0b,
    AMF_LONG_STRING = 0x0c,
};

struct amf_prop;

struct amf_value {
    enum amf_type type;
    double num;              /* NUMBER, DATE (ms since epoch), BOOLEAN (0 or 1) */
    char *str;               /* STRING, LONG_STRING: owned, NUL-terminated */
    uint32_t len;            /* string length, or number of props / items */
    struct amf_prop *props;  /* OBJECT, ECMA_ARRAY: `len` entries */
    struct amf_value *items; /* STRICT_ARRAY: `len` entries */
};

struct amf_prop {
    char *key; /* owned, NUL-terminated */
    uint32_t key_len;
    struct amf_value value;
};

struct amf_limits {
    unsigned max_depth;  /* nesting of objects/arrays; 0 means 16 */
    unsigned max_values; /* values in the whole message; 0 means 4096 */
};

/*
 * Decodes every top-level value in p[0..len). On success returns 0 and sets
 * *vals (owned by the caller, free with amf_values_free) and *count. On
 * malformed or truncated input, or when a limit is hit, returns OA_EPROTO or
 * OA_ETOOBIG and leaves *vals NULL. Unsupported types (AMF3 switch, references,
 * XML, typed objects) are OA_EPROTO. Empty input is success with *vals NULL and
 * *count 0. Limits are OA_ETOOBIG; they apply to the whole message. An ECMA
 * array's declared count is ignored: its end marker delimits it. A DATE's time
 * zone is dropped (the encoder writes 0).
 */
int amf_decode_all(const uint8_t *p, size_t len, const struct amf_limits *lim,
                   struct amf_value **vals, size_t *count);
/*
 * As amf_decode_all, but a value it cannot decode (an unsupported type such
 * as AMF3, or malformed or truncated bytes) ends the list instead of failing
 * it: returns 1 with the values before it in *vals (owned by the caller,
 * possibly none), 0 when everything decoded, OA_ETOOBIG when a limit is hit.
 * For commands whose trailing arguments we need not understand.
 */
int amf_decode_prefix(const uint8_t *p, size_t len, const struct amf_limits *lim,
                      struct amf_value **vals, size_t *count);
/*
 * Decodes one value; *used gets the bytes consumed. Same ownership as above;
 * on failure *out is an empty AMF_NULL value (nothing to free) and *used 0.
 */
int amf_decode_one(const uint8_t *p, size_t len, const struct amf_limits *lim,
                   struct amf_value *out, size_t *used);
void amf_value_clear(struct amf_value *v);
void amf_values_free(struct amf_value *vals, size_t count);

/* Borrowed lookups; NULL when absent or when obj is not an object/ECMA array. */
const struct amf_value *amf_object_get(const struct amf_value *obj, const char *key);
/* The string of a STRING/LONG_STRING value, or NULL. */
const char *amf_as_string(const struct amf_value *v);
/* The number of a NUMBER value, or `fallback`. */
double amf_as_number(const struct amf_value *v, double fallback);

int amf_put_number(struct oa_buf *b, double v);
int amf_put_bool(struct oa_buf *b, bool v);
/* Chooses STRING or LONG_STRING by length. */
int amf_put_string(struct oa_buf *b, const char *s, size_t len);
int amf_put_cstring(struct oa_buf *b, const char *s);
int amf_put_null(struct oa_buf *b);
int amf_put_object_begin(struct oa_buf *b);
int amf_put_ecma_begin(struct oa_buf *b, uint32_t count);
/* A property name inside an object or ECMA array (no type marker). */
int amf_put_key(struct oa_buf *b, const char *key);
int amf_put_object_end(struct oa_buf *b);
/*
 * Re-encodes a decoded value (any type the decoder produces; OA_EINVAL for
 * another type in a hand-built tree). On failure b is as it was before.
 */
int amf_put_value(struct oa_buf *b, const struct amf_value *v);

#endif
