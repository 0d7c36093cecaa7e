#!/usr/bin/env bash
# incremental_test.sh - sync.incremental against slapd's syncprov overlay
# (RFC 4533 refreshOnly) and the SCIM server: the first cycle reads
# everything, later ones only what changed; a change, an addition, a
# rename, a lock and a delete each reach the SCIM server in the next cycle
# and leave it equal to LDAP; a delete after a slapd restart (session log
# gone) arrives through the present phase; a cycle with nothing changed
# plans nothing and writes nothing; removals over the limit are refused in
# every cycle until lifted, never skipped as "unchanged"; a damaged cookie
# falls back to a full read; a dry run saves nothing.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"

# group001 > group002 > group003 (nested)
lab_start incremental --users 200 --groups 8 --nested --seed 11
cfg="$tmp/l2s.yaml"
write_config "$cfg" users_filter="(&(objectClass=inetOrgPerson)(!(employeeType=left)))" \
    sync_extra="  incremental: true
  full_interval: 1d"
state="$tmp/state.db"
uid_dn() { echo "uid=$1,ou=people,$LDAP_BASE"; }
scim_user() {	# scim_user UID ATTR: the SCIM user's attribute (jq path)
	scim_dump | jq -r --arg u "$1" ".Users[] | select(.userName == \$u) | $2"
}
equal() {	# equal NAME: the SCIM server equals LDAP
	compare "$1"
	ok $? "$2" || diag "$(cat "$tmp/compare-$1.txt")"
}

l2s_run first -c "$cfg" sync
is "$l2s_rc" 0 "the first incremental-mode cycle exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "full read: no earlier full read to start from" \
    "the first cycle reads everything and says why"
equal first "after the first cycle the SCIM server equals LDAP"
[ -n "$(sqlite3 "$state" "select value from meta where name = 'incremental.cookie.users'")" ]
ok $? "the users sync cookie is kept in the state store"
is "$(sqlite3 "$state" 'select count(*) from snapshot')" "$(( 200 + 8 ))" \
    "the state store holds a snapshot of the 208 entries read"

scim_reset_stats
l2s_run quiet -c "$cfg" sync
is "$l2s_rc" 0 "a cycle with nothing changed exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "incremental read: 0 entries changed" "it reads only what changed: nothing"
like "$l2s_stderr" "cycle done in [0-9.]+ s: nothing changed in the directory since the last cycle" \
    "and its summary says so"
is "$(writes)" 0 "it writes nothing"
unlike "$l2s_stderr" "full read" "it does not read everything"

scim_reset_stats
slapd_modify /dev/stdin <<LDIF
dn: $(uid_dn user00042)
changetype: modify
replace: title
title: Incremental Engineer
LDIF
l2s_run change -c "$cfg" sync
is "$l2s_rc" 0 "a cycle after one change exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "incremental read: 1 entries changed" "the one changed entry is read"
is "$(scim_user user00042 .title)" "Incremental Engineer" \
    "the changed title reaches the SCIM server in the next cycle"
is "$(writes)" 1 "one write for one changed user"
equal change "after the change the SCIM server equals LDAP"

slapd_add /dev/stdin <<LDIF
dn: $(uid_dn newcomer)
objectClass: inetOrgPerson
uid: newcomer
cn: New Comer
givenName: New
sn: Comer
mail: newcomer@example.com

LDIF
slapd_modify /dev/stdin <<LDIF
dn: cn=group003,ou=groups,$LDAP_BASE
changetype: modify
add: member
member: $(uid_dn newcomer)
LDIF
l2s_run add -c "$cfg" sync
is "$l2s_rc" 0 "a cycle after an addition exits 0" || diag "$l2s_stderr"
is "$(scim_user newcomer .displayName)" "New Comer" "the new user is created"
equal add "the new user is in group003 and (nested) in group002 and group001"

slapd_modify /dev/stdin <<LDIF
dn: $(uid_dn newcomer)
changetype: modrdn
newrdn: uid=renamed
deleteoldrdn: 1
LDIF
l2s_run rename -c "$cfg" sync
is "$l2s_rc" 0 "a cycle after a rename exits 0" || diag "$l2s_stderr"
is "$(scim_user renamed .displayName)" "New Comer" "the renamed user keeps its SCIM user, renamed"
equal rename "the renamed user stays a member of its groups (refint's change seen from the user)"

slapd_modify /dev/stdin <<LDIF
dn: $(uid_dn user00007)
changetype: modify
add: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
LDIF
l2s_run lock -c "$cfg" sync
is "$l2s_rc" 0 "a cycle after a lock exits 0" || diag "$l2s_stderr"
is "$(scim_user user00007 .active)" "false" "the locked user is deactivated in the next cycle"

del() { ldapdelete -x -H "$LDAP_URI" -D "$LDAP_BIND_DN" -y "$SLAPD_DIR/ldap.pass.raw" "$@"; }
del "$(uid_dn user00013)"
l2s_run delete -c "$cfg" sync
is "$l2s_rc" 0 "a cycle after a delete exits 0" || diag "$l2s_stderr"
is "$(scim_user user00013 .active)" "false" "the deleted user is deactivated (removal: deactivate)"
equal delete "after the delete the SCIM server equals LDAP (groups too)"

# Entries that leave and come back, renamed groups and OUs: what the sync
# protocol does not report about the groups that list them is read again.
in_group() {	# in_group USER GROUP: the SCIM group has the user
	scim_dump | jq -e --arg u "$1" --arg g "$2" '(.Users[] | select(.userName == $u) | .id) as $id |
	    [.Groups[] | select(.displayName == $g) | .members[]?.value] | index($id) != null' >/dev/null
}
member3=$(slapd_search -b "cn=group003,ou=groups,$LDAP_BASE" -s base member |
    sed -n 's/^member: uid=\([^,]*\),.*/\1/p' | head -n 1)
printf 'dn: %s\nchangetype: modify\nreplace: employeeType\nemployeeType: left\n' \
    "$(uid_dn "$member3")" | slapd_modify /dev/stdin
l2s_run leave -c "$cfg" sync
is "$(scim_user "$member3" .active)" false "a user who leaves the users filter is deactivated"
printf 'dn: %s\nchangetype: modify\ndelete: employeeType\n' "$(uid_dn "$member3")" |
    slapd_modify /dev/stdin
l2s_run back -c "$cfg" sync
is "$(scim_user "$member3" .active)" true "and active again when back in it"
in_group "$member3" group003
ok $? "back in group003, which still lists it (the group is read again, not guessed)"
equal back "the SCIM server equals LDAP after the round trip"

printf 'dn: cn=group003,ou=groups,%s\nchangetype: modrdn\nnewrdn: cn=group003b\ndeleteoldrdn: 1\n' \
    "$LDAP_BASE" | slapd_modify /dev/stdin
l2s_run grename -c "$cfg" sync
is "$l2s_rc" 0 "a nested group renamed: the cycle succeeds" || diag "$l2s_stderr"
in_group "$member3" group002
ok $? "group003's members stay in group002 (refint's rewrite of group002 is read)"
equal grename "the SCIM server equals LDAP after the group rename"

slapd_add /dev/stdin <<LDIF
dn: ou=team,ou=people,$LDAP_BASE
objectClass: organizationalUnit
ou: team

dn: uid=teamer,ou=team,ou=people,$LDAP_BASE
objectClass: inetOrgPerson
uid: teamer
cn: Team Er
sn: Er
mail: teamer@example.com

LDIF
printf 'dn: cn=group004,ou=groups,%s\nchangetype: modify\nadd: member\nmember: uid=teamer,ou=team,ou=people,%s\n' \
    "$LDAP_BASE" "$LDAP_BASE" | slapd_modify /dev/stdin
l2s_run team -c "$cfg" sync
in_group teamer group004
ok $? "a user in a new OU is created, member of group004"
printf 'dn: ou=team,ou=people,%s\nchangetype: modrdn\nnewrdn: ou=squad\ndeleteoldrdn: 1\n' \
    "$LDAP_BASE" | slapd_modify /dev/stdin
l2s_run ourename -c "$cfg" sync
printf 'dn: cn=group004,ou=groups,%s\nchangetype: modify\nadd: member\nmember: %s\n' \
    "$LDAP_BASE" "$(uid_dn renamed)" | slapd_modify /dev/stdin
l2s_run ouchange -c "$cfg" sync
is "$l2s_rc" 0 "after the OU is renamed (its children unreported) a change to group004 succeeds" ||
    diag "$l2s_stderr"
like "$l2s_stderr" "full read: a group lists a user the snapshot knows under another DN" \
    "the stale DN is noticed and everything read again"
in_group teamer group004
ok $? "so teamer stays in group004"
equal ourename "the SCIM server equals LDAP after the OU rename"

# The session log lives in memory: after a restart slapd cannot list what
# was deleted since the cookie, and answers with the present phase.
slapd_restart "$tmp/slapd" >/dev/null 2>&1
ok $? "slapd restarts (its session log is gone)"
del "$(uid_dn user00014)"
l2s_run present -c "$cfg" sync
is "$l2s_rc" 0 "a cycle after a restart and a delete exits 0" || diag "$l2s_stderr"
is "$(scim_user user00014 .active)" "false" "the delete arrives through the present phase"
equal present "after the present phase the SCIM server equals LDAP"

# Removals over the limit: refused now, and again next cycle.
for n in 20 21 22 23 24 25 26 27 28 29 30 31; do
	echo "dn: $(uid_dn user000$n)"; echo "changetype: delete"; echo
done | slapd_modify /dev/stdin
scim_reset_stats
l2s_run guard1 -c "$cfg" sync
is "$l2s_rc" 5 "12 users deleted at once (over 5%) are refused: exit 5" || diag "$l2s_stderr"
is "$(writes)" 0 "nothing is written"
like "$l2s_stderr" "the next cycle reads the whole directory" \
    "and the next cycle is announced as a full read"
l2s_run guard2 -c "$cfg" sync
is "$l2s_rc" 5 "the next cycle refuses them again (not skipped as unchanged)" || diag "$l2s_stderr"
like "$l2s_stderr" "full read: a safety rule refused the changes the last cycle read" \
    "after a full read, which confirms them"
l2s_run guard3 -c "$cfg" sync --force
is "$l2s_rc" 0 "--force lets them through" || diag "$l2s_stderr"
equal guard "after --force the SCIM server equals LDAP"

# A dry run saves nothing, even with changes to report.
slapd_modify /dev/stdin <<LDIF
dn: $(uid_dn user00050)
changetype: modify
replace: title
title: Dry Runner
LDIF
before=$(sqlite3 "$state" 'select name, value from meta order by name; select count(*), sum(length(entry)) from snapshot')
l2s_run dry -c "$cfg" sync --dry-run
is "$l2s_rc" 0 "an incremental dry run exits 0" || diag "$l2s_stderr"
like "$l2s_stdout" "user00050" "the dry run shows the changed user"
is "$(sqlite3 "$state" 'select name, value from meta order by name; select count(*), sum(length(entry)) from snapshot')" \
    "$before" "the dry run saved no cookie and no snapshot change"
l2s_run after-dry -c "$cfg" sync
is "$(scim_user user00050 .title)" "Dry Runner" "the next real cycle applies the change"

# Doubt about the cookie: a full read, never removals.
sqlite3 "$state" "update meta set value = 'not-a-cookie' where name = 'incremental.cookie.users'"
scim_reset_stats
l2s_run badcookie -c "$cfg" sync
is "$l2s_rc" 0 "a damaged cookie: the cycle still exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "full read: " "it falls back to a full read"
is "$(writes)" 0 "and, nothing having changed, writes nothing"

l2s_run full -c "$cfg" sync --full
like "$l2s_stderr" "full read: asked for" "sync --full reads everything"
equal full "after sync --full the SCIM server equals LDAP"

clean_flag() { sqlite3 "$state" "select count(*) from meta where name = 'incremental.clean'"; }
is "$(clean_flag)" 1 "a cycle that applied everything leaves the clean mark"
write_config "$tmp/plain.yaml" users_filter="(&(objectClass=inetOrgPerson)(!(employeeType=left)))"
l2s_run plain -c "$tmp/plain.yaml" sync
is "$l2s_rc/$(clean_flag)" 0/0 \
    "a cycle without incremental reads removes it (its outcome is not the snapshot's)"

write_config "$tmp/memberof.yaml" \
    users_filter="(&(objectClass=inetOrgPerson)(!(memberOf=cn=nobody,$LDAP_BASE)))" \
    sync_extra="  incremental: true"
l2s_run memberof -c "$tmp/memberof.yaml" sync --dry-run
like "$l2s_stderr" "full read: a filter uses memberOf" \
    "a users filter on memberOf (changed without the user) always reads everything"

# A server that offers no content sync: said, and every cycle reads it all.
syncprov() {
	printf 'dn: olcOverlay={2}syncprov,olcDatabase={1}mdb,cn=config\nchangetype: modify\nreplace: olcDisabled\nolcDisabled: %s\n' "$1" >"$tmp/syncprov.ldif"
	slapd_config "$tmp/syncprov.ldif"
}
syncprov TRUE
ok $? "slapd's syncprov overlay is switched off"
slapd_modify /dev/stdin <<LDIF
dn: $(uid_dn user00060)
changetype: modify
replace: title
title: Read In Full
LDIF
l2s_run nosync1 -c "$cfg" sync
is "$l2s_rc" 0 "without content sync the cycle still succeeds" || diag "$l2s_stderr"
like "$l2s_stderr" "full read: the content sync search failed" "through a full read"
like "$l2s_stderr" "incremental reads need the syncprov overlay" "and says what is missing"
is "$(scim_user user00060 .title)" "Read In Full" "the change arrives"
l2s_run nosync2 -c "$cfg" sync
like "$l2s_stderr" "full read: no earlier full read" "the next cycle reads everything again"
syncprov FALSE
l2s_run resync1 -c "$cfg" sync
l2s_run resync2 -c "$cfg" sync
like "$l2s_stderr" "incremental read: 0 entries changed" \
    "once syncprov is back, incremental reads resume after one full read"
equal resync "and the SCIM server still equals LDAP"

tap_done
