/*
 * Coroutine core: creation from a per-thread pool, enter/yield with
 * caller tracking, deferred wake-ups and statistics.  The stack switch
 * itself lives in a backend (coroutine-asm.c or coroutine-ucontext.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <assert.h>
#include <pthread.h>
#include <sys/mman.h>
#include "qemu/coroutine.h"
#include "qemu/error-report.h"
#include "block/aio.h"
#include "coroutine-int.h"

#ifdef CONFIG_ASAN
#include <sanitizer/asan_interface.h>
#endif

#define POOL_DEFAULT_MAX 64

/*
 * Per-thread state.  The counters are written only by the owning thread
 * (plain relaxed stores, no atomic read-modify-write on the fast path) and
 * summed by qemu_coroutine_get_stats() under co_threads_lock.
 */
typedef struct CoroutineThread {
    QSLIST_HEAD(, Coroutine) pool;
    unsigned pool_size;
    uint64_t created;
    uint64_t reused;
    uint64_t terminated;
    bool registered;
    QLIST_ENTRY(CoroutineThread) next;
} CoroutineThread;

static __thread CoroutineThread co_thread;

static pthread_once_t co_thread_once = PTHREAD_ONCE_INIT;
static pthread_key_t co_thread_key;
static pthread_mutex_t co_threads_lock = PTHREAD_MUTEX_INITIALIZER;
static QLIST_HEAD(, CoroutineThread) co_threads;
/* Counters of threads that have exited. */
static uint64_t retired_created, retired_reused, retired_terminated;

static unsigned pool_max = POOL_DEFAULT_MAX;

static inline void counter_inc(uint64_t *counter)
{
    __atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED);
}

static void pool_trim(CoroutineThread *t, unsigned max)
{
    while (t->pool_size > max) {
        Coroutine *co = QSLIST_FIRST(&t->pool);

        QSLIST_REMOVE_HEAD(&t->pool, pool_next);
        t->pool_size--;
        qemu_coroutine_delete(co);
    }
}

/* pthread key destructor: free the pool so that stacks do not leak. */
static void co_thread_exit(void *opaque)
{
    CoroutineThread *t = opaque;

    pthread_mutex_lock(&co_threads_lock);
    retired_created += t->created;
    retired_reused += t->reused;
    retired_terminated += t->terminated;
    t->created = t->reused = t->terminated = 0;
    QLIST_REMOVE(t, next);
    t->registered = false;
    pthread_mutex_unlock(&co_threads_lock);

    pool_trim(t, 0);
}

static void co_thread_key_init(void)
{
    if (pthread_key_create(&co_thread_key, co_thread_exit)) {
        error_report("coroutine: cannot create thread key");
        abort();
    }
}

static void __attribute__((noinline)) co_thread_register(CoroutineThread *t)
{
    pthread_once(&co_thread_once, co_thread_key_init);
    pthread_mutex_lock(&co_threads_lock);
    QLIST_INSERT_HEAD(&co_threads, t, next);
    t->registered = true;
    pthread_mutex_unlock(&co_threads_lock);
    /* Also re-arms the destructor if we run inside another one. */
    pthread_setspecific(co_thread_key, t);
}

static inline CoroutineThread *co_thread_get(void)
{
    CoroutineThread *t = &co_thread;

    if (unlikely(!t->registered)) {
        co_thread_register(t);
    }
    return t;
}

void *qemu_coroutine_stack_alloc(void)
{
    size_t guard = qemu_real_host_page_size();
    size_t len = COROUTINE_STACK_SIZE + guard;
    char *map;

    /* NORESERVE: thousands of mostly untouched stacks must not hit limits. */
    map = mmap(NULL, len, PROT_READ | PROT_WRITE,
               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK,
               -1, 0);
    if (map == MAP_FAILED) {
        error_report("coroutine: cannot map a %zu byte stack: %s",
                     len, strerror(errno));
        abort();
    }
    /* The stack grows down, so an overflow runs into this page. */
    if (mprotect(map, guard, PROT_NONE)) {
        error_report("coroutine: cannot protect stack guard page: %s",
                     strerror(errno));
        abort();
    }
    return map + guard;
}

#ifdef CONFIG_ASAN
/*
 * Frames left on a stack keep their redzones poisoned, and this ASan does
 * not clear shadow memory on munmap() or mmap(): a later mapping at the
 * same address would inherit them.  Unpoisoning 1 MiB byte by byte would
 * commit 128 KiB of shadow per stack, so the page-aligned middle of the
 * shadow range is dropped with MADV_DONTNEED instead (ASan's shadow is
 * anonymous memory, which reads back as zero, i.e. unpoisoned).
 */
static void asan_clear_stack_shadow(char *stack, size_t size)
{
    size_t scale, offset, page = qemu_real_host_page_size();
    uintptr_t beg = (uintptr_t)stack, end = beg + size;
    uintptr_t sbeg, send;
    uintptr_t pbeg, pend;

    __asan_get_shadow_mapping(&scale, &offset);
    sbeg = (beg >> scale) + offset;
    send = (end >> scale) + offset;
    pbeg = QEMU_ALIGN_UP(sbeg, page);
    pend = QEMU_ALIGN_DOWN(send, page);
    if (pbeg >= pend) {
        ASAN_UNPOISON_MEMORY_REGION(stack, size);
        return;
    }
    ASAN_UNPOISON_MEMORY_REGION(stack, ((pbeg - offset) << scale) - beg);
    ASAN_UNPOISON_MEMORY_REGION((void *)((pend - offset) << scale),
                                end - ((pend - offset) << scale));
    if (madvise((void *)pbeg, pend - pbeg, MADV_DONTNEED)) {
        ASAN_UNPOISON_MEMORY_REGION(stack, size);
    }
}
#endif

void qemu_coroutine_stack_free(void *stack)
{
    size_t guard = qemu_real_host_page_size();

#ifdef CONFIG_ASAN
    asan_clear_stack_shadow(stack, COROUTINE_STACK_SIZE);
#endif
    munmap((char *)stack - guard, COROUTINE_STACK_SIZE + guard);
}

Coroutine *qemu_coroutine_create(CoroutineEntry *entry, void *opaque)
{
    CoroutineThread *t = co_thread_get();
    Coroutine *co = QSLIST_FIRST(&t->pool);

    if (co) {
        QSLIST_REMOVE_HEAD(&t->pool, pool_next);
        t->pool_size--;
        counter_inc(&t->reused);
    } else {
        co = qemu_coroutine_new();
        counter_inc(&t->created);
    }
    co->entry = entry;
    co->entry_arg = opaque;
    co->caller = NULL;
    co->ctx = NULL;
    QSIMPLEQ_INIT(&co->co_queue_wakeup);
    co->scheduled = NULL;
    co->sleep_state = NULL;
    co->rwlock_write = false;
    return co;
}

/* A terminated coroutine goes back to the pool of the thread it ended in. */
static void coroutine_release(Coroutine *co)
{
    CoroutineThread *t = co_thread_get();

    counter_inc(&t->terminated);
    if (t->pool_size < __atomic_load_n(&pool_max, __ATOMIC_RELAXED)) {
        QSLIST_INSERT_HEAD(&t->pool, co, pool_next);
        t->pool_size++;
    } else {
        qemu_coroutine_delete(co);
    }
}

/*
 * Runs on the coroutine's own stack, entered once per stack by the backend.
 * A pooled coroutine is reused by switching into it again, which resumes
 * this loop with the new entry point: no stack setup on the fast path.
 */
void coroutine_trampoline_entry(Coroutine *co)
{
    for (;;) {
        Coroutine *caller;

        co->entry(co->entry_arg);

        caller = co->caller;
        co->caller = NULL;
        qemu_coroutine_switch(co, caller, COROUTINE_TERMINATE);
    }
}

static void QEMU_NORETURN coroutine_bad_enter(Coroutine *co)
{
    if (co->caller) {
        error_report("Co-routine re-entered recursively");
    } else {
        error_report("Co-routine was already scheduled in '%s'",
                     co->scheduled);
    }
    abort();
}

void qemu_aio_coroutine_enter(AioContext *ctx, Coroutine *co)
{
    Coroutine *self = qemu_coroutine_backend_self();
    QSIMPLEQ_HEAD(, Coroutine) pending = QSIMPLEQ_HEAD_INITIALIZER(pending);
    Coroutine *to = co;

    /*
     * Wake-ups issued by a coroutine while it ran are entered here, one
     * after the other, once it has yielded or terminated: a loop rather
     * than recursion, so chains of wake-ups do not grow the stack.
     */
    for (;;) {
        CoroutineAction ret;

        if (unlikely(to->caller || to->scheduled)) {
            coroutine_bad_enter(to);
        }
        to->caller = self;
        to->ctx = ctx;
        /* Publish ctx before anything that lets another thread wake 'to'. */
        __atomic_thread_fence(__ATOMIC_RELEASE);

        ret = qemu_coroutine_switch(self, to, COROUTINE_ENTER);

        /* Depth first: what 'to' woke runs before older pending wake-ups. */
        if (!QSIMPLEQ_EMPTY(&to->co_queue_wakeup)) {
            QSIMPLEQ_CONCAT(&to->co_queue_wakeup, &pending);
            QSIMPLEQ_CONCAT(&pending, &to->co_queue_wakeup);
        }
        if (ret == COROUTINE_TERMINATE) {
            coroutine_release(to);
        } else {
            assert(ret == COROUTINE_YIELD);
        }

        to = QSIMPLEQ_FIRST(&pending);
        if (!to) {
            break;
        }
        QSIMPLEQ_REMOVE_HEAD(&pending, co_queue_next);
    }
}

void qemu_coroutine_enter(Coroutine *co)
{
    qemu_aio_coroutine_enter(qemu_get_current_aio_context(), co);
}

void qemu_coroutine_enter_if_inactive(Coroutine *co)
{
    if (!qemu_coroutine_entered(co)) {
        qemu_coroutine_enter(co);
    }
}

void coroutine_fn qemu_coroutine_yield(void)
{
    Coroutine *self = qemu_coroutine_backend_self();
    Coroutine *to = self->caller;

    if (unlikely(!to)) {
        error_report("Co-routine is yielding to no one");
        abort();
    }
    self->caller = NULL;
    qemu_coroutine_switch(self, to, COROUTINE_YIELD);
}

void qemu_co_queue_run_restart(Coroutine *co)
{
    Coroutine *next;

    while ((next = QSIMPLEQ_FIRST(&co->co_queue_wakeup))) {
        QSIMPLEQ_REMOVE_HEAD(&co->co_queue_wakeup, co_queue_next);
        qemu_coroutine_enter(next);
    }
}

Coroutine *qemu_coroutine_self(void)
{
    return qemu_coroutine_backend_self();
}

bool qemu_in_coroutine(void)
{
    return qemu_coroutine_backend_in_coroutine();
}

bool qemu_coroutine_entered(Coroutine *co)
{
    return co->caller != NULL;
}

Coroutine *qemu_coroutine_caller(Coroutine *co)
{
    return co->caller;
}

AioContext *qemu_coroutine_get_aio_context(Coroutine *co)
{
    return co->ctx;
}

unsigned qemu_coroutine_pool_set_max(unsigned max)
{
    unsigned old = __atomic_exchange_n(&pool_max, max, __ATOMIC_RELAXED);

    /* Other threads shrink lazily: their pools stop growing past max. */
    pool_trim(co_thread_get(), max);
    return old;
}

void qemu_coroutine_get_stats(CoroutineStats *stats)
{
    CoroutineThread *t;
    uint64_t created, reused, terminated;

    pthread_mutex_lock(&co_threads_lock);
    created = retired_created;
    reused = retired_reused;
    terminated = retired_terminated;
    QLIST_FOREACH(t, &co_threads, next) {
        created += __atomic_load_n(&t->created, __ATOMIC_RELAXED);
        reused += __atomic_load_n(&t->reused, __ATOMIC_RELAXED);
        terminated += __atomic_load_n(&t->terminated, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&co_threads_lock);

    stats->created = created;
    stats->reused = reused;
    /* A coroutine may end in another thread than the one that made it. */
    stats->live = created + reused - terminated;
}
