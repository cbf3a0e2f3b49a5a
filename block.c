/*
 * Block core: the driver registry, opening node graphs from options, the
 * parent/child graph with its reference counts, lengths and limits.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qemu/keyval.h"
#include "block/block_int.h"

/* Node names are at most this long (QEMU's limit, with the NUL). */
#define NODE_NAME_MAX ((int)sizeof(((BlockDriverState *)0)->node_name))

static QLIST_HEAD(, BlockDriver) bdrv_drivers =
    QLIST_HEAD_INITIALIZER(bdrv_drivers);
static QTAILQ_HEAD(, BlockDriverState) all_bdrv_states =
    QTAILQ_HEAD_INITIALIZER(all_bdrv_states);
static unsigned int auto_node_name_counter;

/* ---- driver registry ---- */

void bdrv_register(BlockDriver *drv)
{
    g_assert(drv->format_name && !bdrv_find_format(drv->format_name));
    QLIST_INSERT_HEAD(&bdrv_drivers, drv, list);
}

BlockDriver *bdrv_find_format(const char *name)
{
    BlockDriver *drv;

    QLIST_FOREACH(drv, &bdrv_drivers, list) {
        if (strcmp(drv->format_name, name) == 0) {
            return drv;
        }
    }
    return NULL;
}

BlockDriver *bdrv_probe_all(const uint8_t *buf, int buf_size,
                            const char *filename)
{
    BlockDriver *drv, *best = NULL;
    int best_score = 0;

    QLIST_FOREACH(drv, &bdrv_drivers, list) {
        int score = drv->bdrv_probe ? drv->bdrv_probe(buf, buf_size,
                                                      filename) : 0;

        if (score > best_score) {
            best_score = score;
            best = drv;
        }
    }
    return best;
}

static gint compare_names(gconstpointer a, gconstpointer b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorted, like QEMU's help output, not in registration order. */
void bdrv_iterate_format(void (*it)(void *opaque, const char *name),
                         void *opaque)
{
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    BlockDriver *drv;

    QLIST_FOREACH(drv, &bdrv_drivers, list) {
        g_ptr_array_add(names, (gpointer)drv->format_name);
    }
    g_ptr_array_sort(names, compare_names);
    for (guint i = 0; i < names->len; i++) {
        it(opaque, g_ptr_array_index(names, i));
    }
}

/* ---- node lookup and accessors ---- */

BlockDriverState *bdrv_find_node(const char *node_name)
{
    BlockDriverState *bs;

    QTAILQ_FOREACH(bs, &all_bdrv_states, node_list) {
        if (strcmp(bs->node_name, node_name) == 0) {
            return bs;
        }
    }
    return NULL;
}

const char *bdrv_get_format_name(BlockDriverState *bs)
{
    return bs->drv ? bs->drv->format_name : NULL;
}

const char *bdrv_get_node_name(BlockDriverState *bs)
{
    return bs->node_name;
}

bool bdrv_is_read_only(BlockDriverState *bs)
{
    return bs->read_only;
}

AioContext *bdrv_get_aio_context(BlockDriverState *bs)
{
    return bs->aio_context;
}

/* ---- lengths ---- */

/* The driver's answer may change at any time if any node below says so. */
static bool bdrv_has_variable_length(BlockDriverState *bs)
{
    BdrvChild *c;

    if (bs->drv->has_variable_length) {
        return true;
    }
    QLIST_FOREACH(c, &bs->children, next) {
        if (bdrv_has_variable_length(c->bs)) {
            return true;
        }
    }
    return false;
}

static int bdrv_refresh_total_sectors(BlockDriverState *bs)
{
    int64_t len;

    if (bs->drv->bdrv_getlength) {
        len = bs->drv->bdrv_getlength(bs);
    } else if (bs->file) {
        len = bdrv_getlength(bs->file->bs);
    } else {
        len = -ENOTSUP;
    }
    if (len < 0) {
        return len;
    }
    /* Rounded up: a partial sector at the end counts as a whole one. */
    bs->total_sectors = len / BDRV_SECTOR_SIZE +
                        (len % BDRV_SECTOR_SIZE != 0);
    return 0;
}

int64_t bdrv_getlength(BlockDriverState *bs)
{
    int ret;

    if (!bs || !bs->drv) {
        return -ENOMEDIUM;
    }
    if (bs->total_sectors < 0 || bdrv_has_variable_length(bs)) {
        ret = bdrv_refresh_total_sectors(bs);
        if (ret < 0) {
            return ret;
        }
    }
    if (bs->total_sectors > INT64_MAX / (int64_t)BDRV_SECTOR_SIZE) {
        return -EFBIG;
    }
    return bs->total_sectors * (int64_t)BDRV_SECTOR_SIZE;
}

/*
 * A write ended at 'end' bytes: grow the cached length of bs, and make the
 * nodes above ask their drivers again, since their length may derive from
 * ours.
 */
static void bdrv_invalidate_parents_length(BlockDriverState *bs)
{
    BdrvChild *c;

    QLIST_FOREACH(c, &bs->parents, next_parent) {
        if (c->parent) {
            c->parent->total_sectors = -1;
            bdrv_invalidate_parents_length(c->parent);
        }
    }
}

void bdrv_note_write_end(BlockDriverState *bs, int64_t end)
{
    int64_t end_sectors = end / BDRV_SECTOR_SIZE +
                          (end % BDRV_SECTOR_SIZE != 0);

    if (bs->total_sectors >= 0 && end_sectors > bs->total_sectors) {
        bs->total_sectors = end_sectors;
        bdrv_invalidate_parents_length(bs);
    }
}

/* After a resize: forget the cached lengths of bs and everything above. */
void bdrv_note_resize(BlockDriverState *bs)
{
    bs->total_sectors = -1;
    bdrv_invalidate_parents_length(bs);
}

int64_t bdrv_get_allocated_file_size(BlockDriverState *bs)
{
    BdrvChild *c;
    int64_t sum = 0;

    if (!bs || !bs->drv) {
        return -ENOMEDIUM;
    }
    if (bs->drv->bdrv_get_allocated_file_size) {
        return bs->drv->bdrv_get_allocated_file_size(bs);
    }
    if (!bs->drv->is_format) {
        return -ENOTSUP;
    }
    /* A format without its own answer: what its children occupy. */
    QLIST_FOREACH(c, &bs->children, next) {
        int64_t size = bdrv_get_allocated_file_size(c->bs);

        if (size < 0) {
            return size;
        }
        sum += size;
    }
    return sum;
}

int bdrv_get_info(BlockDriverState *bs, BlockDriverInfo *bdi)
{
    memset(bdi, 0, sizeof(*bdi));
    if (!bs || !bs->drv) {
        return -ENOMEDIUM;
    }
    if (!bs->drv->bdrv_get_info) {
        return -ENOTSUP;
    }
    return bs->drv->bdrv_get_info(bs, bdi);
}

/* ---- limits ---- */

size_t bdrv_min_mem_align(BlockDriverState *bs)
{
    return bs->bl.min_mem_alignment ? bs->bl.min_mem_alignment : 1;
}

size_t bdrv_opt_mem_align(BlockDriverState *bs)
{
    size_t align = bs->bl.opt_mem_alignment;

    if (!align) {
        align = qemu_real_host_page_size();
    }
    return MAX(align, bdrv_min_mem_align(bs));
}

static uint64_t min_non_zero(uint64_t a, uint64_t b)
{
    if (!a) {
        return b;
    }
    if (!b) {
        return a;
    }
    return MIN(a, b);
}

/* Seed dst with the strictest of dst and a child's limits src. */
static void bdrv_merge_limits(BlockLimits *dst, const BlockLimits *src)
{
    dst->request_alignment = MAX(dst->request_alignment,
                                 src->request_alignment);
    dst->max_transfer = min_non_zero(dst->max_transfer, src->max_transfer);
    dst->opt_transfer = MAX(dst->opt_transfer, src->opt_transfer);
    dst->min_mem_alignment = MAX(dst->min_mem_alignment,
                                 src->min_mem_alignment);
    dst->opt_mem_alignment = MAX(dst->opt_mem_alignment,
                                 src->opt_mem_alignment);
    dst->max_iov = min_non_zero(dst->max_iov, src->max_iov);
    dst->max_pdiscard = min_non_zero(dst->max_pdiscard, src->max_pdiscard);
    dst->pdiscard_alignment = MAX(dst->pdiscard_alignment,
                                  src->pdiscard_alignment);
    dst->max_pwrite_zeroes = min_non_zero(dst->max_pwrite_zeroes,
                                          src->max_pwrite_zeroes);
    dst->pwrite_zeroes_alignment = MAX(dst->pwrite_zeroes_alignment,
                                       src->pwrite_zeroes_alignment);
    dst->logical_block_size = MAX(dst->logical_block_size,
                                  src->logical_block_size);
    dst->physical_block_size = MAX(dst->physical_block_size,
                                   src->physical_block_size);
    /*
     * A node over a zoned child is zoned with the child's geometry (the
     * first zoned child's, should a driver ever have several); a driver
     * that changes the address space (raw's window) adjusts nr_zones.
     */
    if (dst->zoned == BLK_Z_NONE && src->zoned != BLK_Z_NONE) {
        dst->zoned = src->zoned;
        dst->zone_size = src->zone_size;
        dst->zone_capacity = src->zone_capacity;
        dst->nr_zones = src->nr_zones;
        dst->max_open_zones = src->max_open_zones;
        dst->max_active_zones = src->max_active_zones;
        dst->max_append_bytes = src->max_append_bytes;
        dst->write_granularity = src->write_granularity;
    }
}

/* The zone fields io.c relies on for a zoned node; cleared for others. */
static bool bdrv_check_zone_limits(BlockDriverState *bs, Error **errp)
{
    BlockLimits *bl = &bs->bl;

    if (bl->zoned == BLK_Z_NONE) {
        bl->zone_size = bl->zone_capacity = bl->max_append_bytes = 0;
        bl->nr_zones = bl->max_open_zones = bl->max_active_zones = 0;
        bl->write_granularity = 0;
        return true;
    }
    if (!is_power_of_2(bl->zone_size) ||
        bl->zone_size % bl->request_alignment) {
        error_setg(errp, "Node '%s' (driver '%s') reports a zone size of %"
                   PRIu64 " bytes; it must be a power of two and a "
                   "multiple of the request alignment (%" PRIu32 " bytes)",
                   bs->node_name, bs->drv->format_name, bl->zone_size,
                   bl->request_alignment);
        return false;
    }
    if (bl->zone_capacity > bl->zone_size) {
        error_setg(errp, "Node '%s' (driver '%s') reports a zone capacity "
                   "of %" PRIu64 " bytes, larger than its zone size (%"
                   PRIu64 " bytes)", bs->node_name, bs->drv->format_name,
                   bl->zone_capacity, bl->zone_size);
        return false;
    }
    if (!bl->write_granularity) {
        bl->write_granularity = bl->request_alignment;
    }
    return true;
}

/* Make the limits consistent so that io.c can rely on them. */
static bool bdrv_check_limits(BlockDriverState *bs, Error **errp)
{
    BlockLimits *bl = &bs->bl;
    uint64_t io_align;

    if (!bl->request_alignment) {
        bl->request_alignment = 1;
    }
    if (!is_power_of_2(bl->request_alignment) ||
        bl->request_alignment > (1u << 30)) {
        error_setg(errp, "Node '%s' (driver '%s') reports a request "
                   "alignment of %" PRIu32 " bytes; it must be a power of "
                   "two of at most 1 GiB", bs->node_name,
                   bs->drv->format_name, bl->request_alignment);
        return false;
    }
    if (bl->min_mem_alignment && !is_power_of_2(bl->min_mem_alignment)) {
        error_setg(errp, "Node '%s' (driver '%s') reports a memory "
                   "alignment of %zu bytes; it must be a power of two",
                   bs->node_name, bs->drv->format_name,
                   bl->min_mem_alignment);
        return false;
    }
    if (bl->opt_mem_alignment && !is_power_of_2(bl->opt_mem_alignment)) {
        bl->opt_mem_alignment = 0;
    }
    if (bl->opt_mem_alignment && bl->opt_mem_alignment <
        bl->min_mem_alignment) {
        bl->opt_mem_alignment = bl->min_mem_alignment;
    }

    /* Chunk boundaries must keep both offsets and buffers aligned. */
    io_align = MAX(bl->request_alignment, bdrv_min_mem_align(bs));
    if (bl->max_transfer) {
        bl->max_transfer = MAX(QEMU_ALIGN_DOWN(bl->max_transfer, io_align),
                               io_align);
    }
    if (bl->pdiscard_alignment) {
        bl->pdiscard_alignment = QEMU_ALIGN_UP(bl->pdiscard_alignment,
                                               bl->request_alignment);
    }
    if (bl->pwrite_zeroes_alignment) {
        bl->pwrite_zeroes_alignment =
            QEMU_ALIGN_UP(bl->pwrite_zeroes_alignment,
                          bl->request_alignment);
    }
    if (bl->max_pdiscard) {
        uint64_t a = MAX(bl->pdiscard_alignment, bl->request_alignment);

        bl->max_pdiscard = MAX(QEMU_ALIGN_DOWN(bl->max_pdiscard, a), a);
    }
    if (bl->max_pwrite_zeroes) {
        uint64_t a = MAX(bl->pwrite_zeroes_alignment, bl->request_alignment);

        bl->max_pwrite_zeroes = MAX(QEMU_ALIGN_DOWN(bl->max_pwrite_zeroes,
                                                    a), a);
    }
    if (bl->max_iov < 0) {
        bl->max_iov = 0;
    }
    return bdrv_check_zone_limits(bs, errp);
}

/* Recompute bs->bl from its children's current limits and the driver. */
static void bdrv_refresh_limits_one(BlockDriverState *bs, Error **errp)
{
    Error *local_err = NULL;
    BlockLimits bl = { 0 };
    BdrvChild *c;

    QLIST_FOREACH(c, &bs->children, next) {
        bdrv_merge_limits(&bl, &c->bs->bl);
    }
    if (!bl.request_alignment) {
        bl.request_alignment = 1;
    }
    bs->bl = bl;

    if (bs->drv->bdrv_refresh_limits) {
        bs->drv->bdrv_refresh_limits(bs, &local_err);
        if (local_err) {
            error_propagate(errp, local_err);
            return;
        }
    }
    bdrv_check_limits(bs, errp);
}

void bdrv_refresh_limits(BlockDriverState *bs, Error **errp)
{
    Error *local_err = NULL;
    BdrvChild *c;

    if (!bs->drv) {
        return;
    }
    QLIST_FOREACH(c, &bs->children, next) {
        bdrv_refresh_limits(c->bs, &local_err);
        if (local_err) {
            error_propagate(errp, local_err);
            return;
        }
    }
    bdrv_refresh_limits_one(bs, errp);
}

/* ---- graph ---- */

void bdrv_ref(BlockDriverState *bs)
{
    bs->refcnt++;
}

static void bdrv_detach_child(BdrvChild *child)
{
    if (child->parent) {
        QLIST_REMOVE(child, next);
        if (child->parent->file == child) {
            child->parent->file = NULL;
        }
    }
    QLIST_REMOVE(child, next_parent);
}

void bdrv_unref_child(BlockDriverState *parent, BdrvChild *child)
{
    BlockDriverState *bs;

    if (!child) {
        return;
    }
    g_assert(child->parent == parent);
    bs = child->bs;
    bdrv_detach_child(child);
    g_free(child->name);
    g_free(child);
    bdrv_unref(bs);
}

static void bdrv_unref_all_children(BlockDriverState *bs)
{
    BdrvChild *c, *next;

    QLIST_FOREACH_SAFE(c, &bs->children, next, next) {
        bdrv_unref_child(bs, c);
    }
}

static void bdrv_free(BlockDriverState *bs)
{
    if (QTAILQ_IN_USE(bs, node_list)) {
        QTAILQ_REMOVE(&all_bdrv_states, bs, node_list);
    }
    g_free(bs->opaque);
    g_free(bs);
}

static void bdrv_close(BlockDriverState *bs)
{
    g_assert(QLIST_EMPTY(&bs->parents));
    if (bs->in_flight && !qemu_in_coroutine()) {
        bdrv_drain(bs);
    }
    g_assert(!bs->in_flight);
    if (bs->drv && bs->drv->bdrv_close) {
        bs->drv->bdrv_close(bs);
    }
    bdrv_unref_all_children(bs);
    bdrv_free(bs);
}

void bdrv_unref(BlockDriverState *bs)
{
    if (!bs) {
        return;
    }
    g_assert(bs->refcnt > 0);
    if (--bs->refcnt == 0) {
        bdrv_close(bs);
    }
}

static BdrvChild *bdrv_attach_child(BlockDriverState *parent,
                                    BlockDriverState *bs, const char *name)
{
    BdrvChild *child = g_new0(BdrvChild, 1);

    child->bs = bs;
    child->parent = parent;
    child->name = g_strdup(name);
    QLIST_INSERT_HEAD(&bs->parents, child, next_parent);
    if (parent) {
        QLIST_INSERT_HEAD(&parent->children, child, next);
    }
    return child;
}

/* For a BlockBackend: a root child with no parent node. */
BdrvChild *bdrv_root_attach_child(BlockDriverState *bs, const char *name)
{
    bdrv_ref(bs);
    return bdrv_attach_child(NULL, bs, name);
}

void bdrv_root_unref_child(BdrvChild *child)
{
    BlockDriverState *bs = child->bs;

    g_assert(!child->parent);
    bdrv_detach_child(child);
    g_free(child->name);
    g_free(child);
    bdrv_unref(bs);
}

/* ---- opening ---- */

/* QEMU's rule: a letter, then letters, digits, '-', '.' and '_'. */
static bool node_name_ok(const char *name)
{
    if (!g_ascii_isalpha(name[0])) {
        return false;
    }
    for (const char *p = name + 1; *p; p++) {
        if (!g_ascii_isalnum(*p) && !strchr("-._", *p)) {
            return false;
        }
    }
    return true;
}

static bool bdrv_set_node_name(BlockDriverState *bs, const char *name,
                               Error **errp)
{
    if (!name) {
        /* '#' cannot appear in user-given names, so no clash is possible. */
        snprintf(bs->node_name, sizeof(bs->node_name), "#block%u",
                 auto_node_name_counter++);
        return true;
    }
    if (!node_name_ok(name)) {
        error_setg(errp, "Invalid node-name: '%s'", name);
        return false;
    }
    if (strlen(name) >= NODE_NAME_MAX) {
        error_setg(errp, "Node name too long");
        return false;
    }
    if (bdrv_find_node(name)) {
        error_setg(errp, "Duplicate nodes with node-name='%s'", name);
        return false;
    }
    g_strlcpy(bs->node_name, name, sizeof(bs->node_name));
    return true;
}

/*
 * The options every node understands.  They start from the parent's
 * flags (or the caller's for the top node), so children inherit them
 * unless they override them with their own keys.
 */
static bool bdrv_take_generic_options(QDict *opts, int *flags,
                                      char **node_name, Error **errp)
{
    bool read_only, direct, no_flush;

    if (!qdict_take_bool(opts, "read-only", !(*flags & BDRV_O_RDWR),
                         &read_only, errp) ||
        !qdict_take_bool(opts, "cache.direct", *flags & BDRV_O_NOCACHE,
                         &direct, errp) ||
        !qdict_take_bool(opts, "cache.no-flush", *flags & BDRV_O_NO_FLUSH,
                         &no_flush, errp) ||
        !qdict_take_str(opts, "node-name", NULL, node_name, errp)) {
        return false;
    }
    *flags &= ~(BDRV_O_RDWR | BDRV_O_NOCACHE | BDRV_O_NO_FLUSH);
    *flags |= (read_only ? 0 : BDRV_O_RDWR) |
              (direct ? BDRV_O_NOCACHE : 0) |
              (no_flush ? BDRV_O_NO_FLUSH : 0);
    return true;
}

/*
 * Open one node from opts, which holds exactly this node's options (its
 * children's under "child.").  Everything the node uses is taken out of
 * opts; leftovers are an error.  The caller frees opts.
 */
static BlockDriverState *bdrv_open_node(QDict *opts, int flags,
                                        bool probed, Error **errp)
{
    g_autofree char *drvname = NULL;
    g_autofree char *node_name = NULL;
    Error *local_err = NULL;
    BlockDriverState *bs;
    BlockDriver *drv;
    const char *filename;
    int ret;

    qdict_take_str(opts, "driver", NULL, &drvname, &error_abort);
    if (!drvname) {
        error_setg(errp, "Parameter '%sdriver' is required",
                   qdict_get_prefix(opts));
        return NULL;
    }
    drv = bdrv_find_format(drvname);
    if (!drv) {
        error_setg(errp, "Unknown driver '%s'", drvname);
        return NULL;
    }
    if (!bdrv_take_generic_options(opts, &flags, &node_name, errp)) {
        return NULL;
    }

    bs = g_new0(BlockDriverState, 1);
    bs->refcnt = 1;
    bs->total_sectors = -1;
    bs->aio_context = qemu_get_current_aio_context();
    QLIST_INIT(&bs->children);
    QLIST_INIT(&bs->parents);
    QLIST_INIT(&bs->tracked_requests);
    qemu_co_queue_init(&bs->drain_queue);
    bs->bl.request_alignment = 1;
    if (!bdrv_set_node_name(bs, node_name, errp)) {
        g_free(bs);
        return NULL;
    }
    /* Listed before the driver opens children, so names stay unique. */
    QTAILQ_INSERT_TAIL(&all_bdrv_states, bs, node_list);

    bs->open_flags = flags;
    bs->read_only = !(flags & BDRV_O_RDWR);
    bs->probed = probed;
    bs->supported_write_flags = drv->supported_write_flags;
    bs->supported_zero_flags = drv->supported_zero_flags;
    filename = qdict_get_try_str(opts, "filename");
    if (filename) {
        g_strlcpy(bs->filename, filename, sizeof(bs->filename));
    }
    bs->opaque = g_malloc0(MAX(drv->instance_size, 1));
    bs->drv = drv;

    ret = drv->bdrv_open ? drv->bdrv_open(bs, opts, flags, &local_err) : 0;
    if (ret < 0 || local_err) {
        if (!local_err) {
            error_setg_errno(&local_err, -ret, "Could not open node '%s' "
                             "(driver '%s')", bs->node_name, drvname);
        }
        error_propagate(errp, local_err);
        bdrv_unref_all_children(bs);
        bdrv_free(bs);
        return NULL;
    }
    if (qdict_size(opts)) {
        /* QEMU's wording, so scripts matching its messages keep working. */
        size_t n;
        g_autofree const char **keys = qdict_keys(opts, &n);

        error_setg(errp, drv->is_format ?
                   "Block format '%s' does not support the option '%s'" :
                   "Block protocol '%s' doesn't support the option '%s'",
                   drvname, keys[0]);
        goto fail;
    }
    if (!bs->filename[0] && bs->file) {
        g_strlcpy(bs->filename, bs->file->bs->filename,
                  sizeof(bs->filename));
    }

    /* The children's limits are fresh: they were just opened. */
    bdrv_refresh_limits_one(bs, &local_err);
    if (local_err) {
        error_propagate(errp, local_err);
        goto fail;
    }
    ret = bdrv_refresh_total_sectors(bs);
    if (ret < 0) {
        error_setg_errno(errp, -ret, "Could not refresh total sector count");
        goto fail;
    }
    return bs;

fail:
    bdrv_unref(bs);
    return NULL;
}

BdrvChild *bdrv_open_child(const char *name, BlockDriverState *parent,
                           QDict *options, const char *default_driver,
                           int flags, Error **errp)
{
    g_autoptr(QDict) sub = qdict_extract_subdict(options, name);
    const char *ref = qdict_get_try_str(options, name);
    BlockDriverState *bs;
    BdrvChild *child;

    if (ref) {
        /* "file=NODE": use an existing node. */
        if (qdict_size(sub)) {
            error_setg(errp, "Cannot reference an existing block device "
                       "with additional options or a new filename");
            return NULL;
        }
        bs = bdrv_find_node(ref);
        if (!bs) {
            error_setg(errp, "Cannot find node-name '%s' (given by "
                       "parameter '%s%s')", ref, qdict_get_prefix(options),
                       name);
            return NULL;
        }
        qdict_del(options, name);
        bdrv_ref(bs);
    } else {
        if (!qdict_size(sub)) {
            error_setg(errp, "A block device must be specified for \"%s\"",
                       name);
            return NULL;
        }
        if (!qdict_haskey(sub, "driver")) {
            if (!default_driver) {
                error_setg(errp, "Parameter '%sdriver' is required",
                           qdict_get_prefix(sub));
                return NULL;
            }
            qdict_put_str(sub, "driver", default_driver);
        }
        bs = bdrv_open_node(sub, flags, false, errp);
        if (!bs) {
            return NULL;
        }
    }

    /* A parent opened for writing writes through its children. */
    if ((flags & BDRV_O_RDWR) && bs->read_only) {
        error_setg(errp, "Block node is read-only");
        bdrv_unref(bs);
        return NULL;
    }
    if (bs->aio_context != parent->aio_context) {
        error_setg(errp, "Node '%s' is in another AioContext than its "
                   "parent '%s'", bs->node_name, parent->node_name);
        bdrv_unref(bs);
        return NULL;
    }
    child = bdrv_attach_child(parent, bs, name);
    /* The reference taken by opening (or bdrv_ref) now belongs to child. */
    return child;
}

typedef struct ProbeRead {
    BdrvChild *child;
    uint8_t *buf;
    int ret;
    bool done;
} ProbeRead;

static void coroutine_fn bdrv_probe_read_entry(void *opaque)
{
    ProbeRead *p = opaque;
    QEMUIOVector qiov;

    qemu_iovec_init_buf(&qiov, p->buf, BLOCK_PROBE_BUF_SIZE);
    p->ret = bdrv_co_preadv(p->child, 0, BLOCK_PROBE_BUF_SIZE, &qiov, 0);
    __atomic_store_n(&p->done, true, __ATOMIC_RELEASE);
}

/*
 * The format of the image in file_bs, from its first sector.  An empty
 * file holds no format: it is raw without a read (as QEMU).  Lengths
 * are whole sectors, so a shorter file reads zero-padded.
 */
static BlockDriver *bdrv_find_image_format(BlockDriverState *file_bs,
                                           const char *filename,
                                           Error **errp)
{
    ProbeRead p = { 0 };
    BlockDriver *drv;
    int64_t len = bdrv_getlength(file_bs);

    if (len < 0) {
        error_setg_errno(errp, -len, "Could not determine the image size "
                         "for determining its format");
        return NULL;
    }
    if (len == 0) {
        return bdrv_find_format("raw");
    }
    p.buf = qemu_memalign(bdrv_opt_mem_align(file_bs), BLOCK_PROBE_BUF_SIZE);
    memset(p.buf, 0, BLOCK_PROBE_BUF_SIZE);
    /* A root child for the read only: the node has no parent yet. */
    p.child = bdrv_root_attach_child(file_bs, "probe");
    bdrv_poll_co(file_bs->aio_context, bdrv_probe_read_entry, &p, &p.done);
    bdrv_root_unref_child(p.child);
    if (p.ret < 0) {
        error_setg_errno(errp, -p.ret, "Could not read image for "
                         "determining its format");
        qemu_vfree(p.buf);
        return NULL;
    }
    drv = bdrv_probe_all(p.buf, BLOCK_PROBE_BUF_SIZE, filename);
    qemu_vfree(p.buf);
    if (!drv) {
        error_setg(errp, "Could not determine image format: No compatible "
                   "driver found");
    }
    return drv;
}

/*
 * No driver given: open the protocol node (child "file") first, read its
 * first sector and open the format that probing picks over it.
 */
static BlockDriverState *bdrv_open_probed(QDict *opts, int flags,
                                          Error **errp)
{
    g_autoptr(QDict) generic = qdict_clone(opts);
    g_autofree char *unused_name = NULL;
    const char *ref = qdict_get_try_str(opts, "file");
    BlockDriverState *file_bs, *bs;
    BlockDriver *drv;
    int file_flags = flags;

    /* The protocol inherits the flags the format node will pass on. */
    if (!bdrv_take_generic_options(generic, &file_flags, &unused_name,
                                   errp)) {
        return NULL;
    }
    if (ref) {
        file_bs = bdrv_find_node(ref);
        if (!file_bs) {
            /* Let raw's open say what is wrong, as before probing. */
            qdict_put_str(opts, "driver", "raw");
            return bdrv_open_node(opts, flags, false, errp);
        }
        bdrv_ref(file_bs);
    } else {
        g_autoptr(QDict) sub = qdict_extract_subdict(opts, "file");

        if (!qdict_haskey(sub, "driver")) {
            qdict_put_str(sub, "driver", "file");
        }
        file_bs = bdrv_open_node(sub, file_flags, false, errp);
        if (!file_bs) {
            return NULL;
        }
        qdict_put_str(opts, "file", file_bs->node_name);
    }

    drv = bdrv_find_image_format(file_bs, file_bs->filename, errp);
    if (drv) {
        qdict_put_str(opts, "driver", drv->format_name);
        bs = bdrv_open_node(opts, flags, true, errp);
    } else {
        bs = NULL;
    }
    /* The format's child holds its own reference. */
    bdrv_unref(file_bs);
    return bs;
}

/* Does opts name a child "file" (a node, or options for a new one)? */
static bool has_file_options(const QDict *opts)
{
    size_t n;
    g_autofree const char **keys = qdict_keys(opts, &n);

    for (size_t i = 0; i < n; i++) {
        if (!strcmp(keys[i], "file") || g_str_has_prefix(keys[i], "file.")) {
            return true;
        }
    }
    return false;
}

BlockDriverState *bdrv_open(const char *filename, QDict *options, int flags,
                            Error **errp)
{
    g_autoptr(QDict) opts = options ? options : qdict_new();
    const char *drvname;
    BlockDriver *drv;
    bool probe;

    drvname = qdict_get_try_str(opts, "driver");
    /* No driver: probe for a format over the protocol "file". */
    probe = !drvname;
    if (probe) {
        drvname = "raw";
    }
    if (filename) {
        const char *key;

        drv = bdrv_find_format(drvname);
        if (!drv) {
            error_setg(errp, "Unknown driver '%s'", drvname);
            return NULL;
        }
        key = drv->is_format ? "file.filename" : "filename";
        if (qdict_haskey(opts, key)) {
            error_setg(errp, "Cannot specify both a filename ('%s') and the "
                       "option '%s'", filename, key);
            return NULL;
        }
        if (drv->is_format && qdict_haskey(opts, "file")) {
            error_setg(errp, "Cannot specify both a filename ('%s') and the "
                       "option 'file'", filename);
            return NULL;
        }
        qdict_put_str(opts, key, filename);
        /*
         * Like QEMU's protocol probe: a block or character device named
         * on the command line is opened with host_device, not "file".
         */
        if (drv->is_format && !qdict_haskey(opts, "file.driver")) {
            struct stat st;

            if (stat(filename, &st) == 0 &&
                (S_ISBLK(st.st_mode) || S_ISCHR(st.st_mode))) {
                qdict_put_str(opts, "file.driver", "host_device");
            }
        }
    }
    if (probe && has_file_options(opts)) {
        return bdrv_open_probed(opts, flags, errp);
    }
    if (probe) {
        /* Nothing to probe: raw's open reports the missing file. */
        qdict_put_str(opts, "driver", "raw");
    }
    return bdrv_open_node(opts, flags, false, errp);
}

/* ---- image creation, checks and info (qemu-img) ---- */

static bool create_opts_has(const BlockCreateOptionDesc *desc,
                            const char *name)
{
    for (; desc && desc->name; desc++) {
        if (!strcmp(desc->name, name)) {
            return true;
        }
    }
    return false;
}

const BlockCreateOptionDesc *bdrv_create_options(const char *drv_name)
{
    BlockDriver *drv = bdrv_find_format(drv_name);

    return drv && drv->bdrv_create ? drv->create_opts : NULL;
}

/*
 * Unknown keys are refused before anything touches the file, so that a
 * typo in -o never leaves a half-made image behind (as QEMU).  A format
 * creates its file through the "file" protocol, whose options it passes
 * on: they are known too.
 */
int bdrv_create(const char *drv_name, const char *filename, QDict *opts,
                int64_t size, Error **errp)
{
    g_autoptr(QDict) o = opts ? opts : qdict_new();
    const BlockCreateOptionDesc *proto = bdrv_create_options("file");
    BlockDriver *drv = bdrv_find_format(drv_name);
    g_autofree const char **keys = NULL;
    size_t n;
    int ret;

    if (!drv) {
        error_setg(errp, "Unknown file format '%s'", drv_name);
        return -ENOENT;
    }
    if (!drv->bdrv_create) {
        error_setg(errp, "Format driver '%s' does not support image "
                   "creation", drv_name);
        return -ENOTSUP;
    }
    if (size < 0) {
        error_setg(errp, "Invalid image size %" PRId64 " for '%s'", size,
                   filename);
        return -EINVAL;
    }
    keys = qdict_keys(o, &n);
    for (size_t i = 0; i < n; i++) {
        if (!create_opts_has(drv->create_opts, keys[i]) &&
            !(drv->is_format && create_opts_has(proto, keys[i]))) {
            error_setg(errp, "Invalid parameter '%s'", keys[i]);
            return -EINVAL;
        }
    }
    ret = drv->bdrv_create(filename, o, size, errp);
    if (ret < 0) {
        return ret;
    }
    /* A driver that left a known option unused: say so, not silently. */
    return qdict_check_empty(o, errp) ? 0 : -EINVAL;
}

int bdrv_check(BlockDriverState *bs, BdrvCheckResult *result,
               BdrvCheckMode fix)
{
    memset(result, 0, sizeof(*result));
    result->messages = g_ptr_array_new_with_free_func(g_free);
    if (!bs || !bs->drv) {
        return -ENOMEDIUM;
    }
    if (!bs->drv->bdrv_check) {
        return -ENOTSUP;
    }
    if (fix && bs->read_only) {
        return -EPERM;
    }
    return bs->drv->bdrv_check(bs, result, fix);
}

void bdrv_check_result_cleanup(BdrvCheckResult *result)
{
    if (result->messages) {
        g_ptr_array_free(result->messages, true);
        result->messages = NULL;
    }
}

void bdrv_format_specific_info(BlockDriverState *bs, GString *out)
{
    if (bs && bs->drv && bs->drv->bdrv_format_specific_info) {
        bs->drv->bdrv_format_specific_info(bs, out);
    }
}

const char *bdrv_get_filename(BlockDriverState *bs)
{
    return bs->filename;
}

BlockDriverState *bdrv_get_file_bs(BlockDriverState *bs)
{
    return bs->file ? bs->file->bs : NULL;
}
