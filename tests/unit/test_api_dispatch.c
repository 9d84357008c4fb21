/*
 * test_api_dispatch.c - the dispatcher end to end, in process: requests
 * built and signed here go through api_process() against a real store in a
 * temporary directory. Covers the success and error envelopes in JSON and
 * XML, the validation order of spec 1.5 (each test breaks two things and
 * checks that the earlier check answers), both signature schemes, nonce
 * replay, throttling, malformed parameters and tenancy.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include "api/api.h"
#include "api/dispatch.h"
#include "api/params.h"
#include "api/sign.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "hub/hub.h"
#include "record/config.h"
#include "store/account.h"
#include "store/db.h"
#include "store/domain.h"

#include <ftw.h>
#include <unistd.h>

#define NOW ((time_t)1700000000) /* 2023-11-14T22:13:20Z */
#define NOW_ISO "2023-11-14T22:13:20Z"
#define AK1 "LTAIunitTestKeyOne01"
#define SK1 "unitTestSecretNumberOne0000001"
#define AK2 "LTAIunitTestKeyTwo02"
#define SK2 "unitTestSecretNumberTwo0000002"
#define HOST "api.unit.test:8080"

static char datadir[] = "/tmp/onair-test-api-XXXXXX";
static int nonce_seq;
static int64_t clock_us = 1000000;

/* ===== request building ===== */

struct kv {
    const char *k, *v;
};

static void append_pair(struct oa_buf *b, const char *k, const char *v)
{
    if (b->len)
        oa_buf_append_u8(b, '&');
    api_percent_encode(b, k, strlen(k));
    oa_buf_append_u8(b, '=');
    api_percent_encode(b, v, strlen(v));
}

/*
 * The form text of a v1 request: common parameters (unless `bare`), the
 * given ones (a value of NULL drops a common one), and a Signature made
 * with secret over the text so far.
 */
static char *v1_text(const char *method, const char *secret, const struct kv *extra, bool bare)
{
    char nonce[32];
    oa_snprintf(nonce, sizeof(nonce), "nonce-%d", ++nonce_seq);
    struct kv common[] = {
        {"AccessKeyId", AK1},      {"Format", "JSON"},          {"SignatureMethod", "HMAC-SHA1"},
        {"SignatureNonce", nonce}, {"SignatureVersion", "1.0"}, {"Timestamp", NOW_ISO},
        {"Version", "2016-11-01"},
    };
    struct oa_buf b = OA_BUF_INIT(1 << 20);
    for (size_t i = 0; !bare && i < OA_ARRAY_SIZE(common); i++) {
        bool overridden = false;
        for (const struct kv *e = extra; e && e->k; e++)
            overridden |= strcmp(e->k, common[i].k) == 0;
        if (!overridden)
            append_pair(&b, common[i].k, common[i].v);
    }
    for (const struct kv *e = extra; e && e->k; e++)
        if (e->v)
            append_pair(&b, e->k, e->v);
    if (secret) {
        struct api_params ps;
        struct api_param_limits lim = API_PARAM_LIMITS_DEFAULT;
        struct oa_buf sts = OA_BUF_INIT(1 << 20);
        char sig[29];
        api_params_init(&ps);
        assert_int_equal(api_params_parse(&ps, (const char *)b.data, b.len, &lim, NULL), 0);
        assert_int_equal(api_sign_v1_string(&sts, method, ps.items, ps.count), 0);
        api_sign_v1(secret, (const char *)sts.data, sts.len, sig);
        append_pair(&b, "Signature", sig);
        oa_buf_free(&sts);
        api_params_free(&ps);
    }
    oa_buf_cstr(&b);
    return (char *)oa_buf_steal(&b, NULL);
}

static struct api_header host_hdr[] = {{"Host", HOST}};

/* Sends text as a GET query. */
static void get(const char *text, struct api_http_out *out)
{
    struct api_http_in in = {
        .method = "GET",
        .query = text,
        .headers = host_hdr,
        .nheaders = 1,
        .client_ip = "127.0.0.1",
        .now = NOW,
        .now_us = clock_us,
    };
    api_process(&in, out);
}

static void call_v1(const struct kv *extra, struct api_http_out *out)
{
    char *q = v1_text("GET", SK1, extra, false);
    get(q, out);
    oa_free(q);
}

static json_t *body_json(struct api_http_out *out)
{
    json_t *j = json_loadb((const char *)out->body.data, out->body.len, 0, NULL);
    assert_non_null(j);
    return j;
}

/* Asserts the JSON error envelope with this status and code; returns Message (static copy). */
static const char *expect_error(struct api_http_out *out, int status, const char *code)
{
    static char msg[65536];
    if (out->status != status || strcmp(out->code, code) != 0)
        fail_msg("want %d %s, got %d %s: %.*s", status, code, out->status, out->code,
                 (int)out->body.len, (const char *)out->body.data);
    assert_string_equal(out->content_type, "application/json;charset=utf-8");
    json_t *j = body_json(out);
    assert_string_equal(json_string_value(json_object_get(j, "RequestId")), out->request_id);
    assert_string_equal(json_string_value(json_object_get(j, "HostId")), HOST);
    assert_string_equal(json_string_value(json_object_get(j, "Code")), code);
    const char *rec = json_string_value(json_object_get(j, "Recommend"));
    assert_non_null(rec);
    assert_non_null(strstr(rec, code));
    oa_strlcpy(msg, json_string_value(json_object_get(j, "Message")), sizeof(msg));
    json_decref(j);
    api_http_out_free(out);
    return msg;
}

static void expect_ok(struct api_http_out *out)
{
    if (out->status != 200)
        fail_msg("want 200, got %d: %.*s", out->status, (int)out->body.len,
                 (const char *)out->body.data);
}

/* ===== fixtures ===== */

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int setup(void **state)
{
    int64_t id1, id2;
    bool created;
    oa_config_defaults(&oa_cfg);
    oa_log_level = OA_LOG_ERROR;
    json_set_alloc_funcs(oa_malloc, oa_free);
    if (!mkdtemp(datadir) || db_open(datadir) || account_open_keyfile(datadir) ||
        account_ensure_key(AK1, SK1, &id1, &created) ||
        account_ensure_key(AK2, SK2, &id2, &created))
        return -1;
    struct domain d = {.account_id = id1};
    oa_strlcpy(d.name, "one.example.com", sizeof(d.name));
    oa_strlcpy(d.type, "liveVideo", sizeof(d.type));
    oa_strlcpy(d.status, "online", sizeof(d.status));
    oa_strlcpy(d.region, "cn-shanghai", sizeof(d.region));
    api_state_init();
    hub_init(); /* DeleteLiveDomain kicks publishers: there are none */
    return domain_add(&d);
}

static int teardown(void **state)
{
    api_state_free();
    hub_shutdown();
    db_close();
    nftw(datadir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* ===== tests ===== */

static void test_success_json(void **state)
{
    struct api_http_out out;
    const struct kv p[] = {{"Action", "DescribeLiveUserDomains"}, {NULL, NULL}};
    call_v1(p, &out);
    expect_ok(&out);
    assert_string_equal(out.content_type, "application/json;charset=utf-8");
    assert_string_equal(out.code, "");
    json_t *j = body_json(&out);
    const char *rid = json_string_value(json_object_get(j, "RequestId"));
    assert_string_equal(rid, out.request_id);
    assert_int_equal(strlen(rid), 36);
    for (const char *c = rid; *c; c++)
        assert_true(*c == '-' || (*c >= '0' && *c <= '9') || (*c >= 'A' && *c <= 'F'));
    assert_int_equal(json_integer_value(json_object_get(j, "TotalCount")), 1);
    json_t *pd = json_object_get(json_object_get(j, "Domains"), "PageData");
    assert_string_equal(json_string_value(json_object_get(json_array_get(pd, 0), "DomainName")),
                        "one.example.com");
    json_decref(j);
    char first[37];
    memcpy(first, out.request_id, sizeof(first));
    api_http_out_free(&out);
    /* Every response has a fresh RequestId. */
    call_v1(p, &out);
    assert_string_not_equal(first, out.request_id);
    api_http_out_free(&out);
}

static void test_success_xml(void **state)
{
    struct api_http_out out;
    const struct kv p[] = {{"Action", "DescribeLiveUserDomains"}, {"Format", "xml"}, {NULL, NULL}};
    call_v1(p, &out);
    expect_ok(&out);
    assert_string_equal(out.content_type, "text/xml;charset=utf-8");
    const char *b = oa_buf_cstr(&out.body);
    assert_non_null(strstr(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                              "<DescribeLiveUserDomainsResponse><RequestId>"));
    assert_non_null(strstr(b, out.request_id));
    assert_non_null(strstr(b, "<Domains><PageData><DomainName>one.example.com</DomainName>"));
    assert_true(oa_str_has_suffix(b, "</DescribeLiveUserDomainsResponse>"));
    api_http_out_free(&out);

    /* Without Format, v1 answers XML (the documented default). */
    const struct kv q[] = {{"Action", "DescribeLiveUserDomains"}, {"Format", NULL}, {NULL, NULL}};
    call_v1(q, &out);
    expect_ok(&out);
    assert_string_equal(out.content_type, "text/xml;charset=utf-8");
    api_http_out_free(&out);
}

static void test_error_xml(void **state)
{
    struct api_http_out out;
    const struct kv p[] = {{"Action", "DescribeLiveDomainDetail"}, {"Format", "XML"}, {NULL, NULL}};
    call_v1(p, &out);
    assert_int_equal(out.status, 400);
    assert_string_equal(out.content_type, "text/xml;charset=utf-8");
    const char *b = oa_buf_cstr(&out.body);
    char want[512];
    oa_snprintf(want, sizeof(want),
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><RequestId>%s</RequestId>"
                "<HostId>" HOST "</HostId><Code>MissingDomainName</Code>"
                "<Message>DomainName is mandatory for this action.</Message><Recommend>",
                out.request_id);
    assert_non_null(strstr(b, want));
    assert_true(oa_str_has_suffix(b, "</Recommend></Error>"));
    api_http_out_free(&out);
}

static void test_order_action_first(void **state)
{
    struct api_http_out out;
    /* Unknown action, wrong version, bad signature: the action answers. */
    const struct kv p[] = {{"Action", "NoSuchThing"}, {"Version", "2014-05-26"}, {NULL, NULL}};
    char *q = v1_text("GET", "wrong", p, false);
    get(q, &out);
    oa_free(q);
    expect_error(&out, 404, "InvalidAction.NotFound");
    const struct kv p2[] = {{"Version", "2016-11-01"}, {NULL, NULL}};
    call_v1(p2, &out);
    expect_error(&out, 400, "MissingAction");
}

static void test_order_version(void **state)
{
    struct api_http_out out;
    const struct kv p[] = {{"Action", "DescribeLiveUserDomains"},
                           {"Version", "2014-05-26"},
                           {"Timestamp", "yesterday"},
                           {NULL, NULL}};
    call_v1(p, &out);
    const char *m = expect_error(&out, 400, "InvalidVersion");
    assert_string_equal(m, "Specified parameter Version is not valid.");
    const struct kv p2[] = {{"Action", "DescribeLiveUserDomains"}, {"Version", NULL}, {NULL, NULL}};
    call_v1(p2, &out);
    expect_error(&out, 400, "MissingVersion");
}

static void test_order_common_params(void **state)
{
    struct api_http_out out;
    /* Missing nonce and an expired timestamp: the missing parameter answers. */
    const struct kv p[] = {{"Action", "DescribeLiveUserDomains"},
                           {"SignatureNonce", NULL},
                           {"Timestamp", "2001-01-01T00:00:00Z"},
                           {NULL, NULL}};
    call_v1(p, &out);
    const char *m = expect_error(&out, 400, "MissingSignatureNonce");
    assert_string_equal(m, "SignatureNonce is mandatory for this action.");
    /* Unsigned. */
    const struct kv p2[] = {{"Action", "DescribeLiveUserDomains"}, {NULL, NULL}};
    char *q = v1_text("GET", NULL, p2, false);
    get(q, &out);
    oa_free(q);
    expect_error(&out, 400, "MissingSignature");
    const struct kv p3[] = {
        {"Action", "DescribeLiveUserDomains"}, {"SignatureMethod", "HMAC-SHA256"}, {NULL, NULL}};
    call_v1(p3, &out);
    expect_error(&out, 400, "IncompleteSignature");
}

static void test_order_timestamp(void **state)
{
    struct api_http_out out;
    /* Expired timestamp and an unknown AccessKeyId: the timestamp answers. */
    const struct kv p[] = {{"Action", "DescribeLiveUserDomains"},
                           {"AccessKeyId", "LTAInobody"},
                           {"Timestamp", "2023-11-14T21:58:19Z"}, /* 901 s early */
                           {NULL, NULL}};
    call_v1(p, &out);
    expect_error(&out, 400, "InvalidTimeStamp.Expired");
    const struct kv p2[] = {{"Action", "DescribeLiveUserDomains"},
                            {"Timestamp", "2023-11-14T22:28:21Z"}, /* 901 s late */
                            {NULL, NULL}};
    call_v1(p2, &out);
    expect_error(&out, 400, "InvalidTimeStamp.Expired");
    const struct kv p3[] = {
        {"Action", "DescribeLiveUserDomains"}, {"Timestamp", "2023-11-14 22:13"}, {NULL, NULL}};
    call_v1(p3, &out);
    expect_error(&out, 400, "InvalidTimeStamp.Format");
    /* The window's edges are inside it. */
    const struct kv p4[] = {
        {"Action", "DescribeLiveUserDomains"}, {"Timestamp", "2023-11-14T21:58:20Z"}, {NULL, NULL}};
    call_v1(p4, &out);
    expect_ok(&out);
    api_http_out_free(&out);
}

static void test_order_key_then_signature(void **state)
{
    struct api_http_out out;
    /* Unknown AccessKeyId and a wrong signature: the key answers, 404. */
    const struct kv p[] = {
        {"Action", "DescribeLiveUserDomains"}, {"AccessKeyId", "LTAInobody"}, {NULL, NULL}};
    char *q = v1_text("GET", "wrong", p, false);
    get(q, &out);
    oa_free(q);
    const char *m = expect_error(&out, 404, "InvalidAccessKeyId.NotFound");
    assert_string_equal(m, "Specified access key is not found.");
}

static void test_signature_mismatch(void **state)
{
    struct api_http_out out;
    const struct kv p[] = {{"Action", "DescribeLiveUserDomains"}, {NULL, NULL}};
    char *q = v1_text("GET", "wrong", p, false);
    get(q, &out);
    const char *m = expect_error(&out, 400, "SignatureDoesNotMatch");
    /* The message ends with the server's StringToSign, which the legacy SDKs compare. */
    const char *sts = strstr(m, "server string to sign is:");
    assert_non_null(sts);
    sts += strlen("server string to sign is:");
    static const char prefix[] =
        "GET&%2F&AccessKeyId%3D" AK1 "%26Action%3DDescribeLiveUserDomains%26Format%3DJSON";
    assert_true(strncmp(sts, prefix, strlen(prefix)) == 0);
    assert_non_null(strstr(sts, "Timestamp%3D2023-11-14T22%253A13%253A20Z"));
    /* The same request over POST is a different StringToSign. */
    struct api_http_in in = {.method = "POST",
                             .query = q,
                             .headers = host_hdr,
                             .nheaders = 1,
                             .now = NOW,
                             .now_us = clock_us};
    api_process(&in, &out);
    m = expect_error(&out, 400, "SignatureDoesNotMatch");
    assert_non_null(strstr(m, "is:POST&%2F&"));
    oa_free(q);
}

/* A raw '+' in the Signature decodes as a space; the server tries it as '+' too (spec 1.3). */
static void test_signature_plus(void **state)
{
    struct api_http_out out;
    for (int tries = 0; tries < 200; tries++) {
        const struct kv p[] = {{"Action", "DescribeLiveUserDomains"}, {NULL, NULL}};
        char *q = v1_text("GET", SK1, p, false);
        char *sig = strstr(q, "&Signature=");
        if (!strstr(sig, "%2B")) {
            oa_free(q);
            continue;
        }
        /* Turn every %2B back into a raw '+', as a careless client would send it. */
        struct oa_buf b = OA_BUF_INIT(1 << 20);
        oa_buf_append(&b, q, (size_t)(sig - q));
        for (const char *s = sig; *s; s++) {
            if (strncmp(s, "%2B", 3) == 0) {
                oa_buf_append_u8(&b, '+');
                s += 2;
            } else {
                oa_buf_append_u8(&b, (uint8_t)*s);
            }
        }
        get(oa_buf_cstr(&b), &out);
        expect_ok(&out);
        api_http_out_free(&out);
        oa_buf_free(&b);
        oa_free(q);
        return;
    }
    fail_msg("no signature with a '+' in 200 tries");
}

static void test_nonce(void **state)
{
    struct api_http_out out;
    const struct kv p[] = {
        {"Action", "DescribeLiveUserDomains"}, {"SignatureNonce", "fixed-nonce-1"}, {NULL, NULL}};
    /* A wrongly signed request does not use the nonce up... */
    char *bad = v1_text("GET", "wrong", p, false);
    get(bad, &out);
    oa_free(bad);
    expect_error(&out, 400, "SignatureDoesNotMatch");
    /* ...so the real one still works, once. */
    char *q = v1_text("GET", SK1, p, false);
    get(q, &out);
    expect_ok(&out);
    api_http_out_free(&out);
    get(q, &out);
    const char *m = expect_error(&out, 400, "SignatureNonceUsed");
    assert_string_equal(m, "Specified signature nonce was used already.");
    oa_free(q);
    /* The same nonce under the other account is not a replay. */
    const struct kv p2[] = {{"Action", "DescribeLiveUserDomains"},
                            {"SignatureNonce", "fixed-nonce-1"},
                            {"AccessKeyId", AK2},
                            {NULL, NULL}};
    q = v1_text("GET", SK2, p2, false);
    get(q, &out);
    expect_ok(&out);
    api_http_out_free(&out);
    oa_free(q);
}

static void test_throttle_before_params(void **state)
{
    struct api_http_out out;
    int ok = 0, throttled = 0;
    clock_us += 10 * 1000000LL;
    /* DescribeLiveStreamsPublishList: QPS 3. Missing DomainName, so "ok" means MissingDomainName.
     */
    for (int i = 0; i < 10; i++) {
        const struct kv p[] = {{"Action", "DescribeLiveStreamsPublishList"}, {NULL, NULL}};
        call_v1(p, &out);
        if (strcmp(out.code, "MissingDomainName") == 0)
            ok++;
        else if (strcmp(out.code, "Throttling.User") == 0) {
            assert_int_equal(out.status, 400);
            throttled++;
        }
        api_http_out_free(&out);
    }
    assert_int_equal(ok, 3);
    assert_int_equal(throttled, 7);
    /* A second later there are tokens again. */
    clock_us += 1000000;
    const struct kv p[] = {{"Action", "DescribeLiveStreamsPublishList"}, {NULL, NULL}};
    call_v1(p, &out);
    expect_error(&out, 400, "MissingDomainName");
}

/*
 * Each account's nonce set is bounded on its own: a full one answers
 * Throttling for that account only (replays still SignatureNonceUsed), and
 * a request refused by the rate limit does not use its nonce up.
 */
static void test_nonce_bound_per_account(void **state)
{
    struct api_http_out out;
    int saved = oa_cfg.api_nonce_max;
    api_state_free();
    oa_cfg.api_nonce_max = 3;
    api_state_init();
    clock_us += 10 * 1000000LL;
    /* QPS 3: the 4th is throttled, and its nonce stays unused. */
    const struct kv p[] = {{"Action", "DescribeLiveStreamsPublishList"}, {NULL, NULL}};
    for (int i = 0; i < 2; i++) {
        call_v1(p, &out);
        expect_error(&out, 400, "MissingDomainName");
    }
    const struct kv list[] = {{"Action", "DescribeLiveUserDomains"}, {NULL, NULL}};
    char *first = v1_text("GET", SK1, list, false);
    get(first, &out);
    expect_ok(&out);
    api_http_out_free(&out);
    /* Three accepted: the set is full. A replay is still a replay... */
    get(first, &out);
    expect_error(&out, 400, "SignatureNonceUsed");
    oa_free(first);
    /* ...and a new nonce is refused, with Throttling (not the rate limit's Throttling.User). */
    call_v1(list, &out);
    const char *m = expect_error(&out, 400, "Throttling");
    assert_string_equal(m, "Request was denied due to request throttling.");
    /* The other account is not affected. */
    const struct kv two[] = {
        {"Action", "DescribeLiveUserDomains"}, {"AccessKeyId", AK2}, {NULL, NULL}};
    char *q = v1_text("GET", SK2, two, false);
    get(q, &out);
    expect_ok(&out);
    api_http_out_free(&out);
    oa_free(q);

    /* Throttled requests leave nothing behind: account two, room for 4, QPS 3, 4 sent. */
    clock_us += 10 * 1000000LL;
    api_state_free();
    oa_cfg.api_nonce_max = 4;
    api_state_init();
    const struct kv pl2[] = {
        {"Action", "DescribeLiveStreamsPublishList"}, {"AccessKeyId", AK2}, {NULL, NULL}};
    for (int i = 0; i < 3; i++) {
        q = v1_text("GET", SK2, pl2, false);
        get(q, &out);
        expect_error(&out, 400, "MissingDomainName");
        oa_free(q);
    }
    q = v1_text("GET", SK2, pl2, false);
    get(q, &out);
    expect_error(&out, 400, "Throttling.User");
    /* The set has the three accepted ones, so there is room for exactly one more... */
    char *q2 = v1_text("GET", SK2, two, false);
    get(q2, &out);
    expect_ok(&out);
    api_http_out_free(&out);
    oa_free(q2);
    q2 = v1_text("GET", SK2, two, false);
    get(q2, &out);
    expect_error(&out, 400, "Throttling");
    oa_free(q2);
    /* ...and the throttled request, once tokens and room are back, is accepted. */
    api_state_free();
    api_state_init();
    get(q, &out);
    expect_error(&out, 400, "MissingDomainName");
    get(q, &out);
    expect_error(&out, 400, "SignatureNonceUsed");
    oa_free(q);

    api_state_free();
    oa_cfg.api_nonce_max = saved;
    api_state_init();
}

/*
 * DeleteLiveDomain removes the domain and its record configs in one
 * transaction: when the second part fails (a trigger makes it), the domain
 * is still there, configs and all.
 */
static void test_delete_domain_atomic(void **state)
{
    struct api_http_out out;
    clock_us += 10 * 1000000LL;
    assert_int_equal(rec_store_migrate(), 0);
    struct domain d = {.account_id = 0};
    int64_t id;
    char secret[ACCOUNT_SECRET_MAX + 1];
    bool active;
    assert_int_equal(account_lookup(AK1, &id, secret, &active), 0);
    d.account_id = id;
    oa_strlcpy(d.name, "del.example.com", sizeof(d.name));
    oa_strlcpy(d.type, "liveVideo", sizeof(d.type));
    oa_strlcpy(d.status, "online", sizeof(d.status));
    assert_int_equal(domain_add(&d), 0);
    const struct kv add[] = {{"Action", "AddLiveAppRecordConfig"},
                             {"DomainName", "del.example.com"},
                             {"AppName", "live"},
                             {"OssEndpoint", "local"},
                             {"OssBucket", "del-bucket"},
                             {"RecordFormat.1.Format", "flv"},
                             {NULL, NULL}};
    call_v1(add, &out);
    expect_ok(&out);
    api_http_out_free(&out);

    assert_int_equal(db_exec("CREATE TRIGGER keep_configs BEFORE DELETE ON record_configs "
                             "BEGIN SELECT RAISE(ABORT, 'injected failure'); END"),
                     0);
    const struct kv del[] = {
        {"Action", "DeleteLiveDomain"}, {"DomainName", "del.example.com"}, {NULL, NULL}};
    call_v1(del, &out);
    expect_error(&out, 500, "InternalError");
    struct domain got;
    assert_int_equal(domain_get("del.example.com", &got), 0);
    const struct kv describe[] = {
        {"Action", "DescribeLiveRecordConfig"}, {"DomainName", "del.example.com"}, {NULL, NULL}};
    call_v1(describe, &out);
    expect_ok(&out);
    json_t *j = body_json(&out);
    assert_int_equal(json_integer_value(json_object_get(j, "TotalNum")), 1);
    json_decref(j);
    api_http_out_free(&out);

    assert_int_equal(db_exec("DROP TRIGGER keep_configs"), 0);
    call_v1(del, &out);
    expect_ok(&out);
    api_http_out_free(&out);
    assert_int_equal(domain_get("del.example.com", &got), OA_ENOTFOUND);
}

static void test_param_errors(void **state)
{
    struct api_http_out out;
    get("Format=JSON&Action=DescribeLiveUserDomains&Action=Other", &out);
    const char *m = expect_error(&out, 400, "InvalidParameter");
    assert_non_null(strstr(m, "\"Action\""));
    get("Action=DescribeLiveUserDomains&Bad%zzName=1&Format=JSON", &out);
    expect_error(&out, 400, "InvalidParameter.Format");
    get("Action=DescribeLiveUserDomains&X=%FF%FE&Format=json", &out);
    m = expect_error(&out, 400, "InvalidParameter.Format");
    assert_non_null(strstr(m, "\"X\""));
    get("Format=JSON&Action=DescribeLiveUserDomains&Format2=yaml&Format=XML", &out);
    expect_error(&out, 400, "InvalidParameter");
    get("Format=yaml&Action=DescribeLiveUserDomains", &out);
    expect_error(&out, 400, "InvalidFormat.Malformed");
    /* Declared types: PageSize is an Integer. */
    const struct kv p[] = {
        {"Action", "DescribeLiveUserDomains"}, {"PageSize", "ten"}, {NULL, NULL}};
    call_v1(p, &out);
    m = expect_error(&out, 400, "InvalidPageSize.Malformed");
    assert_string_equal(m, "Specified parameter PageSize is not valid.");
    /* Declared scalar given as a list. */
    const struct kv p2[] = {
        {"Action", "DescribeLiveDomainDetail"}, {"DomainName.1", "x.example.com"}, {NULL, NULL}};
    call_v1(p2, &out);
    expect_error(&out, 400, "InvalidDomainName.Malformed");
    /* An empty required parameter is missing. */
    const struct kv p3[] = {
        {"Action", "DescribeLiveDomainDetail"}, {"DomainName", ""}, {NULL, NULL}};
    call_v1(p3, &out);
    expect_error(&out, 400, "MissingDomainName");
}

static void test_method(void **state)
{
    struct api_http_out out;
    const struct kv p[] = {{"Action", "DescribeLiveUserDomains"}, {NULL, NULL}};
    char *q = v1_text("PUT", SK1, p, false);
    struct api_http_in in = {.method = "PUT",
                             .query = q,
                             .headers = host_hdr,
                             .nheaders = 1,
                             .now = NOW,
                             .now_us = clock_us};
    api_process(&in, &out);
    oa_free(q);
    expect_error(&out, 403, "UnsupportedHTTPMethod");
}

/* POST with a form body: parameters come from query and body, both signed. */
/* A body over api_max_body is refused first, in the envelope, without being parsed. */
static void test_body_too_large(void **state)
{
    struct api_http_out out;
    size_t n = (size_t)oa_cfg.api_max_body + 1;
    char *body = oa_malloc(n);
    memset(body, '%', n); /* bad encoding too: the size answers first */
    struct api_header h[] = {{"Host", HOST}, {"Content-Type", "application/x-www-form-urlencoded"}};
    struct api_http_in in = {.method = "POST",
                             .query = "Format=JSON",
                             .body = (const uint8_t *)body,
                             .body_len = n,
                             .headers = h,
                             .nheaders = 2,
                             .now = NOW,
                             .now_us = clock_us};
    api_process(&in, &out);
    const char *m = expect_error(&out, 413, "RequestEntityTooLarge");
    assert_non_null(strstr(m, "is larger than the 1048576 bytes allowed"));
    /* One byte less is parsed (and fails on its encoding). */
    in.body_len = n - 1;
    api_process(&in, &out);
    expect_error(&out, 400, "InvalidParameter.Format");
    oa_free(body);
}

static void test_post_form(void **state)
{
    struct api_http_out out;
    const struct kv p[] = {{"Action", "DescribeLiveUserDomains"}, {"PageSize", "5"}, {NULL, NULL}};
    char *body = v1_text("POST", SK1, p, false);
    struct api_header h[] = {{"Host", HOST},
                             {"Content-Type", "application/x-www-form-urlencoded; charset=UTF-8"}};
    struct api_http_in in = {.method = "POST",
                             .query = "RegionId=cn-shanghai",
                             .body = (const uint8_t *)body,
                             .body_len = strlen(body),
                             .headers = h,
                             .nheaders = 2,
                             .now = NOW,
                             .now_us = clock_us};
    /* The query parameter is not in the signature: mismatch. */
    api_process(&in, &out);
    expect_error(&out, 400, "SignatureDoesNotMatch");
    oa_free(body);
    /* Signed over both, it works; PageSize from the body is used. */
    const struct kv p2[] = {{"Action", "DescribeLiveUserDomains"},
                            {"PageSize", "5"},
                            {"RegionId", "cn-shanghai"},
                            {NULL, NULL}};
    char *all = v1_text("POST", SK1, p2, false);
    char *rid = strstr(all, "&RegionId=cn-shanghai");
    assert_non_null(rid);
    memmove(rid, rid + strlen("&RegionId=cn-shanghai"),
            strlen(rid + strlen("&RegionId=cn-shanghai")) + 1);
    in.body = (const uint8_t *)all;
    in.body_len = strlen(all);
    api_process(&in, &out);
    expect_ok(&out);
    json_t *j = body_json(&out);
    assert_int_equal(json_integer_value(json_object_get(j, "PageSize")), 5);
    json_decref(j);
    api_http_out_free(&out);
    oa_free(all);
}

/* ===== v3 ===== */

static void v3_call(const char *query, const char *body, const char *hash_override,
                    const char *secret, const char *signed_headers, struct api_http_out *out)
{
    char nonce[32], hash[65], sig[65], auth[512];
    oa_snprintf(nonce, sizeof(nonce), "v3-nonce-%d", ++nonce_seq);
    api_sha256_hex(body ? body : "", body ? strlen(body) : 0, hash);
    struct api_header h[8] = {
        {"Host", HOST},
        {"x-acs-action", "DescribeLiveUserDomains"},
        {"x-acs-version", "2016-11-01"},
        {"x-acs-date", NOW_ISO},
        {"x-acs-signature-nonce", nonce},
        {"x-acs-content-sha256", hash_override ? hash_override : hash},
        {"Accept", "application/json"},
    };
    size_t nh = 7;
    struct api_params ps;
    struct api_param_limits lim = API_PARAM_LIMITS_DEFAULT;
    api_params_init(&ps);
    assert_int_equal(api_params_parse(&ps, query, strlen(query), &lim, NULL), 0);
    struct oa_buf canon = OA_BUF_INIT(1 << 20), sts = OA_BUF_INIT(1 << 20);
    const char *sh = signed_headers ? signed_headers
                                    : "host;x-acs-action;x-acs-content-sha256;x-acs-date;"
                                      "x-acs-signature-nonce;x-acs-version";
    assert_int_equal(api_sign_v3_canonical(&canon, "POST", "/", ps.items, ps.count, h, nh, sh,
                                           hash_override ? hash_override : hash),
                     0);
    assert_int_equal(api_sign_v3_string(&sts, (const char *)canon.data, canon.len), 0);
    api_sign_v3(secret, (const char *)sts.data, sts.len, sig);
    oa_snprintf(auth, sizeof(auth), "ACS3-HMAC-SHA256 Credential=%s,SignedHeaders=%s,Signature=%s",
                AK1, sh, sig);
    h[nh].name = "Authorization";
    h[nh++].value = auth;
    struct api_http_in in = {.method = "POST",
                             .query = query,
                             .body = (const uint8_t *)body,
                             .body_len = body ? strlen(body) : 0,
                             .headers = h,
                             .nheaders = nh,
                             .now = NOW,
                             .now_us = clock_us};
    api_process(&in, out);
    api_params_free(&ps);
    oa_buf_free(&canon);
    oa_buf_free(&sts);
}

static void test_v3(void **state)
{
    struct api_http_out out;
    v3_call("PageSize=7&RegionId=cn-shanghai", NULL, NULL, SK1, NULL, &out);
    expect_ok(&out);
    /* v3 answers JSON by default. */
    assert_string_equal(out.content_type, "application/json;charset=utf-8");
    json_t *j = body_json(&out);
    assert_int_equal(json_integer_value(json_object_get(j, "PageSize")), 7);
    json_decref(j);
    api_http_out_free(&out);

    v3_call("PageSize=7", NULL, NULL, "wrong", NULL, &out);
    const char *m = expect_error(&out, 400, "SignatureDoesNotMatch");
    assert_non_null(strstr(m, "server string to sign is:ACS3-HMAC-SHA256\n"));

    /* The body must be what x-acs-content-sha256 says. */
    v3_call("PageSize=7", "tampered",
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", SK1, NULL, &out);
    m = expect_error(&out, 400, "SignatureDoesNotMatch");
    assert_non_null(strstr(m, "x-acs-content-sha256"));

    /* The nonce and date must be signed. */
    v3_call("PageSize=7", NULL, NULL, SK1,
            "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-version", &out);
    expect_error(&out, 400, "IncompleteSignature");
    v3_call("PageSize=7", NULL, NULL, SK1, "x-acs-date;host", &out);
    expect_error(&out, 400, "IncompleteSignature");
}

static void test_v3_malformed_authorization(void **state)
{
    struct api_http_out out;
    struct api_header h[] = {{"Host", HOST},
                             {"Authorization", "ACS3-HMAC-SHA256 Credential=x"},
                             {"x-acs-action", "DescribeLiveUserDomains"},
                             {"x-acs-version", "2016-11-01"}};
    struct api_http_in in = {
        .method = "POST", .query = "", .headers = h, .nheaders = 4, .now = NOW, .now_us = clock_us};
    api_process(&in, &out);
    expect_error(&out, 400, "IncompleteSignature");
    h[1].value = "ACS3-HMAC-SHA256 Credential=" AK1 ",SignedHeaders=host,Signature="
                 "0000000000000000000000000000000000000000000000000000000000000000";
    api_process(&in, &out);
    const char *m = expect_error(&out, 400, "MissingParameter");
    assert_non_null(strstr(m, "x-acs-date"));
}

static void test_tenancy(void **state)
{
    struct api_http_out out;
    /* Account 2 cannot see account 1's domain: exactly as if it did not exist. */
    const struct kv p[] = {{"Action", "DescribeLiveDomainDetail"},
                           {"AccessKeyId", AK2},
                           {"DomainName", "one.example.com"},
                           {NULL, NULL}};
    char *q = v1_text("GET", SK2, p, false);
    get(q, &out);
    oa_free(q);
    const char *m1 = expect_error(&out, 404, "InvalidDomain.NotFound");
    char m1copy[256];
    oa_strlcpy(m1copy, m1, sizeof(m1copy));
    const struct kv p2[] = {{"Action", "DescribeLiveDomainDetail"},
                            {"AccessKeyId", AK2},
                            {"DomainName", "none.example.com"},
                            {NULL, NULL}};
    q = v1_text("GET", SK2, p2, false);
    get(q, &out);
    oa_free(q);
    assert_string_equal(expect_error(&out, 404, "InvalidDomain.NotFound"), m1copy);
    const struct kv p3[] = {
        {"Action", "DescribeLiveUserDomains"}, {"AccessKeyId", AK2}, {NULL, NULL}};
    q = v1_text("GET", SK2, p3, false);
    get(q, &out);
    oa_free(q);
    expect_ok(&out);
    json_t *j = body_json(&out);
    assert_int_equal(json_integer_value(json_object_get(j, "TotalCount")), 0);
    /* An empty list is [] in JSON. */
    assert_int_equal(json_array_size(json_object_get(json_object_get(j, "Domains"), "PageData")),
                     0);
    json_decref(j);
    api_http_out_free(&out);
    /* The owner sees it. */
    const struct kv p4[] = {
        {"Action", "DescribeLiveDomainDetail"}, {"DomainName", "ONE.example.com"}, {NULL, NULL}};
    call_v1(p4, &out);
    expect_ok(&out);
    api_http_out_free(&out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_success_json),
        cmocka_unit_test(test_success_xml),
        cmocka_unit_test(test_error_xml),
        cmocka_unit_test(test_order_action_first),
        cmocka_unit_test(test_order_version),
        cmocka_unit_test(test_order_common_params),
        cmocka_unit_test(test_order_timestamp),
        cmocka_unit_test(test_order_key_then_signature),
        cmocka_unit_test(test_signature_mismatch),
        cmocka_unit_test(test_signature_plus),
        cmocka_unit_test(test_nonce),
        cmocka_unit_test(test_throttle_before_params),
        cmocka_unit_test(test_nonce_bound_per_account),
        cmocka_unit_test(test_delete_domain_atomic),
        cmocka_unit_test(test_param_errors),
        cmocka_unit_test(test_method),
        cmocka_unit_test(test_body_too_large),
        cmocka_unit_test(test_post_form),
        cmocka_unit_test(test_v3),
        cmocka_unit_test(test_v3_malformed_authorization),
        cmocka_unit_test(test_tenancy),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
