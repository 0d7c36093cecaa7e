#!/usr/bin/env bash
# Self-test of the fake of Atlassian Cloud's SCIM API (test/scim-server/atlassian.js)
# through its harness: each documented quirk, with a passing and a failing case.
# Prints TAP; exits non-zero when a check fails.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=SCRIPTDIR/../lib/tap.sh
. "$here/../lib/tap.sh"
# shellcheck source=SCRIPTDIR/../lib/atlassian-fake.sh
. "$here/../lib/atlassian-fake.sh"

for tool in node curl jq; do
	command -v "$tool" >/dev/null 2>&1 || skip_all "'$tool' not found"
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/atlassian-fake-test.XXXXXX")
cleanup() {
	atl_server_stop
	rm -rf "$tmp"
}
trap cleanup EXIT

# req METHOD PATH [JSON]: sets STATUS and BODY
req() {
	local method=$1 path=$2 out
	shift 2
	if [ $# -gt 0 ]; then
		out=$(atl_curl -X "$method" -w '\n%{http_code}' --data-binary @- "$ATL_URL$path" <<<"$1")
	else
		out=$(atl_curl -X "$method" -w '\n%{http_code}' "$ATL_URL$path")
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
filter_url() { # filter_url KIND FILTER (ASCII filters; no jq, to stay fast)
	local s=$2 out='' c i
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) printf -v c '%%%02X' "'$c"; out+=$c ;;
		esac
	done
	printf '/%s?filter=%s' "$1" "$out"
}
# user_json USERNAME EMAIL [EXTRA_JSON_MEMBERS]
user_json() {
	printf '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s","emails":[{"type":"work","value":"%s","primary":true}]%s}' \
		"$1" "$2" "${3:+,$3}"
}

EXT=urn:ietf:params:scim:schemas:extension:enterprise:2.0:User
ERR=urn:ietf:params:scim:api:messages:2.0:Error

# ---------------------------------------------------------------------------
ATL_VERIFIED_DOMAINS="l2s.test example.com" atl_server_start "$tmp"
ok $? "the fake starts through the harness" || { tap_done; exit 1; }
like "$ATL_URL" '^http://127\.0\.0\.1:[0-9]+/scim/directory/d-test$' "ATL_URL is the directory's loopback base URL"
is "$ATL_URL" "http://127.0.0.1:$ATL_PORT/scim/directory/d-test" "ATL_URL and ATL_PORT agree"
is "$ATL_ADMIN_URL" "http://127.0.0.1:$ATL_PORT/_test" "ATL_ADMIN_URL names the admin routes"
is "$(stat -c %a "$ATL_TOKEN_FILE")" 600 "the token file is private"
kill -0 "$ATL_PID" 2>/dev/null
ok $? "ATL_PID is the running fake"
listen=$(ss -Htln "sport = :$ATL_PORT" 2>/dev/null | awk '{print $4}')
[ -z "$listen" ] || is "$listen" "127.0.0.1:$ATL_PORT" "the fake listens on loopback only"

# ---- authentication
out=$(curl -s -w '\n%{http_code}' "$ATL_URL/Users")
is "${out##*$'\n'}" 401 "a request without a token is refused with 401"
is "$(jq -r '[.schemas[0], .status, (.detail | length > 0)] | @csv' <<<"${out%$'\n'*}")" "\"$ERR\",\"401\",true" \
	"the 401 answer is a SCIM error with status as a string and a detail"
out=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer wrong' "$ATL_URL/Users")
is "$out" 401 "a request with a wrong token is refused with 401"
req GET /Users
is "$STATUS" 200 "a request with the right token is answered"
cp "$ATL_TOKEN_FILE" "$tmp/token.keep"
printf 'rotated\n' >"$ATL_TOKEN_FILE"
req GET /Users
is "$STATUS" 401 "the token file is re-read on every request"
out=$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer rotated' "$ATL_URL/Users")
is "$out" 200 "a rotated token is accepted at once"
cp "$tmp/token.keep" "$ATL_TOKEN_FILE"
out=$(atl_curl -w '\n%{http_code}' "http://127.0.0.1:$ATL_PORT/scim/directory/other/Users")
is "${out##*$'\n'}" 404 "another directory id answers 404"
like "${out%$'\n'*}" "directory 'other' not found" "the 404 names the directory"

# ---- service provider config, bulk
req GET /ServiceProviderConfig
is "$STATUS" 200 "ServiceProviderConfig answers 200"
is "$(field '[.patch.supported, .bulk.supported, .filter.supported, .filter.maxResults, .changePassword.supported, .sort.supported, .etag.supported] | @csv')" \
	'true,false,true,100,false,false,false' \
	"ServiceProviderConfig: patch and filter (100) yes; bulk, changePassword, sort, etag no"
req POST /Bulk '{"schemas":["urn:ietf:params:scim:api:messages:2.0:BulkRequest"],"Operations":[]}'
is "$STATUS/$(field .schemas[0])/$(field .status)" "501/$ERR/501" "/Bulk answers 501 with a SCIM error"
req GET /NoSuchEndpoint
is "$STATUS/$(field .status)" 404/404 "an unknown endpoint answers 404 with a SCIM error"
req POST /Users '{"userName": '
is "$STATUS/$(field .scimType)" 400/invalidSyntax "a body that is not JSON answers 400 invalidSyntax"

# ---- user creation rules
req POST /Users "$(user_json alice alice@l2s.test "\"externalId\":\"key-alice\",\"displayName\":\"Alice Liddell\",
  \"name\":{\"givenName\":\"Alice\",\"familyName\":\"Liddell\"},\"title\":\"Engineer\",
  \"schemas\":[\"urn:ietf:params:scim:schemas:core:2.0:User\",\"$EXT\"],
  \"$EXT\":{\"department\":\"R&D\",\"employeeNumber\":\"1001\"}")"
is "$STATUS" 201 "creating a user with one primary email on a verified domain answers 201"
alice=$(field .id)
like "$alice" '^[0-9a-f-]{36}$' "the new user has a uuid id"
is "$(field .active)" true "a new user is active by default"
is "$(field ".\"$EXT\".department")/$(field ".\"$EXT\".employeeNumber")" "R&D/1001" "the enterprise extension is stored"
is "$(field .meta.location)" "$ATL_URL/Users/$alice" "meta.location names the user under the directory"
is "$(field 'has("meta") and (.meta | has("version") | not)')" true "meta carries no version (no etags)"

req POST /Users '{"emails":[{"value":"x@l2s.test","primary":true}]}'
is "$STATUS/$(field .scimType)" 400/invalidValue "a user without userName is refused with 400"
like "$(field .detail)" "userName is required" "the 400 says userName is required"
req POST /Users '{"userName":"noemail"}'
is "$STATUS/$(field .status)" 400/400 "a user without emails is refused with 400"
like "$(field .detail)" "exactly one value marked primary" "the 400 says one primary email is required"
req POST /Users '{"userName":"noprimary","emails":[{"value":"np@l2s.test"}]}'
is "$STATUS" 400 "a user whose email is not marked primary is refused with 400"
like "$(field .detail)" "exactly one value marked primary, not 0" "the 400 says no email is marked primary"
req POST /Users '{"userName":"twoprimary","emails":[{"value":"a@l2s.test","primary":true},{"value":"b@l2s.test","primary":true}]}'
is "$STATUS" 400 "a user with two primary emails is refused with 400"
like "$(field .detail)" "exactly one value marked primary, not 2" "the 400 says two emails are marked primary"
req POST /Users '{"userName":"twoemails","emails":[{"type":"work","value":"te@l2s.test","primary":true},{"type":"home","value":"te@gmail.test"}]}'
is "$STATUS" 201 "a user with two emails of which one is primary is accepted"
twoemails=$(field .id)
req POST /Users "$(user_json mallory mallory@evil.test)"
is "$STATUS/$(field .scimType)" 400/invalidValue "a primary email on an unverified domain is refused with 400"
like "$(field .detail)" "email domain 'evil\.test' is not verified" "the 400 says the email domain is not verified"
req POST /Users "$(user_json ursula ursula@EXAMPLE.com)"
is "$STATUS" 201 "every --verified-domain counts, compared case-insensitively"
ursula=$(field .id)

req POST /Users "$(user_json ALICE alice2@l2s.test)"
is "$STATUS/$(field .scimType)" 409/uniqueness "a userName differing only in case is refused with 409 uniqueness"
req POST /Users "$(user_json alice-other alice3@l2s.test '"externalId":"key-alice"')"
is "$STATUS/$(field .scimType)" 409/uniqueness "a taken externalId is refused with 409 uniqueness"
like "$(field .detail)" "externalId 'key-alice' is already taken" "the 409 names the externalId"
req POST /Users "$(user_json bob bob@l2s.test '"externalId":"key-bob","title":"Clerk"')"
is "$STATUS" 201 "a user with a fresh userName and externalId is created"
bob=$(field .id)
req GET "/Users/$bob"
is "$STATUS/$(field .userName)" 200/bob "a user reads back by id"
req GET /Users/no-such-id
is "$STATUS/$(field .status)" 404/404 "an unknown user answers 404"

# ---- filters and paging
req GET "$(filter_url Users 'userName eq "alice"')"
is "$(field '[.totalResults, .Resources[0].id] | @csv')" "1,\"$alice\"" "filtering on userName finds the user"
req GET "$(filter_url Users 'userName eq "ALICE"')"
is "$(field '[.totalResults, .Resources[0].id] | @csv')" "1,\"$alice\"" "userName eq compares case-insensitively"
req GET "$(filter_url Users 'externalId eq "key-bob"')"
is "$(field '[.totalResults, .Resources[0].userName] | @csv')" '1,"bob"' "filtering on externalId finds the user"
req GET "$(filter_url Users 'externalId eq "KEY-BOB"')"
is "$(field .totalResults)" 0 "externalId eq compares case-sensitively"
req GET "$(filter_url Users 'userName eq "nobody"')"
is "$STATUS/$(field .totalResults)/$(field '.Resources | length')" 200/0/0 "a filter that matches nothing gives an empty list"
for f in 'userName eq "alice" and externalId eq "key-alice"' 'userName eq "alice" or userName eq "bob"' \
	'userName co "ali"' 'userName sw "ali"' 'userName pr' '(userName eq "alice")' \
	'displayName eq "Alice Liddell"' 'emails.value eq "alice@l2s.test"' 'not (userName eq "alice")'; do
	req GET "$(filter_url Users "$f")"
	is "$STATUS/$(field .scimType)" 400/invalidFilter "the user filter '$f' is refused with 400 invalidFilter"
done

jq -n '{Users: [range(1; 131) | {userName: "page\(. + 1000 | tostring | .[1:])", externalId: "p\(.)"}]}' >"$tmp/seed.json"
seeded=$(atl_seed "$tmp/seed.json")
ok $? "seeding 130 users succeeds"
is "$(jq -r '.Users | length' <<<"$seeded")" 130 "the seed answer lists the stored users"
req GET "/Users?count=500"
is "$(field '[.schemas[0], .totalResults, .startIndex, .itemsPerPage, (.Resources | length)] | @csv')" \
	'"urn:ietf:params:scim:api:messages:2.0:ListResponse",134,1,100,100' "count is capped at 100 in a ListResponse"
req GET "/Users"
is "$(field '.Resources | length')" 100 "without count a page holds 100"
req GET "/Users?startIndex=101&count=100"
is "$(field '[.totalResults, .startIndex, (.Resources | length)] | @csv')" 134,101,34 "startIndex pages to the rest"
req GET "/Users?startIndex=10&count=3"
is "$(field '[.Resources[].userName] | join(",")')" page006,page007,page008 "an unaligned page starts at startIndex"
req GET "/Users?startIndex=500"
is "$(field '[.totalResults, (.Resources | length)] | @csv')" 134,0 "a page past the end is empty"
req GET "/Users?count=abc"
is "$STATUS" 400 "a count that is not a number is refused with 400"

# ---- PUT replaces
req PUT "/Users/$bob" "$(user_json bob bob@l2s.test '"externalId":"key-bob"')"
is "$STATUS/$(field 'has("title")')" 200/false "PUT replaces the user: the omitted title is cleared"
is "$(field .active)" true "PUT without active leaves the user active"
req PUT "/Users/$bob" '{"userName":"bob"}'
is "$STATUS" 400 "PUT without emails is refused with 400"
req PUT "/Users/$bob" "$(user_json alice bob@l2s.test)"
is "$STATUS/$(field .scimType)" 409/uniqueness "PUT to another user's userName answers 409"
req PUT /Users/no-such-id "$(user_json ghost ghost@l2s.test)"
is "$STATUS" 404 "PUT of an unknown user answers 404"

# ---- PATCH
patch Users "$alice" '{"op":"replace","path":"title","value":"Manager"}'
is "$STATUS/$(field .title)" 200/Manager "PATCH replace title answers 200 with the resource"
is "$(field .displayName)/$(field ".\"$EXT\".department")" "Alice Liddell/R&D" "PATCH keeps what it does not name"
patch Users "$alice" '{"op":"add","path":"nickName","value":"Al"}'
is "$(field .nickName)" Al "PATCH add nickName sets it"
patch Users "$alice" '{"op":"replace","path":"name.givenName","value":"Alicia"}'
is "$(field .name.givenName)/$(field .name.familyName)" Alicia/Liddell "PATCH replace name.givenName keeps the other name parts"
patch Users "$alice" '{"op":"replace","path":"emails[type eq \"work\"].value","value":"alicia@l2s.test"}'
is "$STATUS/$(field '.emails | map(.type + "=" + .value + "=" + (.primary | tostring)) | join(",")')" \
	200/work=alicia@l2s.test=true "PATCH replace emails[type eq \"work\"].value changes the work email"
patch Users "$alice" '{"op":"replace","path":"emails[type eq \"work\"].value","value":"alicia@evil.test"}'
is "$STATUS" 400 "PATCH moving the primary email to an unverified domain is refused"
like "$(field .detail)" "email domain 'evil\.test' is not verified" "that 400 says the domain is not verified"
patch Users "$alice" '{"op":"remove","path":"emails"}'
is "$STATUS" 400 "PATCH removing every email is refused"
patch Users "$alice" '{"op":"replace","path":"active","value":false}'
is "$STATUS/$(field .active)" 200/false "PATCH replace active deactivates"
patch Users "$alice" '{"op":"replace","value":{"active":true,"title":"Director"}}'
is "$(field .active)/$(field .title)" true/Director "PATCH replace without path sets several attributes"
patch Users "$alice" "{\"op\":\"replace\",\"path\":\"$EXT:department\",\"value\":\"Sales\"}"
is "$(field ".\"$EXT\".department")/$(field ".\"$EXT\".employeeNumber")" Sales/1001 "PATCH replace of an enterprise attribute changes only it"
patch Users "$alice" "{\"op\":\"add\",\"value\":{\"$EXT\":{\"costCenter\":\"CC1\"}}}"
is "$(field ".\"$EXT\".costCenter")/$(field ".\"$EXT\".department")" CC1/Sales "PATCH add without path merges into the extension"
patch Users "$alice" '{"op":"remove","path":"title"}'
is "$STATUS/$(field 'has("title")')" 200/false "PATCH remove title drops it"
patch Users "$alice" '{"op":"remove","path":"name.givenName"}'
is "$(field '.name | keys | join(",")')" familyName "PATCH remove name.givenName drops only that part"
patch Users "$alice" "{\"op\":\"remove\",\"path\":\"$EXT:costCenter\"}"
is "$(field ".\"$EXT\" | has(\"costCenter\")")" false "PATCH remove of an enterprise attribute drops it"
patch Users "$twoemails" '{"op":"remove","path":"emails[type eq \"home\"]"}'
is "$STATUS/$(field '.emails | map(.type) | join(",")')" 200/work "PATCH remove emails[type eq \"home\"] drops that email"
patch Users "$alice" '{"op":"replace","path":"userName","value":"Bob"}'
is "$STATUS/$(field .scimType)" 409/uniqueness "PATCH to another user's userName answers 409"
patch Users "$alice" '{"op":"move","path":"title","value":"x"}'
is "$STATUS" 400 "an unknown PATCH op is refused with 400"
req PATCH "/Users/$alice" '{"Operations":[{"op":"replace","path":"title","value":"x"}]}'
is "$STATUS" 400 "a PATCH body without the PatchOp schema is refused with 400"
patch Users no-such-id '{"op":"replace","path":"title","value":"x"}'
is "$STATUS" 404 "PATCH of an unknown user answers 404"

# ---- groups
req POST /Groups "{\"displayName\":\"engineering\",\"members\":[{\"value\":\"$alice\"},{\"value\":\"$bob\"}]}"
is "$STATUS/$(field '.members | length')" 201/2 "creating a group with members answers 201"
eng=$(field .id)
req POST /Groups '{"displayName":"Engineering"}'
is "$STATUS/$(field .scimType)" 409/uniqueness "a displayName differing only in case is refused with 409 uniqueness"
req POST /Groups '{"displayName":"ghosts","members":[{"value":"no-such-id"}]}'
is "$STATUS/$(field .scimType)" 400/invalidValue "a group member that is no user is refused with 400"
like "$(field .detail)" "member 'no-such-id' is not a user of this directory" "the 400 names the member"
req POST /Groups "{\"displayName\":\"nested\",\"members\":[{\"value\":\"$eng\"}]}"
is "$STATUS" 400 "a group cannot be a member (no nesting)"
req POST /Groups '{"displayName":"sales","externalId":"g-sales"}'
is "$STATUS" 201 "a second group is created"
sales=$(field .id)
req GET "$(filter_url Groups 'displayName eq "ENGINEERING"')"
is "$(field '[.totalResults, .Resources[0].id] | @csv')" "1,\"$eng\"" "displayName eq compares case-insensitively"
req GET "$(filter_url Groups 'externalId eq "g-sales"')"
is "$(field '[.totalResults, .Resources[0].id] | @csv')" "1,\"$sales\"" "groups filter on externalId"
for f in 'displayName sw "eng"' 'userName eq "alice"' 'displayName eq "a" or displayName eq "b"'; do
	req GET "$(filter_url Groups "$f")"
	is "$STATUS/$(field .scimType)" 400/invalidFilter "the group filter '$f' is refused with 400 invalidFilter"
done

patch Groups "$eng" "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"$ursula\"}]}"
is "$STATUS/$(field '.members | length')" 200/3 "PATCH add members adds the user"
patch Groups "$eng" "{\"op\":\"add\",\"path\":\"members\",\"value\":[{\"value\":\"$ursula\"}]}"
is "$(field "[.members[] | select(.value == \"$ursula\")] | length")" 1 "PATCH add of a present member keeps one copy"
patch Groups "$eng" '{"op":"add","path":"members","value":[{"value":"no-such-id"}]}'
is "$STATUS/$(field .scimType)" 400/invalidValue "PATCH add of a member that is no user is refused with 400"
patch Groups "$eng" "{\"op\":\"remove\",\"path\":\"members[value eq \\\"$ursula\\\"]\"}"
is "$STATUS/$(field "[.members[] | select(.value == \"$ursula\")] | length")" 200/0 "PATCH remove members[value eq \"ID\"] removes the member"
patch Groups "$eng" "{\"op\":\"remove\",\"path\":\"members\",\"value\":[{\"value\":\"$bob\"}]}"
is "$(field '[.members[].value] | join(",")')" "$alice" "PATCH remove members with a value list removes that member"
patch Groups "$eng" '{"op":"replace","path":"displayName","value":"engineering-new"}'
is "$STATUS" 400 "PATCH replace of displayName is refused with 400"
like "$(field .detail)" "group rename is not supported" "the 400 says group rename is not supported"
patch Groups "$eng" '{"op":"replace","value":{"displayName":"Engineering"}}'
is "$STATUS" 400 "PATCH replace without path of displayName (case only) is refused with 400"
patch Groups "$eng" '{"op":"replace","value":{"displayName":"engineering"}}'
is "$STATUS" 200 "PATCH that keeps displayName as it is is accepted"
req PUT "/Groups/$eng" '{"displayName":"renamed"}'
is "$STATUS" 400 "PUT with another displayName is refused with 400"
like "$(field .detail)" "group rename is not supported" "that 400 says group rename is not supported"
req PUT "/Groups/$eng" "{\"displayName\":\"engineering\",\"members\":[{\"value\":\"$bob\"}]}"
is "$STATUS/$(field '[.members[].value] | join(",")')" "200/$bob" "PUT with the same displayName replaces the members"
req GET "/Groups/$eng"
is "$(field .displayName)" engineering "the group kept its name"

# ---- DELETE of a user only deactivates
atl_reset_stats
req DELETE "/Users/$bob"
is "$STATUS" 204 "deleting a user answers 204"
req GET "/Users/$bob"
is "$STATUS/$(field .active)/$(field .userName)" 200/false/bob "the deleted user stays readable, deactivated"
is "$(atl_dump | jq -r "[.Users[] | select(.id == \"$bob\")] | length")" 1 "the deleted user is still stored"
is "$(atl_dump | jq -r ".Groups[] | select(.id == \"$eng\") | [.members[].value] | join(\",\")")" "$bob" \
	"the deleted user keeps its group memberships"
stats=$(atl_stats)
is "$(jq -r '.userDeletes' <<<"$stats")" 1 "stats count the user delete in userDeletes"
is "$(jq -r '.log[0] | [.method, .path, .status, (.note | length > 0)] | @csv' <<<"$stats")" \
	"\"DELETE\",\"/scim/directory/d-test/Users/$bob\",204,true" "the log entry of the user delete is marked"
req DELETE /Users/no-such-id
is "$STATUS" 404 "deleting an unknown user answers 404"
is "$(atl_stats --no-log | jq -r '[.userDeletes, has("log")] | @csv')" 1,false \
	"a failed delete is not counted; --no-log leaves the log out"

# ---- DELETE of a group removes it
req DELETE "/Groups/$sales"
is "$STATUS" 204 "deleting a group answers 204"
req GET "/Groups/$sales"
is "$STATUS" 404 "a deleted group is gone"
req POST /Groups '{"displayName":"sales"}'
is "$STATUS" 201 "the name of a deleted group is free again"

# ---- stats log, dump
atl_reset_stats
req GET "$(filter_url Users 'userName eq "alice"')"
patch Users "$alice" '{"op":"replace","path":"title","value":"CTO"}'
curl -s -o /dev/null "$ATL_URL/Users"
stats=$(atl_stats)
is "$(jq -r '[.requests, .writes, .byMethod.GET, .byMethod.PATCH] | @csv' <<<"$stats")" 3,1,2,1 \
	"the stats count requests, writes and methods"
is "$(jq -r '.log[0] | [.method, .path, .status, (.query | startswith("filter="))] | @csv' <<<"$stats")" \
	'"GET","/scim/directory/d-test/Users",200,true' "the log names method, path, status and query"
is "$(jq -r '.log[2] | [.method, .status] | @csv' <<<"$stats")" '"GET",401' "refused requests are logged too"
dump=$(atl_dump)
is "$(jq -r '[(.Users | length), (.Groups | length)] | @csv' <<<"$dump")" 134,2 "the dump holds every user and group"
is "$(jq -r ".Users[] | select(.id == \"$alice\") | .\"$EXT\".department" <<<"$dump")" Sales "the dump shows resources as stored"

# ---- reset, seed rules
atl_reset
is "$(atl_dump | jq -c .)" '{"Users":[],"Groups":[]}' "reset drops everything"
is "$(atl_stats --no-log | jq -r '[.requests, .userDeletes] | @csv')" 0,0 "reset zeroes the stats"
printf '%s' '{"Users":[{"id":"u-1","userName":"old","emails":[{"value":"old@elsewhere.test","primary":true}],"active":false}],
  "Groups":[{"id":"g-1","displayName":"legacy","members":[{"value":"u-1"}]}]}' >"$tmp/seed2.json"
seeded=$(atl_seed "$tmp/seed2.json")
is "$(jq -r '[.Users[0].id, .Users[0].active, .Groups[0].id, .Groups[0].members[0].value] | @csv' <<<"$seeded")" \
	'"u-1",false,"g-1","u-1"' "seeding keeps ids and does not apply the email rules"
printf '%s' '{"Users":[{"userName":"OLD"}]}' >"$tmp/seed3.json"
atl_seed "$tmp/seed3.json" >/dev/null 2>&1
ok $((!$?)) "seeding a duplicate userName fails"

# ---- stop
pid=$ATL_PID
atl_server_stop
kill -0 "$pid" 2>/dev/null
ok $((!$?)) "the fake stops"

tap_done
