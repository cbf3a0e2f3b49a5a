/*
 * Tests of the file-posix protocol driver ("file", "host_device") and its
 * three I/O backends (thread pool, Linux AIO, io_uring), on real files in
 * a temporary directory.  The same conformance suite runs for every
 * backend, buffered and with O_DIRECT.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <pthread.h>
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
#include "qemu/iothread.h"
#include "qemu/main-loop.h"
#include "qemu/keyval.h"
#include "qapi/error.h"

#define KiB 1024LL
#define MiB (1024 * KiB)

static char *tmpdir;
static int file_seq;

/* ---- test modes ---- */

typedef struct Mode {
    const char *aio;
    bool direct;
} Mode;

static const Mode modes[] = {
    { "threads", false },
    { "threads", true },
    { "native", true },
    { "io_uring", false },
    { "io_uring", true },
};

static RawAioBackend mode_backend(const Mode *m)
{
    if (strcmp(m->aio, "native") == 0) {
        return RAW_AIO_NATIVE;
    }
    if (strcmp(m->aio, "io_uring") == 0) {
        return RAW_AIO_IO_URING;
    }
    return RAW_AIO_THREADS;
}

static bool backend_built(RawAioBackend b)
{
    switch (b) {
    case RAW_AIO_NATIVE:
#ifdef CONFIG_LINUX_AIO
        return true;
#else
        return false;
#endif
    case RAW_AIO_IO_URING:
#ifdef CONFIG_LINUX_IO_URING
        return true;
#else
        return false;
#endif
    default:
        return true;
    }
}

static bool mode_stats(const Mode *m, RawAioStats *stats)
{
    AioContext *ctx = qemu_get_aio_context();

    switch (mode_backend(m)) {
    case RAW_AIO_NATIVE:
        return laio_get_stats(ctx, stats);
    case RAW_AIO_IO_URING:
        return luring_get_stats(ctx, stats);
    default:
        return false;
    }
}

/* ---- files ---- */

static char *new_path(void)
{
    return g_strdup_printf("%s/img%d", tmpdir, file_seq++);
}

static char *make_file(int64_t size)
{
    char *path = new_path();
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

static void pattern(void *buf, int64_t offset, size_t len, unsigned seed)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        uint64_t x = (offset + i) / 7 * 2654435761u + seed;
        p[i] = (uint8_t)(x ^ (x >> 13)) | 1;    /* never zero */
    }
}

static void check_pattern(const void *buf, int64_t offset, size_t len,
                          unsigned seed)
{
    g_autofree uint8_t *want = g_malloc(len);

    pattern(want, offset, len, seed);
    for (size_t i = 0; i < len; i++) {
        if (((const uint8_t *)buf)[i] != want[i]) {
            g_error("byte %zu (offset %" PRId64 "): got 0x%02x, want 0x%02x",
                    i, offset + (int64_t)i, ((const uint8_t *)buf)[i],
                    want[i]);
        }
    }
}

static void check_zero(const void *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (((const uint8_t *)buf)[i]) {
            g_error("byte %zu not zero (0x%02x)", i,
                    ((const uint8_t *)buf)[i]);
        }
    }
}

/* A file filled with pattern(seed), written without the block layer. */
static char *make_data_file(int64_t size, unsigned seed)
{
    char *path = new_path();
    g_autofree uint8_t *buf = g_malloc(size);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

    g_assert_cmpint(fd, >=, 0);
    pattern(buf, 0, size, seed);
    g_assert_cmpint(pwrite(fd, buf, size, 0), ==, size);
    close(fd);
    return path;
}

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

/* ---- nodes ---- */

typedef struct Node {
    BlockBackend *blk;
    BlockDriverState *bs;
    const Mode *mode;
    char *path;
} Node;

/*
 * Open path as a "file" node (or driver, if set) through the block layer.
 * extra: more options, keyval syntax.
 */
static Node *node_open_full(const char *driver, const char *path,
                            const char *aio, int flags, const char *extra,
                            Error **errp)
{
    QDict *opts = extra ? keyval_parse(extra, NULL, &error_abort)
                        : qdict_new();
    BlockBackend *blk;
    Node *n;

    qdict_put_str(opts, "driver", driver ? driver : "file");
    if (path) {
        qdict_put_str(opts, "filename", path);
    }
    if (aio) {
        qdict_put_str(opts, "aio", aio);
    }
    blk = blk_new_open(NULL, opts, flags, errp);
    if (!blk) {
        return NULL;
    }
    n = g_new0(Node, 1);
    n->blk = blk;
    n->bs = blk_bs(blk);
    n->path = g_strdup(path);
    return n;
}

static Node *node_open(const Mode *m, const char *path, const char *extra)
{
    Node *n = node_open_full(NULL, path, m->aio,
                             BDRV_O_RDWR | (m->direct ? BDRV_O_NOCACHE : 0),
                             extra, &error_abort);
    RawInfo info;

    n->mode = m;
    raw_get_info(n->bs, &info);
    g_assert_cmpint(info.aio, ==, mode_backend(m));
    g_assert(info.direct == m->direct);
    return n;
}

static void node_close(Node *n)
{
    blk_unref(n->blk);
    g_free(n->path);
    g_free(n);
}

/* ---- requests in coroutines ---- */

enum {
    OP_READ, OP_WRITE, OP_ZEROES, OP_DISCARD, OP_FLUSH,
    /* straight to the driver, below the block layer's checks */
    OP_DRV_READ, OP_DRV_WRITE, OP_DRV_STATUS,
};

typedef struct IoArgs {
    Node *n;
    int op;
    int64_t offset;
    int64_t bytes;
    QEMUIOVector *qiov;
    int flags;
    bool want_zero;
    int64_t pnum;
    int64_t map;
    int ret;
    bool done;
} IoArgs;

static void coroutine_fn io_entry(void *opaque)
{
    IoArgs *a = opaque;
    BlockDriverState *bs = a->n->bs;
    BlockBackend *blk = a->n->blk;
    BlockDriverState *file = NULL;

    switch (a->op) {
    case OP_READ:
        a->ret = blk_co_preadv(blk, a->offset, a->bytes, a->qiov, a->flags);
        break;
    case OP_WRITE:
        a->ret = blk_co_pwritev(blk, a->offset, a->bytes, a->qiov, a->flags);
        break;
    case OP_ZEROES:
        a->ret = blk_co_pwrite_zeroes(blk, a->offset, a->bytes, a->flags);
        break;
    case OP_DISCARD:
        a->ret = blk_co_pdiscard(blk, a->offset, a->bytes);
        break;
    case OP_FLUSH:
        a->ret = blk_co_flush(blk);
        break;
    case OP_DRV_READ:
        a->ret = bs->drv->bdrv_co_preadv(bs, a->offset, a->bytes, a->qiov, 0);
        break;
    case OP_DRV_WRITE:
        a->ret = bs->drv->bdrv_co_pwritev(bs, a->offset, a->bytes, a->qiov,
                                          0);
        break;
    case OP_DRV_STATUS:
        a->ret = bs->drv->bdrv_co_block_status(bs, a->want_zero, a->offset,
                                               a->bytes, &a->pnum, &a->map,
                                               &file);
        if (a->ret >= 0) {
            g_assert(file == bs);
        }
        break;
    }
    a->done = true;
}

static int run_io(IoArgs *a)
{
    Coroutine *co = qemu_coroutine_create(io_entry, a);

    a->done = false;
    qemu_coroutine_enter(co);
    AIO_WAIT_WHILE(qemu_get_aio_context(), !a->done);
    return a->ret;
}

static int do_io(Node *n, int op, int64_t offset, int64_t bytes, void *buf,
                 int flags)
{
    QEMUIOVector qiov;
    IoArgs a = {
        .n = n, .op = op, .offset = offset, .bytes = bytes, .flags = flags,
    };

    if (buf) {
        qemu_iovec_init_buf(&qiov, buf, bytes);
        a.qiov = &qiov;
    }
    return run_io(&a);
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

/* Buffers aligned for O_DIRECT. */
static void *abuf(size_t len)
{
    return qemu_memalign(4096, MAX(len, 1));
}

static void write_pattern(Node *n, int64_t offset, int64_t len,
                          unsigned seed)
{
    void *buf = abuf(len);

    pattern(buf, offset, len, seed);
    g_assert_cmpint(do_io(n, OP_WRITE, offset, len, buf, 0), ==, 0);
    qemu_vfree(buf);
}

static void read_check(Node *n, int64_t offset, int64_t len, unsigned seed)
{
    void *buf = abuf(len);

    memset(buf, 0, len);
    g_assert_cmpint(do_io(n, OP_READ, offset, len, buf, 0), ==, 0);
    if (seed) {
        check_pattern(buf, offset, len, seed);
    } else {
        check_zero(buf, len);
    }
    qemu_vfree(buf);
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
    g_autofree char *path = make_file(0);
    const int64_t len = 16 * KiB;
    uint8_t *buf = abuf(len);
    Node *n;
    int fd;
    RawAioStats stats;

    pattern(buf, 0, file_size, 7);
    fd = open(path, O_WRONLY);
    g_assert_cmpint(pwrite(fd, buf, file_size, 0), ==, file_size);
    close(fd);

    n = node_open(m, path, NULL);
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

/* ---- queue depth 1 chain: bounded stack ---- */

typedef struct Chain {
    Node *n;
    QEMUIOVector qiov;
    void *buf;
    int remaining;
    int completed;
    int errors;
    int nesting;
    int max_nesting;
    /* address range of a local in callbacks that ran on the main stack */
    uintptr_t main_lo, main_hi;
    uintptr_t stack_lo, stack_hi;   /* main thread stack */
    int on_main_stack;
    bool done;
} Chain;

static void chain_submit(Chain *c);

static void chain_cb(void *opaque, int ret)
{
    Chain *c = opaque;
    char local;
    uintptr_t here = (uintptr_t)&local;

    c->nesting++;
    c->max_nesting = MAX(c->max_nesting, c->nesting);
    g_assert_cmpint(c->nesting, ==, 1);
    if (here >= c->stack_lo && here < c->stack_hi) {
        c->on_main_stack++;
        c->main_lo = MIN(c->main_lo, here);
        c->main_hi = MAX(c->main_hi, here);
    }
    if (ret < 0) {
        c->errors++;
    }
    c->completed++;
    if (--c->remaining > 0) {
        chain_submit(c);
    } else {
        c->done = true;
    }
    c->nesting--;
}

static void chain_submit(Chain *c)
{
    int64_t offset = (c->completed % 256) * 4096;

    blk_aio_preadv(c->n->blk, offset, &c->qiov, 0, chain_cb, c);
}

static void test_chain(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(1 * MiB);
    Node *n = node_open(m, path, NULL);
    /* O_DIRECT misses the page cache: a shorter chain is enough. */
    const int count = m->direct ? 5000 : 100000;
    Chain c = {
        .n = n,
        .remaining = count,
        .main_lo = UINTPTR_MAX,
    };
    pthread_attr_t attr;
    void *stack;
    size_t stack_size;
    int64_t t0;
    RawAioStats stats;

    g_assert_cmpint(pthread_getattr_np(pthread_self(), &attr), ==, 0);
    g_assert_cmpint(pthread_attr_getstack(&attr, &stack, &stack_size), ==, 0);
    pthread_attr_destroy(&attr);
    c.stack_lo = (uintptr_t)stack;
    c.stack_hi = (uintptr_t)stack + stack_size;

    /* Page-cache hits: buffered requests complete at once. */
    write_pattern(n, 0, 1 * MiB, 9);
    c.buf = abuf(4096);
    qemu_iovec_init_buf(&c.qiov, c.buf, 4096);

    t0 = get_clock_ns();
    chain_submit(&c);
    AIO_WAIT_WHILE(qemu_get_aio_context(), !c.done);
    g_test_message("%s%s: %d chained reads in %.2f s; %d callbacks on the "
                   "main stack, spread %" PRIuPTR " bytes", m->aio,
                   m->direct ? "/direct" : "", count,
                   (get_clock_ns() - t0) / 1e9, c.on_main_stack,
                   c.on_main_stack ? c.main_hi - c.main_lo : 0);

    g_assert_cmpint(c.completed, ==, count);
    g_assert_cmpint(c.errors, ==, 0);
    /* No completion ran inside another one's submission. */
    g_assert_cmpint(c.max_nesting, ==, 1);
    if (c.main_lo <= c.main_hi) {
        g_assert_cmpuint(c.main_hi - c.main_lo, <, 8 * KiB);
    }
    if (mode_stats(m, &stats)) {
        g_assert_cmpuint(stats.requests, >=, count);
    }
    check_pattern(c.buf, (count - 1) % 256 * 4096, 4096, 9);
    qemu_vfree(c.buf);
    node_close(n);
}

/*
 * The same chain straight on a backend, with a buffered descriptor: Linux
 * AIO completes buffered reads inside io_submit() and io_uring completes
 * page-cache hits inside io_uring_submit(), the worst case for recursion.
 * (file-posix itself refuses aio=native without O_DIRECT, as QEMU does.)
 */
typedef struct BackendChain {
    LinuxAioState *laio;
    LuringState *luring;
    RawAioRequest req;
    QEMUIOVector qiov;
    int remaining;
    int completed;
    int errors;
    int nesting;
    int max_nesting;
    bool done;
} BackendChain;

static void backend_chain_submit(BackendChain *c);

static void backend_chain_cb(BackendChain *c, int ret)
{
    c->nesting++;
    c->max_nesting = MAX(c->max_nesting, c->nesting);
    /* Fail at once rather than run out of coroutine stacks. */
    g_assert_cmpint(c->nesting, ==, 1);
    if (ret < 0) {
        c->errors++;
    }
    c->completed++;
    if (--c->remaining > 0) {
        backend_chain_submit(c);
    } else {
        c->done = true;
    }
    c->nesting--;
}

static void coroutine_fn backend_chain_co(void *opaque)
{
    BackendChain *c = opaque;
    int ret;

    if (c->laio) {
        ret = laio_co_submit(c->laio, &c->req);
    } else {
        ret = luring_co_submit(c->luring, &c->req);
    }
    backend_chain_cb(c, ret);
}

/* Callback style, as qemu-img bench drives a BlockBackend. */
static void backend_chain_submit(BackendChain *c)
{
    c->req.offset = (c->completed % 256) * 4096;
    qemu_coroutine_enter(qemu_coroutine_create(backend_chain_co, c));
}

static void test_backend_chain(const void *opaque)
{
    RawAioBackend which = GPOINTER_TO_INT(opaque);
    g_autofree char *path = make_data_file(1 * MiB, 14);
    AioContext *ctx = qemu_get_aio_context();
    const int count = 100000;
    BackendChain c = { .remaining = count };
    uint8_t *buf = abuf(4096);
    RawAioStats stats;
    int fd = open(path, O_RDWR);
    int64_t t0;

    g_assert_cmpint(fd, >=, 0);
#ifdef CONFIG_LINUX_AIO
    if (which == RAW_AIO_NATIVE) {
        c.laio = laio_attach(ctx, &error_abort);
    }
#endif
#ifdef CONFIG_LINUX_IO_URING
    if (which == RAW_AIO_IO_URING) {
        c.luring = luring_attach(ctx, &error_abort);
    }
#endif
    g_assert(c.laio || c.luring);
    qemu_iovec_init_buf(&c.qiov, buf, 4096);
    c.req = (RawAioRequest) {
        .fd = fd, .op = RAW_AIO_READ, .qiov = &c.qiov, .align = 1,
    };

    t0 = get_clock_ns();
    backend_chain_submit(&c);
    AIO_WAIT_WHILE(ctx, !c.done);
    g_test_message("%s buffered: %d chained reads in %.2f s",
                   which == RAW_AIO_NATIVE ? "native" : "io_uring", count,
                   (get_clock_ns() - t0) / 1e9);
    g_assert_cmpint(c.completed, ==, count);
    g_assert_cmpint(c.errors, ==, 0);
    g_assert_cmpint(c.max_nesting, ==, 1);
    check_pattern(buf, (count - 1) % 256 * 4096, 4096, 14);

    if (c.laio) {
        g_assert(laio_get_stats(ctx, &stats));
        laio_detach(c.laio);
    } else {
        g_assert(luring_get_stats(ctx, &stats));
        luring_detach(c.luring);
    }
    g_assert_cmpuint(stats.requests, ==, count);
    g_assert_cmpuint(stats.submitted, ==, count);
    qemu_vfree(buf);
    close(fd);
}

/* ---- queue depth 64 ---- */

typedef struct Worker {
    Node *n;
    int idx;
    int depth;
    int iterations;
    int *running;
    int failures;
} Worker;

#define QD 64

static void coroutine_fn qd_worker(void *opaque)
{
    Worker *w = opaque;
    const int64_t slot = 16 * KiB;
    uint8_t *buf = abuf(slot);
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, buf, slot);
    for (int i = 0; i < w->iterations; i++) {
        /* Each worker owns the slots idx, idx + depth, idx + 2 * depth... */
        int64_t offset = (w->idx + (i % 4) * w->depth) * slot;
        unsigned seed = w->idx * 1000 + i + 1;

        pattern(buf, offset, slot, seed);
        if (blk_co_pwritev(w->n->blk, offset, slot, &qiov, 0) < 0) {
            w->failures++;
        }
        memset(buf, 0, slot);
        if (blk_co_preadv(w->n->blk, offset, slot, &qiov, 0) < 0) {
            w->failures++;
        }
        check_pattern(buf, offset, slot, seed);
    }
    qemu_vfree(buf);
    (*w->running)--;
}

static void run_qd(Node *n, int depth, int iterations)
{
    g_autofree Worker *w = g_new(Worker, depth);
    int running = depth;

    for (int i = 0; i < depth; i++) {
        w[i] = (Worker) {
            .n = n, .idx = i, .depth = depth, .iterations = iterations,
            .running = &running,
        };
    }
    for (int i = 0; i < depth; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(qd_worker, &w[i]));
    }
    AIO_WAIT_WHILE(qemu_get_aio_context(), running > 0);
    for (int i = 0; i < depth; i++) {
        g_assert_cmpint(w[i].failures, ==, 0);
    }
}

/*
 * More requests than the kernel context holds (512 iocbs, a CQ of 256):
 * the rest wait in the backend's queue.
 */
static void test_deep_queue(const void *opaque)
{
    const Mode *m = opaque;
    const int depth = 1000;
    g_autofree char *path = make_file(depth * 4 * 16 * KiB);
    Node *n = node_open(m, path, "aio-max-batch=100000");
    RawAioStats stats;

    run_qd(n, depth, 2);
    if (mode_stats(m, &stats)) {
        g_test_message("%s%s qd%d: max in flight %" PRIu64 ", max batch %"
                       PRIu64 ", deferred %" PRIu64, m->aio,
                       m->direct ? "/direct" : "", depth,
                       stats.max_in_flight, stats.max_batch, stats.eagain);
        g_assert_cmpuint(stats.max_in_flight, <=,
                         mode_backend(m) == RAW_AIO_NATIVE ? 512 : 256);
        g_assert_cmpuint(stats.cq_overflows, ==, 0);
    }
    node_close(n);
}

static void test_qd64(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(QD * 4 * 16 * KiB);
    Node *n = node_open(m, path, NULL);
    RawAioStats stats;

    run_qd(n, QD, 50);
    if (mode_stats(m, &stats)) {
        g_test_message("%s%s qd64: %" PRIu64 " requests, %" PRIu64
                       " submit calls, max batch %" PRIu64
                       ", max in flight %" PRIu64, m->aio,
                       m->direct ? "/direct" : "", stats.requests,
                       stats.submit_calls, stats.max_batch,
                       stats.max_in_flight);
        /* Requests queued in one iteration went to the kernel together. */
        g_assert_cmpuint(stats.max_batch, >, 1);
        g_assert_cmpuint(stats.max_batch, <=, RAW_AIO_DEFAULT_MAX_BATCH);
        g_assert_cmpuint(stats.submit_calls, <, stats.submitted);
    }
    node_close(n);

    /* aio-max-batch=1: every request goes alone. */
    n = node_open(m, path, "aio-max-batch=1");
    run_qd(n, QD, 4);
    if (mode_stats(m, &stats)) {
        g_assert_cmpuint(stats.max_batch, ==, 1);
        g_assert_cmpuint(stats.max_in_flight, >, 1);
    }
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

/* Open with the given options; return the error message (g_free it). */
static char *open_error(const char *driver, const char *path,
                        const char *aio, int flags, const char *extra,
                        int *err_no)
{
    Error *err = NULL;
    Node *n = node_open_full(driver, path, aio, flags, extra, &err);
    char *msg;

    g_assert(!n);
    g_assert(err);
    msg = g_strdup(error_get_pretty(err));
    if (err_no) {
        *err_no = error_get_errno(err);
    }
    error_free(err);
    return msg;
}

static void test_options(void)
{
    g_autofree char *path = make_file(1 * MiB);
    g_autofree char *missing = g_strdup_printf("%s/does-not-exist", tmpdir);
    char *msg, *want;
    int err_no = 0;

    msg = open_error(NULL, path, "foo", BDRV_O_RDWR, NULL, NULL);
    g_assert_cmpstr(msg, ==, "Invalid value 'foo' for parameter 'aio': "
                    "expected 'threads', 'native', 'io_uring' or 'auto'");
    g_free(msg);

    msg = open_error(NULL, path, "native", BDRV_O_RDWR, NULL, NULL);
    g_assert_cmpstr(msg, ==, "aio=native was specified, but it requires "
                    "cache.direct=on, which was not specified.");
    g_free(msg);
    /* The same when native comes from the open flags (qemu-io -i). */
    msg = open_error(NULL, path, NULL, BDRV_O_RDWR | BDRV_O_NATIVE_AIO,
                     NULL, NULL);
    g_assert_cmpstr(msg, ==, "aio=native was specified, but it requires "
                    "cache.direct=on, which was not specified.");
    g_free(msg);

    msg = open_error(NULL, NULL, NULL, BDRV_O_RDWR, NULL, NULL);
    g_assert_cmpstr(msg, ==, "The 'file' block driver requires a file name");
    g_free(msg);

    msg = open_error(NULL, tmpdir, NULL, BDRV_O_RDWR, NULL, &err_no);
    want = g_strdup_printf("Could not open '%s': %s", tmpdir,
                           strerror(EISDIR));
    g_assert_cmpstr(msg, ==, want);
    g_assert_cmpint(err_no, ==, EISDIR);
    g_free(msg);
    g_free(want);

    msg = open_error(NULL, tmpdir, NULL, 0, NULL, NULL);
    want = g_strdup_printf("'file' driver requires '%s' to be a regular "
                           "file", tmpdir);
    g_assert_cmpstr(msg, ==, want);
    g_free(msg);
    g_free(want);

    msg = open_error(NULL, missing, NULL, BDRV_O_RDWR, NULL, &err_no);
    want = g_strdup_printf("Could not open '%s': %s", missing,
                           strerror(ENOENT));
    g_assert_cmpstr(msg, ==, want);
    g_assert_cmpint(err_no, ==, ENOENT);
    g_free(msg);
    g_free(want);

    msg = open_error(NULL, path, NULL, BDRV_O_RDWR, "aio-max-batch=many",
                     NULL);
    g_assert_cmpstr(msg, ==, "Parameter 'aio-max-batch' expects a "
                    "non-negative integer");
    g_free(msg);

    msg = open_error(NULL, "/dev/null", NULL, BDRV_O_RDWR, NULL, NULL);
    g_assert_cmpstr(msg, ==, "'file' driver requires '/dev/null' to be a "
                    "regular file");
    g_free(msg);

    msg = open_error("host_device", "/dev/null", NULL,
                     BDRV_O_RDWR | BDRV_O_NOCACHE, NULL, NULL);
    g_assert_cmpstr(msg, ==, "Could not open '/dev/null': filesystem does "
                    "not support O_DIRECT");
    g_free(msg);

    msg = open_error("host_device", path, NULL, BDRV_O_RDWR, NULL, NULL);
    want = g_strdup_printf("'host_device' driver requires '%s' to be either "
                           "a character or block device", path);
    g_assert_cmpstr(msg, ==, want);
    g_free(msg);
    g_free(want);

    msg = open_error(NULL, path, NULL, BDRV_O_RDWR, "locking=off", NULL);
    g_assert_cmpstr(msg, ==, "Block protocol 'file' doesn't support the option 'locking'");
    g_free(msg);
}

/* Which backend the flags and aio=auto pick. */
static void test_backend_choice(void)
{
    g_autofree char *path = make_file(1 * MiB);
    bool uring = backend_built(RAW_AIO_IO_URING);
    bool native = backend_built(RAW_AIO_NATIVE);
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

        if (!backend_built(cases[i].want)) {
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
 * Requests from a coroutine running in an IOThread use the backend state
 * of the IOThread's context, created on first use.
 */
typedef struct ForeignIo {
    Node *n;
    AioContext *ctx;
    int failures;
    bool done;
} ForeignIo;

static void coroutine_fn foreign_io_co(void *opaque)
{
    ForeignIo *f = opaque;
    BlockDriverState *bs = f->n->bs;
    uint8_t *buf = abuf(64 * KiB);
    QEMUIOVector qiov;

    g_assert(qemu_get_current_aio_context() == f->ctx);
    qemu_iovec_init_buf(&qiov, buf, 64 * KiB);
    for (int i = 0; i < 16; i++) {
        pattern(buf, i * 64 * KiB, 64 * KiB, 15);
        if (bs->drv->bdrv_co_pwritev(bs, i * 64 * KiB, 64 * KiB, &qiov, 0)) {
            f->failures++;
        }
        memset(buf, 0, 64 * KiB);
        if (bs->drv->bdrv_co_preadv(bs, i * 64 * KiB, 64 * KiB, &qiov, 0)) {
            f->failures++;
        }
        check_pattern(buf, i * 64 * KiB, 64 * KiB, 15);
    }
    if (bs->drv->bdrv_co_flush(bs) < 0) {
        f->failures++;
    }
    qemu_vfree(buf);
    __atomic_store_n(&f->done, true, __ATOMIC_RELEASE);
    aio_notify(qemu_get_aio_context());
}

static void test_iothread(const void *opaque)
{
    const Mode *m = opaque;
    g_autofree char *path = make_file(1 * MiB);
    IOThread *iothread = iothread_create("fp-test", &error_abort);
    AioContext *ctx = iothread_get_aio_context(iothread);
    Node *n = node_open(m, path, NULL);
    ForeignIo f = { .n = n, .ctx = ctx };
    RawAioStats stats;

    aio_co_schedule(ctx, qemu_coroutine_create(foreign_io_co, &f));
    while (!__atomic_load_n(&f.done, __ATOMIC_ACQUIRE)) {
        aio_poll(qemu_get_aio_context(), true);
    }
    g_assert_cmpint(f.failures, ==, 0);
    read_check(n, 0, 1 * MiB, 15);
    if (mode_backend(m) != RAW_AIO_THREADS) {
        bool found = mode_backend(m) == RAW_AIO_NATIVE
                     ? laio_get_stats(ctx, &stats)
                     : luring_get_stats(ctx, &stats);
        g_assert(found);
        g_assert_cmpuint(stats.requests, ==, 33);
    }
    node_close(n);
    /* Closing the last node released the IOThread's kernel context. */
    g_assert(!laio_get_stats(ctx, &stats));
    g_assert(!luring_get_stats(ctx, &stats));
    iothread_destroy(iothread);
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
    char *msg;
    Node *n;
    RawInfo info;

    if (!g_test_subprocess()) {
        g_test_trap_subprocess(NULL, 0, G_TEST_SUBPROCESS_INHERIT_STDERR);
        g_test_trap_assert_passed();
        return;
    }

    deny_async_syscalls();
    path = make_file(1 * MiB);

    msg = open_error(NULL, path, "io_uring", BDRV_O_RDWR, NULL, NULL);
    g_assert_cmpstr(msg, ==, backend_built(RAW_AIO_IO_URING)
                    ? "io_uring (aio=io_uring) is not available: "
                      "io_uring_queue_init(128) failed: Function not "
                      "implemented"
                    : "aio=io_uring is not supported: this build has no "
                      "io_uring (liburing) support");
    g_free(msg);
    msg = open_error(NULL, path, NULL, BDRV_O_RDWR | BDRV_O_NOCACHE |
                     BDRV_O_NATIVE_AIO, NULL, NULL);
    g_assert_cmpstr(msg, ==, backend_built(RAW_AIO_NATIVE)
                    ? "Linux AIO (aio=native) is not available: "
                      "io_setup(512) failed: Function not implemented"
                    : "aio=native is not supported: this build has no "
                      "Linux AIO (libaio) support");
    g_free(msg);

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
    char *msg, *want;
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

    msg = open_error(NULL, dev, NULL, 0, NULL, NULL);
    want = g_strdup_printf("'file' driver requires '%s' to be a regular "
                           "file", dev);
    g_assert_cmpstr(msg, ==, want);
    g_free(msg);
    g_free(want);

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

static void rmdir_recursive(const char *dir)
{
    GDir *d = g_dir_open(dir, 0, NULL);
    const char *name;

    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *p = g_build_filename(dir, name, NULL);
        unlink(p);
    }
    if (d) {
        g_dir_close(d);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    tmpdir = g_dir_make_tmp("test-file-posix-XXXXXX", NULL);
    g_assert(tmpdir);

    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        static const struct {
            const char *name;
            GTestDataFunc fn;
        } cases[] = {
            { "rw", test_rw },
            { "discard", test_discard },
            { "zeroes", test_zeroes },
            { "vectored", test_vectored },
            { "large", test_large },
            { "eof", test_eof },
            { "flush", test_flush },
            { "qd64", test_qd64 },
            { "chain", test_chain },
            { "deep-queue", test_deep_queue },
        };
        const Mode *m = &modes[i];

        if (!backend_built(mode_backend(m))) {
            continue;
        }
        for (size_t j = 0; j < ARRAY_SIZE(cases); j++) {
            g_autofree char *name = g_strdup_printf(
                "/file-posix/%s/%s/%s", m->aio,
                m->direct ? "direct" : "buffered", cases[j].name);
            g_test_add_data_func(name, m, cases[j].fn);
        }
        if (m->direct) {
            g_autofree char *name = g_strdup_printf(
                "/file-posix/%s/direct/alignment", m->aio);
            g_test_add_data_func(name, m, test_dio_alignment);
        }
    }
    g_test_add_func("/file-posix/limits", test_limits);
    g_test_add_func("/file-posix/options", test_options);
    g_test_add_func("/file-posix/backend-choice", test_backend_choice);
    g_test_add_func("/file-posix/truncate", test_truncate);
    g_test_add_func("/file-posix/block-status", test_block_status);
    g_test_add_func("/file-posix/host-device-chr", test_host_device_chr);
    g_test_add_func("/file-posix/no-kernel-support", test_no_kernel_support);
    g_test_add_func("/file-posix/host-device-blk", test_host_device_blk);
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        g_autofree char *name = g_strdup_printf(
            "/file-posix/%s/%s/iothread", modes[i].aio,
            modes[i].direct ? "direct" : "buffered");
        if (backend_built(mode_backend(&modes[i]))) {
            g_test_add_data_func(name, &modes[i], test_iothread);
        }
    }
    if (backend_built(RAW_AIO_NATIVE)) {
        g_test_add_data_func("/file-posix/native/buffered/backend-chain",
                             GINT_TO_POINTER(RAW_AIO_NATIVE),
                             test_backend_chain);
    }
    if (backend_built(RAW_AIO_IO_URING)) {
        g_test_add_data_func("/file-posix/io_uring/buffered/backend-chain",
                             GINT_TO_POINTER(RAW_AIO_IO_URING),
                             test_backend_chain);
    }

    ret = g_test_run();
    rmdir_recursive(tmpdir);
    return ret;
}
