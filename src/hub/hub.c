/*
 * hub.c - the stream registry and fan-out.
 *
 * Streams live in a hash map keyed "domain/app/name". Each keeps the last
 * metadata, both sequence headers and the GOP since the last keyframe (as
 * packet references), so a late joiner is primed with a decodable start.
 * Fan-out walks the sink list and hands every sink the same packet.
 *
 * Sinks may unsubscribe (or a publisher may be kicked) from inside a
 * callback, so while a stream iterates its sinks it is marked busy, removed
 * sinks are unlinked safely by keeping the next pointer, and the stream is
 * freed only when it is no longer busy.
 */
#include "hub.h"
#include "core/alloc.h"
#include "core/err.h"
#include "core/log.h"
#include "core/map.h"
#include "core/config.h"
#include "core/util.h"
#include "media/avc.h"
#include "rtmp/amf.h"

static struct {
    struct oa_map streams;
    struct hub_observer *observers;
    bool initialised;
} H;

void hub_init(void)
{
    if (H.initialised)
        return;
    oa_map_init(&H.streams);
    H.initialised = true;
}

void hub_add_observer(struct hub_observer *o)
{
    o->_next = H.observers;
    H.observers = o;
}

static void make_key(char *out, size_t n, const char *domain, const char *app, const char *name)
{
    oa_snprintf(out, n, "%s/%s/%s", domain, app, name);
}

struct hub_stream *hub_find(const char *domain, const char *app, const char *name)
{
    char key[768];
    make_key(key, sizeof(key), domain, app, name);
    struct hub_stream *st = oa_map_get(&H.streams, key);
    return st && !st->_dead ? st : NULL;
}

static void gop_clear(struct hub_stream *st)
{
    for (size_t i = 0; i < st->gop_len; i++)
        packet_unref(&st->gop[i]);
    st->gop_len = 0;
    st->gop_bytes = 0;
}

static void stream_free(struct hub_stream *st)
{
    gop_clear(st);
    oa_free(st->gop);
    packet_unref(&st->meta);
    packet_unref(&st->vhdr);
    packet_unref(&st->ahdr);
    oa_free(st);
}

/* Frees the stream if nobody needs it any more. */
static void maybe_release(struct hub_stream *st)
{
    if (st->_busy || st->publisher || st->sinks)
        return;
    if (!st->_dead) {
        oa_map_remove(&H.streams, st->key);
        st->_dead = true;
    }
    stream_free(st);
}

static struct hub_stream *stream_get_or_create(const char *domain, const char *app,
                                               const char *name)
{
    char key[768];
    make_key(key, sizeof(key), domain, app, name);
    struct hub_stream *st = oa_map_get(&H.streams, key);
    if (st)
        return st;
    st = oa_calloc(1, sizeof(*st));
    oa_strlcpy(st->key, key, sizeof(st->key));
    oa_strlcpy(st->domain, domain, sizeof(st->domain));
    oa_strlcpy(st->app, app, sizeof(st->app));
    oa_strlcpy(st->name, name, sizeof(st->name));
    st->info.video_codec = st->info.audio_codec = -1;
    st->_meta_audio = st->_meta_video = -1;
    oa_map_put(&H.streams, st->key, st);
    return st;
}

struct hub_stream *hub_publish(const char *domain, const char *app, const char *name,
                               struct hub_publisher *pub, int *err)
{
    struct hub_stream *st = stream_get_or_create(domain, app, name);
    if (st->publisher) {
        *err = OA_EBUSY;
        return NULL;
    }
    st->publisher = pub;
    st->publish_seq++;
    memset(&st->info, 0, sizeof(st->info));
    st->info.video_codec = st->info.audio_codec = -1;
    st->info.publish_time = time(NULL);
    st->_publish_mono_ms = oa_mono_ms();
    st->_meta_audio = st->_meta_video = -1;
    packet_unref(&st->meta);
    packet_unref(&st->vhdr);
    packet_unref(&st->ahdr);
    gop_clear(st);
    st->gop_overflow = false;
    st->_ts_mapped = false;
    st->_rate_start_ms = oa_mono_ms();
    st->_rate_vbytes = st->_rate_abytes = st->_rate_vframes = 0;

    st->_busy++;
    for (struct hub_sink *s = st->sinks, *next; s; s = next) {
        next = s->_next;
        if (s->ops->on_publish)
            s->ops->on_publish(s);
    }
    st->_busy--;
    for (struct hub_observer *o = H.observers; o; o = o->_next)
        o->on_publish(o, st);
    return st;
}

void hub_unpublish(struct hub_stream *st)
{
    if (!st->publisher)
        return;
    st->publisher = NULL;
    if (st->_have_last_ts) {
        /* A returning publisher continues from here (see hub.h). */
        st->_ts_mapped = false;
    }
    st->_busy++;
    for (struct hub_observer *o = H.observers; o; o = o->_next)
        o->on_unpublish(o, st);
    for (struct hub_sink *s = st->sinks, *next; s; s = next) {
        next = s->_next;
        if (s->ops->on_unpublish)
            s->ops->on_unpublish(s);
    }
    st->_busy--;
    /* The cached media belongs to the publish that ended. */
    gop_clear(st);
    packet_unref(&st->meta);
    packet_unref(&st->vhdr);
    packet_unref(&st->ahdr);
    maybe_release(st);
}

static void update_headers(struct hub_stream *st, struct packet *pkt)
{
    if (pkt->type == PKT_VIDEO) {
        packet_unref(&st->vhdr);
        st->vhdr = packet_ref(pkt);
        st->info.video_codec = packet_codec(pkt);
        struct avc_config cfg;
        if (st->info.video_codec == FLV_VIDEO_CODEC_AVC && pkt->size > 5 &&
            avc_parse_config(pkt->data + 5, pkt->size - 5, &cfg) == 0 && cfg.width > 0) {
            st->info.width = cfg.width;
            st->info.height = cfg.height;
        }
    } else {
        packet_unref(&st->ahdr);
        st->ahdr = packet_ref(pkt);
        st->info.audio_codec = packet_codec(pkt);
        struct aac_config ac;
        if (pkt->size > 2 && aac_parse_asc(pkt->data + 2, pkt->size - 2, &ac) == 0) {
            st->info.audio_sample_rate = ac.sample_rate;
            st->info.audio_channels = ac.channels;
        }
    }
}

static void gop_append(struct hub_stream *st, struct packet *pkt)
{
    if (!oa_cfg.gop_cache)
        return;
    if (packet_is_video_key(pkt)) {
        gop_clear(st);
        st->gop_overflow = false;
    } else if (st->gop_len == 0 || st->gop_overflow) {
        return; /* nothing decodable to append to */
    }
    /*
     * Signed: interleaved audio may be stamped a little before the keyframe
     * that opened the GOP, and RTMP time wraps at 2^32 ms.
     */
    int32_t span = st->gop_len ? (int32_t)(pkt->ts - st->gop[0]->ts) : 0;
    if (st->gop_bytes + pkt->flv_len > (size_t)oa_cfg.gop_cache_max_bytes ||
        span > oa_cfg.gop_cache_max_ms) {
        gop_clear(st);
        st->gop_overflow = true;
        return;
    }
    if (st->gop_len == st->gop_cap) {
        st->gop_cap = st->gop_cap ? 2 * st->gop_cap : 64;
        st->gop = oa_realloc(st->gop, st->gop_cap * sizeof(*st->gop));
    }
    st->gop[st->gop_len++] = packet_ref(pkt);
    st->gop_bytes += pkt->flv_len;
}

static void update_rates(struct hub_stream *st, struct packet *pkt)
{
    if (pkt->type == PKT_VIDEO) {
        st->_rate_vbytes += pkt->size;
        if (!(pkt->flags & PKT_F_SEQHDR)) {
            st->_rate_vframes++;
            st->info.video_frames++;
        }
    } else if (pkt->type == PKT_AUDIO) {
        st->_rate_abytes += pkt->size;
        if (!(pkt->flags & PKT_F_SEQHDR))
            st->info.audio_frames++;
    }
    int64_t now = oa_mono_ms(), span = now - st->_rate_start_ms;
    if (span >= 2000) {
        st->info.video_kbps = (int)(st->_rate_vbytes * 8 / (uint64_t)span);
        st->info.audio_kbps = (int)(st->_rate_abytes * 8 / (uint64_t)span);
        st->info.frame_rate = (double)st->_rate_vframes * 1000.0 / (double)span;
        st->_rate_start_ms = now;
        st->_rate_vbytes = st->_rate_abytes = st->_rate_vframes = 0;
    }
}

/* 1 or 0 when the metadata object says whether there is such a track, else -1. */
static int8_t meta_has(const struct amf_value *obj, const char *has_key, const char *codec_key)
{
    const struct amf_value *has = amf_object_get(obj, has_key);
    if (has && has->type == AMF_BOOLEAN)
        return has->num != 0;
    return amf_object_get(obj, codec_key) ? 1 : -1;
}

/* onMetaData is "onMetaData", {object or ECMA array}; anything else declares nothing. */
static void parse_meta(struct hub_stream *st, const struct packet *meta)
{
    static const struct amf_limits lim = {8, 1024};
    struct amf_value *v = NULL;
    size_t n = 0;
    st->_meta_audio = st->_meta_video = -1;
    if (amf_decode_all(meta->data, meta->size, &lim, &v, &n) != 0)
        return;
    for (size_t i = 0; i < n; i++) {
        if (v[i].type == AMF_OBJECT || v[i].type == AMF_ECMA_ARRAY) {
            st->_meta_audio = meta_has(&v[i], "hasAudio", "audiocodecid");
            st->_meta_video = meta_has(&v[i], "hasVideo", "videocodecid");
            break;
        }
    }
    amf_values_free(v, n);
}

bool hub_stream_tracks(const struct hub_stream *st, bool *audio, bool *video)
{
    if (!st->publisher)
        return false;
    if (st->_meta_audio >= 0 || st->_meta_video >= 0) {
        /* A declaration of one kind only means the other is absent. */
        *audio = st->_meta_audio == 1;
        *video = st->_meta_video == 1;
        return true;
    }
    *audio = st->info.audio_codec >= 0;
    *video = st->info.video_codec >= 0;
    if (*audio && *video)
        return true;
    return (*audio || *video) && oa_mono_ms() - st->_publish_mono_ms >= 1000;
}

static void map_timestamp(struct hub_stream *st, struct packet *pkt)
{
    if (!st->_ts_mapped) {
        /* Continue after the previous publish for sinks that are still attached. */
        st->_ts_offset =
            (st->_have_last_ts && st->sinks) ? (int64_t)st->_last_ts + 1 - (int64_t)pkt->ts : 0;
        st->_ts_mapped = true;
    }
    if (st->_ts_offset)
        packet_set_ts(pkt, (uint32_t)((int64_t)pkt->ts + st->_ts_offset));
    /*
     * The newest timestamp, not the last one: a publisher's last packets are
     * not in timestamp order across streams (its last video frame may come
     * after later audio), and the next publish must start after all of them.
     */
    if (!st->_have_last_ts || (int32_t)(pkt->ts - st->_last_ts) > 0)
        st->_last_ts = pkt->ts;
    st->_have_last_ts = true;
}

void hub_stream_push(struct hub_stream *st, struct packet *pkt)
{
    if (pkt->type != PKT_AUDIO && pkt->type != PKT_VIDEO && pkt->type != PKT_META) {
        packet_unref(&pkt);
        return;
    }
    map_timestamp(st, pkt);
    if (pkt->type == PKT_META) {
        packet_unref(&st->meta);
        st->meta = packet_ref(pkt);
        parse_meta(st, pkt);
    } else if (pkt->flags & PKT_F_SEQHDR) {
        update_headers(st, pkt);
    } else {
        if (pkt->type == PKT_VIDEO && st->info.video_codec < 0)
            st->info.video_codec = packet_codec(pkt);
        if (pkt->type == PKT_AUDIO && st->info.audio_codec < 0)
            st->info.audio_codec = packet_codec(pkt);
        gop_append(st, pkt);
    }
    update_rates(st, pkt);

    st->_busy++;
    for (struct hub_sink *s = st->sinks, *next; s; s = next) {
        next = s->_next;
        s->ops->on_packet(s, pkt);
    }
    st->_busy--;
    packet_unref(&pkt);
    maybe_release(st);
}

void hub_stream_prime(struct hub_stream *st, struct hub_sink *sink)
{
    if (st->meta)
        sink->ops->on_packet(sink, st->meta);
    if (st->vhdr && sink->stream == st)
        sink->ops->on_packet(sink, st->vhdr);
    if (st->ahdr && sink->stream == st)
        sink->ops->on_packet(sink, st->ahdr);
    for (size_t i = 0; i < st->gop_len && sink->stream == st; i++)
        sink->ops->on_packet(sink, st->gop[i]);
}

void hub_subscribe(const char *domain, const char *app, const char *name, struct hub_sink *sink)
{
    struct hub_stream *st = stream_get_or_create(domain, app, name);
    sink->stream = st;
    sink->_prev = NULL;
    sink->_next = st->sinks;
    if (st->sinks)
        st->sinks->_prev = sink;
    st->sinks = sink;
    st->nsinks++;
    if (st->publisher) {
        st->_busy++;
        if (sink->ops->on_publish)
            sink->ops->on_publish(sink);
        if (!sink->no_gop && sink->stream == st)
            hub_stream_prime(st, sink);
        st->_busy--;
        maybe_release(st);
    }
}

void hub_unsubscribe(struct hub_sink *sink)
{
    struct hub_stream *st = sink->stream;
    if (!st)
        return;
    if (sink->_prev)
        sink->_prev->_next = sink->_next;
    else
        st->sinks = sink->_next;
    if (sink->_next)
        sink->_next->_prev = sink->_prev;
    /* Keep _next intact so an iteration that is standing on this sink can go on. */
    sink->_prev = NULL;
    sink->stream = NULL;
    st->nsinks--;
    maybe_release(st);
}

void hub_foreach(bool (*fn)(struct hub_stream *st, void *arg), void *arg)
{
    struct oa_map_iter it;
    oa_map_iter_init(&it, &H.streams);
    while (oa_map_iter_next(&it)) {
        struct hub_stream *st = it.entry->value;
        if (st->publisher && !fn(st, arg))
            break;
    }
}

size_t hub_stream_count(void)
{
    return H.streams.count;
}

void hub_shutdown(void)
{
    if (!H.initialised)
        return;
    /* Kicking unpublishes, which may free streams: collect publishers first. */
    size_t n = 0, cap = H.streams.count;
    struct hub_publisher **pubs = oa_calloc(cap ? cap : 1, sizeof(*pubs));
    struct oa_map_iter it;
    oa_map_iter_init(&it, &H.streams);
    while (oa_map_iter_next(&it)) {
        struct hub_stream *st = it.entry->value;
        if (st->publisher && n < cap)
            pubs[n++] = st->publisher;
    }
    for (size_t i = 0; i < n; i++)
        pubs[i]->ops->kick(pubs[i], "server shutting down");
    oa_free(pubs);
}
