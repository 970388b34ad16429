#!/bin/sh
# stress/fault-tests.sh — the fault-injection sweep under AddressSanitizer and
# LeakSanitizer (TAP): every allocation of each scenario fails in turn, and
# every n-th; each failure must give a clean MemoryError, leak nothing and
# leave the runtime working (stress/fault.c).  Run from the build directory.
set -u
. "${srcdir:-.}/stress/tap.sh"
tap_plan 2
for v in gil brc; do
    tap_run "$v: fault-injection sweep, clean errors and 0 leaks (ASan/LSan)" \
        env ASAN_OPTIONS='detect_leaks=1:abort_on_error=1' ./stress/fault-$v-asan
done
tap_done
