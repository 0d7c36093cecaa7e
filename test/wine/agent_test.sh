#!/usr/bin/env bash
# agent_test.sh - the Windows build's own parts under wine:
#   - platform_win32.c (test/wine/agent/platform_test.c, relayed): the run
#     lock, the wrapper's stop and reload events, the interruptible sleep,
#     secret files judged by their access list, files replaced whole,
#     private files, listings, UTF-8 names and arguments, default paths;
#   - the agent itself: a world-readable secret file refused, the default
#     configuration under %ProgramData%, and clear errors for what the
#     Windows build does not have (ldap.tls_ca_file, ldapi://, RFC 4533
#     content sync, SASL EXTERNAL, a keytab) rather than a surprise;
#   - --syslog: the agent's event ids are in the wrapper's message table.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${L2S_BUILD:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
. "$top/test/lib/tap.sh"
. "$top/test/lib/wine.sh"

for f in "$build/win64/ldap2scim.exe" "$build/win64/test/platform_test.exe" \
    "$build/win64/test/fake_agent.exe" "$build/win64/ldap2scim-service.exe"; do
	if [ ! -f "$f" ]; then
		ok 1 "$f is built (make windows-tests)"
		tap_done
		exit 1
	fi
done
wine_setup || { ok 1 "wine starts"; tap_done; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/l2s-wine-agent.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# --- platform_win32.c --------------------------------------------------------
mkdir -p "$tmp/p"
printf 's3cret\r\n' >"$tmp/p/world.pass"
printf 's3cret\r\n' >"$tmp/p/owner.pass"
chmod 644 "$tmp/p/world.pass"
chmod 600 "$tmp/p/owner.pass"
wine_run "$build/win64/test/platform_test.exe" "Z:${tmp//\//\\}\\p" "caf$(printf '\303\251')" \
    >"$tmp/platform.tap" 2>&1
prc=$?
# relay: renumber its results into ours
while IFS= read -r line; do
	case $line in
	"ok "*) ok 0 "platform: ${line#ok * - }" ;;
	"not ok "*) line=${line#not ok }; ok 1 "platform: ${line#* - }" ;;
	"#"*) echo "$line" ;;
	esac
done <"$tmp/platform.tap"
is "$prc" 0 "platform_test.exe exits 0"
is "$(grep -c '^ok ' "$tmp/platform.tap")" "$(grep -oE '^1\.\.[0-9]+' "$tmp/platform.tap" | cut -d. -f3)" \
    "platform_test.exe ran its whole plan"

# --- the agent ---------------------------------------------------------------
l2s() { wine_run "$build/win64/ldap2scim.exe" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; err=$(cat "$tmp/err"); }
printf 'secret-pass\n' >"$tmp/ldap.pass"
printf 'token\n' >"$tmp/scim.token"
chmod 600 "$tmp/ldap.pass" "$tmp/scim.token"
# config URI BIND-METHOD [lines for ldap: or ldap.bind:, indented as they go] [lines for sync:]
# (a simple bind as BIND_DN with PASS_FILE, by default cn=admin and ldap.pass)
config() {
	local bind="    dn: ${BIND_DN:-cn=admin,dc=example,dc=com}
    password_file: ${PASS_FILE:-$tmp/ldap.pass}"
	[ "$2" = simple ] || bind=""
	cat >"$tmp/l2s.yaml" <<YAML
ldap:
  uri: $1
  bind:
    method: $2
$bind
${3:-}
  base_dn: dc=example,dc=com
users:
  filter: (objectClass=inetOrgPerson)
  map:
    userName: "{uid}"
scim:
  url: ${SCIM_URL:-http://127.0.0.1:9/scim/v2}
  token_file: ${SCIM_TOKEN_FILE:-$tmp/scim.token}
  allow_insecure_http: true
sync:
  state: $tmp/state.db
${4:-}
YAML
}

l2s version
is "$rc" 0 "ldap2scim.exe version exits 0"
like "$(cat "$tmp/out")" "^ldap2scim [0-9]" "and prints its version"

l2s check
is "$rc" 2 "without -c the Windows agent reads the default configuration"
like "$err" "cannot open config file 'C:\\\\ProgramData\\\\ldap2scim\\\\ldap2scim\\.yaml'" \
    "which is %ProgramData%\\ldap2scim\\ldap2scim.yaml"

config ldap://127.0.0.1:9 simple
chmod 644 "$tmp/ldap.pass"
l2s -c "$tmp/l2s.yaml" check
is "$rc" 2 "a bind password file everyone may read is refused (exit 2)"
like "$err" "secret file '.*ldap\\.pass' is readable by everyone" "and the error names the file and why"
unlike "$err" "secret-pass" "and never the password"
chmod 600 "$tmp/ldap.pass"

l2s -c "$tmp/l2s.yaml" check
is "$rc" 3 "an unreachable LDAP server exits 3"
like "$err" "cannot reach any LDAP server: 'ldap://127\\.0\\.0\\.1:9'" "and names the URI"

config ldaps://127.0.0.1:9 simple "  tls_ca_file: $tmp/ca.pem"
l2s -c "$tmp/l2s.yaml" check
is "$rc" 3 "ldap.tls_ca_file with LDAPS is refused on Windows (exit 3)"
like "$err" "tls_ca_file is not used on Windows: import the CA certificate into the Windows certificate store" \
    "and says what to do instead"

config ldapi://%2Fvar%2Frun%2Fslapd%2Fldapi simple
l2s -c "$tmp/l2s.yaml" check
is "$rc" 3 "an ldapi:// URI cannot be used on Windows (exit 3)"
like "$err" "ldapi:// is not available on Windows" "and says so"

# The rest need servers that answer: a throwaway slapd (with syncprov, for
# sync.incremental) and the test SCIM server.
. "$top/test/lib/slapd.sh"
. "$top/test/lib/scim-server.sh"
cat >"$tmp/overlays.ldif" <<'LDIF'
dn: cn=module{1},cn=config
objectClass: olcModuleList
cn: module{1}
olcModulePath: /usr/lib/ldap
olcModuleLoad: syncprov

dn: olcOverlay={0}syncprov,olcDatabase={1}mdb,cn=config
objectClass: olcOverlayConfig
objectClass: olcSyncProvConfig
olcOverlay: {0}syncprov
LDIF
python3 "$top/scripts/gen-directory" --users 5 --groups 1 --seed 3 |
    awk 'BEGIN { RS = ""; ORS = "\n\n" } !/^dn: dc=example,dc=com\n/' >"$tmp/data.ldif"
SLAPD_CONFIG_LDIF="$tmp/overlays.ldif" slapd_start "$tmp/slapd" "$tmp/data.ldif" >"$tmp/slapd.log" 2>&1
ok $? "a throwaway slapd starts" || diag "$(tail -5 "$tmp/slapd.log")"
scim_server_start "$tmp/scim" >"$tmp/scim.log" 2>&1
ok $? "the test SCIM server starts" || diag "$(tail -5 "$tmp/scim.log")"
trap 'scim_server_stop >/dev/null 2>&1; slapd_stop "$tmp/slapd" >/dev/null 2>&1; rm -rf "$tmp"' EXIT

# LDAPS with tls_verify: false (the certificate callback path).  wine's
# Wldap32 checks no certificate at all, so verification itself is for a real
# Windows to show (README, "Tested under wine").
BIND_DN=$LDAP_BIND_DN PASS_FILE=$LDAP_PASS_FILE config "ldaps://127.0.0.1:$LDAPS_PORT" simple \
    "  tls_verify: false"
l2s -c "$tmp/l2s.yaml" sync --dry-run
is "$rc" 0 "an LDAPS read with tls_verify: false works"
like "$err" "read 5 users" "and reads the directory's 5 users"

config "$LDAP_URI" external
l2s -c "$tmp/l2s.yaml" sync --dry-run
is "$rc" 3 "a SASL EXTERNAL bind fails on Windows (exit 3)"
like "$err" "the SASL EXTERNAL bind is not available on Windows" "and says so"

config "$LDAP_URI" gssapi "    keytab: $tmp/host.keytab"
l2s -c "$tmp/l2s.yaml" sync --dry-run
is "$rc" 3 "a gssapi bind with a keytab fails on Windows (exit 3)"
like "$err" "keytab and principal are not used on Windows: the gssapi bind is Negotiate as the account the service runs as" \
    "and explains the Windows way"

BIND_DN=$LDAP_BIND_DN PASS_FILE=$LDAP_PASS_FILE config "$LDAP_URI" simple "" \
    "  incremental: true"
scim_reset_stats
l2s -c "$tmp/l2s.yaml" sync
is "$rc" 3 "sync.incremental against OpenLDAP (RFC 4533) fails on Windows (exit 3)"
is "$(scim_stats --no-log | jq -r .writes)" 0 "and writes nothing to the SCIM service"
like "$err" "content synchronisation \\(RFC 4533, sync.incremental with OpenLDAP\\) is not available in the Windows build" \
    "and names what is missing"
unlike "$err" "$(tr -d '\n' <"$LDAP_PASS_FILE")" "and shows no password"

# --- the event log's messages for --syslog ------------------------------------
for id in 40000064:info c0000066:error 80000065:warning; do
	wine_run "$build/win64/test/fake_agent.exe" message "$build/win64/ldap2scim-service.exe" \
	    "${id%%:*}" "a ${id#*:} line of the agent" >"$tmp/msg" 2>&1
	like "$(cat "$tmp/msg")" "a ${id#*:} line of the agent" \
	    "event id 0x${id%%:*} (the agent's ${id#*:} lines) shows the line itself"
done
tap_done
