#!/usr/bin/env bash
# tests/vm/golden.sh - maintain the golden output of the VM tests that use
# tests/vm/golden-lib.sh.
#
# usage: tests/vm/golden.sh update TEST...   rewrite TEST's .out with the build's qemu-io
#        tests/vm/golden.sh qemu TEST...     run TEST with QEMU's qemu-io (default
#                                            /usr/bin/qemu-io, or $QEMU_IO) and show
#                                            how its output differs from the golden file
# TEST is a path or a name pattern under tests/vm/tests/.  Every difference the
# qemu mode shows must be listed in the golden file's header.  BUILD selects the
# build directory as for make (default build).
set -euo pipefail
# shellcheck source=tests/vm/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[ $# -ge 2 ] || { sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 2; }
mode=$1
shift
cd "$ZBD_VM_ROOT"
extra=()
case $mode in
    update) extra=(-e ZBD_GOLDEN_UPDATE=1) ;;
    qemu) q=${QEMU_IO:-/usr/bin/qemu-io}
          [ -x "$q" ] || { echo "golden.sh: no $q" >&2; exit 2; }
          extra=(-i "$q" -e "ZBD_QEMU_IO=$q") ;;
    *) echo "golden.sh: unknown mode $mode" >&2; exit 2 ;;
esac

header() { sed -n "s/^# $1:[[:space:]]*//p" "$2"; }
rc=0
for p in "$@"; do
    t=$p
    [ -f "$t" ] || t=$(find tests/vm/tests -name "*$p*.sh" | sort | head -n1)
    if [ -z "$t" ] || [ ! -f "$t" ]; then echo "golden.sh: no test $p" >&2; exit 2; fi
    args=()
    while read -r spec; do [ -z "$spec" ] || args+=(-z "$spec"); done < <(header devices "$t")
    for f in $(header include "$t"); do args+=(-i "$f"); done
    v=$(header memory "$t" | head -n1); [ -z "$v" ] || args+=(-m "$v")
    v=$(header timeout "$t" | head -n1); [ -z "$v" ] || args+=(-t "$v")
    v=$(header cpus "$t" | head -n1); [ -z "$v" ] || args+=(-c "$v")
    echo "=== $t ($mode)"
    "$ZBD_VM_DIR/run.sh" "${args[@]}" "${extra[@]}" \
        -e "ZBD_BUILD=$ZBD_VM_ROOT/${BUILD:-build}" -- bash "$t" || rc=$?
done
exit "$rc"
