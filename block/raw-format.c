/*
 * The "raw" format: the image is the bytes of its child "file", or the
 * window [offset, offset+size) of them.  Everything is passed through;
 * over a zoned device the window is whole zones and the zone operations
 * are forwarded, moved into the child's address space and back.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/keyval.h"
#include "block/block_int.h"

typedef struct BDRVRawState {
    uint64_t offset;
    uint64_t size;
    bool has_size;
} BDRVRawState;

/*
 * On a zoned child the window must consist of whole zones, so that zone
 * starts and zone lengths mean the same on both sides: it starts on a
 * zone boundary and ends on one or at the end of the device (whose last
 * zone may be smaller).
 */
static int raw_check_zoned_window(BDRVRawState *s, BlockDriverState *file_bs,
                                  int64_t real_size, Error **errp)
{
    uint64_t zone_size = file_bs->bl.zone_size;
    uint64_t end = s->has_size ? s->offset + s->size : real_size;
    const char *dev = file_bs->filename[0] ? file_bs->filename :
                      file_bs->node_name;

    if (s->offset % zone_size) {
        error_setg(errp, "Offset (%" PRIu64 ") must be a multiple of the "
                   "zone size (%" PRIu64 ") of the zoned device '%s'",
                   s->offset, zone_size, dev);
        return -EINVAL;
    }
    if (end % zone_size && end != (uint64_t)real_size) {
        error_setg(errp, "The end of the window, offset (%" PRIu64 ") + "
                   "size (%" PRIu64 ") = %" PRIu64 ", must be a multiple of "
                   "the zone size (%" PRIu64 ") or the end (%" PRId64 ") of "
                   "the zoned device '%s'", s->offset, s->size, end,
                   zone_size, real_size, dev);
        return -EINVAL;
    }
    return 0;
}

static int raw_open(BlockDriverState *bs, QDict *options, int flags,
                    Error **errp)
{
    BDRVRawState *s = bs->opaque;
    BlockDriverState *file_bs;
    int64_t real_size;

    s->has_size = qdict_haskey(options, "size");
    if (!qdict_take_size(options, "offset", 0, &s->offset, errp) ||
        !qdict_take_size(options, "size", 0, &s->size, errp)) {
        return -EINVAL;
    }

    bs->file = bdrv_open_child("file", bs, options, "file", flags, errp);
    if (!bs->file) {
        return -EINVAL;
    }
    file_bs = bs->file->bs;
    bs->supported_write_flags = file_bs->supported_write_flags &
                                BDRV_REQ_FUA;
    bs->supported_zero_flags = file_bs->supported_zero_flags &
        (BDRV_REQ_FUA | BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK);

    real_size = bdrv_getlength(file_bs);
    if (real_size < 0) {
        error_setg_errno(errp, -real_size, "Could not get image size");
        return real_size;
    }
    /* The messages are QEMU's, word for word (double space included). */
    if (s->offset > (uint64_t)real_size) {
        error_setg(errp, "Offset (%" PRIu64 ") cannot be greater than "
                   "size of the containing file (%" PRId64 ")",
                   s->offset, real_size);
        return -EINVAL;
    }
    if (s->has_size && (uint64_t)real_size - s->offset < s->size) {
        error_setg(errp, "The sum of offset (%" PRIu64 ") and size "
                   "(%" PRIu64 ") has to be smaller or equal to the "
                   " actual size of the containing file (%" PRId64 ")",
                   s->offset, s->size, real_size);
        return -EINVAL;
    }
    /* Lengths are rounded up to sectors, which must not leak past size. */
    if (s->has_size && !QEMU_IS_ALIGNED(s->size, BDRV_SECTOR_SIZE)) {
        error_setg(errp, "Specified size is not multiple of %llu",
                   BDRV_SECTOR_SIZE);
        return -EINVAL;
    }
    if (bdrv_is_zoned(file_bs)) {
        int ret = raw_check_zoned_window(s, file_bs, real_size, errp);

        if (ret < 0) {
            return ret;
        }
    }
    /* QEMU's warning, word for word; read-only guesses are harmless. */
    if (bs->probed && !bs->read_only) {
        fprintf(stderr,
                "WARNING: Image format was not specified for '%s' and "
                "probing guessed raw.\n"
                "         Automatically detecting the format is dangerous "
                "for raw images, write operations on block 0 will be "
                "restricted.\n"
                "         Specify the 'raw' format explicitly to remove the "
                "restrictions.\n", file_bs->filename);
    }
    return 0;
}

static int64_t raw_getlength(BlockDriverState *bs);

static void raw_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BDRVRawState *s = bs->opaque;

    /*
     * The limits come from the child.  Alignments only carry over when
     * the window starts on such a boundary of the child; otherwise the
     * child aligns what it receives itself.
     */
    if (s->offset % bs->bl.request_alignment) {
        bs->bl.request_alignment = 1;
    }
    if (bs->bl.pdiscard_alignment && s->offset % bs->bl.pdiscard_alignment) {
        bs->bl.pdiscard_alignment = 0;
    }
    if (bs->bl.pwrite_zeroes_alignment &&
        s->offset % bs->bl.pwrite_zeroes_alignment) {
        bs->bl.pwrite_zeroes_alignment = 0;
    }
    /*
     * A probed image takes whole sectors only, so that a write to block 0
     * always carries the complete sector raw_co_pwritev() must check.
     */
    if (bs->probed) {
        bs->bl.request_alignment = MAX(bs->bl.request_alignment,
                                       BLOCK_PROBE_BUF_SIZE);
    }
    /* The zoned geometry is the child's; only the zone count shrinks. */
    if (bs->bl.zoned != BLK_Z_NONE && bs->bl.zone_size) {
        int64_t len = raw_getlength(bs);

        if (len >= 0) {
            bs->bl.nr_zones = DIV_ROUND_UP(len, bs->bl.zone_size);
        }
    }
}

static int64_t raw_getlength(BlockDriverState *bs)
{
    BDRVRawState *s = bs->opaque;
    int64_t len = bdrv_getlength(bs->file->bs);

    if (len < 0) {
        return len;
    }
    if ((uint64_t)len < s->offset) {
        return 0;
    }
    len -= s->offset;
    if (s->has_size) {
        len = MIN((uint64_t)len, s->size);
    }
    return len;
}

/*
 * Move a request into the child's address space.  With a size, nothing
 * may leave the window: writes fail with -ENOSPC, reads with -EINVAL, as
 * in QEMU.
 */
static int raw_adjust_offset(BlockDriverState *bs, int64_t *offset,
                             int64_t bytes, bool is_write)
{
    BDRVRawState *s = bs->opaque;

    if (s->has_size && ((uint64_t)*offset > s->size ||
                        (uint64_t)bytes > s->size - *offset)) {
        return is_write ? -ENOSPC : -EINVAL;
    }
    if ((uint64_t)*offset > INT64_MAX - s->offset) {
        return -EINVAL;
    }
    *offset += s->offset;
    return 0;
}

static int coroutine_fn raw_co_preadv(BlockDriverState *bs, int64_t offset,
                                      int64_t bytes, QEMUIOVector *qiov,
                                      BdrvRequestFlags flags)
{
    int ret = raw_adjust_offset(bs, &offset, bytes, false);

    if (ret < 0) {
        return ret;
    }
    return bdrv_co_preadv(bs->file, offset, bytes, qiov, flags);
}

/*
 * A guest of a probed raw image must not be able to turn it into another
 * format: the next open would probe that format and, say, follow a
 * backing file or trust metadata the guest wrote.  Refuse a write to
 * block 0 that changes what probing picks.
 */
static int raw_check_block0_write(BlockDriverState *bs, int64_t offset,
                                  int64_t bytes, QEMUIOVector *qiov)
{
    uint8_t buf[BLOCK_PROBE_BUF_SIZE];

    if (!bs->probed || offset >= BLOCK_PROBE_BUF_SIZE || !bytes) {
        return 0;
    }
    /* request_alignment makes the write cover the whole sector. */
    g_assert(offset == 0 && bytes >= BLOCK_PROBE_BUF_SIZE);
    qemu_iovec_to_buf(qiov, 0, buf, sizeof(buf));
    return bdrv_probe_all(buf, sizeof(buf), NULL) == bs->drv ? 0 : -EPERM;
}

static int coroutine_fn raw_co_pwritev(BlockDriverState *bs, int64_t offset,
                                       int64_t bytes, QEMUIOVector *qiov,
                                       BdrvRequestFlags flags)
{
    int ret = raw_check_block0_write(bs, offset, bytes, qiov);

    if (ret == 0) {
        ret = raw_adjust_offset(bs, &offset, bytes, true);
    }
    if (ret < 0) {
        return ret;
    }
    return bdrv_co_pwritev(bs->file, offset, bytes, qiov, flags);
}

static int coroutine_fn raw_co_pwrite_zeroes(BlockDriverState *bs,
                                             int64_t offset, int64_t bytes,
                                             BdrvRequestFlags flags)
{
    int ret = raw_adjust_offset(bs, &offset, bytes, true);

    if (ret < 0) {
        return ret;
    }
    /* The child emulates what it cannot do fast, unless NO_FALLBACK. */
    return bdrv_co_pwrite_zeroes(bs->file, offset, bytes, flags);
}

static int coroutine_fn raw_co_pdiscard(BlockDriverState *bs, int64_t offset,
                                        int64_t bytes)
{
    int ret = raw_adjust_offset(bs, &offset, bytes, true);

    if (ret < 0) {
        return ret;
    }
    return bdrv_co_pdiscard(bs->file, offset, bytes);
}

static int coroutine_fn raw_co_truncate(BlockDriverState *bs, int64_t offset,
                                        bool exact, PreallocMode prealloc,
                                        BdrvRequestFlags flags, Error **errp)
{
    BDRVRawState *s = bs->opaque;

    if (s->has_size) {
        error_setg(errp, "Cannot resize fixed-size raw disks");
        return -ENOTSUP;
    }
    if (INT64_MAX - offset < (int64_t)s->offset) {
        error_setg(errp, "Disk size too large for the chosen offset");
        return -EINVAL;
    }
    return bdrv_co_truncate(bs->file, offset + s->offset, exact, prealloc,
                            flags, errp);
}

/* The core asks the child at *map (BDRV_BLOCK_RAW). */
static int coroutine_fn raw_co_block_status(BlockDriverState *bs,
                                            bool want_zero, int64_t offset,
                                            int64_t bytes, int64_t *pnum,
                                            int64_t *map,
                                            BlockDriverState **file)
{
    BDRVRawState *s = bs->opaque;

    *pnum = bytes;
    *file = bs->file->bs;
    *map = offset + s->offset;
    return BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID;
}

/*
 * Zone operations: the core checked them against this node's length and
 * zone geometry; the window is whole zones (raw_check_zoned_window), so
 * moving by s->offset keeps every zone boundary a zone boundary.
 */
static int coroutine_fn raw_co_zone_report(BlockDriverState *bs,
                                           int64_t offset,
                                           unsigned int *nr_zones,
                                           BlockZoneDescriptor *zones)
{
    BDRVRawState *s = bs->opaque;
    uint64_t zone_size = bs->bl.zone_size;
    int64_t len = raw_getlength(bs);
    uint64_t in_window;
    int ret;

    if (len < 0) {
        return len;
    }
    /* Not the child's zones behind the window's end. */
    in_window = DIV_ROUND_UP(len, zone_size) - offset / zone_size;
    *nr_zones = MIN(*nr_zones, in_window);
    ret = bdrv_co_zone_report(bs->file->bs, offset + s->offset, nr_zones,
                              zones);
    if (ret < 0) {
        return ret;
    }
    for (unsigned int i = 0; i < *nr_zones; i++) {
        zones[i].start -= s->offset;
        /*
         * No write pointer (all ones: read-only, offline zones) stays all
         * ones; a wp below the window keeps its meaningless value.
         */
        if (zones[i].wp != UINT64_MAX && zones[i].wp >= s->offset) {
            zones[i].wp -= s->offset;
        }
    }
    return 0;
}

static int coroutine_fn raw_co_reset_window(BlockDriverState *bs,
                                            int64_t offset, int64_t len)
{
    BDRVRawState *s = bs->opaque;
    int64_t end = offset + len;
    BlockZoneDescriptor zones[64];
    int ret = 0;

    while (offset < end) {
        unsigned int nr = G_N_ELEMENTS(zones);

        ret = bdrv_co_zone_report(bs->file->bs, offset + s->offset, &nr,
                                  zones);
        if (ret < 0) {
            return ret;
        }
        if (nr == 0) {
            break;
        }
        for (unsigned int i = 0; i < nr && offset < end; i++) {
            BlockZoneDescriptor *z = &zones[i];

            offset = z->start + z->length - s->offset;
            if (z->type == BLK_ZT_CONV || z->state == BLK_ZS_RDONLY ||
                z->state == BLK_ZS_OFFLINE || z->state == BLK_ZS_EMPTY) {
                continue;
            }
            ret = bdrv_co_zone_mgmt(bs->file->bs, BLK_ZO_RESET, z->start,
                                    MIN(z->length, end + s->offset -
                                        z->start));
            if (ret < 0) {
                return ret;
            }
        }
    }
    return 0;
}

static int coroutine_fn raw_co_zone_mgmt(BlockDriverState *bs,
                                         BlockZoneOp op, int64_t offset,
                                         int64_t len)
{
    BDRVRawState *s = bs->opaque;

    /*
     * Resetting all of a window is resetting its zones, not the device:
     * like the kernel's reset-all, reset the zones that have a write
     * pointer and leave conventional, read-only and offline zones alone
     * (a plain range reset would fail on those).
     */
    if (op == BLK_ZO_RESET_ALL &&
        (s->offset || len != bdrv_getlength(bs->file->bs))) {
        return raw_co_reset_window(bs, offset, len);
    }
    return bdrv_co_zone_mgmt(bs->file->bs, op, offset + s->offset, len);
}

static int coroutine_fn raw_co_zone_append(BlockDriverState *bs,
                                           int64_t *offset,
                                           QEMUIOVector *qiov,
                                           BdrvRequestFlags flags)
{
    BDRVRawState *s = bs->opaque;
    int64_t pos = *offset + s->offset;
    int ret;

    ret = bdrv_co_zone_append(bs->file->bs, &pos, qiov, flags);
    if (ret == 0) {
        *offset = pos - s->offset;
    }
    return ret;
}

/* Whatever the child knows; a child without an answer means no clusters. */
static int raw_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    int ret = bdrv_get_info(bs->file->bs, bdi);

    if (ret == -ENOTSUP) {
        memset(bdi, 0, sizeof(*bdi));
        ret = 0;
    }
    return ret;
}

/*
 * raw adds nothing to the bytes: creating it is creating the file, which
 * takes every option left (bdrv_create() owns the dict it is given).
 */
static int raw_create(const char *filename, QDict *opts, int64_t size,
                      Error **errp)
{
    QDict *proto_opts = qdict_clone(opts);
    g_autofree const char **keys = NULL;
    size_t n;

    keys = qdict_keys(proto_opts, &n);
    for (size_t i = 0; i < n; i++) {
        qdict_del(opts, keys[i]);
    }
    return bdrv_create("file", filename, proto_opts, size, errp);
}

static const BlockCreateOptionDesc raw_create_opts[] = {
    {
        .name = "size",
        .type = BLOCK_OPT_SIZE,
        .help = "Virtual disk size",
    },
    { NULL }
};

/* Anything can be raw: the format that wins when no other claims the file. */
static int raw_probe(const uint8_t *buf, int buf_size, const char *filename)
{
    return 1;
}

static BlockDriver bdrv_raw = {
    .format_name = "raw",
    .instance_size = sizeof(BDRVRawState),
    .is_format = true,
    .bdrv_open = raw_open,
    .bdrv_probe = raw_probe,
    .bdrv_refresh_limits = raw_refresh_limits,
    .bdrv_co_preadv = raw_co_preadv,
    .bdrv_co_pwritev = raw_co_pwritev,
    .bdrv_co_pwrite_zeroes = raw_co_pwrite_zeroes,
    .bdrv_co_pdiscard = raw_co_pdiscard,
    .bdrv_co_truncate = raw_co_truncate,
    .bdrv_getlength = raw_getlength,
    .bdrv_get_info = raw_get_info,
    .bdrv_co_block_status = raw_co_block_status,
    .bdrv_co_zone_report = raw_co_zone_report,
    .bdrv_co_zone_mgmt = raw_co_zone_mgmt,
    .bdrv_co_zone_append = raw_co_zone_append,
    .bdrv_create = raw_create,
    .create_opts = raw_create_opts,
};

static void bdrv_raw_init(void)
{
    bdrv_register(&bdrv_raw);
}

block_init(bdrv_raw_init);
