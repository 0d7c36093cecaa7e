#!/usr/bin/env bash
# Self-test of the test SCIM server (test/scim-server) through its harness.
# Prints TAP; exits non-zero when a check fails.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/scim-server.sh
. "$here/../lib/scim-server.sh"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/scim-server-test.XXXXXX")
cleanup() {
	scim_server_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0
failed=0
ok() { # ok CONDITION_STATUS NAME
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
is() { # is GOT WANT NAME
	n=$((n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $n - $3"
	else
		echo "not ok $n - $3"
		echo "#   got:  '$1'"
		echo "#   want: '$2'"
		failed=$((failed + 1))
	fi
}

# req METHOD PATH [JSON]: sets STATUS and BODY
req() {
	local method=$1 path=$2 out
	shift 2
	if [ $# -gt 0 ]; then
		out=$(scim_curl -X "$method" -w '\n%{http_code}' --data-binary @- "$SCIM_URL$path" <<<"$1")
	else
		out=$(scim_curl -X "$method" -w '\n%{http_code}' "$SCIM_URL$path")
	fi
	STATUS=${out##*$'\n'}
	BODY=${out%$'\n'*}
	[ "$BODY" != "$STATUS" ] || BODY=
}
# patch KIND ID OPERATION_JSON...
patch() {
	local kind=$1 id=$2 ops
	shift 2
	ops=$(IFS=,; echo "$*")
	req PATCH "/$kind/$id" "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[$ops]}"
}
field() { jq -r "$1" <<<"$BODY"; }
filter_url() { # filter_url KIND FILTER
	printf '/%s?filter=%s' "$1" "$(jq -rn --arg f "$2" '$f|@uri')"
}

EXT=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User

# ---------------------------------------------------------------------------
scim_server_start "$tmp"
ok $? "the server starts through the harness"
ok "$([[ $SCIM_URL =~ ^http://127\.0\.0\.1:[0-9]+/scim/v2$ ]]; echo $?)" "SCIM_URL points at the loopback base path"
is "$(stat -c %a "$SCIM_TOKEN_FILE")" 600 "the token file is private"

# ---- authentication
out=$(curl -s -w '\n%{http_code}' "$SCIM_URL/Users")
is "${out##*$'\n'}" 401 "a request without a token is refused with 401"
is "$(jq -r '.schemas[0]' <<<"${out%$'\n'*}")" urn:ietf:params:scim:api:messages:2.0:Error \
	"the 401 answer is a SCIM error"
out=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$SCIM_URL/Users")
is "$out" 401 "a request with a wrong token is refused with 401"

req GET /ServiceProviderConfig
is "$(field '[.patch.supported, .filter.supported, .filter.maxResults, .bulk.supported, .authenticationSchemes[0].type] | @csv')" \
	'true,true,200,false,"oauthbearertoken"' "ServiceProviderConfig announces patch, filter, no bulk, bearer tokens"

# ---- users
req POST /Users "{
  \"schemas\": [\"urn:ietf:params:scim:schemas:core:2.0:User\", \"$EXT\"],
  \"userName\": \"alice\", \"externalId\": \"key-alice\", \"displayName\": \"Alice Liddell\",
  \"name\": {\"givenName\": \"Alice\", \"familyName\": \"Liddell\"},
  \"emails\": [{\"type\": \"work\", \"value\": \"alice@example.com\", \"primary\": true}],
  \"active\": true, \"title\": \"Engineer\",
  \"$EXT\": {\"employeeNumber\": \"1001\"}
}"
is "$STATUS" 201 "creating a user answers 201"
alice=$(field .id)
ok "$([[ $alice =~ ^[0-9a-f-]{36}$ ]]; echo $?)" "the new user has a uuid id"
is "$(field .meta.location)" "$SCIM_URL/Users/$alice" "meta.location names the user"
is "$(field '.meta.version')" 'W/"1"' "meta.version starts at 1"
is "$(field ".\"$EXT\".employeeNumber")" 1001 "the enterprise extension is kept"

out=$(curl -s -w '\n%{http_code}' -H "@$SCIM_AUTH_HEADER_FILE" -H 'Content-Type: application/json' \
	-d '{"userName":"bob","externalId":"key-bob"}' "$SCIM_URL/Users")
is "${out##*$'\n'}" 201 "a body sent as application/json is accepted too"
bob=$(jq -r .id <<<"${out%$'\n'*}")

req POST /Users '{"userName":"ALICE"}'
is "$STATUS" 409 "a userName differing only in case is refused with 409"
is "$(field .scimType)" uniqueness "the 409 says uniqueness"

req GET "$(filter_url Users 'userName eq "alice"')"
is "$(field '[.totalResults, .Resources[0].id] | @csv')" "1,\"$alice\"" "filtering on userName finds the user"
req GET "$(filter_url Users 'externalId eq "key-bob"')"
is "$(field '[.totalResults, .Resources[0].userName] | @csv')" '1,"bob"' "filtering on externalId finds the user"
req GET "$(filter_url Users 'userName eq "ALICE"')"
is "$(field .totalResults)" 0 "eq filters compare values case-sensitively (scimmy)"
req GET "$(filter_url Users "$EXT:employeeNumber eq \"1001\"")"
is "$(field .totalResults)" 1 "filtering on an enterprise attribute finds the user"
req GET "$(filter_url Users 'emails[type eq "work"]')"
is "$STATUS/$(field .totalResults)" 200/1 "a value filter skips users without that attribute"

# ---- user PATCH, op by op
patch Users "$alice" '{"op":"replace","path":"title","value":"Manager"}'
is "$STATUS/$(field .title)" 200/Manager "PATCH replace title answers 200 with the resource"
is "$(field .meta.version)" 'W/"2"' "a change bumps meta.version"
patch Users "$alice" '{"op":"replace","path":"name.givenName","value":"Alicia"}'
is "$(field .name.givenName)/$(field .name.familyName)" Alicia/Liddell "PATCH replace name.givenName keeps the other name parts"
patch Users "$alice" '{"op":"replace","path":"emails[type eq \"work\"].value","value":"alicia@example.com"}'
is "$(field '.emails | map(.type + "=" + .value) | join(",")')" work=alicia@example.com \
	"PATCH replace emails[type eq \"work\"].value changes the work email"
patch Users "$alice" '{"op":"replace","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555 0100"}'
is "$STATUS/$(field .scimType)" 400/noTarget \
	"PATCH replace phoneNumbers[type eq \"work\"].value without a work phone answers 400 noTarget"
patch Users "$alice" '{"op":"add","path":"phoneNumbers","value":[{"type":"work","value":"+1 555 0100"}]}'
is "$STATUS/$(field '.phoneNumbers[0].value')" "200/+1 555 0100" "PATCH add phoneNumbers adds a work phone"
patch Users "$alice" '{"op":"replace","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555 0199"}'
is "$(field '.phoneNumbers | map(.value) | join(",")')" "+1 555 0199" "PATCH replace phoneNumbers[type eq \"work\"].value changes it"
patch Users "$alice" '{"op":"replace","path":"active","value":false}'
is "$(field .active)" false "PATCH replace active deactivates"
patch Users "$alice" "{\"op\":\"replace\",\"path\":\"$EXT:employeeNumber\",\"value\":\"2002\"}"
is "$(field ".\"$EXT\".employeeNumber")" 2002 "PATCH replace of the enterprise employeeNumber works"
patch Users "$alice" "{\"op\":\"replace\",\"path\":\"$EXT:manager\",\"value\":{\"value\":\"$bob\"}}"
is "$(field ".\"$EXT\".manager.value")" "$bob" "PATCH replace of the enterprise manager works"
patch Users "$alice" '{"op":"replace","path":"active","value":false}'
is "$STATUS/$BODY" 204/ "PATCH that changes nothing answers 204 without a body"

patch Users "$alice" '{"op":"add","path":"title","value":"Director"}'
is "$(field .title)" Director "PATCH add title sets it"
patch Users "$alice" '{"op":"add","path":"name.givenName","value":"Ali"}'
is "$(field .name.givenName)" Ali "PATCH add name.givenName sets it"
patch Users "$alice" '{"op":"add","path":"emails[type eq \"work\"].value","value":"ali@example.com"}'
is "$(field '.emails | map(.value) | join(",")')" ali@example.com "PATCH add emails[type eq \"work\"].value replaces the value"
patch Users "$alice" '{"op":"add","path":"phoneNumbers[type eq \"work\"].value","value":"+1 555 0111"}'
is "$(field '.phoneNumbers | map(.value) | join(",")')" "+1 555 0111" "PATCH add phoneNumbers[type eq \"work\"].value replaces the value"
patch Users "$alice" '{"op":"add","path":"active","value":true}'
is "$(field .active)" true "PATCH add active sets it"
patch Users "$alice" "{\"op\":\"add\",\"path\":\"$EXT:employeeNumber\",\"value\":\"3003\"}"
is "$(field ".\"$EXT\".employeeNumber")" 3003 "PATCH add of the enterprise employeeNumber sets it"

patch Users "$alice" '{"op":"remove","path":"title"}'
is "$STATUS/$(field 'has("title")')" 200/false "PATCH remove title drops it"
patch Users "$alice" '{"op":"remove","path":"name.givenName"}'
is "$(field '.name | keys | join(",")')" familyName "PATCH remove name.givenName drops only that part"
patch Users "$alice" '{"op":"remove","path":"emails[type eq \"work\"].value"}'
is "$(field '.emails | tojson')" '[{"type":"work","primary":true}]' "PATCH remove emails[type eq \"work\"].value leaves the typed entry without a value"
patch Users "$alice" '{"op":"remove","path":"emails[type eq \"work\"]"}'
is "$(field 'has("emails")')" false "PATCH remove emails[type eq \"work\"] drops the entry"
patch Users "$alice" '{"op":"remove","path":"phoneNumbers[type eq \"work\"].value"}'
is "$(field '.phoneNumbers | tojson')" '[{"type":"work"}]' "PATCH remove phoneNumbers[type eq \"work\"].value leaves the typed entry"
patch Users "$alice" '{"op":"remove","path":"active"}'
is "$(field 'has("active")')" false "PATCH remove active drops it"
patch Users "$alice" "{\"op\":\"remove\",\"path\":\"$EXT:employeeNumber\"}"
is "$(field ".\"$EXT\" | keys | join(\",\")")" manager "PATCH remove of the enterprise employeeNumber drops only it"
patch Users "$alice" "{\"op\":\"remove\",\"path\":\"$EXT:manager\"}"
is "$(field "has(\"$EXT\")")/$(field ".schemas | length")" false/1 "removing the last enterprise attribute drops the extension"

patch Users "$alice" '{"op":"replace","path":"userName","value":"Bob"}'
is "$STATUS/$(field .scimType)" 409/uniqueness "PATCH to another user's userName answers 409"
patch Users "$alice" '{"op":"replace","path":"noSuchAttribute","value":"x"}'
is "$STATUS/$(field .scimType)" 400/invalidPath "PATCH on an unknown path answers 400 invalidPath"
req GET /Users/no-such-id
is "$STATUS" 404 "reading an unknown user answers 404"

# ---- groups
req POST /Users '{"userName":"carol"}'
carol=$(field .id)
req POST /Groups "{\"displayName\":\"engineering\",\"members\":[{\"value\":\"$alice\"},{\"value\":\"$bob\"}]}"
is "$STATUS/$(field '.members | length')" 201/2 "creating a group with members answers 201"
eng=$(field .id)
req POST /Groups '{"displayName":"Engineering"}'
is "$STATUS/$(field .scimType)" 409/uniqueness "a duplicate group displayName is refused with 409"
req POST /Groups '{"displayName":"ghosts","members":[{"value":"no-such-id"}]}'
is "$STATUS/$(field .scimType)" 400/invalidValue "a member that does not exist is refused with 400"
req GET "$(filter_url Groups 'displayName eq "engineering"')"
is "$(field '[.totalResults, .Resources[0].id] | @csv')" "1,\"$eng\"" "filtering groups on displayName finds the group"

scim_reset_stats
patch Groups "$eng" "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"$carol\"}]}"
is "$STATUS/$(field '[.members[].value] | sort | join(",")')" "200/$(printf '%s\n' "$alice" "$bob" "$carol" | sort | paste -sd,)" \
	"PATCH add members adds the user"
patch Groups "$eng" "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"$carol\"}]}"
is "$(field "[.members[] | select(.value == \"$carol\")] | length")" 2 "PATCH add of a present member appends a duplicate (scimmy)"
patch Groups "$eng" "{\"op\":\"remove\",\"path\":\"members[value eq \\\"$carol\\\"]\"}"
is "$STATUS/$(field "[.members[] | select(.value == \"$carol\")] | length")" 200/0 \
	"PATCH remove members[value eq \"ID\"] removes every copy"
patch Groups "$eng" "{\"op\":\"remove\",\"path\":\"members\",\"value\":[{\"value\":\"$bob\"}]}"
is "$(field '[.members[].value] | join(",")')" "$alice" "PATCH remove members with a value list removes that member"
req GET "/Groups/$eng"
stats=$(scim_stats)
is "$(jq -r '[.requests, .writes, .byMethod.PATCH, .byMethod.GET] | @csv' <<<"$stats")" 5,4,4,1 \
	"the stats count requests, writes and methods"
is "$(jq -r '.log[0] | [.method, .path, .status] | @csv' <<<"$stats")" "\"PATCH\",\"/scim/v2/Groups/$eng\",200" \
	"the stats log names method, path and status"

# ---- dump, delete
dump=$(scim_dump)
is "$(jq -r '[(.Users | length), (.Groups | length), (.Groups[0].members | length)] | @csv' <<<"$dump")" 3,1,1 \
	"the dump holds every user and group"
req DELETE "/Users/$alice"
is "$STATUS" 204 "deleting a user answers 204"
is "$(scim_dump | jq -r '.Groups[0] | has("members")')" false "a deleted user leaves its groups"
req GET "/Users/$alice"
is "$STATUS" 404 "a deleted user is gone"

req PUT "/Users/$bob" '{"userName":"bob","externalId":"key-bob","title":"Replaced"}'
is "$STATUS/$(field .title)/$(field .meta.version)" '200/Replaced/W/"2"' "PUT replaces a user"
req PUT "/Users/$bob" '{"userName":"bob","externalId":"key-bob","title":"Replaced"}'
is "$STATUS/$(field .meta.version)" '200/W/"2"' "a PUT that changes nothing keeps meta.version"
req DELETE "/Groups/$eng"
is "$STATUS" 204 "deleting a group answers 204"
req GET /Groups
is "$(field .totalResults)" 0 "a deleted group is gone"

# ---- large bodies
big=$(head -c 2000000 /dev/zero | tr '\0' x)
req POST /Users "{\"userName\":\"big\",\"title\":\"$big\"}"
is "$STATUS" 201 "a 2 MB request body is accepted"

# ---- reset, seed, paging
scim_reset
is "$(scim_dump | jq -c .)" '{"Users":[],"Groups":[]}' "reset drops everything"
is "$(scim_stats --no-log | jq -r .requests)" 0 "reset zeroes the stats"

jq -n '{Users: [range(1; 251) | {userName: ("user\(. + 10000 | tostring | .[1:])"), externalId: "k\(.)"}],
        Groups: [{id: "g-fixed", displayName: "seeded"}]}' >"$tmp/seed.json"
seeded=$(scim_seed "$tmp/seed.json")
ok $? "seeding 250 users and a group succeeds"
is "$(jq -r '[(.Users | length), .Groups[0].id] | @csv' <<<"$seeded")" '250,"g-fixed"' "seeding keeps a given id"

ids=""
sizes=""
for start in 1 101 201; do
	req GET "/Users?startIndex=$start&count=100"
	sizes="$sizes$(field '[.totalResults, .startIndex, (.Resources | length)] | @csv');"
	ids="$ids$(field '.Resources[].id')"$'\n'
done
is "$sizes" "250,1,100;250,101,100;250,201,50;" "paging by 100 gives 100, 100 and 50 of 250"
is "$(grep -c . <<<"$ids")/$(grep . <<<"$ids" | sort -u | wc -l)" 250/250 "the pages hold 250 distinct users"
req GET "/Users?startIndex=5&count=3"
is "$(field '[.Resources[].userName] | join(",")')" user0005,user0006,user0007 "an unaligned page starts at startIndex"
req GET "/Users?count=1000"
is "$(field '[.totalResults, (.Resources | length)] | @csv')" 250,200 "count is capped at maxResults"
req GET "/Users?startIndex=300&count=10"
is "$(field '[.totalResults, (.Resources | length)] | @csv')" 250,0 "a page past the end is empty"
req GET "/Users?count=0"
is "$(field '[.totalResults, (.Resources | length)] | @csv')" 250,0 "count=0 gives only totalResults"
req GET "$(filter_url Users 'userName sw "user004"')&count=5&startIndex=6"
is "$(field '[.totalResults, .startIndex, ([.Resources[].externalId] | join(" "))] | @csv')" '10,6,"k45 k46 k47 k48 k49"' \
	"a filtered query pages through the matches and counts them in totalResults"

# ---- stop
pid=$SCIM_PID
scim_server_stop
gone=0
kill -0 "$pid" 2>/dev/null && gone=1
ok $gone "the server stops"

echo "1..$n"
[ "$failed" -eq 0 ]
