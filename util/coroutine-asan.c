/*
 * ASan annotations of coroutine stack switches (built with ASan only); see
 * coroutine-asan.h.
 *
 * A thread's leader stack bounds are not known up front; they are learned
 * from the "old stack" that __sanitizer_finish_switch_fiber reports on the
 * other side of the first switch away from the leader.  The switching
 * coroutine is passed across in a thread-local read through a non-inlined
 * function, so the compiler cannot reuse a TLS address computed before the
 * switch, when the coroutine may have moved to another thread.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <sanitizer/common_interface_defs.h>
#include "coroutine-asan.h"

static __thread CoroutineAsan *asan_switch_source;

static __attribute__((noinline)) CoroutineAsan **asan_source_slot(void)
{
    CoroutineAsan **slot = &asan_switch_source;

    asm volatile("" : "+r"(slot));
    return slot;
}

void coroutine_asan_init(CoroutineAsan *co, void *stack, size_t size)
{
    co->stack_bottom = stack;
    co->stack_size = size;
    co->own_stack = true;
}

void coroutine_asan_start(CoroutineAsan *from, const CoroutineAsan *to,
                          CoroutineAction action)
{
    *asan_source_slot() = from;
    if (action == COROUTINE_TERMINATE) {
        /* NULL: ASan drops the fake frames of the finished function. */
        from->fake_stack = NULL;
        __sanitizer_start_switch_fiber(NULL, to->stack_bottom,
                                       to->stack_size);
    } else {
        __sanitizer_start_switch_fiber(&from->fake_stack, to->stack_bottom,
                                       to->stack_size);
    }
}

void coroutine_asan_finish(CoroutineAsan *self)
{
    CoroutineAsan *source = *asan_source_slot();
    const void *bottom;
    size_t size;

    __sanitizer_finish_switch_fiber(self->fake_stack, &bottom, &size);
    if (!source->own_stack) {
        source->stack_bottom = bottom;
        source->stack_size = size;
    }
}
