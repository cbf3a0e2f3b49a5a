/*
 * Tests of the write-pointer tracker (block/zone-wp.c) against an
 * in-memory zoned device with the kernel's rules (null_blk's): writes at
 * the write pointer only and within the capacity, full/read-only/offline
 * zones refuse writes, conventional zones take anything, management calls
 * fail on conventional, read-only and offline zones.  The fake device can
 * hold the writes of a zone ("gate"), fail the next calls on demand, and
 * logs every call, so the tests can check ordering, parallelism,
 * coalescing and resynchronisation without timing.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/zone-wp.h"
#include "block/block_int.h"
#include "sysemu/block-backend.h"
#include "qemu/keyval.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"

#define KiB 1024ULL

/* ---- the fake device ---- */

typedef struct FakeZone {
    uint64_t start, len, cap, wp;
    BlockZoneType type;
    BlockZoneState state;
    int in_flight;
    bool gated;
    GQueue held;                /* coroutines stopped by the gate */
} FakeZone;

typedef struct FakeEvent {
    char op;                    /* W write, R report, M mgmt */
    unsigned int zone;
    uint64_t offset, size;
    int niov;
    int ret;
} FakeEvent;

typedef struct FakeDev {
    uint64_t zone_size, length;
    unsigned int nr_zones;
    FakeZone *zones;
    uint8_t *data;
    GArray *log;                /* FakeEvent */
    unsigned int violations;    /* two writes in flight in one zone, ... */
    unsigned int busy_zones, max_busy_zones;
    /* Failure injection: the next n calls of a kind fail with err. */
    int fail_write_zone;        /* -1: any zone */
    unsigned int fail_writes;
    int fail_write_err;
    bool fail_write_half;       /* write half of the data, then fail */
    unsigned int fail_reports;
    int fail_report_err;
    unsigned int fail_mgmts;
    int fail_mgmt_err;
} FakeDev;

static AioContext *ctx(void)
{
    return qemu_get_aio_context();
}

static void fake_log(FakeDev *d, char op, unsigned int zone, uint64_t offset,
                     uint64_t size, int niov, int ret)
{
    FakeEvent e = { op, zone, offset, size, niov, ret };

    g_array_append_val(d->log, e);
}

static unsigned int count_events(FakeDev *d, char op, int zone)
{
    unsigned int n = 0;

    for (guint i = 0; i < d->log->len; i++) {
        FakeEvent *e = &g_array_index(d->log, FakeEvent, i);
        if (e->op == op && (zone < 0 || e->zone == (unsigned)zone)) {
            n++;
        }
    }
    return n;
}

/*
 * zones of zone_size, the last one last_len long (0: full size), the
 * first nr_conv conventional, sequential ones with capacity cap (the last
 * one min(cap, last_len)).
 */
static FakeDev *fake_new(uint64_t zone_size, unsigned int nr_zones,
                         uint64_t last_len, uint64_t cap,
                         unsigned int nr_conv)
{
    FakeDev *d = g_new0(FakeDev, 1);

    d->zone_size = zone_size;
    d->nr_zones = nr_zones;
    d->length = zone_size * (nr_zones - 1) + (last_len ? last_len
                                                        : zone_size);
    d->zones = g_new0(FakeZone, nr_zones);
    d->data = g_malloc0(d->length);
    d->log = g_array_new(false, false, sizeof(FakeEvent));
    d->fail_write_zone = -1;
    for (unsigned int i = 0; i < nr_zones; i++) {
        FakeZone *z = &d->zones[i];

        z->start = i * zone_size;
        z->len = MIN(zone_size, d->length - z->start);
        g_queue_init(&z->held);
        if (i < nr_conv) {
            z->type = BLK_ZT_CONV;
            z->state = BLK_ZS_NOT_WP;
            z->cap = z->len;
        } else {
            z->type = BLK_ZT_SWR;
            z->state = BLK_ZS_EMPTY;
            z->cap = MIN(cap, z->len);
        }
        z->wp = z->start;
    }
    return d;
}

static void fake_free(FakeDev *d)
{
    for (unsigned int i = 0; i < d->nr_zones; i++) {
        g_assert_true(g_queue_is_empty(&d->zones[i].held));
    }
    g_free(d->zones);
    g_free(d->data);
    g_array_free(d->log, true);
    g_free(d);
}

/* Put zone i in a state as null_blk's zone_full/zone_readonly would. */
static void fake_set(FakeDev *d, unsigned int i, BlockZoneState state,
                     uint64_t written)
{
    FakeZone *z = &d->zones[i];

    z->state = state;
    switch (state) {
    case BLK_ZS_FULL:
        z->wp = z->start + z->cap;
        break;
    case BLK_ZS_RDONLY:
    case BLK_ZS_OFFLINE:
        z->wp = UINT64_MAX;
        break;
    default:
        z->wp = z->start + written;
    }
}

static void fake_zone_desc(FakeDev *d, unsigned int i, BlockZoneDescriptor *o)
{
    FakeZone *z = &d->zones[i];

    *o = (BlockZoneDescriptor) {
        .start = z->start, .length = z->len, .cap = z->cap, .wp = z->wp,
        .type = z->type, .state = z->state,
    };
}

static void fake_gate(FakeDev *d, unsigned int i, bool closed)
{
    FakeZone *z = &d->zones[i];

    z->gated = closed;
    while (!closed && !g_queue_is_empty(&z->held)) {
        aio_co_wake(g_queue_pop_head(&z->held));
    }
}

static bool fake_is_held(FakeDev *d, unsigned int i)
{
    return !g_queue_is_empty(&d->zones[i].held);
}

/* The kernel's (null_blk's) rules for a write of size bytes at offset. */
static int fake_check_write(FakeZone *z, uint64_t offset, uint64_t size)
{
    if (z->type == BLK_ZT_CONV) {
        return 0;
    }
    if (z->state == BLK_ZS_OFFLINE || z->state == BLK_ZS_RDONLY ||
        z->state == BLK_ZS_FULL) {
        return -EIO;
    }
    if (offset != z->wp || z->wp + size > z->start + z->cap) {
        return -EIO;
    }
    return 0;
}

static void fake_advance(FakeZone *z, uint64_t size)
{
    if (z->type == BLK_ZT_CONV || size == 0) {
        return;
    }
    z->wp += size;
    z->state = z->wp == z->start + z->cap ? BLK_ZS_FULL
             : z->state == BLK_ZS_EOPEN ? BLK_ZS_EOPEN : BLK_ZS_IOPEN;
}

static int coroutine_fn fake_pwritev(void *opaque, int64_t offset,
                                     QEMUIOVector *qiov)
{
    FakeDev *d = opaque;
    unsigned int i = offset / d->zone_size;
    FakeZone *z = &d->zones[i];
    Coroutine *self = qemu_coroutine_self();
    uint64_t size = qiov->size;
    bool inject = false;
    int ret;

    g_assert_cmpuint(offset + size, <=, d->length);
    /* Injected failures hit the writes submitted after they were set. */
    if (d->fail_writes &&
        (d->fail_write_zone < 0 || d->fail_write_zone == (int)i)) {
        d->fail_writes--;
        inject = true;
    }
    if (offset + size > z->start + z->len) {
        d->violations++;        /* the tracker must split at zones */
    }
    if (z->in_flight++ && z->type != BLK_ZT_CONV) {
        d->violations++;        /* two writes in flight in a zone */
    }
    if (z->in_flight == 1 && ++d->busy_zones > d->max_busy_zones) {
        d->max_busy_zones = d->busy_zones;
    }

    /* Complete asynchronously, as a real device does. */
    if (z->gated) {
        g_queue_push_tail(&z->held, self);
    } else {
        aio_co_schedule(ctx(), self);
    }
    qemu_coroutine_yield();

    ret = fake_check_write(z, offset, size);
    if (ret == 0 && inject) {
        ret = d->fail_write_err;
        if (d->fail_write_half) {
            /* Part of the data reached the medium before the error. */
            uint64_t half = QEMU_ALIGN_DOWN(size / 2, 4 * KiB);
            qemu_iovec_to_buf(qiov, 0, d->data + offset, half);
            fake_advance(z, half);
        }
    }
    if (ret == 0) {
        qemu_iovec_to_buf(qiov, 0, d->data + offset, size);
        fake_advance(z, size);
    }
    fake_log(d, 'W', i, offset, size, qiov->niov, ret);
    if (--z->in_flight == 0) {
        d->busy_zones--;
    }
    return ret;
}

static int coroutine_fn fake_report(void *opaque, int64_t offset,
                                    unsigned int *nr_zones,
                                    BlockZoneDescriptor *zones)
{
    FakeDev *d = opaque;
    unsigned int first = offset / d->zone_size;
    unsigned int n = 0;

    if (d->fail_reports) {
        d->fail_reports--;
        fake_log(d, 'R', first, offset, 0, 0, d->fail_report_err);
        return d->fail_report_err;
    }
    while (n < *nr_zones && first + n < d->nr_zones) {
        fake_zone_desc(d, first + n, &zones[n]);
        n++;
    }
    *nr_zones = n;
    fake_log(d, 'R', first, offset, n, 0, 0);
    return 0;
}

static int fake_mgmt_zone(FakeZone *z, BlockZoneOp op)
{
    if (z->type == BLK_ZT_CONV || z->state == BLK_ZS_RDONLY ||
        z->state == BLK_ZS_OFFLINE) {
        return -EIO;
    }
    switch (op) {
    case BLK_ZO_OPEN:
        if (z->state == BLK_ZS_FULL) {
            return -EIO;
        }
        z->state = BLK_ZS_EOPEN;
        break;
    case BLK_ZO_CLOSE:
        if (z->state == BLK_ZS_EMPTY || z->state == BLK_ZS_FULL) {
            return -EIO;
        }
        z->state = BLK_ZS_CLOSED;
        break;
    case BLK_ZO_FINISH:
        z->state = BLK_ZS_FULL;
        z->wp = z->start + z->len;
        break;
    default:
        z->state = BLK_ZS_EMPTY;
        z->wp = z->start;
        break;
    }
    return 0;
}

static int coroutine_fn fake_mgmt(void *opaque, BlockZoneOp op,
                                  int64_t offset, int64_t len)
{
    FakeDev *d = opaque;
    unsigned int first = offset / d->zone_size;
    unsigned int last = (offset + len - 1) / d->zone_size;
    Coroutine *self = qemu_coroutine_self();
    int ret = 0;

    aio_co_schedule(ctx(), self);
    qemu_coroutine_yield();

    if (d->fail_mgmts) {
        d->fail_mgmts--;
        ret = d->fail_mgmt_err;
    } else if (op == BLK_ZO_RESET_ALL) {
        /* As the kernel's RESET_ALL: special zones are skipped. */
        for (unsigned int i = 0; i < d->nr_zones; i++) {
            FakeZone *z = &d->zones[i];
            if (z->type != BLK_ZT_CONV && z->state != BLK_ZS_RDONLY &&
                z->state != BLK_ZS_OFFLINE) {
                fake_mgmt_zone(z, BLK_ZO_RESET);
            }
        }
    } else {
        for (unsigned int i = first; i <= last; i++) {
            int r = fake_mgmt_zone(&d->zones[i], op);
            ret = ret ? ret : r;
        }
    }
    fake_log(d, 'M', first, offset, len, op, ret);
    return ret;
}

static const ZoneWpOps fake_ops = {
    .pwritev = fake_pwritev,
    .report = fake_report,
    .mgmt = fake_mgmt,
};

static ZoneWpTracker *tracker_new(FakeDev *d, const ZoneWpConfig *extra)
{
    ZoneWpConfig cfg = extra ? *extra : (ZoneWpConfig) { 0 };
    g_autofree BlockZoneDescriptor *zones =
        g_new(BlockZoneDescriptor, d->nr_zones);

    for (unsigned int i = 0; i < d->nr_zones; i++) {
        fake_zone_desc(d, i, &zones[i]);
    }
    cfg.zone_size = d->zone_size;
    cfg.length = d->length;
    if (!cfg.write_granularity) {
        cfg.write_granularity = 4 * KiB;
    }
    return zone_wp_new(&cfg, &fake_ops, d, zones, d->nr_zones,
                       &error_abort);
}

/* ---- requests from coroutines ---- */

typedef enum { OP_WRITE, OP_APPEND, OP_MGMT } OpKind;

typedef struct Task {
    ZoneWpTracker *t;
    OpKind kind;
    BlockZoneOp zop;
    int64_t offset;             /* in; for appends also out */
    int64_t len;                /* mgmt */
    QEMUIOVector qiov;
    uint8_t *buf;
    uint32_t id;
    int ret;
    bool done;
} Task;

/* Data of request id: every 32-bit word says who wrote it and where. */
static void fill_id(uint8_t *buf, size_t len, uint32_t id)
{
    for (size_t i = 0; i + 4 <= len; i += 4) {
        uint32_t v = (id << 20) ^ (uint32_t)(i / 4) ^ 0x5a000000;
        memcpy(buf + i, &v, 4);
    }
}

static bool data_is(FakeDev *d, uint64_t offset, size_t len, uint32_t id)
{
    g_autofree uint8_t *want = g_malloc(len);

    fill_id(want, len, id);
    return memcmp(d->data + offset, want, len) == 0;
}

/* A task with its buffer split into niov pieces. */
static Task *task_new(ZoneWpTracker *t, OpKind kind, int64_t offset,
                      size_t size, int niov, uint32_t id)
{
    Task *k = g_new0(Task, 1);

    k->t = t;
    k->kind = kind;
    k->offset = offset;
    k->id = id;
    k->ret = 1;
    if (kind != OP_MGMT) {
        size_t piece = size / niov;

        k->buf = g_malloc(size);
        fill_id(k->buf, size, id);
        qemu_iovec_init(&k->qiov, niov);
        for (int i = 0; i < niov; i++) {
            qemu_iovec_add(&k->qiov, k->buf + i * piece,
                           i == niov - 1 ? size - i * piece : piece);
        }
    }
    return k;
}

static void task_free(Task *k)
{
    if (k->kind != OP_MGMT) {
        qemu_iovec_destroy(&k->qiov);
        g_free(k->buf);
    }
    g_free(k);
}

static void coroutine_fn task_entry(void *opaque)
{
    Task *k = opaque;

    switch (k->kind) {
    case OP_WRITE:
        k->ret = zone_wp_pwritev(k->t, k->offset, &k->qiov);
        break;
    case OP_APPEND:
        k->ret = zone_wp_append(k->t, &k->offset, &k->qiov);
        break;
    case OP_MGMT:
        k->ret = zone_wp_mgmt(k->t, k->zop, k->offset, k->len);
        break;
    }
    k->done = true;
}

static Task *task_start(Task *k)
{
    qemu_coroutine_enter(qemu_coroutine_create(task_entry, k));
    return k;
}

static void wait_task(Task *k)
{
    while (!k->done) {
        aio_poll(ctx(), true);
    }
}

/* Poll until the loop has nothing left to do right now. */
static void settle(void)
{
    while (aio_poll(ctx(), false)) {
        /* keep going */
    }
}

static int run(Task *k)
{
    int ret;

    task_start(k);
    wait_task(k);
    ret = k->ret;
    return ret;
}

static int do_write(ZoneWpTracker *t, int64_t offset, size_t size,
                    uint32_t id)
{
    Task *k = task_new(t, OP_WRITE, offset, size, 1, id);
    int ret = run(k);

    task_free(k);
    return ret;
}

static int do_append(ZoneWpTracker *t, int64_t *offset, size_t size,
                     uint32_t id)
{
    Task *k = task_new(t, OP_APPEND, *offset, size, 1, id);
    int ret = run(k);

    *offset = k->offset;
    task_free(k);
    return ret;
}

static int do_mgmt(ZoneWpTracker *t, BlockZoneOp op, int64_t offset,
                   int64_t len)
{
    Task *k = task_new(t, OP_MGMT, offset, 0, 1, 0);
    int ret;

    k->zop = op;
    k->len = len;
    ret = run(k);
    task_free(k);
    return ret;
}

static Task *start_mgmt(ZoneWpTracker *t, BlockZoneOp op, int64_t offset,
                        int64_t len)
{
    Task *k = task_new(t, OP_MGMT, offset, 0, 1, 0);

    k->zop = op;
    k->len = len;
    return task_start(k);
}

static uint64_t wp_of(ZoneWpTracker *t, unsigned int i)
{
    return zone_wp_get_wps(t)->wp[i];
}

/*
 * The standard geometry: 64 KiB zones with 48 KiB capacity, two
 * conventional zones, a 32 KiB last zone (capacity 32 KiB), and zone 3
 * partly written, 4 closed, 5 full, 6 read-only, 7 offline.
 */
#define ZS (64 * KiB)
#define CAP (48 * KiB)

static FakeDev *std_dev(void)
{
    FakeDev *d = fake_new(ZS, 9, 32 * KiB, CAP, 2);

    fake_set(d, 3, BLK_ZS_IOPEN, 8 * KiB);
    fake_set(d, 4, BLK_ZS_CLOSED, 16 * KiB);
    fake_set(d, 5, BLK_ZS_FULL, 0);
    fake_set(d, 6, BLK_ZS_RDONLY, 0);
    fake_set(d, 7, BLK_ZS_OFFLINE, 0);
    return d;
}

/* ---- open ---- */

static void test_open_special_zones(void)
{
    FakeDev *d = std_dev();
    ZoneWpTracker *t = tracker_new(d, NULL);
    const BlockZoneWps *w = zone_wp_get_wps(t);

    g_assert_cmpuint(w->nr_zones, ==, 9);
    g_assert_cmphex(w->wp[0], ==, BLK_ZONE_WP_CONV | 0);
    g_assert_cmphex(w->wp[1], ==, BLK_ZONE_WP_CONV | ZS);
    g_assert_cmphex(w->wp[2], ==, 2 * ZS);
    g_assert_cmphex(w->wp[3], ==, 3 * ZS + 8 * KiB);
    g_assert_cmphex(w->wp[4], ==, 4 * ZS + 16 * KiB);
    /* Full at its end (start + length), not at the capacity. */
    g_assert_cmphex(w->wp[5], ==, 6 * ZS);
    g_assert_cmphex(w->wp[6], ==, BLK_ZONE_WP_RDONLY | 7 * ZS);
    g_assert_cmphex(w->wp[7], ==, BLK_ZONE_WP_OFFLINE | 8 * ZS);
    g_assert_cmphex(w->wp[8], ==, 8 * ZS);
    g_assert_cmpuint(zone_wp_zone_capacity(t, 0), ==, ZS);
    g_assert_cmpuint(zone_wp_zone_capacity(t, 2), ==, CAP);
    g_assert_cmpuint(zone_wp_zone_capacity(t, 8), ==, 32 * KiB);
    g_assert_cmpuint(d->log->len, ==, 0);
    zone_wp_free(t);
    fake_free(d);
}

static void test_open_bad_report(void)
{
    FakeDev *d = fake_new(ZS, 4, 0, CAP, 1);
    BlockZoneDescriptor z[4];
    ZoneWpConfig cfg = { .zone_size = ZS, .length = d->length };
    Error *err = NULL;

    for (unsigned int i = 0; i < 4; i++) {
        fake_zone_desc(d, i, &z[i]);
    }
    g_assert_null(zone_wp_new(&cfg, &fake_ops, d, z, 3, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "lists 3 zones"));
    g_clear_pointer(&err, error_free);

    z[2].start += 4096;
    g_assert_null(zone_wp_new(&cfg, &fake_ops, d, z, 4, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "Zone 2 is reported"));
    g_clear_pointer(&err, error_free);
    z[2].start -= 4096;

    z[3].cap = ZS + 1;
    g_assert_null(zone_wp_new(&cfg, &fake_ops, d, z, 4, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "capacity"));
    g_clear_pointer(&err, error_free);
    z[3].cap = CAP;

    cfg.zone_size = 3 * ZS;
    g_assert_null(zone_wp_new(&cfg, &fake_ops, d, z, 4, &err));
    g_assert_nonnull(strstr(error_get_pretty(err), "power of two"));
    g_clear_pointer(&err, error_free);
    fake_free(d);
}

/* ---- bookkeeping ---- */

static void test_write_bookkeeping(void)
{
    FakeDev *d = std_dev();
    ZoneWpTracker *t = tracker_new(d, NULL);
    Task *k[8];

    /* Across a zone boundary: split, both pieces land. */
    g_assert_cmpint(do_write(t, 2 * ZS - 8 * KiB, 16 * KiB, 3), ==, 0);
    g_assert_true(data_is(d, 2 * ZS - 8 * KiB, 16 * KiB, 3));
    g_assert_cmphex(wp_of(t, 2), ==, 2 * ZS + 8 * KiB);

    /* At the pointer: it moves; up to the capacity: full at the end. */
    g_assert_cmpint(do_write(t, 2 * ZS + 8 * KiB, 4 * KiB, 1), ==, 0);
    g_assert_cmphex(wp_of(t, 2), ==, 2 * ZS + 12 * KiB);
    g_assert_cmpint(do_write(t, 3 * ZS + 8 * KiB, CAP - 8 * KiB, 2), ==, 0);
    g_assert_cmphex(wp_of(t, 3), ==, 4 * ZS);
    g_assert_true(data_is(d, 3 * ZS + 8 * KiB, CAP - 8 * KiB, 2));
    g_assert_cmpint(d->zones[3].state, ==, BLK_ZS_FULL);

    /* Conventional zones: anywhere, many at once, nothing tracked. */
    for (int i = 0; i < 8; i++) {
        k[i] = task_start(task_new(t, OP_WRITE, ZS + (7 - i) * 4 * KiB,
                                   4 * KiB, 1, 10 + i));
    }
    for (int i = 0; i < 8; i++) {
        wait_task(k[i]);
        g_assert_cmpint(k[i]->ret, ==, 0);
        g_assert_true(data_is(d, ZS + (7 - i) * 4 * KiB, 4 * KiB, 10 + i));
        task_free(k[i]);
    }
    g_assert_cmphex(wp_of(t, 1), ==, BLK_ZONE_WP_CONV | ZS);

    /* The last, smaller zone fills up to its end. */
    g_assert_cmpint(do_write(t, 8 * ZS, 32 * KiB, 4), ==, 0);
    g_assert_cmphex(wp_of(t, 8), ==, 8 * ZS + 32 * KiB);
    g_assert_cmpint(d->violations, ==, 0);
    /* No failure, no re-read. */
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 0);
    zone_wp_free(t);
    fake_free(d);
}

static void test_mgmt_bookkeeping(void)
{
    FakeDev *d = std_dev();
    ZoneWpTracker *t = tracker_new(d, NULL);
    ZoneWpStats st;

    g_assert_cmpint(do_mgmt(t, BLK_ZO_OPEN, 2 * ZS, ZS), ==, 0);
    g_assert_cmphex(wp_of(t, 2), ==, 2 * ZS);
    g_assert_cmpint(do_mgmt(t, BLK_ZO_CLOSE, 3 * ZS, ZS), ==, 0);
    g_assert_cmphex(wp_of(t, 3), ==, 3 * ZS + 8 * KiB);
    g_assert_cmpint(do_mgmt(t, BLK_ZO_FINISH, 3 * ZS, ZS), ==, 0);
    g_assert_cmphex(wp_of(t, 3), ==, 4 * ZS);
    g_assert_cmpint(do_mgmt(t, BLK_ZO_RESET, 3 * ZS, ZS), ==, 0);
    g_assert_cmphex(wp_of(t, 3), ==, 3 * ZS);

    /* A range: zones 3-5. */
    g_assert_cmpint(do_write(t, 3 * ZS, 4 * KiB, 1), ==, 0);
    g_assert_cmpint(do_mgmt(t, BLK_ZO_RESET, 3 * ZS, 3 * ZS), ==, 0);
    for (unsigned int i = 3; i <= 5; i++) {
        g_assert_cmphex(wp_of(t, i), ==, i * ZS);
    }
    g_assert_cmpint(do_mgmt(t, BLK_ZO_FINISH, 2 * ZS, 2 * ZS), ==, 0);
    g_assert_cmphex(wp_of(t, 2), ==, 3 * ZS);
    g_assert_cmphex(wp_of(t, 3), ==, 4 * ZS);

    /* The last zone may be shorter: a range ending at the device end. */
    g_assert_cmpint(do_mgmt(t, BLK_ZO_FINISH, 8 * ZS, 32 * KiB), ==, 0);
    g_assert_cmphex(wp_of(t, 8), ==, 8 * ZS + 32 * KiB);

    /* Reset all: conventional, read-only and offline zones stay. */
    g_assert_cmpint(do_mgmt(t, BLK_ZO_RESET_ALL, 0, 0), ==, 0);
    g_assert_cmphex(wp_of(t, 0), ==, BLK_ZONE_WP_CONV | 0);
    g_assert_cmphex(wp_of(t, 1), ==, BLK_ZONE_WP_CONV | ZS);
    for (unsigned int i = 2; i <= 5; i++) {
        g_assert_cmphex(wp_of(t, i), ==, i * ZS);
    }
    g_assert_cmphex(wp_of(t, 6), ==, BLK_ZONE_WP_RDONLY | 7 * ZS);
    g_assert_cmphex(wp_of(t, 7), ==, BLK_ZONE_WP_OFFLINE | 8 * ZS);
    g_assert_cmphex(wp_of(t, 8), ==, 8 * ZS);

    /* Misaligned or out of range: refused before the device. */
    zone_wp_get_stats(t, &st);
    g_assert_cmpint(do_mgmt(t, BLK_ZO_RESET, 2 * ZS + 4096, ZS), ==, -EINVAL);
    g_assert_cmpint(do_mgmt(t, BLK_ZO_RESET, 2 * ZS, ZS / 2), ==, -EINVAL);
    g_assert_cmpint(do_mgmt(t, BLK_ZO_RESET, 8 * ZS, ZS), ==, -EINVAL);
    g_assert_cmpint(do_mgmt(t, BLK_ZO_RESET, -ZS, ZS), ==, -EINVAL);
    g_assert_cmpint(do_mgmt(t, BLK_ZO_RESET, 2 * ZS, 0), ==, -EINVAL);
    g_assert_cmpuint(count_events(d, 'M', -1), ==, st.mgmt_calls);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 0);
    zone_wp_free(t);
    fake_free(d);
}

static void test_append_bookkeeping(void)
{
    FakeDev *d = std_dev();
    ZoneWpTracker *t = tracker_new(d, NULL);
    int64_t off;

    off = 2 * ZS;
    g_assert_cmpint(do_append(t, &off, 4 * KiB, 1), ==, 0);
    g_assert_cmpint(off, ==, 2 * ZS);
    off = 2 * ZS;
    g_assert_cmpint(do_append(t, &off, 8 * KiB, 2), ==, 0);
    g_assert_cmpint(off, ==, 2 * ZS + 4 * KiB);
    g_assert_cmphex(wp_of(t, 2), ==, 2 * ZS + 12 * KiB);
    g_assert_true(data_is(d, 2 * ZS, 4 * KiB, 1));
    g_assert_true(data_is(d, 2 * ZS + 4 * KiB, 8 * KiB, 2));

    /* A partly written and a closed zone: at their pointers. */
    off = 3 * ZS;
    g_assert_cmpint(do_append(t, &off, 4 * KiB, 3), ==, 0);
    g_assert_cmpint(off, ==, 3 * ZS + 8 * KiB);
    off = 4 * ZS;
    g_assert_cmpint(do_append(t, &off, 4 * KiB, 4), ==, 0);
    g_assert_cmpint(off, ==, 4 * ZS + 16 * KiB);

    /* Exactly up to the capacity: full, at its end. */
    off = 4 * ZS;
    g_assert_cmpint(do_append(t, &off, CAP - 20 * KiB, 5), ==, 0);
    g_assert_cmpint(off, ==, 4 * ZS + 20 * KiB);
    g_assert_cmphex(wp_of(t, 4), ==, 5 * ZS);

    /* The smaller last zone. */
    off = 8 * ZS;
    g_assert_cmpint(do_append(t, &off, 32 * KiB, 6), ==, 0);
    g_assert_cmpint(off, ==, 8 * ZS);
    g_assert_cmphex(wp_of(t, 8), ==, 8 * ZS + 32 * KiB);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 0);
    g_assert_cmpint(d->violations, ==, 0);
    zone_wp_free(t);
    fake_free(d);
}

/* Every refusal is -EIO, as the kernel's, and reaches no device. */
static void test_append_rejections(void)
{
    FakeDev *d = std_dev();
    ZoneWpConfig cfg = { .max_append_bytes = 16 * KiB };
    ZoneWpTracker *t = tracker_new(d, &cfg);
    g_autofree uint64_t *before = g_memdup2(zone_wp_get_wps(t)->wp,
                                            9 * sizeof(uint64_t));
    static const struct {
        const char *what;
        int64_t offset;
        size_t size;
    } cases[] = {
        { "conventional", 0, 4 * KiB },
        { "conventional 2", ZS, 4 * KiB },
        { "full", 5 * ZS, 4 * KiB },
        { "read-only", 6 * ZS, 4 * KiB },
        { "offline", 7 * ZS, 4 * KiB },
        { "crosses the capacity", 3 * ZS, 16 * KiB + 4 * KiB },
        { "larger than max append", 2 * ZS, 20 * KiB },
        { "not a multiple of the granularity", 2 * ZS, 2 * KiB },
        { "not a zone start", 2 * ZS + 4 * KiB, 4 * KiB },
        { "beyond the device", 9 * ZS, 4 * KiB },
        { "negative", -ZS, 4 * KiB },
    };
    ZoneWpStats st;

    /* Zone 3 has 40 KiB left: 36 KiB first, then 8 KiB would cross. */
    for (int i = 0; i < 3; i++) {
        int64_t off = 3 * ZS;
        g_assert_cmpint(do_append(t, &off, 12 * KiB, 1), ==, 0);
    }
    before[3] = wp_of(t, 3);
    g_assert_cmphex(before[3], ==, 3 * ZS + 44 * KiB);
    zone_wp_get_stats(t, &st);

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        int64_t off = cases[i].offset;
        size_t size = cases[i].size;

        if (i == 5) {
            size = 8 * KiB;
        }
        g_test_message("append: %s", cases[i].what);
        g_assert_cmpint(do_append(t, &off, size, 2), ==, -EIO);
        g_assert_cmpint(off, ==, cases[i].offset);
    }
    g_assert_cmpmem(zone_wp_get_wps(t)->wp, 9 * sizeof(uint64_t),
                    before, 9 * sizeof(uint64_t));
    g_assert_cmpuint(count_events(d, 'W', -1), ==, st.device_writes);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 0);
    zone_wp_free(t);
    fake_free(d);
}

/* ---- ordering and parallelism ---- */

/*
 * Sequential writes queued in reverse order behind a write in flight:
 * each next one at the pointer goes first, so all succeed, in order.
 */
static void test_order_in_zone(void)
{
    FakeDev *d = fake_new(ZS, 4, 0, ZS, 0);
    ZoneWpTracker *t = tracker_new(d, NULL);
    Task *k[16];
    guint base;

    fake_gate(d, 1, true);
    k[0] = task_start(task_new(t, OP_WRITE, ZS, 4 * KiB, 1, 0));
    g_assert_true(fake_is_held(d, 1));
    for (int i = 15; i >= 1; i--) {
        k[i] = task_start(task_new(t, OP_WRITE, ZS + i * 4 * KiB, 4 * KiB,
                                   1, i));
    }
    settle();
    base = d->log->len;
    g_assert_cmpuint(base, ==, 0);
    fake_gate(d, 1, false);
    for (int i = 0; i < 16; i++) {
        wait_task(k[i]);
        g_assert_cmpint(k[i]->ret, ==, 0);
        g_assert_true(data_is(d, ZS + i * 4 * KiB, 4 * KiB, i));
        task_free(k[i]);
    }
    for (guint i = 0; i < 16; i++) {
        FakeEvent *e = &g_array_index(d->log, FakeEvent, base + i);
        g_assert_cmpint(e->op, ==, 'W');
        g_assert_cmpuint(e->offset, ==, ZS + i * 4 * KiB);
    }
    g_assert_cmphex(wp_of(t, 1), ==, 2 * ZS);
    g_assert_cmpint(d->violations, ==, 0);
    zone_wp_free(t);
    fake_free(d);
}

/*
 * A write not at the pointer queued before one at it: the one at the
 * pointer goes first and succeeds; the other is left to the device, which
 * rejects it, and the zone is re-read before its next request.
 */
static void test_write_behind_bad(void)
{
    FakeDev *d = fake_new(ZS, 4, 0, ZS, 0);
    ZoneWpTracker *t = tracker_new(d, NULL);
    Task *w0, *bad, *good;
    int64_t off = 2 * ZS;
    guint n;

    fake_gate(d, 2, true);
    w0 = task_start(task_new(t, OP_WRITE, 2 * ZS, 4 * KiB, 1, 1));
    bad = task_start(task_new(t, OP_WRITE, 2 * ZS + 32 * KiB, 4 * KiB, 1, 2));
    good = task_start(task_new(t, OP_WRITE, 2 * ZS + 4 * KiB, 4 * KiB, 1, 3));
    fake_gate(d, 2, false);
    wait_task(w0);
    wait_task(bad);
    wait_task(good);
    g_assert_cmpint(w0->ret, ==, 0);
    g_assert_cmpint(good->ret, ==, 0);
    g_assert_cmpint(bad->ret, ==, -EIO);
    n = d->log->len;
    g_assert_cmpuint(n, ==, 3);
    g_assert_cmpuint(g_array_index(d->log, FakeEvent, 1).offset, ==,
                     2 * ZS + 4 * KiB);
    g_assert_cmpuint(g_array_index(d->log, FakeEvent, 2).offset, ==,
                     2 * ZS + 32 * KiB);

    /* The re-read comes before the next request of that zone only. */
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 0);
    g_assert_cmpint(do_write(t, 3 * ZS, 4 * KiB, 4), ==, 0);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 0);
    g_assert_cmpint(do_append(t, &off, 4 * KiB, 5), ==, 0);
    g_assert_cmpuint(count_events(d, 'R', 2), ==, 1);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 1);
    g_assert_cmpint(g_array_index(d->log, FakeEvent, n + 1).op, ==, 'R');
    g_assert_cmpint(off, ==, 2 * ZS + 8 * KiB);
    g_assert_true(data_is(d, off, 4 * KiB, 5));
    task_free(w0);
    task_free(bad);
    task_free(good);
    zone_wp_free(t);
    fake_free(d);
}

/* Two zones progress while a third is held by its device write. */
static void test_parallel_zones(void)
{
    FakeDev *d = fake_new(ZS, 4, 0, ZS, 0);
    ZoneWpTracker *t = tracker_new(d, NULL);
    Task *blocked, *k[16];
    ZoneWpStats st;

    fake_gate(d, 0, true);
    blocked = task_start(task_new(t, OP_APPEND, 0, 4 * KiB, 1, 99));
    for (int i = 0; i < 16; i++) {
        k[i] = task_start(task_new(t, OP_APPEND, (1 + i % 2) * ZS, 4 * KiB,
                                   1, i));
    }
    for (int i = 0; i < 16; i++) {
        wait_task(k[i]);
        g_assert_cmpint(k[i]->ret, ==, 0);
        g_assert_true(data_is(d, k[i]->offset, 4 * KiB, i));
    }
    g_assert_false(blocked->done);
    g_assert_true(fake_is_held(d, 0));
    g_assert_cmphex(wp_of(t, 1), ==, ZS + 32 * KiB);
    g_assert_cmphex(wp_of(t, 2), ==, 2 * ZS + 32 * KiB);
    /* All three zones had a write in the device at the same time. */
    g_assert_cmpuint(d->max_busy_zones, ==, 3);
    zone_wp_get_stats(t, &st);
    g_assert_cmpuint(st.max_busy_zones, ==, 3);

    fake_gate(d, 0, false);
    wait_task(blocked);
    g_assert_cmpint(blocked->ret, ==, 0);
    g_assert_cmpint(blocked->offset, ==, 0);
    g_assert_cmpint(d->violations, ==, 0);
    for (int i = 0; i < 16; i++) {
        task_free(k[i]);
    }
    task_free(blocked);
    zone_wp_free(t);
    fake_free(d);
}

/* ---- coalescing ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/*
 * n appends to zone `zone` started at once; checks that they succeeded,
 * are disjoint, contiguous from start, and hold their data.  Returns the
 * end of the data.
 */
static uint64_t check_appends(FakeDev *d, Task **k, int n, uint64_t start)
{
    g_autofree int64_t *offs = g_new(int64_t, n);
    uint64_t total = 0, end;

    for (int i = 0; i < n; i++) {
        g_assert_cmpint(k[i]->ret, ==, 0);
        g_assert_true(data_is(d, k[i]->offset, k[i]->qiov.size, k[i]->id));
        offs[i] = k[i]->offset;
        total += k[i]->qiov.size;
    }
    qsort(offs, n, sizeof(*offs), cmp_i64);
    end = start;
    for (int i = 0; i < n; i++) {
        g_assert_cmpint(offs[i], ==, end);   /* contiguous, no overlap */
        for (int j = 0; j < n; j++) {
            if (k[j]->offset == offs[i]) {
                end += k[j]->qiov.size;
                break;
            }
        }
    }
    g_assert_cmpuint(end, ==, start + total);
    return end;
}

static void test_coalesce_basic(void)
{
    FakeDev *d = fake_new(1024 * KiB, 2, 0, 1024 * KiB, 0);
    ZoneWpTracker *t = tracker_new(d, NULL);
    Task *k[64];
    ZoneWpStats st;

    for (int i = 0; i < 64; i++) {
        k[i] = task_start(task_new(t, OP_APPEND, 0, 4 * KiB * (1 + i % 3),
                                   1, i));
    }
    for (int i = 0; i < 64; i++) {
        wait_task(k[i]);
    }
    g_assert_cmphex(wp_of(t, 0), ==, check_appends(d, k, 64, 0));
    /* The first goes alone; the 63 that queued behind it go as one. */
    g_assert_cmpuint(count_events(d, 'W', -1), ==, 2);
    zone_wp_get_stats(t, &st);
    g_assert_cmpuint(st.appends, ==, 64);
    g_assert_cmpuint(st.append_writes, ==, 2);
    g_assert_cmpuint(st.max_coalesced, ==, 63);
    /* Arrival order is kept: the offsets grow with the id. */
    for (int i = 1; i < 64; i++) {
        g_assert_cmpint(k[i]->offset, >, k[i - 1]->offset);
    }
    for (int i = 0; i < 64; i++) {
        task_free(k[i]);
    }
    zone_wp_free(t);
    fake_free(d);
}

static void test_coalesce_limits(void)
{
    FakeDev *d = fake_new(1024 * KiB, 2, 0, 1024 * KiB, 0);
    ZoneWpConfig cfg = { .max_transfer = 32 * KiB, .max_iov = 7 };
    ZoneWpTracker *t = tracker_new(d, &cfg);
    Task *k[40];
    guint writes = 0;

    /* 8 KiB in 2 iovecs each: at most 3 per write (iovs), 4 (bytes). */
    for (int i = 0; i < 40; i++) {
        k[i] = task_start(task_new(t, OP_APPEND, 0, 8 * KiB, 2, i));
    }
    for (int i = 0; i < 40; i++) {
        wait_task(k[i]);
    }
    check_appends(d, k, 40, 0);
    for (guint i = 0; i < d->log->len; i++) {
        FakeEvent *e = &g_array_index(d->log, FakeEvent, i);
        g_assert_cmpuint(e->size, <=, 32 * KiB);
        g_assert_cmpint(e->niov, <=, 7);
        writes++;
    }
    /* 1 alone, then 39 in writes of 3. */
    g_assert_cmpuint(writes, ==, 1 + 13);
    for (int i = 0; i < 40; i++) {
        task_free(k[i]);
    }
    zone_wp_free(t);

    /* A single append larger than max_transfer still goes (alone). */
    cfg.max_transfer = 4 * KiB;
    t = tracker_new(d, &cfg);
    k[0] = task_start(task_new(t, OP_APPEND, ZS * 16, 64 * KiB, 1, 77));
    wait_task(k[0]);
    g_assert_cmpint(k[0]->ret, ==, 0);
    g_assert_true(data_is(d, k[0]->offset, 64 * KiB, 77));
    task_free(k[0]);
    zone_wp_free(t);
    fake_free(d);
}

/* Appends that would cross the capacity fail alone; later ones fit. */
static void test_coalesce_capacity(void)
{
    FakeDev *d = fake_new(ZS, 2, 0, CAP, 0);
    ZoneWpTracker *t = tracker_new(d, NULL);
    static const unsigned sizes[] = { 8, 8, 8, 8, 8, 12, 4, 4, 4 };
    Task *k[ARRAY_SIZE(sizes)];

    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        k[i] = task_start(task_new(t, OP_APPEND, ZS, sizes[i] * KiB, 1, i));
    }
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        wait_task(k[i]);
    }
    /* 8 alone; then 8+8+8+8 = 40, 12 no, 4 = 44, 4 = 48 (full), 4 no. */
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        bool fits = i != 5 && i != 8;
        g_assert_cmpint(k[i]->ret, ==, fits ? 0 : -EIO);
        if (fits) {
            g_assert_true(data_is(d, k[i]->offset, sizes[i] * KiB, i));
        }
    }
    g_assert_cmpint(k[7]->offset, ==, ZS + 44 * KiB);
    g_assert_cmphex(wp_of(t, 1), ==, 2 * ZS);
    g_assert_cmpuint(count_events(d, 'W', -1), ==, 2);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 0);
    for (size_t i = 0; i < ARRAY_SIZE(sizes); i++) {
        task_free(k[i]);
    }
    zone_wp_free(t);
    fake_free(d);
}

/* ---- failures ---- */

/*
 * The coalesced write of zone 1 fails (after half of it reached the
 * medium): exactly its appends fail, zone 2 is untouched, zone 1 is
 * re-read once, and the next append lands at the device's pointer.
 */
static void test_failure_write(void)
{
    FakeDev *d = fake_new(1024 * KiB, 4, 0, 1024 * KiB, 0);
    ZoneWpTracker *t = tracker_new(d, NULL);
    Task *a[12], *b[12];
    int64_t off = 1024 * KiB;

    d->fail_write_zone = 1;
    d->fail_write_half = true;
    d->fail_write_err = -ETOOMANYREFS;
    for (int i = 0; i < 12; i++) {
        a[i] = task_start(task_new(t, OP_APPEND, 1024 * KiB, 4 * KiB, 1, i));
        b[i] = task_start(task_new(t, OP_APPEND, 2048 * KiB, 4 * KiB, 1,
                                   100 + i));
        if (i == 0) {
            d->fail_writes = 1;  /* the second write of zone 1 */
        }
    }
    for (int i = 0; i < 12; i++) {
        wait_task(a[i]);
        wait_task(b[i]);
    }
    g_assert_cmpint(a[0]->ret, ==, 0);
    for (int i = 1; i < 12; i++) {
        g_assert_cmpint(a[i]->ret, ==, -ETOOMANYREFS);
    }
    check_appends(d, b, 12, 2048 * KiB);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 0);

    /* Half of the 11 * 4 KiB got written: the device is at +4+20 KiB. */
    g_assert_cmpuint(d->zones[1].wp, ==, 1024 * KiB + 24 * KiB);
    g_assert_cmpint(do_append(t, &off, 4 * KiB, 50), ==, 0);
    g_assert_cmpuint(count_events(d, 'R', 1), ==, 1);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 1);
    g_assert_cmpint(off, ==, 1024 * KiB + 24 * KiB);
    g_assert_true(data_is(d, off, 4 * KiB, 50));
    g_assert_cmphex(wp_of(t, 1), ==, 1024 * KiB + 28 * KiB);

    /* No further re-read once it is known again. */
    off = 1024 * KiB;
    g_assert_cmpint(do_append(t, &off, 4 * KiB, 51), ==, 0);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 1);
    g_assert_cmpint(d->violations, ==, 0);
    for (int i = 0; i < 12; i++) {
        task_free(a[i]);
        task_free(b[i]);
    }
    zone_wp_free(t);
    fake_free(d);
}

/* A failed re-read fails one request; the next one tries again. */
static void test_failure_resync(void)
{
    FakeDev *d = fake_new(ZS, 4, 0, ZS, 0);
    ZoneWpTracker *t = tracker_new(d, NULL);
    int64_t off = ZS;

    /* Not at the pointer: rejected by the device. */
    g_assert_cmpint(do_write(t, ZS + 8 * KiB, 4 * KiB, 1), ==, -EIO);
    d->fail_reports = 1;
    d->fail_report_err = -EIO;
    g_assert_cmpint(do_append(t, &off, 4 * KiB, 2), ==, -EIO);
    g_assert_cmpint(off, ==, ZS);
    g_assert_cmpuint(count_events(d, 'W', -1), ==, 1);
    g_assert_cmpint(do_append(t, &off, 4 * KiB, 3), ==, 0);
    g_assert_cmpint(off, ==, ZS);
    g_assert_cmpuint(count_events(d, 'R', 1), ==, 2);
    zone_wp_free(t);
    fake_free(d);
}

/* A failed management call: its zones, and only those, are re-read. */
static void test_failure_mgmt(void)
{
    FakeDev *d = std_dev();
    ZoneWpTracker *t = tracker_new(d, NULL);
    int64_t off;

    /* The kernel refuses to finish a read-only zone. */
    g_assert_cmpint(do_mgmt(t, BLK_ZO_FINISH, 6 * ZS, ZS), ==, -EIO);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 0);
    g_assert_cmpint(do_write(t, 6 * ZS, 4 * KiB, 1), ==, -EIO);
    g_assert_cmpuint(count_events(d, 'R', 6), ==, 1);
    g_assert_cmphex(wp_of(t, 6), ==, BLK_ZONE_WP_RDONLY | 7 * ZS);

    /* A range 2-4 fails (injected after nothing changed). */
    d->fail_mgmts = 1;
    d->fail_mgmt_err = -EOVERFLOW;
    g_assert_cmpint(do_mgmt(t, BLK_ZO_RESET, 2 * ZS, 3 * ZS), ==,
                    -EOVERFLOW);
    g_assert_cmphex(wp_of(t, 3), ==, 3 * ZS + 8 * KiB);
    for (unsigned int i = 2; i <= 4; i++) {
        off = i * ZS;
        g_assert_cmpint(do_append(t, &off, 4 * KiB, 10 + i), ==, 0);
        g_assert_cmpuint(count_events(d, 'R', i), ==, 1);
    }
    g_assert_cmpint(off, ==, 4 * ZS + 16 * KiB);
    g_assert_cmpuint(count_events(d, 'R', -1), ==, 4);

    /* Finishing a range with a conventional zone fails: only seq re-read. */
    g_assert_cmpint(do_mgmt(t, BLK_ZO_FINISH, ZS, 2 * ZS), ==, -EIO);
    g_assert_cmpint(do_write(t, ZS, 4 * KiB, 20), ==, 0);
    g_assert_cmpuint(count_events(d, 'R', 1), ==, 0);
    off = 2 * ZS;
    g_assert_cmpint(do_append(t, &off, 4 * KiB, 21), ==, -EIO);
    g_assert_cmpuint(count_events(d, 'R', 2), ==, 2);
    g_assert_cmphex(wp_of(t, 2), ==, 3 * ZS);
    zone_wp_free(t);
    fake_free(d);
}

/* ---- management calls are barriers ---- */

static void test_mgmt_barrier(void)
{
    FakeDev *d = fake_new(ZS, 4, 0, ZS, 0);
    ZoneWpTracker *t = tracker_new(d, NULL);
    Task *w0, *a1, *m, *a2, *other;

    fake_gate(d, 1, true);
    w0 = task_start(task_new(t, OP_WRITE, ZS, 4 * KiB, 1, 1));
    a1 = task_start(task_new(t, OP_APPEND, ZS, 4 * KiB, 1, 2));
    m = start_mgmt(t, BLK_ZO_RESET, ZS, ZS);
    a2 = task_start(task_new(t, OP_APPEND, ZS, 8 * KiB, 1, 3));
    /* Another zone is not held up by the waiting reset. */
    other = task_start(task_new(t, OP_APPEND, 2 * ZS, 4 * KiB, 1, 4));
    wait_task(other);
    g_assert_false(m->done);
    g_assert_false(a2->done);

    fake_gate(d, 1, false);
    wait_task(a2);
    g_assert_true(w0->done && a1->done && m->done);
    g_assert_cmpint(w0->ret, ==, 0);
    g_assert_cmpint(a1->ret, ==, 0);
    g_assert_cmpint(a1->offset, ==, ZS + 4 * KiB);
    g_assert_cmpint(m->ret, ==, 0);
    g_assert_cmpint(a2->ret, ==, 0);
    g_assert_cmpint(a2->offset, ==, ZS);
    g_assert_cmphex(wp_of(t, 1), ==, ZS + 8 * KiB);
    g_assert_cmpuint(d->zones[1].wp, ==, ZS + 8 * KiB);
    g_assert_cmpint(g_array_index(d->log, FakeEvent, d->log->len - 2).op,
                    ==, 'M');
    task_free(w0);
    task_free(a1);
    task_free(m);
    task_free(a2);
    task_free(other);
    zone_wp_free(t);
    fake_free(d);
}

/* Reset-all while every zone has appends queued, twice at once. */
static void test_mgmt_reset_all_busy(void)
{
    FakeDev *d = fake_new(ZS, 8, 0, ZS, 2);
    ZoneWpTracker *t = tracker_new(d, NULL);
    Task *k[48], *m1, *m2, *after[6];

    for (int i = 0; i < 48; i++) {
        k[i] = task_start(task_new(t, OP_APPEND, (2 + i % 6) * ZS, 4 * KiB,
                                   1, i));
    }
    m1 = start_mgmt(t, BLK_ZO_RESET_ALL, 0, 0);
    m2 = start_mgmt(t, BLK_ZO_FINISH, 4 * ZS, 2 * ZS);
    for (int i = 0; i < 6; i++) {
        after[i] = task_start(task_new(t, OP_APPEND, (2 + i) * ZS, 4 * KiB,
                                       1, 200 + i));
    }
    for (int i = 0; i < 6; i++) {
        wait_task(after[i]);
    }
    g_assert_true(m1->done && m2->done);
    g_assert_cmpint(m1->ret, ==, 0);
    g_assert_cmpint(m2->ret, ==, 0);
    for (int i = 0; i < 48; i++) {
        g_assert_true(k[i]->done);
        g_assert_cmpint(k[i]->ret, ==, 0);
    }
    for (int i = 0; i < 6; i++) {
        bool finished = i == 2 || i == 3;
        g_assert_cmpint(after[i]->ret, ==, finished ? -EIO : 0);
        if (!finished) {
            g_assert_cmpint(after[i]->offset, ==, (2 + i) * ZS);
            g_assert_cmphex(wp_of(t, 2 + i), ==, (2 + i) * ZS + 4 * KiB);
        } else {
            g_assert_cmphex(wp_of(t, 2 + i), ==, (3 + i) * ZS);
        }
        g_assert_cmpuint(wp_of(t, 2 + i) & ~BLK_ZONE_WP_FLAGS, ==,
                         MIN(d->zones[2 + i].wp, (3 + i) * ZS));
    }
    g_assert_cmpint(d->violations, ==, 0);
    for (int i = 0; i < 48; i++) {
        task_free(k[i]);
    }
    for (int i = 0; i < 6; i++) {
        task_free(after[i]);
    }
    task_free(m1);
    task_free(m2);
    zone_wp_free(t);
    fake_free(d);
}

/* ---- file-posix: what has no zoned attributes is simply not zoned ---- */

/* sized: the node has data (for /dev/null every range is out of bounds) */
static void check_not_zoned(const char *optstr, bool sized)
{
    QDict *opts = keyval_parse(optstr, NULL, &error_abort);
    BlockBackend *blk = blk_new_open(NULL, opts, BDRV_O_RDWR, &error_abort);
    BlockZoneDescriptor z;
    unsigned int n = 1;
    int64_t off = 0;
    BlockLimits bl;
    uint8_t buf[512] = { 0 };
    QEMUIOVector qiov;

    g_test_message("%s", optstr);
    blk_get_zone_limits(blk, &bl);
    g_assert_cmpint(bl.zoned, ==, BLK_Z_NONE);
    g_assert_false(bdrv_is_zoned(blk_bs(blk)));
    g_assert_cmpint(blk_zone_report(blk, 0, &n, &z), ==, -ENOTSUP);
    if (!sized) {
        blk_unref(blk);
        return;
    }
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET, 0, 512), ==, -ENOTSUP);
    qemu_iovec_init_buf(&qiov, buf, sizeof(buf));
    g_assert_cmpint(blk_zone_append(blk, &off, &qiov, 0), ==, -ENOTSUP);
    /* Writes anywhere, as always. */
    g_assert_cmpint(blk_pwrite(blk, 0, sizeof(buf), buf, 0), ==, 0);
    blk_unref(blk);
}

static void test_file_posix_not_zoned(void)
{
    g_autofree char *dir = g_dir_make_tmp("test-zone-wp-XXXXXX", NULL);
    g_autofree char *path = g_build_filename(dir, "img", NULL);
    g_autofree char *file = NULL, *dev = NULL;

    g_assert_true(g_file_set_contents(path, "", 0, NULL));
    g_assert_cmpint(truncate(path, 1 << 20), ==, 0);
    file = g_strdup_printf("driver=raw,file.driver=file,file.filename=%s",
                           path);
    check_not_zoned(file, true);
    /* A character device: host_device takes it, there is no sysfs queue. */
    dev = g_strdup("driver=host_device,filename=/dev/null");
    if (access("/dev/null", W_OK) == 0) {
        check_not_zoned(dev, false);
    }
    g_assert_cmpint(unlink(path), ==, 0);
    g_assert_cmpint(rmdir(dir), ==, 0);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);

    g_test_add_func("/zone-wp/open/special-zones", test_open_special_zones);
    g_test_add_func("/zone-wp/open/bad-report", test_open_bad_report);
    g_test_add_func("/zone-wp/write/bookkeeping", test_write_bookkeeping);
    g_test_add_func("/zone-wp/mgmt/bookkeeping", test_mgmt_bookkeeping);
    g_test_add_func("/zone-wp/append/bookkeeping", test_append_bookkeeping);
    g_test_add_func("/zone-wp/append/rejections", test_append_rejections);
    g_test_add_func("/zone-wp/order/in-zone", test_order_in_zone);
    g_test_add_func("/zone-wp/order/write-behind-bad",
                    test_write_behind_bad);
    g_test_add_func("/zone-wp/parallel/zones", test_parallel_zones);
    g_test_add_func("/zone-wp/coalesce/basic", test_coalesce_basic);
    g_test_add_func("/zone-wp/coalesce/limits", test_coalesce_limits);
    g_test_add_func("/zone-wp/coalesce/capacity", test_coalesce_capacity);
    g_test_add_func("/zone-wp/failure/write", test_failure_write);
    g_test_add_func("/zone-wp/failure/resync", test_failure_resync);
    g_test_add_func("/zone-wp/failure/mgmt", test_failure_mgmt);
    g_test_add_func("/zone-wp/mgmt/barrier", test_mgmt_barrier);
    g_test_add_func("/zone-wp/mgmt/reset-all-busy",
                    test_mgmt_reset_all_busy);
    g_test_add_func("/zone-wp/file-posix/not-zoned",
                    test_file_posix_not_zoned);
    return g_test_run();
}
