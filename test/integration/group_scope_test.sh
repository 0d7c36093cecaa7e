#!/usr/bin/env bash
# group_scope_test.sh - groups.prefix, groups.include and groups.exclude
# against slapd and the SCIM server: only the groups in scope are created,
# under the prefix; a group left out still passes its members on to the
# groups it is nested in; a synced group that leaves the scope is removed
# like one that left the groups filter; remote groups ldap2scim did not
# create are never touched.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"

# group001 > group002 > group003 (nested), and group000, group004, group005
lab_start groupscope --users 40 --groups 6 --nested --seed 7
cfg="$tmp/l2s.yaml"
scope() {	# scope EXCLUDE: the config with that exclude list
	write_config "$cfg" max_removals=1 groups_extra="  prefix: \"ldap-\"
  include: [\"GROUP00[0-4]\"]
  exclude: [$1]"
}
names() { scim_dump | jq -r '[.Groups[].displayName] | sort | join(" ")'; }
members() {	# members GROUP-NAME: its members' userNames, sorted
	scim_dump | jq -r --arg n "$1" '(.Users | map({(.id): .userName}) | add) as $u |
	    [.Groups[] | select(.displayName == $n) | .members[]?.value | $u[.]] | sort | join(" ")'
}
direct() {	# direct GROUP: the uids listed in its member attribute
	slapd_search -b "cn=$1,ou=groups,$LDAP_BASE" -s base member |
	    sed -n 's/^member: uid=\([^,]*\),.*/\1/p' | sort
}

cat >"$tmp/seed.json" <<'JSON'
{"Groups": [{"id": "seed-g", "displayName": "ldap-manual", "members": []}]}
JSON
scim_seed "$tmp/seed.json" >/dev/null
ok $? "the SCIM server holds a group ldap2scim did not create (ldap-manual)"

scope group002
l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "a sync with prefix, include and exclude exits 0" || diag "$l2s_stderr"
is "$(names)" "ldap-group000 ldap-group001 ldap-group003 ldap-group004 ldap-manual" \
    "only the included, not excluded groups are created, under the prefix"
g1=" $(members ldap-group001) "
missing=""
for u in $(direct group002) $(direct group003); do
	case $g1 in *" $u "*) ;; *) missing+="$u " ;; esac
done
is "$missing" "" "group001 holds the users of the excluded group002 nested in it, and of group003 below"
is "$(members ldap-group003)" "$(direct group003 | tr '\n' ' ' | sed 's/ $//')" \
    "group003 holds its own users"

scope "group002, group004"
scim_reset_stats >/dev/null
l2s_run sync2 -c "$cfg" sync
is "$l2s_rc" 0 "excluding one more group exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "groups 0 created, 0 updated, 1 deleted" "the group that left the scope is deleted"
is "$(names)" "ldap-group000 ldap-group001 ldap-group003 ldap-manual" \
    "and the group ldap2scim did not create is left alone"

scope "\"*\""
l2s_run sync3 -c "$cfg" sync
is "$l2s_rc" 5 "excluding every group is refused by the guard (exit 5)"
is "$(names)" "ldap-group000 ldap-group001 ldap-group003 ldap-manual" "and nothing is deleted"

tap_done
