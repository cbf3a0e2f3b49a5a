/*
 * qemu-io: a command-line tool to exercise the block layer.
 *
 * The command set arrives with the block stack; until then this parses the
 * common options so scripts get a clear message instead of a crash.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"

int qemuio_main(int argc, char **argv);

int main(int argc, char **argv)
{
    error_init(argv[0]);
    return qemuio_main(argc, argv);
}
