/*
 * track.h - what one input has decoded, placed on the common clock.
 *
 * The common clock is CLOCK_MONOTONIC in microseconds. An input's thread
 * maps each decoded frame's timestamp to a time on it (see struct studio_clockmap
 * for live sources; file sources pace themselves) and pushes the frame into
 * the input's track. Scenes read the track "as of" a presentation time:
 * the newest picture whose time has come, and the audio samples at the
 * matching positions. Because video and audio of one input go through the
 * same mapping, they stay in sync whichever scene shows them, and every
 * scene shares the single decode of the input.
 *
 * Video: a short queue of decoded frames (AVFrame references, so no copies)
 * ordered by arrival. Readers pick the newest frame that is due; the writer
 * releases frames once a newer one has been due for a while, so several
 * scenes on slightly different clocks all find theirs. The newest frame is
 * kept after the source stops (the "hold" picture); how long it is shown
 * before black is the scene's decision (age_us).
 *
 * Audio: a ring of stereo float samples indexed by absolute sample position
 * on the common clock (time_us * rate / 1e6). The ring is bounded (about
 * 2.7 s at 48 kHz): writes outside a window around "now" are dropped, and
 * blocks not written since the ring last wrapped read as silence, so a
 * stalled or missing source is silent rather than repeating old sound.
 * Resync policy: writes stay contiguous while the timestamps agree with
 * the write position within 2 ms, or within STUDIO_AUDIO_SLIP_US when the
 * error changes direction (jitter). An error of more than 2 ms in the same
 * direction for 16 writes in a row (about 0.35 s) is corrected by the
 * smallest error seen in that run; one beyond STUDIO_AUDIO_SLIP_US at once.
 * A correction drops what it overwrites or leaves a little silence.
 *
 * Threads: one writer (the input's thread), any number of readers (scene
 * threads); every call takes the track's mutex briefly. The clockmap is
 * private to the input's thread.
 */
#ifndef OA_STUDIO_TRACK_H
#define OA_STUDIO_TRACK_H

#include "core/common.h"
#include "studio/layout.h"

struct AVFrame;

/* How far behind "now" scenes present (jitter buffer for live sources). */
#define STUDIO_DELAY_US 200000
/* Audio whose timestamp strays less than this from the write position stays contiguous. */
#define STUDIO_AUDIO_SLIP_US 20000
/* Decoded pictures a track queues at most. */
#define TRACK_VQ_MAX 24

struct studio_track;

/* sample_rate: the canvas rate; the ring is always stereo float. */
struct studio_track *studio_track_new(int sample_rate);
void studio_track_free(struct studio_track *t);

/* --- the writer (the input's thread) --- */

/*
 * Queues a picture (takes a new reference to f) shown from time t_us on.
 * Pictures that no reader can want any more (a newer one was due well
 * before now_us - STUDIO_DELAY_US) are released, so an input no scene shows
 * holds only a few frames.
 */
void studio_track_push_video(struct studio_track *t, struct AVFrame *f, int64_t t_us,
                             int64_t now_us);
/* Makes f (new reference) the track's only picture, shown at every time, never stale. */
void studio_track_set_still(struct studio_track *t, struct AVFrame *f);
/* Writes n stereo samples starting at time t_us (l, r planar). now_us bounds the window. */
void studio_track_push_audio(struct studio_track *t, const float *l, const float *r, int n,
                             int64_t t_us, int64_t now_us);
/* Forgets the audio write position (the source restarted). */
void studio_track_audio_discontinuity(struct studio_track *t);

/* --- readers (scene threads) --- */

struct studio_track_pick {
    struct AVFrame *frame; /* new reference (caller unrefs), NULL if nothing to show */
    int width, height;     /* last known picture size, 0 if never seen */
    int64_t age_us;        /* time since the picture returned became due; 0 for stills */
    bool still;
    uint64_t gen; /* changes whenever the still picture is replaced */
};

/*
 * The picture to show at presentation time t_us: the newest one due, or,
 * if none is due yet, nothing while the input has only just started (its
 * first picture is not due) and else the oldest one queued (a reader
 * running late).
 */
void studio_track_pick(struct studio_track *t, int64_t t_us, struct studio_track_pick *out);
/* The last known picture size and whether the track holds a still. */
void studio_track_peek(struct studio_track *t, int *width, int *height, bool *still);
/*
 * Adds vol * the samples at positions [pos, pos + n) into out[0..nch-1]
 * (nch 1 or 2), taking the channel(s) chosen by ch. Missing samples are silence.
 */
void studio_track_mix(struct studio_track *t, int64_t pos, int n, float *const *out, int nch,
                      float vol, enum studio_channel ch);

/* The sample position of time t_us at rate sr (floor). */
static inline int64_t studio_track_pos(int64_t t_us, int sr)
{
    return t_us >= 0 ? t_us * sr / 1000000 : -((-t_us * sr + 999999) / 1000000);
}

/*
 * Maps a live source's timestamps to the common clock.
 *
 * The mapping is offset = min(arrival - pts): the earliest a frame has ever
 * arrived relative to its timestamp (the network's delay floor), so nothing
 * is scheduled before it can have arrived. Frames that arrive later than
 * that are absorbed by STUDIO_DELAY_US. If during a whole window every frame
 * was late, the floor has moved (the source's clock is slower than ours):
 * the offset moves up by the smallest lateness seen. A frame more than a
 * second late (a timestamp jump, a republish that continues old timestamps)
 * re-anchors at once.
 *
 * A paced source (HLS) arrives a segment at a time, most of it early, so an
 * early frame is not a new delay floor there: the mapping keeps the first
 * frame's offset and the reader waits for each frame's time instead. Only a
 * jump of more than a second either way re-anchors it.
 */
struct studio_clockmap {
    bool mapped;
    bool paced;
    int64_t offset_us;
    int64_t win_start_us, win_min_us;
};

/* Forgets the mapping; paced as described above. */
void studio_clockmap_reset(struct studio_clockmap *c, bool paced);
/* The common-clock time of a frame with timestamp pts_us that is available at now_us. */
int64_t studio_clockmap_map(struct studio_clockmap *c, int64_t pts_us, int64_t now_us);

#endif
