#!/usr/bin/env bash
#
# The README's main job: a host-managed zoned disk in a plain file, on any
# machine (no zoned kernel, no root).  Creates a `zoned` image with
# qemu-img, runs a short zone session on it with qemu-io (report, appends
# with -p, a write at the write pointer, finish, reset), reopens it to show
# that the write pointers persisted, and checks it.
#
#   scripts/zoned-demo.sh [IMAGE]
#
# IMAGE is kept if given (it is overwritten); otherwise a temporary image is
# used and removed.  BUILD names the build directory (default: build).
#
# SPDX-License-Identifier: GPL-2.0-or-later

set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-build}
[[ $build = /* ]] || build=$root/$build
for tool in qemu-img qemu-io; do
    if [ ! -x "$build/$tool" ]; then
        echo "zoned-demo: $build/$tool is not built; run 'make' first" >&2
        exit 1
    fi
done

if [ $# -gt 1 ]; then
    echo "usage: $0 [IMAGE]" >&2
    exit 2
fi
if [ $# -eq 1 ]; then
    img=$1
else
    tmp=$(mktemp -d "${TMPDIR:-/tmp}/zoned-demo.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    img=$tmp/disk.zoned
fi

# Work next to the image, so that it is called by its name alone.
cd "$(dirname "$img")"
img=$(basename "$img")

# Show each command as a user would type it (one -c or -o per line), then
# its output.
run()
{
    local line="\$ ${1##*/}" a

    for a in "${@:2}"; do
        case $a in -c|-o) line+=" \\"$'\n'"    " ;; *) line+=" " ;; esac
        if [[ $a =~ [[:space:]] ]]; then line+="\"$a\""; else line+=$a; fi
    done
    printf '\n%s\n' "$line"
    "$@"
}

# 1 GiB in 16 zones of 64 MiB (48 MiB writable): 2 conventional zones, then
# 14 sequential-write-required ones; at most 8 open and 12 active zones.
run "$build/qemu-img" create -f zoned \
    -o zone_size=64M,zone_capacity=48M,conventional_zones=2,max_open_zones=8,max_active_zones=12 \
    "$img" 1G

# Zone 2 (at 128 MiB) is the first sequential zone.  Two appends land one
# after the other (-p prints where, in 512-byte sectors); a write goes
# exactly at the write pointer (128 MiB + 68 KiB); finish fills the zone,
# reset empties it.
run "$build/qemu-io" -f zoned \
    -c "zrp 0 4" \
    -c "zap -p 128M 64k" \
    -c "zap -p 128M 4k" \
    -c "write -q -P 0x5a 131140k 4k" \
    -c "zrp 128M 1" \
    -c "read -q -P 0xcd 128M 68k" \
    -c "read -q -P 0x5a 131140k 4k" \
    -c "zf 128M 64M" \
    -c "zrp 128M 1" \
    -c "zrs 128M 64M" \
    -c "zrp 128M 1" \
    -c "zap -p 192M 8k" \
    "$img" 2>&1

# A new process: the append to zone 3 is still there (its zone comes back
# closed rather than open, as after a power cycle).
run "$build/qemu-io" -f zoned -r -c "zrp 128M 2" "$img"
run "$build/qemu-img" info -f zoned "$img"
run "$build/qemu-img" check -f zoned "$img"
