# shellcheck shell=bash
# Harness for the fake of Atlassian Cloud's SCIM API (test/scim-server/atlassian.js),
# sourced by integration tests. Mirrors test/lib/scim-server.sh with an atl_ prefix.
#
#   . test/lib/atlassian-fake.sh
#   atl_server_start "$tmpdir"      # exports ATL_URL ATL_PORT ATL_PID ATL_TOKEN_FILE ATL_ADMIN_URL
#   atl_curl -X POST -d @user.json "$ATL_URL/Users"
#   atl_dump | jq '.Users | length'
#   atl_server_stop
#
# ATL_URL is the directory's base URL, http://127.0.0.1:PORT/scim/directory/d-test.
# Other helpers: atl_stats [--no-log], atl_reset, atl_reset_stats, atl_seed FILE.
# Settings, read by atl_server_start:
#   ATL_VERIFIED_DOMAINS   space-separated verified email domains (default: l2s.test)
#   ATL_DIRECTORY_ID       directory id in the base path (default: d-test)
#   ATL_SERVER_VERBOSE=1   log one line per request to DIR/atl-server.log
# Needs node (with npm ci done in test/scim-server), curl and jq: scripts/install-deps.

ATL_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ATL_SERVER_DIR=$(cd "$ATL_LIB_DIR/../scim-server" && pwd)
. "$(dirname "${BASH_SOURCE[0]}")/node-server.sh"

_atl_err() {
	printf 'atlassian-fake: %s\n' "$*" >&2
}

# atl_server_start DIR: start the fake on a free loopback port with a fresh
# random token in DIR/atl.token, logging to DIR/atl-server.log.
atl_server_start() {
	local dir=${1:?usage: atl_server_start DIR}
	local domain
	node_server_tools atlassian-fake || return 1
	if [ ! -d "$ATL_SERVER_DIR/node_modules/express" ]; then
		_atl_err "'$ATL_SERVER_DIR/node_modules' is missing; run scripts/install-deps"
		return 1
	fi
	if [ -n "${ATL_PID:-}" ] && kill -0 "$ATL_PID" 2>/dev/null; then
		_atl_err "already running as pid $ATL_PID"
		return 1
	fi
	mkdir -p "$dir" || return 1
	dir=$(cd "$dir" && pwd)
	node_server_token "$dir" atl || return 1

	local directory=${ATL_DIRECTORY_ID:-d-test}
	local -a args=(--port 0 --token-file "$dir/atl.token" --port-file "$dir/atl.port"
		--directory-id "$directory")
	for domain in ${ATL_VERIFIED_DOMAINS-l2s.test}; do
		args+=(--verified-domain "$domain")
	done
	if [ -n "${ATL_SERVER_VERBOSE:-}" ]; then
		args+=(--verbose)
	fi
	ATL_DIR=$dir
	# up to 20 s: the port file must appear and /_test/stats must answer
	node_server_run atlassian-fake "$dir/atl-server.log" "$dir/atl.port" \
	    '_test/stats?log=0' 20 "$ATL_SERVER_DIR/atlassian.js" "${args[@]}" || {
		ATL_PID=
		return 1
	}
	ATL_PID=$node_pid ATL_PORT=$node_port
	export ATL_PORT ATL_PID ATL_DIR
	export ATL_URL="http://127.0.0.1:$ATL_PORT/scim/directory/$directory"
	export ATL_ADMIN_URL="http://127.0.0.1:$ATL_PORT/_test"
	export ATL_TOKEN_FILE="$dir/atl.token"
	export ATL_AUTH_HEADER_FILE="$dir/atl.auth-header"
}

# atl_server_stop: stop the fake started by atl_server_start (idempotent).
atl_server_stop() {
	node_server_stop "${ATL_PID:-}"
	ATL_PID=
}

_atl_admin() {
	node_server_admin atlassian-fake "${ATL_ADMIN_URL:-}" "$@"
}

# atl_dump: print {"Users":[...],"Groups":[...]} with every stored resource.
atl_dump() {
	_atl_admin GET dump
}

# atl_stats [--no-log]: print {"requests":N,"writes":N,"byMethod":{...},
# "userDeletes":N,"log":[{"method","path","status","bytes","query"?,"note"?},...]}.
# A DELETE of a user is counted in userDeletes and its log entry has a note.
atl_stats() {
	if [ "${1:-}" = --no-log ]; then
		_atl_admin GET 'stats?log=0'
	else
		_atl_admin GET stats
	fi
}

# atl_reset_stats: zero the request counters and the request log.
atl_reset_stats() {
	_atl_admin POST reset-stats
}

# atl_reset: drop all users, groups and statistics.
atl_reset() {
	_atl_admin POST reset
}

# atl_seed FILE: preload {"Users":[...],"Groups":[...]}; prints the stored
# resources. Ids and meta are kept; uniqueness and member rules apply, the
# email rules (one primary, verified domain) do not.
atl_seed() {
	local file=${1:?usage: atl_seed FILE}
	if [ ! -r "$file" ]; then
		_atl_err "cannot read '$file'"
		return 1
	fi
	_atl_admin POST seed -H 'Content-Type: application/json' --data-binary "@$file"
}

# atl_curl ARGS...: curl with the bearer token and the SCIM content type,
# e.g. atl_curl -X PATCH -d @patch.json "$ATL_URL/Users/$id".
# The token is read from a file, so it never shows on a command line.
atl_curl() {
	if [ -z "${ATL_AUTH_HEADER_FILE:-}" ]; then
		_atl_err "not started"
		return 1
	fi
	curl -sS -H "@$ATL_AUTH_HEADER_FILE" -H 'Content-Type: application/scim+json' "$@"
}
