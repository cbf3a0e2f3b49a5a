# Helpers for the guest-side test scripts in tests/vm/tests/ (sourced by bash inside
# the VM, with the project root as the working directory).
# shellcheck shell=bash

# The project's build directory (run-suite.sh passes the one `make` used).
ZBD_BUILD=${ZBD_BUILD:-build}
NFAIL=0

fail() { echo "FAIL: $*" >&2; NFAIL=$((NFAIL + 1)); }
skip() { echo "SKIP: $*"; exit 77; }

# check WHAT GOT WANT: compare and log one expectation; failures are counted, and
# done_testing turns them into the exit status, so one run reports every mismatch.
check() {
    if [ "$2" = "$3" ]; then echo "ok:   $1 = $2"
    else fail "$1 = '$2', expected '$3'"; fi
}

done_testing() {
    if [ "$NFAIL" -gt 0 ]; then echo "$NFAIL check(s) failed" >&2; exit 1; fi
    echo "all checks passed"
}

# The devices the test script declared: one "attr=value attr=value..." line per
# "# devices:" header line, in nullb0, nullb1... order.
declared_devices() {
    sed -n 's/^# devices:[[:space:]]*//p' "$1" | tr ',' ' '
}

# spec_get "attr=value ..." ATTR DEFAULT: one attribute of a device spec.
spec_get() {
    local kv
    for kv in $1; do
        if [ "${kv%%=*}" = "$2" ]; then echo "${kv#*=}"; return; fi
    done
    echo "$3"
}

# Zone counts from `blkzone report`, by type: conventional and sequential.
nr_conv_zones() { blkzone report "$1" | grep -c 'CONVENTIONAL' || true; }
nr_seq_zones() { blkzone report "$1" | grep -c 'SEQ_WRITE_REQUIRED' || true; }
