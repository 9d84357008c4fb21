/*
 * api.c - the control API's dispatcher: one HTTP request in, one JSON or XML
 * response out.
 *
 * The evhttp callback copies the request into a struct api_http_in and calls
 * api_process(), which runs the checks in the order dispatch.h lists, each
 * ending the request with the documented error, then the action's declared
 * parameter checks and its handler. Responses are built as jansson trees and
 * rendered by render.c in one place; every response, success or error, gets
 * a fresh RequestId (also in the x-acs-request-id header). Both signature
 * schemes share everything but the signature step: v1 signs the parameters
 * (query and form body); v3 signs a canonical request with selected headers,
 * and the body through x-acs-content-sha256.
 *
 * Replay protection keeps every accepted (AccessKeyId, nonce) for as long as
 * its timestamp is acceptable, in a bounded set per account (nonce.h); rate
 * limits are token buckets per account and action (ratelimit.h). Both live
 * on the loop thread.
 */
#include "api/api.h"
#include "api/dispatch.h"
#include "api/nonce.h"
#include "api/params.h"
#include "api/ratelimit.h"
#include "api/render.h"
#include "api/sign.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "http/server.h"
#include "store/account.h"

#include <ctype.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/crypto.h>
#include <stdarg.h>
#include <strings.h>

#define API_VERSION "2016-11-01"
/* The largest response we render (a full page of 3000 online streams is ~2 MB). */
#define RESP_MAX (64u << 20)
/* (account, action) buckets held at most. */
#define RATELIMIT_MAX 65536
/* Signed strings are echoed in SignatureDoesNotMatch; a huge one is cut there. */
#define STS_ECHO_MAX 16384

#define JSON_TYPE "application/json;charset=utf-8"
#define XML_TYPE "text/xml;charset=utf-8"

static struct {
    struct api_nonce_cache *nonces;
    struct api_ratelimit *limits;
    int64_t nonce_warned_us; /* when a full nonce set was last logged */
} A;

/* ===== handler helpers (api.h) ===== */

int api_error(struct api_req *r, int status, const char *code, const char *fmt, ...)
{
    va_list ap;
    r->status = status;
    oa_strlcpy(r->code, code, sizeof(r->code));
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof(r->message), fmt, ap);
    va_end(ap);
    return -1;
}

int api_error_missing(struct api_req *r, const char *name)
{
    char code[128];
    oa_snprintf(code, sizeof(code), "Missing%s", name);
    return api_error(r, 400, code, "%s is mandatory for this action.", name);
}

int api_error_internal(struct api_req *r)
{
    return api_error(r, 500, "InternalError",
                     "The request processing has failed due to some unknown error.");
}

int api_error_malformed(struct api_req *r, const char *name)
{
    char code[128];
    oa_snprintf(code, sizeof(code), "Invalid%s.Malformed", name);
    return api_error(r, 400, code, "Specified parameter %s is not valid.", name);
}

static json_t *param(struct api_req *r, const char *name)
{
    return r->params ? json_object_get(r->params, name) : NULL;
}

/* Absent, or an empty string: what every accessor treats as "not given". */
static bool absent(const json_t *v)
{
    return !v || (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0);
}

const char *api_str(struct api_req *r, const char *name)
{
    json_t *v = param(r, name);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

const char *api_str_or(struct api_req *r, const char *name, const char *fallback)
{
    const char *s = api_str(r, name);
    return s && *s ? s : fallback;
}

bool api_has(struct api_req *r, const char *name)
{
    return !absent(param(r, name));
}

int api_int(struct api_req *r, const char *name, long long min, long long max, long long def,
            long long *out)
{
    json_t *v = param(r, name);
    long long x;
    if (absent(v)) {
        *out = def;
        return 1;
    }
    if (!json_is_string(v) || oa_parse_int(json_string_value(v), min, max, &x) != 0)
        return api_error_malformed(r, name);
    *out = x;
    return 0;
}

int api_float(struct api_req *r, const char *name, double min, double max, double def, double *out)
{
    json_t *v = param(r, name);
    double x;
    if (absent(v)) {
        *out = def;
        return 1;
    }
    if (!json_is_string(v) || oa_parse_double(json_string_value(v), &x) != 0 || x < min || x > max)
        return api_error_malformed(r, name);
    *out = x;
    return 0;
}

int api_bool(struct api_req *r, const char *name, bool def, bool *out)
{
    json_t *v = param(r, name);
    if (absent(v)) {
        *out = def;
        return 1;
    }
    const char *s = json_is_string(v) ? json_string_value(v) : "";
    if (oa_strcaseeq(s, "true"))
        *out = true;
    else if (oa_strcaseeq(s, "false"))
        *out = false;
    else
        return api_error_malformed(r, name);
    return 0;
}

json_t *api_list_param(struct api_req *r, const char *name)
{
    json_t *v = param(r, name);
    return json_is_array(v) ? v : NULL;
}

json_t *api_json(struct api_req *r, const char *name)
{
    json_t *v = param(r, name);
    if (absent(v))
        return NULL;
    json_t *j = json_is_string(v) ? json_loads(json_string_value(v), JSON_DECODE_ANY, NULL) : NULL;
    if (!j)
        api_error_malformed(r, name);
    return j;
}

const struct api_action *api_action_find(const char *name)
{
    for (size_t i = 0; i < api_action_count; i++)
        if (strcmp(api_actions[i].name, name) == 0)
            return &api_actions[i];
    return NULL;
}

/* Checks the action's declared parameters: required ones given, typed ones well-formed. */
static int check_specs(struct api_req *r, const struct api_param_spec *specs)
{
    for (const struct api_param_spec *s = specs; s && s->name; s++) {
        json_t *v = param(r, s->name);
        if (absent(v)) {
            if (s->required)
                return api_error_missing(r, s->name);
            continue;
        }
        if (s->type == API_LIST) {
            if (!json_is_array(v))
                return api_error_malformed(r, s->name);
            continue;
        }
        /* Every scalar type arrives as a string; Name.1 would have made a list. */
        if (!json_is_string(v))
            return api_error_malformed(r, s->name);
        const char *text = json_string_value(v);
        long long i;
        double d;
        json_t *j;
        switch (s->type) {
        case API_STR:
        case API_LIST:
            break;
        case API_INT:
            if (oa_parse_int(text, INT64_MIN, INT64_MAX, &i) != 0)
                return api_error_malformed(r, s->name);
            break;
        case API_FLOAT:
            if (oa_parse_double(text, &d) != 0)
                return api_error_malformed(r, s->name);
            break;
        case API_BOOL:
            if (!oa_strcaseeq(text, "true") && !oa_strcaseeq(text, "false"))
                return api_error_malformed(r, s->name);
            break;
        case API_JSON:
            j = json_loads(text, JSON_DECODE_ANY, NULL);
            if (!j)
                return api_error_malformed(r, s->name);
            json_decref(j);
            break;
        }
    }
    return 0;
}

/* ===== the pipeline ===== */

enum format { FMT_JSON, FMT_XML };

struct ctx {
    const struct api_http_in *in;
    struct api_http_out *out;
    enum format fmt;
    char host[256];
    const char *action;
};

static const char *header(const struct api_http_in *in, const char *name)
{
    for (size_t i = 0; i < in->nheaders; i++)
        if (oa_strcaseeq(in->headers[i].name, name))
            return in->headers[i].value;
    return NULL;
}

static int render(struct ctx *c, const json_t *tree, const char *xml_root)
{
    struct api_http_out *out = c->out;
    oa_buf_reset(&out->body);
    out->content_type = c->fmt == FMT_XML ? XML_TYPE : JSON_TYPE;
    return c->fmt == FMT_XML ? api_render_xml(tree, xml_root, &out->body)
                             : api_render_json(tree, &out->body);
}

/* The error envelope (a new reference). */
static json_t *error_tree(struct ctx *c, const char *code, const char *message)
{
    struct api_http_out *out = c->out;
    char recommend[512];
    oa_snprintf(recommend, sizeof(recommend),
                "https://api.aliyun.com/troubleshoot?q=%s&product=Live&requestId=%s", code,
                out->request_id);
    json_t *t = json_object();
    json_object_set_new(t, "RequestId", json_string(out->request_id));
    json_object_set_new(t, "HostId", json_string(c->host));
    json_object_set_new(t, "Code", json_string(code));
    /* Messages may quote client bytes; jansson needs UTF-8, params.c made them so. */
    json_t *m = json_string(message);
    json_object_set_new(t, "Message", m ? m : json_string("(message not UTF-8)"));
    json_object_set_new(t, "Recommend", json_string(recommend));
    return t;
}

static void set_body(struct ctx *c, const json_t *tree, const char *xml_root)
{
    int r = render(c, tree, xml_root);
    if (r == 0)
        return;
    /* Only a response over RESP_MAX gets here: answer that, in the same renderer and format. */
    oa_log(OA_LOG_ERROR, "api: %s: cannot render the response: %s", c->action ? c->action : "-",
           oa_strerror(r));
    struct api_http_out *out = c->out;
    out->status = 500;
    oa_strlcpy(out->code, "InternalError", sizeof(out->code));
    json_t *t = error_tree(c, "InternalError", "The response is too large to send.");
    r = render(c, t, "Error");
    json_decref(t);
    OA_ASSERT(r == 0); /* five short strings always fit */
}

/* Ends the request with the error envelope. */
static void fail(struct ctx *c, int status, const char *code, const char *message)
{
    struct api_http_out *out = c->out;
    out->status = status;
    oa_strlcpy(out->code, code, sizeof(out->code));
    json_t *t = error_tree(c, code, message);
    set_body(c, t, "Error");
    json_decref(t);
}

static void failf(struct ctx *c, int status, const char *code, const char *fmt, ...)
    OA_PRINTF(4, 5);

static void failf(struct ctx *c, int status, const char *code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    fail(c, status, code, msg);
}

static void fail_missing(struct ctx *c, const char *name)
{
    char code[128];
    oa_snprintf(code, sizeof(code), "Missing%s", name);
    failf(c, 400, code, "%s is mandatory for this action.", name);
}

static void fail_params(struct ctx *c, int rc, const char *bad, const struct api_param_limits *lim)
{
    const char *what = bad ? bad : "";
    switch (rc) {
    case API_PARAMS_BAD_ENCODING:
        failf(c, 400, "InvalidParameter.Format",
              "Specified parameter format is not valid: \"%s\" is not percent-encoded UTF-8.",
              what);
        break;
    case API_PARAMS_TOO_MANY:
        failf(c, 400, "InvalidParameter",
              "The specified parameter \"%s\" is not valid: too many parameters or list "
              "elements (at most %zu parameters, list indices up to %u).",
              what, lim->max_count, lim->max_index);
        break;
    case API_PARAMS_TOO_LONG:
        failf(c, 400, "InvalidParameter",
              "The specified parameter \"%s\" is not valid: too long (names up to %zu bytes, "
              "values up to %zu bytes).",
              what, lim->max_name_len, lim->max_value_len);
        break;
    case API_PARAMS_DUPLICATE:
        failf(c, 400, "InvalidParameter",
              "The specified parameter \"%s\" is not valid: it is given more than once.", what);
        break;
    default:
        failf(c, 400, "InvalidParameter",
              "The specified parameter \"%s\" is not valid: malformed name.", what);
        break;
    }
}

static void fail_incomplete(struct ctx *c, const char *why)
{
    failf(c, 400, "IncompleteSignature",
          "The request signature does not conform to Aliyun standards. %s", why);
}

static void fail_signature(struct ctx *c, const char *why, const struct oa_buf *sts)
{
    struct oa_buf m = OA_BUF_INIT(STS_ECHO_MAX + 1024);
    oa_buf_printf(&m,
                  "Specified signature is not matched with our calculation.%s%s server string "
                  "to sign is:",
                  why ? " " : "", why ? why : "");
    oa_buf_append(&m, sts->data, OA_MIN(sts->len, (size_t)STS_ECHO_MAX));
    fail(c, 400, "SignatureDoesNotMatch", oa_buf_cstr(&m));
    oa_buf_free(&m);
}

/*
 * When the parameters cannot be parsed, the error should still come in the
 * format asked for: look for a plain "Format=json|xml" pair in the raw text.
 */
static void sniff_format(struct ctx *c, const char *s, size_t n)
{
    for (size_t i = 0; s && i < n;) {
        const char *amp = memchr(s + i, '&', n - i);
        size_t len = amp ? (size_t)(amp - (s + i)) : n - i;
        if (len >= 7 && strncmp(s + i, "Format=", 7) == 0) {
            /* The first one counts, as a duplicate is the error being reported. */
            if (len == 11 && strncasecmp(s + i + 7, "json", 4) == 0)
                c->fmt = FMT_JSON;
            else if (len == 10 && strncasecmp(s + i + 7, "xml", 3) == 0)
                c->fmt = FMT_XML;
            return;
        }
        i += len + 1;
    }
}

static bool is_form(const char *content_type)
{
    static const char form[] = "application/x-www-form-urlencoded";
    return content_type && strncasecmp(content_type, form, sizeof(form) - 1) == 0 &&
           (content_type[sizeof(form) - 1] == '\0' || content_type[sizeof(form) - 1] == ';' ||
            content_type[sizeof(form) - 1] == ' ');
}

/* Is name one of the ';'-separated lower-case names in list? */
static bool list_has(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (semi ? 1 : 0);
    }
    return false;
}

static bool list_sorted(const char *list)
{
    const char *prev = NULL;
    size_t prevlen = 0;
    for (const char *p = list; *p;) {
        const char *semi = strchr(p, ';');
        size_t len = semi ? (size_t)(semi - p) : strlen(p);
        if (prev) {
            int cmp = strncmp(prev, p, OA_MIN(prevlen, len));
            if (cmp > 0 || (cmp == 0 && prevlen >= len))
                return false;
        }
        prev = p;
        prevlen = len;
        p += len + (semi ? 1 : 0);
    }
    return true;
}

struct auth {
    bool v3;
    const char *key_id;
    const char *timestamp;
    const char *nonce;
    const char *signature; /* v1 */
    struct api_v3_auth v3auth;
    const char *content_sha256;
};

/* Common parameters present and of a supported kind; fills *a. 0 or -1 (failed). */
static int check_common(struct ctx *c, const struct api_params *ps, struct auth *a)
{
    if (!a->v3) {
        static const char *const required[] = {"AccessKeyId",     "Signature",
                                               "SignatureMethod", "SignatureVersion",
                                               "SignatureNonce",  "Timestamp"};
        for (size_t i = 0; i < OA_ARRAY_SIZE(required); i++) {
            const char *v = api_params_get(ps, required[i]);
            if (!v || !*v) {
                fail_missing(c, required[i]);
                return -1;
            }
        }
        if (strcmp(api_params_get(ps, "SignatureMethod"), "HMAC-SHA1") != 0) {
            fail_incomplete(c, "SignatureMethod must be HMAC-SHA1.");
            return -1;
        }
        if (strcmp(api_params_get(ps, "SignatureVersion"), "1.0") != 0) {
            fail_incomplete(c, "SignatureVersion must be 1.0.");
            return -1;
        }
        const char *type = api_params_get(ps, "SignatureType");
        if (type && *type) {
            fail_incomplete(c, "SignatureType is not supported (AccessKey signatures only).");
            return -1;
        }
        a->key_id = api_params_get(ps, "AccessKeyId");
        a->signature = api_params_get(ps, "Signature");
        a->nonce = api_params_get(ps, "SignatureNonce");
        a->timestamp = api_params_get(ps, "Timestamp");
        return 0;
    }
    if (api_v3_parse_authorization(header(c->in, "authorization"), &a->v3auth) != 0) {
        fail_incomplete(c, "The Authorization header is malformed.");
        return -1;
    }
    if (strcmp(a->v3auth.algorithm, "ACS3-HMAC-SHA256") != 0) {
        fail_incomplete(c, "The only supported algorithm is ACS3-HMAC-SHA256.");
        return -1;
    }
    static const char *const hdrs[] = {"x-acs-date", "x-acs-signature-nonce",
                                       "x-acs-content-sha256"};
    for (size_t i = 0; i < OA_ARRAY_SIZE(hdrs); i++) {
        const char *v = header(c->in, hdrs[i]);
        if (!v || !*v) {
            failf(c, 400, "MissingParameter",
                  "The input parameter \"%s\" that is mandatory for processing this request is "
                  "not supplied.",
                  hdrs[i]);
            return -1;
        }
    }
    if (!list_sorted(a->v3auth.signed_headers)) {
        fail_incomplete(c, "SignedHeaders must be sorted and unique.");
        return -1;
    }
    /* Unsigned, these could be changed by whoever replays the request. */
    static const char *const must_sign[] = {"x-acs-action", "x-acs-content-sha256", "x-acs-date",
                                            "x-acs-signature-nonce", "x-acs-version"};
    for (size_t i = 0; i < OA_ARRAY_SIZE(must_sign); i++) {
        if (header(c->in, must_sign[i]) && !list_has(a->v3auth.signed_headers, must_sign[i])) {
            char why[128];
            oa_snprintf(why, sizeof(why), "SignedHeaders must include %s.", must_sign[i]);
            fail_incomplete(c, why);
            return -1;
        }
    }
    a->key_id = a->v3auth.credential;
    a->timestamp = header(c->in, "x-acs-date");
    a->nonce = header(c->in, "x-acs-signature-nonce");
    a->content_sha256 = header(c->in, "x-acs-content-sha256");
    return 0;
}

/* Verifies the signature; 0, or -1 with the response set. */
static int check_signature(struct ctx *c, const struct api_params *ps, size_t nquery,
                           const struct auth *a, const char *secret)
{
    struct oa_buf sts = OA_BUF_INIT(SIZE_MAX / 2);
    const struct api_http_in *in = c->in;
    int ok = 0;

    if (!a->v3) {
        char sig[29];
        if (api_sign_v1_string(&sts, in->method, ps->items, ps->count) != 0)
            goto out;
        api_sign_v1(secret, (const char *)sts.data, sts.len, sig);
        size_t n = strlen(a->signature);
        ok = n == 28 && CRYPTO_memcmp(sig, a->signature, 28) == 0;
        if (!ok && n == 28 && strchr(a->signature, ' ')) {
            /* A raw '+' in the URL decodes as a space (spec 1.3). */
            char plus[29];
            memcpy(plus, a->signature, 29);
            for (char *p = plus; *p; p++)
                if (*p == ' ')
                    *p = '+';
            ok = CRYPTO_memcmp(sig, plus, 28) == 0;
        }
        OPENSSL_cleanse(sig, sizeof(sig));
        if (!ok)
            fail_signature(c, NULL, &sts);
        goto out;
    }

    char body_hash[65], sig[65];
    api_sha256_hex(in->body ? (const void *)in->body : "", in->body_len, body_hash);
    struct oa_buf canon = OA_BUF_INIT(SIZE_MAX / 2);
    int r = api_sign_v3_canonical(&canon, in->method, "/", ps->items, nquery, in->headers,
                                  in->nheaders, a->v3auth.signed_headers, body_hash);
    if (r == 0)
        r = api_sign_v3_string(&sts, (const char *)canon.data, canon.len);
    oa_buf_free(&canon);
    if (r != 0) {
        fail_incomplete(c, "SignedHeaders is malformed.");
        goto out;
    }
    if (strlen(a->content_sha256) != 64 || strncasecmp(a->content_sha256, body_hash, 64) != 0) {
        fail_signature(c, "The x-acs-content-sha256 header does not match the request body.", &sts);
        goto out;
    }
    api_sign_v3(secret, (const char *)sts.data, sts.len, sig);
    ok = CRYPTO_memcmp(sig, a->v3auth.signature, 64) == 0;
    OPENSSL_cleanse(sig, sizeof(sig));
    if (!ok)
        fail_signature(c, NULL, &sts);
out:
    oa_buf_free(&sts);
    return ok ? 0 : -1;
}

static void run_action(struct ctx *c, const struct api_action *act, int64_t account_id,
                       json_t *tree)
{
    struct api_req r;
    char root[128];
    memset(&r, 0, sizeof(r));
    r.account_id = account_id;
    r.action = act->name;
    r.params = tree;
    oa_strlcpy(r.host, c->host, sizeof(r.host));
    oa_strlcpy(r.client_ip, c->in->client_ip ? c->in->client_ip : "", sizeof(r.client_ip));
    memcpy(r.request_id, c->out->request_id, sizeof(r.request_id));
    r.status = 200;
    r.resp = json_object();
    json_object_set_new(r.resp, "RequestId", json_string(r.request_id));

    int rc = check_specs(&r, act->params);
    if (rc == 0)
        rc = act->handler(&r);
    if (rc < 0 || r.status >= 400) {
        if (r.status < 400 || !r.code[0]) {
            oa_log(OA_LOG_ERROR, "api: %s failed without saying why", act->name);
            api_error(&r, 500, "InternalError",
                      "The request processing has failed due to some unknown error.");
        }
        fail(c, r.status, r.code, r.message);
    } else {
        c->out->status = 200;
        oa_snprintf(root, sizeof(root), "%sResponse", act->name);
        set_body(c, r.resp, root);
    }
    json_decref(r.resp);
}

void api_state_init(void)
{
    if (!A.nonces)
        A.nonces = api_nonce_new((size_t)oa_cfg.api_nonce_max);
    if (!A.limits)
        A.limits = api_ratelimit_new(RATELIMIT_MAX);
}

void api_state_free(void)
{
    api_nonce_free(A.nonces);
    api_ratelimit_free(A.limits);
    A.nonces = NULL;
    A.limits = NULL;
}

static void pipeline(struct ctx *c, struct api_params *ps, json_t **tree)
{
    const struct api_http_in *in = c->in;
    struct api_http_out *out = c->out;
    const struct api_param_limits lim = API_PARAM_LIMITS_DEFAULT;
    char *bad = NULL;
    int rc;
    struct auth a;
    memset(&a, 0, sizeof(a));

    /* v3 when an Authorization header comes without a v1 Signature parameter. */
    bool v3 = header(in, "authorization") != NULL;
    c->fmt = v3 ? FMT_JSON : FMT_XML;
    if (in->body_len > (size_t)oa_cfg.api_max_body) {
        /* Not parsed at all: only the query can say which format the error should have. */
        if (in->query)
            sniff_format(c, in->query, strlen(in->query));
        failf(c, 413, "RequestEntityTooLarge",
              "The request body (%zu bytes) is larger than the %d bytes allowed.", in->body_len,
              oa_cfg.api_max_body);
        return;
    }
    if (in->query && (rc = api_params_parse(ps, in->query, strlen(in->query), &lim, &bad)) != 0)
        goto params_failed;
    size_t nquery = ps->count;
    if (strcmp(in->method, "POST") == 0 && in->body_len && is_form(header(in, "content-type")) &&
        (rc = api_params_parse(ps, (const char *)in->body, in->body_len, &lim, &bad)) != 0)
        goto params_failed;
    if (v3 && api_params_get(ps, "Signature"))
        v3 = false;
    a.v3 = v3;
    c->fmt = v3 ? FMT_JSON : FMT_XML;
    const char *format = api_params_get(ps, "Format");
    if (format && *format) {
        if (oa_strcaseeq(format, "JSON"))
            c->fmt = FMT_JSON;
        else if (oa_strcaseeq(format, "XML"))
            c->fmt = FMT_XML;
        else {
            c->fmt = FMT_JSON;
            fail(c, 400, "InvalidFormat.Malformed", "Specified parameter Format is not valid.");
            return;
        }
    }
    if ((rc = api_params_tree(ps, &lim, tree, &bad)) != 0)
        goto params_failed;

    if (strcmp(in->method, "GET") != 0 && strcmp(in->method, "POST") != 0) {
        fail(c, 403, "UnsupportedHTTPMethod", "Specified HTTP method is not supported.");
        return;
    }
    const char *action = v3 ? header(in, "x-acs-action") : NULL;
    if (!action || !*action)
        action = api_params_get(ps, "Action");
    if (!action || !*action) {
        fail_missing(c, "Action");
        return;
    }
    oa_strlcpy(out->action, action, sizeof(out->action));
    const struct api_action *act = api_action_find(action);
    if (!act) {
        fail(c, 404, "InvalidAction.NotFound",
             "Specified api is not found, please check your url and method.");
        return;
    }
    c->action = act->name;
    const char *version = v3 ? header(in, "x-acs-version") : NULL;
    if (!version || !*version)
        version = api_params_get(ps, "Version");
    if (!version || !*version) {
        fail_missing(c, "Version");
        return;
    }
    if (strcmp(version, API_VERSION) != 0) {
        fail(c, 400, "InvalidVersion", "Specified parameter Version is not valid.");
        return;
    }
    if (check_common(c, ps, &a) != 0)
        return;
    oa_strlcpy(out->key_id, a.key_id, sizeof(out->key_id));

    time_t now = in->now ? in->now : time(NULL), ts;
    if (oa_time_parse_iso(a.timestamp, &ts) != 0) {
        fail(c, 400, "InvalidTimeStamp.Format",
             "Specified time stamp or date value is not well formatted.");
        return;
    }
    if (ts > now + oa_cfg.api_time_window_s || ts < now - oa_cfg.api_time_window_s) {
        fail(c, 400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.");
        return;
    }

    char secret[ACCOUNT_SECRET_MAX + 1];
    int64_t account_id = 0;
    bool active = false;
    rc = strlen(a.key_id) > ACCOUNT_KEY_ID_MAX
             ? OA_ENOTFOUND
             : account_lookup(a.key_id, &account_id, secret, &active);
    if (rc == OA_ENOTFOUND) {
        fail(c, 404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.");
        return;
    }
    if (rc != 0) {
        fail(c, 500, "InternalError",
             "The request processing has failed due to some unknown error.");
        return;
    }
    if (!active) {
        OPENSSL_cleanse(secret, sizeof(secret));
        fail(c, 400, "InvalidAccessKeyId.Inactive", "Specified access key is disabled.");
        return;
    }
    rc = check_signature(c, ps, nquery, &a, secret);
    OPENSSL_cleanse(secret, sizeof(secret));
    if (rc != 0)
        return;

    api_state_init();
    rc = api_nonce_check(A.nonces, account_id, a.key_id, a.nonce, (int64_t)now);
    if (rc == OA_EEXIST) {
        fail(c, 400, "SignatureNonceUsed", "Specified signature nonce was used already.");
        return;
    }
    if (rc != 0) {
        /* One line per episode is enough: every refused request has its own log line. */
        int64_t mono = oa_mono_us();
        if (!A.nonce_warned_us || mono - A.nonce_warned_us > 10 * 1000000LL) {
            oa_log(OA_LOG_WARN,
                   "api: ak=%s: its account has %zu nonces remembered (api_nonce_max): refusing "
                   "its requests until some expire",
                   a.key_id, api_nonce_count(A.nonces, account_id));
            A.nonce_warned_us = mono;
        }
        fail(c, 400, "Throttling", "Request was denied due to request throttling.");
        return;
    }
    int64_t retry_ms = 0;
    if (api_ratelimit_take(A.limits, account_id, (int)(act - api_actions), act->limit,
                           act->window_s, in->now_us ? in->now_us : oa_mono_us(), &retry_ms) != 0) {
        fail(c, 400, "Throttling.User", "Request was denied due to user flow control.");
        return;
    }
    /* Only accepted requests are remembered: a refused one did nothing, so its replay is harmless.
     */
    api_nonce_add(A.nonces, account_id, a.key_id, a.nonce, (int64_t)ts + oa_cfg.api_time_window_s);
    run_action(c, act, account_id, *tree);
    return;

params_failed:
    if (in->query)
        sniff_format(c, in->query, strlen(in->query));
    if (in->body_len && is_form(header(in, "content-type")))
        sniff_format(c, (const char *)in->body, in->body_len);
    fail_params(c, rc, bad, &lim);
    oa_free(bad);
}

void api_process(const struct api_http_in *in, struct api_http_out *out)
{
    int64_t t0 = oa_mono_us();
    struct ctx c;
    memset(&c, 0, sizeof(c));
    memset(out, 0, sizeof(*out));
    oa_buf_init(&out->body, RESP_MAX);
    oa_uuid(out->request_id);
    c.in = in;
    c.out = out;
    const char *host = header(in, "host");
    oa_strlcpy(c.host, host ? host : "", sizeof(c.host));

    struct api_params ps;
    json_t *tree = NULL;
    api_params_init(&ps);
    pipeline(&c, &ps, &tree);
    json_decref(tree);
    api_params_free(&ps);

    double ms = (double)(oa_mono_us() - t0) / 1000.0;
    /* Successful reads are frequent and dull; everything else is worth a line. */
    int level = out->status == 200 && strncmp(out->action, "Describe", 8) == 0 ? OA_LOG_DEBUG
                : out->status >= 500                                           ? OA_LOG_WARN
                                                                               : OA_LOG_INFO;
    oa_log(level, "api: %s %s ak=%s %d %s %.2fms", in->client_ip ? in->client_ip : "-",
           out->action[0] ? out->action : "-", out->key_id[0] ? out->key_id : "-", out->status,
           out->code[0] ? out->code : "OK", ms);
}

void api_http_out_free(struct api_http_out *out)
{
    oa_buf_free(&out->body);
}

/* ===== HTTP ===== */

static const char *reason(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 409:
        return "Conflict";
    case 413:
        return "Payload Too Large";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    default:
        return "Error";
    }
}

static const char *method_name(enum evhttp_cmd_type cmd)
{
    switch (cmd) {
    case EVHTTP_REQ_GET:
        return "GET";
    case EVHTTP_REQ_POST:
        return "POST";
    case EVHTTP_REQ_HEAD:
        return "HEAD";
    case EVHTTP_REQ_OPTIONS:
        return "OPTIONS";
    default:
        return "OTHER";
    }
}

static void on_request(struct evhttp_request *req, void *arg)
{
    const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
    struct evbuffer *inbuf = evhttp_request_get_input_buffer(req);
    struct evkeyvalq *hq = evhttp_request_get_input_headers(req);
    struct evkeyval *kv;
    size_t n = 0;

    /* keyvalq_struct.h has the queue's fields but not sys/queue.h's TAILQ_FOREACH. */
    for (kv = hq->tqh_first; kv; kv = kv->next.tqe_next)
        n++;
    struct api_header *hs = oa_malloc((n ? n : 1) * sizeof(*hs));
    n = 0;
    for (kv = hq->tqh_first; kv; kv = kv->next.tqe_next) {
        hs[n].name = kv->key;
        hs[n].value = kv->value;
        n++;
    }
    struct api_http_in in = {
        .method = method_name(evhttp_request_get_command(req)),
        .query = uri ? evhttp_uri_get_query(uri) : NULL,
        .body_len = evbuffer_get_length(inbuf),
        .headers = hs,
        .nheaders = n,
        .client_ip = http_client_ip(req),
    };
    if (in.body_len)
        in.body = evbuffer_pullup(inbuf, -1);
    struct api_http_out out;
    api_process(&in, &out);
    oa_free(hs);

    struct evkeyvalq *oh = evhttp_request_get_output_headers(req);
    evhttp_add_header(oh, "Content-Type", out.content_type);
    evhttp_add_header(oh, "x-acs-request-id", out.request_id);
    struct evbuffer *b = evbuffer_new();
    evbuffer_add(b, out.body.data ? (const void *)out.body.data : "", out.body.len);
    evhttp_send_reply(req, out.status, reason(out.status), b);
    evbuffer_free(b);
    api_http_out_free(&out);
}

void api_init(void)
{
    api_state_init();
    http_server_route(HTTP_ROUTE_API, on_request, NULL);
}

void api_stop(void)
{
    http_server_route(HTTP_ROUTE_API, NULL, NULL);
    api_state_free();
}
