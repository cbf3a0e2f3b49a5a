/*
 * Names of the zoned-storage enumerations, for messages and for tools
 * that print zones (qemu-io's 'zrp -v').  The names are stable: scripts
 * may match on them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "block/block-common.h"

const char *block_zone_state_name(BlockZoneState state)
{
    switch (state) {
    case BLK_ZS_NOT_WP:
        return "not-wp";
    case BLK_ZS_EMPTY:
        return "empty";
    case BLK_ZS_IOPEN:
        return "implicit-open";
    case BLK_ZS_EOPEN:
        return "explicit-open";
    case BLK_ZS_CLOSED:
        return "closed";
    case BLK_ZS_RDONLY:
        return "read-only";
    case BLK_ZS_FULL:
        return "full";
    case BLK_ZS_OFFLINE:
        return "offline";
    }
    /* A value from a newer kernel: say so rather than guess. */
    return "unknown";
}

const char *block_zone_type_name(BlockZoneType type)
{
    switch (type) {
    case BLK_ZT_CONV:
        return "conventional";
    case BLK_ZT_SWR:
        return "seq-write-required";
    case BLK_ZT_SWP:
        return "seq-write-preferred";
    }
    return "unknown";
}

const char *block_zone_model_name(BlockZoneModel model)
{
    switch (model) {
    case BLK_Z_NONE:
        return "none";
    case BLK_Z_HM:
        return "host-managed";
    case BLK_Z_HA:
        return "host-aware";
    }
    return "unknown";
}
