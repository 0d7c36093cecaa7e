#!/usr/bin/env bash
# scim_client_test.sh - the HTTP transport and SCIM client against real servers (TAP)
#
# Builds test/unit/scim_client_probe.c against $L2S_BUILD/libagent.a (default
# build/), starts the test SCIM server (scimmy), an "openssl s_server -WWW"
# behind a throwaway CA, and finds a closed loopback port; the probe then
# exercises discover, create, conflict, list with paging, patch, put, get,
# delete, a wrong token, plain http refusal, a refused connection, TLS
# verification, the body bound and non-JSON bodies.  Afterwards the server's
# own record is checked: what it holds and which requests it saw.  A bare
# node HTTP responder echoes requests (headers, method, keep-alive),
# answers 302 and 429 with headers to capture, 201s without JSON or id, and
# list pages that are shorter than asked or end before totalResults.
#
# L2S_VALGRIND=1 runs the probe under valgrind (leaks are failures).
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${L2S_BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$ROOT/$BUILD ;; esac
PROBE=$BUILD/test/scim_client_probe

. "$ROOT/test/lib/scim-server.sh"
. "$ROOT/test/lib/tls.sh"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/l2s-scim-client.XXXXXX")
TLS_PID=
EDGE_PID=
cleanup() {
	scim_server_stop
	if [ -n "$EDGE_PID" ]; then
		kill "$EDGE_PID" 2>/dev/null
		wait "$EDGE_PID" 2>/dev/null
	fi
	if [ -n "$TLS_PID" ]; then
		kill "$TLS_PID" 2>/dev/null
		wait "$TLS_PID" 2>/dev/null
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

n=0
fails=0
tap_ok() {	# tap_ok COND-STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		fails=$((fails + 1))
	fi
}
bail_skip() {
	echo "1..0 # SKIP $*"
	exit 0
}
free_port() {
	node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

# --- build the probe (same flags as the Makefile; sanitizers when the
# library was built with them)
if [ "$BUILD" = "$ROOT/build" ]; then
	make -s -C "$ROOT" build/libagent.a >"$TMP/make.log" 2>&1 || {
		echo "1..1"
		echo "not ok 1 - build libagent.a"
		sed 's/^/# /' "$TMP/make.log" | tail -n 20
		exit 1
	}
fi
[ -f "$BUILD/libagent.a" ] || bail_skip "no $BUILD/libagent.a"
SAN=()
if nm "$BUILD/libagent.a" 2>/dev/null | grep -q __asan_; then
	SAN=(-fsanitize=address,undefined -fno-omit-frame-pointer)
fi
mkdir -p "$BUILD/test"
if [ ! -x "$PROBE" ] || [ "$PROBE" -ot "$ROOT/test/unit/scim_client_probe.c" ] ||
    [ "$PROBE" -ot "$BUILD/libagent.a" ]; then
	# shellcheck disable=SC2046
	${CC:-cc} -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wformat=2 -Wno-format-nonliteral -O1 -g \
	    "${SAN[@]}" -D_DEFAULT_SOURCE -D_POSIX_C_SOURCE=200809L \
	    -I"$ROOT/agent" $(pkg-config --cflags libcurl libcjson) \
	    -o "$PROBE" "$ROOT/test/unit/scim_client_probe.c" "$BUILD/libagent.a" \
	    $(pkg-config --libs libcurl libcjson yaml-0.1 sqlite3 krb5) -lldap -llber \
	    >"$TMP/cc.log" 2>&1 || {
		echo "1..1"
		echo "not ok 1 - build the probe"
		sed 's/^/# /' "$TMP/cc.log" | tail -n 20
		exit 1
	}
fi

# --- servers
scim_server_start "$TMP/scim" 2>"$TMP/scim-start.log" ||
	bail_skip "SCIM server did not start: $(tr '\n' ' ' <"$TMP/scim-start.log")"
PROBE_CLOSED_PORT=$(free_port)
export PROBE_CLOSED_PORT

if command -v openssl >/dev/null 2>&1 && tls_ca "$TMP/tls" &&
    tls_server_cert "$TMP/tls" 127.0.0.1 localhost; then
	www=$TMP/www
	mkdir -p "$www/Users"
	printf 'small\n' >"$www/small.txt"
	head -c $((9 * 1024 * 1024)) /dev/zero | tr '\0' 'x' >"$www/big.txt"
	printf 'this is not JSON\n' >"$www/Users/notjson"
	printf '%.0s[' $(seq 70) >"$www/Users/deep"
	printf '%.0s]' $(seq 70) >>"$www/Users/deep"
	port=$(free_port)
	(cd "$www" && exec openssl s_server -quiet -WWW -accept "127.0.0.1:$port" \
	    -cert "$TMP/tls/server.pem" -key "$TMP/tls/server.key") \
	    >"$TMP/s_server.log" 2>&1 </dev/null &
	TLS_PID=$!
	for _ in $(seq 100); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			export PROBE_TLS_URL="https://127.0.0.1:$port"
			export PROBE_TLS_CA="$TMP/tls/ca.pem"
			break
		fi
		sleep 0.1
	done
fi

# A bare HTTP responder for what the SCIM server never does: echo the
# request (headers, method, body, client port), redirect, throttle.
cat >"$TMP/edge.js" <<'EOF'
const http = require("http");
const fs = require("fs");
const srv = http.createServer((req, res) => {
	const chunks = [];
	req.on("data", (c) => chunks.push(c));
	req.on("end", () => {
		const body = Buffer.concat(chunks);
		if (req.url.startsWith("/redirect")) {
			res.writeHead(302, {"LOCATION": "  https://elsewhere.example/scim/v2 \t"});
			res.end("moved");
		} else if (req.url.startsWith("/throttle")) {
			res.writeHead(429, {"retry-after": " 7 ", "content-type": "text/plain"});
			res.end("slow down\n");
		} else if (req.url.startsWith("/nojson")) {
			res.writeHead(201, {"content-type": "text/html"});
			res.end("<p>created</p>");
		} else if (req.url.startsWith("/noid")) {
			res.writeHead(201, {"content-type": "application/scim+json"});
			res.end('{"userName":"x"}');
		} else if (req.url.startsWith("/pages") || req.url.startsWith("/short")) {
			// /pages: 5 resources, 2 per page whatever count says, and
			// an itemsPerPage that lies; /short: claims 10, has 3.
			const q = new URL(req.url, "http://x").searchParams;
			const start = Number(q.get("startIndex") ?? 1);
			const short = req.url.startsWith("/short");
			const total = short ? 10 : 5, have = short ? 3 : 5;
			const per = short ? 3 : 2;
			const list = [];
			for (let i = start; i < start + per && i <= have; i++)
				list.push({id: "r" + i});
			res.writeHead(200, {"content-type": "application/scim+json"});
			res.end(JSON.stringify({schemas: ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
			    totalResults: total, itemsPerPage: 100, startIndex: start, Resources: list}));
		} else {
			res.writeHead(200, {"content-type": "application/json"});
			res.end(JSON.stringify({method: req.method, url: req.url,
			    headers: req.headers, length: body.length,
			    body: body.length < 1000 ? body.toString() : "",
			    port: req.socket.remotePort}));
		}
	});
});
srv.listen(0, "127.0.0.1", () => fs.writeFileSync(process.argv[2], String(srv.address().port)));
EOF
node "$TMP/edge.js" "$TMP/edge.port" >"$TMP/edge.log" 2>&1 </dev/null &
EDGE_PID=$!
for _ in $(seq 100); do
	if [ -s "$TMP/edge.port" ]; then
		export PROBE_EDGE_URL="http://127.0.0.1:$(cat "$TMP/edge.port")"
		break
	fi
	sleep 0.1
done

# --- the probe, renumbered into this script's TAP stream
RUN=()
if [ "${L2S_VALGRIND:-0}" = 1 ] && [ ${#SAN[@]} -eq 0 ]; then
	RUN=(valgrind -q --leak-check=full
	    --error-exitcode=99 --log-file="$TMP/valgrind.log")
fi
"${RUN[@]}" "$PROBE" >"$TMP/probe.out" 2>"$TMP/probe.err"
probe_rc=$?
while IFS= read -r line; do
	case $line in
	"ok "*)
		n=$((n + 1))
		echo "ok $n ${line#ok * }"
		;;
	"not ok "*)
		n=$((n + 1))
		fails=$((fails + 1))
		echo "not ok $n ${line#not ok * }"
		;;
	1..*) ;;
	*) echo "$line" ;;
	esac
done <"$TMP/probe.out"
tap_ok "$probe_rc" "the probe should exit 0 (exit $probe_rc)"
if [ "$probe_rc" -ne 0 ]; then
	sed 's/^/# /' "$TMP/probe.err" | tail -n 30
	[ -f "$TMP/valgrind.log" ] && sed 's/^/# /' "$TMP/valgrind.log" | tail -n 40
fi

# --- what the server saw
dump=$(scim_dump)
tap_ok $? "the server should answer a dump"
[ "$(jq '[.Users[] | select(.userName | startswith("probe.bulk"))] | length' <<<"$dump")" = 250 ]
tap_ok $? "the server should hold the 250 users the probe created"
[ "$(jq '[.Users[] | select(.userName == "probe.alice" or .userName == "probe.bob")] | length' <<<"$dump")" = 0 ]
tap_ok $? "the users the probe deleted should be gone"
stats=$(scim_stats)
jq -e '[.log[] | select(.method == "GET" and .path == "/scim/v2/Users"
    and ((.query // "") | test("^filter=userName%20sw%20%22probe.bulk%22&startIndex=(1|101|201)&count=100$")))]
    | length == 3' <<<"$stats" >/dev/null
tap_ok $? "paging should send the escaped filter with startIndex 1, 101, 201"
jq -e '[.log[] | select(.method == "PATCH" and (.status == 200 or .status == 204))] | length >= 1' \
    <<<"$stats" >/dev/null
tap_ok $? "the server should have accepted a PATCH"
jq -e '[.log[] | select(.status == 401)] | length == 2' <<<"$stats" >/dev/null
tap_ok $? "the server should have refused exactly the two wrong-token requests"

echo "1..$n"
[ "$fails" -eq 0 ]
