/*
 * Thread pool: runs blocking functions on worker threads and completes them
 * in the AioContext that owns the pool.
 *
 * One mutex protects the request queue, the completion list and the worker
 * accounting.  Workers are pthreads started when a request is queued and no
 * idle worker is left to take it; they leave after an idle timeout.  Finished
 * requests go on a completion list and a BH in the pool's context runs their
 * callbacks, sorted back into submission order.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include "block/thread-pool.h"
#include "qemu/error-report.h"

typedef enum {
    THREAD_POOL_QUEUED,     /* on request_list */
    THREAD_POOL_RUNNING,    /* a worker runs func */
    THREAD_POOL_DONE,       /* on done_list or ready_list */
} ThreadPoolState;

typedef struct ThreadPoolElement {
    BlockAIOCB common;              /* must be first: qemu_aio_get() */
    ThreadPool *pool;
    ThreadPoolFunc *func;
    void *arg;
    uint64_t seq;                   /* submission order */

    /* Protected by pool->lock. */
    ThreadPoolState state;
    int ret;
    QTAILQ_ENTRY(ThreadPoolElement) req_next;
    /* done_list (under the lock), then ready_list (context thread only). */
    QSIMPLEQ_ENTRY(ThreadPoolElement) done_next;
} ThreadPoolElement;

typedef struct ThreadPoolWorker {
    ThreadPool *pool;
    pthread_t thread;
    QLIST_ENTRY(ThreadPoolWorker) next;
} ThreadPoolWorker;

struct ThreadPool {
    AioContext *ctx;
    QEMUBH *completion_bh;

    pthread_mutex_t lock;
    pthread_cond_t request_cond;    /* idle workers wait here */
    pthread_cond_t exit_cond;       /* thread_pool_free() waits here */

    /* Everything below up to ready_list is protected by lock. */
    QTAILQ_HEAD(, ThreadPoolElement) request_list;
    QSIMPLEQ_HEAD(, ThreadPoolElement) done_list;
    bool bh_scheduled;              /* completion_bh will see done_list */
    uint64_t next_seq;

    QLIST_HEAD(, ThreadPoolWorker) workers;     /* running threads */
    QLIST_HEAD(, ThreadPoolWorker) exited;      /* to be joined */
    int nr_workers;
    int nr_idle;                    /* waiting on request_cond */
    int nr_wakeups;                 /* signals not yet consumed */
    int min_workers;
    int max_workers;
    int64_t idle_ns;
    bool stopping;

    /*
     * Completed requests whose callbacks are about to run; shared by nested
     * invocations of the BH so that a callback waiting (aio_cancel) for a
     * later request of the same batch still sees it completed.
     */
    QSIMPLEQ_HEAD(, ThreadPoolElement) ready_list;
};

static int64_t monotonic_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* ---- Workers ---- */

/*
 * Wait for work for up to the idle timeout.  Returns false when this worker
 * should exit because it stayed idle and the pool has more than min_workers.
 */
static bool thread_pool_wait_locked(ThreadPool *pool)
{
    int64_t idle_start = monotonic_ns();
    bool keep = true;

    pool->nr_idle++;
    for (;;) {
        int64_t deadline = idle_start + pool->idle_ns;
        struct timespec ts = {
            .tv_sec = deadline / 1000000000LL,
            .tv_nsec = deadline % 1000000000LL,
        };
        int64_t now;

        pthread_cond_timedwait(&pool->request_cond, &pool->lock, &ts);
        /*
         * Any wake-up (signal, timeout or spurious) takes one token: the
         * submitter only counts on us to look at the queue, which we do.
         */
        if (pool->nr_wakeups > 0) {
            pool->nr_wakeups--;
        }
        if (!QTAILQ_EMPTY(&pool->request_list) || pool->stopping ||
            pool->nr_workers > pool->max_workers) {
            break;
        }
        /* The timeout may have changed while we slept; re-read it. */
        now = monotonic_ns();
        if (now >= idle_start + pool->idle_ns) {
            if (pool->nr_workers > pool->min_workers) {
                keep = false;
                break;
            }
            idle_start = now;
        }
    }
    pool->nr_idle--;
    return keep;
}

static void *thread_pool_worker(void *opaque)
{
    ThreadPoolWorker *w = opaque;
    ThreadPool *pool = w->pool;

    pthread_setname_np(pthread_self(), "pool-worker");

    pthread_mutex_lock(&pool->lock);
    for (;;) {
        ThreadPoolElement *req;
        bool kick;
        int ret;

        if (pool->nr_workers > pool->max_workers) {
            break;                  /* the limit was lowered */
        }
        req = QTAILQ_FIRST(&pool->request_list);
        if (!req) {
            if (pool->stopping || !thread_pool_wait_locked(pool)) {
                break;
            }
            continue;
        }

        QTAILQ_REMOVE(&pool->request_list, req, req_next);
        req->state = THREAD_POOL_RUNNING;
        pthread_mutex_unlock(&pool->lock);

        ret = req->func(req->arg);

        pthread_mutex_lock(&pool->lock);
        req->ret = ret;
        req->state = THREAD_POOL_DONE;
        QSIMPLEQ_INSERT_TAIL(&pool->done_list, req, done_next);
        kick = !pool->bh_scheduled;
        pool->bh_scheduled = true;
        if (kick) {
            /* thread_pool_free() joins us first, so the BH is still alive. */
            pthread_mutex_unlock(&pool->lock);
            qemu_bh_schedule(pool->completion_bh);
            pthread_mutex_lock(&pool->lock);
        }
    }

    QLIST_REMOVE(w, next);
    QLIST_INSERT_HEAD(&pool->exited, w, next);
    pool->nr_workers--;
    if (pool->stopping) {
        pthread_cond_signal(&pool->exit_cond);
    }
    pthread_mutex_unlock(&pool->lock);
    return NULL;
}

/* Join workers that left on their own; they no longer touch the pool. */
static void thread_pool_reap_locked(ThreadPool *pool)
{
    ThreadPoolWorker *w, *next;

    QLIST_FOREACH_SAFE(w, &pool->exited, next, next) {
        QLIST_REMOVE(w, next);
        pthread_join(w->thread, NULL);
        g_free(w);
    }
}

static void thread_pool_spawn_locked(ThreadPool *pool)
{
    ThreadPoolWorker *w = g_new0(ThreadPoolWorker, 1);
    sigset_t set, old;
    int ret;

    thread_pool_reap_locked(pool);

    /*
     * Signals belong to the main loop: workers block the asynchronous ones
     * (faults stay deliverable so crashes are still reported).
     */
    sigfillset(&set);
    sigdelset(&set, SIGSEGV);
    sigdelset(&set, SIGBUS);
    sigdelset(&set, SIGFPE);
    sigdelset(&set, SIGILL);
    sigdelset(&set, SIGABRT);
    pthread_sigmask(SIG_SETMASK, &set, &old);

    w->pool = pool;
    ret = pthread_create(&w->thread, NULL, thread_pool_worker, w);
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    if (ret != 0) {
        g_free(w);
        if (pool->nr_workers == 0) {
            /* Nobody would ever run the queued request. */
            error_report("thread pool: cannot create a worker thread: %s",
                         strerror(ret));
            abort();
        }
        return;         /* the existing workers will get to it */
    }
    /* The new thread blocks on pool->lock until we drop it. */
    pool->nr_workers++;
    QLIST_INSERT_HEAD(&pool->workers, w, next);
}

/*
 * One more request is queued: start a worker, or return true if the caller
 * must wake an idle one with pthread_cond_signal() (after dropping the lock,
 * so the woken worker does not block again on the mutex we still hold).
 */
static bool thread_pool_kick_locked(ThreadPool *pool)
{
    if (pool->nr_idle > pool->nr_wakeups) {
        pool->nr_wakeups++;
        return true;
    }
    if (pool->nr_workers < pool->max_workers) {
        thread_pool_spawn_locked(pool);
    }
    return false;
}

/* ---- Completion ---- */

/* Stable merge sort of a NULL-terminated done_next chain by seq. */
static ThreadPoolElement *thread_pool_sort(ThreadPoolElement *list)
{
    ThreadPoolElement *slow, *fast, *second, *head = NULL;
    ThreadPoolElement **tail = &head;
    bool sorted = true;

    for (slow = list; slow && slow->done_next.sqe_next;
         slow = slow->done_next.sqe_next) {
        if (slow->seq > slow->done_next.sqe_next->seq) {
            sorted = false;
            break;
        }
    }
    if (sorted) {
        return list;        /* the common case: workers finished in order */
    }

    /* Split in halves. */
    slow = list;
    fast = list->done_next.sqe_next;
    while (fast && fast->done_next.sqe_next) {
        slow = slow->done_next.sqe_next;
        fast = fast->done_next.sqe_next->done_next.sqe_next;
    }
    second = slow->done_next.sqe_next;
    slow->done_next.sqe_next = NULL;

    list = thread_pool_sort(list);
    second = thread_pool_sort(second);
    while (list && second) {
        if (second->seq < list->seq) {
            *tail = second;
            second = second->done_next.sqe_next;
        } else {
            *tail = list;
            list = list->done_next.sqe_next;
        }
        tail = &(*tail)->done_next.sqe_next;
    }
    *tail = list ? list : second;
    return head;
}

/*
 * Runs the callbacks of a snapshot of the completed requests.  A callback
 * that submits more work does not recurse: the new completion re-schedules
 * this BH, which runs from the event loop again.
 */
static void thread_pool_completion_bh(void *opaque)
{
    ThreadPool *pool = opaque;
    ThreadPoolElement *batch, *req;

    pthread_mutex_lock(&pool->lock);
    pool->bh_scheduled = false;
    batch = QSIMPLEQ_FIRST(&pool->done_list);
    QSIMPLEQ_INIT(&pool->done_list);
    pthread_mutex_unlock(&pool->lock);

    batch = thread_pool_sort(batch);
    while (batch) {
        req = batch;
        batch = req->done_next.sqe_next;
        QSIMPLEQ_INSERT_TAIL(&pool->ready_list, req, done_next);
    }

    while ((req = QSIMPLEQ_FIRST(&pool->ready_list))) {
        QSIMPLEQ_REMOVE_HEAD(&pool->ready_list, done_next);
        if (req->common.cb) {
            req->common.cb(req->common.opaque, req->ret);
        }
        qemu_aio_unref(req);
    }
}

/* ---- AIOCB ---- */

static void thread_pool_cancel_async(BlockAIOCB *acb)
{
    ThreadPoolElement *req = container_of(acb, ThreadPoolElement, common);
    ThreadPool *pool = req->pool;
    bool kick = false;

    pthread_mutex_lock(&pool->lock);
    if (req->state == THREAD_POOL_QUEUED) {
        QTAILQ_REMOVE(&pool->request_list, req, req_next);
        req->state = THREAD_POOL_DONE;
        req->ret = -ECANCELED;
        QSIMPLEQ_INSERT_TAIL(&pool->done_list, req, done_next);
        kick = true;
    } else if (req->state == THREAD_POOL_DONE) {
        /*
         * Already completed, perhaps parked on ready_list behind the
         * callback that cancels it: make sure the BH runs again so that a
         * nested aio_poll() in aio_cancel() gets to it.
         */
        kick = true;
    }
    /* A running request completes normally. */
    if (kick) {
        pool->bh_scheduled = true;
    }
    pthread_mutex_unlock(&pool->lock);

    if (kick) {
        qemu_bh_schedule(pool->completion_bh);
    }
}

static AioContext *thread_pool_get_aio_context(BlockAIOCB *acb)
{
    ThreadPoolElement *req = container_of(acb, ThreadPoolElement, common);

    return req->pool->ctx;
}

static const AIOCBInfo thread_pool_aiocb_info = {
    .cancel_async = thread_pool_cancel_async,
    .get_aio_context = thread_pool_get_aio_context,
    .aiocb_size = sizeof(ThreadPoolElement),
};

/* ---- Submission ---- */

static ThreadPoolElement *thread_pool_submit_to(ThreadPool *pool,
                                                ThreadPoolFunc *func,
                                                void *arg,
                                                BlockCompletionFunc *cb,
                                                void *opaque)
{
    ThreadPoolElement *req;
    bool wake;

    req = qemu_aio_get(&thread_pool_aiocb_info, NULL, cb, opaque);
    req->pool = pool;
    req->func = func;
    req->arg = arg;
    req->state = THREAD_POOL_QUEUED;

    pthread_mutex_lock(&pool->lock);
    req->seq = pool->next_seq++;
    QTAILQ_INSERT_TAIL(&pool->request_list, req, req_next);
    wake = thread_pool_kick_locked(pool);
    pthread_mutex_unlock(&pool->lock);
    if (wake) {
        pthread_cond_signal(&pool->request_cond);
    }
    return req;
}

static ThreadPool *thread_pool_current(void)
{
    return aio_get_thread_pool(qemu_get_current_aio_context());
}

BlockAIOCB *thread_pool_submit_aio(ThreadPoolFunc *func, void *arg,
                                   BlockCompletionFunc *cb, void *opaque)
{
    return &thread_pool_submit_to(thread_pool_current(), func, arg,
                                  cb, opaque)->common;
}

void thread_pool_submit(ThreadPoolFunc *func, void *arg)
{
    thread_pool_submit_to(thread_pool_current(), func, arg, NULL, NULL);
}

typedef struct ThreadPoolCo {
    Coroutine *co;
    int ret;
    bool done;
} ThreadPoolCo;

static void thread_pool_co_cb(void *opaque, int ret)
{
    ThreadPoolCo *tpc = opaque;

    tpc->ret = ret;
    tpc->done = true;
    aio_co_wake(tpc->co);
}

int coroutine_fn thread_pool_submit_co(ThreadPoolFunc *func, void *arg)
{
    ThreadPoolCo tpc = { .co = qemu_coroutine_self(), .ret = -EINPROGRESS };

    g_assert(qemu_in_coroutine());
    /* The callback runs from the BH, never before we yield. */
    thread_pool_submit_to(thread_pool_current(), func, arg,
                          thread_pool_co_cb, &tpc);
    qemu_coroutine_yield();
    g_assert(tpc.done);
    return tpc.ret;
}

/* ---- Life cycle and tuning ---- */

ThreadPool *thread_pool_new(AioContext *ctx)
{
    ThreadPool *pool = g_new0(ThreadPool, 1);
    pthread_condattr_t attr;

    pool->ctx = ctx;
    pool->completion_bh = aio_bh_new(ctx, thread_pool_completion_bh, pool);
    pthread_mutex_init(&pool->lock, NULL);
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&pool->request_cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&pool->exit_cond, NULL);

    QTAILQ_INIT(&pool->request_list);
    QSIMPLEQ_INIT(&pool->done_list);
    QSIMPLEQ_INIT(&pool->ready_list);
    QLIST_INIT(&pool->workers);
    QLIST_INIT(&pool->exited);
    pool->min_workers = 0;
    pool->max_workers = THREAD_POOL_DEFAULT_MAX_WORKERS;
    pool->idle_ns = THREAD_POOL_DEFAULT_IDLE_NS;
    return pool;
}

void thread_pool_free(ThreadPool *pool)
{
    ThreadPoolElement *req;

    if (!pool) {
        return;
    }

    pthread_mutex_lock(&pool->lock);
    /*
     * The contract says nothing is pending any more; requests that were
     * never started are dropped without a callback (their context is going
     * away), running ones are waited for.
     */
    while ((req = QTAILQ_FIRST(&pool->request_list))) {
        QTAILQ_REMOVE(&pool->request_list, req, req_next);
        qemu_aio_unref(req);
    }
    pool->stopping = true;
    pthread_cond_broadcast(&pool->request_cond);
    while (pool->nr_workers > 0) {
        pthread_cond_wait(&pool->exit_cond, &pool->lock);
    }
    thread_pool_reap_locked(pool);
    pthread_mutex_unlock(&pool->lock);

    QSIMPLEQ_CONCAT(&pool->ready_list, &pool->done_list);
    while ((req = QSIMPLEQ_FIRST(&pool->ready_list))) {
        QSIMPLEQ_REMOVE_HEAD(&pool->ready_list, done_next);
        qemu_aio_unref(req);
    }

    qemu_bh_delete(pool->completion_bh);
    pthread_cond_destroy(&pool->exit_cond);
    pthread_cond_destroy(&pool->request_cond);
    pthread_mutex_destroy(&pool->lock);
    g_free(pool);
}

void thread_pool_set_workers(ThreadPool *pool, int min_workers,
                             int max_workers)
{
    int queued = 0;
    ThreadPoolElement *req;

    g_assert(min_workers >= 0 && max_workers >= 1);
    g_assert(min_workers <= max_workers);

    pthread_mutex_lock(&pool->lock);
    pool->min_workers = min_workers;
    pool->max_workers = max_workers;

    /* Surplus workers notice the lower limit when woken. */
    if (pool->nr_workers > max_workers) {
        pthread_cond_broadcast(&pool->request_cond);
    }

    /* A higher limit may let queued requests start now. */
    QTAILQ_FOREACH(req, &pool->request_list, req_next) {
        queued++;
    }
    while (pool->nr_workers < max_workers &&
           (pool->nr_workers < min_workers ||
            queued > pool->nr_idle - pool->nr_wakeups)) {
        int before = pool->nr_workers;

        thread_pool_spawn_locked(pool);
        if (pool->nr_workers == before) {
            break;          /* thread creation failed; keep what we have */
        }
        if (queued > 0) {
            queued--;
        }
    }
    pthread_mutex_unlock(&pool->lock);
}

void thread_pool_set_idle_timeout_ns(ThreadPool *pool, int64_t ns)
{
    g_assert(ns >= 0);

    pthread_mutex_lock(&pool->lock);
    pool->idle_ns = ns;
    /* Let idle workers recompute their deadline. */
    pthread_cond_broadcast(&pool->request_cond);
    pthread_mutex_unlock(&pool->lock);
}

int thread_pool_get_nr_workers(ThreadPool *pool)
{
    int n;

    pthread_mutex_lock(&pool->lock);
    n = pool->nr_workers;
    pthread_mutex_unlock(&pool->lock);
    return n;
}
