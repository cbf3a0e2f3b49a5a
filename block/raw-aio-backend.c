/*
 * What the asynchronous backends of file-posix (Linux AIO and io_uring)
 * share: the registry of their per-AioContext states and the life of a
 * request; see raw-aio-backend.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/coroutine.h"
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

void coroutine_fn raw_aio_req_init(RawAioReq *r, RawAioCtx *c,
                                   const RawAioRequest *req)
{
    assert(qemu_in_coroutine());
    assert(qemu_get_current_aio_context() == c->ctx);
    assert(req->align > 0);

    *r = (RawAioReq) {
        .co = qemu_coroutine_self(),
        .req = req,
        .ret = -EINPROGRESS,
    };
}

bool raw_aio_batch_full(const RawAioRequest *req, unsigned queued,
                        unsigned limit)
{
    uint64_t batch = req->max_batch ? req->max_batch
                                    : RAW_AIO_DEFAULT_MAX_BATCH;

    return queued >= MIN(batch, limit);
}

QEMUIOVector *raw_aio_req_qiov(RawAioReq *r)
{
    QEMUIOVector *qiov = r->req->qiov;

    if (!r->done) {
        return qiov;
    }
    if (r->has_rest) {
        qemu_iovec_destroy(&r->rest);
    }
    qemu_iovec_init_slice(&r->rest, qiov, r->done, qiov->size - r->done);
    r->has_rest = true;
    return &r->rest;
}

void raw_aio_req_finish(RawAioCtx *c, RawAioReq *r, int ret, bool wake)
{
    r->ret = ret;
    c->stats.requests++;
    if (r->co == qemu_coroutine_self()) {
        return;     /* still running: it sees r->ret before yielding */
    }
    if (wake) {
        aio_co_wake(r->co);
    } else {
        aio_co_schedule(c->ctx, r->co);
    }
}

bool raw_aio_req_complete(RawAioCtx *c, RawAioReq *r, long res)
{
    const RawAioRequest *req = r->req;
    size_t size;

    if (res < 0) {
        raw_aio_req_finish(c, r, res, true);
        return true;
    }
    if (req->op == RAW_AIO_FLUSH) {
        raw_aio_req_finish(c, r, 0, true);
        return true;
    }

    r->done += res;
    size = req->qiov->size;
    if (r->done >= size) {
        raw_aio_req_finish(c, r, 0, true);
        return true;
    }

    /* Short transfer: continue unless we hit the end of the file. */
    if (res == 0 || (req->offset + r->done) % req->align != 0) {
        if (req->op == RAW_AIO_READ) {
            qemu_iovec_memset(req->qiov, r->done, 0, size - r->done);
            c->stats.eof_fills++;
            raw_aio_req_finish(c, r, 0, true);
        } else {
            raw_aio_req_finish(c, r, -ENOSPC, true);
        }
        return true;
    }
    c->stats.resubmitted++;
    return false;
}

int coroutine_fn raw_aio_req_wait(RawAioReq *r)
{
    while (r->ret == -EINPROGRESS) {
        qemu_coroutine_yield();
    }
    if (r->has_rest) {
        qemu_iovec_destroy(&r->rest);
    }
    return r->ret;
}
