#!/bin/bash
# VDUSE end to end with a real zoned device: a zoned null_blk (4 KiB blocks,
# conventional zones, open and active limits) passed through as host_device
# (cache.direct=on) and exported by qemu-storage-daemon.  The guest's /dev/vdX must
# show the device's own limits and zones; blkzone open/close/finish/reset through
# the export land on the null_blk; fio --zonemode=zbd write+verify (sequential and
# random, iodepth 1 and 16, mq-deadline) within the open limit; btrfs -O zoned
# across a remount.
# devices: zone_size=16,zone_nr_conv=2,zone_max_open=4,zone_max_active=8,blocksize=4096,zone_append_max_sectors=256,size=512,memory_backed=1
# include: /usr/sbin/vdpa /usr/bin/fio /usr/sbin/mkfs.btrfs
# memory: 2G
# timeout: 600
set -uo pipefail
. tests/vm/test-lib.sh
. tests/vm/tests/vduse-common.bash
vduse_init

NAME=znull0
NB=/dev/nullb0
ZONE_SECTORS=32768
qsd_start $NAME --blockdev driver=host_device,filename=$NB,cache.direct=on,node-name=n0 \
    --export type=vduse-blk,id=e0,node-name=n0,name=$NAME,writable=on,num-queues=2 ||
    { fail "daemon start"; done_testing; }
echo "== $NAME is $DEV"

# ---- geometry: the export shows the device's limits ----
for a in zoned chunk_sectors nr_zones max_open_zones max_active_zones \
         zone_append_max_bytes logical_block_size physical_block_size; do
    check "$a (nullb0: $(cat /sys/block/nullb0/queue/$a))" \
        "$(cat /sys/block/${DEV#/dev/}/queue/$a)" "$(cat /sys/block/nullb0/queue/$a)"
done
check "zoned" "$(cat /sys/block/${DEV#/dev/}/queue/zoned)" host-managed
check "size" "$(cat /sys/block/${DEV#/dev/}/size)" "$(cat /sys/block/nullb0/size)"

# ---- zone management through the export, seen on the device ----
z() { echo $(($1 * ZONE_SECTORS)); }
wr() { dd if=/dev/urandom of="$DEV" bs=64k count="$2" seek=$(($1 * 256)) oflag=direct conv=notrunc 2> /dev/null; }
wr 2 4 || fail "write zone 2"
blkzone close -o "$(z 2)" -c 1 "$DEV" || fail "blkzone close"
check_zone $NB 2 "write + close" "$(z 2) $ZONE_SECTORS $ZONE_SECTORS $(($(z 2) + 512)) 4 2"
blkzone open -o "$(z 3)" -c 1 "$DEV" || fail "blkzone open"
check_zone $NB 3 open "$(z 3) $ZONE_SECTORS $ZONE_SECTORS $(z 3) 3 2"
blkzone finish -o "$(z 4)" -c 1 "$DEV" || fail "blkzone finish"
check_zone $NB 4 finish "$(z 4) $ZONE_SECTORS $ZONE_SECTORS - 14 2"
wr 5 2 || fail "write zone 5"
blkzone reset -o "$(z 5)" -c 1 "$DEV" || fail "blkzone reset"
check_zone $NB 5 reset "$(z 5) $ZONE_SECTORS $ZONE_SECTORS $(z 5) 1 2"
wr 6 1 || fail "write zone 6"
check "write at zone 2's start (not the write pointer) fails" "$(wr 2 1 && echo ok || echo failed)" failed
# Open limit 4: with zone 3 (explicit) and 6 (implicit) open, explicitly opening
# 7, 8 and 9 closes zone 6 on the way (null_blk's rule), and a 5th explicit open
# fails: the device's own resource rules, seen through virtio.
for k in 7 8 9; do blkzone open -o "$(z $k)" -c 1 "$DEV" || fail "open zone $k"; done
check_zone $NB 6 "opening 3 more zones" "$(z 6) $ZONE_SECTORS $ZONE_SECTORS $(($(z 6) + 128)) 4 2"
check "explicit open beyond max_open_zones fails" \
    "$(blkzone open -o "$(z 10)" -c 1 "$DEV" 2> /dev/null && echo ok || echo failed)" failed
blkzone close -o "$(z 7)" -c 3 "$DEV" || fail "close zones 7-9"
echo "== blkzone report (head)"
blkzone report "$DEV" | head -n 8
check "guest report = nullb0 report" \
    "$(diff <(zones_from_blkzone "$DEV") <(zones_from_blkzone $NB) > /tmp/zones.diff && echo same || echo differ)" same
[ -s /tmp/zones.diff ] && head -n 20 /tmp/zones.diff

# ---- fio ----
echo mq-deadline > /sys/block/${DEV#/dev/}/queue/scheduler
MOZ=$(cat /sys/block/${DEV#/dev/}/queue/max_open_zones)
FIO="--filename=$DEV --direct=1 --zonemode=zbd --ioengine=libaio --max_open_zones=$MOZ --verify=crc32c --do_verify=1"
run_fio seq-qd1 $FIO --rw=write --bs=64k --iodepth=1 --io_size=32M
run_fio seq-qd16 $FIO --rw=write --bs=128k --iodepth=16 --io_size=96M
run_fio rand-qd1 $FIO --rw=randwrite --bs=16k --iodepth=1 --io_size=16M
run_fio rand-qd16 $FIO --rw=randwrite --bs=16k --iodepth=16 --io_size=48M
check "guest report = nullb0 report after fio" \
    "$(diff <(zones_from_blkzone "$DEV") <(zones_from_blkzone $NB) > /dev/null && echo same || echo differ)" same

# ---- btrfs ----
btrfs_round "$DEV" /mnt/z -O zoned
check "guest report = nullb0 report after btrfs" \
    "$(diff <(zones_from_blkzone "$DEV") <(zones_from_blkzone $NB) > /dev/null && echo same || echo differ)" same
qsd_stop $NAME

done_testing
