#!/usr/bin/env bash
# put_fallback_test.sh - a SCIM service whose ServiceProviderConfig says it
# has no PATCH gets full PUTs instead, and still ends equal to LDAP; and
# sync.removal: delete deletes leavers (and groups) instead of deactivating.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"

SCIM_SERVER_NO_PATCH=1 lab_start putfb --users 40 --groups 6 --big-group 30 --nested --seed 3
cfg="$tmp/l2s.yaml"
write_config "$cfg" removal=delete max_removals=10

l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0"
compare first
ok $? "the SCIM server equals LDAP after the first sync"

cat >"$tmp/changes.ldif" <<LDIF
dn: uid=user00002,ou=people,$LDAP_BASE
changetype: modify
replace: title
title: Put Tester

dn: uid=user00003,ou=people,$LDAP_BASE
changetype: modify
delete: telephoneNumber

dn: uid=user00004,ou=people,$LDAP_BASE
changetype: delete

dn: cn=group000,ou=groups,$LDAP_BASE
changetype: modify
delete: member
member: uid=user00010,ou=people,$LDAP_BASE

dn: cn=group005,ou=groups,$LDAP_BASE
changetype: delete
LDIF
slapd_modify "$tmp/changes.ldif" >"$tmp/modify.log" 2>&1
ok $? "the LDAP changes apply" || diag "$(cat "$tmp/modify.log")"
gone_id=$(scim_dump | jq -r '[.Users[] | select(.userName == "user00004")][0].id')

scim_reset_stats
l2s_run sync2 -c "$cfg" sync
is "$l2s_rc" 0 "the sync after the changes exits 0"
stats=$(scim_stats)
is "$(jq '[.log[] | select(.method == "PATCH")] | length' <<<"$stats")" 0 \
    "no PATCH is sent to a service that does not offer it"
ok "$([ "$(jq '[.log[] | select(.method == "PUT")] | length' <<<"$stats")" -ge 3 ]; echo $?)" \
    "the updates went as full PUTs"
is "$(jq '[.log[] | select(.method == "DELETE")] | length' <<<"$stats")" 2 \
    "removal: delete sends one DELETE for the user and one for the group"
compare changes
ok $? "the SCIM server equals LDAP after the changes"
is "$(scim_dump | jq --arg id "$gone_id" '[.Users[] | select(.id == $id)] | length')" 0 \
    "the deleted user is gone from the SCIM server"
scim_reset_stats
l2s_run sync3 -c "$cfg" sync
is "$(writes)" 0 "the next sync sends zero writes"
tap_done
