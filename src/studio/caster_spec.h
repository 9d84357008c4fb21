/*
 * caster_spec.h - the pure pieces of the production studio's model: output
 * templates and the canvas they mean, TranscodeConfig, layouts and scene
 * audio as the API spells them (parsed from the request's parameter tree,
 * stored as JSON), the output URLs of a scene, and the checks on input URLs.
 *
 * Nothing here touches the database, the engine or global state except
 * where a function says it reads oa_cfg; everything is unit-tested
 * (tests/unit/test_caster_spec.c). Thread-safe.
 */
#ifndef OA_STUDIO_CASTER_SPEC_H
#define OA_STUDIO_CASTER_SPEC_H

#include "core/common.h"
#include "studio/engine.h"

#include <jansson.h>
#include <time.h>

/* ===== templates and canvas ===== */

/* The template a caster has when none was chosen (CreateCaster or TranscodeConfig). */
#define CASTER_DEFAULT_TEMPLATE "lp_ld"

/*
 * The canvas of a CasterTemplate ("lp_ld", "lp_sd", "lp_hd", "lp_ud" and the
 * portrait "_v" forms, case-insensitive): see the table in caster_spec.c.
 * 0, or OA_EINVAL for an unknown name.
 */
int caster_template_canvas(const char *name, struct studio_canvas *out);
/* The Live transcode template of the same quality ("lld", "lsd", "lhd", "lud"), or "". */
const char *caster_template_quality(const char *name);

/* TranscodeConfig as SetCasterConfig takes it and DescribeCasterConfig echoes it. */
#define CASTER_LIVE_TEMPLATES_MAX 8
struct caster_transcode {
    char caster_template[16]; /* "" = not set (the caster's CreateCaster template) */
    int n_live;
    char live[CASTER_LIVE_TEMPLATES_MAX][8]; /* LiveTemplate: lld, lsd, lhd, lud */
    /* CustomParams.video overrides; 0 = the template's value */
    int width, height, fps, video_kbps;
};

/* Why a value was refused: the parameter that names the error code, and a message. */
struct caster_perr {
    char param[64]; /* the error is Invalid<param>.Malformed */
    char msg[256];
};

/*
 * Parses the TranscodeConfig JSON (an object; keys compared
 * case-insensitively: casterTemplate, LiveTemplate, customParams.video
 * {width, height, fps, bitrate}). 0, or OA_EINVAL with *e filled.
 */
int caster_transcode_parse(const json_t *j, struct caster_transcode *out, struct caster_perr *e);
/* Storage form (new reference) and back; from_json of NULL gives an empty config. */
json_t *caster_transcode_to_json(const struct caster_transcode *t);
void caster_transcode_from_json(const json_t *j, struct caster_transcode *out);
/*
 * The canvas of a caster: the TranscodeConfig template if set, else
 * create_template, else CASTER_DEFAULT_TEMPLATE, with CustomParams applied.
 * Writes the template used to tpl (16 bytes) if not NULL. 0 or OA_EINVAL.
 */
int caster_canvas(const char *create_template, const struct caster_transcode *t,
                  struct studio_canvas *out, char *tpl);

/* ===== layouts and scene audio ===== */

/* A layout as stored: the engine's layout plus what the engine ignores. */
struct caster_layout {
    struct studio_layout l;
    int video_delay[STUDIO_MAX_LAYERS]; /* FixedDelayDuration, ms (stored, no effect) */
    int audio_delay[STUDIO_MAX_LAYERS];
};

/*
 * Reads BlendList.N / VideoLayer.N.* and MixList.N / AudioLayer.N.* from a
 * request's parameter tree (params.h: lists of strings and objects). Every
 * list is optional here (the action table says which are required); the
 * two lists of a pair must have the same length. 0, or OA_EINVAL with *e.
 */
int caster_layout_parse(const json_t *params, struct caster_layout *out, struct caster_perr *e);

/* A scene's audio (UpdateCasterSceneAudio / DescribeCasterSceneAudio). */
struct caster_audio {
    bool follow; /* FollowEnable: 1 = audio follows the layout (default) */
    int n;       /* the mix list, used when !follow */
    struct studio_audio_layer layers[STUDIO_MAX_LAYERS];
    int delay[STUDIO_MAX_LAYERS];
};

/*
 * Reads MixList.N / AudioLayer.N.* into out->n/layers/delay (follow is left
 * alone). An AudioLayer list is optional: without it every entry has volume
 * 1 and all channels. *given is set when MixList or AudioLayer was present.
 */
int caster_audio_parse(const json_t *params, struct caster_audio *out, bool *given,
                       struct caster_perr *e);
/* The engine's form of a scene's audio. */
void caster_audio_engine(const struct caster_audio *a, struct studio_audio *out);

/* Storage forms (new references) and back; 0 or OA_EINVAL for JSON of the wrong shape. */
json_t *caster_layout_to_json(const struct caster_layout *l);
int caster_layout_from_json(const json_t *j, struct caster_layout *out);
json_t *caster_audio_to_json(const struct caster_audio *a);
int caster_audio_from_json(const json_t *j, struct caster_audio *out);

/* ===== output URLs ===== */

/* Where clients reach this server, as the URLs we return say it. */
struct caster_endpoint {
    char host[256]; /* host without port (IPv6 in brackets) */
    char http[300]; /* host[:port] for http:// URLs */
    char rtmp[300]; /* host[:port] for rtmp:// URLs */
};

/*
 * public_host (may carry a port, which is then the HTTP port) if set, else
 * the Host of the API request (whose port is the HTTP port the client
 * used), else 127.0.0.1; the RTMP port is rtmp_listen's, the HTTP port
 * http_listen's when neither host says one. Default ports are left out.
 */
void caster_endpoint_make(const char *public_host, const char *req_host, const char *rtmp_listen,
                          const char *http_listen, struct caster_endpoint *out);

enum caster_url_kind {
    CASTER_URL_RTMP, /* rtmp://host/app/stream */
    CASTER_URL_FLV,  /* http://host/app/stream.flv */
    CASTER_URL_HLS,  /* http://host/app/stream.m3u8 */
};

/*
 * Writes the play URL of domain/app/stream. `vhost=<domain>` is added when
 * the URL's host is not the domain itself; with key (auth type A, NULL or
 * "" = none) an auth_key signed at ts is added. 0, or OA_ETOOBIG.
 */
int caster_url(const struct caster_endpoint *ep, enum caster_url_kind kind, const char *domain,
               const char *app, const char *stream, const char *key, time_t ts, char *out,
               size_t outlen);

/* ===== ids and input URLs ===== */

/* 1-64 characters of [A-Za-z0-9_-]: the form of every id (CasterId, SceneId, ...). */
bool caster_id_ok(const char *s);
/* "RV01".."RV99" (any case), normalized to upper case in out (8 bytes). */
bool caster_location_ok(const char *s, char out[8]);
/* A live source: rtmp:// or http(s):// with a host; no blanks or control characters. */
bool caster_live_url_ok(const char *url);
/* A file or image: http(s):// with a host, or oss://bucket/object. */
bool caster_media_url_ok(const char *url);
/*
 * If url names an object of onair's own storage - oss://bucket/object, or
 * http://<this server>/oss/bucket/object where this server is 127.0.0.1,
 * localhost, [::1] or public_host at http_listen's port - writes its bucket
 * (64 bytes) and decoded object (1024 bytes) and returns true. Reads oa_cfg.
 */
bool caster_storage_object(const char *url, char bucket[64], char object[1024]);

#endif
