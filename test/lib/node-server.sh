# shellcheck shell=bash
# node-server.sh - what the harnesses of the test's node servers share
# (scim-server.sh, atlassian-fake.sh, fault-proxy.sh), sourced by them.
#
#   node_server_tools WHO              node, curl and jq are installed
#   node_server_token DIR STEM         a fresh random token in DIR/STEM.token and
#                                      its header in DIR/STEM.auth-header (0600)
#   node_server_run WHO LOG PORTFILE HEALTH SECONDS SCRIPT ARGS...
#                                      start node SCRIPT ARGS in the background
#                                      logging to LOG, wait until PORTFILE names a
#                                      port on which http://127.0.0.1:PORT/HEALTH
#                                      answers; sets node_pid and node_port
#   node_server_stop PID               TERM, up to 5 s, then KILL (empty: nothing)
#   node_server_admin WHO BASE METHOD PATH [CURL ARGS...]
#                                      call BASE/PATH; prints the answer, fails
#                                      with the server's message on a non-2xx

_node_err() {
	local who=$1; shift
	printf '%s: %s\n' "$who" "$*" >&2
}

node_server_tools() {
	local tool
	for tool in node curl jq; do
		if ! command -v "$tool" >/dev/null 2>&1; then
			_node_err "$1" "'$tool' not found; run scripts/install-deps"
			return 1
		fi
	done
}

node_server_token() {
	local dir=$1 stem=$2 token
	token=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
	(umask 077 && printf '%s\n' "$token" >"$dir/$stem.token" &&
		printf 'Authorization: Bearer %s\n' "$token" >"$dir/$stem.auth-header") || return 1
	chmod 600 "$dir/$stem.token" "$dir/$stem.auth-header"
}

node_server_run() {
	local who=$1 log=$2 portfile=$3 health=$4 seconds=$5 i
	shift 5
	rm -f "$portfile"
	node "$@" >>"$log" 2>&1 </dev/null &
	node_pid=$!
	node_port=
	for ((i = 0; i < seconds * 10; i++)); do
		if ! kill -0 "$node_pid" 2>/dev/null; then
			_node_err "$who" "exited during start-up; last lines of '$log':"
			tail -n 20 "$log" >&2
			wait "$node_pid" 2>/dev/null
			node_pid=
			return 1
		fi
		if [ -s "$portfile" ]; then
			node_port=$(tr -d ' \n' <"$portfile")
			if curl -sf -o /dev/null --max-time 2 "http://127.0.0.1:$node_port/$health"; then
				return 0
			fi
		fi
		sleep 0.1
	done
	_node_err "$who" "not ready after $seconds s; see '$log'"
	kill "$node_pid" 2>/dev/null
	wait "$node_pid" 2>/dev/null
	node_pid=
	return 1
}

node_server_stop() {
	local pid=${1:-} i
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
	return 0
}

node_server_admin() {
	local who=$1 base=$2 method=$3 path=$4
	shift 4
	if [ -z "$base" ]; then
		_node_err "$who" "not started"
		return 1
	fi
	local out status
	out=$(curl -sS --max-time 30 -X "$method" -w '\n%{http_code}' "$@" "$base/$path") || {
		_node_err "$who" "'$method /${base##*/}/$path' failed"
		return 1
	}
	status=${out##*$'\n'}
	out=${out%$'\n'*}
	if [ "${status:0:1}" != 2 ]; then
		_node_err "$who" "'$method /${base##*/}/$path' answered $status: $out"
		return 1
	fi
	[ -z "$out" ] || printf '%s\n' "$out"
}
