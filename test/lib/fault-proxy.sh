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
. "$(dirname "${BASH_SOURCE[0]}")/node-server.sh"

_fault_err() {
	printf 'fault-proxy: %s\n' "$*" >&2
}

# fault_proxy_start DIR UPSTREAM_BASE_URL: start the proxy on a free loopback
# port in front of UPSTREAM_BASE_URL (scheme://host:port, no path), logging to
# DIR/fault-proxy.log; waits up to 10 s for it to answer.
fault_proxy_start() {
	local dir=${1:?usage: fault_proxy_start DIR UPSTREAM_BASE_URL}
	local upstream=${2:?usage: fault_proxy_start DIR UPSTREAM_BASE_URL}
	node_server_tools fault-proxy || return 1
	if [ -n "${FAULT_PID:-}" ] && kill -0 "$FAULT_PID" 2>/dev/null; then
		_fault_err "already running as pid $FAULT_PID"
		return 1
	fi
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)

	local -a args=(--upstream "$upstream" --port 0 --port-file "$dir/fault.port")
	if [ -n "${FAULT_PROXY_SEED:-}" ]; then
		args+=(--seed "$FAULT_PROXY_SEED")
	fi
	if [ -n "${FAULT_PROXY_VERBOSE:-}" ]; then
		args+=(--verbose)
	fi
	FAULT_DIR=$dir
	node_server_run fault-proxy "$dir/fault-proxy.log" "$dir/fault.port" \
	    _fault/stats 10 "$FAULT_PROXY_JS" "${args[@]}" || {
		FAULT_PID=
		return 1
	}
	FAULT_PID=$node_pid FAULT_PORT=$node_port
	export FAULT_PORT FAULT_PID FAULT_DIR
	export FAULT_URL="http://127.0.0.1:$FAULT_PORT/scim/v2"
	export FAULT_ADMIN="http://127.0.0.1:$FAULT_PORT/_fault"
}

# fault_proxy_stop: stop the proxy started by fault_proxy_start (idempotent).
fault_proxy_stop() {
	node_server_stop "${FAULT_PID:-}"
	FAULT_PID=
}

# _fault_admin METHOD PATH [CURL ARGS...]: call the control API; prints the
# answer, fails (with the proxy's message) on a non-2xx status.
_fault_admin() {
	node_server_admin fault-proxy "${FAULT_ADMIN:-}" "$@"
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
