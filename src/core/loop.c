/*
 * loop.c - the event loop: libevent iterations with turn-end hooks, and a
 * mutex-protected FIFO of closures from other threads, woken by
 * event_active() (libevent's pthread support makes that thread-safe).
 */
#include "loop.h"
#include "alloc.h"
#include "config.h"
#include "err.h"
#include "util.h"

#include <event2/event.h>
#include <event2/thread.h>
#include <pthread.h>
#include <stdatomic.h>

struct hook {
    oa_loop_fn *fn;
    void *arg;
};

struct post {
    struct post *next;
    oa_loop_fn *fn;
    void *arg;
};

static struct {
    struct event_base *base;
    struct event *wake;
    pthread_t thread;
    bool running;
    atomic_bool stop;
    struct hook *hooks;
    size_t nhooks, caphooks;
    pthread_mutex_t mu;
    struct post *head, *tail;
    size_t nposts;
    size_t nconns;
} L;

static void run_posts(evutil_socket_t fd, short what, void *arg)
{
    oa_loop_drain_posts();
}

int oa_loop_init(void)
{
    if (evthread_use_pthreads() != 0)
        return OA_EINVAL;
    struct event_config *cfg = event_config_new();
    /* Deliver signals and timers precisely; we only run on Linux (epoll). */
    event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
    L.base = event_base_new_with_config(cfg);
    event_config_free(cfg);
    if (!L.base)
        return OA_EINVAL;
    pthread_mutex_init(&L.mu, NULL);
    L.wake = event_new(L.base, -1, 0, run_posts, NULL);
    atomic_init(&L.stop, false);
    return 0;
}

void oa_loop_free(void)
{
    if (!L.base)
        return;
    oa_loop_drain_posts();
    event_free(L.wake);
    event_base_free(L.base);
    pthread_mutex_destroy(&L.mu);
    oa_free(L.hooks);
    memset(&L, 0, sizeof(L));
}

struct event_base *oa_loop_base(void)
{
    return L.base;
}

bool oa_loop_is_loop_thread(void)
{
    return !L.running || pthread_equal(pthread_self(), L.thread);
}

static void run_hooks(void)
{
    /* Hooks may unregister themselves, so walk by index over a stable count. */
    for (size_t i = 0; i < L.nhooks; i++)
        L.hooks[i].fn(L.hooks[i].arg);
}

int oa_loop_run(void)
{
    L.thread = pthread_self();
    L.running = true;
    while (!atomic_load(&L.stop)) {
        event_base_loop(L.base, EVLOOP_ONCE);
        run_hooks();
    }
    L.running = false;
    atomic_store(&L.stop, false);
    return 0;
}

static void noop(void *arg)
{
}

static void wake_up(evutil_socket_t fd, short what, void *arg)
{
}

bool oa_loop_run_until(bool (*done)(void *arg), void *arg, int ms)
{
    int64_t deadline = oa_mono_ms() + ms;
    /* A timer, so a turn with nothing else to do still ends by the deadline. */
    struct event *t = evtimer_new(L.base, wake_up, NULL);
    bool ok = done(arg);
    L.thread = pthread_self();
    L.running = true;
    while (!ok) {
        int64_t left = deadline - oa_mono_ms();
        if (left <= 0)
            break;
        struct timeval tv = {(time_t)(left / 1000), (suseconds_t)(left % 1000) * 1000};
        evtimer_add(t, &tv);
        event_base_loop(L.base, EVLOOP_ONCE);
        run_hooks();
        ok = done(arg);
    }
    L.running = false;
    event_free(t);
    return ok;
}

bool oa_conn_acquire(void)
{
    if (L.nconns >= (size_t)oa_cfg.max_connections)
        return false;
    L.nconns++;
    return true;
}

void oa_conn_release(void)
{
    OA_ASSERT(L.nconns > 0);
    L.nconns--;
}

size_t oa_conn_count(void)
{
    return L.nconns;
}

void oa_loop_stop(void)
{
    atomic_store(&L.stop, true);
    /* Wake a loop that is blocked in epoll_wait. */
    oa_loop_post(noop, NULL);
}

void oa_loop_on_turn_end(oa_loop_fn *fn, void *arg)
{
    if (L.nhooks == L.caphooks) {
        L.caphooks = L.caphooks ? 2 * L.caphooks : 8;
        L.hooks = oa_realloc(L.hooks, L.caphooks * sizeof(*L.hooks));
    }
    L.hooks[L.nhooks++] = (struct hook){fn, arg};
}

void oa_loop_off_turn_end(oa_loop_fn *fn, void *arg)
{
    for (size_t i = 0; i < L.nhooks; i++) {
        if (L.hooks[i].fn == fn && L.hooks[i].arg == arg) {
            memmove(&L.hooks[i], &L.hooks[i + 1], (L.nhooks - i - 1) * sizeof(*L.hooks));
            L.nhooks--;
            return;
        }
    }
}

int oa_loop_post(oa_loop_fn *fn, void *arg)
{
    struct post *p;
    bool first;

    pthread_mutex_lock(&L.mu);
    if (L.nposts >= OA_LOOP_POST_MAX) {
        pthread_mutex_unlock(&L.mu);
        return OA_EBUSY;
    }
    p = oa_malloc(sizeof(*p));
    p->next = NULL;
    p->fn = fn;
    p->arg = arg;
    if (L.tail)
        L.tail->next = p;
    else
        L.head = p;
    L.tail = p;
    first = L.nposts++ == 0;
    pthread_mutex_unlock(&L.mu);
    if (first)
        event_active(L.wake, EV_READ, 0);
    return 0;
}

void oa_loop_drain_posts(void)
{
    struct post *list;

    pthread_mutex_lock(&L.mu);
    list = L.head;
    L.head = L.tail = NULL;
    L.nposts = 0;
    pthread_mutex_unlock(&L.mu);
    while (list) {
        struct post *next = list->next;
        list->fn(list->arg);
        oa_free(list);
        list = next;
    }
}
