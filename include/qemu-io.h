/*
 * qemu-io: the command table shared by the tool's front end (qemu-io.c)
 * and the command implementations (qemu-io-cmds.c and later command sets,
 * such as the zone commands).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_IO_H
#define QEMU_IO_H

#include "sysemu/block-backend.h"

/*
 * A command: argv[0] is the name it was invoked by.  Returns 0 or a
 * negative errno; any failure makes qemu-io exit with status 1.
 */
typedef int QemuIoCmdFunc(BlockBackend *blk, int argc, char **argv);

typedef enum {
    /* Runs without an open image (blk may be NULL). */
    QEMUIO_CMD_NOFILE_OK   = 0x1,
    /* Modifies the image: refused on a read-only image. */
    QEMUIO_CMD_WRITE       = 0x2,
} QemuIoCmdFlags;

typedef struct QemuIoCmd {
    const char *name;
    const char *altname;        /* short alias ("r" for read), or NULL */
    QemuIoCmdFunc *cfunc;
    int argmin;                 /* arguments after the name */
    int argmax;                 /* -1: no upper limit */
    QemuIoCmdFlags flags;
    const char *args;           /* synopsis of the arguments, or NULL */
    const char *oneline;        /* one-line description */
    void (*help)(void);         /* extended help for 'help NAME', or NULL */
} QemuIoCmd;

/*
 * Register a command (the struct must outlive the program).  Commands are
 * kept sorted by name for 'help'.  A new command set registers its table
 * from qemuio_add_builtin_commands() or its own init function.
 */
void qemuio_add_command(const QemuIoCmd *cmd);
void qemuio_add_builtin_commands(void);
/* The zone commands (qemu-io-zone-cmds.c), from the above. */
void qemuio_add_zone_commands(void);

/* Split a line into words and run it; returns the command's result. */
int qemuio_command(BlockBackend *blk, const char *line);
/* "NAME ARGS -- ONELINE" on stdout, after a usage error. */
void qemuio_command_usage(const QemuIoCmd *cmd);
/* Process-wide getopt() reset before a command parses its options. */
void qemuio_reset_optind(void);

/* ---- helpers for command implementations ---- */

/* cvtnum() error message in qemu-io's wording (stdout). */
void qemuio_print_cvtnum_err(int64_t rc, const char *arg);
/* Parse a pattern byte for -P; prints an error and returns -1 if bad. */
int qemuio_parse_pattern(const char *arg);
/*
 * The two-line report ("wrote 512/512 bytes at offset 0" and the
 * statistics line), or one CSV line with Cflag.  start is the
 * CLOCK_MONOTONIC time the request started.
 */
void qemuio_print_report(const char *op, const struct timespec *start,
                         int64_t offset, int64_t count, int64_t total,
                         int cnt, bool Cflag);
/* Hex and character dump, 16 bytes a line, as 'read -v'. */
void qemuio_dump_buffer(const void *buf, int64_t offset, int64_t len);
/*
 * A vector with one element per size argument, over one buffer filled
 * with pattern (page-aligned, or misaligned with -m).  NULL after a
 * message.  Free the buffer with qemuio_free().
 */
void *qemuio_create_iovec(QEMUIOVector *qiov, char **args, int nr,
                          int pattern);
void qemuio_free(void *buf);
/* The flags of a write with the open's cache mode (FUA if writethrough). */
BdrvRequestFlags qemuio_write_flags(BdrvRequestFlags flags);

/*
 * Open state shared with the front end: write-through caching (every
 * write gets BDRV_REQ_FUA, as QEMU's BlockBackend does with the write
 * cache disabled) and misaligned buffers (-m).
 */
void qemuio_set_writethrough(bool on);
extern bool qemuio_misalign;

#endif /* QEMU_IO_H */
