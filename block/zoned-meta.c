/*
 * The zoned image format on disk: CRC-32C, the header (geometry and
 * layout) and the metadata slots (one entry per zone), with every check
 * a header or a slot must pass before it is trusted.  Layout and rules:
 * docs/zoned-format.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "zoned-int.h"

/* ---- CRC-32C (Castagnoli), reflected, slicing by 8 ---- */

static uint32_t crc32c_table[8][256];

static gpointer crc32c_init(gpointer unused)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;

        for (int k = 0; k < 8; k++) {
            c = (c >> 1) ^ (c & 1 ? 0x82F63B78u : 0);
        }
        crc32c_table[0][i] = c;
    }
    for (uint32_t i = 0; i < 256; i++) {
        for (int t = 1; t < 8; t++) {
            uint32_t prev = crc32c_table[t - 1][i];

            crc32c_table[t][i] = (prev >> 8) ^ crc32c_table[0][prev & 0xff];
        }
    }
    return NULL;
}

/* crc is the value of the previous call (0 to start). */
uint32_t zoned_crc32c(uint32_t crc, const void *buf, size_t len)
{
    static GOnce once = G_ONCE_INIT;
    const uint8_t *p = buf;

    g_once(&once, crc32c_init, NULL);
    crc = ~crc;
    while (len >= 8) {
        uint32_t lo = crc ^ (p[0] | p[1] << 8 | p[2] << 16 |
                             (uint32_t)p[3] << 24);

        crc = crc32c_table[7][lo & 0xff] ^
              crc32c_table[6][(lo >> 8) & 0xff] ^
              crc32c_table[5][(lo >> 16) & 0xff] ^
              crc32c_table[4][lo >> 24] ^
              crc32c_table[3][p[4]] ^ crc32c_table[2][p[5]] ^
              crc32c_table[1][p[6]] ^ crc32c_table[0][p[7]];
        p += 8;
        len -= 8;
    }
    while (len--) {
        crc = (crc >> 8) ^ crc32c_table[0][(crc ^ *p++) & 0xff];
    }
    return ~crc;
}

/* ---- little-endian fields ---- */

static void st32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) {
        p[i] = v >> (8 * i);
    }
}

static void st64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) {
        p[i] = v >> (8 * i);
    }
}

static uint32_t ld32(const uint8_t *p)
{
    uint32_t v = 0;

    for (int i = 3; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

static uint64_t ld64(const uint8_t *p)
{
    uint64_t v = 0;

    for (int i = 7; i >= 0; i--) {
        v = v << 8 | p[i];
    }
    return v;
}

/* ---- header ---- */

/* Header field offsets (see docs/zoned-format.md). */
enum {
    HDR_MAGIC = 0,
    HDR_VERSION = 8,
    HDR_HEADER_SIZE = 12,
    HDR_CRC = 16,
    HDR_BLOCK_SIZE = 20,
    HDR_DISK_SIZE = 24,
    HDR_ZONE_SIZE = 32,
    HDR_ZONE_CAP = 40,
    HDR_NR_ZONES = 48,
    HDR_NR_CONV = 52,
    HDR_MAX_OPEN = 56,
    HDR_MAX_ACTIVE = 60,
    HDR_MAX_APPEND = 64,
    HDR_SLOT0 = 72,
    HDR_SLOT1 = 80,
    HDR_SLOT_SIZE = 88,
    HDR_DATA_OFFSET = 96,
    HDR_ENTRY_SIZE = 104,
    HDR_FEATURES = 108,
    HDR_END = 112,
};

void zoned_header_geometry(const ZonedHeader *h, ZoneModelGeometry *geo)
{
    *geo = (ZoneModelGeometry) {
        .size = h->disk_size,
        .zone_size = h->zone_size,
        .zone_capacity = h->zone_capacity,
        .nr_conv = h->nr_conv,
        .max_open = h->max_open,
        .max_active = h->max_active,
        .block_size = h->block_size,
    };
}

size_t zoned_slot_used(uint32_t nr_zones)
{
    return ZONED_SLOT_HEADER_SIZE + (size_t)nr_zones * ZONED_ENTRY_SIZE;
}

/* The geometry rules of the format itself; the zone model adds its own. */
static bool zoned_check_geometry(const ZonedHeader *h, Error **errp)
{
    uint64_t bs = h->block_size;
    uint64_t nr;

    if (bs != 512 && bs != 4096) {
        error_setg(errp, "Logical block size %" PRIu64 " is not supported "
                   "(512 or 4096)", bs);
        return false;
    }
    if (!is_power_of_2(h->zone_size) || h->zone_size < bs) {
        error_setg(errp, "Zone size %" PRIu64 " must be a power of two of "
                   "at least the logical block size (%" PRIu64 ")",
                   h->zone_size, bs);
        return false;
    }
    if (h->zone_capacity == 0 || h->zone_capacity > h->zone_size ||
        h->zone_capacity % bs) {
        error_setg(errp, "Zone capacity %" PRIu64 " must be a multiple of "
                   "the logical block size (%" PRIu64 ") between %" PRIu64
                   " and the zone size (%" PRIu64 ")", h->zone_capacity, bs,
                   bs, h->zone_size);
        return false;
    }
    if (h->disk_size == 0 || h->disk_size % bs) {
        error_setg(errp, "Disk size %" PRIu64 " must be a non-zero multiple "
                   "of the logical block size (%" PRIu64 ")", h->disk_size,
                   bs);
        return false;
    }
    if (h->disk_size % h->zone_size && h->zone_capacity != h->zone_size) {
        error_setg(errp, "Disk size %" PRIu64 " leaves a smaller last zone, "
                   "which needs the zone capacity (%" PRIu64 ") to equal "
                   "the zone size (%" PRIu64 ")", h->disk_size,
                   h->zone_capacity, h->zone_size);
        return false;
    }
    nr = DIV_ROUND_UP(h->disk_size, h->zone_size);
    if (nr > ZONED_MAX_ZONES) {
        error_setg(errp, "Disk size %" PRIu64 " in zones of %" PRIu64
                   " bytes makes %" PRIu64 " zones, more than %u: use "
                   "larger zones", h->disk_size, h->zone_size, nr,
                   ZONED_MAX_ZONES);
        return false;
    }
    if (h->nr_conv >= nr) {
        error_setg(errp, "%" PRIu32 " conventional zones leave no "
                   "sequential zone among the %" PRIu64 " zones",
                   h->nr_conv, nr);
        return false;
    }
    if (h->max_append % bs) {
        error_setg(errp, "Maximum append size %" PRIu64 " must be a "
                   "multiple of the logical block size (%" PRIu64 ")",
                   h->max_append, bs);
        return false;
    }
    return true;
}

bool zoned_header_layout(ZonedHeader *h, Error **errp)
{
    if (!zoned_check_geometry(h, errp)) {
        return false;
    }
    h->version = ZONED_VERSION;
    h->nr_zones = DIV_ROUND_UP(h->disk_size, h->zone_size);
    h->slot_size = QEMU_ALIGN_UP(zoned_slot_used(h->nr_zones),
                                 ZONED_SLOT_ALIGN);
    h->slot_offset[0] = ZONED_HEADER_SIZE;
    h->slot_offset[1] = h->slot_offset[0] + h->slot_size;
    h->data_offset = QEMU_ALIGN_UP(h->slot_offset[1] + h->slot_size,
                                   ZONED_DATA_ALIGN);
    return true;
}

void zoned_header_encode(const ZonedHeader *h, uint8_t *buf)
{
    memset(buf, 0, ZONED_HEADER_SIZE);
    memcpy(buf + HDR_MAGIC, ZONED_MAGIC, 8);
    st32(buf + HDR_VERSION, h->version);
    st32(buf + HDR_HEADER_SIZE, ZONED_HEADER_SIZE);
    st32(buf + HDR_BLOCK_SIZE, h->block_size);
    st64(buf + HDR_DISK_SIZE, h->disk_size);
    st64(buf + HDR_ZONE_SIZE, h->zone_size);
    st64(buf + HDR_ZONE_CAP, h->zone_capacity);
    st32(buf + HDR_NR_ZONES, h->nr_zones);
    st32(buf + HDR_NR_CONV, h->nr_conv);
    st32(buf + HDR_MAX_OPEN, h->max_open);
    st32(buf + HDR_MAX_ACTIVE, h->max_active);
    st64(buf + HDR_MAX_APPEND, h->max_append);
    st64(buf + HDR_SLOT0, h->slot_offset[0]);
    st64(buf + HDR_SLOT1, h->slot_offset[1]);
    st64(buf + HDR_SLOT_SIZE, h->slot_size);
    st64(buf + HDR_DATA_OFFSET, h->data_offset);
    st32(buf + HDR_ENTRY_SIZE, ZONED_ENTRY_SIZE);
    st32(buf + HDR_FEATURES, 0);
    st32(buf + HDR_CRC, zoned_crc32c(0, buf, ZONED_HEADER_SIZE));
}

/* The stored layout: slots apart, after the header, data after both. */
static bool zoned_check_layout(const ZonedHeader *h, int64_t file_len,
                               const char *name, Error **errp)
{
    uint64_t used = zoned_slot_used(h->nr_zones);

    if (h->slot_size < used || h->slot_size > (1ull << 32)) {
        error_setg(errp, "Zoned image '%s': metadata slots of %" PRIu64
                   " bytes cannot hold %" PRIu32 " zones (%" PRIu64
                   " bytes)", name, h->slot_size, h->nr_zones, used);
        return false;
    }
    for (int i = 0; i < 2; i++) {
        uint64_t off = h->slot_offset[i];

        if (off < ZONED_HEADER_SIZE || off % 512 ||
            off > h->data_offset || h->data_offset - off < h->slot_size) {
            error_setg(errp, "Zoned image '%s': metadata slot %d at offset %"
                       PRIu64 " (%" PRIu64 " bytes) is not between the "
                       "header (%d bytes) and the data area (offset %"
                       PRIu64 ")", name, i, off, h->slot_size,
                       ZONED_HEADER_SIZE, h->data_offset);
            return false;
        }
    }
    if (MAX(h->slot_offset[0], h->slot_offset[1]) -
        MIN(h->slot_offset[0], h->slot_offset[1]) < h->slot_size) {
        error_setg(errp, "Zoned image '%s': metadata slots at offsets %"
                   PRIu64 " and %" PRIu64 " overlap (%" PRIu64 " bytes "
                   "each)", name, h->slot_offset[0], h->slot_offset[1],
                   h->slot_size);
        return false;
    }
    if (h->data_offset % h->block_size ||
        h->data_offset > INT64_MAX - h->disk_size) {
        error_setg(errp, "Zoned image '%s': data offset %" PRIu64 " is not "
                   "a multiple of the logical block size (%" PRIu32 ")",
                   name, h->data_offset, h->block_size);
        return false;
    }
    for (int i = 0; i < 2 && file_len >= 0; i++) {
        if (h->slot_offset[i] + h->slot_size > (uint64_t)file_len) {
            error_setg(errp, "Zoned image '%s': the zone table in metadata "
                       "slot %d (offset %" PRIu64 ", %" PRIu64 " bytes) "
                       "extends past the end of the file (%" PRId64
                       " bytes)", name, i, h->slot_offset[i], h->slot_size,
                       file_len);
            return false;
        }
    }
    return true;
}

bool zoned_header_decode(const uint8_t *buf, int64_t file_len,
                         const char *name, ZonedHeader *h, Error **errp)
{
    g_autofree uint8_t *copy = NULL;
    Error *local_err = NULL;
    uint32_t stored, computed, hsize, esize, features;

    if (memcmp(buf + HDR_MAGIC, ZONED_MAGIC, 8)) {
        error_setg(errp, "Zoned image '%s' has a bad magic (not a zoned "
                   "image, or its header is overwritten)", name);
        return false;
    }
    h->version = ld32(buf + HDR_VERSION);
    if (h->version != ZONED_VERSION) {
        error_setg(errp, "Zoned image '%s' has version %" PRIu32 "; this "
                   "build reads version %d", name, h->version,
                   ZONED_VERSION);
        return false;
    }
    hsize = ld32(buf + HDR_HEADER_SIZE);
    if (hsize != ZONED_HEADER_SIZE) {
        error_setg(errp, "Zoned image '%s' has a header of %" PRIu32
                   " bytes; version %d headers have %d", name, hsize,
                   ZONED_VERSION, ZONED_HEADER_SIZE);
        return false;
    }
    copy = g_memdup2(buf, ZONED_HEADER_SIZE);
    stored = ld32(buf + HDR_CRC);
    st32(copy + HDR_CRC, 0);
    computed = zoned_crc32c(0, copy, ZONED_HEADER_SIZE);
    if (stored != computed) {
        error_setg(errp, "Zoned image '%s' has a corrupt header: checksum "
                   "0x%08" PRIx32 ", expected 0x%08" PRIx32, name, stored,
                   computed);
        return false;
    }
    features = ld32(buf + HDR_FEATURES);
    if (features) {
        error_setg(errp, "Zoned image '%s' uses unknown features 0x%"
                   PRIx32, name, features);
        return false;
    }
    esize = ld32(buf + HDR_ENTRY_SIZE);
    if (esize != ZONED_ENTRY_SIZE) {
        error_setg(errp, "Zoned image '%s' has zone entries of %" PRIu32
                   " bytes; version %d entries have %d", name, esize,
                   ZONED_VERSION, ZONED_ENTRY_SIZE);
        return false;
    }
    h->block_size = ld32(buf + HDR_BLOCK_SIZE);
    h->disk_size = ld64(buf + HDR_DISK_SIZE);
    h->zone_size = ld64(buf + HDR_ZONE_SIZE);
    h->zone_capacity = ld64(buf + HDR_ZONE_CAP);
    h->nr_zones = ld32(buf + HDR_NR_ZONES);
    h->nr_conv = ld32(buf + HDR_NR_CONV);
    h->max_open = ld32(buf + HDR_MAX_OPEN);
    h->max_active = ld32(buf + HDR_MAX_ACTIVE);
    h->max_append = ld64(buf + HDR_MAX_APPEND);
    h->slot_offset[0] = ld64(buf + HDR_SLOT0);
    h->slot_offset[1] = ld64(buf + HDR_SLOT1);
    h->slot_size = ld64(buf + HDR_SLOT_SIZE);
    h->data_offset = ld64(buf + HDR_DATA_OFFSET);

    if (!zoned_check_geometry(h, &local_err)) {
        error_setg(errp, "Zoned image '%s' has an impossible geometry: %s",
                   name, error_get_pretty(local_err));
        error_free(local_err);
        return false;
    }
    if (h->nr_zones != DIV_ROUND_UP(h->disk_size, h->zone_size)) {
        error_setg(errp, "Zoned image '%s' has an impossible geometry: %"
                   PRIu32 " zones recorded, but %" PRIu64 " bytes in zones "
                   "of %" PRIu64 " bytes make %" PRIu64, name, h->nr_zones,
                   h->disk_size, h->zone_size,
                   DIV_ROUND_UP(h->disk_size, h->zone_size));
        return false;
    }
    return zoned_check_layout(h, file_len, name, errp);
}

/* ---- slots ---- */

enum {
    SLOT_MAGIC = 0,
    SLOT_GENERATION = 8,
    SLOT_NR_ZONES = 16,
    SLOT_CRC = 20,
    SLOT_ENTRY_SIZE = 24,
    SLOT_FLAGS = 28,
    /* entries from ZONED_SLOT_HEADER_SIZE */
    ENT_WP = 0,
    ENT_DATA_END = 8,
    ENT_COND = 16,
    ENT_FLAGS = 17,
};

void zoned_slot_encode(const ZonedHeader *h, uint64_t generation,
                       const ZonedEntry *entries, uint8_t *buf)
{
    size_t used = zoned_slot_used(h->nr_zones);

    memset(buf, 0, h->slot_size);
    memcpy(buf + SLOT_MAGIC, ZONED_SLOT_MAGIC, 8);
    st64(buf + SLOT_GENERATION, generation);
    st32(buf + SLOT_NR_ZONES, h->nr_zones);
    st32(buf + SLOT_ENTRY_SIZE, ZONED_ENTRY_SIZE);
    for (uint32_t i = 0; i < h->nr_zones; i++) {
        uint8_t *p = buf + ZONED_SLOT_HEADER_SIZE + i * ZONED_ENTRY_SIZE;

        st64(p + ENT_WP, entries[i].wp);
        st64(p + ENT_DATA_END, entries[i].data_end);
        p[ENT_COND] = entries[i].cond;
        p[ENT_FLAGS] = entries[i].flags;
    }
    st32(buf + SLOT_CRC, zoned_crc32c(0, buf, used));
}

char *zoned_entry_check(const ZonedHeader *h, uint32_t i,
                        const ZonedEntry *e)
{
    uint64_t start = zoned_zone_start(h, i);
    uint64_t len = zoned_zone_len(h, i);
    uint64_t cap = zoned_zone_cap(h, i);

    if (e->flags & ~ZONED_ENTRY_FLAGS_KNOWN) {
        return g_strdup_printf("zone %" PRIu32 " has unknown flags 0x%x", i,
                               e->flags);
    }
    if (i < h->nr_conv) {
        if (e->cond != BLK_ZS_NOT_WP || e->flags) {
            return g_strdup_printf("conventional zone %" PRIu32 " has "
                                   "condition %u", i, e->cond);
        }
        return NULL;
    }
    if (e->data_end < start || e->data_end > start + cap ||
        e->data_end % h->block_size) {
        return g_strdup_printf("zone %" PRIu32 " has its data end (%"
                               PRIu64 ") outside its capacity [%" PRIu64
                               ", %" PRIu64 "]", i, e->data_end, start,
                               start + cap);
    }
    switch (e->cond) {
    case BLK_ZS_EMPTY:
        if (e->wp != start || e->data_end != start) {
            return g_strdup_printf("empty zone %" PRIu32 " has its write "
                                   "pointer at %" PRIu64 ", not at its "
                                   "start (%" PRIu64 ")", i, e->wp, start);
        }
        break;
    case BLK_ZS_IOPEN:
    case BLK_ZS_EOPEN:
    case BLK_ZS_CLOSED:
        if (e->wp <= start || e->wp >= start + cap || e->wp != e->data_end) {
            return g_strdup_printf("zone %" PRIu32 " (condition %u) has its "
                                   "write pointer at %" PRIu64 " (data end %"
                                   PRIu64 "), outside (%" PRIu64 ", %"
                                   PRIu64 ")", i, e->cond, e->wp,
                                   e->data_end, start, start + cap);
        }
        break;
    case BLK_ZS_FULL:
        if (e->wp != start + cap && e->wp != start + len) {
            return g_strdup_printf("full zone %" PRIu32 " has its write "
                                   "pointer at %" PRIu64 ", neither at its "
                                   "capacity (%" PRIu64 ") nor at its end (%"
                                   PRIu64 ")", i, e->wp, start + cap,
                                   start + len);
        }
        break;
    case BLK_ZS_RDONLY:
    case BLK_ZS_OFFLINE:
        break;
    default:
        return g_strdup_printf("zone %" PRIu32 " has an unknown condition "
                               "%u", i, e->cond);
    }
    if ((e->flags & ZONED_ENTRY_RESET_PENDING) && e->cond != BLK_ZS_EMPTY) {
        return g_strdup_printf("zone %" PRIu32 " waits for a reset but is "
                               "not empty (condition %u)", i, e->cond);
    }
    return NULL;
}

bool zoned_slot_decode(const ZonedHeader *h, const uint8_t *buf,
                       uint64_t *generation, ZonedEntry *entries,
                       char **reason)
{
    size_t used = zoned_slot_used(h->nr_zones);
    g_autofree uint8_t *head = NULL;
    uint32_t stored, computed, nr, esize;

    if (memcmp(buf + SLOT_MAGIC, ZONED_SLOT_MAGIC, 8)) {
        *reason = g_strdup("bad magic");
        return false;
    }
    nr = ld32(buf + SLOT_NR_ZONES);
    esize = ld32(buf + SLOT_ENTRY_SIZE);
    if (nr != h->nr_zones || esize != ZONED_ENTRY_SIZE) {
        *reason = g_strdup_printf("it describes %" PRIu32 " zones of %"
                                  PRIu32 " bytes, the header %" PRIu32
                                  " of %d", nr, esize, h->nr_zones,
                                  ZONED_ENTRY_SIZE);
        return false;
    }
    /* The checksum covers the slot with its own field as zero. */
    head = g_memdup2(buf, ZONED_SLOT_HEADER_SIZE);
    st32(head + SLOT_CRC, 0);
    computed = zoned_crc32c(0, head, ZONED_SLOT_HEADER_SIZE);
    computed = zoned_crc32c(computed, buf + ZONED_SLOT_HEADER_SIZE,
                            used - ZONED_SLOT_HEADER_SIZE);
    stored = ld32(buf + SLOT_CRC);
    if (stored != computed) {
        *reason = g_strdup_printf("checksum 0x%08" PRIx32 ", expected 0x%08"
                                  PRIx32, stored, computed);
        return false;
    }
    *generation = ld64(buf + SLOT_GENERATION);
    for (uint32_t i = 0; i < h->nr_zones; i++) {
        const uint8_t *p = buf + ZONED_SLOT_HEADER_SIZE +
                           i * ZONED_ENTRY_SIZE;

        entries[i].wp = ld64(p + ENT_WP);
        entries[i].data_end = ld64(p + ENT_DATA_END);
        entries[i].cond = p[ENT_COND];
        entries[i].flags = p[ENT_FLAGS];
        *reason = zoned_entry_check(h, i, &entries[i]);
        if (*reason) {
            return false;
        }
    }
    return true;
}
