#!/bin/bash
# Every qemu-io zone command (zrp, zo, zc, zf, zrs, zap with and without -p,
# several iovecs), with its error cases, on five zoned null_blk geometries, each
# through host_device directly, through raw over host_device, and through a raw
# window at a zone-aligned offset.  Data written by appends is read back with
# `read -P 0xcd`.  Golden output: 010-zone-cmds.out, whose header lists where
# QEMU 10's qemu-io prints something else (tests/vm/golden.sh qemu 010).
# devices: zone_size=8,zone_nr_conv=2,memory_backed=1,size=64
# devices: zone_size=8,zone_capacity=6,memory_backed=1,size=64
# devices: zone_size=8,blocksize=4096,memory_backed=1,size=64
# devices: zone_size=8,zone_append_max_sectors=64,memory_backed=1,size=64
# devices: zone_size=8,memory_backed=1,size=60
# memory: 1G
set -euo pipefail
. tests/vm/test-lib.sh
. tests/vm/golden-lib.sh

# cases DEV IMAGE-OPTS VIEW-OFFSET VIEW-LENGTH: the common sequence, in
# offsets relative to the view (the raw window, or the whole device).
# (printf -v, not $(...): every fork costs ~20 ms under TCG.)
# shellcheck disable=SC2034  # (x reads variables by name)
cases() {
    local dev=$1 opts=$2 vo=$3 vl=$4
    geometry "$dev"
    local nconv=$(( NCONV * ZS > vo ? (NCONV * ZS - vo) / ZS : 0 ))
    local s=$((nconv * ZS)) b=$BS nzv=$(( (vl + ZS - 1) / ZS ))
    local last=$(( (nzv - 1) * ZS )) lastlen=$(( vl - (nzv - 1) * ZS ))
    local S S1 S2 Sb S8 S9 B B2 B3 B8 Z Z2 Zb Cb C2 L LAST LASTLEN LASTLONG
    x() { printf -v "$1" '0x%x' "$(($2))"; }
    x S s; x S1 s+ZS; x S2 s+2*ZS; x Sb s+b; x S8 s+8*b; x S9 s+9*b
    x B b; x B2 2*b; x B3 3*b; x B8 8*b; x Z ZS; x Z2 2*ZS; x Zb ZS+b
    x Cb s+2*ZS+CAP-b; x C2 CAP-b; x L vl; x LAST last; x LASTLEN lastlen
    x LASTLONG lastlen+ZS
    # Reset of the whole view: all zones (reset-all), except in a window that
    # holds a conventional zone, where 013-raw-window.sh checks it.
    local reset_view="zrs 0 $L"
    if [ "$vo" -gt 0 ] && [ "$nconv" -gt 0 ]; then
        x L vl-s
        reset_view="zrs $S $L"
        x L vl
    fi

    section "$dev: $L bytes at $(printf '0x%x' "$vo"), zone $Z, cap $(printf '0x%x' "$CAP"), block $BS, max append $(printf '0x%x' "$ZAM"), $nconv conventional"
    reset_all "$dev"
    # Each qemu-io run starts from empty zones.  Appends with and without -p,
    # one and two iovecs, and their data (null_blk reads 0xff past the write
    # pointer); a write behind the pointer fails and the next append still
    # lands right; open, close, finish and reset of one zone and of two.
    qio "$opts" "zrp 0 3" "zrp $LAST 2" \
        "zap -p $S $B" "zap $S $B $B" "zap -p $S $B2 $B3" "zrp $S 1" \
        "read -P 0xcd $S $B8" "read -P 0xff $S8 $B" "write -P 0x11 $S8 $B" \
        "read -P 0x11 $S8 $B" "write -P 0x22 $S $B" "zrp $S 1" \
        "zap -p $S $B" "read -P 0xcd $S9 $B" \
        "zo $S1 $Z" "zrp $S1 1" "zc $S1 $Z" "zrp $S1 1" \
        "zap $S1 $B $B" "zc $S1 $Z" "zrp $S1 1" "zo $S1 $Z" "zrp $S1 1" \
        "zf $S1 $Z" "zrp $S1 1" "zap -p $S1 $B" "write $S1 $B" \
        "zrs $S1 $Z" "zrp $S1 1" "zo $S $Z2" "zrp $S 2" "zrs $S $Z2" "zrp $S 2"
    reset_all "$dev"
    # Up to the capacity: an append crossing it fails, one ending on it fills
    # the zone, which then takes nothing more.  Then the argument errors:
    # unaligned, not a zone start, empty, beyond the end.
    qio "$opts" "write -P 0x33 $S2 $C2" "zap -p $S2 $B2" "zrp $S2 1" \
        "zap -p $S2 $B" "zrp $S2 1" "zap -p $S2 $B" "read -P 0xcd $Cb $B" \
        "zrs $S2 $Z" \
        "zo $Sb $Z" "zrs $S $B" "zc $S $Zb" "zf $S 0" "zap $Sb $B $B" \
        "zap -p $S 0" "zap -p $L $B" "zo $L $Z" "zrs $LAST $LASTLONG" \
        "zrp $L 1" "zrp 0 0"
    # Conventional zones (no zone management, no append, writes anywhere),
    # the last zone (shorter when the view ends in the device's short zone),
    # reset of the whole view.
    reset_all "$dev"
    local conv=()
    if [ "$nconv" -gt 0 ]; then
        conv=("zap -p 0 $B" "zo 0 $Z" "zc 0 $Z" "zf 0 $Z" "zrs 0 $Z"
              "write -P 0x44 $B3 $B" "write -P 0x44 $B $B" "read -P 0x44 $B $B"
              "zrp 0 1")
    fi
    qio "$opts" "${conv[@]}" "zap -p $LAST $B" "zf $LAST $LASTLEN" \
        "zrp $LAST 1" "zrs $LAST $LASTLEN" "zrp $LAST 1" \
        "zap -p $S $B" "zap -p $S1 $B" "$reset_view" "zrp $S 2"
}

hd() { echo "driver=host_device,filename=/dev/$1,cache.direct=on"; }
raw() { echo "driver=raw,file.driver=host_device,file.filename=/dev/$1,cache.direct=on${2:+,$2}"; }

# Through host_device, then raw over host_device, which must print exactly the
# same (checked here, recorded once), then a raw window from the second zone
# to the end of the device.
golden=$GOLDEN_OUT
n=0
while read -r _; do
    dev=nullb$n
    geometry $dev
    GOLDEN_OUT=$(mktemp /tmp/hd.XXXXXX)
    cases $dev "$(hd $dev)" 0 "$LEN"
    hd_out=$GOLDEN_OUT
    if [ -n "${ZBD_QEMU_IO:-}" ]; then   # QEMU: nothing through raw
        GOLDEN_OUT=$golden
        cat "$hd_out" >> "$GOLDEN_OUT"
        n=$((n + 1))
        continue
    fi
    GOLDEN_OUT=$(mktemp /tmp/raw.XXXXXX)
    cases $dev "$(raw $dev)" 0 "$LEN"
    if diff -u <(grep -v '^-- ' "$hd_out") <(grep -v '^-- ' "$GOLDEN_OUT") > "$hd_out.diff"; then
        echo "ok:   $dev: raw over host_device prints what host_device prints"
    else
        fail "$dev: raw over host_device and host_device differ:"
        head -n 30 "$hd_out.diff"
    fi
    GOLDEN_OUT=$golden
    cat "$hd_out" >> "$GOLDEN_OUT"
    out "-- $(raw $dev): the same output"
    cases $dev "$(raw $dev "offset=$(printf '0x%x' "$ZS")")" "$ZS" $((LEN - ZS))
    n=$((n + 1))
done < <(declared_devices "$0")

# Geometry-specific cases.
reset_all nullb2; reset_all nullb3; reset_all nullb4
# 4096-byte blocks: 512-byte appends and writes are refused.
qio "$(hd nullb2)" "zap -p 0 0x200" "write 0 0x200" "zap -p 0 0x1200" \
    "zap -p 0 0x1000 0x2000" "zrp 0 1"
# A 32 KiB append limit: at the limit, one block over, and over in two iovecs.
qio "$(hd nullb3)" "zap -p 0 0x8000" "zap -p 0 0x9000" "zap -p 0 0x4000 0x5000" \
    "zap -p 0 0x4000 0x4000" "zrp 0 1"
qio "$(raw nullb3 offset=0x800000)" "zap -p 0 0x8200" "zap -p 0 0x8000" "zrp 0 1"
# Raw windows must be whole zones.
qio "$(raw nullb0 offset=0x1000)" "zrp 0 1"
qio "$(raw nullb0 offset=0x800000,size=0x400000)" "zrp 0 1"
qio "$(raw nullb4 offset=0x3000000,size=0x1000000)" "zrp 0 1"
# A window of two zones in the middle: its reset-all resets only its zones.
qio "$(hd nullb4)" "zap -p 0 0x1000" "zap -p 0x1800000 0x1000"
qio "$(raw nullb4 offset=0x800000,size=0x1000000)" "zap -p 0 0x1000" \
    "zap -p 0x800000 0x1000" "zrp 0 4" "zrs 0 0x1000000" "zrp 0 4"
qio "$(hd nullb4)" "zrp 0 4"

golden_compare tests/vm/tests/010-zone-cmds.out
done_testing
