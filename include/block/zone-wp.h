/*
 * Write-pointer tracker of a zoned device: the BlockZoneWps array, one
 * request queue per zone, zone append emulation with coalescing, and
 * resynchronisation after failures.
 *
 * The tracker reaches the device only through ZoneWpOps, so file-posix
 * drives it with the kernel (pwritev, BLKREPORTZONE, BLK*ZONE ioctls) and
 * the unit tests with an in-memory zoned device of their own.
 *
 * Rules it keeps:
 * - Writes and appends to different zones run in parallel.  Within one
 *   sequential zone one device write (or management call) is in flight at
 *   a time; a write at the cached write pointer goes before the others,
 *   then the waiting appends (coalesced into one vectored write, each
 *   getting its own offset), then writes elsewhere, which the device is
 *   left to reject.  Management calls are barriers: what was queued before
 *   them runs first, what comes after waits for them.
 * - Conventional zones are not tracked: writes there go straight through.
 * - The array changes after successful writes, appends, resets and
 *   finishes.  A failed device call marks exactly the zones it touched for
 *   a re-read (one report per zone) before their next request, and fails
 *   exactly the requests it carried.
 * - Append rejections return -EIO, as Linux does for REQ_OP_ZONE_APPEND
 *   (BLK_STS_IOERR) in every one of these cases: not a zone start, a
 *   conventional, full, read-only or offline zone, crossing the zone
 *   capacity, larger than the maximum append size, a length that is not a
 *   multiple of the write granularity, beyond the end of the device.
 *
 * A tracker is used from one AioContext (its node's); it takes no locks.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_ZONE_WP_H
#define BLOCK_ZONE_WP_H

#include "block/block-common.h"
#include "qemu/coroutine.h"

typedef struct ZoneWpTracker ZoneWpTracker;

/* The device below the tracker.  Each returns 0 or a negative errno. */
typedef struct ZoneWpOps {
    /* Write all of qiov at offset (bytes). */
    int coroutine_fn (*pwritev)(void *opaque, int64_t offset,
                                QEMUIOVector *qiov);
    /*
     * Describe up to *nr_zones zones from the one containing offset;
     * *nr_zones returns how many were filled.
     */
    int coroutine_fn (*report)(void *opaque, int64_t offset,
                               unsigned int *nr_zones,
                               BlockZoneDescriptor *zones);
    /* Zone management over [offset, offset + len), zone-aligned. */
    int coroutine_fn (*mgmt)(void *opaque, BlockZoneOp op, int64_t offset,
                             int64_t len);
} ZoneWpOps;

typedef struct ZoneWpConfig {
    uint64_t zone_size;          /* bytes, a power of two */
    uint64_t length;             /* device length; the last zone may be
                                  * shorter than zone_size */
    uint64_t max_append_bytes;   /* largest append; 0 = zone capacity */
    uint32_t write_granularity;  /* append lengths are multiples; 0 = 1 */
    /*
     * Limits of one coalesced device write (0 = none).  A single append is
     * always issued alone, whatever its size.
     */
    uint64_t max_transfer;
    int max_iov;
} ZoneWpConfig;

typedef struct ZoneWpStats {
    uint64_t device_writes;      /* writes issued to the device */
    uint64_t writes;             /* regular write requests (zone pieces) */
    uint64_t appends;            /* appends that landed */
    uint64_t append_writes;      /* device writes that carried appends */
    uint64_t max_coalesced;      /* most appends in one device write */
    uint64_t rejected;           /* appends refused without a device write */
    uint64_t resyncs;            /* zones re-read from the device */
    uint64_t mgmt_calls;         /* management calls issued */
    uint64_t max_busy_zones;     /* most zones with a device call at once */
} ZoneWpStats;

/*
 * A tracker for the zones described by zones[0..nr_zones) (a full report
 * of the device, in order).  Returns NULL with *errp set when the report
 * does not match cfg (count, starts, lengths, capacities).
 */
ZoneWpTracker *zone_wp_new(const ZoneWpConfig *cfg, const ZoneWpOps *ops,
                           void *opaque, const BlockZoneDescriptor *zones,
                           unsigned int nr_zones, Error **errp);
/* No request may be in flight (drain first). */
void zone_wp_free(ZoneWpTracker *t);

/*
 * A regular write.  Pieces in different zones are issued one after the
 * other; the first failure ends the request.
 */
int coroutine_fn zone_wp_pwritev(ZoneWpTracker *t, int64_t offset,
                                 QEMUIOVector *qiov);
/* *offset enters as a zone start and returns where the data landed. */
int coroutine_fn zone_wp_append(ZoneWpTracker *t, int64_t *offset,
                                QEMUIOVector *qiov);
/*
 * Zone management: waits for the zones' queued requests, calls the
 * device, then updates the array (or marks the zones for a re-read).
 * BLK_ZO_RESET_ALL ignores offset and len.  -EINVAL for a range that is
 * not zone-aligned or not inside the device.
 */
int coroutine_fn zone_wp_mgmt(ZoneWpTracker *t, BlockZoneOp op,
                              int64_t offset, int64_t len);

/* The cached array (see BlockZoneWps for the special values). */
const BlockZoneWps *zone_wp_get_wps(ZoneWpTracker *t);
/* Capacity of zone index in bytes. */
uint64_t zone_wp_zone_capacity(ZoneWpTracker *t, unsigned int index);
void zone_wp_get_stats(ZoneWpTracker *t, ZoneWpStats *stats);

/*
 * The array value for a reported zone of length len (the special values
 * of BlockZoneWps; a sequential zone written up to its capacity is full).
 */
uint64_t zone_wp_value(const BlockZoneDescriptor *zone);

#endif /* BLOCK_ZONE_WP_H */
