/*
 * qemu-storage-daemon: serves block nodes to the host kernel.  Nodes come
 * from --blockdev (the option syntax of qemu-io --image-opts plus a
 * node-name), exports from --export type=vduse-blk.  The command line and
 * messages follow QEMU's storage daemon; SIGTERM and SIGINT shut down
 * cleanly (queues stopped, requests drained, nodes flushed, VDUSE devices
 * destroyed).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"

#include <getopt.h>
#include <signal.h>
#include <sys/file.h>

#include "block/export/vduse-blk.h"
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/keyval.h"
#include "qemu/main-loop.h"
#include "sysemu/block-backend.h"

#define QSD_VERSION "0.1.0"

typedef struct QsdExport {
    char *id;
    BlockBackend *blk;
    VduseBlkExport *vduse;
} QsdExport;

static GPtrArray *blockdevs;        /* BlockDriverState *, one ref each */
static GPtrArray *exports;          /* QsdExport * */
static EventNotifier quit_notifier;
static volatile sig_atomic_t quit_signal;
static bool quit_requested;

static void usage(const char *name)
{
    printf(
"Usage: %s [options]\n"
"QEMU-style storage daemon (zoned virtio-blk over VDUSE)\n"
"\n"
"  -h, --help             display this help and exit\n"
"  -V, --version          output version information and exit\n"
"\n"
"  --blockdev [driver=]<driver>[,node-name=<N>][,cache.direct=on|off]\n"
"             [,cache.no-flush=on|off][,read-only=on|off]\n"
"             [,driver specific parameters...]\n"
"                         configure a block node (the options of\n"
"                         qemu-io --image-opts)\n"
"\n"
"  --daemonize            daemonize the process, and have the parent exit\n"
"                         once startup is complete\n"
"\n"
"  --export [type=]vduse-blk,id=<id>,node-name=<node-name>\n"
"           ,name=<vduse-name>[,writable=on|off]\n"
"           [,num-queues=<num-queues>][,queue-size=<queue-size>]\n"
"           [,logical-block-size=<logical-block-size>]\n"
"           [,serial=<serial-number>]\n"
"                         export the specified block node as a\n"
"                         vduse-blk device (zoned nodes as zoned\n"
"                         virtio-blk devices)\n"
"\n"
"  --pidfile <path>       write process ID to a file after startup\n"
"\n"
"Attach an export to the kernel with 'vdpa dev add name <vduse-name>\n"
"mgmtdev vduse'; detach it with 'vdpa dev del <vduse-name>' before\n"
"stopping the daemon.\n",
           name);
}

/* ---- --blockdev ---- */

static bool add_blockdev(const char *arg, Error **errp)
{
    QDict *opts = keyval_parse(arg, "driver", errp);
    BlockDriverState *bs;

    if (!opts) {
        return false;
    }
    if (!qdict_haskey(opts, "driver")) {
        error_setg(errp, "Parameter 'driver' is missing");
        qdict_free(opts);
        return false;
    }
    if (!qdict_haskey(opts, "node-name")) {
        error_setg(errp, "'node-name' must be specified for the root node");
        qdict_free(opts);
        return false;
    }
    /* Writable unless read-only=on, as with blockdev-add. */
    bs = bdrv_open(NULL, opts, BDRV_O_RDWR, errp);
    if (!bs) {
        return false;
    }
    g_ptr_array_add(blockdevs, bs);
    return true;
}

/* ---- --export ---- */

typedef struct ExportOptions {
    char *type;
    char *id;
    char *node_name;
    char *name;
    char *serial;
    bool writable;
    uint64_t num_queues;
    uint64_t queue_size;
    uint64_t logical_block_size;
} ExportOptions;

static void export_options_free(ExportOptions *o)
{
    g_free(o->type);
    g_free(o->id);
    g_free(o->node_name);
    g_free(o->name);
    g_free(o->serial);
}

static bool take_required(QDict *d, const char *key, char **out,
                          Error **errp)
{
    if (!qdict_take_str(d, key, NULL, out, errp)) {
        return false;
    }
    if (!*out) {
        error_setg(errp, "Parameter '%s' is missing", key);
        return false;
    }
    return true;
}

/* An integer parameter in QEMU's wording ("expects uint16_t"). */
static bool take_u16(QDict *d, const char *key, uint64_t def, uint64_t *out,
                     Error **errp)
{
    const char *s = qdict_get_try_str(d, key);
    const char *end;
    int64_t v;

    *out = def;
    if (!s) {
        return true;
    }
    if (qemu_strtoi64(s, &end, 0, &v) < 0 || *end) {
        error_setg(errp, "Parameter '%s' expects integer", key);
        return false;
    }
    if (v < 0 || v > UINT16_MAX) {
        error_setg(errp, "Parameter '%s' expects uint16_t", key);
        return false;
    }
    *out = v;
    qdict_del(d, key);
    return true;
}

static bool take_size(QDict *d, const char *key, uint64_t *out,
                      Error **errp)
{
    const char *s = qdict_get_try_str(d, key);

    *out = 0;
    if (!s) {
        return true;
    }
    if (qemu_strtosz(s, NULL, out) < 0) {
        error_setg(errp, "Parameter '%s' expects size", key);
        return false;
    }
    qdict_del(d, key);
    return true;
}

static bool parse_export(const char *arg, ExportOptions *o, Error **errp)
{
    g_autoptr(QDict) d = keyval_parse(arg, "type", errp);
    size_t n;

    if (!d) {
        return false;
    }
    /* Checked in QEMU's order, so the same mistake gets the same answer. */
    if (!take_required(d, "type", &o->type, errp)) {
        return false;
    }
    if (strcmp(o->type, "vduse-blk")) {
        error_setg(errp, "Parameter 'type' does not accept value '%s'",
                   o->type);
        return false;
    }
    if (!take_required(d, "id", &o->id, errp) ||
        !take_required(d, "node-name", &o->node_name, errp) ||
        !qdict_take_bool(d, "writable", false, &o->writable, errp) ||
        !take_required(d, "name", &o->name, errp) ||
        !take_u16(d, "num-queues", 1, &o->num_queues, errp) ||
        !take_u16(d, "queue-size", 256, &o->queue_size, errp) ||
        !take_size(d, "logical-block-size", &o->logical_block_size, errp) ||
        !qdict_take_str(d, "serial", NULL, &o->serial, errp)) {
        return false;
    }
    if (qdict_size(d)) {
        g_autofree const char **keys = qdict_keys(d, &n);

        error_setg(errp, "Parameter '%s' is unexpected", keys[0]);
        return false;
    }
    return true;
}

static QsdExport *find_export(const char *id)
{
    for (guint i = 0; i < exports->len; i++) {
        QsdExport *e = g_ptr_array_index(exports, i);

        if (!strcmp(e->id, id)) {
            return e;
        }
    }
    return NULL;
}

static bool add_export(const char *arg, Error **errp)
{
    ExportOptions o = { 0 };
    VirtioBlkOptions vopts;
    BlockDriverState *bs;
    QsdExport *e = NULL;
    bool ok = false;

    if (!parse_export(arg, &o, errp)) {
        goto out;
    }
    if (find_export(o.id)) {
        error_setg(errp, "Export '%s' already exists", o.id);
        goto out;
    }
    bs = bdrv_find_node(o.node_name);
    if (!bs) {
        error_setg(errp, "Cannot find device='' nor node-name='%s'",
                   o.node_name);
        goto out;
    }
    if (o.writable && bdrv_is_read_only(bs)) {
        error_setg(errp, "Cannot export read-only node as writable");
        goto out;
    }
    if (o.num_queues == 0) {
        error_setg(errp, "num-queues must be greater than 0");
        goto out;
    }
    if (o.queue_size < 2 || (o.queue_size & (o.queue_size - 1)) ||
        o.queue_size > 32768) {
        error_setg(errp, "queue-size is invalid (it must be a power of 2 "
                   "between 2 and 32768)");
        goto out;
    }
    if (o.logical_block_size &&
        (o.logical_block_size < 512 || o.logical_block_size > 2097152 ||
         (o.logical_block_size & (o.logical_block_size - 1)))) {
        error_setg(errp, "parameter logical-block-size must be a power of 2 "
                   "between 512 and 2097152");
        goto out;
    }

    e = g_new0(QsdExport, 1);
    e->id = g_strdup(o.id);
    e->blk = blk_new(bdrv_get_aio_context(bs));
    if (blk_insert_bs(e->blk, bs, errp) < 0) {
        goto out;
    }
    vopts = (VirtioBlkOptions) {
        .num_queues = o.num_queues,
        .queue_size = o.queue_size,
        .logical_block_size = o.logical_block_size,
        .writable = o.writable,
        .serial = o.serial,
    };
    e->vduse = vduse_blk_export_new(e->blk, o.name, &vopts, errp);
    if (!e->vduse) {
        goto out;
    }
    g_ptr_array_add(exports, e);
    e = NULL;
    ok = true;

out:
    if (e) {
        if (e->blk) {
            blk_unref(e->blk);
        }
        g_free(e->id);
        g_free(e);
    }
    export_options_free(&o);
    return ok;
}

/* Shut every export down; returns false if any did not end cleanly. */
static bool remove_exports(void)
{
    bool ok = true;

    while (exports->len) {
        QsdExport *e = g_ptr_array_steal_index(exports, exports->len - 1);
        Error *err = NULL;

        if (!vduse_blk_export_free(e->vduse, &err)) {
            error_reportf_err(err, "export '%s': ", e->id);
            ok = false;
        }
        blk_unref(e->blk);
        g_free(e->id);
        g_free(e);
    }
    return ok;
}

/* ---- signals ---- */

static void quit_handler(int sig)
{
    quit_signal = sig;
    event_notifier_set(&quit_notifier);
}

static void quit_notified(EventNotifier *e)
{
    event_notifier_test_and_clear(e);
    quit_requested = true;
}

static void setup_signals(void)
{
    struct sigaction sa = { .sa_handler = quit_handler };

    if (event_notifier_init(&quit_notifier, 0) < 0) {
        error_report("Cannot create the shutdown eventfd: %s",
                     strerror(errno));
        exit(1);
    }
    aio_set_event_notifier(qemu_get_aio_context(), &quit_notifier,
                           quit_notified);
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

/* ---- --daemonize and --pidfile ---- */

static int daemon_pipe = -1;        /* to the waiting parent */
static char *pidfile_path;          /* absolute, for removal at exit */
static int pidfile_fd = -1;

/*
 * Fork; the parent waits until the child says startup is complete (one
 * byte on the pipe) and exits 0, or exits 1 when the pipe closes without
 * it (the child has printed why on the shared stderr).
 */
static void daemonize_start(void)
{
    int fds[2];
    pid_t pid;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        error_report("Cannot daemonize: %s", strerror(errno));
        exit(1);
    }
    pid = fork();
    if (pid < 0) {
        error_report("Cannot daemonize: %s", strerror(errno));
        exit(1);
    }
    if (pid > 0) {
        char c;
        ssize_t n;

        close(fds[1]);
        do {
            n = read(fds[0], &c, 1);
        } while (n < 0 && errno == EINTR);
        _exit(n == 1 ? 0 : 1);
    }
    close(fds[0]);
    daemon_pipe = fds[1];
    setsid();
}

static void daemonize_finish(void)
{
    int fd;
    char c = 0;

    if (daemon_pipe < 0) {
        return;
    }
    if (chdir("/") < 0) {
        /* Nothing depends on the working directory after startup. */
    }
    fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, STDIN_FILENO);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        if (fd > STDERR_FILENO) {
            close(fd);
        }
    }
    if (write(daemon_pipe, &c, 1) != 1) {
        /* The parent is gone: nobody to tell. */
    }
    close(daemon_pipe);
    daemon_pipe = -1;
}

static bool write_pidfile(const char *path, Error **errp)
{
    g_autofree char *pid = g_strdup_printf("%d\n", (int)getpid());
    struct stat st_fd, st_path;

    for (;;) {
        pidfile_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (pidfile_fd < 0) {
            error_setg_errno(errp, errno, "Could not create '%s'", path);
            return false;
        }
        if (lockf(pidfile_fd, F_TLOCK, 0) < 0) {
            error_setg_errno(errp, errno, "Cannot lock pid file");
            goto fail;
        }
        /* Another daemon may have unlinked it between open and lock. */
        if (fstat(pidfile_fd, &st_fd) == 0 && stat(path, &st_path) == 0 &&
            st_fd.st_ino == st_path.st_ino &&
            st_fd.st_dev == st_path.st_dev) {
            break;
        }
        close(pidfile_fd);
    }
    if (ftruncate(pidfile_fd, 0) < 0 ||
        write(pidfile_fd, pid, strlen(pid)) != (ssize_t)strlen(pid)) {
        error_setg_errno(errp, errno, "Failed to write pid file");
        goto fail;
    }
    pidfile_path = g_canonicalize_filename(path, NULL);
    return true;

fail:
    close(pidfile_fd);
    pidfile_fd = -1;
    return false;
}

static void remove_pidfile(void)
{
    if (pidfile_path) {
        unlink(pidfile_path);
        close(pidfile_fd);
        g_free(pidfile_path);
        pidfile_path = NULL;
    }
}

/* ---- main ---- */

enum {
    OPTION_BLOCKDEV = 256,
    OPTION_DAEMONIZE,
    OPTION_EXPORT,
    OPTION_PIDFILE,
};

static const struct option long_options[] = {
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { "blockdev", required_argument, NULL, OPTION_BLOCKDEV },
    { "daemonize", no_argument, NULL, OPTION_DAEMONIZE },
    { "export", required_argument, NULL, OPTION_EXPORT },
    { "pidfile", required_argument, NULL, OPTION_PIDFILE },
    { NULL, 0, NULL, 0 }
};

/*
 * First pass: syntax, --help/--version, and the options that must act
 * before anything is opened (--daemonize forks before threads exist).
 */
static void scan_options(int argc, char **argv, bool *daemonize,
                         const char **pidfile)
{
    int c;

    while ((c = getopt_long(argc, argv, "+hV", long_options, NULL)) != -1) {
        switch (c) {
        case 'h':
            usage(error_get_progname());
            exit(0);
        case 'V':
            printf("%s version " QSD_VERSION " (qemu-zoned-block)\n",
                   error_get_progname());
            exit(0);
        case OPTION_DAEMONIZE:
            *daemonize = true;
            break;
        case OPTION_PIDFILE:
            *pidfile = optarg;
            break;
        case OPTION_BLOCKDEV:
        case OPTION_EXPORT:
            break;
        default:
            /* getopt has printed what was wrong. */
            exit(1);
        }
    }
    if (optind < argc) {
        error_report("%s: Unexpected argument", argv[optind]);
        exit(1);
    }
}

/* Second pass: nodes and exports, in command-line order. */
static void process_options(int argc, char **argv)
{
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "+hV", long_options, NULL)) != -1) {
        Error *err = NULL;

        switch (c) {
        case OPTION_BLOCKDEV:
            if (!add_blockdev(optarg, &err)) {
                error_reportf_err(err, "--blockdev %s: ", optarg);
                exit(1);
            }
            break;
        case OPTION_EXPORT:
            if (!add_export(optarg, &err)) {
                error_reportf_err(err, "--export %s: ", optarg);
                remove_exports();
                exit(1);
            }
            break;
        default:
            break;
        }
    }
}

int main(int argc, char **argv)
{
    const char *pidfile = NULL;
    bool daemonize = false;
    Error *err = NULL;
    int status = 0;

    error_init(argv[0]);
    scan_options(argc, argv, &daemonize, &pidfile);
    if (daemonize) {
        daemonize_start();
    }

    qemu_init_main_loop(&error_fatal);
    blockdevs = g_ptr_array_new();
    exports = g_ptr_array_new();
    setup_signals();
    process_options(argc, argv);

    if (pidfile && !write_pidfile(pidfile, &err)) {
        error_reportf_err(err, "cannot create PID file: ");
        remove_exports();
        exit(1);
    }
    daemonize_finish();

    while (!quit_requested) {
        main_loop_wait(false);
    }

    if (!remove_exports()) {
        status = 1;
    }
    while (blockdevs->len) {
        bdrv_unref(g_ptr_array_steal_index(blockdevs, blockdevs->len - 1));
    }
    g_ptr_array_free(blockdevs, true);
    g_ptr_array_free(exports, true);
    aio_set_event_notifier(qemu_get_aio_context(), &quit_notifier, NULL);
    event_notifier_cleanup(&quit_notifier);
    remove_pidfile();
    return status;
}
