#!/bin/sh
# tests/cli_badinput.sh — bad command lines of the programs users run (TAP).
#
# Every case must exit with status 2 and a message on stderr that names
# what was wrong, before any work starts (each case takes milliseconds):
# `gilrt compare`, `gilrt demo`, the runners (bench/gilrt-bench-<variant>),
# and bench/gc-, alloc- and convoy-<variant>.  Then two behaviours that
# once went wrong quietly: `gilrt demo mp` with T=1 not listed first, and
# quickstart's final line when make check fails before any test runs.
# POSIX sh; run from the build directory ($srcdir: the source tree).
set -u
srcdir=${srcdir:-..}
tmp=${TMPDIR:-/tmp}/gilrt-cli-badinput.$$
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "$l" | sed 's/^/# /'; done; }

# refused "what the message must say" program args...
refused() {
    want=$1
    shift
    "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
    rc=$?
    if [ $rc -eq 2 ] && grep -qF -- "$want" "$tmp/err"; then
        ok "$* -> exit 2, '$want'"
    else
        not_ok "$* -> exit 2, '$want'" "exit status $rc; stderr:" "$(head -n 5 "$tmp/err")"
    fi
}

g=./tools/gilrt
refused "--threads: expected numbers 1..1024" $g compare --threads 0
refused "unknown option '--bogus'" $g compare --quick --bogus
refused "'--json' needs a value" $g compare --quick --json
refused "'bogus' is not an option" $g compare bogus
refused "nothing to run: unsafe without a GIL runs at 1 thread only" $g compare --variants unsafe --threads 2
refused "built for gil, atomic and brc only" $g demo convoy --variant unsafe
refused "--workloads: no workload named in ','" $g compare --workloads ,
refused "--workloads: no workload named in ''" $g compare --workloads ""
refused "--variants: no variant named in ','" $g compare --variants ,
refused "unknown variant 'brcc'" $g compare --variants gil,brcc
refused "leaves no room for runs of --seconds 2" $g compare --seconds 2 --timeout 3
touch "$tmp/afile"
refused "--out $tmp/afile: cannot create it: Not a directory" $g compare --quick --out "$tmp/afile"
refused "--plots $tmp/afile/p: cannot create it" $g compare --quick --plots "$tmp/afile/p"
refused "--json $tmp/no/such/dir/x.json: cannot write there" $g compare --quick --json "$tmp/no/such/dir/x.json"
refused "--csv $tmp: cannot write there: Is a directory" $g compare --quick --csv "$tmp"
refused "--threads: expected numbers 1..1024" $g demo race --threads 4294967296
refused "--threads: at most 1 value, got '1,2'" $g demo race --threads 1,2
refused "this demo takes no --threads option" $g demo seeds --threads 8
refused "unknown option '--modes'" $g demo mp --modes x
refused "--variants: unknown variant 'gli'" $g demo slots --variants gil,gli
refused "--variant: unknown variant 'brcc'" $g demo seeds --variant brcc
refused "--children: bad value '65'" $g demo cow --children 65

for v in gil brc; do
    r=./bench/gilrt-bench-$v
    refused "--threads: expected an integer 1..1024, got '4294967296'" $r run rc_private --threads 4294967296
    refused "--threads: expected an integer 1..1024, got '4294967297'" $r demo race --threads 4294967297
    refused "--seconds: expected a number in (0, 3600], got 'nan'" $r run rc_private --seconds nan
    refused "--ops: expected an integer" $r run rc_private --ops 5x
    refused "--children: expected an integer 1..64, got '65'" $r demo cow --children 65
done
refused "--reps: expected an integer 1..64, got '5x'" ./bench/gc-gil --reps 5x
refused "unknown benchmark or option 'cyc'" ./bench/gc-gil cyc
refused "--runs: expected an integer 1..64, got '100'" ./bench/alloc-gil --runs 100
refused "--ops: expected an integer 1000.." ./bench/alloc-gil --ops abc
refused "--only: unknown name 'latncy'" ./bench/convoy-gil --only=latncy
refused "--policies: unknown name 'clasic'" ./bench/convoy-gil --policies=clasic
refused "--seconds: expected a number in (0, 3600], got 'abc'" ./bench/convoy-gil --seconds=abc

# demo mp: the ratios are over T=1 wherever it is listed (once over the first T).
if $g demo mp --threads 2,1 --seconds 0.05 --repeat 1 >"$tmp/mp" 2>"$tmp/err" &&
   grep -q 'speedup over T=1$' "$tmp/mp" &&
   [ "$(grep -c '^ *1 .*(1\.00x).*(1\.00x).*(1\.00x).*(1\.00x)' "$tmp/mp")" -eq 1 ]; then
    ok "gilrt demo mp --threads 2,1: every T=1 cell is 1.00x"
else
    not_ok "gilrt demo mp --threads 2,1: every T=1 cell is 1.00x" "$(cat "$tmp/mp" "$tmp/err")"
fi

# quickstart's summary: never "0 failed" when make check failed.
summary=$(sed -n '/^summary() {/,/^}/p' "$srcdir/quickstart")
line=$(cd "$tmp" && eval "$summary" && summary 2 2>/dev/null)
if [ "$line" = "0 passed, 1 failed" ]; then
    ok "quickstart: make check failing before any test prints '0 passed, 1 failed'"
else
    not_ok "quickstart: make check failing before any test prints '0 passed, 1 failed'" "got '$line'"
fi
mkdir -p "$tmp/build"
printf '# PASS: 7\n# FAIL: 1\n# XPASS: 0\n# ERROR: 1\n' >"$tmp/build/test-suite.log"
line=$(cd "$tmp" && eval "$summary" && summary 2 2>/dev/null)
if [ "$line" = "7 passed, 2 failed" ]; then
    ok "quickstart: the harness's totals, FAIL + ERROR counted as failed"
else
    not_ok "quickstart: the harness's totals, FAIL + ERROR counted as failed" "got '$line'"
fi

echo "1..$n"
