/*
 * Write-pointer tracker of a zoned device (see include/block/zone-wp.h).
 *
 * Each sequential zone has a FIFO of waiting requests.  While it is not
 * empty, one worker coroutine per zone serves it: it re-reads the zone if
 * a failure left it unknown, picks the next device write (a write at the
 * write pointer, else all the appends that fit into one vectored write,
 * else the oldest write), issues it, completes the requests it carried and
 * goes on until the queue is empty.  Callers only enqueue and wait, so the
 * zones progress independently, and a zone never has two device calls in
 * flight.  A management call puts a barrier into each zone of its range,
 * all at once (so two of them cannot deadlock); the worker hands a zone
 * over when the barrier reaches the head.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/zone-wp.h"
#include "qapi/error.h"

typedef enum ZoneWpReqKind {
    ZWP_WRITE,
    ZWP_APPEND,
    ZWP_BARRIER,            /* a management call waiting for the zone */
} ZoneWpReqKind;

typedef struct ZoneWpReq {
    ZoneWpReqKind kind;
    int64_t offset;         /* write: where; append: where it landed */
    QEMUIOVector *qiov;
    Coroutine *co;
    int ret;
    bool done;
    bool waiting;           /* co is yielded in zwp_wait() */
    QTAILQ_ENTRY(ZoneWpReq) next;
} ZoneWpReq;

typedef QTAILQ_HEAD(, ZoneWpReq) ZoneWpQueue;

typedef struct ZoneWpZone {
    uint64_t len;
    uint64_t cap;
    ZoneWpQueue queue;      /* waiting requests, in arrival order */
    bool worker;            /* a worker coroutine serves the queue */
    bool held;              /* owned by a management call */
    bool resync;            /* re-read before the next device write */
} ZoneWpZone;

struct ZoneWpTracker {
    ZoneWpConfig cfg;
    const ZoneWpOps *ops;
    void *opaque;
    ZoneWpZone *zones;
    BlockZoneWps *wps;
    unsigned int busy_zones;
    ZoneWpStats stats;
};

typedef struct ZoneWpWorker {
    ZoneWpTracker *t;
    unsigned int index;
} ZoneWpWorker;

uint64_t zone_wp_value(const BlockZoneDescriptor *zone)
{
    uint64_t end = zone->start + zone->length;

    if (zone->type == BLK_ZT_CONV) {
        return BLK_ZONE_WP_CONV | zone->start;
    }
    switch (zone->state) {
    case BLK_ZS_OFFLINE:
        return BLK_ZONE_WP_OFFLINE | end;
    case BLK_ZS_RDONLY:
        return BLK_ZONE_WP_RDONLY | end;
    case BLK_ZS_FULL:
        return end;
    default:
        if (zone->wp >= zone->start + zone->cap) {
            return end;
        }
        /* A pointer before the start cannot be; writes there fail anyway. */
        return MAX(zone->wp, zone->start);
    }
}

static inline uint64_t zwp_start(ZoneWpTracker *t, unsigned int i)
{
    return (uint64_t)i * t->cfg.zone_size;
}

static inline bool zwp_is_conv(ZoneWpTracker *t, unsigned int i)
{
    return t->wps->wp[i] & BLK_ZONE_WP_CONV;
}

/* ---- waiting ---- */

static void coroutine_fn zwp_wait(ZoneWpReq *r)
{
    while (!r->done) {
        r->waiting = true;
        qemu_coroutine_yield();
        r->waiting = false;
    }
}

/*
 * Wake only a requester that is actually yielded: one that has not reached
 * zwp_wait() yet (it entered the worker that completes it) sees done.
 */
static void zwp_complete(ZoneWpReq *r, int ret)
{
    r->ret = ret;
    r->done = true;
    if (r->waiting) {
        aio_co_wake(r->co);
    }
}

/* ---- device calls ---- */

static void zwp_busy(ZoneWpTracker *t, bool busy)
{
    if (busy) {
        t->busy_zones++;
        t->stats.max_busy_zones = MAX(t->stats.max_busy_zones,
                                      t->busy_zones);
    } else {
        t->busy_zones--;
    }
}

static int coroutine_fn zwp_device_write(ZoneWpTracker *t, int64_t offset,
                                         QEMUIOVector *qiov)
{
    int ret;

    t->stats.device_writes++;
    zwp_busy(t, true);
    ret = t->ops->pwritev(t->opaque, offset, qiov);
    zwp_busy(t, false);
    return ret;
}

/* Re-read zone i from the device. */
static int coroutine_fn zwp_resync(ZoneWpTracker *t, unsigned int i)
{
    ZoneWpZone *z = &t->zones[i];
    BlockZoneDescriptor d;
    unsigned int n = 1;
    int ret;

    t->stats.resyncs++;
    zwp_busy(t, true);
    ret = t->ops->report(t->opaque, zwp_start(t, i), &n, &d);
    zwp_busy(t, false);
    if (ret < 0) {
        return ret;
    }
    if (n < 1 || d.start != zwp_start(t, i)) {
        return -EIO;
    }
    z->cap = MIN(d.cap, z->len);
    t->wps->wp[i] = zone_wp_value(&d);
    z->resync = false;
    return 0;
}

/* Data now ends at end in sequential zone i. */
static void zwp_advance(ZoneWpTracker *t, unsigned int i, uint64_t end)
{
    ZoneWpZone *z = &t->zones[i];
    uint64_t start = zwp_start(t, i);

    t->wps->wp[i] = end >= start + z->cap ? start + z->len : end;
}

/* ---- the worker of a zone ---- */

static void coroutine_fn zwp_run_write(ZoneWpTracker *t, unsigned int i,
                                       ZoneWpReq *r)
{
    ZoneWpZone *z = &t->zones[i];
    bool at_wp = (uint64_t)r->offset == t->wps->wp[i];
    int ret;

    QTAILQ_REMOVE(&z->queue, r, next);
    ret = zwp_device_write(t, r->offset, r->qiov);
    if (ret == 0 && at_wp) {
        zwp_advance(t, i, r->offset + r->qiov->size);
    } else {
        /* Failed, or succeeded where the cache said it could not. */
        z->resync = true;
    }
    zwp_complete(r, ret);
}

/*
 * Issue the waiting appends (those before the first barrier, in arrival
 * order) that fit into one device write at the write pointer.  An append
 * that would cross the zone capacity fails alone; one that would exceed
 * max_transfer or max_iov waits for the next write.
 */
static void coroutine_fn zwp_run_appends(ZoneWpTracker *t, unsigned int i)
{
    ZoneWpZone *z = &t->zones[i];
    uint64_t wp = t->wps->wp[i];
    uint64_t limit = zwp_start(t, i) + z->cap;
    uint64_t max_bytes = t->cfg.max_transfer ? t->cfg.max_transfer
                                             : UINT64_MAX;
    int max_iov = t->cfg.max_iov > 0 ? t->cfg.max_iov : IOV_MAX;
    bool special = wp & BLK_ZONE_WP_FLAGS;
    ZoneWpQueue batch = QTAILQ_HEAD_INITIALIZER(batch);
    QEMUIOVector qiov;
    ZoneWpReq *r, *next;
    uint64_t cur = wp, n = 0;
    int niov = 0, ret;

    for (r = QTAILQ_FIRST(&z->queue); r && r->kind != ZWP_BARRIER;
         r = next) {
        uint64_t size;

        next = QTAILQ_NEXT(r, next);
        if (r->kind != ZWP_APPEND) {
            continue;
        }
        size = r->qiov->size;
        if (special || cur + size > limit) {
            /* Read-only, offline, full, or no room left: as the kernel. */
            QTAILQ_REMOVE(&z->queue, r, next);
            t->stats.rejected++;
            zwp_complete(r, -EIO);
            continue;
        }
        if (n > 0 && (cur - wp + size > max_bytes ||
                      niov + r->qiov->niov > max_iov)) {
            break;
        }
        QTAILQ_REMOVE(&z->queue, r, next);
        QTAILQ_INSERT_TAIL(&batch, r, next);
        r->offset = cur;
        cur += size;
        niov += r->qiov->niov;
        n++;
    }
    if (n == 0) {
        return;
    }

    qemu_iovec_init(&qiov, niov);
    QTAILQ_FOREACH(r, &batch, next) {
        qemu_iovec_concat(&qiov, r->qiov, 0, r->qiov->size);
    }
    ret = zwp_device_write(t, wp, &qiov);
    qemu_iovec_destroy(&qiov);
    if (ret == 0) {
        zwp_advance(t, i, cur);
        t->stats.appends += n;
        t->stats.append_writes++;
        t->stats.max_coalesced = MAX(t->stats.max_coalesced, n);
    } else {
        z->resync = true;
    }
    QTAILQ_FOREACH_SAFE(r, &batch, next, next) {
        QTAILQ_REMOVE(&batch, r, next);
        zwp_complete(r, ret);
    }
}

/* One device write (or a failed re-read) for zone i. */
static void coroutine_fn zwp_serve(ZoneWpTracker *t, unsigned int i)
{
    ZoneWpZone *z = &t->zones[i];
    ZoneWpReq *head = QTAILQ_FIRST(&z->queue);
    ZoneWpReq *r, *first_append = NULL;
    int ret;

    if (z->resync) {
        ret = zwp_resync(t, i);
        if (ret < 0) {
            /* The pointer is unknown: fail one request, then try again. */
            QTAILQ_REMOVE(&z->queue, head, next);
            zwp_complete(head, ret);
            return;
        }
    }

    QTAILQ_FOREACH(r, &z->queue, next) {
        if (r->kind == ZWP_BARRIER) {
            break;
        }
        if (r->kind == ZWP_WRITE && (uint64_t)r->offset == t->wps->wp[i]) {
            zwp_run_write(t, i, r);
            return;
        }
        if (r->kind == ZWP_APPEND && !first_append) {
            first_append = r;
        }
    }
    if (first_append) {
        zwp_run_appends(t, i);
    } else {
        /* Not at the pointer: the device decides (and rejects it). */
        zwp_run_write(t, i, head);
    }
}

static void coroutine_fn zwp_worker(void *opaque)
{
    ZoneWpWorker *w = opaque;
    ZoneWpTracker *t = w->t;
    unsigned int i = w->index;
    ZoneWpZone *z = &t->zones[i];
    ZoneWpReq *head;

    g_free(w);
    while ((head = QTAILQ_FIRST(&z->queue)) != NULL) {
        if (head->kind == ZWP_BARRIER) {
            QTAILQ_REMOVE(&z->queue, head, next);
            z->held = true;
            zwp_complete(head, 0);
            break;
        }
        zwp_serve(t, i);
    }
    z->worker = false;
}

/* Start a worker for zone i if it has work and nobody serves it. */
static void zwp_kick(ZoneWpTracker *t, unsigned int i)
{
    ZoneWpZone *z = &t->zones[i];
    ZoneWpWorker *w;

    if (z->worker || z->held || QTAILQ_EMPTY(&z->queue)) {
        return;
    }
    z->worker = true;
    w = g_new(ZoneWpWorker, 1);
    w->t = t;
    w->index = i;
    qemu_coroutine_enter(qemu_coroutine_create(zwp_worker, w));
}

static int coroutine_fn zwp_submit(ZoneWpTracker *t, unsigned int i,
                                   ZoneWpReq *r)
{
    r->co = qemu_coroutine_self();
    QTAILQ_INSERT_TAIL(&t->zones[i].queue, r, next);
    zwp_kick(t, i);
    zwp_wait(r);
    return r->ret;
}

/*
 * Take zones [first, last] for a management call, after what is queued
 * there now.  The barriers go into every queue before anything can run,
 * so requests submitted after the call come after it in all its zones,
 * and two calls hold their common zones in the same order (no deadlock).
 * A queue that is not empty always has a worker or a holder, which will
 * reach the barrier: no kick is needed.
 */
static void coroutine_fn zwp_acquire(ZoneWpTracker *t, unsigned int first,
                                     unsigned int last)
{
    unsigned int n = last - first + 1;
    g_autofree ZoneWpReq *b = g_new0(ZoneWpReq, n);

    for (unsigned int k = 0; k < n; k++) {
        ZoneWpZone *z = &t->zones[first + k];

        if (!z->worker && !z->held && QTAILQ_EMPTY(&z->queue)) {
            z->held = true;
            b[k].done = true;
        } else {
            b[k].kind = ZWP_BARRIER;
            b[k].co = qemu_coroutine_self();
            QTAILQ_INSERT_TAIL(&z->queue, &b[k], next);
        }
    }
    for (unsigned int k = 0; k < n; k++) {
        zwp_wait(&b[k]);
        assert(t->zones[first + k].held);
    }
}

static void zwp_release(ZoneWpTracker *t, unsigned int i)
{
    t->zones[i].held = false;
    zwp_kick(t, i);
}

/* ---- API ---- */

ZoneWpTracker *zone_wp_new(const ZoneWpConfig *cfg, const ZoneWpOps *ops,
                           void *opaque, const BlockZoneDescriptor *zones,
                           unsigned int nr_zones, Error **errp)
{
    ZoneWpTracker *t;
    uint64_t expect;

    if (!cfg->zone_size || (cfg->zone_size & (cfg->zone_size - 1))) {
        error_setg(errp, "Zone size %" PRIu64 " is not a power of two",
                   cfg->zone_size);
        return NULL;
    }
    expect = DIV_ROUND_UP(cfg->length, cfg->zone_size);
    if (expect == 0 || expect > UINT32_MAX || nr_zones != expect) {
        error_setg(errp, "The zone report lists %u zones, but a length of %"
                   PRIu64 " bytes in zones of %" PRIu64 " bytes makes %"
                   PRIu64, nr_zones, cfg->length, cfg->zone_size, expect);
        return NULL;
    }
    for (unsigned int i = 0; i < nr_zones; i++) {
        const BlockZoneDescriptor *d = &zones[i];
        uint64_t start = (uint64_t)i * cfg->zone_size;
        uint64_t len = MIN(cfg->zone_size, cfg->length - start);

        if (d->start != start || d->length != len) {
            error_setg(errp, "Zone %u is reported at %" PRIu64 " (%" PRIu64
                       " bytes); expected %" PRIu64 " (%" PRIu64 " bytes)",
                       i, d->start, d->length, start, len);
            return NULL;
        }
        if (d->cap == 0 || d->cap > len) {
            error_setg(errp, "Zone %u at %" PRIu64 " has a capacity of %"
                       PRIu64 " bytes, outside 1..%" PRIu64, i, start,
                       d->cap, len);
            return NULL;
        }
    }

    t = g_new0(ZoneWpTracker, 1);
    t->cfg = *cfg;
    t->ops = ops;
    t->opaque = opaque;
    t->zones = g_new0(ZoneWpZone, nr_zones);
    t->wps = g_malloc0(sizeof(BlockZoneWps) + nr_zones * sizeof(uint64_t));
    t->wps->nr_zones = nr_zones;
    for (unsigned int i = 0; i < nr_zones; i++) {
        ZoneWpZone *z = &t->zones[i];

        z->len = zones[i].length;
        z->cap = zones[i].cap;
        QTAILQ_INIT(&z->queue);
        t->wps->wp[i] = zone_wp_value(&zones[i]);
    }
    return t;
}

void zone_wp_free(ZoneWpTracker *t)
{
    if (!t) {
        return;
    }
    for (unsigned int i = 0; i < t->wps->nr_zones; i++) {
        assert(QTAILQ_EMPTY(&t->zones[i].queue));
        assert(!t->zones[i].worker && !t->zones[i].held);
    }
    g_free(t->zones);
    g_free(t->wps);
    g_free(t);
}

static int coroutine_fn zwp_write_zone(ZoneWpTracker *t, unsigned int i,
                                       int64_t offset, QEMUIOVector *qiov)
{
    ZoneWpReq r = { .kind = ZWP_WRITE, .offset = offset, .qiov = qiov };

    if (zwp_is_conv(t, i)) {
        /* No pointer to keep: any number in flight, in any order. */
        t->stats.device_writes++;
        return t->ops->pwritev(t->opaque, offset, qiov);
    }
    t->stats.writes++;
    return zwp_submit(t, i, &r);
}

int coroutine_fn zone_wp_pwritev(ZoneWpTracker *t, int64_t offset,
                                 QEMUIOVector *qiov)
{
    uint64_t size = qiov->size;
    uint64_t done = 0;

    if (offset < 0 || size > t->cfg.length ||
        (uint64_t)offset > t->cfg.length - size) {
        return -EINVAL;
    }
    while (done < size) {
        uint64_t pos = offset + done;
        unsigned int i = pos / t->cfg.zone_size;
        uint64_t piece = MIN(size - done,
                             zwp_start(t, i) + t->zones[i].len - pos);
        QEMUIOVector slice;
        int ret;

        if (piece == size) {
            return zwp_write_zone(t, i, pos, qiov);
        }
        qemu_iovec_init_slice(&slice, qiov, done, piece);
        ret = zwp_write_zone(t, i, pos, &slice);
        qemu_iovec_destroy(&slice);
        if (ret < 0) {
            return ret;
        }
        done += piece;
    }
    return 0;
}

int coroutine_fn zone_wp_append(ZoneWpTracker *t, int64_t *offset,
                                QEMUIOVector *qiov)
{
    ZoneWpReq r = { .kind = ZWP_APPEND, .qiov = qiov };
    uint64_t size = qiov->size;
    uint64_t gran = MAX(t->cfg.write_granularity, 1);
    unsigned int i;
    int ret;

    /* Every refusal is -EIO, as the kernel's (see zone-wp.h). */
    if (*offset < 0 || (uint64_t)*offset >= t->cfg.length ||
        *offset % t->cfg.zone_size) {
        goto reject;
    }
    i = *offset / t->cfg.zone_size;
    if (size == 0 || size % gran || size > t->zones[i].cap ||
        (t->cfg.max_append_bytes && size > t->cfg.max_append_bytes) ||
        zwp_is_conv(t, i)) {
        goto reject;
    }
    ret = zwp_submit(t, i, &r);
    if (ret == 0) {
        *offset = r.offset;
    }
    return ret;

reject:
    t->stats.rejected++;
    return -EIO;
}

int coroutine_fn zone_wp_mgmt(ZoneWpTracker *t, BlockZoneOp op,
                              int64_t offset, int64_t len)
{
    uint64_t zs = t->cfg.zone_size;
    unsigned int first, last;
    int ret;

    if (op == BLK_ZO_RESET_ALL) {
        offset = 0;
        len = t->cfg.length;
    }
    if (offset < 0 || len <= 0 || offset % zs ||
        (uint64_t)offset >= t->cfg.length ||
        (uint64_t)len > t->cfg.length - offset ||
        ((uint64_t)(offset + len) != t->cfg.length && (offset + len) % zs)) {
        return -EINVAL;
    }
    first = offset / zs;
    last = (offset + len - 1) / zs;

    zwp_acquire(t, first, last);
    t->stats.mgmt_calls++;
    zwp_busy(t, true);
    ret = t->ops->mgmt(t->opaque, op, offset, len);
    zwp_busy(t, false);
    for (unsigned int i = first; i <= last; i++) {
        uint64_t wp = t->wps->wp[i];

        if (wp & BLK_ZONE_WP_CONV) {
            continue;
        }
        if (ret < 0) {
            t->zones[i].resync = true;
        } else if (!(wp & (BLK_ZONE_WP_RDONLY | BLK_ZONE_WP_OFFLINE))) {
            /* The kernel leaves read-only and offline zones alone. */
            if (op == BLK_ZO_RESET || op == BLK_ZO_RESET_ALL) {
                t->wps->wp[i] = zwp_start(t, i);
                t->zones[i].resync = false;
            } else if (op == BLK_ZO_FINISH) {
                t->wps->wp[i] = zwp_start(t, i) + t->zones[i].len;
                t->zones[i].resync = false;
            }
        }
    }
    for (unsigned int i = first; i <= last; i++) {
        zwp_release(t, i);
    }
    return ret;
}

const BlockZoneWps *zone_wp_get_wps(ZoneWpTracker *t)
{
    return t->wps;
}

uint64_t zone_wp_zone_capacity(ZoneWpTracker *t, unsigned int index)
{
    assert(index < t->wps->nr_zones);
    return t->zones[index].cap;
}

void zone_wp_get_stats(ZoneWpTracker *t, ZoneWpStats *stats)
{
    *stats = t->stats;
}
