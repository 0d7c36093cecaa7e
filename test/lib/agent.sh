# shellcheck shell=bash
# agent.sh - run ldap2scim from integration tests (sourced)
#
#   l2s_run NAME ARGS...    runs $L2S_BIN ARGS, keeps stdout in $L2S_OUT/NAME.out
#                           and stderr in $L2S_OUT/NAME.err; sets l2s_rc,
#                           l2s_stdout and l2s_stderr
#   l2s_outputs             every file written so far (for the secret check)
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
