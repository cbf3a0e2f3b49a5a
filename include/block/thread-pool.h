/*
 * Thread pool: runs blocking functions (preadv, pwritev, fdatasync, ioctl...)
 * on worker threads and reports completion back in the AioContext that
 * submitted the work.
 *
 * Workers are started on demand up to max_workers; a worker idle for longer
 * than the idle timeout exits (down to min_workers).  Requests are started in
 * submission order.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_THREAD_POOL_H
#define QEMU_THREAD_POOL_H

#include "block/aio.h"

/* Runs in a worker thread; returns 0 or a negative errno (or a count). */
typedef int ThreadPoolFunc(void *opaque);

#define THREAD_POOL_DEFAULT_MAX_WORKERS 64
#define THREAD_POOL_DEFAULT_IDLE_NS     (10LL * 1000 * 1000 * 1000)

ThreadPool *thread_pool_new(AioContext *ctx);
/* Waits for running work; pending work must have completed already. */
void thread_pool_free(ThreadPool *pool);

/* Bounds on the worker count (0 <= min <= max, max >= 1). */
void thread_pool_set_workers(ThreadPool *pool, int min_workers,
                             int max_workers);
void thread_pool_set_idle_timeout_ns(ThreadPool *pool, int64_t ns);
/* Current number of worker threads (for tests). */
int thread_pool_get_nr_workers(ThreadPool *pool);

/*
 * Run func(arg) in the pool of the current AioContext; the calling
 * coroutine yields until it completes and gets func's return value.
 */
int coroutine_fn thread_pool_submit_co(ThreadPoolFunc *func, void *arg);

/*
 * Callback form: cb(opaque, ret) runs in the current AioContext.  The
 * request can be cancelled with aio_cancel_async() while it has not started
 * (its callback then gets -ECANCELED).
 */
BlockAIOCB *thread_pool_submit_aio(ThreadPoolFunc *func, void *arg,
                                   BlockCompletionFunc *cb, void *opaque);

/* Fire and forget: no completion is reported. */
void thread_pool_submit(ThreadPoolFunc *func, void *arg);

#endif /* QEMU_THREAD_POOL_H */
