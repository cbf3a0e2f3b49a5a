/*
 * Error objects for errors that reach a person.
 *
 * Functions take Error **errp last.  Pass NULL to ignore the error,
 * &error_abort to abort on it (with the message and location), &error_fatal
 * to print it and exit(1), or the address of a local Error * to inspect it.
 * Setting an error on an errp whose *errp is already set is a bug (abort).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef QAPI_ERROR_H
#define QAPI_ERROR_H

typedef struct Error Error;

extern Error *error_abort;
extern Error *error_fatal;

#define error_setg(errp, ...) \
    error_setg_internal((errp), __FILE__, __LINE__, __func__, __VA_ARGS__)
#define error_setg_errno(errp, os_errno, ...) \
    error_setg_errno_internal((errp), __FILE__, __LINE__, __func__, \
                              (os_errno), __VA_ARGS__)

void error_setg_internal(Error **errp, const char *src, int line,
                         const char *func, const char *fmt, ...)
    QEMU_PRINTF(5, 6);
/* Appends ": strerror(os_errno)" and records the errno (positive). */
void error_setg_errno_internal(Error **errp, const char *src, int line,
                               const char *func, int os_errno,
                               const char *fmt, ...)
    QEMU_PRINTF(6, 7);

/* Move local_err into *dst (or handle it per dst's special value). */
void error_propagate(Error **dst_errp, Error *local_err);
/* Like error_propagate() then error_prepend(). */
void error_propagate_prepend(Error **dst_errp, Error *local_err,
                             const char *fmt, ...) QEMU_PRINTF(3, 4);
/* Prefix the message of *errp (no-op if errp is NULL or *errp unset). */
void error_prepend(Error **errp, const char *fmt, ...) QEMU_PRINTF(2, 3);
/* Extra lines printed after the message by error_report_err(). */
void error_append_hint(Error **errp, const char *fmt, ...) QEMU_PRINTF(2, 3);

const char *error_get_pretty(const Error *err);
/* The errno given to error_setg_errno() (positive), else 0. */
int error_get_errno(const Error *err);
Error *error_copy(const Error *err);
void error_free(Error *err);
/* Free *errp if set and reset it to NULL. */
void error_free_or_abort(Error **errp);

/* Print "progname: message" (plus hints) and free. */
void error_report_err(Error *err);
void warn_report_err(Error *err);
/* Prefix, print, free. */
void error_reportf_err(Error *err, const char *fmt, ...) QEMU_PRINTF(2, 3);

#endif /* QAPI_ERROR_H */
