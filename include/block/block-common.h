/*
 * Types shared by the public block API, the driver interface and the tools.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_COMMON_H
#define BLOCK_COMMON_H

#include "block/aio.h"
#include "qemu/iov.h"

typedef struct BlockDriver BlockDriver;
typedef struct BlockDriverState BlockDriverState;
typedef struct BdrvChild BdrvChild;
typedef struct BlockBackend BlockBackend;
typedef struct BlockLimits BlockLimits;
typedef struct QDict QDict;

/* Flags of a single request. */
typedef enum {
    BDRV_REQ_ZERO_WRITE   = 0x2,  /* write zeroes; qiov is NULL */
    BDRV_REQ_MAY_UNMAP    = 0x4,  /* zeroes may be written by deallocating */
    BDRV_REQ_FUA          = 0x10, /* durable when the request completes */
    BDRV_REQ_NO_FALLBACK  = 0x100,/* write-zeroes only if fast, else -ENOTSUP */
    BDRV_REQ_SERIALISING  = 0x200,/* wait for overlapping requests (RMW) */
    BDRV_REQ_MASK         = 0x3ff,
} BdrvRequestFlags;

/* Open flags (BlockDriverState.open_flags). */
#define BDRV_O_RDWR       0x0002  /* open for writing */
#define BDRV_O_NOCACHE    0x0020  /* O_DIRECT: bypass the host page cache */
#define BDRV_O_NO_FLUSH   0x0200  /* flush is a no-op (cache.no-flush=on) */
/*
 * Default I/O backend for protocol nodes that do not set "aio" themselves
 * (qemu-io -i).  Neither flag: the thread pool.
 */
#define BDRV_O_NATIVE_AIO 0x0080  /* aio=native (Linux AIO) */
#define BDRV_O_IO_URING   0x40000 /* aio=io_uring */

/*
 * Block status flags (bdrv_block_status()).
 *   DATA          reads return data from this layer or below
 *   ZERO          reads return zeroes
 *   OFFSET_VALID  *map holds the offset of the data in *file
 *   RAW           (drivers only) ask the core to query *file at *map
 *   ALLOCATED     the layer itself holds the content (not a backing file)
 *   EOF           the range reaches the end of the image
 */
#define BDRV_BLOCK_DATA          0x01
#define BDRV_BLOCK_ZERO          0x02
#define BDRV_BLOCK_OFFSET_VALID  0x04
#define BDRV_BLOCK_RAW           0x08
#define BDRV_BLOCK_ALLOCATED     0x10
#define BDRV_BLOCK_EOF           0x20

/* Largest request the block layer accepts (as QEMU: 2 GiB - alignment). */
#define BDRV_REQUEST_MAX_BYTES   (INT32_MAX & ~(int64_t)(BDRV_SECTOR_SIZE - 1))

typedef enum {
    PREALLOC_MODE_OFF,
    PREALLOC_MODE_FULL,   /* write zeroes into the new area */
} PreallocMode;

/* One "-o" creation option, for qemu-img create -o help. */
typedef enum {
    BLOCK_OPT_SIZE,        /* size with suffixes */
    BLOCK_OPT_NUMBER,
    BLOCK_OPT_BOOL,
    BLOCK_OPT_STRING,
} BlockCreateOptionType;

typedef struct BlockCreateOptionDesc {
    const char *name;
    BlockCreateOptionType type;
    const char *help;
    const char *def_value_str;   /* printed as the default, may be NULL */
} BlockCreateOptionDesc;

typedef enum {
    BDRV_FIX_NONE = 0,
    BDRV_FIX_LEAKS = 1,
    BDRV_FIX_ERRORS = 2,
} BdrvCheckMode;

/* Result of bdrv_check(): counts plus one human-readable line per finding. */
typedef struct BdrvCheckResult {
    int corruptions;
    int leaks;
    int check_errors;
    int corruptions_fixed;
    int leaks_fixed;
    GPtrArray *messages;         /* char *, owned; may be NULL */
} BdrvCheckResult;

typedef struct BlockDriverInfo {
    int cluster_size;
    int64_t vm_state_offset;
} BlockDriverInfo;

/* ---- Zoned storage ---- */

/* Zone management operations. */
typedef enum BlockZoneOp {
    BLK_ZO_OPEN,
    BLK_ZO_CLOSE,
    BLK_ZO_FINISH,
    BLK_ZO_RESET,
    BLK_ZO_RESET_ALL,   /* offset 0, len = device length */
} BlockZoneOp;

typedef enum BlockZoneModel {
    BLK_Z_NONE = 0x0,   /* not zoned */
    BLK_Z_HM   = 0x1,   /* host-managed */
    BLK_Z_HA   = 0x2,   /* host-aware */
} BlockZoneModel;

/* Zone conditions, with the kernel's numeric values (BLK_ZONE_COND_*). */
typedef enum BlockZoneState {
    BLK_ZS_NOT_WP  = 0x0,
    BLK_ZS_EMPTY   = 0x1,
    BLK_ZS_IOPEN   = 0x2,
    BLK_ZS_EOPEN   = 0x3,
    BLK_ZS_CLOSED  = 0x4,
    BLK_ZS_RDONLY  = 0xD,
    BLK_ZS_FULL    = 0xE,
    BLK_ZS_OFFLINE = 0xF,
} BlockZoneState;

/* Zone types, with the kernel's numeric values (BLK_ZONE_TYPE_*). */
typedef enum BlockZoneType {
    BLK_ZT_CONV = 0x1,  /* conventional */
    BLK_ZT_SWR  = 0x2,  /* sequential write required */
    BLK_ZT_SWP  = 0x3,  /* sequential write preferred */
} BlockZoneType;

/* One zone, in bytes. */
typedef struct BlockZoneDescriptor {
    uint64_t start;
    uint64_t length;
    uint64_t cap;       /* writable bytes from start (<= length) */
    uint64_t wp;        /* absolute byte offset of the write pointer */
    BlockZoneType type;
    BlockZoneState state;
} BlockZoneDescriptor;

/*
 * Per-device write-pointer array, kept by the protocol node of a zoned
 * device.  wp[i] is the absolute byte offset of zone i's write pointer with
 * flags in the top bits.  Defined values for special zones: conventional
 * zones carry BLK_ZONE_WP_CONV (and their start), full and read-only zones
 * sit at their end (start + length), offline zones carry BLK_ZONE_WP_OFFLINE.
 */
#define BLK_ZONE_WP_CONV     (1ULL << 63)
#define BLK_ZONE_WP_OFFLINE  (1ULL << 62)
#define BLK_ZONE_WP_RDONLY   (1ULL << 61)
#define BLK_ZONE_WP_FLAGS    (BLK_ZONE_WP_CONV | BLK_ZONE_WP_OFFLINE | \
                              BLK_ZONE_WP_RDONLY)
typedef struct BlockZoneWps {
    unsigned int nr_zones;
    uint64_t wp[];
} BlockZoneWps;

/*
 * Limits of a node.  Drivers fill them in bdrv_refresh_limits(); the core
 * first seeds them from the node's children (the strictest of each), so a
 * format node inherits alignment and transfer limits of its file.
 * 0 means "no limit" / "default" unless stated otherwise.  Defined here,
 * not in block_int.h, because tools read them (blk_get_zone_limits()).
 */
struct BlockLimits {
    /* Offsets and lengths of requests sent to the driver are multiples of
     * this (the core bounces and RMWs the rest).  Never 0; default 1. */
    uint32_t request_alignment;
    /* Largest request sent to the driver in bytes; larger ones are split. */
    uint64_t max_transfer;
    /* Preferred request size (informational). */
    uint32_t opt_transfer;
    /*
     * Memory alignment required (O_DIRECT); 0 = 1.  When > 1, every iovec
     * element the driver gets starts at a multiple of it and is a multiple
     * of request_alignment long (the kernel's rule for direct I/O).
     */
    size_t min_mem_alignment;
    /* Alignment the core uses for bounce buffers. */
    size_t opt_mem_alignment;
    /* Most iovec entries per request; 0 = IOV_MAX. */
    int max_iov;
    uint64_t max_pdiscard;
    uint32_t pdiscard_alignment;
    uint64_t max_pwrite_zeroes;
    uint32_t pwrite_zeroes_alignment;
    /*
     * Block sizes of the underlying device (BLKSSZGET/BLKPBSZGET on a host
     * block device), for device models; 0 = unknown (e.g. a regular file).
     */
    uint32_t logical_block_size;
    uint32_t physical_block_size;

    /*
     * Zoned geometry (all bytes).  Propagated from a zoned child to its
     * parents: a format node over a zoned child is zoned with the same
     * geometry.  raw's window must be whole zones, so only its nr_zones
     * differs.  The core checks zone_size (a power of two, a multiple of
     * request_alignment) and defaults write_granularity to
     * request_alignment.
     */
    BlockZoneModel zoned;
    uint64_t zone_size;          /* power of two */
    uint64_t zone_capacity;      /* if uniform across zones, else 0 */
    uint32_t nr_zones;
    uint32_t max_open_zones;     /* 0 = no limit */
    uint32_t max_active_zones;   /* 0 = no limit */
    uint64_t max_append_bytes;   /* largest zone append; 0 = a zone */
    uint32_t write_granularity;  /* writes are multiples of this */
};

const char *block_zone_state_name(BlockZoneState state);
const char *block_zone_type_name(BlockZoneType type);
const char *block_zone_model_name(BlockZoneModel model);

#endif /* BLOCK_COMMON_H */
