/*
 * Tests of the virtio-blk device model (block/export/virtio-blk.c and
 * virtqueue.c) through the in-process driver of virtio-blk-driver.h, on a
 * raw image and `zoned` images: config space and features, every request
 * type and status, zone report buffer rules, append offsets, guest memory
 * in many pieces, out-of-order completion with many requests in flight,
 * interrupt suppression.
 *
 * The battery of malformed chains is in test-virtio-blk-bad.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "virtio-blk-driver.h"

/* ---- config space and options ---- */

static void test_config_raw(void)
{
    Guest *g = raw_guest(0, false);
    struct virtio_blk_config_le c;
    uint64_t f = virtio_blk_dev_features(g->dev);

    memset(&c, 0xee, sizeof(c));
    g_assert_cmpuint(virtio_blk_dev_get_config(g->dev, &c, sizeof(c)), ==,
                     60);
    g_assert_cmpuint(GUINT64_FROM_LE(c.capacity), ==, 4 * MiB / SECTOR);
    g_assert_cmpuint(GUINT32_FROM_LE(c.blk_size), ==, 512);
    g_assert_cmpuint(GUINT32_FROM_LE(c.seg_max), ==, 62);
    g_assert_cmpuint(GUINT32_FROM_LE(c.size_max), ==, 1 * MiB);
    g_assert_cmpuint(GUINT16_FROM_LE(c.num_queues), ==, 1);
    g_assert_cmpuint(c.topology.physical_block_exp, ==, 0);
    g_assert_cmpuint(GUINT32_FROM_LE(c.max_discard_seg), ==, 32);
    g_assert_cmpuint(GUINT32_FROM_LE(c.max_write_zeroes_seg), ==, 32);
    g_assert_cmpuint(GUINT32_FROM_LE(c.discard_sector_alignment), ==, 1);
    g_assert_cmpuint(c.write_zeroes_may_unmap, ==, 1);
    /* Only the bytes of the config size are written. */
    g_assert_cmpuint(((uint8_t *)&c)[60], ==, 0xee);

    g_assert_true(f & bit(VIRTIO_F_VERSION_1));
    g_assert_true(f & bit(VIRTIO_F_ACCESS_PLATFORM));
    g_assert_true(f & bit(VIRTIO_RING_F_INDIRECT_DESC));
    g_assert_true(f & bit(VIRTIO_RING_F_EVENT_IDX));
    g_assert_true(f & bit(VIRTIO_BLK_F_FLUSH));
    g_assert_true(f & bit(VIRTIO_BLK_F_BLK_SIZE));
    g_assert_true(f & bit(VIRTIO_BLK_F_SEG_MAX));
    g_assert_true(f & bit(VIRTIO_BLK_F_SIZE_MAX));
    g_assert_true(f & bit(VIRTIO_BLK_F_TOPOLOGY));
    g_assert_true(f & bit(VIRTIO_BLK_F_MQ));
    g_assert_true(f & bit(VIRTIO_BLK_F_DISCARD));
    g_assert_true(f & bit(VIRTIO_BLK_F_WRITE_ZEROES));
    g_assert_false(f & bit(VIRTIO_BLK_F_ZONED));
    g_assert_false(f & bit(VIRTIO_BLK_F_RO));

    /* Features the device did not offer, or no VERSION_1. */
    g_assert_cmpint(virtio_blk_dev_set_features(g->dev,
                                                f | bit(VIRTIO_BLK_F_ZONED)),
                    ==, -EINVAL);
    g_assert_cmpint(virtio_blk_dev_set_features(g->dev,
                                                f & ~bit(VIRTIO_F_VERSION_1)),
                    ==, -EINVAL);
    guest_free(g);
}

static void test_config_zoned(void)
{
    g_autofree char *p1 = make_zoned("c1.zoned", ZGEO, 8 * ZS);
    g_autofree char *p2 = make_zoned("c2.zoned", ZGEO ",max_open_zones=2,"
                                     "max_active_zones=3,"
                                     "max_append_size=64K", 8 * ZS);
    Guest *g = guest_new(1 * MiB, 0, 128);
    struct virtio_blk_config_le c;
    uint64_t f;

    guest_attach(g, open_img(p1, "zoned", false, true), NULL, 0);
    f = virtio_blk_dev_features(g->dev);
    g_assert_true(f & bit(VIRTIO_BLK_F_ZONED));
    g_assert_false(f & bit(VIRTIO_BLK_F_DISCARD));
    g_assert_false(f & bit(VIRTIO_BLK_F_WRITE_ZEROES));
    g_assert_cmpuint(virtio_blk_dev_get_config(g->dev, &c, sizeof(c)), ==,
                     96);
    g_assert_cmpuint(GUINT64_FROM_LE(c.capacity), ==, 8 * ZS / SECTOR);
    g_assert_cmpuint(GUINT32_FROM_LE(c.blk_size), ==, 4096);
    g_assert_cmpuint(GUINT32_FROM_LE(c.seg_max), ==, 126);
    g_assert_cmpuint(GUINT32_FROM_LE(c.zoned.zone_sectors), ==, ZS_SECT);
    g_assert_cmpuint(GUINT32_FROM_LE(c.zoned.max_open_zones), ==, 0);
    g_assert_cmpuint(GUINT32_FROM_LE(c.zoned.max_active_zones), ==, 0);
    /* A zone when the node sets no limit; never 0. */
    g_assert_cmpuint(GUINT32_FROM_LE(c.zoned.max_append_sectors), ==,
                     ZS_SECT);
    g_assert_cmpuint(GUINT32_FROM_LE(c.zoned.write_granularity), ==, 4096);
    g_assert_cmpuint(c.zoned.model, ==, VIRTIO_BLK_Z_HM);
    g_assert_cmpuint(c.zoned.unused2[0] | c.zoned.unused2[1] |
                     c.zoned.unused2[2], ==, 0);
    g_assert_cmpuint(GUINT32_FROM_LE(c.max_discard_seg), ==, 0);
    /* A host-managed disk needs a driver that knows zones. */
    g_assert_cmpint(virtio_blk_dev_set_features(g->dev,
                                                f & ~bit(VIRTIO_BLK_F_ZONED)),
                    ==, -EINVAL);
    virtio_blk_dev_free(g->dev);
    blk_unref(g->blk);

    guest_attach(g, open_img(p2, "zoned", false, true), NULL, 0);
    virtio_blk_dev_get_config(g->dev, &c, sizeof(c));
    g_assert_cmpuint(GUINT32_FROM_LE(c.zoned.max_open_zones), ==, 2);
    g_assert_cmpuint(GUINT32_FROM_LE(c.zoned.max_active_zones), ==, 3);
    g_assert_cmpuint(GUINT32_FROM_LE(c.zoned.max_append_sectors), ==,
                     64 * KiB / SECTOR);
    guest_free(g);
}

static void expect_new_error(BlockBackend *blk, const VirtioBlkOptions *o,
                             const char *msg)
{
    Error *err = NULL;

    g_assert_null(virtio_blk_dev_new(blk, o, &guest_ops, NULL, &err));
    g_assert_nonnull(err);
    if (!strstr(error_get_pretty(err), msg)) {
        g_error("'%s' does not contain '%s'", error_get_pretty(err), msg);
    }
    error_free(err);
}

static void test_config_errors(void)
{
    g_autofree char *raw = make_raw("opts.img", 1 * MiB);
    g_autofree char *zp = make_zoned("opts.zoned", ZGEO, 8 * ZS);
    BlockBackend *blk = open_img(raw, "raw", false, true);
    BlockBackend *ro = open_img(raw, "raw", false, false);
    BlockBackend *zblk = open_img(zp, "zoned", false, true);
    VirtioBlkOptions o = { .num_queues = 1, .queue_size = 64,
                           .writable = true };

    o.queue_size = 48;
    expect_new_error(blk, &o, "queue-size 48 must be a power of two "
                     "between 4 and 32768");
    o.queue_size = 2;
    expect_new_error(blk, &o, "queue-size 2");
    o.queue_size = 65536;
    expect_new_error(blk, &o, "queue-size 65536");
    o.queue_size = 64;
    o.num_queues = 0;
    expect_new_error(blk, &o, "num-queues 0 must be between 1 and 1024");
    o.num_queues = 1;
    o.logical_block_size = 1000;
    expect_new_error(blk, &o, "logical-block-size 1000 must be a power of "
                     "two between 512 and 65536");
    o.logical_block_size = 0;
    expect_new_error(ro, &o, "writable=on but node");
    o.logical_block_size = 512;
    expect_new_error(zblk, &o, "logical-block-size 512 is smaller than the "
                     "block size 4096");
    blk_unref(blk);
    blk_unref(ro);
    blk_unref(zblk);
}

/* ---- non-zoned requests ---- */

static void test_rw(gconstpointer opaque)
{
    uint64_t psize = GPOINTER_TO_UINT(opaque);
    Guest *g = raw_guest(psize, false);
    g_autofree uint8_t *pat = pattern(12 * KiB, 3);
    g_autofree uint8_t *got = g_malloc(12 * KiB);
    struct {
        unsigned int split;
        bool indirect;
    } shapes[] = { { 1, false }, { 3, false }, { 1, true }, { 5, true } };

    for (unsigned int i = 0; i < G_N_ELEMENTS(shapes); i++) {
        Req w = { .type = VIRTIO_BLK_T_OUT, .sector = 16 + i * 32,
                  .out = pat, .out_len = 12 * KiB,
                  .split = shapes[i].split, .indirect = shapes[i].indirect,
                  .straddle = psize != 0 };
        Req r = { .type = VIRTIO_BLK_T_IN, .sector = 16 + i * 32,
                  .in_len = 12 * KiB, .split = shapes[4 - i - 1].split,
                  .indirect = shapes[4 - i - 1].indirect,
                  .straddle = psize != 0 };

        g_assert_cmpuint(do_req(g, &w), ==, VIRTIO_BLK_S_OK);
        check_image(g->blk, (16 + i * 32) * SECTOR, pat, 12 * KiB);
        g_assert_cmpuint(do_req(g, &r), ==, VIRTIO_BLK_S_OK);
        g_assert_true(memcmp(r.in, pat, 12 * KiB) == 0);
        req_clear(&w);
        req_clear(&r);
    }
    /* Reads see what the image holds. */
    g_assert_cmpuint(rq_read(g, 1000, 4 * KiB, got), ==, VIRTIO_BLK_S_OK);
    check_image(g->blk, 1000 * SECTOR, got, 4 * KiB);
    /* Zero-length data, flush. */
    g_assert_cmpuint(rq_read(g, 0, 0, NULL), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_FLUSH, 0), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(stats(g).errors, ==, 0);
    guest_free(g);
}

/* map() hands out at most 100 bytes at a time: many pieces per buffer. */
static void test_rw_tiny_maps(void)
{
    Guest *g = raw_guest(0, false);
    g_autofree uint8_t *pat = pattern(8 * KiB, 9);
    g_autofree uint8_t *got = g_malloc(8 * KiB);

    g->max_map = 100;
    g_assert_cmpuint(rq_write(g, 24, pat, 8 * KiB), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(rq_read(g, 24, 8 * KiB, got), ==, VIRTIO_BLK_S_OK);
    g_assert_true(memcmp(got, pat, 8 * KiB) == 0);
    check_image(g->blk, 24 * SECTOR, pat, 8 * KiB);
    guest_free(g);
}

static void test_get_id(void)
{
    g_autofree char *path = make_raw("id.img", 1 * MiB);
    Guest *g = guest_new(1 * MiB, 0, 16);
    VirtioBlkOptions o = { .num_queues = 1, .queue_size = 16,
                           .writable = true,
                           .serial = "a-serial-longer-than-twenty" };
    uint8_t id[32], want[32] = "test-serial";

    guest_attach(g, open_img(path, "raw", false, true), NULL, 0);
    get_id(g, 20, id);
    g_assert_true(memcmp(id, want, 20) == 0);
    /* A longer buffer: zeroes after the 20 bytes. */
    get_id(g, 32, id);
    g_assert_true(memcmp(id, want, 32) == 0);
    /* A shorter one: truncated. */
    get_id(g, 4, id);
    g_assert_true(memcmp(id, "test", 4) == 0);
    virtio_blk_dev_free(g->dev);
    blk_unref(g->blk);

    guest_reset_rings(g);
    guest_attach(g, open_img(path, "raw", false, true), &o, 0);
    get_id(g, 20, id);
    g_assert_true(memcmp(id, "a-serial-longer-than", 20) == 0);
    guest_free(g);
}

static void test_discard_write_zeroes(void)
{
    Guest *g = raw_guest(0, false);
    struct virtio_blk_discard_write_zeroes_le s[33];
    g_autofree uint8_t *zero = g_malloc0(8 * KiB);
    const uint32_t WZ = VIRTIO_BLK_T_WRITE_ZEROES, DC = VIRTIO_BLK_T_DISCARD;

    s[0] = seg(0, 16, 0);
    g_assert_cmpuint(rq_segs(g, WZ, s, 1, 0), ==, VIRTIO_BLK_S_OK);
    check_image(g->blk, 0, zero, 8 * KiB);
    s[0] = seg(64, 8, 1);               /* unmap allowed */
    s[1] = seg(128, 16, 0);
    g_assert_cmpuint(rq_segs(g, WZ, s, 2, 0), ==, VIRTIO_BLK_S_OK);
    check_image(g->blk, 64 * SECTOR, zero, 4 * KiB);
    check_image(g->blk, 128 * SECTOR, zero, 8 * KiB);
    s[0] = seg(200, 8, 0);
    g_assert_cmpuint(rq_segs(g, DC, s, 1, 0), ==, VIRTIO_BLK_S_OK);
    s[0] = seg(200, 0, 0);
    g_assert_cmpuint(rq_segs(g, DC, s, 1, 0), ==, VIRTIO_BLK_S_OK);

    /* Flags: unmap on discard, unknown bits. */
    s[0] = seg(200, 8, 1);
    g_assert_cmpuint(rq_segs(g, DC, s, 1, 0), ==, VIRTIO_BLK_S_UNSUPP);
    s[0] = seg(200, 8, 4);
    g_assert_cmpuint(rq_segs(g, WZ, s, 1, 0), ==, VIRTIO_BLK_S_UNSUPP);
    /* Out of range, too many segments, not whole segments, empty. */
    s[0] = seg(4 * MiB / SECTOR - 4, 8, 0);
    g_assert_cmpuint(rq_segs(g, WZ, s, 1, 0), ==, VIRTIO_BLK_S_IOERR);
    s[0] = seg(UINT64_MAX - 2, 8, 0);
    g_assert_cmpuint(rq_segs(g, DC, s, 1, 0), ==, VIRTIO_BLK_S_IOERR);
    for (unsigned int i = 0; i < 33; i++) {
        s[i] = seg(i * 8, 8, 0);
    }
    g_assert_cmpuint(rq_segs(g, WZ, s, 33, 0), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_segs(g, WZ, s, 1, 4), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_segs(g, WZ, s, 0, 0), ==, VIRTIO_BLK_S_IOERR);
    /* A bad segment after a good one: nothing is written. */
    {
        g_autofree uint8_t *before = g_malloc(4 * KiB);

        g_assert_cmpint(blk_pread(g->blk, 512 * SECTOR, 4 * KiB, before, 0),
                        ==, 0);
        s[0] = seg(512, 8, 0);
        s[1] = seg(600, 8, 2);
        g_assert_cmpuint(rq_segs(g, WZ, s, 2, 0), ==, VIRTIO_BLK_S_UNSUPP);
        check_image(g->blk, 512 * SECTOR, before, 4 * KiB);
    }
    virtio_blk_dev_free(g->dev);
    g->dev = NULL;

    /* A driver that did not accept the features. */
    guest_reset_rings(g);
    blk_ref(g->blk);
    guest_attach(g, g->blk, NULL, bit(VIRTIO_BLK_F_DISCARD) |
                                  bit(VIRTIO_BLK_F_WRITE_ZEROES));
    blk_unref(g->blk);
    s[0] = seg(0, 8, 0);
    g_assert_cmpuint(rq_segs(g, DC, s, 1, 0), ==, VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(rq_segs(g, WZ, s, 1, 0), ==, VIRTIO_BLK_S_UNSUPP);
    guest_free(g);
}

static void test_errors_raw(void)
{
    Guest *g = raw_guest(0, true);
    g_autofree uint8_t *pat = pattern(8 * KiB, 5);
    g_autofree uint8_t *before = g_malloc(8 * KiB);
    uint64_t cap = 4 * MiB / SECTOR;
    Req r = { .type = 99, .in_len = 64 };

    /* Ranges: past the end, wrapping, odd lengths. */
    g_assert_cmpuint(rq_read(g, cap - 1, 1024, NULL), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_read(g, cap, 512, NULL), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_read(g, cap, 0, NULL), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(rq_read(g, UINT64_MAX, 512, NULL), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_read(g, UINT64_MAX / 512 + 1, 512, NULL), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_read(g, 0, 100, NULL), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpint(blk_pread(g->blk, 0, 8 * KiB, before, 0), ==, 0);
    g_assert_cmpuint(rq_write(g, 0, pat, 1000), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_write(g, cap - 8, pat, 8 * KiB), ==,
                     VIRTIO_BLK_S_IOERR);
    check_image(g->blk, 0, before, 8 * KiB);

    /* Unknown and zone requests: UNSUPP; writable bytes zeroed. */
    g_assert_cmpuint(do_req(g, &r), ==, VIRTIO_BLK_S_UNSUPP);
    for (unsigned int i = 0; i < 64; i++) {
        g_assert_cmpuint(r.in[i], ==, 0);
    }
    req_clear(&r);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 0), ==,
                     VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_RESET_ALL, 0), ==,
                     VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(rq_append(g, 0, pat, 4096, NULL), ==,
                     VIRTIO_BLK_S_UNSUPP);
    r = (Req){ .type = VIRTIO_BLK_T_ZONE_REPORT, .in_len = 128 };
    g_assert_cmpuint(do_req(g, &r), ==, VIRTIO_BLK_S_UNSUPP);
    req_clear(&r);

    /* Media errors: IOERR, failed reads hand back zeroes. */
    fault.fail_offset = 64 * SECTOR;
    fault.fail_errno = EIO;
    g_assert_cmpuint(rq_read(g, 60, 4 * KiB, NULL), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_write(g, 64, pat, 512), ==, VIRTIO_BLK_S_IOERR);
    fault.fail_errno = ENOSPC;
    g_assert_cmpuint(rq_write(g, 64, pat, 512), ==, VIRTIO_BLK_S_IOERR);
    fault_reset();
    g_assert_cmpuint(rq_read(g, 60, 4 * KiB, NULL), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(stats(g).errors, ==, 15);
    guest_free(g);
}

static void test_read_only(void)
{
    g_autofree char *path = make_raw("ro.img", 1 * MiB);
    Guest *g = guest_new(2 * MiB, 0, 16);
    VirtioBlkOptions o = { .num_queues = 1, .queue_size = 16 };
    g_autofree uint8_t *pat = pattern(4 * KiB, 1);
    g_autofree uint8_t *before = g_malloc(4 * KiB);
    struct virtio_blk_discard_write_zeroes_le s = seg(0, 8, 0);
    uint64_t f;

    guest_attach(g, open_img(path, "raw", false, false), &o, 0);
    f = virtio_blk_dev_features(g->dev);
    g_assert_true(f & bit(VIRTIO_BLK_F_RO));
    g_assert_false(f & bit(VIRTIO_BLK_F_DISCARD));
    g_assert_cmpint(blk_pread(g->blk, 0, 4 * KiB, before, 0), ==, 0);
    g_assert_cmpuint(rq_write(g, 0, pat, 4 * KiB), ==, VIRTIO_BLK_S_IOERR);
    check_image(g->blk, 0, before, 4 * KiB);
    g_assert_cmpuint(rq_segs(g, VIRTIO_BLK_T_WRITE_ZEROES, &s, 1, 0), ==,
                     VIRTIO_BLK_S_UNSUPP);
    g_assert_cmpuint(rq_read(g, 0, 4 * KiB, NULL), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_FLUSH, 0), ==,
                     VIRTIO_BLK_S_OK);
    check_image(g->blk, 0, before, 4 * KiB);
    guest_free(g);
}

/* A 4 KiB logical block size over a 512-byte raw file. */
static void test_block_size(void)
{
    g_autofree char *path = make_raw("lbs.img", 1 * MiB + 1024);
    Guest *g = guest_new(2 * MiB, 0, 16);
    VirtioBlkOptions o = { .num_queues = 1, .queue_size = 16,
                           .logical_block_size = 4096, .writable = true };
    struct virtio_blk_config_le c;

    guest_attach(g, open_img(path, "raw", false, true), &o, 0);
    virtio_blk_dev_get_config(g->dev, &c, sizeof(c));
    g_assert_cmpuint(GUINT32_FROM_LE(c.blk_size), ==, 4096);
    /* The tail that is not a whole block is not exported. */
    g_assert_cmpuint(GUINT64_FROM_LE(c.capacity), ==, 1 * MiB / SECTOR);
    g_assert_cmpuint(GUINT32_FROM_LE(c.discard_sector_alignment), ==, 8);
    g_assert_cmpuint(rq_read(g, 0, 512, NULL), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_read(g, 1, 4096, NULL), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_read(g, 8, 4096, NULL), ==, VIRTIO_BLK_S_OK);
    g_assert_cmpuint(rq_read(g, 2048 - 8, 8192, NULL), ==,
                     VIRTIO_BLK_S_IOERR);
    guest_free(g);
}

/* ---- zoned requests ---- */

static void test_zone_report(void)
{
    Guest *g = zoned_guest(ZGEO, false);
    g_autofree uint8_t *pat = pattern(8 * KiB, 2);
    const uint8_t OK = VIRTIO_BLK_S_OK;

    /* Some variety: an open zone with data, a full one. */
    g_assert_cmpuint(rq_write(g, 3 * ZS_SECT, pat, 8 * KiB), ==, OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_FINISH, 4 * ZS_SECT), ==,
                     OK);

    g_assert_cmpuint(report(g, 0, 64 + 8 * 64, OK, false), ==, 8);
    g_assert_cmpuint(report(g, 0, 64 + 9 * 64, OK, false), ==, 8);
    g_assert_cmpuint(report(g, 0, 64 + 2 * 64 + 30, OK, false), ==, 2);
    g_assert_cmpuint(report(g, 0, 64 + 63, OK, false), ==, 0);
    g_assert_cmpuint(report(g, 0, 64, OK, false), ==, 0);
    g_assert_cmpuint(report(g, 0, 63, VIRTIO_BLK_S_IOERR, false), ==, 0);
    g_assert_cmpuint(report(g, 0, 1, VIRTIO_BLK_S_IOERR, false), ==, 0);
    /* From inside a zone: starts with that zone. */
    g_assert_cmpuint(report(g, 3 * ZS_SECT + 5, 64 + 3 * 64, OK, false), ==,
                     3);
    g_assert_cmpuint(report(g, 6 * ZS_SECT, 64 + 8 * 64, OK, false), ==, 2);
    g_assert_cmpuint(report(g, 8 * ZS_SECT - 1, 64 + 8 * 64, OK, false), ==,
                     1);
    g_assert_cmpuint(report(g, 8 * ZS_SECT, 64 + 64, VIRTIO_BLK_S_IOERR,
                            false), ==, 0);
    g_assert_cmpuint(report(g, UINT64_MAX, 64 + 64, VIRTIO_BLK_S_IOERR,
                            false), ==, 0);
    guest_free(g);

    /* Guest memory in 4 KiB pieces, the buffer across them. */
    {
        g_autofree char *path = make_zoned("rp.zoned", ZGEO, 8 * ZS);

        g = guest_new(2 * MiB, 4096, 64);
        guest_attach(g, open_img(path, "zoned", false, true), NULL, 0);
        g_assert_cmpuint(report(g, 0, 64 + 8 * 64 + 7, OK, true), ==, 8);
        g_assert_cmpuint(report(g, ZS_SECT, 64 + 3 * 64, OK, true), ==, 3);
        guest_free(g);
    }
}

static void test_zone_mgmt(void)
{
    Guest *g = zoned_guest(ZGEO, true);
    g_autofree uint8_t *pat = pattern(4 * KiB, 4);
    const uint8_t OK = VIRTIO_BLK_S_OK, BAD = VIRTIO_BLK_S_ZONE_INVALID_CMD;

    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 2 * ZS_SECT), ==,
                     OK);
    assert_zone(g->blk, 2, BLK_ZS_EOPEN, 2 * ZS);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 2 * ZS_SECT), ==,
                     OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_CLOSE, 2 * ZS_SECT), ==,
                     OK);
    assert_zone(g->blk, 2, BLK_ZS_EMPTY, 2 * ZS);
    g_assert_cmpuint(rq_write(g, 3 * ZS_SECT, pat, 4 * KiB), ==, OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_CLOSE, 3 * ZS_SECT), ==,
                     OK);
    assert_zone(g->blk, 3, BLK_ZS_CLOSED, 3 * ZS + 4 * KiB);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_FINISH, 3 * ZS_SECT), ==,
                     OK);
    assert_zone(g->blk, 3, BLK_ZS_FULL, UINT64_MAX);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_FINISH, 3 * ZS_SECT), ==,
                     OK);
    /* Transitions that cannot be made. */
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 3 * ZS_SECT), ==,
                     BAD);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_CLOSE, 3 * ZS_SECT), ==,
                     BAD);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_CLOSE, 5 * ZS_SECT), ==,
                     BAD);
    assert_zone(g->blk, 3, BLK_ZS_FULL, UINT64_MAX);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_RESET, 3 * ZS_SECT), ==,
                     OK);
    assert_zone(g->blk, 3, BLK_ZS_EMPTY, 3 * ZS);
    /* Conventional zones, not a zone start, past the end. */
    for (uint32_t t = VIRTIO_BLK_T_ZONE_OPEN; t <= VIRTIO_BLK_T_ZONE_RESET;
         t += 2) {
        g_assert_cmpuint(rq_simple(g, t, ZS_SECT), ==, BAD);
        g_assert_cmpuint(rq_simple(g, t, 2 * ZS_SECT + 8), ==, BAD);
        g_assert_cmpuint(rq_simple(g, t, 8 * ZS_SECT), ==,
                         VIRTIO_BLK_S_IOERR);
        g_assert_cmpuint(rq_simple(g, t, UINT64_MAX), ==,
                         VIRTIO_BLK_S_IOERR);
    }
    /* Reset-all ignores the sector. */
    g_assert_cmpuint(rq_write(g, 4 * ZS_SECT, pat, 4 * KiB), ==, OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 5 * ZS_SECT), ==,
                     OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_RESET_ALL, 12345), ==,
                     OK);
    for (unsigned int i = 2; i < 8; i++) {
        assert_zone(g->blk, i, BLK_ZS_EMPTY, i * ZS);
    }
    /* A management call that fails where it is allowed: the medium. */
    fault.fail_offset = 6 * ZS;
    fault.fail_errno = EIO;
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 6 * ZS_SECT), ==,
                     VIRTIO_BLK_S_IOERR);
    fault_reset();
    assert_zone(g->blk, 6, BLK_ZS_EMPTY, 6 * ZS);
    guest_free(g);
}

static void test_zone_resources(void)
{
    Guest *g = zoned_guest(ZGEO ",max_open_zones=2,max_active_zones=3",
                           false);
    g_autofree uint8_t *pat = pattern(4 * KiB, 6);
    const uint8_t OK = VIRTIO_BLK_S_OK;

    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 2 * ZS_SECT), ==,
                     OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 3 * ZS_SECT), ==,
                     OK);
    /* Two explicitly open zones: no third, none to close implicitly. */
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 4 * ZS_SECT), ==,
                     VIRTIO_BLK_S_ZONE_OPEN_RESOURCE);
    g_assert_cmpuint(rq_write(g, 4 * ZS_SECT, pat, 4 * KiB), ==,
                     VIRTIO_BLK_S_ZONE_OPEN_RESOURCE);
    assert_zone(g->blk, 4, BLK_ZS_EMPTY, 4 * ZS);
    /* Zone 2 closed with data: active, not open. */
    g_assert_cmpuint(rq_write(g, 2 * ZS_SECT, pat, 4 * KiB), ==, OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_CLOSE, 2 * ZS_SECT), ==,
                     OK);
    g_assert_cmpuint(rq_write(g, 4 * ZS_SECT, pat, 4 * KiB), ==, OK);
    /* Three active zones: a fourth cannot become active. */
    g_assert_cmpuint(rq_write(g, 5 * ZS_SECT, pat, 4 * KiB), ==,
                     VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE);
    g_assert_cmpuint(rq_append(g, 5 * ZS_SECT, pat, 4 * KiB, NULL), ==,
                     VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 5 * ZS_SECT), ==,
                     VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE);
    assert_zone(g->blk, 5, BLK_ZS_EMPTY, 5 * ZS);
    /* Finishing the implicitly open zone frees both kinds of slot. */
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_FINISH, 4 * ZS_SECT), ==,
                     OK);
    g_assert_cmpuint(rq_write(g, 5 * ZS_SECT, pat, 4 * KiB), ==, OK);
    guest_free(g);
}

static void test_zone_write(void)
{
    Guest *g = zoned_guest(ZGEO, true);
    g_autofree uint8_t *pat = pattern(ZCAP, 7);
    g_autofree uint8_t *got = g_malloc(16 * KiB);
    const uint8_t OK = VIRTIO_BLK_S_OK, WP = VIRTIO_BLK_S_ZONE_UNALIGNED_WP,
                  BAD = VIRTIO_BLK_S_ZONE_INVALID_CMD;
    const uint64_t z2 = 2 * ZS_SECT;

    g_assert_cmpuint(rq_write(g, z2, pat, 8 * KiB), ==, OK);
    assert_zone(g->blk, 2, BLK_ZS_IOPEN, 2 * ZS + 8 * KiB);
    g_assert_cmpuint(rq_read(g, z2, 8 * KiB, got), ==, OK);
    g_assert_true(memcmp(got, pat, 8 * KiB) == 0);
    /* Not at the write pointer (below, above), off the granularity. */
    g_assert_cmpuint(rq_write(g, z2, pat, 4 * KiB), ==, WP);
    g_assert_cmpuint(rq_write(g, z2 + 32, pat, 4 * KiB), ==, WP);
    g_assert_cmpuint(rq_write(g, z2 + 16, pat, 512), ==, WP);
    g_assert_cmpuint(rq_write(g, z2 + 16, pat, 6 * KiB), ==, WP);
    g_assert_cmpuint(rq_write(g, z2 + 17, pat, 4 * KiB), ==, WP);
    assert_zone(g->blk, 2, BLK_ZS_IOPEN, 2 * ZS + 8 * KiB);
    g_assert_cmpuint(rq_write(g, z2 + 16, pat, 4 * KiB), ==, OK);
    /* Crossing into the next zone, past the capacity, into a full zone. */
    g_assert_cmpuint(rq_write(g, 3 * ZS_SECT - 8, pat, 8 * KiB), ==, BAD);
    g_assert_cmpuint(rq_write(g, 4 * ZS_SECT, pat, ZCAP - 8 * KiB), ==, OK);
    g_assert_cmpuint(rq_write(g, 4 * ZS_SECT + (ZCAP - 8 * KiB) / SECTOR,
                              pat, 16 * KiB), ==, BAD);
    g_assert_cmpuint(rq_write(g, 4 * ZS_SECT + (ZCAP - 8 * KiB) / SECTOR,
                              pat + ZCAP - 8 * KiB, 8 * KiB), ==, OK);
    assert_zone(g->blk, 4, BLK_ZS_FULL, UINT64_MAX);
    g_assert_cmpuint(rq_write(g, 4 * ZS_SECT + ZCAP / SECTOR, pat, 4 * KiB),
                     ==, BAD);
    check_image(g->blk, 4 * ZS, pat, ZCAP);

    /* Conventional zones: anywhere, across them; blocks still whole. */
    g_assert_cmpuint(rq_write(g, 8, pat, 4 * KiB), ==, OK);
    g_assert_cmpuint(rq_write(g, ZS_SECT - 8, pat, 8 * KiB), ==, OK);
    check_image(g->blk, ZS - 4 * KiB, pat, 8 * KiB);
    g_assert_cmpuint(rq_read(g, ZS_SECT - 8, 8 * KiB, NULL), ==, OK);
    g_assert_cmpuint(rq_write(g, 1, pat, 4 * KiB), ==, VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_write(g, 8, pat, 512), ==, VIRTIO_BLK_S_IOERR);
    /* Reads: across a sequential zone, past the end. */
    g_assert_cmpuint(rq_read(g, 2 * ZS_SECT - 8, 8 * KiB, NULL), ==, BAD);
    g_assert_cmpuint(rq_read(g, 3 * ZS_SECT - 8, 8 * KiB, NULL), ==, BAD);
    g_assert_cmpuint(rq_read(g, 5 * ZS_SECT + 64, 4 * KiB, NULL), ==, OK);
    g_assert_cmpuint(rq_read(g, 8 * ZS_SECT - 8, 8 * KiB, NULL), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_read(g, 8, 512, NULL), ==, VIRTIO_BLK_S_IOERR);

    /* The medium fails: a write at the write pointer, a read. */
    fault.fail_offset = 5 * ZS;
    fault.fail_errno = EIO;
    g_assert_cmpuint(rq_write(g, 5 * ZS_SECT, pat, 4 * KiB), ==,
                     VIRTIO_BLK_S_IOERR);
    assert_zone(g->blk, 5, BLK_ZS_EMPTY, 5 * ZS);
    g_assert_cmpuint(rq_read(g, 5 * ZS_SECT, 4 * KiB, NULL), ==,
                     VIRTIO_BLK_S_IOERR);
    g_assert_cmpuint(rq_append(g, 5 * ZS_SECT, pat, 4 * KiB, NULL), ==,
                     VIRTIO_BLK_S_IOERR);
    fault_reset();
    g_assert_cmpuint(rq_write(g, 5 * ZS_SECT, pat, 4 * KiB), ==, OK);
    guest_free(g);
}

static void test_zone_special(void)
{
    Guest *g = zoned_guest(ZGEO ",readonly_zones=6,offline_zones=7", false);
    g_autofree uint8_t *pat = pattern(4 * KiB, 8);
    const uint8_t BAD = VIRTIO_BLK_S_ZONE_INVALID_CMD;

    g_assert_cmpuint(rq_write(g, 6 * ZS_SECT, pat, 4 * KiB), ==, BAD);
    g_assert_cmpuint(rq_append(g, 6 * ZS_SECT, pat, 4 * KiB, NULL), ==, BAD);
    g_assert_cmpuint(rq_read(g, 6 * ZS_SECT, 4 * KiB, NULL), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_OPEN, 6 * ZS_SECT), ==,
                     BAD);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_RESET, 6 * ZS_SECT), ==,
                     BAD);
    g_assert_cmpuint(rq_read(g, 7 * ZS_SECT, 4 * KiB, NULL), ==, BAD);
    g_assert_cmpuint(rq_write(g, 7 * ZS_SECT, pat, 4 * KiB), ==, BAD);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_FINISH, 7 * ZS_SECT), ==,
                     BAD);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_RESET_ALL, 0), ==,
                     VIRTIO_BLK_S_OK);
    g_assert_cmpuint(report(g, 6 * ZS_SECT, 64 + 2 * 64, VIRTIO_BLK_S_OK,
                            false), ==, 2);
    guest_free(g);
}

static void test_zone_append(void)
{
    g_autofree char *path = make_zoned("ap.zoned", ZGEO
                                       ",max_append_size=64K", 8 * ZS);
    Guest *g = guest_new(4 * MiB, 4096, 64);
    g_autofree uint8_t *pat = pattern(ZCAP, 10);
    const uint8_t OK = VIRTIO_BLK_S_OK, BAD = VIRTIO_BLK_S_ZONE_INVALID_CMD;
    const uint64_t z2 = 2 * ZS_SECT;
    uint64_t at = 0;

    guest_attach(g, open_img(path, "zoned", false, true), NULL, 0);
    g_assert_cmpuint(rq_append(g, z2, pat, 8 * KiB, &at), ==, OK);
    g_assert_cmpuint(at, ==, z2);
    g_assert_cmpuint(rq_append(g, z2, pat + 8 * KiB, 4 * KiB, &at), ==, OK);
    g_assert_cmpuint(at, ==, z2 + 16);
    check_image(g->blk, 2 * ZS, pat, 12 * KiB);
    assert_zone(g->blk, 2, BLK_ZS_IOPEN, 2 * ZS + 12 * KiB);
    /* Geometry: not a zone start, empty, too large, off granularity. */
    g_assert_cmpuint(rq_append(g, z2 + 8, pat, 4 * KiB, NULL), ==, BAD);
    g_assert_cmpuint(rq_append(g, z2, pat, 0, NULL), ==, BAD);
    g_assert_cmpuint(rq_append(g, z2, pat, 68 * KiB, NULL), ==, BAD);
    g_assert_cmpuint(rq_append(g, z2, pat, 2 * KiB, NULL), ==,
                     VIRTIO_BLK_S_ZONE_UNALIGNED_WP);
    g_assert_cmpuint(rq_append(g, z2, pat, 6 * KiB, NULL), ==,
                     VIRTIO_BLK_S_ZONE_UNALIGNED_WP);
    g_assert_cmpuint(rq_append(g, 8 * ZS_SECT, pat, 4 * KiB, NULL), ==,
                     VIRTIO_BLK_S_IOERR);
    /* State: conventional, full, beyond the capacity. */
    g_assert_cmpuint(rq_append(g, 0, pat, 4 * KiB, NULL), ==, BAD);
    g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_FINISH, 3 * ZS_SECT), ==,
                     OK);
    g_assert_cmpuint(rq_append(g, 3 * ZS_SECT, pat, 4 * KiB, NULL), ==, BAD);
    for (unsigned int i = 0; i < ZCAP / (64 * KiB) - 1; i++) {
        g_assert_cmpuint(rq_append(g, 4 * ZS_SECT, pat + i * 64 * KiB,
                                   64 * KiB, &at), ==, OK);
        g_assert_cmpuint(at, ==, 4 * ZS_SECT + i * 128);
    }
    g_assert_cmpuint(rq_append(g, 4 * ZS_SECT, pat, 64 * KiB + 4 * KiB,
                               NULL), ==, BAD);
    g_assert_cmpuint(rq_write(g, 4 * ZS_SECT + (ZCAP - 64 * KiB) / SECTOR,
                              pat, 32 * KiB), ==, OK);
    g_assert_cmpuint(rq_append(g, 4 * ZS_SECT, pat, 64 * KiB, NULL), ==,
                     BAD);
    g_assert_cmpuint(rq_append(g, 4 * ZS_SECT, pat, 32 * KiB, &at), ==, OK);
    g_assert_cmpuint(at, ==, 4 * ZS_SECT + (ZCAP - 32 * KiB) / SECTOR);
    assert_zone(g->blk, 4, BLK_ZS_FULL, UINT64_MAX);

    /* Only one byte of in-header: no room for append_sector. */
    {
        Req r = { .type = VIRTIO_BLK_T_ZONE_APPEND, .sector = 5 * ZS_SECT,
                  .out = pat, .out_len = 4 * KiB, .trailer = 1 };

        g_assert_cmpuint(do_req(g, &r), ==, VIRTIO_BLK_S_IOERR);
        req_clear(&r);
        assert_zone(g->blk, 5, BLK_ZS_EMPTY, 5 * ZS);
    }
    /*
     * Linux's in-header: le64 sector, 7 bytes of padding, status last
     * (16 bytes, the C struct's size).  The sector goes at its start.
     */
    {
        Req r = { .type = VIRTIO_BLK_T_ZONE_APPEND, .sector = 5 * ZS_SECT,
                  .out = pat, .out_len = 4 * KiB, .trailer = 16 };

        g_assert_cmpuint(do_req(g, &r), ==, OK);
        g_assert_cmpuint(r.append_sector, ==, 5 * ZS_SECT);
        req_clear(&r);
        r = (Req){ .type = VIRTIO_BLK_T_ZONE_APPEND, .sector = 5 * ZS_SECT,
                   .out = pat, .out_len = 4 * KiB, .trailer = 16 };
        g_assert_cmpuint(do_req(g, &r), ==, OK);
        g_assert_cmpuint(r.append_sector, ==, 5 * ZS_SECT + 4 * KiB / SECTOR);
        req_clear(&r);
        /* A failed append reports sector 0, still at the start. */
        r = (Req){ .type = VIRTIO_BLK_T_ZONE_APPEND, .sector = 5 * ZS_SECT + 8,
                   .out = pat, .out_len = 4 * KiB, .trailer = 16 };
        g_assert_cmpuint(do_req(g, &r), ==, BAD);
        g_assert_cmpuint(r.append_sector, ==, 0);
        req_clear(&r);
        check_image(g->blk, 5 * ZS, pat, 4 * KiB);
        check_image(g->blk, 5 * ZS + 4 * KiB, pat, 4 * KiB);
        g_assert_cmpuint(rq_simple(g, VIRTIO_BLK_T_ZONE_RESET, 5 * ZS_SECT),
                         ==, OK);
    }
    /* The trailer in two descriptors, across guest memory pieces. */
    {
        struct virtio_blk_outhdr_le hdr = {
            .type = GUINT32_TO_LE(VIRTIO_BLK_T_ZONE_APPEND),
            .sector = GUINT64_TO_LE(5 * ZS_SECT),
        };
        uint64_t h = galloc(g, 16, 16), d = galloc_straddle(g, 8 * KiB);
        uint64_t t = galloc_straddle(g, 9), v = 0;
        Buf b[] = { { h, 16, 0 }, { d, 8 * KiB, 0 },
                    { t, 3, VRING_DESC_F_WRITE },
                    { t + 3, 6, VRING_DESC_F_WRITE } };
        uint16_t id, head;
        uint32_t len;
        uint8_t st;

        guest_snapshot(g);
        guest_allow(g, t, 9);
        gwrite(g, h, &hdr, 16);
        gwrite(g, d, pat, 8 * KiB);
        head = guest_chain(g, b, 4);
        guest_publish(g, head);
        guest_kick(g);
        virtio_blk_dev_drain(g->dev);
        g_assert_true(guest_used(g, &id, &len));
        g_assert_cmpuint(id, ==, head);
        g_assert_cmpuint(len, ==, 9);
        gread(g, t, &v, 8);
        gread(g, t + 8, &st, 1);
        g_assert_cmpuint(st, ==, OK);
        g_assert_cmpuint(GUINT64_FROM_LE(v), ==, 5 * ZS_SECT);
        guest_check(g);
        check_image(g->blk, 5 * ZS, pat, 8 * KiB);
    }
    guest_free(g);
}

/* ---- concurrency and interrupts ---- */

static void test_out_of_order(void)
{
    Guest *g = raw_guest(0, true);
    Req r[32];
    g_autofree uint8_t *pat = pattern(32 * 4 * KiB, 11);
    const unsigned int n = G_N_ELEMENTS(r);

    memset(r, 0, sizeof(r));
    fault.hold = true;
    guest_snapshot(g);
    for (unsigned int i = 0; i < n; i++) {
        r[i].sector = i * 64;
        if (i % 2) {
            r[i].type = VIRTIO_BLK_T_IN;
            r[i].in_len = 4 * KiB;
        } else {
            r[i].type = VIRTIO_BLK_T_OUT;
            r[i].out = pat + i * 4 * KiB;
            r[i].out_len = 4 * KiB;
        }
        r[i].indirect = (i / 2) % 2 == 0;   /* 64 descriptors in all */
        req_submit(g, &r[i]);
    }
    guest_kick(g);
    /* All of them are in flight at once. */
    while (fault.nparked < n) {
        aio_poll(qemu_get_aio_context(), true);
    }
    g_assert_cmpuint(used_idx(g), ==, 0);
    /* Completed last-in first-out: the used ring follows completion. */
    for (unsigned int k = 0; k < n; k++) {
        unsigned int i = n - 1 - k;
        uint16_t id;
        uint32_t len;

        qemu_coroutine_enter(fault.parked[i]);
        wait_used(g, k + 1);
        g_assert_true(guest_used(g, &id, &len));
        g_assert_cmpuint(id, ==, r[i].head);
        req_finish(g, &r[i], len);
        g_assert_cmpuint(r[i].status, ==, VIRTIO_BLK_S_OK);
    }
    fault_reset();
    virtio_blk_dev_drain(g->dev);
    guest_check(g);
    for (unsigned int i = 0; i < n; i++) {
        if (i % 2 == 0) {
            check_image(g->blk, i * 64 * SECTOR, pat + i * 4 * KiB, 4 * KiB);
        } else {
            check_image(g->blk, i * 64 * SECTOR, r[i].in, 4 * KiB);
        }
        req_clear(&r[i]);
    }
    g_assert_cmpuint(stats(g).requests, ==, n);
    guest_free(g);
}

static void test_event_idx(void)
{
    Guest *g = raw_guest(0, false);
    uint64_t used_event = g->q->avail + 4 + 2 * g->num;
    uint64_t avail_event = g->q->used + 4 + 8 * g->num;
    Req r[3];

    /* The first completion always interrupts. */
    id_req(g);
    g_assert_cmpuint(g->notifies[0], ==, 1);
    g_assert_cmpuint(gr16(g, avail_event), ==, 1);
    /* used_event 3: no interrupt until the used index passes 3. */
    gw16(g, used_event, 3);
    id_req(g);
    id_req(g);
    g_assert_cmpuint(g->notifies[0], ==, 1);
    id_req(g);
    g_assert_cmpuint(g->notifies[0], ==, 2);
    g_assert_cmpuint(gr16(g, avail_event), ==, 4);
    /* Three completions in one round: one interrupt. */
    gw16(g, used_event, 5);
    memset(r, 0, sizeof(r));
    guest_snapshot(g);
    for (unsigned int i = 0; i < 3; i++) {
        r[i].type = VIRTIO_BLK_T_GET_ID;
        r[i].in_len = 20;
        req_submit(g, &r[i]);
    }
    guest_kick(g);
    virtio_blk_dev_drain(g->dev);
    g_assert_cmpuint(used_idx(g), ==, 7);
    g_assert_cmpuint(g->notifies[0], ==, 3);
    for (unsigned int i = 0; i < 3; i++) {
        uint16_t id;
        uint32_t len;

        g_assert_true(guest_used(g, &id, &len));
        req_clear(&r[i]);
    }
    guest_check(g);
    /* used_event far behind: suppressed until the index wraps to it. */
    gw16(g, used_event, 2);
    id_req(g);
    g_assert_cmpuint(g->notifies[0], ==, 3);
    g_assert_cmpuint(stats(g).notifications, ==, 3);
    guest_free(g);

    /* Without EVENT_IDX: the avail flag. */
    {
        g_autofree char *path = make_raw("ev.img", 1 * MiB);

        g = guest_new(1 * MiB, 0, 16);
        guest_attach(g, open_img(path, "raw", false, true), NULL,
                     bit(VIRTIO_RING_F_EVENT_IDX));
        gw16(g, g->q->avail, VRING_AVAIL_F_NO_INTERRUPT);
        id_req(g);
        id_req(g);
        g_assert_cmpuint(g->notifies[0], ==, 0);
        gw16(g, g->q->avail, 0);
        id_req(g);
        g_assert_cmpuint(g->notifies[0], ==, 1);
        /* avail_event is not the device's to write then. */
        g_assert_cmpuint(gr16(g, g->q->used + 4 + 8 * g->num), ==, 0);
        guest_free(g);
    }
}

static void test_multiqueue(void)
{
    g_autofree char *path = make_raw("mq.img", 1 * MiB);
    Guest *g = guest_new(2 * MiB, 0, 16);
    VirtioBlkOptions o = { .num_queues = 2, .queue_size = 16,
                           .writable = true };
    g_autofree uint8_t *pat = pattern(4 * KiB, 12);
    uint8_t got[4096];
    struct virtio_blk_config_le c;

    guest_attach(g, open_img(path, "raw", false, true), &o, 0);
    virtio_blk_dev_get_config(g->dev, &c, sizeof(c));
    g_assert_cmpuint(GUINT16_FROM_LE(c.num_queues), ==, 2);
    guest_use_queue(g, 1);
    g_assert_cmpuint(rq_write(g, 8, pat, 4 * KiB), ==, VIRTIO_BLK_S_OK);
    guest_use_queue(g, 0);
    g_assert_cmpuint(rq_read(g, 8, 4 * KiB, got), ==, VIRTIO_BLK_S_OK);
    g_assert_true(memcmp(got, pat, 4 * KiB) == 0);
    g_assert_cmpuint(g->notifies[0], ==, 1);
    g_assert_cmpuint(g->notifies[1], ==, 1);
    /* Kicking a queue that does not exist does nothing. */
    virtio_blk_dev_kick(g->dev, 7);
    g_assert_cmpint(virtio_blk_dev_queue_setup(g->dev, 2, 16, g->q->desc,
                                               g->q->avail, g->q->used, 0),
                    ==, -EINVAL);
    g_assert_cmpint(virtio_blk_dev_queue_setup(g->dev, 0, 32, g->q->desc,
                                               g->q->avail, g->q->used, 0),
                    ==, -EINVAL);
    g_assert_cmpuint(virtio_blk_dev_queue_last_avail(g->dev, 0), ==, 1);
    g_assert_cmpuint(virtio_blk_dev_queue_last_avail(g->dev, 1), ==, 1);
    guest_free(g);
}

/* The transport's mappings change, also with a request in flight. */
static void test_remap(void)
{
    Guest *g = raw_guest(0, true);
    Req r = { .type = VIRTIO_BLK_T_IN, .sector = 8, .in_len = 4 * KiB };
    uint16_t id;
    uint32_t len;
    uint8_t idb[20];

    get_id(g, 20, idb);
    virtio_blk_dev_mappings_changed(g->dev);
    get_id(g, 20, idb);
    fault.hold = true;
    guest_snapshot(g);
    req_submit(g, &r);
    guest_kick(g);
    while (fault.nparked < 1) {
        aio_poll(qemu_get_aio_context(), true);
    }
    virtio_blk_dev_mappings_changed(g->dev);
    g->maps = 0;
    qemu_coroutine_enter(fault.parked[0]);
    fault_reset();
    virtio_blk_dev_drain(g->dev);
    /* The completion looked the rings up again and kept its index. */
    g_assert_cmpuint(g->maps, ==, 3);
    g_assert_cmpuint(used_idx(g), ==, 3);
    g_assert_true(guest_used(g, &id, &len));
    g_assert_cmpuint(id, ==, r.head);
    req_finish(g, &r, len);
    g_assert_cmpuint(r.status, ==, VIRTIO_BLK_S_OK);
    check_image(g->blk, 8 * SECTOR, r.in, 4 * KiB);
    guest_check(g);
    req_clear(&r);
    guest_free(g);
}

int main(int argc, char **argv)
{
    driver_init(&argc, &argv, "test-virtio-blk");

    g_test_add_func("/virtio-blk/config/raw", test_config_raw);
    g_test_add_func("/virtio-blk/config/zoned", test_config_zoned);
    g_test_add_func("/virtio-blk/config/errors", test_config_errors);
    g_test_add_data_func("/virtio-blk/raw/rw", GUINT_TO_POINTER(0), test_rw);
    g_test_add_data_func("/virtio-blk/raw/rw-pieces",
                         GUINT_TO_POINTER(4096), test_rw);
    g_test_add_func("/virtio-blk/raw/rw-tiny-maps", test_rw_tiny_maps);
    g_test_add_func("/virtio-blk/raw/get-id", test_get_id);
    g_test_add_func("/virtio-blk/raw/discard-write-zeroes",
                    test_discard_write_zeroes);
    g_test_add_func("/virtio-blk/raw/errors", test_errors_raw);
    g_test_add_func("/virtio-blk/raw/read-only", test_read_only);
    g_test_add_func("/virtio-blk/raw/block-size", test_block_size);
    g_test_add_func("/virtio-blk/zoned/report", test_zone_report);
    g_test_add_func("/virtio-blk/zoned/mgmt", test_zone_mgmt);
    g_test_add_func("/virtio-blk/zoned/resources", test_zone_resources);
    g_test_add_func("/virtio-blk/zoned/write", test_zone_write);
    g_test_add_func("/virtio-blk/zoned/special-zones", test_zone_special);
    g_test_add_func("/virtio-blk/zoned/append", test_zone_append);
    g_test_add_func("/virtio-blk/queue/out-of-order", test_out_of_order);
    g_test_add_func("/virtio-blk/queue/event-idx", test_event_idx);
    g_test_add_func("/virtio-blk/queue/multiqueue", test_multiqueue);
    g_test_add_func("/virtio-blk/queue/remap", test_remap);
    return driver_run();
}
