# shellcheck shell=bash
# wine.sh - run the Windows build's programs under wine, for the tests
#
#   wine_setup          find wine64, use one wine prefix for the whole run
#                       ($L2S_BUILD/wine-prefix, made once under a lock: the
#                       first start takes a few seconds), start its server,
#                       keep wine quiet
#   wine_run EXE ARGS   run EXE under wine; its exit status is wine's
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
	mkdir -p "$build" || return 1
	(
		flock 9 || exit 1
		if [ ! -f "$WINEPREFIX/system.reg" ]; then
			"$WINE" wineboot --init >/dev/null 2>&1 || exit 1
			"$WINESERVER_BIN" -w 2>/dev/null
		fi
	) 9>"$build/wine-prefix.lock" || return 1
	# One wineserver kept for 30 s after its last program: consecutive
	# runs never meet a server on its way out ("Connection reset by
	# peer").  Exit status 2: one is running already.
	"$WINESERVER_BIN" -p30 2>/dev/null
	return 0
}

wine_run() {
	"$WINE" "$@"
}

wine_stop() {
	[ -n "${WINEPREFIX:-}" ] && "${WINESERVER_BIN:-wineserver}" -k >/dev/null 2>&1
	return 0
}
