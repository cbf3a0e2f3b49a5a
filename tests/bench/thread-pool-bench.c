/*
 * Thread pool benchmark: no-op jobs per second through the pool's coroutine
 * and callback interfaces, next to glib's GThreadPool doing the same work.
 *
 * Usage: thread-pool-bench [seconds-per-case]   (default 1)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/thread-pool.h"
#include "qapi/error.h"
#include "qemu/main-loop.h"

#define DEPTH 64

static int64_t run_ns = 1000LL * 1000 * 1000;
static int64_t deadline;
static uint64_t jobs_done;
static int active;

static int nop_func(void *opaque)
{
    return 0;
}

static void report(const char *name, uint64_t n, int64_t elapsed_ns)
{
    printf("%-44s %10.0f jobs/s  (%" PRIu64 " jobs in %.2f s)\n",
           name, n * 1e9 / elapsed_ns, n, elapsed_ns / 1e9);
}

/* ---- Coroutines: each loops submit/wait until the deadline ---- */

static void coroutine_fn co_loop(void *opaque)
{
    while (get_clock_ns() < deadline) {
        int ret = thread_pool_submit_co(nop_func, NULL);

        g_assert(ret == 0);
        jobs_done++;
    }
    active--;
}

static void bench_co(AioContext *ctx, int depth, const char *name)
{
    int64_t start;
    int i;

    jobs_done = 0;
    active = depth;
    start = get_clock_ns();
    deadline = start + run_ns;
    for (i = 0; i < depth; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(co_loop, NULL));
    }
    AIO_WAIT_WHILE(ctx, active > 0);
    report(name, jobs_done, get_clock_ns() - start);
}

/* ---- Callbacks: each completion resubmits until the deadline ---- */

static void aio_cb(void *opaque, int ret)
{
    g_assert(ret == 0);
    jobs_done++;
    if (get_clock_ns() < deadline) {
        thread_pool_submit_aio(nop_func, NULL, aio_cb, NULL);
    } else {
        active--;
    }
}

static void bench_aio(AioContext *ctx, int depth, const char *name)
{
    int64_t start;
    int i;

    jobs_done = 0;
    active = depth;
    start = get_clock_ns();
    deadline = start + run_ns;
    for (i = 0; i < depth; i++) {
        thread_pool_submit_aio(nop_func, NULL, aio_cb, NULL);
    }
    AIO_WAIT_WHILE(ctx, active > 0);
    report(name, jobs_done, get_clock_ns() - start);
}

/* ---- glib peer: GThreadPool, results back through a GAsyncQueue ---- */

static void gtp_func(gpointer data, gpointer user_data)
{
    GAsyncQueue *done = user_data;

    g_async_queue_push(done, data);
}

static void bench_gthreadpool(int depth, const char *name)
{
    GAsyncQueue *done = g_async_queue_new();
    GThreadPool *tp = g_thread_pool_new(gtp_func, done, DEPTH, FALSE,
                                        NULL);
    uint64_t n = 0;
    int64_t start;
    int inflight = 0;
    int i;

    start = get_clock_ns();
    deadline = start + run_ns;
    for (i = 0; i < depth; i++) {
        /* Items must be non-NULL; the value is irrelevant. */
        g_thread_pool_push(tp, GINT_TO_POINTER(1), NULL);
        inflight++;
    }
    while (inflight > 0) {
        g_async_queue_pop(done);
        inflight--;
        n++;
        if (get_clock_ns() < deadline) {
            g_thread_pool_push(tp, GINT_TO_POINTER(1), NULL);
            inflight++;
        }
    }
    report(name, n, get_clock_ns() - start);
    g_thread_pool_free(tp, FALSE, TRUE);
    g_async_queue_unref(done);
}

int main(int argc, char **argv)
{
    AioContext *ctx;

    if (argc > 1) {
        double s = g_ascii_strtod(argv[1], NULL);

        if (s <= 0) {
            fprintf(stderr, "usage: %s [seconds-per-case]\n", argv[0]);
            return 1;
        }
        run_ns = s * 1e9;
    }
    qemu_init_main_loop(&error_abort);
    ctx = qemu_get_aio_context();

    printf("no-op jobs, %.1f s per case, %d-worker limit\n",
           run_ns / 1e9, THREAD_POOL_DEFAULT_MAX_WORKERS);
    bench_co(ctx, 1, "thread_pool_submit_co, QD1 (1 coroutine)");
    bench_co(ctx, DEPTH, "thread_pool_submit_co, QD64 (64 coroutines)");
    bench_aio(ctx, 1, "thread_pool_submit_aio, QD1");
    bench_aio(ctx, DEPTH, "thread_pool_submit_aio, QD64");
    printf("  (pool workers started: %d)\n",
           thread_pool_get_nr_workers(aio_get_thread_pool(ctx)));
    bench_gthreadpool(1, "GThreadPool + GAsyncQueue, QD1");
    bench_gthreadpool(DEPTH, "GThreadPool + GAsyncQueue, QD64");
    return 0;
}
