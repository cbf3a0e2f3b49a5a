#!/bin/bash
# VDUSE export throughput against QEMU's: boots one guest (tests/vm/run.sh) and,
# in that same boot, serves the same raw image first with our qemu-storage-daemon
# and then with QEMU's (/usr/bin/qemu-storage-daemon, packed into the guest), each
# as `--export type=vduse-blk` with one queue of 256 entries.  fio in the guest
# runs 4 KiB random reads and random writes at iodepth 32 against each.  Prints
# IOPS for both and the ratio ours/QEMU; never part of pass/fail.
#
# Usage: tests/bench/vduse-bench.sh [BUILD-DIR] [SECONDS-PER-RUN] [ROUNDS]
#   (defaults: build, 10, 2; rounds alternate ours and QEMU to spread drift)
#
# SPDX-License-Identifier: GPL-2.0-or-later
set -euo pipefail

IMG_MB=256
FIO_COMMON="--direct=1 --ioengine=libaio --bs=4k --iodepth=32 --numjobs=1
            --time_based --ramp_time=2 --randrepeat=0 --norandommap
            --output-format=terse --terse-version=3"

# ---- guest side ----
if [ "${1:-}" = --guest ]; then
    build=$2 secs=$3 rounds=$4
    modprobe -a vduse virtio_vdpa virtio_blk
    # Written once, so that reads hit allocated memory in both runs.
    dd if=/dev/zero of=/tmp/bench.img bs=1M count=$IMG_MB 2> /dev/null
    node="driver=file,filename=/tmp/bench.img,node-name=n0"
    export_opts="id=e0,node-name=n0,writable=on,num-queues=1,queue-size=256"

    run_one() {     # which daemon-binary name rw
        local which=$1 qsd=$2 name=$3 rw=$4 pid dev i line
        "$qsd" --blockdev "$node" --export "type=vduse-blk,$export_opts,name=$name" &
        pid=$!
        for i in $(seq 100); do [ -e "/dev/vduse/$name" ] && break; sleep 0.1; done
        vdpa dev add name "$name" mgmtdev vduse
        dev=
        for i in $(seq 100); do
            for d in /sys/bus/vdpa/devices/"$name"/virtio*/block/*; do
                [ -e "$d" ] && dev=/dev/${d##*/}
            done
            [ -n "$dev" ] && [ -b "$dev" ] && break
            sleep 0.1
        done
        # shellcheck disable=SC2086
        line=$(fio --name="$which-$rw" --filename="$dev" --rw="$rw" --runtime="$secs" \
               $FIO_COMMON)
        vdpa dev del "$name"
        kill -TERM "$pid"
        wait "$pid" || true
        # terse v3: field 8 is read IOPS, field 49 write IOPS
        if [ "$rw" = randread ]; then
            echo "RESULT $which $rw $(echo "$line" | cut -d';' -f8)"
        else
            echo "RESULT $which $rw $(echo "$line" | cut -d';' -f49)"
        fi
    }
    for r in $(seq "$rounds"); do
        for rw in randread randwrite; do
            run_one ours "$build/qemu-storage-daemon" zb-ours "$rw"
            run_one qemu /usr/bin/qemu-storage-daemon zb-qemu "$rw"
        done
    done
    exit 0
fi

# ---- host side ----
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-build}
secs=${2:-10}
rounds=${3:-2}
case $build in /*) ;; *) build=$root/$build ;; esac
for f in "$build/qemu-storage-daemon" /usr/bin/qemu-storage-daemon /usr/bin/fio /usr/sbin/vdpa; do
    [ -x "$f" ] || { echo "$0: $f is missing" >&2; exit 1; }
done
qemu_version=$(/usr/bin/qemu-storage-daemon -V | sed -n '1s/.*version \([^ ]*\).*/\1/p')
cpus=2

out=$(cd "$root" && tests/vm/run.sh -m 2G -c $cpus -t $((secs * rounds * 8 + 300)) \
      -i /usr/bin/qemu-storage-daemon -i /usr/bin/fio -i /usr/sbin/vdpa \
      -- bash tests/bench/vduse-bench.sh --guest "$build" "$secs" "$rounds")

echo "vduse-bench: fio 4 KiB random I/O, iodepth 32, libaio, O_DIRECT, in a TCG guest"
echo "  ($cpus vCPUs); ${IMG_MB} MiB raw image in guest RAM; one queue of 256; ${secs} s per"
echo "  run after 2 s ramp, $rounds round(s), ours and QEMU alternating in one boot"
printf '%-10s %12s %12s %8s\n' "" "ours IOPS" "QEMU $qemu_version" "ratio"
for rw in randread randwrite; do
    ours=$(echo "$out" | awk -v rw=$rw '$1 == "RESULT" && $2 == "ours" && $3 == rw { s += $4; n++ } END { if (n) printf "%.0f", s / n }')
    qemu=$(echo "$out" | awk -v rw=$rw '$1 == "RESULT" && $2 == "qemu" && $3 == rw { s += $4; n++ } END { if (n) printf "%.0f", s / n }')
    ratio=$(awk -v a="$ours" -v b="$qemu" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')
    printf '%-10s %12s %12s %8s\n' "$rw" "$ours" "$qemu" "$ratio"
done
echo "$out" | awk '$1 == "RESULT" { printf "  run: %s %s %s IOPS\n", $2, $3, $4 }'
