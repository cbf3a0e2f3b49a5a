/*
 * vduse-blk: the VDUSE transport for the virtio-blk device model.
 *
 * The kernel owns the control path (feature negotiation, config space,
 * ring addresses) and tells us about it through messages on
 * /dev/vduse/NAME; we own the data path.  Guest memory is reached through
 * the IOTLB: each IOVA range the kernel hands out is an fd we mmap, cached
 * until an UPDATE_IOTLB message covers it.  Kicks arrive on one eventfd per
 * queue, interrupts go back with VDUSE_VQ_INJECT_IRQ.  Everything runs in
 * the BlockBackend's AioContext, as the device model requires.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <linux/vduse.h>
#include <linux/virtio_config.h>

#include "block/aio.h"
#include "block/export/vduse-blk.h"
#include "block/export/virtio-blk-defs.h"
#include "qapi/error.h"
#include "qemu/error-report.h"

#define VDUSE_CONTROL_PATH  "/dev/vduse/control"
/* The API this file speaks; Linux 6.1 to 6.12 offer exactly this one. */
#define VDUSE_OUR_API_VERSION 0
#define VDUSE_CONFIG_MAX    256

/* One mmap'ed IOTLB range [start, last] of driver IOVA space. */
typedef struct VduseRegion {
    uint64_t start;
    uint64_t last;
    uint8_t perm;               /* VDUSE_ACCESS_* */
    void *addr;
    size_t size;
} VduseRegion;

typedef struct VduseQueue {
    VduseBlkExport *exp;
    unsigned int index;
    EventNotifier kick;
    bool started;
    uint16_t setup_avail_idx;   /* where the queue resumed */
} VduseQueue;

struct VduseBlkExport {
    char *name;
    BlockBackend *blk;
    AioContext *ctx;
    VirtioBlkDev *dev;
    int ctrl_fd;
    int dev_fd;
    unsigned int num_queues;
    uint16_t queue_size;
    /* The model offered ACCESS_PLATFORM itself (else we add it). */
    bool model_access_platform;
    uint8_t status;
    bool running;               /* queues set up after DRIVER_OK */
    VduseQueue *queues;
    GArray *regions;            /* VduseRegion, in use */
    GArray *stale;              /* replaced, unmapped when queues stop */
    guint last_hit;             /* index into regions of the last lookup */
};

/* ---- IOTLB ---- */

static void vduse_region_unmap(VduseRegion *r)
{
    munmap(r->addr, r->size);
}

static void vduse_regions_clear(GArray *regions)
{
    for (guint i = 0; i < regions->len; i++) {
        vduse_region_unmap(&g_array_index(regions, VduseRegion, i));
    }
    g_array_set_size(regions, 0);
}

static bool vduse_regions_overlap(VduseBlkExport *exp, uint64_t start,
                                  uint64_t last)
{
    for (guint i = 0; i < exp->regions->len; i++) {
        VduseRegion *r = &g_array_index(exp->regions, VduseRegion, i);

        if (r->last >= start && r->start <= last) {
            return true;
        }
    }
    return false;
}

/*
 * Forget the mappings overlapping [start, last].  Requests in flight hold
 * host pointers into guest memory, and the model caches ring pointers: so
 * while queues run, let the requests finish first, unmap, and have the
 * model look its rings up again.
 */
static void vduse_iotlb_invalidate(VduseBlkExport *exp, uint64_t start,
                                   uint64_t last)
{
    guint i = 0;

    if (!vduse_regions_overlap(exp, start, last)) {
        return;
    }
    if (exp->running) {
        virtio_blk_dev_drain(exp->dev);
    }
    while (i < exp->regions->len) {
        VduseRegion *r = &g_array_index(exp->regions, VduseRegion, i);

        if (r->last < start || r->start > last) {
            i++;
            continue;
        }
        vduse_region_unmap(r);
        g_array_remove_index_fast(exp->regions, i);
    }
    exp->last_hit = 0;
    virtio_blk_dev_mappings_changed(exp->dev);
}

static VduseRegion *vduse_region_find(VduseBlkExport *exp, uint64_t iova)
{
    GArray *regions = exp->regions;

    if (exp->last_hit < regions->len) {
        VduseRegion *r = &g_array_index(regions, VduseRegion, exp->last_hit);

        if (iova >= r->start && iova <= r->last) {
            return r;
        }
    }
    for (guint i = 0; i < regions->len; i++) {
        VduseRegion *r = &g_array_index(regions, VduseRegion, i);

        if (iova >= r->start && iova <= r->last) {
            exp->last_hit = i;
            return r;
        }
    }
    return NULL;
}

/* Ask the kernel for the range holding iova and map it. */
static VduseRegion *vduse_region_fetch(VduseBlkExport *exp, uint64_t iova)
{
    struct vduse_iotlb_entry entry = { .start = iova, .last = iova };
    VduseRegion r;
    int prot = 0;
    void *addr;
    int fd;

    fd = ioctl(exp->dev_fd, VDUSE_IOTLB_GET_FD, &entry);
    if (fd < 0) {
        return NULL;            /* not mapped: the driver's mistake */
    }
    /* The kernel is trusted, but a bad range must not become a wild map. */
    if (entry.start > iova || entry.last < iova ||
        entry.last - entry.start >= (uint64_t)SIZE_MAX / 2 ||
        !(entry.perm & VDUSE_ACCESS_RW)) {
        close(fd);
        return NULL;
    }
    if (entry.perm & VDUSE_ACCESS_RO) {
        prot |= PROT_READ;
    }
    if (entry.perm & VDUSE_ACCESS_WO) {
        prot |= PROT_WRITE;
    }
    r.start = entry.start;
    r.last = entry.last;
    r.perm = entry.perm;
    r.size = entry.last - entry.start + 1;
    addr = mmap(NULL, r.size, prot, MAP_SHARED, fd, entry.offset);
    close(fd);
    if (addr == MAP_FAILED) {
        warn_report("VDUSE device '%s': cannot map IOVA range 0x%" PRIx64
                    "-0x%" PRIx64 ": %s", exp->name, r.start, r.last,
                    strerror(errno));
        return NULL;
    }
    r.addr = addr;
    /*
     * The cache is flushed by every UPDATE_IOTLB, so an overlap means the
     * kernel changed the map without telling: the new range wins.  The
     * old one may be in use by requests in flight (and we may be inside
     * one), so it stays mapped until the queues stop.
     */
    for (guint i = 0; i < exp->regions->len;) {
        VduseRegion *old = &g_array_index(exp->regions, VduseRegion, i);

        if (old->last >= r.start && old->start <= r.last) {
            g_array_append_val(exp->stale, *old);
            g_array_remove_index_fast(exp->regions, i);
        } else {
            i++;
        }
    }
    g_array_append_val(exp->regions, r);
    exp->last_hit = exp->regions->len - 1;
    return &g_array_index(exp->regions, VduseRegion, exp->last_hit);
}

static void *vduse_map(void *opaque, uint64_t iova, uint64_t *len,
                       bool write)
{
    VduseBlkExport *exp = opaque;
    VduseRegion *r = vduse_region_find(exp, iova);
    uint64_t rest;

    if (!r) {
        r = vduse_region_fetch(exp, iova);
        if (!r) {
            return NULL;
        }
    }
    if (!(r->perm & (write ? VDUSE_ACCESS_WO : VDUSE_ACCESS_RO))) {
        return NULL;
    }
    rest = r->last - iova;      /* bytes after the first one */
    if (*len && *len - 1 > rest) {
        *len = rest + 1;
    }
    return (uint8_t *)r->addr + (iova - r->start);
}

/* ---- interrupts ---- */

/*
 * The device model already batches: it calls notify() once per queue per
 * pass of the event loop, after the used index is published, and only
 * when the driver asked for it (event index).  So inject right away.
 */
static void vduse_notify(void *opaque, unsigned int queue)
{
    VduseBlkExport *exp = opaque;
    uint32_t index = queue;

    if (queue >= exp->num_queues) {
        return;
    }
    if (ioctl(exp->dev_fd, VDUSE_VQ_INJECT_IRQ, &index) < 0) {
        warn_report("VDUSE device '%s': cannot interrupt queue %u: %s",
                    exp->name, queue, strerror(errno));
    }
}

/*
 * VDUSE gives user space no way to set DEVICE_NEEDS_RESET, so a corrupt
 * ring can only be reported here; the queue stays stopped until the driver
 * resets the device.
 */
static void vduse_needs_reset(void *opaque)
{
    VduseBlkExport *exp = opaque;
    const char *why = virtio_blk_dev_broken_reason(exp->dev);

    error_report("VDUSE device '%s': the driver corrupted a virtqueue (%s); "
                 "requests stop until the device is reset", exp->name,
                 why ? why : "unknown reason");
}

static const VirtioBlkTransportOps vduse_ops = {
    .map = vduse_map,
    .notify = vduse_notify,
    .needs_reset = vduse_needs_reset,
};

/* ---- queues ---- */

static void vduse_kick(EventNotifier *e)
{
    VduseQueue *q = container_of(e, VduseQueue, kick);
    VduseBlkExport *exp = q->exp;

    if (!event_notifier_test_and_clear(e)) {
        return;
    }
    virtio_blk_dev_kick(exp->dev, q->index);
}

static void vduse_set_kickfd(VduseBlkExport *exp, unsigned int index, int fd)
{
    struct vduse_vq_eventfd ev = { .index = index, .fd = fd };

    if (ioctl(exp->dev_fd, VDUSE_VQ_SETUP_KICKFD, &ev) < 0 && fd >= 0) {
        warn_report("VDUSE device '%s': cannot set the kick eventfd of "
                    "queue %u: %s", exp->name, index, strerror(errno));
    }
}

/* Stop listening to kicks, finish what is in flight, deliver interrupts. */
static void vduse_stop_queues(VduseBlkExport *exp)
{
    for (unsigned int i = 0; i < exp->num_queues; i++) {
        VduseQueue *q = &exp->queues[i];

        if (!q->started) {
            continue;
        }
        aio_set_event_notifier(exp->ctx, &q->kick, NULL);
        vduse_set_kickfd(exp, i, VDUSE_EVENTFD_DEASSIGN);
        event_notifier_cleanup(&q->kick);
        virtio_blk_dev_queue_enable(exp->dev, i, false);
        q->started = false;
    }
    virtio_blk_dev_drain(exp->dev);     /* also delivers owed interrupts */
    exp->running = false;
    vduse_regions_clear(exp->stale);
}

/* DRIVER_OK: fetch each ready queue's rings from the kernel and start it. */
static int vduse_start_queues(VduseBlkExport *exp)
{
    for (unsigned int i = 0; i < exp->num_queues; i++) {
        VduseQueue *q = &exp->queues[i];
        struct vduse_vq_info info = { .index = i };
        int ret;

        if (ioctl(exp->dev_fd, VDUSE_VQ_GET_INFO, &info) < 0) {
            ret = -errno;
            error_report("VDUSE device '%s': cannot read queue %u: %s",
                         exp->name, i, strerror(-ret));
            return ret;
        }
        if (!info.ready) {
            continue;           /* the driver may use fewer queues */
        }
        if (info.num == 0 || info.num > exp->queue_size) {
            error_report("VDUSE device '%s': queue %u has %u entries "
                         "(queue-size is %u)", exp->name, i, info.num,
                         exp->queue_size);
            return -EINVAL;
        }
        ret = virtio_blk_dev_queue_setup(exp->dev, i, info.num,
                                         info.desc_addr, info.driver_addr,
                                         info.device_addr,
                                         info.split.avail_index);
        if (ret < 0) {
            error_report("VDUSE device '%s': queue %u setup failed: %s",
                         exp->name, i, strerror(-ret));
            return ret;
        }
        q->setup_avail_idx = info.split.avail_index;
        ret = event_notifier_init(&q->kick, 0);
        if (ret < 0) {
            error_report("VDUSE device '%s': no eventfd for queue %u: %s",
                         exp->name, i, strerror(-ret));
            return ret;
        }
        virtio_blk_dev_queue_enable(exp->dev, i, true);
        q->started = true;
        exp->running = true;
        aio_set_event_notifier(exp->ctx, &q->kick, vduse_kick);
        /* A kick sent before this point is replayed by the kernel. */
        vduse_set_kickfd(exp, i, event_notifier_get_fd(&q->kick));
    }
    for (unsigned int i = 0; i < exp->num_queues; i++) {
        if (exp->queues[i].started) {
            virtio_blk_dev_kick(exp->dev, i);
        }
    }
    return 0;
}

/*
 * GET_VQ_STATE: the next available index the device will process.  Drained
 * first, so that every request taken from the ring has been returned and
 * a queue resumed from this index loses nothing.
 */
static uint16_t vduse_queue_avail_state(VduseBlkExport *exp,
                                        unsigned int index)
{
    VduseQueue *q = &exp->queues[index];

    if (!q->started) {
        return q->setup_avail_idx;
    }
    virtio_blk_dev_drain(exp->dev);
    return virtio_blk_dev_queue_last_avail(exp->dev, index);
}

/* ---- control messages ---- */

static int vduse_set_status(VduseBlkExport *exp, uint8_t status)
{
    uint8_t old = exp->status;

    if (status == 0) {
        vduse_stop_queues(exp);
        virtio_blk_dev_reset(exp->dev);
        vduse_regions_clear(exp->regions);
        exp->status = 0;
        return 0;
    }
    if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
        !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
        uint64_t features;
        int ret;

        if (ioctl(exp->dev_fd, VDUSE_DEV_GET_FEATURES, &features) < 0) {
            ret = -errno;
            error_report("VDUSE device '%s': cannot read the negotiated "
                         "features: %s", exp->name, strerror(-ret));
            return ret;
        }
        if (!exp->model_access_platform) {
            features &= ~(1ULL << VIRTIO_F_ACCESS_PLATFORM);
        }
        ret = virtio_blk_dev_set_features(exp->dev, features);
        if (ret < 0) {
            error_report("VDUSE device '%s': the driver accepted features "
                         "0x%" PRIx64 " that the device did not offer",
                         exp->name, features);
            return ret;
        }
    }
    if ((status & VIRTIO_CONFIG_S_DRIVER_OK) &&
        !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
        int ret = vduse_start_queues(exp);

        if (ret < 0) {
            vduse_stop_queues(exp);
            return ret;
        }
    } else if (!(status & VIRTIO_CONFIG_S_DRIVER_OK) &&
               (old & VIRTIO_CONFIG_S_DRIVER_OK)) {
        vduse_stop_queues(exp);
    }
    exp->status = status;
    return 0;
}

static void vduse_handle_request(VduseBlkExport *exp,
                                 const struct vduse_dev_request *req)
{
    struct vduse_dev_response resp = {
        .request_id = req->request_id,
        .result = VDUSE_REQ_RESULT_OK,
    };

    switch (req->type) {
    case VDUSE_GET_VQ_STATE:
        if (req->vq_state.index >= exp->num_queues) {
            resp.result = VDUSE_REQ_RESULT_FAILED;
            break;
        }
        resp.vq_state.index = req->vq_state.index;
        resp.vq_state.split.avail_index =
            vduse_queue_avail_state(exp, req->vq_state.index);
        break;
    case VDUSE_SET_STATUS:
        if (vduse_set_status(exp, req->s.status) < 0) {
            resp.result = VDUSE_REQ_RESULT_FAILED;
        }
        break;
    case VDUSE_UPDATE_IOTLB:
        vduse_iotlb_invalidate(exp, req->iova.start, req->iova.last);
        break;
    default:
        resp.result = VDUSE_REQ_RESULT_FAILED;
        break;
    }
    if (write(exp->dev_fd, &resp, sizeof(resp)) != sizeof(resp)) {
        warn_report("VDUSE device '%s': cannot answer request %u: %s",
                    exp->name, req->request_id, strerror(errno));
    }
}

static void vduse_dev_readable(void *opaque)
{
    VduseBlkExport *exp = opaque;

    for (;;) {
        struct vduse_dev_request req;
        ssize_t n = read(exp->dev_fd, &req, sizeof(req));

        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            if (errno != EAGAIN) {
                warn_report("VDUSE device '%s': reading a request: %s",
                            exp->name, strerror(errno));
            }
            return;
        }
        if (n != sizeof(req)) {
            warn_report("VDUSE device '%s': short request (%zd bytes)",
                        exp->name, n);
            return;
        }
        vduse_handle_request(exp, &req);
    }
}

/* ---- creation and teardown ---- */

const char *vduse_blk_name_problem(const char *name)
{
    size_t len = strlen(name);

    if (len == 0) {
        return "it is empty";
    }
    if (len >= VDUSE_NAME_MAX) {
        return "it is longer than 255 bytes";
    }
    if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, "..")) {
        return "it is not a valid file name";
    }
    if (!strcmp(name, "control")) {
        return "/dev/vduse/control is the VDUSE control device";
    }
    if (len > 2 && !strncmp(name, "vq", 2) &&
        strspn(name + 2, "0123456789") == len - 2) {
        return "Linux lists the device's queues in sysfs as vq0, vq1, ... "
               "and the vDPA device would collide with them";
    }
    return NULL;
}

static int vduse_create_dev(VduseBlkExport *exp, uint64_t features,
                            const uint8_t *config, size_t config_size,
                            Error **errp)
{
    g_autofree struct vduse_dev_config *cfg = NULL;
    uint64_t version;
    int ret;

    exp->ctrl_fd = open(VDUSE_CONTROL_PATH, O_RDWR | O_CLOEXEC);
    if (exp->ctrl_fd < 0) {
        error_setg_errno(errp, errno, "Cannot open " VDUSE_CONTROL_PATH);
        if (errno == ENOENT) {
            error_append_hint(errp, "Is the vduse module loaded "
                              "('modprobe vduse')?\n");
        }
        return -1;
    }
    if (ioctl(exp->ctrl_fd, VDUSE_GET_API_VERSION, &version) < 0) {
        error_setg_errno(errp, errno, "Cannot read the VDUSE API version");
        return -1;
    }
    /* Speak the older of the two; version 0 is what every kernel has. */
    if (version > VDUSE_OUR_API_VERSION) {
        version = VDUSE_OUR_API_VERSION;
    }
    if (ioctl(exp->ctrl_fd, VDUSE_SET_API_VERSION, &version) < 0) {
        error_setg_errno(errp, errno, "Cannot set VDUSE API version %"
                         PRIu64, version);
        return -1;
    }

    cfg = g_malloc0(sizeof(*cfg) + config_size);
    g_strlcpy(cfg->name, exp->name, sizeof(cfg->name));
    cfg->device_id = VIRTIO_ID_BLOCK;
    cfg->vendor_id = 0;
    cfg->features = features;
    cfg->vq_num = exp->num_queues;
    cfg->vq_align = qemu_real_host_page_size();
    cfg->config_size = config_size;
    memcpy(cfg->config, config, config_size);
    ret = ioctl(exp->ctrl_fd, VDUSE_CREATE_DEV, cfg);
    if (ret < 0 && errno == EEXIST &&
        ioctl(exp->ctrl_fd, VDUSE_DESTROY_DEV, exp->name) == 0) {
        /*
         * A device nobody has open and that is not attached to the vDPA
         * bus is a leftover of a daemon that died (SIGKILL): the kernel
         * lets us destroy it, and nothing else ever would.
         */
        warn_report("removed the orphaned VDUSE device '%s'", exp->name);
        ret = ioctl(exp->ctrl_fd, VDUSE_CREATE_DEV, cfg);
    }
    if (ret < 0) {
        if (errno == EEXIST || errno == EBUSY) {
            error_setg(errp, "VDUSE device '%s' already exists and is in "
                       "use (by another process, or attached to the vDPA "
                       "bus)", exp->name);
        } else {
            error_setg_errno(errp, errno, "Cannot create VDUSE device '%s' "
                             "(features 0x%" PRIx64 ", %u queues, %zu bytes "
                             "of config space)", exp->name, features,
                             exp->num_queues, config_size);
        }
        return -1;
    }
    return 0;
}

static int vduse_open_dev(VduseBlkExport *exp, Error **errp)
{
    g_autofree char *path = g_strdup_printf("/dev/vduse/%s", exp->name);

    exp->dev_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (exp->dev_fd < 0) {
        error_setg_errno(errp, errno, "Cannot open %s", path);
        return -1;
    }
    for (unsigned int i = 0; i < exp->num_queues; i++) {
        struct vduse_vq_config vq = {
            .index = i,
            .max_size = exp->queue_size,
        };

        if (ioctl(exp->dev_fd, VDUSE_VQ_SETUP, &vq) < 0) {
            error_setg_errno(errp, errno, "Cannot set up queue %u of VDUSE "
                             "device '%s' (queue-size %u)", i, exp->name,
                             exp->queue_size);
            return -1;
        }
    }
    return 0;
}

static void vduse_destroy_dev(VduseBlkExport *exp, Error **errp)
{
    if (ioctl(exp->ctrl_fd, VDUSE_DESTROY_DEV, exp->name) < 0) {
        if (errno == EBUSY) {
            error_setg(errp, "VDUSE device '%s' is still in use and was not "
                       "destroyed (detach it with 'vdpa dev del %s' before "
                       "stopping the export)", exp->name, exp->name);
        } else {
            error_setg_errno(errp, errno, "Cannot destroy VDUSE device '%s'",
                             exp->name);
        }
    }
}

/* Free an export once its fds are closed (its device destroyed or not). */
static void vduse_export_release(VduseBlkExport *exp)
{
    if (exp->dev) {
        virtio_blk_dev_free(exp->dev);
    }
    g_array_free(exp->regions, true);
    g_array_free(exp->stale, true);
    g_free(exp->queues);
    g_free(exp->name);
    g_free(exp);
}

VduseBlkExport *vduse_blk_export_new(BlockBackend *blk, const char *name,
                                     const VirtioBlkOptions *opts,
                                     Error **errp)
{
    VduseBlkExport *exp;
    uint8_t config[VDUSE_CONFIG_MAX];
    const char *problem;
    uint64_t features;
    size_t config_size;
    bool created = false;

    problem = vduse_blk_name_problem(name);
    if (problem) {
        error_setg(errp, "Invalid VDUSE device name '%s': %s", name,
                   problem);
        return NULL;
    }

    exp = g_new0(VduseBlkExport, 1);
    exp->name = g_strdup(name);
    exp->blk = blk;
    exp->ctx = blk_get_aio_context(blk);
    exp->ctrl_fd = -1;
    exp->dev_fd = -1;
    exp->num_queues = opts->num_queues;
    exp->queue_size = opts->queue_size;
    exp->regions = g_array_new(false, false, sizeof(VduseRegion));
    exp->stale = g_array_new(false, false, sizeof(VduseRegion));
    exp->queues = g_new0(VduseQueue, exp->num_queues);
    for (unsigned int i = 0; i < exp->num_queues; i++) {
        exp->queues[i].exp = exp;
        exp->queues[i].index = i;
    }

    exp->dev = virtio_blk_dev_new(blk, opts, &vduse_ops, exp, errp);
    if (!exp->dev) {
        goto fail;
    }
    features = virtio_blk_dev_features(exp->dev);
    exp->model_access_platform =
        features & (1ULL << VIRTIO_F_ACCESS_PLATFORM);
    /* VDUSE insists on these, and refuses a writable config space. */
    features |= (1ULL << VIRTIO_F_VERSION_1) |
                (1ULL << VIRTIO_F_ACCESS_PLATFORM);
    features &= ~(1ULL << VIRTIO_BLK_F_CONFIG_WCE);
    config_size = virtio_blk_dev_get_config(exp->dev, config,
                                            sizeof(config));
    if (config_size == 0 || config_size > sizeof(config)) {
        error_setg(errp, "The device model returned %zu bytes of config "
                   "space", config_size);
        goto fail;
    }

    if (vduse_create_dev(exp, features, config, config_size, errp) < 0) {
        goto fail;
    }
    created = true;
    if (vduse_open_dev(exp, errp) < 0) {
        goto fail;
    }
    aio_set_fd_handler(exp->ctx, exp->dev_fd, vduse_dev_readable, NULL,
                       exp);
    return exp;

fail:
    if (exp->dev_fd >= 0) {
        close(exp->dev_fd);
    }
    if (created) {
        vduse_destroy_dev(exp, NULL);
    }
    if (exp->ctrl_fd >= 0) {
        close(exp->ctrl_fd);
    }
    vduse_export_release(exp);
    return NULL;
}

bool vduse_blk_export_free(VduseBlkExport *exp, Error **errp)
{
    Error *local_err = NULL;
    int ret;

    vduse_stop_queues(exp);
    aio_set_fd_handler(exp->ctx, exp->dev_fd, NULL, NULL, NULL);
    ret = blk_flush(exp->blk);
    if (ret < 0) {
        error_setg_errno(&local_err, -ret, "Flushing export '%s' failed",
                         exp->name);
    }
    vduse_regions_clear(exp->regions);
    close(exp->dev_fd);
    /* Destroying needs the device closed, so it comes last. */
    vduse_destroy_dev(exp, local_err ? NULL : &local_err);
    close(exp->ctrl_fd);
    vduse_export_release(exp);
    if (local_err) {
        error_propagate(errp, local_err);
        return false;
    }
    return true;
}

VirtioBlkDev *vduse_blk_export_dev(VduseBlkExport *exp)
{
    return exp->dev;
}

const char *vduse_blk_export_name(VduseBlkExport *exp)
{
    return exp->name;
}
