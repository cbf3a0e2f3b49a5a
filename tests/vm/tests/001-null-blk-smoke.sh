#!/bin/bash
# Smoke test of the VM tier: the guest sees a zoned null_blk device as a
# host-managed disk, `blkzone report` lists the right zones, and a direct write
# and the zone management commands move the write pointer as the zone model says.
# devices: zone_size=64,zone_nr_conv=2,memory_backed=1,size=1024
set -euo pipefail
. tests/vm/test-lib.sh

dev=/dev/nullb0
sys=/sys/block/nullb0/queue
zone_sectors=$((64 * 2048))

check "queue/zoned" "$(cat $sys/zoned)" host-managed
check "queue/nr_zones" "$(cat $sys/nr_zones)" 16
check "queue/chunk_sectors" "$(cat $sys/chunk_sectors)" $zone_sectors
check "zones in blkzone report" "$(blkzone report $dev | wc -l)" 16
check "conventional zones" "$(nr_conv_zones $dev)" 2
check "sequential zones" "$(nr_seq_zones $dev)" 14

# The first sequential zone starts after the two conventional ones.
z=$((2 * zone_sectors))
zone() { blkzone report -o $z -c 1 $dev; }
wp() { zone | sed -n 's/.*wptr \(0x[0-9a-f]*\).*/\1/p'; }
cond() { zone | sed -n 's/.*zcond:[[:space:]]*\([0-9]*\).*/\1/p'; }
check "empty zone: write pointer" "$(wp)" 0x000000
check "empty zone: condition" "$(cond)" 1

# 64 KiB with O_DIRECT at the write pointer: the zone becomes implicitly open.
dd if=/dev/zero of=$dev bs=64k count=1 seek=$((z * 512)) oflag=seek_bytes,direct \
    conv=notrunc status=none
check "after a 64 KiB write: write pointer" "$(wp)" 0x000080
check "after a 64 KiB write: condition (implicitly open)" "$(cond)" 2
# A write that is not at the write pointer must fail.
if dd if=/dev/zero of=$dev bs=4k count=1 seek=$((z * 512)) oflag=seek_bytes,direct \
    conv=notrunc status=none 2>/dev/null; then
    fail "a write at the zone start, behind the write pointer, succeeded"
else
    echo "ok:   a write behind the write pointer fails"
fi

blkzone finish -o $z -c 1 $dev
check "after finish: condition (full)" "$(cond)" 14
blkzone reset -o $z -c 1 $dev
check "after reset: write pointer" "$(wp)" 0x000000
check "after reset: condition" "$(cond)" 1

done_testing
