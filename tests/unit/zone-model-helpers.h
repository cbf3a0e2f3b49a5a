/*
 * What the tests of the zone state machine (test-zone-model*.c) share:
 * the usual geometry, models made, copied and compared, the counters
 * checked against the zones, and short forms of the calls.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef ZONE_MODEL_HELPERS_H
#define ZONE_MODEL_HELPERS_H

#include "block/zone-model.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define ZS (4 * MiB)
#define Z(i) ((uint64_t)(i) * ZS)
#define NONE UINT32_MAX
#define IO (4 * KiB)

/* 16 zones of 4 MiB, capacity 3 MiB, one conventional, open 2, active 3 */
extern const ZoneModelGeometry geo_a;

ZoneModel *model_new(const ZoneModelGeometry *g);
void model_free(ZoneModel *m);
ZoneModel *model_copy(const ZoneModel *m);
void assert_same(const ZoneModel *a, const ZoneModel *b);
/* The incremental counters agree with the zones, within the limits. */
void assert_consistent(ZoneModel *m);

#define assert_zone(m, i, st, wp_)                                      \
    do {                                                                \
        g_assert_cmpint((m)->zones[i].state, ==, (st));                 \
        g_assert_cmphex((m)->zones[i].wp, ==, (wp_));                   \
    } while (0)

#define assert_counts(m, imp, exp, closed)                              \
    do {                                                                \
        g_assert_cmpuint((m)->nr_imp_open, ==, (imp));                  \
        g_assert_cmpuint((m)->nr_exp_open, ==, (exp));                  \
        g_assert_cmpuint((m)->nr_closed, ==, (closed));                 \
        assert_consistent(m);                                           \
    } while (0)

int wr(ZoneModel *m, uint64_t off, uint64_t len);
int wr_closing(ZoneModel *m, uint64_t off, uint64_t len, uint32_t *closed);
int mgmt(ZoneModel *m, BlockZoneOp op, uint64_t off, uint64_t len);

/* A call that must fail with err and change nothing. */
#define assert_fails(m, err, call)                                      \
    do {                                                                \
        ZoneModel *before_ = model_copy(m);                             \
        g_assert_cmpint((call), ==, (err));                             \
        assert_same(m, before_);                                        \
        model_free(before_);                                            \
    } while (0)

#endif /* ZONE_MODEL_HELPERS_H */
