/*
 * Focused tests of the zone state machine (block/zone-model.c) beyond
 * the transition table: writes and appends, every resource-limit path
 * and the implicit-close cursor, management ranges and every errno,
 * read-only and offline zones, reads, the geometry checks, smaller last
 * zones, capacity < size, reports, restoring and recounting a saved
 * state.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "zone-model-helpers.h"

/* ---- writes ---- */

static void test_write_errors(void)
{
    ZoneModel *m = model_new(&geo_a);
    uint64_t landed;

    g_assert_cmpint(wr(m, Z(1), 8 * KiB), ==, 0);
    /* Not at the write pointer, behind it, past the capacity. */
    assert_fails(m, -EIO, wr(m, Z(1) + 16 * KiB, IO));
    assert_fails(m, -EIO, wr(m, Z(1), IO));
    assert_fails(m, -EIO, wr(m, Z(2) + IO, IO));
    assert_fails(m, -EIO, wr(m, Z(1) + 8 * KiB, 3 * MiB));
    /* Not whole blocks, empty, outside the device, across zones. */
    assert_fails(m, -EINVAL, wr(m, Z(1) + 8 * KiB + 512, IO));
    assert_fails(m, -EINVAL, wr(m, Z(1) + 8 * KiB, 512));
    assert_fails(m, -EINVAL, wr(m, Z(1) + 8 * KiB, 0));
    assert_fails(m, -EINVAL, wr(m, 64 * MiB, IO));
    assert_fails(m, -EINVAL, wr(m, 64 * MiB - IO, 2 * IO));
    assert_fails(m, -EINVAL, wr(m, UINT64_MAX - IO + 1, IO));
    assert_fails(m, -EINVAL, wr(m, Z(1) - IO, 2 * IO));
    /* Appends: a zone start only, within the capacity, sequential. */
    assert_fails(m, -EIO, zone_model_write(m, Z(1) + IO, IO, true, &landed,
                                           NULL));
    assert_fails(m, -EIO, zone_model_write(m, Z(1), 3 * MiB, true, &landed,
                                           NULL));
    assert_fails(m, -EIO, zone_model_write(m, 0, IO, true, &landed, NULL));
    assert_fails(m, -EINVAL, zone_model_write(m, Z(1), 0, true, &landed,
                                              NULL));
    /* Conventional zones take any whole blocks in range. */
    g_assert_cmpint(zone_model_write(m, 12 * KiB, IO, false, &landed, NULL),
                    ==, 0);
    g_assert_cmphex(landed, ==, 12 * KiB);
    g_assert_cmpint(wr(m, 0, ZS), ==, 0);
    assert_fails(m, -EINVAL, wr(m, 0, ZS + IO));
    model_free(m);
}

static void test_append_lands_at_wp(void)
{
    ZoneModel *m = model_new(&geo_a);
    uint64_t landed;
    uint32_t closed;

    for (int k = 0; k < 3; k++) {
        g_assert_cmpint(zone_model_write(m, Z(1), MiB, true, &landed,
                                         &closed), ==, 0);
        g_assert_cmphex(landed, ==, Z(1) + k * MiB);
        g_assert_cmpuint(closed, ==, NONE);
    }
    assert_zone(m, 1, BLK_ZS_FULL, Z(1) + 3 * MiB);
    assert_counts(m, 0, 0, 0);
    assert_fails(m, -EIO, zone_model_write(m, Z(1), IO, true, &landed,
                                           NULL));
    model_free(m);
}

static void test_write_check(void)
{
    ZoneModel *m = model_new(&geo_a);
    uint64_t landed = 0;
    uint32_t closed;

    g_assert_cmpint(wr(m, Z(1), IO), ==, 0);
    g_assert_cmpint(wr(m, Z(2), IO), ==, 0);
    /* Would close z1: says so without doing it. */
    assert_fails(m, 0, zone_model_write_check(m, Z(3), IO, false, &landed));
    g_assert_cmphex(landed, ==, Z(3));
    assert_fails(m, 0, zone_model_write_check(m, Z(2), IO, true, &landed));
    g_assert_cmphex(landed, ==, Z(2) + IO);
    assert_fails(m, -EIO, zone_model_write_check(m, Z(2), IO, false,
                                                 &landed));
    assert_fails(m, -EINVAL, zone_model_write_check(m, Z(2), 1, false,
                                                    &landed));
    g_assert_cmpint(wr_closing(m, Z(3), IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, 1);
    /* z4 empty at the active limit. */
    assert_fails(m, -EOVERFLOW, zone_model_write_check(m, Z(4), IO, false,
                                                       NULL));
    assert_fails(m, -ETOOMANYREFS, zone_model_write_check(m, Z(1) + IO, IO,
                                                          false, NULL));
    model_free(m);
}

/* The caller that failed to write the data puts the zone back. */
static void test_write_undo(void)
{
    ZoneModel *m = model_new(&geo_a);
    BlockZoneDescriptor before;

    g_assert_cmpint(wr(m, Z(1), 3 * MiB - IO), ==, 0);
    before = m->zones[1];
    g_assert_cmpint(wr(m, Z(1) + 3 * MiB - IO, IO), ==, 0);
    assert_zone(m, 1, BLK_ZS_FULL, Z(1) + 3 * MiB);
    g_assert_cmpint(zone_model_set_zone(m, 1, before.state, before.wp), ==,
                    0);
    assert_zone(m, 1, BLK_ZS_IOPEN, Z(1) + 3 * MiB - IO);
    assert_counts(m, 1, 0, 0);
    model_free(m);
}

/* ---- resources ---- */

static void test_implicit_close_round_robin(void)
{
    ZoneModel *m = model_new(&geo_a);
    uint32_t closed;

    g_assert_cmpint(wr_closing(m, Z(1), IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, NONE);
    g_assert_cmpint(wr_closing(m, Z(2), IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, NONE);
    /* The cursor starts at the first sequential zone. */
    g_assert_cmpint(wr_closing(m, Z(3), IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, 1);
    assert_zone(m, 1, BLK_ZS_CLOSED, Z(1) + IO);
    assert_counts(m, 2, 0, 1);
    g_assert_cmpuint(m->imp_close_cursor, ==, 2);
    /* Active 3: no empty zone may open. */
    assert_fails(m, -EOVERFLOW, wr(m, Z(4), IO));
    assert_fails(m, -EOVERFLOW, mgmt(m, BLK_ZO_OPEN, Z(4), ZS));
    assert_fails(m, -EOVERFLOW, mgmt(m, BLK_ZO_FINISH, Z(4), ZS));
    /* Both limits: closing one to reopen another is refused. */
    assert_fails(m, -ETOOMANYREFS, wr(m, Z(1) + IO, IO));
    assert_fails(m, -ETOOMANYREFS, mgmt(m, BLK_ZO_OPEN, Z(1), ZS));
    assert_fails(m, -ETOOMANYREFS, mgmt(m, BLK_ZO_FINISH, Z(1), ZS));
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(2), ZS), ==, 0);
    g_assert_cmpint(wr_closing(m, Z(1) + IO, IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, NONE);
    assert_counts(m, 2, 0, 0);
    /* From the cursor (2): z2 is full, z3 is next, not the older z1. */
    g_assert_cmpint(wr_closing(m, Z(4), IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, 3);
    g_assert_cmpint(mgmt(m, BLK_ZO_RESET, Z(3), ZS), ==, 0);
    g_assert_cmpint(wr_closing(m, Z(5), IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, 4);
    assert_zone(m, 1, BLK_ZS_IOPEN, Z(1) + 2 * IO);
    assert_zone(m, 4, BLK_ZS_CLOSED, Z(4) + IO);
    assert_zone(m, 5, BLK_ZS_IOPEN, Z(5) + IO);
    assert_counts(m, 2, 0, 1);
    model_free(m);
}

/* The cursor wraps to the first sequential zone and survives reset-all. */
static void test_cursor_wraps(void)
{
    ZoneModelGeometry g = {
        .size = 32 * MiB, .zone_size = ZS, .zone_capacity = ZS,
        .max_open = 2, .block_size = 512,
    };
    ZoneModel *m = model_new(&g);
    static const struct { int zone, closes; } steps[] = {
        { 0, -1 }, { 1, -1 }, { 2, 0 }, { 3, 1 },
        { -1, 0 },              /* reset-all: the cursor stays at 2 */
        { 5, -1 }, { 1, -1 }, { 6, 5 }, { 7, 6 }, { 2, 7 }, { 3, 1 },
    };

    for (size_t k = 0; k < G_N_ELEMENTS(steps); k++) {
        uint32_t closed;

        if (steps[k].zone < 0) {
            g_assert_cmpint(mgmt(m, BLK_ZO_RESET_ALL, 0, g.size), ==, 0);
            g_assert_cmpuint(m->imp_close_cursor, ==, 2);
            continue;
        }
        g_assert_cmpint(wr_closing(m, Z(steps[k].zone), IO, &closed), ==, 0);
        g_assert_cmpuint(closed, ==, steps[k].closes < 0 ? NONE
                                     : (uint32_t)steps[k].closes);
    }
    g_assert_cmpuint(m->imp_close_cursor, ==, 2);
    /* Explicit opens of closed zones close implicit ones the same way. */
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(0), ZS), ==, 0);
    assert_zone(m, 0, BLK_ZS_EOPEN, Z(0));
    assert_zone(m, 2, BLK_ZS_CLOSED, Z(2) + IO);
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(1), ZS), ==, 0);
    assert_zone(m, 3, BLK_ZS_CLOSED, Z(3) + IO);
    assert_counts(m, 0, 2, 5);
    assert_fails(m, -ETOOMANYREFS, mgmt(m, BLK_ZO_OPEN, Z(4), ZS));
    assert_fails(m, -ETOOMANYREFS, wr(m, Z(4), IO));
    model_free(m);
}

static void test_cursor_after_conventional(void)
{
    ZoneModelGeometry g = {
        .size = 32 * MiB, .zone_size = ZS, .zone_capacity = ZS,
        .nr_conv = 2, .max_open = 2, .block_size = 512,
    };
    ZoneModel *m = model_new(&g);
    uint32_t closed;

    g_assert_cmpuint(m->imp_close_cursor, ==, 2);
    g_assert_cmpint(wr(m, Z(2), IO), ==, 0);
    g_assert_cmpint(wr(m, Z(3), IO), ==, 0);
    g_assert_cmpint(wr_closing(m, Z(4), IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, 2);
    /* Wrap past the last zone back to the first sequential one. */
    m->imp_close_cursor = 7;
    g_assert_cmpint(wr_closing(m, Z(5), IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, 3);
    g_assert_cmpuint(m->imp_close_cursor, ==, 4);
    model_free(m);
}

static void test_explicit_open_limits(void)
{
    ZoneModel *m = model_new(&geo_a);

    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(1), ZS), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(2), ZS), ==, 0);
    assert_counts(m, 0, 2, 0);
    /* No implicitly-open zone to close. */
    assert_fails(m, -ETOOMANYREFS, wr(m, Z(3), IO));
    assert_fails(m, -ETOOMANYREFS, mgmt(m, BLK_ZO_OPEN, Z(3), ZS));
    assert_fails(m, -ETOOMANYREFS, mgmt(m, BLK_ZO_FINISH, Z(3), ZS));
    /* Open zones need nothing to be written, opened again or closed. */
    g_assert_cmpint(wr(m, Z(1), IO), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(1), ZS), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_CLOSE, Z(1), ZS), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_CLOSE, Z(2), ZS), ==, 0);
    assert_zone(m, 1, BLK_ZS_CLOSED, Z(1) + IO);
    assert_zone(m, 2, BLK_ZS_EMPTY, Z(2));
    assert_counts(m, 0, 0, 1);
    model_free(m);
}

static void test_open_and_finish_close_implicitly(void)
{
    ZoneModel *m = model_new(&geo_a);
    unsigned long changed[1] = { 0 };

    g_assert_cmpint(wr(m, Z(1), IO), ==, 0);
    g_assert_cmpint(wr(m, Z(2), IO), ==, 0);
    /* An implicitly-open zone opens explicitly at the limit. */
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(1), ZS), ==, 0);
    assert_counts(m, 1, 1, 0);
    /* Finishing an empty zone takes an open slot on the way. */
    g_assert_cmpint(zone_model_mgmt(m, BLK_ZO_FINISH, Z(3), ZS, changed), ==,
                    0);
    g_assert_cmphex(changed[0], ==, (1UL << 2) | (1UL << 3));
    assert_zone(m, 2, BLK_ZS_CLOSED, Z(2) + IO);
    assert_zone(m, 3, BLK_ZS_FULL, Z(3) + ZS);
    assert_counts(m, 0, 1, 1);
    /* At the active limit nothing is closed to open an empty zone. */
    g_assert_cmpint(wr(m, Z(4), IO), ==, 0);
    assert_counts(m, 1, 1, 1);
    changed[0] = 0;
    assert_fails(m, -EOVERFLOW, zone_model_mgmt(m, BLK_ZO_OPEN, Z(5), ZS,
                                                changed));
    g_assert_cmphex(changed[0], ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_RESET, Z(1), ZS), ==, 0);
    g_assert_cmpint(zone_model_mgmt(m, BLK_ZO_OPEN, Z(5), ZS, changed), ==,
                    0);
    g_assert_cmphex(changed[0], ==, 1UL << 5);
    assert_counts(m, 1, 1, 1);
    model_free(m);
}

static void test_active_limit_only(void)
{
    ZoneModelGeometry g = {
        .size = 32 * MiB, .zone_size = ZS, .zone_capacity = ZS,
        .max_active = 2, .block_size = 512,
    };
    ZoneModel *m = model_new(&g);

    g_assert_cmpint(wr(m, Z(0), IO), ==, 0);
    g_assert_cmpint(wr(m, Z(1), IO), ==, 0);
    assert_fails(m, -EOVERFLOW, wr(m, Z(2), IO));
    assert_fails(m, -EOVERFLOW, mgmt(m, BLK_ZO_OPEN, Z(2), ZS));
    assert_fails(m, -EOVERFLOW, mgmt(m, BLK_ZO_FINISH, Z(2), ZS));
    /* Closed zones stay active; reopening them needs nothing. */
    g_assert_cmpint(mgmt(m, BLK_ZO_CLOSE, Z(0), ZS), ==, 0);
    assert_fails(m, -EOVERFLOW, wr(m, Z(2), IO));
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(0), ZS), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_CLOSE, Z(0), ZS), ==, 0);
    g_assert_cmpint(wr(m, Z(0) + IO, IO), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(0), ZS), ==, 0);
    g_assert_cmpint(wr(m, Z(2), IO), ==, 0);
    assert_counts(m, 2, 0, 0);
    model_free(m);
}

/* ---- management ranges and errors ---- */

static void test_mgmt_ranges(void)
{
    ZoneModel *m = model_new(&geo_a);
    unsigned long changed[1] = { 0 };

    /* Each zone on its own, the last failure is returned. */
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(1), 3 * ZS), ==, -ETOOMANYREFS);
    assert_zone(m, 1, BLK_ZS_EOPEN, Z(1));
    assert_zone(m, 2, BLK_ZS_EOPEN, Z(2));
    assert_zone(m, 3, BLK_ZS_EMPTY, Z(3));
    g_assert_cmpint(mgmt(m, BLK_ZO_CLOSE, Z(1), 3 * ZS), ==, -EIO);
    assert_zone(m, 1, BLK_ZS_EMPTY, Z(1));
    assert_zone(m, 2, BLK_ZS_EMPTY, Z(2));
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(1), ZS), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(1), 4 * ZS), ==, -ETOOMANYREFS);
    g_assert_cmpint(mgmt(m, BLK_ZO_RESET_ALL, 0, 0), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(3), ZS), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(5), ZS), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(6), ZS), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(1), 3 * ZS), ==, -EIO);
    /* A conventional zone fails alone. */
    g_assert_cmpint(mgmt(m, BLK_ZO_RESET_ALL, 0, 0), ==, 0);
    g_assert_cmpint(wr(m, Z(1), IO), ==, 0);
    g_assert_cmpint(zone_model_mgmt(m, BLK_ZO_RESET, 0, 3 * ZS, changed),
                    ==, -EIO);
    g_assert_cmphex(changed[0], ==, 1UL << 1);
    assert_zone(m, 1, BLK_ZS_EMPTY, Z(1));
    /* The whole device: a reset-all, conventional zones or not. */
    g_assert_cmpint(wr(m, Z(1), IO), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(4), ZS), ==, 0);
    g_assert_cmpint(zone_model_inject(m, 5, BLK_ZS_RDONLY), ==, 0);
    changed[0] = 0;
    g_assert_cmpint(zone_model_mgmt(m, BLK_ZO_RESET, 0, 64 * MiB, changed),
                    ==, 0);
    g_assert_cmphex(changed[0], ==, (1UL << 1) | (1UL << 4));
    assert_zone(m, 5, BLK_ZS_RDONLY, UINT64_MAX);
    /* Finish and close of a whole range. */
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(1), 4 * ZS), ==, 0);
    for (int i = 1; i < 5; i++) {
        assert_zone(m, i, BLK_ZS_FULL, Z(i) + ZS);
    }
    assert_counts(m, 0, 0, 0);
    model_free(m);
}

static void test_mgmt_einval(void)
{
    ZoneModel *m = model_new(&geo_a);

    g_assert_cmpint(wr(m, Z(1), IO), ==, 0);
    for (int op = BLK_ZO_OPEN; op <= BLK_ZO_RESET; op++) {
        assert_fails(m, -EINVAL, mgmt(m, op, Z(1) + IO, ZS));
        assert_fails(m, -EINVAL, mgmt(m, op, Z(1), 0));
        assert_fails(m, -EINVAL, mgmt(m, op, Z(1), ZS + IO));
        assert_fails(m, -EINVAL, mgmt(m, op, Z(1), ZS / 2));
        assert_fails(m, -EINVAL, mgmt(m, op, Z(15), 2 * ZS));
        assert_fails(m, -EINVAL, mgmt(m, op, Z(16), ZS));
        assert_fails(m, -EINVAL, mgmt(m, op, UINT64_MAX - ZS + 1, ZS));
        assert_fails(m, -EINVAL, mgmt(m, op, Z(1), UINT64_MAX - ZS + 1));
    }
    assert_fails(m, -EINVAL, mgmt(m, (BlockZoneOp)42, Z(1), ZS));
    /* Reset-all ignores offset and len. */
    g_assert_cmpint(mgmt(m, BLK_ZO_RESET_ALL, 12345, 1), ==, 0);
    assert_zone(m, 1, BLK_ZS_EMPTY, Z(1));
    model_free(m);
}

/* ---- read-only and offline ---- */

static void test_inject(void)
{
    ZoneModel *m = model_new(&geo_a);

    g_assert_cmpint(wr(m, Z(5), IO), ==, 0);
    g_assert_cmpint(wr(m, Z(6), IO), ==, 0);
    /* Read-only first finishes the zone: its open slot is free. */
    g_assert_cmpint(zone_model_inject(m, 5, BLK_ZS_RDONLY), ==, 0);
    assert_zone(m, 5, BLK_ZS_RDONLY, UINT64_MAX);
    assert_counts(m, 1, 0, 0);
    g_assert_cmpint(wr(m, Z(7), IO), ==, 0);
    assert_zone(m, 6, BLK_ZS_IOPEN, Z(6) + IO);
    assert_fails(m, -EIO, wr(m, Z(5), IO));
    g_assert_cmpint(zone_model_read(m, Z(5), ZS), ==, 0);
    g_assert_cmpuint(zone_model_readable(m, Z(5) + IO, ZS), ==, ZS - IO);
    g_assert_cmpint(zone_model_inject(m, 6, BLK_ZS_OFFLINE), ==, 0);
    assert_zone(m, 6, BLK_ZS_OFFLINE, UINT64_MAX);
    g_assert_cmpint(zone_model_read(m, Z(6), IO), ==, -EIO);
    g_assert_cmpint(zone_model_read(m, Z(6) - IO, 2 * IO), ==, -EIO);
    g_assert_cmpint(zone_model_read(m, Z(7) - IO, 2 * IO), ==, -EIO);
    g_assert_cmpint(zone_model_read(m, Z(5) - IO, 2 * IO), ==, 0);
    assert_fails(m, -EIO, wr(m, Z(6), IO));
    assert_fails(m, -EIO, zone_model_write(m, Z(6), IO, true, NULL, NULL));
    /* Reset of a range with them: the others still reset. */
    g_assert_cmpint(wr(m, Z(4), IO), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_RESET, Z(4), 4 * ZS), ==, -EIO);
    assert_zone(m, 4, BLK_ZS_EMPTY, Z(4));
    assert_zone(m, 7, BLK_ZS_EMPTY, Z(7));
    /* Asking again gives an empty zone back. */
    g_assert_cmpint(zone_model_inject(m, 5, BLK_ZS_RDONLY), ==, 1);
    assert_zone(m, 5, BLK_ZS_EMPTY, Z(5));
    g_assert_cmpint(zone_model_inject(m, 6, BLK_ZS_RDONLY), ==, 0);
    assert_zone(m, 6, BLK_ZS_RDONLY, UINT64_MAX);
    g_assert_cmpint(zone_model_inject(m, 6, BLK_ZS_OFFLINE), ==, 0);
    g_assert_cmpint(zone_model_inject(m, 6, BLK_ZS_OFFLINE), ==, 1);
    assert_counts(m, 0, 0, 0);
    /* At the open limit, the finish closes an implicitly-open zone. */
    g_assert_cmpint(wr(m, Z(1), IO), ==, 0);
    g_assert_cmpint(wr(m, Z(2), IO), ==, 0);
    m->imp_close_cursor = 1;
    g_assert_cmpint(zone_model_inject(m, 3, BLK_ZS_RDONLY), ==, 0);
    assert_zone(m, 1, BLK_ZS_CLOSED, Z(1) + IO);
    assert_counts(m, 1, 0, 1);
    /* When that finish fails, the zone still stops counting. */
    g_assert_cmpint(zone_model_inject(m, 3, BLK_ZS_RDONLY), ==, 1);
    g_assert_cmpint(wr(m, Z(3), IO), ==, 0);
    g_assert_cmpint(zone_model_inject(m, 1, BLK_ZS_OFFLINE), ==, 0);
    assert_counts(m, 2, 0, 0);
    /* Not for conventional zones, other states, other zones. */
    assert_fails(m, -EINVAL, zone_model_inject(m, 0, BLK_ZS_RDONLY));
    assert_fails(m, -EINVAL, zone_model_inject(m, 2, BLK_ZS_FULL));
    assert_fails(m, -EINVAL, zone_model_inject(m, 2, BLK_ZS_EMPTY));
    assert_fails(m, -EINVAL, zone_model_inject(m, 16, BLK_ZS_RDONLY));
    model_free(m);
}

/* ---- reads ---- */

static void test_read_and_readable(void)
{
    ZoneModel *m = model_new(&geo_a);

    g_assert_cmpint(zone_model_read(m, 0, 64 * MiB), ==, 0);
    g_assert_cmpint(zone_model_read(m, 64 * MiB, 0), ==, 0);
    g_assert_cmpint(zone_model_read(m, 64 * MiB - 512, 1024), ==, -EINVAL);
    g_assert_cmpint(zone_model_read(m, 64 * MiB + 1, 0), ==, -EINVAL);
    g_assert_cmpint(zone_model_read(m, 1, UINT64_MAX), ==, -EINVAL);
    /* Conventional: all of it; beyond the zone is not counted. */
    g_assert_cmpuint(zone_model_readable(m, 512, ZS), ==, ZS - 512);
    g_assert_cmpuint(zone_model_readable(m, 64 * MiB, IO), ==, 0);
    /* Sequential: below the write pointer only. */
    g_assert_cmpuint(zone_model_readable(m, Z(1), IO), ==, 0);
    g_assert_cmpint(wr(m, Z(1), 8 * KiB), ==, 0);
    g_assert_cmpuint(zone_model_readable(m, Z(1), ZS), ==, 8 * KiB);
    g_assert_cmpuint(zone_model_readable(m, Z(1) + IO, 512), ==, 512);
    g_assert_cmpuint(zone_model_readable(m, Z(1) + 8 * KiB, IO), ==, 0);
    /* Full at the capacity: nothing past it; finished: all. */
    g_assert_cmpint(wr(m, Z(1) + 8 * KiB, 3 * MiB - 8 * KiB), ==, 0);
    g_assert_cmpuint(zone_model_readable(m, Z(1), ZS), ==, 3 * MiB);
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(2), ZS), ==, 0);
    g_assert_cmpuint(zone_model_readable(m, Z(2), ZS), ==, ZS);
    model_free(m);
}

/* ---- geometry ---- */

typedef struct GeoCase {
    ZoneModelGeometry g;
    const char *msg;
} GeoCase;

static void test_geometry_errors(void)
{
    static const GeoCase cases[] = {
        { { 64 * MiB, ZS, ZS, 0, 0, 0, 1024 },
          "logical_block_size 1024 is not supported: it must be 512 or "
          "4096" },
        { { 64 * MiB, 3 * MiB, 3 * MiB, 0, 0, 0, 512 },
          "zone_size 3 MiB is not a power of two" },
        { { 64 * MiB, 0, 0, 0, 0, 0, 512 },
          "zone_size 0 bytes is not a power of two" },
        { { 64 * MiB, 2048, 2048, 0, 0, 0, 4096 },
          "zone_size 2 KiB is smaller than the logical block size 4 KiB" },
        { { 64 * MiB, ZS, 0, 0, 0, 0, 512 },
          "zone_capacity must not be 0" },
        { { 64 * MiB, ZS, 5 * MiB, 0, 0, 0, 512 },
          "zone_capacity 5 MiB exceeds zone_size 4 MiB" },
        { { 64 * MiB, ZS, 3 * MiB + 512, 0, 0, 0, 4096 },
          "zone_capacity 3146240 bytes is not a multiple of the logical "
          "block size 4 KiB" },
        { { 64 * MiB + 512, ZS, ZS, 0, 0, 0, 4096 },
          "size 67109376 bytes is not a multiple of the logical block size "
          "4 KiB" },
        { { 2 * MiB, ZS, ZS, 0, 0, 0, 512 },
          "size 2 MiB is smaller than zone_size 4 MiB" },
        { { 18 * MiB, ZS, 3 * MiB, 0, 0, 0, 512 },
          "size 18 MiB is not a multiple of zone_size 4 MiB: a smaller last "
          "zone needs zone_capacity equal to zone_size (it is 3 MiB)" },
        { { 1ULL << 41, 512, 512, 0, 0, 0, 512 },
          "size 2048 GiB makes 4294967296 zones of 512 bytes, more than the "
          "limit of 4294967295" },
        { { 64 * MiB, ZS, ZS, 16, 0, 0, 512 },
          "conventional_zones 16 leaves no sequential zone: the device has "
          "16 zones" },
        { { 64 * MiB, ZS, ZS, 1, 4, 2, 512 },
          "max_open_zones 4 exceeds max_active_zones 2" },
    };

    for (size_t k = 0; k < G_N_ELEMENTS(cases); k++) {
        ZoneModel m;
        Error *err = NULL;

        g_assert_false(zone_model_init(&m, &cases[k].g, &err));
        g_assert_nonnull(err);
        g_assert_cmpstr(error_get_pretty(err), ==, cases[k].msg);
        g_assert_null(m.zones);
        error_free(err);
    }
}

static void test_geometry_normalised(void)
{
    ZoneModelGeometry g = {
        .size = 18 * MiB, .zone_size = ZS, .zone_capacity = ZS,
        .nr_conv = 1, .max_open = 4, .max_active = 4, .block_size = 512,
    };
    ZoneModel *m;

    /* Four sequential zones: limits of four can never bite. */
    m = model_new(&g);
    g_assert_cmpuint(m->geo.max_open, ==, 0);
    g_assert_cmpuint(m->geo.max_active, ==, 0);
    for (int i = 1; i < 5; i++) {
        g_assert_cmpint(wr(m, Z(i), IO), ==, 0);
    }
    assert_counts(m, 4, 0, 0);
    model_free(m);
    /* One below: kept; an open limit above an unreachable active one. */
    g.max_open = 3;
    g.max_active = 3;
    m = model_new(&g);
    g_assert_cmpuint(m->geo.max_open, ==, 3);
    g_assert_cmpuint(m->geo.max_active, ==, 3);
    model_free(m);
    g.max_open = 3;
    g.max_active = 9;
    m = model_new(&g);
    g_assert_cmpuint(m->geo.max_open, ==, 3);
    g_assert_cmpuint(m->geo.max_active, ==, 0);
    model_free(m);
}

static void test_smaller_last_zone(void)
{
    ZoneModelGeometry g = {
        .size = 18 * MiB, .zone_size = ZS, .zone_capacity = ZS,
        .block_size = 4096,
    };
    ZoneModel *m = model_new(&g);
    BlockZoneDescriptor d[8];

    g_assert_cmpuint(m->nr_zones, ==, 5);
    g_assert_cmpuint(zone_model_report(m, Z(4), 8, d), ==, 1);
    g_assert_cmphex(d[0].start, ==, Z(4));
    g_assert_cmphex(d[0].length, ==, 2 * MiB);
    g_assert_cmphex(d[0].cap, ==, 2 * MiB);
    g_assert_cmpuint(zone_model_zone_index(m, 18 * MiB - 1), ==, 4);
    g_assert_cmpuint(zone_model_piece_len(m, Z(4) + IO, ZS), ==,
                     2 * MiB - IO);
    g_assert_cmpuint(zone_model_piece_len(m, 18 * MiB, IO), ==, 0);
    /* Management: the range may end at the end of the device. */
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(4), 2 * MiB), ==, 0);
    assert_zone(m, 4, BLK_ZS_FULL, 18 * MiB);
    g_assert_cmpint(mgmt(m, BLK_ZO_RESET, Z(3), ZS + 2 * MiB), ==, 0);
    assert_fails(m, -EINVAL, mgmt(m, BLK_ZO_RESET, Z(4), ZS));
    assert_fails(m, -EINVAL, mgmt(m, BLK_ZO_RESET, Z(4), MiB));
    /* Writes fill it up to its own length. */
    assert_fails(m, -EINVAL, wr(m, Z(4), 2 * MiB + IO));
    g_assert_cmpint(wr(m, Z(4), 2 * MiB), ==, 0);
    assert_zone(m, 4, BLK_ZS_FULL, 18 * MiB);
    assert_counts(m, 0, 0, 0);
    /* A reset of the whole device is still a reset-all. */
    g_assert_cmpint(mgmt(m, BLK_ZO_RESET, 0, 18 * MiB), ==, 0);
    assert_zone(m, 4, BLK_ZS_EMPTY, Z(4));
    model_free(m);
}

static void test_capacity_below_size(void)
{
    ZoneModel *m = model_new(&geo_a);
    BlockZoneDescriptor d[3];

    g_assert_cmpuint(zone_model_report(m, 0, 3, d), ==, 3);
    g_assert_cmphex(d[0].cap, ==, ZS);
    g_assert_cmphex(d[0].wp, ==, ZS);
    g_assert_cmpint(d[0].type, ==, BLK_ZT_CONV);
    g_assert_cmphex(d[1].cap, ==, 3 * MiB);
    g_assert_cmpint(d[1].type, ==, BLK_ZT_SWR);
    g_assert_cmpint(d[1].state, ==, BLK_ZS_EMPTY);
    /* Full by writes at the capacity; by finish at the zone end. */
    g_assert_cmpint(wr(m, Z(1), 3 * MiB), ==, 0);
    assert_zone(m, 1, BLK_ZS_FULL, Z(1) + 3 * MiB);
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(1), ZS), ==, 0);
    assert_zone(m, 1, BLK_ZS_FULL, Z(1) + 3 * MiB);
    g_assert_cmpint(wr(m, Z(2), MiB), ==, 0);
    g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(2), ZS), ==, 0);
    assert_zone(m, 2, BLK_ZS_FULL, Z(3));
    /* Nothing is written past the capacity, even in a finished zone. */
    assert_fails(m, -EIO, wr(m, Z(2) + 3 * MiB, IO));
    model_free(m);
}

static void test_report(void)
{
    ZoneModel *m = model_new(&geo_a);
    BlockZoneDescriptor d[20];

    g_assert_cmpuint(zone_model_report(m, 0, 20, d), ==, 16);
    g_assert_cmpuint(zone_model_report(m, Z(15) + IO, 20, d), ==, 1);
    g_assert_cmphex(d[0].start, ==, Z(15));
    g_assert_cmpuint(zone_model_report(m, Z(3) + 1, 2, d), ==, 2);
    g_assert_cmphex(d[1].start, ==, Z(4));
    g_assert_cmpuint(zone_model_report(m, 64 * MiB, 20, d), ==, 0);
    g_assert_cmpuint(zone_model_report(m, 0, 0, d), ==, 0);
    g_assert_cmpint(zone_model_inject(m, 3, BLK_ZS_OFFLINE), ==, 0);
    g_assert_cmpuint(zone_model_report(m, Z(3), 1, d), ==, 1);
    g_assert_cmphex(d[0].wp, ==, UINT64_MAX);
    g_assert_cmpint(d[0].state, ==, BLK_ZS_OFFLINE);
    model_free(m);
}

/* ---- restoring a saved state ---- */

static void test_recount_consistent(void)
{
    ZoneModel *m = model_new(&geo_a);
    uint32_t closed;

    g_assert_cmpint(zone_model_set_zone(m, 1, BLK_ZS_CLOSED, Z(1) + IO), ==,
                    0);
    g_assert_cmpint(zone_model_set_zone(m, 2, BLK_ZS_IOPEN, Z(2) + IO), ==,
                    0);
    g_assert_cmpint(zone_model_set_zone(m, 3, BLK_ZS_EOPEN, Z(3)), ==, 0);
    g_assert_cmpint(zone_model_set_zone(m, 4, BLK_ZS_FULL, Z(4) + 3 * MiB),
                    ==, 0);
    g_assert_cmpint(zone_model_set_zone(m, 5, BLK_ZS_FULL, Z(6)), ==, 0);
    g_assert_cmpint(zone_model_set_zone(m, 6, BLK_ZS_RDONLY, 42), ==, 0);
    g_assert_cmpint(zone_model_set_zone(m, 7, BLK_ZS_OFFLINE, 0), ==, 0);
    g_assert_cmpint(zone_model_set_zone(m, 8, BLK_ZS_EMPTY, Z(8)), ==, 0);
    g_assert_cmpint(zone_model_set_zone(m, 0, BLK_ZS_NOT_WP, 0), ==, 0);
    assert_zone(m, 6, BLK_ZS_RDONLY, UINT64_MAX);
    assert_zone(m, 0, BLK_ZS_NOT_WP, ZS);
    /* Counters rebuilt from scratch agree. */
    m->nr_imp_open = m->nr_exp_open = m->nr_closed = 77;
    m->imp_close_cursor = 99;
    g_assert_cmpint(zone_model_recount(m), ==, 0);
    assert_counts(m, 1, 1, 1);
    g_assert_cmpuint(m->imp_close_cursor, ==, 1);
    /* And the machine goes on from there. */
    assert_fails(m, -EOVERFLOW, wr(m, Z(9), IO));
    g_assert_cmpint(mgmt(m, BLK_ZO_RESET, Z(1), ZS), ==, 0);
    g_assert_cmpint(wr_closing(m, Z(9), IO, &closed), ==, 0);
    g_assert_cmpuint(closed, ==, 2);
    assert_counts(m, 1, 1, 1);
    model_free(m);
}

static void test_recount_inconsistent(void)
{
    ZoneModel *m = model_new(&geo_a);

    /* Over the active limit, then over the open limit. */
    for (int i = 1; i <= 4; i++) {
        g_assert_cmpint(zone_model_set_zone(m, i, BLK_ZS_CLOSED, Z(i) + IO),
                        ==, 0);
    }
    g_assert_cmpint(zone_model_recount(m), ==, -EINVAL);
    g_assert_cmpuint(m->nr_closed, ==, 4);
    g_assert_cmpint(zone_model_set_zone(m, 4, BLK_ZS_EMPTY, Z(4)), ==, 0);
    g_assert_cmpint(zone_model_recount(m), ==, 0);
    for (int i = 1; i <= 3; i++) {
        g_assert_cmpint(zone_model_set_zone(m, i, BLK_ZS_EOPEN, Z(i)), ==,
                        0);
    }
    g_assert_cmpint(zone_model_recount(m), ==, -EINVAL);
    g_assert_cmpuint(m->nr_exp_open, ==, 3);
    g_assert_cmpint(zone_model_set_zone(m, 3, BLK_ZS_FULL, Z(4)), ==, 0);
    g_assert_cmpint(zone_model_recount(m), ==, 0);
    model_free(m);
}

/* A descriptor damaged behind the model's back. */
static void test_recount_bad_descriptor(void)
{
    static const struct {
        uint32_t zone;
        size_t field;           /* offsetof in BlockZoneDescriptor */
        uint64_t value;
    } bad[] = {
        { 1, offsetof(BlockZoneDescriptor, start), Z(2) },
        { 1, offsetof(BlockZoneDescriptor, length), 2 * MiB },
        { 1, offsetof(BlockZoneDescriptor, cap), ZS },
        { 0, offsetof(BlockZoneDescriptor, cap), 3 * MiB },
        { 0, offsetof(BlockZoneDescriptor, wp), 0 },
        { 1, offsetof(BlockZoneDescriptor, wp), Z(1) + IO },   /* empty */
        { 2, offsetof(BlockZoneDescriptor, wp), Z(2) + 3 * MiB },
        { 3, offsetof(BlockZoneDescriptor, wp), Z(3) },        /* closed */
        { 4, offsetof(BlockZoneDescriptor, wp), Z(4) + MiB },  /* full */
        { 5, offsetof(BlockZoneDescriptor, wp), Z(5) },        /* rdonly */
    };

    for (size_t k = 0; k < G_N_ELEMENTS(bad); k++) {
        ZoneModel *m = model_new(&geo_a);

        g_assert_cmpint(zone_model_set_zone(m, 2, BLK_ZS_IOPEN, Z(2) + IO),
                        ==, 0);
        g_assert_cmpint(zone_model_set_zone(m, 3, BLK_ZS_CLOSED, Z(3) + IO),
                        ==, 0);
        g_assert_cmpint(zone_model_set_zone(m, 4, BLK_ZS_FULL, Z(5)), ==, 0);
        g_assert_cmpint(zone_model_set_zone(m, 5, BLK_ZS_RDONLY, 0), ==, 0);
        g_assert_cmpint(zone_model_recount(m), ==, 0);
        memcpy((char *)&m->zones[bad[k].zone] + bad[k].field, &bad[k].value,
               sizeof(uint64_t));
        g_assert_cmpint(zone_model_recount(m), ==, -EINVAL);
        model_free(m);
    }
    {
        ZoneModel *m = model_new(&geo_a);

        m->zones[1].type = BLK_ZT_CONV;
        g_assert_cmpint(zone_model_recount(m), ==, -EINVAL);
        m->zones[1].type = BLK_ZT_SWR;
        m->zones[1].state = (BlockZoneState)7;
        g_assert_cmpint(zone_model_recount(m), ==, -EINVAL);
        m->zones[1].state = BLK_ZS_NOT_WP;
        g_assert_cmpint(zone_model_recount(m), ==, -EINVAL);
        m->zones[0].state = BLK_ZS_EMPTY;
        m->zones[1].state = BLK_ZS_EMPTY;
        g_assert_cmpint(zone_model_recount(m), ==, -EINVAL);
        model_free(m);
    }
}

static void test_set_zone_invalid(void)
{
    ZoneModel *m = model_new(&geo_a);
    static const struct {
        uint32_t zone;
        BlockZoneState state;
        uint64_t wp;
    } bad[] = {
        { 16, BLK_ZS_EMPTY, Z(16) },
        { 0, BLK_ZS_EMPTY, 0 },
        { 0, BLK_ZS_FULL, ZS },
        { 1, BLK_ZS_NOT_WP, Z(1) },
        { 1, BLK_ZS_EMPTY, Z(1) + IO },
        { 1, BLK_ZS_IOPEN, Z(1) - IO },
        { 1, BLK_ZS_IOPEN, Z(1) + 3 * MiB },
        { 1, BLK_ZS_EOPEN, Z(1) + 3 * MiB },
        { 1, BLK_ZS_CLOSED, Z(1) },
        { 1, BLK_ZS_CLOSED, Z(1) + 3 * MiB },
        { 1, BLK_ZS_FULL, Z(1) + 3 * MiB - IO },
        { 1, BLK_ZS_FULL, Z(1) + ZS + IO },
        { 1, (BlockZoneState)5, Z(1) },
    };

    for (size_t k = 0; k < G_N_ELEMENTS(bad); k++) {
        assert_fails(m, -EINVAL, zone_model_set_zone(m, bad[k].zone,
                                                     bad[k].state,
                                                     bad[k].wp));
    }
    model_free(m);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/zone-model/write/errors", test_write_errors);
    g_test_add_func("/zone-model/write/append", test_append_lands_at_wp);
    g_test_add_func("/zone-model/write/check", test_write_check);
    g_test_add_func("/zone-model/write/undo", test_write_undo);
    g_test_add_func("/zone-model/limits/round-robin",
                    test_implicit_close_round_robin);
    g_test_add_func("/zone-model/limits/cursor-wraps", test_cursor_wraps);
    g_test_add_func("/zone-model/limits/cursor-conventional",
                    test_cursor_after_conventional);
    g_test_add_func("/zone-model/limits/explicit", test_explicit_open_limits);
    g_test_add_func("/zone-model/limits/open-finish-close",
                    test_open_and_finish_close_implicitly);
    g_test_add_func("/zone-model/limits/active-only", test_active_limit_only);
    g_test_add_func("/zone-model/mgmt/ranges", test_mgmt_ranges);
    g_test_add_func("/zone-model/mgmt/einval", test_mgmt_einval);
    g_test_add_func("/zone-model/inject", test_inject);
    g_test_add_func("/zone-model/read", test_read_and_readable);
    g_test_add_func("/zone-model/geometry/errors", test_geometry_errors);
    g_test_add_func("/zone-model/geometry/normalised",
                    test_geometry_normalised);
    g_test_add_func("/zone-model/geometry/smaller-last-zone",
                    test_smaller_last_zone);
    g_test_add_func("/zone-model/geometry/capacity", test_capacity_below_size);
    g_test_add_func("/zone-model/report", test_report);
    g_test_add_func("/zone-model/restore/consistent",
                    test_recount_consistent);
    g_test_add_func("/zone-model/restore/inconsistent",
                    test_recount_inconsistent);
    g_test_add_func("/zone-model/restore/bad-descriptor",
                    test_recount_bad_descriptor);
    g_test_add_func("/zone-model/restore/set-zone-invalid",
                    test_set_zone_invalid);
    return g_test_run();
}
