/*
 * The virtio-blk device model (include/block/export/virtio-blk.h): request
 * parsing and validation, each request a coroutine through the
 * BlockBackend, completion into the used ring with deferred interrupts,
 * the config space, and the zoned extension with status codes that say
 * what went wrong.
 *
 * Status decisions (docs/design.md, "Exports"):
 * - the chain (header, status byte, data lengths, sector range) is checked
 *   before anything reaches the node: IOERR;
 * - zone rules that need only the geometry (zone start, append size,
 *   crossing a zone, write granularity) are checked before the call too;
 * - the block layer reports a zone-state violation as EIO, like a media
 *   error.  Only when a zoned write, append, management call or read fails
 *   with EIO is the zone reported (one-zone report) to tell them apart: a
 *   failed call changes no zone, so its state shows why it was refused.
 *   Nothing is paid on the fast path.
 *
 * Every device-writable byte before the status is written: data, zeroes
 * (failed reads, unused report space, GET_ID padding, writable bytes of
 * requests that carry no data in), so the used length is always the whole
 * writable part and no stale bytes are ever claimed as written.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block_int.h"
#include "block/export/virtio-blk.h"
#include "block/export/virtqueue.h"
#include "qemu/coroutine.h"
#include "qapi/error.h"

#define VBLK_MAX_QUEUES         1024
#define VBLK_SIZE_MAX           (1024 * 1024)   /* bytes per segment */
#define VBLK_SEG_MAX_CAP        1022
#define VBLK_MAX_DISCARD_SEG    32
#define VBLK_HDR_SIZE           16
#define VBLK_REPORT_BATCH       64
#define VBLK_SECTOR             512

typedef struct VirtioBlkQueue {
    VirtioBlkDev *dev;
    unsigned int index;
    VirtQueue vq;
    bool setup;
    bool enabled;
    bool notify_pending;        /* used entries added since the last check */
} VirtioBlkQueue;

struct VirtioBlkDev {
    BlockBackend *blk;
    AioContext *ctx;
    const VirtioBlkTransportOps *ops;
    void *opaque;

    unsigned int num_queues;
    unsigned int queue_size;
    bool writable;
    char id[VIRTIO_BLK_ID_BYTES];

    uint32_t lbs;               /* logical block size */
    uint64_t length;            /* bytes exported */
    uint64_t capacity;          /* 512-byte sectors */
    uint64_t max_request;       /* largest data transfer, bytes */
    uint32_t max_discard_sectors;
    uint32_t max_wz_sectors;

    bool zoned;
    uint64_t zone_size;
    uint32_t wg;                /* write granularity */
    uint64_t max_append;        /* bytes */

    uint64_t features;
    uint64_t driver_features;
    struct virtio_blk_config_le config;
    size_t config_size;

    VirtioBlkQueue *queues;
    unsigned int inflight;
    QEMUBH *notify_bh;
    bool broken;
    const char *broken_reason;
    VirtioBlkStats stats;
};

typedef enum {
    VBLK_OP_READ,
    VBLK_OP_WRITE,
    VBLK_OP_APPEND,
    VBLK_OP_MGMT,
} VirtioBlkOpKind;

typedef struct VirtioBlkReq {
    VirtioBlkDev *dev;
    VirtioBlkQueue *q;
    VirtQueueElement *elem;
    uint32_t type;
    uint64_t sector;
    size_t trailer;             /* status (1) or append_sector + status (9) */
    bool data_in;               /* the data part is device-writable */
    QEMUIOVector data;
    uint64_t append_sector;
} VirtioBlkReq;

static uint64_t bit(unsigned int n)
{
    return 1ULL << n;
}

static bool vblk_has(VirtioBlkDev *dev, unsigned int feature)
{
    return dev->driver_features & bit(feature);
}

/* ---- interrupts, broken state ---- */

static void vblk_notify_bh(void *opaque)
{
    VirtioBlkDev *dev = opaque;

    for (unsigned int i = 0; i < dev->num_queues; i++) {
        VirtioBlkQueue *q = &dev->queues[i];

        if (q->notify_pending) {
            q->notify_pending = false;
            if (virtqueue_should_notify(&q->vq)) {
                dev->stats.notifications++;
                dev->ops->notify(dev->opaque, i);
            }
        }
    }
}

static void vblk_set_broken(VirtioBlkDev *dev, const char *reason)
{
    if (dev->broken) {
        return;
    }
    dev->broken = true;
    dev->broken_reason = reason;
    if (dev->ops->needs_reset) {
        dev->ops->needs_reset(dev->opaque);
    }
}

/* ---- completion ---- */

static void vblk_push(VirtioBlkQueue *q, VirtQueueElement *elem,
                      uint32_t len, uint8_t status)
{
    VirtioBlkDev *dev = q->dev;

    if (status != VIRTIO_BLK_S_OK) {
        dev->stats.errors++;
    }
    virtqueue_push(&q->vq, elem, len);
    q->notify_pending = true;
    /* Batched: completions of one event-loop round share an interrupt. */
    qemu_bh_schedule(dev->notify_bh);
    g_free(elem);
}

static void vblk_complete(VirtioBlkReq *req, uint8_t status)
{
    VirtQueueElement *elem = req->elem;
    size_t in_len = elem->in_len;
    size_t body = in_len - req->trailer;

    if (!req->data_in) {
        /* Writable bytes that carry nothing: zeroes, not stale memory. */
        iov_memset(elem->in_sg, elem->in_num, 0, 0, body);
    } else if (status != VIRTIO_BLK_S_OK) {
        iov_memset(elem->in_sg, elem->in_num, 0, 0, body);
    }
    /*
     * The append sector goes at offset 0 of the writable part: Linux sends
     * a 16-byte in-header (sector, padding, status last); with the packed
     * 9 bytes of the spec offset 0 is the same place.
     */
    if (req->trailer == 9) {
        uint64_t s = GUINT64_TO_LE(status == VIRTIO_BLK_S_OK ?
                                   req->append_sector : 0);

        iov_from_buf(elem->in_sg, elem->in_num, 0, &s, 8);
    }
    iov_from_buf(elem->in_sg, elem->in_num, in_len - 1, &status, 1);
    qemu_iovec_destroy(&req->data);
    vblk_push(req->q, elem, in_len, status);
    req->dev->inflight--;
    g_free(req);
}

/* ---- zone state lookups (error paths and rare requests only) ---- */

static int coroutine_fn vblk_co_zone_of(VirtioBlkDev *dev, uint64_t offset,
                                        BlockZoneDescriptor *z)
{
    unsigned int nr = 1;
    int ret = blk_co_zone_report(dev->blk, offset, &nr, z);

    if (ret < 0) {
        return ret;
    }
    return nr == 1 && offset >= z->start && offset - z->start < z->length ?
           0 : -EIO;
}

/*
 * Look at every zone of [offset, offset + len): are they all conventional,
 * is one of them offline?
 */
static int coroutine_fn vblk_co_zone_scan(VirtioBlkDev *dev, uint64_t offset,
                                          uint64_t len, bool *all_conv,
                                          bool *any_offline)
{
    BlockZoneDescriptor zones[16];
    uint64_t end = offset + len;

    *all_conv = true;
    *any_offline = false;
    while (offset < end) {
        unsigned int nr = ARRAY_SIZE(zones);
        int ret = blk_co_zone_report(dev->blk, offset, &nr, zones);
        uint64_t next;

        if (ret < 0) {
            return ret;
        }
        if (nr == 0) {
            return -EIO;
        }
        for (unsigned int i = 0; i < nr && zones[i].start < end; i++) {
            *all_conv &= zones[i].type == BLK_ZT_CONV;
            *any_offline |= zones[i].state == BLK_ZS_OFFLINE;
        }
        next = zones[nr - 1].start + zones[nr - 1].length;
        if (next <= offset) {
            return -EIO;            /* a report that does not progress */
        }
        offset = next;
    }
    return 0;
}

/* Conditions from which a management operation is defined to succeed. */
static bool vblk_zone_op_allowed(uint32_t type, const BlockZoneDescriptor *z)
{
    if (z->type == BLK_ZT_CONV) {
        return false;
    }
    switch (z->state) {
    case BLK_ZS_EMPTY:
        return type != VIRTIO_BLK_T_ZONE_CLOSE;
    case BLK_ZS_IOPEN:
    case BLK_ZS_EOPEN:
    case BLK_ZS_CLOSED:
        return true;
    case BLK_ZS_FULL:
        return type == VIRTIO_BLK_T_ZONE_FINISH ||
               type == VIRTIO_BLK_T_ZONE_RESET;
    default:
        return false;               /* read-only, offline */
    }
}

/*
 * Status for a failed call on a zoned device.  EIO is ambiguous (a zone
 * rule or the medium); the zone's state after the failure decides.
 */
static uint8_t coroutine_fn vblk_co_zoned_error(VirtioBlkReq *req, int ret,
                                                VirtioBlkOpKind kind,
                                                uint64_t offset, uint64_t len)
{
    VirtioBlkDev *dev = req->dev;
    BlockZoneDescriptor z;
    bool all_conv, any_offline;

    switch (ret) {
    case -ETOOMANYREFS:
        return VIRTIO_BLK_S_ZONE_OPEN_RESOURCE;
    case -EOVERFLOW:
        return VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE;
    case -ENOTSUP:
        return VIRTIO_BLK_S_UNSUPP;
    case -EINVAL:
        return kind == VBLK_OP_APPEND || kind == VBLK_OP_MGMT ?
               VIRTIO_BLK_S_ZONE_INVALID_CMD : VIRTIO_BLK_S_IOERR;
    case -EIO:
        break;
    default:
        return VIRTIO_BLK_S_IOERR;
    }

    if (kind == VBLK_OP_READ) {
        if (vblk_co_zone_scan(dev, offset, len, &all_conv, &any_offline) < 0) {
            return VIRTIO_BLK_S_IOERR;
        }
        return any_offline ? VIRTIO_BLK_S_ZONE_INVALID_CMD :
                             VIRTIO_BLK_S_IOERR;
    }
    if (vblk_co_zone_of(dev, offset, &z) < 0) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (kind == VBLK_OP_MGMT) {
        return vblk_zone_op_allowed(req->type, &z) ?
               VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_ZONE_INVALID_CMD;
    }
    switch (z.state) {
    case BLK_ZS_FULL:
    case BLK_ZS_RDONLY:
    case BLK_ZS_OFFLINE:
        return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    default:
        break;
    }
    if (kind == VBLK_OP_APPEND) {
        if (z.type == BLK_ZT_CONV || z.wp - z.start + len > z.cap) {
            return VIRTIO_BLK_S_ZONE_INVALID_CMD;
        }
        return VIRTIO_BLK_S_IOERR;
    }
    /* A regular write; only sequential-write-required zones have rules. */
    if (z.type != BLK_ZT_SWR) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (z.wp == offset) {
        return offset - z.start + len > z.cap ?
               VIRTIO_BLK_S_ZONE_INVALID_CMD : VIRTIO_BLK_S_IOERR;
    }
    if (z.wp > offset && z.wp - offset <= len) {
        return VIRTIO_BLK_S_IOERR;  /* partly written: the medium failed */
    }
    return VIRTIO_BLK_S_ZONE_UNALIGNED_WP;
}

static uint8_t vblk_plain_error(int ret)
{
    return ret == -ENOTSUP ? VIRTIO_BLK_S_UNSUPP : VIRTIO_BLK_S_IOERR;
}

/* ---- request handlers ---- */

/* [sector, sector + bytes) inside the capacity (no overflow). */
static bool vblk_range_ok(VirtioBlkDev *dev, uint64_t sector, uint64_t bytes)
{
    return sector <= dev->capacity &&
           DIV_ROUND_UP(bytes, VBLK_SECTOR) <= dev->capacity - sector;
}

static uint8_t coroutine_fn vblk_co_rw(VirtioBlkReq *req, bool write)
{
    VirtioBlkDev *dev = req->dev;
    uint64_t len = req->data.size;
    uint64_t offset = req->sector * VBLK_SECTOR;
    int ret;

    if (write && !dev->writable) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (len % VBLK_SECTOR || len > dev->max_request ||
        !vblk_range_ok(dev, req->sector, len)) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (dev->zoned && len) {
        bool crosses = offset / dev->zone_size !=
                       (offset + len - 1) / dev->zone_size;
        BlockZoneDescriptor z;
        bool all_conv, any_offline;

        if (crosses) {
            if (vblk_co_zone_scan(dev, offset, len, &all_conv,
                                  &any_offline) < 0) {
                return VIRTIO_BLK_S_IOERR;
            }
            if (!all_conv) {
                return VIRTIO_BLK_S_ZONE_INVALID_CMD;
            }
        }
        if (write && (offset % dev->wg || len % dev->wg)) {
            if (vblk_co_zone_of(dev, offset, &z) < 0) {
                return VIRTIO_BLK_S_IOERR;
            }
            if (z.type != BLK_ZT_CONV) {
                return VIRTIO_BLK_S_ZONE_UNALIGNED_WP;
            }
        }
    }
    if (offset % dev->lbs || len % dev->lbs) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (len == 0) {
        return VIRTIO_BLK_S_OK;
    }
    if (write) {
        ret = blk_co_pwritev(dev->blk, offset, len, &req->data, 0);
    } else {
        ret = blk_co_preadv(dev->blk, offset, len, &req->data, 0);
    }
    if (ret < 0) {
        return dev->zoned ?
               vblk_co_zoned_error(req, ret, write ? VBLK_OP_WRITE :
                                   VBLK_OP_READ, offset, len) :
               vblk_plain_error(ret);
    }
    return VIRTIO_BLK_S_OK;
}

static uint8_t vblk_get_id(VirtioBlkReq *req)
{
    size_t n = req->data.size;

    if (n == 0) {
        return VIRTIO_BLK_S_IOERR;
    }
    qemu_iovec_from_buf(&req->data, 0, req->dev->id,
                        MIN(n, VIRTIO_BLK_ID_BYTES));
    if (n > VIRTIO_BLK_ID_BYTES) {
        qemu_iovec_memset(&req->data, VIRTIO_BLK_ID_BYTES, 0,
                          n - VIRTIO_BLK_ID_BYTES);
    }
    return VIRTIO_BLK_S_OK;
}

static uint8_t coroutine_fn vblk_co_discard_wz(VirtioBlkReq *req)
{
    VirtioBlkDev *dev = req->dev;
    bool discard = req->type == VIRTIO_BLK_T_DISCARD;
    uint32_t max_sectors = discard ? dev->max_discard_sectors :
                                     dev->max_wz_sectors;
    uint32_t lbs_sectors = dev->lbs / VBLK_SECTOR;
    size_t n = req->data.size;
    g_autofree struct virtio_blk_discard_write_zeroes_le *segs = NULL;
    unsigned int nseg;
    int ret;

    if (!dev->writable) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (n == 0 || n % sizeof(*segs) ||
        n / sizeof(*segs) > VBLK_MAX_DISCARD_SEG) {
        return VIRTIO_BLK_S_IOERR;
    }
    nseg = n / sizeof(*segs);
    segs = g_new(struct virtio_blk_discard_write_zeroes_le, nseg);
    qemu_iovec_to_buf(&req->data, 0, segs, n);   /* copied once */

    /* Check them all first: nothing happens for a bad request. */
    for (unsigned int i = 0; i < nseg; i++) {
        uint64_t sector = GUINT64_FROM_LE(segs[i].sector);
        uint32_t num = GUINT32_FROM_LE(segs[i].num_sectors);
        uint32_t flags = GUINT32_FROM_LE(segs[i].flags);

        if ((flags & ~1u) || (discard && (flags & 1))) {
            return VIRTIO_BLK_S_UNSUPP;
        }
        if (num > max_sectors || sector % lbs_sectors || num % lbs_sectors ||
            !vblk_range_ok(dev, sector, (uint64_t)num * VBLK_SECTOR)) {
            return VIRTIO_BLK_S_IOERR;
        }
    }
    for (unsigned int i = 0; i < nseg; i++) {
        int64_t offset = GUINT64_FROM_LE(segs[i].sector) * VBLK_SECTOR;
        int64_t bytes = (int64_t)GUINT32_FROM_LE(segs[i].num_sectors) *
                        VBLK_SECTOR;
        bool unmap = GUINT32_FROM_LE(segs[i].flags) & 1;

        if (!bytes) {
            continue;
        }
        if (discard) {
            ret = blk_co_pdiscard(dev->blk, offset, bytes);
        } else {
            ret = blk_co_pwrite_zeroes(dev->blk, offset, bytes,
                                       unmap ? BDRV_REQ_MAY_UNMAP : 0);
        }
        if (ret < 0) {
            return vblk_plain_error(ret);
        }
    }
    return VIRTIO_BLK_S_OK;
}

static void vblk_fill_zone(struct virtio_blk_zone_descriptor_le *d,
                           const BlockZoneDescriptor *z)
{
    memset(d, 0, sizeof(*d));
    d->z_cap = GUINT64_TO_LE(z->cap / VBLK_SECTOR);
    d->z_start = GUINT64_TO_LE(z->start / VBLK_SECTOR);
    /* All ones (no write pointer) stays all ones. */
    d->z_wp = GUINT64_TO_LE(z->wp == UINT64_MAX ? UINT64_MAX :
                            z->wp / VBLK_SECTOR);
    d->z_type = z->type;            /* same values as VIRTIO_BLK_ZT_* */
    d->z_state = z->state;          /* same values as VIRTIO_BLK_ZS_* */
}

static uint8_t coroutine_fn vblk_co_zone_report(VirtioBlkReq *req)
{
    VirtioBlkDev *dev = req->dev;
    size_t size = req->data.size;
    uint64_t fit, filled = 0, offset;
    struct virtio_blk_zone_report_le hdr;
    BlockZoneDescriptor zones[VBLK_REPORT_BATCH];

    /* The header does not fit: a driver error, not a zone rule. */
    if (size < sizeof(hdr) || req->sector >= dev->capacity) {
        return VIRTIO_BLK_S_IOERR;
    }
    fit = (size - sizeof(hdr)) / sizeof(struct virtio_blk_zone_descriptor_le);
    offset = req->sector * VBLK_SECTOR;
    while (filled < fit && offset < dev->length) {
        unsigned int nr = MIN(fit - filled, VBLK_REPORT_BATCH);
        int ret = blk_co_zone_report(dev->blk, offset, &nr, zones);
        uint64_t next;

        if (ret < 0) {
            return vblk_plain_error(ret);
        }
        if (nr == 0) {
            break;
        }
        for (unsigned int i = 0; i < nr; i++) {
            struct virtio_blk_zone_descriptor_le d;

            vblk_fill_zone(&d, &zones[i]);
            qemu_iovec_from_buf(&req->data, sizeof(hdr) + filled * sizeof(d),
                                &d, sizeof(d));
            filled++;
        }
        next = zones[nr - 1].start + zones[nr - 1].length;
        if (next <= offset) {
            break;
        }
        offset = next;
    }
    memset(&hdr, 0, sizeof(hdr));
    hdr.nr_zones = GUINT64_TO_LE(filled);
    qemu_iovec_from_buf(&req->data, 0, &hdr, sizeof(hdr));
    offset = sizeof(hdr) +
             filled * sizeof(struct virtio_blk_zone_descriptor_le);
    qemu_iovec_memset(&req->data, offset, 0, size - offset);
    return VIRTIO_BLK_S_OK;
}

static uint8_t coroutine_fn vblk_co_zone_mgmt(VirtioBlkReq *req)
{
    VirtioBlkDev *dev = req->dev;
    uint64_t offset, len;
    BlockZoneOp op;
    int ret;

    if (!dev->writable) {
        return VIRTIO_BLK_S_IOERR;
    }
    if (req->type == VIRTIO_BLK_T_ZONE_RESET_ALL) {
        ret = blk_co_zone_mgmt(dev->blk, BLK_ZO_RESET_ALL, 0, dev->length);
        if (ret == -ETOOMANYREFS || ret == -EOVERFLOW) {
            return vblk_co_zoned_error(req, ret, VBLK_OP_MGMT, 0, 0);
        }
        return ret < 0 ? vblk_plain_error(ret) : VIRTIO_BLK_S_OK;
    }
    switch (req->type) {
    case VIRTIO_BLK_T_ZONE_OPEN:
        op = BLK_ZO_OPEN;
        break;
    case VIRTIO_BLK_T_ZONE_CLOSE:
        op = BLK_ZO_CLOSE;
        break;
    case VIRTIO_BLK_T_ZONE_FINISH:
        op = BLK_ZO_FINISH;
        break;
    default:
        op = BLK_ZO_RESET;
        break;
    }
    if (req->sector >= dev->capacity) {
        return VIRTIO_BLK_S_IOERR;
    }
    offset = req->sector * VBLK_SECTOR;
    if (offset % dev->zone_size) {
        return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    }
    len = MIN(dev->zone_size, dev->length - offset);
    ret = blk_co_zone_mgmt(dev->blk, op, offset, len);
    if (ret < 0) {
        return vblk_co_zoned_error(req, ret, VBLK_OP_MGMT, offset, len);
    }
    return VIRTIO_BLK_S_OK;
}

static uint8_t coroutine_fn vblk_co_zone_append(VirtioBlkReq *req)
{
    VirtioBlkDev *dev = req->dev;
    uint64_t len = req->data.size;
    int64_t offset;
    int ret;

    if (req->trailer != 9 || !dev->writable) {
        return VIRTIO_BLK_S_IOERR;  /* no room for append_sector */
    }
    if (req->sector >= dev->capacity ||
        len > dev->length - req->sector * VBLK_SECTOR) {
        return VIRTIO_BLK_S_IOERR;
    }
    offset = req->sector * VBLK_SECTOR;
    if (offset % dev->zone_size || len == 0 || len > dev->max_append ||
        offset % dev->zone_size + len > dev->zone_size) {
        return VIRTIO_BLK_S_ZONE_INVALID_CMD;
    }
    if (len % dev->wg) {
        return VIRTIO_BLK_S_ZONE_UNALIGNED_WP;
    }
    ret = blk_co_zone_append(dev->blk, &offset, &req->data, 0);
    if (ret < 0) {
        return vblk_co_zoned_error(req, ret, VBLK_OP_APPEND,
                                   req->sector * VBLK_SECTOR, len);
    }
    req->append_sector = offset / VBLK_SECTOR;
    return VIRTIO_BLK_S_OK;
}

static uint8_t coroutine_fn vblk_co_handle(VirtioBlkReq *req)
{
    VirtioBlkDev *dev = req->dev;
    int ret;

    switch (req->type) {
    case VIRTIO_BLK_T_IN:
        return vblk_co_rw(req, false);
    case VIRTIO_BLK_T_OUT:
        return vblk_co_rw(req, true);
    case VIRTIO_BLK_T_FLUSH:
        ret = blk_co_flush(dev->blk);
        return ret < 0 ? vblk_plain_error(ret) : VIRTIO_BLK_S_OK;
    case VIRTIO_BLK_T_GET_ID:
        return vblk_get_id(req);
    case VIRTIO_BLK_T_DISCARD:
    case VIRTIO_BLK_T_WRITE_ZEROES:
        if (dev->zoned ||
            !vblk_has(dev, req->type == VIRTIO_BLK_T_DISCARD ?
                      VIRTIO_BLK_F_DISCARD : VIRTIO_BLK_F_WRITE_ZEROES)) {
            return VIRTIO_BLK_S_UNSUPP;
        }
        return vblk_co_discard_wz(req);
    case VIRTIO_BLK_T_ZONE_REPORT:
    case VIRTIO_BLK_T_ZONE_OPEN:
    case VIRTIO_BLK_T_ZONE_CLOSE:
    case VIRTIO_BLK_T_ZONE_FINISH:
    case VIRTIO_BLK_T_ZONE_RESET:
    case VIRTIO_BLK_T_ZONE_RESET_ALL:
    case VIRTIO_BLK_T_ZONE_APPEND:
        if (!dev->zoned || !vblk_has(dev, VIRTIO_BLK_F_ZONED)) {
            return VIRTIO_BLK_S_UNSUPP;
        }
        if (req->type == VIRTIO_BLK_T_ZONE_REPORT) {
            return vblk_co_zone_report(req);
        }
        if (req->type == VIRTIO_BLK_T_ZONE_APPEND) {
            return vblk_co_zone_append(req);
        }
        return vblk_co_zone_mgmt(req);
    default:
        return VIRTIO_BLK_S_UNSUPP;
    }
}

static void coroutine_fn vblk_co_request(void *opaque)
{
    VirtioBlkReq *req = opaque;

    vblk_complete(req, vblk_co_handle(req));
}

/* Parse the header and lay out the data part; false: bad framing. */
static bool vblk_parse(VirtioBlkReq *req)
{
    VirtQueueElement *elem = req->elem;
    struct virtio_blk_outhdr_le hdr;
    QEMUIOVector whole;

    if (elem->out_len < sizeof(hdr)) {
        return false;               /* header missing or device-writable */
    }
    iov_to_buf(elem->out_sg, elem->out_num, 0, &hdr, sizeof(hdr));
    req->type = GUINT32_FROM_LE(hdr.type);
    req->sector = GUINT64_FROM_LE(hdr.sector);
    req->trailer = req->type == VIRTIO_BLK_T_ZONE_APPEND &&
                   elem->in_len >= 9 ? 9 : 1;
    switch (req->type) {
    case VIRTIO_BLK_T_IN:
    case VIRTIO_BLK_T_GET_ID:
    case VIRTIO_BLK_T_ZONE_REPORT:
        req->data_in = true;
        qemu_iovec_init_external(&whole, elem->in_sg, elem->in_num);
        qemu_iovec_init(&req->data, elem->in_num);
        qemu_iovec_concat(&req->data, &whole, 0, elem->in_len - req->trailer);
        break;
    default:
        qemu_iovec_init_external(&whole, elem->out_sg, elem->out_num);
        qemu_iovec_init(&req->data, elem->out_num);
        qemu_iovec_concat(&req->data, &whole, sizeof(hdr),
                          elem->out_len - sizeof(hdr));
        break;
    }
    return true;
}

static void vblk_start(VirtioBlkQueue *q, VirtQueueElement *elem)
{
    VirtioBlkDev *dev = q->dev;
    VirtioBlkReq *req;
    Coroutine *co;

    dev->stats.requests++;
    if (elem->malformed) {
        uint8_t status = VIRTIO_BLK_S_IOERR;

        dev->stats.malformed++;
        memcpy(elem->status_iov.iov_base, &status, 1);
        vblk_push(q, elem, 0, status);
        return;
    }
    req = g_new0(VirtioBlkReq, 1);
    req->dev = dev;
    req->q = q;
    req->elem = elem;
    dev->inflight++;
    if (!vblk_parse(req)) {
        dev->stats.malformed++;
        req->trailer = 1;
        vblk_complete(req, VIRTIO_BLK_S_IOERR);
        return;
    }
    co = qemu_coroutine_create(vblk_co_request, req);
    aio_co_enter(dev->ctx, co);
}

static void vblk_process(VirtioBlkQueue *q)
{
    VirtioBlkDev *dev = q->dev;

    if (dev->broken || !q->setup || !q->enabled) {
        return;
    }
    if (!virtqueue_rings_mapped(&q->vq) && virtqueue_map_rings(&q->vq) < 0) {
        vblk_set_broken(dev, "virtqueue rings are not mapped");
        return;
    }
    do {
        for (;;) {
            VirtQueueElement *elem;
            int ret = virtqueue_pop(&q->vq, &elem);

            if (ret < 0) {
                vblk_set_broken(dev, q->vq.broken_reason);
                return;
            }
            if (ret == 0) {
                break;
            }
            vblk_start(q, elem);
        }
    } while (virtqueue_enable_notification(&q->vq));
}

/* ---- setup and the public API ---- */

static bool vblk_check_opts(const VirtioBlkOptions *opts, Error **errp)
{
    if (opts->num_queues < 1 || opts->num_queues > VBLK_MAX_QUEUES) {
        error_setg(errp, "num-queues %u must be between 1 and %u",
                   opts->num_queues, VBLK_MAX_QUEUES);
        return false;
    }
    if (!is_power_of_2(opts->queue_size) || opts->queue_size < 4 ||
        opts->queue_size > VIRTQUEUE_MAX_SIZE) {
        error_setg(errp, "queue-size %u must be a power of two between 4 "
                   "and %u", opts->queue_size, VIRTQUEUE_MAX_SIZE);
        return false;
    }
    if (opts->logical_block_size &&
        (!is_power_of_2(opts->logical_block_size) ||
         opts->logical_block_size < 512 ||
         opts->logical_block_size > 65536)) {
        error_setg(errp, "logical-block-size %u must be a power of two "
                   "between 512 and 65536", opts->logical_block_size);
        return false;
    }
    return true;
}

static bool vblk_setup_zoned(VirtioBlkDev *dev, const BlockLimits *bl,
                             int64_t len, Error **errp)
{
    const char *node = bdrv_get_node_name(blk_bs(dev->blk));

    dev->zone_size = bl->zone_size;
    if (dev->lbs < bl->request_alignment) {
        error_setg(errp, "logical-block-size %u is smaller than the block "
                   "size %u of zoned node '%s' (no read-modify-write on a "
                   "zoned device)", dev->lbs, bl->request_alignment, node);
        return false;
    }
    if (!dev->zone_size || dev->zone_size % dev->lbs) {
        error_setg(errp, "zone size %" PRIu64 " of node '%s' is not a "
                   "multiple of logical-block-size %u", dev->zone_size, node,
                   dev->lbs);
        return false;
    }
    if (dev->zone_size / VBLK_SECTOR > UINT32_MAX) {
        error_setg(errp, "zone size %" PRIu64 " of node '%s' exceeds "
                   "virtio-blk's 32-bit zone_sectors", dev->zone_size, node);
        return false;
    }
    if (len % dev->lbs) {
        error_setg(errp, "length %" PRId64 " of zoned node '%s' is not a "
                   "multiple of logical-block-size %u", len, node, dev->lbs);
        return false;
    }
    dev->wg = MAX(bl->write_granularity, dev->lbs);
    if (dev->wg % dev->lbs) {
        error_setg(errp, "write granularity %u of node '%s' is not a "
                   "multiple of logical-block-size %u", dev->wg, node,
                   dev->lbs);
        return false;
    }
    /* Linux refuses a host-managed disk without zone append: never 0. */
    dev->max_append = bl->max_append_bytes ? bl->max_append_bytes :
                                             dev->zone_size;
    dev->max_append = MIN(dev->max_append, dev->zone_size);
    dev->max_append = MIN(dev->max_append, dev->max_request);
    dev->max_append = QEMU_ALIGN_DOWN(dev->max_append, dev->wg);
    if (dev->max_append < dev->wg) {
        error_setg(errp, "largest zone append of node '%s' (%" PRIu64
                   " bytes) is below the write granularity %u", node,
                   dev->max_append, dev->wg);
        return false;
    }
    dev->config.zoned.zone_sectors = GUINT32_TO_LE(dev->zone_size /
                                                   VBLK_SECTOR);
    dev->config.zoned.max_open_zones = GUINT32_TO_LE(bl->max_open_zones);
    dev->config.zoned.max_active_zones = GUINT32_TO_LE(bl->max_active_zones);
    dev->config.zoned.max_append_sectors =
        GUINT32_TO_LE(MIN(dev->max_append / VBLK_SECTOR, UINT32_MAX));
    dev->config.zoned.write_granularity = GUINT32_TO_LE(dev->wg);
    dev->config.zoned.model = bl->zoned == BLK_Z_HA ? VIRTIO_BLK_Z_HA :
                                                      VIRTIO_BLK_Z_HM;
    return true;
}

static void vblk_setup_config(VirtioBlkDev *dev, const BlockLimits *bl,
                              uint32_t seg_max)
{
    struct virtio_blk_config_le *c = &dev->config;
    uint32_t pbs = MAX(dev->lbs, bl->physical_block_size);
    uint32_t lbs_sectors = dev->lbs / VBLK_SECTOR;
    uint64_t max;
    unsigned int exp = 0;

    if (dev->zoned) {
        pbs = MAX(pbs, dev->wg);
    }
    if (!is_power_of_2(pbs) || pbs % dev->lbs) {
        pbs = dev->lbs;
    }
    while ((dev->lbs << exp) < pbs) {
        exp++;
    }
    c->capacity = GUINT64_TO_LE(dev->capacity);
    c->size_max = GUINT32_TO_LE(VBLK_SIZE_MAX);
    c->seg_max = GUINT32_TO_LE(seg_max);
    c->blk_size = GUINT32_TO_LE(dev->lbs);
    c->topology.physical_block_exp = exp;
    c->topology.alignment_offset = 0;
    c->topology.min_io_size = GUINT16_TO_LE(MIN(pbs / dev->lbs, UINT16_MAX));
    c->topology.opt_io_size = GUINT32_TO_LE(bl->opt_transfer / dev->lbs);
    c->writeback = 0;
    c->num_queues = GUINT16_TO_LE(dev->num_queues);

    max = bl->max_pdiscard ? MIN(bl->max_pdiscard, BDRV_REQUEST_MAX_BYTES) :
                             BDRV_REQUEST_MAX_BYTES;
    dev->max_discard_sectors = QEMU_ALIGN_DOWN(max / VBLK_SECTOR,
                                               lbs_sectors);
    max = bl->max_pwrite_zeroes ?
          MIN(bl->max_pwrite_zeroes, BDRV_REQUEST_MAX_BYTES) :
          BDRV_REQUEST_MAX_BYTES;
    dev->max_wz_sectors = QEMU_ALIGN_DOWN(max / VBLK_SECTOR, lbs_sectors);
    if (!dev->zoned) {
        c->max_discard_sectors = GUINT32_TO_LE(dev->max_discard_sectors);
        c->max_discard_seg = GUINT32_TO_LE(VBLK_MAX_DISCARD_SEG);
        c->discard_sector_alignment =
            GUINT32_TO_LE(MAX(bl->pdiscard_alignment, dev->lbs) /
                          VBLK_SECTOR);
        c->max_write_zeroes_sectors = GUINT32_TO_LE(dev->max_wz_sectors);
        c->max_write_zeroes_seg = GUINT32_TO_LE(VBLK_MAX_DISCARD_SEG);
        c->write_zeroes_may_unmap = 1;
    }
    /* Up to the zoned block when zoned, else up to write zeroes. */
    dev->config_size = dev->zoned ? sizeof(*c) :
                       offsetof(struct virtio_blk_config_le,
                                max_secure_erase_sectors);
}

VirtioBlkDev *virtio_blk_dev_new(BlockBackend *blk,
                                 const VirtioBlkOptions *opts,
                                 const VirtioBlkTransportOps *ops,
                                 void *opaque, Error **errp)
{
    g_autofree VirtioBlkDev *dev = NULL;
    BlockLimits bl;
    const char *serial;
    int64_t len;
    uint32_t seg_max;

    if (!vblk_check_opts(opts, errp)) {
        return NULL;
    }
    if (!blk_bs(blk)) {
        error_setg(errp, "the export has no block node");
        return NULL;
    }
    if (opts->writable && blk_is_read_only(blk)) {
        error_setg(errp, "writable=on but node '%s' is read-only",
                   bdrv_get_node_name(blk_bs(blk)));
        return NULL;
    }
    len = blk_getlength(blk);
    if (len < 0) {
        error_setg_errno(errp, -len, "cannot get the length of node '%s'",
                         bdrv_get_node_name(blk_bs(blk)));
        return NULL;
    }
    blk_get_zone_limits(blk, &bl);

    dev = g_new0(VirtioBlkDev, 1);
    dev->blk = blk;
    dev->ctx = blk_get_aio_context(blk);
    dev->ops = ops;
    dev->opaque = opaque;
    dev->num_queues = opts->num_queues;
    dev->queue_size = opts->queue_size;
    dev->writable = opts->writable;
    dev->lbs = opts->logical_block_size;
    if (!dev->lbs) {
        dev->lbs = MAX(512, MAX(bl.logical_block_size, bl.request_alignment));
        if (!is_power_of_2(dev->lbs) || dev->lbs > 65536) {
            error_setg(errp, "the block size %u of node '%s' cannot be a "
                       "virtio-blk logical block size; set "
                       "logical-block-size", dev->lbs,
                       bdrv_get_node_name(blk_bs(blk)));
            return NULL;
        }
    }
    dev->length = QEMU_ALIGN_DOWN((uint64_t)len, dev->lbs);
    dev->capacity = dev->length / VBLK_SECTOR;
    /* Without indirect descriptors a chain is header + data + status. */
    seg_max = MIN(opts->queue_size - 2, VBLK_SEG_MAX_CAP);
    dev->max_request = MIN((uint64_t)VBLK_SIZE_MAX * seg_max,
                           BDRV_REQUEST_MAX_BYTES);
    dev->max_request = QEMU_ALIGN_DOWN(dev->max_request, dev->lbs);
    dev->zoned = bl.zoned != BLK_Z_NONE;
    if (dev->zoned && !vblk_setup_zoned(dev, &bl, len, errp)) {
        return NULL;
    }
    vblk_setup_config(dev, &bl, seg_max);

    /* NUL-padded, no terminator when 20 bytes long (the spec's rule). */
    serial = opts->serial ? opts->serial : bdrv_get_node_name(blk_bs(blk));
    memcpy(dev->id, serial, MIN(strlen(serial), sizeof(dev->id)));

    dev->features = bit(VIRTIO_F_VERSION_1) | bit(VIRTIO_F_ACCESS_PLATFORM) |
                    bit(VIRTIO_RING_F_INDIRECT_DESC) |
                    bit(VIRTIO_RING_F_EVENT_IDX) |
                    bit(VIRTIO_BLK_F_SIZE_MAX) | bit(VIRTIO_BLK_F_SEG_MAX) |
                    bit(VIRTIO_BLK_F_BLK_SIZE) | bit(VIRTIO_BLK_F_FLUSH) |
                    bit(VIRTIO_BLK_F_TOPOLOGY) | bit(VIRTIO_BLK_F_MQ);
    if (!dev->writable) {
        dev->features |= bit(VIRTIO_BLK_F_RO);
    }
    if (dev->zoned) {
        dev->features |= bit(VIRTIO_BLK_F_ZONED);
    } else if (dev->writable) {
        dev->features |= bit(VIRTIO_BLK_F_DISCARD) |
                         bit(VIRTIO_BLK_F_WRITE_ZEROES);
    }

    dev->queues = g_new0(VirtioBlkQueue, dev->num_queues);
    for (unsigned int i = 0; i < dev->num_queues; i++) {
        dev->queues[i].dev = dev;
        dev->queues[i].index = i;
        virtqueue_init(&dev->queues[i].vq, ops->map, opaque);
    }
    dev->notify_bh = aio_bh_new(dev->ctx, vblk_notify_bh, dev);
    return g_steal_pointer(&dev);
}

void virtio_blk_dev_drain(VirtioBlkDev *dev)
{
    while (dev->inflight > 0) {
        aio_poll(dev->ctx, true);
    }
    /* Interrupts owed for what completed are delivered now. */
    qemu_bh_cancel(dev->notify_bh);
    vblk_notify_bh(dev);
}

void virtio_blk_dev_free(VirtioBlkDev *dev)
{
    if (!dev) {
        return;
    }
    virtio_blk_dev_drain(dev);
    qemu_bh_delete(dev->notify_bh);
    for (unsigned int i = 0; i < dev->num_queues; i++) {
        virtqueue_cleanup(&dev->queues[i].vq);
    }
    g_free(dev->queues);
    g_free(dev);
}

uint64_t virtio_blk_dev_features(VirtioBlkDev *dev)
{
    return dev->features;
}

size_t virtio_blk_dev_get_config(VirtioBlkDev *dev, void *buf, size_t size)
{
    memcpy(buf, &dev->config, MIN(size, dev->config_size));
    return dev->config_size;
}

int virtio_blk_dev_set_features(VirtioBlkDev *dev, uint64_t features)
{
    if (features & ~dev->features) {
        return -EINVAL;
    }
    if (!(features & bit(VIRTIO_F_VERSION_1))) {
        return -EINVAL;             /* no legacy interface */
    }
    /* A host-managed disk is unusable by a driver that ignores zones. */
    if (dev->zoned && dev->config.zoned.model == VIRTIO_BLK_Z_HM &&
        !(features & bit(VIRTIO_BLK_F_ZONED))) {
        return -EINVAL;
    }
    dev->driver_features = features;
    for (unsigned int i = 0; i < dev->num_queues; i++) {
        virtqueue_set_features(&dev->queues[i].vq,
                               features & bit(VIRTIO_RING_F_EVENT_IDX),
                               features & bit(VIRTIO_RING_F_INDIRECT_DESC));
    }
    return 0;
}

int virtio_blk_dev_queue_setup(VirtioBlkDev *dev, unsigned int queue,
                               uint16_t num, uint64_t desc_iova,
                               uint64_t avail_iova, uint64_t used_iova,
                               uint16_t last_avail_idx)
{
    VirtioBlkQueue *q;
    int ret;

    if (queue >= dev->num_queues || num > dev->queue_size) {
        return -EINVAL;
    }
    q = &dev->queues[queue];
    if (q->vq.inflight) {
        return -EBUSY;
    }
    ret = virtqueue_setup(&q->vq, num, desc_iova, avail_iova, used_iova,
                          last_avail_idx, dev->max_request + 4096);
    q->setup = ret == 0;
    q->notify_pending = false;
    return ret;
}

void virtio_blk_dev_queue_enable(VirtioBlkDev *dev, unsigned int queue,
                                 bool enable)
{
    VirtioBlkQueue *q;

    if (queue >= dev->num_queues) {
        return;
    }
    q = &dev->queues[queue];
    q->enabled = enable && q->setup;
    if (q->enabled && !virtqueue_rings_mapped(&q->vq)) {
        /* Failure is not final: the next kick tries again. */
        virtqueue_map_rings(&q->vq);
    }
}

void virtio_blk_dev_kick(VirtioBlkDev *dev, unsigned int queue)
{
    if (queue < dev->num_queues) {
        vblk_process(&dev->queues[queue]);
    }
}

void virtio_blk_dev_reset(VirtioBlkDev *dev)
{
    virtio_blk_dev_drain(dev);
    for (unsigned int i = 0; i < dev->num_queues; i++) {
        VirtioBlkQueue *q = &dev->queues[i];

        virtqueue_cleanup(&q->vq);
        virtqueue_set_features(&q->vq, false, false);
        q->setup = false;
        q->enabled = false;
        q->notify_pending = false;
    }
    dev->driver_features = 0;
    dev->broken = false;
    dev->broken_reason = NULL;
}

bool virtio_blk_dev_is_broken(VirtioBlkDev *dev)
{
    return dev->broken;
}

const char *virtio_blk_dev_broken_reason(VirtioBlkDev *dev)
{
    return dev->broken_reason;
}

uint16_t virtio_blk_dev_queue_last_avail(VirtioBlkDev *dev,
                                         unsigned int queue)
{
    return queue < dev->num_queues ? dev->queues[queue].vq.last_avail_idx : 0;
}

void virtio_blk_dev_mappings_changed(VirtioBlkDev *dev)
{
    for (unsigned int i = 0; i < dev->num_queues; i++) {
        virtqueue_unmap_rings(&dev->queues[i].vq);
    }
}

void virtio_blk_dev_get_stats(VirtioBlkDev *dev, VirtioBlkStats *stats)
{
    *stats = dev->stats;
}
