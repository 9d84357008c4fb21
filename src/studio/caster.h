/*
 * caster.h - the production studio's model: casters, their video resources
 * (inputs), layouts and scenes, stored in SQLite (module "studio"), and the
 * lifecycle that drives the media engine (engine.h).
 *
 * The database is the truth; the engine mirrors it while a caster runs.
 * A caster's Status is 1 from StartCaster to StopCaster, and survives a
 * restart of the server: caster_init() starts every caster that was
 * running (inputs, PGM, and PVW if it was running). StartCaster creates
 * the caster's two scenes - PVW (OutputType 0) and PGM (OutputType 1) -
 * if they do not exist yet, and starts both; StartCasterScene and
 * StopCasterScene start and stop PVW; PGM runs while the caster runs.
 * Changes to inputs, to layouts in use and to scene settings apply to the
 * running engine at once; changes to SetCasterConfig (domain, template,
 * output delay) apply at the next StartCaster or RestartCaster. With an
 * output delay, PGM's scene holds its output in a delay line (delay.h)
 * before it enters the hub: the undelayed program is not a stream.
 *
 * Every function takes the caller's account: a caster of another account
 * is CASTER_ENOCASTER, exactly like a missing one. Errors are the
 * CASTER_E* codes below, or OA_EDB (already logged) for store failures.
 *
 * Threads: the event-loop thread only (the engine's rule).
 */
#ifndef OA_STUDIO_CASTER_H
#define OA_STUDIO_CASTER_H

#include "core/common.h"
#include "studio/caster_spec.h"

#include <jansson.h>
#include <time.h>

/* Distinct from OA_E* (err.h); api/caster.c maps each to its API error. */
enum caster_error {
    CASTER_ENOCASTER = -20001,     /* no such caster (or another account's) */
    CASTER_ERUNNING = -20002,      /* the caster must be idle */
    CASTER_EIDLE = -20003,         /* the caster must be running */
    CASTER_ENODOMAIN = -20004,     /* no DomainName configured, or it is gone */
    CASTER_ENOSCENE = -20005,      /* no such scene */
    CASTER_ESCENETYPE = -20006,    /* a PGM scene where PVW is needed, or the reverse */
    CASTER_ESCENEIDLE = -20007,    /* the scene is not running */
    CASTER_ENOLAYOUT = -20008,     /* no such layout */
    CASTER_ELAYOUTUSED = -20009,   /* the layout is set on a scene */
    CASTER_ENORESOURCE = -20010,   /* no such video resource */
    CASTER_ELOCATIONUSED = -20011, /* another resource has that LocationId */
    CASTER_ELIMIT = -20012,        /* CASTER_MAX_PER_ACCOUNT casters already */
    CASTER_EENGINE = -20013,       /* the engine refused (logged) */
    CASTER_ENOLOCATION = -20014,   /* every LocationId RV01-RV99 is taken */
    CASTER_EOUTPUTBUSY = -20015,   /* a scene's stream already has another publisher (logged) */
};

/* Casters one account may have. */
#define CASTER_MAX_PER_ACCOUNT 100
/* The AppName of every scene's stream; reserved: clients cannot publish into it. */
#define CASTER_APP "caster"

enum caster_output { CASTER_PVW = 0, CASTER_PGM = 1 };

struct caster_info {
    char id[65];
    int64_t account_id;
    char name[257];
    int norm_type;
    char charge_type[16];
    char create_template[16]; /* CreateCaster's CasterTemplate ("" = none) */
    char client_token[65];
    char resource_group[129];
    char purchase_time[21], expire_time[21]; /* "" or yyyy-MM-ddTHH:mm:ssZ */
    json_t *tags;                            /* [{"Key":...,"Value":...}] (owned) */
    json_t *config; /* SetCasterConfig's settings as api/caster.c stores them (owned) */
    int status;     /* 0 idle, 1 running */
    int64_t created_ms, modified_ms, started_ms; /* Unix ms; started_ms = 0 when idle */
    int64_t duration_s;                          /* streamed so far, including the current run */
    /* Derived: the effective template and canvas, and the domain in use (the
     * running one while running, else the configured one; "" = none). */
    char template_name[16];
    struct studio_canvas canvas;
    char domain[256];
};
void caster_info_free(struct caster_info *c);

/* What CreateCaster and CopyCaster store (borrowed strings; tags may be NULL). */
struct caster_new {
    const char *name;
    int norm_type;
    const char *charge_type;
    const char *create_template;
    const char *client_token;
    const char *resource_group;
    const char *purchase_time, *expire_time;
    const json_t *tags;
};

struct caster_resource {
    char id[65];
    char location_id[8];
    char name[257];
    /* Exactly one source is set. */
    char live_url[1025], vod_url[1025], image_url[1025];
    int64_t begin_ms, end_ms; /* VOD: BeginOffset, EndOffset */
    int repeat;               /* VOD: RepeatNum */
    int64_t pts_callback_ms;  /* stored, no effect */
    int fixed_delay_ms;       /* stored, no effect */
};

struct caster_scene {
    char id[65];
    int output_type; /* enum caster_output */
    char name[16];   /* "PVW" / "PGM" */
    char stream[33]; /* StreamName under CASTER_APP */
    char layout_id[65];
    bool want;  /* stored state: runs while the caster runs */
    int status; /* 1 when its output is live now */
    struct caster_audio audio;
};

struct caster_filter {
    const char *id, *name; /* exact id; name contains this (NULL = any) */
    int norm_type;         /* -1 = any */
    int status;            /* -1 = any */
    int charge;            /* -1 any, 0 PrePaid, 1 PostPaid */
    time_t start, end;     /* creation time in [start, end]; 0 = open */
    const char *resource_group;
    const json_t *tags; /* every {"Key","Value"} must match */
    bool modify_asc;    /* order by LastModified ascending (default descending) */
    int page, page_size;
};

/* Migrates the tables, installs the engine's domain resolver, restarts running casters. */
int caster_init(void);
/* Stops every running engine (Status stays 1, so they run again at the next start). */
void caster_shutdown(void);

/* ===== casters ===== */

/* Creates a caster, or finds the caster created with the same ClientToken (*existed). */
int caster_create(int64_t account, const struct caster_new *n, char id[65], bool *existed);
/* CopyCaster: config, resources and layouts (new ids); scenes come at StartCaster. */
int caster_copy(int64_t account, const char *src_id, const char *name, const char *client_token,
                char id[65], bool *existed);
/* Idle casters only (CASTER_ERUNNING); removes resources, layouts and scenes too. */
int caster_delete(int64_t account, const char *id);
/* Loads one caster; free with caster_info_free(). */
int caster_get(int64_t account, const char *id, struct caster_info *out);
/* Calls fn for one page of the account's casters that pass f; *total counts all that pass. */
int caster_list(int64_t account, const struct caster_filter *f,
                void (*fn)(const struct caster_info *c, void *arg), void *arg, int *total);
/*
 * SetCasterConfig: replaces the name and the whole config (borrowed). The
 * config is api/caster.c's JSON object; the model itself reads "DomainName"
 * (string), "TranscodeConfig" (caster_transcode_to_json's form) and "Delay"
 * (seconds of output delay for PGM), at the next start.
 */
int caster_set_config(int64_t account, const char *id, const char *name, const json_t *config);

/* Needs a configured, existing DomainName (CASTER_ENODOMAIN); a running caster is CASTER_ERUNNING.
 */
int caster_start(int64_t account, const char *id);
/* Idempotent: stopping an idle caster succeeds. */
int caster_stop(int64_t account, const char *id);
/* Running casters only (CASTER_EIDLE): stops and starts again with the current settings. */
int caster_restart(int64_t account, const char *id);

/* ===== video resources ===== */

/* res->id is written; an empty res->location_id takes the lowest free one (written back). */
int caster_resource_add(int64_t account, const char *caster_id, struct caster_resource *res);
/* Replaces the resource res->id (its LocationId cannot change). */
int caster_resource_modify(int64_t account, const char *caster_id,
                           const struct caster_resource *res);
int caster_resource_get(int64_t account, const char *caster_id, const char *resource_id,
                        struct caster_resource *out);
int caster_resource_delete(int64_t account, const char *caster_id, const char *resource_id);
/* By LocationId. */
int caster_resource_list(int64_t account, const char *caster_id,
                         void (*fn)(const struct caster_resource *r, void *arg), void *arg);
/*
 * Checks that a live URL naming a stream of this server may be read by
 * `account`, as a player would be checked (domain, URL auth type A with the
 * URL's auth_key). 0, or OA_EAUTH. URLs of other servers pass.
 */
int caster_live_url_allowed(const char *caster_domain, const char *url);

/* ===== layouts ===== */

int caster_layout_add(int64_t account, const char *caster_id, const struct caster_layout *l,
                      char id[65]);
/* Replaces the layout; running scenes that show it change at their next frame. */
int caster_layout_modify(int64_t account, const char *caster_id, const char *layout_id,
                         const struct caster_layout *l);
/* CASTER_ELAYOUTUSED while a scene has it set. */
int caster_layout_delete(int64_t account, const char *caster_id, const char *layout_id);
/* layout_id NULL = all, oldest first; a given id that does not exist is CASTER_ENOLAYOUT. */
int caster_layout_list(int64_t account, const char *caster_id, const char *layout_id,
                       void (*fn)(const char *id, const struct caster_layout *l, void *arg),
                       void *arg);

/* ===== scenes ===== */

/* scene_id NULL = all (PVW first); a given id that does not exist is CASTER_ENOSCENE. */
int caster_scene_list(int64_t account, const char *caster_id, const char *scene_id,
                      void (*fn)(const struct caster_info *c, const struct caster_scene *s,
                                 void *arg),
                      void *arg, int *count);
/* PVW only; the caster must run (CASTER_EIDLE); a running PVW is left as it is. */
int caster_scene_start(int64_t account, const char *caster_id, const char *scene_id);
/* PVW only; CASTER_ESCENEIDLE if it is not running. */
int caster_scene_stop(int64_t account, const char *caster_id, const char *scene_id);
/* Sets the scene's layout ("" = none: a black picture). */
int caster_scene_set_layout(int64_t account, const char *caster_id, const char *scene_id,
                            const char *layout_id);
/* The take: PGM gets PVW's layout and audio settings, on its next frame. */
int caster_scene_copy(int64_t account, const char *caster_id, const char *from_id,
                      const char *to_id);
/* follow < 0 keeps FollowEnable; mix NULL keeps the mix list. */
int caster_scene_set_audio(int64_t account, const char *caster_id, const char *scene_id, int follow,
                           const struct caster_audio *mix);

/*
 * The play URLs of a scene (rtmp, http-flv, hls) for clients that reach
 * the server at ep, signed with the domain's auth_key1 when its URL auth is
 * type A. Empty strings when the caster has no domain.
 */
struct caster_urls {
    char rtmp[1536], flv[1536], hls[1536];
};
void caster_scene_urls(const struct caster_info *c, const struct caster_scene *s,
                       const struct caster_endpoint *ep, struct caster_urls *out);

#endif
