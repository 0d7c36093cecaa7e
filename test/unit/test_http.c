/*
 * test_http.c - the batch transport (http_request_many) and the rate limit,
 * against a loopback port where nothing listens: every request fails at
 * once, so the tests time only what the agent itself waits.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "http.h"
#include "platform.h"
#include "tap.h"

static char url[64];

/* A loopback port that nothing listens on (bound, then closed). */
static int
closed_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port = 1;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&sa, &len) == 0)
		port = ntohs(sa.sin_port);
	if (fd >= 0)
		close(fd);
	return port;
}

static struct config_scim
cfg_of(int concurrency, int rate)
{
	struct config_scim c;

	memset(&c, 0, sizeof(c));
	c.url = url;
	c.timeout = 5;
	c.tls_verify = 1;
	c.concurrency = concurrency;
	c.rate_limit = rate;
	c.member_batch = 100;
	return c;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
batch_free(struct http_req *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		http_response_free(&r[i].resp);
}

/* A batch longer than the slots: when every running request ended at once,
 * the next ones start at once too, not after a poll timeout (it waited
 * 100 ms with no socket to wait on, once per slotful). */
static void
batch_should_not_stall_between_slotfuls(void)
{
	struct config_scim c = cfg_of(2, 0);
	struct http_req r[40];
	struct http *h = NULL;
	struct err e = ERR_INIT;
	double t0, took;
	size_t i;

	memset(r, 0, sizeof(r));
	for (i = 0; i < 40; i++) {
		r[i].method = "POST";
		r[i].path = "/Users";
		r[i].body = "{}";
	}
	is_int(http_open(&h, &c, "dummy-token-0123456789", &e), L2S_OK,
	    "a handle with 2 slots opens");
	t0 = now();
	is_int(http_request_many(h, r, 40, &e), L2S_OK,
	    "40 requests to a closed port run in one batch");
	took = now() - t0;
	ok(took < 1.0, "in well under 20 slotfuls of 100 ms (took %.3f s)",
	    took);
	is_int(http_requests(h), 40, "every one of them left");
	batch_free(r, 40);
	http_close(h);
}

static void
batch_should_end_every_request_on_its_own(void)
{
	struct config_scim c = cfg_of(4, 0);
	struct http_req r[6];
	struct http *h = NULL;
	struct err e = ERR_INIT;
	char want[128];
	size_t i;
	int rc, all = 1;

	rc = http_open(&h, &c, "dummy-token-0123456789", &e);
	is_int(rc, L2S_OK, "open should succeed");
	is_int(http_concurrency(h), 4, "the handle should run 4 requests at once");
	memset(r, 0, sizeof(r));
	for (i = 0; i < 6; i++) {
		r[i].method = i % 2 ? "POST" : "DELETE";
		r[i].path = i % 2 ? "/Users" : "/Users/x";
		r[i].body = i % 2 ? "{}" : NULL;
	}
	r[5].method = "GET";
	r[5].path = "Users";
	r[5].body = NULL;
	rc = http_request_many(h, r, 6, &e);
	is_int(rc, L2S_OK, "a batch to a closed port should run");
	for (i = 0; i < 5; i++)
		all &= r[i].rc == L2S_ETEMP && r[i].resp.not_sent &&
		    r[i].resp.status == 0;
	ok(all, "every request should fail as not sent, with no status");
	snprintf(want, sizeof(want), "POST %s/Users: ", url);
	ok(strncmp(r[1].err.msg, want, strlen(want)) == 0,
	    "the message should name the method and the URL");
	if (strncmp(r[1].err.msg, want, strlen(want)) != 0)
		printf("#   got '%s'\n", r[1].err.msg);
	is_int(r[5].rc, L2S_EPARSE, "a path without '/' should be refused");
	is_str(r[5].err.msg, "GET 'Users': request path must start with '/'",
	    "and say why");
	is_int(http_requests(h), 5, "only the requests that left should count");
	batch_free(r, 6);
	http_close(h);
}

static void
rate_limit_should_space_every_request(void)
{
	struct config_scim c = cfg_of(8, 20);
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct http_req r[5];
	struct http *h = NULL;
	struct err e = ERR_INIT;
	double t0, t;
	size_t i;

	http_open(&h, &c, "dummy-token-0123456789", &e);
	memset(r, 0, sizeof(r));
	for (i = 0; i < 5; i++) {
		r[i].method = "GET";
		r[i].path = "/Users";
	}
	t0 = now();
	http_request_many(h, r, 5, &e);
	t = now() - t0;
	ok(t >= 0.19, "5 requests at 20 a second should take at least "
	    "0.2 s, even 8 at a time (%.3f s)", t);
	ok(t < 2, "and not much more (%.3f s)", t);
	http_request(h, "GET", "/Users", NULL, &resp, &e);
	t = now() - t0;
	ok(t >= 0.245, "a single request after them should wait its turn too: "
	    "6 requests in at least 0.25 s (%.3f s)", t);
	is_int(http_requests(h), 6, "all 6 requests should count");
	http_response_free(&resp);
	batch_free(r, 5);
	http_close(h);

	c = cfg_of(0, 0);
	http_open(&h, &c, "dummy-token-0123456789", &e);
	is_int(http_concurrency(h), 1, "concurrency 0 should run one at a time");
	http_close(h);
}


#define S 1000000000LL		/* one second in nanoseconds */

/* The bucket arithmetic, on a clock the test moves by hand. */
static void
bucket_should_refill_at_its_rate_with_a_small_burst(void)
{
	struct http_bucket b;
	long long t = 1000 * S;
	int i, n;

	is_int(http_bucket_burst(1000), 1, "github's 1000/h bursts 1");
	is_int(http_bucket_burst(180 * 60), 15, "slack's 180/m bursts 15");
	is_int(http_bucket_burst(3600), 5, "1/s bursts 5 (five seconds' worth)");
	is_int(http_bucket_burst(36000), 20, "the burst is at most 20");
	is_int(http_bucket_burst(1), 1, "and at least 1");

	http_bucket_init(&b, 0, t);
	ok(http_bucket_wait_ns(&b, t) == 0, "a bucket of 0/h never waits");
	http_bucket_take(&b, t);
	ok(http_bucket_wait_ns(&b, t) == 0, "even after a take");

	http_bucket_init(&b, 3600, t);		/* 1/s, burst 5 */
	for (i = n = 0; i < 10 && http_bucket_wait_ns(&b, t) == 0; i++, n++)
		http_bucket_take(&b, t);
	is_int(n, 5, "a full bucket lets the burst through at once");
	ok(http_bucket_wait_ns(&b, t) == S, "then the next token is one "
	    "interval away (%lld ns)", http_bucket_wait_ns(&b, t));
	ok(http_bucket_wait_ns(&b, t + S / 4) == 3 * S / 4,
	    "and the wait shrinks as time passes");
	t += S;
	ok(http_bucket_wait_ns(&b, t) == 0, "one interval later one token is "
	    "there");
	http_bucket_take(&b, t);
	ok(http_bucket_wait_ns(&b, t) == S, "and only one");
	t += 3600 * S;
	for (i = n = 0; i < 10 && http_bucket_wait_ns(&b, t) == 0; i++, n++)
		http_bucket_take(&b, t);
	is_int(n, 5, "after an hour idle the bucket holds the burst, no more");

	/* 1000/h: over one hour at most burst + 1000 requests start. */
	http_bucket_init(&b, 1000, t);
	{
		long long t0 = t, end = t + 3600 * S;

		for (n = 0; t <= end; n++) {
			t += http_bucket_wait_ns(&b, t);
			if (t > end)
				break;
			http_bucket_take(&b, t);
		}
		is_int(n, 1001, "1000/h lets 1 + 1000 requests start in one "
		    "hour (%.0f s)", (double)(t - t0) / S);
	}
	http_bucket_init(&b, 3600, t);
	http_bucket_take(&b, t);
	http_bucket_take(&b, t - S);
	ok(http_bucket_wait_ns(&b, t) == 0 && b.last_ns == t,
	    "a take stamped earlier than the last one does not move the "
	    "clock back");

	is_int(http_endpoint("/Users"), HTTP_EP_USERS, "/Users is a users "
	    "request");
	is_int(http_endpoint("/Users/abc"), HTTP_EP_USERS,
	    "/Users/ID is a users request");
	is_int(http_endpoint("/Users?filter=x"), HTTP_EP_USERS,
	    "/Users?filter is a users request");
	is_int(http_endpoint("/Groups/g"), HTTP_EP_GROUPS,
	    "/Groups/ID is a groups request");
	is_int(http_endpoint("/UsersX"), -1, "/UsersX is neither");
	is_int(http_endpoint("/ServiceProviderConfig"), -1,
	    "/ServiceProviderConfig is neither");
}

/* A real batch: 2/s on /Users (burst 10); /Groups is not limited. */
static void
endpoint_limit_should_space_only_its_requests(void)
{
	struct config_scim c = cfg_of(4, 0);
	struct http_req r[12];
	struct http *h = NULL;
	struct err e = ERR_INIT;
	double t0, t;
	size_t i;

	c.rate_limit_users = 7200;
	http_open(&h, &c, "dummy-token-0123456789", &e);
	memset(r, 0, sizeof(r));
	for (i = 0; i < 12; i++) {
		r[i].method = "GET";
		r[i].path = "/Groups";
	}
	t0 = now();
	http_request_many(h, r, 12, &e);
	t = now() - t0;
	ok(t < 0.4, "12 requests to /Groups are not held by the /Users limit "
	    "(%.3f s)", t);
	batch_free(r, 12);
	for (i = 0; i < 12; i++)
		r[i].path = i % 2 ? "/Users" : "/Users/x";
	t0 = now();
	http_request_many(h, r, 12, &e);
	t = now() - t0;
	ok(t >= 0.95, "12 requests to /Users at 2/s with a burst of 10 take "
	    "at least 1 s (%.3f s)", t);
	ok(t < 2.5, "and not much more (%.3f s)", t);
	batch_free(r, 12);
	http_close(h);
}

static void
stop_should_keep_the_rest_from_starting(void)
{
	struct config_scim c = cfg_of(2, 0);
	struct http_response resp = HTTP_RESPONSE_INIT;
	struct http_req r[3];
	struct http *h = NULL;
	struct err e = ERR_INIT;
	size_t i;
	int all = 1;

	http_open(&h, &c, "dummy-token-0123456789", &e);
	memset(r, 0, sizeof(r));
	for (i = 0; i < 3; i++) {
		r[i].method = "PATCH";
		r[i].path = "/Groups/g";
		r[i].body = "{}";
	}
	platform_request_stop();
	http_request_many(h, r, 3, &e);
	for (i = 0; i < 3; i++)
		all &= r[i].rc == L2S_ETEMP && r[i].resp.not_sent;
	ok(all, "after a stop request no request of a batch should start");
	is_str(r[0].err.msg, "PATCH /Groups/g: not sent: a stop was requested",
	    "and each should say so");
	is_int(http_requests(h), 0, "none should count");
	http_request(h, "GET", "/Users", NULL, &resp, &e);
	is_int(http_requests(h), 1, "a single request should still be sent");
	http_response_free(&resp);
	http_close(h);

	/* A single request waiting for its endpoint's token gives up. */
	c.rate_limit_users = 1;		/* one an hour, burst 1 */
	http_open(&h, &c, "dummy-token-0123456789", &e);
	http_request(h, "GET", "/Users", NULL, &resp, &e);
	http_response_free(&resp);
	{
		double t0 = now();
		int rc = http_request(h, "GET", "/Users/x", NULL, &resp, &e);

		ok(rc == L2S_ETEMP && resp.not_sent && now() - t0 < 1,
		    "a request waiting for its endpoint's token ends at once "
		    "on a stop, not sent");
		is_str(e.msg, "GET /Users/x: not sent: a stop was requested",
		    "and says so");
		is_int(http_requests(h), 1, "it does not count");
	}
	http_response_free(&resp);
	batch_free(r, 3);
	http_close(h);
}

int
main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/scim/v2",
	    closed_port());
	batch_should_end_every_request_on_its_own();
	batch_should_not_stall_between_slotfuls();
	rate_limit_should_space_every_request();
	bucket_should_refill_at_its_rate_with_a_small_burst();
	endpoint_limit_should_space_only_its_requests();
	stop_should_keep_the_rest_from_starting();
	curl_global_cleanup();
	return tap_done();
}
