/*
 * The crash test of the zoned image format: what the writer
 * (zoned-crash-writer.c) and the checker (test-zoned-format.c) share.
 *
 * Every block the writer writes starts with a stamp saying what it is:
 * the zone, the zone's generation (its number of resets), the request
 * (append id or write offset) and the block's index in it.  The writer
 * logs to a pipe, one line per write(2) (atomic below PIPE_BUF):
 *   S <zone> <gen> <wp>               start state of a sequential zone
 *   G                                 all zones started: go
 *   A <zone> <gen> <id> <off> <len>   append acknowledged at off
 *   W <zone> <gen> <off> <len>        write acknowledged
 *   r <zone> <gen>                    reset issued (gen = the new one)
 *   R <zone> <gen>                    reset acknowledged
 *   f <zone>                          finish issued
 *   F <n> <zone>:<gen>:<end> ...      flush (or FUA write) acknowledged;
 *                                     <end>: all data below it was
 *                                     acknowledged before it was issued
 *   E <text>                          the writer failed
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TESTS_ZONED_CRASH_H
#define TESTS_ZONED_CRASH_H

#define ZC_MAGIC            0x5a43524153484d4bULL   /* "ZCRASHMK" */
#define ZC_KIND_APPEND      1
#define ZC_KIND_WRITE       2
#define ZC_KIND_CONV        3

/* The image the crash test uses. */
#define ZC_BLOCK            4096
#define ZC_ZONE_SIZE        (1024 * 1024)
#define ZC_ZONE_CAP         (768 * 1024)
#define ZC_NR_ZONES         8
#define ZC_NR_CONV          1
#define ZC_CREATE_OPTS      "zone_size=1M,zone_capacity=768K," \
                            "conventional_zones=1,logical_block_size=4096"
/* Zones 1-3 take appends, 4-6 regular writes, 7 is left empty. */
#define ZC_FIRST_APPEND     1
#define ZC_NR_APPEND        3
#define ZC_FIRST_WRITE      4
#define ZC_NR_WRITE         3

typedef struct ZcStamp {
    uint64_t magic;
    uint64_t zone;
    uint64_t gen;
    uint64_t kind;
    uint64_t id;            /* append id, or the write's offset */
    uint64_t index;         /* block index inside the request */
    uint64_t check;         /* mixes the fields above */
} ZcStamp;

static inline uint64_t zc_mix(const ZcStamp *s)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    const uint64_t v[] = { s->zone, s->gen, s->kind, s->id, s->index };

    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        h ^= v[i] + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    }
    return h;
}

/* Fill one block; the rest of it repeats a byte of the stamp's hash. */
static inline void zc_fill(uint8_t *blk, uint64_t zone, uint64_t gen,
                           uint64_t kind, uint64_t id, uint64_t index)
{
    ZcStamp s = {
        .magic = ZC_MAGIC, .zone = zone, .gen = gen, .kind = kind,
        .id = id, .index = index,
    };

    s.check = zc_mix(&s);
    memset(blk, (int)(s.check | 1) & 0xff, ZC_BLOCK);
    memcpy(blk, &s, sizeof(s));
}

/* Decode a block: false if it is not a whole, valid stamped block. */
static inline bool zc_parse(const uint8_t *blk, ZcStamp *s)
{
    memcpy(s, blk, sizeof(*s));
    if (s->magic != ZC_MAGIC || s->check != zc_mix(s)) {
        return false;
    }
    for (size_t i = sizeof(*s); i < ZC_BLOCK; i++) {
        if (blk[i] != ((s->check | 1) & 0xff)) {
            return false;
        }
    }
    return true;
}

#endif /* TESTS_ZONED_CRASH_H */
