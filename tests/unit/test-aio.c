/*
 * Unit tests for the AioContext event loop: bottom halves, fd handlers,
 * event notifiers, timers, aio_notify(), coroutine scheduling and
 * IOThreads.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/aio.h"
#include "qemu/main-loop.h"
#include "qemu/iothread.h"
#include "qemu/coroutine.h"
#include "qapi/error.h"

#include <pthread.h>

#define MS 1000000LL

/* Records the order in which callbacks ran. */
typedef struct Trace {
    int ids[64];
    int n;
} Trace;

static void trace_add(Trace *t, int id)
{
    g_assert_cmpint(t->n, <, (int)ARRAY_SIZE(t->ids));
    t->ids[t->n++] = id;
}

static AioContext *new_ctx(void)
{
    return aio_context_new(&error_abort);
}

/* ---- aio_poll and aio_notify ---- */

static void test_poll_idle(void)
{
    AioContext *ctx = new_ctx();

    g_assert_false(aio_poll(ctx, false));
    g_assert_false(aio_poll(ctx, false));
    aio_context_unref(ctx);
}

static void test_notify_before_poll(void)
{
    AioContext *ctx = new_ctx();

    /* The notification is not lost: the blocking call returns at once. */
    aio_notify(ctx);
    g_assert_false(aio_poll(ctx, true));
    g_assert_false(aio_poll(ctx, false));
    aio_context_unref(ctx);
}

typedef struct NotifyThread {
    AioContext *ctx;
    int stop;
} NotifyThread;

static gpointer notify_thread_fn(gpointer opaque)
{
    NotifyThread *nt = opaque;

    g_usleep(20 * 1000);
    __atomic_store_n(&nt->stop, 1, __ATOMIC_SEQ_CST);
    aio_notify(nt->ctx);
    return NULL;
}

static void test_notify_from_thread(void)
{
    NotifyThread nt = { .ctx = new_ctx() };
    GThread *thread = g_thread_new("notify", notify_thread_fn, &nt);

    while (!__atomic_load_n(&nt.stop, __ATOMIC_SEQ_CST)) {
        aio_poll(nt.ctx, true);
    }
    g_thread_join(thread);
    aio_context_unref(nt.ctx);
}

/* ---- Bottom halves ---- */

typedef struct BHData {
    Trace *trace;
    int id;
    int count;
    int max;            /* reschedule itself until count reaches max */
    QEMUBH *bh;
    bool delete_self;
} BHData;

static void bh_cb(void *opaque)
{
    BHData *d = opaque;

    d->count++;
    if (d->trace) {
        trace_add(d->trace, d->id);
    }
    if (d->count < d->max) {
        qemu_bh_schedule(d->bh);
    }
    if (d->delete_self) {
        qemu_bh_delete(d->bh);
        d->bh = NULL;
    }
}

static void test_bh_fifo(void)
{
    static const int order[] = { 3, 0, 4, 1, 2 };
    AioContext *ctx = new_ctx();
    Trace trace = { 0 };
    BHData d[5];
    int i;

    for (i = 0; i < 5; i++) {
        d[i] = (BHData) { .trace = &trace, .id = i };
        d[i].bh = aio_bh_new(ctx, bh_cb, &d[i]);
    }
    for (i = 0; i < 5; i++) {
        qemu_bh_schedule(d[order[i]].bh);
    }
    /* Already scheduled: keeps its place and runs once. */
    qemu_bh_schedule(d[3].bh);

    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(trace.n, ==, 5);
    for (i = 0; i < 5; i++) {
        g_assert_cmpint(trace.ids[i], ==, order[i]);
        g_assert_cmpint(d[i].count, ==, 1);
    }
    g_assert_false(aio_poll(ctx, false));
    for (i = 0; i < 5; i++) {
        qemu_bh_delete(d[i].bh);
    }
    aio_context_unref(ctx);
}

static void test_bh_reschedule_self(void)
{
    AioContext *ctx = new_ctx();
    BHData d = { .max = 10 };
    int polls = 0;

    d.bh = aio_bh_new(ctx, bh_cb, &d);
    qemu_bh_schedule(d.bh);
    /* Bounded work per iteration: a self-rescheduling BH cannot starve. */
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(d.count, ==, 1);
    while (aio_poll(ctx, false)) {
        polls++;
        g_assert_cmpint(polls, <, 100);
    }
    g_assert_cmpint(d.count, ==, 10);
    /* Blocking poll with the BH rescheduled from the callback: no hang. */
    d.max = 12;
    qemu_bh_schedule(d.bh);
    g_assert_true(aio_poll(ctx, true));
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(d.count, ==, 12);
    qemu_bh_delete(d.bh);
    aio_context_unref(ctx);
}

static void oneshot_cb(void *opaque)
{
    int *count = opaque;

    (*count)++;
}

static void test_bh_oneshot(void)
{
    AioContext *ctx = new_ctx();
    int counts[3] = { 0 };
    int i;

    for (i = 0; i < 3; i++) {
        aio_bh_schedule_oneshot(ctx, oneshot_cb, &counts[i]);
    }
    aio_bh_schedule_oneshot(ctx, oneshot_cb, &counts[0]);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(counts[0], ==, 2);
    g_assert_cmpint(counts[1], ==, 1);
    g_assert_cmpint(counts[2], ==, 1);
    /* Ran once, and freed (the ASan build checks for leaks). */
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(counts[1], ==, 1);
    aio_context_unref(ctx);
}

static void test_bh_delete_scheduled(void)
{
    AioContext *ctx = new_ctx();
    BHData d = { 0 };
    QEMUBH *bh = aio_bh_new(ctx, bh_cb, &d);

    qemu_bh_schedule(bh);
    qemu_bh_delete(bh);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(d.count, ==, 0);
    aio_context_unref(ctx);
}

static void test_bh_delete_from_cb(void)
{
    AioContext *ctx = new_ctx();
    BHData d = { .delete_self = true };

    d.bh = aio_bh_new(ctx, bh_cb, &d);
    qemu_bh_schedule(d.bh);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(d.count, ==, 1);
    g_assert_null(d.bh);

    /* Rescheduled, then deleted, from its own callback. */
    d = (BHData) { .delete_self = true, .max = 2 };
    d.bh = aio_bh_new(ctx, bh_cb, &d);
    qemu_bh_schedule(d.bh);
    g_assert_true(aio_poll(ctx, false));
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(d.count, ==, 1);
    aio_context_unref(ctx);
}

static void test_bh_cancel(void)
{
    AioContext *ctx = new_ctx();
    Trace trace = { 0 };
    BHData a = { .trace = &trace, .id = 1 }, b = { .trace = &trace, .id = 2 };

    a.bh = aio_bh_new(ctx, bh_cb, &a);
    b.bh = aio_bh_new(ctx, bh_cb, &b);
    qemu_bh_schedule(a.bh);
    qemu_bh_schedule(b.bh);
    qemu_bh_cancel(a.bh);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(trace.n, ==, 1);
    g_assert_cmpint(trace.ids[0], ==, 2);
    g_assert_cmpint(a.count, ==, 0);

    qemu_bh_schedule(a.bh);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(a.count, ==, 1);
    qemu_bh_delete(a.bh);
    qemu_bh_delete(b.bh);
    aio_context_unref(ctx);
}

/* A BH that polls the loop itself still sees the older BHs first. */
typedef struct NestedBH {
    AioContext *ctx;
    Trace trace;
    BHData inner[2];
} NestedBH;

static void nested_outer_cb(void *opaque)
{
    NestedBH *n = opaque;

    trace_add(&n->trace, 0);
    /* inner[0] is still in our batch; inner[1] makes a newer one. */
    qemu_bh_schedule(n->inner[1].bh);
    AIO_WAIT_WHILE(n->ctx, n->inner[0].count == 0 || n->inner[1].count == 0);
    trace_add(&n->trace, 9);
}

static void test_bh_nested_poll(void)
{
    NestedBH n = { .ctx = new_ctx() };
    QEMUBH *outer = aio_bh_new(n.ctx, nested_outer_cb, &n);
    int i;

    for (i = 0; i < 2; i++) {
        n.inner[i] = (BHData) { .trace = &n.trace, .id = i + 1 };
        n.inner[i].bh = aio_bh_new(n.ctx, bh_cb, &n.inner[i]);
    }
    /* inner[0] sits in the outer call's batch, behind the outer BH. */
    qemu_bh_schedule(outer);
    qemu_bh_schedule(n.inner[0].bh);
    g_assert_true(aio_poll(n.ctx, false));
    g_assert_cmpint(n.trace.n, ==, 4);
    g_assert_cmpint(n.trace.ids[0], ==, 0);
    g_assert_cmpint(n.trace.ids[1], ==, 1);
    g_assert_cmpint(n.trace.ids[2], ==, 2);
    g_assert_cmpint(n.trace.ids[3], ==, 9);
    g_assert_cmpint(n.inner[0].count, ==, 1);
    g_assert_false(aio_poll(n.ctx, false));

    qemu_bh_delete(outer);
    qemu_bh_delete(n.inner[0].bh);
    qemu_bh_delete(n.inner[1].bh);
    aio_context_unref(n.ctx);
}

typedef struct BHThread {
    AioContext *ctx;
    QEMUBH *bh;
    int count;
    int n;
} BHThread;

static gpointer bh_thread_fn(gpointer opaque)
{
    BHThread *bt = opaque;

    /* Long enough for the main thread to be asleep in aio_poll(). */
    g_usleep(20 * 1000);
    qemu_bh_schedule(bt->bh);
    return NULL;
}

static void count_cb(void *opaque)
{
    int *count = opaque;

    __atomic_fetch_add(count, 1, __ATOMIC_SEQ_CST);
}

static void test_bh_schedule_from_thread(void)
{
    BHThread bt = { .ctx = new_ctx() };
    GThread *thread;

    bt.bh = aio_bh_new(bt.ctx, count_cb, &bt.count);
    thread = g_thread_new("bh", bh_thread_fn, &bt);
    /* Nothing else can make progress: only the BH ends this wait. */
    g_assert_true(aio_poll(bt.ctx, true));
    g_assert_cmpint(bt.count, ==, 1);
    g_thread_join(thread);
    qemu_bh_delete(bt.bh);
    aio_context_unref(bt.ctx);
}

static gpointer oneshot_storm_fn(gpointer opaque)
{
    BHThread *bt = opaque;
    int i;

    for (i = 0; i < bt->n; i++) {
        aio_bh_schedule_oneshot(bt->ctx, count_cb, &bt->count);
        if (i % 64 == 0) {
            g_usleep(10);
        }
    }
    return NULL;
}

/* Lost wake-ups would hang here (the test harness has a timeout). */
static void test_bh_oneshot_storm(void)
{
    BHThread bt = { .ctx = new_ctx(), .n = 20000 };
    GThread *threads[2];
    int i;

    for (i = 0; i < 2; i++) {
        threads[i] = g_thread_new("storm", oneshot_storm_fn, &bt);
    }
    while (__atomic_load_n(&bt.count, __ATOMIC_SEQ_CST) < 2 * bt.n) {
        aio_poll(bt.ctx, true);
    }
    for (i = 0; i < 2; i++) {
        g_thread_join(threads[i]);
    }
    g_assert_false(aio_poll(bt.ctx, false));
    g_assert_cmpint(bt.count, ==, 2 * bt.n);
    aio_context_unref(bt.ctx);
}

/* Documented choice: the last unref runs what is still queued. */
static void test_unref_runs_pending_bhs(void)
{
    AioContext *ctx = new_ctx();
    int count = 0;
    BHData d = { 0 };
    QEMUBH *deleted;

    aio_bh_schedule_oneshot(ctx, oneshot_cb, &count);
    aio_bh_schedule_oneshot(ctx, oneshot_cb, &count);
    deleted = aio_bh_new(ctx, bh_cb, &d);
    qemu_bh_schedule(deleted);
    qemu_bh_delete(deleted);
    aio_context_unref(ctx);
    g_assert_cmpint(count, ==, 2);
    g_assert_cmpint(d.count, ==, 0);
}

/* ---- fd handlers ---- */

typedef struct PipeData {
    AioContext *ctx;
    int fds[2];
    int reads;
    int writes;
    int drain;          /* read (and drop) this many bytes per call */
    bool remove_self;
    struct PipeData *other;
    Trace *trace;
    int id;
} PipeData;

static void pipe_open(PipeData *p, AioContext *ctx)
{
    p->ctx = ctx;
    g_assert_cmpint(pipe2(p->fds, O_NONBLOCK | O_CLOEXEC), ==, 0);
}

static void pipe_close(PipeData *p)
{
    close(p->fds[0]);
    close(p->fds[1]);
}

static void pipe_write_byte(PipeData *p)
{
    g_assert_cmpint(write(p->fds[1], "x", 1), ==, 1);
}

static void pipe_read_cb(void *opaque)
{
    PipeData *p = opaque;
    char buf[16];

    p->reads++;
    if (p->trace) {
        trace_add(p->trace, p->id);
    }
    if (p->drain) {
        g_assert_cmpint(read(p->fds[0], buf, MIN(p->drain, 16)), >, 0);
    }
    if (p->remove_self) {
        aio_set_fd_handler(p->ctx, p->fds[0], NULL, NULL, NULL);
    }
    if (p->other) {
        aio_set_fd_handler(p->ctx, p->other->fds[0], NULL, NULL, NULL);
    }
}

static void pipe_write_cb(void *opaque)
{
    PipeData *p = opaque;

    p->writes++;
    if (p->remove_self) {
        aio_set_fd_handler(p->ctx, p->fds[1], NULL, NULL, NULL);
    }
}

static void test_fd_read(void)
{
    AioContext *ctx = new_ctx();
    PipeData p = { .drain = 1 };

    pipe_open(&p, ctx);
    aio_set_fd_handler(ctx, p.fds[0], pipe_read_cb, NULL, &p);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 0);

    pipe_write_byte(&p);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(p.reads, ==, 1);
    /* Drained: not called again. */
    g_assert_false(aio_poll(ctx, false));

    /* Level-triggered: two bytes, one read per call, two calls. */
    pipe_write_byte(&p);
    pipe_write_byte(&p);
    g_assert_true(aio_poll(ctx, false));
    g_assert_true(aio_poll(ctx, false));
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 3);

    aio_set_fd_handler(ctx, p.fds[0], NULL, NULL, NULL);
    pipe_write_byte(&p);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 3);
    pipe_close(&p);
    aio_context_unref(ctx);
}

static void test_fd_write(void)
{
    AioContext *ctx = new_ctx();
    PipeData p = { .remove_self = true };

    pipe_open(&p, ctx);
    /* An empty pipe is writable at once. */
    aio_set_fd_handler(ctx, p.fds[1], NULL, pipe_write_cb, &p);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(p.writes, ==, 1);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(p.writes, ==, 1);
    pipe_close(&p);
    aio_context_unref(ctx);
}

static void test_fd_remove_in_callback(void)
{
    AioContext *ctx = new_ctx();
    PipeData p = { .remove_self = true };
    PipeData a = { 0 }, b = { 0 };

    /* Not drained, so it would fire forever if removal did not stick. */
    pipe_open(&p, ctx);
    aio_set_fd_handler(ctx, p.fds[0], pipe_read_cb, NULL, &p);
    pipe_write_byte(&p);
    g_assert_true(aio_poll(ctx, false));
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 1);
    pipe_close(&p);

    /*
     * Both ready in the same iteration, each removes the other: whichever
     * runs first, the other must not be called (its AioHandler is retired
     * but still referenced by the iteration's ready list).
     */
    pipe_open(&a, ctx);
    pipe_open(&b, ctx);
    a.other = &b;
    b.other = &a;
    aio_set_fd_handler(ctx, a.fds[0], pipe_read_cb, NULL, &a);
    aio_set_fd_handler(ctx, b.fds[0], pipe_read_cb, NULL, &b);
    pipe_write_byte(&a);
    pipe_write_byte(&b);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(a.reads + b.reads, ==, 1);
    /* The one that ran is still installed and its fd still readable. */
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(a.reads + b.reads, ==, 2);
    g_assert_true(a.reads == 2 || b.reads == 2);
    aio_set_fd_handler(ctx, a.fds[0], NULL, NULL, NULL);
    aio_set_fd_handler(ctx, b.fds[0], NULL, NULL, NULL);
    g_assert_false(aio_poll(ctx, false));
    pipe_close(&a);
    pipe_close(&b);
    aio_context_unref(ctx);
}

static void pipe_read_cb2(void *opaque)
{
    PipeData *p = opaque;

    /* Second handler: counted as a write to tell it apart. */
    p->writes++;
    g_assert_cmpint(read(p->fds[0], (char[1]) { 0 }, 1), ==, 1);
}

static void pipe_switch_cb(void *opaque)
{
    PipeData *p = opaque;

    p->reads++;
    /* Replace ourselves; the data stays there for the new handler. */
    aio_set_fd_handler(p->ctx, p->fds[0], pipe_read_cb2, NULL, p);
}

static void test_fd_change_handlers(void)
{
    AioContext *ctx = new_ctx();
    PipeData p = { .drain = 1 }, q = { 0 };

    pipe_open(&p, ctx);
    aio_set_fd_handler(ctx, p.fds[0], pipe_read_cb, NULL, &q);
    aio_set_fd_handler(ctx, p.fds[0], pipe_read_cb, NULL, &p);
    pipe_write_byte(&p);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 1);
    g_assert_cmpint(q.reads, ==, 0);

    /* Add a write handler to the same fd pair, then drop the read one. */
    aio_set_fd_handler(ctx, p.fds[1], NULL, pipe_write_cb, &p);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(p.writes, ==, 1);
    aio_set_fd_handler(ctx, p.fds[1], NULL, NULL, NULL);

    /* Replacement from inside the callback. */
    p.reads = p.writes = 0;
    aio_set_fd_handler(ctx, p.fds[0], pipe_switch_cb, NULL, &p);
    pipe_write_byte(&p);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 1);
    g_assert_cmpint(p.writes, ==, 0);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(p.reads, ==, 1);
    g_assert_cmpint(p.writes, ==, 1);
    g_assert_false(aio_poll(ctx, false));

    aio_set_fd_handler(ctx, p.fds[0], NULL, NULL, NULL);
    pipe_close(&p);
    aio_context_unref(ctx);
}

/* Close the fd in its handler and reuse the number for a new pipe. */
typedef struct ReuseData {
    AioContext *ctx;
    PipeData first, second;
    int old_fd;
} ReuseData;

static void reuse_cb(void *opaque)
{
    ReuseData *r = opaque;

    r->first.reads++;
    aio_set_fd_handler(r->ctx, r->first.fds[0], NULL, NULL, NULL);
    pipe_close(&r->first);
    pipe_open(&r->second, r->ctx);
    aio_set_fd_handler(r->ctx, r->second.fds[0], pipe_read_cb, NULL,
                       &r->second);
}

static void test_fd_close_and_reuse(void)
{
    ReuseData r = { .ctx = new_ctx(), .second.drain = 1 };

    pipe_open(&r.first, r.ctx);
    r.old_fd = r.first.fds[0];
    aio_set_fd_handler(r.ctx, r.first.fds[0], reuse_cb, NULL, &r);
    pipe_write_byte(&r.first);
    g_assert_true(aio_poll(r.ctx, false));
    g_assert_cmpint(r.first.reads, ==, 1);
    g_assert_false(aio_poll(r.ctx, false));
    g_assert_cmpint(r.second.reads, ==, 0);
    pipe_write_byte(&r.second);
    g_assert_true(aio_poll(r.ctx, false));
    g_assert_cmpint(r.second.reads, ==, 1);
    g_assert_cmpint(r.first.reads, ==, 1);
    aio_set_fd_handler(r.ctx, r.second.fds[0], NULL, NULL, NULL);
    pipe_close(&r.second);
    aio_context_unref(r.ctx);
}

/* ---- Event notifiers ---- */

static void test_event_notifier_basic(void)
{
    EventNotifier e;

    g_assert_cmpint(event_notifier_init(&e, false), ==, 0);
    g_assert_true(e.initialized);
    g_assert_cmpint(event_notifier_get_fd(&e), >=, 0);
    g_assert_false(event_notifier_test_and_clear(&e));
    g_assert_cmpint(event_notifier_set(&e), ==, 0);
    g_assert_cmpint(event_notifier_set(&e), ==, 0);
    g_assert_true(event_notifier_test_and_clear(&e));
    g_assert_false(event_notifier_test_and_clear(&e));
    event_notifier_cleanup(&e);
    g_assert_false(e.initialized);

    g_assert_cmpint(event_notifier_init(&e, true), ==, 0);
    g_assert_true(event_notifier_test_and_clear(&e));
    g_assert_false(event_notifier_test_and_clear(&e));
    event_notifier_cleanup(&e);
}

typedef struct ENData {
    EventNotifier e;
    int count;
    bool clear;
} ENData;

static void en_cb(EventNotifier *e)
{
    ENData *d = container_of(e, ENData, e);

    d->count++;
    if (d->clear) {
        g_assert_true(event_notifier_test_and_clear(e));
    }
}

static void test_event_notifier_handler(void)
{
    AioContext *ctx = new_ctx();
    ENData d = { .clear = true };

    g_assert_cmpint(event_notifier_init(&d.e, false), ==, 0);
    aio_set_event_notifier(ctx, &d.e, en_cb);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(d.count, ==, 0);

    event_notifier_set(&d.e);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(d.count, ==, 1);
    g_assert_false(aio_poll(ctx, false));

    /* Level-triggered: not cleared, called again. */
    d.clear = false;
    event_notifier_set(&d.e);
    g_assert_true(aio_poll(ctx, false));
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(d.count, ==, 3);

    aio_set_event_notifier(ctx, &d.e, NULL);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(d.count, ==, 3);
    event_notifier_cleanup(&d.e);
    aio_context_unref(ctx);
}

/* ---- Timers ---- */

typedef struct TimerData {
    QEMUTimer *timer;
    Trace *trace;
    int id;
    int count;
    int max;                /* re-arm itself until count reaches max */
    int64_t period;
    int64_t deadline;
    QEMUTimer *to_delete;
} TimerData;

static void timer_cb(void *opaque)
{
    TimerData *d = opaque;

    /* Never early. */
    g_assert_cmpint(get_clock_ns(), >=, d->deadline);
    g_assert_false(timer_pending(d->timer));
    d->count++;
    if (d->trace) {
        trace_add(d->trace, d->id);
    }
    if (d->to_delete) {
        timer_del(d->to_delete);
    }
    if (d->count < d->max) {
        d->deadline = get_clock_ns() + d->period;
        timer_mod_ns(d->timer, d->deadline);
    }
}

static void test_timer_order(void)
{
    static const int delay_ms[] = { 25, 5, 15, 10, 20, 5 };
    AioContext *ctx = new_ctx();
    Trace trace = { 0 };
    TimerData d[6];
    int64_t now = get_clock_ns();
    int i;

    for (i = 0; i < 6; i++) {
        d[i] = (TimerData) { .trace = &trace, .id = i };
        d[i].timer = aio_timer_new(ctx, timer_cb, &d[i]);
        d[i].deadline = now + delay_ms[i] * MS;
        timer_mod_ns(d[i].timer, d[i].deadline);
        g_assert_true(timer_pending(d[i].timer));
        g_assert_cmpint(timer_expire_time_ns(d[i].timer), ==, d[i].deadline);
    }
    while (trace.n < 6) {
        g_assert_true(aio_poll(ctx, true));
    }
    /* Deadline order; equal deadlines in arming order. */
    g_assert_cmpint(trace.ids[0], ==, 1);
    g_assert_cmpint(trace.ids[1], ==, 5);
    g_assert_cmpint(trace.ids[2], ==, 3);
    g_assert_cmpint(trace.ids[3], ==, 2);
    g_assert_cmpint(trace.ids[4], ==, 4);
    g_assert_cmpint(trace.ids[5], ==, 0);
    for (i = 0; i < 6; i++) {
        g_assert_cmpint(d[i].count, ==, 1);
        g_assert_cmpint(timer_expire_time_ns(d[i].timer), ==, -1);
        timer_free(d[i].timer);
    }
    g_assert_false(aio_poll(ctx, false));
    aio_context_unref(ctx);
}

/* Expired together: still fire in deadline order, in one iteration. */
static void test_timer_expired_batch(void)
{
    AioContext *ctx = new_ctx();
    Trace trace = { 0 };
    TimerData d[3];
    int64_t now = get_clock_ns();
    int i;

    for (i = 0; i < 3; i++) {
        d[i] = (TimerData) { .trace = &trace, .id = i };
        d[i].timer = aio_timer_new(ctx, timer_cb, &d[i]);
        d[i].deadline = now - (i + 1) * MS;
        timer_mod_ns(d[i].timer, d[i].deadline);
    }
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(trace.n, ==, 3);
    g_assert_cmpint(trace.ids[0], ==, 2);
    g_assert_cmpint(trace.ids[1], ==, 1);
    g_assert_cmpint(trace.ids[2], ==, 0);
    for (i = 0; i < 3; i++) {
        timer_free(d[i].timer);
    }
    aio_context_unref(ctx);
}

static void test_timer_rearm(void)
{
    AioContext *ctx = new_ctx();
    TimerData d = { .max = 5, .period = 2 * MS };

    d.timer = aio_timer_new(ctx, timer_cb, &d);
    d.deadline = get_clock_ns() + MS;
    timer_mod_ns(d.timer, d.deadline);
    while (d.count < 5) {
        g_assert_true(aio_poll(ctx, true));
    }
    g_assert_false(timer_pending(d.timer));
    g_assert_false(aio_poll(ctx, false));
    timer_free(d.timer);
    aio_context_unref(ctx);
}

/* Re-armed in the past from its callback: fires again next iteration. */
static void test_timer_rearm_past(void)
{
    AioContext *ctx = new_ctx();
    TimerData d = { .max = 1000, .period = -1000 * MS };

    d.timer = aio_timer_new(ctx, timer_cb, &d);
    d.deadline = 0;
    timer_mod_ns(d.timer, 0);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(d.count, ==, 1);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(d.count, ==, 2);
    timer_free(d.timer);
    aio_context_unref(ctx);
}

static void test_timer_del(void)
{
    AioContext *ctx = new_ctx();
    TimerData early = { 0 }, late = { 0 }, killer = { 0 }, victim = { 0 };
    int64_t now = get_clock_ns();

    early.timer = aio_timer_new(ctx, timer_cb, &early);
    late.timer = aio_timer_new(ctx, timer_cb, &late);
    early.deadline = now + 2 * MS;
    late.deadline = now + 10 * MS;
    timer_mod_ns(early.timer, early.deadline);
    timer_mod_ns(late.timer, late.deadline);
    timer_del(early.timer);
    g_assert_false(timer_pending(early.timer));
    timer_del(early.timer);     /* idempotent */
    while (!late.count) {
        g_assert_true(aio_poll(ctx, true));
    }
    g_assert_cmpint(early.count, ==, 0);

    /* Expired in the same iteration, deleted by an earlier callback. */
    killer.timer = aio_timer_new(ctx, timer_cb, &killer);
    victim.timer = aio_timer_new(ctx, timer_cb, &victim);
    killer.to_delete = victim.timer;
    now = get_clock_ns();
    killer.deadline = now - 2 * MS;
    victim.deadline = now - MS;
    timer_mod_ns(victim.timer, victim.deadline);
    timer_mod_ns(killer.timer, killer.deadline);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(killer.count, ==, 1);
    g_assert_cmpint(victim.count, ==, 0);
    g_assert_false(aio_poll(ctx, false));

    /* timer_free() of an armed timer disarms it. */
    timer_mod_ns(victim.timer, now);
    timer_free(victim.timer);
    g_assert_false(aio_poll(ctx, false));
    g_assert_cmpint(victim.count, ==, 0);

    timer_free(early.timer);
    timer_free(late.timer);
    timer_free(killer.timer);
    aio_context_unref(ctx);
}

static void test_timer_blocking_wakeup(void)
{
    AioContext *ctx = new_ctx();
    TimerData d = { 0 };

    d.timer = aio_timer_new(ctx, timer_cb, &d);
    /* Sub-millisecond too: neither early nor lost. */
    d.deadline = get_clock_ns() + MS / 4;
    timer_mod_ns(d.timer, d.deadline);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(d.count, ==, 1);

    d.deadline = get_clock_ns() + 30 * MS;
    timer_mod_ns(d.timer, d.deadline);
    g_assert_true(aio_poll(ctx, true));
    g_assert_cmpint(d.count, ==, 2);
    timer_free(d.timer);
    aio_context_unref(ctx);
}

/* ---- Coroutines ---- */

typedef struct CoData {
    Coroutine *co;
    Trace *trace;
    int id;
    bool done;
    GThread *thread;
    AioContext *ctx;
} CoData;

static void coroutine_fn co_trace_entry(void *opaque)
{
    CoData *d = opaque;

    qemu_coroutine_yield();
    trace_add(d->trace, d->id);
    d->ctx = qemu_get_current_aio_context();
    d->done = true;
}

static void test_co_schedule_order(void)
{
    AioContext *main_ctx = qemu_get_aio_context();
    AioContext *ctx = new_ctx();
    Trace trace = { 0 };
    CoData d[4];
    int i;

    for (i = 0; i < 4; i++) {
        d[i] = (CoData) { .trace = &trace, .id = i };
        d[i].co = qemu_coroutine_create(co_trace_entry, &d[i]);
        qemu_coroutine_enter(d[i].co);
        g_assert_true(qemu_coroutine_get_aio_context(d[i].co) == main_ctx);
    }
    aio_co_schedule(ctx, d[2].co);
    aio_co_schedule(ctx, d[0].co);
    aio_co_schedule(ctx, d[3].co);
    aio_co_schedule(ctx, d[1].co);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(trace.n, ==, 4);
    g_assert_cmpint(trace.ids[0], ==, 2);
    g_assert_cmpint(trace.ids[1], ==, 0);
    g_assert_cmpint(trace.ids[2], ==, 3);
    g_assert_cmpint(trace.ids[3], ==, 1);
    for (i = 0; i < 4; i++) {
        g_assert_true(d[i].done);
    }
    g_assert_false(aio_poll(ctx, false));
    aio_context_unref(ctx);
}

static void coroutine_fn co_yield_entry(void *opaque)
{
    qemu_coroutine_yield();
}

static void test_co_schedule_twice(void)
{
    if (g_test_subprocess()) {
        AioContext *ctx = new_ctx();
        Coroutine *co = qemu_coroutine_create(co_yield_entry, NULL);

        qemu_coroutine_enter(co);
        aio_co_schedule(ctx, co);
        aio_co_schedule(ctx, co);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr(
        "*Co-routine was already scheduled in 'aio_co_schedule'*");
}

/* Bounce between the main context and an iothread. */
typedef struct PingPong {
    AioContext *main_ctx;
    AioContext *io_ctx;
    GThread *main_thread;
    int hops;
    bool done;
} PingPong;

static void coroutine_fn pingpong_entry(void *opaque)
{
    PingPong *pp = opaque;
    int i;

    for (i = 0; i < 50; i++) {
        aio_co_schedule(pp->io_ctx, qemu_coroutine_self());
        qemu_coroutine_yield();
        g_assert_true(qemu_get_current_aio_context() == pp->io_ctx);
        g_assert_true(qemu_coroutine_get_aio_context(qemu_coroutine_self())
                      == pp->io_ctx);
        g_assert_true(g_thread_self() != pp->main_thread);
        pp->hops++;

        aio_co_schedule(pp->main_ctx, qemu_coroutine_self());
        qemu_coroutine_yield();
        g_assert_true(qemu_get_current_aio_context() == pp->main_ctx);
        g_assert_true(g_thread_self() == pp->main_thread);
        pp->hops++;
    }
    __atomic_store_n(&pp->done, true, __ATOMIC_SEQ_CST);
}

static void test_co_iothread_pingpong(void)
{
    IOThread *iothread = iothread_create("aio-test", &error_abort);
    PingPong pp = {
        .main_ctx = qemu_get_aio_context(),
        .io_ctx = iothread_get_aio_context(iothread),
        .main_thread = g_thread_self(),
    };
    Coroutine *co = qemu_coroutine_create(pingpong_entry, &pp);

    qemu_coroutine_enter(co);
    AIO_WAIT_WHILE(pp.main_ctx, !__atomic_load_n(&pp.done, __ATOMIC_SEQ_CST));
    g_assert_cmpint(pp.hops, ==, 100);
    iothread_destroy(iothread);
}

/*
 * Hop to an iothread while this thread does not poll its loop at all: the
 * move must not depend on the main loop running.
 */
static void coroutine_fn hop_entry(void *opaque)
{
    PingPong *pp = opaque;

    aio_co_schedule(pp->io_ctx, qemu_coroutine_self());
    qemu_coroutine_yield();
    g_assert_true(g_thread_self() != pp->main_thread);
    pp->hops++;
    __atomic_store_n(&pp->done, true, __ATOMIC_SEQ_CST);
}

static void test_co_schedule_self_no_poll(void)
{
    IOThread *iothread = iothread_create("aio-hop", &error_abort);
    PingPong pp = {
        .io_ctx = iothread_get_aio_context(iothread),
        .main_thread = g_thread_self(),
    };
    int i;

    for (i = 0; i < 20; i++) {
        pp.done = false;
        qemu_coroutine_enter(qemu_coroutine_create(hop_entry, &pp));
        while (!__atomic_load_n(&pp.done, __ATOMIC_SEQ_CST)) {
            g_usleep(100);
        }
    }
    iothread_destroy(iothread);
    g_assert_cmpint(pp.hops, ==, 20);
}

/* aio_co_wake() from inside a coroutine is deferred until it yields. */
typedef struct WakeData {
    Coroutine *sleeper;
    bool sleeper_ran;
    bool ran_before_waker_yield;
} WakeData;

static void coroutine_fn sleeper_entry(void *opaque)
{
    WakeData *w = opaque;

    qemu_coroutine_yield();
    w->sleeper_ran = true;
}

static void coroutine_fn waker_entry(void *opaque)
{
    WakeData *w = opaque;

    aio_co_wake(w->sleeper);
    w->ran_before_waker_yield = w->sleeper_ran;
    qemu_coroutine_yield();
}

static void test_co_wake_deferred(void)
{
    WakeData w = { 0 };
    Coroutine *waker;

    w.sleeper = qemu_coroutine_create(sleeper_entry, &w);
    qemu_coroutine_enter(w.sleeper);
    waker = qemu_coroutine_create(waker_entry, &w);
    qemu_coroutine_enter(waker);
    g_assert_false(w.ran_before_waker_yield);
    g_assert_true(w.sleeper_ran);
    /* Nothing went through the loop. */
    g_assert_false(aio_poll(qemu_get_aio_context(), false));
    qemu_coroutine_enter(waker);
}

static void test_co_wake_direct(void)
{
    WakeData w = { 0 };

    w.sleeper = qemu_coroutine_create(sleeper_entry, &w);
    qemu_coroutine_enter(w.sleeper);
    aio_co_wake(w.sleeper);
    g_assert_true(w.sleeper_ran);
    g_assert_false(aio_poll(qemu_get_aio_context(), false));
}

/* Woken from a thread that runs no loop: goes through the main loop. */
typedef struct ForeignWake {
    Coroutine *co;
    GThread *main_thread;
    GThread *ran_in;
    bool done;
} ForeignWake;

static void coroutine_fn foreign_entry(void *opaque)
{
    ForeignWake *f = opaque;

    qemu_coroutine_yield();
    f->ran_in = g_thread_self();
    __atomic_store_n(&f->done, true, __ATOMIC_SEQ_CST);
}

static gpointer foreign_thread_fn(gpointer opaque)
{
    ForeignWake *f = opaque;

    aio_co_wake(f->co);
    return NULL;
}

static void test_co_wake_from_thread(void)
{
    ForeignWake f = { .main_thread = g_thread_self() };
    GThread *thread;

    f.co = qemu_coroutine_create(foreign_entry, &f);
    qemu_coroutine_enter(f.co);
    thread = g_thread_new("waker", foreign_thread_fn, &f);
    AIO_WAIT_WHILE(qemu_get_aio_context(),
                   !__atomic_load_n(&f.done, __ATOMIC_SEQ_CST));
    g_thread_join(thread);
    g_assert_true(f.ran_in == f.main_thread);
}

static void test_co_enter(void)
{
    AioContext *ctx = new_ctx();
    WakeData w = { 0 };

    /* Not the current context: scheduled there. */
    w.sleeper = qemu_coroutine_create(sleeper_entry, &w);
    qemu_coroutine_enter(w.sleeper);
    aio_co_enter(ctx, w.sleeper);
    g_assert_false(w.sleeper_ran);
    g_assert_true(aio_poll(ctx, false));
    g_assert_true(w.sleeper_ran);

    /* The current context: entered at once. */
    w.sleeper_ran = false;
    w.sleeper = qemu_coroutine_create(sleeper_entry, &w);
    aio_co_enter(qemu_get_aio_context(), w.sleeper);
    g_assert_false(w.sleeper_ran);     /* first enter stops at the yield */
    aio_co_enter(qemu_get_aio_context(), w.sleeper);
    g_assert_true(w.sleeper_ran);
    aio_context_unref(ctx);
}

/* ---- IOThread ---- */

typedef struct IOThreadProbe {
    AioContext *ctx;
    GThread *thread;
    int count;
} IOThreadProbe;

static void iothread_probe_cb(void *opaque)
{
    IOThreadProbe *p = opaque;

    p->ctx = qemu_get_current_aio_context();
    p->thread = g_thread_self();
    __atomic_fetch_add(&p->count, 1, __ATOMIC_SEQ_CST);
}

static void test_iothread(void)
{
    IOThread *iothread = iothread_create("aio-probe", &error_abort);
    AioContext *ctx = iothread_get_aio_context(iothread);
    IOThreadProbe p = { 0 };
    int i;

    g_assert_nonnull(ctx);
    g_assert_true(ctx != qemu_get_aio_context());
    aio_bh_schedule_oneshot(ctx, iothread_probe_cb, &p);
    while (!__atomic_load_n(&p.count, __ATOMIC_SEQ_CST)) {
        g_usleep(1000);
    }
    g_assert_true(p.ctx == ctx);
    g_assert_true(p.thread != g_thread_self());

    /* Destroy runs what is already scheduled. */
    for (i = 0; i < 10; i++) {
        aio_bh_schedule_oneshot(ctx, iothread_probe_cb, &p);
    }
    iothread_destroy(iothread);
    g_assert_cmpint(p.count, ==, 11);

    /* Create and destroy right away, several times. */
    for (i = 0; i < 5; i++) {
        iothread_destroy(iothread_create("aio-quick", &error_abort));
    }
}

/* ---- Thread pool hook ---- */

static void test_thread_pool_lazy(void)
{
    AioContext *ctx = new_ctx();
    ThreadPool *pool = aio_get_thread_pool(ctx);

    g_assert_nonnull(pool);
    g_assert_true(aio_get_thread_pool(ctx) == pool);
    /* Freed with the context (the ASan build checks for leaks). */
    aio_context_unref(ctx);
}

static void test_context_ref(void)
{
    AioContext *ctx = new_ctx();
    int count = 0;

    aio_context_ref(ctx);
    aio_context_unref(ctx);
    /* Still usable after dropping the extra reference. */
    aio_bh_schedule_oneshot(ctx, oneshot_cb, &count);
    g_assert_true(aio_poll(ctx, false));
    g_assert_cmpint(count, ==, 1);
    aio_context_unref(ctx);
}

static void test_current_context(void)
{
    AioContext *ctx = new_ctx();

    g_assert_true(qemu_get_current_aio_context() == qemu_get_aio_context());
    g_assert_true(qemu_in_main_thread());
    aio_context_set_thread_default(ctx);
    g_assert_true(qemu_get_current_aio_context() == ctx);
    aio_context_set_thread_default(NULL);
    g_assert_true(qemu_get_current_aio_context() == qemu_get_aio_context());
    main_loop_wait(true);
    aio_context_unref(ctx);
}

/* Children of g_test_trap_subprocess() start without a main loop. */
static void test_main_loop_lazy(void)
{
    if (g_test_subprocess()) {
        AioContext *ctx;

        g_assert_false(qemu_in_main_thread());
        ctx = qemu_get_current_aio_context();
        g_assert_nonnull(ctx);
        g_assert_true(qemu_in_main_thread());
        g_assert_true(qemu_get_aio_context() == ctx);
        g_assert_cmpint(qemu_init_main_loop(&error_abort), ==, 0);
        g_assert_true(qemu_get_aio_context() == ctx);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
}

static void test_main_loop_uninitialized(void)
{
    if (g_test_subprocess()) {
        qemu_get_aio_context();
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*main loop is not initialized*");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    if (!g_test_subprocess()) {
        g_assert_cmpint(qemu_init_main_loop(&error_abort), ==, 0);
        g_assert_cmpint(qemu_init_main_loop(&error_abort), ==, 0);
    }

    g_test_add_func("/aio/main-loop/lazy", test_main_loop_lazy);
    g_test_add_func("/aio/main-loop/uninitialized",
                    test_main_loop_uninitialized);

    g_test_add_func("/aio/context/current", test_current_context);
    g_test_add_func("/aio/context/ref", test_context_ref);
    g_test_add_func("/aio/context/unref-runs-pending-bhs",
                    test_unref_runs_pending_bhs);
    g_test_add_func("/aio/context/thread-pool-lazy", test_thread_pool_lazy);
    g_test_add_func("/aio/poll/idle", test_poll_idle);
    g_test_add_func("/aio/notify/before-poll", test_notify_before_poll);
    g_test_add_func("/aio/notify/from-thread", test_notify_from_thread);
    g_test_add_func("/aio/bh/fifo", test_bh_fifo);
    g_test_add_func("/aio/bh/reschedule-self", test_bh_reschedule_self);
    g_test_add_func("/aio/bh/oneshot", test_bh_oneshot);
    g_test_add_func("/aio/bh/delete-scheduled", test_bh_delete_scheduled);
    g_test_add_func("/aio/bh/delete-from-cb", test_bh_delete_from_cb);
    g_test_add_func("/aio/bh/cancel", test_bh_cancel);
    g_test_add_func("/aio/bh/nested-poll", test_bh_nested_poll);
    g_test_add_func("/aio/bh/schedule-from-thread",
                    test_bh_schedule_from_thread);
    g_test_add_func("/aio/bh/oneshot-storm", test_bh_oneshot_storm);
    g_test_add_func("/aio/fd/read", test_fd_read);
    g_test_add_func("/aio/fd/write", test_fd_write);
    g_test_add_func("/aio/fd/remove-in-callback", test_fd_remove_in_callback);
    g_test_add_func("/aio/fd/change-handlers", test_fd_change_handlers);
    g_test_add_func("/aio/fd/close-and-reuse", test_fd_close_and_reuse);
    g_test_add_func("/aio/event-notifier/basic", test_event_notifier_basic);
    g_test_add_func("/aio/event-notifier/handler",
                    test_event_notifier_handler);
    g_test_add_func("/aio/timer/order", test_timer_order);
    g_test_add_func("/aio/timer/expired-batch", test_timer_expired_batch);
    g_test_add_func("/aio/timer/rearm", test_timer_rearm);
    g_test_add_func("/aio/timer/rearm-past", test_timer_rearm_past);
    g_test_add_func("/aio/timer/del", test_timer_del);
    g_test_add_func("/aio/timer/blocking-wakeup", test_timer_blocking_wakeup);
    g_test_add_func("/aio/co/schedule-order", test_co_schedule_order);
    g_test_add_func("/aio/co/schedule-twice", test_co_schedule_twice);
    g_test_add_func("/aio/co/iothread-pingpong", test_co_iothread_pingpong);
    g_test_add_func("/aio/co/schedule-self-no-poll",
                    test_co_schedule_self_no_poll);
    g_test_add_func("/aio/co/wake-deferred", test_co_wake_deferred);
    g_test_add_func("/aio/co/wake-direct", test_co_wake_direct);
    g_test_add_func("/aio/co/wake-from-thread", test_co_wake_from_thread);
    g_test_add_func("/aio/co/enter", test_co_enter);
    g_test_add_func("/aio/iothread/create-destroy", test_iothread);
    return g_test_run();
}
