/*
 * worker.h - a small pool of threads for work that may block: SQLite
 * checkpoints, fsync, file finishing, anything that must stay off the loop.
 *
 * oa_worker_submit() queues work(arg) on a pool thread; when it returns,
 * done(arg) runs on the loop thread (if done is not NULL). The queue is
 * bounded (OA_WORKER_QUEUE_MAX); a full queue fails with OA_EBUSY.
 */
#ifndef OA_CORE_WORKER_H
#define OA_CORE_WORKER_H

#include "core/loop.h"

#define OA_WORKER_QUEUE_MAX 4096

int oa_worker_start(int nthreads);
/* Runs the queued jobs to the end, then joins the threads. */
void oa_worker_stop(void);
int oa_worker_submit(oa_loop_fn *work, oa_loop_fn *done, void *arg);

#endif
