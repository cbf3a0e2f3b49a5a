# Sourced (not run) by the scripts of the VM test tier: shared paths and helpers.
# shellcheck shell=bash

# Plain C locale: decimal points in $EPOCHREALTIME and awk, English tool messages.
export LC_ALL=C
ZBD_VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ZBD_VM_ROOT=$(cd "$ZBD_VM_DIR/../.." && pwd)
# Everything generated (kernel .deb, unpacked kernel, initramfs, logs) lives here.
# The default is covered by the top-level .gitignore's `build*/`.
ZBD_VM_STATE=${ZBD_VM_STATE:-$ZBD_VM_ROOT/build-vm}

# The stamp setup.sh leaves behind: the checksum of setup.sh itself (so an edited
# setup, e.g. one shipping more modules, is re-run automatically) plus what it built from.
zbd_vm_setup_sum() { sha256sum "$ZBD_VM_DIR/setup.sh" | cut -c1-16; }

# True if setup.sh has completed with the current version of setup.sh.
zbd_vm_ready() {
    local s=$ZBD_VM_STATE
    [ -s "$s/base.cpio" ] && [ -s "$s/vmlinuz" ] && [ -s "$s/kernel.release" ] &&
        [ -s "$s/setup.stamp" ] &&
        [ "$(sed -n 's/^setup=//p' "$s/setup.stamp")" = "$(zbd_vm_setup_sum)" ]
}

# Seconds since the epoch with milliseconds, for the timing figures.
zbd_vm_now() { date +%s.%N | cut -c1-14; }
# $1 - $2 in seconds with one decimal.
zbd_vm_elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a - b }'; }
