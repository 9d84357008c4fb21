/*
 * threads.c - detached studio threads with a global count (a mutex and a
 * condition variable, so a waiter sleeps instead of polling), and a
 * monotonic-clock sleep that a stop request interrupts.
 */
#include "threads.h"
#include "core/alloc.h"
#include "core/err.h"

#include <errno.h>
#include <time.h>

static pthread_mutex_t count_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t count_cond = PTHREAD_COND_INITIALIZER;
static int count;

struct start {
    void (*fn)(void *arg);
    void *arg;
    char name[16];
};

static void *trampoline(void *p)
{
    struct start s = *(struct start *)p;
    oa_free(p);
    pthread_setname_np(pthread_self(), s.name);
    s.fn(s.arg);
    pthread_mutex_lock(&count_mu);
    if (--count == 0)
        pthread_cond_broadcast(&count_cond);
    pthread_mutex_unlock(&count_mu);
    return NULL;
}

int studio_thread_spawn(void (*fn)(void *arg), void *arg, const char *name)
{
    struct start *s = oa_malloc(sizeof(*s));
    s->fn = fn;
    s->arg = arg;
    snprintf(s->name, sizeof(s->name), "%s", name);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_mutex_lock(&count_mu);
    count++;
    pthread_mutex_unlock(&count_mu);
    pthread_t t;
    int r = pthread_create(&t, &attr, trampoline, s);
    pthread_attr_destroy(&attr);
    if (r != 0) {
        oa_free(s);
        pthread_mutex_lock(&count_mu);
        if (--count == 0)
            pthread_cond_broadcast(&count_cond);
        pthread_mutex_unlock(&count_mu);
        return -r;
    }
    return 0;
}

int studio_threads_running(void)
{
    pthread_mutex_lock(&count_mu);
    int n = count;
    pthread_mutex_unlock(&count_mu);
    return n;
}

int studio_threads_wait(int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    int r = 0;
    pthread_mutex_lock(&count_mu);
    while (count > 0 && r == 0)
        r = pthread_cond_timedwait(&count_cond, &count_mu, &ts);
    int left = count;
    pthread_mutex_unlock(&count_mu);
    return left ? OA_EBUSY : 0;
}

void studio_waiter_init(struct studio_waiter *w)
{
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cond, &ca);
    pthread_condattr_destroy(&ca);
    atomic_init(&w->stop, false);
}

void studio_waiter_destroy(struct studio_waiter *w)
{
    pthread_cond_destroy(&w->cond);
    pthread_mutex_destroy(&w->mu);
}

void studio_waiter_stop(struct studio_waiter *w)
{
    pthread_mutex_lock(&w->mu);
    atomic_store(&w->stop, true);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

void studio_waiter_wake(struct studio_waiter *w)
{
    pthread_mutex_lock(&w->mu);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->mu);
}

bool studio_waiter_sleep_until(struct studio_waiter *w, int64_t deadline_ns)
{
    struct timespec ts = {(time_t)(deadline_ns / 1000000000), (long)(deadline_ns % 1000000000)};
    pthread_mutex_lock(&w->mu);
    if (!atomic_load(&w->stop) && studio_mono_ns() < deadline_ns)
        pthread_cond_timedwait(&w->cond, &w->mu, &ts);
    bool stop = atomic_load(&w->stop);
    pthread_mutex_unlock(&w->mu);
    return stop;
}

int64_t studio_mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}
