/*
 * Format probing: the drivers' scores for a first sector (bdrv_probe_all)
 * and what an open without a driver picks (zoned, raw, an empty file, a
 * file shorter than a sector), with the probed raw node's guard of
 * block 0.  The tools' output is in iotests 023 and 024.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/keyval.h"
#include "qemu/main-loop.h"
#include "block/block_int.h"
#include "zoned-format-helpers.h"

static const char *probe_name(const uint8_t *buf, int len)
{
    BlockDriver *drv = bdrv_probe_all(buf, len, NULL);

    g_assert_nonnull(drv);
    return drv->format_name;
}

/* A version 1 header's first bytes: magic, version, header size. */
static void fill_header(uint8_t *buf)
{
    static const uint8_t head[16] = {
        'Q', 'Z', 'O', 'N', 'E', 'D', 'I', 'M',
        1, 0, 0, 0, 0x00, 0x10, 0, 0,
    };

    memset(buf, 0, BLOCK_PROBE_BUF_SIZE);
    memcpy(buf, head, sizeof(head));
}

static void test_scores(void)
{
    uint8_t buf[BLOCK_PROBE_BUF_SIZE];

    memset(buf, 0, sizeof(buf));
    g_assert_cmpstr(probe_name(buf, sizeof(buf)), ==, "raw");
    g_assert_cmpstr(probe_name(buf, 0), ==, "raw");

    fill_header(buf);
    g_assert_cmpstr(probe_name(buf, sizeof(buf)), ==, "zoned");
    /* Too short to hold the fields the probe checks. */
    g_assert_cmpstr(probe_name(buf, 15), ==, "raw");
    /* A newer version is still claimed (the open names it). */
    buf[8] = 2;
    g_assert_cmpstr(probe_name(buf, sizeof(buf)), ==, "zoned");
    /* The magic alone is not a header. */
    buf[8] = 0;
    g_assert_cmpstr(probe_name(buf, sizeof(buf)), ==, "raw");
    fill_header(buf);
    buf[13] = 0x20;
    g_assert_cmpstr(probe_name(buf, sizeof(buf)), ==, "raw");
    fill_header(buf);
    buf[0] = 'q';
    g_assert_cmpstr(probe_name(buf, sizeof(buf)), ==, "raw");
}

static BlockBackend *open_probed(const char *path, int flags)
{
    return blk_new_open(path, NULL, flags, &error_abort);
}

static void test_open_zoned(void)
{
    g_autofree char *path = create_img("p.zoned", "zone_size=1M", 4 * MiB);
    BlockBackend *blk;
    QDict *o;

    for (int i = 0; i < 2; i++) {
        blk = open_probed(path, i ? BDRV_O_RDWR : 0);
        g_assert_cmpstr(bdrv_get_format_name(blk_bs(blk)), ==, "zoned");
        g_assert_true(blk_bs(blk)->probed);
        g_assert_cmpint(blk_getlength(blk), ==, 4 * MiB);
        blk_unref(blk);
    }
    /* A driver given: no probing. */
    o = qdict_new();
    qdict_put_str(o, "driver", "raw");
    blk = blk_new_open(path, o, 0, &error_abort);
    g_assert_cmpstr(bdrv_get_format_name(blk_bs(blk)), ==, "raw");
    g_assert_false(blk_bs(blk)->probed);
    blk_unref(blk);
}

static void test_open_raw(void)
{
    g_autofree char *path = path_of("p.raw");
    g_autofree uint8_t *sec = qemu_memalign(4096, 4096);
    BlockBackend *blk;

    g_assert_true(g_file_set_contents(path, "", 0, NULL));
    blk = open_probed(path, 0);
    g_assert_cmpstr(bdrv_get_format_name(blk_bs(blk)), ==, "raw");
    g_assert_cmpint(blk_getlength(blk), ==, 0);
    blk_unref(blk);

    g_assert_true(g_file_set_contents(path, "abc", 3, NULL));
    blk = open_probed(path, 0);
    g_assert_cmpstr(bdrv_get_format_name(blk_bs(blk)), ==, "raw");
    g_assert_cmpint(blk_getlength(blk), ==, 512);
    blk_unref(blk);

    /* Block 0 of a probed raw image: no zoned header, other data fine. */
    g_assert_cmpint(truncate(path, 64 * KiB), ==, 0);
    blk = open_probed(path, BDRV_O_RDWR);
    g_assert_true(blk_bs(blk)->probed);
    fill_header(sec);
    g_assert_cmpint(blk_pwrite(blk, 0, 512, sec, 0), ==, -EPERM);
    g_assert_cmpint(blk_pwrite(blk, 0, 4096, sec, 0), ==, -EPERM);
    g_assert_cmpint(blk_pwrite(blk, 512, 512, sec, 0), ==, 0);
    g_assert_cmpint(blk_pwrite(blk, 8, 8, sec + 8, 0), ==, 0);
    g_assert_cmpint(blk_pwrite(blk, 0, 8, sec, 0), ==, -EPERM);
    memset(sec, 0xab, 4096);
    g_assert_cmpint(blk_pwrite(blk, 0, 4096, sec, 0), ==, 0);
    blk_unref(blk);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    tmpdir = g_dir_make_tmp("test-block-probe-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/block-probe/scores", test_scores);
    g_test_add_func("/block-probe/open-zoned", test_open_zoned);
    g_test_add_func("/block-probe/open-raw", test_open_raw);
    ret = g_test_run();
    tmpdir_remove();
    return ret;
}
