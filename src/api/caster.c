/*
 * caster.c - production studio handlers (see caster.h).
 *
 * Each handler checks the form of its parameters (ids, URLs, layout
 * geometry through studio/caster_spec.h), calls one model function and
 * renders the result; the model's CASTER_E* codes become API errors in
 * one table (fail()). Output URLs are built per request, for the host the
 * client used to reach the API (or public_host), so they play from where
 * the client is; they are signed afresh each time when the caster's domain
 * has URL auth type A.
 */
#include "api/caster.h"
#include "api/domain.h"
#include "api/render.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/util.h"
#include "store/bucket.h"
#include "studio/caster.h"

#include <ctype.h>
#include <strings.h>

/* Tags per caster, as Aliyun allows. */
#define TAGS_MAX 20
#define NAME_MAX_LEN 256
/* DescribeCasters page size: default and largest. */
#define PAGE_SIZE_DEFAULT 100
#define PAGE_SIZE_MAX 100

/* ===== errors ===== */

/* Ends the request with the API error for a model code. */
static int fail(struct api_req *r, int e)
{
    switch (e) {
    case CASTER_ENOCASTER:
        return api_error(r, 404, "InvalidCaster.NotFound", "The caster does not exist.");
    case CASTER_ERUNNING:
        return api_error(r, 400, "IncorrectCasterStatus",
                         "The caster is running; this operation needs an idle caster.");
    case CASTER_EIDLE:
        return api_error(r, 400, "IncorrectCasterStatus.Idle",
                         "The caster is not started; call StartCaster first.");
    case CASTER_ENODOMAIN:
        return api_error(r, 404, "InvalidDomainName.NotFound",
                         "The caster has no DomainName (set one with SetCasterConfig), or the "
                         "domain no longer exists.");
    case CASTER_ENOSCENE:
        return api_error(r, 404, "InvalidScene.NotFound", "The scene does not exist.");
    case CASTER_ESCENETYPE:
        return api_error(r, 401, "IllegalOperation",
                         "Not permitted on this scene: StartCasterScene and StopCasterScene take "
                         "the PVW scene; CopyCasterSceneConfig copies from PVW to PGM.");
    case CASTER_ESCENEIDLE:
        return api_error(r, 400, "IncorrectSceneStatus.Idle", "The scene is not running.");
    case CASTER_ENOLAYOUT:
        return api_error(r, 404, "InvalidLayout.NotFound", "The layout does not exist.");
    case CASTER_ELAYOUTUSED:
        return api_error(r, 400, "IncorrectLayoutStatus.Inuse",
                         "The layout is set on a scene; change the scene's layout first.");
    case CASTER_ENORESOURCE:
        return api_error(r, 404, "InvalidResource.NotFound", "The video resource does not exist.");
    case CASTER_ELOCATIONUSED:
        return api_error(r, 400, "InvalidLocationId.Duplicate",
                         "Another video resource of the caster has this LocationId.");
    case CASTER_ENOLOCATION:
        return api_error(r, 400, "ResourceNumberExceed",
                         "Every LocationId from RV01 to RV99 is in use.");
    case CASTER_ELIMIT:
        return api_error(r, 400, "CasterNumberExceed", "The number casters is exceeded");
    case CASTER_EOUTPUTBUSY:
        return api_error(r, 400, "IncorrectSceneStatus",
                         "The scene's output stream is in use by another publisher.");
    default:
        return api_error_internal(r);
    }
}

/* ===== parameters ===== */

/* A required id parameter (the dispatcher saw it present): Invalid<Name>.Malformed if not an id. */
static const char *id_param(struct api_req *r, const char *name)
{
    const char *s = api_str(r, name);
    if (!s || !caster_id_ok(s)) {
        api_error_malformed(r, name);
        return NULL;
    }
    return s;
}

/* An optional id parameter: NULL and no error when absent. */
static int opt_id_param(struct api_req *r, const char *name, const char **out)
{
    *out = NULL;
    if (!api_has(r, name))
        return 0;
    return (*out = id_param(r, name)) ? 0 : -1;
}

static int perr_fail(struct api_req *r, const struct caster_perr *e)
{
    char code[128];
    oa_snprintf(code, sizeof(code), "Invalid%s.Malformed", e->param);
    return api_error(r, 400, code, "%s", e->msg);
}

/* A free-text parameter of at most max bytes ("" when absent). */
static int text_param(struct api_req *r, const char *name, size_t max, const char **out)
{
    *out = api_str_or(r, name, "");
    if (strlen(*out) > max)
        return api_error(r, 400, "InvalidParameter",
                         "The specified parameter \"%s\" is not valid: longer than %zu bytes.",
                         name, max);
    return 0;
}

/* An ISO time parameter, normalized into out ("" when absent). */
static int time_param(struct api_req *r, const char *name, char out[21], time_t *t)
{
    time_t v = 0;
    out[0] = '\0';
    if (t)
        *t = 0;
    if (!api_has(r, name))
        return 0;
    if (oa_time_parse_iso(api_str(r, name), &v) != 0)
        return api_error_malformed(r, name);
    oa_time_iso(v, out);
    if (t)
        *t = v;
    return 0;
}

static json_t *iso(int64_t t)
{
    char b[21];
    if (t <= 0)
        return json_string("");
    oa_time_iso((time_t)t, b);
    return json_string(b);
}

/* Tag.N.Key / Tag.N.Value into [{"Key","Value"}] (new reference); NULL with the error set. */
static json_t *tags_param(struct api_req *r)
{
    json_t *list = api_list_param(r, "Tag"), *out = json_array();
    size_t i;
    json_t *t;
    if (json_array_size(list) > TAGS_MAX)
        goto bad;
    json_array_foreach(list, i, t)
    {
        const char *k = json_string_value(json_object_get(t, "Key"));
        const char *v = json_string_value(json_object_get(t, "Value"));
        if (!json_is_object(t) || !k || !*k || strlen(k) > 128 || (v && strlen(v) > 128))
            goto bad;
        json_t *o = json_object();
        json_object_set_new(o, "Key", json_string(k));
        json_object_set_new(o, "Value", json_string(v ? v : ""));
        json_array_append_new(out, o);
    }
    return out;
bad:
    json_decref(out);
    api_error(r, 400, "InvalidTag.Malformed",
              "Tag.N.Key (1-128 bytes) and Tag.N.Value (up to 128 bytes), at most %d tags.",
              TAGS_MAX);
    return NULL;
}

/* ClientToken: at most 64 printable ASCII characters (spec 1.2). */
static bool token_ok(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return n <= 64;
}

static void endpoint(struct api_req *r, struct caster_endpoint *ep)
{
    caster_endpoint_make(oa_cfg.public_host, r->host, oa_cfg.rtmp_listen, oa_cfg.http_listen, ep);
}

/* ===== casters ===== */

int api_create_caster(struct api_req *r)
{
    const char *token = api_str(r, "ClientToken"), *charge = api_str(r, "ChargeType");
    const char *name, *tpl = api_str_or(r, "CasterTemplate", ""), *group;
    long long norm, mic;
    char purchase[21], expire[21], id[65], tpl_lc[16] = "";
    if (!token_ok(token))
        return api_error_malformed(r, "ClientToken");
    if (strcmp(charge, "PostPaid") != 0 && strcmp(charge, "PrePaid") != 0)
        return api_error_malformed(r, "ChargeType");
    if (api_int(r, "NormType", 0, 100, 1, &norm) < 0)
        return -1;
    if (norm != 1)
        return api_error(r, 400, "InvalidNormType.Malformed",
                         "NormType %lld is not supported: onair has the general mode (1) only.",
                         norm);
    if (*tpl) {
        struct studio_canvas c;
        if (caster_template_canvas(tpl, &c) != 0 || strlen(tpl) >= sizeof(tpl_lc))
            return api_error_malformed(r, "CasterTemplate");
        for (size_t i = 0; tpl[i]; i++)
            tpl_lc[i] = (char)tolower((unsigned char)tpl[i]);
    }
    if (api_int(r, "MicMode", INT32_MIN, INT32_MAX, 0, &mic) < 0 ||
        text_param(r, "CasterName", NAME_MAX_LEN, &name) ||
        text_param(r, "ResourceGroupId", 128, &group) ||
        time_param(r, "PurchaseTime", purchase, NULL) || time_param(r, "ExpireTime", expire, NULL))
        return -1;
    json_t *tags = tags_param(r);
    if (!tags)
        return -1;
    struct caster_new cn = {
        .name = name,
        .norm_type = (int)norm,
        .charge_type = charge,
        .create_template = tpl_lc,
        .client_token = token,
        .resource_group = group,
        .purchase_time = purchase,
        .expire_time = expire,
        .tags = tags,
    };
    bool existed;
    int e = caster_create(r->account_id, &cn, id, &existed);
    json_decref(tags);
    if (e)
        return fail(r, e);
    json_object_set_new(r->resp, "CasterId", json_string(id));
    return 0;
}

int api_copy_caster(struct api_req *r)
{
    const char *src = id_param(r, "SrcCasterId"), *token = api_str(r, "ClientToken"), *name;
    char id[65];
    bool existed;
    if (!src || text_param(r, "CasterName", NAME_MAX_LEN, &name))
        return -1;
    if (!token_ok(token))
        return api_error_malformed(r, "ClientToken");
    int e = caster_copy(r->account_id, src, name, token, id, &existed);
    if (e)
        return fail(r, e);
    json_object_set_new(r->resp, "CasterId", json_string(id));
    return 0;
}

int api_delete_caster(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    if (!id)
        return -1;
    int e = caster_delete(r->account_id, id);
    if (e == CASTER_ERUNNING)
        return api_error(r, 400, "IncorrectCasterStatus",
                         "The caster is running; stop it with StopCaster before deleting it.");
    if (e)
        return fail(r, e);
    json_object_set_new(r->resp, "CasterId", json_string(id));
    return 0;
}

static json_t *duration(int64_t s)
{
    char b[32];
    oa_snprintf(b, sizeof(b), "%02lld:%02lld:%02lld", (long long)(s / 3600),
                (long long)(s / 60 % 60), (long long)(s % 60));
    return json_string(b);
}

static void render_caster(const struct caster_info *c, void *arg)
{
    json_t *o = json_object(), *list = arg;
    json_object_set_new(o, "CasterId", json_string(c->id));
    json_object_set_new(o, "CasterName", json_string(c->name));
    json_object_set_new(o, "CasterTemplate", json_string(c->template_name));
    json_object_set_new(
        o, "ChannelEnable",
        json_integer(json_integer_value(json_object_get(c->config, "ChannelEnable"))));
    json_object_set_new(o, "ChargeType", json_string(c->charge_type));
    json_object_set_new(o, "ClientTokenId", json_string(c->client_token));
    json_object_set_new(o, "CreateTime", iso(c->created_ms / 1000));
    json_object_set_new(o, "Duration", duration(c->duration_s));
    json_object_set_new(o, "ExpireTime", json_string(c->expire_time));
    json_object_set_new(o, "LastModified", iso(c->modified_ms / 1000));
    json_object_set_new(o, "NormType", json_integer(c->norm_type));
    json_object_set_new(o, "PurchaseTime", json_string(c->purchase_time));
    json_object_set_new(o, "ResourceGroupId", json_string(c->resource_group));
    json_object_set_new(o, "StartTime", iso(c->status ? c->started_ms / 1000 : 0));
    json_object_set_new(o, "Status", json_integer(c->status));
    json_t *tags = api_list(o, "Tags", "tag");
    size_t i;
    json_t *t;
    json_array_foreach(c->tags, i, t)
    {
        json_t *x = json_object();
        json_object_set(x, "TagKey", json_object_get(t, "Key"));
        json_object_set(x, "TagValue", json_object_get(t, "Value"));
        json_array_append_new(tags, x);
    }
    json_array_append_new(list, o);
}

int api_describe_casters(struct api_req *r)
{
    struct caster_filter f = {.norm_type = -1, .status = -1, .charge = -1};
    long long status, charge, page, size, norm;
    char start[21], end[21];
    bool asc = false;
    if (opt_id_param(r, "CasterId", &f.id) || api_int(r, "Status", 0, 1, -1, &status) < 0 ||
        api_int(r, "ChargeType", 0, 1, -1, &charge) < 0 ||
        api_int(r, "NormType", 0, 100, -1, &norm) < 0 ||
        api_int(r, "PageNum", 1, INT32_MAX, 1, &page) < 0 ||
        api_int(r, "PageSize", 1, PAGE_SIZE_MAX, PAGE_SIZE_DEFAULT, &size) < 0 ||
        time_param(r, "StartTime", start, &f.start) || time_param(r, "EndTime", end, &f.end))
        return -1;
    if (api_has(r, "OrderByModifyAsc")) {
        const char *s = api_str(r, "OrderByModifyAsc");
        if (!oa_strcaseeq(s, "true") && !oa_strcaseeq(s, "false"))
            return api_error_malformed(r, "OrderByModifyAsc");
        asc = oa_strcaseeq(s, "true");
    }
    f.status = (int)status;
    f.charge = (int)charge;
    f.norm_type = (int)norm;
    f.page = (int)page;
    f.page_size = (int)size;
    f.modify_asc = asc;
    f.name = api_has(r, "CasterName") ? api_str(r, "CasterName") : NULL;
    f.resource_group = api_has(r, "ResourceGroupId") ? api_str(r, "ResourceGroupId") : NULL;
    json_t *tags = NULL;
    if (api_has(r, "Tag") && !(tags = tags_param(r)))
        return -1;
    f.tags = tags;
    json_t *list = json_array();
    int total = 0;
    int e = caster_list(r->account_id, &f, render_caster, list, &total);
    json_decref(tags);
    if (e) {
        json_decref(list);
        return fail(r, e);
    }
    json_object_set_new(r->resp, "Total", json_integer(total));
    json_t *wrap = json_object();
    json_object_set_new(wrap, "Caster", list);
    json_object_set_new(r->resp, "CasterList", wrap);
    return 0;
}

/* A string setting: stored when given (checked by ok, if any), else cleared. */
static int cfg_str(struct api_req *r, json_t *cfg, const char *name, bool (*ok)(const char *))
{
    const char *s;
    if (text_param(r, name, 8192, &s))
        return -1;
    if (*s && ok && !ok(s))
        return api_error_malformed(r, name);
    json_object_set_new(cfg, name, json_string(s));
    return 0;
}

static bool rtmp_url_ok(const char *s)
{
    return strncasecmp(s, "rtmp://", 7) == 0 && caster_live_url_ok(s);
}

static bool http_url_ok(const char *s)
{
    return strncasecmp(s, "rtmp://", 7) != 0 && caster_live_url_ok(s);
}

/* A JSON-string setting of the given type (object or array); NULL when absent. */
static int cfg_json(struct api_req *r, json_t *cfg, const char *name, bool array)
{
    if (!api_has(r, name)) {
        json_object_set_new(cfg, name, json_null());
        return 0;
    }
    json_t *j = api_json(r, name);
    if (!j)
        return -1;
    if (array ? !json_is_array(j) : !json_is_object(j)) {
        json_decref(j);
        return api_error(r, 400, "InvalidParameter",
                         "The specified parameter \"%s\" is not valid: a JSON %s is expected.",
                         name, array ? "array" : "object");
    }
    json_object_set_new(cfg, name, j);
    return 0;
}

int api_set_caster_config(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *name;
    if (!id)
        return -1;
    json_t *cfg = json_object();
    struct caster_transcode t;
    memset(&t, 0, sizeof(t));
    if (text_param(r, "CasterName", NAME_MAX_LEN, &name))
        goto out;
    if (api_has(r, "DomainName")) {
        struct domain d;
        if (api_domain_owned(r, api_str(r, "DomainName"), &d))
            goto out;
        if (strcmp(d.type, "liveVideo") != 0) {
            api_error(r, 400, "InvalidDomainName.Malformed",
                      "DomainName must be a streaming (liveVideo) domain.");
            goto out;
        }
        json_object_set_new(cfg, "DomainName", json_string(d.name));
    } else {
        json_object_set_new(cfg, "DomainName", json_string(""));
    }
    if (api_has(r, "TranscodeConfig")) {
        struct caster_perr pe;
        json_t *j = api_json(r, "TranscodeConfig");
        if (!j)
            goto out;
        int rc = caster_transcode_parse(j, &t, &pe);
        json_decref(j);
        if (rc) {
            perr_fail(r, &pe);
            goto out;
        }
    }
    json_object_set_new(cfg, "TranscodeConfig", caster_transcode_to_json(&t));
    double delay;
    long long effect, channel;
    bool auto_on;
    if (api_float(r, "Delay", 0, 300, 0, &delay) < 0 ||
        api_int(r, "ProgramEffect", 0, 1, 0, &effect) < 0 ||
        api_int(r, "ChannelEnable", 0, 1, 0, &channel) < 0 ||
        api_bool(r, "AutoSwitchUrgentOn", false, &auto_on) < 0)
        goto out;
    /*
     * Channels are enabled once and for good (spec 3.1), the first time on an
     * idle caster: a stored 1 survives the full replace.
     */
    struct caster_info now;
    int e = caster_get(r->account_id, id, &now);
    if (e) {
        fail(r, e);
        goto out;
    }
    bool was_on = json_integer_value(json_object_get(now.config, "ChannelEnable")) == 1;
    bool running = now.status != 0;
    caster_info_free(&now);
    if (channel && !was_on && running) {
        api_error(r, 400, "IncorrectCasterStatus",
                  "ChannelEnable can only be turned on while the caster is idle.");
        goto out;
    }
    json_object_set_new(cfg, "Delay", json_real(delay));
    json_object_set_new(cfg, "ProgramEffect", json_integer(effect));
    json_object_set_new(cfg, "ChannelEnable", json_integer(was_on ? 1 : channel));
    json_object_set_new(cfg, "AutoSwitchUrgentOn", json_boolean(auto_on));
    if (cfg_str(r, cfg, "SideOutputUrl", rtmp_url_ok) ||
        cfg_str(r, cfg, "SideOutputUrlList", NULL) ||
        cfg_str(r, cfg, "UrgentMaterialId", caster_id_ok) ||
        cfg_str(r, cfg, "UrgentLiveStreamUrl", caster_live_url_ok) ||
        cfg_str(r, cfg, "UrgentImageId", caster_id_ok) ||
        cfg_str(r, cfg, "UrgentImageUrl", caster_media_url_ok) ||
        cfg_str(r, cfg, "ProgramName", NULL) || cfg_str(r, cfg, "CallbackUrl", http_url_ok) ||
        cfg_json(r, cfg, "RecordConfig", false) || cfg_json(r, cfg, "SyncGroupsConfig", true))
        goto out;
    if (api_has(r, "AutoSwitchUrgentConfig")) {
        json_t *j = api_json(r, "AutoSwitchUrgentConfig");
        if (!j)
            goto out;
        json_decref(j);
    }
    json_object_set_new(cfg, "AutoSwitchUrgentConfig",
                        json_string(api_str_or(r, "AutoSwitchUrgentConfig", "")));
    e = caster_set_config(r->account_id, id, name, cfg);
    json_decref(cfg);
    if (e)
        return fail(r, e);
    json_object_set_new(r->resp, "CasterId", json_string(id));
    return 0;
out:
    json_decref(cfg);
    return -1;
}

static const char *cfg_text(const json_t *cfg, const char *name)
{
    const char *s = json_string_value(json_object_get(cfg, name));
    return s ? s : "";
}

/* RecordConfig as stored (SetCasterConfig's JSON) -> the response's shape. */
static json_t *record_config(const json_t *rc)
{
    json_t *o = json_object();
    const json_t *v;
    json_object_set_new(o, "OssEndpoint", json_string(cfg_text(rc, "endpoint")));
    json_object_set_new(o, "OssBucket", json_string(cfg_text(rc, "ossBucket")));
    v = json_object_get(rc, "onDemand");
    json_object_set_new(o, "OnDemand",
                        json_integer(json_is_integer(v) ? json_integer_value(v) : 0));
    json_t *list = api_list(o, "RecordFormat", "RecordFormat");
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(rc, "videoFormat"), i, f)
    {
        json_t *x = json_object();
        json_object_set_new(x, "Format", json_string(cfg_text(f, "Format")));
        json_object_set_new(x, "OssObjectPrefix", json_string(cfg_text(f, "OssObjectPrefix")));
        json_object_set_new(x, "SliceOssObjectPrefix",
                            json_string(cfg_text(f, "SliceOssObjectPrefix")));
        v = json_object_get(f, "CycleDuration");
        json_object_set_new(x, "CycleDuration",
                            json_integer(json_is_integer(v) ? json_integer_value(v) : 0));
        json_array_append_new(list, x);
    }
    return o;
}

static json_t *sync_groups(const json_t *sg)
{
    json_t *o = json_object(), *list = api_list(o, "SyncGroup", "SyncGroup");
    size_t i, k;
    json_t *g, *x;
    json_array_foreach(sg, i, g)
    {
        json_t *item = json_object();
        json_object_set_new(item, "HostResourceId", json_string(cfg_text(g, "hostResourceId")));
        const json_t *mode = json_object_get(g, "mode");
        json_object_set_new(item, "Mode",
                            json_integer(json_is_integer(mode) ? json_integer_value(mode) : 0));
        json_t *ids = api_list(item, "ResourceIds", "ResourceId");
        json_array_foreach(json_object_get(g, "resourceIds"), k, x)
        {
            if (json_is_string(x))
                json_array_append(ids, x);
        }
        json_array_append_new(list, item);
    }
    /* The response field is SyncGroupsConfig{SyncGroup[]}: return the inner object. */
    json_t *inner = json_incref(json_object_get(o, "SyncGroup"));
    json_decref(o);
    return inner;
}

int api_describe_caster_config(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    struct caster_info c;
    if (!id)
        return -1;
    int e = caster_get(r->account_id, id, &c);
    if (e)
        return fail(r, e);
    json_t *o = r->resp, *cfg = c.config;
    json_object_set_new(o, "CasterId", json_string(c.id));
    json_object_set_new(o, "CasterName", json_string(c.name));
    json_object_set_new(o, "DomainName", json_string(cfg_text(cfg, "DomainName")));
    json_object_set_new(o, "CallbackUrl", json_string(cfg_text(cfg, "CallbackUrl")));
    json_object_set_new(o, "ChannelEnable",
                        json_integer(json_integer_value(json_object_get(cfg, "ChannelEnable"))));
    json_object_set_new(o, "Delay", json_real(json_number_value(json_object_get(cfg, "Delay"))));
    json_object_set_new(o, "ProgramEffect",
                        json_integer(json_integer_value(json_object_get(cfg, "ProgramEffect"))));
    json_object_set_new(o, "ProgramName", json_string(cfg_text(cfg, "ProgramName")));
    json_object_set_new(o, "SideOutputUrl", json_string(cfg_text(cfg, "SideOutputUrl")));
    json_object_set_new(o, "SideOutputUrlList", json_string(cfg_text(cfg, "SideOutputUrlList")));
    json_object_set_new(o, "UrgentMaterialId", json_string(cfg_text(cfg, "UrgentMaterialId")));
    json_object_set_new(o, "UrgentLiveStreamUrl",
                        json_string(cfg_text(cfg, "UrgentLiveStreamUrl")));
    json_object_set_new(o, "UrgentImageId", json_string(cfg_text(cfg, "UrgentImageId")));
    json_object_set_new(o, "UrgentImageUrl", json_string(cfg_text(cfg, "UrgentImageUrl")));
    json_object_set_new(
        o, "AutoSwitchUrgentOn",
        json_string(json_is_true(json_object_get(cfg, "AutoSwitchUrgentOn")) ? "true" : "false"));
    json_object_set_new(o, "AutoSwitchUrgentConfig",
                        json_string(cfg_text(cfg, "AutoSwitchUrgentConfig")));

    struct caster_transcode t;
    caster_transcode_from_json(json_object_get(cfg, "TranscodeConfig"), &t);
    json_t *tc = json_object();
    json_object_set_new(tc, "CasterTemplate", json_string(c.template_name));
    json_t *live = api_list(tc, "LiveTemplateIds", "LocationId");
    for (int i = 0; i < t.n_live; i++)
        json_array_append_new(live, json_string(t.live[i]));
    json_t *custom = json_object(), *video = json_object();
    json_object_set_new(video, "bitrate", json_integer(c.canvas.video_kbps));
    json_object_set_new(video, "fps", json_integer(c.canvas.fps));
    json_object_set_new(video, "height", json_integer(c.canvas.height));
    json_object_set_new(video, "width", json_integer(c.canvas.width));
    json_object_set_new(custom, "video", video);
    json_object_set_new(tc, "CustomParams", custom);
    json_object_set_new(o, "TranscodeConfig", tc);
    json_object_set_new(o, "RecordConfig", record_config(json_object_get(cfg, "RecordConfig")));
    json_object_set_new(o, "SyncGroupsConfig",
                        sync_groups(json_object_get(cfg, "SyncGroupsConfig")));
    caster_info_free(&c);
    return 0;
}

/* ===== scenes' URLs ===== */

struct scene_out {
    struct caster_endpoint ep;
    json_t *pvw, *pgm; /* StartCaster's lists */
    json_t *list;      /* Describe*'s list */
    bool stream_url;   /* DescribeCasterStreamUrl's item shape */
    char flv[1536];    /* the last scene's StreamUrl */
};

static json_t *stream_infos(const struct caster_info *c, const struct caster_scene *s,
                            const struct caster_urls *u, json_t *parent)
{
    json_t *list = api_list(parent, "StreamInfos", "StreamInfo");
    if (s->output_type != CASTER_PGM || !u->flv[0])
        return list;
    const char *quality = caster_template_quality(c->template_name);
    const char *urls[] = {u->flv, u->rtmp, u->hls}, *formats[] = {"flv", "rtmp", "m3u8"};
    for (size_t i = 0; i < OA_ARRAY_SIZE(urls); i++) {
        json_t *x = json_object();
        json_object_set_new(x, "OutputStreamUrl", json_string(urls[i]));
        json_object_set_new(x, "TranscodeConfig", json_string(quality));
        json_object_set_new(x, "VideoFormat", json_string(formats[i]));
        json_array_append_new(list, x);
    }
    return list;
}

static void scene_cb(const struct caster_info *c, const struct caster_scene *s, void *arg)
{
    struct scene_out *so = arg;
    struct caster_urls u;
    caster_scene_urls(c, s, &so->ep, &u);
    oa_strlcpy(so->flv, u.flv, sizeof(so->flv));
    json_t *o = json_object();
    if (so->pvw) {
        json_object_set_new(o, "SceneId", json_string(s->id));
        json_object_set_new(o, "StreamUrl", json_string(u.flv));
        if (s->output_type == CASTER_PGM)
            stream_infos(c, s, &u, o);
        json_array_append_new(s->output_type == CASTER_PGM ? so->pgm : so->pvw, o);
        return;
    }
    if (so->stream_url) {
        json_object_set_new(o, "SceneId", json_string(s->id));
        json_object_set_new(o, "OutputType", json_integer(s->output_type));
        json_object_set_new(o, "StreamUrl", json_string(u.flv));
        json_object_set_new(o, "RtmpUrl", json_string(u.rtmp));
        stream_infos(c, s, &u, o);
    } else if (so->list) {
        json_object_set_new(o, "SceneId", json_string(s->id));
        json_object_set_new(o, "SceneName", json_string(s->name));
        json_object_set_new(o, "OutputType", json_string(s->output_type == CASTER_PGM ? "1" : "0"));
        json_object_set_new(o, "Status", json_integer(s->status));
        json_object_set_new(o, "LayoutId", json_string(s->layout_id));
        json_object_set_new(o, "StreamUrl", json_string(u.flv));
        api_list(o, "ComponentIds", "componentId");
        stream_infos(c, s, &u, o);
    }
    if (so->list)
        json_array_append_new(so->list, o);
    else
        json_decref(o);
}

/* Wraps a list we built as {container: {item: list}}. */
static void put_list(json_t *parent, const char *container, const char *item, json_t *list)
{
    json_t *w = json_object();
    json_object_set_new(w, item, list);
    json_object_set_new(parent, container, w);
}

int api_start_caster(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    long long player;
    if (!id || api_int(r, "PlayerType", INT32_MIN, INT32_MAX, 0, &player) < 0)
        return -1;
    int e = caster_start(r->account_id, id);
    if (e == CASTER_ERUNNING)
        return api_error(r, 400, "IncorrectCasterStatus", "The caster is already started.");
    if (e)
        return fail(r, e);
    struct scene_out so = {.pvw = json_array(), .pgm = json_array()};
    int count;
    endpoint(r, &so.ep);
    e = caster_scene_list(r->account_id, id, NULL, scene_cb, &so, &count);
    put_list(r->resp, "PvwSceneInfos", "SceneInfo", so.pvw);
    put_list(r->resp, "PgmSceneInfos", "SceneInfo", so.pgm);
    return e ? fail(r, e) : 0;
}

int api_stop_caster(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    if (!id)
        return -1;
    int e = caster_stop(r->account_id, id);
    return e ? fail(r, e) : 0;
}

int api_restart_caster(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    if (!id)
        return -1;
    int e = caster_restart(r->account_id, id);
    return e ? fail(r, e) : 0;
}

/* ===== video resources ===== */

static const char *const sources[] = {"LiveStreamUrl", "VodUrl", "ImageUrl", "MaterialId",
                                      "ImageId"};

/*
 * True when url is read from this server's storage without its HTTP route
 * (oss://bucket/object, or http://<this server>/oss/bucket/object, which the
 * studio opens as a local file) and the bucket belongs to another account.
 * A URL with the bucket's token (/oss/~<token>/...) is not read locally; the
 * HTTP route checks its token. A bucket nobody owns holds the operator's
 * files and is open to every account. A store failure sets the error.
 */
static bool storage_url_foreign(struct api_req *r, const char *url)
{
    char bucket[64], object[1024];
    int64_t owner;
    if (!caster_storage_object(url, bucket, object) || bucket[0] == '~')
        return false;
    int rc = bucket_owner(bucket, &owner);
    if (rc == OA_EDB)
        api_error_internal(r);
    return rc == 0 && owner != r->account_id;
}

/*
 * Reads the source and file options into res. For Add every field is
 * taken (absent = default); for Modify only the given ones replace what
 * res holds. The caster's domain keys local live URLs without a vhost.
 */
static int resource_params(struct api_req *r, struct caster_resource *res, bool add,
                           const char *caster_domain)
{
    const char *given = NULL;
    for (size_t i = 0; i < OA_ARRAY_SIZE(sources); i++) {
        if (!api_has(r, sources[i]))
            continue;
        if (given)
            return api_error(r, 400, "InvalidParameter",
                             "Give one source only: %s and %s are both set.", given, sources[i]);
        given = sources[i];
    }
    if (!given && add)
        return api_error_missing(r, "LiveStreamUrl");
    if (given && (strcmp(given, "MaterialId") == 0 || strcmp(given, "ImageId") == 0))
        return api_error(r, 404, "InvalidMaterial.NotFound",
                         "%s names a media-library asset; onair has no media library: give a "
                         "VodUrl or an ImageUrl instead.",
                         given);
    if (given) {
        const char *url = api_str(r, given);
        bool live = strcmp(given, "LiveStreamUrl") == 0;
        if (strlen(url) >= sizeof(res->live_url) ||
            !(live ? caster_live_url_ok(url) : caster_media_url_ok(url)))
            return api_error_malformed(r, given);
        if (live && caster_live_url_allowed(caster_domain, url) != 0)
            return api_error(r, 401, "Forbidden",
                             "LiveStreamUrl names a stream of this server that needs URL "
                             "authentication: its auth_key is missing, expired or wrong.");
        if (!live && storage_url_foreign(r, url))
            return api_error(r, 401, "Forbidden",
                             "%s names an object in another account's bucket of this server.",
                             given);
        if (r->status >= 400)
            return -1;
        res->live_url[0] = res->vod_url[0] = res->image_url[0] = '\0';
        oa_strlcpy(live                           ? res->live_url
                   : strcmp(given, "VodUrl") == 0 ? res->vod_url
                                                  : res->image_url,
                   url, sizeof(res->live_url));
    }
    long long v;
    int rc;
    if ((rc = api_int(r, "BeginOffset", 0, INT64_MAX / 2, 0, &v)) < 0)
        return -1;
    if (add || rc == 0)
        res->begin_ms = v;
    if ((rc = api_int(r, "EndOffset", INT64_MIN / 2, INT64_MAX / 2, 0, &v)) < 0)
        return -1;
    if (add || rc == 0)
        res->end_ms = v;
    if ((rc = api_int(r, "RepeatNum", -1, 1000000, 0, &v)) < 0)
        return -1;
    if (add || rc == 0)
        res->repeat = (int)v;
    if ((rc = api_int(r, "PtsCallbackInterval", 0, INT64_MAX / 2, 0, &v)) < 0)
        return -1;
    if (add || rc == 0)
        res->pts_callback_ms = v;
    if ((rc = api_int(r, "FixedDelayDuration", 0, 5000, 0, &v)) < 0)
        return -1;
    if (add || rc == 0)
        res->fixed_delay_ms = (int)v;
    if (api_int(r, "InputType", INT32_MIN, INT32_MAX, 0, &v) < 0)
        return -1;
    if (add || api_has(r, "ResourceName")) {
        const char *name;
        if (text_param(r, "ResourceName", NAME_MAX_LEN, &name))
            return -1;
        oa_strlcpy(res->name, name, sizeof(res->name));
    }
    return 0;
}

int api_add_caster_video_resource(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    struct caster_resource res;
    struct caster_info c;
    if (!id)
        return -1;
    int e = caster_get(r->account_id, id, &c);
    if (e)
        return fail(r, e);
    memset(&res, 0, sizeof(res));
    if (api_has(r, "LocationId") &&
        !caster_location_ok(api_str(r, "LocationId"), res.location_id)) {
        caster_info_free(&c);
        return api_error_malformed(r, "LocationId");
    }
    e = resource_params(r, &res, true, c.domain);
    caster_info_free(&c);
    if (e)
        return -1;
    if ((e = caster_resource_add(r->account_id, id, &res)) != 0)
        return fail(r, e);
    json_object_set_new(r->resp, "ResourceId", json_string(res.id));
    return 0;
}

int api_modify_caster_video_resource(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *rid = id ? id_param(r, "ResourceId") : NULL;
    struct caster_resource res;
    struct caster_info c;
    if (!rid)
        return -1;
    int e = caster_get(r->account_id, id, &c);
    if (e)
        return fail(r, e);
    e = caster_resource_get(r->account_id, id, rid, &res);
    if (e) {
        caster_info_free(&c);
        return fail(r, e);
    }
    e = resource_params(r, &res, false, c.domain);
    caster_info_free(&c);
    if (e)
        return -1;
    if ((e = caster_resource_modify(r->account_id, id, &res)) != 0)
        return fail(r, e);
    json_object_set_new(r->resp, "CasterId", json_string(id));
    json_object_set_new(r->resp, "ResourceId", json_string(rid));
    return 0;
}

int api_delete_caster_video_resource(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *rid = id ? id_param(r, "ResourceId") : NULL;
    if (!rid)
        return -1;
    int e = caster_resource_delete(r->account_id, id, rid);
    return e ? fail(r, e) : 0;
}

static void render_resource(const struct caster_resource *res, void *arg)
{
    json_t *o = json_object();
    json_object_set_new(o, "ResourceId", json_string(res->id));
    json_object_set_new(o, "ResourceName", json_string(res->name));
    json_object_set_new(o, "LocationId", json_string(res->location_id));
    json_object_set_new(o, "LiveStreamUrl", json_string(res->live_url));
    json_object_set_new(o, "VodUrl", json_string(res->vod_url));
    json_object_set_new(o, "FlvUrl", json_string(""));
    json_object_set_new(o, "MaterialId", json_string(""));
    json_object_set_new(o, "ImageId", json_string(""));
    json_object_set_new(o, "ImageUrl", json_string(res->image_url));
    json_object_set_new(o, "BeginOffset", json_integer(res->begin_ms));
    json_object_set_new(o, "EndOffset", json_integer(res->end_ms));
    json_object_set_new(o, "RepeatNum", json_integer(res->repeat));
    json_object_set_new(o, "PtsCallbackInterval", json_integer(res->pts_callback_ms));
    json_array_append_new(arg, o);
}

int api_describe_caster_video_resources(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    if (!id)
        return -1;
    json_t *list = json_array();
    int e = caster_resource_list(r->account_id, id, render_resource, list);
    if (e) {
        json_decref(list);
        return fail(r, e);
    }
    json_object_set_new(r->resp, "Total", json_integer((json_int_t)json_array_size(list)));
    put_list(r->resp, "VideoResources", "VideoResource", list);
    return 0;
}

/* ===== layouts ===== */

static int layout_params(struct api_req *r, struct caster_layout *l)
{
    struct caster_perr pe;
    return caster_layout_parse(r->params, l, &pe) ? perr_fail(r, &pe) : 0;
}

int api_add_caster_layout(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    char lid[65];
    if (!id)
        return -1;
    struct caster_layout *l = oa_malloc(sizeof(*l));
    int e = layout_params(r, l) ? -1 : caster_layout_add(r->account_id, id, l, lid);
    oa_free(l);
    if (e)
        return e == -1 ? -1 : fail(r, e);
    json_object_set_new(r->resp, "LayoutId", json_string(lid));
    return 0;
}

int api_modify_caster_layout(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *lid = id ? id_param(r, "LayoutId") : NULL;
    if (!lid)
        return -1;
    struct caster_layout *l = oa_malloc(sizeof(*l));
    int e = layout_params(r, l) ? -1 : caster_layout_modify(r->account_id, id, lid, l);
    oa_free(l);
    if (e)
        return e == -1 ? -1 : fail(r, e);
    json_object_set_new(r->resp, "LayoutId", json_string(lid));
    return 0;
}

int api_delete_caster_layout(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *lid = id ? id_param(r, "LayoutId") : NULL;
    if (!lid)
        return -1;
    int e = caster_layout_delete(r->account_id, id, lid);
    if (e)
        return fail(r, e);
    json_object_set_new(r->resp, "CasterId", json_string(id));
    json_object_set_new(r->resp, "LayoutId", json_string(lid));
    return 0;
}

static void render_audio_layers(json_t *parent, int n, const struct studio_audio_layer *layers,
                                const int *delay)
{
    json_t *a = api_list(parent, "AudioLayers", "AudioLayer");
    for (int i = 0; i < n; i++) {
        json_t *x = json_object();
        json_object_set_new(x, "FixedDelayDuration", json_integer(delay[i]));
        json_object_set_new(x, "ValidChannel", json_string(studio_channel_name(layers[i].channel)));
        json_object_set_new(x, "VolumeRate", json_real(layers[i].volume_rate));
        json_array_append_new(a, x);
    }
}

static void render_layout(const char *id, const struct caster_layout *l, void *arg)
{
    json_t *o = json_object();
    json_object_set_new(o, "LayoutId", json_string(id));
    json_t *blend = api_list(o, "BlendList", "LocationId");
    for (int i = 0; i < l->l.n_video; i++)
        json_array_append_new(blend, json_string(l->l.video[i].location_id));
    json_t *mix = api_list(o, "MixList", "LocationId");
    for (int i = 0; i < l->l.n_audio; i++)
        json_array_append_new(mix, json_string(l->l.audio[i].location_id));
    json_t *video = api_list(o, "VideoLayers", "VideoLayer");
    for (int i = 0; i < l->l.n_video; i++) {
        const struct studio_video_layer *v = &l->l.video[i];
        json_t *x = json_object();
        json_object_set_new(x, "FillMode", json_string(studio_fill_name(v->fill)));
        json_object_set_new(x, "FixedDelayDuration", json_integer(l->video_delay[i]));
        json_object_set_new(x, "HeightNormalized", json_real(v->height_norm));
        json_object_set_new(x, "WidthNormalized", json_real(v->width_norm));
        json_object_set_new(x, "PositionRefer", json_string(studio_refer_name(v->refer)));
        json_t *pos = api_list(x, "PositionNormalizeds", "Position");
        json_array_append_new(pos, json_real(v->pos_x));
        json_array_append_new(pos, json_real(v->pos_y));
        json_array_append_new(video, x);
    }
    render_audio_layers(o, l->l.n_audio, l->l.audio, l->audio_delay);
    json_array_append_new(arg, o);
}

int api_describe_caster_layouts(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *lid = NULL;
    if (!id || opt_id_param(r, "LayoutId", &lid))
        return -1;
    json_t *list = json_array();
    int e = caster_layout_list(r->account_id, id, lid, render_layout, list);
    if (e) {
        json_decref(list);
        return fail(r, e);
    }
    json_object_set_new(r->resp, "Total", json_integer((json_int_t)json_array_size(list)));
    put_list(r->resp, "Layouts", "Layout", list);
    return 0;
}

/* ===== scenes ===== */

int api_describe_caster_scenes(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *sid = NULL;
    if (!id || opt_id_param(r, "SceneId", &sid))
        return -1;
    struct scene_out so = {.list = json_array()};
    int count;
    endpoint(r, &so.ep);
    int e = caster_scene_list(r->account_id, id, sid, scene_cb, &so, &count);
    if (e) {
        json_decref(so.list);
        return fail(r, e);
    }
    json_object_set_new(r->resp, "Total", json_integer(count));
    put_list(r->resp, "SceneList", "Scene", so.list);
    return 0;
}

int api_describe_caster_stream_url(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    if (!id)
        return -1;
    struct scene_out so = {.list = json_array(), .stream_url = true};
    int count;
    endpoint(r, &so.ep);
    int e = caster_scene_list(r->account_id, id, NULL, scene_cb, &so, &count);
    if (!e && count == 0)
        e = CASTER_ENOSCENE;
    if (e) {
        json_decref(so.list);
        return fail(r, e);
    }
    json_object_set_new(r->resp, "CasterId", json_string(id));
    json_object_set_new(r->resp, "Total", json_integer(count));
    put_list(r->resp, "CasterStreams", "CasterStream", so.list);
    return 0;
}

int api_start_caster_scene(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *sid = id ? id_param(r, "SceneId") : NULL;
    if (!sid)
        return -1;
    int e = caster_scene_start(r->account_id, id, sid);
    if (e)
        return fail(r, e);
    struct scene_out so = {0};
    int count;
    endpoint(r, &so.ep);
    if ((e = caster_scene_list(r->account_id, id, sid, scene_cb, &so, &count)) != 0)
        return fail(r, e);
    json_object_set_new(r->resp, "StreamUrl", json_string(so.flv));
    return 0;
}

int api_stop_caster_scene(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *sid = id ? id_param(r, "SceneId") : NULL;
    if (!sid)
        return -1;
    int e = caster_scene_stop(r->account_id, id, sid);
    return e ? fail(r, e) : 0;
}

/* Components (overlays) are not implemented: no ComponentId can exist. */
static int no_components(struct api_req *r)
{
    json_t *list = api_list_param(r, "ComponentId");
    size_t i;
    json_t *v;
    json_array_foreach(list, i, v)
    {
        if (json_is_string(v) && json_string_length(v))
            return api_error(r, 404, "InvalidComponent.NotFound",
                             "The component %s does not exist (onair has no overlay components).",
                             json_string_value(v));
    }
    return 0;
}

static void no_scene_cb(const struct caster_info *c, const struct caster_scene *s, void *arg)
{
}

static int scene_config(struct api_req *r, bool layout_required)
{
    const char *id = id_param(r, "CasterId"), *sid = id ? id_param(r, "SceneId") : NULL;
    const char *lid = NULL;
    if (!sid || (layout_required ? !(lid = id_param(r, "LayoutId"))
                                 : opt_id_param(r, "LayoutId", &lid) != 0))
        return -1;
    if (no_components(r))
        return -1;
    int e = caster_scene_set_layout(r->account_id, id, sid, lid ? lid : "");
    return e ? fail(r, e) : 0;
}

int api_set_caster_scene_config(struct api_req *r)
{
    return scene_config(r, false);
}

int api_update_caster_scene_config(struct api_req *r)
{
    return scene_config(r, true);
}

int api_delete_caster_scene_config(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *sid = id ? id_param(r, "SceneId") : NULL;
    if (!sid)
        return -1;
    const char *type = api_str(r, "Type");
    bool layout = oa_strcaseeq(type, "Layout") || oa_strcaseeq(type, "All");
    if (!layout && !oa_strcaseeq(type, "Component"))
        return api_error(r, 400, "InvalidType.Malformed", "Type must be Component, Layout or All.");
    int count, e;
    /* Components do not exist, so clearing them only has to find the scene. */
    if (layout)
        e = caster_scene_set_layout(r->account_id, id, sid, "");
    else
        e = caster_scene_list(r->account_id, id, sid, no_scene_cb, NULL, &count);
    return e ? fail(r, e) : 0;
}

int api_copy_caster_scene_config(struct api_req *r)
{
    const char *id = id_param(r, "CasterId");
    const char *from = id ? id_param(r, "FromSceneId") : NULL;
    const char *to = from ? id_param(r, "ToSceneId") : NULL;
    if (!to)
        return -1;
    int e = caster_scene_copy(r->account_id, id, from, to);
    return e ? fail(r, e) : 0;
}

int api_update_caster_scene_audio(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *sid = id ? id_param(r, "SceneId") : NULL;
    long long follow;
    if (!sid || api_int(r, "FollowEnable", 0, 1, -1, &follow) < 0)
        return -1;
    struct caster_audio a;
    struct caster_perr pe;
    bool given;
    if (caster_audio_parse(r->params, &a, &given, &pe))
        return perr_fail(r, &pe);
    /* Filter (AGC, noise suppression) is accepted for compatibility; it has no effect. */
    json_t *layers = api_list_param(r, "AudioLayer");
    size_t i;
    json_t *l;
    json_array_foreach(layers, i, l)
    {
        const char *f = json_string_value(json_object_get(l, "Filter"));
        json_t *j = f && *f ? json_loads(f, JSON_DECODE_ANY, NULL) : NULL;
        if (f && *f && !j)
            return api_error(r, 400, "InvalidAudioLayer.Malformed",
                             "AudioLayer.%zu.Filter must be JSON.", i + 1);
        json_decref(j);
    }
    int e = caster_scene_set_audio(r->account_id, id, sid, (int)follow, given ? &a : NULL);
    return e ? fail(r, e) : 0;
}

struct audio_out {
    struct caster_scene s;
};

static void audio_cb(const struct caster_info *c, const struct caster_scene *s, void *arg)
{
    ((struct audio_out *)arg)->s = *s;
}

int api_describe_caster_scene_audio(struct api_req *r)
{
    const char *id = id_param(r, "CasterId"), *sid = id ? id_param(r, "SceneId") : NULL;
    if (!sid)
        return -1;
    struct audio_out *ao = oa_calloc(1, sizeof(*ao));
    int count, e = caster_scene_list(r->account_id, id, sid, audio_cb, ao, &count);
    if (e) {
        oa_free(ao);
        return fail(r, e);
    }
    const struct caster_audio *a = &ao->s.audio;
    json_object_set_new(r->resp, "CasterId", json_string(id));
    json_object_set_new(r->resp, "FollowEnable", json_integer(a->follow ? 1 : 0));
    json_t *mix = api_list(r->resp, "MixList", "LocationId");
    for (int i = 0; i < a->n; i++)
        json_array_append_new(mix, json_string(a->layers[i].location_id));
    render_audio_layers(r->resp, a->n, a->layers, a->delay);
    oa_free(ao);
    return 0;
}
