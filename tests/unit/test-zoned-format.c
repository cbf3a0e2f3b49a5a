/*
 * Tests of what the zoned image format keeps, on real files in a
 * temporary directory, through BlockBackend -> zoned -> file: persistence
 * across close and flush, recovery of data written after the last flush
 * (images copied while open stand for a crash), preallocated files,
 * durable and interrupted resets, a torn metadata slot, corrupt and
 * truncated images with their messages, qemu-img check and its repairs,
 * and the crash test: a writer process killed with SIGKILL at random
 * moments, the image checked against its log each time.
 *
 * Creation, I/O and zone operations are in test-zoned-format-io.c.
 *
 * ZONED_CRASH_ROUNDS sets the number of crash rounds (default 40);
 * ZONED_CRASH_SEED the first seed.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <signal.h>
#include <poll.h>
#include <sys/wait.h>
#include "block/block_int.h"
#include "block/zoned-int.h"
#include "sysemu/block-backend.h"
#include "qemu/main-loop.h"
#include "qapi/error.h"
#include "zoned-crash.h"
#include "zoned-format-helpers.h"

static char *writer_path;

/* ---- helpers ---- */

/* The open error's message (the image must not open). */
static char *open_error(const char *path)
{
    Error *err = NULL;
    BlockBackend *blk = try_open(path, 0, &err);
    char *msg;

    g_assert_null(blk);
    g_assert_nonnull(err);
    msg = g_strdup(error_get_pretty(err));
    error_free(err);
    return msg;
}

/* Raw access to the file under the image. */
static void file_pwrite(const char *path, int64_t off, const void *buf,
                        size_t len)
{
    int fd = open(path, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pwrite(fd, buf, len, off), ==, (ssize_t)len);
    close(fd);
}

static void file_pread(const char *path, int64_t off, void *buf, size_t len)
{
    int fd = open(path, O_RDONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(pread(fd, buf, len, off), ==, (ssize_t)len);
    close(fd);
}

static void file_punch(const char *path, int64_t off, int64_t len)
{
    int fd = open(path, O_WRONLY);

    g_assert_cmpint(fd, >=, 0);
    g_assert_cmpint(fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                              off, len), ==, 0);
    close(fd);
}

/*
 * What a crash would leave behind: the file as it is now (the page cache
 * survives a killed process), holes kept.
 */
static char *crash_copy(const char *src, const char *name)
{
    char *dst = path_of(name);
    int in = open(src, O_RDONLY);
    int out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    struct stat st;
    g_autofree uint8_t *buf = g_malloc(MiB);
    off_t pos = 0;

    g_assert_cmpint(in, >=, 0);
    g_assert_cmpint(out, >=, 0);
    g_assert_cmpint(fstat(in, &st), ==, 0);
    g_assert_cmpint(ftruncate(out, st.st_size), ==, 0);
    while (pos < st.st_size) {
        off_t data = lseek(in, pos, SEEK_DATA);
        off_t hole;

        if (data < 0) {
            break;
        }
        hole = lseek(in, data, SEEK_HOLE);
        for (pos = data; pos < hole;) {
            ssize_t n = pread(in, buf, MIN(MiB, hole - pos), pos);

            g_assert_cmpint(n, >, 0);
            g_assert_cmpint(pwrite(out, buf, n, pos), ==, n);
            pos += n;
        }
    }
    close(in);
    close(out);
    return dst;
}

/* The decoded header of an image file. */
static void read_header(const char *path, ZonedHeader *h)
{
    uint8_t buf[ZONED_HEADER_SIZE];

    file_pread(path, 0, buf, sizeof(buf));
    g_assert_true(zoned_header_decode(buf, -1, path, h, &error_abort));
}

/* The newest valid slot: its index, generation and entries. */
static int read_slot(const char *path, const ZonedHeader *h, uint64_t *gen,
                     ZonedEntry *e)
{
    int best = -1;

    for (int k = 0; k < 2; k++) {
        g_autofree uint8_t *buf = g_malloc(h->slot_size);
        g_autofree ZonedEntry *tmp = g_new(ZonedEntry, h->nr_zones);
        g_autofree char *reason = NULL;
        uint64_t g;

        file_pread(path, h->slot_offset[k], buf, h->slot_size);
        if (zoned_slot_decode(h, buf, &g, tmp, &reason) &&
            (best < 0 || g > *gen)) {
            best = k;
            *gen = g;
            memcpy(e, tmp, h->nr_zones * sizeof(*e));
        }
    }
    g_assert_cmpint(best, >=, 0);
    return best;
}

/* Write entries as the next generation, in the other slot. */
static void write_next_slot(const char *path, const ZonedHeader *h,
                            uint64_t gen, const ZonedEntry *e)
{
    g_autofree uint8_t *buf = g_malloc(h->slot_size);

    zoned_slot_encode(h, gen + 1, e, buf);
    file_pwrite(path, h->slot_offset[(gen + 1) & 1], buf, h->slot_size);
}

/*
 * The header of an image file and the entries of its newest valid slot
 * (g_free them), with the slot's generation and, if slot, its index.
 */
static ZonedEntry *read_table(const char *path, ZonedHeader *h, uint64_t *gen,
                              int *slot)
{
    ZonedEntry *e;
    int k;

    read_header(path, h);
    e = g_new(ZonedEntry, h->nr_zones);
    k = read_slot(path, h, gen, e);
    if (slot) {
        *slot = k;
    }
    return e;
}

typedef struct CheckOut {
    int ret;
    BdrvCheckResult r;
    GString *all;
} CheckOut;

static void run_check(const char *path, BdrvCheckMode fix, CheckOut *c)
{
    BlockBackend *blk = open_img(path, fix ? BDRV_O_RDWR : 0);

    c->ret = bdrv_check(blk_bs(blk), &c->r, fix);
    c->all = g_string_new(NULL);
    for (guint i = 0; c->r.messages && i < c->r.messages->len; i++) {
        g_string_append_printf(c->all, "%s\n",
                               (char *)g_ptr_array_index(c->r.messages, i));
    }
    if (c->all->len) {
        g_test_message("check: %s", c->all->str);
    }
    blk_unref(blk);
}

static void check_done(CheckOut *c)
{
    bdrv_check_result_cleanup(&c->r);
    g_string_free(c->all, true);
}

/* ---- persistence ---- */

static void test_persist_flush_reopen(void)
{
    g_autofree char *path = create_img("persist.zoned", GEO, 8 * MiB);
    g_autofree char *crashed = NULL;
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    ZonedHeader h;
    g_autofree ZonedEntry *e = NULL;
    uint64_t gen0, gen1;

    e = read_table(path, &h, &gen0, NULL);

    write_pat(blk, 0, 64 * KiB, 9);
    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    g_assert_cmpint(do_append(blk, 2 * ZS, 128 * KiB, 2, NULL), ==, 0);
    write_pat(blk, 3 * ZS, ZCAP, 3);
    write_pat(blk, 4 * ZS, 8 * KiB, 4);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_FINISH, 4 * ZS, ZS), ==, 0);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_OPEN, 5 * ZS, ZS), ==, 0);
    /* Plain writes cost no metadata write. */
    read_slot(path, &h, &gen1, e);
    g_assert_cmpuint(gen1, ==, gen0);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    read_slot(path, &h, &gen1, e);
    g_assert_cmpuint(gen1, ==, gen0 + 1);
    g_assert_cmpint(e[1].cond, ==, BLK_ZS_CLOSED);
    g_assert_cmpuint(e[1].wp, ==, 1 * ZS + 64 * KiB);
    /* A flush with nothing new writes nothing. */
    g_assert_cmpint(blk_flush(blk), ==, 0);
    read_slot(path, &h, &gen1, e);
    g_assert_cmpuint(gen1, ==, gen0 + 1);

    /* The state after the flush, as a crash would leave it. */
    crashed = crash_copy(path, "persist-crash.zoned");
    blk_unref(blk);

    for (int pass = 0; pass < 2; pass++) {
        blk = open_img(pass ? crashed : path, BDRV_O_RDWR);
        check_pat(blk, 0, 64 * KiB, 9);
        /* Open zones come back closed. */
        assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 64 * KiB);
        assert_zone(blk, 2, BLK_ZS_CLOSED, 2 * ZS + 128 * KiB);
        assert_zone(blk, 3, BLK_ZS_FULL, 3 * ZS + ZCAP);
        assert_zone(blk, 4, BLK_ZS_FULL, 5 * ZS);
        assert_zone(blk, 5, BLK_ZS_EMPTY, 5 * ZS);
        check_pat(blk, 1 * ZS, 64 * KiB, 1);
        check_pat(blk, 2 * ZS, 128 * KiB, 2);
        check_pat(blk, 3 * ZS, ZCAP, 3);
        check_pat(blk, 4 * ZS, 8 * KiB, 4);
        check_zero(blk, 4 * ZS + 8 * KiB, ZS - 8 * KiB);
        /* And it goes on from there. */
        write_pat(blk, 1 * ZS + 64 * KiB, 4096, 7);
        blk_unref(blk);
    }
}

/* Writes after the last flush are found again by the scan at open. */
static void test_persist_recover(void)
{
    g_autofree char *path = create_img("recover.zoned", GEO, 8 * MiB);
    g_autofree char *crashed = NULL;
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    write_pat(blk, 2 * ZS, 8 * KiB, 2);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    write_pat(blk, 1 * ZS + 64 * KiB, 32 * KiB, 3);        /* after */
    g_assert_cmpint(do_append(blk, 3 * ZS, 16 * KiB, 4, NULL), ==, 0);
    write_pat(blk, 5 * ZS, ZCAP, 5);                       /* fills */
    /* Zeroes written after the flush cannot be told from no data. */
    g_assert_cmpint(blk_pwrite_zeroes(blk, 2 * ZS + 8 * KiB, 8 * KiB, 0),
                    ==, 0);
    write_pat(blk, 2 * ZS + 16 * KiB, 4096, 6);
    crashed = crash_copy(path, "recover-crash.zoned");
    blk_unref(blk);

    /* check on the crashed image (read-only): leaks, no corruption */
    run_check(crashed, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.ret, ==, 0);
    g_assert_cmpint(c.r.corruptions, ==, 0);
    g_assert_cmpint(c.r.leaks, ==, 4);     /* zones 1, 3, 5; 2 */
    g_assert_nonnull(strstr(c.all->str, "zone 1: data written after the "
                            "last flush moves the write pointer from "
                            "1114112 to 1146880"));
    /* zone 2: the zero blocks stop the scan; what follows is a leak */
    g_assert_nonnull(strstr(c.all->str, "Leak: zone 2: data at 2113536 "
                            "above the write pointer (2105344)"));
    check_done(&c);

    blk = open_img(crashed, BDRV_O_RDWR);
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 96 * KiB);
    check_pat(blk, 1 * ZS + 64 * KiB, 32 * KiB, 3);
    assert_zone(blk, 2, BLK_ZS_CLOSED, 2 * ZS + 8 * KiB);
    check_zero(blk, 2 * ZS + 8 * KiB, ZS - 8 * KiB);
    assert_zone(blk, 3, BLK_ZS_CLOSED, 3 * ZS + 16 * KiB);
    check_pat(blk, 3 * ZS, 16 * KiB, 4);
    assert_zone(blk, 5, BLK_ZS_FULL, 5 * ZS + ZCAP);
    check_pat(blk, 5 * ZS, ZCAP, 5);
    blk_unref(blk);
    /* The writable open repaired everything (and said so). */
    run_check(crashed, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.r.corruptions + c.r.leaks, ==, 0);
    check_done(&c);
}

/*
 * A preallocated file is allocated everywhere: only the contents tell
 * written blocks from the rest.
 */
static void test_persist_preallocated(void)
{
    g_autofree char *path = create_img("prealloc.zoned",
                                       GEO ",preallocation=full", 8 * MiB);
    g_autofree char *crashed = NULL;
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);

    g_assert_true(file_has_data(path, 6 * MiB, 64 * KiB));
    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    write_pat(blk, 1 * ZS + 64 * KiB, 16 * KiB, 2);
    write_pat(blk, 3 * ZS, ZCAP, 3);
    crashed = crash_copy(path, "prealloc-crash.zoned");
    blk_unref(blk);
    blk = open_img(crashed, BDRV_O_RDWR);
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 80 * KiB);
    assert_zone(blk, 2, BLK_ZS_EMPTY, 2 * ZS);
    assert_zone(blk, 3, BLK_ZS_FULL, 3 * ZS + ZCAP);
    check_pat(blk, 1 * ZS, 80 * KiB - 16 * KiB, 1);
    check_pat(blk, 1 * ZS + 64 * KiB, 16 * KiB, 2);
    blk_unref(blk);
}

/* A reset is durable when it completes; an interrupted one finishes. */
static void test_persist_reset(void)
{
    g_autofree char *path = create_img("reset.zoned", GEO, 8 * MiB);
    g_autofree char *crashed = NULL;
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    ZonedHeader h;
    g_autofree ZonedEntry *e = NULL;
    uint64_t gen;
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    write_pat(blk, 2 * ZS, 64 * KiB, 2);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_RESET, 1 * ZS, ZS), ==, 0);
    crashed = crash_copy(path, "reset-crash.zoned");
    blk_unref(blk);
    blk = open_img(crashed, 0);
    assert_zone(blk, 1, BLK_ZS_EMPTY, 1 * ZS);
    assert_zone(blk, 2, BLK_ZS_CLOSED, 2 * ZS + 64 * KiB);
    blk_unref(blk);

    /* A crash between the slot and the discard: "reset pending". */
    e = read_table(crashed, &h, &gen, NULL);
    e[2].cond = BLK_ZS_EMPTY;
    e[2].wp = e[2].data_end = 2 * ZS;
    e[2].flags = ZONED_ENTRY_RESET_PENDING;
    write_next_slot(crashed, &h, gen, e);
    g_assert_true(file_has_data(crashed, h.data_offset + 2 * ZS, ZS));

    run_check(crashed, BDRV_FIX_NONE, &c);
    g_assert_nonnull(strstr(c.all->str, "Leak: zone 2: the data of an "
                            "interrupted reset is discarded"));
    check_done(&c);
    blk = open_img(crashed, BDRV_O_RDWR);
    assert_zone(blk, 2, BLK_ZS_EMPTY, 2 * ZS);
    check_zero(blk, 2 * ZS, ZS);
    g_assert_false(file_has_data(crashed, h.data_offset + 2 * ZS, ZS));
    /* The flag goes at the next metadata write. */
    write_pat(blk, 2 * ZS, 4096, 3);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    read_slot(crashed, &h, &gen, e);
    g_assert_cmpint(e[2].flags, ==, 0);
    g_assert_cmpint(e[2].cond, ==, BLK_ZS_CLOSED);
    blk_unref(blk);
}

/* A torn slot update: the previous slot is used. */
static void test_persist_torn_slot(void)
{
    g_autofree char *path = create_img("torn.zoned", GEO, 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    ZonedHeader h;
    g_autofree ZonedEntry *e = NULL;
    uint64_t gen;
    int slot;
    uint8_t junk[512];
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    g_assert_cmpint(blk_flush(blk), ==, 0);
    blk_unref(blk);
    e = read_table(path, &h, &gen, &slot);
    /* The newest slot half-written. */
    memset(junk, 0xee, sizeof(junk));
    file_pwrite(path, h.slot_offset[slot] + 16, junk, sizeof(junk));

    run_check(path, BDRV_FIX_NONE, &c);
    /* The slot (once: open saw it, the disk check skips it), zone 1. */
    g_assert_cmpint(c.r.leaks, ==, 2);
    g_assert_cmpint(c.r.corruptions, ==, 0);
    g_assert_nonnull(strstr(c.all->str, "is invalid"));
    check_done(&c);
    blk = open_img(path, 0);
    /* The older slot knew nothing of zone 1's data, but the scan did. */
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 64 * KiB);
    blk_unref(blk);

    run_check(path, BDRV_FIX_LEAKS, &c);
    g_assert_cmpint(c.r.leaks, ==, 0);
    g_assert_cmpint(c.r.leaks_fixed, ==, 2);
    check_done(&c);
    run_check(path, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.r.leaks + c.r.corruptions, ==, 0);
    g_assert_cmpuint(c.all->len, ==, 0);
    check_done(&c);
}

/* ---- corrupt images ---- */

typedef void CorruptFn(const char *path, const ZonedHeader *h);

static void put_header(const char *path, const ZonedHeader *h, bool fix_crc)
{
    uint8_t buf[ZONED_HEADER_SIZE];

    zoned_header_encode(h, buf);
    if (!fix_crc) {
        buf[20] ^= 0x10;
    }
    file_pwrite(path, 0, buf, sizeof(buf));
}

static void corrupt_magic(const char *path, const ZonedHeader *h)
{
    file_pwrite(path, 0, "QCOW", 4);
}

static void corrupt_version(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.version = 7;
    put_header(path, &x, true);
}

static void corrupt_header_crc(const char *path, const ZonedHeader *h)
{
    put_header(path, h, false);
}

static void corrupt_geometry_pow2(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.zone_size = 3 * MiB;
    put_header(path, &x, true);
}

static void corrupt_geometry_cap(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.zone_capacity = 2 * MiB;
    put_header(path, &x, true);
}

static void corrupt_geometry_count(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.nr_zones = 9;
    put_header(path, &x, true);
}

static void corrupt_slots_overlap(const char *path, const ZonedHeader *h)
{
    ZonedHeader x = *h;

    x.slot_offset[1] = x.slot_offset[0] + 512;
    put_header(path, &x, true);
}

static void corrupt_both_slots(const char *path, const ZonedHeader *h)
{
    uint8_t b = 0x42;

    file_pwrite(path, h->slot_offset[0] + 40, &b, 1);
    file_pwrite(path, h->slot_offset[1] + 40, &b, 1);
}

static void corrupt_slot_content(const char *path, const ZonedHeader *h)
{
    g_autofree ZonedEntry *e = g_new(ZonedEntry, h->nr_zones);
    uint64_t gen;

    read_slot(path, h, &gen, e);
    e[3].wp = 3 * ZS + 4096;            /* empty with a pointer inside */
    for (int k = 0; k < 2; k++) {
        g_autofree uint8_t *buf = g_malloc(h->slot_size);

        zoned_slot_encode(h, gen + k, e, buf);
        file_pwrite(path, h->slot_offset[k], buf, h->slot_size);
    }
}

static void corrupt_truncate_table(const char *path, const ZonedHeader *h)
{
    g_assert_cmpint(truncate(path, h->slot_offset[1] + 100), ==, 0);
}

static void corrupt_truncate_header(const char *path, const ZonedHeader *h)
{
    g_assert_cmpint(truncate(path, 100), ==, 0);
}

static void corrupt_too_many_active(const char *path, const ZonedHeader *h)
{
    g_autofree ZonedEntry *e = g_new(ZonedEntry, h->nr_zones);
    uint64_t gen;

    read_slot(path, h, &gen, e);
    for (int i = 1; i <= 4; i++) {
        e[i].cond = BLK_ZS_CLOSED;
        e[i].wp = e[i].data_end = i * ZS + 4096;
    }
    write_next_slot(path, h, gen, e);
}

static void test_corrupt(void)
{
    static const struct {
        const char *name;
        CorruptFn *fn;
        const char *msg;
    } cases[] = {
        { "magic", corrupt_magic, "has a bad magic" },
        { "version", corrupt_version, "has version 7; this build reads "
          "version 1" },
        { "header-crc", corrupt_header_crc, "has a corrupt header: checksum" },
        { "pow2", corrupt_geometry_pow2, "impossible geometry: Zone size "
          "3145728 must be a power of two" },
        { "cap", corrupt_geometry_cap, "impossible geometry: Zone capacity "
          "2097152" },
        { "count", corrupt_geometry_count, "impossible geometry: 9 zones "
          "recorded, but 8388608 bytes in zones of 1048576 bytes make 8" },
        { "overlap", corrupt_slots_overlap, "overlap" },
        { "slots", corrupt_both_slots, "has no valid metadata: slot 0 "
          "(offset 4096): checksum" },
        { "content", corrupt_slot_content, "slot 1 (offset 8192): empty zone "
          "3 has its write pointer at 3149824" },
        { "table-eof", corrupt_truncate_table, "the zone table in metadata "
          "slot 1 (offset 8192, 4096 bytes) extends past the end of the "
          "file (8704 bytes)" },
        { "header-eof", corrupt_truncate_header, "is truncated: 512 bytes "
          "cannot hold its 4096-byte header" },
        { "active", corrupt_too_many_active, "4 zones are active (closed), "
          "more than the limit of 3" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
        g_autofree char *name = g_strdup_printf("corrupt-%s.zoned",
                                                cases[i].name);
        g_autofree char *path = create_img(name, GEO ",max_active_zones=3",
                                           8 * MiB);
        g_autofree char *msg = NULL;
        ZonedHeader h;

        read_header(path, &h);
        cases[i].fn(path, &h);
        msg = open_error(path);
        if (!strstr(msg, cases[i].msg)) {
            g_test_message("%s: '%s'", cases[i].name, msg);
            g_assert_not_reached();
        }
        g_assert_nonnull(strstr(msg, path));
    }
}

/* ---- check and repair ---- */

static void test_check_clean(void)
{
    g_autofree char *path = create_img("check.zoned", GEO, 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_FINISH, 2 * ZS, ZS), ==, 0);
    blk_unref(blk);
    run_check(path, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.ret, ==, 0);
    g_assert_cmpint(c.r.corruptions + c.r.leaks + c.r.check_errors, ==, 0);
    g_assert_cmpuint(c.all->len, ==, 0);
    check_done(&c);
}

/* Data missing under a write pointer, data left above one. */
static void test_check_repair(void)
{
    g_autofree char *path = create_img("repair.zoned", GEO, 8 * MiB);
    BlockBackend *blk = open_img(path, BDRV_O_RDWR);
    ZonedHeader h;
    uint8_t junk[4096];
    CheckOut c;

    write_pat(blk, 1 * ZS, 64 * KiB, 1);
    write_pat(blk, 2 * ZS, 64 * KiB, 2);
    write_pat(blk, 3 * ZS, 8 * KiB, 3);
    g_assert_cmpint(blk_zone_mgmt(blk, BLK_ZO_FINISH, 3 * ZS, ZS), ==, 0);
    blk_unref(blk);
    read_header(path, &h);
    file_punch(path, h.data_offset + 1 * ZS + 32 * KiB, 32 * KiB);
    memset(junk, 0x77, sizeof(junk));
    file_pwrite(path, h.data_offset + 2 * ZS + 200 * KiB, junk, 4096);
    file_pwrite(path, h.data_offset + 3 * ZS + 500 * KiB, junk, 4096);

    run_check(path, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.r.corruptions, ==, 1);
    g_assert_cmpint(c.r.leaks, ==, 2);
    g_assert_nonnull(strstr(c.all->str, "ERROR: zone 1: the write pointer "
                            "(1114112) is above the data present in the "
                            "file, which ends at 1081344\n"));
    g_assert_nonnull(strstr(c.all->str, "Leak: zone 2: data at 2301952 "
                            "above the write pointer (2162688)\n"));
    g_assert_nonnull(strstr(c.all->str, "Leak: zone 3: data at 3657728 "
                            "above the write pointer (3153920)\n"));
    check_done(&c);

    run_check(path, BDRV_FIX_LEAKS | BDRV_FIX_ERRORS, &c);
    g_assert_cmpint(c.r.corruptions + c.r.leaks, ==, 0);
    g_assert_cmpint(c.r.corruptions_fixed, ==, 1);
    g_assert_cmpint(c.r.leaks_fixed, ==, 2);
    g_assert_nonnull(strstr(c.all->str, "Repaired: zone 1:"));
    check_done(&c);

    run_check(path, BDRV_FIX_NONE, &c);
    g_assert_cmpint(c.r.corruptions + c.r.leaks, ==, 0);
    check_done(&c);
    blk = open_img(path, 0);
    assert_zone(blk, 1, BLK_ZS_CLOSED, 1 * ZS + 32 * KiB);
    check_pat(blk, 1 * ZS, 32 * KiB, 1);
    assert_zone(blk, 3, BLK_ZS_FULL, 4 * ZS);
    blk_unref(blk);
}

/* ---- the crash test ---- */

typedef struct ZcLogZone {
    /* constraints: flushes (and the start) at the zone's generation */
    GArray *need_gen, *need_end, *need_pos;
    GArray *reset_pos, *reset_gen;  /* r: position, new generation */
    uint64_t acked_gen;             /* the newest R (or S) */
    uint64_t issued_gen;            /* the newest r (or S) */
    bool finished;
    GHashTable *appends;            /* "gen:id" -> landing offset */
} ZcLogZone;

typedef struct ZcLog {
    ZcLogZone z[ZC_NR_ZONES];
    GHashTable *snap_pos;           /* P n -> position */
    unsigned flushes, appends, writes, resets;
} ZcLog;

static void zc_log_init(ZcLog *l)
{
    memset(l, 0, sizeof(*l));
    l->snap_pos = g_hash_table_new(g_direct_hash, g_direct_equal);
    for (int i = 0; i < ZC_NR_ZONES; i++) {
        ZcLogZone *z = &l->z[i];

        z->need_gen = g_array_new(false, false, sizeof(uint64_t));
        z->need_end = g_array_new(false, false, sizeof(uint64_t));
        z->need_pos = g_array_new(false, false, sizeof(uint64_t));
        z->reset_pos = g_array_new(false, false, sizeof(uint64_t));
        z->reset_gen = g_array_new(false, false, sizeof(uint64_t));
        z->appends = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                           NULL);
    }
}

static void zc_log_free(ZcLog *l)
{
    g_hash_table_destroy(l->snap_pos);
    for (int i = 0; i < ZC_NR_ZONES; i++) {
        ZcLogZone *z = &l->z[i];

        g_array_free(z->need_gen, true);
        g_array_free(z->need_end, true);
        g_array_free(z->need_pos, true);
        g_array_free(z->reset_pos, true);
        g_array_free(z->reset_gen, true);
        g_hash_table_destroy(z->appends);
    }
}

static void zc_need(ZcLogZone *z, uint64_t gen, uint64_t end, uint64_t pos)
{
    g_array_append_val(z->need_gen, gen);
    g_array_append_val(z->need_end, end);
    g_array_append_val(z->need_pos, pos);
}

static void zc_parse_line(ZcLog *l, const char *line, uint64_t pos)
{
    unsigned zi, n;
    uint64_t gen, a, b, c;
    char **parts;

    if (line[0] == 'E') {
        g_test_message("writer: %s", line);
        g_assert_not_reached();
    }
    switch (line[0]) {
    case 'G':
        break;
    case 'S':
        g_assert_cmpint(sscanf(line, "S %u %" SCNu64 " %" SCNu64, &zi, &gen,
                               &a), ==, 3);
        l->z[zi].acked_gen = l->z[zi].issued_gen = gen;
        zc_need(&l->z[zi], gen, a, pos);
        break;
    case 'A':
        g_assert_cmpint(sscanf(line, "A %u %" SCNu64 " %" SCNu64 " %" SCNu64
                               " %" SCNu64, &zi, &gen, &a, &b, &c), ==, 5);
        g_hash_table_insert(l->z[zi].appends,
                            g_strdup_printf("%" PRIu64 ":%" PRIu64, gen, a),
                            GUINT_TO_POINTER(b / ZC_BLOCK + 1));
        l->appends++;
        break;
    case 'W':
        l->writes++;
        break;
    case 'r':
        g_assert_cmpint(sscanf(line, "r %u %" SCNu64, &zi, &gen), ==, 2);
        l->z[zi].issued_gen = gen;
        g_array_append_val(l->z[zi].reset_pos, pos);
        g_array_append_val(l->z[zi].reset_gen, gen);
        break;
    case 'R':
        g_assert_cmpint(sscanf(line, "R %u %" SCNu64, &zi, &gen), ==, 2);
        l->z[zi].acked_gen = gen;
        l->resets++;
        break;
    case 'f':
        g_assert_cmpint(sscanf(line, "f %u", &zi), ==, 1);
        l->z[zi].finished = true;
        break;
    case 'P':
        g_assert_cmpint(sscanf(line, "P %u", &n), ==, 1);
        g_hash_table_insert(l->snap_pos, GUINT_TO_POINTER(n),
                            GUINT_TO_POINTER(pos + 1));
        break;
    case 'F':
        parts = g_strsplit(line, " ", -1);
        n = atoi(parts[1]);
        pos = GPOINTER_TO_UINT(g_hash_table_lookup(l->snap_pos,
                                                   GUINT_TO_POINTER(n)));
        g_assert_cmpuint(pos, >, 0);
        for (char **p = parts + 2; *p; p++) {
            g_assert_cmpint(sscanf(*p, "%u:%" SCNu64 ":%" SCNu64, &zi, &gen,
                                   &a), ==, 3);
            zc_need(&l->z[zi], gen, a, pos - 1);
        }
        g_strfreev(parts);
        l->flushes++;
        break;
    default:
        g_test_message("bad line '%s'", line);
        g_assert_not_reached();
    }
}

/* Was a reset of zone z issued after log position pos? */
static bool zc_reset_after(ZcLogZone *z, uint64_t pos)
{
    for (guint k = 0; k < z->reset_pos->len; k++) {
        if (g_array_index(z->reset_pos, uint64_t, k) > pos) {
            return true;
        }
    }
    return false;
}

typedef struct ZcStats {
    uint64_t rounds, lines, flushes, appends, writes, resets;
    uint64_t above_flush;           /* zones recovered beyond a flush */
    uint64_t recovered_bytes;
} ZcStats;

/* Check the image against the writer's log. */
static void zc_verify(const char *path, ZcLog *l, ZcStats *stats)
{
    BlockBackend *blk = open_img(path, 0);
    uint8_t *buf = qemu_memalign(4096, ZC_ZONE_SIZE);
    BdrvCheckResult cr;

    for (uint32_t i = ZC_FIRST_APPEND; i < ZC_FIRST_WRITE + ZC_NR_WRITE;
         i++) {
        ZcLogZone *z = &l->z[i];
        uint64_t start = (uint64_t)i * ZC_ZONE_SIZE;
        uint64_t kind = i < ZC_FIRST_WRITE ? ZC_KIND_APPEND : ZC_KIND_WRITE;
        uint64_t gen = UINT64_MAX, top = 0, data_end;
        bool finished_zone;
        BlockZoneDescriptor d;
        ZcStamp st;

        zone(blk, i, &d);
        finished_zone = d.state == BLK_ZS_FULL &&
                        d.wp == start + ZC_ZONE_SIZE;
        g_assert_true(!finished_zone || z->finished);
        g_assert_cmpuint(d.state, !=, BLK_ZS_IOPEN);
        g_assert_cmpuint(d.state, !=, BLK_ZS_EOPEN);
        g_assert_cmpint(blk_pread(blk, start, ZC_ZONE_CAP, buf, 0), ==, 0);

        /* Below the pointer: stamped blocks of one generation. */
        data_end = finished_zone ? start + ZC_ZONE_CAP : d.wp;
        for (uint64_t off = start; off < data_end; off += ZC_BLOCK) {
            uint8_t *blk_buf = buf + (off - start);

            if (!zc_parse(blk_buf, &st)) {
                /* Only a finished zone has zeroes below its pointer. */
                g_assert_true(finished_zone);
                for (uint64_t o = off; o < data_end; o += ZC_BLOCK) {
                    g_assert_true(zoned_is_zero(buf + (o - start),
                                                ZC_BLOCK));
                }
                break;
            }
            g_assert_cmpuint(st.zone, ==, i);
            g_assert_cmpuint(st.kind, ==, kind);
            if (gen == UINT64_MAX) {
                gen = st.gen;
            }
            g_assert_cmpuint(st.gen, ==, gen);
            if (kind == ZC_KIND_WRITE) {
                g_assert_cmpuint(st.id + st.index * ZC_BLOCK, ==, off);
            } else {
                g_autofree char *key = g_strdup_printf(
                    "%" PRIu64 ":%" PRIu64, st.gen, st.id);
                uint64_t at = GPOINTER_TO_UINT(
                    g_hash_table_lookup(z->appends, key));

                if (at) {
                    g_assert_cmpuint((at - 1) * ZC_BLOCK + st.index *
                                     ZC_BLOCK, ==, off);
                }
            }
            top = off + ZC_BLOCK;
        }
        if (!finished_zone) {
            /* Nothing beyond the pointer is seen. */
            for (uint64_t off = d.wp; off < start + ZC_ZONE_CAP;
                 off += ZC_BLOCK) {
                g_assert_true(zoned_is_zero(buf + (off - start), ZC_BLOCK));
            }
        }

        /* The generation: not older than an acknowledged reset. */
        if (gen != UINT64_MAX) {
            g_assert_cmpuint(gen, >=, z->acked_gen);
            g_assert_cmpuint(gen, <=, z->issued_gen);
        }
        /* Every flush of this generation: the pointer is at or above. */
        for (guint k = 0; k < z->need_gen->len; k++) {
            uint64_t ngen = g_array_index(z->need_gen, uint64_t, k);
            uint64_t nend = g_array_index(z->need_end, uint64_t, k);
            uint64_t npos = g_array_index(z->need_pos, uint64_t, k);

            if (nend == start) {
                continue;
            }
            if (gen == UINT64_MAX) {
                /* Empty: only if a reset came after that flush. */
                if (!zc_reset_after(z, npos)) {
                    g_test_message("zone %u empty, but flushed up to %"
                                   PRIu64 " (gen %" PRIu64 ")", i, nend,
                                   ngen);
                    g_assert_not_reached();
                }
            } else if (ngen == gen) {
                if ((finished_zone ? top : d.wp) < nend) {
                    g_test_message("zone %u: wp %" PRIu64 " below the "
                                   "flushed %" PRIu64, i, d.wp, nend);
                    g_assert_not_reached();
                }
                if (d.wp > nend) {
                    stats->above_flush++;
                }
            }
        }
        stats->recovered_bytes += top > start ? top - start : 0;
    }

    /* Conventional zone: zeroes or stamps at their own offset. */
    g_assert_cmpint(blk_pread(blk, 0, ZC_ZONE_SIZE, buf, 0), ==, 0);
    for (uint64_t off = 0; off < ZC_ZONE_SIZE; off += ZC_BLOCK) {
        ZcStamp st;

        if (zoned_is_zero(buf + off, ZC_BLOCK)) {
            continue;
        }
        g_assert_true(zc_parse(buf + off, &st));
        g_assert_cmpuint(st.kind, ==, ZC_KIND_CONV);
        g_assert_cmpuint(st.id + st.index * ZC_BLOCK, ==, off);
    }

    /* check finds no corruption (leaks are what a crash leaves). */
    g_assert_cmpint(bdrv_check(blk_bs(blk), &cr, BDRV_FIX_NONE), ==, 0);
    if (cr.corruptions) {
        for (guint k = 0; k < cr.messages->len; k++) {
            g_test_message("%s", (char *)g_ptr_array_index(cr.messages, k));
        }
    }
    g_assert_cmpint(cr.corruptions, ==, 0);
    g_assert_cmpint(cr.check_errors, ==, 0);
    bdrv_check_result_cleanup(&cr);
    qemu_vfree(buf);
    blk_unref(blk);
}

/* Read what the writer logged until deadline (µs, monotonic); 0 = EOF. */
static void zc_read_log(int fd, GString *acc, int64_t deadline)
{
    for (;;) {
        struct pollfd p = { .fd = fd, .events = POLLIN };
        int64_t now = g_get_monotonic_time();
        int timeout = deadline ? (int)MAX((deadline - now) / 1000, 0) : -1;
        char buf[65536];
        ssize_t n;

        if (deadline && now >= deadline) {
            return;
        }
        if (poll(&p, 1, timeout) <= 0) {
            if (deadline) {
                return;
            }
            continue;
        }
        n = read(fd, buf, sizeof(buf));
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return;
        }
        g_string_append_len(acc, buf, n);
    }
}

static void zc_round(const char *path, unsigned seed, ZcStats *stats)
{
    g_autofree char *seed_str = g_strdup_printf("%u", seed);
    char *argv[] = { writer_path, (char *)path, seed_str, NULL };
    GString *out = g_string_new(NULL);
    GRand *r = g_rand_new_with_seed(seed ^ 0x5bd1e995);
    int fds[2], status;
    pid_t pid;
    ZcLog l;
    char **lines;

    if (g_getenv("ZONED_CRASH_VERBOSE")) {
        g_free(crash_copy(path, "crash-before.zoned"));
    }
    g_assert_cmpint(pipe2(fds, O_CLOEXEC), ==, 0);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        execv(writer_path, argv);
        _exit(127);
    }
    close(fds[1]);
    /* Started (all "S" lines, then "G"), then a random moment to die. */
    while (!strstr(out->str, "\nG\n") && !strchr(out->str, 'E')) {
        zc_read_log(fds[0], out, g_get_monotonic_time() + 10000);
        g_assert_cmpint(waitpid(pid, &status, WNOHANG), ==, 0);
    }
    zc_read_log(fds[0], out, g_get_monotonic_time() +
                g_rand_int_range(r, 1000, 60000));
    kill(pid, SIGKILL);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    zc_read_log(fds[0], out, 0);
    close(fds[0]);
    if (!WIFSIGNALED(status)) {
        g_test_message("writer exited (%d): %s", status, out->str);
        g_assert_not_reached();
    }

    zc_log_init(&l);
    lines = g_strsplit(out->str, "\n", -1);
    for (guint k = 0; lines[k]; k++) {
        /* The last piece may be a line cut by the kill. */
        if (lines[k][0] && lines[k + 1]) {
            zc_parse_line(&l, lines[k], k);
        }
    }
    stats->lines += g_strv_length(lines);
    g_strfreev(lines);
    stats->flushes += l.flushes;
    stats->appends += l.appends;
    stats->writes += l.writes;
    stats->resets += l.resets;
    stats->rounds++;
    if (g_getenv("ZONED_CRASH_VERBOSE")) {
        g_autofree char *logf = path_of("crash-round.log");

        g_test_message("round %" PRIu64 " seed %u", stats->rounds, seed);
        g_file_set_contents(logf, out->str, -1, NULL);
    }
    zc_verify(path, &l, stats);
    zc_log_free(&l);
    g_rand_free(r);
    g_string_free(out, true);
}

static void test_crash(void)
{
    const char *env_rounds = g_getenv("ZONED_CRASH_ROUNDS");
    const char *env_seed = g_getenv("ZONED_CRASH_SEED");
    unsigned rounds = env_rounds ? atoi(env_rounds) : 40;
    unsigned seed = env_seed ? atoi(env_seed) : g_test_rand_int();
    g_autofree char *path = create_img("crash.zoned", ZC_CREATE_OPTS,
                                       ZC_NR_ZONES * ZC_ZONE_SIZE);
    ZcStats stats = { 0 };
    int64_t t0 = g_get_monotonic_time();

    if (!g_file_test(writer_path, G_FILE_TEST_IS_EXECUTABLE)) {
        g_test_skip("zoned-crash-writer not built");
        return;
    }
    for (unsigned i = 0; i < rounds; i++) {
        zc_round(path, seed + i, &stats);
    }
    g_test_message("crash test: %" PRIu64 " rounds (seeds %u-%u) in %.1f s: "
                   "%" PRIu64 " flushes, %" PRIu64 " appends, %" PRIu64
                   " writes, %" PRIu64 " resets acknowledged; %" PRIu64
                   " zones came back beyond their last flush; 0 violations",
                   stats.rounds, seed, seed + rounds - 1,
                   (g_get_monotonic_time() - t0) / 1e6, stats.flushes,
                   stats.appends, stats.writes, stats.resets,
                   stats.above_flush);
    if (g_getenv("ZONED_CRASH_ROUNDS")) {
        printf("rounds %" PRIu64 " seeds %u-%u seconds %.1f flushes %" PRIu64
               " appends %" PRIu64 " writes %" PRIu64 " resets %" PRIu64
               " beyond-flush %" PRIu64 " violations 0\n", stats.rounds,
               seed, seed + rounds - 1,
               (g_get_monotonic_time() - t0) / 1e6, stats.flushes,
               stats.appends, stats.writes, stats.resets, stats.above_flush);
    }
}

int main(int argc, char **argv)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = NULL;
    int ret;

    g_test_init(&argc, &argv, NULL);
    qemu_init_main_loop(&error_abort);
    tmpdir = g_dir_make_tmp("test-zoned-format-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    dir = g_path_get_dirname(self);
    writer_path = g_build_filename(dir, "zoned-crash-writer", NULL);

    g_test_add_func("/zoned-format/persist/flush-reopen",
                    test_persist_flush_reopen);
    g_test_add_func("/zoned-format/persist/recover", test_persist_recover);
    g_test_add_func("/zoned-format/persist/reset", test_persist_reset);
    g_test_add_func("/zoned-format/persist/preallocated",
                    test_persist_preallocated);
    g_test_add_func("/zoned-format/persist/torn-slot",
                    test_persist_torn_slot);
    g_test_add_func("/zoned-format/corrupt", test_corrupt);
    g_test_add_func("/zoned-format/check/clean", test_check_clean);
    g_test_add_func("/zoned-format/check/repair", test_check_repair);
    g_test_add_func("/zoned-format/crash", test_crash);
    ret = g_test_run();
    tmpdir_remove();
    return ret;
}
