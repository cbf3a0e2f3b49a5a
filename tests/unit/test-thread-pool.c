/*
 * Thread pool tests: where work and completions run, ordering, worker
 * limits and idle exit, cancellation, deep submit-from-callback chains.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <pthread.h>
#include "block/thread-pool.h"
#include "qapi/error.h"
#include "qemu/iothread.h"
#include "qemu/main-loop.h"

/* Generous: only reached when something is broken. */
#define DEADLINE_NS (30LL * 1000 * 1000 * 1000)

static pthread_t main_thread;

static bool in_main_thread(void)
{
    return pthread_equal(pthread_self(), main_thread);
}

/*
 * Each test runs in a fresh context (and so a fresh pool) made the main
 * thread's default; dropping it at the end exercises thread_pool_free().
 */
static AioContext *test_ctx_new(void)
{
    AioContext *ctx = aio_context_new(&error_abort);

    aio_context_set_thread_default(ctx);
    g_assert(qemu_get_current_aio_context() == ctx);
    return ctx;
}

static void test_ctx_free(AioContext *ctx)
{
    /* Let completions of fire-and-forget work run before the pool goes. */
    while (aio_poll(ctx, false)) {
        /* nothing */
    }
    aio_context_set_thread_default(NULL);
    aio_context_unref(ctx);
}

/* Wait (without an event loop) until *p reaches val. */
static void wait_for_int(int *p, int val)
{
    int64_t deadline = get_clock_ns() + DEADLINE_NS;

    while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != val) {
        g_assert_cmpint(get_clock_ns(), <, deadline);
        g_usleep(1000);
    }
}

/* ---- A gate that blocking jobs wait on ---- */

typedef struct Gate {
    GMutex lock;
    GCond cond;
    bool open;
} Gate;

static void gate_init(Gate *g)
{
    g_mutex_init(&g->lock);
    g_cond_init(&g->cond);
    g->open = false;
}

static void gate_wait(Gate *g)
{
    g_mutex_lock(&g->lock);
    while (!g->open) {
        g_cond_wait(&g->cond, &g->lock);
    }
    g_mutex_unlock(&g->lock);
}

static void gate_open(Gate *g)
{
    g_mutex_lock(&g->lock);
    g->open = true;
    g_cond_broadcast(&g->cond);
    g_mutex_unlock(&g->lock);
}

static void gate_destroy(Gate *g)
{
    g_mutex_clear(&g->lock);
    g_cond_clear(&g->cond);
}

/* ---- Generic jobs ---- */

typedef struct Job {
    int idx;
    int ret;
    bool done;
    bool ran;
    Gate *gate;             /* if set, the job blocks on it */
    int result;             /* what func returns */
    AioContext *ctx;        /* where the completion must run */
    pthread_t thread;       /* and in which thread */
    int *started;           /* counter bumped when func starts */
    int *running;           /* current/peak concurrency */
    int *peak;
    int *finished;          /* counter bumped when func returns */
    int *order;             /* start order log */
    int *order_pos;
} Job;

static int job_func(void *opaque)
{
    Job *j = opaque;

    g_assert(!in_main_thread());
    j->ran = true;
    if (j->order) {
        int pos = __atomic_fetch_add(j->order_pos, 1, __ATOMIC_SEQ_CST);
        j->order[pos] = j->idx;
    }
    if (j->started) {
        __atomic_fetch_add(j->started, 1, __ATOMIC_SEQ_CST);
    }
    if (j->running) {
        int now = __atomic_add_fetch(j->running, 1, __ATOMIC_SEQ_CST);
        int peak = __atomic_load_n(j->peak, __ATOMIC_SEQ_CST);

        while (now > peak &&
               !__atomic_compare_exchange_n(j->peak, &peak, now, false,
                                            __ATOMIC_SEQ_CST,
                                            __ATOMIC_SEQ_CST)) {
            /* peak reloaded */
        }
    }
    if (j->gate) {
        gate_wait(j->gate);
    }
    if (j->running) {
        __atomic_fetch_sub(j->running, 1, __ATOMIC_SEQ_CST);
    }
    if (j->finished) {
        __atomic_fetch_add(j->finished, 1, __ATOMIC_SEQ_CST);
    }
    return j->result;
}

static int completed;
static int *done_order;

static void job_cb(void *opaque, int ret)
{
    Job *j = opaque;

    g_assert(qemu_get_current_aio_context() == j->ctx);
    g_assert(pthread_equal(pthread_self(), j->thread));
    g_assert(!j->done);
    j->ret = ret;
    j->done = true;
    if (done_order) {
        done_order[completed] = j->idx;
    }
    completed++;
}

static void job_init(Job *j, int idx, AioContext *ctx)
{
    memset(j, 0, sizeof(*j));
    j->idx = idx;
    j->result = idx;
    j->ret = -EINPROGRESS;
    j->ctx = ctx;
    j->thread = pthread_self();
}

/* ---- Coroutine submission ---- */

#define N_CO_JOBS 1000

static int co_done;

static void coroutine_fn co_job_entry(void *opaque)
{
    Job *j = opaque;
    int ret;

    g_assert(qemu_in_coroutine());
    ret = thread_pool_submit_co(job_func, j);
    g_assert(qemu_get_current_aio_context() == j->ctx);
    g_assert(qemu_coroutine_get_aio_context(qemu_coroutine_self()) == j->ctx);
    g_assert(pthread_equal(pthread_self(), j->thread));
    j->ret = ret;
    j->done = true;
    co_done++;
}

static void test_submit_co(void)
{
    AioContext *ctx = test_ctx_new();
    Job *jobs = g_new(Job, N_CO_JOBS);
    int finished = 0;
    int i;

    co_done = 0;
    for (i = 0; i < N_CO_JOBS; i++) {
        job_init(&jobs[i], i, ctx);
        jobs[i].result = i * 3;
        jobs[i].finished = &finished;
    }
    /* All 1000 are in flight at once: each coroutine yields in submit. */
    for (i = 0; i < N_CO_JOBS; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(co_job_entry, &jobs[i]));
    }
    AIO_WAIT_WHILE(ctx, co_done < N_CO_JOBS);

    g_assert_cmpint(finished, ==, N_CO_JOBS);
    for (i = 0; i < N_CO_JOBS; i++) {
        g_assert_true(jobs[i].done);
        g_assert_true(jobs[i].ran);
        g_assert_cmpint(jobs[i].ret, ==, i * 3);
    }
    g_assert_cmpint(thread_pool_get_nr_workers(aio_get_thread_pool(ctx)),
                    <=, THREAD_POOL_DEFAULT_MAX_WORKERS);
    g_assert_cmpint(thread_pool_get_nr_workers(aio_get_thread_pool(ctx)),
                    >=, 1);
    g_free(jobs);
    test_ctx_free(ctx);
}

/* ---- Callback submission ---- */

static void test_submit_aio(void)
{
    AioContext *ctx = test_ctx_new();
    enum { N = 200 };
    Job jobs[N];
    int i;

    completed = 0;
    for (i = 0; i < N; i++) {
        job_init(&jobs[i], i, ctx);
        jobs[i].result = 1000 + i;
        g_assert_nonnull(thread_pool_submit_aio(job_func, &jobs[i],
                                                job_cb, &jobs[i]));
    }
    /* Callbacks only ever run from this context's loop. */
    for (i = 0; i < N; i++) {
        g_assert_false(jobs[i].done);
    }
    AIO_WAIT_WHILE(ctx, completed < N);
    for (i = 0; i < N; i++) {
        g_assert_true(jobs[i].done);
        g_assert_cmpint(jobs[i].ret, ==, 1000 + i);
    }
    test_ctx_free(ctx);
}

/* ---- Errors ---- */

static int err_done;

static void coroutine_fn co_err_entry(void *opaque)
{
    Job *j = opaque;

    j->ret = thread_pool_submit_co(job_func, j);
    j->done = true;
    err_done++;
}

static void test_errors(void)
{
    AioContext *ctx = test_ctx_new();
    static const int results[] = { -EIO, -ENOSPC, -EINVAL, 0, 4096 };
    Job co_jobs[ARRAY_SIZE(results)], aio_jobs[ARRAY_SIZE(results)];
    int i, n = ARRAY_SIZE(results);

    err_done = 0;
    completed = 0;
    for (i = 0; i < n; i++) {
        job_init(&co_jobs[i], i, ctx);
        co_jobs[i].result = results[i];
        qemu_coroutine_enter(qemu_coroutine_create(co_err_entry,
                                                   &co_jobs[i]));
        job_init(&aio_jobs[i], i, ctx);
        aio_jobs[i].result = results[i];
        thread_pool_submit_aio(job_func, &aio_jobs[i], job_cb, &aio_jobs[i]);
    }
    AIO_WAIT_WHILE(ctx, err_done < n || completed < n);
    for (i = 0; i < n; i++) {
        g_assert_cmpint(co_jobs[i].ret, ==, results[i]);
        g_assert_cmpint(aio_jobs[i].ret, ==, results[i]);
    }
    test_ctx_free(ctx);
}

/* ---- IOThread ---- */

typedef struct IOThreadTest {
    AioContext *io_ctx;
    AioContext *main_ctx;
    pthread_t io_thread;
    int thread_known;
    Job jobs[50];
    Job aio_job;
    bool done;
} IOThreadTest;

static void record_thread_bh(void *opaque)
{
    IOThreadTest *t = opaque;

    t->io_thread = pthread_self();
    __atomic_store_n(&t->thread_known, 1, __ATOMIC_RELEASE);
}

static void iothread_done_bh(void *opaque)
{
    IOThreadTest *t = opaque;

    g_assert(in_main_thread());
    t->done = true;
}

static void iothread_aio_cb(void *opaque, int ret)
{
    IOThreadTest *t = opaque;

    job_cb(&t->aio_job, ret);
    /* Report back to the main thread's loop. */
    aio_bh_schedule_oneshot(t->main_ctx, iothread_done_bh, t);
}

static void coroutine_fn iothread_co_entry(void *opaque)
{
    IOThreadTest *t = opaque;
    int i;

    g_assert(pthread_equal(pthread_self(), t->io_thread));
    g_assert(qemu_get_current_aio_context() == t->io_ctx);
    for (i = 0; i < ARRAY_SIZE(t->jobs); i++) {
        Job *j = &t->jobs[i];

        job_init(j, i, t->io_ctx);
        j->result = -i;
        j->ret = thread_pool_submit_co(job_func, j);
        /* Woken in the IOThread, not in the main thread. */
        g_assert(pthread_equal(pthread_self(), t->io_thread));
        g_assert(qemu_get_current_aio_context() == t->io_ctx);
        g_assert_cmpint(j->ret, ==, -i);
    }
    job_init(&t->aio_job, 99, t->io_ctx);
    t->aio_job.result = 99;
    thread_pool_submit_aio(job_func, &t->aio_job, iothread_aio_cb, t);
}

static void test_iothread(void)
{
    AioContext *ctx = test_ctx_new();
    IOThread *iothread = iothread_create("tp-test", &error_abort);
    IOThreadTest *t = g_new0(IOThreadTest, 1);

    t->io_ctx = iothread_get_aio_context(iothread);
    t->main_ctx = ctx;
    g_assert(t->io_ctx != ctx);

    aio_bh_schedule_oneshot(t->io_ctx, record_thread_bh, t);
    wait_for_int(&t->thread_known, 1);
    g_assert_false(pthread_equal(t->io_thread, main_thread));

    aio_co_schedule(t->io_ctx,
                    qemu_coroutine_create(iothread_co_entry, t));
    AIO_WAIT_WHILE(ctx, !t->done);

    g_assert_true(t->aio_job.done);
    g_assert_cmpint(t->aio_job.ret, ==, 99);
    g_assert(pthread_equal(t->aio_job.thread, t->io_thread));

    iothread_destroy(iothread);
    g_free(t);
    test_ctx_free(ctx);
}

/* ---- FIFO with a single worker ---- */

static void test_fifo(void)
{
    AioContext *ctx = test_ctx_new();
    ThreadPool *pool = aio_get_thread_pool(ctx);
    enum { N = 64 };
    Job jobs[N];
    int order[N], dorder[N];
    int order_pos = 0, started = 0;
    Gate gate;
    int i;

    gate_init(&gate);
    thread_pool_set_workers(pool, 0, 1);
    completed = 0;
    done_order = dorder;

    for (i = 0; i < N; i++) {
        job_init(&jobs[i], i, ctx);
        jobs[i].order = order;
        jobs[i].order_pos = &order_pos;
        jobs[i].started = &started;
        if (i == 0) {
            /* Hold the only worker so that everything else queues up. */
            jobs[0].gate = &gate;
        }
        thread_pool_submit_aio(job_func, &jobs[i], job_cb, &jobs[i]);
    }
    g_assert_cmpint(thread_pool_get_nr_workers(pool), ==, 1);
    gate_open(&gate);
    AIO_WAIT_WHILE(ctx, completed < N);

    g_assert_cmpint(order_pos, ==, N);
    g_assert_cmpint(thread_pool_get_nr_workers(pool), ==, 1);
    for (i = 0; i < N; i++) {
        g_assert_cmpint(order[i], ==, i);
        /* One worker completes in order, so callbacks are in order too. */
        g_assert_cmpint(dorder[i], ==, i);
        g_assert_cmpint(jobs[i].ret, ==, i);
    }
    done_order = NULL;
    gate_destroy(&gate);
    test_ctx_free(ctx);
}

/* ---- Worker limit ---- */

static void test_max_workers(void)
{
    AioContext *ctx = test_ctx_new();
    ThreadPool *pool = aio_get_thread_pool(ctx);
    enum { N = 200, MAX = THREAD_POOL_DEFAULT_MAX_WORKERS };
    Job *jobs = g_new(Job, N);
    int running = 0, peak = 0, started = 0;
    Gate gate;
    int i;

    gate_init(&gate);
    completed = 0;
    for (i = 0; i < N; i++) {
        job_init(&jobs[i], i, ctx);
        jobs[i].gate = &gate;
        jobs[i].running = &running;
        jobs[i].peak = &peak;
        jobs[i].started = &started;
        thread_pool_submit_aio(job_func, &jobs[i], job_cb, &jobs[i]);
        g_assert_cmpint(thread_pool_get_nr_workers(pool), <=, MAX);
    }

    /* Exactly MAX jobs get a worker; the rest stay queued. */
    wait_for_int(&started, MAX);
    g_assert_cmpint(thread_pool_get_nr_workers(pool), ==, MAX);
    g_usleep(50 * 1000);
    g_assert_cmpint(__atomic_load_n(&started, __ATOMIC_SEQ_CST), ==, MAX);
    g_assert_cmpint(thread_pool_get_nr_workers(pool), ==, MAX);

    gate_open(&gate);
    while (completed < N) {
        aio_poll(ctx, true);
        g_assert_cmpint(thread_pool_get_nr_workers(pool), <=, MAX);
    }
    g_assert_cmpint(peak, ==, MAX);
    g_assert_cmpint(running, ==, 0);
    for (i = 0; i < N; i++) {
        g_assert_cmpint(jobs[i].ret, ==, i);
    }
    g_free(jobs);
    gate_destroy(&gate);
    test_ctx_free(ctx);
}

/* Lowering and raising the limit while work is queued. */
static void test_change_limits(void)
{
    AioContext *ctx = test_ctx_new();
    ThreadPool *pool = aio_get_thread_pool(ctx);
    enum { N = 16 };
    Job jobs[N];
    int started = 0, running = 0, peak = 0;
    Gate gate;
    int i;

    gate_init(&gate);
    completed = 0;
    thread_pool_set_workers(pool, 0, 2);
    for (i = 0; i < N; i++) {
        job_init(&jobs[i], i, ctx);
        jobs[i].gate = &gate;
        jobs[i].started = &started;
        jobs[i].running = &running;
        jobs[i].peak = &peak;
        thread_pool_submit_aio(job_func, &jobs[i], job_cb, &jobs[i]);
    }
    wait_for_int(&started, 2);
    g_assert_cmpint(thread_pool_get_nr_workers(pool), ==, 2);

    /* A higher limit starts workers for the queued requests at once. */
    thread_pool_set_workers(pool, 0, 6);
    wait_for_int(&started, 6);
    g_assert_cmpint(thread_pool_get_nr_workers(pool), ==, 6);

    /* A lower limit makes the surplus leave once their job is done. */
    thread_pool_set_workers(pool, 0, 1);
    gate_open(&gate);
    AIO_WAIT_WHILE(ctx, completed < N);
    g_assert_cmpint(peak, ==, 6);
    {
        int64_t deadline = get_clock_ns() + DEADLINE_NS;

        while (thread_pool_get_nr_workers(pool) > 1) {
            g_assert_cmpint(get_clock_ns(), <, deadline);
            g_usleep(1000);
        }
    }
    gate_destroy(&gate);
    test_ctx_free(ctx);
}

/* ---- Idle exit ---- */

static void wait_for_workers(ThreadPool *pool, int n)
{
    int64_t deadline = get_clock_ns() + DEADLINE_NS;

    while (thread_pool_get_nr_workers(pool) != n) {
        g_assert_cmpint(get_clock_ns(), <, deadline);
        g_usleep(1000);
    }
}

static void run_blocking_batch(AioContext *ctx, int n)
{
    Job *jobs = g_new(Job, n);
    int started = 0;
    Gate gate;
    int i;

    gate_init(&gate);
    completed = 0;
    for (i = 0; i < n; i++) {
        job_init(&jobs[i], i, ctx);
        jobs[i].gate = &gate;
        jobs[i].started = &started;
        thread_pool_submit_aio(job_func, &jobs[i], job_cb, &jobs[i]);
    }
    /* All n running at once means n workers. */
    wait_for_int(&started, n);
    g_assert_cmpint(thread_pool_get_nr_workers(aio_get_thread_pool(ctx)),
                    ==, n);
    gate_open(&gate);
    AIO_WAIT_WHILE(ctx, completed < n);
    gate_destroy(&gate);
    g_free(jobs);
}

static void test_idle_timeout(void)
{
    AioContext *ctx = test_ctx_new();
    ThreadPool *pool = aio_get_thread_pool(ctx);
    const int64_t idle_ns = 20 * 1000 * 1000;

    thread_pool_set_idle_timeout_ns(pool, idle_ns);
    thread_pool_set_workers(pool, 0, 8);
    run_blocking_batch(ctx, 8);
    wait_for_workers(pool, 0);

    /* The pool starts workers again after they all left. */
    run_blocking_batch(ctx, 3);

    /* min_workers are started at once and survive idling. */
    thread_pool_set_workers(pool, 2, 8);
    g_assert_cmpint(thread_pool_get_nr_workers(pool), >=, 2);
    run_blocking_batch(ctx, 8);
    wait_for_workers(pool, 2);
    g_usleep(10 * idle_ns / 1000);
    g_assert_cmpint(thread_pool_get_nr_workers(pool), ==, 2);

    /* Lowering min lets the rest go. */
    thread_pool_set_workers(pool, 0, 8);
    wait_for_workers(pool, 0);
    test_ctx_free(ctx);
}

/* A long timeout is honoured: workers do not leave early. */
static void test_idle_not_early(void)
{
    AioContext *ctx = test_ctx_new();
    ThreadPool *pool = aio_get_thread_pool(ctx);

    thread_pool_set_idle_timeout_ns(pool, 60LL * 1000 * 1000 * 1000);
    run_blocking_batch(ctx, 4);
    g_usleep(100 * 1000);
    g_assert_cmpint(thread_pool_get_nr_workers(pool), ==, 4);
    /* Shortening the timeout applies to workers already idle. */
    thread_pool_set_idle_timeout_ns(pool, 1000 * 1000);
    wait_for_workers(pool, 0);
    test_ctx_free(ctx);
}

/* ---- Cancellation ---- */

static void test_cancel_async(void)
{
    AioContext *ctx = test_ctx_new();
    ThreadPool *pool = aio_get_thread_pool(ctx);
    Job a, b, c;
    BlockAIOCB *acb_a, *acb_b;
    int started = 0;
    Gate gate;

    gate_init(&gate);
    thread_pool_set_workers(pool, 0, 1);
    completed = 0;

    job_init(&a, 0, ctx);
    a.result = 42;
    a.gate = &gate;
    a.started = &started;
    acb_a = thread_pool_submit_aio(job_func, &a, job_cb, &a);
    wait_for_int(&started, 1);

    job_init(&b, 1, ctx);
    b.result = 7;
    acb_b = thread_pool_submit_aio(job_func, &b, job_cb, &b);
    job_init(&c, 2, ctx);
    c.result = 8;
    thread_pool_submit_aio(job_func, &c, job_cb, &c);

    /* b has not started (the only worker is busy): it is dropped. */
    aio_cancel_async(acb_b);
    g_assert_false(b.done);         /* the callback comes from the loop */
    AIO_WAIT_WHILE(ctx, !b.done);
    g_assert_cmpint(b.ret, ==, -ECANCELED);
    g_assert_false(b.ran);

    /* a is running: cancelling it has no effect on its result. */
    aio_cancel_async(acb_a);
    gate_open(&gate);
    AIO_WAIT_WHILE(ctx, completed < 3);
    g_assert_true(a.ran);
    g_assert_cmpint(a.ret, ==, 42);
    g_assert_cmpint(c.ret, ==, 8);
    g_assert_false(b.ran);
    gate_destroy(&gate);
    test_ctx_free(ctx);
}

static gpointer open_gate_later(gpointer opaque)
{
    g_usleep(20 * 1000);
    gate_open(opaque);
    return NULL;
}

static void test_cancel_sync(void)
{
    AioContext *ctx = test_ctx_new();
    ThreadPool *pool = aio_get_thread_pool(ctx);
    Job a, b, blocker;
    BlockAIOCB *acb;
    int started = 0;
    Gate gate, gate2;
    GThread *t;

    gate_init(&gate);
    gate_init(&gate2);
    thread_pool_set_workers(pool, 0, 1);
    completed = 0;

    /* Running request: aio_cancel() waits for its real completion. */
    job_init(&a, 0, ctx);
    a.result = 42;
    a.gate = &gate;
    a.started = &started;
    acb = thread_pool_submit_aio(job_func, &a, job_cb, &a);
    wait_for_int(&started, 1);
    t = g_thread_new("opener", open_gate_later, &gate);
    aio_cancel(acb);
    g_assert_true(a.done);
    g_assert_cmpint(a.ret, ==, 42);
    g_thread_join(t);

    /* Queued request: aio_cancel() returns with it cancelled. */
    job_init(&blocker, 1, ctx);
    blocker.gate = &gate2;
    blocker.started = &started;
    thread_pool_submit_aio(job_func, &blocker, job_cb, &blocker);
    wait_for_int(&started, 2);
    job_init(&b, 2, ctx);
    acb = thread_pool_submit_aio(job_func, &b, job_cb, &b);
    aio_cancel(acb);
    g_assert_true(b.done);
    g_assert_cmpint(b.ret, ==, -ECANCELED);
    g_assert_false(b.ran);
    g_assert_false(blocker.done);

    gate_open(&gate2);
    AIO_WAIT_WHILE(ctx, !blocker.done);
    g_assert_cmpint(blocker.ret, ==, 1);
    gate_destroy(&gate);
    gate_destroy(&gate2);
    test_ctx_free(ctx);
}

/*
 * A callback cancels a request that completed in the same batch: its
 * callback has not run yet, and aio_cancel() must still get to it.
 */
typedef struct CancelInCb {
    Job first, second;
    BlockAIOCB *second_acb;
} CancelInCb;

static void cancel_other_cb(void *opaque, int ret)
{
    CancelInCb *s = opaque;

    job_cb(&s->first, ret);
    g_assert_false(s->second.done);
    aio_cancel(s->second_acb);
    g_assert_true(s->second.done);
    g_assert_cmpint(s->second.ret, ==, 5);
}

static void test_cancel_in_callback(void)
{
    AioContext *ctx = test_ctx_new();
    CancelInCb s;
    int finished = 0;

    completed = 0;
    job_init(&s.first, 0, ctx);
    s.first.finished = &finished;
    job_init(&s.second, 1, ctx);
    s.second.result = 5;
    s.second.finished = &finished;
    thread_pool_submit_aio(job_func, &s.first, cancel_other_cb, &s);
    s.second_acb = thread_pool_submit_aio(job_func, &s.second,
                                          job_cb, &s.second);
    /* Both finish before the loop runs, so they form one batch. */
    wait_for_int(&finished, 2);
    AIO_WAIT_WHILE(ctx, completed < 2);
    g_assert_true(s.first.done);
    g_assert_true(s.second.done);
    test_ctx_free(ctx);
}

/* ---- Deep submit-from-callback chain ---- */

#define CHAIN_LEN 100000

typedef struct Chain {
    int count;
    uintptr_t lo, hi;       /* callback frame addresses seen */
} Chain;

static int nop_func(void *opaque)
{
    return 0;
}

static void chain_cb(void *opaque, int ret)
{
    Chain *c = opaque;
    uintptr_t frame = (uintptr_t)__builtin_frame_address(0);

    g_assert_cmpint(ret, ==, 0);
    c->lo = MIN(c->lo, frame);
    c->hi = MAX(c->hi, frame);
    if (++c->count < CHAIN_LEN) {
        thread_pool_submit_aio(nop_func, NULL, chain_cb, c);
    }
}

static void test_chain(void)
{
    AioContext *ctx = test_ctx_new();
    Chain c = { .lo = UINTPTR_MAX, .hi = 0 };

    thread_pool_submit_aio(nop_func, NULL, chain_cb, &c);
    AIO_WAIT_WHILE(ctx, c.count < CHAIN_LEN);
    g_assert_cmpint(c.count, ==, CHAIN_LEN);
    /* Recursing would put 100 000 frames on the stack (or overflow it). */
    g_assert_cmpuint(c.hi - c.lo, <, 64 * 1024);
    test_ctx_free(ctx);
}

/* ---- Fire and forget; free waits for running work ---- */

typedef struct SlowJob {
    int started;
    int finished;
} SlowJob;

static int slow_func(void *opaque)
{
    SlowJob *s = opaque;

    __atomic_store_n(&s->started, 1, __ATOMIC_RELEASE);
    g_usleep(50 * 1000);
    __atomic_store_n(&s->finished, 1, __ATOMIC_RELEASE);
    return 0;
}

static void test_submit_forget(void)
{
    AioContext *ctx = test_ctx_new();
    SlowJob s = { 0 };

    thread_pool_submit(slow_func, &s);
    wait_for_int(&s.finished, 1);
    test_ctx_free(ctx);
}

static void test_free_waits(void)
{
    AioContext *ctx = test_ctx_new();
    SlowJob s = { 0 };

    thread_pool_submit(slow_func, &s);
    /* Once it runs, dropping the context must wait for it. */
    wait_for_int(&s.started, 1);
    aio_context_set_thread_default(NULL);
    aio_context_unref(ctx);
    g_assert_cmpint(__atomic_load_n(&s.finished, __ATOMIC_ACQUIRE), ==, 1);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    main_thread = pthread_self();
    qemu_init_main_loop(&error_abort);

    g_test_add_func("/thread-pool/submit-co", test_submit_co);
    g_test_add_func("/thread-pool/submit-aio", test_submit_aio);
    g_test_add_func("/thread-pool/errors", test_errors);
    g_test_add_func("/thread-pool/iothread", test_iothread);
    g_test_add_func("/thread-pool/fifo", test_fifo);
    g_test_add_func("/thread-pool/max-workers", test_max_workers);
    g_test_add_func("/thread-pool/change-limits", test_change_limits);
    g_test_add_func("/thread-pool/idle-timeout", test_idle_timeout);
    g_test_add_func("/thread-pool/idle-not-early", test_idle_not_early);
    g_test_add_func("/thread-pool/cancel-async", test_cancel_async);
    g_test_add_func("/thread-pool/cancel-sync", test_cancel_sync);
    g_test_add_func("/thread-pool/cancel-in-callback",
                    test_cancel_in_callback);
    g_test_add_func("/thread-pool/chain", test_chain);
    g_test_add_func("/thread-pool/submit-forget", test_submit_forget);
    g_test_add_func("/thread-pool/free-waits", test_free_waits);
    return g_test_run();
}
