/*
 * qemu-img check for the zoned image format: what open found (an invalid
 * metadata slot, zones recovered after a crash, interrupted resets), then
 * the header and both slots as they are on disk, and every zone's data
 * against its write pointer: data missing below it is a corruption, data
 * left above it a leak.  With fix, zones are clamped to the data present,
 * leftovers discarded, and both slots rewritten.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "zoned-int.h"

#define CHECK_CHUNK (1024 * 1024)

typedef struct ZonedCheck {
    BdrvCheckResult *res;
    BdrvCheckMode fix;
    uint8_t *buf;
} ZonedCheck;

static void G_GNUC_PRINTF(4, 5)
check_report(ZonedCheck *c, bool corruption, bool fixed, const char *fmt,
             ...)
{
    BdrvCheckResult *res = c->res;
    g_autofree char *msg = NULL;
    va_list ap;

    va_start(ap, fmt);
    msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (fixed) {
        g_ptr_array_add(res->messages, g_strdup_printf("Repaired: %s", msg));
        if (corruption) {
            res->corruptions_fixed++;
        } else {
            res->leaks_fixed++;
        }
    } else {
        g_ptr_array_add(res->messages, g_strdup_printf("%s: %s",
                        corruption ? "ERROR" : "Leak", msg));
        if (corruption) {
            res->corruptions++;
        } else {
            res->leaks++;
        }
    }
}

/*
 * Where the data present in the file for [from, to) (image offsets) stops
 * being present: the first hole (or the end of the file).  A device has
 * no holes.
 */
static int coroutine_fn check_data_present(BlockDriverState *bs,
                                           uint64_t from, uint64_t to,
                                           uint64_t *end)
{
    BDRVZonedState *s = bs->opaque;
    uint64_t pos = from;

    while (pos < to) {
        int64_t pnum = 0;
        int ret = bdrv_co_block_status(bs->file->bs, true,
                                       s->hdr.data_offset + pos, to - pos,
                                       &pnum, NULL, NULL);

        if (ret < 0) {
            return ret;
        }
        if (pnum <= 0 || !(ret & BDRV_BLOCK_DATA)) {
            break;
        }
        pos += MIN((uint64_t)pnum, to - pos);
    }
    *end = MIN(pos, to);
    return 0;
}

/*
 * The first non-zero byte's block in [from, to) (image offsets), or to:
 * only allocated runs are read.
 */
static int coroutine_fn check_first_data(BlockDriverState *bs,
                                         ZonedCheck *c, uint64_t from,
                                         uint64_t to, uint64_t *found)
{
    BDRVZonedState *s = bs->opaque;
    uint64_t bsz = s->hdr.block_size;
    uint64_t pos = from;

    *found = to;
    while (pos < to) {
        int64_t pnum = 0;
        uint64_t run;
        int ret = bdrv_co_block_status(bs->file->bs, true,
                                       s->hdr.data_offset + pos, to - pos,
                                       &pnum, NULL, NULL);

        if (ret < 0) {
            return ret;
        }
        if (pnum <= 0) {
            break;
        }
        run = MIN((uint64_t)pnum, to - pos);
        if ((ret & BDRV_BLOCK_DATA) && !(ret & BDRV_BLOCK_ZERO)) {
            for (uint64_t off = 0; off < run; off += CHECK_CHUNK) {
                uint64_t n = MIN(CHECK_CHUNK, run - off);
                QEMUIOVector qiov;

                qemu_iovec_init_buf(&qiov, c->buf, n);
                ret = bdrv_co_preadv(bs->file, s->hdr.data_offset + pos + off,
                                     n, &qiov, 0);
                if (ret < 0) {
                    return ret;
                }
                for (uint64_t b = 0; b < n; b += bsz) {
                    if (!zoned_is_zero(c->buf + b, MIN(bsz, n - b))) {
                        *found = pos + off + b;
                        return 0;
                    }
                }
            }
        }
        pos += run;
    }
    return 0;
}

/* The header and both slots as they are on disk now. */
static int coroutine_fn check_metadata(BlockDriverState *bs, ZonedCheck *c,
                                       bool *rewrite)
{
    BDRVZonedState *s = bs->opaque;
    ZonedHeader *h = &s->hdr;
    g_autofree ZonedEntry *e = g_new(ZonedEntry, h->nr_zones);
    ZonedHeader disk;
    Error *err = NULL;
    QEMUIOVector qiov;
    int ret;

    qemu_iovec_init_buf(&qiov, c->buf, ZONED_HEADER_SIZE);
    ret = bdrv_co_preadv(bs->file, 0, ZONED_HEADER_SIZE, &qiov, 0);
    if (ret < 0) {
        return ret;
    }
    if (!zoned_header_decode(c->buf, bdrv_getlength(bs->file->bs),
                             bs->file->bs->filename, &disk, &err)) {
        /* Changed since open: nothing here can repair a header. */
        check_report(c, true, false, "%s", error_get_pretty(err));
        error_free(err);
    }
    for (int k = 0; k < 2; k++) {
        g_autofree char *reason = NULL;
        uint64_t gen;

        qemu_iovec_init_buf(&qiov, c->buf, h->slot_size);
        ret = bdrv_co_preadv(bs->file, h->slot_offset[k], h->slot_size,
                             &qiov, 0);
        if (ret < 0) {
            return ret;
        }
        /* A slot open reported (its finding comes first) counts once. */
        if (!zoned_slot_decode(h, c->buf, &gen, e, &reason) &&
            k != s->bad_slot) {
            bool fixed = c->fix & BDRV_FIX_LEAKS;

            check_report(c, false, fixed, "metadata slot %d (offset %"
                         PRIu64 ") is invalid: %s", k, h->slot_offset[k],
                         reason);
            *rewrite |= fixed;
        }
    }
    return 0;
}

/* One sequential zone's data against its write pointer. */
static int coroutine_fn check_zone(BlockDriverState *bs, ZonedCheck *c,
                                   uint32_t i, bool *rewrite)
{
    BDRVZonedState *s = bs->opaque;
    ZonedHeader *h = &s->hdr;
    ZonedZone *z = &s->zones[i];
    BlockZoneDescriptor *d = &s->model.zones[i];
    uint64_t start = zoned_zone_start(h, i);
    uint64_t zend = start + zoned_zone_len(h, i);
    uint64_t present, found;
    int ret;

    if (d->state == BLK_ZS_OFFLINE || z->reset == ZONED_RESET_PENDING) {
        return 0;
    }
    ret = check_data_present(bs, start, z->data_end, &present);
    if (ret < 0) {
        return ret;
    }
    present = QEMU_ALIGN_DOWN(present, h->block_size);
    if (present < z->data_end) {
        bool fixed = c->fix & BDRV_FIX_ERRORS;

        check_report(c, true, fixed, "zone %" PRIu32 ": the write pointer "
                     "(%" PRIu64 ") is above the data present in the file, "
                     "which ends at %" PRIu64 "%s", i, z->data_end, present,
                     fixed ? ": write pointer clamped" : "");
        if (fixed) {
            if (zoned_is_seq_state_writable(d->state)) {
                ret = zone_model_set_zone(&s->model, i, present == start ?
                                          BLK_ZS_EMPTY : BLK_ZS_CLOSED,
                                          present);
                if (ret < 0) {
                    return ret;
                }
            }
            /* A full zone stays full: as if finished there. */
            z->data_end = present;
            *rewrite = true;
        }
    }
    ret = check_first_data(bs, c, z->data_end, zend, &found);
    if (ret < 0) {
        return ret;
    }
    if (found < zend) {
        bool fixed = c->fix & BDRV_FIX_LEAKS;

        check_report(c, false, fixed, "zone %" PRIu32 ": data at %" PRIu64
                     " above the write pointer (%" PRIu64 ")%s", i, found,
                     z->data_end, fixed ? " discarded" : "");
        if (fixed) {
            ret = bdrv_co_pwrite_zeroes(bs->file, h->data_offset +
                                        z->data_end, zend - z->data_end,
                                        BDRV_REQ_MAY_UNMAP);
            if (ret < 0) {
                return ret;
            }
        }
    }
    return 0;
}

static int coroutine_fn zoned_co_check(BlockDriverState *bs, void *opaque)
{
    BDRVZonedState *s = bs->opaque;
    ZonedHeader *h = &s->hdr;
    ZonedCheck *c = opaque;
    bool rewrite = false;
    int64_t file_len;
    int ret;

    /* What open saw (and repaired, when it could write). */
    for (guint k = 0; k < s->findings->len; k++) {
        ZonedFinding *f = g_ptr_array_index(s->findings, k);

        check_report(c, f->corruption, f->fixed, "%s", f->msg);
    }
    g_ptr_array_set_size(s->findings, 0);

    ret = check_metadata(bs, c, &rewrite);
    s->bad_slot = -1;       /* a second check reports it from the disk */
    if (ret < 0) {
        return ret;
    }
    for (uint32_t i = h->nr_conv; i < h->nr_zones; i++) {
        ret = check_zone(bs, c, i, &rewrite);
        if (ret < 0) {
            return ret;
        }
    }
    if (zone_model_recount(&s->model) < 0) {
        check_report(c, true, false, "the zone conditions exceed the open "
                     "(%" PRIu32 ") or active (%" PRIu32 ") zone limits",
                     s->model.geo.max_open, s->model.geo.max_active);
    }
    file_len = bdrv_getlength(bs->file->bs);
    if (file_len >= 0 &&
        (uint64_t)file_len < h->data_offset + h->disk_size &&
        strcmp(bdrv_get_format_name(bs->file->bs), "host_device")) {
        bool fixed = c->fix & BDRV_FIX_LEAKS;
        Error *err = NULL;

        if (fixed) {
            ret = bdrv_co_truncate(bs->file, h->data_offset + h->disk_size,
                                   false, PREALLOC_MODE_OFF, 0, &err);
            if (ret < 0) {
                error_free(err);
                fixed = false;
            }
        }
        check_report(c, false, fixed, "the file ends %" PRIu64 " bytes "
                     "before the end of the data area",
                     h->data_offset + h->disk_size - file_len);
    }
    if (rewrite || (c->fix && s->dirty)) {
        /* Twice: both slots valid and current. */
        s->dirty = true;
        ret = zoned_persist(bs);
        if (ret == 0) {
            s->dirty = true;
            ret = zoned_persist(bs);
        }
        if (ret < 0) {
            c->res->check_errors++;
            return ret;
        }
    }
    return 0;
}

int zoned_check(BlockDriverState *bs, BdrvCheckResult *res,
                BdrvCheckMode fix)
{
    BDRVZonedState *s = bs->opaque;
    ZonedCheck c = { .res = res, .fix = fix };
    int ret;

    c.buf = qemu_try_memalign(bdrv_opt_mem_align(bs->file->bs),
                              MAX(MAX(CHECK_CHUNK, s->hdr.slot_size),
                                  ZONED_HEADER_SIZE));
    if (!c.buf) {
        return -ENOMEM;
    }
    ret = zoned_run_co(bs, zoned_co_check, &c);
    qemu_vfree(c.buf);
    if (ret < 0) {
        res->check_errors++;
        g_ptr_array_add(res->messages, g_strdup_printf(
            "ERROR: the check stopped: %s", strerror(-ret)));
    }
    return 0;
}
