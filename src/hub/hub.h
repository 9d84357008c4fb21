/*
 * hub.h - live streams, their publisher, and everyone who consumes them.
 *
 * A stream is keyed by "domain/app/name". It exists while it has a publisher
 * or at least one sink (a player waiting before the publisher arrives, an HLS
 * segmenter keeping its last playlist, a recorder). One publisher at a time:
 * hub_publish() on a stream that already has one fails with OA_EBUSY and the
 * first publisher keeps going.
 *
 * Fan-out without copies: hub_stream_push() takes the publisher's packet,
 * keeps the codec headers, the metadata and the current GOP, and hands the
 * same packet to every sink's on_packet(), which takes its own reference if
 * it keeps the packet. A sink that joins a live stream first receives
 * on_publish(), then the metadata, the sequence headers and the cached GOP
 * as ordinary on_packet() calls, so its first video frame is a keyframe.
 *
 * Timestamps: a publisher that comes back while sinks are still attached
 * starts where the previous one ended, so attached players see time move
 * forward only. A fresh stream keeps the publisher's own timestamps.
 *
 * Everything here runs on the event-loop thread. Sinks on other threads
 * (recorder, studio) are fed by a loop-thread sink that forwards references.
 */
#ifndef OA_HUB_HUB_H
#define OA_HUB_HUB_H

#include "core/common.h"
#include "core/packet.h"

#include <time.h>

struct hub_stream;
struct hub_sink;

struct hub_sink_ops {
    /* A publisher is live (called at once from hub_subscribe on a live stream). */
    void (*on_publish)(struct hub_sink *sink);
    /* Borrowed packet: ref it to keep it. */
    void (*on_packet)(struct hub_sink *sink, struct packet *pkt);
    /* The publisher went away; the sink stays attached until it unsubscribes. */
    void (*on_unpublish)(struct hub_sink *sink);
};

struct hub_sink {
    const struct hub_sink_ops *ops;
    struct hub_stream *stream; /* set while subscribed */
    struct hub_sink *_prev, *_next;
    /* Sinks that need no GOP replay (recorders take it explicitly) set this. */
    bool no_gop;
};

struct hub_publisher;

struct hub_publisher_ops {
    /* Disconnect the publisher now (forbidden stream, domain stopped, shutdown). */
    void (*kick)(struct hub_publisher *pub, const char *why);
};

struct hub_publisher {
    const struct hub_publisher_ops *ops;
    char client_ip[64];
    char url[1024];   /* the full publish URL, for DescribeLiveStreamsOnlineList */
    char query[1024]; /* the publish URL's query string (for callbacks) */
    bool internal;    /* published by the studio, not by a network client */
};

/* Codec parameters and rates measured from the stream itself. */
struct hub_stream_info {
    int width, height; /* from the AVC/HEVC sequence header's SPS */
    double frame_rate; /* video frames per second, measured */
    int video_codec;   /* FLV codec id, -1 if none */
    int audio_codec;   /* FLV codec id, -1 if none */
    int audio_sample_rate, audio_channels;
    int video_kbps, audio_kbps; /* measured over the last few seconds */
    time_t publish_time;        /* wall clock */
    uint64_t video_frames, audio_frames;
};

struct hub_stream {
    char key[768]; /* domain/app/name */
    char domain[256];
    char app[256];
    char name[256];
    struct hub_publisher *publisher;
    struct hub_stream_info info;
    struct packet *meta, *vhdr, *ahdr;
    struct packet **gop;
    size_t gop_len, gop_cap, gop_bytes;
    bool gop_overflow;
    struct hub_sink *sinks;
    size_t nsinks;
    uint64_t publish_seq; /* increments with every publish */
    /* private */
    int64_t _publish_mono_ms;
    int8_t _meta_audio, _meta_video; /* what onMetaData declares: 1, 0, or -1 unknown */
    int64_t _ts_offset;
    bool _ts_mapped;
    uint32_t _last_ts;
    bool _have_last_ts;
    int64_t _rate_start_ms;
    uint64_t _rate_vbytes, _rate_abytes, _rate_vframes;
    int _busy; /* > 0 while iterating sinks */
    bool _dead;
};

/* Observers are told about every publish and unpublish (recorder, callbacks, API history). */
struct hub_observer {
    void (*on_publish)(struct hub_observer *o, struct hub_stream *st);
    void (*on_unpublish)(struct hub_observer *o, struct hub_stream *st);
    struct hub_observer *_next;
};

void hub_init(void);
/* Kicks every publisher and tells every sink; for shutdown. */
void hub_shutdown(void);
void hub_add_observer(struct hub_observer *o);

/* Borrowed; NULL when no stream object exists for that key. */
struct hub_stream *hub_find(const char *domain, const char *app, const char *name);

/*
 * Makes pub the publisher of domain/app/name, creating the stream if needed.
 * Returns the stream (borrowed, valid until hub_unpublish) or NULL with *err
 * set to OA_EBUSY when the stream already has a publisher.
 */
struct hub_stream *hub_publish(const char *domain, const char *app, const char *name,
                               struct hub_publisher *pub, int *err);
/* Ends the publish; sinks get on_unpublish. The stream may be freed. */
void hub_unpublish(struct hub_stream *st);

/*
 * Feeds one packet from the publisher (takes the caller's reference). The
 * packet's timestamp may be rewritten (see above) before sinks see it.
 */
void hub_stream_push(struct hub_stream *st, struct packet *pkt);

/*
 * Attaches sink to domain/app/name, creating a waiting stream if none exists.
 * If a publisher is live the sink is primed at once (see above).
 */
void hub_subscribe(const char *domain, const char *app, const char *name, struct hub_sink *sink);
/* Detaches; safe from inside the sink's own callbacks. */
void hub_unsubscribe(struct hub_sink *sink);

/* Replays metadata, sequence headers and the cached GOP into one sink. */
void hub_stream_prime(struct hub_stream *st, struct hub_sink *sink);

/*
 * Which tracks a live stream carries, for output headers that must declare
 * them up front (FLV): what the metadata declares (videocodecid,
 * audiocodecid, hasVideo, hasAudio), else what arrived in the publish's
 * first second. Returns false while that is not known yet.
 */
bool hub_stream_tracks(const struct hub_stream *st, bool *audio, bool *video);

/* Iterates live streams (with a publisher). Return false from fn to stop. */
void hub_foreach(bool (*fn)(struct hub_stream *st, void *arg), void *arg);
size_t hub_stream_count(void);

#endif
