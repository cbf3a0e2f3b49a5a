/*
 * BlockBackend: what tools and device models hold to do I/O on a graph.
 *
 * Coroutine calls (blk_co_*) return 0 or negative errno.  AIO calls
 * (blk_aio_*) return at once; the callback runs exactly once, in the
 * AioContext of the caller.  Synchronous calls (blk_pread, ...) may be used
 * inside or outside a coroutine: outside, they run the request in a
 * coroutine and poll the event loop until it completes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_BACKEND_H
#define BLOCK_BACKEND_H

#include "block/block.h"

BlockBackend *blk_new(AioContext *ctx);
/* Attach bs as the root (takes a reference). */
int blk_insert_bs(BlockBackend *blk, BlockDriverState *bs, Error **errp);
void blk_remove_bs(BlockBackend *blk);
/* bdrv_open() + blk_new() + blk_insert_bs(). */
BlockBackend *blk_new_open(const char *filename, QDict *options, int flags,
                           Error **errp);
void blk_ref(BlockBackend *blk);
/* Drains, detaches and frees on the last reference. */
void blk_unref(BlockBackend *blk);
BlockDriverState *blk_bs(BlockBackend *blk);
AioContext *blk_get_aio_context(BlockBackend *blk);
bool blk_is_read_only(BlockBackend *blk);
int64_t blk_getlength(BlockBackend *blk);

/* ---- coroutine API ---- */
int coroutine_fn blk_co_preadv(BlockBackend *blk, int64_t offset,
                               int64_t bytes, QEMUIOVector *qiov,
                               BdrvRequestFlags flags);
int coroutine_fn blk_co_pwritev(BlockBackend *blk, int64_t offset,
                                int64_t bytes, QEMUIOVector *qiov,
                                BdrvRequestFlags flags);
int coroutine_fn blk_co_pread(BlockBackend *blk, int64_t offset,
                              int64_t bytes, void *buf,
                              BdrvRequestFlags flags);
int coroutine_fn blk_co_pwrite(BlockBackend *blk, int64_t offset,
                               int64_t bytes, const void *buf,
                               BdrvRequestFlags flags);
int coroutine_fn blk_co_pwrite_zeroes(BlockBackend *blk, int64_t offset,
                                      int64_t bytes, BdrvRequestFlags flags);
int coroutine_fn blk_co_pdiscard(BlockBackend *blk, int64_t offset,
                                 int64_t bytes);
int coroutine_fn blk_co_flush(BlockBackend *blk);
int coroutine_fn blk_co_truncate(BlockBackend *blk, int64_t offset,
                                 bool exact, PreallocMode prealloc,
                                 BdrvRequestFlags flags, Error **errp);

/* ---- synchronous wrappers ---- */
int blk_pread(BlockBackend *blk, int64_t offset, int64_t bytes, void *buf,
              BdrvRequestFlags flags);
int blk_pwrite(BlockBackend *blk, int64_t offset, int64_t bytes,
               const void *buf, BdrvRequestFlags flags);
int blk_preadv(BlockBackend *blk, int64_t offset, int64_t bytes,
               QEMUIOVector *qiov, BdrvRequestFlags flags);
int blk_pwritev(BlockBackend *blk, int64_t offset, int64_t bytes,
                QEMUIOVector *qiov, BdrvRequestFlags flags);
int blk_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes,
                      BdrvRequestFlags flags);
int blk_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes);
int blk_flush(BlockBackend *blk);
int blk_truncate(BlockBackend *blk, int64_t offset, bool exact,
                 PreallocMode prealloc, BdrvRequestFlags flags, Error **errp);

/* ---- AIO ---- */
BlockAIOCB *blk_aio_preadv(BlockBackend *blk, int64_t offset,
                           QEMUIOVector *qiov, BdrvRequestFlags flags,
                           BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_pwritev(BlockBackend *blk, int64_t offset,
                            QEMUIOVector *qiov, BdrvRequestFlags flags,
                            BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset,
                                  int64_t bytes, BdrvRequestFlags flags,
                                  BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_pdiscard(BlockBackend *blk, int64_t offset,
                             int64_t bytes, BlockCompletionFunc *cb,
                             void *opaque);
BlockAIOCB *blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb,
                          void *opaque);
/*
 * Cancellation: blk_aio_cancel_async() asks and returns; blk_aio_cancel()
 * waits until the callback has run.  A request that already reached the
 * device completes with its real result; one stopped in time gets
 * -ECANCELED.
 */
void blk_aio_cancel_async(BlockAIOCB *acb);
void blk_aio_cancel(BlockAIOCB *acb);

/* ---- zoned devices (see bdrv_co_zone_* for the checks) ---- */
int coroutine_fn blk_co_zone_report(BlockBackend *blk, int64_t offset,
                                    unsigned int *nr_zones,
                                    BlockZoneDescriptor *zones);
int coroutine_fn blk_co_zone_mgmt(BlockBackend *blk, BlockZoneOp op,
                                  int64_t offset, int64_t len);
int coroutine_fn blk_co_zone_append(BlockBackend *blk, int64_t *offset,
                                    QEMUIOVector *qiov,
                                    BdrvRequestFlags flags);
int blk_zone_report(BlockBackend *blk, int64_t offset,
                    unsigned int *nr_zones, BlockZoneDescriptor *zones);
int blk_zone_mgmt(BlockBackend *blk, BlockZoneOp op, int64_t offset,
                  int64_t len);
int blk_zone_append(BlockBackend *blk, int64_t *offset, QEMUIOVector *qiov,
                    BdrvRequestFlags flags);
/* The AIO forms fill *nr_zones/zones or *offset before cb runs. */
BlockAIOCB *blk_aio_zone_report(BlockBackend *blk, int64_t offset,
                                unsigned int *nr_zones,
                                BlockZoneDescriptor *zones,
                                BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_zone_mgmt(BlockBackend *blk, BlockZoneOp op,
                              int64_t offset, int64_t len,
                              BlockCompletionFunc *cb, void *opaque);
BlockAIOCB *blk_aio_zone_append(BlockBackend *blk, int64_t *offset,
                                QEMUIOVector *qiov, BdrvRequestFlags flags,
                                BlockCompletionFunc *cb, void *opaque);
/* The zoned geometry of the root node (zoned == BLK_Z_NONE if not). */
void blk_get_zone_limits(BlockBackend *blk, BlockLimits *bl);

/* Wait until every request of blk has completed. */
void blk_drain(BlockBackend *blk);
/* Requests in flight through blk (for tests and drain). */
unsigned blk_in_flight(BlockBackend *blk);

#endif /* BLOCK_BACKEND_H */
