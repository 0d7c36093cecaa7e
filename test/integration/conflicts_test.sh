#!/usr/bin/env bash
# conflicts_test.sh - a SCIM service that already holds some of the objects:
# the first sync adopts them (no duplicate) and makes them what LDAP says; a
# user deleted and re-created in LDAP (new entryUUID, same uid) takes its
# remote user over; groups.on_conflict adopt | skip | fail; and remote
# objects the agent does not own are never modified or removed.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"

# 50 users, 6 groups (group001 > group002 > group003 nested)
lab_start conflicts --users 50 --groups 6 --nested --seed 5
cfg="$tmp/l2s.yaml"
write_config "$cfg"

ENT=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
# The objects the test puts on the server that LDAP knows nothing about.
unowned='["seed-outsider","seed-outsiders"]'

# compare NAME without the unowned objects (the oracle wants every remote
# object to come from LDAP); also checks the whole dump for duplicates.
compare_owned() {
	ldap_dump || { diag "ldapsearch failed: $(cat "$tmp/ldapsearch.err")"; return 1; }
	scim_dump >"$tmp/full-$1.json" || return 1
	jq --argjson ids "$unowned" '{Users: [.Users[] | select(.id as $i | $ids | index($i) | not)],
	    Groups: [.Groups[] | select(.id as $i | $ids | index($i) | not)]}' \
	    "$tmp/full-$1.json" >"$tmp/dump.json"
	python3 "$top/test/lib/scim_compare.py" "$tmp/users.ldif" "$tmp/groups.ldif" \
	    "$tmp/dump.json" >"$tmp/compare-$1.txt" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || diag "$(head -n 20 "$tmp/compare-$1.txt")"
	local dups
	dups=$(jq -r '[(.Users | map(.userName | ascii_downcase) | group_by(.)[] | select(length > 1) | .[0]),
	    (.Groups | map(.displayName | ascii_downcase) | group_by(.)[] | select(length > 1) | .[0])] | join(" ")' \
	    "$tmp/full-$1.json")
	[ -z "$dups" ] || { diag "duplicate names on the server: $dups"; rc=1; }
	return $rc
}
unowned_json() {
	scim_dump | jq -S --argjson ids "$unowned" '[(.Users + .Groups)[] | select(.id as $i | $ids | index($i))]'
}
remote() {	# remote TYPE ATTR VALUE: the one resource with that value, as JSON
	scim_dump | jq -S --arg a "$2" --arg v "$3" "[.$1[] | select(.[\$a] == \$v)]"
}
uuid_of() {	# the entryUUID of an LDAP entry
	slapd_search -b "$1" -s base entryUUID | sed -n 's/^entryUUID: //p'
}

# --- first sync against a server that already holds some objects ---------
cat >"$tmp/seed.json" <<JSON
{"Users": [
  {"id": "seed-u1", "userName": "user00001", "displayName": "Stale One", "title": "Old Title",
   "active": false},
  {"id": "seed-u2", "userName": "user00002", "externalId": "legacy-0002", "displayName": "Stale Two",
   "emails": [{"type": "work", "value": "stale@example.org"}]},
  {"id": "seed-u3", "userName": "user00003", "externalId": "legacy-0003",
   "name": {"givenName": "Wrong", "familyName": "Name"},
   "phoneNumbers": [{"type": "work", "value": "+1 555 0100"}]},
  {"id": "seed-outsider", "userName": "outsider", "externalId": "not-from-ldap",
   "displayName": "Out Sider", "title": "Contractor", "active": true,
   "emails": [{"type": "work", "value": "outsider@example.net"}],
   "$ENT": {"employeeNumber": "X-1"}}
],
"Groups": [
  {"id": "seed-g4", "displayName": "group004", "members": [{"value": "seed-u1"}]},
  {"id": "seed-outsiders", "displayName": "outsiders", "externalId": "not-from-ldap-g",
   "members": [{"value": "seed-outsider"}]}
]}
JSON
scim_seed "$tmp/seed.json" >"$tmp/seed.out" 2>&1
ok $? "the SCIM server is seeded with 3 of the directory's users, one of its groups, and an outsider user and group" ||
    diag "$(cat "$tmp/seed.out")"
unowned_json >"$tmp/unowned-0.json"
is "$(jq length "$tmp/unowned-0.json")" 2 "the outsider and its group are on the server"

scim_reset_stats >/dev/null
l2s_run first -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0"
like "$l2s_stderr" "users 50 created, 0 updated, 0 deactivated, 0 deleted; groups 6 created" \
    "it counts the adopted objects as created"
like "$l2s_stderr" "; 4 adopted" "the summary says 4 adopted (3 users, 1 group)"
like "$l2s_stderr" "create user 'user00002': adopted the existing user \\(id seed-u2\\)" \
    "it logs each adoption with the remote id"
is "$(writes)" 60 "it sent 56 creates and one PUT per adoption (60 writes), nothing else"
compare_owned first
ok $? "the SCIM server equals LDAP (the outsider aside), with no duplicate"
is "$(jq '.Users | length' "$tmp/full-first.json") $(jq '.Groups | length' "$tmp/full-first.json")" "51 7" \
    "the server holds 50 + 1 users and 6 + 1 groups: nothing created twice"
u1=$(remote Users userName user00001)
is "$(jq -r '.[0] | "\(.id) \(.externalId) \(.active) \(.title)"' <<<"$u1")" \
    "seed-u1 $(uuid_of "uid=user00001,ou=people,$LDAP_BASE") true $(grep -A20 '^dn: uid=user00001,' "$tmp/data.ldif" | grep -m1 '^title:' | cut -d' ' -f2-)" \
    "the adopted user00001 keeps its id and gets its externalId, active and title from LDAP"
is "$(remote Users userName user00002 | jq -r '.[0] | "\(.id) \(.externalId)"')" \
    "seed-u2 $(uuid_of "uid=user00002,ou=people,$LDAP_BASE")" \
    "the adopted user00002's other externalId is replaced by its entryUUID"
is "$(remote Groups displayName group004 | jq -r '.[0] | "\(.id) \(.externalId)"')" \
    "seed-g4 $(uuid_of "cn=group004,ou=groups,$LDAP_BASE")" \
    "the adopted group004 keeps its id and gets its entryUUID"
unowned_json >"$tmp/unowned-1.json"
is "$(diff "$tmp/unowned-0.json" "$tmp/unowned-1.json")" "" \
    "the outsider user and the outsiders group are untouched (whole JSON, meta included)"
is "$(jq -r '.[] | select(.id == "seed-outsider") | .active' "$tmp/unowned-1.json")" true "the outsider is still active"
is "$(jq -r '[.Groups[] | select(any(.members[]?; .value == "seed-outsider")) | .id] | join(" ")' "$tmp/full-first.json")" \
    seed-outsiders "the outsider is in no group but its own"
scim_reset_stats >/dev/null
l2s_run first-again -c "$cfg" sync
is "$l2s_rc $(writes)" "0 0" "the next sync sends zero write requests"

# --- a user deleted and re-created in LDAP ------------------------------------
entry_of() {	# the generated LDIF of user N, as ldapadd input
	awk -v dn="dn: uid=$1,ou=people,$LDAP_BASE" 'BEGIN { RS = ""; ORS = "\n\n" } index($0, dn "\n") == 1' \
	    "$tmp/data.ldif"
}
old10=$(uuid_of "uid=user00010,ou=people,$LDAP_BASE")
id10=$(remote Users userName user00010 | jq -r '.[0].id')
{
	printf 'dn: uid=user00010,ou=people,%s\nchangetype: delete\n\n' "$LDAP_BASE"
	entry_of user00010 | sed 's/^\(dn: .*\)$/\1\nchangetype: add/'
	printf 'dn: cn=group005,ou=groups,%s\nchangetype: modify\nadd: member\nmember: uid=user00010,ou=people,%s\n\n' \
	    "$LDAP_BASE" "$LDAP_BASE"
} >"$tmp/recreate10.ldif"
slapd_modify "$tmp/recreate10.ldif" >"$tmp/modify.log" 2>&1
ok $? "user00010 is deleted and added again in LDAP (and put in group005)" || diag "$(cat "$tmp/modify.log")"
new10=$(uuid_of "uid=user00010,ou=people,$LDAP_BASE")
test -n "$new10" && test "$new10" != "$old10"
ok $? "the re-created user00010 has a new entryUUID"

l2s_run recreate10 -c "$cfg" sync
is "$l2s_rc" 0 "the sync after the re-creation exits 0"
like "$l2s_stderr" "user 'user00010': the directory object behind id $id10 was re-created; the new one takes it over" \
    "it says the new directory user takes the remote user over"
is "$(remote Users userName user00010 | jq -r 'map("\(.id) \(.active) \(.externalId)") | join(", ")')" \
    "$id10 true $new10" \
    "exactly one remote user00010: the same one, active, with the new entryUUID as externalId"
l2s_run export10 -c "$cfg" state export
is "$(jq -r --arg k "$old10" '[.users[] | select(.key == $k)] | length' <<<"$l2s_stdout")" 0 \
    "state export no longer lists the old key"
is "$(jq -r --arg k "$new10" '[.users[] | select(.key == $k)][0].scim_id' <<<"$l2s_stdout")" "$id10" \
    "state export lists the new key with the remote user's id"
l2s_run show10 -c "$cfg" state show
unlike "$l2s_stdout" "$old10" "state show does not name the old key"
like "$l2s_stdout" "users: 50 \\(0 deactivated" "state show counts 50 users, none deactivated"
compare_owned recreate10
ok $? "the SCIM server equals LDAP (user00010 back in group005)"

# the same, with a cycle in between that deactivates the leaver
old11=$(uuid_of "uid=user00011,ou=people,$LDAP_BASE")
id11=$(remote Users userName user00011 | jq -r '.[0].id')
printf 'dn: uid=user00011,ou=people,%s\nchangetype: delete\n\n' "$LDAP_BASE" >"$tmp/del11.ldif"
slapd_modify "$tmp/del11.ldif" >/dev/null 2>&1
l2s_run del11 -c "$cfg" sync
is "$l2s_rc $(remote Users userName user00011 | jq -r '.[0].active')" "0 false" \
    "user00011 deleted in LDAP is deactivated"
entry_of user00011 | sed 's/^\(dn: .*\)$/\1\nchangetype: add/' >"$tmp/add11.ldif"
slapd_modify "$tmp/add11.ldif" >"$tmp/modify.log" 2>&1
ok $? "user00011 is added again in LDAP a cycle later" || diag "$(cat "$tmp/modify.log")"
new11=$(uuid_of "uid=user00011,ou=people,$LDAP_BASE")
l2s_run recreate11 -c "$cfg" sync
is "$l2s_rc" 0 "the sync after the late re-creation exits 0"
is "$(remote Users userName user00011 | jq -r 'map("\(.id) \(.active) \(.externalId)") | join(", ")')" \
    "$id11 true $new11" \
    "exactly one remote user00011: the deactivated one, active again, with the new entryUUID"
l2s_run export11 -c "$cfg" state export
is "$(jq -r --arg k "$old11" '[.users[] | select(.key == $k)] | length' <<<"$l2s_stdout")" 0 \
    "state export no longer lists user00011's old key"
compare_owned recreate11
ok $? "the SCIM server equals LDAP"
scim_reset_stats >/dev/null
l2s_run recreate-again -c "$cfg" sync
is "$l2s_rc $(writes)" "0 0" "the next sync sends zero write requests"

# --- groups.on_conflict -----------------------------------------------------
id30=$(remote Users userName user00030 | jq -r '.[0].id')
printf '{"Groups": [{"id": "seed-team", "displayName": "team", "members": [{"value": "%s"}]}]}\n' \
    "$id30" >"$tmp/seed-team.json"
scim_seed "$tmp/seed-team.json" >"$tmp/seed.out" 2>&1
ok $? "a remote group 'team' exists with user00030 as its one member" || diag "$(cat "$tmp/seed.out")"
cat >"$tmp/team.ldif" <<LDIF
dn: cn=team,ou=groups,$LDAP_BASE
objectClass: groupOfNames
cn: team
member: uid=user00020,ou=people,$LDAP_BASE
member: uid=user00021,ou=people,$LDAP_BASE
LDIF
slapd_add "$tmp/team.ldif" >"$tmp/modify.log" 2>&1
ok $? "a group 'team' (user00020, user00021) is added in LDAP" || diag "$(cat "$tmp/modify.log")"
team0=$(remote Groups displayName team)

write_config "$tmp/skip.yaml" groups_extra="  on_conflict: skip"
l2s_run skip -c "$tmp/skip.yaml" sync
is "$l2s_rc" 0 "on_conflict: skip exits 0"
like "$l2s_stderr" "create group 'team': .*on_conflict is skip" "and logs a warning naming the group"
like "$l2s_stderr" "1 conflicts skipped" "the summary counts the skipped conflict"
is "$(remote Groups displayName team)" "$team0" "the remote group is left exactly as it was (members unchanged)"

write_config "$tmp/fail.yaml" groups_extra="  on_conflict: fail"
l2s_run fail -c "$tmp/fail.yaml" sync
is "$l2s_rc" 1 "on_conflict: fail exits 1"
like "$l2s_stderr" "'team'.*on_conflict" "with a message naming the group and on_conflict"
is "$(remote Groups displayName team)" "$team0" "the remote group is still left as it was"

l2s_run adopt -c "$cfg" sync
is "$l2s_rc" 0 "on_conflict: adopt (the default) exits 0"
like "$l2s_stderr" "; 1 adopted" "and adopts the group"
is "$(remote Groups displayName team | jq -r '.[0] | "\(.id) \(.externalId) \(.members | length)"')" \
    "seed-team $(uuid_of "cn=team,ou=groups,$LDAP_BASE") 2" \
    "the adopted group keeps its id, gets its entryUUID and LDAP's two members"
compare_owned adopt
ok $? "the SCIM server equals LDAP (user00030 no longer in 'team')"

# --- objects the agent does not own, with removal: delete -------------------
write_config "$tmp/delete.yaml" removal=delete max_removals=10
{
	for i in 40 41 42; do
		printf 'dn: uid=user%05d,ou=people,%s\nchangetype: delete\n\n' "$i" "$LDAP_BASE"
	done
	printf 'dn: cn=group005,ou=groups,%s\nchangetype: delete\n\n' "$LDAP_BASE"
} >"$tmp/leavers.ldif"
slapd_modify "$tmp/leavers.ldif" >"$tmp/modify.log" 2>&1
ok $? "3 users and group005 are deleted in LDAP" || diag "$(cat "$tmp/modify.log")"
unowned_json >"$tmp/unowned-2.json"
l2s_run delete -c "$tmp/delete.yaml" sync
is "$l2s_rc" 0 "the sync with removal: delete exits 0"
like "$l2s_stderr" "users 0 created, 0 updated, 0 deactivated, 3 deleted; groups 0 created, [0-9]+ updated, 1 deleted" \
    "it deletes the 3 users and the group"
compare_owned delete
ok $? "the SCIM server equals LDAP"
unowned_json >"$tmp/unowned-3.json"
is "$(diff "$tmp/unowned-0.json" "$tmp/unowned-3.json")" "" \
    "the outsider user and group are exactly as seeded, after every step (whole JSON, meta included)"

# --- state reset: everything is recorded again, the outsider still untouched --
l2s_run reset -c "$cfg" state reset --yes
is "$l2s_rc" 0 "state reset --yes exits 0"
scim_reset_stats >/dev/null
l2s_run after-reset -c "$cfg" sync
is "$l2s_rc" 0 "the sync after a state reset exits 0"
nu=$(grep -c '^dn: ' "$tmp/users.ldif")
ng=$(grep -c '^dn: ' "$tmp/groups.ldif")
like "$l2s_stderr" "$nu Users with a directory key were already on the SCIM service: recorded as they are" \
    "an empty state lists the remote users once and records every one of the $nu users"
like "$l2s_stderr" "$ng Groups with a directory key were already on the SCIM service: recorded as they are" \
    "and every one of the $ng groups"
is "$(scim_stats --no-log | jq -r .writes)" 0 "nothing needed a write: nothing was created again"
compare_owned after-reset
ok $? "the SCIM server equals LDAP, with no duplicate"
is "$(jq '.Users | length' "$tmp/full-after-reset.json")" $((nu + 1)) \
    "no user was created twice ($nu from LDAP and the outsider)"
unowned_json >"$tmp/unowned-4.json"
is "$(diff "$tmp/unowned-0.json" "$tmp/unowned-4.json")" "" "the outsider user and group are still untouched"

# --- state lost, then a rename in LDAP: no 409 to lean on -----------------
# The man page: after `state reset` the creates "meet 409 conflicts and the
# existing objects are adopted".  A user renamed meanwhile meets no 409 (its
# userName is new), but the server still holds it under its externalId.
uuid20=$(uuid_of "uid=user00020,ou=people,$LDAP_BASE")
id20=$(remote Users externalId "$uuid20" | jq -r '.[0].id')
l2s_run reset2 -c "$cfg" state reset --yes
printf 'dn: uid=user00020,ou=people,%s\nchangetype: modrdn\nnewrdn: uid=renamed00020\ndeleteoldrdn: 1\n\n' \
    "$LDAP_BASE" >"$tmp/rename20.ldif"
slapd_modify "$tmp/rename20.ldif" >"$tmp/modify.log" 2>&1
ok $? "with the state reset, user00020 is renamed renamed00020 in LDAP" || diag "$(cat "$tmp/modify.log")"
l2s_run reset-rename -c "$cfg" sync
is "$l2s_rc" 0 "the sync after the reset and the rename exits 0"
is "$(remote Users externalId "$uuid20" | jq -r 'map("\(.id) \(.userName)") | join(", ")')" \
    "$id20 renamed00020" \
    "exactly one remote user has user00020's externalId: the existing one, renamed"
compare_owned reset-rename
ok $? "the SCIM server equals LDAP, with no duplicate externalId"

# no secret anywhere
leaks=$(grep -rlF -e "$password" -e "$token" "$L2S_OUT" "$tmp"/state.db* 2>/dev/null)
is "$leaks" "" "neither the bind password nor the token appears in any output"

tap_done
