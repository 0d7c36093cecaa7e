#!/usr/bin/env bash
# crash_test.sh - SIGKILL at any moment converges with no duplicate and
# nothing lost.  A 2,000-user initial sync is killed at 20 points chosen by
# a seed (L2S_CRASH_SEED, printed; the same seed gives the same points),
# each kill followed by a rerun; then a few kills during a cycle that
# carries a batch of LDAP changes.  The SCIM side is checked by the oracle
# (test/lib/scim_compare.py: equal to LDAP, no duplicate userName,
# externalId, group displayName or member) and, after every kill, by
# crash_invariants (test/lib/crash.sh).
#
# Kill points are counted in SCIM write requests.  The agent talks to the
# server through the fault proxy, which holds the chosen write's answer back
# (stall_after: the server applied it, the agent never hears so) or the
# write itself (stall_before); the agent is killed while it waits, so the
# point is exact and repeatable.  A third mode (free) kills as soon as the
# server's write counter reaches the point, which lands anywhere, the state
# commit included.
#
# Time: one initial sync of 2,000 users costs ~8 s here (the test server's
# CPU), ~16 s through the proxy, so 20 separate kill-and-full-rerun rounds do
# not fit in the time budget.  The 20 kill points are therefore made in ONE
# cumulative initial sync: kill, rerun, kill the rerun at the next point,
# ..., and the rerun after the 20th kill runs to the end.  After every kill
# the invariants are checked (no duplicate, every object the state records is
# on the server); after the last rerun the server must equal LDAP and a
# further sync must send nothing.  Then 3 more seeded points are each a
# whole round of their own: fresh server and state, sync killed at the
# point, a rerun to the end, compare.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"
. "$top/test/lib/fault-proxy.sh"
. "$top/test/lib/crash.sh"

seed=${L2S_CRASH_SEED:-1234}
nusers=2000
ngroups=40

# 2,000 users, 40 groups (one of 1,500 members, a nested chain)
lab_start crash --users $nusers --groups $ngroups --big-group 1500 --nested --seed 11
trap 'fault_proxy_stop >/dev/null 2>&1; lab_cleanup' EXIT
fault_proxy_start "$tmp/fault" "http://127.0.0.1:$SCIM_PORT" >"$tmp/fault-start.log" 2>&1
ok $? "the fault proxy starts in front of the SCIM server" ||
    { diag "$(cat "$tmp/fault-start.log")"; tap_done; exit 1; }
cfg="$tmp/l2s.yaml"
# One request at a time: the kill points count requests.
write_config "$cfg" scim_url="$FAULT_URL" removal=delete scim_extra="  concurrency: 1"
initial_writes=$((nusers + ngroups))
diag "L2S_CRASH_SEED=$seed"

# --- 20 kills in one cumulative initial sync ---------------------------
mapfile -t points < <(crash_points "$seed" 20 1 "$initial_writes")
diag "kill points (SCIM write, mode): ${points[*]}"
is "${#points[@]}" 20 "the seed gives 20 kill points"
stall_after_kills=0
for i in "${!points[@]}"; do
	target=${points[$i]%% *} mode=${points[$i]#* }
	now=$(writes)
	if [ "$target" -le "$now" ]; then
		diag "kill $((i + 1)): point $target already passed by the last free kill ($now writes), using $((now + 1))"
		target=$((now + 1))
	fi
	crash_kill "initial-kill$((i + 1))" "$cfg" "$target" "$mode"
	is "$crash_status" killed "kill $((i + 1)): sync is killed at SCIM write $target ($mode)"
	case $mode in
	stall_after) is "$crash_writes" "$target" "kill $((i + 1)): the server applied write $target, the agent never heard"
		stall_after_kills=$((stall_after_kills + 1)) ;;
	stall_before) is "$crash_writes" $((target - 1)) "kill $((i + 1)): the server never saw write $target" ;;
	free) test "$crash_writes" -ge "$target"
		ok $? "kill $((i + 1)): the server had $crash_writes writes (>= $target) at the kill" ;;
	esac
	crash_invariants "initial-kill$((i + 1))" "$cfg"
	ok $? "kill $((i + 1)): no duplicate on the server and every object in the state is there"
done

l2s_run initial-final -c "$cfg" sync
is "$l2s_rc" 0 "the rerun after the 20th kill runs to the end and exits 0"
like "$l2s_stderr" "cycle done in [0-9.]+ s: read $nusers users, $ngroups groups" "and logs its summary"
compare initial
ok $? "after 20 kills and reruns the SCIM server equals LDAP, with no duplicate"
is "$(jq '.Users | length' "$tmp/dump.json") $(jq '.Groups | length' "$tmp/dump.json")" "$nusers $ngroups" \
    "the server holds exactly $nusers users and $ngroups groups"
adoptions=$(cat "$L2S_OUT"/initial-*.err | grep -c "adopted the existing")
test "$adoptions" -ge "$stall_after_kills"
ok $? "every write whose answer was lost was adopted by a later run ($adoptions adoptions, $stall_after_kills lost answers)"
scim_reset_stats >/dev/null
l2s_run initial-again -c "$cfg" sync
is "$l2s_rc $(writes)" "0 0" "a further sync exits 0 and sends zero write requests"

# --- 3 more points, each a whole round ----------------------------------
mapfile -t rounds < <(crash_points $((seed + 1)) 3 1 "$initial_writes")
diag "separate rounds (SCIM write, mode): ${rounds[*]}"
for i in "${!rounds[@]}"; do
	target=${rounds[$i]%% *} mode=${rounds[$i]#* }
	r=$((i + 1))
	scim_reset >/dev/null
	rm -f "$tmp"/state.db*
	crash_kill "round$r-kill" "$cfg" "$target" "$mode"
	is "$crash_status" killed "round $r: a fresh initial sync is killed at SCIM write $target ($mode)"
	l2s_run "round$r-rerun" -c "$cfg" sync
	is "$l2s_rc" 0 "round $r: the rerun exits 0"
	compare "round$r"
	ok $? "round $r: after the rerun the SCIM server equals LDAP, with no duplicate"
	scim_reset_stats >/dev/null
	l2s_run "round$r-again" -c "$cfg" sync
	is "$l2s_rc $(writes)" "0 0" "round $r: a further sync sends zero write requests"
done

# --- kills during a cycle of LDAP changes --------------------------------
scim_dump >"$tmp/before-changes.json"
gid() { jq -r --arg n "$1" '[.Groups[] | select(.displayName == $n)][0].id' "$tmp/before-changes.json"; }
g5=$(gid group005)
slapd_search -b "cn=group005,ou=groups,$LDAP_BASE" -s base member |
    sed -n 's/^member: /member: /p' >"$tmp/g5-members"
{
	# 20 joiners, all in group005 and a new group
	for i in $(seq 1 20); do
		printf 'dn: uid=joiner%02d,ou=people,%s\nchangetype: add\nobjectClass: inetOrgPerson\nuid: joiner%02d\ncn: Joiner %d\nsn: Joiner\ngivenName: J%d\nmail: joiner%02d@example.com\ntitle: Newcomer\n\n' \
		    "$i" "$LDAP_BASE" "$i" "$i" "$i" "$i"
	done
	# 30 renames, 30 title changes, 10 locks
	for i in $(seq 1601 1630); do
		printf 'dn: uid=user%05d,ou=people,%s\nchangetype: modrdn\nnewrdn: uid=moved%05d\ndeleteoldrdn: 1\n\n' "$i" "$LDAP_BASE" "$i"
	done
	for i in $(seq 1631 1660); do
		printf 'dn: uid=user%05d,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: Crash Survivor\n\n' "$i" "$LDAP_BASE"
	done
	for i in $(seq 1661 1670); do
		printf 'dn: uid=user%05d,ou=people,%s\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n\n' "$i" "$LDAP_BASE"
	done
	# group005 gains 150 members (two PATCHes of 100), group000 loses 50
	printf 'dn: cn=group005,ou=groups,%s\nchangetype: modify\nadd: member\n' "$LDAP_BASE"
	for i in $(seq 1801 2000); do
		printf 'member: uid=user%05d,ou=people,%s\n' "$i" "$LDAP_BASE"
	done | grep -vxFf "$tmp/g5-members" | head -n 130
	for i in $(seq 1 20); do
		printf 'member: uid=joiner%02d,ou=people,%s\n' "$i" "$LDAP_BASE"
	done
	printf '\n'
	printf 'dn: cn=group000,ou=groups,%s\nchangetype: modify\ndelete: member\n' "$LDAP_BASE"
	for i in $(seq 1001 1050); do
		printf 'member: uid=user%05d,ou=people,%s\n' "$i" "$LDAP_BASE"
	done
	printf '\n'
	printf 'dn: cn=newteam,ou=groups,%s\nchangetype: add\nobjectClass: groupOfNames\ncn: newteam\n' "$LDAP_BASE"
	for i in $(seq 1 20); do
		printf 'member: uid=joiner%02d,ou=people,%s\n' "$i" "$LDAP_BASE"
	done
	printf '\n'
	# two group renames, one group deleted, 40 leavers
	for g in 010 011; do
		printf 'dn: cn=group%s,ou=groups,%s\nchangetype: modrdn\nnewrdn: cn=renamed%s\ndeleteoldrdn: 1\n\n' "$g" "$LDAP_BASE" "$g"
	done
	printf 'dn: cn=group039,ou=groups,%s\nchangetype: delete\n\n' "$LDAP_BASE"
	for i in $(seq 1701 1740); do
		printf 'dn: uid=user%05d,ou=people,%s\nchangetype: delete\n\n' "$i" "$LDAP_BASE"
	done
} >"$tmp/changes.ldif"
ldapmodify -x -H "$LDAP_URI" -D "$LDAP_BIND_DN" -y "$SLAPD_DIR/ldap.pass.raw" \
    -f "$tmp/changes.ldif" >"$tmp/modify.log" 2>&1
ok $? "a batch of LDAP changes applies (joiners, renames, locks, member changes, leavers)" ||
    diag "$(tail -n 5 "$tmp/modify.log")"
l2s_run changes-plan -c "$cfg" sync --dry-run --json
diag "the changes plan: $(jq -c .summary <<<"$l2s_stdout")"

m() { printf '{"methods":["%s"],"path":"%s"}' "$1" "$2"; }
scim_reset_stats >/dev/null
# name | target | mode | match (empty: cumulative write count) | what
kills=(
	"free|10||among the user creates"
	"stall_after|5|$(m PATCH '^/scim/v2/Users/[^/]+$')|on a user update"
	"stall_after|1|$(m POST '^/scim/v2/Groups$')|on the new group's create"
	"stall_after|1|$(m PATCH "^/scim/v2/Groups/$g5\$")|on group005's first member PATCH"
	"stall_before|3|$(m DELETE '^/scim/v2/Users/[^/]+$')|on a user delete"
	"stall_after|1|$(m DELETE '^/scim/v2/Groups/[^/]+$')|on the group delete"
)
for i in "${!kills[@]}"; do
	IFS='|' read -r mode target match what <<<"${kills[$i]}"
	k=$((i + 1))
	crash_kill "changes-kill$k" "$cfg" "$target" "$mode" ${match:+"$match"}
	is "$crash_status" killed "changes kill $k: the cycle is killed $what ($mode)"
	crash_invariants "changes-kill$k" "$cfg"
	ok $? "changes kill $k: no duplicate on the server and every object in the state is there"
done
l2s_run changes-final -c "$cfg" sync
is "$l2s_rc" 0 "the rerun after the last kill exits 0"
compare changes
ok $? "after the kills during the changes the SCIM server equals LDAP, with no duplicate member"
is "$(jq '[.Groups[] | select(.displayName == "group005")][0].members | length' "$tmp/dump.json")" \
    "$(slapd_search -b "cn=group005,ou=groups,$LDAP_BASE" -s base member | grep -c '^member:')" \
    "group005 holds each of its LDAP members exactly once"
scim_reset_stats >/dev/null
l2s_run changes-again -c "$cfg" sync
is "$l2s_rc $(writes)" "0 0" "a further sync exits 0 and sends zero write requests"

tap_done
