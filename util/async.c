/*
 * AioContext lifecycle, bottom halves, coroutine scheduling and the
 * per-thread current context.
 *
 * Bottom halves: scheduling pushes the BH on a lock-free LIFO list
 * (ctx->bh_list) unless it is already queued, then kicks the loop.  The
 * loop takes the whole list at once, reverses it into a FIFO "slice" and
 * runs the slice; BHs scheduled meanwhile form the next slice, so the
 * scheduling order is kept and each aio_poll() runs a bounded batch.
 * Slices are chained in the context, so an aio_poll() nested in a BH
 * callback first finishes the slices of the outer calls (FIFO again, and
 * no deadlock when the nested call waits for an older BH).
 *
 * A BH's state is a set of atomic flags: PENDING (queued in bh_list or a
 * slice; the loop owns the link), SCHEDULED (run it when dequeued),
 * DELETED (free it when dequeued instead) and ONESHOT (free after
 * running).  qemu_bh_delete() frees at once when the BH is not queued,
 * otherwise the loop frees it when it reaches it; this is what makes it
 * safe from the BH's own callback and while scheduled.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/aio.h"
#include "block/thread-pool.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "aio-int.h"
#include "coroutine-int.h"

enum {
    BH_PENDING   = 1 << 0,
    BH_SCHEDULED = 1 << 1,
    BH_DELETED   = 1 << 2,
    BH_ONESHOT   = 1 << 3,
};

struct QEMUBH {
    AioContext *ctx;
    QEMUBHFunc *cb;
    void *opaque;
    unsigned flags;                     /* atomic */
    QSLIST_ENTRY(QEMUBH) next;          /* in ctx->bh_list */
    QSIMPLEQ_ENTRY(QEMUBH) slice_next;  /* in a BHListSlice */
};

/* ---- Notification ---- */

void aio_context_kick(AioContext *ctx)
{
    /* Order the caller's publication of work before reading notify_me. */
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&ctx->notify_me, __ATOMIC_SEQ_CST)) {
        event_notifier_set(&ctx->notifier);
    }
}

void aio_notify(AioContext *ctx)
{
    /*
     * 'notified' is what a poller that is not asleep yet finds (it then
     * does not sleep); the eventfd write is for one that already sleeps.
     */
    __atomic_store_n(&ctx->notified, true, __ATOMIC_SEQ_CST);
    aio_context_kick(ctx);
}

/* ---- Bottom halves ---- */

static QEMUBH *aio_bh_new_flags(AioContext *ctx, QEMUBHFunc *cb,
                                void *opaque, unsigned flags)
{
    QEMUBH *bh = g_new0(QEMUBH, 1);

    bh->ctx = ctx;
    bh->cb = cb;
    bh->opaque = opaque;
    bh->flags = flags;
    return bh;
}

QEMUBH *aio_bh_new(AioContext *ctx, QEMUBHFunc *cb, void *opaque)
{
    return aio_bh_new_flags(ctx, cb, opaque, 0);
}

static void aio_bh_enqueue(QEMUBH *bh, unsigned new_flags)
{
    AioContext *ctx = bh->ctx;
    unsigned old;

    old = __atomic_fetch_or(&bh->flags, BH_PENDING | new_flags,
                            __ATOMIC_SEQ_CST);
    assert(!(old & BH_DELETED));
    if (!(old & BH_PENDING)) {
        QSLIST_INSERT_HEAD_ATOMIC(&ctx->bh_list, bh, next);
    }
    if (!(old & BH_SCHEDULED)) {
        aio_context_kick(ctx);
    }
}

void qemu_bh_schedule(QEMUBH *bh)
{
    aio_bh_enqueue(bh, BH_SCHEDULED);
}

void aio_bh_schedule_oneshot(AioContext *ctx, QEMUBHFunc *cb, void *opaque)
{
    QEMUBH *bh = aio_bh_new_flags(ctx, cb, opaque, BH_ONESHOT);

    aio_bh_enqueue(bh, BH_SCHEDULED);
}

void qemu_bh_cancel(QEMUBH *bh)
{
    /* If queued, it stays queued (lock-free list) and is skipped. */
    __atomic_fetch_and(&bh->flags, ~BH_SCHEDULED, __ATOMIC_SEQ_CST);
}

/*
 * From the context's thread, or from any thread while the BH cannot be
 * running: a callback already started in the loop's thread cannot be
 * stopped by a delete from another thread.
 */
void qemu_bh_delete(QEMUBH *bh)
{
    unsigned old;

    if (!bh) {
        return;
    }
    old = __atomic_fetch_or(&bh->flags, BH_DELETED, __ATOMIC_SEQ_CST);
    assert(!(old & BH_DELETED));
    if (!(old & BH_PENDING)) {
        g_free(bh);
    }
}

bool aio_bh_pending(AioContext *ctx)
{
    BHListSlice *s;

    if (__atomic_load_n(&ctx->bh_list.slh_first, __ATOMIC_SEQ_CST)) {
        return true;
    }
    QSIMPLEQ_FOREACH(s, &ctx->bh_slices, next) {
        if (!QSIMPLEQ_EMPTY(&s->bhs)) {
            return true;
        }
    }
    return false;
}

/* Returns true if the BH's callback ran. */
static bool aio_bh_dispatch(QEMUBH *bh)
{
    QEMUBHFunc *cb = bh->cb;
    void *opaque = bh->opaque;
    unsigned old;

    /*
     * Once PENDING is clear the BH may be queued again (from its own
     * callback or another thread) and qemu_bh_delete() frees it directly,
     * so bh must not be touched after this point unless we own it.
     */
    old = __atomic_fetch_and(&bh->flags, ~(BH_PENDING | BH_SCHEDULED),
                             __ATOMIC_SEQ_CST);
    if (old & BH_DELETED) {
        g_free(bh);
        return false;
    }
    if (old & BH_ONESHOT) {
        /* Nobody else holds a pointer to a one-shot BH. */
        assert(old & BH_SCHEDULED);
        g_free(bh);
        cb(opaque);
        return true;
    }
    if (old & BH_SCHEDULED) {
        cb(opaque);
        return true;
    }
    return false;
}

bool aio_bh_poll(AioContext *ctx)
{
    QSLIST_HEAD(, QEMUBH) lifo;
    BHListSlice slice;
    BHListSlice *s;
    QEMUBH *bh;
    bool progress = false;

    QSLIST_MOVE_ATOMIC(&lifo, &ctx->bh_list);
    QSIMPLEQ_INIT(&slice.bhs);
    while ((bh = QSLIST_FIRST(&lifo))) {
        QSLIST_REMOVE_HEAD(&lifo, next);
        QSIMPLEQ_INSERT_HEAD(&slice.bhs, bh, slice_next);
    }
    QSIMPLEQ_INSERT_TAIL(&ctx->bh_slices, &slice, next);

    /*
     * Oldest slice first.  Ours is removed either here or by a nested call,
     * which then also removed every older slice, so the list is empty.
     */
    while ((s = QSIMPLEQ_FIRST(&ctx->bh_slices))) {
        bh = QSIMPLEQ_FIRST(&s->bhs);
        if (!bh) {
            QSIMPLEQ_REMOVE_HEAD(&ctx->bh_slices, next);
            if (s == &slice) {
                break;
            }
            continue;
        }
        QSIMPLEQ_REMOVE_HEAD(&s->bhs, slice_next);
        progress |= aio_bh_dispatch(bh);
    }
    return progress;
}

/* ---- Coroutines ---- */

static void co_schedule_bh_cb(void *opaque)
{
    AioContext *ctx = opaque;
    QSLIST_HEAD(, Coroutine) lifo, fifo;
    Coroutine *co;

    QSLIST_MOVE_ATOMIC(&lifo, &ctx->scheduled_coroutines);
    QSLIST_INIT(&fifo);
    while ((co = QSLIST_FIRST(&lifo))) {
        QSLIST_REMOVE_HEAD(&lifo, co_scheduled_next);
        QSLIST_INSERT_HEAD(&fifo, co, co_scheduled_next);
    }

    while ((co = QSLIST_FIRST(&fifo))) {
        QSLIST_REMOVE_HEAD(&fifo, co_scheduled_next);
        /* Cleared first: once entered, co may schedule itself again. */
        __atomic_store_n(&co->scheduled, NULL, __ATOMIC_SEQ_CST);
        qemu_aio_coroutine_enter(ctx, co);
    }
}

static void aio_co_push(AioContext *ctx, Coroutine *co)
{
    QSLIST_INSERT_HEAD_ATOMIC(&ctx->scheduled_coroutines, co,
                              co_scheduled_next);
    qemu_bh_schedule(ctx->co_schedule_bh);
}

typedef struct CoScheduleSelf {
    AioContext *ctx;
    Coroutine *co;
} CoScheduleSelf;

static void coroutine_fn co_schedule_self_entry(void *opaque)
{
    CoScheduleSelf s = *(CoScheduleSelf *)opaque;

    g_free(opaque);
    aio_co_push(s.ctx, s.co);
}

static bool aio_context_in_own_thread(AioContext *ctx);

/*
 * The usual way to move to another context is
 *     aio_co_schedule(other_ctx, qemu_coroutine_self());
 *     qemu_coroutine_yield();
 * but published at once, co could be entered by the other thread before
 * its stack is switched out here.  So in that case the push is done by a
 * helper coroutine queued on co's co_queue_wakeup, which the coroutine
 * core enters in this thread once co has yielded.  (A BH in our own
 * context would do too, but only if something polls it meanwhile.)
 */
void aio_co_schedule(AioContext *ctx, Coroutine *co)
{
    const char *expected = NULL;

    if (!__atomic_compare_exchange_n(&co->scheduled, &expected, __func__,
                                     false, __ATOMIC_SEQ_CST,
                                     __ATOMIC_SEQ_CST)) {
        fprintf(stderr, "%s: Co-routine was already scheduled in '%s'\n",
                __func__, expected);
        abort();
    }
    if (qemu_in_coroutine() && co == qemu_coroutine_self() &&
        !aio_context_in_own_thread(ctx)) {
        CoScheduleSelf *s = g_new(CoScheduleSelf, 1);
        Coroutine *helper;

        s->ctx = ctx;
        s->co = co;
        helper = qemu_coroutine_create(co_schedule_self_entry, s);
        QSIMPLEQ_INSERT_TAIL(&co->co_queue_wakeup, helper, co_queue_next);
        return;
    }
    aio_co_push(ctx, co);
}

/* ---- Current context ---- */

static __thread AioContext *thread_aio_context;

void aio_context_set_thread_default(AioContext *ctx)
{
    thread_aio_context = ctx;
}

/*
 * Without aio_context_set_thread_default() the main context is returned,
 * created on first use when nobody called qemu_init_main_loop() (so simple
 * programs and unit tests need no set-up; the first caller then counts as
 * the main thread).  qemu_get_aio_context() itself does not create it: it
 * aborts as documented in main-loop.h.
 */
AioContext *qemu_get_current_aio_context(void)
{
    if (thread_aio_context) {
        return thread_aio_context;
    }
    qemu_init_main_loop(&error_abort);
    return qemu_get_aio_context();
}

/*
 * Stricter than ctx == qemu_get_current_aio_context(): a thread that runs
 * no loop (a thread-pool worker, a test's helper thread) also "has" the
 * main context, but must not enter coroutines bound to it directly.
 */
static bool aio_context_in_own_thread(AioContext *ctx)
{
    if (thread_aio_context) {
        return ctx == thread_aio_context;
    }
    return qemu_in_main_thread() && ctx == qemu_get_aio_context();
}

void aio_co_enter(AioContext *ctx, Coroutine *co)
{
    if (!aio_context_in_own_thread(ctx)) {
        aio_co_schedule(ctx, co);
        return;
    }
    if (qemu_in_coroutine()) {
        Coroutine *self = qemu_coroutine_self();

        /* Entered by the coroutine core once self yields or terminates. */
        assert(self != co);
        QSIMPLEQ_INSERT_TAIL(&self->co_queue_wakeup, co, co_queue_next);
    } else {
        qemu_aio_coroutine_enter(ctx, co);
    }
}

void aio_co_wake(Coroutine *co)
{
    AioContext *ctx = __atomic_load_n(&co->ctx, __ATOMIC_ACQUIRE);

    /* Never entered, so bound to nothing yet: the caller's context. */
    if (!ctx) {
        ctx = qemu_get_current_aio_context();
    }
    aio_co_enter(ctx, co);
}

/* ---- Lifecycle ---- */

AioContext *aio_context_new(Error **errp)
{
    AioContext *ctx = g_new0(AioContext, 1);
    int ret;

    ret = event_notifier_init(&ctx->notifier, false);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Failed to initialize event notifier");
        g_free(ctx);
        return NULL;
    }
    if (aio_context_setup(ctx, errp) < 0) {
        event_notifier_cleanup(&ctx->notifier);
        g_free(ctx);
        return NULL;
    }
    QSLIST_INIT(&ctx->bh_list);
    QSIMPLEQ_INIT(&ctx->bh_slices);
    QSLIST_INIT(&ctx->scheduled_coroutines);
    aio_timers_init(ctx);
    g_mutex_init(&ctx->pool_lock);
    ctx->co_schedule_bh = aio_bh_new(ctx, co_schedule_bh_cb, ctx);
    ctx->refcnt = 1;
    return ctx;
}

void aio_context_ref(AioContext *ctx)
{
    int old = __atomic_fetch_add(&ctx->refcnt, 1, __ATOMIC_RELAXED);

    assert(old > 0);
}

/* Run BHs (and so scheduled coroutines) until none is queued. */
static void aio_context_drain_bhs(AioContext *ctx)
{
    while (aio_bh_pending(ctx)) {
        aio_bh_poll(ctx);
    }
}

/*
 * The last unref runs what is still queued (one-shot BHs often own memory,
 * and a scheduled coroutine must not be lost) in the calling thread, then
 * frees everything.  A BH that keeps rescheduling itself must be deleted
 * before; fd handlers must be removed and timers disarmed before.
 */
void aio_context_unref(AioContext *ctx)
{
    int old = __atomic_fetch_sub(&ctx->refcnt, 1, __ATOMIC_ACQ_REL);

    assert(old > 0);
    if (old > 1) {
        return;
    }

    aio_context_drain_bhs(ctx);
    if (ctx->thread_pool) {
        /* Its completion BHs and event notifier live in ctx. */
        thread_pool_free(ctx->thread_pool);
        ctx->thread_pool = NULL;
        aio_context_drain_bhs(ctx);
    }
    assert(QSLIST_EMPTY(&ctx->scheduled_coroutines));
    qemu_bh_delete(ctx->co_schedule_bh);

    aio_timers_cleanup(ctx);
    aio_context_cleanup(ctx);
    event_notifier_cleanup(&ctx->notifier);
    g_mutex_clear(&ctx->pool_lock);
    if (thread_aio_context == ctx) {
        thread_aio_context = NULL;
    }
    g_free(ctx);
}

ThreadPool *aio_get_thread_pool(AioContext *ctx)
{
    ThreadPool *pool = __atomic_load_n(&ctx->thread_pool, __ATOMIC_ACQUIRE);

    if (!pool) {
        g_mutex_lock(&ctx->pool_lock);
        pool = ctx->thread_pool;
        if (!pool) {
            pool = thread_pool_new(ctx);
            __atomic_store_n(&ctx->thread_pool, pool, __ATOMIC_RELEASE);
        }
        g_mutex_unlock(&ctx->pool_lock);
    }
    return pool;
}
