/*
 * BlockBackend: the handle tools and device models do I/O through.  It
 * checks requests against the length of the image, queues them while the
 * graph is drained, and offers coroutine, synchronous and callback (AIO)
 * forms of every request.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "block/block_int.h"
#include "sysemu/block-backend.h"

struct BlockBackend {
    int refcnt;
    AioContext *ctx;
    BdrvChild *root;
    /* Requests from submission until their callback has returned. */
    unsigned int in_flight;
};

/* Threads waiting in blk_drain(); zero saves the kick on completion. */
static unsigned int blk_drain_pollers;

BlockBackend *blk_new(AioContext *ctx)
{
    BlockBackend *blk = g_new0(BlockBackend, 1);

    blk->refcnt = 1;
    blk->ctx = ctx ? ctx : qemu_get_current_aio_context();
    return blk;
}

BlockDriverState *blk_bs(BlockBackend *blk)
{
    return blk->root ? blk->root->bs : NULL;
}

AioContext *blk_get_aio_context(BlockBackend *blk)
{
    return blk->ctx;
}

int blk_insert_bs(BlockBackend *blk, BlockDriverState *bs, Error **errp)
{
    if (blk->root) {
        error_setg(errp, "The BlockBackend already has node '%s' attached",
                   bdrv_get_node_name(blk_bs(blk)));
        return -EBUSY;
    }
    if (bdrv_get_aio_context(bs) != blk->ctx) {
        error_setg(errp, "Node '%s' is in another AioContext than the "
                   "BlockBackend", bdrv_get_node_name(bs));
        return -EINVAL;
    }
    /* Requests without a medium (-ENOMEDIUM) must not straddle this. */
    blk_drain(blk);
    blk->root = bdrv_root_attach_child(bs, "root");
    return 0;
}

void blk_remove_bs(BlockBackend *blk)
{
    BdrvChild *root = blk->root;

    if (!root) {
        return;
    }
    blk_drain(blk);
    blk->root = NULL;
    bdrv_root_unref_child(root);
}

BlockBackend *blk_new_open(const char *filename, QDict *options, int flags,
                           Error **errp)
{
    BlockDriverState *bs;
    BlockBackend *blk;

    bs = bdrv_open(filename, options, flags, errp);
    if (!bs) {
        return NULL;
    }
    /* The caller asked to write; an option made the node read-only. */
    if ((flags & BDRV_O_RDWR) && bdrv_is_read_only(bs)) {
        error_setg(errp, "Block node is read-only");
        bdrv_unref(bs);
        return NULL;
    }
    blk = blk_new(bdrv_get_aio_context(bs));
    if (blk_insert_bs(blk, bs, errp) < 0) {
        blk_unref(blk);
        bdrv_unref(bs);
        return NULL;
    }
    bdrv_unref(bs);
    return blk;
}

void blk_ref(BlockBackend *blk)
{
    blk->refcnt++;
}

void blk_unref(BlockBackend *blk)
{
    if (!blk) {
        return;
    }
    g_assert(blk->refcnt > 0);
    if (--blk->refcnt > 0) {
        return;
    }
    /* Callbacks still pending refer to blk. */
    blk_drain(blk);
    blk_remove_bs(blk);
    g_free(blk);
}

bool blk_is_read_only(BlockBackend *blk)
{
    BlockDriverState *bs = blk_bs(blk);

    return bs ? bdrv_is_read_only(bs) : true;
}

int64_t blk_getlength(BlockBackend *blk)
{
    BlockDriverState *bs = blk_bs(blk);

    return bs ? bdrv_getlength(bs) : -ENOMEDIUM;
}

unsigned blk_in_flight(BlockBackend *blk)
{
    return __atomic_load_n(&blk->in_flight, __ATOMIC_SEQ_CST);
}

/*
 * A request counts on blk and on the root node, so that draining the node
 * also waits for callbacks still to be delivered.
 */
static void blk_inc_in_flight(BlockBackend *blk)
{
    __atomic_fetch_add(&blk->in_flight, 1, __ATOMIC_SEQ_CST);
    if (blk->root) {
        bdrv_inc_in_flight(blk->root->bs);
    }
}

static void blk_dec_in_flight(BlockBackend *blk)
{
    unsigned int old;

    if (blk->root) {
        bdrv_dec_in_flight(blk->root->bs);
    }
    old = __atomic_fetch_sub(&blk->in_flight, 1, __ATOMIC_SEQ_CST);
    g_assert(old > 0);
    if (old == 1 && __atomic_load_n(&blk_drain_pollers, __ATOMIC_SEQ_CST)) {
        aio_notify(blk->ctx);
    }
}

/* ---- requests ---- */

typedef enum {
    BLK_OP_READ,
    BLK_OP_WRITE,
    BLK_OP_DISCARD,
    BLK_OP_FLUSH,
    BLK_OP_TRUNCATE,
    BLK_OP_ZONE_REPORT,
    BLK_OP_ZONE_MGMT,
    BLK_OP_ZONE_APPEND,
} BlkOp;

typedef struct BlkRwCo {
    BlockBackend *blk;
    BlkOp op;
    int64_t offset;
    int64_t bytes;
    QEMUIOVector *qiov;
    BdrvRequestFlags flags;
    /* truncate */
    bool exact;
    PreallocMode prealloc;
    Error **errp;
    /* zone operations (offset/bytes: report start, mgmt range) */
    BlockZoneOp zone_op;
    unsigned int *nr_zones;
    BlockZoneDescriptor *zones;
    int64_t *append_offset;
    /* AIO: set by blk_aio_cancel_async() */
    bool cancelled;
    int ret;
    bool done;
} BlkRwCo;

/*
 * While the root node is drained, new requests wait (not counted as in
 * flight, or the drain could never end).  A cancelled AIO request stops
 * waiting.
 */
static void coroutine_fn blk_wait_while_drained(BlkRwCo *rw)
{
    BlockDriverState *bs = blk_bs(rw->blk);

    if (!bs || !bs->quiesce_counter) {
        return;
    }
    blk_dec_in_flight(rw->blk);
    while (bs->quiesce_counter && !rw->cancelled) {
        qemu_co_queue_wait(&bs->drain_queue, NULL);
    }
    blk_inc_in_flight(rw->blk);
}

/* As QEMU: anything not entirely inside the image fails with -EIO. */
static int blk_check_byte_request(BlockBackend *blk, int64_t offset,
                                  int64_t bytes)
{
    int64_t len;

    if (bytes < 0) {
        return -EIO;
    }
    if (!blk_bs(blk)) {
        return -ENOMEDIUM;
    }
    if (offset < 0) {
        return -EIO;
    }
    len = bdrv_getlength(blk_bs(blk));
    if (len < 0) {
        return len;
    }
    if (offset > len || len - offset < bytes) {
        return -EIO;
    }
    return 0;
}

/* The request itself, counted in flight by the caller. */
static int coroutine_fn blk_co_do_request(BlkRwCo *rw)
{
    BlockBackend *blk = rw->blk;
    int ret;

    blk_wait_while_drained(rw);
    if (rw->cancelled) {
        return -ECANCELED;
    }

    switch (rw->op) {
    case BLK_OP_READ:
    case BLK_OP_WRITE:
    case BLK_OP_DISCARD:
        ret = blk_check_byte_request(blk, rw->offset, rw->bytes);
        if (ret < 0) {
            return ret;
        }
        if (rw->op == BLK_OP_READ) {
            return bdrv_co_preadv(blk->root, rw->offset, rw->bytes, rw->qiov,
                                  rw->flags);
        } else if (rw->op == BLK_OP_WRITE) {
            return bdrv_co_pwritev(blk->root, rw->offset, rw->bytes,
                                   rw->qiov, rw->flags);
        }
        return bdrv_co_pdiscard(blk->root, rw->offset, rw->bytes);
    case BLK_OP_FLUSH:
        if (!blk->root) {
            return -ENOMEDIUM;
        }
        return bdrv_co_flush(blk->root->bs);
    case BLK_OP_TRUNCATE:
        if (!blk->root) {
            error_setg(rw->errp, "No medium inserted");
            return -ENOMEDIUM;
        }
        return bdrv_co_truncate(blk->root, rw->offset, rw->exact,
                                rw->prealloc, rw->flags, rw->errp);
    case BLK_OP_ZONE_REPORT:
        /* Past the end is no error: there are no zones there (kernel). */
        if (!blk->root) {
            return -ENOMEDIUM;
        }
        if (rw->offset < 0) {
            return -EIO;
        }
        return bdrv_co_zone_report(blk->root->bs, rw->offset, rw->nr_zones,
                                   rw->zones);
    case BLK_OP_ZONE_MGMT:
        ret = blk_check_byte_request(blk, rw->offset, rw->bytes);
        if (ret < 0) {
            return ret;
        }
        return bdrv_co_zone_mgmt(blk->root->bs, rw->zone_op, rw->offset,
                                 rw->bytes);
    case BLK_OP_ZONE_APPEND:
        if (!rw->append_offset || !rw->qiov) {
            return -EINVAL;
        }
        ret = blk_check_byte_request(blk, *rw->append_offset,
                                     rw->qiov->size);
        if (ret < 0) {
            return ret;
        }
        return bdrv_co_zone_append(blk->root->bs, rw->append_offset,
                                   rw->qiov, rw->flags);
    }
    g_assert_not_reached();
}

static int coroutine_fn blk_co_request(BlkRwCo *rw)
{
    int ret;

    blk_inc_in_flight(rw->blk);
    ret = blk_co_do_request(rw);
    blk_dec_in_flight(rw->blk);
    return ret;
}

int coroutine_fn blk_co_preadv(BlockBackend *blk, int64_t offset,
                               int64_t bytes, QEMUIOVector *qiov,
                               BdrvRequestFlags flags)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_READ, .offset = offset,
                   .bytes = bytes, .qiov = qiov, .flags = flags };

    return blk_co_request(&rw);
}

int coroutine_fn blk_co_pwritev(BlockBackend *blk, int64_t offset,
                                int64_t bytes, QEMUIOVector *qiov,
                                BdrvRequestFlags flags)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_WRITE, .offset = offset,
                   .bytes = bytes, .qiov = qiov, .flags = flags };

    return blk_co_request(&rw);
}

int coroutine_fn blk_co_pread(BlockBackend *blk, int64_t offset,
                              int64_t bytes, void *buf,
                              BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    if (bytes < 0) {
        return -EIO;
    }
    qemu_iovec_init_buf(&qiov, buf, bytes);
    return blk_co_preadv(blk, offset, bytes, &qiov, flags);
}

int coroutine_fn blk_co_pwrite(BlockBackend *blk, int64_t offset,
                               int64_t bytes, const void *buf,
                               BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    if (bytes < 0) {
        return -EIO;
    }
    qemu_iovec_init_buf(&qiov, (void *)buf, bytes);
    return blk_co_pwritev(blk, offset, bytes, &qiov, flags);
}

int coroutine_fn blk_co_pwrite_zeroes(BlockBackend *blk, int64_t offset,
                                      int64_t bytes, BdrvRequestFlags flags)
{
    return blk_co_pwritev(blk, offset, bytes, NULL,
                          flags | BDRV_REQ_ZERO_WRITE);
}

int coroutine_fn blk_co_pdiscard(BlockBackend *blk, int64_t offset,
                                 int64_t bytes)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_DISCARD, .offset = offset,
                   .bytes = bytes };

    return blk_co_request(&rw);
}

int coroutine_fn blk_co_flush(BlockBackend *blk)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_FLUSH };

    return blk_co_request(&rw);
}

int coroutine_fn blk_co_truncate(BlockBackend *blk, int64_t offset,
                                 bool exact, PreallocMode prealloc,
                                 BdrvRequestFlags flags, Error **errp)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_TRUNCATE, .offset = offset,
                   .exact = exact, .prealloc = prealloc, .flags = flags,
                   .errp = errp };

    return blk_co_request(&rw);
}

/* The requests of the zone operations, shared by all three forms. */
static BlkRwCo blk_zone_report_rw(BlockBackend *blk, int64_t offset,
                                  unsigned int *nr_zones,
                                  BlockZoneDescriptor *zones)
{
    return (BlkRwCo) { .blk = blk, .op = BLK_OP_ZONE_REPORT,
                       .offset = offset, .nr_zones = nr_zones,
                       .zones = zones };
}

static BlkRwCo blk_zone_mgmt_rw(BlockBackend *blk, BlockZoneOp op,
                                int64_t offset, int64_t len)
{
    return (BlkRwCo) { .blk = blk, .op = BLK_OP_ZONE_MGMT,
                       .offset = offset, .bytes = len, .zone_op = op };
}

static BlkRwCo blk_zone_append_rw(BlockBackend *blk, int64_t *offset,
                                  QEMUIOVector *qiov, BdrvRequestFlags flags)
{
    return (BlkRwCo) { .blk = blk, .op = BLK_OP_ZONE_APPEND,
                       .append_offset = offset, .qiov = qiov,
                       .flags = flags };
}

int coroutine_fn blk_co_zone_report(BlockBackend *blk, int64_t offset,
                                    unsigned int *nr_zones,
                                    BlockZoneDescriptor *zones)
{
    BlkRwCo rw = blk_zone_report_rw(blk, offset, nr_zones, zones);

    return blk_co_request(&rw);
}

int coroutine_fn blk_co_zone_mgmt(BlockBackend *blk, BlockZoneOp op,
                                  int64_t offset, int64_t len)
{
    BlkRwCo rw = blk_zone_mgmt_rw(blk, op, offset, len);

    return blk_co_request(&rw);
}

int coroutine_fn blk_co_zone_append(BlockBackend *blk, int64_t *offset,
                                    QEMUIOVector *qiov,
                                    BdrvRequestFlags flags)
{
    BlkRwCo rw = blk_zone_append_rw(blk, offset, qiov, flags);

    return blk_co_request(&rw);
}

void blk_get_zone_limits(BlockBackend *blk, BlockLimits *bl)
{
    BlockDriverState *bs = blk_bs(blk);

    if (bs) {
        *bl = bs->bl;
    } else {
        memset(bl, 0, sizeof(*bl));
    }
}

/* ---- synchronous wrappers ---- */

static void coroutine_fn blk_sync_entry(void *opaque)
{
    BlkRwCo *rw = opaque;

    rw->ret = blk_co_request(rw);
    __atomic_store_n(&rw->done, true, __ATOMIC_RELEASE);
}

/* Inside a coroutine: just call.  Outside: run one and poll. */
static int blk_sync_request(BlkRwCo *rw)
{
    if (qemu_in_coroutine()) {
        return blk_co_request(rw);
    }
    bdrv_poll_co(rw->blk->ctx, blk_sync_entry, rw, &rw->done);
    return rw->ret;
}

int blk_preadv(BlockBackend *blk, int64_t offset, int64_t bytes,
               QEMUIOVector *qiov, BdrvRequestFlags flags)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_READ, .offset = offset,
                   .bytes = bytes, .qiov = qiov, .flags = flags };

    return blk_sync_request(&rw);
}

int blk_pwritev(BlockBackend *blk, int64_t offset, int64_t bytes,
                QEMUIOVector *qiov, BdrvRequestFlags flags)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_WRITE, .offset = offset,
                   .bytes = bytes, .qiov = qiov, .flags = flags };

    return blk_sync_request(&rw);
}

int blk_pread(BlockBackend *blk, int64_t offset, int64_t bytes, void *buf,
              BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    if (bytes < 0) {
        return -EIO;
    }
    qemu_iovec_init_buf(&qiov, buf, bytes);
    return blk_preadv(blk, offset, bytes, &qiov, flags);
}

int blk_pwrite(BlockBackend *blk, int64_t offset, int64_t bytes,
               const void *buf, BdrvRequestFlags flags)
{
    QEMUIOVector qiov;

    if (bytes < 0) {
        return -EIO;
    }
    qemu_iovec_init_buf(&qiov, (void *)buf, bytes);
    return blk_pwritev(blk, offset, bytes, &qiov, flags);
}

int blk_pwrite_zeroes(BlockBackend *blk, int64_t offset, int64_t bytes,
                      BdrvRequestFlags flags)
{
    return blk_pwritev(blk, offset, bytes, NULL, flags | BDRV_REQ_ZERO_WRITE);
}

int blk_pdiscard(BlockBackend *blk, int64_t offset, int64_t bytes)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_DISCARD, .offset = offset,
                   .bytes = bytes };

    return blk_sync_request(&rw);
}

int blk_flush(BlockBackend *blk)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_FLUSH };

    return blk_sync_request(&rw);
}

int blk_truncate(BlockBackend *blk, int64_t offset, bool exact,
                 PreallocMode prealloc, BdrvRequestFlags flags, Error **errp)
{
    BlkRwCo rw = { .blk = blk, .op = BLK_OP_TRUNCATE, .offset = offset,
                   .exact = exact, .prealloc = prealloc, .flags = flags,
                   .errp = errp };

    return blk_sync_request(&rw);
}

int blk_zone_report(BlockBackend *blk, int64_t offset,
                    unsigned int *nr_zones, BlockZoneDescriptor *zones)
{
    BlkRwCo rw = blk_zone_report_rw(blk, offset, nr_zones, zones);

    return blk_sync_request(&rw);
}

int blk_zone_mgmt(BlockBackend *blk, BlockZoneOp op, int64_t offset,
                  int64_t len)
{
    BlkRwCo rw = blk_zone_mgmt_rw(blk, op, offset, len);

    return blk_sync_request(&rw);
}

int blk_zone_append(BlockBackend *blk, int64_t *offset, QEMUIOVector *qiov,
                    BdrvRequestFlags flags)
{
    BlkRwCo rw = blk_zone_append_rw(blk, offset, qiov, flags);

    return blk_sync_request(&rw);
}

/* ---- AIO ---- */

typedef struct BlkAioAIOCB {
    BlockAIOCB common;
    BlkRwCo rw;
    /* Where the callback runs: the context of the submitter. */
    AioContext *cb_ctx;
} BlkAioAIOCB;

static void blk_aio_cancel_async_cb(BlockAIOCB *acb)
{
    BlkAioAIOCB *a = container_of(acb, BlkAioAIOCB, common);
    BlockDriverState *bs = blk_bs(a->rw.blk);

    /* Only a request still queued behind a drain can be stopped. */
    a->rw.cancelled = true;
    if (bs && bs->quiesce_counter) {
        /*
         * Wake every waiter to re-check; those not cancelled queue up
         * again, in the same order.  They are woken from a copy of the
         * queue, since one woken directly re-queues at once and a loop
         * over the live queue would never end.
         */
        CoQueue waiters;

        qemu_co_queue_init(&waiters);
        QSIMPLEQ_CONCAT(&waiters.entries, &bs->drain_queue.entries);
        qemu_co_queue_restart_all(&waiters);
    }
}

static AioContext *blk_aio_get_aio_context(BlockAIOCB *acb)
{
    return container_of(acb, BlkAioAIOCB, common)->cb_ctx;
}

static const AIOCBInfo blk_aio_aiocb_info = {
    .cancel_async = blk_aio_cancel_async_cb,
    .get_aio_context = blk_aio_get_aio_context,
    .aiocb_size = sizeof(BlkAioAIOCB),
};

static void blk_aio_complete_bh(void *opaque)
{
    BlkAioAIOCB *acb = opaque;
    BlockBackend *blk = acb->rw.blk;

    acb->common.cb(acb->common.opaque, acb->rw.ret);
    blk_dec_in_flight(blk);
    qemu_aio_unref(acb);
}

static void coroutine_fn blk_aio_entry(void *opaque)
{
    BlkAioAIOCB *acb = opaque;

    acb->rw.ret = blk_co_do_request(&acb->rw);
    /*
     * Always through a BH: the callback may submit the next request, and
     * doing so from this stack (or the submitter's, when the request
     * completed at once) would nest without bound.
     */
    aio_bh_schedule_oneshot(acb->cb_ctx, blk_aio_complete_bh, acb);
}

static BlockAIOCB *blk_aio_submit(const BlkRwCo *rw,
                                  BlockCompletionFunc *cb, void *opaque)
{
    BlockBackend *blk = rw->blk;
    BlkAioAIOCB *acb = qemu_aio_get(&blk_aio_aiocb_info, blk, cb, opaque);
    Coroutine *co;

    acb->rw = *rw;
    acb->cb_ctx = qemu_get_current_aio_context();
    /* Counted until the callback has run, so blk_drain() waits for it. */
    blk_inc_in_flight(blk);
    co = qemu_coroutine_create(blk_aio_entry, acb);
    aio_co_enter(blk->ctx, co);
    return &acb->common;
}

static BlockAIOCB *blk_aio_request(BlockBackend *blk, BlkOp op,
                                   int64_t offset, int64_t bytes,
                                   QEMUIOVector *qiov,
                                   BdrvRequestFlags flags,
                                   BlockCompletionFunc *cb, void *opaque)
{
    BlkRwCo rw = {
        .blk = blk, .op = op, .offset = offset, .bytes = bytes,
        .qiov = qiov, .flags = flags,
    };

    return blk_aio_submit(&rw, cb, opaque);
}

BlockAIOCB *blk_aio_preadv(BlockBackend *blk, int64_t offset,
                           QEMUIOVector *qiov, BdrvRequestFlags flags,
                           BlockCompletionFunc *cb, void *opaque)
{
    return blk_aio_request(blk, BLK_OP_READ, offset, qiov->size, qiov, flags,
                           cb, opaque);
}

BlockAIOCB *blk_aio_pwritev(BlockBackend *blk, int64_t offset,
                            QEMUIOVector *qiov, BdrvRequestFlags flags,
                            BlockCompletionFunc *cb, void *opaque)
{
    return blk_aio_request(blk, BLK_OP_WRITE, offset, qiov->size, qiov,
                           flags, cb, opaque);
}

BlockAIOCB *blk_aio_pwrite_zeroes(BlockBackend *blk, int64_t offset,
                                  int64_t bytes, BdrvRequestFlags flags,
                                  BlockCompletionFunc *cb, void *opaque)
{
    return blk_aio_request(blk, BLK_OP_WRITE, offset, bytes, NULL,
                           flags | BDRV_REQ_ZERO_WRITE, cb, opaque);
}

BlockAIOCB *blk_aio_pdiscard(BlockBackend *blk, int64_t offset,
                             int64_t bytes, BlockCompletionFunc *cb,
                             void *opaque)
{
    return blk_aio_request(blk, BLK_OP_DISCARD, offset, bytes, NULL, 0,
                           cb, opaque);
}

BlockAIOCB *blk_aio_flush(BlockBackend *blk, BlockCompletionFunc *cb,
                          void *opaque)
{
    return blk_aio_request(blk, BLK_OP_FLUSH, 0, 0, NULL, 0, cb, opaque);
}

BlockAIOCB *blk_aio_zone_report(BlockBackend *blk, int64_t offset,
                                unsigned int *nr_zones,
                                BlockZoneDescriptor *zones,
                                BlockCompletionFunc *cb, void *opaque)
{
    BlkRwCo rw = blk_zone_report_rw(blk, offset, nr_zones, zones);

    return blk_aio_submit(&rw, cb, opaque);
}

BlockAIOCB *blk_aio_zone_mgmt(BlockBackend *blk, BlockZoneOp op,
                              int64_t offset, int64_t len,
                              BlockCompletionFunc *cb, void *opaque)
{
    BlkRwCo rw = blk_zone_mgmt_rw(blk, op, offset, len);

    return blk_aio_submit(&rw, cb, opaque);
}

BlockAIOCB *blk_aio_zone_append(BlockBackend *blk, int64_t *offset,
                                QEMUIOVector *qiov, BdrvRequestFlags flags,
                                BlockCompletionFunc *cb, void *opaque)
{
    BlkRwCo rw = blk_zone_append_rw(blk, offset, qiov, flags);

    return blk_aio_submit(&rw, cb, opaque);
}

void blk_aio_cancel_async(BlockAIOCB *acb)
{
    aio_cancel_async(acb);
}

void blk_aio_cancel(BlockAIOCB *acb)
{
    aio_cancel(acb);
}

/* ---- drain ---- */

typedef struct BlkDrainCo {
    BlockBackend *blk;
    Coroutine *co;
} BlkDrainCo;

static void blk_drain_bh(void *opaque)
{
    BlkDrainCo *d = opaque;

    blk_drain(d->blk);
    aio_co_wake(d->co);
}

void blk_drain(BlockBackend *blk)
{
    BlockDriverState *bs = blk_bs(blk);

    if (qemu_in_coroutine()) {
        /* Polling needs the event loop's stack. */
        BlkDrainCo d = { .blk = blk, .co = qemu_coroutine_self() };

        aio_bh_schedule_oneshot(blk->ctx, blk_drain_bh, &d);
        qemu_coroutine_yield();
        return;
    }
    if (bs) {
        bdrv_ref(bs);
        bdrv_drained_begin(bs);
    }
    /* Requests that failed without a medium, callbacks still pending. */
    __atomic_fetch_add(&blk_drain_pollers, 1, __ATOMIC_SEQ_CST);
    AIO_WAIT_WHILE(blk->ctx, blk_in_flight(blk) > 0);
    __atomic_fetch_sub(&blk_drain_pollers, 1, __ATOMIC_SEQ_CST);
    if (bs) {
        bdrv_drained_end(bs);
        bdrv_unref(bs);
    }
}
