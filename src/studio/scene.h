/*
 * scene.h - one running scene: its thread composes, mixes and encodes on a
 * steady clock; the loop thread publishes what it produces.
 *
 * The scene thread wakes at absolute CLOCK_MONOTONIC deadlines t0 + n/fps,
 * composes the layout as of (deadline - STUDIO_DELAY_US), encodes frame n
 * with timestamp n/fps, mixes and encodes the AAC frames up to the end of
 * frame n and until every AAC packet as old as frame n is out (timestamps
 * from the sample counter), wraps everything as FLV packets in timestamp
 * order and posts them to the loop thread as one batch per frame. The
 * loop pushes them into the hub (after the output delay, if any).
 * Timestamps come only from the counters, so they never jump. A thread that
 * falls behind (a busy machine) composes the missed frames back to back;
 * only more than a second behind does it give up frame slots to get back to
 * real time: the output then pauses (counted), its timestamps and audio
 * staying continuous.
 *
 * Ownership: reference-counted. The handle (engine.c) holds one, the thread
 * one, each batch in flight one. Layout and audio changes are handed to the
 * thread under the waiter's mutex and applied at its next frame.
 */
#ifndef OA_STUDIO_SCENE_H
#define OA_STUDIO_SCENE_H

#include "studio/engine.h"
#include "studio/input.h"

/*
 * Creates, publishes (hub_publish) and starts a scene (loop thread), its
 * output delay_ms late (0 = live). Borrows everything; keeps a reference to
 * bank. NULL with *err set on failure.
 */
struct studio_scene *studio_scene_spawn(struct studio_bank *bank,
                                        const struct studio_canvas *canvas, const char *domain,
                                        const char *app, const char *stream,
                                        const struct studio_layout *initial, int delay_ms,
                                        int *err);
/* Unpublishes, stops the thread and drops the handle's reference (loop thread). */
void studio_scene_halt(struct studio_scene *s);

/* True for a canvas the encoders accept (see struct studio_canvas). Pure. */
bool studio_canvas_ok(const struct studio_canvas *c);

/* Loop-thread bookkeeping for the caster's list of scenes. */
void studio_scene_set_owner(struct studio_scene *s, void *owner);
void *studio_scene_owner(const struct studio_scene *s);

#endif
