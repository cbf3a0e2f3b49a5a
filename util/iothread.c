/*
 * IOThread: a thread that runs aio_poll() on its own AioContext, which it
 * makes its current context, until iothread_destroy() stops it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/iothread.h"
#include "qapi/error.h"

struct IOThread {
    char *name;
    AioContext *ctx;
    GThread *thread;
    bool stopping;          /* only accessed by the thread itself */
};

static gpointer iothread_run(gpointer opaque)
{
    IOThread *iothread = opaque;

    aio_context_set_thread_default(iothread->ctx);
    while (!iothread->stopping) {
        aio_poll(iothread->ctx, true);
    }
    /* Follow-ups of the work that ran just before the stop request. */
    while (aio_poll(iothread->ctx, false)) {
        /* nothing */
    }
    aio_context_set_thread_default(NULL);
    return NULL;
}

static void iothread_stop_bh(void *opaque)
{
    IOThread *iothread = opaque;

    iothread->stopping = true;
}

IOThread *iothread_create(const char *name, Error **errp)
{
    IOThread *iothread;
    GError *gerr = NULL;
    AioContext *ctx;

    ctx = aio_context_new(errp);
    if (!ctx) {
        return NULL;
    }
    iothread = g_new0(IOThread, 1);
    iothread->name = g_strdup(name ? name : "iothread");
    iothread->ctx = ctx;
    iothread->thread = g_thread_try_new(iothread->name, iothread_run,
                                        iothread, &gerr);
    if (!iothread->thread) {
        error_setg(errp, "Failed to create thread for iothread '%s': %s",
                   iothread->name, gerr->message);
        g_error_free(gerr);
        aio_context_unref(ctx);
        g_free(iothread->name);
        g_free(iothread);
        return NULL;
    }
    return iothread;
}

AioContext *iothread_get_aio_context(IOThread *iothread)
{
    return iothread->ctx;
}

void iothread_destroy(IOThread *iothread)
{
    if (!iothread) {
        return;
    }
    /*
     * A one-shot BH rather than a flag plus aio_notify(): BHs run in
     * scheduling order, so everything already scheduled runs first.
     */
    aio_bh_schedule_oneshot(iothread->ctx, iothread_stop_bh, iothread);
    g_thread_join(iothread->thread);
    aio_context_unref(iothread->ctx);
    g_free(iothread->name);
    g_free(iothread);
}
