/*
 * qemu-io's asynchronous commands: aio_read, aio_write and aio_flush.  A
 * request is submitted and the command returns; its completion reports
 * (or fails) later, while qemu-io goes on, and aio_flush waits for all.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <getopt.h>
#include "qemu-io.h"
#include "qemu-io-cmds.h"

/* One asynchronous request; freed by its completion callback. */
typedef struct AioCtx {
    QEMUIOVector qiov;
    int64_t offset;
    int64_t bytes;
    char *buf;
    QemuIoOpts opts;
    bool zflag;
    struct timespec t1;
} AioCtx;

static void aio_ctx_free(AioCtx *ctx)
{
    if (!ctx->zflag) {
        qemu_iovec_destroy(&ctx->qiov);
        qemuio_free(ctx->buf);
    }
    g_free(ctx);
}

static void aio_write_done(void *opaque, int ret)
{
    AioCtx *ctx = opaque;

    if (ret < 0) {
        printf("aio_write failed: %s\n", strerror(-ret));
    } else if (!ctx->opts.qflag) {
        qemuio_print_report("wrote", &ctx->t1, ctx->offset, ctx->bytes,
                            ctx->bytes, 1, ctx->opts.Cflag);
    }
    aio_ctx_free(ctx);
}

static void aio_read_done(void *opaque, int ret)
{
    AioCtx *ctx = opaque;

    if (ret < 0) {
        /* QEMU's wording, kept for scripts that match it. */
        printf("readv failed: %s\n", strerror(-ret));
    } else {
        qemuio_read_done(&ctx->opts, &ctx->t1, ctx->buf, ctx->offset,
                         ctx->bytes, 0, ctx->bytes);
    }
    aio_ctx_free(ctx);
}

static void aio_read_help(void)
{
    printf(
"\n"
" asynchronously reads a range of bytes from the given offset\n"
"\n"
" Example:\n"
" 'aio_read -v 512 1k 1k ' - dumps 2 kilobytes read from 512 bytes "
"into the file\n"
"\n"
" Reads a segment of the currently open file, optionally dumping it to the\n"
" standard output stream (with -v option) for subsequent inspection.\n"
" The read is performed asynchronously and the aio_flush command must be\n"
" used to ensure all outstanding aio requests have been completed.\n"
" Note that due to its asynchronous nature, this command will be\n"
" considered successful once the request is submitted, independently\n"
" of potential I/O errors or pattern mismatches.\n"
" -C, -- report statistics in a machine parsable format\n"
" -i, -- treat request as invalid, for exercising stats\n"
" -P, -- use a pattern to verify read data\n"
" -q, -- quiet mode, do not show I/O statistics\n"
" -r, -- register I/O buffer\n"
" -v, -- dump buffer to standard output\n"
"\n");
}

static int aio_read_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd aio_read_cmd = {
    .name = "aio_read",
    .cfunc = aio_read_f,
    .argmin = 2,
    .argmax = -1,
    .args = "[-Ciqrv] [-P pattern] off len [len..]",
    .oneline = "asynchronously reads a number of bytes",
    .help = aio_read_help,
};

static int aio_read_f(BlockBackend *blk, int argc, char **argv)
{
    g_autofree AioCtx *ctx = g_new0(AioCtx, 1);
    AioCtx *req;
    int c;

    while ((c = getopt(argc, argv, "CiP:qrv")) != -1) {
        switch (c) {
        case 'i':
            /* QEMU counts it in its I/O statistics; we keep none. */
            printf("injecting invalid read request\n");
            return 0;
        default:
            if (!qemuio_parse_io_option(&aio_read_cmd, c, &ctx->opts)) {
                return -EINVAL;
            }
        }
    }

    ctx->buf = qemuio_parse_off_vector(&aio_read_cmd, argc, argv, 0xab,
                                       &ctx->offset, &ctx->qiov);
    if (!ctx->buf) {
        return -EINVAL;
    }
    ctx->bytes = ctx->qiov.size;
    ctx->t1 = qemuio_now();
    /* From here on the completion callback owns ctx. */
    req = g_steal_pointer(&ctx);
    blk_aio_preadv(blk, req->offset, &req->qiov, 0, aio_read_done, req);
    return 0;
}

static void aio_write_help(void)
{
    printf(
"\n"
" asynchronously writes a range of bytes from the given offset source\n"
" from multiple buffers\n"
"\n"
" Example:\n"
" 'aio_write 512 1k 1k' - writes 2 kilobytes at 512 bytes into the open file\n"
"\n"
" Writes into a segment of the currently open file, using a buffer\n"
" filled with a set pattern (0xcdcdcdcd).\n"
" The write is performed asynchronously and the aio_flush command must be\n"
" used to ensure all outstanding aio requests have been completed.\n"
" Note that due to its asynchronous nature, this command will be\n"
" considered successful once the request is submitted, independently\n"
" of potential I/O errors or pattern mismatches.\n"
" -C, -- report statistics in a machine parsable format\n"
" -f, -- use Force Unit Access semantics\n"
" -i, -- treat request as invalid, for exercising stats\n"
" -P, -- use different pattern to fill file\n"
" -q, -- quiet mode, do not show I/O statistics\n"
" -r, -- register I/O buffer\n"
" -u, -- with -z, allow unmapping\n"
" -z, -- write zeroes using blk_aio_pwrite_zeroes\n"
"\n");
}

static int aio_write_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd aio_write_cmd = {
    .name = "aio_write",
    .cfunc = aio_write_f,
    .argmin = 2,
    .argmax = -1,
    .flags = QEMUIO_CMD_WRITE,
    .args = "[-Cfiqruz] [-P pattern] off len [len..]",
    .oneline = "asynchronously writes a number of bytes",
    .help = aio_write_help,
};

static int aio_write_f(BlockBackend *blk, int argc, char **argv)
{
    g_autofree AioCtx *ctx = g_new0(AioCtx, 1);
    BdrvRequestFlags flags = 0;
    AioCtx *req;
    int c;

    ctx->opts.pattern = 0xcd;
    while ((c = getopt(argc, argv, "CfiP:qruz")) != -1) {
        switch (c) {
        case 'f':
            flags |= BDRV_REQ_FUA;
            break;
        case 'i':
            printf("injecting invalid write request\n");
            return 0;
        case 'u':
            flags |= BDRV_REQ_MAY_UNMAP;
            break;
        case 'z':
            ctx->zflag = true;
            break;
        default:
            if (!qemuio_parse_io_option(&aio_write_cmd, c, &ctx->opts)) {
                return -EINVAL;
            }
        }
    }

    if (optind > argc - 2) {
        qemuio_command_usage(&aio_write_cmd);
        return -EINVAL;
    }
    if (ctx->zflag && optind != argc - 2) {
        printf("-z supports only a single length parameter\n");
        return -EINVAL;
    }
    if ((flags & BDRV_REQ_MAY_UNMAP) && !ctx->zflag) {
        printf("-u requires -z to be specified\n");
        return -EINVAL;
    }
    /* QEMU 10 accepts -z with -P (the pattern is unused); so do we. */

    ctx->offset = qemuio_parse_num(argv[optind]);
    if (ctx->offset < 0) {
        return -EINVAL;
    }
    optind++;

    if (ctx->zflag) {
        ctx->bytes = qemuio_parse_num(argv[optind]);
        if (ctx->bytes < 0) {
            return -EINVAL;
        }
        ctx->t1 = qemuio_now();
        req = g_steal_pointer(&ctx);
        blk_aio_pwrite_zeroes(blk, req->offset, req->bytes,
                              qemuio_write_flags(flags), aio_write_done, req);
        return 0;
    }

    ctx->buf = qemuio_create_iovec(&ctx->qiov, &argv[optind], argc - optind,
                                   ctx->opts.pattern);
    if (!ctx->buf) {
        return -EINVAL;
    }
    ctx->bytes = ctx->qiov.size;
    ctx->t1 = qemuio_now();
    req = g_steal_pointer(&ctx);
    blk_aio_pwritev(blk, req->offset, &req->qiov, qemuio_write_flags(flags),
                    aio_write_done, req);
    return 0;
}

static int aio_flush_f(BlockBackend *blk, int argc, char **argv)
{
    blk_drain(blk);
    return 0;
}

static const QemuIoCmd aio_flush_cmd = {
    .name = "aio_flush",
    .cfunc = aio_flush_f,
    .oneline = "completes all outstanding aio requests",
};

static const QemuIoCmd *const aio_cmds[] = {
    &aio_flush_cmd, &aio_read_cmd, &aio_write_cmd,
};

void qemuio_add_aio_commands(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(aio_cmds); i++) {
        qemuio_add_command(aio_cmds[i]);
    }
}
