/*
 * test_amf.c - AMF0 decoder and encoder: round trips of every type, hostile
 * input (truncation at every offset, limits, unsupported markers) and real
 * messages captured from FFmpeg.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <math.h>
#include <cmocka.h>

#include "core/alloc.h"
#include "core/err.h"
#include "rtmp/amf.h"

static size_t unhex(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    for (; hex[0] && hex[1]; hex += 2) {
        char t[3] = {hex[0], hex[1], 0};
        assert_true(n < cap);
        out[n++] = (uint8_t)strtoul(t, NULL, 16);
    }
    return n;
}

/* Decodes all of b, re-encodes every value and checks the bytes come out identical. */
static void assert_reencodes(const uint8_t *p, size_t len)
{
    struct amf_value *vals;
    size_t count;
    assert_int_equal(amf_decode_all(p, len, NULL, &vals, &count), 0);
    struct oa_buf out = OA_BUF_INIT(1 << 24);
    for (size_t i = 0; i < count; i++)
        assert_int_equal(amf_put_value(&out, &vals[i]), 0);
    assert_int_equal(out.len, len);
    assert_memory_equal(out.data, p, len);
    oa_buf_free(&out);
    amf_values_free(vals, count);
}

static void test_primitives_round_trip(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    static const char nul_str[] = "a\0b\0c";
    assert_int_equal(amf_put_number(&b, 3.5), 0);
    assert_int_equal(amf_put_number(&b, -1e300), 0);
    assert_int_equal(amf_put_number(&b, INFINITY), 0);
    assert_int_equal(amf_put_bool(&b, true), 0);
    assert_int_equal(amf_put_bool(&b, false), 0);
    assert_int_equal(amf_put_cstring(&b, "hello"), 0);
    assert_int_equal(amf_put_cstring(&b, ""), 0);
    assert_int_equal(amf_put_string(&b, nul_str, 5), 0);
    assert_int_equal(amf_put_null(&b), 0);
    assert_int_equal(oa_buf_append_u8(&b, AMF_UNDEFINED), 0);
    /* A date: marker, double, 16-bit time zone (written as 0 by the encoder). */
    uint8_t date[11] = {AMF_DATE, 0x42, 0x78, 0x6a, 0x2b, 0x5c, 0x00, 0x00, 0x00, 0x00, 0x00};
    assert_int_equal(oa_buf_append(&b, date, sizeof(date)), 0);

    struct amf_value *v;
    size_t n;
    assert_int_equal(amf_decode_all(b.data, b.len, NULL, &v, &n), 0);
    assert_int_equal(n, 11);
    assert_int_equal(v[0].type, AMF_NUMBER);
    assert_true(v[0].num == 3.5);
    assert_true(v[1].num == -1e300);
    assert_true(isinf(v[2].num) && v[2].num > 0);
    assert_int_equal(v[3].type, AMF_BOOLEAN);
    assert_true(v[3].num == 1);
    assert_true(v[4].num == 0);
    assert_int_equal(v[5].type, AMF_STRING);
    assert_string_equal(amf_as_string(&v[5]), "hello");
    assert_int_equal(v[5].len, 5);
    assert_int_equal(v[6].len, 0);
    assert_string_equal(amf_as_string(&v[6]), "");
    assert_int_equal(v[7].len, 5);
    assert_memory_equal(v[7].str, nul_str, 6); /* including the terminator */
    assert_int_equal(v[8].type, AMF_NULL);
    assert_int_equal(v[9].type, AMF_UNDEFINED);
    assert_int_equal(v[10].type, AMF_DATE);
    assert_true(v[10].num > 1e12);
    assert_null(amf_as_string(&v[0]));
    assert_true(amf_as_number(&v[5], -7) == -7);
    assert_true(amf_as_number(&v[0], -7) == 3.5);
    assert_true(amf_as_number(NULL, 2) == 2);
    amf_values_free(v, n);

    assert_reencodes(b.data, b.len);
    oa_buf_free(&b);
}

static void test_long_string(void **state)
{
    size_t len = 70000;
    char *s = oa_malloc(len);
    for (size_t i = 0; i < len; i++)
        s[i] = (char)(i % 251); /* includes NUL bytes */
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    assert_int_equal(amf_put_string(&b, s, len), 0);
    assert_int_equal(b.data[0], AMF_LONG_STRING);
    assert_int_equal(b.len, 5 + len);

    struct amf_value v;
    size_t used;
    assert_int_equal(amf_decode_one(b.data, b.len, NULL, &v, &used), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(v.type, AMF_LONG_STRING);
    assert_int_equal(v.len, len);
    assert_memory_equal(v.str, s, len);
    assert_int_equal(v.str[len], 0);
    amf_value_clear(&v);
    assert_reencodes(b.data, b.len);

    /* Exactly 0xffff still fits the short form. */
    oa_buf_reset(&b);
    assert_int_equal(amf_put_string(&b, s, 0xffff), 0);
    assert_int_equal(b.data[0], AMF_STRING);
    assert_reencodes(b.data, b.len);

    /* A long string may be short, too; the decoder keeps the marker. */
    uint8_t ls[] = {AMF_LONG_STRING, 0, 0, 0, 2, 'h', 'i'};
    assert_int_equal(amf_decode_one(ls, sizeof(ls), NULL, &v, &used), 0);
    assert_int_equal(v.type, AMF_LONG_STRING);
    assert_string_equal(amf_as_string(&v), "hi");
    amf_value_clear(&v);

    oa_free(s);
    oa_buf_free(&b);
}

/* { a: 1, nested: { deep: [ "x", {k: null}, [] ], e: ecma{ z: true } }, s: "str" } */
static void put_complex(struct oa_buf *b)
{
    assert_int_equal(amf_put_object_begin(b), 0);
    amf_put_key(b, "a");
    amf_put_number(b, 1);
    amf_put_key(b, "nested");
    amf_put_object_begin(b);
    amf_put_key(b, "deep");
    uint8_t arr[5] = {AMF_STRICT_ARRAY, 0, 0, 0, 3};
    oa_buf_append(b, arr, sizeof(arr));
    amf_put_cstring(b, "x");
    amf_put_object_begin(b);
    amf_put_key(b, "k");
    amf_put_null(b);
    amf_put_object_end(b);
    uint8_t empty[5] = {AMF_STRICT_ARRAY, 0, 0, 0, 0};
    oa_buf_append(b, empty, sizeof(empty));
    amf_put_key(b, "e");
    amf_put_ecma_begin(b, 1);
    amf_put_key(b, "z");
    amf_put_bool(b, true);
    amf_put_object_end(b);
    amf_put_object_end(b);
    amf_put_key(b, "s");
    amf_put_cstring(b, "str");
    assert_int_equal(amf_put_object_end(b), 0);
}

static void test_nested_round_trip(void **state)
{
    struct oa_buf b = OA_BUF_INIT(4096);
    put_complex(&b);

    struct amf_value v;
    size_t used;
    assert_int_equal(amf_decode_one(b.data, b.len, NULL, &v, &used), 0);
    assert_int_equal(used, b.len);
    assert_int_equal(v.type, AMF_OBJECT);
    assert_int_equal(v.len, 3);
    assert_true(amf_as_number(amf_object_get(&v, "a"), 0) == 1);
    assert_string_equal(amf_as_string(amf_object_get(&v, "s")), "str");
    assert_null(amf_object_get(&v, "missing"));
    const struct amf_value *nested = amf_object_get(&v, "nested");
    assert_non_null(nested);
    const struct amf_value *deep = amf_object_get(nested, "deep");
    assert_int_equal(deep->type, AMF_STRICT_ARRAY);
    assert_int_equal(deep->len, 3);
    assert_string_equal(amf_as_string(&deep->items[0]), "x");
    assert_int_equal(deep->items[1].type, AMF_OBJECT);
    assert_int_equal(amf_object_get(&deep->items[1], "k")->type, AMF_NULL);
    assert_int_equal(deep->items[2].type, AMF_STRICT_ARRAY);
    assert_int_equal(deep->items[2].len, 0);
    assert_null(amf_object_get(deep, "x")); /* not an object */
    const struct amf_value *e = amf_object_get(nested, "e");
    assert_int_equal(e->type, AMF_ECMA_ARRAY);
    assert_true(amf_object_get(e, "z")->num == 1);
    amf_value_clear(&v);

    assert_reencodes(b.data, b.len);
    oa_buf_free(&b);
}

static void test_keys_with_nul(void **state)
{
    /* Keys are length-prefixed too; key_len is authoritative. */
    uint8_t p[] = {AMF_OBJECT, 0, 3, 'a', 0, 'b', AMF_NULL, 0, 0, AMF_OBJECT_END};
    struct amf_value v;
    size_t used;
    assert_int_equal(amf_decode_one(p, sizeof(p), NULL, &v, &used), 0);
    assert_int_equal(v.props[0].key_len, 3);
    assert_memory_equal(v.props[0].key, "a\0b", 4);
    assert_null(amf_object_get(&v, "a"));
    amf_value_clear(&v);
    assert_reencodes(p, sizeof(p));
}

static void test_truncation_every_offset(void **state)
{
    struct oa_buf b = OA_BUF_INIT(4096);
    put_complex(&b);
    for (size_t k = 0; k < b.len; k++) {
        struct amf_value v;
        size_t used = 99;
        int r = amf_decode_one(b.data, k, NULL, &v, &used);
        assert_int_equal(r, OA_EPROTO);
        assert_int_equal(used, 0);
        assert_int_equal(v.type, AMF_NULL); /* cleared, nothing owned */
        assert_null(v.props);
        assert_null(v.str);

        struct amf_value *vals = (struct amf_value *)&b;
        size_t n = 5;
        assert_int_equal(amf_decode_all(b.data, k, NULL, &vals, &n), k ? OA_EPROTO : 0);
        assert_null(vals);
        assert_int_equal(n, 0);
    }

    /* A message of several values: a prefix is valid exactly at value boundaries. */
    struct oa_buf m = OA_BUF_INIT(4096);
    size_t bounds[8], nb = 0;
    amf_put_cstring(&m, "connect");
    bounds[nb++] = m.len;
    amf_put_number(&m, 1);
    bounds[nb++] = m.len;
    oa_buf_append(&m, b.data, b.len);
    bounds[nb++] = m.len;
    amf_put_null(&m);
    bounds[nb++] = m.len;
    amf_put_string(&m, "x\0y", 3);
    bounds[nb++] = m.len;
    for (size_t k = 1; k <= m.len; k++) {
        bool boundary = false;
        size_t expect = 0;
        for (size_t i = 0; i < nb; i++) {
            if (bounds[i] == k) {
                boundary = true;
                expect = i + 1;
            }
        }
        struct amf_value *vals;
        size_t n;
        int r = amf_decode_all(m.data, k, NULL, &vals, &n);
        if (boundary) {
            assert_int_equal(r, 0);
            assert_int_equal(n, expect);
            amf_values_free(vals, n);
        } else {
            assert_int_equal(r, OA_EPROTO);
            assert_null(vals);
        }
    }
    oa_buf_free(&m);
    oa_buf_free(&b);
}

/* depth nested objects: {a:{a:{...{}}}}. */
static void put_nested(struct oa_buf *b, unsigned depth, bool arrays)
{
    for (unsigned i = 0; i < depth; i++) {
        if (arrays) {
            uint8_t t[5] = {AMF_STRICT_ARRAY, 0, 0, 0, 1};
            oa_buf_append(b, t, sizeof(t));
        } else {
            amf_put_object_begin(b);
            amf_put_key(b, "a");
        }
    }
    amf_put_null(b);
    for (unsigned i = 0; !arrays && i < depth; i++)
        amf_put_object_end(b);
}

static void test_depth_limit(void **state)
{
    for (int arrays = 0; arrays < 2; arrays++) {
        struct oa_buf b = OA_BUF_INIT(1 << 20);
        struct amf_value v;
        size_t used;
        struct amf_limits lim = {.max_depth = 4};

        put_nested(&b, 4, arrays);
        assert_int_equal(amf_decode_one(b.data, b.len, &lim, &v, &used), 0);
        amf_value_clear(&v);
        oa_buf_reset(&b);
        put_nested(&b, 5, arrays);
        assert_int_equal(amf_decode_one(b.data, b.len, &lim, &v, &used), OA_ETOOBIG);

        /* The default is 16. */
        oa_buf_reset(&b);
        put_nested(&b, 16, arrays);
        assert_int_equal(amf_decode_one(b.data, b.len, NULL, &v, &used), 0);
        amf_value_clear(&v);
        oa_buf_reset(&b);
        put_nested(&b, 17, arrays);
        assert_int_equal(amf_decode_one(b.data, b.len, NULL, &v, &used), OA_ETOOBIG);

        /* Very deep input must fail on the limit, not on the stack. */
        oa_buf_reset(&b);
        put_nested(&b, 100000, arrays);
        assert_int_equal(amf_decode_one(b.data, b.len, NULL, &v, &used), OA_ETOOBIG);
        oa_buf_free(&b);
    }
}

static void test_count_limit(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    struct amf_value *vals;
    size_t n;
    struct amf_limits lim = {.max_values = 5};

    for (int i = 0; i < 5; i++)
        amf_put_number(&b, i);
    assert_int_equal(amf_decode_all(b.data, b.len, &lim, &vals, &n), 0);
    assert_int_equal(n, 5);
    amf_values_free(vals, n);
    amf_put_null(&b);
    assert_int_equal(amf_decode_all(b.data, b.len, &lim, &vals, &n), OA_ETOOBIG);
    assert_null(vals);

    /* Nested values count: an array of 4 is 5 values. */
    oa_buf_reset(&b);
    uint8_t arr[5] = {AMF_STRICT_ARRAY, 0, 0, 0, 4};
    oa_buf_append(&b, arr, sizeof(arr));
    for (int i = 0; i < 4; i++)
        amf_put_bool(&b, i & 1);
    assert_int_equal(amf_decode_all(b.data, b.len, &lim, &vals, &n), 0);
    amf_values_free(vals, n);
    arr[4] = 5;
    oa_buf_reset(&b);
    oa_buf_append(&b, arr, sizeof(arr));
    for (int i = 0; i < 5; i++)
        amf_put_bool(&b, i & 1);
    assert_int_equal(amf_decode_all(b.data, b.len, &lim, &vals, &n), OA_ETOOBIG);

    /* Object properties count as well. */
    oa_buf_reset(&b);
    amf_put_object_begin(&b);
    for (int i = 0; i < 10; i++) {
        amf_put_key(&b, "k");
        amf_put_number(&b, i);
    }
    amf_put_object_end(&b);
    assert_int_equal(amf_decode_all(b.data, b.len, &lim, &vals, &n), OA_ETOOBIG);

    /* The default is 4096. */
    oa_buf_reset(&b);
    for (int i = 0; i < 4097; i++)
        amf_put_null(&b);
    assert_int_equal(amf_decode_all(b.data, b.len, NULL, &vals, &n), OA_ETOOBIG);
    assert_int_equal(amf_decode_all(b.data, b.len - 1, NULL, &vals, &n), 0);
    assert_int_equal(n, 4096);
    amf_values_free(vals, n);

    /* A huge declared array count with no items: rejected before allocating. */
    uint8_t huge[] = {AMF_STRICT_ARRAY, 0xff, 0xff, 0xff, 0xff, AMF_NULL};
    assert_int_equal(amf_decode_all(huge, sizeof(huge), NULL, &vals, &n), OA_EPROTO);
    uint8_t many[5 + 100] = {AMF_STRICT_ARRAY, 0, 0, 0, 100};
    memset(many + 5, AMF_NULL, 100);
    assert_int_equal(amf_decode_all(many, sizeof(many), &lim, &vals, &n), OA_ETOOBIG);
    /* And a long string longer than the input. */
    uint8_t ls[] = {AMF_LONG_STRING, 0xff, 0xff, 0xff, 0xff, 'a'};
    assert_int_equal(amf_decode_all(ls, sizeof(ls), NULL, &vals, &n), OA_EPROTO);
    oa_buf_free(&b);
}

static void test_unsupported(void **state)
{
    static const uint8_t markers[] = {0x04, 0x07, 0x09, 0x0d, 0x0e, 0x0f, 0x10, 0x11, 0x12, 0xff};
    for (size_t i = 0; i < OA_ARRAY_SIZE(markers); i++) {
        uint8_t p[16] = {markers[i]};
        struct amf_value *vals;
        size_t n;
        assert_int_equal(amf_decode_all(p, sizeof(p), NULL, &vals, &n), OA_EPROTO);
        /* Also nested inside an object, after a property that was already built. */
        uint8_t q[] = {AMF_OBJECT, 0, 1, 'a', AMF_NULL, 0, 1, 'b', markers[i], 0, 0, 0, 0, 0, 0, 0};
        assert_int_equal(amf_decode_all(q, sizeof(q), NULL, &vals, &n), OA_EPROTO);
    }
    /* An object whose end marker is wrong. */
    uint8_t bad_end[] = {AMF_OBJECT, 0, 0, 0x08};
    struct amf_value *vals;
    size_t n;
    assert_int_equal(amf_decode_all(bad_end, sizeof(bad_end), NULL, &vals, &n), OA_EPROTO);
    assert_int_equal(amf_decode_all(NULL, 0, NULL, &vals, &n), 0);
    assert_int_equal(n, 0);
    assert_null(vals);
}

/* A prefix decode keeps the values before the first one it cannot decode. */
static void test_decode_prefix(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1024);
    amf_put_cstring(&b, "someCall");
    amf_put_number(&b, 7);
    amf_put_null(&b);
    size_t good = b.len;
    /* An AMF3 switch (avmplus object marker) and an AMF3 object after it. */
    static const uint8_t amf3[] = {0x11, 0x0a, 0x0b, 0x01, 0x01};
    oa_buf_append(&b, amf3, sizeof(amf3));
    struct amf_value *v;
    size_t n;
    assert_int_equal(amf_decode_all(b.data, b.len, NULL, &v, &n), OA_EPROTO);
    assert_int_equal(amf_decode_prefix(b.data, b.len, NULL, &v, &n), 1);
    assert_int_equal(n, 3);
    assert_string_equal(amf_as_string(&v[0]), "someCall");
    assert_true(amf_as_number(&v[1], 0) == 7);
    assert_int_equal(v[2].type, AMF_NULL);
    amf_values_free(v, n);
    /* Truncated right inside the second value: only the first. */
    assert_int_equal(amf_decode_prefix(b.data, 14, NULL, &v, &n), 1);
    assert_int_equal(n, 1);
    amf_values_free(v, n);
    /* Everything decodable: 0, as amf_decode_all. */
    assert_int_equal(amf_decode_prefix(b.data, good, NULL, &v, &n), 0);
    assert_int_equal(n, 3);
    amf_values_free(v, n);
    /* Limits still fail the whole message. */
    struct amf_limits lim = {16, 2};
    assert_int_equal(amf_decode_prefix(b.data, good, &lim, &v, &n), OA_ETOOBIG);
    oa_buf_free(&b);
}

/* FFmpeg 5.1 (Lavf59.27.100) publishing to rtmp://127.0.0.1:19355/live/stream1. */
static const char ffmpeg_connect[] =
    "020007636f6e6e656374003ff00000000000000300036170700200046c69766500047479706502000a6e6f6e"
    "707269766174650008666c617368566572020024464d4c452f332e302028636f6d70617469626c653b204c61"
    "766635392e32372e313030290005746355726c02001b72746d703a2f2f3132372e302e302e313a3139333535"
    "2f6c697665000009";

static const char ffmpeg_metadata[] =
    "02000d40736574446174614672616d6502000a6f6e4d65746144617461080000000d00086475726174696f6e"
    "003ff000000000000000057769647468004074000000000000000668656967687400406e000000000000000d"
    "766964656f646174617261746500000000000000000000096672616d6572617465004039000000000000000c"
    "766964656f636f646563696400401c000000000000000d617564696f6461746172617465004050d880000000"
    "00000f617564696f73616d706c65726174650040e5888000000000000f617564696f73616d706c6573697a65"
    "004030000000000000000673746572656f0100000c617564696f636f64656369640040240000000000000007"
    "656e636f64657202000d4c61766635392e32372e313030000866696c6573697a650000000000000000000000"
    "09";

static void test_ffmpeg_connect(void **state)
{
    uint8_t p[512];
    size_t len = unhex(ffmpeg_connect, p, sizeof(p));
    struct amf_value *v;
    size_t n;
    assert_int_equal(amf_decode_all(p, len, NULL, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(amf_as_string(&v[0]), "connect");
    assert_true(amf_as_number(&v[1], 0) == 1);
    assert_int_equal(v[2].type, AMF_OBJECT);
    assert_string_equal(amf_as_string(amf_object_get(&v[2], "app")), "live");
    assert_string_equal(amf_as_string(amf_object_get(&v[2], "type")), "nonprivate");
    assert_string_equal(amf_as_string(amf_object_get(&v[2], "flashVer")),
                        "FMLE/3.0 (compatible; Lavf59.27.100)");
    assert_string_equal(amf_as_string(amf_object_get(&v[2], "tcUrl")),
                        "rtmp://127.0.0.1:19355/live");
    amf_values_free(v, n);
    assert_reencodes(p, len);
}

static void test_ffmpeg_metadata(void **state)
{
    uint8_t p[512];
    size_t len = unhex(ffmpeg_metadata, p, sizeof(p));
    struct amf_value *v;
    size_t n;
    assert_int_equal(amf_decode_all(p, len, NULL, &v, &n), 0);
    assert_int_equal(n, 3);
    assert_string_equal(amf_as_string(&v[0]), "@setDataFrame");
    assert_string_equal(amf_as_string(&v[1]), "onMetaData");
    const struct amf_value *md = &v[2];
    assert_int_equal(md->type, AMF_ECMA_ARRAY);
    assert_int_equal(md->len, 13);
    assert_true(amf_as_number(amf_object_get(md, "width"), 0) == 320);
    assert_true(amf_as_number(amf_object_get(md, "height"), 0) == 240);
    assert_true(amf_as_number(amf_object_get(md, "framerate"), 0) == 25);
    assert_true(amf_as_number(amf_object_get(md, "videocodecid"), 0) == 7);
    assert_true(amf_as_number(amf_object_get(md, "audiocodecid"), 0) == 10);
    assert_true(amf_as_number(amf_object_get(md, "audiosamplerate"), 0) == 44100);
    assert_int_equal(amf_object_get(md, "stereo")->type, AMF_BOOLEAN);
    assert_true(amf_object_get(md, "stereo")->num == 0);
    assert_string_equal(amf_as_string(amf_object_get(md, "encoder")), "Lavf59.27.100");
    amf_values_free(v, n);
    assert_reencodes(p, len);

    /* Every truncation of a real message fails cleanly too. */
    size_t ecma = 16 + 13; /* after the two strings */
    assert_int_equal(p[ecma], AMF_ECMA_ARRAY);
    for (size_t k = 0; k < len - ecma; k++) {
        struct amf_value one;
        size_t used;
        assert_int_equal(amf_decode_one(p + ecma, k, NULL, &one, &used), OA_EPROTO);
    }
}

/* A connect as Flash Player and OBS/librtmp send it, built by hand. */
static void test_flash_style_connect(void **state)
{
    static const uint8_t p[] = {
        0x02,
        0x00,
        0x07,
        'c',
        'o',
        'n',
        'n',
        'e',
        'c',
        't',
        0x00,
        0x3f,
        0xf0,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00, /* 1.0 */
        0x03,
        0x00,
        0x03,
        'a',
        'p',
        'p',
        0x02,
        0x00,
        0x04,
        'l',
        'i',
        'v',
        'e',
        0x00,
        0x05,
        'a',
        'u',
        'd',
        'i',
        'o',
        0x01,
        0x01,
        0x00,
        0x0e,
        'o',
        'b',
        'j',
        'e',
        'c',
        't',
        'E',
        'n',
        'c',
        'o',
        'd',
        'i',
        'n',
        'g',
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x00,
        0x07,
        'p',
        'a',
        'g',
        'e',
        'U',
        'r',
        'l',
        0x06,
        0x00,
        0x00,
        0x09,
        /* An optional user argument, as some encoders send for auth. */
        0x02,
        0x00,
        0x03,
        'k',
        'e',
        'y',
    };
    struct amf_value *v;
    size_t n;
    assert_int_equal(amf_decode_all(p, sizeof(p), NULL, &v, &n), 0);
    assert_int_equal(n, 4);
    assert_string_equal(amf_as_string(amf_object_get(&v[2], "app")), "live");
    assert_true(amf_object_get(&v[2], "audio")->num == 1);
    assert_true(amf_as_number(amf_object_get(&v[2], "objectEncoding"), -1) == 0);
    assert_int_equal(amf_object_get(&v[2], "pageUrl")->type, AMF_UNDEFINED);
    assert_string_equal(amf_as_string(&v[3]), "key");
    amf_values_free(v, n);
    assert_reencodes(p, sizeof(p));
}

static void test_encoder_ceiling(void **state)
{
    struct oa_buf b = OA_BUF_INIT(16);
    assert_int_equal(amf_put_number(&b, 1), 0);
    assert_int_equal(amf_put_number(&b, 2), OA_ETOOBIG);
    assert_int_equal(b.len, 9); /* untouched */
    assert_int_equal(amf_put_cstring(&b, "abcdef"), OA_ETOOBIG);
    assert_int_equal(b.len, 9);
    assert_int_equal(amf_put_key(&b, "abcdefg"), OA_ETOOBIG);
    assert_int_equal(b.len, 9);

    /* amf_put_value rolls back a half-written tree. */
    struct oa_buf c = OA_BUF_INIT(4096);
    put_complex(&c);
    struct amf_value v;
    size_t used;
    assert_int_equal(amf_decode_one(c.data, c.len, NULL, &v, &used), 0);
    for (size_t max = 0; max < c.len; max++) {
        struct oa_buf small = OA_BUF_INIT(max);
        assert_int_equal(amf_put_value(&small, &v), OA_ETOOBIG);
        assert_int_equal(small.len, 0);
        oa_buf_free(&small);
    }
    struct oa_buf exact = OA_BUF_INIT(c.len);
    assert_int_equal(amf_put_value(&exact, &v), 0);
    assert_memory_equal(exact.data, c.data, c.len);
    oa_buf_free(&exact);
    amf_value_clear(&v);
    oa_buf_free(&c);
    oa_buf_free(&b);
}

/* Random bytes and random mutations of valid messages: must never crash or leak. */
static void test_random_garbage(void **state)
{
    uint8_t meta[512];
    size_t mlen = unhex(ffmpeg_metadata, meta, sizeof(meta));
    uint32_t seed = 12345;
    uint8_t p[600];
    for (int iter = 0; iter < 20000; iter++) {
        size_t len;
        if (iter & 1) {
            len = mlen;
            memcpy(p, meta, mlen);
            for (int k = 0; k < 4; k++) {
                seed = seed * 1103515245 + 12345;
                p[(seed >> 8) % mlen] = (uint8_t)(seed >> 20);
            }
        } else {
            seed = seed * 1103515245 + 12345;
            len = (seed >> 16) % sizeof(p);
            for (size_t i = 0; i < len; i++) {
                seed = seed * 1103515245 + 12345;
                /* Bias towards valid markers so decoding goes deep. */
                p[i] = (uint8_t)((seed >> 16) % 13);
            }
        }
        struct amf_value *vals;
        size_t n;
        if (amf_decode_all(p, len, NULL, &vals, &n) == 0) {
            struct oa_buf out = OA_BUF_INIT(1 << 20);
            for (size_t i = 0; i < n; i++)
                assert_int_equal(amf_put_value(&out, &vals[i]), 0);
            oa_buf_free(&out);
            amf_values_free(vals, n);
        } else {
            assert_null(vals);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_primitives_round_trip),
        cmocka_unit_test(test_long_string),
        cmocka_unit_test(test_nested_round_trip),
        cmocka_unit_test(test_keys_with_nul),
        cmocka_unit_test(test_truncation_every_offset),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_count_limit),
        cmocka_unit_test(test_unsupported),
        cmocka_unit_test(test_decode_prefix),
        cmocka_unit_test(test_ffmpeg_connect),
        cmocka_unit_test(test_ffmpeg_metadata),
        cmocka_unit_test(test_flash_style_connect),
        cmocka_unit_test(test_encoder_ceiling),
        cmocka_unit_test(test_random_garbage),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
