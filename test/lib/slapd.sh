# slapd.sh - a throwaway OpenLDAP server for tests
#
# Sourced by test scripts (bash).  Builds a private slapd (Debian's
# /usr/sbin/slapd) entirely under one directory: its cn=config in DIR/slapd.d
# (generated with slapadd -n0, never the system one), an mdb database in
# DIR/db, a test CA and server certificate in DIR/tls.  It listens on
# 127.0.0.1 only, on free ports, so several instances (different DIRs) can
# run side by side; the system slapd is never used or touched.
#
#   slapd_start DIR [LDIF...]   create and start; the LDIFs are loaded with
#                               slapadd -q before start (the base entry
#                               dc=example,dc=com is always created first, so
#                               data files must not contain it)
#   slapd_stop [DIR]            stop (SIGTERM, then SIGKILL after 10 s)
#   slapd_restart [DIR]         stop and start again, same ports and data
#   slapd_add LDIF              ldapadd as the admin
#   slapd_modify LDIF           ldapmodify as the admin
#   slapd_config LDIF           ldapmodify on cn=config (SASL EXTERNAL as root
#                               over the instance's ldapi socket): overlays,
#                               modules, limits
#   slapd_search [ARGS...]      ldapsearch as the admin under LDAP_BASE
#
# slapd_start exports:
#   LDAP_URI        ldap://127.0.0.1:PORT (StartTLS available)
#   LDAPS_URI       ldaps://127.0.0.1:PORT2
#   LDAPI_URI       ldapi://... (the socket in DIR)
#   LDAP_PORT, LDAPS_PORT, LDAP_BASE (dc=example,dc=com),
#   LDAP_BIND_DN    cn=admin,dc=example,dc=com (the rootdn)
#   LDAP_PASS_FILE  DIR/ldap.pass, mode 600, the random password plus one "\n"
#                   (DIR/ldap.pass.raw holds it without, for ldapsearch -y)
#   LDAP_CA_FILE    DIR/tls/ca.pem
#   SLAPD_PID, SLAPD_DIR, SLAPD_LOG (DIR/slapd.log)
#
# Limits.  The rootdn has no limits at all (slapd never limits it).  Every
# other identity gets the global limit
#   olcSizeLimit: size.soft=500 size.hard=unlimited size.pr=unlimited
#                 size.prtotal=unlimited
# i.e. a plain search returns at most 500 entries unless the client asks for
# more, and a paged search of any page size returns everything (100k fine).
# One more account shows a hard limit being hit:
#   cn=limited,ou=services,dc=example,dc=com (password in DIR/limited.pass)
#   olcLimits: size.soft=50 size.hard=50 size.pr=50 size.prtotal=50
# ou=services is created only for it.  Everyone may read everything (access
# "to * by * read", userPassword excepted): this is a test lab.
#
# Options (environment, read by slapd_start):
#   SLAPD_CONFIG_LDIF  an extra LDIF appended to the generated cn=config
#                      before slapadd -n0 (modules, overlays)
#   SLAPD_LOGLEVEL     olcLogLevel (default "none"; e.g. "stats")
#   SLAPD_DEBUG        slapd -d level (default 0; "stats" puts every
#                      operation into DIR/slapd.log)
#   SLAPD_MAXSIZE      mdb maxsize in bytes (default 2 GiB, sparse)
#
# slapd_start does not install traps: the test does
#   trap 'slapd_stop "$dir"' EXIT
# Works as root in a fresh temporary directory.

_SLAPD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=test/lib/tls.sh
. "$_SLAPD_LIB_DIR/tls.sh"

SLAPD_BIN=${SLAPD_BIN:-/usr/sbin/slapd}
SLAPADD_BIN=${SLAPADD_BIN:-/usr/sbin/slapadd}
SLAPD_SCHEMA_DIR=${SLAPD_SCHEMA_DIR:-/etc/ldap/schema}
SLAPD_MODULE_DIR=${SLAPD_MODULE_DIR:-/usr/lib/ldap}

# Print two distinct free TCP ports on 127.0.0.1.
_slapd_free_ports() {
	if command -v python3 >/dev/null 2>&1 && python3 - <<'EOF' 2>/dev/null
import socket
socks = []
for _ in range(2):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks))
EOF
	then
		return 0
	fi
	# Fallback: random high ports nothing answers on.
	local p out="" tries=0
	while [ $tries -lt 200 ]; do
		tries=$((tries + 1))
		p=$((20000 + RANDOM % 40000))
		[[ " $out " == *" $p "* ]] && continue
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			out+="${out:+ }$p"
			[ "$(wc -w <<<"$out")" -eq 2 ] && { echo "$out"; return 0; }
		fi
	done
	echo "slapd_start: cannot find free ports" >&2
	return 1
}

# Percent-encode a path for an ldapi:// URI.
_slapd_ldapi_uri() {
	local s=$1 out="" c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	echo "ldapi://$out"
}

_slapd_export() {
	local dir=$1
	SLAPD_DIR=$dir
	SLAPD_LOG=$dir/slapd.log
	read -r LDAP_PORT LDAPS_PORT <"$dir/ports"
	LDAP_URI=ldap://127.0.0.1:$LDAP_PORT
	LDAPS_URI=ldaps://127.0.0.1:$LDAPS_PORT
	LDAPI_URI=$(_slapd_ldapi_uri "$dir/ldapi")
	LDAP_BASE=dc=example,dc=com
	LDAP_BIND_DN=cn=admin,dc=example,dc=com
	LDAP_PASS_FILE=$dir/ldap.pass
	LDAP_CA_FILE=$dir/tls/ca.pem
	export SLAPD_DIR SLAPD_LOG LDAP_PORT LDAPS_PORT LDAP_URI LDAPS_URI \
	    LDAPI_URI LDAP_BASE LDAP_BIND_DN LDAP_PASS_FILE LDAP_CA_FILE
}

_slapd_random_password() {
	openssl rand -base64 24 | tr -d '/+=\n' | cut -c1-24
}

_slapd_write_config() {
	local dir=$1 rootpw=$2 limitedpw=$3
	local hash lhash
	hash=$(/usr/sbin/slappasswd -s "$rootpw") || return 1
	lhash=$(/usr/sbin/slappasswd -s "$limitedpw") || return 1
	cat >"$dir/config.ldif" <<EOF
dn: cn=config
objectClass: olcGlobal
cn: config
olcPidFile: $dir/slapd.pid
olcArgsFile: $dir/slapd.args
olcLogLevel: ${SLAPD_LOGLEVEL:-none}
olcTLSCACertificateFile: $dir/tls/ca.pem
olcTLSCertificateFile: $dir/tls/server.pem
olcTLSCertificateKeyFile: $dir/tls/server.key
olcTLSVerifyClient: never

dn: cn=module{0},cn=config
objectClass: olcModuleList
cn: module{0}
olcModulePath: $SLAPD_MODULE_DIR
olcModuleLoad: back_mdb

dn: cn=schema,cn=config
objectClass: olcSchemaConfig
cn: schema

include: file://$SLAPD_SCHEMA_DIR/core.ldif

include: file://$SLAPD_SCHEMA_DIR/cosine.ldif

include: file://$SLAPD_SCHEMA_DIR/nis.ldif

include: file://$SLAPD_SCHEMA_DIR/inetorgperson.ldif

dn: olcDatabase={-1}frontend,cn=config
objectClass: olcDatabaseConfig
objectClass: olcFrontendConfig
olcDatabase: {-1}frontend
olcSizeLimit: size.soft=500 size.hard=unlimited size.pr=unlimited size.prtotal=unlimited

dn: olcDatabase={0}config,cn=config
objectClass: olcDatabaseConfig
olcDatabase: {0}config
olcAccess: {0}to * by dn.exact=gidNumber=0+uidNumber=0,cn=peercred,cn=external,cn=auth manage by * none

dn: olcDatabase={1}mdb,cn=config
objectClass: olcDatabaseConfig
objectClass: olcMdbConfig
olcDatabase: {1}mdb
olcDbDirectory: $dir/db
olcSuffix: dc=example,dc=com
olcRootDN: cn=admin,dc=example,dc=com
olcRootPW: $hash
olcDbMaxSize: ${SLAPD_MAXSIZE:-2147483648}
olcDbIndex: objectClass eq
olcDbIndex: entryUUID eq
olcDbIndex: member eq
olcDbIndex: uid eq
olcSizeLimit: size.soft=500 size.hard=unlimited size.pr=unlimited size.prtotal=unlimited
olcLimits: {0}dn.exact="cn=limited,ou=services,dc=example,dc=com" size.soft=50 size.hard=50 size.pr=50 size.prtotal=50
olcAccess: {0}to attrs=userPassword by anonymous auth by * none
olcAccess: {1}to * by * read
EOF
	if [ -n "${SLAPD_CONFIG_LDIF:-}" ]; then
		printf '\n' >>"$dir/config.ldif"
		cat "$SLAPD_CONFIG_LDIF" >>"$dir/config.ldif" || return 1
	fi
	cat >"$dir/base.ldif" <<EOF
dn: dc=example,dc=com
objectClass: top
objectClass: dcObject
objectClass: organization
dc: example
o: Example

dn: ou=services,dc=example,dc=com
objectClass: organizationalUnit
ou: services

dn: cn=limited,ou=services,dc=example,dc=com
objectClass: organizationalRole
objectClass: simpleSecurityObject
cn: limited
userPassword: $lhash
EOF
}

# Start slapd for an existing DIR (config and ports already there).
_slapd_run() {
	local dir=$1 i
	_slapd_export "$dir"
	rm -f "$dir/slapd.pid"
	# -d: stay in the foreground (our child), log to DIR/slapd.log.
	"$SLAPD_BIN" -d "${SLAPD_DEBUG:-0}" -F "$dir/slapd.d" \
	    -h "$LDAP_URI/ $LDAPS_URI/ $LDAPI_URI" \
	    </dev/null >>"$dir/slapd.log" 2>&1 &
	SLAPD_PID=$!
	# Not a job of the test's shell: bash reaps it without printing
	# "Killed" when a test kills it on purpose.
	disown "$SLAPD_PID" 2>/dev/null
	echo "$SLAPD_PID" >"$dir/slapd.bgpid"
	export SLAPD_PID
	for ((i = 0; i < 150; i++)); do
		if ! kill -0 "$SLAPD_PID" 2>/dev/null; then
			echo "slapd_start: slapd exited at start; log tail:" >&2
			tail -n 20 "$dir/slapd.log" >&2
			return 1
		fi
		if ldapsearch -x -LLL -H "$LDAP_URI" -o nettimeout=2 -s base \
		    -b "" namingContexts >/dev/null 2>&1; then
			return 0
		fi
		sleep 0.1
	done
	echo "slapd_start: slapd did not answer on $LDAP_URI within 15 s; log tail:" >&2
	tail -n 20 "$dir/slapd.log" >&2
	kill -9 "$SLAPD_PID" 2>/dev/null
	return 1
}

slapd_start() {
	local dir=$1
	shift
	[ -n "$dir" ] || { echo "usage: slapd_start DIR [LDIF...]" >&2; return 2; }
	[ -x "$SLAPD_BIN" ] || { echo "slapd_start: no '$SLAPD_BIN' (apt-get install slapd)" >&2; return 1; }
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	if [ -e "$dir/slapd.d" ] || [ -e "$dir/db" ]; then
		echo "slapd_start: '$dir' already holds an instance (use slapd_restart)" >&2
		return 1
	fi
	mkdir -p "$dir/slapd.d" "$dir/db" || return 1
	chmod 700 "$dir/slapd.d" "$dir/db"

	local rootpw limitedpw ports
	rootpw=$(_slapd_random_password) && limitedpw=$(_slapd_random_password) || return 1
	# ldap.pass ends in one newline (the agent strips it); ldap.pass.raw
	# has none, for the OpenLDAP tools' -y, which read the file whole.
	(umask 077 && printf '%s\n' "$rootpw" >"$dir/ldap.pass" &&
	    printf '%s' "$rootpw" >"$dir/ldap.pass.raw" &&
	    printf '%s\n' "$limitedpw" >"$dir/limited.pass" &&
	    printf '%s' "$limitedpw" >"$dir/limited.pass.raw") || return 1
	chmod 600 "$dir"/ldap.pass* "$dir"/limited.pass*

	tls_ca "$dir/tls" && tls_server_cert "$dir/tls" 127.0.0.1 localhost || return 1
	_slapd_write_config "$dir" "$rootpw" "$limitedpw" || return 1

	if ! "$SLAPADD_BIN" -n0 -F "$dir/slapd.d" -l "$dir/config.ldif" \
	    >"$dir/slapadd.log" 2>&1; then
		echo "slapd_start: slapadd -n0 (config) failed:" >&2
		tail -n 20 "$dir/slapadd.log" >&2
		return 1
	fi
	local f
	for f in "$dir/base.ldif" "$@"; do
		if ! "$SLAPADD_BIN" -q -F "$dir/slapd.d" -b dc=example,dc=com \
		    -l "$f" >>"$dir/slapadd.log" 2>&1; then
			echo "slapd_start: slapadd -q '$f' failed:" >&2
			tail -n 20 "$dir/slapadd.log" >&2
			return 1
		fi
	done

	ports=$(_slapd_free_ports) || return 1
	echo "$ports" >"$dir/ports"
	_slapd_run "$dir"
}

slapd_stop() {
	local dir=${1:-$SLAPD_DIR} pid i
	[ -n "$dir" ] && [ -f "$dir/slapd.bgpid" ] || return 0
	read -r pid <"$dir/slapd.bgpid"
	rm -f "$dir/slapd.bgpid"
	[ -n "$pid" ] || return 0
	if kill -TERM "$pid" 2>/dev/null; then
		for ((i = 0; i < 100; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	return 0
}

slapd_restart() {
	local dir=${1:-$SLAPD_DIR}
	if [ -z "$dir" ] || [ ! -f "$dir/ports" ]; then
		echo "slapd_restart: no instance in '$dir'" >&2
		return 1
	fi
	slapd_stop "$dir"
	_slapd_run "$dir"
}

slapd_add() {
	ldapadd -x -H "$LDAP_URI" -D "$LDAP_BIND_DN" -y "$SLAPD_DIR/ldap.pass.raw" \
	    -f "$1" >/dev/null
}

slapd_modify() {
	ldapmodify -x -H "$LDAP_URI" -D "$LDAP_BIND_DN" -y "$SLAPD_DIR/ldap.pass.raw" \
	    -f "$1" >/dev/null
}

slapd_search() {
	ldapsearch -x -LLL -o ldif-wrap=no -H "$LDAP_URI" -D "$LDAP_BIND_DN" \
	    -y "$SLAPD_DIR/ldap.pass.raw" -b "$LDAP_BASE" "$@"
}

slapd_config() {
	ldapmodify -Q -Y EXTERNAL -H "$LDAPI_URI" -f "$1" >/dev/null
}
