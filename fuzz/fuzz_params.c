/*
 * fuzz_params.c - libFuzzer driver for request parameter parsing, the
 * dotted-name tree, and what consumes them (signing, rendering).
 *
 * The input is split at its first '\n' into a query and a body, parsed as
 * two calls the way the HTTP layer does, with limits picked by the first
 * byte so both the defaults and tight limits get exercised. Beyond "no
 * crash, no leak" it checks invariants: a failed parse leaves the list as it
 * was; every stored name is non-empty; percent-encoding then form-decoding
 * any value gives it back; a tree renders to JSON that jansson reads back
 * equal.
 */
#include "api/params.h"
#include "api/render.h"
#include "api/sign.h"
#include "core/alloc.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_roundtrip(const char *s)
{
    struct oa_buf enc = OA_BUF_INIT(1 << 22);
    char *dec = NULL;
    size_t declen = 0;

    OA_ASSERT(api_percent_encode(&enc, s, strlen(s)) == 0);
    OA_ASSERT(api_form_decode((const char *)enc.data, enc.len, &dec, &declen) == 0);
    OA_ASSERT(declen == strlen(s) && memcmp(dec, s, declen) == 0);
    oa_free(dec);
    oa_buf_free(&enc);
}

static int parse_part(struct api_params *ps, const char *s, size_t n,
                      const struct api_param_limits *lim)
{
    size_t before = ps->count;
    char *bad = NULL;
    int r = api_params_parse(ps, s, n, lim, &bad);

    if (r != API_PARAMS_OK) {
        OA_ASSERT(ps->count == before);
        OA_ASSERT(bad && strlen(bad) <= 128);
    } else {
        OA_ASSERT(bad == NULL);
    }
    oa_free(bad);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct api_param_limits lim = API_PARAM_LIMITS_DEFAULT;
    struct api_params ps;
    const char *s = (const char *)data;

    if (size > 0 && (data[0] & 1)) {
        /* Tight limits so the limit paths are reachable with short inputs. */
        lim.max_count = 8;
        lim.max_name_len = 16;
        lim.max_value_len = 16;
        lim.max_index = 1 + (data[0] >> 5);
        lim.max_depth = 1 + ((data[0] >> 1) & 7);
    }

    api_params_init(&ps);
    const char *nl = memchr(s, '\n', size);
    size_t qlen = nl ? (size_t)(nl - s) : size;
    parse_part(&ps, s, qlen, &lim);
    if (nl)
        parse_part(&ps, nl + 1, size - qlen - 1, &lim);

    for (size_t i = 0; i < ps.count; i++) {
        OA_ASSERT(ps.items[i].name[0] != '\0');
        OA_ASSERT(api_params_get(&ps, ps.items[i].name) == ps.items[i].value);
        check_roundtrip(ps.items[i].name);
        check_roundtrip(ps.items[i].value);
    }

    struct oa_buf out = OA_BUF_INIT(1 << 24);
    OA_ASSERT(api_sign_v1_string(&out, "POST", ps.items, ps.count) == 0);
    oa_buf_reset(&out);
    struct api_header h[] = {{"Host", " example.com "}, {"x-acs-date", "now"}};
    OA_ASSERT(api_sign_v3_canonical(&out, "POST", "/", ps.items, ps.count, h, 2,
                                    "host;x-acs-date;x-acs-missing", "hash") == 0);
    oa_buf_reset(&out);

    json_t *tree = NULL;
    char *bad = NULL;
    int r = api_params_tree(&ps, &lim, &tree, &bad);
    if (r == API_PARAMS_OK) {
        OA_ASSERT(tree && !bad);
        OA_ASSERT(api_render_json(tree, &out) == 0);
        json_t *back = json_loadb((const char *)out.data, out.len, 0, NULL);
        OA_ASSERT(back && json_equal(back, tree));
        json_decref(back);
        oa_buf_reset(&out);
        OA_ASSERT(api_render_xml(tree, "R", &out) == 0);
        json_decref(tree);
    } else {
        OA_ASSERT(!tree && bad);
        oa_free(bad);
    }
    oa_buf_free(&out);
    api_params_free(&ps);
    return 0;
}
