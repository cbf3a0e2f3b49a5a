/*
 * Coroutine synchronisation: CoQueue (FIFO of waiting coroutines), CoMutex
 * (FIFO hand-off lock, safe across AioContexts) and CoRwlock (readers or
 * one writer, FIFO between the two).
 *
 * Waiters are always resumed with aio_co_wake(): in the waker's own context
 * that defers the wake-up until the waker yields or terminates, in another
 * context it schedules the waiter there.  So a waiter that has queued
 * itself but not yet yielded can never be entered too early.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <assert.h>
#include <sched.h>
#include "qemu/coroutine.h"
#include "qemu/error-report.h"
#include "block/aio.h"
#include "coroutine-int.h"

/* ---- A tiny spinlock for the CoMutex wait list ---- */

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    asm volatile("yield" ::: "memory");
#endif
}

static void co_spin_lock(int *spin)
{
    while (__atomic_exchange_n(spin, 1, __ATOMIC_ACQUIRE)) {
        unsigned n = 0;

        while (__atomic_load_n(spin, __ATOMIC_RELAXED)) {
            /* The holder may have been preempted: do not burn a slice. */
            if (++n < 128) {
                cpu_relax();
            } else {
                sched_yield();
                n = 0;
            }
        }
    }
}

static inline void co_spin_unlock(int *spin)
{
    __atomic_store_n(spin, 0, __ATOMIC_RELEASE);
}

/* ---- CoQueue ---- */

void qemu_co_queue_init(CoQueue *queue)
{
    QSIMPLEQ_INIT(&queue->entries);
}

void coroutine_fn qemu_co_queue_wait(CoQueue *queue, CoMutex *mutex)
{
    Coroutine *self = qemu_coroutine_self();

    assert(qemu_in_coroutine());
    QSIMPLEQ_INSERT_TAIL(&queue->entries, self, co_queue_next);
    if (mutex) {
        qemu_co_mutex_unlock(mutex);
    }
    qemu_coroutine_yield();
    if (mutex) {
        qemu_co_mutex_lock(mutex);
    }
}

static Coroutine *co_queue_pop(CoQueue *queue)
{
    Coroutine *next = QSIMPLEQ_FIRST(&queue->entries);

    if (next) {
        QSIMPLEQ_REMOVE_HEAD(&queue->entries, co_queue_next);
    }
    return next;
}

bool qemu_co_queue_next(CoQueue *queue)
{
    Coroutine *next = co_queue_pop(queue);

    if (!next) {
        return false;
    }
    aio_co_wake(next);
    return true;
}

void qemu_co_queue_restart_all(CoQueue *queue)
{
    while (qemu_co_queue_next(queue)) {
        /* nothing */
    }
}

/*
 * lock, if given, is held by the caller (outside coroutines that means it
 * was taken uncontended) and is released while the waiter runs.
 */
bool qemu_co_enter_next(CoQueue *queue, CoMutex *lock)
{
    Coroutine *next = co_queue_pop(queue);

    if (!next) {
        return false;
    }
    if (lock) {
        qemu_co_mutex_unlock(lock);
    }
    qemu_coroutine_enter(next);
    if (lock) {
        qemu_co_mutex_lock(lock);
    }
    return true;
}

bool qemu_co_queue_empty(CoQueue *queue)
{
    return QSIMPLEQ_EMPTY(&queue->entries);
}

/* ---- CoMutex ----
 *
 * 'locked' counts the holder plus every coroutine that wants the lock.
 * Taking it from 0 is the uncontended fast path (one atomic add); anyone
 * else queues in 'waiters' under 'spin'.  Unlock decrements; if others are
 * counted it hands ownership to the oldest queued waiter.  A waiter from
 * another thread may be counted but not yet queued: then the unlocker
 * leaves 'handoff' set and that waiter takes the lock instead of queueing.
 * Newcomers cannot overtake waiters, since the fast path needs locked == 0.
 */

void qemu_co_mutex_init(CoMutex *mutex)
{
    memset(mutex, 0, sizeof(*mutex));
    QSIMPLEQ_INIT(&mutex->waiters);
}

void coroutine_fn qemu_co_mutex_lock(CoMutex *mutex)
{
    Coroutine *self = qemu_coroutine_self();

    if (__atomic_fetch_add(&mutex->locked, 1, __ATOMIC_ACQUIRE) != 0) {
        co_spin_lock(&mutex->spin);
        if (mutex->handoff) {
            mutex->handoff = false;
            co_spin_unlock(&mutex->spin);
        } else {
            if (unlikely(!qemu_in_coroutine())) {
                co_spin_unlock(&mutex->spin);
                error_report("qemu_co_mutex_lock: contended lock taken "
                             "outside coroutine context");
                abort();
            }
            QSIMPLEQ_INSERT_TAIL(&mutex->waiters, self, co_queue_next);
            co_spin_unlock(&mutex->spin);
            /* Resumed by the unlocker, which made us the owner. */
            qemu_coroutine_yield();
        }
    }
    mutex->holder = self;
}

bool coroutine_fn qemu_co_mutex_trylock(CoMutex *mutex)
{
    unsigned expected = 0;

    if (__atomic_compare_exchange_n(&mutex->locked, &expected, 1, false,
                                    __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
        mutex->holder = qemu_coroutine_self();
        return true;
    }
    return false;
}

void coroutine_fn qemu_co_mutex_unlock(CoMutex *mutex)
{
    Coroutine *next;

    assert(mutex->holder == qemu_coroutine_self());
    mutex->holder = NULL;
    if (__atomic_fetch_sub(&mutex->locked, 1, __ATOMIC_RELEASE) == 1) {
        return;
    }

    co_spin_lock(&mutex->spin);
    next = QSIMPLEQ_FIRST(&mutex->waiters);
    if (next) {
        QSIMPLEQ_REMOVE_HEAD(&mutex->waiters, co_queue_next);
    } else {
        mutex->handoff = true;
    }
    co_spin_unlock(&mutex->spin);

    if (next) {
        aio_co_wake(next);
    }
}

void qemu_co_mutex_assert_locked(CoMutex *mutex)
{
    assert(__atomic_load_n(&mutex->locked, __ATOMIC_RELAXED) &&
           mutex->holder == qemu_coroutine_self());
}

/* ---- CoRwlock ----
 *
 * All state is protected by lock->mutex.  A coroutine that cannot get the
 * lock at once queues in lock->queue, tagged reader or writer, and is
 * granted the lock by whoever releases it (no re-check loop, so no lost or
 * spurious wake-ups).  Arrivals queue whenever someone is already waiting,
 * so a writer is not overtaken by readers that come after it.
 */

void qemu_co_rwlock_init(CoRwlock *lock)
{
    qemu_co_mutex_init(&lock->mutex);
    lock->readers = 0;
    qemu_co_queue_init(&lock->queue);
}

/* Grant the lock to the head of the line while compatible; mutex held. */
static void rwlock_grant_waiters(CoRwlock *lock)
{
    Coroutine *co;

    while ((co = QSIMPLEQ_FIRST(&lock->queue.entries))) {
        if (co->rwlock_write) {
            if (lock->readers != 0) {
                return;
            }
            lock->readers = -1;
        } else {
            if (lock->readers < 0) {
                return;
            }
            lock->readers++;
        }
        QSIMPLEQ_REMOVE_HEAD(&lock->queue.entries, co_queue_next);
        aio_co_wake(co);
    }
}

/* Queue up and release the mutex; returns owning the rwlock. */
static void coroutine_fn rwlock_wait(CoRwlock *lock, bool write)
{
    Coroutine *self = qemu_coroutine_self();

    self->rwlock_write = write;
    QSIMPLEQ_INSERT_TAIL(&lock->queue.entries, self, co_queue_next);
    qemu_co_mutex_unlock(&lock->mutex);
    qemu_coroutine_yield();
}

void coroutine_fn qemu_co_rwlock_rdlock(CoRwlock *lock)
{
    qemu_co_mutex_lock(&lock->mutex);
    if (lock->readers >= 0 && qemu_co_queue_empty(&lock->queue)) {
        lock->readers++;
        qemu_co_mutex_unlock(&lock->mutex);
    } else {
        rwlock_wait(lock, false);
    }
}

void coroutine_fn qemu_co_rwlock_wrlock(CoRwlock *lock)
{
    qemu_co_mutex_lock(&lock->mutex);
    if (lock->readers == 0 && qemu_co_queue_empty(&lock->queue)) {
        lock->readers = -1;
        qemu_co_mutex_unlock(&lock->mutex);
    } else {
        rwlock_wait(lock, true);
    }
}

void coroutine_fn qemu_co_rwlock_unlock(CoRwlock *lock)
{
    qemu_co_mutex_lock(&lock->mutex);
    assert(lock->readers != 0);
    if (lock->readers > 0) {
        lock->readers--;
    } else {
        lock->readers = 0;
    }
    rwlock_grant_waiters(lock);
    qemu_co_mutex_unlock(&lock->mutex);
}

void coroutine_fn qemu_co_rwlock_upgrade(CoRwlock *lock)
{
    qemu_co_mutex_lock(&lock->mutex);
    assert(lock->readers > 0);
    if (lock->readers == 1 && qemu_co_queue_empty(&lock->queue)) {
        lock->readers = -1;
        qemu_co_mutex_unlock(&lock->mutex);
        return;
    }
    /*
     * Give up our read share and queue for writing, behind writers that
     * were already waiting: that keeps the FIFO promise and cannot
     * deadlock when two readers upgrade at once.
     */
    lock->readers--;
    rwlock_grant_waiters(lock);
    rwlock_wait(lock, true);
}

void coroutine_fn qemu_co_rwlock_downgrade(CoRwlock *lock)
{
    qemu_co_mutex_lock(&lock->mutex);
    assert(lock->readers == -1);
    lock->readers = 1;
    /* Readers queued behind us may now share the lock. */
    rwlock_grant_waiters(lock);
    qemu_co_mutex_unlock(&lock->mutex);
}
