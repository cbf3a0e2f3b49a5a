#!/bin/bash
# VDUSE end to end with non-zoned disks, and the daemon's life cycle: a raw image
# (4 KiB logical blocks, 4 queues) with btrfs across a remount and a daemon restart,
# a read-only export, a non-zoned null_blk as host_device, option errors, a name
# taken twice, SIGINT, a SIGKILLed daemon's orphaned device, and SIGTERM while the
# device is still attached.
# devices: zoned=0,size=256,memory_backed=1
# include: /usr/sbin/vdpa /usr/sbin/mkfs.btrfs
# memory: 2G
# timeout: 600
set -uo pipefail
. tests/vm/test-lib.sh
. tests/vm/tests/vduse-common.bash
vduse_init

IMG=/tmp/raw.img
truncate -s 512M $IMG
NODE="driver=raw,file.driver=file,file.filename=$IMG,node-name=r0"

# ---- option errors (QEMU's wording where it has one) ----
err() { "$QSD" "$@" 2>&1 >/dev/null | sed "s|^${QSD##*/}: ||"; }
check "missing id" "$(err --blockdev "$NODE" --export type=vduse-blk,node-name=r0,name=x)" \
    "--export type=vduse-blk,node-name=r0,name=x: Parameter 'id' is missing"
check "unknown node" "$(err --blockdev "$NODE" --export type=vduse-blk,id=e,node-name=nope,name=x)" \
    "--export type=vduse-blk,id=e,node-name=nope,name=x: Cannot find device='' nor node-name='nope'"
check "num-queues=0" "$(err --blockdev "$NODE" --export vduse-blk,id=e,node-name=r0,name=x,num-queues=0)" \
    "--export vduse-blk,id=e,node-name=r0,name=x,num-queues=0: num-queues must be greater than 0"
check "queue-size=3" "$(err --blockdev "$NODE" --export vduse-blk,id=e,node-name=r0,name=x,queue-size=3)" \
    "--export vduse-blk,id=e,node-name=r0,name=x,queue-size=3: queue-size is invalid (it must be a power of 2 between 2 and 32768)"
check "logical-block-size=1000" "$(err --blockdev "$NODE" --export vduse-blk,id=e,node-name=r0,name=x,logical-block-size=1000)" \
    "--export vduse-blk,id=e,node-name=r0,name=x,logical-block-size=1000: parameter logical-block-size must be a power of 2 between 512 and 2097152"
check "unknown key" "$(err --blockdev "$NODE" --export vduse-blk,id=e,node-name=r0,name=x,bogus=1)" \
    "--export vduse-blk,id=e,node-name=r0,name=x,bogus=1: Parameter 'bogus' is unexpected"
check "writable read-only node" "$(err --blockdev "$NODE,read-only=on" --export vduse-blk,id=e,node-name=r0,name=x,writable=on)" \
    "--export vduse-blk,id=e,node-name=r0,name=x,writable=on: Cannot export read-only node as writable"
check "name vq1" "$(err --blockdev "$NODE" --export vduse-blk,id=e,node-name=r0,name=vq1 | cut -d: -f2-3)" \
    " Invalid VDUSE device name 'vq1': Linux lists the device's queues in sysfs as vq0, vq1, ... and the vDPA device would collide with them"
check "no node-name" "$(err --blockdev driver=file,filename=$IMG)" \
    "--blockdev driver=file,filename=$IMG: 'node-name' must be specified for the root node"
check "--daemonize exit status on error" \
    "$("$QSD" --daemonize --blockdev driver=file,filename=/nonexistent,node-name=a 2> /dev/null; echo $?)" 1

# ---- writable raw image: btrfs, remount, daemon restart ----
NAME=raw0
start_rw() {
    qsd_start $NAME --blockdev "$NODE" --export \
        type=vduse-blk,id=e0,node-name=r0,name=$NAME,writable=on,num-queues=4,logical-block-size=4096,serial=raw-serial-1 ||
        { fail "daemon start"; done_testing; }
}
start_rw
echo "== $NAME is $DEV"
check_queue_attrs "$DEV" zoned=none logical_block_size=4096
check "size" "$(cat /sys/block/${DEV#/dev/}/size)" 1048576
check "ro" "$(cat /sys/block/${DEV#/dev/}/ro)" 0
check "virtqueues" "$(ls -d /sys/block/${DEV#/dev/}/mq/* | wc -l)" "$(expected_queues 4)"
check "serial" "$(cat /sys/block/${DEV#/dev/}/serial)" raw-serial-1
if [ "$(cat /sys/block/${DEV#/dev/}/queue/discard_max_bytes)" != 0 ]; then
    dd if=/dev/urandom of="$DEV" bs=1M count=2 oflag=direct 2> /dev/null
    blkdiscard -o 0 -l 1048576 "$DEV" || fail "blkdiscard"
    check "discarded range reads zeroes" "$(head -c 1048576 "$DEV" | tr -d '\0' | wc -c)" 0
fi

btrfs_round "$DEV" /mnt/r
qsd_stop $NAME

# ---- read-only export (writable defaults to off, as in QEMU) ----
qsd_start $NAME --blockdev "$NODE" --export type=vduse-blk,id=e0,node-name=r0,name=$NAME ||
    fail "read-only daemon start"
check "read-only export: ro" "$(cat /sys/block/${DEV#/dev/}/ro)" 1
mount -t btrfs -o ro "$DEV" /mnt/r || fail "mount read-only"
verify_tree /mnt/r || fail "verify through the read-only export"
bounded 120 umount /mnt/r
check "write to a read-only export fails" \
    "$(dd if=/dev/zero of="$DEV" bs=4k count=1 oflag=direct 2> /dev/null && echo ok || echo failed)" failed
qsd_stop $NAME

# ---- non-zoned host device; two daemons, one name; SIGINT ----
NB=/dev/nullb0
head -c 4194304 /dev/urandom > /tmp/pattern
"$QSD" --blockdev driver=host_device,filename=$NB,cache.direct=on,node-name=h0 \
    --export type=vduse-blk,id=e1,node-name=h0,name=hdev0,writable=on 2> /tmp/qsd-h.err &
QPID=$!
for i in $(seq 100); do [ -e /dev/vduse/hdev0 ] && break; sleep 0.1; done
check "second daemon, same name" \
    "$(err --blockdev "$NODE" --export type=vduse-blk,id=e,node-name=r0,name=hdev0)" \
    "--export type=vduse-blk,id=e,node-name=r0,name=hdev0: VDUSE device 'hdev0' already exists and is in use (by another process, or attached to the vDPA bus)"
vdpa dev add name hdev0 mgmtdev vduse || fail "vdpa dev add hdev0"
DEV=$(vduse_blockdev hdev0)
check "host_device zoned" "$(cat /sys/block/${DEV#/dev/}/queue/zoned)" none
dd if=/tmp/pattern of="$DEV" bs=64k seek=16 oflag=direct 2> /dev/null || fail "write host_device"
check "data on the null_blk" "$(dd if=$NB bs=64k skip=16 count=64 iflag=direct 2> /dev/null | cmp - /tmp/pattern && echo same)" same
check "data read back" "$(dd if="$DEV" bs=64k skip=16 count=64 iflag=direct 2> /dev/null | cmp - /tmp/pattern && echo same)" same
vdpa dev del hdev0
kill -INT $QPID
wait $QPID
check "SIGINT: exit status" "$?" 0
check "SIGINT: VDUSE device destroyed" "$([ -e /dev/vduse/hdev0 ] && echo no || echo yes)" yes
check "SIGINT: no messages" "$(cat /tmp/qsd-h.err)" ""

# ---- a SIGKILLed daemon leaves its device behind; the next one takes it over ----
"$QSD" --blockdev "$NODE" --export type=vduse-blk,id=e0,node-name=r0,name=$NAME &
QPID=$!
for i in $(seq 100); do [ -e /dev/vduse/$NAME ] && break; sleep 0.1; done
kill -KILL $QPID
wait $QPID 2> /dev/null
check "SIGKILL leaves the device" "$([ -e /dev/vduse/$NAME ] && echo yes || echo no)" yes
"$QSD" --blockdev "$NODE" --export type=vduse-blk,id=e0,node-name=r0,name=$NAME 2> /tmp/qsd-k.err &
QPID=$!
for i in $(seq 100); do grep -q orphaned /tmp/qsd-k.err && break; sleep 0.1; done
check "orphan takeover message" "$(sed "s|^${QSD##*/}: ||" /tmp/qsd-k.err)" \
    "warning: removed the orphaned VDUSE device '$NAME'"
vdpa dev add name $NAME mgmtdev vduse || fail "vdpa dev add after takeover"
DEV=$(vduse_blockdev $NAME)
mount -t btrfs -o ro "$DEV" /mnt/r && verify_tree /mnt/r && umount /mnt/r || fail "verify after takeover"

# ---- SIGTERM while still attached: the daemon says what to do ----
echo 1 > /sys/class/vduse/$NAME/msg_timeout 2> /dev/null
kill -TERM $QPID
wait $QPID
check "attached at SIGTERM: exit status" "$?" 1
check "attached at SIGTERM: message" "$(sed -n 2p /tmp/qsd-k.err | sed "s|^${QSD##*/}: ||")" \
    "export 'e0': VDUSE device '$NAME' is still in use and was not destroyed (detach it with 'vdpa dev del $NAME' before stopping the export)"
vdpa dev del $NAME 2> /dev/null
done_testing
