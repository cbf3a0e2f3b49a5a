/*
 * Unit tests for Error objects (util/error.c) and stderr reporting
 * (util/error-report.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <sys/wait.h>
#include "qapi/error.h"
#include "qemu/error-report.h"

/*
 * Run fn in a forked child with stderr captured, for paths that end the
 * process (exit(1), abort()).  Returns the wait status; *err gets stderr.
 */
static int run_child(void (*fn)(void), char **err)
{
    int fds[2];
    pid_t pid;
    int status;
    GString *out = g_string_new(NULL);
    char buf[512];
    ssize_t n;

    g_assert_cmpint(pipe(fds), ==, 0);
    fflush(NULL);
    pid = fork();
    g_assert_cmpint(pid, >=, 0);
    if (pid == 0) {
        close(fds[0]);
        dup2(fds[1], STDERR_FILENO);
        close(fds[1]);
        fn();
        _exit(99);      /* fn was expected not to return */
    }
    close(fds[1]);
    while ((n = read(fds[0], buf, sizeof(buf))) != 0) {
        if (n < 0 && errno == EINTR) {
            continue;
        }
        g_assert_cmpint(n, >, 0);
        g_string_append_len(out, buf, n);
    }
    close(fds[0]);
    g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
    *err = g_string_free(out, FALSE);
    return status;
}

static void test_setg(void)
{
    Error *err = NULL;

    error_setg(&err, "bad value %d for '%s'", 7, "x");
    g_assert_nonnull(err);
    g_assert_cmpstr(error_get_pretty(err), ==, "bad value 7 for 'x'");
    g_assert_cmpint(error_get_errno(err), ==, 0);
    error_free(err);
}

static void test_setg_null(void)
{
    /* NULL errp: the caller does not care; nothing to check but no crash. */
    error_setg(NULL, "ignored %s", "message");
    error_setg_errno(NULL, EIO, "ignored");
    error_free(NULL);
}

static void test_setg_errno(void)
{
    Error *err = NULL;
    g_autofree char *expect = g_strdup_printf("cannot open 'f': %s",
                                              g_strerror(ENOENT));

    errno = EBADF;
    error_setg_errno(&err, ENOENT, "cannot open '%s'", "f");
    g_assert_cmpint(errno, ==, EBADF);          /* errno left alone */
    g_assert_cmpstr(error_get_pretty(err), ==, expect);
    g_assert_cmpint(error_get_errno(err), ==, ENOENT);
    error_free(err);

    /* The internal -errno convention is accepted and normalised. */
    err = NULL;
    error_setg_errno(&err, -EIO, "read");
    g_assert_cmpint(error_get_errno(err), ==, EIO);
    g_assert_true(g_str_has_suffix(error_get_pretty(err), g_strerror(EIO)));
    error_free(err);
}

static void test_propagate(void)
{
    Error *local = NULL;
    Error *dst = NULL;
    Error *second = NULL;

    error_propagate(&dst, NULL);                /* nothing to move */
    g_assert_null(dst);

    error_setg(&local, "first");
    error_propagate(&dst, local);
    g_assert_cmpstr(error_get_pretty(dst), ==, "first");

    /* An already set destination keeps the first error. */
    error_setg(&second, "second");
    error_propagate(&dst, second);
    g_assert_cmpstr(error_get_pretty(dst), ==, "first");

    /* NULL destination frees (ASan would report a leak otherwise). */
    local = NULL;
    error_setg(&local, "dropped");
    error_propagate(NULL, local);
    error_free(dst);
}

static void test_propagate_prepend(void)
{
    Error *local = NULL;
    Error *dst = NULL;

    error_setg(&local, "No such device");
    error_propagate_prepend(&dst, local, "Could not open '%s': ", "disk");
    g_assert_cmpstr(error_get_pretty(dst), ==,
                    "Could not open 'disk': No such device");
    error_free(dst);
    dst = NULL;

    error_propagate_prepend(&dst, NULL, "ignored: ");
    g_assert_null(dst);
}

static void test_prepend(void)
{
    Error *err = NULL;

    error_prepend(NULL, "nothing: ");
    error_prepend(&err, "nothing: ");           /* unset: no-op */
    g_assert_null(err);

    error_setg(&err, "msg");
    error_prepend(&err, "b: ");
    error_prepend(&err, "a%d: ", 1);
    g_assert_cmpstr(error_get_pretty(err), ==, "a1: b: msg");
    error_free(err);
}

static void test_hint(void)
{
    if (g_test_subprocess()) {
        Error *err = NULL;

        error_append_hint(&err, "not set, dropped\n");
        g_assert_null(err);
        error_setg(&err, "main message");
        error_append_hint(&err, "hint %d\n", 1);
        error_append_hint(&err, "hint %d\n", 2);
        /* Hints do not change the message itself. */
        g_assert_cmpstr(error_get_pretty(err), ==, "main message");
        error_report_err(err);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("test-error: main message\nhint 1\nhint 2\n");
}

static void test_copy(void)
{
    if (g_test_subprocess()) {
        Error *err = NULL;
        Error *copy;
        g_autofree char *expect = g_strdup_printf("orig: %s",
                                                  g_strerror(EPERM));

        error_setg_errno(&err, EPERM, "orig");
        error_append_hint(&err, "the hint\n");
        copy = error_copy(err);
        error_free(err);                        /* copy is independent */
        g_assert_cmpstr(error_get_pretty(copy), ==, expect);
        g_assert_cmpint(error_get_errno(copy), ==, EPERM);
        error_report_err(copy);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("test-error: orig: *\nthe hint\n");
}

static void test_free_or_abort(void)
{
    Error *err = NULL;

    error_setg(&err, "x");
    error_free_or_abort(&err);
    g_assert_null(err);
    error_free_or_abort(&err);                  /* unset: nothing to do */
    g_assert_null(err);
}

static void test_set_twice(void)
{
    if (g_test_subprocess()) {
        Error *err = NULL;

        error_setg(&err, "first");
        error_setg(&err, "second");             /* must abort */
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_test_trap_assert_stderr("*first*second*");
}

static void test_error_abort(void)
{
    int line = __LINE__ + 3;                    /* the error_setg() below */

    if (g_test_subprocess()) {
        error_setg(&error_abort, "boom %d", 42);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_failed();
    g_autofree char *pattern = g_strdup_printf(
        "Unexpected error in test_error_abort() at *test-error.c:%d:\n"
        "test-error: boom 42\n", line);
    g_test_trap_assert_stderr(pattern);
}

static void do_abort(void)
{
    error_setg_errno(&error_abort, EINVAL, "abort via errno");
}

static void do_abort_propagate(void)
{
    Error *local = NULL;

    error_setg(&local, "propagated");
    error_propagate(&error_abort, local);
}

static void test_error_abort_signal(void)
{
    g_autofree char *err = NULL;
    int status = run_child(do_abort, &err);

    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGABRT);
    g_assert_true(g_str_has_prefix(err, "Unexpected error in do_abort() at "));
    g_assert_nonnull(strstr(err, "test-error: abort via errno: "));

    /* Propagation reports where the error was created, not propagated. */
    g_free(err);
    status = run_child(do_abort_propagate, &err);
    g_assert_true(WIFSIGNALED(status));
    g_assert_cmpint(WTERMSIG(status), ==, SIGABRT);
    g_assert_true(g_str_has_prefix(err,
                  "Unexpected error in do_abort_propagate() at "));
    g_assert_nonnull(strstr(err, "\ntest-error: propagated\n"));
}

static void do_fatal(void)
{
    error_setg(&error_fatal, "fatal %s", "thing");
}

static void do_fatal_propagate(void)
{
    Error *local = NULL;

    error_setg(&local, "late fatal");
    error_append_hint(&local, "try again\n");
    error_propagate(&error_fatal, local);
}

static void test_error_fatal(void)
{
    g_autofree char *err = NULL;
    int status = run_child(do_fatal, &err);

    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_cmpstr(err, ==, "test-error: fatal thing\n");

    g_free(err);
    status = run_child(do_fatal_propagate, &err);
    g_assert_true(WIFEXITED(status));
    g_assert_cmpint(WEXITSTATUS(status), ==, 1);
    g_assert_cmpstr(err, ==, "test-error: late fatal\ntry again\n");
}

static void test_report(void)
{
    if (g_test_subprocess()) {
        g_assert_cmpstr(error_get_progname(), ==, "test-error");
        error_report("e %d", 1);
        warn_report("w %s", "2");
        info_report("i");
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("test-error: e 1\n"
                              "test-error: warning: w 2\n"
                              "test-error: i\n");
}

static void test_report_no_prefix(void)
{
    if (g_test_subprocess()) {
        error_init(NULL);                       /* as if never called */
        error_report("plain");
        warn_report("careful");
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("plain\nwarning: careful\n");
}

static void test_report_err_variants(void)
{
    if (g_test_subprocess()) {
        Error *err = NULL;

        error_setg(&err, "inner");
        error_reportf_err(err, "outer %d: ", 3);
        err = NULL;
        error_setg(&err, "soft");
        error_append_hint(&err, "h\n");
        warn_report_err(err);
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("test-error: outer 3: inner\n"
                              "test-error: warning: soft\nh\n");
}

static void test_progname_basename(void)
{
    if (g_test_subprocess()) {
        error_init("/usr/local/bin/qemu-io");
        g_assert_cmpstr(error_get_progname(), ==, "qemu-io");
        error_report("x");
        error_init("relative");
        error_report("y");
        return;
    }
    g_test_trap_subprocess(NULL, 0, 0);
    g_test_trap_assert_passed();
    g_test_trap_assert_stderr("qemu-io: x\nrelative: y\n");
}

int main(int argc, char **argv)
{
    error_init(argv[0]);
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/error/setg", test_setg);
    g_test_add_func("/error/setg-null", test_setg_null);
    g_test_add_func("/error/setg-errno", test_setg_errno);
    g_test_add_func("/error/propagate", test_propagate);
    g_test_add_func("/error/propagate-prepend", test_propagate_prepend);
    g_test_add_func("/error/prepend", test_prepend);
    g_test_add_func("/error/hint", test_hint);
    g_test_add_func("/error/copy", test_copy);
    g_test_add_func("/error/free-or-abort", test_free_or_abort);
    g_test_add_func("/error/set-twice", test_set_twice);
    g_test_add_func("/error/abort", test_error_abort);
    g_test_add_func("/error/abort-signal", test_error_abort_signal);
    g_test_add_func("/error/fatal", test_error_fatal);
    g_test_add_func("/error/report", test_report);
    g_test_add_func("/error/report-no-prefix", test_report_no_prefix);
    g_test_add_func("/error/report-err-variants", test_report_err_variants);
    g_test_add_func("/error/progname-basename", test_progname_basename);
    return g_test_run();
}
