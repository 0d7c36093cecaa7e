# shellcheck shell=bash
# faults.sh - helpers for test/integration/faults_test.sh (sourced after
# lab.sh and fault-proxy.sh)
#
#   faults_add_users PREFIX N         adds PREFIX01..PREFIXnn to ou=people
#   faults_add_group NAME UID...      adds a groupOfNames with those members
#   faults_add_members GROUP UID...   adds members to an existing group
#   faults_dup_members FILE           groups (by displayName) of a scim_dump
#                                     whose members list a value twice
#   faults_has_user FILE UID          0 when the dump holds that userName
#   faults_group_id FILE NAME         the SCIM id of a group in a dump
#   faults_log_mark                   the number of proxy log entries so far
#   faults_dedupe_group ID            each member once again, on the server
#   faults_crashed                    0 when the last l2s_run crashed: a
#                                     signal exit or a sanitizer report

faults_add_users() {
	local prefix=$1 n=$2 i uid f="$tmp/add-$1.ldif"
	: >"$f"
	for ((i = 1; i <= n; i++)); do
		uid=$(printf '%s%02d' "$prefix" "$i")
		cat >>"$f" <<LDIF
dn: uid=$uid,ou=people,$LDAP_BASE
objectClass: inetOrgPerson
uid: $uid
cn: Fault Tester $uid
sn: Tester
givenName: Fault
mail: $uid@example.com

LDIF
	done
	slapd_add "$f"
}

faults_add_group() {
	local name=$1 u f="$tmp/add-group-$1.ldif"
	shift
	{
		printf 'dn: cn=%s,ou=groups,%s\nobjectClass: groupOfNames\ncn: %s\n' \
		    "$name" "$LDAP_BASE" "$name"
		for u in "$@"; do
			printf 'member: uid=%s,ou=people,%s\n' "$u" "$LDAP_BASE"
		done
	} >"$f"
	slapd_add "$f"
}

faults_add_members() {
	local group=$1 u f="$tmp/add-members-$1.ldif"
	shift
	{
		printf 'dn: cn=%s,ou=groups,%s\nchangetype: modify\nadd: member\n' \
		    "$group" "$LDAP_BASE"
		for u in "$@"; do
			printf 'member: uid=%s,ou=people,%s\n' "$u" "$LDAP_BASE"
		done
	} >"$f"
	slapd_modify "$f"
}

faults_dup_members() {
	jq -r '[.Groups[] | select(((.members // []) | map(.value) | length)
	        != ((.members // []) | map(.value) | unique | length)) | .displayName]
	       | join(" ")' "$1"
}

faults_has_user() {
	jq -e --arg u "$2" 'any(.Users[]; .userName == $u)' "$1" >/dev/null
}

faults_group_id() {
	jq -r --arg g "$2" '[.Groups[] | select(.displayName == $g)][0].id' "$1"
}

faults_log_mark() {
	fault_stats | jq -r .requests
}

faults_crashed() {
	[ "$l2s_rc" -ge 128 ] ||
	    grep -qE 'Sanitizer|runtime error:|SUMMARY: |Segmentation|Aborted' <<<"$l2s_stderr"
}

# faults_dedupe_group ID: put a group back on the SCIM server (directly,
# not through the proxy) with each member once, so that one duplicate the
# agent caused does not fail every later check too.
faults_dedupe_group() {
	scim_curl "$SCIM_URL/Groups/$1" |
	    jq -c '.members |= ((. // []) | unique_by(.value)) | del(.meta)' |
	    scim_curl -o /dev/null -w '%{http_code}' -X PUT --data-binary @- "$SCIM_URL/Groups/$1" |
	    grep -q '^200$'
}
