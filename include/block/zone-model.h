/*
 * The zone state machine of a host-managed zoned device, with the Linux
 * kernel's zoned null_blk semantics: conditions, transitions, open/active
 * resource accounting (with implicit close of implicitly-open zones when
 * the open limit is reached) and the errno of every rule violation.
 * docs/zoned-format.md "Semantics" has the full transition table, and
 * tests/vm/probes/null-blk-semantics.sh checks it against the kernel.
 *
 * Pure logic: no I/O, no allocation after init, no locking (the caller
 * serialises calls).  Used by the zoned image format and by tests;
 * file-posix does not need it (the kernel enforces these rules there).
 *
 * Errno rules (as null_blk):
 *   ETOOMANYREFS  the open limit is reached and no implicitly-open zone can
 *                 be closed to make room (none is implicitly open, or the
 *                 active limit is reached too)
 *   EOVERFLOW     an empty zone would become active beyond the active limit
 *   EINVAL        misaligned or out-of-range management; a write that is
 *                 not whole logical blocks, leaves the device or crosses a
 *                 zone boundary; an impossible restored state
 *   EIO           every other violation (write not at the write pointer,
 *                 past the capacity, to a full/read-only/offline zone,
 *                 append to a conventional zone, management of a
 *                 conventional/read-only/offline zone or from a condition
 *                 that does not allow it, read of an offline zone)
 *
 * Write pointers are null_blk's: a conventional zone reports start +
 * length, a zone filled by writes start + capacity, a finished zone
 * start + length, read-only and offline zones all ones (UINT64_MAX).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_ZONE_MODEL_H
#define BLOCK_ZONE_MODEL_H

#include "block/block-common.h"

/*
 * What null_blk returns for the sectors of a read at or above a zone's
 * write pointer (observed on 6.12 with memory_backed=1; see
 * zone_model_readable()).
 */
#define ZONE_MODEL_READ_FILL 0xff

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
    ZoneModelGeometry geo;      /* as validated and normalised by init */
    uint32_t nr_zones;
    BlockZoneDescriptor *zones; /* nr_zones entries, in bytes */
    uint32_t nr_imp_open;
    uint32_t nr_exp_open;
    uint32_t nr_closed;
    uint32_t imp_close_cursor;  /* round-robin start for implicit close */
} ZoneModel;

/*
 * Validate geometry (errors name the value and the limit) and set all
 * sequential zones empty, conventional zones NOT_WP.  As null_blk does,
 * a max_active or max_open that is not below the number of sequential
 * zones cannot be reached and is stored as 0 (unlimited); unlike
 * null_blk, which lowers it silently, a max_open above a non-zero
 * max_active is an error.  Also errors: a size smaller than a zone, a
 * smaller last zone with zone_capacity < zone_size, no sequential zone.
 */
bool zone_model_init(ZoneModel *m, const ZoneModelGeometry *geo,
                     Error **errp);
void zone_model_cleanup(ZoneModel *m);

/* Index of the zone containing offset (offset < geo.size). */
uint32_t zone_model_zone_index(const ZoneModel *m, uint64_t offset);

/*
 * How many of the len bytes at offset lie in the zone containing offset
 * (offset < geo.size): a request crossing zones is split with this and
 * each piece given to zone_model_write() or zone_model_readable().
 */
uint64_t zone_model_piece_len(const ZoneModel *m, uint64_t offset,
                              uint64_t len);

/*
 * A write of len bytes at offset, inside one zone (append: offset is the
 * zone start and the data lands at the write pointer).  Checks every rule;
 * on success applies the transition (wp advance, implicit open, implicit
 * close of another zone, full at capacity) and sets *landed to the data's
 * offset; on failure returns -errno and changes nothing.  *closed_zone
 * receives the index of a zone implicitly closed to make room, or
 * UINT32_MAX (both out parameters may be NULL).
 * Writes to conventional zones are checked for range only.
 *
 * A request crossing zones is split at zone boundaries by the caller;
 * the project's file-posix issues the pieces in order and stops at the
 * first failure, leaving the earlier pieces written, and so should a
 * caller that wants the same results as on null_blk.
 */
int zone_model_write(ZoneModel *m, uint64_t offset, uint64_t len,
                     bool append, uint64_t *landed, uint32_t *closed_zone);

/*
 * What zone_model_write() would return now, and where the data would
 * land, without changing anything.  For a caller that writes the data
 * before committing the write pointer: check, write the data, then call
 * zone_model_write(), which may still fail if another zone took the last
 * open or active slot in between (the data then sits above the write
 * pointer, where reads do not see it).
 */
int zone_model_write_check(const ZoneModel *m, uint64_t offset,
                           uint64_t len, bool append, uint64_t *landed);

/*
 * Reads: any range inside the device is readable (-EINVAL otherwise),
 * except that a range touching an offline zone fails with -EIO.
 */
int zone_model_read(const ZoneModel *m, uint64_t offset, uint64_t len);

/*
 * How many of the len bytes at offset (inside one zone) hold data: those
 * below the write pointer.  All of them in conventional, read-only and
 * finished zones.  null_blk returns ZONE_MODEL_READ_FILL for the rest;
 * data below the write pointer that was never written reads as zeroes.
 */
uint64_t zone_model_readable(const ZoneModel *m, uint64_t offset,
                             uint64_t len);

/*
 * Management of the zones in [offset, offset+len) (one zone or a range
 * for open, close, finish and reset; BLK_ZO_RESET_ALL ignores offset and
 * len).  As with Linux on null_blk:
 * - the range must start on a zone boundary and end on one or at the end
 *   of the device, else -EINVAL and nothing changes;
 * - a reset of the whole device is a reset-all: it resets every
 *   sequential zone that is not empty, read-only or offline, and succeeds
 *   even with conventional zones in the range;
 * - otherwise each zone of the range is handled in order, each one all
 *   or nothing; a failing zone does not stop the others, and the call
 *   returns the error of the last zone that failed (0 if none).
 * *changed (optional, nr_zones bits, not cleared first) gets a bit for
 * every zone whose condition or write pointer changed, including zones
 * implicitly closed to make room.  The caller discards the data of the
 * zones a reset changed.  A finish moves the write pointer of an
 * unfinished zone to its end: the caller that may hold stale data above
 * the old write pointer reads zones[i].wp before the call and discards
 * from there (null_blk reads zeroes there after a finish).
 */
int zone_model_mgmt(ZoneModel *m, BlockZoneOp op, uint64_t offset,
                    uint64_t len, unsigned long *changed);

/*
 * Force a condition (image loading, repair, undo): restore an exact
 * wp+state, keeping the open/closed counters in step but not checking
 * the limits (zone_model_recount() does).  Returns -EINVAL if the
 * combination is impossible: a conventional zone other than NOT_WP, a
 * sequential zone NOT_WP, EMPTY with wp != start, an open zone with wp
 * outside [start, start + cap), CLOSED outside (start, start + cap),
 * FULL with wp other than start + cap or start + length.  For READ_ONLY
 * and OFFLINE, wp is ignored (all ones).
 */
int zone_model_set_zone(ZoneModel *m, uint32_t index, BlockZoneState state,
                        uint64_t wp);

/*
 * The test knob, as null_blk's configfs zone_readonly / zone_offline:
 * state is BLK_ZS_RDONLY or BLK_ZS_OFFLINE.  A zone already in that
 * state returns to EMPTY (returns 1: the caller discards its data, as
 * null_blk does).  Otherwise the zone is first finished as a zone finish
 * would (which may implicitly close another zone; a failure is ignored)
 * and then put in that state (returns 0).  -EINVAL for a conventional
 * zone, an index out of range or another state.  Unlike null_blk, whose
 * counters leak when that finish fails, the zone always stops counting
 * as open or closed.
 */
int zone_model_inject(ZoneModel *m, uint32_t index, BlockZoneState state);

/* Fill descriptors for zones starting at the one containing offset. */
unsigned int zone_model_report(const ZoneModel *m, uint64_t offset,
                               unsigned int nr, BlockZoneDescriptor *zones);

/*
 * Re-derive the open/closed counters from the zone array (after loading),
 * and check them against the limits; -EINVAL when inconsistent: a zone
 * whose start, length, capacity or type does not match the geometry, an
 * impossible state/wp (as zone_model_set_zone()), more open or active
 * zones than the limits allow.  The counters are rebuilt either way.
 */
int zone_model_recount(ZoneModel *m);

#endif /* BLOCK_ZONE_MODEL_H */
