#!/bin/bash
# Concurrent zone appends through the BlockBackend API (build/tests/vm/zone-stress):
# 64 or more in flight into one zone, then over eight zones, for each aio
# backend, through host_device and through raw.  zone-stress checks that no
# two appends overlap, that each returned offset holds its data and that the
# write pointers (the device's and the tracker's cache) end where the appends
# do; here blkzone's report must add up to the bytes zone-stress appended.
# Prints appends per second (figures only, never pass/fail).
# devices: zone_size=64,zone_nr_conv=2,memory_backed=1,size=1024
# devices: zone_size=16,zone_capacity=12,blocksize=4096,zone_append_max_sectors=64,zone_nr_conv=1,memory_backed=1,size=192
# memory: 1G
# timeout: 900
set -euo pipefail
. tests/vm/test-lib.sh

STRESS=$ZBD_BUILD/tests/vm/zone-stress
[ -x "$STRESS" ] || skip "$STRESS is not built"

# stress NAME DEV ARGS...: on empty zones, run zone-stress, then compare
# blkzone's report with what its second phase (the one over several zones)
# appended: that phase resets its zones first, including the first phase's.
stress() {
    local name=$1 dev=$2 o rc=0 bytes zones sum nonempty
    shift 2
    echo "== $name: zone-stress $* $dev"
    blkzone reset "$dev"
    o=$("$STRESS" "$@" "$dev" 2>&1) || rc=$?
    echo "$o"
    check "$name: zone-stress exit status" "$rc" 0
    bytes=$(echo "$o" | sed -n 's/^zones: [0-9]* appends (\([0-9]*\) bytes.* into \([0-9]*\) zone.*/\1/p')
    zones=$(echo "$o" | sed -n 's/^zones: [0-9]* appends (\([0-9]*\) bytes.* into \([0-9]*\) zone.*/\2/p')
    # blkzone prints each pointer relative to its zone start, in sectors.
    sum=0 nonempty=0
    for w in $(blkzone report "$dev" | sed -n 's/.*wptr \(0x[0-9a-f]*\) .*SEQ_WRITE_REQUIRED.*/\1/p'); do
        sum=$((sum + w * 512))
        [ $((w)) -eq 0 ] || nonempty=$((nonempty + 1))
    done
    check "$name: blkzone's pointers add up to the bytes of the last phase" "$sum" "$bytes"
    check "$name: zones written" "$nonempty" "$zones"
}

for aio in threads native io_uring; do
    stress "host_device aio=$aio" /dev/nullb0 -a "$aio"
done
stress "raw aio=io_uring, 128 in flight" /dev/nullb0 -d raw -a io_uring -n 128
stress "raw aio=native, 64 in flight, 3 zones" /dev/nullb0 -d raw -a native -z 3
# 4 KiB blocks, capacity 12 of 16 MiB, 32 KiB appends at most (batches are
# larger: coalesced appends go out as one regular write).
for aio in threads io_uring; do
    stress "small appends aio=$aio" /dev/nullb1 -a "$aio" -c 512 -b 65536
done

done_testing
