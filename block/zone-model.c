/*
 * Zone state machine with the semantics of Linux's zoned null_blk (see
 * include/block/zone-model.h and docs/zoned-format.md "Semantics").
 *
 * Every operation first decides, without side effects, whether it can
 * succeed; only then does it change the zone, the counters and, when a
 * slot had to be freed, the implicitly closed zone.  That keeps each
 * zone's transition all or nothing, as null_blk's are.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/zone-model.h"
#include "qapi/error.h"

#define ZM_NO_ZONE UINT32_MAX
#define ZM_BITS_PER_LONG (sizeof(unsigned long) * 8)

/* ---- geometry ---- */

/* Exact and readable: "64 MiB", "4097 bytes". */
static const char *zm_bytes(char *buf, size_t sz, uint64_t v)
{
    static const char *const units[] = { "GiB", "MiB", "KiB" };

    for (int i = 0; i < 3; i++) {
        uint64_t unit = 1ULL << (30 - 10 * i);

        if (v && v % unit == 0) {
            snprintf(buf, sz, "%" PRIu64 " %s", v / unit, units[i]);
            return buf;
        }
    }
    snprintf(buf, sz, "%" PRIu64 " bytes", v);
    return buf;
}

static bool zm_check_geometry(const ZoneModelGeometry *g, Error **errp)
{
    char a[32], b[32], c[32];
    uint64_t nr_zones;

    if (g->block_size != 512 && g->block_size != 4096) {
        error_setg(errp, "logical_block_size %" PRIu32
                   " is not supported: it must be 512 or 4096",
                   g->block_size);
        return false;
    }
    if (!g->zone_size || (g->zone_size & (g->zone_size - 1))) {
        error_setg(errp, "zone_size %s is not a power of two",
                   zm_bytes(a, sizeof(a), g->zone_size));
        return false;
    }
    if (g->zone_size < g->block_size) {
        error_setg(errp, "zone_size %s is smaller than the logical block "
                   "size %s", zm_bytes(a, sizeof(a), g->zone_size),
                   zm_bytes(b, sizeof(b), g->block_size));
        return false;
    }
    if (!g->zone_capacity) {
        error_setg(errp, "zone_capacity must not be 0");
        return false;
    }
    if (g->zone_capacity > g->zone_size) {
        error_setg(errp, "zone_capacity %s exceeds zone_size %s",
                   zm_bytes(a, sizeof(a), g->zone_capacity),
                   zm_bytes(b, sizeof(b), g->zone_size));
        return false;
    }
    if (g->zone_capacity % g->block_size) {
        error_setg(errp, "zone_capacity %s is not a multiple of the logical "
                   "block size %s", zm_bytes(a, sizeof(a), g->zone_capacity),
                   zm_bytes(b, sizeof(b), g->block_size));
        return false;
    }
    if (g->size % g->block_size) {
        error_setg(errp, "size %s is not a multiple of the logical block "
                   "size %s", zm_bytes(a, sizeof(a), g->size),
                   zm_bytes(b, sizeof(b), g->block_size));
        return false;
    }
    if (g->size < g->zone_size) {
        error_setg(errp, "size %s is smaller than zone_size %s",
                   zm_bytes(a, sizeof(a), g->size),
                   zm_bytes(b, sizeof(b), g->zone_size));
        return false;
    }
    if (g->size % g->zone_size && g->zone_capacity != g->zone_size) {
        /* null_blk refuses it too: no real device looks like that. */
        error_setg(errp, "size %s is not a multiple of zone_size %s: a "
                   "smaller last zone needs zone_capacity equal to "
                   "zone_size (it is %s)", zm_bytes(a, sizeof(a), g->size),
                   zm_bytes(b, sizeof(b), g->zone_size),
                   zm_bytes(c, sizeof(c), g->zone_capacity));
        return false;
    }
    nr_zones = g->size / g->zone_size + !!(g->size % g->zone_size);
    if (nr_zones > UINT32_MAX) {
        error_setg(errp, "size %s makes %" PRIu64 " zones of %s, more than "
                   "the limit of %" PRIu32, zm_bytes(a, sizeof(a), g->size),
                   nr_zones, zm_bytes(b, sizeof(b), g->zone_size),
                   UINT32_MAX);
        return false;
    }
    if (g->nr_conv >= nr_zones) {
        error_setg(errp, "conventional_zones %" PRIu32 " leaves no "
                   "sequential zone: the device has %" PRIu64 " zones",
                   g->nr_conv, nr_zones);
        return false;
    }
    return true;
}

bool zone_model_init(ZoneModel *m, const ZoneModelGeometry *geo,
                     Error **errp)
{
    ZoneModelGeometry g = *geo;
    uint32_t nr_zones, nr_seq;
    BlockZoneDescriptor *zones;

    memset(m, 0, sizeof(*m));
    if (!zm_check_geometry(&g, errp)) {
        return false;
    }
    nr_zones = g.size / g.zone_size + !!(g.size % g.zone_size);
    nr_seq = nr_zones - g.nr_conv;
    /* Limits that can never be reached are no limits (null_blk's rule). */
    if (g.max_active >= nr_seq) {
        g.max_active = 0;
    }
    if (g.max_open >= nr_seq) {
        g.max_open = 0;
    }
    if (g.max_active && g.max_open > g.max_active) {
        /* null_blk lowers it silently; a format should say so. */
        error_setg(errp, "max_open_zones %" PRIu32 " exceeds "
                   "max_active_zones %" PRIu32, g.max_open, g.max_active);
        return false;
    }
    zones = g_try_new0(BlockZoneDescriptor, nr_zones);
    if (!zones) {
        error_setg(errp, "cannot allocate the descriptors of %" PRIu32
                   " zones", nr_zones);
        return false;
    }
    for (uint32_t i = 0; i < nr_zones; i++) {
        BlockZoneDescriptor *z = &zones[i];

        z->start = (uint64_t)i * g.zone_size;
        z->length = MIN(g.zone_size, g.size - z->start);
        if (i < g.nr_conv) {
            z->cap = z->length;
            z->wp = z->start + z->length;
            z->type = BLK_ZT_CONV;
            z->state = BLK_ZS_NOT_WP;
        } else {
            z->cap = MIN(g.zone_capacity, z->length);
            z->wp = z->start;
            z->type = BLK_ZT_SWR;
            z->state = BLK_ZS_EMPTY;
        }
    }
    m->geo = g;
    m->nr_zones = nr_zones;
    m->zones = zones;
    m->imp_close_cursor = g.nr_conv;
    return true;
}

void zone_model_cleanup(ZoneModel *m)
{
    g_free(m->zones);
    m->zones = NULL;
    m->nr_zones = 0;
}

uint32_t zone_model_zone_index(const ZoneModel *m, uint64_t offset)
{
    return offset / m->geo.zone_size;
}

uint64_t zone_model_piece_len(const ZoneModel *m, uint64_t offset,
                              uint64_t len)
{
    const BlockZoneDescriptor *z;

    if (offset >= m->geo.size) {
        return 0;
    }
    z = &m->zones[zone_model_zone_index(m, offset)];
    return MIN(len, z->start + z->length - offset);
}

/* ---- resource accounting ---- */

static uint32_t zm_nr_open(const ZoneModel *m)
{
    return m->nr_imp_open + m->nr_exp_open;
}

static uint32_t zm_nr_active(const ZoneModel *m)
{
    return zm_nr_open(m) + m->nr_closed;
}

static bool zm_is_seq(const BlockZoneDescriptor *z)
{
    return z->type != BLK_ZT_CONV;
}

/* Take a zone out of (or put it into) the counters of its condition. */
static void zm_count(ZoneModel *m, BlockZoneState state, int delta)
{
    switch (state) {
    case BLK_ZS_IOPEN:
        m->nr_imp_open += delta;
        break;
    case BLK_ZS_EOPEN:
        m->nr_exp_open += delta;
        break;
    case BLK_ZS_CLOSED:
        m->nr_closed += delta;
        break;
    default:
        break;
    }
}

static void zm_set_state(ZoneModel *m, BlockZoneDescriptor *z,
                         BlockZoneState state)
{
    zm_count(m, z->state, -1);
    zm_count(m, state, +1);
    z->state = state;
}

static void zm_mark(const ZoneModel *m, unsigned long *changed,
                    const BlockZoneDescriptor *z)
{
    uint32_t i = z - m->zones;

    if (changed) {
        changed[i / ZM_BITS_PER_LONG] |= 1UL << (i % ZM_BITS_PER_LONG);
    }
}

static int zm_check_active(const ZoneModel *m)
{
    if (m->geo.max_active && zm_nr_active(m) >= m->geo.max_active) {
        return -EOVERFLOW;
    }
    return 0;
}

/*
 * The implicitly-open zone null_blk closes to make room: the first one
 * found scanning the sequential zones round robin from the cursor, which
 * then points past it.  The cursor survives resets (null_blk keeps it).
 */
static uint32_t zm_find_imp_open(const ZoneModel *m, uint32_t *next)
{
    uint32_t n = m->imp_close_cursor;

    if (n >= m->nr_zones || n < m->geo.nr_conv) {
        n = m->geo.nr_conv;
    }
    for (uint32_t i = m->geo.nr_conv; i < m->nr_zones; i++) {
        uint32_t zno = n;

        n = n + 1 >= m->nr_zones ? m->geo.nr_conv : n + 1;
        if (m->zones[zno].state == BLK_ZS_IOPEN) {
            *next = n;
            return zno;
        }
    }
    return ZM_NO_ZONE;
}

/*
 * Can a zone in this condition become open?  Empty zones need an active
 * slot first, then empty and closed zones need an open slot, which may be
 * made by closing an implicitly-open zone only if the active limit leaves
 * room (null_blk asks that even for a closed zone, which would not add an
 * active zone: hence ETOOMANYREFS rather than success at both limits).
 * Sets *victim to the zone to close, or ZM_NO_ZONE.
 */
static int zm_check_resources(const ZoneModel *m, BlockZoneState state,
                              uint32_t *victim, uint32_t *next)
{
    int ret;

    *victim = ZM_NO_ZONE;
    if (state == BLK_ZS_EMPTY) {
        ret = zm_check_active(m);
        if (ret < 0) {
            return ret;
        }
    }
    if (!m->geo.max_open || zm_nr_open(m) < m->geo.max_open) {
        return 0;
    }
    if (m->nr_imp_open && zm_check_active(m) == 0) {
        *victim = zm_find_imp_open(m, next);
        if (*victim != ZM_NO_ZONE) {
            return 0;
        }
    }
    return -ETOOMANYREFS;
}

/* Close the zone zm_check_resources() chose. */
static void zm_close_victim(ZoneModel *m, uint32_t victim, uint32_t next,
                            unsigned long *changed)
{
    BlockZoneDescriptor *z;

    if (victim == ZM_NO_ZONE) {
        return;
    }
    z = &m->zones[victim];
    zm_set_state(m, z, z->wp == z->start ? BLK_ZS_EMPTY : BLK_ZS_CLOSED);
    m->imp_close_cursor = next;
    zm_mark(m, changed, z);
}

/* ---- writes and reads ---- */

static int zm_write(ZoneModel *m, uint64_t offset, uint64_t len,
                    bool append, bool apply, uint64_t *landed,
                    uint32_t *closed_zone)
{
    BlockZoneDescriptor *z;
    uint32_t victim = ZM_NO_ZONE, next = 0;
    uint64_t pos;
    int ret;

    if (closed_zone) {
        *closed_zone = ZM_NO_ZONE;
    }
    if (!len || len % m->geo.block_size || offset % m->geo.block_size ||
        offset >= m->geo.size || len > m->geo.size - offset) {
        return -EINVAL;
    }
    z = &m->zones[zone_model_zone_index(m, offset)];
    if (len > z->start + z->length - offset) {
        return -EINVAL;     /* the caller splits at zone boundaries */
    }
    if (!zm_is_seq(z)) {
        if (append) {
            return -EIO;
        }
        if (landed) {
            *landed = offset;
        }
        return 0;
    }
    /* Linux fails an append that does not name a zone start with EIO. */
    if (append && offset != z->start) {
        return -EIO;
    }
    if (z->state == BLK_ZS_FULL || z->state == BLK_ZS_RDONLY ||
        z->state == BLK_ZS_OFFLINE) {
        return -EIO;
    }
    pos = append ? z->wp : offset;
    if (pos != z->wp || len > z->start + z->cap - z->wp) {
        return -EIO;
    }
    if (z->state == BLK_ZS_EMPTY || z->state == BLK_ZS_CLOSED) {
        ret = zm_check_resources(m, z->state, &victim, &next);
        if (ret < 0) {
            return ret;
        }
    }
    if (landed) {
        *landed = pos;
    }
    if (!apply) {
        return 0;
    }
    if (z->state == BLK_ZS_EMPTY || z->state == BLK_ZS_CLOSED) {
        zm_close_victim(m, victim, next, NULL);
        if (closed_zone) {
            *closed_zone = victim;
        }
        zm_set_state(m, z, BLK_ZS_IOPEN);
    }
    z->wp += len;
    if (z->wp == z->start + z->cap) {
        zm_set_state(m, z, BLK_ZS_FULL);
    }
    return 0;
}

int zone_model_write(ZoneModel *m, uint64_t offset, uint64_t len,
                     bool append, uint64_t *landed, uint32_t *closed_zone)
{
    return zm_write(m, offset, len, append, true, landed, closed_zone);
}

int zone_model_write_check(const ZoneModel *m, uint64_t offset,
                           uint64_t len, bool append, uint64_t *landed)
{
    /* With apply false nothing is written through the pointer. */
    return zm_write((ZoneModel *)m, offset, len, append, false, landed,
                    NULL);
}

int zone_model_read(const ZoneModel *m, uint64_t offset, uint64_t len)
{
    uint32_t first, last;

    if (offset > m->geo.size || len > m->geo.size - offset) {
        return -EINVAL;
    }
    if (!len) {
        return 0;
    }
    first = zone_model_zone_index(m, offset);
    last = zone_model_zone_index(m, offset + len - 1);
    for (uint32_t i = first; i <= last; i++) {
        if (m->zones[i].state == BLK_ZS_OFFLINE) {
            return -EIO;
        }
    }
    return 0;
}

uint64_t zone_model_readable(const ZoneModel *m, uint64_t offset,
                             uint64_t len)
{
    const BlockZoneDescriptor *z;

    len = zone_model_piece_len(m, offset, len);
    if (!len) {
        return 0;
    }
    z = &m->zones[zone_model_zone_index(m, offset)];
    /* Conventional zones sit at their end, read-only ones at all ones. */
    if (offset >= z->wp) {
        return 0;
    }
    return MIN(len, z->wp - offset);
}

/* ---- management ---- */

static int zm_open(ZoneModel *m, BlockZoneDescriptor *z,
                   unsigned long *changed)
{
    uint32_t victim = ZM_NO_ZONE, next = 0;
    int ret;

    switch (z->state) {
    case BLK_ZS_EOPEN:
        return 0;           /* not an error, nothing changes */
    case BLK_ZS_EMPTY:
    case BLK_ZS_CLOSED:
        ret = zm_check_resources(m, z->state, &victim, &next);
        if (ret < 0) {
            return ret;
        }
        break;
    case BLK_ZS_IOPEN:
        break;
    default:
        return -EIO;        /* full */
    }
    zm_close_victim(m, victim, next, changed);
    zm_set_state(m, z, BLK_ZS_EOPEN);
    zm_mark(m, changed, z);
    return 0;
}

static int zm_close(ZoneModel *m, BlockZoneDescriptor *z,
                    unsigned long *changed)
{
    switch (z->state) {
    case BLK_ZS_CLOSED:
        return 0;
    case BLK_ZS_IOPEN:
    case BLK_ZS_EOPEN:
        /* An open zone with nothing written goes back to empty. */
        zm_set_state(m, z, z->wp == z->start ? BLK_ZS_EMPTY : BLK_ZS_CLOSED);
        zm_mark(m, changed, z);
        return 0;
    default:
        return -EIO;        /* empty, full */
    }
}

static int zm_finish(ZoneModel *m, BlockZoneDescriptor *z,
                     unsigned long *changed)
{
    uint32_t victim = ZM_NO_ZONE, next = 0;
    int ret;

    switch (z->state) {
    case BLK_ZS_FULL:
        /*
         * null_blk only treats finish-of-full as a no-op when it manages
         * open/active resources (a limit is set); without limits it runs
         * the plain finish, which moves a zone filled up to a capacity
         * below its size from start + capacity to start + length.  Both
         * seen on 6.12 with blkzone (tests/vm 050 and the probes).
         */
        if (m->geo.max_open || m->geo.max_active) {
            return 0;
        }
        if (z->wp != z->start + z->length) {
            z->wp = z->start + z->length;
            zm_mark(m, changed, z);
        }
        return 0;
    case BLK_ZS_EMPTY:
    case BLK_ZS_CLOSED:
        /*
         * null_blk asks for an open slot as if the zone were opened on the
         * way, so finishing can fail, or implicitly close another zone.
         */
        ret = zm_check_resources(m, z->state, &victim, &next);
        if (ret < 0) {
            return ret;
        }
        break;
    case BLK_ZS_IOPEN:
    case BLK_ZS_EOPEN:
        break;
    default:
        return -EIO;
    }
    zm_close_victim(m, victim, next, changed);
    zm_set_state(m, z, BLK_ZS_FULL);
    z->wp = z->start + z->length;   /* the zone end, not the capacity */
    zm_mark(m, changed, z);
    return 0;
}

static int zm_reset(ZoneModel *m, BlockZoneDescriptor *z,
                    unsigned long *changed)
{
    switch (z->state) {
    case BLK_ZS_EMPTY:
        return 0;
    case BLK_ZS_IOPEN:
    case BLK_ZS_EOPEN:
    case BLK_ZS_CLOSED:
    case BLK_ZS_FULL:
        zm_set_state(m, z, BLK_ZS_EMPTY);
        z->wp = z->start;
        zm_mark(m, changed, z);
        return 0;
    default:
        return -EIO;
    }
}

static void zm_reset_all(ZoneModel *m, unsigned long *changed)
{
    for (uint32_t i = m->geo.nr_conv; i < m->nr_zones; i++) {
        BlockZoneDescriptor *z = &m->zones[i];

        if (z->state != BLK_ZS_RDONLY && z->state != BLK_ZS_OFFLINE) {
            zm_reset(m, z, changed);
        }
    }
}

static int zm_mgmt_zone(ZoneModel *m, BlockZoneOp op, BlockZoneDescriptor *z,
                        unsigned long *changed)
{
    if (!zm_is_seq(z) || z->state == BLK_ZS_RDONLY ||
        z->state == BLK_ZS_OFFLINE) {
        return -EIO;
    }
    switch (op) {
    case BLK_ZO_OPEN:
        return zm_open(m, z, changed);
    case BLK_ZO_CLOSE:
        return zm_close(m, z, changed);
    case BLK_ZO_FINISH:
        return zm_finish(m, z, changed);
    case BLK_ZO_RESET:
        return zm_reset(m, z, changed);
    default:
        g_assert_not_reached();
    }
}

int zone_model_mgmt(ZoneModel *m, BlockZoneOp op, uint64_t offset,
                    uint64_t len, unsigned long *changed)
{
    uint64_t size = m->geo.size;
    uint32_t first, last;
    int ret = 0;

    switch (op) {
    case BLK_ZO_RESET_ALL:
        zm_reset_all(m, changed);
        return 0;
    case BLK_ZO_OPEN:
    case BLK_ZO_CLOSE:
    case BLK_ZO_FINISH:
    case BLK_ZO_RESET:
        break;
    default:
        return -EINVAL;
    }
    if (!len || offset >= size || len > size - offset ||
        offset % m->geo.zone_size ||
        (len % m->geo.zone_size && offset + len != size)) {
        return -EINVAL;
    }
    if (op == BLK_ZO_RESET && offset == 0 && len == size) {
        /* Linux turns a reset of the whole device into a reset-all. */
        zm_reset_all(m, changed);
        return 0;
    }
    first = zone_model_zone_index(m, offset);
    last = zone_model_zone_index(m, offset + len - 1);
    for (uint32_t i = first; i <= last; i++) {
        int r = zm_mgmt_zone(m, op, &m->zones[i], changed);

        /* One request per zone, chained: the last failure wins. */
        if (r < 0) {
            ret = r;
        }
    }
    return ret;
}

/* ---- restoring and forcing states ---- */

static bool zm_valid_state(const BlockZoneDescriptor *z, BlockZoneState state,
                           uint64_t wp)
{
    uint64_t end_cap = z->start + z->cap;

    if (!zm_is_seq(z)) {
        return state == BLK_ZS_NOT_WP;
    }
    switch (state) {
    case BLK_ZS_EMPTY:
        return wp == z->start;
    case BLK_ZS_IOPEN:
    case BLK_ZS_EOPEN:
        return wp >= z->start && wp < end_cap;
    case BLK_ZS_CLOSED:
        return wp > z->start && wp < end_cap;
    case BLK_ZS_FULL:
        return wp == end_cap || wp == z->start + z->length;
    case BLK_ZS_RDONLY:
    case BLK_ZS_OFFLINE:
        return true;
    default:
        return false;
    }
}

int zone_model_set_zone(ZoneModel *m, uint32_t index, BlockZoneState state,
                        uint64_t wp)
{
    BlockZoneDescriptor *z;

    if (index >= m->nr_zones) {
        return -EINVAL;
    }
    z = &m->zones[index];
    if (!zm_valid_state(z, state, wp)) {
        return -EINVAL;
    }
    if (!zm_is_seq(z)) {
        return 0;
    }
    zm_set_state(m, z, state);
    z->wp = (state == BLK_ZS_RDONLY || state == BLK_ZS_OFFLINE)
            ? UINT64_MAX : wp;
    return 0;
}

int zone_model_inject(ZoneModel *m, uint32_t index, BlockZoneState state)
{
    BlockZoneDescriptor *z;

    if (index >= m->nr_zones ||
        (state != BLK_ZS_RDONLY && state != BLK_ZS_OFFLINE)) {
        return -EINVAL;
    }
    z = &m->zones[index];
    if (!zm_is_seq(z)) {
        return -EINVAL;
    }
    if (z->state == state) {
        /* Asking again restores a normal empty zone. */
        z->state = BLK_ZS_EMPTY;
        z->wp = z->start;
        return 1;
    }
    if (z->state != BLK_ZS_RDONLY && z->state != BLK_ZS_OFFLINE) {
        /* Frees the zone's resources first; a failure is ignored. */
        zm_finish(m, z, NULL);
    }
    zm_set_state(m, z, state);
    z->wp = UINT64_MAX;
    return 0;
}

unsigned int zone_model_report(const ZoneModel *m, uint64_t offset,
                               unsigned int nr, BlockZoneDescriptor *zones)
{
    uint32_t first;
    unsigned int n;

    if (offset >= m->geo.size) {
        return 0;
    }
    first = zone_model_zone_index(m, offset);
    n = MIN(nr, m->nr_zones - first);
    memcpy(zones, &m->zones[first], n * sizeof(*zones));
    return n;
}

int zone_model_recount(ZoneModel *m)
{
    const ZoneModelGeometry *g = &m->geo;
    bool ok = true;

    m->nr_imp_open = m->nr_exp_open = m->nr_closed = 0;
    for (uint32_t i = 0; i < m->nr_zones; i++) {
        const BlockZoneDescriptor *z = &m->zones[i];
        uint64_t start = (uint64_t)i * g->zone_size;
        uint64_t length = MIN(g->zone_size, g->size - start);
        bool conv = i < g->nr_conv;

        if (z->start != start || z->length != length ||
            z->cap != (conv ? length : MIN(g->zone_capacity, length)) ||
            z->type != (conv ? BLK_ZT_CONV : BLK_ZT_SWR) ||
            !zm_valid_state(z, z->state, z->wp) ||
            (conv && z->wp != start + length) ||
            ((z->state == BLK_ZS_RDONLY || z->state == BLK_ZS_OFFLINE) &&
             z->wp != UINT64_MAX)) {
            ok = false;
        }
        zm_count(m, z->state, +1);
    }
    if (m->imp_close_cursor < g->nr_conv ||
        m->imp_close_cursor >= m->nr_zones) {
        m->imp_close_cursor = g->nr_conv;
    }
    if ((g->max_open && zm_nr_open(m) > g->max_open) ||
        (g->max_active && zm_nr_active(m) > g->max_active)) {
        ok = false;
    }
    return ok ? 0 : -EINVAL;
}
