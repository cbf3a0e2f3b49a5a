/*
 * Tests of the zone state machine (block/zone-model.c).
 *
 * Two kinds:
 * - the replay: tests/vm/probes/null-blk-semantics.txt ran against the
 *   kernel's zoned null_blk and its answers are in the .out file next to
 *   it; the same steps run here against the model, with a byte per
 *   sector standing for the data, and must print the same text;
 * - focused tests: every cell of the transition table (operation x
 *   starting condition), every resource-limit path, every errno, the
 *   geometry checks, smaller last zones, capacity < size, restoring and
 *   recounting a saved state.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/zone-model.h"
#include "qapi/error.h"

#define KiB 1024ULL
#define MiB (1024 * KiB)
#define ZS (4 * MiB)
#define Z(i) ((uint64_t)(i) * ZS)
#define NONE UINT32_MAX

/* ---- helpers ---- */

/* 16 zones of 4 MiB, capacity 3 MiB, one conventional, open 2, active 3 */
static const ZoneModelGeometry geo_a = {
    .size = 64 * MiB, .zone_size = ZS, .zone_capacity = 3 * MiB,
    .nr_conv = 1, .max_open = 2, .max_active = 3, .block_size = 4096,
};

static ZoneModel *model_new(const ZoneModelGeometry *g)
{
    ZoneModel *m = g_new0(ZoneModel, 1);
    Error *err = NULL;

    if (!zone_model_init(m, g, &err)) {
        g_error("zone_model_init: %s", error_get_pretty(err));
    }
    return m;
}

static void model_free(ZoneModel *m)
{
    zone_model_cleanup(m);
    g_free(m);
}

static ZoneModel *model_copy(const ZoneModel *m)
{
    ZoneModel *c = g_memdup2(m, sizeof(*m));

    c->zones = g_memdup2(m->zones, m->nr_zones * sizeof(*m->zones));
    return c;
}

static void assert_same(const ZoneModel *a, const ZoneModel *b)
{
    g_assert_cmpuint(a->nr_imp_open, ==, b->nr_imp_open);
    g_assert_cmpuint(a->nr_exp_open, ==, b->nr_exp_open);
    g_assert_cmpuint(a->nr_closed, ==, b->nr_closed);
    g_assert_cmpuint(a->imp_close_cursor, ==, b->imp_close_cursor);
    g_assert_cmpmem(a->zones, a->nr_zones * sizeof(*a->zones),
                    b->zones, b->nr_zones * sizeof(*b->zones));
}

/* The incremental counters agree with the zones, within the limits. */
static void assert_consistent(ZoneModel *m)
{
    uint32_t imp = m->nr_imp_open, exp = m->nr_exp_open;
    uint32_t closed = m->nr_closed;

    g_assert_cmpint(zone_model_recount(m), ==, 0);
    g_assert_cmpuint(m->nr_imp_open, ==, imp);
    g_assert_cmpuint(m->nr_exp_open, ==, exp);
    g_assert_cmpuint(m->nr_closed, ==, closed);
}

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

static int wr(ZoneModel *m, uint64_t off, uint64_t len)
{
    return zone_model_write(m, off, len, false, NULL, NULL);
}

static int wr_closing(ZoneModel *m, uint64_t off, uint64_t len,
                      uint32_t *closed)
{
    return zone_model_write(m, off, len, false, NULL, closed);
}

static int mgmt(ZoneModel *m, BlockZoneOp op, uint64_t off, uint64_t len)
{
    return zone_model_mgmt(m, op, off, len, NULL);
}

/* A call that must fail with err and change nothing. */
#define assert_fails(m, err, call)                                      \
    do {                                                                \
        ZoneModel *before_ = model_copy(m);                             \
        g_assert_cmpint((call), ==, (err));                             \
        assert_same(m, before_);                                        \
        model_free(before_);                                            \
    } while (0)

/* ---- replay of the kernel probes ---- */

typedef struct ReplayDev {
    ZoneModel m;
    uint8_t *data;              /* a byte per 512-byte sector */
} ReplayDev;

static const char *errname(int err)
{
    switch (err) {
    case -EIO: return "EIO";
    case -EINVAL: return "EINVAL";
    case -ETOOMANYREFS: return "ETOOMANYREFS";
    case -EOVERFLOW: return "EOVERFLOW";
    default: return g_strerror(-err);
    }
}

static const char *cond_name(BlockZoneState s)
{
    switch (s) {
    case BLK_ZS_NOT_WP: return "not-wp";
    case BLK_ZS_EMPTY: return "empty";
    case BLK_ZS_IOPEN: return "imp-open";
    case BLK_ZS_EOPEN: return "exp-open";
    case BLK_ZS_CLOSED: return "closed";
    case BLK_ZS_RDONLY: return "read-only";
    case BLK_ZS_FULL: return "full";
    case BLK_ZS_OFFLINE: return "offline";
    }
    return "?";
}

/* configfs attributes, with the adjustments null_blk makes to them. */
static void replay_add_device(GPtrArray *devs, const char *spec)
{
    g_auto(GStrv) kvs = g_strsplit(spec, ",", -1);
    ZoneModelGeometry g = { .block_size = 512 };
    uint64_t cap_mb = 0, nr_zones, nr_seq;
    ReplayDev *d = g_new0(ReplayDev, 1);
    Error *err = NULL;

    for (int i = 0; kvs[i]; i++) {
        char *eq = strchr(kvs[i], '=');
        uint64_t v;

        g_assert_nonnull(eq);
        *eq = 0;
        v = g_ascii_strtoull(eq + 1, NULL, 0);
        if (!strcmp(kvs[i], "zone_size")) {
            g.zone_size = v * MiB;
        } else if (!strcmp(kvs[i], "zone_capacity")) {
            cap_mb = v;
        } else if (!strcmp(kvs[i], "zone_nr_conv")) {
            g.nr_conv = v;
        } else if (!strcmp(kvs[i], "zone_max_open")) {
            g.max_open = v;
        } else if (!strcmp(kvs[i], "zone_max_active")) {
            g.max_active = v;
        } else if (!strcmp(kvs[i], "size")) {
            g.size = v * MiB;
        } else if (!strcmp(kvs[i], "blocksize")) {
            g.block_size = v;
        } else {
            g_assert_cmpstr(kvs[i], ==, "memory_backed");
        }
    }
    g.zone_capacity = cap_mb ? cap_mb * MiB : g.zone_size;
    /* null_blk lowers max_open to max_active where the model refuses. */
    nr_zones = DIV_ROUND_UP(g.size, g.zone_size);
    nr_seq = nr_zones - g.nr_conv;
    if (g.max_active && g.max_active < nr_seq && g.max_open > g.max_active) {
        g.max_open = g.max_active;
    }
    if (!zone_model_init(&d->m, &g, &err)) {
        g_error("device %s: %s", spec, error_get_pretty(err));
    }
    d->data = g_malloc0(g.size / 512);
    g_ptr_array_add(devs, d);
}

static void replay_dev_free(gpointer p)
{
    ReplayDev *d = p;

    zone_model_cleanup(&d->m);
    g_free(d->data);
    g_free(d);
}

/* zprobe's numbers: "Nz" is N zones, "+M" / "-M" adjust. */
static uint64_t replay_num(const ZoneModel *m, const char *s)
{
    char *end;
    uint64_t v = g_ascii_strtoull(s, &end, 0);

    if (*end == 'z') {
        v *= m->geo.zone_size;
        end++;
    }
    if (*end == '+') {
        v += g_ascii_strtoull(end + 1, NULL, 0);
    } else if (*end == '-') {
        v -= g_ascii_strtoull(end + 1, NULL, 0);
    }
    return v;
}

static void replay_discard(ReplayDev *d, uint32_t zone)
{
    const BlockZoneDescriptor *z = &d->m.zones[zone];

    memset(d->data + z->start / 512, 0, z->length / 512);
}

static void replay_discard_changed(ReplayDev *d, const unsigned long *changed)
{
    const unsigned int bits = sizeof(unsigned long) * 8;

    for (uint32_t i = 0; i < d->m.nr_zones; i++) {
        if ((changed[i / bits] >> (i % bits) & 1) &&
            d->m.zones[i].state == BLK_ZS_EMPTY) {
            replay_discard(d, i);
        }
    }
}

/* A write split at zone boundaries, stopping at the first failure. */
static int replay_write(ReplayDev *d, uint64_t off, uint64_t len,
                        uint8_t fill)
{
    while (len) {
        uint64_t piece = zone_model_piece_len(&d->m, off, len);
        int ret;

        if (!piece) {
            return -EINVAL;
        }
        ret = zone_model_write(&d->m, off, piece, false, NULL, NULL);
        if (ret < 0) {
            return ret;
        }
        memset(d->data + off / 512, fill, piece / 512);
        off += piece;
        len -= piece;
    }
    return 0;
}

static void replay_read(ReplayDev *d, uint64_t off, uint64_t len,
                        GString *out)
{
    int ret = zone_model_read(&d->m, off, len);
    uint64_t run = 0;

    if (ret < 0) {
        g_string_append_printf(out, "  %s\n", errname(ret));
        return;
    }
    g_string_append(out, "  ok");
    for (uint64_t s = off; s < off + len; s += 512) {
        uint8_t b = zone_model_readable(&d->m, s, 512) == 512
                    ? d->data[s / 512] : ZONE_MODEL_READ_FILL;
        uint8_t nb = 0;
        bool last = s + 512 >= off + len;

        if (!last) {
            nb = zone_model_readable(&d->m, s + 512, 512) == 512
                 ? d->data[s / 512 + 1] : ZONE_MODEL_READ_FILL;
        }
        run++;
        if (last || nb != b) {
            g_string_append_printf(out, " %02xx%" PRIu64, b, run);
            run = 0;
        }
    }
    g_string_append(out, "\n");
}

static void replay_report(ReplayDev *d, uint32_t first, uint32_t n,
                          GString *out)
{
    g_autofree BlockZoneDescriptor *zones = g_new0(BlockZoneDescriptor, n);
    unsigned int got = zone_model_report(&d->m, Z(0) + first *
                                         d->m.geo.zone_size, n, zones);

    for (unsigned int i = 0; i < got; i++) {
        const BlockZoneDescriptor *z = &zones[i];
        g_autofree char *wp = z->wp == UINT64_MAX
            ? g_strdup("all-ones")
            : g_strdup_printf("start+0x%" PRIx64, z->wp - z->start);

        g_string_append_printf(out, "  z%u %-9s wp=%s len=0x%" PRIx64
                               " cap=0x%" PRIx64 "\n", first + i,
                               cond_name(z->state), wp, z->length, z->cap);
    }
}

/* One zprobe invocation. */
static void replay_run(ReplayDev *d, char **args, GString *out)
{
    uint8_t fill = 0;

    for (int i = 0; args[i]; i++) {
        g_auto(GStrv) f = NULL;
        const char *cmd;
        int ret = 0;

        if (args[i][0] == '-') {
            g_string_append_printf(out, "## %s\n", args[i] + 1);
            continue;
        }
        g_string_append_printf(out, "%s\n", args[i]);
        f = g_strsplit(args[i], ":", 3);
        cmd = f[0];
        if (!strcmp(cmd, "w")) {
            fill = fill == 0xff ? 1 : fill + 1;
            ret = replay_write(d, replay_num(&d->m, f[1]),
                               replay_num(&d->m, f[2]), fill);
            if (ret == 0) {
                g_string_append_printf(out, "  ok (byte %02x)\n", fill);
            }
        } else if (!strcmp(cmd, "r")) {
            replay_read(d, replay_num(&d->m, f[1]), replay_num(&d->m, f[2]),
                        out);
            continue;
        } else if (!strcmp(cmd, "rep")) {
            uint32_t first = f[1] ? replay_num(&d->m, f[1]) : 0;
            uint32_t n = f[1] && f[2] ? replay_num(&d->m, f[2])
                                      : d->m.nr_zones - first;

            replay_report(d, first, n, out);
            continue;
        } else if (!strcmp(cmd, "ro") || !strcmp(cmd, "off")) {
            uint32_t zone = replay_num(&d->m, f[1]);

            ret = zone_model_inject(&d->m, zone, cmd[1] == 'o'
                                    ? BLK_ZS_RDONLY : BLK_ZS_OFFLINE);
            if (ret == 1) {
                replay_discard(d, zone);
                ret = 0;
            }
        } else if (!strcmp(cmd, "sysfs")) {
            g_string_append_printf(out, "  max_open_zones=%u\n"
                                   "  max_active_zones=%u\n"
                                   "  nr_zones=%u\n", d->m.geo.max_open,
                                   d->m.geo.max_active, d->m.nr_zones);
            continue;
        } else if (!strcmp(cmd, "resync")) {
            continue;           /* the model never needs one */
        } else {
            g_autofree unsigned long *changed =
                g_new0(unsigned long, d->m.nr_zones / 32 + 2);
            BlockZoneOp op = !strcmp(cmd, "open") ? BLK_ZO_OPEN
                           : !strcmp(cmd, "close") ? BLK_ZO_CLOSE
                           : !strcmp(cmd, "finish") ? BLK_ZO_FINISH
                           : BLK_ZO_RESET;

            g_assert_true(op != BLK_ZO_RESET || !strcmp(cmd, "reset"));
            ret = zone_model_mgmt(&d->m, op, replay_num(&d->m, f[1]),
                                  f[2] ? replay_num(&d->m, f[2])
                                       : d->m.geo.zone_size, changed);
            if (op == BLK_ZO_RESET) {
                replay_discard_changed(d, changed);
            }
        }
        if (ret == 0 && strcmp(cmd, "w")) {
            g_string_append(out, "  ok\n");
        } else if (ret < 0) {
            g_string_append_printf(out, "  %s\n", errname(ret));
        }
        assert_consistent(&d->m);
    }
}

static void test_replay_null_blk(void)
{
    g_autofree char *txt_path = g_test_build_filename(
        G_TEST_DIST, "..", "vm", "probes", "null-blk-semantics.txt", NULL);
    g_autofree char *out_path = g_test_build_filename(
        G_TEST_DIST, "..", "vm", "probes", "null-blk-semantics.out", NULL);
    g_autofree char *txt = NULL, *want = NULL;
    g_autoptr(GPtrArray) devs = g_ptr_array_new_with_free_func(
        replay_dev_free);
    g_autoptr(GString) joined = g_string_new("");
    g_autoptr(GString) out = g_string_new("");
    g_auto(GStrv) lines = NULL, got_lines = NULL, want_lines = NULL;
    GError *gerr = NULL;

    g_assert_true(g_file_get_contents(txt_path, &txt, NULL, &gerr));
    g_assert_true(g_file_get_contents(out_path, &want, NULL, &gerr));
    /* Continued lines first, as the shell's read does. */
    lines = g_strsplit(txt, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        size_t n = strlen(lines[i]);

        if (n && lines[i][n - 1] == '\\') {
            g_string_append_len(joined, lines[i], n - 1);
            continue;
        }
        g_string_append(joined, lines[i]);
        g_string_append_c(joined, '\n');
    }
    g_strfreev(lines);
    lines = g_strsplit(joined->str, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        char *l = g_strstrip(lines[i]);
        g_auto(GStrv) argv = NULL;

        if (!*l || *l == '#') {
            continue;
        }
        if (g_str_has_prefix(l, "echo ")) {
            g_string_append_printf(out, "%s\n", g_strstrip(l + 5));
            continue;
        }
        g_assert_true(g_shell_parse_argv(l, NULL, &argv, &gerr));
        if (!strcmp(argv[0], "device")) {
            replay_add_device(devs, argv[1]);
        } else {
            unsigned n = atoi(argv[1]);

            g_assert_cmpstr(argv[0], ==, "run");
            g_assert_cmpuint(n, <, devs->len);
            replay_run(g_ptr_array_index(devs, n), argv + 2, out);
        }
    }
    /* Line by line, so that a difference says where it is. */
    got_lines = g_strsplit(out->str, "\n", -1);
    want_lines = g_strsplit(want, "\n", -1);
    for (int i = 0; got_lines[i] || want_lines[i]; i++) {
        if (g_strcmp0(got_lines[i], want_lines[i])) {
            for (int j = MAX(0, i - 8); j < i; j++) {
                g_test_message("    %s", want_lines[j]);
            }
            g_test_message("line %d differs from the kernel's", i + 1);
        }
        g_assert_cmpstr(got_lines[i], ==, want_lines[i]);
    }
}

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

    { S_FULL_CAP, OP_WRITE, -EIO, BLK_ZS_FULL, W_CAP },
    { S_FULL_CAP, OP_APPEND, -EIO, BLK_ZS_FULL, W_CAP },
    { S_FULL_CAP, OP_OPEN, -EIO, BLK_ZS_FULL, W_CAP },
    { S_FULL_CAP, OP_CLOSE, -EIO, BLK_ZS_FULL, W_CAP },
    { S_FULL_CAP, OP_FINISH, OK, BLK_ZS_FULL, W_CAP },
    CELLS_SEQ_COMMON(S_FULL_CAP),

    { S_FULL_LEN, OP_WRITE, -EIO, BLK_ZS_FULL, W_LEN },
    { S_FULL_LEN, OP_APPEND, -EIO, BLK_ZS_FULL, W_LEN },
    { S_FULL_LEN, OP_OPEN, -EIO, BLK_ZS_FULL, W_LEN },
    { S_FULL_LEN, OP_CLOSE, -EIO, BLK_ZS_FULL, W_LEN },
    { S_FULL_LEN, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },
    CELLS_SEQ_COMMON(S_FULL_LEN),

    { S_RDONLY, OP_WRITE, -EIO, BLK_ZS_RDONLY, W_ONES },
    { S_RDONLY, OP_APPEND, -EIO, BLK_ZS_RDONLY, W_ONES },
    { S_RDONLY, OP_OPEN, -EIO, BLK_ZS_RDONLY, W_ONES },
    { S_RDONLY, OP_CLOSE, -EIO, BLK_ZS_RDONLY, W_ONES },
    { S_RDONLY, OP_FINISH, -EIO, BLK_ZS_RDONLY, W_ONES },
    { S_RDONLY, OP_RESET, -EIO, BLK_ZS_RDONLY, W_ONES },
    { S_RDONLY, OP_RESET_ALL, OK, BLK_ZS_RDONLY, W_ONES },

    { S_OFFLINE, OP_WRITE, -EIO, BLK_ZS_OFFLINE, W_ONES },
    { S_OFFLINE, OP_APPEND, -EIO, BLK_ZS_OFFLINE, W_ONES },
    { S_OFFLINE, OP_OPEN, -EIO, BLK_ZS_OFFLINE, W_ONES },
    { S_OFFLINE, OP_CLOSE, -EIO, BLK_ZS_OFFLINE, W_ONES },
    { S_OFFLINE, OP_FINISH, -EIO, BLK_ZS_OFFLINE, W_ONES },
    { S_OFFLINE, OP_RESET, -EIO, BLK_ZS_OFFLINE, W_ONES },
    { S_OFFLINE, OP_RESET_ALL, OK, BLK_ZS_OFFLINE, W_ONES },

    /* The last write up to the capacity makes the zone full. */
    { S_IOPEN_NEAR_CAP, OP_WRITE, OK, BLK_ZS_FULL, W_CAP },
    { S_IOPEN_NEAR_CAP, OP_APPEND, OK, BLK_ZS_FULL, W_CAP },
    { S_IOPEN_NEAR_CAP, OP_OPEN, OK, BLK_ZS_EOPEN, W_SAME },
    { S_IOPEN_NEAR_CAP, OP_CLOSE, OK, BLK_ZS_CLOSED, W_SAME },
    { S_IOPEN_NEAR_CAP, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },
    CELLS_SEQ_COMMON(S_IOPEN_NEAR_CAP),

    { S_EOPEN_NEAR_CAP, OP_WRITE, OK, BLK_ZS_FULL, W_CAP },
    { S_EOPEN_NEAR_CAP, OP_APPEND, OK, BLK_ZS_FULL, W_CAP },
    { S_EOPEN_NEAR_CAP, OP_OPEN, OK, BLK_ZS_EOPEN, W_SAME },
    { S_EOPEN_NEAR_CAP, OP_CLOSE, OK, BLK_ZS_CLOSED, W_SAME },
    { S_EOPEN_NEAR_CAP, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },
    CELLS_SEQ_COMMON(S_EOPEN_NEAR_CAP),

    { S_CLOSED_NEAR_CAP, OP_WRITE, OK, BLK_ZS_FULL, W_CAP },
    { S_CLOSED_NEAR_CAP, OP_APPEND, OK, BLK_ZS_FULL, W_CAP },
    { S_CLOSED_NEAR_CAP, OP_OPEN, OK, BLK_ZS_EOPEN, W_SAME },
    { S_CLOSED_NEAR_CAP, OP_CLOSE, OK, BLK_ZS_CLOSED, W_SAME },
    { S_CLOSED_NEAR_CAP, OP_FINISH, OK, BLK_ZS_FULL, W_LEN },
    CELLS_SEQ_COMMON(S_CLOSED_NEAR_CAP),
};

#define TZ 2                    /* the sequential zone under test */
#define IO (4 * KiB)

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

    g_test_add_func("/zone-model/finish-full-limits",
                    test_finish_full_depends_on_limits);
    g_test_add_func("/zone-model/replay/null-blk", test_replay_null_blk);
    g_test_add_func("/zone-model/table/complete", test_table_complete);
    for (size_t k = 0; k < G_N_ELEMENTS(cells); k++) {
        g_autofree char *path = g_strdup_printf(
            "/zone-model/table/%s/%s", start_names[cells[k].start],
            op_names[cells[k].op]);

        g_test_add_data_func(path, &cells[k], test_table_cell);
    }
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
