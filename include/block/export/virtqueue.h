/*
 * Split virtqueues, device side: descriptor chains (direct and indirect)
 * turned into host iovecs through a transport's map function, the used
 * ring, and notification suppression (VIRTIO_RING_F_EVENT_IDX or the avail
 * flags).  Device-independent; the virtio-blk model is its user.
 *
 * The driver is untrusted.  Everything read from the rings is read once
 * into local copies before it is checked and used, and every address goes
 * through map().  Two outcomes for a bad chain:
 * - the ring itself cannot be trusted (avail index jump, head or next out
 *   of range, a loop, a chain longer than the queue, a bad indirect table,
 *   no status byte at the end, a head used twice): the queue is broken
 *   and stops; the device needs a reset;
 * - the chain is well formed but its buffers are not (zero-length
 *   descriptor, readable after writable, an address outside the mapped
 *   memory, too many bytes or pieces): the element is returned marked
 *   malformed with only its last writable byte mapped, for an error
 *   status.
 *
 * Not thread-safe: one queue is used from one thread.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_EXPORT_VIRTQUEUE_H
#define BLOCK_EXPORT_VIRTQUEUE_H

#include "block/export/virtio-blk-defs.h"

/* Largest split ring (the spec's limit). */
#define VIRTQUEUE_MAX_SIZE      32768
/* Most host pieces (iovecs) one element may map to. */
#define VIRTQUEUE_MAX_PIECES    4096

/*
 * Translate [iova, iova + *len) of driver memory to a host pointer; may
 * shorten *len to the contiguous part; NULL when iova is not mapped (or
 * not writable when write is set).  Same contract as
 * VirtioBlkTransportOps.map.
 */
typedef void *VirtQueueMapFn(void *opaque, uint64_t iova, uint64_t *len,
                             bool write);

typedef struct VRingAvail VRingAvail;
typedef struct VRingUsed VRingUsed;

typedef struct VirtQueue {
    VirtQueueMapFn *map;
    void *opaque;

    /* Set up by virtqueue_setup(). */
    uint16_t num;
    uint64_t desc_iova, avail_iova, used_iova;
    bool event_idx;             /* VIRTIO_RING_F_EVENT_IDX negotiated */
    bool indirect;              /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
    uint64_t max_bytes;         /* largest total length of one chain */

    /* Host views of the rings (virtqueue_map_rings()). */
    struct vring_desc_le *desc;
    VRingAvail *avail;
    VRingUsed *used;

    bool started;               /* used_idx taken from the ring */
    uint16_t last_avail_idx;    /* next avail entry to pop */
    uint16_t used_idx;          /* next used entry to fill */
    uint16_t signalled_used;    /* used_idx at the last interrupt */
    bool signalled_used_valid;
    unsigned int inflight;      /* popped, not yet pushed */
    unsigned long *inflight_heads; /* bitmap of heads popped, not pushed */
    bool broken;
    const char *broken_reason;  /* static string, for logs and tests */

    /* Scratch for one chain (pop runs to completion, never yields). */
    struct vring_desc_le *scratch_desc;
    struct iovec *scratch_iov;
    bool *scratch_write;
} VirtQueue;

typedef struct VirtQueueElement {
    uint16_t head;              /* descriptor index returned in the used ring */
    bool malformed;             /* only status_iov is valid */
    unsigned int out_num;       /* device-readable pieces: out_sg[] */
    unsigned int in_num;        /* device-writable pieces: in_sg[] */
    size_t out_len, in_len;
    struct iovec *out_sg;
    struct iovec *in_sg;
    struct iovec status_iov;    /* malformed: the chain's last byte */
    struct iovec sg[];
} VirtQueueElement;

void virtqueue_init(VirtQueue *vq, VirtQueueMapFn *map, void *opaque);
/* Frees what setup allocated; the queue can be set up again. */
void virtqueue_cleanup(VirtQueue *vq);
/*
 * Record the ring addresses (num a power of two <= VIRTQUEUE_MAX_SIZE,
 * rings naturally aligned) and the starting avail index; does not touch
 * driver memory.  -EINVAL for a bad size or alignment.
 */
int virtqueue_setup(VirtQueue *vq, uint16_t num, uint64_t desc_iova,
                    uint64_t avail_iova, uint64_t used_iova,
                    uint16_t last_avail_idx, uint64_t max_bytes);
void virtqueue_set_features(VirtQueue *vq, bool event_idx, bool indirect);
/*
 * Map the three rings (each must be contiguous in host memory).  Returns
 * 0 or -EFAULT.  At the first mapping after setup the used index is read
 * from the ring (0 on a fresh ring, where a resumed queue left it
 * otherwise); later mappings keep the device's own.
 */
int virtqueue_map_rings(VirtQueue *vq);
/* Forget the host views (mappings changed); map again before use. */
void virtqueue_unmap_rings(VirtQueue *vq);
bool virtqueue_rings_mapped(VirtQueue *vq);

/* Mark the queue broken (once); returns false for convenience. */
bool virtqueue_set_broken(VirtQueue *vq, const char *reason);

/*
 * Take the next available chain.  Returns 1 and *elem (free it with
 * g_free() after virtqueue_push()), 0 when nothing is available, or -EIO
 * when the ring is broken (vq->broken set; no element).
 */
int virtqueue_pop(VirtQueue *vq, VirtQueueElement **elem);
/*
 * Return a chain to the driver: used element (head, len) then the used
 * index, with a release barrier between them.  Maps the rings again if
 * they were unmapped meanwhile (the queue breaks if that fails).
 */
void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem,
                    uint32_t len);
/*
 * With EVENT_IDX: publish avail_event = last_avail_idx, then (after a full
 * barrier) report whether more chains arrived meanwhile.  Without: report
 * whether chains are available.
 */
bool virtqueue_enable_notification(VirtQueue *vq);
/*
 * Whether the driver wants an interrupt for the used entries added since
 * the last one (used_event, or VRING_AVAIL_F_NO_INTERRUPT); records the
 * used index as signalled when it returns true.
 */
bool virtqueue_should_notify(VirtQueue *vq);

#endif /* BLOCK_EXPORT_VIRTQUEUE_H */
