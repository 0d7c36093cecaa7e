/*
 * scim_client_probe.c - http.c and scim.c against a real SCIM server (TAP)
 *
 * Run by test/integration/scim_client_test.sh, which starts the servers and
 * passes them in the environment:
 *   SCIM_URL, SCIM_TOKEN_FILE   the test SCIM server (scimmy)
 *   PROBE_CLOSED_PORT           a loopback port nobody listens on
 *   PROBE_TLS_URL, PROBE_TLS_CA an "openssl s_server -WWW" over a test CA,
 *                               serving Users/notjson and big.txt (optional)
 *   PROBE_EDGE_URL              a bare HTTP responder: /echo* returns the
 *                               request as JSON, /redirect* a 302, /throttle*
 *                               a 429 with Retry-After (optional)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "buf.h"
#include "http.h"
#include "log.h"
#include "scim.h"
#include "tap.h"

#define USER_SCHEMA "urn:ietf:params:scim:schemas:core:2.0:User"
#define NBULK 250

static char token[512];
static struct buf loglines = BUF_INIT;

static void
sink(enum log_level lvl, const char *line, void *arg)
{
	(void)lvl;
	(void)arg;
	buf_puts(&loglines, line);
	buf_putc(&loglines, '\n');
}

static int
read_token(const char *path)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (f == NULL)
		return -1;
	n = fread(token, 1, sizeof(token) - 1, f);
	fclose(f);
	token[n] = '\0';
	if (n > 0 && token[n - 1] == '\n')
		token[n - 1] = '\0';
	return token[0] != '\0' ? 0 : -1;
}

static cJSON *
user(const char *name, const char *title)
{
	cJSON *u = cJSON_CreateObject(), *s, *n;

	s = cJSON_AddArrayToObject(u, "schemas");
	cJSON_AddItemToArray(s, cJSON_CreateString(USER_SCHEMA));
	cJSON_AddStringToObject(u, "userName", name);
	cJSON_AddStringToObject(u, "externalId", name);
	cJSON_AddStringToObject(u, "displayName", name);
	n = cJSON_AddObjectToObject(u, "name");
	cJSON_AddStringToObject(n, "givenName", "Probe");
	cJSON_AddStringToObject(n, "familyName", name);
	if (title != NULL)
		cJSON_AddStringToObject(u, "title", title);
	cJSON_AddTrueToObject(u, "active");
	return u;
}

static const char *
str(const cJSON *o, const char *key)
{
	return cJSON_GetStringValue(cJSON_GetObjectItem(o, key));
}

static struct config_scim
scim_cfg(const char *url)
{
	struct config_scim c;

	memset(&c, 0, sizeof(c));
	c.url = (char *)url;
	c.timeout = 10;
	c.tls_verify = 1;
	c.concurrency = 1;
	c.member_batch = 100;
	return c;
}

static void
open_should_refuse_plain_http_to_other_hosts(void)
{
	static const struct {
		const char *url;
		int want;
	} t[] = {
		{ "http://127.0.0.1:1/scim/v2", L2S_OK },
		{ "http://127.9.8.7:1/scim/v2", L2S_OK },
		{ "http://localhost:1/scim/v2", L2S_OK },
		{ "http://LOCALHOST/scim/v2", L2S_OK },
		{ "http://[::1]:1/scim/v2", L2S_OK },
		{ "https://scim.example.com/scim/v2", L2S_OK },
		{ "http://scim.example.com/scim/v2", L2S_EPARSE },
		{ "http://10.0.0.1/scim/v2", L2S_EPARSE },
		{ "http://127.0.0.1.nip.io/scim/v2", L2S_EPARSE },
		{ "http://[::2]/scim/v2", L2S_EPARSE },
		{ "ftp://127.0.0.1/scim/v2", L2S_EPARSE },
		{ "https://scim.example.com/scim/v2?x=1", L2S_EPARSE },
		{ "not a url", L2S_EPARSE },
	};
	struct config_scim c;
	struct err e = ERR_INIT;
	struct http *h;
	size_t i;
	int rc;

	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		c = scim_cfg(t[i].url);
		rc = http_open(&h, &c, "dummy-token-0123456789", &e);
		is_int(rc, t[i].want, "open '%s' should give %s", t[i].url,
		    err_name(t[i].want));
		ok((rc == L2S_OK) == (h != NULL),
		    "open '%s' should return a handle only on success",
		    t[i].url);
		http_close(h);
	}
	c = scim_cfg("http://scim.example.com/scim/v2");
	http_open(&h, &c, "dummy-token-0123456789", &e);
	is_str(e.msg, "refusing to send the SCIM token over plain http to "
	    "'scim.example.com': use https or set scim.allow_insecure_http",
	    "the refusal should say why and how to allow it");
	c.allow_insecure_http = 1;
	rc = http_open(&h, &c, "dummy-token-0123456789", &e);
	is_int(rc, L2S_OK, "allow_insecure_http should allow plain http");
	http_close(h);

	c = scim_cfg("https://scim.example.com/scim/v2");
	rc = http_open(&h, &c, "bad\ntoken", &e);
	is_int(rc, L2S_EAUTH, "a token with a line break should be refused");
	ok(strstr(e.msg, "bad") == NULL, "the refusal should not quote it");
	rc = http_open(&h, &c, "", &e);
	is_int(rc, L2S_EAUTH, "an empty token should be refused");
}

static void
closed_port_should_be_temporary(const char *port)
{
	struct config_scim c;
	struct err e = ERR_INIT;
	struct http *h = NULL;
	struct scim *s = NULL;
	char url[128], want[256];
	int rc;

	snprintf(url, sizeof(url), "http://127.0.0.1:%s/scim/v2", port);
	c = scim_cfg(url);
	rc = http_open(&h, &c, token, &e);
	is_int(rc, L2S_OK, "open a URL on a closed port");
	if (rc != L2S_OK)
		return;
	scim_open(&s, h, &e);
	scim_set_retry(s, 0, 1);	/* one request each: retries are tested apart */
	rc = scim_discover(s, &e);
	is_int(rc, L2S_ETEMP, "a refused connection should be temporary");
	snprintf(want, sizeof(want), "GET %s/ServiceProviderConfig: ", url);
	ok(strncmp(e.msg, want, strlen(want)) == 0,
	    "the message should name the method and URL: %s", e.msg);
	ok(strstr(e.msg, token) == NULL, "nor the token");
	scim_close(s);
	http_close(h);
}

static void
tls_should_verify_the_server(const char *url, const char *ca)
{
	struct config_scim c;
	struct err e = ERR_INIT;
	struct http *h = NULL;
	struct http_response r = HTTP_RESPONSE_INIT;
	struct scim *s = NULL;
	cJSON *j = NULL;
	int rc;

	c = scim_cfg(url);
	http_open(&h, &c, token, &e);
	rc = http_request(h, "GET", "/small.txt", NULL, &r, &e);
	is_int(rc, L2S_ETEMP, "a server certificate from an unknown CA "
	    "should fail as temporary");
	like(e.msg, "certificate", "the message should say it is a "
	    "certificate problem: %s", e.msg);
	http_response_free(&r);
	http_close(h);

	c.tls_verify = 0;
	http_open(&h, &c, token, &e);
	rc = http_request(h, "GET", "/small.txt", NULL, &r, &e);
	is_int(rc, L2S_OK, "tls_verify 0 should accept any certificate");
	http_response_free(&r);
	http_close(h);

	c.tls_verify = 1;
	c.tls_ca_file = (char *)ca;
	http_open(&h, &c, token, &e);
	rc = http_request(h, "GET", "/small.txt", NULL, &r, &e);
	is_int(rc, L2S_OK, "tls_ca_file should make the certificate trusted");
	is_int(r.status, 200, "the file should be served");
	is_str(r.body, "small\n", "the body should arrive whole");
	http_response_free(&r);

	rc = http_request(h, "GET", "/big.txt", NULL, &r, &e);
	is_int(rc, L2S_EIO, "a body over HTTP_BODY_MAX should be an error");
	like(e.msg, "GET ", "the message should name the method");
	like(e.msg, "/big.txt: response body larger than 8388608 bytes",
	    "the message should name the URL and the bound");
	http_response_free(&r);

	scim_open(&s, h, &e);
	scim_set_retry(s, 0, 1);	/* one request each: retries are tested apart */
	rc = scim_get(s, "Users", "notjson", &j, &e);
	is_int(rc, L2S_EPARSE, "a 200 that is not JSON should be a parse error");
	is_str(e.msg, "GET /Users/notjson: 200 OK but the body is not JSON",
	    "the message should say the body is not JSON");
	ok(j == NULL, "no object should be returned");
	rc = scim_get(s, "Users", "deep", &j, &e);
	is_int(rc, L2S_EPARSE, "JSON nested too deep should be refused");
	is_str(e.msg, "GET /Users/deep: 200 OK but the body is nested deeper "
	    "than 64 levels", "the message should name the nesting bound");
	scim_close(s);
	http_close(h);
}

/* What the echo responder saw: the parsed JSON (caller deletes) or NULL. */
static cJSON *
echo(struct http *h, const char *method, const char *path, const char *body)
{
	struct http_response r = HTTP_RESPONSE_INIT;
	struct err e = ERR_INIT;
	cJSON *j = NULL;

	if (http_request(h, method, path, body, &r, &e) == L2S_OK &&
	    r.status == 200)
		j = cJSON_ParseWithLength(r.body, r.len);
	http_response_free(&r);
	return j;
}

static const char *
hdr(const cJSON *j, const char *name)
{
	return str(cJSON_GetObjectItem(j, "headers"), name);
}

static void
requests_should_carry_the_contract(const char *url)
{
	struct config_scim c;
	struct err e = ERR_INIT;
	struct http *h = NULL;
	struct http_response r = HTTP_RESPONSE_INIT;
	struct scim *s = NULL;
	cJSON *a = NULL, *b = NULL, *j = NULL;
	char auth[600], *big = NULL;
	size_t bigsz = 2u * 1024 * 1024;
	int rc;

	c = scim_cfg(url);
	rc = http_open(&h, &c, token, &e);
	is_int(rc, L2S_OK, "open the echo responder");
	if (rc != L2S_OK)
		return;
	scim_open(&s, h, &e);
	scim_set_retry(s, 0, 1);	/* one request each: retries are tested apart */

	a = echo(h, "GET", "/echo/a", NULL);
	ok(a != NULL, "a GET should be echoed");
	is_str(hdr(a, "content-type"), "application/scim+json",
	    "every request should say Content-Type: application/scim+json");
	is_str(hdr(a, "accept"), "application/scim+json, application/json",
	    "and accept SCIM or plain JSON");
	snprintf(auth, sizeof(auth), "Bearer %s", token);
	ok(hdr(a, "authorization") != NULL &&
	    strcmp(hdr(a, "authorization"), auth) == 0,
	    "and carry the bearer token");
	ok(hdr(a, "user-agent") != NULL &&
	    strncmp(hdr(a, "user-agent"), "ldap2scim/", 10) == 0,
	    "and name ldap2scim as the user agent: %s",
	    hdr(a, "user-agent") ? hdr(a, "user-agent") : "(none)");
	is_str(str(a, "method"), "GET", "the method should be GET");

	b = echo(h, "POST", "/echo/b", "{\"x\":1}");
	is_str(str(b, "method"), "POST", "a POST should be sent as POST");
	is_str(str(b, "body"), "{\"x\":1}", "with its body");
	ok(cJSON_GetNumberValue(cJSON_GetObjectItem(a, "port")) ==
	    cJSON_GetNumberValue(cJSON_GetObjectItem(b, "port")),
	    "the connection should be kept alive between requests");
	cJSON_Delete(a);
	cJSON_Delete(b);

	a = echo(h, "GET", "/echo/c", NULL);
	is_str(str(a, "method"), "GET", "a GET after a POST should be a GET");
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(a, "length")), 0,
	    "and carry no body");
	cJSON_Delete(a);
	a = echo(h, "PATCH", "/echo/d", "[1]");
	is_str(str(a, "method"), "PATCH", "a PATCH should be sent as PATCH");
	is_str(str(a, "body"), "[1]", "with its body");
	cJSON_Delete(a);
	a = echo(h, "DELETE", "/echo/e", NULL);
	is_str(str(a, "method"), "DELETE", "a DELETE should be sent as DELETE");
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(a, "length")), 0,
	    "without a body");
	cJSON_Delete(a);
	a = echo(h, "PUT", "/echo/f", "{}");
	is_str(str(a, "method"), "PUT", "a PUT should be sent as PUT");
	cJSON_Delete(a);

	big = malloc(bigsz + 1);
	memset(big, 'b', bigsz);
	big[bigsz] = '\0';
	a = echo(h, "POST", "/echo/big", big);
	is_int(cJSON_GetNumberValue(cJSON_GetObjectItem(a, "length")), bigsz,
	    "a 2 MB body should arrive whole");
	ok(a != NULL && hdr(a, "expect") == NULL,
	    "without an Expect: 100-continue round trip");
	cJSON_Delete(a);
	free(big);

	rc = http_request(h, "GET", "/redirect/x", NULL, &r, &e);
	is_int(rc, L2S_OK, "a redirect should be a complete response");
	is_int(r.status, 302, "and not be followed");
	is_str(r.location, "https://elsewhere.example/scim/v2",
	    "Location should be captured whatever its case, trimmed");
	http_response_free(&r);
	rc = scim_get(s, "redirect", "x", &j, &e);
	is_int(rc, L2S_ESCIM, "a redirect should be a SCIM refusal");
	is_str(e.msg, "GET /redirect/x: 302 Found: moved (redirected to "
	    "'https://elsewhere.example/scim/v2': check scim.url)",
	    "the message should say where it pointed");

	rc = http_request(h, "GET", "/throttle/x", NULL, &r, &e);
	is_int(r.status, 429, "a 429 should be returned as a status");
	is_str(r.retry_after, "7", "Retry-After should be captured, trimmed");
	ok(r.location == NULL, "headers of an earlier response should not "
	    "leak into a later one");
	http_response_free(&r);
	rc = scim_delete(s, "throttle", "x", &e);
	is_int(rc, L2S_ETEMP, "a 429 should be temporary");
	is_str(e.msg, "DELETE /throttle/x: 429 Too Many Requests: slow down",
	    "the message should quote the plain-text body");

	a = user("probe.edge", NULL);
	rc = scim_create(s, "nojson", a, &big, &e);
	is_int(rc, L2S_EPARSE, "a 201 that is not JSON should be an error");
	is_str(e.msg, "POST /nojson: 201 Created but the body is not JSON",
	    "the message should say the body is not JSON");
	rc = scim_create(s, "noid", a, &big, &e);
	is_int(rc, L2S_EPARSE, "a 201 without an id should be an error");
	is_str(e.msg, "POST /noid: 201 Created but the response has no \"id\"",
	    "the message should say the id is missing");
	ok(big == NULL, "no id should be returned");
	cJSON_Delete(a);

	{
		unsigned long before = http_requests(h);

		rc = scim_list(s, "pages", NULL, &j, &e);
		is_int(rc, L2S_OK, "list pages shorter than asked: %s", e.msg);
		is_int(cJSON_GetArraySize(j), 5, "every resource should be "
		    "collected despite a lying itemsPerPage");
		is_str(str(cJSON_GetArrayItem(j, 4), "id"), "r5",
		    "in order, without repeats");
		is_int(http_requests(h) - before, 3,
		    "paging should stop at totalResults");
		cJSON_Delete(j);
		j = NULL;
		before = http_requests(h);
		rc = scim_list(s, "short", "id pr", &j, &e);
		is_int(rc, L2S_OK, "a list that ends before totalResults");
		is_int(cJSON_GetArraySize(j), 3, "should return what it had");
		is_int(http_requests(h) - before, 2,
		    "and stop at the first empty page");
		cJSON_Delete(j);
		j = NULL;
	}

	rc = http_request(h, "GET", "echo", NULL, &r, &e);
	is_int(rc, L2S_EPARSE, "a path without a leading '/' should be refused");
	http_response_free(&r);
	scim_close(s);
	http_close(h);
}

int
main(void)
{
	const char *url = getenv("SCIM_URL"), *tf = getenv("SCIM_TOKEN_FILE");
	const char *closed = getenv("PROBE_CLOSED_PORT");
	const char *tls_url = getenv("PROBE_TLS_URL");
	const char *tls_ca = getenv("PROBE_TLS_CA");
	const char *edge = getenv("PROBE_EDGE_URL");
	struct config_scim c;
	struct err e = ERR_INIT;
	struct http *h = NULL;
	struct http_response r = HTTP_RESPONSE_INIT;
	struct scim *s = NULL;
	cJSON *body = NULL, *got = NULL, *list = NULL, *ops = NULL, *op, *it;
	char *id = NULL, *id2 = NULL, name[64], *esc;
	unsigned long before;
	int rc, i, n, distinct;

	if (url == NULL || tf == NULL || read_token(tf) != 0) {
		printf("1..0 # SKIP SCIM_URL and SCIM_TOKEN_FILE not set\n");
		return 0;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	log_init(LOG_LVL_DEBUG, LOG_FMT_TEXT);
	log_set_sink(sink, NULL);

	open_should_refuse_plain_http_to_other_hosts();

	c = scim_cfg(url);
	rc = http_open(&h, &c, token, &e);
	is_int(rc, L2S_OK, "open the SCIM URL");
	if (rc != L2S_OK)
		goto done;
	scim_open(&s, h, &e);
	scim_set_retry(s, 0, 1);	/* one request each: retries are tested apart */

	/* discover */
	rc = scim_discover(s, &e);
	is_int(rc, L2S_OK, "discover should succeed: %s", e.msg);
	is_int(scim_caps(s)->patch, 1, "the server should support PATCH");
	is_int(scim_caps(s)->filter, 1, "the server should support filters");
	is_int(scim_caps(s)->max_results, 200,
	    "filter.maxResults should be read");
	like(buf_str(&loglines), "GET /ServiceProviderConfig -> 200 (",
	    "each request should be logged at debug level");
	like(buf_str(&loglines), " bytes, ", "with its size and time");

	/* the transport by itself */
	rc = http_request(h, "GET", "/Users/does-not-exist", NULL, &r, &e);
	is_int(rc, L2S_OK, "a 404 should still be a complete response");
	is_int(r.status, 404, "its status should be returned");
	ok(r.body != NULL && r.len == strlen(r.body) && r.len > 0,
	    "its body should be returned with its length");
	http_response_free(&r);

	/* create */
	body = user("probe.alice", NULL);
	rc = scim_create(s, "Users", body, &id, &e);
	is_int(rc, L2S_OK, "create a user: %s", e.msg);
	ok(id != NULL && id[0] != '\0', "the new user should have an id");
	if (id == NULL)
		goto done;

	rc = scim_create(s, "Users", body, &id2, &e);
	is_int(rc, L2S_ECONFLICT, "creating the same userName should conflict");
	like(e.msg, "POST /Users: 409 Conflict: uniqueness: ",
	    "the conflict should carry the SCIM error");
	ok(id2 == NULL, "no id should be returned on a conflict");
	cJSON_Delete(body);
	body = NULL;

	/* list with a filter (escaped for the URL, readable in messages) */
	rc = scim_list(s, "Users", "userName eq \"probe.alice\"", &list, &e);
	is_int(rc, L2S_OK, "list with a filter: %s", e.msg);
	is_int(cJSON_GetArraySize(list), 1, "the filter should find one user");
	is_str(str(cJSON_GetArrayItem(list, 0), "id"), id,
	    "it should be the user created");
	cJSON_Delete(list);
	list = NULL;
	rc = scim_list(s, "Users", "userName eq \"nobody\"", &list, &e);
	is_int(rc, L2S_OK, "list with a filter matching nothing");
	is_int(cJSON_GetArraySize(list), 0, "should give an empty array");
	cJSON_Delete(list);
	list = NULL;
	rc = scim_list(s, "Users", "userName zz \"a\"", &list, &e);
	is_int(rc, L2S_ESCIM, "an invalid filter should be refused");
	is_str(e.msg, "GET /Users?filter=userName zz \"a\"&startIndex=1&"
	    "count=100: 400 Bad Request: invalidFilter: Unexpected token "
	    "'zz \"a\"' in filter", "the message should show the "
	    "filter unescaped: %s", e.msg);
	ok(list == NULL, "nothing should be returned on failure");

	/* paging: more users than one page holds */
	for (i = 0; i < NBULK; i++) {
		snprintf(name, sizeof(name), "probe.bulk%03d", i);
		body = user(name, NULL);
		rc = scim_create(s, "Users", body, &id2, &e);
		cJSON_Delete(body);
		body = NULL;
		free(id2);
		id2 = NULL;
		if (rc != L2S_OK)
			break;
	}
	is_int(rc, L2S_OK, "create %d users: %s", NBULK, e.msg);
	before = http_requests(h);
	rc = scim_list(s, "Users", "userName sw \"probe.bulk\"", &list, &e);
	is_int(rc, L2S_OK, "list over several pages: %s", e.msg);
	is_int(cJSON_GetArraySize(list), NBULK, "every page should be joined");
	is_int(http_requests(h) - before, 3,
	    "250 resources at 100 per page should take 3 requests");
	distinct = 1;
	n = 0;
	cJSON_ArrayForEach(it, list) {
		snprintf(name, sizeof(name), "probe.bulk%03d", n++);
		if (str(it, "userName") == NULL ||
		    strcmp(str(it, "userName"), name) != 0)
			distinct = 0;
	}
	ok(distinct, "each user should be listed once, in order");
	cJSON_Delete(list);
	list = NULL;
	rc = scim_list(s, "Users", NULL, &list, &e);
	is_int(rc, L2S_OK, "list without a filter");
	is_int(cJSON_GetArraySize(list), NBULK + 1,
	    "should return every user");
	cJSON_Delete(list);
	list = NULL;

	/* patch */
	ops = cJSON_CreateArray();
	op = cJSON_CreateObject();
	cJSON_AddStringToObject(op, "op", "replace");
	cJSON_AddStringToObject(op, "path", "displayName");
	cJSON_AddStringToObject(op, "value", "Alice Patched");
	cJSON_AddItemToArray(ops, op);
	rc = scim_patch(s, "Users", id, ops, &e);
	is_int(rc, L2S_OK, "patch a user: %s", e.msg);
	ok(cJSON_GetArraySize(ops) == 1 && cJSON_GetArrayItem(ops, 0) == op,
	    "the caller's operations should be left alone");
	rc = scim_get(s, "Users", id, &got, &e);
	is_int(rc, L2S_OK, "get the user: %s", e.msg);
	is_str(str(got, "displayName"), "Alice Patched",
	    "the patch should have been applied");
	is_str(str(got, "userName"), "probe.alice", "and nothing else changed");
	cJSON_Delete(got);
	got = NULL;
	cJSON_DeleteItemFromObject(op, "path");
	cJSON_AddStringToObject(op, "path", "nosuchattribute");
	rc = scim_patch(s, "Users", id, ops, &e);
	is_int(rc, L2S_ESCIM, "a patch of an unknown attribute should be "
	    "refused");
	ok(strncmp(e.msg, "PATCH /Users/", 13) == 0 &&
	    strstr(e.msg, ": 400 Bad Request: ") != NULL,
	    "the message should be PATCH PATH: 400 Bad Request: ...: %s",
	    e.msg);

	/* put */
	body = user("probe.alice", "Engineer");
	rc = scim_replace(s, "Users", id, body, &e);
	is_int(rc, L2S_OK, "replace a user: %s", e.msg);
	cJSON_Delete(body);
	body = NULL;
	rc = scim_get(s, "Users", id, &got, &e);
	is_int(rc, L2S_OK, "get the user again");
	is_str(str(got, "title"), "Engineer", "the replacement should show");
	is_str(str(got, "displayName"), "probe.alice",
	    "the patched displayName should be replaced too");
	cJSON_Delete(got);
	got = NULL;

	/* delete */
	rc = scim_delete(s, "Users", id, &e);
	is_int(rc, L2S_OK, "delete the user: %s", e.msg);
	rc = scim_get(s, "Users", id, &got, &e);
	is_int(rc, L2S_ENOTFOUND, "a deleted user should not be found");
	like(e.msg, ": 404 Not Found: ", "the message should carry the 404");
	ok(strncmp(e.msg, "GET /Users/", 11) == 0,
	    "and name the path relative to the base URL: %s", e.msg);
	rc = scim_delete(s, "Users", id, &e);
	is_int(rc, L2S_OK, "deleting it again should count as done");

	/* an id that needs escaping stays one path segment */
	rc = scim_get(s, "Users", "a/../b c", &got, &e);
	is_int(rc, L2S_ENOTFOUND, "an odd id should be escaped, not followed");
	like(e.msg, "GET /Users/a%2F..%2Fb%20c: 404",
	    "the escaped id should show in the message");
	esc = http_escape(h, "userName eq \"x\"");
	is_str(esc, "userName%20eq%20%22x%22",
	    "http_escape should percent-encode a filter");
	free(esc);

	/* wrong token */
	rc = http_set_token(h, "not-the-token", &e);
	is_int(rc, L2S_OK, "set another token");
	rc = scim_discover(s, &e);
	is_int(rc, L2S_EAUTH, "a wrong token should be refused as auth");
	is_str(e.msg, "GET /ServiceProviderConfig: 401 Unauthorized: the SCIM "
	    "service refused the token", "the message should say so");
	body = user("probe.bob", NULL);
	rc = scim_create(s, "Users", body, &id2, &e);
	is_int(rc, L2S_EAUTH, "a create with a wrong token should be refused");
	like(e.msg, "POST /Users: 401 Unauthorized",
	    "the message should carry the 401");
	ok(strstr(e.msg, "not-the-token") == NULL,
	    "the message should not carry the token");
	rc = http_set_token(h, token, &e);
	is_int(rc, L2S_OK, "restore the token");
	rc = scim_create(s, "Users", body, &id2, &e);
	is_int(rc, L2S_OK, "the restored token should work again");
	cJSON_Delete(body);
	body = NULL;
	if (id2 != NULL)
		scim_delete(s, "Users", id2, &e);

	ok(strstr(buf_str(&loglines), token) == NULL &&
	    strstr(buf_str(&loglines), "not-the-token") == NULL,
	    "no log line should carry a token");

	if (closed != NULL)
		closed_port_should_be_temporary(closed);
	else
		ok(1, "# SKIP PROBE_CLOSED_PORT not set");
	if (edge != NULL)
		requests_should_carry_the_contract(edge);
	else
		ok(1, "# SKIP PROBE_EDGE_URL not set");
	if (tls_url != NULL && tls_ca != NULL)
		tls_should_verify_the_server(tls_url, tls_ca);
	else
		ok(1, "# SKIP PROBE_TLS_URL not set");

done:
	cJSON_Delete(ops);
	cJSON_Delete(body);
	cJSON_Delete(got);
	cJSON_Delete(list);
	free(id);
	free(id2);
	scim_close(s);
	http_close(h);
	log_set_sink(NULL, NULL);
	log_forget_secrets();
	buf_free(&loglines);
	curl_global_cleanup();
	return tap_done();
}
