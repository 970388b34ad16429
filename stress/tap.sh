# stress/tap.sh — a few TAP helpers for the stress test scripts (sourced).
#
#   tap_plan N              print the plan
#   tap_run NAME CMD...     run CMD; ok if it exits 0, otherwise not ok with
#                           the tail of its output as diagnostics
#   tap_ok NAME / tap_not_ok NAME WHY [FILE] / tap_skip NAME WHY
#   tap_done                exit 1 if any case failed
tap_n=0
tap_failed=0
tap_tmp=$(mktemp "${TMPDIR:-/tmp}/gilrt-stress.XXXXXX")
trap 'rm -f "$tap_tmp" "$tap_tmp".*' EXIT

tap_plan() { echo "1..$1"; }
tap_ok() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1"; }
tap_skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n - $1 # SKIP $2"; }
tap_not_ok() {
    tap_n=$((tap_n + 1)); tap_failed=$((tap_failed + 1))
    echo "not ok $tap_n - $1"
    echo "# $2"
    if [ $# -ge 3 ] && [ -s "$3" ]; then
        # a sanitizer report starts with what matters: show its head, then the end
        first=$(grep -n -m 1 -E 'WARNING: ThreadSanitizer|ERROR: (Address|Leak)Sanitizer|FAILED|fatal error' "$3" | cut -d: -f1)
        if [ -n "$first" ]; then sed -n "$first,$((first + 30))p" "$3" | sed 's/^/#   /'; echo "#   ..."; fi
        tail -n 15 "$3" | sed 's/^/#   /'
    fi
}
tap_run() {
    name=$1; shift
    if "$@" >"$tap_tmp.out" 2>"$tap_tmp.err"; then
        tap_ok "$name"
        sed 's/^/# /' "$tap_tmp.out"
    else
        rc=$?
        cat "$tap_tmp.out" >>"$tap_tmp.err"
        tap_not_ok "$name" "exit status $rc: $*" "$tap_tmp.err"
    fi
}
tap_done() { [ "$tap_failed" -eq 0 ]; exit $?; }
