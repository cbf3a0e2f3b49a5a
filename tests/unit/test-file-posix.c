/*
 * Tests of the file-posix protocol driver ("file", "host_device") and its
 * three I/O backends (thread pool, Linux AIO, io_uring), on real files in
 * a temporary directory.  The same conformance suite runs for every
 * backend, buffered and with O_DIRECT; then the backend-independent
 * tests: limits, options and their errors, the choice of backend,
 * truncate, block status, host_device, a kernel without the backends.
 *
 * Queue depth, batching, completion nesting and IOThreads are in
 * test-file-posix-queue.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <stddef.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <linux/filter.h>
#include <linux/fs.h>
#include <linux/seccomp.h>
#include "block/block_int.h"
#include "block/raw-aio.h"
#include "sysemu/block-backend.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "file-posix-helpers.h"

/* ---- helpers ---- */

static int64_t file_blocks(const char *path)
{
    struct stat st;

    g_assert_cmpint(stat(path, &st), ==, 0);
    return st.st_blocks;
}

/* lseek(SEEK_DATA) on a fresh descriptor; -1 for ENXIO. */
static int64_t seek_data(const char *path, int64_t offset, int whence)
{
    int fd = open(path, O_RDONLY);
    off_t r;

    g_assert_cmpint(fd, >=, 0);
    r = lseek(fd, offset, whence);
    if (r < 0) {
        g_assert_cmpint(errno, ==, ENXIO);
    }
    close(fd);
    return r;
}

static int do_iov(Node *n, int op, int64_t offset, QEMUIOVector *qiov)
{
    IoArgs a = {
        .n = n, .op = op, .offset = offset, .bytes = qiov->size,
        .qiov = qiov,
    };

    return run_io(&a);
}

static int block_status(Node *n, bool want_zero, int64_t offset,
                        int64_t bytes, int64_t *pnum)
{
    IoArgs a = {
        .n = n, .op = OP_DRV_STATUS, .offset = offset, .bytes = bytes,
        .want_zero = want_zero,
    };
    int ret = run_io(&a);

    if (ret >= 0) {
        g_assert_cmpint(a.map, ==, offset);
        g_assert_cmpint(a.pnum, >, 0);
        g_assert_cmpint(a.pnum, <=, bytes);
    }
    *pnum = a.pnum;
    return ret;
}

/*
 * Opening with these options must fail with the message fmt (and errno
 * want_errno, unless that is 0).
 */
static void G_GNUC_PRINTF(7, 8)
expect_open_error(const char *driver, const char *path, const char *aio,
                  int flags, const char *extra, int want_errno,
                  const char *fmt, ...)
{
    g_autofree char *want = NULL;
    Error *err = NULL;
    Node *n = node_open_full(driver, path, aio, flags, extra, &err);
    va_list ap;

    g_assert(!n);
    g_assert(err);
    va_start(ap, fmt);
    want = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_assert_cmpstr(error_get_pretty(err), ==, want);
    if (want_errno) {
        g_assert_cmpint(error_get_errno(err), ==, want_errno);
    }
    error_free(err);
}

/* ---- the conformance suite (one Mode per run) ---- */

static void test_rw(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(4 * MiB);
    Node *n = node_open(m, path, NULL);
    g_autofree uint8_t *direct = g_malloc(64 * KiB);
    int fd;

    write_pattern(n, 0, 1 * MiB, 1);
    write_pattern(n, 2 * MiB + 1536, 64 * KiB, 2);
    read_check(n, 0, 1 * MiB, 1);
    read_check(n, 2 * MiB + 1536, 64 * KiB, 2);
    read_check(n, 1 * MiB, 512 * KiB, 0);
    g_assert_cmpint(do_io(n, OP_FLUSH, 0, 0, NULL, 0), ==, 0);
    g_assert_cmpint(blk_getlength(n->blk), ==, 4 * MiB);

    /* The data reached the file itself. */
    fd = open(path, O_RDONLY);
    g_assert_cmpint(pread(fd, direct, 64 * KiB, 2 * MiB + 1536), ==,
                    64 * KiB);
    close(fd);
    check_pattern(direct, 2 * MiB + 1536, 64 * KiB, 2);
    node_close(n);
}

static void test_discard(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(2 * MiB);
    Node *n = node_open(m, path, NULL);
    int64_t pnum;

    write_pattern(n, 0, 1 * MiB, 3);
    g_assert_cmpint(do_io(n, OP_FLUSH, 0, 0, NULL, 0), ==, 0);
    g_assert_cmpint(do_io(n, OP_DISCARD, 256 * KiB, 512 * KiB, NULL, 0),
                    ==, 0);

    /* A hole where we discarded, data around it. */
    g_assert_cmpint(seek_data(path, 0, SEEK_HOLE), ==, 256 * KiB);
    g_assert_cmpint(seek_data(path, 256 * KiB, SEEK_DATA), ==, 768 * KiB);
    read_check(n, 0, 256 * KiB, 3);
    read_check(n, 256 * KiB, 512 * KiB, 0);
    read_check(n, 768 * KiB, 256 * KiB, 3);

    g_assert_cmpint(block_status(n, true, 0, 2 * MiB, &pnum), ==,
                    BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 256 * KiB);
    g_assert_cmpint(block_status(n, true, 256 * KiB, 2 * MiB - 256 * KiB,
                                 &pnum), ==,
                    BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 512 * KiB);
    node_close(n);
}

static void test_zeroes(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(1 * MiB);
    Node *n = node_open(m, path, NULL);
    int64_t blocks;
    RawInfo info;

    write_pattern(n, 0, 1 * MiB, 4);
    g_assert_cmpint(do_io(n, OP_FLUSH, 0, 0, NULL, 0), ==, 0);
    blocks = file_blocks(path);
    g_assert_cmpint(blocks, >=, 1 * MiB / 512);

    /* Without MAY_UNMAP: zeroes, and the space stays allocated. */
    g_assert_cmpint(do_io(n, OP_ZEROES, 128 * KiB, 128 * KiB, NULL, 0),
                    ==, 0);
    read_check(n, 0, 128 * KiB, 4);
    read_check(n, 128 * KiB, 128 * KiB, 0);
    read_check(n, 256 * KiB, 256 * KiB, 4);
    g_assert_cmpint(file_blocks(path), ==, blocks);

    /* With MAY_UNMAP: a hole. */
    g_assert_cmpint(do_io(n, OP_ZEROES, 512 * KiB, 256 * KiB, NULL,
                          BDRV_REQ_MAY_UNMAP), ==, 0);
    read_check(n, 512 * KiB, 256 * KiB, 0);
    read_check(n, 768 * KiB, 256 * KiB, 4);
    g_assert_cmpint(seek_data(path, 512 * KiB, SEEK_DATA), ==, 768 * KiB);
    g_assert_cmpint(file_blocks(path), ==, blocks - 256 * KiB / 512);

    /* NO_FALLBACK is fine too: fallocate is fast. */
    g_assert_cmpint(do_io(n, OP_ZEROES, 0, 64 * KiB, NULL,
                          BDRV_REQ_NO_FALLBACK), ==, 0);
    read_check(n, 0, 64 * KiB, 0);

    raw_get_info(n->bs, &info);
    g_assert(info.zero_range && info.punch_hole);
    node_close(n);
}

/* Many iovecs of uneven (or, with O_DIRECT, aligned) sizes. */
static void build_vector(QEMUIOVector *qiov, uint8_t *pool, int niov,
                         bool direct, unsigned salt)
{
    size_t pos = 0;

    qemu_iovec_init(qiov, niov);
    for (int i = 0; i < niov; i++) {
        size_t len = direct ? 512 * (1 + (i + salt) % 3)
                            : 1 + ((i + salt) * 73) % 700;
        qemu_iovec_add(qiov, pool + pos, len);
        /* Leave gaps so that no two elements are contiguous. */
        pos += QEMU_ALIGN_UP(len + 1, 4096);
    }
}

static void test_vectored(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(8 * MiB);
    Node *n = node_open(m, path, NULL);
    const int niov = IOV_MAX;
    uint8_t *wpool = abuf(niov * 8 * KiB);
    uint8_t *rpool = abuf(niov * 8 * KiB);
    QEMUIOVector wq, rq;
    size_t size;
    void *flat;
    int64_t offset = 1 * MiB;

    build_vector(&wq, wpool, niov, m->direct, 0);
    size = wq.size;
    flat = g_malloc(size);
    pattern(flat, offset, size, 5);
    qemu_iovec_from_buf(&wq, 0, flat, size);
    g_assert_cmpint(do_iov(n, OP_WRITE, offset, &wq), ==, 0);

    /* Read back with a differently split vector of the same size. */
    build_vector(&rq, rpool, niov + 64, m->direct, 1);
    while (rq.size > size) {
        size_t last = rq.iov[rq.niov - 1].iov_len;
        qemu_iovec_discard_back(&rq, MIN(last, rq.size - size));
    }
    g_assert_cmpint(rq.size, ==, size);
    g_assert_cmpint(rq.niov, <=, IOV_MAX);
    qemu_iovec_memset(&rq, 0, 0, size);
    g_assert_cmpint(do_iov(n, OP_READ, offset, &rq), ==, 0);
    memset(flat, 0, size);
    qemu_iovec_to_buf(&rq, 0, flat, size);
    check_pattern(flat, offset, size, 5);

    qemu_iovec_destroy(&wq);
    qemu_iovec_destroy(&rq);
    g_free(flat);
    qemu_vfree(wpool);
    qemu_vfree(rpool);
    node_close(n);
}

static void test_large(const void *opaque)
{
    const Mode *m = opaque;
    const int64_t len = 64 * MiB;
    g_autofree char *path = make_file(len + 1 * MiB);
    Node *n = node_open(m, path, NULL);
    uint8_t *buf = abuf(len);

    pattern(buf, 4096, len, 6);
    g_assert_cmpint(do_io(n, OP_WRITE, 4096, len, buf, 0), ==, 0);
    memset(buf, 0, len);
    g_assert_cmpint(do_io(n, OP_READ, 4096, len, buf, 0), ==, 0);
    check_pattern(buf, 4096, len, 6);
    qemu_vfree(buf);
    node_close(n);
}

/*
 * A read across the end of the file (as the core issues for an image whose
 * size is not a multiple of the O_DIRECT alignment) returns the data and
 * zeroes after it.
 */
static void eof_read_case(const Mode *m, int64_t file_size)
{
    g_autofree char *path = make_data_file(file_size, 7);
    const int64_t len = 16 * KiB;
    uint8_t *buf = abuf(len);
    Node *n = node_open(m, path, NULL);
    RawAioStats stats;

    memset(buf, 0xaa, len);
    g_assert_cmpint(do_io(n, OP_DRV_READ, 0, len, buf, 0), ==, 0);
    check_pattern(buf, 0, file_size, 7);
    check_zero(buf + file_size, len - file_size);

    /* Entirely past the end: all zeroes. */
    memset(buf, 0xaa, len);
    g_assert_cmpint(do_io(n, OP_DRV_READ, 32 * KiB, len, buf, 0), ==, 0);
    check_zero(buf, len);

    if (mode_stats(m, &stats)) {
        g_assert_cmpuint(stats.eof_fills, >=, 2);
        g_test_message("%s%s eof %" PRId64 ": resubmitted %" PRIu64
                       ", eof fills %" PRIu64, m->aio,
                       m->direct ? "/direct" : "", file_size,
                       stats.resubmitted, stats.eof_fills);
    }
    qemu_vfree(buf);
    node_close(n);
}

static void test_eof(const void *opaque)
{
    const Mode *m = opaque;

    eof_read_case(m, 17 * 512);     /* ends aligned */
    eof_read_case(m, 9000);         /* ends mid-sector */
}

/* With O_DIRECT, misaligned requests below the block layer fail. */
static void test_dio_alignment(const void *opaque)
{
    const Mode *m = opaque;
    /* Allocated: O_DIRECT reads of holes never check alignment. */
    g_autofree char *path = make_data_file(1 * MiB, 8);
    Node *n = node_open(m, path, NULL);
    uint8_t *buf = abuf(8 * KiB);

    g_assert_cmpint(n->bs->bl.request_alignment, ==, 512);
    g_assert_cmpint(n->bs->bl.min_mem_alignment, ==, 512);

    for (int op = OP_DRV_READ; op <= OP_DRV_WRITE; op++) {
        /* offset */
        g_assert_cmpint(do_io(n, op, 100, 4096, buf, 0), ==, -EINVAL);
        /* length */
        g_assert_cmpint(do_io(n, op, 0, 100, buf, 0), ==, -EINVAL);
        /* buffer */
        g_assert_cmpint(do_io(n, op, 0, 4096, buf + 1, 0), ==, -EINVAL);
        /* and an aligned one works */
        g_assert_cmpint(do_io(n, op, 4096, 4096, buf, 0), ==, 0);
    }

    /* Through the block layer the same requests are bounced: fine. */
    write_pattern(n, 100, 3000, 8);
    read_check(n, 100, 3000, 8);
    qemu_vfree(buf);
    node_close(n);
}

static void test_flush(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(1 * MiB);
    Node *n = node_open(m, path, NULL);
    RawInfo info;

    write_pattern(n, 0, 64 * KiB, 10);
    g_assert_cmpint(do_io(n, OP_FLUSH, 0, 0, NULL, 0), ==, 0);
    g_assert_cmpint(do_io(n, OP_FLUSH, 0, 0, NULL, 0), ==, 0);
    raw_get_info(n->bs, &info);
    g_test_message("%s%s: flush %s", m->aio, m->direct ? "/direct" : "",
                   info.async_flush ? "asynchronous (backend)"
                                    : "in the thread pool");
    if (mode_backend(m) != RAW_AIO_THREADS) {
        /* Both kernels' asynchronous fdatasync work on ext4 here. */
        g_assert(info.async_flush);
    }
    node_close(n);
}

/* ---- backend-independent tests ---- */

static void test_limits(void)
{
    g_autofree char *path = make_file(1 * MiB);
    Node *n = node_open(&modes[0], path, NULL);
    BlockLimits *bl = &n->bs->bl;

    g_assert_cmpint(bl->request_alignment, ==, 1);
    g_assert_cmpint(bl->max_transfer, ==, 0);
    g_assert_cmpint(bl->max_iov, ==, IOV_MAX);
    g_assert_cmpint(bl->logical_block_size, ==, 0);
    g_assert_cmpint(bl->physical_block_size, ==, 0);
    g_assert_cmpint(bl->opt_mem_alignment, >=, qemu_real_host_page_size());
    node_close(n);

    /* O_DIRECT on ext4: statx reports 512-byte alignment. */
    n = node_open(&modes[1], path, NULL);
    bl = &n->bs->bl;
    g_assert_cmpint(bl->request_alignment, ==, 512);
    g_assert_cmpint(bl->min_mem_alignment, ==, 512);
    g_assert_cmpint(bl->opt_mem_alignment, >=, qemu_real_host_page_size());
    node_close(n);
}

static void test_options(void)
{
    g_autofree char *path = make_file(1 * MiB);
    g_autofree char *missing = g_strdup_printf("%s/does-not-exist", tmpdir);

    expect_open_error(NULL, path, "foo", BDRV_O_RDWR, NULL, 0,
                      "Invalid value 'foo' for parameter 'aio': "
                      "expected 'threads', 'native', 'io_uring' or 'auto'");

    expect_open_error(NULL, path, "native", BDRV_O_RDWR, NULL, 0,
                      "aio=native was specified, but it requires "
                      "cache.direct=on, which was not specified.");
    /* The same when native comes from the open flags (qemu-io -i). */
    expect_open_error(NULL, path, NULL, BDRV_O_RDWR | BDRV_O_NATIVE_AIO,
                      NULL, 0, "aio=native was specified, but it requires "
                      "cache.direct=on, which was not specified.");

    expect_open_error(NULL, NULL, NULL, BDRV_O_RDWR, NULL, 0,
                      "The 'file' block driver requires a file name");

    expect_open_error(NULL, tmpdir, NULL, BDRV_O_RDWR, NULL, EISDIR,
                      "Could not open '%s': %s", tmpdir, strerror(EISDIR));

    expect_open_error(NULL, tmpdir, NULL, 0, NULL, 0,
                      "'file' driver requires '%s' to be a regular file",
                      tmpdir);

    expect_open_error(NULL, missing, NULL, BDRV_O_RDWR, NULL, ENOENT,
                      "Could not open '%s': %s", missing, strerror(ENOENT));

    expect_open_error(NULL, path, NULL, BDRV_O_RDWR, "aio-max-batch=many", 0,
                      "Parameter 'aio-max-batch' expects a non-negative "
                      "integer");

    expect_open_error(NULL, "/dev/null", NULL, BDRV_O_RDWR, NULL, 0,
                      "'file' driver requires '/dev/null' to be a regular "
                      "file");

    expect_open_error("host_device", "/dev/null", NULL,
                      BDRV_O_RDWR | BDRV_O_NOCACHE, NULL, 0,
                      "Could not open '/dev/null': filesystem does not "
                      "support O_DIRECT");

    expect_open_error("host_device", path, NULL, BDRV_O_RDWR, NULL, 0,
                      "'host_device' driver requires '%s' to be either a "
                      "character or block device", path);

    expect_open_error(NULL, path, NULL, BDRV_O_RDWR, "locking=off", 0,
                      "Block protocol 'file' doesn't support the option "
                      "'locking'");
}

/* Which backend the flags and aio=auto pick. */
static void test_backend_choice(void)
{
    g_autofree char *path = make_file(1 * MiB);
    bool uring = raw_aio_backend_built(RAW_AIO_IO_URING);
    bool native = raw_aio_backend_built(RAW_AIO_NATIVE);
    const struct {
        const char *aio;
        int flags;
        RawAioBackend want;
    } cases[] = {
        { NULL, 0, RAW_AIO_THREADS },
        { NULL, BDRV_O_NOCACHE, RAW_AIO_THREADS },
        { NULL, BDRV_O_IO_URING, RAW_AIO_IO_URING },
        { NULL, BDRV_O_NATIVE_AIO | BDRV_O_NOCACHE, RAW_AIO_NATIVE },
        /* an explicit option beats the flags */
        { "threads", BDRV_O_IO_URING, RAW_AIO_THREADS },
        /* io_uring works on this kernel, so auto takes it if built */
        { "auto", 0, uring ? RAW_AIO_IO_URING : RAW_AIO_THREADS },
        { "auto", BDRV_O_NOCACHE,
          uring ? RAW_AIO_IO_URING : native ? RAW_AIO_NATIVE
                                            : RAW_AIO_THREADS },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        Node *n;
        RawInfo info;

        if (!raw_aio_backend_built(cases[i].want)) {
            continue;
        }
        n = node_open_full(NULL, path, cases[i].aio,
                           BDRV_O_RDWR | cases[i].flags, NULL, &error_abort);

        raw_get_info(n->bs, &info);
        g_assert_cmpint(info.aio, ==, cases[i].want);
        write_pattern(n, 0, 4096, 11);
        read_check(n, 0, 4096, 11);
        node_close(n);
    }
}

static void test_truncate(void)
{
    g_autofree char *path = make_file(1 * MiB);
    Node *n = node_open(&modes[0], path, NULL);
    Error *err = NULL;
    struct stat st;

    write_pattern(n, 0, 1 * MiB, 12);
    g_assert_cmpint(blk_truncate(n->blk, 2 * MiB, true, PREALLOC_MODE_OFF,
                                 0, &error_abort), ==, 0);
    g_assert_cmpint(blk_getlength(n->blk), ==, 2 * MiB);
    read_check(n, 1 * MiB, 1 * MiB, 0);
    read_check(n, 0, 1 * MiB, 12);

    g_assert_cmpint(blk_truncate(n->blk, 512 * KiB, true, PREALLOC_MODE_OFF,
                                 0, &error_abort), ==, 0);
    g_assert_cmpint(blk_getlength(n->blk), ==, 512 * KiB);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 512 * KiB);

    /* Full preallocation allocates the new area. */
    g_assert_cmpint(blk_truncate(n->blk, 4 * MiB + 1000, true,
                                 PREALLOC_MODE_FULL, 0, &error_abort), ==, 0);
    /* The block layer counts whole sectors, as QEMU does. */
    g_assert_cmpint(blk_getlength(n->blk), ==, 4 * MiB + 1024);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 4 * MiB + 1000);
    g_assert_cmpint(file_blocks(path), >=, 4 * MiB / 512);
    g_assert_cmpint(bdrv_get_allocated_file_size(n->bs), ==,
                    file_blocks(path) * 512);
    read_check(n, 512 * KiB, 3 * MiB, 0);
    read_check(n, 0, 512 * KiB, 12);
    node_close(n);

    /* The same with O_DIRECT and an unaligned old size. */
    n = node_open(&modes[1], path, NULL);
    g_assert_cmpint(blk_truncate(n->blk, 6 * MiB + 512, true,
                                 PREALLOC_MODE_FULL, 0, &error_abort), ==, 0);
    g_assert_cmpint(stat(path, &st), ==, 0);
    g_assert_cmpint(st.st_size, ==, 6 * MiB + 512);
    g_assert_cmpint(file_blocks(path), >=, 6 * MiB / 512);
    node_close(n);

    /* Read-only: the core or the kernel refuses. */
    n = node_open_full(NULL, path, NULL, 0, NULL, &error_abort);
    g_assert_cmpint(blk_truncate(n->blk, 1 * MiB, true, PREALLOC_MODE_OFF,
                                 0, &err), <, 0);
    g_assert(err);
    error_free(err);
    node_close(n);
}

static void test_block_status(void)
{
    g_autofree char *path = make_file(2 * MiB);
    Node *n = node_open(&modes[0], path, NULL);
    int64_t pnum;

    write_pattern(n, 0, 64 * KiB, 13);
    write_pattern(n, 1 * MiB, 4 * KiB, 13);
    g_assert_cmpint(do_io(n, OP_FLUSH, 0, 0, NULL, 0), ==, 0);

    g_assert_cmpint(block_status(n, true, 0, 2 * MiB, &pnum), ==,
                    BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 64 * KiB);
    g_assert_cmpint(block_status(n, true, 64 * KiB, 2 * MiB - 64 * KiB,
                                 &pnum), ==,
                    BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 1 * MiB - 64 * KiB);
    g_assert_cmpint(block_status(n, true, 1 * MiB, 1 * MiB, &pnum), ==,
                    BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 4 * KiB);
    /* The hole at the end (SEEK_DATA says ENXIO). */
    g_assert_cmpint(block_status(n, true, 1 * MiB + 4 * KiB,
                                 1 * MiB - 4 * KiB, &pnum), ==,
                    BDRV_BLOCK_ZERO | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 1 * MiB - 4 * KiB);
    /* want_zero=false: one big run of data. */
    g_assert_cmpint(block_status(n, false, 64 * KiB, 1 * MiB, &pnum), ==,
                    BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID);
    g_assert_cmpint(pnum, ==, 1 * MiB);
    g_assert_cmpint(bdrv_get_allocated_file_size(n->bs), ==,
                    file_blocks(path) * 512);
    node_close(n);
}

/* A character device through host_device (no block device needed). */
static void test_host_device_chr(void)
{
    Node *n = node_open_full("host_device", "/dev/null", NULL, BDRV_O_RDWR,
                             NULL, &error_abort);
    Error *err = NULL;
    int64_t pnum;

    g_assert_cmpint(blk_getlength(n->blk), ==, 0);
    g_assert_cmpint(bdrv_get_allocated_file_size(n->bs), ==, 0);
    g_assert_cmpint(block_status(n, true, 0, 4096, &pnum), ==,
                    BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID);
    /* Devices keep their size: only a no-op truncate succeeds. */
    g_assert_cmpint(blk_truncate(n->blk, 0, true, PREALLOC_MODE_OFF, 0,
                                 &error_abort), ==, 0);
    g_assert_cmpint(blk_truncate(n->blk, 1 * MiB, true, PREALLOC_MODE_OFF,
                                 0, &err), <, 0);
    g_assert(err);
    error_free(err);
    node_close(n);
}

/*
 * A kernel without io_uring and Linux AIO, emulated with seccomp in a
 * subprocess: explicit backends fail naming themselves, auto falls back.
 */
static void deny_async_syscalls(void)
{
    struct sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_uring_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_io_setup, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {
        .len = ARRAY_SIZE(filter),
        .filter = filter,
    };

    g_assert_cmpint(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), ==, 0);
    g_assert_cmpint(prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog), ==, 0);
}

static void test_no_kernel_support(void)
{
    g_autofree char *path = NULL;
    Node *n;
    RawInfo info;

    if (!g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_test_trap_assert_passed();
        return;
    }

    deny_async_syscalls();
    path = make_file(1 * MiB);

    expect_open_error(NULL, path, "io_uring", BDRV_O_RDWR, NULL, 0,
                      raw_aio_backend_built(RAW_AIO_IO_URING)
                      ? "io_uring (aio=io_uring) is not available: "
                        "io_uring_queue_init(128) failed: Function not "
                        "implemented"
                      : "aio=io_uring is not supported: this build has no "
                        "io_uring (liburing) support");
    expect_open_error(NULL, path, NULL, BDRV_O_RDWR | BDRV_O_NOCACHE |
                      BDRV_O_NATIVE_AIO, NULL, 0,
                      raw_aio_backend_built(RAW_AIO_NATIVE)
                      ? "Linux AIO (aio=native) is not available: "
                        "io_setup(512) failed: Function not implemented"
                      : "aio=native is not supported: this build has no "
                        "Linux AIO (libaio) support");

    n = node_open_full(NULL, path, "auto", BDRV_O_RDWR | BDRV_O_NOCACHE,
                       NULL, &error_abort);
    raw_get_info(n->bs, &info);
    g_assert_cmpint(info.aio, ==, RAW_AIO_THREADS);
    write_pattern(n, 0, 64 * KiB, 16);
    read_check(n, 0, 64 * KiB, 16);
    node_close(n);
}

/*
 * A real block device, only when asked for:
 *   FILE_POSIX_TEST_BLKDEV=/dev/xxx      read-only checks
 *   FILE_POSIX_TEST_BLKDEV_RW=1          also writes (scratch device!)
 */
static void test_host_device_blk(void)
{
    const char *dev = g_getenv("FILE_POSIX_TEST_BLKDEV");
    bool rw = g_getenv("FILE_POSIX_TEST_BLKDEV_RW") != NULL;
    uint64_t size;
    int lbs, fd;
    unsigned int pbs;
    Node *n;
    Error *err = NULL;
    int64_t pnum;

    if (!dev) {
        g_test_skip("set FILE_POSIX_TEST_BLKDEV=/dev/... to test a block "
                    "device");
        return;
    }
    fd = open(dev, O_RDONLY);
    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ioctl(fd, BLKGETSIZE64, &size), ==, 0);
    g_assert_cmpint(ioctl(fd, BLKSSZGET, &lbs), ==, 0);
    g_assert_cmpint(ioctl(fd, BLKPBSZGET, &pbs), ==, 0);
    close(fd);

    expect_open_error(NULL, dev, NULL, 0, NULL, 0,
                      "'file' driver requires '%s' to be a regular file", dev);

    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        const Mode *m = &modes[i];
        int flags = (rw ? BDRV_O_RDWR : 0) | (m->direct ? BDRV_O_NOCACHE : 0);

        n = node_open_full("host_device", dev, m->aio, flags, NULL,
                           &error_abort);
        g_assert_cmpint(bdrv_getlength(n->bs), ==, size);
        g_assert_cmpint(n->bs->bl.logical_block_size, ==, lbs);
        g_assert_cmpint(n->bs->bl.physical_block_size, ==, pbs);
        g_assert_cmpint(n->bs->bl.request_alignment, ==, m->direct ? lbs : 1);
        g_test_message("%s %s%s: align %u, mem align %zu, max transfer %"
                       PRIu64 ", discard granularity %u", dev, m->aio,
                       m->direct ? "/direct" : "",
                       n->bs->bl.request_alignment,
                       n->bs->bl.min_mem_alignment, n->bs->bl.max_transfer,
                       n->bs->bl.pdiscard_alignment);
        g_assert_cmpint(block_status(n, true, 0, 1 * MiB, &pnum), ==,
                        BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID);
        g_assert_cmpint(pnum, ==, 1 * MiB);
        if (rw) {
            int ret;

            g_assert_cmpint(blk_truncate(n->blk, size, true,
                                         PREALLOC_MODE_OFF, 0,
                                         &error_abort), ==, 0);
            g_assert_cmpint(blk_truncate(n->blk, size + 512, true,
                                         PREALLOC_MODE_OFF, 0, &err), <, 0);
            error_free_or_abort(&err);
            g_assert_cmpint(blk_truncate(n->blk, size - 512, true,
                                         PREALLOC_MODE_OFF, 0, &err), <, 0);
            error_free_or_abort(&err);

            write_pattern(n, 0, 1 * MiB, 17);
            read_check(n, 0, 1 * MiB, 17);
            g_assert_cmpint(do_io(n, OP_ZEROES, 0, 64 * KiB, NULL,
                                  BDRV_REQ_MAY_UNMAP), ==, 0);
            read_check(n, 0, 64 * KiB, 0);
            g_assert_cmpint(do_io(n, OP_ZEROES, 64 * KiB, 64 * KiB, NULL, 0),
                            ==, 0);
            read_check(n, 64 * KiB, 64 * KiB, 0);
            ret = do_io(n, OP_ZEROES, 128 * KiB, 64 * KiB, NULL,
                        BDRV_REQ_NO_FALLBACK);
            g_assert(ret == 0 || ret == -ENOTSUP);
            g_assert_cmpint(do_io(n, OP_DISCARD, 512 * KiB, 64 * KiB, NULL,
                                  0), ==, 0);
            read_check(n, 192 * KiB, 256 * KiB, 17);
            g_assert_cmpint(do_io(n, OP_FLUSH, 0, 0, NULL, 0), ==, 0);
        }
        node_close(n);
    }
}

int main(int argc, char **argv)
{
    static const ModeTest conformance[] = {
        { "rw", test_rw },
        { "discard", test_discard },
        { "zeroes", test_zeroes },
        { "vectored", test_vectored },
        { "large", test_large },
        { "eof", test_eof },
        { "flush", test_flush },
        { "alignment", test_dio_alignment, .direct_only = true },
    };
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    tmpdir = g_dir_make_tmp("test-file-posix-XXXXXX", NULL);
    g_assert(tmpdir);

    add_mode_tests(conformance, ARRAY_SIZE(conformance));
    g_test_add_func("/file-posix/limits", test_limits);
    g_test_add_func("/file-posix/options", test_options);
    g_test_add_func("/file-posix/backend-choice", test_backend_choice);
    g_test_add_func("/file-posix/truncate", test_truncate);
    g_test_add_func("/file-posix/block-status", test_block_status);
    g_test_add_func("/file-posix/host-device-chr", test_host_device_chr);
    g_test_add_func("/file-posix/no-kernel-support", test_no_kernel_support);
    g_test_add_func("/file-posix/host-device-blk", test_host_device_blk);

    ret = g_test_run();
    rmdir_recursive(tmpdir);
    return ret;
}
