/*
 * What a block driver implements, and the node/graph structures the block
 * core keeps.  Drivers and block core only; tools use block.h and
 * sysemu/block-backend.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_INT_H
#define BLOCK_INT_H

#include "block/block.h"
#include "qemu/coroutine.h"
#include "qemu/queue.h"

/* struct BlockLimits: in block/block-common.h (tools read it too). */

struct BlockDriver {
    const char *format_name;
    /* Size of bs->opaque. */
    int instance_size;
    /* Protocol drivers access storage; format drivers open a child "file". */
    bool is_format;
    /*
     * The length can change behind the block layer's back (host devices):
     * bdrv_getlength() asks the driver every time instead of using the
     * cached value.
     */
    bool has_variable_length;
    /* Request flags the driver honours itself (others are emulated). */
    BdrvRequestFlags supported_write_flags;
    BdrvRequestFlags supported_zero_flags;

    /*
     * Open: take the options the driver knows from options (qdict_take_*);
     * the core rejects leftovers afterwards, naming the key.  A format
     * driver opens its child with bdrv_open_child() here.
     */
    int (*bdrv_open)(BlockDriverState *bs, QDict *options, int flags,
                     Error **errp);
    /*
     * Format probing: how sure the driver is (0: not its image, 100: its
     * magic) that buf, the first buf_size bytes of the file (zero-padded
     * to BLOCK_PROBE_BUF_SIZE), is one of its images.  filename may be
     * NULL.  The highest score wins; raw answers 1 to everything.
     */
    int (*bdrv_probe)(const uint8_t *buf, int buf_size,
                      const char *filename);
    void (*bdrv_close)(BlockDriverState *bs);
    /* Adjust bs->bl (already seeded from the children). */
    void (*bdrv_refresh_limits)(BlockDriverState *bs, Error **errp);

    /* I/O.  offset/bytes honour bs->bl.request_alignment and max_transfer. */
    int coroutine_fn (*bdrv_co_preadv)(BlockDriverState *bs, int64_t offset,
                                       int64_t bytes, QEMUIOVector *qiov,
                                       BdrvRequestFlags flags);
    int coroutine_fn (*bdrv_co_pwritev)(BlockDriverState *bs, int64_t offset,
                                        int64_t bytes, QEMUIOVector *qiov,
                                        BdrvRequestFlags flags);
    /* -ENOTSUP lets the core fall back to writing a zeroed buffer. */
    int coroutine_fn (*bdrv_co_pwrite_zeroes)(BlockDriverState *bs,
                                              int64_t offset, int64_t bytes,
                                              BdrvRequestFlags flags);
    int coroutine_fn (*bdrv_co_pdiscard)(BlockDriverState *bs,
                                         int64_t offset, int64_t bytes);
    /* Make this node's data durable; the core then flushes the children. */
    int coroutine_fn (*bdrv_co_flush)(BlockDriverState *bs);
    int coroutine_fn (*bdrv_co_truncate)(BlockDriverState *bs, int64_t offset,
                                         bool exact, PreallocMode prealloc,
                                         BdrvRequestFlags flags, Error **errp);
    /* Exact length in bytes; bdrv_getlength() rounds it up to sectors. */
    int64_t (*bdrv_getlength)(BlockDriverState *bs);
    /* Bytes allocated on the host (for 'info'); -ENOTSUP if unknown. */
    int64_t (*bdrv_get_allocated_file_size)(BlockDriverState *bs);
    int (*bdrv_get_info)(BlockDriverState *bs, BlockDriverInfo *bdi);

    /*
     * Image creation (qemu-img create).  opts holds the -o options; the
     * driver takes the ones it knows (qdict_take_*), the caller rejects
     * leftovers.  size is the virtual disk size in bytes.  create_opts
     * lists the options for "-o help" (NULL-terminated by name).
     */
    int (*bdrv_create)(const char *filename, QDict *opts, int64_t size,
                       Error **errp);
    const BlockCreateOptionDesc *create_opts;
    /* Consistency check (qemu-img check); repair when fix is set. */
    int (*bdrv_check)(BlockDriverState *bs, BdrvCheckResult *result,
                      BdrvCheckMode fix);
    /* Extra "key: value" lines for qemu-img info, appended to out. */
    void (*bdrv_format_specific_info)(BlockDriverState *bs, GString *out);

    /*
     * Block status of [offset, offset+bytes): the core has clamped the range
     * to the length and aligned it to request_alignment.  Must set
     * *pnum > 0 (progress) or fail.  want_zero=false: prefer a large *pnum;
     * true: report ZERO and OFFSET_VALID precisely.  Set *map and *file with
     * OFFSET_VALID; BDRV_BLOCK_RAW asks the core to look at *file at *map.
     */
    int coroutine_fn (*bdrv_co_block_status)(BlockDriverState *bs,
                                             bool want_zero, int64_t offset,
                                             int64_t bytes, int64_t *pnum,
                                             int64_t *map,
                                             BlockDriverState **file);

    /*
     * Zoned devices.  Report: fill up to *nr_zones descriptors starting
     * with the zone containing offset; *nr_zones returns how many.
     * Mgmt: offset/len zone-aligned (the core checked).  Append: *offset
     * enters as the zone start and returns where the data landed.
     */
    int coroutine_fn (*bdrv_co_zone_report)(BlockDriverState *bs,
                                            int64_t offset,
                                            unsigned int *nr_zones,
                                            BlockZoneDescriptor *zones);
    int coroutine_fn (*bdrv_co_zone_mgmt)(BlockDriverState *bs,
                                          BlockZoneOp op, int64_t offset,
                                          int64_t len);
    int coroutine_fn (*bdrv_co_zone_append)(BlockDriverState *bs,
                                            int64_t *offset,
                                            QEMUIOVector *qiov,
                                            BdrvRequestFlags flags);

    QLIST_ENTRY(BlockDriver) list;
};

struct BdrvChild {
    BlockDriverState *bs;
    BlockDriverState *parent;       /* NULL for a BlockBackend's root */
    char *name;                     /* "file", ... */
    QLIST_ENTRY(BdrvChild) next;    /* in parent->children */
    QLIST_ENTRY(BdrvChild) next_parent; /* in bs->parents */
};

/* A request in flight on a node, for overlap serialisation (RMW). */
typedef struct BdrvTrackedRequest {
    BlockDriverState *bs;
    int64_t offset;
    int64_t bytes;
    bool is_write;
    /* Serialising requests cover [overlap_offset, +overlap_bytes). */
    bool serialising;
    int64_t overlap_offset;
    int64_t overlap_bytes;
    Coroutine *co;
    CoQueue wait_queue;             /* requests waiting for this one */
    struct BdrvTrackedRequest *waiting_for;
    QLIST_ENTRY(BdrvTrackedRequest) list;
} BdrvTrackedRequest;

struct BlockDriverState {
    BlockDriver *drv;
    void *opaque;
    int refcnt;
    int open_flags;
    bool read_only;
    char filename[4096];
    char node_name[32];
    AioContext *aio_context;

    BdrvChild *file;                /* the primary child, if any */
    QLIST_HEAD(, BdrvChild) children;
    QLIST_HEAD(, BdrvChild) parents;

    BlockLimits bl;
    /*
     * The format was guessed by probing, not named by the user: raw then
     * guards block 0 against writes that would change the guess.
     */
    bool probed;
    /*
     * Cached length in 512-byte sectors, rounded up like QEMU (a 1000-byte
     * file is 1 KiB long for the block layer); -1 = not known yet.
     */
    int64_t total_sectors;
    BdrvRequestFlags supported_write_flags;
    BdrvRequestFlags supported_zero_flags;

    /* Requests in flight (tracked) and counters for drain. */
    QLIST_HEAD(, BdrvTrackedRequest) tracked_requests;
    unsigned int in_flight;
    unsigned int serialising_in_flight;
    int quiesce_counter;
    /*
     * New requests from a BlockBackend on this node wait here while it is
     * drained.  Requests from parent nodes never wait: a parent's request
     * in flight must be able to finish for the drain to end.
     */
    CoQueue drain_queue;

    QTAILQ_ENTRY(BlockDriverState) node_list;
};

/* ---- driver registry (block.c) ---- */
void bdrv_register(BlockDriver *drv);
BlockDriver *bdrv_find_format(const char *name);
/*
 * Probing reads this many bytes (one sector, as QEMU): a probed raw node
 * must be able to check its block 0 against every format in one piece.
 */
#define BLOCK_PROBE_BUF_SIZE 512
/* The format whose bdrv_probe scores buf highest (raw at worst). */
BlockDriver *bdrv_probe_all(const uint8_t *buf, int buf_size,
                            const char *filename);
/* Registers at load time; each driver file ends with block_init(fn). */
#define block_init(fn) \
    static void __attribute__((constructor)) do_block_init_ ## fn(void) \
    { fn(); }

/*
 * Open child "name" of parent from options (keys "name.*" are taken out
 * of options).  The child's driver is options "name.driver", else
 * default_driver (NULL: required).  Returns NULL with *errp set.
 */
BdrvChild *bdrv_open_child(const char *name, BlockDriverState *parent,
                           QDict *options, const char *default_driver,
                           int flags, Error **errp);
void bdrv_unref_child(BlockDriverState *parent, BdrvChild *child);
/*
 * A root child of bs for a BlockBackend (no parent node); takes a
 * reference to bs, which bdrv_root_unref_child() drops.
 */
BdrvChild *bdrv_root_attach_child(BlockDriverState *bs, const char *name);
void bdrv_root_unref_child(BdrvChild *child);
/* Cached lengths: a write ended at end bytes; the node was resized. */
void bdrv_note_write_end(BlockDriverState *bs, int64_t end);
void bdrv_note_resize(BlockDriverState *bs);

/* ---- request helpers for drivers (block/io.c) ---- */
int coroutine_fn bdrv_co_preadv_part(BdrvChild *child, int64_t offset,
                                     int64_t bytes, QEMUIOVector *qiov,
                                     size_t qiov_offset,
                                     BdrvRequestFlags flags);
int coroutine_fn bdrv_co_pwritev_part(BdrvChild *child, int64_t offset,
                                      int64_t bytes, QEMUIOVector *qiov,
                                      size_t qiov_offset,
                                      BdrvRequestFlags flags);
void bdrv_inc_in_flight(BlockDriverState *bs);
void bdrv_dec_in_flight(BlockDriverState *bs);
/* Recompute bs->bl from the children and the driver. */
void bdrv_refresh_limits(BlockDriverState *bs, Error **errp);
/*
 * Run entry(opaque) in a new coroutine in ctx and poll ctx until *done is
 * true (entry sets it last).  For synchronous wrappers; not in a coroutine.
 */
void bdrv_poll_co(AioContext *ctx, CoroutineEntry *entry, void *opaque,
                  bool *done);
/* Buffer alignment for bounce buffers of bs. */
size_t bdrv_opt_mem_align(BlockDriverState *bs);
size_t bdrv_min_mem_align(BlockDriverState *bs);

#endif /* BLOCK_INT_H */
