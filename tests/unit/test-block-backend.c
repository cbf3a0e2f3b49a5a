/*
 * Tests of BlockBackend: synchronous wrappers inside and outside
 * coroutines, AIO callbacks (context, never nested in the submitter, a
 * bounded stack over long chains), cancellation, and the option errors
 * users see when opening an image.
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
static char *img1m;             /* a 1 MiB file */

static AioContext *main_ctx(void)
{
    return qemu_get_aio_context();
}

static char *make_file(const char *name, int64_t size)
{
    char *path = g_strdup_printf("%s/%s", tmpdir, name);
    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(ftruncate(fd, size), ==, 0);
    close(fd);
    return path;
}

static BlockBackend *open_img(const char *extra, int flags)
{
    g_autofree char *opts = g_strdup_printf(
        "driver=raw,file.driver=file,file.filename=%s%s%s", img1m,
        extra ? "," : "", extra ? extra : "");

    return test_open(opts, flags, &error_abort);
}

static void read_file(const char *path, int64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, off), ==, (ssize_t)len);
    close(fd);
}

/* ---- synchronous wrappers ---- */

static void test_sync_outside(void)
{
    BlockBackend *blk = open_img(NULL, BDRV_O_RDWR);
    uint8_t buf[8192], back[8192];

    g_assert_false(qemu_in_coroutine());
    memset(buf, 0x42, sizeof(buf));
    g_assert_cmpint(blk_pwrite(blk, 4096, sizeof(buf), buf, 0), ==, 0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    read_file(img1m, 4096, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));

    g_assert_cmpint(blk_pwrite_zeroes(blk, 4096 + 100, 200, 0), ==, 0);
    memset(buf + 100, 0, 200);
    g_assert_cmpint(blk_pread(blk, 4096, sizeof(back), back, 0), ==, 0);
    g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));

    g_assert_cmpint(blk_pdiscard(blk, 0, 64 * KiB), ==, 0);
    g_assert_cmpint(blk_pread(blk, 4096, sizeof(back), back, 0), ==, 0);
    for (size_t i = 0; i < sizeof(back); i++) {
        g_assert_cmpint(back[i], ==, 0);
    }
    g_assert_cmpuint(blk_in_flight(blk), ==, 0);
    blk_unref(blk);
}

typedef struct SyncInCo {
    BlockBackend *blk;
    bool done;
} SyncInCo;

static void coroutine_fn sync_in_co_entry(void *opaque)
{
    SyncInCo *d = opaque;
    uint8_t buf[4096], back[4096];

    memset(buf, 0x17, sizeof(buf));
    /* The synchronous forms, called from a coroutine, just yield. */
    g_assert_cmpint(blk_pwrite(d->blk, 8192, sizeof(buf), buf, 0), ==, 0);
    g_assert_cmpint(blk_flush(d->blk), ==, 0);
    g_assert_cmpint(blk_pread(d->blk, 8192, sizeof(back), back, 0), ==, 0);
    g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));
    g_assert_cmpint(blk_pread(d->blk, MiB, 1, back, 0), ==, -EIO);
    d->done = true;
}

static void test_sync_inside_coroutine(void)
{
    BlockBackend *blk = open_img(NULL, BDRV_O_RDWR);
    SyncInCo d = { .blk = blk };

    qemu_coroutine_enter(qemu_coroutine_create(sync_in_co_entry, &d));
    /*
     * The write went to the thread pool: had the wrapper polled inside
     * the coroutine, enter would only return once everything was done.
     */
    g_assert_false(d.done);
    AIO_WAIT_WHILE(main_ctx(), !d.done);
    blk_unref(blk);
}

static void test_no_medium(void)
{
    BlockBackend *blk = blk_new(NULL);
    uint8_t buf[512];
    Error *err = NULL;

    g_assert_null(blk_bs(blk));
    g_assert_cmpint(blk_getlength(blk), ==, -ENOMEDIUM);
    g_assert_cmpint(blk_pread(blk, 0, 512, buf, 0), ==, -ENOMEDIUM);
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, -ENOMEDIUM);
    g_assert_cmpint(blk_flush(blk), ==, -ENOMEDIUM);
    g_assert_cmpint(blk_truncate(blk, 0, false, PREALLOC_MODE_OFF, 0, &err),
                    ==, -ENOMEDIUM);
    g_assert_cmpstr(error_get_pretty(err), ==, "No medium inserted");
    error_free_or_abort(&err);
    blk_unref(blk);
}

static void test_insert_remove(void)
{
    BlockBackend *blk = open_img(NULL, BDRV_O_RDWR);
    BlockBackend *blk2 = blk_new(NULL);
    BlockDriverState *bs = blk_bs(blk);
    Error *err = NULL;

    g_assert_cmpint(blk_insert_bs(blk2, bs, &error_abort), ==, 0);
    g_assert_cmpint(bs->refcnt, ==, 2);
    g_assert_cmpint(blk_insert_bs(blk2, bs, &err), ==, -EBUSY);
    g_assert_nonnull(strstr(error_get_pretty(err), "already has node"));
    error_free_or_abort(&err);
    blk_remove_bs(blk2);
    g_assert_null(blk_bs(blk2));
    g_assert_cmpint(bs->refcnt, ==, 1);
    blk_unref(blk2);
    blk_unref(blk);
}

/* ---- AIO: context and nesting ---- */

typedef struct AioCheck {
    AioContext *expect_ctx;
    bool in_submit;
    int calls;
    int ret;
} AioCheck;

static AioContext *polling_ctx;

static void check_cb(void *opaque, int ret)
{
    AioCheck *c = opaque;

    g_assert_false(c->in_submit);
    g_assert_true(polling_ctx == c->expect_ctx);
    c->calls++;
    c->ret = ret;
}

static void poll_ctx_until(AioContext *ctx, int *calls, int n)
{
    AioContext *saved = polling_ctx;

    polling_ctx = ctx;
    AIO_WAIT_WHILE(ctx, *calls < n);
    polling_ctx = saved;
}

static void test_aio_callback_context(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=1M", BDRV_O_RDWR,
                                  &error_abort);
    AioContext *ctx2 = aio_context_new(&error_abort);
    uint8_t buf[4096];
    QEMUIOVector qiov;
    AioCheck c = { .expect_ctx = main_ctx() };

    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));

    /* Completes at once inside the driver; the callback still waits. */
    c.in_submit = true;
    blk_aio_preadv(blk, 0, &qiov, 0, check_cb, &c);
    c.in_submit = false;
    g_assert_cmpint(c.calls, ==, 0);
    poll_ctx_until(main_ctx(), &c.calls, 1);
    g_assert_cmpint(c.ret, ==, 0);

    /* Errors are delivered the same way. */
    c.in_submit = true;
    blk_aio_preadv(blk, MiB, &qiov, 0, check_cb, &c);
    c.in_submit = false;
    poll_ctx_until(main_ctx(), &c.calls, 2);
    g_assert_cmpint(c.ret, ==, -EIO);

    /*
     * Submitted while ctx2 is this thread's context: the request runs in
     * the BlockBackend's context, the callback in ctx2 only.
     */
    c.expect_ctx = ctx2;
    aio_context_set_thread_default(ctx2);
    c.in_submit = true;
    blk_aio_preadv(blk, 0, &qiov, 0, check_cb, &c);
    c.in_submit = false;
    aio_context_set_thread_default(NULL);
    polling_ctx = main_ctx();
    for (int i = 0; i < 20; i++) {
        aio_poll(main_ctx(), false);
    }
    polling_ctx = NULL;
    g_assert_cmpint(c.calls, ==, 2);
    aio_context_set_thread_default(ctx2);
    poll_ctx_until(ctx2, &c.calls, 3);
    aio_context_set_thread_default(NULL);
    g_assert_cmpint(c.ret, ==, 0);
    g_assert_cmpuint(blk_in_flight(blk), ==, 0);

    blk_unref(blk);
    aio_context_unref(ctx2);
}

/* ---- AIO: a long chain at queue depth 1 ---- */

#define CHAIN_LEN 10000

typedef struct Chain {
    BlockBackend *blk;
    QEMUIOVector qiov;
    int remaining;
    int done;
    int depth;
    int max_depth;
    uintptr_t sp_min;
    uintptr_t sp_max;
} Chain;

static void chain_cb(void *opaque, int ret)
{
    Chain *c = opaque;
    uintptr_t sp = (uintptr_t)&ret;

    g_assert_cmpint(ret, ==, 0);
    c->depth++;
    c->max_depth = MAX(c->max_depth, c->depth);
    c->sp_min = MIN(c->sp_min, sp);
    c->sp_max = MAX(c->sp_max, sp);
    c->done++;
    if (--c->remaining > 0) {
        /* The next request completes at once; its callback must not nest. */
        blk_aio_preadv(c->blk, (c->done % 256) * 512, &c->qiov, 0, chain_cb,
                       c);
    }
    c->depth--;
}

static void run_chain(BlockBackend *blk, int len)
{
    uint8_t buf[512];
    Chain c = { .blk = blk, .remaining = len, .sp_min = UINTPTR_MAX };

    qemu_iovec_init_buf(&c.qiov, buf, sizeof(buf));
    blk_aio_preadv(blk, 0, &c.qiov, 0, chain_cb, &c);
    AIO_WAIT_WHILE(main_ctx(), c.done < len);
    g_assert_cmpint(c.max_depth, ==, 1);
    /* Every callback ran at the same depth of the event loop. */
    g_assert_cmpuint(c.sp_max - c.sp_min, <, 4096);
    g_test_message("%d callbacks, stack spread %zu bytes", len,
                   (size_t)(c.sp_max - c.sp_min));
}

static void test_aio_chain(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=1M", BDRV_O_RDWR,
                                  &error_abort);

    run_chain(blk, CHAIN_LEN);
    blk_unref(blk);

    blk = open_img(NULL, BDRV_O_RDWR);
    run_chain(blk, 1000);
    blk_unref(blk);
}

/* ---- cancellation ---- */

typedef struct CancelCb {
    int calls;
    int ret;
} CancelCb;

static void cancel_cb(void *opaque, int ret)
{
    CancelCb *c = opaque;

    c->calls++;
    c->ret = ret;
}

static void test_cancel_in_flight(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=1M,delay=8,seed=3",
                                  BDRV_O_RDWR, &error_abort);
    BlockBackend *fblk = open_img(NULL, BDRV_O_RDWR);
    uint8_t buf[4096] = { 0 };
    QEMUIOVector qiov;
    CancelCb a = { 0 }, b = { 0 }, f = { 0 };
    BlockAIOCB *acb;

    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));

    /* Already in the driver: it runs to its real result. */
    acb = blk_aio_pwritev(blk, 0, &qiov, 0, cancel_cb, &a);
    blk_aio_cancel_async(acb);
    poll_ctx_until(main_ctx(), &a.calls, 1);
    g_assert_cmpint(a.ret, ==, 0);

    /* Synchronous cancel waits for the callback, which runs once. */
    acb = blk_aio_pwritev(blk, 4096, &qiov, 0, cancel_cb, &b);
    blk_aio_cancel(acb);
    g_assert_cmpint(b.calls, ==, 1);
    g_assert_cmpint(b.ret, ==, 0);

    /* The same through the thread pool. */
    acb = blk_aio_pwritev(fblk, 4096, &qiov, 0, cancel_cb, &f);
    blk_aio_cancel(acb);
    g_assert_cmpint(f.calls, ==, 1);
    g_assert_cmpint(f.ret, ==, 0);

    /* Completed, callback pending: real result. */
    blk_unref(blk);
    blk = test_open("driver=test-mem,size=1M", BDRV_O_RDWR, &error_abort);
    memset(&a, 0, sizeof(a));
    acb = blk_aio_preadv(blk, 0, &qiov, 0, cancel_cb, &a);
    blk_aio_cancel(acb);
    g_assert_cmpint(a.calls, ==, 1);
    g_assert_cmpint(a.ret, ==, 0);

    for (int i = 0; i < 10; i++) {
        aio_poll(main_ctx(), false);
    }
    g_assert_cmpint(a.calls + b.calls + f.calls, ==, 3);
    blk_unref(blk);
    blk_unref(fblk);
}

static void test_cancel_queued(void)
{
    BlockBackend *blk = test_open("driver=test-mem,size=1M", BDRV_O_RDWR,
                                  &error_abort);
    BlockDriverState *bs = blk_bs(blk);
    BDRVMemState *s = mem_state(bs);
    uint8_t buf[4096];
    QEMUIOVector qiov;
    CancelCb a = { 0 }, b = { 0 }, c = { 0 };
    BlockAIOCB *acb_a, *acb_c;

    memset(buf, 0x99, sizeof(buf));
    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));

    /* Queued behind a drain: not started, so stopped with -ECANCELED. */
    bdrv_drained_begin(bs);
    acb_a = blk_aio_pwritev(blk, 0, &qiov, 0, cancel_cb, &a);
    blk_aio_pwritev(blk, 8192, &qiov, 0, cancel_cb, &b);
    acb_c = blk_aio_pwritev(blk, 16384, &qiov, 0, cancel_cb, &c);
    blk_aio_cancel(acb_a);
    g_assert_cmpint(a.calls, ==, 1);
    g_assert_cmpint(a.ret, ==, -ECANCELED);
    blk_aio_cancel_async(acb_c);
    poll_ctx_until(main_ctx(), &c.calls, 1);
    g_assert_cmpint(c.ret, ==, -ECANCELED);
    /* b still waits. */
    g_assert_cmpint(b.calls, ==, 0);
    g_assert_cmpuint(s->ops->len, ==, 0);
    bdrv_drained_end(bs);

    poll_ctx_until(main_ctx(), &b.calls, 1);
    g_assert_cmpint(b.ret, ==, 0);
    g_assert_cmpint(a.calls, ==, 1);
    g_assert_cmpint(c.calls, ==, 1);
    /* Only b reached the driver. */
    g_assert_cmpuint(s->ops->len, ==, 1);
    g_assert_cmpint(g_array_index(s->ops, MemOp, 0).offset, ==, 8192);
    g_assert_cmpint(s->buf[0], ==, 0);
    g_assert_cmpint(s->buf[16384], ==, 0);
    g_assert_cmpint(s->buf[8192], ==, 0x99);
    blk_unref(blk);
}

/* ---- options ---- */

typedef struct OptCase {
    const char *opts;           /* %s: the 1 MiB image */
    int flags;
    const char *error;          /* %s: the 1 MiB image */
} OptCase;

static const OptCase opt_cases[] = {
    { "driver=raw,file.driver=file,file.filename=%s,foo=bar", BDRV_O_RDWR,
      "Block format 'raw' does not support the option 'foo'" },
    { "driver=raw,file.driver=file,file.filename=%s,file.foo=1", BDRV_O_RDWR,
      "Block protocol 'file' doesn't support the option 'foo'" },
    { "driver=file,filename=%s,bar=1", BDRV_O_RDWR,
      "Block protocol 'file' doesn't support the option 'bar'" },
    { "driver=raw,file.driver=file,file.filename=%s,read-only=maybe", 0,
      "Parameter 'read-only' expects 'on' or 'off'" },
    { "driver=raw,file.driver=file,file.filename=%s,file.cache.direct=x", 0,
      "Parameter 'file.cache.direct' expects 'on' or 'off'" },
    { "driver=raw,file.driver=file,file.filename=%s,cache.no-flush=1", 0,
      "Parameter 'cache.no-flush' expects 'on' or 'off'" },
    { "driver=raw,file.driver=file,file.filename=%s,offset=12Q", 0,
      "Parameter 'offset': '12Q': invalid size suffix 'Q' "
      "(use B, K, M, G, T, P or E)" },
    { "driver=raw,file.driver=file,file.filename=%s,size=-1", 0,
      "Parameter 'size': '-1': negative size" },
    { "driver=raw,file.driver=file,file.filename=%s,size=", 0,
      "Parameter 'size': '': empty size" },
    { "driver=file", 0, "The 'file' block driver requires a file name" },
    { "driver=raw,file.driver=file", 0,
      "The 'file' block driver requires a file name" },
    { "driver=raw", 0, "A block device must be specified for \"file\"" },
    { "driver=raw,file.driver=raw", 0,
      "A block device must be specified for \"file\"" },
    { "driver=nope", 0, "Unknown driver 'nope'" },
    { "driver=raw,file.driver=nope,file.filename=%s", 0,
      "Unknown driver 'nope'" },
    { "driver=raw,file=nosuchnode", 0,
      "Cannot find node-name 'nosuchnode' (given by parameter 'file')" },
    { "driver=raw,file.driver=file,file.filename=%s,offset=2M", 0,
      "Offset (2097152) cannot be greater than size of the containing "
      "file (1048576)" },
    { "driver=raw,file.driver=file,file.filename=%s,offset=512K,size=1M", 0,
      "The sum of offset (524288) and size (1048576) has to be smaller or "
      "equal to the  actual size of the containing file (1048576)" },
    { "driver=raw,file.driver=file,file.filename=%s,size=1000", 0,
      "Specified size is not multiple of 512" },
    { "driver=raw,file.driver=file,file.filename=%s,node-name=1a", 0,
      "Invalid node-name: '1a'" },
    { "driver=raw,file.driver=file,file.filename=%s,node-name=", 0,
      "Invalid node-name: ''" },
    { "driver=raw,file.driver=file,file.filename=%s,"
      "node-name=abcdefghijabcdefghijabcdefghijabcdef", 0,
      "Node name too long" },
    { "driver=raw,file.driver=file,file.filename=%s,node-name=a,"
      "file.node-name=a", 0, "Duplicate nodes with node-name='a'" },
    { "driver=raw,file.driver=file,file.filename=%s,read-only=on",
      BDRV_O_RDWR, "Block node is read-only" },
    { "driver=raw,file.driver=file,file.filename=%s,file.read-only=on",
      BDRV_O_RDWR, "Block node is read-only" },
    { "driver=raw,file.driver=file,file.filename=%s/nonexistent", 0,
      "Could not open '%s/nonexistent': No such file or directory" },
};

static void test_option_errors(void)
{
    for (int i = 0; i < (int)ARRAY_SIZE(opt_cases); i++) {
        const OptCase *c = &opt_cases[i];
        const char *arg = strstr(c->opts, "nonexistent") ? tmpdir : img1m;
        g_autofree char *opts = g_strdup_printf(c->opts, arg);
        g_autofree char *expect = g_strdup_printf(c->error, arg);
        Error *err = NULL;
        BlockBackend *blk = test_open(opts, c->flags, &err);

        if (blk || !err) {
            g_error("'%s' opened, expected \"%s\"", opts, expect);
        }
        g_assert_cmpstr(error_get_pretty(err), ==, expect);
        error_free_or_abort(&err);
    }
    /* Nothing half-opened stays behind. */
    g_assert_null(bdrv_find_node("a"));
}

static void test_option_success(void)
{
    BlockBackend *blk;
    BlockDriverState *proto;
    BlockDriverInfo bdi;
    g_autofree char *opts = NULL;
    QDict *d;
    Error *err = NULL;
    uint8_t buf[512], back[512];

    /* Sizes in hex and with suffixes; node names; read-only inherited. */
    blk = open_img("offset=0x200,size=1k,node-name=top,file.node-name=proto",
                   0);
    g_assert_cmpint(blk_getlength(blk), ==, 1024);
    g_assert_true(bdrv_find_node("top") == blk_bs(blk));
    g_assert_true(bdrv_find_node("proto") == blk_bs(blk)->file->bs);
    g_assert_true(bdrv_is_read_only(blk_bs(blk)->file->bs));
    g_assert_cmpstr(bdrv_get_format_name(blk_bs(blk)), ==, "raw");
    g_assert_cmpstr(bdrv_get_format_name(blk_bs(blk)->file->bs), ==, "file");
    g_assert_cmpint(bdrv_get_info(blk_bs(blk), &bdi), ==, 0);
    g_assert_cmpint(bdi.cluster_size, ==, 0);
    g_assert_cmpint(bdi.vm_state_offset, ==, 0);
    blk_unref(blk);
    g_assert_null(bdrv_find_node("top"));

    /* A child may be writable below a read-only parent. */
    blk = open_img("file.read-only=off", 0);
    g_assert_true(blk_is_read_only(blk));
    g_assert_false(bdrv_is_read_only(blk_bs(blk)->file->bs));
    blk_unref(blk);

    /* The implied filename: raw over file by default. */
    blk = blk_new_open(img1m, NULL, BDRV_O_RDWR, &error_abort);
    g_assert_cmpstr(bdrv_get_format_name(blk_bs(blk)), ==, "raw");
    g_assert_cmpstr(blk_bs(blk)->filename, ==, img1m);
    g_assert_cmpint(blk_getlength(blk), ==, MiB);
    blk_unref(blk);
    d = qdict_new();
    qdict_put_str(d, "driver", "file");
    blk = blk_new_open(img1m, d, BDRV_O_RDWR, &error_abort);
    g_assert_cmpstr(bdrv_get_format_name(blk_bs(blk)), ==, "file");
    blk_unref(blk);
    d = qdict_new();
    qdict_put_str(d, "file.filename", img1m);
    g_assert_null(blk_new_open("other", d, 0, &err));
    g_assert_cmpstr(error_get_pretty(err), ==, "Cannot specify both a "
                    "filename ('other') and the option 'file.filename'");
    error_free_or_abort(&err);

    /* file=NODE: a raw window over an existing node, sharing it. */
    d = keyval_parse("driver=file,node-name=shared", NULL, &error_abort);
    qdict_put_str(d, "filename", img1m);
    proto = bdrv_open(NULL, d, BDRV_O_RDWR, &error_abort);
    blk = test_open("driver=raw,file=shared,offset=4K", BDRV_O_RDWR,
                    &error_abort);
    g_assert_true(blk_bs(blk)->file->bs == proto);
    g_assert_cmpint(proto->refcnt, ==, 2);
    memset(buf, 0x3c, sizeof(buf));
    g_assert_cmpint(blk_pwrite(blk, 0, 512, buf, 0), ==, 0);
    read_file(img1m, 4096, back, sizeof(back));
    g_assert_cmpmem(back, sizeof(back), buf, sizeof(buf));
    blk_unref(blk);
    g_assert_cmpint(proto->refcnt, ==, 1);
    bdrv_unref(proto);
    g_assert_null(bdrv_find_node("shared"));
}

/* ---- help output ---- */

static void collect_name(void *opaque, const char *name)
{
    g_string_append_printf(opaque, "%s ", name);
}

static void test_iterate_format(void)
{
    g_autoptr(GString) s = g_string_new(NULL);

    bdrv_iterate_format(collect_name, s);
    /* Sorted, and with the drivers this binary has. */
    g_assert_nonnull(strstr(s->str, "file "));
    g_assert_nonnull(strstr(s->str, "raw "));
    g_assert_true(strstr(s->str, "file ") < strstr(s->str, "raw "));
    g_assert_true(strstr(s->str, "raw ") < strstr(s->str, "test-mem "));
}

int main(int argc, char **argv)
{
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    test_mem_register();
    tmpdir = g_dir_make_tmp("test-block-backend-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    img1m = make_file("img1m", MiB);

    g_test_add_func("/block-backend/sync/outside", test_sync_outside);
    g_test_add_func("/block-backend/sync/inside-coroutine",
                    test_sync_inside_coroutine);
    g_test_add_func("/block-backend/no-medium", test_no_medium);
    g_test_add_func("/block-backend/insert-remove", test_insert_remove);
    g_test_add_func("/block-backend/aio/context", test_aio_callback_context);
    g_test_add_func("/block-backend/aio/chain", test_aio_chain);
    g_test_add_func("/block-backend/aio/cancel-in-flight",
                    test_cancel_in_flight);
    g_test_add_func("/block-backend/aio/cancel-queued", test_cancel_queued);
    g_test_add_func("/block-backend/options/errors", test_option_errors);
    g_test_add_func("/block-backend/options/success", test_option_success);
    g_test_add_func("/block-backend/iterate-format", test_iterate_format);

    ret = g_test_run();
    unlink(img1m);
    rmdir(tmpdir);
    g_free(img1m);
    g_free(tmpdir);
    return ret;
}
