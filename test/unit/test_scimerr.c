/*
 * test_scimerr.c - HTTP status and SCIM error body -> outcome and message
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "log.h"
#include "scimerr.h"
#include "tap.h"

static int
set(struct err *e, const char *method, const char *path, long status,
    const char *body)
{
	return scimerr_set(e, method, path, status, body,
	    body != NULL ? strlen(body) : 0);
}

static void
outcome_should_follow_the_status_class(void)
{
	static const struct {
		long status;
		int want;
	} t[] = {
		{ 200, L2S_OK }, { 201, L2S_OK }, { 204, L2S_OK },
		{ 299, L2S_OK },
		{ 301, L2S_ESCIM }, { 302, L2S_ESCIM }, { 304, L2S_ESCIM },
		{ 307, L2S_ESCIM },
		{ 400, L2S_ESCIM }, { 405, L2S_ESCIM }, { 412, L2S_ESCIM },
		{ 413, L2S_ESCIM }, { 415, L2S_ESCIM }, { 422, L2S_ESCIM },
		{ 401, L2S_EAUTH }, { 403, L2S_EAUTH },
		{ 404, L2S_ENOTFOUND },
		{ 409, L2S_ECONFLICT },
		{ 429, L2S_ETEMP }, { 500, L2S_ETEMP }, { 502, L2S_ETEMP },
		{ 503, L2S_ETEMP }, { 504, L2S_ETEMP }, { 599, L2S_ETEMP },
		{ 0, L2S_ESCIM }, { 100, L2S_ESCIM }, { 600, L2S_ESCIM },
	};
	size_t i;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		is_int(scimerr_outcome(t[i].status), t[i].want,
		    "status %ld should give outcome %s", t[i].status,
		    err_name(t[i].want));
}

static void
set_should_return_the_outcome_and_fill_code(void)
{
	struct err e = ERR_INIT;

	is_int(set(&e, "GET", "/Users/x", 404, NULL), L2S_ENOTFOUND,
	    "set should return the outcome of the status");
	is_int(e.code, L2S_ENOTFOUND, "set should store the outcome in err");
	is_int(set(NULL, "GET", "/Users/x", 503, "down"), L2S_ETEMP,
	    "set should accept a NULL err");
}

static void
message_should_carry_scim_type_and_detail(void)
{
	struct err e = ERR_INIT;

	set(&e, "POST", "/Users", 409,
	    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],"
	    "\"status\":\"409\",\"scimType\":\"uniqueness\","
	    "\"detail\":\"userName 'bob' already exists\"}");
	is_str(e.msg, "POST /Users: 409 Conflict: uniqueness: userName 'bob' "
	    "already exists", "message should be METHOD PATH: STATUS REASON: "
	    "scimType: detail");

	set(&e, "POST", "/Users", 400,
	    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],"
	    "\"status\":400,\"scimType\":\"invalidValue\","
	    "\"detail\":\"userName is required\"}");
	is_str(e.msg, "POST /Users: 400 Bad Request: invalidValue: userName "
	    "is required", "a numeric status in the body should not matter");

	set(&e, "GET", "/Users/42", 404,
	    "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:Error\"],"
	    "\"status\":\"404\",\"detail\":\"Resource 42 not found\"}");
	is_str(e.msg, "GET /Users/42: 404 Not Found: Resource 42 not found",
	    "a SCIM error without scimType should show the detail only");

	set(&e, "GET", "/Users?filter=userName eq \"a\"", 400,
	    "{\"scimType\":\"invalidFilter\"}");
	is_str(e.msg, "GET /Users?filter=userName eq \"a\": 400 Bad Request: "
	    "invalidFilter", "a SCIM error without detail should show "
	    "scimType only, and the filter should stay readable");

	set(&e, "PATCH", "/Groups/g", 400,
	    "{\"scimType\":\"invalidPath\",\"detail\":\"bad\\npath\\t here\"}");
	is_str(e.msg, "PATCH /Groups/g: 400 Bad Request: invalidPath: bad path "
	    "here", "control characters in the detail should be replaced");

	set(&e, "GET", "/Users", 499, "{\"detail\":\"odd\"}");
	is_str(e.msg, "GET /Users: 499: odd",
	    "an unknown status should print without a reason phrase");
}

static void
message_should_quote_a_body_that_is_not_a_scim_error(void)
{
	struct err e = ERR_INIT;
	char body[600], want[300];
	int rc;

	rc = set(&e, "GET", "/ServiceProviderConfig", 502,
	    "<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n"
	    "<body>\x01\x1b[1mnginx</body>\n</html>\n");
	is_int(rc, L2S_ETEMP, "502 should be temporary");
	is_str(e.msg, "GET /ServiceProviderConfig: 502 Bad Gateway: <html> "
	    "<head><title>502 Bad Gateway</title></head> <body> [1mnginx</body> "
	    "</html>", "a non-JSON body should be quoted with control "
	    "characters replaced");

	memset(body, 'x', sizeof(body) - 1);
	body[sizeof(body) - 1] = '\0';
	set(&e, "POST", "/Users", 500, body);
	memset(want, 'x', SCIMERR_SNIPPET_MAX);
	want[SCIMERR_SNIPPET_MAX] = '\0';
	strcat(want, "...");
	like(e.msg, want, "a long body should be cut at 200 characters");
	ok(strstr(e.msg, "x....") == NULL && strlen(e.msg) ==
	    strlen("POST /Users: 500 Internal Server Error: ") +
	    SCIMERR_SNIPPET_MAX + 3,
	    "no more than 200 characters of the body should be quoted");

	memset(body, 'y', 199);
	strcpy(body + 199, "\xc3\xa9zzz");
	set(&e, "POST", "/Users", 500, body);
	ok(strstr(e.msg, "y\xc3\xa9...") != NULL,
	    "a UTF-8 character at the cut should be kept whole");

	set(&e, "POST", "/Users", 500, "{\"message\":\"internal\"}");
	is_str(e.msg, "POST /Users: 500 Internal Server Error: "
	    "{\"message\":\"internal\"}",
	    "JSON that is not a SCIM error should be quoted as text");

	rc = scimerr_set(&e, "GET", "/Users", 400, "bad\0body", 8);
	is_int(rc, L2S_ESCIM, "400 should be a SCIM refusal");
	is_str(e.msg, "GET /Users: 400 Bad Request: bad body",
	    "a NUL byte in the body should be replaced");
}

static void
message_should_handle_an_empty_body(void)
{
	struct err e = ERR_INIT;

	set(&e, "DELETE", "/Users/1", 503, "");
	is_str(e.msg, "DELETE /Users/1: 503 Service Unavailable",
	    "an empty body should leave the status line alone");
	set(&e, "DELETE", "/Users/1", 503, NULL);
	is_str(e.msg, "DELETE /Users/1: 503 Service Unavailable",
	    "a NULL body should leave the status line alone");
	set(&e, "GET", "/Users", 429, " \r\n\t ");
	is_str(e.msg, "GET /Users: 429 Too Many Requests",
	    "a blank body should leave the status line alone");
	set(&e, "GET", "/x", 302, "");
	is_str(e.msg, "GET /x: 302 Found", "a redirect should name its status");
}

static void
message_should_never_carry_the_token(void)
{
	struct err e = ERR_INIT;
	const char *token = "tok-3f9a2b7c1d";

	set(&e, "GET", "/Users", 401,
	    "request was: Authorization: Bearer someone-elses.token/x==");
	is_str(e.msg, "GET /Users: 401 Unauthorized: request was: "
	    "Authorization: Bearer ***", "an echoed bearer credential "
	    "should be masked even when not registered");

	log_secret(token);
	set(&e, "GET", "/Users", 401,
	    "{\"detail\":\"token tok-3f9a2b7c1d is not valid\"}");
	ok(strstr(e.msg, token) == NULL, "a registered token in the detail "
	    "should not appear in the message");
	like(e.msg, "token *** is not valid",
	    "the registered token should be masked as ***");

	set(&e, "POST", "/Users", 400,
	    "<pre>authorization: bearer tok-3f9a2b7c1d\ncontent-type: x</pre>");
	ok(strstr(e.msg, token) == NULL,
	    "a token echoed in a non-JSON body should not appear");
	like(e.msg, "authorization: bearer ***",
	    "the echoed authorization header should be masked in any case");
	log_forget_secrets();
}

static void
json_parse_should_bound_the_nesting(void)
{
	char deep[200];
	const char *why = NULL;
	cJSON *j = NULL;
	int i, rc;

	for (i = 0; i < SCIMERR_JSON_DEPTH; i++)
		deep[i] = '[';
	for (i = 0; i < SCIMERR_JSON_DEPTH; i++)
		deep[SCIMERR_JSON_DEPTH + i] = ']';
	deep[2 * SCIMERR_JSON_DEPTH] = '\0';
	rc = scimerr_json_parse(&j, deep, strlen(deep), &why);
	is_int(rc, L2S_OK, "64 levels of nesting should parse");
	ok(j != NULL && why == NULL, "the parsed tree should be returned");
	cJSON_Delete(j);

	memmove(deep + 1, deep, strlen(deep) + 1);
	deep[0] = '[';
	strcat(deep, "]");
	rc = scimerr_json_parse(&j, deep, strlen(deep), &why);
	is_int(rc, L2S_EPARSE, "65 levels of nesting should be refused");
	ok(j == NULL, "nothing should be returned for a refused body");
	is_str(why, "the body is nested deeper than 64 levels",
	    "the reason should name the nesting bound");

	ok(scimerr_json_depth_ok("{\"a\":\"[[[[[[\"}", 14, 2),
	    "brackets inside strings should not count as nesting");
	ok(scimerr_json_depth_ok("[\"\\\"[[[\"]", 10, 1),
	    "an escaped quote should not end a string");
	ok(!scimerr_json_depth_ok("[{\"a\":[1]}]", 11, 2),
	    "three levels should exceed a bound of two");

	rc = scimerr_json_parse(&j, "<html>", 6, &why);
	is_int(rc, L2S_EPARSE, "HTML should not parse as JSON");
	is_str(why, "the body is not JSON", "the reason should say not JSON");
	rc = scimerr_json_parse(&j, "{} x", 4, &why);
	is_int(rc, L2S_EPARSE, "trailing garbage should make a body not JSON");
	rc = scimerr_json_parse(&j, "", 0, &why);
	is_int(rc, L2S_EPARSE, "an empty body should not be JSON");
	rc = scimerr_json_parse(&j, "{\"id\":\"1\"}\r\n", 12, &why);
	is_int(rc, L2S_OK, "trailing blank lines should be accepted");
	is_str(cJSON_GetStringValue(cJSON_GetObjectItem(j, "id")), "1",
	    "the body should be parsed without a terminating NUL");
	cJSON_Delete(j);
	rc = scimerr_json_parse(&j, "{\"id\":\"1\"}garbage", 10, &why);
	is_int(rc, L2S_OK, "only len bytes of the body should be read");
	cJSON_Delete(j);
}

int
main(void)
{
	outcome_should_follow_the_status_class();
	set_should_return_the_outcome_and_fill_code();
	message_should_carry_scim_type_and_detail();
	message_should_quote_a_body_that_is_not_a_scim_error();
	message_should_handle_an_empty_body();
	message_should_never_carry_the_token();
	json_parse_should_bound_the_nesting();
	return tap_done();
}
