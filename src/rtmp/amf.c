/*
 * amf.c - AMF0 decoder and encoder.
 *
 * The decoder is a recursive descent over a bounds-checked cursor. Every
 * length read from the input is compared with the bytes that remain before
 * anything is allocated, so a hostile length can never cause an allocation
 * larger than the input itself; the value count and nesting limits bound the
 * rest. A value is built in place and cleared on the first error, so callers
 * never see (or leak) a half-built tree.
 *
 * The encoder writes each primitive with a single append so that a failing
 * append leaves the buffer unchanged; amf_put_value() rolls the buffer back
 * itself when a nested value fails halfway.
 */
#include "rtmp/amf.h"
#include "core/alloc.h"
#include "core/err.h"

#define DEFAULT_MAX_DEPTH 16
#define DEFAULT_MAX_VALUES 4096

struct cursor {
    const uint8_t *p;
    size_t len;
    size_t pos;
    unsigned max_depth;
    unsigned max_values;
    unsigned nvalues;
};

static void cursor_init(struct cursor *c, const uint8_t *p, size_t len,
                        const struct amf_limits *lim)
{
    c->p = p;
    c->len = len;
    c->pos = 0;
    c->max_depth = lim && lim->max_depth ? lim->max_depth : DEFAULT_MAX_DEPTH;
    c->max_values = lim && lim->max_values ? lim->max_values : DEFAULT_MAX_VALUES;
    c->nvalues = 0;
}

static size_t left(const struct cursor *c)
{
    return c->len - c->pos;
}

static double read_double(const uint8_t *p)
{
    uint64_t bits = ((uint64_t)oa_rb32(p) << 32) | oa_rb32(p + 4);
    double d;
    memcpy(&d, &bits, sizeof(d));
    return d;
}

static void write_double(uint8_t *p, double d)
{
    uint64_t bits;
    memcpy(&bits, &d, sizeof(bits));
    oa_wb32(p, (uint32_t)(bits >> 32));
    oa_wb32(p + 4, (uint32_t)bits);
}

/* Reads a string body of n bytes (length prefix already consumed). */
static int read_chars(struct cursor *c, size_t n, char **out)
{
    if (n > left(c))
        return OA_EPROTO;
    char *s = oa_malloc(n + 1);
    if (n)
        memcpy(s, c->p + c->pos, n);
    s[n] = '\0';
    c->pos += n;
    *out = s;
    return 0;
}

static int read_u16_string(struct cursor *c, char **out, uint32_t *len)
{
    if (left(c) < 2)
        return OA_EPROTO;
    uint32_t n = oa_rb16(c->p + c->pos);
    c->pos += 2;
    *len = n;
    return read_chars(c, n, out);
}

static int decode_value(struct cursor *c, struct amf_value *out, unsigned depth);

/*
 * Reads "key value" pairs up to the empty key followed by the object-end
 * marker, for both anonymous objects and ECMA arrays. The declared ECMA count
 * is not trusted: encoders are known to get it wrong, and the end marker is
 * what delimits the array in every implementation.
 */
static int decode_props(struct cursor *c, struct amf_value *out, unsigned depth)
{
    uint32_t cap = 0;

    for (;;) {
        if (left(c) < 2)
            return OA_EPROTO;
        if (oa_rb16(c->p + c->pos) == 0) {
            if (left(c) < 3 || c->p[c->pos + 2] != AMF_OBJECT_END)
                return OA_EPROTO;
            c->pos += 3;
            return 0;
        }
        struct amf_prop prop = {0};
        int r = read_u16_string(c, &prop.key, &prop.key_len);
        if (r == 0)
            r = decode_value(c, &prop.value, depth);
        if (r < 0) {
            oa_free(prop.key);
            return r;
        }
        if (out->len == cap) {
            /* Bounded by max_values: every property holds at least one value. */
            cap = cap ? cap * 2 : 8;
            out->props = oa_realloc(out->props, (size_t)cap * sizeof(*out->props));
        }
        out->props[out->len++] = prop;
    }
}

static int decode_strict_array(struct cursor *c, struct amf_value *out, unsigned depth)
{
    if (left(c) < 4)
        return OA_EPROTO;
    uint32_t n = oa_rb32(c->p + c->pos);
    c->pos += 4;
    /* Each item is at least one byte, and each counts against max_values. */
    if (n > left(c))
        return OA_EPROTO;
    if (n > c->max_values - c->nvalues)
        return OA_ETOOBIG;
    if (n == 0)
        return 0;
    out->items = oa_calloc(n, sizeof(*out->items));
    for (uint32_t i = 0; i < n; i++) {
        int r = decode_value(c, &out->items[i], depth);
        /* len counts only finished items, so clearing frees exactly those. */
        if (r < 0)
            return r;
        out->len = i + 1;
    }
    return 0;
}

static int decode_body(struct cursor *c, struct amf_value *out, unsigned depth)
{
    switch (out->type) {
    case AMF_NUMBER:
        if (left(c) < 8)
            return OA_EPROTO;
        out->num = read_double(c->p + c->pos);
        c->pos += 8;
        return 0;
    case AMF_BOOLEAN:
        if (left(c) < 1)
            return OA_EPROTO;
        out->num = c->p[c->pos++] ? 1 : 0;
        return 0;
    case AMF_STRING:
        return read_u16_string(c, &out->str, &out->len);
    case AMF_LONG_STRING:
        if (left(c) < 4)
            return OA_EPROTO;
        out->len = oa_rb32(c->p + c->pos);
        c->pos += 4;
        return read_chars(c, out->len, &out->str);
    case AMF_NULL:
    case AMF_UNDEFINED:
        return 0;
    case AMF_DATE:
        /* Milliseconds, then a time zone that the format says must be ignored. */
        if (left(c) < 10)
            return OA_EPROTO;
        out->num = read_double(c->p + c->pos);
        c->pos += 10;
        return 0;
    case AMF_OBJECT:
    case AMF_ECMA_ARRAY:
    case AMF_STRICT_ARRAY:
        if (depth >= c->max_depth)
            return OA_ETOOBIG;
        if (out->type == AMF_STRICT_ARRAY)
            return decode_strict_array(c, out, depth + 1);
        if (out->type == AMF_ECMA_ARRAY) {
            if (left(c) < 4)
                return OA_EPROTO;
            c->pos += 4;
        }
        return decode_props(c, out, depth + 1);
    default:
        /* Object end out of place, references, XML, typed objects, AMF3. */
        return OA_EPROTO;
    }
}

static int decode_value(struct cursor *c, struct amf_value *out, unsigned depth)
{
    memset(out, 0, sizeof(*out));
    out->type = AMF_NULL; /* what a failed decode leaves, as amf_value_clear() does */
    if (left(c) < 1)
        return OA_EPROTO;
    if (c->nvalues >= c->max_values)
        return OA_ETOOBIG;
    c->nvalues++;
    out->type = (enum amf_type)c->p[c->pos++];
    int r = decode_body(c, out, depth);
    if (r < 0)
        amf_value_clear(out);
    return r;
}

int amf_decode_one(const uint8_t *p, size_t len, const struct amf_limits *lim,
                   struct amf_value *out, size_t *used)
{
    struct cursor c;
    cursor_init(&c, p, len, lim);
    int r = decode_value(&c, out, 0);
    *used = r < 0 ? 0 : c.pos;
    return r;
}

static int decode_many(const uint8_t *p, size_t len, const struct amf_limits *lim,
                       struct amf_value **vals, size_t *count, bool prefix)
{
    struct cursor c;
    struct amf_value *arr = NULL;
    size_t n = 0, cap = 0;

    cursor_init(&c, p, len, lim);
    *vals = NULL;
    *count = 0;
    while (left(&c) > 0) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            arr = oa_realloc(arr, cap * sizeof(*arr));
        }
        int r = decode_value(&c, &arr[n], 0);
        if (r == OA_EPROTO && prefix) {
            *vals = arr;
            *count = n;
            return 1;
        }
        if (r < 0) {
            amf_values_free(arr, n);
            return r;
        }
        n++;
    }
    *vals = arr;
    *count = n;
    return 0;
}

int amf_decode_all(const uint8_t *p, size_t len, const struct amf_limits *lim,
                   struct amf_value **vals, size_t *count)
{
    return decode_many(p, len, lim, vals, count, false);
}

int amf_decode_prefix(const uint8_t *p, size_t len, const struct amf_limits *lim,
                      struct amf_value **vals, size_t *count)
{
    return decode_many(p, len, lim, vals, count, true);
}

void amf_value_clear(struct amf_value *v)
{
    if (!v)
        return;
    oa_free(v->str);
    if (v->props) {
        for (uint32_t i = 0; i < v->len; i++) {
            oa_free(v->props[i].key);
            amf_value_clear(&v->props[i].value);
        }
        oa_free(v->props);
    }
    if (v->items) {
        for (uint32_t i = 0; i < v->len; i++)
            amf_value_clear(&v->items[i]);
        oa_free(v->items);
    }
    memset(v, 0, sizeof(*v));
    v->type = AMF_NULL;
}

void amf_values_free(struct amf_value *vals, size_t count)
{
    if (!vals)
        return;
    for (size_t i = 0; i < count; i++)
        amf_value_clear(&vals[i]);
    oa_free(vals);
}

const struct amf_value *amf_object_get(const struct amf_value *obj, const char *key)
{
    if (!obj || (obj->type != AMF_OBJECT && obj->type != AMF_ECMA_ARRAY))
        return NULL;
    size_t klen = strlen(key);
    for (uint32_t i = 0; i < obj->len; i++) {
        const struct amf_prop *pr = &obj->props[i];
        if (pr->key_len == klen && memcmp(pr->key, key, klen) == 0)
            return &pr->value;
    }
    return NULL;
}

const char *amf_as_string(const struct amf_value *v)
{
    if (!v || (v->type != AMF_STRING && v->type != AMF_LONG_STRING))
        return NULL;
    /* A decoded string always has storage; a hand-built empty one may not. */
    return v->str ? v->str : "";
}

double amf_as_number(const struct amf_value *v, double fallback)
{
    if (!v || v->type != AMF_NUMBER)
        return fallback;
    return v->num;
}

int amf_put_number(struct oa_buf *b, double v)
{
    uint8_t t[9] = {AMF_NUMBER};
    write_double(t + 1, v);
    return oa_buf_append(b, t, sizeof(t));
}

int amf_put_bool(struct oa_buf *b, bool v)
{
    uint8_t t[2] = {AMF_BOOLEAN, v ? 1 : 0};
    return oa_buf_append(b, t, sizeof(t));
}

int amf_put_string(struct oa_buf *b, const char *s, size_t len)
{
    uint8_t t[5];
    size_t hl;

    if (len <= 0xffff) {
        t[0] = AMF_STRING;
        oa_wb16(t + 1, (uint32_t)len);
        hl = 3;
    } else {
        if (len > UINT32_MAX)
            return OA_ETOOBIG;
        t[0] = AMF_LONG_STRING;
        oa_wb32(t + 1, (uint32_t)len);
        hl = 5;
    }
    /* Reserve once so that a failure leaves no marker without its body. */
    if (len > SIZE_MAX - hl)
        return OA_ETOOBIG;
    int r = oa_buf_reserve(b, hl + len);
    if (r < 0)
        return r;
    oa_buf_append(b, t, hl);
    oa_buf_append(b, s, len);
    return 0;
}

int amf_put_cstring(struct oa_buf *b, const char *s)
{
    return amf_put_string(b, s, strlen(s));
}

int amf_put_null(struct oa_buf *b)
{
    return oa_buf_append_u8(b, AMF_NULL);
}

int amf_put_object_begin(struct oa_buf *b)
{
    return oa_buf_append_u8(b, AMF_OBJECT);
}

int amf_put_ecma_begin(struct oa_buf *b, uint32_t count)
{
    uint8_t t[5] = {AMF_ECMA_ARRAY};
    oa_wb32(t + 1, count);
    return oa_buf_append(b, t, sizeof(t));
}

static int put_key_n(struct oa_buf *b, const char *key, size_t len)
{
    uint8_t t[2];
    if (len > 0xffff)
        return OA_ETOOBIG;
    int r = oa_buf_reserve(b, 2 + len);
    if (r < 0)
        return r;
    oa_wb16(t, (uint32_t)len);
    oa_buf_append(b, t, 2);
    oa_buf_append(b, key, len);
    return 0;
}

int amf_put_key(struct oa_buf *b, const char *key)
{
    return put_key_n(b, key, strlen(key));
}

int amf_put_object_end(struct oa_buf *b)
{
    static const uint8_t end[3] = {0, 0, AMF_OBJECT_END};
    return oa_buf_append(b, end, sizeof(end));
}

static int put_value(struct oa_buf *b, const struct amf_value *v)
{
    int r = 0;

    switch (v->type) {
    case AMF_NUMBER:
        return amf_put_number(b, v->num);
    case AMF_BOOLEAN:
        return amf_put_bool(b, v->num != 0);
    case AMF_STRING:
    case AMF_LONG_STRING:
        /* The marker follows the length, as the decoder accepts either. */
        return amf_put_string(b, v->str ? v->str : "", v->len);
    case AMF_NULL:
        return amf_put_null(b);
    case AMF_UNDEFINED:
        return oa_buf_append_u8(b, AMF_UNDEFINED);
    case AMF_DATE: {
        uint8_t t[11] = {AMF_DATE};
        write_double(t + 1, v->num);
        return oa_buf_append(b, t, sizeof(t)); /* time zone 0 */
    }
    case AMF_OBJECT:
    case AMF_ECMA_ARRAY:
        if (v->type == AMF_OBJECT)
            r = amf_put_object_begin(b);
        else
            r = amf_put_ecma_begin(b, v->len);
        for (uint32_t i = 0; r == 0 && i < v->len; i++) {
            r = put_key_n(b, v->props[i].key ? v->props[i].key : "", v->props[i].key_len);
            if (r == 0)
                r = put_value(b, &v->props[i].value);
        }
        return r < 0 ? r : amf_put_object_end(b);
    case AMF_STRICT_ARRAY: {
        uint8_t t[5] = {AMF_STRICT_ARRAY};
        oa_wb32(t + 1, v->len);
        r = oa_buf_append(b, t, sizeof(t));
        for (uint32_t i = 0; r == 0 && i < v->len; i++)
            r = put_value(b, &v->items[i]);
        return r;
    }
    default:
        /* Not a type the decoder produces: a caller bug, not a size problem. */
        return OA_EINVAL;
    }
}

int amf_put_value(struct oa_buf *b, const struct amf_value *v)
{
    size_t mark = b->len;
    int r = put_value(b, v);
    if (r < 0)
        b->len = mark;
    return r;
}
