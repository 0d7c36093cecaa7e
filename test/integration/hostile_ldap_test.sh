#!/usr/bin/env bash
# hostile_ldap_test.sh - directory values and DNs that are not plain ASCII
# text: a value that is not UTF-8, a value with an embedded NUL, values of
# 1 MiB and of 64 KiB + 1 (and exactly 64 KiB, which is fine), DNs with
# escaped characters and a multi-valued RDN referenced in another spelling,
# and UTF-8 names that must reach the SCIM server byte for byte.  An entry
# the agent cannot send is held back: named with its DN and the reason on
# every cycle, never created, and when it was synced before, left on the
# server exactly as it was (not updated, not deactivated, kept in its
# groups).  Everything else converges.
#
# slapd refuses a value that is not UTF-8 in every directoryString
# attribute (title, cn, uid: "invalid per syntax"), so the test adds an
# octet-string attribute l2sNick and maps it to nickName.  slapd accepts
# NUL bytes in directoryString values and a 1 MiB title.
set -u
top=${L2S_TOP:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$top/test/lib/lab.sh"

lab_start hostile --users 50 --groups 5 --seed 9
B=$LDAP_BASE
b64() { base64 -w0; }

cat >"$tmp/schema.ldif" <<'LDIF'
dn: cn=l2stest,cn=schema,cn=config
objectClass: olcSchemaConfig
cn: l2stest
olcAttributeTypes: ( 1.3.6.1.4.1.99999.7.1 NAME 'l2sNick' DESC 'bytes, no syntax check' EQUALITY octetStringMatch SYNTAX 1.3.6.1.4.1.1466.115.121.1.40 SINGLE-VALUE )
olcObjectClasses: ( 1.3.6.1.4.1.99999.7.2 NAME 'l2sExtra' AUXILIARY MAY l2sNick )
LDIF
ldapadd -Q -Y EXTERNAL -H "$LDAPI_URI" -f "$tmp/schema.ldif" >"$tmp/schema.log" 2>&1
ok $? "slapd takes an octet-string attribute l2sNick" || diag "$(cat "$tmp/schema.log")"

cfg="$tmp/l2s.yaml"
write_config "$tmp/base.yaml"
sed 's/^    title: "{title}"$/&\n    nickName: "{l2sNick}"/' "$tmp/base.yaml" >"$cfg"
grep -q 'nickName: "{l2sNick}"' "$cfg"
ok $? "the config maps nickName from l2sNick"

l2s_run sync1 -c "$cfg" sync
is "$l2s_rc" 0 "the first sync exits 0"
compare first
ok $? "after the first sync the SCIM server equals LDAP"
scim_dump >"$tmp/dump1.json"
user_json() { jq -S --arg u "$2" '[.Users[] | select(.userName == $u)][0] | del(.meta)' "$1"; }
groups_of() { jq -r --arg u "$2" '([.Users[] | select(.userName == $u)][0].id) as $id |
    [.Groups[] | select(any(.members[]?; .value == $id)) | .displayName] | sort | join(" ")' "$1"; }
u3_before=$(user_json "$tmp/dump1.json" user00003)
u4_before=$(user_json "$tmp/dump1.json" user00004)
g3_before=$(groups_of "$tmp/dump1.json" user00003)
g4_before=$(groups_of "$tmp/dump1.json" user00004)
test -n "$g3_before" && test -n "$g4_before"
ok $? "user00003 ($g3_before) and user00004 ($g4_before) are group members on the server"

# --- the hostile entries ---------------------------------------------------
head -c 1048576 /dev/zero | tr '\0' t >"$tmp/title-1m"
head -c 65537 /dev/zero | tr '\0' o >"$tmp/title-over"
head -c 65536 /dev/zero | tr '\0' e >"$tmp/title-edge"
group_dn="cn=Équipe spéciale ✓,ou=groups,$B"
{
	cat <<LDIF
dn: uid=badutf8,ou=people,$B
objectClass: inetOrgPerson
objectClass: l2sExtra
uid: badutf8
cn: Bad Utf8
sn: Utf8
l2sNick:: $(printf 'caf\xe9' | b64)

dn: uid=nultitle,ou=people,$B
objectClass: inetOrgPerson
uid: nultitle
cn: Nul Title
sn: Title
title:: $(printf 'Chief\000Officer' | b64)

dn: uid=bigtitle,ou=people,$B
objectClass: inetOrgPerson
uid: bigtitle
cn: Big Title
sn: Title
title:< file://$tmp/title-1m

dn: uid=over64k,ou=people,$B
objectClass: inetOrgPerson
uid: over64k
cn: Over Limit
sn: Limit
title:< file://$tmp/title-over

dn: uid=edge64k,ou=people,$B
objectClass: inetOrgPerson
uid: edge64k
cn: At Limit
sn: Limit
title:< file://$tmp/title-edge

dn: cn=Smith\, John+uid=jsmith,ou=people,$B
objectClass: inetOrgPerson
uid: jsmith
cn: Smith, John
givenName: John
sn: Smith
title: Head of "Quotes" & <Brackets>

dn: uid=o\+brien,ou=people,$B
objectClass: inetOrgPerson
uid: o+brien
cn: Pat O'Brien
givenName: Pat
sn: O'Brien
manager: uid=jsmith+cn=Smith\2c John,ou=people,$B

dn:: $(printf 'uid=josé,ou=people,%s' "$B" | b64)
objectClass: inetOrgPerson
uid:: $(printf 'josé' | b64)
cn:: $(printf 'José Álvarez' | b64)
givenName:: $(printf 'José' | b64)
sn:: $(printf 'Álvarez' | b64)
title:: $(printf 'Directeur général' | b64)
manager: UID=O\2Bbrien, OU=People,$B

dn:: $(printf 'uid=łukasz,ou=people,%s' "$B" | b64)
objectClass: inetOrgPerson
uid:: $(printf 'łukasz' | b64)
cn:: $(printf 'Łukasz Żółkiewski' | b64)
givenName:: $(printf 'Łukasz' | b64)
sn:: $(printf 'Żółkiewski' | b64)

dn:: $(printf 'uid=山田,ou=people,%s' "$B" | b64)
objectClass: inetOrgPerson
uid:: $(printf '山田' | b64)
cn:: $(printf '山田 太郎' | b64)
givenName:: $(printf '太郎' | b64)
sn:: $(printf '山田' | b64)
title:: $(printf '部長 🎌' | b64)

dn:: $(printf '%s' "$group_dn" | b64)
objectClass: groupOfNames
cn:: $(printf 'Équipe spéciale ✓' | b64)
member: uid=jsmith+cn=Smith\2C John,ou=people,$B
member: UID=O\2Bbrien, ou=People,$B
member:: $(printf 'uid=josé,ou=people,%s' "$B" | b64)
member:: $(printf 'uid=łukasz,ou=people,%s' "$B" | b64)
member:: $(printf 'uid=山田,ou=people,%s' "$B" | b64)
member: uid=badutf8,ou=people,$B
member: uid=nultitle,ou=people,$B
member: uid=edge64k,ou=people,$B
member: uid=user00001,ou=people,$B

LDIF
} >"$tmp/hostile.ldif"
slapd_add "$tmp/hostile.ldif" >"$tmp/add.log" 2>&1
ok $? "slapd takes the hostile entries (NUL in title, 1 MiB title, escaped DNs, UTF-8)" ||
    diag "$(cat "$tmp/add.log")"
printf 'dn: uid=nobody,ou=people,%s\nobjectClass: inetOrgPerson\nuid: nobody\ncn: N\nsn: N\ntitle:: %s\n' \
    "$B" "$(printf 'caf\xe9' | b64)" >"$tmp/latin1.ldif"
slapd_add "$tmp/latin1.ldif" >"$tmp/latin1.log" 2>&1
ok $((! $?)) "slapd itself refuses a title that is not UTF-8 (so l2sNick carries that case)"
like "$(cat "$tmp/latin1.log")" "invalid per syntax" "with 'invalid per syntax'"

# Two users synced before become unsendable.
cat >"$tmp/spoil.ldif" <<LDIF
dn: uid=user00003,ou=people,$B
changetype: modify
replace: title
title:: $(printf 'x\000y' | b64)

dn: uid=user00004,ou=people,$B
changetype: modify
add: objectClass
objectClass: l2sExtra
-
add: l2sNick
l2sNick:: $(printf '\xff\xfeok' | b64)

LDIF
slapd_modify "$tmp/spoil.ldif" >"$tmp/spoil.log" 2>&1
ok $? "user00003 gets a title with a NUL, user00004 a nickName that is not UTF-8" ||
    diag "$(cat "$tmp/spoil.log")"

# --- the sync --------------------------------------------------------------
held_users=(badutf8 nultitle bigtitle over64k user00003 user00004)
# The oracle, without the held users: off the LDAP side, and off the SCIM
# side when they are there (with their memberships).
compare_except() {	# NAME UID...
	local name=$1; shift
	ldap_dump || return 1
	scim_dump >"$tmp/dump.json"
	python3 - "$tmp/users.ldif" "$tmp/dump.json" "$@" <<'PY' || return 1
import json, sys
ldif, dump, skip = sys.argv[1], sys.argv[2], set(sys.argv[3:])
blocks = open(ldif, encoding="utf-8").read().split("\n\n")
keep = [b for b in blocks if not any(l == "uid: " + u for l in b.split("\n") for u in skip)]
open(ldif, "w", encoding="utf-8").write("\n\n".join(keep))
d = json.load(open(dump, encoding="utf-8"))
gone = {u["id"] for u in d["Users"] if u.get("userName") in skip}
d["Users"] = [u for u in d["Users"] if u["id"] not in gone]
for g in d["Groups"]:
    g["members"] = [m for m in g.get("members") or [] if m.get("value") not in gone]
json.dump(d, open(dump, "w", encoding="utf-8"))
PY
	python3 "$top/test/lib/scim_compare.py" "$tmp/users.ldif" "$tmp/groups.ldif" \
	    "$tmp/dump.json" >"$tmp/compare-$name.txt" 2>&1
	local rc=$?
	[ $rc -eq 0 ] || diag "$(head -n 20 "$tmp/compare-$name.txt")"
	return $rc
}

l2s_run dry2 -c "$cfg" sync --dry-run
like "$l2s_stdout" "! hold user 'uid=badutf8,ou=people,$B': attribute 'l2sNick' .*not valid UTF-8" \
    "the dry run shows each held user with its DN and the reason"
is "$(grep -c '^! hold user ' <<<"$l2s_stdout")" 6 "all six of them"
l2s_run dry2json -c "$cfg" sync --dry-run --json
is "$(jq -r '[.held_back[] | .dn | sub(",.*"; "")] | sort | join(" ")' <<<"$l2s_stdout")" \
    "uid=badutf8 uid=bigtitle uid=nultitle uid=over64k uid=user00003 uid=user00004" \
    "and the JSON plan lists them under held_back"
scim_reset_stats
l2s_run sync2 -c "$cfg" sync
is "$l2s_rc" 0 "the sync with hostile entries exits 0"
like "$l2s_stderr" "6 held back" "its summary counts 6 held-back users"
like "$l2s_stderr" "user 'uid=badutf8,ou=people,$B' held back, left as it is: attribute 'l2sNick' .*not valid UTF-8" \
    "the value that is not UTF-8 is logged with the DN and the reason"
like "$l2s_stderr" "user 'uid=nultitle,ou=people,$B' held back, left as it is: attribute 'title' .*not valid UTF-8" \
    "the value with a NUL is logged with the DN and the reason"
like "$l2s_stderr" "user 'uid=bigtitle,ou=people,$B' held back, left as it is: attribute 'title' .*more than 65536 bytes" \
    "the 1 MiB value is logged with the DN and the reason"
like "$l2s_stderr" "user 'uid=over64k,ou=people,$B' held back, left as it is: .*more than 65536 bytes" \
    "a value of 64 KiB + 1 is held too"
like "$l2s_stderr" "user 'uid=user00003,ou=people,$B' held back, left as it is: attribute 'title'" \
    "the synced user whose title got a NUL is held"
like "$l2s_stderr" "user 'uid=user00004,ou=people,$B' held back, left as it is: attribute 'l2sNick'" \
    "the synced user whose nickName is no longer UTF-8 is held"
is "$(grep -c 'held back, left as it is' <<<"$l2s_stderr")" 6 "exactly the six are named"
unlike "$l2s_stderr" "edge64k|jsmith|brien|jos|ukasz" "no other new user is held"
unlike "$l2s_stderr" "Chief|tttttttttt|oooooooooo|caf" "no held value is copied into the log"
test "$(wc -c <"$L2S_OUT/sync2.err")" -lt 4000
ok $? "the log stays small (no 1 MiB value in it)"

scim_dump >"$tmp/dump2.json"
for u in badutf8 nultitle bigtitle over64k; do
	is "$(jq --arg u "$u" '[.Users[] | select(.userName == $u)] | length' "$tmp/dump2.json")" 0 \
	    "held user '$u' is not created"
done
is "$(jq -r '[.log[] | select(.method == "DELETE")] | length' <<<"$(scim_stats)")" 0 "nothing is deleted"
is "$(user_json "$tmp/dump2.json" user00003)" "$u3_before" "user00003 is left on the server exactly as it was (active, old title)"
is "$(user_json "$tmp/dump2.json" user00004)" "$u4_before" "user00004 is left on the server exactly as it was"
is "$(groups_of "$tmp/dump2.json" user00003)" "$g3_before" "user00003 keeps its groups"
is "$(groups_of "$tmp/dump2.json" user00004)" "$g4_before" "user00004 keeps its groups"

field() { jq -r --arg u "$2" "[.Users[] | select(.userName == \$u)][0]$3" "$1"; }
is "$(field "$tmp/dump2.json" edge64k .title | wc -c)" 65537 "a title of exactly 64 KiB is sent whole (65536 bytes + newline)"
is "$(field "$tmp/dump2.json" edge64k .title | tr -d e | tr -d '\n')" "" "and unchanged"
is "$(field "$tmp/dump2.json" jsmith .displayName)" "Smith, John" "the user with an escaped comma in a multi-valued RDN is created"
is "$(field "$tmp/dump2.json" jsmith .title)" 'Head of "Quotes" & <Brackets>' "with quotes and brackets intact"
is "$(field "$tmp/dump2.json" o+brien .name.familyName)" "O'Brien" "uid 'o+brien' (escaped + in the DN) is created"
jsmith_id=$(field "$tmp/dump2.json" jsmith .id)
obrien_id=$(field "$tmp/dump2.json" o+brien .id)
ENT='["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]'
is "$(field "$tmp/dump2.json" o+brien "$ENT.manager.value")" "$jsmith_id" \
    "a manager DN spelt differently (RDN order, \\2c) resolves to the escaped-DN user"
is "$(field "$tmp/dump2.json" josé "$ENT.manager.value")" "$obrien_id" \
    "a manager DN in upper case with \\2B resolves to o+brien"
is "$(field "$tmp/dump2.json" josé '| "\(.displayName)|\(.name.givenName)|\(.name.familyName)|\(.title)"')" \
    "José Álvarez|José|Álvarez|Directeur général" "José's names round-trip exactly"
is "$(field "$tmp/dump2.json" łukasz '| "\(.displayName)|\(.name.givenName)|\(.name.familyName)"')" \
    "Łukasz Żółkiewski|Łukasz|Żółkiewski" "Łukasz's names round-trip exactly"
is "$(field "$tmp/dump2.json" 山田 '| "\(.displayName)|\(.name.givenName)|\(.name.familyName)|\(.title)"')" \
    "山田 太郎|太郎|山田|部長 🎌" "山田's names (and an astral-plane emoji) round-trip exactly"
is "$(printf '%s' "$(field "$tmp/dump2.json" josé .userName)" | od -An -tx1 | tr -d ' \n')" "6a6f73c3a9" \
    "userName 'josé' is the same bytes (NFC é) on the server"
is "$(jq -r '[.Groups[] | select(.displayName == "Équipe spéciale ✓")] | length' "$tmp/dump2.json")" 1 \
    "the group with a UTF-8 name is created under that name"
is "$(jq -r '([.Users[] | {key: .id, value: .userName}] | from_entries) as $n |
    [.Groups[] | select(.displayName == "Équipe spéciale ✓")][0].members | map($n[.value]) | sort | join(" ")' "$tmp/dump2.json")" \
    "edge64k josé jsmith o+brien user00001 łukasz 山田" \
    "its members resolve through escaped, reordered and upper-case DNs; held users are left out"
compare_except hostile "${held_users[@]}"
ok $? "apart from the held users, the SCIM server equals LDAP"

# --- the next cycle: nothing to send, the held ones named again ------------
scim_reset_stats
l2s_run sync3 -c "$cfg" sync
is "$l2s_rc" 0 "the next sync exits 0"
is "$(writes)" 0 "and sends no write (the hostile entries converged)"
is "$(grep -c 'held back, left as it is' <<<"$l2s_stderr")" 6 "and names the six held users again"

# --- a held user's group changes; another held user is fixed ----------------
g4=${g4_before%% *}
g4_dn=$(slapd_search "(&(objectClass=groupOfNames)(cn=$g4))" dn | sed -n 's/^dn: //p')
cat >"$tmp/fix.ldif" <<LDIF
dn: $g4_dn
changetype: modify
add: member
member: uid=jsmith+cn=Smith\2C John,ou=people,$B

dn: uid=user00003,ou=people,$B
changetype: modify
replace: title
title: Fixed Title

dn:: $(printf 'uid=山田,ou=people,%s' "$B" | b64)
changetype: modify
replace: cn
cn:: $(printf '山田 花子' | b64)

LDIF
slapd_modify "$tmp/fix.ldif" >"$tmp/fix.log" 2>&1
ok $? "jsmith joins user00004's group '$g4', user00003's title is fixed, 山田 renamed" ||
    diag "$(cat "$tmp/fix.log")"
scim_reset_stats
l2s_run sync4 -c "$cfg" sync
is "$l2s_rc" 0 "the sync after the fixes exits 0"
like "$l2s_stderr" "5 held back" "five users are still held"
unlike "$l2s_stderr" "user00003.*held back" "user00003 is no longer held"
scim_dump >"$tmp/dump4.json"
is "$(field "$tmp/dump4.json" user00003 .title)" "Fixed Title" "user00003's fixed title reaches the server"
is "$(groups_of "$tmp/dump4.json" user00004)" "$g4_before" "held user00004 stays in its groups when one of them changes"
is "$(field "$tmp/dump4.json" 山田 .displayName)" "山田 花子" "a UTF-8 rename reaches the server"
compare_except fixed badutf8 nultitle bigtitle over64k
ok $? "apart from the never-created held users, the SCIM server equals LDAP (held user00004 included: the oracle does not check nickName)"

leaks=$(grep -rlF -e "$password" -e "$token" "$L2S_OUT" "$tmp"/state.db* 2>/dev/null)
is "$leaks" "" "neither the bind password nor the token appears in any output or the state file"

tap_done
