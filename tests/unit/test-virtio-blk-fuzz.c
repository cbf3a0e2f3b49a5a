/*
 * A seeded random fuzz test of the virtio-blk device model
 * (block/export/virtio-blk.c, virtqueue.c) through the in-process driver
 * of virtio-blk-driver.h.
 *
 * "chains": each iteration rewrites the whole descriptor table with random
 * chains and junk (lengths 0 to 4 GiB, addresses in holes, read-only
 * pieces, outside the guest, wrapping, straddling pieces; random flags,
 * NEXT loops, INDIRECT inside INDIRECT, random next indices; headers of
 * random type and sector), publishes heads, bad ring entries and avail
 * index jumps, stale ring entries, kicks and drains, sometimes with
 * media errors under the requests.  A model walk of each published head
 * says whether it is a chain: the device must take the entries in order,
 * complete each with a used length within the chain's writable bytes and
 * a valid status, and break exactly at the first bad entry; the guard
 * check proves nothing outside the writable buffers changed; a broken
 * device must stay quiet until the reset.
 *
 * "mixed": valid requests interleaved with garbage that is malformed but
 * keeps the device working: every good request completes with OK and the
 * right data, checked against a shadow of the image.
 *
 * FUZZ_SEED (default fixed) and FUZZ_ITERS choose the run; the seed is
 * printed.  FUZZ_VERBOSE=1 prints each iteration.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "virtio-blk-driver.h"

#define FZ_GUEST (4 * MiB)
#define FZ_PIECE 4096ULL
#define FZ_CLEAN 256            /* pieces below this: no holes, no ro */
#define FZ_HUGE (16 * MiB)      /* from fresh memory: ends past the guest */
#define FZ_SERIAL "fuzz-serial"
#define FZ_GOOD_BYTES (512 * KiB)   /* the image range good requests own */
#define FZ_MAX_TABLE 64
#define W VRING_DESC_F_WRITE

typedef struct Fuzz {
    Guest *g;
    uint64_t rng;
    uint64_t seed;
    unsigned int iter;
    bool verbose;
    bool zoned;
    uint64_t cap;               /* sectors */
    uint64_t data_base;         /* first iova after the rings */
    uint64_t brk;               /* the bump allocator of garbage buffers */
    uint64_t drop;              /* features not negotiated */
    unsigned int breaks;
    unsigned int completions;

    /* Device-writable ranges of this iteration (the guard's and ours). */
    GArray *wr;                 /* Range */
    unsigned int pub[FZ_MAX_TABLE];
} Fuzz;

/* ---- random numbers: xorshift64* ---- */

static uint64_t fz_rand(Fuzz *f)
{
    f->rng ^= f->rng >> 12;
    f->rng ^= f->rng << 25;
    f->rng ^= f->rng >> 27;
    return f->rng * 0x2545f4914f6cdd1dULL;
}

static uint32_t fz_below(Fuzz *f, uint32_t n)
{
    return fz_rand(f) % n;
}

/* True with probability pct percent. */
static bool fz_pct(Fuzz *f, unsigned int pct)
{
    return fz_below(f, 100) < pct;
}

/* True with probability pm per mille. */
static bool fz_pm(Fuzz *f, unsigned int pm)
{
    return fz_below(f, 1000) < pm;
}

static uint64_t env_u64(const char *name, uint64_t dflt)
{
    const char *s = g_getenv(name);

    return s && *s ? g_ascii_strtoull(s, NULL, 0) : dflt;
}

/* ---- guest memory ---- */

static Piece *fz_piece(Fuzz *f, uint64_t iova)
{
    Guest *g = f->g;

    if (iova < GUEST_BASE || iova - GUEST_BASE >= g->size) {
        return NULL;
    }
    return &g->pieces[(iova - GUEST_BASE) / g->psize];
}

/* Read guest memory as the device could (holes and outside: false). */
static bool fz_peek(Fuzz *f, uint64_t iova, void *buf, uint64_t len)
{
    for (uint64_t i = 0; i < len; i++) {
        Piece *p = fz_piece(f, iova + i);

        if (!p || p->hole) {
            return false;
        }
    }
    if (len) {
        gread(f->g, iova, buf, len);
    }
    return true;
}

static bool fz_writable(Fuzz *f, uint64_t iova)
{
    Piece *p = fz_piece(f, iova);

    return p && !p->hole && !p->ro;
}

/*
 * A writable descriptor: the device may change its bytes that lie in
 * writable pieces.  Huge ones are refused before mapping, so they get no
 * allowance and a write through them trips the guard.
 */
static void fz_allow(Fuzz *f, uint64_t addr, uint32_t len)
{
    uint64_t end = GUEST_BASE + f->g->size;
    uint64_t a;

    if (!len || len >= FZ_HUGE || addr > UINT64_MAX - len) {
        return;
    }
    for (a = MAX(addr, GUEST_BASE); a < MIN(addr + len, end); ) {
        uint64_t next = MIN(QEMU_ALIGN_DOWN(a, FZ_PIECE) + FZ_PIECE,
                            MIN(addr + len, end));

        if (fz_writable(f, a)) {
            Range r = { a, next - a };

            guest_allow(f->g, a, next - a);
            g_array_append_val(f->wr, r);
        }
        a = next;
    }
}

/* How many writable descriptors of this iteration may write iova. */
static unsigned int fz_cover(Fuzz *f, uint64_t iova)
{
    unsigned int n = 0;

    for (unsigned int i = 0; i < f->wr->len; i++) {
        Range *r = &g_array_index(f->wr, Range, i);

        n += iova >= r->iova && iova - r->iova < r->len;
    }
    return n;
}

/* Fresh garbage memory, filled with a byte that is no status. */
static uint64_t fz_alloc(Fuzz *f, uint64_t len)
{
    uint64_t end = GUEST_BASE + f->g->size;
    uint64_t iova;
    g_autofree uint8_t *fill = NULL;

    if (fz_pct(f, 15)) {
        /* Straddle a piece boundary (maybe into a hole or ro piece). */
        iova = QEMU_ALIGN_UP(f->brk + len, FZ_PIECE) - MAX(len / 2, 1);
        iova = MAX(iova, f->brk);
    } else {
        iova = QEMU_ALIGN_UP(f->brk, 16) + 16 * fz_below(f, 8);
    }
    if (iova + len > end) {
        return end;             /* out of room: outside the guest */
    }
    f->brk = iova + len;
    if (len) {
        /* gwrite() reaches holes too: this is the driver, not the device. */
        fill = g_malloc(len);
        memset(fill, 0xa5, len);
        gwrite(f->g, iova, fill, len);
    }
    return iova;
}

/* ---- random fields ---- */

static uint32_t fz_len(Fuzz *f)
{
    static const uint32_t lens[] = {
        0, 1, 8, 15, 16, 17, 511, 512, 513, 4096, 8192, 16384, 65536,
    };

    switch (fz_below(f, 10)) {
    case 0:
        return fz_below(f, 70000);
    case 1:
        return fz_pct(f, 50) ? UINT32_MAX : FZ_HUGE + fz_below(f, 1u << 30);
    default:
        return lens[fz_below(f, G_N_ELEMENTS(lens))];
    }
}

/*
 * An address for a buffer of *len bytes; mostly fresh memory.  Where it is
 * not, *len is cut so that the last byte (the status byte of a malformed
 * chain, which the device may write) is in no other buffer: below the
 * guest, in the hole or read-only piece, beyond the guest.
 */
static uint64_t fz_addr(Fuzz *f, uint32_t *len, bool readable_rings)
{
    uint64_t end = GUEST_BASE + f->g->size;
    unsigned int nblk = (f->g->npieces - FZ_CLEAN) / 16;
    uint64_t piece, off;

    if (*len >= FZ_HUGE || fz_pct(f, 80)) {
        /* Huge: the last byte is beyond the guest. */
        return fz_alloc(f, *len >= FZ_HUGE ? 4096 : *len);
    }
    switch (fz_below(f, 8)) {
    case 0:
        return 0x1000 + fz_below(f, 4096);
    case 1:
        off = fz_below(f, 512);
        *len = MIN(*len, off + 1);
        return GUEST_BASE - 1 - off;
    case 2:
        return end - fz_below(f, 512);
    case 3:
        return UINT64_MAX - fz_below(f, 2 * (uint64_t)*len + 2);
    case 4:
        /* In a read-only piece */
        piece = FZ_CLEAN + 13 + 16 * fz_below(f, nblk);
        off = fz_below(f, FZ_PIECE);
        *len = MIN(*len, FZ_PIECE - off);
        return GUEST_BASE + piece * FZ_PIECE + off;
    case 5:
        /* Starting just before a hole, ending in it */
        piece = FZ_CLEAN + 9 + 16 * fz_below(f, nblk);
        off = fz_below(f, 64);
        *len = MIN(*len, off + FZ_PIECE);
        return GUEST_BASE + piece * FZ_PIECE - off;
    default:
        if (readable_rings) {
            /* The rings: fine to read (fz_put() drops W there) */
            off = fz_below(f, 6 * FZ_PIECE);
            return GUEST_BASE + off;
        }
        return fz_alloc(f, *len);
    }
}

static uint64_t fz_sector(Fuzz *f, bool avoid_good)
{
    uint64_t cap = f->cap;
    uint64_t good = FZ_GOOD_BYTES / SECTOR;

    switch (fz_below(f, 10)) {
    case 0:
        return cap;
    case 1:
        return cap - 1 - fz_below(f, 8);
    case 2:
        return fz_rand(f);
    case 3:
        return UINT64_MAX - fz_below(f, 4);
    case 4:
        return avoid_good ? good + fz_below(f, cap - good) : 0;
    case 5:
        /* A zone start */
        return ZS_SECT * fz_below(f, 8) + (avoid_good ? ZS_SECT : 0);
    default:
        return QEMU_ALIGN_DOWN(fz_below(f, cap), 8) +
               (avoid_good ? good : 0);
    }
}

static uint32_t fz_type(Fuzz *f)
{
    static const uint32_t types[] = {
        VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
        VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD,
        VIRTIO_BLK_T_WRITE_ZEROES, VIRTIO_BLK_T_ZONE_APPEND,
        VIRTIO_BLK_T_ZONE_REPORT, VIRTIO_BLK_T_ZONE_OPEN,
        VIRTIO_BLK_T_ZONE_CLOSE, VIRTIO_BLK_T_ZONE_FINISH,
        VIRTIO_BLK_T_ZONE_RESET, VIRTIO_BLK_T_ZONE_RESET_ALL,
    };

    if (fz_pct(f, 5)) {
        return fz_rand(f);
    }
    return types[fz_below(f, G_N_ELEMENTS(types))];
}

/* A fresh header of len bytes (the buffer too, unless huge). */
static uint64_t fz_header(Fuzz *f, bool avoid_good, uint32_t len)
{
    struct virtio_blk_outhdr_le h = {
        .type = GUINT32_TO_LE(fz_type(f)),
        .sector = GUINT64_TO_LE(fz_sector(f, avoid_good)),
    };
    uint64_t iova = fz_alloc(f, len >= FZ_HUGE ? 16 : MAX(len, 16));

    if (iova + 16 <= GUEST_BASE + f->g->size) {
        gwrite(f->g, iova, &h, 16);
    }
    return iova;
}

/* ---- the device ---- */

/* A fresh driver: reset, renegotiate, rings at a random index. */
static void fz_restart(Fuzz *f)
{
    Guest *g = f->g;
    DrvQueue *q = &g->qs[0];
    uint16_t start = fz_pct(f, 50) ? 0 : fz_rand(f);

    virtio_blk_dev_reset(g->dev);
    g_assert_false(virtio_blk_dev_is_broken(g->dev));
    guest_reset_rings(g);
    g->needs_reset = 0;
    f->drop = 0;
    if (fz_pct(f, 25)) {
        f->drop |= bit(VIRTIO_RING_F_INDIRECT_DESC);
    }
    if (fz_pct(f, 50)) {
        f->drop |= bit(VIRTIO_RING_F_EVENT_IDX);
    }
    g_assert_cmpint(virtio_blk_dev_set_features(
                        g->dev, virtio_blk_dev_features(g->dev) & ~f->drop),
                    ==, 0);
    /* A resumed ring: used idx and avail idx continue from start. */
    gw16(g, q->used + 2, start);
    gw16(g, q->avail + 2, start);
    q->avail_idx = q->last_used = start;
    g_assert_cmpint(virtio_blk_dev_queue_setup(g->dev, 0, g->num, q->desc,
                                               q->avail, q->used, start),
                    ==, 0);
    virtio_blk_dev_queue_enable(g->dev, 0, true);
}

static Fuzz *fz_new(bool zoned, uint16_t num, unsigned int test)
{
    Fuzz *f = g_new0(Fuzz, 1);
    VirtioBlkOptions o = {
        .num_queues = 1, .queue_size = num, .writable = true,
        .serial = FZ_SERIAL,
    };
    g_autofree char *path = NULL;
    Guest *g;

    f->seed = env_u64("FUZZ_SEED", 0x5eedf022);
    f->verbose = env_u64("FUZZ_VERBOSE", 0);
    /* Each test its own stream from the one seed (splitmix64). */
    f->rng = f->seed + 0x9e3779b97f4a7c15ULL * (test + 1);
    f->rng = (f->rng ^ (f->rng >> 30)) * 0xbf58476d1ce4e5b9ULL;
    f->rng = (f->rng ^ (f->rng >> 27)) * 0x94d049bb133111ebULL;
    f->rng = (f->rng ^ (f->rng >> 31)) ?: 1;  /* xorshift: never 0 */
    f->zoned = zoned;
    f->wr = g_array_new(false, false, sizeof(Range));
    g = f->g = guest_new(FZ_GUEST, FZ_PIECE, num);
    f->data_base = g->brk;
    g_assert_cmpuint(f->data_base, <=, GUEST_BASE + 8 * FZ_PIECE);
    for (unsigned int i = FZ_CLEAN; i < g->npieces; i++) {
        g->pieces[i].hole = i % 16 == 9;
        g->pieces[i].ro = i % 16 == 13;
    }
    if (zoned) {
        path = make_zoned("fz.zoned", ZGEO, 8 * ZS);
        guest_attach(g, open_img(path, "zoned", true, true), &o, 0);
    } else {
        path = make_raw("fz.img", 4 * MiB);
        guest_attach(g, open_img(path, "raw", true, true), &o, 0);
    }
    f->cap = blk_getlength(g->blk) / SECTOR;
    fz_restart(f);
    return f;
}

static void fz_free(Fuzz *f)
{
    fault_reset();
    g_test_message("%s: %u iterations, %u broken, %u completions",
                   f->zoned ? "zoned" : "raw", f->iter, f->breaks,
                   f->completions);
    guest_free(f->g);
    g_array_free(f->wr, true);
    g_free(f);
}

static unsigned int fz_iters(unsigned int dflt)
{
    return env_u64("FUZZ_ITERS", dflt);
}

/*
 * Sometimes a media error (or another errno) at a random place of the
 * image, at or above from: the error statuses are checked too.
 */
static void fz_faults(Fuzz *f, uint64_t from)
{
    static const int errnos[] = {
        EIO, EIO, ENOSPC, EINVAL, ENOTSUP, ETOOMANYREFS, EOVERFLOW,
    };
    uint64_t len = f->cap * SECTOR;

    fault_reset();
    if (fz_pct(f, 15)) {
        fault.fail_offset = from + (fz_pct(f, 50) ?
                                    QEMU_ALIGN_DOWN(fz_rand(f) % (len - from),
                                                    SECTOR) :
                                    ZS * fz_below(f, 8));
        fault.fail_errno = errnos[fz_below(f, G_N_ELEMENTS(errnos))];
    }
}

static void fz_start_iter(Fuzz *f, uint64_t brk)
{
    f->brk = brk;
    g_array_set_size(f->wr, 0);
    memset(f->pub, 0, sizeof(f->pub));
    guest_snapshot(f->g);
    if (f->verbose) {
        g_printerr("fuzz: seed 0x%" PRIx64 " iteration %u\n", f->seed,
                   f->iter);
    }
}

static bool fz_status_ok(Fuzz *f, uint8_t s)
{
    return f->zoned ? s <= VIRTIO_BLK_S_ZONE_ACTIVE_RESOURCE :
                      s <= VIRTIO_BLK_S_UNSUPP;
}

/* ---- the model of a chain ---- */

typedef struct Walk {
    bool ok;                    /* the device may complete it */
    uint64_t wbytes;            /* device-writable bytes */
    uint64_t status;            /* iova of the status byte */
} Walk;

static bool fz_desc(Fuzz *f, uint64_t table, unsigned int i,
                    struct vring_desc_le *d)
{
    struct vring_desc_le raw;

    if (!fz_peek(f, table + 16 * i, &raw, 16)) {
        return false;
    }
    d->addr = GUINT64_FROM_LE(raw.addr);
    d->len = GUINT32_FROM_LE(raw.len);
    d->flags = GUINT16_FROM_LE(raw.flags);
    d->next = GUINT16_FROM_LE(raw.next);
    return true;
}

/* The chain at head, for the failure report. */
static void fz_dump(Fuzz *f, uint16_t head)
{
    struct vring_desc_le d;
    uint64_t table = f->g->qs[0].desc;

    for (unsigned int i = 0, k = head; i < 20; i++) {
        if (!fz_desc(f, table, k, &d)) {
            g_printerr("  unreadable\n");
            return;
        }
        g_printerr("  [%u] addr 0x%" PRIx64 " len %u flags %x next %u\n",
                   k, d.addr, d.len, d.flags, d.next);
        if (i == 0 && (d.flags & VRING_DESC_F_INDIRECT)) {
            table = d.addr;
            k = 0;
            continue;
        }
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            return;
        }
        k = d.next;
    }
}

/* What the chain at head is, by the rules of virtqueue_pop(). */
static Walk fz_walk(Fuzz *f, uint16_t head)
{
    Guest *g = f->g;
    Walk w = { 0 };
    struct vring_desc_le d, last = { 0 };
    uint64_t table = g->qs[0].desc;
    unsigned int max = g->num, i = head, n;

    if (head >= g->num) {
        return w;
    }
    g_assert_true(fz_desc(f, table, head, &d));
    if (d.flags & VRING_DESC_F_INDIRECT) {
        if ((f->drop & bit(VIRTIO_RING_F_INDIRECT_DESC)) ||
            (d.flags & VRING_DESC_F_NEXT) || d.len == 0 || d.len % 16 ||
            d.len / 16 > g->num) {
            return w;
        }
        table = d.addr;
        max = d.len / 16;
        i = 0;
        for (unsigned int k = 0; k < max; k++) {
            if (!fz_desc(f, table, k, &d)) {
                return w;
            }
        }
    }
    for (n = 0; n < max; n++) {
        g_assert_true(fz_desc(f, table, i, &d));
        if (d.flags & VRING_DESC_F_INDIRECT) {
            return w;
        }
        if (d.flags & W) {
            w.wbytes += d.len;
        }
        last = d;
        if (!(d.flags & VRING_DESC_F_NEXT)) {
            break;
        }
        if (d.next >= max) {
            return w;
        }
        i = d.next;
    }
    if (n == max || !(last.flags & W) || last.len == 0) {
        return w;               /* a loop; no status byte */
    }
    /* Complete or malformed, the status byte must be writable. */
    w.status = last.addr + last.len - 1;
    w.ok = last.addr <= UINT64_MAX - (last.len - 1) &&
           fz_writable(f, w.status);
    return w;
}

/* ---- "chains": random descriptor tables ---- */

/*
 * No writable buffer over the rings: a device that writes where the
 * driver said it may would change the chains under the model.
 */
static uint16_t fz_no_ring_write(Fuzz *f, uint64_t addr, uint32_t len,
                                 uint16_t flags)
{
    if (len && addr <= UINT64_MAX - len && addr < f->data_base &&
        addr + len > GUEST_BASE) {
        flags &= ~W;
    }
    return flags;
}

/* One descriptor at iova (in the ring's table or an indirect one). */
static void fz_put(Fuzz *f, uint64_t at, uint64_t addr, uint32_t len,
                   uint16_t flags, uint16_t next)
{
    Buf b = { addr, len, 0 };

    flags = fz_no_ring_write(f, addr, len, flags);
    if (flags & W) {
        fz_allow(f, addr, len);
    }
    put_desc(f->g, at, &b, flags, next);
}

/* Random corruption of a descriptor's flags and next index. */
static void fz_mangle(Fuzz *f, uint16_t *flags, uint16_t *next,
                      unsigned int max)
{
    if (fz_pm(f, 15)) {
        *flags ^= W;
    }
    if (fz_pm(f, 10)) {
        *flags ^= VRING_DESC_F_NEXT;
    }
    if (fz_pm(f, 5)) {
        *flags |= VRING_DESC_F_INDIRECT;
    }
    if (fz_pm(f, 3)) {
        *flags = fz_rand(f);
    }
    if (fz_pm(f, 15)) {
        *next = fz_pct(f, 70) ? fz_below(f, max) : (uint16_t)fz_rand(f);
    }
}

/*
 * The buffers of one request (at most room): header, data, status, with
 * flags; mostly well-formed, each field sometimes wrong.  soft: garbage
 * that keeps the queue working (a good status byte, nothing read from
 * the rings or the good requests' memory).
 */
static unsigned int fz_bufs(Fuzz *f, Buf *b, unsigned int room,
                            bool soft)
{
    unsigned int n = 0, ndata;
    bool write = fz_pct(f, 50);
    uint32_t len;

    if (room >= 2 && !fz_pct(f, 5)) {
        len = fz_pct(f, 95) ? 16 : fz_len(f);
        b[n++] = (Buf){ fz_header(f, soft, len), len,
                        fz_pct(f, 97) ? 0 : W };
    }
    ndata = room - n - 1 ? fz_below(f, MIN(room - n - 1, 3) + 1) : 0;
    for (unsigned int i = 0; i < ndata; i++) {
        if (fz_pct(f, 10)) {
            write = !write;     /* sometimes readable after writable */
        }
        len = fz_pct(f, 70) ? 512 * (1 + fz_below(f, 16)) : fz_len(f);
        b[n].iova = fz_addr(f, &len, !soft);
        b[n].len = len;
        b[n++].flags = write ? W : 0;
    }
    if (soft) {
        uint8_t fill[16];

        /* Clean memory, where a status can be written and read back. */
        memset(fill, 0xa5, sizeof(fill));
        b[n].iova = galloc(f->g, 16, 16);
        gwrite(f->g, b[n].iova, fill, sizeof(fill));
        b[n].len = fz_pct(f, 50) ? 1 : 16;
        b[n++].flags = W;
        return n;
    }
    len = fz_pct(f, 95) ? (fz_pct(f, 50) ? 1 : 16) : fz_len(f);
    b[n].iova = fz_pct(f, 95) ? fz_alloc(f, len) : fz_addr(f, &len, true);
    b[n].len = len;
    b[n++].flags = fz_pm(f, 10) ? 0 : W;    /* the status readable */
    return n;
}

/* Build the whole descriptor table; returns the heads in heads[]. */
static unsigned int fz_build(Fuzz *f, uint16_t *heads)
{
    Guest *g = f->g;
    uint64_t desc = g->qs[0].desc;
    uint16_t perm[FZ_MAX_TABLE];
    unsigned int used = 0, nheads = 0;

    for (unsigned int i = 0; i < g->num; i++) {
        perm[i] = i;
    }
    for (unsigned int i = g->num - 1; i > 0; i--) {
        unsigned int j = fz_below(f, i + 1);
        uint16_t t = perm[i];

        perm[i] = perm[j];
        perm[j] = t;
    }
    while (used < g->num && fz_pct(f, 85)) {
        Buf b[8];
        unsigned int n = fz_bufs(f, b, MIN(8, g->num - used), false);
        uint16_t head = perm[used];
        bool ind_ok = !(f->drop & bit(VIRTIO_RING_F_INDIRECT_DESC));

        if (fz_pct(f, ind_ok ? 25 : 3)) {
            /* An indirect table holding the chain. */
            uint32_t tlen = 16 * n;
            uint64_t t;
            uint16_t flags = VRING_DESC_F_INDIRECT;
            uint16_t next = 0;

            if (fz_pct(f, 10)) {
                tlen = fz_pct(f, 50) ? fz_below(f, 16 * n + 32) :
                                       16 * (g->num + 1);
            }
            if (fz_pct(f, 90)) {
                t = fz_alloc(f, MAX(tlen, 16 * n));
            } else {
                uint32_t l = tlen;

                /* Not the rings: the used ring changes under the model. */
                t = fz_addr(f, &l, false);
            }
            for (unsigned int i = 0; i < n; i++) {
                uint16_t fl = b[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT :
                                                        0);
                uint16_t nx = i + 1 < n ? i + 1 : 0;

                fz_mangle(f, &fl, &nx, n);
                if (fz_pm(f, 15)) {
                    fl |= VRING_DESC_F_INDIRECT;    /* indirect in indirect */
                }
                /* The driver writes read-only pieces and holes too. */
                if (fz_piece(f, t + 16 * i) && fz_piece(f, t + 16 * i + 15)) {
                    fz_put(f, t + 16 * i, b[i].iova, b[i].len, fl, nx);
                }
            }
            fz_mangle(f, &flags, &next, g->num);
            fz_put(f, desc + 16 * head, t, tlen, flags & ~W, next);
            used++;
        } else {
            for (unsigned int i = 0; i < n; i++) {
                uint16_t fl = b[i].flags | (i + 1 < n ? VRING_DESC_F_NEXT :
                                                        0);
                uint16_t nx = i + 1 < n ? perm[used + i + 1] : 0;

                fz_mangle(f, &fl, &nx, g->num);
                fz_put(f, desc + 16 * perm[used + i], b[i].iova, b[i].len,
                       fl, nx);
            }
            used += n;
        }
        heads[nheads++] = head;
    }
    /* The rest: junk that random next indices may reach. */
    for (; used < g->num; used++) {
        uint32_t len = fz_len(f);
        uint16_t fl = fz_rand(f) & (VRING_DESC_F_NEXT | W |
                                    (fz_pct(f, 20) ? VRING_DESC_F_INDIRECT :
                                                     0));
        uint64_t addr = fz_addr(f, &len, true);

        fz_put(f, desc + 16 * perm[used], addr, len, fl,
               fz_below(f, g->num + 2));
    }
    return nheads;
}

/* Take the used entries; check each against the model. */
static unsigned int fz_reap(Fuzz *f, const Walk *walks)
{
    Guest *g = f->g;
    DrvQueue *q = &g->qs[0];
    unsigned int n = 0;

    while (used_idx(g) != q->last_used) {
        struct vring_used_elem_le e;
        uint32_t id, len;
        const Walk *w;

        gread(g, q->used + 4 + 8 * (q->last_used % g->num), &e, 8);
        q->last_used++;
        id = GUINT32_FROM_LE(e.id);
        len = GUINT32_FROM_LE(e.len);
        if (id >= g->num || !f->pub[id]) {
            g_error("seed 0x%" PRIx64 " iteration %u: used id %u was not "
                    "made available", f->seed, f->iter, id);
        }
        f->pub[id]--;
        w = &walks[id];
        if (!w->ok) {
            g_error("seed 0x%" PRIx64 " iteration %u: head %u completed, "
                    "but the chain is not one (loop, bad indirect, no "
                    "status)", f->seed, f->iter, id);
        }
        if (len > w->wbytes) {
            g_error("seed 0x%" PRIx64 " iteration %u: used len %u of head "
                    "%u beyond its %" PRIu64 " writable bytes", f->seed,
                    f->iter, len, id, w->wbytes);
        }
        /* A status byte only this descriptor may write. */
        if (fz_writable(f, w->status) && fz_cover(f, w->status) == 1) {
            uint8_t s;

            gread(g, w->status, &s, 1);
            if (!fz_status_ok(f, s)) {
                g_error("seed 0x%" PRIx64 " iteration %u: head %u status "
                        "0x%x", f->seed, f->iter, id, s);
            }
        }
        n++;
        f->completions++;
    }
    return n;
}

/* A broken device: no more used entries, no avail consumed, one report. */
static void fz_check_quiet(Fuzz *f)
{
    Guest *g = f->g;
    DrvQueue *q = &g->qs[0];
    uint16_t used = used_idx(g);
    uint16_t last_avail = virtio_blk_dev_queue_last_avail(g->dev, 0);

    g_assert_cmpuint(g->needs_reset, ==, 1);
    g_assert_nonnull(virtio_blk_dev_broken_reason(g->dev));
    if (f->verbose) {
        g_printerr("fuzz: broken: %s\n",
                   virtio_blk_dev_broken_reason(g->dev));
    }
    /* A valid GET_ID at a head we know to be a one-descriptor chain. */
    gw16(g, q->avail + 4 + 2 * (q->avail_idx % g->num), 0);
    q->avail_idx++;
    gw16(g, q->avail + 2, q->avail_idx);
    for (unsigned int i = 0; i < 3; i++) {
        guest_kick(g);
        virtio_blk_dev_drain(g->dev);
    }
    g_assert_true(virtio_blk_dev_is_broken(g->dev));
    g_assert_cmpuint(used_idx(g), ==, used);
    g_assert_cmpuint(virtio_blk_dev_queue_last_avail(g->dev, 0), ==,
                     last_avail);
    g_assert_cmpuint(g->needs_reset, ==, 1);
}

static void fz_chains_iter(Fuzz *f)
{
    Guest *g = f->g;
    DrvQueue *q = &g->qs[0];
    uint16_t heads[FZ_MAX_TABLE];
    Walk walks[FZ_MAX_TABLE];
    unsigned int nheads, npub = 0, nused, bad_at = UINT_MAX, kicked = 0;
    unsigned int want;
    bool jump = false, dup = false, broken;
    uint16_t start = virtio_blk_dev_queue_last_avail(g->dev, 0), taken;
    uint64_t span = GUEST_BASE + g->size - f->data_base - 512 * KiB;

    fz_start_iter(f, f->data_base + QEMU_ALIGN_DOWN(fz_rand(f) % span, 16));
    fz_faults(f, 0);
    g_assert_cmpuint(start, ==, q->avail_idx);
    nheads = fz_build(f, heads);
    for (unsigned int i = 0; i < g->num; i++) {
        walks[i] = fz_walk(f, i);
    }
    if (fz_pct(f, 30)) {
        /* used_event and the interrupt flag: any value */
        gw16(g, q->avail + 4 + 2 * g->num, fz_rand(f));
        gw16(g, q->avail, fz_below(f, 2));
    }

    for (unsigned int i = 0; i < nheads + 2; i++) {
        /* Two more: any descriptor, maybe inside a chain or again. */
        uint16_t head = i < nheads ? heads[i] : fz_below(f, g->num);

        if (i >= nheads && fz_pct(f, 90)) {
            continue;
        }
        if (fz_pm(f, 15)) {
            head = g->num + fz_below(f, 0x10000 - g->num);
        } else if (fz_pm(f, 20)) {
            /* The index moves over a stale entry of an earlier round. */
            head = gr16(g, q->avail + 4 + 2 * (q->avail_idx % g->num));
        }
        if (head < g->num) {
            dup |= f->pub[head]++ > 0;
        }
        if (bad_at == UINT_MAX && (head >= g->num || !walks[head].ok)) {
            bad_at = npub;
        }
        guest_publish(g, head);
        npub++;
        if (fz_pct(f, 30)) {
            guest_kick(g);
            kicked = npub;
        }
    }
    if (fz_pm(f, 15)) {
        /* The avail index jumps by more than the queue size. */
        gw16(g, q->avail + 2, q->avail_idx + g->num + 1 +
                              fz_below(f, 0x10000 - 2 * g->num - 1));
        jump = true;
    }
    guest_kick(g);
    virtio_blk_dev_drain(g->dev);

    guest_check(g);
    nused = fz_reap(f, walks);
    guest_check(g);
    broken = virtio_blk_dev_is_broken(g->dev);
    taken = virtio_blk_dev_queue_last_avail(g->dev, 0) - start;
    /* Whatever was taken completed: the drain waited for it. */
    g_assert_cmpuint(nused, ==, taken);
    /* After a jump, only what earlier kicks saw. */
    want = MIN(bad_at, jump ? kicked : npub);
    if (bad_at < npub || jump) {
        g_assert_true(broken);
    }
    /*
     * The device takes the entries in order and stops at the first bad
     * one.  A head made available twice may still be in flight the second
     * time: that breaks the device at any point.
     */
    if (!dup) {
        if (broken != (bad_at < npub || jump) || taken != want) {
            /* The entry where the device and the model part */
            fz_dump(f, gr16(g, q->avail + 4 +
                               2 * ((uint16_t)(start + taken) % g->num)));
            g_error("seed 0x%" PRIx64 " iteration %u: %u of %u entries "
                    "taken, broken %d ('%s'); expected %u taken, broken %d",
                    f->seed, f->iter, taken, npub, broken,
                    virtio_blk_dev_broken_reason(g->dev) ?: "", want,
                    bad_at < npub || jump);
        }
    } else {
        g_assert_cmpuint(taken, <=, want);
    }
    if (broken) {
        fz_check_quiet(f);
        guest_check(g);
        f->breaks++;
        fz_restart(f);
    } else {
        g_assert_cmpuint(nused, ==, npub);
        g_assert_cmpuint(g->needs_reset, ==, 0);
        if (fz_pct(f, 2)) {
            fz_restart(f);
        }
    }
}

static void fz_chains(bool zoned, unsigned int test, unsigned int dflt)
{
    Fuzz *f = fz_new(zoned, 16, test);
    unsigned int iters = fz_iters(dflt);

    g_test_message("FUZZ_SEED=0x%" PRIx64 " FUZZ_ITERS=%u", f->seed, iters);
    for (f->iter = 0; f->iter < iters; f->iter++) {
        fz_chains_iter(f);
    }
    fz_free(f);
}

static void test_chains_raw(void)
{
    fz_chains(false, 0, 1200);
}

static void test_chains_zoned(void)
{
    fz_chains(true, 1, 1200);
}

/* ---- "mixed": good requests among garbage ---- */

typedef struct Item {
    bool good;
    bool done;
    Req r;
    uint16_t head;
    uint64_t status;            /* garbage: its status byte */
    uint64_t wbytes;
    uint64_t block;             /* good reads and writes: image offset */
    uint8_t *data;
} Item;

/* A good request: read, write, GET_ID or flush in the good range. */
static void fz_good(Fuzz *f, Item *it, uint8_t *busy, unsigned int nblk)
{
    Req *r = &it->r;
    unsigned int blk = fz_below(f, nblk);
    bool indirect_ok = !(f->drop & bit(VIRTIO_RING_F_INDIRECT_DESC));

    it->good = true;
    memset(r, 0, sizeof(*r));
    r->split = 1 + fz_below(f, 3);
    r->indirect = indirect_ok && fz_pct(f, 30);
    r->straddle = fz_pct(f, 20);
    switch (fz_below(f, 6)) {
    case 0:
        r->type = VIRTIO_BLK_T_GET_ID;
        r->in_len = 1 + fz_below(f, 40);
        break;
    case 1:
        r->type = VIRTIO_BLK_T_FLUSH;
        break;
    case 2:
    case 3:
        /* Requests of one round in flight together: distinct blocks. */
        if (!busy[blk]) {
            busy[blk] = 2;
            it->block = blk * 4096ULL;
            it->data = pattern(4096, fz_rand(f));
            r->type = VIRTIO_BLK_T_OUT;
            r->sector = it->block / SECTOR;
            r->out = it->data;
            r->out_len = 4096;
            break;
        }
        /* fall through */
    default:
        r->type = VIRTIO_BLK_T_IN;
        it->block = blk * 4096ULL;
        r->sector = it->block / SECTOR;
        r->in_len = 4096;
        if (busy[blk] == 2) {
            r->type = VIRTIO_BLK_T_GET_ID;  /* being written: not read */
            r->sector = 0;
            r->in_len = 20;
        }
        busy[blk] = MAX(busy[blk], 1);
        break;
    }
    req_submit(f->g, r);
    it->head = r->head;
}

/* Garbage that is malformed but leaves the queue intact. */
static void fz_soft(Fuzz *f, Item *it, unsigned int room)
{
    Buf b[8];
    unsigned int n = fz_bufs(f, b, MIN(room, 6), true);
    uint64_t status_iova = b[n - 1].iova;
    bool indirect = n > 1 && fz_pct(f, 25) &&
                    !(f->drop & bit(VIRTIO_RING_F_INDIRECT_DESC));

    it->good = false;
    it->wbytes = 0;
    for (unsigned int i = 0; i < n; i++) {
        b[i].flags = fz_no_ring_write(f, b[i].iova, b[i].len, b[i].flags);
        if (b[i].flags & W) {
            it->wbytes += b[i].len;
            fz_allow(f, b[i].iova, b[i].len);
        }
    }
    it->status = status_iova + b[n - 1].len - 1;
    it->head = indirect ? guest_chain_indirect(f->g, b, n) :
                          guest_chain(f->g, b, n);
    guest_publish(f->g, it->head);
}

static void fz_mixed_check_good(Fuzz *f, Item *it, uint32_t len,
                                uint8_t *shadow)
{
    Req *r = &it->r;

    req_finish(f->g, r, len);
    if (r->status != VIRTIO_BLK_S_OK) {
        g_error("seed 0x%" PRIx64 " iteration %u: good request type %u "
                "sector %" PRIu64 " status %u", f->seed, f->iter, r->type,
                r->sector, r->status);
    }
    g_assert_cmpuint(len, ==, r->in_len + r->trailer);
    switch (r->type) {
    case VIRTIO_BLK_T_IN:
        if (memcmp(r->in, shadow + it->block, 4096)) {
            g_error("seed 0x%" PRIx64 " iteration %u: read of %" PRIu64
                    " returned wrong data", f->seed, f->iter, it->block);
        }
        break;
    case VIRTIO_BLK_T_OUT:
        memcpy(shadow + it->block, it->data, 4096);
        break;
    case VIRTIO_BLK_T_GET_ID: {
        char id[20] = FZ_SERIAL;

        g_assert_cmpmem(r->in, MIN(r->in_len, 20), id, MIN(r->in_len, 20));
        for (uint32_t i = 20; i < r->in_len; i++) {
            g_assert_cmpuint(r->in[i], ==, 0);
        }
        break;
    }
    default:
        break;
    }
}

static void fz_mixed_iter(Fuzz *f, uint8_t *shadow)
{
    Guest *g = f->g;
    Item items[FZ_MAX_TABLE];
    uint8_t busy[FZ_GOOD_BYTES / 4096] = { 0 };
    unsigned int nitems = 0, room = g->num, done = 0;
    uint64_t hi = GUEST_BASE + g->size / 2;

    g->brk = f->data_base;          /* good requests: clean memory */
    fz_start_iter(f, hi + QEMU_ALIGN_DOWN(fz_rand(f) % (g->size / 4), 16));
    fz_faults(f, FZ_GOOD_BYTES);
    while (room >= 6 && nitems < G_N_ELEMENTS(items)) {
        Item *it = &items[nitems++];

        memset(it, 0, sizeof(*it));
        if (fz_pct(f, 50)) {
            fz_good(f, it, busy, G_N_ELEMENTS(busy));
        } else {
            fz_soft(f, it, room);
        }
        /* Count what the chain took. */
        room = 0;
        for (unsigned int i = 0; i < g->num; i++) {
            room += g->q->owner[i] == FREE_DESC;
        }
        if (fz_pct(f, 30)) {
            guest_kick(g);
        }
    }
    guest_kick(g);
    virtio_blk_dev_drain(g->dev);
    guest_check(g);
    if (virtio_blk_dev_is_broken(g->dev)) {
        g_error("seed 0x%" PRIx64 " iteration %u: broken by soft garbage: "
                "%s", f->seed, f->iter,
                virtio_blk_dev_broken_reason(g->dev));
    }
    for (;;) {
        uint16_t id;
        uint32_t len;
        unsigned int i;

        if (!guest_used(g, &id, &len)) {
            break;
        }
        for (i = 0; i < nitems && (items[i].done || items[i].head != id);
             i++) {
            /* the item of this head */
        }
        g_assert_cmpuint(i, <, nitems);
        if (items[i].good) {
            fz_mixed_check_good(f, &items[i], len, shadow);
        } else {
            uint8_t s;

            g_assert_cmpuint(len, <=, items[i].wbytes);
            gread(g, items[i].status, &s, 1);
            g_assert_true(fz_status_ok(f, s));
        }
        items[i].done = true;
        done++;
        f->completions++;
    }
    g_assert_cmpuint(done, ==, nitems);
    for (unsigned int i = 0; i < nitems; i++) {
        req_clear(&items[i].r);
        g_free(items[i].data);
    }
    guest_check(g);
    if (fz_pct(f, 3)) {
        fz_restart(f);
    }
}

static void fz_mixed(bool zoned, unsigned int test, unsigned int dflt)
{
    Fuzz *f = fz_new(zoned, 32, test);
    unsigned int iters = fz_iters(dflt);
    g_autofree uint8_t *shadow = g_malloc(FZ_GOOD_BYTES);

    g_assert_cmpint(blk_pread(f->g->blk, 0, FZ_GOOD_BYTES, shadow, 0), ==,
                    0);
    g_test_message("FUZZ_SEED=0x%" PRIx64 " FUZZ_ITERS=%u", f->seed, iters);
    for (f->iter = 0; f->iter < iters; f->iter++) {
        fz_mixed_iter(f, shadow);
    }
    check_image(f->g->blk, 0, shadow, FZ_GOOD_BYTES);
    fz_free(f);
}

static void test_mixed_raw(void)
{
    fz_mixed(false, 2, 300);
}

static void test_mixed_zoned(void)
{
    fz_mixed(true, 3, 300);
}

int main(int argc, char **argv)
{
    driver_init(&argc, &argv, "test-virtio-blk-fuzz");

    g_test_add_func("/virtio-blk/fuzz/chains-raw", test_chains_raw);
    g_test_add_func("/virtio-blk/fuzz/chains-zoned", test_chains_zoned);
    g_test_add_func("/virtio-blk/fuzz/mixed-raw", test_mixed_raw);
    g_test_add_func("/virtio-blk/fuzz/mixed-zoned", test_mixed_zoned);
    return driver_run();
}
