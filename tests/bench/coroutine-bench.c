/*
 * Coroutine micro-benchmarks: create+destroy (through the pool), enter+yield
 * round trips, and CoMutex hand-offs between two coroutines.  Each runs for
 * about one second times the optional scale argument.
 *
 * Usage: coroutine-bench [SCALE]     e.g. coroutine-bench 0.1
 *
 * Rates are per second of this thread's CPU time, so that other processes
 * competing for the CPU (a busy build machine) distort them less; the run
 * length is wall-clock time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/coroutine.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include <ucontext.h>

/* Check the clock only every so many operations, to keep it off the path. */
#define BATCH 1024

static int64_t duration_ns;

static int64_t thread_cpu_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void report(const char *what, uint64_t ops, int64_t cpu_ns)
{
    double per_sec = ops * 1e9 / cpu_ns;

    printf("%-32s %11.0f /s %7.1f ns each  [%s]\n", what, per_sec,
           (double)cpu_ns / ops, qemu_coroutine_backend_name());
}

static void coroutine_fn nop_entry(void *opaque)
{
}

static void bench_create(void)
{
    int64_t start = get_clock_ns(), cpu = thread_cpu_ns(), now;
    uint64_t ops = 0;

    do {
        int i;

        for (i = 0; i < BATCH; i++) {
            qemu_coroutine_enter(qemu_coroutine_create(nop_entry, NULL));
        }
        ops += BATCH;
        now = get_clock_ns();
    } while (now - start < duration_ns);
    report("create+destroy (pooled)", ops, thread_cpu_ns() - cpu);
}

static void coroutine_fn yield_forever(void *opaque)
{
    bool *stop = opaque;

    while (!*stop) {
        qemu_coroutine_yield();
    }
}

static void bench_enter_yield(void)
{
    bool stop = false;
    Coroutine *co = qemu_coroutine_create(yield_forever, &stop);
    int64_t start = get_clock_ns(), cpu = thread_cpu_ns(), now;
    uint64_t ops = 0;

    do {
        int i;

        for (i = 0; i < BATCH; i++) {
            qemu_coroutine_enter(co);
        }
        ops += BATCH;
        now = get_clock_ns();
    } while (now - start < duration_ns);
    report("enter+yield round trip", ops, thread_cpu_ns() - cpu);

    stop = true;
    qemu_coroutine_enter(co);
}

/*
 * Two coroutines hand a CoMutex back and forth: each unlock passes it to
 * the other, which is waiting; the wake-up is deferred until the unlocker
 * blocks on its next lock().  So the whole ping-pong runs inside one
 * qemu_coroutine_enter() of the first coroutine.
 */
typedef struct {
    CoMutex mutex;
    uint64_t handoffs;
    int64_t start, cpu_start, cpu_end;
    bool started;
    bool stop;
    int finished;
} MutexBench;

static void coroutine_fn mutex_pingpong(void *opaque)
{
    MutexBench *b = opaque;

    qemu_co_mutex_lock(&b->mutex);
    if (!b->started) {
        /* Hold the lock until the other one is queued on it. */
        b->started = true;
        qemu_coroutine_yield();
    }
    while (!b->stop) {
        b->handoffs++;
        if (b->handoffs % BATCH == 0 &&
            get_clock_ns() - b->start >= duration_ns) {
            b->cpu_end = thread_cpu_ns();
            b->stop = true;
        }
        qemu_co_mutex_unlock(&b->mutex);
        qemu_co_mutex_lock(&b->mutex);
    }
    qemu_co_mutex_unlock(&b->mutex);
    b->finished++;
}

static void bench_mutex(void)
{
    MutexBench b = { 0 };
    Coroutine *first = qemu_coroutine_create(mutex_pingpong, &b);
    Coroutine *second = qemu_coroutine_create(mutex_pingpong, &b);

    qemu_co_mutex_init(&b.mutex);
    qemu_coroutine_enter(first);        /* takes the lock, yields */
    qemu_coroutine_enter(second);       /* queues */
    b.start = get_clock_ns();
    b.cpu_start = thread_cpu_ns();
    qemu_coroutine_enter(first);        /* ping-pong until stop */
    g_assert_cmpint(b.finished, ==, 2);
    report("CoMutex hand-off", b.handoffs, b.cpu_end - b.cpu_start);
}

/*
 * Peer: the same enter+yield round trip with plain glibc swapcontext(), the
 * textbook way to switch stacks (it also saves the signal mask, a syscall
 * per switch).  Printed beside our figure so the ratio is measured here.
 */
static ucontext_t peer_main_uc, peer_co_uc;
static volatile bool peer_stop;

static void peer_co_fn(void)
{
    while (!peer_stop) {
        swapcontext(&peer_co_uc, &peer_main_uc);
    }
    swapcontext(&peer_co_uc, &peer_main_uc);
}

static void bench_peer_swapcontext(void)
{
    size_t stack_size = 64 * 1024;
    void *stack = g_malloc(stack_size);
    int64_t start = get_clock_ns(), cpu = thread_cpu_ns(), now;
    uint64_t ops = 0;
    double per_sec;

    getcontext(&peer_co_uc);
    peer_co_uc.uc_stack.ss_sp = stack;
    peer_co_uc.uc_stack.ss_size = stack_size;
    peer_co_uc.uc_link = NULL;
    makecontext(&peer_co_uc, peer_co_fn, 0);
    peer_stop = false;
    do {
        int i;

        for (i = 0; i < BATCH; i++) {
            swapcontext(&peer_main_uc, &peer_co_uc);
        }
        ops += BATCH;
        now = get_clock_ns();
    } while (now - start < duration_ns);
    cpu = thread_cpu_ns() - cpu;
    peer_stop = true;
    swapcontext(&peer_main_uc, &peer_co_uc);
    g_free(stack);
    per_sec = ops * 1e9 / cpu;
    printf("%-32s %11.0f /s %7.1f ns each  [peer: glibc swapcontext]\n",
           "enter+yield round trip", per_sec, (double)cpu / ops);
}

int main(int argc, char **argv)
{
    double scale = 1.0;

    if (argc > 1) {
        char *end;

        scale = g_ascii_strtod(argv[1], &end);
        if (*end || !(scale > 0) || scale > 1000) {
            fprintf(stderr, "usage: %s [SCALE]  (duration multiplier > 0, "
                    "default 1 = about one second per figure)\n", argv[0]);
            return 1;
        }
    }
    duration_ns = (int64_t)(scale * 1e9);
    qemu_init_main_loop(&error_abort);

    printf("coroutine backend: %s\n", qemu_coroutine_backend_name());
    bench_create();
    bench_enter_yield();
    bench_peer_swapcontext();
    bench_mutex();
    return 0;
}
