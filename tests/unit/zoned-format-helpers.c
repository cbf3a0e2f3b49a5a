/*
 * Helpers of the zoned image format tests (see zoned-format-helpers.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block_int.h"
#include "sysemu/block-backend.h"
#include "qemu/keyval.h"
#include "qapi/error.h"
#include "zoned-format-helpers.h"

char *tmpdir;

void tmpdir_remove(void)
{
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);

    if (system(cmd)) {
        /* leave it */
    }
}

char *path_of(const char *name)
{
    return g_strdup_printf("%s/%s", tmpdir, name);
}

int try_create(const char *path, const char *opts, int64_t size,
               Error **errp)
{
    QDict *d = opts && *opts ? keyval_parse(opts, NULL, &error_abort)
                             : NULL;

    return bdrv_create("zoned", path, d, size, errp);
}

char *create_img(const char *name, const char *opts, int64_t size)
{
    char *path = path_of(name);

    g_assert_cmpint(try_create(path, opts, size, &error_abort), ==, 0);
    return path;
}

BlockBackend *try_open(const char *path, int flags, Error **errp)
{
    QDict *o = qdict_new();

    qdict_put_str(o, "driver", "zoned");
    return blk_new_open(path, o, flags, errp);
}

BlockBackend *open_img(const char *path, int flags)
{
    return try_open(path, flags, &error_abort);
}

void zone(BlockBackend *blk, uint32_t i, BlockZoneDescriptor *d)
{
    BlockLimits bl;
    unsigned int nr = 1;

    blk_get_zone_limits(blk, &bl);
    g_assert_cmpint(blk_zone_report(blk, (int64_t)i * bl.zone_size, &nr, d),
                    ==, 0);
    g_assert_cmpuint(nr, ==, 1);
}

void assert_zone(BlockBackend *blk, uint32_t i, BlockZoneState st,
                 uint64_t wp)
{
    BlockZoneDescriptor d;

    zone(blk, i, &d);
    g_assert_cmpint(d.state, ==, st);
    g_assert_cmphex(d.wp, ==, wp);
}

uint8_t *pattern(size_t len, uint8_t seed)
{
    uint8_t *buf = qemu_memalign(4096, len);

    for (size_t i = 0; i < len; i++) {
        buf[i] = seed + i / 4096 * 7 + (i % 251);
    }
    return buf;
}

void write_pat(BlockBackend *blk, int64_t off, size_t len, uint8_t seed)
{
    uint8_t *buf = pattern(len, seed);

    g_assert_cmpint(blk_pwrite(blk, off, len, buf, 0), ==, 0);
    qemu_vfree(buf);
}

void check_pat(BlockBackend *blk, int64_t off, size_t len, uint8_t seed)
{
    uint8_t *want = pattern(len, seed);
    uint8_t *got = qemu_memalign(4096, len);

    g_assert_cmpint(blk_pread(blk, off, len, got, 0), ==, 0);
    g_assert_true(memcmp(want, got, len) == 0);
    qemu_vfree(want);
    qemu_vfree(got);
}

void check_zero(BlockBackend *blk, int64_t off, size_t len)
{
    uint8_t *got = qemu_memalign(4096, len);

    memset(got, 0x5a, len);
    g_assert_cmpint(blk_pread(blk, off, len, got, 0), ==, 0);
    for (size_t i = 0; i < len; i++) {
        g_assert_cmpint(got[i], ==, 0);
    }
    qemu_vfree(got);
}

int do_append(BlockBackend *blk, int64_t zone_start, size_t len,
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

bool file_has_data(const char *path, int64_t off, int64_t len)
{
    int fd = open(path, O_RDONLY);
    off_t d;

    g_assert_cmpint(fd, >=, 0);
    d = lseek(fd, off, SEEK_DATA);
    close(fd);
    return d >= 0 && d < off + len;
}
