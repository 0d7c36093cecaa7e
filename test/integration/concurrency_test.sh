#!/usr/bin/env bash
# concurrency_test.sh - requests in flight at once (scim.concurrency, curl
# multi), the request-rate limit (scim.rate_limit), throttling while
# concurrent, and chunked member changes (scim.member_batch).  The fault
# proxy (test/fault-proxy) in front of the real test SCIM server counts the
# peak of requests in flight and stamps each one; the SCIM server behind it
# stays the truth (scim_dump, the oracle).
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
L2S_BIN=${L2S_BIN:-$top/${L2S_BUILD:-build}/ldap2scim}
. "$top/test/lib/lab.sh"
. "$top/test/lib/fault-proxy.sh"
. "$top/test/lib/faults.sh"

# 400 users (40 of them reporting to one manager), 12 groups, one of 150.
lab_start concurrency --users 400 --groups 12 --big-group 150 --nested --seed 5
trap 'fault_proxy_stop; lab_cleanup' EXIT
fault_proxy_start "$tmp/proxy" "http://127.0.0.1:$SCIM_PORT" >"$tmp/proxy-start.log" 2>&1
ok $? "the fault proxy starts in front of the SCIM server" ||
    { diag "$(cat "$tmp/proxy-start.log")"; tap_done; exit 1; }

# conf FILE SCIM-EXTRA [VAR=VALUE...]: a config through the proxy
conf() {
	local file=$1 extra=$2
	shift 2
	write_config "$file" scim_url="$FAULT_URL" removal=delete max_removals=100 \
	    scim_extra="$extra" "$@"
}
conf "$tmp/c8.yaml" "  concurrency: 8"
conf "$tmp/c1.yaml" "  concurrency: 1"

# fresh: an empty SCIM server, an empty state and a clean proxy
fresh() {
	scim_reset >/dev/null
	rm -f "$tmp/state.db" "$tmp/state.db-wal" "$tmp/state.db-shm"
	fault_reset
}
peak() { fault_stats | jq -r .peakInFlight; }
# check NAME TEXT: the SCIM server equals LDAP, and nothing is there twice
check() {
	compare "$1"
	ok $? "$2: the SCIM server equals LDAP (oracle)"
	is "$(faults_dup_members "$tmp/dump.json")" "" "$2: no group lists a member twice"
	is "$(jq '[.Users[].userName] | length - (unique | length)' "$tmp/dump.json")" 0 \
	    "$2: no userName appears twice"
}
summary() { grep -o 'cycle done.*' <<<"$l2s_stderr" | tail -n 1; }

# --- 1. concurrency 8: several requests in flight, same result ------------
fresh
l2s_run c8 -c "$tmp/c8.yaml" sync
is "$l2s_rc" 0 "a first sync at concurrency 8 exits 0" || diag "$(tail -n 5 <<<"$l2s_stderr")"
p8=$(peak)
test "$p8" -gt 1
ok $? "the proxy saw more than one request in flight at once (peak $p8)"
test "$p8" -le 8
ok $? "and never more than 8 (peak $p8)"
check c8 "after the sync at concurrency 8"
is "$(jq '.Users | length' "$tmp/dump.json")/$(jq '.Groups | length' "$tmp/dump.json")" 400/12 \
    "all 400 users and 12 groups exist"
is "$(jq -r '[.Users[] | select(.userName != "user00001") |
    .["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"].manager.value // empty] | unique | length' \
    "$tmp/dump.json")" 1 "the reports of the manager carry its id, created in the same sync"
like "$(summary)" "400 created" "the summary counts 400 user creates" || diag "$(summary)"
reqs=$(jq -r '.requests' <<<"$(fault_stats)")
like "$(summary)" " $reqs requests" "the summary counts exactly the requests the proxy saw ($reqs)"
scim_reset_stats >/dev/null
l2s_run c8-again -c "$tmp/c8.yaml" sync
is "$l2s_rc/$(writes)" 0/0 "a second sync at concurrency 8 exits 0 and writes nothing"

# --- 2. concurrency 1: one request at a time -------------------------------
fresh
l2s_run c1 -c "$tmp/c1.yaml" sync
is "$l2s_rc" 0 "a first sync at concurrency 1 exits 0"
is "$(peak)" 1 "the proxy never saw two requests in flight at once"
check c1 "after the sync at concurrency 1"

# --- 3. a rate limit: no more than R requests a second, never a burst ------
R=100
conf "$tmp/rate.yaml" "  concurrency: 8
  rate_limit: $R"
fresh
l2s_run rate -c "$tmp/rate.yaml" sync
is "$l2s_rc" 0 "a sync limited to $R requests a second exits 0"
fault_log | jq '[.[].t] | sort' >"$tmp/rate-times.json"
n=$(jq length "$tmp/rate-times.json")
span=$(jq -r '(.[-1] - .[0]) / 1000' "$tmp/rate-times.json")
min=$(awk -v n="$n" -v r="$R" 'BEGIN { printf "%.3f", (n - 1) / r - 0.05 }')
awk -v s="$span" -v m="$min" 'BEGIN { exit !(s >= m) }'
ok $? "its $n requests took at least (N-1)/R seconds (${span}s >= ${min}s)"
# the most requests that arrived within any one second
burst=$(jq '. as $t | [range(0; length) as $i |
    ([$t[$i:][] | select(. < $t[$i] + 1000)] | length)] | max' "$tmp/rate-times.json")
test "$burst" -le $((R + 2))
ok $? "no second saw more than R requests (at most $burst)"
check rate "after the rate-limited sync"

# --- 4. 429 and 503 while concurrent: converges, nothing lost or doubled ---
conf "$tmp/faults.yaml" "  concurrency: 8
  retries: 5
  retry_max_wait: 2s"
fresh
fault_config '{"seed": 7, "rate": 0.2, "faults": ["429", "503"],
  "retryAfter": 0, "retryAfter503": 0}' >/dev/null
ok $? "the proxy answers 20% of the requests with 429 or 503"
runs=0
l2s_rc=1
while [ "$l2s_rc" != 0 ] && [ "$runs" -lt 4 ]; do
	runs=$((runs + 1))
	l2s_run "faults$runs" -c "$tmp/faults.yaml" sync
	faults_crashed && break
done
is "$l2s_rc" 0 "syncs at concurrency 8 under 429 and 503 reach exit 0 ($runs runs)" ||
    diag "$(tail -n 5 <<<"$l2s_stderr")"
stats=$(fault_stats)
injected=$(jq -r '.byFault["429"] + .byFault["503"]' <<<"$stats")
test "$injected" -ge 40
ok $? "the proxy really injected 429 and 503 ($injected of $(jq -r .requests <<<"$stats"))"
test "$(jq -r .peakInFlight <<<"$stats")" -gt 1
ok $? "with requests in flight at once (peak $(jq -r .peakInFlight <<<"$stats"))"
like "$(summary)" "[0-9]+ retried" "the summary counts the retries" || diag "$(summary)"
check faults "after the syncs under 429 and 503"
is "$(jq '.Users | length' "$tmp/dump.json")/$(jq '.Groups | length' "$tmp/dump.json")" 400/12 \
    "exactly 400 users and 12 groups exist"
fault_reset
scim_reset_stats >/dev/null
l2s_run faults-after -c "$tmp/faults.yaml" sync
is "$l2s_rc/$(writes)" 0/0 "the next sync without faults writes nothing"

# --- 4b. a stop request mid-apply: what was confirmed is kept, nothing is
# sent twice (400 users and 12 groups: 412 writes over both syncs)
conf "$tmp/stop.yaml" "  concurrency: 8
  rate_limit: 60"
fresh
scim_reset_stats >/dev/null
"$L2S_BIN" -c "$tmp/stop.yaml" sync >"$tmp/stop.out" 2>"$tmp/stop.err" &
pid=$!
sleep 3
kill -TERM "$pid"
wait "$pid"
stop_rc=$?
w1=$(writes)
test "$w1" -gt 0 && test "$w1" -lt 412
ok $? "a stop request ends a concurrent sync early (exit $stop_rc, $w1 writes)" ||
    diag "$(tail -n 5 "$tmp/stop.err")"
like "$(cat "$tmp/stop.err")" "stop requested: [0-9]+ operations left for the next cycle" \
    "it says how many operations are left"
l2s_run stop-after -c "$tmp/c8.yaml" sync
is "$l2s_rc" 0 "the next sync exits 0"
is "$(writes)" 412 "the two syncs wrote each of the 412 objects exactly once"
check stop "after a stop and a sync"

# --- 5. member changes in chunks of scim.member_batch (default 100) --------
# A group "bigadd" of one member is synced; then it gains 10,000 new users
# at once, and a new group "bigcopy" of those 10,000 is created.  The test
# SCIM server answers each PATCH with the whole group, so most of the time
# of this file goes here; L2S_BIG_MEMBERS (default 10000) sets the size.
big=${L2S_BIG_MEMBERS:-10000}
chunks=$(((big + 99) / 100))
conf "$tmp/big.yaml" "  concurrency: 8"
fresh
l2s_run big0 -c "$tmp/big.yaml" sync
faults_add_group bigadd user00001 >"$tmp/ldap-big.log" 2>&1
l2s_run big1 -c "$tmp/big.yaml" sync
is "$l2s_rc" 0 "a sync creates the group bigadd with one member"
awk -v base="$LDAP_BASE" -v n="$big" 'BEGIN {
	for (i = 1; i <= n; i++) {
		u = sprintf("big%05d", i)
		printf "dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\n", u, base, u
		printf "cn: Big Tester %s\nsn: Tester\ngivenName: Big\nmail: %s@example.com\n\n", u, u
	}
}' >"$tmp/big-users.ldif"
slapd_add "$tmp/big-users.ldif" >>"$tmp/ldap-big.log" 2>&1
ok $? "$big users are added to LDAP" || diag "$(tail -n 5 "$tmp/ldap-big.log")"
mapfile -t bigs < <(seq -f 'big%05g' 1 "$big")
faults_add_members bigadd "${bigs[@]}" >>"$tmp/ldap-big.log" 2>&1
ok $? "and all of them to the group bigadd" || diag "$(tail -n 5 "$tmp/ldap-big.log")"
scim_reset_stats >/dev/null
l2s_run big2 -c "$tmp/big.yaml" sync
is "$l2s_rc" 0 "a sync creates them and adds them to bigadd" || diag "$(tail -n 5 <<<"$l2s_stderr")"
bigadd=$(scim_dump | jq -r '[.Groups[] | select(.displayName == "bigadd")][0].id')
scim_stats >"$tmp/big2-stats.json"
npatch=$(jq --arg p "/scim/v2/Groups/$bigadd" '[.log[] | select(.method == "PATCH" and .path == $p)] | length' \
    "$tmp/big2-stats.json")
test "$npatch" -ge 1 && test "$npatch" -le "$chunks"
ok $? "the $big-member addition took at most $chunks PATCH requests ($npatch)"
is "$(scim_dump | jq '[.Groups[] | select(.displayName == "bigadd")][0].members | length')" $((big + 1)) \
    "bigadd holds its $((big + 1)) members"
faults_add_group bigcopy "${bigs[@]}" >>"$tmp/ldap-big.log" 2>&1
ok $? "a group bigcopy of the $big is added to LDAP" || diag "$(tail -n 5 "$tmp/ldap-big.log")"
scim_reset_stats >/dev/null
l2s_run big3 -c "$tmp/big.yaml" sync
is "$l2s_rc" 0 "a sync creates bigcopy"
ngroup=$(scim_stats | jq '[.log[] | select(.path | startswith("/scim/v2/Groups"))] | length')
test "$ngroup" -ge 1 && test "$ngroup" -le $((chunks + 1))
ok $? "creating a group of $big members took at most $((chunks + 1)) requests ($ngroup)"
check big "after the big groups"
scim_reset_stats >/dev/null
l2s_run big4 -c "$tmp/big.yaml" sync
is "$l2s_rc/$(writes)" 0/0 "the next sync writes nothing"

tap_done
