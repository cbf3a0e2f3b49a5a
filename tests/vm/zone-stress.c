/*
 * zone-stress: many concurrent zone appends through the BlockBackend API
 * on a zoned host device (run in the VM tier against zoned null_blk).
 *
 * Two phases: N appends in flight into one zone, then the same into
 * several zones (request i goes to zone i % Z).  Each append carries data
 * that names it (request id and word index in every 64-bit word).  After
 * each phase it checks that every append succeeded, that no two overlap
 * and the zone has no hole, that every returned offset holds its own data
 * (read back), and that the write pointers equal the device's zone report,
 * and the tracker's cached pointers the report of every zone.  Prints the
 * appends per second of each phase; exits 1 on any violation, 2 when it
 * cannot run.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block_int.h"
#include "block/raw-aio.h"
#include "block/zone-wp.h"
#include "sysemu/block-backend.h"
#include "qemu/keyval.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"

#define STRESS_MAGIC 0x5a5aULL

typedef struct Append {
    int64_t zone;               /* zone start */
    int64_t offset;             /* where it landed */
    uint32_t len;
    int ret;
} Append;

typedef struct Phase {
    BlockBackend *blk;
    Append *ap;
    unsigned int count;
    unsigned int next;
    unsigned int active;
    uint32_t max_len;
    size_t mem_align;
} Phase;

static unsigned int violations;

static void G_GNUC_PRINTF(1, 2) violation(const char *fmt, ...)
{
    va_list ap;

    if (violations++ < 20) {
        va_start(ap, fmt);
        printf("VIOLATION: ");
        vprintf(fmt, ap);
        printf("\n");
        va_end(ap);
    }
}

static uint64_t word(uint32_t id, uint64_t i)
{
    return (STRESS_MAGIC << 48) | ((uint64_t)(id & 0xffffff) << 24) |
           (i & 0xffffff);
}

static void fill(uint8_t *buf, uint32_t len, uint32_t id)
{
    for (uint64_t i = 0; i < len / 8; i++) {
        uint64_t w = word(id, i);
        memcpy(buf + i * 8, &w, 8);
    }
}

static void coroutine_fn append_worker(void *opaque)
{
    Phase *p = opaque;
    uint8_t *buf = qemu_memalign(p->mem_align, p->max_len);

    while (p->next < p->count) {
        unsigned int id = p->next++;
        Append *a = &p->ap[id];
        QEMUIOVector qiov;
        int64_t off = a->zone;

        fill(buf, a->len, id);
        qemu_iovec_init_buf(&qiov, buf, a->len);
        a->ret = blk_co_zone_append(p->blk, &off, &qiov, 0);
        a->offset = off;
    }
    qemu_vfree(buf);
    p->active--;
}

/* The protocol node under blk (raw's file), for the tracker's counters. */
static BlockDriverState *protocol_bs(BlockBackend *blk)
{
    BlockDriverState *bs = blk_bs(blk);

    while (bs && bs->drv && bs->drv->is_format && bs->file) {
        bs = bs->file->bs;
    }
    return bs;
}

static int cmp_offset(const void *a, const void *b)
{
    const Append *x = *(Append *const *)a, *y = *(Append *const *)b;

    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

/*
 * The appends of zone z: all succeeded, in the zone, no overlap, no hole,
 * each holds its data, and the device's pointer is at their end.
 */
static void check_zone(BlockBackend *blk, Phase *p, const BlockZoneDescriptor
                       *zd)
{
    g_autofree Append **list = g_new(Append *, p->count);
    unsigned int n = 0;
    uint64_t end = zd->start, total;
    BlockZoneDescriptor now;
    unsigned int one = 1;
    uint8_t *buf;
    int ret;

    for (unsigned int i = 0; i < p->count; i++) {
        if ((uint64_t)p->ap[i].zone == zd->start && p->ap[i].ret == 0) {
            list[n++] = &p->ap[i];
        }
    }
    qsort(list, n, sizeof(*list), cmp_offset);
    for (unsigned int i = 0; i < n; i++) {
        Append *a = list[i];

        if ((uint64_t)a->offset < end) {
            violation("append %td at 0x%" PRIx64 "+0x%x overlaps the one "
                      "before (which ends at 0x%" PRIx64 ")", a - p->ap,
                      a->offset, a->len, end);
        } else if ((uint64_t)a->offset > end) {
            violation("hole in zone 0x%" PRIx64 " at 0x%" PRIx64 "+0x%"
                      PRIx64, zd->start, end, a->offset - end);
        }
        end = MAX(end, a->offset + a->len);
    }
    if (end > zd->start + zd->cap) {
        violation("appends of zone 0x%" PRIx64 " end at 0x%" PRIx64
                  ", beyond its capacity", zd->start, end);
        return;
    }
    total = end - zd->start;

    /* Every offset holds its own data. */
    buf = qemu_memalign(p->mem_align, MAX(total, 4096));
    ret = total ? blk_pread(blk, zd->start, total, buf, 0) : 0;
    if (ret < 0) {
        violation("read of zone 0x%" PRIx64 " failed: %s", zd->start,
                  strerror(-ret));
    } else {
        for (unsigned int i = 0; i < n; i++) {
            Append *a = list[i];
            uint8_t *data = buf + (a->offset - zd->start);

            for (uint64_t w = 0; w < a->len / 8; w++) {
                uint64_t want = word(a - p->ap, w), got;

                memcpy(&got, data + w * 8, 8);
                if (got != want) {
                    violation("append %td at 0x%" PRIx64 ": word %" PRIu64
                              " is 0x%016" PRIx64 ", not 0x%016" PRIx64,
                              a - p->ap, a->offset, w, got, want);
                    break;
                }
            }
        }
    }
    qemu_vfree(buf);

    /* The device agrees on where the zone ends. */
    ret = blk_zone_report(blk, zd->start, &one, &now);
    if (ret < 0 || one != 1) {
        violation("zone report at 0x%" PRIx64 " failed: %s", zd->start,
                  strerror(ret < 0 ? -ret : EIO));
    } else if (zone_wp_value(&now) != zone_wp_value(&(BlockZoneDescriptor) {
                   .start = zd->start, .length = zd->length, .cap = zd->cap,
                   .wp = end, .type = zd->type, .state = BLK_ZS_IOPEN })) {
        violation("zone 0x%" PRIx64 ": the device's write pointer is 0x%"
                  PRIx64 " (cond %d), the appends end at 0x%" PRIx64,
                  zd->start, now.wp, now.state, end);
    }
}

/* The tracker's cached pointers equal the device's report, every zone. */
static void check_cache(BlockBackend *blk, const BlockLimits *bl)
{
    BlockDriverState *bs = protocol_bs(blk);
    unsigned int nr = bl->nr_zones;
    g_autofree BlockZoneDescriptor *zones = g_new(BlockZoneDescriptor, nr);
    RawInfo info;
    int ret;

    raw_get_info(bs, &info);
    if (!info.zoned || !info.zone_wps) {
        violation("the protocol node tracks no write pointers");
        return;
    }
    ret = blk_zone_report(blk, 0, &nr, zones);
    if (ret < 0) {
        violation("zone report failed: %s", strerror(-ret));
        return;
    }
    for (unsigned int i = 0; i < nr && i < info.zone_wps->nr_zones; i++) {
        if (info.zone_wps->wp[i] != zone_wp_value(&zones[i])) {
            violation("zone %u: cached 0x%" PRIx64 ", reported 0x%" PRIx64
                      " (cond %d)", i, info.zone_wps->wp[i],
                      zone_wp_value(&zones[i]), zones[i].state);
        }
    }
}

static uint64_t device_writes(BlockBackend *blk)
{
    RawInfo info;

    raw_get_info(protocol_bs(blk), &info);
    return info.zone_stats.device_writes;
}

/*
 * count appends over zones[0..nz), inflight at a time.  Returns the
 * appends per second, or -1 when the appends do not fit the zones.
 */
static double run_phase(BlockBackend *blk, const BlockLimits *bl,
                        const BlockZoneDescriptor *zones, unsigned int nz,
                        unsigned int count, unsigned int inflight,
                        uint32_t max_len, const char *name)
{
    Phase p = {
        .blk = blk, .count = count, .max_len = max_len,
        .mem_align = MAX(bdrv_opt_mem_align(blk_bs(blk)), 4096),
    };
    uint32_t gran = bl->write_granularity;
    uint32_t blocks = max_len / gran;
    g_autofree uint64_t *used = g_new0(uint64_t, nz);
    uint64_t bytes = 0, writes;
    int64_t t0, t1;
    double rate;

    p.ap = g_new0(Append, count);
    for (unsigned int i = 0; i < count; i++) {
        unsigned int z = i % nz;

        p.ap[i].zone = zones[z].start;
        p.ap[i].len = gran * (1 + (i * 7 + i / 3) % blocks);
        used[z] += p.ap[i].len;
        bytes += p.ap[i].len;
        if (used[z] > zones[z].cap) {
            printf("%s: %u appends of up to %u bytes do not fit %u zone(s) "
                   "of %" PRIu64 " bytes: use a smaller -c or -b\n", name,
                   count, max_len, nz, zones[z].cap);
            g_free(p.ap);
            return -1;
        }
    }
    for (unsigned int z = 0; z < nz; z++) {
        int ret = blk_zone_mgmt(blk, BLK_ZO_RESET, zones[z].start,
                                zones[z].length);
        if (ret < 0) {
            violation("reset of zone 0x%" PRIx64 " failed: %s",
                      zones[z].start, strerror(-ret));
        }
    }

    writes = device_writes(blk);
    t0 = g_get_monotonic_time();
    p.active = MIN(inflight, count);
    for (unsigned int i = 0, n = p.active; i < n; i++) {
        qemu_coroutine_enter(qemu_coroutine_create(append_worker, &p));
    }
    while (p.active) {
        main_loop_wait(false);
    }
    t1 = g_get_monotonic_time();
    writes = device_writes(blk) - writes;
    rate = count / (MAX(t1 - t0, 1) / 1e6);

    for (unsigned int i = 0; i < count; i++) {
        if (p.ap[i].ret < 0) {
            violation("append %u to zone 0x%" PRIx64 " failed: %s", i,
                      p.ap[i].zone, strerror(-p.ap[i].ret));
        }
    }
    for (unsigned int z = 0; z < nz; z++) {
        check_zone(blk, &p, &zones[z]);
    }
    printf("%s: %u appends (%" PRIu64 " bytes, %u..%u each) into %u "
           "zone(s), %u in flight: %.3f s, %.0f appends/s, %.1f MiB/s, "
           "%" PRIu64 " device writes\n", name, count, bytes, gran, max_len,
           nz, MIN(inflight, count), (t1 - t0) / 1e6, rate,
           bytes / ((MAX(t1 - t0, 1) / 1e6) * 1048576.0), writes);
    g_free(p.ap);
    return rate;
}

static void usage(void)
{
    printf(
"usage: zone-stress [options] DEVICE\n"
"  -d DRIVER  host_device (default) or raw (raw over host_device)\n"
"  -a AIO     threads (default), native or io_uring\n"
"  -n N       appends in flight (default 64)\n"
"  -c COUNT   appends per phase (default 2048)\n"
"  -b BYTES   largest append (default 16384, at most the device's limit)\n"
"  -z N       zones of the second phase (default 8)\n"
"Exit status: 0 all checks passed, 1 a violation, 2 could not run.\n");
}

int main(int argc, char **argv)
{
    const char *driver = "host_device", *aio = "threads";
    unsigned int inflight = 64, count = 2048, nz_multi = 8;
    uint64_t max_bytes = 16384;
    g_autofree char *optstr = NULL;
    g_autofree BlockZoneDescriptor *all = NULL;
    g_autofree BlockZoneDescriptor *seq = NULL;
    BlockBackend *blk;
    BlockLimits bl;
    QDict *opts;
    Error *err = NULL;
    unsigned int nr, nseq = 0;
    uint32_t max_len;
    int c, ret;

    while ((c = getopt(argc, argv, "d:a:n:c:b:z:h")) != -1) {
        switch (c) {
        case 'd':
            driver = optarg;
            break;
        case 'a':
            aio = optarg;
            break;
        case 'n':
            inflight = atoi(optarg);
            break;
        case 'c':
            count = atoi(optarg);
            break;
        case 'b':
            max_bytes = strtoull(optarg, NULL, 0);
            break;
        case 'z':
            nz_multi = atoi(optarg);
            break;
        case 'h':
            usage();
            return 0;
        default:
            usage();
            return 2;
        }
    }
    if (optind != argc - 1 || !inflight || !count || !nz_multi ||
        (strcmp(driver, "raw") && strcmp(driver, "host_device"))) {
        usage();
        return 2;
    }

    qemu_init_main_loop(&error_fatal);
    if (strcmp(driver, "raw") == 0) {
        optstr = g_strdup_printf("driver=raw,file.driver=host_device,"
                                 "file.filename=%s,file.aio=%s",
                                 argv[optind], aio);
    } else {
        optstr = g_strdup_printf("driver=host_device,filename=%s,aio=%s",
                                 argv[optind], aio);
    }
    opts = keyval_parse(optstr, NULL, &error_fatal);
    blk = blk_new_open(NULL, opts, BDRV_O_RDWR | BDRV_O_NOCACHE, &err);
    if (!blk) {
        error_reportf_err(err, "zone-stress: cannot open %s: ",
                          argv[optind]);
        return 2;
    }
    blk_get_zone_limits(blk, &bl);
    if (bl.zoned == BLK_Z_NONE || !bl.nr_zones || !bl.write_granularity) {
        printf("zone-stress: %s is not zoned\n", argv[optind]);
        blk_unref(blk);
        return 2;
    }

    nr = bl.nr_zones;
    all = g_new(BlockZoneDescriptor, nr);
    seq = g_new(BlockZoneDescriptor, nr);
    ret = blk_zone_report(blk, 0, &nr, all);
    if (ret < 0) {
        printf("zone-stress: zone report failed: %s\n", strerror(-ret));
        blk_unref(blk);
        return 2;
    }
    for (unsigned int i = 0; i < nr; i++) {
        if (all[i].type != BLK_ZT_CONV && all[i].state != BLK_ZS_RDONLY &&
            all[i].state != BLK_ZS_OFFLINE) {
            seq[nseq++] = all[i];
        }
    }
    max_len = MIN(max_bytes, bl.max_append_bytes ? bl.max_append_bytes
                                                 : bl.zone_size);
    max_len = QEMU_ALIGN_DOWN(max_len, bl.write_granularity);
    if (!nseq || !max_len) {
        printf("zone-stress: no usable sequential zone or append size\n");
        blk_unref(blk);
        return 2;
    }
    printf("%s over %s, aio=%s: %u zones of %" PRIu64 " bytes "
           "(capacity %" PRIu64 "), %u sequential, max append %" PRIu64
           ", granularity %u\n", driver, argv[optind], aio, nr, bl.zone_size,
           bl.zone_capacity, nseq, bl.max_append_bytes,
           bl.write_granularity);

    if (run_phase(blk, &bl, seq, 1, count, inflight, max_len,
                  "one zone") < 0 ||
        run_phase(blk, &bl, seq, MIN(nz_multi, nseq), count, inflight,
                  max_len, "zones") < 0) {
        blk_unref(blk);
        return 2;
    }
    check_cache(blk, &bl);
    blk_unref(blk);

    if (violations) {
        printf("FAIL: %u violation(s)\n", violations);
        return 1;
    }
    printf("PASS\n");
    return 0;
}
