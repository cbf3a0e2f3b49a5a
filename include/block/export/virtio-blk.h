/*
 * The virtio-blk device model: turns split-virtqueue requests into
 * BlockBackend calls.  Transport-independent: a transport (VDUSE, or the
 * unit tests' fake driver) supplies guest-memory translation and interrupt
 * injection through VirtioBlkTransportOps, and calls in when the driver
 * sets up queues and kicks them.
 *
 * Every function is called in the BlockBackend's AioContext thread;
 * requests run as coroutines there, and map()/notify() are called there.
 *
 * The guest is untrusted: every index, address and length it supplies is
 * validated before use.  A malformed request gets an error status, or, when
 * the ring itself is corrupt, the device is marked broken (it stops
 * processing the queue and the transport reports DEVICE_NEEDS_RESET).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_EXPORT_VIRTIO_BLK_H
#define BLOCK_EXPORT_VIRTIO_BLK_H

#include "sysemu/block-backend.h"

typedef struct VirtioBlkDev VirtioBlkDev;

typedef struct VirtioBlkTransportOps {
    /*
     * Translate [iova, iova + *len) of driver memory to a host pointer.
     * May shorten *len to the contiguous mapped part; returns NULL when
     * iova is not mapped (or not writable when write is set).
     */
    void *(*map)(void *opaque, uint64_t iova, uint64_t *len, bool write);
    /* Interrupt the driver for queue (used buffers added). */
    void (*notify)(void *opaque, unsigned int queue);
    /*
     * Optional (may be NULL): the device just became broken (a corrupt
     * ring); the transport reports DEVICE_NEEDS_RESET.  Called once, from
     * inside virtio_blk_dev_kick(): it must not reset or free the device.
     */
    void (*needs_reset)(void *opaque);
} VirtioBlkTransportOps;

typedef struct VirtioBlkOptions {
    unsigned int num_queues;       /* >= 1 */
    unsigned int queue_size;       /* power of two, <= 32768 */
    uint32_t logical_block_size;   /* 0: from the node's limits */
    bool writable;
    const char *serial;            /* GET_ID string, NULL: node name */
} VirtioBlkOptions;

/*
 * Create the device model for blk (zoned if blk's root is zoned).  Errors
 * name the option and the limit.
 */
VirtioBlkDev *virtio_blk_dev_new(BlockBackend *blk,
                                 const VirtioBlkOptions *opts,
                                 const VirtioBlkTransportOps *ops,
                                 void *opaque, Error **errp);
/* Drains in-flight requests, then frees. */
void virtio_blk_dev_free(VirtioBlkDev *dev);

/* Device features offered (VIRTIO_F_*, VIRTIO_BLK_F_*, ring features). */
uint64_t virtio_blk_dev_features(VirtioBlkDev *dev);
/* Config space bytes (little-endian); returns its size (96 when zoned). */
size_t virtio_blk_dev_get_config(VirtioBlkDev *dev, void *buf, size_t size);
/* Features the driver accepted (subset of the offered ones, else -EINVAL). */
int virtio_blk_dev_set_features(VirtioBlkDev *dev, uint64_t features);

/*
 * Queue setup: ring addresses are driver IOVAs; num a power of two
 * <= queue_size.  last_avail_idx resumes a queue (0 for a fresh one).
 */
int virtio_blk_dev_queue_setup(VirtioBlkDev *dev, unsigned int queue,
                               uint16_t num, uint64_t desc_iova,
                               uint64_t avail_iova, uint64_t used_iova,
                               uint16_t last_avail_idx);
void virtio_blk_dev_queue_enable(VirtioBlkDev *dev, unsigned int queue,
                                 bool enable);
/* The driver kicked queue: process every available request. */
void virtio_blk_dev_kick(VirtioBlkDev *dev, unsigned int queue);
/* Wait for in-flight requests, then forget queue state (device reset). */
void virtio_blk_dev_reset(VirtioBlkDev *dev);
/* Wait for in-flight requests. */
void virtio_blk_dev_drain(VirtioBlkDev *dev);
/* True once a corrupt ring made the device stop (needs reset). */
bool virtio_blk_dev_is_broken(VirtioBlkDev *dev);
/* Why it broke (a static string), or NULL. */
const char *virtio_blk_dev_broken_reason(VirtioBlkDev *dev);
/* The next avail index the device will read (VDUSE_GET_VQ_STATE). */
uint16_t virtio_blk_dev_queue_last_avail(VirtioBlkDev *dev,
                                         unsigned int queue);
/*
 * The driver's memory mappings changed (IOTLB update or invalidation):
 * ring pointers are looked up again through map() at the next kick.
 * Requests in flight keep the host pointers they were given, so call
 * virtio_blk_dev_drain() before a mapping they may use goes away.
 */
void virtio_blk_dev_mappings_changed(VirtioBlkDev *dev);

/* Counters for tests and the daemon's statistics. */
typedef struct VirtioBlkStats {
    uint64_t requests;
    uint64_t errors;          /* non-OK statuses returned */
    uint64_t malformed;       /* chains rejected before reaching the node */
    uint64_t notifications;   /* interrupts raised */
} VirtioBlkStats;
void virtio_blk_dev_get_stats(VirtioBlkDev *dev, VirtioBlkStats *stats);

#endif /* BLOCK_EXPORT_VIRTIO_BLK_H */
