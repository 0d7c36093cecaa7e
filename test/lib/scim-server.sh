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

_scim_err() {
	printf 'scim-server: %s\n' "$*" >&2
}

# scim_server_start DIR: start the server on a free loopback port with a fresh
# random token in DIR/scim.token, logging to DIR/scim-server.log.
scim_server_start() {
	local dir=${1:?usage: scim_server_start DIR}
	local tool token i
	for tool in node curl jq; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			_scim_err "'$tool' not found; run scripts/install-deps"
			return 1
		fi
	done
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

	token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	(umask 077 && printf '%s\n' "$token" >"$dir/scim.token" &&
		printf 'Authorization: Bearer %s\n' "$token" >"$dir/scim.auth-header") || return 1
	chmod 600 "$dir/scim.token" "$dir/scim.auth-header"
	rm -f "$dir/scim.port"

	local -a args=(--port 0 --token-file "$dir/scim.token" --port-file "$dir/scim.port")
	if [ -n "${SCIM_SERVER_VERBOSE:-}" ]; then
		args+=(--verbose)
	fi
	# SCIM_SERVER_NO_PATCH=1: the server says PATCH is not supported
	if [ -n "${SCIM_SERVER_NO_PATCH:-}" ]; then
		args+=(--no-patch)
	fi
	node "$SCIM_SERVER_DIR/server.js" "${args[@]}" >>"$dir/scim-server.log" 2>&1 </dev/null &
	SCIM_PID=$!
	SCIM_DIR=$dir

	# up to 20 s: the port file must appear and /_test/stats must answer
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$SCIM_PID" 2>/dev/null; then
			_scim_err "server exited during start-up; last lines of '$dir/scim-server.log':"
			tail -n 20 "$dir/scim-server.log" >&2
			SCIM_PID=
			return 1
		fi
		if [ -s "$dir/scim.port" ]; then
			SCIM_PORT=$(tr -d ' \n' <"$dir/scim.port")
			if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$SCIM_PORT/_test/stats?log=0"; then
				export SCIM_PORT SCIM_PID SCIM_DIR
				export SCIM_URL="http://127.0.0.1:$SCIM_PORT/scim/v2"
				export SCIM_ADMIN_URL="http://127.0.0.1:$SCIM_PORT/_test"
				export SCIM_TOKEN_FILE="$dir/scim.token"
				export SCIM_AUTH_HEADER_FILE="$dir/scim.auth-header"
				return 0
			fi
		fi
		sleep 0.1
	done
	_scim_err "not ready after 20 s; see '$dir/scim-server.log'"
	kill "$SCIM_PID" 2>/dev/null
	SCIM_PID=
	return 1
}

# scim_server_stop: stop the server started by scim_server_start (idempotent).
scim_server_stop() {
	local pid=${SCIM_PID:-} i
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
	SCIM_PID=
	return 0
}

_scim_admin() {
	local method=$1 path=$2
	shift 2
	if [ -z "${SCIM_ADMIN_URL:-}" ]; then
		_scim_err "not started"
		return 1
	fi
	local out status
	out=$(curl -sS -X "$method" -w '\n%{http_code}' "$@" "$SCIM_ADMIN_URL/$path") || {
		_scim_err "'$method /_test/$path' failed"
		return 1
	}
	status=${out##*$'\n'}
	out=${out%$'\n'*}
	if [ "${status:0:1}" != 2 ]; then
		_scim_err "'$method /_test/$path' answered $status: $out"
		return 1
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
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
