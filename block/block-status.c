/*
 * Byte-based block status: which parts of a node hold data, read as
 * zeroes, and where they live in the node below.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block_int.h"

/*
 * Bring a driver's *pnum for the aligned query [aligned_offset, +bytes)
 * into shape.  Drivers must answer in whole request_alignment blocks; the
 * exception is a run that ends at (or past) the end of the node, whose
 * last partial block takes the status of the run.  Returns false if the
 * driver made no progress.
 */
static bool block_status_fix_pnum(BlockDriverState *bs, int64_t aligned_offset,
                                  int64_t aligned_bytes, int64_t head,
                                  int64_t total, int64_t *pnum)
{
    int64_t align = bs->bl.request_alignment;

    if (*pnum <= 0) {
        return false;
    }
    if (*pnum > aligned_bytes) {
        *pnum = aligned_bytes;
    }
    if (*pnum % align && aligned_offset + *pnum < total) {
        /* A run ending mid-block: the block goes with the next run... */
        int64_t down = QEMU_ALIGN_DOWN(*pnum, align);

        /* ...unless the run is shorter than the block we asked about. */
        *pnum = down > head ? down : QEMU_ALIGN_UP(*pnum, align);
    }
    return *pnum > head;
}

int coroutine_fn bdrv_co_block_status(BlockDriverState *bs, bool want_zero,
                                      int64_t offset, int64_t bytes,
                                      int64_t *pnum, int64_t *map,
                                      BlockDriverState **file)
{
    BlockDriverState *local_file = NULL;
    int64_t local_map = 0;
    int64_t total, align, aligned_offset, aligned_bytes, head;
    int ret;

    *pnum = 0;
    if (!bs || !bs->drv) {
        ret = -ENOMEDIUM;
        goto early_out;
    }
    if (offset < 0 || bytes < 0) {
        ret = -EINVAL;
        goto early_out;
    }
    total = bdrv_getlength(bs);
    if (total < 0) {
        ret = total;
        goto early_out;
    }
    if (offset >= total) {
        ret = BDRV_BLOCK_EOF;
        goto early_out;
    }
    if (bytes == 0) {
        ret = 0;
        goto early_out;
    }
    bytes = MIN(bytes, total - offset);

    if (!bs->drv->bdrv_co_block_status) {
        /* Everything is data; a protocol node maps onto itself. */
        *pnum = bytes;
        ret = BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED;
        if (!bs->drv->is_format) {
            ret |= BDRV_BLOCK_OFFSET_VALID;
            local_map = offset;
            local_file = bs;
        }
        if (offset + bytes == total) {
            ret |= BDRV_BLOCK_EOF;
        }
        goto early_out;
    }

    bdrv_inc_in_flight(bs);
    /* Ask in whole blocks: a partial block at EOF counts as a whole one. */
    align = bs->bl.request_alignment;
    aligned_offset = QEMU_ALIGN_DOWN(offset, align);
    aligned_bytes = QEMU_ALIGN_UP(offset + bytes, align) - aligned_offset;
    head = offset - aligned_offset;

    ret = bs->drv->bdrv_co_block_status(bs, want_zero, aligned_offset,
                                        aligned_bytes, pnum, &local_map,
                                        &local_file);
    if (ret < 0) {
        *pnum = 0;
        goto out;
    }
    if (!block_status_fix_pnum(bs, aligned_offset, aligned_bytes, head,
                               total, pnum)) {
        /* A driver that makes no progress would loop its callers forever. */
        *pnum = 0;
        ret = -EIO;
        goto out;
    }
    *pnum -= head;
    *pnum = MIN(*pnum, bytes);
    if (ret & BDRV_BLOCK_OFFSET_VALID) {
        local_map += head;
    }

    if (ret & BDRV_BLOCK_RAW) {
        /* The driver passes the question on to *file at *map. */
        if (!(ret & BDRV_BLOCK_OFFSET_VALID) || !local_file) {
            *pnum = 0;
            ret = -EIO;
            goto out;
        }
        ret = bdrv_co_block_status(local_file, want_zero, local_map, *pnum,
                                   pnum, &local_map, &local_file);
        goto out;
    }

    if (ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO)) {
        ret |= BDRV_BLOCK_ALLOCATED;
    }

out:
    bdrv_dec_in_flight(bs);
    if (ret >= 0 && offset + *pnum == total) {
        ret |= BDRV_BLOCK_EOF;
    }
early_out:
    if (file) {
        *file = local_file;
    }
    if (map) {
        *map = local_map;
    }
    return ret;
}

/*
 * There are no backing chains: above base (exclusive) there is bs alone,
 * or nothing when base is bs itself.
 */
static int coroutine_fn bdrv_co_block_status_above(BlockDriverState *bs,
                                                   BlockDriverState *base,
                                                   bool want_zero,
                                                   int64_t offset,
                                                   int64_t bytes,
                                                   int64_t *pnum,
                                                   int64_t *map,
                                                   BlockDriverState **file)
{
    if (bs == base) {
        *pnum = bytes;
        if (map) {
            *map = 0;
        }
        if (file) {
            *file = NULL;
        }
        return 0;
    }
    return bdrv_co_block_status(bs, want_zero, offset, bytes, pnum, map,
                                file);
}

typedef struct BlockStatusCo {
    BlockDriverState *bs;
    BlockDriverState *base;
    bool want_zero;
    int64_t offset;
    int64_t bytes;
    int64_t *pnum;
    int64_t *map;
    BlockDriverState **file;
    int ret;
    bool done;
} BlockStatusCo;

static void coroutine_fn block_status_entry(void *opaque)
{
    BlockStatusCo *d = opaque;

    d->ret = bdrv_co_block_status_above(d->bs, d->base, d->want_zero,
                                        d->offset, d->bytes, d->pnum, d->map,
                                        d->file);
    __atomic_store_n(&d->done, true, __ATOMIC_RELEASE);
}

static int bdrv_common_block_status_above(BlockDriverState *bs,
                                          BlockDriverState *base,
                                          bool want_zero, int64_t offset,
                                          int64_t bytes, int64_t *pnum,
                                          int64_t *map,
                                          BlockDriverState **file)
{
    int64_t dummy;
    BlockStatusCo d = {
        .bs = bs, .base = base, .want_zero = want_zero, .offset = offset,
        .bytes = bytes, .pnum = pnum ? pnum : &dummy, .map = map,
        .file = file,
    };

    if (qemu_in_coroutine()) {
        block_status_entry(&d);
    } else {
        bdrv_poll_co(bdrv_get_aio_context(bs), block_status_entry, &d,
                     &d.done);
    }
    return d.ret;
}

int bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                      int64_t *pnum, int64_t *map, BlockDriverState **file)
{
    return bdrv_common_block_status_above(bs, NULL, true, offset, bytes,
                                          pnum, map, file);
}

int bdrv_block_status_above(BlockDriverState *bs, BlockDriverState *base,
                            int64_t offset, int64_t bytes, int64_t *pnum,
                            int64_t *map, BlockDriverState **file)
{
    return bdrv_common_block_status_above(bs, base, true, offset, bytes,
                                          pnum, map, file);
}

/* As QEMU: allocation only, so the cheap want_zero=false query. */
int bdrv_is_allocated(BlockDriverState *bs, int64_t offset, int64_t bytes,
                      int64_t *pnum)
{
    int ret = bdrv_common_block_status_above(bs, NULL, false, offset, bytes,
                                             pnum, NULL, NULL);

    if (ret < 0) {
        return ret;
    }
    return !!(ret & BDRV_BLOCK_ALLOCATED);
}
