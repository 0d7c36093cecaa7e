# shellcheck shell=bash
# samba-ad.sh - a throwaway Samba Active Directory domain controller for tests
#
# Sourced by test scripts (bash), run as root.  The DC (Debian's samba, 4.17)
# is provisioned under one directory and runs in a network namespace of its
# own (an AD DC wants its own address and a host name that resolves to it),
# joined to the host by a veth pair with private /30 addresses.  The name
# dc1.l2s.test is given to the test's processes only: the harness writes a
# hosts file and bind-mounts it over /etc/hosts inside a private mount
# namespace that the test script re-executes itself in.  The real /etc/hosts,
# /etc/krb5.conf and /etc/samba are never touched; everything else lives in
# the directory.
#
#   ad_enter_private_mounts "$0" "$@"
#                           first thing in a test: re-executes the script
#                           under unshare -m --propagation private (once;
#                           L2S_AD_PRIVATE_MOUNTS marks it done)
#   ad_start DIR            netns + veth, hosts file, provision (realm
#                           L2S.TEST, domain L2S, host dc1), start samba,
#                           wait for LDAPS, write DIR/krb5.conf
#   ad_restart OPT VALUE    stop samba, set one smb.conf option, start it
#                           again on the same data (same namespace)
#   ad_stop                 stop samba (TERM, KILL after 15 s), delete the
#                           veth and the netns, unmount the hosts file; safe
#                           to call twice, meant for an EXIT trap
#   ad_add FILE | ad_modify FILE | ad_delete DN | ad_search [ARGS...]
#                           ldapadd / ldapmodify / ldapdelete / ldapsearch
#                           -LLL -E pr=1000/noprompt as the Administrator
#                           over LDAPS (verified with AD_CA_FILE);
#                           ad_search searches under AD_BASE unless ARGS
#                           has its own -b
#   ad_service_account NAME a user NAME with a random password, its keytab;
#                           checks kinit -kt and a GSSAPI ldapsearch
#   ad_load_directory       generates (gen-ad-ldif.py) and loads the test
#                           directory; prints the counts
#
# ad_start exports:
#   AD_DIR, AD_HOST (dc1.l2s.test), AD_IP, AD_HOST_IP (the host's side),
#   AD_URI (ldap://dc1.l2s.test), AD_LDAPS_URI (ldaps://dc1.l2s.test),
#   AD_BASE (DC=l2s,DC=test), AD_REALM (L2S.TEST), AD_DOMAIN (L2S),
#   AD_ADMIN_DN (CN=Administrator,CN=Users,DC=l2s,DC=test),
#   AD_PASS_FILE    DIR/admin.pass, mode 600, the password plus one "\n"
#   AD_PASS_RAW     DIR/admin.pass.raw, the same without the newline (-y)
#   AD_CA_FILE      the CA of Samba's auto-generated TLS certificate
#   AD_SMB_CONF     DIR/samba/etc/smb.conf (for samba-tool -s)
#   KRB5_CONFIG     DIR/krb5.conf (realm L2S.TEST, kdc dc1.l2s.test, no DNS)
#   SAMBA_PID, SAMBA_LOG (DIR/samba.log), AD_NETNS
#   AD_TIMES        "provision=S start=S" (seconds, for diagnostics)
# ad_service_account exports AD_SVC_DN, AD_SVC_PRINCIPAL (NAME@L2S.TEST),
# AD_KEYTAB (DIR/NAME.keytab), AD_SVC_PASS_FILE (DIR/NAME.pass, mode 600)
# and AD_SVC_CCACHE (FILE:DIR/NAME.ccache, filled by kinit -kt).
#
# What Samba 4.17 requires of clients (measured):
#   - a simple bind needs TLS: over plain ldap:// it fails with
#     strongAuthRequired (8), "BindSimple: Transport encryption required."
#     (both with Samba's default "ldap server require strong auth = yes"
#     and with this lab's allow_sasl_over_tls);
#   - GSSAPI over ldap:// works as is (sign and seal, SSF 256); a SASL
#     security layer inside TLS is refused (unwillingToPerform, "Sign or
#     Seal are not allowed if TLS is used"): over ldaps:// or StartTLS,
#     clients must pass -O maxssf=0 (SASL_SECPROPS maxssf=0), which works
#     only because this lab sets AD_STRONG_AUTH (below); without a layer
#     over plain ldap:// it is strongAuthRequired (8).
#
# Options (environment):
#   AD_START_TIMEOUT   seconds to wait for LDAPS (default 90)
#   AD_MAX_RUNTIME     samba ends itself after this many seconds (default
#                      3600): a test killed with SIGKILL leaves no DC
#                      running for long (its netns and veth go with it)
#   AD_STRONG_AUTH     "ldap server require strong auth" (default
#                      allow_sasl_over_tls: GSSAPI over TLS without a SASL
#                      security layer is allowed, as Windows does; Samba's
#                      own default "yes" refuses GSSAPI over TLS entirely)
#   AD_DEBUG           samba's debug level (default 1)
#   AD_LOAD_VIA        ldb (default) or ldap, see ad_load_directory
#
# ad_stop never removes DIR: the test does (and keeps it under L2S_KEEP).
#
# The test installs the trap: trap ad_stop EXIT

_AD_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# samba-tool and the samba Python bindings are Debian's: /usr/bin/python3
# even when another python3 comes first in PATH.
AD_PYTHON=${AD_PYTHON:-/usr/bin/python3}

# Re-execute the calling script in a private mount namespace, once.
ad_enter_private_mounts() {
	[ -n "${L2S_AD_PRIVATE_MOUNTS:-}" ] && return 0
	local script=$1; shift
	if ! command -v unshare >/dev/null 2>&1; then
		echo "ad_enter_private_mounts: no unshare (util-linux)" >&2
		exit 1
	fi
	export L2S_AD_PRIVATE_MOUNTS=1
	exec unshare -m --propagation private -- "$BASH" "$script" "$@"
}

_ad_random_password() {
	# AD's complexity rule wants three character classes: add them.
	printf '%s-Aa1' "$(openssl rand -base64 24 | tr -d '/+=\n' | cut -c1-20)"
}

# _ad_write_secret FILE VALUE: FILE (mode 600) holds VALUE plus "\n",
# FILE.raw the VALUE alone.
_ad_write_secret() {
	(umask 077 && printf '%s\n' "$2" >"$1" && printf '%s' "$2" >"$1.raw")
}

_ad_now() { date +%s.%N; }
_ad_since() { awk -v a="$1" -v b="$(_ad_now)" 'BEGIN { printf "%.1f", b - a }'; }

# Pick a free /30 in 10.203.0.0/16 from the PID; print "HOSTIP NSIP".
_ad_pick_net() {
	local n=$(($$ % 16384)) tries x base
	for ((tries = 0; tries < 64; tries++)); do
		x=$(((n / 64) % 256))
		base=$(((n % 64) * 4))
		if ! ip -o -4 addr show 2>/dev/null | grep -q " 10\.203\.$x\.$((base + 1))/"; then
			echo "10.203.$x.$((base + 1)) 10.203.$x.$((base + 2))"
			return 0
		fi
		n=$(((n + 1) % 16384))
	done
	echo "ad_start: no free address in 10.203.0.0/16" >&2
	return 1
}

_ad_export() {
	local dir=$1
	AD_DIR=$dir
	AD_HOST=dc1.l2s.test
	AD_URI=ldap://$AD_HOST
	AD_LDAPS_URI=ldaps://$AD_HOST
	AD_BASE=DC=l2s,DC=test
	AD_REALM=L2S.TEST
	AD_DOMAIN=L2S
	AD_ADMIN_DN=CN=Administrator,CN=Users,$AD_BASE
	AD_PASS_FILE=$dir/admin.pass
	AD_PASS_RAW=$dir/admin.pass.raw
	AD_CA_FILE=$dir/samba/private/tls/ca.pem
	AD_SMB_CONF=$dir/samba/etc/smb.conf
	KRB5_CONFIG=$dir/krb5.conf
	SAMBA_LOG=$dir/samba.log
	export AD_DIR AD_HOST AD_URI AD_LDAPS_URI AD_BASE AD_REALM AD_DOMAIN \
	    AD_ADMIN_DN AD_PASS_FILE AD_PASS_RAW AD_CA_FILE AD_SMB_CONF \
	    KRB5_CONFIG SAMBA_LOG
}

_ad_fail() {
	echo "ad_start: $1" >&2
	if [ -n "${2:-}" ] && [ -f "$2" ]; then
		echo "ad_start: last lines of '$2':" >&2
		tail -n "${3:-25}" "$2" >&2
	fi
	return 1
}

# _ad_run_samba DIR: start the provisioned DC in its namespace, wait for
# LDAPS.  -F: foreground (our child), --no-process-group: stays in ours.
_ad_run_samba() {
	local dir=$1 i limit=$((${AD_START_TIMEOUT:-90} * 5))
	KRB5_CONFIG=$dir/krb5.conf ip netns exec "$AD_NETNS" \
	    samba -F --no-process-group -s "$AD_SMB_CONF" -d "${AD_DEBUG:-1}" --debug-stdout \
	    --maximum-runtime="${AD_MAX_RUNTIME:-3600}" \
	    </dev/null >>"$SAMBA_LOG" 2>&1 &
	SAMBA_PID=$!
	disown "$SAMBA_PID" 2>/dev/null
	echo "$SAMBA_PID" >"$dir/samba.bgpid"
	export SAMBA_PID
	for ((i = 0; ; i++)); do
		if ! kill -0 "$SAMBA_PID" 2>/dev/null; then
			_ad_fail "samba exited at start" "$SAMBA_LOG"
			return 1
		fi
		if [ -s "$AD_CA_FILE" ] &&
		    LDAPTLS_CACERT=$AD_CA_FILE ldapsearch -x -LLL -H "$AD_LDAPS_URI" \
		    -o nettimeout=2 -s base -b "" dnsHostName >/dev/null 2>&1; then
			return 0
		fi
		if [ "$i" -ge "$limit" ]; then
			_ad_fail "LDAPS on $AD_LDAPS_URI did not answer within ${AD_START_TIMEOUT:-90} s" "$SAMBA_LOG" 40
			return 1
		fi
		sleep 0.2
	done
}

# _ad_stop_samba: TERM, then KILL after 15 s; the namespace stays.
_ad_stop_samba() {
	local pid i
	[ -n "${AD_DIR:-}" ] && [ -f "$AD_DIR/samba.bgpid" ] || return 0
	read -r pid <"$AD_DIR/samba.bgpid"
	rm -f "$AD_DIR/samba.bgpid"
	if [ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null; then
		for ((i = 0; i < 150; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null
	fi
	if [ -n "${AD_NETNS:-}" ]; then
		# Whatever samba forked and left behind in its namespace.
		for pid in $(ip netns pids "$AD_NETNS" 2>/dev/null); do
			kill -KILL "$pid" 2>/dev/null
		done
	fi
	return 0
}

# ad_restart OPTION VALUE: stop the DC, set one smb.conf [global] option,
# start it again on the same data.
ad_restart() {
	local opt=$1 val=$2
	_ad_stop_samba
	"$AD_PYTHON" - "$AD_SMB_CONF" "$opt" "$val" <<'PY' || return 1
import re, sys
path, opt, val = sys.argv[1:]
text = open(path).read()
pat = re.compile(r"^(\s*)%s\s*=.*$" % re.escape(opt), re.M | re.I)
if pat.search(text):
    text = pat.sub(lambda m: "%s%s = %s" % (m.group(1), opt, val), text, count=1)
else:
    text = text.replace("[global]\n", "[global]\n\t%s = %s\n" % (opt, val), 1)
open(path, "w").write(text)
PY
	_ad_run_samba "$AD_DIR"
}

ad_start() {
	local dir=$1
	[ -n "$dir" ] || { echo "usage: ad_start DIR" >&2; return 2; }
	[ "$(id -u)" = 0 ] || { echo "ad_start: must run as root" >&2; return 1; }
	[ -n "${L2S_AD_PRIVATE_MOUNTS:-}" ] ||
	    { echo "ad_start: call ad_enter_private_mounts first" >&2; return 1; }
	local cmd
	for cmd in samba samba-tool ip ldapsearch kinit; do
		command -v "$cmd" >/dev/null 2>&1 ||
		    { echo "ad_start: no '$cmd' (see scripts/install-deps)" >&2; return 1; }
	done
	[ -z "${AD_NETNS:-}" ] || { echo "ad_start: a DC already runs ($AD_NETNS)" >&2; return 1; }
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	[ ! -e "$dir/samba" ] || { echo "ad_start: '$dir' already holds a DC" >&2; return 1; }
	_ad_export "$dir"

	# --- network: netns, veth, hosts file ---------------------------------
	local ips t0 t1
	ips=$(_ad_pick_net) || return 1
	AD_HOST_IP=${ips% *}
	AD_IP=${ips#* }
	AD_NETNS=l2sad$$
	_AD_VETH=l2sad$$h
	export AD_HOST_IP AD_IP AD_NETNS
	ip netns add "$AD_NETNS" >"$dir/net.log" 2>&1 ||
	    { unset AD_NETNS; _ad_fail "ip netns add failed" "$dir/net.log"; return 1; }
	{
		ip link add "$_AD_VETH" type veth peer name "l2sad$$n" &&
		ip link set "l2sad$$n" netns "$AD_NETNS" &&
		ip addr add "$AD_HOST_IP/30" dev "$_AD_VETH" &&
		ip link set "$_AD_VETH" up &&
		ip netns exec "$AD_NETNS" ip link set lo up &&
		ip netns exec "$AD_NETNS" ip addr add "$AD_IP/30" dev "l2sad$$n" &&
		ip netns exec "$AD_NETNS" ip link set "l2sad$$n" up
	} >>"$dir/net.log" 2>&1 || { _ad_fail "veth setup failed" "$dir/net.log"; return 1; }
	{ cat /etc/hosts && printf '%s %s dc1\n' "$AD_IP" "$AD_HOST"; } >"$dir/hosts" &&
	    mount --bind "$dir/hosts" /etc/hosts >>"$dir/net.log" 2>&1 ||
	    { _ad_fail "cannot bind-mount '$dir/hosts' over /etc/hosts" "$dir/net.log"; return 1; }
	_AD_HOSTS_MOUNTED=1

	cat >"$dir/krb5.conf" <<EOF
[libdefaults]
	default_realm = L2S.TEST
	dns_lookup_kdc = false
	dns_lookup_realm = false
	dns_canonicalize_hostname = false
	rdns = false

[realms]
	L2S.TEST = {
		kdc = $AD_HOST
		admin_server = $AD_HOST
	}

[domain_realm]
	.l2s.test = L2S.TEST
	l2s.test = L2S.TEST
EOF

	# --- provision --------------------------------------------------------
	local pass
	pass=$(_ad_random_password) && _ad_write_secret "$AD_PASS_FILE" "$pass" || return 1
	t0=$(_ad_now)
	# No --adminpass (it would show in ps): provision makes up one and logs
	# it; the log line is dropped and the password set from the file below.
	samba-tool domain provision --targetdir="$dir/samba" \
	    --realm=L2S.TEST --domain=L2S --server-role=dc --host-name=dc1 \
	    --dns-backend=NONE \
	    --option="interfaces = $AD_IP" \
	    --option="bind interfaces only = yes" \
	    --option="server services = ldap, kdc" \
	    --option="ldap server require strong auth = ${AD_STRONG_AUTH:-allow_sasl_over_tls}" \
	    --option="log file = $dir/samba.log" \
	    --option="pid directory = $dir/samba/run" \
	    --option="ncalrpc dir = $dir/samba/run/ncalrpc" \
	    --option="winbindd socket directory = $dir/samba/run/winbindd" \
	    --option="ntp signd socket directory = $dir/samba/run/ntp_signd" \
	    2>&1 | grep -v -i 'admin password' >"$dir/provision.log"
	[ -f "$AD_SMB_CONF" ] && grep -q 'DOMAIN SID' "$dir/provision.log" ||
	    { _ad_fail "samba-tool domain provision failed" "$dir/provision.log"; return 1; }
	mkdir -p "$dir/samba/run" || return 1
	# The Administrator's password, from the file (never on a command line),
	# and the DC's ldap/ service principal names.
	if ! "$AD_PYTHON" - "$AD_SMB_CONF" "$AD_PASS_RAW" >"$dir/setpassword.log" 2>&1 <<'EOF'
import sys
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
lp = LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
with open(sys.argv[2]) as f:
    pw = f.read()
db.setpassword("(sAMAccountName=Administrator)", pw,
               force_change_at_next_login=False, username="Administrator")
# The ldap/ SPNs, which samba_spnupdate (run by the dnsupdate service,
# left out here) would add: GSSAPI clients ask for ldap/dc1.l2s.test.
dc = "CN=DC1,OU=Domain Controllers," + str(db.domain_dn())
db.modify_ldif("dn: %s\nchangetype: modify\nadd: servicePrincipalName\n%s" % (
    dc, "".join("servicePrincipalName: %s\n" % s for s in (
        "ldap/dc1.l2s.test", "ldap/dc1.l2s.test/l2s.test", "ldap/dc1.l2s.test/L2S",
        "ldap/DC1", "ldap/DC1/L2S"))))
EOF
	then
		_ad_fail "setting the Administrator's password or the ldap/ SPNs failed" "$dir/setpassword.log"
		return 1
	fi
	t1=$(_ad_now)
	_AD_T_PROVISION=$(_ad_since "$t0")

	# --- start ------------------------------------------------------------
	_ad_run_samba "$dir" || return 1
	_AD_T_START=$(_ad_since "$t1")
	AD_TIMES="provision=$_AD_T_PROVISION start=$_AD_T_START"
	export AD_TIMES
	return 0
}

ad_stop() {
	_ad_stop_samba
	if [ -n "${AD_NETNS:-}" ]; then
		ip link del "l2sad${AD_NETNS#l2sad}h" >/dev/null 2>&1
		ip netns del "$AD_NETNS" >/dev/null 2>&1
		unset AD_NETNS
	fi
	if [ -n "${_AD_HOSTS_MOUNTED:-}" ]; then
		umount /etc/hosts 2>/dev/null
		unset _AD_HOSTS_MOUNTED
	fi
	return 0
}

# The LDAP tools as the Administrator over LDAPS.
_ad_ldap() {
	local tool=$1; shift
	LDAPTLS_CACERT=$AD_CA_FILE "$tool" -x -H "$AD_LDAPS_URI" -D "$AD_ADMIN_DN" \
	    -y "$AD_PASS_RAW" "$@"
}

ad_add() { _ad_ldap ldapadd -f "$1" >/dev/null; }
ad_modify() { _ad_ldap ldapmodify -f "$1" >/dev/null; }
ad_delete() { _ad_ldap ldapdelete "$1"; }

ad_search() {
	local a
	for a in "$@"; do
		[ "$a" = -b ] && { _ad_ldap ldapsearch -LLL -o ldif-wrap=no \
		    -E pr=1000/noprompt "$@"; return; }
	done
	_ad_ldap ldapsearch -LLL -o ldif-wrap=no -E pr=1000/noprompt -b "$AD_BASE" "$@"
}

# UTF-16LE, double-quoted, base64: how AD takes unicodePwd.
_ad_unicode_pwd() {
	"$AD_PYTHON" -c 'import base64, sys
pw = open(sys.argv[1]).read()
print(base64.b64encode(("\"%s\"" % pw).encode("utf-16-le")).decode())' "$1"
}

ad_service_account() {
	local name=$1 dir=${AD_DIR:?ad_start first} pass
	[ -n "$name" ] || { echo "usage: ad_service_account NAME" >&2; return 2; }
	AD_SVC_DN="CN=$name,CN=Users,$AD_BASE"
	AD_SVC_PRINCIPAL="$name@$AD_REALM"
	AD_KEYTAB=$dir/$name.keytab
	AD_SVC_PASS_FILE=$dir/$name.pass
	AD_SVC_CCACHE=FILE:$dir/$name.ccache
	export AD_SVC_DN AD_SVC_PRINCIPAL AD_KEYTAB AD_SVC_PASS_FILE AD_SVC_CCACHE
	pass=$(_ad_random_password) && _ad_write_secret "$AD_SVC_PASS_FILE" "$pass" || return 1
	(umask 077 && cat >"$dir/$name.ldif" <<EOF
dn: $AD_SVC_DN
changetype: add
objectClass: user
sAMAccountName: $name
userPrincipalName: $AD_SVC_PRINCIPAL
userAccountControl: 66048
unicodePwd:: $(_ad_unicode_pwd "$AD_SVC_PASS_FILE.raw")
EOF
	) || return 1
	_ad_ldap ldapmodify -f "$dir/$name.ldif" >"$dir/$name.log" 2>&1 ||
	    { echo "ad_service_account: adding '$AD_SVC_DN' failed:" >&2; cat "$dir/$name.log" >&2; return 1; }
	rm -f "$dir/$name.ldif"
	rm -f "$AD_KEYTAB"
	samba-tool domain exportkeytab "$AD_KEYTAB" --principal="$AD_SVC_PRINCIPAL" \
	    -s "$AD_SMB_CONF" >>"$dir/$name.log" 2>&1 && chmod 600 "$AD_KEYTAB" ||
	    { echo "ad_service_account: exportkeytab failed:" >&2; cat "$dir/$name.log" >&2; return 1; }
	KRB5CCNAME=$AD_SVC_CCACHE kinit -kt "$AD_KEYTAB" "$AD_SVC_PRINCIPAL" >>"$dir/$name.log" 2>&1 ||
	    { echo "ad_service_account: kinit -kt '$AD_KEYTAB' $AD_SVC_PRINCIPAL failed:" >&2
	      tail -n 5 "$dir/$name.log" >&2; return 1; }
	KRB5CCNAME=$AD_SVC_CCACHE ldapsearch -Q -LLL -Y GSSAPI -H "$AD_URI" -s base \
	    -b "$AD_BASE" dn >>"$dir/$name.log" 2>&1 ||
	    { echo "ad_service_account: GSSAPI ldapsearch as $AD_SVC_PRINCIPAL failed:" >&2
	      tail -n 5 "$dir/$name.log" >&2; return 1; }
	return 0
}

# Load an LDIF (every record with a changetype: add or modify) straight into
# sam.ldb through Samba's own module stack (the same checks as LDAP: schema,
# RIDs, linked attributes), in transactions of 250 records.  Samba may run:
# samba-tool writes the database the same way.  About twice as fast as
# ldapmodify over LDAPS: most of the cost is Samba's index lists, rewritten
# on each add (the time per add grows with the number of users).
_ad_ldb_load() {
	"$AD_PYTHON" - "$AD_SMB_CONF" "$1" <<'EOF'
import sys
import ldb
from samba.auth import system_session
from samba.param import LoadParm
from samba.samdb import SamDB
lp = LoadParm()
lp.load(sys.argv[1])
db = SamDB(url=lp.private_path("sam.ldb"), session_info=system_session(), lp=lp)
with open(sys.argv[2], encoding="utf-8") as f:
    data = f.read()
n = 0
db.transaction_start()
try:
    for changetype, msg in db.parse_ldif(data):
        try:
            if changetype == ldb.CHANGETYPE_ADD:
                db.add(msg)
            elif changetype == ldb.CHANGETYPE_MODIFY:
                db.modify(msg)
            else:
                raise ValueError("unexpected changetype %d" % changetype)
        except Exception as e:
            raise SystemExit("'%s': %s" % (msg.dn, e))
        n += 1
        if n % 250 == 0:
            db.transaction_commit()
            db.transaction_start()
except BaseException:
    db.transaction_cancel()
    raise
db.transaction_commit()
EOF
}

# ad_load_directory [GEN-AD-LDIF ARGS...]; AD_LOAD_VIA=ldap loads with
# ldapmodify over LDAPS instead (slower).
ad_load_directory() {
	local dir=${AD_DIR:?ad_start first} t0 users groups rc
	python3 "$_AD_LIB_DIR/gen-ad-ldif.py" --base "$AD_BASE" "$@" >"$dir/directory.ldif" ||
	    { echo "ad_load_directory: gen-ad-ldif.py failed" >&2; return 1; }
	t0=$(_ad_now)
	if [ "${AD_LOAD_VIA:-ldb}" = ldap ]; then
		_ad_ldap ldapmodify -f "$dir/directory.ldif" >"$dir/load.log" 2>&1
	else
		_ad_ldb_load "$dir/directory.ldif" >"$dir/load.log" 2>&1
	fi
	rc=$?
	if [ $rc -ne 0 ]; then
		echo "ad_load_directory: loading '$dir/directory.ldif' failed:" >&2
		tail -n 8 "$dir/load.log" >&2
		return 1
	fi
	AD_LOAD_TIME=$(_ad_since "$t0")
	export AD_LOAD_TIME
	users=$(grep -c '^objectClass: user$' "$dir/directory.ldif")
	groups=$(grep -c '^objectClass: group$' "$dir/directory.ldif")
	echo "loaded $users users and $groups groups in $AD_LOAD_TIME s"
}
