/*
 * qemu-io: a command-line tool to exercise the block layer, compatible
 * with QEMU's qemu-io.  This file holds the front end: command-line
 * options, the command registry and dispatcher, the commands about the
 * tool itself (open, close, quit, help, sleep, abort, sigraise), and the
 * command loop (commands from -c, else an interactive prompt on stdin).
 * The commands on the image are in qemu-io-cmds.c and, by topic, the
 * files next to it (qemu-io-aio-cmds.c, qemu-io-zone-cmds.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <getopt.h>
#include <signal.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/keyval.h"
#include "qemu/main-loop.h"
#include "qemu-io.h"

#define QEMU_IO_VERSION "0.1.0"

static BlockBackend *qemuio_blk;
static bool quit_qemu_io;
static bool image_opts;          /* --image-opts: file is an option string */
static GPtrArray *cmdtab;        /* const QemuIoCmd *, sorted by name */

/* ---- command table ---- */

static gint cmd_compare(gconstpointer a, gconstpointer b)
{
    const QemuIoCmd *ca = *(const QemuIoCmd *const *)a;
    const QemuIoCmd *cb = *(const QemuIoCmd *const *)b;

    return strcmp(ca->name, cb->name);
}

void qemuio_add_command(const QemuIoCmd *cmd)
{
    if (!cmdtab) {
        cmdtab = g_ptr_array_new();
    }
    g_ptr_array_add(cmdtab, (gpointer)cmd);
    g_ptr_array_sort(cmdtab, cmd_compare);
}

static const QemuIoCmd *find_command(const char *name)
{
    for (guint i = 0; cmdtab && i < cmdtab->len; i++) {
        const QemuIoCmd *ct = g_ptr_array_index(cmdtab, i);

        if (!strcmp(ct->name, name) ||
            (ct->altname && !strcmp(ct->altname, name))) {
            return ct;
        }
    }
    return NULL;
}

void qemuio_reset_optind(void)
{
    /* glibc: 0 also resets its internal state (argument permutation). */
    optind = 0;
}

void qemuio_command_usage(const QemuIoCmd *cmd)
{
    printf("%s %s -- %s\n", cmd->name, cmd->args ? cmd->args : "",
           cmd->oneline);
}

static int run_command(BlockBackend *blk, const QemuIoCmd *ct, int argc,
                       char **argv)
{
    int nargs = argc - 1;

    if (!(ct->flags & QEMUIO_CMD_NOFILE_OK) && !blk) {
        fprintf(stderr, "no file open, try 'help open'\n");
        return -EINVAL;
    }

    if (nargs < ct->argmin || (ct->argmax != -1 && nargs > ct->argmax)) {
        if (ct->argmax == -1) {
            fprintf(stderr, "bad argument count %d to %s, expected at least "
                    "%d arguments\n", nargs, argv[0], ct->argmin);
        } else if (ct->argmin == ct->argmax) {
            fprintf(stderr, "bad argument count %d to %s, expected %d "
                    "arguments\n", nargs, argv[0], ct->argmin);
        } else {
            fprintf(stderr, "bad argument count %d to %s, expected between "
                    "%d and %d arguments\n", nargs, argv[0], ct->argmin,
                    ct->argmax);
        }
        return -EINVAL;
    }

    if ((ct->flags & QEMUIO_CMD_WRITE) && blk_is_read_only(blk)) {
        error_report("Block node is read-only");
        return -EPERM;
    }

    qemuio_reset_optind();
    return ct->cfunc(blk, argc, argv);
}

int qemuio_command(BlockBackend *blk, const char *line)
{
    g_auto(GStrv) words = g_strsplit(line, " ", -1);
    g_autofree char **argv = g_new0(char *, g_strv_length(words) + 1);
    const QemuIoCmd *ct;
    int argc = 0;

    /* Words are separated by spaces only; runs of spaces are one. */
    for (int i = 0; words[i]; i++) {
        if (words[i][0]) {
            argv[argc++] = words[i];
        }
    }
    if (!argc) {
        return 0;
    }

    ct = find_command(argv[0]);
    if (!ct) {
        fprintf(stderr, "command \"%s\" not found\n", argv[0]);
        return -EINVAL;
    }
    return run_command(blk, ct, argc, argv);
}

/* ---- tool commands: help, sleep, abort, sigraise ---- */

static void help_oneline(const char *name, const QemuIoCmd *ct)
{
    printf("%s ", name);
    if (ct->args) {
        printf("%s ", ct->args);
    }
    printf("-- %s\n", ct->oneline);
}

static int help_f(BlockBackend *blk, int argc, char **argv)
{
    const QemuIoCmd *ct;

    if (argc == 1) {
        for (guint i = 0; i < cmdtab->len; i++) {
            ct = g_ptr_array_index(cmdtab, i);
            help_oneline(ct->name, ct);
        }
        printf("\nUse 'help commandname' for extended help.\n");
        return 0;
    }

    ct = find_command(argv[1]);
    if (!ct) {
        printf("command %s not found\n", argv[1]);
        return -EINVAL;
    }
    help_oneline(argv[1], ct);
    if (ct->help) {
        ct->help();
    }
    return 0;
}

static const QemuIoCmd help_cmd = {
    .name = "help",
    .altname = "?",
    .cfunc = help_f,
    .argmin = 0,
    .argmax = 1,
    .flags = QEMUIO_CMD_NOFILE_OK,
    .args = "[command]",
    .oneline = "help for one or all commands",
};

static void sleep_cb(void *opaque)
{
    *(bool *)opaque = true;
}

/* Lets asynchronous requests progress while it waits. */
static int sleep_f(BlockBackend *blk, int argc, char **argv)
{
    QEMUTimer *timer;
    bool expired = false;
    char *end;
    long ms;

    errno = 0;
    ms = strtol(argv[1], &end, 0);
    if (errno || ms < 0 || end == argv[1] || *end) {
        printf("%s is not a valid number\n", argv[1]);
        return -EINVAL;
    }

    timer = aio_timer_new(qemu_get_aio_context(), sleep_cb, &expired);
    timer_mod_ns(timer, get_clock_ns() + (int64_t)ms * 1000000);
    while (!expired) {
        main_loop_wait(false);
    }
    timer_free(timer);
    return 0;
}

static const QemuIoCmd sleep_cmd = {
    .name = "sleep",
    .cfunc = sleep_f,
    .argmin = 1,
    .argmax = 1,
    .flags = QEMUIO_CMD_NOFILE_OK,
    .oneline = "waits for the given value in milliseconds",
};

static int abort_f(BlockBackend *blk, int argc, char **argv)
{
    abort();
}

static const QemuIoCmd abort_cmd = {
    .name = "abort",
    .cfunc = abort_f,
    .flags = QEMUIO_CMD_NOFILE_OK,
    .oneline = "simulate a program crash using abort(3)",
};

static void sigraise_help(void)
{
    printf(
"\n"
" raises the given signal\n"
"\n"
" Example:\n"
" 'sigraise 15' - raises SIGTERM\n"
"\n"
" Invokes raise(signal), where \"signal\" is the mandatory integer argument\n"
" given to sigraise.\n"
"\n");
}

static int sigraise_f(BlockBackend *blk, int argc, char **argv)
{
    int64_t sig = cvtnum(argv[1]);

    if (sig < 0) {
        qemuio_print_cvtnum_err(sig, argv[1]);
        return -EINVAL;
    }
    if (sig > NSIG) {
        printf("signal argument '%s' is too large to be a valid signal\n",
               argv[1]);
        return -EINVAL;
    }
    /* The signal may end the process: show what was printed so far. */
    fflush(stdout);
    fflush(stderr);
    raise(sig);
    return 0;
}

static const QemuIoCmd sigraise_cmd = {
    .name = "sigraise",
    .cfunc = sigraise_f,
    .argmin = 1,
    .argmax = 1,
    .flags = QEMUIO_CMD_NOFILE_OK,
    .args = "signal",
    .oneline = "raises a signal",
    .help = sigraise_help,
};

/*
 * Parse a cache mode as QEMU does: the host page cache (BDRV_O_NOCACHE),
 * flushes (BDRV_O_NO_FLUSH) and the write cache seen by the guest
 * (*writethrough).  -1 on an unknown mode.
 */
static int parse_cache_mode(const char *mode, int *flags, bool *writethrough)
{
    *flags &= ~(BDRV_O_NOCACHE | BDRV_O_NO_FLUSH);
    if (!strcmp(mode, "none") || !strcmp(mode, "off")) {
        *flags |= BDRV_O_NOCACHE;
        *writethrough = false;
    } else if (!strcmp(mode, "directsync")) {
        *flags |= BDRV_O_NOCACHE;
        *writethrough = true;
    } else if (!strcmp(mode, "writeback")) {
        *writethrough = false;
    } else if (!strcmp(mode, "unsafe")) {
        *flags |= BDRV_O_NO_FLUSH;
        *writethrough = false;
    } else if (!strcmp(mode, "writethrough")) {
        *writethrough = true;
    } else {
        return -1;
    }
    return 0;
}

static int parse_aio_mode(const char *mode, int *flags)
{
    if (!strcmp(mode, "threads")) {
        *flags &= ~(BDRV_O_NATIVE_AIO | BDRV_O_IO_URING);
    } else if (!strcmp(mode, "native")) {
        *flags = (*flags & ~BDRV_O_IO_URING) | BDRV_O_NATIVE_AIO;
    } else if (!strcmp(mode, "io_uring")) {
        *flags = (*flags & ~BDRV_O_NATIVE_AIO) | BDRV_O_IO_URING;
    } else {
        return -1;
    }
    return 0;
}

/*
 * -d: discards always reach the image here, so only the modes that ask
 * for exactly that are accepted.
 */
static int parse_discard_mode(const char *mode)
{
    if (!strcmp(mode, "on") || !strcmp(mode, "unmap")) {
        return 0;
    }
    if (!strcmp(mode, "off") || !strcmp(mode, "ignore")) {
        error_report("Discard mode '%s' is not supported: discard requests "
                     "always reach the image", mode);
        return -1;
    }
    error_report("Invalid discard option: %s", mode);
    return -1;
}

/* Merge an option string into *opts (created on first use). */
static bool merge_opts(QDict **opts, const char *str)
{
    Error *err = NULL;
    g_autoptr(QDict) parsed = keyval_parse(str, NULL, &err);
    g_autofree const char **keys = NULL;
    size_t n;

    if (!parsed) {
        error_report_err(err);
        return false;
    }
    if (!*opts) {
        *opts = qdict_new();
    }
    keys = qdict_keys(parsed, &n);
    for (size_t i = 0; i < n; i++) {
        qdict_put_str(*opts, keys[i], qdict_get_try_str(parsed, keys[i]));
    }
    return true;
}

/* How to open an image: -r/-n/-t/-i/-k/-U/-C of the command line or open. */
typedef struct OpenMode {
    int flags;                  /* BDRV_O_* but BDRV_O_RDWR */
    bool read_only;             /* -r */
    bool writethrough;          /* every write is FUA */
    bool force_share;           /* -U */
    bool copy_on_read;          /* -C */
} OpenMode;

/*
 * One of the options that the command line and 'open' share: 1 if c is
 * one (recorded in *mode), 0 if not, -1 after a message.
 */
static int parse_open_option(int c, const char *arg, OpenMode *mode)
{
    switch (c) {
    case 'n':
        mode->flags |= BDRV_O_NOCACHE;
        mode->writethrough = false;
        return 1;
    case 'C':
        mode->copy_on_read = true;
        return 1;
    case 'U':
        mode->force_share = true;
        return 1;
    case 'r':
        mode->read_only = true;
        return 1;
    case 'k':
        mode->flags |= BDRV_O_NATIVE_AIO;
        return 1;
    case 't':
        if (parse_cache_mode(arg, &mode->flags, &mode->writethrough) < 0) {
            error_report("Invalid cache option: %s", arg);
            return -1;
        }
        return 1;
    case 'd':
        return parse_discard_mode(arg) < 0 ? -1 : 1;
    case 'i':
        if (parse_aio_mode(arg, &mode->flags) < 0) {
            error_report("Invalid aio option: %s", arg);
            return -1;
        }
        return 1;
    }
    return 0;
}

/*
 * Open the image; takes ownership of opts.  Returns 0 or 1.  -U and -C
 * change nothing here (no image locking, no backing files), but the
 * combinations QEMU refuses are refused with its messages.
 */
static int openfile(const char *name, const OpenMode *mode, QDict *opts)
{
    const char *dev = name ? " device " : "";
    int flags = mode->flags | (mode->read_only ? 0 : BDRV_O_RDWR);
    Error *err = NULL;

    if (qemuio_blk) {
        error_report("file open already, try 'help close'");
        qdict_free(opts);
        return 1;
    }
    if (mode->force_share && (flags & BDRV_O_RDWR)) {
        error_report("can't open%s%s: force-share=on can only be used with "
                     "read-only images", dev, name ? name : "");
        qdict_free(opts);
        return 1;
    }
    if (mode->copy_on_read && !(flags & BDRV_O_RDWR)) {
        error_report("can't open%s%s: Can't use copy-on-read on read-only "
                     "device", dev, name ? name : "");
        qdict_free(opts);
        return 1;
    }
    if (!opts) {
        opts = qdict_new();
    }
    /* Without a driver the block layer probes the format. */
    qemuio_blk = blk_new_open(name, opts, flags, &err);
    if (!qemuio_blk) {
        error_reportf_err(err, "can't open%s%s: ", dev, name ? name : "");
        return 1;
    }
    qemuio_set_writethrough(mode->writethrough);
    return 0;
}

static void open_help(void)
{
    printf(
"\n"
" opens a new file in the requested mode\n"
"\n"
" Example:\n"
" 'open -n -o driver=raw /tmp/data' - opens raw data file read-write, "
"uncached\n"
"\n"
" Opens a file for subsequent use by all of the other qemu-io commands.\n"
" -r, -- open file read-only\n"
" -s, -- use snapshot file (not supported here)\n"
" -C, -- use copy-on-read\n"
" -n, -- disable host cache, short for -t none\n"
" -U, -- force shared permissions\n"
" -k, -- use kernel AIO implementation (Linux only, prefer use of -i)\n"
" -i, -- use AIO mode (threads, native or io_uring)\n"
" -t, -- use the given cache mode for the image\n"
" -d, -- use the given discard mode for the image\n"
" -o, -- options to be given to the block driver\n"
"\n");
}

static int open_f(BlockBackend *blk, int argc, char **argv);

static const QemuIoCmd open_cmd = {
    .name = "open",
    .altname = "o",
    .cfunc = open_f,
    .argmin = 1,
    .argmax = -1,
    .flags = QEMUIO_CMD_NOFILE_OK,
    .args = "[-rsCnkU] [-t cache] [-d discard] [-o options] [path]",
    .oneline = "open the file specified by path",
    .help = open_help,
};

static int open_f(BlockBackend *blk, int argc, char **argv)
{
    g_autoptr(QDict) opts = NULL;
    OpenMode mode = { .writethrough = true };
    int c, ret;

    while ((c = getopt(argc, argv, "snCro:ki:t:d:U")) != -1) {
        ret = parse_open_option(c, optarg, &mode);
        if (ret < 0) {
            return -EINVAL;
        } else if (ret > 0) {
            continue;
        }
        switch (c) {
        case 's':
            error_report("Snapshot mode (-s) is not supported");
            return -ENOTSUP;
        case 'o':
            if (image_opts) {
                printf("--image-opts and 'open -o' are mutually exclusive\n");
                return -EINVAL;
            }
            if (!merge_opts(&opts, optarg)) {
                return -EINVAL;
            }
            break;
        default:
            qemuio_command_usage(&open_cmd);
            return -EINVAL;
        }
    }

    if (image_opts && optind == argc - 1) {
        if (!merge_opts(&opts, argv[optind])) {
            return -EINVAL;
        }
        optind++;
    }

    if (optind == argc - 1) {
        return openfile(argv[optind], &mode, g_steal_pointer(&opts))
               ? -EINVAL : 0;
    } else if (optind == argc) {
        return openfile(NULL, &mode, g_steal_pointer(&opts)) ? -EINVAL : 0;
    }
    qemuio_command_usage(&open_cmd);
    return -EINVAL;
}

static int close_f(BlockBackend *blk, int argc, char **argv)
{
    blk_unref(qemuio_blk);
    qemuio_blk = NULL;
    return 0;
}

static const QemuIoCmd close_cmd = {
    .name = "close",
    .altname = "c",
    .cfunc = close_f,
    .oneline = "close the current open file",
};

static int quit_f(BlockBackend *blk, int argc, char **argv)
{
    quit_qemu_io = true;
    return 0;
}

static const QemuIoCmd quit_cmd = {
    .name = "quit",
    .altname = "q",
    .cfunc = quit_f,
    .argmax = -1,           /* QEMU ignores arguments of quit */
    .flags = QEMUIO_CMD_NOFILE_OK,
    .oneline = "exit the program",
};

/* ---- interactive input ---- */

static void stdin_ready(void *opaque)
{
    *(bool *)opaque = true;
}

/*
 * Wait for a line on stdin while the event loop runs, so that completions
 * of asynchronous requests are reported while the prompt waits, as QEMU
 * does.  stdin is unbuffered, so what the loop sees as readable is exactly
 * what is left to read.  Regular files and /dev/null cannot be watched
 * (epoll refuses them) and never block anyway.
 */
static char *fetch_line(void)
{
    struct stat st;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;

    if (fstat(STDIN_FILENO, &st) == 0 &&
        (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
         isatty(STDIN_FILENO))) {
        AioContext *ctx = qemu_get_aio_context();
        bool readable = false;

        aio_set_fd_handler(ctx, STDIN_FILENO, stdin_ready, NULL, &readable);
        while (!readable) {
            main_loop_wait(false);
        }
        aio_set_fd_handler(ctx, STDIN_FILENO, NULL, NULL, NULL);
    } else {
        main_loop_wait(true);
    }

    len = getline(&line, &cap, stdin);
    if (len < 0) {
        free(line);
        return NULL;
    }
    if (len > 0 && line[len - 1] == '\n') {
        line[len - 1] = '\0';
    }
    return line;
}

/* Returns the exit status: 1 if any command failed. */
static int command_loop(char **cmds, int ncmds)
{
    int last_error = 0;
    int ret;

    if (ncmds) {
        for (int i = 0; i < ncmds && !quit_qemu_io; i++) {
            ret = qemuio_command(qemuio_blk, cmds[i]);
            if (ret < 0) {
                last_error = ret;
            }
        }
        return last_error ? 1 : 0;
    }

    setvbuf(stdin, NULL, _IONBF, 0);
    while (!quit_qemu_io) {
        char *line;

        printf("%s> ", error_get_progname());
        fflush(stdout);
        line = fetch_line();
        if (!line) {
            break;
        }
        ret = qemuio_command(qemuio_blk, line);
        free(line);
        if (ret < 0) {
            last_error = ret;
        }
    }
    return last_error ? 1 : 0;
}

static void usage(const char *name)
{
    printf(
"Usage: %s [OPTIONS]... [-c STRING]... [file]\n"
"QEMU Disk exerciser\n"
"\n"
"  --image-opts         treat file as option string\n"
"  -c, --cmd STRING     execute command with its arguments\n"
"                       from the given string\n"
"  -f, --format FMT     specifies the block driver to use\n"
"  -r, --read-only      export read-only\n"
"  -n, --nocache        disable host cache, short for -t none\n"
"  -C, --copy-on-read   enable copy-on-read\n"
"  -m, --misalign       misalign allocations for O_DIRECT\n"
"  -k, --native-aio     use kernel AIO implementation\n"
"                       (Linux only, prefer use of -i)\n"
"  -i, --aio=MODE       use AIO mode (threads, native or io_uring)\n"
"  -t, --cache=MODE     use the given cache mode for the image\n"
"  -d, --discard=MODE   use the given discard mode for the image\n"
"  -U, --force-share    force shared permissions\n"
"  -h, --help           display this help and exit\n"
"  -V, --version        output version information and exit\n"
"\n"
"See '%s -c help' for information on available commands.\n",
           name, name);
}

enum {
    OPTION_IMAGE_OPTS = 256,
};

int main(int argc, char **argv)
{
    static const struct option lopt[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { "cmd", required_argument, NULL, 'c' },
        { "format", required_argument, NULL, 'f' },
        { "read-only", no_argument, NULL, 'r' },
        { "nocache", no_argument, NULL, 'n' },
        { "copy-on-read", no_argument, NULL, 'C' },
        { "misalign", no_argument, NULL, 'm' },
        { "native-aio", no_argument, NULL, 'k' },
        { "discard", required_argument, NULL, 'd' },
        { "aio", required_argument, NULL, 'i' },
        { "cache", required_argument, NULL, 't' },
        { "force-share", no_argument, NULL, 'U' },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { NULL, 0, NULL, 0 }
    };
    g_autofree char **cmds = g_new0(char *, argc + 1);
    OpenMode mode = { .writethrough = true };
    const char *format = NULL;
    QDict *opts = NULL;
    int ncmds = 0;
    int exit_code;
    int c, ret;

    error_init(argv[0]);

    while ((c = getopt_long(argc, argv, "hVc:d:f:rnCmki:t:U", lopt,
                            NULL)) != -1) {
        ret = parse_open_option(c, optarg, &mode);
        if (ret < 0) {
            exit(1);
        } else if (ret > 0) {
            continue;
        }
        switch (c) {
        case 'f':
            format = optarg;
            break;
        case 'c':
            cmds[ncmds++] = optarg;
            break;
        case 'm':
            qemuio_misalign = true;
            break;
        case 'V':
            printf("%s version " QEMU_IO_VERSION " (qemu-zoned-block)\n",
                   error_get_progname());
            exit(0);
        case 'h':
            usage(error_get_progname());
            exit(0);
        case OPTION_IMAGE_OPTS:
            image_opts = true;
            break;
        default:
            usage(error_get_progname());
            exit(1);
        }
    }

    if (argc - optind > 1) {
        usage(error_get_progname());
        exit(1);
    }
    if (format && image_opts) {
        error_report("--image-opts and -f are mutually exclusive");
        exit(1);
    }

    qemu_init_main_loop(&error_fatal);
    qemuio_add_builtin_commands();
    qemuio_add_command(&open_cmd);
    qemuio_add_command(&close_cmd);
    qemuio_add_command(&quit_cmd);
    qemuio_add_command(&help_cmd);
    qemuio_add_command(&sleep_cmd);
    qemuio_add_command(&abort_cmd);
    qemuio_add_command(&sigraise_cmd);

    if (argc - optind == 1) {
        const char *name = argv[optind];

        if (image_opts) {
            if (!merge_opts(&opts, name)) {
                exit(1);
            }
            name = NULL;
        } else if (format) {
            opts = qdict_new();
            qdict_put_str(opts, "driver", format);
        }
        if (openfile(name, &mode, opts)) {
            exit(1);
        }
    }

    exit_code = command_loop(cmds, ncmds);

    /* Drains: outstanding aio requests complete and report here. */
    if (qemuio_blk) {
        blk_unref(qemuio_blk);
        qemuio_blk = NULL;
    }
    return exit_code;
}
