#!/usr/bin/env bash
# ber_faults_test.sh - entries whose encoding is damaged on the way from
# slapd: the agent reads each attribute of an entry itself (BER, RFC 4511
# section 4.1.7), so a damaged one must fail the whole read, say so, send
# nothing and leave the state as it was; never turn into a missing user.
# And an entry cut off half way, the server silent after it: the agent
# reads ahead of libldap, and must still give up at ldap.timeout (exit 3)
# instead of waiting in a read() for the rest.
#
# slapd cannot send a damaged entry, so the pacing proxy of
# test/lib/source.sh relays its traffic and damages one entry of the users
# search in place (its lengths unchanged, so the message as a whole still
# frames): the first attribute's SET OF values tagged as an OCTET STRING,
# or its first value one byte longer than the SET holds.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"
. "$top/test/lib/source.sh"

lab_start ber-faults --users 40 --groups 4 --seed 21
trap 'ldap_pause_stop; lab_cleanup' EXIT
ldap_pause_start "$tmp/pause" >"$tmp/pause-start.log" 2>&1
ok $? "the LDAP pacing proxy starts" || { diag "$(cat "$tmp/pause-start.log")"; tap_done; exit 1; }

cfg="$tmp/l2s.yaml"
write_config "$cfg"
write_config "$tmp/proxied.yaml" uri="$PAUSE_URI"

l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0"
compare first
ok $? "after the first sync the SCIM server equals LDAP"

# A change the damaged cycles must not send: it would hide a read that
# stopped half way behind a cycle that seems to do work.
printf 'dn: uid=user00003,ou=people,%s\nchangetype: modify\nreplace: title\ntitle: Damaged Read Canary\n\n' \
    "$LDAP_BASE" >"$tmp/title.ldif"
slapd_modify "$tmp/title.ldif" >"$tmp/modify.log" 2>&1
ok $? "a user's title changes in LDAP" || diag "$(cat "$tmp/modify.log")"
state_export "$cfg" "$tmp/state-before.json"
dump_before=$(scim_dump | jq -S .)

for mode in set len; do
	scim_reset_stats
	ldap_pause_garble "$mode" 5
	l2s_run "garbled-$mode" -c "$tmp/proxied.yaml" sync
	is "$(cat "$PAUSE_DIR/garbled" 2>/dev/null)" yes "the proxy damaged the fifth entry ($mode)"
	is "$l2s_rc" 5 "a damaged entry ($mode) fails the cycle with exit 5"
	like "$l2s_stderr" "cannot decode an entry" "and says an entry could not be decoded ($mode)"
	like "$l2s_stderr" "directory read incomplete, nothing changed" "and that nothing changed ($mode)"
	unlike "$l2s_stderr" "cycle done" "no cycle summary claims the cycle was done ($mode)"
	is "$(requests)" 0 "no request reached the SCIM server ($mode)"
	state_export "$cfg" "$tmp/state-$mode.json"
	cmp -s "$tmp/state-before.json" "$tmp/state-$mode.json"
	ok $? "the state is exactly as it was ($mode)"
	is "$(scim_dump | jq -S .)" "$dump_before" "the SCIM server is exactly as it was ($mode)"
done

# A server that goes silent in the middle of an entry: ldap.timeout (2 s)
# ends the cycle with exit 3, within BOUND seconds.  (An agent stuck in a
# read() ignores the SIGTERM of timeout(1): -k 5 kills it.)
# stalled NAME BOUND WHAT STALL_ARGS...
write_config "$tmp/stalled.yaml" uri="$PAUSE_URI" extra="  timeout: 2s"
mkdir -p "$L2S_OUT"
stalled() {
	local name=$1 bound=$2 what=$3 t0 elapsed
	shift 3
	scim_reset_stats
	ldap_pause_stall "$@"
	t0=$(date +%s)
	timeout -k 5 20 "$L2S_BIN" -c "$tmp/stalled.yaml" sync >"$L2S_OUT/$name.out" 2>"$L2S_OUT/$name.err"
	l2s_rc=$? l2s_stderr=$(cat "$L2S_OUT/$name.err")
	elapsed=$(($(date +%s) - t0))
	is "$(cat "$PAUSE_DIR/stalled" 2>/dev/null)" yes "the proxy sent $what, then nothing"
	is "$l2s_rc" 3 "a server silent after $what ends the cycle with exit 3"
	ok $((elapsed < bound ? 0 : 1)) "within ldap.timeout and some, not when timeout(1) kills it (${elapsed} s)"
	like "$l2s_stderr" "no answer from the server" "and says the server did not answer ($name)"
	is "$(requests)" 0 "no request reached the SCIM server ($name)"
}
stalled stalled 15 "half the fifth entry" 5
# Its first 5 bytes alone (tag, length, one byte), half a second after the
# entries before it: liblber, having them, asks for the rest at once; the
# agent must not wait for it in read() but go back to poll().
stalled stalled5 10 "5 bytes of the fifth entry, alone" 5 5

# The same proxy, nothing damaged: the read is whole again.
l2s_run proxied -c "$tmp/proxied.yaml" sync
is "$l2s_rc" 0 "an undamaged read through the same proxy exits 0"
compare after
ok $? "and the SCIM server equals LDAP, the changed title included"

tap_done
