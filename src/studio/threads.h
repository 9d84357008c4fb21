/*
 * threads.h - the studio's worker threads: starting them, sleeping in them
 * until a deadline or a stop request, and knowing when they have all ended.
 *
 * Studio threads are detached: stopping an input or a scene only raises its
 * stop flag, so the event-loop thread never waits for a decoder or an
 * encoder to finish its current step. Each thread drops its own reference to
 * its object when it ends. studio_threads_wait() lets shutdown (and tests)
 * wait until every studio thread has really finished.
 */
#ifndef OA_STUDIO_THREADS_H
#define OA_STUDIO_THREADS_H

#include "core/common.h"

#include <pthread.h>
#include <stdatomic.h>

/* Starts fn(arg) on a new detached thread; 0 or -errno. Any thread. */
int studio_thread_spawn(void (*fn)(void *arg), void *arg, const char *name);
/* Studio threads currently running. Any thread. */
int studio_threads_running(void);
/* Waits until no studio thread runs; 0, or OA_EBUSY after timeout_ms. Any thread. */
int studio_threads_wait(int timeout_ms);

/* A mutex + condition variable on CLOCK_MONOTONIC with a stop flag. */
struct studio_waiter {
    pthread_mutex_t mu;
    pthread_cond_t cond;
    atomic_bool stop;
};

void studio_waiter_init(struct studio_waiter *w);
void studio_waiter_destroy(struct studio_waiter *w);
/* Raises the stop flag and wakes the sleeper. Any thread. */
void studio_waiter_stop(struct studio_waiter *w);
/* Wakes the sleeper without stopping it. Any thread. */
void studio_waiter_wake(struct studio_waiter *w);
/*
 * Sleeps until the CLOCK_MONOTONIC time deadline_ns, a wake-up or a stop.
 * Returns true if stop was requested. Called without w->mu held.
 */
bool studio_waiter_sleep_until(struct studio_waiter *w, int64_t deadline_ns);

/* CLOCK_MONOTONIC in nanoseconds. */
int64_t studio_mono_ns(void);

#endif
