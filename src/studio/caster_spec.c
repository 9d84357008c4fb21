/*
 * caster_spec.c - templates, TranscodeConfig, layouts, scene audio, output
 * URLs and input-URL checks of the production studio, as pure functions.
 *
 * Layout parameters come from the request's parameter tree, where every
 * leaf is a string and Name.N lists are JSON arrays (gaps are null). They
 * are checked here completely, so that the engine only ever sees layouts
 * it accepts, and each refusal names the list element and field at fault.
 */
#include "studio/caster_spec.h"
#include "api/urlauth.h"
#include "core/config.h"
#include "core/err.h"
#include "core/util.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <strings.h>

/* ===== templates ===== */

/*
 * Landscape sizes; the "_v" forms swap width and height. lp_sd is 854x480
 * (16:9 at 480 lines, already even). Every template runs at 30 fps with
 * 128 kbit/s stereo AAC at 44.1 kHz.
 */
static const struct {
    const char *name;
    int width, height, kbps;
    const char *quality;
} templates[] = {
    {"lp_ld", 640, 360, 800, "lld"},
    {"lp_sd", 854, 480, 1200, "lsd"},
    {"lp_hd", 1280, 720, 2500, "lhd"},
    {"lp_ud", 1920, 1080, 4500, "lud"},
};

#define TEMPLATE_FPS 30
#define TEMPLATE_AUDIO_KBPS 128
#define TEMPLATE_SAMPLE_RATE 44100
#define TEMPLATE_CHANNELS 2

static int template_index(const char *name, bool *portrait)
{
    if (!name)
        return -1;
    size_t n = strlen(name);
    *portrait = n > 2 && strcasecmp(name + n - 2, "_v") == 0;
    for (size_t i = 0; i < OA_ARRAY_SIZE(templates); i++) {
        size_t len = strlen(templates[i].name);
        if (n == len + (*portrait ? 2 : 0) && strncasecmp(name, templates[i].name, len) == 0)
            return (int)i;
    }
    return -1;
}

int caster_template_canvas(const char *name, struct studio_canvas *out)
{
    bool portrait;
    int i = template_index(name, &portrait);
    if (i < 0)
        return OA_EINVAL;
    memset(out, 0, sizeof(*out));
    out->width = portrait ? templates[i].height : templates[i].width;
    out->height = portrait ? templates[i].width : templates[i].height;
    out->fps = TEMPLATE_FPS;
    out->video_kbps = templates[i].kbps;
    out->audio_kbps = TEMPLATE_AUDIO_KBPS;
    out->sample_rate = TEMPLATE_SAMPLE_RATE;
    out->channels = TEMPLATE_CHANNELS;
    return 0;
}

const char *caster_template_quality(const char *name)
{
    bool portrait;
    int i = template_index(name, &portrait);
    return i < 0 ? "" : templates[i].quality;
}

/* ===== TranscodeConfig ===== */

static void perr(struct caster_perr *e, const char *param, const char *fmt, ...) OA_PRINTF(3, 4);

static void perr(struct caster_perr *e, const char *param, const char *fmt, ...)
{
    va_list ap;
    oa_strlcpy(e->param, param, sizeof(e->param));
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
    va_end(ap);
}

/* The member of object o whose key equals name case-insensitively. */
static json_t *get_ci(const json_t *o, const char *name)
{
    const char *k;
    json_t *v;
    if (!json_is_object(o))
        return NULL;
    json_object_foreach((json_t *)o, k, v)
    {
        if (strcasecmp(k, name) == 0)
            return v;
    }
    return NULL;
}

/* A JSON number, or a string holding one (examples mix both). */
static bool num_of(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return isfinite(*out);
    }
    return json_is_string(v) && oa_parse_double(json_string_value(v), out) == 0;
}

static bool int_of(const json_t *v, long long min, long long max, int *out)
{
    double d;
    if (!num_of(v, &d) || d != floor(d) || d < (double)min || d > (double)max)
        return false;
    *out = (int)d;
    return true;
}

static const char *const live_templates[] = {"lld", "lsd", "lhd", "lud"};

int caster_transcode_parse(const json_t *j, struct caster_transcode *out, struct caster_perr *e)
{
    memset(out, 0, sizeof(*out));
    if (!json_is_object(j)) {
        perr(e, "TranscodeConfig", "TranscodeConfig must be a JSON object.");
        return OA_EINVAL;
    }
    const json_t *tpl = get_ci(j, "casterTemplate");
    if (tpl && !(json_is_string(tpl) && json_string_length(tpl) == 0)) {
        struct studio_canvas c;
        if (!json_is_string(tpl) || caster_template_canvas(json_string_value(tpl), &c) != 0) {
            perr(e, "TranscodeConfig",
                 "casterTemplate must be lp_ld, lp_sd, lp_hd, lp_ud or one of their _v forms.");
            return OA_EINVAL;
        }
        for (size_t i = 0; json_string_value(tpl)[i] && i < sizeof(out->caster_template) - 1; i++)
            out->caster_template[i] = (char)tolower((unsigned char)json_string_value(tpl)[i]);
    }
    const json_t *live = get_ci(j, "LiveTemplate");
    if (live && !json_is_null(live)) {
        size_t i;
        json_t *v;
        if (!json_is_array(live) || json_array_size(live) > CASTER_LIVE_TEMPLATES_MAX)
            goto bad_live;
        json_array_foreach((json_t *)live, i, v)
        {
            const char *s = json_string_value(v);
            bool ok = false;
            for (size_t k = 0; s && k < OA_ARRAY_SIZE(live_templates); k++)
                ok = ok || strcasecmp(s, live_templates[k]) == 0;
            if (!ok)
                goto bad_live;
            for (int k = 0; k < 3; k++)
                out->live[out->n_live][k] = (char)tolower((unsigned char)s[k]);
            out->n_live++;
        }
    }
    const json_t *video = get_ci(get_ci(j, "customParams"), "video");
    if (video) {
        const json_t *v;
        if ((v = get_ci(video, "width")) && !int_of(v, 16, 4096, &out->width))
            goto bad_custom;
        if ((v = get_ci(video, "height")) && !int_of(v, 16, 4096, &out->height))
            goto bad_custom;
        if ((v = get_ci(video, "fps")) && !int_of(v, 1, 60, &out->fps))
            goto bad_custom;
        if ((v = get_ci(video, "bitrate")) && !int_of(v, 100, 20000, &out->video_kbps))
            goto bad_custom;
        if ((out->width | out->height) & 1)
            goto bad_custom;
    }
    return 0;
bad_live:
    perr(e, "TranscodeConfig", "LiveTemplate must be a list of at most %d of lld, lsd, lhd, lud.",
         CASTER_LIVE_TEMPLATES_MAX);
    return OA_EINVAL;
bad_custom:
    perr(e, "TranscodeConfig",
         "customParams.video: width and height are even numbers from 16 to 4096, fps 1-60, "
         "bitrate 100-20000 (kbit/s).");
    return OA_EINVAL;
}

json_t *caster_transcode_to_json(const struct caster_transcode *t)
{
    json_t *o = json_object();
    json_object_set_new(o, "casterTemplate", json_string(t->caster_template));
    json_t *a = json_array();
    for (int i = 0; i < t->n_live; i++)
        json_array_append_new(a, json_string(t->live[i]));
    json_object_set_new(o, "LiveTemplate", a);
    json_object_set_new(o, "width", json_integer(t->width));
    json_object_set_new(o, "height", json_integer(t->height));
    json_object_set_new(o, "fps", json_integer(t->fps));
    json_object_set_new(o, "bitrate", json_integer(t->video_kbps));
    return o;
}

void caster_transcode_from_json(const json_t *j, struct caster_transcode *out)
{
    memset(out, 0, sizeof(*out));
    const char *s = json_string_value(json_object_get(j, "casterTemplate"));
    oa_strlcpy(out->caster_template, s ? s : "", sizeof(out->caster_template));
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(j, "LiveTemplate"), i, v)
    {
        if (out->n_live < CASTER_LIVE_TEMPLATES_MAX && json_is_string(v))
            oa_strlcpy(out->live[out->n_live++], json_string_value(v), sizeof(out->live[0]));
    }
    out->width = (int)json_integer_value(json_object_get(j, "width"));
    out->height = (int)json_integer_value(json_object_get(j, "height"));
    out->fps = (int)json_integer_value(json_object_get(j, "fps"));
    out->video_kbps = (int)json_integer_value(json_object_get(j, "bitrate"));
}

int caster_canvas(const char *create_template, const struct caster_transcode *t,
                  struct studio_canvas *out, char *tpl)
{
    const char *name = t && t->caster_template[0]              ? t->caster_template
                       : create_template && create_template[0] ? create_template
                                                               : CASTER_DEFAULT_TEMPLATE;
    if (caster_template_canvas(name, out) != 0)
        return OA_EINVAL;
    if (tpl)
        oa_strlcpy(tpl, name, 16);
    if (t && t->width)
        out->width = t->width;
    if (t && t->height)
        out->height = t->height;
    if (t && t->fps)
        out->fps = t->fps;
    if (t && t->video_kbps)
        out->video_kbps = t->video_kbps;
    return 0;
}

/* ===== layouts ===== */

/* A leaf of the parameter tree as a number in [min, max]; absent (NULL, "") = def. */
static bool leaf_num(const json_t *v, double min, double max, double def, double *out)
{
    if (!v || (json_is_string(v) && json_string_length(v) == 0)) {
        *out = def;
        return true;
    }
    double d;
    if (!json_is_string(v) || oa_parse_double(json_string_value(v), &d) != 0 || d < min || d > max)
        return false;
    *out = d;
    return true;
}

static bool leaf_int(const json_t *v, long long min, long long max, long long def, int *out)
{
    if (!v || (json_is_string(v) && json_string_length(v) == 0)) {
        *out = (int)def;
        return true;
    }
    long long x;
    if (!json_is_string(v) || oa_parse_int(json_string_value(v), min, max, &x) != 0)
        return false;
    *out = (int)x;
    return true;
}

static const char *leaf_str(const json_t *v)
{
    return json_is_string(v) ? json_string_value(v) : v ? NULL : "";
}

/* A Name.N list: absent -> empty; anything but an array is malformed. */
static bool list_of(const json_t *params, const char *name, const json_t **out)
{
    const json_t *v = json_object_get(params, name);
    if (!v || (json_is_string(v) && json_string_length(v) == 0)) {
        *out = NULL;
        return true;
    }
    if (!json_is_array(v))
        return false;
    *out = v;
    return true;
}

static size_t len_of(const json_t *list)
{
    return list ? json_array_size(list) : 0;
}

/* Location ids of a BlendList/MixList into ids[]. */
static int parse_locations(const json_t *list, const char *name, char (*ids)[8],
                           struct caster_perr *e)
{
    size_t i;
    json_t *v;
    json_array_foreach((json_t *)list, i, v)
    {
        if (!json_is_string(v) || !caster_location_ok(json_string_value(v), ids[i])) {
            perr(e, name, "%s.%zu must be a location id RV01-RV99.", name, i + 1);
            return OA_EINVAL;
        }
    }
    return 0;
}

#define POS_MAX 1.0
#define SIZE_NORM_MAX 1.0

static int parse_video_layer(const json_t *o, size_t i, struct studio_video_layer *l, int *delay,
                             struct caster_perr *e)
{
    const char *P = "VideoLayer";
    if (!json_is_object(o)) {
        perr(e, P, "VideoLayer.%zu is missing.", i + 1);
        return OA_EINVAL;
    }
    if (!leaf_num(json_object_get(o, "HeightNormalized"), 0, SIZE_NORM_MAX, 0, &l->height_norm) ||
        !leaf_num(json_object_get(o, "WidthNormalized"), 0, SIZE_NORM_MAX, 0, &l->width_norm)) {
        perr(e, P, "VideoLayer.%zu: HeightNormalized and WidthNormalized are numbers from 0 to 1.",
             i + 1);
        return OA_EINVAL;
    }
    const json_t *pos = json_object_get(o, "PositionNormalized");
    double xy[2] = {0, 0};
    if (pos && !(json_is_string(pos) && json_string_length(pos) == 0)) {
        bool ok = json_is_array(pos) && json_array_size(pos) <= 2;
        for (size_t k = 0; ok && k < json_array_size(pos); k++) {
            const json_t *v = json_array_get(pos, k);
            ok = v && !json_is_null(v) && leaf_num(v, -POS_MAX, POS_MAX, 0, &xy[k]);
        }
        if (!ok) {
            perr(e, P, "VideoLayer.%zu.PositionNormalized must be two numbers [x, y] from -1 to 1.",
                 i + 1);
            return OA_EINVAL;
        }
    }
    l->pos_x = xy[0];
    l->pos_y = xy[1];
    const char *refer = leaf_str(json_object_get(o, "PositionRefer"));
    if (!refer || studio_refer_parse(refer, &l->refer) != 0) {
        perr(e, P,
             "VideoLayer.%zu.PositionRefer must be topLeft, topRight, bottomLeft, bottomRight, "
             "center, topCenter, bottomCenter, leftCenter or rightCenter.",
             i + 1);
        return OA_EINVAL;
    }
    const char *fill = leaf_str(json_object_get(o, "FillMode"));
    if (!fill || studio_fill_parse(fill, &l->fill) != 0) {
        perr(e, P, "VideoLayer.%zu.FillMode must be none or fit.", i + 1);
        return OA_EINVAL;
    }
    if (l->fill == STUDIO_FILL_FIT && (l->height_norm <= 0 || l->width_norm <= 0)) {
        perr(e, P, "VideoLayer.%zu: FillMode fit needs HeightNormalized and WidthNormalized > 0.",
             i + 1);
        return OA_EINVAL;
    }
    if (!leaf_int(json_object_get(o, "FixedDelayDuration"), 0, 5000, 0, delay)) {
        perr(e, P, "VideoLayer.%zu.FixedDelayDuration must be 0-5000 (ms).", i + 1);
        return OA_EINVAL;
    }
    return 0;
}

static int parse_audio_layer(const json_t *o, size_t i, struct studio_audio_layer *l, int *delay,
                             struct caster_perr *e)
{
    const char *P = "AudioLayer";
    if (!json_is_object(o)) {
        perr(e, P, "AudioLayer.%zu is missing.", i + 1);
        return OA_EINVAL;
    }
    if (!leaf_num(json_object_get(o, "VolumeRate"), 0, 10, 1, &l->volume_rate)) {
        perr(e, P, "AudioLayer.%zu.VolumeRate must be a number from 0 to 10.", i + 1);
        return OA_EINVAL;
    }
    const char *ch = leaf_str(json_object_get(o, "ValidChannel"));
    if (!ch || studio_channel_parse(ch, &l->channel) != 0) {
        perr(e, P, "AudioLayer.%zu.ValidChannel must be leftChannel, rightChannel or all.", i + 1);
        return OA_EINVAL;
    }
    if (!leaf_int(json_object_get(o, "FixedDelayDuration"), 0, 5000, 0, delay)) {
        perr(e, P, "AudioLayer.%zu.FixedDelayDuration must be 0-5000 (ms).", i + 1);
        return OA_EINVAL;
    }
    return 0;
}

/* A pair of lists (ids + layer objects) of the same length, at most STUDIO_MAX_LAYERS. */
static int pair_lists(const json_t *params, const char *ids_name, const char *layers_name,
                      bool layers_optional, const json_t **ids, const json_t **layers,
                      struct caster_perr *e)
{
    if (!list_of(params, ids_name, ids)) {
        perr(e, ids_name, "%s must be a list (%s.1, %s.2, ...).", ids_name, ids_name, ids_name);
        return OA_EINVAL;
    }
    if (!list_of(params, layers_name, layers)) {
        perr(e, layers_name, "%s must be a list (%s.1.*, %s.2.*, ...).", layers_name, layers_name,
             layers_name);
        return OA_EINVAL;
    }
    if (len_of(*ids) > STUDIO_MAX_LAYERS) {
        perr(e, ids_name, "%s has more than %d entries.", ids_name, STUDIO_MAX_LAYERS);
        return OA_EINVAL;
    }
    if (len_of(*ids) != len_of(*layers) && !(layers_optional && !*layers)) {
        perr(e, ids_name, "%s and %s must have the same number of entries (%zu and %zu).", ids_name,
             layers_name, len_of(*ids), len_of(*layers));
        return OA_EINVAL;
    }
    return 0;
}

int caster_layout_parse(const json_t *params, struct caster_layout *out, struct caster_perr *e)
{
    memset(out, 0, sizeof(*out));
    const json_t *blend, *video;
    char ids[STUDIO_MAX_LAYERS][8];
    if (pair_lists(params, "BlendList", "VideoLayer", false, &blend, &video, e) ||
        parse_locations(blend, "BlendList", ids, e))
        return OA_EINVAL;
    for (size_t i = 0; i < len_of(blend); i++) {
        struct studio_video_layer *l = &out->l.video[i];
        if (parse_video_layer(json_array_get(video, i), i, l, &out->video_delay[i], e))
            return OA_EINVAL;
        memcpy(l->location_id, ids[i], sizeof(l->location_id));
    }
    out->l.n_video = (int)len_of(blend);

    struct caster_audio a;
    bool given;
    if (caster_audio_parse(params, &a, &given, e))
        return OA_EINVAL;
    /* Here AudioLayer is paired strictly with MixList, like VideoLayer with BlendList. */
    const json_t *mix = NULL, *audio = NULL;
    list_of(params, "MixList", &mix);
    list_of(params, "AudioLayer", &audio);
    if (len_of(mix) != len_of(audio)) {
        perr(e, "MixList",
             "MixList and AudioLayer must have the same number of entries (%zu and %zu).",
             len_of(mix), len_of(audio));
        return OA_EINVAL;
    }
    out->l.n_audio = a.n;
    memcpy(out->l.audio, a.layers, sizeof(a.layers));
    memcpy(out->audio_delay, a.delay, sizeof(a.delay));
    return 0;
}

int caster_audio_parse(const json_t *params, struct caster_audio *out, bool *given,
                       struct caster_perr *e)
{
    const json_t *mix, *audio;
    char ids[STUDIO_MAX_LAYERS][8];
    out->n = 0;
    memset(out->layers, 0, sizeof(out->layers));
    memset(out->delay, 0, sizeof(out->delay));
    if (pair_lists(params, "MixList", "AudioLayer", true, &mix, &audio, e) ||
        parse_locations(mix, "MixList", ids, e))
        return OA_EINVAL;
    if (!mix && audio) {
        perr(e, "MixList", "AudioLayer needs a MixList naming the input of each layer.");
        return OA_EINVAL;
    }
    *given = mix != NULL;
    for (size_t i = 0; i < len_of(mix); i++) {
        struct studio_audio_layer *l = &out->layers[i];
        if (audio) {
            if (parse_audio_layer(json_array_get(audio, i), i, l, &out->delay[i], e))
                return OA_EINVAL;
        } else {
            l->volume_rate = 1.0;
            l->channel = STUDIO_CHANNEL_ALL;
        }
        memcpy(l->location_id, ids[i], sizeof(l->location_id));
    }
    out->n = (int)len_of(mix);
    return 0;
}

void caster_audio_engine(const struct caster_audio *a, struct studio_audio *out)
{
    memset(out, 0, sizeof(*out));
    out->follow_video = a->follow;
    out->n = a->n;
    memcpy(out->layers, a->layers, sizeof(out->layers));
}

/* ===== storage forms ===== */

static json_t *audio_layers_json(int n, const struct studio_audio_layer *layers, const int *delay)
{
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_t *o = json_object();
        json_object_set_new(o, "id", json_string(layers[i].location_id));
        json_object_set_new(o, "volume", json_real(layers[i].volume_rate));
        json_object_set_new(o, "channel", json_string(studio_channel_name(layers[i].channel)));
        json_object_set_new(o, "delay", json_integer(delay[i]));
        json_array_append_new(arr, o);
    }
    return arr;
}

static int audio_layers_from(const json_t *arr, int *n, struct studio_audio_layer *layers,
                             int *delay)
{
    size_t i;
    json_t *o;
    if (!json_is_array(arr) || json_array_size(arr) > STUDIO_MAX_LAYERS)
        return OA_EINVAL;
    json_array_foreach((json_t *)arr, i, o)
    {
        struct studio_audio_layer *l = &layers[i];
        const char *id = json_string_value(json_object_get(o, "id"));
        const char *ch = json_string_value(json_object_get(o, "channel"));
        if (!id || !caster_location_ok(id, l->location_id) || !ch ||
            studio_channel_parse(ch, &l->channel) != 0)
            return OA_EINVAL;
        l->volume_rate = json_number_value(json_object_get(o, "volume"));
        delay[i] = (int)json_integer_value(json_object_get(o, "delay"));
    }
    *n = (int)json_array_size(arr);
    return 0;
}

json_t *caster_layout_to_json(const struct caster_layout *l)
{
    json_t *o = json_object(), *video = json_array();
    for (int i = 0; i < l->l.n_video; i++) {
        const struct studio_video_layer *v = &l->l.video[i];
        json_t *x = json_object();
        json_object_set_new(x, "id", json_string(v->location_id));
        json_object_set_new(x, "h", json_real(v->height_norm));
        json_object_set_new(x, "w", json_real(v->width_norm));
        json_object_set_new(x, "x", json_real(v->pos_x));
        json_object_set_new(x, "y", json_real(v->pos_y));
        json_object_set_new(x, "refer", json_string(studio_refer_name(v->refer)));
        json_object_set_new(x, "fill", json_string(studio_fill_name(v->fill)));
        json_object_set_new(x, "delay", json_integer(l->video_delay[i]));
        json_array_append_new(video, x);
    }
    json_object_set_new(o, "video", video);
    json_object_set_new(o, "audio", audio_layers_json(l->l.n_audio, l->l.audio, l->audio_delay));
    return o;
}

int caster_layout_from_json(const json_t *j, struct caster_layout *out)
{
    memset(out, 0, sizeof(*out));
    const json_t *video = json_object_get(j, "video");
    size_t i;
    json_t *x;
    if (!json_is_array(video) || json_array_size(video) > STUDIO_MAX_LAYERS)
        return OA_EINVAL;
    json_array_foreach((json_t *)video, i, x)
    {
        struct studio_video_layer *v = &out->l.video[i];
        const char *id = json_string_value(json_object_get(x, "id"));
        const char *refer = json_string_value(json_object_get(x, "refer"));
        const char *fill = json_string_value(json_object_get(x, "fill"));
        if (!id || !caster_location_ok(id, v->location_id) || !refer ||
            studio_refer_parse(refer, &v->refer) != 0 || !fill ||
            studio_fill_parse(fill, &v->fill) != 0)
            return OA_EINVAL;
        v->height_norm = json_number_value(json_object_get(x, "h"));
        v->width_norm = json_number_value(json_object_get(x, "w"));
        v->pos_x = json_number_value(json_object_get(x, "x"));
        v->pos_y = json_number_value(json_object_get(x, "y"));
        out->video_delay[i] = (int)json_integer_value(json_object_get(x, "delay"));
    }
    out->l.n_video = (int)json_array_size(video);
    return audio_layers_from(json_object_get(j, "audio"), &out->l.n_audio, out->l.audio,
                             out->audio_delay);
}

json_t *caster_audio_to_json(const struct caster_audio *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "follow", json_boolean(a->follow));
    json_object_set_new(o, "mix", audio_layers_json(a->n, a->layers, a->delay));
    return o;
}

int caster_audio_from_json(const json_t *j, struct caster_audio *out)
{
    memset(out, 0, sizeof(*out));
    out->follow = true;
    if (!json_is_object(j))
        return OA_EINVAL;
    const json_t *f = json_object_get(j, "follow");
    if (f)
        out->follow = json_is_true(f);
    const json_t *mix = json_object_get(j, "mix");
    return mix ? audio_layers_from(mix, &out->n, out->layers, out->delay) : 0;
}

/* ===== URLs ===== */

/* Splits "host[:port]" / "[v6][:port]" into host and port ("" when none). */
static void split_host(const char *s, char host[256], char port[16])
{
    host[0] = port[0] = '\0';
    if (!s)
        return;
    const char *colon;
    if (s[0] == '[') {
        const char *e = strchr(s, ']');
        size_t n = e ? (size_t)(e - s + 1) : strlen(s);
        oa_strlcpy(host, s, OA_MIN(n + 1, 256));
        colon = e && e[1] == ':' ? e + 1 : NULL;
    } else {
        colon = strchr(s, ':');
        /* A bare IPv6 address (several colons) has no port. */
        if (colon && strchr(colon + 1, ':'))
            colon = NULL;
        size_t n = colon ? (size_t)(colon - s) : strlen(s);
        oa_strlcpy(host, s, OA_MIN(n + 1, 256));
    }
    if (colon)
        oa_strlcpy(port, colon + 1, 16);
}

/* The port of a listen address "ip:port" / "port". */
static void listen_port(const char *addr, char out[16])
{
    const char *c = strrchr(addr, ':');
    oa_strlcpy(out, c ? c + 1 : addr, 16);
}

void caster_endpoint_make(const char *public_host, const char *req_host, const char *rtmp_listen,
                          const char *http_listen, struct caster_endpoint *out)
{
    const char *src = public_host && *public_host ? public_host
                      : req_host && *req_host     ? req_host
                                                  : "127.0.0.1";
    char port[16], rport[16];
    split_host(src, out->host, port);
    if (!out->host[0])
        oa_strlcpy(out->host, "127.0.0.1", sizeof(out->host));
    if (!port[0] && src == public_host)
        listen_port(http_listen, port);
    if (port[0] && strcmp(port, "80") != 0)
        oa_snprintf(out->http, sizeof(out->http), "%s:%s", out->host, port);
    else
        oa_strlcpy(out->http, out->host, sizeof(out->http));
    listen_port(rtmp_listen, rport);
    if (rport[0] && strcmp(rport, "1935") != 0)
        oa_snprintf(out->rtmp, sizeof(out->rtmp), "%s:%s", out->host, rport);
    else
        oa_strlcpy(out->rtmp, out->host, sizeof(out->rtmp));
}

int caster_url(const struct caster_endpoint *ep, enum caster_url_kind kind, const char *domain,
               const char *app, const char *stream, const char *key, time_t ts, char *out,
               size_t outlen)
{
    static const char *const ext[] = {"", ".flv", ".m3u8"};
    char uri[600], auth[URLAUTH_KEY_LEN], query[600];
    size_t q = 0;
    if (oa_snprintf(uri, sizeof(uri), "/%s/%s%s", app, stream, ext[kind]) != 0)
        return OA_ETOOBIG;
    query[0] = '\0';
    if (!oa_strcaseeq(ep->host, domain)) {
        oa_snprintf(query, sizeof(query), "vhost=%s", domain);
        q = strlen(query);
    }
    if (key && *key) {
        urlauth_sign(uri, ts, key, auth, sizeof(auth));
        oa_snprintf(query + q, sizeof(query) - q, "%sauth_key=%s", q ? "&" : "", auth);
    }
    int r =
        oa_snprintf(out, outlen, "%s://%s%s%s%s", kind == CASTER_URL_RTMP ? "rtmp" : "http",
                    kind == CASTER_URL_RTMP ? ep->rtmp : ep->http, uri, query[0] ? "?" : "", query);
    return r == 0 ? 0 : OA_ETOOBIG;
}

/* ===== ids and input URLs ===== */

bool caster_id_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '-' && s[i] != '_')
            return false;
    return true;
}

bool caster_location_ok(const char *s, char out[8])
{
    if (!s || studio_location_index(s) < 0)
        return false;
    memset(out, 0, 8);
    out[0] = 'R';
    out[1] = 'V';
    out[2] = s[2];
    out[3] = s[3];
    out[4] = '\0';
    return true;
}

/* No blanks, controls or backslashes; at most 1024 bytes; a non-empty host after the scheme. */
static bool url_chars_ok(const char *url, size_t skip)
{
    size_t n = strlen(url);
    if (n > 1024 || n <= skip || url[skip] == '/' || url[skip] == '?' || url[skip] == ':')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)url[i];
        if (c <= ' ' || c == 0x7f || c == '\\')
            return false;
    }
    return true;
}

static size_t scheme_len(const char *url, const char *const *schemes, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(schemes[i]);
        if (strncasecmp(url, schemes[i], len) == 0)
            return len;
    }
    return 0;
}

bool caster_live_url_ok(const char *url)
{
    static const char *const s[] = {"rtmp://", "http://", "https://"};
    size_t n = url ? scheme_len(url, s, OA_ARRAY_SIZE(s)) : 0;
    return n && url_chars_ok(url, n);
}

bool caster_media_url_ok(const char *url)
{
    static const char *const s[] = {"http://", "https://", "oss://"};
    size_t n = url ? scheme_len(url, s, OA_ARRAY_SIZE(s)) : 0;
    return n && url_chars_ok(url, n);
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* Splits "bucket/object[?...]" and percent-decodes the object. */
static bool bucket_object(const char *p, char bucket[64], char object[1024])
{
    size_t n = strcspn(p, "/");
    if (p[n] != '/' || n == 0 || n >= 64)
        return false;
    memcpy(bucket, p, n);
    bucket[n] = '\0';
    const char *o = p + n + 1;
    size_t k = 0, end = strcspn(o, "?#");
    for (size_t i = 0; i < end; i++) {
        int c = (unsigned char)o[i];
        if (c == '%') {
            if (i + 2 >= end || hexval(o[i + 1]) < 0 || hexval(o[i + 2]) < 0)
                return false;
            c = hexval(o[i + 1]) * 16 + hexval(o[i + 2]);
            i += 2;
        }
        if (c == 0 || k + 1 >= 1024)
            return false;
        object[k++] = (char)c;
    }
    object[k] = '\0';
    return k > 0;
}

bool caster_storage_object(const char *url, char bucket[64], char object[1024])
{
    if (!url)
        return false;
    if (strncasecmp(url, "oss://", 6) == 0)
        return bucket_object(url + 6, bucket, object);
    if (strncasecmp(url, "http://", 7) != 0)
        return false;
    const char *p = url + 7;
    size_t n = strcspn(p, "/?#");
    char auth[300], host[256], port[16], lport[16], phost[256], pport[16];
    if (n == 0 || n >= sizeof(auth) || strncmp(p + n, "/oss/", 5) != 0)
        return false;
    memcpy(auth, p, n);
    auth[n] = '\0';
    split_host(auth, host, port);
    listen_port(oa_cfg.http_listen, lport);
    if (strcmp(port[0] ? port : "80", lport) != 0)
        return false;
    split_host(oa_cfg.public_host, phost, pport);
    bool self = oa_strcaseeq(host, "127.0.0.1") || oa_strcaseeq(host, "localhost") ||
                oa_strcaseeq(host, "[::1]") || (phost[0] && oa_strcaseeq(host, phost));
    return self && bucket_object(p + n + 5, bucket, object);
}
