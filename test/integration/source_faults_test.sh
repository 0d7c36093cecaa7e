#!/usr/bin/env bash
# source_faults_test.sh - the directory fails under the agent: slapd killed
# between two pages, slapd stopped (no answer) before the bind and between
# two pages, a size limit, a groups search that finds nothing, and the
# removal limit in its count form with --force.  Every refused cycle must
# exit with its documented code, say why, send nothing to the SCIM server
# and leave the state store exactly as it was.
#
# A full read also loads the state while it waits: checked with the read
# held after its first page.
#
# "Between two pages" is made deterministic by a pacing proxy
# (test/lib/source.sh): it relays the LDAP traffic and holds the agent's
# connection right after the first page of the users search, while the
# test kills or stops slapd.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"
. "$top/test/lib/source.sh"

# 3,000 users: 15 pages of 200 (write_config sets page_size 200)
lab_start source-faults --users 3000 --groups 30 --nested --seed 11
trap 'ldap_pause_stop; lab_cleanup' EXIT
ldap_pause_start "$tmp/pause" >"$tmp/pause-start.log" 2>&1
ok $? "the LDAP pacing proxy starts" || { diag "$(cat "$tmp/pause-start.log")"; tap_done; exit 1; }

cfg="$tmp/l2s.yaml"
write_config "$cfg"
write_config "$tmp/paused.yaml" uri="$PAUSE_URI"
write_config "$tmp/slow.yaml" extra="  timeout: 2s"
write_config "$tmp/slow-paused.yaml" uri="$PAUSE_URI" extra="  timeout: 2s"

# Run the agent in the background: sets run_pid.
l2s_bg() {
	local name=$1; shift
	mkdir -p "$L2S_OUT"
	"$L2S_BIN" "$@" >"$L2S_OUT/$name.out" 2>"$L2S_OUT/$name.err" &
	run_pid=$!
}

# Kill (or stop) slapd once the agent's read is held after the first page of
# the users search (the read runs the disabled-users search first: one
# result, no entry, then the users search: 15 pages of 200), then let the
# agent go on; sets held (results and entries relayed), l2s_rc, l2s_stderr,
# elapsed (seconds, from release).
fault_after_first_page() {
	local name=$1 signal=$2; shift 2
	local t0
	ldap_pause_arm 2
	l2s_bg "$name" "$@"
	if ! ldap_pause_wait_held 30; then
		diag "the agent's read was never held after its first page"
		kill "$run_pid" 2>/dev/null
	fi
	held=$(ldap_pause_held)
	kill "-$signal" "$SLAPD_PID"
	t0=$(date +%s%N)
	ldap_pause_release
	bg_wait "$run_pid" 60 || { kill -KILL "$run_pid"; wait "$run_pid" 2>/dev/null; }
	elapsed=$((($(date +%s%N) - t0) / 1000000000))
	l2s_rc=${bg_rc:-timeout}
	l2s_stderr=$(cat "$L2S_OUT/$name.err")
}

# --- initial sync ------------------------------------------------------
l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync of 3,000 users exits 0"
compare first
ok $? "after the first sync the SCIM server equals LDAP"

# Three leavers: a naive agent would deactivate them on the next read.
for u in user00010 user00011 user00012; do
	printf 'dn: uid=%s,ou=people,%s\nchangetype: delete\n\n' "$u" "$LDAP_BASE"
done >"$tmp/delete3.ldif"
slapd_modify "$tmp/delete3.ldif" >"$tmp/modify.log" 2>&1
ok $? "three users are deleted in LDAP" || diag "$(cat "$tmp/modify.log")"
l2s_run dry-3 -c "$cfg" sync --dry-run --json
is "$(jq -r '[.operations[] | select(.op == "deactivate") | .name] | sort | join(" ")' <<<"$l2s_stdout")" \
    "user00010 user00011 user00012" "a complete read plans to deactivate the three leavers"
state_export "$cfg" "$tmp/state-before.json"
test -s "$tmp/state-before.json"
ok $? "the state is exported before the faults"
dump_before=$(scim_dump | jq -S .)

# --- the state loaded while the read waits ---------------------------------
# A full read loads the state in pieces while the server is slow to answer:
# held after the first page, the agent has nothing to read and loads it
# all (3,060 rows, 256 a piece); the plan is the one of the read above.
ldap_pause_arm 2
l2s_bg held-dry -v -c "$tmp/paused.yaml" sync --dry-run --json
ldap_pause_wait_held 30
ok $? "a dry run's read is held after its first page"
sleep 0.5
ldap_pause_release
bg_wait "$run_pid" 60 || { kill -KILL "$run_pid"; wait "$run_pid" 2>/dev/null; }
is "${bg_rc:-timeout}" 0 "it then ends normally"
pieces=$(sed -n 's/.*state: \([0-9]*\) pieces of its load done while waiting.*/\1/p' \
    "$L2S_OUT/held-dry.err")
test "${pieces:-0}" -ge 12
ok $? "the state was loaded while the read was held (${pieces:-no} pieces of 256 rows)"
is "$(jq -r '[.operations[] | select(.op == "deactivate") | .name] | sort | join(" ")' \
    "$L2S_OUT/held-dry.out")" "user00010 user00011 user00012" \
    "and the plan is the same: the three leavers, nothing else"
is "$(jq '.operations | length' "$L2S_OUT/held-dry.out")" \
    "$(jq '.operations | length' <<<"$l2s_stdout")" "the same number of operations"

# --- slapd killed between two pages --------------------------------------
scim_reset_stats
fault_after_first_page killed KILL -c "$tmp/paused.yaml" sync
is "$held" "2 200" "the agent's read was held after exactly one page of users (200 of 3,000)"
is "$l2s_rc" 3 "slapd killed in the middle of the paged read exits 3"
like "$l2s_stderr" "directory read incomplete, nothing changed" "and says the read was incomplete and nothing changed"
like "$l2s_stderr" "[Cc]an.t contact LDAP server|[Ss]erver down|connection" "and says the server went away"
unlike "$l2s_stderr" "cycle done" "no cycle summary claims the cycle was done"
is "$(requests)" 0 "no request at all reached the SCIM server"
state_export "$cfg" "$tmp/state-killed.json"
cmp -s "$tmp/state-before.json" "$tmp/state-killed.json"
ok $? "the state store is unchanged (state export identical)"
is "$(scim_dump | jq -S .)" "$dump_before" "the SCIM server holds exactly what it held before"

slapd_restart "$tmp/slapd" >"$tmp/restart.log" 2>&1
ok $? "slapd starts again" || { diag "$(cat "$tmp/restart.log")"; tap_done; exit 1; }

# --- slapd stopped: no answer within ldap.timeout ------------------------
scim_reset_stats
kill -STOP "$SLAPD_PID"
t0=$(date +%s%N)
l2s_run stopped -c "$tmp/slow.yaml" sync
elapsed=$((($(date +%s%N) - t0) / 1000000000))
kill -CONT "$SLAPD_PID"
is "$l2s_rc" 3 "a slapd that does not answer the bind (SIGSTOP) exits 3"
test "$elapsed" -lt 10
ok $? "within ldap.timeout 2s and a bound of 10 s (took ${elapsed} s)"
like "$l2s_stderr" "[Tt]imed out|no answer" "and says the server did not answer in time"
is "$(requests)" 0 "and sends nothing to the SCIM server"

scim_reset_stats
fault_after_first_page stalled STOP -c "$tmp/slow-paused.yaml" sync
kill -CONT "$SLAPD_PID"
is "$held" "2 200" "the stalled read was held after exactly one page of users"
is "$l2s_rc" 3 "a slapd that stops answering between two pages exits 3"
test "$elapsed" -lt 10
ok $? "within ldap.timeout 2s and a bound of 10 s (took ${elapsed} s)"
like "$l2s_stderr" "[Tt]imed out|no answer" "and says the server did not answer in time"
like "$l2s_stderr" "directory read incomplete, nothing changed" "and that nothing changed"
is "$(requests)" 0 "and sends nothing to the SCIM server"
state_export "$cfg" "$tmp/state-stalled.json"
cmp -s "$tmp/state-before.json" "$tmp/state-stalled.json"
ok $? "the state store is unchanged after the stall"
slapd_search -s base -b "$LDAP_BASE" dn >/dev/null 2>&1
ok $? "slapd answers again after SIGCONT"

# --- a size limit: the answer is not the whole result ---------------------
scim_reset_stats
LDAP_BIND_DN="cn=limited,ou=services,$LDAP_BASE" \
    write_config "$tmp/limited.yaml" pass_file="$SLAPD_DIR/limited.pass"
grep -q "dn: cn=limited,ou=services," "$tmp/limited.yaml"
ok $? "the limited config binds as cn=limited (hard size limit 50)"
# Pages of 50 fit size.pr, so the server sends 50 entries and then stops
# with sizeLimitExceeded (size.prtotal=50).
sed 's/^  page_size: 200$/  page_size: 50/' "$tmp/limited.yaml" >"$tmp/limited50.yaml"
l2s_run limited -c "$tmp/limited50.yaml" sync
is "$l2s_rc" 5 "a search cut by the server's size limit exits 5"
like "$l2s_stderr" "Size limit exceeded" "and names the size limit"
like "$l2s_stderr" "directory read incomplete, nothing changed" "and says nothing changed"
is "$(requests)" 0 "and sends nothing to the SCIM server"
# Pages of 200 are over size.pr=50: the server refuses the page size.
l2s_run limited200 -c "$tmp/limited.yaml" sync
is "$l2s_rc" 5 "a page size over the server's paged limit exits 5"
like "$l2s_stderr" "Administrative limit exceeded" "and names the limit"
like "$l2s_stderr" "directory read incomplete, nothing changed" "and says nothing changed"
is "$(requests)" 0 "and sends nothing to the SCIM server"
state_export "$cfg" "$tmp/state-limited.json"
cmp -s "$tmp/state-before.json" "$tmp/state-limited.json"
ok $? "the state store is unchanged after the size limit"

# --- the groups search finds nothing --------------------------------------
scim_reset_stats
sed 's/^  filter: (objectClass=groupOfNames)$/  filter: (cn=no-such-group)/' "$cfg" >"$tmp/nogroups.yaml"
grep -q "(cn=no-such-group)" "$tmp/nogroups.yaml"
ok $? "the nogroups config has a groups filter that matches nothing"
l2s_run nogroups -c "$tmp/nogroups.yaml" sync
is "$l2s_rc" 5 "an empty groups search with groups in the state exits 5"
like "$l2s_stderr" "groups search returned no entries but 30 groups were synced before" \
    "and explains the refusal with the count"
is "$(requests)" 0 "and sends nothing to the SCIM server"
state_export "$cfg" "$tmp/state-nogroups.json"
cmp -s "$tmp/state-before.json" "$tmp/state-nogroups.json"
ok $? "the state store is unchanged after the empty groups search"

# --- the removal limit as a count -------------------------------------------
printf 'dn: uid=user00013,ou=people,%s\nchangetype: delete\n\n' "$LDAP_BASE" >"$tmp/delete1.ldif"
slapd_modify "$tmp/delete1.ldif" >/dev/null 2>&1
ok $? "a fourth user is deleted in LDAP"
write_config "$tmp/max3.yaml" max_removals=3
write_config "$tmp/max3-paused.yaml" max_removals=3 uri="$PAUSE_URI"
scim_reset_stats
l2s_run max3 -c "$tmp/max3.yaml" sync
is "$l2s_rc" 5 "four removals over max_removals 3 exit 5"
like "$l2s_stderr" "refusing 4 removals, over the limit of 3 \\(sync\\.max_removals\\)" \
    "and give the count and the limit"
for u in user00010 user00011 user00012 user00013; do
	like "$l2s_stderr" "deactivate user '$u'" "and name '$u'"
done
like "$l2s_stderr" "--force" "and tell how to override"
is "$(requests)" 0 "a refused cycle sends nothing"

scim_reset_stats
fault_after_first_page forced-killed KILL -c "$tmp/max3-paused.yaml" sync --force
is "$held" "2 200" "the forced read was held after exactly one page of users"
is "$l2s_rc" 3 "--force does not override an incomplete read: still exit 3"
like "$l2s_stderr" "directory read incomplete, nothing changed" "and says nothing changed"
is "$(requests)" 0 "and nothing reached the SCIM server"
state_export "$cfg" "$tmp/state-forced-killed.json"
cmp -s "$tmp/state-before.json" "$tmp/state-forced-killed.json"
ok $? "the state store is unchanged"
slapd_restart "$tmp/slapd" >"$tmp/restart.log" 2>&1
ok $? "slapd starts again" || { diag "$(cat "$tmp/restart.log")"; tap_done; exit 1; }

scim_reset_stats
l2s_run forced -c "$tmp/max3.yaml" sync --force
is "$l2s_rc" 0 "--force with a complete read applies the four removals"
like "$l2s_stderr" "users 0 created, 0 updated, 4 deactivated" "and says so"
compare forced
ok $? "after the forced sync the SCIM server equals LDAP"
is "$(jq -r '[.Users[] | select(.active == false) | .userName] | sort | join(" ")' "$tmp/dump.json")" \
    "user00010 user00011 user00012 user00013" "exactly the four leavers are inactive"

# --- no secret anywhere ----------------------------------------------------
limited=$(tr -d '\n' <"$SLAPD_DIR/limited.pass")
leaks=$(grep -rlF -e "$password" -e "$token" -e "$limited" "$L2S_OUT" "$tmp"/state.db* 2>/dev/null)
is "$leaks" "" "no password or token appears in any output or the state file"

tap_done
