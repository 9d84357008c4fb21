/*
 * test_render.c - JSON and XML rendering of response trees: the list
 * convention, escaping, numbers, nesting, and limits.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/render.h"
#include "core/buf.h"
#include "core/err.h"

#define XML_DECL "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"

static void check_json(const json_t *tree, const char *want)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    assert_int_equal(api_render_json(tree, &b), 0);
    assert_int_equal(b.len, strlen(want));
    assert_string_equal(oa_buf_cstr(&b), want);
    oa_buf_free(&b);
}

static void check_xml(const json_t *tree, const char *root, const char *want_body)
{
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    char want[8192];
    snprintf(want, sizeof(want), XML_DECL "<%s>%s</%s>", root, want_body, root);
    assert_int_equal(api_render_xml(tree, root, &b), 0);
    assert_string_equal(oa_buf_cstr(&b), want);
    oa_buf_free(&b);
}

static json_t *caster(const char *id, const char *name, int status)
{
    json_t *c = json_object();
    json_object_set_new(c, "CasterId", json_string(id));
    json_object_set_new(c, "CasterName", json_string(name));
    json_object_set_new(c, "Status", json_integer(status));
    json_object_set_new(c, "ChannelEnable", json_integer(1));
    json_t *tags = api_list(c, "Tags", "tag");
    json_t *t = json_object();
    json_object_set_new(t, "TagKey", json_string("env"));
    json_object_set_new(t, "TagValue", json_string("prod"));
    json_array_append_new(tags, t);
    return c;
}

/* Spec 2.1: {"CasterList":{"Caster":[...]}} and <CasterList><Caster>..</Caster>.. */
static void test_caster_list(void **state)
{
    json_t *resp = json_object();
    json_object_set_new(resp, "RequestId", json_string("16A96B9A-F203-4EC5-8E43-CB92E68F4CD8"));
    json_object_set_new(resp, "Total", json_integer(2));
    json_t *list = api_list(resp, "CasterList", "Caster");
    assert_non_null(list);
    assert_true(json_is_array(list));
    json_array_append_new(list, caster("c1", "first", 1));
    json_array_append_new(list, caster("c2", "second", 0));

    check_json(
        resp,
        "{\"RequestId\":\"16A96B9A-F203-4EC5-8E43-CB92E68F4CD8\",\"Total\":2,\"CasterList\":"
        "{\"Caster\":[{\"CasterId\":\"c1\",\"CasterName\":\"first\",\"Status\":1,"
        "\"ChannelEnable\":1,\"Tags\":{\"tag\":[{\"TagKey\":\"env\",\"TagValue\":\"prod\"}]}},"
        "{\"CasterId\":\"c2\",\"CasterName\":\"second\",\"Status\":0,\"ChannelEnable\":1,"
        "\"Tags\":{\"tag\":[{\"TagKey\":\"env\",\"TagValue\":\"prod\"}]}}]}}");
    check_xml(resp, "DescribeCastersResponse",
              "<RequestId>16A96B9A-F203-4EC5-8E43-CB92E68F4CD8</RequestId><Total>2</Total>"
              "<CasterList><Caster><CasterId>c1</CasterId><CasterName>first</CasterName>"
              "<Status>1</Status><ChannelEnable>1</ChannelEnable><Tags><tag><TagKey>env</TagKey>"
              "<TagValue>prod</TagValue></tag></Tags></Caster><Caster><CasterId>c2</CasterId>"
              "<CasterName>second</CasterName><Status>0</Status><ChannelEnable>1</ChannelEnable>"
              "<Tags><tag><TagKey>env</TagKey><TagValue>prod</TagValue></tag></Tags></Caster>"
              "</CasterList>");
    json_decref(resp);
}

static void test_empty_list(void **state)
{
    json_t *resp = json_object();
    json_object_set_new(resp, "RequestId", json_string("R"));
    api_list(resp, "CasterList", "Caster");
    json_object_set_new(resp, "Total", json_integer(0));
    check_json(resp, "{\"RequestId\":\"R\",\"CasterList\":{\"Caster\":[]},\"Total\":0}");
    check_xml(resp, "R", "<RequestId>R</RequestId><CasterList></CasterList><Total>0</Total>");
    json_decref(resp);

    resp = json_object();
    check_json(resp, "{}");
    check_xml(resp, "EmptyResponse", "");
    json_decref(resp);
}

/* Scalar lists: "BlendList":{"LocationId":["RV01","RV02"]}. */
static void test_scalar_list(void **state)
{
    json_t *resp = json_object();
    json_t *l = api_list(resp, "BlendList", "LocationId");
    json_array_append_new(l, json_string("RV01"));
    json_array_append_new(l, json_string("RV02"));
    check_json(resp, "{\"BlendList\":{\"LocationId\":[\"RV01\",\"RV02\"]}}");
    check_xml(resp, "X",
              "<BlendList><LocationId>RV01</LocationId><LocationId>RV02</LocationId></BlendList>");
    json_decref(resp);
}

static void test_escaping(void **state)
{
    json_t *resp = json_object();
    json_object_set_new(resp, "S", json_string("a&b<c>d\"e'f/g\\h"));
    check_json(resp, "{\"S\":\"a&b<c>d\\\"e'f/g\\\\h\"}");
    check_xml(resp, "R", "<S>a&amp;b&lt;c&gt;d&quot;e&apos;f/g\\h</S>");
    json_object_set_new(resp, "S", json_string("&amp;"));
    check_xml(resp, "R", "<S>&amp;amp;</S>");
    json_decref(resp);

    /* UTF-8 passes through unescaped in both. */
    resp = json_object();
    json_object_set_new(resp, "Text", json_string("直播\xF0\x9F\x8E\xA5 é"));
    check_json(resp, "{\"Text\":\"直播\xF0\x9F\x8E\xA5 é\"}");
    check_xml(resp, "R", "<Text>直播\xF0\x9F\x8E\xA5 é</Text>");
    json_decref(resp);
}

/*
 * Control characters: JSON escapes them; XML 1.0 cannot hold them at all, so
 * they become U+FFFD. Tab and LF stay, CR is a character reference.
 */
static void test_control_chars(void **state)
{
    json_t *resp = json_object();
    json_object_set_new(resp, "C",
                        json_stringn("a\x01"
                                     "b\tc\nd\re\x1f"
                                     "f\x7f",
                                     12));
    check_json(resp, "{\"C\":\"a\\u0001b\\tc\\nd\\re\\u001Ff\x7f\"}");
    check_xml(resp, "R",
              "<C>a\xEF\xBF\xBD"
              "b\tc\nd&#xD;e\xEF\xBF\xBD"
              "f\x7f</C>");
    json_decref(resp);

    /* An embedded NUL (json_stringn allows it) and the non-characters U+FFFE/U+FFFF. */
    resp = json_object();
    json_object_set_new(resp, "N", json_stringn("x\0y\xEF\xBF\xBE\xEF\xBF\xBFz", 10));
    check_xml(resp, "R", "<N>x\xEF\xBF\xBDy\xEF\xBF\xBD\xEF\xBF\xBDz</N>");
    json_decref(resp);

    /* Bytes that are not UTF-8 (only reachable with jansson's _nocheck calls). */
    resp = json_object();
    json_object_set_new(resp, "B", json_string_nocheck("a\xFF\xC3z\xE7\x9B"));
    check_xml(resp, "R", "<B>a\xEF\xBF\xBD\xEF\xBF\xBDz\xEF\xBF\xBD\xEF\xBF\xBD</B>");
    /* jansson refuses to dump it; that is an error, not a broken document. */
    struct oa_buf b = OA_BUF_INIT(1024);
    assert_int_equal(api_render_json(resp, &b), OA_EINVAL);
    oa_buf_free(&b);
    json_decref(resp);
}

static void test_numbers(void **state)
{
    json_t *resp = json_object();
    json_object_set_new(resp, "Zero", json_integer(0));
    json_object_set_new(resp, "Neg", json_integer(-42));
    json_object_set_new(resp, "Big", json_integer(9007199254740993LL));
    json_object_set_new(resp, "Half", json_real(0.5));
    json_object_set_new(resp, "One", json_real(1.0));
    json_object_set_new(resp, "Tenth", json_real(0.1));
    json_object_set_new(resp, "Tiny", json_real(1e-7));
    json_object_set_new(resp, "Sum", json_real(0.1 + 0.2));
    json_object_set_new(resp, "Huge", json_real(1e20));
    json_object_set_new(resp, "NegReal", json_real(-2.25));
    json_object_set_new(resp, "T", json_true());
    json_object_set_new(resp, "F", json_false());
    json_object_set_new(resp, "Nil", json_null());
    json_object_set_new(resp, "Str", json_string("0.1"));

    check_json(resp, "{\"Zero\":0,\"Neg\":-42,\"Big\":9007199254740993,\"Half\":0.5,\"One\":1.0,"
                     "\"Tenth\":0.1,\"Tiny\":1e-7,\"Sum\":0.3,\"Huge\":1e20,\"NegReal\":-2.25,"
                     "\"T\":true,\"F\":false,\"Nil\":null,\"Str\":\"0.1\"}");
    check_xml(resp, "R",
              "<Zero>0</Zero><Neg>-42</Neg><Big>9007199254740993</Big><Half>0.5</Half>"
              "<One>1.0</One><Tenth>0.1</Tenth><Tiny>1e-7</Tiny><Sum>0.3</Sum><Huge>1e20</Huge>"
              "<NegReal>-2.25</NegReal><T>true</T><F>false</F><Nil></Nil><Str>0.1</Str>");
    json_decref(resp);
}

/* DescribeCasterLayouts: VideoLayer items with PositionNormalizeds.Position[] of reals. */
static void test_nested_arrays(void **state)
{
    json_t *resp = json_object();
    json_t *layers = api_list(resp, "VideoLayers", "VideoLayer");
    json_t *vl = json_object();
    json_object_set_new(vl, "HeightNormalized", json_real(0.3));
    json_t *pos = api_list(vl, "PositionNormalizeds", "Position");
    json_array_append_new(pos, json_real(0.1));
    json_array_append_new(pos, json_real(0.2));
    json_array_append_new(layers, vl);

    check_json(resp, "{\"VideoLayers\":{\"VideoLayer\":[{\"HeightNormalized\":0.3,"
                     "\"PositionNormalizeds\":{\"Position\":[0.1,0.2]}}]}}");
    check_xml(resp, "R",
              "<VideoLayers><VideoLayer><HeightNormalized>0.3</HeightNormalized>"
              "<PositionNormalizeds><Position>0.1</Position><Position>0.2</Position>"
              "</PositionNormalizeds></VideoLayer></VideoLayers>");
    json_decref(resp);

    /* A list of lists keeps its shape: each inner list is one element holding its items. */
    resp = json_object();
    json_t *outer = json_array();
    json_t *a = json_array();
    json_array_append_new(a, json_integer(1));
    json_array_append_new(a, json_integer(2));
    json_array_append_new(outer, a);
    json_array_append_new(outer, json_array());
    json_array_append_new(outer, json_null());
    json_array_append_new(outer, json_string("s"));
    json_object_set_new(resp, "M", outer);
    check_json(resp, "{\"M\":[[1,2],[],null,\"s\"]}");
    check_xml(resp, "R", "<M><M>1</M><M>2</M></M><M></M><M></M><M>s</M>");
    json_decref(resp);

    /* A bare array at top level (DescribeLiveRecordNotifyRecords.CallbackList). */
    resp = json_object();
    json_t *cb = json_array();
    json_t *item = json_object();
    json_object_set_new(item, "StreamName", json_string("s1"));
    json_array_append_new(cb, item);
    json_object_set_new(resp, "CallbackList", cb);
    check_xml(resp, "R", "<CallbackList><StreamName>s1</StreamName></CallbackList>");
    json_decref(resp);
}

/* Keys are chosen by handlers, but a bad one must not break the document. */
static void test_bad_names(void **state)
{
    json_t *resp = json_object();
    json_object_set_new(resp, "a b<c>", json_integer(1));
    json_object_set_new(resp, "1st", json_integer(2));
    json_object_set_new(resp, "", json_integer(3));
    json_object_set_new(resp, "ok-name.v_2", json_integer(4));
    json_object_set_new(resp, "é", json_integer(5));
    check_xml(resp, "R",
              "<a_b_c_>1</a_b_c_><_st>2</_st><_>3</_><ok-name.v_2>4</ok-name.v_2>"
              "<__>5</__>");
    json_decref(resp);
}

static void test_errors(void **state)
{
    struct oa_buf b = OA_BUF_INIT(1 << 16);
    json_t *arr = json_array();
    assert_int_equal(api_render_xml(arr, "R", &b), OA_EINVAL);
    json_decref(arr);

    /* The buffer's ceiling holds for both renderers. */
    json_t *resp = json_object();
    json_object_set_new(resp, "Long", json_string("0123456789012345678901234567890123456789"));
    struct oa_buf small = OA_BUF_INIT(32);
    assert_int_equal(api_render_json(resp, &small), OA_ETOOBIG);
    assert_int_equal(small.len, 0);
    assert_int_equal(api_render_xml(resp, "R", &small), OA_ETOOBIG);
    oa_buf_free(&small);

    /* Rendering appends to what is already there. */
    assert_int_equal(oa_buf_append_str(&b, "prefix:"), 0);
    assert_int_equal(api_render_json(resp, &b), 0);
    assert_string_equal(oa_buf_cstr(&b),
                        "prefix:{\"Long\":\"0123456789012345678901234567890123456789\"}");
    json_decref(resp);

    /* A tree deeper than any response (or one that contains itself) is refused. */
    resp = json_object();
    json_t *cur = resp;
    for (int i = 0; i < 300; i++) {
        json_t *n = json_object();
        json_object_set_new(cur, "D", n);
        cur = n;
    }
    oa_buf_reset(&b);
    assert_int_equal(api_render_xml(resp, "R", &b), OA_EINVAL);
    json_decref(resp);
    oa_buf_free(&b);
}

static void test_api_list_replaces(void **state)
{
    json_t *resp = json_object();
    json_t *a = api_list(resp, "L", "I");
    json_array_append_new(a, json_integer(1));
    json_t *b2 = api_list(resp, "L", "J");
    json_array_append_new(b2, json_integer(2));
    check_json(resp, "{\"L\":{\"J\":[2]}}");
    json_decref(resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_caster_list),   cmocka_unit_test(test_empty_list),
        cmocka_unit_test(test_scalar_list),   cmocka_unit_test(test_escaping),
        cmocka_unit_test(test_control_chars), cmocka_unit_test(test_numbers),
        cmocka_unit_test(test_nested_arrays), cmocka_unit_test(test_bad_names),
        cmocka_unit_test(test_errors),        cmocka_unit_test(test_api_list_replaces),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
