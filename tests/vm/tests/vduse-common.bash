# Helpers for the VDUSE end-to-end tests (1xx-vduse-*.sh), sourced inside the guest
# after tests/vm/test-lib.sh.  Not a test itself (run-suite only runs *.sh).
# shellcheck shell=bash

QSD=$ZBD_BUILD/qemu-storage-daemon
QEMU_IO=$ZBD_BUILD/qemu-io
QEMU_IMG=$ZBD_BUILD/qemu-img

vduse_init() {
    [ -x "$QSD" ] || skip "$QSD not built"
    command -v vdpa > /dev/null || skip "vdpa (iproute2) not packed"
    modprobe -a vduse virtio_vdpa virtio_blk || skip "no vduse/virtio_vdpa modules"
    [ -c /dev/vduse/control ] || skip "no /dev/vduse/control"
}

# The /dev/vdX that vDPA device NAME became (waits for the driver to probe).
vduse_blockdev() {
    local i d
    for i in $(seq 100); do
        for d in /sys/bus/vdpa/devices/"$1"/virtio*/block/*; do
            [ -e "$d" ] && [ -b "/dev/${d##*/}" ] && { echo "/dev/${d##*/}"; return 0; }
        done
        sleep 0.1
    done
    echo "no block device for vDPA device $1" >&2
    return 1
}

# qsd_start NAME DAEMON-ARGS...: start a daemonized daemon with a pid file, attach
# VDUSE device NAME to the vDPA bus and set DEV to its /dev/vdX.
qsd_start() {
    local name=$1
    shift
    "$QSD" --daemonize --pidfile "/tmp/qsd-$name.pid" "$@" || return 1
    vdpa dev add name "$name" mgmtdev vduse || return 1
    DEV=$(vduse_blockdev "$name")
}

# qsd_stop NAME: detach from vDPA, SIGTERM the daemon, wait for it to exit, and
# check that it destroyed its VDUSE device and removed its pid file.
qsd_stop() {
    local name=$1 pid i
    pid=$(cat "/tmp/qsd-$name.pid")
    vdpa dev del "$name" || fail "vdpa dev del $name"
    kill -TERM "$pid"
    for i in $(seq 300); do
        kill -0 "$pid" 2> /dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2> /dev/null; then
        fail "daemon $pid ($name) still running 30 s after SIGTERM"
        return 1
    fi
    check "$name: VDUSE device destroyed" "$([ -e "/dev/vduse/$name" ] && echo no || echo yes)" yes
    check "$name: pid file removed" "$([ -e "/tmp/qsd-$name.pid" ] && echo no || echo yes)" yes
}

# One line per zone, "start len cap wp cond type" (decimal sectors; wp absolute,
# "-" for zones without one), from `blkzone report` and from qemu-io's `zrp`.
ZONE_RE='start: 0x([0-9a-f]+), len 0x([0-9a-f]+), cap 0x([0-9a-f]+), wptr 0x([0-9a-f]+).*zcond: *([0-9]+).*type: ([0-9]+)'
normalize_zones() {
    local wp_rel=$1 line s l c w cond type
    while IFS= read -r line; do
        [[ $line =~ $ZONE_RE ]] || continue
        s=$((16#${BASH_REMATCH[1]})) l=$((16#${BASH_REMATCH[2]}))
        c=$((16#${BASH_REMATCH[3]})) cond=${BASH_REMATCH[5]} type=${BASH_REMATCH[6]}
        case $type:$cond in
            1:*|*:13|*:14|*:15) w=- ;;
            *) w=$((16#${BASH_REMATCH[4]})); [ "$wp_rel" = rel ] && w=$((s + w)) ;;
        esac
        echo "$s $l $c $w $cond $type"
    done
}

zones_from_blkzone() { blkzone report "$1" | normalize_zones rel; }

# zones_from_qemu_io IMAGE-OPTS NR-ZONES
zones_from_qemu_io() {
    "$QEMU_IO" -r -c "zrp 0 $2" --image-opts "$1" | normalize_zones abs
}

# zone_line DEV N: the normalized line of zone N.
zone_line() { zones_from_blkzone "$1" | sed -n "$(($2 + 1))p"; }

# A tree of files with known checksums: make_tree DIR, then verify_tree DIR
# (the manifest is kept in /tmp/tree.sha256).
make_tree() {
    local d=$1 i
    mkdir -p "$d/a/b" "$d/c"
    for i in $(seq 24); do
        head -c $((i * 37 * 1024 + i * 11)) /dev/urandom > "$d/a/f$i"
    done
    for i in $(seq 8); do
        head -c $((i * 512 * 1024)) /dev/urandom > "$d/a/b/big$i"
        echo "small file $i" > "$d/c/s$i"
    done
    head -c $((9 * 1024 * 1024 + 4097)) /dev/urandom > "$d/c/odd"
    (cd "$d" && find . -type f | sort | xargs sha256sum) > /tmp/tree.sha256
}

verify_tree() {
    (cd "$1" && sha256sum -c /tmp/tree.sha256 > /tmp/verify.out 2>&1)
    local rc=$? n
    n=$(grep -c ': OK$' /tmp/verify.out || true)
    echo "verify $1: $n of $(wc -l < /tmp/tree.sha256) files OK"
    return $rc
}

# btrfs_round DEV MNT [MKFS-OPTION...]: mkfs.btrfs, mount, write the tree of
# make_tree, verify, unmount, remount, verify, unmount.  Every step that can
# get stuck on a wrong answer from the device is bounded.
btrfs_round() {
    local dev=$1 mnt=$2
    shift 2
    modprobe crc32c_generic 2> /dev/null
    modprobe btrfs
    make_tree /tmp/tree
    bounded 120 mkfs.btrfs -q -f "$@" "$dev" > /dev/null 2>&1 ||
        fail "mkfs.btrfs $*"
    mkdir -p "$mnt"
    mount -t btrfs "$dev" "$mnt" || { fail "mount"; dmesg | tail -n 3; }
    bounded 120 sh -c "cp -a /tmp/tree/. $mnt/ && sync" || fail "copy the tree"
    verify_tree "$mnt" || fail "verify after writing"
    bounded 120 umount "$mnt"
    mount -t btrfs "$dev" "$mnt" || fail "remount"
    verify_tree "$mnt" || fail "verify after remount"
    bounded 120 umount "$mnt"
}

# run_fio NAME FIO-ARGS...: run fio, print its WRITE/READ summary lines, check
# that it passed without errors or verification failures.
run_fio() {
    local name=$1 rc=0
    shift
    # No verify state file: it would land in the project root (the 9p share).
    fio --name="$name" --output-format=normal --verify_state_save=0 "$@" \
        > "/tmp/fio-$name.out" 2>&1 || rc=$?
    grep -E '^ *(WRITE|READ):' "/tmp/fio-$name.out" | sed "s/^ */  $name: /"
    if [ $rc -ne 0 ] || grep -qiE 'verify.*(fail|bad)|err= *[1-9]' "/tmp/fio-$name.out"; then
        fail "fio $name (status $rc)"
        tail -n 25 "/tmp/fio-$name.out" >&2
        return 1
    fi
    check "fio $name" ok ok
}

# What a zone report says after the node is closed and opened again: open zones
# are closed (empty ones become empty), as after a power cycle.
zones_after_reopen() {
    local s l c w cond type
    while read -r s l c w cond type; do
        case $cond in
            2|3) if [ "$w" = "$s" ]; then cond=1; else cond=4; fi ;;
        esac
        echo "$s $l $c $w $cond $type"
    done
}

# check_queue_attrs DEV NAME=VALUE...: /sys/block/vdX/queue attributes.
check_queue_attrs() {
    local q=/sys/block/${1#/dev/}/queue kv
    shift
    for kv in "$@"; do
        check "${q#/sys/block/} ${kv%%=*}" "$(cat "$q/${kv%%=*}")" "${kv#*=}"
    done
}

# Print a zone-management result and check the zone's normalized line.
check_zone() {
    local got
    got=$(zone_line "$1" "$2")
    check "zone $2 after $3" "$got" "$4"
}

# virtio_blk uses at most one queue per CPU.
expected_queues() {
    local cpus
    cpus=$(grep -c ^processor /proc/cpuinfo)
    echo $(($1 < cpus ? $1 : cpus))
}

# bounded SECS CMD...: run CMD, but give up on the whole test after SECS seconds
# (a file system stuck on a device that lost requests would otherwise hold the
# guest until the suite's timeout).  Returns CMD's status.
bounded() {
    local secs=$1 pid i
    shift
    "$@" &
    pid=$!
    for i in $(seq $((secs * 10))); do
        kill -0 $pid 2> /dev/null || { wait $pid; return; }
        sleep 0.1
    done
    fail "'$*' still running after $secs s; kernel log:"
    dmesg | grep -v 'Unable to find block group' | grep -m 30 -A 12 -E 'WARNING|BTRFS (error|crit)' >&2
    echo "$NFAIL check(s) failed (gave up)" >&2
    give_up
}

# The guest's /init syncs before it reports the exit status and powers off; with a
# file system stuck that would wait for the suite's timeout.  So report failure on
# the status port ourselves (run.sh takes the "rc N" line) and power off now.
give_up() {
    local p
    for p in /sys/class/virtio-ports/*; do
        [ "$(cat "$p/name" 2> /dev/null)" = zbd.status ] && echo "rc 1" > "/dev/${p##*/}"
    done
    echo o > /proc/sysrq-trigger
    sleep 10
    exit 1
}
