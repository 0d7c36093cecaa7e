#!/usr/bin/env bash
# syslog_test.sh - `--syslog`: every log line goes to the system log with
# its level (facility daemon, ident ldap2scim[pid]) and none to stderr.
# The test's own /dev/log: a datagram socket a small reader owns, bound
# over /dev/log inside a private mount namespace (unshare -m), so nothing
# reaches the machine's logger and the machine's logger cannot interfere.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/tap.sh"
bin=${L2S_BIN:-$top/build/ldap2scim}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/l2s-syslog.XXXXXX")
reader=""
trap '[ -n "$reader" ] && kill "$reader" 2>/dev/null; wait 2>/dev/null; rm -rf "$tmp"' EXIT

for tool in unshare mount python3; do
	command -v "$tool" >/dev/null 2>&1 || { echo "Bail out! '$tool' is missing"; exit 1; }
done

# The reader: one datagram per line into $tmp/got, until killed.
python3 - "$tmp/log.sock" "$tmp/got" <<'PY' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".ready", "w").close()
with open(sys.argv[2], "ab", buffering=0) as out:
    while True:
        d = s.recv(65536)
        out.write(d.replace(b"\n", b" ") + b"\n")
PY
reader=$!
for _ in $(seq 50); do [ -e "$tmp/log.sock.ready" ] && break; sleep 0.1; done
[ -e "$tmp/log.sock.ready" ]
ok $? "the test's log reader listens on its own socket"

password="pw-$(head -c 9 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s\n' "$password" >"$tmp/ldap.pass"
printf 'token\n' >"$tmp/scim.token"
chmod 600 "$tmp/ldap.pass" "$tmp/scim.token"
cat >"$tmp/l2s.yaml" <<YAML
ldap:
  uri: ldap://127.0.0.1:9
  bind:
    method: simple
    dn: cn=admin,dc=example,dc=com
    password_file: $tmp/ldap.pass
  base_dn: dc=example,dc=com
users:
  filter: (objectClass=inetOrgPerson)
  map:
    userName: "{uid}"
scim:
  url: http://127.0.0.1:9/scim/v2
  token_file: $tmp/scim.token
  allow_insecure_http: true
sync:
  state: $tmp/state.db
YAML

# in_ns CMD...: CMD with the reader's socket as /dev/log (a file bound
# over /dev/log, which may not exist outside: a tmpfs /dev with the nodes
# the agent needs, bound from the real one).
in_ns() {
	unshare -m bash -c '
	set -e
	tmp=$1; shift
	mount --make-rprivate /
	mkdir -p "$tmp/realdev"
	mount --rbind /dev "$tmp/realdev"
	mount -t tmpfs -o mode=755 tmpfs /dev
	for n in null zero random urandom; do
		touch "/dev/$n"
		mount --bind "$tmp/realdev/$n" "/dev/$n"
	done
	touch /dev/log
	mount --bind "$tmp/log.sock" /dev/log
	exec "$@"' in_ns "$tmp" "$@"
}

in_ns "$bin" -c "$tmp/l2s.yaml" --syslog check >"$tmp/out" 2>"$tmp/err"
rc=$?
is "$rc" 3 "check --syslog against an unreachable LDAP server exits 3"
is "$(cat "$tmp/err")" "" "and writes nothing to stderr"
sleep 0.3
got=$(cat "$tmp/got" 2>/dev/null)
# daemon (3) * 8 + info (6) = 30; + err (3) = 27
like "$got" '^<30>.*ldap2scim\[[0-9]+\]: config .*l2s\.yaml.: ok$' \
    "an info line arrives as daemon.info with ident and pid"
like "$got" "^<27>.*ldap2scim\\[[0-9]+\\]: cannot reach any LDAP server: 'ldap://127\\.0\\.0\\.1:9'" \
    "an error arrives as daemon.err, without the 'error:' prefix stderr has"
unlike "$got" "$password" "the bind password is in no line"
unlike "$got" 'ldap2scim: ' "no line carries the stderr prefix"

"$bin" -c "$tmp/l2s.yaml" check >"$tmp/out2" 2>"$tmp/err2"
like "$(cat "$tmp/err2")" "ldap2scim: error: cannot reach any LDAP server" \
    "without --syslog the same lines go to stderr"

in_ns "$bin" -c "$tmp/missing.yaml" --syslog check >"$tmp/out3" 2>"$tmp/err3"
is "$?" 2 "a missing config file with --syslog exits 2"
sleep 0.3
like "$(cat "$tmp/got")" "^<27>.*missing\\.yaml" "and its error is logged as daemon.err"
tap_done
