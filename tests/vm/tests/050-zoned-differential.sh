#!/bin/bash
# Differential test: the zoned image format against the kernel's zoned null_blk.
# The cases of tests/vm/diff/cases.txt run, for each geometry they name, on a
# null_blk device and on a `zoned` image of the same geometry; the two outputs
# (timings and names filtered) must be identical.  A difference fails the test
# and shows where it starts.  The image's geometry is read from the device
# (sysfs and its zone report), so it is the same by construction.
#
# Geometries, one null_blk device each, in the order of the labels:
# labels: conv cap limits open active bs4k append small-last ro-offline
# devices: zone_size=4,zone_nr_conv=2,size=32,memory_backed=1
# devices: zone_size=4,zone_capacity=3,size=32,memory_backed=1
# devices: zone_size=2,zone_nr_conv=1,zone_max_open=3,zone_max_active=5,size=24,memory_backed=1
# devices: zone_size=2,zone_max_open=2,size=16,memory_backed=1
# devices: zone_size=2,zone_max_active=3,size=16,memory_backed=1
# devices: zone_size=4,blocksize=4096,size=32,memory_backed=1
# devices: zone_size=4,zone_append_max_sectors=16,size=16,memory_backed=1
# devices: zone_size=4,size=30,memory_backed=1
# devices: zone_size=4,zone_nr_conv=1,size=32,memory_backed=1,zone_readonly=16384,zone_offline=24576
# include: /usr/bin/stdbuf /usr/libexec/coreutils/libstdbuf.so
# memory: 2G
# timeout: 900
#
# Environment (tests/vm/run.sh -e): ZBD_DIFF_ONLY=LABEL runs one geometry,
# ZBD_DIFF_CASE=N only the case on line N of cases.txt, ZBD_DIFF_NO_IMAGE=1
# only the null_blk side (prints its output).  Every output is kept in
# $ZBD_BUILD/vm-diff/LABEL.{nullblk,zoned}.
set -euo pipefail
. tests/vm/test-lib.sh

CASES=tests/vm/diff/cases.txt
QIO=$ZBD_BUILD/qemu-io
QIMG=$ZBD_BUILD/qemu-img
OUT=$ZBD_BUILD/vm-diff           # every case's outputs, for reading afterwards
WORK=$(mktemp -d /tmp/zdiff.XXXXXX)
trap 'rm -rf "$WORK"' EXIT

if [ ! -x "$QIO" ] || [ ! -x "$QIMG" ]; then
    skip "$QIO or $QIMG is not built"
fi
if [ -z "${ZBD_DIFF_NO_IMAGE:-}" ]; then
    "$QIMG" create -f zoned -o help >/dev/null 2>&1 || skip "no zoned format in $QIMG"
fi
rm -rf "$OUT" && mkdir -p "$OUT"
BUF=()
command -v stdbuf >/dev/null || fail "stdbuf is missing: stderr and stdout may not interleave alike"
command -v stdbuf >/dev/null && BUF=(stdbuf -oL)

read -ra LABELS < <(sed -n 's/^# labels:[[:space:]]*//p' "$0")
mapfile -t SPECS < <(declared_devices "$0")
check "labels for the declared devices" "${#LABELS[@]}" "${#SPECS[@]}"

# ---- geometry of device n, read back from the kernel ----

# Sets Z CAP S CONV NZ SIZE LAST BS ZA MO MA (bytes or counts) for nullb$1;
# the cases use them through expand().
# shellcheck disable=SC2034
geometry() {
    local q=/sys/block/nullb$1/queue dev=/dev/nullb$1 cap
    Z=$(( $(cat "$q"/chunk_sectors) * 512 ))
    NZ=$(cat "$q"/nr_zones)
    SIZE=$(( $(blockdev --getsz "$dev") * 512 ))
    BS=$(cat "$q"/logical_block_size)
    ZA=$(cat "$q"/zone_append_max_bytes)
    MO=$(cat "$q"/max_open_zones)
    MA=$(cat "$q"/max_active_zones)
    CONV=$(nr_conv_zones "$dev")
    S=$(( CONV * Z ))
    LAST=$(( (NZ - 1) * Z ))
    K=1024
    cap=$(blkzone report -o $(( S / 512 )) -c 1 "$dev" | sed -n 's/.*cap \(0x[0-9a-f]*\).*/\1/p')
    CAP=$(( cap * 512 ))
}

# The qemu-img -o options of an image with that geometry; read-only and
# offline zones as the device spec declares them (sectors).
image_options() {
    local spec=$1 kv o
    o="zone_size=$Z,zone_capacity=$CAP,conventional_zones=$CONV"
    o+=",max_open_zones=$MO,max_active_zones=$MA,max_append_size=$ZA"
    o+=",logical_block_size=$BS"
    for kv in $spec; do
        case $kv in
            zone_readonly=*) o+=",readonly_zones=$(( ${kv#*=} * 512 / Z ))" ;;
            zone_offline=*) o+=",offline_zones=$(( ${kv#*=} * 512 / Z ))" ;;
        esac
    done
    echo "$o"
}

# A fresh device: power it off and on (zones empty, null_blk's implicit-close
# cursor back at its start) and apply the read-only/offline zones again.
fresh_device() {
    local n=$1 spec=$2 cfg=/sys/kernel/config/nullb/nullb$1 kv i
    echo 0 > "$cfg/power"
    echo 1 > "$cfg/power"
    for i in $(seq 50); do [ -b "/dev/nullb$n" ] && break; sleep 0.1; done
    for kv in $spec; do
        case $kv in
            zone_readonly=*|zone_offline=*) echo "${kv#*=}" > "$cfg/${kv%%=*}" ;;
        esac
    done
}

fresh_image() {
    rm -f "$img"
    "$QIMG" create -q -f zoned -o "$opts" "$img" "$SIZE" > "$WORK/create" 2>&1 && return
    fail "$label: qemu-img create -f zoned -o $opts $SIZE: $(cat "$WORK/create")"
    return 1
}

# ---- cases ----

# Replace every {EXPR} by its value over the geometry variables.
expand() {
    local s=$1 out='' pre expr
    while [[ $s =~ ^([^{]*)\{([^}]*)\}(.*)$ ]]; do
        pre=${BASH_REMATCH[1]} expr=${BASH_REMATCH[2]} s=${BASH_REMATCH[3]}
        [[ $expr =~ ^[A-Za-z0-9_+*/%()\ -]+$ ]] || { echo "bad expression {$expr}" >&2; return 1; }
        out+="$pre$(( expr ))"
    done
    echo "$out$s"
}

# The output of one qemu-io run, as compared: stdout and stderr in the order
# they were written (stdbuf makes stdout line-buffered), then the exit
# status, with timings and the target's name filtered out.
filter() {
    sed -e 's/[0-9]* ops; [0-9/:. sec]* ([0-9/.inf]* [EPTGMKiBbytes]*\/sec and [0-9/.inf]* ops\/sec)/X ops; XX:XX:XX.X (XXX YYY\/sec and XXX ops\/sec)/' \
        -e "s#$1#TARGET#g"
}

run_qemu_io() {     # target-name qemu-io-args... -- then the -c list in CMDS
    local name=$1 rc=0
    shift
    "${BUF[@]}" "$QIO" "$@" "${CMDS[@]}" > "$WORK/out" 2>&1 || rc=$?
    filter "$name" < "$WORK/out"
    echo "exit status $rc"
}

ncases=0 ndiff=0 nruns=0
declare -A CASES_OF
mapfile -t LINES < "$CASES"
for ((lineno = 1; lineno <= ${#LINES[@]}; lineno++)); do
    line=${LINES[lineno - 1]}
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    [ -z "${ZBD_DIFF_CASE:-}" ] || [ "$ZBD_DIFF_CASE" = "$lineno" ] || continue
    ncases=$((ncases + 1))
    sel=${line%%:*}
    for i in "${!LABELS[@]}"; do
        if [ "$sel" = "*" ] || [[ ",$sel," == *",${LABELS[$i]},"* ]]; then
            CASES_OF[$i]+="$lineno "
        fi
    done
done

# Where the two outputs part: the case (its marker line) holding the first
# line that differs.
first_difference() {
    awk 'NR == FNR { a[FNR] = $0; n = FNR; next }
         FNR > n || $0 != a[FNR] { at = FNR; exit }
         END { if (!at && FNR < n) at = FNR + 1; print at }' "$1" "$2" |
    {
        read -r at
        head -n "${at:-0}" "$1" | sed -n 's/^command case-\([0-9]*\) not found$/\1/p' | tail -n1
    }
}

for i in "${!LABELS[@]}"; do
    label=${LABELS[$i]} spec=${SPECS[$i]}
    [ -z "${ZBD_DIFF_ONLY:-}" ] || [ "$ZBD_DIFF_ONLY" = "$label" ] || continue
    [ -n "${CASES_OF[$i]:-}" ] || continue
    geometry "$i"
    opts=$(image_options "$spec")
    echo "== $label: nullb$i ($spec)"
    echo "   image: -o $opts $SIZE"
    img=$WORK/$label.zoned

    # All the cases of a geometry run in one qemu-io process per side (a
    # process start costs a third of a second under TCG).  Each case
    # starts with a marker line ("help case-N" prints "command case-N not
    # found") and a reset of every zone, so it starts from empty zones.
    # State that no command resets, such as null_blk's round-robin cursor
    # for implicit closes, carries over from case to case on both sides.
    # Cases read back (-P, -v) only what they wrote: the conventional
    # zones keep the previous cases' data.
    CMDS=()
    n=0
    for lineno in ${CASES_OF[$i]}; do
        line=${LINES[lineno - 1]}
        cmds=$(expand "${line#*:}") || { fail "$CASES:$lineno: $line"; continue; }
        CMDS+=(-c "help case-$lineno" -c "zrs 0 $SIZE")
        IFS=';' read -ra parts <<< "$cmds"
        for c in "${parts[@]}"; do
            c=${c#"${c%%[! ]*}"}
            c=${c%"${c##*[! ]}"}
            [ -z "$c" ] || CMDS+=(-c "$c")
        done
        n=$((n + 1))
    done
    fresh_device "$i" "$spec"
    base=$OUT/$label
    run_qemu_io "/dev/nullb$i" -n --image-opts "driver=host_device,filename=/dev/nullb$i" \
        > "$base.nullblk"
    if [ -n "${ZBD_DIFF_NO_IMAGE:-}" ]; then
        cat "$base.nullblk"
        continue
    fi
    fresh_image || continue
    run_qemu_io "$img" -f zoned "$img" > "$base.zoned"
    nruns=$((nruns + n))
    if cmp -s "$base.nullblk" "$base.zoned"; then
        echo "ok:   $label: $n cases, identical"
        continue
    fi
    ndiff=$((ndiff + 1))
    at=$(first_difference "$base.nullblk" "$base.zoned")
    fail "$label: the zoned image differs from null_blk${at:+, first in case $CASES:$at}"
    [ -z "$at" ] || echo "   case $at: ${LINES[at - 1]}" >&2
    diff -u -L null_blk -L zoned "$base.nullblk" "$base.zoned" | sed 's/^/   /' || true
done

echo "$nruns case runs ($ncases cases over ${#LABELS[@]} geometries); $ndiff geometries differ"
echo "outputs: $OUT"
done_testing
