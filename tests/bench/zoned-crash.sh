#!/bin/sh
# The zoned format's crash test at length: a writer doing concurrent
# appends, writes, flushes and resets is killed with SIGKILL at a random
# moment, the image is checked against the writer's log, and again, on
# the same image (see /zoned-format/crash in tests/unit/test-zoned-format.c).
# Prints the figures; a violation fails with the assertion and the seed.
#
# Usage: tests/bench/zoned-crash.sh [BUILD-DIR] [ROUNDS] [FIRST-SEED]
#   (defaults: build, 1000, random)
#
# SPDX-License-Identifier: GPL-2.0-or-later
set -eu
build=${1:-build}
rounds=${2:-1000}
test=$build/tests/unit/test-zoned-format
if [ ! -x "$test" ] || [ ! -x "$build/tests/unit/zoned-crash-writer" ]; then
    echo "$0: build $test and zoned-crash-writer first" >&2
    exit 1
fi
export ZONED_CRASH_ROUNDS="$rounds"
if [ $# -ge 3 ]; then
    export ZONED_CRASH_SEED="$3"
fi
"$test" -p /zoned-format/crash | grep -v '^#'
