/*
 * vduse-blk: serves the virtio-blk device model (block/export/virtio-blk.h)
 * to the host kernel through VDUSE, so that `vdpa dev add name NAME mgmtdev
 * vduse` makes the node appear as /dev/vdX (Linux virtio_blk over
 * virtio_vdpa).  The transport only moves rings, kicks, interrupts and
 * memory mappings; requests are the device model's business.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BLOCK_EXPORT_VDUSE_BLK_H
#define BLOCK_EXPORT_VDUSE_BLK_H

#include "block/export/virtio-blk.h"

typedef struct VduseBlkExport VduseBlkExport;

/*
 * Create the VDUSE device NAME for blk and serve it in blk's AioContext.
 * Errors say which step failed (the module missing, a name already taken,
 * a name the kernel cannot register, an option the device model refused).
 */
VduseBlkExport *vduse_blk_export_new(BlockBackend *blk, const char *name,
                                     const VirtioBlkOptions *opts,
                                     Error **errp);

/*
 * Shut down: stop the queues, wait for requests in flight, flush the node
 * and destroy the VDUSE device.  Returns false with *errp set when the
 * flush failed or the kernel kept the device (still attached to the vDPA
 * bus: `vdpa dev del NAME` first); the export is freed in every case.
 */
bool vduse_blk_export_free(VduseBlkExport *exp, Error **errp);

/* The device model behind the export (statistics, tests). */
VirtioBlkDev *vduse_blk_export_dev(VduseBlkExport *exp);
const char *vduse_blk_export_name(VduseBlkExport *exp);

/*
 * NULL if name can be a VDUSE device name, else why not (a static
 * string).  Linux 6.x lists a directory vqN for each virtqueue under the
 * VDUSE device, so a device called vqN collides with its own queues.
 */
const char *vduse_blk_name_problem(const char *name);

#endif /* BLOCK_EXPORT_VDUSE_BLK_H */
