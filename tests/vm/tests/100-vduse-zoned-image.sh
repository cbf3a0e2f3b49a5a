#!/bin/bash
# VDUSE end to end with a `zoned` image: qemu-storage-daemon exports it as a zoned
# virtio-blk device, the guest's virtio_blk driver (through virtio_vdpa) sees a
# host-managed disk.  Checks the queue limits, blkzone report against the image's
# own report (qemu-io after the daemon stopped), blkzone open/close/finish/reset
# and their effect on the image, fio --zonemode=zbd write+verify (sequential and
# random, iodepth 1 and 16, mq-deadline), and btrfs -O zoned across a remount and
# a daemon restart.
# include: /usr/sbin/vdpa /usr/bin/fio /usr/sbin/mkfs.btrfs
# memory: 2G
# timeout: 600
set -uo pipefail
. tests/vm/test-lib.sh
. tests/vm/tests/vduse-common.bash
vduse_init

IMG=/tmp/zoned.img
NAME=zimg0
ZONE_SECTORS=32768          # 16 MiB
NR_ZONES=32
"$QEMU_IMG" create -q -f zoned -o zone_size=16M,zone_capacity=12M,conventional_zones=2,max_open_zones=6,max_active_zones=8,max_append_size=64K \
    "$IMG" 512M || fail "qemu-img create"
NODE="driver=zoned,file.driver=file,file.filename=$IMG"
start_daemon() {
    qsd_start $NAME --blockdev "$NODE,node-name=z0" \
        --export type=vduse-blk,id=e0,node-name=z0,name=$NAME,writable=on,num-queues=2,queue-size=128 ||
        { fail "daemon start"; done_testing; }
}

# stop_and_compare_image LABEL: take the guest's zone report, stop the daemon,
# and compare it with the image's own report (qemu-io), as after a reopen.
stop_and_compare_image() {
    zones_from_blkzone "$DEV" > /tmp/guest.zones
    qsd_stop $NAME
    zones_from_qemu_io "$NODE" $NR_ZONES > /tmp/image.zones
    zones_after_reopen < /tmp/guest.zones > /tmp/guest-reopened.zones
    check "image zone report = guest report $1" \
        "$(diff /tmp/guest-reopened.zones /tmp/image.zones > /tmp/zones.diff &&
           echo same || echo differ)" same
    [ -s /tmp/zones.diff ] && head -n 20 /tmp/zones.diff
    return 0
}

# ---- geometry ----
start_daemon
echo "== $NAME is $DEV"
check_queue_attrs "$DEV" zoned=host-managed chunk_sectors=$ZONE_SECTORS \
    nr_zones=$NR_ZONES max_open_zones=6 max_active_zones=8 \
    zone_append_max_bytes=65536 logical_block_size=512
check "$DEV size" "$(cat /sys/block/${DEV#/dev/}/size)" $((NR_ZONES * ZONE_SECTORS))
check "$DEV ro" "$(cat /sys/block/${DEV#/dev/}/ro)" 0
check "$DEV virtqueues" "$(ls -d /sys/block/${DEV#/dev/}/mq/* | wc -l)" "$(expected_queues 2)"

# ---- zone management ----
z() { echo $(($1 * ZONE_SECTORS)); }
wr() { dd if=/dev/urandom of="$DEV" bs=64k count="$2" seek=$(($1 * 256)) oflag=direct conv=notrunc 2> /dev/null; }
wr 2 4 || fail "write zone 2"
check_zone "$DEV" 2 "write 256K" "$(z 2) $ZONE_SECTORS 24576 $(($(z 2) + 512)) 2 2"
blkzone close -o "$(z 2)" -c 1 "$DEV" || fail "blkzone close"
check_zone "$DEV" 2 close "$(z 2) $ZONE_SECTORS 24576 $(($(z 2) + 512)) 4 2"
blkzone open -o "$(z 3)" -c 1 "$DEV" || fail "blkzone open"
check_zone "$DEV" 3 open "$(z 3) $ZONE_SECTORS 24576 $(z 3) 3 2"
blkzone finish -o "$(z 4)" -c 1 "$DEV" || fail "blkzone finish"
check_zone "$DEV" 4 finish "$(z 4) $ZONE_SECTORS 24576 - 14 2"
wr 5 2 || fail "write zone 5"
blkzone reset -o "$(z 5)" -c 1 "$DEV" || fail "blkzone reset"
check_zone "$DEV" 5 reset "$(z 5) $ZONE_SECTORS 24576 $(z 5) 1 2"
wr 6 1 || fail "write zone 6"
check "write at zone 2's start (not the write pointer) fails" "$(wr 2 1 && echo ok || echo failed)" failed
wr 7 192 || fail "fill zone 7 to its capacity"
check_zone "$DEV" 7 "writing its capacity" "$(z 7) $ZONE_SECTORS 24576 - 14 2"
check "write past zone 7's capacity fails" \
    "$(dd if=/dev/zero of="$DEV" bs=64k count=1 seek=$((7 * 256 + 192)) oflag=direct 2> /dev/null && echo ok || echo failed)" failed
wr 0 3 || fail "write conventional zone 0"
echo "== blkzone report (head)"
blkzone report "$DEV" | head -n 8
stop_and_compare_image "(${NR_ZONES} zones)"

# ---- fio ----
start_daemon
echo mq-deadline > /sys/block/${DEV#/dev/}/queue/scheduler
check "scheduler" "$(cat /sys/block/${DEV#/dev/}/queue/scheduler)" "none [mq-deadline] "
FIO="--filename=$DEV --direct=1 --zonemode=zbd --ioengine=libaio --max_open_zones=6 --verify=crc32c --do_verify=1"
run_fio seq-qd1 $FIO --rw=write --bs=64k --iodepth=1 --io_size=40M
run_fio seq-qd16 $FIO --rw=write --bs=64k --iodepth=16 --io_size=96M
run_fio rand-qd1 $FIO --rw=randwrite --bs=16k --iodepth=1 --io_size=16M
run_fio rand-qd16 $FIO --rw=randwrite --bs=16k --iodepth=16 --io_size=48M

# ---- btrfs ----
btrfs_round "$DEV" /mnt/z -O zoned
blkzone report "$DEV" | grep -c -v 'zcond: 1(em)' | sed 's/^/zones in use after btrfs: /'
stop_and_compare_image "after btrfs"

start_daemon
mount -t btrfs "$DEV" /mnt/z || fail "mount after the daemon restarted"
verify_tree /mnt/z || fail "verify after the daemon restarted"
echo "more data after the restart" > /mnt/z/after-restart
bounded 120 umount /mnt/z
mount -t btrfs "$DEV" /mnt/z && cat /mnt/z/after-restart && umount /mnt/z || fail "write after restart"
qsd_stop $NAME

done_testing
