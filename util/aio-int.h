/*
 * AioContext internals shared by async.c (lifecycle, BHs, coroutines),
 * aio-posix.c (fd handlers, aio_poll) and qemu-timer.c (timers).
 * util/ only; not a public header.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_AIO_INT_H
#define QEMU_AIO_INT_H

#include "block/aio.h"

typedef struct AioHandler AioHandler;

/* A FIFO batch of BHs taken from the lock-free list by one aio_bh_poll(). */
typedef struct BHListSlice {
    QSIMPLEQ_HEAD(, QEMUBH) bhs;
    QSIMPLEQ_ENTRY(BHListSlice) next;
} BHListSlice;

struct AioContext {
    int refcnt;                         /* atomic */

    /*
     * Wake-up protocol (see aio_notify() and aio_poll()): the poller bumps
     * notify_me before it looks for work and sleeps; a notifier publishes
     * its work, sets notified and only writes the eventfd when notify_me is
     * non-zero.  Both sides use sequentially consistent operations, so one
     * of them always sees the other.
     */
    EventNotifier notifier;
    bool notified;                      /* atomic */
    unsigned notify_me;                 /* atomic */

    /* fd handlers (aio-posix.c) */
    int epollfd;
    GMutex list_lock;                   /* protects the three fields below */
    GHashTable *handlers;               /* fd -> live AioHandler */
    QLIST_HEAD(, AioHandler) deleted_handlers;
    unsigned walking_handlers;          /* aio_poll() calls in progress */

    /* Bottom halves (async.c) */
    QSLIST_HEAD(, QEMUBH) bh_list;      /* scheduled, LIFO, lock-free push */
    QSIMPLEQ_HEAD(, BHListSlice) bh_slices; /* being dispatched; loop only */

    /* aio_co_schedule() (async.c) */
    QSLIST_HEAD(, Coroutine) scheduled_coroutines;  /* LIFO, lock-free */
    QEMUBH *co_schedule_bh;

    /* Timers (qemu-timer.c) */
    GMutex timer_lock;
    QEMUTimer *timers;                  /* armed, by deadline */
    QEMUTimer *expired_timers;          /* taken out by aio_timers_run() */

    GMutex pool_lock;
    ThreadPool *thread_pool;
};

/* aio-posix.c */
int aio_context_setup(AioContext *ctx, Error **errp);
void aio_context_cleanup(AioContext *ctx);

/* async.c */
bool aio_bh_poll(AioContext *ctx);
bool aio_bh_pending(AioContext *ctx);
/*
 * Wake ctx's poller if one may be sleeping, without setting 'notified':
 * for work the poller finds by itself (BHs, timers), so that a blocking
 * aio_poll() does not return early with nothing done.
 */
void aio_context_kick(AioContext *ctx);

/* qemu-timer.c */
void aio_timers_init(AioContext *ctx);
void aio_timers_cleanup(AioContext *ctx);
/* Nanoseconds until the earliest deadline (0 if expired), -1 if none. */
int64_t aio_timers_timeout_ns(AioContext *ctx);
/* Fire the expired timers in deadline order; true if any fired. */
bool aio_timers_run(AioContext *ctx);

#endif /* QEMU_AIO_INT_H */
