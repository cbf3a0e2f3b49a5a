/*
 * The transition table of the zone state machine (block/zone-model.c):
 * every operation from every starting condition of a zone, each cell a
 * test of its own, and the table checked to be complete.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "zone-model-helpers.h"

/* ---- the transition table ---- */

typedef enum Start {
    S_NOT_WP, S_EMPTY, S_IOPEN, S_EOPEN_EMPTY, S_EOPEN, S_CLOSED,
    S_FULL_CAP, S_FULL_LEN, S_RDONLY, S_OFFLINE,
    S_IOPEN_NEAR_CAP, S_EOPEN_NEAR_CAP, S_CLOSED_NEAR_CAP, S__MAX
} Start;

static const char *const start_names[] = {
    "not-wp", "empty", "imp-open", "exp-open-at-start", "exp-open",
    "closed", "full-at-cap", "full-at-len", "read-only", "offline",
    "imp-open-near-cap", "exp-open-near-cap", "closed-near-cap",
};

typedef enum Op { OP_WRITE, OP_APPEND, OP_OPEN, OP_CLOSE, OP_FINISH, OP_RESET,
                  OP_RESET_ALL, OP__MAX } Op;

static const char *const op_names[] = {
    "write", "append", "open", "close", "finish", "reset", "reset-all",
};

typedef enum WpAfter { W_START, W_SAME, W_ADV, W_CAP, W_LEN, W_ONES,
                       W_CONV } WpAfter;

typedef struct Cell {
    Start start;
    Op op;
    int ret;
    BlockZoneState state;
    WpAfter wp;
} Cell;

#define OK 0
#define CELLS_SEQ_COMMON(s)                                             \
    { s, OP_RESET, OK, BLK_ZS_EMPTY, W_START },                          \
    { s, OP_RESET_ALL, OK, BLK_ZS_EMPTY, W_START }

/* Full (its pointer at w): only finish and the resets succeed. */
#define CELLS_FULL(s, w)                                                \
    { s, OP_WRITE, -EIO, BLK_ZS_FULL, w },                               \
    { s, OP_APPEND, -EIO, BLK_ZS_FULL, w },                              \
    { s, OP_OPEN, -EIO, BLK_ZS_FULL, w },                                \
    { s, OP_CLOSE, -EIO, BLK_ZS_FULL, w },                               \
    { s, OP_FINISH, OK, BLK_ZS_FULL, w },                                \
    CELLS_SEQ_COMMON(s)

/* Read-only or offline: everything fails, reset-all passes them by. */
#define CELLS_GONE(s, st)                                               \
    { s, OP_WRITE, -EIO, st, W_ONES },                                   \
    { s, OP_APPEND, -EIO, st, W_ONES },                                  \
    { s, OP_OPEN, -EIO, st, W_ONES },                                    \
    { s, OP_CLOSE, -EIO, st, W_ONES },                                   \
    { s, OP_FINISH, -EIO, st, W_ONES },                                  \
    { s, OP_RESET, -EIO, st, W_ONES },                                   \
    { s, OP_RESET_ALL, OK, st, W_ONES }

/*
 * Open or closed, one block below the capacity: the last write up to the
 * capacity makes the zone full, whichever way it was open.
 */
#define CELLS_NEAR_CAP(s)                                               \
    { s, OP_WRITE, OK, BLK_ZS_FULL, W_CAP },                             \
    { s, OP_APPEND, OK, BLK_ZS_FULL, W_CAP },                            \
    { s, OP_OPEN, OK, BLK_ZS_EOPEN, W_SAME },                            \
    { s, OP_CLOSE, OK, BLK_ZS_CLOSED, W_SAME },                          \
    { s, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },                            \
    CELLS_SEQ_COMMON(s)

static const Cell cells[] = {
    { S_NOT_WP, OP_WRITE, OK, BLK_ZS_NOT_WP, W_CONV },
    { S_NOT_WP, OP_APPEND, -EIO, BLK_ZS_NOT_WP, W_CONV },
    { S_NOT_WP, OP_OPEN, -EIO, BLK_ZS_NOT_WP, W_CONV },
    { S_NOT_WP, OP_CLOSE, -EIO, BLK_ZS_NOT_WP, W_CONV },
    { S_NOT_WP, OP_FINISH, -EIO, BLK_ZS_NOT_WP, W_CONV },
    { S_NOT_WP, OP_RESET, -EIO, BLK_ZS_NOT_WP, W_CONV },
    { S_NOT_WP, OP_RESET_ALL, OK, BLK_ZS_NOT_WP, W_CONV },

    { S_EMPTY, OP_WRITE, OK, BLK_ZS_IOPEN, W_ADV },
    { S_EMPTY, OP_APPEND, OK, BLK_ZS_IOPEN, W_ADV },
    { S_EMPTY, OP_OPEN, OK, BLK_ZS_EOPEN, W_START },
    { S_EMPTY, OP_CLOSE, -EIO, BLK_ZS_EMPTY, W_START },
    { S_EMPTY, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },
    CELLS_SEQ_COMMON(S_EMPTY),

    { S_IOPEN, OP_WRITE, OK, BLK_ZS_IOPEN, W_ADV },
    { S_IOPEN, OP_APPEND, OK, BLK_ZS_IOPEN, W_ADV },
    { S_IOPEN, OP_OPEN, OK, BLK_ZS_EOPEN, W_SAME },
    { S_IOPEN, OP_CLOSE, OK, BLK_ZS_CLOSED, W_SAME },
    { S_IOPEN, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },
    CELLS_SEQ_COMMON(S_IOPEN),

    { S_EOPEN_EMPTY, OP_WRITE, OK, BLK_ZS_EOPEN, W_ADV },
    { S_EOPEN_EMPTY, OP_APPEND, OK, BLK_ZS_EOPEN, W_ADV },
    { S_EOPEN_EMPTY, OP_OPEN, OK, BLK_ZS_EOPEN, W_SAME },
    { S_EOPEN_EMPTY, OP_CLOSE, OK, BLK_ZS_EMPTY, W_START },
    { S_EOPEN_EMPTY, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },
    CELLS_SEQ_COMMON(S_EOPEN_EMPTY),

    { S_EOPEN, OP_WRITE, OK, BLK_ZS_EOPEN, W_ADV },
    { S_EOPEN, OP_APPEND, OK, BLK_ZS_EOPEN, W_ADV },
    { S_EOPEN, OP_OPEN, OK, BLK_ZS_EOPEN, W_SAME },
    { S_EOPEN, OP_CLOSE, OK, BLK_ZS_CLOSED, W_SAME },
    { S_EOPEN, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },
    CELLS_SEQ_COMMON(S_EOPEN),

    { S_CLOSED, OP_WRITE, OK, BLK_ZS_IOPEN, W_ADV },
    { S_CLOSED, OP_APPEND, OK, BLK_ZS_IOPEN, W_ADV },
    { S_CLOSED, OP_OPEN, OK, BLK_ZS_EOPEN, W_SAME },
    { S_CLOSED, OP_CLOSE, OK, BLK_ZS_CLOSED, W_SAME },
    { S_CLOSED, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },
    CELLS_SEQ_COMMON(S_CLOSED),

    CELLS_FULL(S_FULL_CAP, W_CAP),
    CELLS_FULL(S_FULL_LEN, W_LEN),
    CELLS_GONE(S_RDONLY, BLK_ZS_RDONLY),
    CELLS_GONE(S_OFFLINE, BLK_ZS_OFFLINE),
    CELLS_NEAR_CAP(S_IOPEN_NEAR_CAP),
    CELLS_NEAR_CAP(S_EOPEN_NEAR_CAP),
    CELLS_NEAR_CAP(S_CLOSED_NEAR_CAP),
};

#define TZ 2                    /* the sequential zone under test */

/* Bring the zone under test to a starting condition with public calls. */
static uint32_t table_setup(ZoneModel *m, Start s)
{
    uint64_t cap = m->zones[TZ].cap;

    switch (s) {
    case S_NOT_WP:
        return 0;
    case S_EMPTY:
        break;
    case S_IOPEN:
        g_assert_cmpint(wr(m, Z(TZ), IO), ==, 0);
        break;
    case S_EOPEN_EMPTY:
        g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(TZ), ZS), ==, 0);
        break;
    case S_EOPEN:
        g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(TZ), ZS), ==, 0);
        g_assert_cmpint(wr(m, Z(TZ), IO), ==, 0);
        break;
    case S_CLOSED:
        g_assert_cmpint(wr(m, Z(TZ), IO), ==, 0);
        g_assert_cmpint(mgmt(m, BLK_ZO_CLOSE, Z(TZ), ZS), ==, 0);
        break;
    case S_FULL_CAP:
        g_assert_cmpint(wr(m, Z(TZ), cap), ==, 0);
        break;
    case S_FULL_LEN:
        g_assert_cmpint(mgmt(m, BLK_ZO_FINISH, Z(TZ), ZS), ==, 0);
        break;
    case S_RDONLY:
    case S_OFFLINE:
        g_assert_cmpint(wr(m, Z(TZ), IO), ==, 0);
        g_assert_cmpint(zone_model_inject(m, TZ, s == S_RDONLY
                                          ? BLK_ZS_RDONLY
                                          : BLK_ZS_OFFLINE), ==, 0);
        break;
    case S_IOPEN_NEAR_CAP:
        g_assert_cmpint(wr(m, Z(TZ), cap - IO), ==, 0);
        break;
    case S_EOPEN_NEAR_CAP:
        g_assert_cmpint(mgmt(m, BLK_ZO_OPEN, Z(TZ), ZS), ==, 0);
        g_assert_cmpint(wr(m, Z(TZ), cap - IO), ==, 0);
        break;
    case S_CLOSED_NEAR_CAP:
        g_assert_cmpint(wr(m, Z(TZ), cap - IO), ==, 0);
        g_assert_cmpint(mgmt(m, BLK_ZO_CLOSE, Z(TZ), ZS), ==, 0);
        break;
    default:
        g_assert_not_reached();
    }
    return TZ;
}

static void test_table_cell(gconstpointer opaque)
{
    const Cell *c = opaque;
    ZoneModel *m = model_new(&geo_a);
    uint32_t i = table_setup(m, c->start);
    BlockZoneDescriptor *z = &m->zones[i];
    uint64_t old_wp = z->wp, landed = UINT64_MAX, expect_wp = 0;
    ZoneModel *before = model_copy(m);
    bool wp_valid = z->state != BLK_ZS_RDONLY && z->state != BLK_ZS_OFFLINE &&
                    z->wp < z->start + z->cap;
    int ret;

    assert_consistent(m);
    switch (c->op) {
    case OP_WRITE:
        ret = zone_model_write(m, wp_valid ? old_wp : z->start, IO, false,
                               &landed, NULL);
        break;
    case OP_APPEND:
        ret = zone_model_write(m, z->start, IO, true, &landed, NULL);
        break;
    case OP_OPEN:
        ret = mgmt(m, BLK_ZO_OPEN, z->start, z->length);
        break;
    case OP_CLOSE:
        ret = mgmt(m, BLK_ZO_CLOSE, z->start, z->length);
        break;
    case OP_FINISH:
        ret = mgmt(m, BLK_ZO_FINISH, z->start, z->length);
        break;
    case OP_RESET:
        ret = mgmt(m, BLK_ZO_RESET, z->start, z->length);
        break;
    case OP_RESET_ALL:
        ret = mgmt(m, BLK_ZO_RESET_ALL, 0, m->geo.size);
        break;
    default:
        g_assert_not_reached();
    }
    g_assert_cmpint(ret, ==, c->ret);
    switch (c->wp) {
    case W_START:
        expect_wp = z->start;
        break;
    case W_SAME:
        expect_wp = old_wp;
        break;
    case W_ADV:
        expect_wp = old_wp + IO;
        break;
    case W_CAP:
        expect_wp = z->start + z->cap;
        break;
    case W_LEN:
    case W_CONV:
        expect_wp = z->start + z->length;
        break;
    case W_ONES:
        expect_wp = UINT64_MAX;
        break;
    }
    assert_zone(m, i, c->state, expect_wp);
    if (ret < 0) {
        assert_same(m, before);
    } else if (c->op == OP_WRITE || c->op == OP_APPEND) {
        g_assert_cmphex(landed, ==, i < m->geo.nr_conv ? z->start : old_wp);
    }
    assert_consistent(m);
    model_free(before);
    model_free(m);
}

/* Every (condition, operation) pair has exactly one cell. */
static void test_table_complete(void)
{
    int seen[S__MAX][OP__MAX] = { 0 };

    for (size_t k = 0; k < G_N_ELEMENTS(cells); k++) {
        seen[cells[k].start][cells[k].op]++;
    }
    for (int s = 0; s < S__MAX; s++) {
        for (int o = 0; o < OP__MAX; o++) {
            g_assert_cmpint(seen[s][o], ==, 1);
        }
    }
}

/*
 * Finish of a zone filled up to its capacity: null_blk leaves the write
 * pointer at start + capacity when it manages resources (a limit is set),
 * and moves it to start + length when it does not (both seen on 6.12).
 */
static void test_finish_full_depends_on_limits(void)
{
    ZoneModelGeometry unlimited = geo_a;
    ZoneModel *with = model_new(&geo_a);
    ZoneModel *without;

    unlimited.max_open = unlimited.max_active = 0;
    without = model_new(&unlimited);
    g_assert_cmpint(wr(with, Z(1), 3 * MiB), ==, 0);
    g_assert_cmpint(wr(without, Z(1), 3 * MiB), ==, 0);
    g_assert_cmpint(with->zones[1].state, ==, BLK_ZS_FULL);
    g_assert_cmpint(without->zones[1].state, ==, BLK_ZS_FULL);
    g_assert_cmpint(mgmt(with, BLK_ZO_FINISH, Z(1), ZS), ==, 0);
    g_assert_cmpint(mgmt(without, BLK_ZO_FINISH, Z(1), ZS), ==, 0);
    g_assert_cmpuint(with->zones[1].wp, ==, Z(1) + 3 * MiB);
    g_assert_cmpuint(without->zones[1].wp, ==, Z(1) + ZS);
    model_free(with);
    model_free(without);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/zone-model/finish-full-limits",
                    test_finish_full_depends_on_limits);
    g_test_add_func("/zone-model/table/complete", test_table_complete);
    for (size_t k = 0; k < G_N_ELEMENTS(cells); k++) {
        g_autofree char *path = g_strdup_printf(
            "/zone-model/table/%s/%s", start_names[cells[k].start],
            op_names[cells[k].op]);

        g_test_add_data_func(path, &cells[k], test_table_cell);
    }
    return g_test_run();
}
