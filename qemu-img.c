/*
 * qemu-img: create, inspect and check disk images, compatible with QEMU's
 * qemu-img for the commands it has (create, info, check): same options,
 * same human output, same messages and exit codes where QEMU has them.
 *
 * Images are opened through a BlockBackend; the driver does the work
 * (bdrv_create, bdrv_check, bdrv_format_specific_info), this file only
 * parses the command line and prints.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <getopt.h>
#include "qapi/error.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qemu/keyval.h"
#include "qemu/main-loop.h"
#include "sysemu/block-backend.h"

#define QEMU_IMG_VERSION "0.1.0"

/* "qemu-img check" exit status when the format has no check (QEMU's). */
#define CHECK_NOT_SUPPORTED 63

typedef struct ImgCmd {
    const char *name;
    int (*handler)(int argc, char **argv);
    const char *oneline;
} ImgCmd;

static QEMU_NORETURN void error_exit(const char *cmd, const char *fmt, ...)
    QEMU_PRINTF(2, 3);

/* QEMU's way out of a bad command line: the reason, then where to look. */
static void error_exit(const char *cmd, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    error_vreport(fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s %s%s--help' for more info\n",
            error_get_progname(), cmd ? cmd : "", cmd ? " " : "");
    exit(1);
}

/* getopt's own message is printed already; add the hint. */
static QEMU_NORETURN void usage_exit(const char *cmd)
{
    fprintf(stderr, "Try '%s %s%s--help' for more info\n",
            error_get_progname(), cmd ? cmd : "", cmd ? " " : "");
    exit(1);
}

/*
 * Sizes for people, as QEMU's qemu-img prints them: three significant
 * digits, and the next unit from 1000 of the previous one ("0.977 MiB").
 */
static char *human_size(uint64_t val)
{
    static const char *const prefix[] = { "", "Ki", "Mi", "Gi", "Ti", "Pi",
                                          "Ei" };
    unsigned int i = 0;

    while (i + 1 < ARRAY_SIZE(prefix) &&
           (double)val * 1.024 >= (double)(1ULL << (10 * (i + 1)))) {
        i++;
    }
    return g_strdup_printf("%0.3g %sB", (double)val / (1ULL << (10 * i)),
                           prefix[i]);
}

/* -T: the host cache part of QEMU's cache modes (the rest is guest's). */
static bool parse_cache(const char *mode, int *flags)
{
    *flags &= ~(BDRV_O_NOCACHE | BDRV_O_NO_FLUSH);
    if (!strcmp(mode, "none") || !strcmp(mode, "off") ||
        !strcmp(mode, "directsync")) {
        *flags |= BDRV_O_NOCACHE;
    } else if (!strcmp(mode, "unsafe")) {
        *flags |= BDRV_O_NO_FLUSH;
    } else if (strcmp(mode, "writeback") && strcmp(mode, "writethrough")) {
        return false;
    }
    return true;
}

enum {
    OPTION_IMAGE_OPTS = 256,
    OPTION_OUTPUT,
};

/* How info and check are told the image: -f FMT or --image-opts. */
typedef struct ImgSource {
    const char *fmt;
    bool image_opts;
} ImgSource;

/*
 * An option of info and check about the image (-f, --image-opts) or the
 * output (--output): true if c is one.  A bad --output exits.
 */
static bool img_source_option(const char *cmd, int c, ImgSource *src)
{
    switch (c) {
    case 'f':
        src->fmt = optarg;
        return true;
    case OPTION_IMAGE_OPTS:
        src->image_opts = true;
        return true;
    case OPTION_OUTPUT:
        if (strcmp(optarg, "human")) {
            error_exit(cmd, "--output %s is not supported (only human)",
                       optarg);
        }
        return true;
    }
    return false;
}

/*
 * After the options: exactly one image argument (else exit), and not
 * both -f and --image-opts (false after the message).
 */
static bool img_source_check(const char *cmd, int argc,
                             const ImgSource *src)
{
    if (optind != argc - 1) {
        error_exit(cmd, "Expecting one image file name");
    }
    if (src->image_opts && src->fmt) {
        error_report("--image-opts and --format are mutually exclusive");
        return false;
    }
    return true;
}

/*
 * Open filename for info or check.  Without -f (or driver= with
 * --image-opts) the block layer probes the format.
 */
static BlockBackend *img_open(const char *filename, const ImgSource *src,
                              int flags)
{
    Error *err = NULL;
    BlockBackend *blk;
    QDict *opts;

    if (src->image_opts) {
        opts = keyval_parse(filename, NULL, &err);
        if (!opts) {
            error_reportf_err(err, "Could not open '%s': ", filename);
            return NULL;
        }
        blk = blk_new_open(NULL, opts, flags, &err);
    } else {
        opts = qdict_new();
        if (src->fmt) {
            qdict_put_str(opts, "driver", src->fmt);
        }
        blk = blk_new_open(filename, opts, flags, &err);
    }
    if (!blk) {
        error_reportf_err(err, "Could not open '%s': ", filename);
    }
    return blk;
}

/* ---- create ---- */

static void find_format_cb(void *opaque, const char *name)
{
    const char **wanted = opaque;

    if (*wanted && !strcmp(*wanted, name)) {
        *wanted = NULL;
    }
}

static bool format_exists(const char *fmt)
{
    const char *wanted = fmt;

    bdrv_iterate_format(find_format_cb, &wanted);
    return wanted == NULL;
}

static const char *opt_type_name(BlockCreateOptionType type)
{
    switch (type) {
    case BLOCK_OPT_SIZE:
        return "size";
    case BLOCK_OPT_NUMBER:
        return "num";
    case BLOCK_OPT_BOOL:
        return "bool (on/off)";
    case BLOCK_OPT_STRING:
    default:
        return "str";
    }
}

static gint desc_compare(gconstpointer a, gconstpointer b)
{
    const BlockCreateOptionDesc *da = *(const BlockCreateOptionDesc **)a;
    const BlockCreateOptionDesc *db = *(const BlockCreateOptionDesc **)b;

    return strcmp(da->name, db->name);
}

static void add_descs(GPtrArray *list, const BlockCreateOptionDesc *desc)
{
    for (; desc && desc->name; desc++) {
        bool dup = false;

        for (guint i = 0; i < list->len; i++) {
            const BlockCreateOptionDesc *d = g_ptr_array_index(list, i);
            dup |= !strcmp(d->name, desc->name);
        }
        if (!dup) {
            g_ptr_array_add(list, (gpointer)desc);
        }
    }
}

/*
 * "-o help": the format's options; with a file name, those of the
 * protocol too (they are where the file is made), as QEMU lists them.
 */
static int print_create_help(const char *fmt, const char *filename)
{
    const BlockCreateOptionDesc *fmt_opts = bdrv_create_options(fmt);
    g_autoptr(GPtrArray) list = g_ptr_array_new();

    if (!fmt_opts) {
        error_report("Format driver '%s' does not support image creation",
                     fmt);
        return 1;
    }
    add_descs(list, fmt_opts);
    if (filename && strcmp(fmt, "file")) {
        add_descs(list, bdrv_create_options("file"));
    }
    g_ptr_array_sort(list, desc_compare);

    if (filename) {
        printf("Supported options:\n");
    } else {
        printf("Supported %s options:\n", fmt);
    }
    for (guint i = 0; i < list->len; i++) {
        const BlockCreateOptionDesc *d = g_ptr_array_index(list, i);
        g_autofree char *left = g_strdup_printf("%s=<%s>", d->name,
                                                opt_type_name(d->type));

        printf("  %-22s - %s", left, d->help ? d->help : "");
        if (d->def_value_str) {
            printf(" (default: %s)", d->def_value_str);
        }
        printf("\n");
    }
    if (!filename) {
        printf("\nThe protocol level may support further options.\n"
               "Specify the target filename to include those options.\n");
    }
    return 0;
}

/* Whether an -o string asks for the option list ("help" or "?" alone). */
static bool is_help_request(const char *optstr)
{
    g_auto(GStrv) items = g_strsplit(optstr, ",", -1);

    for (int i = 0; items[i]; i++) {
        if (!strcmp(items[i], "help") || !strcmp(items[i], "?")) {
            return true;
        }
    }
    return false;
}

/* Merge one -o string into *opts: a later -o wins, as in QEMU. */
static bool merge_create_opts(QDict *opts, const char *optstr)
{
    Error *err = NULL;
    g_autoptr(QDict) parsed = keyval_parse(optstr, NULL, &err);
    g_autofree const char **keys = NULL;
    size_t n;

    if (!parsed) {
        error_free(err);
        error_report("Invalid option list: %s", optstr);
        return false;
    }
    keys = qdict_keys(parsed, &n);
    for (size_t i = 0; i < n; i++) {
        qdict_put_str(opts, keys[i], qdict_get_try_str(parsed, keys[i]));
    }
    return true;
}

static bool desc_has(const BlockCreateOptionDesc *d, const char *name)
{
    for (; d && d->name; d++) {
        if (!strcmp(d->name, name)) {
            return true;
        }
    }
    return false;
}

/*
 * Refuse unknown options before printing anything, as QEMU does (the
 * rule of bdrv_create(): the format's options and the protocol's).
 */
static bool check_create_keys(const char *fmt, const char *filename,
                              QDict *opts)
{
    g_autofree const char **keys = NULL;
    size_t n;

    if (!bdrv_create_options(fmt)) {
        error_report("%s: Format driver '%s' does not support image "
                     "creation", filename, fmt);
        return false;
    }
    keys = qdict_keys(opts, &n);
    for (size_t i = 0; i < n; i++) {
        if (!desc_has(bdrv_create_options(fmt), keys[i]) &&
            !desc_has(bdrv_create_options("file"), keys[i])) {
            error_report("%s: Invalid parameter '%s'", filename, keys[i]);
            return false;
        }
    }
    return true;
}

/*
 * QEMU's line before creating: the format, the size, then the format's
 * options (given, else their defaults), then other options given.
 */
static void print_formatting(const char *filename, const char *fmt,
                             int64_t size, QDict *opts)
{
    const BlockCreateOptionDesc *d = bdrv_create_options(fmt);
    g_autoptr(GString) line = g_string_new(NULL);
    g_autofree const char **keys = NULL;
    uint64_t bytes;
    size_t n;

    g_string_printf(line, "Formatting '%s', fmt=%s size=%" PRId64,
                    filename, fmt, size);
    for (; d && d->name; d++) {
        const char *v = qdict_get_try_str(opts, d->name);

        if (!strcmp(d->name, "size")) {
            continue;
        }
        v = v ? v : d->def_value_str;
        if (v && d->type == BLOCK_OPT_SIZE &&
            qemu_strtosz(v, NULL, &bytes) == 0) {
            /* Sizes in bytes, as QEMU prints them ("cluster_size=65536"). */
            g_string_append_printf(line, " %s=%" PRIu64, d->name, bytes);
        } else if (v) {
            g_string_append_printf(line, " %s=%s", d->name, v);
        }
    }
    keys = qdict_keys(opts, &n);
    for (size_t i = 0; i < n; i++) {
        if (!desc_has(bdrv_create_options(fmt), keys[i])) {
            g_string_append_printf(line, " %s=%s", keys[i],
                                   qdict_get_try_str(opts, keys[i]));
        }
    }
    printf("%s\n", line->str);
    fflush(stdout);
}

static void create_help(void)
{
    printf(
"Create and format a new image file.  Usage:\n"
"\n"
"  qemu-img create [-q] [-f FMT] [-o FMT_OPTS] FILENAME [SIZE[bkKMGTPE]]\n"
"\n"
"Arguments:\n"
"  -h, --help\n"
"     print this help and exit\n"
"  -q, --quiet\n"
"     quiet operation\n"
"  -f, --format FMT\n"
"     format of the new image, default is raw\n"
"  -o, --options FMT_OPTS\n"
"     format-specific options, comma-separated ('-o help' lists them)\n"
"  FILENAME\n"
"     image file to create; an existing file is overwritten\n"
"  SIZE\n"
"     image size with an optional suffix (multiples of 1024);\n"
"     may be given as -o size=SIZE instead\n");
}

static int img_create(int argc, char **argv)
{
    static const struct option lopt[] = {
        { "help", no_argument, NULL, 'h' },
        { "quiet", no_argument, NULL, 'q' },
        { "format", required_argument, NULL, 'f' },
        { "options", required_argument, NULL, 'o' },
        { "backing", required_argument, NULL, 'b' },
        { "backing-format", required_argument, NULL, 'F' },
        { "backing-unsafe", no_argument, NULL, 'u' },
        { NULL, 0, NULL, 0 }
    };
    g_autoptr(QDict) opts = qdict_new();
    const char *fmt = "raw";
    const char *filename;
    const char *backing = NULL;
    bool quiet = false, want_help = false;
    Error *err = NULL;
    uint64_t size = 0;
    bool have_size = false;
    int c;

    while ((c = getopt_long(argc, argv, "hqf:o:b:F:u", lopt, NULL)) != -1) {
        switch (c) {
        case 'h':
            create_help();
            return 0;
        case 'q':
            quiet = true;
            break;
        case 'f':
            fmt = optarg;
            break;
        case 'o':
            if (is_help_request(optarg)) {
                want_help = true;
            } else if (!merge_create_opts(opts, optarg)) {
                return 1;
            }
            break;
        case 'b':
            backing = optarg;
            break;
        case 'F':
        case 'u':
            break;
        default:
            usage_exit("create");
        }
    }

    if (want_help) {
        return print_create_help(fmt, optind < argc ? argv[optind] : NULL);
    }
    if (optind >= argc) {
        error_exit("create", "Expecting image file name");
    }
    filename = argv[optind++];
    if (optind < argc) {
        const char *arg = argv[optind++];
        int ret = qemu_strtosz(arg, NULL, &size);

        if (ret == -ERANGE || (ret == 0 && size > INT64_MAX)) {
            error_report("Invalid image size specified. Must be between 0 "
                         "and %" PRId64 ".", INT64_MAX);
            return 1;
        }
        if (ret < 0) {
            error_report("Invalid image size specified: '%s'.", arg);
            return 1;
        }
        have_size = true;
    }
    if (optind != argc) {
        error_exit("create", "Unexpected argument: %s", argv[optind]);
    }

    if (!format_exists(fmt)) {
        error_report("%s: Unknown file format '%s'", filename, fmt);
        return 1;
    }
    if (backing) {
        error_report("%s: Backing file not supported for file format '%s'",
                     filename, fmt);
        return 1;
    }
    if (qdict_haskey(opts, "size")) {
        uint64_t osize;

        if (have_size) {
            error_report("%s: The image size must be specified only once",
                         filename);
            return 1;
        }
        if (!qdict_take_size(opts, "size", 0, &osize, &err)) {
            error_reportf_err(err, "%s: ", filename);
            return 1;
        }
        if (osize > INT64_MAX) {
            error_report("%s: Invalid image size specified. Must be between "
                         "0 and %" PRId64 ".", filename, INT64_MAX);
            return 1;
        }
        size = osize;
        have_size = true;
    }
    if (!have_size) {
        error_report("%s: Image creation needs a size parameter", filename);
        return 1;
    }
    if (!check_create_keys(fmt, filename, opts)) {
        return 1;
    }

    if (!quiet) {
        print_formatting(filename, fmt, size, opts);
    }
    if (bdrv_create(fmt, filename, g_steal_pointer(&opts), size, &err) < 0) {
        error_reportf_err(err, "%s: ", filename);
        return 1;
    }
    return 0;
}

/* ---- info ---- */

/* One node's lines: indent is the prefix of each line. */
static void print_node_info(BlockDriverState *bs, const char *name,
                            bool top, const char *indent)
{
    int64_t len = bdrv_getlength(bs);
    int64_t alloc = bdrv_get_allocated_file_size(bs);
    g_autofree char *len_str = human_size(len > 0 ? len : 0);
    g_autoptr(GString) specific = g_string_new(NULL);
    BlockDriverInfo bdi;

    if (top) {
        printf("%simage: %s\n", indent, name);
        printf("%sfile format: %s\n", indent, bdrv_get_format_name(bs));
    } else {
        printf("%sfilename: %s\n", indent, bdrv_get_filename(bs));
        printf("%sprotocol type: %s\n", indent, bdrv_get_format_name(bs));
    }
    if (len < 0) {
        printf("%s%s: unavailable (%s)\n", indent,
               top ? "virtual size" : "file length", strerror(-len));
    } else {
        printf("%s%s: %s (%" PRId64 " bytes)\n", indent,
               top ? "virtual size" : "file length", len_str, len);
    }
    if (alloc < 0) {
        printf("%sdisk size: unavailable\n", indent);
    } else {
        g_autofree char *s = human_size(alloc);

        printf("%sdisk size: %s\n", indent, s);
    }
    if (bdrv_get_info(bs, &bdi) == 0 && bdi.cluster_size > 0) {
        printf("%scluster_size: %d\n", indent, bdi.cluster_size);
    }

    bdrv_format_specific_info(bs, specific);
    if (specific->len) {
        g_auto(GStrv) lines = g_strsplit(specific->str, "\n", -1);

        printf("%sFormat specific information:\n", indent);
        for (int i = 0; lines[i]; i++) {
            if (lines[i][0]) {
                printf("%s    %s\n", indent, lines[i]);
            }
        }
    }
}

static void print_info(BlockBackend *blk, const char *name)
{
    BlockDriverState *bs = blk_bs(blk);
    g_autofree char *path = g_strdup("");
    g_autofree char *indent = g_strdup("");

    print_node_info(bs, name, true, "");
    /* QEMU lists the chain of primary children, each by its path. */
    for (bs = bdrv_get_file_bs(bs); bs; bs = bdrv_get_file_bs(bs)) {
        char *p = g_strconcat(path, "/file", NULL);
        char *in = g_strconcat(indent, "    ", NULL);

        g_free(path);
        g_free(indent);
        path = p;
        indent = in;
        printf("Child node '%s':\n", path);
        print_node_info(bs, NULL, false, indent);
    }
}

static void info_help(void)
{
    printf(
"Display information about an image.  Usage:\n"
"\n"
"  qemu-img info [-f FMT | --image-opts] [-U] FILENAME\n"
"\n"
"Arguments:\n"
"  -h, --help\n"
"     print this help and exit\n"
"  -f, --format FMT\n"
"     the image format (default: probed from the image)\n"
"  --image-opts\n"
"     FILENAME is a complete image specification (driver=...,\n"
"     file.filename=...) instead of a file name (incompatible with -f)\n"
"  -U, --force-share\n"
"     accepted for compatibility (images are not locked)\n"
"  FILENAME\n"
"     image file name (or specification with --image-opts)\n");
}

static int img_info(int argc, char **argv)
{
    static const struct option lopt[] = {
        { "help", no_argument, NULL, 'h' },
        { "format", required_argument, NULL, 'f' },
        { "force-share", no_argument, NULL, 'U' },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "output", required_argument, NULL, OPTION_OUTPUT },
        { NULL, 0, NULL, 0 }
    };
    ImgSource src = { 0 };
    BlockBackend *blk;
    int c;

    while ((c = getopt_long(argc, argv, "hf:U", lopt, NULL)) != -1) {
        if (img_source_option("info", c, &src)) {
            continue;
        }
        switch (c) {
        case 'h':
            info_help();
            return 0;
        case 'U':
            break;
        default:
            usage_exit("info");
        }
    }
    if (!img_source_check("info", argc, &src)) {
        return 1;
    }

    blk = img_open(argv[optind], &src, 0);
    if (!blk) {
        return 1;
    }
    print_info(blk, src.image_opts ? bdrv_get_filename(blk_bs(blk))
                                   : argv[optind]);
    blk_unref(blk);
    return 0;
}

/* ---- check ---- */

static void print_check_messages(const BdrvCheckResult *r, bool quiet)
{
    for (guint i = 0; !quiet && r->messages && i < r->messages->len; i++) {
        printf("%s\n", (const char *)g_ptr_array_index(r->messages, i));
    }
}

/* QEMU's summary of a check, word for word. */
static void print_check_summary(const BdrvCheckResult *r, bool quiet)
{
    if (quiet) {
        return;
    }
    if (!r->corruptions && !r->leaks && !r->check_errors) {
        printf("No errors were found on the image.\n");
        return;
    }
    if (r->corruptions) {
        printf("\n%d errors were found on the image.\n"
               "Data may be corrupted, or further writes to the image may "
               "corrupt it.\n", r->corruptions);
    }
    if (r->leaks) {
        printf("\n%d leaked clusters were found on the image.\n"
               "This means waste of disk space, but no harm to data.\n",
               r->leaks);
    }
    if (r->check_errors) {
        printf("\n%d internal errors have occurred during the check.\n",
               r->check_errors);
    }
}

static void check_help(void)
{
    printf(
"Check the metadata of an image.  Usage:\n"
"\n"
"  qemu-img check [-q] [-f FMT | --image-opts] [-T CACHE_MODE]\n"
"        [-r leaks|all] [-U] FILENAME\n"
"\n"
"Arguments:\n"
"  -h, --help\n"
"     print this help and exit\n"
"  -q, --quiet\n"
"     quiet operation\n"
"  -f, --format FMT\n"
"     the image format (default: probed from the image)\n"
"  --image-opts\n"
"     FILENAME is a complete image specification instead of a file\n"
"     name (incompatible with -f)\n"
"  -T, --cache CACHE_MODE\n"
"     image cache mode (writeback)\n"
"  -U, --force-share\n"
"     accepted for compatibility (incompatible with -r)\n"
"  -r, --repair leaks|all\n"
"     repair leaks only, or every inconsistency found (the image is\n"
"     opened read-write)\n"
"  FILENAME\n"
"     the image file (or image specification) to check\n"
"\n"
"Exit status: 0 no errors, 1 the check could not run, 2 corruptions\n"
"found, 3 only leaks found, 63 the format has no check.\n");
}

static int img_check(int argc, char **argv)
{
    static const struct option lopt[] = {
        { "help", no_argument, NULL, 'h' },
        { "quiet", no_argument, NULL, 'q' },
        { "format", required_argument, NULL, 'f' },
        { "repair", required_argument, NULL, 'r' },
        { "cache", required_argument, NULL, 'T' },
        { "force-share", no_argument, NULL, 'U' },
        { "image-opts", no_argument, NULL, OPTION_IMAGE_OPTS },
        { "output", required_argument, NULL, OPTION_OUTPUT },
        { NULL, 0, NULL, 0 }
    };
    ImgSource src = { 0 };
    bool quiet = false, force_share = false;
    BdrvCheckMode fix = BDRV_FIX_NONE;
    BdrvCheckResult r;
    BlockBackend *blk;
    int flags = 0;
    int ret, c;

    while ((c = getopt_long(argc, argv, "hqf:r:T:U", lopt, NULL)) != -1) {
        if (img_source_option("check", c, &src)) {
            continue;
        }
        switch (c) {
        case 'h':
            check_help();
            return 0;
        case 'q':
            quiet = true;
            break;
        case 'r':
            if (!strcmp(optarg, "leaks")) {
                fix = BDRV_FIX_LEAKS;
            } else if (!strcmp(optarg, "all")) {
                fix = BDRV_FIX_LEAKS | BDRV_FIX_ERRORS;
            } else {
                error_exit("check", "--repair (-r) expects 'leaks' or "
                           "'all' not '%s'", optarg);
            }
            break;
        case 'T':
            if (!parse_cache(optarg, &flags)) {
                error_report("Invalid source cache option: %s", optarg);
                return 1;
            }
            break;
        case 'U':
            force_share = true;
            break;
        default:
            usage_exit("check");
        }
    }
    if (!img_source_check("check", argc, &src)) {
        return 1;
    }
    if (fix && force_share) {
        /* QEMU refuses it when opening, with this message. */
        error_report("Could not open '%s': force-share=on can only be used "
                     "with read-only images", argv[optind]);
        return 1;
    }
    if (fix) {
        flags |= BDRV_O_RDWR;
    }

    blk = img_open(argv[optind], &src, flags);
    if (!blk) {
        return 1;
    }
    ret = bdrv_check(blk_bs(blk), &r, fix);
    if (ret == -ENOTSUP) {
        error_report("This image format does not support checks");
        bdrv_check_result_cleanup(&r);
        blk_unref(blk);
        return CHECK_NOT_SUPPORTED;
    }
    if (ret == 0 && (r.corruptions_fixed || r.leaks_fixed)) {
        print_check_messages(&r, quiet);
        if (!quiet) {
            printf("The following inconsistencies were found and "
                   "repaired:\n\n"
                   "    %d leaked clusters\n"
                   "    %d corruptions\n\n"
                   "Double checking the fixed image now...\n",
                   r.leaks_fixed, r.corruptions_fixed);
        }
        bdrv_check_result_cleanup(&r);
        ret = bdrv_check(blk_bs(blk), &r, BDRV_FIX_NONE);
    }
    if (ret < 0) {
        print_check_messages(&r, quiet);
        error_report("Check failed: %s", strerror(-ret));
        bdrv_check_result_cleanup(&r);
        blk_unref(blk);
        return 1;
    }
    print_check_messages(&r, quiet);
    print_check_summary(&r, quiet);

    if (r.check_errors) {
        ret = 1;
    } else if (r.corruptions) {
        ret = 2;
    } else if (r.leaks) {
        ret = 3;
    }
    bdrv_check_result_cleanup(&r);
    blk_unref(blk);
    return ret;
}

/* ---- main ---- */

static const ImgCmd img_cmds[] = {
    { "check", img_check, "Check basic image integrity" },
    { "create", img_create, "Create and format new image file" },
    { "info", img_info, "Display information about image" },
};

static void print_format(void *opaque, const char *name)
{
    int *col = opaque;

    if (*col + 1 + (int)strlen(name) > 78) {
        printf("\n ");
        *col = 1;
    }
    printf(" %s", name);
    *col += 1 + strlen(name);
}

static void help(void)
{
    int col = 1;

    printf("qemu-img version " QEMU_IMG_VERSION " (qemu-zoned-block)\n"
           "Disk image utility.  Usage:\n"
           "\n"
           "  qemu-img [standard options] COMMAND [--help | command "
           "options]\n"
           "\n"
           "Standard options:\n"
           "  -h, --help\n"
           "     display this help and exit\n"
           "  -V, --version\n"
           "     display version info and exit\n"
           "\n"
           "Recognized commands (run qemu-img COMMAND --help for "
           "command-specific help):\n"
           "\n");
    for (size_t i = 0; i < ARRAY_SIZE(img_cmds); i++) {
        printf("  %s - %s\n", img_cmds[i].name, img_cmds[i].oneline);
    }
    printf("\nSupported image formats:\n\n ");
    bdrv_iterate_format(print_format, &col);
    printf("\n");
}

int main(int argc, char **argv)
{
    static const struct option lopt[] = {
        { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },
        { NULL, 0, NULL, 0 }
    };
    g_autofree char *cmdname = NULL;
    const char *cmd;
    int c;

    error_init(argv[0]);

    while ((c = getopt_long(argc, argv, "+hV", lopt, NULL)) != -1) {
        switch (c) {
        case 'h':
            help();
            return 0;
        case 'V':
            printf("%s version " QEMU_IMG_VERSION " (qemu-zoned-block)\n",
                   error_get_progname());
            return 0;
        default:
            usage_exit(NULL);
        }
    }
    if (optind >= argc) {
        error_exit(NULL, "Not enough arguments");
    }
    cmd = argv[optind];

    qemu_init_main_loop(&error_fatal);

    for (size_t i = 0; i < ARRAY_SIZE(img_cmds); i++) {
        if (!strcmp(cmd, img_cmds[i].name)) {
            /* Messages of the command say "qemu-img create: ...". */
            cmdname = g_strdup_printf("%s %s", error_get_progname(), cmd);
            argv[optind] = cmdname;
            argc -= optind;
            argv += optind;
            optind = 0;
            return img_cmds[i].handler(argc, argv);
        }
    }
    error_exit(NULL, "Command not found: %s", cmd);
}
