/*
 * Messages for people, on stderr, prefixed with the program name.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"

/* Set once at startup by error_init(); NULL means "no prefix". */
static char *progname;

void error_init(const char *argv0)
{
    const char *base = NULL;

    if (argv0) {
        base = strrchr(argv0, '/');
        base = base ? base + 1 : argv0;
    }
    g_free(progname);
    progname = (base && *base) ? g_strdup(base) : NULL;
}

const char *error_get_progname(void)
{
    return progname ? progname : "";
}

/*
 * Format the whole line first and write it with one call, so that lines
 * from different threads do not interleave mid-message.
 */
static void vreport(const char *kind, const char *fmt, va_list ap)
{
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    g_autofree char *line = g_strdup_printf("%s%s%s%s\n",
                                            progname ? progname : "",
                                            progname ? ": " : "",
                                            kind, msg);

    fputs(line, stderr);
    fflush(stderr);
}

void error_vreport(const char *fmt, va_list ap)
{
    vreport("", fmt, ap);
}

void warn_vreport(const char *fmt, va_list ap)
{
    vreport("warning: ", fmt, ap);
}

void error_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}

void warn_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("warning: ", fmt, ap);
    va_end(ap);
}

void info_report(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport("", fmt, ap);
    va_end(ap);
}
