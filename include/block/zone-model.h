/*
 * The zone state machine of a host-managed zoned device, with the Linux
 * kernel's zoned null_blk semantics: conditions, transitions, open/active
 * resource accounting (with implicit close of implicitly-open zones when
 * the open limit is reached) and the errno of every rule violation.
 *
 * Pure logic: no I/O, no allocation after init.  Used by the zoned image
 * format and by tests; file-posix does not need it (the kernel enforces
 * these rules there).
 *
 * Errno rules (as null_blk):
 *   ETOOMANYREFS  the open limit is reached and no implicitly-open zone can
 *                 be closed to make room
 *   EOVERFLOW     the active limit would be exceeded
 *   EINVAL        misaligned or out-of-range management, an operation on a
 *                 conventional zone where that is invalid
 *   EIO           every other violation (write not at the write pointer,
 *                 past the capacity, to a full/read-only/offline zone...)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_ZONE_MODEL_H
#define BLOCK_ZONE_MODEL_H

#include "block/block-common.h"

typedef struct ZoneModelGeometry {
    uint64_t size;              /* device bytes; the last zone may be short */
    uint64_t zone_size;         /* power of two */
    uint64_t zone_capacity;     /* <= zone_size; == zone_size if a short
                                 * last zone exists */
    uint32_t nr_conv;           /* conventional zones at the start */
    uint32_t max_open;          /* 0 = unlimited */
    uint32_t max_active;        /* 0 = unlimited */
    uint32_t block_size;        /* logical block size: 512 or 4096 */
} ZoneModelGeometry;

typedef struct ZoneModel {
    ZoneModelGeometry geo;
    uint32_t nr_zones;
    BlockZoneDescriptor *zones; /* nr_zones entries, in bytes */
    uint32_t nr_imp_open;
    uint32_t nr_exp_open;
    uint32_t nr_closed;
    uint32_t imp_close_cursor;  /* round-robin start for implicit close */
} ZoneModel;

/* Validate geometry (errors name the value and the limit) and set all
 * sequential zones empty, conventional zones NOT_WP. */
bool zone_model_init(ZoneModel *m, const ZoneModelGeometry *geo,
                     Error **errp);
void zone_model_cleanup(ZoneModel *m);

/* Index of the zone containing offset (offset < geo.size). */
uint32_t zone_model_zone_index(const ZoneModel *m, uint64_t offset);

/*
 * A write of len bytes at offset (append: offset is the zone start and the
 * data lands at the write pointer).  Checks every rule; on success applies
 * the transition (wp advance, implicit open, implicit close of another
 * zone, full at capacity) and sets *landed to the data's offset; on
 * failure returns -errno and changes nothing.  *closed_zone receives the
 * index of a zone implicitly closed to make room, or UINT32_MAX.
 * Writes to conventional zones are checked for range only.
 */
int zone_model_write(ZoneModel *m, uint64_t offset, uint64_t len,
                     bool append, uint64_t *landed, uint32_t *closed_zone);

/* Reads: in range and below... any offset < size is readable; returns
 * -EIO for offline zones, else 0. */
int zone_model_read(const ZoneModel *m, uint64_t offset, uint64_t len);

/*
 * Management of the zones in [offset, offset+len) (one zone for open,
 * close, finish; reset may cover a range; reset-all covers the device).
 * Same all-or-nothing contract as zone_model_write().  For resets, the
 * caller discards the data of the zones whose wp moved (see *changed:
 * optional bitmap of nr_zones bits set for every zone touched).
 */
int zone_model_mgmt(ZoneModel *m, BlockZoneOp op, uint64_t offset,
                    uint64_t len, unsigned long *changed);

/* Force a condition (test knobs and image loading): read-only, offline,
 * full, or restore an exact wp+state from persistent metadata.  Returns
 * -EINVAL if the combination is impossible (e.g. wp beyond capacity). */
int zone_model_set_zone(ZoneModel *m, uint32_t index, BlockZoneState state,
                        uint64_t wp);

/* Fill descriptors for zones starting at the one containing offset. */
unsigned int zone_model_report(const ZoneModel *m, uint64_t offset,
                               unsigned int nr, BlockZoneDescriptor *zones);

/* Re-derive the open/closed counters from the zone array (after loading),
 * and check them against the limits; -EINVAL when inconsistent. */
int zone_model_recount(ZoneModel *m);

#endif /* BLOCK_ZONE_MODEL_H */
