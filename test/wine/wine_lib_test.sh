#!/usr/bin/env bash
# wine_lib_test.sh - test/lib/wine.sh itself: wine_run hands on a program's
# output and exit status, and tries a program wine cannot start 3 times,
# noting each retry on WINE_NOTE_FD and never in the program's output;
# wine_setup makes a prefix again when wine could not make it the first
# time, and says why on standard error.
# A program that does not exist is what makes wine's loader fall back to
# start.exe every time; CI once saw the same fallback for sc.exe.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/tap.sh"
. "$top/test/lib/wine.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/l2s-winelib.XXXXXX")
cleanup() {
	wine_stop
	rm -rf "$tmp"
}
trap cleanup EXIT
wine_setup || { ok 1 "wine starts"; tap_done; exit 1; }
left() { find "${TMPDIR:-/tmp}" -maxdepth 1 -name 'l2s-winerun.*' 2>/dev/null | wc -l; }
before=$(left)

exec {notes}>"$tmp/notes"
WINE_NOTE_FD=$notes wine_run cmd /c "echo out-line & echo err-line 1>&2 & exit 7" \
    >"$tmp/out" 2>"$tmp/err"
is "$?" 7 "wine_run returns the program's exit status"
is "$(tr -d '\r ' <"$tmp/out")" "out-line" "its standard output goes to standard output"
is "$(tr -d '\r ' <"$tmp/err")" "err-line" "its standard error goes to standard error"
is "$(cat "$tmp/notes")" "" "a program that ran is not tried again"

t0=$(date +%s%N)
WINE_NOTE_FD=$notes wine_run "l2s-nosuch-$$" a b >"$tmp/out" 2>"$tmp/err"
rc=$?
t1=$(date +%s%N)
is "$rc" 1 "a program wine cannot start: start.exe's exit status 1"
like "$(tr -d '\r' <"$tmp/out")" "^Application could not be started" \
    "the last try's output is handed on as it is"
is "$(grep -c "^wine.sh: wine could not start l2s-nosuch-$$ (try [12] of 3): Application could not be started" "$tmp/notes")" 2 \
    "the two retries are noted on WINE_NOTE_FD"
test $(( (t1 - t0) / 1000000 )) -ge 1200
ok $? "the retries wait 0.4 s, then 0.8 s ($(( (t1 - t0) / 1000000 )) ms in all)"
unlike "$(cat "$tmp/out" "$tmp/err")" "wine.sh:" "no note reaches the program's own output"
is "$(left)" "$before" "wine_run leaves no scratch directory behind"

# A file where the prefix should be: wine refuses it, wine_setup says so,
# removes it and makes the prefix on its second try.
mkdir -p "$tmp/build"
: >"$tmp/build/wine-prefix"
(L2S_BUILD=$tmp/build wine_setup) 2>"$tmp/setup.err"
is "$?" 0 "wine_setup makes the prefix on its second try"
like "$(cat "$tmp/setup.err")" "^wine.sh: wineboot --init made no prefix in $tmp/build/wine-prefix \(exit [0-9]+, try 1 of 2\): .*Not a directory" \
    "the first failure is reported with wine's reason"
test -f "$tmp/build/wine-prefix/system.reg"
ok $? "the prefix is whole (system.reg)"
WINEPREFIX=$tmp/build/wine-prefix "$WINESERVER_BIN" -k 2>/dev/null
tap_done
