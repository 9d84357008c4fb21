/*
 * engine.h - the production studio's media engine: the facade the caster API
 * drives.
 *
 * A caster owns a canvas (output size, frame rate, bit rates, audio format),
 * up to 99 inputs at locations "RV01".."RV99" and any number of running
 * scenes. Every input is decoded once, on its own thread, however many
 * scenes show it. Every running scene composes its layout at the canvas
 * size and frame rate on a steady clock (frame n at t0 + n/fps), encodes
 * H.264 (libx264) + AAC on its own thread and publishes the result into the
 * hub as the live stream domain/app/stream, which plays like any other
 * stream (RTMP, HTTP-FLV, HLS, recording).
 *
 * Inputs (struct studio_input_spec):
 *   LIVE  rtmp://, http(s)://...flv or ...m3u8. A URL that names a stream of
 *         this server is read in-process from the hub (no network round
 *         trip): scheme rtmp:// with the port of oa_cfg.rtmp_listen (default
 *         1935 if the URL has none) or http:// with the port of
 *         oa_cfg.http_listen (default 80), path /app/stream (rtmp) or
 *         /app/stream.flv|.m3u8 (http), and a host that is 127.0.0.1,
 *         localhost, ::1 or oa_cfg.public_host. The stream's domain is the
 *         `vhost` query parameter if present, else the caster's domain. With
 *         a resolver installed (studio_set_domain_resolver) a host that is one
 *         of this server's domains is local too, and vhost values go through
 *         the resolver. Anything else is opened with libavformat and
 *         reconnected with backoff (0.5 s doubling to 4 s) when it fails,
 *         ends, or delivers nothing for max(studio_black_after_ms, 2 s).
 *   VOD   a media file (local path, file:, http(s)://), played in real time
 *         from begin_offset_ms to end_offset_ms (0 = the end; negative = that
 *         far before the end), then again if repeat is -1 (loop) or while
 *         repeat > 0 more plays remain; after the last play it holds its last
 *         frame and goes black like a stalled input.
 *   IMAGE jpg/png (local path or URL), decoded once, shown as a still (never
 *         stale). Retried with backoff if it cannot be loaded.
 *
 * Stalls. Let age be the time since the picture an input is showing
 * became due on the output (the moment it was decoded + STUDIO_DELAY_US).
 * An input whose source stops delivering holds its last picture (frozen;
 * its audio is silence) while age < studio_black_after_ms, and is black,
 * painted over the box the layer had, from then on. With the default
 * (3000 ms) a source that stops is frozen on the output from about 0.2 s
 * after it stopped (one frame interval after its last picture became due)
 * and black from about 3.2 s: its last picture stays on the output for
 * studio_black_after_ms. An input that never delivered a picture (not
 * connected yet, an unknown location, audio only) is black; a layer with
 * neither size set and no known picture size draws nothing. A source that
 * comes back (a republished local stream, a reconnected URL) is shown again
 * as soon as its first picture is due; nothing has to be restarted.
 * studio_caster_input_info() reports whether an input shows black.
 *
 * Timing and audio. Scenes present the inputs STUDIO_DELAY_US (200 ms)
 * behind real time, which absorbs the inputs' arrival jitter. Video and
 * audio of one input go through the same timestamp mapping onto the
 * monotonic clock, so they leave the scene together (within a frame); each
 * input's audio is resampled once to the canvas rate into a bounded ring
 * (about 2.7 s), silence where nothing arrived, and resynchronised by
 * dropping or leaving silence when its timestamps stray more than 20 ms
 * from the contiguous position (track.h). Output timestamps come from the
 * frame and sample counters only; the output never stops or jumps while
 * the scene runs, whatever the inputs do.
 *
 * Not implemented here: components (text/image/caption overlays),
 * FixedDelayDuration, PlayStatus/SeekOffset of file inputs, standby
 * ("urgent") sources, audio filters (AGC/ANS).
 *
 * Threads: every function here runs on the event-loop thread only, except
 * studio_set_domain_resolver (at startup) and studio_wait_idle (shutdown).
 * Stopping never blocks the loop: threads are told to stop and finish on
 * their own; studio_wait_idle() waits for them at shutdown.
 */
#ifndef OA_STUDIO_ENGINE_H
#define OA_STUDIO_ENGINE_H

#include "core/common.h"
#include "studio/layout.h"

struct studio_canvas {
    int width, height; /* even, 16..4096 */
    int fps;           /* 1..120 */
    int video_kbps;    /* 1..100000 */
    int audio_kbps;    /* 1..512 */
    int sample_rate;   /* an AAC rate: 8000, 11025, ... 44100, 48000, ... 96000 */
    int channels;      /* 1 or 2 */
};

enum studio_input_kind {
    STUDIO_INPUT_LIVE = 0,
    STUDIO_INPUT_VOD,
    STUDIO_INPUT_IMAGE,
};

struct studio_input_spec {
    const char *location_id; /* "RV01".."RV99" */
    enum studio_input_kind kind;
    const char *url;
    int64_t begin_offset_ms; /* VOD: start here */
    int64_t end_offset_ms;   /* VOD: stop here; 0 = the end, negative = from the end */
    int repeat;              /* VOD: 0 play once, -1 loop, n > 0 play n more times */
};

/* Scene audio: follow the layout (FollowEnable=1) or an explicit mix list. */
struct studio_audio {
    /*
     * true: the layout's audio layers; a layout without audio layers mixes
     * the inputs of its video layers at volume 1, all channels.
     */
    bool follow_video;
    int n; /* explicit mix list when !follow_video */
    struct studio_audio_layer layers[STUDIO_MAX_LAYERS];
};

struct studio_scene_stats {
    uint64_t frames;         /* video frames encoded */
    uint64_t skipped_frames; /* frame slots given up (output paused) because the scene fell > 1 s
                                behind */
    uint64_t audio_frames;   /* AAC frames encoded */
    uint64_t post_waits;     /* output batches that had to wait for the loop's full post queue */
};

/* The longest output delay (SetCasterConfig Delay allows 300 s). */
#define STUDIO_MAX_DELAY_MS 300000

struct studio_caster;
struct studio_scene;

/* Returns a new caster (no inputs, no scenes), or NULL for an invalid canvas. */
struct studio_caster *studio_caster_new(const struct studio_canvas *c, const char *domain);
/*
 * Stops every scene (unpublishing its stream) and every input, then frees
 * the caster. Scene handles of this caster become invalid.
 */
void studio_caster_free(struct studio_caster *c);
/* The canvas the caster was created with (borrowed). */
const struct studio_canvas *studio_caster_canvas(const struct studio_caster *c);

/*
 * Adds the input at spec->location_id, or replaces the one there (the old
 * one is stopped; scenes show the new one as soon as it delivers). A spec
 * equal to the current one is a no-op. Borrows spec. 0 or OA_EINVAL.
 */
int studio_caster_set_input(struct studio_caster *c, const struct studio_input_spec *spec);
/* Stops and removes the input at location_id (no-op if there is none). */
void studio_caster_remove_input(struct studio_caster *c, const char *location_id);

/* What an input is doing, for status reporting. */
struct studio_input_info {
    bool present;          /* an input exists at that location */
    bool local;            /* read in-process from the hub */
    bool has_picture;      /* a picture has been decoded at least once */
    int width, height;     /* its last picture size */
    int64_t last_frame_ms; /* oa_mono_ms() of the last decoded frame, 0 if none */
    bool black;            /* scenes show black for it now: no picture, or held too long */
};
void studio_caster_input_info(struct studio_caster *c, const char *location_id,
                              struct studio_input_info *out);

/*
 * Starts a scene composing `initial` (borrowed; NULL = an empty, black
 * layout) and publishes it as caster-domain/app/stream, delay_ms
 * (0..STUDIO_MAX_DELAY_MS) behind: players of the stream see the program
 * that late, and the undelayed program is nowhere in the hub (delay.h).
 * Returns 0 and the scene in *out, OA_EBUSY if that stream already has a
 * publisher, OA_EINVAL for bad names or delay, or OA_ECODEC if the encoders
 * cannot be opened.
 */
int studio_scene_start(struct studio_caster *c, const char *app, const char *stream,
                       const struct studio_layout *initial, int delay_ms,
                       struct studio_scene **out);
/*
 * Replaces the layout (borrowed, copied). Takes effect on the next composed
 * frame: no gap, no timestamp jump. 0 or OA_EINVAL.
 */
int studio_scene_set_layout(struct studio_scene *s, const struct studio_layout *layout);
/* Replaces the audio configuration (borrowed, copied), from the next audio frame on. */
int studio_scene_set_audio(struct studio_scene *s, const struct studio_audio *audio);
/* False once the scene's output was kicked (domain stopped, shutdown); stop it then. */
bool studio_scene_running(const struct studio_scene *s);
void studio_scene_get_stats(const struct studio_scene *s, struct studio_scene_stats *out);
/* Unpublishes the scene's stream and frees the handle. */
void studio_scene_stop(struct studio_scene *s);

/*
 * Optional: maps a host (or vhost value) to the domain that keys its streams;
 * returns false if the host is not served here. Runs on the loop thread from
 * studio_caster_set_input. Install once at startup (e.g. around domain_resolve).
 */
typedef bool studio_domain_resolver(const char *host, char *domain, size_t domain_len);
void studio_set_domain_resolver(studio_domain_resolver *fn);

/*
 * Waits until every studio thread has finished, up to timeout_ms; 0 or
 * OA_EBUSY. For shutdown, after every caster was freed: then run
 * oa_loop_drain_posts() (or the loop) once more, which releases the output
 * batches the scene threads posted last. Any thread.
 */
int studio_wait_idle(int timeout_ms);

#endif
