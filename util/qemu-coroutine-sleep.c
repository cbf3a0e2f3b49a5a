/*
 * Coroutine sleep: arm a timer in the coroutine's AioContext and yield
 * until it fires, or until qemu_co_sleep_wake() cuts the sleep short.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <assert.h>
#include "qemu/coroutine.h"
#include "block/aio.h"
#include "coroutine-int.h"

void qemu_co_sleep_wake(QemuCoSleep *w)
{
    Coroutine *co = w->to_wake;

    /* Clearing to_wake first makes a second wake (timer + caller) a no-op. */
    if (co) {
        w->to_wake = NULL;
        aio_co_wake(co);
    }
}

static void co_sleep_timer_cb(void *opaque)
{
    qemu_co_sleep_wake(opaque);
}

void coroutine_fn qemu_co_sleep_ns_wakeable(QemuCoSleep *w, int64_t ns)
{
    Coroutine *self = qemu_coroutine_self();
    AioContext *ctx = qemu_coroutine_get_aio_context(self);
    QEMUTimer *timer;

    assert(qemu_in_coroutine());
    if (!ctx) {
        ctx = qemu_get_current_aio_context();
    }
    assert(!self->sleep_state);

    w->to_wake = self;
    self->sleep_state = w;
    timer = aio_timer_new(ctx, co_sleep_timer_cb, w);
    timer_mod_ns(timer, get_clock_ns() + ns);

    qemu_coroutine_yield();

    /* Woken early: the timer may still be armed. */
    timer_free(timer);
    self->sleep_state = NULL;
    assert(w->to_wake == NULL);
}

void coroutine_fn qemu_co_sleep_ns(int64_t ns)
{
    QemuCoSleep w = { 0 };

    qemu_co_sleep_ns_wakeable(&w, ns);
}
