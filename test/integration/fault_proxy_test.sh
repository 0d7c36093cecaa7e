#!/usr/bin/env bash
# Self-test of the fault-injecting proxy (test/fault-proxy) in front of the
# real test SCIM server: pass-through, every fault kind, determinism, scripts,
# every hostile mode, the log, and survival of disconnecting clients.
# Prints TAP; exits non-zero when a check fails.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=SCRIPTDIR/../lib/scim-server.sh
. "$here/../lib/scim-server.sh"
# shellcheck source=SCRIPTDIR/../lib/fault-proxy.sh
. "$here/../lib/fault-proxy.sh"

for tool in node curl jq; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "'$tool' not found"
done
[ -d "$SCIM_SERVER_DIR/node_modules/scimmy" ] || skip_all "test/scim-server/node_modules missing; run scripts/install-deps"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/fault-proxy-test.XXXXXX")
dead_pid=
bg_pids=()
cleanup() {
	local p
	for p in "${bg_pids[@]}"; do kill "$p" 2>/dev/null; done
	[ -z "$dead_pid" ] || { kill "$dead_pid" 2>/dev/null; wait "$dead_pid" 2>/dev/null; }
	fault_proxy_stop
	scim_server_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

scim_server_start "$tmp" || { echo "Bail out! cannot start the SCIM server"; exit 1; }
fault_proxy_start "$tmp" "http://127.0.0.1:$SCIM_PORT"
ok $? "the proxy starts in front of the SCIM server" || { echo "Bail out! no proxy"; exit 1; }
like "$FAULT_URL" "^http://127\.0\.0\.1:$FAULT_PORT/scim/v2\$" "FAULT_URL is the SCIM base path on the proxy port"
like "$FAULT_ADMIN" "^http://127\.0\.0\.1:$FAULT_PORT/_fault\$" "FAULT_ADMIN is the control API on the proxy port"

# preq METHOD PATH [JSON] [CURL ARGS...]: one request through the proxy;
# sets RC (curl exit status), STATUS, TIME (seconds); headers in $tmp/h,
# body in $tmp/b (also in BODY, up to 64 KiB).
preq() {
	local method=$1 path=$2 data=${3:-} out
	shift 2
	[ $# -eq 0 ] || shift
	local -a args=(-s -H "@$SCIM_AUTH_HEADER_FILE" -H 'Content-Type: application/scim+json'
		-X "$method" -D "$tmp/h" -o "$tmp/b" -w '%{http_code} %{time_total}')
	[ -z "$data" ] || args+=(--data-binary "$data")
	rm -f "$tmp/h" "$tmp/b"
	: >"$tmp/h"
	out=$(curl "${args[@]}" "$@" "$FAULT_URL$path")
	RC=$?
	STATUS=${out%% *}
	TIME=${out#* }
	BODY=$(head -c 65536 "$tmp/b" 2>/dev/null)
}
# hdr NAME: value of response header NAME from the last preq
hdr() {
	grep -i "^$1:" "$tmp/h" | head -n 1 | cut -d: -f2- | tr -d ' \r'
}
user() {
	printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s"}' "$1"
}
stored() { # stored USERNAME: how many stored users have that userName
	scim_dump | jq --arg u "$1" '[.Users[] | select(.userName == $u)] | length'
}
last() { # last JQ: JQ applied to the last log entry
	fault_log | jq -r ".[-1] | $1"
}
reset_by() { # reset_by RC: curl's exit status for a dropped connection
	case "$1" in 52 | 56) return 0 ;; *) return 1 ;; esac
}
lt() { # lt A B: A < B for decimal numbers
	awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }'
}

# --- pass-through ------------------------------------------------------------
preq POST /Users "$(user pass1)"
is "$STATUS" 201 "a create through the proxy answers 201"
id_pass1=$(jq -r .id <<<"$BODY")
is "$(stored pass1)" 1 "the create reached the server"
like "$(jq -r .meta.location <<<"$BODY")" "^http://127\.0\.0\.1:$FAULT_PORT/scim/v2/Users/" \
	"the Host header is passed through, so meta.location names the proxy"
preq GET "/Users?filter=userName%20eq%20%22pass1%22"
is "$(jq -r .totalResults <<<"$BODY")" 1 "the query string is forwarded"
out=$(curl -s -o /dev/null -w '%{http_code}' "$FAULT_URL/Users")
is "$out" 401 "a request without the token gets the server's 401"
is "$(last '"\(.method) \(.path) \(.fault) \(.forwarded) \(.status)"')" "GET /scim/v2/Users null true 401" \
	"the log records a clean forwarded request"

# --- 429 and 503 ---------------------------------------------------------------
fault_config '{"retryAfter": 2, "script": [{"n": 1, "fault": "429"}, {"n": 2, "fault": "429", "retryAfter": 7}]}' >/dev/null
ok $? "a script is accepted"
preq POST /Users "$(user t429)"
is "$STATUS" 429 "a scripted 429 answers 429"
is "$(hdr retry-after)" 2 "with Retry-After from the config"
is "$(jq -r '.schemas[0] + " " + .status' <<<"$BODY")" "urn:ietf:params:scim:api:messages:2.0:Error 429" \
	"and a SCIM error body"
is "$(stored t429)" 0 "a 429 is not forwarded"
preq GET /Users
is "$STATUS/$(hdr retry-after)" 429/7 "a script entry overrides Retry-After"
preq GET /Users
is "$STATUS" 200 "the next request passes"

fault_config '{"retryAfter": null, "script": [{"n": 1, "fault": "429"}]}' >/dev/null
preq GET /Users
is "$STATUS/$(hdr retry-after)" 429/ "retryAfter null sends a 429 without Retry-After"

fault_config '{"script": [{"n": 1, "fault": "503"}, {"n": 2, "fault": "503", "retryAfter503": 5}]}' >/dev/null
preq POST /Users "$(user t503)"
is "$STATUS/$(hdr retry-after)" 503/ "a 503 has no Retry-After by default"
is "$(stored t503)" 0 "a 503 is not forwarded"
preq GET /Users
is "$STATUS/$(hdr retry-after)" 503/5 "retryAfter503 adds Retry-After to a 503"

fault_config '{"retryAfter503": "Wed, 21 Oct 2037 07:28:00 GMT", "script": [{"n": 1, "fault": "503"}]}' >/dev/null
preq GET /Users
is "$(grep -i '^retry-after:' "$tmp/h" | tr -d '\r')" "retry-after: Wed, 21 Oct 2037 07:28:00 GMT" \
	"a string Retry-After (an HTTP date) is sent as given"

# --- resets ---------------------------------------------------------------------
fault_config '{"script": [{"n": 1, "fault": "reset_before"}, {"n": 2, "fault": "reset_after"}]}' >/dev/null
preq POST /Users "$(user rb1)"
reset_by "$RC"
ok $? "reset_before drops the connection (curl exit $RC)"
is "$(stored rb1)" 0 "reset_before did not write upstream"
is "$(last '"\(.fault) \(.forwarded) \(.status) \(.upstreamStatus)"')" "reset_before false null null" \
	"the log says reset_before was not forwarded and not answered"
preq POST /Users "$(user ra1)"
reset_by "$RC"
ok $? "reset_after drops the connection (curl exit $RC)"
is "$(stored ra1)" 1 "reset_after wrote upstream first"
is "$(last '"\(.fault) \(.forwarded) \(.status) \(.upstreamStatus)"')" "reset_after true null 201" \
	"the log says reset_after was forwarded, answered 201 upstream and not to the client"

# two creates on one kept-alive connection, the second one faulted; prints
# curl's exit status and the log as "fault:status" words
two_creates() {
	local -a h=(-s -H "@$SCIM_AUTH_HEADER_FILE" -H 'Content-Type: application/scim+json' -o /dev/null)
	fault_reset
	fault_config "{\"script\": [{\"n\": 2, \"fault\": \"$1\"}]}" >/dev/null
	curl "${h[@]}" --data-binary "$(user "$2a")" "$FAULT_URL/Users" \
		--next "${h[@]}" --data-binary "$(user "$2b")" "$FAULT_URL/Users"
	printf '%s ' "$?"
	fault_log | jq -r '[.[] | "\(.fault):\(.status)"] | join(" ")'
}
is "$(two_creates reset_after kr)" "0 null:201 reset_after:null null:409" \
	"curl resends a create reset on a reused connection, and meets 409 (libcurl does this)"
is "$(two_creates partial_after kp)" "18 null:201 partial_after:201" \
	"partial_after truncates the answer after the write, which curl does not resend"
is "$(stored kpb)" 1 "partial_after wrote upstream first"

# --- stalls -----------------------------------------------------------------------
fault_config '{"stallMs": 3000, "script": [{"n": 1, "fault": "stall_before"}]}' >/dev/null
preq POST /Users "$(user sb1)" --max-time 1
is "$RC" 28 "stall_before makes a 1 s client time out"
lt "$TIME" 2
ok $? "after about 1 s (${TIME}s)"
preq GET /Users "" --max-time 5
is "$STATUS" 200 "the proxy answers while the abandoned stall would still run"
is "$(fault_log | jq -r '.[-2] | "\(.fault) \(.forwarded) \(.done) \(.note)"')" \
	"stall_before false true client disconnected during the stall" \
	"the abandoned stall_before ended without forwarding"
is "$(stored sb1)" 0 "stall_before did not write upstream"
fault_config '{"stallMs": 3000, "script": [{"n": 1, "fault": "stall_after"}]}' >/dev/null
preq POST /Users "$(user sa1)" --max-time 1
is "$RC" 28 "stall_after makes a 1 s client time out"
is "$(stored sa1)" 1 "stall_after wrote upstream first"
is "$(last '"\(.fault) \(.forwarded) \(.upstreamStatus)"')" "stall_after true 201" \
	"the log says stall_after was forwarded"
fault_config '{"stallMs": 400, "script": [{"n": 1, "fault": "stall_before"}]}' >/dev/null
preq GET /Users "" --max-time 5
reset_by "$RC"
ok $? "a stall that outlives no timeout ends with a dropped connection (curl exit $RC)"
lt 0.39 "$TIME"
ok $? "after stallMs (${TIME}s)"
fault_config '{"delayMs": 300, "script": [{"n": 1, "fault": "delay"}]}' >/dev/null
preq GET /Users
is "$STATUS" 200 "delay answers normally"
lt 0.29 "$TIME"
ok $? "after delayMs (${TIME}s)"

# --- determinism ------------------------------------------------------------------
# many GETs on one connection; prints one status per line
burst() {
	local n=$1 i
	local -a args=(-s -H "@$SCIM_AUTH_HEADER_FILE" -w '%{http_code}\n')
	for ((i = 0; i < n; i++)); do args+=(-o /dev/null "$FAULT_URL/Users?count=1"); done
	curl "${args[@]}"
}
run_seed() { # run_seed SEED [EXTRA JSON]: fault sequence of 30 requests
	fault_reset
	fault_config "{\"seed\": $1, \"rate\": 0.5, \"faults\": [\"429\", \"503\"]${2:-}}" >/dev/null
	burst 30 | tr '\n' ' ' >"$tmp/statuses"
	fault_log | jq -c '[.[].fault]'
}
seq1=$(run_seed 42)
statuses1=$(cat "$tmp/statuses")
seq2=$(run_seed 42)
is "$seq2" "$seq1" "the same seed gives the same fault sequence"
like "$seq1" '"429"' "the sequence has 429s"
like "$seq1" '"503"' "the sequence has 503s"
like "$seq1" 'null' "the sequence has clean requests"
want=$(jq -r 'map(. // "200") | join(" ")' <<<"$seq1")
is "${statuses1% }" "$want" "the client saw exactly the logged faults"
seq3=$(run_seed 43)
test "$seq3" != "$seq1"
ok $? "another seed gives another sequence"
seq4=$(run_seed 42 ', "script": [{"n": 2, "fault": "delay", "delayMs": 1}]')
is "$(jq -c 'del(.[1])' <<<"$seq4")" "$(jq -c 'del(.[1])' <<<"$seq1")" \
	"a script entry changes its own request and leaves the random sequence alone"
is "$(jq -r '.[1]' <<<"$seq4")" delay "the scripted request got its fault"

fault_reset
fault_config '{"seed": 7, "rate": 0.2, "faults": ["429"]}' >/dev/null
n429=$(burst 200 | grep -c '^429$')
lt 20 "$n429" && lt "$n429" 60
ok $? "rate 0.2 faults about a fifth of 200 requests ($n429)"

# --- matching and script exactness ----------------------------------------------
fault_reset
fault_config '{"match": {"methods": ["POST"]}, "script": [{"n": 2, "fault": "429"}]}' >/dev/null
preq POST /Users "$(user m1)"
s1=$STATUS
preq GET /Users
s2=$STATUS
preq POST /Users "$(user m2)"
s3=$STATUS
preq POST /Users "$(user m3)"
s4=$STATUS
is "$s1 $s2 $s3 $s4" "201 200 429 201" "the script faults exactly the 2nd matching request; other methods do not count"
is "$(fault_stats | jq -c '[.requests, .matched, .byFault["429"]]')" "[4,3,1]" "stats count requests, matches and faults"

fault_config '{"rate": 1, "faults": ["503"], "match": {"path": "/Groups"}}' >/dev/null
preq GET /Users
s1=$STATUS
preq GET /Groups
is "$s1 $STATUS" "200 503" "match.path limits the faults to matching paths"
fault_config '{"rate": 1, "faults": ["503"], "match": {"url": "filter="}}' >/dev/null
preq GET /Users
s1=$STATUS
preq GET "/Users?filter=userName%20eq%20%22m1%22"
is "$s1 $STATUS" "200 503" "match.url matches the query string too"

# --- hostile responses ----------------------------------------------------------------
fault_reset
fault_config '{"rate": 1, "faults": ["429"], "match": {"methods": ["DELETE"]}, "hostile": [{"method": "POST", "path": "/Users$", "mode": "notjson"}]}' >/dev/null
preq POST /Users "$(user hn1)"
is "$STATUS $(hdr content-type)" "201 text/html" "notjson keeps the upstream status and says text/html"
is "$BODY" "<html>oops</html>" "notjson sends an HTML body"
is "$(stored hn1)" 1 "notjson forwarded the create first"
preq POST /Users "$(user hn2)"
is "$STATUS $(jq -r '.userName' <<<"$BODY")" "201 hn2" "times defaults to 1: the next create is clean"
is "$(fault_stats | jq -c '[.matched, .byFault.notjson]')" "[0,1]" \
	"a hostile request does not count as a matching request"

fault_config '{"hostile": [{"method": "POST", "path": "/Users$", "mode": "notjson", "forward": false, "status": 201}]}' >/dev/null
preq POST /Users "$(user hn3)"
is "$STATUS $BODY" "201 <html>oops</html>" "forward false answers without the upstream"
is "$(stored hn3)" 0 "forward false did not write upstream"

fault_config '{"hostile": [{"method": "GET", "path": "/Users/", "mode": "notjson", "times": 2}]}' >/dev/null
preq GET "/Users/$id_pass1"
s1=$STATUS$(hdr content-type)
preq GET "/Users/$id_pass1"
s2=$STATUS$(hdr content-type)
preq GET "/Users/$id_pass1"
is "$s1 $s2 $STATUS" "200text/html 200text/html 200" "times 2 makes two hostile answers, then stops"

fault_config '{"hostile": [{"path": "/Users/", "mode": "huge"}, {"path": "/Users/", "mode": "huge", "chunked": true}]}' >/dev/null
preq GET "/Users/$id_pass1"
is "$(stat -c %s "$tmp/b")/$(hdr content-length)" "9437184/9437184" "huge sends 9 MiB with its Content-Length"
is "$(jq -r '.id + " " + .userName' "$tmp/b")" "$id_pass1 pass1" "huge is valid JSON around the real resource"
preq GET "/Users/$id_pass1"
is "$(stat -c %s "$tmp/b")/$(hdr content-length)/$(hdr transfer-encoding)" "9437184//chunked" \
	"chunked huge sends 9 MiB without a Content-Length"

fault_config '{"hostile": [{"path": "/Users/", "mode": "deep"}]}' >/dev/null
preq GET "/Users/$id_pass1"
# shellcheck disable=SC2016 # JavaScript, not shell
depth=$(node -e '
	const v = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
	let d = 1, x = v.deep;
	while (Array.isArray(x)) { d++; x = x[0]; }
	console.log(`${v.id} ${d}`);' "$tmp/b")
is "$STATUS $depth" "200 $id_pass1 10000" "deep sends valid JSON nested 10000 levels"

fault_config '{"hostile": [{"method": "POST", "mode": "noid"}]}' >/dev/null
preq POST /Users "$(user hnoid)"
is "$STATUS $(jq -r '"\(has("id")) \(.userName)"' <<<"$BODY")" "201 false hnoid" "noid drops the id from the created resource"
is "$(stored hnoid)" 1 "noid forwarded the create first"

preq POST /Groups '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"g1","members":[{"value":"'"$id_pass1"'"}]}'
gid=$(jq -r .id <<<"$BODY")
fault_config '{"hostile": [{"path": "/Groups/", "mode": "wrongtype"}, {"path": "/Users$", "mode": "wrongtype"}]}' >/dev/null
preq GET "/Groups/$gid"
is "$(jq -r '"\(.id|type) \(.members|type) \(.displayName)"' <<<"$BODY")" "number string g1" \
	"wrongtype makes id a number and members a string"
preq GET "/Users?filter=userName%20eq%20%22pass1%22"
is "$(jq -r '.Resources[0].id | type' <<<"$BODY")" number "wrongtype reaches into a ListResponse"

fault_config '{"hostile": [{"method": "PATCH", "mode": "empty"}]}' >/dev/null
preq PATCH "/Users/$id_pass1" '{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"displayName","value":"Pass One"}]}'
is "$STATUS/$(hdr content-length)/$(stat -c %s "$tmp/b")" "200/0/0" "empty keeps the status and sends no body"
is "$(scim_dump | jq -r --arg id "$id_pass1" '.Users[] | select(.id == $id) | .displayName')" "Pass One" \
	"empty forwarded the change first"

# --- the log ----------------------------------------------------------------------------
fault_reset
before=$(date +%s%3N)
burst 5 >/dev/null
after=$(date +%s%3N)
log=$(fault_log)
is "$(jq 'length' <<<"$log")" 5 "the log has one entry per request"
is "$(jq -r --argjson a "$before" --argjson b "$after" \
	'[.[].t | select(type == "number" and . >= $a - 1 and . <= $b + 1)] | length' <<<"$log")" 5 \
	"timestamps are milliseconds since the epoch"
is "$(jq '[.[].t] | . == sort' <<<"$log")" true "timestamps follow the request order"
is "$(jq '[.[].t | select(. != floor)] | length > 0' <<<"$log")" true "timestamps have sub-millisecond resolution"
is "$(fault_log 3 | jq length)" 2 "fault_log SINCE returns the tail of the log"

# --- bad configurations --------------------------------------------------------------------
err=$(fault_config '{"faults": ["nope"]}' 2>&1)
ok $(($? == 0)) "an unknown fault is refused"
like "$err" "unknown fault 'nope'" "with a message naming it"
err=$(fault_config '{"rat": 0.5}' 2>&1)
like "$err" "unknown key 'rat'" "an unknown key is refused"
err=$(fault_config '{"match": {"path": "("}}' 2>&1)
like "$err" "'match.path' is not a valid regular expression" "a bad regex is refused"

# --- survival ---------------------------------------------------------------------------------
fault_reset
fault_config '{"seed": 3, "rate": 0.7, "faults": ["429","503","reset_before","reset_after","stall_before","stall_after"], "stallMs": 2000}' >/dev/null
for ((i = 0; i < 20; i++)); do
	curl -s -o /dev/null --max-time 0.5 -H "@$SCIM_AUTH_HEADER_FILE" \
		-H 'Content-Type: application/scim+json' --data-binary "$(user "chaos$i")" "$FAULT_URL/Users" &
	bg_pids+=($!)
done
wait "${bg_pids[@]}" 2>/dev/null
bg_pids=()
fault_reset
preq GET /Users
is "$STATUS" 200 "the proxy survives 20 concurrent clients that hang up mid-fault"
kill -0 "$FAULT_PID" 2>/dev/null
ok $? "the proxy process is still running"

# upstream down: a second proxy in front of a closed port
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
node "$FAULT_PROXY_JS" --upstream "http://127.0.0.1:$port" --port 0 --port-file "$tmp/dead.port" >"$tmp/dead.log" 2>&1 &
dead_pid=$!
for ((i = 0; i < 50; i++)); do [ -s "$tmp/dead.port" ] && break; sleep 0.1; done
out=$(curl -s -w ' %{http_code}' "http://127.0.0.1:$(cat "$tmp/dead.port")/scim/v2/Users")
like "$out" '"status":"502".* 502$' "an unreachable upstream gives 502 with a SCIM error"
kill -0 "$dead_pid" 2>/dev/null
ok $? "and the proxy keeps running"

# the harness itself
fault_proxy_stop
ok $? "fault_proxy_stop stops the proxy"
fault_proxy_stop
ok $? "fault_proxy_stop is idempotent"
err=$(fault_proxy_start "$tmp/bad" "http://127.0.0.1:$SCIM_PORT/scim/v2" 2>&1)
ok $(($? == 0)) "an upstream with a path is refused"
like "$err" "must have no path" "with the reason"
grep -q "uncaught" "$tmp/fault-proxy.log"
ok $(($? == 0)) "the proxy logged no uncaught error"

tap_done
