/*
 * The zoned image format: on-disk structures shared by the driver
 * (block/zoned.c), its metadata code (block/zoned-meta.c) and its check
 * (block/zoned-check.c).  docs/zoned-format.md describes the layout and
 * the persistence contract.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_ZONED_INT_H
#define BLOCK_ZONED_INT_H

#include "block/block_int.h"
#include "block/zone-model.h"
#include "block/zone-wp.h"

#define ZONED_MAGIC             "QZONEDIM"
#define ZONED_SLOT_MAGIC        "QZSLOT\0\0"
#define ZONED_VERSION           1
#define ZONED_HEADER_SIZE       4096
#define ZONED_SLOT_HEADER_SIZE  32
#define ZONED_ENTRY_SIZE        24
/* Slots and the data area start on these boundaries. */
#define ZONED_SLOT_ALIGN        4096
#define ZONED_DATA_ALIGN        (1024 * 1024)
/* A slot is written whole at every metadata update: keep it bounded. */
#define ZONED_MAX_ZONES         (1u << 20)

/* Zone entry flags. */
#define ZONED_ENTRY_RESET_PENDING   0x01    /* discard the zone's data */
#define ZONED_ENTRY_FLAGS_KNOWN     ZONED_ENTRY_RESET_PENDING

/* The immutable header: geometry and layout. */
typedef struct ZonedHeader {
    uint32_t version;
    uint32_t block_size;
    uint64_t disk_size;
    uint64_t zone_size;
    uint64_t zone_capacity;
    uint32_t nr_zones;
    uint32_t nr_conv;
    uint32_t max_open;
    uint32_t max_active;
    uint64_t max_append;
    uint64_t slot_offset[2];
    uint64_t slot_size;
    uint64_t data_offset;
} ZonedHeader;

/* One zone of a metadata slot. */
typedef struct ZonedEntry {
    uint64_t wp;            /* as the zone model reports it */
    uint64_t data_end;      /* written data of the zone ends here */
    uint8_t cond;           /* BlockZoneState */
    uint8_t flags;          /* ZONED_ENTRY_* */
} ZonedEntry;

/* Bitmaps of zones, as zone_model_mgmt() fills them. */
#define ZONED_BITS_PER_LONG (sizeof(unsigned long) * 8)

static inline unsigned long *zoned_bitmap_new(uint32_t nbits)
{
    return g_new0(unsigned long, DIV_ROUND_UP(nbits, ZONED_BITS_PER_LONG));
}

static inline bool zoned_test_bit(const unsigned long *map, uint32_t i)
{
    return (map[i / ZONED_BITS_PER_LONG] >> (i % ZONED_BITS_PER_LONG)) & 1;
}

static inline void zoned_set_bit(unsigned long *map, uint32_t i)
{
    map[i / ZONED_BITS_PER_LONG] |= 1ul << (i % ZONED_BITS_PER_LONG);
}

static inline bool zoned_is_zero(const uint8_t *buf, size_t len)
{
    return len == 0 || (buf[0] == 0 && !memcmp(buf, buf + 1, len - 1));
}

/* ---- zoned-meta.c ---- */

uint32_t zoned_crc32c(uint32_t crc, const void *buf, size_t len);

/* The model geometry of a header. */
void zoned_header_geometry(const ZonedHeader *h, ZoneModelGeometry *geo);
/*
 * Check the geometry (errors name the value and the rule) and fill in
 * nr_zones and the layout: slots after the header, the data area after
 * the slots.
 */
bool zoned_header_layout(ZonedHeader *h, Error **errp);
void zoned_header_encode(const ZonedHeader *h, uint8_t *buf);
/*
 * Decode and validate a header block: magic, version, checksum, geometry,
 * layout.  file_len (< 0: unknown) must hold the slots.  Errors name the
 * image and what is wrong.
 */
bool zoned_header_decode(const uint8_t *buf, int64_t file_len,
                         const char *name, ZonedHeader *h, Error **errp);

/* Bytes of a slot that carry data (header + table). */
size_t zoned_slot_used(uint32_t nr_zones);
void zoned_slot_encode(const ZonedHeader *h, uint64_t generation,
                       const ZonedEntry *entries, uint8_t *buf);
/*
 * Decode slot buf (h->slot_size bytes) into entries (h->nr_zones).  On
 * failure *reason says why, in words (the caller frees it).
 */
bool zoned_slot_decode(const ZonedHeader *h, const uint8_t *buf,
                       uint64_t *generation, ZonedEntry *entries,
                       char **reason);
/* Is entry i possible for the geometry?  NULL if so, else why. */
char *zoned_entry_check(const ZonedHeader *h, uint32_t i,
                        const ZonedEntry *e);

/* Zone i: start, length and capacity in bytes. */
static inline uint64_t zoned_zone_start(const ZonedHeader *h, uint32_t i)
{
    return (uint64_t)i * h->zone_size;
}

static inline uint64_t zoned_zone_len(const ZonedHeader *h, uint32_t i)
{
    return MIN(h->zone_size, h->disk_size - zoned_zone_start(h, i));
}

static inline uint64_t zoned_zone_cap(const ZonedHeader *h, uint32_t i)
{
    return MIN(h->zone_capacity, zoned_zone_len(h, i));
}

/* ---- the driver state (zoned.c) ---- */

typedef enum ZonedResetState {
    ZONED_RESET_NONE,
    ZONED_RESET_PENDING,    /* the zone's data must still be discarded */
    ZONED_RESET_DISCARDED,  /* discarded; durable after the next flush */
} ZonedResetState;

typedef struct ZonedZone {
    uint64_t data_end;      /* completed writes end here (absolute) */
    bool writing;           /* a data write is in flight */
    ZonedResetState reset;
} ZonedZone;

/* Something open or check found, for check to report. */
typedef struct ZonedFinding {
    char *msg;
    bool corruption;        /* else a leak: harmless, repairable */
    bool fixed;
} ZonedFinding;

typedef struct BDRVZonedState {
    ZonedHeader hdr;
    ZoneModel model;
    bool model_ready;
    ZonedZone *zones;
    ZoneWpTracker *wp;
    unsigned int zone_shift;

    CoMutex meta_lock;      /* metadata writes and resets */
    uint64_t generation;    /* of the newest slot on disk */
    bool dirty;             /* the in-memory state differs from it */
    uint64_t snap_started;  /* snapshots taken */
    uint64_t snap_durable;  /* the newest snapshot known durable */
    uint8_t *slot_buf;      /* slot_size bytes, aligned */

    GPtrArray *findings;    /* ZonedFinding *, from open */
    int bad_slot;           /* the slot open found invalid (-1: none) */
} BDRVZonedState;

static inline bool zoned_is_seq_state_writable(BlockZoneState st)
{
    return st == BLK_ZS_EMPTY || st == BLK_ZS_IOPEN || st == BLK_ZS_EOPEN ||
           st == BLK_ZS_CLOSED;
}

/* Run fn in a coroutine (directly when already in one). */
int zoned_run_co(BlockDriverState *bs,
                 int (*fn)(BlockDriverState *bs, void *opaque),
                 void *opaque);
/* Write the next metadata slot now (takes meta_lock). */
int coroutine_fn zoned_persist(BlockDriverState *bs);

/* ---- zoned-check.c ---- */
int zoned_check(BlockDriverState *bs, BdrvCheckResult *res,
                BdrvCheckMode fix);

#endif /* BLOCK_ZONED_INT_H */
