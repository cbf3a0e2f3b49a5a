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
#include "coroutine-int.h"

#ifdef CONFIG_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

typedef struct CoroutineUContext {
    Coroutine base;
    sigjmp_buf env;             /* where to resume us once started */
    void *stack;                /* lowest usable address; NULL for leaders */
    bool started;               /* 'uc' consumed, 'env' valid from now on */
    ucontext_t uc;              /* initial context, or scratch for leaders */
#ifdef CONFIG_ASAN
    void *fake_stack;
    const void *stack_bottom;
    size_t stack_size;
#endif
} CoroutineUContext;

static __thread CoroutineUContext leader;
static __thread Coroutine *current;

#ifdef CONFIG_ASAN
/*
 * ASan must see every stack switch.  See coroutine-asm.c for how the
 * leader's stack bounds are learned and why the thread-local below is
 * read through a non-inlined function.
 */
static __thread CoroutineUContext *asan_switch_source;

static __attribute__((noinline)) CoroutineUContext **asan_source_slot(void)
{
    CoroutineUContext **slot = &asan_switch_source;

    asm volatile("" : "+r"(slot));
    return slot;
}

static void asan_start(CoroutineUContext *from, CoroutineUContext *to,
                       CoroutineAction action)
{
    *asan_source_slot() = from;
    if (action == COROUTINE_TERMINATE) {
        from->fake_stack = NULL;
        __sanitizer_start_switch_fiber(NULL, to->stack_bottom,
                                       to->stack_size);
    } else {
        __sanitizer_start_switch_fiber(&from->fake_stack, to->stack_bottom,
                                       to->stack_size);
    }
}

static void asan_finish(CoroutineUContext *self)
{
    CoroutineUContext *source = *asan_source_slot();
    const void *bottom;
    size_t size;

    __sanitizer_finish_switch_fiber(self->fake_stack, &bottom, &size);
    if (!source->stack) {
        source->stack_bottom = bottom;
        source->stack_size = size;
    }
}
#else
static inline void asan_start(CoroutineUContext *from, CoroutineUContext *to,
                              CoroutineAction action)
{
}

static inline void asan_finish(CoroutineUContext *self)
{
}
#endif

/* makecontext() passes int arguments only: the pointer comes in halves. */
static void coroutine_uc_start(int lo, int hi)
{
    uintptr_t ptr = (uintptr_t)(unsigned)lo;
    CoroutineUContext *co;

#if UINTPTR_MAX > UINT32_MAX
    ptr |= (uintptr_t)(unsigned)hi << 32;
#endif
    co = (CoroutineUContext *)ptr;
    asan_finish(co);
    coroutine_trampoline_entry(&co->base);
}

Coroutine *qemu_coroutine_new(void)
{
    CoroutineUContext *co = g_new0(CoroutineUContext, 1);
    uintptr_t ptr = (uintptr_t)co;

    co->stack = qemu_coroutine_stack_alloc();
#ifdef CONFIG_ASAN
    co->stack_bottom = co->stack;
    co->stack_size = COROUTINE_STACK_SIZE;
#endif
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
    asan_start(from, to, action);
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
    asan_finish(from);
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
