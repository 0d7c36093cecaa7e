#!/usr/bin/env bash
# faults_test.sh - the agent against a SCIM service that misbehaves: the
# fault proxy (test/fault-proxy) sits in front of the real test SCIM server
# and throttles (429 + Retry-After), refuses (503), resets, stalls,
# truncates and answers with hostile bodies.  The SCIM server behind it
# stays the truth: every outcome is checked there (scim_dump, the oracle)
# and in the proxy's request log.  Seeded, so every run sees the same faults.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"
. "$top/test/lib/fault-proxy.sh"
. "$top/test/lib/faults.sh"

# A small directory keeps the file under 3 minutes: at 20% faults every
# throttled request costs a second and every stall a timeout.
lab_start faults --users 120 --groups 12 --big-group 60 --nested --seed 11
trap 'fault_proxy_stop; lab_cleanup' EXIT
fault_proxy_start "$tmp/proxy" "http://127.0.0.1:$SCIM_PORT" >"$tmp/proxy-start.log" 2>&1
ok $? "the fault proxy starts in front of the SCIM server" ||
    { diag "$(cat "$tmp/proxy-start.log")"; tap_done; exit 1; }

# faults_config FILE TIMEOUT VAR=VALUE...: write_config already sets
# scim.timeout (30s), so it is swapped here rather than added twice.
faults_config() {
	local file=$1 timeout=$2
	shift 2
	write_config "$file" removal=delete max_removals=100 "$@" &&
	    sed -i "s/^  timeout: 30s\$/  timeout: $timeout\n  concurrency: 1/" "$file"
}
cfg="$tmp/l2s.yaml"		# under random faults: a stall costs 1 s
faults_config "$cfg" 1s scim_url="$FAULT_URL" scim_extra="  retries: 2
  retry_max_wait: 4s"
cfg3="$tmp/l2s-3.yaml"		# scripted faults: room for 3 retries
faults_config "$cfg3" 2s scim_url="$FAULT_URL" scim_extra="  retries: 3
  retry_max_wait: 4s"
cfgw="$tmp/l2s-wait1.yaml"	# Retry-After longer than the cap
faults_config "$cfgw" 2s scim_url="$FAULT_URL" scim_extra="  retries: 2
  retry_max_wait: 1s"
cfg1="$tmp/l2s-1.yaml"		# one retry only
faults_config "$cfg1" 2s scim_url="$FAULT_URL" scim_extra="  retries: 1
  retry_max_wait: 4s"
direct="$tmp/l2s-direct.yaml"	# straight to the SCIM server
faults_config "$direct" 5s

# check_clean NAME TEXT: the SCIM server equals LDAP, no member listed twice
check_clean() {
	compare "$1"
	ok $? "$2: the SCIM server equals LDAP (oracle)"
	is "$(faults_dup_members "$tmp/dump.json")" "" "$2: no group lists a member twice"
}

# no_crash TEXT: the last run did not die of a signal or a sanitizer report
no_crash() {
	faults_crashed
	ok $((!$?)) "$1: the agent did not crash (exit $l2s_rc, no sanitizer report)" ||
	    diag "$(tail -n 20 <<<"$l2s_stderr")"
}

# warnings: the agent's lines about failed operations
warnings() {
	grep -E "^ldap2scim: warning: (create|update|deactivate|delete) (user|group) '" <<<"$l2s_stderr" |
	    grep -v -e ': adopted the existing ' -e 'reading the group back'
}

# log_entries SINCE JQ-FILTER: proxy log entries from index SINCE, filtered
log_entries() {
	fault_log "$1" | jq -c "[.[] | $2]"
}

# --- 1. 20% faults of every kind: converges, no duplicates ----------------
fault_config '{"seed": 11, "rate": 0.2,
  "faults": ["429", "503", "reset_before", "stall_before", "partial_after"],
  "retryAfter": 1, "stallMs": 1500}' >/dev/null
ok $? "the proxy takes 20% faults: 429, 503, reset_before, stall_before (over scim.timeout), partial_after"
l2s_run faults1 -c "$cfg" sync
first_rc=$l2s_rc
no_crash "the first sync under faults"
like "$l2s_rc" '^[01]$' "the first sync under 20% faults exits 0 or 1" ||
    diag "$(tail -n 5 <<<"$l2s_stderr")"
like "$l2s_stderr" "cycle done in .* requests \\([0-9]+ retried\\)" \
    "its summary counts the retries"
runs=1
while [ "$l2s_rc" != 0 ] && [ "$runs" -lt 5 ]; do
	runs=$((runs + 1))
	l2s_run "faults$runs" -c "$cfg" sync
	no_crash "sync $runs under faults"
done
is "$l2s_rc" 0 "repeated syncs under the same faults reach exit 0 (first exit $first_rc, $runs runs)" ||
    diag "$(tail -n 5 <<<"$l2s_stderr")"
stats=$(fault_stats)
faulted=$(jq -r '.requests - .byFault.none' <<<"$stats")
test "$faulted" -ge 20
ok $? "the proxy really injected faults ($faulted of $(jq -r .requests <<<"$stats") requests)" ||
    diag "$stats"
for k in 429 503 reset_before stall_before partial_after; do
	n=$(jq -r --arg k "$k" '.byFault[$k] // 0' <<<"$stats")
	test "$n" -ge 1
	ok $? "at least one '$k' was injected ($n)"
done
check_clean faults "after the syncs under faults"
is "$(jq '.Users | length' "$tmp/dump.json")" 120 "exactly 120 users exist on the SCIM server"
is "$(jq '.Groups | length' "$tmp/dump.json")" 12 "exactly 12 groups exist on the SCIM server"
is "$(jq '[.Users[].userName] | length - (unique | length)' "$tmp/dump.json")" 0 \
    "no userName appears twice"
is "$(jq '[.Groups[] | select(.displayName == "group000")][0].members | length' "$tmp/dump.json")" 60 \
    "group000 holds its 60 members exactly"

fault_reset
scim_reset_stats >/dev/null
l2s_run faults-final -c "$cfg" sync
is "$l2s_rc" 0 "a sync through the proxy without faults exits 0"
is "$(writes)" 0 "and sends zero writes: the state agrees with the service"

# --- 2. Retry-After is honoured; a longer one than the cap gives up -------
faults_add_users ra 2 || diag "ldapadd failed"
fault_reset
fault_config '{"match": {"methods": ["POST"], "path": "/Users$"},
  "script": [{"n": 1, "fault": "429", "retryAfter": 2}]}' >/dev/null
l2s_run retry-after -c "$cfg3" sync
is "$l2s_rc" 0 "a sync whose first create meets 429 with Retry-After: 2 exits 0"
posts=$(log_entries 0 'select(.method == "POST" and (.path | test("/Users$")))')
is "$(jq -r '.[0].fault' <<<"$posts")" 429 "the first POST /Users was answered 429"
gap=$(jq -r '(.[1].t - .[0].t) | floor' <<<"$posts")
test "$gap" -ge 2000 && test "$gap" -lt 3500
ok $? "the same POST /Users was sent again 2 s later, as Retry-After asked (${gap} ms)"
is "$(jq -r '.[1].status' <<<"$posts")" 201 "and created the user then"
is "$(jq -r '[.[] | select(.status == 201)] | length' <<<"$posts")" 2 \
    "both new users were created, once each"

faults_add_users rw 2 || diag "ldapadd failed"
fault_reset
fault_config '{"match": {"methods": ["POST"], "path": "/Users$"},
  "script": [{"n": 1, "fault": "429", "retryAfter": 5}]}' >/dev/null
t0=$(date +%s%N)
l2s_run retry-cap -c "$cfgw" sync
elapsed=$((($(date +%s%N) - t0) / 1000000))
is "$l2s_rc" 1 "a 429 asking for 5 s with scim.retry_max_wait 1s: exit 1"
is "$(warnings | wc -l)" 1 "exactly one operation failed"
like "$(warnings)" "^ldap2scim: warning: create user 'rw0[12]': POST /Users: .*retry_max_wait" \
    "the warning names the user, the request and scim.retry_max_wait"
test "$elapsed" -lt 4000
ok $? "the agent did not wait out the 5 s (${elapsed} ms)"
is "$(log_entries 0 'select(.method == "POST")' | jq length)" 2 \
    "the throttled create was not sent again this cycle (2 POSTs in all)"
fault_reset
l2s_run retry-cap-next -c "$cfgw" sync
is "$l2s_rc" 0 "the next cycle exits 0"
scim_dump >"$tmp/dump.json"
faults_has_user "$tmp/dump.json" rw01 && faults_has_user "$tmp/dump.json" rw02
ok $? "and both users exist"

# --- 3. Backoff without Retry-After grows ---------------------------------
faults_add_users bo 1 || diag "ldapadd failed"
fault_reset
fault_config '{"match": {"methods": ["POST"], "path": "/Users$"},
  "script": [{"n": 1, "fault": "503"}, {"n": 2, "fault": "503"}, {"n": 3, "fault": "503"}]}' >/dev/null
l2s_run backoff -c "$cfg3" sync
is "$l2s_rc" 0 "a create refused three times by 503 (no Retry-After) succeeds on the 4th attempt"
posts=$(log_entries 0 'select(.method == "POST")')
is "$(jq -r '[.[].status] | join(" ")' <<<"$posts")" "503 503 503 201" \
    "the proxy saw 503, 503, 503, then the create"
read -r g1 g2 g3 < <(jq -r '[.[1].t - .[0].t, .[2].t - .[1].t, .[3].t - .[2].t] | map(floor) | join(" ")' <<<"$posts")
diag "backoff gaps: $g1 ms, $g2 ms, $g3 ms"
# 0.5 s doubled each time; the jitter takes between half and all of it
test "$g1" -ge 200 && test "$g1" -le 800
ok $? "the first wait is about 0.5 s (0.25 to 0.5 s with jitter): $g1 ms"
test "$g2" -ge 450 && test "$g2" -le 1400
ok $? "the second wait is about 1 s (0.5 to 1 s with jitter): $g2 ms"
test "$g3" -ge 950 && test "$g3" -le 2600
ok $? "the third wait is about 2 s (1 to 2 s with jitter): $g3 ms"
test "$g2" -gt "$g1" && test "$g3" -gt "$g2"
ok $? "the waits grow"

# --- 4. One create keeps failing: reported, the rest goes on --------------
faults_add_users kf 3 || diag "ldapadd failed"
fault_reset
fault_config '{"match": {"methods": ["POST"], "path": "/Users$"},
  "script": [{"n": 1, "fault": "503"}, {"n": 2, "fault": "503"}]}' >/dev/null
l2s_run keeps-failing -c "$cfg1" sync
no_crash "a create that keeps failing"
is "$l2s_rc" 1 "a create refused on every attempt (retries: 1): exit 1"
w=$(warnings)
is "$(grep -c . <<<"$w")" 1 "one operation is reported failed"
like "$w" "^ldap2scim: warning: create user 'kf0[123]': POST /Users: 503 " \
    "the warning names the user and the request"
failed_user=$(sed -n "s/^ldap2scim: warning: create user '\\(kf0[123]\\)'.*/\\1/p" <<<"$w")
like "$l2s_stderr" "; 1 failed;" "the summary counts one failed operation"
scim_dump >"$tmp/dump.json"
faults_has_user "$tmp/dump.json" "${failed_user:-none}"
ok $((!$?)) "the failed user (${failed_user:-none}) was not created"
created=0
for u in kf01 kf02 kf03; do
	[ "$u" = "$failed_user" ] && continue
	faults_has_user "$tmp/dump.json" "$u" && created=$((created + 1))
done
is "$created" 2 "the other two users were created: the rest went on"
fault_reset
l2s_run keeps-failing-next -c "$cfg1" sync
is "$l2s_rc" 0 "the next sync (no faults) exits 0"
like "$l2s_stderr" "users 1 created" "and creates the one left"
check_clean retry "after the retried create"
faults_has_user "$tmp/dump.json" "${failed_user:-none}"
ok $? "now ${failed_user:-none} exists"

# --- 5. An ambiguous member addition adds no duplicate --------------------
faults_add_members group007 ra01 ra02 rw01 || diag "ldapmodify failed"
g7=$(faults_group_id "$tmp/dump.json" group007)
before=$(jq '[.Groups[] | select(.displayName == "group007")][0].members | length' "$tmp/dump.json")
fault_reset
fault_config '{"match": {"methods": ["PATCH"], "path": "/Groups/"},
  "script": [{"n": 1, "fault": "partial_after"}]}' >/dev/null
l2s_run ambiguous -c "$cfg3" sync
no_crash "an ambiguous member addition"
is "$l2s_rc" 0 "a member PATCH whose answer is cut off (applied) is resolved in the cycle: exit 0" ||
    diag "$(tail -n 5 <<<"$l2s_stderr")"
reqs=$(log_entries 0 "select(.path | test(\"/Groups/$g7\"))")
is "$(jq -r '[.[] | "\(.method) \(.fault // "-")"] | join(", ")' <<<"$reqs")" \
    "PATCH partial_after, GET -" \
    "the agent read the group back after the cut-off PATCH and sent nothing again"
check_clean ambiguous "after the cut-off PATCH"
is "$(jq '[.Groups[] | select(.displayName == "group007")][0].members | length' "$tmp/dump.json")" \
    "$((before + 3))" "group007 gained exactly its 3 new members"

# The same with a PATCH that never reached the service (a stall over the
# timeout): the read back finds the members missing and sends them once.
faults_add_members group008 ra01 ra02 rw02 || diag "ldapmodify failed"
g8=$(faults_group_id "$tmp/dump.json" group008)
before=$(jq '[.Groups[] | select(.displayName == "group008")][0].members | length' "$tmp/dump.json")
fault_reset
fault_config '{"match": {"methods": ["PATCH"], "path": "/Groups/"},
  "script": [{"n": 1, "fault": "stall_before", "stallMs": 3000}]}' >/dev/null
l2s_run ambiguous2 -c "$cfg3" sync
no_crash "a member PATCH that timed out"
is "$l2s_rc" 0 "a member PATCH that timed out unsent is resolved in the cycle: exit 0" ||
    diag "$(tail -n 5 <<<"$l2s_stderr")"
reqs=$(log_entries 0 "select(.path | test(\"/Groups/$g8\"))")
is "$(jq -r '[.[] | "\(.method) \(.fault // "-")"] | join(", ")' <<<"$reqs")" \
    "PATCH stall_before, GET -, PATCH -" \
    "the agent read the group back, then sent the missing members once"
check_clean ambiguous2 "after the timed-out PATCH"
is "$(jq '[.Groups[] | select(.displayName == "group008")][0].members | length' "$tmp/dump.json")" \
    "$((before + 3))" "group008 gained exactly its 3 new members"

# The test SCIM server (scimmy) appends a member added twice, like some
# real services: an addition must never be sent again without knowing.
# A read back whose "members" is not a list tells nothing: the agent must
# not take it for "no members" and add them all again.
faults_add_members group009 kf01 kf02 || diag "ldapmodify failed"
g9=$(faults_group_id "$tmp/dump.json" group009)
fault_reset
fault_config "{\"match\": {\"methods\": [\"PATCH\"], \"path\": \"/Groups/\"},
  \"script\": [{\"n\": 1, \"fault\": \"partial_after\"}],
  \"hostile\": [{\"method\": \"GET\", \"path\": \"/Groups/$g9\$\", \"mode\": \"wrongtype\"}]}" >/dev/null
l2s_run ambiguous3 -c "$cfg3" sync
no_crash "a cut-off PATCH whose read back has members that are not a list"
reqs=$(log_entries 0 "select(.path | test(\"/Groups/$g9\"))")
diag "group009 requests: $(jq -r '[.[] | "\(.method) \(.fault // "-")"] | join(", ")' <<<"$reqs")"
is "$(jq '[.[] | select(.method == "PATCH")] | length' <<<"$reqs")" 1 \
    "a read back with \"members\": \"not-a-list\" does not make the agent add the members again"
fault_reset
l2s_run ambiguous3-next -c "$cfg3" sync
is "$l2s_rc" 0 "the next clean sync exits 0"
check_clean ambiguous3 "after a cut-off PATCH and a read back of the wrong type"
faults_dedupe_group "$g9" || diag "could not put group009 right on the SCIM server"

# A read back that fails outright leaves the additions in doubt: the next
# cycle must find out what the service holds, not add them blindly again.
faults_add_members group010 kf01 kf02 || diag "ldapmodify failed"
g10=$(faults_group_id "$tmp/dump.json" group010)
fault_reset
fault_config "{\"match\": {\"methods\": [\"PATCH\"], \"path\": \"/Groups/\"},
  \"script\": [{\"n\": 1, \"fault\": \"partial_after\"}],
  \"hostile\": [{\"method\": \"GET\", \"path\": \"/Groups/$g10\$\", \"mode\": \"notjson\"}]}" >/dev/null
l2s_run ambiguous4 -c "$cfg3" sync
no_crash "a cut-off PATCH whose read back fails"
is "$l2s_rc" 1 "a cut-off PATCH whose read back is not JSON: exit 1"
like "$(warnings)" "^ldap2scim: warning: update group 'group010': GET /Groups/$g10: 200 OK but the body is not JSON" \
    "the warning names the group and the failed read back"
fault_reset
l2s_run ambiguous4-next -c "$cfg3" sync
is "$l2s_rc" 0 "the next clean sync exits 0"
reqs=$(log_entries 0 "select(.path | test(\"/Groups/$g10\"))")
diag "group010 requests in the next sync: $(jq -r '[.[] | "\(.method) \(.fault // "-")"] | join(", ")' <<<"$reqs")"
check_clean ambiguous4 "after a cut-off PATCH whose read back failed"
kf01=$(jq -r '[.Users[] | select(.userName == "kf01")][0].id' "$tmp/dump.json")
is "$(jq --arg id "$kf01" '[.Groups[] | select(.displayName == "group010")][0].members | map(select(.value == $id)) | length' "$tmp/dump.json")" \
    1 "kf01 is a member of group010 once, not added a second time by the next cycle"
faults_dedupe_group "$g10" || diag "could not put group010 right on the SCIM server"

# --- 6. Hostile answers: no crash, one clear failure, the rest goes on ----
# hostile MODE METHOD PATH_RE MESSAGE_RE [group]: one sync in which the first
# request that fits gets a hostile answer (forwarded first: the write
# happens), then a clean sync that must converge by adopting what it hid.
hostile() {
	local mode=$1 method=$2 path=$3 msg=$4 kind=${5:-user} a b w
	a="h${mode:0:3}a"
	b="h${mode:0:3}b"
	{ faults_add_users "$a" 1 && faults_add_users "$b" 1; } || diag "ldapadd failed"
	if [ "$kind" = group ]; then
		faults_add_group "hg$mode" "${a}01" "${b}01" || diag "ldapadd group failed"
	fi
	fault_reset
	fault_config "{\"hostile\": [{\"method\": \"$method\", \"path\": \"$path\", \"mode\": \"$mode\"}]}" >/dev/null
	l2s_run "hostile-$mode" -c "$cfg3" sync
	no_crash "a '$mode' answer to $method"
	is "$l2s_rc" 1 "a '$mode' answer to $method: exit 1" ||
	    diag "$(tail -n 5 <<<"$l2s_stderr")"
	is "$(log_entries 0 'select(.fault != null)' | jq length)" 1 \
	    "'$mode': the proxy sent exactly one hostile answer"
	w=$(warnings)
	is "$(grep -c . <<<"$w")" 1 "'$mode': exactly one operation failed"
	like "$w" "$msg" "'$mode': the failure is one clear line naming the request"
	scim_dump >"$tmp/dump.json"
	faults_has_user "$tmp/dump.json" "${a}01" && faults_has_user "$tmp/dump.json" "${b}01"
	ok $? "'$mode': the other operations went on (both users exist remotely)"
	fault_reset
	l2s_run "hostile-$mode-next" -c "$cfg3" sync
	is "$l2s_rc" 0 "'$mode': the next clean sync exits 0" ||
	    diag "$(tail -n 5 <<<"$l2s_stderr")"
	like "$l2s_stderr" "; 1 adopted" "'$mode': it adopts the $kind the hostile answer hid"
	check_clean "hostile-$mode" "'$mode': after the next sync"
}
hostile notjson POST '/Users$' \
    "^ldap2scim: warning: create user 'hnot[ab]01': POST /Users: 201 Created but the body is not JSON"
hostile huge POST '/Users$' \
    "^ldap2scim: warning: create user 'hhug[ab]01': POST [^ ]*/Users: .*larger than 8388608 bytes"
hostile deep POST '/Users$' \
    "^ldap2scim: warning: create user 'hdee[ab]01': POST /Users: 201 Created but the body is nested deeper"
hostile noid POST '/Users$' \
    "^ldap2scim: warning: create user 'hnoi[ab]01': POST /Users: 201 Created but the response has no \"id\""
hostile wrongtype POST '/Groups$' \
    "^ldap2scim: warning: create group 'hgwrongtype': POST /Groups: 201 Created but the response has no \"id\"" group
hostile empty POST '/Users$' \
    "^ldap2scim: warning: create user 'hemp[ab]01': POST /Users: 201 Created but the body is not JSON"

# --- 7. SCIM unreachable mid-cycle: exit 4 after 3 failed operations ------
# The third create is held by the proxy (delay), which is then stopped: that
# create and every one after it find nobody listening.
faults_add_users ur 8 || diag "ldapadd failed"
fault_reset
fault_config '{"match": {"methods": ["POST"], "path": "/Users$"},
  "script": [{"n": 3, "fault": "delay", "delayMs": 5000}]}' >/dev/null
mkdir -p "$L2S_OUT"
t0=$(date +%s%N)
"$L2S_BIN" -c "$cfg1" sync >"$L2S_OUT/unreachable.out" 2>"$L2S_OUT/unreachable.err" &
agent=$!
for ((i = 0; i < 150; i++)); do
	fault_log 2>/dev/null | jq -e 'any(.[]; .fault == "delay")' >/dev/null && break
	sleep 0.1
done
fault_log >"$tmp/unreachable-log.json"
fault_proxy_stop
wait "$agent"
l2s_rc=$?
elapsed=$((($(date +%s%N) - t0) / 1000000))
l2s_stderr=$(cat "$L2S_OUT/unreachable.err")
is "$(jq -r '[.[] | select(.method == "POST") | "\(.status // "-") \(.fault // "-")"] | join(", ")' "$tmp/unreachable-log.json")" \
    "201 -, 201 -, - delay" "the proxy created two users and was stopped while holding the third create"
no_crash "SCIM unreachable mid-cycle"
is "$l2s_rc" 4 "the SCIM service gone mid-cycle: exit 4" || diag "$(tail -n 5 <<<"$l2s_stderr")"
is "$(warnings | wc -l)" 3 "after exactly 3 failed operations"
like "$l2s_stderr" "failed 3 operations in a row: stopping this cycle" "the error line says why it stopped"
like "$(warnings | tail -n 1)" "POST [^ ]*/Users: " "and names the request that could not get through"
test "$elapsed" -lt 15000
ok $? "it gave up quickly (${elapsed} ms)"
scim_dump >"$tmp/dump.json"
is "$(jq '[.Users[] | select(.userName | startswith("ur"))] | length' "$tmp/dump.json")" 2 \
    "only the two creates before the stop exist"

# A SCIM URL nobody listens on (the stopped proxy's port): exit 4 at once.
l2s_run closed -c "$cfg1" sync
no_crash "a closed SCIM port"
is "$l2s_rc" 4 "a SCIM URL with nobody listening: exit 4"
is "$(warnings | wc -l)" 0 "no operation was tried"
like "$l2s_stderr" "ServiceProviderConfig" "the error names the first request"

l2s_run unreachable-next -c "$direct" sync
is "$l2s_rc" 0 "the next sync (straight to the SCIM server) exits 0" ||
    diag "$(tail -n 5 <<<"$l2s_stderr")"
check_clean unreachable "after the SCIM service came back"
is "$(jq '[.Users[] | select(.userName | startswith("ur"))] | length' "$tmp/dump.json")" 8 \
    "all 8 new users exist once"
scim_reset_stats >/dev/null
l2s_run final -c "$direct" sync
is "$l2s_rc" 0 "a last sync exits 0"
is "$(writes)" 0 "and sends zero writes"

tap_done
