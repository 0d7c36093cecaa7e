#!/usr/bin/env bash
# regressions_test.sh - bugs found in review, each pinned by the scenario
# that showed it:
#  - a deactivated user that comes back still disabled needs no PATCH (an
#    empty PATCH is refused by RFC 7644 services, and failed every cycle);
#  - a user deleted on the SCIM side behind our back is created again AND
#    put back into its groups (its memberships used to stay in the state,
#    so the new user was never added);
#  - an unreachable SCIM service is not "ambiguous": nothing is looked up
#    or retried as if the create might have happened;
#  - ldap.dialect: ad against a server that is not AD is refused before the
#    read (member ranges asked of OpenLDAP come back empty: every group
#    would look emptied); so is groups.nested: in_chain (slapd answers the
#    in-chain rule with no entries, not an error).
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"

lab_start regress --users 30 --groups 4 --big-group 20 --seed 5
cfg="$tmp/l2s.yaml"
write_config "$cfg" users_filter="(&(objectClass=inetOrgPerson)(!(description=hidden)))"
l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0"

# --- a leaver that comes back disabled ---------------------------------------
printf 'dn: uid=user00004,ou=people,%s\nchangetype: modify\nadd: description\ndescription: hidden\n\n' \
    "$LDAP_BASE" >"$tmp/hide.ldif"
slapd_modify "$tmp/hide.ldif" >/dev/null 2>&1
l2s_run leave -c "$cfg" sync
like "$l2s_stderr" "1 deactivated" "user00004 leaves the users filter and is deactivated"
cat >"$tmp/back.ldif" <<LDIF
dn: uid=user00004,ou=people,$LDAP_BASE
changetype: modify
delete: description
-
add: pwdAccountLockedTime
pwdAccountLockedTime: 000001010000Z
LDIF
slapd_modify "$tmp/back.ldif" >/dev/null 2>&1
scim_reset_stats
l2s_run back -c "$cfg" sync
is "$l2s_rc" 0 "a user that comes back still disabled syncs cleanly (no empty PATCH)"
unlike "$l2s_stderr" "warning" "and nothing failed"
l2s_run show -c "$cfg" state show
like "$l2s_stdout" "users: 30 \\(0 deactivated" "the state no longer counts it as gone"
compare back
ok $? "the SCIM server equals LDAP"

# --- a user deleted behind our back is created again, in its groups ----------
uid=$(scim_dump | jq -r '[.Users[] | select(.userName == "user00002")][0].id')
ngroups=$(scim_dump | jq --arg id "$uid" '[.Groups[] | select(any(.members[]?; .value == $id))] | length')
ok "$([ "$ngroups" -ge 1 ]; echo $?)" "user00002 is in $ngroups groups"
scim_curl -X DELETE "$SCIM_URL/Users/$uid" >/dev/null
printf 'dn: uid=user00002,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: Returned\n\n' \
    "$LDAP_BASE" >"$tmp/touch.ldif"
slapd_modify "$tmp/touch.ldif" >/dev/null 2>&1
l2s_run notfound -c "$cfg" sync
is "$l2s_rc" 1 "an update of a user deleted on the SCIM side fails this cycle"
like "$l2s_stderr" "no longer exists on the SCIM service and will be created again" \
    "and says it will be created again"
l2s_run recreate -c "$cfg" sync
is "$l2s_rc" 0 "the next sync exits 0"
compare recreate
ok $? "the SCIM server equals LDAP: the user is back, in every one of its groups"
newid=$(scim_dump | jq -r '[.Users[] | select(.userName == "user00002")][0].id')
is "$(scim_dump | jq --arg id "$newid" '[.Groups[] | select(any(.members[]?; .value == $id))] | length')" \
    "$ngroups" "the new user is a member of the same $ngroups groups"

# --- several users in doubt at once, one the manager of the others ----------
# Their updates fail with 503 (retries: 0): each stays marked in doubt, and
# the next cycle reads them all back.  Reading one back replaces its record
# while the others still resolve their manager through it (a use after free
# that the sanitizer build of `make check` catches).
. "$top/test/lib/fault-proxy.sh"
fault_proxy_start "$tmp/fault" "http://127.0.0.1:$SCIM_PORT" >"$tmp/fault-start.log" 2>&1
ok $? "the fault proxy starts" || diag "$(cat "$tmp/fault-start.log")"
write_config "$tmp/doubt.yaml" scim_url="$FAULT_URL" scim_extra="  retries: 0" \
    users_filter="(&(objectClass=inetOrgPerson)(!(description=hidden)))"
# user00001 manages user00010, 00020 and 00030; the users between them in
# plan order (00002, 00011, 00021) succeed, so no run of failures ends the
# cycle early.
for u in 00001 00002 00010 00011 00020 00021 00030; do
	printf 'dn: uid=user%s,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: Doubt %s\n\n' \
	    "$u" "$LDAP_BASE" "$u"
done >"$tmp/doubt.ldif"
slapd_modify "$tmp/doubt.ldif" >/dev/null 2>&1
ids=$(scim_dump | jq -r '[.Users[] | select(.userName | test("^user000(01|10|20|30)$")) | .id] | join("|")')
fault_config "{\"rate\": 1, \"faults\": [\"503\"], \"match\": {\"methods\": [\"PATCH\"], \"path\": \"/Users/($ids)\$\"}}" >/dev/null
l2s_run doubt1 -c "$tmp/doubt.yaml" sync
is "$l2s_rc" 1 "updates answered 503 fail this cycle"
fault_reset >/dev/null
l2s_run doubt2 -c "$tmp/doubt.yaml" sync
is "$l2s_rc" 0 "the next cycle reads the users in doubt back and finishes"
is "$(grep -c 'read back after a change whose outcome was unknown' <<<"$l2s_stderr")" 4 \
    "all four users were read back"
compare doubt
ok $? "the SCIM server equals LDAP (titles and managers)"
fault_proxy_stop

# --- a SCIM service that is not there is not an ambiguous failure -----------
printf 'dn: uid=user00003,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: Nowhere\n\n' \
    "$LDAP_BASE" >"$tmp/t3.ldif"
slapd_modify "$tmp/t3.ldif" >/dev/null 2>&1
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
write_config "$tmp/closed.yaml" scim_url="http://127.0.0.1:$closed/scim/v2" \
    users_filter="(&(objectClass=inetOrgPerson)(!(description=hidden)))" scim_extra="  retries: 1"
l2s_run closed -c "$tmp/closed.yaml" sync
is "$l2s_rc" 4 "an unreachable SCIM service exits 4"
unlike "$l2s_stderr" "looking it up|reading the group back" "and nothing was treated as maybe-applied"

# --- ldap.dialect: ad against a server that is not AD --------------------------
sed 's/^  dialect: openldap$/  dialect: ad/' "$cfg" >"$tmp/ad.yaml"
grep -q '^  dialect: ad$' "$tmp/ad.yaml"
ok $? "a config that says dialect ad against slapd"
scim_reset_stats >/dev/null
l2s_run dialect -c "$tmp/ad.yaml" sync
is "$l2s_rc" 3 "is refused before the read (exit 3)"
like "$l2s_stderr" "ldap.dialect is ad, but 'ldap://127.0.0.1:[0-9]+' is not Active Directory" \
    "naming the server and the mismatch"
is "$(writes)" 0 "and nothing is sent"
sed 's/^  dialect: openldap$/  dialect: auto/; s/^  nested: flatten$/  nested: in_chain/' \
    "$cfg" >"$tmp/chain.yaml"
l2s_run chain -c "$tmp/chain.yaml" sync
is "$l2s_rc" 3 "nested: in_chain against slapd (dialect auto) is refused (exit 3)"
like "$l2s_stderr" "groups.nested is in_chain, but 'ldap://127.0.0.1:[0-9]+' is not Active Directory" \
    "saying why"
is "$(writes)" 0 "and no membership is removed"
tap_done
