#!/usr/bin/env bash
# agent_sync_test.sh - the Windows agent (build/win64/ldap2scim.exe) under
# wine passes the Linux integration test, test/integration/sync_test.sh,
# unchanged: the same real slapd and test SCIM server on loopback (simple
# bind), the same 90 assertions (dry run, first sync, no-op sync, every kind
# of LDAP change, bad input and exit codes, the removal guard, the lock,
# the polling loop, no secret in any output).  Only the mechanisms differ
# where Windows has its own: the run lock is held by a Windows process
# (LockFileEx, test/wine/wintool), and the loop is asked to reload and to
# stop through the named events the service wrapper uses instead of SIGHUP
# and SIGTERM (test/lib/agent.sh).
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
build=${L2S_BUILD:-$top/build}
case $build in /*) ;; *) build=$top/$build ;; esac
for f in "$build/win64/ldap2scim.exe" "$build/win64/test/wintool.exe"; do
	if [ ! -f "$f" ]; then
		echo "not ok 1 - $f is built (make windows-tests)"
		echo "1..1"
		exit 1
	fi
done
export L2S_TOP=$top L2S_BUILD=$build
export L2S_BIN=$top/test/wine/ldap2scim-wine L2S_WINTOOL=$top/test/wine/wintool
exec bash "$top/test/integration/sync_test.sh"
