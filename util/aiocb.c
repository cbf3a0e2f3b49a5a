/*
 * Asynchronous control blocks: allocation, reference counting and
 * cancellation shared by the thread pool and the block layer.
 *
 * Convention: whoever completes an acb calls its callback and then drops the
 * reference it got from qemu_aio_get().  aio_cancel() relies on that: it
 * holds an extra reference and knows the callback has run once the count
 * falls back to its own reference.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/aio.h"

void *qemu_aio_get(const AIOCBInfo *aiocb_info, void *bs,
                   BlockCompletionFunc *cb, void *opaque)
{
    BlockAIOCB *acb;

    g_assert(aiocb_info->aiocb_size >= sizeof(BlockAIOCB));
    acb = g_malloc0(aiocb_info->aiocb_size);
    acb->aiocb_info = aiocb_info;
    acb->bs = bs;
    acb->cb = cb;
    acb->opaque = opaque;
    acb->refcnt = 1;
    return acb;
}

/*
 * References are normally taken and dropped in the acb's context thread;
 * atomics keep a cross-thread aio_cancel_async() user honest anyway.
 */
void qemu_aio_ref(void *p)
{
    BlockAIOCB *acb = p;
    int old = __atomic_fetch_add(&acb->refcnt, 1, __ATOMIC_RELAXED);

    g_assert(old > 0);
}

void qemu_aio_unref(void *p)
{
    BlockAIOCB *acb = p;
    int old = __atomic_fetch_sub(&acb->refcnt, 1, __ATOMIC_ACQ_REL);

    g_assert(old > 0);
    if (old == 1) {
        g_free(acb);
    }
}

void aio_cancel_async(BlockAIOCB *acb)
{
    if (acb->aiocb_info->cancel_async) {
        acb->aiocb_info->cancel_async(acb);
    }
}

/*
 * Must be called from the thread that runs the acb's context: that loop is
 * polled here until the completion has dropped its reference.
 */
void aio_cancel(BlockAIOCB *acb)
{
    AioContext *ctx;

    qemu_aio_ref(acb);
    aio_cancel_async(acb);

    if (acb->aiocb_info->get_aio_context) {
        ctx = acb->aiocb_info->get_aio_context(acb);
    } else {
        ctx = qemu_get_current_aio_context();
    }
    while (__atomic_load_n(&acb->refcnt, __ATOMIC_ACQUIRE) > 1) {
        aio_poll(ctx, true);
    }
    qemu_aio_unref(acb);
}
