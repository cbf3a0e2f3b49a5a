#!/usr/bin/env bash
# tests/vm/run-suite.sh - run the VM tests, tests/vm/tests/*.sh, each in its own guest.
#
# usage: tests/vm/run-suite.sh [-v] [NAME-PATTERN...]
#   NAME-PATTERN  run only the tests whose file name contains one of the patterns
#   -v            show each test's output as it runs (it is always kept in the log)
#
# A test script runs under bash inside the guest, in the project root (shared from
# the host), and declares what it needs in header comments:
#   # devices: SPEC      one zoned null_blk device per line, nullb0 first (see run.sh -z)
#   # include: PATH...   host files to pack into the guest (run.sh -i), e.g. /usr/bin/fio
#   # memory: 3G         guest RAM      # timeout: 300   seconds     # cpus: 2
# Exit status 0 passes, 77 skips, anything else fails.  $ZBD_BUILD names the build
# directory (from $BUILD, default build).  Logs go to $ZBD_VM_STATE/logs/.
# The last line of output is "N passed, N failed"; the exit status is 1 on failures.
set -euo pipefail
# shellcheck source=tests/vm/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

VERBOSE=
while getopts 'vh' o; do
    case $o in
        v) VERBOSE=1 ;;
        h) sed -n '2,/^set -euo/p' "$0" | sed -e '$d' -e 's/^# \{0,1\}//'; exit 0 ;;
        *) exit 2 ;;
    esac
done
shift $((OPTIND - 1))

cd "$ZBD_VM_ROOT"
BUILD_DIR=$ZBD_VM_ROOT/${BUILD:-build}
shopt -s nullglob
TESTS=()
for t in tests/vm/tests/*.sh; do
    if [ $# -eq 0 ]; then TESTS+=("$t"); continue; fi
    for p in "$@"; do [[ ${t##*/} == *"$p"* ]] && { TESTS+=("$t"); break; }; done
done
[ ${#TESTS[@]} -gt 0 ] || { echo "run-suite: no tests match: $*" >&2; exit 2; }

# Set up once, up front, so the first test's time and log hold only the test.
if ! zbd_vm_ready; then
    "$ZBD_VM_DIR/setup.sh" || { echo "run-suite: setup failed" >&2; exit 1; }
fi
LOGS=$ZBD_VM_STATE/logs
mkdir -p "$LOGS"

header() { sed -n "s/^# $1:[[:space:]]*//p" "$2"; }
pass=0 fail=0 skipped=0 failed=()
T0=$(zbd_vm_now)
for t in "${TESTS[@]}"; do
    name=$(basename "$t" .sh)
    args=()
    while read -r spec; do [ -z "$spec" ] || args+=(-z "$spec"); done < <(header devices "$t")
    for f in $(header include "$t"); do args+=(-i "$f"); done
    v=$(header memory "$t" | head -n1); [ -z "$v" ] || args+=(-m "$v")
    v=$(header timeout "$t" | head -n1); [ -z "$v" ] || args+=(-t "$v")
    v=$(header cpus "$t" | head -n1); [ -z "$v" ] || args+=(-c "$v")

    log=$LOGS/$name.log
    t1=$(zbd_vm_now)
    rc=0
    if [ -n "$VERBOSE" ]; then
        "$ZBD_VM_DIR/run.sh" "${args[@]}" -e "ZBD_BUILD=$BUILD_DIR" -- bash "$t" 2>&1 |
            tee "$log" | sed 's/^/    /' || rc=$?
    else
        "$ZBD_VM_DIR/run.sh" "${args[@]}" -e "ZBD_BUILD=$BUILD_DIR" -- bash "$t" > "$log" 2>&1 ||
            rc=$?
    fi
    secs=$(zbd_vm_elapsed "$(zbd_vm_now)" "$t1")
    case $rc in
        0) pass=$((pass + 1)); printf 'PASS  %s (%s s)\n' "$name" "$secs" ;;
        77) skipped=$((skipped + 1)); printf 'SKIP  %s: %s\n' "$name" \
                "$(sed -n 's/^SKIP: //p' "$log" | head -n1)" ;;
        *)  fail=$((fail + 1)); failed+=("$name")
            case $rc in 124) why="timeout" ;; 125) why="VM failure" ;; *) why="exit status $rc" ;; esac
            printf 'FAIL  %s (%s, %s s; log: %s)\n' "$name" "$why" "$secs" "$log"
            [ -n "$VERBOSE" ] || tail -n 20 "$log" | sed 's/^/    /' ;;
    esac
done
echo "run-suite: $(zbd_vm_elapsed "$(zbd_vm_now)" "$T0") s in all${skipped:+, $skipped skipped}${failed[*]:+; failed: ${failed[*]}}" |
    sed 's/, 0 skipped//'
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
