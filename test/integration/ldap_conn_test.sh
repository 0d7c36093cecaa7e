#!/bin/bash
# ldap_conn_test.sh - agent/ldap.c against a real, throwaway slapd
#
# Pins down: URI failover, bind refusal vs unreachable servers, StartTLS
# and LDAPS with certificate verification, paged searches that return every
# entry with every value, and searches that must fail instead of returning
# a partial result (missing base, size limit, server killed or frozen
# mid-read).  Runs test/unit/ldap_probe.c (built here against libagent.a)
# and, when valgrind is installed, checks the main paths for leaks.
#
# Environment: L2S_BUILD (default build), L2S_VALGRIND=0 to skip valgrind,
# L2S_KEEP=1 to keep the temporary directory.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${L2S_BUILD:-build}
case "$build" in /*) ;; *) build=$top/$build ;; esac
. "$top/test/lib/slapd.sh"

n=0
failed=0
ok() {	# ok COND_EXIT_STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		if [ -s "$tmp/out" ]; then
			sed 's/^/#   /' "$tmp/out" | head -n 8
		fi
	fi
}
# has PATTERN NAME: the last probe output contains the fixed string
has() { grep -qF -- "$1" "$tmp/out"; ok $? "$2"; }
hasnt() { ! grep -qF -- "$1" "$tmp/out"; ok $? "$2"; }

if [ ! -x /usr/sbin/slapd ] || ! command -v ldapsearch >/dev/null; then
	echo "1..0 # SKIP slapd or ldap-utils not installed"
	exit 0
fi

tmp=$(mktemp -d /tmp/ldap_conn_test.XXXXXX)
cleanup() {
	slapd_stop "$tmp/slapd" 2>/dev/null
	if [ "${L2S_KEEP:-0}" = 1 ]; then
		echo "# kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# --- the probe -----------------------------------------------------------
. "$top/test/lib/probe.sh"
probe_build ldap_probe
[ "$probe_asan" = 1 ] && L2S_VALGRIND=0

vg=()
if [ "${L2S_VALGRIND:-1}" != 0 ] && command -v valgrind >/dev/null; then
	vg=(valgrind -q --leak-check=full --errors-for-leak-kinds=definite
	    --error-exitcode=99)
fi
# p ARGS: run the probe, output in $tmp/out, exit status in $rc; a
# sanitizer report (make check) is a failure of its own
p() {
	"$probe" "$@" >"$tmp/out" 2>&1
	rc=$?
	if grep -q 'Sanitizer' "$tmp/out"; then
		ok 1 "sanitizers find no error: ${*: -3}"
	fi
}
# pv ARGS: the same under valgrind (when available); 99 means a leak
pv() {
	"${vg[@]}" "$probe" "$@" >"$tmp/out" 2>&1
	rc=$?
	if grep -q 'Sanitizer' "$tmp/out"; then
		ok 1 "sanitizers find no error: ${*: -3}"
	fi
	if [ ${#vg[@]} -gt 0 ]; then
		[ $rc -ne 99 ]
		ok $? "valgrind finds no leak or error: ${*: -3}"
	fi
}

# --- the directory: 1,200 people, 3 groups ---------------------------------
users=1200
awk -v n=$users 'BEGIN {
	print "dn: ou=people,dc=example,dc=com"
	print "objectClass: organizationalUnit"
	print "ou: people\n"
	print "dn: ou=groups,dc=example,dc=com"
	print "objectClass: organizationalUnit"
	print "ou: groups\n"
	for (i = 1; i <= n; i++) {
		u = sprintf("user%04d", i)
		printf "dn: uid=%s,ou=people,dc=example,dc=com\n", u
		print "objectClass: inetOrgPerson"
		printf "uid: %s\ncn: User %d\nsn: %d\n", u, i, i
		for (m = 0; m <= i % 3; m++)
			printf "mail: %s.%d@example.com\n", u, m
		print ""
	}
	for (g = 1; g <= 3; g++) {
		printf "dn: cn=group%d,ou=groups,dc=example,dc=com\n", g
		print "objectClass: groupOfNames"
		printf "cn: group%d\n", g
		for (i = g; i <= n; i += 3)
			printf "member: uid=user%04d,ou=people,dc=example,dc=com\n", i
		print ""
	}
}' >"$tmp/data.ldif"

if ! slapd_start "$tmp/slapd" "$tmp/data.ldif" 2>"$tmp/start.err"; then
	echo "Bail out! cannot start slapd: $(tr '\n' ' ' <"$tmp/start.err")"
	exit 1
fi
pass=$(cat "$LDAP_PASS_FILE")
admin=(-D "$LDAP_BIND_DN" -y "$LDAP_PASS_FILE")
people=ou=people,$LDAP_BASE
closed1=$(_slapd_free_ports)
read -r closed1 closed2 <<<"$closed1"

# --- binding -----------------------------------------------------------------
pv -u "$LDAP_URI" "${admin[@]}" bind
has "bound $LDAP_URI" "simple bind as the admin succeeds"

printf 'not-the-password\n' >"$tmp/bad.pass"
chmod 600 "$tmp/bad.pass"
pv -u "$LDAP_URI" -D "$LDAP_BIND_DN" -y "$tmp/bad.pass" bind
has "error -5 authentication refused: bind as '$LDAP_BIND_DN' to '$LDAP_URI' refused: Invalid credentials" \
    "wrong password is refused as L2S_EAUTH naming DN and URI"
hasnt "not-the-password" "refusal does not show the password"

p -u "$LDAP_URI" -u "ldap://127.0.0.1:$closed1" -D "$LDAP_BIND_DN" -y "$tmp/bad.pass" bind
has "error -5" "a refused bind is final: the next URI is not tried"

pv -u "ldap://127.0.0.1:$closed1" -u "$LDAP_URI" "${admin[@]}" bind
has "bound $LDAP_URI" "failover: a closed port is skipped for the next URI"

pv -u "ldap://127.0.0.1:$closed1" -u "ldap://127.0.0.1:$closed2" "${admin[@]}" bind
has "error -8 LDAP error: cannot reach any LDAP server: 'ldap://127.0.0.1:$closed1': Can't contact LDAP server; 'ldap://127.0.0.1:$closed2': Can't contact LDAP server" \
    "all URIs down is L2S_ELDAP naming each URI and why"
hasnt "$pass" "the unreachable message does not show the password"

p -u "$LDAP_URI" -m anonymous bind
has "bound $LDAP_URI" "anonymous bind succeeds"

p -u "$LDAPI_URI" -m external search "$people" "(uid=user0001)" uid
has "entries 1" "SASL EXTERNAL bind over ldapi can search"

p -u "$LDAP_URI" -m gssapi -K "$tmp/none.keytab" bind
has "error -2 input/output error: cannot read keytab '$tmp/none.keytab': No such file or directory" \
    "GSSAPI with a keytab that is not there fails before the bind, naming it"
KRB5CCNAME=FILE:$tmp/none.ccache p -u "$LDAP_URI" -m gssapi bind
has "error -5 authentication refused: SASL GSSAPI bind to '$LDAP_URI' failed" \
    "GSSAPI without a ticket fails cleanly as L2S_EAUTH"

p -u "$LDAP_URI" -D "$LDAP_BIND_DN" bind
has "error -5 authentication refused: bind as '$LDAP_BIND_DN': the password is empty" \
    "a simple bind without password is refused before sending it"

# --- TLS ---------------------------------------------------------------------
pv -u "$LDAP_URI" -Z -C "$LDAP_CA_FILE" "${admin[@]}" search "$people" "(uid=user0007)" uid
has "entries 1" "StartTLS with the test CA binds and searches"

pv -u "$LDAPS_URI" -C "$LDAP_CA_FILE" "${admin[@]}" search "$people" "(uid=user0007)" uid
has "entries 1" "LDAPS with the test CA binds and searches"

pv -u "$LDAPS_URI" "${admin[@]}" bind
has "error -8 LDAP error: cannot reach any LDAP server: '$LDAPS_URI': TLS handshake failed" \
    "LDAPS without the CA fails as L2S_ELDAP"
has "certificate" "LDAPS without the CA mentions the certificate"
hasnt "$pass" "the TLS failure message does not show the password"

tls_ca "$tmp/otherca" >/dev/null
p -u "$LDAPS_URI" -C "$tmp/otherca/ca.pem" "${admin[@]}" bind
has "TLS handshake failed (server certificate not trusted by CA file '$tmp/otherca/ca.pem'" \
    "LDAPS with the wrong CA fails naming the CA file"

p -u "$LDAP_URI" -Z -C "$tmp/otherca/ca.pem" "${admin[@]}" bind
has "'$LDAP_URI': StartTLS failed: TLS handshake failed" \
    "StartTLS with the wrong CA fails"

p -u "$LDAPS_URI" -C "$tmp/otherca/ca.pem" -u "$LDAPS_URI" -N "${admin[@]}" bind
has "bound $LDAPS_URI" "LDAPS with verification off connects without the CA"

p -u "$LDAPS_URI" -C "$tmp/nonexistent.pem" "${admin[@]}" bind
has "error -8 LDAP error: cannot set up TLS with CA file '$tmp/nonexistent.pem'" \
    "a missing CA file is reported as such"


# --- paged search ------------------------------------------------------------
ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_BIND_DN" \
    -y "$SLAPD_DIR/ldap.pass.raw" -b "$people" -E pr=500/noprompt \
    '(objectClass=inetOrgPerson)' entryUUID |
    awk '/^dn: /{dn=substr($0,5)} /^entryUUID: /{print dn, substr($0,12)}' |
    sort >"$tmp/want.uuids"

pv -p 100 -u "$LDAP_URI" "${admin[@]}" search "$people" "(objectClass=inetOrgPerson)" entryUUID uid mail
has "entries $users" "paged search at page size 100 returns all $users entries"
cp "$tmp/out" "$tmp/search.out"
grep '^entry ' "$tmp/search.out" | sed 's/^entry \([^|]*\)|.*entryUUID#1=\([^|]*\).*/\1 \2/' |
    sort >"$tmp/got.uuids"
cmp -s "$tmp/want.uuids" "$tmp/got.uuids"
ok $? "every entry arrives once with the entryUUID ldapsearch sees"
grep -qxF "entry uid=user0042,ou=people,dc=example,dc=com|uid#1=user0042|mail#1=user0042.0@example.com|entryUUID#1=$(awk '$1=="uid=user0042,ou=people,dc=example,dc=com"{print $2}' "$tmp/want.uuids")" "$tmp/search.out"
ok $? "an entry carries its attributes and values in order"
bad=$(grep '^entry ' "$tmp/search.out" | awk -F'|' '{
	split($1, d, "user"); i = substr(d[2], 1, 4) + 0
	for (f = 2; f <= NF; f++) if ($f ~ /^mail#/) { split($f, m, "[#=]"); if (m[2] != i % 3 + 1) bad++ }
} END { print bad + 0 }')
[ "$bad" -eq 0 ]
ok $? "multi-valued mail has the right value count on every entry"

for ps in 1000 7 5000; do
	p -q -p $ps -u "$LDAP_URI" "${admin[@]}" search "$people" "(objectClass=inetOrgPerson)" entryUUID
	has "entries $users" "page size $ps returns all $users entries too"
done

p -q -p 100 -u "$LDAP_URI" -m anonymous search "$LDAP_BASE" "(objectClass=*)"
has "entries $((users + 8))" "anonymous paged search passes the 500 soft limit"

# Idle work (the state's load during a full read) runs while the search
# waits: pages of 7 give it a wait after each request.  Work that ends is
# not called again; a stop requested during the work ends the search.
p -q -p 7 -w -u "$LDAP_URI" "${admin[@]}" search "$people" "(objectClass=inetOrgPerson)" entryUUID
has "entries $users" "a search with idle work returns every entry"
has "idle pieces 3" "and its work ran while it waited, 3 pieces, then no more"
p -q -p 7 -W 1 -u "$LDAP_URI" "${admin[@]}" search "$people" "(objectClass=inetOrgPerson)" entryUUID
is "$rc" 1 "a stop (SIGTERM) during the idle work fails the search"
has "error -8 LDAP error: search '$people' '(objectClass=inetOrgPerson)': stopped while waiting for the server (a stop was requested)" \
    "saying a stop was requested"
has "idle pieces 1" "at once, after that piece"

p -p 100 -u "$LDAP_URI" "${admin[@]}" search "ou=groups,$LDAP_BASE" "(cn=group1)" member
has "|member#400=uid=user0001,ou=people,dc=example,dc=com" "a 400-value attribute arrives whole"

pv -u "$LDAP_URI" "${admin[@]}" search "ou=nope,$LDAP_BASE" "(objectClass=*)"
has "error -8 LDAP error: search 'ou=nope,dc=example,dc=com' '(objectClass=*)': base DN 'ou=nope,dc=example,dc=com' does not exist (No such object; nearest existing entry 'dc=example,dc=com')" \
    "a missing base DN is L2S_ELDAP naming the base"

p -u "$LDAP_URI" "${admin[@]}" search "$people" "(objectClass=inetOrgPerson"
has "error -8 LDAP error: search '$people' '(objectClass=inetOrgPerson': Bad search filter" \
    "a bad filter is L2S_ELDAP naming it"

limited=(-D "cn=limited,ou=services,$LDAP_BASE" -y "$SLAPD_DIR/limited.pass")
p -q -p 10 -u "$LDAP_URI" "${limited[@]}" search "$people" "(objectClass=inetOrgPerson)" uid
has "error -7 refused as unsafe: search '$people' '(objectClass=inetOrgPerson)': Size limit exceeded" \
    "an account over its hard size limit gets a failed search (incomplete: L2S_EUNSAFE), not a short one"
p -q -p 10 -u "$LDAP_URI" "${limited[@]}" search "ou=groups,$LDAP_BASE" "(objectClass=*)" cn
has "entries 4" "the same account reads a subtree under its limit"

p -q -s 150 -p 100 -u "$LDAP_URI" "${admin[@]}" search "$people" "(objectClass=inetOrgPerson)" uid
has "entries 150" "a callback can stop the search"
has "error 42 unknown error: stopped by the callback after 150 entries" \
    "the callback's code and message come back"

# --- root DSE and DN normalisation --------------------------------------------
p -u "$LDAP_URI" -m anonymous rootdse namingContexts
has "value dc=example,dc=com" "root DSE attribute is read"
p -u "$LDAP_URI" -m anonymous rootdse vendorVersionX
has "value (absent)" "an absent root DSE attribute is NULL"

p dn-norm 'UID=John.Smith , OU=People,DC=Example,DC=COM'
has "dn uid=john.smith,ou=people,dc=example,dc=com" "DN normalisation lower-cases and trims"
p dn-norm 'cn=Smith\, John,ou=People,dc=example,dc=com'
has "dn cn=smith\\2c john,ou=people,dc=example,dc=com" "DN normalisation keeps escaped commas"
p dn-norm 'not a dn'
has "error -3 parse error: invalid DN 'not a dn'" "an invalid DN is L2S_EPARSE"

# --- the server goes away mid-read --------------------------------------------
p -q -p 100 -t 2 -k "$SLAPD_PID" -g "$(kill -l STOP)" -n 100 -u "$LDAP_URI" "${admin[@]}" \
    search "$people" "(objectClass=inetOrgPerson)" uid
kill -CONT "$SLAPD_PID"
has "error -8 LDAP error: search '$people' '(objectClass=inetOrgPerson)': Timed out (no answer from the server)" \
    "a server that stops answering mid-read fails the search after the timeout"

pv -q -p 100 -k "$SLAPD_PID" -n 100 -u "$LDAP_URI" "${admin[@]}" \
    search "$people" "(objectClass=inetOrgPerson)" uid
has "error -8 LDAP error: search '$people' '(objectClass=inetOrgPerson)': Can't contact LDAP server" \
    "slapd killed after the first page fails the search as L2S_ELDAP"
hasnt "entries $users" "the killed search did not pretend to be complete"

slapd_restart "$tmp/slapd" 2>"$tmp/start.err"
ok $? "slapd restarts on the same ports and data"
p -q -p 500 -u "$LDAP_URI" "${admin[@]}" search "$people" "(objectClass=inetOrgPerson)" uid
has "entries $users" "after the restart every entry is back"

# --- a server that wants encryption before a simple bind ---------------------
cat >"$tmp/security.ldif" <<'EOF'
dn: cn=config
changetype: modify
replace: olcSecurity
olcSecurity: simple_bind=64
EOF
slapd_config "$tmp/security.ldif"
ok $? "slapd_config changes cn=config over ldapi"
p -u "$LDAP_URI" "${admin[@]}" bind
has "error -5 authentication refused: bind as '$LDAP_BIND_DN' to '$LDAP_URI' refused: Confidentiality required" \
    "a simple bind in clear refused by policy is L2S_EAUTH"
has ": use LDAPS, StartTLS or GSSAPI" "the refusal says how to bind instead"
p -u "$LDAP_URI" -Z -C "$LDAP_CA_FILE" "${admin[@]}" bind
has "bound $LDAP_URI" "the same bind over StartTLS succeeds"

echo "1..$n"
[ $failed -eq 0 ]
