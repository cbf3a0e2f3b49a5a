/*
 * Telling ASan about coroutine stack switches, for both switching backends
 * (coroutine-asm.c, coroutine-ucontext.c).  Without ASan it all compiles
 * to nothing.
 *
 * ASan must be told about every stack switch, or it reports false stack
 * overflows and misreads use-after-return.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_COROUTINE_ASAN_H
#define QEMU_COROUTINE_ASAN_H

#include "coroutine-int.h"

/* Embedded in the backend's coroutine; a thread's leader is all zero. */
typedef struct CoroutineAsan {
#ifdef CONFIG_ASAN
    void *fake_stack;           /* ASan use-after-return frames, when out */
    const void *stack_bottom;   /* as ASan knows it (leaders: learned) */
    size_t stack_size;
    bool own_stack;             /* a coroutine's mapped stack, not a leader */
#endif
} CoroutineAsan;

#ifdef CONFIG_ASAN
/* A new coroutine running on [stack, stack + size). */
void coroutine_asan_init(CoroutineAsan *co, void *stack, size_t size);
/* Just before the switch from 'from' to 'to' carrying action. */
void coroutine_asan_start(CoroutineAsan *from, const CoroutineAsan *to,
                          CoroutineAction action);
/* First thing on the stack switched to (a fresh one's entry included). */
void coroutine_asan_finish(CoroutineAsan *self);
#else
static inline void coroutine_asan_init(CoroutineAsan *co, void *stack,
                                       size_t size)
{
}

static inline void coroutine_asan_start(CoroutineAsan *from,
                                        const CoroutineAsan *to,
                                        CoroutineAction action)
{
}

static inline void coroutine_asan_finish(CoroutineAsan *self)
{
}
#endif

#endif /* QEMU_COROUTINE_ASAN_H */
