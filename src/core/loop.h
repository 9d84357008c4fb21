/*
 * loop.h - the one event-loop thread, and how other threads reach it.
 *
 * There is a single libevent base per process, owned by the thread that calls
 * oa_loop_run(). Every socket, timer and session belongs to it. The loop runs
 * one libevent iteration at a time and then calls the turn-end hooks: that is
 * where the hub flushes each player's pending packets with one writev, after
 * all the input of that turn has been processed.
 *
 * Other threads (recorder writers, studio workers) never touch loop-owned
 * objects; they call oa_loop_post() with a function that runs on the loop
 * thread soon after. The post queue is bounded: a full queue makes
 * oa_loop_post() fail, and the caller drops its work and reports it.
 */
#ifndef OA_CORE_LOOP_H
#define OA_CORE_LOOP_H

#include "common.h"

struct event_base;

typedef void oa_loop_fn(void *arg);

/* Creates the process's loop (enables libevent's pthread support first). */
int oa_loop_init(void);
void oa_loop_free(void);
struct event_base *oa_loop_base(void);
/* True on the loop thread (after oa_loop_run started), for assertions. */
bool oa_loop_is_loop_thread(void);

/* Runs until oa_loop_stop(); returns 0. */
int oa_loop_run(void);
/* Makes oa_loop_run() return after the current turn. Any thread. */
void oa_loop_stop(void);

/*
 * Runs loop turns (with the turn-end hooks) until done(arg) returns true or
 * ms have passed, for a shutdown that lets queued output go out. done is
 * checked after every turn. Returns true if done() was reached.
 */
bool oa_loop_run_until(bool (*done)(void *arg), void *arg, int ms);

/*
 * Media clients that hold a connection open (RTMP sessions, HTTP-FLV
 * players, held HLS playlist requests) count against max_connections.
 * oa_conn_acquire() takes one slot and returns true, or false when all are
 * taken; oa_conn_release() gives it back. Loop thread only.
 */
bool oa_conn_acquire(void);
void oa_conn_release(void);
size_t oa_conn_count(void);

/* Registers fn(arg) to run after every loop turn (loop thread only). */
void oa_loop_on_turn_end(oa_loop_fn *fn, void *arg);
void oa_loop_off_turn_end(oa_loop_fn *fn, void *arg);

/*
 * Queues fn(arg) to run on the loop thread. Any thread. Returns 0, or
 * OA_EBUSY when the queue holds OA_LOOP_POST_MAX entries (fn is not queued).
 */
#define OA_LOOP_POST_MAX 65536
int oa_loop_post(oa_loop_fn *fn, void *arg);

/* Runs every queued post now (the loop thread, during shutdown). */
void oa_loop_drain_posts(void);

#endif
