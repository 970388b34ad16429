#!/bin/sh
# stress/race-tests.sh — what the GIL prevents, as tests (TAP).
#
# On unsafe each race must show (stress/race.c retries up to 20 trials, each
# in its own process, before it declares "no race seen"); on gil, atomic and
# brc the same programs must lose nothing, also under ThreadSanitizer; and
# TSan must report a data race on the unsafe build.
#
# Run from the build directory (make check does).  RACE_OPS scales the runs.
set -u
. "${srcdir:-.}/stress/tap.sh"

ops=${RACE_OPS:-}
opsarg() { if [ -n "$ops" ]; then echo "--ops $ops"; fi; }

tap_plan 24

# (a) (b) (c) on unsafe: the failure must show.
tap_run "unsafe: refcount race loses updates and frees early" \
    ./stress/race-unsafe --kind refcount --expect race --timeout 10 $(opsarg)
tap_run "unsafe: list race loses items or corrupts the list" \
    ./stress/race-unsafe --kind list --expect race --timeout 10 $(opsarg)
# The collector race needs a build whose collections do not stop the world;
# when unsafe still pauses, the race cannot show: skip with the reason.
out=$(GRT_MALLOC=debug ./stress/race-unsafe --kind collector --expect race $(opsarg) 2>"$tap_tmp.err")
rc=$?
case "$out" in
*'"premature_frees":0,'*'"stw_pauses":'[1-9]*)
    tap_skip "unsafe: collector race frees a live object" \
        "the unsafe build stops the world for collections, so no collection overlaps a mutator";;
*)
    if [ $rc -eq 0 ]; then tap_ok "unsafe: collector race frees a live object ($out)"
    else tap_not_ok "unsafe: collector race frees a live object" "$out" "$tap_tmp.err"; fi;;
esac

# A trial that cannot race at all is an error (exit 2), never "the race
# showed": --expect race counts crashes, and a set-up failure is not one.
for setup in "GRT_MALLOC=bogus:--kind list" "GRT_MALLOC=obmalloc:--kind collector --threads 1"; do
    env_=${setup%%:*}; args=${setup#*:}
    env "$env_" ./stress/race-unsafe $args --expect race >"$tap_tmp.out" 2>"$tap_tmp.err"
    rc=$?
    if [ $rc -eq 2 ]; then tap_ok "unsafe: a trial that cannot run ($env_ $args) is an error"
    else tap_not_ok "unsafe: a trial that cannot run ($env_ $args) is an error" \
        "exit status $rc, expected 2" "$tap_tmp.err"; fi
done

# The same programs on gil, atomic and brc: nothing lost, nothing leaked.
for v in gil atomic brc; do
    for k in refcount list collector; do
        tap_run "$v: $k race loses nothing" \
            ./stress/race-$v --kind $k --expect clean $(opsarg)
    done
done

# (d) TSan on unsafe must report the refcount race.  TSan judges the
# execution it sees: threads that happen not to overlap are ordered by the
# runtime's own synchronisation (attach/detach), so the run is long enough to
# overlap and is retried a bounded number of times before "TSan stayed silent".
if [ -x ./stress/race-unsafe-tsan ]; then
    seen=0
    for attempt in 1 2 3 4 5; do
        TSAN_OPTIONS='halt_on_error=1 abort_on_error=1' \
            ./stress/race-unsafe-tsan --kind refcount --ops 2000000 >"$tap_tmp.out" 2>"$tap_tmp.err"
        if grep -q 'WARNING: ThreadSanitizer: data race' "$tap_tmp.err"; then seen=1; break; fi
    done
    if [ $seen -eq 1 ]; then
        tap_ok "unsafe under TSan: the refcount race is reported (attempt $attempt)"
        grep -m 3 -A 3 'WARNING: ThreadSanitizer' "$tap_tmp.err" | sed 's/^/# /'
    else
        tap_not_ok "unsafe under TSan: the refcount race is reported" \
            "TSan stayed silent on the unsafe build in 5 attempts" "$tap_tmp.err"
    fi
else
    tap_skip "unsafe under TSan: the refcount race is reported" "configured with --disable-tsan"
fi
# ... and stay silent on gil, atomic and brc (halt_on_error=1: any report fails).
for v in gil atomic brc; do
    for k in refcount list collector; do
        if [ -x ./stress/race-$v-tsan ]; then
            case $k in refcount) n=2000000;; *) n=200000;; esac
            tap_run "$v under TSan: $k race, no report" \
                ./stress/race-$v-tsan --kind $k --expect clean --ops $n
        else
            tap_skip "$v under TSan: $k race, no report" "configured with --disable-tsan"
        fi
    done
done
tap_done
