/*
 * virtio-blk wire definitions (virtio 1.2, zoned block device extension of
 * virtio 1.3), written from the specification.  Debian 12's kernel headers
 * predate the zoned fields, so the project carries its own.  All multi-byte
 * fields on the wire are little-endian.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef VIRTIO_BLK_DEFS_H
#define VIRTIO_BLK_DEFS_H

/* Device type */
#define VIRTIO_ID_BLOCK                 2

/* Feature bits */
#define VIRTIO_BLK_F_SIZE_MAX           1
#define VIRTIO_BLK_F_SEG_MAX            2
#define VIRTIO_BLK_F_GEOMETRY           4
#define VIRTIO_BLK_F_RO                 5
#define VIRTIO_BLK_F_BLK_SIZE           6
#define VIRTIO_BLK_F_FLUSH              9
#define VIRTIO_BLK_F_TOPOLOGY           10
#define VIRTIO_BLK_F_CONFIG_WCE         11
#define VIRTIO_BLK_F_MQ                 12
#define VIRTIO_BLK_F_DISCARD            13
#define VIRTIO_BLK_F_WRITE_ZEROES       14
#define VIRTIO_BLK_F_ZONED              17
#define VIRTIO_RING_F_INDIRECT_DESC     28
#define VIRTIO_RING_F_EVENT_IDX         29
#define VIRTIO_F_VERSION_1              32
#define VIRTIO_F_ACCESS_PLATFORM        33

/* Request types */
#define VIRTIO_BLK_T_IN                 0
#define VIRTIO_BLK_T_OUT                1
#define VIRTIO_BLK_T_FLUSH              4
#define VIRTIO_BLK_T_GET_ID             8
#define VIRTIO_BLK_T_DISCARD            11
#define VIRTIO_BLK_T_WRITE_ZEROES       13
#define VIRTIO_BLK_T_ZONE_APPEND        15
#define VIRTIO_BLK_T_ZONE_REPORT        16
#define VIRTIO_BLK_T_ZONE_OPEN          18
#define VIRTIO_BLK_T_ZONE_CLOSE         20
#define VIRTIO_BLK_T_ZONE_FINISH        22
#define VIRTIO_BLK_T_ZONE_RESET         24
#define VIRTIO_BLK_T_ZONE_RESET_ALL     26

/* Status byte */
#define VIRTIO_BLK_S_OK                 0
#define VIRTIO_BLK_S_IOERR              1
#define VIRTIO_BLK_S_UNSUPP             2
#define VIRTIO_BLK_S_ZONE_INVALID_CMD   3
#define VIRTIO_BLK_S_ZONE_UNALIGNED_WP  4
#define VIRTIO_BLK_S_ZONE_OPEN_RESOURCE 5
#define VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE 6

/* Zoned model (config.zoned.model) */
#define VIRTIO_BLK_Z_NONE               0
#define VIRTIO_BLK_Z_HM                 1
#define VIRTIO_BLK_Z_HA                 2

/* Zone descriptor type and state */
#define VIRTIO_BLK_ZT_CONV              1
#define VIRTIO_BLK_ZT_SWR               2
#define VIRTIO_BLK_ZT_SWP               3
#define VIRTIO_BLK_ZS_NOT_WP            0
#define VIRTIO_BLK_ZS_EMPTY             1
#define VIRTIO_BLK_ZS_IOPEN             2
#define VIRTIO_BLK_ZS_EOPEN             3
#define VIRTIO_BLK_ZS_CLOSED            4
#define VIRTIO_BLK_ZS_RDONLY            13
#define VIRTIO_BLK_ZS_FULL              14
#define VIRTIO_BLK_ZS_OFFLINE           15

#define VIRTIO_BLK_ID_BYTES             20

/* Config space; offsets in comments. */
struct virtio_blk_config_le {
    uint64_t capacity;                  /*  0: in 512-byte sectors */
    uint32_t size_max;                  /*  8 */
    uint32_t seg_max;                   /* 12 */
    struct {
        uint16_t cylinders;             /* 16 */
        uint8_t heads;                  /* 18 */
        uint8_t sectors;                /* 19 */
    } geometry;
    uint32_t blk_size;                  /* 20 */
    struct {
        uint8_t physical_block_exp;     /* 24 */
        uint8_t alignment_offset;       /* 25 */
        uint16_t min_io_size;           /* 26 */
        uint32_t opt_io_size;           /* 28 */
    } topology;
    uint8_t writeback;                  /* 32 */
    uint8_t unused0;                    /* 33 */
    uint16_t num_queues;                /* 34 */
    uint32_t max_discard_sectors;       /* 36 */
    uint32_t max_discard_seg;           /* 40 */
    uint32_t discard_sector_alignment;  /* 44 */
    uint32_t max_write_zeroes_sectors;  /* 48 */
    uint32_t max_write_zeroes_seg;      /* 52 */
    uint8_t write_zeroes_may_unmap;     /* 56 */
    uint8_t unused1[3];                 /* 57 */
    uint32_t max_secure_erase_sectors;  /* 60 */
    uint32_t max_secure_erase_seg;      /* 64 */
    uint32_t secure_erase_sector_alignment; /* 68 */
    struct {
        uint32_t zone_sectors;          /* 72 */
        uint32_t max_open_zones;        /* 76 */
        uint32_t max_active_zones;      /* 80 */
        uint32_t max_append_sectors;    /* 84 */
        uint32_t write_granularity;     /* 88: bytes */
        uint8_t model;                  /* 92 */
        uint8_t unused2[3];             /* 93 */
    } zoned;
} __attribute__((packed));              /* 96 bytes */

/* Request header (device-readable), 16 bytes. */
struct virtio_blk_outhdr_le {
    uint32_t type;
    uint32_t ioprio;
    uint64_t sector;
} __attribute__((packed));

/* DISCARD / WRITE_ZEROES segment, 16 bytes. */
struct virtio_blk_discard_write_zeroes_le {
    uint64_t sector;
    uint32_t num_sectors;
    uint32_t flags;                     /* bit 0: unmap */
} __attribute__((packed));

/* ZONE_REPORT reply: header then 64-byte descriptors. */
struct virtio_blk_zone_report_le {
    uint64_t nr_zones;
    uint8_t reserved[56];
} __attribute__((packed));

struct virtio_blk_zone_descriptor_le {
    uint64_t z_cap;                     /* sectors */
    uint64_t z_start;                   /* sectors */
    uint64_t z_wp;                      /* sectors */
    uint8_t z_type;
    uint8_t z_state;
    uint8_t reserved[38];
} __attribute__((packed));

/*
 * ZONE_APPEND: the device-writable trailer is le64 append_sector followed by
 * the status byte (9 bytes); other requests end with the status byte only.
 */

/* Split virtqueue */
#define VRING_DESC_F_NEXT               1
#define VRING_DESC_F_WRITE              2
#define VRING_DESC_F_INDIRECT           4
#define VRING_AVAIL_F_NO_INTERRUPT      1
#define VRING_USED_F_NO_NOTIFY          1

struct vring_desc_le {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
} __attribute__((packed));

struct vring_used_elem_le {
    uint32_t id;
    uint32_t len;
} __attribute__((packed));

#endif /* VIRTIO_BLK_DEFS_H */
