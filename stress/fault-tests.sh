#!/bin/sh
# stress/fault-tests.sh — the fault-injection sweep under AddressSanitizer and
# LeakSanitizer (TAP): every allocation of each scenario fails in turn, and
# every n-th; each failure must give a clean MemoryError, leak nothing and
# leave the runtime working (stress/fault.c).  Run from the build directory
# (make check); skipped, saying what to install, when configure found no ASan.
set -u
. "${srcdir:-.}/stress/tap.sh"
variants="gil atomic brc"
tap_plan 3
if [ ! -f ./stress/tools.sh ]; then
    for v in $variants; do tap_skip "$v: fault-injection sweep" "stress/tools.sh is missing (make check writes it)"; done
    tap_done
fi
. ./stress/tools.sh
for v in $variants; do
    name="$v: fault-injection sweep, clean errors and 0 leaks (ASan/LSan)"
    if [ -n "$asan_skip" ]; then
        tap_skip "$name" "$asan_skip"
    else
        tap_run "$name" env ASAN_OPTIONS='detect_leaks=1:abort_on_error=1' ./stress/fault-$v-asan
    fi
done
tap_done
