# shellcheck shell=bash
# probe.sh - build a test program of test/unit/ that the Makefile does not
# build (a *_probe.c) against $build/libagent.a, with the Makefile's
# warnings, and the sanitizers when libagent.a was built with them (sourced).
#
#   probe_build NAME   builds $build/test/NAME from test/unit/NAME.c, sets
#                      probe (its path) and probe_asan (1 under sanitizers);
#                      prints "Bail out!" and exits the test when it cannot
# Needs top and build set.

probe_build() {
	local name=$1 extra=()
	probe=$build/test/$name
	probe_asan=0
	if [ ! -f "$build/libagent.a" ]; then
		echo "Bail out! no $build/libagent.a: run make first"
		exit 1
	fi
	if nm "$build/libagent.a" 2>/dev/null | grep -q __asan_; then
		extra=("-fsanitize=address,undefined")
		probe_asan=1
	fi
	mkdir -p "$build/test"
	# shellcheck disable=SC2046
	if ! ${CC:-cc} -std=c11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	    -Wmissing-prototypes -Wformat=2 -D_DEFAULT_SOURCE \
	    -D_POSIX_C_SOURCE=200809L -I"$top/agent" -g -O1 "${extra[@]}" \
	    -o "$probe" "$top/test/unit/$name.c" "$build/libagent.a" \
	    $(pkg-config --libs libcurl libcjson yaml-0.1 sqlite3 krb5 2>/dev/null) \
	    -lldap -llber; then
		echo "Bail out! cannot build $name"
		exit 1
	fi
}
