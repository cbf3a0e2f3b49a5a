/*
 * Tests of the block core's request path (block/io.c) and block status:
 * serialised read-modify-write under heavy concurrency, splitting, bounce
 * buffers, the write-zeroes fallback, discard alignment, bounds, read-only
 * nodes, drain, and block status on sparse files.  The in-memory driver
 * "test-mem" forces limits and reports requests that break them; the same
 * scenarios also run through raw over a real file.
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

static char *tmpdir;
static int file_seq;

static AioContext *ctx(void)
{
    return qemu_get_aio_context();
}

static void fill_pattern(uint8_t *buf, size_t len, unsigned seed)
{
    for (size_t i = 0; i < len; i++) {
        buf[i] = (uint8_t)(i * 131 + seed * 29 + (i >> 9) + 1);
    }
}

static char *make_file(int64_t size)
{
    char *path = g_strdup_printf("%s/img%d", tmpdir, file_seq++);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

static BlockBackend *open_file(const char *path, const char *extra)
{
    g_autofree char *opts = g_strdup_printf(
        "driver=raw,file.driver=file,file.filename=%s%s%s", path,
        extra ? "," : "", extra ? extra : "");

    return test_open(opts, BDRV_O_RDWR, &error_abort);
}

/* Whether this filesystem takes O_DIRECT at all (tmpfs does not). */
static bool have_o_direct(void)
{
    g_autofree char *path = make_file(4096);
    int fd = open(path, O_RDONLY | O_DIRECT);

    if (fd < 0) {
        return false;
    }
    close(fd);
    return true;
}

/* ---- concurrent unaligned writes ---- */

#define RMW_WRITERS 250

typedef struct RmwWriter {
    BlockBackend *blk;
    int64_t offset;
    int64_t bytes;
    uint8_t id;
    BdrvRequestFlags flags;
    unsigned start_yields;
    unsigned seq;
    int ret;
} RmwWriter;

static unsigned rmw_done;

static void coroutine_fn rmw_writer_entry(void *opaque)
{
    RmwWriter *w = opaque;
    g_autofree uint8_t *buf = g_malloc(w->bytes);

    memset(buf, w->id, w->bytes);
    /* Shuffle the start order. */
    for (unsigned i = 0; i < w->start_yields; i++) {
        aio_co_schedule(ctx(), qemu_coroutine_self());
        qemu_coroutine_yield();
    }
    w->ret = blk_co_pwrite(w->blk, w->offset, w->bytes, buf, w->flags);
    w->seq = rmw_done++;
}

/*
 * Every write starts at an odd offset, so every one needs a
 * read-modify-write of its edge blocks.  Overlapping writes must be
 * serialised, hence complete in the order they were applied: replaying
 * them on a shadow buffer in completion order must give the image.  A
 * missing serialisation lets one RMW write back a stale block over a
 * neighbour's bytes, which the comparison catches.  Where the node needs
 * no RMW (request_alignment 1), overlapping writes are unordered unless
 * flags asks for BDRV_REQ_SERIALISING.
 */
static void run_rmw_stress(BlockBackend *blk, int64_t size, int64_t max_len,
                           unsigned seed, BdrvRequestFlags flags)
{
    g_autoptr(GRand) r = g_rand_new_with_seed(seed);
    g_autofree RmwWriter *w = g_new0(RmwWriter, RMW_WRITERS);
    g_autofree int *order = g_new(int, RMW_WRITERS);
    g_autofree uint8_t *shadow = g_malloc0(size);
    g_autofree uint8_t *result = g_malloc(size);

    g_assert_cmpint(blk_pwrite_zeroes(blk, 0, size, 0), ==, 0);
    for (int i = 0; i < RMW_WRITERS; i++) {
        w[i].blk = blk;
        w[i].bytes = g_rand_int_range(r, 1, max_len + 1);
        w[i].offset = g_rand_int_range(r, 0, (size - w[i].bytes) / 2) * 2 + 1;
        g_assert_cmpint(w[i].offset + w[i].bytes, <=, size);
        w[i].id = i + 1;
        w[i].flags = flags;
        w[i].start_yields = g_rand_int_range(r, 0, 4);
    }
    rmw_done = 0;
    for (int i = 0; i < RMW_WRITERS; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(rmw_writer_entry, &w[i]));
    }
    AIO_WAIT_WHILE(ctx(), rmw_done < RMW_WRITERS);

    for (int i = 0; i < RMW_WRITERS; i++) {
        g_assert_cmpint(w[i].ret, ==, 0);
        order[w[i].seq] = i;
    }
    for (int k = 0; k < RMW_WRITERS; k++) {
        RmwWriter *x = &w[order[k]];

        memset(shadow + x->offset, x->id, x->bytes);
    }
    g_assert_cmpint(blk_pread(blk, 0, size, result, 0), ==, 0);
    for (int64_t i = 0; i < size; i++) {
        if (result[i] != shadow[i]) {
            g_error("byte %" PRId64 " is %u, expected %u (lost update)",
                    i, result[i], shadow[i]);
        }
    }
    g_assert_cmpint(blk_in_flight(blk), ==, 0);
}

static void test_rmw_concurrent_mem(void)
{
    const char *variants[] = {
        "driver=test-mem,size=64K,align=4096,delay=3,seed=7",
        "driver=test-mem,size=64K,align=4096,max-transfer=8K,delay=3,seed=8",
        "driver=raw,file.driver=test-mem,file.size=72K,file.align=4096,"
        "file.delay=3,file.seed=9,offset=8K",
    };

    for (int v = 0; v < (int)ARRAY_SIZE(variants); v++) {
        BlockBackend *blk = test_open(variants[v], BDRV_O_RDWR,
                                      &error_abort);
        BDRVMemState *s = mem_state(blk_bs(blk));

        run_rmw_stress(blk, 64 * KiB, 6000, 100 + v, 0);
        g_assert_cmpuint(s->violations, ==, 0);
        /* The test only means something if requests really overlapped. */
        g_assert_cmpuint(s->max_in_driver, >, 1);
        blk_unref(blk);
    }
}

static void test_rmw_concurrent_file(void)
{
    g_autofree char *path = make_file(256 * KiB);
    const char *modes[] = { NULL, "cache.direct=on" };

    for (int m = 0; m < 2; m++) {
        BlockBackend *blk;

        if (m == 1 && !have_o_direct()) {
            g_test_message("no O_DIRECT here; buffered only");
            continue;
        }
        blk = open_file(path, modes[m]);
        if (blk_bs(blk)->bl.request_alignment == 1) {
            run_rmw_stress(blk, 256 * KiB, 20000, 200 + m,
                           BDRV_REQ_SERIALISING);
        } else {
            run_rmw_stress(blk, 256 * KiB, 20000, 200 + m, 0);
        }
        blk_unref(blk);
    }
}

/* ---- splitting, bounce buffers ---- */

static void test_split_max_transfer(void)
{
    BlockBackend *blk = test_open("driver=raw,file.driver=test-mem,"
                                  "file.size=4M,file.align=512,"
                                  "file.max-transfer=64K", BDRV_O_RDWR,
                                  &error_abort);
    BDRVMemState *s = mem_state(blk_bs(blk));
    g_autofree uint8_t *buf = g_malloc(MiB + 4096);
    g_autofree uint8_t *back = g_malloc(MiB + 4096);
    int64_t next = 512, writes = 0;

    /* raw inherits the limits of its child. */
    g_assert_cmpuint(blk_bs(blk)->bl.max_transfer, ==, 64 * KiB);
    g_assert_cmpuint(blk_bs(blk)->bl.request_alignment, ==, 512);

    fill_pattern(buf, MiB + 4096, 1);
    g_assert_cmpint(blk_pwrite(blk, 512, MiB, buf, 0), ==, 0);
    for (guint i = 0; i < s->ops->len; i++) {
        MemOp *o = &g_array_index(s->ops, MemOp, i);

        g_assert_cmpint(o->op, ==, 'w');
        g_assert_cmpint(o->offset, ==, next);
        g_assert_cmpint(o->bytes, <=, 64 * KiB);
        next += o->bytes;
        writes++;
    }
    g_assert_cmpint(next, ==, 512 + MiB);
    g_assert_cmpint(writes, ==, 16);

    /* An unaligned read crossing many chunks. */
    g_assert_cmpint(blk_pread(blk, 612, MiB - 300, back, 0), ==, 0);
    g_assert_cmpmem(back, MiB - 300, buf + 100, MiB - 300);
    g_assert_cmpuint(s->violations, ==, 0);
    blk_unref(blk);
}

static void test_unaligned_rw(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=64K,align=4096",
                                  BDRV_O_RDWR, &error_abort);
    BDRVMemState *s = mem_state(blk_bs(blk));
    uint8_t expect[64 * KiB], back[64 * KiB], data[10000];

    fill_pattern(expect, sizeof(expect), 2);
    g_assert_cmpint(blk_pwrite(blk, 0, sizeof(expect), expect, 0), ==, 0);

    /* Inside one block, across two, and head + middle + tail. */
    const int64_t cases[][2] = {
        { 5000, 100 }, { 4000, 200 }, { 4096 + 100, 10000 }, { 1, 1 },
        { 65535, 1 }, { 8192, 4095 },
    };
    for (int c = 0; c < (int)ARRAY_SIZE(cases); c++) {
        int64_t off = cases[c][0], len = cases[c][1];

        fill_pattern(data, len, 10 + c);
        g_assert_cmpint(blk_pwrite(blk, off, len, data, 0), ==, 0);
        memcpy(expect + off, data, len);
        g_assert_cmpint(blk_pread(blk, 0, sizeof(back), back, 0), ==, 0);
        g_assert_cmpmem(back, sizeof(back), expect, sizeof(expect));
        memset(back, 0, len);
        g_assert_cmpint(blk_pread(blk, off, len, back, 0), ==, 0);
        g_assert_cmpmem(back, len, data, len);
    }
    g_assert_cmpuint(s->violations, ==, 0);
    blk_unref(blk);
}

static void test_bounce_memory(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=1M,align=512,"
                                  "mem-align=4096,max-iov=2", BDRV_O_RDWR,
                                  &error_abort);
    BDRVMemState *s = mem_state(blk_bs(blk));
    g_autofree uint8_t *raw = g_malloc(64 * KiB + 16);
    g_autofree uint8_t *back = g_malloc(64 * KiB + 16);
    uint8_t *odd = raw + 1;
    uint8_t *aligned = qemu_memalign(4096, 4 * 4096);
    QEMUIOVector qiov;

    g_assert_cmpuint(bdrv_min_mem_align(blk_bs(blk)), ==, 4096);

    /* Misaligned address, aligned offsets: bounce. */
    fill_pattern(odd, 8192, 3);
    g_assert_cmpint(blk_pwrite(blk, 4096, 8192, odd, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 4096, 8192, back + 3, 0), ==, 0);
    g_assert_cmpmem(back + 3, 8192, odd, 8192);

    /* Aligned pieces of a misaligned length. */
    qemu_iovec_init(&qiov, 3);
    for (int i = 0; i < 3; i++) {
        qemu_iovec_add(&qiov, odd + 1536 * i, 1536);
    }
    g_assert_cmpint(blk_pwritev(blk, 65536, 4608, &qiov, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 65536, 4608, back, 0), ==, 0);
    g_assert_cmpmem(back, 4608, odd, 4608);
    qemu_iovec_destroy(&qiov);

    /* Aligned memory, but more pieces than max-iov. */
    fill_pattern(aligned, 4 * 4096, 4);
    qemu_iovec_init(&qiov, 4);
    for (int i = 0; i < 4; i++) {
        qemu_iovec_add(&qiov, aligned + 4096 * i, 4096);
    }
    g_assert_cmpint(blk_pwritev(blk, 131072, 4 * 4096, &qiov, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 131072, 4 * 4096, back, 0), ==, 0);
    g_assert_cmpmem(back, 4 * 4096, aligned, 4 * 4096);
    qemu_iovec_destroy(&qiov);

    g_assert_cmpuint(s->violations, ==, 0);
    qemu_vfree(aligned);
    blk_unref(blk);
}

/* ---- write zeroes ---- */

static void check_range(BlockBackend *blk, int64_t off, int64_t len,
                        uint8_t val)
{
    g_autofree uint8_t *b = g_malloc(len);

    g_assert_cmpint(blk_pread(blk, off, len, b, 0), ==, 0);
    for (int64_t i = 0; i < len; i++) {
        if (b[i] != val) {
            g_error("byte %" PRId64 " is %u, expected %u", off + i, b[i],
                    val);
        }
    }
}

static void test_zero_fallback(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=1M,align=512,"
                                  "max-transfer=64K", BDRV_O_RDWR,
                                  &error_abort);
    BDRVMemState *s = mem_state(blk_bs(blk));
    g_autofree uint8_t *buf = g_malloc(MiB);
    int64_t next = 4096;

    memset(buf, 0xaa, MiB);
    g_assert_cmpint(blk_pwrite(blk, 0, MiB, buf, 0), ==, 0);
    g_array_set_size(s->ops, 0);

    /* No fast path: zeroed buffers, at most max_transfer each. */
    g_assert_cmpint(blk_pwrite_zeroes(blk, 4096, 300 * KiB,
                                      BDRV_REQ_MAY_UNMAP), ==, 0);
    for (guint i = 0; i < s->ops->len; i++) {
        MemOp *o = &g_array_index(s->ops, MemOp, i);

        g_assert_cmpint(o->op, ==, 'w');
        g_assert_cmpint(o->offset, ==, next);
        g_assert_cmpint(o->bytes, <=, 64 * KiB);
        next += o->bytes;
    }
    g_assert_cmpint(next, ==, 4096 + 300 * KiB);
    check_range(blk, 0, 4096, 0xaa);
    check_range(blk, 4096, 300 * KiB, 0);
    check_range(blk, 4096 + 300 * KiB, 4096, 0xaa);

    /* NO_FALLBACK: refused, nothing written. */
    g_array_set_size(s->ops, 0);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 512 * KiB, 4096,
                                      BDRV_REQ_NO_FALLBACK), ==, -ENOTSUP);
    g_assert_cmpuint(s->ops->len, ==, 0);
    check_range(blk, 512 * KiB, 4096, 0xaa);

    /* Unaligned: partial sectors by read-modify-write. */
    g_assert_cmpint(blk_pwrite_zeroes(blk, 600 * KiB + 100, 5000, 0), ==, 0);
    check_range(blk, 600 * KiB, 100, 0xaa);
    check_range(blk, 600 * KiB + 100, 5000, 0);
    check_range(blk, 600 * KiB + 5100, 1000, 0xaa);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 700 * KiB + 1, 512,
                                      BDRV_REQ_NO_FALLBACK), ==, -ENOTSUP);
    g_assert_cmpuint(s->violations, ==, 0);
    blk_unref(blk);

    /* A driver with a fast path gets one request with its flags. */
    blk = test_open("driver=test-mem,size=1M,zeroes=on", BDRV_O_RDWR,
                    &error_abort);
    s = mem_state(blk_bs(blk));
    memset(s->buf, 0xaa, MiB);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 0, 128 * KiB,
                                      BDRV_REQ_MAY_UNMAP |
                                      BDRV_REQ_NO_FALLBACK), ==, 0);
    g_assert_cmpuint(s->ops->len, ==, 1);
    g_assert_cmpint(g_array_index(s->ops, MemOp, 0).op, ==, 'z');
    g_assert_cmpint(g_array_index(s->ops, MemOp, 0).bytes, ==, 128 * KiB);
    g_assert_true(g_array_index(s->ops, MemOp, 0).flags &
                  BDRV_REQ_MAY_UNMAP);
    check_range(blk, 0, 128 * KiB, 0);
    check_range(blk, 128 * KiB, 4096, 0xaa);
    blk_unref(blk);
}

/* ---- discard ---- */

static void test_discard_alignment(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=1M,align=512,"
                                  "discard-align=64K", BDRV_O_RDWR,
                                  &error_abort);
    BDRVMemState *s = mem_state(blk_bs(blk));
    int accepted = 0;

    memset(s->buf, 0xaa, MiB);
    g_assert_cmpint(blk_pdiscard(blk, 1000, 200000), ==, 0);
    for (guint i = 0; i < s->ops->len; i++) {
        MemOp *o = &g_array_index(s->ops, MemOp, i);

        if (o->op == 'd') {
            g_assert_cmpint(o->offset, ==, 64 * KiB);
            g_assert_cmpint(o->bytes, ==, 128 * KiB);
            accepted++;
        } else {
            /* The edges, offered in whole sectors and refused. */
            g_assert_cmpint(o->op, ==, 'D');
            g_assert_true(o->offset == 1024 || o->offset == 192 * KiB);
            g_assert_cmpint(o->offset % 512, ==, 0);
            g_assert_cmpint(o->bytes % 512, ==, 0);
        }
    }
    g_assert_cmpint(accepted, ==, 1);
    check_range(blk, 0, 64 * KiB, 0xaa);
    check_range(blk, 64 * KiB, 128 * KiB, 0);
    check_range(blk, 192 * KiB, 64 * KiB, 0xaa);
    g_assert_cmpuint(s->violations, ==, 0);
    blk_unref(blk);

    /* Only request_alignment: the aligned inside reaches the driver. */
    blk = test_open("driver=test-mem,size=1M,align=4096", BDRV_O_RDWR,
                    &error_abort);
    s = mem_state(blk_bs(blk));
    g_assert_cmpint(blk_pdiscard(blk, 1000, 9000), ==, 0);
    g_assert_cmpuint(s->ops->len, ==, 1);
    g_assert_cmpint(g_array_index(s->ops, MemOp, 0).offset, ==, 4096);
    g_assert_cmpint(g_array_index(s->ops, MemOp, 0).bytes, ==, 4096);
    /* Too small to cover a whole block: nothing at all. */
    g_assert_cmpint(blk_pdiscard(blk, 100, 1000), ==, 0);
    g_assert_cmpuint(s->ops->len, ==, 1);
    blk_unref(blk);
}

/* ---- bounds, read-only ---- */

static void test_bounds(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=64K", BDRV_O_RDWR,
                                  &error_abort);
    BDRVMemState *s;
    uint8_t buf[2048] = { 0 };

    g_assert_cmpint(blk_getlength(blk), ==, 64 * KiB);
    g_assert_cmpint(blk_pread(blk, 64 * KiB - 1024, 1024, buf, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 64 * KiB, 0, buf, 0), ==, 0);
    g_assert_cmpint(blk_pread(blk, 64 * KiB, 1, buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, 64 * KiB - 512, 1024, buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, -1, 10, buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, 0, -1, buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, INT64_MAX - 10, 100, buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pwrite(blk, 64 * KiB - 1, 2, buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 64 * KiB, 512, 0), ==, -EIO);
    g_assert_cmpint(blk_pdiscard(blk, 60 * KiB, 8 * KiB), ==, -EIO);
    /* A vector shorter than the request is refused, not overrun. */
    {
        QEMUIOVector small;
        int64_t pnum;

        qemu_iovec_init_buf(&small, buf, 512);
        g_assert_cmpint(blk_preadv(blk, 0, 1024, &small, 0), ==, -EINVAL);
        g_assert_cmpint(blk_pwritev(blk, 0, 1024, &small, 0), ==, -EINVAL);
        g_assert_cmpint(blk_pwritev(blk, 0, 512, NULL, 0), ==, -EINVAL);
        g_assert_cmpint(bdrv_block_status(blk_bs(blk), -1, 512, &pnum,
                                          NULL, NULL), ==, -EINVAL);
    }
    blk_unref(blk);

    /* A 1000-byte image is 1 KiB long, like QEMU; the tail reads zeroes. */
    blk = test_open("driver=test-mem,size=1000", BDRV_O_RDWR, &error_abort);
    s = mem_state(blk_bs(blk));
    memset(s->buf, 0x55, 1000);
    g_assert_cmpint(blk_getlength(blk), ==, 1024);
    memset(buf, 0xff, sizeof(buf));
    g_assert_cmpint(blk_pread(blk, 990, 34, buf, 0), ==, 0);
    for (int i = 0; i < 34; i++) {
        g_assert_cmpint(buf[i], ==, i < 10 ? 0x55 : 0);
    }
    g_assert_cmpint(blk_pread(blk, 0, 1025, buf, 0), ==, -EIO);
    blk_unref(blk);

    /* A window: reads past it fail, writes land at the offset. */
    blk = test_open("driver=raw,file.driver=test-mem,file.size=64K,"
                    "offset=4K,size=8K", BDRV_O_RDWR, &error_abort);
    s = mem_state(blk_bs(blk));
    g_assert_cmpint(blk_getlength(blk), ==, 8 * KiB);
    memset(buf, 0x77, sizeof(buf));
    g_assert_cmpint(blk_pwrite(blk, 8 * KiB - 100, 100, buf, 0), ==, 0);
    g_assert_cmpint(s->buf[12 * KiB - 100], ==, 0x77);
    g_assert_cmpint(s->buf[12 * KiB - 101], ==, 0);
    g_assert_cmpint(s->buf[12 * KiB], ==, 0);
    g_assert_cmpint(blk_pwrite(blk, 8 * KiB - 100, 101, buf, 0), ==, -EIO);
    g_assert_cmpint(blk_pread(blk, 8 * KiB, 1, buf, 0), ==, -EIO);
    blk_unref(blk);

    /*
     * offset=100: the raw node is 64K - 100 bytes, rounded up to 64K.  Its
     * last 100 bytes map beyond the child's end, which the child's core
     * answers with zeroes without asking the driver.
     */
    blk = test_open("driver=raw,file.driver=test-mem,file.size=64K,"
                    "offset=100", BDRV_O_RDWR, &error_abort);
    s = mem_state(blk_bs(blk));
    memset(s->buf, 0x33, 64 * KiB);
    g_assert_cmpint(blk_getlength(blk), ==, 64 * KiB);
    g_assert_cmpint(blk_pread(blk, 64 * KiB - 200, 200, buf, 0), ==, 0);
    for (int i = 0; i < 200; i++) {
        g_assert_cmpint(buf[i], ==, i < 100 ? 0x33 : 0);
    }
    for (guint i = 0; i < s->ops->len; i++) {
        MemOp *o = &g_array_index(s->ops, MemOp, i);

        g_assert_cmpint(o->offset + o->bytes, <=, 64 * KiB);
    }
    blk_unref(blk);
}

static void test_read_only(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=64K", 0,
                                  &error_abort);
    BDRVMemState *s = mem_state(blk_bs(blk));
    Error *err = NULL;
    uint8_t buf[512] = { 0 };

    g_assert_true(blk_is_read_only(blk));
    g_assert_cmpint(blk_pread(blk, 0, 512, buf, 0), ==, 0);
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, -EPERM);
    g_assert_cmpint(blk_pwrite_zeroes(blk, 0, 512, 0), ==, -EPERM);
    g_assert_cmpint(blk_pdiscard(blk, 0, 512), ==, -EPERM);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(blk_truncate(blk, 128 * KiB, false, PREALLOC_MODE_OFF,
                                 0, &err), ==, -EACCES);
    g_assert_cmpstr(error_get_pretty(err), ==, "Image is read-only");
    error_free_or_abort(&err);
    for (guint i = 0; i < s->ops->len; i++) {
        g_assert_cmpint(g_array_index(s->ops, MemOp, i).op, ==, 'r');
    }
    blk_unref(blk);
}

/* ---- flush, FUA, truncate ---- */

static int count_ops(BDRVMemState *s, char op)
{
    int n = 0;

    for (guint i = 0; i < s->ops->len; i++) {
        n += g_array_index(s->ops, MemOp, i).op == op;
    }
    return n;
}

static void test_flush_truncate(void)
{
    BlockBackend *blk = test_open("driver=raw,file.driver=test-mem,"
                                  "file.size=64K", BDRV_O_RDWR,
                                  &error_abort);
    BDRVMemState *s = mem_state(blk_bs(blk));
    uint8_t buf[512] = { 0 };
    Error *err = NULL;

    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(count_ops(s, 'f'), ==, 1);
    /* FUA without driver support: write, then flush. */
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, BDRV_REQ_FUA), ==, 0);
    g_assert_cmpint(count_ops(s, 'f'), >=, 2);

    g_assert_cmpint(blk_truncate(blk, 128 * KiB, false, PREALLOC_MODE_OFF,
                                 0, &error_abort), ==, 0);
    g_assert_cmpint(blk_getlength(blk), ==, 128 * KiB);
    g_assert_cmpint(blk_pread(blk, 127 * KiB, 512, buf, 0), ==, 0);
    g_assert_cmpint(blk_truncate(blk, -1, false, PREALLOC_MODE_OFF, 0, &err),
                    ==, -EINVAL);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Image size cannot be negative");
    error_free_or_abort(&err);
    blk_unref(blk);

    /* cache.no-flush=on, inherited by the child: no flush reaches it. */
    blk = test_open("driver=raw,file.driver=test-mem,file.size=64K,"
                    "cache.no-flush=on", BDRV_O_RDWR, &error_abort);
    s = mem_state(blk_bs(blk));
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(count_ops(s, 'f'), ==, 0);
    blk_unref(blk);

    /* A fixed-size window cannot be resized. */
    blk = test_open("driver=raw,file.driver=test-mem,file.size=64K,size=32K",
                    BDRV_O_RDWR, &error_abort);
    g_assert_cmpint(blk_truncate(blk, 16 * KiB, false, PREALLOC_MODE_OFF, 0,
                                 &err), ==, -ENOTSUP);
    g_assert_cmpstr(error_get_pretty(err), ==,
                    "Cannot resize fixed-size raw disks");
    error_free_or_abort(&err);
    blk_unref(blk);
}

/* ---- drain ---- */

static int aio_completed;

static void count_cb(void *opaque, int ret)
{
    g_assert_cmpint(ret, ==, 0);
    aio_completed++;
}

static void test_drain(void)
{
    BlockBackend *blk = test_open("driver=raw,file.driver=test-mem,"
                                  "file.size=1M,file.delay=4", BDRV_O_RDWR,
                                  &error_abort);
    BlockDriverState *bs = blk_bs(blk);
    BDRVMemState *s = mem_state(bs);
    g_autofree uint8_t *buf = g_malloc0(64 * KiB);
    QEMUIOVector qiov;
    guint ops_before;

    qemu_iovec_init_buf(&qiov, buf, 4096);
    aio_completed = 0;
    for (int i = 0; i < 50; i++) {
        blk_aio_pwritev(blk, i * 4096, &qiov, 0, count_cb, NULL);
    }
    g_assert_cmpint(aio_completed, ==, 0);
    blk_drain(blk);
    g_assert_cmpint(aio_completed, ==, 50);
    g_assert_cmpuint(blk_in_flight(blk), ==, 0);
    g_assert_cmpuint(bs->in_flight, ==, 0);
    g_assert_cmpuint(bs->file->bs->in_flight, ==, 0);

    /* Drained (here: the child, which quiesces its parents too). */
    bdrv_drained_begin(bs->file->bs);
    ops_before = s->ops->len;
    aio_completed = 0;
    for (int i = 0; i < 10; i++) {
        blk_aio_pwritev(blk, i * 4096, &qiov, 0, count_cb, NULL);
    }
    for (int i = 0; i < 100; i++) {
        aio_poll(ctx(), false);
    }
    g_assert_cmpuint(s->ops->len, ==, ops_before);
    g_assert_cmpint(aio_completed, ==, 0);
    g_assert_cmpuint(bs->in_flight, ==, 0);
    bdrv_drained_end(bs->file->bs);
    AIO_WAIT_WHILE(ctx(), aio_completed < 10);
    g_assert_cmpuint(s->ops->len, >, ops_before);
    blk_unref(blk);
}

typedef struct DrainInCo {
    BlockBackend *blk;
    bool done;
} DrainInCo;

static void coroutine_fn drain_in_co_entry(void *opaque)
{
    DrainInCo *d = opaque;

    bdrv_drained_begin(blk_bs(d->blk));
    /* Everything submitted before has completed. */
    g_assert_cmpint(aio_completed, ==, 20);
    g_assert_cmpuint(blk_bs(d->blk)->in_flight, ==, 0);
    bdrv_drained_end(blk_bs(d->blk));
    d->done = true;
}

static void test_drain_in_coroutine(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=1M,delay=4",
                                  BDRV_O_RDWR, &error_abort);
    uint8_t buf[4096] = { 0 };
    QEMUIOVector qiov;
    DrainInCo d = { .blk = blk };

    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
    aio_completed = 0;
    for (int i = 0; i < 20; i++) {
        blk_aio_pwritev(blk, i * 4096, &qiov, 0, count_cb, NULL);
    }
    qemu_coroutine_enter(qemu_coroutine_create(drain_in_co_entry, &d));
    AIO_WAIT_WHILE(ctx(), !d.done);
    blk_unref(blk);
}

/* ---- block status ---- */

static void test_block_status_mem(void)
{
    /* 10000 bytes: the last 4096-byte block is partial, the length 10240. */
    BlockBackend *blk = test_open("driver=test-mem,size=10000,align=4096",
                                  BDRV_O_RDWR, &error_abort);
    BlockDriverState *bs = blk_bs(blk), *file;
    BDRVMemState *s = mem_state(bs);
    int64_t pnum, map;
    int ret;

    memset(s->buf + 4096, 1, 4096);
    s->buf[9000] = 1;
    g_assert_cmpint(bdrv_getlength(bs), ==, 10240);

    ret = bdrv_block_status(bs, 0, 10240, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED |
                    BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 4096);
    g_assert_cmpint(map, ==, 0);
    g_assert_true(file == bs);

    ret = bdrv_block_status(bs, 4096, 10240, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED |
                    BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_EOF);
    g_assert_cmpint(pnum, ==, 6144);

    /* Unaligned queries: answered for the block, clamped to the query. */
    ret = bdrv_block_status(bs, 5000, 100, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED |
                    BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 100);
    g_assert_cmpint(map, ==, 5000);
    ret = bdrv_block_status(bs, 100, 10000, &pnum, &map, &file);
    g_assert_cmpint(ret & BDRV_BLOCK_ZERO, !=, 0);
    g_assert_cmpint(pnum, ==, 3996);

    /* The partial sector at EOF has the status of its block. */
    ret = bdrv_block_status(bs, 10000, 1000, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED |
                    BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_EOF);
    g_assert_cmpint(pnum, ==, 240);
    ret = bdrv_block_status(bs, 10240, 1000, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_EOF);
    g_assert_cmpint(pnum, ==, 0);
    ret = bdrv_block_status(bs, 0, 0, &pnum, NULL, NULL);
    g_assert_cmpint(ret, ==, 0);
    g_assert_cmpint(pnum, ==, 0);

    /* want_zero=false: one big allocated run. */
    g_assert_cmpint(bdrv_is_allocated(bs, 0, 10240, &pnum), ==, 1);
    g_assert_cmpint(pnum, ==, 10240);
    g_assert_cmpint(bdrv_is_allocated(bs, 10240, 1, &pnum), ==, 0);
    g_assert_cmpint(pnum, ==, 0);

    /* A broken driver that makes no progress fails instead of looping. */
    s->status = MEM_STATUS_NO_PROGRESS;
    g_assert_cmpint(bdrv_block_status(bs, 0, 4096, &pnum, NULL, NULL), ==,
                    -EIO);
    g_assert_cmpint(pnum, ==, 0);

    /* Runs ending mid-block are cut back to block boundaries. */
    s->status = MEM_STATUS_UNALIGNED;
    for (int64_t off = 0; off < 10240; off += pnum) {
        ret = bdrv_block_status(bs, off, 10240 - off, &pnum, NULL, NULL);
        g_assert_cmpint(ret, >=, 0);
        g_assert_cmpint(pnum, >, 0);
        g_assert_true(off + pnum == 10240 || (off + pnum) % 4096 == 0);
    }
    g_assert_cmpuint(s->violations, ==, 0);
    blk_unref(blk);

    /* No block status callback: all data, mapped onto the node itself. */
    blk = test_open("driver=test-mem-nostatus,size=8K", BDRV_O_RDWR,
                    &error_abort);
    bs = blk_bs(blk);
    ret = bdrv_block_status(bs, 1000, 100000, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED |
                    BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_EOF);
    g_assert_cmpint(pnum, ==, 8192 - 1000);
    g_assert_cmpint(map, ==, 1000);
    g_assert_true(file == bs);
    blk_unref(blk);
}

static void test_block_status_raw_mem(void)
{
    BlockBackend *blk = test_open("driver=raw,file.driver=test-mem,"
                                  "file.size=64K,offset=8K", BDRV_O_RDWR,
                                  &error_abort);
    BlockDriverState *bs = blk_bs(blk), *file;
    BDRVMemState *s = mem_state(bs);
    int64_t pnum, map;
    int ret;

    memset(s->buf + 16 * KiB, 1, 4096);
    /* RAW forwarding: the child's answer at offset + 8K. */
    ret = bdrv_block_status(bs, 0, 56 * KiB, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED |
                    BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 8 * KiB);
    g_assert_cmpint(map, ==, 8 * KiB);
    g_assert_true(file == bs->file->bs);
    ret = bdrv_block_status(bs, 8 * KiB, 56 * KiB, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED |
                    BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 4096);
    g_assert_cmpint(map, ==, 16 * KiB);
    ret = bdrv_block_status(bs, 12 * KiB, 56 * KiB, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_ZERO | BDRV_BLOCK_ALLOCATED |
                    BDRV_BLOCK_OFFSET_VALID | BDRV_BLOCK_EOF);
    g_assert_cmpint(pnum, ==, 44 * KiB);
    blk_unref(blk);
}

static void write_file_at(const char *path, int64_t off, int64_t len)
{
    g_autofree uint8_t *b = g_malloc(len);
    int fd = open(path, O_WRONLY);

    memset(b, 0x5a, len);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, b, len, off), ==, len);
    close(fd);
}

/*
 * A sparse file through raw over file: data [0,4K), hole, data
 * [64K,68K), hole, data [96K, 100000) with the file ending mid-sector.
 */
static void test_block_status_file(void)
{
    g_autofree char *path = make_file(100000);
    const int64_t len = 100352;       /* 100000 rounded up to sectors */
    BlockBackend *blk;
    BlockDriverState *bs, *file;
    int64_t pnum, map;
    int ret;

    write_file_at(path, 0, 4096);
    write_file_at(path, 64 * KiB, 4096);
    write_file_at(path, 96 * KiB, 100000 - 96 * KiB);

    blk = open_file(path, NULL);
    bs = blk_bs(blk);
    g_assert_cmpint(bdrv_getlength(bs), ==, len);

    ret = bdrv_block_status(bs, 0, len, &pnum, &map, &file);
    g_assert_cmpint(ret, ==, BDRV_BLOCK_DATA | BDRV_BLOCK_ALLOCATED |
                    BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 4096);
    g_assert_true(file == bs->file->bs);
    g_assert_cmpint(map, ==, 0);

    ret = bdrv_block_status(bs, 4096, len, &pnum, &map, &file);
    g_assert_cmpint(ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO), ==,
                    BDRV_BLOCK_ZERO);
    g_assert_cmpint(pnum, ==, 60 * KiB);

    ret = bdrv_block_status(bs, 64 * KiB + 100, len, &pnum, &map, &file);
    g_assert_cmpint(ret & BDRV_BLOCK_DATA, !=, 0);
    g_assert_cmpint(pnum, ==, 4096 - 100);
    g_assert_cmpint(map, ==, 64 * KiB + 100);

    ret = bdrv_block_status(bs, 68 * KiB, len, &pnum, &map, &file);
    g_assert_cmpint(ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_ZERO), ==,
                    BDRV_BLOCK_ZERO);
    g_assert_cmpint(pnum, ==, 28 * KiB);

    /*
     * Buffered I/O has a request alignment of 1: the data ends with the
     * file and the rest of the last sector reads as zeroes (as QEMU).
     */
    ret = bdrv_block_status(bs, 96 * KiB, len, &pnum, &map, &file);
    g_assert_cmpint(ret & BDRV_BLOCK_DATA, !=, 0);
    g_assert_cmpint(96 * KiB + pnum, ==, 100000);
    ret = bdrv_block_status(bs, 100000, len, &pnum, &map, &file);
    g_assert_cmpint(ret & (BDRV_BLOCK_ZERO | BDRV_BLOCK_EOF), ==,
                    BDRV_BLOCK_ZERO | BDRV_BLOCK_EOF);
    g_assert_cmpint(pnum, ==, len - 100000);

    /* want_zero=false. */
    g_assert_cmpint(bdrv_is_allocated(bs, 0, len, &pnum), ==, 1);
    g_assert_cmpint(pnum, ==, len);
    blk_unref(blk);

    if (!have_o_direct()) {
        return;
    }
    /* With O_DIRECT the partial sector takes the status of the sector. */
    blk = open_file(path, "cache.direct=on");
    bs = blk_bs(blk);
    g_assert_cmpuint(bs->bl.request_alignment, >=, 512);
    ret = bdrv_block_status(bs, 96 * KiB, len, &pnum, &map, &file);
    g_assert_cmpint(ret & (BDRV_BLOCK_DATA | BDRV_BLOCK_EOF), ==,
                    BDRV_BLOCK_DATA | BDRV_BLOCK_EOF);
    g_assert_cmpint(pnum, ==, len - 96 * KiB);
    blk_unref(blk);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    test_mem_register();
    tmpdir = g_dir_make_tmp("test-block-io-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);

    g_test_add_func("/block-io/rmw/concurrent-mem", test_rmw_concurrent_mem);
    g_test_add_func("/block-io/rmw/concurrent-file",
                    test_rmw_concurrent_file);
    g_test_add_func("/block-io/split-max-transfer", test_split_max_transfer);
    g_test_add_func("/block-io/unaligned-rw", test_unaligned_rw);
    g_test_add_func("/block-io/bounce-memory", test_bounce_memory);
    g_test_add_func("/block-io/zero-fallback", test_zero_fallback);
    g_test_add_func("/block-io/discard-alignment", test_discard_alignment);
    g_test_add_func("/block-io/bounds", test_bounds);
    g_test_add_func("/block-io/read-only", test_read_only);
    g_test_add_func("/block-io/flush-truncate", test_flush_truncate);
    g_test_add_func("/block-io/drain", test_drain);
    g_test_add_func("/block-io/drain-in-coroutine", test_drain_in_coroutine);
    g_test_add_func("/block-io/block-status/mem", test_block_status_mem);
    g_test_add_func("/block-io/block-status/raw-mem",
                    test_block_status_raw_mem);
    g_test_add_func("/block-io/block-status/file", test_block_status_file);

    ret = g_test_run();
    {
        g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);

        if (system(cmd) != 0) {
            g_printerr("could not remove %s\n", tmpdir);
        }
    }
    g_free(tmpdir);
    return ret;
}
