/*
 * file-posix on zoned host block devices: the zoned model and geometry
 * from sysfs, zone report (BLKREPORTZONE) and management (BLKOPENZONE,
 * BLKCLOSEZONE, BLKFINISHZONE, BLKRESETZONE) on thread-pool workers, and
 * the write-pointer tracker (block/zone-wp.c) over the node's own write
 * path, which emulates zone append (Linux has none for user space).
 *
 * Built only when linux/blkzoned.h exists (CONFIG_BLKZONED).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <sys/ioctl.h>
#include <sys/sysmacros.h>
#include <linux/fs.h>
#include <linux/blkzoned.h>
#include "block/thread-pool.h"
#include "block/zone-wp.h"
#include "qapi/error.h"
#include "raw-aio.h"

/* Zones asked for per BLKREPORTZONE call (64 bytes each). */
#define RAW_ZONED_REPORT_CHUNK 1024

struct RawZoned {
    int fd;
    BlockLimits bl;             /* the zoned fields */
    RawZonedWriteFunc *write;
    void *opaque;
    ZoneWpTracker *wp;
};

/* ---- sysfs ---- */

/*
 * Attribute attr of the queue of the device st, or NULL.  *of_parent says
 * whether it came from the disk of a partition (partitions have no queue
 * directory of their own).
 */
static char *raw_zoned_sysfs(const struct stat *st, const char *attr,
                             bool *of_parent)
{
    static const char *const dirs[] = { "", "../" };

    for (size_t i = 0; i < ARRAY_SIZE(dirs); i++) {
        g_autofree char *path = g_strdup_printf(
            "/sys/dev/block/%u:%u/%squeue/%s", major(st->st_rdev),
            minor(st->st_rdev), dirs[i], attr);
        char *text = NULL;

        if (g_file_get_contents(path, &text, NULL, NULL)) {
            g_strstrip(text);
            if (of_parent) {
                *of_parent = i > 0;
            }
            return text;
        }
    }
    return NULL;
}

/* A number attribute; false if it is missing or not a number. */
static bool raw_zoned_sysfs_u64(const struct stat *st, const char *attr,
                                uint64_t *val)
{
    g_autofree char *text = raw_zoned_sysfs(st, attr, NULL);
    char *end;

    if (!text || !*text) {
        return false;
    }
    errno = 0;
    *val = g_ascii_strtoull(text, &end, 10);
    return errno == 0 && *end == '\0';
}

int raw_zoned_probe(int fd, const struct stat *st, const char *filename,
                    BlockLimits *bl, Error **errp)
{
    g_autofree char *model = NULL;
    bool of_parent = false;
    uint64_t v;
    uint32_t nr = 0;

    bl->zoned = BLK_Z_NONE;
    if (!S_ISBLK(st->st_mode)) {
        return 0;
    }
    model = raw_zoned_sysfs(st, "zoned", &of_parent);
    if (!model) {
        return 0;       /* no such attribute: an old kernel, not zoned */
    }
    if (strcmp(model, "host-managed") == 0) {
        bl->zoned = BLK_Z_HM;
    } else if (strcmp(model, "host-aware") == 0) {
        bl->zoned = BLK_Z_HA;
    } else {
        return 0;       /* "none" */
    }
    if (of_parent) {
        /* Zone starts would be the disk's, not the partition's. */
        error_setg(errp, "'%s' is a partition of a zoned (%s) disk; zoned "
                   "partitions are not supported", filename, model);
        bl->zoned = BLK_Z_NONE;
        return -ENOTSUP;
    }

    if (!raw_zoned_sysfs_u64(st, "chunk_sectors", &v) || v == 0 ||
        (v & (v - 1)) || v > (UINT64_MAX >> BDRV_SECTOR_BITS)) {
        error_setg(errp, "'%s' is a zoned (%s) device, but its zone size "
                   "(queue/chunk_sectors) is missing or not a power of two",
                   filename, model);
        bl->zoned = BLK_Z_NONE;
        return -ENOTSUP;
    }
    bl->zone_size = v << BDRV_SECTOR_BITS;

    if (raw_zoned_sysfs_u64(st, "nr_zones", &v) && v > 0 && v <= UINT32_MAX) {
        bl->nr_zones = v;
    } else if (ioctl(fd, BLKGETNRZONES, &nr) == 0) {
        bl->nr_zones = nr;
    }
    if (raw_zoned_sysfs_u64(st, "max_open_zones", &v) && v <= UINT32_MAX) {
        bl->max_open_zones = v;
    }
    if (raw_zoned_sysfs_u64(st, "max_active_zones", &v) &&
        v <= UINT32_MAX) {
        bl->max_active_zones = v;
    }
    if (raw_zoned_sysfs_u64(st, "zone_append_max_bytes", &v)) {
        bl->max_append_bytes = MIN(v, bl->zone_size);
    }
    if (raw_zoned_sysfs_u64(st, "logical_block_size", &v) &&
        v > 0 && v <= UINT32_MAX) {
        bl->logical_block_size = v;
    } else {
        bl->logical_block_size = BDRV_SECTOR_SIZE;
    }
    if (raw_zoned_sysfs_u64(st, "physical_block_size", &v) &&
        v > 0 && v <= UINT32_MAX) {
        bl->physical_block_size = v;
    }
    /* Linux 5.16+; before, writes had to be logical blocks. */
    if (raw_zoned_sysfs_u64(st, "zone_write_granularity", &v) &&
        v > 0 && v <= UINT32_MAX) {
        bl->write_granularity = v;
    } else {
        bl->write_granularity = bl->logical_block_size;
    }
    bl->max_append_bytes = QEMU_ALIGN_DOWN(bl->max_append_bytes,
                                           bl->write_granularity);
    return 0;
}

/* ---- the ioctls (run on thread-pool workers, or at open) ---- */

/*
 * A kernel zone in bytes.  Read-only and offline zones have no write
 * pointer (null_blk reports all ones): that stays all ones, not a
 * shifted-out value.
 */
static void raw_zoned_from_blk(const struct blk_zone *bz, bool has_cap,
                               BlockZoneDescriptor *d)
{
    *d = (BlockZoneDescriptor) {
        .start = bz->start << BDRV_SECTOR_BITS,
        .length = bz->len << BDRV_SECTOR_BITS,
        .cap = (has_cap ? bz->capacity : bz->len) << BDRV_SECTOR_BITS,
        .wp = bz->wp > (UINT64_MAX >> BDRV_SECTOR_BITS)
              ? UINT64_MAX : bz->wp << BDRV_SECTOR_BITS,
        .type = bz->type,
        .state = bz->cond,
    };
}

/* Up to *nr zones from the one containing offset; *nr returns the count. */
static int raw_zoned_do_report(int fd, uint64_t offset, unsigned int *nr,
                               BlockZoneDescriptor *zones)
{
    unsigned int chunk = MIN(*nr, RAW_ZONED_REPORT_CHUNK);
    g_autofree struct blk_zone_report *rep =
        g_malloc(sizeof(*rep) + chunk * sizeof(struct blk_zone));
    uint64_t sector = offset >> BDRV_SECTOR_BITS;
    unsigned int done = 0;
    int ret = 0;

    while (done < *nr) {
        struct blk_zone *last;

        memset(rep, 0, sizeof(*rep));
        rep->sector = sector;
        rep->nr_zones = MIN(*nr - done, chunk);
        if (ioctl(fd, BLKREPORTZONE, rep) < 0) {
            if (errno == EINTR) {
                continue;
            }
            ret = -errno;
            break;
        }
        if (rep->nr_zones == 0) {
            break;      /* past the last zone */
        }
        for (unsigned int i = 0; i < rep->nr_zones; i++) {
            raw_zoned_from_blk(&rep->zones[i],
                               rep->flags & BLK_ZONE_REP_CAPACITY,
                               &zones[done + i]);
        }
        done += rep->nr_zones;
        last = &rep->zones[rep->nr_zones - 1];
        sector = last->start + last->len;
    }
    *nr = done;
    return ret;
}

static int raw_zoned_do_mgmt(int fd, BlockZoneOp op, uint64_t offset,
                             uint64_t len)
{
    struct blk_zone_range range = {
        .sector = offset >> BDRV_SECTOR_BITS,
        .nr_sectors = len >> BDRV_SECTOR_BITS,
    };
    unsigned long req;
    int ret;

    switch (op) {
    case BLK_ZO_OPEN:
        req = BLKOPENZONE;
        break;
    case BLK_ZO_CLOSE:
        req = BLKCLOSEZONE;
        break;
    case BLK_ZO_FINISH:
        req = BLKFINISHZONE;
        break;
    case BLK_ZO_RESET:
    case BLK_ZO_RESET_ALL:  /* the whole device: the kernel resets all */
        req = BLKRESETZONE;
        break;
    default:
        return -EINVAL;
    }
    do {
        ret = ioctl(fd, req, &range);
    } while (ret < 0 && errno == EINTR);
    return ret < 0 ? -errno : 0;
}

typedef struct RawZonedWork {
    int fd;
    bool report;
    BlockZoneOp op;
    uint64_t offset;
    uint64_t len;
    unsigned int *nr;
    BlockZoneDescriptor *zones;
} RawZonedWork;

static int raw_zoned_work(void *opaque)
{
    RawZonedWork *w = opaque;

    if (w->report) {
        return raw_zoned_do_report(w->fd, w->offset, w->nr, w->zones);
    }
    return raw_zoned_do_mgmt(w->fd, w->op, w->offset, w->len);
}

/* ---- the tracker's device ---- */

static int coroutine_fn raw_zoned_dev_pwritev(void *opaque, int64_t offset,
                                              QEMUIOVector *qiov)
{
    RawZoned *z = opaque;

    return z->write(z->opaque, offset, qiov);
}

static int coroutine_fn raw_zoned_dev_report(void *opaque, int64_t offset,
                                             unsigned int *nr_zones,
                                             BlockZoneDescriptor *zones)
{
    RawZoned *z = opaque;
    RawZonedWork w = {
        .fd = z->fd, .report = true, .offset = offset, .nr = nr_zones,
        .zones = zones,
    };

    return thread_pool_submit_co(raw_zoned_work, &w);
}

static int coroutine_fn raw_zoned_dev_mgmt(void *opaque, BlockZoneOp op,
                                           int64_t offset, int64_t len)
{
    RawZoned *z = opaque;
    RawZonedWork w = {
        .fd = z->fd, .op = op, .offset = offset, .len = len,
    };

    return thread_pool_submit_co(raw_zoned_work, &w);
}

static const ZoneWpOps raw_zoned_ops = {
    .pwritev = raw_zoned_dev_pwritev,
    .report = raw_zoned_dev_report,
    .mgmt = raw_zoned_dev_mgmt,
};

/* ---- open / close ---- */

RawZoned *raw_zoned_open(int fd, const char *filename, const BlockLimits *bl,
                         uint64_t max_transfer, int max_iov,
                         RawZonedWriteFunc *write, void *opaque,
                         Error **errp)
{
    g_autofree BlockZoneDescriptor *zones = NULL;
    Error *local_err = NULL;
    RawZoned *z;
    uint64_t length, cap = 0;
    unsigned int nr;
    int ret;

    if (ioctl(fd, BLKGETSIZE64, &length) < 0) {
        error_setg_errno(errp, errno, "Could not get the size of '%s'",
                         filename);
        return NULL;
    }
    nr = DIV_ROUND_UP(length, bl->zone_size);
    if (nr == 0 || (bl->nr_zones && nr != bl->nr_zones)) {
        error_setg(errp, "'%s' has %u zones (queue/nr_zones), but its size "
                   "of %" PRIu64 " bytes in zones of %" PRIu64 " bytes "
                   "makes %u", filename, bl->nr_zones, length,
                   bl->zone_size, nr);
        return NULL;
    }

    /* Blocking, once, like the other probes at open. */
    zones = g_new(BlockZoneDescriptor, nr);
    ret = raw_zoned_do_report(fd, 0, &nr, zones);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not report the zones of '%s'",
                         filename);
        return NULL;
    }

    z = g_new0(RawZoned, 1);
    z->fd = fd;
    z->bl = *bl;
    z->bl.nr_zones = nr;
    z->write = write;
    z->opaque = opaque;
    z->wp = zone_wp_new(&(ZoneWpConfig) {
                            .zone_size = bl->zone_size,
                            .length = length,
                            .max_append_bytes = bl->max_append_bytes,
                            .write_granularity = bl->write_granularity,
                            .max_transfer = max_transfer,
                            .max_iov = max_iov,
                        }, &raw_zoned_ops, z, zones, nr, &local_err);
    if (!z->wp) {
        error_propagate_prepend(errp, local_err, "'%s': ", filename);
        g_free(z);
        return NULL;
    }

    /* The capacity, if the sequential zones of full length share one. */
    for (unsigned int i = 0; i < nr; i++) {
        if (zones[i].type == BLK_ZT_CONV || zones[i].length != bl->zone_size) {
            continue;
        }
        if (cap && zones[i].cap != cap) {
            cap = 0;
            break;
        }
        cap = zones[i].cap;
    }
    z->bl.zone_capacity = cap;
    return z;
}

void raw_zoned_close(RawZoned *z)
{
    if (z) {
        zone_wp_free(z->wp);
        g_free(z);
    }
}

void raw_zoned_get_limits(RawZoned *z, BlockLimits *bl)
{
    bl->zoned = z->bl.zoned;
    bl->zone_size = z->bl.zone_size;
    bl->zone_capacity = z->bl.zone_capacity;
    bl->nr_zones = z->bl.nr_zones;
    bl->max_open_zones = z->bl.max_open_zones;
    bl->max_active_zones = z->bl.max_active_zones;
    bl->max_append_bytes = z->bl.max_append_bytes;
    bl->write_granularity = z->bl.write_granularity;
}

ZoneWpTracker *raw_zoned_tracker(RawZoned *z)
{
    return z->wp;
}

/* ---- requests ---- */

int coroutine_fn raw_zoned_pwritev(RawZoned *z, int64_t offset,
                                   QEMUIOVector *qiov)
{
    return zone_wp_pwritev(z->wp, offset, qiov);
}

int coroutine_fn raw_zoned_append(RawZoned *z, int64_t *offset,
                                  QEMUIOVector *qiov)
{
    return zone_wp_append(z->wp, offset, qiov);
}

int coroutine_fn raw_zoned_mgmt(RawZoned *z, BlockZoneOp op, int64_t offset,
                                int64_t len)
{
    return zone_wp_mgmt(z->wp, op, offset, len);
}

/* Straight from the device: the cache holds write pointers only. */
int coroutine_fn raw_zoned_report(RawZoned *z, int64_t offset,
                                  unsigned int *nr_zones,
                                  BlockZoneDescriptor *zones)
{
    RawZonedWork w = {
        .fd = z->fd, .report = true, .offset = offset, .nr = nr_zones,
        .zones = zones,
    };

    if (*nr_zones == 0) {
        return 0;
    }
    return thread_pool_submit_co(raw_zoned_work, &w);
}
