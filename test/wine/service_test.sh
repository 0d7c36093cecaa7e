#!/usr/bin/env bash
# service_test.sh - ldap2scim-service.exe under wine: run --console with a
# fake agent (graceful stop through the named event, forced kill after the
# stop timeout, restart with backoff and its reset, giving up, log rotation),
# then the real service: install, sc/reg show it, start, stop, net start,
# sc stop, giving up with a service exit code, uninstall; usage errors.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${L2S_BUILD:-$top/build}
case "$build" in /*) ;; *) build="$top/$build" ;; esac
. "$top/test/lib/tap.sh"
. "$top/test/lib/wine.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/l2s-service.XXXXXX")
svc_name="l2s-test-$$"
installed=0
cleanup() {
	if [ "$installed" = 1 ]; then
		wine_run "$exe" uninstall --name "$svc_name" >/dev/null 2>&1
	fi
	wine_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

make -s -C "$top" -f mk/service.mk BUILD="$build" windows-service >"$tmp/build.log" 2>&1
ok $? "the wrapper and the fake agent cross-compile" || { diag "$(cat "$tmp/build.log")"; tap_done; exit 1; }
exe="$build/win64/ldap2scim-service.exe"
fake="$build/win64/test/fake_agent.exe"
wine_setup || { ok 1 "wine starts"; tap_done; exit 1; }

winpath() { printf 'Z:%s' "${1//\//\\}"; }
W=$(winpath "$tmp")
wfake=$(winpath "$fake")
wexe=$(winpath "$exe")
ms() { echo $(( $(date +%s%N) / 1000000 )); }
text() { { tr -d '\r' <"$1"; } 2>/dev/null; }
starts() {
	if [ -f "$tmp/$1.cfg.starts" ]; then grep -c '^start ' "$tmp/$1.cfg.starts"; else echo 0; fi
}

# wait_for FILE REGEX SECONDS: until FILE has a line matching REGEX
wait_for() {
	local i=0
	while [ $i -lt $(($3 * 10)) ]; do
		text "$1" | grep -qE -- "$2" && return 0
		sleep 0.1
		i=$((i + 1))
	done
	return 1
}

# wait_exit PID SECONDS: sets rc to its exit status, 124 after SECONDS
wait_exit() {
	local i=0
	while kill -0 "$1" 2>/dev/null; do
		sleep 0.05
		i=$((i + 1))
		if [ $i -ge $(($2 * 20)) ]; then
			kill "$1" 2>/dev/null
			wait "$1" 2>/dev/null
			rc=124
			return
		fi
	done
	wait "$1"
	rc=$?
}

# console NAME MODE ARGS...: the wrapper in console mode on a config NAME.cfg
# saying MODE, log NAME.log, stop event Local\l2s-NAME-$$; sets wpid
console() {
	local name=$1 mode=$2
	shift 2
	printf '%s\n' "$mode" >"$tmp/$name.cfg"
	wine_run "$exe" run --console --agent "$wfake" --config "$W\\$name.cfg" \
	    --log "$W\\$name.log" --stop-event "Local\\l2s-$name-$$" "$@" \
	    >"$tmp/$name.out" 2>"$tmp/$name.err" &
	wpid=$!
}
# signal NAME: set the wrapper's --stop-event (retried while it does not exist yet)
signal() {
	local i=0
	until wine_run "$fake" signal "Local\\l2s-$1-$$"; do
		i=$((i + 1))
		[ $i -ge 50 ] && return 1
		sleep 0.1
	done
}
alive() { wine_run "$fake" alive "$1"; }
child_pid() { text "$tmp/$1.log" | sed -n 's/.*started child pid \([0-9]*\).*/\1/p' | head -n 1; }

# 1. console mode, graceful stop through the named event
console graceful graceful
wait_for "$tmp/graceful.log" "fake agent waiting for the stop event" 20
ok $? "run --console starts the agent and relays its output to the log"
pid=$(child_pid graceful)
like "$pid" "^[0-9]+$" "the log names the child's pid"
like "$(text "$tmp/graceful.log")" "fake agent on stderr" "the child's standard error goes to the log too"
alive "$pid"
ok $? "the child runs while the wrapper does"
signal graceful
ok $? "the test sets the stop event given with --stop-event"
wait_exit "$wpid" 15
is "$rc" 0 "the wrapper exits 0 after a graceful stop"
log=$(text "$tmp/graceful.log")
like "$log" "stop requested: waiting up to 30 s for child pid $pid" "the log records the stop request"
like "$log" "fake agent stopping" "the child saw L2S_STOP_EVENT and stopped"
like "$log" "child pid $pid exited with 0" "the log records the child's exit code 0"
n_stop=$(printf '%s\n' "$log" | grep -n 'fake agent stopping' | cut -d: -f1)
n_exit=$(printf '%s\n' "$log" | grep -n 'exited with 0' | cut -d: -f1)
test "${n_stop:-9999}" -lt "${n_exit:-0}"
ok $? "the child's last line is logged before its exit"
unlike "$log" "CTRL_BREAK|killed" "a graceful stop needs neither CTRL_BREAK nor a kill"
like "$(text "$tmp/graceful.out")" "fake agent stopping" "console mode echoes the log on standard output"

# 2. a child that ignores the stop is killed after --stop-timeout
console stubborn stubborn --stop-timeout 2
wait_for "$tmp/stubborn.log" "fake agent ignoring stop" 20
ok $? "the stubborn child starts"
pid=$(child_pid stubborn)
t0=$(ms)
signal stubborn
wait_exit "$wpid" 15
t1=$(ms)
is "$rc" 0 "the wrapper exits 0 once it killed the child"
log=$(text "$tmp/stubborn.log")
like "$log" "killed child pid $pid after 2 s" "the log says the child was killed after 2 s"
like "$log" "child pid $pid still running after 1000 ms: .*CTRL_BREAK" "CTRL_BREAK is tried half way through the timeout"
test $((t1 - t0)) -ge 1900 && test $((t1 - t0)) -le 6000
ok $? "the wrapper waits the stop timeout, then ends within slack ($((t1 - t0)) ms)"
alive "$pid"
ok $((1 - $?)) "the killed child process is gone"

# 3. restart with backoff: gaps double, then the wrapper gives up
console failing exit3 --backoff-ms 150 --max-failures 5
wait_exit "$wpid" 30
is "$rc" 1 "the wrapper gives up after 5 failures in a row and exits 1"
is "$(starts failing)" 5 "the failing agent was started 5 times"
log=$(text "$tmp/failing.log")
is "$(printf '%s\n' "$log" | grep -c 'exited with 3')" 5 "each exit code 3 is logged"
is "$(printf '%s\n' "$log" | sed -n 's/.*restarting in \([0-9]* ms\).*/\1/p' | tr '\n' ' ')" \
    "150 ms 300 ms 600 ms 1200 ms " "the restart delays double"
like "$log" "giving up after 5 failures in a row" "the log says the wrapper gave up"
like "$(text "$tmp/failing.err")" "the agent failed 5 times in a row" "so does standard error"
gaps=$(awk '{ if (NR > 1) printf "%d ", $3 - prev; prev = $3 }' "$tmp/failing.cfg.starts")
growing=$(awk -v g="$gaps" 'BEGIN { n = split(g, a, " "); ok = (n == 4);
    for (i = 1; i <= n; i++) { if (a[i] < 150 * 2 ^ (i - 1)) ok = 0; if (i > 1 && a[i] <= a[i-1]) ok = 0 }
    print ok }')
is "$growing" 1 "the gaps between starts grow and are at least the backoff (gaps: $gaps ms)"

# 3b. the backoff starts over after a child ran --reset-after-ms
console resetting "sleepexit 400" --backoff-ms 100 --reset-after-ms 300 --max-failures 3
i=0
while [ "$(starts resetting)" -lt 4 ] && [ $i -lt 200 ]; do
	sleep 0.1
	i=$((i + 1))
done
signal resetting
wait_exit "$wpid" 15
is "$rc" 0 "a child that runs long enough never makes the wrapper give up"
log=$(text "$tmp/resetting.log")
is "$(printf '%s\n' "$log" | sed -n 's/.*restarting in \([0-9]* ms\).*/\1/p' | sort -u)" "100 ms" \
    "the delay starts over after each long enough run"
unlike "$log" "giving up" "the failure count starts over too"

# 4. log rotation
console chatty "chatty 3000" --log-max-bytes 20000 --log-keep 3
wait_for "$tmp/chatty.log" "fake agent waiting for the stop event" 30
ok $? "the chatty child wrote its lines"
signal chatty
wait_exit "$wpid" 15
is "$rc" 0 "the chatty wrapper stops"
for f in chatty.log chatty.log.1 chatty.log.2 chatty.log.3; do
	test -s "$tmp/$f"
	ok $? "rotation keeps $f"
done
test ! -e "$tmp/chatty.log.4"
ok $? "no more than --log-keep 3 old files are kept"
big=""
for f in "$tmp"/chatty.log*; do
	[ "$(stat -c %s "$f")" -le 20000 ] || big="$big $(basename "$f"):$(stat -c %s "$f")"
done
is "$big" "" "no log file exceeds --log-max-bytes"
like "$(text "$tmp/chatty.log")" "console mode stopped" "the newest lines are in chatty.log"
all=$(for f in chatty.log.3 chatty.log.2 chatty.log.1 chatty.log; do text "$tmp/$f"; done)
bad=$(printf '%s\n' "$all" | grep -vE '^(chatty line [0-9]{5} [a-z]* end|chatty unicode .* done|fake agent .*|[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z ldap2scim-service: .*)$' | head -n 3)
is "$bad" "" "every line in the rotated files is whole"
nums=$(printf '%s\n' "$all" | sed -n 's/^chatty line \([0-9]*\) .*/\1/p' | sed 's/^0*\([0-9]\)/\1/')
first=$(printf '%s\n' "$nums" | head -n 1)
last=$(printf '%s\n' "$nums" | tail -n 1)
is "$last $(printf '%s\n' "$nums" | wc -l)" "2999 $((2999 - first + 1))" \
    "the kept lines are the newest ones, in order, none lost or split"
for f in "$tmp"/chatty.log*; do
	[ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" = '\n' ] || echo "$f"
done >"$tmp/unterminated"
is "$(cat "$tmp/unterminated")" "" "every file ends with a whole line"
like "$(text "$tmp/chatty.log")" "chatty unicode üñïcödé ✓ done|chatty unicode ünïcöde ✓ done" "UTF-8 output is kept as is"

# usage and Windows errors
wine_run "$exe" >/dev/null 2>"$tmp/u1.err"
is "$?" 2 "no command is a usage error (exit 2)"
like "$(text "$tmp/u1.err")" "^usage: ldap2scim-service install" "it prints the usage"
wine_run "$exe" install --bogus x >/dev/null 2>"$tmp/u2.err"
is "$?" 2 "an unknown option is a usage error"
like "$(text "$tmp/u2.err")" "unknown option '--bogus'" "the message names the option"
wine_run "$exe" run --agent x >/dev/null 2>"$tmp/u3.err"
is "$?" 2 "run without --console is a usage error"
wine_run "$exe" run --console --stop-timeout soon >/dev/null 2>"$tmp/u4.err"
is "$?" 2 "a stop timeout that is not a number is a usage error"
like "$(text "$tmp/u4.err")" "invalid number 'soon'" "the message quotes the value"
wine_run "$exe" stop --name "l2s-nosuch-$$" >/dev/null 2>"$tmp/nosuch.err"
is "$?" 1 "stopping an unknown service fails (exit 1)"
like "$(text "$tmp/nosuch.err")" "^ldap2scim-service: cannot stop service 'l2s-nosuch-$$': OpenServiceW failed: .+ \(1060\)$" \
    "the message names the call and the Windows error text"

# 5. the service under wine's SCM.  A fresh wineserver whose services.exe
# inherits a standard error where +eventlog traces ReportEventW's strings:
# wine itself, not wine_run, whose programs write to files of its own.
wine_stop
sleep 0.5
printf 'graceful\n' >"$tmp/svc.cfg"
printf 'exit3\n' >"$tmp/svcfail.cfg"
WINEDEBUG=-all,+eventlog "$WINE" "$exe" install --name "$svc_name" --account LocalSystem \
    --agent "$wfake" --config "$W\\svc.cfg" --log "$W\\svc.log" --stop-timeout 3 \
    >"$tmp/install.out" 2>"$tmp/events"
is "$?" 0 "install succeeds"
installed=1
like "$(text "$tmp/install.out")" "installed service '$svc_name' \(account LocalSystem" "install says what it installed"
q=$(wine_run sc query "$svc_name" 2>&1 | tr -d '\r')
like "$q" "STATE +: 1 +STOPPED" "sc query shows the installed service, stopped"
key="HKLM\\SYSTEM\\CurrentControlSet\\Services\\$svc_name"
reg=$(wine_run reg query "$key\\Parameters" 2>&1 | tr -d '\r')
like "$reg" "AgentPath +REG_SZ +Z:.*fake_agent\.exe" "install writes AgentPath"
like "$reg" "Config +REG_SZ +Z:.*svc\.cfg" "install writes Config"
like "$reg" "LogFile +REG_SZ +Z:.*svc\.log" "install writes LogFile"
like "$reg" "StopTimeoutSeconds +REG_DWORD +0x3" "install writes StopTimeoutSeconds"
like "$reg" "LogMaxBytes +REG_DWORD +0xa00000" "install writes LogMaxBytes (10 MiB)"
like "$reg" "LogKeep +REG_DWORD +0x5" "install writes LogKeep"
reg=$(wine_run reg query "$key" 2>&1 | tr -d '\r')
like "$reg" "ImagePath +REG_SZ +\".*ldap2scim-service\.exe\" \"service\" \"--name\" \"$svc_name\"" \
    "the SCM runs the wrapper's service command"
like "$reg" "Start +REG_DWORD +0x2" "the service starts automatically"
reg=$(wine_run reg query "HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\$svc_name" 2>&1 | tr -d '\r')
like "$reg" "EventMessageFile +REG_EXPAND_SZ +Z:.*ldap2scim-service\.exe" "install registers the Event Log source"
like "$reg" "TypesSupported +REG_DWORD +0x7" "the source supports error, warning and information"
like "$(wine_run "$fake" message "$wexe" 40000001 "$svc_name" a b c | tr -d '\r')" \
    "^The ldap2scim service $svc_name started: agent a" "the executable carries the Event Log message table"

wine_run "$exe" start --name "$svc_name" >"$tmp/start.out" 2>&1
is "$?" 0 "start succeeds"
wait_for "$tmp/svc.cfg.starts" "^start " 10
ok $? "the service runs the agent (its marker file appears)"
wait_for "$tmp/svc.log" "fake agent waiting for the stop event" 10
ok $? "the service relays the agent's output to LogFile"
st=$(wine_run "$exe" status --name "$svc_name" | tr -d '\r')
like "$st" "state: running" "status shows it running"
like "$st" "pid: [0-9]+" "status shows the service's pid"
like "$(wine_run sc query "$svc_name" | tr -d '\r')" "STATE +: 4 +RUNNING" "sc query shows it running"
wine_run "$exe" stop --name "$svc_name" >"$tmp/stop.out" 2>&1
is "$?" 0 "stop succeeds"
log=$(text "$tmp/svc.log")
like "$log" "fake agent stopping" "stop reaches the agent through its stop event"
like "$log" "exited with 0" "the agent exits 0"
like "$log" "service '$svc_name' stopped" "the wrapper logs the service stop"
st=$(wine_run "$exe" status --name "$svc_name" | tr -d '\r')
like "$st" "state: stopped" "status shows it stopped"
like "$st" "exit code: 0" "with exit code 0"
ev=$(text "$tmp/events")
like "$ev" "ReportEventW L\"$svc_name\"" "the service reports events under its name"
like "$ev" "ReportEventW L\".*fake_agent\.exe\"" "the start event names the agent"

wine_run net start "$svc_name" >/dev/null 2>&1
is "$?" 0 "net start starts it"
i=0
while [ "$(starts svc)" -lt 2 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
is "$(starts svc)" 2 "the agent ran a second time"
wait_for "$tmp/svc.log" "fake agent waiting" 10
wine_run sc stop "$svc_name" >/dev/null 2>&1
is "$?" 0 "sc stop asks it to stop"
i=0
until wine_run "$exe" status --name "$svc_name" | grep -q "state: stopped" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
is "$(text "$tmp/svc.log" | grep -c 'fake agent stopping')" 2 "sc stop stops the agent gracefully too"

# A service that gives up stops with the agent's code as its exit code.
wine_run reg add "$key\\Parameters" /v Config /t REG_SZ /d "$W\\svcfail.cfg" /f >/dev/null 2>&1 &&
wine_run reg add "$key\\Parameters" /v BackoffMs /t REG_DWORD /d 100 /f >/dev/null 2>&1 &&
wine_run reg add "$key\\Parameters" /v MaxFailures /t REG_DWORD /d 2 /f >/dev/null 2>&1
ok $? "the test points the service at a failing agent"
wine_run "$exe" start --name "$svc_name" >/dev/null 2>&1
i=0
until wine_run "$exe" status --name "$svc_name" | grep -q "state: stopped" || [ $i -ge 100 ]; do sleep 0.1; i=$((i + 1)); done
like "$(wine_run "$exe" status --name "$svc_name" | tr -d '\r')" "exit code: 3 \(service specific\)" \
    "a service that gives up stops with a service exit code (3), for the recovery actions"
like "$(text "$tmp/svc.log")" "giving up after 2 failures in a row" "the log says it gave up"

wine_run "$exe" uninstall --name "$svc_name" >"$tmp/uninstall.out" 2>&1
is "$?" 0 "uninstall succeeds"
installed=0
wine_run sc query "$svc_name" >/dev/null 2>&1
ok $((1 - ($? != 0))) "sc query fails after uninstall"
wine_run reg query "HKLM\\SYSTEM\\CurrentControlSet\\Services\\EventLog\\Application\\$svc_name" >/dev/null 2>&1
ok $((1 - ($? != 0))) "uninstall removes the Event Log source"
wine_run reg query "$key\\Parameters" >/dev/null 2>&1
ok $((1 - ($? != 0))) "uninstall removes the Parameters"
tap_done
