/*
 * media_fixture.h - test support shared by the media unit tests: a synthetic
 * FLV stream (real H.264 and AAC, as RTMP delivers them) and demuxing a
 * muxer's output from memory. Linked into every unit test program.
 */
#ifndef OA_TEST_MEDIA_FIXTURE_H
#define OA_TEST_MEDIA_FIXTURE_H

#include "core/common.h"
#include "core/packet.h"

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

struct synth {
    struct packet *vhdr, *ahdr;
    struct packet **pkts; /* audio and video frames, in timestamp order */
    size_t n, cap;
    size_t nvideo, naudio, nkeys;
};

struct memin {
    const uint8_t *p;
    size_t len, pos;
};

struct dtrack {
    enum AVCodecID codec;
    int width, height, sample_rate, channels;
    size_t count, keys;
    int64_t pts[4096]; /* ms */
    int64_t dts[4096];
    bool dts_increasing;
};

struct demuxed {
    struct dtrack v, a;
    int nstreams;
};

/* nframes of w x h at fps, a keyframe every keyint frames; timestamps from base (ms). */
void synth_video(struct synth *s, int w, int h, int fps, int keyint, int nframes, bool bframes,
                 int64_t base);
/* duration_ms of 44.1 kHz AAC (a sine) with timestamps from base (ms). */
void synth_audio(struct synth *s, int channels, int duration_ms, int64_t base);
void synth_sort(struct synth *s);
void synth_free(struct synth *s);
/* An AVIOContext read callback over a struct memin. */
int mem_read(void *opaque, uint8_t *buf, int size);
/* Demuxes a whole container in memory into per-track timestamps and counts. */
void demux(const uint8_t *p, size_t len, struct demuxed *d);

#endif
