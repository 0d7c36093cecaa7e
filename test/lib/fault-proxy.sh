# shellcheck shell=bash
# Harness for the fault-injecting proxy (test/fault-proxy), sourced by
# integration tests. It runs in front of the test SCIM server:
#
#   . test/lib/scim-server.sh; . test/lib/fault-proxy.sh
#   scim_server_start "$tmpdir"
#   fault_proxy_start "$tmpdir" "http://127.0.0.1:$SCIM_PORT"
#       # exports FAULT_PORT FAULT_PID FAULT_DIR
#       #   FAULT_URL=http://127.0.0.1:$FAULT_PORT/scim/v2   (point the agent here)
#       #   FAULT_ADMIN=http://127.0.0.1:$FAULT_PORT/_fault
#   fault_config '{"seed":42,"rate":0.2,"faults":["429","503"]}'
#   ... run the agent against $FAULT_URL ...
#   fault_log | jq '[.[] | select(.fault != null)] | length'
#   fault_stats; fault_reset
#   fault_proxy_stop
#
# Set FAULT_PROXY_SEED=N for the default seed, FAULT_PROXY_VERBOSE=1 for one
# line per request in DIR/fault-proxy.log. Needs node, curl and jq.
# The control API is described in test/fault-proxy/README.md.

FAULT_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
FAULT_PROXY_JS=$(cd "$FAULT_LIB_DIR/../fault-proxy" && pwd)/proxy.js

_fault_err() {
	printf 'fault-proxy: %s\n' "$*" >&2
}

# fault_proxy_start DIR UPSTREAM_BASE_URL: start the proxy on a free loopback
# port in front of UPSTREAM_BASE_URL (scheme://host:port, no path), logging to
# DIR/fault-proxy.log; waits up to 10 s for it to answer.
fault_proxy_start() {
	local dir=${1:?usage: fault_proxy_start DIR UPSTREAM_BASE_URL}
	local upstream=${2:?usage: fault_proxy_start DIR UPSTREAM_BASE_URL}
	local tool i
	for tool in node curl jq; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			_fault_err "'$tool' not found; run scripts/install-deps"
			return 1
		fi
	done
	if [ -n "${FAULT_PID:-}" ] && kill -0 "$FAULT_PID" 2>/dev/null; then
		_fault_err "already running as pid $FAULT_PID"
		return 1
	fi
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	rm -f "$dir/fault.port"

	local -a args=(--upstream "$upstream" --port 0 --port-file "$dir/fault.port")
	if [ -n "${FAULT_PROXY_SEED:-}" ]; then
		args+=(--seed "$FAULT_PROXY_SEED")
	fi
	if [ -n "${FAULT_PROXY_VERBOSE:-}" ]; then
		args+=(--verbose)
	fi
	node "$FAULT_PROXY_JS" "${args[@]}" >>"$dir/fault-proxy.log" 2>&1 </dev/null &
	FAULT_PID=$!
	FAULT_DIR=$dir

	for ((i = 0; i < 100; i++)); do
		if ! kill -0 "$FAULT_PID" 2>/dev/null; then
			_fault_err "proxy exited during start-up; last lines of '$dir/fault-proxy.log':"
			tail -n 20 "$dir/fault-proxy.log" >&2
			FAULT_PID=
			return 1
		fi
		if [ -s "$dir/fault.port" ]; then
			FAULT_PORT=$(tr -d ' \n' <"$dir/fault.port")
			if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$FAULT_PORT/_fault/stats"; then
				export FAULT_PORT FAULT_PID FAULT_DIR
				export FAULT_URL="http://127.0.0.1:$FAULT_PORT/scim/v2"
				export FAULT_ADMIN="http://127.0.0.1:$FAULT_PORT/_fault"
				return 0
			fi
		fi
		sleep 0.1
	done
	_fault_err "not ready after 10 s; see '$dir/fault-proxy.log'"
	kill "$FAULT_PID" 2>/dev/null
	wait "$FAULT_PID" 2>/dev/null
	FAULT_PID=
	return 1
}

# fault_proxy_stop: stop the proxy started by fault_proxy_start (idempotent).
fault_proxy_stop() {
	local pid=${FAULT_PID:-} i
	[ -n "$pid" ] || return 0
	if kill -0 "$pid" 2>/dev/null; then
		kill "$pid" 2>/dev/null
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null
		fi
	fi
	wait "$pid" 2>/dev/null
	FAULT_PID=
	return 0
}

# _fault_admin METHOD PATH [CURL ARGS...]: call the control API; prints the
# answer, fails (with the proxy's message) on a non-2xx status.
_fault_admin() {
	local method=$1 path=$2
	shift 2
	if [ -z "${FAULT_ADMIN:-}" ]; then
		_fault_err "not started"
		return 1
	fi
	local out status
	out=$(curl -sS --max-time 30 -X "$method" -w '\n%{http_code}' "$@" "$FAULT_ADMIN/$path") || {
		_fault_err "'$method /_fault/$path' failed"
		return 1
	}
	status=${out##*$'\n'}
	out=${out%$'\n'*}
	if [ "${status:0:1}" != 2 ]; then
		_fault_err "'$method /_fault/$path' answered $status: $out"
		return 1
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
}

# fault_config JSON: replace the whole fault configuration (restarts the PRNG
# and the matching-request count; keeps the log); prints the configuration
# as the proxy understood it. Invalid JSON or keys fail with the reason.
fault_config() {
	local json=${1?usage: fault_config JSON}
	_fault_admin POST config -H 'Content-Type: application/json' --data-binary @- <<<"$json"
}

# fault_log [SINCE]: print the JSON array of proxied requests (from index SINCE).
fault_log() {
	if [ -n "${1:-}" ]; then
		_fault_admin GET "log?since=$1"
	else
		_fault_admin GET log
	fi
}

# fault_stats: print {"requests":N,"forwarded":N,"matched":N,"byFault":{...}}.
fault_stats() {
	_fault_admin GET stats
}

# fault_reset: back to no faults; clears the log.
fault_reset() {
	_fault_admin POST reset >/dev/null
}
