#!/bin/sh
# stress/fuzz-tests.sh — bounded libFuzzer runs of stress/fuzz/fuzz.c (TAP),
# brc then atomic: the seed corpus in stress/fuzz/corpus plus new executions
# (brc: FUZZ_RUNS, default 20000, at most FUZZ_SECONDS, default 60 s; atomic:
# a quarter of each).  New inputs go to a scratch directory, never into the
# source tree.  Run from the build directory (make check); skipped, saying
# what to install, when configure found no clang that links libFuzzer.
set -u
. "${srcdir:-.}/stress/tap.sh"
tap_plan 2
runs=${FUZZ_RUNS:-20000}
seconds=${FUZZ_SECONDS:-60}
fuzz_one() {        # fuzz_one VARIANT RUNS SECONDS
    name="$1: bounded fuzz run over the seed corpus, no crash, ledgers balanced"
    fuzzer=./stress/fuzz/fuzz-$1
    if [ ! -f ./stress/tools.sh ]; then
        tap_skip "$name" "stress/tools.sh is missing (make check writes it)"; return
    fi
    . ./stress/tools.sh
    if [ -n "$fuzz_skip" ]; then
        tap_skip "$name" "$fuzz_skip"; return
    fi
    if [ ! -x "$fuzzer" ]; then
        tap_not_ok "$name" "$fuzzer was not built although configure found libFuzzer (make check builds it)"
        return
    fi
    work=$(mktemp -d "${TMPDIR:-/tmp}/gilrt-fuzz.XXXXXX")
    mkdir "$work/new"
    "$fuzzer" -runs="$2" -max_total_time="$3" -max_len=512 \
        -timeout=30 -rss_limit_mb=2048 -error_exitcode=1 -print_final_stats=1 \
        -artifact_prefix="$work/" "$work/new" "${srcdir:-.}/stress/fuzz/corpus" >"$tap_tmp.out" 2>&1
    rc=$?
    corpus=$(ls "$work/new" | wc -l)
    if [ $rc -eq 0 ]; then
        tap_ok "$name"
        grep -E '^Done|stat::number_of_executed_units' "$tap_tmp.out" | sed 's/^/# /'
        echo "# corpus: $(ls "${srcdir:-.}/stress/fuzz/corpus" | wc -l) seeds, $corpus new inputs kept"
    else
        for f in "$work"/crash-* "$work"/leak-* "$work"/timeout-*; do
            [ -f "$f" ] && echo "reproducer (base64): $(base64 -w0 "$f")" >>"$tap_tmp.out"
        done
        tap_not_ok "$name" "the fuzzer exited with status $rc" "$tap_tmp.out"
    fi
    rm -rf "$work"
}
fuzz_one brc "$runs" "$seconds"
fuzz_one atomic $((runs / 4)) $((seconds / 4))
tap_done
