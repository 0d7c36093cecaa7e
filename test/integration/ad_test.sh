#!/usr/bin/env bash
# ad_test.sh - ldap2scim against a real Active Directory (a Samba 4 AD DC,
# test/lib/samba-ad.sh): dialect detection, objectGUID keys, disabled and
# expired accounts, a group of 5,100 members read through member ranges,
# three levels of nesting and a nesting cycle (flatten and in-chain), LDAPS,
# StartTLS and GSSAPI binds with a keytab or a credential cache (no password
# anywhere), the refused simple bind over plain LDAP, proxyAddresses and
# objectSid rendering, non-ASCII names, users deleted, moved out, moved in,
# disabled and re-enabled.  The oracle is test/lib/ad_compare.py.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/samba-ad.sh"
ad_enter_private_mounts "$0" "$@"
. "$top/test/lib/tap.sh"
. "$top/test/lib/ad-lab-checks.sh"
. "$top/test/lib/scim-server.sh"
. "$top/test/lib/agent.sh"
L2S_BIN=${L2S_BIN:-$top/build/ldap2scim}
[ -x "$L2S_BIN" ] || { echo "not ok 1 - $L2S_BIN is not built"; echo "1..1"; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/l2s-ad.XXXXXX")
L2S_OUT=$tmp/out
cleanup() {
	scim_server_stop >/dev/null 2>&1
	ad_stop >/dev/null 2>&1
	[ -n "${L2S_KEEP:-}" ] || rm -rf "$tmp"
}
trap cleanup EXIT

bail() { diag "$1"; [ -f "${2:-}" ] && diag "$(tail -n 20 "$2")"; tap_done; exit 1; }

ad_start "$tmp/ad" >"$tmp/ad-start.log" 2>&1
ok $? "a Samba AD DC is provisioned and starts in its own network namespace" ||
    bail "ad_start failed" "$tmp/ad-start.log"
diag "samba: $AD_TIMES"
ad_lab_check_start
ad_load_directory >"$tmp/ad-load.log" 2>&1
ok $? "the test directory is loaded (5,100 + 2 users, 6 groups)" ||
    bail "ad_load_directory failed" "$tmp/ad-load.log"
diag "$(cat "$tmp/ad-load.log")"
ad_lab_check_directory
ad_service_account svc-l2s >"$tmp/ad-svc.log" 2>&1
ok $? "a service account with an exported keytab can kinit and bind" ||
    bail "ad_service_account failed" "$tmp/ad-svc.log"
ad_lab_check_gssapi
scim_server_start "$tmp/scim" >"$tmp/scim-start.log" 2>&1
ok $? "the test SCIM server starts" || bail "scim_server_start failed" "$tmp/scim-start.log"
admin_pass=$(cat "$AD_PASS_RAW")
svc_pass=$(tr -d '\n' <"$AD_SVC_PASS_FILE")
token=$(tr -d '\n' <"$SCIM_TOKEN_FILE")

PEOPLE_OU="OU=People,$AD_BASE"
GROUPS_OU="OU=Groups,$AD_BASE"
ENT=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User

# write_config FILE [VAR=VALUE...]: uri, bind (simple | gssapi | gssapi-cache),
# starttls, dialect, nested, member_range, state, incremental
write_config() {
	local file=$1; shift
	local uri=$AD_LDAPS_URI bind=simple starttls=false dialect=auto
	local nested=flatten member_range=1500 bind_lines kv
	local state=$tmp/state.db incremental=false
	for kv in "$@"; do printf -v "${kv%%=*}" '%s' "${kv#*=}"; done
	case $bind in
	simple) bind_lines="    method: simple
    dn: $AD_ADMIN_DN
    password_file: $AD_PASS_FILE" ;;
	gssapi) bind_lines="    method: gssapi
    keytab: $AD_KEYTAB
    principal: $AD_SVC_PRINCIPAL" ;;
	gssapi-cache) bind_lines="    method: gssapi" ;;
	esac
	cat >"$file" <<YAML
ldap:
  uri: $uri
  bind:
$bind_lines
  starttls: $starttls
  tls_ca_file: $AD_CA_FILE
  base_dn: $AD_BASE
  page_size: 1000
  dialect: $dialect
users:
  base_dn: $PEOPLE_OU
  filter: "(&(objectCategory=person)(objectClass=user))"
  map:
    userName: "{userPrincipalName}"
    displayName: "{displayName}"
    name.givenName: "{givenName}"
    name.familyName: "{sn}"
    emails[type eq "work"].value: "{mail}"
    emails[type eq "other"].value: "{proxyAddresses|smtp_primary|lower}"
    userType: "{objectSid}"
    $ENT:manager: "{manager}"
groups:
  base_dn: $GROUPS_OU
  filter: (objectClass=group)
  name: "{cn}"
  nested: $nested
  member_range: $member_range
scim:
  url: $SCIM_URL
  token_file: $SCIM_TOKEN_FILE
sync:
  state: $state
  removal: deactivate
  max_removals: 10
  incremental: $incremental
YAML
}

writes() { scim_stats --no-log | jq -r .writes; }
# reads_same NAME CONFIG DESCRIPTION: a sync with CONFIG exits 0 and writes
# nothing (it read the directory the SCIM side already equals)
reads_same() {
	l2s_run "$1" -c "$2" sync
	is "$l2s_rc/$(writes)" 0/0 "$3" || diag "$l2s_stderr"
}

compare() {
	ad_search -b "$PEOPLE_OU" "(&(objectCategory=person)(objectClass=user))" \
	    objectGUID objectSid userPrincipalName displayName givenName sn mail \
	    proxyAddresses manager userAccountControl accountExpires \
	    >"$tmp/users.ldif" 2>"$tmp/ldapsearch.err" &&
	ad_search -b "$GROUPS_OU" "(objectClass=group)" objectGUID cn member \
	    >"$tmp/groups.ldif" 2>>"$tmp/ldapsearch.err" ||
	    { diag "ldapsearch failed: $(cat "$tmp/ldapsearch.err")"; return 1; }
	scim_dump >"$tmp/dump-$1.json"
	python3 "$top/test/lib/ad_compare.py" "$tmp/users.ldif" "$tmp/groups.ldif" \
	    "$tmp/dump-$1.json" "$(( ($(date +%s) + 11644473600) * 10000000 ))" \
	    >"$tmp/compare-$1.txt" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || diag "$(head -n 20 "$tmp/compare-$1.txt")"
	return $rc
}

remote_user() { scim_dump | jq -c --arg u "$1@l2s.test" '.Users[] | select(.userName == $u)'; }
remote_group() { scim_dump | jq -c --arg n "$1" '.Groups[] | select(.displayName == $n)'; }
members_of() {	# the userNames of group $1, sorted, space-separated
	scim_dump | jq -r --arg n "$1" '(.Users | map({(.id): .userName}) | add) as $u |
	    [.Groups[] | select(.displayName == $n) | .members[]?.value | $u[.]] | sort | join(" ")'
}
guid_of() {	# the registry-form objectGUID of DN $1, as ldapsearch shows it
	ad_search -b "$1" -s base objectGUID | sed -n 's/^objectGUID:: //p' |
	    python3 -c 'import base64, sys, uuid; print(uuid.UUID(bytes_le=base64.b64decode(sys.stdin.read())))'
}

# --- binds -----------------------------------------------------------------
cfg=$tmp/l2s.yaml
write_config "$tmp/plain.yaml" uri="$AD_URI"
l2s_run plain-simple -c "$tmp/plain.yaml" check
is "$l2s_rc" 3 "a simple bind over plain LDAP is refused by AD (exit 3)"
like "$l2s_stderr" "Strong.er. authentication required" "with AD's reason"
like "$l2s_stderr" "use LDAPS, StartTLS or GSSAPI" "and what to do instead"

write_config "$cfg"
l2s_run check -c "$cfg" check
is "$l2s_rc" 0 "check over LDAPS with the DC's CA file succeeds" || diag "$l2s_stderr"
like "$l2s_stderr" "dialect ad .detected." "and reports the directory as AD, detected from the root DSE"

# --- dry run, then the first sync -------------------------------------------
l2s_run dry -c "$cfg" sync --dry-run
is "$l2s_rc" 0 "a dry run against AD succeeds" || diag "$l2s_stderr"
like "$l2s_stdout" "create user 'u00001@l2s.test' .CN=u00001,$PEOPLE_OU." \
    "and shows the users it would create, with their DNs"
is "$(writes)" 0 "and sends nothing"

l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync (LDAPS, simple bind, member ranges of 1500) succeeds" ||
    diag "$l2s_stderr"
compare sync1
ok $? "the SCIM server equals AD: keys, attributes, active flags, groups"
is "$(remote_user u00001 | jq -r .externalId)" "$(guid_of "CN=u00001,$PEOPLE_OU")" \
    "externalId is the objectGUID in registry form"
like "$(remote_user u00001 | jq -r .userType)" "^S-1-5-21-[0-9]*-[0-9]*-[0-9]*-[0-9]*$" \
    "objectSid renders as S-1-5-21-..."
is "$(scim_dump | jq '[.Groups[] | select(.displayName == "big") | .members[]] | length')" 5100 \
    "the group of 5,100 members arrives complete (four ranges of 1500)"
is "$(remote_user u00002 | jq -r .active)" false "a disabled account (ACCOUNTDISABLE) is inactive"
is "$(remote_user u00003 | jq -r .active)" false "an expired account (accountExpires past) is inactive"
is "$(remote_user u00004 | jq -r .active),$(remote_user u00005 | jq -r .active)" true,true \
    "accountExpires 0 and 2^63-1 mean never"
is "$(remote_user u00006 | jq -c '[.emails[] | [.type, .value]] | sort')" \
    "$(printf '[["other","%s"],["work","u00006@l2s.test"]]' \
    "$(ad_search -b "CN=u00006,$PEOPLE_OU" -s base proxyAddresses | sed -n 's/^proxyAddresses: SMTP://p' | tr A-Z a-z)")" \
    "proxyAddresses: the SMTP: (primary) address is picked, not the smtp: ones"
is "$(remote_user u00013 | jq -r .displayName)" "Zoë Ångström" "non-ASCII names round-trip as UTF-8"
is "$(remote_user u00015 | jq -r '.name.familyName + " " + .name.givenName')" "山田 太郎" \
    "including CJK"
is "$(members_of level1)" "u00020@l2s.test u00021@l2s.test u00022@l2s.test u00023@l2s.test" \
    "three levels of nesting are flattened into the top group"
is "$(members_of level3)" "u00022@l2s.test u00023@l2s.test" "and the bottom group keeps its own"
is "$(members_of cycle-a)|$(members_of cycle-b)" \
    "u00030@l2s.test u00031@l2s.test|u00030@l2s.test u00031@l2s.test" \
    "a nesting cycle ends, both groups get both members"
scim_reset_stats >/dev/null

l2s_run sync2 -c "$cfg" sync
is "$l2s_rc" 0 "a second sync succeeds"
is "$(writes)" 0 "and writes nothing"

# --- the other binds: each reads the same directory, so nothing to write ----
write_config "$tmp/starttls.yaml" uri="$AD_URI" starttls=true
reads_same starttls "$tmp/starttls.yaml" \
    "StartTLS with the CA file reads the same directory"

write_config "$tmp/gssapi.yaml" uri="$AD_URI" bind=gssapi
grep -qi password "$tmp/gssapi.yaml"
is $? 1 "the GSSAPI config holds no password at all"
reads_same gssapi "$tmp/gssapi.yaml" \
    "SASL GSSAPI with the exported keytab (plain LDAP, sealed) reads the same"
# Inside TLS the agent negotiates no SASL security layer, as Windows DCs
# want; the lab's Samba is set up the same way (allow_sasl_over_tls).
write_config "$tmp/gssapi-tls.yaml" bind=gssapi
reads_same gssapi-tls "$tmp/gssapi-tls.yaml" \
    "and over LDAPS, with no SASL layer inside TLS"
write_config "$tmp/gssapi-starttls.yaml" uri="$AD_URI" starttls=true bind=gssapi
reads_same gssapi-starttls "$tmp/gssapi-starttls.yaml" \
    "and over StartTLS"

write_config "$tmp/gssapi-cache.yaml" uri="$AD_URI" bind=gssapi-cache
KRB5CCNAME=$AD_SVC_CCACHE reads_same gssapi-cache "$tmp/gssapi-cache.yaml" \
    "without a keytab the default credential cache (kinit -k) is used"
KRB5CCNAME=FILE:$tmp/empty.ccache l2s_run gssapi-none -c "$tmp/gssapi-cache.yaml" sync
is "$l2s_rc" 3 "no ticket and no keytab: the bind fails (exit 3)"
like "$l2s_stderr" "SASL GSSAPI bind" "naming the bind that failed"

cp "$AD_KEYTAB" "$tmp/other.keytab"
write_config "$tmp/gssapi-bad.yaml" uri="$AD_URI" bind=gssapi
sed -i "s|principal: .*|principal: nobody@$AD_REALM|" "$tmp/gssapi-bad.yaml"
l2s_run gssapi-bad -c "$tmp/gssapi-bad.yaml" sync
is "$l2s_rc" 3 "a principal the keytab has no key for is refused (exit 3)"
like "$l2s_stderr" "Kerberos login as 'nobody@L2S.TEST' with keytab '$AD_KEYTAB' failed" \
    "naming the principal and the keytab"

# --- nested: in_chain gives the same memberships as flatten -----------------
write_config "$tmp/chain.yaml" nested=in_chain
t0=$SECONDS
reads_same chain "$tmp/chain.yaml" \
    "nested: in_chain (LDAP_MATCHING_RULE_IN_CHAIN) finds the same members, cycle included"
diag "the in_chain sync took $((SECONDS - t0)) s (one users search per group)"

# --- smaller ranges than the server's: still complete ------------------------
write_config "$tmp/ranges.yaml" member_range=700
reads_same ranges "$tmp/ranges.yaml" \
    "member ranges of 700 (eight requests for big) read the same members"

# --- changes in AD ------------------------------------------------------------
cat >"$tmp/changes.ldif" <<LDIF
dn: CN=u00050,$PEOPLE_OU
changetype: modify
replace: userAccountControl
userAccountControl: 546

dn: CN=u00002,$PEOPLE_OU
changetype: modify
replace: userAccountControl
userAccountControl: 544

dn: CN=u00080,$PEOPLE_OU
changetype: modify
replace: accountExpires
accountExpires: 132223104000000000

dn: CN=u00001,$PEOPLE_OU
changetype: modify
add: thumbnailPhoto
thumbnailPhoto:: /9j/4AAQSkZJRgABAQEASABIAAD/2wBDAP//////////////////////////////////////////////////////////////////////////////////////2wBDAf//////////////////////////////////////////////////////////////////////////////////////wAARCAABAAEDASIAAhEBAxEB/8QAFAABAAAAAAAAAAAAAAAAAAAACP/EABQQAQAAAAAAAAAAAAAAAAAAAAD/xAAUAQEAAAAAAAAAAAAAAAAAAAAA/8QAFBEBAAAAAAAAAAAAAAAAAAAAAP/aAAwDAQACEQMRAD8AKp//2Q==

dn: CN=u00070,$PEOPLE_OU
changetype: modrdn
newrdn: CN=u00070
deleteoldrdn: 1
newsuperior: OU=Elsewhere,$AD_BASE

dn: CN=x00001,OU=Elsewhere,$AD_BASE
changetype: modrdn
newrdn: CN=x00001
deleteoldrdn: 1
newsuperior: $PEOPLE_OU
LDIF
ad_modify "$tmp/changes.ldif" && ad_delete "CN=u00060,$PEOPLE_OU"
ok $? "AD: one user disabled, one re-enabled, one expired, one deleted, one moved out, one moved in, one gets a photo"
u60=$(remote_user u00060 | jq -r .id)
scim_reset_stats >/dev/null
l2s_run sync3 -c "$cfg" sync
is "$l2s_rc" 0 "the next sync succeeds" || diag "$l2s_stderr"
compare sync3
ok $? "and the SCIM server equals AD again"
like "$l2s_stderr" "; 0 held back;" "a binary attribute no template names (thumbnailPhoto) is not read, nothing held"
is "$(remote_user u00050 | jq -r .active)" false "the disabled user is deactivated"
is "$(remote_user u00002 | jq -r .active)" true "the re-enabled user is active again"
is "$(remote_user u00080 | jq -r .active)" false "the expired user is deactivated"
is "$(remote_user u00060 | jq -r '.id + " " + (.active | tostring)')" "$u60 false" \
    "the deleted user is deactivated (sync.removal: deactivate), not deleted"
is "$(remote_user u00070 | jq -r .active)" false "the user moved out of the OU is deactivated"
is "$(remote_user x00001 | jq -r .active)" true "the user moved into the OU is created"
is "$(scim_dump | jq '[.Groups[] | select(.displayName == "big") | .members[]] | length')" 5098 \
    "big loses the deleted and moved-out users and gains nobody else"
scim_reset_stats >/dev/null
l2s_run sync4 -c "$cfg" sync
is "$l2s_rc/$(writes)" 0/0 "and the cycle after writes nothing"

# --- incremental reads: uSNChanged, tombstones, invocationId -----------------
write_config "$tmp/incr.yaml" incremental=true state="$tmp/incr.db"
l2s_run incr1 -c "$tmp/incr.yaml" sync
is "$l2s_rc/$(writes)" 0/0 "incremental mode: the first cycle reads everything, writes nothing" ||
    diag "$l2s_stderr"
like "$l2s_stderr" "full read: no earlier full read" "and says why it read everything"
is "$(sqlite3 "$tmp/incr.db" "select value from meta where name = 'incremental.invocation'")" \
    "$(ad_search -b "$(ad_search -s base -b '' dsServiceName | sed -n 's/^dsServiceName: //p')" -s base invocationId |
	sed -n 's/^invocationId:: //p' |
	python3 -c 'import base64, sys, uuid; print(uuid.UUID(bytes_le=base64.b64decode(sys.stdin.read())))')" \
    "the DC's invocationId is kept with its highestCommittedUSN"
l2s_run incr2 -c "$tmp/incr.yaml" sync
is "$l2s_rc/$(writes)" 0/0 "a cycle with nothing changed writes nothing" || diag "$l2s_stderr"
like "$l2s_stderr" "incremental read: 0 entries changed" "and reads only what changed: nothing"
cat >"$tmp/incr.ldif" <<LDIF
dn: CN=u00090,$PEOPLE_OU
changetype: modify
replace: userAccountControl
userAccountControl: 546

dn: CN=u00091,$PEOPLE_OU
changetype: modify
replace: displayName
displayName: Changed Incrementally

dn: CN=u00093,$PEOPLE_OU
changetype: modrdn
newrdn: CN=u00093
deleteoldrdn: 1
newsuperior: OU=Elsewhere,$AD_BASE

dn: CN=level3,$GROUPS_OU
changetype: modify
add: member
member: CN=u00094,$PEOPLE_OU

dn: CN=big,$GROUPS_OU
changetype: modify
delete: member
member: CN=u00095,$PEOPLE_OU
LDIF
ad_modify "$tmp/incr.ldif" && ad_delete "CN=u00092,$PEOPLE_OU"
ok $? "AD: a user disabled, one renamed, one deleted, one moved out, level3 and big changed"
scim_reset_stats >/dev/null
l2s_run incr3 -c "$tmp/incr.yaml" sync
is "$l2s_rc" 0 "the next incremental cycle succeeds" || diag "$l2s_stderr"
unlike "$l2s_stderr" "full read" "without reading everything"
like "$l2s_stderr" "incremental read: [0-9]+ entries changed" "it applies what changed"
compare incr3
ok $? "and the SCIM server equals AD again"
is "$(remote_user u00090 | jq -r .active)/$(remote_user u00091 | jq -r .displayName)" \
    "false/Changed Incrementally" "the disabled user is inactive, the renamed one renamed"
is "$(remote_user u00092 | jq -r .active)/$(remote_user u00093 | jq -r .active)" "false/false" \
    "the deleted user (a tombstone) and the moved-out user are deactivated"
is "$(members_of level1 | tr ' ' '\n' | grep -c u00094)" 1 \
    "the member added to level3 reaches level1 through nesting"
is "$(scim_dump | jq '[.Groups[] | select(.displayName == "big") | .members[]] | length')" 5095 \
    "big, read again in ranges, lost exactly the deleted, moved-out and removed members"
scim_reset_stats >/dev/null
l2s_run incr4 -c "$tmp/incr.yaml" sync
is "$l2s_rc/$(writes)" 0/0 "the cycle after writes nothing"
sqlite3 "$tmp/incr.db" "update meta set value = '00000000-0000-0000-0000-000000000000' where name = 'incremental.invocation'"
l2s_run incr5 -c "$tmp/incr.yaml" sync
is "$l2s_rc/$(writes)" 0/0 "another invocationId (a restored DC): the cycle succeeds, writes nothing" ||
    diag "$l2s_stderr"
like "$l2s_stderr" "full read: the domain controller is another one, or was restored" \
    "it reads everything instead of trusting the USN"

# --- a range sequence that breaks off -----------------------------------------
# The pacing proxy of test/lib/source.sh reads plain LDAP, so the DC is
# restarted to take a simple bind without TLS; the connection is cut after
# the first follow-up range of "big" (the first 3,000 of its members read);
# before that, big changes between two of its ranges.
. "$top/test/lib/source.sh"
state_export "$cfg" "$tmp/state-before.json"
ad_restart "ldap server require strong auth" no >"$tmp/restart.log" 2>&1
ok $? "the DC restarts taking simple binds over plain LDAP" || diag "$(tail -n 5 "$tmp/restart.log")"
PAUSE_UPSTREAM_HOST=$AD_IP PAUSE_UPSTREAM_PORT=389 ldap_pause_start "$tmp/pause"
ok $? "a pacing proxy runs in front of the DC"
write_config "$tmp/pause.yaml" uri="$PAUSE_URI" dialect=ad
# sync_held NAME: a sync through the proxy in the background (its pid in
# held_pid), held once 10 searches were answered: the root DSE, the
# disabled users, six pages of users (page_size 1000), the groups, the
# first follow-up range.
sync_held() {
	ldap_pause_arm 10
	scim_reset_stats >/dev/null
	"$L2S_BIN" -c "$tmp/pause.yaml" sync >"$L2S_OUT/$1.out" 2>"$L2S_OUT/$1.err" &
	held_pid=$!
	ldap_pause_wait_held 60
}
sync_held race
ok $? "the agent is held between two member ranges of big"
cat >"$tmp/race.ldif" <<LDIF
dn: CN=big,$GROUPS_OU
changetype: modify
delete: member
member: CN=u00100,$PEOPLE_OU
LDIF
ad_modify "$tmp/race.ldif"
ok $? "meanwhile a member early in the list leaves big (the later ranges shift)"
ldap_pause_release
bg_wait "$held_pid" 60
is "$bg_rc" 5 "the group changed between its ranges (uSNChanged): exit 5"
like "$(cat "$L2S_OUT/race.err")" "group 'CN=big,$GROUPS_OU' changed while its members were read in ranges" \
    "naming the group"
is "$(writes)" 0 "and nothing is sent: no member skipped by the shift is removed"

sync_held cut
ok $? "the agent is held after its first follow-up range request was answered"
like "$(ldap_pause_held)" "^10 " "by then 10 searches ended" || diag "held: $(ldap_pause_held)"
ldap_pause_stop
bg_wait "$held_pid" 60
is "$bg_rc" 3 "the connection lost in the middle of the member ranges: exit 3"
like "$(cat "$L2S_OUT/cut.err")" "directory read incomplete, nothing changed" "the read is incomplete"
is "$(writes)" 0 "nothing is sent: no member of big is removed"
state_export "$cfg" "$tmp/state-after.json"
cmp -s "$tmp/state-before.json" "$tmp/state-after.json"
ok $? "and the state is unchanged"

# --- secrets ------------------------------------------------------------------
leaks=$(grep -lF -e "$admin_pass" -e "$svc_pass" -e "$token" $(l2s_outputs) 2>/dev/null)
is "$leaks" "" "no password or token in any output of the agent"

ad_lab_check_stop
diag "the whole test took $SECONDS s"
tap_done
