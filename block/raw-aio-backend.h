/*
 * What the asynchronous backends of file-posix (block/linux-aio.c and
 * block/io_uring.c) share: the registry of their per-AioContext states,
 * and a request's life from its coroutine's submission to its wake-up,
 * short transfers included.  file-posix itself sees only raw-aio.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_RAW_AIO_BACKEND_H
#define BLOCK_RAW_AIO_BACKEND_H

#include "qemu/queue.h"
#include "raw-aio.h"

/*
 * The part of a backend's state that the registry manages; embedded in
 * LinuxAioState and LuringState.  There is one state per AioContext and
 * backend, shared by the nodes that submit from that context.
 */
typedef struct RawAioCtx {
    AioContext *ctx;
    unsigned refcnt;            /* protected by the registry's lock */
    RawAioStats stats;          /* context thread; copied under the lock */
    QLIST_ENTRY(RawAioCtx) next;
} RawAioCtx;

/* A backend's states; zero-initialised (a static variable) is empty. */
typedef struct RawAioRegistry {
    GMutex lock;
    QLIST_HEAD(, RawAioCtx) states;
} RawAioRegistry;

/*
 * Create the backend state for ctx, or fail with *errp set.  Runs with the
 * registry locked, so that two nodes never create two states for one
 * context; the registry fills in the RawAioCtx fields.
 */
typedef RawAioCtx *RawAioCtxCreateFunc(AioContext *ctx, Error **errp);

/* The state of ctx, created on first use; takes a reference. */
RawAioCtx *raw_aio_ctx_attach(RawAioRegistry *reg, AioContext *ctx,
                              RawAioCtxCreateFunc *create, Error **errp);
void raw_aio_ctx_ref(RawAioRegistry *reg, RawAioCtx *c);
/*
 * Drop a reference.  True if it was the last: c is out of the registry
 * and the caller frees the state.
 */
bool raw_aio_ctx_unref(RawAioRegistry *reg, RawAioCtx *c);
/* The counters of the state attached to ctx; false if there is none. */
bool raw_aio_ctx_get_stats(RawAioRegistry *reg, AioContext *ctx,
                           RawAioStats *stats);
/* Count n requests handed to the kernel in one call; in_flight are there. */
void raw_aio_ctx_count_submitted(RawAioCtx *c, unsigned n,
                                 unsigned in_flight);

/*
 * A request in a backend; embedded in LaioReq and LuringReq.  A read or
 * write may move fewer bytes than asked: the rest is submitted again until
 * all is done, or the end of the file is reached (a read: the rest reads
 * as zeroes; a write: -ENOSPC).
 */
typedef struct RawAioReq {
    Coroutine *co;
    const RawAioRequest *req;
    size_t done;                /* bytes transferred so far */
    QEMUIOVector rest;          /* the untransferred part after a short one */
    bool has_rest;
    int ret;                    /* -EINPROGRESS until complete */
} RawAioReq;

/* Start r for req, from the submitting coroutine in c's AioContext. */
void coroutine_fn raw_aio_req_init(RawAioReq *r, RawAioCtx *c,
                                   const RawAioRequest *req);
/* Whether queued requests are a batch to submit at once (limit: ours). */
bool raw_aio_batch_full(const RawAioRequest *req, unsigned queued,
                        unsigned limit);
/* What r has left to transfer: req->qiov, or the rest of a short one. */
QEMUIOVector *raw_aio_req_qiov(RawAioReq *r);
/*
 * Set r's result and enter its coroutine: woken at once from a completion
 * handler, scheduled otherwise (submission never runs request code).
 */
void raw_aio_req_finish(RawAioCtx *c, RawAioReq *r, int ret, bool wake);
/*
 * Account one completion of r (res: bytes moved, or a negative errno).
 * Finishes r and returns true, or returns false when what is left is to
 * be submitted again (from raw_aio_req_qiov()).
 */
bool raw_aio_req_complete(RawAioCtx *c, RawAioReq *r, long res);
/* Wait until r is finished; returns its result (0 or a negative errno). */
int coroutine_fn raw_aio_req_wait(RawAioReq *r);

#endif /* BLOCK_RAW_AIO_BACKEND_H */
