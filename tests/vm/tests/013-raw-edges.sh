#!/bin/bash
# The raw format over zoned host devices at its edges: a block device named on
# the qemu-io command line (`-f raw -t none /dev/nullbN`, which QEMU opens
# with the host_device protocol), a raw window holding a conventional zone or
# read-only and offline zones: their write pointers as the device reports
# them, and a reset of the whole window, which like the kernel's reset-all
# resets the sequential zones and leaves the others alone.  Golden output:
# 013-raw-edges.out (its header names the bugs it pins).
# devices: zone_size=8,zone_nr_conv=2,size=64,memory_backed=1
# devices: zone_size=8,zone_nr_conv=1,size=64,memory_backed=1,zone_readonly=32768,zone_offline=49152
set -euo pipefail
. tests/vm/test-lib.sh
. tests/vm/golden-lib.sh

section "nullb0: block device named on the command line"
reset_all nullb0
qio "-f raw /dev/nullb0" "zrp 0 1"
qio "-f raw -t none /dev/nullb0" "zrp 0x1000000 1" "zap -p 0x1000000 0x200" \
    "zrp 0x1000000 1"
qio "-t none /dev/nullb0" "zap -p 0x1000000 0x200" "zrp 0x1000000 1"
qio "-f raw -n -i io_uring /dev/nullb0" "zap -p 0x1000000 0x200" "zrp 0x1000000 1"
qio "-f host_device -t none /dev/nullb0" "zap -p 0x1000000 0x200" "zrp 0x1000000 1"

section "nullb0: window from conventional zone 1 to the end"
reset_all nullb0
qio "driver=raw,offset=0x800000,file.driver=host_device,file.filename=/dev/nullb0,cache.direct=on" \
    "zrp 0 3" "zap -p 0x800000 0x200" "zap -p 0x1000000 0x200" "zrs 0 0x3800000" \
    "zrp 0 3"

section "nullb1: window from read-only zone 2 (offline zone 3) to the end"
reset_all nullb1
qio "driver=raw,offset=0x1000000,file.driver=host_device,file.filename=/dev/nullb1,cache.direct=on" \
    "zrp 0 3" "zap -p 0 0x200" "zap -p 0x1000000 0x200" "zrp 0x1000000 1" \
    "zrs 0 0x3000000" "zrp 0 3"

golden_compare tests/vm/tests/013-raw-edges.out
done_testing
