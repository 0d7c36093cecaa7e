#!/usr/bin/env bash
# targets_test.sh - several targets from one directory: employees (ou=people)
# to one SCIM service and portal-only customers (ou=customers) to a second
# one, each with its own token, mapping, state and limits, from one read.
# Against slapd and two test SCIM servers: each service gets only its own
# people; a dry run shows every target's plan; state commands name their
# target; one target failing or refused leaves the other to do its work;
# the config refuses what a file of targets cannot mean.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"

export SLAPD_DEBUG=stats	# to count the searches of a cycle
lab_start targets --users 12 --groups 3 --seed 5

# The second service: the customers' directory.
E_URL=$SCIM_URL E_ADMIN=$SCIM_ADMIN_URL E_TOKEN=$SCIM_TOKEN_FILE E_PID=$SCIM_PID
SCIM_PID=
scim_server_start "$tmp/scim-customers" >"$tmp/scim2-start.log" 2>&1
ok $? "a second test SCIM server starts, for the customers" ||
    { diag "$(cat "$tmp/scim2-start.log")"; tap_done; exit 1; }
C_URL=$SCIM_URL C_ADMIN=$SCIM_ADMIN_URL C_TOKEN=$SCIM_TOKEN_FILE C_PID=$SCIM_PID
SCIM_URL=$E_URL SCIM_ADMIN_URL=$E_ADMIN SCIM_TOKEN_FILE=$E_TOKEN SCIM_PID=$E_PID
trap 'kill "$C_PID" 2>/dev/null; lab_cleanup' EXIT

e_dump() { curl -sf "$E_ADMIN/dump"; }
c_dump() { curl -sf "$C_ADMIN/dump"; }
e_writes() { curl -sf "$E_ADMIN/stats?log=0" | jq -r .writes; }
c_writes() { curl -sf "$C_ADMIN/stats?log=0" | jq -r .writes; }

cat >"$tmp/customers.ldif" <<LDIF
dn: ou=customers,$LDAP_BASE
objectClass: organizationalUnit
ou: customers

dn: uid=cust1,ou=customers,$LDAP_BASE
objectClass: inetOrgPerson
uid: cust1
cn: Casey Customer
sn: Customer
mail: casey@client.example

dn: uid=cust2,ou=customers,$LDAP_BASE
objectClass: inetOrgPerson
uid: cust2
cn: Robin Client
sn: Client
mail: robin@client.example

dn: uid=cust3,ou=customers,$LDAP_BASE
objectClass: inetOrgPerson
uid: cust3
cn: Alex Buyer
sn: Buyer
mail: alex@other.example

dn: cn=customer-vip,ou=groups,$LDAP_BASE
objectClass: groupOfNames
cn: customer-vip
member: uid=cust1,ou=customers,$LDAP_BASE
LDIF
slapd_add "$tmp/customers.ldif"
ok $? "three customers and a customer group are added under ou=customers"

employees=$(slapd_search -b "ou=people,$LDAP_BASE" "(objectClass=inetOrgPerson)" uid |
    sed -n 's/^uid: //p' | sort | tr '\n' ' ' | sed 's/ $//')

# targets_config FILE [C_TOKEN_FILE] [C_MAX_REMOVALS]
targets_config() {
	cat >"$1" <<YAML
ldap:
  uri: $LDAP_URI
  bind:
    method: simple
    dn: $LDAP_BIND_DN
    password_file: $LDAP_PASS_FILE
  base_dn: $LDAP_BASE
  dialect: openldap
targets:
  - name: employees
    users:
      base_dn: ou=people,$LDAP_BASE
      filter: (objectClass=inetOrgPerson)
      disabled_filter: (pwdAccountLockedTime=*)
      map:
        userName: "{uid}"
        displayName: "{cn}"
        emails[type eq "work"].value: "{mail}"
    groups:
      base_dn: ou=groups,$LDAP_BASE
      filter: (&(objectClass=groupOfNames)(!(cn=customer-*)))
    scim:
      url: $E_URL
      token_file: $E_TOKEN
    sync:
      state: $tmp/employees.db
      max_removals: 50%
  - name: customers
    users:
      base_dn: ou=customers,$LDAP_BASE
      filter: (objectClass=inetOrgPerson)
      email_domains: [client.example]
      map:
        userName: "{mail|lower}"
        displayName: "{cn}"
        emails[type eq "work"].value: "{mail}"
    scim:
      url: $C_URL
      token_file: ${2:-$C_TOKEN}
    sync:
      state: $tmp/customers.db
      max_removals: ${3:-1}
YAML
}
cfg="$tmp/targets.yaml"
targets_config "$cfg"

l2s_run dry -c "$cfg" sync --dry-run
is "$l2s_rc" 0 "a dry run of two targets exits 0" || diag "$l2s_stderr"
like "$l2s_stdout" "== target employees" "the plan has a part for the employees"
like "$l2s_stdout" "== target customers" "and one for the customers"
like "$l2s_stdout" "casey@client.example" "the customers' plan uses their own mapping (userName from mail)"
like "$l2s_stdout" "alex@other.example.*not on" \
    "a customer outside the customers' email_domains is shown as skipped, with the reason"
like "$l2s_stderr" "target 'employees': dry run" "each target has its own summary line"
is "$(e_writes)/$(c_writes)" "0/0" "the dry run writes nothing to either service"

l2s_run dryjson -c "$cfg" sync --dry-run --json
is "$l2s_rc" 0 "a JSON dry run of two targets exits 0"
is "$(jq -r '[.targets[].name] | join(" ")' <<<"$l2s_stdout")" "employees customers" \
    "the JSON plan is one document with a plan per target, in file order"
printf 'not a database at all, but long enough to be read as one\n%.0s' {1..40} >"$tmp/garbage.db"
sed "s|state: $tmp/customers.db|state: $tmp/garbage.db|" "$cfg" >"$tmp/badstate.yaml"
l2s_run dryjson3 -c "$tmp/badstate.yaml" sync --dry-run --json
is "$l2s_rc" 2 "a target whose state file is not one fails the dry run (exit 2)"
is "$(jq -r '.targets[0].plan.summary != null, .targets[1].name, (.targets[1].error | length > 0)' \
    <<<"$l2s_stdout" | tr '\n' ' ')" "true customers true " \
    "a target that fails still has its place in the JSON, with its error"

from=$(wc -l <"$tmp/slapd/slapd.log")
l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync of two targets exits 0" || diag "$l2s_stderr"
tail -n +"$((from + 1))" "$tmp/slapd/slapd.log" >"$tmp/sync1-slapd.log"
attrs=$(sed -n 's/.* SRCH attr=//p' "$tmp/sync1-slapd.log")
is "$(grep -c mail <<<"$attrs")" 1 "one search reads the users' attributes for both targets"
is "$(grep -c member <<<"$attrs")" 1 "one search reads the groups"
is "$(grep -vc -e mail -e member <<<"$attrs")" "$(grep -c '^entryUUID$' <<<"$attrs")" \
    "every other search asks for entryUUID alone (which entries each target selects)"
like "$(grep -c 'filter="(|(objectClass=inetOrgPerson))"' "$tmp/sync1-slapd.log")" 1 \
    "a filter two targets share is asked for once"
is "$(e_dump | jq -r '[.Users[].userName] | sort | join(" ")')" "$employees" \
    "the employees' service holds exactly the users of ou=people"
is "$(c_dump | jq -r '[.Users[].userName] | sort | join(" ")')" \
    "casey@client.example robin@client.example" \
    "the customers' service holds the customers on a listed domain, named by their mail"
is "$(e_dump | jq -r '[.Groups[].displayName] | sort | join(" ")')" "group000 group001 group002" \
    "the employees' groups are created, the customer group is outside their filter"
is "$(c_dump | jq -r '.Groups | length')" "0" "the customers' target has no groups section: no groups there"
is "$(e_dump | jq -r '[.Users[].externalId] | map(select(. == null)) | length')" "0" \
    "every employee carries its entryUUID as externalId"

l2s_run show -c "$cfg" state show
is "$l2s_rc" 0 "state show covers every target"
like "$l2s_stdout" "target: customers" "and names them"
l2s_run showc -c "$cfg" state --target customers show
like "$l2s_stdout" "users: 2 " "state --target customers show counts the customers' two users"
l2s_run export -c "$cfg" state export
is "$l2s_rc" 2 "state export without --target is a usage error with targets"
like "$l2s_stderr" "state --target NAME export" "and says how to name one"
l2s_run nosuch -c "$cfg" state --target nobody show
is "$l2s_rc" 2 "an unknown target name is refused"

l2s_run again -c "$cfg" sync
is "$l2s_rc" 0 "a second sync exits 0"
like "$l2s_stderr" "target 'customers': cycle done.*users 0 created, 0 updated" \
    "and changes nothing for the customers"

# A customer leaves: only the customers' service hears of it.
printf 'dn: uid=cust2,ou=customers,%s\nchangetype: delete\n' "$LDAP_BASE" >"$tmp/del.ldif"
slapd_modify "$tmp/del.ldif"
ew=$(e_writes)
l2s_run leave -c "$cfg" sync
is "$l2s_rc" 0 "a sync after a customer left exits 0" || diag "$l2s_stderr"
is "$(c_dump | jq -r '.Users[] | select(.userName == "robin@client.example") | .active')" "false" \
    "the customer who left is deactivated in the customers' service"
is "$(e_writes)" "$ew" "the employees' service gets no request that writes"

# Another run holds the customers' lock: the employees' cycle runs.
ew=$(e_writes)
flock "$tmp/customers.db.lock" -c "'$L2S_BIN' -c '$cfg' sync >'$tmp/locked.out' 2>'$tmp/locked.err'; echo \$? >'$tmp/locked.rc'"
is "$(cat "$tmp/locked.rc")" 6 "one target's lock held elsewhere makes the exit code 6"
like "$(cat "$tmp/locked.err")" "target 'customers'.*lock" "naming that target"
like "$(cat "$tmp/locked.err")" "target 'employees': cycle done" "and the employees' cycle is done all the same"

# The customers' token is refused: the employees still get their change.
printf 'wrong-token\n' >"$tmp/bad.token"
chmod 600 "$tmp/bad.token"
targets_config "$cfg" "$tmp/bad.token"
emp=$(slapd_search -b "ou=people,$LDAP_BASE" "(objectClass=inetOrgPerson)" uid |
    sed -n 's/^uid: //p' | sort | head -n 1)
printf 'dn: uid=%s,ou=people,%s\nchangetype: modify\nreplace: cn\ncn: Renamed Person\n' \
    "$emp" "$LDAP_BASE" >"$tmp/mod.ldif"
slapd_modify "$tmp/mod.ldif"
l2s_run badtoken -c "$cfg" sync
is "$l2s_rc" 4 "a refused token for one target makes the exit code 4 (SCIM)"
like "$l2s_stderr" "target 'customers'.*401|target 'customers'.*token" "the error names the target"
is "$(e_dump | jq -r --arg u "$emp" '.Users[] | select(.userName == $u) | .displayName')" \
    "Renamed Person" "the employees' change reaches their service all the same"

# All customers gone: that target's guard refuses, the other goes on.
targets_config "$cfg" "" 1
printf 'dn: uid=cust1,ou=customers,%s\nchangetype: delete\n\ndn: uid=cust3,ou=customers,%s\nchangetype: delete\n\ndn: cn=customer-vip,ou=groups,%s\nchangetype: delete\n' \
    "$LDAP_BASE" "$LDAP_BASE" "$LDAP_BASE" >"$tmp/del2.ldif"
slapd_modify "$tmp/del2.ldif"
cw=$(c_writes)
l2s_run empty -c "$cfg" sync
is "$l2s_rc" 5 "an emptied customers' read is refused by that target's guard (exit 5)"
is "$(c_writes)" "$cw" "and nothing is written to the customers' service"
like "$l2s_stderr" "target 'employees': cycle done" "while the employees' cycle is done"

# A target whose base is outside ldap.base_dn: the one read cannot serve it.
sed "s|base_dn: ou=customers,$LDAP_BASE|base_dn: dc=elsewhere|" "$cfg" >"$tmp/outside.yaml"
ew=$(e_writes)
l2s_run outside -c "$tmp/outside.yaml" sync
is "$l2s_rc" 3 "a target's base outside ldap.base_dn fails the read (exit 3)"
like "$l2s_stderr" "target 'customers': users.base_dn 'dc=elsewhere' is not under ldap.base_dn" \
    "with the target, the base and why"
is "$(e_writes)" "$ew" "and no target writes anything (the read is all or nothing)"

# The README's example, pointed at this lab, plans the same as the test's.
awk '/^## Several targets/ {f=1} f && /^```yaml$/ {y=1; next} y && /^```$/ {exit} y' \
    "$top/README.md" >"$tmp/readme.yaml"
sed -i -e "s|ldaps://ldap.example.com|$LDAP_URI\n  dialect: openldap|" \
    -e "s|/etc/ldap2scim/ldap.pass|$LDAP_PASS_FILE|" -e "s|cn=ldap2scim,ou=services,dc=example,dc=com|$LDAP_BIND_DN|" \
    -e "s|https://api.example.com/scim/v2|$E_URL|" -e "s|/etc/ldap2scim/employees.token|$E_TOKEN|" \
    -e "s|https://customers.example.com/scim/v2|$C_URL|" -e "s|/etc/ldap2scim/customers.token|$C_TOKEN|" \
    -e "s|/var/lib/ldap2scim/|$tmp/readme-|" "$tmp/readme.yaml"
ok "$(grep -c 'name: ' "$tmp/readme.yaml" | grep -qx 2 && echo 0 || echo 1)" \
    "the README's example of targets is found"
l2s_run readme -c "$tmp/readme.yaml" sync --dry-run
is "$l2s_rc" 0 "the README's example runs a dry run against the lab" || diag "$l2s_stderr"
is "$(grep '^== target' <<<"$l2s_stdout" | tr '\n' ' ')" "== target employees == target customers " \
    "with both of its targets, in the file's order"

# What the config refuses.
awk '{print} /state: .*customers.db/ {print "      incremental: true"}' "$cfg" >"$tmp/incr.yaml"
l2s_run incr -c "$tmp/incr.yaml" sync --dry-run
is "$l2s_rc" 2 "sync.incremental in a target is a config error"
like "$l2s_stderr" "incr.yaml:[0-9]+:[0-9]+: 'targets\[1\].sync.incremental' cannot be used with several targets" \
    "named by file, line and column"
sed "s|$tmp/customers.db|$tmp/employees.db|" "$cfg" >"$tmp/shared.yaml"
l2s_run shared -c "$tmp/shared.yaml" sync --dry-run
is "$l2s_rc" 2 "two targets sharing a state file is a config error"
like "$l2s_stderr" "targets 'employees' and 'customers' cannot share the state file" "and says which"
{ cat "$cfg"; printf 'users:\n  filter: (uid=*)\n  map:\n    userName: "{uid}"\n'; } >"$tmp/root.yaml"
l2s_run root -c "$tmp/root.yaml" sync --dry-run
is "$l2s_rc" 2 "a users section beside targets is a config error"
like "$l2s_stderr" "'users' belongs in each target" "that says where it goes"

tap_done
