/*
 * The "zoned" image format: a host-managed zoned disk kept in any file or
 * regular block device, with the kernel's zoned null_blk semantics (the
 * state machine of block/zone-model.c) and a persistent zone table.
 *
 * Requests: writes and appends go through the write-pointer tracker
 * (block/zone-wp.c), whose "device" is this file: for each device write
 * the zone model checks and applies the transition, then the data goes
 * to the child "file" at data_offset.  The tracker keeps one write per
 * zone in flight and coalesces waiting appends into one write.
 *
 * Persistence (docs/zoned-format.md): the zone table lives in two
 * alternating checksummed slots.  A flush makes the data durable first,
 * then writes the next slot and makes it durable; a plain write costs no
 * metadata write.  A reset is durable when it completes: the slot that
 * says "empty, reset pending" is written before the data is discarded.
 * At open the newest valid slot is loaded and zones that may have been
 * written after it are scanned forward for data really written.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/keyval.h"
#include "sysemu/block-backend.h"
#include "zoned-int.h"

/* Bytes read at a time when scanning a zone for written data. */
#define ZONED_SCAN_CHUNK (1024 * 1024)

/* ---- helpers ---- */

static const char *zoned_name(BlockDriverState *bs)
{
    return bs->file && bs->file->bs->filename[0] ? bs->file->bs->filename
                                                 : bs->node_name;
}

static void zoned_add_finding(BDRVZonedState *s, bool corruption,
                              bool fixed, char *msg)
{
    ZonedFinding *f = g_new0(ZonedFinding, 1);

    f->msg = msg;
    f->corruption = corruption;
    f->fixed = fixed;
    g_ptr_array_add(s->findings, f);
}

static void zoned_finding_free(gpointer p)
{
    ZonedFinding *f = p;

    g_free(f->msg);
    g_free(f);
}

typedef struct ZonedCo {
    BlockDriverState *bs;
    int (*fn)(BlockDriverState *bs, void *opaque);
    void *opaque;
    int ret;
    bool done;
} ZonedCo;

static void coroutine_fn zoned_co_entry(void *opaque)
{
    ZonedCo *c = opaque;

    c->ret = c->fn(c->bs, c->opaque);
    __atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
}

int zoned_run_co(BlockDriverState *bs,
                 int (*fn)(BlockDriverState *bs, void *opaque),
                 void *opaque)
{
    ZonedCo c = { .bs = bs, .fn = fn, .opaque = opaque };

    if (qemu_in_coroutine()) {
        return fn(bs, opaque);
    }
    bdrv_poll_co(bdrv_get_aio_context(bs), zoned_co_entry, &c, &c.done);
    return c.ret;
}

/* ---- the zone table: snapshot and persistence ---- */

/*
 * The entry of zone i as it may be persisted now: only completed writes
 * count, open zones are recorded as closed (they come back closed).
 */
static void zoned_snapshot_entry(BDRVZonedState *s, uint32_t i,
                                 ZonedEntry *e)
{
    const BlockZoneDescriptor *d = &s->model.zones[i];
    ZonedZone *z = &s->zones[i];
    uint64_t start = zoned_zone_start(&s->hdr, i);
    uint64_t cap = zoned_zone_cap(&s->hdr, i);

    memset(e, 0, sizeof(*e));
    if (i < s->hdr.nr_conv) {
        e->cond = BLK_ZS_NOT_WP;
        e->wp = d->wp;
        return;
    }
    e->data_end = z->data_end;
    if (z->writing || zoned_is_seq_state_writable(d->state)) {
        /* A write in flight cannot make a zone full before it lands. */
        e->wp = z->data_end;
        e->cond = z->data_end == start ? BLK_ZS_EMPTY :
                  z->data_end >= start + cap ? BLK_ZS_FULL : BLK_ZS_CLOSED;
    } else {
        e->wp = d->wp;
        e->cond = d->state;
    }
    if (z->reset == ZONED_RESET_PENDING) {
        e->flags |= ZONED_ENTRY_RESET_PENDING;
    }
}

/*
 * Write the next slot: first make the data the snapshot vouches for
 * durable, then write the slot, then make it durable.  The other slot
 * (the newest durable one) is never touched, so a crash at any point
 * leaves one valid slot.  Called with meta_lock held.
 */
static int coroutine_fn zoned_persist_locked(BlockDriverState *bs)
{
    BDRVZonedState *s = bs->opaque;
    ZonedHeader *h = &s->hdr;
    g_autofree ZonedEntry *e = g_new(ZonedEntry, h->nr_zones);
    g_autofree bool *discarded = g_new0(bool, h->nr_zones);
    uint64_t gen = s->generation + 1;
    uint64_t seq;
    QEMUIOVector qiov;
    int ret;

    for (uint32_t i = 0; i < h->nr_zones; i++) {
        zoned_snapshot_entry(s, i, &e[i]);
        discarded[i] = s->zones[i].reset == ZONED_RESET_DISCARDED;
    }
    seq = ++s->snap_started;
    s->dirty = false;

    ret = bdrv_co_flush(bs->file->bs);
    if (ret < 0) {
        goto fail;
    }
    zoned_slot_encode(h, gen, e, s->slot_buf);
    qemu_iovec_init_buf(&qiov, s->slot_buf, h->slot_size);
    ret = bdrv_co_pwritev(bs->file, h->slot_offset[gen & 1], h->slot_size,
                          &qiov, 0);
    if (ret < 0) {
        goto fail;
    }
    ret = bdrv_co_flush(bs->file->bs);
    if (ret < 0) {
        goto fail;
    }
    s->generation = gen;
    s->snap_durable = seq;
    for (uint32_t i = 0; i < h->nr_zones; i++) {
        /* The flush before the slot made those discards durable. */
        if (discarded[i] && s->zones[i].reset == ZONED_RESET_DISCARDED) {
            s->zones[i].reset = ZONED_RESET_NONE;
        }
    }
    return 0;

fail:
    /* The slot may be torn: the next attempt rewrites the same one. */
    s->dirty = true;
    return ret;
}

static int coroutine_fn zoned_co_flush(BlockDriverState *bs)
{
    BDRVZonedState *s = bs->opaque;
    uint64_t ticket = s->snap_started;
    int ret = 0;

    if (!s->dirty || bs->read_only) {
        return 0;           /* the core flushes the file */
    }
    qemu_co_mutex_lock(&s->meta_lock);
    /* A snapshot taken after we arrived covers our writes: batch. */
    if (s->dirty && s->snap_durable <= ticket) {
        ret = zoned_persist_locked(bs);
    }
    qemu_co_mutex_unlock(&s->meta_lock);
    return ret;
}

/* Discard the data of zone i (a reset): a hole, or zeroes on devices. */
static int coroutine_fn zoned_discard_zone(BlockDriverState *bs, uint32_t i,
                                           uint64_t from)
{
    BDRVZonedState *s = bs->opaque;
    uint64_t end = zoned_zone_start(&s->hdr, i) + zoned_zone_len(&s->hdr, i);

    if (from >= end) {
        return 0;
    }
    return bdrv_co_pwrite_zeroes(bs->file, s->hdr.data_offset + from,
                                 end - from, BDRV_REQ_MAY_UNMAP);
}

static int coroutine_fn zoned_finish_reset(BlockDriverState *bs, uint32_t i)
{
    BDRVZonedState *s = bs->opaque;
    int ret = zoned_discard_zone(bs, i, zoned_zone_start(&s->hdr, i));

    if (ret == 0) {
        s->zones[i].reset = ZONED_RESET_DISCARDED;
    }
    return ret;
}

/* ---- the "device" of the write-pointer tracker ---- */

static int coroutine_fn zoned_dev_pwritev(void *opaque, int64_t offset,
                                          QEMUIOVector *qiov)
{
    BlockDriverState *bs = opaque;
    BDRVZonedState *s = bs->opaque;
    uint32_t i = offset >> s->zone_shift;
    ZonedZone *z = &s->zones[i];
    BlockZoneDescriptor old;
    uint64_t landed;
    uint32_t closed;
    int ret;

    if (i < s->hdr.nr_conv) {
        ret = zone_model_write(&s->model, offset, qiov->size, false, &landed,
                               &closed);
        if (ret < 0) {
            return ret;
        }
        return bdrv_co_pwritev(bs->file, s->hdr.data_offset + offset,
                               qiov->size, qiov, 0);
    }
    if (z->reset == ZONED_RESET_PENDING) {
        /* The stale data must go before new data lands among it. */
        ret = zoned_finish_reset(bs, i);
        if (ret < 0) {
            return ret;
        }
    }
    old = s->model.zones[i];
    ret = zone_model_write(&s->model, offset, qiov->size, false, &landed,
                           &closed);
    if (ret < 0) {
        return ret;
    }
    z->writing = true;
    ret = bdrv_co_pwritev(bs->file, s->hdr.data_offset + landed, qiov->size,
                          qiov, 0);
    z->writing = false;
    if (ret < 0) {
        /* Put the zone back; a zone closed to make room stays closed. */
        if (zone_model_set_zone(&s->model, i, old.state, old.wp) < 0) {
            zone_model_set_zone(&s->model, i, old.wp == old.start ?
                                BLK_ZS_EMPTY : BLK_ZS_CLOSED, old.wp);
        }
        zone_model_recount(&s->model);
        /* Best effort: no half-written data beyond the write pointer. */
        bdrv_co_pwrite_zeroes(bs->file, s->hdr.data_offset + landed,
                              qiov->size, BDRV_REQ_MAY_UNMAP);
        return ret;
    }
    z->data_end = landed + qiov->size;
    s->dirty = true;
    return 0;
}

static int coroutine_fn zoned_dev_report(void *opaque, int64_t offset,
                                         unsigned int *nr_zones,
                                         BlockZoneDescriptor *zones)
{
    BlockDriverState *bs = opaque;
    BDRVZonedState *s = bs->opaque;

    *nr_zones = zone_model_report(&s->model, offset, *nr_zones, zones);
    return 0;
}

/*
 * Management.  The tracker holds the zones of the range.  A reset is
 * made durable before the data goes: the slot says "empty, reset
 * pending", so a crash in between comes back empty and discards again.
 */
static int coroutine_fn zoned_dev_mgmt(void *opaque, BlockZoneOp op,
                                       int64_t offset, int64_t len)
{
    BlockDriverState *bs = opaque;
    BDRVZonedState *s = bs->opaque;
    uint32_t nr = s->hdr.nr_zones;
    g_autofree unsigned long *changed = zoned_bitmap_new(nr);
    bool reset = op == BLK_ZO_RESET || op == BLK_ZO_RESET_ALL;
    bool any = false;
    int ret;

    if (!reset) {
        ret = zone_model_mgmt(&s->model, op, offset, len, changed);
        s->dirty = true;
        return ret;
    }

    qemu_co_mutex_lock(&s->meta_lock);
    /* A range goes on after a failing zone: the others may be reset. */
    ret = zone_model_mgmt(&s->model, op, offset, len, changed);
    for (uint32_t i = s->hdr.nr_conv; i < nr; i++) {
        if (zoned_test_bit(changed, i)) {
            s->zones[i].data_end = zoned_zone_start(&s->hdr, i);
            s->zones[i].reset = ZONED_RESET_PENDING;
            any = true;
        }
    }
    if (any) {
        int pret;

        s->dirty = true;
        pret = zoned_persist_locked(bs);
        if (pret < 0) {
            /* Still pending: the next write to such a zone discards. */
            ret = pret;
        } else {
            for (uint32_t i = s->hdr.nr_conv; i < nr; i++) {
                /* A failed discard stays pending; the reset is done. */
                if (zoned_test_bit(changed, i) &&
                    s->zones[i].reset == ZONED_RESET_PENDING) {
                    zoned_finish_reset(bs, i);
                }
            }
        }
    }
    qemu_co_mutex_unlock(&s->meta_lock);
    return ret;
}

static const ZoneWpOps zoned_wp_ops = {
    .pwritev = zoned_dev_pwritev,
    .report = zoned_dev_report,
    .mgmt = zoned_dev_mgmt,
};

/* ---- loading ---- */

typedef struct ZonedLoad {
    int flags;
    Error **errp;
} ZonedLoad;

/*
 * Read both slots; load the newest valid one into entries.  An invalid
 * slot is a finding (a torn update leaves one behind); two are an error.
 */
static int coroutine_fn zoned_load_slots(BlockDriverState *bs,
                                         ZonedEntry *entries, bool writable,
                                         Error **errp)
{
    BDRVZonedState *s = bs->opaque;
    ZonedHeader *h = &s->hdr;
    g_autofree ZonedEntry *other = g_new(ZonedEntry, h->nr_zones);
    char *reason[2] = { NULL, NULL };
    uint64_t gen[2] = { 0, 0 };
    bool valid[2];
    int best, ret;

    for (int k = 0; k < 2; k++) {
        QEMUIOVector qiov;

        qemu_iovec_init_buf(&qiov, s->slot_buf, h->slot_size);
        ret = bdrv_co_preadv(bs->file, h->slot_offset[k], h->slot_size,
                             &qiov, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not read metadata slot %d "
                             "of zoned image '%s'", k, zoned_name(bs));
            g_free(reason[0]);
            return ret;
        }
        valid[k] = zoned_slot_decode(h, s->slot_buf, &gen[k],
                                     k == 0 ? entries : other, &reason[k]);
    }
    if (!valid[0] && !valid[1]) {
        error_setg(errp, "Zoned image '%s' has no valid metadata: slot 0 "
                   "(offset %" PRIu64 "): %s; slot 1 (offset %" PRIu64 "): "
                   "%s", zoned_name(bs), h->slot_offset[0], reason[0],
                   h->slot_offset[1], reason[1]);
        g_free(reason[0]);
        g_free(reason[1]);
        return -EINVAL;
    }
    best = !valid[0] || (valid[1] && gen[1] > gen[0]);
    if (best == 1) {
        memcpy(entries, other, h->nr_zones * sizeof(*entries));
    }
    s->generation = gen[best];
    if (!valid[!best]) {
        /* A writable open rewrites it (the next slot is that one). */
        zoned_add_finding(s, false, writable, g_strdup_printf(
            "metadata slot %d (offset %" PRIu64 ") is invalid (%s); slot %d "
            "(generation %" PRIu64 ") is used", !best,
            h->slot_offset[!best], reason[!best], best, gen[best]));
        s->dirty = true;
        s->bad_slot = !best;
    }
    g_free(reason[0]);
    g_free(reason[1]);
    return 0;
}

/*
 * Zone i may have been written after the slot: find where the data
 * really written since data_end ends.  Only allocated blocks that do not
 * read as all zeroes count (a preallocated file or a device is allocated
 * everywhere), so data written as zeroes after the last flush is not
 * recovered: the write pointer stays below it, which the contract allows.
 */
static int coroutine_fn zoned_scan_zone(BlockDriverState *bs, uint32_t i,
                                        uint8_t *buf, uint64_t *end)
{
    BDRVZonedState *s = bs->opaque;
    BlockDriverState *file = bs->file->bs;
    uint64_t bsz = s->hdr.block_size;
    uint64_t limit = zoned_zone_start(&s->hdr, i) + zoned_zone_cap(&s->hdr, i);
    uint64_t pos = s->zones[i].data_end;
    /* Most zones hold nothing new: look at one block first, then more. */
    uint64_t chunk = bsz;

    while (pos < limit) {
        int64_t pnum = 0, map;
        BlockDriverState *f;
        uint64_t run;
        int ret;

        ret = bdrv_co_block_status(file, true, s->hdr.data_offset + pos,
                                   limit - pos, &pnum, &map, &f);
        if (ret < 0) {
            return ret;
        }
        if (pnum <= 0 || !(ret & BDRV_BLOCK_DATA) || (ret & BDRV_BLOCK_ZERO)) {
            break;
        }
        run = MIN((uint64_t)pnum, limit - pos);
        while (run > 0) {
            uint64_t n = MIN(run, chunk);
            QEMUIOVector qiov;

            chunk = MIN(chunk * 2, ZONED_SCAN_CHUNK);
            n = QEMU_ALIGN_DOWN(n, bsz);
            if (n == 0) {
                goto done;
            }
            qemu_iovec_init_buf(&qiov, buf, n);
            ret = bdrv_co_preadv(bs->file, s->hdr.data_offset + pos, n,
                                 &qiov, 0);
            if (ret < 0) {
                return ret;
            }
            for (uint64_t b = 0; b < n; b += bsz) {
                if (zoned_is_zero(buf + b, bsz)) {
                    pos += b;
                    goto done;
                }
            }
            pos += n;
            run -= n;
        }
    }
done:
    *end = pos;
    return 0;
}

/* Put the model into the state of the loaded entries. */
static int zoned_restore(BlockDriverState *bs, const ZonedEntry *entries,
                         Error **errp)
{
    BDRVZonedState *s = bs->opaque;

    for (uint32_t i = s->hdr.nr_conv; i < s->hdr.nr_zones; i++) {
        const ZonedEntry *e = &entries[i];
        BlockZoneState st = e->cond;
        int ret;

        s->zones[i].data_end = e->data_end;
        if (e->flags & ZONED_ENTRY_RESET_PENDING) {
            s->zones[i].reset = ZONED_RESET_PENDING;
        }
        if (st == BLK_ZS_EMPTY) {
            continue;
        }
        /* Open zones come back closed. */
        if (st == BLK_ZS_IOPEN || st == BLK_ZS_EOPEN) {
            st = BLK_ZS_CLOSED;
        }
        ret = zone_model_set_zone(&s->model, i, st, e->wp);
        if (ret < 0) {
            error_setg(errp, "Zoned image '%s': zone %" PRIu32 " cannot be "
                       "restored (condition %u, write pointer %" PRIu64
                       ")", zoned_name(bs), i, e->cond, e->wp);
            return ret;
        }
    }
    return 0;
}

/* Recover the zones written after the slot; discard what lies beyond. */
/*
 * Is there data in the file above the write pointer of zone i (from)?
 * Writes cut short by a crash leave it there; a later recovery must not
 * take it for new data.  Files with holes tell at the cost of a few
 * lseeks.  A fully allocated remainder (a preallocated file, a device)
 * says nothing, and reading it all at every open would cost too much:
 * only a zone whose pointer the scan just moved is cleaned then.
 */
static int coroutine_fn zoned_stale_data(BlockDriverState *bs, uint32_t i,
                                         uint64_t from, bool advanced,
                                         bool *stale)
{
    BDRVZonedState *s = bs->opaque;
    uint64_t end = zoned_zone_start(&s->hdr, i) + zoned_zone_len(&s->hdr, i);
    uint64_t pos = from;

    *stale = false;
    while (pos < end) {
        int64_t pnum = 0;
        int ret = bdrv_co_block_status(bs->file->bs, true,
                                       s->hdr.data_offset + pos, end - pos,
                                       &pnum, NULL, NULL);

        if (ret < 0) {
            return ret;
        }
        if (pnum <= 0) {
            return 0;               /* the end of the file */
        }
        if ((ret & BDRV_BLOCK_DATA) && !(ret & BDRV_BLOCK_ZERO)) {
            *stale = pos > from || (uint64_t)pnum < end - pos || advanced;
            return 0;
        }
        pos += pnum;
    }
    return 0;
}

/* Recover the zones written after the slot; discard what lies beyond. */
static int coroutine_fn zoned_recover(BlockDriverState *bs, bool writable,
                                      Error **errp)
{
    BDRVZonedState *s = bs->opaque;
    uint8_t *buf = qemu_try_memalign(bdrv_opt_mem_align(bs->file->bs),
                                     ZONED_SCAN_CHUNK);
    int ret = 0;

    if (!buf) {
        error_setg(errp, "Could not allocate a scan buffer");
        return -ENOMEM;
    }
    for (uint32_t i = s->hdr.nr_conv; i < s->hdr.nr_zones; i++) {
        ZonedZone *z = &s->zones[i];
        BlockZoneState st = s->model.zones[i].state;
        uint64_t start = zoned_zone_start(&s->hdr, i);
        uint64_t cap = zoned_zone_cap(&s->hdr, i);
        uint64_t end;
        bool stale;

        if (z->reset == ZONED_RESET_PENDING) {
            zoned_add_finding(s, false, writable, g_strdup_printf(
                "zone %" PRIu32 ": the data of an interrupted reset is "
                "discarded", i));
            if (writable) {
                ret = zoned_finish_reset(bs, i);
                if (ret < 0) {
                    error_setg_errno(errp, -ret, "Could not discard zone %"
                                     PRIu32 " of '%s'", i, zoned_name(bs));
                    break;
                }
                s->dirty = true;
            }
            continue;
        }
        if (st != BLK_ZS_EMPTY && st != BLK_ZS_CLOSED) {
            continue;
        }
        ret = zoned_scan_zone(bs, i, buf, &end);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not scan zone %" PRIu32
                             " of '%s'", i, zoned_name(bs));
            break;
        }
        if (end != z->data_end) {
            zoned_add_finding(s, false, writable, g_strdup_printf(
                "zone %" PRIu32 ": data written after the last flush moves "
                "the write pointer from %" PRIu64 " to %" PRIu64, i,
                z->data_end, end));
            ret = zone_model_set_zone(&s->model, i, end >= start + cap ?
                                      BLK_ZS_FULL : BLK_ZS_CLOSED, end);
            if (ret < 0) {
                error_setg(errp, "Zoned image '%s': zone %" PRIu32 " cannot "
                           "move its write pointer to %" PRIu64,
                           zoned_name(bs), i, end);
                break;
            }
            s->dirty = true;
        }
        if (!writable || end >= start + cap) {
            z->data_end = end;
            continue;
        }
        ret = zoned_stale_data(bs, i, end, end != z->data_end, &stale);
        z->data_end = end;
        if (ret == 0 && stale) {
            zoned_add_finding(s, false, true, g_strdup_printf(
                "zone %" PRIu32 ": data above the write pointer (%" PRIu64
                ") discarded", i, end));
            ret = zoned_discard_zone(bs, i, end);
        }
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not discard the end of zone %"
                             PRIu32 " of '%s'", i, zoned_name(bs));
            break;
        }
    }
    qemu_vfree(buf);
    return ret;
}

static int coroutine_fn zoned_co_load(BlockDriverState *bs, void *opaque)
{
    BDRVZonedState *s = bs->opaque;
    ZonedLoad *l = opaque;
    Error **errp = l->errp;
    bool writable = l->flags & BDRV_O_RDWR;
    BlockDriverState *file = bs->file->bs;
    g_autofree ZonedEntry *entries = NULL;
    g_autofree BlockZoneDescriptor *descs = NULL;
    ZoneModelGeometry geo;
    Error *local_err = NULL;
    uint8_t *hbuf;
    QEMUIOVector qiov;
    int64_t file_len;
    int ret;

    file_len = bdrv_getlength(file);
    if (file_len < 0) {
        error_setg_errno(errp, -file_len, "Could not get the size of '%s'",
                         zoned_name(bs));
        return file_len;
    }
    if (file_len < ZONED_HEADER_SIZE) {
        error_setg(errp, "Zoned image '%s' is truncated: %" PRId64 " bytes "
                   "cannot hold its %d-byte header", zoned_name(bs),
                   file_len, ZONED_HEADER_SIZE);
        return -EINVAL;
    }
    hbuf = qemu_memalign(bdrv_opt_mem_align(file), ZONED_HEADER_SIZE);
    qemu_iovec_init_buf(&qiov, hbuf, ZONED_HEADER_SIZE);
    ret = bdrv_co_preadv(bs->file, 0, ZONED_HEADER_SIZE, &qiov, 0);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not read the header of '%s'",
                         zoned_name(bs));
        qemu_vfree(hbuf);
        return ret;
    }
    ret = zoned_header_decode(hbuf, file_len, zoned_name(bs), &s->hdr, errp)
          ? 0 : -EINVAL;
    qemu_vfree(hbuf);
    if (ret < 0) {
        return ret;
    }
    if (!strcmp(bdrv_get_format_name(file), "host_device") &&
        (uint64_t)file_len < s->hdr.data_offset + s->hdr.disk_size) {
        error_setg(errp, "Zoned image '%s' needs %" PRIu64 " bytes, but the "
                   "device has %" PRId64, zoned_name(bs),
                   s->hdr.data_offset + s->hdr.disk_size, file_len);
        return -EINVAL;
    }
    if (s->hdr.block_size < file->bl.request_alignment) {
        error_setg(errp, "Zoned image '%s' has %" PRIu32 "-byte logical "
                   "blocks, but its file needs requests aligned to %" PRIu32
                   " bytes", zoned_name(bs), s->hdr.block_size,
                   file->bl.request_alignment);
        return -EINVAL;
    }
    s->zone_shift = __builtin_ctzll(s->hdr.zone_size);
    s->slot_buf = qemu_memalign(bdrv_opt_mem_align(file), s->hdr.slot_size);
    s->zones = g_new0(ZonedZone, s->hdr.nr_zones);

    zoned_header_geometry(&s->hdr, &geo);
    if (!zone_model_init(&s->model, &geo, &local_err)) {
        error_setg(errp, "Zoned image '%s' has an impossible geometry: %s",
                   zoned_name(bs), error_get_pretty(local_err));
        error_free(local_err);
        return -EINVAL;
    }
    s->model_ready = true;

    entries = g_new(ZonedEntry, s->hdr.nr_zones);
    ret = zoned_load_slots(bs, entries, writable, errp);
    if (ret < 0) {
        return ret;
    }
    ret = zoned_restore(bs, entries, errp);
    if (ret < 0) {
        return ret;
    }
    ret = zoned_recover(bs, writable, errp);
    if (ret < 0) {
        return ret;
    }
    if (zone_model_recount(&s->model) < 0) {
        error_setg(errp, "Zoned image '%s': %" PRIu32 " zones are active "
                   "(closed), more than the limit of %" PRIu32,
                   zoned_name(bs), s->model.nr_closed, s->model.geo.max_active);
        return -EINVAL;
    }
    if ((uint64_t)file_len < s->hdr.data_offset + s->hdr.disk_size) {
        zoned_add_finding(s, false, false, g_strdup_printf(
            "the file ends %" PRIu64 " bytes before the end of the data "
            "area", s->hdr.data_offset + s->hdr.disk_size - file_len));
    }

    descs = g_new(BlockZoneDescriptor, s->hdr.nr_zones);
    zone_model_report(&s->model, 0, s->hdr.nr_zones, descs);
    s->wp = zone_wp_new(&(ZoneWpConfig) {
                            .zone_size = s->hdr.zone_size,
                            .length = s->hdr.disk_size,
                            .max_append_bytes = s->hdr.max_append,
                            .write_granularity = s->hdr.block_size,
                            .max_transfer = file->bl.max_transfer,
                            .max_iov = file->bl.max_iov,
                        }, &zoned_wp_ops, bs, descs, s->hdr.nr_zones, errp);
    if (!s->wp) {
        return -EINVAL;
    }

    if (writable && s->dirty) {
        qemu_co_mutex_lock(&s->meta_lock);
        ret = zoned_persist_locked(bs);
        qemu_co_mutex_unlock(&s->meta_lock);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not update the metadata of "
                             "'%s'", zoned_name(bs));
            return ret;
        }
    }
    return 0;
}

static void zoned_free(BDRVZonedState *s)
{
    zone_wp_free(s->wp);
    s->wp = NULL;
    if (s->model_ready) {
        zone_model_cleanup(&s->model);
        s->model_ready = false;
    }
    g_free(s->zones);
    s->zones = NULL;
    qemu_vfree(s->slot_buf);
    s->slot_buf = NULL;
    if (s->findings) {
        g_ptr_array_free(s->findings, true);
        s->findings = NULL;
    }
}

static int zoned_open(BlockDriverState *bs, QDict *options, int flags,
                      Error **errp)
{
    BDRVZonedState *s = bs->opaque;
    ZonedLoad l = { .flags = flags, .errp = errp };
    int ret;

    bs->file = bdrv_open_child("file", bs, options, "file", flags, errp);
    if (!bs->file) {
        return -EINVAL;
    }
    qemu_co_mutex_init(&s->meta_lock);
    s->findings = g_ptr_array_new_with_free_func(zoned_finding_free);
    s->bad_slot = -1;
    ret = zoned_run_co(bs, (int (*)(BlockDriverState *, void *))zoned_co_load,
                       &l);
    if (ret < 0) {
        zoned_free(s);
    }
    return ret;
}

int coroutine_fn zoned_persist(BlockDriverState *bs)
{
    BDRVZonedState *s = bs->opaque;
    int ret;

    qemu_co_mutex_lock(&s->meta_lock);
    ret = zoned_persist_locked(bs);
    qemu_co_mutex_unlock(&s->meta_lock);
    return ret;
}

static int coroutine_fn zoned_co_close_flush(BlockDriverState *bs,
                                             void *opaque)
{
    return zoned_persist(bs);
}

static void zoned_close(BlockDriverState *bs)
{
    BDRVZonedState *s = bs->opaque;

    /* Even with cache.no-flush: the table on disk should be current. */
    if (!bs->read_only && s->wp && s->dirty) {
        zoned_run_co(bs, zoned_co_close_flush, NULL);
    }
    zoned_free(s);
}

/* ---- I/O ---- */

static int coroutine_fn zoned_co_preadv(BlockDriverState *bs, int64_t offset,
                                        int64_t bytes, QEMUIOVector *qiov,
                                        BdrvRequestFlags flags)
{
    BDRVZonedState *s = bs->opaque;
    uint64_t done = 0;

    while (done < (uint64_t)bytes) {
        uint64_t pos = offset + done;
        uint32_t i = pos >> s->zone_shift;
        uint64_t zend = zoned_zone_start(&s->hdr, i) +
                        zoned_zone_len(&s->hdr, i);
        uint64_t n = MIN(bytes - done, zend - pos);
        uint64_t valid = n;
        int ret;

        ret = zone_model_read(&s->model, pos, n);
        if (ret < 0) {
            return ret;
        }
        if (i >= s->hdr.nr_conv) {
            /* Past the data written (or being written): zeroes. */
            uint64_t de = s->zones[i].data_end;

            valid = de > pos ? MIN(n, de - pos) : 0;
        }
        if (valid) {
            ret = bdrv_co_preadv_part(bs->file, s->hdr.data_offset + pos,
                                      valid, qiov, done, 0);
            if (ret < 0) {
                return ret;
            }
        }
        if (valid < n) {
            qemu_iovec_memset(qiov, done + valid, 0, n - valid);
        }
        done += n;
    }
    return 0;
}

static int coroutine_fn zoned_co_pwritev(BlockDriverState *bs,
                                         int64_t offset, int64_t bytes,
                                         QEMUIOVector *qiov,
                                         BdrvRequestFlags flags)
{
    BDRVZonedState *s = bs->opaque;

    assert(qiov->size == (uint64_t)bytes);
    return zone_wp_pwritev(s->wp, offset, qiov);
}

static int coroutine_fn zoned_co_zone_report(BlockDriverState *bs,
                                             int64_t offset,
                                             unsigned int *nr_zones,
                                             BlockZoneDescriptor *zones)
{
    BDRVZonedState *s = bs->opaque;

    *nr_zones = zone_model_report(&s->model, offset, *nr_zones, zones);
    return 0;
}

static int coroutine_fn zoned_co_zone_mgmt(BlockDriverState *bs,
                                           BlockZoneOp op, int64_t offset,
                                           int64_t len)
{
    BDRVZonedState *s = bs->opaque;

    return zone_wp_mgmt(s->wp, op, offset, len);
}

static int coroutine_fn zoned_co_zone_append(BlockDriverState *bs,
                                             int64_t *offset,
                                             QEMUIOVector *qiov,
                                             BdrvRequestFlags flags)
{
    BDRVZonedState *s = bs->opaque;

    return zone_wp_append(s->wp, offset, qiov);
}

/* Below the data written: data in the file; above: zeroes. */
static int coroutine_fn zoned_co_block_status(BlockDriverState *bs,
                                              bool want_zero, int64_t offset,
                                              int64_t bytes, int64_t *pnum,
                                              int64_t *map,
                                              BlockDriverState **file)
{
    BDRVZonedState *s = bs->opaque;
    uint32_t i = (uint64_t)offset >> s->zone_shift;
    uint64_t zend = zoned_zone_start(&s->hdr, i) + zoned_zone_len(&s->hdr, i);
    uint64_t de;

    *pnum = MIN((uint64_t)bytes, zend - offset);
    *map = s->hdr.data_offset + offset;
    *file = bs->file->bs;
    if (i < s->hdr.nr_conv) {
        return BDRV_BLOCK_RAW | BDRV_BLOCK_OFFSET_VALID;
    }
    if (s->model.zones[i].state == BLK_ZS_OFFLINE) {
        return 0;
    }
    de = s->zones[i].data_end;
    if ((uint64_t)offset < de) {
        *pnum = MIN((uint64_t)*pnum, de - offset);
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID;
    }
    return BDRV_BLOCK_ZERO;
}

static int64_t zoned_getlength(BlockDriverState *bs)
{
    BDRVZonedState *s = bs->opaque;

    return s->hdr.disk_size;
}

static int zoned_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    memset(bdi, 0, sizeof(*bdi));
    return 0;
}

/* The limits of a real host-managed device of this geometry. */
static void zoned_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BDRVZonedState *s = bs->opaque;
    BlockLimits *bl = &bs->bl;
    uint32_t bsz = s->hdr.block_size;

    bl->request_alignment = MAX(bl->request_alignment, bsz);
    bl->logical_block_size = bsz;
    bl->physical_block_size = MAX(bl->physical_block_size, bsz);
    bl->zoned = BLK_Z_HM;
    bl->zone_size = s->hdr.zone_size;
    bl->zone_capacity = s->hdr.zone_capacity;
    bl->nr_zones = s->hdr.nr_zones;
    bl->max_open_zones = s->model.geo.max_open;
    bl->max_active_zones = s->model.geo.max_active;
    bl->max_append_bytes = s->hdr.max_append;
    bl->write_granularity = bsz;
    /* Nothing to discard or zero fast: zeroes are written through us. */
    bl->max_pdiscard = 0;
    bl->pdiscard_alignment = 0;
    bl->max_pwrite_zeroes = 0;
    bl->pwrite_zeroes_alignment = 0;
}

/* ---- qemu-img info ---- */

static void zoned_format_specific_info(BlockDriverState *bs, GString *out)
{
    BDRVZonedState *s = bs->opaque;
    ZonedHeader *h = &s->hdr;
    static const struct {
        BlockZoneState st;
        const char *name;
    } states[] = {
        { BLK_ZS_NOT_WP, "conventional" },
        { BLK_ZS_EMPTY, "empty" },
        { BLK_ZS_IOPEN, "implicitly open" },
        { BLK_ZS_EOPEN, "explicitly open" },
        { BLK_ZS_CLOSED, "closed" },
        { BLK_ZS_FULL, "full" },
        { BLK_ZS_RDONLY, "read-only" },
        { BLK_ZS_OFFLINE, "offline" },
    };

    g_string_append_printf(out, "zone model: host-managed\n");
    g_string_append_printf(out, "logical block size: %" PRIu32 "\n",
                           h->block_size);
    g_string_append_printf(out, "zone size: %" PRIu64 "\n", h->zone_size);
    g_string_append_printf(out, "zone capacity: %" PRIu64 "\n",
                           h->zone_capacity);
    g_string_append_printf(out, "zones: %" PRIu32 "\n", h->nr_zones);
    g_string_append_printf(out, "conventional zones: %" PRIu32 "\n",
                           h->nr_conv);
    /* 0 means "no limit" / "a zone": say so rather than print a bare 0. */
    g_string_append_printf(out, "max open zones: %" PRIu32 "%s\n",
                           s->model.geo.max_open,
                           s->model.geo.max_open ? "" : " (no limit)");
    g_string_append_printf(out, "max active zones: %" PRIu32 "%s\n",
                           s->model.geo.max_active,
                           s->model.geo.max_active ? "" : " (no limit)");
    if (h->max_append) {
        g_string_append_printf(out, "max append size: %" PRIu64 "\n",
                               h->max_append);
    } else {
        g_string_append_printf(out, "max append size: 0 (the zone capacity, "
                               "%" PRIu64 ")\n", h->zone_capacity);
    }
    g_string_append_printf(out, "data offset: %" PRIu64 "\n",
                           h->data_offset);
    g_string_append_printf(out, "metadata generation: %" PRIu64 "\n",
                           s->generation);
    for (size_t k = 0; k < ARRAY_SIZE(states); k++) {
        uint32_t n = 0;

        for (uint32_t i = 0; i < h->nr_zones; i++) {
            n += s->model.zones[i].state == states[k].st;
        }
        g_string_append_printf(out, "zones %s: %" PRIu32 "\n",
                               states[k].name, n);
    }
}

/* ---- qemu-img create ---- */

/* "3:5-7" (or "3,5-7" with the comma doubled on the command line). */
static bool zoned_parse_zone_list(const char *key, const char *list,
                                  const ZonedHeader *h, unsigned long *map,
                                  Error **errp)
{
    g_auto(GStrv) parts = g_strsplit_set(list, ":,", -1);

    for (char **p = parts; *p; p++) {
        char *dash = strchr(*p, '-');
        uint64_t first, last;

        if (!**p) {
            continue;
        }
        if (dash) {
            *dash = 0;
        }
        if (qemu_strtou64(*p, NULL, 10, &first) < 0 ||
            (dash && qemu_strtou64(dash + 1, NULL, 10, &last) < 0)) {
            error_setg(errp, "Parameter '%s' expects zone numbers or ranges "
                       "separated by ':' (e.g. 3:5-7)", key);
            return false;
        }
        if (!dash) {
            last = first;
        }
        if (first > last || last >= h->nr_zones || first < h->nr_conv) {
            error_setg(errp, "Parameter '%s': zones %" PRIu64 "-%" PRIu64
                       " are not sequential zones of this disk (%" PRIu32
                       "-%" PRIu32 ")", key, first, last, h->nr_conv,
                       h->nr_zones - 1);
            return false;
        }
        for (uint64_t i = first; i <= last; i++) {
            zoned_set_bit(map, i);
        }
    }
    return true;
}

/* Hand every option left to the protocol, as raw does. */
static QDict *zoned_take_rest(QDict *opts)
{
    QDict *rest = qdict_clone(opts);
    g_autofree const char **keys = NULL;
    size_t n;

    keys = qdict_keys(rest, &n);
    for (size_t i = 0; i < n; i++) {
        qdict_del(opts, keys[i]);
    }
    return rest;
}

static int zoned_write_new_image(BlockBackend *blk, const ZonedHeader *h,
                                 const ZonedEntry *entries, bool device,
                                 Error **errp)
{
    size_t align = bdrv_opt_mem_align(blk_bs(blk));
    uint8_t *buf = qemu_memalign(align, MAX(h->slot_size, ZONED_HEADER_SIZE));
    int ret;

    /* A device may hold anything: the data area must read as zeroes. */
    for (uint64_t pos = 0; device && pos < h->disk_size; pos += 1 << 30) {
        ret = blk_pwrite_zeroes(blk, h->data_offset + pos,
                                MIN(h->disk_size - pos, 1 << 30),
                                BDRV_REQ_MAY_UNMAP);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not zero the data area");
            goto out;
        }
    }
    for (int gen = 0; gen < 2; gen++) {
        zoned_slot_encode(h, gen, entries, buf);
        ret = blk_pwrite(blk, h->slot_offset[gen], h->slot_size, buf, 0);
        if (ret < 0) {
            error_setg_errno(errp, -ret, "Could not write metadata slot %d",
                             gen);
            goto out;
        }
    }
    /* The header last: an image is not one until it is complete. */
    ret = blk_flush(blk);
    if (ret == 0) {
        zoned_header_encode(h, buf);
        ret = blk_pwrite(blk, 0, ZONED_HEADER_SIZE, buf, 0);
    }
    if (ret == 0) {
        ret = blk_flush(blk);
    }
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not write the image header");
    }
out:
    qemu_vfree(buf);
    return ret;
}

static int zoned_create(const char *filename, QDict *opts, int64_t size,
                        Error **errp)
{
    ZonedHeader h = { 0 };
    ZoneModelGeometry geo;
    ZoneModel m;
    g_autofree char *ro_list = NULL;
    g_autofree char *off_list = NULL;
    g_autofree unsigned long *ro = NULL;
    g_autofree unsigned long *off = NULL;
    g_autofree ZonedEntry *entries = NULL;
    uint64_t opt_size, zcap, nr_conv, max_open, max_active, lbs;
    QDict *rest, *bopts;
    BlockBackend *blk;
    const char *proto;
    bool device;
    int ret;

    if (!qdict_take_size(opts, "size", 0, &opt_size, errp) ||
        !qdict_take_size(opts, "zone_size", 256 * 1024 * 1024, &h.zone_size,
                         errp) ||
        !qdict_take_size(opts, "zone_capacity", 0, &zcap, errp) ||
        !qdict_take_uint(opts, "conventional_zones", 0, &nr_conv, errp) ||
        !qdict_take_uint(opts, "max_open_zones", 0, &max_open, errp) ||
        !qdict_take_uint(opts, "max_active_zones", 0, &max_active, errp) ||
        !qdict_take_size(opts, "max_append_size", 0, &h.max_append,
                         errp) ||
        !qdict_take_uint(opts, "logical_block_size", 512, &lbs, errp) ||
        !qdict_take_str(opts, "readonly_zones", NULL, &ro_list, errp) ||
        !qdict_take_str(opts, "offline_zones", NULL, &off_list, errp)) {
        return -EINVAL;
    }
    if (size == 0) {
        size = opt_size;
    }
    if (nr_conv > UINT32_MAX || max_open > UINT32_MAX ||
        max_active > UINT32_MAX || lbs > UINT32_MAX) {
        error_setg(errp, "Zone counts and the block size must fit in 32 "
                   "bits");
        return -EINVAL;
    }
    h.disk_size = size;
    h.zone_capacity = zcap ? zcap : h.zone_size;
    h.nr_conv = nr_conv;
    h.max_open = max_open;
    h.max_active = max_active;
    h.block_size = lbs;

    /* The zone model's messages name the options: let it speak first. */
    zoned_header_geometry(&h, &geo);
    if (!zone_model_init(&m, &geo, errp)) {
        return -EINVAL;
    }
    if (!zoned_header_layout(&h, errp)) {
        zone_model_cleanup(&m);
        return -EINVAL;
    }

    ro = zoned_bitmap_new(h.nr_zones);
    off = zoned_bitmap_new(h.nr_zones);
    if ((ro_list && !zoned_parse_zone_list("readonly_zones", ro_list, &h,
                                           ro, errp)) ||
        (off_list && !zoned_parse_zone_list("offline_zones", off_list, &h,
                                            off, errp))) {
        zone_model_cleanup(&m);
        return -EINVAL;
    }
    entries = g_new0(ZonedEntry, h.nr_zones);
    for (uint32_t i = 0; i < h.nr_zones; i++) {
        BlockZoneState st = zoned_test_bit(off, i) ? BLK_ZS_OFFLINE :
                            zoned_test_bit(ro, i) ? BLK_ZS_RDONLY :
                            BLK_ZS_EMPTY;

        if (st != BLK_ZS_EMPTY && zone_model_inject(&m, i, st) < 0) {
            error_setg(errp, "Zone %" PRIu32 " cannot be made %s", i,
                       st == BLK_ZS_OFFLINE ? "offline" : "read-only");
            zone_model_cleanup(&m);
            return -EINVAL;
        }
        entries[i].cond = m.zones[i].state;
        entries[i].wp = m.zones[i].wp;
        entries[i].data_end = i < h.nr_conv ? 0 : zoned_zone_start(&h, i);
    }
    zone_model_cleanup(&m);

    rest = zoned_take_rest(opts);
    ret = bdrv_create("file", filename, rest, h.data_offset + h.disk_size,
                      errp);
    if (ret < 0) {
        return ret;
    }

    device = !g_file_test(filename, G_FILE_TEST_IS_REGULAR);
    proto = device ? "host_device" : "file";
    bopts = qdict_new();
    qdict_put_str(bopts, "driver", proto);
    blk = blk_new_open(filename, bopts, BDRV_O_RDWR, errp);
    if (!blk) {
        return -EIO;
    }
    ret = zoned_write_new_image(blk, &h, entries, device, errp);
    blk_unref(blk);
    return ret;
}

static const BlockCreateOptionDesc zoned_create_opts[] = {
    {
        .name = "size",
        .type = BLOCK_OPT_SIZE,
        .help = "Virtual disk size",
    }, {
        .name = "zone_size",
        .type = BLOCK_OPT_SIZE,
        .help = "Zone size, a power of two",
        .def_value_str = "256M",
    }, {
        .name = "zone_capacity",
        .type = BLOCK_OPT_SIZE,
        .help = "Writable bytes of each zone (0 = the zone size)",
        .def_value_str = "0",
    }, {
        .name = "conventional_zones",
        .type = BLOCK_OPT_NUMBER,
        .help = "Number of conventional zones at the start of the disk",
        .def_value_str = "0",
    }, {
        .name = "max_open_zones",
        .type = BLOCK_OPT_NUMBER,
        .help = "Maximum number of open zones (0 = no limit)",
        .def_value_str = "0",
    }, {
        .name = "max_active_zones",
        .type = BLOCK_OPT_NUMBER,
        .help = "Maximum number of active zones (0 = no limit)",
        .def_value_str = "0",
    }, {
        .name = "max_append_size",
        .type = BLOCK_OPT_SIZE,
        .help = "Largest zone append in bytes (0 = the zone capacity)",
        .def_value_str = "0",
    }, {
        .name = "logical_block_size",
        .type = BLOCK_OPT_NUMBER,
        .help = "Logical block size (512 or 4096)",
        .def_value_str = "512",
    }, {
        .name = "readonly_zones",
        .type = BLOCK_OPT_STRING,
        .help = "Testing: zones created read-only (e.g. 3:5-7)",
    }, {
        .name = "offline_zones",
        .type = BLOCK_OPT_STRING,
        .help = "Testing: zones created offline (e.g. 3:5-7)",
    },
    { NULL }
};

/* ---- the driver ---- */

static uint32_t zoned_probe_le32(const uint8_t *p)
{
    return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24;
}

/*
 * The magic, a version and the header size (offsets in
 * docs/zoned-format.md): a sector that merely starts with the magic is
 * not claimed.  A newer version is claimed, so that the open says which
 * version it is rather than the image passing for raw.  The checksum
 * covers the whole 4 KiB header, more than the probe sees: a corrupt
 * header is left for the open to report.
 */
static int zoned_probe(const uint8_t *buf, int buf_size, const char *filename)
{
    if (buf_size < 16 || memcmp(buf, ZONED_MAGIC, 8) ||
        zoned_probe_le32(buf + 8) == 0 ||
        zoned_probe_le32(buf + 12) != ZONED_HEADER_SIZE) {
        return 0;
    }
    return 100;
}

static BlockDriver bdrv_zoned = {
    .format_name = "zoned",
    .instance_size = sizeof(BDRVZonedState),
    .is_format = true,
    .bdrv_open = zoned_open,
    .bdrv_probe = zoned_probe,
    .bdrv_close = zoned_close,
    .bdrv_refresh_limits = zoned_refresh_limits,
    .bdrv_co_preadv = zoned_co_preadv,
    .bdrv_co_pwritev = zoned_co_pwritev,
    .bdrv_co_flush = zoned_co_flush,
    .bdrv_getlength = zoned_getlength,
    .bdrv_get_info = zoned_get_info,
    .bdrv_co_block_status = zoned_co_block_status,
    .bdrv_co_zone_report = zoned_co_zone_report,
    .bdrv_co_zone_mgmt = zoned_co_zone_mgmt,
    .bdrv_co_zone_append = zoned_co_zone_append,
    .bdrv_create = zoned_create,
    .create_opts = zoned_create_opts,
    .bdrv_check = zoned_check,
    .bdrv_format_specific_info = zoned_format_specific_info,
};

static void bdrv_zoned_init(void)
{
    bdrv_register(&bdrv_zoned);
}

block_init(bdrv_zoned_init);
