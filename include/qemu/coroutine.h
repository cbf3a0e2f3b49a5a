/*
 * Coroutines: cooperative user-space threads with their own stacks.
 *
 * A coroutine runs until it yields or returns; control then goes back to
 * whoever entered it (the "caller", recorded at each enter).  Each thread has
 * an implicit leader coroutine for its original stack.  Coroutines are bound
 * to the AioContext they were last entered from (or scheduled into), so that
 * wake-ups from other threads land in the right event loop.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_COROUTINE_H
#define QEMU_COROUTINE_H

#include "qemu/queue.h"

/*
 * Marks functions that may only be called from coroutine context (they may
 * yield).  Purely documentary for the compiler; reviewers and tests rely on it.
 */
#define coroutine_fn
/* Callable from either context: it checks qemu_in_coroutine() itself. */
#define coroutine_mixed_fn

typedef struct Coroutine Coroutine;
typedef struct AioContext AioContext;

typedef void coroutine_fn CoroutineEntry(void *opaque);

/* Stack size of every coroutine, guard page excluded. */
#define COROUTINE_STACK_SIZE (1 << 20)

/*
 * Create a coroutine that will run entry(opaque) when first entered.  Taken
 * from a per-thread pool when possible.  Never fails (aborts on OOM).
 */
Coroutine *qemu_coroutine_create(CoroutineEntry *entry, void *opaque);

/*
 * Transfer control to co.  Returns when co yields or terminates.  co must
 * not be running already (abort with a message otherwise).  co becomes bound
 * to the current thread's AioContext.
 */
void qemu_coroutine_enter(Coroutine *co);

/* Like qemu_coroutine_enter() but binds co to ctx. */
void qemu_aio_coroutine_enter(AioContext *ctx, Coroutine *co);

/* Enter co unless it is currently running (entered and not yet yielded). */
void qemu_coroutine_enter_if_inactive(Coroutine *co);

/* Give control back to the caller of qemu_coroutine_enter(). */
void coroutine_fn qemu_coroutine_yield(void);

/* The running coroutine; in the leader (not in a coroutine) its leader. */
Coroutine *qemu_coroutine_self(void);

/* True when called from a coroutine other than the thread's leader. */
bool qemu_in_coroutine(void);

/* True while co is entered and has not yet yielded or terminated. */
bool qemu_coroutine_entered(Coroutine *co);

/* Who entered co most recently (NULL when co is not entered). */
Coroutine *qemu_coroutine_caller(Coroutine *co);

/* The AioContext co is bound to. */
AioContext *qemu_coroutine_get_aio_context(Coroutine *co);

/*
 * Tuning of the per-thread pool of free coroutines (their stacks stay mapped).
 * Defaults: 64 per thread.  Returns the previous value.
 */
unsigned qemu_coroutine_pool_set_max(unsigned max);

/* Statistics, for tests and benchmarks. */
typedef struct CoroutineStats {
    uint64_t created;      /* fresh stacks mapped */
    uint64_t reused;       /* taken from the pool */
    uint64_t live;         /* created or reused, not yet terminated */
} CoroutineStats;
void qemu_coroutine_get_stats(CoroutineStats *stats);

/* Name of the switching backend compiled in ("asm-x86_64", "ucontext"...). */
const char *qemu_coroutine_backend_name(void);

/*
 * ---- CoQueue: a FIFO of waiting coroutines ----
 *
 * Waiters are woken in FIFO order through aio_co_wake(), so a waiter bound
 * to another AioContext resumes in that context.  A wake from inside a
 * coroutine is deferred until the waker yields or terminates (no nesting).
 */
typedef struct CoMutex CoMutex;

typedef struct CoQueue {
    QSIMPLEQ_HEAD(, Coroutine) entries;
} CoQueue;

void qemu_co_queue_init(CoQueue *queue);
/* Release mutex (if not NULL), wait to be woken, re-take mutex. */
void coroutine_fn qemu_co_queue_wait(CoQueue *queue, CoMutex *mutex);
/* Wake the first waiter; false if there was none. */
bool qemu_co_queue_next(CoQueue *queue);
/* Wake every waiter. */
void qemu_co_queue_restart_all(CoQueue *queue);
/* Enter the first waiter now (outside coroutines; lock released around it). */
bool qemu_co_enter_next(CoQueue *queue, CoMutex *lock);
bool qemu_co_queue_empty(CoQueue *queue);

/*
 * ---- CoMutex: a sleeping lock for coroutines ----
 *
 * FIFO hand-off: unlock gives ownership directly to the longest waiter, so
 * no waiter starves and no wake-up is lost.  Safe when the contending
 * coroutines run in different AioContexts (threads).
 */
struct CoMutex {
    /* Internal; use the functions.  Protected by 'lock' except the fast path. */
    unsigned locked;          /* holders + waiters */
    Coroutine *holder;
    QSIMPLEQ_HEAD(, Coroutine) waiters;
    int spin;                 /* guards waiters (tiny critical sections) */
    bool handoff;             /* unlocked for a waiter not yet queued */
};

void qemu_co_mutex_init(CoMutex *mutex);
void coroutine_fn qemu_co_mutex_lock(CoMutex *mutex);
void coroutine_fn qemu_co_mutex_unlock(CoMutex *mutex);
/* Take the lock only if free; never yields. */
bool coroutine_fn qemu_co_mutex_trylock(CoMutex *mutex);
void qemu_co_mutex_assert_locked(CoMutex *mutex);

/*
 * ---- CoRwlock: many readers or one writer, FIFO between the two ----
 */
typedef struct CoRwlock {
    CoMutex mutex;
    int readers;              /* >0: readers hold it; -1: a writer holds it */
    CoQueue queue;
} CoRwlock;

void qemu_co_rwlock_init(CoRwlock *lock);
void coroutine_fn qemu_co_rwlock_rdlock(CoRwlock *lock);
void coroutine_fn qemu_co_rwlock_wrlock(CoRwlock *lock);
void coroutine_fn qemu_co_rwlock_unlock(CoRwlock *lock);
/* Reader -> writer (waits for other readers); writer -> reader. */
void coroutine_fn qemu_co_rwlock_upgrade(CoRwlock *lock);
void coroutine_fn qemu_co_rwlock_downgrade(CoRwlock *lock);

/*
 * ---- Sleeping ----
 *
 * qemu_co_sleep_ns() sleeps at least ns nanoseconds (monotonic clock) in the
 * coroutine's AioContext.  The wakeable form can be cut short from the same
 * AioContext by qemu_co_sleep_wake().
 */
typedef struct QemuCoSleep {
    Coroutine *to_wake;
} QemuCoSleep;

void coroutine_fn qemu_co_sleep_ns(int64_t ns);
void coroutine_fn qemu_co_sleep_ns_wakeable(QemuCoSleep *w, int64_t ns);
void qemu_co_sleep_wake(QemuCoSleep *w);

#endif /* QEMU_COROUTINE_H */
