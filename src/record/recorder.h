/*
 * recorder.h - recording live streams: who records what and when.
 *
 * One task per stream being recorded. A task is a hub sink that forwards
 * packet references to a writer (writer.h) and a small state machine:
 *
 *   start (command, or automatic at publish per the config's OnDemand)
 *       -> RECORDING: the sink is primed with the metadata, the sequence
 *          headers and the cached GOP, so the files begin with the last
 *          keyframe before the start; every later packet is forwarded.
 *   stop / cancel_delay -> the files are finished at once and the task ends.
 *   restart -> the files are cut at the next keyframe and recording goes on
 *          in new files (nothing lost or written twice).
 *   the publisher leaves:
 *       manual (started by command) -> the files are finished, the task
 *          ends; a new publish records again only if the config records
 *          automatically;
 *       automatic -> PAUSED: files stay open for the config's DelayTime; a
 *          publish within it resumes the same files (record_resumed), with
 *          timestamps continuing where they stopped (the hub's rebase), and
 *          otherwise the files are finished when DelayTime ends.
 *   OnDemand 1 -> PENDING while the OnDemandUrl is asked, at the stream's
 *          first audio/video frame (so codec and rate are known).
 *   a publish before the config's StartTime -> WAITING until StartTime,
 *          then the automatic start above if the stream is still live.
 *
 * A writer that falls behind (record_queue_ms of media or its byte caps
 * queued) makes the task drop frames until the queue is half empty and a
 * keyframe comes, so the file stays decodable; it is logged and reported
 * as a record_error callback. The publisher and players never wait.
 *
 * Loop thread only.
 */
#ifndef OA_RECORD_RECORDER_H
#define OA_RECORD_RECORDER_H

#include "core/common.h"

/* Migrates the tables, starts writers, the HTTP client, callbacks and crash
 * recovery, and watches the hub. After storage_init_local, hub_init and
 * oa_worker_start. */
int recorder_init(void);
/* Finishes every recording (files closed, renamed, indexed) and stops the writers. */
void recorder_stop(void);

enum rec_cmd_result {
    REC_CMD_OK,
    REC_CMD_NO_STREAM,       /* not live (and nothing to stop) */
    REC_CMD_NO_CONFIG,       /* no effective record config */
    REC_CMD_ALREADY_STARTED, /* start while recording */
    REC_CMD_NO_FORMAT,       /* start: the config has no RecordFormat (transcoding only) */
    REC_CMD_EXPIRED,         /* start: the config's EndTime has passed */
    REC_CMD_BAD_COMMAND,
};

/* RealTimeRecordCommand: "start", "stop", "cancel_delay" or "restart". */
enum rec_cmd_result recorder_command(int64_t account_id, const char *domain, const char *app,
                                     const char *stream, const char *command);

/* True while domain/app/stream is recording or paused. */
bool recorder_active(const char *domain, const char *app, const char *stream);

#endif
