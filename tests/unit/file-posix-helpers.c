/*
 * Helpers of the file-posix tests (see file-posix-helpers.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block_int.h"
#include "block/raw-aio.h"
#include "sysemu/block-backend.h"
#include "qemu/main-loop.h"
#include "qemu/keyval.h"
#include "qapi/error.h"
#include "file-posix-helpers.h"

char *tmpdir;
static int file_seq;

/* ---- test modes ---- */

const Mode modes[NR_MODES] = {
    { "threads", false },
    { "threads", true },
    { "native", true },
    { "io_uring", false },
    { "io_uring", true },
};

RawAioBackend mode_backend(const Mode *m)
{
    if (strcmp(m->aio, "native") == 0) {
        return RAW_AIO_NATIVE;
    }
    if (strcmp(m->aio, "io_uring") == 0) {
        return RAW_AIO_IO_URING;
    }
    return RAW_AIO_THREADS;
}

bool mode_stats(const Mode *m, RawAioStats *stats)
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

void add_mode_tests(const ModeTest *tests, size_t n)
{
    for (size_t i = 0; i < ARRAY_SIZE(modes); i++) {
        const Mode *m = &modes[i];

        if (!raw_aio_backend_built(mode_backend(m))) {
            continue;
        }
        for (size_t j = 0; j < n; j++) {
            g_autofree char *name = NULL;

            if (tests[j].direct_only && !m->direct) {
                continue;
            }
            name = g_strdup_printf("/file-posix/%s/%s/%s", m->aio,
                                   m->direct ? "direct" : "buffered",
                                   tests[j].name);
            g_test_add_data_func(name, m, tests[j].fn);
        }
    }
}

/* ---- files ---- */

char *new_path(void)
{
    return g_strdup_printf("%s/img%d", tmpdir, file_seq++);
}

char *make_file(int64_t size)
{
    char *path = new_path();
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

void pattern(void *buf, int64_t offset, size_t len, unsigned seed)
{
    uint8_t *p = buf;

    for (size_t i = 0; i < len; i++) {
        uint64_t x = (offset + i) / 7 * 2654435761u + seed;
        p[i] = (uint8_t)(x ^ (x >> 13)) | 1;    /* never zero */
    }
}

void check_pattern(const void *buf, int64_t offset, size_t len,
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

void check_zero(const void *buf, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        if (((const uint8_t *)buf)[i]) {
            g_error("byte %zu not zero (0x%02x)", i,
                    ((const uint8_t *)buf)[i]);
        }
    }
}

char *make_data_file(int64_t size, unsigned seed)
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

/* ---- nodes ---- */

Node *node_open_full(const char *driver, const char *path, const char *aio,
                     int flags, const char *extra, Error **errp)
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

Node *node_open(const Mode *m, const char *path, const char *extra)
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

void node_close(Node *n)
{
    blk_unref(n->blk);
    g_free(n->path);
    g_free(n);
}

/* ---- requests in coroutines ---- */

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

int run_io(IoArgs *a)
{
    Coroutine *co = qemu_coroutine_create(io_entry, a);

    a->done = false;
    qemu_coroutine_enter(co);
    AIO_WAIT_WHILE(qemu_get_aio_context(), !a->done);
    return a->ret;
}

int do_io(Node *n, int op, int64_t offset, int64_t bytes, void *buf,
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

void *abuf(size_t len)
{
    return qemu_memalign(4096, MAX(len, 1));
}

void write_pattern(Node *n, int64_t offset, int64_t len, unsigned seed)
{
    void *buf = abuf(len);

    pattern(buf, offset, len, seed);
    g_assert_cmpint(do_io(n, OP_WRITE, offset, len, buf, 0), ==, 0);
    qemu_vfree(buf);
}

void read_check(Node *n, int64_t offset, int64_t len, unsigned seed)
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

void rmdir_recursive(const char *dir)
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
