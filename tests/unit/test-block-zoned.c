/*
 * Tests of the generic zoned layers, without a zoned kernel: the block
 * core's checks on zone report, management and append, limits
 * propagation, raw's window over a zoned child, the BlockBackend forms
 * (coroutine, synchronous, AIO) and drain with zone operations in flight.
 *
 * The device is "test-zoned", an in-memory zoned protocol driver defined
 * here.  It follows the kernel's rules closely enough for the layers
 * above (writes at the write pointer, full zones, conventional zones
 * refusing zone operations) and counts what reaches it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block_int.h"
#include "sysemu/block-backend.h"
#include "qemu/main-loop.h"
#include "test-block-mem.h"

#define KiB 1024LL
#define MiB (1024 * KiB)
#define ZS (64 * KiB)           /* the zone size of most tests */

/* ---- the test-zoned driver ---- */

typedef struct TZone {
    uint64_t start, len, cap, wp;
    BlockZoneType type;
    BlockZoneState cond;
} TZone;

typedef struct BDRVTZState {
    uint8_t *buf;
    uint64_t size;
    uint64_t zone_size;
    uint64_t zone_cap;
    uint64_t align;
    uint64_t mem_align;
    uint64_t max_append;
    uint64_t write_gran;
    uint64_t delay;             /* yields inside every request */
    int model;
    bool fua;
    unsigned nr_zones;
    TZone *zones;
    /* what reached the driver */
    unsigned reports, mgmts, appends, writes, flushes;
    unsigned bad_memory;        /* iovecs breaking mem_align */
    unsigned in_driver;
    unsigned min_node_in_flight; /* bs->in_flight seen inside, min */
    BlockZoneOp last_op;
    int64_t last_offset, last_len;
} BDRVTZState;

static const char *const tz_models[] = {
    "none", "host-managed", "host-aware", NULL
};

static int tz_open(BlockDriverState *bs, QDict *options, int flags,
                   Error **errp)
{
    BDRVTZState *s = bs->opaque;
    uint64_t cap, conv, seq_type;

    if (!qdict_take_size(options, "size", MiB, &s->size, errp) ||
        !qdict_take_size(options, "zone-size", ZS, &s->zone_size, errp) ||
        !qdict_take_size(options, "zone-cap", 0, &cap, errp) ||
        !qdict_take_uint(options, "conv", 0, &conv, errp) ||
        !qdict_take_uint(options, "align", 512, &s->align, errp) ||
        !qdict_take_uint(options, "mem-align", 0, &s->mem_align, errp) ||
        !qdict_take_size(options, "max-append", 0, &s->max_append, errp) ||
        !qdict_take_size(options, "write-gran", 0, &s->write_gran, errp) ||
        !qdict_take_uint(options, "delay", 0, &s->delay, errp) ||
        !qdict_take_bool(options, "fua", false, &s->fua, errp) ||
        !qdict_take_enum(options, "model", tz_models, BLK_Z_HM, &s->model,
                         errp)) {
        return -EINVAL;
    }
    if (!s->zone_size || !cap) {
        cap = s->zone_size;
    }
    s->zone_cap = cap;
    s->buf = g_malloc0(s->size);
    s->nr_zones = s->zone_size ? DIV_ROUND_UP(s->size, s->zone_size) : 0;
    s->zones = g_new0(TZone, MAX(s->nr_zones, 1));
    seq_type = s->model == BLK_Z_HA ? BLK_ZT_SWP : BLK_ZT_SWR;
    for (unsigned i = 0; i < s->nr_zones; i++) {
        TZone *z = &s->zones[i];

        z->start = i * s->zone_size;
        z->len = MIN(s->zone_size, s->size - z->start);
        z->cap = MIN(cap, z->len);
        if (i < conv) {
            /* As the kernel reports them: wp at the end, not a wp zone. */
            z->type = BLK_ZT_CONV;
            z->cond = BLK_ZS_NOT_WP;
            z->cap = z->len;
            z->wp = z->start + z->len;
        } else {
            z->type = seq_type;
            z->cond = BLK_ZS_EMPTY;
            z->wp = z->start;
        }
    }
    s->min_node_in_flight = UINT_MAX;
    if (s->fua) {
        bs->supported_write_flags = BDRV_REQ_FUA;
    }
    return 0;
}

static void tz_close(BlockDriverState *bs)
{
    BDRVTZState *s = bs->opaque;

    g_free(s->buf);
    g_free(s->zones);
}

static void tz_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BDRVTZState *s = bs->opaque;

    bs->bl.request_alignment = s->align;
    bs->bl.min_mem_alignment = s->mem_align;
    bs->bl.zoned = s->model;
    bs->bl.zone_size = s->zone_size;
    bs->bl.zone_capacity = s->zone_cap;
    bs->bl.nr_zones = s->nr_zones;
    bs->bl.max_open_zones = 8;
    bs->bl.max_active_zones = 12;
    bs->bl.max_append_bytes = s->max_append;
    bs->bl.write_granularity = s->write_gran;
}

static int64_t tz_getlength(BlockDriverState *bs)
{
    return ((BDRVTZState *)bs->opaque)->size;
}

/* The device node under bs (which may be a raw node over it). */
static BDRVTZState *tz_state(BlockDriverState *bs)
{
    while (bs->drv->bdrv_open != tz_open) {
        bs = bs->file->bs;
    }
    return bs->opaque;
}

static BlockDriverState *tz_node(BlockDriverState *bs)
{
    while (bs->drv->bdrv_open != tz_open) {
        bs = bs->file->bs;
    }
    return bs;
}

/* Every request enters and leaves through these. */
static void coroutine_fn tz_enter(BlockDriverState *bs)
{
    BDRVTZState *s = bs->opaque;

    s->in_driver++;
    s->min_node_in_flight = MIN(s->min_node_in_flight, bs->in_flight);
    for (uint64_t i = 0; i < s->delay; i++) {
        aio_co_schedule(qemu_get_current_aio_context(),
                        qemu_coroutine_self());
        qemu_coroutine_yield();
    }
}

static void tz_leave(BDRVTZState *s)
{
    s->in_driver--;
}

static void tz_check_memory(BDRVTZState *s, QEMUIOVector *qiov)
{
    for (int i = 0; s->mem_align > 1 && i < qiov->niov; i++) {
        if ((uintptr_t)qiov->iov[i].iov_base % s->mem_align ||
            qiov->iov[i].iov_len % s->align) {
            s->bad_memory++;
        }
    }
}

static TZone *tz_zone(BDRVTZState *s, uint64_t offset)
{
    return &s->zones[offset / s->zone_size];
}

static bool tz_is_seq(TZone *z)
{
    return z->type == BLK_ZT_SWR;
}

/* Data written at wp in a sequential zone moves it on. */
static void tz_advance(TZone *z, uint64_t bytes)
{
    z->wp += bytes;
    if (z->wp == z->start + z->cap) {
        z->cond = BLK_ZS_FULL;
    } else if (z->cond != BLK_ZS_EOPEN) {
        z->cond = BLK_ZS_IOPEN;
    }
}

/* Whether a sequential zone accepts bytes at its write pointer. */
static bool tz_zone_writable(TZone *z, uint64_t offset, uint64_t bytes)
{
    return z->cond != BLK_ZS_FULL && z->cond != BLK_ZS_RDONLY &&
           z->cond != BLK_ZS_OFFLINE && offset == z->wp &&
           bytes <= z->start + z->cap - z->wp;
}

static int coroutine_fn tz_co_preadv(BlockDriverState *bs, int64_t offset,
                                     int64_t bytes, QEMUIOVector *qiov,
                                     BdrvRequestFlags flags)
{
    BDRVTZState *s = bs->opaque;

    tz_enter(bs);
    qemu_iovec_from_buf(qiov, 0, s->buf + offset, bytes);
    tz_leave(s);
    return 0;
}

static int coroutine_fn tz_co_pwritev(BlockDriverState *bs, int64_t offset,
                                      int64_t bytes, QEMUIOVector *qiov,
                                      BdrvRequestFlags flags)
{
    BDRVTZState *s = bs->opaque;
    TZone *z = tz_zone(s, offset);
    int ret = 0;

    tz_enter(bs);
    s->writes++;
    tz_check_memory(s, qiov);
    if (offset % s->align || bytes % s->align) {
        ret = -EINVAL;
    } else if (tz_is_seq(z)) {
        if (!tz_zone_writable(z, offset, bytes)) {
            ret = -EIO;         /* the kernel's answer */
        } else {
            tz_advance(z, bytes);
        }
    } else if (tz_zone(s, offset + bytes - 1)->type != z->type) {
        ret = -EIO;
    }
    if (ret == 0) {
        qemu_iovec_to_buf(qiov, 0, s->buf + offset, bytes);
    }
    tz_leave(s);
    return ret;
}

static int coroutine_fn tz_co_flush(BlockDriverState *bs)
{
    ((BDRVTZState *)bs->opaque)->flushes++;
    return 0;
}

static int coroutine_fn tz_co_zone_report(BlockDriverState *bs,
                                          int64_t offset,
                                          unsigned int *nr_zones,
                                          BlockZoneDescriptor *zones)
{
    BDRVTZState *s = bs->opaque;
    unsigned first = offset / s->zone_size, n = 0;

    tz_enter(bs);
    s->reports++;
    for (unsigned i = first; i < s->nr_zones && n < *nr_zones; i++, n++) {
        TZone *z = &s->zones[i];

        zones[n] = (BlockZoneDescriptor) {
            .start = z->start, .length = z->len, .cap = z->cap,
            .wp = z->wp, .type = z->type, .state = z->cond,
        };
    }
    *nr_zones = n;
    tz_leave(s);
    return 0;
}

static int tz_zone_op(BDRVTZState *s, TZone *z, BlockZoneOp op)
{
    if (z->type == BLK_ZT_CONV) {
        return op == BLK_ZO_RESET_ALL ? 0 : -EIO;
    }
    switch (op) {
    case BLK_ZO_OPEN:
        if (z->cond != BLK_ZS_FULL) {
            z->cond = BLK_ZS_EOPEN;
        }
        break;
    case BLK_ZO_CLOSE:
        if (z->cond == BLK_ZS_IOPEN || z->cond == BLK_ZS_EOPEN) {
            z->cond = z->wp == z->start ? BLK_ZS_EMPTY : BLK_ZS_CLOSED;
        }
        break;
    case BLK_ZO_FINISH:
        z->cond = BLK_ZS_FULL;
        z->wp = z->start + z->len;
        break;
    case BLK_ZO_RESET:
    case BLK_ZO_RESET_ALL:
        z->cond = BLK_ZS_EMPTY;
        z->wp = z->start;
        memset(s->buf + z->start, 0, z->len);
        break;
    }
    return 0;
}

static int coroutine_fn tz_co_zone_mgmt(BlockDriverState *bs, BlockZoneOp op,
                                        int64_t offset, int64_t len)
{
    BDRVTZState *s = bs->opaque;
    int ret = 0;

    tz_enter(bs);
    s->mgmts++;
    s->last_op = op;
    s->last_offset = offset;
    s->last_len = len;
    for (int64_t pos = offset; pos < offset + len && ret == 0;
         pos += s->zone_size) {
        ret = tz_zone_op(s, tz_zone(s, pos), op);
    }
    tz_leave(s);
    return ret;
}

static int coroutine_fn tz_co_zone_append(BlockDriverState *bs,
                                          int64_t *offset,
                                          QEMUIOVector *qiov,
                                          BdrvRequestFlags flags)
{
    BDRVTZState *s = bs->opaque;
    TZone *z = tz_zone(s, *offset);
    int ret = -EIO;

    tz_enter(bs);
    s->appends++;
    tz_check_memory(s, qiov);
    if (tz_is_seq(z) && tz_zone_writable(z, z->wp, qiov->size)) {
        qemu_iovec_to_buf(qiov, 0, s->buf + z->wp, qiov->size);
        *offset = z->wp;
        tz_advance(z, qiov->size);
        ret = 0;
    }
    tz_leave(s);
    return ret;
}

static BlockDriver bdrv_test_zoned = {
    .format_name = "test-zoned",
    .instance_size = sizeof(BDRVTZState),
    .bdrv_open = tz_open,
    .bdrv_close = tz_close,
    .bdrv_refresh_limits = tz_refresh_limits,
    .bdrv_getlength = tz_getlength,
    .bdrv_co_preadv = tz_co_preadv,
    .bdrv_co_pwritev = tz_co_pwritev,
    .bdrv_co_flush = tz_co_flush,
    .bdrv_co_zone_report = tz_co_zone_report,
    .bdrv_co_zone_mgmt = tz_co_zone_mgmt,
    .bdrv_co_zone_append = tz_co_zone_append,
};

/* ---- helpers ---- */

static AioContext *main_ctx(void)
{
    return qemu_get_aio_context();
}

/* "test-zoned" with options, directly or under raw (raw_opts != NULL). */
static BlockBackend *open_tz(const char *tz_opts, const char *raw_opts,
                             int flags)
{
    g_autofree char *opts = NULL;

    if (raw_opts) {
        /* Each option of the child needs the "file." prefix. */
        g_auto(GStrv) parts = g_strsplit(tz_opts ? tz_opts : "", ",", -1);
        g_autofree char *child = g_strjoinv(",file.", parts);

        opts = g_strdup_printf("driver=raw%s%s,file.driver=test-zoned%s%s",
                               *raw_opts ? "," : "", raw_opts,
                               tz_opts ? ",file." : "", tz_opts ? child : "");
    } else {
        opts = g_strdup_printf("driver=test-zoned%s%s", tz_opts ? "," : "",
                               tz_opts ? tz_opts : "");
    }
    return test_open(opts, flags, &error_abort);
}

/* Run fn(opaque) in a coroutine and wait for it. */
typedef struct CoCall {
    void (*fn)(void *opaque);
    void *opaque;
    bool done;
} CoCall;

static void coroutine_fn co_call_entry(void *opaque)
{
    CoCall *c = opaque;

    c->fn(c->opaque);
    __atomic_store_n(&c->done, true, __ATOMIC_RELEASE);
}

static void run_in_coroutine(void (*fn)(void *opaque), void *opaque)
{
    CoCall c = { .fn = fn, .opaque = opaque };

    bdrv_poll_co(main_ctx(), co_call_entry, &c, &c.done);
}

static int append_buf(BlockBackend *blk, int64_t *offset, void *buf,
                      size_t len)
{
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, buf, len);
    return blk_zone_append(blk, offset, &qiov, 0);
}

static int append_n(BlockBackend *blk, int64_t *offset, size_t len, int pat)
{
    g_autofree uint8_t *buf = g_malloc(len);

    memset(buf, pat, len);
    return append_buf(blk, offset, buf, len);
}

static void report_one(BlockBackend *blk, int64_t offset,
                       BlockZoneDescriptor *z)
{
    unsigned n = 1;

    g_assert_cmpint(blk_zone_report(blk, offset, &n, z), ==, 0);
    g_assert_cmpuint(n, ==, 1);
}

/* ---- limits ---- */

static void test_limits_propagate(void)
{
    const char *geo = "size=1M,zone-size=64K,zone-cap=48K,conv=2,"
                      "max-append=32K";
    BlockBackend *blk = open_tz(geo, NULL, BDRV_O_RDWR);
    BlockBackend *rblk;
    BlockLimits bl, rbl;

    g_assert_true(bdrv_is_zoned(blk_bs(blk)));
    blk_get_zone_limits(blk, &bl);
    g_assert_cmpint(bl.zoned, ==, BLK_Z_HM);
    g_assert_cmpuint(bl.zone_size, ==, 64 * KiB);
    g_assert_cmpuint(bl.zone_capacity, ==, 48 * KiB);
    g_assert_cmpuint(bl.nr_zones, ==, 16);
    g_assert_cmpuint(bl.max_open_zones, ==, 8);
    g_assert_cmpuint(bl.max_active_zones, ==, 12);
    g_assert_cmpuint(bl.max_append_bytes, ==, 32 * KiB);
    /* Defaulted by the core from request_alignment. */
    g_assert_cmpuint(bl.write_granularity, ==, 512);
    blk_unref(blk);

    /* Through raw: the same geometry, on the node and the BlockBackend. */
    rblk = open_tz(geo, "", BDRV_O_RDWR);
    g_assert_cmpstr(bdrv_get_format_name(blk_bs(rblk)), ==, "raw");
    g_assert_true(bdrv_is_zoned(blk_bs(rblk)));
    blk_get_zone_limits(rblk, &rbl);
    g_assert_cmpint(rbl.zoned, ==, BLK_Z_HM);
    g_assert_cmpuint(rbl.zone_size, ==, 64 * KiB);
    g_assert_cmpuint(rbl.zone_capacity, ==, 48 * KiB);
    g_assert_cmpuint(rbl.nr_zones, ==, 16);
    g_assert_cmpuint(rbl.max_open_zones, ==, 8);
    g_assert_cmpuint(rbl.max_active_zones, ==, 12);
    g_assert_cmpuint(rbl.max_append_bytes, ==, 32 * KiB);
    g_assert_cmpuint(rbl.write_granularity, ==, 512);
    g_assert_cmpuint(rbl.request_alignment, ==, 512);
    blk_unref(rblk);

    /* A window counts only its own zones (and a smaller last one). */
    rblk = open_tz("size=1000K,zone-size=64K", "offset=128K",
                   BDRV_O_RDWR);
    blk_get_zone_limits(rblk, &rbl);
    g_assert_cmpuint(rbl.nr_zones, ==, 14);
    blk_unref(rblk);
    rblk = open_tz("size=1M", "offset=128K,size=192K", BDRV_O_RDWR);
    blk_get_zone_limits(rblk, &rbl);
    g_assert_cmpuint(rbl.nr_zones, ==, 3);
    blk_unref(rblk);

    /* Not zoned: nothing zoned shows, through raw either. */
    rblk = open_tz("model=none", "", BDRV_O_RDWR);
    g_assert_false(bdrv_is_zoned(blk_bs(rblk)));
    blk_get_zone_limits(rblk, &rbl);
    g_assert_cmpint(rbl.zoned, ==, BLK_Z_NONE);
    g_assert_cmpuint(rbl.zone_size, ==, 0);
    g_assert_cmpuint(rbl.nr_zones, ==, 0);
    blk_unref(rblk);

    /* No medium: all zero. */
    blk = blk_new(NULL);
    memset(&bl, 0xff, sizeof(bl));
    blk_get_zone_limits(blk, &bl);
    g_assert_cmpint(bl.zoned, ==, BLK_Z_NONE);
    g_assert_cmpuint(bl.zone_size, ==, 0);
    blk_unref(blk);
}

static void test_limits_invalid(void)
{
    Error *err = NULL;

    /* A zone size that is no power of two is refused, naming it. */
    g_assert_null(test_open("driver=test-zoned,size=960K,zone-size=96K",
                            BDRV_O_RDWR, &err));
    g_assert_nonnull(strstr(error_get_pretty(err),
                            "reports a zone size of 98304 bytes; it must be "
                            "a power of two"));
    error_free_or_abort(&err);

    /* Smaller than the request alignment. */
    g_assert_null(test_open("driver=test-zoned,size=1M,zone-size=256,"
                            "align=512", BDRV_O_RDWR, &err));
    g_assert_nonnull(strstr(error_get_pretty(err),
                            "multiple of the request alignment (512 "
                            "bytes)"));
    error_free_or_abort(&err);
}

/* ---- raw over a zoned child ---- */

static void test_raw_open_refusals(void)
{
    const char *base = "driver=raw,file.driver=test-zoned,file.size=1000K,"
                       "file.node-name=zdev";
    BlockBackend *blk;
    Error *err = NULL;
    g_autofree char *o1 = g_strdup_printf("%s,offset=4K", base);
    g_autofree char *o2 = g_strdup_printf("%s,offset=64K,size=100K", base);
    g_autofree char *o3 = g_strdup_printf("%s,offset=64K,size=936K", base);
    g_autofree char *o4 = g_strdup_printf("%s,offset=64K,size=128K", base);

    g_assert_null(test_open(o1, BDRV_O_RDWR, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Offset (4096) must be a multiple of the zone size "
                    "(65536) of the zoned device 'zdev'");
    error_free_or_abort(&err);

    g_assert_null(test_open(o2, BDRV_O_RDWR, &err));
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "The end of the window, offset (65536) + size (102400) "
                    "= 167936, must be a multiple of the zone size (65536) "
                    "or the end (1024000) of the zoned device 'zdev'");
    error_free_or_abort(&err);

    /* Ending at the device's end (a smaller last zone) is fine. */
    blk = test_open(o3, BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(blk_getlength(blk), ==, 936 * KiB);
    blk_unref(blk);
    blk = test_open(o4, BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(blk_getlength(blk), ==, 128 * KiB);
    blk_unref(blk);

    /* On a device that is not zoned any offset goes, as before. */
    blk = test_open("driver=raw,offset=4K,file.driver=test-zoned,"
                    "file.model=none", BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(blk_getlength(blk), ==, MiB - 4 * KiB);
    blk_unref(blk);
}

static void test_raw_translation(void)
{
    /* Window: zones 2..5 of a 16-zone device (zones 0, 1 conventional). */
    BlockBackend *blk = open_tz("size=1M,conv=2", "offset=128K,size=256K",
                                BDRV_O_RDWR);
    BlockDriverState *dev = tz_node(blk_bs(blk));
    BDRVTZState *s = tz_state(blk_bs(blk));
    BlockZoneDescriptor z[8];
    uint8_t back[4096];
    unsigned n = 8;
    int64_t off;

    /* Report: window-relative, clamped to the window. */
    g_assert_cmpint(blk_zone_report(blk, 0, &n, z), ==, 0);
    g_assert_cmpuint(n, ==, 4);
    for (unsigned i = 0; i < n; i++) {
        g_assert_cmpuint(z[i].start, ==, i * ZS);
        g_assert_cmpuint(z[i].wp, ==, i * ZS);
        g_assert_cmpuint(z[i].length, ==, ZS);
        g_assert_cmpint(z[i].type, ==, BLK_ZT_SWR);
        g_assert_cmpint(z[i].state, ==, BLK_ZS_EMPTY);
    }
    n = 8;
    g_assert_cmpint(blk_zone_report(blk, 3 * ZS + 100, &n, z), ==, 0);
    g_assert_cmpuint(n, ==, 1);
    g_assert_cmpuint(z[0].start, ==, 3 * ZS);

    /* Append: lands in the child's zone 3, the offset comes back relative. */
    off = ZS;
    g_assert_cmpint(append_n(blk, &off, 4096, 0x5a), ==, 0);
    g_assert_cmpint(off, ==, ZS);
    off = ZS;
    g_assert_cmpint(append_n(blk, &off, 8192, 0x5b), ==, 0);
    g_assert_cmpint(off, ==, ZS + 4096);
    g_assert_cmpuint(s->zones[3].wp, ==, 3 * ZS + 12288);
    g_assert_cmpint(s->zones[3].cond, ==, BLK_ZS_IOPEN);
    g_assert_cmpint(blk_pread(blk, ZS + 4096, 4096, back, 0), ==, 0);
    g_assert_cmpint(back[0], ==, 0x5b);
    g_assert_cmpint(s->buf[3 * ZS], ==, 0x5a);
    report_one(blk, ZS, z);
    g_assert_cmpuint(z[0].wp, ==, ZS + 12288);

    /* Management: moved into the child's address space. */
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_FINISH, 2 * ZS, 2 * ZS), ==,
                    0);
    g_assert_cmpint(s->last_offset, ==, 4 * ZS);
    g_assert_cmpint(s->last_len, ==, 2 * ZS);
    g_assert_cmpint(s->zones[4].cond, ==, BLK_ZS_FULL);
    g_assert_cmpint(s->zones[5].cond, ==, BLK_ZS_FULL);
    g_assert_cmpint(s->zones[6].cond, ==, BLK_ZS_EMPTY);

    /* Reset-all of a window resets its zones, not the whole device. */
    {
        int64_t dev_off = 8 * ZS;
        BlockBackend *devblk = blk_new(NULL);

        g_assert_cmpint(blk_insert_bs(devblk, dev, &error_abort), ==, 0);
        g_assert_cmpint(append_n(devblk, &dev_off, 4096, 1), ==, 0);
        g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET_ALL, 0, 4 * ZS), ==,
                        0);
        /* Zone by zone (skipping empty ones), so the last is zone 5. */
        g_assert_cmpint(s->last_op, ==, BLK_ZO_RESET);
        g_assert_cmpint(s->last_offset, ==, 5 * ZS);
        g_assert_cmpint(s->last_len, ==, ZS);
        for (int i = 2; i < 6; i++) {
            g_assert_cmpint(s->zones[i].cond, ==, BLK_ZS_EMPTY);
        }
        g_assert_cmpuint(s->zones[8].wp, ==, 8 * ZS + 4096);
        blk_unref(devblk);
    }
    blk_unref(blk);

    /* Without a window, reset-all stays reset-all. */
    blk = open_tz("size=1M,conv=2", "", BDRV_O_RDWR);
    s = tz_state(blk_bs(blk));
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET_ALL, 0, MiB), ==, 0);
    g_assert_cmpint(s->last_op, ==, BLK_ZO_RESET_ALL);
    blk_unref(blk);
}

/* A window at the device's end with a smaller last zone. */
static void test_raw_smaller_last_zone(void)
{
    BlockBackend *blk = open_tz("size=1000K", "offset=896K", BDRV_O_RDWR);
    BDRVTZState *s = tz_state(blk_bs(blk));
    BlockZoneDescriptor z[4];
    unsigned n = 4;
    int64_t off;

    g_assert_cmpint(blk_getlength(blk), ==, 104 * KiB);
    g_assert_cmpint(blk_zone_report(blk, 0, &n, z), ==, 0);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpuint(z[1].start, ==, ZS);
    g_assert_cmpuint(z[1].length, ==, 40 * KiB);
    g_assert_cmpuint(z[1].cap, ==, 40 * KiB);
    /* The last zone's length reaches the end: whole zones. */
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_FINISH, ZS, 40 * KiB), ==, 0);
    g_assert_cmpint(s->zones[15].cond, ==, BLK_ZS_FULL);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET, 0, 104 * KiB), ==, 0);
    g_assert_cmpint(s->zones[15].cond, ==, BLK_ZS_EMPTY);
    /* But not a shorter piece of it, nor more than is there. */
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, ZS, 32 * KiB), ==,
                    -EINVAL);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, ZS, ZS), ==, -EIO);
    off = ZS;
    g_assert_cmpint(append_n(blk, &off, 40 * KiB, 7), ==, 0);
    g_assert_cmpint(off, ==, ZS);
    off = ZS;
    g_assert_cmpint(append_n(blk, &off, 512, 7), ==, -EIO);
    blk_unref(blk);
}

/* ---- the generic checks, at the node (block/io.c) ---- */

typedef struct NodeChecks {
    BlockDriverState *bs;
} NodeChecks;

static void coroutine_fn node_checks_co(void *opaque)
{
    NodeChecks *c = opaque;
    BlockDriverState *bs = c->bs;
    BDRVTZState *s = tz_state(bs);
    BlockZoneDescriptor z[4];
    uint8_t *buf = qemu_memalign(4096, 128 * KiB);
    QEMUIOVector qiov;
    unsigned n;
    int64_t off;

    memset(buf, 0x11, 128 * KiB);

    /* Report: nothing asked, nothing past the end, a bad offset. */
    n = 0;
    g_assert_cmpint(bdrv_co_zone_report(bs, 0, &n, NULL), ==, 0);
    g_assert_cmpuint(n, ==, 0);
    n = 4;
    g_assert_cmpint(bdrv_co_zone_report(bs, MiB, &n, z), ==, 0);
    g_assert_cmpuint(n, ==, 0);
    n = 4;
    g_assert_cmpint(bdrv_co_zone_report(bs, -512, &n, z), ==, -EINVAL);
    g_assert_cmpint(bdrv_co_zone_report(bs, 0, NULL, z), ==, -EINVAL);
    n = 4;
    g_assert_cmpint(bdrv_co_zone_report(bs, 0, &n, NULL), ==, -EINVAL);
    g_assert_cmpuint(s->reports, ==, 0);
    n = 4;
    g_assert_cmpint(bdrv_co_zone_report(bs, 5 * ZS + 1, &n, z), ==, 0);
    g_assert_cmpuint(n, ==, 4);
    g_assert_cmpuint(z[0].start, ==, 5 * ZS);

    /* Management: alignment, range, operation. */
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_OPEN, 512, ZS), ==,
                    -EINVAL);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_OPEN, ZS, ZS + 512), ==,
                    -EINVAL);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_OPEN, ZS, 0), ==, -EINVAL);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_OPEN, ZS, -ZS), ==,
                    -EINVAL);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_OPEN, -ZS, ZS), ==,
                    -EINVAL);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_OPEN, MiB, ZS), ==,
                    -EINVAL);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_OPEN, MiB - ZS, 2 * ZS),
                    ==, -EINVAL);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_RESET_ALL, 0, MiB - ZS),
                    ==, -EINVAL);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_RESET_ALL, ZS, MiB - ZS),
                    ==, -EINVAL);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, (BlockZoneOp)42, 0, ZS), ==,
                    -EINVAL);
    g_assert_cmpuint(s->mgmts, ==, 0);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_OPEN, 2 * ZS, 2 * ZS), ==,
                    0);
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_RESET_ALL, 0, MiB), ==, 0);
    g_assert_cmpuint(s->mgmts, ==, 2);
    /* Device errors come back unchanged (conventional zone 0). */
    g_assert_cmpint(bdrv_co_zone_mgmt(bs, BLK_ZO_OPEN, 0, ZS), ==, -EIO);

    /* Append: zone start, length, granularity, limits, flags. */
    qemu_iovec_init_buf(&qiov, buf, 4096);
    off = 2 * ZS + 4096;
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, -EINVAL);
    g_assert_cmpint(off, ==, 2 * ZS + 4096);
    off = -ZS;
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, -EINVAL);
    off = MiB;
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, -EINVAL);
    off = 2 * ZS;
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, NULL, 0), ==, -EINVAL);
    g_assert_cmpint(bdrv_co_zone_append(bs, NULL, &qiov, 0), ==, -EINVAL);
    qemu_iovec_init_buf(&qiov, buf, 0);
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, -EINVAL);
    qemu_iovec_init_buf(&qiov, buf, 1000);
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, -EINVAL);
    /* write-gran=1K on this device: 512 bytes are too few. */
    qemu_iovec_init_buf(&qiov, buf, 1536);
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, -EINVAL);
    /* max-append=32K. */
    qemu_iovec_init_buf(&qiov, buf, 33 * KiB);
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, -EINVAL);
    qemu_iovec_init_buf(&qiov, buf, 4096);
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, BDRV_REQ_ZERO_WRITE),
                    ==, -EINVAL);
    g_assert_cmpuint(s->appends, ==, 0);
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, 0);
    g_assert_cmpint(off, ==, 2 * ZS);
    qemu_iovec_init_buf(&qiov, buf, 32 * KiB);
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, 0);
    g_assert_cmpint(off, ==, 2 * ZS + 4096);
    /* The device's own refusals (conventional, past capacity): as is. */
    off = 0;
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, -EIO);
    off = 2 * ZS;
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, 0), ==, -EIO);
    g_assert_cmpint(off, ==, 2 * ZS);

    /* FUA without the device's support: a flush after the append. */
    qemu_iovec_init_buf(&qiov, buf, 4096);
    off = 3 * ZS;
    g_assert_cmpuint(s->flushes, ==, 0);
    g_assert_cmpint(bdrv_co_zone_append(bs, &off, &qiov, BDRV_REQ_FUA), ==,
                    0);
    g_assert_cmpuint(s->flushes, ==, 1);
    qemu_vfree(buf);
}

static void test_node_checks(void)
{
    BlockBackend *blk = open_tz("size=1M,zone-size=64K,zone-cap=48K,conv=2,"
                                "max-append=32K,write-gran=1K", NULL,
                                BDRV_O_RDWR);
    NodeChecks c = { .bs = blk_bs(blk) };

    run_in_coroutine(node_checks_co, &c);
    blk_unref(blk);
}

/* Unaligned regular writes: refused on host-managed, RMW elsewhere. */
static void test_unaligned_writes(void)
{
    BlockBackend *blk = open_tz("conv=1", "", BDRV_O_RDWR);
    BDRVTZState *s = tz_state(blk_bs(blk));
    uint8_t buf[4096], back[4096];

    memset(buf, 0x33, sizeof(buf));
    g_assert_cmpint(blk_pwrite(blk, 100, 512, buf, 0), ==, -EINVAL);
    g_assert_cmpint(blk_pwrite(blk, ZS, 1000, buf, 0), ==, -EINVAL);
    g_assert_cmpint(blk_pwrite_zeroes(blk, ZS, 100, 0), ==, -EINVAL);
    g_assert_cmpuint(s->writes, ==, 0);
    /* Aligned: through, and the zone's write pointer moves. */
    g_assert_cmpint(blk_pwrite(blk, ZS, 4096, buf, 0), ==, 0);
    g_assert_cmpuint(s->zones[1].wp, ==, ZS + 4096);
    /* Not at the write pointer: the device's -EIO, unchanged. */
    g_assert_cmpint(blk_pwrite(blk, ZS, 4096, buf, 0), ==, -EIO);
    blk_unref(blk);

    /* Host-aware (sequential write preferred): partial blocks are RMW. */
    blk = open_tz("model=host-aware", "", BDRV_O_RDWR);
    g_assert_true(bdrv_is_zoned(blk_bs(blk)));
    g_assert_cmpint(blk_pwrite(blk, 100, 512, buf, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 0, 1024, back, 0), ==, 0);
    g_assert_cmpint(back[99], ==, 0);
    g_assert_cmpint(back[100], ==, 0x33);
    g_assert_cmpint(back[611], ==, 0x33);
    g_assert_cmpint(back[612], ==, 0);
    blk_unref(blk);

    /* Not zoned: the same. */
    blk = open_tz("model=none", "", BDRV_O_RDWR);
    g_assert_cmpint(blk_pwrite(blk, 100, 512, buf, 0), ==, 0);
    blk_unref(blk);
}

/* A node that is not zoned refuses all three, whatever its driver has. */
static void test_not_zoned(void)
{
    BlockBackend *blk = open_tz("model=none", "", BDRV_O_RDWR);
    BlockBackend *mem = test_open("driver=test-mem,size=1M", BDRV_O_RDWR,
                                  &error_abort);
    BlockZoneDescriptor z[2];
    unsigned n = 2;
    int64_t off = 0;

    g_assert_cmpint(blk_zone_report(blk, 0, &n, z), ==, -ENOTSUP);
    n = 0;
    g_assert_cmpint(blk_zone_report(blk, 0, &n, z), ==, -ENOTSUP);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 0, ZS), ==, -ENOTSUP);
    g_assert_cmpint(append_n(blk, &off, 4096, 1), ==, -ENOTSUP);
    g_assert_cmpuint(tz_state(blk_bs(blk))->reports, ==, 0);
    n = 2;
    g_assert_cmpint(blk_zone_report(mem, 0, &n, z), ==, -ENOTSUP);
    g_assert_cmpint(blk_zone_mgmt(mem, BLK_ZO_RESET, 0, ZS), ==, -ENOTSUP);
    g_assert_cmpint(append_n(mem, &off, 4096, 1), ==, -ENOTSUP);
    g_assert_cmpuint(mem_state(blk_bs(mem))->ops->len, ==, 0);
    blk_unref(mem);
    blk_unref(blk);

    /* No medium. */
    blk = blk_new(NULL);
    g_assert_cmpint(blk_zone_report(blk, 0, &n, z), ==, -ENOMEDIUM);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 0, ZS), ==, -ENOMEDIUM);
    g_assert_cmpint(append_n(blk, &off, 4096, 1), ==, -ENOMEDIUM);
    blk_unref(blk);
}

/* BlockBackend range checks: -EIO like blk_pread, past the end. */
static void test_backend_ranges(void)
{
    BlockBackend *blk = open_tz("size=1M", "", BDRV_O_RDWR);
    BlockZoneDescriptor z[2];
    unsigned n = 2;
    int64_t off;

    g_assert_cmpint(blk_zone_report(blk, -1, &n, z), ==, -EIO);
    n = 2;
    g_assert_cmpint(blk_zone_report(blk, 2 * MiB, &n, z), ==, 0);
    g_assert_cmpuint(n, ==, 0);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, MiB, ZS), ==, -EIO);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, MiB - ZS, 2 * ZS), ==,
                    -EIO);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, -ZS, ZS), ==, -EIO);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 0, -1), ==, -EIO);
    off = MiB;
    g_assert_cmpint(append_n(blk, &off, 4096, 1), ==, -EIO);
    off = -4096;
    g_assert_cmpint(append_n(blk, &off, 4096, 1), ==, -EIO);
    g_assert_cmpint(blk_zone_append(blk, NULL, NULL, 0), ==, -EINVAL);
    /* Inside the device but not a zone start: the core's -EINVAL. */
    off = 4096;
    g_assert_cmpint(append_n(blk, &off, 4096, 1), ==, -EINVAL);
    blk_unref(blk);
}

static void test_read_only(void)
{
    BlockBackend *blk = open_tz("size=1M", "", 0);
    BDRVTZState *s = tz_state(blk_bs(blk));
    BlockZoneDescriptor z[2];
    unsigned n = 2;
    int64_t off = ZS;

    g_assert_true(blk_is_read_only(blk));
    g_assert_cmpint(blk_zone_report(blk, 0, &n, z), ==, 0);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 0, ZS), ==, -EPERM);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET_ALL, 0, MiB), ==,
                    -EPERM);
    g_assert_cmpint(append_n(blk, &off, 4096, 1), ==, -EPERM);
    g_assert_cmpint(off, ==, ZS);
    g_assert_cmpuint(s->mgmts + s->appends, ==, 0);
    blk_unref(blk);
}

/* Memory the device cannot take (O_DIRECT rules) is bounced. */
static void test_append_bounce(void)
{
    BlockBackend *blk = open_tz("mem-align=4096", "", BDRV_O_RDWR);
    BDRVTZState *s = tz_state(blk_bs(blk));
    uint8_t *raw = qemu_memalign(4096, 3 * 4096);
    QEMUIOVector qiov;
    int64_t off = 0;

    for (int i = 0; i < 3 * 4096; i++) {
        raw[i] = i % 251;
    }
    /* Misaligned start. */
    qemu_iovec_init_buf(&qiov, raw + 512, 4096);
    g_assert_cmpint(blk_zone_append(blk, &off, &qiov, 0), ==, 0);
    g_assert_cmpint(off, ==, 0);
    g_assert_cmpmem(s->buf, 4096, raw + 512, 4096);
    /* Many small pieces, each whole blocks but not memory-aligned. */
    qemu_iovec_init(&qiov, 8);
    for (int i = 0; i < 8; i++) {
        qemu_iovec_add(&qiov, raw + i * 1024, 512);
    }
    off = 0;
    g_assert_cmpint(blk_zone_append(blk, &off, &qiov, 0), ==, 0);
    g_assert_cmpint(off, ==, 4096);
    for (int i = 0; i < 8; i++) {
        g_assert_cmpmem(s->buf + 4096 + i * 512, 512, raw + i * 1024, 512);
    }
    qemu_iovec_destroy(&qiov);
    /* Aligned memory goes through as it is. */
    qemu_iovec_init_buf(&qiov, raw, 8192);
    off = 0;
    g_assert_cmpint(blk_zone_append(blk, &off, &qiov, 0), ==, 0);
    g_assert_cmpint(off, ==, 8192);
    g_assert_cmpuint(s->bad_memory, ==, 0);
    g_assert_cmpuint(s->appends, ==, 3);
    qemu_vfree(raw);
    blk_unref(blk);
}

/* ---- the three forms of the BlockBackend calls ---- */

typedef struct FormsCo {
    BlockBackend *blk;
} FormsCo;

static void coroutine_fn forms_co(void *opaque)
{
    FormsCo *f = opaque;
    BlockZoneDescriptor z[2];
    uint8_t buf[4096];
    QEMUIOVector qiov;
    unsigned n = 2;
    int64_t off = 2 * ZS;

    memset(buf, 0x44, sizeof(buf));
    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
    g_assert_cmpint(blk_co_zone_append(f->blk, &off, &qiov, 0), ==, 0);
    g_assert_cmpint(off, ==, 2 * ZS);
    g_assert_cmpint(blk_co_zone_mgmt(f->blk, BLK_ZO_CLOSE, 2 * ZS, ZS), ==,
                    0);
    g_assert_cmpint(blk_co_zone_report(f->blk, 2 * ZS, &n, z), ==, 0);
    g_assert_cmpuint(n, ==, 2);
    g_assert_cmpint(z[0].state, ==, BLK_ZS_CLOSED);
    g_assert_cmpuint(z[0].wp, ==, 2 * ZS + 4096);

    /* The synchronous forms inside a coroutine just yield. */
    off = 2 * ZS;
    g_assert_cmpint(blk_zone_append(f->blk, &off, &qiov, 0), ==, 0);
    g_assert_cmpint(off, ==, 2 * ZS + 4096);
    g_assert_cmpint(blk_zone_mgmt(f->blk, BLK_ZO_FINISH, 2 * ZS, ZS), ==, 0);
    n = 1;
    g_assert_cmpint(blk_zone_report(f->blk, 2 * ZS, &n, z), ==, 0);
    g_assert_cmpint(z[0].state, ==, BLK_ZS_FULL);
}

static void test_forms_coroutine(void)
{
    /* delay: the device yields, so the calls really wait. */
    FormsCo f = { .blk = open_tz("delay=3", "", BDRV_O_RDWR) };

    run_in_coroutine(forms_co, &f);
    blk_unref(f.blk);
}

typedef struct AioZ {
    bool in_submit;
    int calls;
    int ret;
    AioContext *ctx;
} AioZ;

static void aioz_cb(void *opaque, int ret)
{
    AioZ *a = opaque;

    g_assert_false(a->in_submit);
    g_assert_true(qemu_get_current_aio_context() == a->ctx);
    a->calls++;
    a->ret = ret;
}

static void test_forms_aio(void)
{
    BlockBackend *blk = open_tz("size=1M", "offset=64K", BDRV_O_RDWR);
    AioZ a = { .ctx = main_ctx() };
    BlockZoneDescriptor z[4];
    uint8_t buf[8192];
    QEMUIOVector qiov;
    unsigned n = 4;
    int64_t off = ZS;

    memset(buf, 0x66, sizeof(buf));
    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));

    /* The device completes at once; the callback still comes later. */
    a.in_submit = true;
    blk_aio_zone_append(blk, &off, &qiov, 0, aioz_cb, &a);
    a.in_submit = false;
    g_assert_cmpint(a.calls, ==, 0);
    AIO_WAIT_WHILE(main_ctx(), a.calls < 1);
    g_assert_cmpint(a.ret, ==, 0);
    g_assert_cmpint(off, ==, ZS);

    a.in_submit = true;
    blk_aio_zone_mgmt(blk, BLK_ZO_OPEN, 0, 2 * ZS, aioz_cb, &a);
    a.in_submit = false;
    AIO_WAIT_WHILE(main_ctx(), a.calls < 2);
    g_assert_cmpint(a.ret, ==, 0);

    a.in_submit = true;
    blk_aio_zone_report(blk, 0, &n, z, aioz_cb, &a);
    a.in_submit = false;
    g_assert_cmpint(a.calls, ==, 2);
    AIO_WAIT_WHILE(main_ctx(), a.calls < 3);
    g_assert_cmpint(a.ret, ==, 0);
    g_assert_cmpuint(n, ==, 4);
    g_assert_cmpint(z[0].state, ==, BLK_ZS_EOPEN);
    g_assert_cmpuint(z[1].wp, ==, ZS + 8192);

    /* Errors arrive the same way. */
    off = 512;
    a.in_submit = true;
    blk_aio_zone_append(blk, &off, &qiov, 0, aioz_cb, &a);
    a.in_submit = false;
    AIO_WAIT_WHILE(main_ctx(), a.calls < 4);
    g_assert_cmpint(a.ret, ==, -EINVAL);
    a.in_submit = true;
    blk_aio_zone_mgmt(blk, BLK_ZO_OPEN, 0, 4 * MiB, aioz_cb, &a);
    a.in_submit = false;
    AIO_WAIT_WHILE(main_ctx(), a.calls < 5);
    g_assert_cmpint(a.ret, ==, -EIO);
    g_assert_cmpuint(blk_in_flight(blk), ==, 0);
    blk_unref(blk);
}

/* ---- drain and in-flight accounting ---- */

#define DRAIN_REQS 8

static void test_drain_in_flight(void)
{
    BlockBackend *blk = open_tz("delay=20", "", BDRV_O_RDWR);
    BDRVTZState *s = tz_state(blk_bs(blk));
    AioZ a = { .ctx = main_ctx() };
    BlockZoneDescriptor z[4];
    int64_t offs[DRAIN_REQS];
    uint8_t buf[4096];
    QEMUIOVector qiov;
    unsigned n = 4;

    memset(buf, 0x77, sizeof(buf));
    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
    for (int i = 0; i < DRAIN_REQS; i++) {
        offs[i] = (i % 2) * ZS;
        blk_aio_zone_append(blk, &offs[i], &qiov, 0, aioz_cb, &a);
    }
    blk_aio_zone_mgmt(blk, BLK_ZO_OPEN, 4 * ZS, ZS, aioz_cb, &a);
    blk_aio_zone_report(blk, 0, &n, z, aioz_cb, &a);
    g_assert_cmpuint(blk_in_flight(blk), ==, DRAIN_REQS + 2);
    /* They are inside the device, yielding, and counted on the nodes. */
    g_assert_cmpuint(s->in_driver, >, 0);
    g_assert_cmpuint(blk_bs(blk)->in_flight, >, 0);

    bdrv_drain(blk_bs(blk));
    g_assert_cmpuint(s->in_driver, ==, 0);
    g_assert_cmpuint(tz_node(blk_bs(blk))->in_flight, ==, 0);
    /* Callbacks may be pending still; blk_drain waits for them too. */
    blk_drain(blk);
    g_assert_cmpint(a.calls, ==, DRAIN_REQS + 2);
    g_assert_cmpuint(blk_in_flight(blk), ==, 0);
    g_assert_cmpuint(s->min_node_in_flight, >=, 1);
    g_assert_cmpuint(s->appends, ==, DRAIN_REQS);
    g_assert_cmpint(s->zones[4].cond, ==, BLK_ZS_EOPEN);
    /* Every append got its own place. */
    for (int i = 0; i < DRAIN_REQS; i++) {
        for (int j = 0; j < i; j++) {
            g_assert_cmpint(offs[i], !=, offs[j]);
        }
    }
    g_assert_cmpuint(s->zones[0].wp, ==, DRAIN_REQS / 2 * 4096);
    g_assert_cmpuint(s->zones[1].wp, ==, ZS + DRAIN_REQS / 2 * 4096);
    blk_unref(blk);
}

static void test_drained_section(void)
{
    BlockBackend *blk = open_tz("delay=2", "", BDRV_O_RDWR);
    BlockDriverState *bs = blk_bs(blk);
    BDRVTZState *s = tz_state(bs);
    AioZ a = { .ctx = main_ctx() };
    BlockZoneDescriptor z[2];
    uint8_t buf[4096];
    QEMUIOVector qiov;
    unsigned n = 2;
    int64_t off = 0;

    memset(buf, 0x78, sizeof(buf));
    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
    bdrv_drained_begin(bs);
    blk_aio_zone_append(blk, &off, &qiov, 0, aioz_cb, &a);
    blk_aio_zone_mgmt(blk, BLK_ZO_OPEN, ZS, ZS, aioz_cb, &a);
    blk_aio_zone_report(blk, 0, &n, z, aioz_cb, &a);
    for (int i = 0; i < 50; i++) {
        aio_poll(main_ctx(), false);
    }
    /* Queued behind the drain: nothing reached the device. */
    g_assert_cmpint(a.calls, ==, 0);
    g_assert_cmpuint(s->appends + s->mgmts + s->reports, ==, 0);
    bdrv_drained_end(bs);
    AIO_WAIT_WHILE(main_ctx(), a.calls < 3);
    g_assert_cmpint(a.ret, ==, 0);
    g_assert_cmpuint(s->appends, ==, 1);
    g_assert_cmpuint(s->mgmts, ==, 1);
    g_assert_cmpuint(s->reports, ==, 1);
    blk_unref(blk);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    test_mem_register();
    bdrv_register(&bdrv_test_zoned);

    g_test_add_func("/block-zoned/limits/propagate", test_limits_propagate);
    g_test_add_func("/block-zoned/limits/invalid", test_limits_invalid);
    g_test_add_func("/block-zoned/raw/open-refusals",
                    test_raw_open_refusals);
    g_test_add_func("/block-zoned/raw/translation", test_raw_translation);
    g_test_add_func("/block-zoned/raw/smaller-last-zone",
                    test_raw_smaller_last_zone);
    g_test_add_func("/block-zoned/checks/node", test_node_checks);
    g_test_add_func("/block-zoned/checks/unaligned-writes",
                    test_unaligned_writes);
    g_test_add_func("/block-zoned/checks/not-zoned", test_not_zoned);
    g_test_add_func("/block-zoned/checks/backend-ranges",
                    test_backend_ranges);
    g_test_add_func("/block-zoned/checks/read-only", test_read_only);
    g_test_add_func("/block-zoned/append/bounce", test_append_bounce);
    g_test_add_func("/block-zoned/forms/coroutine", test_forms_coroutine);
    g_test_add_func("/block-zoned/forms/aio", test_forms_aio);
    g_test_add_func("/block-zoned/drain/in-flight", test_drain_in_flight);
    g_test_add_func("/block-zoned/drain/section", test_drained_section);
    return g_test_run();
}
