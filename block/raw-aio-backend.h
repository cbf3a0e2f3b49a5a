/*
 * What the asynchronous backends of file-posix (block/linux-aio.c and
 * block/io_uring.c) share: the registry of their per-AioContext states.
 * file-posix itself sees only raw-aio.h.
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

#endif /* BLOCK_RAW_AIO_BACKEND_H */
