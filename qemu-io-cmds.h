/*
 * qemu-io: helpers of qemu-io-cmds.c for the command files next to it,
 * beyond those in qemu-io.h: the options and arguments that the read and
 * write commands share, and the report after a read.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_IO_CMDS_H
#define QEMU_IO_CMDS_H

#include "qemu-io.h"

/* Options that the read and write commands share. */
typedef struct QemuIoOpts {
    bool Cflag;                 /* -C: machine-readable statistics */
    bool qflag;                 /* -q: no statistics */
    bool vflag;                 /* -v: dump what was read */
    bool Pflag;                 /* -P given */
    int pattern;                /* -P: to fill or to verify */
} QemuIoOpts;

/*
 * An option of cmd that is not its own: one of the shared ones (-C, -q,
 * -v, -P, and -p and -r, accepted and ignored) as far as cmd's getopt
 * string has them, else a usage error.  False after a message.
 */
bool qemuio_parse_io_option(const QemuIoCmd *cmd, int c, QemuIoOpts *o);
/* A byte count argument; -1 after qemu-io's message. */
int64_t qemuio_parse_num(const char *arg);
/*
 * The "off len [len..]" arguments of the vectored commands: the offset,
 * and a vector over one buffer filled with pattern.  Returns the buffer
 * (free it with qemuio_free()), or NULL after the usage or a parse error.
 */
char *qemuio_parse_off_vector(const QemuIoCmd *cmd, int argc, char **argv,
                              int pattern, int64_t *offset,
                              QEMUIOVector *qiov);
/* CLOCK_MONOTONIC now, the start for qemuio_print_report(). */
struct timespec qemuio_now(void);
/*
 * After bytes were read at offset into buf: verify the pattern over
 * [pattern_offset, pattern_offset + pattern_count) with -P, then unless
 * -q, dump the data with -v and report.  -EINVAL on a mismatch.
 */
int qemuio_read_done(const QemuIoOpts *o, const struct timespec *start,
                     const char *buf, int64_t offset, int64_t bytes,
                     int64_t pattern_offset, int64_t pattern_count);

/* The asynchronous commands (qemu-io-aio-cmds.c). */
void qemuio_add_aio_commands(void);

#endif /* QEMU_IO_CMDS_H */
