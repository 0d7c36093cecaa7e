#!/usr/bin/env bash
# bench_smoke_test.sh - the benchmark (test/bench/run, make bench) at 2,000
# users: it runs to the end and prints every row of its table with numbers.
# Timings on a shared machine are not asserted; what does not depend on the
# machine is: adding 1,000 members to a group costs at most 10 requests,
# and a changed user reaches the SCIM server in the next cycle.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/tap.sh"
L2S_BIN=${L2S_BIN:-$top/build/ldap2scim}
[ -x "$L2S_BIN" ] || { echo "not ok 1 - $L2S_BIN is not built"; echo "1..1"; exit 1; }
[ -x /usr/bin/time ] || { echo "not ok 1 - /usr/bin/time is missing (scripts/install-deps installs it)"; echo "1..1"; exit 1; }

err=$(mktemp "${TMPDIR:-/tmp}/l2s-bench-smoke.XXXXXX")
trap 'rm -f "$err"' EXIT
start=$(date +%s)
out=$(L2S_BIN="$L2S_BIN" "$top/test/bench/run" --users 2000 2>"$err")
rc=$?
secs=$(( $(date +%s) - start ))
is "$rc" 0 "test/bench/run --users 2000 runs to the end" ||
    diag "$(tail -n 20 "$err")"
diag "$out"
diag "(${secs} s)"

num='[0-9]+(\.[0-9]+)?'
# has_row FIGURE-REGEX [LABEL]: the figure, then value, baseline and ratio
has_row() {
	like "$out" "^$1 +$num +$num +$num " "the table has the row '${2:-${1//\\/}}' with a value, a baseline and a ratio"
}
# has_value FIGURE-REGEX [LABEL]: the figure and a value
has_value() {
	like "$out" "^$1 +$num( |$)" "the table has the row '${2:-${1//\\/}}' with a value"
}
has_row "1 full no-change cycle, s"
has_row "2 incremental no-change cycle, s"
has_row "2 one changed user arrives, s"
has_row "3 initial push, objects/s"
has_row "4 requests to add 1000 members to a group"
has_value "5 peak RSS at 200 users, MB"
has_value "5 peak RSS at 1000 users, MB"
has_value "5 peak RSS at 2000 users, MB"
has_value "5 peak RSS at 100k \\(linear extrapolation\\), MB"
has_value "5 RSS slope, KB/user \\(N/2 off the line by -?$num%\\)" "5 RSS slope, KB/user"
has_row "6 state load, s"
has_row "6 state save, s"
has_value "6 state load \\+ save at 100k \\(x50\\.0 to 100k\\), s"
like "$out" "^ldap2scim benchmark: 2000 users, 100 groups, [0-9]+ member values" \
    "the table says what it measured"
like "$out" "^command: test/bench/run --users 2000 --concurrency 4$" \
    "the table ends with the command that produced it"

like "$out" "^2 one changed user arrives, s .* PASS \\(yes, 1 writes\\)$" \
    "one changed user reaches the SCIM server in the next cycle, with one write"
like "$out" "^4 requests to add 1000 members to a group +([0-9]|10) .* PASS$" \
    "adding 1,000 members to a group takes at most 10 requests"
# every verdict is PASS or MISS (a measurement, not a failure)
unlike "$(grep -E '^[1-6] ' <<<"$out")" "ERROR|nan|inf" "no row holds an error or a division by zero"

tap_done
