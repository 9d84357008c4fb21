/*
 * caster.c - casters, resources, layouts and scenes in SQLite, and the
 * running engines that mirror them.
 *
 * Every operation loads what it needs from the database (the caller's
 * account is part of every caster lookup), changes the rows, and then, if
 * the caster is running, makes the engine agree: inputs are set or removed,
 * scenes showing a changed layout get it at their next frame, a take copies
 * PVW's layout and audio onto PGM. The running side (struct rt) holds only
 * engine handles and what the caster was started with (its domain, its
 * output delay), so nothing has to be reconciled
 * after a restart: caster_init() starts every caster whose row says
 * Status 1.
 *
 * A scene's output can be ended from outside (StopLiveDomain kicks every
 * publisher of the domain, the scene's included). A one-second timer notices
 * it and starts the scene again once its domain is online.
 */
#include "studio/caster.h"
#include "access/access.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"
#include "record/storage.h"
#include "store/db.h"
#include "store/domain.h"
#include "studio/input.h"

#include <ctype.h>
#include <event2/event.h>
#include <strings.h>

/* How long shutdown waits for the studio's threads. */
#define IDLE_WAIT_MS 5000

static const char *const migrations[] = {
    /* 1: casters, their inputs, layouts and scenes */
    "CREATE TABLE casters ("
    "  id TEXT PRIMARY KEY, account_id INTEGER NOT NULL, name TEXT NOT NULL,"
    "  norm_type INTEGER NOT NULL, charge_type TEXT NOT NULL, template TEXT NOT NULL,"
    "  client_token TEXT NOT NULL, resource_group TEXT NOT NULL, purchase_time TEXT NOT NULL,"
    "  expire_time TEXT NOT NULL, tags TEXT NOT NULL, config TEXT NOT NULL,"
    "  status INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL,"
    "  modified_ms INTEGER NOT NULL, started_ms INTEGER NOT NULL DEFAULT 0,"
    "  duration_ms INTEGER NOT NULL DEFAULT 0,"
    "  UNIQUE (account_id, client_token));"
    "CREATE TABLE caster_resources ("
    "  id TEXT PRIMARY KEY, caster_id TEXT NOT NULL, location_id TEXT NOT NULL,"
    "  name TEXT NOT NULL, live_url TEXT NOT NULL, vod_url TEXT NOT NULL,"
    "  image_url TEXT NOT NULL, begin_ms INTEGER NOT NULL, end_ms INTEGER NOT NULL,"
    "  repeat_num INTEGER NOT NULL, pts_callback_ms INTEGER NOT NULL,"
    "  fixed_delay_ms INTEGER NOT NULL, UNIQUE (caster_id, location_id));"
    "CREATE TABLE caster_layouts ("
    "  seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, caster_id TEXT NOT NULL,"
    "  body TEXT NOT NULL);"
    "CREATE INDEX caster_layouts_by_caster ON caster_layouts(caster_id, seq);"
    "CREATE TABLE caster_scenes ("
    "  id TEXT PRIMARY KEY, caster_id TEXT NOT NULL, output_type INTEGER NOT NULL,"
    "  stream TEXT NOT NULL, layout_id TEXT NOT NULL DEFAULT '', audio TEXT NOT NULL,"
    "  want INTEGER NOT NULL DEFAULT 0, UNIQUE (caster_id, output_type));",
    /*
     * 2: Duration counts time this server ran the caster, not its downtime:
     * duration_ms holds the time up to counted_ms (0 while not running here).
     */
    "ALTER TABLE casters ADD COLUMN counted_ms INTEGER NOT NULL DEFAULT 0;"
    "UPDATE casters SET counted_ms = started_ms WHERE status = 1;",
};

/* How often a running caster's Duration is written down (what a crash can lose). */
#define DURATION_CHECKPOINT_S 60

/* ===== the running side ===== */

struct rt_scene {
    char id[65];
    struct studio_scene *h; /* NULL while not running */
    bool want;
    bool warned; /* a failure to (re)start was logged */
};

struct rt {
    char id[65];
    char domain[256];     /* DomainName it was started with */
    char key_domain[256]; /* the domain that keys its streams */
    int delay_ms;         /* SetCasterConfig Delay it was started with */
    struct studio_caster *eng;
    struct rt_scene sc[2]; /* by enum caster_output */
    struct rt *next;
};

static struct {
    struct rt *running;
    struct event *timer;
} C;

static struct rt *rt_find(const char *id)
{
    for (struct rt *r = C.running; r; r = r->next)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

/* ===== rows ===== */

static void col(sqlite3_stmt *st, int i, char *out, size_t n)
{
    oa_strlcpy(out, db_col_text(st, i), n);
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
    json_t *j = json_loads(db_col_text(st, i), JSON_DECODE_ANY, NULL);
    return j ? j : json_null();
}

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
    sqlite3_bind_text(st, i, s ? s : "", -1, SQLITE_TRANSIENT);
}

/* Binds a JSON value as its compact text. */
static void bind_json(sqlite3_stmt *st, int i, const json_t *j)
{
    char *s = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    bind_text(st, i, s ? s : "null");
    oa_free(s);
}

#define CASTER_COLS                                                                                \
    "id, account_id, name, norm_type, charge_type, template, client_token, resource_group, "       \
    "purchase_time, expire_time, tags, config, status, created_ms, modified_ms, started_ms, "      \
    "duration_ms, counted_ms"

static const char *config_domain(const json_t *config)
{
    const char *d = json_string_value(json_object_get(config, "DomainName"));
    return d ? d : "";
}

static void read_caster(sqlite3_stmt *st, struct caster_info *c)
{
    memset(c, 0, sizeof(*c));
    col(st, 0, c->id, sizeof(c->id));
    c->account_id = sqlite3_column_int64(st, 1);
    col(st, 2, c->name, sizeof(c->name));
    c->norm_type = sqlite3_column_int(st, 3);
    col(st, 4, c->charge_type, sizeof(c->charge_type));
    col(st, 5, c->create_template, sizeof(c->create_template));
    col(st, 6, c->client_token, sizeof(c->client_token));
    col(st, 7, c->resource_group, sizeof(c->resource_group));
    col(st, 8, c->purchase_time, sizeof(c->purchase_time));
    col(st, 9, c->expire_time, sizeof(c->expire_time));
    c->tags = col_json(st, 10);
    c->config = col_json(st, 11);
    if (!json_is_object(c->config)) {
        json_decref(c->config);
        c->config = json_object();
    }
    c->status = sqlite3_column_int(st, 12);
    c->created_ms = sqlite3_column_int64(st, 13);
    c->modified_ms = sqlite3_column_int64(st, 14);
    c->started_ms = sqlite3_column_int64(st, 15);
    int64_t ms = sqlite3_column_int64(st, 16), counted = sqlite3_column_int64(st, 17);
    if (c->status && counted)
        ms += OA_MAX(oa_wall_ms() - counted, 0);
    c->duration_s = ms / 1000;

    struct caster_transcode t;
    caster_transcode_from_json(json_object_get(c->config, "TranscodeConfig"), &t);
    if (caster_canvas(c->create_template, &t, &c->canvas, c->template_name) != 0)
        caster_canvas(NULL, NULL, &c->canvas, c->template_name);
    struct rt *r = rt_find(c->id);
    oa_strlcpy(c->domain, r ? r->domain : config_domain(c->config), sizeof(c->domain));
}

void caster_info_free(struct caster_info *c)
{
    json_decref(c->tags);
    json_decref(c->config);
    c->tags = c->config = NULL;
}

/* The caster `id` of `account`: 0, CASTER_ENOCASTER or OA_EDB. */
static int load(int64_t account, const char *id, struct caster_info *out)
{
    memset(out, 0, sizeof(*out));
    if (!caster_id_ok(id))
        return CASTER_ENOCASTER;
    sqlite3_stmt *st =
        db_prepare("SELECT " CASTER_COLS " FROM casters WHERE id = ? AND account_id = ?");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, id);
    sqlite3_bind_int64(st, 2, account);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        read_caster(st, out);
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? CASTER_ENOCASTER : OA_EDB;
}

int caster_get(int64_t account, const char *id, struct caster_info *out)
{
    return load(account, id, out);
}

static int touch(const char *id)
{
    sqlite3_stmt *st = db_prepare("UPDATE casters SET modified_ms = ? WHERE id = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int64(st, 1, oa_wall_ms());
    bind_text(st, 2, id);
    return db_step_done(st);
}

#define RES_COLS                                                                                   \
    "id, location_id, name, live_url, vod_url, image_url, begin_ms, end_ms, repeat_num, "          \
    "pts_callback_ms, fixed_delay_ms"

static void read_resource(sqlite3_stmt *st, struct caster_resource *r)
{
    memset(r, 0, sizeof(*r));
    col(st, 0, r->id, sizeof(r->id));
    col(st, 1, r->location_id, sizeof(r->location_id));
    col(st, 2, r->name, sizeof(r->name));
    col(st, 3, r->live_url, sizeof(r->live_url));
    col(st, 4, r->vod_url, sizeof(r->vod_url));
    col(st, 5, r->image_url, sizeof(r->image_url));
    r->begin_ms = sqlite3_column_int64(st, 6);
    r->end_ms = sqlite3_column_int64(st, 7);
    r->repeat = sqlite3_column_int(st, 8);
    r->pts_callback_ms = sqlite3_column_int64(st, 9);
    r->fixed_delay_ms = sqlite3_column_int(st, 10);
}

static void bind_resource(sqlite3_stmt *st, int first, const struct caster_resource *r)
{
    bind_text(st, first, r->name);
    bind_text(st, first + 1, r->live_url);
    bind_text(st, first + 2, r->vod_url);
    bind_text(st, first + 3, r->image_url);
    sqlite3_bind_int64(st, first + 4, r->begin_ms);
    sqlite3_bind_int64(st, first + 5, r->end_ms);
    sqlite3_bind_int(st, first + 6, r->repeat);
    sqlite3_bind_int64(st, first + 7, r->pts_callback_ms);
    sqlite3_bind_int(st, first + 8, r->fixed_delay_ms);
}

static int layout_row(const char *caster_id, const char *layout_id, struct caster_layout *out)
{
    if (!caster_id_ok(layout_id))
        return CASTER_ENOLAYOUT;
    sqlite3_stmt *st = db_prepare("SELECT body FROM caster_layouts WHERE caster_id = ? AND id = ?");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, caster_id);
    bind_text(st, 2, layout_id);
    int r = sqlite3_step(st), rc = r == SQLITE_DONE ? CASTER_ENOLAYOUT : OA_EDB;
    if (r == SQLITE_ROW) {
        json_t *j = col_json(st, 0);
        rc = caster_layout_from_json(j, out) == 0 ? 0 : OA_EDB;
        json_decref(j);
        if (rc)
            oa_log(OA_LOG_ERROR, "caster %s: layout %s is stored malformed", caster_id, layout_id);
    }
    sqlite3_finalize(st);
    return rc;
}

#define SCENE_COLS "id, output_type, stream, layout_id, audio, want"

static void read_scene(sqlite3_stmt *st, struct caster_scene *s)
{
    memset(s, 0, sizeof(*s));
    col(st, 0, s->id, sizeof(s->id));
    s->output_type = sqlite3_column_int(st, 1) ? CASTER_PGM : CASTER_PVW;
    oa_strlcpy(s->name, s->output_type == CASTER_PGM ? "PGM" : "PVW", sizeof(s->name));
    col(st, 2, s->stream, sizeof(s->stream));
    col(st, 3, s->layout_id, sizeof(s->layout_id));
    json_t *a = col_json(st, 4);
    if (caster_audio_from_json(a, &s->audio) != 0)
        caster_audio_from_json(NULL, &s->audio);
    json_decref(a);
    s->want = sqlite3_column_int(st, 5) != 0;
}

/* By id (type < 0) or by output type (id NULL). */
static int scene_row(const char *caster_id, const char *scene_id, int type,
                     struct caster_scene *out)
{
    if (scene_id && !caster_id_ok(scene_id))
        return CASTER_ENOSCENE;
    sqlite3_stmt *st =
        scene_id ? db_prepare("SELECT " SCENE_COLS " FROM caster_scenes WHERE caster_id = ? AND "
                              "id = ?")
                 : db_prepare("SELECT " SCENE_COLS " FROM caster_scenes WHERE caster_id = ? AND "
                              "output_type = ?");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, caster_id);
    if (scene_id)
        bind_text(st, 2, scene_id);
    else
        sqlite3_bind_int(st, 2, type);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        read_scene(st, out);
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? CASTER_ENOSCENE : OA_EDB;
}

static int scene_update(const char *scene_id, const char *layout_id, const struct caster_audio *a)
{
    sqlite3_stmt *st = db_prepare("UPDATE caster_scenes SET layout_id = ?, audio = ? WHERE id = ?");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, layout_id);
    json_t *j = caster_audio_to_json(a);
    bind_json(st, 2, j);
    json_decref(j);
    bind_text(st, 3, scene_id);
    return db_step_done(st);
}

static int scenes_set_want(const char *caster_id, int type, bool want)
{
    sqlite3_stmt *st = type < 0
                           ? db_prepare("UPDATE caster_scenes SET want = ? WHERE caster_id = ?")
                           : db_prepare("UPDATE caster_scenes SET want = ? WHERE caster_id = ? AND "
                                        "output_type = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int(st, 1, want);
    bind_text(st, 2, caster_id);
    if (type >= 0)
        sqlite3_bind_int(st, 3, type);
    return db_step_done(st);
}

/* Creates the PVW and PGM scenes if they do not exist. */
static int ensure_scenes(const char *caster_id)
{
    for (int type = CASTER_PVW; type <= CASTER_PGM; type++) {
        char id[37], stream[33];
        oa_uuid_lower(id);
        oa_random_hex(stream, 16);
        sqlite3_stmt *st = db_prepare("INSERT OR IGNORE INTO caster_scenes (id, caster_id, "
                                      "output_type, stream, audio) VALUES (?, ?, ?, ?, ?)");
        if (!st)
            return OA_EDB;
        bind_text(st, 1, id);
        bind_text(st, 2, caster_id);
        sqlite3_bind_int(st, 3, type);
        bind_text(st, 4, stream);
        bind_text(st, 5, "{\"follow\":true,\"mix\":[]}");
        if (db_step_done(st))
            return OA_EDB;
    }
    return 0;
}

/* ===== engine glue ===== */

/* The domain-name hosts of input URLs that this server serves (exact or wildcard). */
static bool resolve_domain(const char *host, char *domain, size_t len)
{
    char h[256];
    size_t n = 0;
    for (; host[n] && host[n] != ':' && n < sizeof(h) - 1; n++)
        h[n] = (char)tolower((unsigned char)host[n]);
    h[n] = '\0';
    struct domain d;
    char play[256];
    if (!n || domain_resolve(h, &d, play) != 0)
        return false;
    /* domain_resolve falls back to the default domain; only a real match counts. */
    if (!oa_strcaseeq(d.name, h) && !(d.name[0] == '.' && oa_str_has_suffix(h, d.name)))
        return false;
    oa_strlcpy(domain, play, len);
    return true;
}

/* The engine's input for a resource; path is room for a storage object's local path. */
static void input_spec(const struct caster_resource *res, struct studio_input_spec *spec,
                       char *path, size_t pathlen)
{
    memset(spec, 0, sizeof(*spec));
    spec->location_id = res->location_id;
    const char *url = res->live_url;
    spec->kind = STUDIO_INPUT_LIVE;
    if (res->vod_url[0]) {
        spec->kind = STUDIO_INPUT_VOD;
        url = res->vod_url;
    } else if (res->image_url[0]) {
        spec->kind = STUDIO_INPUT_IMAGE;
        url = res->image_url;
    }
    char bucket[64], object[1024];
    /* Objects of our own storage are read as files: no HTTP round trip to ourselves. */
    if (spec->kind != STUDIO_INPUT_LIVE && caster_storage_object(url, bucket, object) &&
        storage() && storage()->local_path &&
        storage()->local_path(bucket, object, path, pathlen) == 0)
        url = path;
    spec->url = url;
    spec->begin_offset_ms = res->begin_ms;
    spec->end_offset_ms = res->end_ms;
    spec->repeat = res->repeat;
}

static void rt_set_input(struct rt *r, const struct caster_resource *res)
{
    struct studio_input_spec spec;
    char path[2048];
    input_spec(res, &spec, path, sizeof(path));
    int e = studio_caster_set_input(r->eng, &spec);
    if (e)
        oa_log(OA_LOG_WARN, "caster %s: input %s (%s) refused by the engine: %s", r->id,
               res->location_id, spec.url, oa_strerror(e));
}

static void rt_load_inputs(struct rt *r)
{
    sqlite3_stmt *st = db_prepare("SELECT " RES_COLS " FROM caster_resources WHERE caster_id = ?");
    if (!st)
        return;
    bind_text(st, 1, r->id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        struct caster_resource res;
        read_resource(st, &res);
        rt_set_input(r, &res);
    }
    sqlite3_finalize(st);
}

/* The layout a scene shows: its LayoutId's, or an empty (black) one. */
static void scene_layout(const char *caster_id, const struct caster_scene *s,
                         struct studio_layout *out)
{
    struct caster_layout l;
    memset(out, 0, sizeof(*out));
    if (s->layout_id[0] && layout_row(caster_id, s->layout_id, &l) == 0)
        *out = l.l;
}

static int rt_scene_start(struct rt *r, const struct caster_scene *s)
{
    struct rt_scene *slot = &r->sc[s->output_type];
    /* Only the program is delayed; PVW is what the operator prepares now. */
    int delay_ms = s->output_type == CASTER_PGM ? r->delay_ms : 0;
    struct studio_layout *l = oa_malloc(sizeof(*l));
    struct studio_audio a;
    scene_layout(r->id, s, l);
    caster_audio_engine(&s->audio, &a);
    int e = studio_scene_start(r->eng, CASTER_APP, s->stream, l, delay_ms, &slot->h);
    oa_free(l);
    if (e) {
        slot->h = NULL;
        if (!slot->warned)
            oa_log(OA_LOG_ERROR, "caster %s: cannot start scene %s (%s): %s", r->id, s->id, s->name,
                   oa_strerror(e));
        slot->warned = true;
        return e == OA_EBUSY ? CASTER_EOUTPUTBUSY : CASTER_EENGINE;
    }
    slot->warned = false;
    studio_scene_set_audio(slot->h, &a);
    return 0;
}

static void rt_scene_stop(struct rt *r, int type)
{
    studio_scene_stop(r->sc[type].h);
    r->sc[type].h = NULL;
}

/* The scene's output reaches players (it was not ended from outside). */
static bool rt_scene_live(const struct rt_scene *slot)
{
    return slot->h && studio_scene_running(slot->h);
}

/* Pushes the scene's stored layout and audio to its running output, if any. */
static void rt_scene_apply(struct rt *r, const struct caster_scene *s)
{
    struct studio_scene *h = r ? r->sc[s->output_type].h : NULL;
    if (!h)
        return;
    struct studio_layout *l = oa_malloc(sizeof(*l));
    struct studio_audio a;
    scene_layout(r->id, s, l);
    caster_audio_engine(&s->audio, &a);
    studio_scene_set_layout(h, l);
    studio_scene_set_audio(h, &a);
    oa_free(l);
}

static void rt_free(struct rt *r)
{
    for (struct rt **p = &C.running; *p; p = &(*p)->next) {
        if (*p == r) {
            *p = r->next;
            break;
        }
    }
    /* Stops the scenes (unpublishing them) and the inputs. */
    studio_caster_free(r->eng);
    oa_free(r);
}

/* Resolves the caster's DomainName: it must exist and belong to the caster's account. */
static int caster_domain(const struct caster_info *c, char domain[256], char key[256])
{
    struct domain d;
    const char *name = config_domain(c->config);
    if (!*name || domain_get(name, &d) != 0 || d.account_id != c->account_id)
        return CASTER_ENODOMAIN;
    oa_strlcpy(domain, d.name, 256);
    if (strcmp(d.type, "liveEdge") != 0 || domain_mapping_get(d.name, key) != 0)
        oa_strlcpy(key, d.name, 256);
    return 0;
}

/* Starts the engine side of caster c (inputs, PGM, and PVW when stored as wanted). */
static int rt_start(const struct caster_info *c, bool start_pvw)
{
    struct rt *r = oa_calloc(1, sizeof(*r));
    oa_strlcpy(r->id, c->id, sizeof(r->id));
    int e = caster_domain(c, r->domain, r->key_domain);
    if (e) {
        oa_free(r);
        return e;
    }
    double delay = json_number_value(json_object_get(c->config, "Delay"));
    r->delay_ms = delay > 0 ? (int)(delay * 1000 + 0.5) : 0;
    r->eng = studio_caster_new(&c->canvas, r->key_domain);
    if (!r->eng) {
        oa_log(OA_LOG_ERROR, "caster %s: the engine refused canvas %dx%d@%d", c->id,
               c->canvas.width, c->canvas.height, c->canvas.fps);
        oa_free(r);
        return CASTER_EENGINE;
    }
    r->next = C.running;
    C.running = r;
    if (ensure_scenes(c->id)) {
        rt_free(r);
        return OA_EDB;
    }
    rt_load_inputs(r);
    for (int type = CASTER_PGM; type >= CASTER_PVW; type--) {
        struct caster_scene s;
        if ((e = scene_row(c->id, NULL, type, &s)) != 0) {
            rt_free(r);
            return e;
        }
        oa_strlcpy(r->sc[type].id, s.id, sizeof(r->sc[type].id));
        r->sc[type].want = type == CASTER_PGM || start_pvw || s.want;
        if (r->sc[type].want && (e = rt_scene_start(r, &s)) != 0) {
            rt_free(r);
            return e;
        }
    }
    oa_log(OA_LOG_INFO, "caster %s: started on %s (%s, %dx%d@%d)", c->id, r->domain,
           c->template_name, c->canvas.width, c->canvas.height, c->canvas.fps);
    return 0;
}

/*
 * Adds the running time since counted_ms to duration_ms. `resume`: this
 * server runs the caster from now on (counting restarts now); otherwise it
 * stops counting (shutdown). Status is left alone either way.
 */
static void count_duration(const char *id, bool resume)
{
    sqlite3_stmt *st = db_prepare("UPDATE casters SET duration_ms = duration_ms + CASE WHEN "
                                  "counted_ms > 0 THEN MAX(0, ?1 - counted_ms) ELSE 0 END, "
                                  "counted_ms = ?2 WHERE id = ?3 AND status = 1");
    if (!st)
        return;
    int64_t now = oa_wall_ms();
    sqlite3_bind_int64(st, 1, now);
    sqlite3_bind_int64(st, 2, resume ? now : 0);
    bind_text(st, 3, id);
    db_step_done(st);
}

static bool domain_online(const char *name)
{
    struct domain d;
    return domain_get(name, &d) == 0 && strcmp(d.status, "online") == 0;
}

/* Restarts outputs that were ended from outside, once their domain is online again. */
static void on_tick(evutil_socket_t fd, short what, void *arg)
{
    static unsigned ticks;
    bool checkpoint = ++ticks % DURATION_CHECKPOINT_S == 0;
    for (struct rt *r = C.running; r; r = r->next) {
        if (checkpoint)
            count_duration(r->id, true);
        for (int type = CASTER_PVW; type <= CASTER_PGM; type++) {
            struct rt_scene *slot = &r->sc[type];
            if (slot->h && !rt_scene_live(slot)) {
                oa_log(OA_LOG_WARN, "caster %s: the output of scene %s was ended", r->id, slot->id);
                rt_scene_stop(r, type);
            }
            if (!slot->want || slot->h || !domain_online(r->domain) ||
                !domain_online(r->key_domain))
                continue;
            struct caster_scene s;
            if (scene_row(r->id, slot->id, -1, &s) == 0 && rt_scene_start(r, &s) == 0)
                oa_log(OA_LOG_INFO, "caster %s: scene %s is live again", r->id, slot->id);
        }
    }
}

/*
 * Scenes publish under CASTER_APP on their caster's domain. No client may
 * publish there: the name would be taken while a scene is stopped, and its
 * next start would fail.
 */
static bool name_reserved(const char *domain, const char *app, const char *stream)
{
    return strcmp(app, CASTER_APP) == 0;
}

int caster_init(void)
{
    if (db_migrate("studio", migrations, OA_ARRAY_SIZE(migrations)))
        return OA_EDB;
    access_set_publish_reserved(name_reserved);
    sqlite3_stmt *st = db_prepare("SELECT " CASTER_COLS " FROM casters WHERE status = 1");
    if (!st)
        return OA_EDB;
    studio_set_domain_resolver(resolve_domain);
    C.timer = event_new(oa_loop_base(), -1, EV_PERSIST, on_tick, NULL);
    struct timeval tv = {1, 0};
    event_add(C.timer, &tv);
    size_t n = 0, cap = 0;
    struct caster_info *list = NULL;
    while (sqlite3_step(st) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? 2 * cap : 8;
            list = oa_realloc(list, cap * sizeof(*list));
        }
        read_caster(st, &list[n++]);
    }
    sqlite3_finalize(st);
    for (size_t i = 0; i < n; i++) {
        /*
         * Time since the last count was downtime (or, after a crash, at most
         * one checkpoint interval of running): it is not counted.
         */
        sqlite3_stmt *u = db_prepare("UPDATE casters SET counted_ms = ? WHERE id = ?");
        if (u) {
            sqlite3_bind_int64(u, 1, oa_wall_ms());
            bind_text(u, 2, list[i].id);
            db_step_done(u);
        }
        int e = rt_start(&list[i], false);
        if (e) {
            /* It cannot run (its domain is gone): say so in its Status too. */
            oa_log(OA_LOG_ERROR, "caster %s was running but cannot start again: %s", list[i].id,
                   e == CASTER_ENODOMAIN ? "its domain no longer exists" : "engine error");
            u = db_prepare("UPDATE casters SET status = 0, started_ms = 0, counted_ms = 0 WHERE "
                           "id = ?");
            if (u) {
                bind_text(u, 1, list[i].id);
                db_step_done(u);
            }
        }
        caster_info_free(&list[i]);
    }
    oa_free(list);
    return 0;
}

void caster_shutdown(void)
{
    access_set_publish_reserved(NULL);
    while (C.running) {
        /* Status stays 1 (it runs again at the next start); the downtime is not counted. */
        count_duration(C.running->id, false);
        rt_free(C.running);
    }
    if (C.timer) {
        event_free(C.timer);
        C.timer = NULL;
    }
    if (studio_wait_idle(IDLE_WAIT_MS) != 0)
        oa_log(OA_LOG_WARN, "studio threads still running after %d ms", IDLE_WAIT_MS);
}

/* ===== casters ===== */

static int count_casters(int64_t account, int *n)
{
    sqlite3_stmt *st = db_prepare("SELECT COUNT(*) FROM casters WHERE account_id = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int64(st, 1, account);
    int r = sqlite3_step(st);
    *n = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? 0 : OA_EDB;
}

static int by_token(int64_t account, const char *token, char id[65])
{
    sqlite3_stmt *st =
        db_prepare("SELECT id FROM casters WHERE account_id = ? AND client_token = ?");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int64(st, 1, account);
    bind_text(st, 2, token);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        col(st, 0, id, 65);
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? OA_ENOTFOUND : OA_EDB;
}

static int insert_caster(int64_t account, const struct caster_new *n, const json_t *config,
                         char id[65])
{
    char uuid[37];
    int64_t now = oa_wall_ms();
    oa_uuid_lower(uuid);
    sqlite3_stmt *st = db_prepare("INSERT INTO casters (" CASTER_COLS
                                  ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, "
                                  "?, 0, 0, 0)");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, uuid);
    sqlite3_bind_int64(st, 2, account);
    bind_text(st, 3, n->name);
    sqlite3_bind_int(st, 4, n->norm_type);
    bind_text(st, 5, n->charge_type);
    bind_text(st, 6, n->create_template);
    bind_text(st, 7, n->client_token);
    bind_text(st, 8, n->resource_group);
    bind_text(st, 9, n->purchase_time);
    bind_text(st, 10, n->expire_time);
    json_t *tags = n->tags ? json_deep_copy(n->tags) : json_array();
    bind_json(st, 11, tags);
    json_decref(tags);
    bind_json(st, 12, config);
    sqlite3_bind_int64(st, 13, now);
    sqlite3_bind_int64(st, 14, now);
    if (db_step_done(st))
        return OA_EDB;
    oa_strlcpy(id, uuid, 65);
    return 0;
}

int caster_create(int64_t account, const struct caster_new *n, char id[65], bool *existed)
{
    int count, r = by_token(account, n->client_token, id);
    *existed = r == 0;
    if (r != OA_ENOTFOUND)
        return r;
    if ((r = count_casters(account, &count)) != 0)
        return r;
    if (count >= CASTER_MAX_PER_ACCOUNT)
        return CASTER_ELIMIT;
    json_t *config = json_object();
    r = insert_caster(account, n, config, id);
    json_decref(config);
    if (r == 0)
        oa_log(OA_LOG_INFO, "caster %s created (account %lld)", id, (long long)account);
    return r;
}

int caster_copy(int64_t account, const char *src_id, const char *name, const char *client_token,
                char id[65], bool *existed)
{
    struct caster_info src;
    int count, r = by_token(account, client_token, id);
    *existed = r == 0;
    if (r != OA_ENOTFOUND)
        return r;
    if ((r = load(account, src_id, &src)) != 0)
        return r;
    if ((r = count_casters(account, &count)) != 0 || count >= CASTER_MAX_PER_ACCOUNT) {
        caster_info_free(&src);
        return r ? r : CASTER_ELIMIT;
    }
    struct caster_new n = {
        .name = name,
        .norm_type = src.norm_type,
        .charge_type = src.charge_type,
        .create_template = src.create_template,
        .client_token = client_token,
        .resource_group = src.resource_group,
        .purchase_time = src.purchase_time,
        .expire_time = src.expire_time,
        .tags = src.tags,
    };
    if (db_begin()) {
        caster_info_free(&src);
        return OA_EDB;
    }
    r = insert_caster(account, &n, src.config, id);
    caster_info_free(&src);
    sqlite3_stmt *st = NULL;
    if (!r) {
        st = db_prepare("SELECT " RES_COLS " FROM caster_resources WHERE caster_id = ?");
        r = st ? 0 : OA_EDB;
    }
    if (!r) {
        bind_text(st, 1, src_id);
        while (!r && sqlite3_step(st) == SQLITE_ROW) {
            struct caster_resource res;
            char rid[37];
            read_resource(st, &res);
            oa_uuid_lower(rid);
            sqlite3_stmt *ins = db_prepare("INSERT INTO caster_resources (id, caster_id, "
                                           "location_id, name, live_url, vod_url, image_url, "
                                           "begin_ms, end_ms, repeat_num, pts_callback_ms, "
                                           "fixed_delay_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, "
                                           "?, ?, ?)");
            if (!ins) {
                r = OA_EDB;
                break;
            }
            bind_text(ins, 1, rid);
            bind_text(ins, 2, id);
            bind_text(ins, 3, res.location_id);
            bind_resource(ins, 4, &res);
            r = db_step_done(ins);
        }
        sqlite3_finalize(st);
    }
    if (!r) {
        st = db_prepare("SELECT body FROM caster_layouts WHERE caster_id = ? ORDER BY seq");
        r = st ? 0 : OA_EDB;
    }
    if (!r) {
        bind_text(st, 1, src_id);
        while (!r && sqlite3_step(st) == SQLITE_ROW) {
            char lid[37];
            oa_uuid_lower(lid);
            sqlite3_stmt *ins =
                db_prepare("INSERT INTO caster_layouts (id, caster_id, body) VALUES (?, ?, ?)");
            if (!ins) {
                r = OA_EDB;
                break;
            }
            bind_text(ins, 1, lid);
            bind_text(ins, 2, id);
            bind_text(ins, 3, db_col_text(st, 0));
            r = db_step_done(ins);
        }
        sqlite3_finalize(st);
    }
    if (r || db_commit()) {
        db_rollback();
        return r ? r : OA_EDB;
    }
    oa_log(OA_LOG_INFO, "caster %s copied from %s", id, src_id);
    return 0;
}

int caster_delete(int64_t account, const char *id)
{
    struct caster_info c;
    int r = load(account, id, &c);
    if (r)
        return r;
    bool running = c.status != 0;
    caster_info_free(&c);
    if (running)
        return CASTER_ERUNNING;
    static const char *const sql[] = {
        "DELETE FROM caster_resources WHERE caster_id = ?",
        "DELETE FROM caster_layouts WHERE caster_id = ?",
        "DELETE FROM caster_scenes WHERE caster_id = ?",
        "DELETE FROM casters WHERE id = ?",
    };
    if (db_begin())
        return OA_EDB;
    for (size_t i = 0; i < OA_ARRAY_SIZE(sql); i++) {
        sqlite3_stmt *st = db_prepare(sql[i]);
        if (!st) {
            db_rollback();
            return OA_EDB;
        }
        bind_text(st, 1, id);
        if (db_step_done(st)) {
            db_rollback();
            return OA_EDB;
        }
    }
    if (db_commit()) {
        db_rollback();
        return OA_EDB;
    }
    oa_log(OA_LOG_INFO, "caster %s deleted", id);
    return 0;
}

static bool tag_matches(const json_t *tags, const json_t *want)
{
    size_t i, k;
    json_t *w, *t;
    json_array_foreach((json_t *)want, i, w)
    {
        const char *wk = json_string_value(json_object_get(w, "Key"));
        const char *wv = json_string_value(json_object_get(w, "Value"));
        bool found = false;
        json_array_foreach((json_t *)tags, k, t)
        {
            const char *tk = json_string_value(json_object_get(t, "Key"));
            const char *tv = json_string_value(json_object_get(t, "Value"));
            if (tk && wk && strcmp(tk, wk) == 0 && (!wv || !*wv || (tv && strcmp(tv, wv) == 0)))
                found = true;
        }
        if (!found)
            return false;
    }
    return true;
}

static bool passes(const struct caster_info *c, const struct caster_filter *f)
{
    if (f->id && strcmp(c->id, f->id) != 0)
        return false;
    if (f->name && !strstr(c->name, f->name))
        return false;
    if (f->norm_type >= 0 && c->norm_type != f->norm_type)
        return false;
    if (f->status >= 0 && c->status != f->status)
        return false;
    if (f->charge >= 0 && (strcmp(c->charge_type, "PostPaid") == 0) != (f->charge == 1))
        return false;
    if ((f->start && c->created_ms < (int64_t)f->start * 1000) ||
        (f->end && c->created_ms > (int64_t)f->end * 1000 + 999))
        return false;
    if (f->resource_group && strcmp(c->resource_group, f->resource_group) != 0)
        return false;
    return !f->tags || tag_matches(c->tags, f->tags);
}

int caster_list(int64_t account, const struct caster_filter *f,
                void (*fn)(const struct caster_info *c, void *arg), void *arg, int *total)
{
    sqlite3_stmt *st = f->modify_asc ? db_prepare("SELECT " CASTER_COLS " FROM casters WHERE "
                                                  "account_id = ? ORDER BY modified_ms, rowid")
                                     : db_prepare("SELECT " CASTER_COLS " FROM casters WHERE "
                                                  "account_id = ? ORDER BY modified_ms DESC, "
                                                  "rowid DESC");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int64(st, 1, account);
    int64_t first = (int64_t)(f->page - 1) * f->page_size;
    *total = 0;
    int r;
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct caster_info c;
        read_caster(st, &c);
        if (passes(&c, f)) {
            if (*total >= first && *total < first + f->page_size)
                fn(&c, arg);
            (*total)++;
        }
        caster_info_free(&c);
    }
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? 0 : OA_EDB;
}

int caster_set_config(int64_t account, const char *id, const char *name, const json_t *config)
{
    struct caster_info c;
    int r = load(account, id, &c);
    if (r)
        return r;
    caster_info_free(&c);
    sqlite3_stmt *st =
        db_prepare("UPDATE casters SET name = ?, config = ?, modified_ms = ? WHERE id = ?");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, name);
    bind_json(st, 2, config);
    sqlite3_bind_int64(st, 3, oa_wall_ms());
    bind_text(st, 4, id);
    return db_step_done(st);
}

static int set_status(const char *id, int status)
{
    int64_t now = oa_wall_ms();
    sqlite3_stmt *st =
        status ? db_prepare("UPDATE casters SET status = 1, started_ms = ?1, counted_ms = ?1, "
                            "modified_ms = ?1 WHERE id = ?2")
               : db_prepare("UPDATE casters SET status = 0, duration_ms = duration_ms + CASE WHEN "
                            "counted_ms > 0 THEN MAX(0, ?1 - counted_ms) ELSE 0 END, started_ms = "
                            "0, counted_ms = 0, modified_ms = ?1 WHERE id = ?2 AND status = 1");
    if (!st)
        return OA_EDB;
    sqlite3_bind_int64(st, 1, now);
    bind_text(st, 2, id);
    return db_step_done(st);
}

int caster_start(int64_t account, const char *id)
{
    struct caster_info c;
    int r = load(account, id, &c);
    if (r)
        return r;
    if (c.status || rt_find(id)) {
        caster_info_free(&c);
        return CASTER_ERUNNING;
    }
    if ((r = rt_start(&c, true)) == 0 &&
        ((r = set_status(id, 1)) != 0 || (r = scenes_set_want(id, -1, true)) != 0))
        rt_free(rt_find(id));
    caster_info_free(&c);
    return r;
}

int caster_stop(int64_t account, const char *id)
{
    struct caster_info c;
    int r = load(account, id, &c);
    if (r)
        return r;
    caster_info_free(&c);
    struct rt *rt = rt_find(id);
    if (rt)
        rt_free(rt);
    if ((r = set_status(id, 0)) != 0 || (r = scenes_set_want(id, -1, false)) != 0)
        return r;
    oa_log(OA_LOG_INFO, "caster %s: stopped", id);
    return 0;
}

int caster_restart(int64_t account, const char *id)
{
    struct caster_info c;
    int r = load(account, id, &c);
    if (r)
        return r;
    if (!c.status) {
        caster_info_free(&c);
        return CASTER_EIDLE;
    }
    struct rt *rt = rt_find(id);
    if (rt)
        rt_free(rt);
    /* Derived fields (canvas, domain) now come from the stored config. */
    caster_info_free(&c);
    if ((r = load(account, id, &c)) != 0)
        return r;
    r = rt_start(&c, false);
    caster_info_free(&c);
    if (r) {
        /* It is not running any more; say so. */
        set_status(id, 0);
        return r;
    }
    return touch(id);
}

/* ===== resources ===== */

static int free_location(const char *caster_id, char out[8])
{
    bool used[STUDIO_MAX_INPUTS] = {false};
    sqlite3_stmt *st = db_prepare("SELECT location_id FROM caster_resources WHERE caster_id = ?");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, caster_id);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int i = studio_location_index(db_col_text(st, 0));
        if (i > 0)
            used[i] = true;
    }
    sqlite3_finalize(st);
    for (int i = 1; i < STUDIO_MAX_INPUTS; i++) {
        if (!used[i]) {
            oa_snprintf(out, 8, "RV%02d", i);
            return 0;
        }
    }
    return CASTER_ENOLOCATION;
}

int caster_resource_add(int64_t account, const char *caster_id, struct caster_resource *res)
{
    struct caster_info c;
    int r = load(account, caster_id, &c);
    if (r)
        return r;
    caster_info_free(&c);
    if (!res->location_id[0] && (r = free_location(caster_id, res->location_id)) != 0)
        return r;
    char id[37];
    oa_uuid_lower(id);
    sqlite3_stmt *st = db_prepare(
        "INSERT INTO caster_resources (id, caster_id, location_id, name, live_url, vod_url, "
        "image_url, begin_ms, end_ms, repeat_num, pts_callback_ms, fixed_delay_ms) SELECT ?, ?, "
        "?, ?, ?, ?, ?, ?, ?, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM caster_resources WHERE "
        "caster_id = ?2 AND location_id = ?3)");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, id);
    bind_text(st, 2, caster_id);
    bind_text(st, 3, res->location_id);
    bind_resource(st, 4, res);
    if (db_step_done(st))
        return OA_EDB;
    if (db_changes() == 0)
        return CASTER_ELOCATIONUSED;
    oa_strlcpy(res->id, id, sizeof(res->id));
    struct rt *rt = rt_find(caster_id);
    if (rt)
        rt_set_input(rt, res);
    return touch(caster_id);
}

static int resource_row(const char *caster_id, const char *resource_id, struct caster_resource *out)
{
    if (!caster_id_ok(resource_id))
        return CASTER_ENORESOURCE;
    sqlite3_stmt *st =
        db_prepare("SELECT " RES_COLS " FROM caster_resources WHERE caster_id = ? AND id = ?");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, caster_id);
    bind_text(st, 2, resource_id);
    int r = sqlite3_step(st);
    if (r == SQLITE_ROW)
        read_resource(st, out);
    sqlite3_finalize(st);
    return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? CASTER_ENORESOURCE : OA_EDB;
}

int caster_resource_get(int64_t account, const char *caster_id, const char *resource_id,
                        struct caster_resource *out)
{
    struct caster_info c;
    int r = load(account, caster_id, &c);
    if (r)
        return r;
    caster_info_free(&c);
    return resource_row(caster_id, resource_id, out);
}

int caster_resource_modify(int64_t account, const char *caster_id,
                           const struct caster_resource *res)
{
    struct caster_resource old;
    int r = caster_resource_get(account, caster_id, res->id, &old);
    if (r)
        return r;
    sqlite3_stmt *st = db_prepare(
        "UPDATE caster_resources SET name = ?, live_url = ?, vod_url = ?, image_url = ?, "
        "begin_ms = ?, end_ms = ?, repeat_num = ?, pts_callback_ms = ?, fixed_delay_ms = ? "
        "WHERE id = ?");
    if (!st)
        return OA_EDB;
    bind_resource(st, 1, res);
    bind_text(st, 10, res->id);
    if (db_step_done(st))
        return OA_EDB;
    struct rt *rt = rt_find(caster_id);
    if (rt) {
        struct caster_resource now = *res;
        oa_strlcpy(now.location_id, old.location_id, sizeof(now.location_id));
        rt_set_input(rt, &now);
    }
    return touch(caster_id);
}

int caster_resource_delete(int64_t account, const char *caster_id, const char *resource_id)
{
    struct caster_resource old;
    int r = caster_resource_get(account, caster_id, resource_id, &old);
    if (r)
        return r;
    sqlite3_stmt *st = db_prepare("DELETE FROM caster_resources WHERE id = ?");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, resource_id);
    if (db_step_done(st))
        return OA_EDB;
    struct rt *rt = rt_find(caster_id);
    if (rt)
        studio_caster_remove_input(rt->eng, old.location_id);
    return touch(caster_id);
}

int caster_resource_list(int64_t account, const char *caster_id,
                         void (*fn)(const struct caster_resource *r, void *arg), void *arg)
{
    struct caster_info c;
    int r = load(account, caster_id, &c);
    if (r)
        return r;
    caster_info_free(&c);
    sqlite3_stmt *st = db_prepare("SELECT " RES_COLS " FROM caster_resources WHERE caster_id = ? "
                                  "ORDER BY location_id");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, caster_id);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        struct caster_resource res;
        read_resource(st, &res);
        fn(&res, arg);
    }
    sqlite3_finalize(st);
    return r == SQLITE_DONE ? 0 : OA_EDB;
}

int caster_live_url_allowed(const char *caster_domain, const char *url)
{
    char domain[256], app[256], stream[256], uri[600], query[1100] = "";
    const char *dom = caster_domain && *caster_domain ? caster_domain : oa_cfg.domain;
    if (!studio_url_local(url, dom, resolve_domain, domain, app, stream))
        return 0;
    const char *q = strchr(url, '?');
    if (q)
        oa_strlcpy(query, q + 1, sizeof(query));
    const char *ext = strncasecmp(url, "rtmp://", 7) == 0 ? ""
                      : strstr(url, ".m3u8")              ? ".m3u8"
                                                          : ".flv";
    oa_snprintf(uri, sizeof(uri), "/%s/%s%s", app, stream, ext);
    struct access_req req = {
        .kind = ACCESS_PLAY,
        .host = domain,
        .app = app,
        .stream = stream,
        .query = query,
        .uri = uri,
        .client_ip = "127.0.0.1",
    };
    struct access_grant grant;
    const char *why = "";
    /* Only authentication is final; a stopped or unknown domain may come later. */
    return access_check(&req, &grant, &why) == OA_EAUTH ? OA_EAUTH : 0;
}

/* ===== layouts ===== */

static int layout_store(const char *sql, const char *id, const char *caster_id,
                        const struct caster_layout *l)
{
    sqlite3_stmt *st = db_prepare(sql);
    if (!st)
        return OA_EDB;
    json_t *j = caster_layout_to_json(l);
    bind_json(st, 1, j);
    json_decref(j);
    bind_text(st, 2, id);
    bind_text(st, 3, caster_id);
    return db_step_done(st);
}

int caster_layout_add(int64_t account, const char *caster_id, const struct caster_layout *l,
                      char id[65])
{
    struct caster_info c;
    int r = load(account, caster_id, &c);
    if (r)
        return r;
    caster_info_free(&c);
    char uuid[37];
    oa_uuid_lower(uuid);
    if ((r = layout_store("INSERT INTO caster_layouts (body, id, caster_id) VALUES (?, ?, ?)", uuid,
                          caster_id, l)) != 0)
        return r;
    oa_strlcpy(id, uuid, 65);
    return touch(caster_id);
}

int caster_layout_modify(int64_t account, const char *caster_id, const char *layout_id,
                         const struct caster_layout *l)
{
    struct caster_info c;
    struct caster_layout old;
    int r = load(account, caster_id, &c);
    if (r)
        return r;
    caster_info_free(&c);
    if ((r = layout_row(caster_id, layout_id, &old)) != 0 ||
        (r = layout_store("UPDATE caster_layouts SET body = ? WHERE id = ? AND caster_id = ?",
                          layout_id, caster_id, l)) != 0)
        return r;
    struct rt *rt = rt_find(caster_id);
    for (int type = CASTER_PVW; rt && type <= CASTER_PGM; type++) {
        struct caster_scene s;
        if (scene_row(caster_id, NULL, type, &s) == 0 && strcmp(s.layout_id, layout_id) == 0)
            rt_scene_apply(rt, &s);
    }
    return touch(caster_id);
}

int caster_layout_delete(int64_t account, const char *caster_id, const char *layout_id)
{
    struct caster_info c;
    struct caster_layout old;
    int r = load(account, caster_id, &c);
    if (r)
        return r;
    caster_info_free(&c);
    if ((r = layout_row(caster_id, layout_id, &old)) != 0)
        return r;
    sqlite3_stmt *st =
        db_prepare("SELECT COUNT(*) FROM caster_scenes WHERE caster_id = ? AND layout_id = ?");
    if (!st)
        return OA_EDB;
    bind_text(st, 1, caster_id);
    bind_text(st, 2, layout_id);
    int used = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
    sqlite3_finalize(st);
    if (used != 0)
        return used < 0 ? OA_EDB : CASTER_ELAYOUTUSED;
    if (!(st = db_prepare("DELETE FROM caster_layouts WHERE id = ? AND caster_id = ?")))
        return OA_EDB;
    bind_text(st, 1, layout_id);
    bind_text(st, 2, caster_id);
    if (db_step_done(st))
        return OA_EDB;
    return touch(caster_id);
}

int caster_layout_list(int64_t account, const char *caster_id, const char *layout_id,
                       void (*fn)(const char *id, const struct caster_layout *l, void *arg),
                       void *arg)
{
    struct caster_info c;
    int r = load(account, caster_id, &c);
    if (r)
        return r;
    caster_info_free(&c);
    struct caster_layout *l = oa_malloc(sizeof(*l));
    if (layout_id) {
        if ((r = layout_row(caster_id, layout_id, l)) == 0)
            fn(layout_id, l, arg);
        oa_free(l);
        return r;
    }
    sqlite3_stmt *st =
        db_prepare("SELECT id, body FROM caster_layouts WHERE caster_id = ? ORDER BY seq");
    if (!st) {
        oa_free(l);
        return OA_EDB;
    }
    bind_text(st, 1, caster_id);
    while ((r = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *j = col_json(st, 1);
        if (caster_layout_from_json(j, l) == 0)
            fn(db_col_text(st, 0), l, arg);
        json_decref(j);
    }
    sqlite3_finalize(st);
    oa_free(l);
    return r == SQLITE_DONE ? 0 : OA_EDB;
}

/* ===== scenes ===== */

static void scene_status(const char *caster_id, struct caster_scene *s)
{
    struct rt *rt = rt_find(caster_id);
    s->status = rt && rt_scene_live(&rt->sc[s->output_type]) ? 1 : 0;
}

int caster_scene_list(int64_t account, const char *caster_id, const char *scene_id,
                      void (*fn)(const struct caster_info *c, const struct caster_scene *s,
                                 void *arg),
                      void *arg, int *count)
{
    struct caster_info c;
    struct caster_scene s;
    int r = load(account, caster_id, &c);
    *count = 0;
    if (r)
        return r;
    if (scene_id) {
        if ((r = scene_row(caster_id, scene_id, -1, &s)) == 0) {
            scene_status(caster_id, &s);
            fn(&c, &s, arg);
            *count = 1;
        }
        caster_info_free(&c);
        return r;
    }
    for (int type = CASTER_PVW; type <= CASTER_PGM; type++) {
        if ((r = scene_row(caster_id, NULL, type, &s)) == CASTER_ENOSCENE)
            continue;
        if (r)
            break;
        scene_status(caster_id, &s);
        fn(&c, &s, arg);
        (*count)++;
    }
    caster_info_free(&c);
    return r == CASTER_ENOSCENE ? 0 : r;
}

/* Loads the caster and the scene; the caster must be running if `running`. */
static int scene_for(int64_t account, const char *caster_id, const char *scene_id, bool running,
                     struct caster_scene *s)
{
    struct caster_info c;
    int r = load(account, caster_id, &c);
    if (r)
        return r;
    bool idle = !c.status;
    caster_info_free(&c);
    if (running && idle)
        return CASTER_EIDLE;
    return scene_row(caster_id, scene_id, -1, s);
}

int caster_scene_start(int64_t account, const char *caster_id, const char *scene_id)
{
    struct caster_scene s;
    int r = scene_for(account, caster_id, scene_id, true, &s);
    if (r)
        return r;
    if (s.output_type != CASTER_PVW)
        return CASTER_ESCENETYPE;
    struct rt *rt = rt_find(caster_id);
    if (!rt)
        return CASTER_EIDLE;
    struct rt_scene *slot = &rt->sc[CASTER_PVW];
    if (slot->h && !rt_scene_live(slot))
        rt_scene_stop(rt, CASTER_PVW);
    if (!slot->h && (r = rt_scene_start(rt, &s)) != 0)
        return r;
    slot->want = true;
    return scenes_set_want(caster_id, CASTER_PVW, true);
}

int caster_scene_stop(int64_t account, const char *caster_id, const char *scene_id)
{
    struct caster_scene s;
    int r = scene_for(account, caster_id, scene_id, false, &s);
    if (r)
        return r;
    if (s.output_type != CASTER_PVW)
        return CASTER_ESCENETYPE;
    struct rt *rt = rt_find(caster_id);
    if (!rt || !rt->sc[CASTER_PVW].want)
        return CASTER_ESCENEIDLE;
    rt_scene_stop(rt, CASTER_PVW);
    rt->sc[CASTER_PVW].want = false;
    return scenes_set_want(caster_id, CASTER_PVW, false);
}

int caster_scene_set_layout(int64_t account, const char *caster_id, const char *scene_id,
                            const char *layout_id)
{
    struct caster_scene s;
    struct caster_layout l;
    int r = scene_for(account, caster_id, scene_id, false, &s);
    if (r)
        return r;
    if (*layout_id && (r = layout_row(caster_id, layout_id, &l)) != 0)
        return r;
    oa_strlcpy(s.layout_id, layout_id, sizeof(s.layout_id));
    if ((r = scene_update(s.id, s.layout_id, &s.audio)) != 0)
        return r;
    rt_scene_apply(rt_find(caster_id), &s);
    return touch(caster_id);
}

int caster_scene_copy(int64_t account, const char *caster_id, const char *from_id,
                      const char *to_id)
{
    struct caster_scene from, to;
    int r = scene_for(account, caster_id, from_id, false, &from);
    if (r || (r = scene_row(caster_id, to_id, -1, &to)) != 0)
        return r;
    if (from.output_type != CASTER_PVW || to.output_type != CASTER_PGM)
        return CASTER_ESCENETYPE;
    oa_strlcpy(to.layout_id, from.layout_id, sizeof(to.layout_id));
    to.audio = from.audio;
    if ((r = scene_update(to.id, to.layout_id, &to.audio)) != 0)
        return r;
    rt_scene_apply(rt_find(caster_id), &to);
    return touch(caster_id);
}

int caster_scene_set_audio(int64_t account, const char *caster_id, const char *scene_id, int follow,
                           const struct caster_audio *mix)
{
    struct caster_scene s;
    int r = scene_for(account, caster_id, scene_id, false, &s);
    if (r)
        return r;
    if (mix) {
        bool keep = s.audio.follow;
        s.audio = *mix;
        s.audio.follow = keep;
    }
    if (follow >= 0)
        s.audio.follow = follow != 0;
    if ((r = scene_update(s.id, s.layout_id, &s.audio)) != 0)
        return r;
    rt_scene_apply(rt_find(caster_id), &s);
    return touch(caster_id);
}

/* ===== URLs ===== */

/* auth_key1 of the domain when its URL auth is type A (key 129 bytes), and its delta. */
static bool domain_type_a(const char *domain, char key[129])
{
    json_t *args = NULL;
    bool type_a = false;
    key[0] = '\0';
    if (domain_config_get(domain, "aliauth", &args, NULL) != 0)
        return false;
    size_t i;
    json_t *a;
    json_array_foreach(args, i, a)
    {
        const char *n = json_string_value(json_object_get(a, "argName"));
        const char *v = json_string_value(json_object_get(a, "argValue"));
        if (n && v && strcmp(n, "auth_type") == 0)
            type_a = strcmp(v, "type_a") == 0;
        else if (n && v && strcmp(n, "auth_key1") == 0)
            oa_strlcpy(key, v, 129);
    }
    json_decref(args);
    return type_a && key[0];
}

void caster_scene_urls(const struct caster_info *c, const struct caster_scene *s,
                       const struct caster_endpoint *ep, struct caster_urls *out)
{
    memset(out, 0, sizeof(*out));
    if (!c->domain[0])
        return;
    char key[129];
    bool signed_ = domain_type_a(c->domain, key);
    /* Signed now: valid for ali_auth_delta from this response on. */
    time_t now = time(NULL);
    caster_url(ep, CASTER_URL_RTMP, c->domain, CASTER_APP, s->stream, signed_ ? key : NULL, now,
               out->rtmp, sizeof(out->rtmp));
    caster_url(ep, CASTER_URL_FLV, c->domain, CASTER_APP, s->stream, signed_ ? key : NULL, now,
               out->flv, sizeof(out->flv));
    caster_url(ep, CASTER_URL_HLS, c->domain, CASTER_APP, s->stream, signed_ ? key : NULL, now,
               out->hls, sizeof(out->hls));
}
