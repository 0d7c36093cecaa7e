#!/usr/bin/env bash
# token_test.sh - the SCIM bearer token: a refused token (401 from the real
# server, 403 through the fault proxy) exits 4 and names where the token came
# from, never the token; scim.token_expires warns ahead and reports expiry;
# `run` picks up a rotated token without a restart, survives a token the
# server no longer accepts and recovers once the file is fixed; no token ever
# shows in any output or the state file.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"
. "$top/test/lib/fault-proxy.sh"

lab_start token --users 20 --groups 3 --seed 5
trap 'fault_proxy_stop >/dev/null 2>&1; [ -n "${run_pid:-}" ] && kill -KILL "$run_pid" 2>/dev/null; lab_cleanup' EXIT
cfg="$tmp/l2s.yaml"
write_config "$cfg"
new_token() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
# Atomic (rename) writes: the server re-reads its token file per request.
put_token() {
	(umask 077 && printf '%s\n' "$2" >"$1.tmp") && mv -f "$1.tmp" "$1"
}
tokens=("$token")

l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0"
compare first
ok $? "after the first sync the SCIM server equals LDAP"

# --- 401 from the real server ---------------------------------------------
wrong=$(new_token); tokens+=("$wrong")
put_token "$tmp/wrong.token" "$wrong"
write_config "$tmp/wrong-file.yaml" token_file="$tmp/wrong.token"
scim_reset_stats
l2s_run file-401 -c "$tmp/wrong-file.yaml" sync
is "$l2s_rc" 4 "a token refused with 401 (token_file) exits 4"
like "$l2s_stderr" "401" "and names the status"
like "$l2s_stderr" "\\(the token from file '$tmp/wrong\\.token'\\)" "and names the token file"
unlike "$l2s_stderr" "$wrong" "and never the token"
is "$(writes)" 0 "and writes nothing"

sed "s|^  token_file: .*|  token_env: L2S_TEST_TOKEN|" "$tmp/wrong-file.yaml" >"$tmp/env.yaml"
grep -q "^  token_env: L2S_TEST_TOKEN$" "$tmp/env.yaml" && ! grep -q "token_file" "$tmp/env.yaml"
ok $? "the env config takes the token from L2S_TEST_TOKEN only"
L2S_TEST_TOKEN=$wrong l2s_run env-401 -c "$tmp/env.yaml" sync
is "$l2s_rc" 4 "a token refused with 401 (token_env) exits 4"
like "$l2s_stderr" "\\(the token from environment variable 'L2S_TEST_TOKEN'\\)" "and names the variable"
unlike "$l2s_stderr" "$wrong" "and never the token"
L2S_TEST_TOKEN=$wrong l2s_run env-check -c "$tmp/env.yaml" check
is "$l2s_rc" 4 "check with the refused env token exits 4"
like "$l2s_stderr" "environment variable 'L2S_TEST_TOKEN'" "and names the variable"
L2S_TEST_TOKEN=$token l2s_run env-ok -c "$tmp/env.yaml" sync
is "$l2s_rc" 0 "the right token from the environment is accepted"
l2s_run env-unset -c "$tmp/env.yaml" sync
is "$l2s_rc" 2 "an unset token variable is a configuration error (exit 2)"
like "$l2s_stderr" "L2S_TEST_TOKEN" "and names the variable"
is "$(writes)" 0 "none of these runs wrote anything"

# --- 403: the real server never says it, the fault proxy can ----------------
fault_proxy_start "$tmp/fault" "http://127.0.0.1:$SCIM_PORT" >"$tmp/fault-start.log" 2>&1
ok $? "the fault proxy starts" || diag "$(cat "$tmp/fault-start.log")"
fault_config '{"hostile": [{"mode": "notjson", "forward": false, "status": 403, "times": -1}]}' >/dev/null
write_config "$tmp/403.yaml" scim_url="$FAULT_URL"
before4=$(scim_dump | jq -r '[.Users[] | select(.userName == "user00004")][0].title')
printf 'dn: uid=user00004,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: Pending\n\n' \
    "$LDAP_BASE" >"$tmp/pending.ldif"
slapd_modify "$tmp/pending.ldif"
ok $? "a title changes in LDAP (one update to send)"
l2s_run forbidden -c "$tmp/403.yaml" sync
is "$l2s_rc" 4 "a token refused with 403 exits 4"
like "$l2s_stderr" "403" "and names the status"
like "$l2s_stderr" "\\(the token from file '$SCIM_TOKEN_FILE'\\)" "and names the token file"
unlike "$l2s_stderr" "$token" "and never the token"
is "$(fault_log | jq '[.[] | select(.method != "GET")] | length')" 0 "and sends no write after the 403"
is "$(scim_dump | jq -r '[.Users[] | select(.userName == "user00004")][0].title')" "$before4" \
    "the pending change did not reach the server"
fault_proxy_stop >/dev/null 2>&1

# --- scim.token_expires ------------------------------------------------------
soon=$(date -u -d '+10 days' +%F)
past=$(date -u -d '-3 days' +%F)
later=$(date -u -d '+100 days' +%F)
write_config "$tmp/soon.yaml" scim_extra="  token_expires: $soon"
l2s_run expires-soon -c "$tmp/soon.yaml" sync
is "$l2s_rc" 0 "a token expiring in 10 days still syncs (exit 0)"
like "$l2s_stderr" "warning: .*the SCIM token expires on $soon" "and warns, naming the day"
like "$l2s_stderr" "in 10 days" "and how many days are left"
write_config "$tmp/past.yaml" scim_extra="  token_expires: $past"
l2s_run expired -c "$tmp/past.yaml" sync
like "$l2s_stderr" "error: .*the SCIM token expired on $past" "a past expiry date logs an error line naming the day"
like "$l2s_stderr" "cycle done" "and the cycle still runs"
is "$l2s_rc" 0 "and exits 0 (the server still accepted the token)"
write_config "$tmp/later.yaml" scim_extra="  token_expires: $later"
l2s_run expires-later -c "$tmp/later.yaml" sync
is "$l2s_rc" 0 "a token expiring in 100 days syncs"
unlike "$l2s_stderr" "expire" "without any warning"
is "$(grep -c . <<<"$l2s_stderr")" 1 "just the summary line"
write_config "$tmp/baddate.yaml" scim_extra="  token_expires: 2027-02-30"
l2s_run bad-date -c "$tmp/baddate.yaml" sync
is "$l2s_rc" 2 "an impossible expiry date is a configuration error"
like "$l2s_stderr" "token_expires" "and names the key"

# --- rotation under run ------------------------------------------------------
# The agent reads $tmp/agent.token, first a symbolic link to the server's
# own token file, so that both change in one rename.
ln -s "$SCIM_TOKEN_FILE" "$tmp/agent.token"
write_config "$tmp/run.yaml" token_file="$tmp/agent.token"
title_of() { scim_dump | jq -r --arg u "$1" '[.Users[] | select(.userName == $u)][0].title'; }
set_title() {
	printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: %s\n\n' \
	    "$1" "$LDAP_BASE" "$2" >"$tmp/title.ldif"
	slapd_modify "$tmp/title.ldif"
}
wait_title() {	# USER TITLE SECONDS
	local i seen=""
	for ((i = 0; i < $3 * 5; i++)); do
		seen=$(title_of "$1")
		[ "$seen" = "$2" ] && break
		sleep 0.2
	done
	echo "$seen"
}
wait_log() {	# REGEX SECONDS: in the run log after line $mark
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		tail -n +"$((mark + 1))" "$L2S_OUT/run.err" | grep -qE -- "$1" && return 0
		sleep 0.2
	done
	return 1
}
log_since_mark() { tail -n +"$((mark + 1))" "$L2S_OUT/run.err"; }
set_mark() { mark=$(wc -l <"$L2S_OUT/run.err"); }

"$L2S_BIN" -c "$tmp/run.yaml" run >"$L2S_OUT/run.out" 2>"$L2S_OUT/run.err" &
run_pid=$!
mark=0
set_title user00001 "Before Rotation"
is "$(wait_title user00001 "Before Rotation" 20)" "Before Rotation" "run syncs an LDAP change with the first token"

t2=$(new_token); tokens+=("$t2")
set_mark
put_token "$SCIM_TOKEN_FILE" "$t2"
set_title user00002 "After Rotation"
is "$(wait_title user00002 "After Rotation" 20)" "After Rotation" \
    "after both tokens rotate, the next cycle syncs without a restart"
wait_log "cycle done" 10
ok $? "and completes its cycles"
unlike "$(log_since_mark)" "401|error" "no cycle was refused after the rotation"

# Only the server's token changes: the agent's file keeps the old one.
t3=$(new_token); tokens+=("$t3")
put_token "$tmp/agent.token" "$t2"	# the link becomes a file of its own
set_mark
put_token "$SCIM_TOKEN_FILE" "$t3"
set_title user00003 "While Refused"
wait_log "401" 20
ok $? "with only the server's token rotated, run logs the 401"
like "$(log_since_mark)" "error: cycle failed \\(exit code 4\\): .*401.*\\(the token from file '$tmp/agent\\.token'\\)" \
    "as a failed cycle naming the token file"
set_mark
wait_log "401" 10
ok $? "and refuses again on the next cycle"
kill -0 "$run_pid" 2>/dev/null
ok $? "and keeps running"
test "$(title_of user00003)" != "While Refused"
ok $? "the change made meanwhile has not reached the server"

set_mark
put_token "$tmp/agent.token" "$t3"
is "$(wait_title user00003 "While Refused" 20)" "While Refused" \
    "once the agent's file holds the new token, run recovers and syncs the change"
wait_log "cycle done" 10
ok $? "with a completed cycle"

kill -TERM "$run_pid"
run_rc=""
for _ in $(seq 1 100); do
	if ! kill -0 "$run_pid" 2>/dev/null; then wait "$run_pid"; run_rc=$?; break; fi
	sleep 0.1
done
run_pid=
is "$run_rc" 0 "SIGTERM stops run with exit 0"
compare rotated
ok $? "after the rotations the SCIM server equals LDAP"
cp "$SLAPD_LOG" "$L2S_OUT/slapd.log" 2>/dev/null

# --- no token anywhere ---------------------------------------------------------
leaks=""
for t in "${tokens[@]}"; do
	leaks+=$(grep -rlF -e "$t" "$L2S_OUT" "$tmp"/state.db* "$tmp"/*.yaml 2>/dev/null)
done
is "$leaks" "" "none of the ${#tokens[@]} tokens appears in any output, config or the state file"
leaks=$(grep -rlF -e "$password" "$L2S_OUT" "$tmp"/state.db* 2>/dev/null)
is "$leaks" "" "nor the bind password"

tap_done
