/*
 * input.h - one caster input: its source, its decode thread and its track.
 *
 * An input is created on the loop thread and immediately starts its thread:
 *   - local live streams: a hub sink (loop thread) forwards packet
 *     references into a bounded queue; the thread decodes the FLV payloads;
 *   - remote live URLs: libavformat on the thread, with an interrupt
 *     callback so stopping is prompt, reconnecting with backoff;
 *   - VOD files: libavformat, paced in real time by timestamps;
 *   - images: decoded once into a still.
 * Everything decoded lands in the input's track (track.h), in the canvas's
 * audio format, where scenes read it.
 *
 * Ownership: reference-counted. The caster's table holds one reference, the
 * thread one, and a scene holds one while it composes. studio_input_stop()
 * (loop thread) detaches the hub sink, asks the thread to stop and drops the
 * caller's reference; the object is freed by whoever drops the last one.
 */
#ifndef OA_STUDIO_INPUT_H
#define OA_STUDIO_INPUT_H

#include "studio/engine.h"
#include "studio/track.h"

#include <stdatomic.h>

struct studio_input;

/* Public read-only part; the rest is private to input.c. */
struct studio_input_pub {
    char location_id[8];
    struct studio_track *track; /* owned by the input, valid while a reference is held */
    bool local;
    _Atomic int64_t last_frame_us; /* oa_mono_us() of the last decoded frame, 0 = none */
};

/*
 * Starts an input (loop thread). caster_domain keys local streams without a
 * vhost; sample_rate is the canvas rate. Returns a new reference, or NULL
 * with *err set (OA_EINVAL for a bad spec).
 */
struct studio_input *studio_input_start(const struct studio_input_spec *spec,
                                        const char *caster_domain, int sample_rate,
                                        studio_domain_resolver *resolver, int *err);
/* Stops the input (loop thread) and drops the caller's reference (*pin = NULL). */
void studio_input_stop(struct studio_input **pin);

struct studio_input *studio_input_ref(struct studio_input *in);
/* Any thread; accepts NULL. */
void studio_input_unref(struct studio_input **pin);

const struct studio_input_pub *studio_input_pub(const struct studio_input *in);
/* True if spec describes exactly this input (so replacing it would change nothing). */
bool studio_input_same(const struct studio_input *in, const struct studio_input_spec *spec);

/*
 * The caster's input table as scene threads see it: a mutex-guarded array
 * indexed by location number (RV01 = 1). Reference-counted, because scene
 * threads that are still finishing may outlive the caster.
 */
struct studio_bank;

struct studio_bank *studio_bank_new(void);
struct studio_bank *studio_bank_ref(struct studio_bank *b);
/* Any thread; accepts NULL. The table must be empty when the last reference goes. */
void studio_bank_unref(struct studio_bank **pb);
/* A new reference to the input at index (1..99), or NULL. Any thread. */
struct studio_input *studio_bank_get(struct studio_bank *b, int index);
/* Puts in (takes its reference; may be NULL) at index and returns the old one (loop thread). */
struct studio_input *studio_bank_swap(struct studio_bank *b, int index, struct studio_input *in);

/*
 * Decides whether url names a stream of this server (see engine.h) and if so
 * fills domain/app/stream (each 256 bytes). Pure apart from reading oa_cfg
 * and calling resolver. Exposed for tests.
 */
bool studio_url_local(const char *url, const char *caster_domain, studio_domain_resolver *resolver,
                      char *domain, char *app, char *stream);

#endif
