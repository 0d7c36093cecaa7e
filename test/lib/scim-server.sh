# shellcheck shell=bash
# Harness for the test SCIM server (test/scim-server), sourced by integration tests.
#
#   . test/lib/scim-server.sh
#   scim_server_start "$tmpdir"     # exports SCIM_PORT SCIM_URL SCIM_TOKEN_FILE SCIM_PID
#   scim_curl -X POST -d @user.json "$SCIM_URL/Users"
#   scim_dump | jq '.Users | length'
#   scim_server_stop
#
# Other helpers: scim_stats, scim_reset, scim_reset_stats, scim_seed FILE [--no-validate].
# Set SCIM_SERVER_VERBOSE=1 to log one line per request to DIR/scim-server.log,
# SCIM_SERVER_NO_PATCH=1 for a server that does not offer PATCH.
# Needs node (with npm ci done in test/scim-server), curl and jq: scripts/install-deps.

SCIM_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCIM_SERVER_DIR=$(cd "$SCIM_LIB_DIR/../scim-server" && pwd)
. "$(dirname "${BASH_SOURCE[0]}")/node-server.sh"

_scim_err() {
	printf 'scim-server: %s\n' "$*" >&2
}

# scim_server_start DIR: start the server on a free loopback port with a fresh
# random token in DIR/scim.token, logging to DIR/scim-server.log.
scim_server_start() {
	local dir=${1:?usage: scim_server_start DIR}
	node_server_tools scim-server || return 1
	if [ ! -d "$SCIM_SERVER_DIR/node_modules/scimmy" ]; then
		_scim_err "'$SCIM_SERVER_DIR/node_modules' is missing; run scripts/install-deps"
		return 1
	fi
	if [ -n "${SCIM_PID:-}" ] && kill -0 "$SCIM_PID" 2>/dev/null; then
		_scim_err "already running as pid $SCIM_PID"
		return 1
	fi
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	node_server_token "$dir" scim || return 1

	local -a args=(--port 0 --token-file "$dir/scim.token" --port-file "$dir/scim.port")
	if [ -n "${SCIM_SERVER_VERBOSE:-}" ]; then
		args+=(--verbose)
	fi
	# SCIM_SERVER_NO_PATCH=1: the server says PATCH is not supported
	if [ -n "${SCIM_SERVER_NO_PATCH:-}" ]; then
		args+=(--no-patch)
	fi
	SCIM_DIR=$dir
	# up to 20 s: the port file must appear and /_test/stats must answer
	node_server_run scim-server "$dir/scim-server.log" "$dir/scim.port" \
	    '_test/stats?log=0' 20 "$SCIM_SERVER_DIR/server.js" "${args[@]}" || {
		SCIM_PID=
		return 1
	}
	SCIM_PID=$node_pid SCIM_PORT=$node_port
	export SCIM_PORT SCIM_PID SCIM_DIR
	export SCIM_URL="http://127.0.0.1:$SCIM_PORT/scim/v2"
	export SCIM_ADMIN_URL="http://127.0.0.1:$SCIM_PORT/_test"
	export SCIM_TOKEN_FILE="$dir/scim.token"
	export SCIM_AUTH_HEADER_FILE="$dir/scim.auth-header"
}

# scim_server_stop: stop the server started by scim_server_start (idempotent).
scim_server_stop() {
	node_server_stop "${SCIM_PID:-}"
	SCIM_PID=
}

_scim_admin() {
	node_server_admin scim-server "${SCIM_ADMIN_URL:-}" "$@"
}

# scim_dump: print {"Users":[...],"Groups":[...]} with every stored resource.
scim_dump() {
	_scim_admin GET dump
}

# scim_stats [--no-log]: print {"requests":N,"writes":N,"byMethod":{...},"log":[...]}.
scim_stats() {
	if [ "${1:-}" = --no-log ]; then
		_scim_admin GET 'stats?log=0'
	else
		_scim_admin GET stats
	fi
}

# scim_reset_stats: zero the request counters and the request log.
scim_reset_stats() {
	_scim_admin POST reset-stats
}

# scim_reset: drop all users, groups and statistics.
scim_reset() {
	_scim_admin POST reset
}

# scim_seed FILE [--no-validate]: preload {"Users":[...],"Groups":[...]};
# prints the stored resources. Each resource is checked against its schema
# (about 1 ms each); --no-validate skips that for large seeds.
scim_seed() {
	local file=${1:?usage: scim_seed FILE [--no-validate]} path=seed
	if [ "${2:-}" = --no-validate ]; then
		path='seed?validate=0'
	fi
	if [ ! -r "$file" ]; then
		_scim_err "cannot read '$file'"
		return 1
	fi
	_scim_admin POST "$path" -H 'Content-Type: application/json' --data-binary "@$file"
}

# scim_curl ARGS...: curl with the bearer token and the SCIM content type,
# e.g. scim_curl -X PATCH -d @patch.json "$SCIM_URL/Users/$id".
# The token is read from a file, so it never shows on a command line.
scim_curl() {
	if [ -z "${SCIM_AUTH_HEADER_FILE:-}" ]; then
		_scim_err "not started"
		return 1
	fi
	curl -sS -H "@$SCIM_AUTH_HEADER_FILE" -H 'Content-Type: application/scim+json' "$@"
}
