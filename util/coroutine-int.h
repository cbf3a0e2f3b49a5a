/*
 * Coroutine internals shared by the coroutine core, the switching backends,
 * the locks and the event loop (util/ only; not a public header).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_COROUTINE_INT_H
#define QEMU_COROUTINE_INT_H

#include "qemu/coroutine.h"

typedef enum {
    COROUTINE_YIELD = 1,
    COROUTINE_TERMINATE = 2,
    COROUTINE_ENTER = 3,
} CoroutineAction;

struct Coroutine {
    CoroutineEntry *entry;
    void *entry_arg;
    Coroutine *caller;          /* who entered us; NULL when not entered */
    AioContext *ctx;            /* context we are bound to */

    /* Pool free list linkage. */
    QSLIST_ENTRY(Coroutine) pool_next;

    /*
     * Coroutines woken while we run, entered in order after we yield or
     * terminate (so wake-ups never nest stacks).
     */
    QSIMPLEQ_HEAD(, Coroutine) co_queue_wakeup;

    /* Linkage in a CoQueue/CoMutex wait list or in co_queue_wakeup. */
    QSIMPLEQ_ENTRY(Coroutine) co_queue_next;

    /*
     * aio_co_schedule(): lock-free list in the target context, and the name
     * of the function that scheduled us (non-NULL while scheduled) so that a
     * double schedule aborts with a clear message.
     */
    QSLIST_ENTRY(Coroutine) co_scheduled_next;
    const char *scheduled;

    /* Set while sleeping in qemu_co_sleep_ns*; for diagnostics. */
    void *sleep_state;

    /* While queued in a CoRwlock: true if waiting for the write lock. */
    bool rwlock_write;
};

/*
 * Backend interface (coroutine-asm.c or coroutine-ucontext.c).
 * qemu_coroutine_new() allocates a Coroutine embedded in a backend struct,
 * with a stack of COROUTINE_STACK_SIZE plus a guard page; the first switch
 * into it calls coroutine_trampoline_entry(co).
 */
Coroutine *qemu_coroutine_new(void);
void qemu_coroutine_delete(Coroutine *co);
/* Switch from 'from' to 'to' carrying action; returns the action we get back. */
CoroutineAction qemu_coroutine_switch(Coroutine *from, Coroutine *to,
                                      CoroutineAction action);
/* The calling thread's current coroutine (its leader when none runs). */
Coroutine *qemu_coroutine_backend_self(void);
bool qemu_coroutine_backend_in_coroutine(void);
/* Called by the backend on the new stack; never returns. */
void QEMU_NORETURN coroutine_trampoline_entry(Coroutine *co);

/* Core (qemu-coroutine.c): run co's deferred wake-ups (entered in order). */
void qemu_co_queue_run_restart(Coroutine *co);

/*
 * Core helpers for the backends: map a stack of COROUTINE_STACK_SIZE bytes
 * with a PROT_NONE guard page below it (returns its lowest usable address;
 * aborts on failure), and unmap it again.
 */
void *qemu_coroutine_stack_alloc(void);
void qemu_coroutine_stack_free(void *stack);

#endif /* QEMU_COROUTINE_INT_H */
