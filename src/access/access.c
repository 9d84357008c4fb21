/*
 * access.c - domain resolution, domain state, which domain may be used for
 * publishing or playing, URL auth type A, blocks and reserved names, in
 * that order.
 */
#include "access.h"
#include "api/urlauth.h"
#include "core/err.h"
#include "core/util.h"
#include "store/domain.h"
#include "store/streams.h"

#include <ctype.h>
#include <time.h>

static access_reserved_fn *reserved;

void access_set_publish_reserved(access_reserved_fn *fn)
{
    reserved = fn;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int access_query_param(const char *query, const char *name, char *out, size_t outlen)
{
    size_t nlen = strlen(name);
    const char *p = query;
    while (p && *p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nlen && strncmp(p, name, nlen) == 0 && p[nlen] == '=') {
            size_t o = 0;
            for (size_t i = nlen + 1; i < len && o + 1 < outlen; i++) {
                int c = (unsigned char)p[i];
                if (c == '%' && i + 2 < len && hexval(p[i + 1]) >= 0 && hexval(p[i + 2]) >= 0) {
                    c = hexval(p[i + 1]) * 16 + hexval(p[i + 2]);
                    i += 2;
                } else if (c == '+') {
                    c = ' ';
                }
                out[o++] = (char)c;
            }
            out[o] = '\0';
            return 0;
        }
        p = end ? end + 1 : NULL;
    }
    return -1;
}

bool access_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (!isalnum(c) && c != '_' && c != '-' && c != '.' && c != '~')
            return false;
    }
    return strcmp(s, ".") != 0 && strcmp(s, "..") != 0;
}

static int check_auth(const struct access_req *req, const char *domain, const char **why)
{
    json_t *args = NULL;
    if (domain_config_get(domain, "aliauth", &args, NULL) != 0)
        return 0;
    const char *type = "no_auth", *k1 = "", *k2 = "";
    long delta = 1800;
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a)
    {
        const char *n = json_string_value(json_object_get(a, "argName"));
        json_t *v = json_object_get(a, "argValue");
        if (!n)
            continue;
        if (strcmp(n, "auth_type") == 0 && json_is_string(v))
            type = json_string_value(v);
        else if (strcmp(n, "auth_key1") == 0 && json_is_string(v))
            k1 = json_string_value(v);
        else if (strcmp(n, "auth_key2") == 0 && json_is_string(v))
            k2 = json_string_value(v);
        else if (strcmp(n, "ali_auth_delta") == 0) {
            long long d;
            if (json_is_integer(v))
                delta = (long)json_integer_value(v);
            else if (json_is_string(v) && oa_parse_int(json_string_value(v), 0, 1LL << 31, &d) == 0)
                delta = (long)d;
        }
    }
    int r = 0;
    if (strcmp(type, "type_a") == 0) {
        char key[512];
        const char *auth =
            access_query_param(req->query, "auth_key", key, sizeof(key)) == 0 ? key : NULL;
        switch (urlauth_check(req->uri, auth, k1, k2, delta, time(NULL))) {
        case URLAUTH_OK:
            break;
        case URLAUTH_MISSING:
            *why = "auth_key missing";
            r = OA_EAUTH;
            break;
        case URLAUTH_EXPIRED:
            *why = "auth_key expired";
            r = OA_EAUTH;
            break;
        default:
            *why = "auth_key invalid";
            r = OA_EAUTH;
            break;
        }
    }
    json_decref(args);
    return r;
}

int access_check(const struct access_req *req, struct access_grant *grant, const char **why)
{
    struct domain d;
    char vhost[256];
    const char *host = req->host;

    if (!access_name_ok(req->app) || !access_name_ok(req->stream)) {
        *why = "bad app or stream name";
        return OA_EINVAL;
    }
    if (access_query_param(req->query, "vhost", vhost, sizeof(vhost)) == 0 && vhost[0])
        host = vhost;
    if (domain_resolve(host, &d, grant->domain) != 0) {
        *why = "no such domain";
        return OA_ENOTFOUND;
    }
    oa_strlcpy(grant->request_domain, d.name, sizeof(grant->request_domain));
    grant->account_id = d.account_id;
    if (strcmp(d.status, "online") != 0) {
        *why = "domain is stopped";
        return OA_EBUSY;
    }
    if (strcmp(grant->domain, d.name) != 0) {
        struct domain play;
        if (domain_get(grant->domain, &play) == 0 && strcmp(play.status, "online") != 0) {
            *why = "domain is stopped";
            return OA_EBUSY;
        }
    }
    /*
     * The stream is keyed by its play domain, whatever name the client used,
     * so whose URL auth applies must not depend on that name: a player has
     * to come through the play domain (an ingest domain that stands for
     * another domain serves no players), and a publisher through the ingest
     * domain when the play domain has one mapped. Otherwise either could
     * pick the domain whose aliauth is the weaker one.
     */
    bool via_ingest = strcmp(grant->domain, d.name) != 0;
    if (req->kind == ACCESS_PLAY && via_ingest) {
        *why = "an ingest domain serves no players";
        return OA_EAUTH;
    }
    if (req->kind == ACCESS_PUBLISH && !via_ingest) {
        bool has_ingest;
        if (domain_has_ingest(d.name, &has_ingest) != 0) {
            *why = "database error";
            return OA_EBUSY;
        }
        if (has_ingest) {
            *why = "publish through the domain's ingest domain";
            return OA_EAUTH;
        }
    }
    int r = check_auth(req, d.name, why);
    if (r)
        return r;
    if (req->kind == ACCESS_PUBLISH) {
        int64_t resume;
        if (streams_block_get(grant->domain, req->app, req->stream, &resume) == 0 ||
            (strcmp(grant->domain, d.name) != 0 &&
             streams_block_get(d.name, req->app, req->stream, &resume) == 0)) {
            *why = "stream is forbidden";
            return OA_EBUSY;
        }
        if (reserved && reserved(grant->domain, req->app, req->stream)) {
            *why = "the name is reserved for the server's own outputs";
            return OA_EBUSY;
        }
    }
    return 0;
}
