/*
 * Tests of the zoned image format, on real files in a temporary
 * directory, through BlockBackend -> zoned -> file: creation and its
 * option errors, every I/O and zone operation, the limits a device would
 * expose, persistence across close and flush, recovery of data written
 * after the last flush (images copied while open stand for a crash),
 * corrupt and truncated images with their messages, qemu-img check and
 * its repairs, and the crash test: a writer process killed with SIGKILL
 * at random moments, the image checked against its log each time.
 *
 * ZONED_CRASH_ROUNDS sets the number of crash rounds (default 20);
 * ZONED_CRASH_SEED the first seed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <signal.h>
#include <poll.h>
#include <sys/wait.h>
#include "block/block_int.h"
#include "block/zoned-int.h"
#include "sysemu/block-backend.h"
#include "qemu/main-loop.h"
#include "qemu/keyval.h"
#include "qapi/error.h"
#include "zoned-crash.h"

#define KiB 1024LL
#define MiB (1024 * KiB)

/* The geometry of most tests: 8 zones of 1 MiB (768 KiB capacity). */
#define GEO "zone_size=1M,zone_capacity=768K,conventional_zones=1," \
            "logical_block_size=4096"
#define ZS (1 * MiB)
#define ZCAP (768 * KiB)

static char *tmpdir;
static char *writer_path;

/* ---- helpers ---- */

static char *path_of(const char *name)
{
    return g_strdup_printf("%s/%s", tmpdir, name);
}

static int try_create(const char *path, const char *opts, int64_t size,
                      Error **errp)
{
    QDict *d = opts && *opts ? keyval_parse(opts, NULL, &error_abort)
                             : NULL;

    return bdrv_create("zoned", path, d, size, errp);
}

static char *create_img(const char *name, const char *opts, int64_t size)
{
    char *path = path_of(name);

    g_assert_cmpint(try_create(path, opts, size, &error_abort), ==, 0);
    return path;
}

static BlockBackend *try_open(const char *path, int flags, Error **errp)
{
    QDict *o = qdict_new();

    qdict_put_str(o, "driver", "zoned");
    return blk_new_open(path, o, flags, errp);
}

static BlockBackend *open_img(const char *path, int flags)
{
    return try_open(path, flags, &error_abort);
}

/* The open error's message (the image must not open). */
static char *open_error(const char *path)
{
    Error *err = NULL;
    BlockBackend *blk = try_open(path, 0, &err);
    char *msg;

    g_assert_null(blk);
    g_assert_nonnull(err);
    msg = g_strdup(error_get_pretty(err));
    error_free(err);
    return msg;
}

static void zone(BlockBackend *blk, uint32_t i, BlockZoneDescriptor *d)
{
    BlockLimits bl;
    unsigned int nr = 1;

    blk_get_zone_limits(blk, &bl);
    g_assert_cmpint(blk_zone_report(blk, (int64_t)i * bl.zone_size, &nr, d),
                    ==, 0);
    g_assert_cmpuint(nr, ==, 1);
}

static void assert_zone(BlockBackend *blk, uint32_t i, BlockZoneState st,
                        uint64_t wp)
{
    BlockZoneDescriptor d;

    zone(blk, i, &d);
    g_assert_cmpint(d.state, ==, st);
    g_assert_cmphex(d.wp, ==, wp);
}

static uint8_t *pattern(size_t len, uint8_t seed)
{
    uint8_t *buf = qemu_memalign(4096, len);

    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + i / 4096 * 7 + (i % 251);
    }
    return buf;
}

static void write_pat(BlockBackend *blk, int64_t off, size_t len,
                      uint8_t seed)
{
    uint8_t *buf = pattern(len, seed);

    g_assert_cmpint(blk_pwrite(blk, off, len, buf, 0), ==, 0);
    qemu_vfree(buf);
}

static void check_pat(BlockBackend *blk, int64_t off, size_t len,
                      uint8_t seed)
{
    uint8_t *want = pattern(len, seed);
    uint8_t *got = qemu_memalign(4096, len);

    g_assert_cmpint(blk_pread(blk, off, len, got, 0), ==, 0);
    g_assert_true(memcmp(want, got, len) == 0);
    qemu_vfree(want);
    qemu_vfree(got);
}

static void check_zero(BlockBackend *blk, int64_t off, size_t len)
{
    uint8_t *got = qemu_memalign(4096, len);

    memset(got, 0x5a, len);
    g_assert_cmpint(blk_pread(blk, off, len, got, 0), ==, 0);
    for (size_t i = 0; i < len; i++) {
        g_assert_cmpint(got[i], ==, 0);
    }
    qemu_vfree(got);
}

static int do_append(BlockBackend *blk, int64_t zone_start, size_t len,
                     uint8_t seed, int64_t *landed)
{
    uint8_t *buf = pattern(len, seed);
    QEMUIOVector qiov;
    int64_t off = zone_start;
    int ret;

    qemu_iovec_init_buf(&qiov, buf, len);
    ret = blk_zone_append(blk, &off, &qiov, 0);
    qemu_vfree(buf);
    if (ret == 0 && landed) {
        *landed = off;
    }
    return ret;
}

/* Raw access to the file under the image. */
static void file_pwrite(const char *path, int64_t off, const void *buf,
                        size_t len)
{
    int fd = open(path, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, len, off), ==, (ssize_t)len);
    close(fd);
}

static void file_pread(const char *path, int64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, off), ==, (ssize_t)len);
    close(fd);
}

static void file_punch(const char *path, int64_t off, int64_t len)
{
    int fd = open(path, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                              off, len), ==, 0);
    close(fd);
}

static bool file_has_data(const char *path, int64_t off, int64_t len)
{
    int fd = open(path, O_RDONLY);
    off_t d;

    g_assert_cmpint(fd, >=, 0);
    d = lseek(fd, off, SEEK_DATA);
    close(fd);
    return d >= 0 && d < off + len;
}

/*
 * What a crash would leave behind: the file as it is now (the page cache
 * survives a killed process), holes kept.
 */
static char *crash_copy(const char *src, const char *name)
{
    char *dst = path_of(name);
    int in = open(src, O_RDONLY);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct stat st;
    g_autofree uint8_t *buf = g_malloc(MiB);
    off_t pos = 0;

    g_assert_cmpint(in, >=, 0);
    g_assert_cmpint(out, >=, 0);
    g_assert_cmpint(fstat(in, &st), ==, 0);
    g_assert_cmpint(ftruncate(out, st.st_size), ==, 0);
    while (pos < st.st_size) {
        off_t data = lseek(in, pos, SEEK_DATA);
        off_t hole;

        if (data < 0) {
            break;
        }
        hole = lseek(in, data, SEEK_HOLE);
        for (pos = data; pos < hole;) {
            ssize_t n = pread(in, buf, MIN(MiB, hole - pos), pos);

            g_assert_cmpint(n, >, 0);
            g_assert_cmpint(pwrite(out, buf, n, pos), ==, n);
            pos += n;
        }
    }
    close(in);
    close(out);
    return dst;
}

/* The decoded header of an image file. */
static void read_header(const char *path, ZonedHeader *h)
{
    uint8_t buf[ZONED_HEADER_SIZE];

    file_pread(path, 0, buf, sizeof(buf));
    g_assert_true(zoned_header_decode(buf, -1, path, h, &error_abort));
}

/* The newest valid slot: its index, generation and entries. */
static int read_slot(const char *path, const ZonedHeader *h, uint64_t *gen,
                     ZonedEntry *e)
{
    int best = -1;

    for (int k = 0; k < 2; k++) {
        g_autofree uint8_t *buf = g_malloc(h->slot_size);
        g_autofree ZonedEntry *tmp = g_new(ZonedEntry, h->nr_zones);
        g_autofree char *reason = NULL;
        uint64_t g;

        file_pread(path, h->slot_offset[k], buf, h->slot_size);
        if (zoned_slot_decode(h, buf, &g, tmp, &reason) &&
            (best < 0 || g > *gen)) {
            best = k;
            *gen = g;
            memcpy(e, tmp, h->nr_zones * sizeof(*e));
        }
    }
    g_assert_cmpint(best, >=, 0);
    return best;
}

/* Write entries as the next generation, in the other slot. */
static void write_next_slot(const char *path, const ZonedHeader *h,
                            uint64_t gen, const ZonedEntry *e)
{
    g_autofree uint8_t *buf = g_malloc(h->slot_size);

    zoned_slot_encode(h, gen + 1, e, buf);
    file_pwrite(path, h->slot_offset[(gen + 1) & 1], buf, h->slot_size);
}

typedef struct CheckOut {
    int ret;
    BdrvCheckResult r;
    GString *all;
} CheckOut;

static void run_check(const char *path, BdrvCheckMode fix, CheckOut *c)
{
    BlockBackend *blk = open_img(path, fix ? BDRV_O_RDWR : 0);

    c->ret = bdrv_check(blk_bs(blk), &c->r, fix);
    c->all = g_string_new(NULL);
    for (guint i = 0; c->r.messages && i < c->r.messages->len; i++) {
        g_string_append_printf(c->all, "%s\n",
                               (char *)g_ptr_array_index(c->r.messages, i));
    }
    if (c->all->len) {
        g_test_message("check: %s", c->all->str);
    }
    blk_unref(blk);
}

static void check_done(CheckOut *c)
{
    bdrv_check_result_cleanup(&c->r);
    g_string_free(c->all, true);
}

/* ---- creation ---- */

static void test_create_limits(void)
{
    g_autofree char *path = create_img("limits.zoned",
        "zone_size=64M,zone_capacity=48M,conventional_zones=2,"
        "max_open_zones=8,max_active_zones=12,logical_block_size=4096,"
        "max_append_size=256K", 4LL * 1024 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    BlockLimits bl;
    GString *info = g_string_new(NULL);
    BlockZoneDescriptor d;

    g_assert_cmpint(blk_getlength(blk), ==, 4LL * 1024 * MiB);
    blk_get_zone_limits(blk, &bl);
    g_assert_cmpint(bl.zoned, ==, BLK_Z_HM);
    g_assert_cmpuint(bl.zone_size, ==, 64 * MiB);
    g_assert_cmpuint(bl.zone_capacity, ==, 48 * MiB);
    g_assert_cmpuint(bl.nr_zones, ==, 64);
    g_assert_cmpuint(bl.max_open_zones, ==, 8);
    g_assert_cmpuint(bl.max_active_zones, ==, 12);
    g_assert_cmpuint(bl.max_append_bytes, ==, 256 * KiB);
    g_assert_cmpuint(bl.write_granularity, ==, 4096);
    g_assert_cmpuint(bl.request_alignment, ==, 4096);
    g_assert_cmpuint(bl.logical_block_size, ==, 4096);

    zone(blk, 0, &d);
    g_assert_cmpint(d.type, ==, BLK_ZT_CONV);
    zone(blk, 2, &d);
    g_assert_cmpint(d.type, ==, BLK_ZT_SWR);
    g_assert_cmpint(d.state, ==, BLK_ZS_EMPTY);
    g_assert_cmpuint(d.cap, ==, 48 * MiB);

    bdrv_format_specific_info(blk_bs(blk), info);
    g_assert_nonnull(strstr(info->str, "zone size: 67108864\n"));
    g_assert_nonnull(strstr(info->str, "zone capacity: 50331648\n"));
    g_assert_nonnull(strstr(info->str, "conventional zones: 2\n"));
    g_assert_nonnull(strstr(info->str, "zones empty: 62\n"));
    g_assert_nonnull(strstr(info->str, "zones conventional: 2\n"));
    g_string_free(info, true);

    /* A new image takes almost no space: the data area is a hole. */
    g_assert_cmpint(bdrv_get_allocated_file_size(blk_bs(blk)), <, 1 * MiB);
    blk_unref(blk);
}

static void test_create_errors(void)
{
    static const struct {
        const char *opts;
        int64_t size;
        const char *msg;
    } cases[] = {
        { "logical_block_size=1024", 8 * MiB, "logical_block_size 1024" },
        { "zone_size=3M", 12 * MiB, "zone_size 3 MiB is not a power of two" },
        { "zone_size=1M,zone_capacity=2M", 8 * MiB, "exceeds zone_size" },
        { "zone_size=1M,zone_capacity=1000", 8 * MiB, "not a multiple" },
        { "zone_size=1M,zone_capacity=512K", 8 * MiB + 512 * KiB,
          "smaller last zone" },
        { "zone_size=1M,conventional_zones=8", 8 * MiB,
          "leaves no sequential zone" },
        { "zone_size=1M,max_open_zones=4,max_active_zones=2", 8 * MiB,
          "max_open_zones 4 exceeds max_active_zones 2" },
        { "zone_size=1M", 4 * KiB, "smaller than zone_size" },
        { "zone_size=4K", 8 * 1024 * MiB, "more than 1048576" },
        { "zone_size=1M,max_append_size=1000", 8 * MiB,
          "Maximum append size 1000" },
        { "zone_size=1M,conventional_zones=1,readonly_zones=0", 8 * MiB,
          "'readonly_zones': zones 0-0 are not sequential" },
        { "zone_size=1M,offline_zones=9", 8 * MiB, "zones 9-9" },
        { "zone_size=1M,offline_zones=x", 8 * MiB, "expects zone numbers" },
        { "zone_size=1M,foo=1", 8 * MiB, "Invalid parameter 'foo'" },
        { "zone_size=1M,max_open_zones=-1", 8 * MiB, "max_open_zones" },
    };
    g_autofree char *path = path_of("errors.zoned");

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        Error *err = NULL;

        g_assert_cmpint(try_create(path, cases[i].opts, cases[i].size,
                                   &err), <, 0);
        g_assert_nonnull(err);
        if (!strstr(error_get_pretty(err), cases[i].msg)) {
            g_test_message("case %zu: '%s'", i, error_get_pretty(err));
            g_assert_not_reached();
        }
        error_free(err);
    }
}

/* -o help: every option has help text; the defaults are printed. */
static void test_create_help(void)
{
    const BlockCreateOptionDesc *d = bdrv_create_options("zoned");
    static const char *const want[] = {
        "size", "zone_size", "zone_capacity", "conventional_zones",
        "max_open_zones", "max_active_zones", "max_append_size",
        "logical_block_size", "readonly_zones", "offline_zones",
    };

    g_assert_nonnull(d);
    for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
        const BlockCreateOptionDesc *o;

        for (o = d; o->name && strcmp(o->name, want[i]); o++) {
            /* search */
        }
        g_assert_nonnull(o->name);
        g_assert_nonnull(o->help);
        if (strcmp(o->name, "size") && strcmp(o->name, "readonly_zones") &&
            strcmp(o->name, "offline_zones")) {
            g_assert_nonnull(o->def_value_str);
        }
    }
}

/* The default geometry, and a short last zone with capacity = size. */
static void test_create_defaults(void)
{
    g_autofree char *path = create_img("defaults.zoned", NULL,
                                       1024 * MiB + 64 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    BlockZoneDescriptor d;
    BlockLimits bl;

    blk_get_zone_limits(blk, &bl);
    g_assert_cmpuint(bl.zone_size, ==, 256 * MiB);
    g_assert_cmpuint(bl.nr_zones, ==, 5);
    g_assert_cmpuint(bl.logical_block_size, ==, 512);
    g_assert_cmpuint(bl.max_open_zones, ==, 0);
    zone(blk, 4, &d);
    g_assert_cmpuint(d.length, ==, 64 * MiB);
    g_assert_cmpuint(d.cap, ==, 64 * MiB);
    /* Fill the short zone to its end with one append. */
    g_assert_cmpint(do_append(blk, 1024 * MiB, 64 * MiB, 3, NULL), ==, 0);
    assert_zone(blk, 4, BLK_ZS_FULL, 1024 * MiB + 64 * MiB);
    check_pat(blk, 1024 * MiB, 64 * MiB, 3);
    blk_unref(blk);
}

/* ---- I/O ---- */

static void test_io_rw(void)
{
    g_autofree char *path = create_img("rw.zoned", GEO, 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    uint8_t *buf = pattern(64 * KiB, 1);
    int64_t pnum, map;
    BlockDriverState *file;
    int st;

    /* Conventional zone: anywhere, in any order. */
    write_pat(blk, 512 * KiB, 64 * KiB, 1);
    write_pat(blk, 0, 8 * KiB, 2);
    check_pat(blk, 512 * KiB, 64 * KiB, 1);
    check_pat(blk, 0, 8 * KiB, 2);

    /* Sequential zone: at the write pointer only. */
    g_assert_cmpint(blk_pwrite(blk, ZS + 4096, 4096, buf, 0), ==, -EIO);
    write_pat(blk, ZS, 64 * KiB, 3);
    assert_zone(blk, 1, BLK_ZS_IOPEN, ZS + 64 * KiB);
    write_pat(blk, ZS + 64 * KiB, 8 * KiB, 4);
    check_pat(blk, ZS, 64 * KiB, 3);
    check_pat(blk, ZS + 64 * KiB, 8 * KiB, 4);
    /* Beyond the write pointer (and the capacity): zeroes. */
    check_zero(blk, ZS + 72 * KiB, ZS - 72 * KiB);
    /* Not whole blocks: refused, no read-modify-write. */
    g_assert_cmpint(blk_pwrite(blk, ZS + 72 * KiB, 512, buf, 0), ==,
                    -EINVAL);
    /* Past the capacity. */
    g_assert_cmpint(blk_pwrite(blk, ZS + 72 * KiB, ZCAP, buf, 0), <, 0);
    assert_zone(blk, 1, BLK_ZS_IOPEN, ZS + 72 * KiB);

    /* Zeroes are written data like any other. */
    g_assert_cmpint(blk_pwrite_zeroes(blk, ZS + 72 * KiB, 8 * KiB, 0), ==,
                    0);
    assert_zone(blk, 1, BLK_ZS_IOPEN, ZS + 80 * KiB);

    /* Block status: data below the write pointer, zeroes above. */
    st = bdrv_block_status(blk_bs(blk), ZS, ZS, &pnum, &map, &file);
    g_assert_cmpint(st & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO), ==,
                    BDRV_BLOCK_DATA);
    g_assert_cmpint(pnum, ==, 80 * KiB);
    st = bdrv_block_status(blk_bs(blk), ZS + 80 * KiB, ZS, &pnum, &map,
                           &file);
    g_assert_true(st & BDRV_BLOCK_ZERO);
    g_assert_cmpint(pnum, ==, ZS - 80 * KiB);

    /* Writing a zone full by writes. */
    write_pat(blk, ZS + 80 * KiB, ZCAP - 80 * KiB, 5);
    assert_zone(blk, 1, BLK_ZS_FULL, ZS + ZCAP);
    g_assert_cmpint(blk_pwrite(blk, ZS + ZCAP, 4096, buf, 0), ==, -EIO);

    /* A write crossing from a full zone's end into the next zone fails. */
    g_assert_cmpint(blk_pwrite(blk, 2 * ZS - 4096, 8192, buf, 0), <, 0);
    qemu_vfree(buf);
    blk_unref(blk);
}

/* A write across two zones: both pieces at their pointers. */
static void test_io_cross_zone(void)
{
    g_autofree char *path = create_img("cross.zoned",
        "zone_size=1M,conventional_zones=1,logical_block_size=512", 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);

    write_pat(blk, ZS, ZS - 64 * KiB, 1);
    write_pat(blk, 2 * ZS - 64 * KiB, 128 * KiB, 2);
    assert_zone(blk, 1, BLK_ZS_FULL, 2 * ZS);
    assert_zone(blk, 2, BLK_ZS_IOPEN, 2 * ZS + 64 * KiB);
    check_pat(blk, 2 * ZS - 64 * KiB, 128 * KiB, 2);
    /* 512-byte blocks. */
    write_pat(blk, 2 * ZS + 64 * KiB, 512, 3);
    assert_zone(blk, 2, BLK_ZS_IOPEN, 2 * ZS + 64 * KiB + 512);
    blk_unref(blk);
}

typedef struct AppendReq {
    int64_t off;
    int ret;
    bool done;
    uint8_t *buf;
    size_t len;
    QEMUIOVector qiov;
} AppendReq;

static void append_cb(void *opaque, int ret)
{
    AppendReq *r = opaque;

    r->ret = ret;
    r->done = true;
}

/* 96 appends in flight over three zones: none overlaps, all land. */
static void test_zone_append_concurrent(void)
{
    g_autofree char *path = create_img("append.zoned", GEO, 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    enum { N = 96 };
    AppendReq r[N];
    uint64_t used[3] = { 0, 0, 0 };
    g_autofree uint8_t *seen = g_malloc0(8 * MiB / 4096);
    bool all;

    for (int i = 0; i < N; i++) {
        r[i].len = (1 + i % 4) * 4096;
        r[i].buf = pattern(r[i].len, i);
        r[i].off = (1 + i % 3) * ZS;
        r[i].done = false;
        qemu_iovec_init_buf(&r[i].qiov, r[i].buf, r[i].len);
        blk_aio_zone_append(blk, &r[i].off, &r[i].qiov, 0, append_cb, &r[i]);
    }
    do {
        main_loop_wait(false);
        all = true;
        for (int i = 0; i < N; i++) {
            all &= r[i].done;
        }
    } while (!all);
    for (int i = 0; i < N; i++) {
        uint64_t z = r[i].off / ZS;

        g_assert_cmpint(r[i].ret, ==, 0);
        g_assert_cmpuint(z, ==, 1 + i % 3);
        for (size_t b = 0; b < r[i].len / 4096; b++) {
            g_assert_cmpint(seen[r[i].off / 4096 + b]++, ==, 0);
        }
        used[z - 1] += r[i].len;
        check_pat(blk, r[i].off, r[i].len, i);
        qemu_vfree(r[i].buf);
    }
    for (int z = 0; z < 3; z++) {
        assert_zone(blk, 1 + z, BLK_ZS_IOPEN, (1 + z) * ZS + used[z]);
    }
    /* Appends to a conventional zone and past the capacity: EIO. */
    g_assert_cmpint(do_append(blk, 0, 4096, 0, NULL), ==, -EIO);
    g_assert_cmpint(do_append(blk, 4 * ZS, ZCAP, 1, NULL), ==, 0);
    g_assert_cmpint(do_append(blk, 4 * ZS, 4096, 1, NULL), ==, -EIO);
    blk_unref(blk);
}

static void test_zone_mgmt(void)
{
    g_autofree char *path = create_img("mgmt.zoned", GEO, 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    int64_t landed;

    /* open / close */
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 2 * ZS, ZS), ==, 0);
    assert_zone(blk, 2, BLK_ZS_EOPEN, 2 * ZS);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_CLOSE, 2 * ZS, ZS), ==, 0);
    assert_zone(blk, 2, BLK_ZS_EMPTY, 2 * ZS);
    write_pat(blk, 2 * ZS, 64 * KiB, 1);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_CLOSE, 2 * ZS, ZS), ==, 0);
    assert_zone(blk, 2, BLK_ZS_CLOSED, 2 * ZS + 64 * KiB);
    g_assert_cmpint(do_append(blk, 2 * ZS, 4096, 2, &landed), ==, 0);
    g_assert_cmpint(landed, ==, 2 * ZS + 64 * KiB);

    /* finish: the pointer goes to the zone end, beyond reads zeroes */
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_FINISH, 2 * ZS, ZS), ==, 0);
    assert_zone(blk, 2, BLK_ZS_FULL, 3 * ZS);
    check_pat(blk, 2 * ZS, 64 * KiB, 1);
    check_zero(blk, 2 * ZS + 68 * KiB, ZS - 68 * KiB);
    g_assert_cmpint(do_append(blk, 2 * ZS, 4096, 2, NULL), ==, -EIO);

    /* reset: the data goes, from the file too */
    g_assert_true(file_has_data(path, ZS + 2 * ZS, 64 * KiB));
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET, 2 * ZS, ZS), ==, 0);
    assert_zone(blk, 2, BLK_ZS_EMPTY, 2 * ZS);
    check_zero(blk, 2 * ZS, ZS);
    g_assert_false(file_has_data(path, ZS + 2 * ZS, ZS));

    /* reset of a range and reset-all */
    write_pat(blk, 3 * ZS, 4096, 3);
    write_pat(blk, 4 * ZS, 4096, 4);
    write_pat(blk, 5 * ZS, 4096, 5);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET, 3 * ZS, 2 * ZS), ==, 0);
    assert_zone(blk, 3, BLK_ZS_EMPTY, 3 * ZS);
    assert_zone(blk, 4, BLK_ZS_EMPTY, 4 * ZS);
    assert_zone(blk, 5, BLK_ZS_IOPEN, 5 * ZS + 4096);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET_ALL, 0, 8 * ZS), ==, 0);
    assert_zone(blk, 5, BLK_ZS_EMPTY, 5 * ZS);
    check_zero(blk, 5 * ZS, 4096);

    /* misaligned or on a conventional zone */
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 2 * ZS + 4096, ZS), ==,
                    -EINVAL);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 0, ZS), ==, -EIO);
    blk_unref(blk);
}

/* The open and active limits, through the whole stack. */
static void test_zone_limits(void)
{
    g_autofree char *path = create_img("lim.zoned", GEO ",max_open_zones=2,"
                                       "max_active_zones=3", 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    uint8_t *buf = pattern(4096, 0);

    write_pat(blk, 1 * ZS, 4096, 1);
    write_pat(blk, 2 * ZS, 4096, 2);
    /* A third implicitly closes the first implicitly open one. */
    write_pat(blk, 3 * ZS, 4096, 3);
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 4096);
    assert_zone(blk, 2, BLK_ZS_IOPEN, 2 * ZS + 4096);
    assert_zone(blk, 3, BLK_ZS_IOPEN, 3 * ZS + 4096);
    /* A fourth active zone: over the active limit. */
    g_assert_cmpint(blk_pwrite(blk, 4 * ZS, 4096, buf, 0), ==, -EOVERFLOW);
    /* Explicitly open ones cannot be closed implicitly. */
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 2 * ZS, ZS), ==, 0);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 3 * ZS, ZS), ==, 0);
    g_assert_cmpint(blk_pwrite(blk, 1 * ZS + 4096, 4096, buf, 0), ==,
                    -ETOOMANYREFS);
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 4096);
    qemu_vfree(buf);
    blk_unref(blk);
}

/* Test knobs: read-only and offline zones, kept across reopen. */
static void test_zone_knobs(void)
{
    g_autofree char *path = create_img("knobs.zoned", GEO ",readonly_zones="
                                       "2:4-5,offline_zones=6", 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    uint8_t *buf = pattern(4096, 0);
    BlockZoneDescriptor d;

    for (int pass = 0; pass < 2; pass++) {
        zone(blk, 2, &d);
        g_assert_cmpint(d.state, ==, BLK_ZS_RDONLY);
        zone(blk, 5, &d);
        g_assert_cmpint(d.state, ==, BLK_ZS_RDONLY);
        zone(blk, 6, &d);
        g_assert_cmpint(d.state, ==, BLK_ZS_OFFLINE);
        assert_zone(blk, 3, BLK_ZS_EMPTY, 3 * ZS);
        g_assert_cmpint(blk_pwrite(blk, 2 * ZS, 4096, buf, 0), ==, -EIO);
        g_assert_cmpint(do_append(blk, 4 * ZS, 4096, 0, NULL), ==, -EIO);
        g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET, 2 * ZS, ZS), ==,
                        -EIO);
        check_zero(blk, 2 * ZS, ZS);
        g_assert_cmpint(blk_pread(blk, 6 * ZS, 4096, buf, 0), ==, -EIO);
        g_assert_cmpint(blk_pwrite(blk, 6 * ZS, 4096, buf, 0), ==, -EIO);
        /* Reset-all leaves them alone. */
        g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET_ALL, 0, 8 * ZS),
                        ==, 0);
        blk_unref(blk);
        blk = open_img(path, BDRV_O_RDWR);
    }
    qemu_vfree(buf);
    blk_unref(blk);
}

/* ---- persistence ---- */

static void test_persist_flush_reopen(void)
{
    g_autofree char *path = create_img("persist.zoned", GEO, 8 * MiB);
    g_autofree char *crashed = NULL;
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    ZonedHeader h;
    g_autofree ZonedEntry *e = NULL;
    uint64_t gen0, gen1;

    read_header(path, &h);
    e = g_new(ZonedEntry, h.nr_zones);
    read_slot(path, &h, &gen0, e);

    write_pat(blk, 0, 64 * KiB, 9);
    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    g_assert_cmpint(do_append(blk, 2 * ZS, 128 * KiB, 2, NULL), ==, 0);
    write_pat(blk, 3 * ZS, ZCAP, 3);
    write_pat(blk, 4 * ZS, 8 * KiB, 4);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_FINISH, 4 * ZS, ZS), ==, 0);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 5 * ZS, ZS), ==, 0);
    /* Plain writes cost no metadata write. */
    read_slot(path, &h, &gen1, e);
    g_assert_cmpuint(gen1, ==, gen0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    read_slot(path, &h, &gen1, e);
    g_assert_cmpuint(gen1, ==, gen0 + 1);
    g_assert_cmpint(e[1].cond, ==, BLK_ZS_CLOSED);
    g_assert_cmpuint(e[1].wp, ==, 1 * ZS + 64 * KiB);
    /* A flush with nothing new writes nothing. */
    g_assert_cmpint(blk_flush(blk), ==, 0);
    read_slot(path, &h, &gen1, e);
    g_assert_cmpuint(gen1, ==, gen0 + 1);

    /* The state after the flush, as a crash would leave it. */
    crashed = crash_copy(path, "persist-crash.zoned");
    blk_unref(blk);

    for (int pass = 0; pass < 2; pass++) {
        blk = open_img(pass ? crashed : path, BDRV_O_RDWR);
        check_pat(blk, 0, 64 * KiB, 9);
        /* Open zones come back closed. */
        assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 64 * KiB);
        assert_zone(blk, 2, BLK_ZS_CLOSED, 2 * ZS + 128 * KiB);
        assert_zone(blk, 3, BLK_ZS_FULL, 3 * ZS + ZCAP);
        assert_zone(blk, 4, BLK_ZS_FULL, 5 * ZS);
        assert_zone(blk, 5, BLK_ZS_EMPTY, 5 * ZS);
        check_pat(blk, 1 * ZS, 64 * KiB, 1);
        check_pat(blk, 2 * ZS, 128 * KiB, 2);
        check_pat(blk, 3 * ZS, ZCAP, 3);
        check_pat(blk, 4 * ZS, 8 * KiB, 4);
        check_zero(blk, 4 * ZS + 8 * KiB, ZS - 8 * KiB);
        /* And it goes on from there. */
        write_pat(blk, 1 * ZS + 64 * KiB, 4096, 7);
        blk_unref(blk);
    }
}

/* Writes after the last flush are found again by the scan at open. */
static void test_persist_recover(void)
{
    g_autofree char *path = create_img("recover.zoned", GEO, 8 * MiB);
    g_autofree char *crashed = NULL;
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    write_pat(blk, 2 * ZS, 8 * KiB, 2);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    write_pat(blk, 1 * ZS + 64 * KiB, 32 * KiB, 3);        /* after */
    g_assert_cmpint(do_append(blk, 3 * ZS, 16 * KiB, 4, NULL), ==, 0);
    write_pat(blk, 5 * ZS, ZCAP, 5);                       /* fills */
    /* Zeroes written after the flush cannot be told from no data. */
    g_assert_cmpint(blk_pwrite_zeroes(blk, 2 * ZS + 8 * KiB, 8 * KiB, 0),
                    ==, 0);
    write_pat(blk, 2 * ZS + 16 * KiB, 4096, 6);
    crashed = crash_copy(path, "recover-crash.zoned");
    blk_unref(blk);

    /* check on the crashed image (read-only): leaks, no corruption */
    run_check(crashed, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.ret, ==, 0);
    g_assert_cmpint(c.r.corruptions, ==, 0);
    g_assert_cmpint(c.r.leaks, ==, 4);     /* zones 1, 3, 5; 2 */
    g_assert_nonnull(strstr(c.all->str, "zone 1: data written after the "
                            "last flush moves the write pointer from "
                            "1114112 to 1146880"));
    /* zone 2: the zero blocks stop the scan; what follows is a leak */
    g_assert_nonnull(strstr(c.all->str, "Leak: zone 2: data at 2113536 "
                            "above the write pointer (2105344)"));
    check_done(&c);

    blk = open_img(crashed, BDRV_O_RDWR);
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 96 * KiB);
    check_pat(blk, 1 * ZS + 64 * KiB, 32 * KiB, 3);
    assert_zone(blk, 2, BLK_ZS_CLOSED, 2 * ZS + 8 * KiB);
    check_zero(blk, 2 * ZS + 8 * KiB, ZS - 8 * KiB);
    assert_zone(blk, 3, BLK_ZS_CLOSED, 3 * ZS + 16 * KiB);
    check_pat(blk, 3 * ZS, 16 * KiB, 4);
    assert_zone(blk, 5, BLK_ZS_FULL, 5 * ZS + ZCAP);
    check_pat(blk, 5 * ZS, ZCAP, 5);
    blk_unref(blk);
    /* The writable open repaired everything (and said so). */
    run_check(crashed, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.r.corruptions + c.r.leaks, ==, 0);
    check_done(&c);
}

/*
 * A preallocated file is allocated everywhere: only the contents tell
 * written blocks from the rest.
 */
static void test_persist_preallocated(void)
{
    g_autofree char *path = create_img("prealloc.zoned",
                                       GEO ",preallocation=full", 8 * MiB);
    g_autofree char *crashed = NULL;
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);

    g_assert_true(file_has_data(path, 6 * MiB, 64 * KiB));
    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    write_pat(blk, 1 * ZS + 64 * KiB, 16 * KiB, 2);
    write_pat(blk, 3 * ZS, ZCAP, 3);
    crashed = crash_copy(path, "prealloc-crash.zoned");
    blk_unref(blk);
    blk = open_img(crashed, BDRV_O_RDWR);
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 80 * KiB);
    assert_zone(blk, 2, BLK_ZS_EMPTY, 2 * ZS);
    assert_zone(blk, 3, BLK_ZS_FULL, 3 * ZS + ZCAP);
    check_pat(blk, 1 * ZS, 80 * KiB - 16 * KiB, 1);
    check_pat(blk, 1 * ZS + 64 * KiB, 16 * KiB, 2);
    blk_unref(blk);
}

/* O_DIRECT under the image: aligned buffers and requests all the way. */
static void test_io_direct(void)
{
    g_autofree char *path = create_img("direct.zoned", GEO, 8 * MiB);
    QDict *o = qdict_new();
    BlockBackend *blk;
    int64_t landed;

    qdict_put_str(o, "driver", "zoned");
    qdict_put_str(o, "file.aio", "threads");
    blk = blk_new_open(path, o, BDRV_O_RDWR | BDRV_O_NOCACHE, &error_abort);
    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    g_assert_cmpint(do_append(blk, 1 * ZS, 8 * KiB, 2, &landed), ==, 0);
    g_assert_cmpint(landed, ==, 1 * ZS + 64 * KiB);
    check_pat(blk, 1 * ZS, 64 * KiB, 1);
    check_pat(blk, landed, 8 * KiB, 2);
    check_zero(blk, landed + 8 * KiB, 4096);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET, 1 * ZS, ZS), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    blk_unref(blk);
    blk = open_img(path, 0);
    assert_zone(blk, 1, BLK_ZS_EMPTY, 1 * ZS);
    blk_unref(blk);
}

/* A reset is durable when it completes; an interrupted one finishes. */
static void test_persist_reset(void)
{
    g_autofree char *path = create_img("reset.zoned", GEO, 8 * MiB);
    g_autofree char *crashed = NULL;
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    ZonedHeader h;
    g_autofree ZonedEntry *e = NULL;
    uint64_t gen;
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    write_pat(blk, 2 * ZS, 64 * KiB, 2);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET, 1 * ZS, ZS), ==, 0);
    crashed = crash_copy(path, "reset-crash.zoned");
    blk_unref(blk);
    blk = open_img(crashed, 0);
    assert_zone(blk, 1, BLK_ZS_EMPTY, 1 * ZS);
    assert_zone(blk, 2, BLK_ZS_CLOSED, 2 * ZS + 64 * KiB);
    blk_unref(blk);

    /* A crash between the slot and the discard: "reset pending". */
    read_header(crashed, &h);
    e = g_new(ZonedEntry, h.nr_zones);
    read_slot(crashed, &h, &gen, e);
    e[2].cond = BLK_ZS_EMPTY;
    e[2].wp = e[2].data_end = 2 * ZS;
    e[2].flags = ZONED_ENTRY_RESET_PENDING;
    write_next_slot(crashed, &h, gen, e);
    g_assert_true(file_has_data(crashed, h.data_offset + 2 * ZS, ZS));

    run_check(crashed, BDRV_FIX_NONE, &c);
    g_assert_nonnull(strstr(c.all->str, "Leak: zone 2: the data of an "
                            "interrupted reset is discarded"));
    check_done(&c);
    blk = open_img(crashed, BDRV_O_RDWR);
    assert_zone(blk, 2, BLK_ZS_EMPTY, 2 * ZS);
    check_zero(blk, 2 * ZS, ZS);
    g_assert_false(file_has_data(crashed, h.data_offset + 2 * ZS, ZS));
    /* The flag goes at the next metadata write. */
    write_pat(blk, 2 * ZS, 4096, 3);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    read_slot(crashed, &h, &gen, e);
    g_assert_cmpint(e[2].flags, ==, 0);
    g_assert_cmpint(e[2].cond, ==, BLK_ZS_CLOSED);
    blk_unref(blk);
}

/* A torn slot update: the previous slot is used. */
static void test_persist_torn_slot(void)
{
    g_autofree char *path = create_img("torn.zoned", GEO, 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    ZonedHeader h;
    g_autofree ZonedEntry *e = NULL;
    uint64_t gen;
    int slot;
    uint8_t junk[512];
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    blk_unref(blk);
    read_header(path, &h);
    e = g_new(ZonedEntry, h.nr_zones);
    slot = read_slot(path, &h, &gen, e);
    /* The newest slot half-written. */
    memset(junk, 0xee, sizeof(junk));
    file_pwrite(path, h.slot_offset[slot] + 16, junk, sizeof(junk));

    run_check(path, BDRV_FIX_NONE, &c);
    /* The slot (once: open saw it, the disk check skips it), zone 1. */
    g_assert_cmpint(c.r.leaks, ==, 2);
    g_assert_cmpint(c.r.corruptions, ==, 0);
    g_assert_nonnull(strstr(c.all->str, "is invalid"));
    check_done(&c);
    blk = open_img(path, 0);
    /* The older slot knew nothing of zone 1's data, but the scan did. */
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 64 * KiB);
    blk_unref(blk);

    run_check(path, BDRV_FIX_LEAKS, &c);
    g_assert_cmpint(c.r.leaks, ==, 0);
    g_assert_cmpint(c.r.leaks_fixed, ==, 2);
    check_done(&c);
    run_check(path, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.r.leaks + c.r.corruptions, ==, 0);
    g_assert_cmpuint(c.all->len, ==, 0);
    check_done(&c);
}

/* ---- corrupt images ---- */

typedef void CorruptFn(const char *path, const ZonedHeader *h);

static void put_header(const char *path, const ZonedHeader *h, bool fix_crc)
{
    uint8_t buf[ZONED_HEADER_SIZE];

    zoned_header_encode(h, buf);
    if (!fix_crc) {
        buf[20] ^= 0x10;
    }
    file_pwrite(path, 0, buf, sizeof(buf));
}

static void corrupt_magic(const char *path, const ZonedHeader *h)
{
    file_pwrite(path, 0, "QCOW", 4);
}

static void corrupt_version(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.version = 7;
    put_header(path, &x, true);
}

static void corrupt_header_crc(const char *path, const ZonedHeader *h)
{
    put_header(path, h, false);
}

static void corrupt_geometry_pow2(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.zone_size = 3 * MiB;
    put_header(path, &x, true);
}

static void corrupt_geometry_cap(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.zone_capacity = 2 * MiB;
    put_header(path, &x, true);
}

static void corrupt_geometry_count(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.nr_zones = 9;
    put_header(path, &x, true);
}

static void corrupt_slots_overlap(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.slot_offset[1] = x.slot_offset[0] + 512;
    put_header(path, &x, true);
}

static void corrupt_both_slots(const char *path, const ZonedHeader *h)
{
    uint8_t b = 0x42;

    file_pwrite(path, h->slot_offset[0] + 40, &b, 1);
    file_pwrite(path, h->slot_offset[1] + 40, &b, 1);
}

static void corrupt_slot_content(const char *path, const ZonedHeader *h)
{
    g_autofree ZonedEntry *e = g_new(ZonedEntry, h->nr_zones);
    uint64_t gen;

    read_slot(path, h, &gen, e);
    e[3].wp = 3 * ZS + 4096;            /* empty with a pointer inside */
    for (int k = 0; k < 2; k++) {
        g_autofree uint8_t *buf = g_malloc(h->slot_size);

        zoned_slot_encode(h, gen + k, e, buf);
        file_pwrite(path, h->slot_offset[k], buf, h->slot_size);
    }
}

static void corrupt_truncate_table(const char *path, const ZonedHeader *h)
{
    g_assert_cmpint(truncate(path, h->slot_offset[1] + 100), ==, 0);
}

static void corrupt_truncate_header(const char *path, const ZonedHeader *h)
{
    g_assert_cmpint(truncate(path, 100), ==, 0);
}

static void corrupt_too_many_active(const char *path, const ZonedHeader *h)
{
    g_autofree ZonedEntry *e = g_new(ZonedEntry, h->nr_zones);
    uint64_t gen;

    read_slot(path, h, &gen, e);
    for (int i = 1; i <= 4; i++) {
        e[i].cond = BLK_ZS_CLOSED;
        e[i].wp = e[i].data_end = i * ZS + 4096;
    }
    write_next_slot(path, h, gen, e);
}

static void test_corrupt(void)
{
    static const struct {
        const char *name;
        CorruptFn *fn;
        const char *msg;
    } cases[] = {
        { "magic", corrupt_magic, "has a bad magic" },
        { "version", corrupt_version, "has version 7; this build reads "
          "version 1" },
        { "header-crc", corrupt_header_crc, "has a corrupt header: checksum" },
        { "pow2", corrupt_geometry_pow2, "impossible geometry: Zone size "
          "3145728 must be a power of two" },
        { "cap", corrupt_geometry_cap, "impossible geometry: Zone capacity "
          "2097152" },
        { "count", corrupt_geometry_count, "impossible geometry: 9 zones "
          "recorded, but 8388608 bytes in zones of 1048576 bytes make 8" },
        { "overlap", corrupt_slots_overlap, "overlap" },
        { "slots", corrupt_both_slots, "has no valid metadata: slot 0 "
          "(offset 4096): checksum" },
        { "content", corrupt_slot_content, "slot 1 (offset 8192): empty zone "
          "3 has its write pointer at 3149824" },
        { "table-eof", corrupt_truncate_table, "the zone table in metadata "
          "slot 1 (offset 8192, 4096 bytes) extends past the end of the "
          "file (8704 bytes)" },
        { "header-eof", corrupt_truncate_header, "is truncated: 512 bytes "
          "cannot hold its 4096-byte header" },
        { "active", corrupt_too_many_active, "4 zones are active (closed), "
          "more than the limit of 3" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *name = g_strdup_printf("corrupt-%s.zoned",
                                                cases[i].name);
        g_autofree char *path = create_img(name, GEO ",max_active_zones=3",
                                           8 * MiB);
        g_autofree char *msg = NULL;
        ZonedHeader h;

        read_header(path, &h);
        cases[i].fn(path, &h);
        msg = open_error(path);
        if (!strstr(msg, cases[i].msg)) {
            g_test_message("%s: '%s'", cases[i].name, msg);
            g_assert_not_reached();
        }
        g_assert_nonnull(strstr(msg, path));
    }
}

/* ---- check and repair ---- */

static void test_check_clean(void)
{
    g_autofree char *path = create_img("check.zoned", GEO, 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_FINISH, 2 * ZS, ZS), ==, 0);
    blk_unref(blk);
    run_check(path, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.ret, ==, 0);
    g_assert_cmpint(c.r.corruptions + c.r.leaks + c.r.check_errors, ==, 0);
    g_assert_cmpuint(c.all->len, ==, 0);
    check_done(&c);
}

/* Data missing under a write pointer, data left above one. */
static void test_check_repair(void)
{
    g_autofree char *path = create_img("repair.zoned", GEO, 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    ZonedHeader h;
    uint8_t junk[4096];
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    write_pat(blk, 2 * ZS, 64 * KiB, 2);
    write_pat(blk, 3 * ZS, 8 * KiB, 3);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_FINISH, 3 * ZS, ZS), ==, 0);
    blk_unref(blk);
    read_header(path, &h);
    file_punch(path, h.data_offset + 1 * ZS + 32 * KiB, 32 * KiB);
    memset(junk, 0x77, sizeof(junk));
    file_pwrite(path, h.data_offset + 2 * ZS + 200 * KiB, junk, 4096);
    file_pwrite(path, h.data_offset + 3 * ZS + 500 * KiB, junk, 4096);

    run_check(path, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.r.corruptions, ==, 1);
    g_assert_cmpint(c.r.leaks, ==, 2);
    g_assert_nonnull(strstr(c.all->str, "ERROR: zone 1: the write pointer "
                            "(1114112) is above the data present in the "
                            "file, which ends at 1081344\n"));
    g_assert_nonnull(strstr(c.all->str, "Leak: zone 2: data at 2301952 "
                            "above the write pointer (2162688)\n"));
    g_assert_nonnull(strstr(c.all->str, "Leak: zone 3: data at 3657728 "
                            "above the write pointer (3153920)\n"));
    check_done(&c);

    run_check(path, BDRV_FIX_LEAKS | BDRV_FIX_ERRORS, &c);
    g_assert_cmpint(c.r.corruptions + c.r.leaks, ==, 0);
    g_assert_cmpint(c.r.corruptions_fixed, ==, 1);
    g_assert_cmpint(c.r.leaks_fixed, ==, 2);
    g_assert_nonnull(strstr(c.all->str, "Repaired: zone 1:"));
    check_done(&c);

    run_check(path, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.r.corruptions + c.r.leaks, ==, 0);
    check_done(&c);
    blk = open_img(path, 0);
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 32 * KiB);
    check_pat(blk, 1 * ZS, 32 * KiB, 1);
    assert_zone(blk, 3, BLK_ZS_FULL, 4 * ZS);
    blk_unref(blk);
}

/* ---- the crash test ---- */

typedef struct ZcLogZone {
    /* constraints: flushes (and the start) at the zone's generation */
    GArray *need_gen, *need_end, *need_pos;
    GArray *reset_pos, *reset_gen;  /* r: position, new generation */
    uint64_t acked_gen;             /* the newest R (or S) */
    uint64_t issued_gen;            /* the newest r (or S) */
    bool finished;
    GHashTable *appends;            /* "gen:id" -> landing offset */
} ZcLogZone;

typedef struct ZcLog {
    ZcLogZone z[ZC_NR_ZONES];
    GHashTable *snap_pos;           /* P n -> position */
    unsigned flushes, appends, writes, resets;
} ZcLog;

static void zc_log_init(ZcLog *l)
{
    memset(l, 0, sizeof(*l));
    l->snap_pos = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (int i = 0; i < ZC_NR_ZONES; i++) {
        ZcLogZone *z = &l->z[i];

        z->need_gen = g_array_new(false, false, sizeof(uint64_t));
        z->need_end = g_array_new(false, false, sizeof(uint64_t));
        z->need_pos = g_array_new(false, false, sizeof(uint64_t));
        z->reset_pos = g_array_new(false, false, sizeof(uint64_t));
        z->reset_gen = g_array_new(false, false, sizeof(uint64_t));
        z->appends = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           NULL);
    }
}

static void zc_log_free(ZcLog *l)
{
    g_hash_table_destroy(l->snap_pos);
    for (int i = 0; i < ZC_NR_ZONES; i++) {
        ZcLogZone *z = &l->z[i];

        g_array_free(z->need_gen, true);
        g_array_free(z->need_end, true);
        g_array_free(z->need_pos, true);
        g_array_free(z->reset_pos, true);
        g_array_free(z->reset_gen, true);
        g_hash_table_destroy(z->appends);
    }
}

static void zc_need(ZcLogZone *z, uint64_t gen, uint64_t end, uint64_t pos)
{
    g_array_append_val(z->need_gen, gen);
    g_array_append_val(z->need_end, end);
    g_array_append_val(z->need_pos, pos);
}

static void zc_parse_line(ZcLog *l, const char *line, uint64_t pos)
{
    unsigned zi, n;
    uint64_t gen, a, b, c;
    char **parts;

    if (line[0] == 'E') {
        g_test_message("writer: %s", line);
        g_assert_not_reached();
    }
    switch (line[0]) {
    case 'G':
        break;
    case 'S':
        g_assert_cmpint(sscanf(line, "S %u %" SCNu64 " %" SCNu64, &zi, &gen,
                               &a), ==, 3);
        l->z[zi].acked_gen = l->z[zi].issued_gen = gen;
        zc_need(&l->z[zi], gen, a, pos);
        break;
    case 'A':
        g_assert_cmpint(sscanf(line, "A %u %" SCNu64 " %" SCNu64 " %" SCNu64
                               " %" SCNu64, &zi, &gen, &a, &b, &c), ==, 5);
        g_hash_table_insert(l->z[zi].appends,
                            g_strdup_printf("%" PRIu64 ":%" PRIu64, gen, a),
                            GUINT_TO_POINTER(b / ZC_BLOCK + 1));
        l->appends++;
        break;
    case 'W':
        l->writes++;
        break;
    case 'r':
        g_assert_cmpint(sscanf(line, "r %u %" SCNu64, &zi, &gen), ==, 2);
        l->z[zi].issued_gen = gen;
        g_array_append_val(l->z[zi].reset_pos, pos);
        g_array_append_val(l->z[zi].reset_gen, gen);
        break;
    case 'R':
        g_assert_cmpint(sscanf(line, "R %u %" SCNu64, &zi, &gen), ==, 2);
        l->z[zi].acked_gen = gen;
        l->resets++;
        break;
    case 'f':
        g_assert_cmpint(sscanf(line, "f %u", &zi), ==, 1);
        l->z[zi].finished = true;
        break;
    case 'P':
        g_assert_cmpint(sscanf(line, "P %u", &n), ==, 1);
        g_hash_table_insert(l->snap_pos, GUINT_TO_POINTER(n),
                            GUINT_TO_POINTER(pos + 1));
        break;
    case 'F':
        parts = g_strsplit(line, " ", -1);
        n = atoi(parts[1]);
        pos = GPOINTER_TO_UINT(g_hash_table_lookup(l->snap_pos,
                                                   GUINT_TO_POINTER(n)));
        g_assert_cmpuint(pos, >, 0);
        for (char **p = parts + 2; *p; p++) {
            g_assert_cmpint(sscanf(*p, "%u:%" SCNu64 ":%" SCNu64, &zi, &gen,
                                   &a), ==, 3);
            zc_need(&l->z[zi], gen, a, pos - 1);
        }
        g_strfreev(parts);
        l->flushes++;
        break;
    default:
        g_test_message("bad line '%s'", line);
        g_assert_not_reached();
    }
}

/* Was a reset of zone z issued after log position pos? */
static bool zc_reset_after(ZcLogZone *z, uint64_t pos)
{
    for (guint k = 0; k < z->reset_pos->len; k++) {
        if (g_array_index(z->reset_pos, uint64_t, k) > pos) {
            return true;
        }
    }
    return false;
}

typedef struct ZcStats {
    uint64_t rounds, lines, flushes, appends, writes, resets;
    uint64_t above_flush;           /* zones recovered beyond a flush */
    uint64_t recovered_bytes;
} ZcStats;

/* Check the image against the writer's log. */
static void zc_verify(const char *path, ZcLog *l, ZcStats *stats)
{
    BlockBackend *blk = open_img(path, 0);
    uint8_t *buf = qemu_memalign(4096, ZC_ZONE_SIZE);
    BdrvCheckResult cr;

    for (uint32_t i = ZC_FIRST_APPEND; i < ZC_FIRST_WRITE + ZC_NR_WRITE;
         i++) {
        ZcLogZone *z = &l->z[i];
        uint64_t start = (uint64_t)i * ZC_ZONE_SIZE;
        uint64_t kind = i < ZC_FIRST_WRITE ? ZC_KIND_APPEND : ZC_KIND_WRITE;
        uint64_t gen = UINT64_MAX, top = 0, data_end;
        bool finished_zone;
        BlockZoneDescriptor d;
        ZcStamp st;

        zone(blk, i, &d);
        finished_zone = d.state == BLK_ZS_FULL &&
                        d.wp == start + ZC_ZONE_SIZE;
        g_assert_true(!finished_zone || z->finished);
        g_assert_cmpuint(d.state, !=, BLK_ZS_IOPEN);
        g_assert_cmpuint(d.state, !=, BLK_ZS_EOPEN);
        g_assert_cmpint(blk_pread(blk, start, ZC_ZONE_CAP, buf, 0), ==, 0);

        /* Below the pointer: stamped blocks of one generation. */
        data_end = finished_zone ? start + ZC_ZONE_CAP : d.wp;
        for (uint64_t off = start; off < data_end; off += ZC_BLOCK) {
            uint8_t *blk_buf = buf + (off - start);

            if (!zc_parse(blk_buf, &st)) {
                /* Only a finished zone has zeroes below its pointer. */
                g_assert_true(finished_zone);
                for (uint64_t o = off; o < data_end; o += ZC_BLOCK) {
                    g_assert_true(zoned_is_zero(buf + (o - start),
                                                ZC_BLOCK));
                }
                break;
            }
            g_assert_cmpuint(st.zone, ==, i);
            g_assert_cmpuint(st.kind, ==, kind);
            if (gen == UINT64_MAX) {
                gen = st.gen;
            }
            g_assert_cmpuint(st.gen, ==, gen);
            if (kind == ZC_KIND_WRITE) {
                g_assert_cmpuint(st.id + st.index * ZC_BLOCK, ==, off);
            } else {
                g_autofree char *key = g_strdup_printf(
                    "%" PRIu64 ":%" PRIu64, st.gen, st.id);
                uint64_t at = GPOINTER_TO_UINT(
                    g_hash_table_lookup(z->appends, key));

                if (at) {
                    g_assert_cmpuint((at - 1) * ZC_BLOCK + st.index *
                                     ZC_BLOCK, ==, off);
                }
            }
            top = off + ZC_BLOCK;
        }
        if (!finished_zone) {
            /* Nothing beyond the pointer is seen. */
            for (uint64_t off = d.wp; off < start + ZC_ZONE_CAP;
                 off += ZC_BLOCK) {
                g_assert_true(zoned_is_zero(buf + (off - start), ZC_BLOCK));
            }
        }

        /* The generation: not older than an acknowledged reset. */
        if (gen != UINT64_MAX) {
            g_assert_cmpuint(gen, >=, z->acked_gen);
            g_assert_cmpuint(gen, <=, z->issued_gen);
        }
        /* Every flush of this generation: the pointer is at or above. */
        for (guint k = 0; k < z->need_gen->len; k++) {
            uint64_t ngen = g_array_index(z->need_gen, uint64_t, k);
            uint64_t nend = g_array_index(z->need_end, uint64_t, k);
            uint64_t npos = g_array_index(z->need_pos, uint64_t, k);

            if (nend == start) {
                continue;
            }
            if (gen == UINT64_MAX) {
                /* Empty: only if a reset came after that flush. */
                if (!zc_reset_after(z, npos)) {
                    g_test_message("zone %u empty, but flushed up to %"
                                   PRIu64 " (gen %" PRIu64 ")", i, nend,
                                   ngen);
                    g_assert_not_reached();
                }
            } else if (ngen == gen) {
                if ((finished_zone ? top : d.wp) < nend) {
                    g_test_message("zone %u: wp %" PRIu64 " below the "
                                   "flushed %" PRIu64, i, d.wp, nend);
                    g_assert_not_reached();
                }
                if (d.wp > nend) {
                    stats->above_flush++;
                }
            }
        }
        stats->recovered_bytes += top > start ? top - start : 0;
    }

    /* Conventional zone: zeroes or stamps at their own offset. */
    g_assert_cmpint(blk_pread(blk, 0, ZC_ZONE_SIZE, buf, 0), ==, 0);
    for (uint64_t off = 0; off < ZC_ZONE_SIZE; off += ZC_BLOCK) {
        ZcStamp st;

        if (zoned_is_zero(buf + off, ZC_BLOCK)) {
            continue;
        }
        g_assert_true(zc_parse(buf + off, &st));
        g_assert_cmpuint(st.kind, ==, ZC_KIND_CONV);
        g_assert_cmpuint(st.id + st.index * ZC_BLOCK, ==, off);
    }

    /* check finds no corruption (leaks are what a crash leaves). */
    g_assert_cmpint(bdrv_check(blk_bs(blk), &cr, BDRV_FIX_NONE), ==, 0);
    if (cr.corruptions) {
        for (guint k = 0; k < cr.messages->len; k++) {
            g_test_message("%s", (char *)g_ptr_array_index(cr.messages, k));
        }
    }
    g_assert_cmpint(cr.corruptions, ==, 0);
    g_assert_cmpint(cr.check_errors, ==, 0);
    bdrv_check_result_cleanup(&cr);
    qemu_vfree(buf);
    blk_unref(blk);
}

/* Read what the writer logged until deadline (µs, monotonic); 0 = EOF. */
static void zc_read_log(int fd, GString *acc, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t now = g_get_monotonic_time();
        int timeout = deadline ? (int)MAX((deadline - now) / 1000, 0) : -1;
        char buf[65536];
        ssize_t n;

        if (deadline && now >= deadline) {
            return;
        }
        if (poll(&p, 1, timeout) <= 0) {
            if (deadline) {
                return;
            }
            continue;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        g_string_append_len(acc, buf, n);
    }
}

static void zc_round(const char *path, unsigned seed, ZcStats *stats)
{
    g_autofree char *seed_str = g_strdup_printf("%u", seed);
    char *argv[] = { writer_path, (char *)path, seed_str, NULL };
    GString *out = g_string_new(NULL);
    GRand *r = g_rand_new_with_seed(seed ^ 0x5bd1e995);
    int fds[2], status;
    pid_t pid;
    ZcLog l;
    char **lines;

    if (g_getenv("ZONED_CRASH_VERBOSE")) {
        g_free(crash_copy(path, "crash-before.zoned"));
    }
    g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        execv(writer_path, argv);
        _exit(127);
    }
    close(fds[1]);
    /* Started (all "S" lines, then "G"), then a random moment to die. */
    while (!strstr(out->str, "\nG\n") && !strchr(out->str, 'E')) {
        zc_read_log(fds[0], out, g_get_monotonic_time() + 10000);
        g_assert_cmpint(waitpid(pid, &status, WNOHANG), ==, 0);
    }
    zc_read_log(fds[0], out, g_get_monotonic_time() +
                g_rand_int_range(r, 1000, 60000));
    kill(pid, SIGKILL);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    zc_read_log(fds[0], out, 0);
    close(fds[0]);
    if (!WIFSIGNALED(status)) {
        g_test_message("writer exited (%d): %s", status, out->str);
        g_assert_not_reached();
    }

    zc_log_init(&l);
    lines = g_strsplit(out->str, "\n", -1);
    for (guint k = 0; lines[k]; k++) {
        /* The last piece may be a line cut by the kill. */
        if (lines[k][0] && lines[k + 1]) {
            zc_parse_line(&l, lines[k], k);
        }
    }
    stats->lines += g_strv_length(lines);
    g_strfreev(lines);
    stats->flushes += l.flushes;
    stats->appends += l.appends;
    stats->writes += l.writes;
    stats->resets += l.resets;
    stats->rounds++;
    if (g_getenv("ZONED_CRASH_VERBOSE")) {
        g_autofree char *logf = path_of("crash-round.log");

        g_test_message("round %" PRIu64 " seed %u", stats->rounds, seed);
        g_file_set_contents(logf, out->str, -1, NULL);
    }
    zc_verify(path, &l, stats);
    zc_log_free(&l);
    g_rand_free(r);
    g_string_free(out, true);
}

static void test_crash(void)
{
    const char *env_rounds = g_getenv("ZONED_CRASH_ROUNDS");
    const char *env_seed = g_getenv("ZONED_CRASH_SEED");
    unsigned rounds = env_rounds ? atoi(env_rounds) : 40;
    unsigned seed = env_seed ? atoi(env_seed) : g_test_rand_int();
    g_autofree char *path = create_img("crash.zoned", ZC_CREATE_OPTS,
                                       ZC_NR_ZONES * ZC_ZONE_SIZE);
    ZcStats stats = { 0 };
    int64_t t0 = g_get_monotonic_time();

    if (!g_file_test(writer_path, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("zoned-crash-writer not built");
        return;
    }
    for (unsigned i = 0; i < rounds; i++) {
        zc_round(path, seed + i, &stats);
    }
    g_test_message("crash test: %" PRIu64 " rounds (seeds %u-%u) in %.1f s: "
                   "%" PRIu64 " flushes, %" PRIu64 " appends, %" PRIu64
                   " writes, %" PRIu64 " resets acknowledged; %" PRIu64
                   " zones came back beyond their last flush; 0 violations",
                   stats.rounds, seed, seed + rounds - 1,
                   (g_get_monotonic_time() - t0) / 1e6, stats.flushes,
                   stats.appends, stats.writes, stats.resets,
                   stats.above_flush);
    if (g_getenv("ZONED_CRASH_ROUNDS")) {
        printf("rounds %" PRIu64 " seeds %u-%u seconds %.1f flushes %" PRIu64
               " appends %" PRIu64 " writes %" PRIu64 " resets %" PRIu64
               " beyond-flush %" PRIu64 " violations 0\n", stats.rounds,
               seed, seed + rounds - 1,
               (g_get_monotonic_time() - t0) / 1e6, stats.flushes,
               stats.appends, stats.writes, stats.resets, stats.above_flush);
    }
}

int main(int argc, char **argv)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    tmpdir = g_dir_make_tmp("test-zoned-format-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    dir = g_path_get_dirname(self);
    writer_path = g_build_filename(dir, "zoned-crash-writer", NULL);

    g_test_add_func("/zoned-format/create/limits", test_create_limits);
    g_test_add_func("/zoned-format/create/errors", test_create_errors);
    g_test_add_func("/zoned-format/create/help", test_create_help);
    g_test_add_func("/zoned-format/create/defaults", test_create_defaults);
    g_test_add_func("/zoned-format/io/rw", test_io_rw);
    g_test_add_func("/zoned-format/io/cross-zone", test_io_cross_zone);
    g_test_add_func("/zoned-format/zone/append-concurrent",
                    test_zone_append_concurrent);
    g_test_add_func("/zoned-format/zone/mgmt", test_zone_mgmt);
    g_test_add_func("/zoned-format/zone/limits", test_zone_limits);
    g_test_add_func("/zoned-format/zone/knobs", test_zone_knobs);
    g_test_add_func("/zoned-format/persist/flush-reopen",
                    test_persist_flush_reopen);
    g_test_add_func("/zoned-format/persist/recover", test_persist_recover);
    g_test_add_func("/zoned-format/persist/reset", test_persist_reset);
    g_test_add_func("/zoned-format/persist/preallocated",
                    test_persist_preallocated);
    g_test_add_func("/zoned-format/io/direct", test_io_direct);
    g_test_add_func("/zoned-format/persist/torn-slot",
                    test_persist_torn_slot);
    g_test_add_func("/zoned-format/corrupt", test_corrupt);
    g_test_add_func("/zoned-format/check/clean", test_check_clean);
    g_test_add_func("/zoned-format/check/repair", test_check_repair);
    g_test_add_func("/zoned-format/crash", test_crash);
    ret = g_test_run();

    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);

        if (system(cmd)) {
            /* leave it */
        }
    }
    return ret;
}
