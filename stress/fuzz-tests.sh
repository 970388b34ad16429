#!/bin/sh
# stress/fuzz-tests.sh — a bounded libFuzzer run of stress/fuzz/fuzz.c (TAP):
# the seed corpus in stress/fuzz/corpus plus FUZZ_RUNS (default 20000) new
# executions, at most FUZZ_SECONDS (default 60) seconds.  New inputs go to a
# scratch directory, never into the source tree.  Run from the build dir.
set -u
. "${srcdir:-.}/stress/tap.sh"
tap_plan 1
name="brc: bounded fuzz run over the seed corpus, no crash"
fuzzer=./stress/fuzz/fuzz-brc
if [ ! -x "$fuzzer" ]; then
    tap_skip "$name" "stress/fuzz/fuzz-brc was not built (make check builds it)"; tap_done
fi
if [ "$(head -c 2 "$fuzzer")" = "#!" ]; then      # the stub made without clang
    tap_skip "$name" "$("$fuzzer")"; tap_done
fi
work=$(mktemp -d "${TMPDIR:-/tmp}/gilrt-fuzz.XXXXXX")
mkdir "$work/new"
"$fuzzer" -runs="${FUZZ_RUNS:-20000}" -max_total_time="${FUZZ_SECONDS:-60}" -max_len=512 \
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
tap_done
