#!/usr/bin/env bash
#
# Developer tool (not part of make check): run iotests with QEMU's own
# qemu-io and diff against our golden files, to show that the golden
# outputs (produced by our qemu-io) are what QEMU prints.
#
#   compare-qemu.sh [-i MODE] [-c CACHE] [-v] [NNN...]
#
# Options are passed to ./check.  QEMU_REF names QEMU's qemu-io (default
# /usr/bin/qemu-io); without it the script says so and exits 0.
#
# Known, deliberate differences are listed below; such a test is reported
# as "expected difference" instead of a failure (its diff is still shown
# with -v).
#
# SPDX-License-Identifier: GPL-2.0-or-later

set -u

srcdir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ref=${QEMU_REF:-/usr/bin/qemu-io}

if [ ! -x "$ref" ]; then
    echo "compare-qemu: $ref not found, nothing to compare against (skipped)"
    exit 0
fi

# test[:aiomode] -> why QEMU's output differs from ours
declare -A known
known[012]="usage texts: commands and options not implemented here are not"
known[012]+=" listed, our own version line"
known[014]="zone command additions: zrp -v and its help; QEMU aborts on"
known[014]+=" 'zrp 0 4294967295' (it allocates every descriptor)"
known[005:io_uring]="QEMU 10.0.2 hangs with io_uring on the short read at"
known[005:io_uring]+=" the end of a 1000-byte image"

check_args=()
tests=()
aiomode=threads
verbose=false
while [ $# -gt 0 ]; do
    case "$1" in
    -i) aiomode=$2; check_args+=(-i "$2"); shift ;;
    -c) check_args+=(-c "$2"); shift ;;
    -v) verbose=true ;;
    -h|--help)
        sed -n '3,16p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *) tests+=("$1") ;;
    esac
    shift
done
if [ ${#tests[@]} -eq 0 ]; then
    for f in "$srcdir"/[0-9][0-9][0-9]; do
        tests+=("$(basename "$f")")
    done
fi

echo "Comparing golden outputs with $("$ref" -V | head -n 1)"
echo

same=0
differ=0
expected=0
for t in "${tests[@]}"; do
    t=$(printf '%03d' "$((10#$t))")
    why=${known[$t:$aiomode]:-${known[$t]:-}}
    if [ -n "$why" ] && [ -n "${known[$t:$aiomode]:-}" ]; then
        # A known hang or crash of QEMU: do not even run it.
        echo "$t  expected difference, not run: $why"
        expected=$((expected + 1))
        continue
    fi
    scratch=$(mktemp -d)
    out=$(QEMU_IO="$ref" IOTESTS_SCRATCH="$scratch" \
          bash "$srcdir/check" -d "${check_args[@]}" "$t" 2>&1)
    if echo "$out" | grep -q "^1 passed, 0 failed"; then
        echo "$t  same as QEMU"
        same=$((same + 1))
    elif [ -n "$why" ]; then
        echo "$t  expected difference: $why"
        expected=$((expected + 1))
        $verbose && cat "$scratch"/*/"$t"/"$t".diff 2>/dev/null
    else
        echo "$t  DIFFERS from QEMU"
        cat "$scratch"/*/"$t"/"$t".diff 2>/dev/null || echo "$out"
        differ=$((differ + 1))
    fi
    rm -rf "$scratch"
done

echo
echo "$same same, $differ different, $expected expected differences"
[ $differ -eq 0 ]
