/*
 * The in-process virtio-blk driver of the virtio-blk unit tests: see
 * virtio-blk-driver.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "virtio-blk-driver.h"

char *tmpdir;

/* ---- test-fault: a filter that holds or fails requests ---- */

FaultState fault = { .fail_offset = -1 };

static int coroutine_fn fault_gate(int64_t offset, int64_t bytes)
{
    if (fault.hold) {
        g_assert_cmpuint(fault.nparked, <, G_N_ELEMENTS(fault.parked));
        fault.parked[fault.nparked++] = qemu_coroutine_self();
        qemu_coroutine_yield();
    }
    if (fault.fail_offset >= 0 && fault.fail_offset >= offset &&
        fault.fail_offset - offset < MAX(bytes, 1)) {
        return -fault.fail_errno;
    }
    return 0;
}

void fault_reset(void)
{
    memset(&fault, 0, sizeof(fault));
    fault.fail_offset = -1;
}

static int fault_open(BlockDriverState *bs, QDict *options, int flags,
                      Error **errp)
{
    bs->file = bdrv_open_child("file", bs, options, "file", flags, errp);
    return bs->file ? 0 : -EINVAL;
}

static int64_t fault_getlength(BlockDriverState *bs)
{
    return bdrv_getlength(bs->file->bs);
}

static int coroutine_fn fault_co_preadv(BlockDriverState *bs, int64_t offset,
                                        int64_t bytes, QEMUIOVector *qiov,
                                        BdrvRequestFlags flags)
{
    int ret = fault_gate(offset, bytes);

    return ret ? ret : bdrv_co_preadv(bs->file, offset, bytes, qiov, flags);
}

static int coroutine_fn fault_co_pwritev(BlockDriverState *bs,
                                         int64_t offset, int64_t bytes,
                                         QEMUIOVector *qiov,
                                         BdrvRequestFlags flags)
{
    int ret = fault_gate(offset, bytes);

    return ret ? ret : bdrv_co_pwritev(bs->file, offset, bytes, qiov, flags);
}

static int coroutine_fn fault_co_pwrite_zeroes(BlockDriverState *bs,
                                               int64_t offset, int64_t bytes,
                                               BdrvRequestFlags flags)
{
    int ret = fault_gate(offset, bytes);

    return ret ? ret : bdrv_co_pwrite_zeroes(bs->file, offset, bytes, flags);
}

static int coroutine_fn fault_co_pdiscard(BlockDriverState *bs,
                                          int64_t offset, int64_t bytes)
{
    int ret = fault_gate(offset, bytes);

    return ret ? ret : bdrv_co_pdiscard(bs->file, offset, bytes);
}

static int coroutine_fn fault_co_flush(BlockDriverState *bs)
{
    return 0;                       /* the core flushes the child */
}

static int coroutine_fn fault_co_zone_report(BlockDriverState *bs,
                                             int64_t offset,
                                             unsigned int *nr_zones,
                                             BlockZoneDescriptor *zones)
{
    return bdrv_co_zone_report(bs->file->bs, offset, nr_zones, zones);
}

static int coroutine_fn fault_co_zone_mgmt(BlockDriverState *bs,
                                           BlockZoneOp op, int64_t offset,
                                           int64_t len)
{
    if (fault.fail_offset >= 0 && fault.fail_offset == offset) {
        return -fault.fail_errno;
    }
    return bdrv_co_zone_mgmt(bs->file->bs, op, offset, len);
}

static int coroutine_fn fault_co_zone_append(BlockDriverState *bs,
                                             int64_t *offset,
                                             QEMUIOVector *qiov,
                                             BdrvRequestFlags flags)
{
    int ret = fault_gate(*offset, qiov->size);

    return ret ? ret : bdrv_co_zone_append(bs->file->bs, offset, qiov,
                                           flags);
}

BlockDriver bdrv_test_fault = {
    .format_name = "test-fault",
    .is_format = true,
    .bdrv_open = fault_open,
    .bdrv_getlength = fault_getlength,
    .bdrv_co_preadv = fault_co_preadv,
    .bdrv_co_pwritev = fault_co_pwritev,
    .bdrv_co_pwrite_zeroes = fault_co_pwrite_zeroes,
    .bdrv_co_pdiscard = fault_co_pdiscard,
    .bdrv_co_flush = fault_co_flush,
    .bdrv_co_zone_report = fault_co_zone_report,
    .bdrv_co_zone_mgmt = fault_co_zone_mgmt,
    .bdrv_co_zone_append = fault_co_zone_append,
};

/* ---- images ---- */

static char *path_of(const char *name)
{
    return g_strdup_printf("%s/%s", tmpdir, name);
}

/* A raw image of size bytes, filled with a known pattern. */
char *make_raw(const char *name, int64_t size)
{
    char *path = path_of(name);
    g_autofree uint8_t *buf = g_malloc(size);

    for (int64_t i = 0; i < size; i++) {
        buf[i] = (i * 7 + i / 4096) & 0xff;
    }
    g_assert_true(g_file_set_contents(path, (char *)buf, size, NULL));
    return path;
}

char *make_zoned(const char *name, const char *opts, int64_t size)
{
    char *path = path_of(name);
    QDict *d = keyval_parse(opts, NULL, &error_abort);

    unlink(path);
    g_assert_cmpint(bdrv_create("zoned", path, d, size, &error_abort), ==, 0);
    return path;
}

/* Open path with format fmt, optionally under test-fault. */
BlockBackend *open_img(const char *path, const char *fmt, bool filter,
                       bool writable)
{
    QDict *o = qdict_new();
    int flags = writable ? BDRV_O_RDWR : 0;

    if (filter) {
        qdict_put_str(o, "driver", "test-fault");
        qdict_put_str(o, "file.driver", fmt);
        qdict_put_str(o, "file.file.driver", "file");
        qdict_put_str(o, "file.file.filename", path);
        return blk_new_open(NULL, o, flags, &error_abort);
    }
    qdict_put_str(o, "driver", fmt);
    return blk_new_open(path, o, flags, &error_abort);
}

/* ---- the fake guest ---- */

static Piece *guest_piece(Guest *g, uint64_t iova)
{
    uint64_t i;

    if (iova < GUEST_BASE) {
        return NULL;
    }
    i = (iova - GUEST_BASE) / g->psize;
    return i < g->npieces ? &g->pieces[i] : NULL;
}

static void *guest_map(void *opaque, uint64_t iova, uint64_t *len,
                       bool write)
{
    Guest *g = opaque;
    Piece *p = guest_piece(g, iova);
    uint64_t off;

    g->maps++;
    g_assert_cmpuint(*len, >, 0);
    if (!p || p->hole || (write && p->ro)) {
        return NULL;
    }
    off = iova - p->iova;
    *len = MIN(*len, p->len - off);
    if (g->max_map) {
        *len = MIN(*len, g->max_map);
    }
    return p->host + off;
}

static void guest_notify(void *opaque, unsigned int queue)
{
    Guest *g = opaque;

    g_assert_cmpuint(queue, <, G_N_ELEMENTS(g->notifies));
    g->notifies[queue]++;
}

static void guest_needs_reset(void *opaque)
{
    ((Guest *)opaque)->needs_reset++;
}

const VirtioBlkTransportOps guest_ops = {
    .map = guest_map,
    .notify = guest_notify,
    .needs_reset = guest_needs_reset,
};

/*
 * Copy between the test and guest memory (driver access, holes
 * included); writes also go to the snapshot of the guard check.
 */
static void gmem(Guest *g, uint64_t iova, void *buf, uint64_t len, bool wr)
{
    uint8_t *b = buf;

    while (len) {
        Piece *p = guest_piece(g, iova);
        uint64_t off, l;

        g_assert_nonnull(p);
        off = iova - p->iova;
        l = MIN(len, p->len - off);
        if (wr) {
            memcpy(p->host + off, b, l);
            /* The driver's own writes are not the device's. */
            if (p->snap) {
                memcpy(p->snap + off, b, l);
            }
        } else {
            memcpy(b, p->host + off, l);
        }
        b += l;
        iova += l;
        len -= l;
    }
}

void gwrite(Guest *g, uint64_t iova, const void *buf, uint64_t len)
{
    gmem(g, iova, (void *)buf, len, true);
}

void gread(Guest *g, uint64_t iova, void *buf, uint64_t len)
{
    gmem(g, iova, buf, len, false);
}

void gw16(Guest *g, uint64_t iova, uint16_t v)
{
    v = GUINT16_TO_LE(v);
    gwrite(g, iova, &v, 2);
}

uint16_t gr16(Guest *g, uint64_t iova)
{
    uint16_t v;

    gread(g, iova, &v, 2);
    return GUINT16_FROM_LE(v);
}

static uint32_t gr32(Guest *g, uint64_t iova)
{
    uint32_t v;

    gread(g, iova, &v, 4);
    return GUINT32_FROM_LE(v);
}

static void gfill(Guest *g, uint64_t iova, int c, uint64_t len)
{
    g_autofree uint8_t *b = g_malloc(len);

    memset(b, c, len);
    gwrite(g, iova, b, len);
}

/* Zero the rings and forget all chains (a fresh driver). */
void guest_reset_rings(Guest *g)
{
    for (unsigned int i = 0; i < G_N_ELEMENTS(g->qs); i++) {
        DrvQueue *q = &g->qs[i];

        gfill(g, q->desc, 0, q->used + 6 + 8 * g->num - q->desc);
        q->avail_idx = 0;
        q->last_used = 0;
        for (unsigned int j = 0; j < g->num; j++) {
            q->owner[j] = FREE_DESC;
        }
    }
    g->q = &g->qs[0];
    g->qi = 0;
}

/*
 * A guest of size bytes in pieces of psize bytes (0: one piece), with a
 * queue of num entries, rings zeroed, everything else guard bytes.
 */
Guest *guest_new(uint64_t size, uint64_t psize, uint16_t num)
{
    Guest *g = g_new0(Guest, 1);
    uint64_t at = GUEST_BASE;

    g->psize = psize ? psize : size;
    g->npieces = size / g->psize;
    g->size = size;
    g->pieces = g_new0(Piece, g->npieces);
    for (unsigned int i = 0; i < g->npieces; i++) {
        g->pieces[i].iova = GUEST_BASE + i * g->psize;
        g->pieces[i].len = g->psize;
        g->pieces[i].host = g_malloc(g->psize);
        memset(g->pieces[i].host, GUARD, g->psize);
    }
    g->num = num;
    /* Rings at page boundaries, each inside one 4 KiB piece. */
    for (unsigned int i = 0; i < G_N_ELEMENTS(g->qs); i++) {
        DrvQueue *q = &g->qs[i];

        q->desc = at;
        q->avail = q->desc + QEMU_ALIGN_UP(16 * num, 4096);
        q->used = q->avail + 4096;
        at = q->used + QEMU_ALIGN_UP(6 + 8 * num, 4096);
        q->owner = g_new(uint16_t, num);
    }
    g->brk = at;
    g->allowed = g_array_new(false, false, sizeof(Range));
    guest_reset_rings(g);
    return g;
}

/* Allocate len bytes of guest memory (align: power of two). */
uint64_t galloc(Guest *g, uint64_t len, uint64_t align)
{
    uint64_t iova = QEMU_ALIGN_UP(g->brk, align);

    g->brk = iova + len;
    g_assert_cmpuint(g->brk, <=, GUEST_BASE + g->size);
    return iova;
}

/* Allocate len bytes that straddle the next piece boundary. */
uint64_t galloc_straddle(Guest *g, uint64_t len)
{
    uint64_t b = QEMU_ALIGN_UP(g->brk + len, g->psize);
    uint64_t iova = b - len / 2;

    g->brk = iova + len;
    g_assert_cmpuint(g->brk, <=, GUEST_BASE + g->size);
    return iova;
}

static uint64_t features_all(VirtioBlkDev *dev)
{
    return virtio_blk_dev_features(dev);
}

/* Negotiate features (all offered but drop) and set up the queues. */
void guest_start(Guest *g, unsigned int nq, uint64_t drop)
{
    g_assert_cmpint(virtio_blk_dev_set_features(g->dev,
                                                features_all(g->dev) & ~drop),
                    ==, 0);
    for (unsigned int i = 0; i < nq; i++) {
        DrvQueue *q = &g->qs[i];

        g_assert_cmpint(virtio_blk_dev_queue_setup(g->dev, i, g->num, q->desc,
                                                   q->avail, q->used, 0),
                        ==, 0);
        virtio_blk_dev_queue_enable(g->dev, i, true);
    }
}

/* Create the device on blk (takes the reference) and start it. */
void guest_attach(Guest *g, BlockBackend *blk,
                  const VirtioBlkOptions *opts, uint64_t drop)
{
    VirtioBlkOptions o = {
        .num_queues = 1, .queue_size = g->num, .writable = true,
        .serial = "test-serial",
    };

    if (opts) {
        o = *opts;
    }
    g_assert_cmpuint(o.num_queues, <=, G_N_ELEMENTS(g->qs));
    g->blk = blk;
    g->dev = virtio_blk_dev_new(blk, &o, &guest_ops, g, &error_abort);
    guest_start(g, o.num_queues, drop);
}

void guest_use_queue(Guest *g, unsigned int i)
{
    g->q = &g->qs[i];
    g->qi = i;
}

void guest_free(Guest *g)
{
    virtio_blk_dev_free(g->dev);
    if (g->blk) {
        blk_unref(g->blk);
    }
    for (unsigned int i = 0; i < g->npieces; i++) {
        g_free(g->pieces[i].host);
        g_free(g->pieces[i].snap);
    }
    g_free(g->pieces);
    for (unsigned int i = 0; i < G_N_ELEMENTS(g->qs); i++) {
        g_free(g->qs[i].owner);
    }
    g_array_free(g->allowed, true);
    g_free(g);
}

/* ---- guard checks ---- */

void guest_allow(Guest *g, uint64_t iova, uint64_t len)
{
    Range r = { iova, len };

    g_array_append_val(g->allowed, r);
}

void guest_snapshot(Guest *g)
{
    for (unsigned int i = 0; i < g->npieces; i++) {
        Piece *p = &g->pieces[i];

        if (!p->snap) {
            p->snap = g_malloc(p->len);
        }
        memcpy(p->snap, p->host, p->len);
    }
    g_array_set_size(g->allowed, 0);
    /* The used rings (with avail_event) are the device's. */
    for (unsigned int i = 0; i < G_N_ELEMENTS(g->qs); i++) {
        guest_allow(g, g->qs[i].used, 6 + 8 * g->num);
    }
}

static bool guest_allowed(Guest *g, uint64_t iova)
{
    for (unsigned int i = 0; i < g->allowed->len; i++) {
        Range *r = &g_array_index(g->allowed, Range, i);

        if (iova >= r->iova && iova - r->iova < r->len) {
            return true;
        }
    }
    return false;
}

/* No byte outside the allowed ranges changed since the snapshot. */
void guest_check(Guest *g)
{
    for (unsigned int i = 0; i < g->npieces; i++) {
        Piece *p = &g->pieces[i];

        if (!memcmp(p->snap, p->host, p->len)) {
            continue;
        }
        for (uint64_t off = 0; off < p->len; off++) {
            if (p->snap[off] != p->host[off] &&
                !guest_allowed(g, p->iova + off)) {
                g_error("guest byte at 0x%" PRIx64 " changed outside the "
                        "request's buffers", p->iova + off);
            }
        }
    }
}

/* ---- rings ---- */

void put_desc(Guest *g, uint64_t at, const Buf *b, uint16_t flags,
              uint16_t next)
{
    struct vring_desc_le d = {
        .addr = GUINT64_TO_LE(b->iova),
        .len = GUINT32_TO_LE(b->len),
        .flags = GUINT16_TO_LE(b->flags | flags),
        .next = GUINT16_TO_LE(next),
    };

    gwrite(g, at, &d, sizeof(d));
}

static uint16_t alloc_desc(Guest *g, uint16_t head)
{
    /* From the top down: chains are not in index order. */
    for (int i = g->num - 1; i >= 0; i--) {
        if (g->q->owner[i] == FREE_DESC) {
            g->q->owner[i] = head;
            return i;
        }
    }
    g_assert_not_reached();
}

/* A direct chain of n buffers; returns its head (not yet available). */
uint16_t guest_chain(Guest *g, const Buf *b, unsigned int n)
{
    uint16_t idx[64];
    uint16_t head;

    g_assert_cmpuint(n, <=, G_N_ELEMENTS(idx));
    head = alloc_desc(g, 0);
    g->q->owner[head] = head;
    idx[0] = head;
    for (unsigned int i = 1; i < n; i++) {
        idx[i] = alloc_desc(g, head);
    }
    for (unsigned int i = 0; i < n; i++) {
        put_desc(g, g->q->desc + 16 * idx[i], &b[i],
                 i + 1 < n ? VRING_DESC_F_NEXT : 0,
                 i + 1 < n ? idx[i + 1] : 0);
    }
    return head;
}

/* One ring descriptor pointing at an indirect table of n buffers. */
uint16_t guest_chain_indirect(Guest *g, const Buf *b, unsigned int n)
{
    uint64_t table = galloc(g, 16 * n, 16);
    uint16_t head = alloc_desc(g, 0);
    Buf t = { table, 16 * n, VRING_DESC_F_INDIRECT };

    g->q->owner[head] = head;
    for (unsigned int i = 0; i < n; i++) {
        put_desc(g, table + 16 * i, &b[i],
                 i + 1 < n ? VRING_DESC_F_NEXT : 0, i + 1 < n ? i + 1 : 0);
    }
    put_desc(g, g->q->desc + 16 * head, &t, 0, 0);
    return head;
}

void guest_publish(Guest *g, uint16_t head)
{
    gw16(g, g->q->avail + 4 + 2 * (g->q->avail_idx % g->num), head);
    g->q->avail_idx++;
    gw16(g, g->q->avail + 2, g->q->avail_idx);
}

uint16_t used_idx(Guest *g)
{
    return gr16(g, g->q->used + 2);
}

/* Next used entry: returns false when none is pending. */
bool guest_used(Guest *g, uint16_t *id, uint32_t *len)
{
    uint64_t e;

    if (used_idx(g) == g->q->last_used) {
        return false;
    }
    e = g->q->used + 4 + 8 * (g->q->last_used % g->num);
    *id = gr32(g, e);
    *len = gr32(g, e + 4);
    g->q->last_used++;
    g_assert_cmpuint(*id, <, g->num);
    g_assert_cmpuint(g->q->owner[*id], ==, *id);
    for (unsigned int i = 0; i < g->num; i++) {
        if (g->q->owner[i] == *id) {
            g->q->owner[i] = FREE_DESC;
        }
    }
    return true;
}

void guest_kick(Guest *g)
{
    virtio_blk_dev_kick(g->dev, g->qi);
}

/* ---- requests ---- */

static uint64_t req_alloc(Guest *g, Req *r, uint64_t len, uint64_t align)
{
    return r->straddle ? galloc_straddle(g, len) : galloc(g, len, align);
}

void req_submit(Guest *g, Req *r)
{
    Buf b[64];
    unsigned int n = 0, split = r->split ? r->split : 1;
    struct virtio_blk_outhdr_le hdr = {
        .type = GUINT32_TO_LE(r->type),
        .sector = GUINT64_TO_LE(r->sector),
    };
    uint64_t hdr_iova = req_alloc(g, r, sizeof(hdr), 16);

    if (!r->trailer) {
        r->trailer = r->type == VIRTIO_BLK_T_ZONE_APPEND ? 9 : 1;
    }
    gwrite(g, hdr_iova, &hdr, sizeof(hdr));
    b[n++] = (Buf){ hdr_iova, sizeof(hdr), 0 };
    if (r->out_len) {
        uint64_t iova = req_alloc(g, r, r->out_len, 4096);
        uint32_t piece = DIV_ROUND_UP(r->out_len, split);

        gwrite(g, iova, r->out, r->out_len);
        for (uint32_t off = 0; off < r->out_len; off += piece) {
            b[n++] = (Buf){ iova + off, MIN(piece, r->out_len - off), 0 };
        }
    }
    if (r->in_len) {
        uint32_t piece = DIV_ROUND_UP(r->in_len, split);

        r->in_iova = req_alloc(g, r, r->in_len, 4096);
        for (uint32_t off = 0; off < r->in_len; off += piece) {
            b[n++] = (Buf){ r->in_iova + off, MIN(piece, r->in_len - off),
                            VRING_DESC_F_WRITE };
        }
        guest_allow(g, r->in_iova, r->in_len);
    }
    r->tail_iova = req_alloc(g, r, r->trailer, 1);
    b[n++] = (Buf){ r->tail_iova, r->trailer, VRING_DESC_F_WRITE };
    guest_allow(g, r->tail_iova, r->trailer);
    r->head = r->indirect ? guest_chain_indirect(g, b, n) :
                            guest_chain(g, b, n);
    guest_publish(g, r->head);
}

void req_finish(Guest *g, Req *r, uint32_t used_len)
{
    uint8_t tail[16];

    g_assert_cmpuint(r->trailer, <=, sizeof(tail));
    r->used_len = used_len;
    gread(g, r->tail_iova, tail, r->trailer);
    r->status = tail[r->trailer - 1];
    /* The append sector leads the in-header; the status byte ends it. */
    if (r->type == VIRTIO_BLK_T_ZONE_APPEND && r->trailer >= 9) {
        uint64_t s;

        memcpy(&s, tail, 8);
        r->append_sector = GUINT64_FROM_LE(s);
    }
    g_free(r->in);
    r->in = g_malloc(MAX(r->in_len, 1));
    if (r->in_len) {
        gread(g, r->in_iova, r->in, r->in_len);
    }
}

/* Submit, kick, wait for the one completion; guard-checked. */
uint8_t do_req(Guest *g, Req *r)
{
    uint16_t id;
    uint32_t len;

    guest_snapshot(g);
    req_submit(g, r);
    guest_kick(g);
    virtio_blk_dev_drain(g->dev);
    g_assert_true(guest_used(g, &id, &len));
    g_assert_cmpuint(id, ==, r->head);
    g_assert_false(guest_used(g, &id, &len));
    req_finish(g, r, len);
    /* The whole writable part is accounted for and written. */
    g_assert_cmpuint(len, ==, r->in_len + r->trailer);
    guest_check(g);
    g_assert_false(virtio_blk_dev_is_broken(g->dev));
    return r->status;
}

void req_clear(Req *r)
{
    g_free(r->in);
    memset(r, 0, sizeof(*r));
}

/* Common request shapes. */
uint8_t rq_read(Guest *g, uint64_t sector, uint32_t len, uint8_t *out)
{
    Req r = { .type = VIRTIO_BLK_T_IN, .sector = sector, .in_len = len };
    uint8_t st = do_req(g, &r);

    if (out) {
        memcpy(out, r.in, len);
    }
    if (st != VIRTIO_BLK_S_OK) {
        /* A failed read hands back zeroes, never stale bytes. */
        for (uint32_t i = 0; i < len; i++) {
            g_assert_cmpuint(r.in[i], ==, 0);
        }
    }
    req_clear(&r);
    return st;
}

uint8_t rq_write(Guest *g, uint64_t sector, const void *buf,
                 uint32_t len)
{
    Req r = { .type = VIRTIO_BLK_T_OUT, .sector = sector, .out = buf,
              .out_len = len };
    uint8_t st = do_req(g, &r);

    req_clear(&r);
    return st;
}

uint8_t rq_simple(Guest *g, uint32_t type, uint64_t sector)
{
    Req r = { .type = type, .sector = sector };
    uint8_t st = do_req(g, &r);

    req_clear(&r);
    return st;
}

uint8_t rq_append(Guest *g, uint64_t sector, const void *buf,
                  uint32_t len, uint64_t *where)
{
    Req r = { .type = VIRTIO_BLK_T_ZONE_APPEND, .sector = sector,
              .out = buf, .out_len = len };
    uint8_t st = do_req(g, &r);

    if (where) {
        *where = r.append_sector;
    }
    if (st != VIRTIO_BLK_S_OK) {
        g_assert_cmpuint(r.append_sector, ==, 0);
    }
    req_clear(&r);
    return st;
}

uint8_t *pattern(size_t len, uint8_t seed)
{
    uint8_t *b = g_malloc(len);

    for (size_t i = 0; i < len; i++) {
        b[i] = seed + i * 13 + i / 512;
    }
    return b;
}

void check_image(BlockBackend *blk, int64_t off, const void *want,
                 size_t len)
{
    g_autofree uint8_t *got = g_malloc(len);

    g_assert_cmpint(blk_pread(blk, off, len, got, 0), ==, 0);
    g_assert_true(memcmp(got, want, len) == 0);
}

static void zone_of(BlockBackend *blk, int64_t off, BlockZoneDescriptor *z)
{
    unsigned int nr = 1;

    g_assert_cmpint(blk_zone_report(blk, off, &nr, z), ==, 0);
    g_assert_cmpuint(nr, ==, 1);
}

void assert_zone(BlockBackend *blk, unsigned int i, BlockZoneState st,
                 uint64_t wp)
{
    BlockZoneDescriptor z;

    zone_of(blk, i * ZS, &z);
    g_assert_cmpint(z.state, ==, st);
    if (wp != UINT64_MAX) {
        g_assert_cmphex(z.wp, ==, wp);
    }
}

Guest *raw_guest(uint64_t psize, bool filter)
{
    g_autofree char *path = make_raw("raw.img", 4 * MiB);
    Guest *g = guest_new(8 * MiB, psize, 64);

    guest_attach(g, open_img(path, "raw", filter, true), NULL, 0);
    return g;
}

Guest *zoned_guest(const char *opts, bool filter)
{
    g_autofree char *path = make_zoned("z.zoned", opts, 8 * ZS);
    Guest *g = guest_new(8 * MiB, 0, 64);

    guest_attach(g, open_img(path, "zoned", filter, true), NULL, 0);
    return g;
}

/* ---- more request shapes ---- */

uint64_t bit(unsigned int n)
{
    return 1ULL << n;
}

VirtioBlkStats stats(Guest *g)
{
    VirtioBlkStats s;

    virtio_blk_dev_get_stats(g->dev, &s);
    return s;
}

void get_id(Guest *g, uint32_t len, uint8_t *out)
{
    Req r = { .type = VIRTIO_BLK_T_GET_ID, .in_len = len };

    g_assert_cmpuint(do_req(g, &r), ==, VIRTIO_BLK_S_OK);
    memcpy(out, r.in, len);
    req_clear(&r);
}

uint8_t rq_segs(Guest *g, uint32_t type,
                const struct virtio_blk_discard_write_zeroes_le *s,
                unsigned int n, uint32_t extra)
{
    g_autofree uint8_t *buf = g_malloc0(n * sizeof(*s) + extra);
    Req r = { .type = type, .out = buf, .out_len = n * sizeof(*s) + extra };
    uint8_t st;

    if (n) {
        memcpy(buf, s, n * sizeof(*s));
    }
    st = do_req(g, &r);
    req_clear(&r);
    return st;
}

struct virtio_blk_discard_write_zeroes_le seg(uint64_t sector, uint32_t num,
                                              uint32_t flags)
{
    return (struct virtio_blk_discard_write_zeroes_le){
        .sector = GUINT64_TO_LE(sector),
        .num_sectors = GUINT32_TO_LE(num),
        .flags = GUINT32_TO_LE(flags),
    };
}

static void check_report_desc(BlockBackend *blk, const uint8_t *raw,
                              uint64_t start)
{
    struct virtio_blk_zone_descriptor_le d;
    BlockZoneDescriptor z;

    memcpy(&d, raw, sizeof(d));
    zone_of(blk, start, &z);
    g_assert_cmpuint(GUINT64_FROM_LE(d.z_start), ==, z.start / SECTOR);
    g_assert_cmpuint(GUINT64_FROM_LE(d.z_cap), ==, z.cap / SECTOR);
    g_assert_cmpuint(GUINT64_FROM_LE(d.z_wp), ==,
                     z.wp == UINT64_MAX ? UINT64_MAX : z.wp / SECTOR);
    g_assert_cmpuint(d.z_type, ==, z.type);
    g_assert_cmpuint(d.z_state, ==, z.state);
    for (unsigned int i = 0; i < sizeof(d.reserved); i++) {
        g_assert_cmpuint(d.reserved[i], ==, 0);
    }
}

/* A report into a buffer of len bytes at sector; returns nr_zones. */
uint64_t report(Guest *g, uint64_t sector, uint32_t len,
                uint8_t want, bool straddle)
{
    Req r = { .type = VIRTIO_BLK_T_ZONE_REPORT, .sector = sector,
              .in_len = len, .split = straddle ? 3 : 1,
              .straddle = straddle };
    uint64_t nr = 0;

    g_assert_cmpuint(do_req(g, &r), ==, want);
    if (want == VIRTIO_BLK_S_OK) {
        uint64_t first = sector / ZS_SECT * ZS;

        memcpy(&nr, r.in, 8);
        nr = GUINT64_FROM_LE(nr);
        for (unsigned int i = 8; i < 64; i++) {
            g_assert_cmpuint(r.in[i], ==, 0);
        }
        for (uint64_t i = 0; i < nr; i++) {
            check_report_desc(g->blk, r.in + 64 + 64 * i, first + i * ZS);
        }
        /* Room left over (a partial descriptor or more) is zeroed. */
        for (uint64_t i = 64 + 64 * nr; i < len; i++) {
            g_assert_cmpuint(r.in[i], ==, 0);
        }
    } else {
        for (uint32_t i = 0; i < len; i++) {
            g_assert_cmpuint(r.in[i], ==, 0);
        }
    }
    req_clear(&r);
    return nr;
}

void wait_used(Guest *g, uint16_t idx)
{
    while (used_idx(g) != idx) {
        aio_poll(qemu_get_aio_context(), true);
    }
}

void id_req(Guest *g)
{
    uint8_t id[20];

    get_id(g, 20, id);
}

/* ---- the test programs' main ---- */

void driver_init(int *argc, char ***argv, const char *name)
{
    g_autofree char *tmpl = g_strdup_printf("%s-XXXXXX", name);

    g_test_init(argc, argv, NULL);
    qemu_init_main_loop(&error_abort);
    bdrv_register(&bdrv_test_fault);
    tmpdir = g_dir_make_tmp(tmpl, NULL);
    g_assert_nonnull(tmpdir);
}

int driver_run(void)
{
    int ret = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);

    if (system(cmd)) {
        /* leave it */
    }
    return ret;
}
