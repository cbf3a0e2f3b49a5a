/*
 * Portable coroutine switching backend: makecontext()/swapcontext() start a
 * fresh stack, sigsetjmp()/siglongjmp() do every later switch (without
 * saving the signal mask, so no system call on the fast path).
 *
 * As with the asm backend, the floating-point control registers are
 * thread state: setjmp does not save them.
 *
 * Under ASan, siglongjmp() goes through an interceptor that unpoisons the
 * stack being left from its stack pointer up, so the redzones of frames
 * suspended across a switch are lost (overflows there go unnoticed) and
 * every switch is far slower; the asm backend has neither problem.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <setjmp.h>
#include <ucontext.h>
#include "qemu/coroutine.h"
#include "qemu/error-report.h"
#include "coroutine-asan.h"

typedef struct CoroutineUContext {
    Coroutine base;
    sigjmp_buf env;             /* where to resume us once started */
    void *stack;                /* lowest usable address; NULL for leaders */
    bool started;               /* 'uc' consumed, 'env' valid from now on */
    ucontext_t uc;              /* initial context, or scratch for leaders */
    CoroutineAsan asan;
} CoroutineUContext;

static __thread CoroutineUContext leader;
static __thread Coroutine *current;

/* makecontext() passes int arguments only: the pointer comes in halves. */
static void coroutine_uc_start(int lo, int hi)
{
    uintptr_t ptr = (uintptr_t)(unsigned)lo;
    CoroutineUContext *co;

#if UINTPTR_MAX > UINT32_MAX
    ptr |= (uintptr_t)(unsigned)hi << 32;
#endif
    co = (CoroutineUContext *)ptr;
    coroutine_asan_finish(&co->asan);
    coroutine_trampoline_entry(&co->base);
}

Coroutine *qemu_coroutine_new(void)
{
    CoroutineUContext *co = g_new0(CoroutineUContext, 1);
    uintptr_t ptr = (uintptr_t)co;

    co->stack = qemu_coroutine_stack_alloc();
    coroutine_asan_init(&co->asan, co->stack, COROUTINE_STACK_SIZE);
    if (getcontext(&co->uc)) {
        error_report("coroutine: getcontext failed: %s", strerror(errno));
        abort();
    }
    co->uc.uc_stack.ss_sp = co->stack;
    co->uc.uc_stack.ss_size = COROUTINE_STACK_SIZE;
    co->uc.uc_link = NULL;      /* the start function never returns */
    makecontext(&co->uc, (void (*)(void))coroutine_uc_start, 2,
                (int)(uint32_t)ptr, (int)(uint32_t)((uint64_t)ptr >> 32));
    return &co->base;
}

void qemu_coroutine_delete(Coroutine *co_)
{
    CoroutineUContext *co = container_of(co_, CoroutineUContext, base);

    qemu_coroutine_stack_free(co->stack);
    g_free(co);
}

CoroutineAction qemu_coroutine_switch(Coroutine *from_, Coroutine *to_,
                                      CoroutineAction action)
{
    CoroutineUContext *from = container_of(from_, CoroutineUContext, base);
    CoroutineUContext *to = container_of(to_, CoroutineUContext, base);
    int ret;

    current = to_;
    coroutine_asan_start(&from->asan, &to->asan, action);
    ret = sigsetjmp(from->env, 0);
    if (ret == 0) {
        if (unlikely(!to->started)) {
            to->started = true;
            /* The saved context is never resumed: we come back via env. */
            swapcontext(&from->uc, &to->uc);
            abort();
        }
        siglongjmp(to->env, action);
    }
    coroutine_asan_finish(&from->asan);
    return ret;
}

Coroutine *qemu_coroutine_backend_self(void)
{
    Coroutine *self = current;

    if (unlikely(!self)) {
        leader.started = true;      /* running on its own stack already */
        self = current = &leader.base;
    }
    return self;
}

bool qemu_coroutine_backend_in_coroutine(void)
{
    Coroutine *self = current;

    return self && self != &leader.base;
}

const char *qemu_coroutine_backend_name(void)
{
    return "ucontext";
}
