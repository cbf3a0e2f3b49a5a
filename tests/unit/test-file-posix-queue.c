/*
 * Tests of how file-posix's three I/O backends (thread pool, Linux AIO,
 * io_uring) queue and complete requests, on real files in a temporary
 * directory, buffered and with O_DIRECT: a chain of queue depth 1 whose
 * callbacks submit the next request (no completion inside a submission,
 * a bounded stack), the same chain straight on Linux AIO and io_uring,
 * queue depth 64 with batched submission, more requests than the kernel
 * context holds, and requests from a coroutine in an IOThread.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <pthread.h>
#include "block/block_int.h"
#include "block/raw-aio.h"
#include "sysemu/block-backend.h"
#include "qemu/iothread.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "file-posix-helpers.h"

/* ---- queue depth 1 chain: bounded stack ---- */

typedef struct Chain {
    Node *n;
    QEMUIOVector qiov;
    void *buf;
    int remaining;
    int completed;
    int errors;
    int nesting;
    int max_nesting;
    /* address range of a local in callbacks that ran on the main stack */
    uintptr_t main_lo, main_hi;
    uintptr_t stack_lo, stack_hi;   /* main thread stack */
    int on_main_stack;
    bool done;
} Chain;

static void chain_submit(Chain *c);

static void chain_cb(void *opaque, int ret)
{
    Chain *c = opaque;
    char local;
    uintptr_t here = (uintptr_t)&local;

    c->nesting++;
    c->max_nesting = MAX(c->max_nesting, c->nesting);
    g_assert_cmpint(c->nesting, ==, 1);
    if (here >= c->stack_lo && here < c->stack_hi) {
        c->on_main_stack++;
        c->main_lo = MIN(c->main_lo, here);
        c->main_hi = MAX(c->main_hi, here);
    }
    if (ret < 0) {
        c->errors++;
    }
    c->completed++;
    if (--c->remaining > 0) {
        chain_submit(c);
    } else {
        c->done = true;
    }
    c->nesting--;
}

static void chain_submit(Chain *c)
{
    int64_t offset = (c->completed % 256) * 4096;

    blk_aio_preadv(c->n->blk, offset, &c->qiov, 0, chain_cb, c);
}

static void test_chain(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(1 * MiB);
    Node *n = node_open(m, path, NULL);
    /* O_DIRECT misses the page cache: a shorter chain is enough. */
    const int count = m->direct ? 5000 : 100000;
    Chain c = {
        .n = n,
        .remaining = count,
        .main_lo = UINTPTR_MAX,
    };
    pthread_attr_t attr;
    void *stack;
    size_t stack_size;
    int64_t t0;
    RawAioStats stats;

    g_assert_cmpint(pthread_getattr_np(pthread_self(), &attr), ==, 0);
    g_assert_cmpint(pthread_attr_getstack(&attr, &stack, &stack_size), ==, 0);
    pthread_attr_destroy(&attr);
    c.stack_lo = (uintptr_t)stack;
    c.stack_hi = (uintptr_t)stack + stack_size;

    /* Page-cache hits: buffered requests complete at once. */
    write_pattern(n, 0, 1 * MiB, 9);
    c.buf = abuf(4096);
    qemu_iovec_init_buf(&c.qiov, c.buf, 4096);

    t0 = get_clock_ns();
    chain_submit(&c);
    AIO_WAIT_WHILE(qemu_get_aio_context(), !c.done);
    g_test_message("%s%s: %d chained reads in %.2f s; %d callbacks on the "
                   "main stack, spread %" PRIuPTR " bytes", m->aio,
                   m->direct ? "/direct" : "", count,
                   (get_clock_ns() - t0) / 1e9, c.on_main_stack,
                   c.on_main_stack ? c.main_hi - c.main_lo : 0);

    g_assert_cmpint(c.completed, ==, count);
    g_assert_cmpint(c.errors, ==, 0);
    /* No completion ran inside another one's submission. */
    g_assert_cmpint(c.max_nesting, ==, 1);
    if (c.main_lo <= c.main_hi) {
        g_assert_cmpuint(c.main_hi - c.main_lo, <, 8 * KiB);
    }
    if (mode_stats(m, &stats)) {
        g_assert_cmpuint(stats.requests, >=, count);
    }
    check_pattern(c.buf, (count - 1) % 256 * 4096, 4096, 9);
    qemu_vfree(c.buf);
    node_close(n);
}

/*
 * The same chain straight on a backend, with a buffered descriptor: Linux
 * AIO completes buffered reads inside io_submit() and io_uring completes
 * page-cache hits inside io_uring_submit(), the worst case for recursion.
 * (file-posix itself refuses aio=native without O_DIRECT, as QEMU does.)
 */
typedef struct BackendChain {
    LinuxAioState *laio;
    LuringState *luring;
    RawAioRequest req;
    QEMUIOVector qiov;
    int remaining;
    int completed;
    int errors;
    int nesting;
    int max_nesting;
    bool done;
} BackendChain;

static void backend_chain_submit(BackendChain *c);

static void backend_chain_cb(BackendChain *c, int ret)
{
    c->nesting++;
    c->max_nesting = MAX(c->max_nesting, c->nesting);
    /* Fail at once rather than run out of coroutine stacks. */
    g_assert_cmpint(c->nesting, ==, 1);
    if (ret < 0) {
        c->errors++;
    }
    c->completed++;
    if (--c->remaining > 0) {
        backend_chain_submit(c);
    } else {
        c->done = true;
    }
    c->nesting--;
}

static void coroutine_fn backend_chain_co(void *opaque)
{
    BackendChain *c = opaque;
    int ret;

    if (c->laio) {
        ret = laio_co_submit(c->laio, &c->req);
    } else {
        ret = luring_co_submit(c->luring, &c->req);
    }
    backend_chain_cb(c, ret);
}

/* Callback style, as qemu-img bench drives a BlockBackend. */
static void backend_chain_submit(BackendChain *c)
{
    c->req.offset = (c->completed % 256) * 4096;
    qemu_coroutine_enter(qemu_coroutine_create(backend_chain_co, c));
}

static void test_backend_chain(const void *opaque)
{
    RawAioBackend which = GPOINTER_TO_INT(opaque);
    g_autofree char *path = make_data_file(1 * MiB, 14);
    AioContext *ctx = qemu_get_aio_context();
    const int count = 100000;
    BackendChain c = { .remaining = count };
    uint8_t *buf = abuf(4096);
    RawAioStats stats;
    int fd = open(path, O_RDWR);
    int64_t t0;

    g_assert_cmpint(fd, >=, 0);
#ifdef CONFIG_LINUX_AIO
    if (which == RAW_AIO_NATIVE) {
        c.laio = laio_attach(ctx, &error_abort);
    }
#endif
#ifdef CONFIG_LINUX_IO_URING
    if (which == RAW_AIO_IO_URING) {
        c.luring = luring_attach(ctx, &error_abort);
    }
#endif
    g_assert(c.laio || c.luring);
    qemu_iovec_init_buf(&c.qiov, buf, 4096);
    c.req = (RawAioRequest) {
        .fd = fd, .op = RAW_AIO_READ, .qiov = &c.qiov, .align = 1,
    };

    t0 = get_clock_ns();
    backend_chain_submit(&c);
    AIO_WAIT_WHILE(ctx, !c.done);
    g_test_message("%s buffered: %d chained reads in %.2f s",
                   which == RAW_AIO_NATIVE ? "native" : "io_uring", count,
                   (get_clock_ns() - t0) / 1e9);
    g_assert_cmpint(c.completed, ==, count);
    g_assert_cmpint(c.errors, ==, 0);
    g_assert_cmpint(c.max_nesting, ==, 1);
    check_pattern(buf, (count - 1) % 256 * 4096, 4096, 14);

    if (c.laio) {
        g_assert(laio_get_stats(ctx, &stats));
        laio_detach(c.laio);
    } else {
        g_assert(luring_get_stats(ctx, &stats));
        luring_detach(c.luring);
    }
    g_assert_cmpuint(stats.requests, ==, count);
    g_assert_cmpuint(stats.submitted, ==, count);
    qemu_vfree(buf);
    close(fd);
}

/* ---- queue depth 64 ---- */

typedef struct Worker {
    Node *n;
    int idx;
    int depth;
    int iterations;
    int *running;
    int failures;
} Worker;

#define QD 64

static void coroutine_fn qd_worker(void *opaque)
{
    Worker *w = opaque;
    const int64_t slot = 16 * KiB;
    uint8_t *buf = abuf(slot);
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, buf, slot);
    for (int i = 0; i < w->iterations; i++) {
        /* Each worker owns the slots idx, idx + depth, idx + 2 * depth... */
        int64_t offset = (w->idx + (i % 4) * w->depth) * slot;
        unsigned seed = w->idx * 1000 + i + 1;

        pattern(buf, offset, slot, seed);
        if (blk_co_pwritev(w->n->blk, offset, slot, &qiov, 0) < 0) {
            w->failures++;
        }
        memset(buf, 0, slot);
        if (blk_co_preadv(w->n->blk, offset, slot, &qiov, 0) < 0) {
            w->failures++;
        }
        check_pattern(buf, offset, slot, seed);
    }
    qemu_vfree(buf);
    (*w->running)--;
}

static void run_qd(Node *n, int depth, int iterations)
{
    g_autofree Worker *w = g_new(Worker, depth);
    int running = depth;

    for (int i = 0; i < depth; i++) {
        w[i] = (Worker) {
            .n = n, .idx = i, .depth = depth, .iterations = iterations,
            .running = &running,
        };
    }
    for (int i = 0; i < depth; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(qd_worker, &w[i]));
    }
    AIO_WAIT_WHILE(qemu_get_aio_context(), running > 0);
    for (int i = 0; i < depth; i++) {
        g_assert_cmpint(w[i].failures, ==, 0);
    }
}

/*
 * More requests than the kernel context holds (512 iocbs, a CQ of 256):
 * the rest wait in the backend's queue.
 */
static void test_deep_queue(const void *opaque)
{
    const Mode *m = opaque;
    const int depth = 1000;
    g_autofree char *path = make_file(depth * 4 * 16 * KiB);
    Node *n = node_open(m, path, "aio-max-batch=100000");
    RawAioStats stats;

    run_qd(n, depth, 2);
    if (mode_stats(m, &stats)) {
        g_test_message("%s%s qd%d: max in flight %" PRIu64 ", max batch %"
                       PRIu64 ", deferred %" PRIu64, m->aio,
                       m->direct ? "/direct" : "", depth,
                       stats.max_in_flight, stats.max_batch, stats.eagain);
        g_assert_cmpuint(stats.max_in_flight, <=,
                         mode_backend(m) == RAW_AIO_NATIVE ? 512 : 256);
        g_assert_cmpuint(stats.cq_overflows, ==, 0);
    }
    node_close(n);
}

static void test_qd64(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(QD * 4 * 16 * KiB);
    Node *n = node_open(m, path, NULL);
    RawAioStats stats;

    run_qd(n, QD, 50);
    if (mode_stats(m, &stats)) {
        g_test_message("%s%s qd64: %" PRIu64 " requests, %" PRIu64
                       " submit calls, max batch %" PRIu64
                       ", max in flight %" PRIu64, m->aio,
                       m->direct ? "/direct" : "", stats.requests,
                       stats.submit_calls, stats.max_batch,
                       stats.max_in_flight);
        /* Requests queued in one iteration went to the kernel together. */
        g_assert_cmpuint(stats.max_batch, >, 1);
        g_assert_cmpuint(stats.max_batch, <=, RAW_AIO_DEFAULT_MAX_BATCH);
        g_assert_cmpuint(stats.submit_calls, <, stats.submitted);
    }
    node_close(n);

    /* aio-max-batch=1: every request goes alone. */
    n = node_open(m, path, "aio-max-batch=1");
    run_qd(n, QD, 4);
    if (mode_stats(m, &stats)) {
        g_assert_cmpuint(stats.max_batch, ==, 1);
        g_assert_cmpuint(stats.max_in_flight, >, 1);
    }
    node_close(n);
}

/*
 * Requests from a coroutine running in an IOThread use the backend state
 * of the IOThread's context, created on first use.
 */
typedef struct ForeignIo {
    Node *n;
    AioContext *ctx;
    int failures;
    bool done;
} ForeignIo;

static void coroutine_fn foreign_io_co(void *opaque)
{
    ForeignIo *f = opaque;
    BlockDriverState *bs = f->n->bs;
    uint8_t *buf = abuf(64 * KiB);
    QEMUIOVector qiov;

    g_assert(qemu_get_current_aio_context() == f->ctx);
    qemu_iovec_init_buf(&qiov, buf, 64 * KiB);
    for (int i = 0; i < 16; i++) {
        pattern(buf, i * 64 * KiB, 64 * KiB, 15);
        if (bs->drv->bdrv_co_pwritev(bs, i * 64 * KiB, 64 * KiB, &qiov, 0)) {
            f->failures++;
        }
        memset(buf, 0, 64 * KiB);
        if (bs->drv->bdrv_co_preadv(bs, i * 64 * KiB, 64 * KiB, &qiov, 0)) {
            f->failures++;
        }
        check_pattern(buf, i * 64 * KiB, 64 * KiB, 15);
    }
    if (bs->drv->bdrv_co_flush(bs) < 0) {
        f->failures++;
    }
    qemu_vfree(buf);
    __atomic_store_n(&f->done, true, __ATOMIC_RELEASE);
    aio_notify(qemu_get_aio_context());
}

static void test_iothread(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(1 * MiB);
    IOThread *iothread = iothread_create("fp-test", &error_abort);
    AioContext *ctx = iothread_get_aio_context(iothread);
    Node *n = node_open(m, path, NULL);
    ForeignIo f = { .n = n, .ctx = ctx };
    RawAioStats stats;

    aio_co_schedule(ctx, qemu_coroutine_create(foreign_io_co, &f));
    while (!__atomic_load_n(&f.done, __ATOMIC_ACQUIRE)) {
        aio_poll(qemu_get_aio_context(), true);
    }
    g_assert_cmpint(f.failures, ==, 0);
    read_check(n, 0, 1 * MiB, 15);
    if (mode_backend(m) != RAW_AIO_THREADS) {
        bool found = mode_backend(m) == RAW_AIO_NATIVE
                     ? laio_get_stats(ctx, &stats)
                     : luring_get_stats(ctx, &stats);
        g_assert(found);
        g_assert_cmpuint(stats.requests, ==, 33);
    }
    node_close(n);
    /* Closing the last node released the IOThread's kernel context. */
    g_assert(!laio_get_stats(ctx, &stats));
    g_assert(!luring_get_stats(ctx, &stats));
    iothread_destroy(iothread);
}

int main(int argc, char **argv)
{
    static const ModeTest queueing[] = {
        { "qd64", test_qd64 },
        { "chain", test_chain },
        { "deep-queue", test_deep_queue },
        { "iothread", test_iothread },
    };
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    tmpdir = g_dir_make_tmp("test-file-posix-queue-XXXXXX", NULL);
    g_assert(tmpdir);

    add_mode_tests(queueing, ARRAY_SIZE(queueing));
    if (raw_aio_backend_built(RAW_AIO_NATIVE)) {
        g_test_add_data_func("/file-posix/native/buffered/backend-chain",
                             GINT_TO_POINTER(RAW_AIO_NATIVE),
                             test_backend_chain);
    }
    if (raw_aio_backend_built(RAW_AIO_IO_URING)) {
        g_test_add_data_func("/file-posix/io_uring/buffered/backend-chain",
                             GINT_TO_POINTER(RAW_AIO_IO_URING),
                             test_backend_chain);
    }

    ret = g_test_run();
    rmdir_recursive(tmpdir);
    return ret;
}
