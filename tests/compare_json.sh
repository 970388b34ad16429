#!/bin/sh
# tests/compare_json.sh — `gilrt compare --quick --json FILE` (TAP).
#
# Checks the JSON's shape (well formed, the top-level keys, one result per
# line) and that every variant and every workload it lists produced a number
# at 1 thread (and at 2 threads except unsafe, which runs at 1 thread only);
# and that its ratios to gil are paired by repetition, recomputed from the
# samples.  Not the numbers' values: the machine is shared and noisy.
# POSIX sh and awk; run from the build directory (GILRT overrides the program).
set -u
gilrt=${GILRT:-./tools/gilrt}
tmp=${TMPDIR:-/tmp}/gilrt-compare-json.$$
mkdir -p "$tmp" || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
json=$tmp/compare.json
n=0
ok()     { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "$l" | sed 's/^/# /'; done; }
finish() { echo "1..$n"; exit 0; }

if "$gilrt" compare --quick --json "$json" >"$tmp/out" 2>"$tmp/err"; then
    ok "gilrt compare --quick --json exits 0"
else
    not_ok "gilrt compare --quick --json exits 0 (got $?)" \
        "$(grep -v '^gilrt compare: \[' "$tmp/err" | tail -n 20)" "$(grep FAILED "$tmp/out" | head -n 10)"
fi
if [ -s "$json" ]; then ok "the JSON file was written"; else not_ok "the JSON file was written"; finish; fi
if grep -q '^unsafe ran at 1 thread only' "$tmp/out" && grep -q '^Single-thread cost' "$tmp/out" &&
   grep -q '^cost on the refcount workloads ([0-9.]* on rc_private, [0-9.]* on rc_immortal)' "$tmp/out"; then
    ok "the table and its summaries were printed"
else
    not_ok "the table and its summaries were printed" "$(head -n 20 "$tmp/out")"
fi

# Well formed: brackets balance outside strings, only JSON tokens outside strings.
shape=$(awk '
{
    line = $0; out = ""; in_str = 0
    for (i = 1; i <= length(line); i++) {
        c = substr(line, i, 1)
        if (in_str) {
            if (c == "\\") { i++; continue }
            if (c == "\"") in_str = 0
            continue
        }
        if (c == "\"") { in_str = 1; continue }
        if (c == "{" || c == "[") depth++
        if (c == "}" || c == "]") { depth--; if (depth < 0) { print "unbalanced at line " NR; exit } }
        out = out c
    }
    if (in_str) { print "string not closed at line " NR; exit }
    gsub(/true|false|null/, "", out)
    if (out !~ /^[][{}:, \t0-9eE.+-]*$/) { print "unexpected token at line " NR ": " out; exit }
}
END { if (depth != 0) print "unbalanced at the end (depth " depth ")" }' "$json")
if [ -z "$shape" ] && [ "$(head -c 1 "$json")" = "{" ]; then
    ok "the JSON is well formed"
else
    not_ok "the JSON is well formed" "$shape"
fi
for key in gilrt_compare date host cores settings variants workloads configs workload_info \
           results skipped runs failed_runs wall_seconds; do
    if grep -q "^  \"$key\": " "$json"; then ok "top-level key $key"; else not_ok "top-level key $key"; fi
done

# The lists: "variants": ["gil", "atomic", ...] and "workloads": [...] on one line each.
list() { sed -n "s/^  \"$1\": \[\(.*\)\],*\$/\1/p" "$json" | tr -d '" ' | tr ',' ' '; }
variants=$(list variants)
workloads=$(list workloads)
for v in gil atomic brc unsafe; do
    case " $variants " in
    *" $v "*) ok "variant $v was measured" ;;
    *) not_ok "variant $v was measured" "variants: $variants" ;;
    esac
done
nw=$(echo $workloads | wc -w)
if [ "$nw" -ge 10 ]; then ok "$nw workloads listed"; else not_ok "at least 10 workloads listed" "workloads: $workloads"; fi

# Every (workload, variant) has a number: one result object per line.
num='-\{0,1\}[0-9][0-9.eE+-]*'
for w in $workloads; do
    for v in $variants; do
        for t in 1 2; do
            [ "$v" = unsafe ] && [ "$t" = 2 ] && continue
            line=$(grep "^ *{\"workload\":\"$w\",\"config\":\"$v\",.*\"threads\":$t," "$json")
            if [ -z "$line" ]; then
                not_ok "$w on $v at $t thread(s): a result" "no result line"
            elif echo "$line" | grep -q "\"ops_per_s\":{\"median\":$num,\"min\":$num,\"max\":$num"; then
                ok "$w on $v at $t thread(s): ops/s is a number"
            else
                not_ok "$w on $v at $t thread(s): ops/s is a number" "$line"
            fi
        done
    done
done

# Samples by repetition (3 with --quick), and vs_gil_1t paired: the median over
# the repetitions of this point's sample / the gil build's 1-thread sample of
# the same repetition (a ratio of the two medians would differ).
paired=$(awk '
function field(line, key,    s) {
    s = line; if (!sub(".*\"" key "\":", "", s)) return ""
    sub(/[],}].*/, "", s); return s
}
function samples(line,    s) { s = line; sub(/.*"samples":\[/, "", s); sub(/\].*/, "", s); return s }
function median3(a, b, c) { return a > b ? (b > c ? b : (a > c ? c : a)) : (a > c ? a : (b > c ? c : b)) }
/"workload":.*"samples":/ {
    w = field($0, "workload"); c = field($0, "config"); t = field($0, "threads")
    line[NR] = $0
    if (c == "\"gil\"" && t == "1") gil[w] = samples($0)
}
END {
    bad = 0; checked = 0
    for (i in line) {
        s = samples(line[i]); w = field(line[i], "workload")
        if (split(s, x, ",") != 3) { print "not 3 samples: " line[i]; bad++; continue }
        if (!(w in gil) || split(gil[w], g, ",") != 3 || s ~ /null/ || gil[w] ~ /null/) continue
        want = median3(x[1] / g[1], x[2] / g[2], x[3] / g[3])
        got = field(line[i], "vs_gil_1t"); checked++
        if (got == "null" || (got - want) ^ 2 > (1e-4 * want) ^ 2) {
            print "vs_gil_1t " got ", paired median " want ": " line[i]; bad++
        }
    }
    if (!checked) print "no result to check"
}' "$json")
if [ -z "$paired" ]; then
    ok "3 samples per point, and vs_gil_1t is the paired median of their ratios"
else
    not_ok "3 samples per point, and vs_gil_1t is the paired median of their ratios" \
        "$(echo "$paired" | head -n 5)"
fi

# unsafe at 2 threads is listed as skipped, not measured.
if grep -q '"config":"unsafe","threads":2,"why"' "$json"; then
    ok "unsafe at 2 threads is listed as skipped"
else
    not_ok "unsafe at 2 threads is listed as skipped"
fi
finish
