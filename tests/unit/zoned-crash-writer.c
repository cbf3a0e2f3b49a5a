/*
 * The writer of the zoned format's crash test: opens a zoned image and
 * writes to it until it is killed: concurrent appends to three zones,
 * sequential regular writes (some FUA) to three more, random writes to
 * the conventional zone, flushes every few milliseconds, resets of full
 * zones and now and then a finish.  Every acknowledged step is logged to
 * stdout (see zoned-crash.h); the test kills the writer with SIGKILL at a
 * random moment and checks the reopened image against the log.
 *
 * Usage: zoned-crash-writer IMAGE SEED
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block_int.h"
#include "sysemu/block-backend.h"
#include "qemu/main-loop.h"
#include "qemu/keyval.h"
#include "qapi/error.h"
#include "zoned-crash.h"

#define APPENDERS_PER_ZONE  6
#define ZC_BLOCKS_PER_ZONE  (ZC_ZONE_CAP / ZC_BLOCK)

typedef struct ZcZone {
    uint32_t index;
    uint64_t start;
    uint64_t gen;
    uint64_t wp;                /* write zones: acknowledged end */
    bool acked[ZC_BLOCKS_PER_ZONE]; /* append zones: acknowledged blocks */
    CoRwlock lock;              /* appenders read, a reset writes */
} ZcZone;

static BlockBackend *blk;
static ZcZone zones[ZC_NR_ZONES];
static GRand *rnd;
static uint64_t next_append_id = 1;
static unsigned flush_seq;

static void G_GNUC_PRINTF(1, 2) zc_log(const char *fmt, ...)
{
    g_autofree char *line = NULL;
    va_list ap;
    size_t len, done = 0;

    va_start(ap, fmt);
    line = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    len = strlen(line);
    g_assert(len < 4000);       /* one atomic pipe write */
    while (done < len) {
        ssize_t n = write(STDOUT_FILENO, line + done, len - done);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            exit(3);
        }
        done += n;
    }
}

static void QEMU_NORETURN zc_fail(const char *what, int ret)
{
    zc_log("E %s: %s\n", what, strerror(-ret));
    exit(2);
}

/* The contiguous acknowledged end of zone z. */
static uint64_t zc_acked_end(ZcZone *z)
{
    uint32_t i;

    if (z->index >= ZC_FIRST_WRITE) {
        return z->wp;
    }
    for (i = 0; i < ZC_BLOCKS_PER_ZONE && z->acked[i]; i++) {
        /* counting */
    }
    return z->start + (uint64_t)i * ZC_BLOCK;
}

/* "P n" now; the matching "F n ..." when the flush is acknowledged. */
static char *zc_snapshot(unsigned n)
{
    GString *s = g_string_new(NULL);

    zc_log("P %u\n", n);
    for (uint32_t i = ZC_FIRST_APPEND; i < ZC_FIRST_WRITE + ZC_NR_WRITE;
         i++) {
        g_string_append_printf(s, " %u:%" PRIu64 ":%" PRIu64, i,
                               zones[i].gen, zc_acked_end(&zones[i]));
    }
    return g_string_free(s, false);
}

/* Called with the zone's lock held for writing. */
static void coroutine_fn zc_reset(ZcZone *z)
{
    int ret;

    /* A snapshot taken meanwhile must not mix generations. */
    z->gen++;
    memset(z->acked, 0, sizeof(z->acked));
    z->wp = z->start;
    zc_log("r %u %" PRIu64 "\n", z->index, z->gen);
    ret = blk_co_zone_mgmt(blk, BLK_ZO_RESET, z->start, ZC_ZONE_SIZE);
    if (ret < 0) {
        zc_fail("reset", ret);
    }
    zc_log("R %u %" PRIu64 "\n", z->index, z->gen);
}

static void coroutine_fn zc_appender(void *opaque)
{
    ZcZone *z = opaque;
    uint8_t *buf = qemu_memalign(4096, 8 * ZC_BLOCK);

    for (;;) {
        uint32_t nb = g_rand_int_range(rnd, 1, 9);
        uint64_t id, gen;
        int64_t off = z->start;
        QEMUIOVector qiov;
        int ret;

        qemu_co_rwlock_rdlock(&z->lock);
        id = next_append_id++;
        gen = z->gen;
        for (uint32_t b = 0; b < nb; b++) {
            zc_fill(buf + b * ZC_BLOCK, z->index, gen, ZC_KIND_APPEND, id, b);
        }
        qemu_iovec_init_buf(&qiov, buf, nb * ZC_BLOCK);
        ret = blk_co_zone_append(blk, &off, &qiov, 0);
        if (ret == 0) {
            uint64_t first = (off - z->start) / ZC_BLOCK;

            zc_log("A %u %" PRIu64 " %" PRIu64 " %" PRId64 " %u\n",
                   z->index, gen, id, off, nb * ZC_BLOCK);
            for (uint32_t b = 0; b < nb; b++) {
                z->acked[first + b] = true;
            }
        }
        qemu_co_rwlock_unlock(&z->lock);
        if (ret == -EIO) {
            /* No room left (or finished): whoever gets there resets. */
            qemu_co_rwlock_wrlock(&z->lock);
            if (gen == z->gen) {
                zc_reset(z);
            }
            qemu_co_rwlock_unlock(&z->lock);
        } else if (ret < 0) {
            zc_fail("append", ret);
        } else if (g_rand_int_range(rnd, 0, 400) == 0) {
            qemu_co_rwlock_wrlock(&z->lock);
            if (gen == z->gen) {
                zc_log("f %u\n", z->index);
                ret = blk_co_zone_mgmt(blk, BLK_ZO_FINISH, z->start,
                                       ZC_ZONE_SIZE);
                if (ret < 0) {
                    zc_fail("finish", ret);
                }
                zc_reset(z);
            }
            qemu_co_rwlock_unlock(&z->lock);
        }
    }
}

static void coroutine_fn zc_seq_writer(void *opaque)
{
    ZcZone *z = opaque;
    uint8_t *buf = qemu_memalign(4096, 16 * ZC_BLOCK);

    for (;;) {
        uint64_t room = (z->start + ZC_ZONE_CAP - z->wp) / ZC_BLOCK;
        uint32_t want = g_rand_int_range(rnd, 1, 17);
        uint32_t nb = MIN(want, room);
        bool fua = g_rand_int_range(rnd, 0, 20) == 0;
        g_autofree char *snap = NULL;
        unsigned n = 0;
        QEMUIOVector qiov;
        int ret;

        if (room == 0) {
            zc_reset(z);
            continue;
        }
        for (uint32_t b = 0; b < nb; b++) {
            zc_fill(buf + b * ZC_BLOCK, z->index, z->gen, ZC_KIND_WRITE,
                    z->wp, b);
        }
        if (fua) {
            n = ++flush_seq;
            snap = zc_snapshot(n);
        }
        qemu_iovec_init_buf(&qiov, buf, nb * ZC_BLOCK);
        ret = blk_co_pwritev(blk, z->wp, nb * ZC_BLOCK, &qiov,
                             fua ? BDRV_REQ_FUA : 0);
        if (ret < 0) {
            g_autofree char *what = g_strdup_printf(
                "write of %u bytes at %" PRIu64 " (zone %u)", nb * ZC_BLOCK,
                z->wp, z->index);

            zc_fail(what, ret);
        }
        zc_log("W %u %" PRIu64 " %" PRIu64 " %u\n", z->index, z->gen, z->wp,
               nb * ZC_BLOCK);
        z->wp += nb * ZC_BLOCK;
        if (fua) {
            zc_log("F %u%s\n", n, snap);
        }
    }
}

static void coroutine_fn zc_conv_writer(void *opaque)
{
    uint8_t *buf = qemu_memalign(4096, 8 * ZC_BLOCK);

    for (;;) {
        uint32_t nb = g_rand_int_range(rnd, 1, 9);
        uint64_t off = (uint64_t)g_rand_int_range(rnd, 0,
                           ZC_ZONE_SIZE / ZC_BLOCK - nb + 1) * ZC_BLOCK;
        QEMUIOVector qiov;
        int ret;

        for (uint32_t b = 0; b < nb; b++) {
            zc_fill(buf + b * ZC_BLOCK, 0, 0, ZC_KIND_CONV, off, b);
        }
        qemu_iovec_init_buf(&qiov, buf, nb * ZC_BLOCK);
        ret = blk_co_pwritev(blk, off, nb * ZC_BLOCK, &qiov, 0);
        if (ret < 0) {
            zc_fail("conventional write", ret);
        }
    }
}

static void coroutine_fn zc_flusher(void *opaque)
{
    for (;;) {
        unsigned n;
        g_autofree char *snap = NULL;
        int ret;

        qemu_co_sleep_ns(g_rand_int_range(rnd, 0, 3000000));
        n = ++flush_seq;
        snap = zc_snapshot(n);
        ret = blk_co_flush(blk);
        if (ret < 0) {
            zc_fail("flush", ret);
        }
        zc_log("F %u%s\n", n, snap);
    }
}

/* Where each zone stands after the previous round's crash. */
static void coroutine_fn zc_start(void *opaque)
{
    BlockZoneDescriptor d[ZC_NR_ZONES];
    unsigned int nr = ZC_NR_ZONES;
    uint8_t *buf = qemu_memalign(4096, ZC_BLOCK);
    int ret;

    ret = blk_co_zone_report(blk, 0, &nr, d);
    if (ret < 0 || nr != ZC_NR_ZONES) {
        zc_fail("report", ret < 0 ? ret : -EIO);
    }
    for (uint32_t i = ZC_FIRST_APPEND; i < ZC_FIRST_WRITE + ZC_NR_WRITE;
         i++) {
        ZcZone *z = &zones[i];
        ZcStamp st;

        z->index = i;
        z->start = d[i].start;
        z->wp = z->start;
        qemu_co_rwlock_init(&z->lock);
        if (d[i].state == BLK_ZS_FULL) {
            zc_reset(z);
        } else if (d[i].wp > d[i].start) {
            ret = blk_co_pread(blk, z->start, ZC_BLOCK, buf, 0);
            if (ret < 0 || !zc_parse(buf, &st)) {
                zc_fail("reading the first block", ret < 0 ? ret : -EIO);
            }
            z->gen = st.gen;
            z->wp = d[i].wp;
            for (uint64_t b = 0; b < (d[i].wp - z->start) / ZC_BLOCK; b++) {
                z->acked[b] = true;
            }
        }
        zc_log("S %u %" PRIu64 " %" PRIu64 "\n", i, z->gen, z->wp);
    }
    zc_log("G\n");
    for (uint32_t i = ZC_FIRST_APPEND; i < ZC_FIRST_APPEND + ZC_NR_APPEND;
         i++) {
        for (int k = 0; k < APPENDERS_PER_ZONE; k++) {
            qemu_coroutine_enter(qemu_coroutine_create(zc_appender,
                                                       &zones[i]));
        }
    }
    for (uint32_t i = ZC_FIRST_WRITE; i < ZC_FIRST_WRITE + ZC_NR_WRITE;
         i++) {
        qemu_coroutine_enter(qemu_coroutine_create(zc_seq_writer,
                                                   &zones[i]));
    }
    qemu_coroutine_enter(qemu_coroutine_create(zc_conv_writer, NULL));
    qemu_coroutine_enter(qemu_coroutine_create(zc_flusher, NULL));
    qemu_vfree(buf);
}

int main(int argc, char **argv)
{
    QDict *opts;
    Error *err = NULL;

    if (argc != 3) {
        fprintf(stderr, "Usage: %s IMAGE SEED\n", argv[0]);
        return 1;
    }
    qemu_init_main_loop(&error_abort);
    rnd = g_rand_new_with_seed(strtoul(argv[2], NULL, 0));
    /* Ids stay unique across rounds (a zone's generation may not). */
    next_append_id = (uint64_t)strtoul(argv[2], NULL, 0) << 32 | 1;
    opts = qdict_new();
    qdict_put_str(opts, "driver", "zoned");
    blk = blk_new_open(argv[1], opts, BDRV_O_RDWR, &err);
    if (!blk) {
        zc_log("E open: %s\n", error_get_pretty(err));
        return 2;
    }
    aio_co_enter(qemu_get_aio_context(),
                 qemu_coroutine_create(zc_start, NULL));
    for (;;) {
        main_loop_wait(false);
    }
}
