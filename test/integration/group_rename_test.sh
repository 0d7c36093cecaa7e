#!/usr/bin/env bash
# group_rename_test.sh - scim.group_rename: recreate against slapd and the
# test SCIM server, through the fault proxy: a group renamed in LDAP is
# created anew under its new name with every member (the first
# member_batch in the POST, the rest by PATCH), recorded, and the old group
# deleted; the dry run shows it as a recreate.  When the DELETE of the old
# group fails, the next cycle still deletes it (and never the new one);
# when the POST's answer is lost and the run cannot find the new group,
# the next cycle records the new group and completes its members, and the
# one after deletes the old group, leaving no duplicate.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"
. "$top/test/lib/fault-proxy.sh"

# group000 holds the first 25 users: a recreate needs three chunks of 10.
lab_start grename --users 30 --groups 4 --big-group 25 --seed 11
trap 'fault_proxy_stop; lab_cleanup' EXIT
fault_proxy_start "$tmp/proxy" "http://127.0.0.1:$SCIM_PORT" >"$tmp/proxy-start.log" 2>&1
ok $? "the fault proxy starts in front of the SCIM server" ||
    { diag "$(cat "$tmp/proxy-start.log")"; tap_done; exit 1; }
cfg="$tmp/l2s.yaml"
write_config "$cfg" scim_url="$FAULT_URL" scim_extra="  group_rename: recreate
  member_batch: 10
  retries: 0
  concurrency: 1"

group_id() { scim_dump | jq -r --arg n "$1" '[.Groups[] | select(.displayName == $n) | .id] | join(" ")'; }
ngroups() { scim_dump | jq -r --arg n "$1" '[.Groups[] | select(.externalId == $n)] | length'; }
rename() {	# rename OLD NEW: modrdn of a group in LDAP
	printf 'dn: cn=%s,ou=groups,%s\nchangetype: modrdn\nnewrdn: cn=%s\ndeleteoldrdn: 1\n' \
	    "$1" "$LDAP_BASE" "$2" >"$tmp/rename.ldif"
	slapd_modify "$tmp/rename.ldif" >"$tmp/modify.log" 2>&1
}
key_of() {	# key_of CN: the group's entryUUID
	slapd_search -LLL -b "cn=$1,ou=groups,$LDAP_BASE" -s base entryUUID |
	    sed -n 's/^entryUUID: //p'
}

l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0" || diag "$l2s_stderr"
compare first
ok $? "the SCIM server equals LDAP after the first sync"
old_id=$(group_id group000)

rename group000 team000
ok $? "group000 is renamed team000 in LDAP" || diag "$(cat "$tmp/modify.log")"
key0=$(key_of team000)

l2s_run dry -c "$cfg" sync --dry-run
is "$l2s_rc" 0 "the dry run exits 0"
like "$l2s_stdout" "recreate group 'group000' as 'team000'" "the dry run shows a recreate"
like "$l2s_stdout" "created anew with its 25 members, then the old group is deleted" \
    "and what it means"
l2s_run dryjson -c "$cfg" sync --dry-run --json
is "$(jq -r '[.operations[] | select(.op == "recreate") | "\(.old_name)>\(.name)"] | join(" ")' \
    <<<"$l2s_stdout")" "group000>team000" "the JSON plan has one recreate operation with the old name"

fault_reset
l2s_run sync2 -c "$cfg" sync
is "$l2s_rc" 0 "the sync that recreates the group exits 0" || diag "$l2s_stderr"
new_id=$(group_id team000)
ok "$([ -n "$new_id" ] && [ "$new_id" != "$old_id" ]; echo $?)" \
    "team000 exists under a new id"
is "$(group_id group000)" "" "the old group is gone"
log=$(fault_log)
is "$(jq '[.[] | select(.method == "POST" and (.path | endswith("/Groups")))] | length' <<<"$log")" 1 \
    "one POST creates the new group"
is "$(jq --arg id "$new_id" '[.[] | select(.method == "PATCH" and (.path | endswith("/Groups/" + $id)))] | length' \
    <<<"$log")" 2 "the members past the first 10 follow in two PATCHes of at most 10"
is "$(jq --arg id "$old_id" '[.[] | select(.method == "PATCH" and (.path | endswith("/Groups/" + $id)))] | length' \
    <<<"$log")" 0 "the old group is never renamed by PATCH"
is "$(jq --arg id "$old_id" '[.[] | select(.method == "DELETE" and (.path | endswith("/Groups/" + $id)))] | length' \
    <<<"$log")" 1 "one DELETE removes the old group"
compare recreated
ok $? "the SCIM server equals LDAP after the recreate (all 25 members)"
l2s_run state -c "$cfg" state export
like "$l2s_stdout" "$new_id" "the state records the new group's id"

# The DELETE of the old group fails: the next cycle deletes it.
rename group001 team001
old1=$(group_id group001)
fault_config '{"rate": 1, "faults": ["503"], "retryAfter503": null,
  "match": {"methods": ["DELETE"], "path": "/Groups/"}}' >/dev/null
l2s_run sync3 -c "$cfg" sync
is "$l2s_rc" 1 "a sync whose DELETE of the old group fails exits 1"
like "$l2s_stderr" "created anew \\(id [^)]*\\), but the old group \\(id $old1\\) is still to delete" \
    "and says the new group exists and the old one is left to delete"
new1=$(group_id team001)
ok "$([ -n "$new1" ] && [ -n "$(group_id group001)" ]; echo $?)" \
    "both groups exist for now"
fault_reset
l2s_run sync4 -c "$cfg" sync
is "$l2s_rc" 0 "the next sync exits 0" || diag "$l2s_stderr"
is "$(group_id group001)" "" "and deletes the old group"
is "$(group_id team001)" "$new1" "not the new one"
compare retired
ok $? "the SCIM server equals LDAP"

# The POST's answer is lost and the lookup fails too: the run does not
# know the new group.  The next one records it and adds the members the
# lost run never sent; the one after deletes the old group.
rename group002 team002
old2=$(group_id group002)
key2=$(key_of team002)
fault_config '{"rate": 0, "match": {"methods": ["POST", "GET"], "path": "/Groups$"},
  "script": [{"n": 1, "fault": "reset_after"}, {"n": 2, "fault": "503"}], "retryAfter503": null}' >/dev/null
l2s_run sync5 -c "$cfg" sync
is "$l2s_rc" 1 "a sync that loses the POST's answer and cannot look it up exits 1"
is "$(ngroups "$key2")" 2 "the new group was created all the same, beside the old one"
fault_reset
l2s_run sync6 -c "$cfg" sync
is "$l2s_rc" 0 "the next sync exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "recorded the group \\(id [^)]*\\) a recreate had created" \
    "it records the group the lost answer had created"
like "$l2s_stderr" "the old group \\(id $old2\\) is deleted once the new one has every member" \
    "the old group stays while the new one lacks the members the lost run never sent"
l2s_run sync6b -c "$cfg" sync
is "$l2s_rc" 0 "the sync after that exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "deleted the old group \\(id $old2\\) that a recreate left" \
    "and, the new group complete, deletes the old one"
is "$(ngroups "$key2")" 1 "one group is left for that directory group"
is "$(group_id group002)" "" "the old one is deleted"
is "$(jq '[.[] | select(.method == "POST")] | length' <<<"$(fault_log)")" 0 \
    "and no group is created twice"
compare lost
ok $? "the SCIM server equals LDAP"
is "$(ngroups "$key0")" 1 "team000 is there once"

scim_reset_stats >/dev/null
l2s_run sync7 -c "$cfg" sync
is "$l2s_rc" 0 "a last sync exits 0"
is "$(writes)" 0 "and sends no write"
tap_done
