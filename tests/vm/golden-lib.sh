# Golden-output helpers for the VM tests that run qemu-io on zoned null_blk
# (sourced by bash inside the guest after test-lib.sh).
#
# A test collects what its qemu-io runs print with qio/section/note, then
# golden_compare diffs that against tests/vm/tests/NAME.out.  The golden
# file's lines starting with '#' are its header (what it covers, and every
# deliberate difference from QEMU's qemu-io); they are not compared.
#
# Environment (set by tests/vm/golden.sh through run.sh -e):
#   ZBD_QEMU_IO=PATH     run this qemu-io instead of the build's (QEMU's
#                        /usr/bin/qemu-io, to check the golden against it)
#   ZBD_GOLDEN_UPDATE=1  rewrite the golden file (keeping its header)
#
# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash

QIO=${ZBD_QEMU_IO:-$ZBD_BUILD/qemu-io}
GOLDEN_OUT=$(mktemp /tmp/golden.XXXXXX)
QIO_ERR=$(mktemp /tmp/qio-err.XXXXXX)

out() { printf '%s\n' "$*" >> "$GOLDEN_OUT"; }
section() { out ""; out "== $*"; }

# Timing figures, as QEMU's iotests filter them.
filter_timing() {
    sed -e 's/[0-9]* ops; [0-9/:. sec]* ([0-9/.inf]* [EPTGMKiBbytes]*\/sec and [0-9/.inf]* ops\/sec)/X ops; XX:XX:XX.X (XXX YYY\/sec and XXX ops\/sec)/'
}

# qio IMAGE-OPTS CMD...: one qemu-io process with --image-opts IMAGE-OPTS and
# one -c per command (one process, so the write-pointer cache carries over).
# IMAGE-OPTS not starting with "driver=" are qemu-io arguments (split at
# spaces), e.g. "-f raw -t none /dev/nullb0".
# Records the commands, then stdout, then stderr (apart, so that buffering
# cannot reorder them), then the exit status.
qio() {
    local opts=$1 c args=() pre=()
    shift
    case $opts in
        driver=*) pre=(--image-opts "$opts"); out "-- $opts" ;;
        *) read -r -a pre <<< "$opts"; out "-- $opts" ;;
    esac
    for c in "$@"; do args+=(-c "$c"); out "   \$ $c"; done
    local rc=0
    "$QIO" "${args[@]}" "${pre[@]}" 2> "$QIO_ERR" | filter_timing >> "$GOLDEN_OUT" ||
        rc=${PIPESTATUS[0]}
    sed -e "s#^$QIO:#qemu-io:#" -e 's/^/stderr: /' "$QIO_ERR" >> "$GOLDEN_OUT"
    [ "$rc" -eq 0 ] || out "exit status $rc"
}

# An interactive qemu-io (commands on its stdin), so that something else can
# run between two of its commands: session_start IMAGE-OPTS, then session CMD
# and session_outside CMD..., then session_end.  After each command it sends
# `length` and reads up to that answer, so the output is complete and in order.
session_start() {
    out "-- $1 (interactive)"
    coproc QSESS { "$QIO" --image-opts "$1" 2>&1; }
    printf 'length\n' >&"${QSESS[1]}"
    IFS= read -r SESS_MARK <&"${QSESS[0]}"
    SESS_MARK=${SESS_MARK//qemu-io> /}
}

session() {
    local line
    out "   \$ $1"
    if [ -n "${ZBD_QEMU_IO:-}" ]; then
        # QEMU's qemu-io reads stdin with stdio when its fd is readable, so
        # a second line arriving with the first waits for more input.
        printf '%s\n' "$1" >&"${QSESS[1]}"
        sleep 1
        printf 'length\n' >&"${QSESS[1]}"
    else
        printf '%s\nlength\n' "$1" >&"${QSESS[1]}"
    fi
    while IFS= read -r line <&"${QSESS[0]}"; do
        line=${line//qemu-io> /}
        [ "$line" != "$SESS_MARK" ] || return 0
        printf '%s\n' "$line" | filter_timing >> "$GOLDEN_OUT"
    done
    out "(qemu-io exited)"
}

session_outside() {
    out "   (outside qemu-io: $*)"
    "$@" || out "   (failed: $?)"
}

session_end() {
    printf 'quit\n' >&"${QSESS[1]}"
    wait "$QSESS_PID" || out "exit status $?"
}

# Geometry of /dev/DEV in bytes, into global variables: ZS (zone size), CAP
# (capacity of the first sequential zone), NZ (zones), NCONV (conventional
# zones), LEN (device length), BS (logical block), ZAM (max append bytes).
# shellcheck disable=SC2034  # (globals for the caller)
geometry() {
    local q=/sys/block/$1/queue
    ZS=$(($(cat "$q/chunk_sectors") * 512))
    NZ=$(cat "$q/nr_zones")
    BS=$(cat "$q/logical_block_size")
    ZAM=$(cat "$q/zone_append_max_bytes")
    LEN=$(blockdev --getsize64 "/dev/$1")
    NCONV=$(blkzone report "/dev/$1" | grep -c CONVENTIONAL || true)
    CAP=$(($(blkzone report -o $((NCONV * ZS / 512)) -c 1 "/dev/$1" |
            sed -n 's/.*cap \(0x[0-9a-f]*\).*/\1/p') * 512))
}

# Every zone back to empty (read-only and offline zones stay), so that a case
# does not depend on the ones before it, with our qemu-io and with QEMU's.
reset_all() { blkzone reset "/dev/$1" 2> /dev/null || true; }

# The runs whose image options name driver=raw left out, and the section
# titles (some sections hold nothing else).
drop_raw() {
    awk '/^(-- |== |$)/ { skip = /^-- .*driver=raw/ } !skip && !/^(== |$)/'
}

# golden_compare FILE: the collected output against FILE (or rewrite FILE).
golden_compare() {
    local golden=$1 want
    want=$(mktemp /tmp/want.XXXXXX)
    if [ -n "${ZBD_GOLDEN_UPDATE:-}" ]; then
        { grep '^#' "$golden" 2> /dev/null || true; cat "$GOLDEN_OUT"; } > "$want"
        cp "$want" "$golden"
        echo "golden output written to $golden"
        return
    fi
    grep -v '^#' "$golden" > "$want" || true
    if [ -n "${ZBD_QEMU_IO:-}" ]; then
        # QEMU 10 passes no zone command through the raw format: leave out
        # the runs through raw from both sides.
        echo "note: runs through driver=raw are not compared with QEMU"
        drop_raw < "$want" > "$want.q" && mv "$want.q" "$want"
        drop_raw < "$GOLDEN_OUT" > "$want.q" && mv "$want.q" "$GOLDEN_OUT"
    fi
    if diff -u "$want" "$GOLDEN_OUT" > "$want.diff"; then
        echo "ok:   output of $QIO matches $golden ($(wc -l < "$GOLDEN_OUT") lines)"
    else
        fail "output of $QIO differs from $golden:"
        cat "$want.diff"
    fi
}
