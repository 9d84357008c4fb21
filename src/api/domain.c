/*
 * domain.c - domain handlers: add, map, start/stop, delete, describe, and
 * the per-domain "aliauth" URL-auth config.
 *
 * Handlers validate their parameters, then call store/domain.h. Stopping or
 * deleting a domain also disconnects the publishers that use it at once
 * (stream.c); access.c refuses new publishes and plays from then on.
 * Domain names are stored lower-case and are unique across all accounts; a
 * domain of another account answers InvalidDomain.NotFound, exactly like a
 * missing one.
 */
#include "api/domain.h"
#include "api/render.h"
#include "api/stream.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "record/config.h"
#include "store/db.h"

#include <ctype.h>

#define NOT_FOUND_MSG "The domain provided does not exist in our records."
#define ILLEGAL_MSG "Illegal domain operate is not permitted."
/* Domains named in one BatchSetLiveDomainConfigs. */
#define BATCH_MAX 50

int api_domain_owned(struct api_req *r, const char *name, struct domain *d)
{
    int rc = name && *name && strlen(name) < sizeof(d->name) ? domain_get(name, d) : OA_ENOTFOUND;
    if (rc == 0 && d->account_id == r->account_id)
        return 0;
    if (rc == 0 || rc == OA_ENOTFOUND)
        return api_error(r, 404, "InvalidDomain.NotFound", NOT_FOUND_MSG);
    return api_error_internal(r);
}

void api_domain_stream_key(const struct domain *d, char out[256])
{
    if (strcmp(d->type, "liveEdge") != 0 || domain_mapping_get(d->name, out) != 0)
        oa_strlcpy(out, d->name, 256);
}

/*
 * Hostname rules: labels of 1-63 letters, digits and '-' (not at either
 * end), at least two labels, a top-level label that is not all digits (so
 * no IP addresses), at most 253 bytes; a leading '.' makes a wildcard.
 * Writes the lower-cased name to out.
 */
static bool domain_name_ok(const char *s, char out[256])
{
    size_t n = strlen(s), start = s[0] == '.' ? 1 : 0;
    if (n - start == 0 || n - start > 253)
        return false;
    size_t labels = 0, len = 0;
    bool digits_only = true;
    for (size_t i = start; i <= n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.' || c == '\0') {
            if (len == 0 || len > 63 || s[i - 1] == '-')
                return false;
            labels++;
            if (c == '\0')
                break;
            len = 0;
            digits_only = true;
            continue;
        }
        if (!isalnum(c) && !(c == '-' && len > 0))
            return false;
        if (!isdigit(c))
            digits_only = false;
        len++;
    }
    if (labels < 2 || digits_only)
        return false;
    for (size_t i = 0; i <= n; i++)
        out[i] = (char)tolower((unsigned char)s[i]);
    return true;
}

/* Letters, digits and '-', 1-63 bytes (region names). */
static bool token_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

static bool one_of(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

/* "http(s)://host..." with a non-empty host and no blanks or control characters. */
static bool url_ok(const char *s)
{
    size_t skip = strncmp(s, "http://", 7) == 0 ? 7 : strncmp(s, "https://", 8) == 0 ? 8 : 0;
    if (!skip || !s[skip] || s[skip] == '/' || strlen(s) > 1024)
        return false;
    for (const char *p = s; *p; p++)
        if ((unsigned char)*p <= ' ' || *p == 0x7f)
            return false;
    return true;
}

/* The host users should CNAME their domains to: public_host, else the API's own Host. */
static void cname_of(struct api_req *r, char out[256])
{
    oa_strlcpy(out, oa_cfg.public_host[0] ? oa_cfg.public_host : r->host, 256);
    if (out[0] != '[')
        out[strcspn(out, ":")] = '\0';
}

static json_t *iso_time(int64_t t)
{
    char buf[21];
    oa_time_iso((time_t)t, buf);
    return json_string(buf);
}

int api_add_live_domain(struct api_req *r)
{
    static const char *const types[] = {"liveVideo", "liveEdge"};
    static const char *const scopes[] = {"domestic", "overseas", "global"};
    struct domain d;
    memset(&d, 0, sizeof(d));

    if (!domain_name_ok(api_str(r, "DomainName"), d.name))
        return api_error(r, 400, "InvalidDomainName.Malformed",
                         "Specified parameter DomainName is not valid: use a host name, or "
                         ".example.com for a wildcard.");
    const char *type = api_str(r, "LiveDomainType");
    if (!one_of(type, types, OA_ARRAY_SIZE(types)))
        return api_error_malformed(r, "LiveDomainType");
    const char *region = api_str(r, "Region");
    if (!token_ok(region, sizeof(d.region) - 1))
        return api_error_malformed(r, "Region");
    const char *scope = api_str_or(r, "Scope", "domestic");
    if (!one_of(scope, scopes, OA_ARRAY_SIZE(scopes)))
        return api_error_malformed(r, "Scope");
    if (api_has(r, "CheckUrl") && !url_ok(api_str(r, "CheckUrl")))
        return api_error(r, 400, "Abs.CheckUrl.Malformed",
                         "The CheckUrl you provided is malformed.");
    const char *rg = api_str_or(r, "ResourceGroupId", "");
    if (*rg && !token_ok(rg, sizeof(d.resource_group) - 1))
        return api_error_malformed(r, "ResourceGroupId");

    d.account_id = r->account_id;
    oa_strlcpy(d.type, type, sizeof(d.type));
    oa_strlcpy(d.status, "online", sizeof(d.status));
    oa_strlcpy(d.region, region, sizeof(d.region));
    oa_strlcpy(d.scope, scope, sizeof(d.scope));
    oa_strlcpy(d.resource_group, rg, sizeof(d.resource_group));
    int rc = domain_add(&d);
    if (rc == OA_EEXIST)
        return api_error(r, 400, "DomainAlreadyExist", "The specified domain already exists.");
    if (rc)
        return api_error_internal(r);
    oa_log(OA_LOG_INFO, "api: account %lld added domain %s (%s)", (long long)r->account_id, d.name,
           d.type);
    return 0;
}

/* Both mapping handlers: the caller's PullDomain (liveVideo) and PushDomain (liveEdge). */
static int mapping_domains(struct api_req *r, struct domain *pull, struct domain *push)
{
    if (api_domain_owned(r, api_str(r, "PullDomain"), pull) ||
        api_domain_owned(r, api_str(r, "PushDomain"), push))
        return -1;
    if (strcmp(pull->type, "liveVideo") != 0)
        return api_error(r, 403, "IllegalOperation",
                         ILLEGAL_MSG " PullDomain must be a liveVideo domain.");
    if (strcmp(push->type, "liveEdge") != 0)
        return api_error(r, 403, "IllegalOperation",
                         ILLEGAL_MSG " PushDomain must be a liveEdge domain.");
    return 0;
}

int api_add_live_domain_mapping(struct api_req *r)
{
    struct domain pull, push;
    char current[256];
    if (mapping_domains(r, &pull, &push))
        return -1;
    int rc = domain_mapping_get(push.name, current);
    if (rc == 0 && oa_strcaseeq(current, pull.name))
        return 0;
    if (rc == 0)
        return api_error(r, 400, "ConfigAlreadyExists",
                         "Config has already exist. PushDomain %s is mapped to %s; delete that "
                         "mapping first.",
                         push.name, current);
    if (rc != OA_ENOTFOUND || domain_map(push.name, pull.name))
        return api_error_internal(r);
    return 0;
}

int api_delete_live_domain_mapping(struct api_req *r)
{
    struct domain pull, push;
    char current[256];
    if (mapping_domains(r, &pull, &push))
        return -1;
    int rc = domain_mapping_get(push.name, current);
    if (rc == OA_ENOTFOUND || (rc == 0 && !oa_strcaseeq(current, pull.name)))
        return api_error(r, 404, "InvalidDomainMapping.NotFound",
                         "PushDomain %s is not mapped to PullDomain %s.", push.name, pull.name);
    if (rc || domain_unmap(push.name))
        return api_error_internal(r);
    return 0;
}

int api_delete_live_domain(struct api_req *r)
{
    struct domain d;
    if (api_domain_owned(r, api_str(r, "DomainName"), &d))
        return -1;
    /*
     * Recordings already made stay in storage and in the index; the configs
     * go, in the same transaction as the domain, so that a failure leaves
     * either both or neither (domain_delete's own transaction nests in it).
     */
    if (db_begin())
        return api_error_internal(r);
    if (domain_delete(d.name) || rec_configs_delete_domain(d.name) || db_commit()) {
        db_rollback();
        return api_error_internal(r);
    }
    size_t kicked = api_streams_kick_domain(d.name, "domain deleted");
    oa_log(OA_LOG_INFO, "api: account %lld deleted domain %s (%zu publishers disconnected)",
           (long long)r->account_id, d.name, kicked);
    return 0;
}

int api_start_live_domain(struct api_req *r)
{
    struct domain d;
    if (api_domain_owned(r, api_str(r, "DomainName"), &d))
        return -1;
    if (strcmp(d.status, "online") != 0 && domain_set_status(d.name, "online"))
        return api_error_internal(r);
    return 0;
}

int api_stop_live_domain(struct api_req *r)
{
    struct domain d;
    if (api_domain_owned(r, api_str(r, "DomainName"), &d))
        return -1;
    if (strcmp(d.status, "offline") != 0 && domain_set_status(d.name, "offline"))
        return api_error_internal(r);
    /* Already stopped still kicks: a publisher may have raced the first stop. */
    size_t kicked = api_streams_kick_domain(d.name, "domain stopped");
    oa_log(OA_LOG_INFO, "api: account %lld stopped domain %s (%zu publishers disconnected)",
           (long long)r->account_id, d.name, kicked);
    return 0;
}

int api_describe_live_domain_detail(struct api_req *r)
{
    struct domain d;
    char cname[256];
    if (api_domain_owned(r, api_str(r, "DomainName"), &d))
        return -1;
    cname_of(r, cname);
    json_t *o = json_object();
    json_object_set_new(o, "DomainName", json_string(d.name));
    json_object_set_new(o, "LiveDomainType", json_string(d.type));
    json_object_set_new(o, "DomainStatus", json_string(d.status));
    json_object_set_new(o, "Cname", json_string(cname));
    json_object_set_new(o, "Region", json_string(d.region));
    json_object_set_new(o, "Scope", json_string(d.scope));
    json_object_set_new(o, "CertName", json_string(""));
    json_object_set_new(o, "SSLProtocol", json_string("off"));
    json_object_set_new(o, "SSLPub", json_string(""));
    json_object_set_new(o, "Description", json_string(d.description));
    json_object_set_new(o, "GmtCreated", iso_time(d.created));
    json_object_set_new(o, "GmtModified", iso_time(d.modified));
    json_object_set_new(o, "ResourceGroupId", json_string(d.resource_group));
    json_object_set_new(r->resp, "DomainDetail", o);
    return 0;
}

/* ===== DescribeLiveUserDomains ===== */

enum search { SEARCH_FUZZY, SEARCH_PREFIX, SEARCH_SUFFIX, SEARCH_FULL };

struct user_domains {
    struct api_req *r;
    const char *name, *status, *type, *region, *rg;
    enum search search;
    long long skip, take;
    long long total;
    json_t *page;
    char cname[256];
};

static bool name_matches(const char *name, const char *want, enum search how)
{
    size_t n = strlen(name), w = strlen(want);
    switch (how) {
    case SEARCH_FULL:
        return oa_strcaseeq(name, want);
    case SEARCH_PREFIX:
        return n >= w && strncasecmp(name, want, w) == 0;
    case SEARCH_SUFFIX:
        return n >= w && oa_strcaseeq(name + n - w, want);
    default:
        return strcasestr(name, want) != NULL;
    }
}

static void collect_domain(const struct domain *d, void *arg)
{
    struct user_domains *u = arg;
    if ((u->name && !name_matches(d->name, u->name, u->search)) ||
        (u->status && strcmp(d->status, u->status) != 0) ||
        (u->type && strcmp(d->type, u->type) != 0) ||
        (u->region && strcmp(d->region, u->region) != 0) ||
        (u->rg && strcmp(d->resource_group, u->rg) != 0))
        return;
    long long i = u->total++;
    if (i < u->skip || i >= u->skip + u->take)
        return;
    json_t *o = json_object();
    json_object_set_new(o, "DomainName", json_string(d->name));
    json_object_set_new(o, "Cname", json_string(u->cname));
    json_object_set_new(o, "LiveDomainType", json_string(d->type));
    json_object_set_new(o, "LiveDomainStatus", json_string(d->status));
    json_object_set_new(o, "RegionName", json_string(d->region));
    json_object_set_new(o, "Description", json_string(d->description));
    json_object_set_new(o, "GmtCreated", iso_time(d->created));
    json_object_set_new(o, "GmtModified", iso_time(d->modified));
    json_object_set_new(o, "ResourceGroupId", json_string(d->resource_group));
    json_array_append_new(u->page, o);
}

int api_describe_live_user_domains(struct api_req *r)
{
    static const char *const searches[] = {"fuzzy_match", "pre_match", "suf_match", "full_match"};
    struct user_domains u;
    long long page, size;
    memset(&u, 0, sizeof(u));
    u.r = r;
    if (api_int(r, "PageNumber", 1, 1000000, 1, &page) < 0 ||
        api_int(r, "PageSize", 1, 50, 20, &size) < 0)
        return -1;
    const char *search = api_str_or(r, "DomainSearchType", "fuzzy_match");
    size_t i;
    for (i = 0; i < OA_ARRAY_SIZE(searches) && strcmp(search, searches[i]) != 0; i++)
        ;
    if (i == OA_ARRAY_SIZE(searches))
        return api_error_malformed(r, "DomainSearchType");
    u.search = (enum search)i;
    u.name = api_has(r, "DomainName") ? api_str(r, "DomainName") : NULL;
    u.status = api_has(r, "DomainStatus") ? api_str(r, "DomainStatus") : NULL;
    u.type = api_has(r, "LiveDomainType") ? api_str(r, "LiveDomainType") : NULL;
    u.region = api_has(r, "RegionName") ? api_str(r, "RegionName") : NULL;
    u.rg = api_has(r, "ResourceGroupId") ? api_str(r, "ResourceGroupId") : NULL;
    u.skip = (page - 1) * size;
    u.take = size;
    cname_of(r, u.cname);

    json_object_set_new(r->resp, "PageNumber", json_integer(page));
    json_object_set_new(r->resp, "PageSize", json_integer(size));
    json_t *total = json_integer(0);
    json_object_set_new(r->resp, "TotalCount", total);
    u.page = api_list(r->resp, "Domains", "PageData");
    if (domain_foreach(r->account_id, collect_domain, &u))
        return api_error_internal(r);
    json_integer_set(total, u.total);
    return 0;
}

/* ===== domain configs (aliauth) ===== */

static bool key_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 6 || n > 128)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return true;
}

static json_t *arg(const char *name, json_t *value)
{
    json_t *o = json_object();
    json_object_set_new(o, "argName", json_string(name));
    json_object_set_new(o, "argValue", value);
    return o;
}

/* Validates one aliauth function's args; returns the stored form (new reference) or NULL. */
static json_t *aliauth_args(struct api_req *r, json_t *args)
{
    const char *type = NULL, *k1 = "", *k2 = "";
    long long delta = 1800;
    size_t i;
    json_t *a;
    if (!json_is_array(args))
        goto malformed;
    json_array_foreach(args, i, a)
    {
        const char *name = json_string_value(json_object_get(a, "argName"));
        json_t *v = json_object_get(a, "argValue");
        const char *text = json_string_value(v);
        if (!name || (!text && !json_is_integer(v)))
            goto malformed;
        if (strcmp(name, "auth_type") == 0 && text)
            type = text;
        else if (strcmp(name, "auth_key1") == 0 && text)
            k1 = text;
        else if (strcmp(name, "auth_key2") == 0 && text)
            k2 = text;
        else if (strcmp(name, "ali_auth_delta") == 0) {
            if (json_is_integer(v))
                delta = json_integer_value(v);
            else if (oa_parse_int(text, 1, 1LL << 31, &delta) != 0)
                goto malformed;
            if (delta < 1 || delta > (1LL << 31))
                goto malformed;
        } else {
            api_error(r, 400, "InvalidFunctionArgs.Malformed", "aliauth has no argument \"%s\".",
                      name);
            return NULL;
        }
    }
    if (!type || (strcmp(type, "no_auth") != 0 && strcmp(type, "type_a") != 0)) {
        api_error(r, 400, "InvalidFunctionArgs.Malformed",
                  "aliauth auth_type must be no_auth or type_a (type_b and type_c are not "
                  "supported).");
        return NULL;
    }
    if (strcmp(type, "type_a") == 0 && (!key_ok(k1) || (*k2 && !key_ok(k2)))) {
        api_error(r, 400, "InvalidFunctionArgs.Malformed",
                  "aliauth auth_key1 (required) and auth_key2 must be 6-128 letters or digits.");
        return NULL;
    }
    json_t *out = json_array();
    json_array_append_new(out, arg("auth_type", json_string(type)));
    json_array_append_new(out, arg("auth_key1", json_string(k1)));
    json_array_append_new(out, arg("auth_key2", json_string(k2)));
    json_array_append_new(out, arg("ali_auth_delta", json_integer(delta)));
    return out;
malformed:
    api_error(r, 400, "InvalidFunctionArgs.Malformed",
              "functionArgs must be a list of {\"argName\":..., \"argValue\":...}.");
    return NULL;
}

/* Splits a comma list into at most max trimmed, non-empty names (in place in buf). */
static int split_list(char *buf, char **names, int max)
{
    int n = 0;
    for (char *p = buf; p && *p;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (*p == ' ')
            p++;
        char *end = p + strlen(p);
        while (end > p && end[-1] == ' ')
            *--end = '\0';
        if (*p) {
            if (n == max)
                return -1;
            names[n++] = p;
        }
        p = comma ? comma + 1 : NULL;
    }
    return n;
}

int api_batch_set_live_domain_configs(struct api_req *r)
{
    char list[BATCH_MAX * 256], *names[BATCH_MAX], owned[BATCH_MAX][256];
    struct domain d;
    const char *given = api_str(r, "DomainNames");
    if (strlen(given) >= sizeof(list))
        return api_error_malformed(r, "DomainNames");
    oa_strlcpy(list, given, sizeof(list));
    int n = split_list(list, names, BATCH_MAX);
    if (n <= 0)
        return api_error_malformed(r, "DomainNames");
    /* Every domain is checked before anything changes, so a batch applies whole or not at all. */
    for (int i = 0; i < n; i++) {
        if (api_domain_owned(r, names[i], &d))
            return -1;
        oa_strlcpy(owned[i], d.name, sizeof(owned[i]));
    }

    int rc = -1;
    json_t *stored = NULL;
    json_t *fns = api_json(r, "Functions");
    if (!fns)
        goto out;
    size_t i;
    json_t *f;
    if (!json_is_array(fns) || json_array_size(fns) == 0) {
        api_error_malformed(r, "Functions");
        goto out;
    }
    json_array_foreach(fns, i, f)
    {
        const char *name = json_string_value(json_object_get(f, "functionName"));
        if (!name) {
            api_error_malformed(r, "Functions");
            goto out;
        }
        if (strcmp(name, "aliauth") != 0) {
            api_error(r, 400, "InvalidFunctions.Malformed",
                      "functionName \"%s\" is not supported (supported: aliauth).", name);
            goto out;
        }
        json_decref(stored);
        stored = aliauth_args(r, json_object_get(f, "functionArgs"));
        if (!stored)
            goto out;
    }
    for (int k = 0; k < n; k++) {
        if (domain_config_set(owned[k], "aliauth", stored)) {
            api_error_internal(r);
            goto out;
        }
    }
    rc = 0;
out:
    json_decref(stored);
    json_decref(fns);
    return rc;
}

int api_describe_live_domain_configs(struct api_req *r)
{
    char list[4096], *names[64];
    struct domain d;
    if (api_domain_owned(r, api_str(r, "DomainName"), &d))
        return -1;
    const char *given = api_str(r, "FunctionNames");
    if (strlen(given) >= sizeof(list))
        return api_error_malformed(r, "FunctionNames");
    oa_strlcpy(list, given, sizeof(list));
    int n = split_list(list, names, (int)OA_ARRAY_SIZE(names));
    if (n <= 0)
        return api_error_malformed(r, "FunctionNames");
    json_t *configs = api_list(r->resp, "DomainConfigs", "DomainConfig");
    for (int i = 0; i < n; i++) {
        json_t *args = NULL;
        int64_t id = 0;
        int rc = domain_config_get(d.name, names[i], &args, &id);
        if (rc == OA_ENOTFOUND)
            continue;
        if (rc)
            return api_error_internal(r);
        char idtext[32];
        oa_snprintf(idtext, sizeof(idtext), "%lld", (long long)id);
        json_t *c = json_object();
        json_object_set_new(c, "FunctionName", json_string(names[i]));
        json_object_set_new(c, "ConfigId", json_string(idtext));
        json_object_set_new(c, "Status", json_string("success"));
        json_t *fa = api_list(c, "FunctionArgs", "FunctionArg");
        size_t k;
        json_t *a;
        json_array_foreach(args, k, a)
        {
            json_t *v = json_object_get(a, "argValue");
            char num[32];
            const char *text = json_string_value(v);
            if (!text) {
                oa_snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(v));
                text = num;
            }
            json_t *o = json_object();
            json_object_set(o, "ArgName", json_object_get(a, "argName"));
            json_object_set_new(o, "ArgValue", json_string(text));
            json_array_append_new(fa, o);
        }
        json_decref(args);
        json_array_append_new(configs, c);
    }
    return 0;
}

int api_delete_live_specific_config(struct api_req *r)
{
    struct domain d;
    long long want;
    if (api_domain_owned(r, api_str(r, "DomainName"), &d) ||
        api_int(r, "ConfigId", 1, INT64_MAX, 0, &want) < 0)
        return -1;
    json_t *args = NULL;
    int64_t id = 0;
    /* aliauth is the only function onair stores. */
    int rc = domain_config_get(d.name, "aliauth", &args, &id);
    json_decref(args);
    if (rc == OA_ENOTFOUND || (rc == 0 && id != want))
        return api_error(r, 404, "InvalidConfig.NotFound", "The specified config does not exist.");
    if (rc || domain_config_delete(d.name, "aliauth"))
        return api_error_internal(r);
    return 0;
}
