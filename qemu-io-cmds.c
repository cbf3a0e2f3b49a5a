/*
 * qemu-io command table.  Filled by the block-stack work.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"

int qemuio_main(int argc, char **argv);

int qemuio_main(int argc, char **argv)
{
    if (argc > 1 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
        printf("Usage: %s [OPTIONS]... [-c STRING]... [file]\n"
               "The block layer is not built yet: no commands are available.\n",
               error_get_progname());
        return 0;
    }
    error_report("no block layer yet: no commands are available");
    return 1;
}
