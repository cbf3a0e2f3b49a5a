/*
 * Unit tests for coroutine locks (CoMutex, CoQueue, CoRwlock) and sleep.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/coroutine.h"
#include "qemu/main-loop.h"
#include "qemu/iothread.h"
#include "qapi/error.h"
#include "block/aio.h"

/* Let the coroutine's event loop run, then continue. */
static void coroutine_fn yield_to_loop(void)
{
    Coroutine *self = qemu_coroutine_self();

    aio_co_schedule(qemu_coroutine_get_aio_context(self), self);
    qemu_coroutine_yield();
}

static void nop_bh(void *opaque)
{
}

/* ---- CoMutex: many contenders, FIFO hand-off ---- */

#define FIFO_N 128

static CoMutex fifo_mutex;
static int fifo_order[FIFO_N];
static int fifo_count;
static bool fifo_in_cs;
static Coroutine *fifo_holder;

static void coroutine_fn fifo_contender(void *opaque)
{
    int id = GPOINTER_TO_INT(opaque);

    qemu_co_mutex_lock(&fifo_mutex);
    g_assert_false(fifo_in_cs);
    fifo_in_cs = true;
    qemu_co_mutex_assert_locked(&fifo_mutex);
    fifo_order[fifo_count++] = id;
    fifo_holder = qemu_coroutine_self();

    /* Keep the lock across a yield: everybody else must queue. */
    qemu_coroutine_yield();

    g_assert_true(fifo_in_cs);
    fifo_in_cs = false;
    fifo_holder = NULL;
    qemu_co_mutex_unlock(&fifo_mutex);
}

static void test_mutex_fifo(void)
{
    int i;

    qemu_co_mutex_init(&fifo_mutex);
    fifo_count = 0;
    for (i = 0; i < FIFO_N; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(fifo_contender,
                                                   GINT_TO_POINTER(i)));
    }
    /* Only the first got it; the rest are blocked. */
    g_assert_cmpint(fifo_count, ==, 1);

    for (i = 0; i < FIFO_N; i++) {
        Coroutine *holder = fifo_holder;

        g_assert_nonnull(holder);
        g_assert_cmpint(fifo_count, ==, i + 1);
        /* Unlocks; the hand-off runs the next one before we return. */
        qemu_coroutine_enter(holder);
    }
    g_assert_cmpint(fifo_count, ==, FIFO_N);
    g_assert_null(fifo_holder);
    g_assert_false(fifo_in_cs);
    for (i = 0; i < FIFO_N; i++) {
        g_assert_cmpint(fifo_order[i], ==, i);
    }
    /* Free again: trylock from a coroutine-less context would work. */
    g_assert_cmpuint(fifo_mutex.locked, ==, 0);
}

/* ---- CoMutex: randomized schedule, no lost wake-up ---- */

#define RAND_N 50
#define RAND_ITERS 200

typedef struct {
    Coroutine *co;
    bool ready;         /* yielded voluntarily, waiting for the driver */
    bool done;
} RandWorker;

static CoMutex rand_mutex;
static bool rand_in_cs;
static unsigned rand_acquired;

static void coroutine_fn rand_pause(RandWorker *w)
{
    w->ready = true;
    qemu_coroutine_yield();
}

static void coroutine_fn rand_worker(void *opaque)
{
    RandWorker *w = opaque;
    int i;

    for (i = 0; i < RAND_ITERS; i++) {
        if (g_test_rand_bit()) {
            rand_pause(w);
        }
        if (!g_test_rand_int_range(0, 4) && qemu_co_mutex_trylock(&rand_mutex)) {
            /* got it without waiting */
        } else {
            qemu_co_mutex_lock(&rand_mutex);
        }
        g_assert_false(rand_in_cs);
        rand_in_cs = true;
        rand_acquired++;
        if (g_test_rand_bit()) {
            rand_pause(w);      /* holding the lock */
        }
        g_assert_true(rand_in_cs);
        rand_in_cs = false;
        qemu_co_mutex_unlock(&rand_mutex);
    }
    w->done = true;
}

static void test_mutex_random(void)
{
    RandWorker workers[RAND_N] = { 0 };
    int i, n_ready;

    qemu_co_mutex_init(&rand_mutex);
    rand_acquired = 0;
    for (i = 0; i < RAND_N; i++) {
        workers[i].co = qemu_coroutine_create(rand_worker, &workers[i]);
        workers[i].ready = true;
    }

    for (;;) {
        int ready[RAND_N];

        n_ready = 0;
        for (i = 0; i < RAND_N; i++) {
            if (workers[i].ready) {
                ready[n_ready++] = i;
            }
        }
        if (!n_ready) {
            break;
        }
        i = ready[g_test_rand_int_range(0, n_ready)];
        workers[i].ready = false;
        qemu_coroutine_enter(workers[i].co);
    }

    /* Nobody runnable: a lost wake-up would leave someone blocked. */
    for (i = 0; i < RAND_N; i++) {
        g_assert_true(workers[i].done);
    }
    g_assert_cmpuint(rand_acquired, ==, RAND_N * RAND_ITERS);
    g_assert_cmpuint(rand_mutex.locked, ==, 0);
}

/* ---- CoMutex: trylock ---- */

static CoMutex try_mutex;

static void coroutine_fn try_second(void *opaque)
{
    /* Held by try_first: must fail without yielding. */
    g_assert_false(qemu_co_mutex_trylock(&try_mutex));
    *(bool *)opaque = true;
}

static void coroutine_fn try_first(void *opaque)
{
    bool second_ran = false;

    g_assert_true(qemu_co_mutex_trylock(&try_mutex));
    qemu_co_mutex_assert_locked(&try_mutex);
    g_assert_false(qemu_co_mutex_trylock(&try_mutex));
    qemu_coroutine_enter(qemu_coroutine_create(try_second, &second_ran));
    g_assert_true(second_ran);
    qemu_co_mutex_unlock(&try_mutex);

    g_assert_true(qemu_co_mutex_trylock(&try_mutex));
    qemu_co_mutex_unlock(&try_mutex);
    *(bool *)opaque = true;
}

static void test_mutex_trylock(void)
{
    bool done = false;

    qemu_co_mutex_init(&try_mutex);
    qemu_coroutine_enter(qemu_coroutine_create(try_first, &done));
    g_assert_true(done);
}

/* ---- CoMutex: contended between the main context and an IOThread ---- */

#define XCTX_WORKERS 4          /* per context */
#define XCTX_ITERS 12500        /* 2 * 4 * 12500 = 100000 increments */

static CoMutex xctx_mutex;
static unsigned long xctx_counter;
static unsigned long xctx_by_ctx[2];
static unsigned xctx_done;
static AioContext *xctx_main;

static void coroutine_fn xctx_worker(void *opaque)
{
    int side = GPOINTER_TO_INT(opaque);
    int i;

    for (i = 0; i < XCTX_ITERS; i++) {
        unsigned long v;

        qemu_co_mutex_lock(&xctx_mutex);
        v = xctx_counter;
        if (i % 16 == 0) {
            /* Hold the lock across a trip through the event loop. */
            yield_to_loop();
        }
        xctx_counter = v + 1;
        xctx_by_ctx[side]++;
        qemu_co_mutex_unlock(&xctx_mutex);
        if (i % 4 == 0) {
            yield_to_loop();
        }
    }
    __atomic_fetch_add(&xctx_done, 1, __ATOMIC_SEQ_CST);
    /* Make sure the main loop wakes up to notice. */
    aio_bh_schedule_oneshot(xctx_main, nop_bh, NULL);
}

static void test_mutex_iothread(void)
{
    IOThread *iothread = iothread_create("co-lock-test", &error_abort);
    AioContext *io_ctx = iothread_get_aio_context(iothread);
    int i;

    xctx_main = qemu_get_aio_context();
    qemu_co_mutex_init(&xctx_mutex);
    xctx_counter = xctx_done = 0;
    xctx_by_ctx[0] = xctx_by_ctx[1] = 0;

    for (i = 0; i < XCTX_WORKERS; i++) {
        aio_co_enter(io_ctx, qemu_coroutine_create(xctx_worker,
                                                   GINT_TO_POINTER(1)));
        aio_co_enter(xctx_main, qemu_coroutine_create(xctx_worker,
                                                      GINT_TO_POINTER(0)));
    }
    while (__atomic_load_n(&xctx_done, __ATOMIC_SEQ_CST) <
           2 * XCTX_WORKERS) {
        aio_poll(xctx_main, true);
    }
    iothread_destroy(iothread);

    g_assert_cmpuint(xctx_counter, ==, 2 * XCTX_WORKERS * XCTX_ITERS);
    g_assert_cmpuint(xctx_by_ctx[0], ==, XCTX_WORKERS * XCTX_ITERS);
    g_assert_cmpuint(xctx_by_ctx[1], ==, XCTX_WORKERS * XCTX_ITERS);
    g_assert_cmpuint(xctx_mutex.locked, ==, 0);
}

/* ---- CoQueue ---- */

static CoQueue queue;
static GString *queue_log;

static void coroutine_fn queue_waiter(void *opaque)
{
    qemu_co_queue_wait(&queue, NULL);
    g_string_append_printf(queue_log, "%s ", (const char *)opaque);
}

static void test_queue(void)
{
    static const char *const names[] = { "w1", "w2", "w3", "w4", "w5" };
    int i;

    queue_log = g_string_new("");
    qemu_co_queue_init(&queue);
    g_assert_true(qemu_co_queue_empty(&queue));
    g_assert_false(qemu_co_queue_next(&queue));
    g_assert_false(qemu_co_enter_next(&queue, NULL));

    for (i = 0; i < ARRAY_SIZE(names); i++) {
        qemu_coroutine_enter(qemu_coroutine_create(queue_waiter,
                                                   (void *)names[i]));
    }
    g_assert_false(qemu_co_queue_empty(&queue));
    g_assert_cmpstr(queue_log->str, ==, "");

    /* Outside coroutines, wakes run at once, oldest first. */
    g_assert_true(qemu_co_queue_next(&queue));
    g_assert_cmpstr(queue_log->str, ==, "w1 ");
    g_assert_true(qemu_co_enter_next(&queue, NULL));
    g_assert_cmpstr(queue_log->str, ==, "w1 w2 ");
    qemu_co_queue_restart_all(&queue);
    g_assert_cmpstr(queue_log->str, ==, "w1 w2 w3 w4 w5 ");
    g_assert_true(qemu_co_queue_empty(&queue));
    g_assert_false(qemu_co_queue_next(&queue));
    g_string_free(queue_log, true);
}

static CoMutex queue_mutex;
static int queue_mutex_woken;

static void coroutine_fn queue_mutex_waiter(void *opaque)
{
    qemu_co_mutex_lock(&queue_mutex);
    qemu_co_queue_wait(&queue, &queue_mutex);
    /* The mutex is ours again. */
    qemu_co_mutex_assert_locked(&queue_mutex);
    queue_mutex_woken++;
    qemu_co_mutex_unlock(&queue_mutex);
}

static void coroutine_fn queue_mutex_waker(void *opaque)
{
    /* Released by the waiter while it waits. */
    g_assert_true(qemu_co_mutex_trylock(&queue_mutex));
    g_assert_true(qemu_co_queue_next(&queue));
    /* The waiter now blocks on the mutex we hold. */
    qemu_coroutine_yield();
    g_assert_cmpint(queue_mutex_woken, ==, 0);
    qemu_co_mutex_unlock(&queue_mutex);
}

static void test_queue_mutex(void)
{
    Coroutine *waker;

    qemu_co_queue_init(&queue);
    qemu_co_mutex_init(&queue_mutex);
    queue_mutex_woken = 0;

    qemu_coroutine_enter(qemu_coroutine_create(queue_mutex_waiter, NULL));
    g_assert_false(qemu_co_queue_empty(&queue));
    waker = qemu_coroutine_create(queue_mutex_waker, NULL);
    qemu_coroutine_enter(waker);
    g_assert_true(qemu_co_queue_empty(&queue));
    g_assert_cmpint(queue_mutex_woken, ==, 0);
    qemu_coroutine_enter(waker);
    g_assert_cmpint(queue_mutex_woken, ==, 1);
    g_assert_cmpuint(queue_mutex.locked, ==, 0);
}

/* ---- CoRwlock: scripted actors ---- */

typedef struct {
    const char *name;
    const char *script;     /* r w u (unlock) U (upgrade) D (downgrade) y */
    int pc;
    Coroutine *co;
} Actor;

static CoRwlock rw;
static GString *rw_log;
static int rw_readers_in, rw_writers_in;

static void rw_check(void)
{
    g_assert_cmpint(rw_writers_in, <=, 1);
    g_assert_false(rw_writers_in && rw_readers_in);
}

static void coroutine_fn actor_run(void *opaque)
{
    Actor *a = opaque;

    while (a->script[a->pc]) {
        char op = a->script[a->pc++];

        switch (op) {
        case 'r':
            qemu_co_rwlock_rdlock(&rw);
            rw_readers_in++;
            break;
        case 'w':
            qemu_co_rwlock_wrlock(&rw);
            rw_writers_in++;
            break;
        case 'u':
            if (rw_writers_in && rw.readers < 0) {
                rw_writers_in--;
            } else {
                rw_readers_in--;
            }
            qemu_co_rwlock_unlock(&rw);
            break;
        case 'U':
            rw_readers_in--;
            qemu_co_rwlock_upgrade(&rw);
            rw_writers_in++;
            break;
        case 'D':
            qemu_co_rwlock_downgrade(&rw);
            rw_writers_in--;
            rw_readers_in++;
            break;
        case 'y':
            qemu_coroutine_yield();
            continue;
        default:
            g_assert_not_reached();
        }
        rw_check();
        g_string_append_printf(rw_log, "%s%c ", a->name, op);
    }
}

static void actors_init(void)
{
    qemu_co_rwlock_init(&rw);
    rw_log = g_string_new("");
    rw_readers_in = rw_writers_in = 0;
}

static void actor_enter(Actor *a)
{
    if (!a->co) {
        a->co = qemu_coroutine_create(actor_run, a);
    }
    qemu_coroutine_enter(a->co);
}

static void actors_done(Actor *actors, int n)
{
    int i;

    for (i = 0; i < n; i++) {
        g_assert_cmpint(actors[i].script[actors[i].pc], ==, '\0');
    }
    g_assert_cmpint(rw.readers, ==, 0);
    g_assert_cmpint(rw_readers_in + rw_writers_in, ==, 0);
    g_assert_true(qemu_co_queue_empty(&rw.queue));
    g_string_free(rw_log, true);
}

static void test_rwlock_readers(void)
{
    Actor a[5] = {
        { "A", "ryu" }, { "B", "ryu" }, { "C", "ryu" },
        { "D", "ryu" }, { "E", "ryu" },
    };
    int i;

    actors_init();
    for (i = 0; i < 5; i++) {
        actor_enter(&a[i]);
    }
    /* All five hold it at once. */
    g_assert_cmpint(rw_readers_in, ==, 5);
    g_assert_cmpint(rw.readers, ==, 5);
    for (i = 0; i < 5; i++) {
        actor_enter(&a[i]);
    }
    g_assert_cmpstr(rw_log->str, ==, "Ar Br Cr Dr Er Au Bu Cu Du Eu ");
    actors_done(a, 5);
}

static void test_rwlock_writer(void)
{
    Actor a[4] = {
        { "W", "wyu" }, { "R1", "ryu" }, { "X", "wyu" }, { "R2", "ryu" },
    };

    actors_init();
    actor_enter(&a[0]);                 /* W holds */
    actor_enter(&a[1]);                 /* R1 waits */
    actor_enter(&a[2]);                 /* X waits */
    actor_enter(&a[3]);                 /* R2 waits (behind X) */
    g_assert_cmpstr(rw_log->str, ==, "Ww ");
    g_assert_cmpint(rw.readers, ==, -1);

    actor_enter(&a[0]);                 /* W unlocks: R1 only, X next */
    g_assert_cmpstr(rw_log->str, ==, "Ww Wu R1r ");
    actor_enter(&a[1]);                 /* R1 unlocks: X gets it */
    g_assert_cmpstr(rw_log->str, ==, "Ww Wu R1r R1u Xw ");
    actor_enter(&a[2]);                 /* X unlocks: R2 */
    g_assert_cmpstr(rw_log->str, ==, "Ww Wu R1r R1u Xw Xu R2r ");
    actor_enter(&a[3]);
    actors_done(a, 4);
}

static void test_rwlock_no_writer_starvation(void)
{
    Actor a[5] = {
        { "R1", "ryu" }, { "W", "wyu" },
        { "R2", "ryu" }, { "R3", "ryu" }, { "R4", "ryu" },
    };

    actors_init();
    actor_enter(&a[0]);                 /* R1 holds */
    actor_enter(&a[1]);                 /* W waits for R1 */
    actor_enter(&a[2]);                 /* later readers do not overtake */
    actor_enter(&a[3]);
    g_assert_cmpstr(rw_log->str, ==, "R1r ");
    g_assert_cmpint(rw.readers, ==, 1);

    actor_enter(&a[0]);                 /* R1 unlocks: W gets it */
    g_assert_cmpstr(rw_log->str, ==, "R1r R1u Ww ");
    actor_enter(&a[4]);                 /* R4 waits too */
    actor_enter(&a[1]);                 /* W unlocks: all readers at once */
    g_assert_cmpstr(rw_log->str, ==, "R1r R1u Ww Wu R2r R3r R4r ");
    g_assert_cmpint(rw_readers_in, ==, 3);
    actor_enter(&a[2]);
    actor_enter(&a[3]);
    actor_enter(&a[4]);
    actors_done(a, 5);
}

static void test_rwlock_upgrade_downgrade(void)
{
    Actor a[4] = {
        { "A", "ryUyDyu" }, { "B", "ryu" }, { "C", "ryu" }, { "S", "rUDu" },
    };

    actors_init();
    actor_enter(&a[0]);                 /* A reads */
    actor_enter(&a[1]);                 /* B reads */
    g_assert_cmpint(rw.readers, ==, 2);
    actor_enter(&a[0]);                 /* A upgrades: waits for B */
    g_assert_cmpstr(rw_log->str, ==, "Ar Br ");
    actor_enter(&a[2]);                 /* C queues behind the upgrade */
    actor_enter(&a[1]);                 /* B leaves: A becomes writer */
    g_assert_cmpstr(rw_log->str, ==, "Ar Br Bu AU ");
    g_assert_cmpint(rw.readers, ==, -1);
    actor_enter(&a[0]);                 /* A downgrades: C joins */
    g_assert_cmpstr(rw_log->str, ==, "Ar Br Bu AU AD Cr ");
    g_assert_cmpint(rw.readers, ==, 2);
    actor_enter(&a[0]);
    actor_enter(&a[2]);
    g_assert_cmpint(rw.readers, ==, 0);

    /* Sole reader: upgrade and downgrade without waiting. */
    actor_enter(&a[3]);
    g_assert_cmpstr(rw_log->str, ==,
                    "Ar Br Bu AU AD Cr Au Cu Sr SU SD Su ");
    actors_done(a, 4);
}

/* ---- sleep ---- */

typedef struct {
    int64_t ns;
    int64_t elapsed;
    QemuCoSleep w;
    bool done;
} SleepData;

static void coroutine_fn sleeper(void *opaque)
{
    SleepData *d = opaque;
    int64_t t0 = get_clock_ns();

    qemu_co_sleep_ns(d->ns);
    d->elapsed = get_clock_ns() - t0;
    d->done = true;
}

static void test_sleep(void)
{
    AioContext *ctx = qemu_get_aio_context();
    SleepData d = { .ns = 20 * 1000 * 1000 };

    qemu_coroutine_enter(qemu_coroutine_create(sleeper, &d));
    g_assert_false(d.done);
    while (!d.done) {
        aio_poll(ctx, true);
    }
    g_assert_cmpint(d.elapsed, >=, d.ns);
}

static void coroutine_fn wakeable_sleeper(void *opaque)
{
    SleepData *d = opaque;
    int64_t t0 = get_clock_ns();

    qemu_co_sleep_ns_wakeable(&d->w, d->ns);
    d->elapsed = get_clock_ns() - t0;
    d->done = true;
}

static void test_sleep_wake(void)
{
    SleepData d = { .ns = 3600LL * 1000 * 1000 * 1000 };
    Coroutine *co = qemu_coroutine_create(wakeable_sleeper, &d);

    qemu_coroutine_enter(co);
    g_assert_false(d.done);
    g_assert(d.w.to_wake == co);
    /* No timer of an hour fires in a non-blocking poll. */
    aio_poll(qemu_get_aio_context(), false);
    g_assert_false(d.done);

    qemu_co_sleep_wake(&d.w);
    g_assert_true(d.done);
    g_assert_null(d.w.to_wake);
    /* A second wake is harmless. */
    qemu_co_sleep_wake(&d.w);
    g_assert_cmpint(d.elapsed, <, d.ns);
}

/* Woken from another coroutine whose own (short) sleep ended. */
static void coroutine_fn waking_sleeper(void *opaque)
{
    SleepData *target = opaque;

    qemu_co_sleep_ns(1000 * 1000);
    qemu_co_sleep_wake(&target->w);
    /* Deferred: the target runs after we are done. */
    g_assert_false(target->done);
}

static void test_sleep_wake_from_coroutine(void)
{
    SleepData d = { .ns = 3600LL * 1000 * 1000 * 1000 };

    qemu_coroutine_enter(qemu_coroutine_create(wakeable_sleeper, &d));
    qemu_coroutine_enter(qemu_coroutine_create(waking_sleeper, &d));
    while (!d.done) {
        aio_poll(qemu_get_aio_context(), true);
    }
    g_assert_cmpint(d.elapsed, <, d.ns);
}

/* Sleeping in an IOThread uses that thread's timers. */
static void coroutine_fn iothread_sleeper(void *opaque)
{
    SleepData *d = opaque;

    sleeper(d);
    aio_bh_schedule_oneshot(qemu_get_aio_context(), nop_bh, NULL);
}

static void test_sleep_iothread(void)
{
    IOThread *iothread = iothread_create("co-sleep-test", &error_abort);
    SleepData d = { .ns = 10 * 1000 * 1000 };

    aio_co_enter(iothread_get_aio_context(iothread),
                 qemu_coroutine_create(iothread_sleeper, &d));
    while (!__atomic_load_n(&d.done, __ATOMIC_SEQ_CST)) {
        aio_poll(qemu_get_aio_context(), true);
    }
    iothread_destroy(iothread);
    g_assert_cmpint(d.elapsed, >=, d.ns);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);

    g_test_add_func("/co-mutex/fifo", test_mutex_fifo);
    g_test_add_func("/co-mutex/random", test_mutex_random);
    g_test_add_func("/co-mutex/trylock", test_mutex_trylock);
    g_test_add_func("/co-mutex/iothread", test_mutex_iothread);
    g_test_add_func("/co-queue/basic", test_queue);
    g_test_add_func("/co-queue/mutex", test_queue_mutex);
    g_test_add_func("/co-rwlock/readers", test_rwlock_readers);
    g_test_add_func("/co-rwlock/writer", test_rwlock_writer);
    g_test_add_func("/co-rwlock/no-writer-starvation",
                    test_rwlock_no_writer_starvation);
    g_test_add_func("/co-rwlock/upgrade-downgrade",
                    test_rwlock_upgrade_downgrade);
    g_test_add_func("/co-sleep/basic", test_sleep);
    g_test_add_func("/co-sleep/wake", test_sleep_wake);
    g_test_add_func("/co-sleep/wake-from-coroutine",
                    test_sleep_wake_from_coroutine);
    g_test_add_func("/co-sleep/iothread", test_sleep_iothread);
    return g_test_run();
}
