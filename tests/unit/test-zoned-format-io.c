/*
 * Tests of the zoned image format in operation, on real files in a
 * temporary directory, through BlockBackend -> zoned -> file: creation
 * and its option errors, the limits a device would expose, every I/O and
 * zone operation (96 concurrent appends among them), the open and active
 * limits, the test knobs, O_DIRECT.
 *
 * Persistence, recovery, corrupt images, check and the crash test are in
 * test-zoned-format.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block_int.h"
#include "sysemu/block-backend.h"
#include "qemu/main-loop.h"
#include "qemu/keyval.h"
#include "qapi/error.h"
#include "zoned-format-helpers.h"

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

/* ---- zones ---- */

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

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    tmpdir = g_dir_make_tmp("test-zoned-format-io-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);

    g_test_add_func("/zoned-format/create/limits", test_create_limits);
    g_test_add_func("/zoned-format/create/errors", test_create_errors);
    g_test_add_func("/zoned-format/create/help", test_create_help);
    g_test_add_func("/zoned-format/create/defaults", test_create_defaults);
    g_test_add_func("/zoned-format/io/rw", test_io_rw);
    g_test_add_func("/zoned-format/io/cross-zone", test_io_cross_zone);
    g_test_add_func("/zoned-format/io/direct", test_io_direct);
    g_test_add_func("/zoned-format/zone/append-concurrent",
                    test_zone_append_concurrent);
    g_test_add_func("/zoned-format/zone/mgmt", test_zone_mgmt);
    g_test_add_func("/zoned-format/zone/limits", test_zone_limits);
    g_test_add_func("/zoned-format/zone/knobs", test_zone_knobs);
    ret = g_test_run();
    tmpdir_remove();
    return ret;
}
