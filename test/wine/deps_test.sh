#!/usr/bin/env bash
# deps_test.sh - the Windows build's static libraries under wine: runs
# $L2S_BUILD/win64/test/deps_smoke.exe (make windows-deps-smoke) and relays
# its TAP: SQLite makes a WAL database under a non-ASCII directory name and
# reads a UTF-8 value back; cJSON and libyaml parse (and cJSON prints)
# non-ASCII documents; curl names Schannel as its TLS backend, HTTP and HTTPS
# as its protocols, and GETs a body from a server started here on 127.0.0.1,
# over HTTP and over HTTPS (Schannel, a throwaway CA), and refuses the HTTPS
# server when it trusts another CA only (its certificates' signatures are
# full width: see test/lib/tls.sh for wine's refusal).  HTTPS goes to
# "localhost": curl 7.88.1's Schannel code matches only DNS names, not IP
# address SANs (curl issue 15149, fixed in curl 8.11).  Then the database is
# read back with Linux's sqlite3.  Builds nothing itself.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${L2S_BUILD:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
. "$top/test/lib/tap.sh"
. "$top/test/lib/wine.sh"
. "$top/test/lib/tls.sh"

exe=$build/win64/test/deps_smoke.exe
if [ ! -f "$exe" ]; then
	ok 1 "deps_smoke.exe is built"
	diag "missing '$exe': run 'make windows-deps-smoke' (or: make -f mk/windeps.mk windows-deps-smoke BUILD=$build)"
	tap_done
	exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/l2s-deps-test.XXXXXX")
server_pid=""
cleanup() {
	wine_stop
	[ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# --- an HTTP and an HTTPS server on free loopback ports --------------------
mkdir -p "$tmp/www" "$tmp/db" "$tmp/tls"
body="l2s-deps-smoke-$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n')"
printf '%s' "$body" >"$tmp/www/body.txt"
tls_ca "$tmp/tls" && tls_server_cert "$tmp/tls" 127.0.0.1 localhost && tls_ca "$tmp/other"
ok $? "a throwaway CA, its server certificate and an unrelated CA are made"
# wine 8.0 refuses an ECDSA signature whose r or s is shorter than 32 bytes
# (test/lib/tls.sh); short-ecdsa-sig.pem is such a certificate, r 31 bytes
tls_sig_full_width "$top/test/wine/short-ecdsa-sig.pem"
is "$?" 1 "tls_sig_full_width tells a signature with a 31-byte r"
tls_sig_full_width "$tmp/tls/ca.pem" && tls_sig_full_width "$tmp/tls/server.pem"
ok $? "the CA's and the server's signatures are full width (what wine accepts)"

cat >"$tmp/serve.py" <<'EOF'
import functools, http.server, ssl, sys, threading
www, tls, ports = sys.argv[1:4]
handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=www)
plain = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
secure = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(tls + "/server.pem", tls + "/server.key")
secure.socket = ctx.wrap_socket(secure.socket, server_side=True)
threading.Thread(target=secure.serve_forever, daemon=True).start()
with open(ports + ".tmp", "w") as f:
    f.write("%d %d\n" % (plain.server_address[1], secure.server_address[1]))
import os; os.rename(ports + ".tmp", ports)
plain.serve_forever()
EOF
python3 "$tmp/serve.py" "$tmp/www" "$tmp/tls" "$tmp/ports" >"$tmp/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 50); do
	[ -s "$tmp/ports" ] && break
	sleep 0.1
done
read -r port sport <"$tmp/ports" 2>/dev/null
ok $? "the HTTP and HTTPS servers listen on 127.0.0.1 (ports ${port:-?}, ${sport:-?})" || {
	diag "$(cat "$tmp/server.log")"
	tap_done
	exit 1
}

# --- the Windows program ------------------------------------------------------
winpath() { printf 'Z:%s' "${1//\//\\}"; }
if ! wine_setup; then
	ok 1 "wine starts"
	tap_done
	exit 1
fi
wine_run "$exe" "$(winpath "$tmp/db")" "http://127.0.0.1:$port/body.txt" "$body" \
	"https://localhost:$sport/body.txt" "$(winpath "$tmp/tls/ca.pem")" "$(winpath "$tmp/other/ca.pem")" \
	>"$tmp/smoke.out" 2>"$tmp/smoke.err"
status=$?
tr -d '\r' <"$tmp/smoke.out" >"$tmp/smoke.tap"

# relay its results under this test's numbering
results=0 plan=""
while IFS= read -r line; do
	case $line in
	"ok "*) results=$((results + 1)); ok 0 "${line#ok * - }" ;;
	"not ok "*) results=$((results + 1)); ok 1 "${line#not ok * - }" ;;
	"#"*) echo "$line" ;;
	1..*) plan=${line#1..} ;;
	esac
done <"$tmp/smoke.tap"
is "$status" 0 "deps_smoke.exe exits 0"
[ -s "$tmp/smoke.err" ] && diag "stderr: $(head -c 2000 "$tmp/smoke.err")"
is "$plan" "$results" "deps_smoke.exe prints its plan and every result"
[ "$results" -ge 20 ]
ok $? "deps_smoke.exe ran all its parts ($results results)"

# --- the database, read back on Linux -------------------------------------
db="$tmp/db/état/state.db"
want=$(printf 'Zo\303\253 \303\205ngstr\303\266m, \346\227\245\346\234\254\350\252\236 \360\237\231\202')
if command -v sqlite3 >/dev/null 2>&1; then
	is "$(sqlite3 "$db" 'PRAGMA journal_mode' 2>&1)" wal "Linux's sqlite3 finds the database in WAL mode"
	is "$(sqlite3 "$db" 'SELECT v FROM t WHERE k = 1' 2>&1)" "$want" "and the same UTF-8 value"
else
	ok 0 "# SKIP sqlite3 (the command) is not installed"
fi
[ ! -e "$db-wal" ]
ok $? "closing the database removed its -wal file"
grep -q 'GET /body.txt' "$tmp/server.log"
ok $? "the server logged the program's requests"

tap_done
