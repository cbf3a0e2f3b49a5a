/*
 * Unit tests for the coroutine core and its switching backend.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/coroutine.h"
#include "qemu/main-loop.h"
#include "block/aio.h"

/* ---- enter / yield / terminate ---- */

static void coroutine_fn set_and_yield(void *opaque)
{
    int *state = opaque;

    *state = 1;
    qemu_coroutine_yield();
    *state = 2;
}

static void test_enter_yield_terminate(void)
{
    int state = 0;
    Coroutine *co = qemu_coroutine_create(set_and_yield, &state);

    g_assert_false(qemu_coroutine_entered(co));
    qemu_coroutine_enter(co);
    g_assert_cmpint(state, ==, 1);
    g_assert_false(qemu_coroutine_entered(co));
    qemu_coroutine_enter(co);
    g_assert_cmpint(state, ==, 2);
}

/* ---- self / in_coroutine / entered / caller ---- */

typedef struct {
    Coroutine *co;
    Coroutine *leader;
    bool checked;
} SelfData;

static void coroutine_fn check_self(void *opaque)
{
    SelfData *d = opaque;

    g_assert_true(qemu_in_coroutine());
    g_assert(qemu_coroutine_self() == d->co);
    g_assert_true(qemu_coroutine_entered(d->co));
    g_assert(qemu_coroutine_caller(d->co) == d->leader);
    g_assert(qemu_coroutine_get_aio_context(d->co) ==
             qemu_get_current_aio_context());
    qemu_coroutine_yield();
    /* Still right after a switch away and back. */
    g_assert(qemu_coroutine_self() == d->co);
    g_assert(qemu_coroutine_caller(d->co) == d->leader);
    d->checked = true;
}

static void test_self(void)
{
    SelfData d = { 0 };

    g_assert_false(qemu_in_coroutine());
    d.leader = qemu_coroutine_self();
    g_assert_nonnull(d.leader);
    g_assert(qemu_coroutine_self() == d.leader);
    g_assert_null(qemu_coroutine_caller(d.leader));

    d.co = qemu_coroutine_create(check_self, &d);
    g_assert_null(qemu_coroutine_caller(d.co));
    qemu_coroutine_enter(d.co);
    g_assert_false(qemu_in_coroutine());
    g_assert_null(qemu_coroutine_caller(d.co));
    g_assert_false(qemu_coroutine_entered(d.co));
    qemu_coroutine_enter(d.co);
    g_assert_true(d.checked);
    g_assert(qemu_coroutine_self() == d.leader);
}

static void test_backend_name(void)
{
    const char *name = qemu_coroutine_backend_name();

    g_assert_nonnull(name);
#if !defined(CONFIG_COROUTINE_ASM)
    g_assert_cmpstr(name, ==, "ucontext");
#elif defined(__x86_64__)
    g_assert_cmpstr(name, ==, "asm-x86_64");
#else
    g_assert_cmpstr(name, ==, "asm-aarch64");
#endif
}

/* ---- nesting ---- */

#define NEST_DEPTH 4

typedef struct {
    Coroutine *co[NEST_DEPTH];
    GString *log;
} NestData;

static NestData nest;

static void coroutine_fn nest_level(void *opaque)
{
    int level = GPOINTER_TO_INT(opaque);
    Coroutine *self = qemu_coroutine_self();

    g_assert(self == nest.co[level]);
    g_string_append_printf(nest.log, "s%d ", level);
    if (level > 0) {
        g_assert(qemu_coroutine_caller(self) == nest.co[level - 1]);
    }
    if (level + 1 < NEST_DEPTH) {
        nest.co[level + 1] = qemu_coroutine_create(nest_level,
                                                   GINT_TO_POINTER(level + 1));
        qemu_coroutine_enter(nest.co[level + 1]);
        /* The inner coroutine yielded back to us, not to the leader. */
        g_assert(qemu_coroutine_self() == self);
        g_assert_true(qemu_coroutine_entered(self));
    }
    g_string_append_printf(nest.log, "y%d ", level);
    qemu_coroutine_yield();
    g_string_append_printf(nest.log, "e%d ", level);
}

static void test_nesting(void)
{
    int i;

    nest.log = g_string_new("");
    nest.co[0] = qemu_coroutine_create(nest_level, GINT_TO_POINTER(0));
    qemu_coroutine_enter(nest.co[0]);
    g_assert_cmpstr(nest.log->str, ==, "s0 s1 s2 s3 y3 y2 y1 y0 ");
    for (i = 0; i < NEST_DEPTH; i++) {
        g_assert_false(qemu_coroutine_entered(nest.co[i]));
    }

    /* Resume innermost first, now from the leader. */
    g_string_truncate(nest.log, 0);
    for (i = NEST_DEPTH - 1; i >= 0; i--) {
        qemu_coroutine_enter(nest.co[i]);
    }
    g_assert_cmpstr(nest.log->str, ==, "e3 e2 e1 e0 ");
    g_string_free(nest.log, true);
}

/* Deep chain: each level enters the next, then all unwind in order. */
#define CHAIN_DEPTH 200

static int chain_max;
static int chain_unwound;

static void coroutine_fn chain_level(void *opaque)
{
    int level = GPOINTER_TO_INT(opaque);

    chain_max = MAX(chain_max, level);
    if (level + 1 < CHAIN_DEPTH) {
        Coroutine *next = qemu_coroutine_create(chain_level,
                                                GINT_TO_POINTER(level + 1));
        qemu_coroutine_enter(next);
    }
    /* The innermost finishes first. */
    g_assert_cmpint(chain_unwound, ==, CHAIN_DEPTH - 1 - level);
    chain_unwound++;
}

static void test_nesting_deep(void)
{
    CoroutineStats before, after;

    qemu_coroutine_get_stats(&before);
    chain_max = chain_unwound = 0;
    qemu_coroutine_enter(qemu_coroutine_create(chain_level,
                                               GINT_TO_POINTER(0)));
    g_assert_cmpint(chain_max, ==, CHAIN_DEPTH - 1);
    g_assert_cmpint(chain_unwound, ==, CHAIN_DEPTH);
    qemu_coroutine_get_stats(&after);
    g_assert_cmpuint(after.live, ==, before.live);
    g_assert_cmpuint((after.created + after.reused) -
                     (before.created + before.reused), ==, CHAIN_DEPTH);
}

/* A yield inside a nested coroutine returns to the coroutine caller. */
static void coroutine_fn yield_once(void *opaque)
{
    int *n = opaque;

    (*n)++;
    qemu_coroutine_yield();
    (*n)++;
}

static void coroutine_fn enter_inner_twice(void *opaque)
{
    int n = 0;
    Coroutine *inner = qemu_coroutine_create(yield_once, &n);

    qemu_coroutine_enter(inner);
    g_assert_cmpint(n, ==, 1);
    qemu_coroutine_enter(inner);
    g_assert_cmpint(n, ==, 2);
    *(bool *)opaque = true;
}

static void test_nested_reenter(void)
{
    bool done = false;

    qemu_coroutine_enter(qemu_coroutine_create(enter_inner_twice, &done));
    g_assert_true(done);
}

/* ---- many live coroutines, pool ---- */

#define MANY 10000

static int many_started, many_finished;

static void coroutine_fn many_entry(void *opaque)
{
    int *slot = opaque;

    many_started++;
    *slot = 1;
    qemu_coroutine_yield();
    g_assert_cmpint(*slot, ==, 2);
    *slot = 3;
    many_finished++;
}

static void test_many_live(void)
{
    Coroutine **cos = g_new(Coroutine *, MANY);
    int *slots = g_new0(int, MANY);
    CoroutineStats before, mid, after;
    int i;

    qemu_coroutine_get_stats(&before);
    many_started = many_finished = 0;
    for (i = 0; i < MANY; i++) {
        cos[i] = qemu_coroutine_create(many_entry, &slots[i]);
        qemu_coroutine_enter(cos[i]);
    }
    g_assert_cmpint(many_started, ==, MANY);
    g_assert_cmpint(many_finished, ==, 0);

    qemu_coroutine_get_stats(&mid);
    g_assert_cmpuint(mid.live - before.live, ==, MANY);
    g_assert_cmpuint((mid.created + mid.reused) -
                     (before.created + before.reused), ==, MANY);
    /* At most a pool's worth of stacks could be reused. */
    g_assert_cmpuint(mid.created - before.created, >=, MANY - 64);

    /* Resume in reverse order, to mix up the pool. */
    for (i = MANY - 1; i >= 0; i--) {
        g_assert_cmpint(slots[i], ==, 1);
        slots[i] = 2;
        qemu_coroutine_enter(cos[i]);
        g_assert_cmpint(slots[i], ==, 3);
    }
    g_assert_cmpint(many_finished, ==, MANY);

    qemu_coroutine_get_stats(&after);
    g_assert_cmpuint(after.live, ==, before.live);
    g_free(cos);
    g_free(slots);
}

static void coroutine_fn nop_entry(void *opaque)
{
}

static void test_pool_reuse(void)
{
    CoroutineStats a, b;
    Coroutine *co1, *co2;
    unsigned old;

    /* Make sure the pool holds at least one coroutine. */
    co1 = qemu_coroutine_create(nop_entry, NULL);
    qemu_coroutine_enter(co1);

    qemu_coroutine_get_stats(&a);
    co2 = qemu_coroutine_create(nop_entry, NULL);
    qemu_coroutine_get_stats(&b);
    g_assert(co2 == co1);                   /* the pool is LIFO */
    g_assert_cmpuint(b.created, ==, a.created);
    g_assert_cmpuint(b.reused, ==, a.reused + 1);
    g_assert_cmpuint(b.live, ==, a.live + 1);
    qemu_coroutine_enter(co2);

    /* With an empty pool, every create maps a fresh stack. */
    old = qemu_coroutine_pool_set_max(0);
    g_assert_cmpuint(old, ==, 64);
    qemu_coroutine_get_stats(&a);
    qemu_coroutine_enter(qemu_coroutine_create(nop_entry, NULL));
    qemu_coroutine_enter(qemu_coroutine_create(nop_entry, NULL));
    qemu_coroutine_get_stats(&b);
    g_assert_cmpuint(b.created, ==, a.created + 2);
    g_assert_cmpuint(b.reused, ==, a.reused);
    g_assert_cmpuint(qemu_coroutine_pool_set_max(old), ==, 0);
    g_assert_cmpuint(b.live, ==, a.live);
}

/* ---- big stack use ---- */

#define FRAME_BYTES 4096
#define FRAMES 64           /* 256 KiB of locals */

static unsigned __attribute__((noinline)) deep_recurse(int depth)
{
    volatile unsigned char buf[FRAME_BYTES];
    unsigned sum = 0;
    int i;

    for (i = 0; i < FRAME_BYTES; i++) {
        buf[i] = (unsigned char)(depth + i);
    }
    if (depth + 1 < FRAMES) {
        sum = deep_recurse(depth + 1);
    } else {
        /* Switch away with the whole depth live on the stack. */
        qemu_coroutine_yield();
    }
    for (i = 0; i < FRAME_BYTES; i++) {
        sum += buf[i];
    }
    return sum;
}

static void coroutine_fn deep_entry(void *opaque)
{
    *(unsigned *)opaque = deep_recurse(0);
}

static void test_deep_stack(void)
{
    unsigned result = 0, expect = 0;
    int d, i;
    Coroutine *co = qemu_coroutine_create(deep_entry, &result);

    for (d = 0; d < FRAMES; d++) {
        for (i = 0; i < FRAME_BYTES; i++) {
            expect += (unsigned char)(d + i);
        }
    }
    qemu_coroutine_enter(co);
    g_assert_cmpuint(result, ==, 0);
    qemu_coroutine_enter(co);
    g_assert_cmpuint(result, ==, expect);
}

/* ---- callee-saved registers survive switches ---- */

static volatile long reg_seed = 3;

/*
 * Enough live integer and floating-point values across a switch that the
 * compiler keeps them in callee-saved registers (checked on x86-64 and
 * aarch64: rbx, rbp, r12-r15; x19-x29, d8-d15).
 */
static double __attribute__((noinline)) live_values(bool do_yield)
{
    long a = reg_seed, b = a * 3, c = b + 7, d = c * 5, e = d ^ 9;
    long f = e + a, g = f * 11, h = g - 2, i = h * 13, j = i + 17;
    double x = a * 0.5, y = b * 1.25, z = c * 2.5, w = d * 0.125;
    double v = e * 3.5, u = f * 0.75, t = g * 1.5, q = h * 0.25;

    if (do_yield) {
        qemu_coroutine_yield();
    }
    return a + b + c + d + e + f + g + h + i + j + x + y + z + w + v + u +
           t + q;
}

static void coroutine_fn registers_entry(void *opaque)
{
    *(double *)opaque = live_values(true);
}

static double __attribute__((noinline)) leader_live_values(Coroutine *co)
{
    long a = reg_seed * 7, b = a + 1, c = b * 3, d = c - 5, e = d * 2;
    long f = e ^ 0x55, g = f + 9, h = g * 4;
    double x = a * 0.75, y = b * 2.5, z = c * 0.5, w = d * 1.5;
    double v = e * 0.25, u = f * 3.0, t = g * 1.75, q = h * 0.125;

    qemu_coroutine_enter(co);
    return a + b + c + d + e + f + g + h + x + y + z + w + v + u + t + q;
}

static void test_registers(void)
{
    double result = 0, leader_expect, leader_got;
    Coroutine *co = qemu_coroutine_create(registers_entry, &result);
    Coroutine *dummy;

    /* Reference values computed without any switch. */
    dummy = qemu_coroutine_create(nop_entry, NULL);
    leader_expect = leader_live_values(dummy);

    leader_got = leader_live_values(co);          /* co yields inside */
    g_assert_cmpfloat(leader_got, ==, leader_expect);
    leader_got = leader_live_values(co);          /* co finishes */
    g_assert_cmpfloat(leader_got, ==, leader_expect);
    g_assert_cmpfloat(result, ==, live_values(false));
}

/* ---- many yields ---- */

#define YIELDS 100000

static void coroutine_fn count_yields(void *opaque)
{
    unsigned *counter = opaque;
    unsigned i;

    for (i = 0; i < YIELDS; i++) {
        /* A live local that must survive every switch. */
        g_assert_cmpuint(*counter, ==, i);
        (*counter)++;
        qemu_coroutine_yield();
    }
    *counter = UINT_MAX;
}

static void test_many_yields(void)
{
    unsigned counter = 0, rounds = 0;
    Coroutine *co = qemu_coroutine_create(count_yields, &counter);

    while (counter != UINT_MAX) {
        qemu_coroutine_enter(co);
        rounds++;
    }
    g_assert_cmpuint(rounds, ==, YIELDS + 1);
}

/* ---- enter_if_inactive ---- */

static Coroutine *inactive_co;
static int inactive_runs;

static void coroutine_fn enter_self_if_inactive(void *opaque)
{
    inactive_runs++;
    /* We are running: must be a no-op. */
    qemu_coroutine_enter_if_inactive(inactive_co);
    qemu_coroutine_yield();
    inactive_runs++;
}

static void test_enter_if_inactive(void)
{
    inactive_runs = 0;
    inactive_co = qemu_coroutine_create(enter_self_if_inactive, NULL);
    qemu_coroutine_enter_if_inactive(inactive_co);
    g_assert_cmpint(inactive_runs, ==, 1);
    qemu_coroutine_enter_if_inactive(inactive_co);
    g_assert_cmpint(inactive_runs, ==, 2);
}

/* ---- aborts ---- */

static void coroutine_fn reenter_self(void *opaque)
{
    qemu_coroutine_enter(qemu_coroutine_self());
}

static void test_reenter_aborts(void)
{
    if (g_test_subprocess()) {
        qemu_coroutine_enter(qemu_coroutine_create(reenter_self, NULL));
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*Co-routine re-entered recursively*");
}

/* Entering a nested caller (which is entered, not yielded) also aborts. */
static Coroutine *outer_co;

static void coroutine_fn reenter_outer(void *opaque)
{
    qemu_coroutine_enter(outer_co);
}

static void coroutine_fn outer_entry(void *opaque)
{
    qemu_coroutine_enter(qemu_coroutine_create(reenter_outer, NULL));
}

static void test_reenter_caller_aborts(void)
{
    if (g_test_subprocess()) {
        outer_co = qemu_coroutine_create(outer_entry, NULL);
        qemu_coroutine_enter(outer_co);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*Co-routine re-entered recursively*");
}

static void coroutine_fn just_yield(void *opaque)
{
    qemu_coroutine_yield();
}

static void test_enter_scheduled_aborts(void)
{
    if (g_test_subprocess()) {
        Coroutine *co = qemu_coroutine_create(just_yield, NULL);

        qemu_coroutine_enter(co);
        aio_co_schedule(qemu_get_current_aio_context(), co);
        qemu_coroutine_enter(co);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*Co-routine was already scheduled in "
                              "'aio_co_schedule'*");
}

/* ---- deferred wake-ups ---- */

static GString *wake_log;
static CoQueue wake_queue;
static Coroutine *wake_extra;

static void coroutine_fn wake_waiter(void *opaque)
{
    const char *name = opaque;

    qemu_co_queue_wait(&wake_queue, NULL);
    g_string_append_printf(wake_log, "%s ", name);
    if (!strcmp(name, "B")) {
        /* Woken from B: runs when B is done, before C (depth first). */
        aio_co_wake(wake_extra);
        g_string_append(wake_log, "B-after-wake ");
    }
}

static void coroutine_fn wake_extra_entry(void *opaque)
{
    qemu_coroutine_yield();
    g_string_append(wake_log, "E ");
}

static void coroutine_fn waker(void *opaque)
{
    g_string_append(wake_log, "A ");
    qemu_co_queue_restart_all(&wake_queue);
    /* Deferred: nobody ran yet, and the queue is already drained. */
    g_assert_true(qemu_co_queue_empty(&wake_queue));
    g_string_append(wake_log, "A-after-restart ");
    qemu_coroutine_yield();
    g_string_append(wake_log, "A2 ");
}

static void test_wakeup_order(void)
{
    Coroutine *a;

    wake_log = g_string_new("");
    qemu_co_queue_init(&wake_queue);
    qemu_coroutine_enter(qemu_coroutine_create(wake_waiter, (void *)"B"));
    qemu_coroutine_enter(qemu_coroutine_create(wake_waiter, (void *)"C"));
    qemu_coroutine_enter(qemu_coroutine_create(wake_waiter, (void *)"D"));
    wake_extra = qemu_coroutine_create(wake_extra_entry, NULL);
    qemu_coroutine_enter(wake_extra);
    g_assert_cmpstr(wake_log->str, ==, "");

    a = qemu_coroutine_create(waker, NULL);
    qemu_coroutine_enter(a);
    /* All ran before enter() returned, after A yielded, in FIFO order. */
    g_assert_cmpstr(wake_log->str, ==,
                    "A A-after-restart B B-after-wake E C D ");
    qemu_coroutine_enter(a);
    g_assert_cmpstr(wake_log->str, ==,
                    "A A-after-restart B B-after-wake E C D A2 ");
    g_string_free(wake_log, true);
}

/* A wake-up issued just before terminating is run too. */
static void coroutine_fn wake_and_return(void *opaque)
{
    aio_co_wake(opaque);
}

static void test_wakeup_on_terminate(void)
{
    int state = 0;
    Coroutine *sleeper = qemu_coroutine_create(set_and_yield, &state);

    qemu_coroutine_enter(sleeper);
    g_assert_cmpint(state, ==, 1);
    qemu_coroutine_enter(qemu_coroutine_create(wake_and_return, sleeper));
    g_assert_cmpint(state, ==, 2);
}

/* ---- resumed in another thread ---- */

typedef struct {
    Coroutine *co;
    GThread *main_thread;
    GThread *where;
    int step;
} MigrateData;

static void coroutine_fn migrating(void *opaque)
{
    MigrateData *d = opaque;
    Coroutine *self = qemu_coroutine_self();

    d->where = g_thread_self();
    d->step = 1;
    qemu_coroutine_yield();
    /* Now running on the other thread: TLS must be that thread's. */
    g_assert(g_thread_self() != d->main_thread);
    g_assert(qemu_coroutine_self() == self);
    g_assert_true(qemu_in_coroutine());
    d->where = g_thread_self();
    d->step = 2;
    qemu_coroutine_yield();
    d->step = 3;
}

static gpointer migrate_thread(gpointer opaque)
{
    MigrateData *d = opaque;
    Coroutine *leader = qemu_coroutine_self();

    qemu_coroutine_enter(d->co);
    g_assert_cmpint(d->step, ==, 2);
    g_assert(qemu_coroutine_self() == leader);
    g_assert_false(qemu_in_coroutine());
    qemu_coroutine_enter(d->co);
    g_assert_cmpint(d->step, ==, 3);
    /* The stack went to this thread's pool, freed when the thread exits. */
    return NULL;
}

static void test_other_thread(void)
{
    MigrateData d = { .main_thread = g_thread_self() };
    GThread *t;

    d.co = qemu_coroutine_create(migrating, &d);
    qemu_coroutine_enter(d.co);
    g_assert_cmpint(d.step, ==, 1);
    g_assert(d.where == d.main_thread);

    t = g_thread_new("co-migrate", migrate_thread, &d);
    g_thread_join(t);
    g_assert_cmpint(d.step, ==, 3);
    g_assert(d.where != d.main_thread);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(NULL);

    g_test_add_func("/coroutine/enter-yield-terminate",
                    test_enter_yield_terminate);
    g_test_add_func("/coroutine/self", test_self);
    g_test_add_func("/coroutine/backend-name", test_backend_name);
    g_test_add_func("/coroutine/nesting", test_nesting);
    g_test_add_func("/coroutine/nesting-deep", test_nesting_deep);
    g_test_add_func("/coroutine/nested-reenter", test_nested_reenter);
    g_test_add_func("/coroutine/many-live", test_many_live);
    g_test_add_func("/coroutine/pool-reuse", test_pool_reuse);
    g_test_add_func("/coroutine/deep-stack", test_deep_stack);
    g_test_add_func("/coroutine/many-yields", test_many_yields);
    g_test_add_func("/coroutine/registers", test_registers);
    g_test_add_func("/coroutine/enter-if-inactive", test_enter_if_inactive);
    g_test_add_func("/coroutine/reenter-aborts", test_reenter_aborts);
    g_test_add_func("/coroutine/reenter-caller-aborts",
                    test_reenter_caller_aborts);
    g_test_add_func("/coroutine/enter-scheduled-aborts",
                    test_enter_scheduled_aborts);
    g_test_add_func("/coroutine/wakeup-order", test_wakeup_order);
    g_test_add_func("/coroutine/wakeup-on-terminate",
                    test_wakeup_on_terminate);
    g_test_add_func("/coroutine/other-thread", test_other_thread);
    return g_test_run();
}
