/*
 * recorder.c - recording tasks on the event loop (see recorder.h): a map
 * from stream key to task, a hub observer that starts automatic recordings
 * at publish, the sink callbacks that forward packets and handle
 * interruptions, the RealTimeRecordCommand state machine, and the handler
 * of writer events (index rows, callbacks).
 */
#include "recorder.h"
#include "access/access.h"
#include "api/params.h"
#include "core/alloc.h"
#include "core/config.h"
#include "core/err.h"
#include "core/log.h"
#include "core/loop.h"
#include "core/map.h"
#include "core/util.h"
#include "http/client.h"
#include "hub/hub.h"
#include "record/config.h"
#include "record/fault.h"
#include "record/finish.h"
#include "record/index.h"
#include "record/notify.h"
#include "record/recover.h"
#include "record/storage.h"
#include "record/writer.h"
#include "store/domain.h"

#include <event2/event.h>
#include <jansson.h>
#include <time.h>

/* T_WAITING: an automatic recording of a live stream, until the config's StartTime. */
enum task_state { T_PENDING, T_WAITING, T_RECORDING, T_PAUSED };

struct task {
    char key[768];
    char domain[256], app[256], stream[256];
    int64_t account_id;
    uint64_t id;
    enum task_state state;
    bool manual;
    struct rec_config cfg; /* as it was when the recording started */
    struct hub_sink sink;
    struct rec_writer *w;
    struct event *delay_timer, *end_timer, *start_timer;
    struct rec_ondemand *od;
    bool od_asked;
    uint64_t publish_seq;
    uint32_t live_ts;
    bool dropping;
    uint64_t dropped, dropped_total;
    char push_args[1024];
};

static struct {
    struct oa_map tasks;
    struct oa_map seqs; /* stream key -> struct rec_seq */
    struct hub_observer obs;
    uint64_t next_id;
    bool running;
} R;

static const struct hub_sink_ops sink_ops;

/* ---- helpers ----------------------------------------------------------------- */

static struct rec_seq *seq_for(const char *key, const char *domain, const char *app,
                               const char *stream)
{
    struct rec_seq *s = oa_map_get(&R.seqs, key);
    if (s)
        return s;
    s = oa_calloc(1, sizeof(*s));
    for (int f = 0; f < REC_NFMT; f++)
        atomic_init(&s->file[f], rec_index_max_seq(domain, app, stream, rec_fmt_name(f)) + 1);
    atomic_init(&s->slice, rec_slice_max_seq(domain, app, stream) + 1);
    oa_map_put(&R.seqs, key, s);
    return s;
}

/* The publish URL's callback_* parameters (first value of each) as a JSON object. */
static void push_args_of(const char *query, char *out, size_t outlen)
{
    json_t *o = json_object();
    const char *p = query ? query : "";
    while (*p) {
        const char *amp = strchr(p, '&'), *end = amp ? amp : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        char *name = NULL, *value = NULL;
        if (eq && api_form_decode(p, (size_t)(eq - p), &name, NULL) == 0 &&
            api_form_decode(eq + 1, (size_t)(end - eq - 1), &value, NULL) == 0 &&
            strncmp(name, "callback_", 9) == 0 && !json_object_get(o, name)) {
            json_t *v = json_string(value);
            if (v)
                json_object_set_new(o, name, v);
        }
        oa_free(name);
        oa_free(value);
        p = amp ? amp + 1 : end;
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    oa_strlcpy(out, s && strlen(s) < outlen ? s : "{}", outlen);
    free(s);
}

static void task_free(struct task *t)
{
    if (t->delay_timer)
        event_free(t->delay_timer);
    if (t->end_timer)
        event_free(t->end_timer);
    if (t->start_timer)
        event_free(t->start_timer);
    rec_ondemand_cancel(t->od);
    oa_free(t);
}

/* Ends a task: files finished (asynchronously), sink detached, task freed. */
static void task_end(struct task *t, const char *why)
{
    if (t->w) {
        rec_writer_close(t->w);
        t->w = NULL;
        oa_log(OA_LOG_INFO, "record: %s: stopped (%s)", t->key, why);
    }
    if (t->dropped_total)
        oa_log(OA_LOG_WARN, "record: %s: %llu frame(s) were dropped because the disk fell behind",
               t->key, (unsigned long long)t->dropped_total);
    if (t->sink.stream)
        hub_unsubscribe(&t->sink);
    oa_map_remove(&R.tasks, t->key);
    task_free(t);
}

static struct task *task_new(struct hub_stream *st, int64_t account_id)
{
    struct task *t = oa_calloc(1, sizeof(*t));
    oa_strlcpy(t->key, st->key, sizeof(t->key));
    oa_strlcpy(t->domain, st->domain, sizeof(t->domain));
    oa_strlcpy(t->app, st->app, sizeof(t->app));
    oa_strlcpy(t->stream, st->name, sizeof(t->stream));
    t->account_id = account_id;
    t->id = ++R.next_id;
    t->sink.ops = &sink_ops;
    t->sink.no_gop = true; /* primed explicitly when recording starts */
    t->publish_seq = st->publish_seq;
    push_args_of(st->publisher ? st->publisher->query : NULL, t->push_args, sizeof(t->push_args));
    oa_map_put(&R.tasks, t->key, t);
    return t;
}

static void on_end_time(evutil_socket_t fd, short what, void *arg)
{
    task_end(arg, "the config's EndTime");
}

/* Starts writing: a writer, the GOP replay, the status callback. */
static void task_record(struct task *t, struct hub_stream *st, const struct rec_config *cfg,
                        bool manual)
{
    t->cfg = *cfg;
    t->manual = manual;
    struct rec_writer_params p = {0};
    p.task_id = t->id;
    p.account_id = t->account_id;
    oa_strlcpy(p.domain, t->domain, sizeof(p.domain));
    oa_strlcpy(p.app, t->app, sizeof(p.app));
    oa_strlcpy(p.stream, t->stream, sizeof(p.stream));
    oa_strlcpy(p.endpoint, cfg->endpoint, sizeof(p.endpoint));
    oa_strlcpy(p.bucket, cfg->bucket, sizeof(p.bucket));
    for (int i = 0; i < cfg->nformats; i++) {
        struct rec_format *f = &p.formats[p.nformats++];
        *f = cfg->formats[i];
        if (!f->object_prefix[0])
            oa_strlcpy(f->object_prefix, REC_DEFAULT_OBJECT_PREFIX, sizeof(f->object_prefix));
        if (!f->slice_prefix[0])
            oa_strlcpy(f->slice_prefix, REC_DEFAULT_SLICE_PREFIX, sizeof(f->slice_prefix));
        if (f->cycle_s <= 0)
            f->cycle_s = REC_DEFAULT_CYCLE_S;
        if (f->slice_s <= 0)
            f->slice_s = REC_DEFAULT_SLICE_S;
    }
    p.seq = seq_for(t->key, t->domain, t->app, t->stream);
    oa_strlcpy(p.push_args, t->push_args, sizeof(p.push_args));
    t->w = rec_writer_open(&p, t->key);
    t->state = T_RECORDING;
    t->dropping = false;
    t->publish_seq = st->publish_seq;
    if (!t->sink.stream)
        hub_subscribe(t->domain, t->app, t->stream, &t->sink);
    /* The GOP's packets are dated against the newest one. */
    t->live_ts = st->gop_len ? st->gop[st->gop_len - 1]->ts : 0;
    hub_stream_prime(st, &t->sink);
    if (cfg->end_time > 0) {
        int64_t left = cfg->end_time - (int64_t)time(NULL);
        struct timeval tv = {(time_t)OA_MAX(left, 0), 0};
        t->end_timer = evtimer_new(oa_loop_base(), on_end_time, t);
        event_add(t->end_timer, &tv);
    }
    oa_log(OA_LOG_INFO, "record: %s: started (%s, %d format%s, bucket %s)", t->key,
           manual ? "command" : "automatic", p.nformats, p.nformats == 1 ? "" : "s", cfg->bucket);
    rec_notify_status(t->account_id, t->domain, t->app, t->stream, "record_started", NULL);
}

/* ---- the sink ---------------------------------------------------------------- */

static void on_ondemand_reply(void *arg, const struct rec_ondemand_reply *reply);

static void ask_ondemand(struct task *t, struct hub_stream *st)
{
    t->od_asked = true;
    const char *codec = st->info.video_codec == FLV_VIDEO_CODEC_HEVC ? "h265" : "h264";
    t->od = rec_notify_ondemand(t->domain, t->app, t->stream, st->info.video_kbps, codec,
                                on_ondemand_reply, t);
    if (!t->od)
        task_end(t, "no usable OnDemandUrl");
}

static void forward(struct task *t, struct packet *pkt)
{
    bool media = (pkt->type == PKT_AUDIO || pkt->type == PKT_VIDEO) && !(pkt->flags & PKT_F_SEQHDR);
    if (media) {
        int backlog = rec_writer_backlog(t->w, pkt->ts);
        if (!t->dropping && backlog >= 100) {
            t->dropping = true;
            t->dropped = 0;
            oa_log(OA_LOG_WARN,
                   "record: %s: the disk is falling behind (%d%% of the queue "
                   "limit); dropping frames until it catches up",
                   t->key, backlog);
            rec_notify_status(t->account_id, t->domain, t->app, t->stream, "record_error",
                              "recording fell behind: frames dropped");
        }
        if (t->dropping) {
            bool has_video = t->sink.stream && t->sink.stream->vhdr;
            bool restart = has_video ? packet_is_video_key(pkt) : pkt->type == PKT_AUDIO;
            if (backlog >= 50 || !restart) {
                t->dropped++;
                t->dropped_total++;
                return;
            }
            t->dropping = false;
            oa_log(OA_LOG_WARN, "record: %s: caught up after dropping %llu frame(s)", t->key,
                   (unsigned long long)t->dropped);
        }
    }
    rec_writer_packet(t->w, pkt, oa_wall_ms(), t->live_ts);
}

static void sink_packet(struct hub_sink *s, struct packet *pkt)
{
    struct task *t = oa_container_of(s, struct task, sink);
    if (t->state == T_PENDING) {
        bool frame =
            (pkt->type == PKT_AUDIO || pkt->type == PKT_VIDEO) && !(pkt->flags & PKT_F_SEQHDR);
        if (frame && !t->od_asked && s->stream)
            ask_ondemand(t, s->stream);
        return;
    }
    if (t->state != T_RECORDING)
        return;
    /* Primed packets are older than live_ts; live ones move it. */
    if ((int32_t)(pkt->ts - t->live_ts) > 0)
        t->live_ts = pkt->ts;
    forward(t, pkt);
}

static void on_delay_end(evutil_socket_t fd, short what, void *arg)
{
    task_end(arg, "DelayTime passed without the stream coming back");
}

static void sink_publish(struct hub_sink *s)
{
    struct task *t = oa_container_of(s, struct task, sink);
    if (t->state != T_PAUSED)
        return;
    event_del(t->delay_timer);
    t->state = T_RECORDING;
    t->publish_seq = s->stream->publish_seq;
    oa_log(OA_LOG_INFO, "record: %s: the stream is back; continuing the same files", t->key);
    rec_notify_status(t->account_id, t->domain, t->app, t->stream, "record_resumed", NULL);
}

static void sink_unpublish(struct hub_sink *s)
{
    struct task *t = oa_container_of(s, struct task, sink);
    if (t->state == T_PENDING) {
        task_end(t, "the stream ended before the OnDemandUrl answered");
        return;
    }
    if (t->state == T_WAITING) {
        task_end(t, "the stream ended before the config's StartTime");
        return;
    }
    if (t->state != T_RECORDING)
        return;
    if (t->manual) {
        task_end(t, "the stream was interrupted");
        return;
    }
    t->state = T_PAUSED;
    rec_writer_pause(t->w);
    if (!t->delay_timer)
        t->delay_timer = evtimer_new(oa_loop_base(), on_delay_end, t);
    struct timeval tv = {t->cfg.delay_s > 0 ? t->cfg.delay_s : REC_DEFAULT_DELAY_S, 0};
    event_add(t->delay_timer, &tv);
    oa_log(OA_LOG_INFO, "record: %s: the stream was interrupted; waiting %d s for it to return",
           t->key, (int)tv.tv_sec);
    rec_notify_status(t->account_id, t->domain, t->app, t->stream, "record_paused", NULL);
}

static const struct hub_sink_ops sink_ops = {sink_publish, sink_packet, sink_unpublish};

/* ---- automatic recording ------------------------------------------------------ */

static void on_ondemand_reply(void *arg, const struct rec_ondemand_reply *reply)
{
    struct task *t = arg;
    t->od = NULL; /* the handle is gone once its callback runs */
    struct hub_stream *st = t->sink.stream;
    if (!reply->ok || !reply->need_record || !st || !st->publisher ||
        st->publish_seq != t->publish_seq) {
        task_end(t, reply->ok ? "the OnDemandUrl said no" : "no usable OnDemandUrl reply");
        return;
    }
    struct rec_config cfg = t->cfg;
    if (reply->formats_given) {
        /* Format picks the formats: the config's templates when it has them, else defaults. */
        struct rec_config picked = cfg;
        picked.nformats = 0;
        for (int f = 0; f < REC_NFMT; f++) {
            if (!reply->format[f])
                continue;
            struct rec_format nf = {.fmt = (enum rec_fmt)f};
            for (int i = 0; i < cfg.nformats; i++) {
                if (cfg.formats[i].fmt == (enum rec_fmt)f)
                    nf = cfg.formats[i];
            }
            picked.formats[picked.nformats++] = nf;
        }
        cfg = picked;
    }
    for (int i = 0; i < cfg.nformats; i++) {
        if (reply->interval_s[cfg.formats[i].fmt])
            cfg.formats[i].cycle_s = reply->interval_s[cfg.formats[i].fmt];
    }
    task_record(t, st, &cfg, false);
}

static bool wants_record_by_url(const struct hub_stream *st)
{
    char v[512];
    if (!st->publisher || access_query_param(st->publisher->query, "record_config", v, sizeof(v)))
        return false;
    json_t *j = json_loads(v, 0, NULL);
    bool yes = json_is_true(json_object_get(j, "NeedRecord"));
    json_decref(j);
    return yes;
}

/* The automatic start per the config's OnDemand (the stream is live, the window open). */
static void auto_start(struct task *t, struct hub_stream *st, const struct rec_config *cfg)
{
    if (cfg->on_demand == 1) {
        t->cfg = *cfg;
        t->state = T_PENDING;
        if (!t->sink.stream)
            hub_subscribe(t->domain, t->app, t->stream, &t->sink);
        return;
    }
    task_record(t, st, cfg, false);
}

static void on_start_time(evutil_socket_t fd, short what, void *arg)
{
    struct task *t = arg;
    struct hub_stream *st = t->sink.stream;
    if (t->state != T_WAITING || !st || !st->publisher || st->publish_seq != t->publish_seq) {
        task_end(t, "the stream ended before the config's StartTime");
        return;
    }
    oa_log(OA_LOG_INFO, "record: %s: the config's StartTime has come", t->key);
    struct rec_config cfg = t->cfg;
    auto_start(t, st, &cfg);
}

static void obs_publish(struct hub_observer *o, struct hub_stream *st)
{
    if (!R.running || oa_map_get(&R.tasks, st->key))
        return; /* a paused task resumed through its sink */
    struct rec_config cfg;
    int64_t now = (int64_t)time(NULL);
    if (rec_config_match(st->domain, st->app, st->name, &cfg) != 0 || cfg.nformats == 0 ||
        (cfg.end_time && now >= cfg.end_time))
        return;
    if (cfg.on_demand != 0 && cfg.on_demand != 1 && cfg.on_demand != 2)
        return; /* 7: only RealTimeRecordCommand */
    if (cfg.on_demand == 2 && !wants_record_by_url(st))
        return;
    struct domain d;
    if (domain_get(st->domain, &d) != 0)
        return;
    struct task *t = task_new(st, d.account_id);
    if (cfg.start_time && now < cfg.start_time) {
        /* Published before the window opens: recording starts at StartTime if still live. */
        t->cfg = cfg;
        t->state = T_WAITING;
        hub_subscribe(t->domain, t->app, t->stream, &t->sink);
        t->start_timer = evtimer_new(oa_loop_base(), on_start_time, t);
        struct timeval tv = {(time_t)(cfg.start_time - now), 0};
        event_add(t->start_timer, &tv);
        oa_log(OA_LOG_INFO, "record: %s: recording starts at the config's StartTime, in %lld s",
               t->key, (long long)(cfg.start_time - now));
        return;
    }
    auto_start(t, st, &cfg);
}

static void obs_unpublish(struct hub_observer *o, struct hub_stream *st)
{
    /* Tasks learn about interruptions through their sinks. */
}

/* ---- commands ----------------------------------------------------------------- */

enum rec_cmd_result recorder_command(int64_t account_id, const char *domain, const char *app,
                                     const char *stream, const char *command)
{
    bool start = strcmp(command, "start") == 0, restart = strcmp(command, "restart") == 0;
    bool stop = strcmp(command, "stop") == 0 || strcmp(command, "cancel_delay") == 0;
    if (!start && !restart && !stop)
        return REC_CMD_BAD_COMMAND;
    struct hub_stream *st = hub_find(domain, app, stream);
    bool live = st && st->publisher;
    struct task *t = st ? oa_map_get(&R.tasks, st->key) : NULL;
    if (!t) {
        char key[768];
        oa_snprintf(key, sizeof(key), "%s/%s/%s", domain, app, stream);
        t = oa_map_get(&R.tasks, key);
    }
    if (stop && t) {
        task_end(t, command);
        return REC_CMD_OK;
    }
    if (!live)
        return REC_CMD_NO_STREAM;
    struct rec_config cfg;
    if (rec_config_match(domain, app, stream, &cfg) != 0)
        return REC_CMD_NO_CONFIG;
    if (stop)
        return REC_CMD_OK; /* nothing is recording: already stopped */
    if (t && t->state == T_RECORDING) {
        if (start)
            return REC_CMD_ALREADY_STARTED;
        rec_writer_cut(t->w);
        oa_log(OA_LOG_INFO, "record: %s: restart: new files from the next keyframe", t->key);
        return REC_CMD_OK;
    }
    /* What a recording started now could not write: refused rather than an empty success. */
    if (cfg.nformats == 0)
        return REC_CMD_NO_FORMAT;
    if (cfg.end_time && (int64_t)time(NULL) >= cfg.end_time)
        return REC_CMD_EXPIRED;
    if (t) {
        /* Pending on the OnDemandUrl or waiting for StartTime: the command decides instead. */
        rec_ondemand_cancel(t->od);
        t->od = NULL;
        if (t->start_timer) {
            event_free(t->start_timer);
            t->start_timer = NULL;
        }
    } else {
        t = task_new(st, account_id);
    }
    task_record(t, st, &cfg, true);
    return REC_CMD_OK;
}

bool recorder_active(const char *domain, const char *app, const char *stream)
{
    char key[768];
    oa_snprintf(key, sizeof(key), "%s/%s/%s", domain, app, stream);
    struct task *t = oa_map_get(&R.tasks, key);
    return t && (t->state == T_RECORDING || t->state == T_PAUSED);
}

/* ---- writer events ------------------------------------------------------------ */

/*
 * Writer events, in the order the writers posted them. Every open is
 * answered (rec_writer_ack): the writer creates the object only after its
 * row is in the index.
 */
static void on_wevent(struct rec_wevent *ev)
{
    const struct rec_file *f = &ev->file;
    switch (ev->kind) {
    case RW_FILE_OPEN: {
        bool ok = rec_index_insert(f) == 0;
        if (!ok)
            oa_log(OA_LOG_ERROR, "record: %s/%s/%s: cannot index a new %s file; not recording it",
                   f->domain, f->app, f->stream, f->format);
        else
            rec_fault("file_row");
        rec_writer_ack(ev, ok);
        break;
    }
    case RW_FILE_FINISH:
        rec_finish_begin(f, ev->playlist, ev->playlist_len, ev->video_frames, ev->audio_frames,
                         false);
        ev->playlist = NULL;
        break;
    case RW_SLICE_OPEN: {
        bool ok = rec_slice_insert(&ev->slice) == 0;
        if (!ok)
            oa_log(OA_LOG_ERROR, "record: %s/%s/%s: cannot index a new slice; the file ends",
                   ev->slice.domain, ev->slice.app, ev->slice.stream);
        else
            rec_fault("slice_row");
        rec_writer_ack(ev, ok);
        break;
    }
    case RW_SLICE_DONE:
        rec_slice_finish(ev->slice.file_record_id, ev->slice.object, ev->slice.duration);
        break;
    case RW_SLICE_DROP:
        rec_slice_delete(ev->slice.file_record_id, ev->slice.object);
        break;
    case RW_ERROR:
        oa_log(OA_LOG_WARN, "record: %s/%s/%s: %s", f->domain, f->app, f->stream, ev->message);
        if (f->domain[0])
            rec_notify_status(f->account_id, f->domain, f->app, f->stream, "record_error",
                              ev->message);
        break;
    }
    rec_wevent_free(ev);
}

/* ---- lifecycle ---------------------------------------------------------------- */

int recorder_init(void)
{
    int r;
    /* The storage is opened (and served) by the app before us. */
    OA_ASSERT(storage() != NULL);
    if ((r = rec_store_migrate()) != 0)
        return r;
    oa_map_init(&R.tasks);
    oa_map_init(&R.seqs);
    rec_fault_init();
    if ((r = rec_writers_start(oa_cfg.record_threads, on_wevent)) != 0)
        return r;
    if ((r = http_client_init()) != 0)
        return r;
    rec_notify_init();
    rec_recover_start();
    R.obs.on_publish = obs_publish;
    R.obs.on_unpublish = obs_unpublish;
    hub_add_observer(&R.obs);
    R.running = true;
    return 0;
}

void recorder_stop(void)
{
    if (!R.running)
        return;
    R.running = false;
    /* Callbacks from here on stay pending in the database for the next start. */
    rec_notify_stop();
    struct oa_map_iter it;
    oa_map_iter_init(&it, &R.tasks);
    while (oa_map_iter_next(&it)) {
        struct task *t = it.entry->value;
        oa_map_iter_remove(&it);
        if (t->w) {
            rec_writer_close(t->w);
            t->w = NULL;
        }
        if (t->sink.stream)
            hub_unsubscribe(&t->sink);
        task_free(t);
    }
    oa_map_free(&R.tasks);
    rec_writers_stop();
    oa_loop_drain_posts();
    http_client_stop();
    oa_map_iter_init(&it, &R.seqs);
    while (oa_map_iter_next(&it))
        oa_free(it.entry->value);
    oa_map_free(&R.seqs);
}
