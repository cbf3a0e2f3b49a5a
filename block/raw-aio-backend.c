/*
 * The registry of per-AioContext states shared by the asynchronous
 * backends of file-posix (Linux AIO and io_uring); see raw-aio-backend.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "raw-aio-backend.h"

RawAioCtx *raw_aio_ctx_attach(RawAioRegistry *reg, AioContext *ctx,
                              RawAioCtxCreateFunc *create, Error **errp)
{
    RawAioCtx *c;

    g_mutex_lock(&reg->lock);
    QLIST_FOREACH(c, &reg->states, next) {
        if (c->ctx == ctx) {
            c->refcnt++;
            g_mutex_unlock(&reg->lock);
            return c;
        }
    }

    c = create(ctx, errp);
    if (c) {
        c->ctx = ctx;
        c->refcnt = 1;
        QLIST_INSERT_HEAD(&reg->states, c, next);
    }
    g_mutex_unlock(&reg->lock);
    return c;
}

void raw_aio_ctx_ref(RawAioRegistry *reg, RawAioCtx *c)
{
    g_mutex_lock(&reg->lock);
    c->refcnt++;
    g_mutex_unlock(&reg->lock);
}

bool raw_aio_ctx_unref(RawAioRegistry *reg, RawAioCtx *c)
{
    bool last;

    g_mutex_lock(&reg->lock);
    assert(c->refcnt > 0);
    last = --c->refcnt == 0;
    if (last) {
        QLIST_REMOVE(c, next);
    }
    g_mutex_unlock(&reg->lock);
    return last;
}

bool raw_aio_ctx_get_stats(RawAioRegistry *reg, AioContext *ctx,
                           RawAioStats *stats)
{
    RawAioCtx *c;
    bool found = false;

    g_mutex_lock(&reg->lock);
    QLIST_FOREACH(c, &reg->states, next) {
        if (c->ctx == ctx) {
            *stats = c->stats;
            found = true;
            break;
        }
    }
    g_mutex_unlock(&reg->lock);
    return found;
}

void raw_aio_ctx_count_submitted(RawAioCtx *c, unsigned n,
                                 unsigned in_flight)
{
    c->stats.submitted += n;
    c->stats.max_batch = MAX(c->stats.max_batch, (uint64_t)n);
    c->stats.max_in_flight = MAX(c->stats.max_in_flight,
                                 (uint64_t)in_flight);
}
