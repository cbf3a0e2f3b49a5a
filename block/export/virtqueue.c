/*
 * Split virtqueues, device side (see include/block/export/virtqueue.h).
 *
 * Ordering with the driver, which runs on other CPUs: the avail index is
 * loaded with acquire semantics before the ring entries and descriptors
 * it covers; a used element is written before the used index is stored
 * with release semantics; a full barrier separates the used index (or
 * avail_event) store from the load of used_event/flags (or avail idx)
 * that decides on an interrupt (or on another round), so neither side
 * can miss the other's update.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/export/virtqueue.h"

struct VRingAvail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[];            /* num entries, then le16 used_event */
};

struct VRingUsed {
    uint16_t flags;
    uint16_t idx;
    struct vring_used_elem_le ring[]; /* num entries, then le16 avail_event */
};

#define BITS_PER_ULONG (sizeof(unsigned long) * 8)

static bool test_bit_ul(const unsigned long *map, unsigned int n)
{
    return map[n / BITS_PER_ULONG] & (1UL << (n % BITS_PER_ULONG));
}

static void set_bit_ul(unsigned long *map, unsigned int n, bool v)
{
    if (v) {
        map[n / BITS_PER_ULONG] |= 1UL << (n % BITS_PER_ULONG);
    } else {
        map[n / BITS_PER_ULONG] &= ~(1UL << (n % BITS_PER_ULONG));
    }
}

static uint16_t load_le16(const uint16_t *p)
{
    return GUINT16_FROM_LE(__atomic_load_n(p, __ATOMIC_RELAXED));
}

static uint16_t load_le16_acquire(const uint16_t *p)
{
    return GUINT16_FROM_LE(__atomic_load_n(p, __ATOMIC_ACQUIRE));
}

void virtqueue_init(VirtQueue *vq, VirtQueueMapFn *map, void *opaque)
{
    memset(vq, 0, sizeof(*vq));
    vq->map = map;
    vq->opaque = opaque;
}

void virtqueue_cleanup(VirtQueue *vq)
{
    VirtQueueMapFn *map = vq->map;
    void *opaque = vq->opaque;

    g_free(vq->inflight_heads);
    g_free(vq->scratch_desc);
    g_free(vq->scratch_iov);
    g_free(vq->scratch_write);
    virtqueue_init(vq, map, opaque);
}

int virtqueue_setup(VirtQueue *vq, uint16_t num, uint64_t desc_iova,
                    uint64_t avail_iova, uint64_t used_iova,
                    uint16_t last_avail_idx, uint64_t max_bytes)
{
    /* uint16_t cannot hold 32768's successor, so 0 stands for nothing. */
    if (num == 0 || !is_power_of_2(num) || num > VIRTQUEUE_MAX_SIZE ||
        desc_iova % 16 || avail_iova % 2 || used_iova % 4) {
        return -EINVAL;
    }
    bool event_idx = vq->event_idx, indirect = vq->indirect;

    virtqueue_cleanup(vq);
    virtqueue_set_features(vq, event_idx, indirect);
    vq->num = num;
    vq->desc_iova = desc_iova;
    vq->avail_iova = avail_iova;
    vq->used_iova = used_iova;
    vq->last_avail_idx = last_avail_idx;
    vq->max_bytes = max_bytes;
    vq->inflight_heads = g_new0(unsigned long,
                                DIV_ROUND_UP(num, BITS_PER_ULONG));
    /* A chain is at most num descriptors; an indirect table likewise. */
    vq->scratch_desc = g_new(struct vring_desc_le, 2 * (size_t)num);
    vq->scratch_iov = g_new(struct iovec, VIRTQUEUE_MAX_PIECES);
    vq->scratch_write = g_new(bool, VIRTQUEUE_MAX_PIECES);
    return 0;
}

void virtqueue_set_features(VirtQueue *vq, bool event_idx, bool indirect)
{
    vq->event_idx = event_idx;
    vq->indirect = indirect;
}

/* Map [iova, iova + len) as one contiguous host range, or NULL. */
static void *vq_map_whole(VirtQueue *vq, uint64_t iova, uint64_t len,
                          bool write)
{
    uint64_t l = len;
    void *p;

    if (iova > UINT64_MAX - len) {
        return NULL;
    }
    p = vq->map(vq->opaque, iova, &l, write);
    return p && l >= len ? p : NULL;
}

int virtqueue_map_rings(VirtQueue *vq)
{
    uint64_t n = vq->num;
    void *desc, *avail, *used;

    if (!n) {
        return -EINVAL;
    }
    desc = vq_map_whole(vq, vq->desc_iova, 16 * n, false);
    avail = vq_map_whole(vq, vq->avail_iova, 6 + 2 * n, false);
    used = vq_map_whole(vq, vq->used_iova, 6 + 8 * n, true);
    /* Atomic 16-bit accesses need natural alignment on the host too. */
    if (!desc || !avail || !used || (uintptr_t)avail % 2 ||
        (uintptr_t)used % 4) {
        virtqueue_unmap_rings(vq);
        return -EFAULT;
    }
    vq->desc = desc;
    vq->avail = avail;
    vq->used = used;
    if (!vq->started) {
        /* A fresh ring holds 0 here; a resumed one the index to continue. */
        vq->used_idx = load_le16(&vq->used->idx);
        vq->signalled_used_valid = false;
        vq->started = true;
    }
    return 0;
}

void virtqueue_unmap_rings(VirtQueue *vq)
{
    vq->desc = NULL;
    vq->avail = NULL;
    vq->used = NULL;
}

bool virtqueue_rings_mapped(VirtQueue *vq)
{
    return vq->desc != NULL;
}

bool virtqueue_set_broken(VirtQueue *vq, const char *reason)
{
    if (!vq->broken) {
        vq->broken = true;
        vq->broken_reason = reason;
    }
    return false;
}

/* Copy len bytes of driver memory at iova into buf (any number of pieces). */
static bool vq_copy_from(VirtQueue *vq, uint64_t iova, void *buf,
                         uint64_t len)
{
    uint8_t *dst = buf;

    if (len && iova > UINT64_MAX - (len - 1)) {
        return false;
    }
    while (len) {
        uint64_t l = len;
        void *p = vq->map(vq->opaque, iova, &l, false);

        if (!p || l == 0) {
            return false;
        }
        l = MIN(l, len);
        memcpy(dst, p, l);
        dst += l;
        iova += l;
        len -= l;
    }
    return true;
}

/* Append the host pieces of [addr, addr + len) to the scratch iovecs. */
static bool vq_map_buf(VirtQueue *vq, uint64_t addr, uint32_t len,
                       bool write, unsigned int *n)
{
    if (addr > UINT64_MAX - (len - 1)) {
        return false;               /* wraps around the address space */
    }
    while (len) {
        uint64_t l = len;
        void *p;

        if (*n >= VIRTQUEUE_MAX_PIECES) {
            return false;
        }
        p = vq->map(vq->opaque, addr, &l, write);
        if (!p || l == 0) {
            return false;
        }
        l = MIN(l, len);
        vq->scratch_iov[*n] = (struct iovec){ .iov_base = p, .iov_len = l };
        vq->scratch_write[*n] = write;
        (*n)++;
        addr += l;
        len -= l;
    }
    return true;
}

static void vq_read_desc(struct vring_desc_le *dst,
                         const struct vring_desc_le *src)
{
    struct vring_desc_le d;

    memcpy(&d, src, sizeof(d));     /* once: the driver may change it */
    dst->addr = GUINT64_FROM_LE(d.addr);
    dst->len = GUINT32_FROM_LE(d.len);
    dst->flags = GUINT16_FROM_LE(d.flags);
    dst->next = GUINT16_FROM_LE(d.next);
}

/*
 * Walk the chain at head into vq->scratch_desc (host byte order).
 * Returns the number of descriptors, or 0 after marking the queue broken.
 */
static unsigned int vq_walk_chain(VirtQueue *vq, uint16_t head)
{
    struct vring_desc_le *chain = vq->scratch_desc;
    struct vring_desc_le *table = vq->scratch_desc + vq->num;
    struct vring_desc_le d;
    unsigned int n = 0, i = head, max;

    vq_read_desc(&d, &vq->desc[head]);
    if (d.flags & VRING_DESC_F_INDIRECT) {
        if (!vq->indirect) {
            return virtqueue_set_broken(vq, "indirect descriptor without "
                                        "VIRTIO_RING_F_INDIRECT_DESC");
        }
        if (d.flags & VRING_DESC_F_NEXT) {
            return virtqueue_set_broken(vq, "indirect descriptor with NEXT");
        }
        if (d.len == 0 || d.len % sizeof(struct vring_desc_le)) {
            return virtqueue_set_broken(vq, "indirect table size is not a "
                                        "multiple of 16");
        }
        max = d.len / sizeof(struct vring_desc_le);
        if (max > vq->num) {
            return virtqueue_set_broken(vq, "indirect table longer than the "
                                        "queue");
        }
        if (!vq_copy_from(vq, d.addr, table, d.len)) {
            return virtqueue_set_broken(vq, "indirect table not mapped");
        }
        i = 0;
        for (;;) {
            vq_read_desc(&d, &table[i]);
            if (d.flags & VRING_DESC_F_INDIRECT) {
                return virtqueue_set_broken(vq, "indirect descriptor inside "
                                            "an indirect table");
            }
            if (n == max) {
                return virtqueue_set_broken(vq, "loop in an indirect table");
            }
            chain[n++] = d;
            if (!(d.flags & VRING_DESC_F_NEXT)) {
                return n;
            }
            if (d.next >= max) {
                return virtqueue_set_broken(vq, "next index outside the "
                                            "indirect table");
            }
            i = d.next;
        }
    }

    max = vq->num;
    for (;;) {
        if (n == max) {
            return virtqueue_set_broken(vq, "descriptor chain longer than "
                                        "the queue (loop)");
        }
        if (n > 0) {
            vq_read_desc(&d, &vq->desc[i]);
        }
        if (d.flags & VRING_DESC_F_INDIRECT) {
            return virtqueue_set_broken(vq, "indirect descriptor inside a "
                                        "chain");
        }
        chain[n++] = d;
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return n;
        }
        if (d.next >= vq->num) {
            return virtqueue_set_broken(vq, "next index outside the queue");
        }
        i = d.next;
    }
}

/* Map every buffer of the chain; false if one of them is not acceptable. */
static bool vq_map_chain(VirtQueue *vq, unsigned int n,
                         unsigned int *pieces)
{
    const struct vring_desc_le *chain = vq->scratch_desc;
    uint64_t total = 0;
    bool seen_write = false;

    *pieces = 0;
    for (unsigned int i = 0; i < n; i++) {
        bool write = chain[i].flags & VRING_DESC_F_WRITE;

        if (chain[i].len == 0) {
            return false;               /* zero-sized buffer */
        }
        if (!write && seen_write) {
            return false;               /* readable after writable */
        }
        seen_write |= write;
        total += chain[i].len;
        if (total > vq->max_bytes) {
            return false;
        }
    }
    for (unsigned int i = 0; i < n; i++) {
        if (!vq_map_buf(vq, chain[i].addr, chain[i].len,
                        chain[i].flags & VRING_DESC_F_WRITE, pieces)) {
            return false;
        }
    }
    return true;
}

int virtqueue_pop(VirtQueue *vq, VirtQueueElement **pelem)
{
    VirtQueueElement *elem;
    struct vring_desc_le last;
    unsigned int n, pieces, out = 0;
    uint16_t avail_idx, head;

    *pelem = NULL;
    if (vq->broken) {
        return -EIO;
    }
    if (!vq->desc) {
        return 0;
    }
    avail_idx = load_le16_acquire(&vq->avail->idx);
    if ((uint16_t)(avail_idx - vq->last_avail_idx) > vq->num) {
        virtqueue_set_broken(vq, "avail index moved by more than the queue "
                             "size");
        return -EIO;
    }
    if (avail_idx == vq->last_avail_idx) {
        return 0;
    }
    head = load_le16(&vq->avail->ring[vq->last_avail_idx % vq->num]);
    if (head >= vq->num) {
        virtqueue_set_broken(vq, "avail ring entry outside the queue");
        return -EIO;
    }
    if (test_bit_ul(vq->inflight_heads, head)) {
        virtqueue_set_broken(vq, "head made available again while in use");
        return -EIO;
    }
    n = vq_walk_chain(vq, head);
    if (!n) {
        return -EIO;
    }
    last = vq->scratch_desc[n - 1];
    if (!(last.flags & VRING_DESC_F_WRITE) || last.len == 0) {
        virtqueue_set_broken(vq, "no device-writable status byte at the end "
                             "of the chain");
        return -EIO;
    }

    if (vq_map_chain(vq, n, &pieces)) {
        elem = g_malloc0(sizeof(*elem) + pieces * sizeof(struct iovec));
        for (unsigned int i = 0; i < pieces; i++) {
            elem->sg[i] = vq->scratch_iov[i];
            if (vq->scratch_write[i]) {
                elem->in_len += elem->sg[i].iov_len;
            } else {
                elem->out_len += elem->sg[i].iov_len;
                out++;
            }
        }
        elem->out_num = out;
        elem->in_num = pieces - out;
        elem->out_sg = elem->sg;
        elem->in_sg = elem->sg + out;
    } else {
        /* Only the last byte of the chain can take an error status. */
        uint64_t l = 1;
        uint64_t iova = last.addr + last.len - 1;
        void *p = NULL;

        if (last.addr <= UINT64_MAX - (last.len - 1)) {
            p = vq->map(vq->opaque, iova, &l, true);
        }
        if (!p || l == 0) {
            virtqueue_set_broken(vq, "status byte not mapped");
            return -EIO;
        }
        elem = g_malloc0(sizeof(*elem));
        elem->malformed = true;
        elem->status_iov = (struct iovec){ .iov_base = p, .iov_len = 1 };
    }
    elem->head = head;
    vq->last_avail_idx++;
    vq->inflight++;
    set_bit_ul(vq->inflight_heads, head, true);
    *pelem = elem;
    return 1;
}

void virtqueue_push(VirtQueue *vq, const VirtQueueElement *elem,
                    uint32_t len)
{
    struct vring_used_elem_le u = {
        .id = GUINT32_TO_LE(elem->head),
        .len = GUINT32_TO_LE(len),
    };

    assert(test_bit_ul(vq->inflight_heads, elem->head));
    set_bit_ul(vq->inflight_heads, elem->head, false);
    vq->inflight--;
    if (!vq->used && virtqueue_map_rings(vq) < 0) {
        virtqueue_set_broken(vq, "used ring not mapped at completion");
        return;
    }
    memcpy(&vq->used->ring[vq->used_idx % vq->num], &u, sizeof(u));
    vq->used_idx++;
    __atomic_store_n(&vq->used->idx, GUINT16_TO_LE(vq->used_idx),
                     __ATOMIC_RELEASE);
}

bool virtqueue_enable_notification(VirtQueue *vq)
{
    if (!vq->avail || vq->broken) {
        return false;
    }
    if (vq->event_idx) {
        uint16_t *avail_event = (uint16_t *)&vq->used->ring[vq->num];

        __atomic_store_n(avail_event, GUINT16_TO_LE(vq->last_avail_idx),
                         __ATOMIC_RELAXED);
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    return load_le16_acquire(&vq->avail->idx) != vq->last_avail_idx;
}

bool virtqueue_should_notify(VirtQueue *vq)
{
    uint16_t old, new, event;
    bool valid;

    if (!vq->avail) {
        return false;
    }
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (!vq->event_idx) {
        return !(load_le16(&vq->avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
    }
    old = vq->signalled_used;
    valid = vq->signalled_used_valid;
    new = vq->signalled_used = vq->used_idx;
    vq->signalled_used_valid = true;
    if (!valid) {
        return true;
    }
    event = load_le16(&vq->avail->ring[vq->num]);
    /* Interrupt iff used_event lies in [old, new). */
    return (uint16_t)(new - event - 1) < (uint16_t)(new - old);
}
