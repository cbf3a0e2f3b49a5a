/*
 * Zone append throughput on a zoned image, next to plain writes of the
 * same pattern (the same sizes at consecutive offsets, as many in flight)
 * on a raw image in the same directory, so the same file system: 4 KiB
 * and 64 KiB requests at queue depth 1 and 32.  Prints MB/s and IOPS of
 * both and their ratio (zoned / raw).  Each case runs on a fresh zone of
 * a fresh image and ends with a flush, which counts.
 *
 * Usage: zoned-bench [-d DIR] [-m MiB-per-case] [-r repeats] [-D] [-i AIO]
 *                    [-b KiB] [-q depth]
 *   -b, -q  only this request size / queue depth
 *   -t   only one side (zoned or raw), for profiling
 *   -D   cache.direct=on (O_DIRECT) for both images
 *   -i   the file driver's aio backend (threads, native, io_uring)
 *   -r   run each case this many times, alternating, and keep the best
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block_int.h"
#include "sysemu/block-backend.h"
#include "qemu/main-loop.h"
#include "qemu/keyval.h"
#include "qapi/error.h"

#define MiB (1024 * 1024LL)

typedef struct Bench {
    BlockBackend *blk;
    bool zoned;
    int64_t zone_start;
    uint64_t bs;
    uint64_t ops;               /* to issue */
    uint64_t issued;
    uint64_t next_off;          /* raw: the next offset */
    int active;
    int err;
    uint8_t *buf;
} Bench;

static void coroutine_fn bench_worker(void *opaque)
{
    Bench *b = opaque;
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, b->buf, b->bs);
    while (b->issued < b->ops && !b->err) {
        int ret;

        b->issued++;
        if (b->zoned) {
            int64_t off = b->zone_start;

            ret = blk_co_zone_append(b->blk, &off, &qiov, 0);
        } else {
            int64_t off = b->next_off;

            b->next_off += b->bs;
            ret = blk_co_pwritev(b->blk, off, b->bs, &qiov, 0);
        }
        if (ret < 0) {
            b->err = ret;
        }
    }
    if (--b->active == 0 && !b->err) {
        b->err = blk_co_flush(b->blk);
    }
}

static BlockBackend *bench_open(const char *path, bool zoned, bool direct,
                                const char *aio)
{
    QDict *o = qdict_new();
    Error *err = NULL;
    BlockBackend *blk;

    qdict_put_str(o, "driver", zoned ? "zoned" : "raw");
    qdict_put_str(o, "file.driver", "file");
    if (aio) {
        qdict_put_str(o, "file.aio", aio);
    }
    blk = blk_new_open(path, o, BDRV_O_RDWR | (direct ? BDRV_O_NOCACHE : 0),
                       &err);
    if (!blk) {
        error_report_err(err);
        exit(1);
    }
    return blk;
}

/* One case; returns the elapsed seconds. */
static double bench_case(const char *dir, bool zoned, uint64_t bs, int qd,
                         uint64_t bytes, bool direct, const char *aio)
{
    g_autofree char *path = g_strdup_printf("%s/zoned-bench.%s", dir,
                                            zoned ? "zoned" : "raw");
    Error *err = NULL;
    QDict *opts = NULL;
    Bench b = {
        .zoned = zoned, .bs = bs, .ops = bytes / bs, .active = qd,
    };
    int64_t t0, t1;

    if (zoned) {
        opts = keyval_parse("zone_size=1G,logical_block_size=4096", NULL,
                            &error_abort);
    }
    if (bdrv_create(zoned ? "zoned" : "raw", path, opts, 2 * 1024 * MiB,
                    &err) < 0) {
        error_report_err(err);
        exit(1);
    }
    b.blk = bench_open(path, zoned, direct, aio);
    b.buf = qemu_memalign(4096, bs);
    memset(b.buf, 0xa5, bs);
    t0 = g_get_monotonic_time();
    for (int i = 0; i < qd; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(bench_worker, &b));
    }
    while (b.active > 0 || (b.err == 0 && b.issued < b.ops)) {
        main_loop_wait(false);
    }
    t1 = g_get_monotonic_time();
    if (b.err) {
        fprintf(stderr, "%s: %s\n", path, strerror(-b.err));
        exit(1);
    }
    qemu_vfree(b.buf);
    blk_unref(b.blk);
    unlink(path);
    return (t1 - t0) / 1e6;
}

int main(int argc, char **argv)
{
    const char *dir = g_get_tmp_dir();
    const char *aio = NULL;
    uint64_t mib = 256;
    int repeats = 3;
    bool direct = false;
    uint64_t only_bs = 0;
    int only_qd = 0;
    const char *only = NULL;
    static const uint64_t sizes[] = { 4096, 65536 };
    static const int depths[] = { 1, 32 };
    int c;

    while ((c = getopt(argc, argv, "d:m:r:Di:b:q:t:h")) != -1) {
        switch (c) {
        case 'b':
            only_bs = strtoull(optarg, NULL, 0) * 1024;
            break;
        case 'q':
            only_qd = atoi(optarg);
            break;
        case 't':
            only = optarg;
            break;
        case 'd':
            dir = optarg;
            break;
        case 'm':
            mib = strtoull(optarg, NULL, 0);
            break;
        case 'r':
            repeats = MAX(atoi(optarg), 1);
            break;
        case 'D':
            direct = true;
            break;
        case 'i':
            aio = optarg;
            break;
        default:
            fprintf(stderr, "Usage: %s [-d DIR] [-m MiB-per-case] "
                    "[-r repeats] [-D] [-i threads|native|io_uring] "
                    "[-b KiB] [-q depth] [-t zoned|raw]\n",
                    argv[0]);
            return c == 'h' ? 0 : 1;
        }
    }
    qemu_init_main_loop(&error_abort);
    printf("zoned-bench: %s, %" PRIu64 " MiB per case, best of %d, %s, "
           "aio=%s\n", dir, mib, repeats,
           direct ? "cache.direct=on" : "page cache", aio ? aio : "threads");
    printf("%-12s %12s %12s %12s %12s %7s\n", "case", "zoned MB/s",
           "zoned IOPS", "raw MB/s", "raw IOPS", "ratio");
    for (size_t si = 0; si < ARRAY_SIZE(sizes); si++) {
        for (size_t di = 0; di < ARRAY_SIZE(depths); di++) {
            uint64_t bs = sizes[si];
            uint64_t bytes = QEMU_ALIGN_DOWN(mib * MiB, bs);

            if ((only_bs && bs != only_bs) ||
                (only_qd && depths[di] != only_qd)) {
                continue;
            }
            double tz = 1e9, tr = 1e9;
            g_autofree char *name = NULL;

            name = g_strdup_printf("%" PRIu64 "K QD%d", bs / 1024,
                                   depths[di]);
            /* Alternate, so that drifts in the machine hit both alike. */
            for (int r = 0; r < repeats; r++) {
                if (!only || !strcmp(only, "raw")) {
                    tr = MIN(tr, bench_case(dir, false, bs, depths[di],
                                            bytes, direct, aio));
                }
                if (!only || !strcmp(only, "zoned")) {
                    tz = MIN(tz, bench_case(dir, true, bs, depths[di],
                                            bytes, direct, aio));
                }
            }
            printf("%-12s %12.1f %12.0f %12.1f %12.0f %7.2f\n", name,
                   bytes / tz / 1e6, bytes / bs / tz, bytes / tr / 1e6,
                   bytes / bs / tr, tr / tz);
        }
    }
    return 0;
}
