# shellcheck shell=bash
# wine.sh - run the Windows build's programs under wine, for the tests
#
#   wine_setup          find wine64, use one wine prefix for the whole run
#                       ($L2S_BUILD/wine-prefix, made once under a lock: the
#                       first start takes a few seconds), start its server,
#                       keep wine quiet
#   wine_run EXE ARGS   run EXE under wine; its exit status is wine's (a
#                       program wine could not start is tried again)
#   wine_stop           end the prefix's wineserver (and every program still
#                       running in it): call it from a test's cleanup
#
# The prefix holds no secrets and no state a test relies on: each test makes
# its own directories and passes them as arguments.

wine_setup() {
	local build=${L2S_BUILD:-${L2S_TOP:-.}/build}
	WINE=""
	for WINE in wine64 /usr/lib/wine/wine64; do
		command -v "$WINE" >/dev/null 2>&1 && break
		WINE=""
	done
	if [ -z "$WINE" ]; then
		echo "wine.sh: wine64 not found; run scripts/install-deps" >&2
		return 1
	fi
	WINESERVER_BIN=$(dirname "$(command -v "$WINE")")/wineserver
	[ -x "$WINESERVER_BIN" ] || WINESERVER_BIN=wineserver
	export WINEPREFIX="$build/wine-prefix" WINEDEBUG=-all WINEDLLOVERRIDES="mscoree,mshtml="
	export WINEARCH=win64
	# wine_run's notes go to the test's standard error as it is now
	[ -n "${WINE_NOTE_FD:-}" ] || exec {WINE_NOTE_FD}>&2
	mkdir -p "$build" || return 1
	# The prefix is whole once its server has written system.reg, when it
	# ends; `wineserver -w` waits for that.  Made twice at most, and a
	# failure says so on standard error.
	(
		flock 9 || exit 1
		[ -f "$WINEPREFIX/system.reg" ] && exit 0
		for try in 1 2; do
			WINEDEBUG=-all,err+all "$WINE" wineboot --init >"$build/wine-prefix.log" 2>&1 {WINE_NOTE_FD}>&-
			status=$?
			"$WINESERVER_BIN" -w 2>/dev/null {WINE_NOTE_FD}>&-
			[ "$status" -eq 0 ] && [ -f "$WINEPREFIX/system.reg" ] && exit 0
			printf 'wine.sh: wineboot --init made no prefix in %s (exit %d, try %d of 2): %s\n' \
			    "$WINEPREFIX" "$status" "$try" "$(tail -n 5 "$build/wine-prefix.log" | tr '\n' ' ')" >&2
			"$WINESERVER_BIN" -k 2>/dev/null {WINE_NOTE_FD}>&-
			rm -rf "$WINEPREFIX"
		done
		exit 1
	) 9>"$build/wine-prefix.lock" || return 1
	# One wineserver kept for 30 s after its last program: consecutive
	# runs never meet a server on its way out ("Connection reset by
	# peer").  Exit status 2: one is running already.
	"$WINESERVER_BIN" -p30 2>/dev/null {WINE_NOTE_FD}>&-
	return 0
}

# wine_run EXE ARGS: run EXE under wine; its exit status is wine's.  When
# wine cannot find or map the program, its loader runs start.exe in its
# place, which prints "Application could not be started, ..." and exits 1:
# the program itself never ran.  CI saw that once for `sc query`, between
# two runs of sc that worked, so wine_run starts the program again, up to 3
# times in all.  Each retry is noted on the test's own standard error (its
# log; WINE_NOTE_FD), never in the output the test reads.  That output is
# handed on when the program has ended, standard output first.
wine_run() {
	local dir try status
	dir=$(mktemp -d "${TMPDIR:-/tmp}/l2s-winerun.XXXXXX") || return 125
	for try in 1 2 3; do
		"$WINE" "$@" >"$dir/out" 2>"$dir/err" {WINE_NOTE_FD}>&-
		status=$?
		[ "$status" -eq 0 ] || [ "$try" -eq 3 ] && break
		grep -q '^Application could not be started, or no application associated' \
		    "$dir/out" || break
		printf 'wine.sh: wine could not start %s (try %d of 3): %s\n' "$1" "$try" \
		    "$(tr -d '\r' <"$dir/out" | tr '\n' ' ')" >&"${WINE_NOTE_FD:-2}"
		sleep "0.$((try * 4))"
	done
	cat "$dir/out"
	cat "$dir/err" >&2
	rm -rf "$dir"
	return "$status"
}

wine_stop() {
	[ -n "${WINEPREFIX:-}" ] && "${WINESERVER_BIN:-wineserver}" -k >/dev/null 2>&1
	return 0
}
