/*
 * test_params.c - form decoding, limits, duplicates and the dotted-name
 * flattener. Trees are compared as compact JSON text, which also checks
 * that object keys keep arrival order.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/params.h"
#include "core/alloc.h"
#include "core/buf.h"

#include <time.h>

static const struct api_param_limits LIM = API_PARAM_LIMITS_DEFAULT;

static void check_decode(const char *in, const char *want)
{
    char *out = NULL;
    size_t n = 99;
    assert_int_equal(api_form_decode(in, strlen(in), &out, &n), 0);
    assert_non_null(out);
    assert_int_equal(n, strlen(want));
    assert_string_equal(out, want);
    oa_free(out);
}

static void check_decode_fails(const char *in, size_t len)
{
    char *out = (char *)"sentinel";
    if (api_form_decode(in, len, &out, NULL) != -1)
        fail_msg("decoded: %s", in);
    assert_null(out);
}

static void test_form_decode(void **state)
{
    check_decode("", "");
    check_decode("abc", "abc");
    check_decode("a+b", "a b");
    check_decode("%2B", "+");
    check_decode("%2b%2f%3a", "+/:");
    check_decode("%20%7E~", " ~~");
    check_decode("%e7%9b%b4%E6%92%AD", "直播");
    check_decode("%F0%9F%8E%A5", "\xF0\x9F\x8E\xA5");
    check_decode("!'()*", "!'()*"); /* what Node's querystring leaves raw */
    check_decode("%25", "%");
    check_decode("%2525", "%25");
    /* Not this layer's job to check UTF-8: any byte but NUL is a value. */
    check_decode("%FF%C0", "\xFF\xC0");

    check_decode_fails("%", 1);
    check_decode_fails("a%", 2);
    check_decode_fails("%4", 2);
    check_decode_fails("%G1", 3);
    check_decode_fails("%1G", 3);
    check_decode_fails("%%41", 4);
    check_decode_fails("%00", 3);
    check_decode_fails("a\0b", 3);
    /* The length bounds the input: "%41" cut after "%4" is malformed. */
    check_decode_fails("%41", 2);
}

static void parse_ok(struct api_params *ps, const char *s)
{
    char *bad = NULL;
    int r = api_params_parse(ps, s, strlen(s), &LIM, &bad);
    if (r != 0)
        fail_msg("parse(%s) = %d (%s)", s, r, bad ? bad : "");
    assert_null(bad);
}

/* Parses into a list that already holds "pre=1"; checks the error, *bad, and the rollback. */
static void parse_fails_lim(const char *s, size_t len, const struct api_param_limits *lim, int want,
                            const char *want_bad)
{
    struct api_params ps;
    char *bad = NULL;

    api_params_init(&ps);
    parse_ok(&ps, "pre=1");
    int r = api_params_parse(&ps, s, len, lim, &bad);
    if (r != want)
        fail_msg("parse(%.60s) = %d, want %d", s, r, want);
    assert_int_equal(ps.count, 1);
    assert_string_equal(ps.items[0].name, "pre");
    assert_non_null(bad);
    if (want_bad)
        assert_string_equal(bad, want_bad);
    oa_free(bad);
    api_params_free(&ps);
}

static void parse_fails(const char *s, int want, const char *want_bad)
{
    parse_fails_lim(s, strlen(s), &LIM, want, want_bad);
}

static void test_parse_basic(void **state)
{
    struct api_params ps;

    api_params_init(&ps);
    parse_ok(&ps, "a=1&b=two+words&&c&d=&e=x%3Dy=z&");
    assert_int_equal(ps.count, 5);
    assert_string_equal(ps.items[0].name, "a");
    assert_string_equal(ps.items[0].value, "1");
    assert_string_equal(api_params_get(&ps, "b"), "two words");
    assert_string_equal(api_params_get(&ps, "c"), "");
    assert_string_equal(api_params_get(&ps, "d"), "");
    assert_string_equal(api_params_get(&ps, "e"), "x=y=z");
    assert_null(api_params_get(&ps, "f"));
    assert_null(api_params_get(&ps, "A"));

    /* A second call (the POST body) appends. */
    parse_ok(&ps, "f=%E7%9B%B4%E6%92%AD&Name%20With+Space=v");
    assert_int_equal(ps.count, 7);
    assert_string_equal(api_params_get(&ps, "f"), "直播");
    assert_string_equal(api_params_get(&ps, "Name With Space"), "v");
    parse_ok(&ps, "");
    parse_ok(&ps, "&&&");
    assert_int_equal(ps.count, 7);
    /* Arrival order is kept. */
    assert_string_equal(ps.items[5].name, "f");
    api_params_free(&ps);
    assert_int_equal(ps.count, 0);
    api_params_free(&ps); /* twice is harmless */

    /* NULL bad is allowed. */
    api_params_init(&ps);
    assert_int_equal(api_params_parse(&ps, "%", 1, &LIM, NULL), API_PARAMS_BAD_ENCODING);
    api_params_free(&ps);
}

static void test_parse_errors(void **state)
{
    parse_fails("a=1&=x", API_PARAMS_BAD_NAME, "=x");
    parse_fails("a=1&=", API_PARAMS_BAD_NAME, "=");
    parse_fails("a=1&b%=x", API_PARAMS_BAD_ENCODING, "b%");
    parse_fails("a=1&b%G1=x", API_PARAMS_BAD_ENCODING, "b%G1");
    parse_fails("a=1&b=%4", API_PARAMS_BAD_ENCODING, "b");
    parse_fails("a=1&b=x%00y", API_PARAMS_BAD_ENCODING, "b");
    parse_fails("a=1&b%00=x", API_PARAMS_BAD_ENCODING, "b%00");
    parse_fails_lim("a=1&b=x\0y", 9, &LIM, API_PARAMS_BAD_ENCODING, "b");
    /* Duplicates, within one call and across query and body. */
    parse_fails("a=1&b=2&a=3", API_PARAMS_DUPLICATE, "a");
    parse_fails("pre=2", API_PARAMS_DUPLICATE, "pre");
    parse_fails("x=1&pre", API_PARAMS_DUPLICATE, "pre");
    /* Encoded and plain spellings of one name are one name. */
    parse_fails("a%2Eb=1&a.b=2", API_PARAMS_DUPLICATE, "a.b");
    /* Names are case-sensitive: not duplicates. */
    struct api_params ps;
    api_params_init(&ps);
    parse_ok(&ps, "Format=JSON&format=xml");
    assert_int_equal(ps.count, 2);
    api_params_free(&ps);
}

static void test_parse_limits(void **state)
{
    struct api_param_limits lim = {3, 4, 5, 1000, 8};
    struct api_params ps;

    api_params_init(&ps);
    char *bad = NULL;
    assert_int_equal(api_params_parse(&ps, "abcd=12345&b=&c=", 16, &lim, &bad), 0);
    assert_int_equal(ps.count, 3);
    assert_int_equal(api_params_parse(&ps, "d", 1, &lim, &bad), API_PARAMS_TOO_MANY);
    assert_string_equal(bad, "d");
    oa_free(bad);
    assert_int_equal(ps.count, 3);
    api_params_free(&ps);

    /* Limits count decoded bytes. */
    parse_fails_lim("abcde=1", 7, &lim, API_PARAMS_TOO_LONG, NULL);
    parse_fails_lim("a=123456", 8, &lim, API_PARAMS_TOO_LONG, "a");
    api_params_init(&ps);
    assert_int_equal(api_params_parse(&ps, "%41%42%43%44=%31%32%33%34%35", 28, &lim, NULL), 0);
    assert_string_equal(api_params_get(&ps, "ABCD"), "12345");
    api_params_free(&ps);
}

static void test_parse_1000(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    struct api_params ps;
    char *bad = NULL;

    for (int i = 1; i <= 1000; i++)
        assert_int_equal(
            oa_buf_printf(&b, "%sVideoLayer.%d.HeightNormalized=0.%d", i > 1 ? "&" : "", i, i), 0);
    api_params_init(&ps);
    clock_t t0 = clock();
    assert_int_equal(api_params_parse(&ps, (const char *)b.data, b.len, &LIM, &bad), 0);
    assert_int_equal(ps.count, 1000);
    json_t *tree = NULL;
    assert_int_equal(api_params_tree(&ps, &LIM, &tree, &bad), 0);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    assert_true(secs < 1.0); /* a few ms in practice, even under sanitizers */
    json_t *vl = json_object_get(tree, "VideoLayer");
    assert_int_equal(json_array_size(vl), 1000);
    assert_string_equal(
        json_string_value(json_object_get(json_array_get(vl, 999), "HeightNormalized")), "0.1000");
    json_decref(tree);

    /* One more, in the same request (the body), is one too many. */
    assert_int_equal(api_params_parse(&ps, "x=1", 3, &LIM, &bad), API_PARAMS_TOO_MANY);
    assert_string_equal(bad, "x");
    oa_free(bad);
    assert_int_equal(ps.count, 1000);
    api_params_free(&ps);

    /* 1001 in one go. */
    assert_int_equal(oa_buf_append_str(&b, "&x=1"), 0);
    api_params_init(&ps);
    assert_int_equal(api_params_parse(&ps, (const char *)b.data, b.len, &LIM, &bad),
                     API_PARAMS_TOO_MANY);
    assert_string_equal(bad, "x");
    oa_free(bad);
    assert_int_equal(ps.count, 0);
    api_params_free(&ps);
    oa_buf_free(&b);
}

/* A duplicate at the very end of 1000 distinct names is still found (and fast). */
static void test_parse_duplicate_late(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    struct api_params ps;
    char *bad = NULL;

    for (int i = 0; i < 999; i++)
        assert_int_equal(oa_buf_printf(&b, "n%d=v&", i), 0);
    assert_int_equal(oa_buf_append_str(&b, "n500=w"), 0);
    api_params_init(&ps);
    assert_int_equal(api_params_parse(&ps, (const char *)b.data, b.len, &LIM, &bad),
                     API_PARAMS_DUPLICATE);
    assert_string_equal(bad, "n500");
    oa_free(bad);
    api_params_free(&ps);
    oa_buf_free(&b);
}

/* *bad is cut to 128 bytes on a character boundary and made printable. */
static void test_bad_is_sanitized(void **state)
{
    struct api_params ps;
    char *bad = NULL;
    struct oa_buf b = OA_BUF_INIT(4096);
    struct api_param_limits lim = {1000, 1000, 65536, 1000, 8};

    api_params_init(&ps);
    assert_int_equal(api_params_parse(&ps, "a%01%FFb=1&a%01%FFb=2", 21, &LIM, &bad),
                     API_PARAMS_DUPLICATE);
    assert_string_equal(bad, "a??b");
    oa_free(bad);

    /* 127 ASCII bytes then a 3-byte character: the character does not fit. */
    for (int i = 0; i < 127; i++)
        oa_buf_append_u8(&b, 'x');
    oa_buf_append_str(&b, "%E7%9B%B4=1%");
    assert_int_equal(api_params_parse(&ps, (const char *)b.data, b.len, &lim, &bad),
                     API_PARAMS_BAD_ENCODING);
    assert_int_equal(strlen(bad), 127);
    oa_free(bad);
    api_params_free(&ps);
    oa_buf_free(&b);
}

/* ---- the tree ---- */

static char *tree_of_lim(const char *form, const struct api_param_limits *lim, int *err, char **bad)
{
    struct api_params ps;
    json_t *tree = (json_t *)"sentinel";
    char *s = NULL;

    api_params_init(&ps);
    parse_ok(&ps, form);
    *bad = NULL;
    *err = api_params_tree(&ps, lim, &tree, bad);
    if (*err == 0) {
        assert_null(*bad);
        s = json_dumps(tree, JSON_COMPACT);
        json_decref(tree);
    } else {
        assert_null(tree);
        assert_non_null(*bad);
    }
    api_params_free(&ps);
    return s;
}

static void check_tree(const char *form, const char *want)
{
    int err;
    char *bad;
    char *got = tree_of_lim(form, &LIM, &err, &bad);
    if (err)
        fail_msg("tree(%s) = %d (%s)", form, err, bad);
    assert_string_equal(got, want);
    free(got);
}

static void check_tree_lim_fails(const char *form, const struct api_param_limits *lim, int want,
                                 const char *want_bad)
{
    int err;
    char *bad;
    char *got = tree_of_lim(form, lim, &err, &bad);
    if (err != want)
        fail_msg("tree(%.60s) = %d (%s), want %d", form, err, got ? got : "", want);
    if (want_bad)
        assert_string_equal(bad, want_bad);
    oa_free(bad);
}

static void check_tree_fails(const char *form, int want, const char *want_bad)
{
    check_tree_lim_fails(form, &LIM, want, want_bad);
}

static void test_tree_scalars(void **state)
{
    check_tree("", "{}");
    check_tree("Action=StartCaster&CasterId=c1",
               "{\"Action\":\"StartCaster\",\"CasterId\":\"c1\"}");
    /* Keys keep arrival order, not sorted order. */
    check_tree("b=1&a=2", "{\"b\":\"1\",\"a\":\"2\"}");
    check_tree("Foo.Bar=x", "{\"Foo\":{\"Bar\":\"x\"}}");
    check_tree("Foo.Bar=x&Foo.Baz=y", "{\"Foo\":{\"Bar\":\"x\",\"Baz\":\"y\"}}");
    /* The root is an object, so a numeric first component is just a key. */
    check_tree("1=x&01=y", "{\"1\":\"x\",\"01\":\"y\"}");
    check_tree("Text=%E7%9B%B4%E6%92%AD%F0%9F%8E%A5", "{\"Text\":\"直播\xF0\x9F\x8E\xA5\"}");
    /* Non-numeric components that merely look like numbers are keys. */
    check_tree("A.a1=x&A.-1=y&A.%2B1=z", "{\"A\":{\"a1\":\"x\",\"-1\":\"y\",\"+1\":\"z\"}}");
}

static void test_tree_lists(void **state)
{
    check_tree("BlendList.1=RV01&BlendList.2=RV02", "{\"BlendList\":[\"RV01\",\"RV02\"]}");
    /* Index order, not arrival order; X.10 after X.9 whatever the string sort says. */
    check_tree("X.2=b&X.1=a", "{\"X\":[\"a\",\"b\"]}");
    check_tree("X.10=j&X.1=a&X.2=b&X.3=c&X.4=d&X.5=e&X.6=f&X.7=g&X.8=h&X.9=i",
               "{\"X\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\",\"j\"]}");
    check_tree("Tag.1.Key=k&Tag.1.Value=v&Tag.2.Key=k2",
               "{\"Tag\":[{\"Key\":\"k\",\"Value\":\"v\"},{\"Key\":\"k2\"}]}");
    check_tree("VideoLayer.1.PositionNormalized.2=0.2",
               "{\"VideoLayer\":[{\"PositionNormalized\":[null,\"0.2\"]}]}");
    check_tree("VideoLayer.1.HeightNormalized=0.5&VideoLayer.1.PositionNormalized.1=0.1"
               "&VideoLayer.1.PositionNormalized.2=0.2&VideoLayer.2.FillMode=fit"
               "&BlendList.1=RV01&BlendList.2=RV02",
               "{\"VideoLayer\":[{\"HeightNormalized\":\"0.5\",\"PositionNormalized\":[\"0.1\","
               "\"0.2\"]},{\"FillMode\":\"fit\"}],\"BlendList\":[\"RV01\",\"RV02\"]}");
    /* Gaps are null, and fill in when the index comes later. */
    check_tree("A.3=c", "{\"A\":[null,null,\"c\"]}");
    check_tree("A.3=c&A.1=a", "{\"A\":[\"a\",null,\"c\"]}");
    check_tree("A.3=c&A.1.K=a", "{\"A\":[{\"K\":\"a\"},null,\"c\"]}");
    /* A list directly inside a list, and deep nesting up to max_depth (8). */
    check_tree("M.1.2=x&M.2.1=y", "{\"M\":[[null,\"x\"],[\"y\"]]}");
    check_tree("A.1.1.1.1.1.1.1=x", "{\"A\":[[[[[[[\"x\"]]]]]]]}");
    check_tree("a.b.c.d.e.f.g.h=x", "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":"
                                    "\"x\"}}}}}}}}");
    /* Both list forms in one request: a flattened list and a JSON-string one. */
    check_tree("BlendList.1=RV01&MixList=%5B%22RV01%22%5D&SyncGroup.1.ResourceIds.1=RV01",
               "{\"BlendList\":[\"RV01\"],\"MixList\":\"[\\\"RV01\\\"]\","
               "\"SyncGroup\":[{\"ResourceIds\":[\"RV01\"]}]}");
    /* The largest index accepted. */
    int err;
    char *bad;
    char *s = tree_of_lim("A.1000=x", &LIM, &err, &bad);
    assert_int_equal(err, 0);
    assert_non_null(strstr(s, "null,\"x\"]}"));
    free(s);
}

static void test_tree_bad_names(void **state)
{
    /* A leaf and a container under one name, in either order. */
    check_tree_fails("A=x&A.1=y", API_PARAMS_BAD_NAME, "A.1");
    check_tree_fails("A.1=y&A=x", API_PARAMS_BAD_NAME, "A");
    check_tree_fails("A.1=x&A.1.B=y", API_PARAMS_BAD_NAME, "A.1.B");
    check_tree_fails("A.1.B=y&A.1=x", API_PARAMS_BAD_NAME, "A.1");
    check_tree_fails("A.B=x&A.B.C=y", API_PARAMS_BAD_NAME, "A.B.C");
    /* A list and an object under one name. */
    check_tree_fails("A.1=x&A.B=y", API_PARAMS_BAD_NAME, "A.B");
    check_tree_fails("A.B=y&A.1=x", API_PARAMS_BAD_NAME, "A.1");
    check_tree_fails("A.1.1=x&A.1.K=y", API_PARAMS_BAD_NAME, "A.1.K");
    /* Bad indices. */
    check_tree_fails("A.0=x", API_PARAMS_BAD_NAME, "A.0");
    check_tree_fails("A.01=x", API_PARAMS_BAD_NAME, "A.01");
    check_tree_fails("A.00=x", API_PARAMS_BAD_NAME, "A.00");
    check_tree_fails("A.1a=x", API_PARAMS_BAD_NAME, "A.1a");
    check_tree_fails("A.1 =x", API_PARAMS_BAD_NAME, "A.1 ");
    check_tree_fails("A.1001=x", API_PARAMS_BAD_NAME, "A.1001");
    check_tree_fails("A.99999999999999999999999=x", API_PARAMS_BAD_NAME, NULL);
    check_tree_fails("A.18446744073709551617=x", API_PARAMS_BAD_NAME, NULL);
    check_tree_fails("A.1.0.B=x", API_PARAMS_BAD_NAME, "A.1.0.B");
    /* Empty components. */
    check_tree_fails(".A=x", API_PARAMS_BAD_NAME, ".A");
    check_tree_fails("A.=x", API_PARAMS_BAD_NAME, "A.");
    check_tree_fails("A..B=x", API_PARAMS_BAD_NAME, "A..B");
    check_tree_fails(".=x", API_PARAMS_BAD_NAME, ".");
    /* Too deep: 9 components. */
    check_tree_fails("A.1.1.1.1.1.1.1.1=x", API_PARAMS_BAD_NAME, NULL);
    check_tree_fails("a.b.c.d.e.f.g.h.i=x", API_PARAMS_BAD_NAME, NULL);
    /* A good name before the bad one does not hide it. */
    check_tree_fails("Ok=1&B.0=x", API_PARAMS_BAD_NAME, "B.0");
}

static void test_tree_limits(void **state)
{
    struct api_param_limits lim = {1000, 128, 65536, 5, 3};

    check_tree_lim_fails("A.6=x", &lim, API_PARAMS_BAD_NAME, "A.6");
    check_tree_lim_fails("A.1.B.1=x", &lim, API_PARAMS_BAD_NAME, "A.1.B.1");

    /*
     * Far-apart indices in many lists would make a small request allocate a
     * lot of nulls; the padding is capped at max_count + max_index in all.
     */
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    for (int i = 1; i <= 3; i++)
        oa_buf_printf(&b, "%sL%d.1000=x", i > 1 ? "&" : "", i);
    oa_buf_cstr(&b);
    check_tree_lim_fails((const char *)b.data, &LIM, API_PARAMS_TOO_MANY, "L3.1000");
    oa_buf_reset(&b);
    for (int i = 1; i <= 2; i++)
        oa_buf_printf(&b, "%sL%d.1000=x", i > 1 ? "&" : "", i);
    oa_buf_cstr(&b);
    int err;
    char *bad;
    char *s = tree_of_lim((const char *)b.data, &LIM, &err, &bad);
    assert_int_equal(err, 0);
    free(s);
    oa_buf_free(&b);
}

static void test_tree_utf8(void **state)
{
    /* jansson strings must be UTF-8; the flat list may hold anything. */
    check_tree_fails("Name=%FF", API_PARAMS_BAD_ENCODING, "Name");
    check_tree_fails("Name=%C0%80", API_PARAMS_BAD_ENCODING, "Name");       /* overlong NUL */
    check_tree_fails("Name=%ED%A0%80", API_PARAMS_BAD_ENCODING, "Name");    /* surrogate */
    check_tree_fails("Name=%F4%90%80%80", API_PARAMS_BAD_ENCODING, "Name"); /* > U+10FFFF */
    check_tree_fails("Name=%E7%9B", API_PARAMS_BAD_ENCODING, "Name");       /* truncated */
    check_tree_fails("N%FFx=1", API_PARAMS_BAD_ENCODING, "N?x");
    check_tree("Name=%F4%8F%BF%BF%EF%BF%BF", "{\"Name\":\"\xF4\x8F\xBF\xBF\xEF\xBF\xBF\"}");
}

static void test_tree_1000_nested(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    struct api_params ps;
    json_t *tree = NULL;

    /* 250 layers of 4 parameters each: the biggest legal layout request. */
    for (int i = 1; i <= 250; i++)
        oa_buf_printf(&b,
                      "%sVideoLayer.%d.PositionNormalized.1=0.1&VideoLayer.%d.PositionNormalized.2="
                      "0.2&VideoLayer.%d.FillMode=fit&BlendList.%d=RV%02d",
                      i > 1 ? "&" : "", i, i, i, i, i % 100);
    api_params_init(&ps);
    assert_int_equal(api_params_parse(&ps, (const char *)b.data, b.len, &LIM, NULL), 0);
    assert_int_equal(ps.count, 1000);
    assert_int_equal(api_params_tree(&ps, &LIM, &tree, NULL), 0);
    assert_int_equal(json_array_size(json_object_get(tree, "VideoLayer")), 250);
    assert_int_equal(json_array_size(json_object_get(tree, "BlendList")), 250);
    json_t *pn = json_object_get(json_array_get(json_object_get(tree, "VideoLayer"), 249),
                                 "PositionNormalized");
    assert_string_equal(json_string_value(json_array_get(pn, 1)), "0.2");
    json_decref(tree);
    api_params_free(&ps);
    oa_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_form_decode),      cmocka_unit_test(test_parse_basic),
        cmocka_unit_test(test_parse_errors),     cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_1000),       cmocka_unit_test(test_parse_duplicate_late),
        cmocka_unit_test(test_bad_is_sanitized), cmocka_unit_test(test_tree_scalars),
        cmocka_unit_test(test_tree_lists),       cmocka_unit_test(test_tree_bad_names),
        cmocka_unit_test(test_tree_limits),      cmocka_unit_test(test_tree_utf8),
        cmocka_unit_test(test_tree_1000_nested),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
