#!/usr/bin/env bash
# recreate_safety_test.sh - scim.group_rename: recreate never trades a
# safety rule for a rename, against slapd and the test SCIM server (with
# the fault proxy where a failure is needed):
# - recreating groups deletes the old ones: sync.max_removals counts them;
# - the old group of a recreate whose DELETE failed, adopted since by a new
#   directory group of the old name, is kept, not deleted next cycle;
# - while the new group's member PATCH fails, the old group stays, so no
#   member is left without the group;
# - a rename that changes only the case is not a recreate (the services
#   that cannot rename hold names without case: it would meet a 409 forever).
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"
. "$top/test/lib/fault-proxy.sh"

lab_start recreate --users 30 --groups 4 --big-group 25 --seed 11
trap 'fault_proxy_stop; lab_cleanup' EXIT
fault_proxy_start "$tmp/proxy" "http://127.0.0.1:$SCIM_PORT" >"$tmp/proxy-start.log" 2>&1
ok $? "the fault proxy starts in front of the SCIM server" ||
    { diag "$(cat "$tmp/proxy-start.log")"; tap_done; exit 1; }
cfg="$tmp/l2s.yaml"
conf() { write_config "$cfg" scim_url="$FAULT_URL" "$@" scim_extra="  group_rename: recreate
  member_batch: 10
  retries: 0
  concurrency: 1"; }
group_id() { scim_dump | jq -r --arg n "$1" '[.Groups[] | select(.displayName == $n) | .id] | join(" ")'; }
members() { scim_dump | jq -r --arg n "$1" '[.Groups[] | select(.displayName == $n) | .members[]?] | length'; }
ids() { scim_dump | jq -r '[.Groups[].id] | sort | join(" ")'; }
rename() {
	printf 'dn: cn=%s,ou=groups,%s\nchangetype: modrdn\nnewrdn: cn=%s\ndeleteoldrdn: 1\n' \
	    "$1" "$LDAP_BASE" "$2" >"$tmp/rename.ldif"
	slapd_modify "$tmp/rename.ldif" >"$tmp/modify.log" 2>&1
}

conf max_removals=1
l2s_run s1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0" || diag "$l2s_stderr"
before=$(ids)

# --- a new name for every group: four recreates, four old groups deleted
sed -i 's|^  name: "{cn}"$|  name: "corp-{cn}"|' "$cfg"
l2s_run guard -c "$cfg" sync
is "$l2s_rc" 5 "renaming every group by recreate is refused over max_removals 1 (exit 5)"
like "$l2s_stderr" "refusing 4 removals.*recreate group 'group00" \
    "the refusal counts the recreates and names them"
is "$(ids)" "$before" "no group was deleted or created"
l2s_run dryguard -c "$cfg" sync --dry-run
is "$l2s_rc" 5 "the dry run is refused the same way"
conf max_removals=5

# --- the old group, adopted again, is kept
old=$(group_id group001)
rename group001 team001
fault_config '{"rate": 1, "faults": ["503"], "match": {"methods": ["DELETE"], "path": "/Groups/"}}' >/dev/null
l2s_run s2 -c "$cfg" sync
is "$l2s_rc" 1 "the recreate's DELETE of the old group fails (exit 1)"
m=$(slapd_search -b "ou=people,$LDAP_BASE" "(objectClass=inetOrgPerson)" dn | sed -n 's/^dn: //p' | head -1)
printf 'dn: cn=group001,ou=groups,%s\nobjectClass: groupOfNames\ncn: group001\nmember: %s\n' \
    "$LDAP_BASE" "$m" >"$tmp/g.ldif"
slapd_add "$tmp/g.ldif" >/dev/null
l2s_run s3 -c "$cfg" sync
l2s_run export -c "$cfg" state export
like "$l2s_stdout" "$old" "a new directory group of the old name adopted the old group (409)"
fault_reset >/dev/null
l2s_run s4 -c "$cfg" sync
is "$l2s_rc" 0 "the next sync, with the DELETE working again, exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "old group \(id $old\) of a recreate is the state's again: kept" \
    "the old group is recognised as the state's again"
is "$(group_id group001)" "$old" "and it is still on the service"
compare adopted
ok $? "the SCIM server equals LDAP"

# --- the old group stays while the new one lacks members
is "$(members group000)" 25 "group000 has 25 members"
rename group000 team000
fault_config '{"rate": 1, "faults": ["503"], "match": {"methods": ["PATCH"], "path": "/Groups/"}}' >/dev/null
l2s_run s5 -c "$cfg" sync
is "$l2s_rc" 1 "the recreate's member PATCH fails (exit 1)"
l2s_run s6 -c "$cfg" sync
like "$l2s_stderr" "group 'team000': the old group \(id .*\) is deleted once the new one has every member" \
    "the next cycle keeps the old group while the PATCH still fails"
is "$(members group000)" 25 "so every member still has it"
fault_reset >/dev/null
l2s_run s7 -c "$cfg" sync
is "$l2s_rc" 0 "once the PATCH works the members move (exit 0)" || diag "$l2s_stderr"
is "$(members team000)" 25 "the new group has all 25"
l2s_run s8 -c "$cfg" sync
is "$(group_id group000)" "" "and the cycle after deletes the old group"
compare moved
ok $? "the SCIM server equals LDAP"

# --- a change of case only
rename group002 Group002
l2s_run s9 -c "$cfg" sync
is "$l2s_rc" 0 "a rename in case only exits 0" || diag "$l2s_stderr"
l2s_run s10 -c "$cfg" sync
is "$l2s_rc" 0 "and so does the next cycle (no 409 loop)" || diag "$l2s_stderr"
is "$(scim_dump | jq -r '[.Groups[] | select(.displayName | ascii_downcase == "group002")] | length')" 1 \
    "one group of that name, not recreated"

tap_done
