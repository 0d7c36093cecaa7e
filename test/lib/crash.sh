# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154  # results for the caller; $tmp is lab.sh's
# crash.sh - kill the agent with SIGKILL at a chosen SCIM write, and check
# what a killed run leaves behind (sourced after lab.sh and fault-proxy.sh).
#
#   crash_points SEED COUNT LO HI
#       COUNT increasing write numbers in LO..HI, one in each of COUNT equal
#       slices, and a kill mode for each ("N MODE" lines); the same
#       arguments always give the same points
#   crash_kill NAME CFG TARGET MODE [MATCH]
#       runs `sync` in the background and kills it with SIGKILL when the SCIM
#       server has received TARGET writes in all (its stats counter), or
#       with MATCH (a fault proxy "match" object) at the TARGET-th request
#       of this run that fits MATCH (stall modes only):
#         stall_after   the TARGET-th write is applied by the server, then the
#                       fault proxy holds the answer back: killed while waiting
#         stall_before  the proxy holds the TARGET-th write back unsent: killed
#                       while waiting, the server never sees it
#         free          no fault: killed as soon as the counter reaches TARGET
#                       (a few writes later, anywhere: in a request, between
#                       the answer and the state commit, in the commit)
#       The agent must go through $FAULT_URL (write_config scim_url=...).
#       Sets crash_status ("killed", "exited N" or "timeout") and
#       crash_writes (the server's write counter after the kill); outputs in
#       $L2S_OUT/NAME.out and NAME.err.
#   crash_invariants NAME CFG
#       0 when the SCIM server holds no duplicate userName (any case),
#       externalId, group displayName or group member, and every object the
#       state records that LDAP still holds exists on the server under its
#       SCIM id with its key as externalId (nothing the agent was told about
#       is lost); prints the problems as diag lines otherwise

crash_points() {
	python3 - "$@" <<'PY'
import random, sys
seed, count, lo, hi = (int(x) for x in sys.argv[1:5])
rng = random.Random(seed)
modes = ["stall_after", "stall_before", "free"]
width = (hi - lo + 1) / count
for i in range(count):
    a = lo + int(i * width)
    b = max(a, lo + int((i + 1) * width) - 1)
    print(rng.randint(a, b), modes[rng.randrange(len(modes))])
PY
}

# The SCIM write routes: the server's `writes` counts exactly these.
CRASH_MATCH='{"methods":["POST","PUT","PATCH","DELETE"],"path":"^/scim/v2/(Users|Groups)(/[^/.][^/]*)?$"}'

crash_kill() {
	local name=$1 cfg=$2 target=$3 mode=$4 match=${5:-$CRASH_MATCH}
	local base n pid deadline w st
	mkdir -p "$L2S_OUT"
	base=$(writes)
	n=$((target - base))
	[ -z "${5:-}" ] || n=$target
	crash_status="" crash_writes=$base
	if [ "$n" -lt 1 ]; then
		crash_status="target $target already passed ($base writes)"
		return 1
	fi
	fault_reset
	case $mode in
	stall_after | stall_before)
		fault_config "{\"match\":$match,\"script\":[{\"n\":$n,\"fault\":\"$mode\",\"stallMs\":120000}]}" \
		    >/dev/null || return 1 ;;
	free)
		fault_config '{}' >/dev/null || return 1 ;;
	*)
		crash_status="unknown mode '$mode'"; return 1 ;;
	esac
	"$L2S_BIN" -c "$cfg" sync >"$L2S_OUT/$name.out" 2>"$L2S_OUT/$name.err" &
	pid=$!
	deadline=$((SECONDS + 60))
	while :; do
		if ! kill -0 "$pid" 2>/dev/null; then
			wait "$pid"
			crash_status="exited $?"
			break
		fi
		if [ $SECONDS -ge $deadline ]; then
			crash_status=timeout
			break
		fi
		case $mode in
		free)
			# no jq here: the poll must be quick to land near the point
			w=$(curl -s "$SCIM_ADMIN_URL/stats?log=0")
			[[ $w =~ \"writes\":([0-9]+) ]] && [ "${BASH_REMATCH[1]}" -ge "$target" ] &&
			    crash_status=killed ;;
		stall_before)
			st=$(fault_stats | jq -r .byFault.stall_before)
			[ "${st:-0}" -ge 1 ] && crash_status=killed ;;
		stall_after)
			# held back only once the server has answered the write
			st=$(fault_stats | jq -r '"\(.byFault.stall_after) \(.requests)"')
			if [ "${st%% *}" -ge 1 ] 2>/dev/null; then
				st=$(fault_log $((${st#* } > 4 ? ${st#* } - 4 : 0)) |
				    jq -r '[.[] | select(.fault == "stall_after" and .upstreamStatus != null)] | length')
				[ "${st:-0}" -ge 1 ] && crash_status=killed
			fi ;;
		esac
		[ "$crash_status" = killed ] && break
		[ "$mode" = free ] || sleep 0.02
	done
	case $crash_status in
	exited*) ;;
	*)	kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null ;;
	esac
	fault_reset
	crash_writes=$(writes)
	[ "$crash_status" = killed ]
}

crash_invariants() {
	local name=$1 cfg=$2
	scim_dump >"$tmp/inv-$name.json" || { diag "scim_dump failed"; return 1; }
	"$L2S_BIN" -c "$cfg" -q state export >"$tmp/inv-$name.state.json" \
	    2>"$tmp/inv-$name.state.err" ||
	    { diag "state export failed: $(cat "$tmp/inv-$name.state.err")"; return 1; }
	ldap_dump || { diag "ldapsearch failed: $(cat "$tmp/ldapsearch.err")"; return 1; }
	cat "$tmp/users.ldif" "$tmp/groups.ldif" | sed -n 's/^entryUUID: //p' >"$tmp/inv-$name.keys"
	python3 - "$tmp/inv-$name.json" "$tmp/inv-$name.state.json" "$tmp/inv-$name.keys" \
	    <<'PY' >"$tmp/inv-$name.txt"
import json, sys
dump = json.load(open(sys.argv[1]))
state = json.load(open(sys.argv[2]))
in_ldap = set(open(sys.argv[3]).read().split())
problems = []
for kind, name_attr in (("Users", "userName"), ("Groups", "displayName")):
    for attr in (name_attr, "externalId"):
        seen = set()
        for r in dump.get(kind, []):
            v = r.get(attr)
            if v is None:
                continue
            v = v.lower() if attr != "externalId" else v
            if v in seen:
                problems.append("duplicate %s %s %r" % (kind[:-1].lower(), attr, v))
            seen.add(v)
for g in dump.get("Groups", []):
    vals = [m.get("value") for m in g.get("members") or []]
    if len(vals) != len(set(vals)):
        problems.append("group %r holds a member twice" % g.get("displayName"))
for kind, skind in (("Users", "users"), ("Groups", "groups")):
    by_id = {r["id"]: r for r in dump.get(kind, [])}
    for s in state.get(skind, []):
        r = by_id.get(s.get("scim_id"))
        if r is None and s.get("key") not in in_ldap:
            continue    # a removal the server did and the agent never heard of
        if r is None:
            problems.append("state %s %r (id %s) is not on the server" % (skind[:-1], s.get("name"), s.get("scim_id")))
        elif r.get("externalId") != s.get("key"):
            problems.append("state %s %r: the server's externalId is %r, the state key %r" % (skind[:-1], s.get("name"), r.get("externalId"), s.get("key")))
for p in problems[:20]:
    print(p)
print("%d users, %d groups on the server, %d and %d in the state: %d problems" % (
    len(dump.get("Users", [])), len(dump.get("Groups", [])),
    len(state.get("users", [])), len(state.get("groups", [])), len(problems)))
sys.exit(1 if problems else 0)
PY
	local rc=$?
	[ $rc -eq 0 ] || diag "$(cat "$tmp/inv-$name.txt")"
	return $rc
}
