/*
 * The zone state machine (block/zone-model.c) against the kernel:
 * tests/vm/probes/null-blk-semantics.txt ran against the kernel's zoned
 * null_blk and its answers are in the .out file next to it; the same
 * steps run here against the model, with a byte per sector standing for
 * the data, and must print the same text.
 *
 * The focused tests of the model are in test-zone-model-table.c (every
 * cell of the transition table) and test-zone-model-ops.c (limits,
 * errnos, geometry, restoring a saved state).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "zone-model-helpers.h"

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

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/zone-model/replay/null-blk", test_replay_null_blk);
    return g_test_run();
}
