#!/usr/bin/env bash
# sync_test.sh - the core agent end to end, against a real slapd and a real
# SCIM server (scimmy): dry run, first sync, no-op sync, every kind of LDAP
# change, bad input with its exit codes, the removal guard, and the rule
# that no secret ever shows in any output.  The SCIM side is checked by an
# oracle written apart from the agent (test/lib/scim_compare.py).
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"

# 1,000 users, 50 groups (one of 800 members, a nested chain)
lab_start sync --users 1000 --groups 50 --big-group 800 --nested --seed 7
cfg="$tmp/l2s.yaml"
write_config "$cfg"

# --- dry run -----------------------------------------------------------
scim_reset_stats
l2s_run dryrun -c "$cfg" sync --dry-run
is "$l2s_rc" 0 "sync --dry-run exits 0"
is "$(grep -c '^+ create user ' <<<"$l2s_stdout")" 1000 "the dry run plans 1,000 user creates"
is "$(grep -c '^+ create group ' <<<"$l2s_stdout")" 50 "the dry run plans 50 group creates"
like "$l2s_stdout" "plan: users: 1000 to create, 0 to update, 0 to deactivate, 0 to delete; groups: 50 to create" \
    "the dry run ends with the counts"
like "$l2s_stdout" "userName: 'user00001'" "the dry run shows the attributes each create sends"
like "$l2s_stdout" "      \\+ member 'user00800'" "the dry run shows group members by userName"
is "$(requests)" 0 "the dry run sent no request at all to the SCIM server"
test ! -e "$tmp/state.db"
ok $? "the dry run created no state file"
test ! -e "$tmp/state.db.lock"
ok $? "the dry run took no lock file"

l2s_run dryrun-json -c "$cfg" sync --dry-run --json
is "$l2s_rc" 0 "sync --dry-run --json exits 0"
is "$(jq -r '.operations | length' <<<"$l2s_stdout")" 1050 "the JSON plan lists 1,050 operations"
is "$(jq -r '.summary.create_user' <<<"$l2s_stdout")" 1000 "the JSON summary counts 1,000 user creates"
is "$(jq -r '[.operations[] | select(.type == "group" and .name == "group000")][0].members_added | length' <<<"$l2s_stdout")" \
    800 "the JSON plan gives group000 its 800 members"
is "$(jq -r '[.operations[] | select(.name == "user00002")][0].after.title' <<<"$l2s_stdout")" \
    "$(grep -A20 '^dn: uid=user00002,' "$tmp/data.ldif" | grep -m1 '^title:' | cut -d' ' -f2-)" \
    "the JSON plan shows the after value of a mapped attribute"
is "$(requests)" 0 "the JSON dry run sent no request either"

# --- first sync --------------------------------------------------------
scim_reset_stats
l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0"
like "$l2s_stderr" "cycle done in [0-9.]+ s: read 1000 users, 50 groups; users 1000 created, 0 updated, 0 deactivated, 0 deleted; groups 50 created" \
    "the first sync logs one summary line with the counts"
is "$(grep -c . <<<"$l2s_stderr")" 1 "a quiet cycle logs exactly one line"
is "$(writes)" 1050 "the first sync sent exactly 1,050 write requests (one per object)"
compare first
ok $? "after the first sync the SCIM server equals LDAP (attributes, managers, exact memberships)"
is "$(jq '[.Groups[] | select(.displayName == "group000")][0].members | length' "$tmp/dump.json")" 800 \
    "group000 holds its 800 members"
is "$(jq '[.Users[] | select(.active == true)] | length' "$tmp/dump.json")" 1000 "all 1,000 users are active"

# --- no change: no write -----------------------------------------------
scim_reset_stats
l2s_run sync2 -c "$cfg" sync
is "$l2s_rc" 0 "a second sync with no LDAP change exits 0"
is "$(writes)" 0 "a second sync with no LDAP change sends zero write requests"
like "$l2s_stderr" "users 0 created, 0 updated, 0 deactivated, 0 deleted; groups 0 created, 0 updated, 0 deleted" \
    "and says so"

# --- every kind of change ----------------------------------------------
id_of() { jq -r --arg u "$1" '[.Users[] | select(.userName == $u)][0].id' "$tmp/dump.json"; }
moved_id=$(id_of user00005)
deleted_id=$(id_of user00006)
cat >"$tmp/changes.ldif" <<LDIF
dn: uid=user00002,ou=people,$LDAP_BASE
changetype: modify
replace: title
title: Chief Tester

dn: uid=user00003,ou=people,$LDAP_BASE
changetype: modify
delete: telephoneNumber

dn: uid=user00004,ou=people,$LDAP_BASE
changetype: modrdn
newrdn: uid=renamed00004
deleteoldrdn: 1

dn: uid=user00005,ou=people,$LDAP_BASE
changetype: modrdn
newrdn: uid=user00005
deleteoldrdn: 1
newsuperior: ou=people2,$LDAP_BASE

dn: uid=user00006,ou=people,$LDAP_BASE
changetype: delete

dn: uid=user00007,ou=people,$LDAP_BASE
changetype: modify
add: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z

dn: cn=group000,ou=groups,$LDAP_BASE
changetype: modify
add: member
member: uid=user00900,ou=people,$LDAP_BASE
-
delete: member
member: uid=user00010,ou=people,$LDAP_BASE

dn: cn=group049,ou=groups,$LDAP_BASE
changetype: modrdn
newrdn: cn=renamed049
deleteoldrdn: 1
LDIF
slapd_modify "$tmp/changes.ldif" >"$tmp/modify.log" 2>&1
ok $? "the LDAP changes apply" || diag "$(cat "$tmp/modify.log")"

l2s_run dryrun-changes -c "$cfg" sync --dry-run --json
plan="$l2s_stdout"
is "$l2s_rc" 0 "the dry run after the changes exits 0"
is "$(jq -r '[.operations[] | select(.type == "user") | "\(.op) \(.name)"] | sort | join(",")' <<<"$plan")" \
    "deactivate user00006,update renamed00004,update user00002,update user00003,update user00007" \
    "the plan updates exactly the changed users and deactivates the deleted one"
is "$(jq -r '[.operations[] | select(.name == "user00005")] | length' <<<"$plan")" 0 \
    "the moved user (new DN, same entryUUID) needs no operation at all"
is "$(jq -r '[.operations[] | select(.name == "user00002")][0] | "\(.before.title) -> \(.after.title)"' <<<"$plan")" \
    "$(grep -A20 '^dn: uid=user00002,' "$tmp/data.ldif" | grep -m1 '^title:' | cut -d' ' -f2-) -> Chief Tester" \
    "the plan shows the title before and after"
is "$(jq -r '[.operations[] | select(.name == "user00003")][0].after["phoneNumbers[type eq \"work\"].value"]' <<<"$plan")" \
    null "the plan shows the removed telephone number as gone"
is "$(jq -r '[.operations[] | select(.name == "renamed00004")][0] | "\(.before.userName) -> \(.after.userName)"' <<<"$plan")" \
    "user00004 -> renamed00004" "the uid rename is an update of userName"
is "$(jq -r '[.operations[] | select(.name == "user00007")][0].after.active' <<<"$plan")" false \
    "the locked user is updated to active false"
is "$(jq -r '[.operations[] | select(.name == "group000")][0] | "\([.members_added[].name] | join(" ")) / \([.members_removed[].name] | sort | join(" "))"' <<<"$plan")" \
    "user00900 / user00006 user00010" "group000 gets a member delta, not its 800-member list"
is "$(jq -r '[.operations[] | select(.name == "renamed049")][0] | "\(.op) \(.before.displayName) -> \(.after.displayName)"' <<<"$plan")" \
    "update group049 -> renamed049" "the renamed group is an update"
is "$(jq -r '[.operations[] | select(.type == "group" and .name != "group000" and .name != "renamed049") | select((.members_added | length) > 0 or ([.members_removed[].name] != ["user00006"]))] | length' <<<"$plan")" \
    0 "every other group update only takes out the deleted user"
nops=$(jq -r '.operations | length' <<<"$plan")

scim_reset_stats
l2s_run sync3 -c "$cfg" sync
is "$l2s_rc" 0 "the sync after the changes exits 0"
stats=$(scim_stats)
is "$(jq -r .writes <<<"$stats")" "$nops" "it sends one write request per planned operation ($nops)"
is "$(jq -r '[.log[] | select(.method == "POST" or .method == "DELETE" or .method == "PUT")] | length' <<<"$stats")" 0 \
    "no create, delete or full replace was sent: moves and renames are updates"
g0=$(jq -r '[.Groups[] | select(.displayName == "group000")][0].id' "$tmp/dump.json")
g0_bytes=$(jq -r --arg p "/Groups/$g0" '[.log[] | select(.method == "PATCH" and (.path | endswith($p)))] | map(.bytes // 0) | add // 0' <<<"$stats")
is "$(jq -r --arg p "/Groups/$g0" '[.log[] | select(.method == "PATCH" and (.path | endswith($p)))] | length' <<<"$stats")" 1 \
    "the 800-member group's change is one PATCH"
test "$g0_bytes" -gt 0 && test "$g0_bytes" -lt 1000
ok $? "and a small one ($g0_bytes bytes, not the member list)"
compare changes
ok $? "after the changes the SCIM server equals LDAP again"
scim_dump >"$tmp/dump2.json"
is "$(jq -r --arg id "$moved_id" '[.Users[] | select(.id == $id)][0].active' "$tmp/dump2.json")" true \
    "the moved user keeps its SCIM id and stays active"
is "$(jq -r --arg id "$deleted_id" '[.Users[] | select(.id == $id)][0].active' "$tmp/dump2.json")" false \
    "the deleted user is deactivated, not deleted"
is "$(jq -r --arg id "$deleted_id" '[.Groups[] | select(any(.members[]?; .value == $id))] | length' "$tmp/dump2.json")" 0 \
    "and is in no group any more"

scim_reset_stats
l2s_run sync4 -c "$cfg" sync
is "$(writes)" 0 "the next sync after the changes sends zero write requests"

# --- bad input: clear errors, documented exit codes, nothing changes ----
scim_reset_stats
printf 'ldap:\n  uri: [ldap://127.0.0.1\n  base_dn: x\n' >"$tmp/malformed.yaml"
l2s_run bad-yaml -c "$tmp/malformed.yaml" sync
is "$l2s_rc" 2 "malformed YAML exits 2"
like "$l2s_stderr" "malformed\\.yaml:[0-9]+:[0-9]+: " "and names file:line:col"
is "$(grep -c . <<<"$l2s_stderr")" 1 "in one line"

write_config "$tmp/unknown.yaml" extra="  frobnicate: 1"
l2s_run unknown-key -c "$tmp/unknown.yaml" sync
is "$l2s_rc" 2 "an unknown key exits 2"
like "$l2s_stderr" "unknown\\.yaml:[0-9]+:[0-9]+: unknown key 'ldap\\.frobnicate'" "and names the key and its place"

write_config "$tmp/nopass.yaml" pass_file="$tmp/no-such.pass"
l2s_run no-pass -c "$tmp/nopass.yaml" sync
is "$l2s_rc" 2 "a missing password file exits 2"
like "$l2s_stderr" "no-such\\.pass" "and names the file"

write_config "$tmp/unreachable.yaml" uri="ldap://127.0.0.1:1"
l2s_run unreachable -c "$tmp/unreachable.yaml" sync
is "$l2s_rc" 3 "an unreachable LDAP server exits 3"
like "$l2s_stderr" "127\\.0\\.0\\.1:1" "and names the URI"

printf 'not-the-password\n' >"$tmp/wrong.pass"; chmod 600 "$tmp/wrong.pass"
write_config "$tmp/wrongpass.yaml" pass_file="$tmp/wrong.pass"
l2s_run wrong-pass -c "$tmp/wrongpass.yaml" sync
is "$l2s_rc" 3 "a wrong bind password exits 3"
like "$l2s_stderr" "[Ii]nvalid [Cc]redentials" "and says the credentials were refused"

printf 'not-the-token\n' >"$tmp/wrong.token"; chmod 600 "$tmp/wrong.token"
write_config "$tmp/wrongtoken.yaml" token_file="$tmp/wrong.token"
l2s_run scim-401 -c "$tmp/wrongtoken.yaml" sync
is "$l2s_rc" 4 "a SCIM 401 exits 4"
like "$l2s_stderr" "401" "and names the status"
l2s_run check-401 -c "$tmp/wrongtoken.yaml" check
is "$l2s_rc" 4 "check with a refused token exits 4"
is "$(writes)" 0 "none of the bad runs wrote anything to the SCIM server"

l2s_run check -c "$cfg" check
is "$l2s_rc" 0 "check with the good config exits 0"
like "$l2s_stderr" "check passed" "and says so"

# --- lock and guard ----------------------------------------------------
l2s_while_locked "$tmp/state.db.lock" locked -c "$cfg" sync
is "$l2s_rc" 6 "a sync while another run holds the lock exits 6"
like "$l2s_stderr" "lock" "and says a lock is held"

write_config "$tmp/empty.yaml" users_filter="(uid=nobody-at-all)"
scim_reset_stats
l2s_run empty-read -c "$tmp/empty.yaml" sync
is "$l2s_rc" 5 "an empty users search with a non-empty state exits 5"
like "$l2s_stderr" "returned no entries" "and explains the refusal"
is "$(writes)" 0 "and sends nothing"

for i in $(seq 100 159); do
	printf 'dn: uid=user%05d,ou=people,%s\nchangetype: delete\n\n' "$i" "$LDAP_BASE"
done >"$tmp/mass-delete.ldif"
slapd_modify "$tmp/mass-delete.ldif" >/dev/null 2>&1
ok $? "60 users are deleted in LDAP"
scim_reset_stats
l2s_run guard -c "$cfg" sync
is "$l2s_rc" 5 "60 removals over the 5% limit exit 5"
like "$l2s_stderr" "refusing 60 removals" "and give the count"
like "$l2s_stderr" "deactivate user 'user00100'" "and name the first objects"
is "$(writes)" 0 "a refused cycle sends nothing"
l2s_run guard-force -c "$cfg" sync --force
is "$l2s_rc" 0 "--force lifts the removal limit"
compare forced
ok $? "after the forced sync the SCIM server equals LDAP"

# --- the polling loop: SIGHUP reloads, SIGTERM stops ---------------------
printf 'dn: uid=user00011,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: Loop Title\n\n' \
    "$LDAP_BASE" >"$tmp/loop.ldif"
l2s_loop_start run -c "$cfg" run
slapd_modify "$tmp/loop.ldif" >/dev/null 2>&1
seen=""
for _ in $(seq 1 100); do
	seen=$(scim_dump | jq -r '[.Users[] | select(.userName == "user00011")][0].title')
	[ "$seen" = "Loop Title" ] && break
	sleep 0.2
done
is "$seen" "Loop Title" "run picks up an LDAP change on its next cycle"
l2s_loop_reload
for _ in $(seq 1 50); do grep -q "reloaded" "$L2S_OUT/run.err" && break; sleep 0.2; done
like "$(cat "$L2S_OUT/run.err")" "configuration reloaded" "SIGHUP reloads the configuration"
l2s_loop_stop
l2s_loop_wait 10
is "$l2s_loop_rc" 0 "SIGTERM stops run cleanly with exit 0"
like "$(cat "$L2S_OUT/run.err")" "stopped" "and it says it stopped"

# --- state inspection --------------------------------------------------
l2s_run state-show -c "$cfg" state show
is "$l2s_rc" 0 "state show exits 0"
like "$l2s_stdout" "users: 1000 \\(61 deactivated" "state show counts users and deactivated ones"
l2s_run state-export -c "$cfg" state export
is "$(jq '.users | length' <<<"$l2s_stdout")" 1000 "state export lists every user as JSON"
jq -r '.users[].key' <<<"$l2s_stdout" | LC_ALL=C sort -c 2>/dev/null &&
    jq -r '.groups[].key' <<<"$l2s_stdout" | LC_ALL=C sort -c 2>/dev/null
ok $? "state export lists users and groups in the order of their keys"

# --- users.email_domains: who is out of scope is in the plan -------------
# A new state, and a domain list that keeps only user00001's address.
sed -e "s|^  state: .*|  state: $tmp/domains.db|" \
    -e "s|^  disabled_filter: |  email_domains: [example.org]\n  disabled_filter: |" "$cfg" >"$tmp/domains.yaml"
cat >"$tmp/domains.ldif" <<LDIF
dn: uid=user00001,ou=people,$LDAP_BASE
changetype: modify
replace: mail
mail: User00001@Example.ORG
LDIF
slapd_modify "$tmp/domains.ldif" >/dev/null 2>&1
l2s_run domains -c "$tmp/domains.yaml" sync --dry-run
is "$l2s_rc" 0 "a dry run with users.email_domains exits 0"
like "$l2s_stdout" "create user 'user00001'" "the user on a listed domain (any case) is planned"
is "$(grep -c '^+ create user ' <<<"$l2s_stdout")" 1 "and no other"
like "$l2s_stdout" "! skip user 'uid=user00002,ou=people,$LDAP_BASE': skipped: email 'user00002@example.com' is not on a domain of users.email_domains" \
    "each user on another domain is shown as skipped, with the reason"
skips=$(grep -c '^! skip user ' <<<"$l2s_stdout")
l2s_run domains-json -c "$tmp/domains.yaml" sync --dry-run --json
is "$(jq '[.skipped[] | select(.type == "user" and (.reason | test("not on a domain")))] | length' \
    <<<"$l2s_stdout")" "$skips" "the JSON plan lists the same users under skipped"

# --- no secret anywhere ------------------------------------------------
leaks=$(grep -rlF -e "$password" -e "$token" "$L2S_OUT" "$tmp"/state.db* 2>/dev/null)
is "$leaks" "" "neither the bind password nor the token appears in any output, plan or the state file"

tap_done
