/*
 * engine.c - the facade: casters, their input tables and their scenes.
 *
 * A caster is a loop-thread object. Its inputs live in a studio_bank that
 * scene threads read under the bank's mutex; its scenes are kept in a small
 * array so that freeing the caster can stop them. Nothing here blocks: inputs
 * and scenes are stopped by flag and finish on their own threads.
 */
#include "engine.h"
#include "input.h"
#include "scene.h"
#include "threads.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/util.h"

struct studio_caster {
    struct studio_canvas canvas;
    char domain[256];
    struct studio_bank *bank;
    struct studio_scene **scenes;
    size_t nscenes, capscenes;
};

static studio_domain_resolver *resolver;

void studio_set_domain_resolver(studio_domain_resolver *fn)
{
    resolver = fn;
}

struct studio_caster *studio_caster_new(const struct studio_canvas *c, const char *domain)
{
    if (!c || !domain || !*domain || strlen(domain) >= 256 || !studio_canvas_ok(c))
        return NULL;
    struct studio_caster *cs = oa_calloc(1, sizeof(*cs));
    cs->canvas = *c;
    oa_strlcpy(cs->domain, domain, sizeof(cs->domain));
    cs->bank = studio_bank_new();
    return cs;
}

const struct studio_canvas *studio_caster_canvas(const struct studio_caster *c)
{
    return &c->canvas;
}

void studio_caster_free(struct studio_caster *c)
{
    if (!c)
        return;
    OA_ASSERT(oa_loop_is_loop_thread());
    while (c->nscenes)
        studio_scene_stop(c->scenes[c->nscenes - 1]);
    oa_free(c->scenes);
    for (int i = 1; i < STUDIO_MAX_INPUTS; i++) {
        struct studio_input *old = studio_bank_swap(c->bank, i, NULL);
        studio_input_stop(&old);
    }
    studio_bank_unref(&c->bank);
    oa_free(c);
}

int studio_caster_set_input(struct studio_caster *c, const struct studio_input_spec *spec)
{
    OA_ASSERT(oa_loop_is_loop_thread());
    int idx = spec ? studio_location_index(spec->location_id) : OA_EINVAL;
    if (idx < 0)
        return OA_EINVAL;
    struct studio_input *cur = studio_bank_get(c->bank, idx);
    bool same = cur && studio_input_same(cur, spec);
    studio_input_unref(&cur);
    if (same)
        return 0;
    int err = 0;
    struct studio_input *in =
        studio_input_start(spec, c->domain, c->canvas.sample_rate, resolver, &err);
    if (!in)
        return err;
    struct studio_input *old = studio_bank_swap(c->bank, idx, in);
    studio_input_stop(&old);
    return 0;
}

void studio_caster_remove_input(struct studio_caster *c, const char *location_id)
{
    OA_ASSERT(oa_loop_is_loop_thread());
    int idx = studio_location_index(location_id);
    if (idx < 0)
        return;
    struct studio_input *old = studio_bank_swap(c->bank, idx, NULL);
    studio_input_stop(&old);
}

void studio_caster_input_info(struct studio_caster *c, const char *location_id,
                              struct studio_input_info *out)
{
    memset(out, 0, sizeof(*out));
    struct studio_input *in = studio_bank_get(c->bank, studio_location_index(location_id));
    if (!in)
        return;
    const struct studio_input_pub *p = studio_input_pub(in);
    out->present = true;
    out->local = p->local;
    int64_t last = atomic_load(&p->last_frame_us);
    bool still;
    out->last_frame_ms = last / 1000;
    studio_track_peek(p->track, &out->width, &out->height, &still);
    out->has_picture = out->width > 0;
    /* The scenes' rule (scene.c), as of now: the last picture became due STUDIO_DELAY_US after it
     * was decoded. */
    out->black =
        !still && (last == 0 || oa_mono_us() - last >=
                                    (int64_t)oa_cfg.studio_black_after_ms * 1000 + STUDIO_DELAY_US);
    studio_input_unref(&in);
}

int studio_scene_start(struct studio_caster *c, const char *app, const char *stream,
                       const struct studio_layout *initial, int delay_ms, struct studio_scene **out)
{
    OA_ASSERT(oa_loop_is_loop_thread());
    int err = 0;
    struct studio_scene *s =
        studio_scene_spawn(c->bank, &c->canvas, c->domain, app, stream, initial, delay_ms, &err);
    if (!s)
        return err ? err : OA_EINVAL;
    if (c->nscenes == c->capscenes) {
        c->capscenes = c->capscenes ? 2 * c->capscenes : 4;
        c->scenes = oa_realloc(c->scenes, c->capscenes * sizeof(*c->scenes));
    }
    c->scenes[c->nscenes++] = s;
    studio_scene_set_owner(s, c);
    *out = s;
    return 0;
}

void studio_scene_stop(struct studio_scene *s)
{
    if (!s)
        return;
    OA_ASSERT(oa_loop_is_loop_thread());
    struct studio_caster *c = studio_scene_owner(s);
    for (size_t i = 0; c && i < c->nscenes; i++) {
        if (c->scenes[i] == s) {
            c->scenes[i] = c->scenes[--c->nscenes];
            break;
        }
    }
    studio_scene_halt(s);
}

int studio_wait_idle(int timeout_ms)
{
    return studio_threads_wait(timeout_ms);
}
