/*
 * The request path of a node: argument checks, alignment (bounce buffers
 * and read-modify-write of partial blocks), tracked requests that
 * serialise overlapping read-modify-write cycles, splitting at
 * max_transfer, the write-zeroes fallback, discard, flush, truncate,
 * the zone operations with the checks the zoned model puts on them,
 * in-flight accounting and drain.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "block/block_int.h"

/*
 * Largest byte offset a request may reach: far enough below INT64_MAX
 * that aligning a range up to any request_alignment (at most 1 GiB)
 * cannot overflow.
 */
#define BDRV_MAX_LENGTH QEMU_ALIGN_DOWN(INT64_MAX, (int64_t)1 << 30)

/* Largest zeroed buffer the write-zeroes fallback allocates. */
#define MAX_ZERO_BOUNCE (16 * 1024 * 1024)

/* ---- in-flight accounting and drain ---- */

/* Threads polling in a drain; a count of zero saves the kick. */
static unsigned int drain_pollers;

void bdrv_inc_in_flight(BlockDriverState *bs)
{
    __atomic_fetch_add(&bs->in_flight, 1, __ATOMIC_SEQ_CST);
}

void bdrv_dec_in_flight(BlockDriverState *bs)
{
    unsigned int old = __atomic_fetch_sub(&bs->in_flight, 1,
                                          __ATOMIC_SEQ_CST);

    g_assert(old > 0);
    /*
     * A drain polling in this thread re-checks after every callback
     * anyway; one polling in another thread needs a kick.
     */
    if (old == 1 && __atomic_load_n(&drain_pollers, __ATOMIC_SEQ_CST)) {
        aio_notify(bs->aio_context);
    }
}

/* In flight on bs or on a node above it (whose requests may reach bs). */
static bool bdrv_busy_up(BlockDriverState *bs)
{
    BdrvChild *c;

    if (__atomic_load_n(&bs->in_flight, __ATOMIC_SEQ_CST)) {
        return true;
    }
    QLIST_FOREACH(c, &bs->parents, next_parent) {
        if (c->parent && bdrv_busy_up(c->parent)) {
            return true;
        }
    }
    return false;
}

/*
 * Quiesce bs and every node above it: BlockBackends on any of them queue
 * new requests.  Nodes below are not quiesced, because requests of the
 * drained nodes still in flight must be able to reach them.
 */
static void bdrv_quiesce_up(BlockDriverState *bs, int delta)
{
    BdrvChild *c;

    bs->quiesce_counter += delta;
    g_assert(bs->quiesce_counter >= 0);
    if (delta < 0 && bs->quiesce_counter == 0) {
        qemu_co_queue_restart_all(&bs->drain_queue);
    }
    QLIST_FOREACH(c, &bs->parents, next_parent) {
        if (c->parent) {
            bdrv_quiesce_up(c->parent, delta);
        }
    }
}

typedef struct DrainCo {
    BlockDriverState *bs;
    Coroutine *co;
} DrainCo;

static void bdrv_drained_begin_bh(void *opaque)
{
    DrainCo *d = opaque;

    bdrv_drained_begin(d->bs);
    aio_co_wake(d->co);
}

void bdrv_drained_begin(BlockDriverState *bs)
{
    if (qemu_in_coroutine()) {
        /*
         * Polling needs the event loop's own stack: do it from a BH and
         * sleep meanwhile.
         */
        DrainCo d = { .bs = bs, .co = qemu_coroutine_self() };

        aio_bh_schedule_oneshot(bs->aio_context, bdrv_drained_begin_bh, &d);
        qemu_coroutine_yield();
        return;
    }
    bdrv_quiesce_up(bs, 1);
    __atomic_fetch_add(&drain_pollers, 1, __ATOMIC_SEQ_CST);
    AIO_WAIT_WHILE(bs->aio_context, bdrv_busy_up(bs));
    __atomic_fetch_sub(&drain_pollers, 1, __ATOMIC_SEQ_CST);
}

void bdrv_drained_end(BlockDriverState *bs)
{
    bdrv_quiesce_up(bs, -1);
}

void bdrv_drain(BlockDriverState *bs)
{
    bdrv_drained_begin(bs);
    bdrv_drained_end(bs);
}

void bdrv_poll_co(AioContext *ctx, CoroutineEntry *entry, void *opaque,
                  bool *done)
{
    Coroutine *co = qemu_coroutine_create(entry, opaque);

    g_assert(!qemu_in_coroutine());
    aio_co_enter(ctx, co);
    AIO_WAIT_WHILE(ctx, !__atomic_load_n(done, __ATOMIC_ACQUIRE));
}

/* ---- argument checks ---- */

static int bdrv_check_request(int64_t offset, int64_t bytes)
{
    if (offset < 0 || bytes < 0 || bytes > BDRV_REQUEST_MAX_BYTES ||
        offset > BDRV_MAX_LENGTH - bytes) {
        return -EIO;
    }
    return 0;
}

static int bdrv_check_qiov(QEMUIOVector *qiov, size_t qiov_offset,
                           int64_t bytes)
{
    if (!qiov || qiov_offset > qiov->size ||
        (uint64_t)bytes > qiov->size - qiov_offset) {
        return -EINVAL;
    }
    return 0;
}

/* A node with a medium, and a range a request may name on it. */
static int bdrv_check_node_request(BlockDriverState *bs, int64_t offset,
                                   int64_t bytes)
{
    if (!bs || !bs->drv) {
        return -ENOMEDIUM;
    }
    return bdrv_check_request(offset, bytes);
}

/* ---- tracked requests ---- */

static void tracked_request_begin(BdrvTrackedRequest *req,
                                  BlockDriverState *bs, int64_t offset,
                                  int64_t bytes, bool is_write,
                                  bool serialising)
{
    int64_t align = bs->bl.request_alignment;

    *req = (BdrvTrackedRequest) {
        .bs = bs,
        .offset = offset,
        .bytes = bytes,
        .is_write = is_write,
        .serialising = serialising,
        .overlap_offset = offset,
        .overlap_bytes = bytes,
        .co = qemu_coroutine_self(),
    };
    if (serialising) {
        /* A read-modify-write touches whole blocks. */
        req->overlap_offset = QEMU_ALIGN_DOWN(offset, align);
        req->overlap_bytes = QEMU_ALIGN_UP(offset + bytes, align) -
                             req->overlap_offset;
        bs->serialising_in_flight++;
    }
    qemu_co_queue_init(&req->wait_queue);
    /* Newest first: the requests begun before req follow it. */
    QLIST_INSERT_HEAD(&bs->tracked_requests, req, list);
}

static void tracked_request_end(BdrvTrackedRequest *req)
{
    if (req->serialising) {
        req->bs->serialising_in_flight--;
    }
    QLIST_REMOVE(req, list);
    qemu_co_queue_restart_all(&req->wait_queue);
}

static bool tracked_request_overlaps(BdrvTrackedRequest *a,
                                     BdrvTrackedRequest *b)
{
    return a->overlap_offset < b->overlap_offset + b->overlap_bytes &&
           b->overlap_offset < a->overlap_offset + a->overlap_bytes;
}

/*
 * Wait until no request begun before self overlaps it where one of the
 * two is serialising.  Waiting only for older requests orders every
 * conflicting pair by arrival, so no cycle (deadlock) can form, and a
 * serialising request runs alone on its blocks.
 */
static void coroutine_fn tracked_request_wait(BdrvTrackedRequest *self)
{
    BdrvTrackedRequest *req;

    if (!self->bs->serialising_in_flight) {
        return;
    }
retry:
    for (req = QLIST_NEXT(self, list); req; req = QLIST_NEXT(req, list)) {
        if ((self->serialising || req->serialising) &&
            tracked_request_overlaps(self, req)) {
            self->waiting_for = req;
            qemu_co_queue_wait(&req->wait_queue, NULL);
            self->waiting_for = NULL;
            /* req is gone; older ones may still conflict. */
            goto retry;
        }
    }
}

/*
 * A request on bs from here to bdrv_request_end(): counted in flight (so
 * drain waits for it), tracked, and started once the older requests it
 * conflicts with are done.
 */
static void coroutine_fn bdrv_request_begin(BdrvTrackedRequest *req,
                                            BlockDriverState *bs,
                                            int64_t offset, int64_t bytes,
                                            bool is_write, bool serialising)
{
    bdrv_inc_in_flight(bs);
    tracked_request_begin(req, bs, offset, bytes, is_write, serialising);
    tracked_request_wait(req);
}

static void bdrv_request_end(BdrvTrackedRequest *req)
{
    BlockDriverState *bs = req->bs;

    tracked_request_end(req);
    bdrv_dec_in_flight(bs);
}

/* ---- driver calls (aligned, within max_transfer) ---- */

static uint64_t bdrv_max_transfer(BlockDriverState *bs)
{
    uint64_t align = MAX(bs->bl.request_alignment, bdrv_min_mem_align(bs));
    uint64_t max = bs->bl.max_transfer ? bs->bl.max_transfer : INT_MAX;

    return MAX(QEMU_ALIGN_DOWN(MIN(max, INT_MAX), align), align);
}

/* A driver's bdrv_co_preadv or bdrv_co_pwritev. */
typedef int coroutine_fn BdrvDriverRwFunc(BlockDriverState *bs,
                                          int64_t offset, int64_t bytes,
                                          QEMUIOVector *qiov,
                                          BdrvRequestFlags flags);

/* Call fn on bytes of qiov from qiov_offset (a slice when not all of it). */
static int coroutine_fn bdrv_driver_rw(BlockDriverState *bs,
                                       BdrvDriverRwFunc *fn, int64_t offset,
                                       int64_t bytes, QEMUIOVector *qiov,
                                       size_t qiov_offset,
                                       BdrvRequestFlags flags)
{
    QEMUIOVector local;
    int ret;

    if (!fn) {
        return -ENOTSUP;
    }
    if (qiov_offset == 0 && (uint64_t)bytes == qiov->size) {
        return fn(bs, offset, bytes, qiov, flags);
    }
    qemu_iovec_init_slice(&local, qiov, qiov_offset, bytes);
    ret = fn(bs, offset, bytes, &local, flags);
    qemu_iovec_destroy(&local);
    return ret;
}

static int coroutine_fn bdrv_driver_preadv(BlockDriverState *bs,
                                           int64_t offset, int64_t bytes,
                                           QEMUIOVector *qiov,
                                           size_t qiov_offset,
                                           BdrvRequestFlags flags)
{
    return bdrv_driver_rw(bs, bs->drv->bdrv_co_preadv, offset, bytes, qiov,
                          qiov_offset, flags);
}

static int coroutine_fn bdrv_driver_pwritev(BlockDriverState *bs,
                                            int64_t offset, int64_t bytes,
                                            QEMUIOVector *qiov,
                                            size_t qiov_offset,
                                            BdrvRequestFlags flags)
{
    return bdrv_driver_rw(bs, bs->drv->bdrv_co_pwritev, offset, bytes, qiov,
                          qiov_offset, flags & bs->supported_write_flags);
}

/*
 * Read an aligned range in max_transfer chunks.  Whatever lies beyond the
 * end of the node reads as zeroes without asking the driver.
 */
static int coroutine_fn bdrv_aligned_preadv(BlockDriverState *bs,
                                            int64_t offset, int64_t bytes,
                                            QEMUIOVector *qiov,
                                            size_t qiov_offset,
                                            BdrvRequestFlags flags)
{
    uint64_t max_transfer = bdrv_max_transfer(bs);
    int64_t total = bdrv_getlength(bs);
    int64_t max_bytes, done = 0;
    int ret;

    if (total < 0) {
        return total;
    }
    max_bytes = total > offset ?
        QEMU_ALIGN_UP(total - offset, (int64_t)bs->bl.request_alignment) : 0;
    flags &= ~BDRV_REQ_SERIALISING;

    while (done < bytes) {
        int64_t num = bytes - done;

        if (done < max_bytes) {
            num = MIN(num, max_bytes - done);
            num = MIN((uint64_t)num, max_transfer);
            ret = bdrv_driver_preadv(bs, offset + done, num, qiov,
                                     qiov_offset + done, flags);
            if (ret < 0) {
                return ret;
            }
        } else {
            qemu_iovec_memset(qiov, qiov_offset + done, 0, num);
        }
        done += num;
    }
    return 0;
}

/*
 * Length of the next piece when a range of bytes is cut at align
 * boundaries: up to the first one while head (the start's offset in its
 * block) is not 0, else whole blocks, leaving the partial last block (of
 * tail bytes) for the end; at most max.
 */
static int64_t bdrv_next_piece(int64_t bytes, int64_t head, int64_t tail,
                               int64_t align, int64_t max)
{
    int64_t num = bytes;

    if (head) {
        num = MIN(bytes, align - head);
    } else if (tail && num > align) {
        num -= tail;
    }
    return MIN(num, max);
}

/*
 * Write zeroes over an aligned range: the driver's fast path where it has
 * one, else (unless NO_FALLBACK) a zeroed buffer, in pieces aligned to
 * pwrite_zeroes_alignment where possible.
 */
static int coroutine_fn bdrv_do_pwrite_zeroes(BlockDriverState *bs,
                                              int64_t offset, int64_t bytes,
                                              BdrvRequestFlags flags)
{
    BlockDriver *drv = bs->drv;
    uint64_t align = MAX(bs->bl.pwrite_zeroes_alignment,
                         bs->bl.request_alignment);
    uint64_t max_zeroes = bs->bl.max_pwrite_zeroes ?
        MIN(bs->bl.max_pwrite_zeroes, INT_MAX) : INT_MAX;
    uint64_t max_buf = MIN(bdrv_max_transfer(bs),
                           MAX(QEMU_ALIGN_DOWN(MAX_ZERO_BOUNCE,
                                               bs->bl.request_alignment),
                               bs->bl.request_alignment));
    int64_t head = offset % align;
    int64_t tail = (offset + bytes) % align;
    bool need_flush = false;
    uint8_t *buf = NULL;
    size_t buf_len = 0;
    int ret = 0;

    max_zeroes = MAX(QEMU_ALIGN_DOWN(max_zeroes, align), align);
    if ((flags & BDRV_REQ_NO_FALLBACK) &&
        !(bs->supported_zero_flags & BDRV_REQ_NO_FALLBACK)) {
        return -ENOTSUP;
    }

    while (bytes > 0 && ret == 0) {
        int64_t num = bdrv_next_piece(bytes, head, tail, align, max_zeroes);

        ret = -ENOTSUP;
        if (drv->bdrv_co_pwrite_zeroes) {
            ret = drv->bdrv_co_pwrite_zeroes(bs, offset, num,
                                             flags & bs->supported_zero_flags);
            if (ret != -ENOTSUP && (flags & BDRV_REQ_FUA) &&
                !(bs->supported_zero_flags & BDRV_REQ_FUA)) {
                need_flush = true;
            }
        }
        if (ret == -ENOTSUP && !(flags & BDRV_REQ_NO_FALLBACK)) {
            BdrvRequestFlags wflags = flags & BDRV_REQ_FUA;
            QEMUIOVector qiov;

            if ((wflags & BDRV_REQ_FUA) &&
                !(bs->supported_write_flags & BDRV_REQ_FUA)) {
                need_flush = true;
            }
            num = MIN((uint64_t)num, max_buf);
            if (!buf) {
                buf_len = num;
                buf = qemu_try_memalign(bdrv_opt_mem_align(bs), buf_len);
                if (!buf) {
                    ret = -ENOMEM;
                    break;
                }
                memset(buf, 0, buf_len);
            }
            qemu_iovec_init_buf(&qiov, buf, num);
            ret = bdrv_driver_pwritev(bs, offset, num, &qiov, 0, wflags);
        }
        if (head) {
            head = (head + num) % align;
        }
        offset += num;
        bytes -= num;
    }
    qemu_vfree(buf);
    if (ret == 0 && need_flush) {
        ret = bdrv_co_flush(bs);
    }
    return ret;
}

/* Write an aligned range in max_transfer chunks. */
static int coroutine_fn bdrv_aligned_pwritev(BlockDriverState *bs,
                                             int64_t offset, int64_t bytes,
                                             QEMUIOVector *qiov,
                                             size_t qiov_offset,
                                             BdrvRequestFlags flags)
{
    uint64_t max_transfer = bdrv_max_transfer(bs);
    int64_t done = 0;
    int ret = 0;

    flags &= ~BDRV_REQ_SERIALISING;
    if (flags & BDRV_REQ_ZERO_WRITE) {
        ret = bdrv_do_pwrite_zeroes(bs, offset, bytes, flags);
    } else {
        while (done < bytes) {
            int64_t num = MIN((uint64_t)(bytes - done), max_transfer);

            ret = bdrv_driver_pwritev(bs, offset + done, num, qiov,
                                      qiov_offset + done, flags);
            if (ret < 0) {
                break;
            }
            done += num;
        }
        if (ret == 0 && (flags & BDRV_REQ_FUA) &&
            !(bs->supported_write_flags & BDRV_REQ_FUA)) {
            ret = bdrv_co_flush(bs);
        }
    }
    if (ret == 0) {
        bdrv_note_write_end(bs, offset + bytes);
    }
    return ret;
}

/* ---- padding: unaligned offsets and unaligned memory ---- */

typedef struct BdrvPad {
    bool active;            /* the driver gets qiov below, not the caller's */
    bool bounce;            /* buf holds the whole aligned range */
    int64_t offset;         /* aligned range */
    int64_t bytes;
    int64_t head;           /* bytes before the request in its first block */
    int64_t tail;           /* bytes after it in its last block */
    uint8_t *buf;
    QEMUIOVector qiov;
} BdrvPad;

/*
 * Whether bytes [offset, offset+bytes) of qiov can go to the driver as
 * they are: few enough pieces and, for a driver that constrains memory
 * (min_mem_alignment > 1, i.e. O_DIRECT), every piece starting on such a
 * boundary and being whole blocks long, which is what the kernel demands.
 */
static bool qiov_slice_fits(BlockDriverState *bs, QEMUIOVector *qiov,
                            size_t offset, size_t bytes)
{
    size_t mem_align = bdrv_min_mem_align(bs);
    size_t len_align = bs->bl.request_alignment;
    int max_iov = bs->bl.max_iov > 0 ? MIN(bs->bl.max_iov, IOV_MAX) : IOV_MAX;
    int n = 0;

    for (int i = 0; i < qiov->niov && bytes > 0; i++) {
        struct iovec *v = &qiov->iov[i];
        size_t len;

        if (offset >= v->iov_len) {
            offset -= v->iov_len;
            continue;
        }
        len = MIN(v->iov_len - offset, bytes);
        if (++n > max_iov) {
            return false;
        }
        if (mem_align > 1 &&
            (((uintptr_t)v->iov_base + offset) % mem_align ||
             len % len_align)) {
            return false;
        }
        offset = 0;
        bytes -= len;
    }
    return true;
}

/*
 * Prepare what goes to the driver for an unaligned request, or one whose
 * memory the driver cannot take.  When the caller's memory is fine the
 * vector is head block + caller's buffers + tail block; otherwise a
 * bounce buffer covers the whole aligned range.
 */
static int bdrv_pad_init(BlockDriverState *bs, int64_t offset, int64_t bytes,
                         QEMUIOVector *qiov, size_t qiov_offset,
                         BdrvPad *pad)
{
    int64_t align = bs->bl.request_alignment;

    memset(pad, 0, sizeof(*pad));
    pad->head = offset % align;
    pad->tail = (align - (offset + bytes) % align) % align;
    pad->offset = offset - pad->head;
    pad->bytes = pad->head + bytes + pad->tail;

    if (!pad->head && !pad->tail &&
        qiov_slice_fits(bs, qiov, qiov_offset, bytes)) {
        return 0;
    }
    pad->active = true;

    if ((pad->head || pad->tail) && pad->bytes > align) {
        /* Head and tail lie in different blocks: try to compose. */
        size_t len = (pad->head ? align : 0) + (pad->tail ? align : 0);

        pad->buf = qemu_try_memalign(bdrv_opt_mem_align(bs), len);
        if (!pad->buf) {
            return -ENOMEM;
        }
        qemu_iovec_init(&pad->qiov, qiov->niov + 2);
        if (pad->head) {
            qemu_iovec_add(&pad->qiov, pad->buf, pad->head);
        }
        qemu_iovec_concat(&pad->qiov, qiov, qiov_offset, bytes);
        if (pad->tail) {
            qemu_iovec_add(&pad->qiov, pad->buf + len - pad->tail,
                           pad->tail);
        }
        if (qiov_slice_fits(bs, &pad->qiov, 0, pad->bytes)) {
            return 0;
        }
        qemu_iovec_destroy(&pad->qiov);
        qemu_vfree(pad->buf);
    }

    pad->bounce = true;
    pad->buf = qemu_try_memalign(bdrv_opt_mem_align(bs), pad->bytes);
    if (!pad->buf) {
        return -ENOMEM;
    }
    qemu_iovec_init_buf(&pad->qiov, pad->buf, pad->bytes);
    return 0;
}

static void bdrv_pad_destroy(BdrvPad *pad)
{
    if (pad->active) {
        qemu_iovec_destroy(&pad->qiov);
        qemu_vfree(pad->buf);
    }
}

/* The head and tail block buffers inside pad->buf. */
static uint8_t *bdrv_pad_head_buf(BdrvPad *pad)
{
    return pad->buf;
}

static uint8_t *bdrv_pad_tail_buf(BdrvPad *pad, int64_t align)
{
    if (pad->bounce) {
        return pad->buf + pad->bytes - align;
    }
    return pad->buf + (pad->head ? align : 0);
}

/* Read the partial head and tail blocks of a padded write. */
static int coroutine_fn bdrv_pad_read_edges(BlockDriverState *bs,
                                            BdrvPad *pad)
{
    int64_t align = bs->bl.request_alignment;
    QEMUIOVector q;
    int ret;

    if (pad->head) {
        qemu_iovec_init_buf(&q, bdrv_pad_head_buf(pad), align);
        ret = bdrv_aligned_preadv(bs, pad->offset, align, &q, 0, 0);
        if (ret < 0) {
            return ret;
        }
    }
    if (pad->tail && !(pad->head && pad->bytes == align)) {
        qemu_iovec_init_buf(&q, bdrv_pad_tail_buf(pad, align), align);
        ret = bdrv_aligned_preadv(bs, pad->offset + pad->bytes - align,
                                  align, &q, 0, 0);
        if (ret < 0) {
            return ret;
        }
    }
    return 0;
}

/* ---- reads ---- */

int coroutine_fn bdrv_co_preadv_part(BdrvChild *child, int64_t offset,
                                     int64_t bytes, QEMUIOVector *qiov,
                                     size_t qiov_offset,
                                     BdrvRequestFlags flags)
{
    BlockDriverState *bs = child->bs;
    BdrvTrackedRequest req;
    BdrvPad pad;
    int ret;

    ret = bdrv_check_node_request(bs, offset, bytes);
    if (ret < 0) {
        return ret;
    }
    ret = bdrv_check_qiov(qiov, qiov_offset, bytes);
    if (ret < 0 || bytes == 0) {
        return ret;
    }

    bdrv_request_begin(&req, bs, offset, bytes, false,
                       flags & BDRV_REQ_SERIALISING);

    ret = bdrv_pad_init(bs, offset, bytes, qiov, qiov_offset, &pad);
    if (ret == 0 && !pad.active) {
        ret = bdrv_aligned_preadv(bs, offset, bytes, qiov, qiov_offset,
                                  flags);
    } else if (ret == 0) {
        ret = bdrv_aligned_preadv(bs, pad.offset, pad.bytes, &pad.qiov, 0,
                                  flags);
        if (ret == 0 && pad.bounce) {
            qemu_iovec_from_buf(qiov, qiov_offset, pad.buf + pad.head,
                                bytes);
        }
    }
    bdrv_pad_destroy(&pad);

    bdrv_request_end(&req);
    return ret;
}

int coroutine_fn bdrv_co_preadv(BdrvChild *child, int64_t offset,
                                int64_t bytes, QEMUIOVector *qiov,
                                BdrvRequestFlags flags)
{
    return bdrv_co_preadv_part(child, offset, bytes, qiov, 0, flags);
}

/* ---- writes ---- */

/* Zeroes over an unaligned range: partial blocks by read-modify-write. */
static int coroutine_fn bdrv_co_do_zero_pwritev(BlockDriverState *bs,
                                                int64_t offset,
                                                int64_t bytes,
                                                BdrvRequestFlags flags)
{
    int64_t align = bs->bl.request_alignment;
    BdrvRequestFlags wflags = flags & BDRV_REQ_FUA;
    uint8_t *buf = NULL;
    int ret = 0;

    while (bytes > 0 && ret == 0) {
        int64_t num;

        if (offset % align || bytes < align) {
            int64_t start = QEMU_ALIGN_DOWN(offset, align);
            int64_t skip = offset - start;
            QEMUIOVector q;

            num = MIN(bytes, align - skip);
            if (!buf) {
                buf = qemu_try_memalign(bdrv_opt_mem_align(bs), align);
                if (!buf) {
                    return -ENOMEM;
                }
            }
            qemu_iovec_init_buf(&q, buf, align);
            ret = bdrv_aligned_preadv(bs, start, align, &q, 0, 0);
            if (ret == 0) {
                memset(buf + skip, 0, num);
                ret = bdrv_aligned_pwritev(bs, start, align, &q, 0, wflags);
            }
        } else {
            num = QEMU_ALIGN_DOWN(bytes, align);
            ret = bdrv_aligned_pwritev(bs, offset, num, NULL, 0, flags);
        }
        offset += num;
        bytes -= num;
    }
    qemu_vfree(buf);
    return ret;
}

static int coroutine_fn bdrv_co_do_pwritev(BlockDriverState *bs,
                                           int64_t offset, int64_t bytes,
                                           QEMUIOVector *qiov,
                                           size_t qiov_offset,
                                           BdrvRequestFlags flags)
{
    BdrvPad pad;
    int ret;

    ret = bdrv_pad_init(bs, offset, bytes, qiov, qiov_offset, &pad);
    if (ret < 0) {
        return ret;
    }
    if (!pad.active) {
        return bdrv_aligned_pwritev(bs, offset, bytes, qiov, qiov_offset,
                                    flags);
    }
    ret = bdrv_pad_read_edges(bs, &pad);
    if (ret == 0) {
        if (pad.bounce) {
            qemu_iovec_to_buf(qiov, qiov_offset, pad.buf + pad.head, bytes);
        }
        ret = bdrv_aligned_pwritev(bs, pad.offset, pad.bytes, &pad.qiov, 0,
                                   flags);
    }
    bdrv_pad_destroy(&pad);
    return ret;
}

int coroutine_fn bdrv_co_pwritev_part(BdrvChild *child, int64_t offset,
                                      int64_t bytes, QEMUIOVector *qiov,
                                      size_t qiov_offset,
                                      BdrvRequestFlags flags)
{
    BlockDriverState *bs = child->bs;
    BdrvTrackedRequest req;
    int64_t align;
    bool unaligned;
    int ret;

    ret = bdrv_check_node_request(bs, offset, bytes);
    if (ret < 0) {
        return ret;
    }
    if (!(flags & BDRV_REQ_ZERO_WRITE)) {
        ret = bdrv_check_qiov(qiov, qiov_offset, bytes);
        if (ret < 0) {
            return ret;
        }
    }
    if (bs->read_only) {
        return -EPERM;
    }
    if (bytes == 0) {
        return 0;
    }
    align = bs->bl.request_alignment;
    unaligned = offset % align || bytes % align;
    /* Partial blocks need a read-modify-write, which is no fast path. */
    if ((flags & BDRV_REQ_NO_FALLBACK) && unaligned) {
        return -ENOTSUP;
    }
    /*
     * Nor is it allowed on a host-managed device: in a sequential zone it
     * would read beyond the write pointer and write the block again.
     */
    if (unaligned && bs->bl.zoned == BLK_Z_HM) {
        return -EINVAL;
    }

    bdrv_request_begin(&req, bs, offset, bytes, true,
                       unaligned || (flags & BDRV_REQ_SERIALISING));

    if (flags & BDRV_REQ_ZERO_WRITE) {
        ret = bdrv_co_do_zero_pwritev(bs, offset, bytes, flags);
    } else {
        ret = bdrv_co_do_pwritev(bs, offset, bytes, qiov, qiov_offset, flags);
    }

    bdrv_request_end(&req);
    return ret;
}

int coroutine_fn bdrv_co_pwritev(BdrvChild *child, int64_t offset,
                                 int64_t bytes, QEMUIOVector *qiov,
                                 BdrvRequestFlags flags)
{
    return bdrv_co_pwritev_part(child, offset, bytes, qiov, 0, flags);
}

int coroutine_fn bdrv_co_pwrite_zeroes(BdrvChild *child, int64_t offset,
                                       int64_t bytes, BdrvRequestFlags flags)
{
    return bdrv_co_pwritev_part(child, offset, bytes, NULL, 0,
                                flags | BDRV_REQ_ZERO_WRITE);
}

/* ---- discard ---- */

/*
 * Discard is advisory, as in QEMU: the range is cut at pdiscard_alignment
 * boundaries, the partial pieces at either end are offered to the driver
 * only in request_alignment units, and -ENOTSUP (or -EINVAL for a piece
 * not aligned to pdiscard_alignment) counts as success.
 */
int coroutine_fn bdrv_co_pdiscard(BdrvChild *child, int64_t offset,
                                  int64_t bytes)
{
    BlockDriverState *bs = child->bs;
    BdrvTrackedRequest req;
    int64_t ralign, align, max, head, tail;
    int ret;

    ret = bdrv_check_node_request(bs, offset, bytes);
    if (ret < 0) {
        return ret;
    }
    if (bs->read_only) {
        return -EPERM;
    }
    if (bytes == 0 || !bs->drv->bdrv_co_pdiscard) {
        return 0;
    }

    ralign = bs->bl.request_alignment;
    align = MAX(bs->bl.pdiscard_alignment, ralign);
    max = bs->bl.max_pdiscard ? MIN(bs->bl.max_pdiscard, INT64_MAX) :
          BDRV_REQUEST_MAX_BYTES;
    max = MAX(QEMU_ALIGN_DOWN(max, align), align);
    head = offset % align;
    tail = (offset + bytes) % align;

    bdrv_request_begin(&req, bs, offset, bytes, true, false);

    ret = 0;
    while (bytes > 0) {
        int64_t num = bdrv_next_piece(bytes, head, tail, align, max);
        int64_t start, end;

        start = QEMU_ALIGN_UP(offset, ralign);
        end = QEMU_ALIGN_DOWN(offset + num, ralign);
        if (end > start) {
            ret = bs->drv->bdrv_co_pdiscard(bs, start, end - start);
            if (ret == -ENOTSUP ||
                (ret == -EINVAL && (start % align || (end - start) % align))) {
                ret = 0;
            }
            if (ret < 0) {
                break;
            }
        }
        if (head) {
            head = (head + num) % align;
        }
        offset += num;
        bytes -= num;
    }

    bdrv_request_end(&req);
    return ret;
}

/* ---- flush ---- */

int coroutine_fn bdrv_co_flush(BlockDriverState *bs)
{
    BdrvChild *c;
    int ret = 0;

    /* Nothing to make durable on a read-only node (as QEMU). */
    if (!bs || !bs->drv || bs->read_only) {
        return 0;
    }
    bdrv_inc_in_flight(bs);
    if (!(bs->open_flags & BDRV_O_NO_FLUSH) && bs->drv->bdrv_co_flush) {
        ret = bs->drv->bdrv_co_flush(bs);
    }
    /* Then what lies below; each child decides about no-flush itself. */
    QLIST_FOREACH(c, &bs->children, next) {
        int r = bdrv_co_flush(c->bs);

        if (ret == 0) {
            ret = r;
        }
    }
    bdrv_dec_in_flight(bs);
    return ret;
}

/* ---- truncate ---- */

int coroutine_fn bdrv_co_truncate(BdrvChild *child, int64_t offset,
                                  bool exact, PreallocMode prealloc,
                                  BdrvRequestFlags flags, Error **errp)
{
    BlockDriverState *bs = child->bs;
    BdrvTrackedRequest req;
    int64_t old_size;
    int ret;

    if (!bs || !bs->drv) {
        error_setg(errp, "No medium inserted");
        return -ENOMEDIUM;
    }
    if (offset < 0) {
        error_setg(errp, "Image size cannot be negative");
        return -EINVAL;
    }
    if (offset > BDRV_MAX_LENGTH) {
        error_setg(errp, "Required too big image size, it must be not "
                   "greater than %" PRId64, (int64_t)BDRV_MAX_LENGTH);
        return -EFBIG;
    }
    if (bs->read_only) {
        error_setg(errp, "Image is read-only");
        return -EACCES;
    }
    if (!bs->drv->bdrv_co_truncate) {
        error_setg(errp, "Image format driver does not support resize");
        return -ENOTSUP;
    }
    old_size = bdrv_getlength(bs);
    if (old_size < 0) {
        error_setg_errno(errp, -old_size, "Failed to get old image size");
        return old_size;
    }

    /* Nothing may touch the area that appears or disappears meanwhile. */
    bdrv_request_begin(&req, bs, MIN(old_size, offset),
                       MAX(old_size, offset) - MIN(old_size, offset),
                       true, true);

    ret = bs->drv->bdrv_co_truncate(bs, offset, exact, prealloc, flags,
                                    errp);
    bdrv_note_resize(bs);
    if (ret == 0) {
        int64_t len = bdrv_getlength(bs);

        if (len < 0) {
            error_setg_errno(errp, -len,
                             "Could not refresh total sector count");
            ret = len;
        }
    }

    bdrv_request_end(&req);
    return ret;
}

/* ---- zoned devices ---- */

bool bdrv_is_zoned(BlockDriverState *bs)
{
    return bs && bs->drv && bs->bl.zoned != BLK_Z_NONE;
}

/*
 * The zoned-node preconditions shared by the three operations: a medium,
 * a zoned geometry and a driver that implements the operation.
 */
static int bdrv_zone_check_node(BlockDriverState *bs, bool has_callback)
{
    if (!bs || !bs->drv) {
        return -ENOMEDIUM;
    }
    if (!bdrv_is_zoned(bs) || !has_callback) {
        return -ENOTSUP;
    }
    return 0;
}

int coroutine_fn bdrv_co_zone_report(BlockDriverState *bs, int64_t offset,
                                     unsigned int *nr_zones,
                                     BlockZoneDescriptor *zones)
{
    BdrvTrackedRequest req;
    unsigned int want;
    int64_t total;
    int ret;

    ret = bdrv_zone_check_node(bs, bs && bs->drv &&
                               bs->drv->bdrv_co_zone_report);
    if (ret < 0) {
        return ret;
    }
    if (!nr_zones || (*nr_zones && !zones) || offset < 0) {
        return -EINVAL;
    }
    total = bdrv_getlength(bs);
    if (total < 0) {
        return total;
    }
    want = *nr_zones;
    /* As the kernel: asking for nothing, or past the end, finds nothing. */
    if (want == 0 || offset >= total) {
        *nr_zones = 0;
        return 0;
    }

    bdrv_request_begin(&req, bs, offset, total - offset, false, false);
    ret = bs->drv->bdrv_co_zone_report(bs, offset, nr_zones, zones);
    if (ret == 0 && *nr_zones > want) {
        ret = -EIO;     /* a driver wrote past the caller's array */
    }
    if (ret < 0) {
        *nr_zones = 0;
    }
    bdrv_request_end(&req);
    return ret;
}

/*
 * A management range starts on a zone boundary and covers whole zones;
 * only the last zone of the device may be shorter than zone_size.
 * Reset-all names the whole device.
 */
static int bdrv_check_zone_mgmt(BlockDriverState *bs, BlockZoneOp op,
                                int64_t offset, int64_t len)
{
    int64_t zone_size = bs->bl.zone_size;
    int64_t total = bdrv_getlength(bs);

    if (total < 0) {
        return total;
    }
    switch (op) {
    case BLK_ZO_OPEN:
    case BLK_ZO_CLOSE:
    case BLK_ZO_FINISH:
    case BLK_ZO_RESET:
        break;
    case BLK_ZO_RESET_ALL:
        if (offset != 0 || len != total) {
            return -EINVAL;
        }
        break;
    default:
        return -EINVAL;
    }
    if (offset < 0 || len <= 0 || offset >= total || len > total - offset) {
        return -EINVAL;
    }
    if (offset % zone_size || (len % zone_size && offset + len != total)) {
        return -EINVAL;
    }
    return 0;
}

int coroutine_fn bdrv_co_zone_mgmt(BlockDriverState *bs, BlockZoneOp op,
                                   int64_t offset, int64_t len)
{
    BdrvTrackedRequest req;
    int ret;

    ret = bdrv_zone_check_node(bs, bs && bs->drv &&
                               bs->drv->bdrv_co_zone_mgmt);
    if (ret < 0) {
        return ret;
    }
    ret = bdrv_check_zone_mgmt(bs, op, offset, len);
    if (ret < 0) {
        return ret;
    }
    if (bs->read_only) {
        return -EPERM;
    }

    bdrv_request_begin(&req, bs, offset, len, true, false);
    ret = bs->drv->bdrv_co_zone_mgmt(bs, op, offset, len);
    bdrv_request_end(&req);
    return ret;
}

/*
 * What the zoned model asks of an append before any driver sees it: it
 * names a zone start, carries data, fits the zone and the device's
 * append limit, and is whole write-granularity blocks (the driver cannot
 * read-modify-write around a position it does not know yet).
 */
static int bdrv_check_zone_append(BlockDriverState *bs, int64_t offset,
                                  uint64_t bytes, BdrvRequestFlags flags,
                                  int64_t *zone_end_out)
{
    BlockLimits *bl = &bs->bl;
    int64_t total = bdrv_getlength(bs);
    int64_t zone_end;

    if (total < 0) {
        return total;
    }
    if (flags & ~BDRV_REQ_FUA) {
        return -EINVAL;
    }
    if (offset < 0 || offset >= total || offset % bl->zone_size) {
        return -EINVAL;
    }
    zone_end = MIN(offset + (int64_t)bl->zone_size, total);
    if (bytes == 0 || bytes > BDRV_REQUEST_MAX_BYTES ||
        bytes > (uint64_t)(zone_end - offset)) {
        return -EINVAL;
    }
    if (bytes % bl->request_alignment ||
        (bl->write_granularity && bytes % bl->write_granularity)) {
        return -EINVAL;
    }
    if (bl->max_append_bytes && bytes > bl->max_append_bytes) {
        return -EINVAL;
    }
    *zone_end_out = zone_end;
    return 0;
}

int coroutine_fn bdrv_co_zone_append(BlockDriverState *bs, int64_t *offset,
                                     QEMUIOVector *qiov,
                                     BdrvRequestFlags flags)
{
    BdrvTrackedRequest req;
    QEMUIOVector bounce_qiov;
    uint8_t *bounce = NULL;
    int64_t pos, zone_end = 0;
    uint64_t bytes;
    int ret;

    ret = bdrv_zone_check_node(bs, bs && bs->drv &&
                               bs->drv->bdrv_co_zone_append);
    if (ret < 0) {
        return ret;
    }
    if (!offset || !qiov) {
        return -EINVAL;
    }
    pos = *offset;
    bytes = qiov->size;
    ret = bdrv_check_zone_append(bs, pos, bytes, flags, &zone_end);
    if (ret < 0) {
        return ret;
    }
    if (bs->read_only) {
        return -EPERM;
    }

    /* The data lands somewhere in the zone: that is what it touches. */
    bdrv_request_begin(&req, bs, pos, zone_end - pos, true, false);

    /* O_DIRECT memory rules: bounce a vector the driver cannot take. */
    if (!qiov_slice_fits(bs, qiov, 0, bytes)) {
        bounce = qemu_try_memalign(bdrv_opt_mem_align(bs), bytes);
        if (!bounce) {
            ret = -ENOMEM;
            goto out;
        }
        qemu_iovec_to_buf(qiov, 0, bounce, bytes);
        qemu_iovec_init_buf(&bounce_qiov, bounce, bytes);
        qiov = &bounce_qiov;
    }

    ret = bs->drv->bdrv_co_zone_append(bs, &pos, qiov,
                                       flags & bs->supported_write_flags);
    if (ret == 0 && (pos < *offset || pos > zone_end - (int64_t)bytes)) {
        ret = -EIO;     /* the driver placed it outside the zone */
    }
    if (ret == 0 && (flags & BDRV_REQ_FUA) &&
        !(bs->supported_write_flags & BDRV_REQ_FUA)) {
        ret = bdrv_co_flush(bs);
    }
    if (ret == 0) {
        *offset = pos;
    }
out:
    qemu_vfree(bounce);
    bdrv_request_end(&req);
    return ret;
}
