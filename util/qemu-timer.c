/*
 * Timers on the monotonic clock, one ordered list per AioContext.
 *
 * Armed timers sit in ctx->timers sorted by deadline (equal deadlines keep
 * arming order).  aio_poll() sleeps at most until the head's deadline and
 * then calls aio_timers_run(), which moves the expired prefix to
 * ctx->expired_timers and fires it in order.  A callback may re-arm or
 * delete any timer: a re-armed timer goes back to ctx->timers and fires in
 * a later iteration at the earliest, so a timer re-arming itself in the
 * past cannot starve the loop.  The expired list lives in the context (not
 * on the stack) so that an aio_poll() nested in a callback still fires the
 * remaining expired timers.
 *
 * A sorted list makes arming O(n); contexts have few timers (sleeping
 * coroutines, request timeouts), and deletion is O(1) through pprev.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/aio.h"
#include "aio-int.h"

#include <time.h>

struct QEMUTimer {
    AioContext *ctx;
    QEMUTimerCB *cb;
    void *opaque;
    int64_t expire_ns;
    QEMUTimer *next;
    QEMUTimer **pprev;      /* non-NULL while armed; either list */
};

int64_t get_clock_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

void aio_timers_init(AioContext *ctx)
{
    g_mutex_init(&ctx->timer_lock);
    ctx->timers = NULL;
    ctx->expired_timers = NULL;
}

void aio_timers_cleanup(AioContext *ctx)
{
    /* An armed timer would point at freed memory once ctx is gone. */
    if (ctx->timers || ctx->expired_timers) {
        fprintf(stderr, "aio_context_unref: a timer is still armed "
                "(callback %p); timer_del() it before the last unref\n",
                (void *)(ctx->timers ? ctx->timers : ctx->expired_timers)->cb);
        abort();
    }
    g_mutex_clear(&ctx->timer_lock);
}

/* Called with timer_lock held. */
static void timer_unlink(QEMUTimer *t)
{
    *t->pprev = t->next;
    if (t->next) {
        t->next->pprev = t->pprev;
    }
    t->next = NULL;
    t->pprev = NULL;
}

/* Called with timer_lock held.  After the timers with the same deadline. */
static void timer_insert_sorted(QEMUTimer **head, QEMUTimer *t)
{
    QEMUTimer **p = head;

    while (*p && (*p)->expire_ns <= t->expire_ns) {
        p = &(*p)->next;
    }
    t->next = *p;
    if (*p) {
        (*p)->pprev = &t->next;
    }
    *p = t;
    t->pprev = p;
}

QEMUTimer *aio_timer_new(AioContext *ctx, QEMUTimerCB *cb, void *opaque)
{
    QEMUTimer *t = g_new0(QEMUTimer, 1);

    t->ctx = ctx;
    t->cb = cb;
    t->opaque = opaque;
    t->expire_ns = -1;
    return t;
}

void timer_mod_ns(QEMUTimer *t, int64_t expire_ns)
{
    AioContext *ctx = t->ctx;
    bool first;

    g_mutex_lock(&ctx->timer_lock);
    if (t->pprev) {
        timer_unlink(t);
    }
    t->expire_ns = expire_ns;
    timer_insert_sorted(&ctx->timers, t);
    first = ctx->timers == t;
    g_mutex_unlock(&ctx->timer_lock);

    /* A sleeping poller computed its timeout from the old head. */
    if (first) {
        aio_context_kick(ctx);
    }
}

void timer_del(QEMUTimer *t)
{
    AioContext *ctx = t->ctx;

    g_mutex_lock(&ctx->timer_lock);
    if (t->pprev) {
        timer_unlink(t);
    }
    g_mutex_unlock(&ctx->timer_lock);
}

bool timer_pending(QEMUTimer *t)
{
    bool pending;

    g_mutex_lock(&t->ctx->timer_lock);
    pending = t->pprev != NULL;
    g_mutex_unlock(&t->ctx->timer_lock);
    return pending;
}

int64_t timer_expire_time_ns(QEMUTimer *t)
{
    int64_t ret;

    g_mutex_lock(&t->ctx->timer_lock);
    ret = t->pprev ? t->expire_ns : -1;
    g_mutex_unlock(&t->ctx->timer_lock);
    return ret;
}

void timer_free(QEMUTimer *t)
{
    if (!t) {
        return;
    }
    timer_del(t);
    g_free(t);
}

int64_t aio_timers_timeout_ns(AioContext *ctx)
{
    int64_t ret = -1;

    g_mutex_lock(&ctx->timer_lock);
    if (ctx->expired_timers) {
        ret = 0;
    } else if (ctx->timers) {
        ret = MAX(ctx->timers->expire_ns - get_clock_ns(), 0);
    }
    g_mutex_unlock(&ctx->timer_lock);
    return ret;
}

bool aio_timers_run(AioContext *ctx)
{
    int64_t now = get_clock_ns();
    bool progress = false;
    QEMUTimer *t;

    g_mutex_lock(&ctx->timer_lock);
    while ((t = ctx->timers) && t->expire_ns <= now) {
        timer_unlink(t);
        /* Sorted merge: an outer (nesting) call may have left some. */
        timer_insert_sorted(&ctx->expired_timers, t);
    }
    while ((t = ctx->expired_timers)) {
        QEMUTimerCB *cb = t->cb;
        void *opaque = t->opaque;

        /* Unarmed before the call, so cb may re-arm or free it. */
        timer_unlink(t);
        g_mutex_unlock(&ctx->timer_lock);
        cb(opaque);
        progress = true;
        g_mutex_lock(&ctx->timer_lock);
    }
    g_mutex_unlock(&ctx->timer_lock);
    return progress;
}
