#!/bin/bash
# Run a zprobe scenario file against the kernel's zoned null_blk in the VM
# and print what the kernel answered.
#
#   tests/vm/probes/run-probes.sh FILE.txt [BUILD-DIR] > FILE.out
#
# A scenario file has one statement a line (a trailing backslash continues
# it; '#' starts a comment line):
#   device SPEC      create the next null_blk device (nullb0, nullb1, ...)
#                    with these configfs attributes (as run.sh -z)
#   echo TEXT        print TEXT
#   run N ARGS...    zprobe /dev/nullbN ARGS... (shell quoting)
# Every run starts a new zprobe, so the write fill byte restarts at 01.
#
# null-blk-semantics.txt is deterministic: its .out is the kernel's answer
# and tests/unit/test-zone-model.c replays it against block/zone-model.c.
# null-blk-kernel-only.txt records kernel behaviours the model does not
# reproduce (see docs/zoned-format.md); its .out is for reading only.
#
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu
file=$1
out=${2:-build-zmodel}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
case $file in /*) ;; *) file=$PWD/$file ;; esac
case $out in /*) ;; *) out=$root/$out ;; esac

if [ "${ZPROBE_IN_GUEST:-}" != 1 ]; then
    mkdir -p "$out"
    ${CC:-cc} -O2 -Wall -o "$out/zprobe" "$here/zprobe.c"
    specs=()
    while read -r kw rest; do
        [ "$kw" = device ] && specs+=(-z "$rest")
    done < "$file"
    cd "$root"
    exec tests/vm/run.sh -e ZPROBE_IN_GUEST=1 "${specs[@]}" -- \
        "$here/run-probes.sh" "$file" "$out"
fi

# In the guest.  read without -r joins continued lines.
# shellcheck disable=SC2162
while read kw rest; do
    case $kw in
    ''|'#'*|device) ;;
    echo) echo "$rest" ;;
    run)
        eval "set -- $rest"
        dev=$1
        shift
        "$out/zprobe" "/dev/nullb$dev" "$@"
        ;;
    *) echo "unknown statement: $kw"; exit 1 ;;
    esac
done < "$file"
