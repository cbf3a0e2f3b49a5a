/*
 * qemu-io's zone commands: zone_report (zrp), zone_open (zo), zone_close
 * (zc), zone_finish (zf), zone_reset (zrs) and zone_append (zap).
 *
 * Names, arguments, output and messages are those of QEMU's qemu-io, so
 * that scripts written for it run unchanged; that includes zap taking
 * three or four arguments and zrp printing values in 512-byte sectors.
 * Additions leave the default output alone: 'zrp -v' appends names and
 * byte values to each zone line.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <getopt.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu-io.h"

/* Zone append writes this byte, as QEMU's qemu-io. */
#define ZAP_PATTERN 0xcd

/* An offset or length argument; prints qemu-io's message if bad. */
static int64_t zone_parse_num(const char *arg)
{
    int64_t v = cvtnum(arg);

    if (v < 0) {
        qemuio_print_cvtnum_err(v, arg);
    }
    return v;
}

/* ---- zone_report ---- */

static void zone_report_help(void)
{
    printf(
"\n"
" reports the zones of a zoned device, starting with the zone that holds\n"
" offset (bytes); number is how many zones at most\n"
"\n"
" Example:\n"
" 'zrp 0 4' - reports the first four zones\n"
"\n"
" Each zone is a line with its start, length, capacity and write pointer\n"
" in 512-byte sectors, its condition (zcond: the kernel's number) and its\n"
" type (1 conventional, 2 sequential write required, 3 preferred).\n"
" -v, -- also print, in parentheses at the end of each line, the\n"
"        condition and the type by name and the four values in bytes:\n"
"        ... [type: 2] (implicit-open, seq-write-required; bytes: start\n"
"        134217728, len 67108864, cap 67108864, wptr 134221824)\n"
"        Conditions: not-wp, empty, implicit-open, explicit-open, closed,\n"
"        read-only, full, offline.  Types: conventional,\n"
"        seq-write-required, seq-write-preferred.\n"
"\n");
}

static int zone_report_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd zone_report_cmd = {
    .name = "zone_report",
    .altname = "zrp",
    .cfunc = zone_report_f,
    /* Counted by zone_report_f: -v must not change QEMU's messages. */
    .argmin = 0,
    .argmax = -1,
    .args = "offset number",
    .oneline = "report zone information",
    .help = zone_report_help,
};

static void zone_print(const BlockZoneDescriptor *z, bool verbose)
{
    /* No write pointer (read-only, offline): all ones, as QEMU prints it. */
    uint64_t wp_sectors = z->wp == UINT64_MAX ? UINT64_MAX
                                               : z->wp >> BDRV_SECTOR_BITS;

    printf("start: 0x%" PRIx64 ", len 0x%" PRIx64 ", cap 0x%" PRIx64
           ", wptr 0x%" PRIx64 ", zcond:%u, [type: %u]",
           z->start >> BDRV_SECTOR_BITS, z->length >> BDRV_SECTOR_BITS,
           z->cap >> BDRV_SECTOR_BITS, wp_sectors,
           (unsigned)z->state, (unsigned)z->type);
    if (verbose) {
        printf(" (%s, %s; bytes: start %" PRIu64 ", len %" PRIu64
               ", cap %" PRIu64 ", wptr %" PRIu64 ")",
               block_zone_state_name(z->state),
               block_zone_type_name(z->type), z->start, z->length, z->cap,
               z->wp);
    }
    printf("\n");
}

static int zone_report_f(BlockBackend *blk, int argc, char **argv)
{
    g_autofree BlockZoneDescriptor *zones = NULL;
    bool verbose;
    int64_t offset, nr;
    unsigned int n;
    BlockLimits bl;
    int ret;

    /*
     * Only a leading -v, not counted; everything else counts as QEMU
     * counts it, for the same message.
     */
    verbose = argc > 1 && !strcmp(argv[1], "-v");
    if (argc - verbose != 3) {
        fprintf(stderr, "bad argument count %d to %s, expected 2 "
                "arguments\n", argc - 1 - verbose, argv[0]);
        return -EINVAL;
    }

    offset = zone_parse_num(argv[1 + verbose]);
    if (offset < 0) {
        return offset;
    }
    nr = zone_parse_num(argv[2 + verbose]);
    if (nr < 0) {
        return nr;
    }
    if (nr > UINT32_MAX) {
        printf("Number of zones must be less than 2^32\n");
        return -ERANGE;
    }

    /* No device has more zones than its geometry says: allocate no more. */
    blk_get_zone_limits(blk, &bl);
    n = MIN((uint64_t)nr, MAX(bl.nr_zones, 1));
    if (nr == 0) {
        n = 0;
    }
    zones = g_new(BlockZoneDescriptor, MAX(n, 1));
    ret = blk_zone_report(blk, offset, &n, zones);
    if (ret < 0) {
        printf("zone report failed: %s\n", strerror(-ret));
        return ret;
    }
    for (unsigned int i = 0; i < n; i++) {
        zone_print(&zones[i], verbose);
    }
    return 0;
}

/* ---- zone_open, zone_close, zone_finish, zone_reset ---- */

/* Which operation each management command is, and its name in messages. */
static int zone_mgmt_run(BlockBackend *blk, char **argv, BlockZoneOp op,
                         const char *what)
{
    int64_t offset, len;
    int ret;

    offset = zone_parse_num(argv[1]);
    if (offset < 0) {
        return offset;
    }
    len = zone_parse_num(argv[2]);
    if (len < 0) {
        return len;
    }
    /*
     * Resetting the whole device is the device's reset-all, which skips
     * conventional zones as the kernel does for such a range.
     */
    if (op == BLK_ZO_RESET && offset == 0 && len == blk_getlength(blk)) {
        op = BLK_ZO_RESET_ALL;
    }
    ret = blk_zone_mgmt(blk, op, offset, len);
    if (ret < 0) {
        printf("zone %s failed: %s\n", what, strerror(-ret));
    }
    return ret;
}

static int zone_open_f(BlockBackend *blk, int argc, char **argv)
{
    return zone_mgmt_run(blk, argv, BLK_ZO_OPEN, "open");
}

static int zone_close_f(BlockBackend *blk, int argc, char **argv)
{
    return zone_mgmt_run(blk, argv, BLK_ZO_CLOSE, "close");
}

static int zone_finish_f(BlockBackend *blk, int argc, char **argv)
{
    return zone_mgmt_run(blk, argv, BLK_ZO_FINISH, "finish");
}

static int zone_reset_f(BlockBackend *blk, int argc, char **argv)
{
    return zone_mgmt_run(blk, argv, BLK_ZO_RESET, "reset");
}

static const QemuIoCmd zone_open_cmd = {
    .name = "zone_open",
    .altname = "zo",
    .cfunc = zone_open_f,
    .argmin = 2,
    .argmax = 2,
    .args = "offset len",
    .oneline = "explicit open a range of zones in zone block device",
};

static const QemuIoCmd zone_close_cmd = {
    .name = "zone_close",
    .altname = "zc",
    .cfunc = zone_close_f,
    .argmin = 2,
    .argmax = 2,
    .args = "offset len",
    .oneline = "close a range of zones in zone block device",
};

static const QemuIoCmd zone_finish_cmd = {
    .name = "zone_finish",
    .altname = "zf",
    .cfunc = zone_finish_f,
    .argmin = 2,
    .argmax = 2,
    .args = "offset len",
    .oneline = "finish a range of zones in zone block device",
};

static const QemuIoCmd zone_reset_cmd = {
    .name = "zone_reset",
    .altname = "zrs",
    .cfunc = zone_reset_f,
    .argmin = 2,
    .argmax = 2,
    .args = "offset len",
    .oneline = "reset a zone write pointer in zone block device",
};

/* ---- zone_append ---- */

static int zone_append_f(BlockBackend *blk, int argc, char **argv)
{
    QEMUIOVector qiov;
    bool pflag = false;
    int64_t offset;
    void *buf;
    int ret;

    /*
     * One getopt() call, as QEMU: a leading -p is the option and what
     * follows is offset and lengths, whatever it looks like.
     */
    if (getopt(argc, argv, "p") == 'p') {
        pflag = true;
    }
    /* 'zap OFF LEN -p': glibc's getopt has not moved the -p yet. */
    if (optind >= argc) {
        qemuio_print_cvtnum_err(-EINVAL, "(null)");
        return -EINVAL;
    }
    offset = zone_parse_num(argv[optind]);
    if (offset < 0) {
        return offset;
    }
    optind++;
    buf = qemuio_create_iovec(&qiov, &argv[optind], argc - optind,
                              ZAP_PATTERN);
    if (!buf) {
        return -EINVAL;
    }

    ret = blk_zone_append(blk, &offset, &qiov, qemuio_write_flags(0));
    if (ret < 0) {
        printf("zone append failed: %s\n", strerror(-ret));
    } else if (pflag) {
        printf("After zap done, the append sector is 0x%" PRIx64 "\n",
               (uint64_t)offset >> BDRV_SECTOR_BITS);
    }
    qemu_iovec_destroy(&qiov);
    qemuio_free(buf);
    return ret;
}

static const QemuIoCmd zone_append_cmd = {
    .name = "zone_append",
    .altname = "zap",
    .cfunc = zone_append_f,
    /* QEMU's counts: 'zap OFF LEN' alone is refused there too. */
    .argmin = 3,
    .argmax = 4,
    .args = "offset len [len..]",
    .oneline = "append write a number of bytes at a specified offset",
};

static const QemuIoCmd *const zone_cmds[] = {
    &zone_append_cmd, &zone_close_cmd, &zone_finish_cmd, &zone_open_cmd,
    &zone_report_cmd, &zone_reset_cmd,
};

void qemuio_add_zone_commands(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(zone_cmds); i++) {
        qemuio_add_command(zone_cmds[i]);
    }
}
