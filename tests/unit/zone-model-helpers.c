/*
 * Helpers of the zone state machine tests (see zone-model-helpers.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "zone-model-helpers.h"

const ZoneModelGeometry geo_a = {
    .size = 64 * MiB, .zone_size = ZS, .zone_capacity = 3 * MiB,
    .nr_conv = 1, .max_open = 2, .max_active = 3, .block_size = 4096,
};

ZoneModel *model_new(const ZoneModelGeometry *g)
{
    ZoneModel *m = g_new0(ZoneModel, 1);
    Error *err = NULL;

    if (!zone_model_init(m, g, &err)) {
        g_error("zone_model_init: %s", error_get_pretty(err));
    }
    return m;
}

void model_free(ZoneModel *m)
{
    zone_model_cleanup(m);
    g_free(m);
}

ZoneModel *model_copy(const ZoneModel *m)
{
    ZoneModel *c = g_memdup2(m, sizeof(*m));

    c->zones = g_memdup2(m->zones, m->nr_zones * sizeof(*m->zones));
    return c;
}

void assert_same(const ZoneModel *a, const ZoneModel *b)
{
    g_assert_cmpuint(a->nr_imp_open, ==, b->nr_imp_open);
    g_assert_cmpuint(a->nr_exp_open, ==, b->nr_exp_open);
    g_assert_cmpuint(a->nr_closed, ==, b->nr_closed);
    g_assert_cmpuint(a->imp_close_cursor, ==, b->imp_close_cursor);
    g_assert_cmpmem(a->zones, a->nr_zones * sizeof(*a->zones),
                    b->zones, b->nr_zones * sizeof(*b->zones));
}

void assert_consistent(ZoneModel *m)
{
    uint32_t imp = m->nr_imp_open, exp = m->nr_exp_open;
    uint32_t closed = m->nr_closed;

    g_assert_cmpint(zone_model_recount(m), ==, 0);
    g_assert_cmpuint(m->nr_imp_open, ==, imp);
    g_assert_cmpuint(m->nr_exp_open, ==, exp);
    g_assert_cmpuint(m->nr_closed, ==, closed);
}

int wr(ZoneModel *m, uint64_t off, uint64_t len)
{
    return zone_model_write(m, off, len, false, NULL, NULL);
}

int wr_closing(ZoneModel *m, uint64_t off, uint64_t len, uint32_t *closed)
{
    return zone_model_write(m, off, len, false, NULL, closed);
}

int mgmt(ZoneModel *m, BlockZoneOp op, uint64_t off, uint64_t len)
{
    return zone_model_mgmt(m, op, off, len, NULL);
}
