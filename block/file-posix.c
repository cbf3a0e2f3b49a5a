/*
 * file-posix: the "file" (regular files) and "host_device" (block and
 * character devices) protocol drivers.
 *
 * Options, probing of limits, block status and the driver tables live
 * here; reads, writes and flushes go to the selected backend (thread pool,
 * Linux AIO or io_uring, see raw-aio.h), the other blocking calls always
 * to the thread pool (block/file-posix-io.c).  On a zoned host device,
 * writes pass through the write-pointer tracker and zone calls go to
 * block/file-posix-zoned.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>
#include "block/block_int.h"
#include "block/thread-pool.h"
#include "qapi/error.h"
#include "qemu/keyval.h"
#include "raw-aio.h"

/* The backend state of one AioContext this node submitted from. */
typedef struct RawCtxBackend {
    AioContext *ctx;
    LinuxAioState *laio;
    LuringState *luring;
} RawCtxBackend;

typedef struct BDRVRawState {
    int fd;
    char *filename;
    bool is_device;             /* block or character device */
    bool is_blkdev;
    bool direct;                /* O_DIRECT */
    bool no_flush;              /* cache.no-flush=on */
    RawAioBackend aio;
    uint64_t aio_max_batch;
    GArray *backends;           /* RawCtxBackend, one per AioContext */

    /* Probed at open. */
    uint32_t align;             /* offset/length alignment, 1 if buffered */
    size_t mem_align;           /* buffer alignment, 1 if buffered */
    uint64_t max_transfer;      /* 0: unlimited */
    uint32_t logical_bs;        /* host devices only */
    uint32_t physical_bs;
    uint32_t discard_granularity;

    /* What the file system or device turned out not to support. */
    bool no_discard;
    bool no_zero_range;
    bool no_punch_hole;
    bool no_blkzeroout;
    bool no_seek_data;
    bool no_async_flush;        /* libaio fdsync refused: use the pool */
    /* A failed fdatasync leaves the page cache in an unknown state. */
    bool page_cache_inconsistent;

    /* A zoned host device: its write-pointer tracker (else NULL). */
    RawZoned *zoned;
} BDRVRawState;

static const char *const raw_aio_names[] = {
    [RAW_AIO_THREADS] = "threads",
    [RAW_AIO_NATIVE] = "native",
    [RAW_AIO_IO_URING] = "io_uring",
    [RAW_AIO_AUTO] = "auto",
};

/* ---- backends ---- */

/* Attach backend aio for ctx into b; false with *errp set on failure. */
static bool raw_backend_attach(RawAioBackend aio, AioContext *ctx,
                               RawCtxBackend *b, Error **errp)
{
    *b = (RawCtxBackend) { .ctx = ctx };
    switch (aio) {
#ifdef CONFIG_LINUX_AIO
    case RAW_AIO_NATIVE:
        b->laio = laio_attach(ctx, errp);
        return b->laio != NULL;
#endif
#ifdef CONFIG_LINUX_IO_URING
    case RAW_AIO_IO_URING:
        b->luring = luring_attach(ctx, errp);
        return b->luring != NULL;
#endif
    case RAW_AIO_THREADS:
        return true;
    default:
        error_setg(errp, "aio=%s is not supported: this build has no %s "
                   "support", raw_aio_names[aio],
                   aio == RAW_AIO_NATIVE ? "Linux AIO (libaio)"
                                         : "io_uring (liburing)");
        return false;
    }
}

static void raw_backend_detach(RawCtxBackend *b)
{
    if (b->laio) {
        laio_detach(b->laio);
    }
    if (b->luring) {
        luring_detach(b->luring);
    }
}

/*
 * The backend state for the AioContext of the calling coroutine: each
 * context has its own kernel context, attached when first needed.
 */
static RawCtxBackend *raw_ctx_backend(BDRVRawState *s)
{
    AioContext *ctx = qemu_get_current_aio_context();
    RawCtxBackend b;

    for (guint i = 0; i < s->backends->len; i++) {
        RawCtxBackend *p = &g_array_index(s->backends, RawCtxBackend, i);
        if (p->ctx == ctx) {
            return p;
        }
    }
    if (!raw_backend_attach(s->aio, ctx, &b, NULL)) {
        return NULL;
    }
    g_array_append_val(s->backends, b);
    return &g_array_index(s->backends, RawCtxBackend, s->backends->len - 1);
}

/* ---- probing ---- */

/* A number from sysfs for the device of st (or its whole disk). */
static int64_t raw_sysfs_read(const struct stat *st, const char *attr)
{
    static const char *const dirs[] = { "", "../" };
    int64_t val = -1;

    for (size_t i = 0; i < ARRAY_SIZE(dirs) && val < 0; i++) {
        g_autofree char *path = g_strdup_printf(
            "/sys/dev/block/%u:%u/%squeue/%s", major(st->st_rdev),
            minor(st->st_rdev), dirs[i], attr);
        g_autofree char *text = NULL;

        if (g_file_get_contents(path, &text, NULL, NULL)) {
            val = g_ascii_strtoll(text, NULL, 10);
        }
    }
    return val;
}

/* Whether an O_DIRECT read of len bytes at offset into buf is allowed. */
static bool raw_dio_read_ok(int fd, void *buf, size_t len, off_t offset)
{
    ssize_t n;

    do {
        n = pread(fd, buf, len, offset);
    } while (n < 0 && errno == EINTR);
    return n >= 0 || errno != EINVAL;
}

/*
 * O_DIRECT alignment of a regular file: statx() knows it on Linux 6.1+
 * for most file systems; otherwise try reads of growing alignment.
 */
static void raw_probe_file_alignment(BDRVRawState *s, const struct stat *st)
{
    static const size_t sizes[] = { 512, 1024, 2048, 4096 };
    const size_t max_align = 4096;
    struct statx stx;
    uint8_t *buf;
    off_t data;

    if (statx(s->fd, "", AT_EMPTY_PATH, STATX_DIOALIGN, &stx) == 0 &&
        (stx.stx_mask & STATX_DIOALIGN) && stx.stx_dio_offset_align) {
        s->align = stx.stx_dio_offset_align;
        s->mem_align = MAX(stx.stx_dio_mem_align, 1);
        return;
    }

    /*
     * Only reads of allocated data reach the device and check alignment;
     * over holes and past the end any read succeeds.  Without data to
     * probe, assume the largest alignment (always correct, maybe slower).
     */
    data = lseek(s->fd, 0, SEEK_DATA);
    if (data < 0 || data + (off_t)max_align > st->st_size) {
        s->align = s->mem_align = max_align;
        return;
    }
    data = QEMU_ALIGN_DOWN(data, max_align);
    buf = qemu_memalign(max_align, 2 * max_align);
    s->align = max_align;
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        if (raw_dio_read_ok(s->fd, buf, sizes[i], data)) {
            s->align = sizes[i];
            break;
        }
    }
    s->mem_align = max_align;
    for (size_t a = 1; a < max_align; a *= 2) {
        if (raw_dio_read_ok(s->fd, buf + a, s->align, data)) {
            s->mem_align = a;
            break;
        }
    }
    qemu_vfree(buf);
}

static void raw_probe_limits(BDRVRawState *s, const struct stat *st)
{
    s->align = 1;
    s->mem_align = 1;

    if (s->is_blkdev) {
        int lbs = 0;
        unsigned int pbs = 0;
        int64_t v;

        if (ioctl(s->fd, BLKSSZGET, &lbs) == 0 && lbs > 0) {
            s->logical_bs = lbs;
        } else {
            s->logical_bs = BDRV_SECTOR_SIZE;
        }
        if (ioctl(s->fd, BLKPBSZGET, &pbs) == 0 && pbs > 0) {
            s->physical_bs = pbs;
        } else {
            s->physical_bs = s->logical_bs;
        }
        if (s->direct) {
            s->align = s->logical_bs;
            v = raw_sysfs_read(st, "dma_alignment");
            s->mem_align = v >= 0 ? v + 1 : s->logical_bs;
        }
        v = raw_sysfs_read(st, "max_sectors_kb");
        if (v > 0 && v * 1024 <= BDRV_REQUEST_MAX_BYTES) {
            s->max_transfer = v * 1024;
        }
        v = raw_sysfs_read(st, "discard_granularity");
        if (v > 0 && v <= UINT32_MAX) {
            s->discard_granularity = v;
        }
    } else if (s->direct && S_ISREG(st->st_mode)) {
        raw_probe_file_alignment(s, st);
    }
}

/* ---- open / close ---- */

static int raw_parse_aio(QDict *options, int flags, RawAioBackend *aio,
                         Error **errp)
{
    g_autofree char *value = NULL;

    if (!qdict_take_str(options, "aio", NULL, &value, errp)) {
        return -EINVAL;
    }
    if (!value) {
        if (flags & BDRV_O_IO_URING) {
            *aio = RAW_AIO_IO_URING;
        } else if (flags & BDRV_O_NATIVE_AIO) {
            *aio = RAW_AIO_NATIVE;
        } else {
            *aio = RAW_AIO_THREADS;
        }
        return 0;
    }
    for (size_t i = 0; i < ARRAY_SIZE(raw_aio_names); i++) {
        if (strcmp(value, raw_aio_names[i]) == 0) {
            *aio = i;
            return 0;
        }
    }
    error_setg(errp, "Invalid value '%s' for parameter '%saio': expected "
               "'threads', 'native', 'io_uring' or 'auto'", value,
               qdict_get_prefix(options));
    return -EINVAL;
}

/*
 * Resolve aio=auto (io_uring, then Linux AIO when O_DIRECT is on, then
 * the thread pool) and attach the backend for ctx.  An explicit backend
 * that cannot be used is an error, never replaced silently.
 */
static int raw_select_backend(BDRVRawState *s, AioContext *ctx, Error **errp)
{
    RawCtxBackend b;

    if (s->aio == RAW_AIO_AUTO) {
        static const RawAioBackend order[] = {
            RAW_AIO_IO_URING, RAW_AIO_NATIVE,
        };
        s->aio = RAW_AIO_THREADS;
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
            if (!raw_aio_backend_built(order[i]) ||
                (order[i] == RAW_AIO_NATIVE && !s->direct)) {
                continue;
            }
            if (raw_backend_attach(order[i], ctx, &b, NULL)) {
                s->aio = order[i];
                g_array_append_val(s->backends, b);
                return 0;
            }
        }
    }

    if (!raw_backend_attach(s->aio, ctx, &b, errp)) {
        return -EINVAL;
    }
    g_array_append_val(s->backends, b);
    return 0;
}

static int coroutine_fn raw_zoned_write(void *opaque, int64_t offset,
                                        QEMUIOVector *qiov);

static int raw_do_open(BlockDriverState *bs, QDict *options, int flags,
                       bool device, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    const char *drv_name = bs->drv->format_name;
    AioContext *ctx = bs->aio_context ? bs->aio_context
                                      : qemu_get_current_aio_context();
    BlockLimits zl = { 0 };
    struct stat st;
    int oflags, ret;

    s->fd = -1;
    s->backends = g_array_new(false, false, sizeof(RawCtxBackend));

    if (!qdict_take_str(options, "filename", NULL, &s->filename, errp)) {
        return -EINVAL;
    }
    if (!s->filename || !*s->filename) {
        error_setg(errp, "The '%s' block driver requires a file name",
                   drv_name);
        return -EINVAL;
    }
    ret = raw_parse_aio(options, flags, &s->aio, errp);
    if (ret < 0) {
        return ret;
    }
    if (!qdict_take_uint(options, "aio-max-batch", 0, &s->aio_max_batch,
                         errp)) {
        return -EINVAL;
    }
    s->direct = flags & BDRV_O_NOCACHE;
    s->no_flush = flags & BDRV_O_NO_FLUSH;
    /* Fail option errors before touching the file. */
    if (s->aio == RAW_AIO_NATIVE && !s->direct) {
        error_setg(errp, "aio=native was specified, but it requires "
                   "cache.direct=on, which was not specified.");
        return -EINVAL;
    }

    oflags = O_CLOEXEC | ((flags & BDRV_O_RDWR) ? O_RDWR : O_RDONLY);
    if (s->direct) {
        oflags |= O_DIRECT;
    }
    do {
        s->fd = open(s->filename, oflags);
    } while (s->fd < 0 && errno == EINTR);
    if (s->fd < 0) {
        ret = -errno;
        if (ret == -EINVAL && s->direct) {
            error_setg(errp, "Could not open '%s': filesystem does not "
                       "support O_DIRECT", s->filename);
        } else {
            error_setg_errno(errp, -ret, "Could not open '%s'", s->filename);
        }
        return ret;
    }
    if (fstat(s->fd, &st) < 0) {
        ret = -errno;
        error_setg_errno(errp, -ret, "Could not stat '%s'", s->filename);
        return ret;
    }
    if (!device && !S_ISREG(st.st_mode)) {
        error_setg(errp, "'%s' driver requires '%s' to be a regular file",
                   drv_name, s->filename);
        return -EINVAL;
    }
    if (device && !S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode)) {
        error_setg(errp, "'%s' driver requires '%s' to be either a "
                   "character or block device", drv_name, s->filename);
        return -EINVAL;
    }
    s->is_device = device;
    s->is_blkdev = S_ISBLK(st.st_mode);

    if (s->is_blkdev) {
        ret = raw_zoned_probe(s->fd, &st, s->filename, &zl, errp);
        if (ret < 0) {
            return ret;
        }
        if (zl.zoned != BLK_Z_NONE && !s->direct) {
            error_setg(errp, "'%s' is a zoned block device (%s): it needs "
                       "cache.direct=on, because buffered writes do not "
                       "move the write pointer", s->filename,
                       zl.zoned == BLK_Z_HM ? "host-managed" : "host-aware");
            return -EINVAL;
        }
    }

    ret = raw_select_backend(s, ctx, errp);
    if (ret < 0) {
        return ret;
    }
    raw_probe_limits(s, &st);

    if (zl.zoned != BLK_Z_NONE) {
        s->zoned = raw_zoned_open(s->fd, s->filename, &zl, s->max_transfer,
                                  IOV_MAX, raw_zoned_write, s, errp);
        if (!s->zoned) {
            return -EIO;
        }
    }

    bs->supported_zero_flags = BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK;
    if (!bs->filename[0]) {
        g_strlcpy(bs->filename, s->filename, sizeof(bs->filename));
    }
    return 0;
}

static void raw_close(BlockDriverState *bs)
{
    BDRVRawState *s = bs->opaque;

    raw_zoned_close(s->zoned);
    s->zoned = NULL;
    if (s->backends) {
        for (guint i = 0; i < s->backends->len; i++) {
            raw_backend_detach(&g_array_index(s->backends, RawCtxBackend, i));
        }
        g_array_free(s->backends, true);
        s->backends = NULL;
    }
    if (s->fd >= 0) {
        close(s->fd);
        s->fd = -1;
    }
    g_free(s->filename);
    s->filename = NULL;
}

/* Open a regular file or (device) a device; a failure undoes it all. */
static int raw_open_common(BlockDriverState *bs, QDict *options, int flags,
                           bool device, Error **errp)
{
    int ret = raw_do_open(bs, options, flags, device, errp);

    if (ret < 0) {
        raw_close(bs);
    }
    return ret;
}

static int raw_open_file(BlockDriverState *bs, QDict *options, int flags,
                         Error **errp)
{
    return raw_open_common(bs, options, flags, false, errp);
}

static int raw_open_device(BlockDriverState *bs, QDict *options, int flags,
                           Error **errp)
{
    return raw_open_common(bs, options, flags, true, errp);
}

static void raw_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BDRVRawState *s = bs->opaque;

    bs->bl.request_alignment = s->align;
    bs->bl.min_mem_alignment = s->mem_align;
    bs->bl.opt_mem_alignment = MAX(s->mem_align, qemu_real_host_page_size());
    bs->bl.max_transfer = s->max_transfer;
    bs->bl.max_iov = IOV_MAX;
    bs->bl.pdiscard_alignment = s->discard_granularity;
    bs->bl.logical_block_size = s->logical_bs;
    bs->bl.physical_block_size = s->physical_bs;
    if (s->zoned) {
        raw_zoned_get_limits(s->zoned, &bs->bl);
    }
}

/* ---- I/O ---- */

static int coroutine_fn raw_co_thread(BDRVRawState *s, RawThreadOp op,
                                      int64_t offset, int64_t bytes,
                                      QEMUIOVector *qiov)
{
    RawThreadRequest r = {
        .fd = s->fd,
        .op = op,
        .offset = offset,
        .bytes = bytes,
        .qiov = qiov,
        .align = s->align,
    };

    return thread_pool_submit_co(raw_thread_work, &r);
}

/* Read, write or flush through the node's backend. */
static int coroutine_fn raw_co_submit(BDRVRawState *s, RawAioOp op,
                                      int64_t offset, QEMUIOVector *qiov)
{
    RawAioRequest req = {
        .fd = s->fd,
        .op = op,
        .offset = offset,
        .qiov = qiov,
        .align = s->align,
        .max_batch = s->aio_max_batch,
    };
    RawCtxBackend *b;

    if (s->aio == RAW_AIO_THREADS) {
        static const RawThreadOp thread_op[] = {
            [RAW_AIO_READ] = RAW_THREAD_READ,
            [RAW_AIO_WRITE] = RAW_THREAD_WRITE,
            [RAW_AIO_FLUSH] = RAW_THREAD_FLUSH,
        };
        return raw_co_thread(s, thread_op[op], offset,
                             qiov ? qiov->size : 0, qiov);
    }
    b = raw_ctx_backend(s);
    if (!b) {
        return -EIO;    /* this context cannot get a kernel context */
    }
    if (b->laio) {
        return laio_co_submit(b->laio, &req);
    }
    return luring_co_submit(b->luring, &req);
}

/* The device write of the zone tracker. */
static int coroutine_fn raw_zoned_write(void *opaque, int64_t offset,
                                        QEMUIOVector *qiov)
{
    return raw_co_submit(opaque, RAW_AIO_WRITE, offset, qiov);
}

/* Writes to a zoned device go through its write-pointer tracker. */
static int coroutine_fn raw_co_rw_one(BDRVRawState *s, RawAioOp op,
                                      int64_t offset, QEMUIOVector *qiov)
{
    if (s->zoned && op == RAW_AIO_WRITE) {
        return raw_zoned_pwritev(s->zoned, offset, qiov);
    }
    return raw_co_submit(s, op, offset, qiov);
}

static int coroutine_fn raw_co_rw(BlockDriverState *bs, int64_t offset,
                                  int64_t bytes, QEMUIOVector *qiov,
                                  RawAioOp op)
{
    BDRVRawState *s = bs->opaque;
    QEMUIOVector slice;
    int ret;

    if (bytes == 0) {
        return 0;
    }
    if (qiov->size == (size_t)bytes) {
        return raw_co_rw_one(s, op, offset, qiov);
    }
    if (qemu_iovec_init_slice(&slice, qiov, 0, bytes) < 0) {
        return -EINVAL;
    }
    ret = raw_co_rw_one(s, op, offset, &slice);
    qemu_iovec_destroy(&slice);
    return ret;
}

static int coroutine_fn raw_co_preadv(BlockDriverState *bs, int64_t offset,
                                      int64_t bytes, QEMUIOVector *qiov,
                                      BdrvRequestFlags flags)
{
    return raw_co_rw(bs, offset, bytes, qiov, RAW_AIO_READ);
}

static int coroutine_fn raw_co_pwritev(BlockDriverState *bs, int64_t offset,
                                       int64_t bytes, QEMUIOVector *qiov,
                                       BdrvRequestFlags flags)
{
    return raw_co_rw(bs, offset, bytes, qiov, RAW_AIO_WRITE);
}

static int coroutine_fn raw_co_flush(BlockDriverState *bs)
{
    BDRVRawState *s = bs->opaque;
    int ret;

    if (s->no_flush) {
        return 0;
    }
    if (s->page_cache_inconsistent) {
        return -EIO;
    }
    if (s->aio == RAW_AIO_NATIVE && s->no_async_flush) {
        ret = raw_co_thread(s, RAW_THREAD_FLUSH, 0, 0, NULL);
    } else {
        ret = raw_co_submit(s, RAW_AIO_FLUSH, 0, NULL);
        if (ret == -EINVAL && s->aio == RAW_AIO_NATIVE) {
            /* This file cannot fdsync through Linux AIO. */
            s->no_async_flush = true;
            ret = raw_co_thread(s, RAW_THREAD_FLUSH, 0, 0, NULL);
        }
    }
    /*
     * After a failed fdatasync the kernel may have dropped the dirty pages
     * and their error: a later success would lie.  Keep failing.
     */
    if (ret < 0 && ret != -EINVAL && ret != -ENOTSUP) {
        s->page_cache_inconsistent = true;
    }
    return ret;
}

static int coroutine_fn raw_co_pdiscard(BlockDriverState *bs, int64_t offset,
                                        int64_t bytes)
{
    BDRVRawState *s = bs->opaque;
    int ret;

    if (s->no_discard || (s->is_device && !s->is_blkdev)) {
        return -ENOTSUP;
    }
    ret = raw_co_thread(s, s->is_blkdev ? RAW_THREAD_BLKDISCARD
                                        : RAW_THREAD_DISCARD,
                        offset, bytes, NULL);
    if (ret == -ENOTSUP) {
        s->no_discard = true;
    }
    return ret;
}

static int coroutine_fn raw_co_pwrite_zeroes(BlockDriverState *bs,
                                             int64_t offset, int64_t bytes,
                                             BdrvRequestFlags flags)
{
    BDRVRawState *s = bs->opaque;
    int ret;

    /*
     * Zeroing ioctls bypass the write-pointer tracker: on a zoned device
     * the core writes zero buffers instead, through raw_co_pwritev().
     */
    if ((s->is_device && !s->is_blkdev) || s->zoned) {
        return -ENOTSUP;
    }
    /* Deallocating: a hole reads as zeroes (on devices: fast zeroing). */
    if ((flags & BDRV_REQ_MAY_UNMAP) && !s->no_punch_hole) {
        ret = raw_co_thread(s, RAW_THREAD_PUNCH_HOLE, offset, bytes, NULL);
        if (ret != -ENOTSUP) {
            return ret;
        }
        s->no_punch_hole = true;
    }
    if (s->is_blkdev) {
        /* BLKZEROOUT may write zeroes slowly: not with NO_FALLBACK. */
        if ((flags & BDRV_REQ_NO_FALLBACK) || s->no_blkzeroout) {
            return -ENOTSUP;
        }
        ret = raw_co_thread(s, RAW_THREAD_BLKZEROOUT, offset, bytes, NULL);
        if (ret == -ENOTSUP) {
            s->no_blkzeroout = true;
        }
        return ret;
    }
    if (s->no_zero_range) {
        return -ENOTSUP;
    }
    ret = raw_co_thread(s, RAW_THREAD_ZERO_RANGE, offset, bytes, NULL);
    if (ret == -ENOTSUP) {
        s->no_zero_range = true;
    }
    return ret;
}

static int64_t raw_getlength(BlockDriverState *bs)
{
    BDRVRawState *s = bs->opaque;
    struct stat st;

    if (s->is_blkdev) {
        uint64_t size;

        if (ioctl(s->fd, BLKGETSIZE64, &size) < 0) {
            return -errno;
        }
        return size;
    }
    if (s->is_device) {
        off_t end = lseek(s->fd, 0, SEEK_END);

        return end < 0 ? -errno : end;
    }
    if (fstat(s->fd, &st) < 0) {
        return -errno;
    }
    return st.st_size;
}

static int64_t raw_get_allocated_file_size(BlockDriverState *bs)
{
    BDRVRawState *s = bs->opaque;
    struct stat st;

    if (fstat(s->fd, &st) < 0) {
        return -errno;
    }
    return (int64_t)st.st_blocks * 512;
}

static int coroutine_fn raw_co_truncate(BlockDriverState *bs, int64_t offset,
                                        bool exact, PreallocMode prealloc,
                                        BdrvRequestFlags flags, Error **errp)
{
    BDRVRawState *s = bs->opaque;
    RawThreadRequest r = {
        .fd = s->fd,
        .op = RAW_THREAD_TRUNCATE,
        .offset = offset,
        .align = s->align,
        .prealloc_full = prealloc == PREALLOC_MODE_FULL,
    };
    int64_t cur;
    int ret;

    if (offset < 0) {
        error_setg(errp, "Invalid size %" PRId64 " for '%s'", offset,
                   s->filename);
        return -EINVAL;
    }
    if (s->is_device) {
        if (prealloc != PREALLOC_MODE_OFF) {
            error_setg(errp, "Preallocation is not supported for the host "
                       "device '%s'", s->filename);
            return -ENOTSUP;
        }
        cur = raw_getlength(bs);
        if (cur < 0) {
            error_setg_errno(errp, -cur, "Could not get the size of '%s'",
                             s->filename);
            return cur;
        }
        if (exact && offset != cur) {
            error_setg(errp, "Cannot resize the host device '%s' from %"
                       PRId64 " to %" PRId64 " bytes: device files have a "
                       "fixed size", s->filename, cur, offset);
            return -ENOTSUP;
        }
        if (offset > cur) {
            error_setg(errp, "Cannot grow the host device '%s' from %" PRId64
                       " to %" PRId64 " bytes", s->filename, cur, offset);
            return -EINVAL;
        }
        return 0;
    }

    ret = thread_pool_submit_co(raw_thread_work, &r);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not resize '%s' to %" PRId64
                         " bytes", s->filename, offset);
    }
    return ret;
}

/* ---- block status ---- */

/*
 * Where the data run or hole containing start ends.  Returns 0 with
 * *is_data and *end set, -ENXIO when start lies in the hole at the end of
 * the file, another negative errno when the file system cannot tell.
 */
static int raw_find_allocation(BDRVRawState *s, int64_t start, bool *is_data,
                               int64_t *end)
{
    off_t data, hole;

    if (s->no_seek_data) {
        return -ENOTSUP;
    }
    data = lseek(s->fd, start, SEEK_DATA);
    if (data < 0) {
        if (errno == ENXIO) {
            return -ENXIO;
        }
        if (errno == EINVAL || errno == EOPNOTSUPP || errno == ENOTSUP) {
            s->no_seek_data = true;
            return -ENOTSUP;
        }
        return -errno;
    }
    if (data > start) {
        *is_data = false;
        *end = data;
        return 0;
    }
    if (data < start) {
        return -EIO;    /* broken file system answer: call it all data */
    }
    hole = lseek(s->fd, start, SEEK_HOLE);
    if (hole <= start) {
        return -EIO;    /* the file changed under us: call it data */
    }
    *is_data = true;
    *end = hole;
    return 0;
}

static int coroutine_fn raw_co_block_status(BlockDriverState *bs,
                                            bool want_zero, int64_t offset,
                                            int64_t bytes, int64_t *pnum,
                                            int64_t *map,
                                            BlockDriverState **file)
{
    BDRVRawState *s = bs->opaque;
    bool is_data = true;
    int64_t end = 0;
    int ret;

    *map = offset;
    *file = bs;
    *pnum = bytes;
    if (!want_zero || s->is_device) {
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID;
    }

    ret = raw_find_allocation(s, offset, &is_data, &end);
    if (ret == -ENXIO) {
        return BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID;
    }
    if (ret < 0) {
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID;
    }
    *pnum = MIN(bytes, end - offset);

    /* Keep runs aligned: partial blocks count as data. */
    if (*pnum < bytes) {
        if (is_data) {
            *pnum = MIN(bytes, QEMU_ALIGN_UP(*pnum, s->align));
        } else {
            *pnum = QEMU_ALIGN_DOWN(*pnum, s->align);
            if (*pnum == 0) {
                *pnum = MIN(bytes, (int64_t)s->align);
                is_data = true;
            }
        }
    }
    return (is_data ? BDRV_BLOCK_DATA : BDRV_BLOCK_ZERO) |
           BDRV_BLOCK_OFFSET_VALID;
}

/* ---- zoned host devices (block/file-posix-zoned.c does the work) ---- */

static int coroutine_fn raw_co_zone_report(BlockDriverState *bs,
                                           int64_t offset,
                                           unsigned int *nr_zones,
                                           BlockZoneDescriptor *zones)
{
    BDRVRawState *s = bs->opaque;

    if (!s->zoned) {
        return -ENOTSUP;
    }
    return raw_zoned_report(s->zoned, offset, nr_zones, zones);
}

static int coroutine_fn raw_co_zone_mgmt(BlockDriverState *bs,
                                         BlockZoneOp op, int64_t offset,
                                         int64_t len)
{
    BDRVRawState *s = bs->opaque;

    if (!s->zoned) {
        return -ENOTSUP;
    }
    return raw_zoned_mgmt(s->zoned, op, offset, len);
}

static int coroutine_fn raw_co_zone_append(BlockDriverState *bs,
                                           int64_t *offset,
                                           QEMUIOVector *qiov,
                                           BdrvRequestFlags flags)
{
    BDRVRawState *s = bs->opaque;

    /* FUA is not in supported_write_flags: the core flushes after. */
    if (!s->zoned) {
        return -ENOTSUP;
    }
    return raw_zoned_append(s->zoned, offset, qiov);
}

/* ---- introspection for tests ---- */

void raw_get_info(BlockDriverState *bs, RawInfo *info)
{
    BDRVRawState *s = bs->opaque;

    *info = (RawInfo) {
        .aio = s->aio,
        .direct = s->direct,
        .align = s->align,
        .mem_align = s->mem_align,
        .async_flush = s->aio != RAW_AIO_THREADS && !s->no_async_flush,
        .discard = !s->no_discard,
        .zero_range = !s->no_zero_range,
        .punch_hole = !s->no_punch_hole,
        .seek_data = !s->no_seek_data,
        .zoned = s->zoned != NULL,
    };
    if (s->zoned) {
        zone_wp_get_stats(raw_zoned_tracker(s->zoned), &info->zone_stats);
        info->zone_wps = zone_wp_get_wps(raw_zoned_tracker(s->zoned));
    }
}

/* ---- image creation (qemu-img create) ---- */

typedef enum {
    RAW_CREATE_PREALLOC_OFF,
    RAW_CREATE_PREALLOC_FALLOC,
    RAW_CREATE_PREALLOC_FULL,
} RawCreatePrealloc;

static const char *const raw_prealloc_names[] = { "off", "falloc", "full",
                                                  NULL };

/* Write zeroes over [0, size): preallocation=full. */
static int raw_create_write_zeroes(int fd, int64_t size)
{
    const size_t chunk = 1 << 20;
    g_autofree uint8_t *buf = g_malloc0(chunk);
    int64_t pos = 0;

    while (pos < size) {
        ssize_t n = pwrite(fd, buf, MIN((int64_t)chunk, size - pos), pos);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return -errno;
        }
        pos += n;
    }
    return 0;
}

/*
 * A device file is used as it is, as long as it is large enough; a regular
 * file is emptied first, then given its new size: "qemu-img create"
 * overwrites an existing image, as QEMU does.
 */
static int raw_create_device(int fd, const struct stat *st,
                             const char *filename, int64_t size,
                             RawCreatePrealloc prealloc, Error **errp)
{
    uint64_t dev_size;
    off_t end;

    if (prealloc != RAW_CREATE_PREALLOC_OFF) {
        error_setg(errp, "Preallocation is not supported for the host "
                   "device '%s'", filename);
        return -ENOTSUP;
    }
    if (S_ISBLK(st->st_mode) && ioctl(fd, BLKGETSIZE64, &dev_size) == 0) {
        end = dev_size;
    } else {
        end = lseek(fd, 0, SEEK_END);
        if (end < 0) {
            error_setg_errno(errp, errno, "Could not get the size of '%s'",
                             filename);
            return -errno;
        }
    }
    if (size > end) {
        error_setg(errp, "Cannot grow device files");
        return -EINVAL;
    }
    return 0;
}

static int raw_create_file(int fd, const char *filename, int64_t size,
                           RawCreatePrealloc prealloc, Error **errp)
{
    int ret = 0;

    if (ftruncate(fd, 0) < 0) {
        error_setg_errno(errp, errno, "Could not clear the file '%s'",
                         filename);
        return -errno;
    }
    switch (prealloc) {
    case RAW_CREATE_PREALLOC_OFF:
        if (ftruncate(fd, size) < 0) {
            ret = -errno;
        }
        break;
    case RAW_CREATE_PREALLOC_FALLOC:
        /* posix_fallocate() returns the error instead of setting errno. */
        ret = size ? -posix_fallocate(fd, 0, size) : 0;
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not preallocate data for "
                             "the new file");
            return ret;
        }
        break;
    case RAW_CREATE_PREALLOC_FULL:
        ret = raw_create_write_zeroes(fd, size);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not write zeros for "
                             "preallocation");
            return ret;
        }
        break;
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not resize file");
        return ret;
    }
    if (prealloc != RAW_CREATE_PREALLOC_OFF && fsync(fd) < 0) {
        error_setg_errno(errp, errno, "Could not flush the new file");
        return -errno;
    }
    return 0;
}

static int raw_create(const char *filename, QDict *opts, int64_t size,
                      Error **errp)
{
    struct stat st;
    int prealloc;
    int fd, ret;

    if (!qdict_take_enum(opts, "preallocation", raw_prealloc_names,
                         RAW_CREATE_PREALLOC_OFF, &prealloc, errp)) {
        return -EINVAL;
    }
    /* Whole sectors, as QEMU: the block layer sees sectors anyway. */
    if (size <= INT64_MAX - (int64_t)BDRV_SECTOR_SIZE) {
        size = QEMU_ALIGN_UP(size, BDRV_SECTOR_SIZE);
    }
    do {
        fd = open(filename, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0) {
        ret = -errno;
        error_setg_errno(errp, -ret, "Could not create '%s'", filename);
        return ret;
    }
    if (fstat(fd, &st) < 0) {
        ret = -errno;
        error_setg_errno(errp, -ret, "Could not stat '%s'", filename);
    } else if (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode)) {
        ret = raw_create_device(fd, &st, filename, size, prealloc, errp);
    } else if (S_ISREG(st.st_mode)) {
        ret = raw_create_file(fd, filename, size, prealloc, errp);
    } else {
        error_setg(errp, "'%s' is neither a regular file nor a device",
                   filename);
        ret = -EINVAL;
    }
    if (close(fd) < 0 && ret == 0) {
        ret = -errno;
        error_setg_errno(errp, -ret, "Could not close the new file");
    }
    return ret;
}

static const BlockCreateOptionDesc raw_create_opts[] = {
    {
        .name = "size",
        .type = BLOCK_OPT_SIZE,
        .help = "Virtual disk size",
    }, {
        .name = "preallocation",
        .type = BLOCK_OPT_STRING,
        .help = "Preallocation mode (allowed values: off, falloc, full)",
        .def_value_str = "off",
    },
    { NULL }
};

/* ---- driver tables ---- */

/*
 * One implementation behind both drivers: they differ only in what a node
 * may open, in image creation (files) and in zones (devices).
 */
#define RAW_POSIX_DRIVER_COMMON                                         \
    .instance_size = sizeof(BDRVRawState),                              \
    .supported_zero_flags = BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK,  \
    .bdrv_close = raw_close,                                            \
    .bdrv_refresh_limits = raw_refresh_limits,                          \
    .bdrv_co_preadv = raw_co_preadv,                                    \
    .bdrv_co_pwritev = raw_co_pwritev,                                  \
    .bdrv_co_pwrite_zeroes = raw_co_pwrite_zeroes,                      \
    .bdrv_co_pdiscard = raw_co_pdiscard,                                \
    .bdrv_co_flush = raw_co_flush,                                      \
    .bdrv_co_truncate = raw_co_truncate,                                \
    .bdrv_getlength = raw_getlength,                                    \
    .bdrv_get_allocated_file_size = raw_get_allocated_file_size,        \
    .bdrv_co_block_status = raw_co_block_status

static BlockDriver bdrv_file = {
    .format_name = "file",
    RAW_POSIX_DRIVER_COMMON,
    .bdrv_open = raw_open_file,
    .bdrv_create = raw_create,
    .create_opts = raw_create_opts,
};

static BlockDriver bdrv_host_device = {
    .format_name = "host_device",
    RAW_POSIX_DRIVER_COMMON,
    .bdrv_open = raw_open_device,
    .bdrv_co_zone_report = raw_co_zone_report,
    .bdrv_co_zone_mgmt = raw_co_zone_mgmt,
    .bdrv_co_zone_append = raw_co_zone_append,
};

static void bdrv_file_init(void)
{
    bdrv_register(&bdrv_file);
    bdrv_register(&bdrv_host_device);
}

block_init(bdrv_file_init);
