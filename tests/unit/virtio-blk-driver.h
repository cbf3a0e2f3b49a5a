/*
 * The in-process virtio-blk driver of test-virtio-blk.c and
 * test-virtio-blk-bad.c (virtio-blk-driver.c): fake guest
 * memory (its own IOVA space, one buffer or many separately allocated
 * pieces, with holes and read-only pieces), split rings built by the
 * test, used entries read back.  The disks are real
 * images in a temporary directory: a raw file and `zoned` images, some
 * under "test-fault", a filter defined here that can hold requests (to
 * complete them in a chosen order) or fail them (media errors).
 *
 * Every request checks that no byte of guest memory outside the buffers
 * the device may write (the request's writable buffers, the used ring)
 * changed, by comparing against a snapshot.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TEST_VIRTIO_BLK_DRIVER_H
#define TEST_VIRTIO_BLK_DRIVER_H

#include "block/block_int.h"
#include "block/export/virtio-blk.h"
#include "block/export/virtqueue.h"
#include "sysemu/block-backend.h"
#include "qemu/main-loop.h"
#include "qemu/coroutine.h"
#include "qemu/keyval.h"
#include "qapi/error.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define GUEST_BASE 0x40000000ULL
#define GUARD 0x5a
#define SECTOR 512

/* The zoned geometry: 8 zones of 1 MiB (768 KiB capacity), 4 KiB blocks. */
#define ZS (1 * MiB)
#define ZCAP (768 * KiB)
#define ZS_SECT (ZS / SECTOR)
#define ZGEO "zone_size=1M,zone_capacity=768K,conventional_zones=2," \
             "logical_block_size=4096"

extern char *tmpdir;

/* ---- test-fault: a filter that holds or fails requests ---- */

typedef struct FaultState {
    bool hold;                  /* park reads, writes and appends */
    Coroutine *parked[256];
    unsigned int nparked;
    int64_t fail_offset;        /* requests covering it fail; -1: none */
    int fail_errno;
} FaultState;

extern FaultState fault;

void fault_reset(void);

extern BlockDriver bdrv_test_fault;

/* ---- images ---- */

/* A raw image of size bytes, filled with a known pattern. */
char *make_raw(const char *name, int64_t size);

char *make_zoned(const char *name, const char *opts, int64_t size);

/* Open path with format fmt, optionally under test-fault. */
BlockBackend *open_img(const char *path, const char *fmt, bool filter,
                       bool writable);

/* ---- the fake guest ---- */

typedef struct Piece {
    uint64_t iova;
    uint64_t len;
    uint8_t *host;              /* separately allocated per piece */
    uint8_t *snap;
    bool hole;                  /* not mapped */
    bool ro;                    /* mapped read-only */
} Piece;

typedef struct Range {
    uint64_t iova, len;
} Range;

/* One queue's rings, as the driver keeps them. */
typedef struct DrvQueue {
    uint64_t desc, avail, used;
    uint16_t avail_idx;
    uint16_t last_used;
    uint16_t *owner;            /* head of the chain holding desc i */
} DrvQueue;

typedef struct Guest {
    Piece *pieces;
    unsigned int npieces;
    uint64_t psize;
    uint64_t size;
    uint64_t brk;               /* next free iova (bump allocator) */
    uint64_t max_map;           /* map() returns at most this; 0: no cap */
    unsigned int maps;

    uint16_t num;
    DrvQueue qs[2];
    DrvQueue *q;                  /* the queue the helpers work on */
    unsigned int qi;

    unsigned int notifies[2];
    unsigned int needs_reset;
    GArray *allowed;            /* Range: writable since the snapshot */

    BlockBackend *blk;
    VirtioBlkDev *dev;
} Guest;

#define FREE_DESC 0xffff

extern const VirtioBlkTransportOps guest_ops;

void gwrite(Guest *g, uint64_t iova, const void *buf, uint64_t len);

void gread(Guest *g, uint64_t iova, void *buf, uint64_t len);

void gw16(Guest *g, uint64_t iova, uint16_t v);

uint16_t gr16(Guest *g, uint64_t iova);

/* Zero the rings and forget all chains (a fresh driver). */
void guest_reset_rings(Guest *g);

/*
 * A guest of size bytes in pieces of psize bytes (0: one piece), with a
 * queue of num entries, rings zeroed, everything else guard bytes.
 */
Guest *guest_new(uint64_t size, uint64_t psize, uint16_t num);

/* Allocate len bytes of guest memory (align: power of two). */
uint64_t galloc(Guest *g, uint64_t len, uint64_t align);

/* Allocate len bytes that straddle the next piece boundary. */
uint64_t galloc_straddle(Guest *g, uint64_t len);

/* Negotiate features (all offered but drop) and set up the queues. */
void guest_start(Guest *g, unsigned int nq, uint64_t drop);

/* Create the device on blk (takes the reference) and start it. */
void guest_attach(Guest *g, BlockBackend *blk,
                  const VirtioBlkOptions *opts, uint64_t drop);

void guest_use_queue(Guest *g, unsigned int i);

void guest_free(Guest *g);

/* ---- guard checks ---- */

void guest_allow(Guest *g, uint64_t iova, uint64_t len);

void guest_snapshot(Guest *g);

/* No byte outside the allowed ranges changed since the snapshot. */
void guest_check(Guest *g);

/* ---- rings ---- */

typedef struct Buf {
    uint64_t iova;
    uint32_t len;
    uint16_t flags;             /* VRING_DESC_F_WRITE and raw extras */
} Buf;

void put_desc(Guest *g, uint64_t at, const Buf *b, uint16_t flags,
              uint16_t next);

/* A direct chain of n buffers; returns its head (not yet available). */
uint16_t guest_chain(Guest *g, const Buf *b, unsigned int n);

/* One descriptor pointing at an indirect table of n buffers; its head. */
uint16_t guest_chain_indirect(Guest *g, const Buf *b, unsigned int n);

void guest_publish(Guest *g, uint16_t head);

uint16_t used_idx(Guest *g);

/* Next used entry: returns false when none is pending. */
bool guest_used(Guest *g, uint16_t *id, uint32_t *len);

void guest_kick(Guest *g);

/* ---- requests ---- */

typedef struct Req {
    uint32_t type;
    uint64_t sector;
    const void *out;            /* data to the device */
    uint32_t out_len;
    uint32_t in_len;            /* data from the device */
    uint32_t trailer;           /* 0: 1 (9 for ZONE_APPEND); at most 16 */
    unsigned int split;         /* data descriptors (default 1) */
    bool indirect;
    bool straddle;              /* buffers straddle piece boundaries */

    uint16_t head;
    uint64_t in_iova, tail_iova;
    uint8_t status;
    uint64_t append_sector;
    uint8_t *in;                /* in_len bytes read back */
    uint32_t used_len;
} Req;

void req_submit(Guest *g, Req *r);

void req_finish(Guest *g, Req *r, uint32_t used_len);

/* Submit, kick, wait for the one completion; guard-checked. */
uint8_t do_req(Guest *g, Req *r);

void req_clear(Req *r);

/* Common request shapes. */
uint8_t rq_read(Guest *g, uint64_t sector, uint32_t len, uint8_t *out);

uint8_t rq_write(Guest *g, uint64_t sector, const void *buf,
                 uint32_t len);

uint8_t rq_simple(Guest *g, uint32_t type, uint64_t sector);

uint8_t rq_append(Guest *g, uint64_t sector, const void *buf,
                  uint32_t len, uint64_t *where);

uint8_t *pattern(size_t len, uint8_t seed);

void check_image(BlockBackend *blk, int64_t off, const void *want,
                 size_t len);

void assert_zone(BlockBackend *blk, unsigned int i, BlockZoneState st,
                 uint64_t wp);

Guest *raw_guest(uint64_t psize, bool filter);

Guest *zoned_guest(const char *opts, bool filter);

/* ---- more request shapes ---- */

uint64_t bit(unsigned int n);

VirtioBlkStats stats(Guest *g);

void get_id(Guest *g, uint32_t len, uint8_t *out);

uint8_t rq_segs(Guest *g, uint32_t type,
                const struct virtio_blk_discard_write_zeroes_le *s,
                unsigned int n, uint32_t extra);

struct virtio_blk_discard_write_zeroes_le seg(uint64_t sector, uint32_t num,
                                              uint32_t flags);

/* A report into a buffer of len bytes at sector; returns nr_zones. */
uint64_t report(Guest *g, uint64_t sector, uint32_t len,
                uint8_t want, bool straddle);

void wait_used(Guest *g, uint16_t idx);

void id_req(Guest *g);

/* main(): g_test and main loop set up, test-fault registered, tmpdir. */
void driver_init(int *argc, char ***argv, const char *name);
/* Run the tests, remove tmpdir; the exit status of main(). */
int driver_run(void);

#endif /* TEST_VIRTIO_BLK_DRIVER_H */
