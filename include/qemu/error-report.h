/*
 * Messages to stderr, prefixed with the program name ("qemu-io: ...").
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QEMU_ERROR_REPORT_H
#define QEMU_ERROR_REPORT_H

/* Remember basename(argv0) for the prefix. */
void error_init(const char *argv0);
const char *error_get_progname(void);

void error_report(const char *fmt, ...) QEMU_PRINTF(1, 2);
void warn_report(const char *fmt, ...) QEMU_PRINTF(1, 2);
void info_report(const char *fmt, ...) QEMU_PRINTF(1, 2);
void error_vreport(const char *fmt, va_list ap) QEMU_PRINTF(1, 0);
void warn_vreport(const char *fmt, va_list ap) QEMU_PRINTF(1, 0);

#endif /* QEMU_ERROR_REPORT_H */
