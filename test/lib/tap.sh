# shellcheck shell=bash
# tap.sh - TAP output for integration tests (sourced)
#
#   ok COND_EXIT_STATUS "name"     e.g.  test "$x" = 3; ok $? "x is three"
#   is GOT WANT "name"             string equality, prints both on failure
#   like GOT REGEX "name"          grep -E match
#   unlike GOT REGEX "name"
#   diag "text"                    a "# text" line
#   tap_done                       prints the plan; exit status 1 on failure
#   skip_all "reason"              for a missing prerequisite: 1..0 # SKIP

_tap_n=0
_tap_failed=0

ok() {
	local status=$1; shift
	_tap_n=$((_tap_n + 1))
	if [ "$status" -eq 0 ]; then
		echo "ok $_tap_n - $*"
	else
		echo "not ok $_tap_n - $*"
		_tap_failed=$((_tap_failed + 1))
	fi
	return "$status"
}

is() {
	local got=$1 want=$2; shift 2
	if [ "$got" = "$want" ]; then
		ok 0 "$@"
	else
		ok 1 "$@"
		printf '#   got:  %s\n#   want: %s\n' "$got" "$want"
		return 1
	fi
}

like() {
	local got=$1 re=$2; shift 2
	if printf '%s' "$got" | grep -qE -- "$re"; then
		ok 0 "$@"
	else
		ok 1 "$@"
		printf '#   got: %s\n#   not matching: %s\n' "$(printf '%s' "$got" | head -c 2000)" "$re"
		return 1
	fi
}

unlike() {
	local got=$1 re=$2; shift 2
	if printf '%s' "$got" | grep -qE -- "$re"; then
		ok 1 "$@"
		printf '#   got: %s\n#   matching: %s\n' "$(printf '%s' "$got" | head -c 2000)" "$re"
		return 1
	else
		ok 0 "$@"
	fi
}

diag() {
	printf '%s\n' "$*" | sed 's/^/# /'
}

tap_done() {
	echo "1..$_tap_n"
	[ "$_tap_failed" -eq 0 ]
}

skip_all() {
	echo "1..0 # SKIP $*"
	exit 0
}
