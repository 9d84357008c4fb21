/*
 * fuzz_amf.c - libFuzzer driver for the AMF0 decoder.
 *
 * Decodes the input with tight limits (the first byte picks them), and for
 * input that decodes, checks that encoding is a fixed point: decode(encode(v))
 * encodes to the same bytes again. Sanitizers catch the rest.
 */
#include "core/common.h"
#include "core/err.h"
#include "rtmp/amf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void encode_all(const struct amf_value *v, size_t n, struct oa_buf *out)
{
    for (size_t i = 0; i < n; i++) {
        if (amf_put_value(out, &v[i]) != 0)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    struct amf_limits lim = {.max_depth = 1 + data[0] % 32, .max_values = 1 + data[0] * 16u};
    data++;
    size--;

    struct amf_value one;
    size_t used;
    if (amf_decode_one(data, size, &lim, &one, &used) == 0) {
        if (used == 0 || used > size)
            abort();
        amf_value_clear(&one);
    }

    struct amf_value *v;
    size_t n;
    if (amf_decode_all(data, size, &lim, &v, &n) != 0) {
        if (v)
            abort();
        return 0;
    }
    struct oa_buf a = OA_BUF_INIT(1 << 26), b = OA_BUF_INIT(1 << 26);
    encode_all(v, n, &a);
    amf_values_free(v, n);

    /* The re-encoding may differ from the input (booleans, date zones), but is stable. */
    struct amf_limits unlimited = {.max_depth = 1000, .max_values = 1u << 30};
    if (amf_decode_all(a.data, a.len, &unlimited, &v, &n) != 0)
        abort();
    encode_all(v, n, &b);
    if (a.len != b.len || (a.len && memcmp(a.data, b.data, a.len) != 0))
        abort();
    amf_values_free(v, n);
    oa_buf_free(&a);
    oa_buf_free(&b);
    return 0;
}
