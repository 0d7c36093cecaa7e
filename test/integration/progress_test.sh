#!/bin/bash
# progress_test.sh - the progress line on a real terminal, and only there
#
# Pins down: on a terminal (a pty from util-linux script) a phase draws a
# progress line with "\r", a log line is written on a line of its own, and
# the line is never wider than the terminal; when stderr is a file, or
# TERM=dumb, or L2S_NO_PROGRESS=1, nothing of it is written.  Runs
# test/unit/progress_probe.c, built here against libagent.a.
#
# Environment: L2S_BUILD (default build), L2S_KEEP=1 to keep the temporary
# directory.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${L2S_BUILD:-build}
case "$build" in /*) ;; *) build=$top/$build ;; esac

n=0
failed=0
ok() {	# ok COND_EXIT_STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
		if [ -s "$tmp/out" ]; then
			tr '\r' '|' <"$tmp/out" | sed 's/^/#   /' | head -n 8
		fi
	fi
}
# has PATTERN NAME / hasnt PATTERN NAME: $tmp/out contains the fixed string
has() { grep -qaF -- "$1" "$tmp/out"; ok $? "$2"; }
hasnt() { ! grep -qaF -- "$1" "$tmp/out"; ok $? "$2"; }

if ! command -v script >/dev/null; then
	echo "1..0 # SKIP util-linux script not installed"
	exit 0
fi

tmp=$(mktemp -d /tmp/progress_test.XXXXXX)
cleanup() {
	if [ "${L2S_KEEP:-0}" = 1 ]; then
		echo "# kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT

# --- the probe -----------------------------------------------------------
. "$top/test/lib/probe.sh"
probe_build progress_probe

cr=$(printf '\r')

# on_tty CMD: run CMD with a pty as its terminal; what it shows in $tmp/out
on_tty() {
	script -qec "$1" /dev/null </dev/null >"$tmp/out" 2>&1
}

# --- on a terminal -------------------------------------------------------
on_tty "env -u L2S_NO_PROGRESS TERM=xterm $probe 600"
ok $? "the probe runs on a terminal"
has "${cr}counting: " "a progress line is drawn with \\r on a terminal"
has "/600 things" "the line shows done/total and the unit"
has "${cr}ldap2scim: warning: half way" \
    "a log line starts at the beginning of the line, the progress wiped"
has "${cr}ldap2scim: done" "the line is wiped when the phase ends"
draws=$(tr '\r' '\n' <"$tmp/out" | grep -ac '^counting: ')
[ "$draws" -ge 2 ] && [ "$draws" -le 60 ]
ok $? "the line is redrawn a few times a second, not on every update ($draws draws for 600 updates)"

on_tty "env -u L2S_NO_PROGRESS TERM=xterm $probe 1500"
tr '\r' '\n' <"$tmp/out" | grep -a '^counting: ' >"$tmp/lines"
grep -qaE '^counting: [0-9,]+/1,500 things, [0-9,]+/s, ETA [0-9hms]+ *$' \
    "$tmp/lines"
ok $? "after half a second the line shows the rate and the ETA"

on_tty "stty cols 30; env -u L2S_NO_PROGRESS TERM=xterm $probe 1500"
widest=$(tr '\r' '\n' <"$tmp/out" | grep -a -v ldap2scim |
    awk '{ if (length($0) > w) w = length($0) } END { print w + 0 }')
[ "$widest" -le 29 ]
ok $? "on a 30-column terminal nothing drawn is wider than 29 columns ($widest)"
has "${cr}counting: " "a narrow terminal still gets the line"
tr '\r' '\n' <"$tmp/out" | grep -a '^counting: ' >"$tmp/lines"
! grep -qavE '^counting: [0-9,]+/1,500 things *$' "$tmp/lines"
ok $? "a narrow terminal drops the rate and ETA whole, never half a number"

# --- not a terminal ------------------------------------------------------
env -u L2S_NO_PROGRESS TERM=xterm "$probe" 300 >"$tmp/out" 2>&1
hasnt "counting" "no progress line when stderr is a file"
hasnt "$cr" "no \\r when stderr is a file"
has "ldap2scim: warning: half way" "log lines are still written to the file"

on_tty "env -u L2S_NO_PROGRESS TERM=xterm $probe 300 2>$tmp/err"
cp "$tmp/err" "$tmp/out"
hasnt "counting" "no progress line when stderr is a file, stdout a terminal"

on_tty "env -u L2S_NO_PROGRESS TERM=dumb $probe 300"
hasnt "counting" "no progress line when TERM=dumb"
has "ldap2scim: done" "TERM=dumb still gets the log lines"

on_tty "env L2S_NO_PROGRESS=1 TERM=xterm $probe 300"
hasnt "counting" "no progress line when L2S_NO_PROGRESS=1"

echo "1..$n"
[ "$failed" -eq 0 ]
