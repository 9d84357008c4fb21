/* worker.c - a fixed thread pool with one bounded FIFO; results go back via oa_loop_post. */
#include "worker.h"
#include "alloc.h"
#include "err.h"
#include "log.h"

#include <pthread.h>

struct job {
    struct job *next;
    oa_loop_fn *work, *done;
    void *arg;
};

static struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t *threads;
    int nthreads;
    struct job *head, *tail;
    size_t njobs;
    bool stopping;
} W = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void *worker_main(void *arg)
{
    for (;;) {
        pthread_mutex_lock(&W.mu);
        while (!W.head && !W.stopping)
            pthread_cond_wait(&W.cv, &W.mu);
        struct job *j = W.head;
        if (!j) {
            pthread_mutex_unlock(&W.mu);
            return NULL;
        }
        W.head = j->next;
        if (!W.head)
            W.tail = NULL;
        W.njobs--;
        pthread_mutex_unlock(&W.mu);
        j->work(j->arg);
        if (j->done) {
            /* The loop's queue is far larger than ours; retry briefly if it is full. */
            while (oa_loop_post(j->done, j->arg) == OA_EBUSY)
                sched_yield();
        }
        oa_free(j);
    }
}

int oa_worker_start(int nthreads)
{
    W.threads = oa_calloc((size_t)nthreads, sizeof(*W.threads));
    W.stopping = false;
    for (int i = 0; i < nthreads; i++) {
        if (pthread_create(&W.threads[i], NULL, worker_main, NULL) != 0)
            return OA_EINVAL;
        W.nthreads++;
    }
    return 0;
}

void oa_worker_stop(void)
{
    pthread_mutex_lock(&W.mu);
    W.stopping = true;
    pthread_cond_broadcast(&W.cv);
    pthread_mutex_unlock(&W.mu);
    for (int i = 0; i < W.nthreads; i++)
        pthread_join(W.threads[i], NULL);
    oa_free(W.threads);
    W.threads = NULL;
    W.nthreads = 0;
}

int oa_worker_submit(oa_loop_fn *work, oa_loop_fn *done, void *arg)
{
    pthread_mutex_lock(&W.mu);
    if (W.njobs >= OA_WORKER_QUEUE_MAX || W.nthreads == 0) {
        pthread_mutex_unlock(&W.mu);
        return OA_EBUSY;
    }
    struct job *j = oa_malloc(sizeof(*j));
    j->next = NULL;
    j->work = work;
    j->done = done;
    j->arg = arg;
    if (W.tail)
        W.tail->next = j;
    else
        W.head = j;
    W.tail = j;
    W.njobs++;
    pthread_cond_signal(&W.cv);
    pthread_mutex_unlock(&W.mu);
    return 0;
}
