/*
 * Error objects: a message plus where it was raised, an optional errno and
 * optional hint lines, passed up the call chain through Error **errp.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/error-report.h"

struct Error {
    char *msg;
    GString *hint;
    int os_errno;
    const char *src;
    const char *func;
    int line;
};

/* Only their addresses matter; they always stay NULL. */
Error *error_abort;
Error *error_fatal;

static void error_handle_abort(const Error *err)
{
    fprintf(stderr, "Unexpected error in %s() at %s:%d:\n",
            err->func ? err->func : "?", err->src ? err->src : "?",
            err->line);
    error_report("%s", err->msg);
    abort();
}

static void QEMU_NORETURN error_handle_fatal(Error *err)
{
    error_report_err(err);
    exit(1);
}

/* Hand a freshly created err to errp, honouring the special values. */
static void error_deliver(Error **errp, Error *err)
{
    if (errp == &error_abort) {
        error_handle_abort(err);
    }
    if (errp == &error_fatal) {
        error_handle_fatal(err);
    }
    if (!errp) {
        error_free(err);
        return;
    }
    /* Overwriting an unreported error would lose it: a caller bug. */
    if (*errp) {
        fprintf(stderr, "error set twice: '%s' then '%s'\n",
                (*errp)->msg, err->msg);
        abort();
    }
    *errp = err;
}

static Error *error_new_v(const char *src, int line, const char *func,
                          int os_errno, const char *fmt, va_list ap)
{
    Error *err = g_new0(Error, 1);

    err->msg = g_strdup_vprintf(fmt, ap);
    err->src = src;
    err->line = line;
    err->func = func;
    if (os_errno) {
        char *full = g_strdup_printf("%s: %s", err->msg,
                                     g_strerror(os_errno));
        g_free(err->msg);
        err->msg = full;
        err->os_errno = os_errno;
    }
    return err;
}

void error_setg_internal(Error **errp, const char *src, int line,
                         const char *func, const char *fmt, ...)
{
    va_list ap;
    Error *err;

    if (!errp) {
        return;
    }
    va_start(ap, fmt);
    err = error_new_v(src, line, func, 0, fmt, ap);
    va_end(ap);
    error_deliver(errp, err);
}

void error_setg_errno_internal(Error **errp, const char *src, int line,
                               const char *func, int os_errno,
                               const char *fmt, ...)
{
    va_list ap;
    Error *err;
    int saved_errno = errno;

    if (!errp) {
        return;
    }
    /* Accept -errno as well, the internal convention of this code base. */
    if (os_errno < 0) {
        os_errno = -os_errno;
    }
    va_start(ap, fmt);
    err = error_new_v(src, line, func, os_errno, fmt, ap);
    va_end(ap);
    error_deliver(errp, err);
    errno = saved_errno;
}

void error_propagate(Error **dst_errp, Error *local_err)
{
    if (!local_err) {
        return;
    }
    if (dst_errp == &error_abort) {
        error_handle_abort(local_err);
    }
    if (dst_errp == &error_fatal) {
        error_handle_fatal(local_err);
    }
    /* Like QEMU: the first error wins, a later one is dropped. */
    if (dst_errp && !*dst_errp) {
        *dst_errp = local_err;
    } else {
        error_free(local_err);
    }
}

static void error_vprepend(Error **errp, const char *fmt, va_list ap)
{
    Error *err;
    char *prefix;
    char *full;

    if (!errp || !*errp) {
        return;
    }
    err = *errp;
    prefix = g_strdup_vprintf(fmt, ap);
    full = g_strconcat(prefix, err->msg, NULL);
    g_free(prefix);
    g_free(err->msg);
    err->msg = full;
}

void error_propagate_prepend(Error **dst_errp, Error *local_err,
                             const char *fmt, ...)
{
    va_list ap;

    if (!local_err) {
        return;
    }
    /* Prepend first so that &error_abort/&error_fatal show the prefix too. */
    va_start(ap, fmt);
    error_vprepend(&local_err, fmt, ap);
    va_end(ap);
    error_propagate(dst_errp, local_err);
}

void error_prepend(Error **errp, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vprepend(errp, fmt, ap);
    va_end(ap);
}

void error_append_hint(Error **errp, const char *fmt, ...)
{
    va_list ap;
    Error *err;

    if (!errp || !*errp) {
        return;
    }
    err = *errp;
    if (!err->hint) {
        err->hint = g_string_new(NULL);
    }
    va_start(ap, fmt);
    g_string_append_vprintf(err->hint, fmt, ap);
    va_end(ap);
}

const char *error_get_pretty(const Error *err)
{
    return err->msg;
}

int error_get_errno(const Error *err)
{
    return err->os_errno;
}

Error *error_copy(const Error *err)
{
    Error *copy = g_new0(Error, 1);

    copy->msg = g_strdup(err->msg);
    copy->os_errno = err->os_errno;
    copy->src = err->src;
    copy->func = err->func;
    copy->line = err->line;
    if (err->hint) {
        copy->hint = g_string_new(err->hint->str);
    }
    return copy;
}

void error_free(Error *err)
{
    if (!err) {
        return;
    }
    g_free(err->msg);
    if (err->hint) {
        g_string_free(err->hint, TRUE);
    }
    g_free(err);
}

void error_free_or_abort(Error **errp)
{
    if (errp && *errp) {
        error_free(*errp);
        *errp = NULL;
    }
}

static void error_print_hint(const Error *err)
{
    if (err->hint) {
        fputs(err->hint->str, stderr);
        fflush(stderr);
    }
}

void error_report_err(Error *err)
{
    error_report("%s", err->msg);
    error_print_hint(err);
    error_free(err);
}

void warn_report_err(Error *err)
{
    warn_report("%s", err->msg);
    error_print_hint(err);
    error_free(err);
}

void error_reportf_err(Error *err, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vprepend(&err, fmt, ap);
    va_end(ap);
    error_report_err(err);
}
