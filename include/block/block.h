/*
 * The public node-level block API (bdrv_*).  Tools normally go through a
 * BlockBackend (sysemu/block-backend.h) instead.
 *
 * Requests are byte-based.  Coroutine functions (bdrv_co_*) return 0 or a
 * negative errno.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_H
#define BLOCK_H

#include "block/block-common.h"

/*
 * Open a node graph.  options may hold "driver" and driver options,
 * including children's options under their name ("file.filename").
 * filename, if not NULL, is the implied "filename" of the protocol layer
 * (of the child "file" when the top driver is a format).  Ownership of
 * options passes to the call (NULL is fine).  Every key must be used:
 * an unknown key fails with QEMU's wording, naming the driver and the key
 * ("Block format 'raw' does not support the option 'foo'").
 * Without a "driver" the format is probed from the protocol node's first
 * sector (the best bdrv_probe score; raw, restricted and with QEMU's
 * warning when writable, if nothing else matches).
 * flags: BDRV_O_*.
 */
BlockDriverState *bdrv_open(const char *filename, QDict *options, int flags,
                            Error **errp);
void bdrv_ref(BlockDriverState *bs);
void bdrv_unref(BlockDriverState *bs);

/* The node called node_name, or NULL. */
BlockDriverState *bdrv_find_node(const char *node_name);
const char *bdrv_get_format_name(BlockDriverState *bs);
const char *bdrv_get_node_name(BlockDriverState *bs);
bool bdrv_is_read_only(BlockDriverState *bs);
AioContext *bdrv_get_aio_context(BlockDriverState *bs);
/* Iterate over registered driver names (for help output). */
void bdrv_iterate_format(void (*it)(void *opaque, const char *name),
                         void *opaque);

/* ---- I/O (block/io.c) ---- */
int coroutine_fn bdrv_co_preadv(BdrvChild *child, int64_t offset,
                                int64_t bytes, QEMUIOVector *qiov,
                                BdrvRequestFlags flags);
int coroutine_fn bdrv_co_pwritev(BdrvChild *child, int64_t offset,
                                 int64_t bytes, QEMUIOVector *qiov,
                                 BdrvRequestFlags flags);
int coroutine_fn bdrv_co_pwrite_zeroes(BdrvChild *child, int64_t offset,
                                       int64_t bytes, BdrvRequestFlags flags);
int coroutine_fn bdrv_co_pdiscard(BdrvChild *child, int64_t offset,
                                  int64_t bytes);
int coroutine_fn bdrv_co_flush(BlockDriverState *bs);
int coroutine_fn bdrv_co_truncate(BdrvChild *child, int64_t offset,
                                  bool exact, PreallocMode prealloc,
                                  BdrvRequestFlags flags, Error **errp);
/* Length in bytes, or negative errno. */
int64_t bdrv_getlength(BlockDriverState *bs);
int64_t bdrv_get_allocated_file_size(BlockDriverState *bs);
int bdrv_get_info(BlockDriverState *bs, BlockDriverInfo *bdi);

/*
 * Create an image of format drv_name (its bdrv_create).  Takes ownership
 * of opts (may be NULL); unknown options fail naming the key.
 */
int bdrv_create(const char *drv_name, const char *filename, QDict *opts,
                int64_t size, Error **errp);
/* The -o options of a format, or NULL if it cannot create images. */
const BlockCreateOptionDesc *bdrv_create_options(const char *drv_name);
/* Run the driver's check; -ENOTSUP if it has none. */
int bdrv_check(BlockDriverState *bs, BdrvCheckResult *result,
               BdrvCheckMode fix);
void bdrv_check_result_cleanup(BdrvCheckResult *result);
/* Format-specific info lines (may append nothing). */
void bdrv_format_specific_info(BlockDriverState *bs, GString *out);
/* For qemu-img info: the name bs was opened with ("" if none), and the
 * node of its primary child "file" (NULL if it has none). */
const char *bdrv_get_filename(BlockDriverState *bs);
BlockDriverState *bdrv_get_file_bs(BlockDriverState *bs);

/*
 * Block status of [offset, offset+bytes) in bs; *pnum gets the length of
 * the run with the same status (> 0 unless offset is at the end).
 * Returns BDRV_BLOCK_* flags or negative errno.  map/file may be NULL.
 */
int coroutine_fn bdrv_co_block_status(BlockDriverState *bs, bool want_zero,
                                      int64_t offset, int64_t bytes,
                                      int64_t *pnum, int64_t *map,
                                      BlockDriverState **file);
/* Synchronous forms; want_zero = true.  _above walks from bs down to base
 * (exclusive; NULL = the whole chain) and reports the first layer that
 * allocates the range. */
int bdrv_block_status(BlockDriverState *bs, int64_t offset, int64_t bytes,
                      int64_t *pnum, int64_t *map, BlockDriverState **file);
int bdrv_block_status_above(BlockDriverState *bs, BlockDriverState *base,
                            int64_t offset, int64_t bytes, int64_t *pnum,
                            int64_t *map, BlockDriverState **file);
/* 1 if allocated in bs itself, 0 if not, negative errno; *pnum as above. */
int bdrv_is_allocated(BlockDriverState *bs, int64_t offset, int64_t bytes,
                      int64_t *pnum);

/*
 * ---- Zoned devices ----
 * Checked here: the node is zoned (-ENOTSUP otherwise), offsets in range
 * and zone-aligned where required (-EINVAL), writable (-EPERM).
 */
int coroutine_fn bdrv_co_zone_report(BlockDriverState *bs, int64_t offset,
                                     unsigned int *nr_zones,
                                     BlockZoneDescriptor *zones);
int coroutine_fn bdrv_co_zone_mgmt(BlockDriverState *bs, BlockZoneOp op,
                                   int64_t offset, int64_t len);
int coroutine_fn bdrv_co_zone_append(BlockDriverState *bs, int64_t *offset,
                                     QEMUIOVector *qiov,
                                     BdrvRequestFlags flags);
bool bdrv_is_zoned(BlockDriverState *bs);

/* Wait until no request is in flight on bs (and its children). */
void bdrv_drain(BlockDriverState *bs);
void bdrv_drained_begin(BlockDriverState *bs);
void bdrv_drained_end(BlockDriverState *bs);

#endif /* BLOCK_H */
