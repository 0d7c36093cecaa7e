#!/usr/bin/env bash
# readme_atlassian_test.sh - the README's "Provisioning to Atlassian Cloud"
# config, as printed there, run against two fakes of Atlassian's SCIM API
# (test/scim-server/atlassian.js): employees to the organisation's
# directory, portal-only customers to a second one.  Only the addresses,
# secret files and state paths are pointed at this lab.  Checks what the
# atlassian profile promises: PATCH only (never PUT), users leaving
# deactivated (never DELETE), one primary email on a verified domain, a
# renamed group recreated, a group name already taken left alone.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"
. "$top/test/lib/atlassian-fake.sh"

lab_start readmeatl --users 10 --groups 3 --seed 11
E_ID=11111111-2222-3333-4444-555555555555 C_ID=66666666-7777-8888-9999-000000000000
ATL_VERIFIED_DOMAINS="example.com" ATL_DIRECTORY_ID=$E_ID \
    atl_server_start "$tmp/atl-employees" >"$tmp/atl1.log" 2>&1
ok $? "a fake of Atlassian's API starts for the organisation's directory" ||
    { diag "$(cat "$tmp/atl1.log")"; tap_done; exit 1; }
E_URL=$ATL_URL E_ADMIN=$ATL_ADMIN_URL E_TOKEN=$ATL_TOKEN_FILE E_PID=$ATL_PID
ATL_PID=
ATL_VERIFIED_DOMAINS="client.example" ATL_DIRECTORY_ID=$C_ID \
    atl_server_start "$tmp/atl-customers" >"$tmp/atl2.log" 2>&1
ok $? "and a second one for the customers' directory" ||
    { diag "$(cat "$tmp/atl2.log")"; tap_done; exit 1; }
C_URL=$ATL_URL C_ADMIN=$ATL_ADMIN_URL C_TOKEN=$ATL_TOKEN_FILE C_PID=$ATL_PID
trap 'kill "$E_PID" "$C_PID" 2>/dev/null; lab_cleanup' EXIT

e_dump() { curl -sf "$E_ADMIN/dump"; }
c_dump() { curl -sf "$C_ADMIN/dump"; }
methods() { curl -sf "$1/stats?log=0" | jq -c '.byMethod'; }
user_deletes() { curl -sf "$1/stats?log=0" | jq -r '.userDeletes'; }

cat >"$tmp/customers.ldif" <<LDIF
dn: ou=customers,$LDAP_BASE
objectClass: organizationalUnit
ou: customers

dn: uid=cust1,ou=customers,$LDAP_BASE
objectClass: inetOrgPerson
uid: cust1
cn: Casey Customer
sn: Customer
mail: Casey@Client.example

dn: uid=cust2,ou=customers,$LDAP_BASE
objectClass: inetOrgPerson
uid: cust2
cn: Robin Client
sn: Client
mail: robin@client.example

dn: cn=customer-vip,ou=groups,$LDAP_BASE
objectClass: groupOfNames
cn: customer-vip
member: uid=cust1,ou=customers,$LDAP_BASE
LDIF
slapd_add "$tmp/customers.ldif"
ok $? "two customers and a customer group are added"
uids=$(slapd_search -b "ou=people,$LDAP_BASE" "(objectClass=inetOrgPerson)" uid | sed -n 's/^uid: //p' | sort)
elsewhere=$(sed -n 1p <<<"$uids")
printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: mail\nmail: %s@elsewhere.test\n' \
    "$elsewhere" "$LDAP_BASE" "$elsewhere" >"$tmp/mail.ldif"
slapd_modify "$tmp/mail.ldif"
ok $? "one employee's address is on a domain the organisation has not verified"
printf '{"Groups": [{"id": "taken", "displayName": "ldap-group002", "members": []}]}\n' >"$tmp/seed.json"
curl -sf -X POST -H 'Content-Type: application/json' --data-binary "@$tmp/seed.json" \
    "$E_ADMIN/seed" >/dev/null
ok $? "Atlassian already has a group named ldap-group002"

# The README's config, pointed at the lab.
awk '/^## Provisioning to Atlassian Cloud/ {f=1} f && /^```yaml$/ {y=1; next} y && /^```$/ {exit} y' \
    "$top/README.md" >"$tmp/atlassian.yaml"
ok "$(grep -q 'profile: atlassian' "$tmp/atlassian.yaml" && echo 0 || echo 1)" \
    "the README's Atlassian config is found"
sed -i -e "s|ldaps://ldap.example.com|$LDAP_URI\n  dialect: openldap|" \
    -e "s|cn=ldap2scim,ou=services,dc=example,dc=com|$LDAP_BIND_DN|" \
    -e "s|/etc/ldap2scim/ldap.pass|$LDAP_PASS_FILE|" \
    -e "s|https://api.atlassian.com/scim/directory/$E_ID|$E_URL|" \
    -e "s|https://api.atlassian.com/scim/directory/$C_ID|$C_URL|" \
    -e "s|/etc/ldap2scim/atlassian-employees.token|$E_TOKEN|" \
    -e "s|/etc/ldap2scim/atlassian-customers.token|$C_TOKEN|" \
    -e "s|/var/lib/ldap2scim/|$tmp/|" "$tmp/atlassian.yaml"
cfg="$tmp/atlassian.yaml"

l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the README's Atlassian config syncs both directories (exit 0)" || diag "$l2s_stderr"
want=$(grep -vx "$elsewhere" <<<"$uids" | sed 's/$/@example.com/' | tr '\n' ' ' | sed 's/ $//')
is "$(e_dump | jq -r '[.Users[].userName] | sort | join(" ")')" "$want" \
    "the organisation's directory holds the employees on its verified domain"
like "$l2s_stderr" "$elsewhere.*not on a domain of users.email_domains" \
    "the employee on another domain is skipped, with the reason"
is "$(e_dump | jq '[.Users[] | [.emails[] | select(.primary == true)] | length] | unique')" "[
  1
]" "every user carries exactly one primary email"
is "$(c_dump | jq -r '[.Users[].userName] | sort | join(" ")')" \
    "casey@client.example robin@client.example" "the customers' directory holds the customers"
is "$(e_dump | jq -r '[.Groups[].displayName] | sort | join(" ")')" \
    "ldap-group000 ldap-group001 ldap-group002" "the employees' groups are there, under the prefix"
is "$(e_dump | jq -r '.Groups[] | select(.id == "taken") | .members | length')" 0 \
    "the group whose name was taken is left alone (on_conflict: skip)"
like "$l2s_stderr" "ldap-group002" "and the conflict is named in the log"

l2s_run sync2 -c "$cfg" sync
is "$l2s_rc" 0 "a second sync exits 0"
like "$l2s_stderr" "target 'employees': cycle done.*users 0 created, 0 updated" \
    "and changes nothing for the employees"

# A group renamed in the directory: Atlassian cannot rename, so recreate.
g1_members=$(e_dump | jq -c '[.Groups[] | select(.displayName == "ldap-group001") | .members[].value] | sort')
printf 'dn: cn=group001,ou=groups,%s\nchangetype: modrdn\nnewrdn: cn=group001-renamed\ndeleteoldrdn: 1\n' \
    "$LDAP_BASE" >"$tmp/rename.ldif"
slapd_modify "$tmp/rename.ldif"
l2s_run rename -c "$cfg" sync
is "$l2s_rc" 0 "a sync after a group rename exits 0" || diag "$l2s_stderr"
is "$(e_dump | jq -r '[.Groups[].displayName] | sort | join(" ")')" \
    "ldap-group000 ldap-group001-renamed ldap-group002" \
    "the renamed group exists under its new name, the old name is gone"
is "$(e_dump | jq -c '[.Groups[] | select(.displayName == "ldap-group001-renamed") | .members[].value] | sort')" \
    "$g1_members" "with the same members"

# An employee leaves: deactivated with PATCH, never deleted.
leaver=$(sed -n 2p <<<"$uids")
printf 'dn: uid=%s,ou=people,%s\nchangetype: delete\n' "$leaver" "$LDAP_BASE" >"$tmp/leave.ldif"
slapd_modify "$tmp/leave.ldif"
l2s_run leave -c "$cfg" sync
is "$l2s_rc" 0 "a sync after an employee left exits 0" || diag "$l2s_stderr"
is "$(e_dump | jq -r --arg u "$leaver@example.com" '.Users[] | select(.userName == $u) | .active')" \
    "false" "the employee who left is deactivated"
is "$(user_deletes "$E_ADMIN")/$(user_deletes "$C_ADMIN")" "0/0" "no user was ever DELETEd"
is "$(methods "$E_ADMIN" | jq -r '.PUT // 0')/$(methods "$C_ADMIN" | jq -r '.PUT // 0')" "0/0" \
    "no PUT was ever sent"

tap_done
