/*
 * The main AioContext of command-line tools and tests.
 *
 * It is created once (by qemu_init_main_loop(), or on the first
 * qemu_get_current_aio_context() of a thread without its own context) and
 * lives as long as the process.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"

#include <pthread.h>

static AioContext *qemu_aio_context;    /* atomic; set once */
static pthread_t main_thread;           /* written before qemu_aio_context */
static GMutex init_lock;

int qemu_init_main_loop(Error **errp)
{
    int ret = 0;

    if (__atomic_load_n(&qemu_aio_context, __ATOMIC_ACQUIRE)) {
        return 0;
    }
    g_mutex_lock(&init_lock);
    if (!qemu_aio_context) {
        Error *local_err = NULL;
        AioContext *ctx = aio_context_new(&local_err);

        if (ctx) {
            main_thread = pthread_self();
            __atomic_store_n(&qemu_aio_context, ctx, __ATOMIC_RELEASE);
        } else {
            ret = error_get_errno(local_err) ? -error_get_errno(local_err)
                                             : -EINVAL;
            error_propagate(errp, local_err);
        }
    }
    g_mutex_unlock(&init_lock);
    return ret;
}

AioContext *qemu_get_aio_context(void)
{
    AioContext *ctx = __atomic_load_n(&qemu_aio_context, __ATOMIC_ACQUIRE);

    if (!ctx) {
        fprintf(stderr, "qemu_get_aio_context: the main loop is not "
                "initialized; call qemu_init_main_loop() first\n");
        abort();
    }
    return ctx;
}

void main_loop_wait(bool nonblocking)
{
    aio_poll(qemu_get_aio_context(), !nonblocking);
}

bool qemu_in_main_thread(void)
{
    return __atomic_load_n(&qemu_aio_context, __ATOMIC_ACQUIRE) &&
           pthread_equal(pthread_self(), main_thread);
}
