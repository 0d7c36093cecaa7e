# shellcheck shell=bash
# agent.sh - run ldap2scim from integration tests (sourced)
#
#   l2s_run NAME ARGS...    runs $L2S_BIN ARGS, keeps stdout in $L2S_OUT/NAME.out
#                           and stderr in $L2S_OUT/NAME.err; sets l2s_rc,
#                           l2s_stdout and l2s_stderr
#   l2s_outputs             every file written so far (for the secret check)
#   l2s_while_locked LOCK NAME ARGS...
#                           l2s_run NAME ARGS while another process holds
#                           the run lock LOCK as a run of the agent would
#   l2s_loop_start NAME ARGS...  the agent (ARGS: -c CFG run) in the
#                           background, output in $L2S_OUT/NAME.{out,err};
#                           sets l2s_loop_pid
#   l2s_loop_reload / l2s_loop_stop
#                           ask it to reload its configuration / to stop
#                           (SIGHUP / SIGTERM; under wine the events the
#                           service wrapper would signal)
#   l2s_loop_wait SECONDS   wait for it to end; sets l2s_loop_rc ("" if not)
#
# L2S_WINTOOL (set by the wine tests: test/wine/wintool) makes the lock and
# the loop's requests Windows ones, for the Windows agent under wine.
# L2S_OUT must be set to a directory before the first call.
# Under `make check` L2S_BIN is the sanitizer build; L2S_VALGRIND=1 runs the
# agent under valgrind instead (leaks and errors fail the run with status 99).

l2s_run() {
	local name=$1; shift
	local -a pre=()
	if [ "${L2S_VALGRIND:-0}" = 1 ]; then
		pre=(valgrind -q --leak-check=full --show-leak-kinds=definite
		     --errors-for-leak-kinds=definite --error-exitcode=99)
	fi
	mkdir -p "$L2S_OUT"
	"${pre[@]}" "$L2S_BIN" "$@" >"$L2S_OUT/$name.out" 2>"$L2S_OUT/$name.err"
	l2s_rc=$?
	l2s_stdout=$(cat "$L2S_OUT/$name.out")
	l2s_stderr=$(cat "$L2S_OUT/$name.err")
	return 0
}

l2s_outputs() {
	find "$L2S_OUT" -type f
}

l2s_while_locked() {
	local lock=$1 fd hold i
	shift
	if [ -n "${L2S_WINTOOL:-}" ]; then
		rm -f "$lock.ready" "$lock.release"
		"$L2S_WINTOOL" hold-lock "$lock" "$lock.ready" "$lock.release" &
		hold=$!
		for i in $(seq 1 100); do [ -e "$lock.ready" ] && break; sleep 0.1; done
		l2s_run "$@"
		touch "$lock.release"
		wait "$hold"
		rm -f "$lock.ready" "$lock.release"
		return 0
	fi
	exec {fd}>>"$lock"
	flock -x "$fd"
	l2s_run "$@"
	exec {fd}>&-
}

l2s_loop_start() {
	local name=$1 i
	shift
	mkdir -p "$L2S_OUT"
	if [ -n "${L2S_WINTOOL:-}" ]; then
		_l2s_events="$L2S_OUT/$name.events"
		_l2s_stop="Local\\l2s-stop-$$-$name"
		_l2s_reload="Local\\l2s-reload-$$-$name"
		rm -f "$_l2s_events.ready" "$_l2s_events.release"
		"$L2S_WINTOOL" events "$_l2s_stop" "$_l2s_reload" \
		    "$_l2s_events.ready" "$_l2s_events.release" &
		_l2s_events_pid=$!
		for i in $(seq 1 100); do [ -e "$_l2s_events.ready" ] && break; sleep 0.1; done
		L2S_STOP_EVENT=$_l2s_stop L2S_RELOAD_EVENT=$_l2s_reload \
		    "$L2S_BIN" "$@" >"$L2S_OUT/$name.out" 2>"$L2S_OUT/$name.err" &
	else
		"$L2S_BIN" "$@" >"$L2S_OUT/$name.out" 2>"$L2S_OUT/$name.err" &
	fi
	l2s_loop_pid=$!
}

l2s_loop_reload() {
	if [ -n "${L2S_WINTOOL:-}" ]; then
		"$L2S_WINTOOL" set "$_l2s_reload"
	else
		kill -HUP "$l2s_loop_pid"
	fi
}

l2s_loop_stop() {
	if [ -n "${L2S_WINTOOL:-}" ]; then
		"$L2S_WINTOOL" set "$_l2s_stop"
	else
		kill -TERM "$l2s_loop_pid"
	fi
}

l2s_loop_wait() {
	local i
	l2s_loop_rc=""
	for i in $(seq 1 $(($1 * 5))); do
		if ! kill -0 "$l2s_loop_pid" 2>/dev/null; then
			wait "$l2s_loop_pid"
			l2s_loop_rc=$?
			break
		fi
		sleep 0.2
	done
	if [ -n "${L2S_WINTOOL:-}" ] && [ -n "${_l2s_events_pid:-}" ]; then
		touch "$_l2s_events.release"
		wait "$_l2s_events_pid" 2>/dev/null
		_l2s_events_pid=""
	fi
}
