#!/usr/bin/env bash
# profiles_test.sh - scim.profile and what it encodes, against slapd:
# - generic (the test SCIM server): several emails are sent, exactly one
#   primary (work); a custom extension URN in the mapping is accepted, and
#   goes in the resource under its URN, listed in schemas, and is updated by
#   PATCH paths (the test server declares that extension);
# - aws: only the primary email is sent, in creates and updates;
# - rate_limit_users: requests to /Users are spaced by their own token
#   bucket (measured by the SCIM server's request log), /Groups are not;
# - atlassian (the fake of Atlassian's API, test/scim-server/atlassian.js):
#   users created with one primary email on a verified domain, a user
#   outside users.email_domains skipped, a 409 on a user adopted by PATCH,
#   updates by PATCH and never PUT, a user leaving deactivated by PATCH and
#   never DELETE, a group renamed by recreate, a 409 on an existing group
#   name following groups.on_conflict (skip, then adopt by PATCH), and only
#   single "eq" filters (no request refused).
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"
. "$top/test/lib/atlassian-fake.sh"

ACME="urn:ietf:params:scim:schemas:extension:acme:2.0:User"
SCIM_SERVER_VERBOSE=1 lab_start profiles --users 6 --groups 3 --seed 2
trap 'atl_server_stop; lab_cleanup' EXIT
cfg="$tmp/l2s.yaml"

# conf VAR=VALUE...: write_config, plus a home email (and more map lines
# in $map_extra, users: lines in $users_extra)
map_extra="" users_extra=""
conf() {
	write_config "$cfg" "$@"
	python3 - "$cfg" "$map_extra" "$users_extra" <<'PY'
import sys
path, more, users = sys.argv[1], sys.argv[2], sys.argv[3]
out = []
for line in open(path).read().split("\n"):
    out.append(line)
    if line.startswith('    emails[type eq "work"].value:'):
        out.append('    emails[type eq "home"].value: "{uid}@home.example"')
        out.extend(l for l in more.split("\n") if l)
    if line == "users:":
        out.extend(l for l in users.split("\n") if l)
open(path, "w").write("\n".join(out))
PY
}
fresh() {
	scim_reset >/dev/null
	rm -f "$tmp/state.db" "$tmp/state.db-wal" "$tmp/state.db-shm"
}
emails() {	# emails UID: "type:primary ..." of that user on the SCIM server
	scim_dump | jq -r --arg u "$1" '[.Users[] | select(.userName == $u) | .emails[]? |
	    "\(.type):\(.primary // false)"] | sort | join(" ")'
}

# --- generic: every email, one primary
conf
l2s_run generic -c "$cfg" sync
is "$l2s_rc" 0 "generic: a sync with a work and a home email exits 0" || diag "$l2s_stderr"
is "$(emails user00001)" "home:false work:true" \
    "generic: both emails are sent, the work one primary"

# --- aws: the primary email only, in creates and updates
fresh
conf scim_extra="  profile: aws"
l2s_run aws1 -c "$cfg" sync
is "$l2s_rc" 0 "aws: the first sync exits 0" || diag "$l2s_stderr"
is "$(scim_dump | jq -r '[.Users[] | (.emails | length)] | unique | join(" ")')" 1 \
    "aws: every user is created with one email"
is "$(emails user00002)" "work:true" "aws: it is the primary (work) one"
cat >"$tmp/mail.ldif" <<LDIF
dn: uid=user00002,ou=people,$LDAP_BASE
changetype: modify
delete: mail
LDIF
slapd_modify "$tmp/mail.ldif" >"$tmp/modify.log" 2>&1
ok $? "user00002 loses its work email in LDAP" || diag "$(cat "$tmp/modify.log")"
l2s_run aws2 -c "$cfg" sync
is "$l2s_rc" 0 "aws: the sync after the change exits 0" || diag "$l2s_stderr"
is "$(emails user00002)" "home:true" \
    "aws: the update swaps in the home email, now the primary and only one"
cat >"$tmp/mail.ldif" <<LDIF
dn: uid=user00002,ou=people,$LDAP_BASE
changetype: modify
add: mail
mail: user00002@example.com
LDIF
slapd_modify "$tmp/mail.ldif" >"$tmp/modify.log" 2>&1
l2s_run aws3 -c "$cfg" sync
is "$(emails user00002)" "work:true" "aws: the work email back is the only one again"

# --- custom extension URN (the test server declares urn:...:acme:2.0:User)
fresh
map_extra="    $ACME:badge: \"{employeeNumber}\"
    $ACME:site.room: \"R-{uid}\""
conf
l2s_run urn -c "$cfg" sync
is "$l2s_rc" 0 "a custom extension URN is accepted by the config and the test server" ||
    diag "$l2s_stderr"
u3() { scim_dump | jq -c '.Users[] | select(.userName == "user00003")'; }
is "$(u3 | jq -r --arg u "$ACME" '.schemas | index($u) != null')" true \
    "the user created lists the extension's URN in schemas"
is "$(u3 | jq -c --arg u "$ACME" '.[$u]')" '{"badge":"E00003","site":{"room":"R-user00003"}}' \
    "and holds its attributes, a sub-attribute nested, under the URN"
cat >"$tmp/badge.ldif" <<LDIF
dn: uid=user00003,ou=people,$LDAP_BASE
changetype: modify
replace: employeeNumber
employeeNumber: X3
LDIF
slapd_modify "$tmp/badge.ldif" >"$tmp/modify.log" 2>&1
l2s_run urn2 -c "$cfg" sync
is "$l2s_rc" 0 "a sync after the extension's source changed exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "users 0 created, 1 updated" "one user is updated"
is "$(u3 | jq -c --arg u "$ACME" '.[$u]')" '{"badge":"X3","site":{"room":"R-user00003"}}' \
    "by a PATCH of the extension attribute's URN path: the server holds the new value"
map_extra=""

# --- atlassian never PUTs: a service without PATCH is an error
scim_server_stop
SCIM_SERVER_NO_PATCH=1 scim_server_start "$tmp/scim-nopatch" >"$tmp/nopatch-start.log" 2>&1
ok $? "a test SCIM server that does not offer PATCH starts" ||
    diag "$(cat "$tmp/nopatch-start.log")"
rm -f "$tmp/state.db" "$tmp/state.db-wal" "$tmp/state.db-shm"
users_extra="  email_domains: [example.com]"
conf scim_extra="  profile: atlassian"
l2s_run nopatch -c "$cfg" sync
ok "$([ "$l2s_rc" -ne 0 ]; echo $?)" "atlassian: a service without PATCH fails the sync (exit $l2s_rc)"
like "$l2s_stderr" "profile atlassian: the SCIM service says it does not support PATCH" \
    "and says why"
is "$(writes)" 0 "nothing is written to it: no PUT, no create"
scim_server_stop
SCIM_SERVER_VERBOSE=1 scim_server_start "$tmp/scim" >"$tmp/scim-restart.log" 2>&1
ok $? "the test SCIM server (with PATCH) starts again" || diag "$(cat "$tmp/scim-restart.log")"
users_extra=""

# --- rate limit per endpoint: 1 request/s to /Users, burst 5
fresh
conf scim_extra="  rate_limit_users: 60/m
  concurrency: 4"
: >"$tmp/scim/scim-server.log"
l2s_run rate -c "$cfg" sync
is "$l2s_rc" 0 "a sync with rate_limit_users 60/m exits 0" || diag "$l2s_stderr"
python3 - "$tmp/scim/scim-server.log" >"$tmp/rate.txt" <<'PY'
import re, sys
from datetime import datetime
users, groups = [], []
for line in open(sys.argv[1]):
    m = re.match(r"(\S+) (\S+) (\S+) ", line)
    if m and m.group(2) == "GET" and "/Groups" in m.group(3):
        continue
    if not m or "/scim/v2/" not in m.group(3):
        continue
    t = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%fZ").timestamp()
    path = m.group(3).split("/scim/v2", 1)[1]
    if path.startswith("/Users"):
        users.append(t)
    elif path.startswith("/Groups"):
        groups.append(t)
users.sort()
# request k (0-based) may start at (k - 4) s after the first: burst 5, 1/s
late = [k for k, t in enumerate(users) if k >= 5 and t - users[0] < (k - 4) - 0.15]
print(len(users), "%.2f" % (users[-1] - users[0]), len(late),
      "%.2f" % ((max(groups) - min(groups)) if groups else 0))
PY
read -r nusers span early gspan <"$tmp/rate.txt"
ok "$([ "$nusers" -ge 7 ]; echo $?)" "the sync sends $nusers requests to /Users (a list, 6 creates)"
is "$early" 0 "none of them starts before the bucket allows (burst 5, then 1 a second)"
ok "$(awk -v s="$span" -v n="$nusers" 'BEGIN { exit !(s >= n - 5 - 0.3) }'; echo $?)" \
    "so they span at least $((nusers - 5)) s ($span s)"
ok "$(awk -v s="$gspan" 'BEGIN { exit !(s < 1) }'; echo $?)" \
    "the requests to /Groups are not held back ($gspan s)"

# --- atlassian, against the fake of its API
ATL_VERIFIED_DOMAINS="example.com" atl_server_start "$tmp/atl" >"$tmp/atl-start.log" 2>&1
ok $? "the Atlassian fake starts" || { diag "$(cat "$tmp/atl-start.log")"; tap_done; exit 1; }
rm -f "$tmp/state.db" "$tmp/state.db-wal" "$tmp/state.db-shm"
cat >"$tmp/atl-seed.json" <<'JSON'
{"Users": [{"id": "seed-u", "userName": "user00004", "externalId": "someone-else",
            "emails": [{"value": "user00004@example.com", "primary": true}], "title": "Old"}],
 "Groups": [{"id": "seed-g", "displayName": "group002", "members": []}]}
JSON
atl_seed "$tmp/atl-seed.json" >/dev/null
ok $? "the fake holds a user and a group of the names LDAP has (not ours)"
cat >"$tmp/mail.ldif" <<LDIF
dn: uid=user00005,ou=people,$LDAP_BASE
changetype: modify
replace: mail
mail: user00005@elsewhere.example
LDIF
slapd_modify "$tmp/mail.ldif" >"$tmp/modify.log" 2>&1
ok $? "user00005's email moves to a domain that is not verified"
users_extra="  email_domains: [example.com]"
atlconf() {	# (a recreate deletes the old group: a removal to allow)
	conf scim_url="$ATL_URL" token_file="$ATL_TOKEN_FILE" max_removals=5 \
	    scim_extra="  profile: atlassian" groups_extra="  on_conflict: $1"
}
atl_user() { atl_dump | jq -c --arg u "$1" '.Users[] | select(.userName == $u)'; }
atl_group() { atl_dump | jq -c --arg n "$1" '.Groups[] | select(.displayName == $n)'; }
methods() {	# methods KIND: "METHOD:count ..." of the requests to /KIND since the last reset
	atl_stats | jq -r --arg k "$1" '[.log[] | select(.path | test("/" + $k + "(/|$)")) | .method] |
	    group_by(.) | map("\(.[0]):\(length)") | join(" ")'
}
refused() { atl_stats | jq '[.log[] | select(.status >= 400 and .status != 409 and .status != 404)] | length'; }

atlconf skip
atl_reset_stats >/dev/null
l2s_run atl1 -c "$cfg" sync
is "$l2s_rc" 0 "atlassian: the first sync exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "1 conflicts skipped" "the existing group of the same name is skipped (on_conflict: skip)"
like "$l2s_stderr" "user00005.*not on a domain of" "the user off the verified domains is skipped"
is "$(atl_user user00005)" "" "and not created"
is "$(atl_dump | jq -r '[.Users[] | [.emails[] | select(.primary == true)] | length] | unique | join(" ")')" 1 \
    "every user has exactly one primary email"
is "$(atl_dump | jq -r '[.Users[] | .emails[] | select(.primary == true) | .value | split("@")[1]] | unique | join(" ")')" \
    "example.com" "on the verified domain"
u4=$(atl_user user00004)
is "$(jq -r '"\(.id) \(.externalId != "someone-else") \(.title // "")"' <<<"$u4")" \
    "seed-u true $(slapd_search -LLL -b "uid=user00004,ou=people,$LDAP_BASE" -s base title |
    sed -n 's/^title: //p')" \
    "the existing user of the same userName is adopted, made ours and equal to LDAP"
is "$(atl_group group002 | jq -r '"\(.id) \(.externalId // "none") \(.members | length)"')" "seed-g none 0" \
    "the skipped group is left as it was"
is "$(methods Users | tr ' ' '\n' | grep -c PUT)" 0 "no PUT is sent to /Users (the adoption is a PATCH)"
is "$(refused)" 0 "the fake refused no request (filters are single eq)"
is "$(atl_stats | jq '[.log[] | select(.query // "" | test("filter=")) | .query | select(test("%20and%20|%20or%20|%20sw%20|%20co%20"))] | length')" 0 \
    "no filter combines or uses another operator"

atlconf adopt
atl_reset_stats >/dev/null
l2s_run atl2 -c "$cfg" sync
is "$l2s_rc" 0 "atlassian: with on_conflict adopt the next sync exits 0" || diag "$l2s_stderr"
like "$l2s_stderr" "1 adopted" "the group of the same name is adopted"
g2=$(atl_group group002)
want=$(slapd_search -LLL -b "cn=group002,ou=groups,$LDAP_BASE" -s base member |
    sed -n 's/^member: uid=\([^,]*\),.*/\1/p' | grep -vx user00005 | sort | tr '\n' ' ')
is "$(atl_dump | jq -r '(.Users | map({(.id): .userName}) | add) as $u |
    .Groups[] | select(.displayName == "group002") | [.members[].value | $u[.]] | sort | join(" ")') " \
    "$want" "it gets its LDAP members (but the skipped user)"
is "$(jq -r '"\(.id) \(.externalId != null)"' <<<"$g2")" "seed-g true" \
    "and is made ours (externalId)"
is "$(methods Groups | tr ' ' '\n' | grep -c PUT)" 0 "by PATCH, not PUT"

# An update, a user leaving, a group renamed.
cat >"$tmp/changes.ldif" <<LDIF
dn: uid=user00001,ou=people,$LDAP_BASE
changetype: modify
replace: title
title: Atlassian Tester

dn: uid=user00006,ou=people,$LDAP_BASE
changetype: delete

dn: cn=group001,ou=groups,$LDAP_BASE
changetype: modrdn
newrdn: cn=team001
deleteoldrdn: 1
LDIF
slapd_modify "$tmp/changes.ldif" >"$tmp/modify.log" 2>&1
ok $? "LDAP: a title changes, user00006 leaves, group001 is renamed team001" ||
    diag "$(cat "$tmp/modify.log")"
old_g1=$(atl_group group001 | jq -r .id)
atl_reset_stats >/dev/null
l2s_run atl3 -c "$cfg" sync
is "$l2s_rc" 0 "atlassian: the sync after the changes exits 0" || diag "$l2s_stderr"
is "$(atl_user user00001 | jq -r .title)" "Atlassian Tester" "the title is updated"
is "$(methods Users)" "PATCH:2" "the update and the deactivation are two PATCHes, no PUT, no DELETE"
is "$(atl_stats | jq .userDeletes)" 0 "no user is DELETEd"
is "$(atl_user user00006 | jq -r .active)" false "the user who left is deactivated"
is "$(atl_dump | jq --arg id "$(atl_user user00006 | jq -r .id)" '[.Groups[] | select(.members[]?.value == $id)] | length')" 0 \
    "and out of every group"
g1=$(atl_group team001)
ok "$([ -n "$g1" ] && [ "$(jq -r .id <<<"$g1")" != "$old_g1" ]; echo $?)" \
    "team001 is a new group"
is "$(atl_group group001)" "" "the old group001 is deleted"
is "$(refused)" 0 "the fake refused nothing (no rename by PATCH)"

atl_reset_stats >/dev/null
l2s_run atl4 -c "$cfg" sync
is "$l2s_rc" 0 "atlassian: a last sync exits 0"
is "$(atl_stats | jq .writes)" 0 "and sends no write"
tap_done
