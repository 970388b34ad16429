#!/bin/sh
# stress/stress-tests.sh — the stress program, short runs (TAP).
#
# gil, atomic and brc: under the debug allocator (a use after free aborts
# the run), and under ThreadSanitizer with halt_on_error=1 and no
# suppressions (any report fails the run).  Each run prints its seed; replay
# a failure with the same --seed.  Run from the build directory.
set -u
. "${srcdir:-.}/stress/tap.sh"
tap_plan 6
for v in gil atomic brc; do
    tap_run "$v: stress run under the debug allocator" \
        env GRT_MALLOC=debug ./stress/stress-$v
done
for v in gil atomic brc; do
    if [ -x ./stress/stress-$v-tsan ]; then
        tap_run "$v: stress run under TSan, no report" \
            env TSAN_OPTIONS='halt_on_error=1 abort_on_error=1 second_deadlock_stack=1' \
            ./stress/stress-$v-tsan
    else
        tap_skip "$v: stress run under TSan, no report" "configured with --disable-tsan"
    fi
done
tap_done
