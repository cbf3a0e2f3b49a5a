/*
 * AioContext: the event loop every I/O path runs in.
 *
 * An AioContext multiplexes file-descriptor handlers, bottom halves (BHs),
 * timers on the monotonic clock and coroutines scheduled into it.  One thread
 * at a time runs aio_poll() on a context; BH scheduling, aio_notify() and
 * aio_co_schedule() are safe from any thread.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_AIO_H
#define QEMU_AIO_H

#include "qemu/coroutine.h"
#include "qemu/event_notifier.h"

typedef struct Error Error;
typedef struct AioContext AioContext;
typedef struct QEMUBH QEMUBH;
typedef struct QEMUTimer QEMUTimer;
typedef struct ThreadPool ThreadPool;

typedef void QEMUBHFunc(void *opaque);
typedef void IOHandler(void *opaque);
typedef void QEMUTimerCB(void *opaque);

/* ---- Contexts ---- */

/* New context with a refcount of 1.  NULL and *errp set on failure. */
AioContext *aio_context_new(Error **errp);
void aio_context_ref(AioContext *ctx);
/* Last unref frees the context; it must have no fd handlers left. */
void aio_context_unref(AioContext *ctx);

/*
 * The context of the calling thread: the one set by
 * aio_context_set_thread_default() in this thread, else the main context.
 */
AioContext *qemu_get_current_aio_context(void);
/* Make ctx the calling thread's current context (NULL resets). */
void aio_context_set_thread_default(AioContext *ctx);

/*
 * Run one iteration: dispatch ready BHs, fd handlers, expired timers and
 * scheduled coroutines.  With blocking=true, wait until at least one event
 * has been dispatched (aio_notify() also ends the wait).  Returns true if
 * any progress was made (a callback ran).
 */
bool aio_poll(AioContext *ctx, bool blocking);

/* Wake a thread blocked in aio_poll(ctx).  Thread-safe. */
void aio_notify(AioContext *ctx);

/*
 * Poll ctx until cond is false.  cond is re-evaluated after every
 * iteration; use only where something in ctx will make it false.
 */
#define AIO_WAIT_WHILE(ctx, cond) do {                 \
    AioContext *aww_ctx_ = (ctx);                      \
    while ((cond)) {                                   \
        aio_poll(aww_ctx_, true);                      \
    }                                                  \
} while (0)

/* ---- File descriptors (level-triggered, epoll-backed) ---- */

/*
 * Install, change or (both handlers NULL) remove the handlers for fd.
 * Handlers run from aio_poll() when the fd is readable/writable.
 */
void aio_set_fd_handler(AioContext *ctx, int fd, IOHandler *io_read,
                        IOHandler *io_write, void *opaque);

typedef void EventNotifierHandler(EventNotifier *e);
/* Call handler(e) when e is set; handler is expected to test_and_clear. */
void aio_set_event_notifier(AioContext *ctx, EventNotifier *e,
                            EventNotifierHandler *handler);

/* ---- Bottom halves ---- */

/*
 * A BH runs its callback once per scheduling, in its context's thread, in
 * the order the BHs were scheduled.  Scheduling an already-scheduled BH
 * does nothing.
 */
QEMUBH *aio_bh_new(AioContext *ctx, QEMUBHFunc *cb, void *opaque);
/* Thread-safe. */
void qemu_bh_schedule(QEMUBH *bh);
void qemu_bh_cancel(QEMUBH *bh);
/* Safe even while scheduled or from inside its own callback. */
void qemu_bh_delete(QEMUBH *bh);
/* Allocate, schedule, run once and free.  Thread-safe. */
void aio_bh_schedule_oneshot(AioContext *ctx, QEMUBHFunc *cb, void *opaque);

/* ---- Timers (monotonic clock, nanoseconds; see get_clock_ns()) ---- */

QEMUTimer *aio_timer_new(AioContext *ctx, QEMUTimerCB *cb, void *opaque);
/* Arm (or re-arm) to fire at absolute time expire_ns.  Context thread only. */
void timer_mod_ns(QEMUTimer *t, int64_t expire_ns);
void timer_del(QEMUTimer *t);
bool timer_pending(QEMUTimer *t);
int64_t timer_expire_time_ns(QEMUTimer *t);
/* Deletes the timer if armed, then frees it. */
void timer_free(QEMUTimer *t);

/* ---- Coroutines and contexts ---- */

/*
 * Enter co from ctx's event loop, soon.  Thread-safe; co must be yielded
 * and must not be scheduled twice.
 */
void aio_co_schedule(AioContext *ctx, Coroutine *co);

/*
 * Resume a yielded co in the context it is bound to: directly if that is
 * the caller's context (deferred until the current coroutine yields, when
 * called from one), else through aio_co_schedule().
 */
void aio_co_wake(Coroutine *co);

/* Enter co in ctx: right away if ctx is current, else schedule it there. */
void aio_co_enter(AioContext *ctx, Coroutine *co);

/* The context's thread pool, created on first use. */
ThreadPool *aio_get_thread_pool(AioContext *ctx);

/* ---- Asynchronous control blocks (shared by thread pool and block layer) ---- */

typedef struct BlockAIOCB BlockAIOCB;
typedef void BlockCompletionFunc(void *opaque, int ret);

typedef struct AIOCBInfo {
    /* Ask for cancellation; the callback still runs exactly once. */
    void (*cancel_async)(BlockAIOCB *acb);
    /* Context whose loop completes this acb (for synchronous cancel). */
    AioContext *(*get_aio_context)(BlockAIOCB *acb);
    size_t aiocb_size;
} AIOCBInfo;

struct BlockAIOCB {
    const AIOCBInfo *aiocb_info;
    void *bs;                    /* owner, opaque to util/ */
    BlockCompletionFunc *cb;
    void *opaque;
    int refcnt;
};

/* Allocate an acb of info->aiocb_size bytes with a refcount of 1. */
void *qemu_aio_get(const AIOCBInfo *aiocb_info, void *bs,
                   BlockCompletionFunc *cb, void *opaque);
void qemu_aio_ref(void *p);
void qemu_aio_unref(void *p);

/* Request cancellation; returns at once, the callback runs later. */
void aio_cancel_async(BlockAIOCB *acb);
/*
 * Cancel and wait until the callback has run (ret is -ECANCELED if the
 * request was stopped in time, its real result otherwise).
 */
void aio_cancel(BlockAIOCB *acb);

#endif /* QEMU_AIO_H */
