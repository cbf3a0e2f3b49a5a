/*
 * "test-mem": an in-memory protocol driver for the block core tests.  Its
 * options force the limits the core must honour (request alignment,
 * max_transfer, memory alignment, iovec count, discard alignment), and it
 * counts every request that breaks them, so a test can assert that the
 * core never sends one.  With delay=N each request yields up to N times
 * between looking at and touching the data, which turns a missing
 * serialisation into lost updates.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TEST_BLOCK_MEM_H
#define TEST_BLOCK_MEM_H

#include "block/block_int.h"
#include "qemu/keyval.h"
#include "qapi/error.h"

typedef struct MemOp {
    char op;                /* r w z d f t */
    int64_t offset;
    int64_t bytes;
    int flags;
} MemOp;

typedef enum {
    MEM_STATUS_NORMAL,      /* DATA or ZERO per block, by content */
    MEM_STATUS_NONE,        /* no callback at all */
    MEM_STATUS_NO_PROGRESS, /* *pnum = 0: a broken driver */
    MEM_STATUS_UNALIGNED,   /* runs cut 1 byte short of a block boundary */
} MemStatusMode;

typedef struct BDRVMemState {
    uint8_t *buf;
    int64_t size;
    uint64_t align;
    uint64_t max_transfer;
    uint64_t mem_align;
    uint64_t max_iov;
    uint64_t discard_align;
    uint64_t delay;
    bool zeroes;            /* fast write-zeroes (else -ENOTSUP) */
    int status;
    GRand *rand;
    GArray *ops;            /* MemOp log */
    unsigned violations;    /* requests that broke a limit */
    unsigned in_driver;
    unsigned max_in_driver;
} BDRVMemState;

static const char *const mem_status_names[] = {
    "normal", "none", "no-progress", "unaligned", NULL
};

static void mem_log(BDRVMemState *s, char op, int64_t offset, int64_t bytes,
                    int flags)
{
    MemOp o = { .op = op, .offset = offset, .bytes = bytes, .flags = flags };

    g_array_append_val(s->ops, o);
}

static int mem_open(BlockDriverState *bs, QDict *options, int flags,
                    Error **errp)
{
    BDRVMemState *s = bs->opaque;
    uint64_t size, seed;

    if (!qdict_take_size(options, "size", 1024 * 1024, &size, errp) ||
        !qdict_take_uint(options, "align", 1, &s->align, errp) ||
        !qdict_take_size(options, "max-transfer", 0, &s->max_transfer,
                         errp) ||
        !qdict_take_uint(options, "mem-align", 0, &s->mem_align, errp) ||
        !qdict_take_uint(options, "max-iov", 0, &s->max_iov, errp) ||
        !qdict_take_size(options, "discard-align", 0, &s->discard_align,
                         errp) ||
        !qdict_take_uint(options, "delay", 0, &s->delay, errp) ||
        !qdict_take_uint(options, "seed", 1, &seed, errp) ||
        !qdict_take_bool(options, "zeroes", false, &s->zeroes, errp) ||
        !qdict_take_enum(options, "status", mem_status_names,
                         MEM_STATUS_NORMAL, &s->status, errp)) {
        return -EINVAL;
    }
    s->size = size;
    s->buf = g_malloc0(MAX(size, 1));
    s->rand = g_rand_new_with_seed(seed);
    s->ops = g_array_new(false, true, sizeof(MemOp));
    if (s->zeroes) {
        bs->supported_zero_flags = BDRV_REQ_MAY_UNMAP | BDRV_REQ_NO_FALLBACK;
    }
    return 0;
}

static BDRVMemState *mem_state(BlockDriverState *bs)
{
    /* The top node may be a raw format over test-mem. */
    while (bs->drv->bdrv_open != mem_open) {
        bs = bs->file->bs;
    }
    return bs->opaque;
}

static void mem_close(BlockDriverState *bs)
{
    BDRVMemState *s = bs->opaque;

    g_free(s->buf);
    g_rand_free(s->rand);
    g_array_free(s->ops, true);
}

static void mem_refresh_limits(BlockDriverState *bs, Error **errp)
{
    BDRVMemState *s = bs->opaque;

    bs->bl.request_alignment = s->align;
    bs->bl.max_transfer = s->max_transfer;
    bs->bl.min_mem_alignment = s->mem_align;
    bs->bl.max_iov = s->max_iov;
    bs->bl.pdiscard_alignment = s->discard_align;
}

static int64_t mem_getlength(BlockDriverState *bs)
{
    return ((BDRVMemState *)bs->opaque)->size;
}

/* Let other requests run a random number of times. */
static void coroutine_fn mem_delay(BDRVMemState *s)
{
    int n = s->delay ? g_rand_int_range(s->rand, 0, s->delay + 1) : 0;

    for (int i = 0; i < n; i++) {
        aio_co_schedule(qemu_get_current_aio_context(),
                        qemu_coroutine_self());
        qemu_coroutine_yield();
    }
}

static void mem_check(BDRVMemState *s, int64_t offset, int64_t bytes,
                      QEMUIOVector *qiov)
{
    if (offset % s->align || bytes % s->align || bytes <= 0 ||
        (s->max_transfer && (uint64_t)bytes > s->max_transfer)) {
        s->violations++;
    }
    if (!qiov) {
        return;
    }
    if ((s->max_iov && (uint64_t)qiov->niov > s->max_iov) ||
        qiov->size != (size_t)bytes) {
        s->violations++;
    }
    /* The kernel's O_DIRECT rule: aligned addresses, whole blocks. */
    for (int i = 0; s->mem_align > 1 && i < qiov->niov; i++) {
        if ((uintptr_t)qiov->iov[i].iov_base % s->mem_align ||
            qiov->iov[i].iov_len % s->align) {
            s->violations++;
        }
    }
}

static void mem_grow(BDRVMemState *s, int64_t end)
{
    if (end > s->size) {
        s->buf = g_realloc(s->buf, end);
        memset(s->buf + s->size, 0, end - s->size);
        s->size = end;
    }
}

static void mem_enter(BDRVMemState *s)
{
    s->in_driver++;
    s->max_in_driver = MAX(s->max_in_driver, s->in_driver);
}

static int coroutine_fn mem_co_preadv(BlockDriverState *bs, int64_t offset,
                                      int64_t bytes, QEMUIOVector *qiov,
                                      BdrvRequestFlags flags)
{
    BDRVMemState *s = bs->opaque;
    int64_t avail;

    mem_enter(s);
    mem_log(s, 'r', offset, bytes, flags);
    mem_check(s, offset, bytes, qiov);
    mem_delay(s);
    /* Like a file: beyond the end reads zeroes. */
    avail = offset < s->size ? MIN(bytes, s->size - offset) : 0;
    qemu_iovec_from_buf(qiov, 0, s->buf + offset, avail);
    qemu_iovec_memset(qiov, avail, 0, bytes - avail);
    mem_delay(s);
    s->in_driver--;
    return 0;
}

static int coroutine_fn mem_co_pwritev(BlockDriverState *bs, int64_t offset,
                                       int64_t bytes, QEMUIOVector *qiov,
                                       BdrvRequestFlags flags)
{
    BDRVMemState *s = bs->opaque;

    mem_enter(s);
    mem_log(s, 'w', offset, bytes, flags);
    mem_check(s, offset, bytes, qiov);
    mem_delay(s);
    mem_grow(s, offset + bytes);
    qemu_iovec_to_buf(qiov, 0, s->buf + offset, bytes);
    mem_delay(s);
    s->in_driver--;
    return 0;
}

static int coroutine_fn mem_co_pwrite_zeroes(BlockDriverState *bs,
                                             int64_t offset, int64_t bytes,
                                             BdrvRequestFlags flags)
{
    BDRVMemState *s = bs->opaque;

    if (!s->zeroes) {
        return -ENOTSUP;
    }
    mem_log(s, 'z', offset, bytes, flags);
    mem_check(s, offset, bytes, NULL);
    mem_grow(s, offset + bytes);
    memset(s->buf + offset, 0, bytes);
    return 0;
}

/* Like a device: pieces not aligned to the discard granularity fail. */
static int coroutine_fn mem_co_pdiscard(BlockDriverState *bs, int64_t offset,
                                        int64_t bytes)
{
    BDRVMemState *s = bs->opaque;

    mem_check(s, offset, bytes, NULL);
    if (s->discard_align &&
        (offset % s->discard_align || bytes % s->discard_align)) {
        mem_log(s, 'D', offset, bytes, 0);
        return -EINVAL;
    }
    mem_log(s, 'd', offset, bytes, 0);
    if (offset < s->size) {
        memset(s->buf + offset, 0, MIN(bytes, s->size - offset));
    }
    return 0;
}

static int coroutine_fn mem_co_flush(BlockDriverState *bs)
{
    mem_log(bs->opaque, 'f', 0, 0, 0);
    return 0;
}

static int coroutine_fn mem_co_truncate(BlockDriverState *bs, int64_t offset,
                                        bool exact, PreallocMode prealloc,
                                        BdrvRequestFlags flags, Error **errp)
{
    BDRVMemState *s = bs->opaque;

    mem_log(s, 't', offset, 0, 0);
    mem_grow(s, offset);
    s->size = offset;
    return 0;
}

static bool mem_block_is_zero(BDRVMemState *s, int64_t offset, int64_t len)
{
    for (int64_t i = offset; i < offset + len && i < s->size; i++) {
        if (s->buf[i]) {
            return false;
        }
    }
    return true;
}

static int coroutine_fn mem_co_block_status(BlockDriverState *bs,
                                            bool want_zero, int64_t offset,
                                            int64_t bytes, int64_t *pnum,
                                            int64_t *map,
                                            BlockDriverState **file)
{
    BDRVMemState *s = bs->opaque;
    int64_t blk = s->align, pos = offset;
    bool zero;

    mem_check(s, offset, bytes, NULL);
    *map = offset;
    *file = bs;
    if (s->status == MEM_STATUS_NO_PROGRESS) {
        *pnum = 0;
        return BDRV_BLOCK_DATA;
    }
    if (!want_zero) {
        *pnum = bytes;
        return BDRV_BLOCK_DATA | BDRV_BLOCK_OFFSET_VALID;
    }
    zero = mem_block_is_zero(s, pos, blk);
    while (pos < offset + bytes && mem_block_is_zero(s, pos, blk) == zero) {
        pos += blk;
    }
    *pnum = pos - offset;
    if (s->status == MEM_STATUS_UNALIGNED && *pnum > 1) {
        *pnum -= 1;
    }
    return (zero ? BDRV_BLOCK_ZERO : BDRV_BLOCK_DATA) |
           BDRV_BLOCK_OFFSET_VALID;
}

static BlockDriver bdrv_test_mem = {
    .format_name = "test-mem",
    .instance_size = sizeof(BDRVMemState),
    .bdrv_open = mem_open,
    .bdrv_close = mem_close,
    .bdrv_refresh_limits = mem_refresh_limits,
    .bdrv_getlength = mem_getlength,
    .bdrv_co_preadv = mem_co_preadv,
    .bdrv_co_pwritev = mem_co_pwritev,
    .bdrv_co_pwrite_zeroes = mem_co_pwrite_zeroes,
    .bdrv_co_pdiscard = mem_co_pdiscard,
    .bdrv_co_flush = mem_co_flush,
    .bdrv_co_truncate = mem_co_truncate,
    .bdrv_co_block_status = mem_co_block_status,
};

/* A second driver without block status, for the core's default answer. */
static BlockDriver bdrv_test_mem_nostatus;

static void test_mem_register(void)
{
    bdrv_register(&bdrv_test_mem);
    bdrv_test_mem_nostatus = bdrv_test_mem;
    bdrv_test_mem_nostatus.format_name = "test-mem-nostatus";
    bdrv_test_mem_nostatus.bdrv_co_block_status = NULL;
    bdrv_register(&bdrv_test_mem_nostatus);
}

/* Open "key=value,..." (keyval syntax) into a BlockBackend. */
static BlockBackend *test_open(const char *opts, int flags, Error **errp)
{
    QDict *d = keyval_parse(opts, NULL, &error_abort);

    return blk_new_open(NULL, d, flags, errp);
}

#endif /* TEST_BLOCK_MEM_H */
