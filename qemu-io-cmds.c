/*
 * qemu-io commands that work on the open image (read/write families,
 * discard, flush, truncate, map, alloc, info, length), their table, and
 * the helpers they share with the other command files (qemu-io.h,
 * qemu-io-cmds.h).  The asynchronous commands are in qemu-io-aio-cmds.c,
 * the zone commands in qemu-io-zone-cmds.c.  The command registry and
 * dispatcher, and the commands about the tool itself (open, close, quit,
 * help, sleep, ...), live in qemu-io.c.
 *
 * Output and messages follow QEMU's qemu-io byte for byte (apart from the
 * timing figures), because users and scripts compare them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <ctype.h>
#include <getopt.h>
#include <time.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu-io.h"
#include "qemu-io-cmds.h"

/* Offset added to buffers with -m, to exercise unaligned I/O. */
#define MISALIGN_OFFSET 16

bool qemuio_misalign;
static bool qemuio_writethrough;

/* ---- shared helpers ---- */

void qemuio_set_writethrough(bool on)
{
    qemuio_writethrough = on;
}

/* Flags of a write: with the write cache off every write is FUA. */
BdrvRequestFlags qemuio_write_flags(BdrvRequestFlags flags)
{
    return qemuio_writethrough ? flags | BDRV_REQ_FUA : flags;
}

void qemuio_print_cvtnum_err(int64_t rc, const char *arg)
{
    switch (rc) {
    case -EINVAL:
        printf("Parsing error: non-numeric argument, or extraneous/"
               "unrecognized suffix -- %s\n", arg);
        break;
    case -ERANGE:
        printf("Parsing error: argument too large -- %s\n", arg);
        break;
    default:
        printf("Parsing error: %s\n", arg);
        break;
    }
}

int qemuio_parse_pattern(const char *arg)
{
    char *end;
    long pattern;

    errno = 0;
    pattern = strtol(arg, &end, 0);
    if (errno || end == arg || *end || pattern < 0 || pattern > UCHAR_MAX) {
        printf("%s is not a valid pattern byte\n", arg);
        return -1;
    }
    return pattern;
}

/* Page-aligned (good for O_DIRECT) unless -m asked for misalignment. */
static void *qemuio_alloc(size_t len, int pattern)
{
    size_t extra = qemuio_misalign ? MISALIGN_OFFSET : 0;
    char *buf = qemu_memalign(0, MAX(len + extra, 1));

    memset(buf, pattern, len + extra);
    return buf + extra;
}

void qemuio_free(void *buf)
{
    if (buf) {
        qemu_vfree((char *)buf - (qemuio_misalign ? MISALIGN_OFFSET : 0));
    }
}

/*
 * A buffer of len bytes repeating the content of file_name (write -s).
 * Messages go to stderr as perror() would print them.
 */
static void *qemuio_alloc_from_file(size_t len, const char *file_name)
{
    FILE *f = fopen(file_name, "r");
    char *buf;
    size_t n;

    if (!f) {
        perror(file_name);
        return NULL;
    }
    buf = qemuio_alloc(len, 0);
    n = fread(buf, 1, len, f);
    if (ferror(f)) {
        perror(file_name);
        goto fail;
    }
    if (n == 0) {
        fprintf(stderr, "%s: file is empty\n", file_name);
        goto fail;
    }
    fclose(f);

    for (size_t pos = n; pos < len; pos += n) {
        memcpy(buf + pos, buf, MIN(n, len - pos));
    }
    return buf;

fail:
    fclose(f);
    qemuio_free(buf);
    return NULL;
}

void qemuio_dump_buffer(const void *buffer, int64_t offset, int64_t len)
{
    const uint8_t *p = buffer;

    for (int64_t i = 0; i < len; i += 16) {
        int n = MIN(16, len - i);

        printf("%08" PRIx64 ":  ", (uint64_t)(offset + i));
        for (int j = 0; j < n; j++) {
            printf("%02x ", p[i + j]);
        }
        printf(" ");
        for (int j = 0; j < n; j++) {
            printf("%c", isalnum(p[i + j]) ? p[i + j] : '.');
        }
        printf("\n");
    }
}

struct timespec qemuio_now(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return t;
}

static double elapsed_sec(const struct timespec *start)
{
    struct timespec end = qemuio_now();

    return (double)(end.tv_sec - start->tv_sec) +
           (double)(end.tv_nsec - start->tv_nsec) / 1e9;
}

/* "00.00 sec" under a second, else "H:MM:SS.ss" (always with -C). */
static void format_time(double sec, bool fixed, char *buf, size_t size)
{
    uint64_t whole = (uint64_t)sec;
    double frac = sec - (double)whole;

    if (fixed || whole) {
        snprintf(buf, size, "%u:%02u:%05.2f", (unsigned)(whole / 3600),
                 (unsigned)(whole % 3600 / 60), (double)(whole % 60) + frac);
    } else {
        snprintf(buf, size, "%05.2f sec", frac);
    }
}

/*
 * A rate in qemu-io's units.  size_to_str() takes whole bytes; a rate has
 * a fraction, which qemu-io prints as "%f bytes" below 1 KiB.
 */
static char *rate_to_str(double value)
{
    static const char *const units[] = {
        "KiB", "MiB", "GiB", "TiB", "PiB", "EiB",
    };
    char num[64];
    const char *unit = "bytes";
    char *dot;

    for (int i = ARRAY_SIZE(units) - 1; i >= 0; i--) {
        double scale = (double)(1ULL << (10 * (i + 1)));

        if (value >= scale) {
            snprintf(num, sizeof(num), "%.3f", value / scale);
            unit = units[i];
            break;
        }
    }
    if (!strcmp(unit, "bytes")) {
        snprintf(num, sizeof(num), "%f", value);
    }
    dot = strstr(num, ".000");
    if (dot) {
        *dot = '\0';
    }
    return g_strdup_printf("%s %s", num, unit);
}

void qemuio_print_report(const char *op, const struct timespec *start,
                         int64_t offset, int64_t count, int64_t total,
                         int cnt, bool Cflag)
{
    double sec = elapsed_sec(start);
    char ts[64];

    format_time(sec, Cflag, ts, sizeof(ts));
    if (Cflag) {
        /* bytes,ops,time,bytes/sec,ops/sec */
        printf("%" PRId64 ",%d,%s,%.3f,%.3f\n", total, cnt, ts,
               (double)total / sec, (double)cnt / sec);
    } else {
        g_autofree char *size = size_to_str(total);
        g_autofree char *rate = rate_to_str((double)total / sec);

        printf("%s %" PRId64 "/%" PRId64 " bytes at offset %" PRId64 "\n",
               op, total, count, offset);
        printf("%s, %d ops; %s (%s/sec and %.4f ops/sec)\n",
               size, cnt, ts, rate, (double)cnt / sec);
    }
}

int64_t qemuio_parse_num(const char *arg)
{
    int64_t v = cvtnum(arg);

    if (v < 0) {
        qemuio_print_cvtnum_err(v, arg);
        return -1;
    }
    return v;
}

/* Length argument of read/discard: at most one block-layer request. */
static int64_t parse_len(const char *arg, const char *suffix)
{
    int64_t v = qemuio_parse_num(arg);

    if (v > (int64_t)BDRV_REQUEST_MAX_BYTES) {
        printf("length cannot exceed %" PRIu64 "%s, given %s\n",
               (uint64_t)BDRV_REQUEST_MAX_BYTES, suffix, arg);
        return -1;
    }
    return v;
}

static bool check_sector_aligned(int64_t offset, int64_t count)
{
    if (!QEMU_IS_ALIGNED(offset, BDRV_SECTOR_SIZE)) {
        printf("%" PRId64 " is not a sector-aligned value for 'offset'\n",
               offset);
        return false;
    }
    if (!QEMU_IS_ALIGNED(count, BDRV_SECTOR_SIZE)) {
        printf("%" PRId64 " is not a sector-aligned value for 'count'\n",
               count);
        return false;
    }
    return true;
}

/* Compare [buf, buf+len) with the pattern byte. */
static bool pattern_matches(const uint8_t *buf, int64_t len, int pattern)
{
    for (int64_t i = 0; i < len; i++) {
        if (buf[i] != pattern) {
            return false;
        }
    }
    return true;
}

/*
 * One vector over a single buffer, with the sizes given as arguments
 * (readv/writev/aio_*).  Returns the buffer or NULL after a message.
 */
void *qemuio_create_iovec(QEMUIOVector *qiov, char **args, int nr,
                          int pattern)
{
    g_autofree size_t *sizes = g_new0(size_t, nr);
    uint64_t total = 0;
    char *buf, *p;

    for (int i = 0; i < nr; i++) {
        int64_t len = cvtnum(args[i]);

        if (len < 0) {
            qemuio_print_cvtnum_err(len, args[i]);
            return NULL;
        }
        if (len > (int64_t)BDRV_REQUEST_MAX_BYTES) {
            printf("Argument '%s' exceeds maximum size %" PRIu64 "\n",
                   args[i], (uint64_t)BDRV_REQUEST_MAX_BYTES);
            return NULL;
        }
        if (total > BDRV_REQUEST_MAX_BYTES - len) {
            printf("The total number of bytes exceed the maximum size %"
                   PRIu64 "\n", (uint64_t)BDRV_REQUEST_MAX_BYTES);
            return NULL;
        }
        sizes[i] = len;
        total += len;
    }

    qemu_iovec_init(qiov, nr);
    buf = p = qemuio_alloc(total, pattern);
    for (int i = 0; i < nr; i++) {
        qemu_iovec_add(qiov, p, sizes[i]);
        p += sizes[i];
    }
    return buf;
}

bool qemuio_parse_io_option(const QemuIoCmd *cmd, int c, QemuIoOpts *o)
{
    switch (c) {
    case 'C':
        o->Cflag = true;
        return true;
    case 'q':
        o->qflag = true;
        return true;
    case 'v':
        o->vflag = true;
        return true;
    case 'P':
        o->Pflag = true;
        o->pattern = qemuio_parse_pattern(optarg);
        return o->pattern >= 0;
    case 'p':
    case 'r':
        /* -p: obsolete; -r: buffers need no registration here */
        return true;
    default:
        qemuio_command_usage(cmd);
        return false;
    }
}

/*
 * The "off len" arguments after the options (read, discard).  False after
 * the usage or a parse error.
 */
static bool parse_off_len(const QemuIoCmd *cmd, int argc, char **argv,
                          int64_t *offset, int64_t *bytes)
{
    if (optind != argc - 2) {
        qemuio_command_usage(cmd);
        return false;
    }
    *offset = qemuio_parse_num(argv[optind]);
    if (*offset < 0) {
        return false;
    }
    *bytes = parse_len(argv[optind + 1], "");
    return *bytes >= 0;
}

char *qemuio_parse_off_vector(const QemuIoCmd *cmd, int argc, char **argv,
                              int pattern, int64_t *offset,
                              QEMUIOVector *qiov)
{
    if (optind > argc - 2) {
        qemuio_command_usage(cmd);
        return NULL;
    }
    *offset = qemuio_parse_num(argv[optind]);
    if (*offset < 0) {
        return NULL;
    }
    optind++;
    return qemuio_create_iovec(qiov, &argv[optind], argc - optind, pattern);
}

int qemuio_read_done(const QemuIoOpts *o, const struct timespec *start,
                     const char *buf, int64_t offset, int64_t bytes,
                     int64_t pattern_offset, int64_t pattern_count)
{
    int ret = 0;

    if (o->Pflag && !pattern_matches((const uint8_t *)buf + pattern_offset,
                                     pattern_count, o->pattern)) {
        printf("Pattern verification failed at offset %" PRId64 ", %"
               PRId64 " bytes\n", offset + pattern_offset, pattern_count);
        ret = -EINVAL;
    }
    if (!o->qflag) {
        if (o->vflag) {
            qemuio_dump_buffer(buf, offset, bytes);
        }
        qemuio_print_report("read", start, offset, bytes, bytes, 1,
                            o->Cflag);
    }
    return ret;
}

/* ---- read ---- */

static void read_help(void)
{
    printf(
"\n"
" reads a range of bytes from the given offset\n"
"\n"
" Example:\n"
" 'read -v 512 1k' - dumps 1 kilobyte read from 512 bytes into the file\n"
"\n"
" Reads a segment of the currently open file, optionally dumping it to the\n"
" standard output stream (with -v option) for subsequent inspection.\n"
" -b, -- read from the VM state rather than the virtual disk\n"
" -C, -- report statistics in a machine parsable format\n"
" -l, -- length for pattern verification (only with -P)\n"
" -p, -- ignored for backwards compatibility\n"
" -P, -- use a pattern to verify read data\n"
" -q, -- quiet mode, do not show I/O statistics\n"
" -r, -- register I/O buffer\n"
" -s, -- start offset for pattern verification (only with -P)\n"
" -v, -- dump buffer to standard output\n"
"\n");
}

static int read_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd read_cmd = {
    .name = "read",
    .altname = "r",
    .cfunc = read_f,
    .argmin = 2,
    .argmax = -1,
    .args = "[-abCqrv] [-P pattern [-s off] [-l len]] off len",
    .oneline = "reads a number of bytes at a specified offset",
    .help = read_help,
};

static int read_f(BlockBackend *blk, int argc, char **argv)
{
    QemuIoOpts o = { 0 };
    bool sflag = false, lflag = false, bflag = false;
    int64_t pattern_offset = 0, pattern_count = 0;
    int64_t offset, count;
    struct timespec t1;
    char *buf;
    int c, ret;

    while ((c = getopt(argc, argv, "bCl:pP:qrs:v")) != -1) {
        switch (c) {
        case 'b':
            bflag = true;
            break;
        case 'l':
            lflag = true;
            pattern_count = cvtnum(optarg);
            if (pattern_count < 0) {
                qemuio_print_cvtnum_err(pattern_count, optarg);
                return pattern_count;
            }
            break;
        case 's':
            sflag = true;
            pattern_offset = cvtnum(optarg);
            if (pattern_offset < 0) {
                qemuio_print_cvtnum_err(pattern_offset, optarg);
                return pattern_offset;
            }
            break;
        default:
            if (!qemuio_parse_io_option(&read_cmd, c, &o)) {
                return -EINVAL;
            }
        }
    }

    if (!parse_off_len(&read_cmd, argc, argv, &offset, &count)) {
        return -EINVAL;
    }
    if (!o.Pflag && (lflag || sflag)) {
        qemuio_command_usage(&read_cmd);
        return -EINVAL;
    }
    if (!lflag) {
        pattern_count = count - pattern_offset;
    }
    if (pattern_count < 0 || pattern_count + pattern_offset > count) {
        printf("pattern verification range exceeds end of read data\n");
        return -EINVAL;
    }
    if (bflag && !check_sector_aligned(offset, count)) {
        return -EINVAL;
    }

    buf = qemuio_alloc(count, 0xab);
    t1 = qemuio_now();
    if (bflag) {
        /* No format here keeps a VM state area. */
        ret = -ENOTSUP;
    } else {
        ret = blk_pread(blk, offset, count, buf, 0);
    }
    if (ret < 0) {
        printf("read failed: %s\n", strerror(-ret));
    } else {
        ret = qemuio_read_done(&o, &t1, buf, offset, count,
                               pattern_offset, pattern_count);
    }
    qemuio_free(buf);
    return ret;
}

/* ---- readv ---- */

static void readv_help(void)
{
    printf(
"\n"
" reads a range of bytes from the given offset into multiple buffers\n"
"\n"
" Example:\n"
" 'readv -v 512 1k 1k ' - dumps 2 kilobytes read from 512 bytes into the file\n"
"\n"
" Reads a segment of the currently open file, optionally dumping it to the\n"
" standard output stream (with -v option) for subsequent inspection.\n"
" Uses multiple iovec buffers if more than one byte range is specified.\n"
" -C, -- report statistics in a machine parsable format\n"
" -P, -- use a pattern to verify read data\n"
" -q, -- quiet mode, do not show I/O statistics\n"
" -r, -- register I/O buffer\n"
" -v, -- dump buffer to standard output\n"
"\n");
}

static int readv_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd readv_cmd = {
    .name = "readv",
    .cfunc = readv_f,
    .argmin = 2,
    .argmax = -1,
    .args = "[-Cqrv] [-P pattern] off len [len..]",
    .oneline = "reads a number of bytes at a specified offset",
    .help = readv_help,
};

static int readv_f(BlockBackend *blk, int argc, char **argv)
{
    QemuIoOpts o = { 0 };
    QEMUIOVector qiov;
    struct timespec t1;
    int64_t offset;
    char *buf;
    int c, ret;

    while ((c = getopt(argc, argv, "CP:qrv")) != -1) {
        if (!qemuio_parse_io_option(&readv_cmd, c, &o)) {
            return -EINVAL;
        }
    }

    buf = qemuio_parse_off_vector(&readv_cmd, argc, argv, 0xab, &offset,
                                  &qiov);
    if (!buf) {
        return -EINVAL;
    }

    t1 = qemuio_now();
    ret = blk_preadv(blk, offset, qiov.size, &qiov, 0);
    if (ret < 0) {
        printf("readv failed: %s\n", strerror(-ret));
    } else {
        ret = qemuio_read_done(&o, &t1, buf, offset, qiov.size, 0, qiov.size);
    }
    qemu_iovec_destroy(&qiov);
    qemuio_free(buf);
    return ret;
}

/* ---- write ---- */

static void write_help(void)
{
    printf(
"\n"
" writes a range of bytes from the given offset\n"
"\n"
" Example:\n"
" 'write 512 1k' - writes 1 kilobyte at 512 bytes into the open file\n"
"\n"
" Writes into a segment of the currently open file, using a buffer\n"
" filled with a set pattern (0xcdcdcdcd).\n"
" -b, -- write to the VM state rather than the virtual disk\n"
" -c, -- write compressed data with blk_write_compressed\n"
" -C, -- report statistics in a machine parsable format\n"
" -f, -- use Force Unit Access semantics\n"
" -n, -- with -z, don't allow slow fallback\n"
" -p, -- ignored for backwards compatibility\n"
" -P, -- use different pattern to fill file\n"
" -q, -- quiet mode, do not show I/O statistics\n"
" -r, -- register I/O buffer\n"
" -s, -- use a pattern file to fill the write buffer\n"
" -u, -- with -z, allow unmapping\n"
" -z, -- write zeroes using blk_pwrite_zeroes\n"
"\n");
}

static int write_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd write_cmd = {
    .name = "write",
    .altname = "w",
    .cfunc = write_f,
    .argmin = 2,
    .argmax = -1,
    .flags = QEMUIO_CMD_WRITE,
    .args = "[-bcCfnqruz] [-P pattern | -s source_file] off len",
    .oneline = "writes a number of bytes at a specified offset",
    .help = write_help,
};

static int write_f(BlockBackend *blk, int argc, char **argv)
{
    QemuIoOpts o = { .pattern = 0xcd };
    bool bflag = false, cflag = false, zflag = false, sflag = false;
    BdrvRequestFlags flags = 0;
    const char *file_name = NULL;
    int64_t offset, count;
    struct timespec t1;
    char *buf = NULL;
    int c, ret;

    while ((c = getopt(argc, argv, "bcCfnpP:qrs:uz")) != -1) {
        switch (c) {
        case 'b':
            bflag = true;
            break;
        case 'c':
            cflag = true;
            break;
        case 'f':
            flags |= BDRV_REQ_FUA;
            break;
        case 'n':
            flags |= BDRV_REQ_NO_FALLBACK;
            break;
        case 's':
            sflag = true;
            file_name = optarg;
            break;
        case 'u':
            flags |= BDRV_REQ_MAY_UNMAP;
            break;
        case 'z':
            zflag = true;
            break;
        default:
            if (!qemuio_parse_io_option(&write_cmd, c, &o)) {
                return -EINVAL;
            }
        }
    }

    if (optind != argc - 2) {
        qemuio_command_usage(&write_cmd);
        return -EINVAL;
    }
    if (bflag && zflag) {
        printf("-b and -z cannot be specified at the same time\n");
        return -EINVAL;
    }
    if ((flags & BDRV_REQ_FUA) && (bflag || cflag)) {
        printf("-f and -b or -c cannot be specified at the same time\n");
        return -EINVAL;
    }
    if ((flags & BDRV_REQ_NO_FALLBACK) && !zflag) {
        printf("-n requires -z to be specified\n");
        return -EINVAL;
    }
    if ((flags & BDRV_REQ_MAY_UNMAP) && !zflag) {
        printf("-u requires -z to be specified\n");
        return -EINVAL;
    }
    if (zflag + o.Pflag + sflag > 1) {
        printf("Only one of -z, -P, and -s can be specified at the same "
               "time\n");
        return -EINVAL;
    }

    offset = qemuio_parse_num(argv[optind]);
    if (offset < 0) {
        return -EINVAL;
    }
    /* Zeroes with -n need no buffer, so they may exceed one request. */
    if (flags & BDRV_REQ_NO_FALLBACK) {
        count = qemuio_parse_num(argv[optind + 1]);
    } else {
        count = parse_len(argv[optind + 1], " without -n");
    }
    if (count < 0) {
        return -EINVAL;
    }
    if ((bflag || cflag) && !check_sector_aligned(offset, count)) {
        return -EINVAL;
    }

    if (!zflag) {
        buf = sflag ? qemuio_alloc_from_file(count, file_name)
                    : qemuio_alloc(count, o.pattern);
        if (!buf) {
            return -EINVAL;
        }
    }

    t1 = qemuio_now();
    if (bflag || cflag) {
        /* Neither VM state nor compression exists in these formats. */
        ret = -ENOTSUP;
    } else if (zflag) {
        ret = blk_pwrite_zeroes(blk, offset, count, qemuio_write_flags(flags));
    } else {
        ret = blk_pwrite(blk, offset, count, buf, qemuio_write_flags(flags));
    }
    if (ret < 0) {
        printf("write failed: %s\n", strerror(-ret));
        goto out;
    }
    ret = 0;

    if (!o.qflag) {
        qemuio_print_report("wrote", &t1, offset, count, count, 1, o.Cflag);
    }

out:
    qemuio_free(buf);
    return ret;
}

/* ---- writev ---- */

static void writev_help(void)
{
    printf(
"\n"
" writes a range of bytes from the given offset source from multiple buffers\n"
"\n"
" Example:\n"
" 'writev 512 1k 1k' - writes 2 kilobytes at 512 bytes into the open file\n"
"\n"
" Writes into a segment of the currently open file, using a buffer\n"
" filled with a set pattern (0xcdcdcdcd).\n"
" -C, -- report statistics in a machine parsable format\n"
" -f, -- use Force Unit Access semantics\n"
" -P, -- use different pattern to fill file\n"
" -q, -- quiet mode, do not show I/O statistics\n"
" -r, -- register I/O buffer\n"
"\n");
}

static int writev_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd writev_cmd = {
    .name = "writev",
    .cfunc = writev_f,
    .argmin = 2,
    .argmax = -1,
    .flags = QEMUIO_CMD_WRITE,
    .args = "[-Cfqr] [-P pattern] off len [len..]",
    .oneline = "writes a number of bytes at a specified offset",
    .help = writev_help,
};

static int writev_f(BlockBackend *blk, int argc, char **argv)
{
    QemuIoOpts o = { .pattern = 0xcd };
    BdrvRequestFlags flags = 0;
    QEMUIOVector qiov;
    struct timespec t1;
    int64_t offset;
    char *buf;
    int c, ret;

    while ((c = getopt(argc, argv, "CfqrP:")) != -1) {
        switch (c) {
        case 'f':
            flags |= BDRV_REQ_FUA;
            break;
        default:
            if (!qemuio_parse_io_option(&writev_cmd, c, &o)) {
                return -EINVAL;
            }
        }
    }

    buf = qemuio_parse_off_vector(&writev_cmd, argc, argv, o.pattern,
                                  &offset, &qiov);
    if (!buf) {
        return -EINVAL;
    }

    t1 = qemuio_now();
    ret = blk_pwritev(blk, offset, qiov.size, &qiov, qemuio_write_flags(flags));
    if (ret < 0) {
        printf("writev failed: %s\n", strerror(-ret));
        goto out;
    }
    ret = 0;

    if (!o.qflag) {
        qemuio_print_report("wrote", &t1, offset, qiov.size, qiov.size, 1,
                            o.Cflag);
    }

out:
    qemu_iovec_destroy(&qiov);
    qemuio_free(buf);
    return ret;
}

/* ---- flush, discard, truncate ---- */

static int flush_f(BlockBackend *blk, int argc, char **argv)
{
    return blk_flush(blk);
}

static const QemuIoCmd flush_cmd = {
    .name = "flush",
    .altname = "f",
    .cfunc = flush_f,
    .oneline = "flush all in-core file state to disk",
};

static void discard_help(void)
{
    printf(
"\n"
" discards a range of bytes from the given offset\n"
"\n"
" Example:\n"
" 'discard 512 1k' - discards 1 kilobyte from 512 bytes into the file\n"
"\n"
" Discards a segment of the currently open file.\n"
" -C, -- report statistics in a machine parsable format\n"
" -q, -- quiet mode, do not show I/O statistics\n"
"\n");
}

static int discard_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd discard_cmd = {
    .name = "discard",
    .altname = "d",
    .cfunc = discard_f,
    .argmin = 2,
    .argmax = -1,
    .flags = QEMUIO_CMD_WRITE,
    .args = "[-Cq] off len",
    .oneline = "discards a number of bytes at a specified offset",
    .help = discard_help,
};

static int discard_f(BlockBackend *blk, int argc, char **argv)
{
    QemuIoOpts o = { 0 };
    int64_t offset, bytes;
    struct timespec t1;
    int c, ret;

    while ((c = getopt(argc, argv, "Cq")) != -1) {
        if (!qemuio_parse_io_option(&discard_cmd, c, &o)) {
            return -EINVAL;
        }
    }

    if (!parse_off_len(&discard_cmd, argc, argv, &offset, &bytes)) {
        return -EINVAL;
    }

    t1 = qemuio_now();
    ret = blk_pdiscard(blk, offset, bytes);
    if (ret < 0) {
        printf("discard failed: %s\n", strerror(-ret));
        return ret;
    }
    if (!o.qflag) {
        qemuio_print_report("discard", &t1, offset, bytes, bytes, 1,
                            o.Cflag);
    }
    return 0;
}

static int truncate_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd truncate_cmd = {
    .name = "truncate",
    .altname = "t",
    .cfunc = truncate_f,
    .argmin = 1,
    .argmax = 3,
    .flags = QEMUIO_CMD_WRITE,
    .args = "[-m prealloc_mode] off",
    .oneline = "truncates the current file at the given offset",
};

static int truncate_f(BlockBackend *blk, int argc, char **argv)
{
    PreallocMode prealloc = PREALLOC_MODE_OFF;
    Error *err = NULL;
    int64_t offset;
    int c, ret;

    while ((c = getopt(argc, argv, "m:")) != -1) {
        switch (c) {
        case 'm':
            if (!strcmp(optarg, "off")) {
                prealloc = PREALLOC_MODE_OFF;
            } else if (!strcmp(optarg, "full")) {
                prealloc = PREALLOC_MODE_FULL;
            } else if (!strcmp(optarg, "metadata") ||
                       !strcmp(optarg, "falloc")) {
                error_report("Preallocation mode '%s' is not supported "
                             "(use off or full)", optarg);
                return -ENOTSUP;
            } else {
                error_report("Invalid preallocation mode '%s'", optarg);
                return -EINVAL;
            }
            break;
        default:
            qemuio_command_usage(&truncate_cmd);
            return -EINVAL;
        }
    }

    if (optind != argc - 1) {
        qemuio_command_usage(&truncate_cmd);
        return -EINVAL;
    }
    offset = qemuio_parse_num(argv[optind]);
    if (offset < 0) {
        return -EINVAL;
    }

    ret = blk_truncate(blk, offset, false, prealloc, 0, &err);
    if (ret < 0) {
        error_report_err(err);
        return ret;
    }
    return 0;
}

/* ---- length, info, map, alloc ---- */

static int length_f(BlockBackend *blk, int argc, char **argv)
{
    int64_t size = blk_getlength(blk);
    g_autofree char *str = NULL;

    if (size < 0) {
        printf("getlength: %s\n", strerror(-size));
        return size;
    }
    str = size_to_str(size);
    printf("%s\n", str);
    return 0;
}

static const QemuIoCmd length_cmd = {
    .name = "length",
    .altname = "l",
    .cfunc = length_f,
    .oneline = "gets the length of the current file",
};

static int info_f(BlockBackend *blk, int argc, char **argv)
{
    BlockDriverState *bs = blk_bs(blk);
    BlockDriverInfo bdi = { 0 };
    g_autofree char *cluster = NULL;
    g_autofree char *vmstate = NULL;
    int ret;

    printf("format name: %s\n", bdrv_get_format_name(bs));

    ret = bdrv_get_info(bs, &bdi);
    if (ret == -ENOTSUP) {
        /* Nothing to tell is not an error: QEMU prints zeroes for raw. */
        memset(&bdi, 0, sizeof(bdi));
    } else if (ret < 0) {
        return ret;
    }
    cluster = size_to_str(bdi.cluster_size);
    vmstate = size_to_str(bdi.vm_state_offset);
    printf("cluster size: %s\n", cluster);
    printf("vm state offset: %s\n", vmstate);
    return 0;
}

static const QemuIoCmd info_cmd = {
    .name = "info",
    .altname = "i",
    .cfunc = info_f,
    .oneline = "prints information about the current file",
};

/*
 * Allocation status of [offset, offset + bytes): the first run's status,
 * with *pnum extended over following runs of the same status.
 */
static int map_run(BlockDriverState *bs, int64_t offset, int64_t bytes,
                   int64_t *pnum)
{
    int64_t num;
    int first, ret;

    first = bdrv_is_allocated(bs, offset, bytes, &num);
    if (first < 0) {
        return first;
    }
    *pnum = num;
    while (num > 0 && bytes > num) {
        offset += num;
        bytes -= num;
        ret = bdrv_is_allocated(bs, offset, bytes, &num);
        if (ret != first || num == 0) {
            break;
        }
        *pnum += num;
    }
    return first;
}

static int map_f(BlockBackend *blk, int argc, char **argv)
{
    int64_t offset = 0, bytes, num;
    int ret;

    bytes = blk_getlength(blk);
    if (bytes < 0) {
        error_report("Failed to query image length: %s", strerror(-bytes));
        return bytes;
    }

    while (bytes) {
        g_autofree char *len_str = NULL;
        g_autofree char *off_str = NULL;

        ret = map_run(blk_bs(blk), offset, bytes, &num);
        if (ret < 0) {
            error_report("Failed to get allocation status: %s",
                         strerror(-ret));
            return ret;
        } else if (!num) {
            error_report("Unexpected end of image");
            return -EIO;
        }

        len_str = size_to_str(num);
        off_str = size_to_str(offset);
        printf("%s (0x%" PRIx64 ") bytes %s at offset %s (0x%" PRIx64 ")\n",
               len_str, (uint64_t)num, ret ? "    allocated" : "not allocated",
               off_str, (uint64_t)offset);
        offset += num;
        bytes -= num;
    }
    return 0;
}

static const QemuIoCmd map_cmd = {
    .name = "map",
    .cfunc = map_f,
    .args = "",
    .oneline = "prints the allocated areas of a file",
};

static int alloc_f(BlockBackend *blk, int argc, char **argv)
{
    int64_t start, offset, count, remaining, num, sum_alloc = 0;
    g_autofree char *start_str = NULL;
    int ret;

    start = offset = qemuio_parse_num(argv[1]);
    if (offset < 0) {
        return -EINVAL;
    }
    if (argc == 3) {
        count = qemuio_parse_num(argv[2]);
        if (count < 0) {
            return -EINVAL;
        }
    } else {
        count = BDRV_SECTOR_SIZE;
    }

    remaining = count;
    while (remaining) {
        ret = bdrv_is_allocated(blk_bs(blk), offset, remaining, &num);
        if (ret < 0) {
            printf("is_allocated failed: %s\n", strerror(-ret));
            return ret;
        }
        if (num == 0) {
            /* End of image: report only the part that exists. */
            count -= remaining;
            break;
        }
        offset += num;
        remaining -= num;
        if (ret) {
            sum_alloc += num;
        }
    }

    start_str = size_to_str(start);
    printf("%" PRId64 "/%" PRId64 " bytes allocated at offset %s\n",
           sum_alloc, count, start_str);
    return 0;
}

static const QemuIoCmd alloc_cmd = {
    .name = "alloc",
    .altname = "a",
    .cfunc = alloc_f,
    .argmin = 1,
    .argmax = 2,
    .args = "offset [count]",
    .oneline = "checks if offset is allocated in the file",
};

/* ---- the table of image commands (extend here) ---- */

static const QemuIoCmd *const builtin_cmds[] = {
    &alloc_cmd, &discard_cmd, &flush_cmd, &info_cmd, &length_cmd, &map_cmd,
    &read_cmd, &readv_cmd, &truncate_cmd, &write_cmd, &writev_cmd,
};

void qemuio_add_builtin_commands(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(builtin_cmds); i++) {
        qemuio_add_command(builtin_cmds[i]);
    }
    qemuio_add_aio_commands();
    qemuio_add_zone_commands();
}
