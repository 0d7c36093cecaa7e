# shellcheck shell=bash
# lab.sh - the integration lab: a throwaway slapd with a generated directory
# and the test SCIM server, a config for the agent, and the oracle (sourced).
#
#   lab_start NAME GEN-DIRECTORY-ARGS...
#       makes $tmp (removed on exit), loads the generated directory into a
#       slapd with the ppolicy and refint overlays, starts the SCIM server;
#       prints TAP lines for both, exits the test when either fails
#   write_config FILE [VAR=VALUE...]   the test config (see the variables below)
#   compare NAME       0 when the SCIM server equals LDAP (test/lib/scim_compare.py)
#   writes / requests  the SCIM server's write and request counters
#   ldap_dump          LDIF of users and groups into $tmp/users.ldif, groups.ldif
#
# The test mapping is the one test/lib/scim_compare.py expects.

top=${L2S_TOP:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
L2S_BIN=${L2S_BIN:-$top/build/ldap2scim}
. "$top/test/lib/tap.sh"
. "$top/test/lib/slapd.sh"
. "$top/test/lib/scim-server.sh"
. "$top/test/lib/agent.sh"

lab_cleanup() {
	scim_server_stop >/dev/null 2>&1
	slapd_stop "$tmp/slapd" >/dev/null 2>&1
	[ -n "${L2S_KEEP:-}" ] || rm -rf "$tmp"
}

lab_start() {
	local name=$1; shift
	[ -x "$L2S_BIN" ] || { echo "not ok 1 - $L2S_BIN is not built"; echo "1..1"; exit 1; }
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/l2s-$name.XXXXXX")
	L2S_OUT="$tmp/out"
	trap lab_cleanup EXIT
	python3 "$top/scripts/gen-directory" "$@" |
	    awk 'BEGIN { RS = ""; ORS = "\n\n" } !/^dn: dc=example,dc=com\n/' >"$tmp/data.ldif"
	# ppolicy gives pwdAccountLockedTime (locked users); refint keeps member
	# and manager values right when users move, are renamed or deleted;
	# syncprov answers content sync (sync.incremental), with a session log.
	cat >"$tmp/overlays.ldif" <<'LDIF'
dn: cn=module{1},cn=config
objectClass: olcModuleList
cn: module{1}
olcModulePath: /usr/lib/ldap
olcModuleLoad: ppolicy
olcModuleLoad: refint
olcModuleLoad: syncprov

dn: olcOverlay={0}ppolicy,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcPPolicyConfig
olcOverlay: {0}ppolicy

dn: olcOverlay={1}refint,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcRefintConfig
olcOverlay: {1}refint
olcRefintAttribute: member
olcRefintAttribute: manager

dn: olcOverlay={2}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {2}syncprov
olcSpSessionlog: 10000
LDIF
	SLAPD_CONFIG_LDIF="$tmp/overlays.ldif" slapd_start "$tmp/slapd" "$tmp/data.ldif" \
	    >"$tmp/slapd-start.log" 2>&1
	ok $? "a throwaway slapd starts with the generated directory ($*)" ||
	    { diag "$(cat "$tmp/slapd-start.log")"; tap_done; exit 1; }
	scim_server_start "$tmp/scim" >"$tmp/scim-start.log" 2>&1
	ok $? "the test SCIM server starts" ||
	    { diag "$(cat "$tmp/scim-start.log")"; tap_done; exit 1; }
	password=$(tr -d '\n' <"$LDAP_PASS_FILE")
	token=$(tr -d '\n' <"$SCIM_TOKEN_FILE")
}

# write_config FILE [VAR=VALUE...]: uri, pass_file, token_file, users_filter,
# max_removals, removal, scim_url, scim_timeout, extra (lines added to ldap:), scim_extra
# (lines added to scim:), groups_extra (lines added to groups:), sync_extra
# (lines added to sync:)
write_config() {
	local file=$1; shift
	local uri="$LDAP_URI" pass_file="$LDAP_PASS_FILE" token_file="$SCIM_TOKEN_FILE"
	local users_filter="(objectClass=inetOrgPerson)" max_removals="5%" extra=""
	local removal=deactivate scim_url="$SCIM_URL" scim_extra="" groups_extra=""
	local scim_timeout=30s sync_extra=""
	local kv
	for kv in "$@"; do printf -v "${kv%%=*}" '%s' "${kv#*=}"; done
	cat >"$file" <<YAML
# ldap2scim integration test configuration
ldap:
  uri: $uri
  bind:
    method: simple
    dn: $LDAP_BIND_DN
    password_file: $pass_file
  base_dn: $LDAP_BASE
  page_size: 200
  dialect: openldap
$extra
users:
  base_dn: $LDAP_BASE
  filter: "$users_filter"
  key: entryUUID
  disabled_filter: (pwdAccountLockedTime=*)
  map:
    userName: "{uid}"
    displayName: "{cn}"
    name.givenName: "{givenName}"
    name.familyName: "{sn}"
    emails[type eq "work"].value: "{mail}"
    phoneNumbers[type eq "work"].value: "{telephoneNumber}"
    title: "{title}"
    urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber: "{employeeNumber}"
    urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager: "{manager}"
groups:
  base_dn: ou=groups,$LDAP_BASE
  filter: (objectClass=groupOfNames)
  key: entryUUID
  name: "{cn}"
  member_attribute: member
  nested: flatten
$groups_extra
scim:
  url: $scim_url
  token_file: $token_file
  timeout: $scim_timeout
$scim_extra
sync:
  state: $tmp/state.db
  interval: 1s
  removal: $removal
  max_removals: $max_removals
$sync_extra
YAML
}

ldap_dump() {
	slapd_search -LLL -E pr=500/noprompt "(objectClass=inetOrgPerson)" '*' entryUUID \
	    pwdAccountLockedTime >"$tmp/users.ldif" 2>"$tmp/ldapsearch.err" &&
	slapd_search -LLL -E pr=500/noprompt -b "ou=groups,$LDAP_BASE" \
	    "(objectClass=groupOfNames)" '*' entryUUID >"$tmp/groups.ldif" 2>>"$tmp/ldapsearch.err"
}

compare() {
	ldap_dump || { diag "ldapsearch failed: $(cat "$tmp/ldapsearch.err")"; return 1; }
	scim_dump >"$tmp/dump.json"
	python3 "$top/test/lib/scim_compare.py" "$tmp/users.ldif" "$tmp/groups.ldif" \
	    "$tmp/dump.json" >"$tmp/compare-$1.txt" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || diag "$(head -n 20 "$tmp/compare-$1.txt")"
	return $rc
}

writes() { scim_stats --no-log | jq -r .writes; }
requests() { scim_stats --no-log | jq -r .requests; }
