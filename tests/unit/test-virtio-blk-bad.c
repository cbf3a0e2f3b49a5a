/*
 * The virtio-blk device model (block/export/virtio-blk.c and
 * virtqueue.c) against malformed chains, through the in-process driver
 * of virtio-blk-driver.h: bad addresses, headers, directions, loops,
 * ring indices, lengths, indirect tables, reused heads and rings, each of
 * which must end with an error status or a broken device without
 * touching a byte outside the chain's buffers; then a reset repairs it.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "virtio-blk-driver.h"

/* ---- malformed chains ---- */

/*
 * Each case builds one bad chain on a fresh device (raw image, guest
 * memory in 4 KiB pieces with a hole and a read-only piece, 16-entry
 * queue) and ends with an error status or a broken device; in both cases
 * no guest byte outside the chain's writable buffers changes.
 */
#define BAD_NUM 16
#define HOLE_PIECE 1000
#define RO_PIECE 1001
#define HOLE_IOVA (GUEST_BASE + HOLE_PIECE * 4096ULL)
#define RO_IOVA (GUEST_BASE + RO_PIECE * 4096ULL)
#define W VRING_DESC_F_WRITE

static Guest *bad_guest(uint64_t drop, bool filter)
{
    g_autofree char *path = make_raw("bad.img", 1 * MiB);
    Guest *g = guest_new(8 * MiB, 4096, BAD_NUM);

    g->pieces[HOLE_PIECE].hole = true;
    g->pieces[RO_PIECE].ro = true;
    guest_attach(g, open_img(path, "raw", filter, true), NULL, drop);
    guest_snapshot(g);
    return g;
}

static uint64_t bad_hdr(Guest *g, uint32_t type, uint64_t sector)
{
    struct virtio_blk_outhdr_le h = {
        .type = GUINT32_TO_LE(type), .sector = GUINT64_TO_LE(sector),
    };
    uint64_t iova = galloc(g, 16, 16);

    gwrite(g, iova, &h, 16);
    return iova;
}

/* A buffer the device may write (allowed by the guard check). */
static uint64_t bad_wbuf(Guest *g, uint32_t len)
{
    uint64_t iova = galloc(g, len, 16);

    guest_allow(g, iova, len);
    return iova;
}

static uint16_t bad_publish(Guest *g, const Buf *b, unsigned int n)
{
    uint16_t head = guest_chain(g, b, n);

    guest_publish(g, head);
    return head;
}

/* malformed: rejected as a chain (not as a request) */
static void expect_status(Guest *g, uint16_t head, uint64_t st, uint8_t want,
                          bool malformed)
{
    uint16_t id;
    uint32_t len;
    uint8_t s;

    guest_kick(g);
    virtio_blk_dev_drain(g->dev);
    g_assert_false(virtio_blk_dev_is_broken(g->dev));
    g_assert_true(guest_used(g, &id, &len));
    g_assert_cmpuint(id, ==, head);
    gread(g, st, &s, 1);
    g_assert_cmpuint(s, ==, want);
    g_assert_cmpuint(stats(g).errors, ==, 1);
    g_assert_cmpuint(stats(g).malformed, ==, malformed);
    guest_check(g);
    guest_free(g);
}

static void expect_broken(Guest *g, const char *why)
{
    guest_kick(g);
    virtio_blk_dev_drain(g->dev);
    g_assert_true(virtio_blk_dev_is_broken(g->dev));
    g_assert_nonnull(virtio_blk_dev_broken_reason(g->dev));
    if (!strstr(virtio_blk_dev_broken_reason(g->dev), why)) {
        g_error("broken for '%s', expected '%s'",
                virtio_blk_dev_broken_reason(g->dev), why);
    }
    g_assert_cmpuint(g->needs_reset, ==, 1);
    g_assert_cmpuint(used_idx(g), ==, 0);
    /* A broken device ignores further kicks. */
    guest_kick(g);
    g_assert_cmpuint(g->needs_reset, ==, 1);
    guest_check(g);
    guest_free(g);
}

/* The common shape: header, one data buffer, status. */
static void bad_simple(uint32_t type, uint64_t data, uint32_t len,
                       uint16_t flags)
{
    Guest *g = bad_guest(0, false);
    uint64_t st = bad_wbuf(g, 1);
    Buf b[] = { { bad_hdr(g, type, 0), 16, 0 }, { data, len, flags },
                { st, 1, W } };
    uint16_t head;

    if (flags & W) {
        guest_allow(g, data, len);
    }
    head = bad_publish(g, b, 3);
    expect_status(g, head, st, VIRTIO_BLK_S_IOERR, true);
}

static void bad_zero_len(void)
{
    bad_simple(VIRTIO_BLK_T_OUT, GUEST_BASE + 64 * KiB, 0, 0);
    bad_simple(VIRTIO_BLK_T_IN, GUEST_BASE + 64 * KiB, 0, W);
}

static void bad_addresses(void)
{
    /* Beyond the guest, in a hole, below it, wrapping around. */
    bad_simple(VIRTIO_BLK_T_IN, GUEST_BASE + 8 * MiB, 512, W);
    bad_simple(VIRTIO_BLK_T_OUT, GUEST_BASE + 8 * MiB - 256, 512, 0);
    bad_simple(VIRTIO_BLK_T_IN, HOLE_IOVA, 512, W);
    bad_simple(VIRTIO_BLK_T_IN, HOLE_IOVA - 256, 512, W);
    bad_simple(VIRTIO_BLK_T_IN, 0x1000, 512, W);
    bad_simple(VIRTIO_BLK_T_IN, UINT64_MAX - 100, 512, W);
    bad_simple(VIRTIO_BLK_T_OUT, UINT64_MAX - 511, 512, 0);
    /* Device-writable data in read-only memory. */
    bad_simple(VIRTIO_BLK_T_IN, RO_IOVA, 512, W);
}

static void bad_header_unmapped(void)
{
    Guest *g = bad_guest(0, false);
    uint64_t st = bad_wbuf(g, 1);
    Buf b[] = { { HOLE_IOVA, 16, 0 }, { st, 1, W } };

    expect_status(g, bad_publish(g, b, 2), st, VIRTIO_BLK_S_IOERR, true);
}

static void bad_status(void)
{
    uint64_t where[] = { GUEST_BASE + 8 * MiB, HOLE_IOVA, RO_IOVA,
                         UINT64_MAX };

    for (unsigned int i = 0; i < G_N_ELEMENTS(where); i++) {
        Guest *g = bad_guest(0, false);
        Buf b[] = { { bad_hdr(g, VIRTIO_BLK_T_IN, 0), 16, 0 },
                    { bad_wbuf(g, 512), 512, W }, { where[i], 1, W } };

        bad_publish(g, b, 3);
        expect_broken(g, "status byte not mapped");
    }
    /* Zero-length status, no writable descriptor, header only. */
    {
        Guest *g = bad_guest(0, false);
        Buf b[] = { { bad_hdr(g, VIRTIO_BLK_T_IN, 0), 16, 0 },
                    { bad_wbuf(g, 512), 512, W }, { bad_wbuf(g, 1), 0, W } };

        bad_publish(g, b, 3);
        expect_broken(g, "no device-writable status byte");
    }
    {
        Guest *g = bad_guest(0, false);
        Buf b[] = { { bad_hdr(g, VIRTIO_BLK_T_OUT, 0), 16, 0 },
                    { galloc(g, 512, 16), 512, 0 } };

        bad_publish(g, b, 2);
        expect_broken(g, "no device-writable status byte");
    }
    {
        Guest *g = bad_guest(0, false);
        Buf b[] = { { bad_hdr(g, VIRTIO_BLK_T_FLUSH, 0), 16, 0 } };

        bad_publish(g, b, 1);
        expect_broken(g, "no device-writable status byte");
    }
}

static void bad_header(void)
{
    /* In a device-writable descriptor. */
    {
        Guest *g = bad_guest(0, false);
        uint64_t h = bad_hdr(g, VIRTIO_BLK_T_IN, 0);
        uint64_t st = bad_wbuf(g, 1);
        Buf b[] = { { h, 16, W }, { bad_wbuf(g, 512), 512, W },
                    { st, 1, W } };

        guest_allow(g, h, 16);
        expect_status(g, bad_publish(g, b, 3), st, VIRTIO_BLK_S_IOERR, true);
    }
    /* Too short. */
    {
        Guest *g = bad_guest(0, false);
        uint64_t st = bad_wbuf(g, 1);
        Buf b[] = { { bad_hdr(g, VIRTIO_BLK_T_FLUSH, 0), 8, 0 },
                    { st, 1, W } };

        expect_status(g, bad_publish(g, b, 2), st, VIRTIO_BLK_S_IOERR, true);
    }
    /* Split across descriptors and memory pieces: fine. */
    {
        Guest *g = bad_guest(0, false);
        struct virtio_blk_outhdr_le h = {
            .type = GUINT32_TO_LE(VIRTIO_BLK_T_IN),
        };
        uint64_t hi = galloc_straddle(g, 16), st = bad_wbuf(g, 1);
        Buf b[] = { { hi, 5, 0 }, { hi + 5, 11, 0 },
                    { bad_wbuf(g, 512), 512, W }, { st, 1, W } };
        uint16_t id, head;
        uint32_t len;
        uint8_t s;

        gwrite(g, hi, &h, 16);
        head = bad_publish(g, b, 4);
        guest_kick(g);
        virtio_blk_dev_drain(g->dev);
        g_assert_true(guest_used(g, &id, &len));
        g_assert_cmpuint(id, ==, head);
        g_assert_cmpuint(len, ==, 513);
        gread(g, st, &s, 1);
        g_assert_cmpuint(s, ==, VIRTIO_BLK_S_OK);
        guest_check(g);
        guest_free(g);
    }
}

static void bad_direction(void)
{
    Guest *g = bad_guest(0, false);
    uint64_t st = bad_wbuf(g, 1);
    Buf b[] = { { bad_hdr(g, VIRTIO_BLK_T_IN, 0), 16, 0 },
                { bad_wbuf(g, 512), 512, W },
                { galloc(g, 512, 16), 512, 0 }, { st, 1, W } };

    expect_status(g, bad_publish(g, b, 4), st, VIRTIO_BLK_S_IOERR, true);
}

static void bad_loops(void)
{
    /* a -> b -> a, a -> a, next outside the queue. */
    for (unsigned int c = 0; c < 3; c++) {
        Guest *g = bad_guest(0, false);
        Buf h = { bad_hdr(g, VIRTIO_BLK_T_IN, 0), 16, 0 };
        Buf d = { bad_wbuf(g, 512), 512, W };

        put_desc(g, g->q->desc + 16 * 3, &h, VRING_DESC_F_NEXT,
                 c == 0 ? 9 : c == 1 ? 3 : BAD_NUM);
        put_desc(g, g->q->desc + 16 * 9, &d, VRING_DESC_F_NEXT, 3);
        guest_publish(g, 3);
        expect_broken(g, c == 2 ? "next index outside the queue" :
                      "longer than the queue (loop)");
    }
}

static void bad_ring_indices(void)
{
    /* A head outside the queue. */
    {
        Guest *g = bad_guest(0, false);

        guest_publish(g, BAD_NUM);
        expect_broken(g, "avail ring entry outside the queue");
    }
    /* The avail index jumps by more than the queue size. */
    {
        Guest *g = bad_guest(0, false);

        gw16(g, g->q->avail + 2, BAD_NUM + 1);
        expect_broken(g, "avail index moved by more than the queue");
    }
}

static void bad_lengths(void)
{
    /* One gigantic descriptor. */
    bad_simple(VIRTIO_BLK_T_OUT, GUEST_BASE, UINT32_MAX, 0);
    bad_simple(VIRTIO_BLK_T_IN, GUEST_BASE + 64 * KiB, 0x80000000u, W);
    /* Many large ones adding up beyond seg_max * size_max. */
    {
        Guest *g = bad_guest(0, false);
        uint64_t st = bad_wbuf(g, 1);
        Buf b[12];

        b[0] = (Buf){ bad_hdr(g, VIRTIO_BLK_T_OUT, 0), 16, 0 };
        for (unsigned int i = 1; i < 11; i++) {
            b[i] = (Buf){ GUEST_BASE, 7 * MiB, 0 };
        }
        b[11] = (Buf){ st, 1, W };
        expect_status(g, bad_publish(g, b, 12), st, VIRTIO_BLK_S_IOERR,
                      true);
    }
    /* A gigantic status descriptor: its last byte is not mapped. */
    {
        Guest *g = bad_guest(0, false);
        Buf b[] = { { bad_hdr(g, VIRTIO_BLK_T_IN, 0), 16, 0 },
                    { GUEST_BASE + 64 * KiB, 0xfffff000u, W } };

        bad_publish(g, b, 2);
        expect_broken(g, "status byte not mapped");
    }
    /* Too many memory pieces for one request. */
    {
        Guest *g = bad_guest(0, false);
        uint64_t st = bad_wbuf(g, 1);
        Buf b[] = { { bad_hdr(g, VIRTIO_BLK_T_IN, 0), 16, 0 },
                    { bad_wbuf(g, 128 * KiB), 128 * KiB, W }, { st, 1, W } };

        g->max_map = 16;
        expect_status(g, bad_publish(g, b, 3), st, VIRTIO_BLK_S_IOERR, true);
    }
    /* Data lengths that are not whole sectors: IOERR (not malformed). */
    {
        Guest *g = bad_guest(0, false);
        g_autofree uint8_t *pat = pattern(513, 1);

        g_assert_cmpuint(rq_read(g, 0, 100, NULL), ==, VIRTIO_BLK_S_IOERR);
        g_assert_cmpuint(rq_write(g, 0, pat, 513), ==, VIRTIO_BLK_S_IOERR);
        g_assert_cmpuint(stats(g).malformed, ==, 0);
        guest_free(g);
    }
}

/* An indirect table of n entries at table (written here). */
static uint16_t bad_indirect(Guest *g, uint64_t table, const Buf *b,
                             unsigned int n, uint32_t len, uint16_t flags)
{
    Buf t = { table, len, VRING_DESC_F_INDIRECT | flags };
    uint16_t head = 5;

    for (unsigned int i = 0; i < n; i++) {
        put_desc(g, table + 16 * i, &b[i],
                 i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1);
    }
    put_desc(g, g->q->desc + 16 * head, &t, 0, 6);
    guest_publish(g, head);
    return head;
}

static void bad_indirect_tables(void)
{
    enum { NESTED, WITH_NEXT, SIZE, EMPTY, UNMAPPED, TOO_LONG, LOOP,
           NEXT_OUT, UNNEGOTIATED, NCASES };
    static const char *const why[NCASES] = {
        [NESTED] = "indirect descriptor inside an indirect table",
        [WITH_NEXT] = "indirect descriptor with NEXT",
        [SIZE] = "not a multiple of 16",
        [EMPTY] = "not a multiple of 16",
        [UNMAPPED] = "indirect table not mapped",
        [TOO_LONG] = "indirect table longer than the queue",
        [LOOP] = "loop in an indirect table",
        [NEXT_OUT] = "next index outside the indirect table",
        [UNNEGOTIATED] = "without VIRTIO_RING_F_INDIRECT_DESC",
    };

    for (unsigned int c = 0; c < NCASES; c++) {
        Guest *g = bad_guest(c == UNNEGOTIATED ?
                             bit(VIRTIO_RING_F_INDIRECT_DESC) : 0, false);
        uint64_t table = galloc(g, 16 * (BAD_NUM + 1), 16);
        Buf b[BAD_NUM + 1];
        unsigned int n = 3;
        uint32_t len;
        uint16_t flags = 0;

        b[0] = (Buf){ bad_hdr(g, VIRTIO_BLK_T_IN, 0), 16, 0 };
        b[1] = (Buf){ bad_wbuf(g, 512), 512, W };
        b[2] = (Buf){ bad_wbuf(g, 1), 1, W };
        len = 16 * n;
        switch (c) {
        case NESTED:
            b[1] = (Buf){ galloc(g, 32, 16), 32, VRING_DESC_F_INDIRECT };
            break;
        case WITH_NEXT:
            flags = VRING_DESC_F_NEXT;
            break;
        case SIZE:
            len = 24;
            break;
        case EMPTY:
            len = 0;
            break;
        case UNMAPPED:
            table = HOLE_IOVA;
            n = 0;
            break;
        case TOO_LONG:
            for (unsigned int i = 2; i < BAD_NUM + 1; i++) {
                b[i] = (Buf){ bad_wbuf(g, 1), 1, W };
            }
            n = BAD_NUM + 1;
            len = 16 * n;
            break;
        default:
            break;
        }
        bad_indirect(g, table, b, n, len, flags);
        if (c == LOOP || c == NEXT_OUT) {
            /* Rewrite entry 1's next: back to 0, or past the table. */
            put_desc(g, table + 16, &b[1], VRING_DESC_F_NEXT,
                     c == LOOP ? 0 : 7);
        }
        expect_broken(g, why[c]);
    }
    /* An indirect descriptor further down a chain. */
    {
        Guest *g = bad_guest(0, false);
        uint64_t table = galloc(g, 32, 16);
        Buf b[] = { { bad_hdr(g, VIRTIO_BLK_T_IN, 0), 16, 0 },
                    { table, 32, VRING_DESC_F_INDIRECT } };
        Buf t[] = { { bad_wbuf(g, 512), 512, W }, { bad_wbuf(g, 1), 1, W } };

        put_desc(g, table, &t[0], VRING_DESC_F_NEXT, 1);
        put_desc(g, table + 16, &t[1], 0, 0);
        bad_publish(g, b, 2);
        expect_broken(g, "indirect descriptor inside a chain");
    }
}

/* A head made available again while its request is in flight. */
static void bad_head_reuse(void)
{
    Guest *g = bad_guest(0, true);
    Req r = { .type = VIRTIO_BLK_T_IN, .in_len = 512 };
    uint16_t id;
    uint32_t len;

    fault.hold = true;
    req_submit(g, &r);
    guest_kick(g);
    while (fault.nparked < 1) {
        aio_poll(qemu_get_aio_context(), true);
    }
    guest_publish(g, r.head);
    guest_kick(g);
    g_assert_true(virtio_blk_dev_is_broken(g->dev));
    g_assert_cmpuint(g->needs_reset, ==, 1);
    /* The request in flight still completes, safely. */
    qemu_coroutine_enter(fault.parked[0]);
    fault_reset();
    virtio_blk_dev_drain(g->dev);
    g_assert_true(guest_used(g, &id, &len));
    g_assert_cmpuint(id, ==, r.head);
    req_finish(g, &r, len);
    g_assert_cmpuint(r.status, ==, VIRTIO_BLK_S_OK);
    req_clear(&r);
    guest_check(g);
    guest_free(g);
}

/* Rings the device cannot map, or misaligned. */
static void bad_rings(void)
{
    for (unsigned int c = 0; c < 3; c++) {
        Guest *g = bad_guest(0, false);
        DrvQueue *q = g->q;

        g_assert_cmpint(virtio_blk_dev_queue_setup(
                            g->dev, 0, BAD_NUM, c == 0 ? HOLE_IOVA : q->desc,
                            c == 1 ? HOLE_IOVA : q->avail,
                            c == 2 ? RO_IOVA : q->used, 0), ==, 0);
        virtio_blk_dev_queue_enable(g->dev, 0, true);
        expect_broken(g, "rings are not mapped");
    }
    {
        Guest *g = bad_guest(0, false);
        DrvQueue *q = g->q;

        g_assert_cmpint(virtio_blk_dev_queue_setup(g->dev, 0, BAD_NUM,
                                                   q->desc + 8, q->avail,
                                                   q->used, 0), ==, -EINVAL);
        g_assert_cmpint(virtio_blk_dev_queue_setup(g->dev, 0, BAD_NUM,
                                                   q->desc, q->avail + 1,
                                                   q->used, 0), ==, -EINVAL);
        g_assert_cmpint(virtio_blk_dev_queue_setup(g->dev, 0, BAD_NUM,
                                                   q->desc, q->avail,
                                                   q->used + 2, 0), ==,
                        -EINVAL);
        g_assert_cmpint(virtio_blk_dev_queue_setup(g->dev, 0, 12, q->desc,
                                                   q->avail, q->used, 0),
                        ==, -EINVAL);
        guest_free(g);
    }
}

/* After a reset a broken device works again. */
static void bad_reset(void)
{
    Guest *g = bad_guest(0, false);
    uint8_t id[20];

    guest_publish(g, BAD_NUM + 3);
    guest_kick(g);
    g_assert_true(virtio_blk_dev_is_broken(g->dev));
    virtio_blk_dev_reset(g->dev);
    g_assert_false(virtio_blk_dev_is_broken(g->dev));
    g_assert_null(virtio_blk_dev_broken_reason(g->dev));
    guest_reset_rings(g);
    guest_start(g, 1, 0);
    get_id(g, 20, id);
    g_assert_true(memcmp(id, "test-serial", 12) == 0);
    guest_free(g);
}

int main(int argc, char **argv)
{
    driver_init(&argc, &argv, "test-virtio-blk-bad");

    g_test_add_func("/virtio-blk/bad/zero-length", bad_zero_len);
    g_test_add_func("/virtio-blk/bad/addresses", bad_addresses);
    g_test_add_func("/virtio-blk/bad/header-unmapped", bad_header_unmapped);
    g_test_add_func("/virtio-blk/bad/status", bad_status);
    g_test_add_func("/virtio-blk/bad/header", bad_header);
    g_test_add_func("/virtio-blk/bad/direction", bad_direction);
    g_test_add_func("/virtio-blk/bad/loops", bad_loops);
    g_test_add_func("/virtio-blk/bad/ring-indices", bad_ring_indices);
    g_test_add_func("/virtio-blk/bad/lengths", bad_lengths);
    g_test_add_func("/virtio-blk/bad/indirect", bad_indirect_tables);
    g_test_add_func("/virtio-blk/bad/head-reuse", bad_head_reuse);
    g_test_add_func("/virtio-blk/bad/rings", bad_rings);
    g_test_add_func("/virtio-blk/bad/reset", bad_reset);
    return driver_run();
}
