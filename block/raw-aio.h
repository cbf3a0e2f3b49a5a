/*
 * Internal interface between the file-posix protocol driver and its syscall
 * backends: the thread pool work functions (block/file-posix-io.c), Linux
 * AIO (block/linux-aio.c) and io_uring (block/io_uring.c).
 *
 * The asynchronous backends keep one kernel context (io_context_t or ring)
 * per AioContext, shared by every node that submits from that context and
 * reference-counted by them.  Requests are queued and submitted in batches
 * from a bottom half (or at once when the batch is full); completions arrive
 * through an eventfd handler in the AioContext, which wakes the waiting
 * coroutine with aio_co_wake().  Neither the submission path nor the
 * completion path ever calls the other, so the stack depth stays bounded
 * whatever the queue depth and however fast the kernel completes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_RAW_AIO_H
#define BLOCK_RAW_AIO_H

#include "block/block-common.h"
#include "block/zone-wp.h"

typedef enum RawAioBackend {
    RAW_AIO_THREADS,
    RAW_AIO_NATIVE,
    RAW_AIO_IO_URING,
    RAW_AIO_AUTO,           /* option value only: resolved at open */
} RawAioBackend;

/* Whether this build has the backend (configure may leave one out). */
static inline bool raw_aio_backend_built(RawAioBackend aio)
{
    switch (aio) {
    case RAW_AIO_NATIVE:
#ifdef CONFIG_LINUX_AIO
        return true;
#else
        return false;
#endif
    case RAW_AIO_IO_URING:
#ifdef CONFIG_LINUX_IO_URING
        return true;
#else
        return false;
#endif
    default:
        return true;
    }
}

typedef enum RawAioOp {
    RAW_AIO_READ,
    RAW_AIO_WRITE,
    RAW_AIO_FLUSH,          /* fdatasync */
} RawAioOp;

/* One read, write or flush handed to an asynchronous backend. */
typedef struct RawAioRequest {
    int fd;
    RawAioOp op;
    int64_t offset;
    QEMUIOVector *qiov;     /* NULL for a flush; qiov->size bytes move */
    /*
     * O_DIRECT alignment of the file (1 when buffered).  A short transfer
     * that ends off this alignment cannot be continued: it is end of file
     * for a read (rest zero-filled) and -ENOSPC for a write.
     */
    uint32_t align;
    /* Submit once this many requests are queued (aio-max-batch); 0: 32. */
    uint64_t max_batch;
} RawAioRequest;

#define RAW_AIO_DEFAULT_MAX_BATCH 32

/* Counters of one backend context, for tests and benchmarks. */
typedef struct RawAioStats {
    uint64_t requests;      /* requests completed */
    uint64_t submitted;     /* iocbs/SQEs handed to the kernel */
    uint64_t submit_calls;  /* io_submit()/io_uring_submit() calls */
    uint64_t max_batch;     /* most iocbs/SQEs handed over in one call */
    uint64_t max_in_flight; /* most iocbs/SQEs in the kernel at once */
    uint64_t resubmitted;   /* short transfers continued */
    uint64_t eof_fills;     /* short reads zero-filled at end of file */
    uint64_t eagain;        /* submissions deferred (EAGAIN/EBUSY) */
    uint64_t cq_overflows;  /* io_uring: completion queue overflow flushes */
} RawAioStats;

/* ---- Linux AIO (block/linux-aio.c) ---- */

typedef struct LinuxAioState LinuxAioState;

#ifdef CONFIG_LINUX_AIO
/*
 * The Linux AIO context of ctx, created on first use; takes a reference.
 * Fails (NULL, *errp set) when io_setup() or the eventfd fails.
 */
LinuxAioState *laio_attach(AioContext *ctx, Error **errp);
/* Drop a reference; the last one waits for in-flight requests and frees. */
void laio_detach(LinuxAioState *s);
/*
 * Run req and wait for it; the caller runs in s's AioContext.  Returns 0
 * or a negative errno (-EINVAL for a flush the kernel cannot do
 * asynchronously: the caller falls back to the thread pool).
 */
int coroutine_fn laio_co_submit(LinuxAioState *s, const RawAioRequest *req);
/* Counters of the context attached to ctx; false if there is none. */
bool laio_get_stats(AioContext *ctx, RawAioStats *stats);
#endif

/* ---- io_uring (block/io_uring.c) ---- */

typedef struct LuringState LuringState;

#ifdef CONFIG_LINUX_IO_URING
/* The same for io_uring: one ring per AioContext. */
LuringState *luring_attach(AioContext *ctx, Error **errp);
void luring_detach(LuringState *s);
int coroutine_fn luring_co_submit(LuringState *s, const RawAioRequest *req);
bool luring_get_stats(AioContext *ctx, RawAioStats *stats);
#endif

/*
 * Without the library there is no attach function (file-posix reports the
 * missing backend itself); these stubs are never reached.
 */
#ifndef CONFIG_LINUX_AIO
static inline void laio_detach(LinuxAioState *s) { }
static inline int coroutine_fn laio_co_submit(LinuxAioState *s,
                                              const RawAioRequest *req)
{
    return -ENOSYS;
}
static inline bool laio_get_stats(AioContext *ctx, RawAioStats *stats)
{
    return false;
}
#endif
#ifndef CONFIG_LINUX_IO_URING
static inline void luring_detach(LuringState *s) { }
static inline int coroutine_fn luring_co_submit(LuringState *s,
                                                const RawAioRequest *req)
{
    return -ENOSYS;
}
static inline bool luring_get_stats(AioContext *ctx, RawAioStats *stats)
{
    return false;
}
#endif

/* ---- zoned host devices (block/file-posix-zoned.c) ---- */

typedef struct RawZoned RawZoned;

/* The node's own write path (its backend, O_DIRECT): 0 or -errno. */
typedef int coroutine_fn RawZonedWriteFunc(void *opaque, int64_t offset,
                                           QEMUIOVector *qiov);

#ifdef CONFIG_BLKZONED
/*
 * The zoned model of the block device fd from sysfs (queue/zoned,
 * chunk_sectors, nr_zones, max_open_zones, max_active_zones,
 * zone_append_max_bytes, zone_write_granularity, block sizes; for a
 * partition those of its disk).  Fills the zoned fields of *bl and returns
 * 0; bl->zoned stays BLK_Z_NONE for a device that is not zoned or has no
 * such attributes.  A negative errno with *errp for a zoned device that
 * cannot be used (a partition, a broken geometry).
 */
int raw_zoned_probe(int fd, const struct stat *st, const char *filename,
                    BlockLimits *bl, Error **errp);
/*
 * Report every zone (BLKREPORTZONE, blocking) and start tracking write
 * pointers.  bl comes from raw_zoned_probe(); max_transfer and max_iov
 * bound a coalesced append write (0 = none).
 */
RawZoned *raw_zoned_open(int fd, const char *filename, const BlockLimits *bl,
                         uint64_t max_transfer, int max_iov,
                         RawZonedWriteFunc *write, void *opaque,
                         Error **errp);
void raw_zoned_close(RawZoned *z);
/* Copy the zoned fields (capacity: the one of all full-size zones). */
void raw_zoned_get_limits(RawZoned *z, BlockLimits *bl);
ZoneWpTracker *raw_zoned_tracker(RawZoned *z);
/* Writes go through the tracker; report and mgmt ioctls to the pool. */
int coroutine_fn raw_zoned_pwritev(RawZoned *z, int64_t offset,
                                   QEMUIOVector *qiov);
int coroutine_fn raw_zoned_append(RawZoned *z, int64_t *offset,
                                  QEMUIOVector *qiov);
int coroutine_fn raw_zoned_mgmt(RawZoned *z, BlockZoneOp op, int64_t offset,
                                int64_t len);
int coroutine_fn raw_zoned_report(RawZoned *z, int64_t offset,
                                  unsigned int *nr_zones,
                                  BlockZoneDescriptor *zones);
#else
/* Without linux/blkzoned.h nothing is zoned; the rest is never reached. */
static inline int raw_zoned_probe(int fd, const struct stat *st,
                                  const char *filename, BlockLimits *bl,
                                  Error **errp)
{
    bl->zoned = BLK_Z_NONE;
    return 0;
}
static inline RawZoned *raw_zoned_open(int fd, const char *filename,
                                       const BlockLimits *bl,
                                       uint64_t max_transfer, int max_iov,
                                       RawZonedWriteFunc *write,
                                       void *opaque, Error **errp)
{
    return NULL;
}
static inline void raw_zoned_close(RawZoned *z) { }
static inline void raw_zoned_get_limits(RawZoned *z, BlockLimits *bl) { }
static inline ZoneWpTracker *raw_zoned_tracker(RawZoned *z)
{
    return NULL;
}
static inline int coroutine_fn raw_zoned_pwritev(RawZoned *z, int64_t offset,
                                                 QEMUIOVector *qiov)
{
    return -ENOTSUP;
}
static inline int coroutine_fn raw_zoned_append(RawZoned *z, int64_t *offset,
                                                QEMUIOVector *qiov)
{
    return -ENOTSUP;
}
static inline int coroutine_fn raw_zoned_mgmt(RawZoned *z, BlockZoneOp op,
                                              int64_t offset, int64_t len)
{
    return -ENOTSUP;
}
static inline int coroutine_fn raw_zoned_report(RawZoned *z, int64_t offset,
                                                unsigned int *nr_zones,
                                                BlockZoneDescriptor *zones)
{
    return -ENOTSUP;
}
#endif

/* ---- introspection of a file/host_device node (block/file-posix.c) ---- */

typedef struct RawInfo {
    RawAioBackend aio;          /* the backend in use (never AUTO) */
    bool direct;                /* O_DIRECT */
    uint32_t align;             /* request alignment */
    size_t mem_align;           /* buffer alignment */
    /* Not (yet) found unsupported on this file: */
    bool async_flush;           /* flush through libaio/io_uring */
    bool discard;
    bool zero_range;
    bool punch_hole;
    bool seek_data;
    /* A zoned host device: its tracker's counters and cached pointers. */
    bool zoned;
    ZoneWpStats zone_stats;
    const BlockZoneWps *zone_wps;
} RawInfo;

/* For tests and tools: bs must be a "file" or "host_device" node. */
void raw_get_info(BlockDriverState *bs, RawInfo *info);

/* ---- thread pool work (block/file-posix-io.c), run on workers ---- */

typedef enum RawThreadOp {
    RAW_THREAD_READ,
    RAW_THREAD_WRITE,
    RAW_THREAD_FLUSH,
    RAW_THREAD_DISCARD,
    RAW_THREAD_ZERO_RANGE,      /* fallocate(ZERO_RANGE) */
    RAW_THREAD_PUNCH_HOLE,      /* fallocate(PUNCH_HOLE | KEEP_SIZE) */
    RAW_THREAD_BLKDISCARD,
    RAW_THREAD_BLKZEROOUT,
    RAW_THREAD_TRUNCATE,
} RawThreadOp;

typedef struct RawThreadRequest {
    int fd;
    RawThreadOp op;
    int64_t offset;
    int64_t bytes;
    QEMUIOVector *qiov;         /* READ, WRITE */
    uint32_t align;             /* as RawAioRequest.align */
    bool prealloc_full;         /* TRUNCATE: write zeroes to the new area */
} RawThreadRequest;

/*
 * ThreadPoolFunc for thread_pool_submit_co(): returns 0 or a negative
 * errno; -ENOTSUP when the file system or device cannot do the operation.
 */
int raw_thread_work(void *opaque);

#endif /* BLOCK_RAW_AIO_H */
